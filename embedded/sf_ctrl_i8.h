/* The int8 SNN actor: the network of sf_ctrl_f32.h in integer arithmetic.
 *
 * Number formats:
 * - observation i: float obs[i] -> q = round(obs[i] / sx[i]), clipped to
 *   [-in_max, in_max] (NaN -> 0); 1/sx[i] is in_mul[i], chosen by the
 *   exporter from fc1's columns and recorded observations. in_max is 32767 (16-bit inputs) unless the
 *   network's sums need fewer bits (the exporter picks it).
 * - layer weights: int8 with one scale per output neuron o, sw[o] (symmetric,
 *   [-127, 127]). Layer 1's weights have the input scales folded in:
 *   fc1.weight[o][i] * sx[i] ~ w1[o][i] * sw1[o]. They are stored for four
 *   neurons at a time: word (g W + c) 4 + b (W words per row) holds neuron
 *   4g + b's weights of input slots 4c .. 4c + 3, one byte each; the last
 *   group is padded with zero weights. Input i sits in slot i, except that
 *   when the last word holds at most two inputs they sit in its bytes 0 and
 *   2 (slots 4c and 4c + 2): the Arm path reads bytes 0 and 2 with one
 *   SXTB16 and bytes 1 and 3 with another, so a last word of two inputs
 *   costs one multiply-accumulate instead of two.
 * - neuron o's membrane, bias and threshold are int32 in units of
 *   sw[o] / 2^F: U = u * sw[o] / 2^F, with F = 0 in layer 1 (its sums of
 *   int8 x int16 products are fine-grained already) and F =
 *   SF_CTRL_I8_FRAC2 = 8 in layer 2 (sums of int8 weights). A neuron's
 *   spikes do not change when U, I and theta are scaled together, so each
 *   neuron keeps its own unit and no rescaling multiply is needed: the input
 *   current is acc * 2^F + bias with acc the integer weighted sum. The
 *   membrane saturates at +-2^30.
 * - beta: Q31 (2^31 - 1 stands for 1.0, exact for |u| < 2^30); the leak
 *   beta * u is rounded to nearest.
 * - layers 2 and 3 see spikes: the current is the sum of the weight rows of
 *   the inputs that spiked, additions only. Rows are stored as bytes w + 128,
 *   four outputs per 32-bit word (output 4c + b in byte b of word c), and
 *   added two outputs per 32-bit addition (16-bit lanes; at most 256 rows per
 *   pass so no lane carries into the next); the bias 128 per row is removed
 *   once per sum. Layer 2 keeps its sums across steps and, when fewer
 *   layer-1 neurons changed state than spiked, adds the rows of the neurons
 *   that started spiking and the complements (bytes 127 - w) of the rows of
 *   those that stopped, in the same lanes (integer sums: the same result as
 *   summing every spiking row). The spikes of a layer are gathered as bit
 *   masks while its neurons update, and the rows to add are listed from the
 *   masks' set bits, so the per-neuron update has no branch.
 * - output o: z = acc * sw3[o] + b3[o] in Q12 (z * 4096), from
 *   (acc * out_mul[o]) >> 16 with out_mul = round(sw3 * 2^28), rounded; tanh
 *   by linear interpolation in a table of tanh(k / 32), k = 0..256, Q15; the
 *   action is the Q15 value times 2^-15 (exact in float).
 * Right shifts of negative values are arithmetic (GCC and Clang on every
 * target this module is built for).
 *
 * The step is written in terms of a few Arm DSP instructions (SMLAD, SXTB16,
 * UXTAB16, SMMULR, SSAT): on cores with the DSP extension (Cortex-M4, M7;
 * GCC or Clang) they are those instructions, elsewhere C functions with the
 * same integer results, so every build computes the same bits. */
#ifndef SF_CTRL_I8_H
#define SF_CTRL_I8_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SF_CTRL_I8_FRAC2 8
#define SF_CTRL_I8_UMAX ((1 << 30) - 1) /* membrane bounds: 2u fits in int32 */
#define SF_CTRL_I8_UMIN (-(1 << 30))
#define SF_CTRL_I8_ZFRAC 12
#define SF_CTRL_I8_OUT_SHIFT 16
#define SF_CTRL_I8_TANH_N 256       /* table entries - 1: z in [0, 8] */
#define SF_CTRL_I8_TANH_STEP_BITS 7 /* Q12 z >> 7 = table index (step 1/32) */
#define SF_CTRL_I8_MAX_ROWS 256     /* rows added per pass of 16-bit lanes */

/* A LIF layer's parameters, three int32 per neuron, interleaved so that one
 * neuron's are loaded together: [n][SF_CTRL_I8_BIAS..SF_CTRL_I8_BETA]. */
enum {
  SF_CTRL_I8_BIAS = 0, /* round(b / sw * 2^F) */
  SF_CTRL_I8_THR = 1,  /* round(theta / sw * 2^F) */
  SF_CTRL_I8_BETA = 2, /* min(round(beta * 2^31), 2^31 - 1), beta clamped to [0, 1] */
  SF_CTRL_I8_LIF_PARAMS = 3
};

