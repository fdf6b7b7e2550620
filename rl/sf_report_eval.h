/* An experiment's table of evaluations (the paper's Table 3): each seed's
 * final checkpoint flown on each of a list of trajectories, and per setting
 * and trajectory, over the seeds, the error (hover error on hover, tracking
 * error on a moving target: sim/sf_score.h), the survival and the return.
 *
 * A seed flies as `spikefly eval RUN_DIR/checkpoint.safetensors --agent K
 * --trajectory T --episodes E` does: the environment of the run's
 * config.ini with the trajectory set (one pass of a moving target, the
 * run's time limit on hover), the final reward coefficients, the starts and
 * noise of the agent's training seed, no exploration noise. */
#ifndef SF_REPORT_EVAL_H
#define SF_REPORT_EVAL_H

#include <stddef.h>

#include "rl/sf_report.h"
#include "sim/sf_score.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int nseeds;
  unsigned long long *seed; /* [nseeds]: each agent's training seed */
  char (*checkpoint)[600];  /* [nseeds]: the file flown */
  int *index;               /* [nseeds]: the agent's place in that file */
  sf_eval_stats *stats;     /* [nseeds][ntraj] */
} sf_report_eval_row;

typedef struct {
  int ntraj;
  int traj[SF_TRAJ_N]; /* sf_traj_kind, in the order asked */
  int episodes;
  int nrows;               /* those of the report, in its order */
  sf_report_eval_row *rows;
} sf_report_evals;

/* One setting on one trajectory, over its seeds. */
typedef struct {
  int seeds;                 /* evaluated */
  int with_error;            /* seeds with a surviving episode (the error's mean is over these) */
  double err_mean, err_sd;   /* m */
  double surv_mean, surv_sd; /* fraction of episodes reaching the time limit */
  double ret_mean, ret_sd;   /* final reward coefficients */
} sf_report_eval_cell;

/* Parse "hover,circle,figure8,square" into traj[] (each once). 0, or -1 with
 * a message naming the word that is not a trajectory. */
int sf_report_eval_parse(const char *list, int *traj, int *ntraj, char *err, size_t errlen);

/* Fly every seed of every row of rep on each trajectory. 0, or -1 with a
 * message: a run without a final checkpoint (or without the agent), a
 * config.ini whose environment does not read. */
int sf_report_evaluate(const sf_report *rep, const int *traj, int ntraj, int episodes, sf_report_evals *ev,
                       char *err, size_t errlen);
void sf_report_evals_free(sf_report_evals *ev);

/* Row r, trajectory column t, summarised over the seeds. */
sf_report_eval_cell sf_report_eval_cell_of(const sf_report_evals *ev, int r, int t);

/* The table: Markdown (a row per setting: seeds, then error and survival per
 * trajectory, the config), CSV of the cells (a row per setting and
 * trajectory, numbers in full, empty where undefined) and CSV of the seeds
 * (a row per setting, seed and trajectory). 0, or -1 with a message. */
int sf_report_write_eval_markdown(const sf_report *rep, const sf_report_evals *ev, const char *path, char *err,
                                  size_t errlen);
int sf_report_write_eval_csv(const sf_report *rep, const sf_report_evals *ev, const char *path, char *err,
                             size_t errlen);
int sf_report_write_eval_seeds_csv(const sf_report *rep, const sf_report_evals *ev, const char *path, char *err,
                                   size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
