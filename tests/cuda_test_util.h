// Shared by the test_cuda_* suites: skip without a usable GPU (with the
// reason the CUDA runtime gives), reproducible uniform test data, copies
// between host vectors and device arrays, and a relative L2 difference.
#ifndef SF_CUDA_TEST_UTIL_H
#define SF_CUDA_TEST_UTIL_H

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

extern "C" {
#include "core/sf_philox.h"
#include "kernels/sf_env_cuda.h"
}

#define SKIP_WITHOUT_GPU()                                                \
  do {                                                                    \
    char why[256];                                                        \
    if (sf_cuda_env_available(why, sizeof why) != 0) GTEST_SKIP() << why; \
  } while (0)

// n values uniform in [lo, hi) from Philox keyed by seed.
inline std::vector<float> sf_test_uniform(size_t n, uint64_t seed, float lo, float hi) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; i += 4) {
    sf_u32x4 r = sf_rng_bits(seed, (uint32_t)(i >> 32), (uint32_t)i, 5, 0);
    for (int j = 0; j < 4 && i + j < n; ++j) v[i + j] = sf_uniform(r.v[j], lo, hi);
  }
  return v;
}

// |a - b| / |b| over n values (L2 norms, in double).
inline double sf_test_rel_l2(const float *a, const float *b, long n) {
  double d = 0, r = 0;
  for (long i = 0; i < n; ++i) {
    d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    r += (double)b[i] * b[i];
  }
  return std::sqrt(d) / std::fmax(std::sqrt(r), 1e-30);
}

template <typename V>
V *sf_test_to_device(const std::vector<V> &h) {
  V *d = nullptr;
  EXPECT_EQ(cudaMalloc(&d, sizeof(V) * h.size()), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(d, h.data(), sizeof(V) * h.size(), cudaMemcpyHostToDevice), cudaSuccess);
  return d;
}

template <typename V>
std::vector<V> sf_test_to_host(const V *d, size_t n) {
  std::vector<V> h(n);
  EXPECT_EQ(cudaMemcpy(h.data(), d, sizeof(V) * n, cudaMemcpyDeviceToHost), cudaSuccess);
  return h;
}

#endif
