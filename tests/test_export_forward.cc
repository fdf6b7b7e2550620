// The exported controller's kernels against the trained network's reference
// forward: float32 bit for bit, int8 bit for bit against the integer
// reference and within a reported tolerance of the float network.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

extern "C" {
#include "core/sf_philox.h"
#include "export/sf_codegen.h"
#include "export/sf_flight.h"
#include "export/sf_quant.h"
}

namespace {

struct Net {
  sf_snn_net n{};
  Net(int n_in, int h1, int h2, int out, uint64_t seed, float gain) {
    EXPECT_EQ(sf_snn_net_alloc(&n, n_in, h1, h2, out), 0);
    sf_snn_net_init_seeded(&n, seed, gain);
  }
  ~Net() { sf_snn_net_free(&n); }
};

struct Log {
  sf_flight_log l{};
  ~Log() { sf_flight_log_free(&l); }
};

sf_env_model default_model() {
  sf_config *cfg = sf_cfg_new();
  sf_env_model m;
  EXPECT_EQ(sf_env_model_from_config(cfg, &m), 0);
  sf_cfg_free(cfg);
  return m;
}

// Observations recorded by flying the network itself.
void record(const sf_snn_net *net, int episodes, uint64_t seed, Log *log) {
  sf_env_model m = default_model();
  ASSERT_EQ(sf_flight_run(&m, SF_POLICY_REFERENCE, net, nullptr, episodes, seed, nullptr, nullptr, &log->l), 0);
  ASSERT_GT(log->l.steps, episodes);
}

// Observations for networks of other input sizes: a smooth random walk.
std::vector<float> walk(int steps, int n_in, uint64_t seed) {
  std::vector<float> x((size_t)steps * n_in);
  std::vector<float> v(n_in, 0.0f);
  for (int t = 0; t < steps; ++t)
    for (int i = 0; i < n_in; ++i) {
      sf_u32x4 b = sf_rng_bits(seed, (uint32_t)i, (uint32_t)t, 0, 0);
      v[i] = 0.9f * v[i] + sf_uniform(b.v[0], -0.5f, 0.5f);
      x[(size_t)t * n_in + i] = v[i];
    }
  return x;
}

std::vector<float> reference(const sf_snn_net *net, const sf_obs_seq &seq) {
  std::vector<float> act((size_t)seq.steps * net->n_out);
  sf_snn_ref_state st;
  EXPECT_EQ(sf_snn_ref_alloc(&st, net), 0);
  for (int t = 0; t < seq.steps; ++t) {
    if (t == 0 || seq.reset[t]) sf_snn_ref_reset(&st, net);
    sf_snn_ref_step(net, &st, seq.obs + (size_t)t * net->n_in, act.data() + (size_t)t * net->n_out);
  }
  sf_snn_ref_free(&st);
  return act;
}

std::vector<float> quant_reference(const sf_quant_net *q, const sf_obs_seq &seq) {
  std::vector<float> act((size_t)seq.steps * q->n_out);
  sf_quant_ref_state st;
  EXPECT_EQ(sf_quant_ref_alloc(&st, q), 0);
  for (int t = 0; t < seq.steps; ++t) {
    if (t == 0 || seq.reset[t]) sf_quant_ref_reset(&st, q);
    sf_quant_ref_step(q, &st, seq.obs + (size_t)t * q->n_in, act.data() + (size_t)t * q->n_out);
  }
  sf_quant_ref_free(&st);
  return act;
}

long bit_mismatches(const std::vector<float> &a, const std::vector<float> &b) {
  EXPECT_EQ(a.size(), b.size());
  long n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
  return n;
}

struct Case {
  int h1, h2;
  uint64_t seed;
  float gain;
};

// Trained networks leave some thresholds negative; such a neuron starts
// with S_{-1} = H(-theta) = 1. Every third neuron of both layers.
void negate_some_thresholds(sf_snn_net *net) {
  for (int o = 0; o < net->n_h1; o += 3) net->thr1[o] = -0.05f - 0.1f * net->thr1[o];
  for (int o = 0; o < net->n_h2; o += 3) net->thr2[o] = -0.05f - 0.1f * net->thr2[o];
}

}  // namespace

