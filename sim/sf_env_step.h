/* One environment of the batch, as SF_HD functions over the structure-of-
 * arrays data: reset, step, observation and privileged observation of env i.
 * The CPU loops (sim/sf_env.c, OpenMP over i) and the CUDA kernels
 * (kernels/sf_env_cuda.cu, one thread per i) call exactly these, with an
 * sf_env_data whose arrays live in host or device memory. */
#ifndef SF_ENV_STEP_H
#define SF_ENV_STEP_H

#include <stdint.h>

#include "core/sf_defs.h"
#include "sim/sf_env.h"
#include "sim/sf_env_math.h"
#include "sim/sf_quad_math.h"
#include "sim/sf_trajectory.h"

/* History slot k (0 = oldest kept), action component j, of env i. */
SF_HD long sf_env_hist_index(const sf_env_data *d, int slot, int j, long i) {
  return (long)(slot * SF_ACT_DIM + j) * d->n + i;
}

SF_HD void sf_env_reset_one(const sf_env_model *m, const sf_env_data *d, long i) {
  float tp[3], tv[3], ta[3];
  sf_traj_target(&m->task, 0.0f, tp, tv, ta);
  sf_quad_state s;
  long p = i / d->N, n = i % d->N;
  sf_env_reset_sample(&m->task, &m->quad, d->seed[p], (uint32_t)n, d->rng_ctr[i], tp, tv, &s);
  sf_quad_store(&s, d->x, d->n, i);
  for (int j = 0; j < SF_ACT_DIM; ++j) {
    float a = sf_motor_to_action(&m->quad, s.u[j]);
    for (int k = 0; k < SF_HIST_LEN; ++k) d->hist[sf_env_hist_index(d, k, j, i)] = a;
  }
  d->hist_head[i] = 0;
  d->ep_step[i] = 0;
  d->rng_ctr[i] += 1;
}

/* The physics of env i's step: its state advanced by one control step with
 * the actions (clamped to [-1, 1]). Arithmetic only, so the CPU runs it for
 * a block of envs in vector lanes before sf_env_step_rest. */
SF_HD void sf_env_step_physics(const sf_env_model *m, const sf_env_data *d, long i, const float *action) {
  sf_quad_state s;
  sf_quad_load(d->x, d->n, i, &s);
  float a[SF_ACT_DIM];
  for (int j = 0; j < SF_ACT_DIM; ++j) a[j] = sf_clampf(action[j], -1.0f, 1.0f);
  sf_quad_step(&m->quad, &s, a);
  sf_quad_store(&s, d->x, d->n, i);
}

/* The rest of env i's step, after sf_env_step_physics: action history,
 * counters, termination, reward; reward, terminated and truncated are
 * written to *reward etc. when those are not NULL. */
SF_HD void sf_env_step_rest(const sf_env_model *m, const sf_env_data *d, long i, const float *action, float *reward,
                            uint8_t *terminated, uint8_t *truncated) {
  const sf_quad_params *q = &m->quad;
  const sf_env_config *e = &m->task;
  sf_quad_state s;
  sf_quad_load(d->x, d->n, i, &s);
  float a[SF_ACT_DIM];
  for (int j = 0; j < SF_ACT_DIM; ++j) a[j] = sf_clampf(action[j], -1.0f, 1.0f);

  int head = d->hist_head[i];
  for (int j = 0; j < SF_ACT_DIM; ++j) d->hist[sf_env_hist_index(d, head, j, i)] = a[j];
  d->hist_head[i] = (head + 1) % SF_HIST_LEN;
  int step = d->ep_step[i] + 1;
  d->ep_step[i] = step;
  d->rng_ctr[i] += 1;

  float tp[3], tv[3], ta[3];
  sf_traj_target(e, (float)step * q->dt, tp, tv, ta);
  int term = sf_env_terminated(e, &s, tp);
  if (reward) {
    float un[SF_ACT_DIM];
    for (int j = 0; j < SF_ACT_DIM; ++j) un[j] = (a[j] + 1.0f) * 0.5f;
    sf_reward_coef rc = sf_reward_coef_at(e, d->progress[i / d->N]);
    *reward = sf_env_reward(&rc, &s, tp, tv, un);
  }
  if (terminated) *terminated = (uint8_t)term;
  if (truncated) *truncated = (uint8_t)(!term && step >= e->time_limit);
}

/* Step env i with its actions (a pointer to 4 floats): the physics, then the
 * rest. */
SF_HD void sf_env_step_one(const sf_env_model *m, const sf_env_data *d, long i, const float *action, float *reward,
                           uint8_t *terminated, uint8_t *truncated) {
  sf_env_step_physics(m, d, i, action);
  sf_env_step_rest(m, d, i, action, reward, terminated, truncated);
}

/* Env i's observation before its noise. */
SF_HD void sf_env_observe_clean_one(const sf_env_model *m, const sf_env_data *d, long i, float *o) {
  sf_quad_state s;
  sf_quad_load(d->x, d->n, i, &s);
  float tp[3], tv[3], ta[3];
  sf_traj_target(&m->task, (float)d->ep_step[i] * m->quad.dt, tp, tv, ta);
  sf_env_obs_clean(&s, tp, tv, o);
}

SF_HD void sf_env_observe_one(const sf_env_model *m, const sf_env_data *d, long i, float *o) {
  sf_env_observe_clean_one(m, d, i, o);
  sf_env_obs_noise(&m->task, d->seed[i / d->N], (uint32_t)(i % d->N), d->rng_ctr[i], o);
}

SF_HD void sf_env_observe_privileged_one(const sf_env_model *m, const sf_env_data *d, long i, float *o) {
  sf_quad_state s;
  sf_quad_load(d->x, d->n, i, &s);
  float tp[3], tv[3], ta[3];
  sf_traj_target(&m->task, (float)d->ep_step[i] * m->quad.dt, tp, tv, ta);
  sf_env_obs_clean(&s, tp, tv, o);
  int head = d->hist_head[i];
  for (int k = 0; k < SF_HIST_LEN; ++k) {
    int slot = (head + k) % SF_HIST_LEN;
    for (int j = 0; j < SF_ACT_DIM; ++j) o[SF_OBS_DIM + k * SF_ACT_DIM + j] = d->hist[sf_env_hist_index(d, slot, j, i)];
  }
}

#endif
