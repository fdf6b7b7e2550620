/* Spiking networks for a population of P agents: an input Linear, then L
 * blocks of LIF layer + Linear, the last Linear the readout, optionally
 * tanh:
 *
 *   x -> fc1 -> lif1 -> fc2 -> lif2 -> ... -> lifL -> fc(L+1) [-> tanh] -> y
 *
 * The actor is 18 -> 256 -> 128 -> 4 with tanh (sf_snn_actor_config); the
 * surrogate analysis uses 63 -> 4 x 64 -> 64 without. Each LIF layer has a
 * learnable beta (clamped to [0, 1]) and threshold per neuron; the
 * surrogate slope k is per agent (slope[p]) and may change between calls.
 *
 * Two forward modes produce the same bits (tested):
 *   - streaming: one step at a time, state carried in an sf_snn_state,
 *     reset per env at episode start (rollouts, evaluation, the drone);
 *   - sequence: [P][T][B][F] from the start state, keeping what backward
 *     needs.
 * The start state of every LIF neuron is U_{-1} = 0 and S_{-1} = H(-theta),
 * snnTorch's (the first step's reset computed from a zero membrane): 1 only
 * for a neuron whose threshold is negative; see sf_lif_math.inc.
 * Backward through time takes dL/dy (for the actor, from the critic's action
 * gradient), ignores it on the first `warmup` steps, and accumulates
 * gradients of every parameter into params.grad; it can also return dL/dx.
 *
 * Initialisation (sf_snn_init): weights and biases uniform in
 * +-1/sqrt(fan_in), PyTorch's nn.Linear default, i.e. what an snnTorch user
 * gets; beta and threshold uniform in [0, 1) per neuron, as the paper's
 * public code draws them (torch.rand). All from Philox keyed by the agent's
 * seed.
 *
 * Parameter names: <name>.fc<i>.weight [out][in], <name>.fc<i>.bias,
 * <name>.lif<i>.beta, <name>.lif<i>.threshold, i counting from 1. */
#ifndef SF_SNN_H
#define SF_SNN_H

#include <stdint.h>

#include "models/sf_params.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SF_SNN_MAX_LAYERS 8

typedef struct {
  int in;                            /* input width: 18, more in frame-stack mode */
  int nlayers;                       /* LIF layers, 1..SF_SNN_MAX_LAYERS */
  int hidden[SF_SNN_MAX_LAYERS];     /* neurons per LIF layer */
  int out;                           /* readout width */
  int tanh_out;                      /* squash the readout with tanh */
  int mode;                          /* sf_spike_mode: SF_SPIKE_HEAVISIDE except in gradient checks */
  int detach_reset;                  /* 1: snnTorch's detached reset (default); 0: exact gradient */
  char name[16];                     /* tensor name prefix: "actor" */
} sf_snn_config;

/* The paper's actor: 18 -> LIF(256) -> LIF(128) -> 4, tanh, Heaviside
 * spikes, detached reset, named "actor". */
sf_snn_config sf_snn_actor_config(void);

typedef struct {
  sf_snn_config cfg;
  int P;
  long max_rows;            /* capacity of a sequence call: T * B per agent */
  sf_params params;         /* the tensors listed above, agent-major */
  float *slope;             /* [P] surrogate slope k per agent */
  /* indices into params.t */
  int fc_w[SF_SNN_MAX_LAYERS + 1], fc_b[SF_SNN_MAX_LAYERS + 1];
  int lif_beta[SF_SNN_MAX_LAYERS], lif_theta[SF_SNN_MAX_LAYERS];
  /* workspace, allocated once by sf_snn_new */
  long wt_size;             /* floats of transposed weights per agent */
  long wt_off[SF_SNN_MAX_LAYERS + 1];
  float *wt;                /* [P][wt_size] weights transposed for the forward product */
  float *wt_src;            /* [P][params.n] the parameters wt and beta_c were made from */
  int wt_valid;             /* wt_src holds them (0: make them on the next call) */
  float *beta_c;            /* [P][sum hidden] clamped betas of the current call */
  float *x;                 /* [P][max_rows][in] the sequence input */
  float *u[SF_SNN_MAX_LAYERS], *s[SF_SNN_MAX_LAYERS]; /* [P][max_rows][hidden[l]] */
  float *y;                 /* [P][max_rows][out] */
  float *g;                 /* [P][max_rows][max hidden] dL/dS of the layer being processed */
  float *gy;                /* [P][max_rows][out] */
  float *acc;               /* per-tile partial sums of backward */
  int seq_T, seq_B;         /* shape of the stored forward; seq_T = 0: none */
} sf_snn;

/* NULL when the configuration is invalid or the memory cannot be had.
 * max_rows bounds T * B of sequence calls. Parameters start at zero; call
 * sf_snn_init. Slopes start at 1. */
sf_snn *sf_snn_new(const sf_snn_config *cfg, int P, long max_rows);
void sf_snn_free(sf_snn *net);
void sf_snn_init(sf_snn *net, const uint64_t *seeds);

/* Sequence forward from the start state: x [P][T][B][in] -> y [P][T][B][out].
 * Stores the sequence for sf_snn_backward. Returns 0, or -1 when T * B
 * exceeds max_rows. */
int sf_snn_forward(sf_snn *net, int T, int B, const float *x, float *y);

/* Backward through the stored sequence. dy [P][T][B][out] is dL/dy; steps
 * t < warmup contribute nothing whatever dy holds there. Gradients are
 * added to params.grad (zero them with sf_params_zero_grad); dx (NULL: not
 * wanted) receives dL/dx [P][T][B][in]. Consumes the stored sequence.
 * Returns 0, or -1 when no forward is stored. */
int sf_snn_backward(sf_snn *net, int warmup, const float *dy, float *dx);

/* Streaming state for B environments per agent. */
typedef struct {
  int P, B, nlayers;
  int hidden[SF_SNN_MAX_LAYERS];
  float *u[SF_SNN_MAX_LAYERS], *s[SF_SNN_MAX_LAYERS]; /* [P][B][hidden[l]] */
  float *cur;                                         /* [P][B][max hidden] */
} sf_snn_state;

sf_snn_state *sf_snn_state_new(const sf_snn *net, int B);
void sf_snn_state_free(sf_snn_state *st);
/* Put env b of agent p in the start state (episode start). The spike slots
 * then hold SF_LIF_S_START (-1), which the next step reads as H(-theta) of
 * the theta it runs with; a new state starts there too. */
void sf_snn_state_reset(sf_snn_state *st, int p, int b);
void sf_snn_state_reset_all(sf_snn_state *st);

/* One control step: x [P][B][in] -> y [P][B][out], state advanced. Returns
 * 0, or -1 when the state was made for another network shape. */
int sf_snn_step(sf_snn *net, sf_snn_state *st, const float *x, float *y);

#ifdef __cplusplus
}
#endif
#endif
