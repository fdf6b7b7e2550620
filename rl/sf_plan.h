/* The plan of one training epoch: everything that may change from epoch to
 * epoch, derived from the run's settings (fixed for the run), the epoch
 * number and the agents' slope schedules. The training loop makes a plan,
 * prints it when asked, and hands it to a backend (rl/sf_backend.h), which
 * executes it and never works any of it out again.
 *
 *   phase     teacher  the reference controller flies the collection (plus
 *                      exploration noise) and the actor only imitates it
 *                      (TD3BC with alpha = 0, BC weight 1): the guide's first
 *                      epochs (train.teacher_epochs);
 *             online   the run's algorithm with its collection;
 *             offline  bc or td3bc on a fixed dataset, no collection.
 *   shape     what one gradient update computes (critic or not, BC term or
 *             not, plain -Q or TD3BC's normalised Q, the actor's delay):
 *             the CUDA backend keys its captured graphs by it.
 *   agents    per agent: the Q weight alpha (lambda_Q = alpha / mean|Q|,
 *             worked out from the batch), the BC weight, the jump-start
 *             horizon and the surrogate slope. */
#ifndef SF_PLAN_H
#define SF_PLAN_H

#include <stdio.h>

#include "rl/sf_trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SF_PHASE_TEACHER = 0, SF_PHASE_ONLINE, SF_PHASE_OFFLINE } sf_phase;
extern const char *const sf_phase_names[]; /* "teacher", "online", "offline" */

/* What one gradient update computes. Two plans with equal shapes run the
 * same sequence of operations (only per-agent numbers differ). */
typedef struct {
  int critic;       /* the twin critics learn, and the actor's loss has a Q term */
  int bc;           /* the actor's loss has the BC term */
  int plain_q;      /* lambda_Q = 1: TD3 maximising Q itself, no normalisation */
  int policy_delay; /* the actor (and the targets) update on every k-th update */
} sf_update_shape;

typedef struct {
  float alpha;     /* Q weight before normalisation: lambda_Q = alpha / mean|Q| */
  float lambda_bc; /* BC weight */
  int horizon;     /* jump start: the guide flies an episode's steps below it */
  float slope;     /* surrogate slope k of the actor and its target */
} sf_plan_agent;

typedef struct sf_plan {
  int epoch;   /* 0-based: the plan of the epoch after `epoch` completed ones */
  sf_phase phase;
  sf_algo algo; /* the algorithm the updates follow (td3bc while teaching) */
  sf_update_shape shape;
  int collect;  /* control steps per environment collected (0: none) */
  int teacher;  /* the reference controller flies the collection */
  int updates;  /* gradient updates */
  int evaluate; /* an evaluation and a checkpoint end the epoch */
  float progress;      /* curriculum progress while collecting */
  float eval_progress; /* ... of the evaluation's current coefficients */
  int P;
  sf_plan_agent *agent; /* [P] */
} sf_plan;

/* Room for P agents. 0 or -1 (memory). */
int sf_plan_init(sf_plan *plan, int P);
void sf_plan_free(sf_plan *plan);

/* The plan of epoch `epoch` (0-based) of trainer t: from its settings, its
 * agents' settings and its slope schedules' current slopes. */
void sf_plan_make(const sf_trainer *t, int epoch, sf_plan *plan);

/* Two update shapes are equal. */
int sf_update_shape_equal(const sf_update_shape *a, const sf_update_shape *b);

/* One line: "epoch 3: online td3bc_jsrl, collect 500, 50 updates (critic, bc,
 * delay 2), evaluate; agent 0: alpha 2 bc 0.194 h 430 k 2". */
void sf_plan_print(const sf_plan *plan, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
