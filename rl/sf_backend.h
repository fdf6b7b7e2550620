/* The backend a run executes its plans on: one small table of operations,
 * implemented by the CPU (rl/sf_backend_cpu.c, the reference) and by the
 * GPU (kernels/sf_trainer_cuda.cu). The training loop (rl/sf_train_run.c)
 * is written once against it; the command chooses the backend once.
 *
 * The host trainer (rl/sf_trainer.h) stays the description of the run:
 * settings, slope schedules, checkpoints. A backend may hold a working copy
 * of its state elsewhere (the GPU's memory): pull brings it back to the host
 * trainer, push sends the host's to the backend. The CPU backend works on
 * the host trainer itself, so its pull and push do nothing. */
#ifndef SF_BACKEND_H
#define SF_BACKEND_H

#include <stddef.h>

#include "rl/sf_evaluate.h"
#include "rl/sf_plan.h"
#include "rl/sf_trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_backend sf_backend;

typedef struct {
  /* The plan's collection (nothing when plan->collect is 0); the plan's
   * slopes are set first. 0 or -1. */
  int (*collect)(sf_backend *b, const sf_plan *plan);
  /* plan->updates gradient updates of every agent; acc[p] sums agent p's
   * statistics over the *done updates that ran (0 while no agent has a full
   * sequence). 0 or -1. */
  int (*update)(sf_backend *b, const sf_plan *plan, sf_update_stats *acc, int *done);
  /* Evaluate every agent's actor as the host trainer holds it (pull first). */
  int (*evaluate)(sf_backend *b, const sf_plan *plan, sf_eval_stats *stats);
  /* Backend -> host trainer: the parameters (full = 0), or everything a
   * checkpoint holds (full = 1). Host trainer -> backend. 0, or -1 with a
   * message. */
  int (*pull)(sf_backend *b, int full, char *err, size_t errlen);
  int (*push)(sf_backend *b, char *err, size_t errlen);
  void (*free)(sf_backend *b);
} sf_backend_ops;

struct sf_backend {
  const sf_backend_ops *ops;
  sf_trainer *t;  /* the host trainer (outlives the backend) */
  char name[256]; /* "cpu", or the GPU's name */
  void *impl;     /* the implementation's own state */
};

/* The CPU backend on trainer t. NULL only when memory cannot be had. */
sf_backend *sf_cpu_backend_new(sf_trainer *t);
void sf_backend_free(sf_backend *b);

#ifdef __cplusplus
}
#endif
#endif
