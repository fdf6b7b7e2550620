/* Bare-metal test harness: replays the recorded observations of an exported
 * controller (sf_ctrl_weights.h built with -DSF_CTRL_TEST_VECTOR), prints
 * every action as the bits of its float in the format of the host self-test
 * ("act STEP B0 B1 B2 B3", hexadecimal), checks them against the expected
 * actions, and counts the instructions of every sf_ctrl_step call.
 *
 * Counting: QEMU does not emulate the DWT cycle counter, but with -icount
 * its virtual clock advances a fixed time per executed instruction, and the
 * SysTick timer (clocked from the core clock) counts virtual time. The
 * harness calibrates SysTick ticks per instruction with a loop of a known
 * instruction count (subs + bne per iteration; two lengths, so the cost of
 * reading the timer cancels), subtracts the cost of an empty measurement,
 * and converts each step's ticks to instructions. Exact to about one tick.
 *
 * Pass criterion: int8, every action bit for bit. float32, every action
 * within one unit in the last place: the network's float arithmetic is the
 * host's operation for operation (IEEE-754 single, correctly rounded, no
 * fused multiply-add), but the final tanhf comes from each platform's C
 * library (newlib here, glibc on the host), and those may round the last
 * bit differently. The count of such actions is printed. */
#include <stdint.h>
#include <string.h>

#include "semihost.h"
#include "sf_ctrl.h"
#include "sf_ctrl_weights.h"

#ifndef SF_TARGET_NAME
#define SF_TARGET_NAME "cortex-m"
#endif

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_MASK 0x00FFFFFFu

static char line[128];
static int pos;

static void put(const char *s) {
  while (*s && pos < (int)sizeof line - 1) line[pos++] = *s++;
}
static void put_u(uint64_t v) {
  char b[24];
  int i = 23;
  b[i] = 0;
  do b[--i] = (char)('0' + v % 10); while ((v /= 10) != 0);
  put(b + i);
}
static void put_hex(uint32_t v) {
  char b[9];
  for (int i = 7; i >= 0; --i, v >>= 4) b[i] = "0123456789abcdef"[v & 15];
  b[8] = 0;
  put(b);
}
static void flush(void) {
  line[pos] = 0;
  sf_semi_puts(line);
  pos = 0;
}

/* SysTick counts down: elapsed ticks between two readings (one wrap at most). */
static uint32_t ticks(uint32_t start, uint32_t end) { return (start - end) & SYST_MASK; }

/* 2n + 1 instructions: movs/mov, then n times subs + bne. */
static uint32_t timed_loop(uint32_t n) {
  uint32_t t0 = SYST_CVR;
  __asm__ volatile("mov r0, %0\n1:\n\tsubs r0, r0, #1\n\tbne 1b" : : "r"(n) : "r0", "cc");
  return ticks(t0, SYST_CVR);
}

static uint32_t bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

/* Distance in units in the last place between two floats of the same sign
 * (a sign change counts as far apart). */
static uint32_t ulps(uint32_t a, uint32_t b) {
  if ((a ^ b) & 0x80000000u) return a == b ? 0 : 0xFFFFFFFFu;
  return a > b ? a - b : b - a;
}

int main(void) {
  SYST_RVR = SYST_MASK;
  SYST_CVR = 0;
  SYST_CSR = 5; /* enable, core clock, no interrupt */

  const uint32_t n1 = 100000, n2 = 200000;
  uint32_t c1 = timed_loop(n1), c2 = timed_loop(n2);
  /* ticks per 2 (n2 - n1) instructions */
  const uint64_t cal_ticks = c2 - c1, cal_insns = 2ull * (n2 - n1);
  uint32_t t0 = SYST_CVR;
  uint32_t empty = ticks(t0, SYST_CVR);

  put("target: " SF_TARGET_NAME "\ncalibration: ");
  put_u(cal_ticks);
  put(" SysTick ticks per ");
  put_u(cal_insns);
  put(" instructions\n");
  flush();

  int mismatches = 0, far = 0;
  uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
  for (int t = 0; t < SF_CTRL_TEST_STEPS; ++t) {
    float motor[SF_CTRL_ACT];
    if (sf_ctrl_test_reset[t]) sf_ctrl_reset();
    uint32_t s0 = SYST_CVR;
    sf_ctrl_step(sf_ctrl_test_obs[t], motor);
    uint32_t dt = ticks(s0, SYST_CVR);
    uint64_t net = dt > empty ? dt - empty : 0;
    uint64_t insns = (net * cal_insns + cal_ticks / 2) / cal_ticks;
    sum += insns;
    lo = insns < lo ? insns : lo;
    hi = insns > hi ? insns : hi;
    put("act ");
    put_u((uint64_t)t);
    for (int k = 0; k < SF_CTRL_ACT; ++k) {
      put(" ");
      put_hex(bits(motor[k]));
      const uint32_t d = ulps(bits(motor[k]), bits(sf_ctrl_test_act[t][k]));
      mismatches += d != 0;
      far += d > 1;
    }
    put("\n");
    flush();
  }
  put("check: ");
  put_u(SF_CTRL_TEST_STEPS);
  put(" steps, ");
  put_u((uint64_t)mismatches);
  put(" mismatching actions (");
  put_u((uint64_t)far);
  put(" by more than one ulp)\ninstructions per control step: min ");
  put_u(lo);
  put(" mean ");
  put_u((sum + SF_CTRL_TEST_STEPS / 2) / SF_CTRL_TEST_STEPS);
  put(" max ");
  put_u(hi);
  put("\n");
  flush();
#if defined(SF_CTRL_FORMAT_FLOAT32)
  return far ? 1 : 0;
#else
  return mismatches ? 1 : 0;
#endif
}
