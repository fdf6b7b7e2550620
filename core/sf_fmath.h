/* Float maths with the same bits on every device: built only from +, -, *,
 * /, sqrt and integer operations, which IEEE 754 rounds one way on a
 * CPU and on a GPU alike (no contraction on either: -ffp-contract=off,
 * --fmad=false), where the math libraries' logf, sinf and cosf differ in the
 * last bit between glibc and CUDA. Plain arithmetic without calls or tables
 * also lets the CPU loops run them in vector lanes. Used by the random
 * numbers (core/sf_philox.h) and the environment's resets. */
#ifndef SF_FMATH_H
#define SF_FMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/sf_defs.h"

/* sin and cos of 2 pi r for r in [0, 2^31), from polynomials (Taylor to
 * the 13th/14th power on a quarter turn, error below 1e-7). */
SF_HD void sf_sincos_turn(float r, float *s, float *c) {
  float x = 4.0f * (r - (float)(int)r); /* floor for r >= 0, without a call */
  int quad = (int)x;
  float a = (x - (float)quad) * 1.57079632679489662f, a2 = a * a;
  float sn = a * (1.0f + a2 * (-1.0f / 6 + a2 * (1.0f / 120 + a2 * (-1.0f / 5040 + a2 * (1.0f / 362880 +
             a2 * (-1.0f / 39916800 + a2 * (1.0f / 6227020800.0f)))))));
  float cs = 1.0f + a2 * (-0.5f + a2 * (1.0f / 24 + a2 * (-1.0f / 720 + a2 * (1.0f / 40320 +
             a2 * (-1.0f / 3628800 + a2 * (1.0f / 479001600 + a2 * (-1.0f / 87178291200.0f)))))));
  /* Quadrant by selection rather than a switch: the same result, and a
   * loop over envs stays branch-free. */
  const int q = quad & 3;
  const float s0 = (q & 1) ? cs : sn, c0 = (q & 1) ? sn : cs;
  *s = (q & 2) ? -s0 : s0;
  *c = ((q + 1) & 2) ? -c0 : c0;
}

/* Natural logarithm of a positive normal float: x = m 2^e with m in
 * [sqrt(1/2), sqrt(2)), log m = 2 atanh(s) = 2 (s + s^3/3 + ... + s^9/9)
 * with s = (m - 1) / (m + 1), |s| <= 0.172 (truncation below 1e-9), and
 * e log 2 from a two-part constant. Relative error below 3e-7 (tested over
 * every uniform sf_u01 yields). */
SF_HD float sf_log_pos(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  int e = (int)((b >> 23) & 0xffu) - 127;
  b = (b & 0x007fffffu) | 0x3f800000u; /* m in [1, 2) */
  /* m above sqrt(2): halve it (one less in its exponent field). In integers,
   * so that a loop over envs keeps no branch: float operations under a
   * condition are not made unconditional (they could raise flags). */
  const uint32_t big = b > 0x3fb504f3u;
  b -= big << 23;
  e += (int)big;
  float m;
  memcpy(&m, &b, sizeof m);
  const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
  const float p = s * (2.0f + s2 * (2.0f / 3 + s2 * (2.0f / 5 + s2 * (2.0f / 7 + s2 * (2.0f / 9)))));
  const float fe = (float)e;
  return fe * 0.693145752f + (fe * 1.42860677e-6f + p);
}

#endif
