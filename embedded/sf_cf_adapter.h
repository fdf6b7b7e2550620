/* The Crazyflie side of an exported controller, as plain C: building the
 * network's observation from the firmware's state estimate, turning its
 * actions into normalised motor forces, stepping it at 100 Hz from the
 * 1 kHz stabilizer loop, and cutting the motors when setpoints stop
 * arriving. embedded/crazyflie/controller_spikefly.c connects this to the
 * firmware's out-of-tree controller interface; everything that converts or
 * decides is here, testable on any host.
 *
 * Frames: the firmware's estimate is in the world frame (x forward, z up)
 * like the simulator's; the rotation matrix is body -> world, row-major;
 * the gyro gives deg/s in the body frame. Motor order M1..M4 is the
 * simulator's rotor order. */
#ifndef SF_CF_ADAPTER_H
#define SF_CF_ADAPTER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SF_CF_LOOP_HZ 1000u /* the stabilizer loop */
#define SF_CF_CTRL_HZ 100u  /* the network's control rate, as in training */
#define SF_CF_SETPOINT_TIMEOUT_MS 200u

/* Observation (18): p - p*, R (row-major), v - v*, gyro in rad/s. q is
 * (w, x, y, z) and need not be normalised (it is, here). */
void sf_cf_observation(const float pos[3], const float vel[3], const float q_wxyz[4], const float gyro_dps[3],
                       const float pos_sp[3], const float vel_sp[3], float obs[18]);

/* Actions in [-1, 1] -> normalised forces (a + 1) / 2, clipped to [0, 1];
 * a non-finite action gives 0 (motor off). */
void sf_cf_forces(const float act[4], float force[4]);

/* What the controller does on a stabilizer tick. */
enum {
  SF_CF_CUT = 0,  /* no recent setpoint: motors off, network idle */
  SF_CF_HOLD = 1, /* between network steps: keep the last forces */
  SF_CF_STEP = 2, /* run the network now */
  SF_CF_RESET = 4 /* with SF_CF_STEP: a new flight, reset the network first */
};

typedef struct {
  uint32_t timeout_ticks;  /* stabilizer ticks without a new setpoint before the cut */
  uint32_t last_timestamp; /* timestamp of the newest setpoint seen */
  uint32_t last_new_tick;  /* stabilizer tick at which it was first seen */
  int seen;                /* a setpoint has been seen */
  int flying;              /* the network is running (not cut) */
  float force[4];          /* forces of the last network step; zero when cut */
} sf_cf_adapter;

/* timeout_ms: setpoint age (in 1 kHz stabilizer ticks = ms) that cuts the motors. */
void sf_cf_adapter_init(sf_cf_adapter *a, uint32_t timeout_ms);

/* Called every stabilizer tick with the current setpoint's timestamp (the
 * firmware stamps every setpoint it receives). Returns SF_CF_CUT,
 * SF_CF_HOLD or SF_CF_STEP (| SF_CF_RESET). The network steps on ticks that
 * are multiples of SF_CF_LOOP_HZ / SF_CF_CTRL_HZ, as the firmware's
 * RATE_DO_EXECUTE(RATE_100_HZ, tick). After a cut, the next step resets the
 * network: a flight starts from zero state, as every training episode. */
int sf_cf_tick(sf_cf_adapter *a, uint32_t tick, uint32_t setpoint_timestamp);

#ifdef __cplusplus
}
#endif
#endif
