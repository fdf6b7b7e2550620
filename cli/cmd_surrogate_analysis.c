/* spikefly surrogate-analysis: the paper's Figure 1 experiment as a tool.
 * Computes, for several fast-sigmoid slopes on one spiking network with
 * identical weights, the per-layer gradient magnitude, fraction of zero
 * gradients and alignment with a reference slope's gradient (see
 * models/sf_surrogate_analysis.h), prints a table and a verdict on the
 * paper's claim, and optionally writes CSV and a PNG plot (gnuplot). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/sf_defs.h"
#include "core/sf_fileio.h"
#include "cli/sf_cli.h"
#include "cli/sf_device.h"
#include "models/sf_snn.h"
#include "models/sf_surrogate_analysis.h"

static const sf_flag flags[] = {
    {"slopes", "analysis.slopes", NULL, "K,K,...", "surrogate slopes to compare (default 1,10,25,50,100)"},
    {"reference", "analysis.reference", NULL, "K", "slope the others are compared to, one of --slopes (default 100)"},
    {"samples", "analysis.samples", NULL, "N", "random N(0,1) input/target pairs (default 256)"},
    {"timesteps", "analysis.timesteps", NULL, "T", "steps each input is held (default 2)"},
    {"input", "analysis.input", NULL, "N", "input width (default 63)"},
    {"layers", "analysis.layers", NULL, "L", "LIF layers (default 4)"},
    {"width", "analysis.width", NULL, "N", "neurons per LIF layer (default 64)"},
    {"outputs", "analysis.outputs", NULL, "N", "readout width (default 64)"},
    {"seed", "analysis.seed", NULL, "S", "seed of the weights and the data (default 1)"},
    {"zero-tol", "analysis.zero_tol", NULL, "X", "|gradient| counted as zero (default 0: exactly zero)"},
    {"csv", "analysis.csv", NULL, "FILE", "write the table as CSV"},
    {"plot", "analysis.plot", NULL, "FILE.png", "draw the metrics per layer (needs gnuplot)"},
    {"device", "device", NULL, "DEV", "cpu | auto (this command runs on the CPU; cuda is an error)"},
};

static const sf_cmd_spec spec = {
    "surrogate-analysis", NULL,
    "compare surrogate-gradient slopes: gradient size, zero gradients and alignment per layer (paper Fig. 1)",
    flags, (int)SF_ARRAY_LEN(flags), 0, 0,
    "The network holds the same weights for every slope, so its forward pass is identical and\n"
    "only the surrogate differs. Layer l is the weight matrix fc(l+1): layer 0 feeds the first\n"
    "LIF layer (the farthest from the loss), the last layer is the readout."};

static int write_csv(const char *path, const sf_sa_config *c, const sf_sa_result *r, char *err, size_t errlen) {
  FILE *f = sf_afopen(path, err, errlen);
  if (!f) return -1;
  fprintf(f, "layer,slope,mean_abs_grad,zero_fraction,cosine_to_reference,zero_norm_samples\n");
  for (int l = 0; l < r->nw; ++l)
    for (int p = 0; p < r->nslopes; ++p) {
      int o = p * r->nw + l;
      fprintf(f, "%d,%g,%.9g,%.9g,%.9g,%d\n", l, c->slopes[p], r->mean_abs[o], r->zero_frac[o], r->cos_sim[o],
              r->zero_norm[o]);
    }
  return sf_afclose(f, path, 1, err, errlen);
}

/* One gnuplot datablock: a row per layer, a column per slope. */
static void datablock(FILE *g, const char *name, const sf_sa_result *r, const double *v) {
  fprintf(g, "$%s << EOD\n", name);
  for (int l = 0; l < r->nw; ++l) {
    fprintf(g, "%d", l);
    for (int p = 0; p < r->nslopes; ++p) fprintf(g, " %.9g", v[p * r->nw + l]);
    fprintf(g, "\n");
  }
  fprintf(g, "EOD\n");
}

