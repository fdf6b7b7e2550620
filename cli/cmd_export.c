/* spikefly export: turn one agent of a trained SNN actor checkpoint into a
 * directory of deployable C (see export/sf_codegen.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_defs.h"
#include "core/sf_safetensors.h"
#include "export/sf_codegen.h"
#include "export/sf_flight.h"
#include "export/sf_quant.h"
#include "cli/sf_cli.h"
#include "cli/sf_device.h"

static const char *const formats[] = {"float32", "int8", NULL};

/* "FILE, agent K, epoch E, checksum C": which network a header holds. */
static void checkpoint_origin(const char *path, int agent, char *out, size_t n) {
  char err[512];
  sf_st_file *f = sf_st_open(path, SF_ST_ALLOW_NO_CRC, err, sizeof err);
  const char *epoch = f ? sf_st_meta(f, "spikefly.epoch") : NULL;
  const char *crc = f ? sf_st_meta(f, SF_ST_CONTENT_CRC_KEY) : NULL;
  if (f && !crc) crc = sf_st_meta(f, SF_ST_CRC_KEY);
  snprintf(out, n, "%s, agent %d, epoch %s, checksum %s%s", path, agent, epoch ? epoch : "unknown",
           crc ? crc : "none (not checksummed)", crc ? " (CRC32C)" : "");
  sf_st_close(f);
}

