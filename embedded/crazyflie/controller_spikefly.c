/* Out-of-tree controller for the Crazyflie firmware running an exported
 * spikefly controller. Build it as an app with CONFIG_CONTROLLER_OOT=y (see
 * README.md beside this file); select it with the parameter
 * stabilizer.controller = 6 (ControllerTypeOot).
 *
 * Every stabilizer tick (1 kHz) it decides with sf_cf_tick: the network
 * steps at 100 Hz on the observation built from the state estimate and the
 * setpoint, its forces are held in between, and the motors are cut while no
 * new setpoint arrives. Motors are commanded in the normalised-force mode
 * (controlModeForce): each of M1..M4 gets (a + 1) / 2 of full thrust. The
 * velocity setpoint is taken in the world frame. */
#include <stdbool.h>
#include <stdint.h>

#include "controller.h"
#include "sf_cf_adapter.h"
#include "sf_ctrl.h"

static sf_cf_adapter adapter;

void controllerOutOfTreeInit(void) {
  sf_cf_adapter_init(&adapter, SF_CF_SETPOINT_TIMEOUT_MS);
  sf_ctrl_reset();
}

bool controllerOutOfTreeTest(void) { return true; }

void controllerOutOfTree(control_t *control, const setpoint_t *setpoint, const sensorData_t *sensors,
                         const state_t *state, const stabilizerStep_t stabilizerStep) {
  const int what = sf_cf_tick(&adapter, stabilizerStep, setpoint->timestamp);
  if (what & SF_CF_STEP) {
    const float pos[3] = {state->position.x, state->position.y, state->position.z};
    const float vel[3] = {state->velocity.x, state->velocity.y, state->velocity.z};
    const float q[4] = {state->attitudeQuaternion.w, state->attitudeQuaternion.x, state->attitudeQuaternion.y,
                        state->attitudeQuaternion.z};
    const float gyro[3] = {sensors->gyro.x, sensors->gyro.y, sensors->gyro.z};
    const float pos_sp[3] = {setpoint->position.x, setpoint->position.y, setpoint->position.z};
    const float vel_sp[3] = {setpoint->velocity.x, setpoint->velocity.y, setpoint->velocity.z};
    float obs[SF_CTRL_OBS], act[SF_CTRL_ACT];
    sf_cf_observation(pos, vel, q, gyro, pos_sp, vel_sp, obs);
    if (what & SF_CF_RESET) sf_ctrl_reset();
    sf_ctrl_step(obs, act);
    sf_cf_forces(act, adapter.force);
  }
  control->controlMode = controlModeForce;
  for (int i = 0; i < 4; ++i) control->normalizedForces[i] = adapter.force[i];
}
