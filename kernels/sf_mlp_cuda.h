/* The MLP (critics, guide) forward and backward on a CUDA GPU for a
 * population of P agents: the device twin of models/sf_mlp.h, same layouts
 * and parameter block. Linear layers are cuBLAS strided-batched GEMMs over
 * the agents (kernels/sf_linear_cuda.cuh); ReLU, tanh, the two-part input
 * and the activation gradients are small kernels running the CPU's
 * per-element functions (models/sf_lif_math.h).
 *
 * Inputs and outputs are device arrays [P][rows][F]; calls are asynchronous
 * on the object's stream (its own, or one shared with other objects:
 * sf_cuda_mlp_set_stream); forward and backward neither allocate nor wait,
 * so they can be captured in a CUDA graph. The parameters live in
 * sf_cuda_mlp_params (upload them from the host network, or update them in
 * place with a device optimiser); gradients accumulate in
 * sf_cuda_mlp_grads. */
#ifndef SF_MLP_CUDA_H
#define SF_MLP_CUDA_H

#include "models/sf_mlp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_cuda_mlp sf_cuda_mlp;

/* A device network of host's shape, P and max_rows. NULL on failure. */
sf_cuda_mlp *sf_cuda_mlp_new(const sf_mlp *host);
void sf_cuda_mlp_free(sf_cuda_mlp *g);
int sf_cuda_mlp_upload(sf_cuda_mlp *g, const sf_mlp *host);
int sf_cuda_mlp_download_grads(sf_cuda_mlp *g, sf_mlp *host);
void sf_cuda_mlp_zero_grad(sf_cuda_mlp *g);
float *sf_cuda_mlp_params(sf_cuda_mlp *g); /* [P][n] on the device */
float *sf_cuda_mlp_grads(sf_cuda_mlp *g);
long sf_cuda_mlp_nparams(const sf_cuda_mlp *g); /* n */
/* Parameters [P][n] from the device to a host array; waits. 0 or -1. */
int sf_cuda_mlp_download_params(sf_cuda_mlp *g, float *host_params);
/* Run this object's work on `stream` (a cudaStream_t) from now on; NULL
 * returns it to its own stream. The caller keeps ownership of the stream. */
void sf_cuda_mlp_set_stream(sf_cuda_mlp *g, void *stream);

/* As sf_mlp_forward / sf_mlp_backward, on device arrays. 0 or -1. */
int sf_cuda_mlp_forward(sf_cuda_mlp *g, long rows, const float *d_x1, int n1, const float *d_x2, float *d_y);
int sf_cuda_mlp_backward(sf_cuda_mlp *g, const float *d_dy, int param_grads, float *d_dx1, float *d_dx2);

/* Wait for the queued work; 0, or -1 with the first error's text. */
int sf_cuda_mlp_sync(sf_cuda_mlp *g, char *why, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
