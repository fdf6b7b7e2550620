// The GPU MLP against the CPU network for the critic (two-part input, ReLU)
// and the guide (tanh output): outputs within 1e-5, parameter gradients and
// the gradients of both input parts within 1e-4 relative (L2 over each
// tensor; the GEMMs sum in another order than OpenBLAS). Skipped, with the
// reason, where no GPU can be used.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/cuda_test_util.h"

extern "C" {
#include "kernels/sf_mlp_cuda.h"
#include "models/sf_mlp.h"
}

namespace {

void check(const sf_mlp_config &cfg, int n1) {
  const int P = 2;
  const long rows = 64;
  const int n2 = cfg.in - n1;
  sf_mlp *cpu = sf_mlp_new(&cfg, P, rows);
  ASSERT_NE(cpu, nullptr);
  uint64_t seeds[P] = {5, 6};
  sf_mlp_init(cpu, seeds);
  sf_cuda_mlp *gpu = sf_cuda_mlp_new(cpu);
  ASSERT_NE(gpu, nullptr);
  ASSERT_EQ(sf_cuda_mlp_upload(gpu, cpu), 0);
  std::vector<float> x1 = sf_test_uniform((size_t)P * rows * n1, 1, -1.0f, 1.0f);
  std::vector<float> x2 = sf_test_uniform((size_t)P * rows * (n2 > 0 ? n2 : 1), 2, -1.0f, 1.0f);
  std::vector<float> dy = sf_test_uniform((size_t)P * rows * cfg.out, 3, -1.0f, 1.0f);
  std::vector<float> y((size_t)P * rows * cfg.out), dx1(x1.size()), dx2(x2.size());
  ASSERT_EQ(sf_mlp_forward(cpu, rows, x1.data(), n1, n2 > 0 ? x2.data() : nullptr, y.data()), 0);
  sf_params_zero_grad(&cpu->params);
  ASSERT_EQ(sf_mlp_backward(cpu, dy.data(), 1, dx1.data(), n2 > 0 ? dx2.data() : nullptr), 0);
  std::vector<float> grad(cpu->params.grad, cpu->params.grad + (long)P * cpu->params.n);

  float *d_x1 = sf_test_to_device(x1), *d_x2 = sf_test_to_device(x2), *d_dy = sf_test_to_device(dy);
  float *d_y = sf_test_to_device(y), *d_dx1 = sf_test_to_device(dx1), *d_dx2 = sf_test_to_device(dx2);
  ASSERT_EQ(sf_cuda_mlp_forward(gpu, rows, d_x1, n1, n2 > 0 ? d_x2 : nullptr, d_y), 0);
  ASSERT_EQ(sf_cuda_mlp_backward(gpu, d_dy, 1, d_dx1, n2 > 0 ? d_dx2 : nullptr), 0);
  char why[256];
  ASSERT_EQ(sf_cuda_mlp_sync(gpu, why, sizeof why), 0) << why;
  std::vector<float> y_gpu = sf_test_to_host(d_y, y.size()), dx1_gpu = sf_test_to_host(d_dx1, dx1.size());
  std::vector<float> dx2_gpu = sf_test_to_host(d_dx2, dx2.size());
  ASSERT_EQ(sf_cuda_mlp_download_grads(gpu, cpu), 0);
  for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y_gpu[i], y[i], 1e-5 * std::fmax(1.0, std::fabs(y[i]))) << i;
  for (int k = 0; k < cpu->params.count; ++k) {
    const sf_param *t = &cpu->params.t[k];
    for (int p = 0; p < P; ++p)
      EXPECT_LT(sf_test_rel_l2(sf_param_grad_at(t, p), grad.data() + (long)p * cpu->params.n + t->offset, t->size), 1e-4)
          << t->name << " agent " << p;
  }
  EXPECT_LT(sf_test_rel_l2(dx1_gpu.data(), dx1.data(), (long)dx1.size()), 1e-4) << "dL/dx1";
  if (n2 > 0) {
    EXPECT_LT(sf_test_rel_l2(dx2_gpu.data(), dx2.data(), (long)dx2.size()), 1e-4) << "dL/dx2";
  }
  for (float *d : {d_x1, d_x2, d_dy, d_y, d_dx1, d_dx2}) cudaFree(d);
  sf_cuda_mlp_free(gpu);
  sf_mlp_free(cpu);
}

TEST(CudaMlp, CriticMatchesTheCpu) {
  SKIP_WITHOUT_GPU();
  check(sf_critic_config("critic1", 146, 4), 146);
}

TEST(CudaMlp, GuideMatchesTheCpu) {
  SKIP_WITHOUT_GPU();
  check(sf_guide_config(146, 4), 146);
}

}  // namespace
