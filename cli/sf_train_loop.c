#include "cli/sf_train_loop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sf_defs.h"
#include "core/sf_fileio.h"
#include "core/sf_safetensors.h"
#include "core/sf_tfevents.h"
#include "rl/sf_csv.h"
#include "cli/sf_device.h"
#include "rl/sf_rl_math.h"
#include "rl/sf_sweep.h"
#include "rl/sf_trainer.h"
#include "sim/sf_pid.h"
#ifdef SF_HAVE_CUDA
#include "kernels/sf_evaluate_cuda.h"
#include "kernels/sf_trainer_cuda.h"
#else
typedef struct sf_cuda_trainer sf_cuda_trainer; /* never built without the CUDA backend */
#endif

/* The epoch's phases on the backend the run uses: the host trainer, or its
 * device mirror (kernels/sf_trainer_cuda.h). */
static int run_collect(sf_trainer *t, sf_cuda_trainer *gpu) {
#ifdef SF_HAVE_CUDA
  if (gpu) return sf_cuda_trainer_collect(gpu);
#endif
  (void)gpu;
  return sf_trainer_collect(t);
}

/* Up to n updates; acc[p] sums each agent's statistics; *done of them ran.
 * Returns 0 or -1. */
static int run_updates(sf_trainer *t, sf_cuda_trainer *gpu, int n, sf_update_stats *us, sf_update_stats *acc,
                       int *done) {
  *done = 0;
  memset(acc, 0, sizeof *acc * t->P);
#ifdef SF_HAVE_CUDA
  if (gpu) return sf_cuda_trainer_update(gpu, n, acc, done);
#endif
  (void)gpu;
  for (int u = 0; u < n; ++u) {
    int r = sf_trainer_update(t, us);
    if (r < 0) return -1;
    if (r > 0) break; /* no full sequence yet */
    ++*done;
    for (int p = 0; p < t->P; ++p) {
      acc[p].critic_loss += us[p].critic_loss;
      acc[p].actor_loss += us[p].actor_loss;
      acc[p].mean_q += us[p].mean_q;
    }
  }
  return 0;
}

/* Bring the device's state to the host trainer (full: what a checkpoint
 * needs, else the parameters). 0 or -1 with a message. */
static int run_pull(sf_cuda_trainer *gpu, int full, char *err, size_t errlen) {
#ifdef SF_HAVE_CUDA
  if (gpu) return sf_cuda_trainer_pull(gpu, full, err, errlen);
#endif
  (void)gpu, (void)full, (void)err, (void)errlen;
  return 0;
}

