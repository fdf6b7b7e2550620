// The batched environment: batch vs single-env runs, seeds and noise, the
// reset distribution, reward, termination, truncation, curriculum,
// observations, trajectories, masked resets and save/restore.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

extern "C" {
#include "sim/sf_env.h"
#include "sim/sf_env_step.h"
}

namespace {

sf_env_model default_model() {
  sf_env_model m;
  EXPECT_EQ(sf_quad_params_named("cf21", &m.quad), 0);
  sf_env_config_default(&m.task);
  return m;
}

// Smooth pseudo-random actions, a function of (env, step) only.
void actions_at(long n, int k, std::vector<float> *a) {
  a->resize(n * 4);
  for (long i = 0; i < n; ++i)
    for (int j = 0; j < 4; ++j) (*a)[i * 4 + j] = 0.32f + 0.3f * std::sin(0.07f * k * (j + 1) + 0.9f * i + j);
}

struct Rollout {
  std::vector<float> obs, priv, rew, x;
  std::vector<uint8_t> term, trunc;
};

// Reset, then `steps` steps with actions_at, recording everything.
Rollout run_batch(const sf_env_model &m, int P, int N, const uint64_t *seeds, int steps) {
  sf_env_data *d = sf_env_data_new(P, N, seeds);
  long n = (long)P * N;
  Rollout r;
  sf_env_reset_all(&m, d);
  std::vector<float> a, o(n * SF_OBS_DIM), po(n * SF_PRIV_DIM), rew(n);
  std::vector<uint8_t> te(n), tr(n);
  for (int k = 0; k < steps; ++k) {
    sf_env_observe(&m, d, o.data());
    sf_env_observe_privileged(&m, d, po.data());
    r.obs.insert(r.obs.end(), o.begin(), o.end());
    r.priv.insert(r.priv.end(), po.begin(), po.end());
    actions_at(n, k, &a);
    sf_env_step(&m, d, a.data(), rew.data(), te.data(), tr.data());
    r.rew.insert(r.rew.end(), rew.begin(), rew.end());
    r.term.insert(r.term.end(), te.begin(), te.end());
    r.trunc.insert(r.trunc.end(), tr.begin(), tr.end());
  }
  r.x.assign(d->x, d->x + SF_QX_N * n);
  sf_env_data_free(d);
  return r;
}

TEST(EnvBatch, BatchEqualsSingleEnvRuns) {
  // Each env of the batch, run alone with the per-element functions (its
  // agent's seed, its env index within the agent), gives the same numbers.
  sf_env_model m = default_model();
  const int P = 3, N = 5, steps = 40;
  uint64_t seeds[P] = {11, 0x123456789abcdefull, 7};
  Rollout b = run_batch(m, P, N, seeds, steps);
  long n = P * N;
  for (int p = 0; p < P; ++p)
    for (int e = 0; e < N; ++e) {
      long i = (long)p * N + e;
      sf_quad_state s;
      float tp[3], tv[3], ta[3];
      sf_traj_target(&m.task, 0.0f, tp, tv, ta);
      uint32_t ctr = 0;
      sf_env_reset_sample(&m.task, &m.quad, seeds[p], (uint32_t)e, ctr++, tp, tv, &s);
      std::vector<float> a;
      for (int k = 0; k < steps; ++k) {
        sf_traj_target(&m.task, k * m.quad.dt, tp, tv, ta);
        float o[SF_OBS_DIM];
        sf_env_obs_clean(&s, tp, tv, o);
        sf_env_obs_noise(&m.task, seeds[p], (uint32_t)e, ctr, o);
        for (int j = 0; j < SF_OBS_DIM; ++j) ASSERT_EQ(o[j], b.obs[((long)k * n + i) * SF_OBS_DIM + j]) << p << e << k;
        actions_at(n, k, &a);
        sf_quad_step(&m.quad, &s, &a[i * 4]);
        ++ctr;
        sf_traj_target(&m.task, (k + 1) * m.quad.dt, tp, tv, ta);
        float un[4];
        for (int j = 0; j < 4; ++j) un[j] = (a[i * 4 + j] + 1.0f) * 0.5f;
        sf_reward_coef rc = sf_reward_coef_at(&m.task, 0.0f);
        ASSERT_EQ(sf_env_reward(&rc, &s, tp, tv, un), b.rew[(long)k * n + i]);
        ASSERT_EQ(sf_env_terminated(&m.task, &s, tp), b.term[(long)k * n + i]);
      }
      sf_quad_state bs;
      sf_quad_load(b.x.data(), n, i, &bs);
      EXPECT_EQ(memcmp(&bs, &s, sizeof s), 0);
    }
}

TEST(EnvBatch, AgentsDoNotDependOnTheirPlaceInThePopulation) {
  // An agent alone and the same agent at the head of a population of three
  // (actions_at depends on the flat env index, so it must sit first to get
  // the same actions) see the same starts, noise and rewards.
  sf_env_model m = default_model();
  uint64_t seeds[3] = {5, 6, 7};
  for (int p = 0; p < 3; ++p) {
    Rollout one = run_batch(m, 1, 4, &seeds[p], 20);
    uint64_t order[3] = {seeds[p], seeds[(p + 1) % 3], seeds[(p + 2) % 3]};
    Rollout perm = run_batch(m, 3, 4, order, 20);
    for (int k = 0; k < 20; ++k)
      for (int e = 0; e < 4; ++e)
        for (int j = 0; j < SF_OBS_DIM; ++j)
          ASSERT_EQ(one.obs[((long)k * 4 + e) * SF_OBS_DIM + j], perm.obs[((long)k * 12 + e) * SF_OBS_DIM + j]);
    for (int k = 0; k < 20; ++k)
      for (int e = 0; e < 4; ++e) ASSERT_EQ(one.rew[(long)k * 4 + e], perm.rew[(long)k * 12 + e]);
  }
}

TEST(EnvBatch, SameSeedSameRollout) {
  sf_env_model m = default_model();
  uint64_t seeds[2] = {42, 43};
  Rollout a = run_batch(m, 2, 16, seeds, 30), b = run_batch(m, 2, 16, seeds, 30);
  EXPECT_EQ(a.obs, b.obs);
  EXPECT_EQ(a.priv, b.priv);
  EXPECT_EQ(a.rew, b.rew);
  EXPECT_EQ(a.x, b.x);
}

TEST(EnvBatch, AgentsAndEnvsDrawDifferentNoise) {
  sf_env_model m = default_model();
  m.task.reset_hover_prob = 1.0f;  // every env starts in the same exact hover: only the noise differs
  uint64_t seeds[2] = {1, 2};
  sf_env_data *d = sf_env_data_new(2, 3, seeds);
  sf_env_reset_all(&m, d);
  std::vector<float> o(6 * SF_OBS_DIM);
  sf_env_observe(&m, d, o.data());
  for (int i = 0; i < 6; ++i)
    for (int k = i + 1; k < 6; ++k) {
      int same = 0;
      for (int j = 0; j < SF_OBS_DIM; ++j) same += o[i * SF_OBS_DIM + j] == o[k * SF_OBS_DIM + j];
      EXPECT_LT(same, 2) << "envs " << i << " and " << k << " share noise";
    }
  // Noise is a function of the draw counter: the same state read twice gives
  // the same observation, a step later a different one.
  std::vector<float> o2(o.size());
  sf_env_observe(&m, d, o2.data());
  EXPECT_EQ(o, o2);
  // Per-group sigma: position noise around 0.05, rotation around 0.001.
  m.task.reset_hover_prob = 1.0f;
  sf_env_data *big = sf_env_data_new(1, 4000, seeds);
  sf_env_reset_all(&m, big);
  std::vector<float> ob(4000 * SF_OBS_DIM);
  sf_env_observe(&m, big, ob.data());
  double var[4] = {0, 0, 0, 0};
  const int group[SF_OBS_DIM] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3};
  const int count[4] = {3, 9, 3, 3};
  const float level[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  for (int i = 0; i < 4000; ++i)
    for (int j = 0; j < SF_OBS_DIM; ++j) {
      double v = ob[i * SF_OBS_DIM + j] - (j >= 3 && j < 12 ? level[j - 3] : 0.0f);
      var[group[j]] += v * v / (4000.0 * count[group[j]]);
    }
  for (int g = 0; g < 4; ++g) EXPECT_NEAR(std::sqrt(var[g]) / m.task.obs_sigma[g], 1.0, 0.05) << "group " << g;
  sf_env_data_free(big);
  // Zero sigma: the observation is the clean one.
  for (int g = 0; g < 4; ++g) m.task.obs_sigma[g] = 0.0f;
  sf_env_observe(&m, d, o.data());
  for (int j = 0; j < SF_OBS_DIM; ++j) EXPECT_EQ(o[j], j >= 3 && j < 12 ? level[j - 3] : 0.0f);
  sf_env_data_free(d);
}

TEST(EnvReset, DistributionStatistics) {
  sf_env_model m = default_model();
  const int N = 10000;
  uint64_t seed = 2024;
  sf_env_data *d = sf_env_data_new(1, N, &seed);
  sf_env_reset_all(&m, d);
  int hover = 0;
  double mean_cos_tilt = 0, mean_px = 0, max_tilt = 0;
  double box[3] = {0, 0, 0};
  for (long i = 0; i < N; ++i) {
    sf_quad_state s;
    sf_env_get_state(d, i, &s);
    double qn = 0;
    for (int k = 0; k < 4; ++k) qn += (double)s.q[k] * s.q[k];
    ASSERT_NEAR(qn, 1.0, 1e-5);
    float r[9];
    sf_quat_to_rot(s.q, r);
    double tilt = std::acos(std::fmin(1.0, std::fmax(-1.0, (double)r[8])));
    max_tilt = std::fmax(max_tilt, tilt);
    bool is_hover = s.q[0] == 1.0f && s.p[0] == 0.0f && s.w[0] == 0.0f && s.u[0] == m.quad.hover_motor;
    hover += is_hover;
    if (!is_hover) mean_cos_tilt += r[8];
    mean_px += s.p[0] / N;
    for (int k = 0; k < 3; ++k) {
      EXPECT_LE(std::fabs(s.p[k]), 0.5f);
      EXPECT_LE(std::fabs(s.v[k]), 1.0f);
      EXPECT_LE(std::fabs(s.w[k]), 1.0f);
      box[k] = std::fmax(box[k], std::fabs(s.p[k]));
    }
    for (int j = 0; j < 4; ++j) {
      EXPECT_GE(s.u[j], 0.0f);
      EXPECT_LE(s.u[j], 1.0f);
      // The action history is filled with the command that holds the motors.
      float a = d->hist[(long)(5 * 4 + j) * N + i], u[4], aa[4] = {a, a, a, a};
      sf_quad_command(&m.quad, aa, u);
      EXPECT_NEAR(u[0], s.u[j], 1e-6);
    }
    EXPECT_EQ(d->ep_step[i], 0);
  }
  mean_cos_tilt /= (N - hover);
  double frac = (double)hover / N;
  printf("reset: hover fraction %.4f, max tilt %.2f deg, mean cos(tilt) %.4f, max |p| %.3f %.3f %.3f\n", frac,
         max_tilt * 180 / M_PI, mean_cos_tilt, box[0], box[1], box[2]);
  EXPECT_NEAR(frac, 0.1, 4 * std::sqrt(0.09 / N));
  EXPECT_LE(max_tilt, M_PI / 2 + 1e-3);
  EXPECT_GT(max_tilt, M_PI / 2 - 0.05);  // the bound is reached, not just respected
  EXPECT_NEAR(mean_cos_tilt, 0.5, 0.015);  // cos(tilt) uniform on [0, 1]: the cap's area measure
  EXPECT_NEAR(mean_px, 0.0, 0.02);
  EXPECT_GT(box[0], 0.49);

  // A tighter tilt bound is respected too.
  m.task.reset_max_tilt = (float)(30.0 * M_PI / 180.0);
  sf_env_reset_all(&m, d);
  for (long i = 0; i < N; ++i) {
    sf_quad_state s;
    sf_env_get_state(d, i, &s);
    float r[9];
    sf_quat_to_rot(s.q, r);
    ASSERT_GE(r[8], std::cos(30.0 * M_PI / 180.0) - 1e-6);
  }
  sf_env_data_free(d);
}

TEST(EnvReset, PolynomialSineAndCosine) {
  // The reset draws its angles with sf_sincos_turn (identical bits on CPU and
  // GPU); it must be as good as the library's float functions.
  double worst = 0;
  for (int k = 0; k <= 100000; ++k) {
    float r = k / 100000.0f, s, c;
    sf_sincos_turn(r, &s, &c);
    double a = 2 * M_PI * (double)r;
    worst = std::fmax(worst, std::fmax(std::fabs(s - std::sin(a)), std::fabs(c - std::cos(a))));
  }
  printf("sf_sincos_turn: max error %.3g\n", worst);
  EXPECT_LT(worst, 3e-7);
}

// The batched observation draws its noise a block of envs at a time in vector
// lanes; it must give the bits of the per-env function the GPU runs, in
// whole blocks, a partial block and a block across two agents.
TEST(EnvObserve, BlocksGiveThePerEnvBits) {
  sf_env_model m = default_model();
  uint64_t seeds[2] = {11, 12};
  sf_env_data *d = sf_env_data_new(2, 100, seeds);
  sf_env_reset_all(&m, d);
  std::vector<float> a, batch(d->n * SF_OBS_DIM), one(d->n * SF_OBS_DIM);
  for (int k = 0; k < 30; ++k) {
    actions_at(d->n, k, &a);
    sf_env_step(&m, d, a.data(), NULL, NULL, NULL);
  }
  sf_env_observe(&m, d, batch.data());
  for (long i = 0; i < d->n; ++i) sf_env_observe_one(&m, d, i, one.data() + i * SF_OBS_DIM);
  EXPECT_EQ(0, std::memcmp(batch.data(), one.data(), sizeof(float) * batch.size()));
  // Noise is on (the test would be empty without it).
  sf_env_model quiet = m;
  for (float &sg : quiet.task.obs_sigma) sg = 0.0f;
  sf_env_observe(&quiet, d, one.data());
  EXPECT_NE(0, std::memcmp(batch.data(), one.data(), sizeof(float) * batch.size()));
  sf_env_data_free(d);
}

TEST(EnvReset, MaskedResetTouchesOnlyMaskedEnvs) {
  sf_env_model m = default_model();
  uint64_t seeds[2] = {3, 4};
  sf_env_data *d = sf_env_data_new(2, 4, seeds);
  sf_env_reset_all(&m, d);
  std::vector<float> a;
  actions_at(8, 0, &a);
  for (int k = 0; k < 5; ++k) sf_env_step(&m, d, a.data(), NULL, NULL, NULL);
  std::vector<float> before(d->x, d->x + SF_QX_N * 8);
  uint8_t mask[8] = {0, 1, 0, 0, 0, 0, 1, 0};
  sf_env_reset_masked(&m, d, mask);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(d->ep_step[i], mask[i] ? 0 : 5);
    EXPECT_EQ(d->rng_ctr[i], mask[i] ? 7u : 6u);  // 1 reset + 5 steps (+ 1 reset)
    bool same = true;
    for (int c = 0; c < SF_QX_N; ++c) same = same && before[c * 8 + i] == d->x[c * 8 + i];
    EXPECT_EQ(same, !mask[i]) << "env " << i;
  }
  // A reset later in the stream draws a new start, not a replay of the first.
  sf_env_data *fresh = sf_env_data_new(2, 4, seeds);
  sf_env_reset_all(&m, fresh);
  EXPECT_NE(fresh->x[SF_QX_P * 8 + 1], d->x[SF_QX_P * 8 + 1]);
  sf_env_data_free(fresh);
  sf_env_data_free(d);
}

