/* sf_gemm: the dense products of the MLPs and of backpropagation.
 *
 * On processors with AVX-512 the products run in the kernel below, where
 * every element of C is one chain of fused multiply-adds over k ascending,
 * from 0 (beta 0) or from C's value (beta 1). Its bits therefore depend on
 * nothing but the operands: not on the thread count, the blocking, or how
 * many rows a call has (a row of X W^T is the same in a 16-row call as in a
 * 25,600-row call), and not on the BLAS library or its kernel choice.
 * Thin products (C with 8 or fewer rows or columns) run 16 elements of C's
 * long side per vector, each still its own chain.
 *
 * On the development machine (AMD EPYC, Zen 5) the products of a TD3BC+JSRL
 * update at configs/quick.ini's shapes ran at 1.6-1.9x OpenBLAS 0.3.21's
 * AVX2 kernels (the ones that machine's environment selects) and 0.8-1.1x
 * its AVX-512 ones, at 1 and 2 threads (bench_gemm update 32 100).
 *
 * Elsewhere the products go to OpenBLAS, single-threaded, in blocks that
 * depend on the shape only, run by the OpenMP team: the bits do not depend on
 * the thread count there either. */
#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "models/sf_cpu_kernels.h"

/* ---- OpenBLAS ------------------------------------------------------------ */

/* OpenBLAS is told once to run every call on the calling thread: OpenMP is
 * the engine's one threading model. A BLAS pool of its own beside the
 * OpenMP team would put two spinning pools on the same cores (2 threads
 * slower than 1), and BLAS threads inside an OpenMP region oversubscribe. */
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static void blas_single_threaded(void) { openblas_set_num_threads(1); }

/* The blocks C is cut into: rows when C has at least as many rows as
 * columns, else columns; 64 wide, or 256 rows for tall C. A function of the
 * shape only, so every element of C comes from the same call shape (the same
 * OpenBLAS kernel and summation order) on any number of threads. */
#define GEMM_BLOCK 64
#define GEMM_TALL_BLOCK 256
#define GEMM_PAR_MIN (1L << 18)

static void gemm_openblas(int trans_a, int trans_b, long M, long N, long K, const float *A, long lda, const float *B,
                          long ldb, float beta, float *C, long ldc) {
  pthread_once(&blas_once, blas_single_threaded);
  const int by_rows = M >= N;
  const long len = by_rows ? M : N, bs = by_rows && M > 4 * GEMM_TALL_BLOCK ? GEMM_TALL_BLOCK : GEMM_BLOCK;
  const long nb = (len + bs - 1) / bs;
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
#pragma omp parallel for schedule(dynamic, 1) if (nb > 1 && M * N * K > GEMM_PAR_MIN)
  for (long i = 0; i < nb; ++i) {
    const long o = i * bs, n = len - o < bs ? len - o : bs;
    if (by_rows)
      cblas_sgemm(CblasRowMajor, ta, tb, (int)n, (int)N, (int)K, 1.0f, A + (trans_a ? o : o * lda), (int)lda, B,
                  (int)ldb, beta, C + o * ldc, (int)ldc);
    else
      cblas_sgemm(CblasRowMajor, ta, tb, (int)M, (int)n, (int)K, 1.0f, A, (int)lda, B + (trans_b ? o * ldb : o),
                  (int)ldb, beta, C + o, (int)ldc);
  }
}

/* ---- the AVX-512 kernel -------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define SF_GEMM_AVX512 1
#include <immintrin.h>

/* A tile of C is MR rows by NR columns: 24 accumulators of the 32 vector
 * registers, two for a row of op(B), one for the broadcast of op(A). */
#define MR 12
#define NR 32
/* op(A) and op(B) are taken KC values of k at a time, so a tile's packed
 * op(A) (12 KB) stays in L1 and the rows of op(B) it meets in L2. */
#define KC 256
/* Below this much work a product runs on the calling thread: its
 * multiply-adds plus its writes of C, each weighed as 16 multiply-adds (a
 * product with k = 1 is all writes). */
#define KERNEL_PAR_MIN (1L << 20)
static int worth_a_team(long M, long N, long K) { return M * N * (K + 16) > KERNEL_PAR_MIN; }

static inline __mmask16 lane_mask(int n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u); }

/* Lane l's offset l * stride, for gathers and scatters across 16 rows. */
__attribute__((target("avx512f"))) static inline __m512i lane_offsets(long stride) {
  return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                            _mm512_set1_epi32((int)stride));
}

