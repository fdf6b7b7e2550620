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

/* What the command was asked to do: its options and config keys. */
typedef struct {
  char guide[512]; /* guide checkpoint, "" for the reference controller */
  char out[512];
  long episodes;
  int N; /* environments flown in parallel */
  int overwrite;
  float noise;
  uint64_t seed;
  sf_env_model model;
  sf_pid pid;
} collect_opts;

/* collect_read_options' answer when the command goes on (else an exit code). */
enum { COLLECT_GO = -1 };

/* Parse the command line and the config into *o. Returns COLLECT_GO, or the
 * exit code: SF_EXIT_OK after --help, SF_EXIT_USAGE for bad options or keys. */
static int collect_read_options(int argc, char **argv, collect_opts *o) {
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos, rc = sf_cli_parse(&collect_spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  snprintf(o->guide, sizeof o->guide, "%s", sf_cfg_str(cfg, "collect.guide", ""));
  snprintf(o->out, sizeof o->out, "%s", sf_cfg_str(cfg, "collect.out", "dataset.safetensors"));
  o->episodes = sf_cfg_int(cfg, "collect.episodes", 200, 1, 1 << 24);
  o->N = (int)sf_cfg_int(cfg, "collect.envs", 50, 1, 1 << 20);
  o->noise = (float)sf_cfg_float(cfg, "collect.noise", 0.1, 0.0, 10.0);
  o->seed = (uint64_t)sf_cfg_int(cfg, "collect.seed", 1, 0, 0x7fffffffffffffffL);
  o->overwrite = sf_cfg_bool(cfg, "collect.overwrite", 0);
  sf_env_model_from_config(cfg, &o->model);
  if (!sf_cfg_error(cfg)) sf_pid_from_config(cfg, &o->model.quad, &o->pid);
  sf_device_from_config(cfg, 0, "dataset collection");
  rc = sf_cli_check(cfg, collect_spec.name);
  sf_cfg_free(cfg);
  return rc != 0 ? rc : COLLECT_GO;
}

/* The guide checkpoint into *g (NULL for the reference controller). Returns
 * 0 or SF_EXIT_USAGE. */
static int collect_load_guide(const collect_opts *o, sf_actor **g) {
  char err[1024];
  *g = NULL;
  if (o->guide[0] && !(*g = sf_actor_load(o->guide, 0, NULL, err, sizeof err))) {
    fprintf(stderr, "spikefly collect: %s\n", err);
    return SF_EXIT_USAGE;
  }
  if (*g && err[0]) fprintf(stderr, "spikefly collect: %s\n", err);
  if (*g && (*g)->cfg.input != SF_INPUT_PRIV) {
    /* Any actor can be flown, but the guide is the privileged one. */
    fprintf(stderr, "spikefly collect: note: %s is not a privileged guide; flying it anyway\n", o->guide);
  }
  return 0;
}

/* The buffers of one step of N envs, and of each env's episode so far: rows
 * 0..L of env i start at i * (L + 1) (an episode's last observation is one
 * row past its last action). */
typedef struct {
  int N, L;
  float *obs, *priv, *x, *act, *rew;
  uint8_t *term, *trunc, *done;
  float *s_obs, *s_priv, *s_act, *s_rew;
  uint8_t *s_fl;
} collect_bufs;

/* 0, or -1 when memory cannot be had (bufs_free frees what was). */
static int bufs_alloc(collect_bufs *b, int N, int L) {
  b->N = N;
  b->L = L;
  b->obs = malloc(sizeof(float) * N * SF_OBS_DIM), b->priv = malloc(sizeof(float) * N * SF_PRIV_DIM);
  b->x = malloc(sizeof(float) * N * SF_PRIV_DIM), b->act = malloc(sizeof(float) * N * SF_ACT_DIM);
  b->rew = malloc(sizeof(float) * N);
  b->term = malloc(N), b->trunc = malloc(N), b->done = malloc(N);
  b->s_obs = malloc(sizeof(float) * N * (L + 1) * SF_OBS_DIM);
  b->s_priv = malloc(sizeof(float) * N * (L + 1) * SF_PRIV_DIM);
  b->s_act = malloc(sizeof(float) * N * (L + 1) * SF_ACT_DIM), b->s_rew = malloc(sizeof(float) * N * (L + 1));
  b->s_fl = calloc((size_t)N * (L + 1), 1);
  return b->obs && b->priv && b->x && b->act && b->rew && b->term && b->trunc && b->done && b->s_obs && b->s_priv &&
                 b->s_act && b->s_rew && b->s_fl
             ? 0
             : -1;
}

static void bufs_free(collect_bufs *b) {
  free(b->obs), free(b->priv), free(b->x), free(b->act), free(b->rew), free(b->term), free(b->trunc), free(b->done);
  free(b->s_obs), free(b->s_priv), free(b->s_act), free(b->s_rew), free(b->s_fl);
}

/* Env i's current observations as the first row of its episode. */
static void record_start(collect_bufs *b, int i) {
  const int L = b->L;
  memcpy(b->s_obs + (size_t)i * (L + 1) * SF_OBS_DIM, b->obs + i * SF_OBS_DIM, sizeof(float) * SF_OBS_DIM);
  memcpy(b->s_priv + (size_t)i * (L + 1) * SF_PRIV_DIM, b->priv + i * SF_PRIV_DIM, sizeof(float) * SF_PRIV_DIM);
}

/* Gaussian noise (sigma o->noise, from the dataset's random stream) on each
 * env's action, clipped to [-1, 1]: the action flown is the one recorded. */
static void noisy_actions(const collect_opts *o, const sf_env_data *d, collect_bufs *b) {
  const int L = b->L;
  for (int i = 0; i < b->N; ++i) {
    float z[4];
    sf_normal4(sf_rng_bits(o->seed, (uint32_t)i, d->rng_ctr[i], SF_STREAM(SF_RNG_DATASET, 0), 0), z);
    for (int j = 0; j < SF_ACT_DIM; ++j) {
      float a = b->act[i * SF_ACT_DIM + j] + o->noise * z[j];
      b->act[i * SF_ACT_DIM + j] = a < -1.0f ? -1.0f : (a > 1.0f ? 1.0f : a);
    }
    memcpy(b->s_act + ((size_t)i * (L + 1) + d->ep_step[i]) * SF_ACT_DIM, b->act + i * SF_ACT_DIM,
           sizeof(float) * SF_ACT_DIM);
  }
}

/* Episodes recorded so far, and their sums for the summary. */
typedef struct {
  long recorded, survived;
  double ret;
} collect_tally;

/* After a step: each env's reward, flags and new observations into its
 * episode. An episode that ended goes into the dataset while fewer than
 * o->episodes are recorded, and its env's actor state is reset. Marks the
 * ended envs in b->done; returns whether any ended, or -1 when out of memory
 * (said on stderr). */
static int record_step(const collect_opts *o, const sf_env_data *d, collect_bufs *b, sf_actor_state *st,
                       sf_dataset *ds, collect_tally *t) {
  const int L = b->L;
  int any = 0;
  for (int i = 0; i < b->N; ++i) {
    int k = d->ep_step[i];
    size_t base = (size_t)i * (L + 1);
    b->s_rew[base + k - 1] = b->rew[i];
    b->s_fl[base + k - 1] =
        (uint8_t)(SF_ROW_GUIDE | (b->term[i] ? SF_ROW_TERMINATED : 0) | (b->trunc[i] ? SF_ROW_TRUNCATED : 0));
    memcpy(b->s_obs + (base + k) * SF_OBS_DIM, b->obs + i * SF_OBS_DIM, sizeof(float) * SF_OBS_DIM);
    memcpy(b->s_priv + (base + k) * SF_PRIV_DIM, b->priv + i * SF_PRIV_DIM, sizeof(float) * SF_PRIV_DIM);
    b->done[i] = b->term[i] || b->trunc[i];
    if (!b->done[i]) continue;
    any = 1;
    if (t->recorded < o->episodes) {
      double r = 0;
      for (int j = 0; j < k; ++j) r += b->s_rew[base + j];
      t->ret += r;
      t->survived += !b->term[i];
      if (sf_dataset_add(ds, k, b->s_obs + base * SF_OBS_DIM, b->s_priv + base * SF_PRIV_DIM,
                         b->s_act + base * SF_ACT_DIM, b->s_rew + base, b->s_fl + base) != 0) {
        fprintf(stderr, "spikefly collect: out of memory after %ld episodes\n", t->recorded);
        return -1;
      }
      ++t->recorded;
    }
    if (st->snn) sf_actor_state_reset(st, 0, i);
  }
  return any;
}

/* Fly the guide (net; NULL: the reference controller) with noise until
 * o->episodes episodes are in ds. Returns 0, or -1 when out of memory. */
static int fly_episodes(collect_opts *o, sf_env_data *d, sf_actor *net, sf_actor_state *st, collect_bufs *b,
                        sf_dataset *ds, collect_tally *t) {
  const int N = b->N;
  while (t->recorded < o->episodes) {
    if (net) {
      sf_actor_make_input(net->cfg.input, N, b->obs, b->priv, b->x);
      sf_actor_step(net, st, N, b->x, b->act);
    } else {
      sf_pid_policy(&o->pid, &o->model, d, b->obs, b->act);
    }
    noisy_actions(o, d, b);
    sf_env_step(&o->model, d, b->act, b->rew, b->term, b->trunc);
    sf_env_observe(&o->model, d, b->obs);
    sf_env_observe_privileged(&o->model, d, b->priv);
    int any = record_step(o, d, b, st, ds, t);
    if (any < 0) return -1;
    if (any) {
      sf_env_reset_masked(&o->model, d, b->done);
      sf_env_observe(&o->model, d, b->obs);
      sf_env_observe_privileged(&o->model, d, b->priv);
      for (int i = 0; i < N; ++i)
        if (b->done[i]) record_start(b, i);
    }
  }
  return 0;
}

/* Record the episodes (flown by guide g, or the reference controller when
 * g is NULL) and write the dataset. Returns the exit code. */
static int collect_dataset(collect_opts *o, sf_actor *g) {
  const int N = o->N;
  sf_env_data *d = sf_env_data_new(1, N, &o->seed);
  collect_bufs b = {0};
  sf_actor_state st = {NULL};
  sf_dataset ds;
  sf_dataset_init(&ds);
  collect_tally t = {0, 0, 0};
  /* The guide rebuilt for N rows (sf_actor_load gives a network for few
   * rows), with its streaming state. */
  sf_actor *net = g ? sf_actor_new(&g->cfg, 1, N) : NULL;
  int rc = SF_EXIT_FAIL, ready = d && bufs_alloc(&b, N, o->model.task.time_limit) == 0 && (!g || net);
  if (ready && net) {
    memcpy(net->params->data, g->params->data, sizeof(float) * g->params->n);
    ready = sf_actor_state_init(&st, net, N) == 0;
  }
  if (!ready) {
    fprintf(stderr, "spikefly collect: out of memory for %d environments\n", N);
    goto out;
  }
  d->progress[0] = 1.0f;
  sf_env_reset_all(&o->model, d);
  sf_env_observe(&o->model, d, b.obs);
  sf_env_observe_privileged(&o->model, d, b.priv);
  for (int i = 0; i < N; ++i) record_start(&b, i);
  if (fly_episodes(o, d, net, &st, &b, &ds, &t) == 0) {
    const char *meta[] = {"spikefly.policy", o->guide[0] ? o->guide : "pid", NULL};
    char err[1024];
    if (sf_dataset_write(&ds, o->out, meta, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly collect: %s\n", err);
    } else {
      printf("spikefly collect: %ld episodes (%ld transitions) of %s, mean return %.1f, survival %.3f -> %s\n",
             t.recorded, ds.rows - ds.n_eps, o->guide[0] ? o->guide : "the reference controller",
             t.ret / t.recorded, (double)t.survived / t.recorded, o->out);
      rc = SF_EXIT_OK;
    }
  }
out:
  sf_dataset_free(&ds);
  sf_actor_state_free(&st);
  sf_actor_free(net);
  sf_env_data_free(d);
  bufs_free(&b);
  return rc;
}

int sf_cmd_collect(int argc, char **argv) {
  collect_opts o;
  int rc = collect_read_options(argc, argv, &o);
  if (rc != COLLECT_GO) return rc;
  char err[1024];
  if (check_output(o.out, o.overwrite, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly collect: %s\n", err);
    return SF_EXIT_USAGE;
  }
  sf_actor *g;
  if ((rc = collect_load_guide(&o, &g)) != 0) return rc;
  rc = collect_dataset(&o, g);
  sf_actor_free(g);
  return rc;
}
