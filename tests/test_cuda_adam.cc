// Adam on the GPU against the CPU optimiser over several updates with
// changing gradients and per-agent learning rates (one of them 0: that agent
// is frozen): moments and step counts equal, parameters within 1e-6 relative
// (the bias corrections come from each side's double pow). Skipped, with the
// reason, where no GPU can be used.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/cuda_test_util.h"

extern "C" {
#include "kernels/sf_adam_cuda.h"
#include "models/sf_adam.h"
}

namespace {

TEST(CudaAdam, UpdatesMatchTheCpu) {
  SKIP_WITHOUT_GPU();
  const int P = 3, steps = 6;
  const long n = 1001;
  std::vector<float> params = sf_test_uniform((size_t)P * n, 1, -1.0f, 1.0f), lr = {1e-3f, 0.0f, 3e-2f};
  sf_adam *cpu = sf_adam_new(P, n, 0.9f, 0.999f, 1e-8f);
  sf_cuda_adam *gpu = sf_cuda_adam_new(P, n, 0.9f, 0.999f, 1e-8f);
  ASSERT_NE(cpu, nullptr);
  ASSERT_NE(gpu, nullptr);
  float *d_params = sf_test_to_device(params), *d_lr = sf_test_to_device(lr);
  std::vector<float> host = params;
  for (int s = 0; s < steps; ++s) {
    std::vector<float> g = sf_test_uniform((size_t)P * n, 100 + s, -2.0f, 2.0f);
    float *d_g = sf_test_to_device(g);
    sf_adam_step(cpu, host.data(), g.data(), lr.data());
    ASSERT_EQ(sf_cuda_adam_step(gpu, d_params, d_g, d_lr, nullptr), 0);
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    cudaFree(d_g);
  }
  std::vector<float> got = sf_test_to_host(d_params, (size_t)P * n), m((size_t)P * n), v((size_t)P * n);
  std::vector<long> step(P);
  ASSERT_EQ(sf_cuda_adam_download(gpu, m.data(), v.data(), step.data()), 0);
  for (int p = 0; p < P; ++p) EXPECT_EQ(step[p], cpu->step[p]) << "agent " << p;
  long moved = 0;
  for (long i = 0; i < (long)P * n; ++i) {
    ASSERT_EQ(m[i], cpu->m[i]) << i;
    ASSERT_EQ(v[i], cpu->v[i]) << i;
    ASSERT_NEAR(got[i], host[i], 1e-6 * std::fmax(1.0, std::fabs(host[i]))) << i;
    moved += got[i] != params[i];
  }
  EXPECT_EQ(moved, 2 * n) << "agents 0 and 2 move, agent 1 (lr 0) does not";
  cudaFree(d_params);
  cudaFree(d_lr);
  sf_cuda_adam_free(gpu);
  sf_adam_free(cpu);
}

}  // namespace
