/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The little of the C library freestanding guest code needs: memory and string functions (gcc may
 * also call memcpy, memmove, memset and memcmp on its own) and snprintf. Guests cannot link glibc:
 * nothing here makes a system call, allocates or knows a locale.
 */
#ifndef KVMSIM_WORKLOADS_LIBC_H
#define KVMSIM_WORKLOADS_LIBC_H

#include <stdarg.h>
#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, size_t n);
char *strcat(char *dst, const char *src);

/*
 * printf formatting into buf (at most size bytes with the NUL), returning the length the whole
 * output would have. Conversions: %d %i %u %x %X %o %c %s %p %%; flags '-', '0', '+', ' ', '#';
 * width and precision (numbers or '*'); length hh h l ll z j t. No floating point (%f prints '?').
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The same formatting, each character handed to emit(c, data). Returns the characters emitted. */
int guest_vformat(void (*emit)(char c, void *data), void *data, const char *fmt, va_list ap);

#endif
