/* `spikefly eval CHECKPOINT`: fly a trained actor and report how well. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_defs.h"
#include "core/sf_fileio.h"
#include "rl/sf_actor.h"
#include "cli/sf_cli.h"
#include "cli/sf_device.h"
#include "rl/sf_evaluate.h"
#include "sim/sf_env.h"
#include "sim/sf_eval.h"
#include "sim/sf_pid.h"
#include "sim/sf_trajectory.h"
#ifdef SF_HAVE_CUDA
#include "kernels/sf_evaluate_cuda.h"
#endif

static const sf_flag eval_flags[] = {
    {"trajectory", "env.trajectory", NULL, "NAME", "target: hover|circle|figure8|square"},
    {"episodes", "eval.episodes", NULL, "E", "episodes to fly (default 30, as in training)"},
    {"agent", "eval.agent", NULL, "K", "which agent of a sweep's checkpoint (default 0)"},
    {"seed", "eval.seed", NULL, "S", "seed of the starts and noise (default: the agent's training seed, so the numbers match training's evaluations)"},
    {"steps", "env.time_limit", NULL, "S", "episode length in steps (default: 500 for hover, one pass of the trajectory otherwise)"},
    {"progress", "eval.progress", NULL, "X", "curriculum progress of the 'current' reward coefficients (default 1)"},
    {"csv", "eval.csv", NULL, "FILE", "write the flights as CSV"},
    {"csv-envs", "eval.csv_envs", NULL, "K", "how many episodes the CSV holds (default 1)"},
    {"breakdown", "eval.breakdown", "true", NULL, "print where the episodes end: crash rates by the start's tilt, "
                                                  "position, speed, angular speed, and the crashes' times"},
    {"breakdown-csv", "eval.breakdown_csv", NULL, "FILE", "write each episode's start and end as CSV"},
    {"compare-pid", "eval.compare_pid", "true", NULL, "with the breakdown, fly the reference controller (pid.* gains) "
                                                      "from the same starts and noise, side by side"},
    {"device", "device", NULL, "DEV", "cpu | cuda | auto"},
};

static const sf_cmd_spec eval_spec = {
    "eval", "CHECKPOINT", "fly a trained actor from a checkpoint and report mean return, survival and errors",
    eval_flags, (int)SF_ARRAY_LEN(eval_flags), 1, 1,
    "Reported: mean return under the final reward coefficients, survival rate\n"
    "(episodes reaching the time limit), hover error (mean |p - p*| over the last\n"
    "1 s of surviving episodes) and tracking error (mean |p - p*| after the first\n"
    "1 s). The actor flies from the noisy observation, its state reset at each\n"
    "episode start, with no exploration noise. --breakdown prints where the\n"
    "episodes end (sim/sf_breakdown.h): per bin of the start's tilt, largest\n"
    "position offset, speed, angular speed and time to the termination boundary\n"
    "at the start velocity, the episodes, crashes, crash rate, share of crashes\n"
    "and mean return, and the crashes by time; `spikefly fly --breakdown` prints\n"
    "the same for the reference controller. --compare-pid flies the reference\n"
    "controller from the very same starts, with the same observation noise,\n"
    "and pairs the episodes: how many only the actor crashed, per bin."};

typedef struct {
  int episodes, agent, has_seed, csv_envs, breakdown, compare_pid;
  sf_pid pid;
  long seed;
  double progress;
  char *csv_path, *breakdown_csv; /* outlive the config */
  sf_device device;
  sf_env_model model;
  const char *checkpoint;
} eval_opts;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* The options; SF_EXIT_OK, SF_EXIT_USAGE, or -1 after --help. */
static int read_options(int argc, char **argv, eval_opts *o) {
  memset(o, 0, sizeof *o);
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos, rc = sf_cli_parse(&eval_spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? -1 : SF_EXIT_USAGE;
  }
  o->checkpoint = pos[0];
  int user_limit = sf_cfg_has(cfg, "env.time_limit");
  o->episodes = (int)sf_cfg_int(cfg, "eval.episodes", 30, 1, 1 << 24);
  o->agent = (int)sf_cfg_int(cfg, "eval.agent", 0, 0, 1 << 20);
  o->has_seed = sf_cfg_has(cfg, "eval.seed");
  o->seed = sf_cfg_int(cfg, "eval.seed", 0, 0, 0x7fffffffffffffffL);
  o->progress = sf_cfg_float(cfg, "eval.progress", 1.0, 0.0, 1.0);
  o->csv_path = dup_or_null(sf_cfg_str(cfg, "eval.csv", NULL));
  o->csv_envs = (int)sf_cfg_int(cfg, "eval.csv_envs", 1, 1, 1 << 24);
  o->breakdown_csv = dup_or_null(sf_cfg_str(cfg, "eval.breakdown_csv", NULL));
  o->compare_pid = sf_cfg_bool(cfg, "eval.compare_pid", 0);
  o->breakdown = sf_cfg_bool(cfg, "eval.breakdown", 0) || o->breakdown_csv || o->compare_pid;
  /* A flight log or a breakdown reads every step's state on the host: the CPU writes it. */
  o->device = sf_device_from_config(cfg, !o->csv_path && !o->breakdown,
                                    "evaluation with a flight log (--csv) or a breakdown (--breakdown)");
  sf_env_model_from_config(cfg, &o->model);
  if (o->compare_pid && !sf_cfg_error(cfg)) sf_pid_from_config(cfg, &o->model.quad, &o->pid);
  rc = sf_cli_check(cfg, eval_spec.name);
  sf_cfg_free(cfg);
  if (!user_limit && o->model.task.traj != SF_TRAJ_HOVER) o->model.task.time_limit = sf_traj_pass_steps(&o->model);
  return rc;
}

