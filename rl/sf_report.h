/* An experiment's report: the run directories of one experiment read back
 * (config.ini, progress.csv by column name), their agents grouped by setting
 * across seeds, and per setting
 *
 *   - the learning curve: at each evaluated epoch, the mean, the sample
 *     standard deviation, the minimum and the maximum over the seeds of the
 *     return under the final and under the current reward coefficients,
 *     against epochs, environment steps and gradient updates;
 *   - the table: over the seeds, mean and sample standard deviation (n - 1)
 *     of the final return and final survival (each seed's last evaluation),
 *     and of the epochs and environment steps until the return first reached
 *     a threshold (over the seeds that reached it, with how many did not).
 *
 * The directories must belong to one experiment: the same experiment.name
 * and experiment.scale in their config.ini. An experiment directory (with
 * populations.txt) stands for its populations' run directories. */
#ifndef SF_REPORT_H
#define SF_REPORT_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Spread over seeds at one evaluated epoch. */
typedef struct {
  int epoch;
  int n;                     /* seeds evaluated at this epoch */
  double env_steps, updates; /* mean over those seeds */
  double mean[2], sd[2], lo[2], hi[2]; /* [0] return_final, [1] return_current */
} sf_report_point;

typedef struct {
  char setting[192]; /* the agents' setting without the seed: "td3bc_jsrl train.bc=false" */
  char dir[512];     /* the run directory */
  char config[1024]; /* its config.ini */
  int nseeds;
  int *agents;      /* [nseeds]: each seed's agent index in the run (progress.csv's agent column) */
  int last_epoch;   /* the latest evaluated epoch over the seeds */
  int offline;      /* no environment steps (bc, td3bc): curves against epochs only */
  double ret_mean, ret_sd, surv_mean, surv_sd;
  int reached;      /* seeds whose return reached the threshold */
  double epochs_mean, epochs_sd, steps_mean, steps_sd; /* over those seeds; NaN when none */
  int npoints;
  sf_report_point *curve;
} sf_report_row;

typedef struct {
  char experiment[128], scale[64];
  double threshold;
  int nrows;
  sf_report_row *rows;
} sf_report;

/* Read the directories (run or experiment directories) into *rep. 0, or -1
 * with a message naming the problem: a directory that does not exist, one
 * that is neither a run nor an experiment directory, run directories of
 * different experiments or scales (naming both), a run without evaluations,
 * a progress.csv that does not parse. */
int sf_report_load(const char *const *dirs, int ndirs, double threshold, sf_report *rep, char *err, size_t errlen);
void sf_report_free(sf_report *rep);

/* The table as Markdown (a title line naming the experiment, the threshold
 * and how spreads are given, then the table) and as CSV (one row per
 * setting, numbers in full, empty where undefined). 0, or -1 with a message. */
int sf_report_write_markdown(const sf_report *rep, const char *path, char *err, size_t errlen);
int sf_report_write_csv(const sf_report *rep, const char *path, char *err, size_t errlen);

/* One row's curve as a whitespace-separated data file for gnuplot:
 * epoch n env_steps updates, then mean sd lo hi of return_final, then of
 * return_current. 0, or -1 with a message. */
int sf_report_write_curve(const sf_report_row *row, const char *path, char *err, size_t errlen);

/* Mean and sample standard deviation (n - 1) of x[0..n): NaN mean for
 * none, NaN sd for fewer than two. */
void sf_report_stats(const double *x, int n, double *mean, double *sd);

/* A CSV field (quoted when it holds a comma, a quote or a line end), and a
 * number after a comma: in full, nothing when not finite. */
void sf_report_csv_field(FILE *f, const char *s);
void sf_report_csv_num(FILE *f, double x);

/* "12.3 ± 4.5" (or "12.3" when sd is NaN) with `prec` decimals. */
void sf_report_mean_sd(double mean, double sd, int prec, char *out, size_t len);

#ifdef __cplusplus
}
#endif
#endif
