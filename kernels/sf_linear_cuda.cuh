// What the SNN and the MLP on the GPU share (CUDA C++ only; not part of the
// C API): a network's device context (stream, cuBLAS handle, the parameter
// and gradient blocks of its P agents, the first error seen) and the linear
// layer y = x W^T + b of P agents.
//
// Matrices are row-major as on the CPU; cuBLAS is column-major, so a
// row-major [r][c] array is handed to it as its column-major transpose [c][r]
// (leading dimension c). With W [N][K] (row stride ldw, usually K), the three
// products of a layer are
//   forward  y^T  = op_T(W^T) x^T            gemm(T, N, m=N, n=rows, k=K)
//   dW       dW^T += x^T op_T(dy^T)          gemm(N, T, m=K, n=N, k=rows)
//   dx       dx^T  = W^T dy^T                gemm(N, N, m=K, n=rows, k=N)
// each one cublasSgemmStridedBatched over the agents (agent p's matrices
// start p strides further on).
#ifndef SF_LINEAR_CUDA_CUH
#define SF_LINEAR_CUDA_CUH

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>

// Everything here has internal linkage: each .cu that includes it gets its own
// copy of the kernels.
namespace {

struct sf_cuda_net_ctx {
  cublasHandle_t blas;
  cudaStream_t stream;    // where the work runs: own, or a caller's
  cudaStream_t own;
  void *blas_ws;          // cuBLAS's workspace: no allocation inside a graph capture
  int P;
  long n;                 // parameters per agent
  float *params, *grads;  // [P][n], laid out as the host's sf_params
  cudaError_t cuda_err;   // the first CUDA error seen
  cublasStatus_t err;     // the first cuBLAS error seen
};

void sf_cuda_net_note(sf_cuda_net_ctx *c, cudaError_t e) {
  if (e != cudaSuccess && c->cuda_err == cudaSuccess) c->cuda_err = e;
}

constexpr size_t kBlasWorkspace = 4u << 20;

void sf_cuda_net_close(sf_cuda_net_ctx *c) {
  cudaFree(c->params);
  cudaFree(c->grads);
  if (c->blas) cublasDestroy(c->blas);
  cudaFree(c->blas_ws);
  if (c->own) cudaStreamDestroy(c->own);
}

// cuBLAS on `stream` (NULL: the context's own). Setting the stream drops
// cuBLAS back to its default workspace, hence the workspace again.
bool sf_cuda_net_set_stream(sf_cuda_net_ctx *c, cudaStream_t stream) {
  c->stream = stream ? stream : c->own;
  cublasStatus_t e = cublasSetStream(c->blas, c->stream);
  if (e == CUBLAS_STATUS_SUCCESS) e = cublasSetWorkspace(c->blas, c->blas_ws, kBlasWorkspace);
  if (e != CUBLAS_STATUS_SUCCESS && c->err == CUBLAS_STATUS_SUCCESS) c->err = e;
  return e == CUBLAS_STATUS_SUCCESS;
}

// Stream, cuBLAS in pedantic math (no TF32 or other reduced-precision
// shortcuts) with its own workspace, and zeroed gradients. False on failure
// (then close it).
bool sf_cuda_net_open(sf_cuda_net_ctx *c, int P, long n) {
  c->P = P;
  c->n = n;
  c->cuda_err = cudaSuccess;
  c->err = CUBLAS_STATUS_SUCCESS;
  const bool ok = cudaStreamCreate(&c->own) == cudaSuccess && cublasCreate(&c->blas) == CUBLAS_STATUS_SUCCESS &&
                  cudaMalloc(&c->blas_ws, kBlasWorkspace) == cudaSuccess && sf_cuda_net_set_stream(c, NULL) &&
                  cublasSetMathMode(c->blas, CUBLAS_PEDANTIC_MATH) == CUBLAS_STATUS_SUCCESS &&
                  cudaMalloc(&c->params, sizeof(float) * P * n) == cudaSuccess &&
                  cudaMalloc(&c->grads, sizeof(float) * P * n) == cudaSuccess &&
                  cudaMemsetAsync(c->grads, 0, sizeof(float) * P * n, c->stream) == cudaSuccess;
  return ok;
}

bool sf_cuda_net_ok(const sf_cuda_net_ctx *c) {
  return c->cuda_err == cudaSuccess && c->err == CUBLAS_STATUS_SUCCESS;
}

// Copies in either direction between a host [P][n] block and the device,
// waiting for them (the host buffer may change right after). 0 or -1.
int sf_cuda_net_upload(sf_cuda_net_ctx *c, const float *host_params) {
  sf_cuda_net_note(c, cudaMemcpyAsync(c->params, host_params, sizeof(float) * c->P * c->n, cudaMemcpyHostToDevice,
                                      c->stream));
  sf_cuda_net_note(c, cudaStreamSynchronize(c->stream));
  return c->cuda_err == cudaSuccess ? 0 : -1;
}

int sf_cuda_net_download_grads(sf_cuda_net_ctx *c, float *host_grads) {
  sf_cuda_net_note(c, cudaMemcpyAsync(host_grads, c->grads, sizeof(float) * c->P * c->n, cudaMemcpyDeviceToHost,
                                      c->stream));
  sf_cuda_net_note(c, cudaStreamSynchronize(c->stream));
  return c->cuda_err == cudaSuccess ? 0 : -1;
}

int sf_cuda_net_download_params(sf_cuda_net_ctx *c, float *host_params) {
  sf_cuda_net_note(c, cudaMemcpyAsync(host_params, c->params, sizeof(float) * c->P * c->n, cudaMemcpyDeviceToHost,
                                      c->stream));
  sf_cuda_net_note(c, cudaStreamSynchronize(c->stream));
  return c->cuda_err == cudaSuccess ? 0 : -1;
}

void sf_cuda_net_zero_grad(sf_cuda_net_ctx *c) {
  sf_cuda_net_note(c, cudaMemsetAsync(c->grads, 0, sizeof(float) * c->P * c->n, c->stream));
}

// Wait for the queued work; 0, or -1 with the first error's text in why.
int sf_cuda_net_sync(sf_cuda_net_ctx *c, char *why, size_t cap) {
  sf_cuda_net_note(c, cudaStreamSynchronize(c->stream));
  if (c->cuda_err != cudaSuccess) {
    snprintf(why, cap, "%s", cudaGetErrorString(c->cuda_err));
    return -1;
  }
  if (c->err != CUBLAS_STATUS_SUCCESS) {
    snprintf(why, cap, "cuBLAS: %s", cublasGetStatusString(c->err));
    return -1;
  }
  return 0;
}

namespace linear_detail {

constexpr int kThreads = 256;
unsigned blocks(long n) { return (unsigned)((n + kThreads - 1) / kThreads); }

// out[p][r][n] = bias[p][n]: the forward GEMM then adds x W^T on top.
__global__ void k_bias_rows(int P, long rows, int N, const float *bias, long bstride, float *out, long ostride) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * rows * N) return;
  int p = (int)(i / (rows * N));
  long rn = i % (rows * N);
  out[p * ostride + rn] = bias[p * bstride + rn % N];
}

