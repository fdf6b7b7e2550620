// A sweep spread over MPI ranks (mpirun -n R spikefly train ...) gives, agent
// for agent, the progress rows (wall time aside) and the checkpoint tensors
// of the same sweep in one process; a killed rank takes the job down and the
// run resumes; a resume with another rank count, or more ranks than agents,
// is refused. Skips, saying so, where mpirun is not installed.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli_test_util.h"
#include "tests/trainer_test_util.h"

extern "C" {
#include "core/sf_safetensors.h"
}

namespace {

const std::string kBin = SF_BINARY_DIR "/spikefly";

bool have_mpirun() { return std::system("command -v mpirun > /dev/null 2>&1") == 0; }

#define SKIP_WITHOUT_MPI() \
  if (!have_mpirun()) GTEST_SKIP() << "mpirun is not installed (openmpi-bin): no MPI sweep to test"

std::vector<std::string> mpirun(int ranks) {
  std::vector<std::string> a = {"/usr/bin/env", "mpirun", "--oversubscribe", "-n", std::to_string(ranks)};
  if (geteuid() == 0) a.insert(a.begin() + 2, "--allow-run-as-root");
  return a;
}

std::vector<std::string> sweep(const std::string &out, const std::string &epochs = "3",
                               const std::string &eval_every = "1") {
  return {kBin, "train", "--algo", "td3", "--epochs", epochs, "--overwrite", "--out", out, "train.envs=2",
          "train.collect_steps=60", "train.updates=3", "train.batch=4", "train.hidden=8,8",
          "train.eval_every=" + eval_every, "train.eval_episodes=2", "train.buffer=5000", "--sweep", "seed=1,2,3,4,5",
          "--sweep", "model.slope=2,5"};
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string> &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Every field but the wall time, and the setting.
void expect_same_rows(const std::string &a, const std::string &b) {
  auto ra = read_records(a), rb = read_records(b);
  ASSERT_EQ(ra.size(), rb.size()) << b;
  for (size_t i = 0; i < ra.size(); ++i) {
    sf_record x = ra[i], y = rb[i];
    x.wall_s = y.wall_s = 0;
    EXPECT_EQ(std::string(x.setting), std::string(y.setting)) << b << " row " << i;
    for (double sf_record::*f : {&sf_record::epoch, &sf_record::agent, &sf_record::env_steps, &sf_record::updates,
                                 &sf_record::return_final, &sf_record::episode_len, &sf_record::critic_loss,
                                 &sf_record::actor_loss, &sf_record::mean_q, &sf_record::slope})
      EXPECT_TRUE(x.*f == y.*f || (std::isnan(x.*f) && std::isnan(y.*f))) << b << " row " << i;
  }
}

// Agent p0 + i of `whole` (a one-process checkpoint of P agents) against
// agent i of a rank's checkpoint: every per-agent float tensor, bit for bit.
void expect_same_agents(const std::string &whole, const std::string &part, int p0, int P) {
  char err[512];
  sf_st_file *w = sf_st_open(whole.c_str(), 0, err, sizeof err), *r = sf_st_open(part.c_str(), 0, err, sizeof err);
  ASSERT_TRUE(w && r) << err;
  int compared = 0;
  for (int i = 0; i < sf_st_count(r); ++i) {
    const sf_st_tensor *t = sf_st_tensor_at(r, i), *u = sf_st_find(w, t->name);
    if (t->dtype != SF_ST_F32 || !u || u->ndim < 2 || u->shape[0] != P) continue;
    /* The replay's rows are stored up to the highest row any agent of the
     * file uses: compare where both files hold rows. */
    if (t->shape[1] != u->shape[1]) continue;
    const size_t per = u->nbytes / (size_t)P;
    ASSERT_EQ(t->nbytes % per, 0u) << t->name;
    EXPECT_EQ(0, memcmp(t->data, (const char *)u->data + per * p0, t->nbytes)) << part << ": " << t->name;
    ++compared;
  }
  EXPECT_GT(compared, 10) << part;
  sf_st_close(w);
  sf_st_close(r);
}

TEST(Mpi, RanksGiveTheAgentsOfOneProcess) {
  SKIP_WITHOUT_MPI();
  const std::string one = "/tmp/sf_test_mpi_one", two = "/tmp/sf_test_mpi_two", three = "/tmp/sf_test_mpi_three";
  ASSERT_EQ(wait_exit(spawn(sweep(one), one + ".log")), 0) << read_file(one + ".log");
  ASSERT_EQ(wait_exit(spawn(mpirun(2) + sweep(two), two + ".log")), 0) << read_file(two + ".log");
  ASSERT_EQ(wait_exit(spawn(mpirun(3) + sweep(three), three + ".log")), 0) << read_file(three + ".log");
  expect_same_rows(one, two);
  expect_same_rows(one, three);
  EXPECT_EQ(read_file(one + "/summary.csv"), read_file(two + "/summary.csv"));
  // 10 agents: 5 + 5 on two ranks; 4 + 3 + 3 on three (uneven).
  const std::string ck = one + "/checkpoint.safetensors";
  expect_same_agents(ck, two + "/checkpoint.agents-0-4.safetensors", 0, 10);
  expect_same_agents(ck, two + "/checkpoint.agents-5-9.safetensors", 5, 10);
  expect_same_agents(ck, three + "/checkpoint.agents-0-3.safetensors", 0, 10);
  expect_same_agents(ck, three + "/checkpoint.agents-4-6.safetensors", 4, 10);
  expect_same_agents(ck, three + "/checkpoint.agents-7-9.safetensors", 7, 10);
}

TEST(Mpi, UnevenSharesAndTooManyRanks) {
  SKIP_WITHOUT_MPI();
  const std::string d = "/tmp/sf_test_mpi_uneven";
  std::vector<std::string> four = {kBin, "train", "--algo", "td3", "--epochs", "1", "--overwrite", "--out", d,
                                   "train.envs=2", "train.collect_steps=60", "train.updates=1", "train.batch=4",
                                   "train.hidden=8,8", "train.eval_episodes=1", "train.buffer=5000", "--sweep",
                                   "seed=1,2,3,4,5"};
  ASSERT_EQ(wait_exit(spawn(mpirun(3) + four, d + ".log")), 0) << read_file(d + ".log");
  for (const char *f : {"checkpoint.agents-0-1.safetensors", "checkpoint.agents-2-3.safetensors",
                        "checkpoint.agents-4-4.safetensors"})
    EXPECT_EQ(access((d + "/" + f).c_str(), F_OK), 0) << f;
  EXPECT_EQ(read_records(d).size(), 5u);
  const std::string many = "/tmp/sf_test_mpi_many";
  std::vector<std::string> two_agents = four;
  two_agents.back() = "seed=1,2";
  two_agents[8] = many;
  EXPECT_NE(wait_exit(spawn(mpirun(3) + two_agents, many + ".log")), 0);
  EXPECT_NE(read_file(many + ".log").find("leaves rank 2 without agents"), std::string::npos) << read_file(many + ".log");
}

// SIGKILL one rank during epoch 3: mpirun takes the job down (no hang); a
// resume with the same ranks ends with the rows of an uninterrupted run; a
// resume with another count is refused.
TEST(Mpi, KilledRankResumes) {
  SKIP_WITHOUT_MPI();
  const std::string whole = "/tmp/sf_test_mpi_whole", killed = "/tmp/sf_test_mpi_killed";
  ASSERT_EQ(wait_exit(spawn(sweep(whole, "5", "2"), whole + ".log")), 0) << read_file(whole + ".log");
  std::system(("rm -rf " + killed).c_str());
  pid_t job = spawn(mpirun(2) + sweep(killed, "5", "2"), killed + ".log");
  auto start = std::chrono::steady_clock::now();
  bool seen = false;
  while (!seen && std::chrono::steady_clock::now() - start < std::chrono::seconds(120)) {
    std::ifstream f(killed + "/progress.csv");
    std::string line;
    while (std::getline(f, line)) seen |= line.rfind("3,", 0) == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(seen) << "epoch 3 never came";
  // A rank: the newest spikefly process under mpirun.
  std::vector<pid_t> ranks;
  for (int tries = 0; ranks.empty() && tries < 3; ++tries) {
    FILE *ps = popen(("pgrep -P " + std::to_string(job) + " spikefly").c_str(), "r");
    int pid;
    while (ps && fscanf(ps, "%d", &pid) == 1) ranks.push_back(pid);
    if (ps) pclose(ps);
  }
  ASSERT_EQ(ranks.size(), 2u) << "the ranks of mpirun " << job << " were not found";
  kill(ranks.back(), SIGKILL);
  const int code = wait_exit(job);
  EXPECT_NE(code, 0) << "the job survived a killed rank";
  std::vector<std::string> resume = {kBin, "train", "--resume", killed};
  const int r3 = wait_exit(spawn(mpirun(3) + resume, killed + ".r3.log"));
  EXPECT_NE(r3, 0);
  EXPECT_NE(read_file(killed + ".r3.log").find("resume with the number of processes"), std::string::npos)
      << read_file(killed + ".r3.log");
  ASSERT_EQ(wait_exit(spawn(mpirun(2) + resume, killed + ".r2.log")), 0) << read_file(killed + ".r2.log");
  expect_same_rows(whole, killed);
}

}  // namespace
