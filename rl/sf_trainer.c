#include "rl/sf_trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_philox.h"
#include "core/sf_safetensors.h"
#include "rl/sf_plan.h"
#include "rl/sf_rl_math.h"

const char *const sf_algo_names[] = {"td3bc_jsrl", "td3", "bc", "td3bc", NULL};

const char *const sf_agent_keys[] = {
    "seed",           "train.actor_lr",   "train.critic_lr",    "train.gamma",      "train.alpha",
    "train.bc_weight", "train.bc_decay",  "train.expl_noise",   "train.target_noise", "train.target_clip",
    "model.schedule", "model.slope",      "model.slope_max",    "model.slope_interval", "model.slope_steps",
    "model.slope_window", "model.slope_order", "model.return_scale", NULL};

int sf_is_agent_key(const char *key) {
  for (int i = 0; sf_agent_keys[i]; ++i)
    if (!strcmp(sf_agent_keys[i], key)) return 1;
  return 0;
}

/* ---- settings ----------------------------------------------------------- */

void sf_train_settings_read(sf_config *cfg, sf_train_settings *s) {
  memset(s, 0, sizeof *s);
  s->algo = (sf_algo)sf_cfg_choice(cfg, "train.algo", "td3bc_jsrl", sf_algo_names);
  sf_actor_kind kind = (sf_actor_kind)sf_cfg_choice(cfg, "train.actor", "snn", sf_actor_kind_names);
  sf_actor_input input = (sf_actor_input)sf_cfg_choice(cfg, "train.actor_input", "obs", sf_actor_input_names);
  s->actor = sf_actor_default(kind, input);
  double hidden[SF_SNN_MAX_LAYERS];
  const double def_hidden[2] = {256, 128};
  int nh = sf_cfg_floats(cfg, "train.hidden", def_hidden, 2, 1, 65536, hidden, SF_SNN_MAX_LAYERS);
  if (nh > 0) {
    s->actor.nhidden = nh;
    for (int i = 0; i < nh; ++i) s->actor.hidden[i] = (int)hidden[i];
  }
  sf_actor_config_require_exportable(&s->actor, cfg);
  s->actor.frames = (int)sf_cfg_int(cfg, "train.frame_stack", 0, 0, 1000);
  s->actor.substeps = (int)sf_cfg_int(cfg, "train.substeps", 1, 1, 1000);
  char why[160];
  if (!sf_cfg_error(cfg) && sf_actor_config_check_stack(&s->actor, why, sizeof why) != 0)
    sf_cfg_fail(cfg, "config key '%s': %s", s->actor.frames ? "train.frame_stack" : "train.substeps", why);
  s->envs = (int)sf_cfg_int(cfg, "train.envs", 16, 1, 1 << 20);
  s->epochs = (int)sf_cfg_int(cfg, "train.epochs", 100, 1, 1 << 24);
  s->collect_steps = (int)sf_cfg_int(cfg, "train.collect_steps", 500, 1, 1 << 24);
  s->updates = (int)sf_cfg_int(cfg, "train.updates", 50, 0, 1 << 24);
  s->batch = (int)sf_cfg_int(cfg, "train.batch", 64, 1, 1 << 20);
  s->seq_len = (int)sf_cfg_int(cfg, "train.seq_len", 100, 1, 100000);
  s->warmup = (int)sf_cfg_int(cfg, "train.warmup", 50, 0, 100000);
  s->stride = (int)sf_cfg_int(cfg, "train.stride", 50, 1, 100000);
  s->buffer = sf_cfg_int(cfg, "train.buffer", 2000000, 2, 1L << 34);
  s->eval_every = (int)sf_cfg_int(cfg, "train.eval_every", 5, 1, 1 << 24);
  s->eval_episodes = (int)sf_cfg_int(cfg, "train.eval_episodes", 30, 1, 1 << 20);
  s->survive_steps = (int)sf_cfg_int(cfg, "train.survive_steps", s->warmup > 0 ? s->warmup : 50, 1, 1 << 24);
  int online = s->algo == SF_ALGO_TD3BC_JSRL || s->algo == SF_ALGO_TD3;
  s->jumpstart = sf_cfg_bool(cfg, "train.jumpstart", s->algo == SF_ALGO_TD3BC_JSRL);
  s->bc = sf_cfg_bool(cfg, "train.bc", s->algo != SF_ALGO_TD3);
  s->h_start = (int)sf_cfg_int(cfg, "train.h_start", 450, 0, 1 << 24);
  s->h_end = (int)sf_cfg_int(cfg, "train.h_end", s->warmup, 0, 1 << 24);
  s->h_epochs = (int)sf_cfg_int(cfg, "train.h_epochs", s->epochs, 1, 1 << 24);
  s->policy_delay = (int)sf_cfg_int(cfg, "train.policy_delay", 2, 1, 1000);
  s->teacher_epochs = (int)sf_cfg_int(cfg, "train.teacher_epochs", 0, 0, 1 << 24);
  s->learn_from_start = sf_cfg_bool(cfg, "train.learn_from_start", 1);
  static const char *const bc_targets[] = {"buffer", "guide", NULL};
  s->bc_to_guide = sf_cfg_choice(cfg, "train.bc_target", "buffer", bc_targets) == 1;
  s->tau = (float)sf_cfg_float(cfg, "train.tau", 0.01, 0.0, 1.0);
  snprintf(s->guide, sizeof s->guide, "%s", sf_cfg_str(cfg, "train.guide", ""));
  snprintf(s->dataset, sizeof s->dataset, "%s", sf_cfg_str(cfg, "train.dataset", ""));
  if (sf_cfg_error(cfg)) return;
  if (s->warmup >= s->seq_len)
    sf_cfg_fail(cfg, "config key 'train.warmup': %d leaves no step to learn from in sequences of %d (train.seq_len)",
                s->warmup, s->seq_len);
  else if (s->actor.frames > 1 && s->warmup < s->actor.frames - 1)
    sf_cfg_fail(cfg, "config key 'train.warmup': %d is too short for %d stacked frames (train.frame_stack): a "
                "sequence's first %d steps lack the earlier observations their stack holds in flight; use at least %d",
                s->warmup, s->actor.frames, s->actor.frames - 1, s->actor.frames - 1);
  else if (s->jumpstart && !online)
    sf_cfg_fail(cfg, "config key 'train.jumpstart': the jump start needs an online algorithm (td3bc_jsrl, td3)");
  else if (s->jumpstart && !s->guide[0])
    sf_cfg_fail(cfg, "config key 'train.guide': the jump start needs a guide checkpoint (spikefly train-guide)");
  else if (s->bc_to_guide && s->bc && online && !s->guide[0])
    sf_cfg_fail(cfg, "config key 'train.bc_target': 'guide' needs the guide that labels the states (train.guide)");
  else if (!online && !s->dataset[0])
    sf_cfg_fail(cfg, "config key 'train.dataset': %s trains offline on a dataset (spikefly collect)",
                sf_algo_names[s->algo]);
  else if (s->teacher_epochs > 0 && !online)
    sf_cfg_fail(cfg, "config key 'train.teacher_epochs': the teacher flies the collection of an online algorithm "
                     "(td3bc_jsrl, td3), %s has none", sf_algo_names[s->algo]);
  else if (s->algo == SF_ALGO_BC && !s->bc)
    sf_cfg_fail(cfg, "config key 'train.bc': bc without its BC term has no loss");
  else if (s->actor.kind == SF_ACTOR_MLP && s->actor.nhidden > SF_MLP_MAX_HIDDEN)
    sf_cfg_fail(cfg, "config key 'train.hidden': an MLP actor has at most %d hidden layers", SF_MLP_MAX_HIDDEN);
}

