// The exported directory: it builds on its own with the host's C compiler
// and its self-test replays the test vector exactly; checkpoints are read
// agent by agent with the sizes taken from the tensors; the command line
// rejects bad input with exit code 2.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
#include "core/sf_safetensors.h"
#include "export/sf_codegen.h"
#include "export/sf_flight.h"
#include "export/sf_quant.h"
int sf_cmd_export_ctrl(int argc, char **argv);
int sf_cmd_metrics(int argc, char **argv);
}

namespace {

std::string tmp_dir(const char *name) {
  std::string d = std::string(SF_BINARY_DIR) + "/export_codegen_work/" + name;
  std::string cmd = "rm -rf '" + d + "' && mkdir -p '" + d + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return d;
}

std::string read_file(const std::string &path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

int run_cmd(int (*cmd)(int, char **), std::vector<std::string> args) {
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(a.data());
  return cmd((int)argv.size(), argv.data());
}

// Writes a checkpoint of P agents; agent p's parameters are drawn from seed
// 100 + p. Sizes 18 -> h1 -> h2 -> 4.
void write_checkpoint(const std::string &path, int P, int h1, int h2, std::vector<sf_snn_net> *agents) {
  agents->resize(P);
  for (int p = 0; p < P; ++p) {
    ASSERT_EQ(sf_snn_net_alloc(&(*agents)[p], 18, h1, h2, 4), 0);
    sf_snn_net_init_seeded(&(*agents)[p], 100 + p, 2.0f);
  }
  struct T {
    const char *name;
    int n, m;
    float *(*get)(sf_snn_net *);
  };
  const T ts[] = {
      {"actor.fc1.weight", h1, 18, [](sf_snn_net *n) { return n->w1; }},
      {"actor.fc1.bias", h1, 0, [](sf_snn_net *n) { return n->b1; }},
      {"actor.lif1.beta", h1, 0, [](sf_snn_net *n) { return n->beta1; }},
      {"actor.lif1.threshold", h1, 0, [](sf_snn_net *n) { return n->thr1; }},
      {"actor.fc2.weight", h2, h1, [](sf_snn_net *n) { return n->w2; }},
      {"actor.fc2.bias", h2, 0, [](sf_snn_net *n) { return n->b2; }},
      {"actor.lif2.beta", h2, 0, [](sf_snn_net *n) { return n->beta2; }},
      {"actor.lif2.threshold", h2, 0, [](sf_snn_net *n) { return n->thr2; }},
      {"actor.fc3.weight", 4, h2, [](sf_snn_net *n) { return n->w3; }},
      {"actor.fc3.bias", 4, 0, [](sf_snn_net *n) { return n->b3; }},
  };
  sf_st_writer *w = sf_st_writer_new();
  for (const T &t : ts) {
    size_t per = (size_t)t.n * (t.m ? t.m : 1);
    std::vector<float> all(per * P);
    for (int p = 0; p < P; ++p) std::memcpy(all.data() + per * p, t.get(&(*agents)[p]), per * sizeof(float));
    int64_t shape[3] = {P, t.n, t.m};
    ASSERT_EQ(sf_st_add_copy(w, t.name, SF_ST_F32, t.m ? 3 : 2, shape, all.data()), 0);
  }
  char err[256];
  ASSERT_EQ(sf_st_write(w, path.c_str(), err, sizeof err), 0) << err;
  sf_st_writer_free(w);
}

}  // namespace

TEST(ExportCodegen, DirectoryBuildsAndReplaysExactly) {
  for (sf_export_format fmt : {SF_EXPORT_FLOAT32, SF_EXPORT_INT8}) {
    sf_snn_net net;
    ASSERT_EQ(sf_snn_net_alloc(&net, 18, 40, 20, 4), 0);  // sizes need not be the paper's
    sf_snn_net_init_seeded(&net, 3, 2.0f);
    // Some negative thresholds, as training leaves them: the module's reset
    // must start those neurons with S_{-1} = 1 as the reference does.
    for (int o = 0; o < 40; o += 3) net.thr1[o] = -0.05f - 0.1f * net.thr1[o];
    for (int o = 0; o < 20; o += 3) net.thr2[o] = -0.05f - 0.1f * net.thr2[o];
    sf_config *cfg = sf_cfg_new();
    sf_env_model model;
    ASSERT_EQ(sf_env_model_from_config(cfg, &model), 0);
    sf_cfg_free(cfg);
    sf_flight_log log{};
    ASSERT_EQ(sf_flight_run(&model, SF_POLICY_REFERENCE, &net, nullptr, 6, 9, nullptr, nullptr, &log), 0);
    sf_quant_net q{};
    char err[512];
    if (fmt == SF_EXPORT_INT8) {
      ASSERT_EQ(sf_quantise(&net, log.obs, (size_t)log.steps, &q, err, sizeof err), 0) << err;
    }
    std::string dir = tmp_dir(fmt == SF_EXPORT_INT8 ? "int8" : "float32") + "/nested/out";
    sf_export_spec sp{fmt, &net, fmt == SF_EXPORT_INT8 ? &q : nullptr, {log.obs, log.reset, log.steps},
                      sf_export_default_sources(), "test network"};
    ASSERT_EQ(sf_export_write(&sp, dir.c_str(), err, sizeof err), 0) << err;
    std::string header = read_file(dir + "/sf_ctrl_weights.h");
    EXPECT_NE(header.find("#define SF_CTRL_N_H1 40"), std::string::npos);
    EXPECT_NE(header.find("#define SF_CTRL_N_H2 20"), std::string::npos);
    EXPECT_NE(header.find(fmt == SF_EXPORT_INT8 ? "SF_CTRL_FORMAT_INT8" : "SF_CTRL_FORMAT_FLOAT32"),
              std::string::npos);
    EXPECT_NE(read_file(dir + "/README.md").find("make check"), std::string::npos);
    // Builds with warnings as errors and passes its own check.
    std::string cmd = "make -s -C '" + dir + "' CFLAGS='-O2 -Werror' check > '" + dir + "/check.txt' 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << read_file(dir + "/check.txt");
    std::string out = read_file(dir + "/check.txt");
    char want[96];
    std::snprintf(want, sizeof want, "check: %d steps, 0 mismatching actions", log.steps);
    EXPECT_NE(out.find(want), std::string::npos) << out;
    // One wrong expected action (the first, prefixed by a 7) must make the
    // self-test fail.
    std::string sed = "sed -i '/sf_ctrl_test_act/{n;s/{ [-0-9]/{ 7/}' '" + dir +
                      "/sf_ctrl_weights.h' && make -s -C '" + dir + "' check > /dev/null 2>&1";
    EXPECT_NE(std::system(sed.c_str()), 0);
    sf_quant_free(&q);
    sf_flight_log_free(&log);
    sf_snn_net_free(&net);
  }
}

TEST(ExportCodegen, CheckpointAgentsAndSizes) {
  std::string dir = tmp_dir("ckpt");
  std::string path = dir + "/actor.safetensors";
  std::vector<sf_snn_net> agents;
  write_checkpoint(path, 3, 24, 12, &agents);
  sf_snn_net net;
  char err[512];
  ASSERT_EQ(sf_snn_net_load(&net, path.c_str(), 2, err, sizeof err), 0) << err;
  EXPECT_EQ(net.n_in, 18);
  EXPECT_EQ(net.n_h1, 24);
  EXPECT_EQ(net.n_h2, 12);
  EXPECT_EQ(net.n_out, 4);
  EXPECT_EQ(std::memcmp(net.w2, agents[2].w2, sizeof(float) * 24 * 12), 0);
  EXPECT_EQ(std::memcmp(net.thr1, agents[2].thr1, sizeof(float) * 24), 0);
  EXPECT_EQ(std::memcmp(net.b3, agents[2].b3, sizeof(float) * 4), 0);
  EXPECT_NE(std::memcmp(net.w2, agents[1].w2, sizeof(float) * 24 * 12), 0);
  sf_snn_net_free(&net);
  EXPECT_EQ(sf_snn_net_load(&net, path.c_str(), 3, err, sizeof err), -1);
  EXPECT_NE(std::strstr(err, "agent 3 does not exist"), nullptr) << err;
  EXPECT_EQ(sf_snn_net_load(&net, (dir + "/missing.safetensors").c_str(), 0, err, sizeof err), -1);

  // The command line: export agent 1 of the checkpoint.
  std::string out = dir + "/exported";
  EXPECT_EQ(run_cmd(sf_cmd_export_ctrl, {"export", path, "--agent", "1", "--format", "int8", "--out", out,
                                         "--calib-episodes", "4", "--test-steps", "20"}),
            0);
  EXPECT_NE(read_file(out + "/sf_ctrl_weights.h").find("#define SF_CTRL_N_H1 24"), std::string::npos);
  EXPECT_NE(read_file(out + "/sf_ctrl_weights.h").find("#define SF_CTRL_TEST_STEPS 20"), std::string::npos);
  // Bad input: exit code 2.
  EXPECT_EQ(run_cmd(sf_cmd_export_ctrl, {"export", path, "--agent", "5", "--out", out}), 2);
  EXPECT_EQ(run_cmd(sf_cmd_export_ctrl, {"export", path}), 2);                             // no --out
  EXPECT_EQ(run_cmd(sf_cmd_export_ctrl, {"export", "--out", out}), 2);                     // no network
  EXPECT_EQ(run_cmd(sf_cmd_export_ctrl, {"export", path, "--format", "int4", "--out", out}), 2);
  EXPECT_EQ(run_cmd(sf_cmd_export_ctrl, {"export", dir + "/nope.safetensors", "--out", out}), 2);
  EXPECT_EQ(run_cmd(sf_cmd_metrics, {"metrics", path, "--agent", "7"}), 2);
  EXPECT_EQ(run_cmd(sf_cmd_metrics, {"metrics", path, "--episodes", "0"}), 2);
  for (auto &a : agents) sf_snn_net_free(&a);
}

TEST(ExportCodegen, CheckpointWithInconsistentShapesIsRefused) {
  std::string dir = tmp_dir("badckpt");
  std::string path = dir + "/bad.safetensors";
  sf_st_writer *w = sf_st_writer_new();
  std::vector<float> z(2 * 32 * 18, 0.0f);
  int64_t s1[3] = {2, 32, 18}, s2[3] = {2, 16, 30}, s3[3] = {2, 4, 16};  // fc2's input is not fc1's output
  ASSERT_EQ(sf_st_add_copy(w, "actor.fc1.weight", SF_ST_F32, 3, s1, z.data()), 0);
  ASSERT_EQ(sf_st_add_copy(w, "actor.fc2.weight", SF_ST_F32, 3, s2, z.data()), 0);
  ASSERT_EQ(sf_st_add_copy(w, "actor.fc3.weight", SF_ST_F32, 3, s3, z.data()), 0);
  char err[512];
  ASSERT_EQ(sf_st_write(w, path.c_str(), err, sizeof err), 0) << err;
  sf_st_writer_free(w);
  sf_snn_net net;
  EXPECT_EQ(sf_snn_net_load(&net, path.c_str(), 0, err, sizeof err), -1);
  EXPECT_NE(std::strstr(err, "do not chain"), nullptr) << err;
}
