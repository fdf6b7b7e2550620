// Frame-stack mode of the spiking actor (rl/sf_actor.h): the SNN starts from
// rest at every control step, sees the last F inputs side by side for S
// sub-steps and acts on tanh of its mean readout.
//
//   - streaming (rollouts, eval) gives the bits of a sequence call that
//     starts at the episode's first step, also for an env reset mid-way;
//   - the stack holds exactly the last F inputs, oldest first, the first
//     input of an episode filling the older slots (checked against the plain
//     SNN run by hand on stacks built here);
//   - one frame and one sub-step is the plain SNN from rest;
//   - the backward matches finite differences of the actor's loss (smooth
//     spikes, exact reset, so the gradient is the true one);
//   - 1 and 2 threads give the same bits (the stacking loops are per row);
//   - descriptions round-trip and bad ones are refused; training refuses
//     settings the mode cannot honour, and export refuses the actor.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "core/sf_philox.h"
#include "models/sf_lif_math.h"
#include "rl/sf_actor.h"
#include "sim/sf_env_math.h"

namespace {

const int IN = SF_OBS_DIM, A = SF_ACT_DIM;

std::vector<float> uniform(size_t n, uint64_t seed, float lo, float hi) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = sf_uniform(sf_rng_bits(seed, 3, 0, 0, (uint32_t)i).v[0], lo, hi);
  return v;
}

