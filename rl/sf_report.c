#include "rl/sf_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sf_config.h"
#include "core/sf_fileio.h"
#include "rl/sf_experiment.h"
#include "rl/sf_record.h"

enum { MAX_DIRS = 256, MAX_POPS = 64 };

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* A setting without its "seed=N" word. */
static void drop_seed(const char *setting, char *out, size_t len) {
  out[0] = 0;
  char buf[192];
  snprintf(buf, sizeof buf, "%s", setting);
  for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
    if (!strncmp(w, "seed=", 5)) continue;
    snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? " " : "", w);
  }
}

void sf_report_stats(const double *x, int n, double *mean, double *sd) {
  double s = 0, q = 0;
  for (int i = 0; i < n; ++i) s += x[i];
  *mean = n ? s / n : NAN;
  for (int i = 0; i < n; ++i) q += (x[i] - *mean) * (x[i] - *mean);
  *sd = n > 1 ? sqrt(q / (n - 1)) : NAN;
}

/* The run directories the arguments stand for. */
static int expand(const char *const *dirs, int ndirs, char (*out)[512], int *nout, char *err, size_t errlen) {
  *nout = 0;
  for (int i = 0; i < ndirs; ++i) {
    if (!is_dir(dirs[i])) {
      snprintf(err, errlen, "'%s' does not exist (or is not a directory)", dirs[i]);
      return -1;
    }
    char names[MAX_POPS][256], path[1024];
    const int n = sf_populations_read(dirs[i], names, MAX_POPS);
    snprintf(path, sizeof path, "%s/progress.csv", dirs[i]);
    if (n == 0 && !is_file(path)) {
      snprintf(err, errlen, "'%s' is neither a run directory (no progress.csv) nor an experiment directory (no "
               "populations.txt)", dirs[i]);
      return -1;
    }
    for (int p = 0; p < (n ? n : 1); ++p) {
      if (*nout == MAX_DIRS) {
        snprintf(err, errlen, "more than %d run directories", MAX_DIRS);
        return -1;
      }
      char *d = out[(*nout)++];
      if (n) snprintf(d, 512, "%.250s/%.255s", dirs[i], names[p]);
      else snprintf(d, 512, "%s", dirs[i]);
      if (n && !is_dir(d)) {
        snprintf(err, errlen, "'%s' does not exist: population '%s' of experiment directory '%s' has not run yet",
                 d, names[p], dirs[i]);
        return -1;
      }
    }
  }
  return 0;
}

/* One run directory's experiment name and scale from its config.ini. */
static int read_experiment(const char *dir, char *config, size_t clen, char *name, char *scale, char *err,
                           size_t errlen) {
  snprintf(config, clen, "%s/config.ini", dir);
  if (!is_file(config)) {
    snprintf(err, errlen, "'%s' has no config.ini: not a run directory of spikefly train", dir);
    return -1;
  }
  sf_config *c = sf_cfg_new();
  if (sf_cfg_load_file(c, config) != 0) {
    snprintf(err, errlen, "%s", sf_cfg_error(c) ? sf_cfg_error(c) : "cannot read config.ini");
    sf_cfg_free(c);
    return -1;
  }
  const char *n = sf_cfg_peek(c, "experiment.name"), *s = sf_cfg_peek(c, "experiment.scale");
  snprintf(name, 128, "%s", n ? n : "");
  snprintf(scale, 64, "%s", s ? s : "paper");
  sf_cfg_free(c);
  return 0;
}

