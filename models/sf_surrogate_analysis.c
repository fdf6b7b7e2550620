#include "models/sf_surrogate_analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_philox.h"
#include "models/sf_lif_math.h"
#include "models/sf_snn.h"

sf_sa_config sf_sa_default(void) {
  sf_sa_config c;
  memset(&c, 0, sizeof c);
  c.in = 63;
  c.nlayers = 4;
  c.width = 64;
  c.out = 64;
  c.timesteps = 2;
  c.samples = 256;
  c.seed = 1;
  const float k[5] = {1, 10, 25, 50, 100};
  c.nslopes = 5;
  memcpy(c.slopes, k, sizeof k);
  c.reference = 100;
  return c;
}

/* N(0,1) numbers of sample s for one purpose (0: input, 1: target). */
static void normals(uint64_t seed, int s, int purpose, int n, float *out) {
  for (int j = 0; j < n; j += 4) {
    float z[4];
    sf_normal4(sf_rng_bits(seed, (uint32_t)s, 0, SF_STREAM(SF_RNG_ANALYSIS, purpose), (uint32_t)(j / 4)), z);
    for (int q = 0; q < 4 && j + q < n; ++q) out[j + q] = z[q];
  }
}

void sf_sa_result_free(sf_sa_result *res) {
  free(res->mean_abs);
  free(res->zero_frac);
  free(res->cos_sim);
  free(res->zero_norm);
  free(res->spike_rate);
  memset(res, 0, sizeof *res);
}

int sf_sa_run(const sf_sa_config *cfg, sf_sa_result *res, char *err, int errlen) {
  memset(res, 0, sizeof *res);
  if (cfg->nslopes < 1 || cfg->nslopes > SF_SA_MAX_SLOPES || cfg->samples < 1 || cfg->timesteps < 1 ||
      cfg->nlayers < 1 || cfg->nlayers > SF_SNN_MAX_LAYERS || cfg->in < 1 || cfg->width < 1 || cfg->out < 1 ||
      !(cfg->zero_tol >= 0)) {
    snprintf(err, errlen, "invalid analysis configuration");
    return -1;
  }
  int ref = -1;
  for (int i = 0; i < cfg->nslopes; ++i) {
    if (!(cfg->slopes[i] > 0)) {
      snprintf(err, errlen, "slope %g is not positive", cfg->slopes[i]);
      return -1;
    }
    if (cfg->slopes[i] == cfg->reference && ref < 0) ref = i;
  }
  if (ref < 0) {
    snprintf(err, errlen, "the reference slope %g is not one of the slopes", cfg->reference);
    return -1;
  }
  sf_snn_config nc;
  memset(&nc, 0, sizeof nc);
  nc.in = cfg->in;
  nc.nlayers = cfg->nlayers;
  for (int l = 0; l < cfg->nlayers; ++l) nc.hidden[l] = cfg->width;
  nc.out = cfg->out;
  nc.mode = SF_SPIKE_HEAVISIDE;
  nc.detach_reset = 1;
  snprintf(nc.name, sizeof nc.name, "analysis");

  const int P = cfg->nslopes, T = cfg->timesteps, F = cfg->in, O = cfg->out, nw = cfg->nlayers + 1;
  sf_snn *net = sf_snn_new(&nc, P, T);
  uint64_t *seeds = malloc(sizeof(uint64_t) * P);
  float *x = malloc(sizeof(float) * P * T * F), *y = malloc(sizeof(float) * P * T * O);
  float *dy = malloc(sizeof(float) * P * T * O), *target = malloc(sizeof(float) * O);
  res->nslopes = P;
  res->nw = nw;
  res->ref = ref;
  res->mean_abs = calloc((size_t)P * nw, sizeof(double));
  res->zero_frac = calloc((size_t)P * nw, sizeof(double));
  res->cos_sim = calloc((size_t)P * nw, sizeof(double));
  res->zero_norm = calloc((size_t)P * nw, sizeof(int));
  res->spike_rate = calloc((size_t)cfg->nlayers, sizeof(double));
  int ok = net && seeds && x && y && dy && target && res->mean_abs && res->zero_frac && res->cos_sim &&
           res->zero_norm && res->spike_rate;
  if (!ok) {
    snprintf(err, errlen, "out of memory");
  } else {
    for (int p = 0; p < P; ++p) {
      seeds[p] = cfg->seed;
      net->slope[p] = cfg->slopes[p];
    }
    sf_snn_init(net, seeds);
    for (int s = 0; s < cfg->samples; ++s) {
      normals(cfg->seed, s, 0, F, x);
      normals(cfg->seed, s, 1, O, target);
      for (int r = 1; r < P * T; ++r) memcpy(x + (long)r * F, x, sizeof(float) * F);
      sf_params_zero_grad(&net->params);
      sf_snn_forward(net, T, 1, x, y);
      for (int l = 0; l < cfg->nlayers; ++l) {
        double on = 0;
        for (long i = 0; i < (long)T * cfg->width; ++i) on += net->s[l][i]; /* agent 0: all agents agree */
        res->spike_rate[l] += on / ((double)T * cfg->width * cfg->samples);
      }
      /* prediction = sum_t y_t - (T - 1) b = W (sum_t S_t) + b; every step's
       * readout receives dL/dprediction. */
      for (int p = 0; p < P; ++p) {
        const float *b = sf_param_at(&net->params.t[net->fc_b[nw - 1]], p);
        for (int j = 0; j < O; ++j) {
          double pred = -(double)(T - 1) * b[j];
          for (int t = 0; t < T; ++t) pred += y[((long)p * T + t) * O + j];
          double d = pred - target[j];
          if (p == 0) res->loss += d * d / O / cfg->samples;
          for (int t = 0; t < T; ++t) dy[((long)p * T + t) * O + j] = (float)(2.0 * d / O);
        }
      }
      sf_snn_backward(net, 0, dy, NULL);
      for (int l = 0; l < nw; ++l) {
        const sf_param *w = &net->params.t[net->fc_w[l]];
        const float *gr = sf_param_grad_at(w, ref);
        double nref = 0;
        for (long i = 0; i < w->size; ++i) nref += (double)gr[i] * gr[i];
        for (int p = 0; p < P; ++p) {
          const float *g = sf_param_grad_at(w, p);
          double sabs = 0, zeros = 0, dot = 0, nn = 0;
          for (long i = 0; i < w->size; ++i) {
            sabs += fabs(g[i]);
            zeros += fabs(g[i]) <= cfg->zero_tol;
            dot += (double)g[i] * gr[i];
            nn += (double)g[i] * g[i];
          }
          long o = (long)p * nw + l;
          res->mean_abs[o] += sabs / w->size / cfg->samples;
          res->zero_frac[o] += zeros / w->size / cfg->samples;
          if (nn > 0 && nref > 0)
            res->cos_sim[o] += dot / (sqrt(nn) * sqrt(nref)) / cfg->samples;
          else
            res->zero_norm[o] += 1;
        }
      }
    }
  }
  sf_snn_free(net);
  free(seeds);
  free(x);
  free(y);
  free(dy);
  free(target);
  if (!ok) sf_sa_result_free(res);
  return ok ? 0 : -1;
}
