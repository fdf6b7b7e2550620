#include "semihost.h"

enum {
  SYS_WRITE0 = 0x04,         /* write a NUL-terminated string */
  SYS_EXIT_EXTENDED = 0x20,  /* exit with a reason and a status */
  ADP_APPLICATION_EXIT = 0x20026,
};

static uintptr_t semi_call(uintptr_t op, const void *arg) {
  register uintptr_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void sf_semi_puts(const char *s) { semi_call(SYS_WRITE0, s); }

void sf_semi_exit(int code) {
  const uint32_t block[2] = {ADP_APPLICATION_EXIT, (uint32_t)code};
  semi_call(SYS_EXIT_EXTENDED, block);
  for (;;) {
  }
}
