// The CUDA environment against the CPU reference: the same seeds and actions
// give the same resets, rollouts (relative difference under 1e-5 after 100
// steps), rewards, flags and observations; the reference controller on the
// device gives the CPU's actions. Skipped, with the reason, where no
// GPU can be used.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "tests/cuda_test_util.h"

extern "C" {
#include "kernels/sf_env_cuda.h"
#include "sim/sf_env.h"
#include "sim/sf_pid.h"
}

namespace {

sf_env_model default_model() {
  sf_env_model m;
  EXPECT_EQ(sf_quad_params_named("cf21", &m.quad), 0);
  sf_env_config_default(&m.task);
  return m;
}

// Actions near hover with a slow per-env wobble: the vehicles fly about
// rather than tumble, as under a controller.
std::vector<float> actions_at(const sf_env_model &m, long n, int k) {
  std::vector<float> a(n * 4);
  for (long i = 0; i < n; ++i)
    for (int j = 0; j < 4; ++j)
      a[i * 4 + j] = m.quad.hover_action + 0.05f * std::sin(0.05f * k * (j + 1) + 0.37f * i + j);
  return a;
}

// max over elements of |a - b| / max(1, |a|)
double rel_diff(const float *a, const float *b, size_t n, size_t *equal = nullptr) {
  double worst = 0;
  size_t same = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = std::fabs((double)a[i] - (double)b[i]) / std::fmax(1.0, std::fabs((double)a[i]));
    if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
    same += a[i] == b[i];
  }
  if (equal) *equal = same;
  return worst;
}

struct Pair {
  int P, N;
  long n;
  sf_env_data *cpu;
  sf_cuda_env *gpu;
  Pair(int P_, int N_, const uint64_t *seeds) : P(P_), N(N_), n((long)P_ * N_) {
    cpu = sf_env_data_new(P, N, seeds);
    gpu = sf_cuda_env_new(P, N, seeds);
  }
  ~Pair() {
    sf_env_data_free(cpu);
    sf_cuda_env_free(gpu);
  }
};

TEST(CudaEnv, ResetMatchesCpu) {
  SKIP_WITHOUT_GPU();
  sf_env_model m = default_model();
  uint64_t seeds[2] = {17, 0xfeedbeefcafeull};
  Pair e(2, 2048, seeds);
  ASSERT_NE(e.gpu, nullptr);
  sf_env_reset_all(&m, e.cpu);
  sf_cuda_env_reset_all(e.gpu, &m);
  sf_env_data *back = sf_env_data_new(2, 2048, seeds);
  ASSERT_EQ(sf_cuda_env_download(e.gpu, back), 0);
  size_t same;
  double d = rel_diff(e.cpu->x, back->x, SF_QX_N * e.n, &same);
  printf("reset: max relative difference %.3g, %zu of %ld values identical\n", d, same, SF_QX_N * e.n);
  EXPECT_LT(d, 1e-6);
  EXPECT_LT(rel_diff(e.cpu->hist, back->hist, (size_t)SF_HIST_LEN * 4 * e.n), 1e-6);
  EXPECT_EQ(0, memcmp(e.cpu->rng_ctr, back->rng_ctr, sizeof(uint32_t) * e.n));
  EXPECT_EQ(0, memcmp(e.cpu->ep_step, back->ep_step, sizeof(int32_t) * e.n));
  sf_env_data_free(back);
}

