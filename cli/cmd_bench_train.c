/* `spikefly bench train`: training throughput of the trainer for populations
 * of P agents, on the CPU or the GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/sf_cli.h"
#include "cli/sf_device.h"
#include "core/sf_defs.h"
#include "rl/sf_backend.h"

int sf_cmd_bench_train(int argc, char **argv);

static const sf_flag train_flags[] = {
    {"device", "bench.device", NULL, "DEV", "cpu or cuda (default cpu)"},
    {"agents", "bench.populations", NULL, "LIST", "population sizes P measured one after another (default 1,8)"},
    {"updates", "bench.updates", NULL, "U", "updates timed per population (default 20)"},
};

static const sf_cmd_spec train_spec = {
    "bench train", "", "measure the trainer's collection and update throughput for populations of agents",
    train_flags, (int)SF_ARRAY_LEN(train_flags), 0, 0,
    "For each P: one epoch's collection (environment steps per second, all\n"
    "agents together, with the actor and the guide in the loop), then U timed\n"
    "updates after 2 x policy_delay untimed ones (on the GPU the first update of\n"
    "each kind sizes its workspaces and the next is captured as a CUDA graph).\n"
    "One update is one iteration for every agent: sequence gather, critic\n"
    "update and every policy_delay-th time the actor update through time, Adam\n"
    "and Polyak. Each P > 1 is also given as its update time over P = 1's.\n"
    "Settings: the train.* and model.* keys (e.g. --config configs/paper.ini),\n"
    "with the reference controller as guide and a replay buffer of 100000 rows\n"
    "per agent unless set."};

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Collection env steps/s and seconds per update for P agents, through the
 * backend interface a training run uses. 0 or -1. */
static int measure(const sf_train_settings *s, const sf_agent_settings *a, const sf_env_model *m, int P, int cuda,
                   int updates, double *steps_s, double *update_s) {
  sf_agent_settings *agents = malloc(sizeof *agents * P);
  for (int p = 0; p < P; ++p) {
    agents[p] = *a;
    agents[p].seed = (uint64_t)p;
  }
  char err[512];
  sf_trainer *t = sf_trainer_new(s, agents, P, m, err, sizeof err);
  free(agents);
  sf_backend *b = t ? sf_backend_open(cuda ? SF_DEVICE_CUDA : SF_DEVICE_CPU, t, err, sizeof err) : NULL;
  sf_plan plan;
  if (!b || sf_plan_init(&plan, P) != 0) {
    fprintf(stderr, "spikefly bench train: %s\n", err);
    sf_trainer_free(t);
    return -1;
  }
  sf_plan_make(t, 0, &plan);
  int rc = -1, done = 0;
  sf_update_stats *acc = calloc(P, sizeof *acc);
  const double t0 = now_s();
  if (b->ops->collect(b, &plan) != 0) goto out;
  const double t1 = now_s();
  plan.updates = 2 * plan.shape.policy_delay; /* untimed: workspaces sized, graphs captured */
  if (b->ops->update(b, &plan, acc, &done) != 0) goto out;
  const double t2 = now_s();
  plan.updates = updates;
  if (b->ops->update(b, &plan, acc, &done) != 0) goto out;
  if (done < updates) {
    fprintf(stderr, "spikefly bench train: the buffer holds no full sequence after one epoch's collection "
                    "(raise train.collect_steps)\n");
    goto out;
  }
  *update_s = (now_s() - t2) / updates;
  *steps_s = (double)P * s->envs * s->collect_steps / (t1 - t0);
  rc = 0;
out:
  sf_plan_free(&plan);
  sf_backend_free(b);
  free(acc);
  sf_trainer_free(t);
  return rc;
}

int sf_cmd_bench_train(int argc, char **argv) {
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos, rc = sf_cli_parse(&train_spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  static const char *const devices[] = {"cpu", "cuda", NULL};
  const int cuda = sf_cfg_choice(cfg, "bench.device", "cpu", devices) == 1;
  char list[256];
  snprintf(list, sizeof list, "%s", sf_cfg_str(cfg, "bench.populations", "1,8"));
  const int updates = (int)sf_cfg_int(cfg, "bench.updates", 20, 1, 1 << 24);
  int sizes[32], nsizes = 0;
  for (char *tok = strtok(list, ","); tok && !sf_cfg_error(cfg); tok = strtok(NULL, ",")) {
    char *end;
    long P = strtol(tok, &end, 10);
    if (*end || P < 1 || P > 4096 || nsizes == 32)
      sf_cfg_fail(cfg, "config key 'bench.populations': '%s' is not a list of up to 32 counts in [1, 4096]", tok);
    else sizes[nsizes++] = (int)P;
  }
  if (!sf_cfg_has(cfg, "train.guide")) sf_cfg_set(cfg, "train.guide", "pid");
  if (!sf_cfg_has(cfg, "train.buffer")) sf_cfg_set(cfg, "train.buffer", "100000");
  sf_train_settings s;
  sf_train_settings_read(cfg, &s);
  sf_agent_settings a;
  sf_agent_settings_read(cfg, &a);
  sf_env_model model;
  sf_env_model_from_config(cfg, &model);
  if ((rc = sf_cli_check(cfg, train_spec.name)) != 0) {
    sf_cfg_free(cfg);
    return rc;
  }
  sf_cfg_free(cfg);
#ifndef SF_HAVE_CUDA
  if (cuda) {
    fprintf(stderr, "spikefly bench train: this build has no CUDA backend\n");
    return SF_EXIT_FAIL;
  }
#endif
  printf("spikefly bench train: %s, %d envs x %d steps per agent, batch %d x %d steps, %d timed updates\n",
         cuda ? "cuda" : "cpu", s.envs, s.collect_steps, s.batch, s.seq_len, updates);
  printf("%6s %22s %12s %18s %10s\n", "agents", "collect env steps/s", "update ms", "agent-updates/s", "vs P=1");
  double base = 0;
  for (int i = 0; i < nsizes; ++i) {
    double steps_s, update_s;
    if (measure(&s, &a, &model, sizes[i], cuda, updates, &steps_s, &update_s) != 0) return SF_EXIT_FAIL;
    if (sizes[i] == 1) base = update_s;
    char ratio[32] = "";
    if (sizes[i] > 1 && base > 0) snprintf(ratio, sizeof ratio, "%.2fx", update_s / base);
    printf("%6d %22.0f %12.2f %18.1f %10s\n", sizes[i], steps_s, 1e3 * update_s, sizes[i] / update_s, ratio);
    fflush(stdout);
  }
  return SF_EXIT_OK;
}