void sf_agent_settings_read(sf_config *cfg, sf_agent_settings *a) {
  a->seed = (uint64_t)sf_cfg_int(cfg, "seed", 0, 0, 0x7fffffffffffffffL);
  a->actor_lr = (float)sf_cfg_float(cfg, "train.actor_lr", 1e-3, 0.0, 1.0);
  a->critic_lr = (float)sf_cfg_float(cfg, "train.critic_lr", 1e-3, 0.0, 1.0);
  a->gamma = (float)sf_cfg_float(cfg, "train.gamma", 0.99, 0.0, 1.0);
  a->alpha = (float)sf_cfg_float(cfg, "train.alpha", 2.0, 0.0, 1e6);
  a->bc_weight = (float)sf_cfg_float(cfg, "train.bc_weight", 0.2, 0.0, 1e6);
  a->bc_decay = (float)sf_cfg_float(cfg, "train.bc_decay", 0.99, 0.0, 1.0);
  a->expl_noise = (float)sf_cfg_float(cfg, "train.expl_noise", 0.1, 0.0, 10.0);
  a->target_noise = (float)sf_cfg_float(cfg, "train.target_noise", 0.2, 0.0, 10.0);
  a->target_clip = (float)sf_cfg_float(cfg, "train.target_clip", 0.5, 0.0, 10.0);
  a->slope = sf_slope_config_read(cfg, "model");
}

/* ---- construction -------------------------------------------------------- */

/* The checkpoint rule of every command: a file without our checksum is
 * taken when the tensors read from it are valid (the caller checked them),
 * with a note saying it was not checksummed. */
static void note_unchecked(const sf_st_file *f, const char *path) {
  char note[1024];
  sf_st_note_unchecked(f, path, note, sizeof note);
  if (note[0]) fprintf(stderr, "spikefly: %s\n", note);
}

/* The first non-finite value of n floats: its index, or -1. */
static long first_nonfinite(const float *v, long n) {
  for (long i = 0; i < n; ++i)
    if (!isfinite(v[i])) return i;
  return -1;
}

int sf_params_load_agent(sf_params *ps, const char *path, int src, const char *prefix, char *err, size_t errlen) {
  sf_st_file *f = sf_st_open(path, SF_ST_ALLOW_NO_CRC, err, errlen);
  if (!f) return -1;
  int rc = 0;
  for (int i = 0; i < ps->count && rc == 0; ++i) {
    const sf_param *t = &ps->t[i];
    char name[128];
    snprintf(name, sizeof name, "%s%s", prefix ? prefix : "", t->name);
    const sf_st_tensor *st = sf_st_find(f, name);
    if (!st) {
      snprintf(err, errlen, "%s: no tensor '%s' (is it a checkpoint of this network?)", path, name);
      rc = -1;
      break;
    }
    if (st->ndim < 1 || src >= st->shape[0]) {
      snprintf(err, errlen, "%s: tensor '%s' holds no agent %d", path, name, src);
      rc = -1;
      break;
    }
    int64_t shape[3] = {st->shape[0], t->shape[0], t->ndim > 1 ? t->shape[1] : 0};
    if (!sf_st_get(f, name, SF_ST_F32, 1 + t->ndim, shape, err, errlen)) {
      rc = -1;
      break;
    }
    const float *data = (const float *)st->data + (size_t)src * t->size;
    const long bad = first_nonfinite(data, t->size);
    if (bad >= 0) {
      snprintf(err, errlen, "%s: tensor '%s' of agent %d holds a non-finite value at element %ld", path, name, src, bad);
      rc = -1;
      break;
    }
    for (int p = 0; p < ps->P; ++p) memcpy(sf_param_at(t, p), data, (size_t)t->size * sizeof(float));
  }
  if (rc == 0) note_unchecked(f, path);
  sf_st_close(f);
  return rc;
}

