/* Evaluation on a CUDA GPU: sf_evaluate (rl/sf_evaluate.h) with the
 * environments, the actor's streaming steps and the episodes' sums on the
 * device. Same starts (the same seeds), the same per-env arithmetic
 * (sim/sf_env_step.h, sim/sf_score.h); only the statistics of the
 * finished episodes are computed on the host. */
#ifndef SF_EVALUATE_CUDA_H
#define SF_EVALUATE_CUDA_H

#include <stddef.h>

#include "rl/sf_evaluate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* As sf_evaluate without the flight log. 0, or -1 with a message. */
int sf_cuda_evaluate(const sf_actor *actor, const sf_env_model *model, const uint64_t *seeds, int episodes,
                     float progress, int warmup_steps, sf_eval_stats *stats, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
