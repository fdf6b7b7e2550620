/* The trainer's buffer sets, one table each: adding a buffer is one line
 * here plus its field in the set's struct (rl/sf_trainer.h). */
#include <stddef.h>

#include "rl/sf_trainer.h"

#define F32 SF_ST_F32
#define I32 SF_ST_I32
#define I64 SF_ST_I64
#define U8 SF_ST_U8
#define BUF(set, fld, name, type, nd, ...) {name, type, offsetof(set, fld), nd, {__VA_ARGS__}}

void sf_trainer_layouts(const sf_train_settings *s, int P, int online, int time_limit,
                        sf_buffer_layout layout[SF_BUFS_N]) {
  const int64_t N = s->envs, L1 = time_limit + 1, T = s->seq_len, T1 = s->seq_len + 1, B = s->batch;
  const int64_t in = sf_actor_in_dim(s->actor.input), O = SF_OBS_DIM, V = SF_PRIV_DIM, A = SF_ACT_DIM;
  const sf_buffer_spec stage[] = {
      BUF(sf_stage_bufs, obs, "stage.obs", F32, 4, P, N, L1, O),
      BUF(sf_stage_bufs, priv, "stage.priv", F32, 4, P, N, L1, V),
      BUF(sf_stage_bufs, act, "stage.act", F32, 4, P, N, L1, A),
      BUF(sf_stage_bufs, expert, "stage.expert", F32, 4, P, N, L1, A),
      BUF(sf_stage_bufs, rew, "stage.rew", F32, 3, P, N, L1),
      BUF(sf_stage_bufs, flags, "stage.flags", U8, 3, P, N, L1),
  };
  const sf_buffer_spec step[] = {
      BUF(sf_step_bufs, obs, "step.obs", F32, 3, P, N, O),     BUF(sf_step_bufs, priv, "step.priv", F32, 3, P, N, V),
      BUF(sf_step_bufs, x, "step.x", F32, 3, P, N, in),        BUF(sf_step_bufs, pi, "step.pi", F32, 3, P, N, A),
      BUF(sf_step_bufs, guide, "step.guide", F32, 3, P, N, A), BUF(sf_step_bufs, act, "step.act", F32, 3, P, N, A),
      BUF(sf_step_bufs, rew, "step.rew", F32, 2, P, N),        BUF(sf_step_bufs, term, "step.term", U8, 2, P, N),
      BUF(sf_step_bufs, trunc, "step.trunc", U8, 2, P, N),     BUF(sf_step_bufs, done, "step.done", U8, 2, P, N),
  };
  const sf_buffer_spec batch[] = {
      BUF(sf_batch_bufs, obs, "batch.obs", F32, 4, P, T1, B, O),
      BUF(sf_batch_bufs, priv, "batch.priv", F32, 4, P, T1, B, V),
      BUF(sf_batch_bufs, act, "batch.act", F32, 4, P, T, B, A),
      BUF(sf_batch_bufs, expert, "batch.expert", F32, 4, P, T, B, A),
      BUF(sf_batch_bufs, rew, "batch.rew", F32, 3, P, T, B),
      BUF(sf_batch_bufs, done, "batch.done", F32, 3, P, T, B),
      BUF(sf_batch_bufs, mask, "batch.mask", F32, 3, P, T, B),
      BUF(sf_batch_bufs, guide, "batch.guide", F32, 3, P, T, B),
      BUF(sf_batch_bufs, episode, "batch.episode", I32, 2, P, B),
      BUF(sf_batch_bufs, offset, "batch.offset", I32, 2, P, B),
  };
  const sf_buffer_spec upd[] = {
      BUF(sf_update_bufs, x_seq, "update.x_seq", F32, 4, P, T1, B, in),
      BUF(sf_update_bufs, priv_cur, "update.priv_cur", F32, 4, P, T, B, V),
      BUF(sf_update_bufs, priv_next, "update.priv_next", F32, 4, P, T, B, V),
      BUF(sf_update_bufs, a_next, "update.a_next", F32, 4, P, T1, B, A),
      BUF(sf_update_bufs, a_smooth, "update.a_smooth", F32, 4, P, T, B, A),
      BUF(sf_update_bufs, q1, "update.q1", F32, 3, P, T, B),
      BUF(sf_update_bufs, q2, "update.q2", F32, 3, P, T, B),
      BUF(sf_update_bufs, y, "update.y", F32, 3, P, T, B),
      BUF(sf_update_bufs, dq, "update.dq", F32, 3, P, T, B),
      BUF(sf_update_bufs, x_cur, "update.x_cur", F32, 4, P, T, B, in),
      BUF(sf_update_bufs, pi, "update.pi", F32, 4, P, T, B, A),
      BUF(sf_update_bufs, dpi, "update.dpi", F32, 4, P, T, B, A),
      BUF(sf_update_bufs, dqa, "update.dqa", F32, 4, P, T, B, A),
      BUF(sf_update_bufs, amask, "update.amask", F32, 3, P, T, B),
  };
  const sf_buffer_spec agent[] = {
      BUF(sf_agent_bufs, env_steps, "train.env_steps", I64, 1, P),
      BUF(sf_agent_bufs, last_loss, "train.last_losses", F32, 2, P, 2),
  };
  sf_buffer_layout_make(&layout[SF_BUFS_STAGE], stage, online ? (int)SF_ARRAY_LEN(stage) : 0);
  sf_buffer_layout_make(&layout[SF_BUFS_STEP], step, online ? (int)SF_ARRAY_LEN(step) : 0);
  sf_buffer_layout_make(&layout[SF_BUFS_BATCH], batch, (int)SF_ARRAY_LEN(batch));
  sf_buffer_layout_make(&layout[SF_BUFS_UPDATE], upd, (int)SF_ARRAY_LEN(upd));
  sf_buffer_layout_make(&layout[SF_BUFS_AGENT], agent, (int)SF_ARRAY_LEN(agent));
}

void *sf_trainer_bufs(sf_trainer *t, int set) {
  void *const sets[SF_BUFS_N] = {&t->stage, &t->step, &t->batch, &t->work, &t->ag};
  return sets[set];
}
