/* The episode scorer: what every evaluation reports about a flight, defined
 * once. `spikefly fly` (sim/sf_eval.c), the actors' evaluation for `eval` and
 * training (rl/sf_evaluate.c), export's closed-loop flights
 * (export/sf_flight.c) and the GPU evaluation (kernels/sf_evaluate_cuda.cu)
 * keep one sf_score_episode per episode, update it after every environment
 * step with sf_score_step (SF_HD: the GPU runs the same arithmetic), and
 * turn the episodes into statistics with sf_score_add / sf_score_stats, or
 * sf_eval_finish for P agents x N episodes.
 *
 * The definitions:
 *   return        the sum of the step rewards until termination or the time
 *                 limit, under the final coefficients and under those at the
 *                 evaluation's progress; a mean over episodes is their sum
 *                 divided by their number (export's closed-loop check and
 *                 `metrics` still average sf_flight_run's per-episode returns
 *                 as a sum of quotients, which can differ in the last bit;
 *                 the sum divided by the number is the one)
 *   hover error   each surviving episode's mean |p - p*| over its last 1 s
 *                 (steps after hold_from), averaged over surviving episodes
 *   tracking err  the same after the first 1 s (steps after track_from)
 *   survival      the fraction of episodes reaching the time limit
 *   warm-up       the fraction lasting at least warmup_steps steps */
#ifndef SF_SCORE_H
#define SF_SCORE_H

#include <math.h>

#include "core/sf_defs.h"
#include "sim/sf_env.h"
#include "sim/sf_env_math.h"
#include "sim/sf_quad_math.h"
#include "sim/sf_trajectory.h"

/* One episode's running sums; all zero before its first step. */
typedef struct {
  double ret_f, ret_c, err_hold, err_track; /* returns (final, current coefficients), summed position errors */
  long n_hold, n_track;                     /* steps summed in err_hold, err_track */
  int len, done, survived;
} sf_score_episode;

/* What the scorer needs of the model, worked out once per evaluation. */
typedef struct {
  sf_reward_coef final_coef; /* the coefficients at progress 1 */
  int hold_from;             /* steps after this count as the last 1 s */
  int track_from;            /* steps after this count as after the first 1 s */
} sf_score_spec;

/* Step k (0-based) of env i has just been taken with actions act[4],
 * giving reward rew and the end flags. Adds it to e unless the episode had
 * already ended; returns whether it did, with the state and target in s,
 * tp, tv (for a flight log). */
SF_HD int sf_score_step(sf_score_episode *e, const sf_score_spec *sp, const sf_env_model *m, const sf_env_data *d,
                        long i, int k, const float *act, float rew, int term, int trunc, sf_quad_state *s,
                        float tp[3], float tv[3]) {
  if (e->done) return 0;
  float ta[3], un[SF_ACT_DIM];
  sf_quad_load(d->x, d->n, i, s);
  sf_traj_target(&m->task, (float)d->ep_step[i] * m->quad.dt, tp, tv, ta);
  for (int j = 0; j < SF_ACT_DIM; ++j) un[j] = (sf_clampf(act[j], -1.0f, 1.0f) + 1.0f) * 0.5f;
  e->ret_c += rew;
  e->ret_f += sf_env_reward(&sp->final_coef, s, tp, tv, un);
  e->len = k + 1;
  double err = sqrt((double)(s->p[0] - tp[0]) * (s->p[0] - tp[0]) + (double)(s->p[1] - tp[1]) * (s->p[1] - tp[1]) +
                    (double)(s->p[2] - tp[2]) * (s->p[2] - tp[2]));
  if (k + 1 > sp->hold_from) e->err_hold += err, e->n_hold++;
  if (k + 1 > sp->track_from) e->err_track += err, e->n_track++;
  if (term || trunc) {
    e->done = 1;
    e->survived = !term;
  }
  return 1;
}

/* Sums over finished episodes, added in episode order (so the figures do
 * not depend on how the episodes were batched). */
typedef struct {
  long episodes, survived, survived_warmup;
  double ret_f, ret_c, len, hold, track; /* hold, track: per-episode mean errors of surviving episodes */
} sf_score_sums;

typedef struct {
  double ret_final;      /* mean return under the final reward coefficients */
  double ret_current;    /* ... under the coefficients at the evaluation's progress */
  double survival;       /* fraction of episodes reaching the time limit */
  double survive_warmup; /* fraction lasting at least `warmup_steps` steps */
  double mean_len;       /* mean episode length, steps */
  double hover_err;      /* m: mean |p - p*| over the last 1 s of surviving episodes (NaN: none) */
  double track_err;      /* m: mean |p - p*| after the first 1 s of surviving episodes (NaN: none) */
} sf_eval_stats;

#ifdef __cplusplus
extern "C" {
#endif

sf_score_spec sf_score_spec_of(const sf_env_model *m);

/* Adds episodes e[0..n), counting those lasting warmup_steps steps. */
void sf_score_add(sf_score_sums *sum, const sf_score_episode *e, long n, int warmup_steps);

/* The statistics of the episodes summed in sum (at least one). */
void sf_score_stats(const sf_score_sums *sum, sf_eval_stats *st);

/* Per-agent statistics of P x N episodes, acc[P][N]. */
void sf_eval_finish(const sf_score_episode *acc, int P, int N, int warmup_steps, sf_eval_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
