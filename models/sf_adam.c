#include "models/sf_adam.h"

#include <stdlib.h>
#include <string.h>

sf_adam *sf_adam_new(int P, long n, float beta1, float beta2, float eps) {
  if (P < 1 || n < 1) return NULL;
  sf_adam *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->P = P;
  a->n = n;
  a->beta1 = beta1;
  a->beta2 = beta2;
  a->eps = eps;
  a->m = calloc((size_t)P * n, sizeof(float));
  a->v = calloc((size_t)P * n, sizeof(float));
  a->step = calloc((size_t)P, sizeof(long));
  if (!a->m || !a->v || !a->step) {
    sf_adam_free(a);
    return NULL;
  }
  return a;
}

void sf_adam_free(sf_adam *a) {
  if (!a) return;
  free(a->m);
  free(a->v);
  free(a->step);
  free(a);
}

void sf_adam_reset(sf_adam *a) {
  memset(a->m, 0, sizeof(float) * (size_t)a->P * a->n);
  memset(a->v, 0, sizeof(float) * (size_t)a->P * a->n);
  memset(a->step, 0, sizeof(long) * (size_t)a->P);
}

void sf_adam_step(sf_adam *a, float *params, const float *grads, const float *lr) {
  const long n = a->n;
  for (int p = 0; p < a->P; ++p) {
    if (lr[p] == 0.0f) continue;
    long t = ++a->step[p];
    /* Bias corrections in double: b^t for large t underflows gracefully. */
    float step_size = (float)(lr[p] / (1.0 - pow(a->beta1, (double)t)));
    float bc2_sqrt = (float)sqrt(1.0 - pow(a->beta2, (double)t));
    float *pp = params + p * n, *m = a->m + p * n, *v = a->v + p * n;
    const float *g = grads + p * n;
    const float b1 = a->beta1, b2 = a->beta2, eps = a->eps;
#pragma omp parallel for simd schedule(static) if (n > (1L << 16))
    for (long i = 0; i < n; ++i) sf_adam_element(&pp[i], g[i], &m[i], &v[i], b1, b2, eps, step_size, bc2_sqrt);
  }
}

int sf_adam_step_params(sf_adam *a, sf_params *ps, const float *lr) {
  if (ps->P != a->P || ps->n != a->n) return -1;
  sf_adam_step(a, ps->data, ps->grad, lr);
  return 0;
}
