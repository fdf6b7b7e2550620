/* `spikefly bench sim`: environment steps per second of the batched
 * simulator, on the CPU (OpenMP) or on the GPU (CUDA), with random actions. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sf_defs.h"
#include "core/sf_philox.h"
#include "host/sf_cli.h"
#include "sim/sf_env.h"
#ifdef SF_HAVE_CUDA
#include "kernels/sf_env_cuda.h"
#endif

static const char *const targets[] = {"sim", NULL};
static const char *const devices[] = {"cpu", "cuda", NULL};

static const sf_flag bench_flags[] = {
    {"device", "bench.device", NULL, "DEV", "cpu (OpenMP, all cores; set OMP_NUM_THREADS) or cuda (default cpu)"},
    {"envs", "bench.envs", NULL, "N", "environments stepped together (default 4096)"},
    {"steps", "bench.steps", NULL, "S", "steps per environment timed (default 1000)"},
    {"seed", "bench.seed", NULL, "S", "seed of the starts, noise and random actions (default 1)"},
};

static const sf_cmd_spec bench_spec = {
    "bench", "sim", "measure environment steps per second of the simulator", bench_flags,
    (int)SF_ARRAY_LEN(bench_flags), 1, 1,
    "Two figures, both in environment steps per second (envs x steps / seconds):\n"
    "  step      sf_env_step alone: clamp, RK4 with the motor lag, reward,\n"
    "            termination, action history\n"
    "  loop      what a training loop pays: step, 18-value noisy observation and\n"
    "            auto-reset of the envs that are done\n"
    "Actions are uniform in [-1, 1] (Philox), pre-drawn for 64 steps and cycled,\n"
    "so drawing them is not timed. Other keys: sim.* and env.*."};

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

enum { BENCH_FRAMES = 64 };

static float *random_actions(long n, uint64_t seed) {
  float *a = malloc(sizeof(float) * SF_ACT_DIM * n * BENCH_FRAMES);
  if (!a) return NULL;
  for (long f = 0; f < BENCH_FRAMES; ++f)
    for (long i = 0; i < n; ++i) {
      sf_u32x4 b = sf_rng_bits(seed, (uint32_t)i, (uint32_t)f, SF_STREAM(SF_RNG_EXPLORE, 0), 0);
      for (int j = 0; j < SF_ACT_DIM; ++j) a[(f * n + i) * SF_ACT_DIM + j] = sf_uniform(b.v[j], -1.0f, 1.0f);
    }
  return a;
}

static int bench_cpu(const sf_env_model *m, long envs, long steps, uint64_t seed, const float *actions) {
  sf_env_data *d = sf_env_data_new(1, (int)envs, &seed);
  float *obs = malloc(sizeof(float) * SF_OBS_DIM * envs), *rew = malloc(sizeof(float) * envs);
  uint8_t *term = malloc(envs), *trunc = malloc(envs), *done = malloc(envs);
  if (!d || !obs || !rew || !term || !trunc || !done) {
    fprintf(stderr, "spikefly bench: out of memory for %ld environments\n", envs);
    return SF_EXIT_FAIL;
  }
  sf_env_reset_all(m, d);
  for (long k = 0; k < 10; ++k) sf_env_step(m, d, actions + (k % BENCH_FRAMES) * envs * SF_ACT_DIM, rew, term, trunc);

  sf_env_reset_all(m, d);
  double t0 = now_s();
  for (long k = 0; k < steps; ++k) sf_env_step(m, d, actions + (k % BENCH_FRAMES) * envs * SF_ACT_DIM, rew, term, trunc);
  double t_step = now_s() - t0;

  sf_env_reset_all(m, d);
  long resets = 0;
  t0 = now_s();
  for (long k = 0; k < steps; ++k) {
    sf_env_step(m, d, actions + (k % BENCH_FRAMES) * envs * SF_ACT_DIM, rew, term, trunc);
    sf_env_observe(m, d, obs);
    for (long i = 0; i < envs; ++i) resets += done[i] = term[i] | trunc[i];
    sf_env_reset_masked(m, d, done);
  }
  double t_loop = now_s() - t0;

  double n = (double)envs * (double)steps;
  printf("spikefly bench sim: cpu, %d threads, %ld envs x %ld steps\n", omp_get_max_threads(), envs, steps);
  printf("  step   %.3g env steps/s  (%.1f ns per env step)\n", n / t_step, 1e9 * t_step / n);
  printf("  loop   %.3g env steps/s  (step + observation + auto-reset; %ld resets)\n", n / t_loop, resets);
  sf_env_data_free(d);
  free(obs), free(rew), free(term), free(trunc), free(done);
  return SF_EXIT_OK;
}

#ifdef SF_HAVE_CUDA
static int bench_cuda(const sf_env_model *m, long envs, long steps, uint64_t seed, const float *actions) {
  char why[256];
  if (sf_cuda_env_available(why, sizeof why) != 0) {
    fprintf(stderr, "spikefly bench: no usable GPU: %s\n", why);
    return SF_EXIT_FAIL;
  }
  sf_cuda_env *g = sf_cuda_env_new(1, (int)envs, &seed);
  if (!g) {
    fprintf(stderr, "spikefly bench: cannot allocate %ld environments on the GPU\n", envs);
    return SF_EXIT_FAIL;
  }
  float *d_act = sf_cuda_env_upload_actions(g, actions, (long)BENCH_FRAMES * envs * SF_ACT_DIM);
  if (!d_act) {
    fprintf(stderr, "spikefly bench: cannot copy actions to the GPU\n");
    sf_cuda_env_free(g);
    return SF_EXIT_FAIL;
  }
  sf_cuda_env_reset_all(g, m);
  for (long k = 0; k < 10; ++k) sf_cuda_env_step(g, m, d_act + (k % BENCH_FRAMES) * envs * SF_ACT_DIM);
  sf_cuda_env_sync(g);

  sf_cuda_env_reset_all(g, m);
  sf_cuda_env_sync(g);
  double t0 = now_s();
  for (long k = 0; k < steps; ++k) sf_cuda_env_step(g, m, d_act + (k % BENCH_FRAMES) * envs * SF_ACT_DIM);
  sf_cuda_env_sync(g);
  double t_step = now_s() - t0;

  sf_cuda_env_reset_all(g, m);
  sf_cuda_env_sync(g);
  t0 = now_s();
  for (long k = 0; k < steps; ++k) {
    sf_cuda_env_step(g, m, d_act + (k % BENCH_FRAMES) * envs * SF_ACT_DIM);
    sf_cuda_env_observe(g, m);
    sf_cuda_env_reset_done(g, m);
  }
  sf_cuda_env_sync(g);
  double t_loop = now_s() - t0;
  int err = sf_cuda_env_error(g, why, sizeof why);

  double n = (double)envs * (double)steps;
  printf("spikefly bench sim: cuda (%s), %ld envs x %ld steps\n", sf_cuda_env_device_name(g), envs, steps);
  printf("  step   %.3g env steps/s  (%.2f ns per env step)\n", n / t_step, 1e9 * t_step / n);
  printf("  loop   %.3g env steps/s  (step + observation + auto-reset, all on the GPU)\n", n / t_loop);
  sf_cuda_env_free_device(d_act);
  sf_cuda_env_free(g);
  if (err) {
    fprintf(stderr, "spikefly bench: CUDA error: %s\n", why);
    return SF_EXIT_FAIL;
  }
  return SF_EXIT_OK;
}
#endif

int sf_cmd_bench(int argc, char **argv) {
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos;
  int rc = sf_cli_parse(&bench_spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  int ok = 0;
  for (int i = 0; targets[i]; ++i) ok |= !strcmp(pos[0], targets[i]);
  if (!ok) {
    fprintf(stderr, "spikefly bench: unknown benchmark '%s' (available: sim)\n", pos[0]);
    sf_cfg_free(cfg);
    return SF_EXIT_USAGE;
  }
  int device = sf_cfg_choice(cfg, "bench.device", "cpu", devices);
  long envs = sf_cfg_int(cfg, "bench.envs", 4096, 1, 1L << 26);
  long steps = sf_cfg_int(cfg, "bench.steps", 1000, 1, 1L << 30);
  long seed = sf_cfg_int(cfg, "bench.seed", 1, 0, 0x7fffffffffffffffL);
  sf_env_model model;
  sf_env_model_from_config(cfg, &model);
  if ((rc = sf_cli_check(cfg, bench_spec.name)) != 0) {
    sf_cfg_free(cfg);
    return rc;
  }
  sf_cfg_free(cfg);

  float *actions = random_actions(envs, (uint64_t)seed);
  if (!actions) {
    fprintf(stderr, "spikefly bench: out of memory for %ld environments\n", envs);
    return SF_EXIT_FAIL;
  }
  if (device == 0) {
    rc = bench_cpu(&model, envs, steps, (uint64_t)seed, actions);
  } else {
#ifdef SF_HAVE_CUDA
    rc = bench_cuda(&model, envs, steps, (uint64_t)seed, actions);
#else
    fprintf(stderr, "spikefly bench: this build has no CUDA backend (configure with nvcc found and SF_WITH_CUDA=ON)\n");
    rc = SF_EXIT_FAIL;
#endif
  }
  free(actions);
  return rc;
}
