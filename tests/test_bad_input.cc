// Bad input to the `spikefly` commands, as a careless user or a tester gives
// it: every usage or input error exits with code 2, names the option, key or
// file, and leaves nothing behind; outputs are replaced only by complete ones.
#include <gtest/gtest.h>

#include "core/sf_safetensors.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "tests/cli_test_util.h"

namespace {

bool exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
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
  write_file(nul, std::string("[fly]\nepisodes = 2\0junk\n", 24));
  EXPECT_EQ(run("fly --envs 2 --config " + nul, &out), 2) << out;
  EXPECT_NE(out.find(nul), std::string::npos) << out;
  EXPECT_NE(out.find("line 2 holds a NUL byte"), std::string::npos) << out;

  const std::string longf = path("long.ini");
  write_file(longf, "[fly]\n; a comment\nenvs = " + std::string(5000, '1') + "\nepisodes = 2\n");
  EXPECT_EQ(run("fly --config " + longf, &out), 2) << out;
  EXPECT_NE(out.find(longf), std::string::npos) << out;
  EXPECT_NE(out.find("line 3 is 5007 characters long"), std::string::npos) << out;

  // The longest line that is read whole still works.
  const std::string fits = path("fits.ini");
  write_file(fits, "[fly]\nenvs = 2\nepisodes = 2" + std::string(180, ' ') + "\n");
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
  write_file(csv, "an earlier flight\n");
  std::string out;
  EXPECT_EQ(run_small_disk("fly --episodes 2 --envs 2 --csv " + csv, 16, &out), 1) << out;
  EXPECT_EQ(out.find("flights written"), std::string::npos) << out;
  EXPECT_NE(out.find(csv), std::string::npos) << out;
  EXPECT_EQ(read_file(csv), "an earlier flight\n");
  EXPECT_FALSE(exists(csv + ".tmp"));
  // With room it is replaced, and said so.
  EXPECT_EQ(run("fly --episodes 2 --envs 2 --csv " + csv, &out), 0) << out;
  EXPECT_NE(out.find("flights written to " + csv), std::string::npos) << out;
  EXPECT_GT(read_file(csv).size(), 16u * 1024u);
  // An output that cannot be a file is a usage error before the flight.
  for (const std::string &bad : {dir_, dir_ + "/no/such/dir/f.csv"})
    expect_usage_error("fly --episodes 2 --envs 2 --csv " + bad, bad);
}

// plot refuses a CSV cut short, naming the line, instead of dropping rows.
TEST_F(BadInput, PlotRefusesATruncatedCsv) {
  const std::string csv = path("flight.csv");
  std::string out;
  ASSERT_EQ(run("fly --episodes 1 --envs 1 --csv " + csv, &out), 0) << out;
  std::string text = read_file(csv);
  int lines = 0;
  for (char c : text) lines += c == '\n';
  write_file(csv, text.substr(0, text.size() - 7));
  EXPECT_EQ(run("plot --out " + dir_ + " --flight " + csv, &out), 2) << out;
  EXPECT_NE(out.find(csv), std::string::npos) << out;
  EXPECT_NE(out.find("line " + std::to_string(lines)), std::string::npos) << out;
  EXPECT_FALSE(exists(path("flight_1.png")));

  const std::string run_dir = path("run");
  ASSERT_EQ(mkdir(run_dir.c_str(), 0755), 0);
  const std::string header = "epoch,agent,env_steps,updates,wall_s,return_final,slope,bc_weight\n";
  write_file(run_dir + "/progress.csv", header + "0,0,100,10,1.5,12.5,2,0.2\n1,0,200,20,3.0,20.25,2,0.198\n2,0,3");
  EXPECT_EQ(run("plot " + run_dir, &out), 2) << out;
  EXPECT_NE(out.find(run_dir + "/progress.csv' line 4"), std::string::npos) << out;
  // A row cut short in the middle of the file (a later append after it).
  write_file(run_dir + "/progress.csv", header + "0,0,100,10,1.5,12.5,2,0.2\n1,0,200,20\n2,0,300,30,4.5,30,2,0.196\n");
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
  const std::string first = read_file(ds);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(run(args + " --seed 2", &out), 2) << out;
  EXPECT_NE(out.find(ds), std::string::npos) << out;
  EXPECT_NE(out.find("--overwrite"), std::string::npos) << out;
  EXPECT_EQ(read_file(ds), first);
  EXPECT_EQ(run(args + " --seed 2 --overwrite", &out), 0) << out;
  EXPECT_NE(read_file(ds), first);
  for (const std::string &bad : {dir_, dir_ + "/no/such/d.safetensors"})
    expect_usage_error("collect --episodes 2 --envs 2 --out " + bad, bad);
}

