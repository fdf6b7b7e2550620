/* SNN actor training throughput on the CPU: forward + backward through time
 * of the paper's actor (18 -> LIF 256 -> LIF 128 -> 4, tanh) over a batch of
 * B sequences of T = 100 steps (50 warm-up), for populations of P agents.
 * One sequence-step is one timestep of one sequence of the batch (of one
 * agent): a call handles P * B * T of them.
 *
 * usage: bench_snn [iterations [B [P,P,...]]]
 *   (defaults 5 timed calls after one untimed call, B = 256, P = 1,8) */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_philox.h"
#include "models/sf_snn.h"

enum { T = 100, WARMUP = 50 };
static int B = 256;

typedef struct {
  double fwd_s, bwd_s; /* seconds per call */
} timing;

static int bench(int P, int iters, timing *out) {
  sf_snn_config cfg = sf_snn_actor_config();
  sf_snn *net = sf_snn_new(&cfg, P, (long)T * B);
  if (!net) return -1;
  uint64_t *seeds = malloc(sizeof(uint64_t) * P);
  size_t nx = (size_t)P * T * B * cfg.in, ny = (size_t)P * T * B * cfg.out;
  float *x = malloc(sizeof(float) * nx), *y = malloc(sizeof(float) * ny), *dy = malloc(sizeof(float) * ny);
  if (!seeds || !x || !y || !dy) return -1;
  for (int p = 0; p < P; ++p) {
    seeds[p] = 1000 + p;
    net->slope[p] = 2.0f + 10.0f * p;
  }
  sf_snn_init(net, seeds);
  for (size_t i = 0; i < nx; ++i) x[i] = sf_uniform(sf_rng_bits(1, 0, 0, 0, (uint32_t)i).v[0], -1.5f, 1.5f);
  for (size_t i = 0; i < ny; ++i) dy[i] = sf_uniform(sf_rng_bits(2, 0, 0, 0, (uint32_t)i).v[0], -1.0f, 1.0f);
  double fwd = 0, bwd = 0;
  for (int it = -1; it < iters; ++it) {
    double t0 = omp_get_wtime();
    sf_snn_forward(net, T, B, x, y);
    double t1 = omp_get_wtime();
    sf_snn_backward(net, WARMUP, dy, NULL);
    double t2 = omp_get_wtime();
    if (it >= 0) {
      fwd += t1 - t0;
      bwd += t2 - t1;
    }
  }
  out->fwd_s = fwd / iters;
  out->bwd_s = bwd / iters;
  double rate = 0;
  for (long i = 0; i < (long)T * B * 256; ++i) rate += net->s[0][i];
  printf("  P=%d: layer-1 spike rate %.3f\n", P, rate / ((double)T * B * 256));
  sf_snn_free(net);
  free(seeds);
  free(x);
  free(y);
  free(dy);
  return 0;
}

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 5;
  if (argc > 2) B = atoi(argv[2]);
  int Ps[16] = {1, 8}, nP = 2;
  if (argc > 3) {
    nP = 0;
    for (char *tok = strtok(argv[3], ","); tok && nP < 16; tok = strtok(NULL, ",")) Ps[nP++] = atoi(tok);
  }
  int bad = iters < 1 || B < 1 || nP < 1;
  for (int i = 0; i < nP; ++i) bad |= Ps[i] < 1;
  if (bad) {
    fprintf(stderr, "usage: bench_snn [iterations >= 1 [batch >= 1 [P,P,...]]]\n");
    return 2;
  }
  printf("SNN actor forward+backward, B=%d, T=%d (warm-up %d), %d threads, %d timed calls\n", B, T, WARMUP,
         omp_get_max_threads(), iters);
  double rate[16];
  for (int i = 0; i < nP; ++i) {
    timing tm;
    if (bench(Ps[i], iters, &tm)) {
      fprintf(stderr, "bench_snn: out of memory at P=%d\n", Ps[i]);
      return 1;
    }
    double steps = (double)Ps[i] * B * T;
    rate[i] = steps / (tm.fwd_s + tm.bwd_s);
    printf("P=%d: forward %.1f ms, backward %.1f ms, %.3g sequence-steps/s (%.3g per agent)\n", Ps[i],
           1e3 * tm.fwd_s, 1e3 * tm.bwd_s, rate[i], rate[i] / Ps[i]);
  }
  for (int i = 1; i < nP; ++i) printf("ratio P=%d / P=%d throughput: %.2f\n", Ps[i], Ps[0], rate[i] / rate[0]);
  return 0;
}
