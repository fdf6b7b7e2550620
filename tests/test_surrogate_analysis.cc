// The surrogate-gradient slope analysis (paper Fig. 1) and its command.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "models/sf_surrogate_analysis.h"

extern "C" int sf_cmd_surrogate_analysis(int argc, char **argv);

namespace {

sf_sa_result run(const sf_sa_config &c) {
  sf_sa_result r;
  char err[160];
  EXPECT_EQ(sf_sa_run(&c, &r, err, sizeof err), 0) << err;
  return r;
}

// On the Figure 1 network (63 -> 4 x LIF(64) -> 64, 2 steps), k = 1 against
// k = 100 shows the paper's trend. Measured (seed 1, 64 samples): mean |grad|
// ratio k=1/k=100 per layer 7.1e4, 7.9e3, 5.0e2, 37, 1 and cosine similarity
// to k=100 0.035, 0.107, 0.214, 0.473, 1: larger gradients, the gain growing
// with depth, lower alignment, lowest in the deepest layer. Checked for three
// seeds; the assertions test the direction of the trend, not the numbers.
TEST(SurrogateAnalysis, ShallowSlopeGivesLargerButLessAlignedGradients) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    sf_sa_config c = sf_sa_default();
    c.seed = seed;
    c.samples = 64;
    c.nslopes = 2;
    c.slopes[0] = 1.0f;
    c.slopes[1] = 100.0f;
    c.reference = 100.0f;
    sf_sa_result r = run(c);
    ASSERT_EQ(r.nw, 5);
    ASSERT_EQ(r.ref, 1);
    const int nw = r.nw;
    double ratio0 = r.mean_abs[0] / r.mean_abs[nw + 0];
    for (int l = 0; l < nw - 1; ++l) {
      double ratio = r.mean_abs[l] / r.mean_abs[nw + l];
      printf("seed %d layer %d: mean|grad| k=1 %.3e k=100 %.3e ratio %.3g, cosine %.3f\n", (int)seed, l,
             r.mean_abs[l], r.mean_abs[nw + l], ratio, r.cos_sim[l]);
      EXPECT_GT(ratio, 1.0) << "layer " << l;
      EXPECT_LE(ratio, ratio0) << "the gain should be largest in the deepest layer";
      EXPECT_LT(r.cos_sim[l], 0.9) << "layer " << l;
      EXPECT_NEAR(r.cos_sim[nw + l], 1.0, 1e-9);  // the reference against itself
      if (l) {
        EXPECT_LT(r.cos_sim[0], r.cos_sim[l]) << "alignment should be lowest in the deepest layer";
      }
    }
    EXPECT_GT(ratio0, 100.0);
    // The readout's gradient passes through no surrogate: identical for all k.
    EXPECT_EQ(r.mean_abs[nw - 1], r.mean_abs[2 * nw - 1]);
    EXPECT_NEAR(r.cos_sim[nw - 1], 1.0, 1e-9);
    // Zero gradients come from silent inputs, which do not depend on k.
    for (int l = 0; l < nw; ++l) EXPECT_EQ(r.zero_frac[l], r.zero_frac[nw + l]);
    EXPECT_EQ(r.zero_frac[0], 0.0);  // dense N(0,1) inputs
    EXPECT_GT(r.zero_frac[1], 0.0);  // sparse spikes
    for (int l = 0; l < 4; ++l) {
      EXPECT_GT(r.spike_rate[l], 0.0);
      EXPECT_LT(r.spike_rate[l], 0.5);
    }
    sf_sa_result_free(&r);
  }
}

TEST(SurrogateAnalysis, DeterministicFromTheSeed) {
  sf_sa_config c = sf_sa_default();
  c.samples = 8;
  sf_sa_result a = run(c), b = run(c);
  for (int i = 0; i < a.nslopes * a.nw; ++i) {
    EXPECT_EQ(a.mean_abs[i], b.mean_abs[i]);
    EXPECT_EQ(a.cos_sim[i], b.cos_sim[i]);
  }
  c.seed = 2;
  sf_sa_result d = run(c);
  EXPECT_NE(a.mean_abs[0], d.mean_abs[0]);
  sf_sa_result_free(&a);
  sf_sa_result_free(&b);
  sf_sa_result_free(&d);
}

// A layer whose input never spikes gets an all-zero weight gradient: such a
// sample counts as similarity 0, and is counted.
TEST(SurrogateAnalysis, ZeroNormSamplesCountAsZeroSimilarity) {
  sf_sa_config c = sf_sa_default();
  c.in = 1;
  c.width = 1;
  c.nlayers = 2;
  c.out = 1;
  c.timesteps = 1;
  c.samples = 64;
  sf_sa_result r = run(c);
  const int l = 1;  // fc2, fed by the single first-layer neuron
  int zn = r.zero_norm[r.ref * r.nw + l];
  EXPECT_GT(zn, 0);
  EXPECT_LT(zn, c.samples);
  // Every other sample has similarity exactly 1 with itself.
  EXPECT_NEAR(r.cos_sim[r.ref * r.nw + l], (double)(c.samples - zn) / c.samples, 1e-12);
  EXPECT_NEAR(r.zero_frac[r.ref * r.nw + l], (double)zn / c.samples, 1e-12);
  sf_sa_result_free(&r);
}

TEST(SurrogateAnalysis, RejectsAReferenceOutsideTheSlopes) {
  sf_sa_config c = sf_sa_default();
  c.reference = 7.0f;
  sf_sa_result r;
  char err[160];
  EXPECT_EQ(sf_sa_run(&c, &r, err, sizeof err), -1);
  EXPECT_NE(std::string(err).find("reference"), std::string::npos);
}

int cli(std::vector<std::string> args) {
  args.insert(args.begin(), "surrogate-analysis");
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(&a[0]);
  return sf_cmd_surrogate_analysis((int)argv.size(), argv.data());
}

TEST(SurrogateAnalysisCommand, WritesCsvAndRejectsBadInput) {
  std::string csv = std::string(SF_BINARY_DIR) + "/test_surrogate_analysis.csv";
  std::remove(csv.c_str());
  ASSERT_EQ(cli({"--slopes", "1,100", "--samples", "4", "--csv", csv}), 0);
  std::ifstream f(csv);
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "layer,slope,mean_abs_grad,zero_fraction,cosine_to_reference,zero_norm_samples");
  int rows = 0;
  while (std::getline(f, line)) ++rows;
  EXPECT_EQ(rows, 5 * 2);
  EXPECT_EQ(cli({"--slopes", "1,10", "--samples", "4"}), 2);       // reference 100 missing
  EXPECT_EQ(cli({"--slopes", "1,abc"}), 2);
  EXPECT_EQ(cli({"--samples", "0"}), 2);
  EXPECT_EQ(cli({"--no-such-flag"}), 2);
  EXPECT_EQ(cli({"analysis.nonsense=3"}), 2);
  EXPECT_EQ(cli({"--samples", "4", "--csv", "/nonexistent-dir/x.csv"}), 2);
}

TEST(SurrogateAnalysisCommand, DrawsAPng) {
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) GTEST_SKIP() << "gnuplot is not installed";
  std::string png = std::string(SF_BINARY_DIR) + "/test_surrogate_analysis.png";
  std::remove(png.c_str());
  ASSERT_EQ(cli({"--samples", "4", "--plot", png}), 0);
  std::ifstream f(png, std::ios::binary);
  char sig[8] = {0};
  f.read(sig, 8);
  EXPECT_EQ(std::string(sig + 1, 3), "PNG");
}

}  // namespace
