/* The task's per-environment arithmetic (SF_HD, shared with the CUDA
 * kernels): observation with Philox noise, privileged observation, reward
 * with curriculum coefficients, termination, and reset sampling.
 *
 * Random draws are keyed by (agent seed, env index within the agent, the
 * env's draw counter, stream): never by the agent's position in a population,
 * so an agent of a sweep sees exactly what it would see alone. */
#ifndef SF_ENV_MATH_H
#define SF_ENV_MATH_H

#include <math.h>
#include <stdint.h>

#include "core/sf_defs.h"
#include "core/sf_fmath.h"
#include "core/sf_philox.h"
#include "sim/sf_env_config.h"
#include "sim/sf_quad_math.h"
#include "sim/sf_trajectory.h"

enum {
  SF_OBS_DIM = 18,        /* p - p*, R row-major, v - v*, w */
  SF_ACT_DIM = 4,         /* one action per motor, in [-1, 1] */
  SF_HIST_LEN = 32,       /* actions kept for the privileged observation */
  SF_PRIV_DIM = SF_OBS_DIM + SF_HIST_LEN * SF_ACT_DIM, /* 146 */
};

/* Reward coefficients at curriculum progress x in [0, 1] (linear). */
typedef struct {
  float c[SF_RW_N];
} sf_reward_coef;

SF_HD sf_reward_coef sf_reward_coef_at(const sf_env_config *e, float x) {
  sf_reward_coef r;
  for (int k = 0; k < SF_RW_N; ++k) r.c[k] = e->reward_start[k] + (e->reward_end[k] - e->reward_start[k]) * x;
  return r;
}

/* The noise-free observation against the target (tp, tv). */
SF_HD void sf_env_obs_clean(const sf_quad_state *s, const float tp[3], const float tv[3], float o[SF_OBS_DIM]) {
  for (int k = 0; k < 3; ++k) o[k] = s->p[k] - tp[k];
  sf_quat_to_rot(s->q, o + 3);
  for (int k = 0; k < 3; ++k) o[12 + k] = s->v[k] - tv[k];
  for (int k = 0; k < 3; ++k) o[15 + k] = s->w[k];
}

/* The observation noise's standard normals of one env: 18 from five
 * Philox blocks of stream SF_RNG_OBS_NOISE at the env's draw counter
 * `ctr`. */
SF_HD void sf_env_obs_noise_draw(uint64_t seed, uint32_t env, uint32_t ctr, float z[SF_OBS_DIM]) {
  for (int b = 0; b * 4 < SF_OBS_DIM; ++b) {
    float w[4];
    sf_normal4(sf_rng_bits(seed, env, ctr, SF_STREAM(SF_RNG_OBS_NOISE, b), 0), w);
    for (int j = 0; j < 4 && b * 4 + j < SF_OBS_DIM; ++j) z[b * 4 + j] = w[j];
  }
}

/* Whether the observation is noisy at all. */
SF_HD int sf_env_obs_noisy(const sf_env_config *e) {
  const float *sg = e->obs_sigma;
  return !(sg[0] == 0.0f && sg[1] == 0.0f && sg[2] == 0.0f && sg[3] == 0.0f);
}

/* Add the normals z, scaled by the per-group sigmas, to an observation;
 * zstride: the distance between z's successive values (1 for one env's
 * array, a block's width for the CPU's blocks of envs). */
SF_HD void sf_env_obs_noise_add(const sf_env_config *e, const float *z, long zstride, float o[SF_OBS_DIM]) {
  const float *sg = e->obs_sigma;
  for (int i = 0; i < SF_OBS_DIM; ++i) {
    int g = i < 3 ? SF_OBS_POS : (i < 12 ? SF_OBS_ROT : (i < 15 ? SF_OBS_VEL : SF_OBS_ANGVEL));
    o[i] += sg[g] * z[i * zstride];
  }
}

/* Add Gaussian noise with the per-group sigmas; draws from stream
 * SF_RNG_OBS_NOISE at the env's draw counter `ctr`. */
SF_HD void sf_env_obs_noise(const sf_env_config *e, uint64_t seed, uint32_t env, uint32_t ctr, float o[SF_OBS_DIM]) {
  if (!sf_env_obs_noisy(e)) return;
  float z[SF_OBS_DIM];
  sf_env_obs_noise_draw(seed, env, ctr, z);
  sf_env_obs_noise_add(e, z, 1, o);
}

/* Rotation angle (rad) between attitude q and the level, zero-yaw desired
 * attitude: 2 atan2(|q_xyz|, |q_w|), accurate near zero where 2 acos(|q_w|)
 * is not in float32. */
