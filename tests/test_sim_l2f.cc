// The simulator against trajectories of the published Learning-to-Fly
// simulator (tests/data/l2f_reference_sample.csv, described in
// tests/data/l2f_reference_sample.md): every one-step transition, and
// free-running rollouts up to each case's first termination row.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
#include "sim/sf_quad_math.h"
}

namespace {

struct Row {
  int step;
  sf_quad_state s;
  float a[4];
  int term;
};

// Columns after `case,group,seed,step,t`: p(3) q(4) v(3) w(3) m(4) a(4) term.
std::map<int, std::vector<Row>> load_reference() {
  std::map<int, std::vector<Row>> cases;
  std::ifstream in(SF_SOURCE_DIR "/tests/data/l2f_reference_sample.csv");
  if (!in) return cases;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    if (line.back() == ',') f.push_back("");
    if (f.size() != 27) continue;
    auto num = [&](int k) { return f[k].empty() ? NAN : strtof(f[k].c_str(), nullptr); };
    Row r;
    r.step = atoi(f[3].c_str());
    for (int k = 0; k < 3; ++k) r.s.p[k] = num(5 + k);
    for (int k = 0; k < 4; ++k) r.s.q[k] = num(8 + k);
    for (int k = 0; k < 3; ++k) r.s.v[k] = num(12 + k);
    for (int k = 0; k < 3; ++k) r.s.w[k] = num(15 + k);
    for (int k = 0; k < 4; ++k) r.s.u[k] = num(18 + k);
    for (int k = 0; k < 4; ++k) r.a[k] = num(22 + k);
    r.term = atoi(f[26].c_str());
    cases[atoi(f[0].c_str())].push_back(r);
  }
  return cases;
}

// Per component group (p, q, v, w, u): the largest |x - ref| / max(1, |ref|).
struct Err {
  double g[5] = {0, 0, 0, 0, 0};
};
void accumulate(const sf_quad_state &x, const sf_quad_state &ref, Err *e) {
  const float *xs[5] = {x.p, x.q, x.v, x.w, x.u}, *rs[5] = {ref.p, ref.q, ref.v, ref.w, ref.u};
  const int n[5] = {3, 4, 3, 3, 4};
  for (int g = 0; g < 5; ++g)
    for (int k = 0; k < n[g]; ++k) {
      double d = std::fabs((double)xs[g][k] - (double)rs[g][k]) / std::fmax(1.0, std::fabs((double)rs[g][k]));
      if (!(d <= e->g[g])) e->g[g] = std::isnan(d) ? INFINITY : d;
    }
}
bool bit_equal(const sf_quad_state &a, const sf_quad_state &b) {
  for (int k = 0; k < 3; ++k)
    if (a.p[k] != b.p[k] || a.v[k] != b.v[k] || a.w[k] != b.w[k]) return false;
  for (int k = 0; k < 4; ++k)
    if (a.q[k] != b.q[k] || a.u[k] != b.u[k]) return false;
  return true;
}
const char *kGroup[5] = {"position", "quaternion", "velocity", "angular velocity", "motor"};

class L2FReference : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sf_quad_params_named("cf21", &m_), 0);
    cases_ = load_reference();
    ASSERT_EQ(cases_.size(), 16u) << "tests/data/l2f_reference_sample.csv missing or malformed";
    for (auto &c : cases_) ASSERT_EQ(c.second.size(), 201u) << "case " << c.first;
  }
  sf_quad_params m_;
  std::map<int, std::vector<Row>> cases_;
};

TEST_F(L2FReference, HoverStateMatchesTheDataSet) {
  // Cases 0..6 start at the float32 root of the thrust curve at m g / 4, and
  // case 0 holds exactly the hover action.
  EXPECT_EQ(m_.hover_motor, cases_[0][0].s.u[0]);
  EXPECT_EQ(m_.hover_action, cases_[0][1].a[0]);
}

TEST_F(L2FReference, OneStepTransitions) {
  Err worst;
  long rows = 0, exact = 0;
  for (auto &c : cases_) {
    const auto &r = c.second;
    for (size_t k = 1; k < r.size(); ++k) {
      sf_quad_state s = r[k - 1].s;
      sf_quad_step(&m_, &s, r[k].a);
      Err e;
      accumulate(s, r[k].s, &e);
      for (int g = 0; g < 5; ++g) {
        EXPECT_LE(e.g[g], 2e-6) << "case " << c.first << " step " << r[k].step << " " << kGroup[g];
        worst.g[g] = std::fmax(worst.g[g], e.g[g]);
      }
      ++rows;
      exact += bit_equal(s, r[k].s);
    }
  }
  printf("one-step: %ld transitions, %ld bit-exact; worst relative error p %.3g q %.3g v %.3g w %.3g u %.3g\n", rows,
         exact, worst.g[0], worst.g[1], worst.g[2], worst.g[3], worst.g[4]);
}

TEST_F(L2FReference, FreeRunningRollouts) {
  Err worst;
  long rows = 0, exact = 0;
  int whole = 0;  // rollouts bit-exact through all 200 steps, termination or not
  for (auto &c : cases_) {
    const auto &r = c.second;
    sf_quad_state s = r[0].s;
    bool compared = true, same = true;
    for (size_t k = 1; k < r.size(); ++k) {
      sf_quad_step(&m_, &s, r[k].a);
      same = same && bit_equal(s, r[k].s);
      if (!compared) continue;
      Err e;
      accumulate(s, r[k].s, &e);
      for (int g = 0; g < 5; ++g) {
        double tol = g == 3 ? 1e-3 : 1e-4;
        EXPECT_LE(e.g[g], tol) << "case " << c.first << " step " << r[k].step << " " << kGroup[g];
        worst.g[g] = std::fmax(worst.g[g], e.g[g]);
      }
      ++rows;
      exact += bit_equal(s, r[k].s);
      if (r[k].term) compared = false;  // compared up to and including the first termination row
    }
    whole += same;
  }
  printf("free-running: %ld rows compared, %ld bit-exact; worst error p %.3g q %.3g v %.3g w %.3g u %.3g\n", rows,
         exact, worst.g[0], worst.g[1], worst.g[2], worst.g[3], worst.g[4]);
  printf("free-running: %d of %zu rollouts bit-exact through all 200 steps\n", whole, cases_.size());
}

}  // namespace