// An output that cannot be written is a usage error (2) naming it, found
// before the work, and an earlier file is not touched by the check.
TEST_F(BadInput, UnwritableOutputsAreUsageErrors) {
  const std::string earlier = path("a.csv");
  write_file(earlier, "earlier\n");
  const std::string bad = dir_ + "/no/such/dir/f.png";
  expect_usage_error("surrogate-analysis --samples 4 --csv " + earlier + " --plot " + bad, bad);
  EXPECT_EQ(read_file(earlier), "earlier\n");
  const std::string file = path("a_file"), flight = path("flight.csv");
  write_file(file, "x");
  std::string out;
  ASSERT_EQ(run("fly --episodes 1 --envs 1 --csv " + flight, &out), 0) << out;
  struct Case {
    std::string args, named;
  } cases[] = {
      {"surrogate-analysis --samples 4 --plot " + dir_, dir_},
      {"fly --episodes 1 --envs 1 --csv " + dir_, dir_},
      {"collect --episodes 1 --envs 1 --out " + dir_, dir_},
      {"plot --out " + file + " --flight " + flight, file},
      {"export --random-init 1 --calib-episodes 1 --test-steps 5 --out " + file, file},
  };
  for (const Case &c : cases) expect_usage_error(c.args, c.named);
  EXPECT_EQ(read_file(file), "x");
}

// The names in a directory, one a line, sorted.
std::string listing(const std::string &dir) {
  std::string out;
  run_sh("ls -1A '" + dir + "'", &out);
  return out;
}

// A failed export leaves the previous one whole; switching format leaves no
// file of the other format, and the user's own files stay.
TEST_F(BadInput, ExportIsSwappedInWhenComplete) {
  const std::string d = path("ctrl");
  const std::string base = "export --random-init 3 --calib-episodes 1 --test-steps 20 --out " + d;
  std::string out;
  ASSERT_EQ(run(base + " --format float32", &out), 0) << out;
  EXPECT_TRUE(exists(d + "/sf_ctrl_f32.c"));
  // By default the export flies both networks and gives a verdict (float32
  // is bit-identical: no difference).
  EXPECT_NE(out.find("difference +0.000 % +- 0.000 %"), std::string::npos) << out;
  EXPECT_NE(out.find("verdict: the exported float32 controller is within the tolerance of 1 %"), std::string::npos)
      << out;
  // A float32 export names no file of the int8 format, which it does not ship.
  for (const char *f : {"/sf_ctrl_weights.h", "/README.md", "/sf_ctrl_f32.h", "/sf_ctrl.h"})
    EXPECT_EQ(read_file(d + f).find("sf_ctrl_i8"), std::string::npos) << f;
  write_file(d + "/app.c", "int main(void) { return 0; }\n");
  write_file(d + "/sf_ctrl.o", "stale object");

  ASSERT_EQ(run(base + " --format int8", &out), 0) << out;
  EXPECT_TRUE(exists(d + "/sf_ctrl_i8.c"));
  EXPECT_TRUE(exists(d + "/sf_ctrl_i8.h"));
  EXPECT_FALSE(exists(d + "/sf_ctrl_f32.c"));
  EXPECT_FALSE(exists(d + "/sf_ctrl_f32.h"));
  EXPECT_FALSE(exists(d + "/sf_ctrl.o"));
  EXPECT_TRUE(exists(d + "/app.c"));
  const std::string header = read_file(d + "/sf_ctrl_weights.h"), before = listing(d);
  ASSERT_GT(header.size(), 64u * 1024u);

  // A disk that fills up while the header is written: exit 1, nothing changed.
  EXPECT_EQ(run_small_disk(base + " --format float32 --random-init 4", 64, &out), 1) << out;
  EXPECT_EQ(read_file(d + "/sf_ctrl_weights.h"), header);
  EXPECT_EQ(listing(d), before);
  EXPECT_EQ(listing(dir_), "ctrl\n") << "a staging directory was left behind";
}

