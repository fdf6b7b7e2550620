/* `spikefly report RUN_DIR... --out DIR`: an experiment's figure and table
 * (rl/sf_report.h) from its run directories: the learning curves as PNG
 * (gnuplot), the table as Markdown and CSV. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/sf_cli.h"
#include "cli/sf_device.h"
#include "core/sf_defs.h"
#include "core/sf_fileio.h"
#include "rl/sf_report.h"
#include "rl/sf_report_eval.h"

enum { REPORT_MAX_DIRS = 64 };

static const sf_flag flags[] = {
    {"out", "report.out", NULL, "DIR", "directory of the report's files (required)"},
    {"threshold", "report.threshold", NULL, "R", "return whose first crossing is counted (default 100)"},
    {"band", "report.band", NULL, "B", "spread drawn over seeds: minmax (default) | std (mean +- std)"},
    {"width", "report.width", NULL, "W", "width of a PNG in pixels (default 1000)"},
    {"height", "report.height", NULL, "H", "height of a PNG in pixels (default 640)"},
    {"gnuplot", "report.gnuplot", NULL, "PROG", "the gnuplot program (default gnuplot, from PATH)"},
    {"evaluate", "report.evaluate", NULL, "TRAJ,...", "also fly each seed's final checkpoint on these trajectories "
                                                      "(hover, circle, figure8, square): the table of evaluations"},
    {"episodes", "report.episodes", NULL, "E", "episodes per seed and trajectory with --evaluate (default 100)"},
    {"device", "device", NULL, "DEV", "cpu | auto (this command runs on the CPU; cuda is an error)"},
};

static const sf_cmd_spec spec = {
    "report", "RUN_DIR...", "an experiment's figure (PNG) and table (Markdown, CSV) over seeds", flags,
    (int)SF_ARRAY_LEN(flags), 1, REPORT_MAX_DIRS,
    "RUN_DIR is a run directory of spikefly train or an experiment directory (one\n"
    "with populations.txt, standing for each of its populations' directories).\n"
    "All must belong to one experiment: the same experiment.name and\n"
    "experiment.scale in their config.ini. Agents that differ only in the seed\n"
    "form one setting. Written to --out:\n"
    "  report.md, report.csv          per setting, over seeds: mean +- sample std\n"
    "                                 of the final return (each seed's last\n"
    "                                 evaluation, final reward coefficients) and\n"
    "                                 final survival; epochs and env steps until\n"
    "                                 the return first reached the threshold (or\n"
    "                                 'not reached by k of n'); the config.ini\n"
    "  return_vs_env_steps.png        return (final coefficients) against\n"
    "                                 environment steps: mean and a band\n"
    "  return_current_vs_env_steps.png  the same under the curriculum's current\n"
    "                                 coefficients\n"
    "  return_vs_epochs.png           return (final coefficients) against epochs,\n"
    "                                 offline settings (bc, td3bc) included\n"
    "  report.gp, curve_<n>.dat, gnuplot.log   the script, its data, its messages\n"
    "With --evaluate TRAJ,... (the paper's Table 3: --evaluate\n"
    "hover,circle,figure8,square), each seed's final checkpoint is flown\n"
    "--episodes times on each trajectory, as `spikefly eval CHECKPOINT --agent K\n"
    "--trajectory T` flies it (the environment of the run's config.ini, the\n"
    "agent's training seed), and also written:\n"
    "  evaluation.md, evaluation.csv  per setting and trajectory, over seeds: mean\n"
    "                                 +- sample std of the error (hover error on\n"
    "                                 hover, tracking error on the others; over\n"
    "                                 surviving episodes), survival and return\n"
    "  evaluation_seeds.csv           each seed's figures and checkpoint\n"
    "Refused (exit 2, naming the problem): a directory that does not exist, run\n"
    "directories of different experiments or scales, a run without evaluations,\n"
    "with --evaluate a run without its checkpoint or a word that is not a\n"
    "trajectory.\n"
    "Needs gnuplot with the pngcairo terminal (Debian: gnuplot-nox)."};

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define PALETTE_N ((int)SF_ARRAY_LEN(palette))

typedef struct {
  const char *dirs[REPORT_MAX_DIRS];
  int ndirs;
  char out[1024], gnuplot[512];
  double threshold;
  int band; /* 0 minmax, 1 std */
  int width, height;
  int ntraj, traj[SF_TRAJ_N]; /* --evaluate: the trajectories, or none */
  int episodes;
} report_opts;

