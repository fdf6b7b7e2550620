#include "export/sf_quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds that keep every sum of the module inside int32: the current
 * acc * 2^F + bias and the threshold each stay within 2^28, the membrane is
 * saturated at 2^30, so beta u + I - theta stays below 2^31. */
#define SF_QUANT_BOUND (1L << 28)

/* Observations' quantisation range: this many times their calibrated range. */
#define SF_QUANT_IN_MARGIN 2.0

static int32_t qn(float x, float s, int32_t lim) {
  float v = roundf(x / s), l = (float)lim;
  return (int32_t)(v > l ? l : (v < -l ? -l : v));
}

float sf_quant_best_scale(const float *x, size_t n, size_t stride, int32_t lim) {
  float amax = 0.0f;
  for (size_t i = 0; i < n; ++i) amax = fmaxf(amax, fabsf(x[i * stride]));
  if (amax == 0.0f) return 0.0f;
  float best = amax / (float)lim;
  double best_err = INFINITY;
  /* Clipping points from max|x| down to max|x| / 20, geometrically spaced. */
  for (int k = 0; k < 60; ++k) {
    float s = amax * powf(0.95f, (float)k) / (float)lim;
    double err = 0.0;
    for (size_t i = 0; i < n; ++i) {
      double d = (double)x[i * stride] - (double)s * qn(x[i * stride], s, lim);
      err += d * d;
    }
    if (err < best_err) {
      best_err = err;
      best = s;
    }
  }
  return best;
}

void sf_quant_free(sf_quant_net *q) {
  void *p[] = {q->in_scale, q->in_mul, q->w1,    q->w1p,   q->sw1,   q->bias1, q->thr1,  q->beta1,
               q->w2,       q->sw2,    q->w2p,   q->bias2, q->thr2,  q->beta2, q->w3,
               q->sw3,      q->w3p,    q->out_mul, q->out_bias, q->lif1p, q->lif2p};
  for (size_t i = 0; i < sizeof p / sizeof p[0]; ++i) free(p[i]);
  memset(q, 0, sizeof *q);
}

static int alloc_all(sf_quant_net *q) {
  size_t n_in = (size_t)q->n_in, n1 = (size_t)q->n_h1, n2 = (size_t)q->n_h2, n3 = (size_t)q->n_out;
  q->in_scale = calloc(n_in, sizeof(float));
  q->in_mul = calloc(n_in, sizeof(float));
  q->w1 = calloc(n1 * n_in, 1);
  q->w1p = calloc((size_t)SF_CTRL_I8_W1_LEN(q->n_in, q->n_h1), sizeof(uint32_t));
  q->sw1 = calloc(n1, sizeof(float));
  q->bias1 = calloc(n1, sizeof(int32_t));
  q->thr1 = calloc(n1, sizeof(int32_t));
  q->beta1 = calloc(n1, sizeof(int32_t));
  q->w2 = calloc(n2 * n1, 1);
  q->sw2 = calloc(n2, sizeof(float));
  q->w2p = calloc(n1 * (size_t)q->words2, sizeof(uint32_t));
  q->bias2 = calloc(n2, sizeof(int32_t));
  q->thr2 = calloc(n2, sizeof(int32_t));
  q->beta2 = calloc(n2, sizeof(int32_t));
  q->w3 = calloc(n3 * n2, 1);
  q->sw3 = calloc(n3, sizeof(float));
  q->w3p = calloc(n2 * (size_t)q->words3, sizeof(uint32_t));
  q->out_mul = calloc(n3, sizeof(int32_t));
  q->lif1p = calloc(3 * n1, sizeof(int32_t));
  q->lif2p = calloc(3 * n2, sizeof(int32_t));
  q->out_bias = calloc(n3, sizeof(int32_t));
  return q->in_scale && q->in_mul && q->w1 && q->w1p && q->sw1 && q->bias1 && q->thr1 && q->beta1 && q->w2 &&
                 q->sw2 && q->w2p && q->bias2 && q->thr2 && q->beta2 && q->w3 && q->sw3 && q->w3p &&
                 q->out_mul && q->out_bias && q->lif1p && q->lif2p
             ? 0
             : -1;
}