/* A tile's op(A) rows i0.. (MR of them, zeros past M) for k in [k0, k0 + kc),
 * packed k-major: ap[k][i]. Where A is not transposed each k's MR values are
 * gathered from MR rows. */
__attribute__((target("avx512f"))) static void pack_a(int trans_a, const float *A, long lda, long M, long i0,
                                                     long k0, int kc, float *ap) {
  const __mmask16 m = lane_mask(M - i0 < MR ? (int)(M - i0) : MR), tile = lane_mask(MR);
  if (trans_a) { /* op(A)[i][k] = A[k][i] */
    for (int k = 0; k < kc; ++k)
      _mm512_mask_storeu_ps(ap + (long)k * MR, tile, _mm512_maskz_loadu_ps(m, A + (k0 + k) * lda + i0));
  } else {
    const __m512i rows = lane_offsets(lda);
    const float *src = A + i0 * lda + k0;
    for (int k = 0; k < kc; ++k)
      _mm512_mask_storeu_ps(ap + (long)k * MR, tile,
                            _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, rows, src + k, 4));
  }
}

/* op(B)'s columns j0.. (NR of them, zeros past N) for k in [k0, k0 + kc),
 * packed k-major: bp[k][j]. Transposed, each k's values are gathered. */
__attribute__((target("avx512f"))) static void pack_b(int trans_b, const float *B, long ldb, long N, long j0,
                                                     long k0, int kc, float *bp) {
  const int cols = N - j0 < NR ? (int)(N - j0) : NR;
  const __mmask16 m0 = lane_mask(cols), m1 = lane_mask(cols - 16);
  if (trans_b) { /* op(B)[k][j] = B[j][k]: gathered from NR rows */
    const __m512i rows = lane_offsets(ldb);
    const float *src = B + j0 * ldb + k0;
    for (int k = 0; k < kc; ++k) {
      _mm512_store_ps(bp + (long)k * NR, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m0, rows, src + k, 4));
      _mm512_store_ps(bp + (long)k * NR + 16,
                      _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m1, rows, src + 16 * ldb + k, 4));
    }
  } else {
    for (int k = 0; k < kc; ++k) {
      const float *src = B + (k0 + k) * ldb + j0;
      _mm512_store_ps(bp + (long)k * NR, _mm512_maskz_loadu_ps(m0, src));
      _mm512_store_ps(bp + (long)k * NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
    }
  }
}

/* C[i][j] (i < rows, j < cols) = start + sum over k < kc of a(i, k) bp[k][j],
 * one fused multiply-add per k in ascending order, where start is C's value
 * (load_c) or 0 and a(i, k) = a[i si + k sk] (MR rows of it are read). Lanes
 * past cols are neither read nor written in C. */
__attribute__((target("avx512f"))) static void kernel(int kc, const float *restrict a, long si, long sk,
                                                     const float *restrict bp, float *restrict c, long ldc, int rows,
                                                     int cols, int load_c) {
  const __mmask16 m0 = lane_mask(cols), m1 = lane_mask(cols - 16);
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    if (load_c && i < rows) {
      c0[i] = _mm512_maskz_loadu_ps(m0, c + i * ldc);
      c1[i] = _mm512_maskz_loadu_ps(m1, c + i * ldc + 16);
    } else {
      c0[i] = _mm512_setzero_ps();
      c1[i] = _mm512_setzero_ps();
    }
  }
  for (int k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(bp + (long)k * NR), b1 = _mm512_load_ps(bp + (long)k * NR + 16);
    const float *ak = a + k * sk;
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(ak[i * si]);
      c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
    }
  }
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i)
    if (i < rows) {
      _mm512_mask_storeu_ps(c + i * ldc, m0, c0[i]);
      _mm512_mask_storeu_ps(c + i * ldc + 16, m1, c1[i]);
    }
}

/* One thread's rectangle of C: row tiles [ti0, ti1) by column panels
 * [tj0, tj1), MC_TILES row tiles at a time, through all of k KC at a time.
 * op(B) is packed whole in bp ([panel][k][NR]). op(A) is read in place where
 * A is not transposed (a tile's rows are contiguous in k); transposed, and
 * for a last tile short of MR rows, it is packed into ap once per pass of k. */
