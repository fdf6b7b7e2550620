// Slope schedules on made-up evaluation-return sequences.
#include <gtest/gtest.h>

#include <vector>

extern "C" {
#include "models/sf_slope_schedule.h"
}

namespace {

std::vector<float> run(sf_slope_kind kind, const std::vector<float> &returns, int epochs_per_eval = 1) {
  sf_slope_config c = sf_slope_default(kind);
  sf_slope_schedule s;
  sf_slope_init(&s, &c);
  std::vector<float> ks;
  for (size_t i = 0; i < returns.size(); ++i)
    ks.push_back(sf_slope_update(&s, (int)(i + 1) * epochs_per_eval, returns[i]));
  return ks;
}

TEST(SlopeSchedule, FixedNeverMoves) {
  for (float k : run(SF_SLOPE_FIXED, {-400, 0, 300, 500, 100})) EXPECT_EQ(k, 2.0f);
}

TEST(SlopeSchedule, IntervalRisesInEqualStepsToTheMaximum) {
  sf_slope_config c = sf_slope_default(SF_SLOPE_INTERVAL);
  sf_slope_schedule s;
  sf_slope_init(&s, &c);
  EXPECT_EQ(sf_slope_update(&s, 9, 0), 2.0f);
  EXPECT_FLOAT_EQ(sf_slope_update(&s, 10, 0), 2.0f + 9.8f);
  EXPECT_FLOAT_EQ(sf_slope_update(&s, 25, 0), 2.0f + 2 * 9.8f);
  EXPECT_FLOAT_EQ(sf_slope_update(&s, 100, 0), 100.0f);
  EXPECT_FLOAT_EQ(sf_slope_update(&s, 1000, 0), 100.0f);
}

TEST(SlopeSchedule, AdaptiveRisingReturnsRaiseK) {
  std::vector<float> r;
  for (int i = 0; i < 20; ++i) r.push_back(-200.0f + 35.0f * i);  // -200 .. 465
  auto ks = run(SF_SLOPE_ADAPTIVE, r);
  EXPECT_GT(ks.back(), ks[9]);
  EXPECT_GT(ks[9], ks[0]);
  EXPECT_GT(ks.back(), 2.0f);  // above k_start
}

TEST(SlopeSchedule, AdaptivePlateauAtMaximumHoldsK) {
  std::vector<float> r(30, 500.0f);
  auto ks = run(SF_SLOPE_ADAPTIVE, r);
  // Once the window holds only the plateau, k is constant: s = 0.5.
  for (size_t i = 11; i < ks.size(); ++i) EXPECT_EQ(ks[i], ks[10]);
  EXPECT_FLOAT_EQ(ks.back(), 2.0f + 98.0f * 0.125f);
}

TEST(SlopeSchedule, AdaptiveFallingReturnsLowerK) {
  std::vector<float> r(12, 500.0f);
  for (int i = 0; i < 10; ++i) r.push_back(450.0f - 60.0f * i);  // collapse
  auto ks = run(SF_SLOPE_ADAPTIVE, r);
  EXPECT_LT(ks.back(), ks[11]);
  for (size_t i = 13; i < ks.size(); ++i) EXPECT_LE(ks[i], ks[i - 1]) << i;
}

TEST(SlopeSchedule, AdaptiveAlwaysWithinBounds) {
  // Extreme and noisy sequences, NaN included.
  std::vector<float> r;
  for (int i = 0; i < 200; ++i) r.push_back((i % 7 == 0 ? 1e9f : -1e9f) * ((i % 3) - 1));
  r.push_back(std::numeric_limits<float>::quiet_NaN());
  for (float k : run(SF_SLOPE_ADAPTIVE, r)) {
    EXPECT_GE(k, 1.0f);
    EXPECT_LE(k, 100.0f);
  }
}

TEST(SlopeSchedule, StateRoundTripContinuesIdentically) {
  sf_slope_config c = sf_slope_default(SF_SLOPE_ADAPTIVE);
  sf_slope_schedule a, b;
  sf_slope_init(&a, &c);
  for (int i = 0; i < 15; ++i) sf_slope_update(&a, i, 30.0f * i);
  double st[SF_SLOPE_STATE_LEN];
  sf_slope_state_save(&a, st);
  sf_slope_init(&b, &c);
  ASSERT_EQ(sf_slope_state_load(&b, st), 0);
  for (int i = 15; i < 30; ++i) EXPECT_EQ(sf_slope_update(&a, i, 500.0f - 40.0f * i), sf_slope_update(&b, i, 500.0f - 40.0f * i));
  st[2] = 1000;  // more history than the window holds
  EXPECT_NE(sf_slope_state_load(&b, st), 0);
}

TEST(SlopeSchedule, ConfigReadsKindAndRejectsBadValues) {
  sf_config *cfg = sf_cfg_new();
  sf_cfg_set(cfg, "model.schedule", "interval");
  sf_cfg_set(cfg, "model.slope", "5");
  sf_slope_config c = sf_slope_config_read(cfg, "model");
  EXPECT_EQ(c.kind, SF_SLOPE_INTERVAL);
  EXPECT_EQ(c.k_start, 5.0f);
  EXPECT_EQ(sf_cfg_error(cfg), nullptr);
  sf_cfg_set(cfg, "model.schedule", "cosine");
  sf_slope_config_read(cfg, "model");
  ASSERT_NE(sf_cfg_error(cfg), nullptr);
  EXPECT_NE(std::string(sf_cfg_error(cfg)).find("model.schedule"), std::string::npos);
  sf_cfg_free(cfg);
}

}  // namespace
