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

/* What the command was asked to do: its options and config keys. */
typedef struct {
  int fmt;                /* index in formats[] (an sf_export_format) */
  const char *checkpoint; /* CHECKPOINT, or NULL */
  char out[4096], sources[4096];
  int agent, has_random, calib_eps, test_steps, eval_eps;
  long random_seed, env_seed;
  double gain, tolerance;
  sf_env_model model;
} export_opts;

/* export_read_options' answer when the command goes on (else an exit code). */
enum { EXPORT_GO = -1 };

/* Parse the command line and the config into *o. Returns EXPORT_GO, or the
 * exit code: SF_EXIT_OK after --help, SF_EXIT_USAGE for bad options or keys. */
static int export_read_options(int argc, char **argv, export_opts *o) {
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
  memset(o, 0, sizeof *o);
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos;
  int rc = sf_cli_parse(&spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  o->checkpoint = npos == 1 ? pos[0] : NULL;
  o->fmt = sf_cfg_choice(cfg, "export.format", "int8", formats);
  const char *out_key = sf_cfg_str(cfg, "export.out", NULL);
  if (out_key) snprintf(o->out, sizeof o->out, "%s", out_key);
  o->agent = (int)sf_cfg_int(cfg, "export.agent", 0, 0, 1 << 20);
  o->has_random = sf_cfg_has(cfg, "export.random_init");
  o->random_seed = sf_cfg_int(cfg, "export.random_init", 1, 0, 0x7fffffffL);
  o->gain = sf_cfg_float(cfg, "export.random_gain", 1.0, 1e-3, 1e3);
  o->calib_eps = (int)sf_cfg_int(cfg, "export.calib_episodes", 20, 1, 100000);
  o->test_steps = (int)sf_cfg_int(cfg, "export.test_steps", 200, 1, 100000);
  o->env_seed = sf_cfg_int(cfg, "export.seed", 12345, 0, 0x7fffffffL);
  o->eval_eps = (int)sf_cfg_int(cfg, "export.eval_episodes", 30, 0, 100000);
  o->tolerance = sf_cfg_float(cfg, "export.tolerance", 1.0, 0.0, 100.0);
  snprintf(o->sources, sizeof o->sources, "%s", sf_cfg_str(cfg, "export.sources", sf_export_default_sources()));
  sf_env_model_from_config(cfg, &o->model);
  sf_device_from_config(cfg, 0, "the export and its closed-loop check");
  rc = sf_cli_check(cfg, "export") ? SF_EXIT_USAGE : EXPORT_GO;
  sf_cfg_free(cfg);
  return rc;
}

/* One source of the network, and an output directory that can take the
 * export: checked before any flying. Returns 0 or SF_EXIT_USAGE. */
static int export_check_request(const export_opts *o) {
  if (!o->out[0]) {
    fprintf(stderr, "spikefly export: --out DIR is required\n");
    return SF_EXIT_USAGE;
  }
  if ((o->checkpoint != NULL) == (o->has_random != 0)) {
    fprintf(stderr, "spikefly export: give either a CHECKPOINT or --random-init SEED\n");
    return SF_EXIT_USAGE;
  }
  char err[4400];
  if (sf_export_check_dir(o->out, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly export: %s (export.out)\n", err);
    return SF_EXIT_USAGE;
  }
  return 0;
}

/* The network to export: agent K of the checkpoint, or one drawn from the
 * --random-init seed; `origin` says which, for the exported files. It must
 * map observations to actions. Returns 0 or an exit code (net not held). */
static int export_load_network(const export_opts *o, sf_snn_net *net, char *origin, size_t len) {
  char err[4400];
  if (o->checkpoint) {
    if (sf_snn_net_load(net, o->checkpoint, o->agent, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly export: %s\n", err);
      return SF_EXIT_USAGE;
    }
    if (err[0]) fprintf(stderr, "spikefly export: %s\n", err);
    checkpoint_origin(o->checkpoint, o->agent, origin, len);
  } else {
    if (sf_snn_net_alloc(net, SF_OBS_DIM, 256, 128, SF_ACT_DIM) != 0) return SF_EXIT_FAIL;
    sf_snn_net_init_seeded(net, (uint64_t)o->random_seed, (float)o->gain);
    snprintf(origin, len, "drawn from seed %ld, gain %g (not trained)", o->random_seed, o->gain);
  }
  if (net->n_in != SF_OBS_DIM || net->n_out != SF_ACT_DIM) {
    fprintf(stderr, "spikefly export: the network maps %d inputs to %d outputs; a controller needs %d -> %d\n",
            net->n_in, net->n_out, SF_OBS_DIM, SF_ACT_DIM);
    sf_snn_net_free(net);
    return SF_EXIT_USAGE;
  }
  return 0;
}

/* Open loop: the exported module against the trained network on every
 * recorded step, its actions compared element by element. Returns 0, or -1
 * when memory or the module's run failed. */
static int export_compare_open_loop(const export_opts *o, const sf_snn_net *net, const sf_quant_net *q,
                                    const sf_flight_log *log) {
  int rc = -1;
  sf_obs_seq all = {log->obs, log->reset, log->steps};
  float *a_ref = malloc(sizeof(float) * (size_t)log->steps * net->n_out);
  float *a_mod = malloc(sizeof(float) * (size_t)log->steps * net->n_out);
  if (!a_ref || !a_mod) goto done;
  sf_snn_ref_state st;
  if (sf_snn_ref_alloc(&st, net) != 0) goto done;
  for (int t = 0; t < log->steps; ++t) {
    if (log->reset[t]) sf_snn_ref_reset(&st, net);
    sf_snn_ref_step(net, &st, log->obs + (size_t)t * net->n_in, a_ref + (size_t)t * net->n_out);
  }
  sf_snn_ref_free(&st);
  if (sf_export_run_module((sf_export_format)o->fmt, net, q, &all, a_mod, NULL, NULL) != 0) goto done;
  double dmax = 0.0, dsum = 0.0;
  long same = 0, n = (long)log->steps * net->n_out;
  for (long i = 0; i < n; ++i) {
    double dd = fabs((double)a_mod[i] - a_ref[i]);
    dmax = dd > dmax ? dd : dmax;
    dsum += dd;
    same += memcmp(&a_mod[i], &a_ref[i], sizeof(float)) == 0;
  }
  printf("per-step action difference to the network over %d recorded steps (%d episodes): max %.3g, mean %.3g, "
         "bit-identical %ld of %ld\n",
         log->steps, o->calib_eps, dmax, dsum / (double)n, same, n);
  rc = 0;
done:
  free(a_ref);
  free(a_mod);
  return rc;
}

/* Closed loop: the network and the exported variant fly the same eval_eps
 * episodes; their mean returns and the verdict against the tolerance.
 * Returns 0, or -1 when memory or a flight failed. */
static int export_compare_closed_loop(const export_opts *o, const sf_snn_net *net, const sf_quant_net *q) {
  const int n = o->eval_eps;
  double *r = malloc(sizeof(double) * (size_t)n * 2);
  if (!r) return -1;
  uint64_t eval_seed = (uint64_t)o->env_seed + 1;
  if (sf_flight_run(&o->model, SF_POLICY_REFERENCE, net, NULL, n, eval_seed, r, NULL, NULL) != 0 ||
      sf_flight_run(&o->model, o->fmt == SF_EXPORT_INT8 ? SF_POLICY_INT8 : SF_POLICY_FLOAT32, net, q, n, eval_seed,
                    r + n, NULL, NULL) != 0) {
    free(r);
    return -1;
  }
  /* The same episodes (same initial states and noise) flown by both: the
   * per-episode differences are paired. Their spread says how much of the
   * gap is closed-loop divergence (a small action difference that turns a
   * recovery into a crash or back) rather than a bias. */
  double m0 = 0.0, m1 = 0.0, sd = 0.0;
  for (int e = 0; e < n; ++e) {
    m0 += r[e] / n;
    m1 += r[n + e] / n;
  }
  for (int e = 0; e < n; ++e) {
    double d = (r[n + e] - r[e]) - (m1 - m0);
    sd += d * d;
  }
  double se = n > 1 ? sqrt(sd / (n - 1) / n) : 0.0;
  double pct = m0 != 0.0 ? 100.0 / fabs(m0) : 0.0;
  printf("closed loop, %d episodes (the same starts and noise for both): mean return network %.4f, exported "
         "%.4f\n  difference %+.3f %% +- %.3f %% of the network's return (+- the standard error of the paired "
         "per-episode differences)\n",
         n, m0, m1, pct * (m1 - m0), pct * se);
  printf("verdict: the exported %s controller is %s the tolerance of %g %% (export.tolerance)\n", formats[o->fmt],
         fabs(pct * (m1 - m0)) <= o->tolerance ? "within" : "OUTSIDE", o->tolerance);
  free(r);
  return 0;
}

/* Fly the network to record observations, quantise it (int8) on them, write
 * the directory, then check the export open and closed loop. Returns the
 * exit code. */
static int export_network(const export_opts *o, const sf_snn_net *net, const char *origin) {
  char err[4400];
  int status = SF_EXIT_FAIL;
  sf_flight_log log = {0};
  sf_quant_net q = {0};
  if (sf_flight_run(&o->model, SF_POLICY_REFERENCE, net, NULL, o->calib_eps, (uint64_t)o->env_seed, NULL, NULL,
                    &log) != 0) {
    fprintf(stderr, "spikefly export: out of memory flying the network\n");
    goto done;
  }
  if (o->fmt == SF_EXPORT_INT8 && sf_quantise(net, log.obs, (size_t)log.steps, &q, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly export: %s\n", err);
    status = SF_EXIT_USAGE;
    goto done;
  }
  sf_obs_seq test = {log.obs, log.reset, o->test_steps < log.steps ? o->test_steps : log.steps};
  sf_export_spec sp = {(sf_export_format)o->fmt, net, o->fmt == SF_EXPORT_INT8 ? &q : NULL, test, o->sources,
                       origin};
  if (sf_export_write(&sp, o->out, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly export: %s; nothing in '%s' was changed\n", err, o->out);
    goto done;
  }
  printf("exported %s (%s) to %s\n", origin, formats[o->fmt], o->out);
  printf("network %d -> LIF(%d) -> LIF(%d) -> %d; constant data %zu bytes, state %zu bytes\n", net->n_in, net->n_h1,
         net->n_h2, net->n_out, sf_export_flash_bytes((sf_export_format)o->fmt, net),
         sf_export_state_bytes((sf_export_format)o->fmt, net));
  if (export_compare_open_loop(o, net, &q, &log) != 0) goto done;
  if (o->eval_eps > 0 && export_compare_closed_loop(o, net, &q) != 0) goto done;
  status = SF_EXIT_OK;
done:
  sf_quant_free(&q);
  sf_flight_log_free(&log);
  return status;
}

int sf_cmd_export_ctrl(int argc, char **argv) {
  export_opts o;
  int rc = export_read_options(argc, argv, &o);
  if (rc != EXPORT_GO) return rc;
  if ((rc = export_check_request(&o)) != 0) return rc;
  sf_snn_net net;
  char origin[600];
  if ((rc = export_load_network(&o, &net, origin, sizeof origin)) != 0) return rc;
  rc = export_network(&o, &net, origin);
  sf_snn_net_free(&net);
  return rc;
}