/* Colours, dash and point types that tell slopes apart also where their
 * curves coincide (no pale colour). */
static const char *const sa_colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                        "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#000000"};

/* One curve per slope. `spread` shifts slope p's points sideways by a few
 * hundredths of a layer, so curves with equal values lie side by side. */
static void plot_lines(FILE *g, const char *block, const sf_sa_config *c, int spread) {
  fprintf(g, "plot ");
  for (int p = 0; p < c->nslopes; ++p) {
    double dx = spread ? 0.05 * (p - 0.5 * (c->nslopes - 1)) : 0.0;
    fprintf(g, "%s$%s using ($1%+.3f):%d with linespoints lw 2 lc rgb '%s' dt %d pt %d ps 1.2 title 'k = %g'",
            p ? ", " : "", block, dx, p + 2, sa_colors[p % 10], 1 + p % 5, 4 + 2 * (p % 6), c->slopes[p]);
  }
  fprintf(g, "\n");
}

/* 1 when every slope's values equal the first slope's in this block. */
static int all_equal(const sf_sa_result *r, const double *v) {
  for (int p = 1; p < r->nslopes; ++p)
    for (int l = 0; l < r->nw; ++l)
      if (fabs(v[p * r->nw + l] - v[l]) > 1e-6 * (fabs(v[l]) + 1e-12)) return 0;
  return 1;
}

/* gnuplot draws into `<path>.tmp`, renamed over path once it succeeded: a
 * failed drawing leaves an earlier figure as it was. Its messages go to a
 * temporary log, shown only when it fails. */
static int draw_plot(const char *path, const sf_sa_config *c, const sf_sa_result *r) {
  char tmp[4200], log[] = "/tmp/sf_gnuplot_XXXXXX", cmd[64];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return -1;
  int fd = mkstemp(log);
  if (fd < 0) return -1;
  close(fd);
  snprintf(cmd, sizeof cmd, "gnuplot 2>%s", log);
  FILE *g = popen(cmd, "w");
  if (!g) {
    unlink(log);
    return -1;
  }
  fprintf(g, "set terminal pngcairo size 1500,460 font 'Sans,10'\nset output '");
  for (const char *s = tmp; *s; ++s) fprintf(g, *s == '\'' ? "''" : "%c", *s); /* gnuplot's quote escape */
  fprintf(g, "'\n");
  datablock(g, "mag", r, r->mean_abs);
  datablock(g, "zero", r, r->zero_frac);
  datablock(g, "cos", r, r->cos_sim);
  fprintf(g,
          "set multiplot layout 1,3 title 'Surrogate-gradient slopes: %d -> %d x LIF(%d) -> %d, %d samples x %d "
          "steps'\n"
          "set xlabel 'layer (0 = farthest from the loss)'\nset xtics 1\nset xrange [-0.3:%d.3]\nset grid\n"
          "set key below horizontal height 1\n"
          "set logscale y\nset format y '%%.0e'\nset title 'mean |gradient|'\n",
          c->in, c->nlayers, c->width, c->out, c->samples, c->timesteps, r->nw - 1);
  plot_lines(g, "mag", c, 0);
  fprintf(g, "unset logscale y\nset format y '%%g'\nset yrange [0:1]\nset title 'fraction of zero gradients%s'\n",
          all_equal(r, r->zero_frac) ? " (the same for every slope; drawn side by side)" : "");
  plot_lines(g, "zero", c, 1);
  fprintf(g, "set yrange [*:1.05]\nset title 'cosine similarity to k = %g'\n", c->reference);
  plot_lines(g, "cos", c, 0);
  fprintf(g, "unset multiplot\n");
  int st = pclose(g);
  int rc = st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || rename(tmp, path) != 0 ? -1 : 0;
  if (rc) {
    void *text;
    size_t n;
    if (sf_read_file(log, &text, &n, NULL, 0) == 0) {
      if (n) fprintf(stderr, "gnuplot said:\n%s", (const char *)text);
      free(text);
    }
    remove(tmp);
  }
  unlink(log);
  return rc;
}

