#include "rl/sf_actor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_safetensors.h"
#include "models/sf_lif_math.h"
#include "sim/sf_env_math.h"

const char *const sf_actor_kind_names[] = {"snn", "mlp", NULL};
const char *const sf_actor_input_names[] = {"obs", "obs_hist", "priv", NULL};

sf_actor_config sf_actor_default(sf_actor_kind kind, sf_actor_input input) {
  sf_actor_config c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  c.input = input;
  c.nhidden = 2;
  c.substeps = 1;
  c.hidden[0] = 256;
  c.hidden[1] = 128;
  snprintf(c.name, sizeof c.name, "actor");
  return c;
}

sf_actor_config sf_guide_actor_config(void) {
  sf_actor_config c = sf_actor_default(SF_ACTOR_MLP, SF_INPUT_PRIV);
  c.hidden[0] = 64;
  c.hidden[1] = 64;
  snprintf(c.name, sizeof c.name, "guide");
  return c;
}

int sf_actor_config_check_exportable(const sf_actor_config *c, char *why, size_t n) {
  if (c->kind != SF_ACTOR_SNN || c->nhidden == 2) return 0;
  snprintf(why, n,
           "a spiking actor with %d LIF layer%s could be trained but not exported: spikefly export, metrics and the "
           "embedded module take exactly two LIF layers (train.hidden = W1,W2)",
           c->nhidden, c->nhidden == 1 ? "" : "s");
  return -1;
}

void sf_actor_config_require_exportable(const sf_actor_config *c, sf_config *cfg) {
  char why[256];
  if (sf_actor_config_check_exportable(c, why, sizeof why) != 0) sf_cfg_fail(cfg, "config key 'train.hidden': %s", why);
}

int sf_actor_in_dim(sf_actor_input input) { return input == SF_INPUT_OBS ? SF_OBS_DIM : SF_PRIV_DIM; }

int sf_actor_config_check_stack(const sf_actor_config *c, char *why, size_t n) {
  if (c->frames < 0 || c->frames > 1000 || c->substeps < 1 || c->substeps > 1000)
    snprintf(why, n, "frame-stack mode takes 1 to 1000 frames and sub-steps, got %d frames and %d sub-steps",
             c->frames, c->substeps);
  else if (c->frames > 0 && c->kind != SF_ACTOR_SNN)
    snprintf(why, n, "frame-stack mode is for spiking actors (train.actor = snn)");
  else if (c->frames == 0 && c->substeps != 1)
    snprintf(why, n, "%d sub-steps per control step need frame-stack mode (train.frame_stack >= 1); a streaming "
             "SNN takes one step per control step", c->substeps);
  else
    return 0;
  return -1;
}

void sf_actor_describe(const sf_actor_config *c, char *out, size_t len) {
  int n = snprintf(out, len, "%s:%s:", sf_actor_kind_names[c->kind], sf_actor_input_names[c->input]);
  for (int i = 0; i < c->nhidden && n > 0 && (size_t)n < len; ++i)
    n += snprintf(out + n, len - (size_t)n, "%s%d", i ? "," : "", c->hidden[i]);
  if (c->frames > 0 && n > 0 && (size_t)n < len) snprintf(out + n, len - (size_t)n, ":stack=%dx%d", c->frames, c->substeps);
}

int sf_actor_parse(const char *desc, const char *name, sf_actor_config *c) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", desc);
  char *kind = buf, *input = strchr(buf, ':');
  if (!input) return -1;
  *input++ = 0;
  char *hidden = strchr(input, ':');
  if (!hidden) return -1;
  *hidden++ = 0;
  char *stack = strchr(hidden, ':');
  if (stack) *stack++ = 0;
  memset(c, 0, sizeof *c);
  c->substeps = 1;
  if (stack) {
    int used = 0;
    if (sscanf(stack, "stack=%dx%d%n", &c->frames, &c->substeps, &used) != 2 || stack[used] || c->frames < 1) return -1;
  }
  int k = -1, in = -1;
  for (int i = 0; sf_actor_kind_names[i]; ++i)
    if (!strcmp(kind, sf_actor_kind_names[i])) k = i;
  for (int i = 0; sf_actor_input_names[i]; ++i)
    if (!strcmp(input, sf_actor_input_names[i])) in = i;
  if (k < 0 || in < 0) return -1;
  c->kind = (sf_actor_kind)k;
  c->input = (sf_actor_input)in;
  for (char *p = hidden; *p;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || v < 1 || v > 65536 || c->nhidden == SF_SNN_MAX_LAYERS) return -1;
    c->hidden[c->nhidden++] = (int)v;
    if (*end == ',') ++end;
    else if (*end) return -1;
    p = end;
  }
  if (c->nhidden < 1 || (c->kind == SF_ACTOR_MLP && c->nhidden > SF_MLP_MAX_HIDDEN)) return -1;
  char why[160];
  if (sf_actor_config_check_stack(c, why, sizeof why) != 0) return -1;
  snprintf(c->name, sizeof c->name, "%s", name);
  return 0;
}

