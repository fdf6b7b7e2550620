/* spikefly metrics: NeuroBench-style figures of an SNN actor (one agent of a
 * checkpoint) over evaluation episodes, with a Loihi energy estimate. */
#include <stdio.h>
#include <string.h>

#include "core/sf_defs.h"
#include "export/sf_metrics.h"
#include "cli/sf_cli.h"
#include "cli/sf_device.h"

int sf_cmd_metrics(int argc, char **argv) {
  static const sf_flag flags[] = {
      {"agent", "metrics.agent", NULL, "K", "which agent of the checkpoint's population"},
      {"random-init", "metrics.random_init", NULL, "SEED", "measure a network drawn from SEED instead of a checkpoint"},
      {"random-gain", "metrics.random_gain", NULL, "G", "weight gain of --random-init"},
      {"episodes", "metrics.episodes", NULL, "N", "evaluation episodes"},
      {"seed", "metrics.seed", NULL, "SEED", "environment seed of the evaluation episodes"},
      {"device", "device", NULL, "DEV", "cpu | auto (this command runs on the CPU; cuda is an error)"},
  };
  static const sf_cmd_spec spec = {
      "metrics", "[CHECKPOINT]", "NeuroBench-style footprint, sparsity, synaptic operations and energy of an SNN actor",
      flags, (int)SF_ARRAY_LEN(flags), 0, 1,
      "Counts are per control step (one inference), averaged over every step of the\n"
      "evaluation episodes, the network flying in the simulator (sim.* and env.* keys apply)."};
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos;
  int rc = sf_cli_parse(&spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  int agent = (int)sf_cfg_int(cfg, "metrics.agent", 0, 0, 1 << 20);
  int has_random = sf_cfg_has(cfg, "metrics.random_init");
  long random_seed = sf_cfg_int(cfg, "metrics.random_init", 1, 0, 0x7fffffffL);
  double gain = sf_cfg_float(cfg, "metrics.random_gain", 1.0, 1e-3, 1e3);
  int episodes = (int)sf_cfg_int(cfg, "metrics.episodes", 100, 1, 100000);
  long env_seed = sf_cfg_int(cfg, "metrics.seed", 777, 0, 0x7fffffffL);
  sf_env_model model;
  sf_env_model_from_config(cfg, &model);
  sf_device_from_config(cfg, 0, "the metrics");
  if (sf_cli_check(cfg, "metrics")) {
    sf_cfg_free(cfg);
    return SF_EXIT_USAGE;
  }
  sf_cfg_free(cfg);
  if ((npos == 1) == (has_random != 0)) {
    fprintf(stderr, "spikefly metrics: give either a CHECKPOINT or --random-init SEED\n");
    return SF_EXIT_USAGE;
  }
  char err[512];
  sf_snn_net net;
  if (npos == 1) {
    if (sf_snn_net_load(&net, pos[0], agent, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly metrics: %s\n", err);
      return SF_EXIT_USAGE;
    }
    if (err[0]) fprintf(stderr, "spikefly metrics: %s\n", err);
    printf("network: %s, agent %d\n", pos[0], agent);
  } else {
    if (sf_snn_net_alloc(&net, SF_OBS_DIM, 256, 128, SF_ACT_DIM) != 0) return SF_EXIT_FAIL;
    sf_snn_net_init_seeded(&net, (uint64_t)random_seed, (float)gain);
    printf("network: drawn from seed %ld, gain %g (not trained)\n", random_seed, gain);
  }
  if (net.n_in != SF_OBS_DIM || net.n_out != SF_ACT_DIM) {
    fprintf(stderr, "spikefly metrics: the network maps %d inputs to %d outputs; the simulator needs %d -> %d\n",
            net.n_in, net.n_out, SF_OBS_DIM, SF_ACT_DIM);
    sf_snn_net_free(&net);
    return SF_EXIT_USAGE;
  }
  sf_metrics m;
  if (sf_metrics_eval(&model, &net, episodes, (uint64_t)env_seed, &m) != 0) {
    fprintf(stderr, "spikefly metrics: out of memory\n");
    sf_snn_net_free(&net);
    return SF_EXIT_FAIL;
  }
  printf("shape: %d -> LIF(%d) -> LIF(%d) -> %d, %zu parameters\n", net.n_in, net.n_h1, net.n_h2, net.n_out,
         m.params);
  printf("evaluation: %d episodes, %d control steps, mean return %.3f, mean length %.1f steps\n", m.episodes,
         m.steps, m.mean_return, m.mean_length);
  printf("footprint: %zu bytes (float32), %zu bytes (int8 export's constant data)\n", m.footprint_float32,
         m.footprint_int8);
  printf("connection sparsity: %.4f\n", m.connection_sparsity);
  printf("activation sparsity: %.4f (spikes per step: lif1 %.2f of %d, lif2 %.2f of %d)\n", m.activation_sparsity,
         m.spikes1, net.n_h1, m.spikes2, net.n_h2);
  printf("synaptic operations per step: dense %.0f, effective MACs %.1f, effective ACs %.1f\n", m.dense, m.eff_macs,
         m.eff_acs);
  printf("energy per inference (Loihi): E = %.1f pJ x (MACs + ACs) + %.1f pJ x spikes + %.0f pJ x neuron updates\n",
         SF_LOIHI_PJ_PER_SYNOP, SF_LOIHI_PJ_PER_SPIKE, SF_LOIHI_PJ_PER_UPDATE);
  printf("  = %.1f x %.1f + %.1f x %.2f + %.0f x %.0f = %.1f pJ = %.3f nJ\n", SF_LOIHI_PJ_PER_SYNOP,
         m.eff_macs + m.eff_acs, SF_LOIHI_PJ_PER_SPIKE, m.spikes1 + m.spikes2, SF_LOIHI_PJ_PER_UPDATE,
         m.neuron_updates, m.energy_pj, m.energy_pj / 1000.0);
  sf_snn_net_free(&net);
  return SF_EXIT_OK;
}
