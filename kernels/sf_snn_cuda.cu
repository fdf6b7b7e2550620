// The SNN's sequence forward and BPTT on the GPU: the linear layers through
// kernels/sf_linear_cuda.cuh (cuBLAS, batched over the agents), the LIF
// layers through the fused kernels of kernels/sf_lif_cuda.h. The streaming
// step uses the same GEMMs and one LIF kernel per layer and step.
#include "kernels/sf_snn_cuda.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/sf_lif_cuda.h"
#include "kernels/sf_linear_cuda.cuh"
#include "models/sf_lif_math.h"

struct sf_cuda_snn {
  sf_snn_config cfg;
  int P, L;
  long R;  // rows per agent of the sequence buffers (host max_rows)
  long off_w[SF_SNN_MAX_LAYERS + 1], off_b[SF_SNN_MAX_LAYERS + 1];
  long off_beta[SF_SNN_MAX_LAYERS], off_theta[SF_SNN_MAX_LAYERS];
  int hoff[SF_SNN_MAX_LAYERS + 1];  // offsets of each layer's neurons in beta_c
  int H;                            // widest layer
  float *slope, *beta_c;
  float *x, *y, *gy, *g;
  float *u[SF_SNN_MAX_LAYERS], *s[SF_SNN_MAX_LAYERS];
  float *work, *acc;
  long work_cap;
  int T, B;  // the stored forward's shape; T = 0: none
  sf_cuda_net_ctx lin;  // stream, cuBLAS, parameters and gradients, errors
};

struct sf_cuda_snn_state {
  int P, N, L;
  int hidden[SF_SNN_MAX_LAYERS];
  float *u[SF_SNN_MAX_LAYERS], *s[SF_SNN_MAX_LAYERS];  // [P][N][hidden[l]]
  float *cur;                                          // [P][N][widest layer]: input currents
};

namespace {

using linear_detail::blocks;
using linear_detail::kThreads;

int layer_in(const sf_snn_config *c, int l) { return l ? c->hidden[l - 1] : c->in; }
int layer_out(const sf_snn_config *c, int l) { return l < c->nlayers ? c->hidden[l] : c->out; }

__global__ void k_clamp(int P, int N, const float *beta, long stride, float *beta_c, int ldc) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * N) return;
  int p = (int)(i / N), n = (int)(i % N);
  beta_c[(long)p * ldc + n] = sf_beta_clamp(beta[p * stride + n]);
}

__global__ void k_tanh(int P, long count, float *y, long stride) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * count) return;
  float *v = y + (i / count) * stride + i % count;
  *v = sf_tanh(*v);
}

// dL/d(readout pre-activation), zero on the warm-up steps.
__global__ void k_readout_grad(int P, long rows, int B, int O, int warmup, int tanh_out, const float *dy,
                               const float *y, float *gy, long stride) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * rows * O) return;
  int p = (int)(i / (rows * O));
  long ro = i % (rows * O), r = ro / O;
  float d = dy[i], yo = y[p * stride + ro];
  gy[p * stride + ro] = r / B >= warmup ? (tanh_out ? d * sf_tanh_grad_out(yo) : d) : 0.0f;
}

// The LIF layer's sums into the parameter gradients: beta (through the
// clamp), theta, and the bias of the linear layer feeding it.
__global__ void k_lif_grads(int P, int N, const float *acc, const float *beta, float *gbeta, float *gtheta,
                            float *gbias, long stride) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * N) return;
  int p = (int)(i / N), n = (int)(i % N);
  const float *a = acc + (long)p * 3 * N;
  long o = p * stride + n;
  gbeta[o] += a[n] * sf_beta_clamp_grad(beta[o]);
  gtheta[o] += a[N + n];
  gbias[o] += a[2 * N + n];
}

// One streaming step of a LIF layer: rows x N neurons per agent, the input
// currents in cur (agent stride cstride), the state in u and s (agent stride
// rows * N). beta is clamped here: the step reads the parameters as they are
// now, as the CPU's step does.
__global__ void k_lif_step(int mode, int P, long rows, int N, const float *slope, const float *beta,
                           const float *theta, long pstride, const float *cur, long cstride, float *u, float *s) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  const long per = rows * N;
  if (i >= (long)P * per) return;
  const int p = (int)(i / per), n = (int)(i % N);
  const long o = pstride * p + n;
  sf_lif_forward(mode, sf_beta_clamp(beta[o]), theta[o], slope[p], u[i], sf_lif_state_spike(s[i], theta[o]),
                 cur[p * cstride + i % per], &u[i], &s[i]);
}

