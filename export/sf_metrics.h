/* NeuroBench-style figures of an SNN actor over evaluation episodes.
 *
 * Definitions (NeuroBench's, per control step = per inference):
 * - footprint: bytes of the parameters (float32 as trained; also the int8
 *   export's constant data);
 * - connection sparsity: zero weights / all weights of fc1..fc3;
 * - activation sparsity: 1 - spikes / (spiking neurons x steps);
 * - synaptic operations: Dense = every connection of every layer, whatever
 *   the input or weight (n_in n_h1 + n_h1 n_h2 + n_h2 n_out); effective
 *   MACs = the nonzero-input x nonzero-weight products of layers whose input
 *   is not binary (fc1, fed the real-valued observation); effective ACs =
 *   the same for layers fed spikes (fc2, fc3): one accumulate per nonzero
 *   weight of each neuron that spiked. Biases are not synaptic operations.
 * Energy per inference, from the Loihi figures:
 *   E = 23.6 pJ x (effective MACs + effective ACs) + 1.7 pJ x spikes
 *       + 81 pJ x neuron updates,
 * a neuron update being every LIF neuron and every readout neuron once per
 * step (n_h1 + n_h2 + n_out). */
#ifndef SF_METRICS_H
#define SF_METRICS_H

#include <stddef.h>

#include "export/sf_flight.h"
#include "export/sf_snn_net.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SF_LOIHI_PJ_PER_SYNOP 23.6
#define SF_LOIHI_PJ_PER_SPIKE 1.7
#define SF_LOIHI_PJ_PER_UPDATE 81.0

typedef struct {
  size_t params;
  size_t footprint_float32, footprint_int8; /* bytes */
  double connection_sparsity;
  int episodes, steps;
  double mean_return, mean_length;
  /* per control step, averaged over every step of every episode */
  double activation_sparsity;
  double spikes1, spikes2; /* spikes of the two LIF layers */
  double dense, eff_macs, eff_acs;
  double neuron_updates;
  double energy_pj;
} sf_metrics;

/* Counts over a recorded observation sequence (the network's own flights):
 * the network is replayed from zero state at every episode start. */
void sf_metrics_replay(const sf_snn_net *net, const sf_flight_log *log, sf_metrics *m);

/* Flies `episodes` episodes (seeds from `seed`), then sf_metrics_replay.
 * Returns 0, or -1 when out of memory. */
int sf_metrics_eval(const sf_env_model *model, const sf_snn_net *net, int episodes, uint64_t seed,
                    sf_metrics *m);

#ifdef __cplusplus
}
#endif
#endif
