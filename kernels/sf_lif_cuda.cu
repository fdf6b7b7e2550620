// Fused LIF forward and backward over a sequence: one thread per (agent,
// batch row, neuron), the time loop inside the thread. Threads of a warp take
// consecutive neurons of one row, so every load and store of a step is one
// coalesced transaction per warp.
#include "kernels/sf_lif_cuda.h"

#include <cuda_runtime.h>

#include "models/sf_lif_math.h"

namespace {

constexpr int kThreads = 256;

unsigned blocks(long n) { return (unsigned)((n + kThreads - 1) / kThreads); }

__global__ void k_lif_forward(int mode, int P, int T, int B, int N, long agent_stride, const float *slope,
                              const float *beta_c, long beta_stride, const float *theta, long theta_stride, float *u,
                              float *s) {
  const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * B * N) return;
  const int n = (int)(i % N), b = (int)(i / N % B), p = (int)(i / ((long)N * B));
  const float bc = beta_c[p * beta_stride + n], th = theta[p * theta_stride + n], k = slope[p];
  const long BN = (long)B * N;
  float *up = u + p * agent_stride + (long)b * N + n, *sp = s + p * agent_stride + (long)b * N + n;
  float um = 0.0f, sm = sf_lif_start_spike(th);  // the start state: U = 0, S = H(-theta)
  for (int t = 0; t < T; ++t) {
    float un, sn;
    sf_lif_forward(mode, bc, th, k, um, sm, up[t * BN], &un, &sn);
    up[t * BN] = un;
    sp[t * BN] = sn;
    um = un;
    sm = sn;
  }
}

// Per-row partial sums go to work[p][b][3][N]; the reduction over b follows.
__global__ void k_lif_backward(int mode, int detach_reset, int P, int T, int B, int N, long agent_stride,
                               const float *slope, const float *beta_c, long beta_stride, const float *theta,
                               long theta_stride, float *u, const float *s, const float *gs, float *work) {
  const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * B * N) return;
  const int n = (int)(i % N), b = (int)(i / N % B), p = (int)(i / ((long)N * B));
  const float bc = beta_c[p * beta_stride + n], th = theta[p * theta_stride + n], k = slope[p];
  const long BN = (long)B * N, off = p * agent_stride + (long)b * N + n;
  float *up = u + off;
  const float *sp = s + off, *gp = gs + off;
  float gbeta = 0.0f, gtheta = 0.0f, gcur = 0.0f, gu_next = 0.0f;  // nothing after the last step
  float u_t = T > 0 ? up[(long)(T - 1) * BN] : 0.0f;
  const float s_start = sf_lif_start_spike(th);
  for (int t = T - 1; t >= 0; --t) {
    const float u_prev = t ? up[(t - 1) * BN] : 0.0f, s_prev = t ? sp[(t - 1) * BN] : s_start;
    const float g = sf_lif_backward(mode, detach_reset, bc, th, k, u_t, u_prev, s_prev, gp[t * BN], gu_next,
                                    &gbeta, &gtheta);
    up[t * BN] = g;
    gcur += g;
    gu_next = g;
    u_t = u_prev;
  }
  float *w = work + ((long)p * B + b) * 3 * N + n;
  w[0] = gbeta;
  w[N] = gtheta;
  w[2 * N] = gcur;
}

// acc[p][j][n] = sum over b ascending of work[p][b][j][n]: a fixed order.
__global__ void k_sum_rows(int P, int B, int N, const float *work, float *acc) {
  const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * 3 * N) return;
  const int jn = (int)(i % (3L * N)), p = (int)(i / (3L * N));
  const float *w = work + (long)p * B * 3 * N + jn;
  float a = 0.0f;
  for (int b = 0; b < B; ++b) a += w[(long)b * 3 * N];
  acc[i] = a;
}

}  // namespace

extern "C" int sf_cuda_lif_forward_seq(int mode, int P, int T, int B, int N, long agent_stride, const float *d_slope,
                                       const float *d_beta_c, long beta_stride, const float *d_theta,
                                       long theta_stride, float *d_u, float *d_s, void *stream) {
  const long n = (long)P * B * N;
  if (n <= 0 || T < 1) return n == 0 ? 0 : -1;
  k_lif_forward<<<blocks(n), kThreads, 0, (cudaStream_t)stream>>>(mode, P, T, B, N, agent_stride, d_slope, d_beta_c,
                                                                  beta_stride, d_theta, theta_stride, d_u, d_s);
  return cudaPeekAtLastError() == cudaSuccess ? 0 : -1;
}

extern "C" int sf_cuda_lif_backward_seq(int mode, int detach_reset, int P, int T, int B, int N, long agent_stride,
                                        const float *d_slope, const float *d_beta_c, long beta_stride,
                                        const float *d_theta, long theta_stride, float *d_u, const float *d_s,
                                        const float *d_gs, float *d_work, float *d_acc, void *stream) {
  const long n = (long)P * B * N;
  if (n <= 0 || T < 1) return n == 0 ? 0 : -1;
  cudaStream_t st = (cudaStream_t)stream;
  k_lif_backward<<<blocks(n), kThreads, 0, st>>>(mode, detach_reset, P, T, B, N, agent_stride, d_slope, d_beta_c,
                                                 beta_stride, d_theta, theta_stride, d_u, d_s, d_gs, d_work);
  k_sum_rows<<<blocks((long)P * 3 * N), kThreads, 0, st>>>(P, B, N, d_work, d_acc);
  return cudaPeekAtLastError() == cudaSuccess ? 0 : -1;
}
