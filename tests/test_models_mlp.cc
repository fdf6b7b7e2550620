// The ANN networks (critics, guide) and the optimiser: MLP gradients and the
// critic's action gradient against finite differences of a float64
// reference, names and shapes, twin critics with Polyak targets, population
// independence, and Adam against hand-computed steps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/sf_philox.h"
#include "models/sf_adam.h"
#include "models/sf_lif_math_f64.h"
#include "models/sf_mlp.h"

namespace {

using Vec = std::vector<double>;

std::vector<float> random_vec(size_t n, uint64_t seed, float lo, float hi) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = sf_uniform(sf_rng_bits(seed, 9, 0, 0, (uint32_t)i).v[0], lo, hi);
  return v;
}

// The MLP of sf_mlp.h for one agent in double, on the library's layout.
struct RefMlp {
  const sf_mlp *lib = nullptr;
  Vec prm;
  std::vector<Vec> act;  // per layer [rows][width]
  Vec x;
  long rows = 0;

  int win(int l) const { return l ? lib->cfg.hidden[l - 1] : lib->cfg.in; }
  int wout(int l) const { return l < lib->cfg.nhidden ? lib->cfg.hidden[l] : lib->cfg.out; }
  long off(int idx) const { return lib->params.t[idx].offset; }

  void forward(long rows_, const Vec &x_) {
    rows = rows_;
    x = x_;
    const int L = lib->cfg.nhidden;
    act.assign(L + 1, Vec());
    const Vec *in = &x;
    for (int l = 0; l <= L; ++l) {
      const int K = win(l), N = wout(l);
      const double *W = &prm[off(lib->fc_w[l])], *b = &prm[off(lib->fc_b[l])];
      act[l].assign(rows * N, 0.0);
      for (long r = 0; r < rows; ++r)
        for (int n = 0; n < N; ++n) {
          double a = b[n];
          for (int q = 0; q < K; ++q) a += W[n * K + q] * (*in)[r * K + q];
          if (l < L) a = sf_relu_f64(a);
          else if (lib->cfg.tanh_out) a = sf_tanh_f64(a);
          act[l][r * N + n] = a;
        }
      in = &act[l];
    }
  }
  double loss(const Vec &c) const {
    double s = 0;
    for (size_t i = 0; i < c.size(); ++i) s += c[i] * act.back()[i];
    return s;
  }
  void backward(const Vec &c, Vec &g, Vec &dx) const {
    const int L = lib->cfg.nhidden;
    g.assign(prm.size(), 0.0);
    Vec gout(c.size());
    for (size_t i = 0; i < c.size(); ++i)
      gout[i] = c[i] * (lib->cfg.tanh_out ? sf_tanh_grad_out_f64(act[L][i]) : 1.0);
    for (int l = L; l >= 0; --l) {
      const int K = win(l), N = wout(l);
      const Vec &in = l ? act[l - 1] : x;
      const double *W = &prm[off(lib->fc_w[l])];
      double *gW = &g[off(lib->fc_w[l])], *gb = &g[off(lib->fc_b[l])];
      Vec gin(rows * K, 0.0);
      for (long r = 0; r < rows; ++r)
        for (int n = 0; n < N; ++n) {
          double d = gout[r * N + n];
          gb[n] += d;
          for (int q = 0; q < K; ++q) {
            gW[n * K + q] += d * in[r * K + q];
            gin[r * K + q] += d * W[n * K + q];
          }
        }
      if (l)
        for (long i = 0; i < rows * K; ++i) gin[i] *= sf_relu_grad_out_f64(act[l - 1][i]);
      gout = gin;
    }
    dx = gout;
  }
};

double rel_err(const double *a, const double *b, long n) {
  double num = 0, den = 0;
  for (long i = 0; i < n; ++i) {
    num = std::max(num, std::fabs(a[i] - b[i]));
    den = std::max(den, std::fabs(b[i]));
  }
  return den > 0 ? num / den : (num > 0 ? INFINITY : 0.0);
}

