#include "rl/sf_replay.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_philox.h"

sf_replay *sf_replay_new(int P, long capacity, int obs_dim, int priv_dim, int act_dim) {
  sf_replay *rb = calloc(1, sizeof *rb);
  if (!rb) return NULL;
  rb->P = P;
  rb->capacity = capacity;
  rb->obs_dim = obs_dim;
  rb->priv_dim = priv_dim;
  rb->act_dim = act_dim;
  /* An episode takes at least two rows, so capacity / 2 episodes at most. */
  rb->max_eps = (int)(capacity / 2 + 1);
  const int64_t C = capacity;
  const sf_buffer_spec rows[] = {
      {"replay.obs", SF_ST_F32, offsetof(sf_replay, obs), 3, {P, C, obs_dim}},
      {"replay.priv", SF_ST_F32, offsetof(sf_replay, priv), 3, {P, C, priv_dim}},
      {"replay.act", SF_ST_F32, offsetof(sf_replay, act), 3, {P, C, act_dim}},
      {"replay.expert", SF_ST_F32, offsetof(sf_replay, expert), 3, {P, C, act_dim}},
      {"replay.rew", SF_ST_F32, offsetof(sf_replay, rew), 2, {P, C}},
      {"replay.flags", SF_ST_U8, offsetof(sf_replay, flags), 2, {P, C}},
  };
  sf_buffer_layout_make(&rb->rows, rows, (int)SF_ARRAY_LEN(rows));
  rb->block = sf_buffer_alloc(&rb->rows, rb);
  rb->eps = calloc((size_t)P * rb->max_eps, sizeof(sf_episode_ref));
  rb->ep_head = calloc(P, sizeof(int));
  rb->ep_count = calloc(P, sizeof(int));
  rb->write_row = calloc(P, sizeof(long));
  rb->transitions = calloc(P, sizeof(long));
  rb->added = calloc(P, sizeof(long));
  if (!rb->block || !rb->eps || !rb->ep_head ||
      !rb->ep_count || !rb->write_row || !rb->transitions || !rb->added) {
    sf_replay_free(rb);
    return NULL;
  }
  return rb;
}

void sf_replay_free(sf_replay *rb) {
  if (!rb) return;
  free(rb->block);
  free(rb->eps);
  free(rb->ep_head);
  free(rb->ep_count);
  free(rb->write_row);
  free(rb->transitions);
  free(rb->added);
  free(rb);
}

static sf_episode_ref *ep_at(const sf_replay *rb, int p, int i) {
  return &rb->eps[(size_t)p * rb->max_eps + (size_t)((rb->ep_head[p] + i) % rb->max_eps)];
}

/* Evict the oldest episodes while they overlap rows [start, start + n). */
static void evict_overlapping(sf_replay *rb, int p, long start, long n) {
  while (rb->ep_count[p] > 0) {
    sf_episode_ref *e = ep_at(rb, p, 0);
    long e0 = e->start, e1 = e->start + e->len + 1;
    if (e1 <= start || e0 >= start + n) break;
    rb->transitions[p] -= e->len;
    rb->ep_head[p] = (rb->ep_head[p] + 1) % rb->max_eps;
    rb->ep_count[p]--;
  }
}

int sf_replay_add_episode(sf_replay *rb, int p, int len, const float *obs, const float *priv,
                          const float *act, const float *expert, const float *rew, const uint8_t *flags) {
  long rows = (long)len + 1;
  if (len < 1 || rows > rb->capacity) return -1;
  long start = rb->write_row[p];
  if (start + rows > rb->capacity) {
    /* Episodes stay contiguous: skip the ring's tail and wrap to row 0.
     * Everything still stored in the skipped tail is evicted with it. */
    evict_overlapping(rb, p, start, rb->capacity - start);
    start = 0;
  }
  evict_overlapping(rb, p, start, rows);
  size_t base = (size_t)p * rb->capacity + (size_t)start;
  memcpy(rb->obs + base * rb->obs_dim, obs, (size_t)rows * rb->obs_dim * sizeof(float));
  memcpy(rb->priv + base * rb->priv_dim, priv, (size_t)rows * rb->priv_dim * sizeof(float));
  memcpy(rb->act + base * rb->act_dim, act, (size_t)len * rb->act_dim * sizeof(float));
  memset(rb->act + (base + len) * rb->act_dim, 0, rb->act_dim * sizeof(float));
  memcpy(rb->expert + base * rb->act_dim, expert ? expert : act, (size_t)len * rb->act_dim * sizeof(float));
  memset(rb->expert + (base + len) * rb->act_dim, 0, rb->act_dim * sizeof(float));
  memcpy(rb->rew + base, rew, (size_t)len * sizeof(float));
  rb->rew[base + len] = 0.0f;
  memcpy(rb->flags + base, flags, (size_t)len);
  rb->flags[base + len] = SF_ROW_END;
  if (rb->ep_count[p] == rb->max_eps) {
    rb->transitions[p] -= ep_at(rb, p, 0)->len;
    rb->ep_head[p] = (rb->ep_head[p] + 1) % rb->max_eps;
    rb->ep_count[p]--;
  }
  sf_episode_ref *e = ep_at(rb, p, rb->ep_count[p]);
  e->start = start;
  e->len = len;
  rb->ep_count[p]++;
  rb->write_row[p] = start + rows;
  rb->transitions[p] += len;
  rb->added[p] += len;
  return 0;
}