TEST(ExportForward, Float32ModuleMatchesReferenceBitForBit) {
  const Case cases[] = {{256, 128, 7, 1.0f}, {256, 128, 11, 3.0f}, {37, 13, 5, 2.0f}, {37, 13, 6, 2.0f}};
  for (const Case &c : cases) {
    Net net(18, c.h1, c.h2, 4, c.seed, c.gain);
    if (c.seed == 6) negate_some_thresholds(&net.n);
    Log log;
    record(&net.n, 12, c.seed, &log);
    sf_obs_seq seq{log.l.obs, log.l.reset, log.l.steps};
    std::vector<float> mod((size_t)seq.steps * 4);
    std::vector<int> spikes(seq.steps);
    ASSERT_EQ(sf_export_run_module(SF_EXPORT_FLOAT32, &net.n, nullptr, &seq, mod.data(), spikes.data(), nullptr), 0);
    EXPECT_EQ(bit_mismatches(mod, reference(&net.n, seq)), 0) << "sizes " << c.h1 << "/" << c.h2;
    long total = 0;
    for (int s : spikes) total += s;
    EXPECT_GT(total, 0) << "the case must exercise spikes";
  }
}

TEST(ExportForward, Int8ModuleMatchesIntegerReferenceBitForBit) {
  // Odd sizes (rows not a multiple of four words), and a wide first layer
  // with more than 256 spikes per step (the 16-bit lanes' pass limit).
  const Case cases[] = {{256, 128, 7, 1.0f}, {256, 128, 3, 3.0f}, {37, 13, 5, 2.0f}, {600, 22, 9, 6.0f},
                        {37, 13, 6, 2.0f}};
  for (const Case &c : cases) {
    Net net(18, c.h1, c.h2, 4, c.seed, c.gain);
    if (c.seed == 6) negate_some_thresholds(&net.n);
    if (c.h1 == 600)
      for (int o = 0; o < 600; ++o) net.n.thr1[o] = 0.05f;  // most neurons fire
    std::vector<float> obs = walk(300, 18, c.seed);
    std::vector<uint8_t> reset(300, 0);
    reset[150] = 1;
    sf_obs_seq seq{obs.data(), reset.data(), 300};
    sf_quant_net q;
    char err[256];
    ASSERT_EQ(sf_quantise(&net.n, obs.data(), 300, &q, err, sizeof err), 0) << err;
    std::vector<float> mod(300 * 4);
    std::vector<int> s1(300);
    ASSERT_EQ(sf_export_run_module(SF_EXPORT_INT8, &net.n, &q, &seq, mod.data(), s1.data(), nullptr), 0);
    EXPECT_EQ(bit_mismatches(mod, quant_reference(&q, seq)), 0) << "sizes " << c.h1 << "/" << c.h2;
    int most = 0;
    for (int s : s1) most = s > most ? s : most;
    if (c.h1 == 600) {
      EXPECT_GT(most, SF_CTRL_I8_MAX_ROWS);
    }
    sf_quant_free(&q);
  }
}

// The int8 controller against the float network on observations it did not
// calibrate on. A spiking network amplifies a rounding difference into a
// flipped spike now and then, so the per-step difference has a tail: the
// test reports it and bounds the mean and the typical step.
TEST(ExportForward, Int8WithinToleranceOfFloat) {
  Net net(18, 256, 128, 4, 7, 1.0f);
  Log calib, eval;
  record(&net.n, 20, 100, &calib);
  record(&net.n, 20, 200, &eval);
  sf_quant_net q;
  char err[256];
  ASSERT_EQ(sf_quantise(&net.n, calib.l.obs, (size_t)calib.l.steps, &q, err, sizeof err), 0) << err;
  sf_obs_seq seq{eval.l.obs, eval.l.reset, eval.l.steps};
  std::vector<float> mod((size_t)seq.steps * 4);
  ASSERT_EQ(sf_export_run_module(SF_EXPORT_INT8, &net.n, &q, &seq, mod.data(), nullptr, nullptr), 0);
  std::vector<float> ref = reference(&net.n, seq);
  std::vector<double> step_max(seq.steps);
  double sum = 0.0;
  for (int t = 0; t < seq.steps; ++t) {
    double m = 0.0;
    for (int k = 0; k < 4; ++k) {
      double d = std::fabs((double)mod[(size_t)t * 4 + k] - ref[(size_t)t * 4 + k]);
      m = d > m ? d : m;
      sum += d;
    }
    step_max[t] = m;
  }
  std::vector<double> sorted = step_max;
  std::sort(sorted.begin(), sorted.end());
  double median = sorted[sorted.size() / 2], p90 = sorted[sorted.size() * 9 / 10], worst = sorted.back();
  double mean = sum / (4.0 * seq.steps);
  std::printf("int8 vs float32, %d steps: per-step max |diff| median %.4f, 90th percentile %.4f, worst %.4f; "
              "mean |diff| %.4f\n",
              seq.steps, median, p90, worst, mean);
  EXPECT_LT(mean, 0.1);
  EXPECT_LT(median, 0.2);
  EXPECT_GT(mean, 0.0);  // a quantised network that matched exactly would mean the float path ran
  sf_quant_free(&q);
}

