// The trainer's pieces on tiny problems: BC, the critic's TD fit, the actor's
// gradient through the critic, sweeps, and re-evaluating a run directory.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

extern "C" {
#include "core/sf_philox.h"
#include "core/sf_safetensors.h"
#include "rl/sf_dataset.h"
#include "rl/sf_evaluate.h"
#include "cli/sf_train_loop.h"
#include "rl/sf_trainer.h"
int sf_cmd_train(int argc, char **argv);
}

#include "tests/trainer_test_util.h"

namespace {

// Episodes of length L; observations from Philox; the action a function of
// the observation; reward 1 per step; the last step terminates. priv[0]
// holds the steps left, so the return-to-go is a function of the input.
std::string write_dataset(const char *name, int episodes, int L, uint64_t seed, bool priv_time_only = false) {
  sf_dataset ds;
  sf_dataset_init(&ds);
  std::vector<float> obs((L + 1) * 18), priv((L + 1) * 146, 0.0f), act(L * 4), rew(L, 1.0f);
  std::vector<uint8_t> fl(L, SF_ROW_GUIDE);
  fl[L - 1] |= SF_ROW_TERMINATED;
  for (int e = 0; e < episodes; ++e) {
    for (int t = 0; t <= L; ++t) {
      for (int k = 0; k < 18; k += 4) {
        float z[4];
        sf_normal4(sf_rng_bits(seed, (uint32_t)e, (uint32_t)t, 99, (uint32_t)k), z);
        for (int j = 0; j < 4 && k + j < 18; ++j) obs[t * 18 + k + j] = 0.5f * z[j];
      }
      for (int k = 0; k < 18; ++k) priv[t * 146 + k] = priv_time_only ? 0.0f : obs[t * 18 + k];
      priv[t * 146 + 0] = (float)(L - t) / L;
      if (t < L)
        for (int j = 0; j < 4; ++j) act[t * 4 + j] = 0.8f * std::tanh(obs[t * 18 + 3 + j] + 0.5f * obs[t * 18 + j]);
    }
    EXPECT_EQ(sf_dataset_add(&ds, L, obs.data(), priv.data(), act.data(), rew.data(), fl.data()), 0);
  }
  std::string path = std::string("/tmp/sf_test_") + name + ".safetensors";
  char err[256];
  EXPECT_EQ(sf_dataset_write(&ds, path.c_str(), nullptr, err, sizeof err), 0) << err;
  sf_dataset_free(&ds);
  return path;
}

double bc_loss(sf_trainer *t) {
  sf_update_stats st[8];
  EXPECT_EQ(update_once(t, st), 0);
  return st[0].actor_loss;
}

TEST(Trainer, BcLossFallsTenfoldMlp) {
  std::string ds = write_dataset("bc_mlp", 40, 30, 1);
  Built b;
  b.t = build({{"train.algo", "bc"}, {"train.dataset", ds}, {"train.actor", "mlp"}, {"train.hidden", "64,64"},
               {"train.seq_len", "1"}, {"train.warmup", "0"}, {"train.stride", "1"}, {"train.batch", "128"},
               {"train.buffer", "10000"}});
  ASSERT_NE(b.t, nullptr);
  double first = bc_loss(b.t), last = 0;
  for (int i = 0; i < 1500; ++i) last = bc_loss(b.t);
  EXPECT_LT(last, first / 10) << "first " << first << " last " << last;
}

TEST(Trainer, BcLossFallsTenfoldSnn) {
  std::string ds = write_dataset("bc_snn", 40, 40, 2);
  Built b;
  b.t = build({{"train.algo", "bc"}, {"train.dataset", ds}, {"train.hidden", "64,32"}, {"train.seq_len", "20"},
               {"train.warmup", "5"}, {"train.stride", "5"}, {"train.batch", "32"}, {"train.buffer", "10000"},
               {"model.slope", "5"}});
  ASSERT_NE(b.t, nullptr);
  double first = bc_loss(b.t), last = 0;
  for (int i = 0; i < 1000; ++i) last = bc_loss(b.t);
  EXPECT_LT(last, first / 10) << "first " << first << " last " << last;
}

TEST(Trainer, CriticFitsTheDiscountedReturn) {
  const int L = 10;
  const float gamma = 0.9f;
  std::string ds = write_dataset("critic", 30, L, 3, true);
  Built b;
  b.t = build({{"train.algo", "td3bc"}, {"train.dataset", ds}, {"train.actor", "mlp"}, {"train.hidden", "16,16"},
               {"train.seq_len", "1"}, {"train.warmup", "0"}, {"train.stride", "1"}, {"train.batch", "32"},
               {"train.buffer", "10000"}, {"train.gamma", "0.9"}, {"train.actor_lr", "0"}, {"train.tau", "0.05"}});
  ASSERT_NE(b.t, nullptr);
  sf_update_stats st[1];
  for (int i = 0; i < 1500; ++i) ASSERT_EQ(update_once(b.t, st), 0);
  // Q on one sampled batch against the true return-to-go of each row.
  sf_replay_sample(b.t->rb, 0, 1, 0, 77, 12345, b.t->views[0]);
  const int B = b.t->s.batch;
  std::vector<float> q(B);
  sf_mlp_forward(b.t->critic.q[0], B, b.t->batch.priv, 146, b.t->batch.act, q.data());
  double worst = 0, mean = 0;
  for (int j = 0; j < B; ++j) {
    int left = (int)std::lround(b.t->batch.priv[j * 146] * L);
    double truth = (1.0 - std::pow(gamma, left)) / (1.0 - gamma);
    double e = std::fabs(q[j] - truth) / truth;
    worst = std::max(worst, e);
    mean += e / B;
  }
  EXPECT_LT(mean, 0.05) << "mean relative error of Q against the discounted return";
  EXPECT_LT(worst, 0.15) << "worst relative error of Q against the discounted return";
}

TEST(Trainer, ActorFollowsTheCriticsActionGradient) {
  // BC off: the only thing that can move the actor is dQ/d(action). Feeding
  // Q the buffer's action would leave the actor untouched.
  std::string ds = write_dataset("actor", 20, 30, 4);
  Built b;
  b.t = build({{"train.algo", "td3bc"}, {"train.dataset", ds}, {"train.hidden", "32,16"}, {"train.seq_len", "20"},
               {"train.warmup", "5"}, {"train.stride", "5"}, {"train.batch", "16"}, {"train.buffer", "10000"},
               {"train.bc", "false"}, {"train.policy_delay", "1"}, {"train.actor_lr", "1e-3"}, {"model.slope", "5"}});
  ASSERT_NE(b.t, nullptr);
  sf_update_stats st[1];
  for (int i = 0; i < 50; ++i) ASSERT_EQ(update_once(b.t, st), 0);
  sf_trainer *t = b.t;
  const int T = t->s.seq_len, B = t->s.batch;
  const long rows = (long)T * B;
  auto mean_q = [&]() {
    sf_replay_sample(t->rb, 0, t->s.stride, t->s.warmup, 5, 999, t->views[0]);
    std::vector<float> x((size_t)(T + 1) * B * 18), pi(rows * 4), q(rows);
    sf_actor_make_input(SF_INPUT_OBS, rows, t->batch.obs, nullptr, x.data());
    sf_actor_forward(t->actor, T, B, x.data(), pi.data());
    sf_mlp_forward(t->critic.q[0], rows, t->batch.priv, 146, pi.data(), q.data());
    double s = 0, n = 0;
    for (long r = (long)t->s.warmup * B; r < rows; ++r) s += q[r] * t->batch.mask[r], n += t->batch.mask[r];
    return s / n;
  };
  std::vector<float> before(t->actor->params->data, t->actor->params->data + t->actor->params->n);
  double q0 = mean_q();
  // Actor steps only: freeze the critic so Q itself does not move.
  t->agent[0].critic_lr = 0.0f;
  for (int i = 0; i < 20; ++i) ASSERT_EQ(update_once(t, st), 0);
  double q1 = mean_q();
  double moved = 0;
  for (long i = 0; i < t->actor->params->n; ++i) moved += std::fabs(t->actor->params->data[i] - before[i]);
  EXPECT_GT(moved, 0.0) << "the actor's parameters did not move";
  EXPECT_GT(q1, q0) << "the actor's updates did not raise Q(s, pi(s))";
}

TEST(Trainer, SweepEqualsAgentsRunOneByOne) {
  KV base = {{"train.algo", "td3"},       {"train.envs", "4"},   {"train.collect_steps", "60"},
             {"train.hidden", "16,8"},    {"train.seq_len", "20"}, {"train.warmup", "5"},
             {"train.stride", "5"},       {"train.batch", "8"},  {"train.buffer", "5000"},
             {"train.eval_episodes", "3"}};
  std::vector<KV> agents = {{{"seed", "3"}, {"model.slope", "2"}}, {{"seed", "7"}, {"model.slope", "25"}}};
  auto run = [&](std::vector<KV> who, std::vector<std::vector<float>> &params, std::vector<double> &ret) {
    Built b;
    b.t = build(base, who);
    ASSERT_NE(b.t, nullptr);
    sf_update_stats st[2];
    for (int e = 0; e < 2; ++e) {
      Plan plan(b.t, e);
      ASSERT_EQ(sf_trainer_collect(b.t, plan.get()), 0);
      for (int u = 0; u < 4; ++u) ASSERT_GE(sf_trainer_update(b.t, plan.get(), st), 0);
      b.t->epoch++;
    }
    sf_eval_stats ev[2];
    Plan last(b.t, 1);
    ASSERT_EQ(sf_trainer_evaluate(b.t, last.get(), ev), 0);
    const sf_params *ps = b.t->actor->params;
    for (int p = 0; p < b.t->P; ++p) {
      params.emplace_back(ps->data + (size_t)p * ps->n, ps->data + (size_t)(p + 1) * ps->n);
      ret.push_back(ev[p].ret_final);
    }
  };
  std::vector<std::vector<float>> together, alone;
  std::vector<double> r_together, r_alone;
  run(agents, together, r_together);
  run({agents[0]}, alone, r_alone);
  run({agents[1]}, alone, r_alone);
  ASSERT_EQ(together.size(), 2u);
  ASSERT_EQ(alone.size(), 2u);
  for (int p = 0; p < 2; ++p) {
    double worst = 0;
    for (size_t i = 0; i < together[p].size(); ++i) worst = std::max(worst, (double)std::fabs(together[p][i] - alone[p][i]));
    EXPECT_EQ(worst, 0.0) << "agent " << p << " differs from its run alone";
    EXPECT_EQ(r_together[p], r_alone[p]);
  }
  EXPECT_NE(together[0], together[1]) << "agents with different seeds trained identically";
}

TEST(Trainer, RunDirectoryIsReevaluatedFromItsCheckpoint) {
  std::string dir = "/tmp/sf_test_rundir";
  std::string ds = write_dataset("rundir", 10, 30, 5);
  const char *argv[] = {"train", "--algo", "bc", "--dataset", ds.c_str(), "--epochs", "2", "--out", dir.c_str(),
                        "--overwrite", "train.updates=5", "train.batch=8", "train.seq_len=20", "train.warmup=5",
                        "train.stride=5", "train.hidden=16,8", "train.eval_every=1", "train.eval_episodes=4",
                        "train.buffer=5000", "seed=11"};
  ASSERT_EQ(sf_cmd_train((int)(sizeof argv / sizeof argv[0]), (char **)argv), 0);
  // The last evaluation's return from progress.csv.
  auto rows = read_records(dir);
  ASSERT_FALSE(rows.empty());
  double logged = rows.back().return_final;
  char err[512];
  uint64_t seed = 0;
  sf_actor *a = sf_actor_load((dir + "/checkpoint.safetensors").c_str(), 0, &seed, err, sizeof err);
  ASSERT_NE(a, nullptr) << err;
  EXPECT_EQ(seed, 11u);
  sf_config *cfg = sf_cfg_new();
  sf_env_model m;
  sf_env_model_from_config(cfg, &m);
  sf_cfg_free(cfg);
  sf_eval_stats st;
  ASSERT_EQ(sf_evaluate(a, &m, &seed, 4, 1.0f, 50, &st, nullptr, 0, 0), 0);
  EXPECT_NEAR(st.ret_final, logged, 1e-4 * std::max(1.0, std::fabs(logged)));
  sf_actor_free(a);
  // A damaged checkpoint is refused with a message.
  std::string bad = dir + "/bad.safetensors";
  {
    std::ifstream in(dir + "/checkpoint.safetensors", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    bytes[bytes.size() / 2] ^= 0x5a;
    std::ofstream(bad, std::ios::binary) << bytes;
  }
  EXPECT_EQ(sf_actor_load(bad.c_str(), 0, nullptr, err, sizeof err), nullptr);
  EXPECT_NE(std::string(err).find("bad.safetensors"), std::string::npos) << err;
}

}  // namespace

namespace {
// With train.bc_target = guide every stored step carries the guide's action
// in that state as its BC label, whoever flew it: where the guide flew it is
// the action taken, where the SNN flew it is the guide's answer to the state
// the SNN reached (recomputed here from the stored privileged observation).
TEST(Trainer, GuideLabelsEveryStoredStep) {
  sf_actor_config gc = sf_guide_actor_config();
  sf_actor *guide = sf_actor_new(&gc, 1, 4096);
  ASSERT_NE(guide, nullptr);
  uint64_t gseed = 11;
  sf_actor_init(guide, &gseed);
  const std::string gpath = "/tmp/sf_test_guide_labels.safetensors";
  {
    sf_st_writer *w = sf_st_writer_new();
    const sf_params *ps = guide->params;
    for (int i = 0; i < ps->count; ++i) {
      const sf_param *tp = &ps->t[i];
      int64_t shape[3] = {1, tp->shape[0], tp->shape[1]};
      sf_st_add(w, tp->name, SF_ST_F32, 1 + tp->ndim, shape, sf_param_at(tp, 0));
    }
    char err[256];
    ASSERT_EQ(sf_st_write(w, gpath.c_str(), err, sizeof err), 0) << err;
    sf_st_writer_free(w);
  }
  Built b;
  b.t = build({{"train.envs", "4"}, {"train.collect_steps", "80"}, {"train.hidden", "16,8"},
               {"train.seq_len", "20"}, {"train.warmup", "5"}, {"train.stride", "5"}, {"train.batch", "64"},
               {"train.buffer", "5000"}, {"train.guide", gpath}, {"train.bc_target", "guide"},
               {"train.h_start", "10"}, {"train.h_end", "10"}, {"env.time_limit", "30"}});
  ASSERT_NE(b.t, nullptr);
  Plan plan(b.t);
  ASSERT_EQ(sf_trainer_collect(b.t, plan.get()), 0);
  sf_seq_batch *v = b.t->views[0];
  ASSERT_EQ(sf_replay_sample(b.t->rb, 0, 5, 5, 1, 0, v), 0);
  const int T = v->T, B = v->B;
  std::vector<float> label((size_t)T * B * 4);
  ASSERT_EQ(sf_actor_step(guide, nullptr, T * B, v->priv, label.data()), 0);  // rows 0..T-1
  long guided = 0, flown = 0, differ = 0;
  for (long o = 0; o < (long)T * B; ++o) {
    if (v->mask[o] == 0.0f) continue;
    bool g = v->guide[o] != 0.0f;
    (g ? guided : flown)++;
    for (int j = 0; j < 4; ++j) {
      // (the same network on a different number of rows: BLAS may round differently)
      EXPECT_NEAR(v->expert[o * 4 + j], label[o * 4 + j], 1e-5) << "row " << o;
      if (g) {
        EXPECT_EQ(v->act[o * 4 + j], v->expert[o * 4 + j]);
      } else {
        differ += v->act[o * 4 + j] != v->expert[o * 4 + j];
      }
    }
  }
  EXPECT_GT(guided, 0);
  EXPECT_GT(flown, 0);
  EXPECT_GT(differ, flown) << "the SNN's own actions were stored as the guide's labels";
  sf_actor_free(guide);
  std::remove(gpath.c_str());
}

TEST(Trainer, NonFiniteParametersAreNamed) {
  std::string ds = write_dataset("finite", 5, 30, 6);
  Built b;
  b.t = build({{"train.algo", "td3bc"}, {"train.dataset", ds}, {"train.hidden", "16,8"}, {"train.seq_len", "20"},
               {"train.warmup", "5"}, {"train.stride", "5"}, {"train.batch", "4"}, {"train.buffer", "5000"}},
              {KV{{"seed", "1"}}, KV{{"seed", "2"}}});
  ASSERT_NE(b.t, nullptr);
  char buf[160];
  EXPECT_EQ(sf_trainer_check_finite(b.t, buf, sizeof buf), nullptr);
  sf_params *ps = &b.t->critic.q[1]->params;
  sf_param_at(&ps->t[2], 1)[3] = NAN;
  ASSERT_NE(sf_trainer_check_finite(b.t, buf, sizeof buf), nullptr);
  EXPECT_STREQ(buf, (std::string(ps->t[2].name) + " (agent 1)").c_str());
}
}  // namespace
