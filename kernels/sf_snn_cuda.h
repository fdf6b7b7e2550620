/* The SNN's sequence forward and backward through time on a CUDA GPU, for a
 * population of P agents: the GPU twin of sf_snn_forward / sf_snn_backward
 * (models/sf_snn.h), same network, same layouts, same parameter block.
 *
 *   - every linear layer is one cuBLAS strided-batched GEMM over the
 *     population axis (agent p's weights are block p of the parameters), over
 *     all T * B rows of the sequence at once;
 *   - every LIF layer is one fused kernel (kernels/sf_lif_cuda.h) running the
 *     CPU's per-element functions, membrane in registers along time;
 *   - small kernels do the rest (bias, tanh, warm-up mask, column sums).
 *
 * The parameters live on the device: upload them from a host sf_snn (after
 * an optimiser step on the host, or keep them on the device and let a device
 * optimiser update d_params); gradients accumulate in d_grads, laid out like
 * the host's params.grad, and can be downloaded. Inputs and outputs are
 * device arrays [P][T][B][F]. Calls are asynchronous on the object's stream
 * (its own, or one it shares with other objects: sf_cuda_snn_set_stream).
 * Forward, backward and the streaming step neither allocate nor wait, so a
 * training iteration can be captured as a CUDA graph; only the first
 * backward may allocate: run one iteration before capturing.
 *
 * Streaming (rollouts): sf_cuda_snn_step advances an sf_cuda_snn_state (the
 * membranes and spikes of N envs per agent) by one control step, the twin
 * of sf_snn_step.
 *
 * Numbers: spikes and membranes of the first layer match the CPU where no
 * membrane sits within rounding of its threshold (cuBLAS sums the inputs in
 * another order than the CPU's fixed order); gradients agree to float
 * rounding of those sums. */
#ifndef SF_SNN_CUDA_H
#define SF_SNN_CUDA_H

#include <stdint.h>

#include "models/sf_snn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_cuda_snn sf_cuda_snn;

/* A device copy of `host`'s shape for P = host->P agents and sequences of at
 * most host->max_rows rows. NULL on failure (no device, memory, cuBLAS). */
sf_cuda_snn *sf_cuda_snn_new(const sf_snn *host);
void sf_cuda_snn_free(sf_cuda_snn *g);

/* Parameters and slopes from the host network; gradients to the host's
 * params.grad (overwritten). 0 or -1. */
int sf_cuda_snn_upload(sf_cuda_snn *g, const sf_snn *host);
int sf_cuda_snn_download_grads(sf_cuda_snn *g, sf_snn *host);
void sf_cuda_snn_zero_grad(sf_cuda_snn *g);
/* Surrogate slopes of the P agents from a host array [P]. 0 or -1. */
int sf_cuda_snn_set_slopes(sf_cuda_snn *g, const float *slopes);

/* Run this object's work on `stream` (a cudaStream_t) from now on; NULL
 * returns it to its own stream. The caller keeps ownership of the stream. */
void sf_cuda_snn_set_stream(sf_cuda_snn *g, void *stream);

/* The parameter and gradient blocks [P][n] on the device, and n. */
float *sf_cuda_snn_params(sf_cuda_snn *g);
float *sf_cuda_snn_grads(sf_cuda_snn *g);
long sf_cuda_snn_nparams(const sf_cuda_snn *g);
/* Parameters [P][n] from the device to a host array; waits. 0 or -1. */
int sf_cuda_snn_download_params(sf_cuda_snn *g, float *host_params);

/* d_x [P][T][B][in] -> d_y [P][T][B][out], keeping what backward needs.
 * -1 when T * B exceeds max_rows or a launch failed. */
int sf_cuda_snn_forward(sf_cuda_snn *g, int T, int B, const float *d_x, float *d_y);
/* Backward through the stored sequence: d_dy is dL/dy (ignored on the first
 * `warmup` steps); gradients are added to the device gradients; d_dx (NULL:
 * not wanted) receives dL/dx. -1 when no forward is stored. */
int sf_cuda_snn_backward(sf_cuda_snn *g, int warmup, const float *d_dy, float *d_dx);

/* Layer l's membranes and spikes of the stored forward, [P][T][B][N], to
 * host arrays (for tests). 0 or -1. */
int sf_cuda_snn_download_layer(sf_cuda_snn *g, int l, float *u, float *s);

/* Streaming state: membranes and spikes [P][N][hidden[l]] per layer, on the
 * device. */
typedef struct sf_cuda_snn_state sf_cuda_snn_state;
/* In the start state (as sf_snn_state_new); NULL on failure. */
sf_cuda_snn_state *sf_cuda_snn_state_new(sf_cuda_snn *g, int N);
void sf_cuda_snn_state_free(sf_cuda_snn_state *st);
/* Put the envs whose device mask [P][N] is non-zero in the start state
 * (episode starts), as sf_snn_state_reset: U = 0, S = SF_LIF_S_START, read by
 * the next step as H(-theta). NULL mask: all. Asynchronous. */
void sf_cuda_snn_state_reset(sf_cuda_snn *g, sf_cuda_snn_state *st, const uint8_t *d_mask);
/* Copy the state to / from a host sf_snn_state of the same shape
 * (checkpoints, tests); waits. 0 or -1. */
int sf_cuda_snn_state_download(sf_cuda_snn *g, const sf_cuda_snn_state *st, sf_snn_state *host);
int sf_cuda_snn_state_upload(sf_cuda_snn *g, sf_cuda_snn_state *st, const sf_snn_state *host);
/* One control step: d_x [P][N][in] -> d_y [P][N][out], state advanced;
 * asynchronous. 0 or -1. */
int sf_cuda_snn_step(sf_cuda_snn *g, sf_cuda_snn_state *st, const float *d_x, float *d_y);

/* Wait for the work queued so far; 0, or -1 with the first error's text. */
int sf_cuda_snn_sync(sf_cuda_snn *g, char *why, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
