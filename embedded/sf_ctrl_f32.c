#include "sf_ctrl_f32.h"

#include <math.h>
#include <string.h>

/* The start state: U = 0 and S_{-1} = H(0 - theta), 1 only for a neuron
 * whose threshold is negative (snnTorch computes the first step's reset from
 * its zero membrane; spikefly's sf_lif_start_spike). */
SF_CTRL_F32_API void sf_ctrl_f32_reset(const sf_ctrl_f32_net *net, sf_ctrl_f32_state *st) {
  memset(st->u1, 0, sizeof(float) * (size_t)net->n_h1);
  memset(st->u2, 0, sizeof(float) * (size_t)net->n_h2);
  for (int o = 0; o < net->n_h1; ++o) st->s1[o] = (uint8_t)(net->thr1[o] < 0.0f);
  for (int o = 0; o < net->n_h2; ++o) st->s2[o] = (uint8_t)(net->thr2[o] < 0.0f);
}

/* One LIF neuron. The reset term S_{t-1} theta is subtracted only when the
 * neuron spiked: x - 0 * theta is x, so this is the dense formula's value. */
static uint8_t lif(float *u, uint8_t *s, float in, float beta, float thr) {
  float v = beta * *u + in;
  if (*s) v = v - thr;
  *u = v;
  *s = (uint8_t)(v > thr);
  return *s;
}

/* Spiking layers add the weight rows of the inputs that spiked, in ascending
 * input order: the same sums, in the same order, as multiplying by the 0/1
 * spike vector (w * 1 = w, and adding the skipped w * 0 = +-0 changes
 * nothing since no sum starts at -0: the exporter writes -0 biases as +0). */
SF_CTRL_F32_API void sf_ctrl_f32_step(const sf_ctrl_f32_net *net, sf_ctrl_f32_state *st, const float *obs,
                                      float *act) {
  const int n_in = net->n_in, n1 = net->n_h1, n2 = net->n_h2, n3 = net->n_out;
  for (int o = 0; o < n1; ++o) {
    const float *w = net->w1 + (size_t)o * n_in;
    float acc = net->b1[o];
    for (int i = 0; i < n_in; ++i) acc = acc + w[i] * obs[i];
    lif(&st->u1[o], &st->s1[o], acc, net->beta1[o], net->thr1[o]);
  }
  memcpy(st->i2, net->b2, sizeof(float) * (size_t)n2);
  for (int j = 0; j < n1; ++j) {
    if (!st->s1[j]) continue;
    const float *w = net->w2t + (size_t)j * n2;
    for (int o = 0; o < n2; ++o) st->i2[o] = st->i2[o] + w[o];
  }
  for (int o = 0; o < n2; ++o) lif(&st->u2[o], &st->s2[o], st->i2[o], net->beta2[o], net->thr2[o]);
  for (int o = 0; o < n3; ++o) {
    float acc = net->b3[o];
    for (int j = 0; j < n2; ++j)
      if (st->s2[j]) acc = acc + net->w3t[(size_t)j * n3 + o];
    act[o] = tanhf(acc);
  }
}
