/* Per-element arithmetic of the networks in float32: the LIF neuron's
 * forward step and its backpropagation-through-time step, the spike function
 * and its fast-sigmoid surrogate, activations. Host+device (SF_HD): the CPU
 * loops of sf_cpu_kernels.c and the CUDA kernels call these same functions.
 * Names: sf_lif_forward, sf_lif_backward, sf_lif_start_spike,
 * sf_lif_state_spike, sf_spike, sf_spike_grad,
 * sf_beta_clamp(_grad), sf_relu(_grad_out), sf_tanh(_grad_out); see
 * sf_lif_math.inc for what each computes. */
#ifndef SF_LIF_MATH_H
#define SF_LIF_MATH_H

#include <math.h>

#include "core/sf_defs.h"

/* What the spike nonlinearity is: the real step with the fast-sigmoid
 * surrogate in backward, or a smooth sigmoid with its exact derivative (for
 * gradient checks). */
typedef enum { SF_SPIKE_HEAVISIDE = 0, SF_SPIKE_SIGMOID = 1 } sf_spike_mode;

/* The spike slot of a streaming state just reset: "S_{-1}, from the theta of
 * the next step" (see sf_lif_state_spike). */
#define SF_LIF_S_START (-1.0f)

#define SF_LM_T float
#define SF_LM_FN(n) n
#define SF_LM_EXP expf
#define SF_LM_ABS fabsf
#define SF_LM_TANH tanhf
#include "models/sf_lif_math.inc"
#undef SF_LM_T
#undef SF_LM_FN
#undef SF_LM_EXP
#undef SF_LM_ABS
#undef SF_LM_TANH

#endif
