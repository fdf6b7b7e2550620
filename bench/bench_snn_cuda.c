/* SNN actor training throughput on the GPU: forward + backward through time
 * of the paper's actor (18 -> LIF 256 -> LIF 128 -> 4, tanh) over B = 256
 * sequences of T = 100 steps (50 warm-up) per agent, for populations of
 * P = 1, 8 and 64 agents (kernels/sf_snn_cuda.h: cuBLAS strided-batched GEMMs
 * over the agents, fused LIF kernels). Same workload and unit as bench_snn
 * (the CPU): one sequence-step is one timestep of one sequence of one agent.
 *
 * usage: bench_snn_cuda [iterations]   (default 20, after one untimed call) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/sf_philox.h"
#include "models/sf_snn.h"
#ifdef SF_HAVE_CUDA
#include <cuda_runtime.h>

#include "kernels/sf_env_cuda.h"
#include "kernels/sf_snn_cuda.h"
#endif

enum { T = 100, B = 256, WARMUP = 50 };

#ifdef SF_HAVE_CUDA
static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Seconds per forward + backward call, or a negative value on failure. */
static double bench(int P, int iters) {
  sf_snn_config cfg = sf_snn_actor_config();
  sf_snn *net = sf_snn_new(&cfg, P, (long)T * B);
  if (!net) return -1;
  uint64_t *seeds = malloc(sizeof(uint64_t) * P);
  for (int p = 0; p < P; ++p) {
    seeds[p] = 1000 + p;
    net->slope[p] = 2.0f + 10.0f * (p % 10);
  }
  sf_snn_init(net, seeds);
  size_t nx = (size_t)P * T * B * cfg.in, ny = (size_t)P * T * B * cfg.out;
  float *x = malloc(sizeof(float) * nx), *dy = malloc(sizeof(float) * ny);
  for (size_t i = 0; i < nx; ++i) x[i] = sf_uniform(sf_rng_bits(1, 0, 0, 0, (uint32_t)i).v[0], -1.5f, 1.5f);
  for (size_t i = 0; i < ny; ++i) dy[i] = sf_uniform(sf_rng_bits(2, 0, 0, 0, (uint32_t)i).v[0], -1.0f, 1.0f);
  float *d_x = NULL, *d_y = NULL, *d_dy = NULL;
  sf_cuda_snn *g = sf_cuda_snn_new(net);
  double sec = -1;
  char why[256] = "";
  if (g && cudaMalloc((void **)&d_x, sizeof(float) * nx) == cudaSuccess &&
      cudaMalloc((void **)&d_y, sizeof(float) * ny) == cudaSuccess &&
      cudaMalloc((void **)&d_dy, sizeof(float) * ny) == cudaSuccess && sf_cuda_snn_upload(g, net) == 0) {
    cudaMemcpy(d_x, x, sizeof(float) * nx, cudaMemcpyHostToDevice);
    cudaMemcpy(d_dy, dy, sizeof(float) * ny, cudaMemcpyHostToDevice);
    double t0 = 0;
    int ok = 1;
    for (int it = -1; it < iters && ok; ++it) {
      if (it == 0) {
        ok = sf_cuda_snn_sync(g, why, sizeof why) == 0;
        t0 = now_s();
      }
      ok = ok && sf_cuda_snn_forward(g, T, B, d_x, d_y) == 0 && sf_cuda_snn_backward(g, WARMUP, d_dy, NULL) == 0;
    }
    if (ok && sf_cuda_snn_sync(g, why, sizeof why) == 0) sec = (now_s() - t0) / iters;
  }
  if (sec < 0) fprintf(stderr, "bench_snn_cuda: P=%d failed%s%s\n", P, why[0] ? ": " : "", why);
  cudaFree(d_x);
  cudaFree(d_y);
  cudaFree(d_dy);
  sf_cuda_snn_free(g);
  sf_snn_free(net);
  free(seeds);
  free(x);
  free(dy);
  return sec;
}
#endif

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 20;
  if (iters < 1) {
    fprintf(stderr, "usage: bench_snn_cuda [iterations >= 1]\n");
    return 2;
  }
#ifndef SF_HAVE_CUDA
  fprintf(stderr, "bench_snn_cuda: this build has no CUDA backend (nvcc not found, or SF_WITH_CUDA=OFF)\n");
  return 1;
#else
  char why[256];
  if (sf_cuda_env_available(why, sizeof why) != 0) {
    fprintf(stderr, "bench_snn_cuda: no usable GPU: %s\n", why);
    return 1;
  }
  printf("SNN actor forward+backward on the GPU, B=%d, T=%d (warm-up %d), %d timed calls\n", B, T, WARMUP, iters);
  const int Ps[3] = {1, 8, 64};
  double rate[3];
  for (int i = 0; i < 3; ++i) {
    double s = bench(Ps[i], iters);
    if (s < 0) return 1;
    rate[i] = (double)Ps[i] * B * T / s;
    printf("P=%d: %.2f ms per forward+backward, %.3g sequence-steps/s (%.3g per agent)\n", Ps[i], 1e3 * s, rate[i],
           rate[i] / Ps[i]);
  }
  printf("time for 64 agents / time for 1: %.2f\n", rate[0] * 64 / rate[2]);
  return 0;
#endif
}
