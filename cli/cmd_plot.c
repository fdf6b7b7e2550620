/* `spikefly plot RUN_DIR...`: PNG learning curves of training runs and plots
 * of flights, drawn by gnuplot.
 *
 * The command reads each run's progress.csv and config.ini, groups the agents
 * that share a setting (the same values of every sweep key but `seed`), and
 * writes gnuplot data files, one script (plot.gp) and the PNG files into the
 * output directory; then it runs gnuplot on the script as a child process.
 * The data files and the script stay, so a figure can be restyled and redrawn
 * with `gnuplot plot.gp`. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/sf_defs.h"
#include "core/sf_fileio.h"
#include "cli/sf_cli.h"
#include "cli/sf_device.h"
#include "rl/sf_sweep.h"

extern char **environ;

#define PLOT_MAX_RUNS 64
#define PLOT_MAX_FLIGHTS 64
#define PLOT_MAX_CELLS (1L << 26) /* epochs x agents of one run */

static const sf_flag plot_flags[] = {
    {"out", "plot.out", NULL, "DIR", "directory of the PNG files (default: the first run directory)"},
    {"flight", "plot.flight", NULL, "FILE.csv",
     "also plot a flight CSV of `spikefly fly --csv` or `eval --csv` as flight_<n>.png (may repeat)"},
    {"band", "plot.band", NULL, "B", "spread over seeds: minmax (default) | std (mean +- std) | none"},
    {"flight-episodes", "plot.flight_episodes", NULL, "K", "at most K episodes drawn per flight (default 8)"},
    {"width", "plot.width", NULL, "W", "width of a learning-curve PNG in pixels (default 900)"},
    {"height", "plot.height", NULL, "H", "height of a PNG in pixels (default 560)"},
    {"gnuplot", "plot.gnuplot", NULL, "PROG", "the gnuplot program (default gnuplot, from PATH)"},
    {"device", "device", NULL, "DEV", "cpu | auto (this command runs on the CPU; cuda is an error)"},
};

static const sf_cmd_spec plot_spec = {
    "plot", "RUN_DIR...", "draw PNG learning curves of training runs and plots of flights (with gnuplot)",
    plot_flags, (int)SF_ARRAY_LEN(plot_flags), 0, PLOT_MAX_RUNS,
    "Written to the output directory:\n"
    "  return_vs_steps.png  evaluation return (final reward coefficients) against\n"
    "                       environment steps (gradient updates for offline runs)\n"
    "  return_vs_time.png   the same against wall-clock time\n"
    "  slope_bc.png         surrogate slope and BC weight per epoch\n"
    "  flight_<n>.png       for the n-th --flight file (from 1): x-y, x-z and\n"
    "                       position error |p - p*| over time, target dashed\n"
    "Agents of a run that differ only in `seed` form one curve: the mean over\n"
    "the seeds with a shaded band (min to max by default). The legend names the\n"
    "run (its directory) and the setting. Beside the PNG files: plot.gp (the\n"
    "gnuplot script), its .dat files and gnuplot.log (gnuplot's messages).\n"
    "Needs gnuplot with the pngcairo terminal (Debian: gnuplot-nox). Several\n"
    "--flight files may be given, or\n"
    "plot.flight=a.csv,b.csv. With only --flight files, RUN_DIR may be left out\n"
    "(--out defaults to the current directory then)."};

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define PALETTE_N ((int)SF_ARRAY_LEN(palette))

/* ---- reading CSV files ---------------------------------------------------- */

/* Split a line (modified in place) at commas; returns the field count. */
static int split_fields(char *line, char **fields, int cap) {
  int n = 0;
  char *p = line;
  while (1) {
    if (n < cap) fields[n] = p;
    ++n;
    char *c = strchr(p, ',');
    if (!c) break;
    *c = 0;
    p = c + 1;
  }
  return n;
}

static void strip_eol(char *s) {
  size_t l = strlen(s);
  while (l && (s[l - 1] == '\n' || s[l - 1] == '\r' || s[l - 1] == ' ')) s[--l] = 0;
}

/* A CSV file in memory: the header's column indices of the wanted names and
 * the rows' values of those columns. */
typedef struct {
  int ncols;     /* wanted columns */
  int nrows;
  double *v;     /* [nrows][ncols] */
} csv_table;

/* Read `path`, keeping the columns named in `want`. A missing file, a missing
 * column, a row whose field count is not the header's, a row that does not
 * parse, or a last line without its newline (a file cut short: a full disk,
 * a copy interrupted) is bad input: message naming the line in err, -1.
 * Dropping such rows would draw a curve that silently ends early. */
static int csv_read(const char *path, const char *const *want, int nwant, csv_table *t, char *err, size_t errlen) {
  memset(t, 0, sizeof *t);
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(err, errlen, "no file '%s'", path);
    return -1;
  }
  void *data;
  size_t size;
  if (sf_read_file(path, &data, &size, err, errlen) != 0) return -1;
  char *text = data;
  int col[64];
  char *fields[256];
  int rc = -1, cap = 0, lineno = 0, nheader = 0;
  char *line = text;
  t->ncols = nwant;
  if (memchr(text, 0, size)) {
    snprintf(err, errlen, "'%s' holds a NUL byte: not a CSV text file", path);
    goto done;
  }
  while (line && *line) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    ++lineno;
    char *next = nl ? nl + 1 : NULL;
    if (!nl) {
      snprintf(err, errlen, "'%s' line %d ends without a line end: the file is cut short (truncated, or still "
               "being written)", path, lineno);
      goto done;
    }
    strip_eol(line);
    if (lineno == 1) {
      int nf = split_fields(line, fields, 256);
      if (nf > 256) nf = 256;
      nheader = nf;
      for (int w = 0; w < nwant; ++w) {
        col[w] = -1;
        for (int f = 0; f < nf; ++f)
          if (!strcmp(fields[f], want[w])) col[w] = f;
        if (col[w] < 0) {
          snprintf(err, errlen, "'%s' has no column '%s' in its header line", path, want[w]);
          goto done;
        }
      }
    } else if (*line) {
      int nf = split_fields(line, fields, 256);
      if (nf > 256) nf = 256;
      if (nf != nheader) {
        snprintf(err, errlen, "'%s' line %d: %d fields, the header has %d (a damaged or cut-short file)", path,
                 lineno, nf, nheader);
        goto done;
      }
      if (t->nrows == cap) {
        cap = cap ? 2 * cap : 1024;
        t->v = realloc(t->v, (size_t)cap * nwant * sizeof(double));
      }
      for (int w = 0; w < nwant; ++w) {
        char *end;
        double x = strtod(fields[col[w]], &end);
        if (end == fields[col[w]] || *end) {
          snprintf(err, errlen, "'%s' line %d: column '%s' is not a number ('%s')", path, lineno, want[w],
                   fields[col[w]]);
          goto done;
        }
        t->v[(size_t)t->nrows * nwant + w] = x;
      }
      t->nrows++;
    }
    line = next;
  }
  if (lineno == 0) {
    snprintf(err, errlen, "'%s' is empty (no header line)", path);
    goto done;
  }
  rc = 0;
