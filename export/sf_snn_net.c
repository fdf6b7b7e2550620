#include "export/sf_snn_net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_philox.h"
#include "core/sf_safetensors.h"
#include "models/sf_lif_math.h"

int sf_snn_net_alloc(sf_snn_net *net, int n_in, int n_h1, int n_h2, int n_out) {
  memset(net, 0, sizeof *net);
  if (n_in < 1 || n_h1 < 1 || n_h2 < 1 || n_out < 1) return -1;
  net->n_in = n_in;
  net->n_h1 = n_h1;
  net->n_h2 = n_h2;
  net->n_out = n_out;
  net->w1 = calloc((size_t)n_h1 * n_in, sizeof(float));
  net->b1 = calloc((size_t)n_h1, sizeof(float));
  net->beta1 = calloc((size_t)n_h1, sizeof(float));
  net->thr1 = calloc((size_t)n_h1, sizeof(float));
  net->w2 = calloc((size_t)n_h2 * n_h1, sizeof(float));
  net->b2 = calloc((size_t)n_h2, sizeof(float));
  net->beta2 = calloc((size_t)n_h2, sizeof(float));
  net->thr2 = calloc((size_t)n_h2, sizeof(float));
  net->w3 = calloc((size_t)n_out * n_h2, sizeof(float));
  net->b3 = calloc((size_t)n_out, sizeof(float));
  if (!net->w1 || !net->b1 || !net->beta1 || !net->thr1 || !net->w2 || !net->b2 || !net->beta2 ||
      !net->thr2 || !net->w3 || !net->b3) {
    sf_snn_net_free(net);
    return -1;
  }
  return 0;
}

void sf_snn_net_free(sf_snn_net *net) {
  free(net->w1);
  free(net->b1);
  free(net->beta1);
  free(net->thr1);
  free(net->w2);
  free(net->b2);
  free(net->beta2);
  free(net->thr2);
  free(net->w3);
  free(net->b3);
  memset(net, 0, sizeof *net);
}

size_t sf_snn_net_params(const sf_snn_net *net) {
  size_t n1 = (size_t)net->n_h1, n2 = (size_t)net->n_h2;
  return n1 * net->n_in + 3 * n1 + n2 * n1 + 3 * n2 + (size_t)net->n_out * n2 + net->n_out;
}

/* Fills x[0..n) with U(lo, hi): element e is lane e % 4 of draw e / 4 of the
 * (seed, tensor) stream. */
static void fill_uniform(float *x, size_t n, uint64_t seed, uint32_t tensor, float lo, float hi) {
  for (size_t e = 0; e < n; e += 4) {
    sf_u32x4 b = sf_rng_bits(seed, 0, (uint32_t)(e / 4), SF_STREAM(SF_RNG_INIT, tensor), 0);
    for (size_t l = 0; l < 4 && e + l < n; ++l) x[e + l] = sf_uniform(b.v[l], lo, hi);
  }
}

void sf_snn_net_init_seeded(sf_snn_net *net, uint64_t seed, float gain) {
  float k1 = gain / sqrtf((float)net->n_in), k2 = gain / sqrtf((float)net->n_h1);
  float k3 = 1.0f / sqrtf((float)net->n_h2);
  fill_uniform(net->w1, (size_t)net->n_h1 * net->n_in, seed, 0, -k1, k1);
  fill_uniform(net->b1, (size_t)net->n_h1, seed, 1, -k1, k1);
  fill_uniform(net->beta1, (size_t)net->n_h1, seed, 2, 0.5f, 1.0f);
  fill_uniform(net->thr1, (size_t)net->n_h1, seed, 3, 0.5f, 1.5f);
  fill_uniform(net->w2, (size_t)net->n_h2 * net->n_h1, seed, 4, -k2, k2);
  fill_uniform(net->b2, (size_t)net->n_h2, seed, 5, -k2, k2);
  fill_uniform(net->beta2, (size_t)net->n_h2, seed, 6, 0.5f, 1.0f);
  fill_uniform(net->thr2, (size_t)net->n_h2, seed, 7, 0.5f, 1.5f);
  fill_uniform(net->w3, (size_t)net->n_out * net->n_h2, seed, 8, -k3, k3);
  fill_uniform(net->b3, (size_t)net->n_out, seed, 9, -k3, k3);
}

