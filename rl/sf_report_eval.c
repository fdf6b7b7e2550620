#include "rl/sf_report_eval.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sf_config.h"
#include "core/sf_fileio.h"
#include "rl/sf_actor.h"
#include "rl/sf_evaluate.h"
#include "sim/sf_eval.h"

int sf_report_eval_parse(const char *list, int *traj, int *ntraj, char *err, size_t errlen) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", list);
  *ntraj = 0;
  for (char *save = NULL, *w = strtok_r(buf, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
    int t = -1;
    for (int i = 0; sf_traj_names[i]; ++i)
      if (!strcmp(w, sf_traj_names[i])) t = i;
    if (t < 0) {
      snprintf(err, errlen, "'%s' is not a trajectory (hover, circle, figure8, square)", w);
      return -1;
    }
    for (int i = 0; i < *ntraj; ++i)
      if (traj[i] == t) {
        snprintf(err, errlen, "trajectory '%s' is named twice", w);
        return -1;
      }
    traj[(*ntraj)++] = t;
  }
  if (*ntraj == 0) {
    snprintf(err, errlen, "no trajectory named (hover, circle, figure8, square)");
    return -1;
  }
  return 0;
}

/* The file holding a run's agent: checkpoint.safetensors, or that of its
 * MPI rank (checkpoint.agents-FIRST-LAST.safetensors, *index agent - FIRST). */
static int find_checkpoint(const char *dir, int agent, char *path, size_t len, int *index, char *err,
                           size_t errlen) {
  struct stat st;
  snprintf(path, len, "%s/checkpoint.safetensors", dir);
  *index = agent;
  if (stat(path, &st) == 0) return 0;
  DIR *d = opendir(dir);
  for (struct dirent *e; d && (e = readdir(d));) {
    int first, last, used = 0;
    if (sscanf(e->d_name, "checkpoint.agents-%d-%d.safetensors%n", &first, &last, &used) == 2 &&
        !e->d_name[used] && first <= agent && agent <= last) {
      snprintf(path, len, "%.343s/%.255s", dir, e->d_name);
      *index = agent - first;
      closedir(d);
      return 0;
    }
  }
  if (d) closedir(d);
  snprintf(err, errlen, "'%s' has no checkpoint of agent %d (checkpoint.safetensors): the run has not evaluated yet "
           "or its checkpoints were removed", dir, agent);
  return -1;
}

/* The run's environment (its config.ini's sim.* and env.* keys) on
 * trajectory t, as `spikefly eval --trajectory` sets it. */
static int run_model(const char *config, int t, sf_env_model *m, char *err, size_t errlen) {
  sf_config *c = sf_cfg_new();
  int rc = sf_cfg_load_file(c, config);
  if (rc == 0) {
    sf_cfg_set(c, "env.trajectory", sf_traj_names[t]);
    sf_env_model_from_config(c, m);
    rc = sf_cfg_error(c) ? -1 : 0;
  }
  if (rc != 0) snprintf(err, errlen, "%s: %s", config, sf_cfg_error(c) ? sf_cfg_error(c) : "cannot read it");
  sf_cfg_free(c);
  if (rc == 0 && t != SF_TRAJ_HOVER) m->task.time_limit = sf_traj_pass_steps(m);
  return rc;
}

/* One seed of a row on every trajectory. */
static int fly_seed(const sf_report_row *row, const sf_report_evals *ev, sf_report_eval_row *er, int k, char *err,
                    size_t errlen) {
  if (find_checkpoint(row->dir, row->agents[k], er->checkpoint[k], sizeof er->checkpoint[k], &er->index[k], err,
                      errlen) != 0)
    return -1;
  uint64_t seed = 0;
  char why[1024];
  sf_actor *a = sf_actor_load(er->checkpoint[k], er->index[k], &seed, why, sizeof why);
  if (!a) {
    snprintf(err, errlen, "%s", why);
    return -1;
  }
  er->seed[k] = (unsigned long long)seed;
  int rc = 0;
  for (int t = 0; t < ev->ntraj && rc == 0; ++t) {
    sf_env_model m;
    rc = run_model(row->config, ev->traj[t], &m, err, errlen);
    if (rc == 0 && sf_evaluate(a, &m, &seed, ev->episodes, 1.0f, 50, &er->stats[k * ev->ntraj + t], NULL, 0, 0)) {
      snprintf(err, errlen, "out of memory flying %s", er->checkpoint[k]);
      rc = -1;
    }
  }
  sf_actor_free(a);
  return rc;
}

