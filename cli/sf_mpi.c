#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "cli/sf_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sf_mpi_share(int P, int size, int rank, int *first, int *count) {
  const int base = P / size, extra = P % size;
  *count = base + (rank < extra);
  *first = rank * base + (rank < extra ? rank : extra);
}

/* Open MPI's launcher sets these for each process it starts. */
static const char *launcher_env(const char *name) {
  const char *v = getenv(name);
  return v && v[0] ? v : NULL;
}

int sf_mpi_local_rank(void) {
  const char *v = launcher_env("OMPI_COMM_WORLD_LOCAL_RANK");
  if (!v) v = launcher_env("SLURM_LOCALID"); /* started by srun */
  return v ? atoi(v) : 0;
}

#ifdef SF_HAVE_MPI
#include <mpi.h>
#include <omp.h>
#include <sched.h>

/* A rank's OpenMP threads: as many as the cores mpirun bound it to (its
 * share of the node), unless OMP_NUM_THREADS says otherwise. */
static void threads_to_binding(void) {
  cpu_set_t set;
  if (getenv("OMP_NUM_THREADS") || sched_getaffinity(0, sizeof set, &set) != 0) return;
  const int n = CPU_COUNT(&set);
  if (n >= 1) omp_set_num_threads(n);
}

/* Records travel as bytes: every rank holds the same struct layout. */
static int mpi_gather(const sf_run_comm *c, const sf_record *mine, int n, sf_record *all) {
  int *counts = NULL, *displs = NULL;
  if (c->rank == 0) {
    counts = malloc(sizeof(int) * c->size);
    displs = malloc(sizeof(int) * c->size);
  }
  const int bytes = n * (int)sizeof(sf_record);
  int rc = MPI_Gather(&bytes, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rc == MPI_SUCCESS && c->rank == 0)
    for (int r = 0, at = 0; r < c->size; ++r) displs[r] = at, at += counts[r];
  if (rc == MPI_SUCCESS)
    rc = MPI_Gatherv(mine, bytes, MPI_BYTE, all, counts, displs, MPI_BYTE, 0, MPI_COMM_WORLD);
  free(counts), free(displs);
  return rc == MPI_SUCCESS ? 0 : -1;
}

static int mpi_agree(const sf_run_comm *c, int code) {
  int out = code;
  (void)c;
  MPI_Allreduce(&code, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return out;
}

int sf_mpi_open(sf_run_comm **comm) {
  *comm = NULL;
  if (!launcher_env("OMPI_COMM_WORLD_SIZE") && !launcher_env("PMI_SIZE") && !launcher_env("PMIX_RANK")) return 0;
  int inited = 0, size = 1, rank = 0;
  MPI_Initialized(&inited);
  if (!inited && MPI_Init(NULL, NULL) != MPI_SUCCESS) {
    fprintf(stderr, "spikefly: MPI_Init failed\n");
    return -1;
  }
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (size == 1) return 0; /* one process: exactly as without mpirun */
  threads_to_binding();
  sf_run_comm *c = calloc(1, sizeof *c);
  c->rank = rank;
  c->size = size;
  c->gather = mpi_gather;
  c->agree = mpi_agree;
  *comm = c;
  return 0;
}

void sf_mpi_close(sf_run_comm *c) {
  int inited = 0, done = 0;
  MPI_Initialized(&inited);
  MPI_Finalized(&done);
  if (inited && !done) MPI_Finalize();
  free(c);
}

void sf_mpi_barrier(const sf_run_comm *c) {
  if (c) MPI_Barrier(MPI_COMM_WORLD);
}

int sf_mpi_same(const sf_run_comm *c, long value) {
  if (!c) return 1;
  long lo = value, hi = value;
  MPI_Allreduce(&value, &lo, 1, MPI_LONG, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&value, &hi, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD);
  return lo == hi;
}

#else

int sf_mpi_open(sf_run_comm **comm) {
  *comm = NULL;
  const char *size = launcher_env("OMPI_COMM_WORLD_SIZE");
  if (!size || atoi(size) <= 1) return 0;
  fprintf(stderr, "spikefly: started by mpirun as %s processes, but this build has no MPI (install libopenmpi-dev "
                  "and build again)\n", size);
  return -1;
}

void sf_mpi_close(sf_run_comm *c) { free(c); }
void sf_mpi_barrier(const sf_run_comm *c) { (void)c; }
int sf_mpi_same(const sf_run_comm *c, long value) {
  (void)c, (void)value;
  return 1;
}

#endif
