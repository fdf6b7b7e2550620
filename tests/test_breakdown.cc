// Where episodes end (sim/sf_breakdown.h): a hand-made start's figures
// (tilt, largest offset, speeds, time to the boundary) and its end, the
// tables' bins and totals for hand-made episodes, two controllers paired on
// the same starts, and `fly --breakdown`, `eval --breakdown` and `eval
// --compare-pid` against their own survival rate and mean return.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli_test_util.h"

extern "C" {
#include "core/sf_config.h"
#include "sim/sf_breakdown.h"
#include "sim/sf_env.h"
}

namespace {

class Breakdown : public ::testing::Test {
 protected:
  void SetUp() override {
    sf_config *cfg = sf_cfg_new();
    ASSERT_EQ(sf_env_model_from_config(cfg, &m), 0);
    sf_cfg_free(cfg);
    const uint64_t seed = 1;
    d = sf_env_data_new(1, 2, &seed);
    sf_env_reset_all(&m, d);
  }
  void TearDown() override {
    sf_env_data_free(d);
    sf_breakdown_free(&b);
  }
  // Env i's state: rotated by `deg` about x, at p, moving at v, turning at w.
  void put(long i, float deg, const float p[3], const float v[3], const float w[3]) {
    sf_quad_state s;
    std::memset(&s, 0, sizeof s);
    const float h = deg * 0.5f * 3.14159265f / 180.0f;
    s.q[0] = std::cos(h), s.q[1] = std::sin(h);
    for (int k = 0; k < 3; ++k) s.p[k] = p[k], s.v[k] = v[k], s.w[k] = w[k];
    sf_quad_store(&s, d->x, d->n, i);
  }
  std::string printed() {
    char *text = nullptr;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    sf_breakdown_print(f, &b);
    fclose(f);
    std::string s(text, n);
    free(text);
    return s;
  }
  sf_env_model m;
  sf_env_data *d = nullptr;
  sf_breakdown b = {};
};

sf_score_episode ended(int len, int survived, double ret) {
  sf_score_episode e;
  std::memset(&e, 0, sizeof e);
  e.len = len, e.done = 1, e.survived = survived, e.ret_f = ret;
  return e;
}

}  // namespace

// Env 0: tilted 60 deg, 0.45 m out on y and moving outward at 1 m/s (the
// boundary at 0.6 m in 0.15 s), turning at 0.5 rad/s; it crashes after 23
// steps. Env 1: upright at the target, still; it survives.
TEST_F(Breakdown, StartsAndEndsOfHandMadeEpisodes) {
  const float p0[3] = {0.3f, -0.45f, 0.1f}, v0[3] = {0, -1, 0}, w0[3] = {0.3f, 0.4f, 0};
  const float z[3] = {0, 0, 0};
  put(0, 60, p0, v0, w0);
  put(1, 0, z, z, z);
  ASSERT_EQ(sf_breakdown_starts(&b, &m, d, 0, 2), 0);
  const sf_score_episode acc[2] = {ended(23, 0, -12.5), ended(500, 1, 450.0)};
  sf_breakdown_ends(&b, acc, 2);
  ASSERT_EQ(b.n, 2);
  const sf_breakdown_episode &e = b.ep[0];
  EXPECT_NEAR(e.tilt, 60.0, 1e-3);
  EXPECT_NEAR(e.pos, 0.45, 1e-6);
  EXPECT_NEAR(e.vel, 1.0, 1e-6);
  EXPECT_NEAR(e.angvel, 0.5, 1e-6);
  EXPECT_NEAR(e.t_boundary, 0.15, 1e-5);
  EXPECT_EQ(e.len, 23);
  EXPECT_EQ(e.crashed, 1);
  EXPECT_DOUBLE_EQ(e.ret, -12.5);
  EXPECT_NEAR(b.ep[1].tilt, 0.0, 1e-3);
  EXPECT_TRUE(std::isinf(b.ep[1].t_boundary)) << "a still start never reaches the boundary";
  EXPECT_EQ(b.ep[1].crashed, 0);

  // The crash falls in the 60-75 deg, 0.4-0.5 m, 1-1.5 m/s, 0.1-0.2 s and
  // 0-0.25 s bins; the survivor in the first ones.
  const std::string t = printed();
  EXPECT_NE(t.find("2 episodes, 1 crashed (rate 0.500)"), std::string::npos) << t;
  EXPECT_NE(t.find("surviving episodes 450.0 (1), crashed episodes -12.5 (1, mean crash at 0.23 s)"),
            std::string::npos) << t;
  auto row = [&](const std::string &title, const std::string &label) {
    const size_t at = t.find(title);
    EXPECT_NE(at, std::string::npos) << title;
    const size_t r = t.find("    " + label + " ", at);
    return r == std::string::npos ? std::string() : t.substr(r, t.find('\n', r) - r);
  };
  auto fields = [](const std::string &line) {
    std::vector<std::string> f;
    std::stringstream s(line);
    std::string w;
    while (s >> w) f.push_back(w);
    return f;
  };
  // "60 to 75  1  1  1.000  1.000  -12.5"
  std::vector<std::string> f = fields(row("start tilt", "60 to 75"));
  ASSERT_EQ(f.size(), 8u) << row("start tilt", "60 to 75");
  EXPECT_EQ(f[3], "1");
  EXPECT_EQ(f[4], "1");
  EXPECT_EQ(f[7], "-12.5");
  f = fields(row("start tilt", "0 to 15"));
  ASSERT_EQ(f.size(), 8u);
  EXPECT_EQ(f[4], "0");
  EXPECT_EQ(f[5], "0.000");
  EXPECT_EQ(fields(row("start position", "0.4 to 0.5"))[4], "1");
  EXPECT_EQ(fields(row("start speed", "1 to 1.5"))[4], "1");
  EXPECT_EQ(fields(row("start angular speed", "0.5 to 1"))[4], "1");
  EXPECT_EQ(fields(row("time to the boundary", "0.1 to 0.2"))[4], "1");
  EXPECT_EQ(fields(row("time to the boundary", "1.6 and more"))[3], "1") << "the still start";
  f = fields(row("time of the crash", "0 to 0.25"));
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[3], "1");
  EXPECT_EQ(f[4], "1.000");
}

