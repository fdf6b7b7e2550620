/* The policy being trained, for a population of P agents: the spiking actor
 * (the point of the project), or an ANN actor for the baselines and for the
 * guide. One interface for the trainer:
 *
 *   - streaming: one control step for N envs with carried state (an SNN's
 *     membranes; an MLP has none), reset per env at episode start;
 *   - sequence: [P][T][B][in] from zero state, then backward from
 *     dL/d(action) with the first `warmup` steps ignored.
 *
 * What the actor sees is built from the two observations the environment
 * gives: the noisy 18 values (what the drone has), optionally with the last
 * 32 actions, or the privileged 146 (the guide).
 *
 * Frame-stack mode (frames > 0, spiking actors only; the paper's setting for
 * its slope analysis with single transitions): no state is carried between
 * control steps. Each step the SNN starts from rest, sees the last `frames`
 * inputs side by side (oldest first; after an episode starts, the first
 * input fills the older slots) for `substeps` SNN steps, and the action is
 * tanh of its readout averaged over those steps (a rate readout: the
 * readout's mean is W * mean spike count + b). Streaming keeps the last
 * frames in the state; a sequence call builds each step's stack from the
 * steps before it in the sequence, the first step filling the older slots,
 * so a sequence that starts an episode gives the streaming bits exactly. */
#ifndef SF_ACTOR_H
#define SF_ACTOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/sf_config.h"
#include "models/sf_mlp.h"
#include "models/sf_snn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SF_ACTOR_SNN = 0, SF_ACTOR_MLP = 1 } sf_actor_kind;
typedef enum {
  SF_INPUT_OBS = 0,      /* the noisy observation, 18 */
  SF_INPUT_OBS_HIST = 1, /* noisy observation + the last 32 actions, 146 */
  SF_INPUT_PRIV = 2,     /* the privileged observation, 146 */
} sf_actor_input;

extern const char *const sf_actor_kind_names[];  /* "snn", "mlp", NULL */
extern const char *const sf_actor_input_names[]; /* "obs", "obs_hist", "priv", NULL */

typedef struct {
  sf_actor_kind kind;
  sf_actor_input input;
  int hidden[SF_SNN_MAX_LAYERS]; /* hidden widths */
  int nhidden;
  int frames;    /* frame-stack mode: inputs stacked (0: streaming with carried state) */
  int substeps;  /* frame-stack mode: SNN steps per control step (>= 1) */
  char name[16]; /* tensor prefix: "actor", "guide" */
} sf_actor_config;

/* The paper's SNN actor (obs -> LIF 256 -> LIF 128 -> 4) and guide
 * (priv -> 64 -> 64 -> 4, an MLP). */
sf_actor_config sf_actor_default(sf_actor_kind kind, sf_actor_input input);
sf_actor_config sf_guide_actor_config(void);
/* Whether `spikefly export` and `metrics` (and the embedded module) can take
 * this actor: a spiking actor must have exactly two LIF layers. (ANN actors
 * are baselines and guides, trained but never exported.) 0, or -1 with the
 * reason in why. */
int sf_actor_config_check_exportable(const sf_actor_config *c, char *why, size_t n);
/* The same as a config error naming train.hidden (training refuses such an
 * actor before it starts rather than after it finished). */
void sf_actor_config_require_exportable(const sf_actor_config *c, sf_config *cfg);

/* Width of the actor's input at one control step (in frame-stack mode the
 * network's first layer takes frames times this). */
int sf_actor_in_dim(sf_actor_input input);
/* Why a configuration with frames/substeps set cannot be built (0 when it
 * can): frame-stack mode is for spiking actors. */
int sf_actor_config_check_stack(const sf_actor_config *c, char *why, size_t n);
/* "snn:obs:256,128", "snn:obs:256,128:stack=4x4" in frame-stack mode (4
 * frames, 4 sub-steps) - stored in checkpoints to rebuild the network. */
void sf_actor_describe(const sf_actor_config *c, char *out, size_t len);
/* Parse such a description. Returns 0 or -1. */
int sf_actor_parse(const char *desc, const char *name, sf_actor_config *c);

typedef struct {
  sf_actor_config cfg;
  int P, in_dim;
  sf_snn *snn;
  sf_mlp *mlp;
  sf_params *params; /* the network's parameters (either kind) */
  /* frame-stack mode's sequence workspace: the stacked input repeated per
   * sub-step [P][substeps][rows][frames * in_dim], the readout per sub-step
   * [P][substeps][rows][4] and the actions of the stored sequence [P][rows][4]
   * (what the backward's tanh needs) */
  float *xs, *ys, *ya;
  long seq_rows; /* T * B of the stored sequence (0: none) */
} sf_actor;

/* max_rows bounds T * B of sequence calls (and N of streaming calls for an
 * MLP). NULL when the configuration is invalid or memory cannot be had. */
sf_actor *sf_actor_new(const sf_actor_config *cfg, int P, long max_rows);
void sf_actor_free(sf_actor *a);
void sf_actor_init(sf_actor *a, const uint64_t *seeds);
/* Set the surrogate slope of agent p (ignored by an MLP). */
void sf_actor_set_slope(sf_actor *a, int p, float k);

/* Build actor inputs [rows][in_dim] from obs [rows][18] and priv
 * [rows][146] (either may be NULL when the input does not use it). */
void sf_actor_make_input(sf_actor_input input, long rows, const float *obs, const float *priv, float *x);

/* Streaming state for N envs per agent; snn NULL for an MLP (none needed).
 * In frame-stack mode snn holds the sub-steps of the current control step
 * only, and ring the last frames of each env. */
typedef struct {
  sf_snn_state *snn;
  int P, N, width;      /* frame-stack mode: width = frames * in_dim */
  float *ring;          /* [P][N][width] the last frames, oldest first */
  unsigned char *fresh; /* [P][N] 1: the next input starts an episode */
  float *y, *acc;       /* [P][N][4] one sub-step's readout, their sum */
} sf_actor_state;
int sf_actor_state_init(sf_actor_state *st, const sf_actor *a, int N);
void sf_actor_state_free(sf_actor_state *st);
void sf_actor_state_reset(sf_actor_state *st, int p, int n);
void sf_actor_state_reset_all(sf_actor_state *st);
/* One control step: x [P][N][in] -> actions [P][N][4]. Returns 0 or -1. */
int sf_actor_step(sf_actor *a, sf_actor_state *st, int N, const float *x, float *y);

/* Sequence forward [P][T][B][in] -> [P][T][B][4] and its backward. */
int sf_actor_forward(sf_actor *a, int T, int B, const float *x, float *y);
int sf_actor_backward(sf_actor *a, int T, int B, int warmup, const float *dy);

/* The actor of agent `agent` of a checkpoint (trainer or guide), rebuilt
 * from its "spikefly.actor" metadata as a population of one. seed (may be
 * NULL) receives the agent's training seed when the file holds one. NULL
 * with a message on failure.
 * The checkpoint rule of every command: a checksum that is present must
 * match; a file without one (re-saved by another tool) is taken when its
 * tensors have the expected names, dtypes and shapes and finite values, and
 * then err holds a note saying so (else err is "" on success). */
sf_actor *sf_actor_load(const char *path, int agent, uint64_t *seed, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
