/* The batched quadrotor environment on the CPU: P agents x N environments in
 * structure-of-arrays (env index i = p N + n), stepped in parallel with
 * OpenMP by the per-environment functions of sf_env_step.h (built on
 * sf_quad_math.h and sf_env_math.h), which the CUDA kernels run too.
 *
 * As in MuJoCo, the static model (sf_env_model: the quadrotor parameters and
 * the task settings) is kept apart from the dynamic data (sf_env_data: every
 * array that changes while flying). The data is a set of plain arrays that a
 * checkpoint can save and restore as they are (sf_env_data_arrays), and that
 * the CUDA backend mirrors one for one.
 *
 * Typical loop (auto-reset is the caller's choice):
 *   sf_env_reset_all(&model, d);
 *   sf_env_observe(&model, d, obs);
 *   for (...) {
 *     policy(obs) -> act;                         [P][N][4]
 *     sf_env_step(&model, d, act, rew, term, trunc);
 *     sf_env_observe(&model, d, next_obs);        (the post-step observation)
 *     ... store the transition, then for done = term | trunc:
 *     sf_env_reset_masked(&model, d, done);
 *     sf_env_observe(&model, d, obs);
 *   } */
#ifndef SF_ENV_H
#define SF_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "core/sf_config.h"
#include "sim/sf_env_config.h"
#include "sim/sf_env_math.h"
#include "sim/sf_quad_params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  sf_quad_params quad;
  sf_env_config task;
} sf_env_model;

/* Read `sim.*` and `env.*` keys (errors recorded in the config). 0 or -1. */
int sf_env_model_from_config(sf_config *cfg, sf_env_model *model);

typedef struct {
  int P, N;           /* agents, environments per agent */
  long n;             /* P * N, the stride of every plane */
  float *x;           /* [SF_QX_N][P][N]: the physical state planes (sf_quad_math.h) */
  float *hist;        /* [SF_HIST_LEN * SF_ACT_DIM][P][N]: ring of the last actions (clamped) */
  int32_t *hist_head; /* [P][N]: slot of the oldest action = the next one written */
  int32_t *ep_step;   /* [P][N]: steps since the last reset */
  uint32_t *rng_ctr;  /* [P][N]: draw counter, +1 per step and per reset, never rewound */
  uint64_t *seed;     /* [P]: each agent's Philox key */
  float *progress;    /* [P]: curriculum progress in [0, 1] (reward coefficients) */
} sf_env_data;

/* Allocate for P agents x N envs with the agents' seeds (copied). The state
 * is zero until a reset. NULL on allocation failure. */
sf_env_data *sf_env_data_new(int P, int N, const uint64_t *seeds);
void sf_env_data_free(sf_env_data *d);

/* Reset every env / the envs whose mask[i] is non-zero ([P][N]). */
void sf_env_reset_all(const sf_env_model *m, sf_env_data *d);
void sf_env_reset_masked(const sf_env_model *m, sf_env_data *d, const uint8_t *mask);

/* Step every env with actions [P][N][4] (clamped to [-1,1]). Writes the
 * reward [P][N] of arriving in the new state, terminated [P][N] (left the
 * box or non-finite: no bootstrapping) and truncated [P][N] (reached the time
 * limit without terminating: bootstrap). Any output may be NULL. Envs are not
 * reset here. */
void sf_env_step(const sf_env_model *m, sf_env_data *d, const float *actions, float *reward, uint8_t *terminated,
                 uint8_t *truncated);

/* Observation of the current state, [P][N][18], noisy as configured (the
 * noise is a function of the env's draw counter: reading twice gives the same
 * numbers). */
void sf_env_observe(const sf_env_model *m, const sf_env_data *d, float *obs);
/* Privileged observation, [P][N][146]: the noise-free 18 then the last 32
 * actions (4 each), oldest first. */
void sf_env_observe_privileged(const sf_env_model *m, const sf_env_data *d, float *obs);

/* The true state of env i, and its target at the current episode time. */
void sf_env_get_state(const sf_env_data *d, long i, sf_quad_state *s);
void sf_env_set_state(sf_env_data *d, long i, const sf_quad_state *s);
void sf_env_get_target(const sf_env_model *m, const sf_env_data *d, long i, float p[3], float v[3], float a[3]);

/* The dynamic data as named plain arrays, for checkpoints: save each as it
 * is; restore by writing the same number of elements back to `ptr`. */
typedef enum { SF_DT_F32, SF_DT_I32, SF_DT_U32, SF_DT_U64 } sf_dtype;
typedef struct {
  const char *name;
  void *ptr;
  sf_dtype dtype;
  size_t count;
} sf_env_array;
enum { SF_ENV_NARRAYS = 7 };
/* Fills out[SF_ENV_NARRAYS]; returns SF_ENV_NARRAYS. */
int sf_env_data_arrays(sf_env_data *d, sf_env_array *out);

#ifdef __cplusplus
}
#endif
#endif