// Two controllers on the same two starts: the paired counts and the
// per-bin rates; breakdowns of different starts are refused.
TEST_F(Breakdown, PairsTwoControllersOnTheSameStarts) {
  const float p0[3] = {0.3f, -0.45f, 0.1f}, v0[3] = {0, -1, 0}, w0[3] = {0.3f, 0.4f, 0};
  const float z[3] = {0, 0, 0};
  put(0, 60, p0, v0, w0);
  put(1, 0, z, z, z);
  sf_breakdown other = {};
  ASSERT_EQ(sf_breakdown_starts(&b, &m, d, 0, 2), 0);
  ASSERT_EQ(sf_breakdown_starts(&other, &m, d, 0, 2), 0);
  const sf_score_episode mine[2] = {ended(23, 0, -12.5), ended(80, 0, 40.0)};
  const sf_score_episode theirs[2] = {ended(30, 0, -10.0), ended(500, 1, 450.0)};
  sf_breakdown_ends(&b, mine, 2);
  sf_breakdown_ends(&other, theirs, 2);
  char *text = nullptr, err[256] = "";
  size_t n = 0;
  FILE *f = open_memstream(&text, &n);
  EXPECT_EQ(sf_breakdown_print_paired(f, &b, "snn", &other, "pid", err, sizeof err), 0) << err;
  fclose(f);
  const std::string t(text, n);
  free(text);
  EXPECT_NE(t.find("from the same 2 starts (the same observation noise): both survived 0, only the snn crashed 1, "
                   "only the pid crashed 0, both crashed 1"),
            std::string::npos) << t;
  // The still start: only the snn crashed it; the tilted one both.
  auto line = [&](const std::string &title, const std::string &label) {
    const size_t at = t.find(title), r = t.find("    " + label + " ", at);
    return r == std::string::npos ? std::string() : t.substr(r, t.find('\n', r) - r);
  };
  std::stringstream s1(line("start tilt", "0 to 15")), s2(line("start tilt", "60 to 75"));
  std::string a, b1, c, eps, ra, rb, only;
  s1 >> a >> b1 >> c >> eps >> ra >> rb >> only;
  EXPECT_EQ(eps + " " + ra + " " + rb + " " + only, "1 1.000 0.000 1") << t;
  s2 >> a >> b1 >> c >> eps >> ra >> rb >> only;
  EXPECT_EQ(eps + " " + ra + " " + rb + " " + only, "1 1.000 1.000 0") << t;

  // Other starts: refused, saying so.
  other.ep[1].tilt += 1.0f;
  f = open_memstream(&text, &n);
  EXPECT_EQ(sf_breakdown_print_paired(f, &b, "snn", &other, "pid", err, sizeof err), -1);
  fclose(f);
  free(text);
  EXPECT_NE(std::string(err).find("same states"), std::string::npos) << err;
  sf_breakdown_free(&other);
}