done:
  free(data);
  if (rc != 0) {
    free(t->v);
    t->v = NULL;
  }
  return rc;
}

/* ---- runs ----------------------------------------------------------------- */

enum { RC_EPOCH, RC_AGENT, RC_STEPS, RC_UPDATES, RC_WALL, RC_RETURN, RC_SLOPE, RC_BC, RC_COUNT };
static const char *const run_cols[RC_COUNT] = {"epoch",        "agent", "env_steps", "updates",
                                               "wall_s",       "return_final", "slope", "bc_weight"};

typedef struct {
  const char *dir;
  char name[256];
  int nagents, epoch0, nepochs;
  double *cell; /* [nepochs][nagents][RC_COUNT], NaN where no row */
  int ngroups;
  int *group;            /* [nagents] */
  char (*label)[256];    /* [ngroups] */
  int *group_size;       /* [ngroups] */
} plot_run;

static double *run_cell(const plot_run *r, int e, int a) {
  return r->cell + ((size_t)e * r->nagents + a) * RC_COUNT;
}

static void run_free(plot_run *r) {
  free(r->cell);
  free(r->group);
  free(r->label);
  free(r->group_size);
}

/* The `# sweep KEY = v1,v2` comments of config.ini; 0 when there is none (or
 * no config.ini). */
static void read_sweeps(const char *dir, sf_sweep *sw) {
  memset(sw, 0, sizeof *sw);
  char path[1100];
  snprintf(path, sizeof path, "%s/config.ini", dir);
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "# sweep ", 8)) continue;
    strip_eol(line);
    char *key = line + 8, *eq = strchr(key, '=');
    if (!eq) continue;
    char *kend = eq;
    while (kend > key && kend[-1] == ' ') --kend;
    char *vals = eq + 1;
    while (*vals == ' ') ++vals;
    char spec[4200], err[256];
    snprintf(spec, sizeof spec, "%.*s=%s", (int)(kend - key), key, vals);
    if (sf_sweep_add(sw, spec, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly plot: %s: %s; agents are plotted one by one\n", path, err);
      memset(sw, 0, sizeof *sw);
      break;
    }
  }
  fclose(f);
}

static int load_run(const char *dir, plot_run *r, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  r->dir = dir;
  char path[1100];
  snprintf(path, sizeof path, "%s/progress.csv", dir);
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "'%s' is not a directory (a run directory of spikefly train)", dir);
    return -1;
  }
  if (stat(path, &st) != 0) {
    snprintf(err, errlen, "'%s' has no progress.csv: not a run directory of spikefly train", dir);
    return -1;
  }
  csv_table t;
  if (csv_read(path, run_cols, RC_COUNT, &t, err, errlen) != 0) return -1;
  if (t.nrows == 0) {
    snprintf(err, errlen, "'%s' has no rows yet", path);
    free(t.v);
    return -1;
  }
  double emin = INFINITY, emax = -INFINITY, amax = -1;
  for (int i = 0; i < t.nrows; ++i) {
    double e = t.v[i * RC_COUNT + RC_EPOCH], a = t.v[i * RC_COUNT + RC_AGENT];
    if (!(e >= 0 && e <= 1e9 && e == floor(e)) || !(a >= 0 && a < SF_MAX_AGENTS && a == floor(a))) {
      snprintf(err, errlen, "'%s' row %d: epoch %g or agent %g is not a valid index", path, i + 1, e, a);
      free(t.v);
      return -1;
    }
    emin = fmin(emin, e);
    emax = fmax(emax, e);
    amax = fmax(amax, a);
  }
  r->epoch0 = (int)emin;
  r->nepochs = (int)(emax - emin) + 1;
  r->nagents = (int)amax + 1;
  if ((long)r->nepochs * r->nagents > PLOT_MAX_CELLS) {
    snprintf(err, errlen, "'%s': %d epochs x %d agents is too many to plot", path, r->nepochs, r->nagents);
    free(t.v);
    return -1;
  }
  size_t ncell = (size_t)r->nepochs * r->nagents * RC_COUNT;
  r->cell = malloc(ncell * sizeof(double));
  for (size_t i = 0; i < ncell; ++i) r->cell[i] = NAN;
  /* A resumed run may repeat epochs: the later row wins. */
  for (int i = 0; i < t.nrows; ++i) {
    const double *row = &t.v[i * RC_COUNT];
    memcpy(run_cell(r, (int)row[RC_EPOCH] - r->epoch0, (int)row[RC_AGENT]), row, RC_COUNT * sizeof(double));
  }
  free(t.v);

  /* Groups: agents with the same label (sweep values but the seed). */
  sf_sweep sw;
  read_sweeps(dir, &sw);
  int by_sweep = sw.nkeys > 0 && sf_sweep_size(&sw) == r->nagents;
  if (sw.nkeys > 0 && !by_sweep)
    fprintf(stderr, "spikefly plot: %s/config.ini sweeps %d agents, progress.csv has %d; agents are plotted one by one\n",
            dir, sf_sweep_size(&sw), r->nagents);
  r->group = malloc(r->nagents * sizeof(int));
  r->label = malloc(r->nagents * sizeof *r->label);
  r->group_size = calloc(r->nagents, sizeof(int));
  for (int a = 0; a < r->nagents; ++a) {
    char lab[256];
    if (by_sweep)
      sf_sweep_label(&sw, a, "seed", lab, sizeof lab);
    else if (r->nagents > 1)
      snprintf(lab, sizeof lab, "agent %d", a);
    else
      lab[0] = 0;
    int g = 0;
    while (g < r->ngroups && strcmp(r->label[g], lab)) ++g;
    if (g == r->ngroups) snprintf(r->label[r->ngroups++], sizeof r->label[0], "%s", lab);
    r->group[a] = g;
    r->group_size[g]++;
  }
  return 0;
}

