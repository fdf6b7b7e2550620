#include "sf_ctrl_i8.h"

#include <string.h>

#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
#define SF_CTRL_I8_DSP 1
#endif

SF_CTRL_I8_API void sf_ctrl_i8_reset(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st) {
  memset(st->u1, 0, sizeof(int32_t) * (size_t)net->n_h1);
  memset(st->u2, 0, sizeof(int32_t) * (size_t)net->n_h2);
  memset(st->acc2, 0, sizeof(int32_t) * 4 * (size_t)SF_CTRL_I8_WORDS(net->n_h2));
}

SF_CTRL_I8_API int32_t sf_ctrl_i8_quant_input(float x, float mul, int32_t in_max) {
  const float lim = (float)in_max;
  float v = x * mul;
  if (v != v) return 0; /* NaN: no evidence either way */
  if (v > lim) v = lim;
  if (v < -lim) v = -lim;
  return (int32_t)(v < 0.0f ? v - 0.5f : v + 0.5f);
}

SF_CTRL_I8_API float sf_ctrl_i8_tanh(int32_t z, const int16_t *tab) {
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

/* One LIF neuron in fixed point. us = 2 U + S (membrane, last spike); p the
 * neuron's parameters; `in` its input current without the bias, in its
 * unit. Returns the new 2 U + S. (2U) * beta_q31 / 2^32, rounded, is
 * U * beta: one SMMULR on Arm. The reset subtracts theta where the last step
 * spiked, without a branch (-(us & 1) is all ones or zero). */
static inline int32_t lif(int32_t us, const int32_t *p, int32_t in) {
  const int32_t thr = p[SF_CTRL_I8_THR];
  int32_t leak;
#ifdef SF_CTRL_I8_DSP
  __asm__("smmulr %0, %1, %2" : "=r"(leak) : "r"(us & ~1), "r"(p[SF_CTRL_I8_BETA]));
#else
  leak = (int32_t)(((int64_t)(us & ~1) * p[SF_CTRL_I8_BETA] + 0x80000000LL) >> 32);
#endif
  int32_t v = leak + in + p[SF_CTRL_I8_BIAS] - (thr & -(us & 1));
  /* Saturate to [-2^30, 2^30 - 1]: one instruction (ssat #31) on Arm. */
#ifdef SF_CTRL_I8_DSP
  v = __builtin_arm_ssat(v, 31);
#else
  v = v < SF_CTRL_I8_UMIN ? SF_CTRL_I8_UMIN : (v > SF_CTRL_I8_UMAX ? SF_CTRL_I8_UMAX : v);
#endif
  return (int32_t)((uint32_t)v << 1) | (v > thr);
}

#define LO8 0x00FF00FFu

/* lane += bytes 0 and 2 of v (uxtab16 lane, v) and bytes 1 and 3
 * (uxtab16 lane, v, ror #8: the rotation is free in the instruction, which
 * the compiler's builtin does not offer). */
#ifdef SF_CTRL_I8_DSP
#define ADD_EVEN(acc, v) ((acc) = __builtin_arm_uxtab16((acc), (v)))
#define ADD_ODD(acc, v) __asm__("uxtab16 %0, %0, %1, ror #8" : "+r"(acc) : "r"(v))
#else
#define ADD_EVEN(acc, v) ((acc) += (v) & LO8)
#define ADD_ODD(acc, v) ((acc) += ((v) >> 8) & LO8)
#endif

/* Adds the listed rows (offsets into w, at most SF_CTRL_I8_MAX_ROWS) of
 * words w[0..W) (W = 1, 2 or 4; a constant where inlined) to 2W words of
 * 16-bit lane sums: lane[2c] holds outputs 4c and 4c + 2, lane[2c + 1]
 * outputs 4c + 1 and 4c + 3, each output's bytes w + 128 summed. Then the
 * signed sums of outputs 0 .. 4W - 1 into out[]. */
static inline void row_sums(const uint32_t *w, int W, const uint16_t *rows, int k, int32_t *out) {
  for (int i = 0; i < 4 * W; ++i) out[i] = 0;
  for (int start = 0; start < k; start += SF_CTRL_I8_MAX_ROWS) {
    const int n = k - start > SF_CTRL_I8_MAX_ROWS ? SF_CTRL_I8_MAX_ROWS : k - start;
    const uint16_t *r = rows + start, *end = r + n;
    uint32_t lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (W == 4) { /* eight lanes in registers: two 64-bit loads and eight additions per row */
      uint32_t e0 = 0, o0 = 0, e1 = 0, o1 = 0, e2 = 0, o2 = 0, e3 = 0, o3 = 0;
      for (; r < end; ++r) {
        const uint32_t *p = w + *r;
        uint32_t v0 = p[0], v1 = p[1];
        ADD_EVEN(e0, v0);
        ADD_ODD(o0, v0);
        ADD_EVEN(e1, v1);
        ADD_ODD(o1, v1);
        v0 = p[2], v1 = p[3];
        ADD_EVEN(e2, v0);
        ADD_ODD(o2, v0);
        ADD_EVEN(e3, v1);
        ADD_ODD(o3, v1);
      }
      lane[0] = e0, lane[1] = o0, lane[2] = e1, lane[3] = o1;
      lane[4] = e2, lane[5] = o2, lane[6] = e3, lane[7] = o3;
    } else {
      for (; r < end; ++r)
        for (int c = 0; c < W; ++c) {
          const uint32_t v = w[*r + c];
          ADD_EVEN(lane[2 * c], v);
          ADD_ODD(lane[2 * c + 1], v);
        }
    }
    const int32_t bias = 128 * n;
    for (int c = 0; c < W; ++c) { /* word c: lanes 2c (even outputs) and 2c + 1 (odd) */
      out[4 * c + 0] += (int32_t)(lane[2 * c] & 0xFFFFu) - bias;
      out[4 * c + 1] += (int32_t)(lane[2 * c + 1] & 0xFFFFu) - bias;
      out[4 * c + 2] += (int32_t)(lane[2 * c] >> 16) - bias;
      out[4 * c + 3] += (int32_t)(lane[2 * c + 1] >> 16) - bias;
    }
  }
}

/* Layer 2's weighted spike sums acc[] over every output of w2 (`words` per
 * row), four words (16 outputs) at a time: acc = sum of the `add` rows
 * (set), or acc += sum of the `add` rows - sum of the `sub` rows (update). */
static void layer2_sums(const uint32_t *w, int words, const uint16_t *add, int n_add, const uint16_t *sub,
                        int n_sub, int set, int32_t *acc) {
  int32_t pa[16], ps[16];
  for (int c = 0; c < words;) {
    const int W = words - c >= 4 ? 4 : (words - c >= 2 ? 2 : 1);
    if (W == 4) { /* a literal 4: the inlined copy keeps its eight lanes in registers */
      row_sums(w + c, 4, add, n_add, pa);
      if (!set) row_sums(w + c, 4, sub, n_sub, ps);
    } else {
      row_sums(w + c, W, add, n_add, pa);
      if (!set) row_sums(w + c, W, sub, n_sub, ps);
    }
    for (int i = 0; i < 4 * W; ++i) acc[4 * c + i] = set ? pa[i] : acc[4 * c + i] + pa[i] - ps[i];
    c += W;
  }
}

/* Sums of layer 1 for neurons o .. o + nb - 1 (nb <= 4) into a[]. */
#ifdef SF_CTRL_I8_DSP
/* Bytes 1 and 3 of v, sign-extended to two 16-bit lanes (SXTB16 with its
 * free rotation, which the compiler's builtin does not offer). */
static inline uint32_t sxtb16_hi(uint32_t v) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}

