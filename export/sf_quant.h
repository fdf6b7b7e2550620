/* Quantisation of an SNN actor to the int8 format of embedded/sf_ctrl_i8.h.
 *
 * Weights: symmetric int8 per output channel (row), the scale chosen among
 * 60 candidates (max|w| / 127 times 0.95^k, k = 0..59) to minimise the
 * squared rounding-and-clipping error of the row. Observations: 16-bit, one
 * scale per input feature, folded into fc1's columns before fc1 is
 * quantised and chosen for that: feature i's scale is K / c_i (c_i the RMS
 * of fc1's column i), so that every column of fc1 has the same size and no
 * wide-ranged feature takes a row's int8 range from the others; K is the
 * least factor with which every feature's range over recorded observations
 * (the calibration set), with a margin of 2, fits the 16 bits. Membrane,
 * bias and threshold of each neuron are int32 in the unit of its weighted
 * sums, beta is Q31 (sf_ctrl_i8.h has every format). */
#ifndef SF_QUANT_H
#define SF_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "embedded/sf_ctrl_i8.h"
#include "export/sf_snn_net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int n_in, n_h1, n_h2, n_out;
  int words2, words3;        /* packed words per row of w2 / w3 */
  int32_t in_max;            /* observations quantised to [-in_max, in_max] */
  float *in_scale, *in_mul;  /* [n_in]: sx and 1/sx */
  int8_t *w1;                /* [n_h1][n_in], plain layout (reference, metrics) */
  uint32_t *w1p;             /* [SF_CTRL_I8_W1_LEN], packed (the module's layout) */
  float *sw1;                /* [n_h1] */
  int32_t *bias1, *thr1, *beta1;
  int8_t *w2;                /* [n_h2][n_h1], plain layout (reference, metrics) */
  float *sw2;                /* [n_h2] */
  uint32_t *w2p;             /* [n_h1][words2], packed (the module's layout) */
  int32_t *bias2, *thr2, *beta2;
  int8_t *w3;                /* [n_out][n_h2] */
  float *sw3;                /* [n_out] */
  uint32_t *w3p;             /* [n_h2][words3] */
  int32_t *lif1p, *lif2p;    /* [n][3]: bias, thr, beta interleaved (the module's layout) */
  int32_t *out_mul, *out_bias;
  int16_t tanh_q15[SF_CTRL_I8_TANH_N + 1];
} sf_quant_net;

/* Scale s of the symmetric quantisation of x[0..n) (stride `stride`) to
 * [-lim, lim] minimising sum (x - s q)^2, q = clamp(round(x / s), -lim,
 * lim); 0 when every x is 0. */
float sf_quant_best_scale(const float *x, size_t n, size_t stride, int32_t lim);

/* Quantises `net` with input scales calibrated on calib[n_calib][n_in].
 * Returns 0, or -1 with a message in err when a value does not fit its
 * format (the message names the layer, the neuron and the bound). */
int sf_quantise(const sf_snn_net *net, const float *calib, size_t n_calib, sf_quant_net *q, char *err,
                size_t errlen);
void sf_quant_free(sf_quant_net *q);

/* The module's view of q (pointers into q). */
void sf_quant_view(const sf_quant_net *q, sf_ctrl_i8_net *view);

/* Integer reference forward: the arithmetic of sf_ctrl_i8.c written as a
 * dense, unpacked computation (products with 0/1 spikes, one neuron at a
 * time), to check the module's packed spike sums against. */
typedef struct {
  int32_t *u1, *u2;
  uint8_t *s1, *s2;
} sf_quant_ref_state;

int sf_quant_ref_alloc(sf_quant_ref_state *st, const sf_quant_net *q);
void sf_quant_ref_free(sf_quant_ref_state *st);
void sf_quant_ref_reset(sf_quant_ref_state *st, const sf_quant_net *q);
void sf_quant_ref_step(const sf_quant_net *q, sf_quant_ref_state *st, const float *obs, float *act);

#ifdef __cplusplus
}
#endif
#endif
