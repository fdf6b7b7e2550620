/* Adam for a population on a CUDA GPU: the device twin of models/sf_adam.h,
 * running its per-element sf_adam_element. The step counts and the bias
 * corrections live on the device too, so an update is two kernel launches
 * with no host round trip (it can be captured in a CUDA graph); the
 * learning rates [P] are a device array the caller may change between
 * updates (an agent with lr 0 is skipped, its moments and step frozen, as on
 * the CPU). */
#ifndef SF_ADAM_CUDA_H
#define SF_ADAM_CUDA_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_cuda_adam sf_cuda_adam;

/* P agents of n parameters, PyTorch's hyperparameters (see sf_adam_new).
 * NULL on failure. */
sf_cuda_adam *sf_cuda_adam_new(int P, long n, float beta1, float beta2, float eps);
void sf_cuda_adam_free(sf_cuda_adam *a);

/* One update of every agent: d_params and d_grads [P][n], d_lr [P], all
 * device arrays; asynchronous on `stream` (a cudaStream_t). 0 or -1. */
int sf_cuda_adam_step(sf_cuda_adam *a, float *d_params, const float *d_grads, const float *d_lr, void *stream);

/* Moments [P][n] and step counts [P] to host arrays (checkpoints, tests);
 * any pointer may be NULL. Synchronous. 0 or -1. */
int sf_cuda_adam_download(const sf_cuda_adam *a, float *m, float *v, long *step);
/* Moments [P][n] and step counts [P] from host arrays (resuming a run); the
 * inverse of sf_cuda_adam_download. Synchronous. 0 or -1. */
int sf_cuda_adam_upload(sf_cuda_adam *a, const float *m, const float *v, const long *step);

#ifdef __cplusplus
}
#endif
#endif