#define MC_TILES 64
static void gemm_block(int trans_a, long M, long N, long K, const float *A, long lda, const float *bp, int beta1,
                       float *C, long ldc, long ti0, long ti1, long tj0, long tj1, float *ap) {
  for (long mb = ti0; mb < ti1; mb += MC_TILES) {
    const long me = ti1 - mb < MC_TILES ? ti1 : mb + MC_TILES;
    for (long k0 = 0; k0 < K; k0 += KC) {
      const int kc = K - k0 < KC ? (int)(K - k0) : KC;
      for (long ti = mb; ti < me; ++ti)
        if (trans_a || M - ti * MR < MR) pack_a(trans_a, A, lda, M, ti * MR, k0, kc, ap + (ti - mb) * KC * MR);
      for (long tj = tj0; tj < tj1; ++tj) {
        const long j0 = tj * NR;
        const int cols = N - j0 < NR ? (int)(N - j0) : NR;
        const float *b = bp + (tj * K + k0) * NR;
        for (long ti = mb; ti < me; ++ti) {
          const long i0 = ti * MR;
          const int rows = M - i0 < MR ? (int)(M - i0) : MR, packed = trans_a || rows < MR;
          const float *a = packed ? ap + (ti - mb) * KC * MR : A + i0 * lda + k0;
          kernel(kc, a, packed ? 1 : lda, packed ? MR : 1, b, C + i0 * ldc + j0, ldc, rows, cols, beta1 || k0 > 0);
        }
      }
    }
  }
}

/* Thin products, C with at most THIN columns (or rows), where a 12 x 32 tile
 * would mostly multiply padding: 16 elements of C's long side per vector,
 * each its own chain over k ascending, the long side's operand loaded (or
 * gathered) 16 lanes at a time and the short side's broadcast. Element (i, k)
 * of the long side's operand is a[i sai + k sak], (k, j) of the short side's
 * b[k sbk + j sbj], and C's (i, j) is c[i sci + j scj]. fma(a, b, acc) is
 * exact in the product, so swapping the operands' roles changes no bit. */
#define THIN 8
typedef struct {
  const float *a, *b;
  float *c;
  long sai, sak, sbk, sbj, sci, scj;
} thin_view;

/* A block of V vectors of the long side (16 V elements from i0, lanes past
 * len masked off) for n <= NM columns of the short side, over k in
 * [k0, k0 + kc). NM V accumulators: at least 8 chains in flight when n is
 * small (a chain waits for its last fused multiply-add). */
#define SF_AVX512_INLINE static inline __attribute__((always_inline, target("avx512f")))
/* r[l] (row l, 16 values of k) becomes r[k] (16 rows at k). */
SF_AVX512_INLINE void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) { /* per 128-bit block: rows 2i, 2i + 1 interleaved */
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) { /* r[4i + j], block q: rows 4i..4i+3 at k = 4q + j */
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]),
                  c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  __m512 o[16];
  for (int j = 0; j < 4; ++j) { /* block p of k = 4q + j: r[4p + j]'s block q */
    const __m512 u0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88), u1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD),
                 u2 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88),
                 u3 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
    o[j] = _mm512_shuffle_f32x4(u0, u2, 0x88);
    o[8 + j] = _mm512_shuffle_f32x4(u0, u2, 0xDD);
    o[4 + j] = _mm512_shuffle_f32x4(u1, u3, 0x88);
    o[12 + j] = _mm512_shuffle_f32x4(u1, u3, 0xDD);
  }
  for (int i = 0; i < 16; ++i) r[i] = o[i];
}

