// Closed-loop proof on the host: the exported float32 and int8 controllers
// fly 100 simulator episodes each, from the same seeds as the network they
// were exported from, and their mean returns are compared with the
// network's (float32 within 0.1 %, int8 within 2 %). The per-step action
// differences along the network's own flights are reported.
//
// The network is drawn from a fixed seed (no trained network exists in the
// tree yet); it is the same code path a trained checkpoint takes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

extern "C" {
#include "export/sf_codegen.h"
#include "export/sf_flight.h"
#include "export/sf_quant.h"
}

TEST(ExportClosedLoop, HundredEpisodesMatchTheNetwork) {
  sf_snn_net net;
  ASSERT_EQ(sf_snn_net_alloc(&net, 18, 256, 128, 4), 0);
  sf_snn_net_init_seeded(&net, 7, 1.0f);
  sf_config *cfg = sf_cfg_new();
  sf_env_model model;
  ASSERT_EQ(sf_env_model_from_config(cfg, &model), 0);
  sf_cfg_free(cfg);
  // Calibration on the network's flights from other seeds than the evaluation's.
  sf_flight_log calib{};
  ASSERT_EQ(sf_flight_run(&model, SF_POLICY_REFERENCE, &net, nullptr, 20, 1000, nullptr, nullptr, &calib), 0);
  sf_quant_net q;
  char err[256];
  ASSERT_EQ(sf_quantise(&net, calib.obs, (size_t)calib.steps, &q, err, sizeof err), 0) << err;

  const int E = 100;
  const uint64_t seed = 2024;
  std::vector<double> r_ref(E), r_f32(E), r_i8(E);
  std::vector<int> len_ref(E);
  sf_flight_log log{};
  ASSERT_EQ(sf_flight_run(&model, SF_POLICY_REFERENCE, &net, nullptr, E, seed, r_ref.data(), len_ref.data(), &log), 0);
  ASSERT_EQ(sf_flight_run(&model, SF_POLICY_FLOAT32, &net, nullptr, E, seed, r_f32.data(), nullptr, nullptr), 0);
  ASSERT_EQ(sf_flight_run(&model, SF_POLICY_INT8, &net, &q, E, seed, r_i8.data(), nullptr, nullptr), 0);
  double m_ref = 0, m_f32 = 0, m_i8 = 0;
  for (int e = 0; e < E; ++e) {
    m_ref += r_ref[e] / E;
    m_f32 += r_f32[e] / E;
    m_i8 += r_i8[e] / E;
  }
  const double d_f32 = std::fabs(m_f32 - m_ref) / std::fabs(m_ref), d_i8 = std::fabs(m_i8 - m_ref) / std::fabs(m_ref);
  std::printf("mean return over %d episodes: network %.4f, float32 %.4f (%.4f %%), int8 %.4f (%.4f %%)\n", E, m_ref,
              m_f32, 100 * d_f32, m_i8, 100 * d_i8);
  EXPECT_LE(d_f32, 0.001);
  EXPECT_LE(d_i8, 0.02);

  // Per-step differences along the network's own flights (open loop).
  sf_obs_seq seq{log.obs, log.reset, log.steps};
  std::vector<float> a_f32((size_t)log.steps * 4), a_i8((size_t)log.steps * 4), a_ref((size_t)log.steps * 4);
  ASSERT_EQ(sf_export_run_module(SF_EXPORT_FLOAT32, &net, nullptr, &seq, a_f32.data(), nullptr, nullptr), 0);
  ASSERT_EQ(sf_export_run_module(SF_EXPORT_INT8, &net, &q, &seq, a_i8.data(), nullptr, nullptr), 0);
  sf_snn_ref_state st;
  ASSERT_EQ(sf_snn_ref_alloc(&st, &net), 0);
  for (int t = 0; t < log.steps; ++t) {
    if (log.reset[t]) sf_snn_ref_reset(&st, &net);
    sf_snn_ref_step(&net, &st, log.obs + (size_t)t * 18, a_ref.data() + (size_t)t * 4);
  }
  sf_snn_ref_free(&st);
  double max_f32 = 0, max_i8 = 0, sum_i8 = 0;
  for (size_t i = 0; i < a_ref.size(); ++i) {
    max_f32 = std::fmax(max_f32, std::fabs((double)a_f32[i] - a_ref[i]));
    max_i8 = std::fmax(max_i8, std::fabs((double)a_i8[i] - a_ref[i]));
    sum_i8 += std::fabs((double)a_i8[i] - a_ref[i]);
  }
  std::printf("per-step action difference over %d steps: float32 max %.3g; int8 max %.3g, mean %.3g\n", log.steps,
              max_f32, max_i8, sum_i8 / (double)a_ref.size());
  EXPECT_EQ(max_f32, 0.0);
  sf_flight_log_free(&log);
  sf_flight_log_free(&calib);
  sf_quant_free(&q);
  sf_snn_net_free(&net);
}
