/* Training throughput of the trainer (TD3BC+JSRL with the SNN actor) for
 * populations of P agents, on the CPU or the GPU: one epoch's collection
 * (environment steps per second, all agents together, the actor and the
 * guide in the loop) and gradient updates (one iteration = one update of
 * every agent: sequence gather, critic update, and every policy_delay-th
 * time the actor update through time, Adam and Polyak). The settings are
 * configs/paper.ini's with the reference controller as guide and a smaller
 * replay buffer; any key can be overridden as section.key=value.
 *
 * usage: bench_train [--device cpu|cuda] [--agents 1,8,64] [--updates U]
 *                    [--config FILE] [key=value ...]
 * Prints one line per P and, for each P > 1, its update time over P = 1's
 * (the sweep target: 64 agents in under 4x the time of one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sf_config.h"
#include "host/sf_trainer.h"
#ifdef SF_HAVE_CUDA
#include "kernels/sf_trainer_cuda.h"
#endif

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
  double collect_steps_s, update_s; /* env steps per second; seconds per iteration */
} result;

static int run(const char *config, int argc, char **argv, int P, int cuda, int updates, result *out) {
  sf_config *cfg = sf_cfg_new();
  if (sf_cfg_load_file(cfg, config) != 0) {
    fprintf(stderr, "bench_train: cannot read %s\n", config);
    sf_cfg_free(cfg);
    return -1;
  }
  sf_cfg_set(cfg, "train.guide", "pid");
  sf_cfg_set(cfg, "train.buffer", "100000");
  for (int i = 0; i < argc; ++i)
    if (sf_cfg_set_override(cfg, argv[i]) != 0) {
      fprintf(stderr, "bench_train: '%s' is not section.key=value\n", argv[i]);
      sf_cfg_free(cfg);
      return -1;
    }
  sf_train_settings s;
  sf_train_settings_read(cfg, &s);
  sf_env_model model;
  sf_env_model_from_config(cfg, &model);
  sf_agent_settings *agents = calloc(P, sizeof *agents);
  for (int p = 0; p < P; ++p) {
    sf_agent_settings_read(cfg, &agents[p]);
    agents[p].seed = (uint64_t)p;
  }
  if (sf_cfg_error(cfg)) {
    fprintf(stderr, "bench_train: %s\n", sf_cfg_error(cfg));
    sf_cfg_free(cfg);
    free(agents);
    return -1;
  }
  sf_cfg_free(cfg);
  char err[512];
  sf_trainer *t = sf_trainer_new(&s, agents, P, &model, err, sizeof err);
  free(agents);
  if (!t) {
    fprintf(stderr, "bench_train: %s\n", err);
    return -1;
  }
  int rc = -1, done = 0;
  sf_update_stats *acc = calloc(P, sizeof *acc);
  double t0 = now_s(), t1, t2;
#ifdef SF_HAVE_CUDA
  sf_cuda_trainer *g = NULL;
  if (cuda) {
    if (!(g = sf_cuda_trainer_new(t, err, sizeof err))) {
      fprintf(stderr, "bench_train: %s\n", err);
      goto out;
    }
    t0 = now_s();
    if (sf_cuda_trainer_collect(g) != 0) goto out;
    t1 = now_s();
    /* One untimed update of each kind: the first ones size workspaces and
     * are captured as graphs. */
    if (sf_cuda_trainer_update(g, 2 * s.policy_delay, acc, &done) != 0) goto out;
    t2 = now_s();
    if (sf_cuda_trainer_update(g, updates, acc, &done) != 0) goto out;
  } else
#endif
  {
    (void)cuda;
    if (sf_trainer_collect(t) != 0) goto out;
    t1 = now_s();
    sf_update_stats *us = calloc(P, sizeof *us);
    for (int u = 0; u < 2 * s.policy_delay; ++u) sf_trainer_update(t, us);
    t2 = now_s();
    for (done = 0; done < updates && sf_trainer_update(t, us) == 0; ++done) {
    }
    free(us);
  }
  if (done < updates) {
    fprintf(stderr, "bench_train: the buffer holds no full sequence after one epoch's collection\n");
    goto out;
  }
  out->update_s = (now_s() - t2) / updates;
  out->collect_steps_s = (double)P * s.envs * s.collect_steps / (t1 - t0);
  rc = 0;
out:
#ifdef SF_HAVE_CUDA
  sf_cuda_trainer_free(g);
#endif
  free(acc);
  sf_trainer_free(t);
  return rc;
}

int main(int argc, char **argv) {
  const char *config = "configs/paper.ini", *agents = "1,8";
  int cuda = 0, updates = 20, first_kv = argc;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc) {
      ++i;
      if (strcmp(argv[i], "cpu") && strcmp(argv[i], "cuda")) {
        fprintf(stderr, "bench_train: --device takes cpu or cuda, not '%s'\n", argv[i]);
        return 2;
      }
      cuda = !strcmp(argv[i], "cuda");
    } else if (!strcmp(argv[i], "--agents") && i + 1 < argc) {
      agents = argv[++i];
    } else if (!strcmp(argv[i], "--updates") && i + 1 < argc) {
      updates = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
      config = argv[++i];
    } else if (strchr(argv[i], '=')) {
      first_kv = i;
      break;
    } else {
      fprintf(stderr, "usage: bench_train [--device cpu|cuda] [--agents 1,8,64] [--updates U] [--config FILE] "
                      "[key=value ...]\n");
      return 2;
    }
  }
#ifndef SF_HAVE_CUDA
  if (cuda) {
    fprintf(stderr, "bench_train: this build has no CUDA backend\n");
    return 2;
  }
#endif
  if (updates < 1) {
    fprintf(stderr, "bench_train: --updates must be at least 1\n");
    return 2;
  }
  printf("bench_train: %s, device %s, %d timed updates per population\n", config, cuda ? "cuda" : "cpu", updates);
  printf("%6s %22s %18s %22s %12s\n", "agents", "collect env steps/s", "update ms", "agent-updates/s", "vs P=1");
  double base = 0;
  char list[256];
  snprintf(list, sizeof list, "%s", agents);
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    int P = atoi(tok);
    if (P < 1) {
      fprintf(stderr, "bench_train: --agents takes positive counts, not '%s'\n", tok);
      return 2;
    }
    result r;
    if (run(config, argc - first_kv, argv + first_kv, P, cuda, updates, &r) != 0) return 1;
    if (P == 1) base = r.update_s;
    char ratio[32] = "";
    if (P > 1 && base > 0) snprintf(ratio, sizeof ratio, "%.2fx", r.update_s / base);
    printf("%6d %22.0f %18.2f %22.1f %12s\n", P, r.collect_steps_s, 1e3 * r.update_s, P / r.update_s, ratio);
    fflush(stdout);
  }
  return 0;
}