TEST(ExportForward, QuantiserScalesAndFormats) {
  // Clipping a mild outlier beats covering it when the bulk is dense: with
  // 100000 values in [-1, 1] and one at 2, clipping near 1 halves the
  // rounding error of the bulk and costs about 1 on the outlier.
  std::vector<float> x(100001);
  for (int i = 0; i < 100000; ++i) x[i] = -1.0f + 2.0f * (float)i / 99999.0f;
  x[100000] = 2.0f;
  float s = sf_quant_best_scale(x.data(), x.size(), 1, 127);
  EXPECT_LT(s, 1.5f / 127.0f);
  EXPECT_GT(s, 0.8f / 127.0f);
  // With a sparse bulk, a heavy outlier is covered instead: clipping it
  // would cost more than the bulk's rounding gains.
  std::vector<float> y(1001);
  for (int i = 0; i < 1000; ++i) y[i] = -1.0f + 2.0f * (float)i / 999.0f;
  y[1000] = 20.0f;
  EXPECT_FLOAT_EQ(sf_quant_best_scale(y.data(), y.size(), 1, 127), 20.0f / 127.0f);
  // A row without outliers keeps the max-abs scale.
  float row[4] = {-0.5f, 0.25f, 1.0f, -1.0f};
  EXPECT_FLOAT_EQ(sf_quant_best_scale(row, 4, 1, 127), 1.0f / 127.0f);
  EXPECT_EQ(sf_quant_best_scale(row, 0, 1, 127), 0.0f);
  // Inputs: NaN gives 0, large values saturate, rounding is to nearest.
  EXPECT_EQ(sf_ctrl_i8_quant_input(NAN, 1.0f, 127), 0);
  EXPECT_EQ(sf_ctrl_i8_quant_input(INFINITY, 1.0f, 127), 127);
  EXPECT_EQ(sf_ctrl_i8_quant_input(-1e9f, 1.0f, 32767), -32767);
  EXPECT_EQ(sf_ctrl_i8_quant_input(2.6f, 1.0f, 127), 3);
  EXPECT_EQ(sf_ctrl_i8_quant_input(-2.6f, 1.0f, 127), -3);
  // The tanh table with interpolation, over the whole range.
  Net net(18, 8, 8, 4, 1, 1.0f);
  std::vector<float> obs = walk(50, 18, 1);
  sf_quant_net q;
  char err[256];
  ASSERT_EQ(sf_quantise(&net.n, obs.data(), 50, &q, err, sizeof err), 0) << err;
  EXPECT_EQ(q.in_max, 32767);
  double worst = 0.0;
  for (int z = -40000; z <= 40000; z += 7) {
    double d = std::fabs((double)sf_ctrl_i8_tanh(z, q.tanh_q15) - std::tanh(z / 4096.0));
    worst = d > worst ? d : worst;
  }
  EXPECT_LT(worst, 2e-4);
  // Per-channel weight scales: each row's largest weight maps to +-127 or
  // is clipped just below it.
  for (int o = 0; o < 8; ++o) {
    int m = 0;
    for (int j = 0; j < 8; ++j) m = std::max(m, std::abs((int)q.w2[o * 8 + j]));
    EXPECT_GE(m, 120) << "row " << o;
  }
  // Beta in Q31, clamped.
  net.n.beta1[0] = 1.5f;
  net.n.beta1[1] = -0.5f;
  sf_quant_free(&q);
  ASSERT_EQ(sf_quantise(&net.n, obs.data(), 50, &q, err, sizeof err), 0) << err;
  EXPECT_EQ(q.beta1[0], 2147483647);
  EXPECT_EQ(q.beta1[1], 0);
  sf_quant_free(&q);
}

