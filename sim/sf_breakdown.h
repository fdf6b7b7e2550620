/* Where episodes end: each evaluated episode's start (how far the reset
 * threw the quadrotor from the target: tilt, position, velocity, angular
 * velocity, and how soon its start velocity would carry it out of the
 * termination box) beside how it ended (crashed or not, when, its return),
 * and the crash rate tabulated by bins of each. `spikefly eval --breakdown`
 * (an actor) and `spikefly fly --breakdown` (the reference controller) print
 * the same tables, so the two can be set side by side.
 *
 * Crashed: terminated before the time limit (|p - p*| beyond env.term_pos
 * on an axis, or a non-finite state). */
#ifndef SF_BREAKDOWN_H
#define SF_BREAKDOWN_H

#include <stddef.h>
#include <stdio.h>

#include "sim/sf_env.h"
#include "sim/sf_score.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  /* The start, relative to the target at t = 0. */
  float tilt;       /* deg: the angle between body z and world z */
  float pos;        /* m: the largest |p - p*| over the axes (termination is per axis) */
  float vel;        /* m/s: |v - v*| */
  float angvel;     /* rad/s: |w| */
  float t_boundary; /* s: time until the start velocity carries an axis to env.term_pos (INFINITY: never) */
  /* The end. */
  int len;          /* steps flown */
  int crashed;      /* terminated before the time limit */
  double ret;       /* return under the final reward coefficients */
} sf_breakdown_episode;

typedef struct {
  long n, cap;
  sf_breakdown_episode *ep;
  float dt; /* s per step (for the crash times) */
} sf_breakdown;

/* Appends the starts of envs [first, first + count) of d, just reset (their
 * step counters at 0). 0, or -1 when memory cannot be had. */
int sf_breakdown_starts(sf_breakdown *b, const sf_env_model *m, const sf_env_data *d, long first, long count);

/* The ends of the last `count` episodes appended, from their scores. */
void sf_breakdown_ends(sf_breakdown *b, const sf_score_episode *acc, long count);

void sf_breakdown_free(sf_breakdown *b);

/* The tables: a line of totals (crashes, the mean return of surviving and
 * of crashed episodes), then per bin of start tilt, start position, start
 * speed, start angular speed and time to the boundary the episodes, crashes,
 * crash rate, share of all crashes and mean return, and the crashes by the
 * time they happened. */
void sf_breakdown_print(FILE *f, const sf_breakdown *b);

/* Two controllers flown from the same starts (with the same observation
 * noise): the paired counts (both survived, only a crashed, only b
 * crashed, both crashed), then per bin of each start variable the crash
 * rate of each and how many episodes only a crashed. 0, or -1 with a
 * message when a and b are not of the same starts. */
int sf_breakdown_print_paired(FILE *f, const sf_breakdown *a, const char *name_a, const sf_breakdown *b,
                              const char *name_b, char *err, size_t errlen);

/* One CSV row per episode (its start and end). 0, or -1 with a message. */
int sf_breakdown_write_csv(const sf_breakdown *b, const char *path, char *err, size_t errlen);

/* What `--breakdown` gives: the tables on `out`, and the CSV at csv_path
 * unless it is NULL (saying so on `out`). 0, or -1 with a message when the
 * CSV cannot be written. */
int sf_breakdown_report(FILE *out, const sf_breakdown *b, const char *csv_path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