// Put rows of a [P][N][H] state in the start state (U = 0, S marked
// SF_LIF_S_START for the next step to read as H(-theta)): the rows whose mask
// entry (one per row) is set, or every row where mask is NULL.
__global__ void k_reset_rows(long rows, int H, const uint8_t *mask, float *u, float *s) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= rows * H || (mask && !mask[i / H])) return;
  u[i] = 0.0f;
  s[i] = SF_LIF_S_START;
}

}  // namespace

extern "C" void sf_cuda_snn_free(sf_cuda_snn *g) {
  if (!g) return;
  float *bufs[] = {g->slope, g->beta_c, g->x, g->y, g->gy, g->g, g->work, g->acc};
  for (float *b : bufs) cudaFree(b);
  for (int l = 0; l < g->L; ++l) {
    cudaFree(g->u[l]);
    cudaFree(g->s[l]);
  }
  sf_cuda_net_close(&g->lin);
  free(g);
}

extern "C" sf_cuda_snn *sf_cuda_snn_new(const sf_snn *host) {
  sf_cuda_snn *g = (sf_cuda_snn *)calloc(1, sizeof *g);
  if (!g) return NULL;
  const sf_snn_config *c = &host->cfg;
  g->cfg = *c;
  g->P = host->P;
  g->L = c->nlayers;
  g->R = host->max_rows;
  for (int l = 0; l <= g->L; ++l) {
    g->off_w[l] = host->params.t[host->fc_w[l]].offset;
    g->off_b[l] = host->params.t[host->fc_b[l]].offset;
  }
  for (int l = 0; l < g->L; ++l) {
    g->off_beta[l] = host->params.t[host->lif_beta[l]].offset;
    g->off_theta[l] = host->params.t[host->lif_theta[l]].offset;
    g->hoff[l + 1] = g->hoff[l] + c->hidden[l];
    if (c->hidden[l] > g->H) g->H = c->hidden[l];
  }
  const size_t P = (size_t)g->P, R = (size_t)g->R;
  bool ok = sf_cuda_net_open(&g->lin, g->P, host->params.n) &&
       cudaMalloc(&g->slope, sizeof(float) * P) == cudaSuccess &&
       cudaMalloc(&g->beta_c, sizeof(float) * P * g->hoff[g->L]) == cudaSuccess &&
       cudaMalloc(&g->x, sizeof(float) * P * R * c->in) == cudaSuccess &&
       cudaMalloc(&g->y, sizeof(float) * P * R * c->out) == cudaSuccess &&
       cudaMalloc(&g->gy, sizeof(float) * P * R * c->out) == cudaSuccess &&
       cudaMalloc(&g->g, sizeof(float) * P * R * g->H) == cudaSuccess &&
       cudaMalloc(&g->acc, sizeof(float) * P * 3 * g->H) == cudaSuccess;
  for (int l = 0; l < g->L && ok; ++l)
    ok = cudaMalloc(&g->u[l], sizeof(float) * P * R * c->hidden[l]) == cudaSuccess &&
         cudaMalloc(&g->s[l], sizeof(float) * P * R * c->hidden[l]) == cudaSuccess;
  if (!ok) {
    sf_cuda_snn_free(g);
    return NULL;
  }
  return g;
}

extern "C" int sf_cuda_snn_upload(sf_cuda_snn *g, const sf_snn *host) {
  if (host->P != g->P || host->params.n != g->lin.n) return -1;
  sf_cuda_net_note(&g->lin, cudaMemcpyAsync(g->slope, host->slope, sizeof(float) * g->P, cudaMemcpyHostToDevice,
                                            g->lin.stream));
  return sf_cuda_net_upload(&g->lin, host->params.data);  // waits for both copies
}

extern "C" int sf_cuda_snn_download_grads(sf_cuda_snn *g, sf_snn *host) {
  if (host->P != g->P || host->params.n != g->lin.n) return -1;
  return sf_cuda_net_download_grads(&g->lin, host->params.grad);
}

extern "C" void sf_cuda_snn_zero_grad(sf_cuda_snn *g) { sf_cuda_net_zero_grad(&g->lin); }

extern "C" int sf_cuda_snn_set_slopes(sf_cuda_snn *g, const float *slopes) {
  sf_cuda_net_note(&g->lin, cudaMemcpyAsync(g->slope, slopes, sizeof(float) * g->P, cudaMemcpyHostToDevice,
                                            g->lin.stream));
  sf_cuda_net_note(&g->lin, cudaStreamSynchronize(g->lin.stream));  // the host array may change right after
  return g->lin.cuda_err == cudaSuccess ? 0 : -1;
}