static void print_stats(const eval_opts *o, const sf_actor *a, uint64_t seed, const sf_eval_stats *st) {
  char desc[128];
  sf_actor_describe(&a->cfg, desc, sizeof desc);
  printf("spikefly eval: %s agent %d (%s), trajectory %s, %d episodes of %d steps, seed %llu, on the %s\n",
         o->checkpoint, o->agent, desc, sf_traj_names[o->model.task.traj], o->episodes, o->model.task.time_limit,
         (unsigned long long)seed, o->device == SF_DEVICE_CUDA ? "GPU" : "CPU");
  printf("  mean return      %.2f   (final reward coefficients; %.2f at progress %.2f)\n", st->ret_final,
         st->ret_current, o->progress);
  printf("  survival rate    %.3f  (episodes reaching the time limit; mean length %.1f steps; %.3f lasted the "
         "first 50 steps, the SNN's warm-up)\n",
         st->survival, st->mean_len, st->survive_warmup);
  if (st->survival > 0) {
    printf("  hover error      %.4f m\n  tracking error   %.4f m\n", st->hover_err, st->track_err);
  } else {
    printf("  hover error      n/a (no episode survived)\n  tracking error   n/a\n");
  }
}

/* Fly the actor; the CSV (if any) is open. 0 or -1 (message printed). */
static int fly(const eval_opts *o, sf_actor *a, uint64_t *seed, FILE *csv, sf_breakdown *bd, sf_eval_stats *st) {
  char err[1024];
#ifdef SF_HAVE_CUDA
  if (o->device == SF_DEVICE_CUDA) {
    int rc = sf_cuda_evaluate(a, &o->model, seed, o->episodes, (float)o->progress, 50, st, err, sizeof err);
    if (rc) fprintf(stderr, "spikefly eval: %s\n", err);
    return rc ? -1 : 0;
  }
#endif
  const sf_evaluate_log log = {csv, 0, o->csv_envs, o->breakdown ? bd : NULL, 0};
  if (sf_evaluate_logged(a, &o->model, seed, o->episodes, (float)o->progress, 50, st, &log) == 0) return 0;
  snprintf(err, sizeof err, "out of memory for %d episodes", o->episodes);
  fprintf(stderr, "spikefly eval: %s\n", err);
  return -1;
}

