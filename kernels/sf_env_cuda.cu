// CUDA backend of the batched environment: one thread per environment, each
// running the SF_HD per-environment functions of sim/sf_env_step.h (the CPU
// loops run the same ones). Compiled with --fmad=false and IEEE division and
// square root, so the dynamics are the same float32 arithmetic as on the CPU.
#include "kernels/sf_env_cuda.h"

#include <cuda_runtime.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sf_env_step.h"

struct sf_cuda_env {
  sf_env_data d;  // P, N, n and device pointers, passed to the kernels by value
  float *obs, *priv, *reward;
  uint8_t *term, *trunc;
  cudaStream_t stream;  // where the work runs: own, or a caller's
  cudaStream_t own;
  cudaError_t err;  // the first error seen
  char name[256];
};

static void note(sf_cuda_env *g, cudaError_t e) {
  if (e != cudaSuccess && g->err == cudaSuccess) g->err = e;
}

enum { kThreads = 256 };
static unsigned blocks(long n) { return (unsigned)((n + kThreads - 1) / kThreads); }

__global__ void k_reset(sf_env_model m, sf_env_data d, const uint8_t *mask, const uint8_t *term,
                        const uint8_t *trunc) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= d.n) return;
  if (mask && !mask[i]) return;
  if (term && !(term[i] | trunc[i])) return;
  sf_env_reset_one(&m, &d, i);
}

__global__ void k_step(sf_env_model m, sf_env_data d, const float *actions, float *reward, uint8_t *term,
                       uint8_t *trunc) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= d.n) return;
  sf_env_step_one(&m, &d, i, actions + i * SF_ACT_DIM, reward + i, term + i, trunc + i);
}

__global__ void k_pid(sf_pid c, sf_env_model m, sf_env_data d, const float *obs, float *actions) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= d.n) return;
  sf_pid_act_env(&c, &m, &d, i, obs, actions);
}

__global__ void k_observe(sf_env_model m, sf_env_data d, float *obs) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= d.n) return;
  sf_env_observe_one(&m, &d, i, obs + i * SF_OBS_DIM);
}

__global__ void k_observe_privileged(sf_env_model m, sf_env_data d, float *obs) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= d.n) return;
  sf_env_observe_privileged_one(&m, &d, i, obs + i * SF_PRIV_DIM);
}

extern "C" int sf_cuda_env_available(char *why, size_t cap) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    snprintf(why, cap, "cudaGetDeviceCount: %s", cudaGetErrorString(e));
    return -1;
  }
  if (count == 0) {
    snprintf(why, cap, "no CUDA device");
    return -1;
  }
  return 0;
}

extern "C" int sf_cuda_use_device(int index, char *why, size_t cap) {
  int count = 0;
  if (sf_cuda_env_available(why, cap) != 0 || cudaGetDeviceCount(&count) != cudaSuccess) return -1;
  const cudaError_t e = cudaSetDevice(index % count);
  if (e != cudaSuccess) {
    snprintf(why, cap, "cudaSetDevice(%d): %s", index % count, cudaGetErrorString(e));
    return -1;
  }
  return 0;
}

extern "C" int sf_cuda_env_memory(size_t *free_bytes, size_t *total_bytes) {
  return cudaMemGetInfo(free_bytes, total_bytes) == cudaSuccess ? 0 : -1;
}

// Sizes in bytes of the arrays of sf_env_data, in the order of
// sf_env_data_arrays, with their host and device pointers.
struct arrays {
  void *dev[SF_ENV_NARRAYS];
  size_t bytes[SF_ENV_NARRAYS];
};
static arrays layout(sf_env_data *d) {
  arrays a;
  sf_env_array arr[SF_ENV_NARRAYS];
  sf_env_data_arrays(d, arr);
  for (int k = 0; k < SF_ENV_NARRAYS; ++k) {
    a.dev[k] = arr[k].ptr;
    a.bytes[k] = arr[k].count * (arr[k].dtype == SF_DT_U64 ? 8 : 4);
  }
  return a;
}

