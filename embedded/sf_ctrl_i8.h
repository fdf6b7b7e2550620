/* The int8 SNN actor: the network of sf_ctrl_f32.h in integer arithmetic.
 *
 * Number formats:
 * - observation i: float obs[i] -> q = round(obs[i] / sx[i]), clipped to
 *   [-in_max, in_max] (NaN -> 0); 1/sx[i] is in_mul[i], calibrated on
 *   recorded observations. in_max is 32767 (16-bit inputs) unless the
 *   network's sums need fewer bits (the exporter picks it).
 * - layer weights: int8 with one scale per output neuron o, sw[o] (symmetric,
 *   [-127, 127]). Layer 1's weights have the input scales folded in:
 *   fc1.weight[o][i] * sx[i] ~ w1[o][i] * sw1[o].
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
 *   that started spiking and subtracts those of the neurons that stopped
 *   (integer sums: the same result as summing every spiking row).
 * - output o: z = acc * sw3[o] + b3[o] in Q12 (z * 4096), from
 *   (acc * out_mul[o]) >> 16 with out_mul = round(sw3 * 2^28), rounded; tanh
 *   by linear interpolation in a table of tanh(k / 32), k = 0..256, Q15; the
 *   action is the Q15 value times 2^-15 (exact in float).
 * Right shifts of negative values are arithmetic (GCC and Clang on every
 * target this module is built for).
 *
 * On Arm cores with the DSP extension (Cortex-M4, M7; GCC or Clang) the
 * same integer sums are computed with the dual 16-bit multiply-accumulate
 * (SMLAD, SXTB16), dual 16-bit additions (UXTAB16) and the rounded high
 * multiply (SMMULR) for the leak; elsewhere in plain
 * C. Integer sums do not depend on the order: both give the same bits. */
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
  const uint32_t *w1;      /* [n_h1][words(n_in)]: row o, int8 w1[o][4c + b] in byte b
                              of word c (two's complement, zero past n_in); the
                              unit of the sums is sw1[o] */
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
/* Scratch for the quantised observation: n values, or on Arm cores with the
 * DSP extension two 16-bit pairs per word of w1. */
#define SF_CTRL_I8_QX_LEN(n) ((n) + 4)

/* Caller-owned buffers, sized by the network. */
typedef struct {
  int32_t *u1;      /* [n_h1] 2 U + S: membrane and, in the lowest bit, the
                       spike of the last step (one load and one store per
                       neuron; 2 U is what the leak multiplies) */
  int32_t *u2;      /* [n_h2] the same */
  int32_t *acc2;    /* [4 words(n_h2)] layer 2's spike sums, kept across steps */
  int32_t *qx;      /* [SF_CTRL_I8_QX_LEN(n_in)] scratch: quantised observation */
  uint16_t *rows1;  /* [n_h1] scratch: offsets in w2 of the rows of the
                       layer-1 neurons that spiked */
  uint16_t *flips1; /* [n_h1] scratch: the same for the neurons that started
                       spiking (from the front) and stopped (from the back) */
  uint16_t *rows2;  /* [n_h2] scratch: offsets in w3 of the spiking layer-2 rows */
} sf_ctrl_i8_state;

/* SF_CTRL_I8_API is empty (external functions) unless the exported
 * controller's sf_ctrl.c includes sf_ctrl_i8.c into its own translation
 * unit with it defined as `static`: then the compiler sees the network's
 * sizes as constants (the const network object is in the same unit) and
 * unrolls and specialises the loops for them. */
#ifndef SF_CTRL_I8_API
#define SF_CTRL_I8_API
#endif

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