static int run_evaluate(sf_trainer *t, sf_cuda_trainer *gpu, sf_eval_stats *ev) {
#ifdef SF_HAVE_CUDA
  if (gpu) {
    char err[512];
    uint64_t *seeds = malloc(sizeof(uint64_t) * t->P);
    for (int p = 0; p < t->P; ++p) seeds[p] = t->agent[p].seed;
    int rc = sf_cuda_evaluate(t->actor, &t->model, seeds, t->s.eval_episodes, sf_trainer_progress(t),
                              t->s.survive_steps, ev, err, sizeof err);
    free(seeds);
    if (rc) {
      fprintf(stderr, "spikefly: %s\n", err);
      return -1;
    }
    sf_trainer_feed_schedules(t, ev);
    return sf_cuda_trainer_push_slopes(gpu); /* the schedules moved the slopes */
  }
#endif
  (void)gpu;
  return sf_trainer_evaluate(t, ev);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* The guide's defaults: TD3 on single transitions of the privileged MLP. */
static void guide_defaults(sf_config *cfg) {
  const char *kv[][2] = {{"train.algo", "td3"},     {"train.actor", "mlp"},      {"train.actor_input", "priv"},
                         {"train.hidden", "64,64"}, {"train.seq_len", "1"},      {"train.warmup", "0"},
                         {"train.stride", "1"},     {"train.bc", "true"},        {"train.jumpstart", "false"},
                         {"train.eval_episodes", "100"}, {"train.collect_steps", "500"},
                         {"train.updates", "500"},  {"train.batch", "256"},      {"train.epochs", "20"},
                         {"train.eval_every", "2"}, {"train.out", "runs/guide"}, {"train.actor_lr", "3e-3"},
                         {"train.critic_lr", "1e-3"}, {"train.buffer", "1000000"}, {"train.envs", "16"},
                         {"train.teacher_epochs", "10"}, {"train.bc_weight", "1.0"}, {"train.bc_decay", "0.95"},
                         {"train.guide", "pid"},    {"train.bc_target", "guide"}};
  for (size_t i = 0; i < SF_ARRAY_LEN(kv); ++i)
    if (!sf_cfg_has(cfg, kv[i][0])) sf_cfg_set(cfg, kv[i][0], kv[i][1]);
}

/* Pull every `--sweep SPEC` out of argv (sf_cli maps a flag to one key; a
 * sweep repeats). */
static int take_sweeps(int *argc, char **argv, sf_sweep *sw, const char *cmd) {
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    const char *spec = NULL;
    if (!strcmp(argv[i], "--sweep")) {
      if (i + 1 >= *argc) {
        fprintf(stderr, "spikefly %s: --sweep needs key=v1,v2,...\n", cmd);
        return -1;
      }
      spec = argv[++i];
    } else if (!strncmp(argv[i], "--sweep=", 8)) {
      spec = argv[i] + 8;
    }
    if (spec) {
      char err[256];
      if (sf_sweep_add(sw, spec, err, sizeof err) != 0) {
        fprintf(stderr, "spikefly %s: %s\n", cmd, err);
        return -1;
      }
      if (!sf_is_agent_key(sw->key[sw->nkeys - 1])) {
        fprintf(stderr,
                "spikefly %s: cannot sweep '%s': it must be the same for every agent of a population (sweepable: "
                "seed, train.actor_lr, train.critic_lr, train.gamma, train.alpha, train.bc_weight, "
                "train.bc_decay, train.expl_noise, train.target_noise, train.target_clip, model.*)\n",
                cmd, sw->key[sw->nkeys - 1]);
        return -1;
      }
      continue;
    }
    argv[out++] = argv[i];
  }
  *argc = out;
  return 0;
}

static char *config_text(const sf_config *cfg, const sf_sweep *sw) {
  size_t cap = 4096, len = 0;
  char *s = malloc(cap);
  s[0] = 0;
  for (int i = -1; i < sf_cfg_count(cfg) + sw->nkeys; ++i) {
    char line[1024];
    if (i < 0) {
      snprintf(line, sizeof line, "# spikefly run configuration (INI, section.key = value)\n");
    } else if (i < sf_cfg_count(cfg)) {
      const char *k, *v;
      sf_cfg_entry(cfg, i, &k, &v);
      snprintf(line, sizeof line, "%s = %s\n", k, v);
    } else {
      int k = i - sf_cfg_count(cfg);
      int n = snprintf(line, sizeof line, "# sweep %s =", sw->key[k]);
      for (int j = 0; j < sw->nvalues[k] && n < (int)sizeof line; ++j)
        n += snprintf(line + n, sizeof line - n, "%s%s", j ? "," : " ", sw->value[k][j]);
      snprintf(line + n, sizeof line - n, "\n");
    }
    size_t l = strlen(line);
    if (len + l + 1 > cap) s = realloc(s, cap = 2 * (len + l + 1));
    memcpy(s + len, line, l + 1);
    len += l;
  }
  return s;
}

/* The sweep of a run directory's config.ini ("# sweep KEY = v1,v2" lines). */
static int load_sweeps(const char *path, sf_sweep *sw, const char *cmd) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[2048];
  int rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f)) {
    if (strncmp(line, "# sweep ", 8)) continue;
    char spec[2048], *o = spec;
    for (const char *p = line + 8; *p && *p != '\n'; ++p)
      if (*p != ' ') *o++ = *p;
    *o = 0;
    char err[256];
    if (sf_sweep_add(sw, spec, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly %s: %s: %s\n", cmd, path, err);
      rc = -1;
    }
  }
  fclose(f);
  return rc;
}

/* Keep the rows of progress.csv up to epoch `last` (a resumed run writes the
 * rest again); rewritten atomically. */
static int truncate_progress(const char *path, int last, char *err, size_t errlen) {
  void *data;
  size_t n;
  if (sf_read_file(path, &data, &n, err, errlen) != 0) return -1;
  char *s = data, *keep_end = s;
  char *line = s;
  int first = 1;
  while (line < s + n) {
    char *nl = memchr(line, '\n', (size_t)(s + n - line));
    char *end = nl ? nl + 1 : s + n;
    if (first || atoi(line) <= last) {
      memmove(keep_end, line, (size_t)(end - line));
      keep_end += end - line;
    }
    first = 0;
    line = end;
  }
  int rc = sf_write_file_atomic(path, s, (size_t)(keep_end - s), err, errlen);
  free(data);
  return rc;
}

