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
    {"device", "device", NULL, "DEV", "cpu | cuda | auto"},
};

static const sf_cmd_spec eval_spec = {
    "eval", "CHECKPOINT", "fly a trained actor from a checkpoint and report mean return, survival and errors",
    eval_flags, (int)SF_ARRAY_LEN(eval_flags), 1, 1,
    "Reported: mean return under the final reward coefficients, survival rate\n"
    "(episodes reaching the time limit), hover error (mean |p - p*| over the last\n"
    "1 s of surviving episodes) and tracking error (mean |p - p*| after the first\n"
    "1 s). The actor flies from the noisy observation, its state reset at each\n"
    "episode start, with no exploration noise."};

int sf_cmd_eval(int argc, char **argv) {
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos, rc = sf_cli_parse(&eval_spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  int user_limit = sf_cfg_has(cfg, "env.time_limit");
  int episodes = (int)sf_cfg_int(cfg, "eval.episodes", 30, 1, 1 << 24);
  int agent = (int)sf_cfg_int(cfg, "eval.agent", 0, 0, 1 << 20);
  int has_seed = sf_cfg_has(cfg, "eval.seed");
  long seed_in = sf_cfg_int(cfg, "eval.seed", 0, 0, 0x7fffffffffffffffL);
  double progress = sf_cfg_float(cfg, "eval.progress", 1.0, 0.0, 1.0);
  const char *csv_key = sf_cfg_str(cfg, "eval.csv", NULL);
  char *csv_path = csv_key ? strdup(csv_key) : NULL;
  int csv_envs = (int)sf_cfg_int(cfg, "eval.csv_envs", 1, 1, 1 << 24);
  /* The flight log reads every step's state on the host: the CPU writes it. */
  const sf_device device = sf_device_from_config(cfg, csv_path == NULL, "evaluation with a flight log (--csv)");
  sf_env_model model;
  sf_env_model_from_config(cfg, &model);
  if ((rc = sf_cli_check(cfg, eval_spec.name)) != 0) {
    sf_cfg_free(cfg);
    free(csv_path);
    return rc;
  }
  sf_cfg_free(cfg);
  if (!user_limit && model.task.traj != SF_TRAJ_HOVER)
    model.task.time_limit = sf_traj_pass_steps(&model);

  char err[1024];
  uint64_t seed = 0;
  sf_actor *a = sf_actor_load(pos[0], agent, &seed, err, sizeof err);
  if (!a) {
    fprintf(stderr, "spikefly eval: %s\n", err);
    free(csv_path);
    return SF_EXIT_USAGE;
  }
  if (err[0]) fprintf(stderr, "spikefly eval: %s\n", err);
  if (has_seed) seed = (uint64_t)seed_in;
  FILE *csv = NULL;
  /* Written beside the target and renamed over it when complete. */
  if (csv_path &&
      (sf_check_output_file(csv_path, err, sizeof err) != 0 || !(csv = sf_afopen(csv_path, err, sizeof err)))) {
    fprintf(stderr, "spikefly eval: %s (eval.csv)\n", err);
    sf_actor_free(a);
    free(csv_path);
    return SF_EXIT_USAGE;
  }
  if (csv) fputs(sf_flight_csv_header, csv);
  sf_eval_stats st;
#ifdef SF_HAVE_CUDA
  if (device == SF_DEVICE_CUDA) {
    rc = sf_cuda_evaluate(a, &model, &seed, episodes, (float)progress, 50, &st, err, sizeof err);
    if (rc) fprintf(stderr, "spikefly eval: %s\n", err);
  } else
#endif
    rc = sf_evaluate(a, &model, &seed, episodes, (float)progress, 50, &st, csv, 0, csv_envs);
  (void)device;
  int csv_failed = csv && sf_afclose(csv, csv_path, rc == 0, err, sizeof err) != 0;
  char desc[128];
  sf_actor_describe(&a->cfg, desc, sizeof desc);
  if (rc == 0) {
    printf("spikefly eval: %s agent %d (%s), trajectory %s, %d episodes of %d steps, seed %llu, on the %s\n", pos[0],
           agent, desc, sf_traj_names[model.task.traj], episodes, model.task.time_limit, (unsigned long long)seed,
           device == SF_DEVICE_CUDA ? "GPU" : "CPU");
    printf("  mean return      %.2f   (final reward coefficients; %.2f at progress %.2f)\n", st.ret_final,
           st.ret_current, progress);
    printf("  survival rate    %.3f  (episodes reaching the time limit; mean length %.1f steps; %.3f lasted the "
           "first 50 steps, the SNN's warm-up)\n",
           st.survival, st.mean_len, st.survive_warmup);
    if (st.survival > 0) {
      printf("  hover error      %.4f m\n  tracking error   %.4f m\n", st.hover_err, st.track_err);
    } else {
      printf("  hover error      n/a (no episode survived)\n  tracking error   n/a\n");
    }
    if (csv_path && !csv_failed) printf("  flights written to %s\n", csv_path);
  }
  sf_actor_free(a);
  if (csv_failed) fprintf(stderr, "spikefly eval: %s; the flights were not written\n", err);
  free(csv_path);
  return rc != 0 || csv_failed ? SF_EXIT_FAIL : SF_EXIT_OK;
}
