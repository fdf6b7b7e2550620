#include "sim/sf_quad_params.h"

#include <math.h>
#include <string.h>

const char *const sf_quad_model_names[] = {"cf21", "l2f2023", NULL};

/* The primary fields of each set; derived fields are filled by
 * sf_quad_params_derive. Rotor order and yaw signs follow the Learning-to-Fly
 * Crazyflie model: rotors at (+x,-y), (-x,-y), (-x,+y), (+x,+y). */
typedef struct {
  sf_quad_params m;
  double inertia[3]; /* the decimal values, for the inverse */
} sf_quad_set;

static const sf_quad_set sf_quad_sets[] = {
    /* cf21: Crazyflie 2.1 as identified for the L2F simulator, thrust on the
     * normalised throttle u in [0,1]. */
    {{
        .mass = 0.027f,
        .gravity = {0.0f, 0.0f, -9.81f},
        .rotor_pos = {{0.028f, -0.028f, 0.0f}, {-0.028f, -0.028f, 0.0f}, {-0.028f, 0.028f, 0.0f}, {0.028f, 0.028f, 0.0f}},
        .yaw_sign = {-1.0f, 1.0f, -1.0f, 1.0f},
        .thrust_coef = {0.0213f, -0.0112f, 0.1201f},
        .yaw_coef = 4.665e-3f,
        .motor_tau = 0.072f,
        .motor_min = 0.0f,
        .motor_max = 1.0f,
        .dt = 0.01f,
    }, {1.029e-5, 1.105e-5, 2.005e-5}},
    /* l2f2023: the original Learning-to-Fly model, thrust quadratic in rpm. */
    {{
        .mass = 0.027f,
        .gravity = {0.0f, 0.0f, -9.81f},
        .rotor_pos = {{0.028f, -0.028f, 0.0f}, {-0.028f, -0.028f, 0.0f}, {-0.028f, 0.028f, 0.0f}, {0.028f, 0.028f, 0.0f}},
        .yaw_sign = {-1.0f, 1.0f, -1.0f, 1.0f},
        .thrust_coef = {0.0f, 0.0f, 3.16e-10f},
        .yaw_coef = 0.005964552f,
        .motor_tau = 0.15f,
        .motor_min = 0.0f,
        .motor_max = 21702.0f,
        .dt = 0.01f,
    }, {3.85e-6, 3.85e-6, 5.9675e-6}},
};

double sf_quad_thrust_inverse(const sf_quad_params *m, double f) {
  double c0 = m->thrust_coef[0], c1 = m->thrust_coef[1], c2 = m->thrust_coef[2];
  double u;
  if (c2 != 0.0) {
    double disc = c1 * c1 - 4.0 * c2 * (c0 - f);
    if (disc < 0.0) return NAN;
    u = (-c1 + (c2 > 0.0 ? 1.0 : -1.0) * sqrt(disc)) / (2.0 * c2);
  } else if (c1 != 0.0) {
    u = (f - c0) / c1;
  } else {
    return NAN;
  }
  if (!(u >= m->motor_min && u <= m->motor_max)) return NAN;
  return u;
}

int sf_quad_params_derive(sf_quad_params *m) {
  /* 1/mass in float, as the reference simulator evaluates it every step. */
  m->inv_mass = 1.0f / m->mass;
  /* Hover: each rotor carries a quarter of the weight. The root is taken in
   * double on the float parameters and rounded once. */
  double g = -(double)m->gravity[2];
  double u = sf_quad_thrust_inverse(m, (double)m->mass * g / 4.0);
  if (isnan(u)) {
    m->hover_motor = m->hover_action = NAN;
    return -1;
  }
  m->hover_motor = (float)u;
  double range = (double)m->motor_max - (double)m->motor_min;
  m->hover_action = (float)((u - (double)m->motor_min) / range * 2.0 - 1.0);
  return 0;
}

void sf_quad_params_set_inertia(sf_quad_params *m, const double inertia[3]) {
  for (int i = 0; i < 3; ++i) {
    m->inertia[i] = (float)inertia[i];
    m->inv_inertia[i] = (float)(1.0 / inertia[i]);
  }
}

int sf_quad_params_named(const char *name, sf_quad_params *m) {
  for (int i = 0; sf_quad_model_names[i]; ++i)
    if (!strcmp(name, sf_quad_model_names[i])) {
      *m = sf_quad_sets[i].m;
      sf_quad_params_set_inertia(m, sf_quad_sets[i].inertia);
      return sf_quad_params_derive(m);
    }
  return -1;
}

/* Read an optional list of exactly n floats into out (float), keeping out's
 * current values as the defaults. */
static void read_vec(sf_config *cfg, const char *key, float *out, int n, double lo, double hi) {
  double def[12], val[12];
  for (int i = 0; i < n; ++i) def[i] = out[i];
  int got = sf_cfg_floats(cfg, key, def, n, lo, hi, val, n);
  if (sf_cfg_error(cfg)) return;
  if (got != n) {
    sf_cfg_fail(cfg, "config key '%s': expected %d comma-separated values, got %d", key, n, got);
    return;
  }
  for (int i = 0; i < n; ++i) out[i] = (float)val[i];
}

int sf_quad_params_from_config(sf_config *cfg, sf_quad_params *m) {
  int which = sf_cfg_choice(cfg, "sim.model", sf_quad_model_names[0], sf_quad_model_names);
  *m = sf_quad_sets[which].m;
  m->mass = (float)sf_cfg_float(cfg, "sim.mass", m->mass, 1e-4, 100.0);
  double g = sf_cfg_float(cfg, "sim.gravity", -m->gravity[2], 0.0, 100.0);
  m->gravity[0] = m->gravity[1] = 0.0f;
  m->gravity[2] = (float)-g;
  read_vec(cfg, "sim.rotor_pos", &m->rotor_pos[0][0], 12, -10.0, 10.0);
  read_vec(cfg, "sim.yaw_sign", m->yaw_sign, 4, -1.0, 1.0);
  double inertia[3];
  int ni = sf_cfg_floats(cfg, "sim.inertia", sf_quad_sets[which].inertia, 3, 1e-12, 100.0, inertia, 3);
  if (!sf_cfg_error(cfg) && ni != 3)
    sf_cfg_fail(cfg, "config key 'sim.inertia': expected 3 comma-separated values, got %d", ni);
  if (!sf_cfg_error(cfg)) sf_quad_params_set_inertia(m, inertia);
  read_vec(cfg, "sim.thrust_coef", m->thrust_coef, 3, -1e6, 1e6);
  m->yaw_coef = (float)sf_cfg_float(cfg, "sim.yaw_coef", m->yaw_coef, -1.0, 1.0);
  m->motor_tau = (float)sf_cfg_float(cfg, "sim.motor_tau", m->motor_tau, 1e-4, 10.0);
  float range[2] = {m->motor_min, m->motor_max};
  read_vec(cfg, "sim.motor_range", range, 2, 0.0, 1e9);
  m->motor_min = range[0];
  m->motor_max = range[1];
  m->dt = (float)sf_cfg_float(cfg, "sim.dt", m->dt, 1e-5, 0.1);
  if (sf_cfg_error(cfg)) return -1;
  if (!(m->motor_max > m->motor_min)) {
    sf_cfg_fail(cfg, "config key 'sim.motor_range': the maximum must exceed the minimum");
    return -1;
  }
  if (sf_quad_params_derive(m) != 0) {
    sf_cfg_fail(cfg, "config key 'sim.thrust_coef': no motor state in sim.motor_range gives the hover thrust m g / 4");
    return -1;
  }
  return 0;
}