typedef struct {
  int n_in, n_h1, n_h2, n_out;
  int32_t in_max;          /* quantised observations lie in [-in_max, in_max] */
  const float *in_mul;     /* [n_in] 1 / sx */
  const uint32_t *w1;      /* [SF_CTRL_I8_W1_LEN]: int8 (two's complement) in groups
                              of four neurons, see above; the unit of neuron o's
                              sums is sw1[o] */
  const int32_t *lif1;     /* [n_h1][SF_CTRL_I8_LIF_PARAMS] */
  const uint32_t *w2;      /* [n_h1][words(n_h2)] packed rows, see above */
  const int32_t *lif2;     /* [n_h2][SF_CTRL_I8_LIF_PARAMS] */
  const uint32_t *w3;      /* [n_h2][words(n_out)] */
  const int32_t *out_mul;  /* [n_out] */
  const int32_t *out_bias; /* [n_out] round(b3 * 2^12) */
  const int16_t *tanh_q15; /* [SF_CTRL_I8_TANH_N + 1] */
} sf_ctrl_i8_net;

/* Words per packed row of n values. */
#define SF_CTRL_I8_WORDS(n) (((n) + 3) / 4)
/* Words of w1 for n_in inputs and n_h1 neurons (groups of four neurons). */
#define SF_CTRL_I8_W1_LEN(n_in, n_h1) (4 * (((n_h1) + 3) / 4) * SF_CTRL_I8_WORDS(n_in))
/* Whether the last word of a layer-1 row holds inputs in bytes 1 and 3 too
 * (more than two inputs in it), and the byte slot (4c + b: byte b of word c)
 * of input i of n_in: i, or in a last word of at most two inputs, bytes 0
 * and 2 (the slots are described above). */
#define SF_CTRL_I8_LAST_ODD(n_in) ((n_in) - SF_CTRL_I8_LAST_WORD(n_in) > 2)
#define SF_CTRL_I8_LAST_WORD(n_in) (4 * (SF_CTRL_I8_WORDS(n_in) - 1)) /* the last word's first slot */
#define SF_CTRL_I8_SLOT(n_in, i)                                                                             \
  (SF_CTRL_I8_LAST_ODD(n_in) || (i) < SF_CTRL_I8_LAST_WORD(n_in) ? (i) : 2 * (i) - SF_CTRL_I8_LAST_WORD(n_in))
/* Words of a bit mask of n neurons. */
#define SF_CTRL_I8_MASK_WORDS(n) (((n) + 31) / 32)

/* The state and scratch of one controller, pointers into one caller-owned
 * buffer of SF_CTRL_I8_STATE_WORDS(n_in, n_h1, n_h2) 32-bit words, set by
 * sf_ctrl_i8_bind (no allocation in the module). */
typedef struct {
  int32_t *u1;     /* [n_h1] 2 U + S: membrane and, in the lowest bit, the
                      spike of the last step (one load and one store per
                      neuron; 2 U is what the leak multiplies); the reset
                      writes U = 0, S = (theta < 0) */
  int32_t *u2;     /* [n_h2] the same */
  int32_t *acc2;   /* [4 words(n_h2)] layer 2's spike sums, kept across steps */
  uint32_t *spk1;  /* [mask words(n_h1) + 1] layer 1's spikes of the last step
                      (neuron 32 j + i in bit 31 - i of word j), then their count */
  int32_t *qx;     /* [4 words(n_in)] scratch: the quantised observation */
  uint32_t *mask;  /* [mask words(max(n_h1, n_h2))] scratch: this step's spikes */
  uint16_t *rows1; /* [n_h1] scratch: offsets in w2 of the rows to add */
  uint16_t *rows2; /* [n_h2] scratch: offsets in w3 of the spiking layer-2 rows */
} sf_ctrl_i8_state;

#define SF_CTRL_I8_MAX2(a, b) ((a) > (b) ? (a) : (b))
#define SF_CTRL_I8_STATE_WORDS(n_in, n_h1, n_h2)                                                           \
  ((n_h1) + (n_h2) + 4 * SF_CTRL_I8_WORDS(n_h2) + SF_CTRL_I8_MASK_WORDS(n_h1) + 1 +                        \
   4 * SF_CTRL_I8_WORDS(n_in) + SF_CTRL_I8_MASK_WORDS(SF_CTRL_I8_MAX2(n_h1, n_h2)) + ((n_h1) + 1) / 2 +    \
   ((n_h2) + 1) / 2)

/* SF_CTRL_I8_API is empty (external functions) unless the exported
 * controller's sf_ctrl.c includes sf_ctrl_i8.c into its own translation
 * unit with it defined as `static`: then the compiler sees the network's
 * sizes as constants (the const network object is in the same unit) and
 * unrolls and specialises the loops for them. */
#ifndef SF_CTRL_I8_API
#define SF_CTRL_I8_API
#endif

/* Points st into buf[SF_CTRL_I8_STATE_WORDS(...)] for this network. */
SF_CTRL_I8_API void sf_ctrl_i8_bind(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st, uint32_t *buf);
SF_CTRL_I8_API void sf_ctrl_i8_reset(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st);
SF_CTRL_I8_API void sf_ctrl_i8_step(const sf_ctrl_i8_net *net, sf_ctrl_i8_state *st, const float *obs,
                                    float *act);

/* Quantises one observation value (shared with the exporter's reference). */
SF_CTRL_I8_API int32_t sf_ctrl_i8_quant_input(float x, float mul, int32_t in_max);
/* tanh of a Q12 value from the table, as a float in [-1, 1]. */
SF_CTRL_I8_API float sf_ctrl_i8_tanh(int32_t z_q12, const int16_t *tanh_q15);

#ifdef __cplusplus
}
#endif
#endif