/* The run's name in legends: its directory's last component. */
static void run_base_name(const char *dir, char *out, size_t len) {
  size_t l = strlen(dir);
  while (l > 1 && dir[l - 1] == '/') --l;
  size_t b = l;
  while (b > 0 && dir[b - 1] != '/') --b;
  if (l - b == 0 || (l - b == 1 && dir[b] == '.')) {
    snprintf(out, len, "%.*s", (int)l, dir);
  } else {
    snprintf(out, len, "%.*s", (int)(l - b), dir + b);
  }
}

/* ---- gnuplot script ------------------------------------------------------- */

/* A string in gnuplot's single quotes ('' stands for one quote). */
static void gp_str(FILE *f, const char *s) {
  fputc('\'', f);
  for (; *s; ++s) {
    if (*s == '\'') fputc('\'', f);
    fputc(*s, f);
  }
  fputc('\'', f);
}

typedef struct {
  int n;
  double sum, sum2, lo, hi;
} stat_acc;

static void acc_add(stat_acc *s, double x) {
  if (!isfinite(x)) return;
  if (s->n == 0) s->lo = s->hi = x;
  s->n++;
  s->sum += x;
  s->sum2 += x * x;
  s->lo = fmin(s->lo, x);
  s->hi = fmax(s->hi, x);
}

static double acc_mean(const stat_acc *s) { return s->sum / s->n; }

/* The band around the mean: 0 minmax, 1 std, 2 none (lo = hi = mean). */
static void acc_band(const stat_acc *s, int band, double *lo, double *hi) {
  double m = acc_mean(s);
  if (band == 0) {
    *lo = s->lo;
    *hi = s->hi;
  } else if (band == 1 && s->n > 1) {
    double var = (s->sum2 - s->n * m * m) / (s->n - 1);
    double sd = var > 0 ? sqrt(var) : 0;
    *lo = m - sd;
    *hi = m + sd;
  } else {
    *lo = *hi = m;
  }
}

typedef struct {
  const plot_run *run;
  int group;
  char title[600];
  const char *color;
  int offline;     /* the run has no environment steps (bc, td3bc) */
  int ret_index;   /* block in plot_return.dat, -1 without evaluations */
  int sched_index; /* block in plot_schedule.dat, -1 without rows */
} curve;

/* Write one block of plot_return.dat (evaluated epochs: epoch x_steps updates
 * wall mean lo hi n) and of plot_schedule.dat (epoch slope lo hi bc lo hi). */
static void write_curve_blocks(FILE *fr, FILE *fs, curve *c, int band, int *nret, int *nsched) {
  const plot_run *r = c->run;
  int wrote_r = 0, wrote_s = 0;
  for (int e = 0; e < r->nepochs; ++e) {
    stat_acc ret = {0}, steps = {0}, upd = {0}, wall = {0}, slope = {0}, bc = {0};
    for (int a = 0; a < r->nagents; ++a) {
      if (r->group[a] != c->group) continue;
      const double *v = run_cell(r, e, a);
      acc_add(&slope, v[RC_SLOPE]);
      acc_add(&bc, v[RC_BC]);
      if (!isfinite(v[RC_RETURN])) continue;
      acc_add(&ret, v[RC_RETURN]);
      acc_add(&steps, v[RC_STEPS]);
      acc_add(&upd, v[RC_UPDATES]);
      acc_add(&wall, v[RC_WALL]);
    }
    if (ret.n > 0 && steps.n > 0 && upd.n > 0 && wall.n > 0) {
      if (!wrote_r) fprintf(fr, "%s# %s\n", *nret ? "\n\n" : "", c->title);
      wrote_r = 1;
      double lo, hi;
      acc_band(&ret, band, &lo, &hi);
      fprintf(fr, "%d %.9g %.9g %.9g %.9g %.9g %.9g %d\n", e + r->epoch0, acc_mean(&steps), acc_mean(&upd),
              acc_mean(&wall), acc_mean(&ret), lo, hi, ret.n);
    }
    if (slope.n > 0 || bc.n > 0) {
      if (!wrote_s) fprintf(fs, "%s# %s\n", *nsched ? "\n\n" : "", c->title);
      wrote_s = 1;
      double slo = NAN, shi = NAN, blo = NAN, bhi = NAN;
      if (slope.n) acc_band(&slope, band, &slo, &shi);
      if (bc.n) acc_band(&bc, band, &blo, &bhi);
      fprintf(fs, "%d %.9g %.9g %.9g %.9g %.9g %.9g\n", e + r->epoch0, slope.n ? acc_mean(&slope) : NAN, slo, shi,
              bc.n ? acc_mean(&bc) : NAN, blo, bhi);
    }
  }
  c->ret_index = wrote_r ? (*nret)++ : -1;
  c->sched_index = wrote_s ? (*nsched)++ : -1;
}

/* One `plot` command over the curves: bands (columns lo:hi) first so the
 * lines lie on top, then the mean lines (column y). */
