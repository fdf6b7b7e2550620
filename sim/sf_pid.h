/* The reference controller: a cascaded, not learned, controller that flies the
 * quadrotor from the same 18-value observation a policy sees (p - p*, R,
 * v - v*, w; noisy as configured) plus the motor states. It proves the model
 * flies and gives the learned controllers a floor. Per-element SF_HD code, so
 * it can fly on the GPU too.
 *
 * Loops, outer to inner:
 *   position   a = -kp (p - p*) - kd (v - v*) (+ a* in tracking mode), the
 *              horizontal part limited to max_acc_xy;
 *   thrust     F = m (a - g); collective thrust T = F . b3 (the body z axis);
 *   attitude   tilt error: the rotation taking the body z axis onto F
 *              (angle times axis, body frame); yaw error towards zero heading,
 *              weighted by how level the vehicle is; wanted body rate
 *              k_att e (limited to max_rate), angular acceleration
 *              k_rate (rate wanted - w), torque J alpha + w x J w;
 *   mixer      rotor thrusts from (T, tau) by the inverse of the rotor
 *              geometry matrix; when the rotors saturate roll and pitch come
 *              first, then yaw, then the collective thrust; motor states by
 *              inverting the thrust curve;
 *   motor lag  knowing the motor states (rotor speeds), the command
 *              over-drives the first-order lag so the motor gets to the wanted
 *              state sooner: lag_comp = 1 inverts the lag over one step,
 *              0 (or no motor states given) leaves it alone. */
#ifndef SF_PID_H
#define SF_PID_H

#include <math.h>

#include "core/sf_config.h"
#include "core/sf_defs.h"
#include "sim/sf_env.h"
#include "sim/sf_quad_params.h"
#include "sim/sf_trajectory.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  /* gains (config keys pid.*) */
  float kp[3], kd[3];  /* position loop, per world axis (1/s^2, 1/s) */
  float max_acc_xy;    /* m/s^2: horizontal acceleration limit */
  float min_thrust_g;  /* lower bound of F_z in units of m g (keeps b3d upward) */
  float k_att[3];      /* attitude loop: body rate wanted per rad of error (1/s) */
  float max_rate[3];   /* rad/s: limit of that wanted rate */
  float k_rate[3];     /* rate loop: angular acceleration per rad/s of rate error (1/s) */
  float lag_comp;      /* fraction of the motor lag compensated, in [0, 1] */
  int tracking;        /* add the target's acceleration as feed-forward */
  /* derived from the model by sf_pid_init */
  float mass, g;
  float inertia[3];
  float mix[4][4];     /* rotor thrusts from (T, tau_x, tau_y, tau_z) */
  float f_min, f_max;  /* thrust range of one rotor over the motor range */
  float thrust_coef[3];
  float motor_min, motor_max;
  float lag_gain;      /* 1 / (1 - exp(-dt / tau_m)): one-step inversion of the lag */
} sf_pid;

/* Default gains and the derived fields for model `m`. Returns 0, or -1 when
 * the rotor geometry cannot produce independent thrust and torques. */
int sf_pid_init(sf_pid *c, const sf_quad_params *m);
/* sf_pid_init, then the `pid.*` keys (errors recorded in the config, naming
 * the key). Returns 0 or -1. */
int sf_pid_from_config(sf_config *cfg, const sf_quad_params *m, sf_pid *c);

/* Batched on the CPU: actions [P][N][4] for every env of `d` from the
 * observations obs [P][N][18], the envs' motor states and (in tracking mode)
 * each env's target acceleration (sf_pid_act_env for each env). */
void sf_pid_act_batch(const sf_pid *c, const sf_env_model *m, const sf_env_data *d, const float *obs,
                      float *actions);
/* The same as an sf_policy_fn (sim/sf_eval.h), ctx the sf_pid. */
void sf_pid_policy(void *ctx, const sf_env_model *m, const sf_env_data *d, const float *obs, float *actions);

#ifdef __cplusplus
}
#endif

/* The motor state whose thrust is f (the larger root of the thrust curve;
 * the curve's minimum when f is below it), clamped to the motor range. */
SF_HD float sf_pid_thrust_to_motor(const sf_pid *c, float f) {
  float c0 = c->thrust_coef[0], c1 = c->thrust_coef[1], c2 = c->thrust_coef[2], u;
  if (c2 != 0.0f) {
    float disc = c1 * c1 - 4.0f * c2 * (c0 - f);
    u = (-c1 + sqrtf(disc > 0.0f ? disc : 0.0f)) / (2.0f * c2);
  } else {
    u = (f - c0) / c1;
  }
  return u < c->motor_min ? c->motor_min : (u > c->motor_max ? c->motor_max : u);
}

/* Actions [4] in [-1, 1] from the observation obs[18]. `motor` (the current
 * motor states) may be NULL: no lag compensation; `acc_ff` (the target's
 * acceleration) may be NULL, and is ignored unless c->tracking. */
