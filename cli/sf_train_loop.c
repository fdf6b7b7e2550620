/* `spikefly train` and `spikefly train-guide` from the command line to the
 * RL library: arguments and sweeps -> per-agent configs -> the run's fixed
 * settings -> a new or resumed run directory and trainer -> the backend,
 * chosen once -> sf_train_run (rl/sf_train_run.h). */
#include "cli/sf_train_loop.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/sf_device.h"
#include "cli/sf_mpi.h"
#include "core/sf_defs.h"
#include "core/sf_fileio.h"
#include "rl/sf_experiment.h"
#include "rl/sf_run_dir.h"
#include "rl/sf_train_run.h"

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
      if (i + 1 >= *argc || !strncmp(argv[i + 1], "--", 2)) {
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
      continue;
    }
    argv[out++] = argv[i];
  }
  *argc = out;
  return 0;
}

/* A swept key every agent must share (checked once the keys are known). */
static int check_sweep_keys(const sf_sweep *sw, const char *cmd) {
  for (int k = 0; k < sw->nkeys; ++k)
    if (!sf_is_agent_key(sw->key[k])) {
      fprintf(stderr,
              "spikefly %s: cannot sweep '%s': it must be the same for every agent of a population (sweepable: "
              "seed, train.actor_lr, train.critic_lr, train.gamma, train.alpha, train.bc_weight, "
              "train.bc_decay, train.expl_noise, train.target_noise, train.target_clip, model.*)\n",
              cmd, sw->key[k]);
      return -1;
    }
  return 0;
}

/* The command line of a resumed run on top of its config.ini. *overrides
 * counts the keys given besides --resume. */
static sf_config *resume_config(sf_config *cli, const char *dir, sf_sweep *sw, int *overrides, const char *cmd) {
  char path[1024], err[512];
  snprintf(path, sizeof path, "%s/config.ini", dir);
  sf_config *restored = sf_cfg_new();
  if (sf_cfg_load_file(restored, path) != 0 || sf_run_load_sweeps(path, sw, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly %s: cannot resume: %s\n", cmd,
            sf_cfg_error(restored) ? sf_cfg_error(restored) : err);
    sf_cfg_free(restored);
    return NULL;
  }
  *overrides = 0;
  for (int i = 0; i < sf_cfg_count(cli); ++i) {
    const char *k, *v;
    sf_cfg_entry(cli, i, &k, &v);
    if (!strcmp(k, "train.resume") || !strcmp(k, "train.overwrite") || !strcmp(k, "train.out")) continue;
    const char *was = sf_cfg_peek(restored, k);
    *overrides += !was || strcmp(was, v);
    sf_cfg_set(restored, k, v);
  }
  sf_cfg_set(restored, "train.out", dir);
  return restored;
}

/* The files a run reads besides its config. */
static const char *const input_keys[] = {"train.guide", "train.dataset"};

/* CRC32C of a whole file. 0, or -1 when it cannot be read. */
static int file_crc(const char *path, uint32_t *crc) {
  void *data;
  size_t n;
  char err[512];
  if (sf_read_file(path, &data, &n, err, sizeof err) != 0) return -1;
  *crc = sf_crc32c(0, data, n);
  free(data);
  return 0;
}

/* A new run's input files: resolved to absolute paths (the run then resumes
 * from any directory) and their checksums appended to `lines` as
 * "# input KEY crc32c = HEX", which a resume compares. */
static int take_inputs(sf_config *base, sf_config **cfgs, int P, char *lines, size_t len, const char *cmd) {
  lines[0] = 0;
  for (size_t i = 0; i < SF_ARRAY_LEN(input_keys); ++i) {
    const char *key = input_keys[i], *v = sf_cfg_peek(cfgs[0], key);
    if (!v || !v[0] || !strcmp(v, "pid")) continue;
    char abs[PATH_MAX];
    uint32_t crc;
    if (!realpath(v, abs) || file_crc(abs, &crc) != 0) {
      fprintf(stderr, "spikefly %s: config key '%s': cannot read '%s'\n", cmd, key, v);
      return -1;
    }
    snprintf(lines + strlen(lines), len - strlen(lines), "# input %s crc32c = %08x\n", key, crc);
    sf_cfg_set(base, key, abs);
    for (int p = 0; p < P; ++p) sf_cfg_set(cfgs[p], key, abs);
  }
  return 0;
}

