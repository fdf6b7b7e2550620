/* Host stand-in for the Crazyflie firmware's stabilizer_types.h: only the
 * types and fields controller_spikefly.c uses, with the firmware's names and
 * nesting, so the controller compiles unchanged on a host for its tests.
 * The firmware's own header is used on the drone. */
#ifndef __STABILIZER_TYPES_H__
#define __STABILIZER_TYPES_H__

#include <stdbool.h>
#include <stdint.h>

typedef uint32_t stabilizerStep_t;

typedef union {
  struct {
    float x;
    float y;
    float z;
  };
  float axis[3];
} Axis3f;

struct vec3_s {
  uint32_t timestamp;
  float x;
  float y;
  float z;
};
typedef struct vec3_s point_t;
typedef struct vec3_s velocity_t;

typedef struct quaternion_s {
  union {
    struct {
      float q0;
      float q1;
      float q2;
      float q3;
    };
    struct {
      float x;
      float y;
      float z;
      float w;
    };
  };
} quaternion_t;

typedef struct sensorData_s {
  Axis3f gyro; /* deg/s */
} sensorData_t;

typedef struct state_s {
  quaternion_t attitudeQuaternion;
  point_t position;    /* m */
  velocity_t velocity; /* m/s */
} state_t;

#define STABILIZER_NR_OF_MOTORS 4

typedef enum control_mode_e {
  controlModeLegacy = 0,
  controlModeForceTorque = 1,
  controlModeForce = 2,
} control_mode_t;

typedef struct control_s {
  union {
    float normalizedForces[STABILIZER_NR_OF_MOTORS]; /* 0.0 ... 1.0 */
  };
  control_mode_t controlMode;
} control_t;

typedef struct setpoint_s {
  uint32_t timestamp;
  point_t position;    /* m */
  velocity_t velocity; /* m/s */
} setpoint_t;

#endif
