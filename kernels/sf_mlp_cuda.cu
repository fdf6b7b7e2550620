// The MLP on the GPU; see kernels/sf_mlp_cuda.h. Mirrors models/sf_mlp.c
// step for step, with the GEMMs of kernels/sf_linear_cuda.cuh.
#include "kernels/sf_mlp_cuda.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdio.h>
#include <stdlib.h>

#include "kernels/sf_linear_cuda.cuh"
#include "models/sf_lif_math.h"

struct sf_cuda_mlp {
  sf_mlp_config cfg;
  int P, L;  // L: hidden layers (the readout is layer L)
  long R;
  long off_w[SF_MLP_MAX_HIDDEN + 1], off_b[SF_MLP_MAX_HIDDEN + 1];
  int W;  // widest layer
  float *x;
  float *act[SF_MLP_MAX_HIDDEN + 1];
  float *g[2];
  long rows;
  int n1;
  sf_cuda_net_ctx lin;  // stream, cuBLAS, parameters and gradients, errors
};

namespace {

int width_in(const sf_mlp_config *c, int l) { return l ? c->hidden[l - 1] : c->in; }
int width_out(const sf_mlp_config *c, int l) { return l < c->nhidden ? c->hidden[l] : c->out; }

using linear_detail::blocks;
using linear_detail::kThreads;

// x[p][r] = [x1[p][r] | x2[p][r]] in the [P][R][in] buffer.
__global__ void k_concat(int P, long rows, int n1, int n2, const float *x1, const float *x2, float *x, long R) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  const int in = n1 + n2;
  if (i >= (long)P * rows * in) return;
  long pr = i / in;
  int j = (int)(i % in);
  long p = pr / rows, r = pr % rows;
  x[(p * R + r) * in + j] = j < n1 ? x1[pr * n1 + j] : x2[pr * n2 + j - n1];
}

// kind 1: ReLU, 2: tanh, in place over rows x N per agent.
__global__ void k_activate(int P, long count, int kind, float *a, long stride) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * count) return;
  float *v = a + (i / count) * stride + i % count;
  *v = kind == 1 ? sf_relu(*v) : sf_tanh(*v);
}

// g = dy (through the output's tanh when there is one).
__global__ void k_out_grad(int P, long count, int tanh_out, const float *dy, const float *a, float *g, long stride) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * count) return;
  long o = (i / count) * stride + i % count;
  g[o] = tanh_out ? dy[i] * sf_tanh_grad_out(a[o]) : dy[i];
}

// g *= ReLU'(a), through the ReLU of a hidden layer.
__global__ void k_relu_grad(int P, long count, const float *a, float *g, long stride) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * count) return;
  long o = (i / count) * stride + i % count;
  g[o] *= sf_relu_grad_out(a[o]);
}

}  // namespace

extern "C" void sf_cuda_mlp_free(sf_cuda_mlp *g) {
  if (!g) return;
  cudaFree(g->x);
  for (int l = 0; l <= g->L; ++l) cudaFree(g->act[l]);
  cudaFree(g->g[0]);
  cudaFree(g->g[1]);
  sf_cuda_net_close(&g->lin);
  free(g);
}

extern "C" sf_cuda_mlp *sf_cuda_mlp_new(const sf_mlp *host) {
  sf_cuda_mlp *g = (sf_cuda_mlp *)calloc(1, sizeof *g);
  if (!g) return NULL;
  const sf_mlp_config *c = &host->cfg;
  g->cfg = *c;
  g->P = host->P;
  g->L = c->nhidden;
  g->R = host->max_rows;
  for (int l = 0; l <= g->L; ++l) {
    g->off_w[l] = host->params.t[host->fc_w[l]].offset;
    g->off_b[l] = host->params.t[host->fc_b[l]].offset;
    if (width_out(c, l) > g->W) g->W = width_out(c, l);
  }
  const size_t P = (size_t)g->P, R = (size_t)g->R;
  bool ok = sf_cuda_net_open(&g->lin, g->P, host->params.n) &&
            cudaMalloc(&g->x, sizeof(float) * P * R * c->in) == cudaSuccess &&
       cudaMalloc(&g->g[0], sizeof(float) * P * R * g->W) == cudaSuccess &&
       cudaMalloc(&g->g[1], sizeof(float) * P * R * g->W) == cudaSuccess;
  for (int l = 0; l <= g->L && ok; ++l)
    ok = cudaMalloc(&g->act[l], sizeof(float) * P * R * width_out(c, l)) == cudaSuccess;
  if (!ok) {
    sf_cuda_mlp_free(g);
    return NULL;
  }
  return g;
}

extern "C" int sf_cuda_mlp_upload(sf_cuda_mlp *g, const sf_mlp *host) {
  if (host->P != g->P || host->params.n != g->lin.n) return -1;
  return sf_cuda_net_upload(&g->lin, host->params.data);
}

extern "C" int sf_cuda_mlp_download_grads(sf_cuda_mlp *g, sf_mlp *host) {
  if (host->P != g->P || host->params.n != g->lin.n) return -1;
  return sf_cuda_net_download_grads(&g->lin, host->params.grad);
}

