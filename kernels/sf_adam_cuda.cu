// Adam on the GPU: one thread per agent updates its step count and bias
// corrections (in double, as the CPU), then one thread per parameter runs
// sf_adam_element, the function the CPU loop runs.
#include "kernels/sf_adam_cuda.h"

#include <cuda_runtime.h>
#include <stdlib.h>

#include "models/sf_adam.h"

struct sf_cuda_adam {
  int P;
  long n;
  float beta1, beta2, eps;
  float *m, *v;   // [P][n]
  long *step;     // [P]
  float *coef;    // [P][2]: step size, sqrt(1 - b2^t); step size 0 skips the agent
};

namespace {

constexpr int kThreads = 256;

__global__ void k_adam_coef(int P, const float *lr, float b1, float b2, long *step, float *coef) {
  int p = blockIdx.x * blockDim.x + threadIdx.x;
  if (p >= P) return;
  if (lr[p] == 0.0f) {
    coef[2 * p] = 0.0f;
    return;
  }
  long t = ++step[p];
  coef[2 * p] = (float)(lr[p] / (1.0 - pow((double)b1, (double)t)));
  coef[2 * p + 1] = (float)sqrt(1.0 - pow((double)b2, (double)t));
}

__global__ void k_adam(int P, long n, float *params, const float *grads, float *m, float *v, float b1, float b2,
                       float eps, const float *coef) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * n) return;
  const int p = (int)(i / n);
  const float step_size = coef[2 * p];
  if (step_size == 0.0f) return;
  sf_adam_element(&params[i], grads[i], &m[i], &v[i], b1, b2, eps, step_size, coef[2 * p + 1]);
}

}  // namespace

extern "C" void sf_cuda_adam_free(sf_cuda_adam *a) {
  if (!a) return;
  cudaFree(a->m);
  cudaFree(a->v);
  cudaFree(a->step);
  cudaFree(a->coef);
  free(a);
}

extern "C" sf_cuda_adam *sf_cuda_adam_new(int P, long n, float beta1, float beta2, float eps) {
  if (P < 1 || n < 1) return NULL;
  sf_cuda_adam *a = (sf_cuda_adam *)calloc(1, sizeof *a);
  if (!a) return NULL;
  a->P = P;
  a->n = n;
  a->beta1 = beta1;
  a->beta2 = beta2;
  a->eps = eps;
  const size_t pn = (size_t)P * n;
  bool ok = cudaMalloc(&a->m, sizeof(float) * pn) == cudaSuccess &&
            cudaMalloc(&a->v, sizeof(float) * pn) == cudaSuccess &&
            cudaMalloc(&a->step, sizeof(long) * P) == cudaSuccess &&
            cudaMalloc(&a->coef, sizeof(float) * 2 * P) == cudaSuccess &&
            cudaMemset(a->m, 0, sizeof(float) * pn) == cudaSuccess &&
            cudaMemset(a->v, 0, sizeof(float) * pn) == cudaSuccess &&
            cudaMemset(a->step, 0, sizeof(long) * P) == cudaSuccess;
  if (!ok) {
    sf_cuda_adam_free(a);
    return NULL;
  }
  return a;
}

extern "C" int sf_cuda_adam_step(sf_cuda_adam *a, float *d_params, const float *d_grads, const float *d_lr,
                                 void *stream) {
  cudaStream_t st = (cudaStream_t)stream;
  k_adam_coef<<<(a->P + 63) / 64, 64, 0, st>>>(a->P, d_lr, a->beta1, a->beta2, a->step, a->coef);
  const long total = (long)a->P * a->n;
  k_adam<<<(unsigned)((total + kThreads - 1) / kThreads), kThreads, 0, st>>>(a->P, a->n, d_params, d_grads, a->m,
                                                                             a->v, a->beta1, a->beta2, a->eps, a->coef);
  return cudaPeekAtLastError() == cudaSuccess ? 0 : -1;
}

extern "C" int sf_cuda_adam_download(const sf_cuda_adam *a, float *m, float *v, long *step) {
  const size_t pn = (size_t)a->P * a->n;
  bool ok = cudaDeviceSynchronize() == cudaSuccess;
  ok = ok && (!m || cudaMemcpy(m, a->m, sizeof(float) * pn, cudaMemcpyDeviceToHost) == cudaSuccess);
  ok = ok && (!v || cudaMemcpy(v, a->v, sizeof(float) * pn, cudaMemcpyDeviceToHost) == cudaSuccess);
  ok = ok && (!step || cudaMemcpy(step, a->step, sizeof(long) * a->P, cudaMemcpyDeviceToHost) == cudaSuccess);
  return ok ? 0 : -1;
}

extern "C" int sf_cuda_adam_upload(sf_cuda_adam *a, const float *m, const float *v, const long *step) {
  const size_t pn = (size_t)a->P * a->n;
  // Updates queued on any stream read the moments: let them finish first.
  bool ok = cudaDeviceSynchronize() == cudaSuccess;
  ok = ok && cudaMemcpy(a->m, m, sizeof(float) * pn, cudaMemcpyHostToDevice) == cudaSuccess;
  ok = ok && cudaMemcpy(a->v, v, sizeof(float) * pn, cudaMemcpyHostToDevice) == cudaSuccess;
  ok = ok && cudaMemcpy(a->step, step, sizeof(long) * a->P, cudaMemcpyHostToDevice) == cudaSuccess;
  // A copy from pageable memory may still be in flight: done before a step on
  // a stream that does not wait for the default one.
  return ok && cudaDeviceSynchronize() == cudaSuccess ? 0 : -1;
}
