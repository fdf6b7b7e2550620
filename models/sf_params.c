#include "models/sf_params.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_philox.h"

void sf_params_begin(sf_params *ps, int P) {
  memset(ps, 0, sizeof *ps);
  ps->P = P;
}

int sf_params_add(sf_params *ps, const char *name, int ndim, int d0, int d1, float init_lo, float init_hi) {
  if (ps->count >= SF_PARAMS_MAX) return -1;
  sf_param *t = &ps->t[ps->count];
  snprintf(t->name, sizeof t->name, "%s", name);
  t->ndim = ndim;
  t->shape[0] = d0;
  t->shape[1] = ndim > 1 ? d1 : 1;
  t->size = (long)t->shape[0] * t->shape[1];
  t->offset = ps->n;
  t->init_lo = init_lo;
  t->init_hi = init_hi;
  ps->n += t->size;
  return ps->count++;
}

int sf_params_alloc(sf_params *ps) {
  size_t total = (size_t)ps->P * (size_t)ps->n;
  ps->data = calloc(total ? total : 1, sizeof(float));
  ps->grad = calloc(total ? total : 1, sizeof(float));
  if (!ps->data || !ps->grad) {
    sf_params_free(ps);
    return -1;
  }
  for (int i = 0; i < ps->count; ++i) {
    ps->t[i].data = ps->data + ps->t[i].offset;
    ps->t[i].grad = ps->grad + ps->t[i].offset;
    ps->t[i].stride = ps->n;
  }
  return 0;
}

void sf_params_free(sf_params *ps) {
  free(ps->data);
  free(ps->grad);
  ps->data = ps->grad = NULL;
}

int sf_params_find(const sf_params *ps, const char *name) {
  for (int i = 0; i < ps->count; ++i)
    if (!strcmp(ps->t[i].name, name)) return i;
  return -1;
}

/* FNV-1a of the tensor's name: the Philox counter's env word for its draws. */
static uint32_t name_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; ++s) h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

void sf_params_init_agent(sf_params *ps, int p, uint64_t seed) {
  for (int i = 0; i < ps->count; ++i) {
    sf_param *t = &ps->t[i];
    float *d = sf_param_at(t, p);
    uint32_t h = name_hash(t->name);
    for (long j = 0; j < t->size; j += 4) {
      /* One Philox block gives four elements; the lane counts blocks. */
      sf_u32x4 b = sf_rng_bits(seed, h, 0, SF_STREAM(SF_RNG_INIT, 0), (uint32_t)(j / 4));
      for (int q = 0; q < 4 && j + q < t->size; ++q) d[j + q] = sf_uniform(b.v[q], t->init_lo, t->init_hi);
    }
  }
}

void sf_params_init(sf_params *ps, const uint64_t *seeds) {
  for (int p = 0; p < ps->P; ++p) sf_params_init_agent(ps, p, seeds[p]);
}

void sf_params_zero_grad(sf_params *ps) { memset(ps->grad, 0, sizeof(float) * (size_t)ps->P * (size_t)ps->n); }

static int same_layout(const sf_params *a, const sf_params *b) {
  if (a->P != b->P || a->n != b->n || a->count != b->count) return 0;
  for (int i = 0; i < a->count; ++i)
    if (a->t[i].size != b->t[i].size || a->t[i].offset != b->t[i].offset) return 0;
  return 1;
}

int sf_params_copy(sf_params *dst, const sf_params *src) {
  if (!same_layout(dst, src)) return -1;
  memcpy(dst->data, src->data, sizeof(float) * (size_t)src->P * (size_t)src->n);
  return 0;
}

int sf_params_polyak(sf_params *dst, const sf_params *src, float tau) {
  if (!same_layout(dst, src)) return -1;
  long total = (long)src->P * src->n;
  float keep = 1.0f - tau;
  float *d = dst->data;
  const float *s = src->data;
#pragma omp parallel for simd schedule(static)
  for (long i = 0; i < total; ++i) d[i] = sf_polyak(d[i], s[i], keep, tau);
  return 0;
}

float sf_fan_in_bound(int fan_in) { return 1.0f / sqrtf((float)fan_in); }
