/* Per-element arithmetic of the TD3 family of losses, shared by the CPU
 * trainer and the CUDA kernels (SF_HD): TD targets with target-policy
 * smoothing, the critic's squared error, and the TD3BC actor objective
 * lambda_Q Q(s, pi(s)) - lambda_BC |pi(s) - a|^2. Also the training schedules
 * that are plain functions of the epoch. */
#ifndef SF_RL_MATH_H
#define SF_RL_MATH_H

#include <math.h>

#include "core/sf_defs.h"
#include "sim/sf_quad_math.h" /* sf_clampf */

/* Target policy smoothing: a' = clamp(pi'(s') + clamp(sigma z, -c, c), -1, 1)
 * with z ~ N(0, 1). */
SF_HD float sf_smoothed_action(float target_action, float z, float sigma, float clip) {
  return sf_clampf(target_action + sf_clampf(sigma * z, -clip, clip), -1.0f, 1.0f);
}

/* TD target y = r + gamma (1 - done) min(q1', q2'). Truncation is not done:
 * a time-limited episode still bootstraps. */
SF_HD float sf_td_target(float reward, float done, float gamma, float q1_next, float q2_next) {
  float qmin = q1_next < q2_next ? q1_next : q2_next;
  return reward + gamma * (1.0f - done) * qmin;
}

/* d/dq of mask (q - y)^2 / n. */
SF_HD float sf_critic_grad(float q, float y, float mask, float inv_n) {
  return 2.0f * mask * (q - y) * inv_n;
}

/* Exploration: a = clamp(pi + sigma z, -1, 1) with z ~ N(0, 1). */
SF_HD float sf_explore_action(float pi, float z, float sigma) { return sf_clampf(pi + sigma * z, -1.0f, 1.0f); }

/* d/d(action) of the actor loss
 *   L = mean over masked steps of [ -lambda_q Q1(s, pi) + lambda_bc |pi - a|^2 ]
 * for one action component. dq_term is the critic's part as the critic's
 * backward delivers it (it was fed -lambda_q mask / n); the BC part is added
 * on masked steps, and unmasked steps carry nothing. */
SF_HD float sf_actor_action_grad(float dq_term, float pi, float target, float mask, float lambda_bc, float inv_n) {
  return mask == 0.0f ? 0.0f : dq_term + 2.0f * lambda_bc * mask * inv_n * (pi - target);
}

/* Whether step r (row r of a [T][B] sequence, column b = r % B) carries the
 * actor's loss: after the warm-up, or from step 0 when the sequence starts at
 * its episode's first step and learn_from_start is on (the state is then the
 * true one from the start). Multiplied by the step's padding mask. */
SF_HD float sf_actor_step_mask(long r, int warmup, int B, int offset, int learn_from_start, float mask) {
  return r >= (long)warmup * B || (learn_from_start && offset == 0) ? mask : 0.0f;
}

/* TD3BC's normalisation lambda_Q = alpha / mean|Q| (the mean is treated as a
 * constant); guarded against a critic that outputs zeros. */
SF_HD float sf_td3bc_lambda(float alpha, double mean_abs_q) {
  return (float)(alpha / (mean_abs_q > 1e-6 ? mean_abs_q : 1e-6));
}

/* BC weight after `epoch` epochs: w0 * decay^epoch. */
static inline float sf_bc_weight(float w0, float decay, int epoch) { return w0 * powf(decay, (float)epoch); }

/* JSRL jump-start horizon: the guide flies the first h steps, h falling
 * linearly from h_start to h_end over `epochs` epochs, then held. */
static inline int sf_jsrl_horizon(int h_start, int h_end, int epochs, int epoch) {
  if (epochs <= 0 || epoch >= epochs) return h_end;
  return h_start + (int)lround((double)(h_end - h_start) * epoch / epochs);
}

#endif
