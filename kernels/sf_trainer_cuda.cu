// The trainer's collection and updates on the GPU (kernels/sf_trainer_cuda.h).
// It follows rl/sf_trainer.c step for step; every per-element expression is
// the CPU's own SF_HD function (rl/sf_rl_math.h, rl/sf_replay.h,
// models/sf_params.h), and every reduction over an agent's rows runs in one
// block per agent in a fixed order (CUB block reductions), so a run repeats
// exactly on the same GPU.
#include "kernels/sf_trainer_cuda.h"

#include <cub/block/block_reduce.cuh>
#include <cuda_runtime.h>
#include <nvtx3/nvToolsExt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_philox.h"
#include "rl/sf_plan.h"
#include "rl/sf_replay.h"
#include "rl/sf_rl_math.h"
#include "kernels/sf_actor_input_cuda.cuh"
#include "kernels/sf_adam_cuda.h"
#include "kernels/sf_env_cuda.h"
#include "kernels/sf_evaluate_cuda.h"
#include "kernels/sf_mlp_cuda.h"
#include "kernels/sf_snn_cuda.h"
#include "models/sf_params.h"

namespace {

constexpr int kThreads = 256;
unsigned blocks(long n) { return (unsigned)((n + kThreads - 1) / kThreads); }

// Per-agent settings the kernels read, refreshed from the host trainer at
// every collection and every batch of updates (the host loop changes some of
// them between epochs).
struct dev_agent {
  uint64_t seed;
  float gamma, alpha, lambda_bc, target_noise, target_clip, expl_noise;
  int horizon;
};

// Loss statistics of one update, per agent, as sf_update_stats.
struct dev_stats {
  double critic_loss, actor_loss, mean_q;
};

// An actor on the device: the SNN or an MLP.
struct dev_net {
  sf_cuda_snn *snn;
  sf_cuda_mlp *mlp;
  float *params() const { return snn ? sf_cuda_snn_params(snn) : sf_cuda_mlp_params(mlp); }
  float *grads() const { return snn ? sf_cuda_snn_grads(snn) : sf_cuda_mlp_grads(mlp); }
  long n() const { return snn ? sf_cuda_snn_nparams(snn) : sf_cuda_mlp_nparams(mlp); }
};

// ---- collection kernels ---------------------------------------------------

// Who acts in each env, and the step's action, label and flags into the
// episode being recorded (the first loop of sf_trainer_collect's step).
__global__ void k_collect_act(long n, int N, int L, const dev_agent *ag, const int32_t *ep_step,
                              const uint32_t *rng_ctr, int has_guide, const float *pi, const float *guide, float *act,
                              float *stage_act, float *stage_expert, uint8_t *stage_flags) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const int p = (int)(i / N), step = ep_step[i];
  const int guided = has_guide && step < ag[p].horizon;
  float a[SF_ACT_DIM];
  if (guided) {
    for (int j = 0; j < SF_ACT_DIM; ++j) a[j] = guide[i * SF_ACT_DIM + j];
  } else {
    float z[4];
    sf_normal4(sf_rng_bits(ag[p].seed, (uint32_t)(i % N), rng_ctr[i], SF_STREAM(SF_RNG_EXPLORE, 0), 0), z);
    for (int j = 0; j < SF_ACT_DIM; ++j) a[j] = sf_explore_action(pi[i * SF_ACT_DIM + j], z[j], ag[p].expl_noise);
  }
  const long row = i * (L + 1) + step;
  for (int j = 0; j < SF_ACT_DIM; ++j) {
    act[i * SF_ACT_DIM + j] = a[j];
    stage_act[row * SF_ACT_DIM + j] = a[j];
    stage_expert[row * SF_ACT_DIM + j] = has_guide ? guide[i * SF_ACT_DIM + j] : a[j];
  }
  stage_flags[row] = guided ? SF_ROW_GUIDE : 0;
}

// After the environment step: reward and end flags of the step just taken,
// the new observations into the next row, and which envs are done.
__global__ void k_collect_record(long n, int L, const int32_t *ep_step, const float *rew, const uint8_t *term,
                                 const uint8_t *trunc, const float *obs, const float *priv, float *stage_obs,
                                 float *stage_priv, float *stage_rew, uint8_t *stage_flags, uint8_t *done) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const long prev = i * (L + 1) + ep_step[i] - 1, row = prev + 1;
  stage_rew[prev] = rew[i];
  if (term[i]) stage_flags[prev] |= SF_ROW_TERMINATED;
  if (trunc[i]) stage_flags[prev] |= SF_ROW_TRUNCATED;
  for (int k = 0; k < SF_OBS_DIM; ++k) stage_obs[row * SF_OBS_DIM + k] = obs[i * SF_OBS_DIM + k];
  for (int k = 0; k < SF_PRIV_DIM; ++k) stage_priv[row * SF_PRIV_DIM + k] = priv[i * SF_PRIV_DIM + k];
  done[i] = term[i] || trunc[i];
}

// The first row of the episodes that just began (after the auto-reset).
__global__ void k_stage_first(long n, int L, const uint8_t *done, const float *obs, const float *priv,
                              float *stage_obs, float *stage_priv) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n || !done[i]) return;
  const long row = i * (L + 1);
  for (int k = 0; k < SF_OBS_DIM; ++k) stage_obs[row * SF_OBS_DIM + k] = obs[i * SF_OBS_DIM + k];
  for (int k = 0; k < SF_PRIV_DIM; ++k) stage_priv[row * SF_PRIV_DIM + k] = priv[i * SF_PRIV_DIM + k];
}

// ---- update kernels -------------------------------------------------------

// Sequence windows into the batch: one thread per (agent, step, column),
// running the CPU sampler's gather. The windows of update k of the current
// chunk start at windows + k P B, k read from the device (graph replays).
__global__ void k_gather(int P, int T, int B, long cap, const sf_window *windows, const int *k, const float *rb_obs,
                         const float *rb_priv, const float *rb_act, const float *rb_expert, const float *rb_rew,
                         const uint8_t *rb_flags, float *b_obs, float *b_priv, float *b_act, float *b_expert,
                         float *b_rew, float *b_done, float *b_mask, float *b_guide, int *b_offset) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long)P * (T + 1) * B) return;
  const int p = (int)(i / ((long)(T + 1) * B)), t = (int)(i / B % (T + 1)), j = (int)(i % B);
  const sf_window w = windows[((long)*k * P + p) * B + j];
  const size_t base = (size_t)p * cap;
  sf_replay_rows rows;
  rows.obs_dim = SF_OBS_DIM;
  rows.priv_dim = SF_PRIV_DIM;
  rows.act_dim = SF_ACT_DIM;
  rows.obs = rb_obs + base * SF_OBS_DIM;
  rows.priv = rb_priv + base * SF_PRIV_DIM;
  rows.act = rb_act + base * SF_ACT_DIM;
  rows.expert = rb_expert + base * SF_ACT_DIM;
  rows.rew = rb_rew + base;
  rows.flags = rb_flags + base;
  const size_t o1 = (size_t)p * (T + 1) * B, o = (size_t)p * T * B;
  sf_seq_batch b;
  b.T = T;
  b.B = B;
  b.obs = b_obs + o1 * SF_OBS_DIM;
  b.priv = b_priv + o1 * SF_PRIV_DIM;
  b.act = b_act + o * SF_ACT_DIM;
  b.expert = b_expert + o * SF_ACT_DIM;
  b.rew = b_rew + o;
  b.done = b_done + o;
  b.mask = b_mask + o;
  b.guide = b_guide + o;
  b.episode = NULL;
  b.offset = NULL;
  sf_replay_gather_step(&rows, &w, t, j, &b);
  if (t == 0) b_offset[(long)p * B + j] = w.off;
}