/* A value in a neuron's fixed-point unit, or -1 with a message. */
static int to_fixed(double v, const char *what, const char *layer, int n, int32_t *out, char *err,
                    size_t errlen) {
  double r = nearbyint(v);
  if (!(fabs(r) <= (double)SF_QUANT_BOUND)) {
    snprintf(err, errlen, "%s neuron %d: %s %.6g units does not fit the int8 format (bound 2^28)", layer,
             n, what, v);
    return -1;
  }
  *out = (int32_t)r;
  return 0;
}

/* Quantises rows w[n_out][n_in] per row into qw, scales into sw; a row of
 * zeros gets a scale that keeps bias and threshold representable. */
static void quant_rows(const float *w, int n_out, int n_in, const float *bias, const float *thr, int8_t *qw,
                       float *sw) {
  for (int o = 0; o < n_out; ++o) {
    float s = sf_quant_best_scale(w + (size_t)o * n_in, (size_t)n_in, 1, 127);
    if (s == 0.0f) {
      float m = fmaxf(fabsf(bias[o]), thr ? fabsf(thr[o]) : 0.0f);
      s = m > 0.0f ? m / 65536.0f : 1.0f;
    }
    sw[o] = s;
    for (int i = 0; i < n_in; ++i) qw[(size_t)o * n_in + i] = (int8_t)qn(w[(size_t)o * n_in + i], s, 127);
  }
}

static int quant_lif(const char *layer, int n, const int8_t *qw, int n_in, int32_t in_max, int frac,
                     const float *sw, const float *b, const float *beta, const float *thr, int32_t *qb,
                     int32_t *qthr, int32_t *qbeta, char *err, size_t errlen) {
  const double unit = (double)(1 << frac);
  for (int o = 0; o < n; ++o) {
    long acc_max = 0;
    for (int i = 0; i < n_in; ++i) acc_max += labs((long)qw[(size_t)o * n_in + i]) * in_max;
    if (acc_max * (1L << frac) > SF_QUANT_BOUND) {
      snprintf(err, errlen, "%s neuron %d: the weighted input sum can reach %ld, over the int8 format's bound", layer,
               o, acc_max);
      return -1;
    }
    if (to_fixed((double)b[o] / sw[o] * unit, "bias", layer, o, &qb[o], err, errlen) ||
        to_fixed((double)thr[o] / sw[o] * unit, "threshold", layer, o, &qthr[o], err, errlen))
      return -1;
    float bt = beta[o] < 0.0f ? 0.0f : (beta[o] > 1.0f ? 1.0f : beta[o]);
    double b31 = nearbyint((double)bt * 2147483648.0);
    qbeta[o] = (int32_t)(b31 > 2147483647.0 ? 2147483647.0 : b31);
  }
  return 0;
}

/* Packs column j of w[n_out][n_in] as row j of 4-output words (w + 128). */
static void pack_rows(const int8_t *w, int n_out, int n_in, int words, uint32_t *out) {
  for (int j = 0; j < n_in; ++j)
    for (int c = 0; c < words; ++c) {
      uint32_t v = 0;
      for (int b = 0; b < 4; ++b) {
        int o = 4 * c + b;
        uint32_t byte = (uint32_t)((o < n_out ? w[(size_t)o * n_in + j] : 0) + 128);
        v |= byte << (8 * b);
      }
      out[(size_t)j * words + c] = v;
    }
}

