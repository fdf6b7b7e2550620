/* The trained SNN actor as the exporter sees it: one agent's float32
 * parameters, with the layer sizes read from the tensors, and a plain float
 * reference forward written apart from the embedded module (dense
 * matrix-vector products, spikes as 0/1 floats) for checking it.
 *
 *   obs[n_in] -> fc1 -> LIF(n_h1) -> fc2 -> LIF(n_h2) -> fc3 -> tanh -> act[n_out]
 *   LIF: U_t = beta U_{t-1} + I_t - S_{t-1} theta, S_t = (U_t > theta),
 *        beta clamped to [0, 1]; at episode start U = 0 and
 *        S_{-1} = H(-theta) (1 only for a negative threshold), the models'
 *        start state (sf_lif_math.inc).
 * Weights are [out][in], as in the checkpoint (names actor.fc1.weight ...). */
#ifndef SF_SNN_NET_H
#define SF_SNN_NET_H

#include <stddef.h>
#include <stdint.h>

#include "models/sf_params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int n_in, n_h1, n_h2, n_out;
  float *w1, *b1, *beta1, *thr1; /* [n_h1][n_in], [n_h1] x3 */
  float *w2, *b2, *beta2, *thr2; /* [n_h2][n_h1], [n_h2] x3 */
  float *w3, *b3;                /* [n_out][n_h2], [n_out] */
} sf_snn_net;

/* Allocates zeroed parameters. Returns 0, or -1 (sizes < 1 or no memory). */
int sf_snn_net_alloc(sf_snn_net *net, int n_in, int n_h1, int n_h2, int n_out);
void sf_snn_net_free(sf_snn_net *net);
/* Parameters drawn from `seed` (Philox, stream SF_RNG_INIT): weights and
 * biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's Linear default), beta
 * U(0.5, 1.0), theta U(0.5, 1.5); `gain` scales the weights and biases of
 * fc1 and fc2 (1 is PyTorch's default; more gives more spikes). */
void sf_snn_net_init_seeded(sf_snn_net *net, uint64_t seed, float gain);
/* Total parameter count. */
size_t sf_snn_net_params(const sf_snn_net *net);

/* Reads agent `agent` of a checkpoint's actor (tensors actor.fc1.weight
 * [P][n_h1][n_in], actor.fc1.bias [P][n_h1], actor.lif1.beta,
 * actor.lif1.threshold, actor.fc2.*, actor.lif2.*, actor.fc3.weight
 * [P][n_out][n_h2], actor.fc3.bias), sizes taken from the tensors and checked
 * against each other, values finite. Returns 0, or -1 with a message naming
 * the file and the problem in err. A file without a checksum is taken (see
 * sf_actor_load's rule): err then holds a note saying so, else "". */
int sf_snn_net_load(sf_snn_net *net, const char *path, int agent, char *err, size_t errlen);

/* Copies agent `agent` of a model's parameters (models/sf_params.h, tensors
 * named <prefix>.fc1.weight ... as in a checkpoint) into net, allocated
 * here. The model must be the two-LIF-layer actor shape (fc1..fc3,
 * lif1..lif2). Returns 0, or -1 with a message in err. */
int sf_snn_net_from_params(sf_snn_net *net, const sf_params *params, const char *prefix, int agent, char *err,
                           size_t errlen);

/* Reference forward state (allocated by sf_snn_ref_alloc). Spikes are kept
 * as 0/1 floats, the way the dense formula uses them. */
typedef struct {
  float *u1, *s1; /* [n_h1] */
  float *u2, *s2; /* [n_h2] */
} sf_snn_ref_state;

int sf_snn_ref_alloc(sf_snn_ref_state *st, const sf_snn_net *net);
void sf_snn_ref_free(sf_snn_ref_state *st);
void sf_snn_ref_reset(sf_snn_ref_state *st, const sf_snn_net *net);
void sf_snn_ref_step(const sf_snn_net *net, sf_snn_ref_state *st, const float *obs, float *act);

#ifdef __cplusplus
}
#endif
#endif
