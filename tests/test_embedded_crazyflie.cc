// The Crazyflie adapter against values worked out by hand, and the
// out-of-tree controller (compiled against a host stand-in for the
// firmware's headers) driven tick by tick.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

extern "C" {
#include "embedded/crazyflie/host/controller.h"
#include "embedded/sf_cf_adapter.h"
#include "embedded/sf_ctrl.h"
}

// The controller links against sf_ctrl_step / sf_ctrl_reset, which an
// exported directory provides on the drone. Here a recording stand-in takes
// their place: it keeps the observations it was given and answers with
// scripted actions, so the test sees exactly what the controller passes on.
namespace {
struct Recorder {
  int resets = 0;
  std::vector<std::vector<float>> obs;
  float next_act[SF_CTRL_ACT] = {0, 0, 0, 0};
} rec;
}  // namespace

extern "C" void sf_ctrl_reset(void) { rec.resets++; }
extern "C" void sf_ctrl_step(const float obs[SF_CTRL_OBS], float motor[SF_CTRL_ACT]) {
  rec.obs.emplace_back(obs, obs + SF_CTRL_OBS);
  for (int i = 0; i < SF_CTRL_ACT; ++i) motor[i] = rec.next_act[i];
}

TEST(CrazyflieAdapter, ObservationByHand) {
  const float pos[3] = {1.0f, 2.0f, 0.5f}, vel[3] = {0.1f, -0.2f, 0.3f};
  const float pos_sp[3] = {0.5f, 2.5f, 1.0f}, vel_sp[3] = {0.0f, 0.0f, 0.5f};
  const float gyro[3] = {180.0f, -90.0f, 45.0f};
  // 90 degrees of yaw: q = (cos 45, 0, 0, sin 45); body x points along world y.
  const float h = std::sqrt(0.5f);
  const float q[4] = {h, 0.0f, 0.0f, h};
  float obs[18];
  sf_cf_observation(pos, vel, q, gyro, pos_sp, vel_sp, obs);
  const float want[18] = {0.5f, -0.5f, -0.5f,                           // p - p*
                          0.0f, -1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f,  // R
                          0.1f, -0.2f, -0.2f,                           // v - v*
                          (float)M_PI, (float)(-M_PI / 2), (float)(M_PI / 4)};    // rad/s
  for (int i = 0; i < 18; ++i) EXPECT_NEAR(obs[i], want[i], 1e-6) << "element " << i;

  // 180 degrees about x (upside down): R = diag(1, -1, -1).
  const float qx[4] = {0.0f, 1.0f, 0.0f, 0.0f};
  sf_cf_observation(pos, vel, qx, gyro, pos_sp, vel_sp, obs);
  const float rx[9] = {1, 0, 0, 0, -1, 0, 0, 0, -1};
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(obs[3 + i], rx[i], 1e-6) << "R element " << i;

  // A quaternion of norm 2 (not normalised) still gives a rotation.
  const float q2[4] = {2.0f * h, 0.0f, 0.0f, 2.0f * h};
  sf_cf_observation(pos, vel, q2, gyro, pos_sp, vel_sp, obs);
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(obs[3 + i], want[3 + i], 1e-6) << "R element " << i;
}

TEST(CrazyflieAdapter, ForcesClipped) {
  const float act[4] = {-1.0f, 0.0f, 1.0f, 0.3f};
  float f[4];
  sf_cf_forces(act, f);
  EXPECT_FLOAT_EQ(f[0], 0.0f);
  EXPECT_FLOAT_EQ(f[1], 0.5f);
  EXPECT_FLOAT_EQ(f[2], 1.0f);
  EXPECT_FLOAT_EQ(f[3], 0.65f);
  const float bad[4] = {-3.0f, 7.0f, NAN, -INFINITY};
  sf_cf_forces(bad, f);
  EXPECT_EQ(f[0], 0.0f);
  EXPECT_EQ(f[1], 1.0f);
  EXPECT_EQ(f[2], 0.0f);
  EXPECT_EQ(f[3], 0.0f);
}

TEST(CrazyflieAdapter, HundredHertzFromTheStabilizerLoop) {
  sf_cf_adapter a;
  sf_cf_adapter_init(&a, 200);
  int steps = 0, resets = 0, holds = 0;
  for (uint32_t tick = 1000; tick < 2000; ++tick) {
    int w = sf_cf_tick(&a, tick, 5000 + tick / 20);  // a new setpoint every 20 ms
    if (w & SF_CF_STEP) {
      EXPECT_EQ(tick % 10, 0u);
      steps++;
    }
    if (w & SF_CF_RESET) resets++;
    if (w == SF_CF_HOLD) holds++;
  }
  EXPECT_EQ(steps, 100);  // 1 s at 100 Hz
  EXPECT_EQ(resets, 1);   // only the first step of the flight
  EXPECT_EQ(holds, 900);
}