/* The guide as a checkpoint of its own: agent 0's guide.* tensors of one agent. */
static int save_guide(const sf_trainer *t, int p, const char *path, char *err, size_t errlen) {
  sf_st_writer *w = sf_st_writer_new();
  const sf_params *ps = t->actor->params;
  for (int i = 0; i < ps->count; ++i) {
    const sf_param *tp = &ps->t[i];
    int64_t shape[3] = {1, tp->shape[0], tp->shape[1]};
    sf_st_add(w, tp->name, SF_ST_F32, 1 + tp->ndim, shape, sf_param_at(tp, p));
  }
  char desc[128];
  sf_actor_describe(&t->s.actor, desc, sizeof desc);
  sf_st_set_meta(w, "spikefly.actor", desc);
  sf_st_set_meta(w, "spikefly.actor_name", t->s.actor.name);
  sf_st_set_meta(w, "spikefly.agents", "1");
  int rc = sf_st_write(w, path, err, errlen);
  sf_st_writer_free(w);
  return rc;
}

int sf_train_main(const sf_cmd_spec *spec, sf_train_mode mode, int argc, char **argv) {
  sf_sweep sw;
  memset(&sw, 0, sizeof sw);
  char **args = malloc(sizeof(char *) * (argc + 1));
  memcpy(args, argv, sizeof(char *) * argc);
  if (take_sweeps(&argc, args, &sw, spec->name) != 0) {
    free(args);
    return SF_EXIT_USAGE;
  }
  sf_config *base = sf_cfg_new();
  const char *pos[1];
  int npos;
  int rc = sf_cli_parse(spec, argc, args, base, pos, &npos);
  free(args);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(base);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  char resume[512] = "";
  if (sf_cfg_peek(base, "train.resume")) {
    snprintf(resume, sizeof resume, "%s", sf_cfg_peek(base, "train.resume"));
    if (sw.nkeys) {
      fprintf(stderr, "spikefly %s: --resume takes the run's own sweep; drop --sweep\n", spec->name);
      sf_cfg_free(base);
      return SF_EXIT_USAGE;
    }
    sf_config *restored = sf_cfg_new();
    char path[1024];
    snprintf(path, sizeof path, "%s/config.ini", resume);
    if (sf_cfg_load_file(restored, path) != 0 || load_sweeps(path, &sw, spec->name) != 0) {
      if (sf_cfg_error(restored)) fprintf(stderr, "spikefly %s: cannot resume: %s\n", spec->name, sf_cfg_error(restored));
      sf_cfg_free(restored);
      sf_cfg_free(base);
      return SF_EXIT_USAGE;
    }
    /* Keys given with --resume (more epochs, say) apply on top. */
    for (int i = 0; i < sf_cfg_count(base); ++i) {
      const char *k, *v;
      sf_cfg_entry(base, i, &k, &v);
      if (strcmp(k, "train.resume") && strcmp(k, "train.overwrite")) sf_cfg_set(restored, k, v);
    }
    sf_cfg_set(restored, "train.out", resume);
    sf_cfg_free(base);
    base = restored;
  }
  if (mode == SF_TRAIN_GUIDE) guide_defaults(base);
  const int P = sf_sweep_size(&sw);
  sf_config **cfgs = calloc(P, sizeof *cfgs);
  sf_agent_settings *agents = calloc(P, sizeof *agents);
  for (int p = 0; p < P; ++p) cfgs[p] = sf_sweep_config(&sw, base, p);
  sf_train_settings s;
  sf_train_settings_read(cfgs[0], &s);
  if (mode == SF_TRAIN_GUIDE) snprintf(s.actor.name, sizeof s.actor.name, "guide");
  const char *out_key = sf_cfg_str(cfgs[0], "train.out", "runs/train");
  const sf_device device = sf_device_from_config(cfgs[0], 1, "training");
  char out_dir[512];
  snprintf(out_dir, sizeof out_dir, "%s", out_key);
  int overwrite = sf_cfg_bool(cfgs[0], "train.overwrite", 0);
  double survive_goal = sf_cfg_float(cfgs[0], "train.survive_goal", 0.95, 0.0, 1.0);
  int teacher_epochs = (int)sf_cfg_int(cfgs[0], "train.teacher_epochs", 0, 0, 1 << 24);
  const double target_return = sf_cfg_float(cfgs[0], "train.target_return", 400.0, -1e9, 1e9);
  sf_env_model model;
  sf_env_model_from_config(cfgs[0], &model);
  for (int p = 0; p < P; ++p) {
    sf_agent_settings_read(cfgs[p], &agents[p]);
    if (sf_cfg_error(cfgs[p]) && !sf_cfg_error(cfgs[0])) sf_cfg_fail(cfgs[0], "%s", sf_cfg_error(cfgs[p]));
  }
  if ((rc = sf_cli_check(cfgs[0], spec->name)) != 0) goto done_cfg;

  char err[1024], path[1024];
  snprintf(path, sizeof path, "%s/progress.csv", out_dir);
  if (!overwrite && !resume[0] && access(path, F_OK) == 0) {
    fprintf(stderr, "spikefly %s: run directory '%s' already holds a run (train.out; train.overwrite=true replaces it)\n",
            spec->name, out_dir);
    rc = SF_EXIT_USAGE;
    goto done_cfg;
  }
  if (sf_mkdirs(out_dir, err, sizeof err) != 0 || sf_dir_check_writable(out_dir, 16u << 20, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly %s: %s\n", spec->name, err);
    rc = SF_EXIT_FAIL;
    goto done_cfg;
  }
  char *ctext = config_text(base, &sw);
  snprintf(path, sizeof path, "%s/config.ini", out_dir);
  if (!resume[0] && sf_write_file_atomic(path, ctext, strlen(ctext), err, sizeof err) != 0) {
    fprintf(stderr, "spikefly %s: %s\n", spec->name, err);
    free(ctext);
    rc = SF_EXIT_FAIL;
    goto done_cfg;
  }

  double t0 = now_s();  /* moved back by a resumed run's earlier wall time */
  sf_cuda_trainer *gpu = NULL; /* the device mirror when the run uses the GPU */
  sf_trainer *t = sf_trainer_new(&s, agents, P, &model, err, sizeof err);
  if (!t) {
    fprintf(stderr, "spikefly %s: %s\n", spec->name, err);
    free(ctext);
    rc = SF_EXIT_FAIL;
    goto done_cfg;
  }
  double wall_before = 0;
  if (resume[0]) {
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", out_dir);
    if (sf_trainer_load(t, path, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly %s: cannot resume: %s\n", spec->name, err);
      rc = SF_EXIT_USAGE;
      goto done_trainer;
    }
    sf_st_file *cf = sf_st_open(path, 0, err, sizeof err);
    const char *wv = cf ? sf_st_meta(cf, "spikefly.wall_s") : NULL;
    wall_before = wv ? atof(wv) : 0.0;
    if (cf) sf_st_close(cf);
    snprintf(path, sizeof path, "%s/progress.csv", out_dir);
    if (truncate_progress(path, t->epoch, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly %s: cannot resume: %s\n", spec->name, err);
      rc = SF_EXIT_USAGE;
      goto done_trainer;
    }
    fprintf(stderr, "spikefly %s: resuming %s after epoch %d\n", spec->name, out_dir, t->epoch);
    t0 -= wall_before;
  }
#ifdef SF_HAVE_CUDA
  if (device == SF_DEVICE_CUDA) {
    gpu = sf_cuda_trainer_new(t, err, sizeof err);
    if (!gpu) {
      fprintf(stderr, "spikefly %s: %s\n", spec->name, err);
      rc = SF_EXIT_FAIL;
      goto done_trainer;
    }
    fprintf(stderr, "spikefly %s: training on the GPU (%s)\n", spec->name, sf_cuda_trainer_device(gpu));
  }
#endif
  (void)device;
  sf_csv csv;
  snprintf(path, sizeof path, "%s/progress.csv", out_dir);
  if (sf_csv_open(&csv, path,
                  "epoch,agent,env_steps,updates,wall_s,return_final,return_current,episode_len,survival,"
                  "survive_warmup,hover_err,slope,bc_weight,horizon,critic_loss,actor_loss,mean_q",
                  resume[0] != 0) != 0) {
    fprintf(stderr, "spikefly %s: cannot write '%s'\n", spec->name, path);
    rc = SF_EXIT_FAIL;
    goto done_trainer;
  }
  sf_tb_writer *tb = sf_tb_open(out_dir, err, sizeof err);
  if (!tb) fprintf(stderr, "spikefly %s: no TensorBoard events: %s\n", spec->name, err);

  char desc[128];
  sf_actor_describe(&s.actor, desc, sizeof desc);
  fprintf(stderr, "spikefly %s: %s, actor %s, %d agent%s, %d envs each, %d epochs -> %s\n", spec->name,
          sf_algo_names[s.algo], desc, P, P > 1 ? "s" : "", s.envs, s.epochs, out_dir);
  sf_update_stats *us = calloc(P, sizeof *us), *acc = calloc(P, sizeof *acc);
  sf_eval_stats *ev = calloc(P, sizeof *ev);
  /* Time to result: the first evaluation at or above 100 (epochs) and at
   * or above train.target_return (wall-clock seconds), per agent. */
  double *first100 = malloc(sizeof(double) * P), *first_target = malloc(sizeof(double) * P);
  for (int p = 0; p < P; ++p) first100[p] = first_target[p] = NAN;
  if (resume[0]) {
    /* Rows kept from before the interruption still count for the summary. */
    snprintf(path, sizeof path, "%s/progress.csv", out_dir);
    FILE *pf = fopen(path, "r");
    char line[1024];
    while (pf && fgets(line, sizeof line, pf)) {
      int ep, ag;
      double steps, upd, wall, ret;
      if (sscanf(line, "%d,%d,%lf,%lf,%lf,%lf", &ep, &ag, &steps, &upd, &wall, &ret) == 6 && ag >= 0 && ag < P &&
          ret >= 100.0 && isnan(first100[ag]))
        first100[ag] = ep;
      if (sscanf(line, "%d,%d,%lf,%lf,%lf,%lf", &ep, &ag, &steps, &upd, &wall, &ret) == 6 && ag >= 0 && ag < P &&
          ret >= target_return && isnan(first_target[ag]))
        first_target[ag] = wall;
    }
    if (pf) fclose(pf);
  }
  const int live = isatty(STDERR_FILENO);
  for (int p = 0; p < P; ++p) ev[p].ret_final = ev[p].ret_current = ev[p].mean_len = NAN;
  int stop = 0, best_epoch = 0;
  double best_survive = -1.0;
  rc = SF_EXIT_OK;
  /* The guide's first epochs: the reference controller flies (plus
   * exploration noise) and the updates add a BC term towards its actions
   * (TD3BC), so TD3 starts from a policy that already flies. */
  sf_pid pid;
  sf_pid_init(&pid, &model.quad);
  const sf_algo algo = s.algo;
  for (int e = t->epoch; e < s.epochs && !stop; ++e) {
    int teaching = e < teacher_epochs;
    t->teacher = teaching ? &pid : NULL;
    t->s.algo = teaching ? SF_ALGO_TD3BC : algo;
    t->s.bc = teaching ? 1 : s.bc;
    /* alpha = 0 while teaching: the actor imitates only, the critic learns
     * the values of the flights meanwhile. */
    for (int p = 0; p < P; ++p) {
      t->agent[p].alpha = teaching ? 0.0f : agents[p].alpha;
      if (teaching) t->lambda_bc[p] = 1.0f;
    }
    if (run_collect(t, gpu) != 0) {
      fprintf(stderr, "spikefly %s: collection failed\n", spec->name);
      rc = SF_EXIT_FAIL;
      break;
    }
    int done_updates = 0;
    if (run_updates(t, gpu, s.updates, us, acc, &done_updates) != 0) {
      fprintf(stderr, "spikefly %s: update failed\n", spec->name);
      rc = SF_EXIT_FAIL;
      break;
    }
    t->epoch = e + 1;
    t->s.algo = algo;
    t->s.bc = s.bc;
    for (int p = 0; p < P; ++p)
      t->lambda_bc[p] = s.bc ? sf_bc_weight(agents[p].bc_weight, agents[p].bc_decay, t->epoch) : 0.0f;
    int eval_now = t->epoch % s.eval_every == 0 || t->epoch == s.epochs;
    /* Guard: a diverged network stops the run before it is saved over the last good checkpoint. */
    for (int p = 0; p < P && rc == SF_EXIT_OK; ++p)
      if (!isfinite(acc[p].critic_loss) || !isfinite(acc[p].actor_loss)) {
        fprintf(stderr, "spikefly %s: agent %d diverged at epoch %d (critic loss %g, actor loss %g); the last good checkpoint stays\n",
                spec->name, p, t->epoch, acc[p].critic_loss, acc[p].actor_loss);
        rc = SF_EXIT_FAIL;
      }
    if (rc == SF_EXIT_OK && run_pull(gpu, eval_now, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly %s: %s\n", spec->name, err);
      rc = SF_EXIT_FAIL;
    }
    char bad[160];
    if (rc == SF_EXIT_OK && sf_trainer_check_finite(t, bad, sizeof bad)) {
      fprintf(stderr, "spikefly %s: parameters of %s became non-finite at epoch %d; the last good checkpoint stays\n",
              spec->name, bad, t->epoch);
      rc = SF_EXIT_FAIL;
    }
    if (rc != SF_EXIT_OK) break;
    if (eval_now) {
      if (run_evaluate(t, gpu, ev) != 0) {
        rc = SF_EXIT_FAIL;
        break;
      }
      snprintf(path, sizeof path, "%s/checkpoint.safetensors", out_dir);
      char wall_s[32];
      snprintf(wall_s, sizeof wall_s, "%.3f", now_s() - t0);
      const char *meta[] = {"spikefly.config", ctext, "spikefly.wall_s", wall_s, NULL};
      if (sf_trainer_save(t, path, meta, err, sizeof err) != 0) {
        fprintf(stderr, "spikefly %s: %s\n", spec->name, err);
        rc = SF_EXIT_FAIL;
        break;
      }
    }
    double wall = now_s() - t0;
    int all_survive = 1;
    for (int p = 0; p < P; ++p) {
      double du = done_updates ? done_updates : 1;
      double nan = NAN;
      double row[17] = {t->epoch, p, t->env_steps[p], t->updates_done, wall,
                        eval_now ? ev[p].ret_final : nan, eval_now ? ev[p].ret_current : nan,
                        eval_now ? ev[p].mean_len : nan, eval_now ? ev[p].survival : nan,
                        eval_now ? ev[p].survive_warmup : nan, eval_now ? ev[p].hover_err : nan,
                        sf_slope_k(&t->sched[p]), t->lambda_bc[p], t->horizon[p], acc[p].critic_loss / du,
                        acc[p].actor_loss / du, acc[p].mean_q / du};
      sf_csv_row(&csv, row);
      if (tb) {
        static const char *tags[] = {"return_final", "return_current", "episode_len", "survival",
                                     "survive_warmup", "hover_err", "slope", "bc_weight", "horizon",
                                     "critic_loss", "actor_loss", "mean_q", "env_steps", "wall_s"};
        double vals[14] = {row[5], row[6], row[7], row[8], row[9], row[10], row[11],
                           row[12], row[13], row[14], row[15], row[16], row[2], row[4]};
        for (int k = 0; k < 14; ++k) {
          if (!isfinite(vals[k])) continue;
          char tag[96];
          snprintf(tag, sizeof tag, "agent%d/%s", p, tags[k]);
          sf_tb_scalar(tb, tag, t->epoch, (float)vals[k], sf_tb_now());
        }
      }
      if (eval_now && isnan(first100[p]) && ev[p].ret_final >= 100.0) first100[p] = t->epoch;
      if (eval_now && isnan(first_target[p]) && ev[p].ret_final >= target_return) first_target[p] = wall;
      if (!eval_now || ev[p].survive_warmup < survive_goal) all_survive = 0;
    }
    if (tb) sf_tb_flush(tb);
    /* Progress: on a terminal one live line, rewritten every epoch and kept
     * at each evaluation; elsewhere (logs, CI) a plain line per evaluation. */
    if (eval_now || live) {
      double eta = wall / t->epoch * (s.epochs - t->epoch);
      fprintf(stderr, "%sepoch %d/%d  return %.1f (current %.1f)  len %.0f  slope %.2f  bc %.3f  h %d  %.0f steps/s  ETA %.0f s%s",
              live ? "\r\033[K" : "", t->epoch, s.epochs, ev[0].ret_final, ev[0].ret_current, ev[0].mean_len,
              sf_slope_k(&t->sched[0]), t->lambda_bc[0], t->horizon[0],
              t->env_steps[0] * (double)P / (wall > 0 ? wall : 1), eta, eval_now || !live ? "\n" : "");
    }
    /* The guide kept is the best one evaluated: TD3 may still lose ground. */
    if (mode == SF_TRAIN_GUIDE && eval_now && ev[0].survive_warmup > best_survive) {
      best_survive = ev[0].survive_warmup;
      best_epoch = t->epoch;
      snprintf(path, sizeof path, "%s/guide.safetensors", out_dir);
      if (save_guide(t, 0, path, err, sizeof err) != 0) {
        fprintf(stderr, "spikefly %s: %s\n", spec->name, err);
        rc = SF_EXIT_FAIL;
        break;
      }
    }
    if (mode == SF_TRAIN_GUIDE && all_survive) {
      fprintf(stderr, "spikefly %s: every agent survives %d steps in %.0f%% or more of %d episodes\n", spec->name,
              s.survive_steps, survive_goal * 100, s.eval_episodes);
      stop = 1;
    }
  }
  sf_csv_close(&csv);
  if (tb && sf_tb_close(tb, err, sizeof err) != 0) fprintf(stderr, "spikefly %s: %s\n", spec->name, err);

  if (rc == SF_EXIT_OK) {
    /* Summary: one line per setting, seeds grouped. */
    snprintf(path, sizeof path, "%s/summary.csv", out_dir);
    FILE *f = fopen(path, "w");
    if (f) fprintf(f, "setting,agents,final_return_mean,final_return_std,survival_mean,epochs_to_100,wall_s_to_target\n");
    char target_col[32];
    snprintf(target_col, sizeof target_col, "s to %.0f", target_return);
    printf("%-40s %6s %14s %10s %10s %14s %14s\n", "setting", "agents", "final return", "+-std", "survival",
           "epochs to 100", target_col);
    int *seen = calloc(P, sizeof(int));
    for (int p = 0; p < P; ++p) {
      if (seen[p]) continue;
      char label[256], other[256];
      sf_sweep_label(&sw, p, "seed", label, sizeof label);
      double sum = 0, sum2 = 0, surv = 0, e100 = 0, et = 0;
      int n = 0, n100 = 0, nt = 0;
      for (int q = p; q < P; ++q) {
        sf_sweep_label(&sw, q, "seed", other, sizeof other);
        if (strcmp(label, other)) continue;
        seen[q] = 1;
        sum += ev[q].ret_final;
        sum2 += ev[q].ret_final * ev[q].ret_final;
        surv += ev[q].survival;
        if (!isnan(first100[q])) e100 += first100[q], ++n100;
        if (!isnan(first_target[q])) et += first_target[q], ++nt;
        ++n;
      }
      double mean = sum / n, sd = n > 1 ? sqrt(fmax(0.0, (sum2 - n * mean * mean) / (n - 1))) : 0.0;
      char e100s[32];
      if (n100 == n) snprintf(e100s, sizeof e100s, "%.1f", e100 / n);
      else snprintf(e100s, sizeof e100s, "%d of %d never", n - n100, n);
      char ets[32];
      if (nt == n) snprintf(ets, sizeof ets, "%.1f", et / n);
      else snprintf(ets, sizeof ets, "%d of %d never", n - nt, n);
      printf("%-40s %6d %14.1f %10.1f %10.3f %14s %14s\n", label[0] ? label : "(all)", n, mean, sd, surv / n, e100s,
             ets);
      if (f) fprintf(f, "\"%s\",%d,%.4f,%.4f,%.4f,%s,%s\n", label, n, mean, sd, surv / n, e100s, ets);
    }
    free(seen);
    if (f) fclose(f);
    if (mode == SF_TRAIN_GUIDE)
      printf("guide written to %s/guide.safetensors: the best evaluation, epoch %d, survives %d steps in %.0f%% of %d "
             "episodes\n",
             out_dir, best_epoch, s.survive_steps, best_survive * 100, s.eval_episodes);
    printf("run directory %s: config.ini, progress.csv, summary.csv, checkpoint.safetensors, TensorBoard events; %.1f s\n",
           out_dir, now_s() - t0);
  }
  free(us), free(acc), free(ev), free(first100), free(first_target);
done_trainer:
#ifdef SF_HAVE_CUDA
  sf_cuda_trainer_free(gpu);
#endif
  sf_trainer_free(t);
  free(ctext);
done_cfg:
  for (int p = 0; p < P; ++p) sf_cfg_free(cfgs[p]);
  free(cfgs), free(agents);
  sf_cfg_free(base);
  return rc;
}
