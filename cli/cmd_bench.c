/* `spikefly bench sim|loop`: environment steps per second on the CPU
 * (OpenMP) or on the GPU (CUDA), of the batched simulator with random
 * actions (sim), or of the closed loop with the paper's SNN actor (loop),
 * for P agents x N envs each; --grid measures a table of P and N. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sf_defs.h"
#include "core/sf_philox.h"
#include "rl/sf_actor.h"
#include "cli/sf_cli.h"
#include "sim/sf_env.h"
#ifdef SF_HAVE_CUDA
#include "kernels/sf_env_cuda.h"
#include "kernels/sf_snn_cuda.h"
#endif

enum { TARGET_SIM = 0, TARGET_LOOP = 1 };
static const char *const targets[] = {"sim", "loop", NULL};
static const char *const devices[] = {"cpu", "cuda", NULL};

static const sf_flag bench_flags[] = {
    {"device", "bench.device", NULL, "DEV", "cpu (OpenMP, all cores; set OMP_NUM_THREADS) or cuda (default cpu)"},
    {"agents", "bench.agents", NULL, "P", "agents (independent populations) run together (default 1)"},
    {"envs", "bench.envs", NULL, "N", "environments per agent stepped together (default 4096)"},
    {"steps", "bench.steps", NULL, "S", "steps per environment timed (default 1000 for sim, 200 for loop)"},
    {"grid", "bench.grid", "1", NULL, "measure the grid of agents x envs below (ignores --agents, --envs)"},
    {"seed", "bench.seed", NULL, "S", "seed of the starts, noise, random actions and weights (default 1)"},
};

static const sf_cmd_spec bench_spec = {
    "bench", "sim|loop", "measure environment steps per second of the simulator, alone or flown by the SNN (and `bench train`)",
    bench_flags, (int)SF_ARRAY_LEN(bench_flags), 1, 1,
    "Figures are environment steps per second, summed over the agents\n"
    "(agents x envs x steps / seconds).\n"
    "\n"
    "sim: the simulator with random actions, two figures:\n"
    "  step      sf_env_step alone: clamp, RK4 with the motor lag, reward,\n"
    "            termination, action history\n"
    "  loop      what a training loop pays: step, 18-value noisy observation and\n"
    "            auto-reset of the envs that are done\n"
    "Actions are uniform in [-1, 1] (Philox), pre-drawn for 64 steps (fewer for\n"
    "very many envs) and cycled, so drawing them is not timed.\n"
    "\n"
    "loop: the closed loop with the paper's actor, 18 -> LIF 256 -> LIF 128 -> 4\n"
    "with random weights from the seed. Each step: observation, the SNN's\n"
    "streaming step (state carried), env step, auto-reset of the envs that are\n"
    "done and of their SNN state. On cuda all of it runs on one stream.\n"
    "\n"
    "--grid: one line per agents P x envs N, P in {1, 8, 64} and N in {1024,\n"
    "4096, 16384, 65536} on cuda, P in {1, 8} and N in {256, 1024} on cpu;\n"
    "points that would need over half of the device's (host's) memory are\n"
    "skipped. Other keys: sim.* and env.*.\n"
    "\n"
    "`spikefly bench train --help`: the trainer's collection and update\n"
    "throughput for populations of agents."};

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

enum { BENCH_FRAMES = 64, BENCH_WARMUP = 10 };

/* Frames of pre-drawn actions for n envs: 64, fewer when they would take
 * over 256 MiB. */
static int frames_for(long n) {
  long f = (1L << 26) / (n * SF_ACT_DIM);
  return f >= BENCH_FRAMES ? BENCH_FRAMES : (f < 1 ? 1 : (int)f);
}

static float *random_actions(long n, int frames, uint64_t seed) {
  float *a = malloc(sizeof(float) * SF_ACT_DIM * n * frames);
  if (!a) return NULL;
  for (long f = 0; f < frames; ++f)
    for (long i = 0; i < n; ++i) {
      sf_u32x4 b = sf_rng_bits(seed, (uint32_t)i, (uint32_t)f, SF_STREAM(SF_RNG_EXPLORE, 0), 0);
      for (int j = 0; j < SF_ACT_DIM; ++j) a[(f * n + i) * SF_ACT_DIM + j] = sf_uniform(b.v[j], -1.0f, 1.0f);
    }
  return a;
}

