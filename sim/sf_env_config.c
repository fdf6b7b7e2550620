#include "sim/sf_env_config.h"

#include <math.h>
#include <stdio.h>

const char *const sf_traj_names[] = {"hover", "circle", "figure8", "square", NULL};
const char *const sf_reward_names[] = {"crs", "cp", "cv", "cq", "cw", "ca", "cab", NULL};

static const double deg = 3.14159265358979323846 / 180.0;

void sf_env_config_default(sf_env_config *c) {
  *c = (sf_env_config){
      .obs_sigma = {0.05f, 0.001f, 0.1f, 0.2f},
      .reset_hover_prob = 0.1f,
      .reset_pos = 0.5f,
      .reset_max_tilt = (float)(90.0 * deg),
      .reset_vel = 1.0f,
      .reset_angvel = 1.0f,
      .reset_motor = {0.0f, 1.0f},
      .term_pos = 0.6f,
      .time_limit = 500,
      /*                 crs   cp    cv     cq     cw    ca     cab */
      .reward_start = {1.0f, 1.0f, 0.01f, 0.25f, 0.0f, 0.14f, 0.667f},
      .reward_end = {1.0f, 3.5f, 0.10f, 0.25f, 0.0f, 0.50f, 0.667f},
      .traj = SF_TRAJ_HOVER,
      .traj_scale = 1.0f,
      .traj_period = 5.5f,
      .traj_hold = 4.0f,
  };
}

int sf_env_config_from_config(sf_config *cfg, sf_env_config *c) {
  sf_env_config_default(c);
  static const char *const sigma_keys[SF_OBS_NGROUPS] = {"env.noise_pos", "env.noise_rot", "env.noise_vel",
                                                         "env.noise_angvel"};
  for (int g = 0; g < SF_OBS_NGROUPS; ++g)
    c->obs_sigma[g] = (float)sf_cfg_float(cfg, sigma_keys[g], c->obs_sigma[g], 0.0, 100.0);
  c->reset_hover_prob = (float)sf_cfg_float(cfg, "env.reset_hover_prob", c->reset_hover_prob, 0.0, 1.0);
  c->reset_pos = (float)sf_cfg_float(cfg, "env.reset_pos", c->reset_pos, 0.0, 100.0);
  c->reset_max_tilt = (float)(sf_cfg_float(cfg, "env.reset_max_tilt_deg", c->reset_max_tilt / deg, 0.0, 180.0) * deg);
  c->reset_vel = (float)sf_cfg_float(cfg, "env.reset_vel", c->reset_vel, 0.0, 100.0);
  c->reset_angvel = (float)sf_cfg_float(cfg, "env.reset_angvel", c->reset_angvel, 0.0, 1000.0);
  double motor_def[2] = {c->reset_motor[0], c->reset_motor[1]}, motor[2];
  int nm = sf_cfg_floats(cfg, "env.reset_motor", motor_def, 2, 0.0, 1.0, motor, 2);
  if (!sf_cfg_error(cfg)) {
    if (nm != 2 || motor[1] < motor[0])
      sf_cfg_fail(cfg, "config key 'env.reset_motor': expected two values lo,hi with 0 <= lo <= hi <= 1");
    else
      c->reset_motor[0] = (float)motor[0], c->reset_motor[1] = (float)motor[1];
  }
  c->term_pos = (float)sf_cfg_float(cfg, "env.term_pos", c->term_pos, 1e-3, 1000.0);
  c->time_limit = (int)sf_cfg_int(cfg, "env.time_limit", c->time_limit, 1, 100000000);
  for (int k = 0; k < SF_RW_N; ++k) {
    char key[64];
    snprintf(key, sizeof key, "env.reward_%s", sf_reward_names[k]);
    double def[2] = {c->reward_start[k], c->reward_end[k]}, v[2];
    int n = sf_cfg_floats(cfg, key, def, 2, -1e6, 1e6, v, 2);
    if (sf_cfg_error(cfg)) break;
    c->reward_start[k] = (float)v[0];
    c->reward_end[k] = (float)(n == 2 ? v[1] : v[0]);
  }
  c->traj = sf_cfg_choice(cfg, "env.trajectory", sf_traj_names[SF_TRAJ_HOVER], sf_traj_names);
  c->traj_scale = (float)sf_cfg_float(cfg, "env.traj_scale", c->traj_scale, 0.0, 100.0);
  c->traj_period = (float)sf_cfg_float(cfg, "env.traj_period", c->traj_period, 0.01, 1e6);
  c->traj_hold = (float)sf_cfg_float(cfg, "env.traj_hold", c->traj_hold, 0.01, 1e6);
  return sf_cfg_error(cfg) ? -1 : 0;
}