/* ---- checkpoint ------------------------------------------------------- */

/* The float32 tensor `name` with `ndim` dimensions, the first being the
 * population; its per-agent shape goes to dims. */
static const sf_st_tensor *find_f32(const sf_st_file *f, const char *path, const char *name, int ndim,
                                    char *err, size_t errlen) {
  const sf_st_tensor *t = sf_st_find(f, name);
  if (!t) {
    snprintf(err, errlen, "%s: no tensor '%s' (not an SNN actor checkpoint?)", path, name);
    return NULL;
  }
  if (t->dtype != SF_ST_F32 || t->ndim != ndim) {
    snprintf(err, errlen, "%s: tensor '%s' is %s with %d dimensions, expected F32 with %d ([P]%s)",
             path, name, sf_st_dtype_name(t->dtype), t->ndim, ndim, ndim == 3 ? "[out][in]" : "[n]");
    return NULL;
  }
  return t;
}

/* The reason a checkpoint's actor, as its "spikefly.actor" metadata
 * describes it ("kind:input:w1,w2,..."), is not a network this module takes:
 * a spiking actor of the 18-value observation with two LIF layers. 0 when it
 * is one (or the file does not say). */
static int actor_unsupported(const sf_st_file *f, const char *path, char *err, size_t errlen) {
  const char *desc = sf_st_meta(f, "spikefly.actor");
  if (!desc) return 0;
  const char *in = strchr(desc, ':'), *widths = in ? strchr(in + 1, ':') : NULL;
  if (!widths) return 0;
  int layers = 1;
  for (const char *p = widths + 1; *p; ++p) layers += *p == ',';
  if (strncmp(desc, "snn:", 4) != 0)
    snprintf(err, errlen, "%s: the actor '%s' is an ANN (%.*s), not a spiking network: only spiking actors are "
             "exported and measured", path, desc, (int)(in - desc), desc);
  else if (strncmp(in, ":obs:", 5) != 0)
    snprintf(err, errlen, "%s: the actor '%s' takes the input '%.*s'; an exported controller takes the 18-value "
             "observation (train.actor_input = obs)", path, desc, (int)(widths - in - 1), in + 1);
  else if (strchr(widths + 1, ':'))
    snprintf(err, errlen, "%s: the actor '%s' runs in frame-stack mode (from rest at every control step); export "
             "and metrics take a streaming SNN, whose state carries over (train.frame_stack = 0)", path, desc);
  else if (layers != 2)
    snprintf(err, errlen, "%s: the actor '%s' has %d LIF layer%s; export and metrics take exactly two "
             "(train.hidden = W1,W2)", path, desc, layers, layers == 1 ? "" : "s");
  else
    return 0;
  return -1;
}

