// Results do not depend on the thread count: the CPU kernels cut their work
// by shape only (the LIF tiles, the forward's row blocks) and sf_gemm sums
// each element in one fixed order (without AVX-512: OpenBLAS single-threaded
// in blocks fixed by shape), so 1 and 2 threads give the same bits for the
// SNN's sequence forward and backward, its streaming step, and the critic
// MLP's forward and backward.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>
#include <vector>

#include "core/sf_philox.h"
#include "models/sf_mlp.h"
#include "models/sf_snn.h"

namespace {

std::vector<float> uniform(size_t n, uint64_t key, float lo, float hi) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = sf_uniform(sf_rng_bits(key, 0, 0, 0, (uint32_t)i).v[0], lo, hi);
  return v;
}

struct SnnRun {
  std::vector<float> y, grad, dx, ystep;
};

SnnRun run_snn(int threads) {
  omp_set_num_threads(threads);
  const int P = 2, T = 20, B = 40;
  sf_snn_config cfg = sf_snn_actor_config();
  sf_snn *net = sf_snn_new(&cfg, P, (long)T * B);
  uint64_t seeds[P] = {3, 4};
  sf_snn_init(net, seeds);
  net->slope[0] = 2.0f;
  net->slope[1] = 20.0f;
  std::vector<float> x = uniform((size_t)P * T * B * cfg.in, 1, -1.5f, 1.5f);
  std::vector<float> dy = uniform((size_t)P * T * B * cfg.out, 2, -1.0f, 1.0f);
  SnnRun r;
  r.y.resize(dy.size());
  r.dx.resize(x.size());
  sf_params_zero_grad(&net->params);
  EXPECT_EQ(sf_snn_forward(net, T, B, x.data(), r.y.data()), 0);
  EXPECT_EQ(sf_snn_backward(net, 5, dy.data(), r.dx.data()), 0);
  r.grad.assign(net->params.grad, net->params.grad + (size_t)P * net->params.n);
  sf_snn_state *st = sf_snn_state_new(net, B);
  std::vector<float> y1((size_t)P * B * cfg.out);
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(sf_snn_step(net, st, x.data() + (size_t)t * P * B * cfg.in, y1.data()), 0);
    r.ystep.insert(r.ystep.end(), y1.begin(), y1.end());
  }
  sf_snn_state_free(st);
  sf_snn_free(net);
  return r;
}

TEST(SpeedThreads, SnnSameBitsOnOneAndTwoThreads) {
  const int saved = omp_get_max_threads();
  SnnRun a = run_snn(1), b = run_snn(2);
  omp_set_num_threads(saved);
  ASSERT_EQ(a.grad.size(), b.grad.size());
  EXPECT_EQ(0, std::memcmp(a.y.data(), b.y.data(), a.y.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(a.grad.data(), b.grad.data(), a.grad.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(a.dx.data(), b.dx.data(), a.dx.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(a.ystep.data(), b.ystep.data(), a.ystep.size() * sizeof(float)));
}

std::vector<float> run_critic(int threads, std::vector<float> *grad, std::vector<float> *dx) {
  omp_set_num_threads(threads);
  const int P = 2;
  const long rows = 700;
  sf_mlp_config cfg = sf_critic_config("critic1", 146, 4);
  sf_mlp *m = sf_mlp_new(&cfg, P, rows);
  uint64_t seeds[P] = {7, 8};
  sf_mlp_init(m, seeds);
  std::vector<float> x1 = uniform((size_t)P * rows * 146, 3, -1.0f, 1.0f);
  std::vector<float> x2 = uniform((size_t)P * rows * 4, 4, -1.0f, 1.0f);
  std::vector<float> dy = uniform((size_t)P * rows, 5, -1.0f, 1.0f);
  std::vector<float> y((size_t)P * rows);
  dx->assign((size_t)P * rows * 4, 0.0f);
  sf_params_zero_grad(&m->params);
  EXPECT_EQ(sf_mlp_forward(m, rows, x1.data(), 146, x2.data(), y.data()), 0);
  EXPECT_EQ(sf_mlp_backward(m, dy.data(), 1, NULL, dx->data()), 0);
  grad->assign(m->params.grad, m->params.grad + (size_t)P * m->params.n);
  sf_mlp_free(m);
  return y;
}

TEST(SpeedThreads, CriticSameBitsOnOneAndTwoThreads) {
  const int saved = omp_get_max_threads();
  std::vector<float> ga, gb, da, db;
  std::vector<float> ya = run_critic(1, &ga, &da), yb = run_critic(2, &gb, &db);
  omp_set_num_threads(saved);
  EXPECT_EQ(0, std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(ga.data(), gb.data(), ga.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(da.data(), db.data(), da.size() * sizeof(float)));
}

}  // namespace
