// Sweep grids: Cartesian product, first key slowest, labels and errors.
#include <gtest/gtest.h>

#include <string>

extern "C" {
#include "rl/sf_sweep.h"
}

TEST(Sweep, GridIsCartesianFirstKeySlowest) {
  sf_sweep s = {};
  char err[256];
  ASSERT_EQ(sf_sweep_add(&s, "model.slope=1,2,5,10,100", err, sizeof err), 0);
  ASSERT_EQ(sf_sweep_add(&s, "seed=0, 1,2", err, sizeof err), 0);
  ASSERT_EQ(sf_sweep_size(&s), 15);
  sf_config *base = sf_cfg_new();
  sf_cfg_set(base, "train.epochs", "3");
  sf_cfg_set(base, "seed", "9");
  for (int i = 0; i < 15; ++i) {
    sf_config *c = sf_sweep_config(&s, base, i);
    const char *slopes[] = {"1", "2", "5", "10", "100"};
    EXPECT_STREQ(sf_cfg_peek(c, "model.slope"), slopes[i / 3]);
    EXPECT_EQ(std::stoi(sf_cfg_peek(c, "seed")), i % 3);
    EXPECT_STREQ(sf_cfg_peek(c, "train.epochs"), "3");
    sf_cfg_free(c);
  }
  char label[256];
  sf_sweep_label(&s, 7, "seed", label, sizeof label);
  EXPECT_STREQ(label, "model.slope=5");
  sf_sweep_label(&s, 7, nullptr, label, sizeof label);
  EXPECT_STREQ(label, "model.slope=5 seed=1");
  sf_cfg_free(base);
}

TEST(Sweep, BadSpecsAreRejected) {
  char err[256];
  for (const char *bad : {"slope", "=1,2", "slope=", "slope=1,,2"}) {
    sf_sweep s = {};
    EXPECT_NE(sf_sweep_add(&s, bad, err, sizeof err), 0) << bad;
  }
  sf_sweep s = {};
  ASSERT_EQ(sf_sweep_add(&s, "seed=1,2", err, sizeof err), 0);
  EXPECT_NE(sf_sweep_add(&s, "seed=3", err, sizeof err), 0);
  EXPECT_NE(std::string(err).find("twice"), std::string::npos);
  sf_sweep big = {};
  ASSERT_EQ(sf_sweep_add(&big, "a=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", err, sizeof err), 0);
  ASSERT_EQ(sf_sweep_add(&big, "b=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", err, sizeof err), 0);
  EXPECT_NE(sf_sweep_add(&big, "c=1,2", err, sizeof err), 0);
  EXPECT_NE(std::string(err).find("exceeds"), std::string::npos);
}
