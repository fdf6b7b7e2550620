/* The float32 SNN actor: 18 -> Linear -> LIF -> Linear -> LIF -> Linear -> tanh,
 * computed in the order of a straightforward float forward, so that it gives
 * bit for bit the actions of the reference forward of the trained network.
 *
 * LIF (snnTorch "Leaky", subtractive reset delayed by one step):
 *   U_t = beta U_{t-1} + I_t - S_{t-1} theta,  S_t = (U_t > theta),
 * from the start state U_{-1} = 0, S_{-1} = (0 > theta) (a negative
 * threshold starts as if its neuron had just spiked), set by the reset.
 * The pure functions here take the network and the state by pointer; the
 * controller (sf_ctrl.c) binds them to the generated weights. */
#ifndef SF_CTRL_F32_H
#define SF_CTRL_F32_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int n_in, n_h1, n_h2, n_out;
  const float *w1;                 /* [n_h1][n_in], fc1.weight as trained */
  const float *b1, *beta1, *thr1;  /* [n_h1]; beta already clamped to [0, 1] */
  const float *w2t;                /* [n_h1][n_h2]: fc2.weight transposed, so that
                                      a spike of neuron j adds one contiguous row */
  const float *b2, *beta2, *thr2;  /* [n_h2] */
  const float *w3t;                /* [n_h2][n_out]: fc3.weight transposed */
  const float *b3;                 /* [n_out] */
} sf_ctrl_f32_net;

/* Caller-owned buffers, sized by the network. */
typedef struct {
  float *u1;   /* [n_h1] membrane potentials */
  float *u2;   /* [n_h2] */
  uint8_t *s1; /* [n_h1] spikes of the last step */
  uint8_t *s2; /* [n_h2] */
  float *i2;   /* [n_h2] scratch: input current of layer 2 */
} sf_ctrl_f32_state;

/* Empty (external functions) unless sf_ctrl.c includes sf_ctrl_f32.c into
 * its own translation unit with it defined as `static`, so the compiler sees
 * the constant network and specialises the loops for its sizes. */
#ifndef SF_CTRL_F32_API
#define SF_CTRL_F32_API
#endif

SF_CTRL_F32_API void sf_ctrl_f32_reset(const sf_ctrl_f32_net *net, sf_ctrl_f32_state *st);
SF_CTRL_F32_API void sf_ctrl_f32_step(const sf_ctrl_f32_net *net, sf_ctrl_f32_state *st, const float *obs,
                                      float *act);

#ifdef __cplusplus
}
#endif
#endif