/* A resumed run's input files still have the checksums its config.ini
 * recorded; their lines are copied to `lines` for the rewritten config. */
static int inputs_unchanged(const char *dir, sf_config *cfg, char *lines, size_t len, const char *cmd) {
  char path[1024], line[1024];
  snprintf(path, sizeof path, "%s/config.ini", dir);
  lines[0] = 0;
  FILE *f = fopen(path, "r");
  int ok = 1;
  while (ok && f && fgets(line, sizeof line, f)) {
    char key[128];
    unsigned want;
    uint32_t have;
    if (sscanf(line, "# input %127s crc32c = %x", key, &want) != 2) continue;
    const char *file = sf_cfg_peek(cfg, key);
    if (!file || file_crc(file, &have) != 0) {
      fprintf(stderr, "spikefly %s: cannot resume: config key '%s': cannot read '%s'\n", cmd, key, file ? file : "");
      ok = 0;
    } else if (have != want) {
      fprintf(stderr, "spikefly %s: cannot resume: '%s' (config key '%s') changed since the run started "
                      "(crc32c %08x, the run used %08x)\n", cmd, file, key, have, want);
      ok = 0;
    }
    snprintf(lines + strlen(lines), len - strlen(lines), "%s", line);
  }
  if (f) fclose(f);
  return ok ? 0 : -1;
}

/* Everything the command line decides, read once. */
typedef struct {
  sf_sweep sw;
  sf_config *base;  /* the run's config (restored from config.ini on resume) */
  sf_config **cfgs; /* [P] each agent's: base with its sweep point set */
  sf_agent_settings *agents;
  int P;
  const char *resume; /* the run directory to resume (resume_dir), or NULL */
  char resume_dir[512];
  int overrides;      /* keys given with --resume */
  sf_train_settings s;
  sf_env_model model;
  sf_device device;
  sf_run_opts opts;
  int overwrite;
  char inputs[1024]; /* config.ini's "# input" lines */
  char population[256]; /* an experiment's population: "train.bc=false", or "" */
  /* Over MPI ranks this process trains agents [p0, p0 + np) of the P. */
  const sf_run_comm *comm;
  int p0, np;
  char checkpoint[96];
} train_args;

static void free_args(train_args *a) {
  for (int p = 0; p < a->P; ++p) sf_cfg_free(a->cfgs[p]);
  free(a->cfgs), free(a->agents);
  free(a->opts.setting);
  sf_cfg_free(a->base);
}

/* "td3bc_jsrl seed=1 model.slope=5" and, for the summary, the same without
 * the seed. */
static void agent_labels(train_args *a) {
  a->opts.setting = calloc(a->P, sizeof *a->opts.setting);
  char pop[256];
  snprintf(pop, sizeof pop, "%s", a->population);
  for (char *c = pop; *c; ++c)
    if (*c == ',') *c = ' ';
  for (int p = 0; p < a->P; ++p) {
    char rest[160], group[192];
    sf_sweep_label(&a->sw, p, "seed", rest, sizeof rest);
    snprintf(group, sizeof group, "%s%s%.80s%s%.80s", sf_algo_names[a->s.algo], pop[0] ? " " : "", pop,
             rest[0] ? " " : "", rest);
    snprintf(a->opts.setting[p], sizeof a->opts.setting[p], "%.160s seed=%llu", group,
             (unsigned long long)a->agents[p].seed);
  }
}

/* This process's agents: all of them, or over MPI ranks a contiguous,
 * balanced share, with a checkpoint file of its own. */
