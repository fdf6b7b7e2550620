// `spikefly plot` as a user runs it, on a run directory and a flight CSV
// written by hand: the PNG files are written (real PNGs of some size), agents
// that differ only in their seed share one curve, and bad input (a directory
// without progress.csv, a missing flight file) exits with code 2 naming it,
// a missing gnuplot with code 1.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "tests/cli_test_util.h"

namespace {

class Plot : public ::testing::Test {
 protected:
  std::string dir, run_dir, flight;

  void SetUp() override {
    char tmpl[] = "/tmp/sf_test_plot_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    run_dir = dir + "/run_slopes";
    ASSERT_EQ(mkdir(run_dir.c_str(), 0755), 0);
    // A sweep of 2 slopes x 2 seeds (agents in grid order, the first key
    // slowest); evaluations on epochs 2 and 4 only.
    write_file(run_dir + "/config.ini",
               "# spikefly run configuration (INI, section.key = value)\n"
               "train.algo = td3bc_jsrl\ntrain.epochs = 4\n"
               "# sweep model.slope = 2,10\n# sweep seed = 1,2\n");
    std::string p =
        "epoch,agent,env_steps,updates,wall_s,return_final,return_current,episode_len,survival,survive_warmup,"
        "hover_err,slope,bc_weight,horizon,critic_loss,actor_loss,mean_q\n";
    for (int e = 1; e <= 4; ++e) {
      for (int a = 0; a < 4; ++a) {
        char row[512];
        double slope = a < 2 ? 2 : 10, bc = 0.2 * std::pow(0.99, e);
        if (e % 2 == 0) {
          double ret = 50.0 * e + 20 * a;
          snprintf(row, sizeof row, "%d,%d,%d,%d,%.3f,%.4f,%.4f,300,0.5,0.8,0.1,%g,%.6f,400,0.5,-1.2,3.4\n", e, a,
                   1000 * e, 50 * e, 1.5 * e, ret, ret + 5, slope, bc);
        } else {
          snprintf(row, sizeof row, "%d,%d,%d,%d,%.3f,nan,nan,nan,nan,nan,nan,%g,%.6f,400,0.5,-1.2,3.4\n", e, a,
                   1000 * e, 50 * e, 1.5 * e, slope, bc);
        }
        p += row;
      }
    }
    write_file(run_dir + "/progress.csv", p);
    // Two episodes circling the origin, the second drifting off its target.
    flight = dir + "/flight.csv";
    std::string f =
        "episode,env,step,t,px,py,pz,qw,qx,qy,qz,vx,vy,vz,wx,wy,wz,m0,m1,m2,m3,tx,ty,tz,tvx,tvy,tvz,a0,a1,a2,a3,"
        "reward\n";
    for (int ep = 0; ep < 2; ++ep) {
      for (int s = 1; s <= 100; ++s) {
        double t = 0.01 * s, w = 2 * M_PI * t;
        double tx = 0.5 * std::cos(w), ty = 0.5 * std::sin(w), tz = 0;
        double off = 0.05 + 0.1 * ep * t;
        char row[512];
        snprintf(row, sizeof row,
                 "%d,%d,%d,%.2f,%.5f,%.5f,%.5f,1,0,0,0,0,0,0,0,0,0,0.66,0.66,0.66,0.66,%.5f,%.5f,%.5f,0,0,0,0.3,0.3,"
                 "0.3,0.3,0.9\n",
                 ep, ep, s, t, tx + off, ty - off, tz + 0.5 * off, tx, ty, tz);
        f += row;
      }
    }
    write_file(flight, f);
  }

  void TearDown() override {
    if (!dir.empty() && !HasFailure() && std::system(("rm -rf '" + dir + "'").c_str()) != 0)
      fprintf(stderr, "could not remove %s\n", dir.c_str());
  }
};

void expect_png(const std::string &path) {
  std::string data = read_file(path);
  ASSERT_FALSE(data.empty()) << path << " missing or empty";
  EXPECT_EQ(data.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)), 0) << path << " is not a PNG";
  EXPECT_GT(data.size(), 5000u) << path << " is suspiciously small";
}