bool same_bits(const float *a, const float *b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

sf_actor *stack_actor(int P, int frames, int substeps, long rows, std::vector<int> hidden = {32, 16}) {
  sf_actor_config c = sf_actor_default(SF_ACTOR_SNN, SF_INPUT_OBS);
  c.nhidden = (int)hidden.size();
  for (size_t i = 0; i < hidden.size(); ++i) c.hidden[i] = hidden[i];
  c.frames = frames;
  c.substeps = substeps;
  sf_actor *a = sf_actor_new(&c, P, rows);
  std::vector<uint64_t> seeds;
  for (int p = 0; p < P; ++p) seeds.push_back(40 + p);
  if (a) sf_actor_init(a, seeds.data());
  // Thresholds of 0.2 (beta as drawn) make the small random inputs spike.
  for (int p = 0; a && p < P; ++p)
    for (int i = 0; i < a->params->count; ++i)
      if (strstr(a->params->t[i].name, "threshold"))
        for (long e = 0; e < a->params->t[i].size; ++e) sf_param_at(&a->params->t[i], p)[e] = 0.2f;
  return a;
}

// x [P][T][B][IN] -> streamed actions [P][T][B][A]; env `reset_env` starts a
// new episode at step `reset_at` (-1: none).
std::vector<float> stream(sf_actor *a, int T, int B, const std::vector<float> &x, int reset_env, int reset_at) {
  const int P = a->P;
  sf_actor_state st;
  EXPECT_EQ(sf_actor_state_init(&st, a, B), 0);
  std::vector<float> xt((size_t)P * B * IN), yt((size_t)P * B * A), y((size_t)P * T * B * A);
  for (int t = 0; t < T; ++t) {
    if (t == reset_at)
      for (int p = 0; p < P; ++p) sf_actor_state_reset(&st, p, reset_env);
    for (int p = 0; p < P; ++p)
      std::memcpy(&xt[(size_t)p * B * IN], &x[((size_t)p * T + t) * B * IN], sizeof(float) * B * IN);
    EXPECT_EQ(sf_actor_step(a, &st, B, xt.data(), yt.data()), 0);
    for (int p = 0; p < P; ++p)
      std::memcpy(&y[((size_t)p * T + t) * B * A], &yt[(size_t)p * B * A], sizeof(float) * B * A);
  }
  sf_actor_state_free(&st);
  return y;
}

TEST(FrameStack, StreamingEqualsSequenceFromTheEpisodeStart) {
  const int P = 2, T = 9, B = 3, F = 3, S = 4, R = 5;  // env 1 starts again at step R
  sf_actor *a = stack_actor(P, F, S, (long)T * B);
  ASSERT_NE(a, nullptr);
  std::vector<float> x = uniform((size_t)P * T * B * IN, 5, -1.5f, 1.5f);
  std::vector<float> ystr = stream(a, T, B, x, 1, R), yseq((size_t)P * T * B * A);
  ASSERT_EQ(sf_actor_forward(a, T, B, x.data(), yseq.data()), 0);
  int spiking = 0;
  for (int p = 0; p < P; ++p)
    for (int t = 0; t < T; ++t)
      for (int b = 0; b < B; ++b) {
        if (b == 1 && t >= R) continue;
        size_t o = (((size_t)p * T + t) * B + b) * A;
        EXPECT_TRUE(same_bits(&ystr[o], &yseq[o], A)) << "p " << p << " t " << t << " b " << b;
        spiking += std::fabs(yseq[o]) > 0.0f;
      }
  EXPECT_GT(spiking, 0);
  // Env 1 after its reset: a sequence that starts at step R.
  const int T2 = T - R;
  std::vector<float> x2((size_t)P * T2 * B * IN), y2((size_t)P * T2 * B * A);
  for (int p = 0; p < P; ++p)
    std::memcpy(&x2[(size_t)p * T2 * B * IN], &x[((size_t)p * T + R) * B * IN], sizeof(float) * T2 * B * IN);
  ASSERT_EQ(sf_actor_forward(a, T2, B, x2.data(), y2.data()), 0);
  for (int p = 0; p < P; ++p)
    for (int t = 0; t < T2; ++t) {
      size_t os = (((size_t)p * T + R + t) * B + 1) * A, oq = (((size_t)p * T2 + t) * B + 1) * A;
      EXPECT_TRUE(same_bits(&ystr[os], &y2[oq], A)) << "after the reset: p " << p << " t " << t;
    }
  sf_actor_free(a);
}

// The plain SNN (input F * 18, no tanh) with the actor's parameters, run by
// hand for S steps on stacks built here, oldest frame first.
TEST(FrameStack, StackHoldsTheLastFramesOldestFirst) {
  const int T = 6, B = 2, F = 3, S = 2;
  sf_actor *a = stack_actor(1, F, S, (long)T * B);
  ASSERT_NE(a, nullptr);
  sf_snn_config sc = a->snn->cfg;
  sf_snn *plain = sf_snn_new(&sc, 1, (long)S * B);
  ASSERT_NE(plain, nullptr);
  sf_params_copy(&plain->params, a->params);
  std::vector<float> x = uniform((size_t)T * B * IN, 6, -1.5f, 1.5f);
  std::vector<float> ystr = stream(a, T, B, x, -1, -1);
  std::vector<float> xs((size_t)S * B * F * IN), ys((size_t)S * B * A);
  for (int t = 0; t < T; ++t) {
    for (int s = 0; s < S; ++s)
      for (int b = 0; b < B; ++b)
        for (int f = 0; f < F; ++f) {
          int tt = t - (F - 1) + f;
          if (tt < 0) tt = 0;  // the episode's first observation fills the older slots
          std::memcpy(&xs[(((size_t)s * B + b) * F + f) * IN], &x[((size_t)tt * B + b) * IN], sizeof(float) * IN);
        }
    ASSERT_EQ(sf_snn_forward(plain, S, B, xs.data(), ys.data()), 0);
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < A; ++j) {
        float sum = 0.0f;
        for (int s = 0; s < S; ++s) sum += ys[((size_t)s * B + b) * A + j];
        float want = sf_tanh(sum / (float)S);
        EXPECT_EQ(std::memcmp(&want, &ystr[(((size_t)t * B + b) * A) + j], sizeof want), 0)
            << "t " << t << " b " << b << " j " << j << ": " << want << " vs " << ystr[((size_t)t * B + b) * A + j];
      }
  }
  sf_snn_free(plain);
  sf_actor_free(a);
}