extern "C" sf_cuda_env *sf_cuda_env_new(int P, int N, const uint64_t *seeds) {
  char why[256];
  if (P <= 0 || N <= 0 || sf_cuda_env_available(why, sizeof why) != 0) return NULL;
  sf_cuda_env *g = (sf_cuda_env *)calloc(1, sizeof *g);
  if (!g) return NULL;
  g->d.P = P;
  g->d.N = N;
  g->d.n = (long)P * N;
  size_t n = (size_t)g->d.n;
  cudaDeviceProp prop;
  int dev = 0;
  note(g, cudaGetDevice(&dev));
  note(g, cudaGetDeviceProperties(&prop, dev));
  snprintf(g->name, sizeof g->name, "%s", g->err == cudaSuccess ? prop.name : "unknown device");
  note(g, cudaStreamCreate(&g->own));
  g->stream = g->own;
  note(g, cudaMalloc(&g->d.x, sizeof(float) * SF_QX_N * n));
  note(g, cudaMalloc(&g->d.hist, sizeof(float) * SF_HIST_LEN * SF_ACT_DIM * n));
  note(g, cudaMalloc(&g->d.hist_head, sizeof(int32_t) * n));
  note(g, cudaMalloc(&g->d.ep_step, sizeof(int32_t) * n));
  note(g, cudaMalloc(&g->d.rng_ctr, sizeof(uint32_t) * n));
  note(g, cudaMalloc(&g->d.seed, sizeof(uint64_t) * P));
  note(g, cudaMalloc(&g->d.progress, sizeof(float) * P));
  note(g, cudaMalloc(&g->obs, sizeof(float) * SF_OBS_DIM * n));
  note(g, cudaMalloc(&g->priv, sizeof(float) * SF_PRIV_DIM * n));
  note(g, cudaMalloc(&g->reward, sizeof(float) * n));
  note(g, cudaMalloc(&g->term, n));
  note(g, cudaMalloc(&g->trunc, n));
  if (g->err != cudaSuccess) {
    sf_cuda_env_free(g);
    return NULL;
  }
  // Same initial state as sf_env_data_new: zeros, the seeds, progress 0.
  arrays a = layout(&g->d);
  for (int k = 0; k < SF_ENV_NARRAYS; ++k) note(g, cudaMemset(a.dev[k], 0, a.bytes[k]));
  note(g, cudaMemset(g->term, 0, n));
  note(g, cudaMemset(g->trunc, 0, n));
  note(g, cudaMemcpy(g->d.seed, seeds, sizeof(uint64_t) * P, cudaMemcpyHostToDevice));
  if (g->err != cudaSuccess) {
    sf_cuda_env_free(g);
    return NULL;
  }
  return g;
}

extern "C" void sf_cuda_env_free(sf_cuda_env *g) {
  if (!g) return;
  void *ptrs[] = {g->d.x, g->d.hist, g->d.hist_head, g->d.ep_step, g->d.rng_ctr, g->d.seed,
                  g->d.progress, g->obs, g->priv, g->reward, g->term, g->trunc};
  for (void *p : ptrs)
    if (p) cudaFree(p);
  if (g->own) cudaStreamDestroy(g->own);
  free(g);
}

extern "C" const char *sf_cuda_env_device_name(const sf_cuda_env *g) { return g->name; }

extern "C" void sf_cuda_env_set_stream(sf_cuda_env *g, void *stream) {
  g->stream = stream ? (cudaStream_t)stream : g->own;
}

extern "C" void *sf_cuda_env_stream(sf_cuda_env *g) { return g->stream; }

extern "C" int sf_cuda_env_set_progress(sf_cuda_env *g, const float *progress) {
  note(g, cudaMemcpyAsync(g->d.progress, progress, sizeof(float) * g->d.P, cudaMemcpyHostToDevice, g->stream));
  note(g, cudaStreamSynchronize(g->stream));  // the host array may change right after
  return g->err == cudaSuccess ? 0 : -1;
}

extern "C" void sf_cuda_env_reset_all(sf_cuda_env *g, const sf_env_model *m) {
  k_reset<<<blocks(g->d.n), kThreads, 0, g->stream>>>(*m, g->d, NULL, NULL, NULL);
  note(g, cudaGetLastError());
}

extern "C" void sf_cuda_env_reset_masked(sf_cuda_env *g, const sf_env_model *m, const uint8_t *d_mask) {
  k_reset<<<blocks(g->d.n), kThreads, 0, g->stream>>>(*m, g->d, d_mask, NULL, NULL);
  note(g, cudaGetLastError());
}

extern "C" void sf_cuda_env_reset_done(sf_cuda_env *g, const sf_env_model *m) {
  k_reset<<<blocks(g->d.n), kThreads, 0, g->stream>>>(*m, g->d, NULL, g->term, g->trunc);
  note(g, cudaGetLastError());
}

extern "C" void sf_cuda_env_step(sf_cuda_env *g, const sf_env_model *m, const float *d_actions) {
  k_step<<<blocks(g->d.n), kThreads, 0, g->stream>>>(*m, g->d, d_actions, g->reward, g->term, g->trunc);
  note(g, cudaGetLastError());
}

extern "C" void sf_cuda_env_observe(sf_cuda_env *g, const sf_env_model *m) {
  k_observe<<<blocks(g->d.n), kThreads, 0, g->stream>>>(*m, g->d, g->obs);
  note(g, cudaGetLastError());
}

