// Physical checks of the quadrotor model: hover equilibrium, free fall,
// torque-free tumbling, fourth-order convergence of the RK4 step against an
// independent float64 solution, and the parameter sets and config keys.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

extern "C" {
#include "core/sf_config.h"
#include "sim/sf_quad_math.h"
}

namespace {

static_assert(sizeof(sf_quad_state) == 17 * sizeof(float), "sf_quad_state is 17 packed floats");
struct Flat {
  float x[17];
};
Flat flat(const sf_quad_state &s) {
  Flat f;
  memcpy(f.x, &s, sizeof f.x);
  return f;
}

sf_quad_params cf21() {
  sf_quad_params m;
  EXPECT_EQ(sf_quad_params_named("cf21", &m), 0);
  return m;
}

sf_quad_state hover_state(const sf_quad_params &m) {
  sf_quad_state s;
  memset(&s, 0, sizeof s);
  s.q[0] = 1.0f;
  for (int i = 0; i < 4; ++i) s.u[i] = m.hover_motor;
  return s;
}

TEST(QuadHover, ThrottleIsTheRootOfTheThrustCurve) {
  sf_quad_params m = cf21();
  EXPECT_NEAR(m.hover_motor, 0.65996, 5e-6);
  // Total thrust at the hover state equals the weight within 0.1 %.
  double f = 4.0 * ((double)m.thrust_coef[0] + (double)m.thrust_coef[1] * m.hover_motor +
                    (double)m.thrust_coef[2] * m.hover_motor * m.hover_motor);
  double w = (double)m.mass * 9.81;
  EXPECT_LT(std::fabs(f - w) / w, 1e-3);
  // The hover action commands the hover state (to the last bit or one ulp).
  float a[4] = {m.hover_action, m.hover_action, m.hover_action, m.hover_action}, u[4];
  sf_quad_command(&m, a, u);
  EXPECT_NEAR(u[0], m.hover_motor, 1.2e-7);
  // L2F's 0.667 (the reward's baseline Cab) is not the hover state: 1.6 % more thrust.
  double f667 = 4.0 * (m.thrust_coef[0] + m.thrust_coef[1] * 0.66702652 + m.thrust_coef[2] * 0.66702652 * 0.66702652);
  EXPECT_GT(f667 / w - 1.0, 0.015);
}

TEST(QuadHover, NoDriftFromExactHover) {
  sf_quad_params m = cf21();
  sf_quad_state s = hover_state(m);
  float a[4] = {m.hover_action, m.hover_action, m.hover_action, m.hover_action};
  for (int k = 0; k < 100; ++k) sf_quad_step(&m, &s, a);
  double drift = std::sqrt((double)s.p[0] * s.p[0] + (double)s.p[1] * s.p[1] + (double)s.p[2] * s.p[2]);
  printf("hover drift after 1 s: %.3g m\n", drift);
  EXPECT_LT(drift, 1e-3);
  EXPECT_FLOAT_EQ(s.q[0], 1.0f);
}

TEST(QuadHover, OtherModelHovers) {
  sf_quad_params m;
  ASSERT_EQ(sf_quad_params_named("l2f2023", &m), 0);
  // thrust 3.16e-10 rpm^2: hover at sqrt(m g / 4 / 3.16e-10) rpm.
  EXPECT_NEAR(m.hover_motor, std::sqrt(0.027 * 9.81 / 4.0 / 3.16e-10), 0.01);
  sf_quad_state s = hover_state(m);
  float a[4] = {m.hover_action, m.hover_action, m.hover_action, m.hover_action};
  for (int k = 0; k < 100; ++k) sf_quad_step(&m, &s, a);
  EXPECT_LT(std::fabs(s.p[2]), 1e-3);
  EXPECT_EQ(sf_quad_params_named("no-such-model", &m), -1);
}

TEST(QuadDynamics, FreeFallWithZeroThrust) {
  sf_quad_params m = cf21();
  m.thrust_coef[0] = m.thrust_coef[1] = m.thrust_coef[2] = 0.0f;
  sf_quad_state s = hover_state(m);
  s.v[0] = 0.5f;  // a horizontal velocity carries on unchanged
  float a[4] = {0, 0, 0, 0};
  for (int k = 0; k < 100; ++k) sf_quad_step(&m, &s, a);
  double t = 1.0, g = 9.81;
  EXPECT_NEAR(s.p[2], -0.5 * g * t * t, 1e-5 * 0.5 * g);
  EXPECT_NEAR(s.v[2], -g * t, 1e-5 * g);
  EXPECT_NEAR(s.p[0], 0.5, 1e-5);
  EXPECT_EQ(s.w[0], 0.0f);
}

TEST(QuadDynamics, TorqueFreeTumblingConservesAngularMomentum) {
  sf_quad_params m = cf21();
  sf_quad_state s = hover_state(m);
  // Equal motors at their command: no rotor torque (the yaw torques cancel).
  for (int i = 0; i < 4; ++i) s.u[i] = 0.5f;
  float a[4] = {0, 0, 0, 0};
  s.w[0] = 3.0f, s.w[1] = -2.0f, s.w[2] = 5.0f;
  auto L = [&](const sf_quad_state &x) {
    double l = 0;
    for (int k = 0; k < 3; ++k) l += std::pow((double)m.inertia[k] * x.w[k], 2);
    return std::sqrt(l);
  };
  double l0 = L(s), worst = 0;
  for (int k = 0; k < 100; ++k) {
    sf_quad_step(&m, &s, a);
    worst = std::fmax(worst, std::fabs(L(s) - l0) / l0);
  }
  printf("tumbling: |L| relative change over 1 s at most %.3g; w went from (3,-2,5) to (%.3f,%.3f,%.3f)\n", worst,
         s.w[0], s.w[1], s.w[2]);
  EXPECT_LT(worst, 1e-4);
  // It did tumble: the body rates moved (intermediate-axis exchange).
  EXPECT_GT(std::fabs(s.w[0] - 3.0f) + std::fabs(s.w[1] + 2.0f), 0.1);
}

// An independent float64 model from the equations in DESIGN.md, integrated
// with small steps: the "exact" solution for the convergence test.
struct D {
  double x[17];  // p q v w u
};
D deriv64(const sf_quad_params &m, const D &s, const double ucmd[4]) {
  D d;
  const double *p = s.x, *q = s.x + 3, *v = s.x + 7, *w = s.x + 10, *u = s.x + 13;
  (void)p;
  double T = 0, tau[3] = {0, 0, 0};
  for (int i = 0; i < 4; ++i) {
    double f = (double)m.thrust_coef[0] + (double)m.thrust_coef[1] * u[i] + (double)m.thrust_coef[2] * u[i] * u[i];
    T += f;
    tau[0] += (double)m.rotor_pos[i][1] * f;
    tau[1] += -(double)m.rotor_pos[i][0] * f;
    tau[2] += (double)m.yaw_sign[i] * m.yaw_coef * f;
  }
  // R e_z times T: third column of the rotation matrix.
  double r02 = 2 * (q[1] * q[3] + q[0] * q[2]), r12 = 2 * (q[2] * q[3] - q[0] * q[1]),
         r22 = 1 - 2 * (q[1] * q[1] + q[2] * q[2]);
  for (int k = 0; k < 3; ++k) d.x[k] = v[k];
  d.x[3] = 0.5 * (-q[1] * w[0] - q[2] * w[1] - q[3] * w[2]);
  d.x[4] = 0.5 * (q[0] * w[0] + q[2] * w[2] - q[3] * w[1]);
  d.x[5] = 0.5 * (q[0] * w[1] - q[1] * w[2] + q[3] * w[0]);
  d.x[6] = 0.5 * (q[0] * w[2] + q[1] * w[1] - q[2] * w[0]);
  d.x[7] = r02 * T / m.mass + m.gravity[0];
  d.x[8] = r12 * T / m.mass + m.gravity[1];
  d.x[9] = r22 * T / m.mass + m.gravity[2];
  double J[3] = {m.inertia[0], m.inertia[1], m.inertia[2]};
  double Jw[3] = {J[0] * w[0], J[1] * w[1], J[2] * w[2]};
  double c[3] = {w[1] * Jw[2] - w[2] * Jw[1], w[2] * Jw[0] - w[0] * Jw[2], w[0] * Jw[1] - w[1] * Jw[0]};
  for (int k = 0; k < 3; ++k) d.x[10 + k] = (tau[k] - c[k]) / J[k];
  for (int i = 0; i < 4; ++i) d.x[13 + i] = (ucmd[i] - u[i]) / m.motor_tau;
  return d;
}
D rk4_64(const sf_quad_params &m, const D &s, const double ucmd[4], double h) {
  auto add = [](const D &a, double k, const D &b) {
    D r;
    for (int i = 0; i < 17; ++i) r.x[i] = a.x[i] + k * b.x[i];
    return r;
  };
  D k1 = deriv64(m, s, ucmd), k2 = deriv64(m, add(s, h / 2, k1), ucmd), k3 = deriv64(m, add(s, h / 2, k2), ucmd),
    k4 = deriv64(m, add(s, h, k3), ucmd);
  D r;
  for (int i = 0; i < 17; ++i) r.x[i] = s.x[i] + h / 6 * (k1.x[i] + 2 * k2.x[i] + 2 * k3.x[i] + k4.x[i]);
  return r;
}

sf_quad_state tumbling_start() {
  sf_quad_state s;
  memset(&s, 0, sizeof s);
  float q[4] = {0.9f, 0.2f, -0.3f, 0.1f}, n = std::sqrt(0.81f + 0.04f + 0.09f + 0.01f);
  for (int k = 0; k < 4; ++k) s.q[k] = q[k] / n;
  s.v[0] = 0.5f, s.v[1] = -0.2f, s.v[2] = 1.0f;
  s.w[0] = 4.0f, s.w[1] = -3.0f, s.w[2] = 6.0f;
  s.u[0] = 0.45f, s.u[1] = 0.75f, s.u[2] = 0.55f, s.u[3] = 0.35f;
  return s;
}

TEST(QuadDynamics, MatchesIndependentFloat64Model) {
  // The float32 step at the standard dt agrees with the float64 equations.
  sf_quad_params m = cf21();
  sf_quad_state s = tumbling_start();
  const float a[4] = {0.3f, -0.2f, 0.1f, 0.5f};  // u_cmd 0.65, 0.4, 0.55, 0.75
  D r;
  for (int i = 0; i < 17; ++i) r.x[i] = flat(s).x[i];
  double ucmd[4];
  for (int i = 0; i < 4; ++i) ucmd[i] = (a[i] + 1.0) / 2.0;
  for (int k = 0; k < 30; ++k) {
    sf_quad_step(&m, &s, a);
    for (int j = 0; j < 10; ++j) r = rk4_64(m, r, ucmd, 0.001);
  }
  Flat x = flat(s);
  double worst = 0;
  for (int i = 0; i < 17; ++i) worst = std::fmax(worst, std::fabs((double)x.x[i] - r.x[i]));
  printf("float32 dt=0.01 vs float64 reference after 0.3 s: max abs difference %.3g\n", worst);
  EXPECT_LT(worst, 2e-4);
}

TEST(QuadDynamics, FourthOrderConvergence) {
  // A fast spin about the major axis with precession, motors rising towards
  // their command (unequal, so the yaw torque changes): errors large enough to
  // stand above float32 rounding at dt 0.005 yet in the asymptotic regime at
  // 0.02. (A tumble about the intermediate axis amplifies rounding
  // exponentially and hides the truncation error.)
  sf_quad_params m = cf21();
  sf_quad_state s0 = tumbling_start();
  s0.w[0] = 3.0f, s0.w[1] = -2.0f, s0.w[2] = 30.0f;
  s0.u[0] = 0.3f, s0.u[1] = 0.32f, s0.u[2] = 0.3f, s0.u[3] = 0.32f;
  const float a[4] = {0.6f, 0.6f, 0.6f, 0.6f};
  const double T = 1.0;
  D ref;
  for (int i = 0; i < 17; ++i) ref.x[i] = flat(s0).x[i];
  double ucmd[4];
  for (int i = 0; i < 4; ++i) ucmd[i] = (a[i] + 1.0) / 2.0;
  for (int k = 0; k < 16000; ++k) ref = rk4_64(m, ref, ucmd, T / 16000);
  double qn = 0;
  for (int k = 0; k < 4; ++k) qn += ref.x[3 + k] * ref.x[3 + k];
  for (int k = 0; k < 4; ++k) ref.x[3 + k] /= std::sqrt(qn);

  const double dts[3] = {0.02, 0.01, 0.005};
  double err[3];
  for (int j = 0; j < 3; ++j) {
    m.dt = (float)dts[j];
    sf_quad_state s = s0;
    int n = (int)std::lround(T / dts[j]);
    for (int k = 0; k < n; ++k) sf_quad_step(&m, &s, a);
    err[j] = 0;
    Flat x = flat(s);
    for (int i = 0; i < 17; ++i) err[j] = std::fmax(err[j], std::fabs((double)x.x[i] - ref.x[i]));
  }
  double r1 = err[0] / err[1], r2 = err[1] / err[2];
  printf("RK4 error after 1 s: dt 0.02 %.3g, 0.01 %.3g, 0.005 %.3g; ratios %.2f %.2f (fourth order: 16)\n", err[0],
         err[1], err[2], r1, r2);
  EXPECT_GT(r1, 12.0);
  EXPECT_LT(r1, 20.0);
  EXPECT_GT(r2, 12.0);
  EXPECT_LT(r2, 20.0);
}

TEST(QuadParams, ConfigSelectsAndOverrides) {
  sf_config *cfg = sf_cfg_new();
  sf_cfg_set(cfg, "sim.model", "l2f2023");
  sf_cfg_set(cfg, "sim.dt", "0.005");
  sf_cfg_set(cfg, "sim.inertia", "1e-5, 2e-5, 3e-5");
  sf_quad_params m;
  ASSERT_EQ(sf_quad_params_from_config(cfg, &m), 0) << sf_cfg_error(cfg);
  EXPECT_FLOAT_EQ(m.dt, 0.005f);
  EXPECT_FLOAT_EQ(m.motor_max, 21702.0f);
  EXPECT_FLOAT_EQ(m.motor_tau, 0.15f);
  EXPECT_FLOAT_EQ(m.inv_inertia[1], 5e4f);
  EXPECT_EQ(sf_cfg_check_unused(cfg), 0);
  sf_cfg_free(cfg);

  struct Bad {
    const char *key, *value;
  } bad[] = {{"sim.model", "cf3"},         {"sim.dt", "nan"},           {"sim.dt", "-0.01"},
             {"sim.inertia", "1e-5,2e-5"}, {"sim.thrust_coef", "0,0,0"}, {"sim.motor_range", "1,0"},
             {"sim.mass", "heavy"}};
  for (const Bad &b : bad) {
    cfg = sf_cfg_new();
    sf_cfg_set(cfg, b.key, b.value);
    EXPECT_EQ(sf_quad_params_from_config(cfg, &m), -1) << b.key << "=" << b.value;
    ASSERT_NE(sf_cfg_error(cfg), nullptr);
    EXPECT_NE(strstr(sf_cfg_error(cfg), b.key), nullptr) << sf_cfg_error(cfg);
    sf_cfg_free(cfg);
  }
}

}  // namespace
