/* Minimal Cortex-M startup: the vector table, a reset handler that copies
 * .data from flash, zeroes .bss, turns the FPU on and calls main, and a
 * handler that reports any fault through semihosting. */
#include <stdint.h>

#include "semihost.h"

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);

void sf_reset_handler(void) __attribute__((noreturn));
void sf_fault_handler(void) __attribute__((noreturn));

void sf_reset_handler(void) {
  const uint32_t *src = &_sidata;
  for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
  for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
  /* CPACR: full access to coprocessors 10 and 11 (the FPU). */
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  sf_semi_exit(main());
}

void sf_fault_handler(void) {
  sf_semi_puts("fault: the program took an exception\n");
  sf_semi_exit(3);
}

/* Initial stack pointer, reset, then NMI, HardFault, MemManage, BusFault,
 * UsageFault; the rest (SVC, PendSV, SysTick, IRQs) stay disabled. */
__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&_estack,
    sf_reset_handler,
    sf_fault_handler,
    sf_fault_handler,
    sf_fault_handler,
    sf_fault_handler,
    sf_fault_handler,
};
