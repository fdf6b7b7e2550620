// The experiment files of experiments/: each parses and, at the smoke scale,
// runs end to end through `spikefly report` (fig3 and fig4, both parts of
// each under one experiment name; table3, its three actors a variant group,
// through `report --evaluate`, whose table is checked against `spikefly
// eval` run directly); fig1 and energy are configs of surrogate-analysis
// and metrics, and those commands take them.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

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
  for (const char *f : {"fig3", "fig3_schedules", "fig4", "fig4_baselines", "table3"}) {
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
  ASSERT_EQ(::run("metrics checkpoint.safetensors --config " + kExp + "energy.ini metrics.episodes=2", &out, ckpt), 0)
      << out;
  EXPECT_NE(out.find("activation sparsity"), std::string::npos) << out;
}

// A CSV file as rows of named fields (no quoted commas in these files).
std::vector<std::map<std::string, std::string>> csv_rows(const std::string &path) {
  std::stringstream s(read_file(path));
  std::string line;
  std::vector<std::string> head;
  std::vector<std::map<std::string, std::string>> rows;
  if (std::getline(s, line)) head = csv_fields(line);
  while (std::getline(s, line)) {
    const auto f = csv_fields(line);
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < head.size() && i < f.size(); ++i) row[head[i]] = f[i];
    rows.push_back(row);
  }
  return rows;
}

// The number after `label` in `spikefly eval`'s output, NaN for "n/a".
double eval_figure(const std::string &out, const std::string &label) {
  const size_t at = out.find(label);
  if (at == std::string::npos) return -1e300;
  return std::strtod(out.c_str() + at + label.size(), nullptr);
}

double num(const std::string &s) { return s.empty() ? NAN : std::atof(s.c_str()); }

// Mean and sample standard deviation (NaN for fewer than two).
void mean_sd(const std::vector<double> &x, double *mean, double *sd) {
  double s = 0, q = 0;
  for (double v : x) s += v;
  *mean = s / x.size();
  for (double v : x) q += (v - *mean) * (v - *mean);
  *sd = x.size() > 1 ? std::sqrt(q / (x.size() - 1)) : NAN;
}

