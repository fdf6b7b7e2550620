// A run directory as a user meets it: config.ini holds every effective
// setting and the version; --resume of a finished run changes nothing;
// keys given with --resume are written to config.ini; the files a run
// reads are resolved and checksummed; bad input exits 2 and leaves nothing.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli_test_util.h"
#include "tests/trainer_test_util.h"

namespace {

const std::string kBin = SF_BINARY_DIR "/spikefly";

struct Result {
  int code;
  std::string err;
};

// Runs the binary in `cwd` (empty: here); stderr captured.
Result run(const std::vector<std::string> &args, const std::string &cwd = "") {
  const std::string log = "/tmp/sf_test_run_dir_stderr." + std::to_string(getpid()) + ".txt";
  const int code = wait_exit(spawn(args, log, cwd));
  return {code, read_file(log)};
}

bool exists(const std::string &path) { return access(path.c_str(), F_OK) == 0; }

std::vector<std::string> tiny(const std::string &out, const std::string &epochs = "1") {
  return {kBin,          "train",          "--algo",         "td3",           "--epochs",          epochs,
          "--overwrite", "--out",          out,              "train.envs=2",  "train.collect_steps=60",
          "train.updates=2", "train.batch=4", "train.hidden=8,8", "train.eval_episodes=2", "train.buffer=5000"};
}

TEST(RunDir, ConfigHoldsEveryEffectiveSettingAndTheVersion) {
  const std::string d = "/tmp/sf_test_rd_config";
  ASSERT_EQ(run(tiny(d)).code, 0);
  const std::string ini = read_file(d + "/config.ini");
  EXPECT_NE(ini.find("spikefly " SF_VERSION), std::string::npos) << ini;
  // Keys never given, with the defaults the run took.
  for (const char *kv : {"train.gamma = 0.99", "train.tau = 0.01", "train.policy_delay = 2", "train.seq_len = 100",
                         "model.schedule = fixed", "train.epochs = 1"})
    EXPECT_NE(ini.find(kv), std::string::npos) << kv << "\n" << ini;
  // The file alone is a complete configuration: it trains the same run.
  const std::string e = "/tmp/sf_test_rd_config_again";
  ASSERT_EQ(run({kBin, "train", "--config", d + "/config.ini", "--out", e, "--overwrite"}).code, 0);
  auto a = read_records(d), b = read_records(e);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].return_final, b[0].return_final);
  EXPECT_EQ(a[0].critic_loss, b[0].critic_loss);
}

TEST(RunDir, ResumingAFinishedRunChangesNothing) {
  const std::string d = "/tmp/sf_test_rd_finished";
  ASSERT_EQ(run(tiny(d)).code, 0);
  const std::string files[] = {"config.ini", "progress.csv", "summary.csv", "checkpoint.safetensors"};
  std::vector<std::string> before;
  for (auto &f : files) before.push_back(read_file(d + "/" + f));
  Result r = run({kBin, "train", "--resume", d});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.err.find("already finished"), std::string::npos) << r.err;
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(read_file(d + "/" + files[i]), before[i]) << files[i];
}

TEST(RunDir, KeysGivenWithResumeAreWrittenToConfig) {
  const std::string d = "/tmp/sf_test_rd_more";
  ASSERT_EQ(run(tiny(d)).code, 0);
  Result r = run({kBin, "train", "--resume", d, "--epochs", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(read_file(d + "/config.ini").find("train.epochs = 2"), std::string::npos);
  auto rows = read_records(d);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].epoch, 2);
  EXPECT_TRUE(exists(d + "/summary.csv"));
  // Now finished at epoch 2: another resume does nothing.
  EXPECT_NE(run({kBin, "train", "--resume", d}).err.find("already finished"), std::string::npos);
}

// A dataset recorded relative to one directory; the run resumes from
// another, and refuses once the dataset's content changed.
TEST(RunDir, InputsAreResolvedAndChecked) {
  const std::string w = "/tmp/sf_test_rd_inputs";
  std::system(("rm -rf " + w + " && mkdir -p " + w).c_str());
  ASSERT_EQ(run({kBin, "collect", "--out", "data.safetensors", "--episodes", "6", "--envs", "6"}, w).code, 0);
  std::vector<std::string> args = {kBin, "train", "--algo", "bc", "--dataset", "data.safetensors", "--epochs", "1",
                                   "--out", "run", "train.updates=2", "train.batch=4", "train.seq_len=20",
                                   "train.warmup=5", "train.stride=5", "train.hidden=8,8", "train.eval_episodes=2",
                                   "train.buffer=20000"};
  ASSERT_EQ(run(args, w).code, 0);
  EXPECT_NE(read_file(w + "/run/config.ini").find("train.dataset = " + w + "/data.safetensors"), std::string::npos);
  Result r = run({kBin, "train", "--resume", w + "/run", "--epochs", "2"}, "/");
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(run({kBin, "collect", "--out", "data.safetensors", "--episodes", "6", "--envs", "6", "--seed", "9",
                 "--overwrite"}, w).code, 0);
  r = run({kBin, "train", "--resume", w + "/run", "--epochs", "3"}, "/");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("data.safetensors"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("changed"), std::string::npos) << r.err;
  EXPECT_EQ(read_records(w + "/run").size(), 2u) << "a refused resume wrote rows";
}