void check_mlp(const sf_mlp_config &cfg, int n1, uint64_t seed) {
  const long rows = 9;
  sf_mlp *m = sf_mlp_new(&cfg, 1, rows);
  ASSERT_NE(m, nullptr);
  sf_mlp_init(m, &seed);
  RefMlp ref;
  ref.lib = m;
  ref.prm.assign(m->params.data, m->params.data + m->params.n);
  const int n2 = cfg.in - n1;
  std::vector<float> x1 = random_vec(rows * n1, seed, -2, 2), x2 = random_vec(rows * n2, seed + 1, -1, 1);
  std::vector<float> c = random_vec(rows * cfg.out, seed + 2, -1, 1);
  Vec x(rows * cfg.in), cd(c.begin(), c.end());
  for (long r = 0; r < rows; ++r)
    for (int j = 0; j < cfg.in; ++j) x[r * cfg.in + j] = j < n1 ? x1[r * n1 + j] : x2[r * n2 + j - n1];
  ref.forward(rows, x);
  // Some ReLUs must be off, some on: otherwise the check misses a path.
  long off = 0;
  for (double a : ref.act[0]) off += a == 0.0;
  EXPECT_GT(off, 0);
  EXPECT_LT(off, (long)ref.act[0].size());
  Vec g, dx;
  ref.backward(cd, g, dx);
  const double h = 1e-6;
  Vec fd(g.size()), fdx(x.size());
  for (size_t i = 0; i < g.size(); ++i) {
    double keep = ref.prm[i];
    ref.prm[i] = keep + h;
    ref.forward(rows, x);
    double lp = ref.loss(cd);
    ref.prm[i] = keep - h;
    ref.forward(rows, x);
    fd[i] = (lp - ref.loss(cd)) / (2 * h);
    ref.prm[i] = keep;
  }
  for (size_t i = 0; i < x.size(); ++i) {
    Vec xp = x, xm = x;
    xp[i] += h;
    xm[i] -= h;
    ref.forward(rows, xp);
    double lp = ref.loss(cd);
    ref.forward(rows, xm);
    fdx[i] = (lp - ref.loss(cd)) / (2 * h);
  }
  ref.forward(rows, x);
  for (int i = 0; i < m->params.count; ++i) {
    const sf_param &t = m->params.t[i];
    EXPECT_LT(rel_err(&g[t.offset], &fd[t.offset], t.size), 1e-5) << t.name;
  }
  EXPECT_LT(rel_err(dx.data(), fdx.data(), (long)dx.size()), 1e-5);

  // The float32 library against the reference, with the input in two parts.
  std::vector<float> y(rows * cfg.out), dx1(rows * n1), dx2(rows * n2);
  ASSERT_EQ(sf_mlp_forward(m, rows, x1.data(), n1, n2 ? x2.data() : nullptr, y.data()), 0);
  for (long i = 0; i < rows * cfg.out; ++i) EXPECT_NEAR(y[i], ref.act.back()[i], 1e-5);
  sf_params_zero_grad(&m->params);
  ASSERT_EQ(sf_mlp_backward(m, c.data(), 1, dx1.data(), n2 ? dx2.data() : nullptr), 0);
  Vec gl(m->params.grad, m->params.grad + m->params.n);
  for (int i = 0; i < m->params.count; ++i) {
    const sf_param &t = m->params.t[i];
    EXPECT_LT(rel_err(&gl[t.offset], &g[t.offset], t.size), 3e-5) << t.name;
  }
  Vec dxl(rows * cfg.in);
  for (long r = 0; r < rows; ++r)
    for (int j = 0; j < cfg.in; ++j) dxl[r * cfg.in + j] = j < n1 ? dx1[r * n1 + j] : dx2[r * n2 + j - n1];
  EXPECT_LT(rel_err(dxl.data(), dx.data(), (long)dx.size()), 3e-5);

  // Without parameter gradients: the same input gradients, grads untouched.
  sf_params_zero_grad(&m->params);
  std::vector<float> dx2b(rows * n2);
  ASSERT_EQ(sf_mlp_backward(m, c.data(), 0, nullptr, n2 ? dx2b.data() : nullptr), 0);
  for (long i = 0; i < m->params.n; ++i) ASSERT_EQ(m->params.grad[i], 0.0f);
  if (n2) {
    EXPECT_EQ(0, std::memcmp(dx2.data(), dx2b.data(), sizeof(float) * dx2.size()));
  }
  sf_mlp_free(m);
}

