#include "models/sf_cpu_kernels.h"

#include <string.h>

#include "models/sf_lif_math.h"

/* The build targets baseline x86-64 (SSE2); the hot loops are compiled again
 * for AVX2 and AVX-512 and the best one is picked at load time. Every clone
 * performs the same IEEE operations in the same order (no contraction into
 * FMA: -ffp-contract=off), so the results do not depend on the clone. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define SF_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define SF_CLONES
#endif

#define SF_ALWAYS_INLINE static inline __attribute__((always_inline))

#define SF_TILE_N SF_LIF_TILE_MAX
/* The membrane before the first step, and the gradient after the last. */
static const float zeros[SF_TILE_N];

/* The spikes before the first step, S_{-1} = H(-theta), of a tile's
 * neurons. */
SF_ALWAYS_INLINE void start_spikes(int w, const float *restrict th, float *restrict s0) {
  for (int j = 0; j < w; ++j) s0[j] = sf_lif_start_spike(th[j]);
}

void sf_transpose(const float *W, int rows, int cols, float *Wt) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) Wt[(long)c * rows + r] = W[(long)r * cols + c];
}

/* sf_linear_rows: for each row, the nonzero inputs are listed first (in
 * ascending k), then the outputs are accumulated in blocks of 64 held in
 * registers, one multiply and one add per input for every output, always in
 * the listed order. Where every listed input is 1 (spikes) the multiply is
 * left out: 1 * w is w exactly, so the bits are the same either way. Inputs
 * are taken in segments of SEG so the list fits on the stack; a block's
 * partial sums pass through y between segments, which changes nothing in the
 * arithmetic. */
#define SEG 512
typedef float sf_v16 __attribute__((vector_size(64)));
typedef float sf_v4 __attribute__((vector_size(16)));
/* Unaligned vector moves (weight rows start anywhere). */
#define VLOAD(v, p) memcpy(&(v), (p), sizeof(v))
#define VSTORE(p, v) memcpy((p), &(v), sizeof(v))
/* acc += x * w, or acc += w where the inputs are known to be 1. */
#define MAC(acc, v, w) ((acc) += binary ? (w) : (v) * (w))

SF_ALWAYS_INLINE void accumulate(int binary, int c, const int *restrict idx, const float *restrict val, int N,
                                 const float *restrict Wt, const float *restrict acc0, float *restrict yr) {
  int n = 0;
  for (; n + 64 <= N; n += 64) {
    sf_v16 a0, a1, a2, a3, w0, w1, w2, w3;
    VLOAD(a0, acc0 + n);
    VLOAD(a1, acc0 + n + 16);
    VLOAD(a2, acc0 + n + 32);
    VLOAD(a3, acc0 + n + 48);
    for (int i = 0; i < c; ++i) {
      const float *w = Wt + (long)idx[i] * N + n;
      const float v = val[i];
      VLOAD(w0, w);
      VLOAD(w1, w + 16);
      VLOAD(w2, w + 32);
      VLOAD(w3, w + 48);
      MAC(a0, v, w0);
      MAC(a1, v, w1);
      MAC(a2, v, w2);
      MAC(a3, v, w3);
    }
    VSTORE(yr + n, a0);
    VSTORE(yr + n + 16, a1);
    VSTORE(yr + n + 32, a2);
    VSTORE(yr + n + 48, a3);
  }
  for (; n + 16 <= N; n += 16) {
    sf_v16 a, w;
    VLOAD(a, acc0 + n);
    for (int i = 0; i < c; ++i) {
      VLOAD(w, Wt + (long)idx[i] * N + n);
      MAC(a, val[i], w);
    }
    VSTORE(yr + n, a);
  }
  for (; n + 4 <= N; n += 4) { /* narrow readouts: the actor's 4 outputs */
    sf_v4 a, w;
    VLOAD(a, acc0 + n);
    for (int i = 0; i < c; ++i) {
      VLOAD(w, Wt + (long)idx[i] * N + n);
      MAC(a, val[i], w);
    }
    VSTORE(yr + n, a);
  }
  for (; n < N; ++n) {
    float a = acc0[n];
    for (int i = 0; i < c; ++i) MAC(a, val[i], Wt[(long)idx[i] * N + n]);
    yr[n] = a;
  }
}

/* The list of nonzero inputs x[k0..k1) (indices and values) in ascending k;
 * returns its length, and in *ones whether every listed value is 1. */