static void print_report(const sf_sa_config *c, const sf_sa_result *r) {
  const int nw = r->nw, ref = r->ref;
  printf("surrogate-gradient analysis: %d -> %d x LIF(%d) -> %d, %d samples held %d steps, seed %llu\n", c->in,
         c->nlayers, c->width, c->out, c->samples, c->timesteps, (unsigned long long)c->seed);
  printf("MSE loss %.4f (the same for every slope); spike rate per LIF layer:", r->loss);
  for (int l = 0; l < c->nlayers; ++l) printf(" %.3f", r->spike_rate[l]);
  printf("\nlayer 0 feeds the first LIF layer (farthest from the loss); layer %d is the readout\n\n", nw - 1);
  printf("%-6s %-10s %8s %13s %10s %12s\n", "layer", "weights", "slope", "mean|grad|", "zero frac", "cos(ref)");
  int zero_norm = 0;
  for (int l = 0; l < nw; ++l) {
    char shape[32];
    snprintf(shape, sizeof shape, "%dx%d", l < c->nlayers ? c->width : c->out, l ? c->width : c->in);
    for (int p = 0; p < r->nslopes; ++p) {
      int o = p * nw + l;
      printf("%-6d %-10s %8g %13.4e %10.4f %12.4f%s\n", l, p ? "" : shape, c->slopes[p], r->mean_abs[o],
             r->zero_frac[o], r->cos_sim[o], p == ref ? "  (reference)" : "");
      zero_norm += r->zero_norm[o];
    }
  }
  printf("\nzero gradients: |g| <= %g. cosine similarity: a sample whose gradient or the reference's has zero "
         "norm counts as similarity 0 (%d such sample-layer-slope cases here).\n",
         c->zero_tol, zero_norm);

  /* The paper's claim, checked between the shallowest slope and the reference. */
  int lo = 0;
  for (int p = 1; p < r->nslopes; ++p)
    if (c->slopes[p] < c->slopes[lo]) lo = p;
  if (c->slopes[lo] >= c->reference) return;
  printf("\nclaim: shallower slopes give larger gradients in deeper layers but lower alignment.\n");
  printf("k = %g against k = %g, per layer (0 first):\n  mean|grad| ratio:", c->slopes[lo], c->reference);
  /* Over the hidden layers (the readout's gradient involves no surrogate):
   * larger everywhere, the gain largest in the deepest layer, alignment lower
   * everywhere. */
  int larger = 1, deepest = 1, lower = 1;
  double ratio0 = 0;
  for (int l = 0; l < nw; ++l) {
    double a = r->mean_abs[lo * nw + l], b = r->mean_abs[ref * nw + l];
    double ratio = b > 0 ? a / b : (a > 0 ? INFINITY : 1.0);
    printf(" %.3g", ratio);
    if (l == 0) ratio0 = ratio;
    if (l < nw - 1) {
      larger &= ratio > 1.0;
      deepest &= ratio <= ratio0;
    }
  }
  printf("\n  cosine similarity:");
  for (int l = 0; l < nw; ++l) {
    printf(" %.3f", r->cos_sim[lo * nw + l]);
    if (l < nw - 1) lower &= r->cos_sim[lo * nw + l] < r->cos_sim[ref * nw + l];
  }
  printf("\n  larger gradients in every hidden layer: %s; the gain is largest in the deepest layer: %s\n",
         larger ? "yes" : "no", deepest ? "yes" : "no");
  printf("  lower alignment in every hidden layer: %s\n", lower ? "yes" : "no");
  printf("  -> the claim is %s by this run\n", larger && deepest && lower ? "confirmed" : "NOT confirmed");
}

