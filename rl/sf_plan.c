#include "rl/sf_plan.h"

#include <stdlib.h>
#include <string.h>

#include "rl/sf_rl_math.h"

const char *const sf_phase_names[] = {"teacher", "online", "offline", NULL};

int sf_plan_init(sf_plan *plan, int P) {
  memset(plan, 0, sizeof *plan);
  plan->P = P;
  plan->agent = calloc(P, sizeof *plan->agent);
  return plan->agent ? 0 : -1;
}

void sf_plan_free(sf_plan *plan) {
  free(plan->agent);
  plan->agent = NULL;
}

static float curriculum(int epoch, int epochs) {
  float x = (float)epoch / (float)epochs;
  return x > 1.0f ? 1.0f : x;
}

void sf_plan_make(const sf_trainer *t, int epoch, sf_plan *plan) {
  const sf_train_settings *s = &t->s;
  const int teaching = t->online && epoch < s->teacher_epochs;
  plan->epoch = epoch;
  plan->phase = teaching ? SF_PHASE_TEACHER : t->online ? SF_PHASE_ONLINE : SF_PHASE_OFFLINE;
  /* While teaching the updates are TD3BC with alpha = 0: the actor imitates
   * the reference controller, the critic learns the values of its flights. */
  plan->algo = teaching ? SF_ALGO_TD3BC : s->algo;
  const int bc = teaching || s->bc;
  plan->shape.critic = plan->algo != SF_ALGO_BC;
  plan->shape.bc = bc;
  plan->shape.plain_q = plan->algo == SF_ALGO_TD3 && !bc;
  plan->shape.policy_delay = plan->algo == SF_ALGO_BC ? 1 : s->policy_delay;
  plan->collect = t->online ? s->collect_steps : 0;
  plan->teacher = teaching;
  plan->updates = s->updates;
  plan->evaluate = (epoch + 1) % s->eval_every == 0 || epoch + 1 == s->epochs;
  plan->progress = curriculum(epoch, s->epochs);
  plan->eval_progress = curriculum(epoch + 1, s->epochs);
  const int horizon = s->jumpstart ? sf_jsrl_horizon(s->h_start, s->h_end, s->h_epochs, epoch) : 0;
  for (int p = 0; p < plan->P; ++p) {
    const sf_agent_settings *a = &t->agent[p];
    sf_plan_agent *pa = &plan->agent[p];
    pa->alpha = teaching ? 0.0f : a->alpha;
    /* bc imitates with weight 1; TD3BC's weight decays by epoch. */
    pa->lambda_bc = teaching || plan->algo == SF_ALGO_BC ? 1.0f
                    : bc                                ? sf_bc_weight(a->bc_weight, a->bc_decay, epoch)
                                                        : 0.0f;
    pa->horizon = horizon;
    pa->slope = sf_slope_k(&t->sched[p]);
  }
}

int sf_update_shape_equal(const sf_update_shape *a, const sf_update_shape *b) {
  return a->critic == b->critic && a->bc == b->bc && a->plain_q == b->plain_q && a->policy_delay == b->policy_delay;
}

void sf_plan_print(const sf_plan *plan, FILE *out) {
  const sf_update_shape *u = &plan->shape;
  fprintf(out, "epoch %d: %s %s, collect %d, %d updates (%s%s%s, delay %d)%s", plan->epoch + 1,
          sf_phase_names[plan->phase], sf_algo_names[plan->algo], plan->collect, plan->updates,
          u->critic ? "critic" : "no critic", u->bc ? ", bc" : "", u->plain_q ? ", plain Q" : "", u->policy_delay,
          plan->evaluate ? ", evaluate" : "");
  for (int p = 0; p < plan->P; ++p) {
    const sf_plan_agent *a = &plan->agent[p];
    fprintf(out, "; agent %d: alpha %g bc %.4g h %d k %g", p, a->alpha, a->lambda_bc, a->horizon, a->slope);
  }
  fputc('\n', out);
}
