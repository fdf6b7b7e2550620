#include "export/sf_metrics.h"

#include <stdlib.h>
#include <string.h>

#include "export/sf_codegen.h"

/* Nonzero weights in each column of w[n_out][n_in]. */
static void column_nnz(const float *w, int n_out, int n_in, int *nnz, long *zeros) {
  for (int i = 0; i < n_in; ++i) nnz[i] = 0;
  for (int o = 0; o < n_out; ++o)
    for (int i = 0; i < n_in; ++i) {
      int nz = w[(size_t)o * n_in + i] != 0.0f;
      nnz[i] += nz;
      *zeros += !nz;
    }
}

void sf_metrics_replay(const sf_snn_net *net, const sf_flight_log *log, sf_metrics *m) {
  const int n_in = net->n_in, n1 = net->n_h1, n2 = net->n_h2, n3 = net->n_out;
  memset(m, 0, sizeof *m);
  m->params = sf_snn_net_params(net);
  m->footprint_float32 = sf_export_flash_bytes(SF_EXPORT_FLOAT32, net);
  m->footprint_int8 = sf_export_flash_bytes(SF_EXPORT_INT8, net);
  int *nnz1 = malloc(sizeof(int) * (size_t)n_in), *nnz2 = malloc(sizeof(int) * (size_t)n1);
  int *nnz3 = malloc(sizeof(int) * (size_t)n2);
  float *act = malloc(sizeof(float) * (size_t)n3);
  sf_snn_ref_state st;
  if (!nnz1 || !nnz2 || !nnz3 || !act || sf_snn_ref_alloc(&st, net) != 0) {
    free(nnz1);
    free(nnz2);
    free(nnz3);
    free(act);
    return;
  }
  long zeros = 0;
  column_nnz(net->w1, n1, n_in, nnz1, &zeros);
  column_nnz(net->w2, n2, n1, nnz2, &zeros);
  column_nnz(net->w3, n3, n2, nnz3, &zeros);
  long weights = (long)n_in * n1 + (long)n1 * n2 + (long)n2 * n3;
  m->connection_sparsity = (double)zeros / (double)weights;
  m->dense = (double)weights;
  m->neuron_updates = (double)(n1 + n2 + n3);
  double macs = 0.0, acs = 0.0, sp1 = 0.0, sp2 = 0.0;
  int episodes = 0;
  for (int t = 0; t < log->steps; ++t) {
    if (t == 0 || log->reset[t]) {
      sf_snn_ref_reset(&st, net);
      episodes++;
    }
    const float *x = log->obs + (size_t)t * n_in;
    for (int i = 0; i < n_in; ++i)
      if (x[i] != 0.0f) macs += nnz1[i];
    sf_snn_ref_step(net, &st, x, act);
    /* fc2 and fc3 consume this step's spikes (fc2 those of lif1, fc3 of lif2). */
    for (int j = 0; j < n1; ++j)
      if (st.s1[j] != 0.0f) {
        acs += nnz2[j];
        sp1 += 1.0;
      }
    for (int j = 0; j < n2; ++j)
      if (st.s2[j] != 0.0f) {
        acs += nnz3[j];
        sp2 += 1.0;
      }
  }
  const double T = log->steps > 0 ? (double)log->steps : 1.0;
  m->episodes = episodes;
  m->steps = log->steps;
  m->eff_macs = macs / T;
  m->eff_acs = acs / T;
  m->spikes1 = sp1 / T;
  m->spikes2 = sp2 / T;
  m->activation_sparsity = 1.0 - (sp1 + sp2) / (T * (double)(n1 + n2));
  m->energy_pj = SF_LOIHI_PJ_PER_SYNOP * (m->eff_macs + m->eff_acs) +
                 SF_LOIHI_PJ_PER_SPIKE * (m->spikes1 + m->spikes2) + SF_LOIHI_PJ_PER_UPDATE * m->neuron_updates;
  sf_snn_ref_free(&st);
  free(nnz1);
  free(nnz2);
  free(nnz3);
  free(act);
}

int sf_metrics_eval(const sf_env_model *model, const sf_snn_net *net, int episodes, uint64_t seed,
                    sf_metrics *m) {
  sf_flight_log log = {0};
  double *ret = malloc(sizeof(double) * (size_t)episodes);
  int *len = malloc(sizeof(int) * (size_t)episodes);
  if (!ret || !len || sf_flight_run(model, SF_POLICY_REFERENCE, net, NULL, episodes, seed, ret, len, &log) != 0) {
    free(ret);
    free(len);
    return -1;
  }
  sf_metrics_replay(net, &log, m);
  for (int e = 0; e < episodes; ++e) {
    m->mean_return += ret[e] / episodes;
    m->mean_length += (double)len[e] / episodes;
  }
  sf_flight_log_free(&log);
  free(ret);
  free(len);
  return 0;
}