static long windows_of(const sf_replay *rb, int len, int stride, int warmup) {
  return len > warmup ? (long)(len - warmup - 1) / stride + 1 : rb->from_start ? 1 : 0;
}

long sf_replay_windows(const sf_replay *rb, int p, int stride, int warmup) {
  long n = 0;
  for (int i = 0; i < rb->ep_count[p]; ++i) n += windows_of(rb, ep_at(rb, p, i)->len, stride, warmup);
  return n;
}

sf_seq_batch *sf_seq_batch_new(int T, int B, int obs_dim, int priv_dim, int act_dim) {
  sf_seq_batch *b = calloc(1, sizeof *b);
  b->T = T;
  b->B = B;
  b->obs = calloc((size_t)(T + 1) * B * obs_dim, sizeof(float));
  b->priv = calloc((size_t)(T + 1) * B * priv_dim, sizeof(float));
  b->act = calloc((size_t)T * B * act_dim, sizeof(float));
  b->expert = calloc((size_t)T * B * act_dim, sizeof(float));
  b->rew = calloc((size_t)T * B, sizeof(float));
  b->done = calloc((size_t)T * B, sizeof(float));
  b->mask = calloc((size_t)T * B, sizeof(float));
  b->guide = calloc((size_t)T * B, sizeof(float));
  b->episode = calloc(B, sizeof(int));
  b->offset = calloc(B, sizeof(int));
  return b;
}

void sf_seq_batch_free(sf_seq_batch *b) {
  if (!b) return;
  free(b->obs);
  free(b->priv);
  free(b->act);
  free(b->expert);
  free(b->rew);
  free(b->done);
  free(b->mask);
  free(b->guide);
  free(b->episode);
  free(b->offset);
  free(b);
}

int sf_replay_draw(const sf_replay *rb, int p, int stride, int warmup, uint64_t seed, uint32_t draw, int B,
                   sf_window *w) {
  int n_eps = rb->ep_count[p];
  long *cum = malloc((size_t)(n_eps + 1) * sizeof(long));
  if (!cum) return -1;
  cum[0] = 0;
  for (int i = 0; i < n_eps; ++i) cum[i + 1] = cum[i] + windows_of(rb, ep_at(rb, p, i)->len, stride, warmup);
  long total = cum[n_eps];
  for (int j = 0; j < B && total > 0; ++j) {
    sf_u32x4 r = sf_rng_bits(seed, (uint32_t)j, draw, SF_STREAM(SF_RNG_SAMPLE, 0), 0);
    /* 64 random bits make the modulo bias negligible for any buffer size. */
    uint64_t u = ((uint64_t)r.v[0] << 32) | r.v[1];
    long k = (long)(u % (uint64_t)total);
    int lo = 0, hi = n_eps - 1; /* the episode whose window range holds k */
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (cum[mid + 1] <= k) lo = mid + 1;
      else hi = mid;
    }
    const sf_episode_ref *e = ep_at(rb, p, lo);
    w[j] = (sf_window){.row0 = e->start, .len = e->len, .off = (int)(k - cum[lo]) * stride, .episode = lo};
  }
  free(cum);
  return total > 0 ? 0 : -1;
}

int sf_replay_sample(const sf_replay *rb, int p, int stride, int warmup, uint64_t seed,
                     uint32_t draw, sf_seq_batch *b) {
  sf_window *w = malloc(sizeof(sf_window) * (size_t)b->B);
  if (!w) return -1;
  if (sf_replay_draw(rb, p, stride, warmup, seed, draw, b->B, w) != 0) {
    free(w);
    return -1;
  }
  size_t base = (size_t)p * rb->capacity;
  const sf_replay_rows rows = {rb->obs_dim,        rb->priv_dim,       rb->act_dim, rb->obs + base * rb->obs_dim,
                               rb->priv + base * rb->priv_dim, rb->act + base * rb->act_dim,
                               rb->expert + base * rb->act_dim, rb->rew + base, rb->flags + base};
  for (int j = 0; j < b->B; ++j) {
    b->episode[j] = w[j].episode;
    b->offset[j] = w[j].off;
    for (int t = 0; t <= b->T; ++t) sf_replay_gather_step(&rows, &w[j], t, j, b);
  }
  free(w);
  return 0;
}