/* Offline datasets (spikefly collect): episodes concatenated, each with
 * len + 1 rows of obs/priv/act/rew/flags (the last row observations only). */
static int load_dataset(sf_trainer *t, const char *path, char *err, size_t errlen) {
  sf_st_file *f = sf_st_open(path, SF_ST_ALLOW_NO_CRC, err, errlen);
  if (!f) return -1;
  int rc = -1;
  const sf_st_tensor *len = sf_st_find(f, "episode_len");
  if (!len || len->dtype != SF_ST_I32 || len->ndim != 1) {
    snprintf(err, errlen, "%s: no I32 tensor 'episode_len' (is it a dataset from spikefly collect?)", path);
    goto out;
  }
  const int32_t *L = len->data;
  int64_t rows = 0;
  for (int64_t e = 0; e < len->shape[0]; ++e) {
    if (L[e] < 1 || L[e] > (1 << 24)) {
      snprintf(err, errlen, "%s: episode %lld has length %d", path, (long long)e, L[e]);
      goto out;
    }
    rows += L[e] + 1;
  }
  int64_t s_obs[2] = {rows, SF_OBS_DIM}, s_priv[2] = {rows, SF_PRIV_DIM}, s_act[2] = {rows, SF_ACT_DIM},
          s_rew[1] = {rows};
  const sf_st_tensor *o = sf_st_get(f, "obs", SF_ST_F32, 2, s_obs, err, errlen);
  const sf_st_tensor *pv = o ? sf_st_get(f, "priv", SF_ST_F32, 2, s_priv, err, errlen) : NULL;
  const sf_st_tensor *a = pv ? sf_st_get(f, "act", SF_ST_F32, 2, s_act, err, errlen) : NULL;
  const sf_st_tensor *r = a ? sf_st_get(f, "rew", SF_ST_F32, 1, s_rew, err, errlen) : NULL;
  const sf_st_tensor *fl = r ? sf_st_get(f, "flags", SF_ST_U8, 1, s_rew, err, errlen) : NULL;
  if (!fl) goto out;
  const sf_st_tensor *floats[] = {o, pv, a, r};
  for (size_t i = 0; i < SF_ARRAY_LEN(floats); ++i) {
    const long bad = first_nonfinite(floats[i]->data, (long)floats[i]->numel);
    if (bad >= 0) {
      snprintf(err, errlen, "%s: tensor '%s' holds a non-finite value at element %ld", path, floats[i]->name, bad);
      goto out;
    }
  }
  note_unchecked(f, path);
  int64_t row = 0;
  for (int64_t e = 0; e < len->shape[0]; ++e) {
    for (int p = 0; p < t->P; ++p)
      if (sf_replay_add_episode(t->rb, p, L[e], (const float *)o->data + row * SF_OBS_DIM,
                                (const float *)pv->data + row * SF_PRIV_DIM,
                                (const float *)a->data + row * SF_ACT_DIM, NULL, (const float *)r->data + row,
                                (const uint8_t *)fl->data + row) != 0) {
        snprintf(err, errlen, "%s: episode %lld (%d steps) does not fit the replay buffer (train.buffer)", path,
                 (long long)e, L[e]);
        goto out;
      }
    row += L[e] + 1;
  }
  rc = 0;
out:
  sf_st_close(f);
  return rc;
}

static int uses_critic(const sf_trainer *t) { return t->s.algo != SF_ALGO_BC; }