TEST(FrameStack, OneFrameOneSubstepIsTheSnnFromRest) {
  const int T = 5, B = 4;
  sf_actor *a = stack_actor(1, 1, 1, (long)T * B);
  sf_actor_config pc = a->cfg;
  pc.frames = 0;
  sf_actor *plain = sf_actor_new(&pc, 1, B);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(plain, nullptr);
  sf_params_copy(plain->params, a->params);
  std::vector<float> x = uniform((size_t)T * B * IN, 7, -1.5f, 1.5f);
  std::vector<float> ystr = stream(a, T, B, x, -1, -1), y1((size_t)B * A);
  for (int t = 0; t < T; ++t) {
    ASSERT_EQ(sf_actor_forward(plain, 1, B, &x[(size_t)t * B * IN], y1.data()), 0);
    EXPECT_TRUE(same_bits(y1.data(), &ystr[(size_t)t * B * A], (size_t)B * A)) << "t " << t;
  }
  sf_actor_free(plain);
  sf_actor_free(a);
}

// L = sum c * y over the steps from `warmup` on; smooth spikes and the exact
// reset make the surrogate gradient the true one.
double stack_loss(sf_actor *a, int T, int B, const std::vector<float> &x, const std::vector<float> &c) {
  std::vector<float> y((size_t)T * B * A);
  EXPECT_EQ(sf_actor_forward(a, T, B, x.data(), y.data()), 0);
  double l = 0;
  for (size_t i = 0; i < y.size(); ++i) l += (double)c[i] * y[i];
  return l;
}

