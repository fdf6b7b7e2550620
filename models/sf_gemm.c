/* sf_gemm: the dense products of the MLPs and of backpropagation.
 *
 * On processors with AVX-512 the products run in the kernel below, where
 * every element of C is one chain of fused multiply-adds over k ascending,
 * from 0 (beta 0) or from C's value (beta 1). Its bits therefore depend on
 * nothing but the operands: not on the thread count, the blocking, or how
 * many rows a call has (a row of X W^T is the same in a 16-row call as in a
 * 25,600-row call), and not on the BLAS library or its kernel choice.
 * Measured on the development machine (AMD EPYC, Zen 5, 2 cores), one
 * TD3BC+JSRL update's products at configs/quick.ini's shapes run at about
 * 190 GFLOP/s per core here, against 85-90 for OpenBLAS 0.3.21's AVX2
 * kernels and 150-175 for its AVX-512 ones (bench_gemm).
 *
 * Elsewhere the products go to OpenBLAS, single-threaded, in blocks that
 * depend on the shape only, run by the OpenMP team: the bits do not depend on
 * the thread count there either. */
#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
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

/* A tile's op(A) rows i0.. (MR of them, zeros past M) for k in [k0, k0 + kc),
 * packed k-major: ap[k][i]. */
static void pack_a(int trans_a, const float *A, long lda, long M, long i0, long k0, int kc, float *ap) {
  const int rows = M - i0 < MR ? (int)(M - i0) : MR;
  if (trans_a) { /* op(A)[i][k] = A[k][i]: each k's MR values are adjacent */
    for (int k = 0; k < kc; ++k) {
      const float *src = A + (k0 + k) * lda + i0;
      float *dst = ap + (long)k * MR;
      for (int i = 0; i < rows; ++i) dst[i] = src[i];
      for (int i = rows; i < MR; ++i) dst[i] = 0.0f;
    }
  } else {
    for (int i = 0; i < rows; ++i) {
      const float *src = A + (i0 + i) * lda + k0;
      for (int k = 0; k < kc; ++k) ap[(long)k * MR + i] = src[k];
    }
    for (int i = rows; i < MR; ++i)
      for (int k = 0; k < kc; ++k) ap[(long)k * MR + i] = 0.0f;
  }
}

/* op(B)'s columns j0.. (NR of them, zeros past N) for k in [k0, k0 + kc),
 * packed k-major: bp[k][j]. */
static void pack_b(int trans_b, const float *B, long ldb, long N, long j0, long k0, int kc, float *bp) {
  const int cols = N - j0 < NR ? (int)(N - j0) : NR;
  if (trans_b) { /* op(B)[k][j] = B[j][k] */
    for (int j = 0; j < cols; ++j) {
      const float *src = B + (j0 + j) * ldb + k0;
      for (int k = 0; k < kc; ++k) bp[(long)k * NR + j] = src[k];
    }
  } else {
    for (int k = 0; k < kc; ++k) memcpy(bp + (long)k * NR, B + (k0 + k) * ldb + j0, sizeof(float) * cols);
  }
  if (cols < NR)
    for (int k = 0; k < kc; ++k) memset(bp + (long)k * NR + cols, 0, sizeof(float) * (NR - cols));
}

static inline __mmask16 lane_mask(int n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u); }

/* C[i][j] (i < rows, j < cols) = start + sum over k < kc of ap[k][i] bp[k][j],
 * one fused multiply-add per k in ascending order, where start is C's value
 * (load_c) or 0. Lanes past cols are neither read nor written in C. */
__attribute__((target("avx512f"))) static void kernel(int kc, const float *restrict ap, const float *restrict bp,
                                                     float *restrict c, long ldc, int rows, int cols, int load_c) {
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
    const float *a = ap + (long)k * MR;
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
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
 * [tj0, tj1), MC_TILES row tiles at a time, through all of k KC at a time:
 * their op(A) packed once per pass of k, each panel's op(B) once per pass. */
#define MC_TILES 64
static void gemm_block(int trans_a, int trans_b, long M, long N, long K, const float *A, long lda, const float *B,
                       long ldb, int beta1, float *C, long ldc, long ti0, long ti1, long tj0, long tj1, float *ap,
                       float *bp) {
  for (long mb = ti0; mb < ti1; mb += MC_TILES) {
    const long me = ti1 - mb < MC_TILES ? ti1 : mb + MC_TILES;
    for (long k0 = 0; k0 < K; k0 += KC) {
      const int kc = K - k0 < KC ? (int)(K - k0) : KC;
      for (long ti = mb; ti < me; ++ti) pack_a(trans_a, A, lda, M, ti * MR, k0, kc, ap + (ti - mb) * KC * MR);
      for (long tj = tj0; tj < tj1; ++tj) {
        const long j0 = tj * NR;
        const int cols = N - j0 < NR ? (int)(N - j0) : NR;
        pack_b(trans_b, B, ldb, N, j0, k0, kc, bp);
        for (long ti = mb; ti < me; ++ti) {
          const long i0 = ti * MR;
          const int rows = M - i0 < MR ? (int)(M - i0) : MR;
          kernel(kc, ap + (ti - mb) * KC * MR, bp, C + i0 * ldc + j0, ldc, rows, cols, beta1 || k0 > 0);
        }
      }
    }
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

/* Below this many multiply-adds a product runs on the calling thread. */
#define KERNEL_PAR_MIN (1L << 17)

static int gemm_avx512(int trans_a, int trans_b, long M, long N, long K, const float *A, long lda, const float *B,
                       long ldb, float beta, float *C, long ldc) {
  const long mt = (M + MR - 1) / MR, nt = (N + NR - 1) / NR;
  const int par = M * N * K > KERNEL_PAR_MIN && mt * nt > 1, most = par ? omp_get_max_threads() : 1;
  /* Every thread's packing space, taken before anything is written so a
   * failure leaves C as it was. */
  const size_t per = (size_t)(mt < MC_TILES ? mt : MC_TILES) * KC * MR + KC * NR;
  float *space = aligned_alloc(64, sizeof(float) * per * (size_t)most);
  if (!space) return -1;
#pragma omp parallel if (par) num_threads(most)
  {
    /* Each thread takes a share of the row tiles, or of the column panels
     * when there are few row tiles. */
    const long nth = omp_get_num_threads(), tid = omp_get_thread_num();
    const int by_rows = mt >= 2 * nth || mt >= nt;
    const long n = by_rows ? mt : nt, s0 = n * tid / nth, s1 = n * (tid + 1) / nth;
    float *ap = space + per * (size_t)tid, *bp = ap + per - KC * NR;
    if (s1 > s0)
      gemm_block(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta != 0.0f, C, ldc, by_rows ? s0 : 0, by_rows ? s1 : mt,
                 by_rows ? 0 : s0, by_rows ? nt : s1, ap, bp);
  }
  free(space);
  return 0;
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
  if (use_kernel && (beta == 0.0f || beta == 1.0f) && gemm_avx512(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc) == 0) return;
#endif
  gemm_openblas(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
}
