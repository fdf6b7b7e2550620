/* A sweep over MPI ranks (Open MPI): `mpirun -n R spikefly train ...`
 * splits the population's agents over the ranks, contiguous and balanced;
 * each rank trains its share as a population of its own. Started without
 * mpirun, or in a build without MPI, there is one process and no comm. */
#ifndef SF_MPI_H
#define SF_MPI_H

#include "rl/sf_run_comm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ranks of this run in *comm, or NULL for one process (not started by
 * mpirun, or one rank). Initialises MPI when needed. 0, or -1 (message
 * printed) when mpirun started several processes of a build without MPI. */
int sf_mpi_open(sf_run_comm **comm);
/* Finalise MPI (after the last collective call). NULL is allowed. */
void sf_mpi_close(sf_run_comm *c);
/* Rank r's agents of P: [*first, *first + *count). */
void sf_mpi_share(int P, int size, int rank, int *first, int *count);
/* The rank's index among the ranks of its node (for its GPU), 0 without MPI. */
int sf_mpi_local_rank(void);
/* Bring all ranks here. */
void sf_mpi_barrier(const sf_run_comm *c);
/* 1 when every rank passes the same value. */
int sf_mpi_same(const sf_run_comm *c, long value);

#ifdef __cplusplus
}
#endif
#endif