// 100 steps on both from one start, comparing every step's outputs, then the
// final state and observations.
void compare_rollouts(const sf_env_model &m, Pair &e, bool same_start) {
  sf_env_reset_all(&m, e.cpu);
  if (same_start)
    ASSERT_EQ(sf_cuda_env_upload(e.gpu, e.cpu), 0);
  else
    sf_cuda_env_reset_all(e.gpu, &m);
  std::vector<float> rc(e.n), rg(e.n);
  std::vector<uint8_t> tc(e.n), tg(e.n), uc(e.n), ug(e.n);
  double worst_reward = 0;
  long flag_mismatch = 0;
  for (int k = 0; k < 100; ++k) {
    std::vector<float> a = actions_at(m, e.n, k);
    float *da = sf_cuda_env_upload_actions(e.gpu, a.data(), (long)a.size());
    ASSERT_NE(da, nullptr);
    sf_env_step(&m, e.cpu, a.data(), rc.data(), tc.data(), uc.data());
    sf_cuda_env_step(e.gpu, &m, da);
    ASSERT_EQ(sf_cuda_env_download_outputs(e.gpu, NULL, NULL, rg.data(), tg.data(), ug.data()), 0);
    sf_cuda_env_free_device(da);
    worst_reward = std::fmax(worst_reward, rel_diff(rc.data(), rg.data(), e.n));
    for (long i = 0; i < e.n; ++i) flag_mismatch += tc[i] != tg[i] || uc[i] != ug[i];
  }
  sf_env_data *back = sf_env_data_new(e.P, e.N, e.cpu->seed);
  ASSERT_EQ(sf_cuda_env_download(e.gpu, back), 0);
  size_t same;
  double dx = rel_diff(e.cpu->x, back->x, SF_QX_N * e.n, &same);
  std::vector<float> oc(e.n * SF_OBS_DIM), og(e.n * SF_OBS_DIM), pc(e.n * SF_PRIV_DIM), pg(e.n * SF_PRIV_DIM);
  sf_env_observe(&m, e.cpu, oc.data());
  sf_env_observe_privileged(&m, e.cpu, pc.data());
  sf_cuda_env_observe(e.gpu, &m);
  sf_cuda_env_observe_privileged(e.gpu, &m);
  ASSERT_EQ(sf_cuda_env_download_outputs(e.gpu, og.data(), pg.data(), NULL, NULL, NULL), 0);
  double dobs = rel_diff(oc.data(), og.data(), oc.size()), dpriv = rel_diff(pc.data(), pg.data(), pc.size());
  printf("%s start, 100 steps: state max relative difference %.3g (%zu of %ld identical), reward %.3g, "
         "observation %.3g, privileged %.3g, flag mismatches %ld\n",
         same_start ? "same" : "own reset", dx, same, SF_QX_N * e.n, worst_reward, dobs, dpriv, flag_mismatch);
  EXPECT_LT(dx, 1e-5);
  EXPECT_LT(worst_reward, 1e-5);
  EXPECT_LT(dobs, 1e-5);
  EXPECT_LT(dpriv, 1e-5);
  EXPECT_EQ(flag_mismatch, 0);
  EXPECT_EQ(0, memcmp(e.cpu->hist_head, back->hist_head, sizeof(int32_t) * e.n));
  EXPECT_EQ(0, memcmp(e.cpu->rng_ctr, back->rng_ctr, sizeof(uint32_t) * e.n));
  sf_env_data_free(back);
  char why[256];
  EXPECT_EQ(sf_cuda_env_error(e.gpu, why, sizeof why), 0) << why;
}

TEST(CudaEnv, RolloutFromTheSameStateMatchesCpu) {
  SKIP_WITHOUT_GPU();
  sf_env_model m = default_model();
  uint64_t seeds[3] = {1, 2, 3};
  Pair e(3, 1000, seeds);
  ASSERT_NE(e.gpu, nullptr);
  compare_rollouts(m, e, true);
}

TEST(CudaEnv, RolloutFromTheSameSeedsMatchesCpu) {
  SKIP_WITHOUT_GPU();
  sf_env_model m = default_model();
  m.task.traj = SF_TRAJ_FIGURE8;  // the moving target on both sides too
  uint64_t seeds[2] = {99, 100};
  Pair e(2, 1500, seeds);
  ASSERT_NE(e.gpu, nullptr);
  compare_rollouts(m, e, false);
}