/* The reference controller from the actor's starts: the same environment
 * seed (sf_evaluate's), one env per episode, as sf_evaluate flies them. */
static int compare_pid(const eval_opts *o, uint64_t seed, const sf_breakdown *bd) {
  sf_breakdown pid_bd = {0};
  sf_eval_opts run = {0};
  run.envs = run.episodes = o->episodes;
  run.seed = sf_eval_seed(seed);
  run.progress = (float)o->progress;
  run.breakdown = &pid_bd;
  sf_eval_result r;
  char err[512];
  int rc = sf_eval_run(&o->model, sf_pid_policy, (void *)&o->pid, &run, &r);
  if (rc != 0) snprintf(err, sizeof err, "out of memory for %d episodes of the reference controller", o->episodes);
  else rc = sf_breakdown_print_paired(stdout, bd, "actor", &pid_bd, "pid", err, sizeof err);
  if (rc != 0) fprintf(stderr, "spikefly eval: %s\n", err);
  sf_breakdown_free(&pid_bd);
  return rc;
}

/* The breakdown's table and CSV, and the reference controller's beside it.
 * 0, or -1 (message printed). */
static int write_breakdown(const eval_opts *o, uint64_t seed, const sf_breakdown *bd) {
  char err[1024];
  if (sf_breakdown_report(stdout, bd, o->breakdown_csv, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly eval: %s (eval.breakdown_csv)\n", err);
    return -1;
  }
  return o->compare_pid ? compare_pid(o, seed, bd) : 0;
}

/* The output files checked, and the flight CSV opened (written beside its
 * target and renamed over it when complete), before flying. 0 or -1. */
static int open_outputs(const eval_opts *o, FILE **csv) {
  char err[1024];
  if (o->breakdown_csv && sf_check_output_file(o->breakdown_csv, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly eval: %s (eval.breakdown_csv)\n", err);
    return -1;
  }
  if (o->csv_path &&
      (sf_check_output_file(o->csv_path, err, sizeof err) != 0 || !(*csv = sf_afopen(o->csv_path, err, sizeof err)))) {
    fprintf(stderr, "spikefly eval: %s (eval.csv)\n", err);
    return -1;
  }
  if (*csv) fputs(sf_flight_csv_header, *csv);
  return 0;
}

static void free_opts(eval_opts *o) { free(o->csv_path), free(o->breakdown_csv); }

int sf_cmd_eval(int argc, char **argv) {
  eval_opts o;
  int rc = read_options(argc, argv, &o);
  if (rc != 0) {
    free_opts(&o);
    return rc < 0 ? SF_EXIT_OK : rc;
  }
  char err[1024];
  uint64_t seed = 0;
  sf_actor *a = sf_actor_load(o.checkpoint, o.agent, &seed, err, sizeof err);
  if (!a) {
    fprintf(stderr, "spikefly eval: %s\n", err);
    free_opts(&o);
    return SF_EXIT_USAGE;
  }
  if (err[0]) fprintf(stderr, "spikefly eval: %s\n", err);
  if (o.has_seed) seed = (uint64_t)o.seed;
  FILE *csv = NULL;
  if (open_outputs(&o, &csv) != 0) {
    sf_actor_free(a);
    free_opts(&o);
    return SF_EXIT_USAGE;
  }
  sf_eval_stats st;
  sf_breakdown bd = {0};
  rc = fly(&o, a, &seed, csv, &bd, &st);
  int csv_failed = csv && sf_afclose(csv, o.csv_path, rc == 0, err, sizeof err) != 0;
  if (rc == 0) {
    print_stats(&o, a, seed, &st);
    if (o.csv_path && !csv_failed) printf("  flights written to %s\n", o.csv_path);
    if (o.breakdown && write_breakdown(&o, seed, &bd) != 0) rc = -1;
  }
  sf_actor_free(a);
  sf_breakdown_free(&bd);
  if (csv_failed) fprintf(stderr, "spikefly eval: %s; the flights were not written\n", err);
  free_opts(&o);
  return rc != 0 || csv_failed ? SF_EXIT_FAIL : SF_EXIT_OK;
}