// Target policy smoothing of the target actor's next actions, in place.
__global__ void k_smooth(int P, long rows, const dev_agent *ag, const uint32_t *counter, float *a) {
  long r = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= (long)P * rows) return;
  const int p = (int)(r / rows);
  float z[4];
  sf_normal4(sf_rng_bits(ag[p].seed, (uint32_t)(r % rows), *counter, SF_STREAM(SF_RNG_TARGET, 0), 0), z);
  for (int j = 0; j < SF_ACT_DIM; ++j)
    a[r * SF_ACT_DIM + j] = sf_smoothed_action(a[r * SF_ACT_DIM + j], z[j], ag[p].target_noise, ag[p].target_clip);
}

__global__ void k_td_target(int P, long rows, const dev_agent *ag, const float *rew, const float *done,
                            const float *q1, const float *q2, float *y) {
  long r = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= (long)P * rows) return;
  y[r] = sf_td_target(rew[r], done[r], ag[r / rows].gamma, q1[r], q2[r]);
}

typedef cub::BlockReduce<double, kThreads> block_sum;

// Sum of v over the block; the result is valid in thread 0. Reuses tmp.
__device__ double sum_block(block_sum::TempStorage &tmp, double v) {
  double s = block_sum(tmp).Sum(v);
  __syncthreads();
  return s;
}

// Every thread gets the block's sum.
__device__ double share(double v) {
  __shared__ double s;
  if (threadIdx.x == 0) s = v;
  __syncthreads();
  double r = s;
  __syncthreads();
  return r;
}

// The critic's masked mean squared error and its gradient, one block per
// agent: the loss goes to stats (first critic: set, second: added).
__global__ void k_critic_loss(long rows, const float *q, const float *y, const float *mask, float *dq,
                              dev_stats *stats, int first) {
  __shared__ block_sum::TempStorage tmp;
  const int p = blockIdx.x;
  const long o = (long)p * rows;
  double n = 0, loss = 0;
  for (long r = threadIdx.x; r < rows; r += blockDim.x) n += mask[o + r];
  n = share(sum_block(tmp, n));
  const float inv_n = n > 0 ? (float)(1.0 / n) : 0.0f;
  for (long r = threadIdx.x; r < rows; r += blockDim.x) {
    double e = q[o + r] - y[o + r];
    loss += mask[o + r] * e * e;
    dq[o + r] = sf_critic_grad(q[o + r], y[o + r], mask[o + r], inv_n);
  }
  loss = sum_block(tmp, loss);
  if (threadIdx.x == 0) stats[p].critic_loss = (first ? 0.0 : stats[p].critic_loss) + (n > 0 ? loss / n : 0.0);
}

// The steps that carry the actor's loss (am), their count and, with a
// critic, Q's mean, TD3BC's lambda_Q and dL/dQ1 = -lambda_Q am / n. One
// block per agent.
__global__ void k_actor_prepare(long rows, int warmup, int B, int learn_from_start, const int *offset,
                                const float *mask, const float *q, int plain_q, const dev_agent *ag, float *am,
                                float *dq, double *count, double *lambda_q, double *mean_q) {
  __shared__ block_sum::TempStorage tmp;
  const int p = blockIdx.x;
  const long o = (long)p * rows;
  double c = 0, sabs = 0, s = 0;
  for (long r = threadIdx.x; r < rows; r += blockDim.x) {
    float m = sf_actor_step_mask(r, warmup, B, offset[(long)p * B + r % B], learn_from_start, mask[o + r]);
    am[o + r] = m;
    c += m;
    if (q) {
      sabs += m * fabs((double)q[o + r]);
      s += m * (double)q[o + r];
    }
  }
  c = share(sum_block(tmp, c));
  double lq = 0.0, mq = 0.0;
  if (q) {
    sabs = sum_block(tmp, sabs);
    s = sum_block(tmp, s);
    if (threadIdx.x == 0) {
      mq = c > 0 ? s / c : 0.0;
      lq = plain_q ? 1.0 : sf_td3bc_lambda(ag[p].alpha, c > 0 ? sabs / c : 0.0);
    }
    lq = share(lq);
    const float inv_n = c > 0 ? (float)(1.0 / c) : 0.0f;
    for (long r = threadIdx.x; r < rows; r += blockDim.x) dq[o + r] = -(float)lq * am[o + r] * inv_n;
  }
  if (threadIdx.x == 0) {
    count[p] = c;
    lambda_q[p] = lq;
    mean_q[p] = mq;
  }
}

// dL/d(action) of the actor: the critic's part plus the BC term towards the
// guide's label or the stored action, and the actor's loss. One block per
// agent.
__global__ void k_actor_bc(long rows, int bc_to_guide, int bc_only, const dev_agent *ag, const float *pi,
                           const float *b_act, const float *b_expert, const float *am, const float *dqa,
                           const double *count, const double *lambda_q, const double *mean_q, float *dpi,
                           dev_stats *stats) {
  __shared__ block_sum::TempStorage tmp;
  const int p = blockIdx.x;
  const float lbc = bc_only ? 1.0f : ag[p].lambda_bc;
  const float inv_n = count[p] > 0 ? (float)(1.0 / count[p]) : 0.0f;
  double bc = 0;
  for (long r = threadIdx.x; r < rows; r += blockDim.x) {
    const long i = (long)p * rows + r;
    const float m = am[i];
    for (int j = 0; j < SF_ACT_DIM; ++j) {
      const long k = i * SF_ACT_DIM + j;
      const float target = bc_to_guide ? b_expert[k] : b_act[k], diff = pi[k] - target;
      bc += m * diff * diff;
      dpi[k] = sf_actor_action_grad(dqa[k], pi[k], target, m, lbc, inv_n);
    }
  }
  bc = sum_block(tmp, bc);
  if (threadIdx.x == 0) {
    stats[p].mean_q = mean_q[p];
    stats[p].actor_loss = -lambda_q[p] * mean_q[p] + lbc * (count[p] > 0 ? bc / count[p] : 0.0);
  }
}