static int share_agents(train_args *a) {
  a->p0 = 0;
  a->np = a->P;
  snprintf(a->checkpoint, sizeof a->checkpoint, "checkpoint.safetensors");
  if (a->comm) {
    if (a->opts.guide) {
      fprintf(stderr, "spikefly %s: the guide trains in one process, not over %d MPI ranks\n", a->opts.cmd,
              a->comm->size);
      return SF_EXIT_USAGE;
    }
    if (a->P < a->comm->size) {
      fprintf(stderr, "spikefly %s: %d agent%s over %d MPI ranks leaves rank %d without agents (use at most %d "
                      "ranks, or sweep more agents)\n", a->opts.cmd, a->P, a->P > 1 ? "s" : "", a->comm->size,
              a->P, a->P);
      return SF_EXIT_USAGE;
    }
    sf_mpi_share(a->P, a->comm->size, a->comm->rank, &a->p0, &a->np);
    snprintf(a->checkpoint, sizeof a->checkpoint, "checkpoint.agents-%d-%d.safetensors", a->p0,
             a->p0 + a->np - 1);
    fprintf(stderr, "spikefly %s: rank %d of %d trains agents %d to %d\n", a->opts.cmd, a->comm->rank,
            a->comm->size, a->p0, a->p0 + a->np - 1);
  }
  a->opts.agents = a->P;
  a->opts.agent0 = a->p0;
  a->opts.checkpoint = a->checkpoint;
  a->opts.comm = a->comm;
  return SF_EXIT_OK;
}

/* What the command line says, before it is split into populations. */
typedef struct {
  sf_sweep sw;
  const sf_run_comm *comm; /* MPI ranks, or NULL for one process */
  sf_config *base;   /* --config files, flags and overrides, the experiment applied */
  sf_config *given;  /* the flags and overrides alone (they win over a scale) */
  char resume[512];  /* the run or experiment directory to resume, or "" */
} command;

/* Parse the command line; an experiment file's sections are applied.
 * SF_EXIT_OK, SF_EXIT_USAGE, or -1 after --help. */
