/* One quadrotor's dynamics as per-element inline arithmetic (SF_HD): the state
 * derivative, the RK4 step with the motor lag inside the integrator, and the
 * post-step normalisation. The CPU batch loops (sim/sf_env.c) and the CUDA
 * kernels (kernels/sf_env_cuda.cu) both call these, so there is one source of
 * truth for the physics.
 *
 * The operation order follows the Learning-to-Fly simulator (RLtools) term by
 * term, so that a float32 build without fused multiply-add (-ffp-contract=off
 * on the CPU, --fmad=false on the GPU) reproduces its trajectories bit for
 * bit (tests/test_sim_l2f.cc). Keep it that way when editing: (a + b) + c and
 * a + (b + c), x / m and x * (1 / m) differ in float32. */
#ifndef SF_QUAD_MATH_H
#define SF_QUAD_MATH_H

#include <math.h>

#include "core/sf_defs.h"
#include "sim/sf_quad_params.h"

/* One environment's physical state: position (world, m), attitude quaternion
 * (w, x, y, z; body to world), velocity (world, m/s), angular velocity (body,
 * rad/s) and the four motor states (what the thrust curve is evaluated on). */
typedef struct {
  float p[3];
  float q[4];
  float v[3];
  float w[3];
  float u[4];
} sf_quad_state;

/* The state as 17 planes of a structure-of-arrays batch, in this order. */
enum {
  SF_QX_P = 0,
  SF_QX_Q = 3,
  SF_QX_V = 7,
  SF_QX_W = 10,
  SF_QX_U = 13,
  SF_QX_N = 17,
};

SF_HD void sf_quad_load(const float *x, long stride, long i, sf_quad_state *s) {
  for (int k = 0; k < 3; ++k) s->p[k] = x[(SF_QX_P + k) * stride + i];
  for (int k = 0; k < 4; ++k) s->q[k] = x[(SF_QX_Q + k) * stride + i];
  for (int k = 0; k < 3; ++k) s->v[k] = x[(SF_QX_V + k) * stride + i];
  for (int k = 0; k < 3; ++k) s->w[k] = x[(SF_QX_W + k) * stride + i];
  for (int k = 0; k < 4; ++k) s->u[k] = x[(SF_QX_U + k) * stride + i];
}

SF_HD void sf_quad_store(const sf_quad_state *s, float *x, long stride, long i) {
  for (int k = 0; k < 3; ++k) x[(SF_QX_P + k) * stride + i] = s->p[k];
  for (int k = 0; k < 4; ++k) x[(SF_QX_Q + k) * stride + i] = s->q[k];
  for (int k = 0; k < 3; ++k) x[(SF_QX_V + k) * stride + i] = s->v[k];
  for (int k = 0; k < 3; ++k) x[(SF_QX_W + k) * stride + i] = s->w[k];
  for (int k = 0; k < 4; ++k) x[(SF_QX_U + k) * stride + i] = s->u[k];
}

/* Clamp that lets NaN through (so a non-finite action or state is seen by the
 * termination test instead of being hidden). */
SF_HD float sf_clampf(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }

/* Thrust of one rotor (N) at motor state u. */
SF_HD float sf_quad_thrust(const sf_quad_params *m, float u) {
  return m->thrust_coef[0] + m->thrust_coef[1] * u + m->thrust_coef[2] * u * u;
}

/* v rotated by the unit quaternion q: v + 2 q0 (qv x v) + qv x (2 qv x v),
 * in the reference simulator's order. */
SF_HD void sf_quat_rotate(const float q[4], const float v[3], float out[3]) {
  float t[3];
  t[0] = q[2] * v[2] - q[3] * v[1];
  t[1] = q[3] * v[0] - q[1] * v[2];
  t[2] = q[1] * v[1] - q[2] * v[0];
  for (int k = 0; k < 3; ++k) t[k] = t[k] * 2.0f;
  out[0] = q[2] * t[2] - q[3] * t[1];
  out[1] = q[3] * t[0] - q[1] * t[2];
  out[2] = q[1] * t[1] - q[2] * t[0];
  for (int k = 0; k < 3; ++k) out[k] = out[k] + t[k] * q[0];
  for (int k = 0; k < 3; ++k) out[k] = out[k] + v[k];
}

/* Rotation matrix (row-major) of the unit quaternion q. */
SF_HD void sf_quat_to_rot(const float q[4], float r[9]) {
  r[0] = 1.0f - 2.0f * q[2] * q[2] - 2.0f * q[3] * q[3];
  r[1] = 2.0f * q[1] * q[2] - 2.0f * q[0] * q[3];
  r[2] = 2.0f * q[1] * q[3] + 2.0f * q[0] * q[2];
  r[3] = 2.0f * q[1] * q[2] + 2.0f * q[0] * q[3];
  r[4] = 1.0f - 2.0f * q[1] * q[1] - 2.0f * q[3] * q[3];
  r[5] = 2.0f * q[2] * q[3] - 2.0f * q[0] * q[1];
  r[6] = 2.0f * q[1] * q[3] - 2.0f * q[0] * q[2];
  r[7] = 2.0f * q[2] * q[3] + 2.0f * q[0] * q[1];
  r[8] = 1.0f - 2.0f * q[1] * q[1] - 2.0f * q[2] * q[2];
}

/* Quaternion product a (x) b. */
SF_HD void sf_quat_mul(const float a[4], const float b[4], float out[4]) {
  out[0] = a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
  out[1] = a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2];
  out[2] = a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1];
  out[3] = a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0];
}

/* Map actions in [-1,1] (clamped here) to motor commands held over the step:
 * u_cmd = a h + min + h with h = (max - min) / 2. */
