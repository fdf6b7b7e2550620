/* Evaluation: fly a population's actors (no exploration noise, no guide)
 * over whole episodes from the reset distribution and measure how well they
 * fly. The same starts for every call with the same seeds, so successive
 * evaluations during training compare like with like. */
#ifndef SF_EVALUATE_H
#define SF_EVALUATE_H

#include <stdint.h>
#include <stdio.h>

#include "rl/sf_actor.h"
#include "sim/sf_breakdown.h"
#include "sim/sf_env.h"
#include "sim/sf_score.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fly `episodes` episodes for each of the actor's P agents (env seeds
 * derived from seeds[p]), stats[p] per agent. progress is the curriculum
 * progress of "current" coefficients. csv (may be NULL) receives every step
 * of the first `csv_envs` episodes of agent csv_agent in `spikefly fly`'s
 * format. The statistics are the episode scorer's (sim/sf_score.h, which
 * also holds sf_eval_stats and sf_eval_finish). Returns 0, or -1 when memory
 * cannot be had. */
int sf_evaluate(sf_actor *actor, const sf_env_model *model, const uint64_t *seeds, int episodes, float progress,
                int warmup_steps, sf_eval_stats *stats, FILE *csv, int csv_agent, int csv_envs);

/* What an evaluation writes down besides its statistics, all optional: the
 * flights of `csv_envs` episodes of agent csv_agent, and each episode's
 * start and end of agent breakdown_agent (sim/sf_breakdown.h). */
typedef struct {
  FILE *csv;
  int csv_agent, csv_envs;
  sf_breakdown *breakdown;
  int breakdown_agent;
} sf_evaluate_log;

/* sf_evaluate with what `log` asks for written down. */
int sf_evaluate_logged(sf_actor *actor, const sf_env_model *model, const uint64_t *seeds, int episodes,
                       float progress, int warmup_steps, sf_eval_stats *stats, const sf_evaluate_log *log);

/* The seed of an agent's evaluation environments: apart from its training
 * environments' streams. */
static inline uint64_t sf_eval_seed(uint64_t seed) { return seed ^ 0x9E3779B97F4A7C15ull; }

#ifdef __cplusplus
}
#endif
#endif
