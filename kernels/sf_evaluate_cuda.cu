// Evaluation on the GPU (kernels/sf_evaluate_cuda.h): one thread per env for
// the environment and the episode sums, the actor through the device SNN's
// streaming step or the device MLP, all on the environments' stream.
#include "kernels/sf_evaluate_cuda.h"

#include <cuda_runtime.h>
#include <nvtx3/nvToolsExt.h>

#include <stdio.h>
#include <stdlib.h>

#include "kernels/sf_actor_input_cuda.cuh"
#include "kernels/sf_env_cuda.h"
#include "kernels/sf_mlp_cuda.h"
#include "kernels/sf_snn_cuda.h"
#include "sim/sf_score.h"

namespace {

constexpr int kThreads = 256;
unsigned blocks(long n) { return (unsigned)((n + kThreads - 1) / kThreads); }

__global__ void k_episode_step(sf_env_model m, sf_env_data d, sf_score_episode *acc, int k, sf_score_spec spec,
                               const float *act, const float *rew, const uint8_t *term, const uint8_t *trunc) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= d.n) return;
  sf_quad_state s;
  float tp[3], tv[3];
  sf_score_step(&acc[i], &spec, &m, &d, i, k, act + i * SF_ACT_DIM, rew[i], term[i], trunc[i], &s, tp, tv);
}

}  // namespace

extern "C" int sf_cuda_evaluate(const sf_actor *actor, const sf_env_model *model, const uint64_t *seeds, int episodes,
                                float progress, int warmup_steps, sf_eval_stats *stats, char *err, size_t errlen) {
  const int P = actor->P, N = episodes, steps = model->task.time_limit;
  const long n = (long)P * N;
  const sf_score_spec spec = sf_score_spec_of(model);
  if (actor->cfg.frames > 0) {
    snprintf(err, errlen, "a frame-stack actor is evaluated on the CPU only (device=cpu): the GPU kernels stream");
    return -1;
  }
  nvtxRangePushA("evaluate");
  // A host copy sized for N envs per agent: the device networks take their
  // shape and row bound from it.
  sf_actor *h = sf_actor_new(&actor->cfg, P, N);
  uint64_t *eseeds = (uint64_t *)malloc(sizeof(uint64_t) * P);
  float *prog = (float *)malloc(sizeof(float) * P);
  sf_score_episode *acc = (sf_score_episode *)malloc(sizeof(sf_score_episode) * n);
  sf_cuda_env *env = NULL;
  sf_cuda_snn *snn = NULL;
  sf_cuda_snn_state *st = NULL;
  sf_cuda_mlp *mlp = NULL;
  float *d_x = NULL, *d_act = NULL;
  sf_score_episode *d_acc = NULL;
  int rc = -1;
  const char *what = "memory";
  if (!h || !eseeds || !prog || !acc) goto out;
  sf_params_copy(h->params, actor->params);
  if (actor->snn)
    for (int p = 0; p < P; ++p) sf_actor_set_slope(h, p, actor->snn->slope[p]);
  for (int p = 0; p < P; ++p) {
    eseeds[p] = sf_eval_seed(seeds[p]);
    prog[p] = progress;
  }
  what = "environments";
  if (!(env = sf_cuda_env_new(P, N, eseeds)) || sf_cuda_env_set_progress(env, prog)) goto out;
  {
    cudaStream_t stream = (cudaStream_t)sf_cuda_env_stream(env);
    what = "actor";
    if (h->snn) {
      // On the envs' stream before the state is made: its zeroing runs there.
      if (!(snn = sf_cuda_snn_new(h->snn))) goto out;
      sf_cuda_snn_set_stream(snn, stream);
      if (sf_cuda_snn_upload(snn, h->snn) || !(st = sf_cuda_snn_state_new(snn, N))) goto out;
    } else {
      if (!(mlp = sf_cuda_mlp_new(h->mlp)) || sf_cuda_mlp_upload(mlp, h->mlp)) goto out;
      sf_cuda_mlp_set_stream(mlp, stream);
    }
    what = "device memory";
    if (cudaMalloc(&d_x, sizeof(float) * n * h->in_dim) != cudaSuccess ||
        cudaMalloc(&d_act, sizeof(float) * n * SF_ACT_DIM) != cudaSuccess ||
        cudaMalloc(&d_acc, sizeof(sf_score_episode) * n) != cudaSuccess ||
        cudaMemsetAsync(d_acc, 0, sizeof(sf_score_episode) * n, stream) != cudaSuccess)
      goto out;
    const sf_env_data d = *sf_cuda_env_state(env);
    sf_cuda_env_reset_all(env, model);
    what = "a step";
    for (int k = 0; k < steps; ++k) {
      sf_cuda_env_observe(env, model);
      if (h->cfg.input != SF_INPUT_OBS) sf_cuda_env_observe_privileged(env, model);
      const float *x =
          sf_cuda_actor_input(h->cfg.input, n, sf_cuda_env_obs(env), sf_cuda_env_priv(env), d_x, stream);
      if (snn ? sf_cuda_snn_step(snn, st, x, d_act) : sf_cuda_mlp_forward(mlp, N, x, h->in_dim, NULL, d_act)) goto out;
      sf_cuda_env_step(env, model, d_act);
      k_episode_step<<<blocks(n), kThreads, 0, stream>>>(*model, d, d_acc, k, spec, d_act, sf_cuda_env_reward(env),
                                                       sf_cuda_env_terminated(env), sf_cuda_env_truncated(env));
    }
    if (cudaMemcpyAsync(acc, d_acc, sizeof(sf_score_episode) * n, cudaMemcpyDeviceToHost, stream) != cudaSuccess ||
        cudaStreamSynchronize(stream) != cudaSuccess || cudaGetLastError() != cudaSuccess)
      goto out;
    char why[256];
    if (sf_cuda_env_error(env, why, sizeof why) != 0) goto out;
  }
  sf_eval_finish(acc, P, N, warmup_steps, stats);
  rc = 0;
out:
  if (rc) snprintf(err, errlen, "GPU evaluation failed (%s): %s", what, cudaGetErrorString(cudaGetLastError()));
  cudaFree(d_x);
  cudaFree(d_act);
  cudaFree(d_acc);
  if (st) sf_cuda_snn_state_free(st);
  if (snn) sf_cuda_snn_free(snn);
  if (mlp) sf_cuda_mlp_free(mlp);
  if (env) sf_cuda_env_free(env);
  sf_actor_free(h);
  free(eseeds), free(prog), free(acc);
  nvtxRangePop();
  return rc;
}