/* The rows of `recs` (one run) that belong to group `setting`, into row. */
static void summarise(sf_report_row *row, const sf_record *recs, int n, double threshold) {
  int agents[256], na = 0;
  for (int i = 0; i < n; ++i) {
    char g[192];
    drop_seed(recs[i].setting, g, sizeof g);
    if (strcmp(g, row->setting)) continue;
    int a = (int)recs[i].agent, seen = 0;
    for (int k = 0; k < na; ++k) seen |= agents[k] == a;
    if (!seen && na < 256) agents[na++] = a;
  }
  row->nseeds = na;
  row->agents = malloc(sizeof(int) * (na ? na : 1));
  memcpy(row->agents, agents, sizeof(int) * na);
  double ret[256], surv[256], ep[256], st[256];
  int nr = 0, any_steps = 0;
  row->last_epoch = 0;
  for (int k = 0; k < na; ++k) {
    const sf_record *last = NULL, *first = NULL;
    for (int i = 0; i < n; ++i) {
      const sf_record *r = &recs[i];
      if ((int)r->agent != agents[k]) continue;
      char g[192];
      drop_seed(r->setting, g, sizeof g);
      if (strcmp(g, row->setting)) continue;
      if (r->env_steps > 0) any_steps = 1;
      if (!isfinite(r->return_final)) continue;
      last = r;
      if (!first && r->return_final >= threshold) first = r;
    }
    ret[k] = last ? last->return_final : NAN;
    surv[k] = last ? last->survival : NAN;
    if (last && (int)last->epoch > row->last_epoch) row->last_epoch = (int)last->epoch;
    if (first) ep[nr] = first->epoch, st[nr++] = first->env_steps;
  }
  row->offline = !any_steps;
  sf_report_stats(ret, na, &row->ret_mean, &row->ret_sd);
  sf_report_stats(surv, na, &row->surv_mean, &row->surv_sd);
  row->reached = nr;
  sf_report_stats(ep, nr, &row->epochs_mean, &row->epochs_sd);
  sf_report_stats(st, nr, &row->steps_mean, &row->steps_sd);

  /* The curve: every epoch at which some seed was evaluated. */
  int cap = 0;
  for (int i = 0; i < n; ++i) {
    char g[192];
    drop_seed(recs[i].setting, g, sizeof g);
    if (strcmp(g, row->setting) || !isfinite(recs[i].return_final)) continue;
    const int e = (int)recs[i].epoch;
    int j = 0;
    while (j < row->npoints && row->curve[j].epoch != e) ++j;
    if (j < row->npoints) continue;
    if (row->npoints == cap) row->curve = realloc(row->curve, (cap = cap ? 2 * cap : 64) * sizeof *row->curve);
    sf_report_point *pt = &row->curve[row->npoints++];
    memset(pt, 0, sizeof *pt);
    pt->epoch = e;
    double v[2][256], steps[256], upd[256];
    for (int k = 0; k < n; ++k) {
      drop_seed(recs[k].setting, g, sizeof g);
      if ((int)recs[k].epoch != e || strcmp(g, row->setting) || !isfinite(recs[k].return_final)) continue;
      if (pt->n == 256) break;
      v[0][pt->n] = recs[k].return_final, v[1][pt->n] = recs[k].return_current;
      steps[pt->n] = recs[k].env_steps, upd[pt->n] = recs[k].updates;
      pt->n++;
    }
    double sd;
    sf_report_stats(steps, pt->n, &pt->env_steps, &sd);
    sf_report_stats(upd, pt->n, &pt->updates, &sd);
    for (int c = 0; c < 2; ++c) {
      sf_report_stats(v[c], pt->n, &pt->mean[c], &pt->sd[c]);
      pt->lo[c] = INFINITY, pt->hi[c] = -INFINITY;
      for (int k = 0; k < pt->n; ++k) pt->lo[c] = fmin(pt->lo[c], v[c][k]), pt->hi[c] = fmax(pt->hi[c], v[c][k]);
    }
  }
  /* In epoch order (a resumed run's rows already are). */
  for (int i = 1; i < row->npoints; ++i)
    for (int j = i; j > 0 && row->curve[j - 1].epoch > row->curve[j].epoch; --j) {
      sf_report_point t = row->curve[j];
      row->curve[j] = row->curve[j - 1], row->curve[j - 1] = t;
    }
}

/* A resumed run may repeat epochs: the later row of an (epoch, agent) wins. */
static int dedupe(sf_record *r, int n) {
  int m = 0;
  for (int i = 0; i < n; ++i) {
    int later = 0;
    for (int j = i + 1; j < n && !later; ++j) later = r[j].epoch == r[i].epoch && r[j].agent == r[i].agent;
    if (!later) r[m++] = r[i];
  }
  return m;
}

