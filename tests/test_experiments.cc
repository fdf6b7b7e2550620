// The experiment files of experiments/: each parses and, at the smoke scale,
// runs end to end through `spikefly report` (fig3 and fig4, both parts of
// each under one experiment name); fig1, table3 and energy are configs of
// surrogate-analysis, eval and metrics, and those commands take them.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/cli_test_util.h"

namespace {

const std::string kRoot = "/tmp/sf_test_experiments";
const std::string kExp = SF_SOURCE_DIR "/experiments/";

// Lines of a CSV file after its header.
int data_rows(const std::string &path) {
  std::stringstream s(read_file(path));
  std::string line;
  int n = -1;
  while (std::getline(s, line))
    if (!line.empty()) ++n;
  return n;
}

// Each test in its own working directory (ctest runs them side by side),
// with a small dataset where the files name theirs (runs/data/pid.safetensors).
class Experiments : public ::testing::Test {
 protected:
  std::string work;
  void SetUp() override {
    work = kRoot + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::system(("rm -rf " + work + " && mkdir -p " + work + "/runs/data").c_str());
    std::string out;
    ASSERT_EQ(::run("collect --out runs/data/pid.safetensors --episodes 8 --envs 8", &out, work), 0) << out;
  }
  int run(const std::string &args, std::string *out) { return ::run(args, out, work); }
  void train_and_report(const std::string &fig, const std::string &part2, int settings);
};

// Both parts of a figure at the smoke scale, then the report on both.
void Experiments::train_and_report(const std::string &fig, const std::string &part2, int settings) {
  const std::string &kWork = work;
  std::string out;
  for (const std::string &f : {fig, part2}) {
    ASSERT_EQ(run("train --config " + kExp + f + ".ini experiment.scale=smoke --out runs/" + f, &out), 0) << f << "\n"
                                                                                                        << out;
    EXPECT_NE(read_file(kWork + "/runs/" + f + "/populations.txt"), "") << f;
  }
  ASSERT_EQ(run("report runs/" + fig + " runs/" + part2 + " --out report_" + fig, &out), 0) << out;
  const std::string md = read_file(kWork + "/report_" + fig + "/report.md");
  EXPECT_NE(md.find("# Experiment " + fig + ", scale smoke"), std::string::npos) << md;
  EXPECT_EQ(data_rows(kWork + "/report_" + fig + "/report.csv"), settings) << md;
  // Every setting has its 3 seeds.
  std::stringstream s(md);
  std::string line;
  int rows = 0;
  while (std::getline(s, line))
    if (line.rfind("| ", 0) == 0 && line.find(" | 3 | ") != std::string::npos) ++rows;
  EXPECT_EQ(rows, settings) << md;
  EXPECT_GT(read_file(kWork + "/report_" + fig + "/return_vs_epochs.png").size(), 1000u);
}

// fig3: fixed k in {1,2,5,10,100} and the interval and adaptive schedules,
// for BC and TD3: 14 settings.
TEST_F(Experiments, Fig3RunsThroughReport) { train_and_report("fig3", "fig3_schedules", 14); }

// fig4: TD3BC+JSRL, no BC, no jump start, neither; BC, TD3BC, TD3: 7.
TEST_F(Experiments, Fig4RunsThroughReport) { train_and_report("fig4", "fig4_baselines", 7); }

// Every file has the three scales, paper, cpu and smoke: a scale it does
// not have is refused, naming those it has.
TEST_F(Experiments, EachFileHasThePaperCpuAndSmokeScales) {
  for (const char *f : {"fig3", "fig3_schedules", "fig4", "fig4_baselines"}) {
    std::string out;
    EXPECT_EQ(run(std::string("train --config ") + kExp + f + ".ini experiment.scale=none --out runs/x", &out), 2);
    EXPECT_NE(out.find("(paper, cpu, smoke)"), std::string::npos) << f << ": " << out;
  }
}

TEST_F(Experiments, CommandConfigsAreTaken) {
  std::string out;
  ASSERT_EQ(run("surrogate-analysis --config " + kExp + "fig1.ini --csv fig1.csv", &out), 0) << out;
  EXPECT_GT(data_rows(work + "/fig1.csv"), 0);
  ASSERT_EQ(run("train --guide pid --epochs 1 --out runs/one train.envs=2 train.collect_steps=60 train.updates=2 "
                "train.batch=4 train.hidden=8,8 train.eval_episodes=2 train.buffer=5000", &out), 0) << out;
  const std::string ckpt = work + "/runs/one";
  ASSERT_EQ(::run("eval checkpoint.safetensors --config " + kExp + "table3.ini --trajectory circle eval.episodes=2",
                &out, ckpt),
            0)
      << out;
  EXPECT_NE(out.find("tracking error"), std::string::npos) << out;
  ASSERT_EQ(::run("metrics checkpoint.safetensors --config " + kExp + "energy.ini metrics.episodes=2", &out, ckpt), 0)
      << out;
  EXPECT_NE(out.find("activation sparsity"), std::string::npos) << out;
}

}  // namespace
