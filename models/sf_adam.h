/* Adam (Kingma & Ba) for a population: one optimiser state per agent over
 * that agent's block of a parameter buffer, a learning rate per agent, and a
 * step count per agent for the bias correction. The update is PyTorch's
 * torch.optim.Adam without weight decay or amsgrad:
 *   m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2,
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
#ifndef SF_ADAM_H
#define SF_ADAM_H

#include <math.h>

#include "core/sf_defs.h"
#include "models/sf_params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One element. step_size = lr / (1 - b1^t), bc2_sqrt = sqrt(1 - b2^t). */
SF_HD void sf_adam_element(float *p, float g, float *m, float *v, float b1, float b2, float eps, float step_size,
                           float bc2_sqrt) {
  float mm = b1 * *m + (1.0f - b1) * g;
  float vv = b2 * *v + (1.0f - b2) * g * g;
  *m = mm;
  *v = vv;
  *p -= step_size * mm / (sqrtf(vv) / bc2_sqrt + eps);
}

typedef struct {
  int P;
  long n;                 /* parameters per agent */
  float beta1, beta2, eps;
  float *m, *v;           /* [P][n] moments */
  long *step;             /* [P] updates taken */
} sf_adam;

/* For a parameter set (P agents of n floats). PyTorch's defaults are
 * beta1 0.9, beta2 0.999, eps 1e-8. NULL when memory cannot be had. */
sf_adam *sf_adam_new(int P, long n, float beta1, float beta2, float eps);
void sf_adam_free(sf_adam *a);
/* Zero moments and step counts (a fresh optimiser). */
void sf_adam_reset(sf_adam *a);

/* One update of every agent: params and grads [P][n], lr [P]. An agent with
 * lr[p] = 0 is skipped entirely (its moments and step do not move). */
void sf_adam_step(sf_adam *a, float *params, const float *grads, const float *lr);
/* The same on a parameter set (its data and grad buffers). Returns -1 when
 * the shapes differ. */
int sf_adam_step_params(sf_adam *a, sf_params *ps, const float *lr);

#ifdef __cplusplus
}
#endif
#endif
