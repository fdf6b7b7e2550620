// Gradient checks of the spiking network's backpropagation through time.
//
// A float64 reference network built from the float64 instantiation of the
// per-element LIF arithmetic (sf_lif_math_f64.h) is checked against central
// finite differences; the float32 library network is then checked against
// that reference. With the Heaviside replaced by a sigmoid of slope k and its
// exact derivative as the surrogate, the network is smooth and finite
// differences see every path, the reset included.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/sf_philox.h"
#include "models/sf_lif_math_f64.h"
#include "models/sf_snn.h"

namespace {

using Vec = std::vector<double>;

// The network of sf_snn.h for one agent, in double. Parameters use the
// library's per-agent layout, so library parameters and gradients map 1:1.
struct RefSnn {
  sf_snn_config cfg;
  const sf_snn *lib;  // for tensor offsets only
  Vec prm;
  double k;
  int T = 0, B = 0;
  std::vector<Vec> U, S;   // per layer [T][B][N]
  Vec X, Y;                // [T][B][in], [T][B][out]
  const std::vector<Vec> *frozen_reset = nullptr;  // reset spikes held fixed (detached reset)

  int in_w(int l) const { return l ? cfg.hidden[l - 1] : cfg.in; }
  int out_w(int l) const { return l < cfg.nlayers ? cfg.hidden[l] : cfg.out; }
  long off(int idx) const { return lib->params.t[idx].offset; }

  void forward(int T_, int B_, const Vec &x) {
    T = T_;
    B = B_;
    X = x;
    const int L = cfg.nlayers;
    U.assign(L, Vec());
    S.assign(L, Vec());
    const Vec *in = &X;
    for (int l = 0; l <= L; ++l) {
      const int K = in_w(l), N = out_w(l);
      const double *W = &prm[off(lib->fc_w[l])], *bias = &prm[off(lib->fc_b[l])];
      Vec cur((size_t)T * B * N);
      for (long r = 0; r < (long)T * B; ++r)
        for (int n = 0; n < N; ++n) {
          double a = bias[n];
          for (int q = 0; q < K; ++q) a += W[n * K + q] * (*in)[r * K + q];
          cur[r * N + n] = a;
        }
      if (l == L) {
        Y = cur;
        if (cfg.tanh_out)
          for (double &v : Y) v = sf_tanh_f64(v);
        break;
      }
      const double *beta = &prm[off(lib->lif_beta[l])], *theta = &prm[off(lib->lif_theta[l])];
      U[l].assign(cur.size(), 0.0);
      S[l].assign(cur.size(), 0.0);
      for (int t = 0; t < T; ++t)
        for (int b = 0; b < B; ++b)
          for (int n = 0; n < N; ++n) {
            long i = ((long)t * B + b) * N + n, ip = i - (long)B * N;
            double up = t ? U[l][ip] : 0.0;
            double sp = t ? (frozen_reset ? (*frozen_reset)[l][ip] : S[l][ip]) : sf_lif_start_spike_f64(theta[n]);
            sf_lif_forward_f64(cfg.mode, sf_beta_clamp_f64(beta[n]), theta[n], k, up, sp, cur[i], &U[l][i], &S[l][i]);
          }
      in = &S[l];
    }
  }

  // Loss: sum over steps t >= warmup of c . y.
  double loss(const Vec &c, int warmup) const {
    double s = 0;
    const int O = cfg.out;
    for (long r = (long)warmup * B; r < (long)T * B; ++r)
      for (int j = 0; j < O; ++j) s += c[r * O + j] * Y[r * O + j];
    return s;
  }

