// The fused CUDA LIF kernels against the CPU tiles of models/sf_cpu_kernels.c
// on the same random sequence: membranes, spikes and dL/dI bit for bit (the
// per-element arithmetic is the same SF_HD code, without fused multiply-add on
// either side), the sums over steps and rows (dL/dbeta, dL/dtheta, dL/dI)
// within 1e-5 relative (the GPU adds them in another order). Skipped, with the
// reason, where no GPU can be used.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/cuda_test_util.h"

extern "C" {
#include "kernels/sf_lif_cuda.h"
#include "models/sf_cpu_kernels.h"
#include "models/sf_lif_math.h"
}

namespace {

TEST(CudaLif, SequenceForwardAndBackwardMatchTheCpu) {
  SKIP_WITHOUT_GPU();
  // N not a multiple of the CPU tile nor of a warp; per-agent slopes.
  const int P = 3, T = 37, B = 5, N = 70;
  const long stride = (long)T * B * N, total = P * stride;
  std::vector<float> cur = sf_test_uniform(total, 1, -0.5f, 1.5f), gs = sf_test_uniform(total, 2, -1.0f, 1.0f);
  std::vector<float> beta = sf_test_uniform((size_t)P * N, 3, 0.0f, 1.0f);
  std::vector<float> theta = sf_test_uniform((size_t)P * N, 4, 0.2f, 1.0f);
  // Some negative thresholds: those neurons start with S_{-1} = H(-theta) = 1.
  for (size_t i = 0; i < theta.size(); i += 5) theta[i] = -theta[i];
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

    float *d_u = sf_test_to_device(cur), *d_s = sf_test_to_device(std::vector<float>(total)), *d_gs = sf_test_to_device(gs);
    float *d_beta = sf_test_to_device(beta), *d_theta = sf_test_to_device(theta), *d_slope = sf_test_to_device(slope);
    float *d_work = sf_test_to_device(std::vector<float>((size_t)P * B * 3 * N)), *d_acc = sf_test_to_device(acc_cpu);
    ASSERT_EQ(sf_cuda_lif_forward_seq(SF_SPIKE_HEAVISIDE, P, T, B, N, stride, d_slope, d_beta, N, d_theta, N, d_u,
                                      d_s, nullptr),
              0);
    std::vector<float> u_gpu = sf_test_to_host(d_u, total), s_gpu = sf_test_to_host(d_s, total);
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
    std::vector<float> gi_gpu = sf_test_to_host(d_u, total), acc_gpu = sf_test_to_host(d_acc, acc_cpu.size());
    for (long i = 0; i < total; ++i) ASSERT_EQ(gi_gpu[i], u[i]) << "dL/dI " << i << " (detach " << detach << ")";
    for (size_t i = 0; i < acc_cpu.size(); ++i)
      EXPECT_NEAR(acc_gpu[i], acc_cpu[i], 1e-5 * std::fmax(1.0, std::fabs(acc_cpu[i]))) << "sum " << i;
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    for (float *d : {d_u, d_s, d_gs, d_beta, d_theta, d_slope, d_work, d_acc}) cudaFree(d);
  }
}

}  // namespace
