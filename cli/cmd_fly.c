/* `spikefly fly`: fly the reference controller in the simulator and report
 * mean return, survival rate, hover and tracking errors; optionally write
 * the flights as CSV. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_defs.h"
#include "core/sf_fileio.h"
#include "cli/sf_cli.h"
#include "cli/sf_device.h"
#include "sim/sf_env.h"
#include "sim/sf_eval.h"
#include "sim/sf_pid.h"

static const char *const controllers[] = {"pid", NULL};

static const sf_flag fly_flags[] = {
    {"controller", "fly.controller", NULL, "NAME", "controller to fly: pid (cascaded reference controller)"},
    {"trajectory", "env.trajectory", NULL, "NAME", "target: hover|circle|figure8|square"},
    {"envs", "fly.envs", NULL, "N", "environments flown in parallel (default 100)"},
    {"episodes", "fly.episodes", NULL, "E", "episodes to fly (default 100)"},
    {"steps", "env.time_limit", NULL, "S", "episode length in steps (default: 500 for hover, one pass of the trajectory otherwise)"},
    {"seed", "fly.seed", NULL, "S", "random seed: starts and observation noise (default 1)"},
    {"progress", "fly.progress", NULL, "X", "curriculum progress of the reward coefficients, 0..1 (default 1: final)"},
    {"csv", "fly.csv", NULL, "FILE", "write the flights as CSV (one row per env and step)"},
    {"csv-envs", "fly.csv_envs", NULL, "K", "how many envs the CSV holds (default 1: env 0)"},
    {"device", "device", NULL, "DEV", "cpu | auto (this command runs on the CPU; cuda is an error)"},
};

static const sf_cmd_spec fly_spec = {
    "fly", NULL, "fly the reference controller in the simulator and report how well it flies", fly_flags,
    (int)SF_ARRAY_LEN(fly_flags), 0, 0,
    "Every episode starts from the reset distribution (env.reset_*) around the\n"
    "target, and the controller sees the same noisy 18-value observation a policy\n"
    "sees (env.noise_*) plus the motor states. Reported, over all episodes:\n"
    "  mean return     sum of the per-step reward until termination or the time\n"
    "                  limit, with the reward coefficients at --progress (a perfect\n"
    "                  500-step hover earns 500)\n"
    "  survival rate   fraction of episodes that reach the time limit without\n"
    "                  terminating (|p - p*| > env.term_pos on any axis)\n"
    "  hover error     mean |p - p*| (m) over the last 1 s of surviving episodes:\n"
    "                  how well the target is held once reached\n"
    "  tracking error  mean |p - p*| (m) from t = 1 s to the end of surviving\n"
    "                  episodes: how well a moving target is followed (the first\n"
    "                  second is the recovery from the random start)\n"
    "The CSV has one row per env and step: episode, env, step, t, the true state\n"
    "(p, q, v, w, motors), the target (p*, v*), the actions and the reward.\n"
    "Other keys: sim.* (model), env.* (task), pid.* (gains)."};

typedef struct {
  FILE *f;
  double dt;
} csv_sink;

/* Writes one CSV row per traced env and step. */
static void trace_csv(void *user, long episode, long env, int step, const sf_quad_state *s, const float tp[3],
                      const float tv[3], const float a[4], float reward) {
  const csv_sink *k = user;
  sf_flight_csv_row(k->f, episode, env, step, k->dt, s, tp, tv, a, reward);
}