static int compact_scalar(const float *restrict xr, int k0, int k1, int *restrict idx, float *restrict val,
                          int *ones) {
  int c = 0, o = 1;
  for (int k = k0; k < k1; ++k) { /* branch-free */
    idx[c] = k;
    val[c] = xr[k];
    o &= (xr[k] == 0.0f) | (xr[k] == 1.0f);
    c += xr[k] != 0.0f;
  }
  *ones = o;
  return c;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define SF_HAVE_COMPACT512 1
/* The same list, 16 inputs per step with AVX-512's compressing stores (the
 * scalar loop's compares and moves were half of a spiking layer's time). */
__attribute__((target("avx512f"))) static int compact_avx512(const float *restrict xr, int k0, int k1,
                                                             int *restrict idx, float *restrict val, int *ones) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
  const __m512i step = _mm512_set1_epi32(16);
  __m512i kv = _mm512_add_epi32(_mm512_set1_epi32(k0), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                                                         13, 14, 15));
  int c = 0, k = k0;
  __mmask16 notone = 0;
  for (; k + 16 <= k1; k += 16) {
    __m512 v = _mm512_loadu_ps(xr + k);
    __mmask16 nz = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);
    notone |= _mm512_mask_cmp_ps_mask(nz, v, one, _CMP_NEQ_UQ);
    _mm512_mask_compressstoreu_epi32(idx + c, nz, kv);
    _mm512_mask_compressstoreu_ps(val + c, nz, v);
    c += __builtin_popcount(nz);
    kv = _mm512_add_epi32(kv, step);
  }
  int tail_ones;
  c += compact_scalar(xr, k, k1, idx + c, val + c, &tail_ones);
  *ones = !notone && tail_ones;
  return c;
}
#endif

static int compact(const float *restrict xr, int k0, int k1, int *restrict idx, float *restrict val, int *ones) {
#ifdef SF_HAVE_COMPACT512
  if (__builtin_cpu_supports("avx512f")) return compact_avx512(xr, k0, k1, idx, val, ones);
#endif
  return compact_scalar(xr, k0, k1, idx, val, ones);
}

SF_CLONES void sf_linear_rows(long nrows, int K, int N, const float *restrict x, const float *restrict Wt,
                              const float *restrict b, float *restrict y) {
  int idx[SEG];
  float val[SEG];
  for (long r = 0; r < nrows; ++r) {
    const float *xr = x + r * K;
    float *yr = y + r * N;
    for (int k0 = 0; k0 < K; k0 += SEG) {
      const int k1 = K - k0 < SEG ? K : k0 + SEG;
      const float *acc0 = k0 ? yr : b; /* partial sums so far */
      int ones;
      const int c = compact(xr, k0, k1, idx, val, &ones);
      if (ones)
        accumulate(1, c, idx, val, N, Wt, acc0, yr);
      else
        accumulate(0, c, idx, val, N, Wt, acc0, yr);
    }
  }
}

SF_ALWAYS_INLINE void lif_forward_body(int mode, float k, int T, int B, int N, int b0, int b1, int n0, int n1,
                                       const float *restrict beta_c, const float *restrict theta,
                                       float *restrict u, float *restrict s) {
  const long BN = (long)B * N;
  const int w = n1 - n0;
  const float *bc = beta_c + n0, *th = theta + n0;
  float s0[SF_TILE_N];
  start_spikes(w, th, s0);
  for (int t = 0; t < T; ++t) {
    for (int b = b0; b < b1; ++b) {
      long row = ((long)t * B + b) * N + n0;
      float *ur = u + row, *sr = s + row;
      const float *up = t ? ur - BN : zeros, *sp = t ? sr - BN : s0;
#pragma omp simd
      for (int j = 0; j < w; ++j) sf_lif_forward(mode, bc[j], th[j], k, up[j], sp[j], ur[j], &ur[j], &sr[j]);
    }
  }
}

SF_CLONES void sf_lif_forward_tile(int mode, float k, int T, int B, int N, int b0, int b1, int n0, int n1,
                                   const float *beta_c, const float *theta, float *u, float *s) {
  /* The mode is a literal in each call, so each copy of the loop is
   * specialised and the Heaviside one vectorises. */
  if (mode == SF_SPIKE_SIGMOID)
    lif_forward_body(SF_SPIKE_SIGMOID, k, T, B, N, b0, b1, n0, n1, beta_c, theta, u, s);
  else
    lif_forward_body(SF_SPIKE_HEAVISIDE, k, T, B, N, b0, b1, n0, n1, beta_c, theta, u, s);
}

SF_ALWAYS_INLINE void lif_step_body(int mode, float k, long rows, int N, const float *restrict beta_c,
                                    const float *restrict theta, const float *restrict cur, float *restrict u,
                                    float *restrict s) {
  for (long r = 0; r < rows; ++r) {
    const float *cr = cur + r * N;
    float *ur = u + r * N, *sr = s + r * N;
#pragma omp simd
    for (int n = 0; n < N; ++n)
      sf_lif_forward(mode, beta_c[n], theta[n], k, ur[n], sf_lif_state_spike(sr[n], theta[n]), cr[n], &ur[n], &sr[n]);
  }
}