sf_trainer *sf_trainer_new(const sf_train_settings *s, const sf_agent_settings *agents, int P,
                           const sf_env_model *model, char *err, size_t errlen) {
  sf_trainer *t = calloc(1, sizeof *t);
  t->s = *s;
  t->P = P;
  t->model = *model;
  t->online = s->algo == SF_ALGO_TD3BC_JSRL || s->algo == SF_ALGO_TD3;
  t->agent = malloc(sizeof *t->agent * P);
  memcpy(t->agent, agents, sizeof *t->agent * P);
  uint64_t *seeds = malloc(sizeof(uint64_t) * P);
  for (int p = 0; p < P; ++p) seeds[p] = agents[p].seed;

  const int T = s->seq_len, B = s->batch, N = s->envs, L = model->task.time_limit;
  const long seq_rows = (long)(T + 1) * B;
  const long act_rows = seq_rows > N ? seq_rows : N;
  t->actor = sf_actor_new(&s->actor, P, act_rows);
  t->actor_target = sf_actor_new(&s->actor, P, act_rows);
  if (!t->actor || !t->actor_target) goto oom;
  sf_actor_init(t->actor, seeds);
  sf_params_copy(t->actor_target->params, t->actor->params);
  t->adam_actor = sf_adam_new(P, t->actor->params->n, 0.9f, 0.999f, 1e-8f);
  if (uses_critic(t)) {
    if (sf_twin_critic_new(&t->critic, P, (long)T * B, SF_PRIV_DIM, SF_ACT_DIM) != 0) goto oom;
    sf_twin_critic_init(&t->critic, seeds);
    for (int i = 0; i < 2; ++i) t->adam_critic[i] = sf_adam_new(P, t->critic.q[i]->params.n, 0.9f, 0.999f, 1e-8f);
  }
  t->sched = malloc(sizeof *t->sched * P);
  for (int p = 0; p < P; ++p) {
    sf_slope_init(&t->sched[p], &agents[p].slope);
    sf_actor_set_slope(t->actor, p, sf_slope_k(&t->sched[p]));
    sf_actor_set_slope(t->actor_target, p, sf_slope_k(&t->sched[p]));
  }
  t->rb = sf_replay_new(P, s->buffer, SF_OBS_DIM, SF_PRIV_DIM, SF_ACT_DIM);
  if (!t->rb) {
    snprintf(err, errlen, "cannot allocate a replay buffer of %ld rows for %d agents (train.buffer)", s->buffer, P);
    goto fail;
  }
  const int wants_guide = s->jumpstart || (s->bc_to_guide && s->bc && t->online);
  t->rb->from_start = s->learn_from_start;
  sf_pid_init(&t->pid, &model->quad);
  if (wants_guide && !strcmp(s->guide, "pid")) {
    t->guide_is_pid = 1;
  } else if (wants_guide) {
    sf_actor_config gc = sf_guide_actor_config();
    t->guide = sf_actor_new(&gc, P, N);
    if (!t->guide) goto oom;
    if (sf_params_load_agent(t->guide->params, s->guide, 0, NULL, err, errlen) != 0) goto fail;
  }
  if (!t->online && load_dataset(t, s->dataset, err, errlen) != 0) goto fail;
  sf_trainer_layouts(s, P, t->online, L, t->layout);

  for (int i = 0; i < SF_BUFS_N; ++i)
    if (!(t->block[i] = sf_buffer_alloc(&t->layout[i], sf_trainer_bufs(t, i)))) goto oom;
  if (t->online) {
    t->env = sf_env_data_new(P, N, seeds);
    if (!t->env || sf_actor_state_init(&t->st, t->actor, N) != 0) goto oom;
    sf_env_reset_all(&t->model, t->env);
    sf_env_observe(&t->model, t->env, t->step.obs);
    sf_env_observe_privileged(&t->model, t->env, t->step.priv);
    for (long i = 0; i < (long)P * N; ++i) {
      memcpy(t->stage.obs + (size_t)i * (L + 1) * SF_OBS_DIM, t->step.obs + i * SF_OBS_DIM, SF_OBS_DIM * sizeof(float));
      memcpy(t->stage.priv + (size_t)i * (L + 1) * SF_PRIV_DIM, t->step.priv + i * SF_PRIV_DIM,
             SF_PRIV_DIM * sizeof(float));
    }
  }
  /* agent p's sequences: views into the batch set */
  t->views = calloc(P, sizeof *t->views);
  if (!t->views) goto oom;
  for (int p = 0; p < P; ++p) {
    sf_seq_batch *v = calloc(1, sizeof *v);
    if (!v) goto oom;
    v->T = T;
    v->B = B;
    v->obs = t->batch.obs + (size_t)p * (T + 1) * B * SF_OBS_DIM;
    v->priv = t->batch.priv + (size_t)p * (T + 1) * B * SF_PRIV_DIM;
    v->act = t->batch.act + (size_t)p * T * B * SF_ACT_DIM;
    v->expert = t->batch.expert + (size_t)p * T * B * SF_ACT_DIM;
    v->rew = t->batch.rew + (size_t)p * T * B;
    v->done = t->batch.done + (size_t)p * T * B;
    v->mask = t->batch.mask + (size_t)p * T * B;
    v->guide = t->batch.guide + (size_t)p * T * B;
    v->episode = t->batch.episode + (size_t)p * B;
    v->offset = t->batch.offset + (size_t)p * B;
    t->views[p] = v;
  }
  free(seeds);
  return t;
oom:
  snprintf(err, errlen, "out of memory building the trainer for %d agents", P);
fail:
  free(seeds);
  sf_trainer_free(t);
  return NULL;
}

void sf_trainer_free(sf_trainer *t) {
  if (!t) return;
  sf_actor_free(t->actor);
  sf_actor_free(t->actor_target);
  sf_actor_free(t->guide);
  if (t->critic.q[0]) sf_twin_critic_free(&t->critic);
  sf_adam_free(t->adam_actor);
  sf_adam_free(t->adam_critic[0]);
  sf_adam_free(t->adam_critic[1]);
  sf_env_data_free(t->env);
  sf_actor_state_free(&t->st);
  sf_replay_free(t->rb);
  if (t->views)
    for (int p = 0; p < t->P; ++p) free(t->views[p]);
  free(t->views);
  for (int i = 0; i < SF_BUFS_N; ++i) free(t->block[i]);
  free(t->agent);
  free(t->sched);
  free(t);
}