SF_HD void sf_quad_command(const sf_quad_params *m, const float a[4], float ucmd[4]) {
  float h = (m->motor_max - m->motor_min) / 2.0f;
  for (int i = 0; i < 4; ++i) ucmd[i] = sf_clampf(a[i], -1.0f, 1.0f) * h + m->motor_min + h;
}

/* The state derivative for motor commands ucmd:
 *   p' = v;  q' = q (x) (0, w) / 2;  v' = R (0, 0, sum f_i) / m + g;
 *   w' = J^-1 (tau - w x J w);  u_i' = (ucmd_i - u_i) / tau_m,
 * with f_i = f(u_i) from the motor state (not the command) and
 * tau = sum r_i x (0, 0, f_i) + sum yaw_sign_i k_m f_i e_z. */
SF_HD void sf_quad_deriv(const sf_quad_params *m, const sf_quad_state *s, const float ucmd[4], sf_quad_state *d) {
  float thrust[3] = {0.0f, 0.0f, 0.0f};
  float tau[3] = {0.0f, 0.0f, 0.0f};
  for (int i = 0; i < 4; ++i) {
    float f = sf_quad_thrust(m, s->u[i]);
    thrust[2] += f;
    tau[2] += m->yaw_sign[i] * (f * m->yaw_coef);
    /* r x (0, 0, f) = (r_y f, -r_x f, 0) */
    tau[0] += m->rotor_pos[i][1] * f;
    tau[1] -= m->rotor_pos[i][0] * f;
  }
  for (int k = 0; k < 3; ++k) d->p[k] = s->v[k];

  const float *q = s->q, *w = s->w;
  d->q[0] = -q[1] * w[0] - q[2] * w[1] - q[3] * w[2];
  d->q[1] = q[0] * w[0] + q[2] * w[2] - q[3] * w[1];
  d->q[2] = q[0] * w[1] + q[3] * w[0] - q[1] * w[2];
  d->q[3] = q[0] * w[2] + q[1] * w[1] - q[2] * w[0];
  for (int k = 0; k < 4; ++k) d->q[k] = d->q[k] * 0.5f;

  sf_quat_rotate(q, thrust, d->v);
  for (int k = 0; k < 3; ++k) d->v[k] = d->v[k] * m->inv_mass;
  for (int k = 0; k < 3; ++k) d->v[k] = d->v[k] + m->gravity[k];

  float jw[3], c[3];
  for (int k = 0; k < 3; ++k) jw[k] = m->inertia[k] * w[k];
  c[0] = w[1] * jw[2] - w[2] * jw[1];
  c[1] = w[2] * jw[0] - w[0] * jw[2];
  c[2] = w[0] * jw[1] - w[1] * jw[0];
  for (int k = 0; k < 3; ++k) d->w[k] = m->inv_inertia[k] * (tau[k] - c[k]);

  for (int i = 0; i < 4; ++i) d->u[i] = (ucmd[i] - s->u[i]) / m->motor_tau;
}

/* out = s + h k over every component (out may alias s). */
SF_HD void sf_quad_axpy(const sf_quad_state *s, float h, const sf_quad_state *k, sf_quad_state *out) {
  for (int i = 0; i < 3; ++i) out->p[i] = s->p[i] + h * k->p[i];
  for (int i = 0; i < 4; ++i) out->q[i] = s->q[i] + h * k->q[i];
  for (int i = 0; i < 3; ++i) out->v[i] = s->v[i] + h * k->v[i];
  for (int i = 0; i < 3; ++i) out->w[i] = s->w[i] + h * k->w[i];
  for (int i = 0; i < 4; ++i) out->u[i] = s->u[i] + h * k->u[i];
}

/* Classic RK4 over dt with the commands held; the motor state is part of the
 * integrated state, so each stage's thrust comes from that stage's motors. */
SF_HD void sf_quad_rk4(const sf_quad_params *m, const sf_quad_state *s, const float ucmd[4], float dt,
                       sf_quad_state *out) {
  sf_quad_state k1, k2, k3, k4, t;
  sf_quad_deriv(m, s, ucmd, &k1);
  sf_quad_axpy(s, dt / 2.0f, &k1, &t);
  sf_quad_deriv(m, &t, ucmd, &k2);
  sf_quad_axpy(s, dt / 2.0f, &k2, &t);
  sf_quad_deriv(m, &t, ucmd, &k3);
  sf_quad_axpy(s, dt, &k3, &t);
  sf_quad_deriv(m, &t, ucmd, &k4);
  sf_quad_axpy(s, dt / 6.0f, &k1, out);
  sf_quad_axpy(out, dt / 3.0f, &k2, out);
  sf_quad_axpy(out, dt / 3.0f, &k3, out);
  sf_quad_axpy(out, dt / 6.0f, &k4, out);
}

/* After the step, and only then: unit quaternion (its sign is left as it is)
 * and motor state clamped to its range. */
SF_HD void sf_quad_post(const sf_quad_params *m, sf_quad_state *s) {
  float n = 0.0f;
  for (int k = 0; k < 4; ++k) n += s->q[k] * s->q[k];
  n = sqrtf(n);
  for (int k = 0; k < 4; ++k) s->q[k] = s->q[k] / n;
  for (int i = 0; i < 4; ++i) s->u[i] = sf_clampf(s->u[i], m->motor_min, m->motor_max);
}

/* One control step: clamp the actions, hold the commands over an RK4 step of
 * m->dt, renormalise and clamp. */
SF_HD void sf_quad_step(const sf_quad_params *m, sf_quad_state *s, const float a[4]) {
  float ucmd[4];
  sf_quad_command(m, a, ucmd);
  sf_quad_state next;
  sf_quad_rk4(m, s, ucmd, m->dt, &next);
  sf_quad_post(m, &next);
  *s = next;
}

#endif
