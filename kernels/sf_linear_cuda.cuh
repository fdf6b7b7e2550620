// The linear layer y = x W^T + b of P agents on the GPU, shared by the SNN
// and the MLP kernels (CUDA C++ only; not part of the C API).
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

// Everything here has internal linkage: each .cu that includes it gets its own
// copy of the kernels.
namespace {

struct sf_cuda_linear_ctx {
  cublasHandle_t blas;
  cudaStream_t stream;
  int P;
  cublasStatus_t err;  // the first cuBLAS error seen
};

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

void gemm(sf_cuda_linear_ctx *c, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
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
void sf_cuda_linear_forward(sf_cuda_linear_ctx *c, long rows, int K, int N, const float *x, int ldx, long xs,
                                   const float *W, int ldw, const float *b, long ws, float *y, long ys) {
  using namespace linear_detail;
  k_bias_rows<<<blocks((long)c->P * rows * N), kThreads, 0, c->stream>>>(c->P, rows, N, b, ws, y, ys);
  gemm(c, CUBLAS_OP_T, CUBLAS_OP_N, N, (int)rows, K, W, ldw, ws, x, ldx, xs, 1.0f, y, N, ys);
}

// dW [N][K] (row stride K, agent stride ws) += dy^T x; db (NULL: not wanted)
// += column sums of dy [rows][N] (agent stride dys).
void sf_cuda_linear_grad_params(sf_cuda_linear_ctx *c, long rows, int K, int N, const float *x, int ldx,
                                       long xs, const float *dy, long dys, float *dW, float *db, long ws) {
  using namespace linear_detail;
  gemm(c, CUBLAS_OP_N, CUBLAS_OP_T, K, N, (int)rows, x, ldx, xs, dy, N, dys, 1.0f, dW, K, ws);
  if (db) k_colsum_add<<<blocks((long)c->P * N), kThreads, 0, c->stream>>>(c->P, rows, N, dy, dys, db, ws);
}

// dx [rows][K] (row stride K, agent stride dxs) = dy W, W [N][K] with row
// stride ldw (K, or wider when x is the first K columns of a longer input).
void sf_cuda_linear_grad_input(sf_cuda_linear_ctx *c, long rows, int K, int N, const float *W, int ldw,
                                      long ws, const float *dy, long dys, float *dx, long dxs) {
  linear_detail::gemm(c, CUBLAS_OP_N, CUBLAS_OP_N, K, (int)rows, N, W, ldw, ws, dy, N, dys, 0.0f, dx, K, dxs);
}

}  // namespace

#endif