// A JSON string literal (checkpoint names and metadata need these escapes).
std::string json_str(const std::string &v) {
  std::string r = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\')
      r += std::string("\\") + c;
    else if (c == '\n')
      r += "\\n";
    else
      r += c;
  }
  return r + "\"";
}

// `src` rewritten by hand without the spikefly checksums (what another tool
// writes); `poison` (a tensor name) gets a NaN in its first element, and
// the metadata "spikefly.actor" becomes `actor` when that is given.
void strip_checksums(const std::string &src, const std::string &dst, const std::string &poison = "",
                     const std::string &actor = "") {
  char err[512];
  sf_st_file *f = sf_st_open(src.c_str(), 0, err, sizeof err);
  ASSERT_NE(f, nullptr) << err;
  std::string header = "{\"__metadata__\":{", data;
  bool first = true;
  for (int i = 0; i < sf_st_meta_count(f); ++i) {
    const char *k, *v;
    sf_st_meta_at(f, i, &k, &v);
    if (std::string(k) == SF_ST_CRC_KEY || std::string(k) == SF_ST_CONTENT_CRC_KEY) continue;
    const bool swap = !actor.empty() && std::string(k) == "spikefly.actor";
    header += (first ? "" : ",") + json_str(k) + ":" + json_str(swap ? actor : v);
    first = false;
  }
  header += "}";
  for (int i = 0; i < sf_st_count(f); ++i) {
    const sf_st_tensor *t = sf_st_tensor_at(f, i);
    std::string shape;
    for (int d = 0; d < t->ndim; ++d) shape += (d ? "," : "") + std::to_string(t->shape[d]);
    header += "," + json_str(t->name) + ":{\"dtype\":\"" + sf_st_dtype_name(t->dtype) + "\",\"shape\":[" + shape +
              "],\"data_offsets\":[" + std::to_string(data.size()) + "," + std::to_string(data.size() + t->nbytes) +
              "]}";
    std::string bytes((const char *)t->data, t->nbytes);
    if (t->name == poison) {
      const float nan = std::numeric_limits<float>::quiet_NaN();
      bytes.replace(0, sizeof nan, (const char *)&nan, sizeof nan);
    }
    data += bytes;
  }
  sf_st_close(f);
  header += "}";
  while (header.size() % 8) header += ' ';
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = (char)((uint64_t)header.size() >> (8 * i));
  write_file(dst, out + header + data);
}

// The project's Python environment with safetensors, or "".
std::string python_with_safetensors() {
  const std::string py = SF_SOURCE_DIR "/.venv/bin/python";
  std::string out;
  return exists(py) && run_sh(py + " -c 'import safetensors.numpy'", &out) == 0 ? py : "";
}