TEST_F(Plot, WritesLearningCurvesAndFlightPlots) {
  std::string out;
  // Default output directory: the first run directory.
  ASSERT_EQ(run("plot " + run_dir + " --flight " + flight + " --flight " + flight, &out), 0) << out;
  for (const char *png : {"return_vs_steps.png", "return_vs_time.png", "slope_bc.png", "flight_1.png",
                          "flight_2.png"}) {
    std::string path = run_dir + "/" + png;
    expect_png(path);
    EXPECT_NE(out.find(path), std::string::npos) << "path not printed: " << path << "\n" << out;
  }
  // Seeds of one slope form one curve: two curves, each over two agents, with
  // the mean and the min-max band of the evaluations (epoch 2: returns 100,
  // 120 for slope 2 and 140, 160 for slope 10).
  std::string dat = read_file(run_dir + "/plot_return.dat");
  EXPECT_NE(dat.find("# run_slopes: model.slope=2 (2 agents)"), std::string::npos) << dat;
  EXPECT_NE(dat.find("# run_slopes: model.slope=10 (2 agents)"), std::string::npos) << dat;
  EXPECT_EQ(dat.find("seed="), std::string::npos) << dat;
  EXPECT_NE(dat.find("2 2000 100 3 110 100 120 2\n"), std::string::npos) << dat;
  EXPECT_NE(dat.find("2 2000 100 3 150 140 160 2\n"), std::string::npos) << dat;
  EXPECT_EQ(dat.find("\n1 "), std::string::npos) << "an epoch without evaluation was plotted:\n" << dat;
}

TEST_F(Plot, OutDirAndOnlyFlights) {
  std::string out, out_dir = dir + "/figures/new";
  ASSERT_EQ(run("plot --flight " + flight + " --out " + out_dir, &out), 0) << out;
  expect_png(out_dir + "/flight_1.png");
  struct stat st;
  EXPECT_NE(stat((out_dir + "/return_vs_steps.png").c_str(), &st), 0);
}

TEST_F(Plot, BadInputExitsTwoNamingIt) {
  std::string out, empty = dir + "/not_a_run";
  ASSERT_EQ(mkdir(empty.c_str(), 0755), 0);
  EXPECT_EQ(run("plot " + empty, &out), 2) << out;
  EXPECT_NE(out.find(empty), std::string::npos) << out;
  EXPECT_NE(out.find("progress.csv"), std::string::npos) << out;

  expect_usage_error("plot " + run_dir + " --flight " + dir + "/no_such_flight.csv", "no_such_flight.csv");
  expect_usage_error("plot " + run_dir + " --band wide", "plot.band");

  EXPECT_EQ(run("plot", &out), 2) << out;

  // progress.csv without the columns the curves need.
  std::string bad = dir + "/bad_run";
  ASSERT_EQ(mkdir(bad.c_str(), 0755), 0);
  write_file(bad + "/progress.csv", "epoch,agent,env_steps\n1,0,100\n");
  EXPECT_EQ(run("plot " + bad, &out), 2) << out;
  EXPECT_NE(out.find("no column 'updates'"), std::string::npos) << out;
}

TEST_F(Plot, MissingGnuplotExitsOne) {
  std::string out;
  EXPECT_EQ(run("plot " + run_dir + " --gnuplot " + dir + "/no/gnuplot", &out), 1) << out;
  EXPECT_NE(out.find("gnuplot not found"), std::string::npos) << out;
  // A failing gnuplot (here: `false`) is reported too.
  EXPECT_EQ(run("plot " + run_dir + " --gnuplot false", &out), 1) << out;
  EXPECT_NE(out.find("gnuplot failed"), std::string::npos) << out;
}

}  // namespace