extern "C" void sf_cuda_snn_set_stream(sf_cuda_snn *g, void *stream) {
  sf_cuda_net_set_stream(&g->lin, (cudaStream_t)stream);
}

extern "C" float *sf_cuda_snn_params(sf_cuda_snn *g) { return g->lin.params; }
extern "C" float *sf_cuda_snn_grads(sf_cuda_snn *g) { return g->lin.grads; }
extern "C" long sf_cuda_snn_nparams(const sf_cuda_snn *g) { return g->lin.n; }

extern "C" int sf_cuda_snn_download_params(sf_cuda_snn *g, float *host_params) {
  return sf_cuda_net_download_params(&g->lin, host_params);
}

extern "C" int sf_cuda_snn_forward(sf_cuda_snn *g, int T, int B, const float *d_x, float *d_y) {
  const sf_snn_config *c = &g->cfg;
  const long rows = (long)T * B;
  if (T < 1 || B < 1 || rows > g->R) return -1;
  const int P = g->P, L = g->L;
  for (int l = 0; l < L; ++l)
    k_clamp<<<blocks((long)P * c->hidden[l]), kThreads, 0, g->lin.stream>>>(
        P, c->hidden[l], g->lin.params + g->off_beta[l], g->lin.n, g->beta_c + g->hoff[l], g->hoff[L]);
  // The input, packed [P][rows][in], into the [P][R][in] buffer backward reads.
  sf_cuda_net_note(&g->lin, cudaMemcpy2DAsync(g->x, sizeof(float) * g->R * c->in, d_x, sizeof(float) * rows * c->in,
                            sizeof(float) * rows * c->in, P, cudaMemcpyDeviceToDevice, g->lin.stream));
  const float *in = g->x;
  long in_stride = g->R * c->in;
  for (int l = 0; l <= L; ++l) {
    const int K = layer_in(c, l), N = layer_out(c, l);
    float *out = l < L ? g->u[l] : g->y;
    const long out_stride = g->R * N;
    sf_cuda_linear_forward(&g->lin, rows, K, N, in, K, in_stride, g->lin.params + g->off_w[l], K,
                           g->lin.params + g->off_b[l], g->lin.n, out, out_stride);
    if (l == L) break;
    if (sf_cuda_lif_forward_seq(c->mode, P, T, B, N, out_stride, g->slope, g->beta_c + g->hoff[l], g->hoff[L],
                                g->lin.params + g->off_theta[l], g->lin.n, g->u[l], g->s[l], g->lin.stream) != 0)
      sf_cuda_net_note(&g->lin, cudaGetLastError());
    in = g->s[l];
    in_stride = out_stride;
  }
  if (c->tanh_out)
    k_tanh<<<blocks((long)P * rows * c->out), kThreads, 0, g->lin.stream>>>(P, rows * c->out, g->y, g->R * c->out);
  sf_cuda_net_note(&g->lin, cudaMemcpy2DAsync(d_y, sizeof(float) * rows * c->out, g->y, sizeof(float) * g->R * c->out,
                            sizeof(float) * rows * c->out, P, cudaMemcpyDeviceToDevice, g->lin.stream));
  sf_cuda_net_note(&g->lin, cudaGetLastError());
  g->T = T;
  g->B = B;
  return sf_cuda_net_ok(&g->lin) ? 0 : -1;
}

