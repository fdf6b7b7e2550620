/* The trainer: TD3BC+JSRL and its baselines for a population of P agents
 * trained side by side (a sweep), on the CPU backend.
 *
 * One epoch:
 *   collect   (online algorithms) every agent's N environments run
 *             `collect_steps` control steps in parallel. With the jump start,
 *             the guide flies the first h steps of each episode while the
 *             actor runs alongside on the same observations, warming its
 *             state; the actor (plus Gaussian exploration noise) flies the
 *             rest. h falls linearly from h_start to h_end. Finished episodes
 *             go to the agent's replay buffer whole.
 *   update    `updates` gradient steps: sample B sequences of T steps per
 *             agent; critic update on every step of the sequences (TD3
 *             targets from a target copy of the actor unrolled over the same
 *             sequence, smoothing noise, twin minimum); every
 *             `policy_delay`-th update, the actor update on steps after the
 *             warm-up, maximising lambda_Q Q1(s, pi(s)) - lambda_BC |pi(s) - a|^2
 *             with the critic's action gradient flowing into the actor, and
 *             Polyak updates of all targets.
 *   evaluate  every `eval_every` epochs: episodes under the final and the
 *             current reward coefficients; each agent's slope schedule is
 *             fed the final-coefficient return.
 *
 * Algorithms: td3bc_jsrl (the method), td3 (online, no BC, no jump start,
 * plain -Q), td3bc and bc (offline on a dataset of guide rollouts written by
 * `spikefly collect`, no environment interaction). `bc = false` and
 * `jumpstart = false` give the ablations. */
#ifndef SF_TRAINER_H
#define SF_TRAINER_H

#include <stdint.h>

#include "core/sf_config.h"
#include "rl/sf_actor.h"
#include "rl/sf_buffers.h"
#include "rl/sf_evaluate.h"
#include "rl/sf_replay.h"
#include "models/sf_adam.h"
#include "models/sf_mlp.h"
#include "models/sf_slope_schedule.h"
#include "sim/sf_env.h"
#include "sim/sf_pid.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SF_ALGO_TD3BC_JSRL = 0, SF_ALGO_TD3, SF_ALGO_BC, SF_ALGO_TD3BC } sf_algo;
extern const char *const sf_algo_names[]; /* "td3bc_jsrl", "td3", "bc", "td3bc", NULL */

/* Settings that may differ between the agents of one population (sweepable). */
typedef struct {
  uint64_t seed;
  float actor_lr, critic_lr, gamma, alpha, bc_weight, bc_decay, expl_noise, target_noise, target_clip;
  sf_slope_config slope;
} sf_agent_settings;

/* Config keys an agent may take its own value of in a sweep. */
extern const char *const sf_agent_keys[];
int sf_is_agent_key(const char *key);

typedef struct {
  sf_algo algo;
  sf_actor_config actor;
  int envs;          /* collection environments per agent */
  int epochs;
  int collect_steps; /* control steps per environment per epoch */
  int updates;       /* gradient updates per epoch */
  int batch;         /* sequences per update */
  int seq_len, warmup, stride;
  long buffer;       /* replay capacity per agent, rows */
  int eval_every, eval_episodes;
  int survive_steps; /* evaluation reports survival of this many steps (the warm-up) */
  int jumpstart, bc;
  int h_start, h_end, h_epochs;
  int policy_delay;
  int teacher_epochs; /* the first epochs the reference controller flies, the actor imitating it */
  int learn_from_start; /* sequences from an episode's first step learn on their warm-up too */
  int bc_to_guide;   /* BC target: the guide's action in each stored state (else the action taken) */
  float tau;         /* Polyak rate of every target network */
  char guide[512];   /* guide checkpoint for the jump start, or "pid" for the reference controller */
  char dataset[512]; /* offline dataset (bc, td3bc) */
} sf_train_settings;

/* Read the `train.*` keys (and `seed`, `model.*` per agent). Errors are
 * recorded in the configs. cfgs[p] is agent p's config. */
void sf_train_settings_read(sf_config *cfg, sf_train_settings *s);
void sf_agent_settings_read(sf_config *cfg, sf_agent_settings *a);

typedef struct {
  double critic_loss, actor_loss, mean_q;
} sf_update_stats;

/* The trainer's buffer sets; their tables (names, types, shapes) are in
 * rl/sf_trainer_buffers.c. Shapes: P agents, N envs each, L the time limit,
 * T the sequence length, B the batch, F a feature width, in the actor's. */