static int parse_command(const sf_cmd_spec *spec, int argc, char **argv, command *c) {
  char **args = malloc(sizeof(char *) * (argc + 1)), **plain = malloc(sizeof(char *) * (argc + 1));
  memcpy(args, argv, sizeof(char *) * argc);
  c->base = sf_cfg_new();
  c->given = sf_cfg_new();
  const char *pos[1];
  int npos, nplain = 0, rc = take_sweeps(&argc, args, &c->sw, spec->name) ? SF_CLI_ERROR
                                                : sf_cli_parse(spec, argc, args, c->base, pos, &npos);
  /* The same without the --config files: which keys the command line sets. */
  for (int i = 0; rc == SF_CLI_OK && i < argc; ++i) {
    if (!strcmp(args[i], "--config")) ++i;
    else if (strncmp(args[i], "--config=", 9)) plain[nplain++] = args[i];
  }
  if (rc == SF_CLI_OK) rc = sf_cli_parse(spec, nplain, plain, c->given, pos, &npos);
  free(args), free(plain);
  if (rc != SF_CLI_OK) return rc == SF_CLI_HELP ? -1 : SF_EXIT_USAGE;
  const char *resume = sf_cfg_peek(c->base, "train.resume");
  snprintf(c->resume, sizeof c->resume, "%s", resume ? resume : "");
  if (resume && c->sw.nkeys) {
    fprintf(stderr, "spikefly %s: --resume takes the run's own sweep; drop --sweep\n", spec->name);
    return SF_EXIT_USAGE;
  }
  char err[512];
  if (!resume && sf_experiment_apply(c->base, c->given, &c->sw, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly %s: %s\n", spec->name, err);
    return SF_EXIT_USAGE;
  }
  return SF_EXIT_OK;
}

/* One population's settings from its config (owned by a from here on):
 * a new run's, or (resume set) the run directory's own on top. */
static int read_population(const sf_cmd_spec *spec, sf_train_mode mode, sf_config *base, const sf_sweep *sw,
                           const char *resume, const char *population, const sf_run_comm *comm, train_args *a) {
  a->base = base;
  a->comm = comm;
  snprintf(a->population, sizeof a->population, "%s", population);
  a->sw = *sw;
  if (resume) {
    snprintf(a->resume_dir, sizeof a->resume_dir, "%s", resume);
    const char *dir = a->resume = a->resume_dir;
    sf_config *restored = resume_config(a->base, dir, &a->sw, &a->overrides, spec->name);
    if (!restored) return SF_EXIT_USAGE;
    sf_cfg_free(a->base);
    a->base = restored;
  }
  if (mode == SF_TRAIN_GUIDE) guide_defaults(a->base);
  a->P = sf_sweep_size(&a->sw);
  a->cfgs = calloc(a->P, sizeof *a->cfgs);
  a->agents = calloc(a->P, sizeof *a->agents);
  for (int p = 0; p < a->P; ++p) a->cfgs[p] = sf_sweep_config(&a->sw, a->base, p);
  sf_config *c = a->cfgs[0];
  sf_train_settings_read(c, &a->s);
  if (mode == SF_TRAIN_GUIDE) snprintf(a->s.actor.name, sizeof a->s.actor.name, "guide");
  a->opts.cmd = spec->name;
  a->opts.guide = mode == SF_TRAIN_GUIDE;
  a->opts.dir = sf_cfg_str(c, "train.out", "runs/train");
  a->device = sf_device_from_config(c, a->s.actor.frames == 0, "training a frame-stack actor (train.frame_stack)");
  a->overwrite = sf_cfg_bool(c, "train.overwrite", 0);
  a->opts.survive_goal = sf_cfg_float(c, "train.survive_goal", 0.95, 0.0, 1.0);
  a->opts.target_return = sf_cfg_float(c, "train.target_return", 400.0, -1e9, 1e9);
  a->opts.print_plans = sf_cfg_bool(c, "train.print_plan", 0);
  sf_cfg_str(c, "experiment.name", ""); /* kept in config.ini: which experiment a run belongs to */
  sf_cfg_str(c, "experiment.scale", "paper");
  sf_env_model_from_config(c, &a->model);
  for (int p = 0; p < a->P; ++p) {
    sf_agent_settings_read(a->cfgs[p], &a->agents[p]);
    if (sf_cfg_error(a->cfgs[p]) && !sf_cfg_error(c)) sf_cfg_fail(c, "%s", sf_cfg_error(a->cfgs[p]));
  }
  if (sf_cli_check(c, spec->name) != 0 || check_sweep_keys(&a->sw, spec->name) != 0) return SF_EXIT_USAGE;
  agent_labels(a);
  return share_agents(a);
}

/* The trainer of a new run (its directory made) or of a resumed one (its
 * checkpoint loaded, *kept the records it continues). SF_EXIT_* or -1 for
 * a finished run (nothing to do). */
static int agree(const train_args *a, int rc) { return a->comm ? a->comm->agree(a->comm, rc) : rc; }

/* A resumed run's trainer from its checkpoint (this rank's) and, on the
 * rank that logs, the records it continues. */
static int resume_run(train_args *a, sf_trainer *t, sf_record **kept, int *nkept, double *wall) {
  char err[1024], path[1024];
  const char *cmd = a->opts.cmd, *dir = a->opts.dir;
  snprintf(path, sizeof path, "%s/%s", dir, a->checkpoint);
  int rc = SF_EXIT_OK;
  if (access(path, F_OK) != 0) {
    fprintf(stderr, "spikefly %s: cannot resume: %s has no %s (agents %d to %d): resume with the number of "
                    "processes the run was trained with (one checkpoint file each)\n", cmd, dir, a->checkpoint,
            a->p0, a->p0 + a->np - 1);
    rc = SF_EXIT_USAGE;
  } else if (sf_trainer_load(t, path, err, sizeof err) != 0 ||
             sf_run_dir_resume(dir, a->checkpoint, t->epoch, a->p0 == 0 ? kept : NULL, nkept, wall, err,
                               sizeof err) != 0) {
    fprintf(stderr, "spikefly %s: cannot resume: %s\n", cmd, err);
    rc = SF_EXIT_USAGE;
  }
  if ((rc = agree(a, rc)) != SF_EXIT_OK) return rc;
  if (!sf_mpi_same(a->comm, t->epoch)) {
    fprintf(stderr, "spikefly %s: cannot resume: the checkpoint of agents %d to %d is at epoch %d, another rank's "
                    "is not (a rank died between checkpoints)\n", cmd, a->p0, a->p0 + a->np - 1, t->epoch);
    return SF_EXIT_USAGE;
  }
  if (sf_run_dir_finished(dir) && (!a->overrides || t->epoch >= a->s.epochs)) {
    if (a->p0 == 0)
      fprintf(stderr, "spikefly %s: the run in %s already finished at epoch %d of %d; nothing to do\n", cmd, dir,
              t->epoch, a->s.epochs);
    return -1;
  }
  if (a->p0 == 0) fprintf(stderr, "spikefly %s: resuming %s after epoch %d\n", cmd, dir, t->epoch);
  return SF_EXIT_OK;
}

/* The trainer of a new run (its directory made) or of a resumed one (its
 * checkpoint loaded, *kept the records it continues). SF_EXIT_* or -1 for
 * a finished run (nothing to do). Over MPI every rank takes each step. */
static int open_run(train_args *a, sf_trainer **tp, sf_record **kept, int *nkept, double *wall) {
  char err[1024];
  const char *cmd = a->opts.cmd, *dir = a->opts.dir;
  int rc = a->resume ? inputs_unchanged(dir, a->cfgs[0], a->inputs, sizeof a->inputs, cmd)
                     : take_inputs(a->base, a->cfgs, a->P, a->inputs, sizeof a->inputs, cmd);
  if (rc == 0) {
    sf_train_settings_read(a->cfgs[0], &a->s); /* the input paths may have been resolved */
    if (a->opts.guide) snprintf(a->s.actor.name, sizeof a->s.actor.name, "guide");
    *tp = sf_trainer_new(&a->s, a->agents + a->p0, a->np, &a->model, err, sizeof err);
    if (!*tp) fprintf(stderr, "spikefly %s: %s\n", cmd, err);
    rc = *tp ? SF_EXIT_OK : strstr(err, "memory") ? SF_EXIT_FAIL : SF_EXIT_USAGE;
  } else {
    rc = SF_EXIT_USAGE;
  }
  if ((rc = agree(a, rc)) != SF_EXIT_OK) return rc;
  if (a->resume) return resume_run(a, *tp, kept, nkept, wall);
  int usage = 0;
  if (a->p0 == 0 && sf_run_dir_new(dir, a->overwrite, &usage, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly %s: %s\n", cmd, err);
    rc = usage ? SF_EXIT_USAGE : SF_EXIT_FAIL;
  }
  return agree(a, rc); /* the other ranks write into the directory rank 0 made */
}

/* config.ini: written for a new run, rewritten for a resumed one given
 * overrides (they then hold for the rest of the run). Its text goes into
 * every checkpoint too. */
static int write_config(train_args *a, char **text) {
  char *body = sf_run_config_text(a->base, a->cfgs[0], &a->sw);
  size_t n = strlen(body) + strlen(a->inputs) + 1;
  *text = malloc(n);
  snprintf(*text, n, "%s%s", body, a->inputs);
  free(body);
  if ((a->resume && !a->overrides) || a->p0 != 0) return 0; /* rank 0 writes it */
  char path[1024], err[512];
  if (a->resume) { /* the run goes on: it is no longer finished */
    snprintf(path, sizeof path, "%s/summary.csv", a->opts.dir);
    remove(path);
  }
  snprintf(path, sizeof path, "%s/config.ini", a->opts.dir);
  if (sf_write_file_atomic(path, *text, strlen(*text), err, sizeof err) != 0) {
    fprintf(stderr, "spikefly %s: %s\n", a->opts.cmd, err);
    return -1;
  }
  return 0;
}

/* Train one population: its run directory, trainer, backend and loop. */
static int run_population(train_args *a) {
  sf_trainer *t = NULL;
  sf_record *kept = NULL;
  int nkept = 0;
  double wall = 0;
  char *text = NULL, err[1024];
  int rc = open_run(a, &t, &kept, &nkept, &wall);
  if (rc == SF_EXIT_OK && write_config(a, &text) != 0) rc = SF_EXIT_FAIL;
  sf_backend *b = NULL;
  if (rc == SF_EXIT_OK && a->comm && sf_device_pick(a->device, sf_mpi_local_rank(), err, sizeof err) != 0) {
    fprintf(stderr, "spikefly %s: rank %d: %s\n", a->opts.cmd, a->comm->rank, err);
    rc = SF_EXIT_FAIL;
  }
  if (rc == SF_EXIT_OK && !(b = sf_backend_open(a->device, t, err, sizeof err))) {
    fprintf(stderr, "spikefly %s: %s\n", a->opts.cmd, err);
    rc = SF_EXIT_FAIL;
  }
  if (rc == SF_EXIT_OK) {
    char desc[128];
    sf_actor_describe(&a->s.actor, desc, sizeof desc);
    fprintf(stderr, "spikefly %s: %s, actor %s, %d agent%s, %d envs each, %d epochs, on %s -> %s\n", a->opts.cmd,
            sf_algo_names[a->s.algo], desc, a->P, a->P > 1 ? "s" : "", a->s.envs, a->s.epochs, b->name, a->opts.dir);
    a->opts.config_text = text;
    rc = sf_train_run(t, b, &a->opts, kept, nkept, wall);
  }
  sf_backend_free(b);
  sf_trainer_free(t);
  free(kept), free(text);
  return rc < 0 ? SF_EXIT_OK : rc;
}

enum { MAX_POPULATIONS = 64 };

/* The populations of an experiment: read (and checked) all, then trained
 * one after another. A resumed experiment resumes each of its runs. */
static int run_experiment(const sf_cmd_spec *spec, sf_train_mode mode, command *c) {
  sf_sweep outer, inner;
  char names[MAX_POPULATIONS][256], dir[512], err[512];
  int n = c->resume[0] ? sf_populations_read(c->resume, names, MAX_POPULATIONS) : 0;
  if (!c->resume[0]) {
    sf_sweep_split(&c->sw, &outer, &inner);
    n = sf_sweep_size(&outer);
  }
  if (n > MAX_POPULATIONS) {
    fprintf(stderr, "spikefly %s: the grid makes %d populations, at most %d\n", spec->name, n, MAX_POPULATIONS);
    return SF_EXIT_USAGE;
  }
  snprintf(dir, sizeof dir, "%s", c->resume[0] ? c->resume : sf_cfg_str(c->base, "train.out", "runs/train"));
  train_args *pops = calloc(n, sizeof *pops);
  int rc = SF_EXIT_OK;
  for (int o = 0; o < n && rc == SF_EXIT_OK; ++o) {
    char sub[800];
    if (!c->resume[0]) sf_population_label(&outer, o, names[o], sizeof names[o]);
    if (snprintf(sub, sizeof sub, "%.511s/%.255s", dir, names[o]) >= (int)sizeof sub) rc = SF_EXIT_USAGE;
    sf_config *cfg = c->resume[0] ? sf_sweep_config(&(sf_sweep){0}, c->base, 0) : sf_sweep_config(&outer, c->base, o);
    sf_cfg_set(cfg, "train.out", sub);
    rc = read_population(spec, mode, cfg, c->resume[0] ? &(sf_sweep){0} : &inner, c->resume[0] ? sub : NULL,
                         names[o], c->comm, &pops[o]);
  }
  if (rc == SF_EXIT_OK && !c->resume[0] && (!c->comm || c->comm->rank == 0) &&
      sf_populations_write(dir, &outer, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly %s: %s\n", spec->name, err);
    rc = SF_EXIT_FAIL;
  }
  for (int o = 0; o < n && rc == SF_EXIT_OK; ++o) {
    fprintf(stderr, "spikefly %s: population %d of %d: %s\n", spec->name, o + 1, n, names[o]);
    rc = run_population(&pops[o]);
  }
  for (int o = 0; o < n; ++o)
    if (pops[o].base) free_args(&pops[o]);
  free(pops);
  return rc;
}

int sf_train_main(const sf_cmd_spec *spec, sf_train_mode mode, int argc, char **argv) {
  command c;
  memset(&c, 0, sizeof c);
  sf_run_comm *comm = NULL;
  if (sf_mpi_open(&comm) != 0) return SF_EXIT_USAGE;
  c.comm = comm;
  int rc = parse_command(spec, argc, argv, &c);
  sf_sweep outer, inner;
  sf_sweep_split(&c.sw, &outer, &inner);
  char names[1][256];
  const int experiment = rc == SF_EXIT_OK && (c.resume[0] ? sf_populations_read(c.resume, names, 1) > 0 : outer.nkeys > 0);
  if (rc == SF_EXIT_OK && experiment) {
    rc = run_experiment(spec, mode, &c);
  } else if (rc == SF_EXIT_OK) {
    train_args a;
    memset(&a, 0, sizeof a);
    rc = read_population(spec, mode, c.base, &c.sw, c.resume[0] ? c.resume : NULL, "", c.comm, &a);
    c.base = NULL; /* a owns it now */
    if (rc == SF_EXIT_OK) rc = run_population(&a);
    free_args(&a);
  }
  sf_cfg_free(c.base);
  sf_cfg_free(c.given);
  sf_mpi_close(comm);
  return rc < 0 ? SF_EXIT_OK : rc;
}