extern "C" void sf_cuda_mlp_zero_grad(sf_cuda_mlp *g) { sf_cuda_net_zero_grad(&g->lin); }
extern "C" float *sf_cuda_mlp_params(sf_cuda_mlp *g) { return g->lin.params; }
extern "C" float *sf_cuda_mlp_grads(sf_cuda_mlp *g) { return g->lin.grads; }
extern "C" long sf_cuda_mlp_nparams(const sf_cuda_mlp *g) { return g->lin.n; }

extern "C" int sf_cuda_mlp_download_params(sf_cuda_mlp *g, float *host_params) {
  return sf_cuda_net_download_params(&g->lin, host_params);
}

extern "C" void sf_cuda_mlp_set_stream(sf_cuda_mlp *g, void *stream) {
  sf_cuda_net_set_stream(&g->lin, (cudaStream_t)stream);
}

extern "C" int sf_cuda_mlp_forward(sf_cuda_mlp *g, long rows, const float *d_x1, int n1, const float *d_x2,
                                   float *d_y) {
  const sf_mlp_config *c = &g->cfg;
  if (rows < 1 || rows > g->R || n1 < 1 || n1 > c->in || (n1 < c->in && !d_x2)) return -1;
  const int P = g->P, L = g->L;
  k_concat<<<blocks((long)P * rows * c->in), kThreads, 0, g->lin.stream>>>(P, rows, n1, c->in - n1, d_x1, d_x2, g->x,
                                                                        g->R);
  for (int l = 0; l <= L; ++l) {
    const int K = width_in(c, l), N = width_out(c, l);
    const float *in = l ? g->act[l - 1] : g->x;
    sf_cuda_linear_forward(&g->lin, rows, K, N, in, K, g->R * K, g->lin.params + g->off_w[l], K,
                           g->lin.params + g->off_b[l], g->lin.n, g->act[l], g->R * N);
    const int kind = l < L ? 1 : (c->tanh_out ? 2 : 0);
    if (kind)
      k_activate<<<blocks((long)P * rows * N), kThreads, 0, g->lin.stream>>>(P, rows * N, kind, g->act[l], g->R * N);
  }
  sf_cuda_net_note(&g->lin,
                   cudaMemcpy2DAsync(d_y, sizeof(float) * rows * c->out, g->act[L], sizeof(float) * g->R * c->out,
                                     sizeof(float) * rows * c->out, P, cudaMemcpyDeviceToDevice, g->lin.stream));
  sf_cuda_net_note(&g->lin, cudaGetLastError());
  g->rows = rows;
  g->n1 = n1;
  return sf_cuda_net_ok(&g->lin) ? 0 : -1;
}

extern "C" int sf_cuda_mlp_backward(sf_cuda_mlp *g, const float *d_dy, int param_grads, float *d_dx1,
                                    float *d_dx2) {
  if (!g->rows) return -1;
  const sf_mlp_config *c = &g->cfg;
  const long R = g->R, rows = g->rows;
  const int P = g->P, L = g->L, O = c->out;
  k_out_grad<<<blocks((long)P * rows * O), kThreads, 0, g->lin.stream>>>(P, rows * O, c->tanh_out, d_dy, g->act[L],
                                                                      g->g[0], R * O);
  int cur = 0;
  for (int l = L; l >= 0; --l) {
    const int K = width_in(c, l), N = width_out(c, l);
    const float *in = l ? g->act[l - 1] : g->x;
    if (param_grads)
      sf_cuda_linear_grad_params(&g->lin, rows, K, N, in, K, R * K, g->g[cur], R * N, g->lin.grads + g->off_w[l],
                                 g->lin.grads + g->off_b[l], g->lin.n);
    if (!l) break;
    sf_cuda_linear_grad_input(&g->lin, rows, K, N, g->lin.params + g->off_w[l], K, g->lin.n, g->g[cur], R * N,
                              g->g[cur ^ 1], R * K);
    cur ^= 1;
    k_relu_grad<<<blocks((long)P * rows * K), kThreads, 0, g->lin.stream>>>(P, rows * K, g->act[l - 1], g->g[cur],
                                                                            R * K);
  }
  // g[cur] holds dL/d(first layer's output): the input gradients, per part.
  const int n1 = g->n1, n2 = c->in - n1, N0 = width_out(c, 0);
  if (d_dx1)
    sf_cuda_linear_grad_input(&g->lin, rows, n1, N0, g->lin.params + g->off_w[0], c->in, g->lin.n, g->g[cur], R * N0,
                              d_dx1, rows * n1);
  if (d_dx2 && n2 > 0)
    sf_cuda_linear_grad_input(&g->lin, rows, n2, N0, g->lin.params + g->off_w[0] + n1, c->in, g->lin.n, g->g[cur],
                              R * N0, d_dx2, rows * n2);
  sf_cuda_net_note(&g->lin, cudaGetLastError());
  return sf_cuda_net_ok(&g->lin) ? 0 : -1;
}

extern "C" int sf_cuda_mlp_sync(sf_cuda_mlp *g, char *why, size_t cap) { return sf_cuda_net_sync(&g->lin, why, cap); }
