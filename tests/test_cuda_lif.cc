// The fused CUDA LIF kernels against the CPU tiles of models/sf_cpu_kernels.c
// on the same random sequence: membranes, spikes and dL/dI bit for bit (the
// per-element arithmetic is the same SF_HD code, without fused multiply-add on
// either side), the sums over steps and rows (dL/dbeta, dL/dtheta, dL/dI)
// within 1e-5 relative (the GPU adds them in another order). Skipped, with the
// reason, where no GPU can be used.
#include <gtest/gtest.h>
#include <cuda_runtime.h>

#include <cmath>
#include <vector>

extern "C" {
#include "core/sf_philox.h"
#include "kernels/sf_env_cuda.h"
#include "kernels/sf_lif_cuda.h"
#include "models/sf_cpu_kernels.h"
#include "models/sf_lif_math.h"
}

namespace {

#define SKIP_WITHOUT_GPU()                                                \
  do {                                                                    \
    char why[256];                                                        \
    if (sf_cuda_env_available(why, sizeof why) != 0) GTEST_SKIP() << why; \
  } while (0)

std::vector<float> draw(size_t n, uint64_t seed, float lo, float hi) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; i += 4) {
    sf_u32x4 r = sf_rng_bits(seed, (uint32_t)(i >> 32), (uint32_t)i, 5, 0);
    for (int j = 0; j < 4 && i + j < n; ++j) v[i + j] = sf_uniform(r.v[j], lo, hi);
  }
  return v;
}

float *to_device(const std::vector<float> &h) {
  float *d = nullptr;
  EXPECT_EQ(cudaMalloc(&d, sizeof(float) * h.size()), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(d, h.data(), sizeof(float) * h.size(), cudaMemcpyHostToDevice), cudaSuccess);
  return d;
}

std::vector<float> to_host(const float *d, size_t n) {
  std::vector<float> h(n);
  EXPECT_EQ(cudaMemcpy(h.data(), d, sizeof(float) * n, cudaMemcpyDeviceToHost), cudaSuccess);
  return h;
}

TEST(CudaLif, SequenceForwardAndBackwardMatchTheCpu) {
  SKIP_WITHOUT_GPU();
  // N not a multiple of the CPU tile nor of a warp; per-agent slopes.
  const int P = 3, T = 37, B = 5, N = 70;
  const long stride = (long)T * B * N, total = P * stride;
  std::vector<float> cur = draw(total, 1, -0.5f, 1.5f), gs = draw(total, 2, -1.0f, 1.0f);
  std::vector<float> beta = draw((size_t)P * N, 3, 0.0f, 1.0f), theta = draw((size_t)P * N, 4, 0.2f, 1.0f);
  std::vector<float> slope = {2.0f, 10.0f, 100.0f};
  for (float &b : beta) b = sf_beta_clamp(b);
  for (int detach = 0; detach <= 1; ++detach) {
    // CPU reference: tiles of at most SF_LIF_TILE_MAX neurons, all rows.
    std::vector<float> u = cur, s(total), acc_cpu((size_t)P * 3 * N, 0.0f);
    for (int p = 0; p < P; ++p)
      for (int n0 = 0; n0 < N; n0 += SF_LIF_TILE_MAX) {
        const int n1 = n0 + SF_LIF_TILE_MAX < N ? n0 + SF_LIF_TILE_MAX : N;
        sf_lif_forward_tile(SF_SPIKE_HEAVISIDE, slope[p], T, B, N, 0, B, n0, n1, beta.data() + p * N,
                            theta.data() + p * N, u.data() + p * stride, s.data() + p * stride);
      }
    std::vector<float> u_fwd = u;
    for (int p = 0; p < P; ++p)
      for (int n0 = 0; n0 < N; n0 += SF_LIF_TILE_MAX) {
        const int n1 = n0 + SF_LIF_TILE_MAX < N ? n0 + SF_LIF_TILE_MAX : N, w = n1 - n0;
        std::vector<float> a(3 * w);
        sf_lif_backward_tile(SF_SPIKE_HEAVISIDE, detach, slope[p], T, B, N, 0, B, n0, n1, beta.data() + p * N,
                             theta.data() + p * N, u.data() + p * stride, s.data() + p * stride,
                             gs.data() + p * stride, a.data());
        for (int j = 0; j < 3; ++j)
          for (int n = 0; n < w; ++n) acc_cpu[((size_t)p * 3 + j) * N + n0 + n] = a[(size_t)j * w + n];
      }

    float *d_u = to_device(cur), *d_s = to_device(std::vector<float>(total)), *d_gs = to_device(gs);
    float *d_beta = to_device(beta), *d_theta = to_device(theta), *d_slope = to_device(slope);
    float *d_work = to_device(std::vector<float>((size_t)P * B * 3 * N)), *d_acc = to_device(acc_cpu);
    ASSERT_EQ(sf_cuda_lif_forward_seq(SF_SPIKE_HEAVISIDE, P, T, B, N, stride, d_slope, d_beta, N, d_theta, N, d_u,
                                      d_s, nullptr),
              0);
    std::vector<float> u_gpu = to_host(d_u, total), s_gpu = to_host(d_s, total);
    long spikes = 0;
    for (long i = 0; i < total; ++i) {
      ASSERT_EQ(u_gpu[i], u_fwd[i]) << "membrane " << i;
      ASSERT_EQ(s_gpu[i], s[i]) << "spike " << i;
      spikes += s[i] != 0.0f;
    }
    EXPECT_GT(spikes, total / 20) << "too few spikes for the test to mean anything";
    EXPECT_LT(spikes, total - total / 20);
    ASSERT_EQ(sf_cuda_lif_backward_seq(SF_SPIKE_HEAVISIDE, detach, P, T, B, N, stride, d_slope, d_beta, N, d_theta,
                                       N, d_u, d_s, d_gs, d_work, d_acc, nullptr),
              0);
    std::vector<float> gi_gpu = to_host(d_u, total), acc_gpu = to_host(d_acc, acc_cpu.size());
    for (long i = 0; i < total; ++i) ASSERT_EQ(gi_gpu[i], u[i]) << "dL/dI " << i << " (detach " << detach << ")";
    for (size_t i = 0; i < acc_cpu.size(); ++i)
      EXPECT_NEAR(acc_gpu[i], acc_cpu[i], 1e-5 * std::fmax(1.0, std::fabs(acc_cpu[i]))) << "sum " << i;
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    for (float *d : {d_u, d_s, d_gs, d_beta, d_theta, d_slope, d_work, d_acc}) cudaFree(d);
  }
}

}  // namespace