// Input scales are chosen for fc1's rows: every column of fc1 times its
// input scale has the same RMS, however different the features' ranges; the
// widest feature's range, twice over, just fits the 16 bits; a feature whose
// column is all zeros keeps the scale of its own range.
TEST(ExportForward, InputScalesEqualiseFc1Columns) {
  const int n_in = 18, h1 = 16;
  Net net(n_in, h1, 8, 4, 3, 1.0f);
  for (int o = 0; o < h1; ++o) net.n.w1[o * n_in + 5] = 0.0f;
  std::vector<float> obs = walk(200, n_in, 2);
  for (int t = 0; t < 200; ++t) obs[t * n_in + 15] *= 20.0f;  // a wide-ranged feature (angular rates)
  sf_quant_net q;
  char err[256];
  ASSERT_EQ(sf_quantise(&net.n, obs.data(), 200, &q, err, sizeof err), 0) << err;
  std::vector<double> rms(n_in), range(n_in);
  for (int i = 0; i < n_in; ++i) {
    for (int o = 0; o < h1; ++o) rms[i] += std::pow((double)net.n.w1[o * n_in + i] * q.in_scale[i], 2);
    rms[i] = std::sqrt(rms[i] / h1);
    for (int t = 0; t < 200; ++t) range[i] = std::max(range[i], std::fabs((double)obs[t * n_in + i]));
  }
  double widest = 0.0;
  for (int i = 0; i < n_in; ++i) {
    if (i == 5) continue;
    EXPECT_NEAR(rms[i], rms[0], 1e-5 * rms[0]) << "column " << i;
    EXPECT_LE(2.0 * range[i] / q.in_scale[i], q.in_max * (1 + 1e-5)) << "feature " << i;
    widest = std::max(widest, 2.0 * range[i] / q.in_scale[i]);
  }
  EXPECT_NEAR(widest, q.in_max, 1e-4 * q.in_max);
  EXPECT_NEAR(q.in_scale[5], 2.0 * range[5] / q.in_max, 1e-6 * q.in_scale[5]);
  sf_quant_free(&q);
}

TEST(ExportForward, QuantiserRejectsValuesOutsideTheFormat) {
  Net net(18, 8, 8, 4, 1, 1.0f);
  std::vector<float> obs = walk(50, 18, 1);
  net.n.b2[3] = 1e9f;  // a bias millions of weight steps away
  sf_quant_net q;
  char err[256] = "";
  EXPECT_EQ(sf_quantise(&net.n, obs.data(), 50, &q, err, sizeof err), -1);
  EXPECT_NE(std::strstr(err, "lif2 neuron 3"), nullptr) << err;
}

extern "C" {
#include "models/sf_snn.h"
}

// The references start where the models' LIF does (sf_lif_math.inc):
// U = 0, S_{-1} = H(-theta). One step from a reset by hand: a neuron with a
// negative threshold gets U_0 = I_0 - theta, the others U_0 = I_0; the int8
// reference's start spikes are those of its quantised thresholds.
TEST(ExportForward, ReferencesStartFromTheStartSpike) {
  Net net(18, 37, 13, 4, 6, 2.0f);
  negate_some_thresholds(&net.n);
  std::vector<float> obs = walk(300, 18, 6);
  sf_snn_ref_state st;
  ASSERT_EQ(sf_snn_ref_alloc(&st, &net.n), 0);
  sf_snn_ref_reset(&st, &net.n);
  std::vector<float> act(4);
  sf_snn_ref_step(&net.n, &st, obs.data(), act.data());
  int negative = 0;
  for (int o = 0; o < net.n.n_h1; ++o) {
    float i_t = net.n.b1[o];
    for (int i = 0; i < 18; ++i) i_t = i_t + net.n.w1[(size_t)o * 18 + i] * obs[i];
    const float theta = net.n.thr1[o];
    negative += theta < 0.0f;
    EXPECT_EQ(st.u1[o], theta < 0.0f ? i_t - theta : i_t) << "neuron " << o << ", theta " << theta;
  }
  EXPECT_GT(negative, 5);
  sf_snn_ref_free(&st);

  sf_quant_net q;
  char err[256];
  ASSERT_EQ(sf_quantise(&net.n, obs.data(), 300, &q, err, sizeof err), 0) << err;
  sf_quant_ref_state qs;
  ASSERT_EQ(sf_quant_ref_alloc(&qs, &q), 0);
  sf_quant_ref_reset(&qs, &q);
  int qneg = 0;
  for (int o = 0; o < q.n_h1; ++o) {
    EXPECT_EQ(qs.s1[o], q.thr1[o] < 0 ? 1 : 0) << "layer 1 neuron " << o;
    qneg += q.thr1[o] < 0;
  }
  for (int o = 0; o < q.n_h2; ++o) EXPECT_EQ(qs.s2[o], q.thr2[o] < 0 ? 1 : 0) << "layer 2 neuron " << o;
  EXPECT_GT(qneg, 5);
  sf_quant_ref_free(&qs);
  sf_quant_free(&q);
}

