/* Self-test of an exported controller on a hosted system: replays the
 * recorded observations of sf_ctrl_weights.h (built with
 * -DSF_CTRL_TEST_VECTOR) and prints every action as the bits of its float,
 * "act STEP B0 B1 B2 B3" in hexadecimal, the format the bare-metal harness
 * prints, then compares each action with the expected one bit for bit.
 * Exit status 0 when all match. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sf_ctrl.h"
#include "sf_ctrl_weights.h"

static uint32_t bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

/* Units in the last place between two floats of the same sign. */
static uint32_t ulps(uint32_t a, uint32_t b) {
  if ((a ^ b) & 0x80000000u) return a == b ? 0 : 0xFFFFFFFFu;
  return a > b ? a - b : b - a;
}

int main(void) {
  int mismatches = 0, far = 0;
  for (int t = 0; t < SF_CTRL_TEST_STEPS; ++t) {
    float motor[SF_CTRL_ACT];
    if (sf_ctrl_test_reset[t]) sf_ctrl_reset();
    sf_ctrl_step(sf_ctrl_test_obs[t], motor);
    printf("act %d", t);
    for (int k = 0; k < SF_CTRL_ACT; ++k) {
      printf(" %08" PRIx32, bits(motor[k]));
      const uint32_t d = ulps(bits(motor[k]), bits(sf_ctrl_test_act[t][k]));
      mismatches += d != 0;
      far += d > 1;
    }
    printf("\n");
  }
  printf("check: %d steps, %d mismatching actions (%d by more than one ulp)\n", SF_CTRL_TEST_STEPS, mismatches,
         far);
#if defined(SF_CTRL_FORMAT_FLOAT32)
  return far ? 1 : 0;
#else
  return mismatches ? 1 : 0;
#endif
}