// Every command that reads a checkpoint follows one rule: a wrong checksum is
// refused, a missing one is accepted (with a note) when the tensors validate.
TEST_F(BadInput, OneCheckpointRuleForEveryCommand) {
  const std::string run_dir = path("run"), ckpt = run_dir + "/checkpoint.safetensors";
  std::string out;
  ASSERT_EQ(run("train --guide pid --epochs 1 train.envs=2 train.updates=1 train.eval_episodes=1 "
                "train.collect_steps=100 train.batch=4 --out " + run_dir, &out),
            0)
      << out;
  auto commands = [&](const std::string &c) {
    return std::vector<std::string>{
        "eval " + c + " --episodes 1",
        "export " + c + " --calib-episodes 1 --test-steps 5 --out " + path("ctrl"),
        "metrics " + c + " --episodes 1",
        "collect --guide " + c + " --episodes 1 --envs 1 --overwrite --out " + path("d.safetensors"),
    };
  };
  for (const std::string &cmd : commands(ckpt)) {
    EXPECT_EQ(run(cmd, &out), 0) << cmd << "\n" << out;
    EXPECT_EQ(out.find("not checksummed"), std::string::npos) << cmd << "\n" << out;
  }
  // Re-saved by Python's safetensors (its own header order and padding),
  // metadata kept: the content checksum still holds.
  const std::string py = python_with_safetensors();
  if (!py.empty()) {
    const std::string resaved = path("resaved.safetensors");
    ASSERT_EQ(run_sh(py + " -c 'import sys; from safetensors import safe_open; from safetensors.numpy import "
                          "load_file, save_file; m = safe_open(sys.argv[1], \"np\").metadata(); "
                          "save_file(load_file(sys.argv[1]), sys.argv[2], metadata=m)' " + ckpt + " " + resaved,
                     &out),
              0)
        << out;
    ASSERT_NE(read_file(resaved), read_file(ckpt));
    for (const std::string &cmd : commands(resaved)) {
      EXPECT_EQ(run(cmd, &out), 0) << cmd << "\n" << out;
      EXPECT_EQ(out.find("not checksummed"), std::string::npos) << cmd << "\n" << out;
    }
  }
  // Without checksums: accepted, and said so.
  const std::string plain = path("plain.safetensors");
  strip_checksums(ckpt, plain);
  for (const std::string &cmd : commands(plain)) {
    EXPECT_EQ(run(cmd, &out), 0) << cmd << "\n" << out;
    EXPECT_NE(out.find(plain + " is not checksummed"), std::string::npos) << cmd << "\n" << out;
  }
  // Without checksums and with a NaN weight: refused, naming the tensor.
  const std::string nan = path("nan.safetensors");
  strip_checksums(ckpt, nan, "actor.fc2.weight");
  for (const std::string &cmd : commands(nan)) {
    EXPECT_EQ(run(cmd, &out), 2) << cmd << "\n" << out;
    EXPECT_NE(out.find("actor.fc2.weight"), std::string::npos) << cmd << "\n" << out;
    EXPECT_NE(out.find("non-finite"), std::string::npos) << cmd << "\n" << out;
  }
  // A checksum present and wrong: refused everywhere.
  std::string bytes = read_file(ckpt);
  bytes[bytes.size() - 3] ^= 0x20;
  const std::string bad = path("bad.safetensors");
  write_file(bad, bytes);
  for (const std::string &cmd : commands(bad)) {
    EXPECT_EQ(run(cmd, &out), 2) << cmd << "\n" << out;
    EXPECT_NE(out.find("checksum mismatch"), std::string::npos) << cmd << "\n" << out;
  }
}

// An actor that export and metrics cannot take is refused when training
// starts, and a checkpoint of one is named for what it is.
TEST_F(BadInput, NetworksThatCannotBeExportedAreNamed) {
  std::string out;
  const std::string tiny = "train --guide pid --epochs 1 train.envs=2 train.updates=1 train.eval_episodes=1 "
                           "train.collect_steps=100 train.batch=4 ";
  for (const char *hidden : {"1,2,3", "64"}) {
    const std::string run_dir = path(std::string("h") + hidden);
    EXPECT_EQ(run(tiny + "train.hidden=" + hidden + " --out " + run_dir, &out), 2) << out;
    EXPECT_NE(out.find("train.hidden"), std::string::npos) << out;
    EXPECT_NE(out.find("exactly two LIF layers"), std::string::npos) << out;
    EXPECT_FALSE(exists(run_dir));
  }
  const std::string run_dir = path("run"), ckpt = run_dir + "/checkpoint.safetensors";
  ASSERT_EQ(run(tiny + "--out " + run_dir, &out), 0) << out;
  struct Case {
    const char *actor, *says;
  } cases[] = {
      {"snn:obs:256,128,64", "has 3 LIF layers"},
      {"snn:obs:64", "has 1 LIF layer;"},
      {"mlp:obs:256,128", "is an ANN (mlp)"},
      {"snn:obs_hist:256,128", "takes the input 'obs_hist'"},
  };
  for (const Case &c : cases) {
    const std::string other = path("other.safetensors");
    strip_checksums(ckpt, other, "", c.actor);
    for (const std::string &cmd : {"export " + other + " --out " + path("ctrl"), "metrics " + other}) {
      EXPECT_EQ(run(cmd, &out), 2) << cmd << "\n" << out;
      EXPECT_NE(out.find(c.says), std::string::npos) << c.actor << ": " << cmd << "\n" << out;
    }
  }
}

