/* Philox4x32-10 counter-based random numbers (Salmon et al., SC'11), usable
 * from host and device code. A draw is a pure function of
 * (seed, agent, env, step, stream): CPU and GPU produce the same numbers, runs
 * are reproducible, and a resumed run continues the same streams without any
 * generator state to save. */
#ifndef SF_PHILOX_H
#define SF_PHILOX_H

#include <math.h>
#include <stdint.h>

#include "core/sf_defs.h"
#include "core/sf_fmath.h"

typedef struct {
  uint32_t v[4];
} sf_u32x4;

SF_HD uint32_t sf_mulhilo32(uint32_t a, uint32_t b, uint32_t *hi) {
  uint64_t p = (uint64_t)a * (uint64_t)b;
  *hi = (uint32_t)(p >> 32);
  return (uint32_t)p;
}

/* Ten rounds of Philox4x32 on counter c with key (k0, k1). */
SF_HD sf_u32x4 sf_philox4x32(sf_u32x4 c, uint32_t k0, uint32_t k1) {
  SF_UNROLL_FULL for (int r = 0; r < 10; ++r) {
    uint32_t hi0, hi1;
    uint32_t lo0 = sf_mulhilo32(0xD2511F53u, c.v[0], &hi0);
    uint32_t lo1 = sf_mulhilo32(0xCD9E8D57u, c.v[2], &hi1);
    sf_u32x4 n;
    n.v[0] = hi1 ^ c.v[1] ^ k0;
    n.v[1] = lo1;
    n.v[2] = hi0 ^ c.v[3] ^ k1;
    n.v[3] = lo0;
    c = n;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c;
}

/* The counter layout. Every agent carries its own seed, and the seed is the
 * key: an agent's draws depend on its seed alone, never on its position in a
 * population, so a sweep of P agents reproduces each agent run by itself, and
 * agents of a slope sweep that share a seed see the same environments (common
 * random numbers). The counter is (env, step, stream, lane): `step` a per-env
 * step count, `stream` the purpose of the draw (SF_STREAM below) and `lane`
 * free for a caller's extra index (a parameter's index, a layer...). */
SF_HD sf_u32x4 sf_rng_bits(uint64_t seed, uint32_t env, uint32_t step, uint32_t stream, uint32_t lane) {
  sf_u32x4 c;
  c.v[0] = env;
  c.v[1] = step;
  c.v[2] = stream;
  c.v[3] = lane;
  return sf_philox4x32(c, (uint32_t)seed, (uint32_t)(seed >> 32));
}

/* Uniform in the open interval (0, 1): 23 random bits centred in their bin,
 * exact in float32, never 0 nor 1, so it can go straight into a logarithm. */
SF_HD float sf_u01(uint32_t bits) {
  return ((float)(bits >> 9) + 0.5f) * (1.0f / 8388608.0f);
}

/* Uniform in [lo, hi). */
SF_HD float sf_uniform(uint32_t bits, float lo, float hi) {
  return lo + (hi - lo) * sf_u01(bits);
}

/* Two independent N(0,1) numbers from two uniforms (Box-Muller), with the
 * portable logarithm and sine/cosine of core/sf_fmath.h: the same bits on
 * the CPU and the GPU. */
SF_HD void sf_box_muller(uint32_t b0, uint32_t b1, float *z0, float *z1) {
  float r = sqrtf(-2.0f * sf_log_pos(sf_u01(b0))), s, c;
  sf_sincos_turn(sf_u01(b1), &s, &c);
  *z0 = r * c;
  *z1 = r * s;
}

/* Four N(0,1) numbers from one Philox block. */
SF_HD void sf_normal4(sf_u32x4 b, float z[4]) {
  sf_box_muller(b.v[0], b.v[1], &z[0], &z[1]);
  sf_box_muller(b.v[2], b.v[3], &z[2], &z[3]);
}

/* Stream identifiers: the high 16 bits name the purpose, the low 16 bits
 * count blocks of four draws within it. Every module draws from its own
 * purpose so adding draws to one never shifts another's numbers. */
#define SF_STREAM(purpose, block) (((uint32_t)(purpose) << 16) | (uint32_t)(block))
enum {
  SF_RNG_RESET = 1,       /* environment reset distribution */
  SF_RNG_OBS_NOISE = 2,   /* observation noise */
  SF_RNG_EXPLORE = 3,     /* exploration noise on actions */
  SF_RNG_TARGET = 4,      /* TD3 target policy smoothing */
  SF_RNG_INIT = 5,        /* network initialisation */
  SF_RNG_SAMPLE = 6,      /* replay buffer sampling */
  SF_RNG_ANALYSIS = 7,    /* surrogate-gradient analysis data */
  SF_RNG_DATASET = 8,     /* offline dataset collection */
};

#endif
