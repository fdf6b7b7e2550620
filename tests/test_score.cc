// The episode scorer (sim/sf_score.h): statistics of hand-made episodes,
// the per-step update's windows on a real flight, and the same figures from
// `fly`'s, `eval`'s and export's flights of one policy.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

extern "C" {
#include "core/sf_config.h"
#include "export/sf_flight.h"
#include "export/sf_snn_net.h"
#include "rl/sf_actor.h"
#include "rl/sf_evaluate.h"
#include "sim/sf_eval.h"
#include "sim/sf_score.h"
}

namespace {

sf_score_episode episode(double ret_f, double ret_c, int len, int survived, double err_hold, long n_hold,
                         double err_track, long n_track) {
  sf_score_episode e;
  std::memset(&e, 0, sizeof e);
  e.ret_f = ret_f, e.ret_c = ret_c, e.len = len, e.done = 1, e.survived = survived;
  e.err_hold = err_hold, e.n_hold = n_hold, e.err_track = err_track, e.n_track = n_track;
  return e;
}

// Equal to the last bit, NaN equal to NaN.
void expect_same(double a, double b, const char *what) {
  if (std::isnan(a) || std::isnan(b))
    EXPECT_TRUE(std::isnan(a) && std::isnan(b)) << what << ": " << a << " vs " << b;
  else
    EXPECT_EQ(a, b) << what;
}

// The default model, read from an empty configuration.
class Score : public ::testing::Test {
 protected:
  void SetUp() override {
    sf_config *cfg = sf_cfg_new();
    ASSERT_EQ(sf_env_model_from_config(cfg, &m), 0);
    sf_cfg_free(cfg);
  }
  sf_env_model m;
};

}  // namespace

TEST_F(Score, StatisticsOfHandMadeEpisodes) {
  // Agent 0: one survivor (mean hover error 0.5 / 100, tracking 4 / 400) and
  // one crash after 30 steps, whose errors must not count. Agent 1: two
  // crashes, one of them lasting the 50-step warm-up.
  const sf_score_episode acc[4] = {
      episode(10.0, 8.0, 500, 1, 0.5, 100, 4.0, 400), episode(-2.0, -1.0, 30, 0, 9.0, 10, 9.0, 10),
      episode(1.0, 2.0, 50, 0, 0.0, 0, 0.0, 0), episode(3.0, 4.0, 20, 0, 0.0, 0, 0.0, 0)};
  // ret_final, ret_current, survival, survive_warmup, mean_len, hover_err, track_err
  const sf_eval_stats want[2] = {{4.0, 3.5, 0.5, 0.5, 265.0, 0.005, 0.01}, {2.0, 3.0, 0.0, 0.5, 35.0, NAN, NAN}};
  sf_eval_stats st[2];
  sf_eval_finish(acc, 2, 2, 50, st);
  for (int p = 0; p < 2; ++p) {
    SCOPED_TRACE(p);
    expect_same(st[p].ret_final, want[p].ret_final, "return, final coefficients");
    expect_same(st[p].ret_current, want[p].ret_current, "return, current coefficients");
    expect_same(st[p].survival, want[p].survival, "survival");
    expect_same(st[p].survive_warmup, want[p].survive_warmup, "survival of the warm-up");
    expect_same(st[p].mean_len, want[p].mean_len, "length");
    expect_same(st[p].hover_err, want[p].hover_err, "hover error");
    expect_same(st[p].track_err, want[p].track_err, "tracking error");
  }
  // Sums added in batches give the figures of one batch.
  sf_score_sums sum;
  std::memset(&sum, 0, sizeof sum);
  sf_score_add(&sum, acc, 1, 50);
  sf_score_add(&sum, acc + 1, 1, 50);
  sf_eval_stats batched;
  sf_score_stats(&sum, &batched);
  EXPECT_EQ(std::memcmp(&batched, &st[0], sizeof batched), 0);
  EXPECT_EQ(sum.episodes, 2);
  EXPECT_EQ(sum.survived, 1);
}

TEST_F(Score, StepCountsTheLastAndAfterTheFirstSecond) {
  m.task.time_limit = 150;  // 1.5 s: the last second is steps 51..150, after the first 101..150
  m.task.reset_hover_prob = 1.0f;
  for (int g = 0; g < SF_OBS_NGROUPS; ++g) m.task.obs_sigma[g] = 0.0f;
  const sf_score_spec sp = sf_score_spec_of(&m);
  EXPECT_EQ(sp.hold_from, 50);
  EXPECT_EQ(sp.track_from, 100);
  uint64_t seed = 5;
  sf_env_data *d = sf_env_data_new(1, 2, &seed);
  ASSERT_NE(d, nullptr);
  d->progress[0] = 1.0f;
  sf_env_reset_all(&m, d);
  std::vector<float> act(2 * SF_ACT_DIM, m.quad.hover_action);
  float rew[2];
  uint8_t term[2], trunc[2];
  sf_score_episode e[2];
  std::memset(e, 0, sizeof e);
  sf_quad_state s;
  float tp[3], tv[3];
  for (int k = 0; k < m.task.time_limit; ++k) {
    sf_env_step(&m, d, act.data(), rew, term, trunc);
    ASSERT_EQ(term[0], 0);
    EXPECT_EQ(sf_score_step(&e[0], &sp, &m, d, 0, k, act.data(), rew[0], term[0], trunc[0], &s, tp, tv), 1);
    // Env 1 is declared crashed at its 10th step and scored no further.
    EXPECT_EQ(sf_score_step(&e[1], &sp, &m, d, 1, k, act.data() + SF_ACT_DIM, rew[1], k == 9, 0, &s, tp, tv), k < 10);
  }
  EXPECT_EQ(e[0].len, 150);
  EXPECT_TRUE(e[0].done && e[0].survived);
  EXPECT_EQ(e[0].n_hold, 100);
  EXPECT_EQ(e[0].n_track, 50);
  EXPECT_LT(e[0].err_hold / e[0].n_hold, 1e-3);
  EXPECT_DOUBLE_EQ(e[0].ret_f, e[0].ret_c);  // progress 1: the final coefficients are the current ones
  EXPECT_GT(e[0].ret_c, 140.0);
  EXPECT_EQ(e[1].len, 10);
  EXPECT_TRUE(e[1].done && !e[1].survived);
  EXPECT_EQ(e[1].n_hold, 0);
  sf_env_data_free(d);
}