__global__ void k_polyak(long n, float *target, const float *online, float keep, float tau) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) target[i] = sf_polyak(target[i], online[i], keep, tau);
}

// An update begins with last update's losses standing in for the parts it
// does not compute (sf_trainer_update).
__global__ void k_stats_begin(int P, const float *last, dev_stats *upd) {
  int p = blockIdx.x * blockDim.x + threadIdx.x;
  if (p >= P) return;
  upd[p].critic_loss = last[2 * p];
  upd[p].actor_loss = last[2 * p + 1];
  upd[p].mean_q = 0.0;
}

// ... and ends by keeping them, adding them to the epoch's sums and moving
// the device counters (noise draw, window slot) on.
__global__ void k_stats_end(int P, const dev_stats *upd, float *last, dev_stats *acc, uint32_t *counter, int *k) {
  int p = blockIdx.x * blockDim.x + threadIdx.x;
  if (p >= P) return;
  last[2 * p] = (float)upd[p].critic_loss;
  last[2 * p + 1] = (float)upd[p].actor_loss;
  acc[p].critic_loss += upd[p].critic_loss;
  acc[p].actor_loss += upd[p].actor_loss;
  acc[p].mean_q += upd[p].mean_q;
  if (p == 0) {
    *counter += 1;
    *k += 1;
  }
}

}  // namespace

struct sf_cuda_trainer {
  sf_trainer *t;
  int P, N, T, B, L, in;
  long n;    // P * N environments
  long cap;  // replay rows per agent
  cudaStream_t stream;
  cudaError_t err;
  char msg[256];  // the first failure that was not a CUDA error
  // networks
  dev_net actor, actor_target;
  sf_cuda_mlp *guide, *q[2], *q_target[2];
  sf_cuda_adam *adam_actor, *adam_critic[2];
  // environments and collection
  sf_cuda_env *env;
  sf_cuda_snn_state *st;
  // the host trainer's buffer sets, laid out alike on the device (one block
  // each: a push or a pull of a set is one copy)
  sf_stage_bufs stage;
  sf_step_bufs step;
  sf_batch_bufs batch;
  sf_update_bufs work;
  void *block[SF_BUFS_N];
  uint8_t *h_done;
  int32_t *h_step;
  float *h_ep;  // one episode's rows on the host, (L + 1) x (18 + 146 + 4 + 4 + 1)
  uint8_t *h_ep_flags;
  // replay rows [P][cap][...]
  sf_replay rb;  // the host buffer's row pointers, pointed into rb_block (its layout)
  void *rb_block;
  // update
  sf_window *windows, *h_windows;  // [chunk][P][B]; the host side pinned
  int chunk;
  int *k;            // window slot of the current update inside the chunk
  uint32_t *counter; // updates done (the smoothing noise's draw counter)
  const float *x_seq;  // the actor's input over the batch: work.x_seq, or the batch's own obs or priv
  double *count, *lambda_q, *mean_q;
  dev_agent *ag, *h_ag;
  float *lr_actor, *lr_critic;
  dev_stats *upd, *acc;
  float *last;  // [P][2] critic and actor loss of the last update
  // captured updates: [0] critic only, [1] with the actor's turn, for the
  // update shape of the plan being executed
  sf_update_shape shape;
  cudaGraphExec_t graph[2];
  int warm[2];
  int no_graphs;  // capture failed once: stay eager
  char device[256];
};

