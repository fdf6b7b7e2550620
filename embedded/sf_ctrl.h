/* sf_ctrl: the deployable spiking controller exported by `spikefly export`.
 *
 * One controller per program: the exported weights are bound at compile time
 * (sf_ctrl_weights.h, generated) and the network state lives in static
 * storage, so there is no allocation and nothing to pass around. The network
 * runs one step per control step (100 Hz); call sf_ctrl_reset() at the start
 * of every flight (episode), as in training.
 *
 * Observation (18 floats, as in training): position error p - p* (3, world,
 * m), rotation matrix R body->world (9, row-major), velocity error v - v* (3,
 * world, m/s), angular velocity (3, body, rad/s).
 * World frame: z up (gravity along -z); body frame: x forward, y left, z up
 * (the rotors' thrust along body +z).
 * Motor command (4 floats) in [-1, 1]; rotor i's normalised command is
 * u = (motor[i] + 1) / 2 in [0, 1]: the commanded motor state as a fraction of
 * the motor's range, not a PWM duty cycle or an RPM. In the model trained on
 * (Crazyflie 2.1, "cf21") rotor thrust is f(u) = 0.0213 - 0.0112 u + 0.1201 u^2
 * N, hover needs u = 0.660, and the motor follows u with a 72 ms first-order
 * lag; a firmware maps u to its motor driver through that thrust curve.
 * Rotor order as in the simulator: (+x,-y), (-x,-y), (-x,+y), (+x,+y), the
 * Crazyflie's M1..M4.
 *
 * C99, no library beyond <stdint.h>, <string.h> and (float32 build) <math.h>. */
#ifndef SF_CTRL_H
#define SF_CTRL_H

#ifdef __cplusplus
extern "C" {
#endif

#define SF_CTRL_OBS 18
#define SF_CTRL_ACT 4

void sf_ctrl_reset(void);
void sf_ctrl_step(const float obs[SF_CTRL_OBS], float motor[SF_CTRL_ACT]);

#ifdef __cplusplus
}
#endif
#endif