int sf_cmd_export_ctrl(int argc, char **argv) {
  static const sf_flag flags[] = {
      {"format", "export.format", NULL, "float32|int8", "number format of the exported network"},
      {"out", "export.out", NULL, "DIR", "output directory (created if missing)"},
      {"agent", "export.agent", NULL, "K", "which agent of the checkpoint's population"},
      {"random-init", "export.random_init", NULL, "SEED",
       "export a network drawn from SEED instead of a checkpoint (for checking a toolchain)"},
      {"random-gain", "export.random_gain", NULL, "G", "weight gain of --random-init (more: more spikes)"},
      {"calib-episodes", "export.calib_episodes", NULL, "N",
       "episodes flown by the network to record calibration observations"},
      {"test-steps", "export.test_steps", NULL, "N", "steps of recorded observations in the test vector"},
      {"seed", "export.seed", NULL, "SEED", "environment seed of the recorded flights"},
      {"sources", "export.sources", NULL, "DIR", "the embedded module's sources to copy (default: this build's tree)"},
      {"eval-episodes", "export.eval_episodes", NULL, "N",
       "fly the network and the exported variant N episodes each (the same starts) and compare mean returns "
       "(default 30; 0: skip)"},
      {"tolerance", "export.tolerance", NULL, "PCT",
       "the closed-loop return difference (in % of the network's) the verdict accepts (default 1)"},
      {"device", "device", NULL, "DEV", "cpu | auto (this command runs on the CPU; cuda is an error)"},
  };
  static const sf_cmd_spec spec = {
      "export", "[CHECKPOINT]", "export an SNN actor as deployable C (float32 or int8) with a test vector",
      flags, (int)SF_ARRAY_LEN(flags), 0, 1,
      "The directory builds on its own (make; see its README.md). Observations for the\n"
      "int8 calibration and the test vector are recorded by flying the network in the\n"
      "simulator (sim.* and env.* keys apply)."};
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos;
  int rc = sf_cli_parse(&spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  int fmt = sf_cfg_choice(cfg, "export.format", "int8", formats);
  const char *out_key = sf_cfg_str(cfg, "export.out", NULL);
  char out[4096] = "";
  if (out_key) snprintf(out, sizeof out, "%s", out_key);
  int agent = (int)sf_cfg_int(cfg, "export.agent", 0, 0, 1 << 20);
  int has_random = sf_cfg_has(cfg, "export.random_init");
  long random_seed = sf_cfg_int(cfg, "export.random_init", 1, 0, 0x7fffffffL);
  double gain = sf_cfg_float(cfg, "export.random_gain", 1.0, 1e-3, 1e3);
  int calib_eps = (int)sf_cfg_int(cfg, "export.calib_episodes", 20, 1, 100000);
  int test_steps = (int)sf_cfg_int(cfg, "export.test_steps", 200, 1, 100000);
  long env_seed = sf_cfg_int(cfg, "export.seed", 12345, 0, 0x7fffffffL);
  int eval_eps = (int)sf_cfg_int(cfg, "export.eval_episodes", 30, 0, 100000);
  double tolerance = sf_cfg_float(cfg, "export.tolerance", 1.0, 0.0, 100.0);
  char sources[4096];
  snprintf(sources, sizeof sources, "%s", sf_cfg_str(cfg, "export.sources", sf_export_default_sources()));
  sf_env_model model;
  sf_env_model_from_config(cfg, &model);
  sf_device_from_config(cfg, 0, "the export and its closed-loop check");
  if (sf_cli_check(cfg, "export")) {
    sf_cfg_free(cfg);
    return SF_EXIT_USAGE;
  }
  sf_cfg_free(cfg);
  if (!out[0]) {
    fprintf(stderr, "spikefly export: --out DIR is required\n");
    return SF_EXIT_USAGE;
  }
  if ((npos == 1) == (has_random != 0)) {
    fprintf(stderr, "spikefly export: give either a CHECKPOINT or --random-init SEED\n");
    return SF_EXIT_USAGE;
  }
  char err[4400], origin[600];
  if (sf_export_check_dir(out, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly export: %s (export.out)\n", err);
    return SF_EXIT_USAGE;
  }
  sf_snn_net net;
  if (npos == 1) {
    if (sf_snn_net_load(&net, pos[0], agent, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly export: %s\n", err);
      return SF_EXIT_USAGE;
    }
    if (err[0]) fprintf(stderr, "spikefly export: %s\n", err);
    checkpoint_origin(pos[0], agent, origin, sizeof origin);
  } else {
    if (sf_snn_net_alloc(&net, SF_OBS_DIM, 256, 128, SF_ACT_DIM) != 0) return SF_EXIT_FAIL;
    sf_snn_net_init_seeded(&net, (uint64_t)random_seed, (float)gain);
    snprintf(origin, sizeof origin, "drawn from seed %ld, gain %g (not trained)", random_seed, gain);
  }
  if (net.n_in != SF_OBS_DIM || net.n_out != SF_ACT_DIM) {
    fprintf(stderr, "spikefly export: the network maps %d inputs to %d outputs; a controller needs %d -> %d\n",
            net.n_in, net.n_out, SF_OBS_DIM, SF_ACT_DIM);
    sf_snn_net_free(&net);
    return SF_EXIT_USAGE;
  }

  int status = SF_EXIT_FAIL;
  sf_flight_log log = {0};
  sf_quant_net q = {0};
  float *a_ref = NULL, *a_mod = NULL;
  if (sf_flight_run(&model, SF_POLICY_REFERENCE, &net, NULL, calib_eps, (uint64_t)env_seed, NULL, NULL, &log) !=
      0) {
    fprintf(stderr, "spikefly export: out of memory flying the network\n");
    goto done;
  }
  if (fmt == SF_EXPORT_INT8 && sf_quantise(&net, log.obs, (size_t)log.steps, &q, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly export: %s\n", err);
    status = SF_EXIT_USAGE;
    goto done;
  }
  sf_obs_seq test = {log.obs, log.reset, test_steps < log.steps ? test_steps : log.steps};
  sf_export_spec sp = {(sf_export_format)fmt, &net, fmt == SF_EXPORT_INT8 ? &q : NULL, test, sources,
                       origin};
  if (sf_export_write(&sp, out, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly export: %s; nothing in '%s' was changed\n", err, out);
    goto done;
  }
  printf("exported %s (%s) to %s\n", origin, formats[fmt], out);
  printf("network %d -> LIF(%d) -> LIF(%d) -> %d; constant data %zu bytes, state %zu bytes\n", net.n_in, net.n_h1,
         net.n_h2, net.n_out, sf_export_flash_bytes((sf_export_format)fmt, &net),
         sf_export_state_bytes((sf_export_format)fmt, &net));
  /* Open loop: the module against the trained network on every recorded step. */
  sf_obs_seq all = {log.obs, log.reset, log.steps};
  a_ref = malloc(sizeof(float) * (size_t)log.steps * net.n_out);
  a_mod = malloc(sizeof(float) * (size_t)log.steps * net.n_out);
  if (!a_ref || !a_mod) goto done;
  {
    sf_snn_ref_state st;
    if (sf_snn_ref_alloc(&st, &net) != 0) goto done;
    for (int t = 0; t < log.steps; ++t) {
      if (log.reset[t]) sf_snn_ref_reset(&st, &net);
      sf_snn_ref_step(&net, &st, log.obs + (size_t)t * net.n_in, a_ref + (size_t)t * net.n_out);
    }
    sf_snn_ref_free(&st);
  }
  if (sf_export_run_module((sf_export_format)fmt, &net, &q, &all, a_mod, NULL, NULL) != 0) goto done;
  double dmax = 0.0, dsum = 0.0;
  long same = 0, n = (long)log.steps * net.n_out;
  for (long i = 0; i < n; ++i) {
    double dd = fabs((double)a_mod[i] - a_ref[i]);
    dmax = dd > dmax ? dd : dmax;
    dsum += dd;
    same += memcmp(&a_mod[i], &a_ref[i], sizeof(float)) == 0;
  }
  printf("per-step action difference to the network over %d recorded steps (%d episodes): max %.3g, mean %.3g, "
         "bit-identical %ld of %ld\n",
         log.steps, calib_eps, dmax, dsum / (double)n, same, n);
  if (eval_eps > 0) {
    double *r = malloc(sizeof(double) * (size_t)eval_eps * 2);
    if (!r) goto done;
    uint64_t eval_seed = (uint64_t)env_seed + 1;
    if (sf_flight_run(&model, SF_POLICY_REFERENCE, &net, NULL, eval_eps, eval_seed, r, NULL, NULL) != 0 ||
        sf_flight_run(&model, fmt == SF_EXPORT_INT8 ? SF_POLICY_INT8 : SF_POLICY_FLOAT32, &net, &q, eval_eps,
                      eval_seed, r + eval_eps, NULL, NULL) != 0) {
      free(r);
      goto done;
    }
    /* The same episodes (same initial states and noise) flown by both: the
     * per-episode differences are paired. Their spread says how much of the
     * gap is closed-loop divergence (a small action difference that turns a
     * recovery into a crash or back) rather than a bias. */
    double m0 = 0.0, m1 = 0.0, sd = 0.0;
    for (int e = 0; e < eval_eps; ++e) {
      m0 += r[e] / eval_eps;
      m1 += r[eval_eps + e] / eval_eps;
    }
    for (int e = 0; e < eval_eps; ++e) {
      double d = (r[eval_eps + e] - r[e]) - (m1 - m0);
      sd += d * d;
    }
    double se = eval_eps > 1 ? sqrt(sd / (eval_eps - 1) / eval_eps) : 0.0;
    double pct = m0 != 0.0 ? 100.0 / fabs(m0) : 0.0;
    printf("closed loop, %d episodes (the same starts and noise for both): mean return network %.4f, exported "
           "%.4f\n  difference %+.3f %% +- %.3f %% of the network's return (+- the standard error of the paired "
           "per-episode differences)\n",
           eval_eps, m0, m1, pct * (m1 - m0), pct * se);
    printf("verdict: the exported %s controller is %s the tolerance of %g %% (export.tolerance)\n", formats[fmt],
           fabs(pct * (m1 - m0)) <= tolerance ? "within" : "OUTSIDE", tolerance);
    free(r);
  }
  status = SF_EXIT_OK;
done:
  free(a_ref);
  free(a_mod);
  sf_quant_free(&q);
  sf_flight_log_free(&log);
  sf_snn_net_free(&net);
  return status;
}
