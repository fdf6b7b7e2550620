/* Replay buffer of whole episodes, one ring per agent, sampled as
 * fixed-length sequences for training a stateful SNN.
 *
 * An episode of L transitions takes L + 1 rows: row t holds what was seen at
 * step t (noisy observation, privileged observation) and what followed (the
 * action, its reward, whether it terminated or truncated the episode, and
 * which policy acted, and the action the guide chose there, the label a BC
 * term towards the guide imitates); the last row holds only the final
 * observations, which the TD target needs. Rows never straddle episodes, so a sequence never
 * crosses an episode boundary. When the ring is full the oldest episodes are
 * evicted whole.
 *
 * Sequences start at multiples of `stride` inside an episode and run for T
 * steps; one is valid when at least one step after the warm-up exists
 * (start + warmup < L), or, with `from_start` set, when it starts at step 0
 * (an episode shorter than the warm-up still teaches its first steps). Steps
 * past the episode's end are padding, marked by
 * mask = 0. Output tensors are sequence-major [T][B][F] per agent (with T + 1
 * rows for the observations, so step t's next observation is row t + 1). */
#ifndef SF_REPLAY_H
#define SF_REPLAY_H

#include <stdint.h>

#include "core/sf_defs.h"
#include "rl/sf_buffers.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  SF_ROW_TERMINATED = 1, /* the action of this row ended the episode by termination */
  SF_ROW_TRUNCATED = 2,  /* ... by the time limit (not a terminal state) */
  SF_ROW_GUIDE = 4,      /* the guide policy acted (JSRL jump start) */
  SF_ROW_END = 8,        /* final row of an episode: observations only */
};

typedef struct {
  long start; /* first row */
  int len;    /* transitions */
} sf_episode_ref;

typedef struct {
  int P, obs_dim, priv_dim, act_dim;
  long capacity; /* rows per agent */
  /* the rows: one block laid out by `rows` ("replay.obs", ...) */
  sf_buffer_layout rows;
  void *block;
  float *obs;    /* [P][capacity][obs_dim] */
  float *priv;   /* [P][capacity][priv_dim] */
  float *act;    /* [P][capacity][act_dim] */
  float *expert; /* [P][capacity][act_dim] the guide's action in that state */
  float *rew;    /* [P][capacity] */
  uint8_t *flags;
  /* per agent: episodes in insertion order, a ring of at most capacity / 2 */
  sf_episode_ref *eps; /* [P][max_eps] */
  int max_eps;
  int *ep_head, *ep_count; /* [P] */
  long *write_row;         /* [P] next row to write */
  long *transitions;       /* [P] transitions held */
  long *added;             /* [P] transitions ever added */
  int from_start;          /* episodes too short for the warm-up give their window at step 0 */
} sf_replay;

/* Returns NULL when the memory cannot be had. */
sf_replay *sf_replay_new(int P, long capacity, int obs_dim, int priv_dim, int act_dim);
void sf_replay_free(sf_replay *rb);

/* Append one finished episode of agent p: `len` transitions, obs and priv
 * with len + 1 rows, act/expert/rew/flags with len rows (expert NULL: the
 * actions taken were the guide's). An episode longer than the capacity is an
 * error (-1). */
int sf_replay_add_episode(sf_replay *rb, int p, int len, const float *obs, const float *priv,
                          const float *act, const float *expert, const float *rew, const uint8_t *flags);

/* The buffer in a checkpoint: each agent's rows up to the highest any
 * agent uses ("replay.obs" ... as [P][rows][...]) and the episode tables;
 * buffers the writer borrows go to owned[(*nowned)++] (free them after the
 * write). Loading checks the tables against the rows. 0, or -1 with a
 * message naming `path`. */
void sf_replay_save(const sf_replay *rb, sf_st_writer *w, void **owned, int *nowned);
int sf_replay_load(sf_replay *rb, const sf_st_file *f, const char *path, char *err, size_t errlen);

/* Number of valid sequence windows of agent p (for the sampler and tests). */
long sf_replay_windows(const sf_replay *rb, int p, int stride, int warmup);

typedef struct {
  int T, B;
  float *obs;      /* [T+1][B][obs_dim] */
  float *priv;     /* [T+1][B][priv_dim] */
  float *act;      /* [T][B][act_dim] */
  float *expert;   /* [T][B][act_dim] */
  float *rew;      /* [T][B] */
  float *done;     /* [T][B] 1 where the step terminated the episode */
  float *mask;     /* [T][B] 1 for real steps, 0 for padding */
  float *guide;    /* [T][B] 1 where the guide acted */
  int *episode;    /* [B] which stored episode (row of eps), for tests */
  int *offset;     /* [B] start step inside its episode */
} sf_seq_batch;

sf_seq_batch *sf_seq_batch_new(int T, int B, int obs_dim, int priv_dim, int act_dim);
void sf_seq_batch_free(sf_seq_batch *b);

/* One drawn window: its episode starts at row `row0` of the agent's rows,
 * holds `len` transitions, and the window begins at step `off` of it;
 * `episode` is the episode's place among the agent's stored ones. */
typedef struct {
  long row0;
  int len, off, episode;
} sf_window;

/* Draw B windows of agent p uniformly among all valid ones, with Philox
 * keyed by `seed` and counted by `draw` (the caller's update counter).
 * Returns 0, or -1 when the agent holds no valid window. */
int sf_replay_draw(const sf_replay *rb, int p, int stride, int warmup, uint64_t seed, uint32_t draw, int B,
                   sf_window *w);

/* sf_replay_draw, then gather the windows into b (b->B of them). */
int sf_replay_sample(const sf_replay *rb, int p, int stride, int warmup, uint64_t seed,
                     uint32_t draw, sf_seq_batch *b);

/* One agent's stored rows, wherever they live (the host's arrays, or their
 * copy on a GPU): what the gather of one batch step reads. */
typedef struct {
  int obs_dim, priv_dim, act_dim;
  const float *obs, *priv, *act, *expert, *rew;
  const uint8_t *flags;
} sf_replay_rows;

/* Step t of window w into column j of the batch: observations for t <= T,
 * the rest for t < T. Padding past the episode's end repeats the final
 * observation and is zero elsewhere, with mask 0. The CPU sampler and the
 * GPU gather run this same code. */
SF_HD void sf_replay_gather_step(const sf_replay_rows *r, const sf_window *w, int t, int j, const sf_seq_batch *b) {
  const int B = b->B, od = r->obs_dim, pd = r->priv_dim, ad = r->act_dim;
  const long row = w->row0 + (w->off + t <= w->len ? w->off + t : w->len);
  const long o = (long)t * B + j;
  for (int k = 0; k < od; ++k) b->obs[o * od + k] = r->obs[row * od + k];
  for (int k = 0; k < pd; ++k) b->priv[o * pd + k] = r->priv[row * pd + k];
  if (t == b->T) return;
  const int real = w->off + t < w->len;
  for (int k = 0; k < ad; ++k) {
    b->act[o * ad + k] = real ? r->act[row * ad + k] : 0.0f;
    b->expert[o * ad + k] = real ? r->expert[row * ad + k] : 0.0f;
  }
  const uint8_t f = real ? r->flags[row] : 0;
  b->rew[o] = real ? r->rew[row] : 0.0f;
  b->done[o] = (f & SF_ROW_TERMINATED) ? 1.0f : 0.0f;
  b->guide[o] = (f & SF_ROW_GUIDE) ? 1.0f : 0.0f;
  b->mask[o] = real ? 1.0f : 0.0f;
}

#ifdef __cplusplus
}
#endif
#endif