SF_HD float sf_attitude_error(const float q[4]) {
  float n = sqrtf(q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  return 2.0f * atan2f(n, fabsf(q[0]));
}

/* Reward of arriving in state s (true state, not the noisy observation) with
 * the normalised motor commands un = (a + 1) / 2 of the step:
 * Crs - Cp |p-p*|^2 - Cv |v-v*|^2 - Cq theta - Cw |w|^2 - Ca sum (un_i - Cab)^2. */
SF_HD float sf_env_reward(const sf_reward_coef *rc, const sf_quad_state *s, const float tp[3], const float tv[3],
                          const float un[4]) {
  const float *c = rc->c;
  float ep = 0.0f, ev = 0.0f, ew = 0.0f, ea = 0.0f;
  for (int k = 0; k < 3; ++k) {
    float dp = s->p[k] - tp[k], dv = s->v[k] - tv[k];
    ep += dp * dp;
    ev += dv * dv;
    ew += s->w[k] * s->w[k];
  }
  for (int i = 0; i < 4; ++i) {
    float d = un[i] - c[SF_RW_CAB];
    ea += d * d;
  }
  return c[SF_RW_CRS] - c[SF_RW_CP] * ep - c[SF_RW_CV] * ev - c[SF_RW_CQ] * sf_attitude_error(s->q) -
         c[SF_RW_CW] * ew - c[SF_RW_CA] * ea;
}

/* Terminated: the position left the box around the target, or any state
 * value is not finite. */
SF_HD int sf_env_terminated(const sf_env_config *e, const sf_quad_state *s, const float tp[3]) {
  int bad = 0;
  for (int k = 0; k < 3; ++k) bad |= !(fabsf(s->p[k] - tp[k]) <= e->term_pos);
  for (int k = 0; k < 4; ++k) bad |= !isfinite(s->q[k]) || !isfinite(s->u[k]);
  for (int k = 0; k < 3; ++k) bad |= !isfinite(s->v[k]) || !isfinite(s->w[k]);
  return bad;
}

/* A state of the reset distribution around the target (tp, tv) at t = 0:
 * with probability hover_prob an exact hover (p = p*, v = v*, level, at
 * rest, motors at the hover state); otherwise position and velocity offsets
 * uniform per axis, an attitude uniform over all rotations whose body z axis
 * lies within reset_max_tilt of world z (the z axis uniform on that spherical
 * cap, then a uniform yaw about it: the rotation group's uniform measure
 * restricted to the cap), angular velocity uniform per axis and motor states
 * uniform in reset_motor (normalised to the motor range). Draws 5 blocks of
 * stream SF_RNG_RESET at the env's counter `ctr`. */
SF_HD void sf_env_reset_sample(const sf_env_config *e, const sf_quad_params *m, uint64_t seed, uint32_t env,
                               uint32_t ctr, const float tp[3], const float tv[3], sf_quad_state *s) {
  float r[20];
  for (int b = 0; b < 5; ++b) {
    sf_u32x4 bits = sf_rng_bits(seed, env, ctr, SF_STREAM(SF_RNG_RESET, b), 0);
    for (int j = 0; j < 4; ++j) r[b * 4 + j] = sf_u01(bits.v[j]);
  }
  if (r[0] < e->reset_hover_prob) {
    for (int k = 0; k < 3; ++k) {
      s->p[k] = tp[k];
      s->v[k] = tv[k];
      s->w[k] = 0.0f;
    }
    s->q[0] = 1.0f;
    s->q[1] = s->q[2] = s->q[3] = 0.0f;
    for (int i = 0; i < 4; ++i) s->u[i] = m->hover_motor;
    return;
  }
  for (int k = 0; k < 3; ++k) {
    s->p[k] = tp[k] + e->reset_pos * (2.0f * r[1 + k] - 1.0f);
    s->v[k] = tv[k] + e->reset_vel * (2.0f * r[7 + k] - 1.0f);
    s->w[k] = e->reset_angvel * (2.0f * r[10 + k] - 1.0f);
  }
  /* Tilt: cos(theta) uniform in [cos(max), 1] is area-uniform on the cap.
   * Only +, -, *, / and sqrt here (sf_sincos_turn, half angles from the
   * cosine): the CPU and the GPU draw bit-identical starts, where their sinf
   * and cosf differ in the last bit. */
  float smax, cmax, sphi, cphi, syaw, cyaw;
  sf_sincos_turn(e->reset_max_tilt * 0.159154943091895336f, &smax, &cmax);
  float ct = sf_clampf(1.0f - r[4] * (1.0f - cmax), -1.0f, 1.0f);
  float ch = sqrtf(0.5f * (1.0f + ct)), sh = sqrtf(0.5f * (1.0f - ct)); /* cos, sin of theta / 2 */
  sf_sincos_turn(r[5], &sphi, &cphi);
  sf_sincos_turn(0.5f * r[6], &syaw, &cyaw); /* half of a uniform yaw */
  /* Tilt about the horizontal axis (-sin phi, cos phi, 0), then yaw. */
  float qt[4] = {ch, -sphi * sh, cphi * sh, 0.0f};
  float qy[4] = {cyaw, 0.0f, 0.0f, syaw};
  sf_quat_mul(qt, qy, s->q);
  float range = m->motor_max - m->motor_min;
  for (int i = 0; i < 4; ++i) {
    float un = e->reset_motor[0] + (e->reset_motor[1] - e->reset_motor[0]) * r[13 + i];
    s->u[i] = m->motor_min + un * range;
  }
}

/* The action that commands motor state u (inverse of sf_quad_command), used
 * to fill the action history at a reset. */
SF_HD float sf_motor_to_action(const sf_quad_params *m, float u) {
  return (u - m->motor_min) / (m->motor_max - m->motor_min) * 2.0f - 1.0f;
}

#endif
