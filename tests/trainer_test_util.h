// Shared by the trainer suites (CPU and CUDA): a trainer built from config
// keys, with per-agent overrides, freed at scope exit.
#ifndef SF_TRAINER_TEST_UTIL_H
#define SF_TRAINER_TEST_UTIL_H

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "rl/sf_plan.h"
#include "rl/sf_record.h"
#include "rl/sf_trainer.h"
}

using KV = std::vector<std::pair<std::string, std::string>>;

struct Built {
  sf_trainer *t = nullptr;
  ~Built() { sf_trainer_free(t); }
};

// The plan of one epoch of a trainer (epoch 0 unless given), freed at
// scope exit; `updates` overrides the plan's update count.
struct Plan {
  sf_plan p;
  explicit Plan(const sf_trainer *t, int epoch = 0, int updates = -1) {
    sf_plan_init(&p, t->P);
    sf_plan_make(t, epoch, &p);
    if (updates >= 0) p.updates = updates;
  }
  ~Plan() { sf_plan_free(&p); }
  const sf_plan *get() const { return &p; }
};

// One update of t as the plan of its current epoch says.
inline int update_once(sf_trainer *t, sf_update_stats *st) {
  Plan plan(t, t->epoch);
  return sf_trainer_update(t, plan.get(), st);
}

// progress.csv read back by column name.
inline std::vector<sf_record> read_records(const std::string &dir) {
  sf_record *rows = nullptr;
  int n = 0;
  char err[512];
  EXPECT_EQ(sf_record_read((dir + "/progress.csv").c_str(), &rows, &n, err, sizeof err), 0) << err;
  std::vector<sf_record> out(rows, rows + n);
  free(rows);
  return out;
}

inline sf_trainer *build(const KV &kv, std::vector<KV> per_agent = {KV{}}) {
  sf_config *base = sf_cfg_new();
  for (auto &e : kv) sf_cfg_set(base, e.first.c_str(), e.second.c_str());
  sf_train_settings s;
  sf_train_settings_read(base, &s);
  sf_env_model m;
  sf_env_model_from_config(base, &m);
  std::vector<sf_agent_settings> agents(per_agent.size());
  for (size_t p = 0; p < per_agent.size(); ++p) {
    sf_config *c = sf_cfg_new();
    for (auto &e : kv) sf_cfg_set(c, e.first.c_str(), e.second.c_str());
    for (auto &e : per_agent[p]) sf_cfg_set(c, e.first.c_str(), e.second.c_str());
    sf_agent_settings_read(c, &agents[p]);
    EXPECT_EQ(sf_cfg_error(c), nullptr) << sf_cfg_error(c);
    sf_cfg_free(c);
  }
  EXPECT_EQ(sf_cfg_error(base), nullptr) << sf_cfg_error(base);
  sf_cfg_free(base);
  char err[512];
  sf_trainer *t = sf_trainer_new(&s, agents.data(), (int)agents.size(), &m, err, sizeof err);
  EXPECT_NE(t, nullptr) << err;
  return t;
}

#endif