  // BPTT of that loss: parameter gradients in the library layout, and dL/dx.
  void backward(const Vec &c, int warmup, Vec &g, Vec &dx) const {
    const int L = cfg.nlayers, O = cfg.out;
    const long rows = (long)T * B;
    g.assign(prm.size(), 0.0);
    Vec gy(rows * O);
    for (long r = 0; r < rows; ++r)
      for (int j = 0; j < O; ++j)
        gy[r * O + j] = r / B < warmup ? 0.0 : c[r * O + j] * (cfg.tanh_out ? sf_tanh_grad_out_f64(Y[r * O + j]) : 1.0);
    Vec gout = gy;  // dL/d(pre-activation) of layer l's linear output
    for (int l = L; l >= 0; --l) {
      const int K = in_w(l), N = out_w(l);
      const Vec &in = l ? S[l - 1] : X;
      if (l < L) {
        // gout holds dL/dS of layer l: turn it into dL/dI through time.
        const double *beta = &prm[off(lib->lif_beta[l])], *theta = &prm[off(lib->lif_theta[l])];
        double *gb = &g[off(lib->lif_beta[l])], *gt = &g[off(lib->lif_theta[l])];
        Vec gi(rows * N);
        for (int b = 0; b < B; ++b)
          for (int n = 0; n < N; ++n) {
            double gnext = 0, sb = 0, st = 0;
            for (int t = T - 1; t >= 0; --t) {
              long i = ((long)t * B + b) * N + n, ip = i - (long)B * N;
              double up = t ? U[l][ip] : 0.0, sp = t ? S[l][ip] : sf_lif_start_spike_f64(theta[n]);
              gnext = sf_lif_backward_f64(cfg.mode, cfg.detach_reset, sf_beta_clamp_f64(beta[n]), theta[n], k, U[l][i], up,
                                          sp, gout[i], gnext, &sb, &st);
              gi[i] = gnext;
            }
            gb[n] += sb * sf_beta_clamp_grad_f64(beta[n]);
            gt[n] += st;
          }
        gout = gi;
      }
      double *gW = &g[off(lib->fc_w[l])], *gbias = &g[off(lib->fc_b[l])];
      const double *W = &prm[off(lib->fc_w[l])];
      Vec gin(rows * K, 0.0);
      for (long r = 0; r < rows; ++r)
        for (int n = 0; n < N; ++n) {
          double d = gout[r * N + n];
          gbias[n] += d;
          for (int q = 0; q < K; ++q) {
            gW[n * K + q] += d * in[r * K + q];
            gin[r * K + q] += d * W[n * K + q];
          }
        }
      gout = gin;
    }
    dx = gout;
  }
};

struct Case {
  sf_snn *net;
  RefSnn ref;
  Vec x, c;
  int T, B, warmup;
};

// A small network driven hard enough that its neurons fire and reset often.
Case make_case(int mode, int detach_reset, int tanh_out, double k, uint64_t seed) {
  sf_snn_config cfg = sf_snn_actor_config();
  cfg.in = 5;
  cfg.nlayers = 2;
  cfg.hidden[0] = 7;
  cfg.hidden[1] = 6;
  cfg.out = 3;
  cfg.tanh_out = tanh_out;
  cfg.mode = mode;
  cfg.detach_reset = detach_reset;
  Case s;
  s.T = 20;
  s.B = 3;
  s.warmup = 4;
  s.net = sf_snn_new(&cfg, 1, (long)s.T * s.B);
  sf_snn_init(s.net, &seed);
  s.net->slope[0] = (float)k;
  // Larger weights than the default init so that currents cross thresholds.
  for (int l = 0; l <= cfg.nlayers; ++l) {
    sf_param *w = &s.net->params.t[s.net->fc_w[l]];
    for (long i = 0; i < w->size; ++i) w->data[i] *= 3.0f;
  }
  // Some thresholds negative, as training leaves them: those neurons start
  // with S_{-1} = 1. Far enough from 0 that finite differences do not cross
  // it.
  for (int l = 0; l < cfg.nlayers; ++l) {
    float *th = s.net->params.t[s.net->lif_theta[l]].data;
    th[1] = -0.3f - 0.5f * th[1];
    th[4] = -0.05f - 0.2f * th[4];
  }
  s.ref.cfg = cfg;
  s.ref.lib = s.net;
  s.ref.k = k;
  s.ref.prm.assign(s.net->params.data, s.net->params.data + s.net->params.n);
  s.x.resize((size_t)s.T * s.B * cfg.in);
  s.c.resize((size_t)s.T * s.B * cfg.out);
  for (size_t i = 0; i < s.x.size(); ++i) s.x[i] = sf_uniform(sf_rng_bits(seed, 1, 0, 0, (uint32_t)i).v[0], -1.0f, 1.5f);
  for (size_t i = 0; i < s.c.size(); ++i) s.c[i] = sf_uniform(sf_rng_bits(seed, 2, 0, 0, (uint32_t)i).v[0], -1.0f, 1.0f);
  return s;
}

// max |a - b| / max |b| over a range, the relative error of a tensor.
double rel_err(const double *a, const double *b, long n) {
  double num = 0, den = 0;
  for (long i = 0; i < n; ++i) {
    num = std::max(num, std::fabs(a[i] - b[i]));
    den = std::max(den, std::fabs(b[i]));
  }
  return den > 0 ? num / den : (num > 0 ? INFINITY : 0.0);
}

// Central finite differences of the reference loss over every parameter.
Vec finite_diff_params(RefSnn &ref, const Case &s, double h) {
  Vec fd(ref.prm.size());
  for (size_t i = 0; i < ref.prm.size(); ++i) {
    double keep = ref.prm[i];
    ref.prm[i] = keep + h;
    ref.forward(s.T, s.B, s.x);
    double lp = ref.loss(s.c, s.warmup);
    ref.prm[i] = keep - h;
    ref.forward(s.T, s.B, s.x);
    double lm = ref.loss(s.c, s.warmup);
    ref.prm[i] = keep;
    fd[i] = (lp - lm) / (2 * h);
  }
  ref.forward(s.T, s.B, s.x);
  return fd;
}

Vec finite_diff_inputs(RefSnn &ref, Case &s, double h) {
  Vec fd(s.x.size());
  for (size_t i = 0; i < s.x.size(); ++i) {
    double keep = s.x[i];
    s.x[i] = keep + h;
    ref.forward(s.T, s.B, s.x);
    double lp = ref.loss(s.c, s.warmup);
    s.x[i] = keep - h;
    ref.forward(s.T, s.B, s.x);
    double lm = ref.loss(s.c, s.warmup);
    s.x[i] = keep;
    fd[i] = (lp - lm) / (2 * h);
  }
  ref.forward(s.T, s.B, s.x);
  return fd;
}

// Library gradients (float32) of the same loss, widened to double.
void library_grads(Case &s, Vec &g, Vec &dx) {
  const int O = s.net->cfg.out;
  std::vector<float> xf(s.x.begin(), s.x.end()), cf(s.c.begin(), s.c.end());
  std::vector<float> y((size_t)s.T * s.B * O), dxf(xf.size());
  sf_params_zero_grad(&s.net->params);
  ASSERT_EQ(sf_snn_forward(s.net, s.T, s.B, xf.data(), y.data()), 0);
  ASSERT_EQ(sf_snn_backward(s.net, s.warmup, cf.data(), dxf.data()), 0);
  g.assign(s.net->params.grad, s.net->params.grad + s.net->params.n);
  dx.assign(dxf.begin(), dxf.end());
}

// Fraction of spikes above one half per LIF layer: the test is meaningful
// only when neurons do fire (and so reset) but not all the time.
void expect_firing(const RefSnn &ref) {
  for (int l = 0; l < ref.cfg.nlayers; ++l) {
    long on = 0;
    for (double v : ref.S[l]) on += v > 0.5;
    double rate = (double)on / ref.S[l].size();
    EXPECT_GT(rate, 0.05) << "layer " << l;
    EXPECT_LT(rate, 0.9) << "layer " << l;
  }
}

void expect_params_close(const sf_snn *net, const Vec &a, const Vec &b, double tol, const char *what) {
  for (int i = 0; i < net->params.count; ++i) {
    const sf_param &t = net->params.t[i];
    double e = rel_err(&a[t.offset], &b[t.offset], t.size);
    EXPECT_LT(e, tol) << what << ": " << t.name;
    double mx = 0;
    for (long j = 0; j < t.size; ++j) mx = std::max(mx, std::fabs(b[t.offset + j]));
    EXPECT_GT(mx, 0.0) << what << ": " << t.name << " has an all-zero gradient";
  }
}

TEST(LifGradients, ExactSigmoidBpttMatchesFiniteDifferences) {
  for (int tanh_out = 0; tanh_out <= 1; ++tanh_out) {
    Case s = make_case(SF_SPIKE_SIGMOID, /*detach_reset=*/0, tanh_out, 4.0, 11);
    s.ref.forward(s.T, s.B, s.x);
    expect_firing(s.ref);
    Vec g, dx;
    s.ref.backward(s.c, s.warmup, g, dx);
    Vec fd = finite_diff_params(s.ref, s, 1e-6);
    expect_params_close(s.net, g, fd, 1e-5, "reference BPTT vs finite differences");
    Vec fdx = finite_diff_inputs(s.ref, s, 1e-6);
    EXPECT_LT(rel_err(dx.data(), fdx.data(), (long)dx.size()), 1e-5) << "input gradient";

    // The float32 library against the float64 reference.
    Vec gl, dxl;
    library_grads(s, gl, dxl);
    expect_params_close(s.net, gl, g, 3e-5, "library vs reference");
    EXPECT_LT(rel_err(dxl.data(), dx.data(), (long)dx.size()), 3e-5) << "library input gradient";
    sf_snn_free(s.net);
  }
}

// snnTorch detaches the reset: the gradient is then that of a network whose
// reset spikes are constants. Finite differences of exactly that network
// (resets frozen at their values) check it.
TEST(LifGradients, DetachedResetMatchesFrozenResetFiniteDifferences) {
  Case s = make_case(SF_SPIKE_SIGMOID, /*detach_reset=*/1, 1, 4.0, 12);
  s.ref.forward(s.T, s.B, s.x);
  expect_firing(s.ref);
  std::vector<Vec> frozen = s.ref.S;
  Vec g, dx;
  s.ref.backward(s.c, s.warmup, g, dx);
  s.ref.frozen_reset = &frozen;
  Vec fd = finite_diff_params(s.ref, s, 1e-6);
  expect_params_close(s.net, g, fd, 1e-5, "detached BPTT vs frozen-reset finite differences");
  // Detaching changes the answer: the exact gradient is not this one.
  s.ref.frozen_reset = nullptr;
  s.ref.cfg.detach_reset = 0;
  s.ref.forward(s.T, s.B, s.x);
  Vec gexact, dxexact;
  s.ref.backward(s.c, s.warmup, gexact, dxexact);
  EXPECT_GT(rel_err(g.data(), gexact.data(), (long)g.size()), 1e-3);
  s.ref.cfg.detach_reset = 1;

  Vec gl, dxl;
  library_grads(s, gl, dxl);
  expect_params_close(s.net, gl, g, 3e-5, "library vs reference");
  sf_snn_free(s.net);
}

// beta is used clamped to [0, 1]: outside that range it gets no gradient,
// and finite differences agree.
TEST(LifGradients, ClampedBetaGetsNoGradient) {
  Case s = make_case(SF_SPIKE_SIGMOID, 0, 1, 4.0, 13);
  const sf_param &bt = s.net->params.t[s.net->lif_beta[0]];
  s.ref.prm[bt.offset + 1] = 1.25;
  s.ref.prm[bt.offset + 2] = -0.5;
  bt.data[1] = 1.25f;
  bt.data[2] = -0.5f;
  s.ref.forward(s.T, s.B, s.x);
  Vec g, dx;
  s.ref.backward(s.c, s.warmup, g, dx);
  Vec fd = finite_diff_params(s.ref, s, 1e-6);
  EXPECT_EQ(g[bt.offset + 1], 0.0);
  EXPECT_EQ(g[bt.offset + 2], 0.0);
  EXPECT_EQ(fd[bt.offset + 1], 0.0);
  EXPECT_EQ(fd[bt.offset + 2], 0.0);
  expect_params_close(s.net, g, fd, 1e-5, "reference vs finite differences");
  Vec gl, dxl;
  library_grads(s, gl, dxl);
  EXPECT_EQ(gl[bt.offset + 1], 0.0);
  EXPECT_EQ(gl[bt.offset + 2], 0.0);
  expect_params_close(s.net, gl, g, 3e-5, "library vs reference");
  sf_snn_free(s.net);
}

// The real spike with the fast-sigmoid surrogate: no finite differences
// exist, but the library must compute the reference's surrogate gradient.
TEST(LifGradients, HeavisideSurrogateMatchesReference) {
  for (int detach = 0; detach <= 1; ++detach) {
    Case s = make_case(SF_SPIKE_HEAVISIDE, detach, 1, 5.0, 14);
    s.ref.forward(s.T, s.B, s.x);
    expect_firing(s.ref);
    Vec g, dx;
    s.ref.backward(s.c, s.warmup, g, dx);
    Vec gl, dxl;
    library_grads(s, gl, dxl);
    expect_params_close(s.net, gl, g, 3e-5, "library vs reference");
    EXPECT_LT(rel_err(dxl.data(), dx.data(), (long)dx.size()), 3e-5);
    sf_snn_free(s.net);
  }
}

// The fast-sigmoid surrogate itself: 1 / (1 + k |x|)^2.
TEST(LifGradients, FastSigmoidSurrogateValues) {
  EXPECT_FLOAT_EQ(sf_spike_grad(SF_SPIKE_HEAVISIDE, 0.0f, 25.0f), 1.0f);
  EXPECT_FLOAT_EQ(sf_spike_grad(SF_SPIKE_HEAVISIDE, 0.1f, 10.0f), 0.25f);
  EXPECT_FLOAT_EQ(sf_spike_grad(SF_SPIKE_HEAVISIDE, -0.1f, 10.0f), 0.25f);
  EXPECT_FLOAT_EQ(sf_spike_grad(SF_SPIKE_HEAVISIDE, 0.5f, 1.0f), 1.0f / 2.25f);
  EXPECT_EQ(sf_spike(SF_SPIKE_HEAVISIDE, 0.0f, 1.0f), 0.0f);
  EXPECT_EQ(sf_spike(SF_SPIKE_HEAVISIDE, 1e-7f, 1.0f), 1.0f);
}

// beta's clamp passes the gradient strictly inside (0, 1) only: torch.clamp
// gives 0 at the bounds (torch 2.15), and snnTorch's Leaky uses
// beta.clamp(0, 1).
TEST(LifGradients, BetaClampGradientIsTorchs) {
  EXPECT_EQ(sf_beta_clamp_grad(0.5f), 1.0f);
  EXPECT_EQ(sf_beta_clamp_grad(1e-30f), 1.0f);
  EXPECT_EQ(sf_beta_clamp_grad(0.0f), 0.0f);
  EXPECT_EQ(sf_beta_clamp_grad(1.0f), 0.0f);
  EXPECT_EQ(sf_beta_clamp_grad(-0.25f), 0.0f);
  EXPECT_EQ(sf_beta_clamp_grad(1.5f), 0.0f);
  EXPECT_EQ(sf_beta_clamp_grad_f64(0.0), 0.0);
  EXPECT_EQ(sf_beta_clamp_grad_f64(1.0), 0.0);
  EXPECT_EQ(sf_beta_clamp_grad_f64(0.75), 1.0);
}

// The start state, snnTorch's: S_{-1} = H(0 - theta), strictly.
TEST(LifStartState, StartSpikeIsTheStepOfMinusTheta) {
  EXPECT_EQ(sf_lif_start_spike(-0.5f), 1.0f);
  EXPECT_EQ(sf_lif_start_spike(-1e-30f), 1.0f);
  EXPECT_EQ(sf_lif_start_spike(0.0f), 0.0f);
  EXPECT_EQ(sf_lif_start_spike(-0.0f), 0.0f);
  EXPECT_EQ(sf_lif_start_spike(0.25f), 0.0f);
  EXPECT_EQ(sf_lif_start_spike_f64(-2.0), 1.0);
  EXPECT_EQ(sf_lif_state_spike(SF_LIF_S_START, -0.5f), 1.0f);
  EXPECT_EQ(sf_lif_state_spike(SF_LIF_S_START, 0.5f), 0.0f);
  EXPECT_EQ(sf_lif_state_spike(1.0f, 0.5f), 1.0f);
  EXPECT_EQ(sf_lif_state_spike(0.0f, -0.5f), 0.0f);
}

// One LIF layer of two neurons, A with threshold -0.5 and B with 1.0, both
// beta 0.5, fed x through an identity fc1, read out by y = S_A + S_B; three
// steps by hand (every value a multiple of 1/16, exact in float):
//   A: S_-1 = H(0.5) = 1
//      U0 = -0.75 - 1 * (-0.5) = -0.25     S0 = H(-0.25 + 0.5) = 1
//      U1 = -0.125 + 0.25 + 0.5 = 0.625    S1 = H(1.125) = 1
//      U2 = 0.3125 - 2 + 0.5 = -1.1875     S2 = H(-0.6875) = 0
//   B: S_-1 = H(-1) = 0
//      U0 = 1.5                            S0 = H(0.5) = 1
//      U1 = 0.75 + 0.25 - 1 = 0            S1 = H(-1) = 0
//      U2 = 0 + 1.25 - 0 = 1.25            S2 = H(0.25) = 1
// (From S_-1 = 0, A would give U0 = -0.75, S0 = 0: a different sequence.)
// Backward of L = sum_t y_t, slope 1, detached reset: with x_t = U_t - theta,
// g_t = 1 / (1 + |x_t|)^2, gu_t = g_t + 0.5 gu_{t+1},
//   dL/dtheta = -sum_t (g_t + gu_t S_{t-1}),
// whose t = 0 term holds the start spike: -(g_0 + gu_0 S_-1).
struct HandLayer {
  sf_snn *net;
  static constexpr int T = 3;
  float x[T][2] = {{-0.75f, 1.5f}, {0.25f, 0.25f}, {-2.0f, 1.25f}};
};

sf_snn *hand_net() {
  sf_snn_config cfg = sf_snn_actor_config();
  cfg.in = 2;
  cfg.nlayers = 1;
  cfg.hidden[0] = 2;
  cfg.out = 1;
  cfg.tanh_out = 0;
  sf_snn *net = sf_snn_new(&cfg, 1, 8);
  sf_params_zero_grad(&net->params);
  float *w1 = net->params.t[net->fc_w[0]].data, *b1 = net->params.t[net->fc_b[0]].data;
  float *beta = net->params.t[net->lif_beta[0]].data, *th = net->params.t[net->lif_theta[0]].data;
  float *w2 = net->params.t[net->fc_w[1]].data, *b2 = net->params.t[net->fc_b[1]].data;
  w1[0] = 1, w1[1] = 0, w1[2] = 0, w1[3] = 1;
  b1[0] = b1[1] = 0;
  beta[0] = beta[1] = 0.5f;
  th[0] = -0.5f, th[1] = 1.0f;
  w2[0] = w2[1] = 1;
  b2[0] = 0;
  net->slope[0] = 1.0f;
  return net;
}

TEST(LifStartState, NegativeThresholdSequenceByHand) {
  HandLayer h;
  h.net = hand_net();
  sf_snn *net = h.net;
  const float wantU[3][2] = {{-0.25f, 1.5f}, {0.625f, 0.0f}, {-1.1875f, 1.25f}};
  const float wantS[3][2] = {{1, 1}, {1, 0}, {0, 1}};
  float y[3], dy[3] = {1, 1, 1};
  ASSERT_EQ(sf_snn_forward(net, 3, 1, &h.x[0][0], y), 0);
  for (int t = 0; t < 3; ++t) {
    for (int n = 0; n < 2; ++n) {
      EXPECT_EQ(net->u[0][t * 2 + n], wantU[t][n]) << "U, t " << t << " neuron " << n;
      EXPECT_EQ(net->s[0][t * 2 + n], wantS[t][n]) << "S, t " << t << " neuron " << n;
    }
    EXPECT_EQ(y[t], wantS[t][0] + wantS[t][1]) << "t " << t;
  }
  ASSERT_EQ(sf_snn_backward(net, 0, dy, nullptr), 0);
  // The gradients by hand, neuron by neuron.
  const double theta[2] = {-0.5, 1.0}, s_start[2] = {1, 0};
  double want_gtheta[2], want_gbias[2], start_term[2];
  for (int n = 0; n < 2; ++n) {
    double gu_next = 0, gt = 0, gb = 0;
    for (int t = 2; t >= 0; --t) {
      double d = 1 + std::fabs(wantU[t][n] - theta[n]), g = 1 / (d * d);
      double gu = g + 0.5 * gu_next, s_prev = t ? wantS[t - 1][n] : s_start[n];
      gt -= g + gu * s_prev;
      gb += gu;
      if (t == 0) start_term[n] = -gu * s_prev;
      gu_next = gu;
    }
    want_gtheta[n] = gt;
    want_gbias[n] = gb;
  }
  // A's t = 0 reset term is there: -(0.64 + 0.5 gu_1), gu_1 = g_1 + 0.5 g_2.
  const double gA1 = 1 / (2.125 * 2.125), gA2 = 1 / (1.6875 * 1.6875);
  EXPECT_NEAR(start_term[0], -(0.64 + 0.5 * (gA1 + 0.5 * gA2)), 1e-12);
  EXPECT_EQ(start_term[1], 0.0);
  const float *gth = net->params.t[net->lif_theta[0]].grad, *gbias = net->params.t[net->fc_b[0]].grad;
  for (int n = 0; n < 2; ++n) {
    EXPECT_NEAR(gth[n], want_gtheta[n], 1e-6) << "dL/dtheta, neuron " << n;
    EXPECT_NEAR(gbias[n], want_gbias[n], 1e-6) << "dL/dbias, neuron " << n;
  }
  sf_snn_free(net);
}

// The streaming step from a new state, and again after a reset, is the same
// sequence.
TEST(LifStartState, NegativeThresholdStreamingByHand) {
  HandLayer h;
  h.net = hand_net();
  sf_snn *net = h.net;
  const float wantS[3][2] = {{1, 1}, {1, 0}, {0, 1}};
  sf_snn_state *st = sf_snn_state_new(net, 1);
  for (int pass = 0; pass < 2; ++pass) {
    for (int t = 0; t < 3; ++t) {
      float y;
      ASSERT_EQ(sf_snn_step(net, st, h.x[t], &y), 0);
      EXPECT_EQ(y, wantS[t][0] + wantS[t][1]) << "pass " << pass << " t " << t;
    }
    sf_snn_state_reset(st, 0, 0);
  }
  sf_snn_state_reset_all(st);
  float y;
  ASSERT_EQ(sf_snn_step(net, st, h.x[0], &y), 0);
  EXPECT_EQ(y, 2.0f);
  EXPECT_EQ(st->u[0][0], -0.25f);
  // The reset mark reads theta at the step: a threshold that turns positive
  // after the reset starts from S_-1 = 0.
  sf_snn_state_reset(st, 0, 0);
  net->params.t[net->lif_theta[0]].data[0] = 0.5f;
  ASSERT_EQ(sf_snn_step(net, st, h.x[0], &y), 0);
  EXPECT_EQ(st->u[0][0], -0.75f);
  sf_snn_state_free(st);
  sf_snn_free(net);
}

}  // namespace
