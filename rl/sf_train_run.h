/* The training loop of a run, written once against a backend:
 *
 *   for each epoch:  plan = sf_plan_make(trainer, epoch)
 *                    collect(plan); update(plan)
 *                    pull; check finiteness
 *                    if plan.evaluate: evaluate, feed the slope schedules,
 *                                      checkpoint
 *                    one record per agent -> progress.csv, TensorBoard
 *   then the summary (summary.csv and a table on stdout).
 *
 * The run directory around it (config.ini, resume) is rl/sf_run_dir.h's. */
#ifndef SF_TRAIN_RUN_H
#define SF_TRAIN_RUN_H

#include "rl/sf_backend.h"
#include "rl/sf_record.h"
#include "rl/sf_run_comm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const char *cmd;         /* the command, for messages ("train", "train-guide") */
  int guide;               /* train-guide: keep the best evaluated guide, stop at survive_goal */
  const char *dir;         /* the run directory */
  const char *config_text; /* the run's config.ini, stored in every checkpoint */
  double survive_goal;     /* guide: every agent survives the warm-up this often */
  double target_return;    /* summary: wall-clock seconds until the return first reached it */
  char (*setting)[192];    /* [agents] each agent's setting ("td3bc_jsrl seed=1 model.slope=5") */
  int print_plans;         /* print every epoch's plan */
  const char *checkpoint;  /* the checkpoint's file name in dir */
  /* The population: `agents` in all, this process's trainer holds agents
   * [agent0, agent0 + P). With several processes (comm set) every epoch's
   * records are gathered on rank 0, which alone writes progress.csv,
   * TensorBoard and the summary; each process its own checkpoint. */
  int agents, agent0;
  const sf_run_comm *comm; /* NULL: one process */
} sf_run_opts;

/* A request to stop training early: from the command line's Ctrl-C (a
 * signal handler) or from another thread (the Python package). One process
 * runs one training at a time and a signal is process-wide, so the request
 * is a process-wide flag (lock-free atomic, safe in a signal handler). The
 * loop stops at the next piece of collection or updates (at the end of the
 * epoch when several processes train together: they stop together), leaves
 * the last checkpoint as it is and returns SF_EXIT_INTERRUPTED; `train
 * --resume` continues from that checkpoint. Clear it before a new run. */
void sf_train_request_stop(void);
void sf_train_clear_stop(void);
int sf_train_stop_requested(void);

/* Train t on b from epoch t->epoch to the last, continuing the records
 * kept[0..nkept) of an interrupted run (wall_before: its seconds). Returns
 * the process exit code (SF_EXIT_*; SF_EXIT_INTERRUPTED after a stop
 * request). */
int sf_train_run(sf_trainer *t, sf_backend *b, const sf_run_opts *o, const sf_record *kept, int nkept,
                 double wall_before);

#ifdef __cplusplus
}
#endif
#endif