TEST(FrameStack, BackwardMatchesFiniteDifferences) {
  const int T = 4, B = 2, F = 2, S = 3, W = 1;
  sf_actor *a = stack_actor(1, F, S, (long)T * B, {12, 8});
  ASSERT_NE(a, nullptr);
  a->snn->cfg.mode = SF_SPIKE_SIGMOID;
  a->snn->cfg.detach_reset = 0;
  sf_actor_set_slope(a, 0, 2.0f);
  std::vector<float> x = uniform((size_t)T * B * IN, 8, -1.0f, 1.0f), c = uniform((size_t)T * B * A, 9, -1.0f, 1.0f);
  for (int r = 0; r < W * B * A; ++r) c[r] = 0.0f;  // the warm-up carries no loss, as the trainer's dy
  std::vector<float> y((size_t)T * B * A);
  ASSERT_EQ(sf_actor_forward(a, T, B, x.data(), y.data()), 0);
  sf_params_zero_grad(a->params);
  ASSERT_EQ(sf_actor_backward(a, T, B, 0, c.data()), 0);
  double gmax = 0;
  int checked = 0;
  for (int i = 0; i < a->params->count; ++i) {
    sf_param *t = &a->params->t[i];
    for (long e = 0; e < t->size; e += 1 + t->size / 7) {
      float *w = sf_param_at(t, 0) + e, keep = *w;
      const float h = 1e-2f;
      *w = keep + h;
      double lp = stack_loss(a, T, B, x, c);
      *w = keep - h;
      double lm = stack_loss(a, T, B, x, c);
      *w = keep;
      a->snn->wt_valid = 0;
      double fd = (lp - lm) / (2.0 * h), g = t->grad[e];
      gmax = std::fmax(gmax, std::fabs(g));
      EXPECT_NEAR(g, fd, 2e-3 + 2e-2 * std::fabs(fd)) << t->name << "[" << e << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 40);
  EXPECT_GT(gmax, 1e-2);
  sf_actor_free(a);
}

std::vector<float> stack_run(int threads) {
  omp_set_num_threads(threads);
  const int P = 2, T = 5, B = 33, F = 3, S = 3;
  sf_actor *a = stack_actor(P, F, S, (long)T * B);
  std::vector<float> x = uniform((size_t)P * T * B * IN, 10, -1.5f, 1.5f), dy = uniform((size_t)P * T * B * A, 11, -1, 1);
  std::vector<float> out = stream(a, T, B, x, 2, 3), y((size_t)P * T * B * A);
  EXPECT_EQ(sf_actor_forward(a, T, B, x.data(), y.data()), 0);
  sf_params_zero_grad(a->params);
  EXPECT_EQ(sf_actor_backward(a, T, B, 0, dy.data()), 0);
  out.insert(out.end(), y.begin(), y.end());
  out.insert(out.end(), a->params->grad, a->params->grad + (size_t)P * a->params->n);
  sf_actor_free(a);
  return out;
}

TEST(FrameStack, SameBitsOnOneAndTwoThreads) {
  const int saved = omp_get_max_threads();
  std::vector<float> one = stack_run(1), two = stack_run(2);
  omp_set_num_threads(saved);
  ASSERT_EQ(one.size(), two.size());
  EXPECT_TRUE(same_bits(one.data(), two.data(), one.size()));
}

TEST(FrameStack, DescriptionRoundTripsAndBadOnesAreRefused) {
  sf_actor_config c = sf_actor_default(SF_ACTOR_SNN, SF_INPUT_OBS);
  c.frames = 4;
  c.substeps = 5;
  char d[128];
  sf_actor_describe(&c, d, sizeof d);
  EXPECT_STREQ(d, "snn:obs:256,128:stack=4x5");
  sf_actor_config back;
  ASSERT_EQ(sf_actor_parse(d, "actor", &back), 0);
  EXPECT_EQ(back.frames, 4);
  EXPECT_EQ(back.substeps, 5);
  EXPECT_EQ(back.nhidden, 2);
  ASSERT_EQ(sf_actor_parse("snn:obs:256,128", "actor", &back), 0);
  EXPECT_EQ(back.frames, 0);
  EXPECT_EQ(back.substeps, 1);
  for (const char *bad : {"snn:obs:256,128:stack=0x4", "snn:obs:256,128:stack=4", "snn:obs:256,128:stack=4x0",
                          "snn:obs:256,128:stack=4x4x", "mlp:obs:64,64:stack=2x1", "snn:obs:256,128:frames=4"})
    EXPECT_NE(sf_actor_parse(bad, "actor", &back), 0) << bad;
  c.kind = SF_ACTOR_MLP;
  EXPECT_EQ(sf_actor_new(&c, 1, 4), nullptr);
}

TEST(FrameStack, TrainingRefusesWhatTheModeCannotHonour) {
  const std::string tiny = std::string("--config ") + SF_SOURCE_DIR +
                           "/configs/quick.ini train.hidden=8,8 train.epochs=1 train.envs=2 train.collect_steps=30 "
                           "train.updates=1 train.batch=2 train.guide=pid ";
  std::string out;
  EXPECT_EQ(run("train " + tiny + "train.frame_stack=4 train.seq_len=8 train.warmup=2 --out /nonexistent/x", &out), 2);
  EXPECT_NE(out.find("'train.warmup': 2 is too short for 4 stacked frames"), std::string::npos) << out;
  EXPECT_EQ(run("train " + tiny + "train.substeps=3 --out /nonexistent/x", &out), 2);
  EXPECT_NE(out.find("need frame-stack mode (train.frame_stack >= 1)"), std::string::npos) << out;
  EXPECT_EQ(run("train " + tiny + "train.frame_stack=2 train.actor=mlp --out /nonexistent/x", &out), 2);
  EXPECT_NE(out.find("frame-stack mode is for spiking actors"), std::string::npos) << out;
}

TEST(FrameStack, TrainedActorIsEvaluatedButNotExported) {
  const std::string dir = std::string(SF_BINARY_DIR) + "/frame_stack_run";
  std::string out;
  ASSERT_EQ(run_sh("rm -rf '" + dir + "'", &out), 0);
  ASSERT_EQ(run(std::string("train --config ") + SF_SOURCE_DIR +
                    "/configs/quick.ini train.hidden=8,8 train.epochs=1 train.envs=2 train.collect_steps=40 "
                    "train.updates=2 train.batch=2 train.seq_len=3 train.warmup=2 train.stride=1 train.guide=pid "
                    "train.eval_episodes=2 train.frame_stack=3 train.substeps=2 --out '" + dir + "'",
                &out),
            0)
      << out;
  const std::string ck = dir + "/checkpoint.safetensors";
  EXPECT_EQ(run("eval '" + ck + "' --episodes 3", &out), 0) << out;
  EXPECT_NE(out.find("return"), std::string::npos) << out;
  EXPECT_EQ(run("export '" + ck + "' --out '" + dir + "/export'", &out), 2);
  EXPECT_NE(out.find("runs in frame-stack mode"), std::string::npos) << out;
  EXPECT_EQ(run("metrics '" + ck + "'", &out), 2);
  EXPECT_NE(out.find("runs in frame-stack mode"), std::string::npos) << out;
}

}  // namespace
