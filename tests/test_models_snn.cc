// Behaviour of the spiking network beyond its gradients: the streaming and
// sequence forward agree bit for bit, the warm-up mask removes exactly the
// first W steps, agents of a population are independent of each other, and
// initialisation depends on the seed alone.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/sf_philox.h"
#include "models/sf_lif_math.h"
#include "models/sf_snn.h"

namespace {

std::vector<float> random_vec(size_t n, uint64_t seed, float lo, float hi) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = sf_uniform(sf_rng_bits(seed, 7, 0, 0, (uint32_t)i).v[0], lo, hi);
  return v;
}

bool same_bits(const float *a, const float *b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

sf_snn *make_actor(int P, long rows, const std::vector<uint64_t> &seeds, int mode = SF_SPIKE_HEAVISIDE) {
  sf_snn_config cfg = sf_snn_actor_config();
  cfg.mode = mode;
  sf_snn *net = sf_snn_new(&cfg, P, rows);
  if (net) sf_snn_init(net, seeds.data());
  return net;
}

TEST(SnnActor, TensorNamesAndShapes) {
  sf_snn *net = make_actor(2, 10, {1, 2});
  ASSERT_NE(net, nullptr);
  struct {
    const char *name;
    int ndim, d0, d1;
  } want[] = {{"actor.fc1.weight", 2, 256, 18}, {"actor.fc1.bias", 1, 256, 1},    {"actor.lif1.beta", 1, 256, 1},
              {"actor.lif1.threshold", 1, 256, 1}, {"actor.fc2.weight", 2, 128, 256}, {"actor.fc2.bias", 1, 128, 1},
              {"actor.lif2.beta", 1, 128, 1},  {"actor.lif2.threshold", 1, 128, 1}, {"actor.fc3.weight", 2, 4, 128},
              {"actor.fc3.bias", 1, 4, 1}};
  ASSERT_EQ(net->params.count, 10);
  long total = 0;
  for (int i = 0; i < 10; ++i) {
    const sf_param &t = net->params.t[i];
    EXPECT_STREQ(t.name, want[i].name);
    EXPECT_EQ(t.ndim, want[i].ndim);
    EXPECT_EQ(t.shape[0], want[i].d0);
    EXPECT_EQ(t.shape[1], want[i].d1);
    EXPECT_EQ(t.offset, total);
    EXPECT_EQ(t.stride, net->params.n);
    total += t.size;
  }
  EXPECT_EQ(total, net->params.n);
  EXPECT_EQ(sf_params_find(&net->params, "actor.lif2.threshold"), 7);
  sf_snn_free(net);
}

TEST(SnnActor, InitialisationDependsOnTheSeedOnly) {
  // Agent 0 and agent 2 share a seed; a second population holds that seed at
  // another position.
  sf_snn *a = make_actor(3, 1, {5, 6, 5});
  sf_snn *b = make_actor(2, 1, {9, 5});
  const long n = a->params.n;
  EXPECT_TRUE(same_bits(a->params.data, a->params.data + 2 * n, n));
  EXPECT_TRUE(same_bits(a->params.data, b->params.data + n, n));
  EXPECT_FALSE(same_bits(a->params.data, a->params.data + n, n));
  for (int i = 0; i < a->params.count; ++i) {
    const sf_param &t = a->params.t[i];
    float lo = t.init_lo, hi = t.init_hi;
    std::string name = t.name;
    if (name.find(".beta") != std::string::npos || name.find(".threshold") != std::string::npos) {
      EXPECT_EQ(lo, 0.0f);
      EXPECT_EQ(hi, 1.0f);
    } else {
      // A bias follows its weight [out][in]; fan_in is the weight's in.
      int fan_in = t.ndim == 2 ? t.shape[1] : a->params.t[i - 1].shape[1];
      EXPECT_FLOAT_EQ(hi, 1.0f / std::sqrt((float)fan_in)) << name;
      EXPECT_EQ(lo, -hi);
    }
    double mean = 0;
    for (long j = 0; j < t.size; ++j) {
      float v = t.data[j];
      EXPECT_GE(v, lo);
      EXPECT_LT(v, hi);
      mean += v;
    }
    mean /= t.size;
    if (t.size >= 128) {
      EXPECT_NEAR(mean, 0.5 * (lo + hi), 0.2 * (hi - lo)) << t.name;
    }
  }
  sf_snn_free(a);
  sf_snn_free(b);
}

// Training leaves some thresholds negative; those neurons start with
// S_{-1} = H(-theta) = 1. Every fifth neuron of every layer and agent.
void negate_some_thresholds(sf_snn *net) {
  for (int p = 0; p < net->P; ++p)
    for (int l = 0; l < net->cfg.nlayers; ++l) {
      float *th = sf_param_at(&net->params.t[net->lif_theta[l]], p);
      for (int n = 0; n < net->cfg.hidden[l]; n += 5) th[n] = -0.1f - th[n];
    }
}

// Runs T streaming steps from the start state; env `rb` of agent `rp` is reset
// before step `rt`.
std::vector<float> stream(sf_snn *net, int T, int B, const std::vector<float> &x, int rp, int rb, int rt) {
  const int P = net->P, F = net->cfg.in, O = net->cfg.out;
  sf_snn_state *st = sf_snn_state_new(net, B);
  std::vector<float> y((size_t)P * T * B * O), xt((size_t)P * B * F), yt((size_t)P * B * O);
  for (int t = 0; t < T; ++t) {
    if (t == rt) sf_snn_state_reset(st, rp, rb);
    for (int p = 0; p < P; ++p)
      std::memcpy(&xt[(size_t)p * B * F], &x[(((size_t)p * T + t) * B) * F], sizeof(float) * B * F);
    EXPECT_EQ(sf_snn_step(net, st, xt.data(), yt.data()), 0);
    for (int p = 0; p < P; ++p)
      std::memcpy(&y[(((size_t)p * T + t) * B) * O], &yt[(size_t)p * B * O], sizeof(float) * B * O);
  }
  sf_snn_state_free(st);
  return y;
}

TEST(SnnActor, StreamingEqualsSequenceBitForBit) {
  for (int mode : {SF_SPIKE_HEAVISIDE, SF_SPIKE_SIGMOID}) {
    const int P = 2, T = 30, B = 5, F = 18, O = 4;
    sf_snn *net = make_actor(P, (long)T * B, {21, 22}, mode);
    negate_some_thresholds(net);
    net->slope[0] = 3.0f;
    net->slope[1] = 40.0f;
    std::vector<float> x = random_vec((size_t)P * T * B * F, 3, -2.0f, 2.0f);
    std::vector<float> yseq((size_t)P * T * B * O);
    ASSERT_EQ(sf_snn_forward(net, T, B, x.data(), yseq.data()), 0);
    // The sequence must exercise the spiking path: some but not all neurons fire.
    if (mode == SF_SPIKE_HEAVISIDE) {
      double rate = 0;
      for (long i = 0; i < (long)T * B * 256; ++i) rate += net->s[0][i];
      rate /= (double)T * B * 256;
      EXPECT_GT(rate, 0.02);
      EXPECT_LT(rate, 0.98);
    }
    const int rt = 12, rp = 1, rb = 2;
    std::vector<float> ystr = stream(net, T, B, x, rp, rb, rt);
    for (int p = 0; p < P; ++p)
      for (int t = 0; t < T; ++t)
        for (int b = 0; b < B; ++b) {
          if (p == rp && b == rb && t >= rt) continue;
          size_t o = (((size_t)p * T + t) * B + b) * O;
          EXPECT_TRUE(same_bits(&ystr[o], &yseq[o], O)) << "mode " << mode << " p " << p << " t " << t << " b " << b;
        }
    // The reset env from its reset on is a fresh sequence starting there.
    const int T2 = T - rt;
    std::vector<float> x2((size_t)P * T2 * B * F), y2((size_t)P * T2 * B * O);
    for (int p = 0; p < P; ++p)
      std::memcpy(&x2[(size_t)p * T2 * B * F], &x[(((size_t)p * T + rt) * B) * F], sizeof(float) * T2 * B * F);
    ASSERT_EQ(sf_snn_forward(net, T2, B, x2.data(), y2.data()), 0);
    bool differs_from_unreset = false;
    for (int t = rt; t < T; ++t) {
      size_t o = (((size_t)rp * T + t) * B + rb) * O, o2 = (((size_t)rp * T2 + (t - rt)) * B + rb) * O;
      EXPECT_TRUE(same_bits(&ystr[o], &y2[o2], O)) << "reset env, t " << t;
      differs_from_unreset |= !same_bits(&ystr[o], &yseq[o], O);
    }
    EXPECT_TRUE(differs_from_unreset) << "the reset had no effect";
    sf_snn_free(net);
  }
}

struct Grads {
  std::vector<float> y, g, dx;
};

Grads run(sf_snn *net, int T, int B, const std::vector<float> &x, const std::vector<float> &dy, int warmup) {
  Grads r;
  r.y.resize((size_t)net->P * T * B * net->cfg.out);
  r.dx.resize(x.size());
  sf_params_zero_grad(&net->params);
  EXPECT_EQ(sf_snn_forward(net, T, B, x.data(), r.y.data()), 0);
  EXPECT_EQ(sf_snn_backward(net, warmup, dy.data(), r.dx.data()), 0);
  r.g.assign(net->params.grad, net->params.grad + (size_t)net->P * net->params.n);
  return r;
}

TEST(SnnActor, WarmupMaskRemovesExactlyTheFirstSteps) {
  const int P = 2, T = 24, B = 6, O = 4, W = 10;
  sf_snn *net = make_actor(P, (long)T * B, {31, 32});
  net->slope[0] = net->slope[1] = 5.0f;
  std::vector<float> x = random_vec((size_t)P * T * B * 18, 4, -2.0f, 2.0f);
  std::vector<float> dy = random_vec((size_t)P * T * B * O, 5, -1.0f, 1.0f);
  Grads masked = run(net, T, B, x, dy, W);
  // Zeroing dL/dy on the warm-up steps by hand gives the same bits ...
  std::vector<float> dy0 = dy, junk = dy;
  std::vector<float> early = dy;  // dL/dy on the warm-up steps only
  for (int p = 0; p < P; ++p)
    for (long r = 0; r < (long)T * B; ++r)
      for (int j = 0; j < O; ++j) {
        size_t i = ((size_t)p * T * B + r) * O + j;
        bool warm = r / B < W;
        if (warm) {
          dy0[i] = 0.0f;
          junk[i] = 1e6f * (j + 1);
        } else {
          early[i] = 0.0f;
        }
      }
  Grads zeroed = run(net, T, B, x, dy0, 0);
  EXPECT_TRUE(same_bits(masked.g.data(), zeroed.g.data(), masked.g.size()));
  EXPECT_TRUE(same_bits(masked.dx.data(), zeroed.dx.data(), masked.dx.size()));
  // ... whatever the warm-up steps hold.
  Grads with_junk = run(net, T, B, x, junk, W);
  EXPECT_TRUE(same_bits(masked.g.data(), with_junk.g.data(), masked.g.size()));
  // Backward is linear in dL/dy: no mask = masked + the warm-up steps' share,
  // and that share is not zero (the mask does remove something).
  Grads all = run(net, T, B, x, dy, 0);
  Grads warm = run(net, T, B, x, early, 0);
  double scale = 0, worst = 0, warm_norm = 0;
  for (size_t i = 0; i < all.g.size(); ++i) {
    scale = std::fmax(scale, std::fabs(all.g[i]));
    worst = std::fmax(worst, std::fabs(all.g[i] - masked.g[i] - warm.g[i]));
    warm_norm += std::fabs(warm.g[i]);
  }
  EXPECT_LT(worst, 1e-5 * scale);
  EXPECT_GT(warm_norm, 0.0);
  // Inputs after the last loss step get no gradient; inputs of the warm-up
  // steps do (their state feeds the later steps).
  double early_dx = 0;
  for (int p = 0; p < P; ++p)
    for (long r = 0; r < (long)W * B; ++r)
      for (int f = 0; f < 18; ++f) early_dx += std::fabs(masked.dx[((size_t)p * T * B + r) * 18 + f]);
  EXPECT_GT(early_dx, 0.0);
  sf_snn_free(net);
}

TEST(SnnActor, AgentsOfAPopulationMatchEachRunAlone) {
  const int T = 16, B = 4, O = 4, F = 18;
  const float slopes[3] = {1.0f, 10.0f, 100.0f};
  const std::vector<uint64_t> seeds = {77, 77, 78};
  sf_snn *pop = make_actor(3, (long)T * B, seeds);
  for (int p = 0; p < 3; ++p) pop->slope[p] = slopes[p];
  std::vector<float> x = random_vec((size_t)3 * T * B * F, 6, -2.0f, 2.0f);
  std::vector<float> dy = random_vec((size_t)3 * T * B * O, 8, -1.0f, 1.0f);
  Grads together = run(pop, T, B, x, dy, 3);
  const long n = pop->params.n;
  for (int p = 0; p < 3; ++p) {
    sf_snn *one = make_actor(1, (long)T * B, {seeds[p]});
    one->slope[0] = slopes[p];
    std::vector<float> x1(x.begin() + (size_t)p * T * B * F, x.begin() + (size_t)(p + 1) * T * B * F);
    std::vector<float> dy1(dy.begin() + (size_t)p * T * B * O, dy.begin() + (size_t)(p + 1) * T * B * O);
    Grads alone = run(one, T, B, x1, dy1, 3);
    EXPECT_TRUE(same_bits(alone.y.data(), together.y.data() + (size_t)p * T * B * O, alone.y.size())) << p;
    EXPECT_TRUE(same_bits(alone.g.data(), together.g.data() + (size_t)p * n, n)) << p;
    EXPECT_TRUE(same_bits(alone.dx.data(), together.dx.data() + (size_t)p * T * B * F, alone.dx.size())) << p;
    sf_snn_free(one);
  }
  // Same seed and input, different slope: same forward, different gradient.
  std::vector<float> xs = x;
  std::memcpy(&xs[(size_t)T * B * F], &xs[0], sizeof(float) * T * B * F);
  Grads same_in = run(pop, T, B, xs, dy, 0);
  EXPECT_TRUE(same_bits(same_in.y.data(), same_in.y.data() + (size_t)T * B * O, (size_t)T * B * O));
  std::vector<float> dys = dy;
  std::memcpy(&dys[(size_t)T * B * O], &dys[0], sizeof(float) * T * B * O);
  same_in = run(pop, T, B, xs, dys, 0);
  EXPECT_FALSE(same_bits(same_in.g.data(), same_in.g.data() + n, n));
  sf_snn_free(pop);
}

TEST(SnnActor, RejectsBadCalls) {
  sf_snn *net = make_actor(1, 8, {1});
  std::vector<float> x(9 * 18), y(9 * 4), dy(9 * 4);
  EXPECT_EQ(sf_snn_backward(net, 0, dy.data(), nullptr), -1);  // nothing stored
  EXPECT_EQ(sf_snn_forward(net, 3, 3, x.data(), y.data()), -1); // 9 rows > 8
  EXPECT_EQ(sf_snn_forward(net, 2, 4, x.data(), y.data()), 0);
  EXPECT_EQ(sf_snn_backward(net, 0, dy.data(), nullptr), 0);
  EXPECT_EQ(sf_snn_backward(net, 0, dy.data(), nullptr), -1);  // consumed
  sf_snn_config bad = sf_snn_actor_config();
  bad.nlayers = 0;
  EXPECT_EQ(sf_snn_new(&bad, 1, 8), nullptr);
  sf_snn_free(net);
}

}  // namespace