static void gp_plot_curves(FILE *g, const char *data, const curve *cv, int nc, int use_ret, const char *x,
                           const char *x_offline, int ycol, int locol, int hicol, int bands, int with_titles) {
  int first = 1;
  fprintf(g, "plot ");
  if (bands) {
    for (int i = 0; i < nc; ++i) {
      int idx = use_ret ? cv[i].ret_index : cv[i].sched_index;
      if (idx < 0 || cv[i].run->group_size[cv[i].group] < 2) continue;
      fprintf(g, "%s", first ? "" : ", \\\n     ");
      gp_str(g, data);
      fprintf(g, " index %d using %s:%d:%d with filledcurves fc rgb '%s' fs transparent solid 0.18 noborder notitle",
              idx, cv[i].offline ? x_offline : x, locol, hicol, cv[i].color);
      first = 0;
    }
  }
  for (int i = 0; i < nc; ++i) {
    int idx = use_ret ? cv[i].ret_index : cv[i].sched_index;
    if (idx < 0) continue;
    fprintf(g, "%s", first ? "" : ", \\\n     ");
    gp_str(g, data);
    fprintf(g, " index %d using %s:%d with linespoints lc rgb '%s' lw 2 pt 7 ps 0.5 ", idx,
            cv[i].offline ? x_offline : x, ycol, cv[i].color);
    if (with_titles) {
      fprintf(g, "title ");
      gp_str(g, cv[i].title);
    } else {
      fprintf(g, "notitle");
    }
    first = 0;
  }
  fprintf(g, "\n");
}

/* ---- flights --------------------------------------------------------------- */

enum { FC_EPISODE, FC_ENV, FC_T, FC_PX, FC_PY, FC_PZ, FC_TX, FC_TY, FC_TZ, FC_COUNT };
static const char *const flight_cols[FC_COUNT] = {"episode", "env", "t", "px", "py", "pz", "tx", "ty", "tz"};

/* Write flight_<n>.dat: a block per (episode, env) in order of first
 * appearance, at most `max_traj`; columns t px py pz tx ty tz |p - p*|.
 * Returns the number of blocks, and the total in *found. */
static int write_flight_data(FILE *f, const csv_table *t, int max_traj, int *found) {
  double (*keys)[2] = malloc((size_t)t->nrows * sizeof *keys);
  int nkeys = 0;
  for (int i = 0; i < t->nrows; ++i) {
    const double *v = &t->v[(size_t)i * FC_COUNT];
    int k = nkeys - 1; /* rows of one flight usually follow each other */
    if (k < 0 || keys[k][0] != v[FC_EPISODE] || keys[k][1] != v[FC_ENV]) {
      for (k = 0; k < nkeys; ++k)
        if (keys[k][0] == v[FC_EPISODE] && keys[k][1] == v[FC_ENV]) break;
      if (k == nkeys) {
        keys[nkeys][0] = v[FC_EPISODE];
        keys[nkeys][1] = v[FC_ENV];
        ++nkeys;
      }
    }
  }
  *found = nkeys;
  int n = nkeys < max_traj ? nkeys : max_traj;
  for (int k = 0; k < n; ++k) {
    fprintf(f, "%s# episode %g env %g\n", k ? "\n\n" : "", keys[k][0], keys[k][1]);
    for (int i = 0; i < t->nrows; ++i) {
      const double *v = &t->v[(size_t)i * FC_COUNT];
      if (v[FC_EPISODE] != keys[k][0] || v[FC_ENV] != keys[k][1]) continue;
      double dx = v[FC_PX] - v[FC_TX], dy = v[FC_PY] - v[FC_TY], dz = v[FC_PZ] - v[FC_TZ];
      fprintf(f, "%.9g %.9g %.9g %.9g %.9g %.9g %.9g %.9g\n", v[FC_T], v[FC_PX], v[FC_PY], v[FC_PZ], v[FC_TX],
              v[FC_TY], v[FC_TZ], sqrt(dx * dx + dy * dy + dz * dz));
    }
  }
  free(keys);
  return n;
}

static void gp_flight(FILE *g, const char *png, const char *data, const char *src, int ntraj, int found,
                      int width, int height) {
  fprintf(g, "\n# flight %s\nset terminal pngcairo size %d,%d font ',10' noenhanced\nset output ", src, width, height);
  gp_str(g, png);
  fprintf(g, "\nset multiplot layout 1,3 title ");
  char title[1400];
  snprintf(title, sizeof title, "flight %s: %d of %d episode%s (target dashed from x, flight from o)", src, ntraj, found,
           found == 1 ? "" : "s");
  gp_str(g, title);
  /* No legend over the trajectories: the title says which line is which. */
  fprintf(g, "\nunset key\nset grid\nunset format\nset autoscale\n");
  /* x-y at equal scales; x-z stretched (heights vary far less than x). */
  const char *panels[2][4] = {{"x-y", "x (m)", "y (m)", "3"}, {"x-z", "x (m)", "z (m)", "4"}};
  const char *tcol[2] = {"6", "7"};
  for (int p = 0; p < 2; ++p) {
    fprintf(g, "set title '%s'\nset xlabel '%s'\nset ylabel '%s'\nset size %s\nplot ", panels[p][0],
            panels[p][1], panels[p][2], p == 0 ? "ratio -1" : "noratio");
    for (int k = 0; k < ntraj; ++k) {
      const char *c = palette[k % PALETTE_N];
      if (k) fprintf(g, ", \\\n     ");
      gp_str(g, data);
      fprintf(g, " index %d using 2:%s with lines lc rgb '%s' lw 1.5 notitle, \\\n     ", k, panels[p][3], c);
      gp_str(g, data);
      /* One cross at the target's start: a hover target is a point. */
      fprintf(g, " index %d using 5:%s with linespoints lc rgb '%s' lw 1.5 dt 2 pt 2 ps 1.5 pi 1000000 notitle, "
                 "\\\n     ",
              k, tcol[p], c);
      gp_str(g, data);
      fprintf(g, " index %d every ::0::0 using 2:%s with points lc rgb '%s' pt 6 ps 1.2 notitle", k, panels[p][3],
              c);
    }
    fprintf(g, "\n");
  }
  fprintf(g, "set size noratio\nset title 'position error |p - p*|'\nset xlabel 't (s)'\nset ylabel 'm'\n"
             "set yrange [0:*]\nplot ");
  for (int k = 0; k < ntraj; ++k) {
    if (k) fprintf(g, ", \\\n     ");
    gp_str(g, data);
    fprintf(g, " index %d using 1:8 with lines lc rgb '%s' lw 1.5 notitle", k, palette[k % PALETTE_N]);
  }
  fprintf(g, "\nunset multiplot\nset autoscale\nunset output\n");
}

/* ---- running gnuplot ------------------------------------------------------- */