namespace {

void note(sf_cuda_trainer *g, cudaError_t e) {
  if (e != cudaSuccess && g->err == cudaSuccess) g->err = e;
}

void fail(sf_cuda_trainer *g, const char *what) {
  if (!g->msg[0]) snprintf(g->msg, sizeof g->msg, "%s", what);
}

bool ok(const sf_cuda_trainer *g) { return g->err == cudaSuccess && !g->msg[0]; }

template <typename X>
void dalloc(sf_cuda_trainer *g, X **p, size_t count) {
  note(g, cudaMalloc((void **)p, count ? sizeof(X) * count : sizeof(X)));
}

template <typename X>
void h2d(sf_cuda_trainer *g, X *dst, const X *src, size_t count) {
  if (count) note(g, cudaMemcpyAsync(dst, src, sizeof(X) * count, cudaMemcpyHostToDevice, g->stream));
}

template <typename X>
void d2h(sf_cuda_trainer *g, X *dst, const X *src, size_t count) {
  if (count) note(g, cudaMemcpyAsync(dst, src, sizeof(X) * count, cudaMemcpyDeviceToHost, g->stream));
}

bool has_critic(const sf_trainer *t) { return t->s.algo != SF_ALGO_BC; }

// Rows [r0, r0 + T) of each agent's [T + 1][B][F] block into [P][T][B][F].
void take_rows(sf_cuda_trainer *g, int F, int r0, const float *src, float *dst) {
  const size_t w = sizeof(float) * g->T * g->B * F;
  note(g, cudaMemcpy2DAsync(dst, w, src + (size_t)r0 * g->B * F, sizeof(float) * (g->T + 1) * g->B * F, w, g->P,
                            cudaMemcpyDeviceToDevice, g->stream));
}

// The actor's input for `rows` rows per agent of obs and priv.
const float *actor_input(sf_cuda_trainer *g, long rows, const float *obs, const float *priv, float *out) {
  return sf_cuda_actor_input(g->t->actor->cfg.input, g->P * rows, obs, priv, out, g->stream);
}

int net_forward(const dev_net &a, int T, int B, const float *x, int in, float *y) {
  return a.snn ? sf_cuda_snn_forward(a.snn, T, B, x, y) : sf_cuda_mlp_forward(a.mlp, (long)T * B, x, in, NULL, y);
}

int net_backward(const dev_net &a, const float *dy) {
  return a.snn ? sf_cuda_snn_backward(a.snn, 0, dy, NULL) : sf_cuda_mlp_backward(a.mlp, dy, 1, NULL, NULL);
}

void net_zero_grad(const dev_net &a) {
  if (a.snn) sf_cuda_snn_zero_grad(a.snn);
  else sf_cuda_mlp_zero_grad(a.mlp);
}

void polyak(sf_cuda_trainer *g, float *target, const float *online, long n) {
  const float tau = g->t->s.tau;
  k_polyak<<<blocks(g->P * n), kThreads, 0, g->stream>>>(g->P * n, target, online, 1.0f - tau, tau);
}

void refresh_agents(sf_cuda_trainer *g, const sf_plan *plan) {
  const sf_trainer *t = g->t;
  float *lr = (float *)malloc(sizeof(float) * 2 * g->P);
  for (int p = 0; p < g->P; ++p) {
    const sf_agent_settings *a = &t->agent[p];
    const sf_plan_agent *pa = &plan->agent[p];
    g->h_ag[p] = dev_agent{a->seed,         a->gamma,       pa->alpha,     pa->lambda_bc,
                           a->target_noise, a->target_clip, a->expl_noise, pa->horizon};
    lr[p] = a->actor_lr;
    lr[g->P + p] = a->critic_lr;
  }
  h2d(g, g->ag, g->h_ag, g->P);
  h2d(g, g->lr_actor, lr, g->P);
  h2d(g, g->lr_critic, lr + g->P, g->P);
  note(g, cudaStreamSynchronize(g->stream));  // lr is freed next
  free(lr);
}

// ---- one update -----------------------------------------------------------

void critic_update(sf_cuda_trainer *g) {
  nvtxRangePushA("critic update");
  const int P = g->P, T = g->T, B = g->B;
  const long rows = (long)T * B;
  sf_update_bufs *w = &g->work;
  if (net_forward(g->actor_target, T + 1, B, g->x_seq, g->in, w->a_next) != 0) fail(g, "target actor forward");
  take_rows(g, SF_ACT_DIM, 1, w->a_next, w->a_smooth);
  k_smooth<<<blocks(P * rows), kThreads, 0, g->stream>>>(P, rows, g->ag, g->counter, w->a_smooth);
  if (sf_cuda_mlp_forward(g->q_target[0], rows, w->priv_next, SF_PRIV_DIM, w->a_smooth, w->q1) ||
      sf_cuda_mlp_forward(g->q_target[1], rows, w->priv_next, SF_PRIV_DIM, w->a_smooth, w->q2))
    fail(g, "target critic forward");
  k_td_target<<<blocks(P * rows), kThreads, 0, g->stream>>>(P, rows, g->ag, g->batch.rew, g->batch.done, w->q1,
                                                            w->q2, w->y);
  for (int c = 0; c < 2; ++c) {
    sf_cuda_mlp *q = g->q[c];
    if (sf_cuda_mlp_forward(q, rows, w->priv_cur, SF_PRIV_DIM, g->batch.act, w->q1)) fail(g, "critic forward");
    k_critic_loss<<<P, kThreads, 0, g->stream>>>(rows, w->q1, w->y, g->batch.mask, w->dq, g->upd, c == 0);
    sf_cuda_mlp_zero_grad(q);
    if (sf_cuda_mlp_backward(q, w->dq, 1, NULL, NULL)) fail(g, "critic backward");
    if (sf_cuda_adam_step(g->adam_critic[c], sf_cuda_mlp_params(q), sf_cuda_mlp_grads(q), g->lr_critic, g->stream))
      fail(g, "critic Adam step");
  }
  nvtxRangePop();
}

void actor_update(sf_cuda_trainer *g) {
  nvtxRangePushA("actor update");
  const sf_trainer *t = g->t;
  const int P = g->P, T = g->T, B = g->B;
  const long rows = (long)T * B;
  sf_update_bufs *w = &g->work;
  take_rows(g, g->in, 0, g->x_seq, w->x_cur);
  if (net_forward(g->actor, T, B, w->x_cur, g->in, w->pi) != 0) fail(g, "actor forward");
  const int critic = g->shape.critic;
  if (critic && sf_cuda_mlp_forward(g->q[0], rows, w->priv_cur, SF_PRIV_DIM, w->pi, w->q1)) fail(g, "critic forward");
  k_actor_prepare<<<P, kThreads, 0, g->stream>>>(rows, t->s.warmup, B, t->s.learn_from_start, g->batch.offset,
                                                 g->batch.mask, critic ? w->q1 : NULL, g->shape.plain_q, g->ag,
                                                 w->amask, w->dq, g->count, g->lambda_q, g->mean_q);
  if (critic) {
    // dL/d(action) through the critic: the critic's gradient reaches the actor.
    if (sf_cuda_mlp_backward(g->q[0], w->dq, 0, NULL, w->dqa)) fail(g, "critic backward to the action");
  } else {
    note(g, cudaMemsetAsync(w->dqa, 0, sizeof(float) * P * rows * SF_ACT_DIM, g->stream));
  }
  // The plan's BC weight (1 for bc) is in ag: no special case here.
  k_actor_bc<<<P, kThreads, 0, g->stream>>>(rows, t->s.bc_to_guide, 0, g->ag, w->pi, g->batch.act, g->batch.expert,
                                            w->amask, w->dqa, g->count, g->lambda_q, g->mean_q, w->dpi, g->upd);
  net_zero_grad(g->actor);
  if (net_backward(g->actor, w->dpi) != 0) fail(g, "actor backward");
  if (sf_cuda_adam_step(g->adam_actor, g->actor.params(), g->actor.grads(), g->lr_actor, g->stream))
    fail(g, "actor Adam step");
  polyak(g, g->actor_target.params(), g->actor.params(), g->actor.n());
  if (critic)
    for (int c = 0; c < 2; ++c)
      polyak(g, sf_cuda_mlp_params(g->q_target[c]), sf_cuda_mlp_params(g->q[c]), sf_cuda_mlp_nparams(g->q[c]));
  nvtxRangePop();
}

// The batch as both phases read it (rl/sf_trainer.c's prepare_batch): the
// actor's input over the T + 1 steps and the critics' states s_t, s_{t+1}.
void prepare_batch(sf_cuda_trainer *g) {
  const sf_batch_bufs *b = &g->batch;
  g->x_seq = actor_input(g, (long)(g->T + 1) * g->B, b->obs, b->priv, g->work.x_seq);
  take_rows(g, SF_PRIV_DIM, 1, b->priv, g->work.priv_next);
  take_rows(g, SF_PRIV_DIM, 0, b->priv, g->work.priv_cur);
}

// Everything of one update, queued on the stream (eagerly, or into a graph).
void queue_update(sf_cuda_trainer *g, int actor_turn) {
  const int P = g->P, T = g->T, B = g->B;
  const sf_batch_bufs *b = &g->batch;
  k_stats_begin<<<blocks(P), kThreads, 0, g->stream>>>(P, g->last, g->upd);
  k_gather<<<blocks((long)P * (T + 1) * B), kThreads, 0, g->stream>>>(
      P, T, B, g->cap, g->windows, g->k, g->rb.obs, g->rb.priv, g->rb.act, g->rb.expert, g->rb.rew, g->rb.flags,
      b->obs, b->priv, b->act, b->expert, b->rew, b->done, b->mask, b->guide, b->offset);
  prepare_batch(g);
  if (g->shape.critic) critic_update(g);
  if (actor_turn) actor_update(g);
  k_stats_end<<<blocks(P), kThreads, 0, g->stream>>>(P, g->upd, g->last, g->acc, g->counter, g->k);
  note(g, cudaGetLastError());
}

// The update shape the next updates run: the captured graphs belong to one
// shape, and a plan of another shape (the guide's teacher epochs, then TD3)
// drops them.
void set_shape(sf_cuda_trainer *g, const sf_update_shape *shape) {
  if (sf_update_shape_equal(shape, &g->shape)) return;
  for (int v = 0; v < 2; ++v) {
    if (g->graph[v]) cudaGraphExecDestroy(g->graph[v]);
    g->graph[v] = NULL;
    g->warm[v] = 0;
  }
  g->shape = *shape;
}

// One update: replayed from its graph when captured, else queued eagerly.
// The first update of each kind runs eagerly (it sizes the workspaces that
// grow on first use), the second is captured.
void launch_update(sf_cuda_trainer *g, int actor_turn) {
  cudaGraphExec_t *exec = &g->graph[actor_turn];
  if (!*exec && g->warm[actor_turn] && !g->no_graphs) {
    cudaGraph_t graph = NULL;
    if (cudaStreamBeginCapture(g->stream, cudaStreamCaptureModeThreadLocal) == cudaSuccess) {
      queue_update(g, actor_turn);
      if (cudaStreamEndCapture(g->stream, &graph) != cudaSuccess ||
          cudaGraphInstantiate(exec, graph, 0) != cudaSuccess)
        *exec = NULL;
      if (graph) cudaGraphDestroy(graph);
    }
    if (!*exec) {
      // Not capturable here: run eagerly from now on (nothing captured ran).
      cudaGetLastError();
      g->no_graphs = 1;
    }
  }
  if (*exec) {
    nvtxRangePushA(actor_turn ? "update (graph, critic + actor)" : "update (graph, critic)");
    note(g, cudaGraphLaunch(*exec, g->stream));
    nvtxRangePop();
  } else {
    queue_update(g, actor_turn);
    g->warm[actor_turn] = 1;
  }
}

// ---- replay rows ----------------------------------------------------------

// Host replay rows [r0, r0 + count) of agent p to the device: the same
// span of every buffer of the replay's layout.
void upload_rows(sf_cuda_trainer *g, int p, long r0, long count) {
  const sf_replay *rb = g->t->rb;
  const size_t row = (size_t)p * g->cap + (size_t)r0;
  for (int i = 0; i < rb->rows.n; ++i) {
    const size_t bytes = sf_buffer_row_bytes(&rb->rows, i), at = rb->rows.offset[i] + row * bytes;
    h2d(g, (char *)g->rb_block + at, (const char *)rb->block + at, (size_t)count * bytes);
  }
}

// File env i's finished episode of `len` steps: its recorded rows to the
// host, into the host replay buffer's table (which picks the rows and
// evicts), and the rows as stored there to the device.
int file_episode(sf_cuda_trainer *g, long i, int len) {
  const int L = g->L, p = (int)(i / g->N);
  const size_t base = (size_t)i * (L + 1), rows = (size_t)len + 1;
  float *obs = g->h_ep, *priv = obs + (L + 1) * SF_OBS_DIM, *act = priv + (L + 1) * SF_PRIV_DIM;
  float *ex = act + (L + 1) * SF_ACT_DIM, *rew = ex + (L + 1) * SF_ACT_DIM;
  d2h(g, obs, g->stage.obs + base * SF_OBS_DIM, rows * SF_OBS_DIM);
  d2h(g, priv, g->stage.priv + base * SF_PRIV_DIM, rows * SF_PRIV_DIM);
  d2h(g, act, g->stage.act + base * SF_ACT_DIM, (size_t)len * SF_ACT_DIM);
  d2h(g, ex, g->stage.expert + base * SF_ACT_DIM, (size_t)len * SF_ACT_DIM);
  d2h(g, rew, g->stage.rew + base, (size_t)len);
  d2h(g, g->h_ep_flags, g->stage.flags + base, (size_t)len);
  note(g, cudaStreamSynchronize(g->stream));
  if (!ok(g)) return -1;
  sf_replay *rb = g->t->rb;
  if (sf_replay_add_episode(rb, p, len, obs, priv, act, ex, rew, g->h_ep_flags) != 0) {
    fail(g, "an episode does not fit the replay buffer (train.buffer)");
    return -1;
  }
  upload_rows(g, p, rb->write_row[p] - (long)rows, (long)rows);
  return 0;
}

}  // namespace