TEST(CrazyflieAdapter, MotorsCutWhenSetpointsStop) {
  sf_cf_adapter a;
  sf_cf_adapter_init(&a, 200);
  EXPECT_EQ(sf_cf_tick(&a, 0, 77), SF_CF_STEP | SF_CF_RESET);
  a.force[0] = 0.7f;
  // The same setpoint for 200 ticks still flies; the 201st tick cuts.
  for (uint32_t t = 1; t <= 200; ++t) EXPECT_NE(sf_cf_tick(&a, t, 77), SF_CF_CUT) << t;
  EXPECT_EQ(sf_cf_tick(&a, 201, 77), SF_CF_CUT);
  EXPECT_EQ(a.force[0], 0.0f);
  EXPECT_EQ(sf_cf_tick(&a, 210, 77), SF_CF_CUT);
  // A new setpoint restarts the flight from a reset network on the next
  // 100 Hz tick.
  EXPECT_EQ(sf_cf_tick(&a, 215, 78), SF_CF_CUT);
  EXPECT_EQ(sf_cf_tick(&a, 220, 78), SF_CF_STEP | SF_CF_RESET);
  EXPECT_EQ(sf_cf_tick(&a, 230, 78), SF_CF_STEP);
  // Across the tick counter's wrap.
  sf_cf_adapter_init(&a, 200);
  EXPECT_EQ(sf_cf_tick(&a, 0xFFFFFFF0u, 1), SF_CF_STEP | SF_CF_RESET);
  EXPECT_EQ(sf_cf_tick(&a, 0x00000000u, 1), SF_CF_STEP);
  EXPECT_EQ(sf_cf_tick(&a, 0x00000005u, 1), SF_CF_HOLD);
}

TEST(CrazyflieController, OutOfTreeControllerFlies) {
  rec = Recorder();
  controllerOutOfTreeInit();
  EXPECT_TRUE(controllerOutOfTreeTest());
  EXPECT_EQ(rec.resets, 1);
  state_t state = {};
  state.attitudeQuaternion.w = 1.0f;
  state.position.x = 0.1f;
  state.position.z = 1.2f;
  state.velocity.y = -0.5f;
  sensorData_t sensors = {};
  sensors.gyro.z = 90.0f;
  setpoint_t sp = {};
  sp.position.z = 1.0f;
  control_t control = {};
  rec.next_act[0] = -1.0f;
  rec.next_act[1] = 0.0f;
  rec.next_act[2] = 0.5f;
  rec.next_act[3] = 2.0f;
  for (uint32_t tick = 0; tick < 30; ++tick) {
    sp.timestamp = tick;  // a fresh setpoint every tick
    controllerOutOfTree(&control, &sp, &sensors, &state, tick);
    EXPECT_EQ(control.controlMode, controlModeForce);
  }
  ASSERT_EQ(rec.obs.size(), 3u);  // ticks 0, 10, 20
  EXPECT_EQ(rec.resets, 2);       // init, then the first step of the flight
  const std::vector<float> &o = rec.obs[0];
  EXPECT_NEAR(o[0], 0.1f, 1e-7);
  EXPECT_NEAR(o[2], 0.2f, 1e-6);
  EXPECT_NEAR(o[3], 1.0f, 1e-7);
  EXPECT_NEAR(o[7], 1.0f, 1e-7);
  EXPECT_NEAR(o[11], 1.0f, 1e-7);
  EXPECT_NEAR(o[13], -0.5f, 1e-7);
  EXPECT_NEAR(o[17], (float)(M_PI / 2), 1e-6);
  EXPECT_FLOAT_EQ(control.normalizedForces[0], 0.0f);
  EXPECT_FLOAT_EQ(control.normalizedForces[1], 0.5f);
  EXPECT_FLOAT_EQ(control.normalizedForces[2], 0.75f);
  EXPECT_FLOAT_EQ(control.normalizedForces[3], 1.0f);
  // Setpoints stop: after the timeout the motors are off and the network
  // is no longer stepped.
  size_t before = rec.obs.size();
  for (uint32_t tick = 30; tick < 300; ++tick) controllerOutOfTree(&control, &sp, &sensors, &state, tick);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(control.normalizedForces[i], 0.0f);
  EXPECT_EQ(rec.obs.size(), before + 20);  // ticks 30..220 (timestamp 29 + 200 ms)
}