TEST(Mlp, CriticGradientsAndActionGradientMatchFiniteDifferences) {
  sf_mlp_config cfg = sf_critic_config("critic1", 6, 3);
  cfg.hidden[0] = 8;
  cfg.hidden[1] = 5;
  check_mlp(cfg, 6, 41);
}

TEST(Mlp, TanhPolicyGradientsMatchFiniteDifferences) {
  sf_mlp_config cfg = sf_guide_config(7, 3);
  cfg.hidden[0] = 6;
  cfg.hidden[1] = 5;
  check_mlp(cfg, 7, 42);
}

TEST(Mlp, CriticAndGuideNamesAndShapes) {
  sf_twin_critic tc;
  ASSERT_EQ(sf_twin_critic_new(&tc, 2, 4, 146, 4), 0);
  const sf_params &q = tc.q[1]->params;
  ASSERT_EQ(q.count, 6);
  EXPECT_STREQ(q.t[0].name, "critic2.fc1.weight");
  EXPECT_EQ(q.t[0].shape[0], 256);
  EXPECT_EQ(q.t[0].shape[1], 150);
  EXPECT_STREQ(q.t[3].name, "critic2.fc2.bias");
  EXPECT_EQ(q.t[3].shape[0], 128);
  EXPECT_STREQ(q.t[4].name, "critic2.fc3.weight");
  EXPECT_EQ(q.t[4].shape[0], 1);
  EXPECT_EQ(q.t[4].shape[1], 128);
  EXPECT_STREQ(tc.q[0]->params.t[5].name, "critic1.fc3.bias");
  sf_twin_critic_free(&tc);

  sf_mlp_config gc = sf_guide_config(146, 4);
  sf_mlp *g = sf_mlp_new(&gc, 1, 4);
  ASSERT_EQ(g->params.count, 6);
  EXPECT_STREQ(g->params.t[0].name, "guide.fc1.weight");
  EXPECT_EQ(g->params.t[0].shape[0], 64);
  EXPECT_EQ(g->params.t[0].shape[1], 146);
  EXPECT_STREQ(g->params.t[4].name, "guide.fc3.weight");
  EXPECT_EQ(g->params.t[4].shape[0], 4);
  EXPECT_EQ(g->params.t[4].shape[1], 64);
  EXPECT_EQ(g->cfg.tanh_out, 1);
  sf_mlp_free(g);
}

TEST(Mlp, TwinCriticTargetsAndPolyak) {
  sf_twin_critic tc;
  ASSERT_EQ(sf_twin_critic_new(&tc, 2, 4, 10, 2), 0);
  const uint64_t seeds[2] = {3, 4};
  sf_twin_critic_init(&tc, seeds);
  const long n = tc.q[0]->params.n, total = 2 * n;
  // Q1 and Q2 start different, each target equal to its critic.
  EXPECT_NE(0, std::memcmp(tc.q[0]->params.data, tc.q[1]->params.data, sizeof(float) * total));
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(0, std::memcmp(tc.q[i]->params.data, tc.target[i]->params.data, sizeof(float) * total));
  // Move the online critics, then average.
  std::vector<float> old_t0(tc.target[0]->params.data, tc.target[0]->params.data + total);
  std::vector<float> old_t1(tc.target[1]->params.data, tc.target[1]->params.data + total);
  for (long i = 0; i < total; ++i) tc.q[1]->params.data[i] += 0.5f;
  sf_twin_critic_polyak(&tc, 0.01f);
  for (long i = 0; i < total; ++i) {
    ASSERT_EQ(tc.target[1]->params.data[i], (1.0f - 0.01f) * old_t1[i] + 0.01f * tc.q[1]->params.data[i]) << i;
    ASSERT_EQ(tc.target[0]->params.data[i], (1.0f - 0.01f) * old_t0[i] + 0.01f * tc.q[0]->params.data[i]) << i;
  }
  // The moved critic's target moved by tau * 0.5.
  EXPECT_NEAR(tc.target[1]->params.data[7] - old_t1[7], 0.005, 1e-6);
  sf_twin_critic_free(&tc);
}

