/* The CPU backend: the host trainer's own steps (rl/sf_trainer.c), with
 * OpenMP and BLAS inside them. */
#include <stdlib.h>
#include <string.h>

#include "rl/sf_backend.h"

static int cpu_collect(sf_backend *b, const sf_plan *plan) { return sf_trainer_collect(b->t, plan); }

static int cpu_update(sf_backend *b, const sf_plan *plan, sf_update_stats *acc, int *done) {
  sf_trainer *t = b->t;
  sf_update_stats *us = calloc(t->P, sizeof *us);
  if (!us) return -1;
  memset(acc, 0, sizeof *acc * t->P);
  *done = 0;
  int rc = 0;
  for (int u = 0; u < plan->updates; ++u) {
    const int r = sf_trainer_update(t, plan, us);
    if (r < 0) rc = -1;
    if (r != 0) break; /* r > 0: no full sequence yet */
    ++*done;
    for (int p = 0; p < t->P; ++p) {
      acc[p].critic_loss += us[p].critic_loss;
      acc[p].actor_loss += us[p].actor_loss;
      acc[p].mean_q += us[p].mean_q;
    }
  }
  free(us);
  return rc;
}

static int cpu_evaluate(sf_backend *b, const sf_plan *plan, sf_eval_stats *stats) {
  return sf_trainer_evaluate(b->t, plan, stats);
}

static int cpu_nothing(sf_backend *b, int full, char *err, size_t errlen) {
  (void)b, (void)full, (void)err, (void)errlen;
  return 0;
}

static int cpu_push(sf_backend *b, char *err, size_t errlen) { return cpu_nothing(b, 0, err, errlen); }

static void cpu_free(sf_backend *b) { free(b); }

static const sf_backend_ops cpu_ops = {cpu_collect, cpu_update, cpu_evaluate, cpu_nothing, cpu_push, cpu_free};

sf_backend *sf_cpu_backend_new(sf_trainer *t) {
  sf_backend *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  b->ops = &cpu_ops;
  b->t = t;
  strcpy(b->name, "cpu");
  return b;
}

void sf_backend_free(sf_backend *b) {
  if (b) b->ops->free(b);
}
