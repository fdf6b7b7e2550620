/* This machine's single-precision GEMM rate (OpenBLAS) at the shapes of a
 * workload's dense products: the physical limit that bench/peers/ sets
 * spikefly's figures against. A workload is written as the list of GEMMs it
 * would run if every product were dense (spiking inputs included); the
 * program times that list and prints its seconds and flops, so a workload
 * that takes t seconds runs at (gemm seconds / t) of the GEMM rate.
 *
 * usage: bench_gemm snn T B      SNN actor forward + backward through time
 *        bench_gemm loop N       one streaming SNN step for N envs (forward)
 *        bench_gemm update B T   one TD3BC+JSRL update (critic every time,
 *                                actor every second time: half its share)
 * OpenBLAS runs with OMP_NUM_THREADS threads (default: all cores). A second
 * line times the same list through the engine's sf_gemm (its AVX-512 kernel
 * where the processor has one), on as many OpenMP threads. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/sf_cpu_kernels.h"

void openblas_set_num_threads(int);

typedef struct {
  long M, N, K; /* C [M][N] += A [M][K] B [K][N] */
  double weight; /* times per workload (0.5: every second update) */
} gemm;

static int ngemm;
static gemm list[64];

static void add(long M, long N, long K, double w) { list[ngemm++] = (gemm){M, N, K, w}; }

/* The actor 18 -> 256 -> 128 -> 4 over `rows` rows. */
static void snn_forward(long rows, double w) {
  add(rows, 256, 18, w);
  add(rows, 128, 256, w);
  add(rows, 4, 128, w);
}
/* Its backward: every weight gradient, the input gradients of layers 2, 3. */
static void snn_backward(long rows, double w) {
  add(256, 18, rows, w);
  add(128, 256, rows, w);
  add(4, 128, rows, w);
  add(rows, 256, 128, w);
  add(rows, 128, 4, w);
}
/* One critic 150 -> 256 -> 128 -> 1. */
static void critic_forward(long rows, double w) {
  add(rows, 256, 150, w);
  add(rows, 128, 256, w);
  add(rows, 1, 128, w);
}
static void critic_backward(long rows, int weights, int input, double w) {
  if (weights) {
    add(256, 150, rows, w);
    add(128, 256, rows, w);
    add(1, 128, rows, w);
  }
  add(rows, 128, 1, w);
  add(rows, 256, 128, w);
  if (input) add(rows, 150, 256, w);
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Seconds for one pass over the list (weights applied), the best of `reps`,
 * through OpenBLAS (engine 0) or the engine's own sf_gemm (engine 1). */
static double time_list(int engine, int reps) {
  long maxa = 1, maxb = 1, maxc = 1;
  for (int i = 0; i < ngemm; ++i) {
    gemm g = list[i];
    maxa = g.M * g.K > maxa ? g.M * g.K : maxa;
    maxb = g.K * g.N > maxb ? g.K * g.N : maxb;
    maxc = g.M * g.N > maxc ? g.M * g.N : maxc;
  }
  float *A = malloc(sizeof(float) * maxa), *B = malloc(sizeof(float) * maxb), *C = malloc(sizeof(float) * maxc);
  if (!A || !B || !C) {
    fprintf(stderr, "bench_gemm: out of memory\n");
    exit(1);
  }
  for (long i = 0; i < maxa; ++i) A[i] = (float)(i % 7) * 0.1f;
  for (long i = 0; i < maxb; ++i) B[i] = (float)(i % 5) * 0.1f;
  memset(C, 0, sizeof(float) * maxc);
  double best = 1e30;
  for (int r = -1; r < reps; ++r) {
    double total = 0;
    for (int i = 0; i < ngemm; ++i) {
      gemm g = list[i];
      double t0 = now_s();
      if (engine)
        sf_gemm(0, 0, g.M, g.N, g.K, A, g.K, B, g.N, 1.0f, C, g.N);
      else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)g.M, (int)g.N, (int)g.K, 1.0f, A, (int)g.K, B,
                    (int)g.N, 1.0f, C, (int)g.N);
      total += (now_s() - t0) * g.weight;
    }
    if (r >= 0 && total < best) best = total;
  }
  free(A), free(B), free(C);
  return best;
}

int main(int argc, char **argv) {
  const int threads = omp_get_max_threads();
  openblas_set_num_threads(threads);
  long a = argc > 2 ? atol(argv[2]) : 0, b = argc > 3 ? atol(argv[3]) : 0;
  if (argc > 2 && a > 0 && !strcmp(argv[1], "snn") && b > 0) {
    snn_forward(a * b, 1);
    snn_backward(a * b, 1);
  } else if (argc > 2 && a > 0 && !strcmp(argv[1], "loop")) {
    snn_forward(a, 1);
  } else if (argc > 3 && a > 0 && b > 0 && !strcmp(argv[1], "update")) {
    long rows = a * b;
    critic_forward(rows, 2);              /* the target critics */
    critic_forward(rows, 2);              /* the critics */
    critic_backward(rows, 1, 0, 2);       /* their weight gradients */
    snn_forward(a * (b + 1), 1);          /* the target actor over T + 1 steps */
    snn_forward(rows, 0.5);               /* the actor, */
    critic_forward(rows, 0.5);            /* Q1 of its actions, */
    critic_backward(rows, 0, 1, 0.5);     /* the action gradient, */
    snn_backward(rows, 0.5);              /* and BPTT: every second update */
  } else {
    fprintf(stderr, "usage: bench_gemm snn T B | loop N | update B T\n");
    return 2;
  }
  double flops = 0;
  for (int i = 0; i < ngemm; ++i) flops += 2.0 * list[i].M * list[i].N * list[i].K * list[i].weight;
  double s = time_list(0, 5), e = time_list(1, 5);
  printf("bench_gemm %s: %d threads, %.4g s for %.4g flops: %.4g GFLOP/s\n", argv[1], threads, s, flops,
         flops / s * 1e-9);
  printf("sf_gemm (the engine's products, OpenMP): %.4g s: %.4g GFLOP/s, %.2fx OpenBLAS\n", e, flops / e * 1e-9, s / e);
  return 0;
}
