/* Evaluation: fly a population's actors (no exploration noise, no guide)
 * over whole episodes from the reset distribution and measure how well they
 * fly. The same starts for every call with the same seeds, so successive
 * evaluations during training compare like with like. */
#ifndef SF_EVALUATE_H
#define SF_EVALUATE_H

#include <stdint.h>
#include <stdio.h>

#include "rl/sf_actor.h"
#include "rl/sf_eval_episode.h"
#include "sim/sf_env.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double ret_final;   /* mean return under the final reward coefficients */
  double ret_current; /* ... under the coefficients at the given progress */
  double survival;    /* fraction of episodes reaching the time limit */
  double survive_warmup; /* fraction lasting at least `warmup_steps` steps */
  double mean_len;    /* mean episode length, steps */
  double hover_err;   /* m: mean |p - p*| over the last 1 s of surviving episodes (NaN: none) */
  double track_err;   /* m: mean |p - p*| after the first 1 s of surviving episodes (NaN: none) */
} sf_eval_stats;

/* Fly `episodes` episodes for each of the actor's P agents (env seeds
 * derived from seeds[p]), stats[p] per agent. progress is the curriculum
 * progress of "current" coefficients. csv (may be NULL) receives every step
 * of the first `csv_envs` episodes of agent csv_agent in `spikefly fly`'s
 * format. Returns 0, or -1 when memory cannot be had. */
int sf_evaluate(sf_actor *actor, const sf_env_model *model, const uint64_t *seeds, int episodes, float progress,
                int warmup_steps, sf_eval_stats *stats, FILE *csv, int csv_agent, int csv_envs);

/* Per-agent statistics from the sums of P x N episodes, [P][N]. */
void sf_eval_finish(const sf_eval_episode *acc, int P, int N, int warmup_steps, sf_eval_stats *stats);

/* The seed of an agent's evaluation environments: apart from its training
 * environments' streams. */
static inline uint64_t sf_eval_seed(uint64_t seed) { return seed ^ 0x9E3779B97F4A7C15ull; }


#ifdef __cplusplus
}
#endif
#endif