int sf_report_load(const char *const *dirs, int ndirs, double threshold, sf_report *rep, char *err, size_t errlen) {
  memset(rep, 0, sizeof *rep);
  rep->threshold = threshold;
  char(*runs)[512] = malloc(MAX_DIRS * sizeof *runs);
  int nruns = 0, rc = -1;
  char first_dir[512] = "";
  if (expand(dirs, ndirs, runs, &nruns, err, errlen) != 0) goto done;
  for (int d = 0; d < nruns; ++d) {
    char config[1024], name[128], scale[64], path[1024];
    if (read_experiment(runs[d], config, sizeof config, name, scale, err, errlen) != 0) goto done;
    if (d == 0) {
      snprintf(rep->experiment, sizeof rep->experiment, "%s", name);
      snprintf(rep->scale, sizeof rep->scale, "%s", scale);
      snprintf(first_dir, sizeof first_dir, "%s", runs[0]);
    } else if (strcmp(name, rep->experiment)) {
      snprintf(err, errlen, "'%s' belongs to experiment '%s' and '%s' to experiment '%s' (experiment.name in their "
               "config.ini): report one experiment at a time", first_dir, rep->experiment[0] ? rep->experiment :
               "(none)", runs[d], name[0] ? name : "(none)");
      goto done;
    } else if (strcmp(scale, rep->scale)) {
      snprintf(err, errlen, "'%s' ran experiment '%s' at scale '%s' and '%s' at scale '%s' (experiment.scale in "
               "their config.ini): report one scale at a time", first_dir, name, rep->scale, runs[d], scale);
      goto done;
    }
    snprintf(path, sizeof path, "%s/progress.csv", runs[d]);
    sf_record *recs = NULL;
    int n = 0;
    if (!is_file(path)) {
      snprintf(err, errlen, "'%s' has no progress.csv: the run has not started", runs[d]);
      goto done;
    }
    if (sf_record_read(path, &recs, &n, err, errlen) != 0) goto done;
    n = dedupe(recs, n);
    int evaluated = 0;
    for (int i = 0; i < n; ++i) evaluated |= isfinite(recs[i].return_final);
    if (!evaluated) {
      snprintf(err, errlen, "'%s' has no evaluation yet (return_final is empty in all %d rows of progress.csv)",
               runs[d], n);
      free(recs);
      goto done;
    }
    /* Its groups, in order of first appearance. */
    for (int i = 0; i < n; ++i) {
      char g[192];
      drop_seed(recs[i].setting, g, sizeof g);
      int seen = 0;
      for (int r = 0; r < rep->nrows && !seen; ++r)
        seen = !strcmp(rep->rows[r].setting, g) && !strcmp(rep->rows[r].dir, runs[d]);
      if (seen) continue;
      rep->rows = realloc(rep->rows, (rep->nrows + 1) * sizeof *rep->rows);
      sf_report_row *row = &rep->rows[rep->nrows++];
      memset(row, 0, sizeof *row);
      snprintf(row->setting, sizeof row->setting, "%s", g);
      snprintf(row->dir, sizeof row->dir, "%s", runs[d]);
      snprintf(row->config, sizeof row->config, "%s", config);
      summarise(row, recs, n, threshold);
    }
    free(recs);
  }
  rc = 0;
done:
  free(runs);
  if (rc != 0) sf_report_free(rep);
  return rc;
}

void sf_report_free(sf_report *rep) {
  for (int r = 0; r < rep->nrows; ++r) free(rep->rows[r].curve), free(rep->rows[r].agents);
  free(rep->rows);
  rep->rows = NULL;
  rep->nrows = 0;
}

void sf_report_mean_sd(double mean, double sd, int prec, char *out, size_t len) {
  if (!isfinite(mean)) snprintf(out, len, "-");
  else if (isfinite(sd)) snprintf(out, len, "%.*f ± %.*f", prec, mean, prec, sd);
  else snprintf(out, len, "%.*f", prec, mean);
}

/* "not reached by k of n", or the mean ± sd with that note. */
static void reached_cell(const sf_report_row *r, double mean, double sd, int prec, char *out, size_t len) {
  const int miss = r->nseeds - r->reached;
  if (r->reached == 0) {
    snprintf(out, len, "not reached by %d of %d", miss, r->nseeds);
    return;
  }
  sf_report_mean_sd(mean, sd, prec, out, len);
  if (miss) snprintf(out + strlen(out), len - strlen(out), " (not reached by %d of %d)", miss, r->nseeds);
}

static int finish(FILE *f, const char *path, char *err, size_t errlen) { return sf_afclose(f, path, 1, err, errlen); }