sf_actor *sf_actor_new(const sf_actor_config *cfg, int P, long max_rows) {
  char why[160];
  if (sf_actor_config_check_stack(cfg, why, sizeof why) != 0) return NULL;
  sf_actor *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->cfg = *cfg;
  a->P = P;
  a->in_dim = sf_actor_in_dim(cfg->input);
  if (cfg->kind == SF_ACTOR_SNN) {
    const int stack = cfg->frames > 0, S = stack ? cfg->substeps : 1;
    sf_snn_config sc = sf_snn_actor_config();
    sc.in = a->in_dim * (stack ? cfg->frames : 1);
    sc.tanh_out = !stack; /* frame-stack mode squashes the sub-steps' mean */
    sc.nlayers = cfg->nhidden;
    for (int i = 0; i < cfg->nhidden; ++i) sc.hidden[i] = cfg->hidden[i];
    snprintf(sc.name, sizeof sc.name, "%s", cfg->name);
    a->snn = sf_snn_new(&sc, P, max_rows * S);
    if (a->snn) a->params = &a->snn->params;
    if (a->snn && stack) {
      const size_t rows = (size_t)P * max_rows;
      a->xs = malloc(sizeof(float) * rows * S * sc.in);
      a->ys = malloc(sizeof(float) * rows * S * SF_ACT_DIM);
      a->ya = malloc(sizeof(float) * rows * SF_ACT_DIM);
      if (!a->xs || !a->ys || !a->ya) a->params = NULL;
    }
  } else {
    sf_mlp_config mc;
    memset(&mc, 0, sizeof mc);
    mc.in = a->in_dim;
    mc.nhidden = cfg->nhidden;
    for (int i = 0; i < cfg->nhidden; ++i) mc.hidden[i] = cfg->hidden[i];
    mc.out = SF_ACT_DIM;
    mc.tanh_out = 1;
    snprintf(mc.name, sizeof mc.name, "%s", cfg->name);
    a->mlp = sf_mlp_new(&mc, P, max_rows);
    if (a->mlp) a->params = &a->mlp->params;
  }
  if (!a->params) {
    sf_actor_free(a);
    return NULL;
  }
  return a;
}

void sf_actor_free(sf_actor *a) {
  if (!a) return;
  sf_snn_free(a->snn);
  sf_mlp_free(a->mlp);
  free(a->xs), free(a->ys), free(a->ya);
  free(a);
}

void sf_actor_init(sf_actor *a, const uint64_t *seeds) {
  if (a->snn) sf_snn_init(a->snn, seeds);
  else sf_mlp_init(a->mlp, seeds);
}

void sf_actor_set_slope(sf_actor *a, int p, float k) {
  if (a->snn) a->snn->slope[p] = k;
}

void sf_actor_make_input(sf_actor_input input, long rows, const float *obs, const float *priv, float *x) {
  switch (input) {
    case SF_INPUT_OBS:
      memcpy(x, obs, (size_t)rows * SF_OBS_DIM * sizeof(float));
      break;
    case SF_INPUT_PRIV:
      memcpy(x, priv, (size_t)rows * SF_PRIV_DIM * sizeof(float));
      break;
    case SF_INPUT_OBS_HIST:
      for (long r = 0; r < rows; ++r) {
        memcpy(x + r * SF_PRIV_DIM, obs + r * SF_OBS_DIM, SF_OBS_DIM * sizeof(float));
        memcpy(x + r * SF_PRIV_DIM + SF_OBS_DIM, priv + r * SF_PRIV_DIM + SF_OBS_DIM,
               (SF_PRIV_DIM - SF_OBS_DIM) * sizeof(float));
      }
      break;
  }
}

int sf_actor_state_init(sf_actor_state *st, const sf_actor *a, int N) {
  memset(st, 0, sizeof *st);
  if (!a->snn) return 0;
  st->snn = sf_snn_state_new(a->snn, N);
  if (!st->snn) return -1;
  if (a->cfg.frames == 0) return 0;
  st->P = a->P;
  st->N = N;
  st->width = a->cfg.frames * a->in_dim;
  const size_t envs = (size_t)a->P * N;
  st->ring = malloc(sizeof(float) * envs * st->width);
  st->fresh = malloc(envs);
  st->y = malloc(sizeof(float) * envs * SF_ACT_DIM);
  st->acc = malloc(sizeof(float) * envs * SF_ACT_DIM);
  if (!st->ring || !st->fresh || !st->y || !st->acc) {
    sf_actor_state_free(st);
    return -1;
  }
  memset(st->fresh, 1, envs);
  return 0;
}