static int read_options(int argc, char **argv, report_opts *o) {
  memset(o, 0, sizeof *o);
  sf_config *cfg = sf_cfg_new();
  int rc = sf_cli_parse(&spec, argc, argv, cfg, o->dirs, &o->ndirs);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? -1 : SF_EXIT_USAGE;
  }
  static const char *const bands[] = {"minmax", "std", NULL};
  o->band = sf_cfg_choice(cfg, "report.band", "minmax", bands);
  o->threshold = sf_cfg_float(cfg, "report.threshold", 100.0, -1e9, 1e9);
  o->width = (int)sf_cfg_int(cfg, "report.width", 1000, 200, 10000);
  o->height = (int)sf_cfg_int(cfg, "report.height", 640, 150, 10000);
  const char *out = sf_cfg_str(cfg, "report.out", "");
  snprintf(o->out, sizeof o->out, "%s", out);
  /* "results/fig4/" names the same directory; keep the paths it prints single-slashed */
  for (size_t n = strlen(o->out); n > 1 && o->out[n - 1] == '/'; --n) o->out[n - 1] = 0;
  snprintf(o->gnuplot, sizeof o->gnuplot, "%s", sf_cfg_str(cfg, "report.gnuplot", "gnuplot"));
  if (!o->out[0] && !sf_cfg_error(cfg)) sf_cfg_fail(cfg, "config key 'report.out': give the output directory (--out DIR)");
  if (!o->gnuplot[0] && !sf_cfg_error(cfg)) sf_cfg_fail(cfg, "config key 'report.gnuplot': empty program name");
  const char *traj = sf_cfg_str(cfg, "report.evaluate", NULL);
  char why[256];
  if (traj && sf_report_eval_parse(traj, o->traj, &o->ntraj, why, sizeof why) != 0 && !sf_cfg_error(cfg))
    sf_cfg_fail(cfg, "config key 'report.evaluate': %s", why);
  o->episodes = (int)sf_cfg_int(cfg, "report.episodes", 100, 1, 1 << 20);
  sf_device_from_config(cfg, 0, "reporting");
  rc = sf_cli_check(cfg, spec.name);
  sf_cfg_free(cfg);
  return rc;
}

/* A string inside gnuplot's single quotes. */
static void gp_str(FILE *g, const char *s) {
  fputc('\'', g);
  for (; *s; ++s) fprintf(g, *s == '\'' ? "''" : "%c", *s);
  fputc('\'', g);
}

/* One figure: the rows (all, or only those with environment steps) as a mean
 * line and a band against x (column 1 epoch, 3 env steps), return column
 * block c (0 final, 1 current). Returns how many rows it drew. */
static int figure(FILE *g, const report_opts *o, const sf_report *rep, const char *png, int xcol, int c,
                  const char *xlabel, const char *ylabel) {
  int n = 0, offline = 0;
  for (int i = 0; i < rep->nrows; ++i) {
    if (xcol == 3 && rep->rows[i].offline) ++offline;
    else ++n;
  }
  if (n == 0) return 0;
  char title[700];
  snprintf(title, sizeof title, "experiment %s, scale %s: mean over seeds, band %s%s",
           rep->experiment[0] ? rep->experiment : "(none)", rep->scale, o->band ? "mean +- std" : "min to max",
           offline ? " (offline settings: no env steps, see return_vs_epochs.png)" : "");
  fprintf(g, "\nset output ");
  gp_str(g, png);
  fprintf(g, "\nset title ");
  gp_str(g, title);
  fprintf(g, "\nset xlabel ");
  gp_str(g, xlabel);
  fprintf(g, "\nset ylabel ");
  gp_str(g, ylabel);
  fprintf(g, "\nset format x '%%.3g'\nplot ");
  const int base = 5 + 4 * c; /* mean sd lo hi */
  int k = 0;
  for (int i = 0; i < rep->nrows; ++i) {
    const sf_report_row *r = &rep->rows[i];
    if (xcol == 3 && r->offline) continue;
    const char *col = palette[i % PALETTE_N];
    char dat[64];
    snprintf(dat, sizeof dat, "curve_%d.dat", i + 1);
    if (o->band)
      fprintf(g, "%s'%s' using %d:($%d-$%d):($%d+$%d) with filledcurves fc rgb '%s' fs transparent solid 0.15 "
                 "noborder notitle, \\\n  ", k ? ", \\\n  " : "", dat, xcol, base, base + 1, base, base + 1, col);
    else
      fprintf(g, "%s'%s' using %d:%d:%d with filledcurves fc rgb '%s' fs transparent solid 0.15 noborder notitle, "
                 "\\\n  ", k ? ", \\\n  " : "", dat, xcol, base + 2, base + 3, col);
    char label[256];
    snprintf(label, sizeof label, "%s (%d seed%s)", r->setting, r->nseeds, r->nseeds == 1 ? "" : "s");
    fprintf(g, "'%s' using %d:%d with linespoints lw 2 pt 7 ps 0.5 dt %d lc rgb '%s' title ", dat, xcol, base,
            1 + (i / PALETTE_N) % 5, col);
    gp_str(g, label);
    ++k;
  }
  fprintf(g, ", \\\n  %.17g with lines lc rgb '#555555' dt 2 lw 1 title 'return %g'\n", rep->threshold,
          rep->threshold);
  return n;
}