TEST(RunDir, BadInputExitsTwoAndLeavesNothing) {
  const std::string d = "/tmp/sf_test_rd_bad";
  std::system(("rm -rf " + d).c_str());
  Result r = run({kBin, "train", "--algo", "bc", "--dataset", "/nonexistent/data.safetensors", "--out", d});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/nonexistent/data.safetensors"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(d)) << "a refused run left its directory";
  r = run({kBin, "train", "--guide", "/nonexistent/guide.safetensors", "--out", d});
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(exists(d));
  std::ofstream("/tmp/sf_test_rd_file") << "x";
  r = run(tiny("/tmp/sf_test_rd_file"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("is a file"), std::string::npos) << r.err;
  r = run({kBin, "train", "--guide", "pid", "--sweep", "foo.bar=1,2", "--out", d});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown config key 'foo.bar'"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(d));
}

// Ctrl-C (SIGINT) stops a training run at its next piece of work with exit
// code 130, leaving its last checkpoint; --resume continues from it, and the
// records then equal those of a run never interrupted (the same 20 epochs:
// the plan of an epoch depends on the run's length).
TEST(RunDir, CtrlCStopsAtTheNextPieceLeavingAResumableRun) {
  const std::string d = "/tmp/sf_test_rd_ctrlc", whole = "/tmp/sf_test_rd_ctrlc_whole";
  const std::string log = "/tmp/sf_test_rd_ctrlc." + std::to_string(getpid()) + ".txt";
  std::system(("rm -rf " + d + " " + whole).c_str()); /* an earlier run's records would end the wait at once */
  std::vector<std::string> args = tiny(d, "20");
  args.push_back("train.eval_every=1");
  pid_t pid = spawn(args, log);
  // Three epochs recorded: the header and three whole lines (the file may be
  // read while a line is being written).
  auto lines = [&] {
    const std::string t = read_file(d + "/progress.csv");
    return std::count(t.begin(), t.end(), '\n');
  };
  for (int i = 0; i < 1200 && lines() < 4; ++i) usleep(50000);
  ASSERT_GE(lines(), 4) << read_file(log);
  kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 130) << read_file(log);
  EXPECT_NE(read_file(log).find("stopped on request"), std::string::npos) << read_file(log);
  const size_t kept = read_records(d).size();
  ASSERT_LT(kept, 20u) << "the run did not stop";
  Result r = run({kBin, "train", "--resume", d});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> w = tiny(whole, "20");
  w.push_back("train.eval_every=1");
  ASSERT_EQ(run(w).code, 0);
  auto a = read_records(d), b = read_records(whole);
  ASSERT_EQ(a.size(), 20u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].epoch, b[i].epoch);
    EXPECT_EQ(a[i].return_final, b[i].return_final) << "epoch " << a[i].epoch;
    EXPECT_EQ(a[i].critic_loss, b[i].critic_loss) << "epoch " << a[i].epoch;
  }
}

// An experiment file: its [sweep] grid splits into populations by the keys
// agents cannot share (here train.bc), each trained as a population of the
// keys they can (seed); experiment.scale picks the [scale.*] keys, which the
// command line still overrides.
TEST(RunDir, ExperimentFileRunsItsGridAsPopulations) {
  const std::string d = "/tmp/sf_test_rd_experiment", ini = d + ".ini";
  std::ofstream(ini) << "[experiment]\nname = tiny\n[train]\nguide = pid\nepochs = 50\nenvs = 2\n"
                        "collect_steps = 60\nupdates = 2\nbatch = 4\nhidden = 8,8\neval_episodes = 2\n"
                        "buffer = 5000\n[sweep]\nseed = 0,1\ntrain.bc = true,false\n"
                        "[scale.smoke]\ntrain.epochs = 2\ntrain.updates = 3\n";
  Result r = run({kBin, "train", "--config", ini, "experiment.scale=smoke", "train.updates=1", "--out", d,
                  "--overwrite"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_file(d + "/populations.txt"), "train.bc=true\ntrain.bc=false\n");
  for (const char *pop : {"train.bc=true", "train.bc=false"}) {
    const std::string run_dir = d + "/" + pop;
    auto rows = read_records(run_dir);
    ASSERT_EQ(rows.size(), 4u) << pop;  // 2 epochs x 2 seeds
    EXPECT_EQ(rows.back().epoch, 2);
    EXPECT_EQ(rows.back().updates, 2) << "the command line's train.updates=1 lost to the scale";
    EXPECT_EQ(std::string(rows[1].setting), std::string("td3bc_jsrl ") + pop + " seed=1");
    const std::string cfg = read_file(run_dir + "/config.ini");
    EXPECT_NE(cfg.find("experiment.name = tiny"), std::string::npos) << cfg;
    EXPECT_EQ(cfg.find("scale."), std::string::npos) << cfg;
  }
  r = run({kBin, "train", "--resume", d});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("already finished"), std::string::npos) << r.err;
  r = run({kBin, "train", "--config", ini, "experiment.scale=huge", "--out", d + "_bad"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'huge' is not a scale of this experiment (smoke)"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(d + "_bad"));
}

}  // namespace
