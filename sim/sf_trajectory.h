/* Reference trajectories: the target position, velocity and acceleration at
 * time t since the episode's start (SF_HD, shared with the CUDA kernels).
 * Every trajectory starts at the origin, so the reset distribution (drawn
 * around the target at t = 0) is the same for all of them.
 *
 *   hover    the origin, at rest.
 *   circle   diameter `scale` (0.5 m radius at scale 1) in the horizontal
 *            plane, one lap per `period`, counter-clockwise, starting at the
 *            origin heading +y: p = r (cos wt - 1, sin wt, 0). At the default
 *            5.5 s the speed is 0.57 m/s, half the figure-eight's peak.
 *   figure8  x = S cos(2 pi s + pi/2), y = S sin(2 (2 pi s + pi/2)) / 2 with
 *            s = t / period, S = scale (Learning-to-Fly's figure-eight; peak
 *            speed 1.14 m/s at the defaults).
 *   square   set-points (0,0), (0.5,0), (0.5,0.5), (0,0.5) times `scale`,
 *            `hold` seconds each, then back to (0,0) for good; the target
 *            jumps (a step command, as a Crazyflie is flown through way
 *            points) and its velocity is zero.
 * Heights are 0 and the desired attitude is level with zero yaw throughout. */
#ifndef SF_TRAJECTORY_H
#define SF_TRAJECTORY_H

#include <math.h>

#include "core/sf_defs.h"
#include "sim/sf_env_config.h"

SF_HD void sf_traj_target(const sf_env_config *c, float t, float p[3], float v[3], float a[3]) {
  const float two_pi = 6.28318530717958647692f;
  for (int k = 0; k < 3; ++k) p[k] = v[k] = a[k] = 0.0f;
  switch (c->traj) {
    case SF_TRAJ_CIRCLE: {
      float r = 0.5f * c->traj_scale, om = two_pi / c->traj_period, ph = om * t;
      float cs = cosf(ph), sn = sinf(ph);
      p[0] = r * (cs - 1.0f);
      p[1] = r * sn;
      v[0] = -r * om * sn;
      v[1] = r * om * cs;
      a[0] = -r * om * om * cs;
      a[1] = -r * om * om * sn;
      break;
    }
    case SF_TRAJ_FIGURE8: {
      float sc = c->traj_scale, om = two_pi / c->traj_period, ph = om * t + 0.25f * two_pi;
      float c1 = cosf(ph), s1 = sinf(ph), c2 = cosf(2.0f * ph), s2 = sinf(2.0f * ph);
      p[0] = sc * c1;
      p[1] = sc * s2 * 0.5f;
      v[0] = -sc * om * s1;
      v[1] = sc * om * c2;
      a[0] = -sc * om * om * c1;
      a[1] = -2.0f * sc * om * om * s2;
      break;
    }
    case SF_TRAJ_SQUARE: {
      const float cx[5] = {0.0f, 0.5f, 0.5f, 0.0f, 0.0f}, cy[5] = {0.0f, 0.0f, 0.5f, 0.5f, 0.0f};
      int k = (int)floorf(t / c->traj_hold);
      k = k < 0 ? 0 : (k > 4 ? 4 : k);
      p[0] = c->traj_scale * cx[k];
      p[1] = c->traj_scale * cy[k];
      break;
    }
    default:
      break;
  }
}

/* Duration (s) of one full pass of the trajectory: a lap, or the whole
 * square; 0 for hover. */
SF_HD float sf_traj_duration(const sf_env_config *c) {
  switch (c->traj) {
    case SF_TRAJ_CIRCLE:
    case SF_TRAJ_FIGURE8:
      return c->traj_period;
    case SF_TRAJ_SQUARE:
      return 5.0f * c->traj_hold;
    default:
      return 0.0f;
  }
}

#endif
