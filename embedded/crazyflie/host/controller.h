/* Host stand-in for the Crazyflie firmware's controller.h: the out-of-tree
 * controller's three functions, as the firmware declares them with
 * CONFIG_CONTROLLER_OOT. */
#ifndef __CONTROLLER_H__
#define __CONTROLLER_H__

#include "stabilizer_types.h"

#ifdef __cplusplus
extern "C" {
#endif

void controllerOutOfTreeInit(void);
bool controllerOutOfTreeTest(void);
void controllerOutOfTree(control_t *control, const setpoint_t *setpoint, const sensorData_t *sensors,
                         const state_t *state, const stabilizerStep_t stabilizerStep);

#ifdef __cplusplus
}
#endif
#endif
