/* Fully connected ANN networks for a population of P agents: Linear layers
 * with ReLU between them and an optional tanh on the output. The critics
 * (privileged observation + action -> Q) and the guide policy are MLPs.
 *
 * The input may come in two parts that the network sees concatenated,
 * [x1 | x2]: the critic takes the observation and the action without the
 * caller building [P][rows][150] itself, and backward returns the gradient
 * with respect to each part separately (dQ/d(action) is how the actor's
 * loss reaches the SNN).
 *
 * Initialisation: weights and biases uniform in +-1/sqrt(fan_in), PyTorch's
 * nn.Linear default, which the paper's TD3 networks used; from Philox keyed
 * by each agent's seed and the tensor's name. Parameter names:
 * <name>.fc<i>.weight [out][in], <name>.fc<i>.bias, i counting from 1. */
#ifndef SF_MLP_H
#define SF_MLP_H

#include <stdint.h>

#include "models/sf_params.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SF_MLP_MAX_HIDDEN 6

typedef struct {
  int in;                          /* total input width (both parts) */
  int nhidden;                     /* hidden layers, 0..SF_MLP_MAX_HIDDEN */
  int hidden[SF_MLP_MAX_HIDDEN];
  int out;
  int tanh_out;
  char name[16];                   /* "critic1", "guide" */
} sf_mlp_config;

/* Critic: obs_dim + act_dim -> 256 -> 128 -> 1, ReLU (146 + 4 for the paper). */
sf_mlp_config sf_critic_config(const char *name, int obs_dim, int act_dim);
/* Guide: obs_dim -> 64 -> 64 -> act_dim, tanh (146 -> 4 for the paper). */
sf_mlp_config sf_guide_config(int obs_dim, int act_dim);

typedef struct {
  sf_mlp_config cfg;
  int P;
  long max_rows;
  sf_params params;
  int fc_w[SF_MLP_MAX_HIDDEN + 1], fc_b[SF_MLP_MAX_HIDDEN + 1];
  /* workspace */
  float *x;                          /* [P][max_rows][in] the concatenated input */
  float *act[SF_MLP_MAX_HIDDEN + 1]; /* [P][max_rows][width] each layer's output after its activation */
  float *g[2];                       /* [P][max_rows][max width] backward ping-pong */
  long rows;                         /* rows of the stored forward; 0: none */
  int n1;                            /* width of its first input part */
} sf_mlp;

/* NULL when the configuration is invalid or memory cannot be had. */
sf_mlp *sf_mlp_new(const sf_mlp_config *cfg, int P, long max_rows);
void sf_mlp_free(sf_mlp *m);
void sf_mlp_init(sf_mlp *m, const uint64_t *seeds);

/* y [P][rows][out] from x1 [P][rows][n1] and x2 [P][rows][in - n1] (x2 NULL
 * when n1 = in). Stores what backward needs. Returns 0, or -1 when rows
 * exceeds max_rows or n1 is out of range. */
int sf_mlp_forward(sf_mlp *m, long rows, const float *x1, int n1, const float *x2, float *y);

/* Backward of the stored forward from dy = dL/dy [P][rows][out]. With
 * param_grads, parameter gradients are added to params.grad; without, they
 * are left alone (the actor's loss differentiates the critic only for its
 * action). dx1 [P][rows][n1] and dx2 [P][rows][in - n1] receive the input
 * gradients (NULL: not wanted). The stored forward stays valid. Returns 0,
 * or -1 when no forward is stored. */
int sf_mlp_backward(sf_mlp *m, const float *dy, int param_grads, float *dx1, float *dx2);

/* Twin critics Q1, Q2 with target copies for TD3. Q1 and Q2 draw different
 * initial weights (their names differ); targets start as copies. */
typedef struct {
  sf_mlp *q[2];
  sf_mlp *target[2];
} sf_twin_critic;

/* Names critic1, critic2 (targets: critic1_target, critic2_target). Returns
 * 0, or -1 when memory cannot be had. */
int sf_twin_critic_new(sf_twin_critic *c, int P, long max_rows, int obs_dim, int act_dim);
void sf_twin_critic_free(sf_twin_critic *c);
void sf_twin_critic_init(sf_twin_critic *c, const uint64_t *seeds);
/* target = (1 - tau) target + tau online, both critics. */
void sf_twin_critic_polyak(sf_twin_critic *c, float tau);

#ifdef __cplusplus
}
#endif
#endif