SF_CLONES void sf_lif_step_rows(int mode, float k, long rows, int N, const float *beta_c, const float *theta,
                                const float *cur, float *u, float *s) {
  if (mode == SF_SPIKE_SIGMOID)
    lif_step_body(SF_SPIKE_SIGMOID, k, rows, N, beta_c, theta, cur, u, s);
  else
    lif_step_body(SF_SPIKE_HEAVISIDE, k, rows, N, beta_c, theta, cur, u, s);
}

SF_ALWAYS_INLINE void lif_backward_body(int mode, int detach_reset, float k, int T, int B, int N, int b0, int b1,
                                        int n0, int n1, const float *restrict beta_c, const float *restrict theta,
                                        float *restrict u, const float *restrict s, const float *restrict gs,
                                        float *restrict acc) {
  const long BN = (long)B * N;
  const int w = n1 - n0;
  const float *bc = beta_c + n0, *th = theta + n0;
  float gbeta[SF_TILE_N], gtheta[SF_TILE_N], gcur[SF_TILE_N], s0[SF_TILE_N];
  for (int j = 0; j < w; ++j) gbeta[j] = gtheta[j] = gcur[j] = 0.0f;
  start_spikes(w, th, s0);
  for (int t = T - 1; t >= 0; --t) {
    for (int b = b0; b < b1; ++b) {
      long row = ((long)t * B + b) * N + n0;
      float *ur = u + row;
      const float *gr = gs + row;
      const float *up = t ? ur - BN : zeros, *sp = t ? s + row - BN : s0;
      const float *un = t + 1 < T ? ur + BN : zeros; /* already dL/dI_{t+1} = dL/dU_{t+1} */
#pragma omp simd
      for (int j = 0; j < w; ++j) {
        float g = sf_lif_backward(mode, detach_reset, bc[j], th[j], k, ur[j], up[j], sp[j], gr[j], un[j],
                                  &gbeta[j], &gtheta[j]);
        ur[j] = g;
        gcur[j] += g;
      }
    }
  }
  for (int j = 0; j < w; ++j) {
    acc[j] = gbeta[j];
    acc[w + j] = gtheta[j];
    acc[2 * w + j] = gcur[j];
  }
}

SF_CLONES void sf_lif_backward_tile(int mode, int detach_reset, float k, int T, int B, int N, int b0, int b1,
                                    int n0, int n1, const float *beta_c, const float *theta, float *u,
                                    const float *s, const float *gs, float *acc) {
  if (mode == SF_SPIKE_SIGMOID) {
    if (detach_reset)
      lif_backward_body(SF_SPIKE_SIGMOID, 1, k, T, B, N, b0, b1, n0, n1, beta_c, theta, u, s, gs, acc);
    else
      lif_backward_body(SF_SPIKE_SIGMOID, 0, k, T, B, N, b0, b1, n0, n1, beta_c, theta, u, s, gs, acc);
  } else {
    if (detach_reset)
      lif_backward_body(SF_SPIKE_HEAVISIDE, 1, k, T, B, N, b0, b1, n0, n1, beta_c, theta, u, s, gs, acc);
    else
      lif_backward_body(SF_SPIKE_HEAVISIDE, 0, k, T, B, N, b0, b1, n0, n1, beta_c, theta, u, s, gs, acc);
  }
}

void sf_colsum_add(long rows, int N, const float *a, float *out) {
  for (int n0 = 0; n0 < N; n0 += SF_TILE_N) {
    int w = N - n0 < SF_TILE_N ? N - n0 : SF_TILE_N;
    double acc[SF_TILE_N] = {0};
    for (long r = 0; r < rows; ++r) {
      const float *ar = a + r * N + n0;
      for (int j = 0; j < w; ++j) acc[j] += ar[j];
    }
    for (int j = 0; j < w; ++j) out[n0 + j] = (float)(out[n0 + j] + acc[j]);
  }
}

void sf_linear_backward(long rows, int K, int N, const float *x, int ldx, const float *W, int ldw, const float *dy,
                        float *dW, float *db, float *dx, int ldx_out) {
  if (rows <= 0) return;
  if (dW) sf_gemm(1, 0, N, K, rows, dy, N, x, ldx, 1.0f, dW, K);
  if (db) sf_colsum_add(rows, N, dy, db);
  if (dx) sf_gemm(0, 0, rows, K, N, dy, N, W, ldw, 0.0f, dx, ldx_out);
}
