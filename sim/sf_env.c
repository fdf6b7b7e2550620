#include "sim/sf_env.h"
#include "sim/sf_env_step.h"

#include <stdlib.h>
#include <string.h>

int sf_env_model_from_config(sf_config *cfg, sf_env_model *model) {
  int a = sf_quad_params_from_config(cfg, &model->quad);
  int b = sf_env_config_from_config(cfg, &model->task);
  return a || b ? -1 : 0;
}

sf_env_data *sf_env_data_new(int P, int N, const uint64_t *seeds) {
  if (P <= 0 || N <= 0) return NULL;
  sf_env_data *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->P = P;
  d->N = N;
  d->n = (long)P * N;
  size_t n = (size_t)d->n;
  d->x = calloc(SF_QX_N * n, sizeof *d->x);
  d->hist = calloc((size_t)SF_HIST_LEN * SF_ACT_DIM * n, sizeof *d->hist);
  d->hist_head = calloc(n, sizeof *d->hist_head);
  d->ep_step = calloc(n, sizeof *d->ep_step);
  d->rng_ctr = calloc(n, sizeof *d->rng_ctr);
  d->seed = calloc((size_t)P, sizeof *d->seed);
  d->progress = calloc((size_t)P, sizeof *d->progress);
  if (!d->x || !d->hist || !d->hist_head || !d->ep_step || !d->rng_ctr || !d->seed || !d->progress) {
    sf_env_data_free(d);
    return NULL;
  }
  memcpy(d->seed, seeds, (size_t)P * sizeof *seeds);
  return d;
}

void sf_env_data_free(sf_env_data *d) {
  if (!d) return;
  free(d->x);
  free(d->hist);
  free(d->hist_head);
  free(d->ep_step);
  free(d->rng_ctr);
  free(d->seed);
  free(d->progress);
  free(d);
}

/* Small batches are not worth waking the thread team for. Envs are handed
 * out in chunks as threads come free, so a thread paused on a busy machine
 * does not hold up the others (each env's arithmetic is its own). */
#define SF_OMP_MIN 256

void sf_env_reset_all(const sf_env_model *m, sf_env_data *d) {
#pragma omp parallel for schedule(dynamic, 64) if (d->n >= SF_OMP_MIN)
  for (long i = 0; i < d->n; ++i) sf_env_reset_one(m, d, i);
}

void sf_env_reset_masked(const sf_env_model *m, sf_env_data *d, const uint8_t *mask) {
#pragma omp parallel for schedule(dynamic, 64) if (d->n >= SF_OMP_MIN)
  for (long i = 0; i < d->n; ++i)
    if (mask[i]) sf_env_reset_one(m, d, i);
}

/* The build targets baseline x86-64; the physics loop is compiled again for
 * AVX2 and AVX-512 and the best one picked at load time. Each clone runs
 * the same IEEE operations per env (no contraction: -ffp-contract=off), so
 * the states do not depend on the clone or on the vector width. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define SF_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define SF_CLONES
#endif

/* Envs per block of the step: the physics of a block runs in vector lanes
 * (one env per lane), then the rest env by env. */
#define SF_STEP_BLOCK 64

SF_CLONES __attribute__((flatten)) static void step_physics_block(const sf_env_model *m, const sf_env_data *d, long i0, long i1,
                                         const float *actions) {
#pragma omp simd
  for (long i = i0; i < i1; ++i) sf_env_step_physics(m, d, i, actions + i * SF_ACT_DIM);
}

void sf_env_step(const sf_env_model *m, sf_env_data *d, const float *actions, float *reward, uint8_t *terminated,
                 uint8_t *truncated) {
  const long nb = (d->n + SF_STEP_BLOCK - 1) / SF_STEP_BLOCK;
#pragma omp parallel for schedule(dynamic, 1) if (d->n >= SF_OMP_MIN)
  for (long b = 0; b < nb; ++b) {
    const long i0 = b * SF_STEP_BLOCK, i1 = i0 + SF_STEP_BLOCK < d->n ? i0 + SF_STEP_BLOCK : d->n;
    step_physics_block(m, d, i0, i1, actions);
    for (long i = i0; i < i1; ++i)
      sf_env_step_rest(m, d, i, actions + i * SF_ACT_DIM, reward ? reward + i : NULL,
                       terminated ? terminated + i : NULL, truncated ? truncated + i : NULL);
  }
}

/* Rows of a block's noise: SF_OBS_DIM rounded up to whole Philox blocks. */
#define SF_NOISE_ROWS ((SF_OBS_DIM + 3) / 4 * 4)