int sf_cmd_fly(int argc, char **argv) {
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos;
  int rc = sf_cli_parse(&fly_spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  int user_limit = sf_cfg_has(cfg, "env.time_limit");
  char model_name[64];
  snprintf(model_name, sizeof model_name, "%s", sf_cfg_peek(cfg, "sim.model") ? sf_cfg_peek(cfg, "sim.model") : "cf21");
  sf_cfg_choice(cfg, "fly.controller", "pid", controllers);
  sf_eval_opts opts = {0};
  opts.envs = sf_cfg_int(cfg, "fly.envs", 100, 1, 1L << 24);
  opts.episodes = sf_cfg_int(cfg, "fly.episodes", 100, 1, 1L << 30);
  opts.seed = (uint64_t)sf_cfg_int(cfg, "fly.seed", 1, 0, 0x7fffffffffffffffL);
  opts.progress = (float)sf_cfg_float(cfg, "fly.progress", 1.0, 0.0, 1.0);
  const char *csv_key = sf_cfg_str(cfg, "fly.csv", NULL);
  char *csv_path = csv_key ? strdup(csv_key) : NULL; /* outlives the config */
  opts.trace_envs = sf_cfg_int(cfg, "fly.csv_envs", 1, 1, 1L << 24);
  sf_env_model model;
  sf_env_model_from_config(cfg, &model);
  sf_pid pid;
  if (!sf_cfg_error(cfg)) sf_pid_from_config(cfg, &model.quad, &pid);
  sf_device_from_config(cfg, 0, "flying with a flight log");
  if ((rc = sf_cli_check(cfg, fly_spec.name)) != 0) {
    sf_cfg_free(cfg);
    free(csv_path);
    return rc;
  }
  sf_cfg_free(cfg);

  const float dt = model.quad.dt;
  if (!user_limit && model.task.traj != SF_TRAJ_HOVER)
    model.task.time_limit = sf_traj_pass_steps(&model);

  FILE *csv = NULL;
  csv_sink sink;
  char err[600];
  if (csv_path) {
    /* Written beside the target and renamed over it when complete: a failed
     * write leaves an earlier file as it was. */
    if (sf_check_output_file(csv_path, err, sizeof err) != 0 || !(csv = sf_afopen(csv_path, err, sizeof err))) {
      fprintf(stderr, "spikefly fly: %s (fly.csv)\n", err);
      free(csv_path);
      return SF_EXIT_USAGE;
    }
    fputs(sf_flight_csv_header, csv);
    sink.f = csv;
    sink.dt = dt;
    opts.trace = trace_csv;
    opts.trace_user = &sink;
  }

  sf_eval_result r;
  if (sf_eval_run(&model, sf_pid_policy, &pid, &opts, &r) != 0) {
    fprintf(stderr, "spikefly fly: out of memory for %ld environments\n", opts.envs);
    if (csv) sf_afclose(csv, csv_path, 0, NULL, 0);
    free(csv_path);
    return SF_EXIT_FAIL;
  }
  int csv_failed = csv && sf_afclose(csv, csv_path, 1, err, sizeof err) != 0;

  int steps = model.task.time_limit;
  printf("spikefly fly: controller pid, trajectory %s, model %s, %ld episodes of %d steps (%.2f s), seed %llu\n",
         sf_traj_names[model.task.traj], model_name, r.episodes, steps, steps * (double)dt,
         (unsigned long long)opts.seed);
  printf("  mean return      %.2f   (reward coefficients at progress %.2f; mean length %.1f steps)\n",
         r.mean_return, opts.progress, r.mean_length);
  printf("  survival rate    %.3f  (%ld of %ld)\n", (double)r.survived / r.episodes, r.survived, r.episodes);
  if (r.survived) {
    printf("  hover error      %.4f m (mean |p - p*|, last 1 s of surviving episodes)\n", r.hover_error);
    printf("  tracking error   %.4f m (mean |p - p*|, after the first 1 s of surviving episodes)\n",
           r.tracking_error);
  } else {
    printf("  hover error      n/a (no episode survived)\n  tracking error   n/a\n");
  }
  if (csv_failed)
    fprintf(stderr, "spikefly fly: %s; the flights were not written\n", err);
  else if (csv_path)
    printf("  flights written to %s\n", csv_path);
  free(csv_path);
  return csv_failed ? SF_EXIT_FAIL : SF_EXIT_OK;
}
