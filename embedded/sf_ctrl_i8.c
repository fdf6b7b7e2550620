#include "sf_ctrl_i8.h"

#include <string.h>

void sf_ctrl_i8_reset(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st) {
  memset(st->u1, 0, sizeof(int32_t) * (size_t)net->n_h1);
  memset(st->u2, 0, sizeof(int32_t) * (size_t)net->n_h2);
  memset(st->s1, 0, (size_t)net->n_h1);
  memset(st->s2, 0, (size_t)net->n_h2);
}

int32_t sf_ctrl_i8_quant_input(float x, float mul) {
  float v = x * mul;
  if (v != v) return 0; /* NaN: no evidence either way */
  if (v > 127.0f) v = 127.0f;
  if (v < -127.0f) v = -127.0f;
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

/* One LIF neuron in fixed point; `in` is the input current in the neuron's
 * unit. Returns the new spike. */
static inline uint8_t lif(int32_t *u, uint8_t *s, int32_t in, int32_t beta, int32_t thr) {
  int32_t v = (int32_t)(((int64_t)beta * *u + (1 << 15)) >> 16) + in;
  if (*s) v -= thr;
  if (v > SF_CTRL_I8_UMAX) v = SF_CTRL_I8_UMAX;
  if (v < -SF_CTRL_I8_UMAX) v = -SF_CTRL_I8_UMAX;
  *u = v;
  *s = (uint8_t)(v > thr);
  return *s;
}

/* The four signed sums of word c over the listed rows (offsets into w). */
static void row_sum_word(const uint32_t *w, const uint16_t *rows, int k, int32_t out[4]) {
  out[0] = out[1] = out[2] = out[3] = 0;
  for (int start = 0; start < k; start += SF_CTRL_I8_MAX_ROWS) {
    int end = k - start > SF_CTRL_I8_MAX_ROWS ? start + SF_CTRL_I8_MAX_ROWS : k;
    uint32_t even = 0, odd = 0;
    for (int n = start; n < end; ++n) {
      uint32_t v = w[rows[n]];
      even += v & 0x00FF00FFu;
      odd += (v >> 8) & 0x00FF00FFu;
    }
    int32_t bias = 128 * (end - start);
    out[0] += (int32_t)(even & 0xFFFFu) - bias;
    out[1] += (int32_t)(odd & 0xFFFFu) - bias;
    out[2] += (int32_t)(even >> 16) - bias;
    out[3] += (int32_t)(odd >> 16) - bias;
  }
}

/* Layer 1: dense int8 x int8 products, four neurons at a time so each input
 * is loaded once per four multiply-accumulates. */
static int layer1(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st, uint16_t row_words) {
  const int n_in = net->n_in, n1 = net->n_h1;
  const int32_t *x = st->qx;
  int k = 0, o = 0;
  for (; o + 4 <= n1; o += 4) {
    const int8_t *w = net->w1 + (size_t)o * n_in;
    int32_t a[4] = {0, 0, 0, 0};
    for (int i = 0; i < n_in; ++i) {
      int32_t xi = x[i];
      a[0] += w[i] * xi;
      a[1] += w[n_in + i] * xi;
      a[2] += w[2 * n_in + i] * xi;
      a[3] += w[3 * n_in + i] * xi;
    }
    for (int b = 0; b < 4; ++b) {
      int n = o + b;
      int32_t in = a[b] * (1 << SF_CTRL_I8_FRAC) + net->lif1.bias[n];
      if (lif(&st->u1[n], &st->s1[n], in, net->lif1.beta[n], net->lif1.thr[n]))
        st->rows1[k++] = (uint16_t)(n * row_words);
    }
  }
  for (; o < n1; ++o) {
    const int8_t *w = net->w1 + (size_t)o * n_in;
    int32_t a = 0;
    for (int i = 0; i < n_in; ++i) a += w[i] * x[i];
    int32_t in = a * (1 << SF_CTRL_I8_FRAC) + net->lif1.bias[o];
    if (lif(&st->u1[o], &st->s1[o], in, net->lif1.beta[o], net->lif1.thr[o]))
      st->rows1[k++] = (uint16_t)(o * row_words);
  }
  return k;
}

void sf_ctrl_i8_step(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st, const float *obs,
                     float *act) {
  const int n2 = net->n_h2, n3 = net->n_out;
  const int words2 = SF_CTRL_I8_WORDS(n2), words3 = SF_CTRL_I8_WORDS(n3);
  for (int i = 0; i < net->n_in; ++i) st->qx[i] = sf_ctrl_i8_quant_input(obs[i], net->in_mul[i]);
  int k1 = layer1(net, st, (uint16_t)words2);

  int k2 = 0;
  for (int c = 0; c < words2; ++c) {
    int32_t acc[4];
    row_sum_word(net->w2 + c, st->rows1, k1, acc);
    for (int b = 0; b < 4 && 4 * c + b < n2; ++b) {
      int n = 4 * c + b;
      int32_t in = acc[b] * (1 << SF_CTRL_I8_FRAC) + net->lif2.bias[n];
      if (lif(&st->u2[n], &st->s2[n], in, net->lif2.beta[n], net->lif2.thr[n]))
        st->rows2[k2++] = (uint16_t)(n * words3);
    }
  }
  /* rows2 was filled in ascending neuron order, like rows1. */
  for (int c = 0; c < words3; ++c) {
    int32_t acc[4];
    row_sum_word(net->w3 + c, st->rows2, k2, acc);
    for (int b = 0; b < 4 && 4 * c + b < n3; ++b) {
      int o = 4 * c + b;
      int64_t z = ((int64_t)acc[b] * net->out_mul[o] + (1 << (SF_CTRL_I8_OUT_SHIFT - 1))) >>
                  SF_CTRL_I8_OUT_SHIFT;
      z += net->out_bias[o];
      if (z > INT32_MAX) z = INT32_MAX;
      if (z < -INT32_MAX) z = -INT32_MAX;
      act[o] = sf_ctrl_i8_tanh((int32_t)z, net->tanh_q15);
    }
  }
}