void sf_trainer_set_slopes(sf_trainer *t, const sf_plan *plan) {
  for (int p = 0; p < t->P; ++p) {
    sf_actor_set_slope(t->actor, p, plan->agent[p].slope);
    sf_actor_set_slope(t->actor_target, p, plan->agent[p].slope);
  }
}

/* ---- collection ---------------------------------------------------------- */

int sf_trainer_collect(sf_trainer *t, const sf_plan *plan) {
  sf_trainer_set_slopes(t, plan);
  if (!plan->collect) return 0;
  const int P = t->P, N = t->s.envs, L = t->model.task.time_limit;
  const long n = (long)P * N;
  sf_env_data *d = t->env;
  for (int p = 0; p < P; ++p) d->progress[p] = plan->progress;
  for (int k = 0; k < plan->collect; ++k) {
    /* The actor always runs, so its state is warm when it takes over. */
    sf_actor_make_input(t->actor->cfg.input, n, t->step.obs, t->step.priv, t->step.x);
    if (sf_actor_step(t->actor, &t->st, N, t->step.x, t->step.pi) != 0) return -1;
    if (t->guide && sf_actor_step(t->guide, NULL, N, t->step.priv, t->step.guide) != 0) return -1;
    if (t->guide_is_pid) sf_pid_policy(&t->pid, &t->model, d, t->step.obs, t->step.guide);
    if (plan->teacher) sf_pid_policy(&t->pid, &t->model, d, t->step.obs, t->step.pi);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i) {
      int p = (int)(i / N);
      int step = d->ep_step[i];
      int guided = (t->guide || t->guide_is_pid) && step < plan->agent[p].horizon;
      float *a = t->step.act + i * SF_ACT_DIM;
      if (guided) {
        memcpy(a, t->step.guide + i * SF_ACT_DIM, SF_ACT_DIM * sizeof(float));
      } else {
        float z[4];
        sf_normal4(sf_rng_bits(t->agent[p].seed, (uint32_t)(i % N), d->rng_ctr[i], SF_STREAM(SF_RNG_EXPLORE, 0), 0),
                   z);
        for (int j = 0; j < SF_ACT_DIM; ++j)
          a[j] = sf_explore_action(t->step.pi[i * SF_ACT_DIM + j], z[j], t->agent[p].expl_noise);
      }
      size_t row = (size_t)i * (L + 1) + step;
      memcpy(t->stage.act + row * SF_ACT_DIM, a, SF_ACT_DIM * sizeof(float));
      /* The guide's label for this state, whoever flew it. */
      const float *ex = t->guide || t->guide_is_pid ? t->step.guide + i * SF_ACT_DIM : a;
      memcpy(t->stage.expert + row * SF_ACT_DIM, ex, SF_ACT_DIM * sizeof(float));
      t->stage.flags[row] = guided ? SF_ROW_GUIDE : 0;
    }
    sf_env_step(&t->model, d, t->step.act, t->step.rew, t->step.term, t->step.trunc);
    sf_env_observe(&t->model, d, t->step.obs);
    sf_env_observe_privileged(&t->model, d, t->step.priv);
    int any_done = 0;
    for (long i = 0; i < n; ++i) {
      int step = d->ep_step[i]; /* after the step: the row of the new observation */
      size_t prev = (size_t)i * (L + 1) + step - 1, row = prev + 1;
      t->stage.rew[prev] = t->step.rew[i];
      if (t->step.term[i]) t->stage.flags[prev] |= SF_ROW_TERMINATED;
      if (t->step.trunc[i]) t->stage.flags[prev] |= SF_ROW_TRUNCATED;
      memcpy(t->stage.obs + row * SF_OBS_DIM, t->step.obs + i * SF_OBS_DIM, SF_OBS_DIM * sizeof(float));
      memcpy(t->stage.priv + row * SF_PRIV_DIM, t->step.priv + i * SF_PRIV_DIM, SF_PRIV_DIM * sizeof(float));
      t->step.done[i] = t->step.term[i] || t->step.trunc[i];
      if (t->step.done[i]) {
        any_done = 1;
        size_t base = (size_t)i * (L + 1);
        sf_replay_add_episode(t->rb, (int)(i / N), step, t->stage.obs + base * SF_OBS_DIM,
                              t->stage.priv + base * SF_PRIV_DIM, t->stage.act + base * SF_ACT_DIM,
                              t->stage.expert + base * SF_ACT_DIM, t->stage.rew + base, t->stage.flags + base);
        sf_actor_state_reset(&t->st, (int)(i / N), (int)(i % N));
      }
    }
    for (int p = 0; p < P; ++p) t->ag.env_steps[p] += N;
    if (any_done) {
      sf_env_reset_masked(&t->model, d, t->step.done);
      sf_env_observe(&t->model, d, t->step.obs);
      sf_env_observe_privileged(&t->model, d, t->step.priv);
      for (long i = 0; i < n; ++i) {
        if (!t->step.done[i]) continue;
        size_t base = (size_t)i * (L + 1);
        memcpy(t->stage.obs + base * SF_OBS_DIM, t->step.obs + i * SF_OBS_DIM, SF_OBS_DIM * sizeof(float));
        memcpy(t->stage.priv + base * SF_PRIV_DIM, t->step.priv + i * SF_PRIV_DIM, SF_PRIV_DIM * sizeof(float));
      }
    }
  }
  return 0;
}