// ---- public API -----------------------------------------------------------

extern "C" void sf_cuda_trainer_free(sf_cuda_trainer *g) {
  if (!g) return;
  for (int v = 0; v < 2; ++v)
    if (g->graph[v]) cudaGraphExecDestroy(g->graph[v]);
  if (g->actor.snn) sf_cuda_snn_free(g->actor.snn);
  if (g->actor_target.snn) sf_cuda_snn_free(g->actor_target.snn);
  if (g->actor.mlp) sf_cuda_mlp_free(g->actor.mlp);
  if (g->actor_target.mlp) sf_cuda_mlp_free(g->actor_target.mlp);
  if (g->guide) sf_cuda_mlp_free(g->guide);
  for (int c = 0; c < 2; ++c) {
    if (g->q[c]) sf_cuda_mlp_free(g->q[c]);
    if (g->q_target[c]) sf_cuda_mlp_free(g->q_target[c]);
    if (g->adam_critic[c]) sf_cuda_adam_free(g->adam_critic[c]);
  }
  if (g->adam_actor) sf_cuda_adam_free(g->adam_actor);
  if (g->st) sf_cuda_snn_state_free(g->st);
  if (g->env) sf_cuda_env_free(g->env);
  for (void *b : g->block) cudaFree(b);
  void *bufs[] = {g->rb_block, g->windows, g->k,   g->counter, g->count, g->lambda_q, g->mean_q,
                  g->ag,       g->lr_actor, g->lr_critic, g->upd,   g->acc,     g->last};
  for (void *b : bufs) cudaFree(b);
  cudaFreeHost(g->h_windows);
  cudaFreeHost(g->h_done);
  cudaFreeHost(g->h_step);
  free(g->h_ep);
  free(g->h_ep_flags);
  free(g->h_ag);
  if (g->stream) cudaStreamDestroy(g->stream);
  free(g);
}

extern "C" const char *sf_cuda_trainer_device(const sf_cuda_trainer *g) { return g->device; }

// The device's struct of buffer set `set` (as sf_trainer_bufs on the host).
static void *device_bufs(sf_cuda_trainer *g, int set) {
  void *const sets[SF_BUFS_N] = {&g->stage, &g->step, &g->batch, &g->work, NULL};
  return sets[set];
}

static dev_net new_net(const sf_actor *a) {
  dev_net d = {NULL, NULL};
  if (a->snn) d.snn = sf_cuda_snn_new(a->snn);
  else d.mlp = sf_cuda_mlp_new(a->mlp);
  return d;
}

static bool net_made(const dev_net &d) { return d.snn || d.mlp; }