sf_quad_state make_state(const float p[3], const float q[4], const float v[3], const float w[3]) {
  sf_quad_state s;
  memcpy(s.p, p, sizeof s.p);
  memcpy(s.q, q, sizeof s.q);
  memcpy(s.v, v, sizeof s.v);
  memcpy(s.w, w, sizeof s.w);
  for (int i = 0; i < 4; ++i) s.u[i] = 0.5f;
  return s;
}

TEST(EnvReward, HandComputedStates) {
  sf_env_model m = default_model();
  const float tp[3] = {0.5f, 0.0f, 1.0f}, tv[3] = {0.2f, 0.0f, 0.0f};
  const float p[3] = {0.6f, 0.2f, 0.8f}, v[3] = {0.7f, 0.0f, 0.0f}, w[3] = {1.0f, 2.0f, 2.0f};
  const float h = (float)(std::sqrt(0.5));
  const float q[4] = {h, h, 0.0f, 0.0f};  // 90 degrees about x
  sf_quad_state s = make_state(p, q, v, w);
  const float un[4] = {0.767f, 0.667f, 0.467f, 0.667f};
  // |dp|^2 = 0.01 + 0.04 + 0.04 = 0.09; |dv|^2 = 0.25; theta = pi/2; |w|^2 = 9;
  // sum (un - 0.667)^2 = 0.01 + 0.04 = 0.05.
  sf_reward_coef c0 = sf_reward_coef_at(&m.task, 0.0f), c1 = sf_reward_coef_at(&m.task, 1.0f);
  double r0 = 1.0 - 1.0 * 0.09 - 0.01 * 0.25 - 0.25 * M_PI / 2 - 0.0 * 9 - 0.14 * 0.05;
  double r1 = 1.0 - 3.5 * 0.09 - 0.10 * 0.25 - 0.25 * M_PI / 2 - 0.0 * 9 - 0.50 * 0.05;
  EXPECT_NEAR(sf_env_reward(&c0, &s, tp, tv, un), r0, 2e-6);
  EXPECT_NEAR(sf_env_reward(&c1, &s, tp, tv, un), r1, 2e-6);
  // Cw enters with |w|^2 when configured.
  c1.c[SF_RW_CW] = 0.01f;
  EXPECT_NEAR(sf_env_reward(&c1, &s, tp, tv, un), r1 - 0.09, 2e-6);

  // A perfect hover at the baseline command earns Crs per step.
  const float z[3] = {0, 0, 0}, lvl[4] = {1, 0, 0, 0};
  sf_quad_state hs = make_state(z, lvl, z, z);
  const float base[4] = {0.667f, 0.667f, 0.667f, 0.667f};
  EXPECT_FLOAT_EQ(sf_env_reward(&c0, &hs, z, z, base), 1.0f);
  // The attitude error is the rotation angle, whatever the quaternion's sign.
  const float flipped[4] = {-h, -h, 0.0f, 0.0f};
  EXPECT_NEAR(sf_attitude_error(flipped), M_PI / 2, 1e-6);
  const float yaw180[4] = {0.0f, 0.0f, 0.0f, 1.0f};
  EXPECT_NEAR(sf_attitude_error(yaw180), M_PI, 1e-6);
}