namespace {

// `fly`'s policy callbacks over the policies `eval` and export fly.
struct actor_policy {
  sf_actor *a;
  sf_actor_state st;
  std::vector<float> x;
};

void fly_actor(void *ctx, const sf_env_model *, const sf_env_data *d, const float *obs, float *act) {
  auto *p = static_cast<actor_policy *>(ctx);
  sf_actor_make_input(p->a->cfg.input, d->n, obs, nullptr, p->x.data());
  ASSERT_EQ(sf_actor_step(p->a, &p->st, d->N, p->x.data(), act), 0);
}

struct net_policy {
  const sf_snn_net *net;
  std::vector<sf_snn_ref_state> st;
};

void fly_net(void *ctx, const sf_env_model *, const sf_env_data *d, const float *obs, float *act) {
  auto *p = static_cast<net_policy *>(ctx);
  for (long i = 0; i < d->n; ++i) sf_snn_ref_step(p->net, &p->st[i], obs + i * SF_OBS_DIM, act + i * SF_ACT_DIM);
}

sf_eval_result fly(const sf_env_model &m, sf_policy_fn policy, void *ctx, int episodes, uint64_t seed) {
  sf_eval_opts o = {};
  o.envs = o.episodes = episodes;
  o.seed = seed;
  o.progress = 1.0f;
  sf_eval_result r;
  EXPECT_EQ(sf_eval_run(&m, policy, ctx, &o, &r), 0);
  return r;
}

}  // namespace

TEST_F(Score, FlyAndEvalScoreAnActorAlike) {
  m.task.time_limit = 40;  // some random-network flights survive it
  const int N = 24;
  sf_actor_config cfg = sf_actor_default(SF_ACTOR_SNN, SF_INPUT_OBS);
  actor_policy p;
  p.a = sf_actor_new(&cfg, 1, N);
  ASSERT_NE(p.a, nullptr);
  uint64_t seed = 3;
  sf_actor_init(p.a, &seed);
  sf_eval_stats ev;
  ASSERT_EQ(sf_evaluate(p.a, &m, &seed, N, 1.0f, 50, &ev, nullptr, 0, 0), 0);
  ASSERT_EQ(sf_actor_state_init(&p.st, p.a, N), 0);
  sf_actor_state_reset_all(&p.st);
  p.x.resize((size_t)N * p.a->in_dim);
  const sf_eval_result r = fly(m, fly_actor, &p, N, sf_eval_seed(seed));
  expect_same(r.mean_return, ev.ret_current, "return");
  expect_same(r.mean_length, ev.mean_len, "length");
  expect_same((double)r.survived / r.episodes, ev.survival, "survival");
  expect_same(r.hover_error, ev.hover_err, "hover error");
  expect_same(r.tracking_error, ev.track_err, "tracking error");
  EXPECT_GT(ev.survival, 0.0);
  EXPECT_LT(ev.survival, 1.0);
  sf_actor_state_free(&p.st);
  sf_actor_free(p.a);
}

TEST_F(Score, FlyAndExportScoreANetworkAlike) {
  const int N = 16;
  const uint64_t seed = 21;
  sf_snn_net net;
  ASSERT_EQ(sf_snn_net_alloc(&net, SF_OBS_DIM, 64, 32, SF_ACT_DIM), 0);
  sf_snn_net_init_seeded(&net, 4, 1.0f);
  std::vector<double> ret(N);
  std::vector<int> len(N);
  ASSERT_EQ(sf_flight_run(&m, SF_POLICY_REFERENCE, &net, nullptr, N, seed, ret.data(), len.data(), nullptr), 0);
  net_policy p{&net, std::vector<sf_snn_ref_state>(N)};
  for (auto &s : p.st) {
    ASSERT_EQ(sf_snn_ref_alloc(&s, &net), 0);
    sf_snn_ref_reset(&s, &net);
  }
  const sf_eval_result r = fly(m, fly_net, &p, N, seed);
  double sum_ret = 0, sum_len = 0;
  for (int e = 0; e < N; ++e) sum_ret += ret[e], sum_len += len[e];
  expect_same(r.mean_return, sum_ret / N, "return");
  expect_same(r.mean_length, sum_len / N, "length");
  for (auto &s : p.st) sf_snn_ref_free(&s);
  sf_snn_net_free(&net);
}
