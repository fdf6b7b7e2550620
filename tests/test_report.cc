// `spikefly report` on run directories written by hand: the table it gives
// is the hand-computed one (means, sample standard deviations, seeds, the
// first evaluation reaching 100), an experiment directory stands for its
// populations, and it refuses a missing directory, run directories of
// different experiments and a run without evaluations, naming them.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli_test_util.h"

namespace {

const char *kHeader = "epoch,agent,env_steps,updates,wall_s,return_final,return_current,survival,setting\n";

// A run directory of experiment `name`: config.ini and progress.csv.
void make_run(const std::string &dir, const std::string &name, const std::string &rows) {
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str());
  write_file(dir + "/config.ini", "[experiment]\nname = " + name + "\nscale = cpu\n[train]\nalgo = td3\n");
  write_file(dir + "/progress.csv", std::string(kHeader) + rows);
}

// Each test's own directory: ctest runs the tests of this file in parallel.
std::string root() {
  return "/tmp/sf_test_report_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
}

// Run A, online: setting "td3" with 3 seeds evaluated at epochs 2 and 4
// (epochs 1 and 3 have no evaluation), and "td3 model.slope=5" with one.
//   seed 0: 50 (surv 0.1) then 150 (0.6): reaches 100 at epoch 4, 2000 steps
//   seed 1: 110 (0.3) then 90 (0.4):      reaches 100 at epoch 2, 1000 steps
//   seed 2: -20 (0.0) then 60 (0.2):      never
// Final return 150, 90, 60: mean 100, sample std sqrt(4200/2) = 45.83;
// survival 0.6, 0.4, 0.2: 0.4 +- 0.2; epochs to 100: 4, 2: 3 +- 1.41;
// env steps 2000, 1000: 1500 +- 707.1; not reached by 1 of 3.
// Run B, offline: "bc" with 2 seeds, final 200 and 300 (250 +- 70.71),
// both reaching 100 at epoch 2.
void make_known() {
  std::system(("rm -rf " + root()).c_str());
  std::string a;
  for (int e = 1; e <= 4; ++e) {
    const int steps = 500 * e;
    const char *r0 = e == 2 ? "50" : e == 4 ? "150" : "nan", *s0 = e == 2 ? "0.1" : e == 4 ? "0.6" : "nan";
    const char *r1 = e == 2 ? "110" : e == 4 ? "90" : "nan", *s1 = e == 2 ? "0.3" : e == 4 ? "0.4" : "nan";
    const char *r2 = e == 2 ? "-20" : e == 4 ? "60" : "nan", *s2 = e == 2 ? "0" : e == 4 ? "0.2" : "nan";
    const char *r3 = e == 2 ? "10" : e == 4 ? "20" : "nan", *s3 = e == 2 ? "0" : e == 4 ? "0.1" : "nan";
    const std::string E = std::to_string(e), S = std::to_string(steps), U = std::to_string(10 * e);
    a += E + ",0," + S + "," + U + ",1," + r0 + "," + r0 + "," + s0 + ",td3 seed=0\n";
    a += E + ",1," + S + "," + U + ",1," + r1 + "," + r1 + "," + s1 + ",td3 seed=1\n";
    a += E + ",2," + S + "," + U + ",1," + r2 + "," + r2 + "," + s2 + ",td3 seed=2\n";
    a += E + ",3," + S + "," + U + ",1," + r3 + "," + r3 + "," + s3 + ",td3 model.slope=5 seed=0\n";
  }
  make_run(root() + "/exp/A", "known", a);
  make_run(root() + "/exp/B", "known",
           "1,0,0,10,1,nan,nan,nan,bc seed=0\n1,1,0,10,1,nan,nan,nan,bc seed=1\n"
           "2,0,0,20,1,120,120,0.5,bc seed=0\n2,1,0,20,1,130,130,0.7,bc seed=1\n"
           "3,0,0,30,1,200,200,0.8,bc seed=0\n3,1,0,30,1,300,300,1,bc seed=1\n");
  write_file(root() + "/exp/populations.txt", "A\nB\n");
}