TEST(EnvReward, CurriculumCoefficients) {
  sf_env_model m = default_model();
  sf_reward_coef c0 = sf_reward_coef_at(&m.task, 0.0f), c1 = sf_reward_coef_at(&m.task, 1.0f),
                 ch = sf_reward_coef_at(&m.task, 0.5f);
  EXPECT_FLOAT_EQ(c0.c[SF_RW_CP], 1.0f);
  EXPECT_FLOAT_EQ(c1.c[SF_RW_CP], 3.5f);
  EXPECT_FLOAT_EQ(c0.c[SF_RW_CV], 0.01f);
  EXPECT_FLOAT_EQ(c1.c[SF_RW_CV], 0.10f);
  EXPECT_FLOAT_EQ(c0.c[SF_RW_CA], 0.14f);
  EXPECT_FLOAT_EQ(c1.c[SF_RW_CA], 0.50f);
  EXPECT_FLOAT_EQ(ch.c[SF_RW_CP], 2.25f);
  for (int k : {SF_RW_CRS, SF_RW_CQ, SF_RW_CW, SF_RW_CAB}) EXPECT_EQ(c0.c[k], c1.c[k]);
  EXPECT_FLOAT_EQ(c0.c[SF_RW_CQ], 0.25f);
  EXPECT_FLOAT_EQ(c0.c[SF_RW_CRS], 1.0f);
  EXPECT_FLOAT_EQ(c0.c[SF_RW_CAB], 0.667f);
  EXPECT_FLOAT_EQ(c0.c[SF_RW_CW], 0.0f);

  // Each agent's progress sets its own coefficients in a batched step.
  uint64_t seeds[2] = {9, 9};
  sf_env_data *d = sf_env_data_new(2, 1, seeds);
  sf_env_reset_all(&m, d);
  d->progress[0] = 0.0f;
  d->progress[1] = 1.0f;
  float a[8] = {0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f}, r[2];
  sf_env_step(&m, d, a, r, NULL, NULL);
  sf_quad_state s;
  sf_env_get_state(d, 1, &s);
  float tp[3], tv[3], ta[3], un[4] = {0.55f, 0.55f, 0.55f, 0.55f};
  sf_env_get_target(&m, d, 1, tp, tv, ta);
  EXPECT_FLOAT_EQ(r[1], sf_env_reward(&c1, &s, tp, tv, un));
  EXPECT_FLOAT_EQ(r[0], sf_env_reward(&c0, &s, tp, tv, un));
  EXPECT_NE(r[0], r[1]);
  sf_env_data_free(d);
}