/* qx holds the observation as 16-bit pairs: word 2c = (x[4c], x[4c + 2]),
 * word 2c + 1 = (x[4c + 1], x[4c + 3]), matching the bytes 0, 2 and 1, 3 of
 * weight word c that SXTB16 extracts: two multiply-accumulates per SMLAD. */
static void layer1_sums(const uint32_t *restrict w, int words, const int32_t *restrict qx, int nb, int32_t *a) {
  const uint32_t *restrict xp = (const uint32_t *)qx;
  for (int b = 0; b < nb; ++b) a[b] = 0;
  if (nb == 4) {
    const uint32_t *restrict w0 = w, *restrict w1 = w + words, *restrict w2 = w + 2 * words,
                             *restrict w3 = w + 3 * words;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int c = 0; c < words; ++c) {
      const uint32_t xe = xp[2 * c], xo = xp[2 * c + 1];
      const uint32_t v0 = w0[c], v1 = w1[c], v2 = w2[c], v3 = w3[c];
      a0 = __builtin_arm_smlad(__builtin_arm_sxtb16(v0), xe, a0);
      a0 = __builtin_arm_smlad(sxtb16_hi(v0), xo, a0);
      a1 = __builtin_arm_smlad(__builtin_arm_sxtb16(v1), xe, a1);
      a1 = __builtin_arm_smlad(sxtb16_hi(v1), xo, a1);
      a2 = __builtin_arm_smlad(__builtin_arm_sxtb16(v2), xe, a2);
      a2 = __builtin_arm_smlad(sxtb16_hi(v2), xo, a2);
      a3 = __builtin_arm_smlad(__builtin_arm_sxtb16(v3), xe, a3);
      a3 = __builtin_arm_smlad(sxtb16_hi(v3), xo, a3);
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
  } else {
    for (int b = 0; b < nb; ++b)
      for (int c = 0; c < words; ++c) {
        const uint32_t v = w[b * words + c];
        a[b] = __builtin_arm_smlad(__builtin_arm_sxtb16(v), xp[2 * c], a[b]);
        a[b] = __builtin_arm_smlad(sxtb16_hi(v), xp[2 * c + 1], a[b]);
      }
  }
}