// grad[p][n] += sum over rows of a[p][r][n], in double, rows ascending (the
// CPU's sf_colsum_add).
__global__ void k_colsum_add(int P, long rows, int N, const float *a, long astride, float *grad, long gstride) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * N) return;
  int p = (int)(i / N), n = (int)(i % N);
  const float *col = a + p * astride + n;
  double s = 0.0;
  for (long r = 0; r < rows; ++r) s += col[r * N];
  float *gp = grad + p * gstride + n;
  *gp = (float)(*gp + s);
}

void gemm(sf_cuda_net_ctx *c, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                 const float *A, int lda, long sa, const float *B, int ldb, long sb, float beta, float *C, int ldc,
                 long sc) {
  const float one = 1.0f;
  cublasStatus_t e =
      cublasSgemmStridedBatched(c->blas, ta, tb, m, n, k, &one, A, lda, sa, B, ldb, sb, &beta, C, ldc, sc, c->P);
  if (e != CUBLAS_STATUS_SUCCESS && c->err == CUBLAS_STATUS_SUCCESS) c->err = e;
}

}  // namespace linear_detail

// y [P][rows][N] (agent stride ys) = x [rows][K] (row stride ldx, agent
// stride xs) W^T + b; W and b are agent blocks of stride ws.
void sf_cuda_linear_forward(sf_cuda_net_ctx *c, long rows, int K, int N, const float *x, int ldx, long xs,
                                   const float *W, int ldw, const float *b, long ws, float *y, long ys) {
  using namespace linear_detail;
  k_bias_rows<<<blocks((long)c->P * rows * N), kThreads, 0, c->stream>>>(c->P, rows, N, b, ws, y, ys);
  gemm(c, CUBLAS_OP_T, CUBLAS_OP_N, N, (int)rows, K, W, ldw, ws, x, ldx, xs, 1.0f, y, N, ys);
}

// dW [N][K] (row stride K, agent stride ws) += dy^T x; db (NULL: not wanted)
// += column sums of dy [rows][N] (agent stride dys).
void sf_cuda_linear_grad_params(sf_cuda_net_ctx *c, long rows, int K, int N, const float *x, int ldx,
                                       long xs, const float *dy, long dys, float *dW, float *db, long ws) {
  using namespace linear_detail;
  gemm(c, CUBLAS_OP_N, CUBLAS_OP_T, K, N, (int)rows, x, ldx, xs, dy, N, dys, 1.0f, dW, K, ws);
  if (db) k_colsum_add<<<blocks((long)c->P * N), kThreads, 0, c->stream>>>(c->P, rows, N, dy, dys, db, ws);
}

// dx [rows][K] (row stride K, agent stride dxs) = dy W, W [N][K] with row
// stride ldw (K, or wider when x is the first K columns of a longer input).
void sf_cuda_linear_grad_input(sf_cuda_net_ctx *c, long rows, int K, int N, const float *W, int ldw,
                                      long ws, const float *dy, long dys, float *dx, long dxs) {
  linear_detail::gemm(c, CUBLAS_OP_N, CUBLAS_OP_N, K, (int)rows, N, W, ldw, ws, dy, N, dys, 0.0f, dx, K, dxs);
}

}  // namespace

#endif
