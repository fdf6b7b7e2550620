// Config parsing and validation: every bad input names its key or file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

extern "C" {
#include "core/sf_config.h"
#include "cli/sf_cli.h"
}

namespace {

std::string write_tmp(const char *text) {
  char path[] = "/tmp/sf_cfg_XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  return path;
}

TEST(Config, ReadsIniAndOverridesWin) {
  std::string p = write_tmp("top = 3\n[sim]\nenvs = 16\ndt = 0.01\nname = cf21\n");
  sf_config *c = sf_cfg_new();
  ASSERT_EQ(sf_cfg_load_file(c, p.c_str()), 0);
  ASSERT_EQ(sf_cfg_set_override(c, "sim.envs=32"), 0);
  EXPECT_EQ(sf_cfg_int(c, "sim.envs", 1, 1, 1000), 32);
  EXPECT_DOUBLE_EQ(sf_cfg_float(c, "sim.dt", 0.1, 1e-6, 1.0), 0.01);
  EXPECT_STREQ(sf_cfg_str(c, "sim.name", "x"), "cf21");
  EXPECT_EQ(sf_cfg_int(c, "top", 0, 0, 10), 3);
  EXPECT_EQ(sf_cfg_int(c, "sim.absent", 7, 1, 10), 7);
  EXPECT_EQ(sf_cfg_error(c), nullptr);
  EXPECT_EQ(sf_cfg_check_unused(c), 0);
  sf_cfg_free(c);
  remove(p.c_str());
}

TEST(Config, UnknownKeyIsNamed) {
  sf_config *c = sf_cfg_new();
  sf_cfg_set_override(c, "sim.envs=4");
  sf_cfg_set_override(c, "sim.enfs=4");
  sf_cfg_int(c, "sim.envs", 1, 1, 100);
  EXPECT_NE(sf_cfg_check_unused(c), 0);
  ASSERT_NE(sf_cfg_error(c), nullptr);
  EXPECT_NE(std::string(sf_cfg_error(c)).find("sim.enfs"), std::string::npos);
  sf_cfg_free(c);
}

struct BadValue {
  const char *value;
  const char *expect;  // a fragment of the message
};

TEST(Config, BadValuesAreErrorsNamingTheKey) {
  const BadValue ints[] = {{"abc", "not an integer"}, {"0", "out of range"}, {"-3", "out of range"},
                           {"12x", "not an integer"}, {"", "not an integer"}};
  for (const auto &b : ints) {
    sf_config *c = sf_cfg_new();
    sf_cfg_set(c, "fly.envs", b.value);
    EXPECT_EQ(sf_cfg_int(c, "fly.envs", 5, 1, 1 << 20), 5) << b.value;
    ASSERT_NE(sf_cfg_error(c), nullptr) << b.value;
    EXPECT_NE(std::string(sf_cfg_error(c)).find("fly.envs"), std::string::npos);
    EXPECT_NE(std::string(sf_cfg_error(c)).find(b.expect), std::string::npos) << sf_cfg_error(c);
    sf_cfg_free(c);
  }
  const BadValue floats[] = {{"nan", "finite"}, {"inf", "finite"}, {"1e999", "not a number"},
                             {"0.5.1", "not a number"}, {"-1", "out of range"}};
  for (const auto &b : floats) {
    sf_config *c = sf_cfg_new();
    sf_cfg_set(c, "sim.dt", b.value);
    sf_cfg_float(c, "sim.dt", 0.01, 1e-6, 1.0);
    ASSERT_NE(sf_cfg_error(c), nullptr) << b.value;
    EXPECT_NE(std::string(sf_cfg_error(c)).find("sim.dt"), std::string::npos);
    EXPECT_NE(std::string(sf_cfg_error(c)).find(b.expect), std::string::npos) << sf_cfg_error(c);
    sf_cfg_free(c);
  }
}

TEST(Config, MissingFileAndBadLineAreNamed) {
  sf_config *c = sf_cfg_new();
  EXPECT_NE(sf_cfg_load_file(c, "/nonexistent/x.ini"), 0);
  EXPECT_NE(std::string(sf_cfg_error(c)).find("/nonexistent/x.ini"), std::string::npos);
  sf_cfg_free(c);
  std::string p = write_tmp("[sim]\nenvs = 3\nthis line has no equals\n");
  c = sf_cfg_new();
  EXPECT_NE(sf_cfg_load_file(c, p.c_str()), 0);
  EXPECT_NE(std::string(sf_cfg_error(c)).find("line 3"), std::string::npos) << sf_cfg_error(c);
  sf_cfg_free(c);
  remove(p.c_str());
}

TEST(Config, ChoicesListsAndBools) {
  static const char *const traj[] = {"hover", "circle", "figure8", "square", nullptr};
  sf_config *c = sf_cfg_new();
  sf_cfg_set(c, "fly.trajectory", "figure8");
  sf_cfg_set(c, "sweep.slope", "1, 2,5 ,100");
  sf_cfg_set(c, "train.bc", "false");
  EXPECT_EQ(sf_cfg_choice(c, "fly.trajectory", "hover", traj), 2);
  double v[8];
  ASSERT_EQ(sf_cfg_floats(c, "sweep.slope", nullptr, 0, 1, 100, v, 8), 4);
  EXPECT_EQ(v[2], 5.0);
  EXPECT_EQ(sf_cfg_bool(c, "train.bc", 1), 0);
  EXPECT_EQ(sf_cfg_error(c), nullptr);
  sf_cfg_set(c, "fly.trajectory", "loop");
  sf_cfg_choice(c, "fly.trajectory", "hover", traj);
  ASSERT_NE(sf_cfg_error(c), nullptr);
  EXPECT_NE(std::string(sf_cfg_error(c)).find("hover|circle|figure8|square"), std::string::npos);
  sf_cfg_free(c);
}

TEST(Config, WrittenIniReadsBackTheSame) {
  sf_config *c = sf_cfg_new();
  sf_cfg_set(c, "seed", "4");
  sf_cfg_set(c, "sim.envs", "8");
  sf_cfg_set(c, "train.lr", "0.001");
  sf_cfg_set(c, "sim.dt", "0.01");
  std::string p = "/tmp/sf_cfg_roundtrip.ini";
  ASSERT_EQ(sf_cfg_write_ini(c, p.c_str()), 0);
  sf_config *d = sf_cfg_new();
  ASSERT_EQ(sf_cfg_load_file(d, p.c_str()), 0);
  ASSERT_EQ(sf_cfg_count(d), sf_cfg_count(c));
  for (int i = 0; i < sf_cfg_count(c); ++i) {
    const char *k, *v;
    sf_cfg_entry(c, i, &k, &v);
    ASSERT_NE(sf_cfg_peek(d, k), nullptr) << k;
    EXPECT_STREQ(sf_cfg_peek(d, k), v);
  }
  sf_cfg_free(c);
  sf_cfg_free(d);
  remove(p.c_str());
}

const sf_flag kFlags[] = {
    {"envs", "fly.envs", nullptr, "N", "environments"},
    {"no-bc", "train.bc", "false", nullptr, "disable BC"},
};
const sf_cmd_spec kSpec = {"t", "[FILE]", "test", kFlags, 2, 0, 1, nullptr};

int parse(std::initializer_list<const char *> args, sf_config *c, int *npos) {
  std::vector<char *> argv;
  for (const char *a : args) argv.push_back(const_cast<char *>(a));
  const char *pos[1];
  return sf_cli_parse(&kSpec, (int)argv.size(), argv.data(), c, pos, npos);
}

TEST(Cli, FlagsBecomeConfigKeys) {
  sf_config *c = sf_cfg_new();
  int npos;
  ASSERT_EQ(parse({"t", "--envs", "12", "--no-bc", "x.y=3", "file"}, c, &npos), SF_CLI_OK);
  EXPECT_EQ(npos, 1);
  EXPECT_STREQ(sf_cfg_peek(c, "fly.envs"), "12");
  EXPECT_STREQ(sf_cfg_peek(c, "train.bc"), "false");
  EXPECT_STREQ(sf_cfg_peek(c, "x.y"), "3");
  sf_cfg_free(c);
}

TEST(Cli, BadCommandLinesAreErrors) {
  int npos;
  for (auto args : {std::initializer_list<const char *>{"t", "--bogus"}, {"t", "--envs"}, {"t", "a", "b"},
                    {"t", "--no-bc=1"}, {"t", "--config", "/nonexistent.ini"}, {"t", "=3"}}) {
    sf_config *c = sf_cfg_new();
    EXPECT_EQ(parse(args, c, &npos), SF_CLI_ERROR);
    sf_cfg_free(c);
  }
}

}  // namespace