/* Print the file's text to stderr (gnuplot's own messages on a failure). */
static void show_log(const char *path) {
  void *text;
  size_t n;
  if (sf_read_file(path, &text, &n, NULL, 0) != 0) return;
  if (n) fprintf(stderr, "%s (%s):\n%s", "gnuplot said", path, (const char *)text);
  free(text);
}

/* gnuplot's messages go to `log`: its warnings (an empty x range where a run
 * has a single evaluation) are not the user's business when the figures are
 * drawn, and are shown when they are not. */
static int run_gnuplot(const char *prog, const char *script, const char *log) {
  pid_t pid;
  char *args[] = {(char *)prog, (char *)script, NULL};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int e = posix_spawnp(&pid, prog, &fa, NULL, args, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (e != 0) {
    if (e == ENOENT)
      fprintf(stderr,
              "spikefly plot: gnuplot not found ('%s'): install it (Debian: apt-get install gnuplot-nox) or name it "
              "with --gnuplot PROG (plot.gnuplot)\n",
              prog);
    else
      fprintf(stderr, "spikefly plot: cannot run '%s': %s\n", prog, strerror(e));
    return -1;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "spikefly plot: waiting for gnuplot: %s\n", strerror(errno));
      return -1;
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    fprintf(stderr,
            "spikefly plot: gnuplot not found or not runnable ('%s' exited with 127): install it (Debian: "
            "apt-get install gnuplot-nox) or name it with --gnuplot PROG (plot.gnuplot)\n",
            prog);
    return -1;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    show_log(log);
    if (WIFEXITED(status))
      fprintf(stderr, "spikefly plot: gnuplot failed (exit status %d) on %s\n", WEXITSTATUS(status), script);
    else
      fprintf(stderr, "spikefly plot: gnuplot was killed (signal %d) on %s\n", WTERMSIG(status), script);
    return -1;
  }
  return 0;
}

/* ---- the command ----------------------------------------------------------- */

/* Pull every `--flight FILE` out of argv and join them into one
 * `--flight=A,B` (sf_cli maps a flag to one key; --flight repeats). */
static int join_flights(int argc, char **argv, char **out, int *nout, char **joined) {
  size_t len = 0;
  *joined = NULL;
  int n = 0;
  for (int i = 0; i < argc; ++i) {
    const char *file = NULL;
    if (i > 0 && !strcmp(argv[i], "--flight")) {
      if (sf_cli_take_value("plot", "flight", "FILE.csv", argc, argv, &i, &file) != 0) {
        free(*joined);
        return -1;
      }
    } else if (i > 0 && !strncmp(argv[i], "--flight=", 9)) {
      file = argv[i] + 9;
    } else if (i > 0 && !strcmp(argv[i], "--config") && i + 1 < argc) {
      out[n++] = argv[i++];
      out[n++] = argv[i];
      continue;
    }
    if (!file) {
      out[n++] = argv[i];
      continue;
    }
    if (!*file || strchr(file, ',')) {
      fprintf(stderr, "spikefly plot: --flight '%s': a file name, not empty and without ','\n", file);
      free(*joined);
      return -1;
    }
    size_t fl = strlen(file);
    *joined = realloc(*joined, len + fl + 12);
    if (len == 0) {
      strcpy(*joined, "--flight=");
      len = 9;
    } else {
      (*joined)[len++] = ',';
    }
    memcpy(*joined + len, file, fl + 1);
    len += fl;
  }
  if (*joined) out[n++] = *joined;
  *nout = n;
  return 0;
}

/* Whole epochs between ticks: 1, 2, 5, 10, 20, ... with at most 10 ticks. */
static int epoch_tick(int lo, int hi) {
  int step = 1;
  for (int m = 0; (hi - lo) / step > 10; m = (m + 1) % 3) step *= m == 1 ? 5 : 2;
  return step;
}

static void path_in(char *buf, size_t len, const char *dir, const char *name) {
  snprintf(buf, len, "%s/%s", dir, name);
}