static void net_stream(const dev_net &d, cudaStream_t s) {
  if (d.snn) sf_cuda_snn_set_stream(d.snn, s);
  if (d.mlp) sf_cuda_mlp_set_stream(d.mlp, s);
}

extern "C" sf_cuda_trainer *sf_cuda_trainer_new(sf_trainer *t, char *err, size_t errlen) {
  char why[256];
  if (sf_cuda_env_available(why, sizeof why) != 0) {
    snprintf(err, errlen, "no usable CUDA device: %s", why);
    return NULL;
  }
  sf_cuda_trainer *g = (sf_cuda_trainer *)calloc(1, sizeof *g);
  if (!g) {
    snprintf(err, errlen, "out of host memory");
    return NULL;
  }
  g->t = t;
  g->P = t->P;
  g->N = t->s.envs;
  g->T = t->s.seq_len;
  g->B = t->s.batch;
  g->L = t->model.task.time_limit;
  g->in = t->actor->in_dim;
  g->n = (long)g->P * g->N;
  g->cap = t->rb->capacity;
  g->shape.policy_delay = -1;  // no update run yet: matches no plan
  const int P = g->P, B = g->B, L = g->L;
  // The replay rows dominate; say so plainly when they do not fit.
  const size_t rb_bytes = t->rb->rows.bytes;
  size_t free_b = 0, total_b = 0;
  note(g, cudaMemGetInfo(&free_b, &total_b));
  if (g->err == cudaSuccess && rb_bytes > free_b) {
    snprintf(err, errlen, "the replay buffers need %.1f GB of GPU memory, %.1f GB are free (lower train.buffer)",
             rb_bytes / 1e9, free_b / 1e9);
    sf_cuda_trainer_free(g);
    return NULL;
  }
  note(g, cudaStreamCreate(&g->stream));
  int dev = 0;
  cudaDeviceProp prop;
  if (cudaGetDevice(&dev) == cudaSuccess && cudaGetDeviceProperties(&prop, dev) == cudaSuccess)
    snprintf(g->device, sizeof g->device, "%s", prop.name);
  g->actor = new_net(t->actor);
  g->actor_target = new_net(t->actor_target);
  bool made = net_made(g->actor) && net_made(g->actor_target);
  net_stream(g->actor, g->stream);
  net_stream(g->actor_target, g->stream);
  g->adam_actor = sf_cuda_adam_new(P, t->adam_actor->n, t->adam_actor->beta1, t->adam_actor->beta2, t->adam_actor->eps);
  made = made && g->adam_actor;
  if (has_critic(t))
    for (int c = 0; c < 2 && made; ++c) {
      g->q[c] = sf_cuda_mlp_new(t->critic.q[c]);
      g->q_target[c] = sf_cuda_mlp_new(t->critic.target[c]);
      const sf_adam *a = t->adam_critic[c];
      g->adam_critic[c] = sf_cuda_adam_new(P, a->n, a->beta1, a->beta2, a->eps);
      made = g->q[c] && g->q_target[c] && g->adam_critic[c];
      if (made) {
        sf_cuda_mlp_set_stream(g->q[c], g->stream);
        sf_cuda_mlp_set_stream(g->q_target[c], g->stream);
      }
    }
  if (made && t->guide) {
    g->guide = sf_cuda_mlp_new(t->guide->mlp);
    made = g->guide != NULL;
    if (made) sf_cuda_mlp_set_stream(g->guide, g->stream);
  }
  if (made && t->online) {
    uint64_t *seeds = (uint64_t *)malloc(sizeof(uint64_t) * P);
    for (int p = 0; p < P; ++p) seeds[p] = t->agent[p].seed;
    g->env = sf_cuda_env_new(P, g->N, seeds);
    free(seeds);
    made = g->env != NULL;
    if (made) sf_cuda_env_set_stream(g->env, g->stream);
    if (made && g->actor.snn) made = (g->st = sf_cuda_snn_state_new(g->actor.snn, g->N)) != NULL;
    note(g, cudaMallocHost((void **)&g->h_done, (size_t)g->n));
    note(g, cudaMallocHost((void **)&g->h_step, sizeof(int32_t) * g->n));
    g->h_ep = (float *)malloc(sizeof(float) * (L + 1) * (SF_OBS_DIM + SF_PRIV_DIM + 2 * SF_ACT_DIM + 1));
    g->h_ep_flags = (uint8_t *)malloc((size_t)L + 1);
    made = made && g->h_ep && g->h_ep_flags;
  }
  dalloc(g, (char **)&g->rb_block, t->rb->rows.bytes);
  if (g->rb_block) sf_buffer_point(&t->rb->rows, &g->rb, g->rb_block);
  // Windows for up to 64 updates, or fewer when P B is large (~32 MB).
  const long per_update = (long)P * B;
  const long fit = (32l << 20) / (per_update * (long)sizeof(sf_window));
  g->chunk = fit < 1 ? 1 : fit > 64 ? 64 : (int)fit;
  dalloc(g, &g->windows, (size_t)g->chunk * per_update);
  note(g, cudaMallocHost((void **)&g->h_windows, sizeof(sf_window) * g->chunk * per_update));
  dalloc(g, &g->k, 1);
  dalloc(g, &g->counter, 1);
  // The buffer sets of the host trainer's tables, one device block each
  // (the per-agent set stays on the host: the host loop keeps it).
  for (int set = 0; set < SF_BUFS_AGENT; ++set) {
    dalloc(g, (char **)&g->block[set], t->layout[set].bytes);
    if (g->block[set]) sf_buffer_point(&t->layout[set], device_bufs(g, set), g->block[set]);
  }
  dalloc(g, &g->count, P);
  dalloc(g, &g->lambda_q, P);
  dalloc(g, &g->mean_q, P);
  dalloc(g, &g->ag, P);
  dalloc(g, &g->lr_actor, P);
  dalloc(g, &g->lr_critic, P);
  dalloc(g, &g->upd, P);
  dalloc(g, &g->acc, P);
  dalloc(g, &g->last, 2 * P);
  g->h_ag = (dev_agent *)calloc(P, sizeof(dev_agent));
  if (!made || !g->h_ag || g->err != cudaSuccess) {
    snprintf(err, errlen, "cannot build the trainer on the GPU for %d agents: %s", P,
             g->err != cudaSuccess ? cudaGetErrorString(g->err) : "device memory or cuBLAS");
    sf_cuda_trainer_free(g);
    return NULL;
  }
  if (sf_cuda_trainer_push(g, err, errlen) != 0) {
    sf_cuda_trainer_free(g);
    return NULL;
  }
  return g;
}

static int report(sf_cuda_trainer *g, const char *stage, char *err, size_t errlen) {
  note(g, cudaStreamSynchronize(g->stream));
  if (ok(g)) return 0;
  if (err)
    snprintf(err, errlen, "GPU %s failed: %s", stage, g->err != cudaSuccess ? cudaGetErrorString(g->err) : g->msg);
  return -1;
}

