/* The quadrotor's static model (MuJoCo's "model" half): mass, geometry,
 * inertia, rotor thrust curve, motor lag, actuator range and time step.
 *
 * Two named sets are data tables in sf_quad_params.c: "cf21" (Crazyflie 2.1,
 * the set the paper's SNN was trained on; the default) and "l2f2023" (the
 * original Learning-to-Fly paper). Config keys under `sim.` select one and
 * override any field. The struct is plain data so it can be passed by value
 * to a CUDA kernel. */
#ifndef SF_QUAD_PARAMS_H
#define SF_QUAD_PARAMS_H

#include "core/sf_config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  float mass;            /* kg */
  float inv_mass;        /* 1/mass, rounded in float as the reference simulator computes it */
  float gravity[3];      /* m/s^2, world frame (z up) */
  float rotor_pos[4][3]; /* m, body frame; thrust acts along body z */
  float yaw_sign[4];     /* +-1: direction of each rotor's reaction torque about body z */
  float inertia[3];      /* kg m^2, diagonal */
  float inv_inertia[3];  /* 1/inertia, from the decimal inertia in double, rounded once */
  float thrust_coef[3];  /* f(u) = c0 + c1 u + c2 u^2 (N) on the motor state u */
  float yaw_coef;        /* yaw torque per newton of thrust (N m / N) */
  float motor_tau;       /* s, first-order motor lag du/dt = (u_cmd - u) / tau */
  float motor_min;       /* motor state range, also the range of u_cmd: */
  float motor_max;       /*   a in [-1,1] maps to u_cmd = a h + min + h, h = (max - min) / 2 */
  float dt;              /* s, one control step = one RK4 step */
  float hover_motor;     /* motor state whose thrust is m g / 4 (root of the thrust curve) */
  float hover_action;    /* the action in [-1,1] that commands hover_motor */
} sf_quad_params;

/* Names of the built-in sets, NULL-terminated; the first is the default. */
extern const char *const sf_quad_model_names[];

/* Fill `m` with the named set (derived fields included). Returns 0, or -1
 * for an unknown name. */
int sf_quad_params_named(const char *name, sf_quad_params *m);

/* Recompute the derived fields (inv_mass, hover_motor, hover_action) after
 * editing the primary ones. Returns 0, or -1 when the thrust curve cannot
 * carry m g / 4 inside the motor range. */
int sf_quad_params_derive(sf_quad_params *m);

/* Set the diagonal inertia and its inverse. The inverse is taken in double
 * on the given (decimal) values and rounded once, as the reference
 * simulator's parameter files do: inverting the float32-rounded inertia
 * instead changes the last bit of 1/Jyy for the cf21 set. */
void sf_quad_params_set_inertia(sf_quad_params *m, const double inertia[3]);

/* The motor state in [motor_min, motor_max] whose thrust is `f`, the root of
 * the thrust polynomial (the larger one for a quadratic), computed in double.
 * Returns NaN when no state in range gives exactly `f`. */
double sf_quad_thrust_inverse(const sf_quad_params *m, double f);

/* Read `sim.model` and the `sim.*` overrides into `m`. Errors are recorded in
 * the config (naming the key); returns 0 or -1. */
int sf_quad_params_from_config(sf_config *cfg, sf_quad_params *m);

#ifdef __cplusplus
}
#endif
#endif