int sf_quantise(const sf_snn_net *net, const float *calib, size_t n_calib, sf_quant_net *q, char *err,
                size_t errlen) {
  memset(q, 0, sizeof *q);
  q->n_in = net->n_in;
  q->n_h1 = net->n_h1;
  q->n_h2 = net->n_h2;
  q->n_out = net->n_out;
  q->words2 = SF_CTRL_I8_WORDS(net->n_h2);
  q->words3 = SF_CTRL_I8_WORDS(net->n_out);
  if ((long)net->n_h1 * q->words2 > 65535 || (long)net->n_h2 * q->words3 > 65535) {
    snprintf(err, errlen, "network too large for the int8 module's 16-bit row offsets (%d x %d, %d x %d words)",
             net->n_h1, q->words2, net->n_h2, q->words3);
    return -1;
  }
  if (n_calib == 0) {
    snprintf(err, errlen, "no calibration observations");
    return -1;
  }
  if (alloc_all(q) != 0) {
    snprintf(err, errlen, "out of memory quantising the network");
    sf_quant_free(q);
    return -1;
  }
  /* Inputs: 16-bit unless some neuron's bias or threshold, in the unit of
   * its sums, would not fit; then fewer bits. The input scales are chosen
   * for fc1's int8 rows rather than for the inputs: fc1's columns are
   * weights times input scales, and a row's scale is set by its largest
   * column, so with scales fitted to each feature's range the features with
   * a wide range (angular rates, up to ~20) take the rows' int8 range and
   * leave ~10 levels to the weights of the others. Feature i's scale is
   * K / c_i instead, c_i the RMS of fc1's column i, which gives every
   * column the same size; K is the least common factor with which every
   * feature's calibrated range, times SF_QUANT_IN_MARGIN, fits in
   * [-in_max, in_max] (the recorded flights are few and later ones go
   * further; the margin costs one of the 16 bits of inputs whose rounding
   * is far below the weights'). A feature that never varied in
   * calibration is taken to range over [-1, 1]. */
  static const int32_t in_limits[] = {32767, 8191, 2047, 511, 127};
  float *w1f = malloc(sizeof(float) * (size_t)net->n_h1 * net->n_in);
  double *col = malloc(sizeof(double) * 2 * (size_t)net->n_in), *range = col + net->n_in;
  if (!w1f || !col) {
    free(w1f);
    free(col);
    snprintf(err, errlen, "out of memory quantising the network");
    sf_quant_free(q);
    return -1;
  }
  for (int i = 0; i < net->n_in; ++i) {
    double m = 0.0, a = 0.0;
    for (int o = 0; o < net->n_h1; ++o) {
      double v = (double)net->w1[(size_t)o * net->n_in + i];
      m += v * v;
    }
    for (size_t t = 0; t < n_calib; ++t) a = fmax(a, fabs((double)calib[t * (size_t)net->n_in + i]));
    col[i] = sqrt(m / net->n_h1);
    range[i] = SF_QUANT_IN_MARGIN * (a > 0.0 ? a : 1.0);
  }
  int ok = -1;
  for (size_t l = 0; l < sizeof in_limits / sizeof in_limits[0] && ok != 0; ++l) {
    q->in_max = in_limits[l];
    double K = 0.0;
    for (int i = 0; i < net->n_in; ++i) K = fmax(K, range[i] * col[i] / q->in_max);
    for (int i = 0; i < net->n_in; ++i) {
      /* A column of zeros (or a scale below the feature's range) gets the
       * scale of the range. */
      double s = col[i] > 0.0 ? K / col[i] : 0.0, lo = range[i] / q->in_max;
      q->in_scale[i] = (float)(s > lo ? s : lo);
      q->in_mul[i] = 1.0f / q->in_scale[i];
    }
    for (int o = 0; o < net->n_h1; ++o)
      for (int i = 0; i < net->n_in; ++i)
        w1f[(size_t)o * net->n_in + i] = net->w1[(size_t)o * net->n_in + i] * q->in_scale[i];
    quant_rows(w1f, net->n_h1, net->n_in, net->b1, net->thr1, q->w1, q->sw1);
    ok = quant_lif("lif1", net->n_h1, q->w1, net->n_in, q->in_max, 0, q->sw1, net->b1, net->beta1, net->thr1,
                   q->bias1, q->thr1, q->beta1, err, errlen);
  }
  free(w1f);
  free(col);
  quant_rows(net->w2, net->n_h2, net->n_h1, net->b2, net->thr2, q->w2, q->sw2);
  quant_rows(net->w3, net->n_out, net->n_h2, net->b3, NULL, q->w3, q->sw3);
  if (ok != 0 || quant_lif("lif2", net->n_h2, q->w2, net->n_h1, 1, SF_CTRL_I8_FRAC2, q->sw2, net->b2, net->beta2,
                           net->thr2, q->bias2, q->thr2, q->beta2, err, errlen)) {
    sf_quant_free(q);
    return -1;
  }
  for (int o = 0; o < net->n_h1; ++o) {
    q->lif1p[3 * o + SF_CTRL_I8_BIAS] = q->bias1[o];
    q->lif1p[3 * o + SF_CTRL_I8_THR] = q->thr1[o];
    q->lif1p[3 * o + SF_CTRL_I8_BETA] = q->beta1[o];
  }
  for (int o = 0; o < net->n_h2; ++o) {
    q->lif2p[3 * o + SF_CTRL_I8_BIAS] = q->bias2[o];
    q->lif2p[3 * o + SF_CTRL_I8_THR] = q->thr2[o];
    q->lif2p[3 * o + SF_CTRL_I8_BETA] = q->beta2[o];
  }
  /* fc1: groups of four neurons, word by word, in the input slots of
   * sf_ctrl_i8.h (a last word of at most two inputs uses bytes 0 and 2). */
  const int words1 = SF_CTRL_I8_WORDS(net->n_in);
  for (int o = 0; o < net->n_h1; ++o)
    for (int i = 0; i < net->n_in; ++i) {
      const int slot = SF_CTRL_I8_SLOT(net->n_in, i);
      q->w1p[((size_t)(o / 4) * words1 + slot / 4) * 4 + o % 4] |=
          (uint32_t)(uint8_t)q->w1[(size_t)o * net->n_in + i] << (8 * (slot % 4));
    }
  pack_rows(q->w2, net->n_h2, net->n_h1, q->words2, q->w2p);
  pack_rows(q->w3, net->n_out, net->n_h2, q->words3, q->w3p);
  const double zunit = (double)(1 << SF_CTRL_I8_ZFRAC);
  for (int o = 0; o < net->n_out; ++o) {
    double m = nearbyint((double)q->sw3[o] * zunit * (double)(1L << SF_CTRL_I8_OUT_SHIFT));
    double b = nearbyint((double)net->b3[o] * zunit);
    if (!(m <= (double)INT32_MAX) || !(fabs(b) <= (double)SF_QUANT_BOUND)) {
      snprintf(err, errlen, "fc3 output %d: weight scale %.6g or bias %.6g does not fit the int8 format", o,
               q->sw3[o], net->b3[o]);
      sf_quant_free(q);
      return -1;
    }
    q->out_mul[o] = (int32_t)m;
    q->out_bias[o] = (int32_t)b;
  }
  const int step = 1 << SF_CTRL_I8_TANH_STEP_BITS;
  for (int k = 0; k <= SF_CTRL_I8_TANH_N; ++k) {
    double y = nearbyint(tanh((double)(k * step) / zunit) * 32768.0);
    q->tanh_q15[k] = (int16_t)(y > 32767.0 ? 32767.0 : y);
  }
  return 0;
}

