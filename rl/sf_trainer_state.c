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

void sf_trainer_add_state(sf_trainer *t, sf_st_writer *w, void **owned, int *nowned) {
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
  if (t->st.ring) { /* frame-stack mode: each env's last frames, and which start an episode next */
    sh[0] = (int64_t)t->st.P * t->st.N * t->st.width;
    sf_st_add(w, "state.frames", SF_ST_F32, 1, sh, t->st.ring);
    sh[0] = (int64_t)t->st.P * t->st.N;
    sf_st_add(w, "state.fresh", SF_ST_U8, 1, sh, t->st.fresh);
  }
  sf_buffer_save(&t->layout[SF_BUFS_STAGE], &t->stage, w);
  sf_replay_save(t->rb, w, owned, nowned);
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
  /* A checkpoint re-saved by another tool (no checksum of ours) is taken
   * when its networks are finite (checked below). */
  sf_st_file *f = sf_st_open(path, SF_ST_ALLOW_NO_CRC, err, errlen);
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
    if (t->st.ring) {
      sh[0] = (int64_t)t->st.P * t->st.N * t->st.width;
      if (sf_st_read(f, "state.frames", SF_ST_F32, 1, sh, t->st.ring, err, errlen)) goto out;
      sh[0] = (int64_t)t->st.P * t->st.N;
      if (sf_st_read(f, "state.fresh", SF_ST_U8, 1, sh, t->st.fresh, err, errlen)) goto out;
    }
    if (sf_buffer_load(&t->layout[SF_BUFS_STAGE], &t->stage, f, err, errlen)) goto out;
    if (sf_replay_load(t->rb, f, path, err, errlen) != 0) goto out;
    sf_env_observe(&t->model, t->env, t->step.obs);
    sf_env_observe_privileged(&t->model, t->env, t->step.priv);
  }
  char bad[160];
  if (sf_trainer_check_finite(t, bad, sizeof bad)) {
    snprintf(err, errlen, "%s: the parameters of %s are not finite", path, bad);
    goto out;
  }
  char note[1024];
  sf_st_note_unchecked(f, path, note, sizeof note);
  if (note[0]) fprintf(stderr, "spikefly: %s\n", note);
  rc = 0;
out:
  free(tmp);
  sf_st_close(f);
  return rc;
}