int sf_snn_net_load(sf_snn_net *net, const char *path, int agent, char *err, size_t errlen) {
  memset(net, 0, sizeof *net);
  sf_st_file *f = sf_st_open(path, SF_ST_ALLOW_NO_CRC, err, errlen);
  if (!f) return -1;
  if (actor_unsupported(f, path, err, errlen)) goto fail;
  const char *wname[3] = {"actor.fc1.weight", "actor.fc2.weight", "actor.fc3.weight"};
  const sf_st_tensor *w[3];
  for (int l = 0; l < 3; ++l)
    if (!(w[l] = find_f32(f, path, wname[l], 3, err, errlen))) goto fail;
  int64_t P = w[0]->shape[0];
  int n_in = (int)w[0]->shape[2], n_h1 = (int)w[0]->shape[1];
  int n_h2 = (int)w[1]->shape[1], n_out = (int)w[2]->shape[1];
  if (w[1]->shape[2] != n_h1 || w[2]->shape[2] != n_h2 || w[1]->shape[0] != P || w[2]->shape[0] != P) {
    snprintf(err, errlen,
             "%s: layer sizes do not chain: fc1 [%lld][%d][%d], fc2 [%lld][%lld][%lld], fc3 [%lld][%lld][%lld]",
             path, (long long)P, n_h1, n_in, (long long)w[1]->shape[0], (long long)w[1]->shape[1],
             (long long)w[1]->shape[2], (long long)w[2]->shape[0], (long long)w[2]->shape[1],
             (long long)w[2]->shape[2]);
    goto fail;
  }
  if (agent < 0 || agent >= P) {
    snprintf(err, errlen, "%s: agent %d does not exist (the checkpoint holds %lld agents, 0..%lld)", path,
             agent, (long long)P, (long long)P - 1);
    goto fail;
  }
  if (sf_snn_net_alloc(net, n_in, n_h1, n_h2, n_out) != 0) {
    snprintf(err, errlen, "%s: cannot allocate a network of sizes %d-%d-%d-%d", path, n_in, n_h1, n_h2, n_out);
    goto fail;
  }
  struct {
    const char *name;
    int n, m; /* per-agent shape [n] or [n][m] */
    float *dst;
  } items[] = {
      {"actor.fc1.weight", n_h1, n_in, net->w1}, {"actor.fc1.bias", n_h1, 0, net->b1},
      {"actor.lif1.beta", n_h1, 0, net->beta1},  {"actor.lif1.threshold", n_h1, 0, net->thr1},
      {"actor.fc2.weight", n_h2, n_h1, net->w2}, {"actor.fc2.bias", n_h2, 0, net->b2},
      {"actor.lif2.beta", n_h2, 0, net->beta2},  {"actor.lif2.threshold", n_h2, 0, net->thr2},
      {"actor.fc3.weight", n_out, n_h2, net->w3}, {"actor.fc3.bias", n_out, 0, net->b3},
  };
  for (size_t i = 0; i < sizeof items / sizeof items[0]; ++i) {
    int ndim = items[i].m ? 3 : 2;
    int64_t shape[3] = {P, items[i].n, items[i].m};
    const sf_st_tensor *t = sf_st_get(f, items[i].name, SF_ST_F32, ndim, shape, err, errlen);
    if (!t) goto fail;
    size_t per = (size_t)items[i].n * (size_t)(items[i].m ? items[i].m : 1);
    memcpy(items[i].dst, (const float *)t->data + per * (size_t)agent, per * sizeof(float));
    for (size_t e = 0; e < per; ++e)
      if (!isfinite(items[i].dst[e])) {
        snprintf(err, errlen, "%s: tensor '%s' of agent %d holds a non-finite value at element %zu", path,
                 items[i].name, agent, e);
        goto fail;
      }
  }
  sf_st_note_unchecked(f, path, err, errlen);
  sf_st_close(f);
  return 0;
fail:
  sf_st_close(f);
  sf_snn_net_free(net);
  return -1;
}

/* ---- a model's parameters -------------------------------------------- */