extern "C" int sf_cuda_snn_backward(sf_cuda_snn *g, int warmup, const float *d_dy, float *d_dx) {
  if (!g->T) return -1;
  const sf_snn_config *c = &g->cfg;
  const int P = g->P, L = g->L, T = g->T, B = g->B, O = c->out;
  const long rows = (long)T * B, R = g->R;
  // Per-row partial sums of the LIF layers: grown once to the widest need.
  const long need = (long)P * B * 3 * g->H;
  if (need > g->work_cap) {
    cudaFree(g->work);
    g->work = NULL;
    g->work_cap = 0;
    sf_cuda_net_note(&g->lin, cudaMalloc(&g->work, sizeof(float) * need));
    if (g->lin.cuda_err != cudaSuccess) return -1;
    g->work_cap = need;
  }
  k_readout_grad<<<blocks((long)P * rows * O), kThreads, 0, g->lin.stream>>>(P, rows, B, O, warmup, c->tanh_out, d_dy,
                                                                          g->y, g->gy, R * O);
  // Readout: dW, db, and dL/dS of the last LIF layer into g ([P][R][K]).
  {
    const int K = c->hidden[L - 1];
    sf_cuda_linear_grad_params(&g->lin, rows, K, O, g->s[L - 1], K, R * K, g->gy, R * O, g->lin.grads + g->off_w[L],
                               g->lin.grads + g->off_b[L], g->lin.n);
    sf_cuda_linear_grad_input(&g->lin, rows, K, O, g->lin.params + g->off_w[L], K, g->lin.n, g->gy, R * O, g->g, R * K);
  }
  for (int l = L - 1; l >= 0; --l) {
    const int N = c->hidden[l], K = layer_in(c, l);
    const long ns = R * N;  // agent stride of this layer's u, s and (now) g
    if (sf_cuda_lif_backward_seq(c->mode, c->detach_reset, P, T, B, N, ns, g->slope, g->beta_c + g->hoff[l],
                                 g->hoff[L], g->lin.params + g->off_theta[l], g->lin.n, g->u[l], g->s[l], g->g, g->work,
                                 g->acc, g->lin.stream) != 0)
      sf_cuda_net_note(&g->lin, cudaGetLastError());
    k_lif_grads<<<blocks((long)P * N), kThreads, 0, g->lin.stream>>>(
        P, N, g->acc, g->lin.params + g->off_beta[l], g->lin.grads + g->off_beta[l], g->lin.grads + g->off_theta[l],
        g->lin.grads + g->off_b[l], g->lin.n);
    // u[l] holds dL/dI of layer l: fc(l)'s weight gradient and the gradient
    // of the layer below (g, free again) or of the input.
    const float *xin = l ? g->s[l - 1] : g->x;
    const long xs = l ? R * K : R * c->in;
    sf_cuda_linear_grad_params(&g->lin, rows, K, N, xin, K, xs, g->u[l], ns, g->lin.grads + g->off_w[l], NULL,
                               g->lin.n);
    if (l)
      sf_cuda_linear_grad_input(&g->lin, rows, K, N, g->lin.params + g->off_w[l], K, g->lin.n, g->u[l], ns, g->g,
                                R * K);
    else if (d_dx)
      sf_cuda_linear_grad_input(&g->lin, rows, K, N, g->lin.params + g->off_w[0], K, g->lin.n, g->u[0], ns, d_dx,
                                rows * K);
  }
  sf_cuda_net_note(&g->lin, cudaGetLastError());
  g->T = 0;
  return sf_cuda_net_ok(&g->lin) ? 0 : -1;
}

extern "C" int sf_cuda_snn_download_layer(sf_cuda_snn *g, int l, float *u, float *s) {
  if (l < 0 || l >= g->L || !g->T) return -1;
  const int N = g->cfg.hidden[l];
  const long rows = (long)g->T * g->B;
  const size_t w = sizeof(float) * rows * N, pitch = sizeof(float) * g->R * N;
  sf_cuda_net_note(&g->lin, cudaMemcpy2DAsync(u, w, g->u[l], pitch, w, g->P, cudaMemcpyDeviceToHost, g->lin.stream));
  sf_cuda_net_note(&g->lin, cudaMemcpy2DAsync(s, w, g->s[l], pitch, w, g->P, cudaMemcpyDeviceToHost, g->lin.stream));
  sf_cuda_net_note(&g->lin, cudaStreamSynchronize(g->lin.stream));
  return g->lin.cuda_err == cudaSuccess ? 0 : -1;
}

extern "C" int sf_cuda_snn_sync(sf_cuda_snn *g, char *why, size_t cap) { return sf_cuda_net_sync(&g->lin, why, cap); }

extern "C" void sf_cuda_snn_state_free(sf_cuda_snn_state *st) {
  if (!st) return;
  for (int l = 0; l < st->L; ++l) {
    cudaFree(st->u[l]);
    cudaFree(st->s[l]);
  }
  cudaFree(st->cur);
  free(st);
}

extern "C" sf_cuda_snn_state *sf_cuda_snn_state_new(sf_cuda_snn *g, int N) {
  if (N < 1) return NULL;
  sf_cuda_snn_state *st = (sf_cuda_snn_state *)calloc(1, sizeof *st);
  if (!st) return NULL;
  st->P = g->P;
  st->N = N;
  st->L = g->L;
  const size_t rows = (size_t)g->P * N;
  bool ok = cudaMalloc(&st->cur, sizeof(float) * rows * g->H) == cudaSuccess;
  for (int l = 0; l < st->L && ok; ++l) {
    st->hidden[l] = g->cfg.hidden[l];
    ok = cudaMalloc(&st->u[l], sizeof(float) * rows * st->hidden[l]) == cudaSuccess &&
         cudaMalloc(&st->s[l], sizeof(float) * rows * st->hidden[l]) == cudaSuccess;
  }
  if (!ok) {
    sf_cuda_snn_state_free(st);
    return NULL;
  }
  sf_cuda_snn_state_reset(g, st, NULL);
  return st;
}