// The trained network as the models module runs it (sf_snn_step, the
// streaming forward used in evaluation) against the reference forward and
// the exported float32 module, on the same agent's parameters.
TEST(ExportForward, MatchesTheModelsStreamingForward) {
  sf_snn_config cfg = sf_snn_actor_config();
  const int P = 2;
  sf_snn *model = sf_snn_new(&cfg, P, 1);
  ASSERT_NE(model, nullptr);
  const uint64_t seeds[P] = {5, 6};
  sf_snn_init(model, seeds);
  // Some negative thresholds (every fourth neuron of agent 1), as training
  // leaves them.
  for (int l = 0; l < 2; ++l) {
    float *th = sf_param_at(&model->params.t[model->lif_theta[l]], 1);
    for (int n = 0; n < cfg.hidden[l]; n += 4) th[n] = -0.02f - 0.2f * th[n];
  }
  sf_snn_net net;
  char err[256];
  EXPECT_EQ(sf_snn_net_from_params(&net, &model->params, "actor", 2, err, sizeof err), -1);
  EXPECT_NE(std::strstr(err, "agent 2 does not exist"), nullptr) << err;
  ASSERT_EQ(sf_snn_net_from_params(&net, &model->params, "actor", 1, err, sizeof err), 0) << err;
  EXPECT_EQ(net.n_h1, 256);
  EXPECT_EQ(net.n_h2, 128);
  sf_snn_state *st = sf_snn_state_new(model, 1);
  ASSERT_NE(st, nullptr);
  const int T = 300;
  std::vector<float> obs = walk(T, 18, 3);
  for (float &x : obs) x *= 4.0f;  // drive the network into spiking
  std::vector<uint8_t> reset(T, 0);
  reset[170] = 1;  // an episode start midway
  sf_obs_seq seq{obs.data(), reset.data(), T};
  std::vector<float> ref = reference(&net, seq), mod((size_t)T * 4), y_model((size_t)T * 4);
  ASSERT_EQ(sf_export_run_module(SF_EXPORT_FLOAT32, &net, nullptr, &seq, mod.data(), nullptr, nullptr), 0);
  std::vector<float> x(P * 18), y(P * 4);
  for (int t = 0; t < T; ++t) {
    if (reset[t]) sf_snn_state_reset(st, 1, 0);
    for (int p = 0; p < P; ++p) std::memcpy(&x[p * 18], &obs[(size_t)t * 18], sizeof(float) * 18);
    ASSERT_EQ(sf_snn_step(model, st, x.data(), y.data()), 0);
    std::memcpy(&y_model[(size_t)t * 4], &y[4], sizeof(float) * 4);  // agent 1
  }
  long same = 0;
  double worst = 0.0;
  for (size_t i = 0; i < y_model.size(); ++i) {
    same += std::memcmp(&y_model[i], &ref[i], sizeof(float)) == 0;
    worst = std::fmax(worst, std::fabs((double)y_model[i] - ref[i]));
  }
  std::printf("models' streaming forward vs reference: %ld of %zu actions bit-identical, max |diff| %.3g\n", same,
              y_model.size(), worst);
  // The exported float32 controller computes what the trained network
  // computes, bit for bit.
  EXPECT_EQ(same, (long)y_model.size());
  EXPECT_EQ(bit_mismatches(mod, ref), 0);
  sf_snn_state_free(st);
  sf_snn_free(model);
  sf_snn_net_free(&net);
}
