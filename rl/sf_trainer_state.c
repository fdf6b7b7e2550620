/* The trainer's full state in a checkpoint, for resuming a run exactly:
 * networks and their targets, Adam moments, slope schedules, counters, and
 * for online algorithms the environments, the actor's streaming state, the
 * episodes in progress and the replay buffer. On the CPU backend a resumed
 * run computes the same numbers as one never interrupted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_safetensors.h"
#include "rl/sf_rl_math.h"
#include "rl/sf_trainer.h"

static const sf_st_dtype env_dtypes[] = {SF_ST_F32, SF_ST_I32, SF_ST_U32, SF_ST_U64};

/* Highest row any stored episode of agent p reaches. */
static long high_water(const sf_replay *rb) {
  long hw = 0;
  for (int p = 0; p < rb->P; ++p) {
    if (rb->write_row[p] > hw) hw = rb->write_row[p];
    for (int i = 0; i < rb->ep_count[p]; ++i) {
      const sf_episode_ref *e = &rb->eps[(size_t)p * rb->max_eps + (size_t)((rb->ep_head[p] + i) % rb->max_eps)];
      if (e->start + e->len + 1 > hw) hw = e->start + e->len + 1;
    }
  }
  return hw;
}

void sf_trainer_add_state(sf_trainer *t, sf_st_writer *w, void **owned, int *nowned) {
  const int P = t->P;
  int64_t sh[3];
  sf_buffer_save(&t->layout[SF_BUFS_AGENT], &t->ag, w);
  if (!t->online) return;
  sf_env_array arr[SF_ENV_NARRAYS];
  int na = sf_env_data_arrays(t->env, arr);
  for (int i = 0; i < na; ++i) {
    char name[64];
    snprintf(name, sizeof name, "env.%s", arr[i].name);
    sh[0] = (int64_t)arr[i].count;
    sf_st_add(w, name, env_dtypes[arr[i].dtype], 1, sh, arr[i].ptr);
  }
  if (t->st.snn) {
    const sf_snn_state *st = t->st.snn;
    for (int l = 0; l < st->nlayers; ++l) {
      char name[64];
      sh[0] = (int64_t)st->P * st->B * st->hidden[l];
      snprintf(name, sizeof name, "state.u%d", l + 1);
      sf_st_add(w, name, SF_ST_F32, 1, sh, st->u[l]);
      snprintf(name, sizeof name, "state.s%d", l + 1);
      sf_st_add(w, name, SF_ST_F32, 1, sh, st->s[l]);
    }
  }
  sf_buffer_save(&t->layout[SF_BUFS_STAGE], &t->stage, w);
  /* The replay buffer: rows up to the high-water mark of each agent's ring,
   * copied out as [P][hw][...], and the episode tables. */
  const sf_replay *rb = t->rb;
  long hw = high_water(rb);
  if (hw < 1) hw = 1;
  float *o = malloc(sizeof(float) * P * hw * SF_OBS_DIM), *pv = malloc(sizeof(float) * P * hw * SF_PRIV_DIM);
  float *a = malloc(sizeof(float) * P * hw * SF_ACT_DIM), *ex = malloc(sizeof(float) * P * hw * SF_ACT_DIM);
  float *r = malloc(sizeof(float) * P * hw);
  uint8_t *f = malloc((size_t)P * hw);
  for (int p = 0; p < P; ++p) {
    size_t src = (size_t)p * rb->capacity, dst = (size_t)p * hw;
    memcpy(o + dst * SF_OBS_DIM, rb->obs + src * SF_OBS_DIM, sizeof(float) * hw * SF_OBS_DIM);
    memcpy(pv + dst * SF_PRIV_DIM, rb->priv + src * SF_PRIV_DIM, sizeof(float) * hw * SF_PRIV_DIM);
    memcpy(a + dst * SF_ACT_DIM, rb->act + src * SF_ACT_DIM, sizeof(float) * hw * SF_ACT_DIM);
    memcpy(ex + dst * SF_ACT_DIM, rb->expert + src * SF_ACT_DIM, sizeof(float) * hw * SF_ACT_DIM);
    memcpy(r + dst, rb->rew + src, sizeof(float) * hw);
    memcpy(f + dst, rb->flags + src, hw);
  }
  int64_t *tab = malloc(sizeof(int64_t) * ((size_t)P * rb->max_eps * 2 + (size_t)P * 6));
  int64_t *eps = tab, *heads = tab + (size_t)P * rb->max_eps * 2;
  for (long i = 0; i < (long)P * rb->max_eps; ++i) eps[2 * i] = rb->eps[i].start, eps[2 * i + 1] = rb->eps[i].len;
  for (int p = 0; p < P; ++p) {
    int64_t *h = heads + 6 * p;
    h[0] = rb->ep_head[p], h[1] = rb->ep_count[p], h[2] = rb->write_row[p], h[3] = rb->transitions[p],
    h[4] = rb->added[p], h[5] = hw;
  }
  owned[(*nowned)++] = o, owned[(*nowned)++] = pv, owned[(*nowned)++] = a, owned[(*nowned)++] = ex;
  owned[(*nowned)++] = r;
  owned[(*nowned)++] = f, owned[(*nowned)++] = tab;
  int64_t s3[3] = {P, hw, SF_OBS_DIM};
  sf_st_add(w, "replay.obs", SF_ST_F32, 3, s3, o);
  s3[2] = SF_PRIV_DIM;
  sf_st_add(w, "replay.priv", SF_ST_F32, 3, s3, pv);
  s3[2] = SF_ACT_DIM;
  sf_st_add(w, "replay.act", SF_ST_F32, 3, s3, a);
  sf_st_add(w, "replay.expert", SF_ST_F32, 3, s3, ex);
  sf_st_add(w, "replay.rew", SF_ST_F32, 2, s3, r);
  sf_st_add(w, "replay.flags", SF_ST_U8, 2, s3, f);
  int64_t se[3] = {P, rb->max_eps, 2}, sh6[2] = {P, 6};
  sf_st_add(w, "replay.episodes", SF_ST_I64, 3, se, eps);
  sf_st_add(w, "replay.heads", SF_ST_I64, 2, sh6, heads);
}