int sf_report_write_markdown(const sf_report *rep, const char *path, char *err, size_t errlen) {
  FILE *f = sf_afopen(path, err, errlen);
  if (!f) return -1;
  fprintf(f, "# Experiment %s, scale %s\n\n", rep->experiment[0] ? rep->experiment : "(none)", rep->scale);
  fprintf(f, "Mean ± sample standard deviation over the seeds (n - 1; a single seed shows its value alone). "
             "Final: each seed's last evaluation, return under the final reward coefficients. To %g: the first "
             "evaluation whose return reached %g, over the seeds that reached it.\n\n",
          rep->threshold, rep->threshold);
  fprintf(f, "| setting | seeds | last epoch | final return | final survival | epochs to %g | env steps to %g | config |\n",
          rep->threshold, rep->threshold);
  fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
  for (int i = 0; i < rep->nrows; ++i) {
    const sf_report_row *r = &rep->rows[i];
    char ret[64], surv[64], ep[96], st[96];
    sf_report_mean_sd(r->ret_mean, r->ret_sd, 1, ret, sizeof ret);
    sf_report_mean_sd(r->surv_mean, r->surv_sd, 3, surv, sizeof surv);
    reached_cell(r, r->epochs_mean, r->epochs_sd, 1, ep, sizeof ep);
    if (r->offline && r->reached) snprintf(st, sizeof st, "- (offline)");
    else reached_cell(r, r->steps_mean, r->steps_sd, 0, st, sizeof st);
    fprintf(f, "| %s | %d | %d | %s | %s | %s | %s | %s |\n", r->setting, r->nseeds, r->last_epoch, ret, surv, ep, st,
            r->config);
  }
  return finish(f, path, err, errlen);
}

void sf_report_csv_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\n\r")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; ++s) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

void sf_report_csv_num(FILE *f, double x) {
  if (isfinite(x)) fprintf(f, ",%.17g", x);
  else fputc(',', f);
}

int sf_report_write_csv(const sf_report *rep, const char *path, char *err, size_t errlen) {
  FILE *f = sf_afopen(path, err, errlen);
  if (!f) return -1;
  fprintf(f, "experiment,scale,setting,seeds,last_epoch,return_final_mean,return_final_std,survival_mean,"
             "survival_std,threshold,reached,epochs_to_threshold_mean,epochs_to_threshold_std,"
             "env_steps_to_threshold_mean,env_steps_to_threshold_std,offline,config\n");
  for (int i = 0; i < rep->nrows; ++i) {
    const sf_report_row *r = &rep->rows[i];
    sf_report_csv_field(f, rep->experiment);
    fputc(',', f);
    sf_report_csv_field(f, rep->scale);
    fputc(',', f);
    sf_report_csv_field(f, r->setting);
    fprintf(f, ",%d,%d", r->nseeds, r->last_epoch);
    sf_report_csv_num(f, r->ret_mean), sf_report_csv_num(f, r->ret_sd), sf_report_csv_num(f, r->surv_mean), sf_report_csv_num(f, r->surv_sd);
    fprintf(f, ",%.17g,%d", rep->threshold, r->reached);
    sf_report_csv_num(f, r->epochs_mean), sf_report_csv_num(f, r->epochs_sd);
    sf_report_csv_num(f, r->offline ? NAN : r->steps_mean), sf_report_csv_num(f, r->offline ? NAN : r->steps_sd);
    fprintf(f, ",%d,", r->offline);
    sf_report_csv_field(f, r->config);
    fputc('\n', f);
  }
  return finish(f, path, err, errlen);
}

int sf_report_write_curve(const sf_report_row *row, const char *path, char *err, size_t errlen) {
  FILE *f = sf_afopen(path, err, errlen);
  if (!f) return -1;
  fprintf(f, "# %s (%s)\n# epoch n env_steps updates final_mean final_sd final_lo final_hi current_mean "
             "current_sd current_lo current_hi\n", row->setting, row->dir);
  for (int i = 0; i < row->npoints; ++i) {
    const sf_report_point *p = &row->curve[i];
    fprintf(f, "%d %d %.17g %.17g", p->epoch, p->n, p->env_steps, p->updates);
    for (int c = 0; c < 2; ++c) {
      /* One seed: no spread (gnuplot reads NaN as a missing point). */
      const double sd = isfinite(p->sd[c]) ? p->sd[c] : 0.0;
      fprintf(f, " %.9g %.9g %.9g %.9g", p->mean[c], sd, p->lo[c], p->hi[c]);
    }
    fputc('\n', f);
  }
  return finish(f, path, err, errlen);
}
