// sf_gemm against references computed here: a double-precision sum for any
// processor, and on processors with AVX-512 the kernel's own promise, bit for
// bit: each element of C is one chain of fused multiply-adds over k
// ascending, from 0 (beta 0) or from C (beta 1), so it depends neither on the
// thread count nor on how many rows the call has.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/sf_philox.h"
#include "models/sf_cpu_kernels.h"

namespace {

std::vector<float> uniform(size_t n, uint64_t key) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = sf_uniform(sf_rng_bits(key, 0, 0, 0, (uint32_t)i).v[0], -1.0f, 1.0f);
  return v;
}

bool kernel_active() {
  const char *e = std::getenv("SF_GEMM_OPENBLAS");
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx512f") && !(e && *e && std::strcmp(e, "0"));
#else
  (void)e;
  return false;
#endif
}

// One product with padded leading dimensions, so a kernel reading past a
// row's end would read the pad's NaNs into C.
struct Case {
  int ta, tb;
  long M, N, K;
  float beta;
  long lda, ldb, ldc;
  std::vector<float> A, B, C0;

  Case(int ta_, int tb_, long M_, long N_, long K_, float beta_, uint64_t seed)
      : ta(ta_), tb(tb_), M(M_), N(N_), K(K_), beta(beta_) {
    const long ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    lda = ac + 3, ldb = bc + 5, ldc = N + 7;
    A = uniform((size_t)(ar * lda), seed);
    B = uniform((size_t)(br * ldb), seed + 1);
    C0 = uniform((size_t)(M * ldc), seed + 2);
    for (long r = 0; r < ar; ++r)
      for (long c = ac; c < lda; ++c) A[r * lda + c] = NAN;
    for (long r = 0; r < br; ++r)
      for (long c = bc; c < ldb; ++c) B[r * ldb + c] = NAN;
  }
  float a(long i, long k) const { return ta ? A[k * lda + i] : A[i * lda + k]; }
  float b(long k, long j) const { return tb ? B[j * ldb + k] : B[k * ldb + j]; }
  std::vector<float> run() const {
    std::vector<float> C = C0;
    sf_gemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
    return C;
  }
};

// M, N, K: whole and partial tiles, k past one KC block, and thin products
// (8 or fewer rows or columns) of every width from 1 to 8.
const long kShapes[][3] = {{1, 1, 1},      {13, 17, 5},  {12, 32, 256}, {37, 150, 257}, {200, 256, 150},
                           {256, 150, 600}, {5, 1, 300}, {200, 4, 128}, {1, 128, 700},  {100, 2, 50},
                           {70, 3, 33},    {45, 7, 20},  {8, 300, 40},  {130, 6, 3},    {9, 9, 9}};

// Every transposition, beta 0 and 1, every shape: f(case, C) after the call.
template <class F>
void for_each_case(uint64_t seed, F f) {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (float beta : {0.0f, 1.0f})
        for (const auto &s : kShapes) {
          Case c(ta, tb, s[0], s[1], s[2], beta, seed);
          SCOPED_TRACE(testing::Message() << "ta " << ta << " tb " << tb << " beta " << beta << " M " << c.M << " N "
                                          << c.N << " K " << c.K);
          f(c, c.run());
          if (testing::Test::HasFatalFailure()) return;
        }
}

TEST(Gemm, MatchesADoublePrecisionSum) {
  for_each_case(11, [](const Case &c, const std::vector<float> &C) {
    for (long i = 0; i < c.M; ++i) {
      for (long j = 0; j < c.N; ++j) {
        double ref = c.beta ? c.C0[i * c.ldc + j] : 0.0, mag = std::fabs(ref);
        for (long k = 0; k < c.K; ++k) {
          ref += (double)c.a(i, k) * c.b(k, j);
          mag += std::fabs((double)c.a(i, k) * c.b(k, j));
        }
        ASSERT_NEAR(C[i * c.ldc + j], ref, 1e-5 * mag + 1e-30) << "at " << i << "," << j;
      }
      for (long j = c.N; j < c.ldc; ++j)
        ASSERT_EQ(C[i * c.ldc + j], c.C0[i * c.ldc + j]) << "wrote past column " << c.N;
    }
  });
}

TEST(Gemm, EachElementIsOneFusedChainOverAscendingK) {
  if (!kernel_active()) GTEST_SKIP() << "this processor has no AVX-512: sf_gemm runs OpenBLAS, whose order is its own";
  for_each_case(21, [](const Case &c, const std::vector<float> &C) {
    for (long i = 0; i < c.M; ++i)
      for (long j = 0; j < c.N; ++j) {
        float acc = c.beta ? c.C0[i * c.ldc + j] : 0.0f;
        for (long k = 0; k < c.K; ++k) acc = std::fmaf(c.a(i, k), c.b(k, j), acc);
        ASSERT_EQ(C[i * c.ldc + j], acc) << "at " << i << "," << j;
      }
  });
}

TEST(Gemm, ARowIsTheSameInAOneRowCall) {
  if (!kernel_active()) GTEST_SKIP() << "this processor has no AVX-512: OpenBLAS's bits depend on the call's shape";
  Case c(0, 1, 3200, 256, 150, 0.0f, 31);
  std::vector<float> C = c.run();
  for (long i : {0L, 11L, 12L, 1999L, 3199L}) {
    std::vector<float> row(c.N);
    sf_gemm(0, 1, 1, c.N, c.K, c.A.data() + i * c.lda, c.lda, c.B.data(), c.ldb, 0.0f, row.data(), c.N);
    ASSERT_EQ(0, std::memcmp(row.data(), C.data() + i * c.ldc, sizeof(float) * c.N)) << "row " << i;
  }
}

TEST(Gemm, OneAndTwoThreadsGiveTheSameBits) {
  const int saved = omp_get_max_threads();
  for (int ta = 0; ta < 2; ++ta) {
    Case c(ta, 1 - ta, 700, 150, 256, (float)ta, 41);
    omp_set_num_threads(1);
    std::vector<float> one = c.run();
    omp_set_num_threads(2);
    std::vector<float> two = c.run();
    ASSERT_EQ(0, std::memcmp(one.data(), two.data(), sizeof(float) * one.size())) << "ta " << ta;
  }
  omp_set_num_threads(saved);
}

TEST(Gemm, AnEmptySumGivesBetaTimesC) {
  Case c(0, 0, 5, 7, 0, 0.0f, 51);
  std::vector<float> C = c.run();
  for (long i = 0; i < c.M; ++i)
    for (long j = 0; j < c.N; ++j) ASSERT_EQ(C[i * c.ldc + j], 0.0f);
  Case d(0, 0, 5, 7, 0, 1.0f, 51);
  ASSERT_EQ(d.run(), d.C0);
}

}  // namespace
