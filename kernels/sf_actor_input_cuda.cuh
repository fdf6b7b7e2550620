// The actor's input on the device (CUDA C++ only, internal linkage): what
// sf_actor_make_input builds on the host, shared by the device trainer and
// the device evaluation.
#ifndef SF_ACTOR_INPUT_CUDA_CUH
#define SF_ACTOR_INPUT_CUDA_CUH

#include <cuda_runtime.h>

#include "rl/sf_actor.h"
#include "sim/sf_env.h"

namespace {

namespace actor_input_detail {
// obs_hist: the noisy observation and the privileged one's action history.
__global__ void k_input_hist(long rows, const float *obs, const float *priv, float *x) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= rows * SF_PRIV_DIM) return;
  int k = (int)(i % SF_PRIV_DIM);
  x[i] = k < SF_OBS_DIM ? obs[i / SF_PRIV_DIM * SF_OBS_DIM + k] : priv[i];
}
}  // namespace actor_input_detail

// The input for `rows` rows of obs [rows][18] and priv [rows][146]: one of
// them as it is, or the obs_hist concatenation built into out [rows][146].
const float *sf_cuda_actor_input(sf_actor_input input, long rows, const float *obs, const float *priv, float *out,
                                 cudaStream_t stream) {
  if (input == SF_INPUT_OBS) return obs;
  if (input == SF_INPUT_PRIV) return priv;
  const long n = rows * SF_PRIV_DIM;
  actor_input_detail::k_input_hist<<<(unsigned)((n + 255) / 256), 256, 0, stream>>>(rows, obs, priv, out);
  return out;
}

}  // namespace

#endif