/* ---- updates ------------------------------------------------------------- */

/* Copy rows [r0, r0 + T) of each agent's [T + 1][B][F] block into a
 * [P][T][B][F] array. */
static void take_rows(int P, int T, int B, int F, int r0, const float *src, float *dst) {
  for (int p = 0; p < P; ++p)
    memcpy(dst + (size_t)p * T * B * F, src + ((size_t)p * (T + 1) + r0) * B * F, (size_t)T * B * F * sizeof(float));
}

/* The sampled batch as both phases read it: the actor's input over the T + 1
 * steps (x_seq), the critic's states at steps 0..T-1 (priv_cur) and
 * 1..T (priv_next). */
static void prepare_batch(sf_trainer *t) {
  const int P = t->P, T = t->s.seq_len, B = t->s.batch;
  sf_actor_make_input(t->actor->cfg.input, (long)P * (T + 1) * B, t->batch.obs, t->batch.priv, t->work.x_seq);
  take_rows(P, T, B, SF_PRIV_DIM, 1, t->batch.priv, t->work.priv_next);
  take_rows(P, T, B, SF_PRIV_DIM, 0, t->batch.priv, t->work.priv_cur);
}

static void critic_update(sf_trainer *t, sf_update_stats *stats) {
  const int P = t->P, T = t->s.seq_len, B = t->s.batch;
  const long rows = (long)T * B;
  /* Next actions from the target actor unrolled over the same sequence:
   * rows 1..T of its output are pi'(s_{t+1}), smoothed into a_smooth. */
  sf_actor_forward(t->actor_target, T + 1, B, t->work.x_seq, t->work.a_next);
  take_rows(P, T, B, SF_ACT_DIM, 1, t->work.a_next, t->work.a_smooth);
#pragma omp parallel for schedule(static)
  for (long r = 0; r < (long)P * rows; ++r) {
    int p = (int)(r / rows);
    float z[4];
    sf_normal4(sf_rng_bits(t->agent[p].seed, (uint32_t)(r % rows), (uint32_t)t->updates_done,
                           SF_STREAM(SF_RNG_TARGET, 0), 0),
               z);
    for (int j = 0; j < SF_ACT_DIM; ++j)
      t->work.a_smooth[r * SF_ACT_DIM + j] = sf_smoothed_action(t->work.a_smooth[r * SF_ACT_DIM + j], z[j],
                                                           t->agent[p].target_noise, t->agent[p].target_clip);
  }
  sf_mlp_forward(t->critic.target[0], rows, t->work.priv_next, SF_PRIV_DIM, t->work.a_smooth, t->work.q1);
  sf_mlp_forward(t->critic.target[1], rows, t->work.priv_next, SF_PRIV_DIM, t->work.a_smooth, t->work.q2);
  for (long r = 0; r < (long)P * rows; ++r)
    t->work.y[r] = sf_td_target(t->batch.rew[r], t->batch.done[r], t->agent[r / rows].gamma, t->work.q1[r], t->work.q2[r]);
  float *lr = malloc(sizeof(float) * P);
  for (int p = 0; p < P; ++p) {
    lr[p] = t->agent[p].critic_lr;
    stats[p].critic_loss = 0.0;
  }
  for (int c = 0; c < 2; ++c) {
    sf_mlp *q = t->critic.q[c];
    sf_mlp_forward(q, rows, t->work.priv_cur, SF_PRIV_DIM, t->batch.act, t->work.q1);
    for (int p = 0; p < P; ++p) {
      double n = 0, loss = 0;
      for (long r = (long)p * rows; r < (long)(p + 1) * rows; ++r) n += t->batch.mask[r];
      float inv_n = n > 0 ? (float)(1.0 / n) : 0.0f;
      for (long r = (long)p * rows; r < (long)(p + 1) * rows; ++r) {
        double e = t->work.q1[r] - t->work.y[r];
        loss += t->batch.mask[r] * e * e;
        t->work.dq[r] = sf_critic_grad(t->work.q1[r], t->work.y[r], t->batch.mask[r], inv_n);
      }
      stats[p].critic_loss += n > 0 ? loss / n : 0.0;
    }
    sf_params_zero_grad(&q->params);
    sf_mlp_backward(q, t->work.dq, 1, NULL, NULL);
    sf_adam_step_params(t->adam_critic[c], &q->params, lr);
  }
  free(lr);
}

