/* The CPU loops behind the networks: a linear layer's forward product with a
 * fixed summation order, LIF forward and backward over a tile of a sequence,
 * and the dense products (sf_gemm.c). sf_snn.c and sf_mlp.c call them; they
 * hold no state.
 *
 * Why the SNN's forward product is not cblas_sgemm: OpenBLAS picks kernels by
 * matrix shape, so the bits of a row of X W^T depend on how many rows are in
 * the call (measured with OpenBLAS 0.3.21: a row computed in a 25600-row call
 * differs from the same row in a 256-row call for most layer shapes). The
 * streaming forward (B rows per control step) must reproduce the sequence
 * forward (T*B rows at once) bit for bit, so sf_linear_rows sums every output
 * in one fixed order, independent of the row count. It also skips zero
 * inputs, which is most of a spiking layer's input. */
#ifndef SF_CPU_KERNELS_H
#define SF_CPU_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/* The widest neuron range one LIF tile may cover (n1 - n0). */
#define SF_LIF_TILE_MAX 64

/* Wt[c][r] = W[r][c] for W [rows][cols]. */
void sf_transpose(const float *W, int rows, int cols, float *Wt);

/* y[r][n] = b[n] + sum over k ascending with x[r][k] != 0 of x[r][k] Wt[k][n],
 * for r < nrows; x [nrows][K], Wt [K][N] (the weights transposed), y
 * [nrows][N]. Zero inputs contribute nothing, even against a non-finite
 * weight. Single-threaded; callers split rows across threads. */
void sf_linear_rows(long nrows, int K, int N, const float *x, const float *Wt, const float *b, float *y);

/* LIF forward over the tile b in [b0, b1), n in [n0, n1) (n1 - n0 <=
 * SF_LIF_TILE_MAX) of a sequence laid
 * out [T][B][N]: u holds the input currents on entry and the membrane
 * potentials on return, s receives the spikes. The state starts at zero. */
void sf_lif_forward_tile(int mode, float k, int T, int B, int N, int b0, int b1, int n0, int n1,
                         const float *beta_c, const float *theta, float *u, float *s);

/* One streaming step for rows of neurons [rows][N]: cur is the input
 * current, u and s the carried state, advanced in place. */
void sf_lif_step_rows(int mode, float k, long rows, int N, const float *beta_c, const float *theta,
                      const float *cur, float *u, float *s);

/* LIF backward over the same tile: u holds U on entry and dL/dI on return
 * (U_t is dead once step t is done); gs is dL/dS from the layer above
 * ([T][B][N]). Sums over the tile's steps and rows go to acc (3 * (n1 - n0)
 * floats, overwritten): dL/d(clamped beta), dL/dtheta, dL/dI (the bias
 * gradient of the layer feeding this one). */
void sf_lif_backward_tile(int mode, int detach_reset, float k, int T, int B, int N, int b0, int b1, int n0,
                          int n1, const float *beta_c, const float *theta, float *u, const float *s,
                          const float *gs, float *acc);

/* Backpropagation through y = x W^T + b for one agent, rows x [rows][ldx]
 * (the first K columns used), W [N][ldw] (K columns from column 0):
 *   dW += dy^T x,  db += column sums of dy (either may be NULL),
 *   dx = dy W (NULL: not wanted), written [rows][K] with row stride ldx_out. */
void sf_linear_backward(long rows, int K, int N, const float *x, int ldx, const float *W, int ldw, const float *dy,
                        float *dW, float *db, float *dx, int ldx_out);

/* C = op(A) op(B) + beta C, row-major (op: transposed where trans_* is
 * non-zero), as cblas_sgemm with alpha 1, run by the OpenMP team (sf_gemm.c).
 * With AVX-512, for beta 0 or 1, each element is one chain of fused
 * multiply-adds over k ascending from 0 or from C: its bits depend on the
 * operands only. Elsewhere OpenBLAS runs it in blocks fixed by the shape:
 * the bits do not depend on the thread count. */
void sf_gemm(int trans_a, int trans_b, long M, long N, long K, const float *A, long lda, const float *B, long ldb,
             float beta, float *C, long ldc);

/* Column sums of a [rows][N] block added to out[N], in double. */
void sf_colsum_add(long rows, int N, const float *a, float *out);

#ifdef __cplusplus
}
#endif
#endif
