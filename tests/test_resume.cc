// A run killed with SIGKILL mid-epoch resumes from its last checkpoint and
// writes the same progress rows as a run never interrupted (CPU backend; the
// wall-time column excepted).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli_test_util.h"

namespace {

const std::string kBin = SF_BINARY_DIR "/spikefly";

std::vector<std::string> train_args(const std::string &out, const std::vector<std::string> &extra = {}) {
  std::vector<std::string> a = {kBin, "train", "--algo", "td3", "--epochs", "4", "--overwrite", "--out", out,
                                "train.envs=4", "train.collect_steps=150", "train.updates=6", "train.batch=8",
                                "train.hidden=32,16", "train.eval_every=2", "train.eval_episodes=4",
                                "train.buffer=20000", "seed=5", "--sweep", "model.slope=2,10"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// progress.csv without its wall-time column (the fifth).
std::string rows_without_wall(const std::string &path) {
  std::ifstream in(path);
  std::string line, out;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cols.push_back(c);
    for (size_t i = 0; i < cols.size(); ++i)
      if (i != 4) out += cols[i] + ",";
    out += "\n";
  }
  return out;
}

bool has_epoch_row(const std::string &path, int epoch) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(std::to_string(epoch) + ",", 0) == 0) return true;
  return false;
}

void expect_killed_run_resumes_with_the_same_rows(const std::string &a, const std::string &b,
                                                  const std::vector<std::string> &extra) {
  ASSERT_EQ(wait_exit(spawn(train_args(a, extra))), 0);
  std::system(("rm -rf " + b).c_str());
  pid_t pid = spawn(train_args(b, extra));
  // The epoch-2 rows appear after its checkpoint is written: kill during epoch 3.
  auto start = std::chrono::steady_clock::now();
  while (!has_epoch_row(b + "/progress.csv", 2)) {
    ASSERT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(120)) << "no checkpoint appeared";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  ASSERT_EQ(wait_exit(pid), -SIGKILL) << "the run finished before it could be killed";
  EXPECT_FALSE(has_epoch_row(b + "/progress.csv", 4));
  ASSERT_EQ(wait_exit(spawn({kBin, "train", "--resume", b})), 0);
  std::string whole = rows_without_wall(a + "/progress.csv"), resumed = rows_without_wall(b + "/progress.csv");
  EXPECT_TRUE(has_epoch_row(b + "/progress.csv", 4));
  EXPECT_EQ(whole, resumed);
}

TEST(Resume, KilledRunResumesWithTheSameRows) {
  expect_killed_run_resumes_with_the_same_rows("/tmp/sf_resume_whole", "/tmp/sf_resume_killed", {});
}

// Frame-stack mode: the checkpoint also holds each env's last frames (an
// episode in progress at the checkpoint goes on with its stack).
TEST(Resume, KilledFrameStackRunResumesWithTheSameRows) {
  expect_killed_run_resumes_with_the_same_rows(
      "/tmp/sf_resume_stack_whole", "/tmp/sf_resume_stack_killed",
      {"train.frame_stack=3", "train.substeps=2", "train.seq_len=3", "train.warmup=2", "train.stride=1"});
}

TEST(Resume, MissingOrDamagedRunIsRefused) {
  EXPECT_EQ(wait_exit(spawn({kBin, "train", "--resume", "/nonexistent/run"})), 2);
  const std::string b = "/tmp/sf_resume_damaged";
  ASSERT_EQ(wait_exit(spawn({kBin, "train", "--algo", "td3", "--epochs", "1", "--overwrite", "--out", b,
                             "train.envs=2", "train.collect_steps=60", "train.updates=2", "train.batch=4",
                             "train.hidden=8,8", "train.eval_episodes=2", "train.buffer=5000"})),
            0);
  std::string ck = b + "/checkpoint.safetensors";
  {
    std::fstream f(ck, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4000);
    f.put('\x7f');
  }
  EXPECT_EQ(wait_exit(spawn({kBin, "train", "--resume", b})), 2);
}

}  // namespace
