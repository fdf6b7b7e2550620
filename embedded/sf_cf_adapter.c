#include "sf_cf_adapter.h"

#include <string.h>

#define SF_DEG_TO_RAD 0.017453292519943295f

void sf_cf_observation(const float pos[3], const float vel[3], const float q_wxyz[4], const float gyro_dps[3],
                       const float pos_sp[3], const float vel_sp[3], float obs[18]) {
  float w = q_wxyz[0], x = q_wxyz[1], y = q_wxyz[2], z = q_wxyz[3];
  float n2 = w * w + x * x + y * y + z * z;
  /* s = 2 / |q|^2 keeps R a rotation for a slightly denormalised q. */
  float s = n2 > 0.0f ? 2.0f / n2 : 0.0f;
  for (int i = 0; i < 3; ++i) obs[i] = pos[i] - pos_sp[i];
  obs[3] = 1.0f - s * (y * y + z * z);
  obs[4] = s * (x * y - w * z);
  obs[5] = s * (x * z + w * y);
  obs[6] = s * (x * y + w * z);
  obs[7] = 1.0f - s * (x * x + z * z);
  obs[8] = s * (y * z - w * x);
  obs[9] = s * (x * z - w * y);
  obs[10] = s * (y * z + w * x);
  obs[11] = 1.0f - s * (x * x + y * y);
  for (int i = 0; i < 3; ++i) obs[12 + i] = vel[i] - vel_sp[i];
  for (int i = 0; i < 3; ++i) obs[15 + i] = gyro_dps[i] * SF_DEG_TO_RAD;
}

void sf_cf_forces(const float act[4], float force[4]) {
  for (int i = 0; i < 4; ++i) {
    float f = (act[i] + 1.0f) * 0.5f;
    if (!(f > 0.0f)) f = 0.0f; /* also NaN */
    if (f > 1.0f) f = 1.0f;
    force[i] = f;
  }
}

void sf_cf_adapter_init(sf_cf_adapter *a, uint32_t timeout_ms) {
  memset(a, 0, sizeof *a);
  a->timeout_ticks = timeout_ms * (SF_CF_LOOP_HZ / 1000u);
}

int sf_cf_tick(sf_cf_adapter *a, uint32_t tick, uint32_t setpoint_timestamp) {
  if (!a->seen || setpoint_timestamp != a->last_timestamp) {
    a->seen = 1;
    a->last_timestamp = setpoint_timestamp;
    a->last_new_tick = tick;
  }
  /* Unsigned difference: correct across the tick counter's wrap. */
  if (tick - a->last_new_tick > a->timeout_ticks) {
    a->flying = 0;
    memset(a->force, 0, sizeof a->force);
    return SF_CF_CUT;
  }
  if (tick % (SF_CF_LOOP_HZ / SF_CF_CTRL_HZ) != 0) return a->flying ? SF_CF_HOLD : SF_CF_CUT;
  int what = SF_CF_STEP;
  if (!a->flying) what |= SF_CF_RESET;
  a->flying = 1;
  return what;
}