TEST(EnvTermination, HandComputedStates) {
  sf_env_model m = default_model();
  const float tp[3] = {0.5f, -0.5f, 0.0f}, z[3] = {0, 0, 0}, lvl[4] = {1, 0, 0, 0};
  float p[3] = {0.5f, -0.5f, 0.59f};
  sf_quad_state s = make_state(p, lvl, z, z);
  EXPECT_FALSE(sf_env_terminated(&m.task, &s, tp));
  s.p[2] = 0.61f;
  EXPECT_TRUE(sf_env_terminated(&m.task, &s, tp));
  s.p[2] = 0.0f;
  s.p[0] = 0.5f - 0.61f;
  EXPECT_TRUE(sf_env_terminated(&m.task, &s, tp));
  s.p[0] = 0.5f;
  // Large velocities or rates do not terminate, non-finite values do.
  s.v[0] = 50.0f;
  s.w[2] = 100.0f;
  EXPECT_FALSE(sf_env_terminated(&m.task, &s, tp));
  s.q[1] = NAN;
  EXPECT_TRUE(sf_env_terminated(&m.task, &s, tp));
  s.q[1] = 0.0f;
  s.v[1] = INFINITY;
  EXPECT_TRUE(sf_env_terminated(&m.task, &s, tp));
}

