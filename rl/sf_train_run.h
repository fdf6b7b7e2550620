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
  char (*setting)[192];    /* [P] each agent's setting ("td3bc_jsrl seed=1 model.slope=5") */
  char (*group)[192];      /* [P] the same without the seed: the summary's rows */
  int print_plans;         /* print every epoch's plan */
} sf_run_opts;

/* Train t on b from epoch t->epoch to the last, continuing the records
 * kept[0..nkept) of an interrupted run (wall_before: its seconds). Returns
 * the process exit code (SF_EXIT_*). */
int sf_train_run(sf_trainer *t, sf_backend *b, const sf_run_opts *o, const sf_record *kept, int nkept,
                 double wall_before);

#ifdef __cplusplus
}
#endif
#endif
