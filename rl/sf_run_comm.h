/* The processes of one run, when a sweep's population is spread over
 * several (MPI ranks, cli/sf_mpi.c): what the training loop needs of them,
 * kept apart from any MPI header so the library builds without MPI. */
#ifndef SF_RUN_COMM_H
#define SF_RUN_COMM_H

#include "rl/sf_record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_run_comm sf_run_comm;
struct sf_run_comm {
  int rank, size;
  /* Every rank's records of an epoch, mine[n] each, into all[] on rank 0
   * in agent order (ranks hold contiguous agents in rank order). 0 or -1. */
  int (*gather)(const sf_run_comm *c, const sf_record *mine, int n, sf_record *all);
  /* The largest of every rank's exit code (a failed rank stops them all). */
  int (*agree)(const sf_run_comm *c, int code);
  void *impl;
};

#ifdef __cplusplus
}
#endif
#endif