static int read_params(const sf_st_file *f, sf_params *ps, const char *prefix, char *err, size_t errlen) {
  for (int i = 0; i < ps->count; ++i) {
    const sf_param *t = &ps->t[i];
    char name[128];
    snprintf(name, sizeof name, "%s%s", prefix, t->name);
    int64_t shape[3] = {ps->P, t->shape[0], t->shape[1]};
    const sf_st_tensor *st = sf_st_get(f, name, SF_ST_F32, 1 + t->ndim, shape, err, errlen);
    if (!st) return -1;
    for (int p = 0; p < ps->P; ++p)
      memcpy(sf_param_at(t, p), (const float *)st->data + (size_t)p * t->size, sizeof(float) * t->size);
  }
  return 0;
}

static int read_adam(const sf_st_file *f, sf_adam *a, const char *name, char *err, size_t errlen) {
  char key[96];
  int64_t sh[2] = {a->P, a->n};
  snprintf(key, sizeof key, "adam.%s.m", name);
  if (sf_st_read(f, key, SF_ST_F32, 2, sh, a->m, err, errlen)) return -1;
  snprintf(key, sizeof key, "adam.%s.v", name);
  if (sf_st_read(f, key, SF_ST_F32, 2, sh, a->v, err, errlen)) return -1;
  snprintf(key, sizeof key, "adam.%s.step", name);
  return sf_st_read(f, key, SF_ST_I64, 1, sh, a->step, err, errlen);
}