TEST(EnvTermination, TimeLimitTruncatesWithoutTerminating) {
  sf_env_model m = default_model();
  m.task.reset_hover_prob = 1.0f;
  uint64_t seed = 1;
  sf_env_data *d = sf_env_data_new(1, 2, &seed);
  sf_env_reset_all(&m, d);
  float h = m.quad.hover_action, a[8] = {h, h, h, h, h, h, h, h}, r[2];
  uint8_t te[2], tr[2];
  for (int k = 1; k <= 500; ++k) {
    sf_env_step(&m, d, a, r, te, tr);
    ASSERT_EQ(te[0], 0) << k;
    ASSERT_EQ(tr[0], k == 500 ? 1 : 0) << k;
  }
  // A NaN action is not hidden by the clamp: the state becomes non-finite and
  // the env terminates (and is not reported as truncated).
  sf_env_reset_all(&m, d);
  a[0] = NAN;
  sf_env_step(&m, d, a, r, te, tr);
  EXPECT_EQ(te[0], 1);
  EXPECT_EQ(tr[0], 0);
  EXPECT_EQ(te[1], 0);
  sf_env_data_free(d);
}

TEST(EnvObservation, LayoutAndHistory) {
  sf_env_model m = default_model();
  for (int g = 0; g < 4; ++g) m.task.obs_sigma[g] = 0.0f;
  m.task.traj = SF_TRAJ_FIGURE8;
  uint64_t seed = 77;
  sf_env_data *d = sf_env_data_new(1, 3, &seed);
  sf_env_reset_all(&m, d);
  std::vector<float> first_hist(3 * SF_ACT_DIM);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) first_hist[i * 4 + j] = d->hist[(long)j * 3 + i];
  std::vector<std::vector<float>> acts;
  std::vector<float> a;
  for (int k = 0; k < 40; ++k) {
    actions_at(3, k, &a);
    a[0] = 1.5f;  // clamped to 1 in the history
    acts.push_back(a);
    sf_env_step(&m, d, a.data(), NULL, NULL, NULL);
  }
  std::vector<float> o(3 * SF_OBS_DIM), po(3 * SF_PRIV_DIM);
  sf_env_observe(&m, d, o.data());
  sf_env_observe_privileged(&m, d, po.data());
  for (int i = 0; i < 3; ++i) {
    sf_quad_state s;
    sf_env_get_state(d, i, &s);
    float tp[3], tv[3], ta[3], r[9];
    sf_traj_target(&m.task, 40 * 0.01f, tp, tv, ta);
    sf_quat_to_rot(s.q, r);
    const float *oi = &o[i * SF_OBS_DIM], *pi = &po[i * SF_PRIV_DIM];
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(oi[k], s.p[k] - tp[k]);
      EXPECT_EQ(oi[12 + k], s.v[k] - tv[k]);
      EXPECT_EQ(oi[15 + k], s.w[k]);
    }
    for (int k = 0; k < 9; ++k) EXPECT_EQ(oi[3 + k], r[k]);
    for (int k = 0; k < SF_OBS_DIM; ++k) EXPECT_EQ(pi[k], oi[k]);
    // History: the last 32 actions, oldest first (steps 8..39).
    for (int k = 0; k < 32; ++k)
      for (int j = 0; j < 4; ++j) {
        float want = std::fmin(1.0f, acts[8 + k][i * 4 + j]);
        EXPECT_EQ(pi[SF_OBS_DIM + k * 4 + j], want) << i << " " << k << " " << j;
      }
  }
  // Right after a reset the history holds the command matching the motors.
  sf_env_data *f = sf_env_data_new(1, 3, &seed);
  sf_env_reset_all(&m, f);
  sf_env_observe_privileged(&m, f, po.data());
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 32; ++k)
      for (int j = 0; j < 4; ++j) EXPECT_EQ(po[i * SF_PRIV_DIM + SF_OBS_DIM + k * 4 + j], first_hist[i * 4 + j]);
  sf_env_data_free(f);
  sf_env_data_free(d);
}