void sf_quant_view(const sf_quant_net *q, sf_ctrl_i8_net *v) {
  v->n_in = q->n_in;
  v->n_h1 = q->n_h1;
  v->n_h2 = q->n_h2;
  v->n_out = q->n_out;
  v->in_max = q->in_max;
  v->in_mul = q->in_mul;
  v->w1 = q->w1p;
  v->lif1 = q->lif1p;
  v->w2 = q->w2p;
  v->lif2 = q->lif2p;
  v->w3 = q->w3p;
  v->out_mul = q->out_mul;
  v->out_bias = q->out_bias;
  v->tanh_q15 = q->tanh_q15;
}

/* ---- integer reference ------------------------------------------------ */

int sf_quant_ref_alloc(sf_quant_ref_state *st, const sf_quant_net *q) {
  st->u1 = calloc((size_t)q->n_h1, sizeof(int32_t));
  st->u2 = calloc((size_t)q->n_h2, sizeof(int32_t));
  st->s1 = calloc((size_t)q->n_h1, 1);
  st->s2 = calloc((size_t)q->n_h2, 1);
  if (!st->u1 || !st->u2 || !st->s1 || !st->s2) {
    sf_quant_ref_free(st);
    return -1;
  }
  return 0;
}

void sf_quant_ref_free(sf_quant_ref_state *st) {
  free(st->u1);
  free(st->u2);
  free(st->s1);
  free(st->s2);
  memset(st, 0, sizeof *st);
}