int sf_cmd_surrogate_analysis(int argc, char **argv) {
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos;
  int rc = sf_cli_parse(&spec, argc, argv, cfg, pos, &npos);
  if (rc != SF_CLI_OK) {
    sf_cfg_free(cfg);
    return rc == SF_CLI_HELP ? SF_EXIT_OK : SF_EXIT_USAGE;
  }
  sf_sa_config c = sf_sa_default();
  const double defk[5] = {1, 10, 25, 50, 100};
  double ks[SF_SA_MAX_SLOPES];
  c.nslopes = sf_cfg_floats(cfg, "analysis.slopes", defk, 5, 1e-6, 1e6, ks, SF_SA_MAX_SLOPES);
  for (int i = 0; i < c.nslopes; ++i) c.slopes[i] = (float)ks[i];
  c.reference = (float)sf_cfg_float(cfg, "analysis.reference", 100, 1e-6, 1e6);
  c.samples = (int)sf_cfg_int(cfg, "analysis.samples", 256, 1, 10000000);
  c.timesteps = (int)sf_cfg_int(cfg, "analysis.timesteps", 2, 1, 100000);
  c.in = (int)sf_cfg_int(cfg, "analysis.input", 63, 1, 1 << 16);
  c.nlayers = (int)sf_cfg_int(cfg, "analysis.layers", 4, 1, SF_SNN_MAX_LAYERS);
  c.width = (int)sf_cfg_int(cfg, "analysis.width", 64, 1, 1 << 16);
  c.out = (int)sf_cfg_int(cfg, "analysis.outputs", 64, 1, 1 << 16);
  c.seed = (uint64_t)sf_cfg_int(cfg, "analysis.seed", 1, 0, LONG_MAX);
  c.zero_tol = sf_cfg_float(cfg, "analysis.zero_tol", 0, 0, 1e30);
  const char *csv = sf_cfg_str(cfg, "analysis.csv", NULL);
  const char *png = sf_cfg_str(cfg, "analysis.plot", NULL);
  if (!sf_cfg_error(cfg)) {
    int found = 0;
    for (int i = 0; i < c.nslopes; ++i) found |= c.slopes[i] == c.reference;
    if (!found) sf_cfg_fail(cfg, "config key 'analysis.reference': %g is not one of analysis.slopes", c.reference);
  }
  sf_device_from_config(cfg, 0, "the surrogate-gradient analysis");
  rc = sf_cli_check(cfg, spec.name);
  /* Output paths are checked before the run, not after it, and without
   * touching an earlier file. */
  const char *outs[2] = {csv, png};
  char err[600];
  for (int i = 0; i < 2 && !rc; ++i) {
    if (outs[i] && sf_check_output_file(outs[i], err, sizeof err) != 0) {
      fprintf(stderr, "spikefly %s: %s (%s)\n", spec.name, err, i ? "analysis.plot" : "analysis.csv");
      rc = SF_EXIT_USAGE;
    }
  }
  if (rc) {
    sf_cfg_free(cfg);
    return rc;
  }
  sf_sa_result r;
  if (sf_sa_run(&c, &r, err, sizeof err)) {
    fprintf(stderr, "spikefly %s: %s\n", spec.name, err);
    sf_cfg_free(cfg);
    return SF_EXIT_FAIL;
  }
  print_report(&c, &r);
  rc = SF_EXIT_OK;
  if (csv) {
    if (write_csv(csv, &c, &r, err, sizeof err)) {
      fprintf(stderr, "spikefly %s: %s\n", spec.name, err);
      rc = SF_EXIT_FAIL;
    } else {
      printf("wrote %s\n", csv);
    }
  }
  if (png) {
    if (draw_plot(png, &c, &r)) {
      fprintf(stderr, "spikefly %s: gnuplot could not draw %s (is gnuplot installed? Debian: gnuplot-nox)\n",
              spec.name, png);
      rc = SF_EXIT_FAIL;
    } else {
      printf("wrote %s\n", png);
    }
  }
  sf_sa_result_free(&r);
  sf_cfg_free(cfg);
  return rc;
}