TEST(EnvTrajectory, TargetsAndVelocities) {
  sf_env_config c;
  sf_env_config_default(&c);
  for (int kind = 0; kind < SF_TRAJ_N; ++kind) {
    c.traj = kind;
    float p[3], v[3], a[3];
    sf_traj_target(&c, 0.0f, p, v, a);
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(p[k], 0.0f, 1e-6) << sf_traj_names[kind];
    if (kind == SF_TRAJ_SQUARE) continue;
    // Velocity and acceleration are the derivatives of the position.
    for (float t : {0.3f, 1.7f, 4.1f}) {
      float pa[3], pb[3], va[3], vb[3];
      const float h = 1e-3f;
      sf_traj_target(&c, t - h, pa, va, a);
      sf_traj_target(&c, t + h, pb, vb, a);
      sf_traj_target(&c, t, p, v, a);
      for (int k = 0; k < 3; ++k) {
        EXPECT_NEAR((pb[k] - pa[k]) / (2 * h), v[k], 2e-3) << sf_traj_names[kind] << " t " << t;
        EXPECT_NEAR((vb[k] - va[k]) / (2 * h), a[k], 2e-2) << sf_traj_names[kind] << " t " << t;
      }
    }
  }
  float p[3], v[3], a[3];
  c.traj = SF_TRAJ_FIGURE8;
  sf_traj_target(&c, 5.5f / 4, p, v, a);  // s = 1/4: x = cos(pi) = -1, y = sin(2 pi)/2 = 0
  EXPECT_NEAR(p[0], -1.0f, 1e-5);
  EXPECT_NEAR(p[1], 0.0f, 1e-5);
  sf_traj_target(&c, 5.5f / 8, p, v, a);  // s = 1/8: y = sin(3 pi / 2) / 2 = -0.5
  EXPECT_NEAR(p[1], -0.5f, 1e-5);
  c.traj = SF_TRAJ_CIRCLE;
  sf_traj_target(&c, 5.5f / 2, p, v, a);  // half a lap: the far side, 1 m away
  EXPECT_NEAR(p[0], -1.0f, 1e-5);
  c.traj = SF_TRAJ_SQUARE;
  const float want[6][2] = {{0, 0}, {0.5f, 0}, {0.5f, 0.5f}, {0, 0.5f}, {0, 0}, {0, 0}};
  for (int k = 0; k < 6; ++k) {
    sf_traj_target(&c, 4.0f * k + 1.0f, p, v, a);
    EXPECT_EQ(p[0], want[k][0]);
    EXPECT_EQ(p[1], want[k][1]);
    EXPECT_EQ(v[0], 0.0f);
  }
}

