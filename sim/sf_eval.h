/* Evaluation of a controller in the batched simulator: episodes from the
 * reset distribution, flown to termination or the time limit, summarised as
 * mean return, survival rate, hover error and tracking error as the episode
 * scorer (sim/sf_score.h) defines them. The controller is a callback. */
#ifndef SF_EVAL_H
#define SF_EVAL_H

#include <stdint.h>
#include <stdio.h>

#include "sim/sf_breakdown.h"
#include "sim/sf_env.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Actions [P][N][4] for every env of `d` from its observations [P][N][18]. */
typedef void (*sf_policy_fn)(void *ctx, const sf_env_model *m, const sf_env_data *d, const float *obs,
                             float *actions);

/* Called after every step of every env that is still flying and whose index
 * is below `trace_envs` (for writing flights out). `episode` counts from 0
 * over the whole evaluation. */
typedef void (*sf_trace_fn)(void *user, long episode, long env, int step, const sf_quad_state *s, const float tp[3],
                            const float tv[3], const float a[4], float reward);

typedef struct {
  long envs;            /* flown in parallel (P = 1 agent) */
  long episodes;        /* in total */
  uint64_t seed;        /* the agent's Philox key: starts and observation noise */
  float progress;       /* curriculum progress of the reward coefficients */
  sf_trace_fn trace;    /* may be NULL */
  long trace_envs;
  void *trace_user;
  sf_breakdown *breakdown; /* may be NULL: each episode's start and end appended */
} sf_eval_opts;

typedef struct {
  long episodes, survived;
  double mean_return;   /* over all episodes */
  double hover_error;   /* m: mean |p - p*| over the last 1 s, surviving episodes (NaN if none) */
  double tracking_error;/* m: mean |p - p*| after the first 1 s, surviving episodes (NaN if none) */
  double mean_length;   /* steps */
} sf_eval_result;

/* The flight CSV of `spikefly fly` and `spikefly eval`: the header line, and
 * one row per env and step (time, true state, target, action, reward). */
extern const char sf_flight_csv_header[];
void sf_flight_csv_row(FILE *f, long episode, long env, int step, double dt, const sf_quad_state *s,
                       const float tp[3], const float tv[3], const float a[4], float reward);

/* One pass of the model's trajectory in steps: the episode length of an
 * evaluation on a moving target unless env.time_limit is given. */
int sf_traj_pass_steps(const sf_env_model *m);

/* Fly `o->episodes` episodes of m->task.time_limit steps. Returns 0, or -1
 * when memory runs out. */
int sf_eval_run(const sf_env_model *m, sf_policy_fn policy, void *ctx, const sf_eval_opts *o, sf_eval_result *r);

#ifdef __cplusplus
}
#endif
#endif
