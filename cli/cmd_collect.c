/* `spikefly collect`: fly the guide (or the reference controller) and write
 * an offline dataset of whole episodes for the bc and td3bc baselines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sf_defs.h"
#include "core/sf_fileio.h"
#include "core/sf_philox.h"
#include "rl/sf_actor.h"
#include "cli/sf_cli.h"
#include "cli/sf_device.h"
#include "rl/sf_dataset.h"
#include "rl/sf_replay.h"
#include "sim/sf_env.h"
#include "sim/sf_pid.h"

static const sf_flag collect_flags[] = {
    {"guide", "collect.guide", NULL, "FILE", "guide checkpoint to fly (default: the reference controller)"},
    {"episodes", "collect.episodes", NULL, "E", "episodes to record (default 200)"},
    {"envs", "collect.envs", NULL, "N", "environments flown in parallel (default 50)"},
    {"noise", "collect.noise", NULL, "SIGMA", "Gaussian noise added to the actions (default 0.1)"},
    {"seed", "collect.seed", NULL, "S", "random seed (default 1)"},
    {"out", "collect.out", NULL, "FILE", "dataset file (safetensors; default dataset.safetensors)"},
    {"overwrite", "collect.overwrite", "true", NULL, "replace an existing dataset file"},
    {"device", "device", NULL, "DEV", "cpu | auto (this command runs on the CPU; cuda is an error)"},
};

static const sf_cmd_spec collect_spec = {
    "collect", NULL, "record guide flights as an offline dataset (for train --algo bc|td3bc)", collect_flags,
    (int)SF_ARRAY_LEN(collect_flags), 0, 0,
    "Episodes start from the reset distribution; the recorded action is the one\n"
    "flown (with its noise). Rewards use the final reward coefficients."};

/* Before flying: the dataset file can be written, and an existing one (a
 * baseline may have been trained on it) is replaced only on request. */
static int check_output(const char *out, int overwrite, char *err, size_t errlen) {
  struct stat st;
  if (!overwrite && stat(out, &st) == 0 && !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "'%s' exists; give --overwrite (collect.overwrite) to replace it", out);
    return -1;
  }
  return sf_check_output_file(out, err, errlen);
}

