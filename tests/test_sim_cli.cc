// The `spikefly fly` and `spikefly bench` commands as a user runs them: a bad
// option value exits with code 2 and a message naming the key; a good run
// prints its summary.
#include <gtest/gtest.h>

#include <string>

#include "tests/cli_test_util.h"

namespace {

TEST(SpikeflyCli, BadValuesExitTwoAndNameTheKey) {
  struct Case {
    const char *args, *key;
  } cases[] = {
      {"fly --envs 0", "fly.envs"},
      {"fly --episodes -3", "fly.episodes"},
      {"fly --trajectory spiral", "env.trajectory"},
      {"fly --seed abc", "fly.seed"},
      {"fly --controller lqr", "fly.controller"},
      {"fly sim.dt=nan", "sim.dt"},
      {"fly env.noise_pos=-1", "env.noise_pos"},
      {"fly pid.kp=1,2", "pid.kp"},
      {"fly env.no_such_key=1", "env.no_such_key"},
      {"bench sim --envs 0", "bench.envs"},
      {"bench sim --device tpu", "bench.device"},
      {"bench loop --agents 0", "bench.agents"},
      {"bench loop --envs -1", "bench.envs"},
      {"bench train --agents 0", "bench.populations"},
      // Commands with no GPU path refuse cuda on any machine.
      {"fly --device cuda", "device"},
      {"metrics --device cuda", "device"},
      {"eval /no/such/checkpoint --device cuda --csv /tmp/sf_never_written.csv", "device"},
      {"train --guide pid --device tpu", "device"},
  };
  for (const Case &c : cases) expect_usage_error(c.args, c.key);
  expect_usage_error("fly --config /no/such/file.ini", "/no/such/file.ini");
  std::string out;
  EXPECT_EQ(run("bench nothing", &out), 2);
}

TEST(SpikeflyCli, FlyPrintsItsSummary) {
  std::string out;
  ASSERT_EQ(run("fly --episodes 4 --envs 2 --seed 7", &out), 0) << out;
  for (const char *want : {"mean return", "survival rate", "hover error", "tracking error"})
    EXPECT_NE(out.find(want), std::string::npos) << want << " missing:\n" << out;
  ASSERT_EQ(run("fly --help", &out), 0);
  EXPECT_NE(out.find("hover error"), std::string::npos);
}

}  // namespace