TEST(Report, GivesTheHandComputedTable) {
  make_known();
  std::string out;
  const std::string dir = root() + "/out";
  ASSERT_EQ(run("report " + root() + "/exp/A " + root() + "/exp/B --out " + dir, &out), 0) << out;
  const std::string md = read_file(dir + "/report.md");
  EXPECT_NE(md.find("# Experiment known, scale cpu"), std::string::npos) << md;
  EXPECT_NE(md.find("| td3 | 3 | 4 | 100.0 ± 45.8 | 0.400 ± 0.200 | 3.0 ± 1.4 (not reached by 1 of 3) | "
                    "1500 ± 707 (not reached by 1 of 3) | " + root() + "/exp/A/config.ini |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| td3 model.slope=5 | 1 | 4 | 20.0 | 0.100 | not reached by 1 of 1 | not reached by 1 of 1 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| bc | 2 | 3 | 250.0 ± 70.7 | 0.900 ± 0.141 | 2.0 ± 0.0 | - (offline) | " + root() +
                    "/exp/B/config.ini |"),
            std::string::npos)
      << md;

  // The CSV in full precision.
  std::stringstream csv(read_file(dir + "/report.csv"));
  std::string line;
  std::getline(csv, line);
  auto head = csv_fields(line);
  std::vector<std::vector<std::string>> rows;
  while (std::getline(csv, line)) rows.push_back(csv_fields(line));
  ASSERT_EQ(rows.size(), 3u);
  auto col = [&](int r, const std::string &name) {
    for (size_t i = 0; i < head.size(); ++i)
      if (head[i] == name) return rows[r][i];
    ADD_FAILURE() << "no column " << name;
    return std::string();
  };
  auto num = [&](int r, const std::string &name) { return std::atof(col(r, name).c_str()); };
  EXPECT_EQ(col(0, "setting"), "td3");
  EXPECT_EQ(col(0, "seeds"), "3");
  EXPECT_DOUBLE_EQ(num(0, "return_final_mean"), 100.0);
  EXPECT_NEAR(num(0, "return_final_std"), std::sqrt(2100.0), 1e-9);
  EXPECT_NEAR(num(0, "survival_mean"), 0.4, 1e-12);
  EXPECT_NEAR(num(0, "survival_std"), 0.2, 1e-12);
  EXPECT_EQ(col(0, "reached"), "2");
  EXPECT_DOUBLE_EQ(num(0, "epochs_to_threshold_mean"), 3.0);
  EXPECT_NEAR(num(0, "epochs_to_threshold_std"), std::sqrt(2.0), 1e-12);
  EXPECT_DOUBLE_EQ(num(0, "env_steps_to_threshold_mean"), 1500.0);
  EXPECT_NEAR(num(0, "env_steps_to_threshold_std"), std::sqrt(500000.0), 1e-9);
  EXPECT_EQ(col(0, "config"), root() + "/exp/A/config.ini");
  EXPECT_EQ(col(1, "return_final_std"), "") << "one seed has no spread";
  EXPECT_EQ(col(1, "epochs_to_threshold_mean"), "");
  EXPECT_EQ(col(2, "setting"), "bc");
  EXPECT_EQ(col(2, "offline"), "1");
  EXPECT_NEAR(num(2, "return_final_std"), std::sqrt(5000.0), 1e-9);

  // The curve of "td3" at epoch 2: mean of 50, 110, -20; min -20, max 110.
  std::stringstream dat(read_file(dir + "/curve_1.dat"));
  int epoch = 0, n = 0;
  double steps, upd, mean, sd, lo, hi;
  while (std::getline(dat, line))
    if (line[0] != '#' && std::sscanf(line.c_str(), "%d %d %lf %lf %lf %lf %lf %lf", &epoch, &n, &steps, &upd, &mean,
                                      &sd, &lo, &hi) == 8)
      break;
  EXPECT_EQ(epoch, 2);
  EXPECT_EQ(n, 3);
  EXPECT_DOUBLE_EQ(steps, 1000.0);
  EXPECT_NEAR(mean, 140.0 / 3.0, 1e-6);
  EXPECT_DOUBLE_EQ(lo, -20.0);
  EXPECT_DOUBLE_EQ(hi, 110.0);
  for (const char *png : {"return_vs_env_steps.png", "return_current_vs_env_steps.png", "return_vs_epochs.png"})
    EXPECT_GT(read_file(dir + "/" + png).size(), 1000u) << png;

  // The experiment directory stands for its populations: the same table.
  ASSERT_EQ(run("report " + root() + "/exp --out " + root() + "/out2", &out), 0) << out;
  EXPECT_EQ(read_file(root() + "/out2/report.csv"), read_file(dir + "/report.csv"));
}

TEST(Report, RefusesRunsOfDifferentExperiments) {
  make_known();
  make_run(root() + "/other", "fig9", "1,0,100,1,1,5,5,0,td3 seed=0\n");
  std::string out;
  EXPECT_EQ(run("report " + root() + "/exp/A " + root() + "/other --out " + root() + "/o", &out), 2) << out;
  for (const std::string &named : std::vector<std::string>{"'known'", "'fig9'", root() + "/exp/A", root() + "/other"})
    EXPECT_NE(out.find(named), std::string::npos) << "does not name " << named << ":\n" << out;
}

TEST(Report, RefusesAMissingDirectory) {
  make_known();
  std::string out;
  EXPECT_EQ(run("report " + root() + "/exp/A " + root() + "/nonexistent --out " + root() + "/o", &out), 2) << out;
  EXPECT_NE(out.find(root() + "/nonexistent"), std::string::npos) << out;
  // A population listed in populations.txt that has not run.
  write_file(root() + "/exp/populations.txt", "A\nB\nC\n");
  EXPECT_EQ(run("report " + root() + "/exp --out " + root() + "/o", &out), 2) << out;
  EXPECT_NE(out.find(root() + "/exp/C"), std::string::npos) << out;
}

TEST(Report, RefusesARunWithoutEvaluations) {
  make_known();
  make_run(root() + "/noeval", "known", "1,0,100,1,1,nan,nan,nan,td3 seed=0\n2,0,200,2,1,nan,nan,nan,td3 seed=0\n");
  std::string out;
  EXPECT_EQ(run("report " + root() + "/exp/A " + root() + "/noeval --out " + root() + "/o", &out), 2) << out;
  EXPECT_NE(out.find(root() + "/noeval"), std::string::npos) << out;
  EXPECT_NE(out.find("no evaluation"), std::string::npos) << out;
}

}  // namespace
