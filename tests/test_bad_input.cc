// Bad input to the `spikefly` commands, as a careless user or a tester gives
// it: every usage or input error exits with code 2, names the option, key or
// file, and leaves nothing behind; outputs are replaced only by complete ones.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

// Runs a shell command line; its exit status, or -1.
int run_sh(const std::string &line, std::string *out) {
  FILE *p = popen((line + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  out->clear();
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Runs `spikefly ARGS` (in directory cwd when given).
int run(const std::string &args, std::string *out, const std::string &cwd = "") {
  return run_sh((cwd.empty() ? "" : "cd '" + cwd + "' && ") + SF_BINARY_DIR "/spikefly " + args, out);
}

bool exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string slurp(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void spit(const std::string &path, const std::string &text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

// A fresh scratch directory per test, removed afterwards.
class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf_bad_input_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    EXPECT_EQ(system(cmd.c_str()), 0);
  }
  std::string path(const std::string &name) const { return dir_ + "/" + name; }
  std::string dir_;
};

// `--out --no-bc` must not train into a directory named --no-bc with BC on:
// an option that takes a value refuses one that is itself an option.
TEST_F(BadInput, AnOptionDoesNotSwallowTheNextFlag) {
  const std::string d = dir_;
  struct Case {
    std::string args, option;
  } cases[] = {
      {"fly --csv --envs 2", "--csv"},
      {"fly --episodes --help", "--episodes"},
      {"eval " + d + "/c.safetensors --csv --episodes 2", "--csv"},
      {"export --random-init 1 --out --format int8", "--out"},
      {"metrics --random-init --episodes 2", "--random-init"},
      {"collect --out --episodes 2", "--out"},
      {"plot " + d + " --out --band none", "--out"},
      {"plot --flight --out " + d, "--flight"},
      {"surrogate-analysis --plot --seed 1", "--plot"},
      {"bench sim --envs --device cpu", "--envs"},
      {"bench train --agents --device cpu", "--agents"},
      {"train --guide pid --epochs 1 --out --no-bc", "--out"},
      {"train-guide --out --epochs 1", "--out"},
      {"fly --config --envs 2", "--config"},
  };
  for (const Case &c : cases) {
    std::string out;
    EXPECT_EQ(run(c.args, &out, d), 2)
        << c.args << "\n" << out;
    EXPECT_NE(out.find(c.option + " needs a value"), std::string::npos) << c.args << ":\n" << out;
  }
  // Nothing was created under a flag's name.
  EXPECT_FALSE(exists(d + "/--no-bc"));
  EXPECT_FALSE(exists(d + "/--envs"));
  EXPECT_FALSE(exists(d + "/--epochs"));
  // A negative number is a value, and `--flag=--x` states a value on purpose.
  std::string out;
  EXPECT_EQ(run("fly --episodes -3", &out), 2);
  EXPECT_NE(out.find("fly.episodes"), std::string::npos) << out;
  EXPECT_EQ(out.find("needs a value"), std::string::npos) << out;
  EXPECT_EQ(run("fly --episodes 2 --envs 2 --csv=" + d + "/--odd.csv", &out), 0) << out;
  EXPECT_TRUE(exists(d + "/--odd.csv"));
}

// A config that is not a readable text file is an error naming the file, not
// a run on the defaults; a long line is reported on its own line number.
TEST_F(BadInput, ConfigFileMustBeAReadableTextFile) {
  std::string out;
  EXPECT_EQ(run("fly --episodes 2 --envs 2 --config " + dir_, &out), 2) << out;
  EXPECT_NE(out.find("'" + dir_ + "' is a directory"), std::string::npos) << out;

  const std::string nul = path("nul.ini");
  spit(nul, std::string("[fly]\nepisodes = 2\0junk\n", 24));
  EXPECT_EQ(run("fly --envs 2 --config " + nul, &out), 2) << out;
  EXPECT_NE(out.find(nul), std::string::npos) << out;
  EXPECT_NE(out.find("line 2 holds a NUL byte"), std::string::npos) << out;

  const std::string longf = path("long.ini");
  spit(longf, "[fly]\n; a comment\nenvs = " + std::string(5000, '1') + "\nepisodes = 2\n");
  EXPECT_EQ(run("fly --config " + longf, &out), 2) << out;
  EXPECT_NE(out.find(longf), std::string::npos) << out;
  EXPECT_NE(out.find("line 3 is 5007 characters long"), std::string::npos) << out;

  // The longest line that is read whole still works.
  const std::string fits = path("fits.ini");
  spit(fits, "[fly]\nenvs = 2\nepisodes = 2" + std::string(180, ' ') + "\n");
  EXPECT_EQ(run("fly --config " + fits, &out), 0) << out;
}

// `spikefly ARGS` with writes limited to `limit_kb` KiB (a disk that fills up
// mid-write: write() fails with EFBIG, the signal ignored).
int run_small_disk(const std::string &args, int limit_kb, std::string *out) {
  return run_sh("trap '' XFSZ; ulimit -f " + std::to_string(limit_kb) + "; " SF_BINARY_DIR "/spikefly " + args,
                out);
}

// A flight CSV that cannot be written whole leaves the earlier file as it was
// and is not reported as written.
TEST_F(BadInput, FailedFlightCsvKeepsTheEarlierFile) {
  const std::string csv = path("flight.csv");
  spit(csv, "an earlier flight\n");
  std::string out;
  EXPECT_EQ(run_small_disk("fly --episodes 2 --envs 2 --csv " + csv, 16, &out), 1) << out;
  EXPECT_EQ(out.find("flights written"), std::string::npos) << out;
  EXPECT_NE(out.find(csv), std::string::npos) << out;
  EXPECT_EQ(slurp(csv), "an earlier flight\n");
  EXPECT_FALSE(exists(csv + ".tmp"));
  // With room it is replaced, and said so.
  EXPECT_EQ(run("fly --episodes 2 --envs 2 --csv " + csv, &out), 0) << out;
  EXPECT_NE(out.find("flights written to " + csv), std::string::npos) << out;
  EXPECT_GT(slurp(csv).size(), 16u * 1024u);
  // An output that cannot be a file is a usage error before the flight.
  EXPECT_EQ(run("fly --episodes 2 --envs 2 --csv " + dir_, &out), 2) << out;
  EXPECT_NE(out.find(dir_), std::string::npos) << out;
  EXPECT_EQ(run("fly --episodes 2 --envs 2 --csv " + dir_ + "/no/such/dir/f.csv", &out), 2) << out;
  EXPECT_NE(out.find(dir_ + "/no/such/dir/f.csv"), std::string::npos) << out;
}

// plot refuses a CSV cut short, naming the line, instead of dropping rows.
TEST_F(BadInput, PlotRefusesATruncatedCsv) {
  const std::string csv = path("flight.csv");
  std::string out;
  ASSERT_EQ(run("fly --episodes 1 --envs 1 --csv " + csv, &out), 0) << out;
  std::string text = slurp(csv);
  int lines = 0;
  for (char c : text) lines += c == '\n';
  spit(csv, text.substr(0, text.size() - 7));
  EXPECT_EQ(run("plot --out " + dir_ + " --flight " + csv, &out), 2) << out;
  EXPECT_NE(out.find(csv), std::string::npos) << out;
  EXPECT_NE(out.find("line " + std::to_string(lines)), std::string::npos) << out;
  EXPECT_FALSE(exists(path("flight_1.png")));

  const std::string run_dir = path("run");
  ASSERT_EQ(mkdir(run_dir.c_str(), 0755), 0);
  const std::string header = "epoch,agent,env_steps,updates,wall_s,return_final,slope,bc_weight\n";
  spit(run_dir + "/progress.csv", header + "0,0,100,10,1.5,12.5,2,0.2\n1,0,200,20,3.0,20.25,2,0.198\n2,0,3");
  EXPECT_EQ(run("plot " + run_dir, &out), 2) << out;
  EXPECT_NE(out.find(run_dir + "/progress.csv' line 4"), std::string::npos) << out;
  // A row cut short in the middle of the file (a later append after it).
  spit(run_dir + "/progress.csv", header + "0,0,100,10,1.5,12.5,2,0.2\n1,0,200,20\n2,0,300,30,4.5,30,2,0.196\n");
  EXPECT_EQ(run("plot " + run_dir, &out), 2) << out;
  EXPECT_NE(out.find("line 3"), std::string::npos) << out;
  EXPECT_FALSE(exists(run_dir + "/return_vs_steps.png"));
}

// collect replaces an existing dataset only with --overwrite, and refuses
// an output it cannot write before flying.
TEST_F(BadInput, CollectKeepsAnExistingDataset) {
  const std::string ds = path("d.safetensors");
  const std::string args = "collect --episodes 2 --envs 2 --out " + ds;
  std::string out;
  ASSERT_EQ(run(args, &out), 0) << out;
  const std::string first = slurp(ds);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(run(args + " --seed 2", &out), 2) << out;
  EXPECT_NE(out.find(ds), std::string::npos) << out;
  EXPECT_NE(out.find("--overwrite"), std::string::npos) << out;
  EXPECT_EQ(slurp(ds), first);
  EXPECT_EQ(run(args + " --seed 2 --overwrite", &out), 0) << out;
  EXPECT_NE(slurp(ds), first);
  EXPECT_EQ(run("collect --episodes 2 --envs 2 --out " + dir_, &out), 2) << out;
  EXPECT_NE(out.find(dir_), std::string::npos) << out;
  EXPECT_EQ(run("collect --episodes 2 --envs 2 --out " + dir_ + "/no/such/d.safetensors", &out), 2) << out;
  EXPECT_NE(out.find(dir_ + "/no/such/d.safetensors"), std::string::npos) << out;
}

}  // namespace