int sf_report_evaluate(const sf_report *rep, const int *traj, int ntraj, int episodes, sf_report_evals *ev,
                       char *err, size_t errlen) {
  memset(ev, 0, sizeof *ev);
  ev->ntraj = ntraj;
  memcpy(ev->traj, traj, sizeof(int) * ntraj);
  ev->episodes = episodes;
  ev->nrows = rep->nrows;
  ev->rows = calloc(rep->nrows ? rep->nrows : 1, sizeof *ev->rows);
  for (int r = 0; r < rep->nrows; ++r) {
    const sf_report_row *row = &rep->rows[r];
    sf_report_eval_row *er = &ev->rows[r];
    const int n = row->nseeds ? row->nseeds : 1;
    er->nseeds = row->nseeds;
    er->seed = calloc(n, sizeof *er->seed);
    er->checkpoint = calloc(n, sizeof *er->checkpoint);
    er->index = calloc(n, sizeof *er->index);
    er->stats = calloc((size_t)n * ntraj, sizeof *er->stats);
    for (int k = 0; k < row->nseeds; ++k)
      if (fly_seed(row, ev, er, k, err, errlen) != 0) {
        sf_report_evals_free(ev);
        return -1;
      }
  }
  return 0;
}

void sf_report_evals_free(sf_report_evals *ev) {
  for (int r = 0; r < ev->nrows; ++r) {
    sf_report_eval_row *er = &ev->rows[r];
    free(er->seed), free(er->checkpoint), free(er->index), free(er->stats);
  }
  free(ev->rows);
  ev->rows = NULL;
  ev->nrows = 0;
}

/* The error an evaluation reports for its trajectory. */
static double error_of(const sf_eval_stats *st, int traj) { return traj == SF_TRAJ_HOVER ? st->hover_err : st->track_err; }

sf_report_eval_cell sf_report_eval_cell_of(const sf_report_evals *ev, int r, int t) {
  const sf_report_eval_row *er = &ev->rows[r];
  sf_report_eval_cell c;
  memset(&c, 0, sizeof c);
  const int n = er->nseeds;
  double *e = malloc(sizeof(double) * 3 * (n ? n : 1)), *s = e + (n ? n : 1), *q = s + (n ? n : 1);
  for (int k = 0; k < n; ++k) {
    const sf_eval_stats *st = &er->stats[k * ev->ntraj + t];
    const double err = error_of(st, ev->traj[t]);
    if (isfinite(err)) e[c.with_error++] = err;
    s[k] = st->survival;
    q[k] = st->ret_final;
  }
  c.seeds = n;
  sf_report_stats(e, c.with_error, &c.err_mean, &c.err_sd);
  sf_report_stats(s, n, &c.surv_mean, &c.surv_sd);
  sf_report_stats(q, n, &c.ret_mean, &c.ret_sd);
  free(e);
  return c;
}

/* "0.070 ± 0.010", with "(2 of 3 seeds)" where some seed had no surviving
 * episode, or "- (no episode survived)". */
static void error_text(const sf_report_eval_cell *c, char *out, size_t len) {
  if (c->with_error == 0) {
    snprintf(out, len, "- (no episode survived)");
    return;
  }
  sf_report_mean_sd(c->err_mean, c->err_sd, 3, out, len);
  if (c->with_error < c->seeds)
    snprintf(out + strlen(out), len - strlen(out), " (%d of %d seeds)", c->with_error, c->seeds);
}

static const char *experiment_name(const sf_report *rep) { return rep->experiment[0] ? rep->experiment : "(none)"; }