int sf_cmd_collect(int argc, char **argv) {
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos, rc = sf_cli_parse(&collect_spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  char guide[512], out[512];
  snprintf(guide, sizeof guide, "%s", sf_cfg_str(cfg, "collect.guide", ""));
  snprintf(out, sizeof out, "%s", sf_cfg_str(cfg, "collect.out", "dataset.safetensors"));
  long episodes = sf_cfg_int(cfg, "collect.episodes", 200, 1, 1 << 24);
  int N = (int)sf_cfg_int(cfg, "collect.envs", 50, 1, 1 << 20);
  float noise = (float)sf_cfg_float(cfg, "collect.noise", 0.1, 0.0, 10.0);
  uint64_t seed = (uint64_t)sf_cfg_int(cfg, "collect.seed", 1, 0, 0x7fffffffffffffffL);
  int overwrite = sf_cfg_bool(cfg, "collect.overwrite", 0);
  sf_env_model model;
  sf_env_model_from_config(cfg, &model);
  sf_pid pid;
  if (!sf_cfg_error(cfg)) sf_pid_from_config(cfg, &model.quad, &pid);
  sf_device_from_config(cfg, 0, "dataset collection");
  if ((rc = sf_cli_check(cfg, collect_spec.name)) != 0) {
    sf_cfg_free(cfg);
    return rc;
  }
  sf_cfg_free(cfg);
  char err[1024];
  if (check_output(out, overwrite, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly collect: %s\n", err);
    return SF_EXIT_USAGE;
  }
  sf_actor *g = NULL;
  if (guide[0] && !(g = sf_actor_load(guide, 0, NULL, err, sizeof err))) {
    fprintf(stderr, "spikefly collect: %s\n", err);
    return SF_EXIT_USAGE;
  }
  if (g && err[0]) fprintf(stderr, "spikefly collect: %s\n", err);
  if (g && g->cfg.input != SF_INPUT_PRIV) {
    /* Any actor can be flown, but the guide is the privileged one. */
    fprintf(stderr, "spikefly collect: note: %s is not a privileged guide; flying it anyway\n", guide);
  }
  const int L = model.task.time_limit;
  sf_env_data *d = sf_env_data_new(1, N, &seed);
  d->progress[0] = 1.0f;
  float *obs = malloc(sizeof(float) * N * SF_OBS_DIM), *priv = malloc(sizeof(float) * N * SF_PRIV_DIM);
  float *x = malloc(sizeof(float) * N * SF_PRIV_DIM), *act = malloc(sizeof(float) * N * SF_ACT_DIM);
  float *rew = malloc(sizeof(float) * N);
  uint8_t *term = malloc(N), *trunc = malloc(N), *done = malloc(N);
  float *s_obs = malloc(sizeof(float) * N * (L + 1) * SF_OBS_DIM), *s_priv = malloc(sizeof(float) * N * (L + 1) * SF_PRIV_DIM);
  float *s_act = malloc(sizeof(float) * N * (L + 1) * SF_ACT_DIM), *s_rew = malloc(sizeof(float) * N * (L + 1));
  uint8_t *s_fl = calloc((size_t)N * (L + 1), 1);
  sf_actor_state st = {NULL};
  if (g && g->P == 1 && sf_actor_state_init(&st, g, N) != 0) g = NULL;
  sf_dataset ds;
  sf_dataset_init(&ds);
  long recorded = 0, survived = 0;
  double ret = 0;
  sf_env_reset_all(&model, d);
  sf_env_observe(&model, d, obs);
  sf_env_observe_privileged(&model, d, priv);
  for (int i = 0; i < N; ++i) {
    memcpy(s_obs + (size_t)i * (L + 1) * SF_OBS_DIM, obs + i * SF_OBS_DIM, sizeof(float) * SF_OBS_DIM);
    memcpy(s_priv + (size_t)i * (L + 1) * SF_PRIV_DIM, priv + i * SF_PRIV_DIM, sizeof(float) * SF_PRIV_DIM);
  }
  /* Rebuilt for N rows: sf_actor_load gives a network for few rows. */
  sf_actor *net = NULL;
  if (g) {
    net = sf_actor_new(&g->cfg, 1, N);
    memcpy(net->params->data, g->params->data, sizeof(float) * g->params->n);
    sf_actor_state_free(&st);
    sf_actor_state_init(&st, net, N);
  }
  while (recorded < episodes) {
    if (net) {
      sf_actor_make_input(net->cfg.input, N, obs, priv, x);
      sf_actor_step(net, &st, N, x, act);
    } else {
      sf_pid_policy(&pid, &model, d, obs, act);
    }
    for (int i = 0; i < N; ++i) {
      float z[4];
      sf_normal4(sf_rng_bits(seed, (uint32_t)i, d->rng_ctr[i], SF_STREAM(SF_RNG_DATASET, 0), 0), z);
      for (int j = 0; j < SF_ACT_DIM; ++j) {
        float a = act[i * SF_ACT_DIM + j] + noise * z[j];
        act[i * SF_ACT_DIM + j] = a < -1.0f ? -1.0f : (a > 1.0f ? 1.0f : a);
      }
      memcpy(s_act + ((size_t)i * (L + 1) + d->ep_step[i]) * SF_ACT_DIM, act + i * SF_ACT_DIM, sizeof(float) * SF_ACT_DIM);
    }
    sf_env_step(&model, d, act, rew, term, trunc);
    sf_env_observe(&model, d, obs);
    sf_env_observe_privileged(&model, d, priv);
    int any = 0;
    for (int i = 0; i < N; ++i) {
      int k = d->ep_step[i];
      size_t base = (size_t)i * (L + 1);
      s_rew[base + k - 1] = rew[i];
      s_fl[base + k - 1] = (uint8_t)(SF_ROW_GUIDE | (term[i] ? SF_ROW_TERMINATED : 0) | (trunc[i] ? SF_ROW_TRUNCATED : 0));
      memcpy(s_obs + (base + k) * SF_OBS_DIM, obs + i * SF_OBS_DIM, sizeof(float) * SF_OBS_DIM);
      memcpy(s_priv + (base + k) * SF_PRIV_DIM, priv + i * SF_PRIV_DIM, sizeof(float) * SF_PRIV_DIM);
      done[i] = term[i] || trunc[i];
      if (!done[i]) continue;
      any = 1;
      if (recorded < episodes) {
        double r = 0;
        for (int j = 0; j < k; ++j) r += s_rew[base + j];
        ret += r;
        survived += !term[i];
        if (sf_dataset_add(&ds, k, s_obs + base * SF_OBS_DIM, s_priv + base * SF_PRIV_DIM, s_act + base * SF_ACT_DIM,
                           s_rew + base, s_fl + base) != 0) {
          fprintf(stderr, "spikefly collect: out of memory after %ld episodes\n", recorded);
          return SF_EXIT_FAIL;
        }
        ++recorded;
      }
      if (st.snn) sf_actor_state_reset(&st, 0, i);
    }
    if (any) {
      sf_env_reset_masked(&model, d, done);
      sf_env_observe(&model, d, obs);
      sf_env_observe_privileged(&model, d, priv);
      for (int i = 0; i < N; ++i) {
        if (!done[i]) continue;
        memcpy(s_obs + (size_t)i * (L + 1) * SF_OBS_DIM, obs + i * SF_OBS_DIM, sizeof(float) * SF_OBS_DIM);
        memcpy(s_priv + (size_t)i * (L + 1) * SF_PRIV_DIM, priv + i * SF_PRIV_DIM, sizeof(float) * SF_PRIV_DIM);
      }
    }
  }
  const char *meta[] = {"spikefly.policy", guide[0] ? guide : "pid", NULL};
  rc = sf_dataset_write(&ds, out, meta, err, sizeof err);
  if (rc != 0) fprintf(stderr, "spikefly collect: %s\n", err);
  else
    printf("spikefly collect: %ld episodes (%ld transitions) of %s, mean return %.1f, survival %.3f -> %s\n", recorded,
           ds.rows - ds.n_eps, guide[0] ? guide : "the reference controller", ret / recorded,
           (double)survived / recorded, out);
  sf_dataset_free(&ds);
  sf_actor_state_free(&st);
  sf_actor_free(net);
  sf_actor_free(g);
  sf_env_data_free(d);
  free(obs), free(priv), free(x), free(act), free(rew), free(term), free(trunc), free(done);
  free(s_obs), free(s_priv), free(s_act), free(s_rew), free(s_fl);
  return rc ? SF_EXIT_FAIL : SF_EXIT_OK;
}