static void show_log(const char *path) {
  void *text;
  size_t n;
  if (sf_read_file(path, &text, &n, NULL, 0) != 0) return;
  if (n) fprintf(stderr, "gnuplot said (%s):\n%s", path, (const char *)text);
  free(text);
}

/* gnuplot in the output directory, its messages in gnuplot.log (shown only
 * when it fails). 0 or -1. */
static int run_gnuplot(const report_opts *o) {
  char log[1100];
  snprintf(log, sizeof log, "%s/gnuplot.log", o->out);
  char *args[] = {(char *)o->gnuplot, "report.gp", NULL};
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) { /* the child: in the output directory, stderr to the log */
    close(pipefd[0]);
    fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, 2) < 0 || chdir(o->out) != 0) _exit(126);
    execvp(o->gnuplot, args);
    int e = errno;
    if (write(pipefd[1], &e, sizeof e) < 0) _exit(127);
    _exit(127);
  }
  close(pipefd[1]);
  int e = 0;
  if (pid < 0 || read(pipefd[0], &e, sizeof e) == (ssize_t)sizeof e) {
    close(pipefd[0]);
    if (pid > 0) waitpid(pid, NULL, 0);
    if (pid < 0) e = errno;
    fprintf(stderr, "spikefly report: cannot run '%s': %s (install gnuplot, Debian: apt-get install gnuplot-nox, or "
                    "name it with --gnuplot PROG)\n", o->gnuplot, strerror(e));
    return -1;
  }
  close(pipefd[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    show_log(log);
    fprintf(stderr, "spikefly report: gnuplot ('%s') failed on %s/report.gp%s\n", o->gnuplot, o->out,
            WIFEXITED(st) && WEXITSTATUS(st) == 127 ? " (not found: install gnuplot-nox or give --gnuplot PROG)" : "");
    return -1;
  }
  return 0;
}