extern "C" void sf_cuda_snn_state_reset(sf_cuda_snn *g, sf_cuda_snn_state *st, const uint8_t *d_mask) {
  const long rows = (long)st->P * st->N;
  for (int l = 0; l < st->L; ++l) {
    const int H = st->hidden[l];
    k_reset_rows<<<blocks(rows * H), kThreads, 0, g->lin.stream>>>(rows, H, d_mask, st->u[l], st->s[l]);
  }
  sf_cuda_net_note(&g->lin, cudaGetLastError());
}

static bool same_shape(const sf_cuda_snn_state *st, const sf_snn_state *host) {
  if (host->P != st->P || host->B != st->N || host->nlayers != st->L) return false;
  for (int l = 0; l < st->L; ++l)
    if (host->hidden[l] != st->hidden[l]) return false;
  return true;
}

static int copy_state(sf_cuda_snn *g, const sf_cuda_snn_state *st, const sf_snn_state *host, cudaMemcpyKind kind) {
  if (!same_shape(st, host)) return -1;
  for (int l = 0; l < st->L; ++l) {
    const size_t bytes = sizeof(float) * st->P * st->N * st->hidden[l];
    const bool down = kind == cudaMemcpyDeviceToHost;
    sf_cuda_net_note(&g->lin, cudaMemcpyAsync(down ? host->u[l] : st->u[l], down ? st->u[l] : host->u[l], bytes, kind,
                                              g->lin.stream));
    sf_cuda_net_note(&g->lin, cudaMemcpyAsync(down ? host->s[l] : st->s[l], down ? st->s[l] : host->s[l], bytes, kind,
                                              g->lin.stream));
  }
  sf_cuda_net_note(&g->lin, cudaStreamSynchronize(g->lin.stream));
  return g->lin.cuda_err == cudaSuccess ? 0 : -1;
}

extern "C" int sf_cuda_snn_state_download(sf_cuda_snn *g, const sf_cuda_snn_state *st, sf_snn_state *host) {
  return copy_state(g, st, host, cudaMemcpyDeviceToHost);
}

extern "C" int sf_cuda_snn_state_upload(sf_cuda_snn *g, sf_cuda_snn_state *st, const sf_snn_state *host) {
  return copy_state(g, st, host, cudaMemcpyHostToDevice);
}

extern "C" int sf_cuda_snn_step(sf_cuda_snn *g, sf_cuda_snn_state *st, const float *d_x, float *d_y) {
  const sf_snn_config *c = &g->cfg;
  if (st->P != g->P || st->L != g->L) return -1;
  const int P = g->P, L = g->L;
  const long B = st->N, cstride = B * g->H;
  const float *in = d_x;
  long in_stride = B * c->in;
  for (int l = 0; l < L; ++l) {
    const int K = layer_in(c, l), N = c->hidden[l];
    sf_cuda_linear_forward(&g->lin, B, K, N, in, K, in_stride, g->lin.params + g->off_w[l], K,
                           g->lin.params + g->off_b[l], g->lin.n, st->cur, cstride);
    k_lif_step<<<blocks((long)P * B * N), kThreads, 0, g->lin.stream>>>(
        c->mode, P, B, N, g->slope, g->lin.params + g->off_beta[l], g->lin.params + g->off_theta[l], g->lin.n, st->cur,
        cstride, st->u[l], st->s[l]);
    in = st->s[l];
    in_stride = B * N;
  }
  sf_cuda_linear_forward(&g->lin, B, layer_in(c, L), c->out, in, layer_in(c, L), in_stride,
                         g->lin.params + g->off_w[L], layer_in(c, L), g->lin.params + g->off_b[L], g->lin.n, d_y,
                         B * c->out);
  if (c->tanh_out)
    k_tanh<<<blocks((long)P * B * c->out), kThreads, 0, g->lin.stream>>>(P, B * c->out, d_y, B * c->out);
  sf_cuda_net_note(&g->lin, cudaGetLastError());
  return sf_cuda_net_ok(&g->lin) ? 0 : -1;
}