// table3: the three actors (a variant group of [sweep]) trained as three
// populations, then `report --evaluate` on all four trajectories. The runs
// never terminate (env.term_pos = 1000, from their config.ini), so the
// untrained networks survive and every error is a number. The table is
// checked twice: its cells are the mean and spread of its seeds, and each
// seed's figures are those of `spikefly eval` on the same checkpoint.
TEST_F(Experiments, Table3RunsThroughReportWithEvaluations) {
  std::string out;
  ASSERT_EQ(run("train --config " + kExp + "table3.ini experiment.scale=smoke env.term_pos=1000 --out runs/table3",
                &out), 0) << out;
  EXPECT_EQ(read_file(work + "/runs/table3/populations.txt"), "actor=snn\nactor=ann_hist\nactor=ann\n");
  // Each variant's section set its keys; the smoke scale's network won.
  const std::string hist = read_file(work + "/runs/table3/actor=ann_hist/config.ini");
  for (const char *line : {"train.actor = mlp\n", "train.actor_input = obs_hist\n", "train.hidden = 8,8\n"})
    EXPECT_NE(hist.find(line), std::string::npos) << line << hist;
  EXPECT_EQ(hist.find("[actor."), std::string::npos) << hist;
  EXPECT_NE(read_file(work + "/runs/table3/actor=snn/config.ini").find("train.actor = snn\n"), std::string::npos);

  ASSERT_EQ(run("report runs/table3 --evaluate hover,circle,figure8,square --episodes 3 --out rep", &out), 0) << out;
  const std::string md = read_file(work + "/rep/evaluation.md");
  EXPECT_NE(md.find("# Experiment table3, scale smoke: evaluations"), std::string::npos) << md;
  EXPECT_NE(md.find("| hover error (m) | hover survival | circle tracking error (m) |"), std::string::npos) << md;
  const auto cells = csv_rows(work + "/rep/evaluation.csv");
  const auto seeds = csv_rows(work + "/rep/evaluation_seeds.csv");
  ASSERT_EQ(cells.size(), 12u);  // 3 actors x 4 trajectories
  ASSERT_EQ(seeds.size(), 36u);  // ... x 3 seeds
  int with_error = 0;
  for (const auto &c : cells) {
    EXPECT_EQ(c.at("seeds"), "3");
    std::vector<double> err, surv, ret;
    for (const auto &s : seeds) {
      if (s.at("setting") != c.at("setting") || s.at("trajectory") != c.at("trajectory")) continue;
      if (!s.at("error").empty()) err.push_back(num(s.at("error")));
      surv.push_back(num(s.at("survival")));
      ret.push_back(num(s.at("return")));
    }
    ASSERT_EQ(surv.size(), 3u) << c.at("setting");
    double m, sd;
    mean_sd(ret, &m, &sd);
    EXPECT_NEAR(num(c.at("return_mean")), m, 1e-9 * std::fabs(m));
    EXPECT_NEAR(num(c.at("return_std")), sd, 1e-9 * std::fabs(m));
    mean_sd(surv, &m, &sd);
    EXPECT_NEAR(num(c.at("survival_mean")), m, 1e-12);
    EXPECT_EQ(c.at("seeds_with_error"), std::to_string(err.size()));
    if (err.empty()) continue;
    ++with_error;
    mean_sd(err, &m, &sd);
    EXPECT_NEAR(num(c.at("error_mean")), m, 1e-9);
    if (err.size() > 1) {
      EXPECT_NEAR(num(c.at("error_std")), sd, 1e-9);
    }
  }
  EXPECT_GE(with_error, 6) << "most cells should have surviving episodes";

  // Each seed as `spikefly eval` flies it (in the run directory: its name
  // holds '=', which eval would read as an override).
  int compared = 0;
  for (const auto &s : seeds) {
    if (s.at("agent") == "0" && s.at("trajectory") == "square") continue;  // the others cover agent 0
    if (s.at("agent") != "0" && s.at("trajectory") != "circle" && s.at("trajectory") != "hover") continue;
    const std::string dir = work + "/runs/table3/" + s.at("setting").substr(std::string("td3bc_jsrl ").size());
    ASSERT_EQ(::run("eval checkpoint.safetensors env.term_pos=1000 --episodes 3 --agent " + s.at("agent") +
                        " --trajectory " + s.at("trajectory"), &out, dir), 0) << out;
    const std::string what = s.at("setting") + " agent " + s.at("agent") + " " + s.at("trajectory") + ":\n" + out;
    EXPECT_NE(out.find(", seed " + s.at("seed") + ","), std::string::npos) << what;
    EXPECT_NEAR(eval_figure(out, "mean return"), num(s.at("return")), 0.006 + 1e-8 * std::fabs(num(s.at("return"))))
        << what;
    EXPECT_NEAR(eval_figure(out, "survival rate"), num(s.at("survival")), 6e-4) << what;
    const std::string label = s.at("trajectory") == "hover" ? "hover error" : "tracking error";
    if (s.at("error").empty())
      EXPECT_NE(out.find(label + "      n/a"), std::string::npos) << what;
    else
      EXPECT_NEAR(eval_figure(out, label), num(s.at("error")), 6e-5 + 1e-7 * num(s.at("error"))) << what;
    ++compared;
  }
  EXPECT_EQ(compared, 3 * 3 + 3 * 2 * 2);

  // Refused, naming the problem: a word that is not a trajectory, a run
  // whose checkpoint is gone.
  EXPECT_EQ(run("report runs/table3 --evaluate hover,spiral --out rep2", &out), 2) << out;
  EXPECT_NE(out.find("'spiral'"), std::string::npos) << out;
  std::remove((work + "/runs/table3/actor=ann/checkpoint.safetensors").c_str());
  EXPECT_EQ(run("report runs/table3 --evaluate hover --episodes 1 --out rep2", &out), 2) << out;
  EXPECT_NE(out.find("runs/table3/actor=ann"), std::string::npos) << out;
  EXPECT_NE(out.find("no checkpoint"), std::string::npos) << out;
}

// A variant group: a sweep key whose values name sections sets their keys
// together; a value without its section is refused, naming it.
TEST_F(Experiments, VariantGroupNeedsASectionPerValue) {
  write_file(work + "/exp.ini", "[experiment]\nname = v\n[train]\nguide = pid\nenvs = 2\nepochs = 1\n"
                                "collect_steps = 60\nupdates = 1\nbatch = 4\nbuffer = 5000\neval_episodes = 2\n"
                                "hidden = 8,8\n[sweep]\nnet = wide, narrow\n[net.wide]\ntrain.hidden = 16,8\n"
                                "[net.narrow]\ntrain.hidden = 4,4\n");
  std::string out;
  ASSERT_EQ(run("train --config exp.ini --out runs/v", &out), 0) << out;
  EXPECT_NE(read_file(work + "/runs/v/net=wide/config.ini").find("train.hidden = 16,8\n"), std::string::npos);
  EXPECT_NE(read_file(work + "/runs/v/net=narrow/config.ini").find("train.hidden = 4,4\n"), std::string::npos);
  // The command line wins over a variant's section, as over the file.
  ASSERT_EQ(run("train --config exp.ini train.hidden=6,6 --out runs/w", &out), 0) << out;
  EXPECT_NE(read_file(work + "/runs/w/net=wide/config.ini").find("train.hidden = 6,6\n"), std::string::npos);
  std::string text = read_file(work + "/exp.ini");
  write_file(work + "/exp.ini", text.substr(0, text.find("[net.narrow]")));
  EXPECT_EQ(run("train --config exp.ini --out runs/x", &out), 2) << out;
  EXPECT_NE(out.find("[net.narrow]"), std::string::npos) << out;
}

}  // namespace
