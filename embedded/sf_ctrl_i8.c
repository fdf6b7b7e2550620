#include "sf_ctrl_i8.h"

#include <string.h>

void sf_ctrl_i8_reset(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st) {
  memset(st->u1, 0, sizeof(int32_t) * (size_t)net->n_h1);
  memset(st->u2, 0, sizeof(int32_t) * (size_t)net->n_h2);
  memset(st->s1, 0, (size_t)net->n_h1);
  memset(st->s2, 0, (size_t)net->n_h2);
  memset(st->acc2, 0, sizeof(int32_t) * 4 * (size_t)SF_CTRL_I8_WORDS(net->n_h2));
}

int32_t sf_ctrl_i8_quant_input(float x, float mul, int32_t in_max) {
  const float lim = (float)in_max;
  float v = x * mul;
  if (v != v) return 0; /* NaN: no evidence either way */
  if (v > lim) v = lim;
  if (v < -lim) v = -lim;
  return (int32_t)(v < 0.0f ? v - 0.5f : v + 0.5f);
}

float sf_ctrl_i8_tanh(int32_t z, const int16_t *tab) {
  const int32_t top = SF_CTRL_I8_TANH_N << SF_CTRL_I8_TANH_STEP_BITS;
  int32_t a = z < 0 ? (z < -top ? top : -z) : (z > top ? top : z);
  int32_t y;
  if (a >= top) {
    y = tab[SF_CTRL_I8_TANH_N];
  } else {
    int32_t k = a >> SF_CTRL_I8_TANH_STEP_BITS;
    int32_t f = a & ((1 << SF_CTRL_I8_TANH_STEP_BITS) - 1);
    y = tab[k] + (((tab[k + 1] - tab[k]) * f + (1 << (SF_CTRL_I8_TANH_STEP_BITS - 1))) >>
                  SF_CTRL_I8_TANH_STEP_BITS);
  }
  return (float)(z < 0 ? -y : y) * (1.0f / 32768.0f);
}

/* One LIF neuron in fixed point: `in` is the input current in the neuron's
 * unit, s the spike of the last step. Returns the new membrane; the new
 * spike is (membrane > thr). (2u) * beta_q31 / 2^32 = u * beta. */
static inline int32_t lif(int32_t u, int s, int32_t in, int32_t beta, int32_t thr) {
  int32_t v = (int32_t)(((int64_t)(2 * u) * beta + 0x80000000LL) >> 32) + in;
  if (s) v -= thr;
  if (v > SF_CTRL_I8_UMAX) v = SF_CTRL_I8_UMAX;
  if (v < -SF_CTRL_I8_UMAX) v = -SF_CTRL_I8_UMAX;
  return v;
}

#define LO8 0x00FF00FFu

/* Signed sums of the listed rows (offsets into w) over words w[0..4), i.e.
 * outputs 0..15, into out[16]. Two 16-bit lanes per addition. */
static void sum_rows4(const uint32_t *w, const uint16_t *rows, int k, int32_t *out) {
  for (int i = 0; i < 16; ++i) out[i] = 0;
  for (int start = 0; start < k; start += SF_CTRL_I8_MAX_ROWS) {
    const int end = k - start > SF_CTRL_I8_MAX_ROWS ? start + SF_CTRL_I8_MAX_ROWS : k;
    uint32_t e0 = 0, o0 = 0, e1 = 0, o1 = 0, e2 = 0, o2 = 0, e3 = 0, o3 = 0;
    for (int n = start; n < end; ++n) {
      const uint32_t *p = w + rows[n];
      uint32_t v0 = p[0], v1 = p[1], v2 = p[2], v3 = p[3];
      e0 += v0 & LO8;
      o0 += (v0 >> 8) & LO8;
      e1 += v1 & LO8;
      o1 += (v1 >> 8) & LO8;
      e2 += v2 & LO8;
      o2 += (v2 >> 8) & LO8;
      e3 += v3 & LO8;
      o3 += (v3 >> 8) & LO8;
    }
    const int32_t bias = 128 * (end - start);
    const uint32_t lanes[8] = {e0, o0, e1, o1, e2, o2, e3, o3};
    for (int c = 0; c < 4; ++c) {
      out[4 * c + 0] += (int32_t)(lanes[2 * c] & 0xFFFFu) - bias;
      out[4 * c + 1] += (int32_t)(lanes[2 * c + 1] & 0xFFFFu) - bias;
      out[4 * c + 2] += (int32_t)(lanes[2 * c] >> 16) - bias;
      out[4 * c + 3] += (int32_t)(lanes[2 * c + 1] >> 16) - bias;
    }
  }
}

/* The same over one word (outputs 0..3). */
static void sum_rows1(const uint32_t *w, const uint16_t *rows, int k, int32_t *out) {
  out[0] = out[1] = out[2] = out[3] = 0;
  for (int start = 0; start < k; start += SF_CTRL_I8_MAX_ROWS) {
    const int end = k - start > SF_CTRL_I8_MAX_ROWS ? start + SF_CTRL_I8_MAX_ROWS : k;
    uint32_t e = 0, o = 0;
    for (int n = start; n < end; ++n) {
      uint32_t v = w[rows[n]];
      e += v & LO8;
      o += (v >> 8) & LO8;
    }
    const int32_t bias = 128 * (end - start);
    out[0] += (int32_t)(e & 0xFFFFu) - bias;
    out[1] += (int32_t)(o & 0xFFFFu) - bias;
    out[2] += (int32_t)(e >> 16) - bias;
    out[3] += (int32_t)(o >> 16) - bias;
  }
}