/* The paper's actor for P agents, randomly initialised from the seeds;
 * streaming only, so no room for sequences. */
static sf_actor *bench_actor(int P, const uint64_t *seeds) {
  sf_actor_config ac = sf_actor_default(SF_ACTOR_SNN, SF_INPUT_OBS);
  sf_actor *a = sf_actor_new(&ac, P, 1);
  if (a) sf_actor_init(a, seeds);
  return a;
}

/* What one measurement gives. */
typedef struct {
  double step, loop; /* env steps per second: sim's step alone (0 for loop), and the loop */
  long resets;       /* envs reset during the timed loop; -1: not counted */
  char device[256];
} bench_result;

static void set_cpu_device(bench_result *r) {
  snprintf(r->device, sizeof r->device, "cpu, %d threads", omp_get_max_threads());
}

static int sim_cpu(const sf_env_model *m, int P, long N, long steps, const uint64_t *seeds, bench_result *r) {
  const long n = (long)P * N;
  const int frames = frames_for(n);
  float *actions = random_actions(n, frames, seeds[0]);
  sf_env_data *d = sf_env_data_new(P, (int)N, seeds);
  float *obs = malloc(sizeof(float) * SF_OBS_DIM * n), *rew = malloc(sizeof(float) * n);
  uint8_t *term = malloc(n), *trunc = malloc(n), *done = malloc(n);
  int rc = SF_EXIT_OK;
  if (!actions || !d || !obs || !rew || !term || !trunc || !done) {
    fprintf(stderr, "spikefly bench: out of memory for %ld environments\n", n);
    rc = SF_EXIT_FAIL;
    goto out;
  }
  sf_env_reset_all(m, d);
  for (long k = 0; k < BENCH_WARMUP; ++k)
    sf_env_step(m, d, actions + (k % frames) * n * SF_ACT_DIM, rew, term, trunc);

  sf_env_reset_all(m, d);
  double t0 = now_s();
  for (long k = 0; k < steps; ++k) sf_env_step(m, d, actions + (k % frames) * n * SF_ACT_DIM, rew, term, trunc);
  double t_step = now_s() - t0;

  sf_env_reset_all(m, d);
  long resets = 0;
  t0 = now_s();
  for (long k = 0; k < steps; ++k) {
    sf_env_step(m, d, actions + (k % frames) * n * SF_ACT_DIM, rew, term, trunc);
    sf_env_observe(m, d, obs);
    for (long i = 0; i < n; ++i) resets += done[i] = term[i] | trunc[i];
    sf_env_reset_masked(m, d, done);
  }
  double t_loop = now_s() - t0;
  r->step = (double)n * (double)steps / t_step;
  r->loop = (double)n * (double)steps / t_loop;
  r->resets = resets;
  set_cpu_device(r);
out:
  sf_env_data_free(d);
  free(actions), free(obs), free(rew), free(term), free(trunc), free(done);
  return rc;
}

/* The CPU closed loop's buffers. */
typedef struct {
  sf_actor *a;
  sf_actor_state st;
  sf_env_data *d;
  float *obs, *act, *rew;
  uint8_t *term, *trunc, *done;
} cpu_loop;

/* One control step; returns the number of envs reset. */
static long cpu_loop_step(const sf_env_model *m, cpu_loop *c, long N) {
  const long n = c->d->n;
  sf_env_observe(m, c->d, c->obs);
  sf_actor_step(c->a, &c->st, (int)N, c->obs, c->act);
  sf_env_step(m, c->d, c->act, c->rew, c->term, c->trunc);
  long resets = 0;
  for (long i = 0; i < n; ++i)
    if ((c->done[i] = c->term[i] | c->trunc[i])) {
      ++resets;
      sf_actor_state_reset(&c->st, (int)(i / N), (int)(i % N));
    }
  sf_env_reset_masked(m, c->d, c->done);
  return resets;
}