void sf_actor_state_free(sf_actor_state *st) {
  sf_snn_state_free(st->snn);
  free(st->ring), free(st->fresh), free(st->y), free(st->acc);
  memset(st, 0, sizeof *st);
}

void sf_actor_state_reset(sf_actor_state *st, int p, int n) {
  if (st->fresh) st->fresh[(size_t)p * st->N + n] = 1;
  else if (st->snn) sf_snn_state_reset(st->snn, p, n);
}

void sf_actor_state_reset_all(sf_actor_state *st) {
  if (st->fresh) memset(st->fresh, 1, (size_t)st->P * st->N);
  else if (st->snn) sf_snn_state_reset_all(st->snn);
}

/* The action of frame-stack mode from the sum of the sub-steps' readouts
 * (summed from s = 0 up, in both modes, so both give the same bits). */
static inline float stack_action(float sum, int substeps) { return sf_tanh(sum / (float)substeps); }

static int stack_step(sf_actor *a, sf_actor_state *st, int N, const float *x, float *y) {
  const int in = a->in_dim, W = st->width, S = a->cfg.substeps;
  if (!st->ring || st->N != N) return -1;
  const long envs = (long)a->P * N;
#pragma omp parallel for schedule(static)
  for (long e = 0; e < envs; ++e) {
    float *r = st->ring + e * W;
    const float *xe = x + e * in;
    if (st->fresh[e]) {
      for (int f = 0; f < a->cfg.frames; ++f) memcpy(r + f * in, xe, sizeof(float) * in);
      st->fresh[e] = 0;
    } else {
      memmove(r, r + in, sizeof(float) * (W - in));
      memcpy(r + W - in, xe, sizeof(float) * in);
    }
  }
  sf_snn_state_reset_all(st->snn);
  memset(st->acc, 0, sizeof(float) * envs * SF_ACT_DIM);
  for (int s = 0; s < S; ++s) {
    if (sf_snn_step(a->snn, st->snn, st->ring, st->y) != 0) return -1;
    for (long i = 0; i < envs * SF_ACT_DIM; ++i) st->acc[i] += st->y[i];
  }
  for (long i = 0; i < envs * SF_ACT_DIM; ++i) y[i] = stack_action(st->acc[i], S);
  return 0;
}

int sf_actor_step(sf_actor *a, sf_actor_state *st, int N, const float *x, float *y) {
  if (a->snn && a->cfg.frames > 0) return stack_step(a, st, N, x, y);
  if (a->snn) return sf_snn_step(a->snn, st->snn, x, y);
  return sf_mlp_forward(a->mlp, N, x, a->in_dim, NULL, y);
}

/* Frame-stack mode over a sequence: every step of every sequence is one
 * sample of `substeps` SNN steps from rest, run as one sequence call of
 * length substeps over T * B samples. */
static int stack_forward(sf_actor *a, int T, int B, const float *x, float *y) {
  const int P = a->P, in = a->in_dim, F = a->cfg.frames, S = a->cfg.substeps, W = F * in;
  const long rows = (long)T * B;
  if (rows * S > a->snn->max_rows) return -1;
#pragma omp parallel for schedule(static)
  for (long pr = 0; pr < (long)P * rows; ++pr) {
    const long p = pr / rows, r = pr % rows, t = r / B, b = r % B;
    float *dst = a->xs + (p * S * rows + r) * W;
    for (int f = 0; f < F; ++f) {
      long tt = t - (F - 1) + f; /* the older slots of a sequence's first steps take its first input */
      if (tt < 0) tt = 0;
      memcpy(dst + f * in, x + ((p * T + tt) * B + b) * in, sizeof(float) * in);
    }
  }
  for (int p = 0; p < P; ++p)
    for (int s = 1; s < S; ++s)
      memcpy(a->xs + ((long)p * S + s) * rows * W, a->xs + (long)p * S * rows * W, sizeof(float) * rows * W);
  if (sf_snn_forward(a->snn, S, (int)rows, a->xs, a->ys) != 0) return -1;
#pragma omp parallel for schedule(static)
  for (long pr = 0; pr < (long)P * rows; ++pr) {
    const long p = pr / rows, r = pr % rows;
    for (int j = 0; j < SF_ACT_DIM; ++j) {
      float sum = 0.0f;
      for (int s = 0; s < S; ++s) sum += a->ys[((p * S + s) * rows + r) * SF_ACT_DIM + j];
      y[pr * SF_ACT_DIM + j] = a->ya[pr * SF_ACT_DIM + j] = stack_action(sum, S);
    }
  }
  a->seq_rows = rows;
  return 0;
}

