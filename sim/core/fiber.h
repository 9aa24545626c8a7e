/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Coroutine stacks and the annotations that tell AddressSanitizer and valgrind about stack
 * switches, so the tools keep working on code that runs on actor stacks.
 */
#ifndef KVMSIM_SIM_CORE_FIBER_H
#define KVMSIM_SIM_CORE_FIBER_H

#include <glib.h>

/* Built with AddressSanitizer: gcc says so with __SANITIZE_ADDRESS__, clang 14 (the fuzzing
 * build's compiler) only through __has_feature. */
#if defined(__SANITIZE_ADDRESS__)
#define SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_ASAN 1
#endif
#endif

/* What a sanitizer needs to know about one stack. */
typedef struct {
	const void *bottom;
	gsize size;
	void *fake_stack; /* ASan's fake stack of the context being left */
} SimFiber;

typedef struct {
	void *base;       /* usable stack, above a guard page */
	gsize size;
	void *mapping;
	gsize mapping_size;
	guint valgrind_id;
	SimFiber fiber;
} SimFiberStack;

gboolean sim_fiber_stack_alloc(SimFiberStack *stack, gsize size);
void sim_fiber_stack_free(SimFiberStack *stack);
/* The main context's fiber (its bounds are learned on the first switch). */
void sim_fiber_init_main(SimFiber *fiber);
#ifdef SIM_ASAN
/* Around a switch from fiber from to fiber to; dying when from never runs again. */
void sim_fiber_start_switch(SimFiber *from, const SimFiber *to, gboolean dying);
/* First thing a context does once it runs again (or for the first time). */
void sim_fiber_finish_switch(SimFiber *self);
#else
/* Without ASan a switch has nothing to announce: no call at every switch. */
static inline void
sim_fiber_start_switch(SimFiber *from, const SimFiber *to, gboolean dying)
{
}

static inline void
sim_fiber_finish_switch(SimFiber *self)
{
}
#endif

#endif