extern "C" void sf_cuda_env_observe_privileged(sf_cuda_env *g, const sf_env_model *m) {
  k_observe_privileged<<<blocks(g->d.n), kThreads, 0, g->stream>>>(*m, g->d, g->priv);
  note(g, cudaGetLastError());
}

extern "C" void sf_cuda_env_pid(sf_cuda_env *g, const sf_env_model *m, const sf_pid *c, const float *d_obs,
                                float *d_actions) {
  k_pid<<<blocks(g->d.n), kThreads, 0, g->stream>>>(*c, *m, g->d, d_obs, d_actions);
  note(g, cudaGetLastError());
}

extern "C" float *sf_cuda_env_obs(sf_cuda_env *g) { return g->obs; }
extern "C" float *sf_cuda_env_priv(sf_cuda_env *g) { return g->priv; }
extern "C" float *sf_cuda_env_reward(sf_cuda_env *g) { return g->reward; }
extern "C" uint8_t *sf_cuda_env_terminated(sf_cuda_env *g) { return g->term; }
extern "C" uint8_t *sf_cuda_env_truncated(sf_cuda_env *g) { return g->trunc; }
extern "C" const sf_env_data *sf_cuda_env_state(const sf_cuda_env *g) { return &g->d; }

static int copy_state(sf_cuda_env *g, sf_env_data *host, cudaMemcpyKind kind) {
  if (host->P != g->d.P || host->N != g->d.N) return -1;
  arrays dev = layout(&g->d), hst = layout(host);
  // On the env's stream, which need not wait for the default one.
  for (int k = 0; k < SF_ENV_NARRAYS; ++k) {
    void *dst = kind == cudaMemcpyDeviceToHost ? hst.dev[k] : dev.dev[k];
    void *src = kind == cudaMemcpyDeviceToHost ? dev.dev[k] : hst.dev[k];
    note(g, cudaMemcpyAsync(dst, src, dev.bytes[k], kind, g->stream));
  }
  note(g, cudaStreamSynchronize(g->stream));
  return g->err == cudaSuccess ? 0 : -1;
}

extern "C" int sf_cuda_env_download(sf_cuda_env *g, sf_env_data *host) {
  return copy_state(g, host, cudaMemcpyDeviceToHost);
}

extern "C" int sf_cuda_env_upload(sf_cuda_env *g, const sf_env_data *host) {
  return copy_state(g, (sf_env_data *)host, cudaMemcpyHostToDevice);
}

extern "C" int sf_cuda_env_download_outputs(sf_cuda_env *g, float *obs, float *priv, float *reward,
                                            uint8_t *terminated, uint8_t *truncated) {
  size_t n = (size_t)g->d.n;
  note(g, cudaStreamSynchronize(g->stream));
  if (obs) note(g, cudaMemcpy(obs, g->obs, sizeof(float) * SF_OBS_DIM * n, cudaMemcpyDeviceToHost));
  if (priv) note(g, cudaMemcpy(priv, g->priv, sizeof(float) * SF_PRIV_DIM * n, cudaMemcpyDeviceToHost));
  if (reward) note(g, cudaMemcpy(reward, g->reward, sizeof(float) * n, cudaMemcpyDeviceToHost));
  if (terminated) note(g, cudaMemcpy(terminated, g->term, n, cudaMemcpyDeviceToHost));
  if (truncated) note(g, cudaMemcpy(truncated, g->trunc, n, cudaMemcpyDeviceToHost));
  return g->err == cudaSuccess ? 0 : -1;
}

extern "C" float *sf_cuda_env_upload_actions(sf_cuda_env *g, const float *host, long count) {
  float *d = NULL;
  cudaError_t e = cudaMalloc(&d, sizeof(float) * (size_t)count);
  if (e == cudaSuccess) e = cudaMemcpy(d, host, sizeof(float) * (size_t)count, cudaMemcpyHostToDevice);
  note(g, e);
  if (e != cudaSuccess) {
    if (d) cudaFree(d);
    return NULL;
  }
  return d;
}

extern "C" void sf_cuda_env_free_device(void *d_ptr) {
  if (d_ptr) cudaFree(d_ptr);
}

extern "C" void sf_cuda_env_sync(sf_cuda_env *g) { note(g, cudaStreamSynchronize(g->stream)); }

extern "C" int sf_cuda_env_error(sf_cuda_env *g, char *why, size_t cap) {
  if (g->err == cudaSuccess) return 0;
  snprintf(why, cap, "%s", cudaGetErrorString(g->err));
  return -1;
}
