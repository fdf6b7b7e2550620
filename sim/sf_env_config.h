/* The task around the quadrotor (the rest of the static "model"): observation
 * noise, reset distribution, termination, time limit, reward coefficients with
 * their curriculum, and the reference trajectory. Read from `env.*` config
 * keys; plain data so it can be passed by value to a CUDA kernel. */
#ifndef SF_ENV_CONFIG_H
#define SF_ENV_CONFIG_H

#include "core/sf_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Observation groups (for the noise sigmas). */
enum { SF_OBS_POS = 0, SF_OBS_ROT = 1, SF_OBS_VEL = 2, SF_OBS_ANGVEL = 3, SF_OBS_NGROUPS = 4 };

/* Reward coefficients: r = Crs - Cp |p-p*|^2 - Cv |v-v*|^2 - Cq theta
 *                          - Cw |w|^2 - Ca |u_cmd - Cab|^2. */
enum { SF_RW_CRS = 0, SF_RW_CP, SF_RW_CV, SF_RW_CQ, SF_RW_CW, SF_RW_CA, SF_RW_CAB, SF_RW_N };

/* Reference trajectories. */
typedef enum { SF_TRAJ_HOVER = 0, SF_TRAJ_CIRCLE, SF_TRAJ_FIGURE8, SF_TRAJ_SQUARE, SF_TRAJ_N } sf_traj_kind;

extern const char *const sf_traj_names[];       /* "hover", "circle", "figure8", "square", NULL */
extern const char *const sf_reward_names[];     /* "crs", "cp", "cv", "cq", "cw", "ca", "cab" */

typedef struct {
  float obs_sigma[SF_OBS_NGROUPS]; /* Gaussian noise per observation group; 0 turns it off */
  float reset_hover_prob;          /* probability of an exact hover at the target */
  float reset_pos;                 /* m: position offset from the target, U[-x, x] per axis */
  float reset_max_tilt;            /* rad: angle between body z and world z, at most this */
  float reset_vel;                 /* m/s: velocity offset from the target's, U[-x, x] per axis */
  float reset_angvel;              /* rad/s: U[-x, x] per axis */
  float reset_motor[2];            /* normalised motor state U[lo, hi] (0: min, 1: max of the range) */
  float term_pos;                  /* m: terminate when any |p_i - p*_i| exceeds this */
  int time_limit;                  /* steps: truncate (not terminate) an episode at this length */
  float reward_start[SF_RW_N];     /* coefficients at curriculum progress 0 */
  float reward_end[SF_RW_N];       /* ... and at progress 1 (linear in between) */
  int traj;                        /* sf_traj_kind */
  float traj_scale;                /* m: figure-eight half-width, circle diameter, square side / 0.5 */
  float traj_period;               /* s: one lap of the circle and of the figure-eight */
  float traj_hold;                 /* s: time spent at each corner of the square */
} sf_env_config;

/* The defaults (DESIGN.md): noise 0.05, 0.001, 0.1, 0.2; hover 10 %, +-0.5 m,
 * tilt <= 90 deg, +-1 m/s, +-1 rad/s, motors U[0,1]; 0.6 m; 500 steps;
 * Cp 1.0->3.5, Cv 0.01->0.10, Ca 0.14->0.50, Cq 0.25, Crs 1.0, Cab 0.667, Cw 0;
 * hover; scale 1 m, period 5.5 s, 4 s per corner. */
void sf_env_config_default(sf_env_config *c);

/* Read the `env.*` keys over the defaults. Errors are recorded in the config
 * (naming the key); returns 0 or -1. A reward coefficient key takes one value
 * (fixed) or two (curriculum start, end): `env.reward_cp = 1.0,3.5`. */
int sf_env_config_from_config(sf_config *cfg, sf_env_config *c);

#ifdef __cplusplus
}
#endif
#endif