TEST(CudaEnv, AutoResetAndProgressMatchCpu) {
  SKIP_WITHOUT_GPU();
  sf_env_model m = default_model();
  m.task.time_limit = 30;  // truncations within the run
  uint64_t seeds[2] = {5, 6};
  Pair e(2, 512, seeds);
  ASSERT_NE(e.gpu, nullptr);
  e.cpu->progress[1] = 0.7f;
  sf_env_reset_all(&m, e.cpu);
  ASSERT_EQ(sf_cuda_env_upload(e.gpu, e.cpu), 0);
  std::vector<float> rc(e.n), rg(e.n);
  std::vector<uint8_t> tc(e.n), uc(e.n), done(e.n);
  double worst = 0;
  long resets = 0;
  for (int k = 0; k < 100; ++k) {
    std::vector<float> a = actions_at(m, e.n, k);
    float *da = sf_cuda_env_upload_actions(e.gpu, a.data(), (long)a.size());
    ASSERT_NE(da, nullptr);
    sf_env_step(&m, e.cpu, a.data(), rc.data(), tc.data(), uc.data());
    sf_cuda_env_step(e.gpu, &m, da);
    ASSERT_EQ(sf_cuda_env_download_outputs(e.gpu, NULL, NULL, rg.data(), NULL, NULL), 0);
    sf_cuda_env_free_device(da);
    worst = std::fmax(worst, rel_diff(rc.data(), rg.data(), e.n));
    for (long i = 0; i < e.n; ++i) resets += done[i] = tc[i] | uc[i];
    sf_env_reset_masked(&m, e.cpu, done.data());
    sf_cuda_env_reset_done(e.gpu, &m);
  }
  sf_env_data *back = sf_env_data_new(2, 512, seeds);
  ASSERT_EQ(sf_cuda_env_download(e.gpu, back), 0);
  double dx = rel_diff(e.cpu->x, back->x, SF_QX_N * e.n);
  printf("auto-reset run: %ld resets, state max relative difference %.3g, reward %.3g\n", resets, dx, worst);
  EXPECT_GT(resets, e.n);  // every env truncated at least three times
  EXPECT_LT(dx, 1e-5);
  EXPECT_LT(worst, 1e-5);
  EXPECT_EQ(0, memcmp(e.cpu->ep_step, back->ep_step, sizeof(int32_t) * e.n));
  sf_env_data_free(back);
}

// The CPU flies the envs with the reference controller (tracking the figure
// eight, so the feed-forward and the episode steps matter) for a while; then
// the GPU's controller gets the same state and observations and must give
// the same actions.
TEST(CudaEnv, PidMatchesTheCpu) {
  SKIP_WITHOUT_GPU();
  sf_env_model m = default_model();
  m.task.traj = SF_TRAJ_FIGURE8;
  sf_pid pid;
  ASSERT_EQ(sf_pid_init(&pid, &m.quad), 0);
  uint64_t seeds[2] = {41, 42};
  Pair e(2, 700, seeds);
  ASSERT_NE(e.gpu, nullptr);
  sf_env_reset_all(&m, e.cpu);
  std::vector<float> obs(e.n * SF_OBS_DIM), act(e.n * 4), rew(e.n);
  std::vector<uint8_t> term(e.n), trunc(e.n), done(e.n);
  for (int k = 0; k < 40; ++k) {
    sf_env_observe(&m, e.cpu, obs.data());
    sf_pid_act_batch(&pid, &m, e.cpu, obs.data(), act.data());
    sf_env_step(&m, e.cpu, act.data(), rew.data(), term.data(), trunc.data());
    for (long i = 0; i < e.n; ++i) done[i] = term[i] | trunc[i];
    sf_env_reset_masked(&m, e.cpu, done.data());
  }
  sf_env_observe(&m, e.cpu, obs.data());
  sf_pid_act_batch(&pid, &m, e.cpu, obs.data(), act.data());
  ASSERT_EQ(sf_cuda_env_upload(e.gpu, e.cpu), 0);
  float *d_obs = sf_test_to_device(obs), *d_act = nullptr;
  ASSERT_EQ(cudaMalloc(&d_act, sizeof(float) * act.size()), cudaSuccess);
  sf_cuda_env_pid(e.gpu, &m, &pid, d_obs, d_act);
  sf_cuda_env_sync(e.gpu);
  std::vector<float> got = sf_test_to_host(d_act, act.size());
  double worst = rel_diff(act.data(), got.data(), act.size());  // actions lie in [-1, 1]: absolute
  printf("reference controller: max action difference %.3g over %zu actions\n", worst, act.size());
  EXPECT_LT(worst, 1e-5);
  char why[256];
  EXPECT_EQ(sf_cuda_env_error(e.gpu, why, sizeof why), 0) << why;
  cudaFree(d_obs);
  cudaFree(d_act);
}

}  // namespace
