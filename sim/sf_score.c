#include "sim/sf_score.h"

#include <string.h>

sf_score_spec sf_score_spec_of(const sf_env_model *m) {
  const int second = (int)lroundf(1.0f / m->quad.dt); /* steps */
  sf_score_spec sp;
  sp.final_coef = sf_reward_coef_at(&m->task, 1.0f);
  sp.hold_from = m->task.time_limit - second;
  sp.track_from = second;
  return sp;
}

void sf_score_add(sf_score_sums *sum, const sf_score_episode *e, long n, int warmup_steps) {
  for (long i = 0; i < n; ++i, ++e) {
    sum->episodes++;
    sum->ret_f += e->ret_f;
    sum->ret_c += e->ret_c;
    sum->len += e->len;
    sum->survived_warmup += e->survived || e->len >= warmup_steps;
    if (!e->survived) continue;
    sum->survived++;
    sum->hold += e->n_hold ? e->err_hold / e->n_hold : 0.0;
    sum->track += e->n_track ? e->err_track / e->n_track : 0.0;
  }
}

void sf_score_stats(const sf_score_sums *sum, sf_eval_stats *st) {
  const double n = (double)sum->episodes;
  st->ret_final = sum->ret_f / n;
  st->ret_current = sum->ret_c / n;
  st->mean_len = sum->len / n;
  st->survive_warmup = (double)sum->survived_warmup / n;
  st->survival = (double)sum->survived / n;
  st->hover_err = sum->survived ? sum->hold / sum->survived : NAN;
  st->track_err = sum->survived ? sum->track / sum->survived : NAN;
}

void sf_eval_finish(const sf_score_episode *acc, int P, int N, int warmup_steps, sf_eval_stats *stats) {
  for (int p = 0; p < P; ++p) {
    sf_score_sums sum;
    memset(&sum, 0, sizeof sum);
    sf_score_add(&sum, acc + (long)p * N, N, warmup_steps);
    sf_score_stats(&sum, &stats[p]);
  }
}