TEST(EnvData, SaveAndRestoreContinueTheSameRollout) {
  sf_env_model m = default_model();
  uint64_t seeds[2] = {100, 200};
  sf_env_data *d = sf_env_data_new(2, 8, seeds);
  sf_env_reset_all(&m, d);
  std::vector<float> a, r1(16), r2(16), o1(16 * SF_OBS_DIM), o2(16 * SF_OBS_DIM);
  for (int k = 0; k < 10; ++k) {
    actions_at(16, k, &a);
    sf_env_step(&m, d, a.data(), NULL, NULL, NULL);
  }
  d->progress[1] = 0.3f;
  sf_env_array arr[SF_ENV_NARRAYS];
  ASSERT_EQ(sf_env_data_arrays(d, arr), SF_ENV_NARRAYS);
  std::vector<std::vector<unsigned char>> saved;
  for (auto &x : arr) {
    size_t bytes = x.count * (x.dtype == SF_DT_U64 ? 8 : 4);
    saved.emplace_back((unsigned char *)x.ptr, (unsigned char *)x.ptr + bytes);
  }
  auto run = [&](sf_env_data *e, std::vector<float> *r, std::vector<float> *o) {
    for (int k = 10; k < 30; ++k) {
      actions_at(16, k, &a);
      sf_env_step(&m, e, a.data(), r->data(), NULL, NULL);
    }
    sf_env_observe(&m, e, o->data());
  };
  run(d, &r1, &o1);
  // Restore into a fresh object built with other seeds: everything comes back.
  uint64_t other[2] = {0, 0};
  sf_env_data *e = sf_env_data_new(2, 8, other);
  sf_env_array arr2[SF_ENV_NARRAYS];
  sf_env_data_arrays(e, arr2);
  for (int k = 0; k < SF_ENV_NARRAYS; ++k) {
    ASSERT_STREQ(arr[k].name, arr2[k].name);
    ASSERT_EQ(arr[k].count, arr2[k].count);
    memcpy(arr2[k].ptr, saved[k].data(), saved[k].size());
  }
  run(e, &r2, &o2);
  EXPECT_EQ(r1, r2);
  EXPECT_EQ(o1, o2);
  sf_env_data_free(e);
  sf_env_data_free(d);
}

