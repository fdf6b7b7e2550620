#include "sf_ctrl_i8.h"

#include <string.h>

/* ---- the instructions the step is written in ----------------------------
 * On Arm cores with the DSP extension (Cortex-M4, M7; GCC or Clang) these
 * are single instructions; elsewhere the same integer results in plain C.
 * The step below is one piece of code for both. */
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
#define SF_CTRL_I8_DSP 1
/* Bytes 0 and 2 of v, sign-extended into two 16-bit lanes. */
static inline uint32_t sxtb16(uint32_t v) { return __builtin_arm_sxtb16(v); }
/* Bytes 1 and 3 (the rotation is free in the instruction; the compiler's
 * builtin does not offer it). */
static inline uint32_t sxtb16_ror8(uint32_t v) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}
/* acc + lo(a) lo(b) + hi(a) hi(b), 16-bit signed lanes. */
static inline int32_t smlad(uint32_t a, uint32_t b, int32_t acc) { return __builtin_arm_smlad(a, b, acc); }
/* Lanes of acc + bytes 0 and 2 of v (unsigned). */
static inline uint32_t uxtab16(uint32_t acc, uint32_t v) { return __builtin_arm_uxtab16(acc, v); }
/* Lanes of acc + bytes 1 and 3 of v. */
static inline uint32_t uxtab16_ror8(uint32_t acc, uint32_t v) {
  __asm__("uxtab16 %0, %0, %1, ror #8" : "+r"(acc) : "r"(v));
  return acc;
}
/* a b / 2^32, rounded to nearest. */
static inline int32_t smmulr(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
/* v saturated to [-2^30, 2^30 - 1]. */
static inline int32_t ssat31(int32_t v) { return __builtin_arm_ssat(v, 31); }
#else
static inline uint32_t sxtb16(uint32_t v) {
  return ((uint32_t)(int32_t)(int8_t)(uint8_t)v & 0xFFFFu) | ((uint32_t)(int32_t)(int8_t)(uint8_t)(v >> 16) << 16);
}
static inline uint32_t sxtb16_ror8(uint32_t v) { return sxtb16(v >> 8 | v << 24); }
static inline int32_t smlad(uint32_t a, uint32_t b, int32_t acc) {
  const int32_t lo = (int32_t)(int16_t)(uint16_t)a * (int16_t)(uint16_t)b;
  const int32_t hi = (int32_t)(int16_t)(uint16_t)(a >> 16) * (int16_t)(uint16_t)(b >> 16);
  return (int32_t)((uint32_t)acc + (uint32_t)lo + (uint32_t)hi);
}
/* Lanes never carry into each other here (at most SF_CTRL_I8_MAX_ROWS bytes
 * per lane), so one 32-bit addition is the two lane additions. */
static inline uint32_t uxtab16(uint32_t acc, uint32_t v) { return acc + (v & 0x00FF00FFu); }
static inline uint32_t uxtab16_ror8(uint32_t acc, uint32_t v) { return acc + ((v >> 8) & 0x00FF00FFu); }
static inline int32_t smmulr(int32_t a, int32_t b) {
  return (int32_t)(((int64_t)a * b + 0x80000000LL) >> 32);
}
static inline int32_t ssat31(int32_t v) {
  return v < SF_CTRL_I8_UMIN ? SF_CTRL_I8_UMIN : (v > SF_CTRL_I8_UMAX ? SF_CTRL_I8_UMAX : v);
}
#endif

/* Leading zeros of a non-zero word (CLZ on Arm). */
static inline int clz32(uint32_t x) {
#if defined(__GNUC__)
  return __builtin_clz(x);
#else
  int n = 0;
  while (!(x & 0x80000000u)) x <<= 1, ++n;
  return n;
#endif
}

/* Unrolls the next loop completely where its count is a constant (GCC and
 * Clang read the pragma, other compilers ignore it). */
#if defined(__GNUC__)
#define SF_UNROLL _Pragma("GCC unroll 8")
#else
#define SF_UNROLL
#endif

/* ---- state ---------------------------------------------------------------- */

SF_CTRL_I8_API void sf_ctrl_i8_bind(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st, uint32_t *buf) {
  const int n1 = net->n_h1, n2 = net->n_h2;
  st->u1 = (int32_t *)buf;
  st->u2 = st->u1 + n1;
  st->acc2 = st->u2 + n2;
  st->spk1 = (uint32_t *)(st->acc2 + 4 * SF_CTRL_I8_WORDS(n2));
  st->qx = (int32_t *)(st->spk1 + SF_CTRL_I8_MASK_WORDS(n1) + 1);
  st->mask = (uint32_t *)(st->qx + 4 * SF_CTRL_I8_WORDS(net->n_in));
  st->rows1 = (uint16_t *)(st->mask + SF_CTRL_I8_MASK_WORDS(n1 > n2 ? n1 : n2));
  st->rows2 = st->rows1 + n1 + (n1 & 1);
}

/* U = 0 and, in the lowest bit, S_{-1} = H(0 - theta) of the quantised
 * threshold: 1 only where it is negative (the float network's start state;
 * a negative theta that rounds to 0 resets by 0 either way). Layer 2's sums
 * and layer 1's last spikes as layer 2's input start empty. */
static void start_state(const int32_t *p, int n, int32_t *u) {
  for (int o = 0; o < n; ++o) u[o] = p[SF_CTRL_I8_LIF_PARAMS * o + SF_CTRL_I8_THR] < 0;
}

SF_CTRL_I8_API void sf_ctrl_i8_reset(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st) {
  start_state(net->lif1, net->n_h1, st->u1);
  start_state(net->lif2, net->n_h2, st->u2);
  memset(st->acc2, 0, sizeof(int32_t) * 4 * (size_t)SF_CTRL_I8_WORDS(net->n_h2));
  memset(st->spk1, 0, sizeof(uint32_t) * (size_t)(SF_CTRL_I8_MASK_WORDS(net->n_h1) + 1));
}

/* ---- input and output ----------------------------------------------------- */

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

/* Quantises the observation into its slots and packs them as the 16-bit
 * pairs SMLAD multiplies with SXTB16's lanes: word 2c = (slot 4c, slot
 * 4c + 2), word 2c + 1 = (slot 4c + 1, slot 4c + 3). */
static void quantise_input(const sf_ctrl_i8_net *net, const float *obs, int32_t *qx) {
  const int n_in = net->n_in, words = SF_CTRL_I8_WORDS(n_in);
  int32_t x[4];
  uint32_t *xp = (uint32_t *)qx;
  SF_UNROLL for (int c = 0; c < words; ++c) { /* unrolled, the padding is known */
    for (int j = 0; j < 4; ++j) {
      const int i = 4 * c + j;
      x[j] = i < n_in ? sf_ctrl_i8_quant_input(obs[i], net->in_mul[i], net->in_max) : 0;
    }
    if (c == words - 1 && !SF_CTRL_I8_LAST_ODD(n_in)) /* SF_CTRL_I8_SLOT: inputs 4c, 4c + 1 in slots 4c, 4c + 2 */
      x[2] = x[1], x[1] = 0;
    xp[2 * c] = ((uint32_t)x[0] & 0xFFFFu) | ((uint32_t)x[2] << 16);
    xp[2 * c + 1] = ((uint32_t)x[1] & 0xFFFFu) | ((uint32_t)x[3] << 16);
  }
}

/* ---- LIF ---------------------------------------------------------------------- */

/* One LIF neuron in fixed point. us = 2 U + S (membrane, last spike); p the
 * neuron's parameters; `in` its input current with the bias, in its unit.
 * Returns the new 2 U + S and shifts the spike into *m. (2U) * beta_q31 /
 * 2^32, rounded, is U * beta: one SMMULR. The reset subtracts theta where
 * the last step spiked (one MLS); the spike is the sign of theta - U (no
 * overflow: |theta| < 2^28, |U| <= 2^30), so nothing here branches. */
static inline int32_t lif(int32_t us, const int32_t *p, int32_t in, uint32_t *m) {
  const int32_t thr = p[SF_CTRL_I8_THR];
  const int32_t v = ssat31(smmulr(us & ~1, p[SF_CTRL_I8_BETA]) + in - thr * (us & 1));
  uint32_t s = (uint32_t)(thr - v) >> 31;
#if defined(__GNUC__)
  /* Keeps the bit in a register: then it joins the membrane word and the
   * mask with one shifted OR each, where the compiler would otherwise fold
   * the shift into both and shift the mask separately. */
  __asm__("" : "+r"(s));
#endif
  *m = (*m << 1) | s;
  return (int32_t)(((uint32_t)v << 1) | s);
}

/* Stores the spike bits of neurons up to n (exclusive) gathered in m once a
 * mask word is complete, or at the layer's end (n == count) left-aligned. */
static inline void flush_mask(uint32_t *mask, int n, int count, uint32_t m) {
  if ((n & 31) == 0)
    mask[(n >> 5) - 1] = m;
  else if (n == count)
    mask[n >> 5] = m << (32 - (n & 31));
}

/* Appends to rows[k..] the offsets first * stride, ... of the neurons whose
 * bit is set in one mask word (neuron first + i in bit 31 - i), in order.
 * Returns the new count. */
static inline int list_rows(uint32_t bits, int first, int stride, uint16_t *rows, int k) {
  while (bits) {
    const int i = clz32(bits);
    rows[k++] = (uint16_t)((first + i) * stride);
    bits ^= 0x80000000u >> i;
  }
  return k;
}

/* ---- layer 1: dense int8 x int16 products ---------------------------------- */

/* Neuron sums of one weight lane (w points at its first byte column) over
 * the packed input xp, starting from a (the bias). */
static inline int32_t dot_lane(const uint32_t *w, int words, int odd_last, const uint32_t *xp, int32_t a) {
  for (int c = 0; c < words; ++c) {
    a = smlad(sxtb16(w[4 * c]), xp[2 * c], a);
    if (c < words - 1 || odd_last) a = smlad(sxtb16_ror8(w[4 * c]), xp[2 * c + 1], a);
  }
  return a;
}

/* Adds one word of inputs to the sums a0..a3 of a group's four neurons and
 * advances w (the group's four weight words) and x (the word's two input
 * pairs); `odd`: the word has inputs in bytes 1 and 3 too. On Arm, one
 * block of 19 instructions: three LDRD, eight SXTB16 and eight SMLAD. */
#ifdef SF_CTRL_I8_DSP
#define SF_I8_WORD_EVEN(a, v)                                                                                  \
  "sxtb16 %[t], %[" v "]\n\tsmlad %[" a "], %[t], %[xe], %[" a "]\n\t"
#define SF_I8_WORD_ODD(a, v) "sxtb16 %[t], %[" v "], ror #8\n\tsmlad %[" a "], %[t], %[xo], %[" a "]\n\t"
#define SF_I8_WORD_OPERANDS                                                                                      \
  : [w] "+r"(*w), [x] "+r"(*x), [a0] "+r"(*a0), [a1] "+r"(*a1), [a2] "+r"(*a2), [a3] "+r"(*a3), [v0] "=&r"(v0), \
    [v1] "=&r"(v1), [xe] "=&r"(xe), [xo] "=&r"(xo), [t] "=&r"(t)                                               \
  :                                                                                                              \
  : "memory"
static inline void group_word(const uint32_t **w, const uint32_t **x, int odd, int32_t *a0, int32_t *a1,
                              int32_t *a2, int32_t *a3) {
  uint32_t v0, v1, xe, xo, t;
  if (odd)
    __asm__("ldrd %[xe], %[xo], [%[x]], #8\n\t"
            "ldrd %[v0], %[v1], [%[w]], #8\n\t" SF_I8_WORD_EVEN("a0", "v0") SF_I8_WORD_ODD("a0", "v0")
                SF_I8_WORD_EVEN("a1", "v1") SF_I8_WORD_ODD("a1", "v1") "ldrd %[v0], %[v1], [%[w]], #8\n\t"
                    SF_I8_WORD_EVEN("a2", "v0") SF_I8_WORD_ODD("a2", "v0") SF_I8_WORD_EVEN("a3", "v1")
                        SF_I8_WORD_ODD("a3", "v1") SF_I8_WORD_OPERANDS);
  else
    __asm__("ldr %[xe], [%[x]], #8\n\t"
            "ldrd %[v0], %[v1], [%[w]], #8\n\t" SF_I8_WORD_EVEN("a0", "v0") SF_I8_WORD_EVEN("a1", "v1")
            "ldrd %[v0], %[v1], [%[w]], #8\n\t" SF_I8_WORD_EVEN("a2", "v0") SF_I8_WORD_EVEN("a3", "v1")
            "mov %[xo], #0\n\t" SF_I8_WORD_OPERANDS);
}
#else
static inline void group_word(const uint32_t **w, const uint32_t **x, int odd, int32_t *a0, int32_t *a1,
                              int32_t *a2, int32_t *a3) {
  const uint32_t *wc = *w, xe = (*x)[0], xo = (*x)[1];
  *a0 = smlad(sxtb16(wc[0]), xe, *a0);
  *a1 = smlad(sxtb16(wc[1]), xe, *a1);
  *a2 = smlad(sxtb16(wc[2]), xe, *a2);
  *a3 = smlad(sxtb16(wc[3]), xe, *a3);
  if (odd) {
    *a0 = smlad(sxtb16_ror8(wc[0]), xo, *a0);
    *a1 = smlad(sxtb16_ror8(wc[1]), xo, *a1);
    *a2 = smlad(sxtb16_ror8(wc[2]), xo, *a2);
    *a3 = smlad(sxtb16_ror8(wc[3]), xo, *a3);
  }
  *w += 4;
  *x += 2;
}
#endif

/* Layer 1, four neurons at a time: their sums (weights of a group word by
 * word, each input pair loaded once for the four), their updates, and the
 * spikes into st->mask. */
static void layer1(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st) {
  const int n1 = net->n_h1, words = SF_CTRL_I8_WORDS(net->n_in), odd_last = SF_CTRL_I8_LAST_ODD(net->n_in);
  const uint32_t *const xp = (const uint32_t *)st->qx;
  const uint32_t *w = net->w1;
  const int32_t *restrict p = net->lif1;
  int32_t *restrict u = st->u1;
  uint32_t *restrict mask = st->mask;
  uint32_t m = 0;
  int n = 0;
  for (; n + 4 <= n1; n += 4, p += 4 * SF_CTRL_I8_LIF_PARAMS) {
    int32_t a0 = p[SF_CTRL_I8_BIAS], a1 = p[SF_CTRL_I8_LIF_PARAMS + SF_CTRL_I8_BIAS],
            a2 = p[2 * SF_CTRL_I8_LIF_PARAMS + SF_CTRL_I8_BIAS], a3 = p[3 * SF_CTRL_I8_LIF_PARAMS + SF_CTRL_I8_BIAS];
    const uint32_t *x = xp;
    SF_UNROLL for (int c = 0; c < words - 1; ++c) group_word(&w, &x, 1, &a0, &a1, &a2, &a3);
    group_word(&w, &x, odd_last, &a0, &a1, &a2, &a3);
    u[n] = lif(u[n], p, a0, &m);
    u[n + 1] = lif(u[n + 1], p + SF_CTRL_I8_LIF_PARAMS, a1, &m);
    u[n + 2] = lif(u[n + 2], p + 2 * SF_CTRL_I8_LIF_PARAMS, a2, &m);
    u[n + 3] = lif(u[n + 3], p + 3 * SF_CTRL_I8_LIF_PARAMS, a3, &m);
    flush_mask(mask, n + 4, n1, m);
  }
  for (int b = 0; n < n1; ++n, ++b, p += SF_CTRL_I8_LIF_PARAMS) { /* the last, partial group */
    u[n] = lif(u[n], p, dot_lane(w + b, words, odd_last, xp, p[SF_CTRL_I8_BIAS]), &m);
    flush_mask(mask, n + 1, n1, m);
  }
}

/* ---- spike sums: rows of bytes w + 128 added in 16-bit lanes ------------------ */

/* d[4c .. 4c + 3] (+)= the four outputs of word c's two lanes, even (outputs
 * 4c, 4c + 2) and odd (4c + 1, 4c + 3), less the rows' bias. */
static inline void lanes_out(int32_t *d, int c, uint32_t even, uint32_t odd, int32_t bias, int first) {
  const int32_t v0 = (int32_t)(even & 0xFFFFu) - bias, v1 = (int32_t)(odd & 0xFFFFu) - bias,
                v2 = (int32_t)(even >> 16) - bias, v3 = (int32_t)(odd >> 16) - bias;
  if (first) {
    d[4 * c] = v0, d[4 * c + 1] = v1, d[4 * c + 2] = v2, d[4 * c + 3] = v3;
  } else {
    d[4 * c] += v0, d[4 * c + 1] += v1, d[4 * c + 2] += v2, d[4 * c + 3] += v3;
  }
}

/* Sums over outputs 4c .. 4c + 4W - 1 of w (the row offsets are relative to
 * w + c; W = 1, 2 or 4, a constant where inlined): d[] receives the sum of
 * the `add` rows minus the sum of the `sub` rows. A subtracted row is added
 * as its complement, bytes 255 - (w + 128) = 127 - w, so each pass removes
 * 128 per added row and 127 per subtracted one. Rows are taken in passes
 * of at most SF_CTRL_I8_MAX_ROWS: one pass where the layer has at most that
 * many inputs (n_rows). */
static inline void row_sums(const uint32_t *w, int W, int n_rows, const uint16_t *add, int n_add,
                            const uint16_t *sub, int n_sub, int32_t *d) {
  const int one_pass = n_rows <= SF_CTRL_I8_MAX_ROWS; /* n_rows: the layer's inputs, a constant where inlined */
  int first = 1;
  do {
    const int na = one_pass || n_add < SF_CTRL_I8_MAX_ROWS ? n_add : SF_CTRL_I8_MAX_ROWS;
    const int ns = one_pass || n_sub < SF_CTRL_I8_MAX_ROWS - na ? n_sub : SF_CTRL_I8_MAX_ROWS - na;
    const int32_t bias = 128 * na + 127 * ns;
    if (W == 4) { /* eight lanes in registers: four loads and eight additions per row */
      uint32_t e0 = 0, o0 = 0, e1 = 0, o1 = 0, e2 = 0, o2 = 0, e3 = 0, o3 = 0;
      for (const uint16_t *r = add, *end = add + na; r < end; ++r) {
        const uint32_t *q = w + *r;
        uint32_t v0 = q[0], v1 = q[1];
        e0 = uxtab16(e0, v0), o0 = uxtab16_ror8(o0, v0);
        e1 = uxtab16(e1, v1), o1 = uxtab16_ror8(o1, v1);
        v0 = q[2], v1 = q[3];
        e2 = uxtab16(e2, v0), o2 = uxtab16_ror8(o2, v0);
        e3 = uxtab16(e3, v1), o3 = uxtab16_ror8(o3, v1);
      }
      for (const uint16_t *r = sub, *end = sub + ns; r < end; ++r) {
        const uint32_t *q = w + *r;
        uint32_t v0 = ~q[0], v1 = ~q[1];
        e0 = uxtab16(e0, v0), o0 = uxtab16_ror8(o0, v0);
        e1 = uxtab16(e1, v1), o1 = uxtab16_ror8(o1, v1);
        v0 = ~q[2], v1 = ~q[3];
        e2 = uxtab16(e2, v0), o2 = uxtab16_ror8(o2, v0);
        e3 = uxtab16(e3, v1), o3 = uxtab16_ror8(o3, v1);
      }
      lanes_out(d, 0, e0, o0, bias, first);
      lanes_out(d, 1, e1, o1, bias, first);
      lanes_out(d, 2, e2, o2, bias, first);
      lanes_out(d, 3, e3, o3, bias, first);
    } else {
      for (int c = 0; c < W; ++c) {
        uint32_t even = 0, odd = 0;
        for (int k = 0; k < na + ns; ++k) {
          const uint32_t v = k < na ? w[add[k] + c] : ~w[sub[k - na] + c];
          even = uxtab16(even, v);
          odd = uxtab16_ror8(odd, v);
        }
        lanes_out(d, c, even, odd, bias, first);
      }
    }
    add += na, n_add -= na;
    sub += ns, n_sub -= ns;
    first = 0;
  } while (!one_pass && (n_add > 0 || n_sub > 0));
}

/* ---- layer 2: spike sums kept across steps, then the neurons --------------------- */

/* Lists the rows of w2 for this step's layer-1 spikes (st->mask): the
 * changes since the last step when they are fewer than the spikes (*n_sub
 * of them to subtract, after the *n_add to add), else every spike (*n_sub
 * < 0: the sums are set, not updated). */
static void layer1_rows(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st, int *n_add, int *n_sub) {
  const int n1 = net->n_h1, mw = SF_CTRL_I8_MASK_WORDS(n1), stride = SF_CTRL_I8_WORDS(net->n_h2);
  const uint32_t *now = st->mask;
  uint32_t *last = st->spk1;
  uint16_t *rows = st->rows1;
  int on = 0, k;
  for (int j = 0; j < mw; ++j) on = list_rows(now[j] & ~last[j], 32 * j, stride, rows, on);
  k = on;
  for (int j = 0; j < mw; ++j) k = list_rows(last[j] & ~now[j], 32 * j, stride, rows, k);
  const int off = k - on, spikes = (int)last[mw] + on - off;
  if (on + off < spikes) {
    *n_add = on;
    *n_sub = off;
  } else {
    k = 0;
    for (int j = 0; j < mw; ++j) k = list_rows(now[j], 32 * j, stride, rows, k);
    *n_add = k;
    *n_sub = -1;
  }
  for (int j = 0; j < mw; ++j) last[j] = now[j];
  last[mw] = (uint32_t)spikes;
}

/* Layer 2, sixteen outputs per pass (eight lanes in registers): the
 * outputs' sums, then their neurons' updates, spikes into st->mask. */
static void layer2(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st, int n_add, int n_sub) {
  const int n2 = net->n_h2, words2 = SF_CTRL_I8_WORDS(n2);
  const uint16_t *add = st->rows1, *sub = st->rows1 + n_add;
  const int32_t *restrict p = net->lif2;
  int32_t *restrict u = st->u2, *restrict acc = st->acc2;
  uint32_t *restrict mask = st->mask;
  uint32_t m = 0;
  if (n_sub < 0) { /* set: the sums start from zero */
    memset(acc, 0, sizeof(int32_t) * 4 * (size_t)words2);
    n_sub = 0;
  }
  for (int c = 0; c < words2;) {
    const int W = words2 - c >= 4 ? 4 : (words2 - c >= 2 ? 2 : 1);
    int32_t d[16];
    if (W == 4) /* a literal 4: the inlined copy keeps its eight lanes in registers */
      row_sums(net->w2 + c, 4, net->n_h1, add, n_add, sub, n_sub, d);
    else
      row_sums(net->w2 + c, W, net->n_h1, add, n_add, sub, n_sub, d);
    const int end = 4 * (c + W) < n2 ? 4 * (c + W) : n2;
    for (int n = 4 * c; n < end; ++n) {
      const int32_t a = acc[n] + d[n - 4 * c];
      acc[n] = a;
      const int32_t *pn = p + SF_CTRL_I8_LIF_PARAMS * n;
      u[n] = lif(u[n], pn, a * (1 << SF_CTRL_I8_FRAC2) + pn[SF_CTRL_I8_BIAS], &m);
    }
    flush_mask(mask, end, n2, m); /* passes end on multiples of 16 outputs but the last */
    c += W;
  }
}

SF_CTRL_I8_API void sf_ctrl_i8_step(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st, const float *obs,
                                    float *act) {
  const int n2 = net->n_h2, n3 = net->n_out, words3 = SF_CTRL_I8_WORDS(n3);
  quantise_input(net, obs, st->qx);
  layer1(net, st);
  int n_add, n_sub;
  layer1_rows(net, st, &n_add, &n_sub);
  layer2(net, st, n_add, n_sub);

  int k2 = 0;
  for (int j = 0; j < SF_CTRL_I8_MASK_WORDS(n2); ++j) k2 = list_rows(st->mask[j], 32 * j, words3, st->rows2, k2);
  for (int c = 0; c < words3; ++c) {
    int32_t acc3[4];
    row_sums(net->w3 + c, 1, n2, st->rows2, k2, st->rows2, 0, acc3);
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