static int stack_backward(sf_actor *a, const float *dy) {
  const int P = a->P, S = a->cfg.substeps;
  const long rows = a->seq_rows;
  if (rows == 0) return -1;
  /* d(mean readout) = dy * tanh'; each sub-step's readout gets 1/S of it */
#pragma omp parallel for schedule(static)
  for (long pr = 0; pr < (long)P * rows; ++pr) {
    const long p = pr / rows, r = pr % rows;
    for (int j = 0; j < SF_ACT_DIM; ++j) {
      float g = dy[pr * SF_ACT_DIM + j] * sf_tanh_grad_out(a->ya[pr * SF_ACT_DIM + j]) / (float)S;
      for (int s = 0; s < S; ++s) a->ys[((p * S + s) * rows + r) * SF_ACT_DIM + j] = g;
    }
  }
  a->seq_rows = 0;
  return sf_snn_backward(a->snn, 0, a->ys, NULL);
}

int sf_actor_forward(sf_actor *a, int T, int B, const float *x, float *y) {
  if (a->snn && a->cfg.frames > 0) return stack_forward(a, T, B, x, y);
  if (a->snn) return sf_snn_forward(a->snn, T, B, x, y);
  return sf_mlp_forward(a->mlp, (long)T * B, x, a->in_dim, NULL, y);
}

int sf_actor_backward(sf_actor *a, int T, int B, int warmup, const float *dy) {
  /* Frame-stack mode: the caller's dy is zero on the steps that carry no
   * loss (the trainer passes warmup 0 with the warm-up in dy). */
  if (a->snn && a->cfg.frames > 0) return warmup == 0 ? stack_backward(a, dy) : -1;
  if (a->snn) return sf_snn_backward(a->snn, warmup, dy, NULL);
  /* An MLP has no state: its warm-up steps are simply not differentiated,
   * which the caller's dy already says (zero there). */
  (void)T, (void)B, (void)warmup;
  return sf_mlp_backward(a->mlp, dy, 1, NULL, NULL);
}

sf_actor *sf_actor_load(const char *path, int agent, uint64_t *seed, char *err, size_t errlen) {
  sf_st_file *f = sf_st_open(path, SF_ST_ALLOW_NO_CRC, err, errlen);
  if (!f) return NULL;
  const char *desc = sf_st_meta_require(f, "spikefly.actor", err, errlen);
  const char *name = sf_st_meta(f, "spikefly.actor_name");
  sf_actor_config c;
  sf_actor *a = NULL;
  if (!desc) goto out;
  if (sf_actor_parse(desc, name ? name : "actor", &c) != 0) {
    snprintf(err, errlen, "%s: cannot read the network description '%s'", path, desc);
    goto out;
  }
  a = sf_actor_new(&c, 1, 1024);
  if (!a) {
    snprintf(err, errlen, "%s: cannot build the network '%s'", path, desc);
    goto out;
  }
  for (int i = 0; i < a->params->count; ++i) {
    const sf_param *t = &a->params->t[i];
    const sf_st_tensor *st = sf_st_find(f, t->name);
    if (!st || st->ndim < 1) {
      snprintf(err, errlen, "%s: no tensor '%s'", path, t->name);
      goto fail;
    }
    if (agent < 0 || agent >= st->shape[0]) {
      snprintf(err, errlen, "%s: holds %lld agent(s), no agent %d", path, (long long)st->shape[0], agent);
      goto fail;
    }
    int64_t shape[3] = {st->shape[0], t->shape[0], t->shape[1]};
    if (!sf_st_get(f, t->name, SF_ST_F32, 1 + t->ndim, shape, err, errlen)) goto fail;
    const float *src = (const float *)st->data + (size_t)agent * t->size;
    for (long e = 0; e < t->size; ++e)
      if (!isfinite(src[e])) {
        snprintf(err, errlen, "%s: tensor '%s' of agent %d holds a non-finite value at element %ld", path, t->name,
                 agent, e);
        goto fail;
      }
    memcpy(sf_param_at(t, 0), src, sizeof(float) * t->size);
  }
  sf_st_note_unchecked(f, path, err, errlen);
  if (seed) {
    const sf_st_tensor *s = sf_st_find(f, "train.seeds");
    *seed = s && s->dtype == SF_ST_U64 && agent < s->shape[0] ? ((const uint64_t *)s->data)[agent] : 0;
  }
  goto out;
fail:
  sf_actor_free(a);
  a = NULL;
out:
  sf_st_close(f);
  return a;
}