static int png_ok(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* What the command was asked to do: its options and config keys. */
typedef struct {
  const char *dirs[PLOT_MAX_RUNS]; /* run directories (strings of argv) */
  int ndirs;
  const char *flights[PLOT_MAX_FLIGHTS]; /* flight CSV files, in flight_list */
  int nflights;
  int band; /* 0 minmax, 1 std, 2 none */
  int max_traj, width, height;
  char *gnuplot, *out_dir, *flight_list; /* owned */
} plot_opts;

static void plot_opts_free(plot_opts *o) {
  free(o->gnuplot);
  free(o->out_dir);
  free(o->flight_list);
}

/* read_options' answer when the command goes on (else an exit code). */
enum { PLOT_GO = -1 };

/* o->flight_list (plot.flight, comma-separated) cut into o->flights. */
static void split_flight_list(sf_config *cfg, plot_opts *o) {
  for (char *p = o->flight_list; *p;) {
    char *c = strchr(p, ',');
    if (c) *c = 0;
    while (*p == ' ') ++p;
    if (*p) {
      if (o->nflights == PLOT_MAX_FLIGHTS) {
        sf_cfg_fail(cfg, "config key 'plot.flight': at most %d flight files", PLOT_MAX_FLIGHTS);
        break;
      }
      o->flights[o->nflights++] = p;
    }
    if (!c) break;
    p = c + 1;
  }
}

/* Parse the command line and the config into *o (free it with
 * plot_opts_free whatever the answer). Returns PLOT_GO, or the exit code:
 * SF_EXIT_OK after --help, SF_EXIT_USAGE for bad options or keys. */
static int read_options(int argc, char **argv, plot_opts *o) {
  memset(o, 0, sizeof *o);
  char **args = malloc((size_t)(argc + 1) * sizeof(char *));
  char *joined = NULL;
  int nargs;
  if (join_flights(argc, argv, args, &nargs, &joined) != 0) {
    free(args);
    return SF_EXIT_USAGE;
  }
  sf_config *cfg = sf_cfg_new();
  int rc = sf_cli_parse(&plot_spec, nargs, args, cfg, o->dirs, &o->ndirs);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    free(args);
    free(joined);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  static const char *const bands[] = {"minmax", "std", "none", NULL};
  o->band = sf_cfg_choice(cfg, "plot.band", "minmax", bands);
  o->max_traj = (int)sf_cfg_int(cfg, "plot.flight_episodes", 8, 1, 1000);
  o->width = (int)sf_cfg_int(cfg, "plot.width", 900, 200, 10000);
  o->height = (int)sf_cfg_int(cfg, "plot.height", 560, 150, 10000);
  o->gnuplot = strdup(sf_cfg_str(cfg, "plot.gnuplot", "gnuplot"));
  const char *out_key = sf_cfg_str(cfg, "plot.out", NULL);
  o->flight_list = strdup(sf_cfg_str(cfg, "plot.flight", ""));
  split_flight_list(cfg, o);
  if (!*o->gnuplot) sf_cfg_fail(cfg, "config key 'plot.gnuplot': empty program name");
  if (o->ndirs == 0 && o->nflights == 0 && !sf_cfg_error(cfg))
    sf_cfg_fail(cfg, "missing argument RUN_DIR... (nothing to plot; see spikefly plot --help)");
  o->out_dir = strdup(out_key ? out_key : o->ndirs > 0 ? o->dirs[0] : ".");
  sf_device_from_config(cfg, 0, "plotting");
  rc = sf_cli_check(cfg, plot_spec.name);
  sf_cfg_free(cfg);
  free(args);
  free(joined);
  return rc != 0 ? rc : PLOT_GO;
}

/* Read every run directory and flight file, before anything is written: bad
 * input fails early. *nruns and *nflights count what was read (to be freed).
 * Returns 0 or SF_EXIT_USAGE. */
static int read_inputs(const plot_opts *o, plot_run *runs, int *nruns, csv_table *ft, int *nflights) {
  char err[1400];
  for (int i = 0; i < o->ndirs; ++i, ++*nruns) {
    if (load_run(o->dirs[i], &runs[i], err, sizeof err) != 0) {
      fprintf(stderr, "spikefly plot: %s\n", err);
      return SF_EXIT_USAGE;
    }
  }
  for (int i = 0; i < o->nflights; ++i, ++*nflights) {
    if (csv_read(o->flights[i], flight_cols, FC_COUNT, &ft[i], err, sizeof err) != 0) {
      fprintf(stderr, "spikefly plot: flight: %s\n", err);
      return SF_EXIT_USAGE;
    }
    if (ft[i].nrows == 0) {
      fprintf(stderr, "spikefly plot: flight: '%s' has no rows\n", o->flights[i]);
      return SF_EXIT_USAGE;
    }
  }
  return 0;
}

/* Legend names: the directory's last component, or the whole path where two
 * runs share it. */
static void name_runs(plot_run *runs, int nruns) {
  for (int i = 0; i < nruns; ++i) run_base_name(runs[i].dir, runs[i].name, sizeof runs[i].name);
  for (int i = 0; i < nruns; ++i)
    for (int j = 0; j < nruns; ++j)
      if (i != j && !strcmp(runs[i].name, runs[j].name) && strcmp(runs[i].name, runs[i].dir)) {
        snprintf(runs[i].name, sizeof runs[i].name, "%s", runs[i].dir);
        break;
      }
}

/* The PNG files the script draws, in the order it draws them. */
typedef struct {
  char (*path)[1200]; /* [3 + PLOT_MAX_FLIGHTS] */
  int n;
} plot_outputs;

/* Add DIR/NAME to the outputs; returns its path. */
static const char *add_output(plot_outputs *po, const char *dir, const char *name) {
  path_in(po->path[po->n], sizeof po->path[0], dir, name);
  return po->path[po->n++];
}

/* Close a file written with stdio; nonzero when a write or the close failed
 * (a full disk shows only there). */
static int write_failed(FILE *f) {
  int failed = ferror(f) != 0;
  failed |= fclose(f) != 0;
  return failed;
}

/* What the learning curves span, over all runs: the axes' ranges and labels
 * depend on it. */
typedef struct {
  int nruns, n_offline; /* runs, and those without environment steps */
  double wall_max, x_max, slope_max, bc_max;
  int epoch_lo, epoch_hi;
  int nret, nsched; /* blocks in plot_return.dat and plot_schedule.dat */
} curve_extent;

/* Widen *x by run r; returns whether r is an offline run (no environment
 * steps: its x axis is the gradient updates). */
static int scan_run(const plot_run *r, curve_extent *x) {
  if (r->epoch0 < x->epoch_lo) x->epoch_lo = r->epoch0;
  if (r->epoch0 + r->nepochs - 1 > x->epoch_hi) x->epoch_hi = r->epoch0 + r->nepochs - 1;
  int offline = 1;
  double steps_max = 0, updates_max = 0;
  for (size_t k = 0; k < (size_t)r->nepochs * r->nagents; ++k) {
    const double *v = r->cell + k * RC_COUNT;
    if (v[RC_STEPS] > 0) offline = 0;
    if (v[RC_SLOPE] > x->slope_max) x->slope_max = v[RC_SLOPE];
    if (v[RC_BC] > x->bc_max) x->bc_max = v[RC_BC];
    if (!isfinite(v[RC_RETURN])) continue;
    x->wall_max = fmax(x->wall_max, v[RC_WALL]);
    steps_max = fmax(steps_max, v[RC_STEPS]);
    updates_max = fmax(updates_max, v[RC_UPDATES]);
  }
  x->x_max = fmax(x->x_max, offline ? updates_max : steps_max);
  x->n_offline += offline;
  return offline;
}

/* One curve per setting (group) of each run, coloured in turn, titled
 * "run: setting (n agents)"; the runs' extent in *x. */
static curve *make_curves(const plot_run *runs, int nruns, int *ncurves, curve_extent *x) {
  *ncurves = 0;
  for (int i = 0; i < nruns; ++i) *ncurves += runs[i].ngroups;
  curve *cv = calloc(*ncurves, sizeof *cv);
  memset(x, 0, sizeof *x);
  x->nruns = nruns;
  x->epoch_lo = x->epoch_hi = runs[0].epoch0;
  int c = 0;
  for (int i = 0; i < nruns; ++i) {
    const plot_run *r = &runs[i];
    int offline = scan_run(r, x);
    for (int gi = 0; gi < r->ngroups; ++gi, ++c) {
      curve *cu = &cv[c];
      cu->run = r;
      cu->offline = offline;
      cu->group = gi;
      cu->color = palette[c % PALETTE_N];
      int n = r->group_size[gi];
      char seeds[64] = "";
      if (n > 1) snprintf(seeds, sizeof seeds, " (%d agents)", n);
      snprintf(cu->title, sizeof cu->title, "%s%s%s%s", r->name, r->label[gi][0] ? ": " : "", r->label[gi], seeds);
    }
  }
  return cv;
}

/* ret_dat and sched_dat, a block per curve (counted in x->nret, x->nsched).
 * Returns 0, SF_EXIT_USAGE (cannot open) or SF_EXIT_FAIL (write failed). */
static int write_curve_data(const char *out_dir, const char *ret_dat, const char *sched_dat, curve *cv, int ncurves,
                            int band, curve_extent *x) {
  FILE *fr = fopen(ret_dat, "w");
  FILE *fs = fopen(sched_dat, "w");
  if (!fr || !fs) {
    fprintf(stderr, "spikefly plot: cannot write '%s': %s\n", fr ? sched_dat : ret_dat, strerror(errno));
    if (fr) fclose(fr);
    if (fs) fclose(fs);
    return SF_EXIT_USAGE;
  }
  for (int c = 0; c < ncurves; ++c) write_curve_blocks(fr, fs, &cv[c], band, &x->nret, &x->nsched);
  int failed = write_failed(fr);
  failed |= write_failed(fs);
  if (failed) {
    fprintf(stderr, "spikefly plot: writing the data files in '%s' failed\n", out_dir);
    return SF_EXIT_FAIL;
  }
  return 0;
}

/* return_vs_steps.png and return_vs_time.png; `bt` says what the bands are. */
static void gp_return_plots(FILE *g, const plot_opts *o, const char *ret_dat, const curve *cv, int ncurves,
                            const curve_extent *x, const char *bt, plot_outputs *po) {
  /* Return against env steps (updates for offline runs). */
  fprintf(g, "\nset output ");
  gp_str(g, add_output(po, o->out_dir, "return_vs_steps.png"));
  char title[256];
  snprintf(title, sizeof title, "evaluation return (final reward coefficients)%s%s", *bt ? "; " : "", bt);
  fprintf(g, "\nset title ");
  gp_str(g, title);
  fprintf(g, "\nset xlabel '%s'\nset ylabel 'return'\nset format x '%s'\n",
          x->n_offline == x->nruns ? "gradient updates (offline training: no environment steps)"
          : x->n_offline > 0       ? "environment steps (offline runs: gradient updates)"
                                   : "environment steps",
          x->x_max >= 1e4 ? "%.1s%c" : "%g");
  gp_plot_curves(g, ret_dat, cv, ncurves, 1, "2", "3", 5, 6, 7, o->band != 2, 1);
  /* Return against wall time. */
  double scale = 1;
  const char *unit = "s";
  if (x->wall_max > 2 * 3600) {
    scale = 3600;
    unit = "h";
  } else if (x->wall_max > 600) {
    scale = 60;
    unit = "min";
  }
  fprintf(g, "\nset output ");
  gp_str(g, add_output(po, o->out_dir, "return_vs_time.png"));
  fprintf(g, "\nset xlabel 'wall-clock time (%s)'\nset format x '%%g'\n", unit);
  char xcol[64];
  snprintf(xcol, sizeof xcol, "($4/%g)", scale);
  gp_plot_curves(g, ret_dat, cv, ncurves, 1, xcol, xcol, 5, 6, 7, o->band != 2, 1);
}

/* slope_bc.png: the surrogate slope over the BC weight, per epoch. */
static void gp_schedule_plot(FILE *g, const plot_opts *o, const char *sched_dat, const curve *cv, int ncurves,
                             const curve_extent *x, const char *bt, plot_outputs *po) {
  const char *png = add_output(po, o->out_dir, "slope_bc.png");
  char title[256];
  snprintf(title, sizeof title, "surrogate slope and behaviour-cloning weight per epoch%s%s", *bt ? "; " : "", bt);
  fprintf(g, "\nset terminal pngcairo size %d,%d font ',10' noenhanced\n", o->width, o->height * 3 / 2);
  fprintf(g, "set output ");
  gp_str(g, png);
  fprintf(g, "\nset multiplot layout 2,1 title ");
  gp_str(g, title);
  /* The legend under the lower panel; fixed side margins keep the
   * panels' epoch axes aligned. */
  fprintf(g, "\nset lmargin 10\nset rmargin 4\nset format x '%%g'\nunset title\nset xlabel 'epoch'\n"
             "set xtics %d\nset xrange [%d:%d]\nset ylabel 'surrogate slope k'\nset yrange [0:%s]\n",
          epoch_tick(x->epoch_lo, x->epoch_hi), x->epoch_lo, x->epoch_hi > x->epoch_lo ? x->epoch_hi : x->epoch_lo + 1,
          x->slope_max > 0 ? "*" : "1");
  gp_plot_curves(g, sched_dat, cv, ncurves, 0, "1", "1", 2, 3, 4, o->band != 2, 0);
  fprintf(g, "set ylabel 'BC weight'\nset yrange [0:%s]\n", x->bc_max > 0 ? "*" : "1");
  gp_plot_curves(g, sched_dat, cv, ncurves, 0, "1", "1", 5, 6, 7, o->band != 2, 1);
  fprintf(g, "unset multiplot\nset autoscale\nset xtics autofreq\nunset lmargin\nunset rmargin\n");
}

/* The learning curves of the runs (nruns > 0): their data files and their
 * figures in the script. Returns 0 or an exit code. */
static int write_learning_curves(FILE *g, const plot_opts *o, const plot_run *runs, int nruns, plot_outputs *po) {
  int ncurves;
  curve_extent x;
  curve *cv = make_curves(runs, nruns, &ncurves, &x);
  char ret_dat[1200], sched_dat[1200];
  path_in(ret_dat, sizeof ret_dat, o->out_dir, "plot_return.dat");
  path_in(sched_dat, sizeof sched_dat, o->out_dir, "plot_schedule.dat");
  int rc = write_curve_data(o->out_dir, ret_dat, sched_dat, cv, ncurves, o->band, &x);
  if (rc != 0) {
    free(cv);
    return rc;
  }
  static const char *const band_text[] = {"band: min to max over seeds", "band: mean +- std over seeds", ""};
  int any_band = 0;
  for (int i = 0; i < ncurves; ++i) any_band |= cv[i].run->group_size[cv[i].group] > 1;
  const char *bt = any_band ? band_text[o->band] : "";
  /* The legend under the plot, a line's height apart from the axis label. */
  fprintf(g, "set terminal pngcairo size %d,%d font ',10' noenhanced\nset grid\nset key below height 1.5\n", o->width,
          o->height);
  if (x.nret > 0)
    gp_return_plots(g, o, ret_dat, cv, ncurves, &x, bt, po);
  else
    fprintf(stderr, "spikefly plot: no evaluation in the runs yet (return_final is nan on every row): "
                    "return_vs_steps.png and return_vs_time.png left out\n");
  if (x.nsched > 0) gp_schedule_plot(g, o, sched_dat, cv, ncurves, &x, bt, po);
  fprintf(g, "unset output\n");
  free(cv);
  return 0;
}

/* flight_<n>.dat for the n-th flight file, and its figure in the script.
 * Returns 0 or an exit code. */
static int write_flight_plots(FILE *g, const plot_opts *o, const csv_table *ft, plot_outputs *po) {
  for (int i = 0; i < o->nflights; ++i) {
    char name[64], dat[1200];
    snprintf(name, sizeof name, "flight_%d.dat", i + 1);
    path_in(dat, sizeof dat, o->out_dir, name);
    FILE *fd = fopen(dat, "w");
    if (!fd) {
      fprintf(stderr, "spikefly plot: cannot write '%s': %s\n", dat, strerror(errno));
      return SF_EXIT_USAGE;
    }
    int found, n = write_flight_data(fd, &ft[i], o->max_traj, &found);
    if (write_failed(fd)) {
      fprintf(stderr, "spikefly plot: writing '%s' failed\n", dat);
      return SF_EXIT_FAIL;
    }
    snprintf(name, sizeof name, "flight_%d.png", i + 1);
    gp_flight(g, add_output(po, o->out_dir, name), dat, o->flights[i], n, found, o->width * 5 / 3, o->height);
  }
  return 0;
}

/* The gnuplot script (path in `script`) and its data files; the figures it
 * draws are listed in *po. Returns 0 or an exit code. */
static int write_script(const plot_opts *o, const plot_run *runs, int nruns, const csv_table *ft,
                        const char *script, plot_outputs *po) {
  FILE *g = fopen(script, "w");
  if (!g) {
    fprintf(stderr, "spikefly plot: cannot write '%s': %s\n", script, strerror(errno));
    return SF_EXIT_USAGE;
  }
  fprintf(g, "# spikefly plot: redraw with `gnuplot %s`\n", script);
  int rc = nruns > 0 ? write_learning_curves(g, o, runs, nruns, po) : 0;
  if (rc == 0) rc = write_flight_plots(g, o, ft, po);
  if (rc != 0) {
    fclose(g);
    return rc;
  }
  if (write_failed(g)) {
    fprintf(stderr, "spikefly plot: writing '%s' failed\n", script);
    return SF_EXIT_FAIL;
  }
  return 0;
}

/* Run gnuplot on the script and check that it drew every figure. Returns 0
 * or SF_EXIT_FAIL. */
static int draw_figures(const plot_opts *o, const char *script, const plot_outputs *po) {
  /* Stale figures of an earlier call must not pass for new ones. */
  for (int i = 0; i < po->n; ++i) remove(po->path[i]);
  char log[1200];
  path_in(log, sizeof log, o->out_dir, "gnuplot.log");
  if (run_gnuplot(o->gnuplot, script, log) != 0) return SF_EXIT_FAIL;
  for (int i = 0; i < po->n; ++i) {
    if (!png_ok(po->path[i])) {
      show_log(log);
      fprintf(stderr, "spikefly plot: gnuplot wrote no '%s' (does it have the pngcairo terminal?)\n", po->path[i]);
      return SF_EXIT_FAIL;
    }
  }
  return 0;
}

static void print_summary(const plot_run *runs, int nruns, const plot_outputs *po) {
  for (int i = 0; i < nruns; ++i)
    printf("spikefly plot: %s: %d agent%s, %d setting%s, epochs %d-%d\n", runs[i].dir, runs[i].nagents,
           runs[i].nagents == 1 ? "" : "s", runs[i].ngroups, runs[i].ngroups == 1 ? "" : "s", runs[i].epoch0,
           runs[i].epoch0 + runs[i].nepochs - 1);
  for (int i = 0; i < po->n; ++i) printf("%s\n", po->path[i]);
}

int sf_cmd_plot(int argc, char **argv) {
  plot_opts o;
  int rc = read_options(argc, argv, &o);
  if (rc != PLOT_GO) {
    plot_opts_free(&o);
    return rc;
  }
  plot_run *runs = calloc(o.ndirs > 0 ? o.ndirs : 1, sizeof(plot_run));
  csv_table *ft = calloc(o.nflights > 0 ? o.nflights : 1, sizeof(csv_table));
  plot_outputs po = {malloc((3 + PLOT_MAX_FLIGHTS) * sizeof *po.path), 0};
  int nruns = 0, nflights_read = 0;
  char err[1400], script[1200];
  rc = read_inputs(&o, runs, &nruns, ft, &nflights_read);
  if (rc == 0 && sf_mkdirs(o.out_dir, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly plot: output directory (plot.out): %s\n", err);
    rc = SF_EXIT_USAGE;
  }
  if (rc == 0) {
    name_runs(runs, nruns);
    path_in(script, sizeof script, o.out_dir, "plot.gp");
    rc = write_script(&o, runs, nruns, ft, script, &po);
  }
  if (rc == 0) rc = draw_figures(&o, script, &po);
  if (rc == 0) print_summary(runs, nruns, &po);
  for (int i = 0; i < nruns; ++i) run_free(&runs[i]);
  for (int i = 0; i < nflights_read; ++i) free(ft[i].v);
  free(runs);
  free(ft);
  free(po.path);
  plot_opts_free(&o);
  return rc;
}