static int write_figures(const report_opts *o, const sf_report *rep) {
  char path[1200], err[1400];
  for (int i = 0; i < rep->nrows; ++i) {
    snprintf(path, sizeof path, "%s/curve_%d.dat", o->out, i + 1);
    if (sf_report_write_curve(&rep->rows[i], path, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly report: %s\n", err);
      return -1;
    }
  }
  snprintf(path, sizeof path, "%s/report.gp", o->out);
  FILE *g = sf_afopen(path, err, sizeof err);
  if (!g) {
    fprintf(stderr, "spikefly report: %s\n", err);
    return -1;
  }
  /* Room under the plot for a legend line per setting. */
  const int h = o->height + 18 * rep->nrows;
  fprintf(g, "# spikefly report: redraw with `gnuplot report.gp` in this directory\n"
             "set terminal pngcairo size %d,%d font ',10' noenhanced\nset grid\nset key below vertical maxcols 1\n"
             "set datafile missing 'nan'\n",
          o->width, h);
  const char *names[3] = {"return_vs_env_steps.png", "return_current_vs_env_steps.png", "return_vs_epochs.png"};
  int drawn[3];
  drawn[0] = figure(g, o, rep, names[0], 3, 0, "environment steps (per agent)", "return (final reward coefficients)");
  drawn[1] = figure(g, o, rep, names[1], 3, 1, "environment steps (per agent)",
                    "return (curriculum's current coefficients)");
  drawn[2] = figure(g, o, rep, names[2], 1, 0, "epoch", "return (final reward coefficients)");
  fprintf(g, "set output\n");
  if (sf_afclose(g, path, 1, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly report: %s\n", err);
    return -1;
  }
  for (int i = 0; i < 3; ++i) {
    snprintf(path, sizeof path, "%s/%s", o->out, names[i]);
    remove(path);
  }
  if (run_gnuplot(o) != 0) return -1;
  for (int i = 0; i < 3; ++i) {
    if (!drawn[i]) continue;
    snprintf(path, sizeof path, "%s/%s", o->out, names[i]);
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size == 0) {
      fprintf(stderr, "spikefly report: gnuplot wrote no '%s' (does it have the pngcairo terminal?)\n", path);
      return -1;
    }
    printf("wrote %s\n", path);
  }
  return 0;
}

/* Print a written file to stdout. */
static void show_file(const char *path) {
  void *text;
  size_t n;
  if (sf_read_file(path, &text, &n, NULL, 0) != 0) return;
  fwrite(text, 1, n, stdout);
  free(text);
}

/* --evaluate: every seed's final checkpoint on each trajectory, and the
 * table of evaluations. SF_EXIT_*. */
static int write_evaluations(const report_opts *o, const sf_report *rep) {
  int seeds = 0;
  for (int r = 0; r < rep->nrows; ++r) seeds += rep->rows[r].nseeds;
  fprintf(stderr, "spikefly report: flying %d checkpoint%s x %d trajector%s x %d episodes\n", seeds,
          seeds == 1 ? "" : "s", o->ntraj, o->ntraj == 1 ? "y" : "ies", o->episodes);
  sf_report_evals ev;
  char err[2048], md[1200], csv[1200], seeds_csv[1200];
  if (sf_report_evaluate(rep, o->traj, o->ntraj, o->episodes, &ev, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly report: %s\n", err);
    return SF_EXIT_USAGE;
  }
  snprintf(md, sizeof md, "%s/evaluation.md", o->out);
  snprintf(csv, sizeof csv, "%s/evaluation.csv", o->out);
  snprintf(seeds_csv, sizeof seeds_csv, "%s/evaluation_seeds.csv", o->out);
  int rc = SF_EXIT_OK;
  if (sf_report_write_eval_markdown(rep, &ev, md, err, sizeof err) != 0 ||
      sf_report_write_eval_csv(rep, &ev, csv, err, sizeof err) != 0 ||
      sf_report_write_eval_seeds_csv(rep, &ev, seeds_csv, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly report: %s\n", err);
    rc = SF_EXIT_FAIL;
  } else {
    show_file(md);
    printf("wrote %s, %s and %s\n", md, csv, seeds_csv);
  }
  sf_report_evals_free(&ev);
  return rc;
}

int sf_cmd_report(int argc, char **argv) {
  report_opts o;
  int rc = read_options(argc, argv, &o);
  if (rc != 0) return rc < 0 ? SF_EXIT_OK : rc;
  sf_report rep;
  char err[2048];
  if (sf_report_load(o.dirs, o.ndirs, o.threshold, &rep, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly report: %s\n", err);
    return SF_EXIT_USAGE;
  }
  if (sf_mkdirs(o.out, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly report: output directory (report.out): %s\n", err);
    sf_report_free(&rep);
    return SF_EXIT_USAGE;
  }
  char md[1200], csv[1200];
  snprintf(md, sizeof md, "%s/report.md", o.out);
  snprintf(csv, sizeof csv, "%s/report.csv", o.out);
  rc = SF_EXIT_OK;
  if (sf_report_write_markdown(&rep, md, err, sizeof err) != 0 || sf_report_write_csv(&rep, csv, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly report: %s\n", err);
    rc = SF_EXIT_FAIL;
  }
  if (rc == SF_EXIT_OK && write_figures(&o, &rep) != 0) rc = SF_EXIT_FAIL;
  if (rc == SF_EXIT_OK) {
    show_file(md);
    printf("wrote %s and %s\n", md, csv);
  }
  if (rc == SF_EXIT_OK && o.ntraj) rc = write_evaluations(&o, &rep);
  sf_report_free(&rep);
  return rc;
}
