/* SPDX-License-Identifier: GPL-2.0-only */
/* The guest runtime: console output, ending the run, and synchronisation between vCPUs. */
#include <stdarg.h>
#include <stdbool.h>

#include "workloads/runtime/runtime.h"

void guest_puts(const char *s)
{
	while (*s)
		guest_putc(*s++);
}

/* Print v in base 10 or 16, right-aligned in width columns, padded with pad. */
static void print_number(uint64_t v, unsigned int base, unsigned int width, char pad)
{
	char digits[20]; /* 2^64 - 1 has 20 decimal digits */
	unsigned int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	for (; width > n; width--)
		guest_putc(pad);
	while (n)
		guest_putc(digits[--n]);
}

/* Print one argument for conversion conv; length counts the 'l' modifiers before it. */
static void print_conversion(char conv, int length, unsigned int width, char pad, va_list *ap)
{
	uint64_t v;
	int64_t sv;

	switch (conv) {
	case 'c':
		guest_putc((char)va_arg(*ap, int));
		return;
	case 's':
		guest_puts(va_arg(*ap, const char *));
		return;
	case 'd':
		sv = length ? va_arg(*ap, long) : va_arg(*ap, int);
		if (sv < 0) {
			guest_putc('-');
			print_number(-(uint64_t)sv, 10, width ? width - 1 : 0, pad);
		} else {
			print_number(sv, 10, width, pad);
		}
		return;
	case 'u':
	case 'x':
		v = length ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int);
		print_number(v, conv == 'u' ? 10 : 16, width, pad);
		return;
	default:
		guest_putc(conv);
	}
}

void guest_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		unsigned int width = 0;
		char pad = ' ';
		int length = 0;

		if (*fmt != '%') {
			guest_putc(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (unsigned int)(*fmt - '0');
		/* long and long long are both 64 bits here. */
		for (; *fmt == 'l'; fmt++)
			length++;
		if (!*fmt)
			break;
		print_conversion(*fmt, length, width, pad, &ap);
	}
	va_end(ap);
}

void guest_exit(uint32_t status)
{
	asm volatile("outl %0, %1" : : "a"(status), "Nd"((uint16_t)KVMSIM_PORT_EXIT));
	guest_halt();
}

void guest_halt(void)
{
	for (;;)
		asm volatile("hlt");
}

/*
 * A generation barrier: read the generation before arriving, so the last vCPU to arrive can reset
 * the count and then bump the generation without a vCPU of the next round slipping in between.
 */
void guest_barrier(struct kvmsim_boot_params *params)
{
	uint64_t generation = __atomic_load_n(&params->barrier_generation, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&params->barrier_count, 1, __ATOMIC_ACQ_REL) == params->nr_vcpus) {
		__atomic_store_n(&params->barrier_count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&params->barrier_generation, generation + 1, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&params->barrier_generation, __ATOMIC_ACQUIRE) == generation)
		guest_sched_yield();
}

void guest_atomic_max(uint64_t *p, uint64_t v)
{
	uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (old < v &&
	       !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}
