/* The parameters of a network for a population of P agents: one contiguous
 * float buffer laid out agent-major (agent p's parameters are the block
 * data[p * n .. (p + 1) * n)), a gradient buffer of the same layout, and the
 * list of named tensors inside a block (for checkpoints and export: a
 * checkpoint tensor is [P][shape...]).
 *
 * Initialisation draws from Philox keyed by each agent's own seed, with the
 * tensor's name choosing the counter, never the agent's index: agents with
 * the same seed start identical wherever they sit in a population, and two
 * networks with different names (critic1, critic2) start different. */
#ifndef SF_PARAMS_H
#define SF_PARAMS_H

#include <stdint.h>

#include "core/sf_defs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SF_PARAM_NAME_MAX 48
#define SF_PARAMS_MAX 24

typedef struct {
  char name[SF_PARAM_NAME_MAX]; /* "actor.fc1.weight" */
  int ndim;                     /* 1 or 2, without the P axis */
  int shape[2];                 /* weights are [out][in], as PyTorch */
  long size;                    /* elements per agent */
  long offset;                  /* from the start of an agent's block */
  float *data;                  /* agent 0's tensor; agent p's is data + p * stride */
  float *grad;                  /* same for the gradient */
  long stride;                  /* floats between agents (the block size) */
  float init_lo, init_hi;       /* initialised uniform in [init_lo, init_hi) */
} sf_param;

typedef struct {
  int P;
  long n;            /* floats per agent */
  float *data;       /* [P][n] */
  float *grad;       /* [P][n] */
  int count;
  sf_param t[SF_PARAMS_MAX];
} sf_params;

/* Building a list: declare tensors, then allocate (which fills the pointers).
 * sf_params_add returns the tensor's index, or -1 past SF_PARAMS_MAX. */
void sf_params_begin(sf_params *ps, int P);
int sf_params_add(sf_params *ps, const char *name, int ndim, int d0, int d1, float init_lo, float init_hi);
/* Returns 0, or -1 when the memory cannot be had. */
int sf_params_alloc(sf_params *ps);
void sf_params_free(sf_params *ps);

static inline float *sf_param_at(const sf_param *t, int p) { return t->data + (long)p * t->stride; }
static inline float *sf_param_grad_at(const sf_param *t, int p) { return t->grad + (long)p * t->stride; }
/* Index of the tensor called `name`, or -1. */
int sf_params_find(const sf_params *ps, const char *name);

/* Draw every tensor of agent p from its seed (seeds[p] for each p). */
void sf_params_init(sf_params *ps, const uint64_t *seeds);
void sf_params_init_agent(sf_params *ps, int p, uint64_t seed);
void sf_params_zero_grad(sf_params *ps);
/* dst = src for every agent (same layout required: returns -1 if not). */
int sf_params_copy(sf_params *dst, const sf_params *src);
/* Polyak averaging of a target copy: dst = (1 - tau) dst + tau src. */
int sf_params_polyak(sf_params *dst, const sf_params *src, float tau);
/* One target parameter's Polyak step (keep = 1 - tau), shared with the GPU. */
SF_HD float sf_polyak(float target, float online, float keep, float tau) { return keep * target + tau * online; }

/* PyTorch's default bound for nn.Linear weights and biases, 1 / sqrt(fan_in). */
float sf_fan_in_bound(int fan_in);

#ifdef __cplusplus
}
#endif
#endif