enum { SUM_SET, SUM_ADD, SUM_SUB };

static void merge(int32_t *acc, const int32_t *part, int n, int mode) {
  for (int i = 0; i < n; ++i) acc[i] = mode == SUM_SET ? part[i] : (mode == SUM_ADD ? acc[i] + part[i] : acc[i] - part[i]);
}

/* Sums of the listed rows for every output of a packed matrix with `words`
 * words per row, stored into acc, added to it or subtracted from it. */
static void sum_rows(const uint32_t *w, int words, const uint16_t *rows, int k, int32_t *acc, int mode) {
  int32_t part[16];
  int c = 0;
  for (; c + 4 <= words; c += 4) {
    sum_rows4(w + c, rows, k, part);
    merge(acc + 4 * c, part, 16, mode);
  }
  for (; c < words; ++c) {
    sum_rows1(w + c, rows, k, part);
    merge(acc + 4 * c, part, 4, mode);
  }
}

/* Layer 1: dense int8 x int16 products, four neurons at a time so each
 * input is loaded once per four multiply-accumulates; then the neurons'
 * updates, listing the rows of w2 to add. Returns the number of spikes;
 * *n_on / *n_off receive the number of neurons that started / stopped. */
static int layer1(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st, int words2, int *n_on, int *n_off) {
  const int n_in = net->n_in, n1 = net->n_h1;
  const int32_t *restrict x = st->qx;
  const int32_t *restrict bias = net->lif1.bias, *restrict beta = net->lif1.beta, *restrict thr = net->lif1.thr;
  int32_t *restrict u = st->u1;
  uint8_t *restrict s = st->s1;
  uint16_t *restrict rows = st->rows1, *restrict flips = st->flips1;
  int k = 0, on = 0, off = 0;
  for (int o = 0; o < n1; o += 4) {
    const int8_t *restrict w = net->w1 + (size_t)o * n_in;
    const int nb = n1 - o < 4 ? n1 - o : 4;
    int32_t a[4] = {0, 0, 0, 0};
    if (nb == 4) {
      for (int i = 0; i < n_in; ++i) {
        const int32_t xi = x[i];
        a[0] += w[i] * xi;
        a[1] += w[n_in + i] * xi;
        a[2] += w[2 * n_in + i] * xi;
        a[3] += w[3 * n_in + i] * xi;
      }
    } else {
      for (int b = 0; b < nb; ++b)
        for (int i = 0; i < n_in; ++i) a[b] += w[b * n_in + i] * x[i];
    }
    for (int b = 0; b < nb; ++b) {
      const int n = o + b;
      const int was = s[n];
      const int32_t v = lif(u[n], was, a[b] + bias[n], beta[n], thr[n]);
      const int now = v > thr[n];
      u[n] = v;
      s[n] = (uint8_t)now;
      const uint16_t row = (uint16_t)(n * words2);
      if (now) rows[k++] = row;
      if (now != was) {
        if (now)
          flips[on++] = row;
        else
          flips[n1 - 1 - off++] = row;
      }
    }
  }
  *n_on = on;
  *n_off = off;
  return k;
}

void sf_ctrl_i8_step(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st, const float *obs, float *act) {
  const int n1 = net->n_h1, n2 = net->n_h2, n3 = net->n_out;
  const int words2 = SF_CTRL_I8_WORDS(n2), words3 = SF_CTRL_I8_WORDS(n3);
  for (int i = 0; i < net->n_in; ++i) st->qx[i] = sf_ctrl_i8_quant_input(obs[i], net->in_mul[i], net->in_max);
  int on, off;
  const int k1 = layer1(net, st, words2, &on, &off);

  /* Layer 2: whichever is fewer rows, the spiking ones or the changes. */
  int32_t *acc = st->acc2;
  if (on + off < k1) {
    sum_rows(net->w2, words2, st->flips1, on, acc, SUM_ADD);
    sum_rows(net->w2, words2, st->flips1 + n1 - off, off, acc, SUM_SUB);
  } else {
    sum_rows(net->w2, words2, st->rows1, k1, acc, SUM_SET);
  }
  int k2 = 0;
  {
    const int32_t *restrict bias = net->lif2.bias, *restrict beta = net->lif2.beta, *restrict thr = net->lif2.thr;
    int32_t *restrict u = st->u2;
    uint8_t *restrict s = st->s2;
    uint16_t *restrict rows = st->rows2;
    for (int n = 0; n < n2; ++n) {
      const int32_t v = lif(u[n], s[n], acc[n] * (1 << SF_CTRL_I8_FRAC2) + bias[n], beta[n], thr[n]);
      const int now = v > thr[n];
      u[n] = v;
      s[n] = (uint8_t)now;
      if (now) rows[k2++] = (uint16_t)(n * words3);
    }
  }

  for (int c = 0; c < words3; ++c) {
    int32_t acc3[4];
    sum_rows1(net->w3 + c, st->rows2, k2, acc3);
    for (int b = 0; b < 4 && 4 * c + b < n3; ++b) {
      const int o = 4 * c + b;
      int64_t z = ((int64_t)acc3[b] * net->out_mul[o] + (1 << (SF_CTRL_I8_OUT_SHIFT - 1))) >>
                  SF_CTRL_I8_OUT_SHIFT;
      z += net->out_bias[o];
      if (z > INT32_MAX) z = INT32_MAX;
      if (z < -INT32_MAX) z = -INT32_MAX;
      act[o] = sf_ctrl_i8_tanh((int32_t)z, net->tanh_q15);
    }
  }
}