int sf_snn_net_from_params(sf_snn_net *net, const sf_params *ps, const char *prefix, int agent, char *err,
                           size_t errlen) {
  memset(net, 0, sizeof *net);
  if (agent < 0 || agent >= ps->P) {
    snprintf(err, errlen, "agent %d does not exist (the model holds %d agents)", agent, ps->P);
    return -1;
  }
  static const char *const suffix[10] = {"fc1.weight", "fc1.bias", "lif1.beta", "lif1.threshold", "fc2.weight",
                                         "fc2.bias",   "lif2.beta", "lif2.threshold", "fc3.weight", "fc3.bias"};
  const sf_param *t[10];
  for (int i = 0; i < 10; ++i) {
    char name[SF_PARAM_NAME_MAX + 16];
    snprintf(name, sizeof name, "%s.%s", prefix, suffix[i]);
    int k = sf_params_find(ps, name);
    if (k < 0) {
      snprintf(err, errlen, "the model has no tensor '%s' (not a two-layer SNN actor?)", name);
      return -1;
    }
    t[i] = &ps->t[k];
  }
  char extra[SF_PARAM_NAME_MAX + 16];
  snprintf(extra, sizeof extra, "%s.fc4.weight", prefix);
  if (sf_params_find(ps, extra) >= 0) {
    snprintf(err, errlen, "the model has more than two LIF layers ('%s')", extra);
    return -1;
  }
  const int n_h1 = t[0]->shape[0], n_in = t[0]->shape[1], n_h2 = t[4]->shape[0], n_out = t[8]->shape[0];
  if (t[4]->shape[1] != n_h1 || t[8]->shape[1] != n_h2) {
    snprintf(err, errlen, "the model's layer sizes do not chain");
    return -1;
  }
  if (sf_snn_net_alloc(net, n_in, n_h1, n_h2, n_out) != 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  float *dst[10] = {net->w1, net->b1, net->beta1, net->thr1, net->w2, net->b2, net->beta2, net->thr2, net->w3, net->b3};
  const long want[10] = {(long)n_h1 * n_in, n_h1, n_h1, n_h1, (long)n_h2 * n_h1, n_h2, n_h2, n_h2,
                         (long)n_out * n_h2, n_out};
  for (int i = 0; i < 10; ++i) {
    if (t[i]->size != want[i]) {
      snprintf(err, errlen, "the model's tensor '%s.%s' has %ld elements, expected %ld", prefix, suffix[i],
               t[i]->size, want[i]);
      sf_snn_net_free(net);
      return -1;
    }
    memcpy(dst[i], sf_param_at(t[i], agent), sizeof(float) * (size_t)want[i]);
  }
  return 0;
}

/* ---- reference forward ------------------------------------------------ */

int sf_snn_ref_alloc(sf_snn_ref_state *st, const sf_snn_net *net) {
  st->u1 = calloc((size_t)net->n_h1, sizeof(float));
  st->s1 = calloc((size_t)net->n_h1, sizeof(float));
  st->u2 = calloc((size_t)net->n_h2, sizeof(float));
  st->s2 = calloc((size_t)net->n_h2, sizeof(float));
  if (!st->u1 || !st->s1 || !st->u2 || !st->s2) {
    sf_snn_ref_free(st);
    return -1;
  }
  return 0;
}

void sf_snn_ref_free(sf_snn_ref_state *st) {
  free(st->u1);
  free(st->s1);
  free(st->u2);
  free(st->s2);
  memset(st, 0, sizeof *st);
}

/* The start state of the models' LIF (sf_lif_math.inc): U = 0 and
 * S_{-1} = H(-theta), 1 for a neuron whose threshold is negative. */
void sf_snn_ref_reset(sf_snn_ref_state *st, const sf_snn_net *net) {
  memset(st->u1, 0, sizeof(float) * (size_t)net->n_h1);
  memset(st->u2, 0, sizeof(float) * (size_t)net->n_h2);
  for (int o = 0; o < net->n_h1; ++o) st->s1[o] = sf_lif_start_spike(net->thr1[o]);
  for (int o = 0; o < net->n_h2; ++o) st->s2[o] = sf_lif_start_spike(net->thr2[o]);
}

static float clamp01(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }

/* y = W x + b, then one LIF step of every neuron; s holds S_{t-1} on entry
 * and S_t on return. */
static void linear_lif(const float *w, const float *b, const float *beta, const float *thr, int n_out,
                       int n_in, const float *x, float *u, float *s) {
  for (int o = 0; o < n_out; ++o) {
    float i_t = b[o];
    for (int i = 0; i < n_in; ++i) i_t = i_t + w[(size_t)o * n_in + i] * x[i];
    float v = clamp01(beta[o]) * u[o] + i_t - s[o] * thr[o];
    u[o] = v;
    s[o] = v > thr[o] ? 1.0f : 0.0f;
  }
}

void sf_snn_ref_step(const sf_snn_net *net, sf_snn_ref_state *st, const float *obs, float *act) {
  linear_lif(net->w1, net->b1, net->beta1, net->thr1, net->n_h1, net->n_in, obs, st->u1, st->s1);
  linear_lif(net->w2, net->b2, net->beta2, net->thr2, net->n_h2, net->n_h1, st->s1, st->u2, st->s2);
  for (int o = 0; o < net->n_out; ++o) {
    float z = net->b3[o];
    for (int j = 0; j < net->n_h2; ++j) z = z + net->w3[(size_t)o * net->n_h2 + j] * st->s2[j];
    act[o] = tanhf(z);
  }
}
