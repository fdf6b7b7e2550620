#include "rl/sf_evaluate.h"

#include <stdlib.h>

#include "sim/sf_eval.h"

int sf_evaluate(sf_actor *actor, const sf_env_model *model, const uint64_t *seeds, int episodes, float progress,
                int warmup_steps, sf_eval_stats *stats, FILE *csv, int csv_agent, int csv_envs) {
  const sf_evaluate_log log = {csv, csv_agent, csv_envs, NULL, 0};
  return sf_evaluate_logged(actor, model, seeds, episodes, progress, warmup_steps, stats, &log);
}

int sf_evaluate_logged(sf_actor *actor, const sf_env_model *model, const uint64_t *seeds, int episodes,
                       float progress, int warmup_steps, sf_eval_stats *stats, const sf_evaluate_log *log) {
  FILE *csv = log->csv;
  const int csv_agent = log->csv_agent, csv_envs = log->csv_envs;
  const int P = actor->P, N = episodes, steps = model->task.time_limit;
  const long n = (long)P * N;
  const float dt = model->quad.dt;
  const sf_score_spec spec = sf_score_spec_of(model);
  uint64_t *eseeds = malloc(sizeof(uint64_t) * P);
  for (int p = 0; p < P; ++p) eseeds[p] = sf_eval_seed(seeds[p]);
  sf_env_data *d = sf_env_data_new(P, N, eseeds);
  float *obs = malloc(sizeof(float) * SF_OBS_DIM * n), *priv = malloc(sizeof(float) * SF_PRIV_DIM * n);
  float *x = malloc(sizeof(float) * actor->in_dim * n), *act = malloc(sizeof(float) * SF_ACT_DIM * n);
  float *rew = malloc(sizeof(float) * n);
  uint8_t *term = malloc(n), *trunc = malloc(n);
  sf_score_episode *acc = calloc(n, sizeof *acc);
  sf_actor_state st = {NULL};
  int rc = -1;
  if (!d || !obs || !priv || !x || !act || !rew || !term || !trunc || !acc || sf_actor_state_init(&st, actor, N))
    goto out;
  for (int p = 0; p < P; ++p) d->progress[p] = progress;
  sf_env_reset_all(model, d);
  if (log->breakdown && sf_breakdown_starts(log->breakdown, model, d, (long)log->breakdown_agent * N, N) != 0) goto out;
  sf_actor_state_reset_all(&st);
  for (int k = 0; k < steps; ++k) {
    sf_env_observe(model, d, obs);
    if (actor->cfg.input != SF_INPUT_OBS) sf_env_observe_privileged(model, d, priv);
    sf_actor_make_input(actor->cfg.input, n, obs, priv, x);
    if (sf_actor_step(actor, &st, N, x, act) != 0) goto out;
    sf_env_step(model, d, act, rew, term, trunc);
    for (long i = 0; i < n; ++i) {
      sf_quad_state s;
      float tp[3], tv[3];
      if (sf_score_step(&acc[i], &spec, model, d, i, k, act + i * SF_ACT_DIM, rew[i], term[i], trunc[i], &s, tp, tv) &&
          csv && i / N == csv_agent && i % N < csv_envs)
        sf_flight_csv_row(csv, i % N, i % N, k + 1, dt, &s, tp, tv, act + i * SF_ACT_DIM, rew[i]);
    }
  }
  sf_eval_finish(acc, P, N, warmup_steps, stats);
  if (log->breakdown) sf_breakdown_ends(log->breakdown, acc + (long)log->breakdown_agent * N, N);
  rc = 0;
out:
  sf_actor_state_free(&st);
  sf_env_data_free(d);
  free(eseeds), free(obs), free(priv), free(x), free(act), free(rew), free(term), free(trunc), free(acc);
  return rc;
}