namespace {

// A number after `label` in a command's output.
double after(const std::string &out, const std::string &label) {
  const size_t at = out.find(label);
  return at == std::string::npos ? NAN : std::strtod(out.c_str() + at + label.size(), nullptr);
}

// The CSV of a breakdown: episodes, crashes, mean return.
void csv_totals(const std::string &path, long *n, long *crashed, double *mean_ret) {
  std::stringstream s(read_file(path));
  std::string line;
  std::getline(s, line);
  *n = 0, *crashed = 0;
  double sum = 0;
  while (std::getline(s, line)) {
    const std::vector<std::string> f = csv_fields(line);
    if (f.size() != 9) continue;
    ++*n, *crashed += std::atoi(f[7].c_str()), sum += std::atof(f[8].c_str());
  }
  *mean_ret = *n ? sum / *n : NAN;
}

// The breakdown of a command's flights agrees with its own figures: as many
// crashes as episodes that did not survive, every table's bins summing to
// the episodes, and the CSV's mean return the one printed.
void check_against_summary(const std::string &out, const std::string &csv, long episodes) {
  const double survival = after(out, "survival rate");
  const long crashed = std::lround((1.0 - survival) * episodes);
  EXPECT_NE(out.find("where the episodes end: " + std::to_string(episodes) + " episodes, " + std::to_string(crashed) +
                     " crashed"),
            std::string::npos)
      << out;
  long n, c;
  double mean_ret;
  csv_totals(csv, &n, &c, &mean_ret);
  EXPECT_EQ(n, episodes);
  EXPECT_EQ(c, crashed);
  EXPECT_NEAR(mean_ret, after(out, "mean return"), 0.006) << out;
  // Each start table's episode column sums to all episodes.
  std::stringstream s(out);
  std::string line;
  long sum = -1;
  int tables = 0;
  while (std::getline(s, line)) {
    if (line.rfind("  start", 0) == 0 || line.rfind("  time to", 0) == 0 || line.rfind("  time of", 0) == 0) {
      if (sum >= 0) {
        EXPECT_EQ(sum, episodes) << out;
      }
      sum = line.rfind("  time of", 0) == 0 ? -1 : 0;
      ++tables;
      continue;
    }
    if (sum < 0 || line.rfind("    ", 0) != 0) continue;
    std::stringstream ls(line);
    std::vector<std::string> f;
    std::string w;
    while (ls >> w) f.push_back(w);
    ASSERT_EQ(f.size(), 8u) << line;  // a three-word bin label, then five columns
    sum += std::atol(f[3].c_str());
  }
  EXPECT_EQ(tables, 6) << out;
}

}  // namespace

TEST(BreakdownCli, FlyAgreesWithItsSummary) {
  const std::string dir = "/tmp/sf_test_breakdown_fly";
  std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
  std::string out;
  ASSERT_EQ(run("fly --breakdown --episodes 120 --envs 50 --breakdown-csv " + dir + "/ep.csv", &out), 0) << out;
  check_against_summary(out, dir + "/ep.csv", 120);
  // Without the breakdown, nothing of it.
  ASSERT_EQ(run("fly --episodes 10", &out), 0);
  EXPECT_EQ(out.find("where the episodes end"), std::string::npos) << out;
  expect_usage_error("fly --breakdown-csv /nonexistent_dir/x.csv", "fly.breakdown_csv");
}

TEST(BreakdownCli, EvalAgreesWithItsSummary) {
  const std::string dir = "/tmp/sf_test_breakdown_eval";
  std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
  std::string out;
  ASSERT_EQ(run("train --guide pid --epochs 1 --out " + dir + "/run train.envs=2 train.collect_steps=60 "
                "train.updates=2 train.batch=4 train.hidden=8,8 train.eval_episodes=2 train.buffer=5000", &out), 0)
      << out;
  const std::string ckpt = dir + "/run/checkpoint.safetensors";
  // A generous boundary and short episodes: the untrained network's
  // episodes end both ways.
  ASSERT_EQ(run("eval " + ckpt + " --episodes 40 --steps 60 --breakdown --breakdown-csv " + dir +
                    "/ep.csv env.term_pos=1.5", &out), 0) << out;
  const double survival = after(out, "survival rate");
  EXPECT_GT(survival, 0.1) << out;
  EXPECT_LT(survival, 0.9) << out;
  check_against_summary(out, dir + "/ep.csv", 40);
  expect_usage_error("eval " + ckpt + " --breakdown-csv /nonexistent_dir/x.csv", "eval.breakdown_csv");

  // The reference controller from the same starts: the paired counts add up
  // to the episodes and the actor's crashes to its own count (a start that
  // differed would be refused, failing the command).
  ASSERT_EQ(run("eval " + ckpt + " --episodes 40 --steps 60 --compare-pid env.term_pos=1.5", &out), 0) << out;
  const long crashed = std::lround((1.0 - after(out, "survival rate")) * 40);
  const double both_ok = after(out, "both survived"), only_a = after(out, "only the actor crashed"),
               only_b = after(out, "only the pid crashed"), both = after(out, "both crashed");
  EXPECT_EQ(both_ok + only_a + only_b + both, 40.0) << out;
  EXPECT_EQ(only_a + both, (double)crashed) << out;
  EXPECT_NE(out.find("only actor"), std::string::npos) << out;
  expect_usage_error("eval " + ckpt + " --compare-pid pid.kp=-1", "pid.kp");
}
