/* The batched quadrotor environment on a CUDA GPU: reset, step (with reward,
 * termination and truncation), observation and privileged observation, one
 * thread per environment, running the very per-environment functions of
 * sim/sf_env_step.h that the CPU loops run. The device arrays mirror
 * sf_env_data one for one (same layout), so state copied back compares
 * directly with a CPU run, and a CPU state (a checkpoint) can be uploaded.
 *
 * Plain C API. Device buffers stay on the device between calls; the step
 * writes reward, terminated and truncated into device buffers that the
 * observation and the auto-reset read, and that can be copied to the host.
 * Calls are asynchronous on the env's stream (its own, or one shared with
 * other objects: sf_cuda_env_set_stream): sf_cuda_env_sync waits. */
#ifndef SF_ENV_CUDA_H
#define SF_ENV_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "sim/sf_env.h"
#include "sim/sf_pid.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_cuda_env sf_cuda_env;

/* 0 when a CUDA device can be used; else -1 with the reason in why (the
 * cudaGetDeviceCount error string, e.g. "CUDA driver version is insufficient
 * for CUDA runtime version", or "no CUDA device"). */
int sf_cuda_env_available(char *why, size_t cap);
/* Make device `index` modulo the device count the current one (a process
 * of several on a node takes the GPU of its local rank). 0 or -1 with why. */
int sf_cuda_use_device(int index, char *why, size_t cap);
/* Free and total memory of the current device, in bytes. 0 or -1. */
int sf_cuda_env_memory(size_t *free_bytes, size_t *total_bytes);

/* P agents x N envs on the current device, with the agents' seeds. NULL on
 * failure (no device, out of memory). */
sf_cuda_env *sf_cuda_env_new(int P, int N, const uint64_t *seeds);
void sf_cuda_env_free(sf_cuda_env *g);
const char *sf_cuda_env_device_name(const sf_cuda_env *g);

/* Run this object's work on `stream` (a cudaStream_t) from now on; NULL
 * returns it to its own stream. The caller keeps ownership of the stream. */
void sf_cuda_env_set_stream(sf_cuda_env *g, void *stream);
/* The stream the object's work runs on now (a cudaStream_t). */
void *sf_cuda_env_stream(sf_cuda_env *g);
/* Curriculum progress [P] of the environments' reward coefficients, from a
 * host array; waits. 0 or -1. */
int sf_cuda_env_set_progress(sf_cuda_env *g, const float *progress);

void sf_cuda_env_reset_all(sf_cuda_env *g, const sf_env_model *m);
/* Reset the envs whose device mask [P][N] is non-zero. */
void sf_cuda_env_reset_masked(sf_cuda_env *g, const sf_env_model *m, const uint8_t *d_mask);
/* Reset the envs whose last step terminated or truncated (auto-reset). */
void sf_cuda_env_reset_done(sf_cuda_env *g, const sf_env_model *m);
/* Step with device actions [P][N][4]; fills the device reward, terminated
 * and truncated buffers. */
void sf_cuda_env_step(sf_cuda_env *g, const sf_env_model *m, const float *d_actions);
/* Fill the device observation [P][N][18] / privileged observation
 * [P][N][146] buffers from the current state. */
void sf_cuda_env_observe(sf_cuda_env *g, const sf_env_model *m);
void sf_cuda_env_observe_privileged(sf_cuda_env *g, const sf_env_model *m);
/* The reference controller for every env: d_actions [P][N][4] from the
 * device observation [P][N][18] and the envs' device state (sf_pid_act_env,
 * as sf_pid_act_batch on the CPU). */
void sf_cuda_env_pid(sf_cuda_env *g, const sf_env_model *m, const sf_pid *c, const float *d_obs, float *d_actions);

/* Device buffers (valid until sf_cuda_env_free). */
float *sf_cuda_env_obs(sf_cuda_env *g);
float *sf_cuda_env_priv(sf_cuda_env *g);
float *sf_cuda_env_reward(sf_cuda_env *g);
uint8_t *sf_cuda_env_terminated(sf_cuda_env *g);
uint8_t *sf_cuda_env_truncated(sf_cuda_env *g);
/* The envs' state: P, N, n and the device arrays (for kernels of other
 * modules that read an env's step count or random counter). */
const sf_env_data *sf_cuda_env_state(const sf_cuda_env *g);

/* Copy the whole dynamic state to / from a host sf_env_data of the same
 * P and N. 0 or -1. */
int sf_cuda_env_download(sf_cuda_env *g, sf_env_data *host);
int sf_cuda_env_upload(sf_cuda_env *g, const sf_env_data *host);
/* Copy the outputs of the last step and observations to the host; any
 * pointer may be NULL. 0 or -1. */
int sf_cuda_env_download_outputs(sf_cuda_env *g, float *obs, float *priv, float *reward, uint8_t *terminated,
                                 uint8_t *truncated);

/* Device memory for a caller's arrays (e.g. actions): allocate and copy
 * `count` floats from the host; NULL on failure. Free with
 * sf_cuda_env_free_device. */
float *sf_cuda_env_upload_actions(sf_cuda_env *g, const float *host, long count);
void sf_cuda_env_free_device(void *d_ptr);

/* Wait for the env's work; then report the first CUDA error seen by any
 * call (0, or -1 with the message in why). */
void sf_cuda_env_sync(sf_cuda_env *g);
int sf_cuda_env_error(sf_cuda_env *g, char *why, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