static int upload_net(const dev_net &d, const sf_actor *a) {
  return d.snn ? sf_cuda_snn_upload(d.snn, a->snn) : sf_cuda_mlp_upload(d.mlp, a->mlp);
}

static int download_net(const dev_net &d, sf_actor *a) {
  return d.snn ? sf_cuda_snn_download_params(d.snn, a->params->data)
               : sf_cuda_mlp_download_params(d.mlp, a->params->data);
}

extern "C" int sf_cuda_trainer_push(sf_cuda_trainer *g, char *err, size_t errlen) {
  sf_trainer *t = g->t;
  if (upload_net(g->actor, t->actor) || upload_net(g->actor_target, t->actor_target)) fail(g, "actor upload");
  const sf_adam *aa = t->adam_actor;
  if (sf_cuda_adam_upload(g->adam_actor, aa->m, aa->v, aa->step)) fail(g, "Adam upload");
  for (int c = 0; c < 2 && g->q[c]; ++c) {
    const sf_adam *a = t->adam_critic[c];
    if (sf_cuda_mlp_upload(g->q[c], t->critic.q[c]) || sf_cuda_mlp_upload(g->q_target[c], t->critic.target[c]) ||
        sf_cuda_adam_upload(g->adam_critic[c], a->m, a->v, a->step))
      fail(g, "critic upload");
  }
  if (g->guide && sf_cuda_mlp_upload(g->guide, t->guide->mlp)) fail(g, "guide upload");
  if (g->env) {
    if (sf_cuda_env_upload(g->env, t->env)) fail(g, "environment upload");
    sf_cuda_env_observe(g->env, &t->model);
    sf_cuda_env_observe_privileged(g->env, &t->model);
    if (g->st && sf_cuda_snn_state_upload(g->actor.snn, g->st, t->st.snn)) fail(g, "SNN state upload");
    h2d(g, (char *)g->block[SF_BUFS_STAGE], (const char *)t->block[SF_BUFS_STAGE], t->layout[SF_BUFS_STAGE].bytes);
  }
  for (int p = 0; p < g->P; ++p) upload_rows(g, p, 0, g->cap);
  return report(g, "upload", err, errlen);
}

extern "C" int sf_cuda_trainer_pull(sf_cuda_trainer *g, int full, char *err, size_t errlen) {
  sf_trainer *t = g->t;
  if (download_net(g->actor, t->actor) || download_net(g->actor_target, t->actor_target)) fail(g, "actor download");
  for (int c = 0; c < 2 && g->q[c]; ++c)
    if (sf_cuda_mlp_download_params(g->q[c], t->critic.q[c]->params.data) ||
        sf_cuda_mlp_download_params(g->q_target[c], t->critic.target[c]->params.data))
      fail(g, "critic download");
  if (full) {
    sf_adam *aa = t->adam_actor;
    if (sf_cuda_adam_download(g->adam_actor, aa->m, aa->v, aa->step)) fail(g, "Adam download");
    for (int c = 0; c < 2 && g->q[c]; ++c) {
      sf_adam *a = t->adam_critic[c];
      if (sf_cuda_adam_download(g->adam_critic[c], a->m, a->v, a->step)) fail(g, "Adam download");
    }
    if (g->env) {
      if (sf_cuda_env_download(g->env, t->env)) fail(g, "environment download");
      if (g->st && sf_cuda_snn_state_download(g->actor.snn, g->st, t->st.snn)) fail(g, "SNN state download");
      d2h(g, (char *)t->block[SF_BUFS_STAGE], (const char *)g->block[SF_BUFS_STAGE], t->layout[SF_BUFS_STAGE].bytes);
      d2h(g, t->step.obs, sf_cuda_env_obs(g->env), (size_t)g->n * SF_OBS_DIM);
      d2h(g, t->step.priv, sf_cuda_env_priv(g->env), (size_t)g->n * SF_PRIV_DIM);
    }
  }
  return report(g, "download", err, errlen);
}

extern "C" int sf_cuda_trainer_push_slopes(sf_cuda_trainer *g) {
  if (!g->actor.snn) return 0;
  return sf_cuda_snn_set_slopes(g->actor.snn, g->t->actor->snn->slope) ||
                 sf_cuda_snn_set_slopes(g->actor_target.snn, g->t->actor_target->snn->slope)
             ? -1
             : 0;
}

extern "C" int sf_cuda_trainer_collect(sf_cuda_trainer *g, const sf_plan *plan) {
  sf_trainer *t = g->t;
  sf_trainer_set_slopes(t, plan);
  if (sf_cuda_trainer_push_slopes(g) != 0) fail(g, "slope upload");
  if (!plan->collect) return report(g, "collection", NULL, 0);
  nvtxRangePushA("collect");
  const int P = g->P, N = g->N, L = g->L;
  const long n = g->n;
  const sf_env_model *m = &t->model;
  float *progress = (float *)malloc(sizeof(float) * P);
  for (int p = 0; p < P; ++p) progress[p] = plan->progress;
  if (sf_cuda_env_set_progress(g->env, progress)) fail(g, "curriculum upload");
  free(progress);
  refresh_agents(g, plan);
  sf_step_bufs *c = &g->step;
  const sf_env_data *d = sf_cuda_env_state(g->env);
  const int has_guide = t->guide || t->guide_is_pid;
  float *obs = sf_cuda_env_obs(g->env), *priv = sf_cuda_env_priv(g->env);
  for (int k = 0; k < plan->collect && ok(g); ++k) {
    // The actor always runs, so its state is warm when it takes over.
    const float *x = actor_input(g, N, obs, priv, c->x);
    if (g->actor.snn ? sf_cuda_snn_step(g->actor.snn, g->st, x, c->pi)
                     : sf_cuda_mlp_forward(g->actor.mlp, N, x, g->in, NULL, c->pi))
      fail(g, "actor step");
    if (g->guide && sf_cuda_mlp_forward(g->guide, N, priv, SF_PRIV_DIM, NULL, c->guide)) fail(g, "guide step");
    if (t->guide_is_pid) sf_cuda_env_pid(g->env, m, &t->pid, obs, c->guide);
    if (plan->teacher) sf_cuda_env_pid(g->env, m, &t->pid, obs, c->pi);
    k_collect_act<<<blocks(n), kThreads, 0, g->stream>>>(n, N, L, g->ag, d->ep_step, d->rng_ctr, has_guide, c->pi,
                                                         c->guide, c->act, g->stage.act, g->stage.expert,
                                                         g->stage.flags);
    sf_cuda_env_step(g->env, m, c->act);
    sf_cuda_env_observe(g->env, m);
    sf_cuda_env_observe_privileged(g->env, m);
    k_collect_record<<<blocks(n), kThreads, 0, g->stream>>>(
        n, L, d->ep_step, sf_cuda_env_reward(g->env), sf_cuda_env_terminated(g->env), sf_cuda_env_truncated(g->env),
        obs, priv, g->stage.obs, g->stage.priv, g->stage.rew, g->stage.flags, c->done);
    d2h(g, g->h_done, c->done, (size_t)n);
    d2h(g, g->h_step, d->ep_step, (size_t)n);
    note(g, cudaStreamSynchronize(g->stream));
    int any_done = 0;
    for (long i = 0; i < n && ok(g); ++i)
      if (g->h_done[i]) {
        any_done = 1;
        file_episode(g, i, g->h_step[i]);
      }
    for (int p = 0; p < P; ++p) t->ag.env_steps[p] += N;
    if (any_done) {
      if (g->st) sf_cuda_snn_state_reset(g->actor.snn, g->st, c->done);
      sf_cuda_env_reset_masked(g->env, m, c->done);
      sf_cuda_env_observe(g->env, m);
      sf_cuda_env_observe_privileged(g->env, m);
      k_stage_first<<<blocks(n), kThreads, 0, g->stream>>>(n, L, c->done, obs, priv, g->stage.obs, g->stage.priv);
    }
    note(g, cudaGetLastError());
  }
  nvtxRangePop();
  return report(g, "collection", NULL, 0);
}

