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
 * device arrays [P][T][B][F]. Calls are asynchronous on the object's stream.
 *
 * Numbers: spikes and membranes of the first layer match the CPU where no
 * membrane sits within rounding of its threshold (cuBLAS sums the inputs in
 * another order than the CPU's fixed order); gradients agree to float
 * rounding of those sums. */
#ifndef SF_SNN_CUDA_H
#define SF_SNN_CUDA_H

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

/* Wait for the work queued so far; 0, or -1 with the first error's text. */
int sf_cuda_snn_sync(sf_cuda_snn *g, char *why, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