/* The observation noise's normals of envs [i0, i1) of one agent, [value][env
 * - i0]: the numbers sf_env_obs_noise_draw gives env by env (four per
 * Philox block, Box-Muller on its two pairs), here with one env per vector
 * lane. Stage by stage, without arrays local to an env, so GCC vectorises
 * it; the portable maths of core/sf_fmath.h vectorise where the library's
 * logf and sinf did not. tests/test_sim_env.cc checks the bits. */
SF_CLONES __attribute__((flatten)) static void obs_noise_block(const sf_env_data *d, long i0, long i1,
                                                              float z[SF_NOISE_ROWS][SF_STEP_BLOCK]) {
  const uint64_t seed = d->seed[i0 / d->N];
  const uint32_t env0 = (uint32_t)(i0 % d->N), *ctr = d->rng_ctr + i0;
  const int n = (int)(i1 - i0);
  for (int b = 0; b < SF_NOISE_ROWS / 4; ++b) {
#pragma omp simd
    for (int l = 0; l < n; ++l) {
      const sf_u32x4 r = sf_rng_bits(seed, env0 + (uint32_t)l, ctr[l], SF_STREAM(SF_RNG_OBS_NOISE, b), 0);
      sf_box_muller(r.v[0], r.v[1], &z[4 * b][l], &z[4 * b + 1][l]);
      sf_box_muller(r.v[2], r.v[3], &z[4 * b + 2][l], &z[4 * b + 3][l]);
    }
  }
}

void sf_env_observe(const sf_env_model *m, const sf_env_data *d, float *obs) {
  const long nb = (d->n + SF_STEP_BLOCK - 1) / SF_STEP_BLOCK;
  const int noisy = sf_env_obs_noisy(&m->task);
#pragma omp parallel for schedule(dynamic, 1) if (d->n >= SF_OMP_MIN)
  for (long b = 0; b < nb; ++b) {
    const long i0 = b * SF_STEP_BLOCK, i1 = i0 + SF_STEP_BLOCK < d->n ? i0 + SF_STEP_BLOCK : d->n;
    if (!noisy || i0 / d->N != (i1 - 1) / d->N) { /* a block across two agents: env by env */
      for (long i = i0; i < i1; ++i) sf_env_observe_one(m, d, i, obs + i * SF_OBS_DIM);
      continue;
    }
    float z[SF_NOISE_ROWS][SF_STEP_BLOCK];
    obs_noise_block(d, i0, i1, z);
    for (long i = i0; i < i1; ++i) {
      sf_env_observe_clean_one(m, d, i, obs + i * SF_OBS_DIM);
      sf_env_obs_noise_add(&m->task, &z[0][i - i0], SF_STEP_BLOCK, obs + i * SF_OBS_DIM);
    }
  }
}

void sf_env_observe_privileged(const sf_env_model *m, const sf_env_data *d, float *obs) {
#pragma omp parallel for schedule(dynamic, 64) if (d->n >= SF_OMP_MIN)
  for (long i = 0; i < d->n; ++i) sf_env_observe_privileged_one(m, d, i, obs + i * SF_PRIV_DIM);
}

void sf_env_get_state(const sf_env_data *d, long i, sf_quad_state *s) { sf_quad_load(d->x, d->n, i, s); }

void sf_env_set_state(sf_env_data *d, long i, const sf_quad_state *s) { sf_quad_store(s, d->x, d->n, i); }

void sf_env_get_target(const sf_env_model *m, const sf_env_data *d, long i, float p[3], float v[3], float a[3]) {
  sf_traj_target(&m->task, (float)d->ep_step[i] * m->quad.dt, p, v, a);
}

int sf_env_data_arrays(sf_env_data *d, sf_env_array *out) {
  size_t n = (size_t)d->n;
  out[0] = (sf_env_array){"x", d->x, SF_DT_F32, SF_QX_N * n};
  out[1] = (sf_env_array){"hist", d->hist, SF_DT_F32, (size_t)SF_HIST_LEN * SF_ACT_DIM * n};
  out[2] = (sf_env_array){"hist_head", d->hist_head, SF_DT_I32, n};
  out[3] = (sf_env_array){"ep_step", d->ep_step, SF_DT_I32, n};
  out[4] = (sf_env_array){"rng_ctr", d->rng_ctr, SF_DT_U32, n};
  out[5] = (sf_env_array){"seed", d->seed, SF_DT_U64, (size_t)d->P};
  out[6] = (sf_env_array){"progress", d->progress, SF_DT_F32, (size_t)d->P};
  return SF_ENV_NARRAYS;
}