static void actor_update(sf_trainer *t, const sf_plan *plan, sf_update_stats *stats) {
  const int P = t->P, T = t->s.seq_len, B = t->s.batch, W = t->s.warmup, in = t->actor->in_dim;
  const long rows = (long)T * B;
  take_rows(P, T, B, in, 0, t->work.x_seq, t->work.x_cur);
  sf_actor_forward(t->actor, T, B, t->work.x_cur, t->work.pi);
  /* Rows that carry the actor's loss: real steps after the warm-up. */
  memset(t->work.dqa, 0, sizeof(float) * P * rows * SF_ACT_DIM);
  double *lambda_q = calloc(P, sizeof(double)), *mean_q = calloc(P, sizeof(double)), *count = calloc(P, sizeof(double));
  /* am: the steps that carry the actor's loss. The warm-up exists because a
   * sequence starting mid-episode begins from a zero state that is not the
   * true one; a sequence starting at the episode's first step has the true
   * state from step 0 (the drone starts from zero too), so with
   * learn_from_start its warm-up steps count as well. */
  float *am = t->work.amask;
  for (int p = 0; p < P; ++p)
    for (long r = 0; r < rows; ++r) {
      long i = (long)p * rows + r;
      am[i] = sf_actor_step_mask(r, W, B, t->batch.offset[(long)p * B + r % B], t->s.learn_from_start, t->batch.mask[i]);
      count[p] += am[i];
    }
  if (plan->shape.critic) {
    sf_mlp *q1 = t->critic.q[0];
    sf_mlp_forward(q1, rows, t->work.priv_cur, SF_PRIV_DIM, t->work.pi, t->work.q1);
    for (int p = 0; p < P; ++p) {
      double sabs = 0, s = 0;
      for (long r = 0; r < rows; ++r) {
        long i = (long)p * rows + r;
        sabs += am[i] * fabs(t->work.q1[i]);
        s += am[i] * t->work.q1[i];
      }
      mean_q[p] = count[p] > 0 ? s / count[p] : 0.0;
      /* TD3 maximises Q itself; TD3BC scales Q so the BC term keeps its weight. */
      lambda_q[p] = plan->shape.plain_q ? 1.0 : sf_td3bc_lambda(plan->agent[p].alpha, count[p] > 0 ? sabs / count[p] : 0.0);
    }
    for (int p = 0; p < P; ++p) {
      float inv_n = count[p] > 0 ? (float)(1.0 / count[p]) : 0.0f;
      for (long r = 0; r < rows; ++r) {
        long i = (long)p * rows + r;
        t->work.dq[i] = -(float)lambda_q[p] * am[i] * inv_n;
      }
    }
    /* dL/d(action) through the critic: the critic's gradient reaches the actor. */
    sf_mlp_backward(q1, t->work.dq, 0, NULL, t->work.dqa);
  }
  float *lr = malloc(sizeof(float) * P);
  for (int p = 0; p < P; ++p) {
    lr[p] = t->agent[p].actor_lr;
    float lbc = plan->agent[p].lambda_bc;
    float inv_n = count[p] > 0 ? (float)(1.0 / count[p]) : 0.0f;
    double bc = 0;
    for (long r = 0; r < rows; ++r) {
      long i = (long)p * rows + r;
      float m = am[i];
      for (int j = 0; j < SF_ACT_DIM; ++j) {
        long k = i * SF_ACT_DIM + j;
        float target = t->s.bc_to_guide ? t->batch.expert[k] : t->batch.act[k], diff = t->work.pi[k] - target;
        bc += m * diff * diff;
        t->work.dpi[k] = sf_actor_action_grad(t->work.dqa[k], t->work.pi[k], target, m, lbc, inv_n);
      }
    }
    stats[p].mean_q = mean_q[p];
    stats[p].actor_loss = -lambda_q[p] * mean_q[p] + lbc * (count[p] > 0 ? bc / count[p] : 0.0);
  }
  sf_params_zero_grad(t->actor->params);
  sf_actor_backward(t->actor, T, B, 0, t->work.dpi); /* am already holds the warm-up */
  sf_adam_step_params(t->adam_actor, t->actor->params, lr);
  free(lr), free(lambda_q), free(mean_q), free(count);
}

int sf_trainer_update(sf_trainer *t, const sf_plan *plan, sf_update_stats *stats) {
  for (int p = 0; p < t->P; ++p)
    if (sf_replay_windows(t->rb, p, t->s.stride, t->s.warmup) == 0) return 1;
  for (int p = 0; p < t->P; ++p)
    sf_replay_sample(t->rb, p, t->s.stride, t->s.warmup, t->agent[p].seed, (uint32_t)t->updates_done, t->views[p]);
  for (int p = 0; p < t->P; ++p) {
    stats[p].critic_loss = t->ag.last_loss[2 * p];
    stats[p].actor_loss = t->ag.last_loss[2 * p + 1];
    stats[p].mean_q = 0;
  }
  prepare_batch(t);
  if (plan->shape.critic) critic_update(t, stats);
  if (t->updates_done % plan->shape.policy_delay == 0) {
    actor_update(t, plan, stats);
    sf_params_polyak(t->actor_target->params, t->actor->params, t->s.tau);
    if (plan->shape.critic) sf_twin_critic_polyak(&t->critic, t->s.tau);
  }
  for (int p = 0; p < t->P; ++p) {
    t->ag.last_loss[2 * p] = (float)stats[p].critic_loss;
    t->ag.last_loss[2 * p + 1] = (float)stats[p].actor_loss;
  }
  t->updates_done++;
  return 0;
}

int sf_trainer_evaluate(sf_trainer *t, const sf_plan *plan, sf_eval_stats *stats) {
  uint64_t *seeds = malloc(sizeof(uint64_t) * t->P);
  for (int p = 0; p < t->P; ++p) seeds[p] = t->agent[p].seed;
  int rc = sf_evaluate(t->actor, &t->model, seeds, t->s.eval_episodes, plan->eval_progress, t->s.survive_steps, stats,
                       NULL, 0, 0);
  free(seeds);
  return rc;
}