static int loop_cpu(const sf_env_model *m, int P, long N, long steps, const uint64_t *seeds, bench_result *r) {
  const long n = (long)P * N;
  cpu_loop c = {0};
  c.a = bench_actor(P, seeds);
  c.d = sf_env_data_new(P, (int)N, seeds);
  c.obs = malloc(sizeof(float) * SF_OBS_DIM * n);
  c.act = malloc(sizeof(float) * SF_ACT_DIM * n);
  c.rew = malloc(sizeof(float) * n);
  c.term = malloc(n), c.trunc = malloc(n), c.done = malloc(n);
  int rc = SF_EXIT_OK;
  if (!c.a || !c.d || !c.obs || !c.act || !c.rew || !c.term || !c.trunc || !c.done ||
      sf_actor_state_init(&c.st, c.a, (int)N) != 0) {
    fprintf(stderr, "spikefly bench: out of memory for %d x %ld environments and their SNN\n", P, N);
    rc = SF_EXIT_FAIL;
    goto out;
  }
  sf_env_reset_all(m, c.d);
  for (long k = 0; k < BENCH_WARMUP; ++k) cpu_loop_step(m, &c, N);

  sf_env_reset_all(m, c.d);
  sf_actor_state_reset_all(&c.st);
  long resets = 0;
  double t0 = now_s();
  for (long k = 0; k < steps; ++k) resets += cpu_loop_step(m, &c, N);
  double t = now_s() - t0;
  r->step = 0;
  r->loop = (double)n * (double)steps / t;
  r->resets = resets;
  set_cpu_device(r);
out:
  sf_actor_state_free(&c.st);
  sf_actor_free(c.a);
  sf_env_data_free(c.d);
  free(c.obs), free(c.act), free(c.rew), free(c.term), free(c.trunc), free(c.done);
  return rc;
}

#ifdef SF_HAVE_CUDA
static int gpu_usable(void) {
  char why[256];
  if (sf_cuda_env_available(why, sizeof why) == 0) return 1;
  fprintf(stderr, "spikefly bench: no usable GPU: %s\n", why);
  return 0;
}

static int sim_cuda(const sf_env_model *m, int P, long N, long steps, const uint64_t *seeds, bench_result *r) {
  if (!gpu_usable()) return SF_EXIT_FAIL;
  const long n = (long)P * N;
  const int frames = frames_for(n);
  float *actions = random_actions(n, frames, seeds[0]);
  if (!actions) {
    fprintf(stderr, "spikefly bench: out of memory for %ld environments\n", n);
    return SF_EXIT_FAIL;
  }
  sf_cuda_env *g = sf_cuda_env_new(P, (int)N, seeds);
  if (!g) {
    fprintf(stderr, "spikefly bench: cannot allocate %ld environments on the GPU\n", n);
    free(actions);
    return SF_EXIT_FAIL;
  }
  float *d_act = sf_cuda_env_upload_actions(g, actions, (long)frames * n * SF_ACT_DIM);
  free(actions);
  if (!d_act) {
    fprintf(stderr, "spikefly bench: cannot copy actions to the GPU\n");
    sf_cuda_env_free(g);
    return SF_EXIT_FAIL;
  }
  sf_cuda_env_reset_all(g, m);
  for (long k = 0; k < BENCH_WARMUP; ++k) sf_cuda_env_step(g, m, d_act + (k % frames) * n * SF_ACT_DIM);
  sf_cuda_env_sync(g);

  sf_cuda_env_reset_all(g, m);
  sf_cuda_env_sync(g);
  double t0 = now_s();
  for (long k = 0; k < steps; ++k) sf_cuda_env_step(g, m, d_act + (k % frames) * n * SF_ACT_DIM);
  sf_cuda_env_sync(g);
  double t_step = now_s() - t0;

  sf_cuda_env_reset_all(g, m);
  sf_cuda_env_sync(g);
  t0 = now_s();
  for (long k = 0; k < steps; ++k) {
    sf_cuda_env_step(g, m, d_act + (k % frames) * n * SF_ACT_DIM);
    sf_cuda_env_observe(g, m);
    sf_cuda_env_reset_done(g, m);
  }
  sf_cuda_env_sync(g);
  double t_loop = now_s() - t0;
  char why[256];
  int err = sf_cuda_env_error(g, why, sizeof why);
  r->step = (double)n * (double)steps / t_step;
  r->loop = (double)n * (double)steps / t_loop;
  r->resets = -1;
  snprintf(r->device, sizeof r->device, "cuda (%s)", sf_cuda_env_device_name(g));
  sf_cuda_env_free_device(d_act);
  sf_cuda_env_free(g);
  if (err) {
    fprintf(stderr, "spikefly bench: CUDA error: %s\n", why);
    return SF_EXIT_FAIL;
  }
  return SF_EXIT_OK;
}

