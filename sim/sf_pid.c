#include "sim/sf_pid.h"

#include <math.h>
#include <stdio.h>

/* Invert a 4x4 matrix by Gauss-Jordan elimination with partial pivoting, in
 * double. Returns -1 when it is singular. */
static int invert4(double a[4][4], double inv[4][4]) {
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) inv[i][j] = i == j;
  for (int c = 0; c < 4; ++c) {
    int piv = c;
    for (int r = c + 1; r < 4; ++r)
      if (fabs(a[r][c]) > fabs(a[piv][c])) piv = r;
    if (fabs(a[piv][c]) < 1e-12) return -1;
    for (int j = 0; j < 4; ++j) {
      double t = a[c][j];
      a[c][j] = a[piv][j];
      a[piv][j] = t;
      t = inv[c][j];
      inv[c][j] = inv[piv][j];
      inv[piv][j] = t;
    }
    double d = a[c][c];
    for (int j = 0; j < 4; ++j) {
      a[c][j] /= d;
      inv[c][j] /= d;
    }
    for (int r = 0; r < 4; ++r)
      if (r != c) {
        double f = a[r][c];
        for (int j = 0; j < 4; ++j) {
          a[r][j] -= f * a[c][j];
          inv[r][j] -= f * inv[c][j];
        }
      }
  }
  return 0;
}

int sf_pid_init(sf_pid *c, const sf_quad_params *m) {
  /* Gains found by a random local search on the cf21 model with the default
   * reset distribution and observation noise, maximising the mean return over
   * 1000 episodes under the final reward coefficients. They are
   * accelerations and rates per unit error, so they carry over to other
   * masses and inertias. The rate loop is slow next to the motor lag
   * (tau_m = 72 ms) and the lag is only partly inverted: the noise on the
   * observed body rates (0.2 rad/s) and a one-step delay make stiffer
   * settings chatter. */
  *c = (sf_pid){
      .kp = {10.0f, 10.0f, 10.5f},
      .kd = {4.3f, 4.3f, 5.3f},
      .max_acc_xy = 20.0f,
      .min_thrust_g = 0.2f,
      .k_att = {8.5f, 8.5f, 2.1f},
      .max_rate = {16.0f, 16.0f, 4.8f},
      .k_rate = {28.5f, 28.5f, 5.2f},
      .lag_comp = 0.18f,
      .tracking = 1,
  };
  c->mass = m->mass;
  c->g = -m->gravity[2];
  for (int k = 0; k < 3; ++k) c->inertia[k] = m->inertia[k];
  for (int k = 0; k < 3; ++k) c->thrust_coef[k] = m->thrust_coef[k];
  c->motor_min = m->motor_min;
  c->motor_max = m->motor_max;
  /* The thrust curve's extremes over the motor range: at the ends, or at its
   * vertex when that lies inside. */
  double c0 = m->thrust_coef[0], c1 = m->thrust_coef[1], c2 = m->thrust_coef[2];
  double ends[3] = {m->motor_min, m->motor_max, c2 != 0.0 ? -c1 / (2.0 * c2) : m->motor_min};
  if (ends[2] < m->motor_min || ends[2] > m->motor_max) ends[2] = m->motor_min;
  double lo = 1e30, hi = -1e30;
  for (int k = 0; k < 3; ++k) {
    double f = c0 + c1 * ends[k] + c2 * ends[k] * ends[k];
    lo = f < lo ? f : lo;
    hi = f > hi ? f : hi;
  }
  c->f_min = (float)lo;
  c->f_max = (float)hi;
  c->lag_gain = (float)(1.0 / (1.0 - exp(-(double)m->dt / (double)m->motor_tau)));
  /* (T, tau_x, tau_y, tau_z) = A f for rotor thrusts f, as in sf_quad_deriv. */
  double A[4][4], inv[4][4];
  for (int i = 0; i < 4; ++i) {
    A[0][i] = 1.0;
    A[1][i] = m->rotor_pos[i][1];
    A[2][i] = -m->rotor_pos[i][0];
    A[3][i] = (double)m->yaw_sign[i] * m->yaw_coef;
  }
  if (invert4(A, inv) != 0) return -1;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) c->mix[i][j] = (float)inv[i][j];
  return 0;
}

static void read3(sf_config *cfg, const char *key, float v[3], double lo, double hi) {
  double def[3] = {v[0], v[1], v[2]}, out[3];
  int n = sf_cfg_floats(cfg, key, def, 3, lo, hi, out, 3);
  if (sf_cfg_error(cfg)) return;
  if (n == 1) out[1] = out[2] = out[0];
  else if (n != 3) {
    sf_cfg_fail(cfg, "config key '%s': expected 1 or 3 comma-separated values, got %d", key, n);
    return;
  }
  for (int k = 0; k < 3; ++k) v[k] = (float)out[k];
}

int sf_pid_from_config(sf_config *cfg, const sf_quad_params *m, sf_pid *c) {
  if (sf_pid_init(c, m) != 0) {
    sf_cfg_fail(cfg, "config key 'sim.rotor_pos': the rotors cannot produce independent thrust and torques");
    return -1;
  }
  read3(cfg, "pid.kp", c->kp, 0.0, 1e4);
  read3(cfg, "pid.kd", c->kd, 0.0, 1e4);
  c->max_acc_xy = (float)sf_cfg_float(cfg, "pid.max_acc_xy", c->max_acc_xy, 0.0, 1e3);
  c->min_thrust_g = (float)sf_cfg_float(cfg, "pid.min_thrust_g", c->min_thrust_g, 0.0, 10.0);
  read3(cfg, "pid.k_att", c->k_att, 0.0, 1e6);
  read3(cfg, "pid.max_rate", c->max_rate, 0.0, 1e3);
  read3(cfg, "pid.k_rate", c->k_rate, 0.0, 1e4);
  c->lag_comp = (float)sf_cfg_float(cfg, "pid.lag_comp", c->lag_comp, 0.0, 1.0);
  c->tracking = sf_cfg_bool(cfg, "pid.tracking", c->tracking);
  return sf_cfg_error(cfg) ? -1 : 0;
}

void sf_pid_act_batch(const sf_pid *c, const sf_env_model *m, const sf_env_data *d, const float *obs,
                      float *actions) {
#pragma omp parallel for schedule(static) if (d->n >= 256)
  for (long i = 0; i < d->n; ++i) sf_pid_act_env(c, m, d, i, obs, actions);
}

void sf_pid_policy(void *ctx, const sf_env_model *m, const sf_env_data *d, const float *obs, float *actions) {
  sf_pid_act_batch(ctx, m, d, obs, actions);
}