SF_HD void sf_pid_act(const sf_pid *c, const float *obs, const float *motor, const float *acc_ff, float action[4]) {
  const float *ep = obs, *R = obs + 3, *ev = obs + 12, *w = obs + 15;
  float a[3];
  for (int k = 0; k < 3; ++k) {
    a[k] = -c->kp[k] * ep[k] - c->kd[k] * ev[k];
    if (acc_ff && c->tracking) a[k] += acc_ff[k];
  }
  float axy = sqrtf(a[0] * a[0] + a[1] * a[1]);
  if (axy > c->max_acc_xy) {
    a[0] *= c->max_acc_xy / axy;
    a[1] *= c->max_acc_xy / axy;
  }
  float F[3] = {c->mass * a[0], c->mass * a[1], c->mass * (a[2] + c->g)};
  float fz_min = c->min_thrust_g * c->mass * c->g;
  if (F[2] < fz_min) F[2] = fz_min;

  /* Collective thrust: the part of F along the current body z axis. */
  float T = F[0] * R[2] + F[1] * R[5] + F[2] * R[8];
  if (T < 0.0f) T = 0.0f;

  /* Attitude error, tilt first: the rotation that takes the body z axis b3
   * onto F's direction, as an angle times axis (beyond 90 degrees the angle
   * keeps growing where a sine would shrink), in the body frame. Yaw is
   * controlled apart, towards zero, and only as the vehicle comes level: a
   * large heading error must not mask the tilt error. */
  float fn = sqrtf(F[0] * F[0] + F[1] * F[1] + F[2] * F[2]);
  float d3[3] = {F[0] / fn, F[1] / fn, F[2] / fn};
  float b3[3] = {R[2], R[5], R[8]};
  float ax[3] = {b3[1] * d3[2] - b3[2] * d3[1], b3[2] * d3[0] - b3[0] * d3[2], b3[0] * d3[1] - b3[1] * d3[0]};
  float sn = sqrtf(ax[0] * ax[0] + ax[1] * ax[1] + ax[2] * ax[2]);
  float cs = b3[0] * d3[0] + b3[1] * d3[1] + b3[2] * d3[2];
  float eb[3] = {0.0f, 0.0f, 0.0f};
  if (sn > 1e-6f) {
    float k = atan2f(sn, cs) / sn;
    /* R^T (axis): body-frame components. */
    for (int j = 0; j < 3; ++j) eb[j] = k * (R[j] * ax[0] + R[3 + j] * ax[1] + R[6 + j] * ax[2]);
  } else if (cs < 0.0f) {
    eb[0] = 3.14159265f; /* upside down: roll over */
  }
  float yaw = atan2f(R[3], R[0]);
  eb[2] = -yaw * (R[8] > 0.0f ? R[8] : 0.0f);

  float jw[3], tau[3];
  for (int k = 0; k < 3; ++k) jw[k] = c->inertia[k] * w[k];
  float gyro[3] = {w[1] * jw[2] - w[2] * jw[1], w[2] * jw[0] - w[0] * jw[2], w[0] * jw[1] - w[1] * jw[0]};
  for (int k = 0; k < 3; ++k) {
    float wd = c->k_att[k] * eb[k];
    wd = wd < -c->max_rate[k] ? -c->max_rate[k] : (wd > c->max_rate[k] ? c->max_rate[k] : wd);
    tau[k] = c->inertia[k] * (c->k_rate[k] * (wd - w[k])) + gyro[k];
  }

  /* Rotor thrusts: the collective share plus the roll/pitch and yaw shares.
   * When they do not fit the rotors' range, priorities decide: roll and pitch
   * first (the collective share moves within what they leave free, so a
   * tilted vehicle still gets the torque to right itself), then yaw, scaled
   * down to fit what is left (yaw authority is small and a large heading
   * error would otherwise saturate every rotor). */
  float rp[4], yw[4], dmin = 1e30f, dmax = -1e30f;
  for (int i = 0; i < 4; ++i) {
    rp[i] = c->mix[i][1] * tau[0] + c->mix[i][2] * tau[1];
    yw[i] = c->mix[i][3] * tau[2];
    dmin = rp[i] < dmin ? rp[i] : dmin;
    dmax = rp[i] > dmax ? rp[i] : dmax;
  }
  float share = c->mix[0][0] * T; /* T / 4 for a symmetric vehicle */
  float lo = c->f_min - dmin, hi = c->f_max - dmax;
  if (lo <= hi) share = share < lo ? lo : (share > hi ? hi : share);
  float ys = 1.0f;
  for (int i = 0; i < 4; ++i) {
    float room = yw[i] > 0.0f ? c->f_max - share - rp[i] : c->f_min - share - rp[i];
    if (yw[i] != 0.0f && yw[i] * ys * yw[i] > room * yw[i]) {
      float s = room / yw[i];
      ys = s < 0.0f ? 0.0f : s;
    }
  }
  float fr[4];
  for (int i = 0; i < 4; ++i) fr[i] = share + rp[i] + ys * yw[i];
  float h = (c->motor_max - c->motor_min) * 0.5f;
  for (int i = 0; i < 4; ++i) {
    float u = sf_pid_thrust_to_motor(c, fr[i]);
    if (motor && c->lag_comp > 0.0f) {
      float g = 1.0f + c->lag_comp * (c->lag_gain - 1.0f);
      u = motor[i] + (u - motor[i]) * g;
      u = u < c->motor_min ? c->motor_min : (u > c->motor_max ? c->motor_max : u);
    }
    action[i] = (u - c->motor_min) / h - 1.0f;
  }
}

/* One env of a batch: actions[i] from obs[i] (both the whole [n][18] and
 * [n][4] arrays), env i's motor states and its target's acceleration at its
 * episode step. The CPU loop and the GPU's kernel run this. */
SF_HD void sf_pid_act_env(const sf_pid *c, const sf_env_model *m, const sf_env_data *d, long i, const float *obs,
                          float *actions) {
  float motor[4], tp[3], tv[3], ta[3];
  for (int j = 0; j < 4; ++j) motor[j] = d->x[(SF_QX_U + j) * d->n + i];
  sf_traj_target(&m->task, (float)d->ep_step[i] * m->quad.dt, tp, tv, ta);
  sf_pid_act(c, obs + i * SF_OBS_DIM, motor, ta, actions + i * SF_ACT_DIM);
}

#endif