extern "C" int sf_cuda_trainer_update(sf_cuda_trainer *g, const sf_plan *plan, sf_update_stats *acc, int *done) {
  sf_trainer *t = g->t;
  const int P = g->P, B = g->B, updates = plan->updates;
  *done = 0;
  for (int p = 0; p < P; ++p) acc[p] = sf_update_stats{0, 0, 0};
  for (int p = 0; p < P; ++p)
    if (sf_replay_windows(t->rb, p, t->s.stride, t->s.warmup) == 0) return 0;
  refresh_agents(g, plan);
  set_shape(g, &plan->shape);
  float *last = (float *)malloc(sizeof(float) * 2 * P);
  memcpy(last, t->ag.last_loss, sizeof(float) * 2 * P);
  h2d(g, g->last, last, 2 * P);
  note(g, cudaMemsetAsync(g->acc, 0, sizeof(dev_stats) * P, g->stream));
  const long per = (long)P * B;
  while (*done < updates && ok(g)) {
    const int C = updates - *done < g->chunk ? updates - *done : g->chunk;
    note(g, cudaStreamSynchronize(g->stream));  // the pinned windows are rewritten below
    for (int u = 0; u < C; ++u)
      for (int p = 0; p < P; ++p)
        if (sf_replay_draw(t->rb, p, t->s.stride, t->s.warmup, t->agent[p].seed, (uint32_t)(t->updates_done + u), B,
                           g->h_windows + u * per + (long)p * B) != 0)
          fail(g, "replay draw");
    h2d(g, g->windows, g->h_windows, (size_t)C * per);
    const uint32_t counter = (uint32_t)t->updates_done;
    h2d(g, g->counter, &counter, 1);
    note(g, cudaMemsetAsync(g->k, 0, sizeof(int), g->stream));
    for (int u = 0; u < C && ok(g); ++u) {
      const int actor_turn = t->updates_done % plan->shape.policy_delay == 0;
      launch_update(g, actor_turn);
      t->updates_done++;
      ++*done;
    }
  }
  dev_stats *h = (dev_stats *)malloc(sizeof(dev_stats) * P);
  d2h(g, h, g->acc, P);
  d2h(g, last, g->last, 2 * P);
  const int rc = report(g, "update", NULL, 0);
  for (int p = 0; p < P && rc == 0; ++p) {
    acc[p] = sf_update_stats{h[p].critic_loss, h[p].actor_loss, h[p].mean_q};
    t->ag.last_loss[2 * p] = last[2 * p];
    t->ag.last_loss[2 * p + 1] = last[2 * p + 1];
  }
  free(h);
  free(last);
  return rc;
}

extern "C" int sf_cuda_trainer_error(sf_cuda_trainer *g, char *why, size_t cap) {
  if (ok(g)) return 0;
  snprintf(why, cap, "%s", g->err != cudaSuccess ? cudaGetErrorString(g->err) : g->msg);
  return -1;
}


// ---- the backend ------------------------------------------------------------

static sf_cuda_trainer *gpu(sf_backend *b) { return (sf_cuda_trainer *)b->impl; }

static int gpu_collect(sf_backend *b, const sf_plan *plan) { return sf_cuda_trainer_collect(gpu(b), plan); }

static int gpu_update(sf_backend *b, const sf_plan *plan, sf_update_stats *acc, int *done) {
  return sf_cuda_trainer_update(gpu(b), plan, acc, done);
}

static int gpu_evaluate(sf_backend *b, const sf_plan *plan, sf_eval_stats *stats) {
  const sf_trainer *t = b->t;
  char err[512];
  uint64_t *seeds = (uint64_t *)malloc(sizeof(uint64_t) * t->P);
  for (int p = 0; p < t->P; ++p) seeds[p] = t->agent[p].seed;
  nvtxRangePushA("evaluate");
  const int rc = sf_cuda_evaluate(t->actor, &t->model, seeds, t->s.eval_episodes, plan->eval_progress,
                                  t->s.survive_steps, stats, err, sizeof err);
  nvtxRangePop();
  free(seeds);
  if (rc) fprintf(stderr, "spikefly: %s\n", err);
  return rc;
}

static int gpu_pull(sf_backend *b, int full, char *err, size_t errlen) {
  return sf_cuda_trainer_pull(gpu(b), full, err, errlen);
}

static int gpu_push(sf_backend *b, char *err, size_t errlen) { return sf_cuda_trainer_push(gpu(b), err, errlen); }

static void gpu_free(sf_backend *b) {
  sf_cuda_trainer_free(gpu(b));
  free(b);
}

static const sf_backend_ops gpu_ops = {gpu_collect, gpu_update, gpu_evaluate, gpu_pull, gpu_push, gpu_free};

extern "C" sf_backend *sf_cuda_backend_new(sf_trainer *t, char *err, size_t errlen) {
  if (t->actor->cfg.frames > 0) {
    snprintf(err, errlen, "a frame-stack actor (train.frame_stack) trains on the CPU only: the GPU kernels stream");
    return NULL;
  }
  sf_cuda_trainer *g = sf_cuda_trainer_new(t, err, errlen);
  if (!g) return NULL;
  sf_backend *b = (sf_backend *)calloc(1, sizeof *b);
  if (!b) {
    sf_cuda_trainer_free(g);
    snprintf(err, errlen, "out of host memory");
    return NULL;
  }
  b->ops = &gpu_ops;
  b->t = t;
  b->impl = g;
  snprintf(b->name, sizeof b->name, "%s", g->device);
  return b;
}
