// NeuroBench-style metrics on a small network whose counts are worked out
// by hand.
#include <gtest/gtest.h>

#include <vector>

extern "C" {
#include "export/sf_metrics.h"
}

TEST(ExportMetrics, CountsByHand) {
  sf_snn_net net;
  ASSERT_EQ(sf_snn_net_alloc(&net, 18, 3, 2, 4), 0);  // zeroed
  // fc1: three nonzero weights, column 0 feeds neurons 0 and 1, column 5
  // feeds neuron 2; the large biases make every lif1 neuron spike every step.
  net.w1[0 * 18 + 0] = 1.0f;
  net.w1[1 * 18 + 0] = 1.0f;
  net.w1[2 * 18 + 5] = 1.0f;
  for (int o = 0; o < 3; ++o) {
    net.b1[o] = 10.0f;
    net.beta1[o] = 0.5f;
    net.thr1[o] = 1.0f;
  }
  // fc2: one zero weight (neuron 0 from input 1); lif2 never spikes.
  for (int i = 0; i < 6; ++i) net.w2[i] = 0.5f;
  net.w2[0 * 3 + 1] = 0.0f;
  for (int o = 0; o < 2; ++o) {
    net.b2[o] = -100.0f;
    net.beta2[o] = 0.5f;
    net.thr2[o] = 1.0f;
  }
  for (int i = 0; i < 8; ++i) net.w3[i] = 0.25f;
  // Two steps: input 0 nonzero then input 5 nonzero; the rest 0.3 (their
  // columns have no weights).
  std::vector<float> obs(2 * 18, 0.3f);
  obs[0] = 0.5f;
  obs[5] = 0.0f;
  obs[18 + 0] = 0.0f;
  obs[18 + 5] = 0.2f;
  uint8_t reset[2] = {1, 0};
  sf_flight_log log{obs.data(), reset, 2};
  sf_metrics m;
  sf_metrics_replay(&net, &log, &m);
  EXPECT_EQ(m.params, 18u * 3 + 9 + 3 * 2 + 6 + 2 * 4 + 4);
  EXPECT_EQ(m.footprint_float32, 4 * m.params);
  EXPECT_DOUBLE_EQ(m.dense, 68.0);                         // 54 + 6 + 8 connections
  EXPECT_DOUBLE_EQ(m.connection_sparsity, 52.0 / 68.0);    // 51 zeros in fc1, 1 in fc2
  EXPECT_DOUBLE_EQ(m.eff_macs, (2.0 + 1.0) / 2.0);         // x0 reaches 2 neurons, x5 one
  EXPECT_DOUBLE_EQ(m.eff_acs, 5.0);                        // 3 spikes x (2 + 1 + 2) weights, none in fc3
  EXPECT_DOUBLE_EQ(m.spikes1, 3.0);
  EXPECT_DOUBLE_EQ(m.spikes2, 0.0);
  EXPECT_DOUBLE_EQ(m.activation_sparsity, 1.0 - 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(m.neuron_updates, 9.0);
  EXPECT_NEAR(m.energy_pj, 23.6 * 6.5 + 1.7 * 3.0 + 81.0 * 9.0, 1e-9);
  EXPECT_EQ(m.episodes, 1);
  EXPECT_EQ(m.steps, 2);
  sf_snn_net_free(&net);
}
