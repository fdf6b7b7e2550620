/* The exported controller: binds the generated weights (sf_ctrl_weights.h)
 * to the float32 or int8 network and keeps its state in static storage, one
 * controller per program. Builds only beside a generated weights header, in
 * the directory `spikefly export` writes.
 *
 * The network's kernel source is included into this translation unit with
 * its functions static, so the compiler sees the constant network (sizes,
 * weight addresses) and specialises the loops for it: compile this file
 * alone. */
#include "sf_ctrl.h"

#include "sf_ctrl_weights.h"

#if SF_CTRL_N_IN != SF_CTRL_OBS || SF_CTRL_N_OUT != SF_CTRL_ACT
#error "the exported network's input or output size does not match sf_ctrl.h"
#endif

#if defined(SF_CTRL_FORMAT_INT8)
#define SF_CTRL_I8_API static
#include "sf_ctrl_i8.c"

static const sf_ctrl_i8_net net = {
    SF_CTRL_N_IN, SF_CTRL_N_H1, SF_CTRL_N_H2, SF_CTRL_N_OUT,
    SF_CTRL_IN_MAX, sf_ctrl_in_mul, sf_ctrl_w1, sf_ctrl_lif1,
    sf_ctrl_w2, sf_ctrl_lif2,
    sf_ctrl_w3, sf_ctrl_out_mul, sf_ctrl_out_bias, sf_ctrl_tanh_q15};
static uint32_t buf[SF_CTRL_I8_STATE_WORDS(SF_CTRL_N_IN, SF_CTRL_N_H1, SF_CTRL_N_H2)];
static sf_ctrl_i8_state st;

void sf_ctrl_reset(void) {
  sf_ctrl_i8_bind(&net, &st, buf);
  sf_ctrl_i8_reset(&net, &st);
}
void sf_ctrl_step(const float obs[SF_CTRL_OBS], float motor[SF_CTRL_ACT]) {
  if (!st.u1) sf_ctrl_reset(); /* a first step without a reset starts from rest too */
  sf_ctrl_i8_step(&net, &st, obs, motor);
}

#elif defined(SF_CTRL_FORMAT_FLOAT32)
#define SF_CTRL_F32_API static
#include "sf_ctrl_f32.c"

static const sf_ctrl_f32_net net = {
    SF_CTRL_N_IN, SF_CTRL_N_H1, SF_CTRL_N_H2, SF_CTRL_N_OUT,
    sf_ctrl_w1, sf_ctrl_b1, sf_ctrl_beta1, sf_ctrl_thr1,
    sf_ctrl_w2t, sf_ctrl_b2, sf_ctrl_beta2, sf_ctrl_thr2,
    sf_ctrl_w3t, sf_ctrl_b3};
static float u1[SF_CTRL_N_H1], u2[SF_CTRL_N_H2], i2[SF_CTRL_N_H2];
static uint8_t s1[SF_CTRL_N_H1], s2[SF_CTRL_N_H2];
static sf_ctrl_f32_state st = {u1, u2, s1, s2, i2};
static int started; /* the state holds a reset's start state (static zeros are not one) */

void sf_ctrl_reset(void) {
  sf_ctrl_f32_reset(&net, &st);
  started = 1;
}
void sf_ctrl_step(const float obs[SF_CTRL_OBS], float motor[SF_CTRL_ACT]) {
  if (!started) sf_ctrl_reset(); /* a first step without a reset starts from rest too */
  sf_ctrl_f32_step(&net, &st, obs, motor);
}

#else
#error "sf_ctrl_weights.h defines neither SF_CTRL_FORMAT_INT8 nor SF_CTRL_FORMAT_FLOAT32"
#endif
