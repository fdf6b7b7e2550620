/* The surrogate-gradient slope analysis of the paper's Figure 1: how the
 * fast-sigmoid slope k changes the gradients a spiking network receives,
 * layer by layer.
 *
 * One network (default 63 -> 4 x LIF(64) -> Linear(64)) with identical
 * weights for every slope: the slopes are the population axis, every agent
 * with the same seed, so only the surrogate differs (the forward pass is the
 * same bits for all). For each of `samples` random N(0,1) input/target pairs
 * (Philox, keyed by the seed) the input is held for `timesteps` steps from
 * zero state; the prediction is the readout of the last LIF layer's spike
 * count, W (sum_t S_t) + b, as in the paper's script; the loss is the MSE to
 * the target. Per weight tensor ("layer" l = fc(l+1): layer 0 feeds the
 * first LIF layer and is the farthest from the loss, the last is the
 * readout) and slope:
 *   mean |gradient|            over the tensor's elements,
 *   fraction of zero gradients elements with |g| <= zero_tol (default 0:
 *                              exactly zero; the fast sigmoid is never 0, so
 *                              exact zeros come from inputs that never spiked),
 *   cosine similarity          to the reference slope's gradient of the same
 *                              sample (0 when either norm is zero),
 * each averaged over the samples. The reset is detached as in snnTorch. */
#ifndef SF_SURROGATE_ANALYSIS_H
#define SF_SURROGATE_ANALYSIS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SF_SA_MAX_SLOPES 32

typedef struct {
  int in, nlayers, width, out;
  int timesteps, samples;
  uint64_t seed;
  int nslopes;
  float slopes[SF_SA_MAX_SLOPES];
  float reference; /* must be one of slopes */
  double zero_tol; /* |g| at or below this counts as zero */
} sf_sa_config;

/* The paper's setting: 63 -> 4 x 64 -> 64, 256 samples, 2 steps, slopes
 * {1, 10, 25, 50, 100}, reference 100, seed 1. */
sf_sa_config sf_sa_default(void);

typedef struct {
  int nslopes, nw;    /* nw = nlayers + 1 weight tensors */
  int ref;            /* index of the reference slope */
  double *mean_abs;   /* [nslopes][nw] */
  double *zero_frac;  /* [nslopes][nw] */
  double *cos_sim;    /* [nslopes][nw] */
  int *zero_norm;     /* [nslopes][nw] samples counted as similarity 0 */
  double *spike_rate; /* [nlayers] mean firing rate of each LIF layer */
  double loss;        /* mean loss over samples */
} sf_sa_result;

/* Returns 0, or -1 with a message in err (size errlen) for an invalid
 * configuration or missing memory. */
int sf_sa_run(const sf_sa_config *cfg, sf_sa_result *res, char *err, int errlen);
void sf_sa_result_free(sf_sa_result *res);

#ifdef __cplusplus
}
#endif
#endif