typedef struct { /* episodes being recorded, [P][N][L + 1][F] (online only; checkpointed) */
  float *obs, *priv, *act, *expert, *rew;
  uint8_t *flags;
} sf_stage_bufs;
typedef struct { /* the current control step of every env, [P][N][F] (online only) */
  float *obs, *priv, *x, *pi, *guide, *act, *rew;
  uint8_t *term, *trunc, *done;
} sf_step_bufs;
typedef struct { /* sampled sequences, [P][T (+1)][B][F] */
  float *obs, *priv, *act, *expert, *rew, *done, *mask, *guide;
  int *episode, *offset; /* [P][B] */
} sf_batch_bufs;
typedef struct {
  /* named outputs of the batch's preparation, read by both phases */
  float *x_seq;     /* [P][T + 1][B][in] the actor's input */
  float *priv_cur;  /* [P][T][B][146] the critics' states s_t */
  float *priv_next; /* [P][T][B][146] ... and s_{t+1} */
  /* the critic phase's */
  float *a_next, *a_smooth; /* [P][T + 1][B][4] the target actor's actions; [P][T][B][4] smoothed next actions */
  float *q1, *q2, *y, *dq;  /* [P][T][B] */
  /* the actor phase's */
  float *x_cur, *pi, *dpi, *dqa; /* [P][T][B][in or 4] */
  float *amask;                  /* [P][T][B] steps that carry the actor's loss */
} sf_update_bufs;
typedef struct { /* per agent, [P] (checkpointed) */
  int64_t *env_steps;
  float *last_loss; /* [P][2]: critic and actor loss of the last update */
} sf_agent_bufs;
enum { SF_BUFS_STAGE = 0, SF_BUFS_STEP, SF_BUFS_BATCH, SF_BUFS_UPDATE, SF_BUFS_AGENT, SF_BUFS_N };

typedef struct sf_trainer {
  sf_train_settings s;
  int P;
  sf_agent_settings *agent; /* [P] */
  sf_env_model model;
  /* networks */
  sf_actor *actor, *actor_target, *guide;
  sf_twin_critic critic;
  sf_adam *adam_actor, *adam_critic[2];
  sf_slope_schedule *sched; /* [P] */
  sf_env_data *env;
  sf_actor_state st;
  sf_replay *rb;
  /* buffers: one block per set, laid out by layout[set] */
  sf_stage_bufs stage;
  sf_step_bufs step;
  sf_batch_bufs batch;
  sf_update_bufs work;
  sf_agent_bufs ag;
  sf_buffer_layout layout[SF_BUFS_N];
  void *block[SF_BUFS_N];
  sf_seq_batch **views; /* [P] agent p's part of `batch` */
  /* progress */
  int epoch;          /* epochs completed */
  long updates_done;
  /* The reference controller: the guide when train.guide = pid, and the
   * teacher of a plan's teacher phase. */
  sf_pid pid;
  int guide_is_pid;
  int online; /* collects from the environments (fixed at construction) */
} sf_trainer;

struct sf_plan; /* rl/sf_plan.h */

/* The layouts of the buffer sets for these settings (the online-only sets
 * empty offline). */
void sf_trainer_layouts(const sf_train_settings *s, int P, int online, int time_limit,
                        sf_buffer_layout layout[SF_BUFS_N]);
/* The struct of set i of t (what its layout points into). */
void *sf_trainer_bufs(sf_trainer *t, int set);

/* Build a trainer for P agents. err receives a message on failure (NULL
 * returned): a guide or dataset file that cannot be read, memory. */
sf_trainer *sf_trainer_new(const sf_train_settings *s, const sf_agent_settings *agents, int P,
                           const sf_env_model *model, char *err, size_t errlen);
void sf_trainer_free(sf_trainer *t);

/* The CPU backend's steps of one epoch, as the plan says (rl/sf_plan.h).
 * Collection (plan->collect control steps per environment; none offline),
 * with the plan's slopes, curriculum progress, horizons and teacher. */
int sf_trainer_collect(sf_trainer *t, const struct sf_plan *plan);
/* One gradient update of every agent of the plan's shape and weights;
 * stats[p] per agent. Returns 0, or 1 when no agent has a full sequence yet
 * (nothing done), -1 on failure. */
int sf_trainer_update(sf_trainer *t, const struct sf_plan *plan, sf_update_stats *stats);
/* Evaluate every agent (curriculum at plan->eval_progress). */
int sf_trainer_evaluate(sf_trainer *t, const struct sf_plan *plan, sf_eval_stats *stats);
/* Each agent's schedule takes its final-coefficient return of an
 * evaluation; the actors' slopes follow. */
void sf_trainer_feed_schedules(sf_trainer *t, const sf_eval_stats *stats);
/* Set every agent's surrogate slope on the actor and its target. */
void sf_trainer_set_slopes(sf_trainer *t, const struct sf_plan *plan);

/* Load a network's tensors for every agent from a checkpoint holding
 * [Pf][...] tensors of the same names (agent `src` of the file). Returns 0
 * or -1 with a message. */
int sf_params_load_agent(sf_params *ps, const char *path, int src, const char *prefix_in_file, char *err,
                         size_t errlen);

/* The first parameter tensor of any network that holds a NaN or an infinity,
 * as "actor.fc1.weight (agent 2)" in buf, or NULL when all are finite. */
const char *sf_trainer_check_finite(const sf_trainer *t, char *buf, size_t len);

/* Write a checkpoint of everything needed to evaluate the agents or to
 * continue the run exactly (sf_trainer_state.c); `meta` is a NULL-terminated
 * list of extra metadata key/value pairs (may be NULL). */
int sf_trainer_save(sf_trainer *t, const char *path, const char *const *meta, char *err, size_t errlen);
/* Restore a trainer built with the same settings from such a checkpoint.
 * Returns 0, or -1 with a message naming the file and the problem. */
int sf_trainer_load(sf_trainer *t, const char *path, char *err, size_t errlen);
struct sf_st_writer;
void sf_trainer_add_state(sf_trainer *t, struct sf_st_writer *w, void **owned, int *nowned);

#ifdef __cplusplus
}
#endif
#endif