static void pack_input(int32_t *qx, int n_in) {
  int32_t x[4];
  uint32_t *xp = (uint32_t *)qx;
  for (int c = 0; 4 * c < n_in; ++c) { /* in place: word 2c + 1 <= 4c + 1 was read */
    for (int j = 0; j < 4; ++j) x[j] = 4 * c + j < n_in ? qx[4 * c + j] : 0;
    xp[2 * c] = ((uint32_t)x[0] & 0xFFFFu) | ((uint32_t)x[2] << 16);
    xp[2 * c + 1] = ((uint32_t)x[1] & 0xFFFFu) | ((uint32_t)x[3] << 16);
  }
}
#else
static void layer1_sums(const uint32_t *restrict w, int words, const int32_t *restrict x, int nb, int32_t *a) {
  for (int b = 0; b < nb; ++b) {
    int32_t acc = 0;
    for (int c = 0; c < words; ++c) {
      const uint32_t v = w[b * words + c];
      for (int j = 0; j < 4; ++j) acc += (int32_t)(int8_t)(uint8_t)(v >> (8 * j)) * x[4 * c + j];
    }
    a[b] = acc;
  }
}
#endif

/* Layer 1: dense int8 x int16 products, four neurons at a time; then the
 * neurons' updates, listing the rows of w2 to add. Returns the number of
 * spikes; *n_on / *n_off receive the number of neurons that started /
 * stopped. */
static int layer1(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st, int words2, int *n_on, int *n_off) {
  const int n1 = net->n_h1, words = SF_CTRL_I8_WORDS(net->n_in);
  const int32_t *restrict p = net->lif1;
  int32_t *restrict u = st->u1;
  uint16_t *restrict rows = st->rows1, *restrict flips = st->flips1;
  int k = 0, on = 0, off = 0;
  for (int o = 0; o < n1; o += 4) {
    const int nb = n1 - o < 4 ? n1 - o : 4;
    int32_t a[4];
    layer1_sums(net->w1 + (size_t)o * words, words, st->qx, nb, a);
    for (int b = 0; b < nb; ++b) {
      const int n = o + b;
      const int32_t us = u[n];
      const int32_t next = lif(us, p + SF_CTRL_I8_LIF_PARAMS * n, a[b]);
      const int was = us & 1, now = next & 1;
      u[n] = next;
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

SF_CTRL_I8_API void sf_ctrl_i8_step(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st, const float *obs,
                                    float *act) {
  const int n1 = net->n_h1, n2 = net->n_h2, n3 = net->n_out;
  const int words2 = SF_CTRL_I8_WORDS(n2), words3 = SF_CTRL_I8_WORDS(n3);
  const int n_in = net->n_in;
  for (int i = 0; i < n_in; ++i) st->qx[i] = sf_ctrl_i8_quant_input(obs[i], net->in_mul[i], net->in_max);
#ifdef SF_CTRL_I8_DSP
  pack_input(st->qx, n_in);
#else
  for (int i = n_in; i < 4 * SF_CTRL_I8_WORDS(n_in); ++i) st->qx[i] = 0; /* the padding's inputs */
#endif
  int on, off;
  const int k1 = layer1(net, st, words2, &on, &off);

  /* Layer 2: whichever is fewer rows, the spiking ones or the changes. */
  int32_t *acc = st->acc2;
  if (on + off < k1)
    layer2_sums(net->w2, words2, st->flips1, on, st->flips1 + n1 - off, off, 0, acc);
  else
    layer2_sums(net->w2, words2, st->rows1, k1, NULL, 0, 1, acc);
  int k2 = 0;
  {
    const int32_t *restrict p = net->lif2;
    int32_t *restrict u = st->u2;
    uint16_t *restrict rows = st->rows2;
    for (int n = 0; n < n2; ++n) {
      const int32_t next = lif(u[n], p + SF_CTRL_I8_LIF_PARAMS * n, acc[n] * (1 << SF_CTRL_I8_FRAC2));
      u[n] = next;
      if (next & 1) rows[k2++] = (uint16_t)(n * words3);
    }
  }

  for (int c = 0; c < words3; ++c) {
    int32_t acc3[4];
    row_sums(net->w3 + c, 1, st->rows2, k2, acc3);
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