TEST(EnvConfig, KeysParseAndBadValuesNameTheKey) {
  sf_config *cfg = sf_cfg_new();
  sf_cfg_set(cfg, "env.reward_cp", "2.0");
  sf_cfg_set(cfg, "env.reward_ca", "0.1, 0.2");
  sf_cfg_set(cfg, "env.noise_pos", "0");
  sf_cfg_set(cfg, "env.trajectory", "figure8");
  sf_cfg_set(cfg, "env.time_limit", "1000");
  sf_cfg_set(cfg, "env.reset_max_tilt_deg", "45");
  sf_env_config c;
  ASSERT_EQ(sf_env_config_from_config(cfg, &c), 0) << sf_cfg_error(cfg);
  EXPECT_EQ(sf_cfg_check_unused(cfg), 0);
  EXPECT_FLOAT_EQ(c.reward_start[SF_RW_CP], 2.0f);
  EXPECT_FLOAT_EQ(c.reward_end[SF_RW_CP], 2.0f);
  EXPECT_FLOAT_EQ(c.reward_end[SF_RW_CA], 0.2f);
  EXPECT_EQ(c.obs_sigma[SF_OBS_POS], 0.0f);
  EXPECT_EQ(c.traj, SF_TRAJ_FIGURE8);
  EXPECT_EQ(c.time_limit, 1000);
  EXPECT_NEAR(c.reset_max_tilt, M_PI / 4, 1e-6);
  sf_cfg_free(cfg);
  const char *bad[][2] = {{"env.noise_vel", "-0.1"},    {"env.time_limit", "0"},     {"env.trajectory", "spiral"},
                          {"env.reward_cv", "1,2,3"},   {"env.reset_motor", "0.8,0.2"}, {"env.term_pos", "inf"},
                          {"env.reset_hover_prob", "1.5"}};
  for (auto &b : bad) {
    cfg = sf_cfg_new();
    sf_cfg_set(cfg, b[0], b[1]);
    EXPECT_EQ(sf_env_config_from_config(cfg, &c), -1) << b[0];
    ASSERT_NE(sf_cfg_error(cfg), nullptr);
    EXPECT_NE(strstr(sf_cfg_error(cfg), b[0]), nullptr) << sf_cfg_error(cfg);
    sf_cfg_free(cfg);
  }
}

}  // namespace
