#include "export/sf_flight.h"

#include <stdlib.h>
#include <string.h>

#include "sim/sf_score.h"

void sf_flight_log_free(sf_flight_log *log) {
  free(log->obs);
  free(log->reset);
  memset(log, 0, sizeof *log);
}

int sf_flight_run(const sf_env_model *m, sf_policy_kind kind, const sf_snn_net *net, const sf_quant_net *q,
                  int episodes, uint64_t seed, double *returns, int *lengths, sf_flight_log *log) {
  const int N = episodes, T = m->task.time_limit, n_in = net->n_in, n3 = net->n_out;
  if (N < 1 || T < 1 || n_in != SF_OBS_DIM || n3 != SF_ACT_DIM) return -1;
  sf_env_data *d = sf_env_data_new(1, N, &seed);
  float *obs = malloc(sizeof(float) * (size_t)N * n_in);
  float *act = calloc((size_t)N * n3, sizeof(float));
  float *rew = malloc(sizeof(float) * (size_t)N);
  uint8_t *term = malloc((size_t)N), *trunc = malloc((size_t)N);
  sf_score_episode *acc = calloc((size_t)N, sizeof *acc);
  float *trace = log ? malloc(sizeof(float) * (size_t)N * T * n_in) : NULL;
  sf_snn_ref_state *ref = kind == SF_POLICY_REFERENCE ? calloc((size_t)N, sizeof *ref) : NULL;
  sf_module *mod = kind == SF_POLICY_REFERENCE
                       ? NULL
                       : sf_module_new(kind == SF_POLICY_INT8 ? SF_EXPORT_INT8 : SF_EXPORT_FLOAT32, net, q, N);
  int rc = -1;
  if (!d || !obs || !act || !rew || !term || !trunc || !acc || (log && !trace) ||
      (kind == SF_POLICY_REFERENCE ? !ref : !mod))
    goto out;
  for (int e = 0; ref && e < N; ++e)
    if (sf_snn_ref_alloc(&ref[e], net) != 0) goto out;
  d->progress[0] = 1.0f;
  const sf_score_spec spec = sf_score_spec_of(m);
  sf_env_reset_all(m, d);
  for (int e = 0; e < N; ++e) {
    if (ref)
      sf_snn_ref_reset(&ref[e], net);
    else
      sf_module_reset(mod, e);
  }
  for (int t = 0; t < T; ++t) {
    sf_env_observe(m, d, obs);
    int any = 0;
    for (int e = 0; e < N; ++e) {
      float *a = act + (size_t)e * n3;
      if (acc[e].done) {
        memset(a, 0, sizeof(float) * (size_t)n3);
        continue;
      }
      any = 1;
      const float *o = obs + (size_t)e * n_in;
      if (trace) memcpy(trace + ((size_t)e * T + t) * n_in, o, sizeof(float) * (size_t)n_in);
      if (ref)
        sf_snn_ref_step(net, &ref[e], o, a);
      else
        sf_module_step(mod, e, o, a);
    }
    if (!any) break;
    sf_env_step(m, d, act, rew, term, trunc);
    for (int e = 0; e < N; ++e) {
      sf_quad_state s;
      float tp[3], tv[3];
      sf_score_step(&acc[e], &spec, m, d, e, t, act + (size_t)e * n3, rew[e], term[e], trunc[e], &s, tp, tv);
    }
  }
  if (log) {
    int total = 0;
    for (int e = 0; e < N; ++e) total += acc[e].len;
    log->obs = malloc(sizeof(float) * (size_t)total * n_in);
    log->reset = calloc((size_t)total, 1);
    if (!log->obs || !log->reset) {
      sf_flight_log_free(log);
      goto out;
    }
    log->steps = total;
    int at = 0;
    for (int e = 0; e < N; ++e) {
      memcpy(log->obs + (size_t)at * n_in, trace + (size_t)e * T * n_in, sizeof(float) * (size_t)acc[e].len * n_in);
      log->reset[at] = 1;
      at += acc[e].len;
    }
  }
  for (int e = 0; e < N; ++e) {
    if (returns) returns[e] = acc[e].ret_c; /* progress 1: the final coefficients */
    if (lengths) lengths[e] = acc[e].len;
  }
  rc = 0;
out:
  if (ref)
    for (int e = 0; e < N; ++e) sf_snn_ref_free(&ref[e]);
  free(ref);
  sf_module_free(mod);
  free(trace);
  free(acc);
  free(trunc);
  free(term);
  free(rew);
  free(act);
  free(obs);
  sf_env_data_free(d);
  return rc;
}
