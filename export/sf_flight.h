/* Flying an SNN actor in the simulator: the trained network's reference
 * forward, or the exported float32 / int8 module as compiled for the host,
 * over a batch of episodes (one environment per episode, each flown until it
 * terminates or reaches the time limit). Used to record the observations
 * that calibrate the quantiser and fill the test vector, and for the
 * closed-loop comparison of the exported variants with the network. */
#ifndef SF_FLIGHT_H
#define SF_FLIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "export/sf_codegen.h"
#include "sim/sf_env.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SF_POLICY_REFERENCE = 0, SF_POLICY_FLOAT32 = 1, SF_POLICY_INT8 = 2 } sf_policy_kind;

/* A recorded flight: obs[steps][n_in], reset[steps] (1 at each episode's
 * first step), episodes concatenated in order; owned (sf_flight_log_free). */
typedef struct {
  float *obs;
  uint8_t *reset;
  int steps;
} sf_flight_log;

void sf_flight_log_free(sf_flight_log *log);

/* Flies `episodes` episodes with seeds from `seed` (the environment agent's
 * key), curriculum progress 1 (the final reward coefficients). returns[e]
 * and lengths[e] receive each episode's return and step count as the
 * episode scorer (sim/sf_score.h) counts them (either may be NULL); log,
 * when not NULL, receives the observations the policy saw.
 * q is needed for SF_POLICY_INT8 only. Returns 0, or -1 when out of memory. */
int sf_flight_run(const sf_env_model *m, sf_policy_kind kind, const sf_snn_net *net, const sf_quant_net *q,
                  int episodes, uint64_t seed, double *returns, int *lengths, sf_flight_log *log);

#ifdef __cplusplus
}
#endif
#endif