int sf_trainer_load(sf_trainer *t, const char *path, char *err, size_t errlen) {
  sf_st_file *f = sf_st_open(path, 0, err, errlen);
  if (!f) return -1;
  const int P = t->P;
  int rc = -1;
  int64_t sh[3];
  void *tmp = NULL;
  if (read_params(f, t->actor->params, "", err, errlen) || read_params(f, t->actor_target->params, "target.", err, errlen) ||
      read_adam(f, t->adam_actor, "actor", err, errlen))
    goto out;
  if (t->critic.q[0])
    for (int c = 0; c < 2; ++c)
      if (read_params(f, &t->critic.q[c]->params, "", err, errlen) ||
          read_params(f, &t->critic.target[c]->params, "", err, errlen) ||
          read_adam(f, t->adam_critic[c], c ? "critic2" : "critic1", err, errlen))
        goto out;
  tmp = malloc(sizeof(double) * P * (SF_SLOPE_STATE_LEN + 8));
  sh[0] = P, sh[1] = SF_SLOPE_STATE_LEN;
  if (sf_st_read(f, "slope.state", SF_ST_F64, 2, sh, tmp, err, errlen)) goto out;
  for (int p = 0; p < P; ++p)
    if (sf_slope_state_load(&t->sched[p], (const double *)tmp + (size_t)p * SF_SLOPE_STATE_LEN) != 0) {
      snprintf(err, errlen, "%s: slope schedule state of agent %d is not valid", path, p);
      goto out;
    }
  sh[0] = 2;
  if (sf_st_read(f, "train.counters", SF_ST_I64, 1, sh, tmp, err, errlen)) goto out;
  const int64_t *cnt = tmp;
  if (cnt[0] < 0 || cnt[1] < 0) {
    snprintf(err, errlen, "%s: negative epoch or update count", path);
    goto out;
  }
  t->epoch = (int)cnt[0];
  t->updates_done = cnt[1];
  if (sf_buffer_load(&t->layout[SF_BUFS_AGENT], &t->ag, f, err, errlen)) goto out;
  for (int p = 0; p < P; ++p) {
    float k = sf_slope_k(&t->sched[p]);
    sf_actor_set_slope(t->actor, p, k);
    sf_actor_set_slope(t->actor_target, p, k);
  }
  if (t->online) {
    sf_env_array arr[SF_ENV_NARRAYS];
    int na = sf_env_data_arrays(t->env, arr);
    for (int i = 0; i < na; ++i) {
      char name[64];
      snprintf(name, sizeof name, "env.%s", arr[i].name);
      sh[0] = (int64_t)arr[i].count;
      if (sf_st_read(f, name, env_dtypes[arr[i].dtype], 1, sh, arr[i].ptr, err, errlen)) goto out;
    }
    if (t->st.snn) {
      sf_snn_state *st = t->st.snn;
      for (int l = 0; l < st->nlayers; ++l) {
        char name[64];
        sh[0] = (int64_t)st->P * st->B * st->hidden[l];
        snprintf(name, sizeof name, "state.u%d", l + 1);
        if (sf_st_read(f, name, SF_ST_F32, 1, sh, st->u[l], err, errlen)) goto out;
        snprintf(name, sizeof name, "state.s%d", l + 1);
        if (sf_st_read(f, name, SF_ST_F32, 1, sh, st->s[l], err, errlen)) goto out;
      }
    }
    if (sf_buffer_load(&t->layout[SF_BUFS_STAGE], &t->stage, f, err, errlen)) goto out;
    sf_replay *rb = t->rb;
    int64_t s6[2] = {P, 6};
    const sf_st_tensor *heads = sf_st_get(f, "replay.heads", SF_ST_I64, 2, s6, err, errlen);
    if (!heads) goto out;
    const int64_t *h = heads->data;
    long hw = (long)h[5];
    if (hw < 1 || hw > rb->capacity) {
      snprintf(err, errlen, "%s: replay buffer of %ld rows does not fit train.buffer = %ld", path, hw, rb->capacity);
      goto out;
    }
    int64_t se[3] = {P, rb->max_eps, 2}, s3[3] = {P, hw, SF_OBS_DIM};
    const sf_st_tensor *eps = sf_st_get(f, "replay.episodes", SF_ST_I64, 3, se, err, errlen);
    const sf_st_tensor *o = eps ? sf_st_get(f, "replay.obs", SF_ST_F32, 3, s3, err, errlen) : NULL;
    s3[2] = SF_PRIV_DIM;
    const sf_st_tensor *pv = o ? sf_st_get(f, "replay.priv", SF_ST_F32, 3, s3, err, errlen) : NULL;
    s3[2] = SF_ACT_DIM;
    const sf_st_tensor *a = pv ? sf_st_get(f, "replay.act", SF_ST_F32, 3, s3, err, errlen) : NULL;
    const sf_st_tensor *ex = a ? sf_st_get(f, "replay.expert", SF_ST_F32, 3, s3, err, errlen) : NULL;
    const sf_st_tensor *r = ex ? sf_st_get(f, "replay.rew", SF_ST_F32, 2, s3, err, errlen) : NULL;
    const sf_st_tensor *fl = r ? sf_st_get(f, "replay.flags", SF_ST_U8, 2, s3, err, errlen) : NULL;
    if (!fl) goto out;
    for (int p = 0; p < P; ++p) {
      size_t dst = (size_t)p * rb->capacity, src = (size_t)p * hw;
      memcpy(rb->obs + dst * SF_OBS_DIM, (const float *)o->data + src * SF_OBS_DIM, sizeof(float) * hw * SF_OBS_DIM);
      memcpy(rb->priv + dst * SF_PRIV_DIM, (const float *)pv->data + src * SF_PRIV_DIM, sizeof(float) * hw * SF_PRIV_DIM);
      memcpy(rb->act + dst * SF_ACT_DIM, (const float *)a->data + src * SF_ACT_DIM, sizeof(float) * hw * SF_ACT_DIM);
      memcpy(rb->expert + dst * SF_ACT_DIM, (const float *)ex->data + src * SF_ACT_DIM,
             sizeof(float) * hw * SF_ACT_DIM);
      memcpy(rb->rew + dst, (const float *)r->data + src, sizeof(float) * hw);
      memcpy(rb->flags + dst, (const uint8_t *)fl->data + src, hw);
      const int64_t *hp = h + 6 * p;
      if (hp[0] < 0 || hp[0] >= rb->max_eps || hp[1] < 0 || hp[1] > rb->max_eps || hp[2] < 0 || hp[2] > rb->capacity) {
        snprintf(err, errlen, "%s: replay buffer table of agent %d is not valid", path, p);
        goto out;
      }
      rb->ep_head[p] = (int)hp[0], rb->ep_count[p] = (int)hp[1], rb->write_row[p] = hp[2];
      rb->transitions[p] = hp[3], rb->added[p] = hp[4];
    }
    const int64_t *e = eps->data;
    for (int p = 0; p < P; ++p)
      for (int k = 0; k < rb->ep_count[p]; ++k) { /* the live entries of agent p's ring */
        long i = (long)p * rb->max_eps + (rb->ep_head[p] + k) % rb->max_eps;
        if (e[2 * i] < 0 || e[2 * i + 1] < 1 || e[2 * i] + e[2 * i + 1] + 1 > hw) {
          snprintf(err, errlen, "%s: replay buffer episode table is not valid", path);
          goto out;
        }
        rb->eps[i].start = e[2 * i];
        rb->eps[i].len = (int)e[2 * i + 1];
      }
    sf_env_observe(&t->model, t->env, t->step.obs);
    sf_env_observe_privileged(&t->model, t->env, t->step.priv);
  }
  rc = 0;
out:
  free(tmp);
  sf_st_close(f);
  return rc;
}
