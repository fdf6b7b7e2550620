/* Fused LIF layers over a whole sequence on a CUDA GPU, for a population of
 * P agents: the GPU half of the SNN's sequence forward and backward
 * (models/sf_snn.c runs the CPU half with sf_lif_forward_tile and
 * sf_lif_backward_tile).
 *
 * One thread owns one neuron of one batch row of one agent and walks the
 * sequence with its membrane (forward) or its dL/dU (backward) in registers:
 * the input currents of all T steps come from one GEMM before the call, so
 * the time loop touches global memory only to read its current and write its
 * spike. Each step calls the same SF_HD functions of models/sf_lif_math.h
 * that the CPU loops call, and the CUDA build has no fused multiply-add
 * (--fmad=false), so membranes and spikes are the CPU's bits.
 *
 * Layout (as the CPU): agent p's block starts at p * agent_stride floats and
 * holds [T][B][N]. Agent p's N clamped betas start at beta_c + p *
 * beta_stride, its thresholds at theta + p * theta_stride (so both can point
 * into larger per-agent blocks, such as the parameter block); the slopes are
 * [P]. All pointers are device pointers; calls are asynchronous on
 * `stream` (a cudaStream_t, 0 for the default stream). */
#ifndef SF_LIF_CUDA_H
#define SF_LIF_CUDA_H

#ifdef __cplusplus
extern "C" {
#endif

/* u holds the input currents on entry and the membranes on return; s gets
 * the spikes. The state starts at U = 0, S = H(-theta) (sf_lif_math.inc).
 * Returns 0, or -1 when the launch failed. */
int sf_cuda_lif_forward_seq(int mode, int P, int T, int B, int N, long agent_stride, const float *d_slope,
                            const float *d_beta_c, long beta_stride, const float *d_theta, long theta_stride,
                            float *d_u, float *d_s, void *stream);

/* Backward through time: u holds the membranes on entry and dL/dI on return,
 * s the spikes of the forward, gs dL/dS from the layer above. acc receives,
 * per agent, [3][N]: dL/d(clamped beta), dL/dtheta, dL/dI summed over steps
 * and rows (the bias gradient of the layer feeding this one), overwritten.
 * d_work must hold P * B * 3 * N floats (per-row partial sums, reduced over
 * the rows in a fixed order so the result does not depend on scheduling). */
int sf_cuda_lif_backward_seq(int mode, int detach_reset, int P, int T, int B, int N, long agent_stride,
                             const float *d_slope, const float *d_beta_c, long beta_stride, const float *d_theta,
                             long theta_stride, float *d_u, const float *d_s, const float *d_gs, float *d_work,
                             float *d_acc, void *stream);

#ifdef __cplusplus
}
#endif
#endif