TEST(Mlp, AgentsOfAPopulationMatchEachRunAlone) {
  sf_mlp_config cfg = sf_critic_config("critic1", 146, 4);
  const long rows = 300;
  const uint64_t seeds[3] = {5, 6, 5};
  sf_mlp *pop = sf_mlp_new(&cfg, 3, rows);
  sf_mlp_init(pop, seeds);
  std::vector<float> obs = random_vec(3 * rows * 146, 1, -1, 1), act = random_vec(3 * rows * 4, 2, -1, 1);
  std::vector<float> dy = random_vec(3 * rows, 3, -1, 1), y(3 * rows), da(3 * rows * 4);
  sf_params_zero_grad(&pop->params);
  ASSERT_EQ(sf_mlp_forward(pop, rows, obs.data(), 146, act.data(), y.data()), 0);
  ASSERT_EQ(sf_mlp_backward(pop, dy.data(), 1, nullptr, da.data()), 0);
  for (int p = 0; p < 3; ++p) {
    sf_mlp *one = sf_mlp_new(&cfg, 1, rows);
    sf_mlp_init(one, &seeds[p]);
    std::vector<float> y1(rows), da1(rows * 4);
    sf_params_zero_grad(&one->params);
    ASSERT_EQ(sf_mlp_forward(one, rows, obs.data() + p * rows * 146, 146, act.data() + p * rows * 4, y1.data()), 0);
    ASSERT_EQ(sf_mlp_backward(one, dy.data() + p * rows, 1, nullptr, da1.data()), 0);
    EXPECT_EQ(0, std::memcmp(y1.data(), y.data() + p * rows, sizeof(float) * rows)) << p;
    EXPECT_EQ(0, std::memcmp(da1.data(), da.data() + p * rows * 4, sizeof(float) * rows * 4)) << p;
    EXPECT_EQ(0, std::memcmp(one->params.grad, pop->params.grad + p * one->params.n, sizeof(float) * one->params.n)) << p;
    sf_mlp_free(one);
  }
  sf_mlp_free(pop);
}

// Adam against steps worked out by hand (b1 0.9, b2 0.999, eps 1e-8,
// lr 0.1, p0 = 1, gradients 0.5, -0.25, 2):
//   t=1: m = 0.05, v = 2.5e-4, m^ = 0.5, v^ = 0.25 -> p = 1 - 0.1 * 0.5 / 0.5 = 0.9
//   t=2: m = 0.02, v = 3.1225e-4, m^ = 0.02 / 0.19, v^ = 3.1225e-4 / 0.001999
//        -> p = 0.9 - 0.1 * 0.105263 / 0.395226 = 0.873366
//   t=3: m = 0.218, v = 4.3119e-3, m^ = 0.218 / 0.271, v^ = 4.3119e-3 / 0.002997
//        -> p = 0.873366 - 0.1 * 0.804428 / 1.199485 = 0.806302
TEST(Adam, MatchesHandComputedSteps) {
  sf_adam *a = sf_adam_new(2, 2, 0.9f, 0.999f, 1e-8f);
  ASSERT_NE(a, nullptr);
  float params[4] = {1.0f, -3.0f, 1.0f, 7.0f};
  const float lr[2] = {0.1f, 0.0f};  // agent 1 frozen
  const float g[3] = {0.5f, -0.25f, 2.0f};
  const double want[3] = {0.9, 0.873366, 0.806302};
  for (int t = 0; t < 3; ++t) {
    float grads[4] = {g[t], 0.0f, 1.0f, 1.0f};
    sf_adam_step(a, params, grads, lr);
    EXPECT_NEAR(params[0], want[t], 2e-6) << "step " << t + 1;
    EXPECT_EQ(params[1], -3.0f);  // zero gradient: no move
    EXPECT_EQ(params[2], 1.0f);   // frozen agent
    EXPECT_EQ(params[3], 7.0f);
  }
  EXPECT_EQ(a->step[0], 3);
  EXPECT_EQ(a->step[1], 0);
  EXPECT_NEAR(a->m[0], 0.218, 1e-6);
  EXPECT_NEAR(a->v[0], 4.31193775e-3, 1e-7);  // 1 - 0.999f is 1.3e-5 off 0.001
  sf_adam_reset(a);
  EXPECT_EQ(a->step[0], 0);
  EXPECT_EQ(a->m[0], 0.0f);
  sf_adam_free(a);
}

}  // namespace