/* ---- checkpoints ----------------------------------------------------------- */

/* Highest row any stored episode of any agent reaches (at least 1). */
static long high_water(const sf_replay *rb) {
  long hw = 1;
  for (int p = 0; p < rb->P; ++p) {
    if (rb->write_row[p] > hw) hw = rb->write_row[p];
    for (int i = 0; i < rb->ep_count[p]; ++i) {
      const sf_episode_ref *e = &rb->eps[(size_t)p * rb->max_eps + (size_t)((rb->ep_head[p] + i) % rb->max_eps)];
      if (e->start + e->len + 1 > hw) hw = e->start + e->len + 1;
    }
  }
  return hw;
}

void sf_replay_save(const sf_replay *rb, sf_st_writer *w, void **owned, int *nowned) {
  const int P = rb->P;
  const long hw = high_water(rb);
  sf_buffer_save_rows(&rb->rows, rb, hw, w);
  int64_t *tab = malloc(sizeof(int64_t) * ((size_t)P * rb->max_eps * 2 + (size_t)P * 6));
  if (!tab) return; /* the writer then lacks the tables and the load says so */
  int64_t *eps = tab, *heads = tab + (size_t)P * rb->max_eps * 2;
  for (long i = 0; i < (long)P * rb->max_eps; ++i) eps[2 * i] = rb->eps[i].start, eps[2 * i + 1] = rb->eps[i].len;
  for (int p = 0; p < P; ++p) {
    int64_t *h = heads + 6 * p;
    h[0] = rb->ep_head[p], h[1] = rb->ep_count[p], h[2] = rb->write_row[p], h[3] = rb->transitions[p],
    h[4] = rb->added[p], h[5] = hw;
  }
  owned[(*nowned)++] = tab;
  int64_t se[3] = {P, rb->max_eps, 2}, sh6[2] = {P, 6};
  sf_st_add(w, "replay.episodes", SF_ST_I64, 3, se, eps);
  sf_st_add(w, "replay.heads", SF_ST_I64, 2, sh6, heads);
}

/* Agent p's ring heads and live episode entries from a checkpoint's tables,
 * checked against the rows it holds (hw). 0 or -1. */
static int load_tables(sf_replay *rb, int p, const int64_t *hp, const int64_t *e, long hw) {
  if (hp[0] < 0 || hp[0] >= rb->max_eps || hp[1] < 0 || hp[1] > rb->max_eps || hp[2] < 0 || hp[2] > rb->capacity)
    return -1;
  rb->ep_head[p] = (int)hp[0], rb->ep_count[p] = (int)hp[1], rb->write_row[p] = hp[2];
  rb->transitions[p] = hp[3], rb->added[p] = hp[4];
  for (int k = 0; k < rb->ep_count[p]; ++k) {
    long i = (long)p * rb->max_eps + (rb->ep_head[p] + k) % rb->max_eps;
    if (e[2 * i] < 0 || e[2 * i + 1] < 1 || e[2 * i] + e[2 * i + 1] + 1 > hw) return -1;
    rb->eps[i].start = e[2 * i];
    rb->eps[i].len = (int)e[2 * i + 1];
  }
  return 0;
}

int sf_replay_load(sf_replay *rb, const sf_st_file *f, const char *path, char *err, size_t errlen) {
  const int P = rb->P;
  int64_t s6[2] = {P, 6}, se[3] = {P, rb->max_eps, 2};
  const sf_st_tensor *heads = sf_st_get(f, "replay.heads", SF_ST_I64, 2, s6, err, errlen);
  const sf_st_tensor *eps = heads ? sf_st_get(f, "replay.episodes", SF_ST_I64, 3, se, err, errlen) : NULL;
  if (!eps) return -1;
  const int64_t *h = heads->data;
  const long hw = (long)h[5];
  if (hw < 1 || hw > rb->capacity) {
    snprintf(err, errlen, "%s: replay buffer of %ld rows does not fit train.buffer = %ld", path, hw, rb->capacity);
    return -1;
  }
  if (sf_buffer_load_rows(&rb->rows, rb, hw, f, err, errlen) != 0) return -1;
  for (int p = 0; p < P; ++p)
    if (load_tables(rb, p, h + 6 * p, eps->data, hw) != 0) {
      snprintf(err, errlen, "%s: replay buffer tables of agent %d are not valid", path, p);
      return -1;
    }
  return 0;
}
