/* Arm semihosting (bkpt 0xab on M-profile): console output and exit status
 * through the debugger or emulator, here qemu-system-arm with
 * -semihosting-config enable=on,target=native. */
#ifndef SF_SEMIHOST_H
#define SF_SEMIHOST_H

#include <stdint.h>

void sf_semi_puts(const char *s);
/* Stops the program; QEMU exits with `code`. Never returns. */
void sf_semi_exit(int code) __attribute__((noreturn));

#endif
