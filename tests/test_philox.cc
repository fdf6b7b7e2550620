// Philox4x32-10 against the published known-answer vectors (Random123), and
// the properties the rest of the code relies on.
#include <gtest/gtest.h>

#include <cmath>

extern "C" {
#include "core/sf_philox.h"
}

TEST(Philox, KnownAnswers) {
  struct {
    uint32_t c[4], k[2], out[4];
  } kat[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (auto &t : kat) {
    sf_u32x4 c = {{t.c[0], t.c[1], t.c[2], t.c[3]}};
    sf_u32x4 r = sf_philox4x32(c, t.k[0], t.k[1]);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r.v[i], t.out[i]) << i;
  }
}

TEST(Philox, UniformsAreOpenIntervalAndNormalsHaveUnitMoments) {
  EXPECT_GT(sf_u01(0u), 0.0f);
  EXPECT_LT(sf_u01(0xffffffffu), 1.0f);
  double s = 0, s2 = 0;
  const int n = 100000;
  for (int i = 0; i < n / 4; ++i) {
    float z[4];
    sf_normal4(sf_rng_bits(42, (uint32_t)i, 0, SF_STREAM(SF_RNG_OBS_NOISE, 0), 0), z);
    for (float v : z) {
      s += v;
      s2 += (double)v * v;
    }
  }
  EXPECT_NEAR(s / n, 0.0, 0.02);
  EXPECT_NEAR(s2 / n, 1.0, 0.02);
}

// Box-Muller's logarithm is the portable one (core/sf_fmath.h, the same
// bits on CPU and GPU); it must be as good as the library's logf over every
// value a uniform can take, and on other positive floats.
TEST(Philox, PortableLogarithmOverEveryUniform) {
  double worst = 0, worst_lib = 0;
  for (uint32_t k = 0; k < (1u << 23); ++k) {
    const float u = sf_u01(k << 9);
    const double want = std::log((double)u);
    worst = std::fmax(worst, std::fabs((sf_log_pos(u) - want) / want));
    worst_lib = std::fmax(worst_lib, std::fabs((logf(u) - want) / want));
  }
  for (float x : {1e-30f, 0.7071f, 1.0f, 1.4142f, 1.5f, 2.0f, 3.0f, 1e3f, 3e38f}) {
    const double want = std::log((double)x);
    EXPECT_NEAR(sf_log_pos(x), want, 2e-7 * std::fmax(1.0, std::fabs(want))) << x;
  }
  printf("sf_log_pos: max relative error %.3g over the uniforms (logf: %.3g)\n", worst, worst_lib);
  EXPECT_LT(worst, 3e-7);
}

TEST(Philox, DifferentSeedsEnvsStepsStreamsDiffer) {
  sf_u32x4 a = sf_rng_bits(1, 0, 0, 0, 0);
  sf_u32x4 variants[] = {sf_rng_bits(2, 0, 0, 0, 0), sf_rng_bits(1, 1, 0, 0, 0), sf_rng_bits(1, 0, 1, 0, 0),
                         sf_rng_bits(1, 0, 0, 1, 0), sf_rng_bits(1, 0, 0, 0, 1),
                         sf_rng_bits(1ull << 32, 0, 0, 0, 0)};
  for (auto &b : variants) EXPECT_NE(a.v[0], b.v[0]);
  sf_u32x4 again = sf_rng_bits(1, 0, 0, 0, 0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a.v[i], again.v[i]);
}