static void gpu_loop_step(const sf_env_model *m, sf_cuda_env *env, sf_cuda_snn *snn, sf_cuda_snn_state *st,
                          float *d_act) {
  sf_cuda_env_observe(env, m);
  sf_cuda_snn_step(snn, st, sf_cuda_env_obs(env), d_act); /* errors surface at the sync */
  sf_cuda_env_step(env, m, d_act);
  /* Done is terminated or truncated: two masked resets zero their union. */
  sf_cuda_snn_state_reset(snn, st, sf_cuda_env_terminated(env));
  sf_cuda_snn_state_reset(snn, st, sf_cuda_env_truncated(env));
  sf_cuda_env_reset_done(env, m);
}

static int loop_cuda(const sf_env_model *m, int P, long N, long steps, const uint64_t *seeds, bench_result *r) {
  if (!gpu_usable()) return SF_EXIT_FAIL;
  const long n = (long)P * N;
  sf_actor *a = bench_actor(P, seeds);
  float *zeros = calloc((size_t)n * SF_ACT_DIM, sizeof(float));
  sf_cuda_env *env = sf_cuda_env_new(P, (int)N, seeds);
  sf_cuda_snn *snn = a ? sf_cuda_snn_new(a->snn) : NULL;
  sf_cuda_snn_state *st = NULL;
  float *d_act = NULL;
  int rc = SF_EXIT_OK, ok = a && zeros && env && snn && sf_cuda_snn_upload(snn, a->snn) == 0;
  if (ok) {
    /* Before the state: its zeroing is queued on the shared stream too. */
    sf_cuda_snn_set_stream(snn, sf_cuda_env_stream(env));
    st = sf_cuda_snn_state_new(snn, (int)N);
    d_act = sf_cuda_env_upload_actions(env, zeros, n * SF_ACT_DIM);
    ok = st && d_act;
  }
  if (!ok) {
    fprintf(stderr, "spikefly bench: cannot allocate %d x %ld environments and their SNN on the GPU\n", P, N);
    rc = SF_EXIT_FAIL;
    goto out;
  }
  sf_cuda_env_reset_all(env, m);
  for (long k = 0; k < BENCH_WARMUP; ++k) gpu_loop_step(m, env, snn, st, d_act);
  sf_cuda_env_sync(env);

  sf_cuda_env_reset_all(env, m);
  sf_cuda_snn_state_reset(snn, st, NULL);
  sf_cuda_env_sync(env);
  double t0 = now_s();
  for (long k = 0; k < steps; ++k) gpu_loop_step(m, env, snn, st, d_act);
  sf_cuda_env_sync(env);
  double t = now_s() - t0;
  char why[256];
  if (sf_cuda_env_error(env, why, sizeof why) != 0 || sf_cuda_snn_sync(snn, why, sizeof why) != 0) {
    fprintf(stderr, "spikefly bench: CUDA error: %s\n", why);
    rc = SF_EXIT_FAIL;
    goto out;
  }
  r->step = 0;
  r->loop = (double)n * (double)steps / t;
  r->resets = -1;
  snprintf(r->device, sizeof r->device, "cuda (%s)", sf_cuda_env_device_name(env));
out:
  sf_cuda_env_free_device(d_act);
  sf_cuda_snn_state_free(st);
  sf_cuda_snn_free(snn);
  sf_cuda_env_free(env);
  sf_actor_free(a);
  free(zeros);
  return rc;
}
#endif