/* The start state: U = 0 and S_{-1} = H(-theta) of the quantised threshold
 * (as the float network's, sf_lif_math.inc; where a negative theta rounds to
 * 0 the reset term theta S_{-1} is 0 either way). */
void sf_quant_ref_reset(sf_quant_ref_state *st, const sf_quant_net *q) {
  memset(st->u1, 0, sizeof(int32_t) * (size_t)q->n_h1);
  memset(st->u2, 0, sizeof(int32_t) * (size_t)q->n_h2);
  for (int o = 0; o < q->n_h1; ++o) st->s1[o] = q->thr1[o] < 0;
  for (int o = 0; o < q->n_h2; ++o) st->s2[o] = q->thr2[o] < 0;
}

/* Fixed-point LIF layer over integer inputs x[n_in] (quantised observations
 * or 0/1 spikes): every neuron's weighted sum, then its update. */
static void ref_layer(const int8_t *w, int n, int n_in, int frac, const int32_t *x, const int32_t *bias,
                      const int32_t *thr, const int32_t *beta, int32_t *u, uint8_t *s) {
  for (int o = 0; o < n; ++o) {
    int64_t acc = 0;
    for (int i = 0; i < n_in; ++i) acc += (int64_t)w[(size_t)o * n_in + i] * x[i];
    int64_t leak = ((int64_t)u[o] * 2 * beta[o] + 0x80000000LL) >> 32;
    int64_t v = leak + acc * (1 << frac) + bias[o] - (s[o] ? thr[o] : 0);
    if (v > SF_CTRL_I8_UMAX) v = SF_CTRL_I8_UMAX;
    if (v < SF_CTRL_I8_UMIN) v = SF_CTRL_I8_UMIN;
    u[o] = (int32_t)v;
    s[o] = v > thr[o];
  }
}

void sf_quant_ref_step(const sf_quant_net *q, sf_quant_ref_state *st, const float *obs, float *act) {
  int32_t *x = malloc(sizeof(int32_t) * (size_t)(q->n_in + q->n_h1 + q->n_h2));
  if (!x) return;
  int32_t *x1 = x + q->n_in, *x2 = x1 + q->n_h1;
  for (int i = 0; i < q->n_in; ++i) x[i] = sf_ctrl_i8_quant_input(obs[i], q->in_mul[i], q->in_max);
  ref_layer(q->w1, q->n_h1, q->n_in, 0, x, q->bias1, q->thr1, q->beta1, st->u1, st->s1);
  for (int j = 0; j < q->n_h1; ++j) x1[j] = st->s1[j];
  ref_layer(q->w2, q->n_h2, q->n_h1, SF_CTRL_I8_FRAC2, x1, q->bias2, q->thr2, q->beta2, st->u2, st->s2);
  for (int j = 0; j < q->n_h2; ++j) x2[j] = st->s2[j];
  for (int o = 0; o < q->n_out; ++o) {
    int64_t acc = 0;
    for (int j = 0; j < q->n_h2; ++j) acc += (int64_t)q->w3[(size_t)o * q->n_h2 + j] * x2[j];
    int64_t z = ((acc * q->out_mul[o] + 32768) >> 16) + q->out_bias[o];
    if (z > INT32_MAX) z = INT32_MAX;
    if (z < -INT32_MAX) z = -INT32_MAX;
    act[o] = sf_ctrl_i8_tanh((int32_t)z, q->tanh_q15);
  }
  free(x);
}
