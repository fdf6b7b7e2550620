/* One evaluation episode's running sums and their per-step update: the CPU
 * evaluation (rl/sf_evaluate.c) and the GPU's (kernels/sf_evaluate_cuda.cu)
 * run this same code for env i after each environment step. */
#ifndef SF_EVAL_EPISODE_H
#define SF_EVAL_EPISODE_H

#include <math.h>

#include "core/sf_defs.h"
#include "sim/sf_env.h"
#include "sim/sf_env_math.h"
#include "sim/sf_quad_math.h"
#include "sim/sf_trajectory.h"

typedef struct {
  double ret_f, ret_c, err_hold, err_track; /* returns (final, current coefficients), summed position errors */
  long n_hold, n_track;
  int len, done, survived;
} sf_eval_episode;

/* Step k (0-based) of env i has just been taken with actions act[4],
 * giving reward rew and the end flags. Adds it to e unless the episode had
 * already ended; returns whether it did, with the state and target in s,
 * tp, tv (for a flight log). Position errors count over the last second
 * (steps after hold_from) and after the first (after track_from). */
SF_HD int sf_eval_episode_step(sf_eval_episode *e, const sf_env_model *m, const sf_env_data *d, long i, int k,
                               const sf_reward_coef *final_coef, const float *act, float rew, int term, int trunc,
                               int hold_from, int track_from, sf_quad_state *s, float tp[3], float tv[3]) {
  if (e->done) return 0;
  float ta[3], un[SF_ACT_DIM];
  sf_quad_load(d->x, d->n, i, s);
  sf_traj_target(&m->task, (float)d->ep_step[i] * m->quad.dt, tp, tv, ta);
  for (int j = 0; j < SF_ACT_DIM; ++j) un[j] = (sf_clampf(act[j], -1.0f, 1.0f) + 1.0f) * 0.5f;
  e->ret_c += rew;
  e->ret_f += sf_env_reward(final_coef, s, tp, tv, un);
  e->len = k + 1;
  double err = sqrt((double)(s->p[0] - tp[0]) * (s->p[0] - tp[0]) + (double)(s->p[1] - tp[1]) * (s->p[1] - tp[1]) +
                    (double)(s->p[2] - tp[2]) * (s->p[2] - tp[2]));
  if (k + 1 > hold_from) e->err_hold += err, e->n_hold++;
  if (k + 1 > track_from) e->err_track += err, e->n_track++;
  if (term || trunc) {
    e->done = 1;
    e->survived = !term;
  }
  return 1;
}

#endif