static int measure(int target, int cuda, const sf_env_model *m, int P, long N, long steps, uint64_t seed,
                   bench_result *r) {
  uint64_t *seeds = malloc(sizeof(uint64_t) * P);
  if (!seeds) return SF_EXIT_FAIL;
  for (int p = 0; p < P; ++p) seeds[p] = seed + (uint64_t)p;
  int rc;
  if (!cuda) {
    rc = target == TARGET_SIM ? sim_cpu(m, P, N, steps, seeds, r) : loop_cpu(m, P, N, steps, seeds, r);
  } else {
#ifdef SF_HAVE_CUDA
    rc = target == TARGET_SIM ? sim_cuda(m, P, N, steps, seeds, r) : loop_cuda(m, P, N, steps, seeds, r);
#else
    rc = SF_EXIT_FAIL;
#endif
  }
  free(seeds);
  return rc;
}

/* Bytes a measurement holds on its device (the GPU's, or the host's), near
 * enough to tell whether it fits. */
static double bench_bytes(int target, int cuda, int P, long N) {
  const double n = (double)P * (double)N;
  /* state, action history, counters, observation, reward; then the flags */
  double per_env = 4.0 * (SF_QX_N + SF_HIST_LEN * SF_ACT_DIM + 3 + SF_OBS_DIM + 1) + 3;
  if (cuda) per_env += 4.0 * SF_PRIV_DIM;
  if (target == TARGET_SIM) return n * per_env + 4.0 * SF_ACT_DIM * n * frames_for((long)n);
  sf_actor_config ac = sf_actor_default(SF_ACTOR_SNN, SF_INPUT_OBS);
  int widest = 0, floats = SF_ACT_DIM;
  for (int l = 0; l < ac.nhidden; ++l) {
    floats += 2 * ac.hidden[l]; /* membranes and spikes */
    if (ac.hidden[l] > widest) widest = ac.hidden[l];
  }
  return n * (per_env + 4.0 * (floats + widest)); /* + the input currents */
}

static double memory_of(int cuda) {
#ifdef SF_HAVE_CUDA
  if (cuda) {
    size_t free_b = 0, total_b = 0;
    return sf_cuda_env_memory(&free_b, &total_b) == 0 ? (double)total_b : 0.0;
  }
#endif
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? (double)pages * (double)size : 0.0;
}

static void print_one(int target, int cuda, int P, long N, long steps, const bench_result *r) {
  char shape[64];
  if (P == 1)
    snprintf(shape, sizeof shape, "%ld envs", N);
  else
    snprintf(shape, sizeof shape, "%d agents x %ld envs", P, N);
  printf("spikefly bench %s: %s, %s x %ld steps\n", targets[target], r->device, shape, steps);
  if (target == TARGET_LOOP) {
    printf("  loop   %.3g env steps/s  (%.3g ms per control step: observation, SNN step, env step, auto-reset",
           r->loop, 1e3 * (double)P * (double)N / r->loop);
    if (r->resets >= 0)
      printf("; %ld resets)\n", r->resets);
    else
      printf(", all on one GPU stream)\n");
  } else if (cuda) {
    printf("  step   %.3g env steps/s  (%.2f ns per env step)\n", r->step, 1e9 / r->step);
    printf("  loop   %.3g env steps/s  (step + observation + auto-reset, all on the GPU)\n", r->loop);
  } else {
    printf("  step   %.3g env steps/s  (%.1f ns per env step)\n", r->step, 1e9 / r->step);
    printf("  loop   %.3g env steps/s  (step + observation + auto-reset; %ld resets)\n", r->loop, r->resets);
  }
}