int sf_report_write_eval_markdown(const sf_report *rep, const sf_report_evals *ev, const char *path, char *err,
                                  size_t errlen) {
  FILE *f = sf_afopen(path, err, errlen);
  if (!f) return -1;
  fprintf(f, "# Experiment %s, scale %s: evaluations\n\n", experiment_name(rep), rep->scale);
  fprintf(f, "Each seed's final checkpoint flown for %d episodes per trajectory (the environment of the run's "
             "config.ini, the agent's training seed, no exploration noise). Error: on hover the hover error (mean "
             "|p - p*| over the last 1 s), on the others the tracking error (after the first 1 s), over the "
             "surviving episodes, in m. Survival: the fraction of episodes reaching the time limit. Mean ± sample "
             "standard deviation over the seeds (n - 1); the error over the seeds with a surviving episode.\n\n",
          ev->episodes);
  fprintf(f, "| setting | seeds |");
  for (int t = 0; t < ev->ntraj; ++t)
    fprintf(f, " %s %s (m) | %s survival |", sf_traj_names[ev->traj[t]], ev->traj[t] ? "tracking error" : "error",
            sf_traj_names[ev->traj[t]]);
  fprintf(f, " config |\n| --- | ---: |");
  for (int t = 0; t < ev->ntraj; ++t) fprintf(f, " ---: | ---: |");
  fprintf(f, " --- |\n");
  for (int r = 0; r < rep->nrows; ++r) {
    fprintf(f, "| %s | %d |", rep->rows[r].setting, ev->rows[r].nseeds);
    for (int t = 0; t < ev->ntraj; ++t) {
      const sf_report_eval_cell c = sf_report_eval_cell_of(ev, r, t);
      char e[128], s[64];
      error_text(&c, e, sizeof e);
      sf_report_mean_sd(c.surv_mean, c.surv_sd, 2, s, sizeof s);
      fprintf(f, " %s | %s |", e, s);
    }
    fprintf(f, " %s |\n", rep->rows[r].config);
  }
  return sf_afclose(f, path, 1, err, errlen);
}

static void csv_head(FILE *f, const sf_report *rep, const char *setting, const char *traj) {
  sf_report_csv_field(f, rep->experiment);
  fputc(',', f);
  sf_report_csv_field(f, rep->scale);
  fputc(',', f);
  sf_report_csv_field(f, setting);
  fprintf(f, ",%s", traj);
}

int sf_report_write_eval_csv(const sf_report *rep, const sf_report_evals *ev, const char *path, char *err,
                             size_t errlen) {
  FILE *f = sf_afopen(path, err, errlen);
  if (!f) return -1;
  fprintf(f, "experiment,scale,setting,trajectory,episodes,seeds,seeds_with_error,error_mean,error_std,"
             "survival_mean,survival_std,return_mean,return_std,config\n");
  for (int r = 0; r < rep->nrows; ++r)
    for (int t = 0; t < ev->ntraj; ++t) {
      const sf_report_eval_cell c = sf_report_eval_cell_of(ev, r, t);
      csv_head(f, rep, rep->rows[r].setting, sf_traj_names[ev->traj[t]]);
      fprintf(f, ",%d,%d,%d", ev->episodes, c.seeds, c.with_error);
      sf_report_csv_num(f, c.err_mean), sf_report_csv_num(f, c.err_sd);
      sf_report_csv_num(f, c.surv_mean), sf_report_csv_num(f, c.surv_sd);
      sf_report_csv_num(f, c.ret_mean), sf_report_csv_num(f, c.ret_sd);
      fputc(',', f);
      sf_report_csv_field(f, rep->rows[r].config);
      fputc('\n', f);
    }
  return sf_afclose(f, path, 1, err, errlen);
}

int sf_report_write_eval_seeds_csv(const sf_report *rep, const sf_report_evals *ev, const char *path, char *err,
                                   size_t errlen) {
  FILE *f = sf_afopen(path, err, errlen);
  if (!f) return -1;
  fprintf(f, "experiment,scale,setting,trajectory,seed,agent,episodes,error,survival,return,mean_length,"
             "checkpoint\n");
  for (int r = 0; r < rep->nrows; ++r)
    for (int k = 0; k < ev->rows[r].nseeds; ++k)
      for (int t = 0; t < ev->ntraj; ++t) {
        const sf_report_eval_row *er = &ev->rows[r];
        const sf_eval_stats *st = &er->stats[k * ev->ntraj + t];
        csv_head(f, rep, rep->rows[r].setting, sf_traj_names[ev->traj[t]]);
        fprintf(f, ",%llu,%d,%d", er->seed[k], rep->rows[r].agents[k], ev->episodes);
        sf_report_csv_num(f, error_of(st, ev->traj[t]));
        sf_report_csv_num(f, st->survival), sf_report_csv_num(f, st->ret_final), sf_report_csv_num(f, st->mean_len);
        fputc(',', f);
        sf_report_csv_field(f, er->checkpoint[k]);
        fputc('\n', f);
      }
  return sf_afclose(f, path, 1, err, errlen);
}
