/* The trainer on a CUDA GPU, the GPU backend of rl/sf_backend.h: the
 * collection and the gradient updates of a host sf_trainer
 * (rl/sf_trainer.h) run on the device, as its plans (rl/sf_plan.h) say, for all P agents at
 * once, with the same algorithm, the same random streams and the same
 * per-element arithmetic as the CPU trainer.
 *
 * The host trainer stays the single description of the run: its settings,
 * schedules, evaluation and checkpoints. This object mirrors its state on the
 * device (networks, target networks, Adam moments, environments, the SNN's
 * streaming state, the episodes being recorded, the replay buffer's rows):
 * push copies host -> device (after construction or a resume), pull copies
 * device -> host (before an evaluation, a check or a checkpoint).
 *
 *   collect  the environments, the actor's streaming step, the guide (an MLP
 *            checkpoint or the reference controller), exploration and the
 *            recording of steps run on the device; each control step the
 *            host reads back which envs finished (P x N bytes), files their
 *            episodes into the host replay buffer's table and copies the new
 *            rows into the device replay buffer.
 *   update   windows are drawn on the host from the replay buffer's episode
 *            table (sf_replay_draw, the CPU's own sampler, so the GPU trains
 *            on the very sequences the CPU would), the rows are gathered on
 *            the device, and the critic update, the actor update, Adam and
 *            the Polyak averaging all run on the device. After one eager
 *            update of each kind (with or without the actor's turn) the
 *            update is captured as a CUDA graph and replayed.
 *
 * NVTX ranges mark collection, the critic update, the actor update and
 * (in the host loop) evaluation. */
#ifndef SF_TRAINER_CUDA_H
#define SF_TRAINER_CUDA_H

#include <stddef.h>

#include "rl/sf_backend.h"
#include "rl/sf_plan.h"
#include "rl/sf_trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_cuda_trainer sf_cuda_trainer;

/* A device mirror of t (which must outlive it), pushed. NULL with a
 * message when there is no usable GPU or its memory does not suffice. */
sf_cuda_trainer *sf_cuda_trainer_new(sf_trainer *t, char *err, size_t errlen);
void sf_cuda_trainer_free(sf_cuda_trainer *g);
/* The device's name, for logs. */
const char *sf_cuda_trainer_device(const sf_cuda_trainer *g);

/* Host -> device: everything the device holds, from the host trainer.
 * 0, or -1 with a message. */
int sf_cuda_trainer_push(sf_cuda_trainer *g, char *err, size_t errlen);
/* Device -> host. `full` = 0: the networks' parameters (what evaluation and
 * the finiteness check read); 1: also the Adam moments, the environments,
 * the SNN's streaming state and the episodes being recorded (what a
 * checkpoint holds). 0, or -1 with a message. */
int sf_cuda_trainer_pull(sf_cuda_trainer *g, int full, char *err, size_t errlen);
/* The host actors' surrogate slopes to the device (after the schedules
 * moved them). 0 or -1. */
int sf_cuda_trainer_push_slopes(sf_cuda_trainer *g);

/* One epoch's collection, as sf_trainer_collect (the plan's slopes are set
 * first, on the host actors and on the device). 0 or -1. */
int sf_cuda_trainer_collect(sf_cuda_trainer *g, const sf_plan *plan);
/* plan->updates gradient updates of every agent, as that many calls of
 * sf_trainer_update. acc[p] receives each agent's loss statistics summed
 * over the updates done (*done of them; 0 when no agent has a full
 * sequence yet). The captured graphs belong to plan->shape. 0, or -1 on a
 * device error. */
int sf_cuda_trainer_update(sf_cuda_trainer *g, const sf_plan *plan, sf_update_stats *acc, int *done);

/* The GPU backend (rl/sf_backend.h) on trainer t: the device mirror above,
 * with the device evaluation (kernels/sf_evaluate_cuda.h). NULL with a
 * message as sf_cuda_trainer_new. */
sf_backend *sf_cuda_backend_new(sf_trainer *t, char *err, size_t errlen);


/* The first device error seen (0), or -1 with its text. */
int sf_cuda_trainer_error(sf_cuda_trainer *g, char *why, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