SF_AVX512_INLINE void thin_body(const thin_view *v, long i0, long len, int n, long k0, int kc, int load_c,
                                const int NM, const int V) {
  const __m512i ia = lane_offsets(v->sai), ic = lane_offsets(v->sci);
  __mmask16 m[4];
  __m512 acc[8][4];
#pragma GCC unroll 4
  for (int u = 0; u < V; ++u) m[u] = lane_mask((int)(len - i0 - 16 * u < 16 ? len - i0 - 16 * u : 16));
#pragma GCC unroll 8
  for (int j = 0; j < NM; ++j)
#pragma GCC unroll 4
    for (int u = 0; u < V; ++u) {
      float *c = v->c + (i0 + 16 * u) * v->sci + j * v->scj;
      acc[j][u] = !load_c || j >= n ? _mm512_setzero_ps()
                  : v->sci == 1     ? _mm512_maskz_loadu_ps(m[u], c)
                                    : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m[u], ic, c, 4);
    }
  if (v->sai != 1 && v->sak == 1) {
    /* The long side's rows are contiguous in k: 16 rows by 16 k at a time,
     * transposed in registers (gathering each k costs more). */
    float xs[16][4][16] __attribute__((aligned(64)));
    for (long kb = k0; kb < k0 + kc; kb += 16) {
      const int kn = k0 + kc - kb < 16 ? (int)(k0 + kc - kb) : 16;
#pragma GCC unroll 4
      for (int u = 0; u < V; ++u) {
        __m512 r[16];
        for (int l = 0; l < 16; ++l) {
          const long row = i0 + 16 * u + l;
          r[l] = row < len ? _mm512_maskz_loadu_ps(lane_mask(kn), v->a + row * v->sai + kb) : _mm512_setzero_ps();
        }
        transpose16(r);
        for (int kk = 0; kk < 16; ++kk) _mm512_store_ps(xs[kk][u], r[kk]);
      }
      for (int kk = 0; kk < kn; ++kk) {
        const float *b = v->b + (kb + kk) * v->sbk;
#pragma GCC unroll 8
        for (int j = 0; j < NM; ++j)
          if (j < n) {
            const __m512 bj = _mm512_set1_ps(b[j * v->sbj]);
#pragma GCC unroll 4
            for (int u = 0; u < V; ++u) acc[j][u] = _mm512_fmadd_ps(_mm512_load_ps(xs[kk][u]), bj, acc[j][u]);
          }
      }
    }
  } else {
    for (long k = k0; k < k0 + kc; ++k) {
      __m512 x[4];
#pragma GCC unroll 4
      for (int u = 0; u < V; ++u) {
        const float *a = v->a + (i0 + 16 * u) * v->sai + k * v->sak;
        x[u] = v->sai == 1 ? _mm512_maskz_loadu_ps(m[u], a)
                           : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m[u], ia, a, 4);
      }
      const float *b = v->b + k * v->sbk;
#pragma GCC unroll 8
      for (int j = 0; j < NM; ++j)
        if (j < n) {
          const __m512 bj = _mm512_set1_ps(b[j * v->sbj]);
#pragma GCC unroll 4
          for (int u = 0; u < V; ++u) acc[j][u] = _mm512_fmadd_ps(x[u], bj, acc[j][u]);
        }
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < NM; ++j)
#pragma GCC unroll 4
    for (int u = 0; u < V; ++u)
      if (j < n) {
        float *c = v->c + (i0 + 16 * u) * v->sci + j * v->scj;
        if (v->sci == 1)
          _mm512_mask_storeu_ps(c, m[u], acc[j][u]);
        else
          _mm512_mask_i32scatter_ps(c, m[u], ic, acc[j][u], 4);
      }
}

/* Lanes per block for n columns: 64 (n <= 2), 32 (n <= 4) or 16. */
static int thin_lanes(int n) { return n <= 2 ? 64 : n <= 4 ? 32 : 16; }

__attribute__((target("avx512f"))) static void thin_block(const thin_view *v, long i0, long len, int n, long k0,
                                                         int kc, int load_c) {
  if (n <= 2)
    thin_body(v, i0, len, n, k0, kc, load_c, 2, 4);
  else if (n <= 4)
    thin_body(v, i0, len, n, k0, kc, load_c, 4, 2);
  else
    thin_body(v, i0, len, n, k0, kc, load_c, 8, 1);
}

static void gemm_thin(int trans_a, int trans_b, long M, long N, long K, const float *A, long lda, const float *B,
                      long ldb, float beta, float *C, long ldc) {
  thin_view v;
  long len;
  int n;
  if (N <= THIN) { /* lanes along C's rows: op(A) is the long side */
    v = (thin_view){A, B, C, trans_a ? 1 : lda, trans_a ? lda : 1, trans_b ? 1 : ldb, trans_b ? ldb : 1, ldc, 1};
    len = M, n = (int)N;
  } else { /* lanes along C's columns: op(B) is the long side */
    v = (thin_view){B, A, C, trans_b ? ldb : 1, trans_b ? 1 : ldb, trans_a ? lda : 1, trans_a ? 1 : lda, 1, ldc};
    len = N, n = (int)M;
  }
  const long w = thin_lanes(n), blocks = (len + w - 1) / w;
  const int beta1 = beta != 0.0f;
#pragma omp parallel if (worth_a_team(M, N, K) && blocks > 1)
  {
    /* KC values of k at a time across the thread's blocks, so the rows of
     * the long side's operand they share are read once from memory. */
    const long nth = omp_get_num_threads(), tid = omp_get_thread_num();
    const long t0 = blocks * tid / nth, t1 = blocks * (tid + 1) / nth;
    for (long k0 = 0; k0 < K; k0 += KC)
      for (long t = t0; t < t1; ++t)
        thin_block(&v, t * w, len, n, k0, K - k0 < KC ? (int)(K - k0) : KC, beta1 || k0 > 0);
  }
}

