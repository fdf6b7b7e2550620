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
    {"breakdown", "fly.breakdown", "true", NULL, "print where the episodes end: crash rates by the start's tilt, "
                                                 "position, speed, angular speed, and the crashes' times"},
    {"breakdown-csv", "fly.breakdown_csv", NULL, "FILE", "write each episode's start and end as CSV"},
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
    "--breakdown prints where the episodes end, as `spikefly eval --breakdown`\n"
    "does for a trained actor (the same tables, to set side by side).\n"
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

typedef struct {
  sf_eval_opts run;
  sf_env_model model;
  sf_pid pid;
  char model_name[64];
  char *csv_path, *breakdown_csv; /* outlive the config */
  int breakdown;
} fly_opts;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* The options; SF_EXIT_OK, SF_EXIT_USAGE, or -1 after --help. */
static int read_options(int argc, char **argv, fly_opts *o) {
  memset(o, 0, sizeof *o);
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos;
  int rc = sf_cli_parse(&fly_spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? -1 : SF_EXIT_USAGE;
  }
  int user_limit = sf_cfg_has(cfg, "env.time_limit");
  snprintf(o->model_name, sizeof o->model_name, "%s",
           sf_cfg_peek(cfg, "sim.model") ? sf_cfg_peek(cfg, "sim.model") : "cf21");
  sf_cfg_choice(cfg, "fly.controller", "pid", controllers);
  o->run.envs = sf_cfg_int(cfg, "fly.envs", 100, 1, 1L << 24);
  o->run.episodes = sf_cfg_int(cfg, "fly.episodes", 100, 1, 1L << 30);
  o->run.seed = (uint64_t)sf_cfg_int(cfg, "fly.seed", 1, 0, 0x7fffffffffffffffL);
  o->run.progress = (float)sf_cfg_float(cfg, "fly.progress", 1.0, 0.0, 1.0);
  o->csv_path = dup_or_null(sf_cfg_str(cfg, "fly.csv", NULL));
  o->run.trace_envs = sf_cfg_int(cfg, "fly.csv_envs", 1, 1, 1L << 24);
  o->breakdown_csv = dup_or_null(sf_cfg_str(cfg, "fly.breakdown_csv", NULL));
  o->breakdown = sf_cfg_bool(cfg, "fly.breakdown", 0) || o->breakdown_csv;
  sf_env_model_from_config(cfg, &o->model);
  if (!sf_cfg_error(cfg)) sf_pid_from_config(cfg, &o->model.quad, &o->pid);
  sf_device_from_config(cfg, 0, "flying with a flight log");
  rc = sf_cli_check(cfg, fly_spec.name);
  sf_cfg_free(cfg);
  if (!user_limit && o->model.task.traj != SF_TRAJ_HOVER) o->model.task.time_limit = sf_traj_pass_steps(&o->model);
  return rc;
}

/* The output files checked, and the flight CSV opened (written beside its
 * target and renamed over it when complete: a failed write leaves an
 * earlier file as it was). 0 or -1. */
static int open_outputs(fly_opts *o, FILE **csv, csv_sink *sink) {
  char err[600];
  if (o->breakdown_csv && sf_check_output_file(o->breakdown_csv, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly fly: %s (fly.breakdown_csv)\n", err);
    return -1;
  }
  if (!o->csv_path) return 0;
  if (sf_check_output_file(o->csv_path, err, sizeof err) != 0 || !(*csv = sf_afopen(o->csv_path, err, sizeof err))) {
    fprintf(stderr, "spikefly fly: %s (fly.csv)\n", err);
    return -1;
  }
  fputs(sf_flight_csv_header, *csv);
  sink->f = *csv;
  sink->dt = o->model.quad.dt;
  o->run.trace = trace_csv;
  o->run.trace_user = sink;
  return 0;
}

static void print_result(const fly_opts *o, const sf_eval_result *r) {
  const int steps = o->model.task.time_limit;
  printf("spikefly fly: controller pid, trajectory %s, model %s, %ld episodes of %d steps (%.2f s), seed %llu\n",
         sf_traj_names[o->model.task.traj], o->model_name, r->episodes, steps, steps * (double)o->model.quad.dt,
         (unsigned long long)o->run.seed);
  printf("  mean return      %.2f   (reward coefficients at progress %.2f; mean length %.1f steps)\n",
         r->mean_return, o->run.progress, r->mean_length);
  printf("  survival rate    %.3f  (%ld of %ld)\n", (double)r->survived / r->episodes, r->survived, r->episodes);
  if (r->survived) {
    printf("  hover error      %.4f m (mean |p - p*|, last 1 s of surviving episodes)\n", r->hover_error);
    printf("  tracking error   %.4f m (mean |p - p*|, after the first 1 s of surviving episodes)\n",
           r->tracking_error);
  } else {
    printf("  hover error      n/a (no episode survived)\n  tracking error   n/a\n");
  }
}

int sf_cmd_fly(int argc, char **argv) {
  fly_opts o;
  int rc = read_options(argc, argv, &o);
  FILE *csv = NULL;
  csv_sink sink;
  if (rc == 0 && open_outputs(&o, &csv, &sink) != 0) rc = SF_EXIT_USAGE;
  if (rc != 0) {
    free(o.csv_path), free(o.breakdown_csv);
    return rc < 0 ? SF_EXIT_OK : rc;
  }
  sf_breakdown bd = {0};
  if (o.breakdown) o.run.breakdown = &bd;
  sf_eval_result r;
  char err[600];
  if (sf_eval_run(&o.model, sf_pid_policy, &o.pid, &o.run, &r) != 0) {
    fprintf(stderr, "spikefly fly: out of memory for %ld environments\n", o.run.envs);
    if (csv) sf_afclose(csv, o.csv_path, 0, NULL, 0);
    rc = SF_EXIT_FAIL;
  } else {
    int csv_failed = csv && sf_afclose(csv, o.csv_path, 1, err, sizeof err) != 0;
    print_result(&o, &r);
    if (csv_failed)
      fprintf(stderr, "spikefly fly: %s; the flights were not written\n", err);
    else if (o.csv_path)
      printf("  flights written to %s\n", o.csv_path);
    rc = csv_failed ? SF_EXIT_FAIL : SF_EXIT_OK;
    if (o.breakdown && sf_breakdown_report(stdout, &bd, o.breakdown_csv, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly fly: %s (fly.breakdown_csv)\n", err);
      rc = SF_EXIT_FAIL;
    }
  }
  sf_breakdown_free(&bd);
  free(o.csv_path), free(o.breakdown_csv);
  return rc;
}