static int run_grid(int target, int cuda, const sf_env_model *m, long steps, uint64_t seed) {
  static const int gpu_P[] = {1, 8, 64}, cpu_P[] = {1, 8};
  static const long gpu_N[] = {1024, 4096, 16384, 65536}, cpu_N[] = {256, 1024};
  const int *Ps = cuda ? gpu_P : cpu_P;
  const long *Ns = cuda ? gpu_N : cpu_N;
  const int nP = cuda ? (int)SF_ARRAY_LEN(gpu_P) : (int)SF_ARRAY_LEN(cpu_P);
  const int nN = cuda ? (int)SF_ARRAY_LEN(gpu_N) : (int)SF_ARRAY_LEN(cpu_N);
#ifdef SF_HAVE_CUDA
  if (cuda && !gpu_usable()) return SF_EXIT_FAIL;
#endif
  const double mem = memory_of(cuda);
  printf("spikefly bench %s --grid: %s, %ld steps per env, env steps/s summed over the agents\n", targets[target],
         cuda ? "cuda" : "cpu", steps);
  if (target == TARGET_SIM)
    printf("  %-32s %6s %7s %12s %12s\n", "device", "agents", "envs", "step", "loop");
  else
    printf("  %-32s %6s %7s %12s\n", "device", "agents", "envs", "loop");
  int rc = SF_EXIT_OK;
  for (int i = 0; i < nP; ++i)
    for (int j = 0; j < nN; ++j) {
      const int P = Ps[i];
      const long N = Ns[j];
      const double need = bench_bytes(target, cuda, P, N);
      if (mem > 0.0 && need > 0.5 * mem) {
        printf("  %-32s %6d %7ld   skipped: needs %.1f GiB, over half of %.1f GiB\n", cuda ? "cuda" : "cpu", P, N,
               need / 1073741824.0, mem / 1073741824.0);
        continue;
      }
      bench_result r = {0};
      if (measure(target, cuda, m, P, N, steps, seed, &r) != SF_EXIT_OK) {
        printf("  %-32s %6d %7ld   failed\n", cuda ? "cuda" : "cpu", P, N);
        rc = SF_EXIT_FAIL;
        continue;
      }
      if (target == TARGET_SIM)
        printf("  %-32s %6d %7ld %12.3g %12.3g\n", r.device, P, N, r.step, r.loop);
      else
        printf("  %-32s %6d %7ld %12.3g\n", r.device, P, N, r.loop);
      fflush(stdout);
    }
  return rc;
}

int sf_cmd_bench_train(int argc, char **argv);

int sf_cmd_bench(int argc, char **argv) {
  /* The trainer's benchmark has its own options (cli/cmd_bench_train.c). */
  if (argc > 1 && !strcmp(argv[1], "train")) return sf_cmd_bench_train(argc - 1, argv + 1);
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos;
  int rc = sf_cli_parse(&bench_spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  int target = -1;
  for (int i = 0; targets[i]; ++i)
    if (!strcmp(pos[0], targets[i])) target = i;
  if (target < 0) {
    fprintf(stderr, "spikefly bench: unknown benchmark '%s' (available: sim, loop, train)\n", pos[0]);
    sf_cfg_free(cfg);
    return SF_EXIT_USAGE;
  }
  int device = sf_cfg_choice(cfg, "bench.device", "cpu", devices);
  long agents = sf_cfg_int(cfg, "bench.agents", 1, 1, 1L << 16);
  long envs = sf_cfg_int(cfg, "bench.envs", 4096, 1, 1L << 26);
  long steps = sf_cfg_int(cfg, "bench.steps", target == TARGET_LOOP ? 200 : 1000, 1, 1L << 30);
  int grid = sf_cfg_bool(cfg, "bench.grid", 0);
  long seed = sf_cfg_int(cfg, "bench.seed", 1, 0, 0x7fffffffffffffffL);
  sf_env_model model;
  sf_env_model_from_config(cfg, &model);
  if ((rc = sf_cli_check(cfg, bench_spec.name)) != 0) {
    sf_cfg_free(cfg);
    return rc;
  }
  sf_cfg_free(cfg);
#ifndef SF_HAVE_CUDA
  if (device == 1) {
    fprintf(stderr, "spikefly bench: this build has no CUDA backend (configure with nvcc found and SF_WITH_CUDA=ON)\n");
    return SF_EXIT_FAIL;
  }
#endif
  if (grid) return run_grid(target, device == 1, &model, steps, (uint64_t)seed);
  bench_result r = {0};
  rc = measure(target, device == 1, &model, (int)agents, envs, steps, (uint64_t)seed, &r);
  if (rc == SF_EXIT_OK) print_one(target, device == 1, (int)agents, envs, steps, &r);
  return rc;
}