/* SF_GEMM_OPENBLAS=1 sends the products to OpenBLAS on any processor (for
 * comparisons). */
static pthread_once_t kernel_once = PTHREAD_ONCE_INIT;
static int use_kernel;
static void choose_kernel(void) {
  const char *e = getenv("SF_GEMM_OPENBLAS");
  use_kernel = __builtin_cpu_supports("avx512f") && !(e && *e && strcmp(e, "0"));
}


/* Each thread's packing space, kept from call to call: a fresh allocation of
 * this size per product costs page faults on every call. Slot 0 holds the
 * op(B) a calling thread packs for its team, slot 1 a thread's op(A). */
static _Thread_local float *space[2];
static _Thread_local size_t space_len[2];

static float *thread_space(int slot, size_t len) {
  if (len > space_len[slot]) {
    free(space[slot]);
    space[slot] = aligned_alloc(64, sizeof(float) * len);
    space_len[slot] = space[slot] ? len : 0;
  }
  return space[slot];
}

static int gemm_avx512(int trans_a, int trans_b, long M, long N, long K, const float *A, long lda, const float *B,
                       long ldb, float beta, float *C, long ldc) {
  const long mt = (M + MR - 1) / MR, nt = (N + NR - 1) / NR, kb = (K + KC - 1) / KC;
  const size_t per = (size_t)(mt < MC_TILES ? mt : MC_TILES) * KC * MR;
  float *bp = thread_space(0, (size_t)(nt * K * NR));
  if (!bp) return -1;
  int failed = 0;
#pragma omp parallel if (worth_a_team(M, N, K) && mt * nt > 1)
  {
    float *ap = thread_space(1, per);
    if (!ap) {
#pragma omp atomic write
      failed = 1;
    }
    /* op(B) once for the team, a panel's k in KC pieces. */
#pragma omp for schedule(static)
    for (long t = 0; t < nt * kb; ++t) {
      const long tj = t / kb, k0 = t % kb * KC;
      pack_b(trans_b, B, ldb, N, tj * NR, k0, K - k0 < KC ? (int)(K - k0) : KC, bp + (tj * K + k0) * NR);
    }
    /* (the loop's barrier) Nothing is written unless every thread has its
     * space. */
    int bad;
#pragma omp atomic read
    bad = failed;
    if (!bad) {
      /* Each thread takes a share of the row tiles, or of the column panels
       * when there are few row tiles. */
      const long nth = omp_get_num_threads(), tid = omp_get_thread_num();
      const int by_rows = mt >= 2 * nth || mt >= nt;
      const long n = by_rows ? mt : nt, s0 = n * tid / nth, s1 = n * (tid + 1) / nth;
      if (s1 > s0)
        gemm_block(trans_a, M, N, K, A, lda, bp, beta != 0.0f, C, ldc, by_rows ? s0 : 0, by_rows ? s1 : mt,
                   by_rows ? 0 : s0, by_rows ? nt : s1, ap);
    }
  }
  return failed ? -1 : 0;
}
#endif

void sf_gemm(int trans_a, int trans_b, long M, long N, long K, const float *A, long lda, const float *B, long ldb,
             float beta, float *C, long ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) { /* an empty sum: C = beta C */
    if (beta == 0.0f)
      for (long i = 0; i < M; ++i) memset(C + i * ldc, 0, sizeof(float) * N);
    return;
  }
#ifdef SF_GEMM_AVX512
  pthread_once(&kernel_once, choose_kernel);
  /* The kernels index rows with 32-bit lane offsets (up to 15 strides). */
  const long most = 1L << 26;
  if (use_kernel && (beta == 0.0f || beta == 1.0f) && lda < most && ldb < most && ldc < most) {
    if (M <= THIN || N <= THIN) {
      gemm_thin(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
      return;
    }
    if (gemm_avx512(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc) == 0) return;
  }
#endif
  gemm_openblas(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
}