void sf_trainer_feed_schedules(sf_trainer *t, const sf_eval_stats *stats) {
  for (int p = 0; p < t->P; ++p) {
    float k = sf_slope_update(&t->sched[p], t->epoch, (float)stats[p].ret_final);
    sf_actor_set_slope(t->actor, p, k);
    sf_actor_set_slope(t->actor_target, p, k);
  }
}

/* ---- checkpoints --------------------------------------------------------- */

static void add_params(sf_st_writer *w, const sf_params *ps, const char *prefix) {
  for (int i = 0; i < ps->count; ++i) {
    const sf_param *t = &ps->t[i];
    char name[128];
    snprintf(name, sizeof name, "%s%s", prefix, t->name);
    /* A tensor of one agent is strided inside the agent-major buffer: copy it
     * out as [P][shape]. */
    float *buf = malloc(sizeof(float) * (size_t)ps->P * t->size);
    for (int p = 0; p < ps->P; ++p) memcpy(buf + (size_t)p * t->size, sf_param_at(t, p), sizeof(float) * t->size);
    int64_t shape[3] = {ps->P, t->shape[0], t->shape[1]};
    sf_st_add_copy(w, name, SF_ST_F32, 1 + t->ndim, shape, buf);
    free(buf);
  }
}

static void add_adam(sf_st_writer *w, const sf_adam *a, const char *name) {
  char key[96];
  int64_t shape[2] = {a->P, a->n};
  snprintf(key, sizeof key, "adam.%s.m", name);
  sf_st_add(w, key, SF_ST_F32, 2, shape, a->m);
  snprintf(key, sizeof key, "adam.%s.v", name);
  sf_st_add(w, key, SF_ST_F32, 2, shape, a->v);
  snprintf(key, sizeof key, "adam.%s.step", name);
  sf_st_add(w, key, SF_ST_I64, 1, shape, a->step);
}

int sf_trainer_save(sf_trainer *t, const char *path, const char *const *meta, char *err, size_t errlen) {
  sf_st_writer *w = sf_st_writer_new();
  void *owned[16];
  int nowned = 0;
  sf_trainer_add_state(t, w, owned, &nowned);
  add_params(w, t->actor->params, "");
  add_params(w, t->actor_target->params, "target.");
  add_adam(w, t->adam_actor, "actor");
  if (uses_critic(t)) {
    for (int c = 0; c < 2; ++c) {
      add_params(w, &t->critic.q[c]->params, "");
      add_params(w, &t->critic.target[c]->params, "");
      add_adam(w, t->adam_critic[c], c ? "critic2" : "critic1");
    }
  }
  double *slope = malloc(sizeof(double) * t->P * SF_SLOPE_STATE_LEN);
  int64_t counters[2] = {t->epoch, t->updates_done};
  uint64_t *seeds = malloc(sizeof(uint64_t) * t->P);
  for (int p = 0; p < t->P; ++p) {
    sf_slope_state_save(&t->sched[p], slope + (size_t)p * SF_SLOPE_STATE_LEN);
    seeds[p] = t->agent[p].seed;
  }
  int64_t s_slope[2] = {t->P, SF_SLOPE_STATE_LEN}, s_cnt[1] = {2}, s_seed[1] = {t->P};
  sf_st_add(w, "slope.state", SF_ST_F64, 2, s_slope, slope);
  sf_st_add(w, "train.counters", SF_ST_I64, 1, s_cnt, counters);
  sf_st_add(w, "train.seeds", SF_ST_U64, 1, s_seed, seeds);
  char desc[128], num[32];
  sf_actor_describe(&t->s.actor, desc, sizeof desc);
  sf_st_set_meta(w, "spikefly.actor", desc);
  sf_st_set_meta(w, "spikefly.actor_name", t->s.actor.name);
  sf_st_set_meta(w, "spikefly.algo", sf_algo_names[t->s.algo]);
  snprintf(num, sizeof num, "%d", t->P);
  sf_st_set_meta(w, "spikefly.agents", num);
  snprintf(num, sizeof num, "%d", t->epoch);
  sf_st_set_meta(w, "spikefly.epoch", num);
  for (int i = 0; meta && meta[i] && meta[i + 1]; i += 2) sf_st_set_meta(w, meta[i], meta[i + 1]);
  int rc = sf_st_write(w, path, err, errlen);
  sf_st_writer_free(w);
  for (int i = 0; i < nowned; ++i) free(owned[i]);
  free(slope), free(seeds);
  return rc;
}

static int params_finite(const sf_params *ps, const char *prefix, char *buf, size_t len) {
  for (int i = 0; i < ps->count; ++i)
    for (int p = 0; p < ps->P; ++p) {
      const float *v = sf_param_at(&ps->t[i], p);
      for (long k = 0; k < ps->t[i].size; ++k)
        if (!isfinite(v[k])) {
          snprintf(buf, len, "%s%s (agent %d)", prefix, ps->t[i].name, p);
          return 0;
        }
    }
  return 1;
}

const char *sf_trainer_check_finite(const sf_trainer *t, char *buf, size_t len) {
  if (!params_finite(t->actor->params, "", buf, len)) return buf;
  if (!params_finite(t->actor_target->params, "target.", buf, len)) return buf;
  if (t->critic.q[0])
    for (int c = 0; c < 2; ++c)
      if (!params_finite(&t->critic.q[c]->params, "", buf, len) ||
          !params_finite(&t->critic.target[c]->params, "", buf, len))
        return buf;
  return NULL;
}