// `spikefly --version` is `spikefly version`, which also answers --device.
TEST_F(BadInput, VersionOptionAndDevice) {
  std::string a, b;
  ASSERT_EQ(run("version", &a), 0) << a;
  EXPECT_EQ(run("--version", &b), 0) << b;
  EXPECT_EQ(a, b);
  EXPECT_EQ(run("version --device cpu", &b), 0) << b;
  EXPECT_NE(b.find("device: cpu"), std::string::npos) << b;
  EXPECT_EQ(run("version --device tpu", &b), 2) << b;
  EXPECT_NE(b.find("'device'"), std::string::npos) << b;
}

// gnuplot's warnings (a run with one evaluation has an empty x range) stay
// in gnuplot.log; epochs are ticked at whole numbers.
TEST_F(BadInput, PlotKeepsGnuplotWarningsInItsLog) {
  const std::string run_dir = path("run");
  ASSERT_EQ(mkdir(run_dir.c_str(), 0755), 0);
  write_file(run_dir + "/progress.csv",
       "epoch,agent,env_steps,updates,wall_s,return_final,slope,bc_weight\n"
       "1,0,100,10,1.5,12.5,2,0.2\n2,0,200,20,3.0,nan,2,0.198\n3,0,300,30,4.5,nan,2,0.196\n");
  std::string out;
  ASSERT_EQ(run("plot " + run_dir, &out), 0) << out;
  EXPECT_EQ(out.find("Warning"), std::string::npos) << out;
  EXPECT_NE(read_file(run_dir + "/gnuplot.log").find("empty x range"), std::string::npos);
  EXPECT_NE(read_file(run_dir + "/plot.gp").find("set xtics 1\n"), std::string::npos);
}

// Training's own inputs follow the same rule: a guide or a dataset without
// checksums is taken when its tensors are finite, with a note; a NaN in one
// is refused, naming the tensor.
TEST_F(BadInput, TrainingInputsFollowTheCheckpointRule) {
  std::string out;
  const std::string guide_run = path("guide"), data = path("data.safetensors");
  ASSERT_EQ(run("train-guide --epochs 1 train.teacher_epochs=0 train.envs=2 train.updates=1 train.eval_episodes=1 "
                "train.collect_steps=60 --out " + guide_run, &out), 0) << out;
  ASSERT_EQ(run("collect --episodes 4 --envs 4 --out " + data, &out), 0) << out;
  const std::string tiny = " --epochs 1 train.envs=2 train.updates=1 train.eval_episodes=1 train.collect_steps=60 "
                           "train.batch=4 train.seq_len=20 train.warmup=5 train.stride=5 --overwrite --out ";
  const std::string guide = path("guide_plain.safetensors"), dataset = path("data_plain.safetensors");
  strip_checksums(guide_run + "/guide.safetensors", guide);
  strip_checksums(data, dataset);
  EXPECT_EQ(run("train --guide " + guide + tiny + path("a"), &out), 0) << out;
  EXPECT_NE(out.find(guide + " is not checksummed"), std::string::npos) << out;
  EXPECT_EQ(run("train --algo bc --dataset " + dataset + tiny + path("b"), &out), 0) << out;
  EXPECT_NE(out.find(dataset + " is not checksummed"), std::string::npos) << out;
  strip_checksums(guide_run + "/guide.safetensors", guide, "guide.fc2.weight");
  strip_checksums(data, dataset, "obs");
  EXPECT_EQ(run("train --guide " + guide + tiny + path("c"), &out), 2) << out;
  EXPECT_NE(out.find("guide.fc2.weight"), std::string::npos) << out;
  EXPECT_EQ(run("train --algo bc --dataset " + dataset + tiny + path("d"), &out), 2) << out;
  EXPECT_NE(out.find("'obs'"), std::string::npos) << out;
  EXPECT_NE(out.find("non-finite"), std::string::npos) << out;
}

}  // namespace
