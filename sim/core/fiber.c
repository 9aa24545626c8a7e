/* SPDX-License-Identifier: GPL-2.0-only */
/* Stacks for actors, with the ASan and valgrind stack-switch annotations. */
#define _GNU_SOURCE
#include "sim/core/fiber.h"

#include <pthread.h>
#include <sys/mman.h>

#ifdef SIM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SIM_VALGRIND 1
#endif

/*
 * Stacks freed, kept for the next actors (at most SPARE_STACKS): a search runs thousands of short
 * machines, and a fresh mapping costs the page faults of every stack page an actor touches.
 */
#define SPARE_STACKS 16
static struct {
	void *mapping;
	gsize size;
} spare_stacks[SPARE_STACKS];
static guint nr_spare_stacks;

/* A stack with a guard page below it, registered with valgrind. */
gboolean
sim_fiber_stack_alloc(SimFiberStack *stack, gsize size)
{
	gsize page = 4096;

	stack->mapping_size = size + page;
	stack->mapping = NULL;
	for (guint i = nr_spare_stacks; i-- > 0;) {
		if (spare_stacks[i].size != stack->mapping_size)
			continue;
		stack->mapping = spare_stacks[i].mapping;
		spare_stacks[i] = spare_stacks[--nr_spare_stacks];
		break;
	}
	if (!stack->mapping) {
		stack->mapping = mmap(NULL, stack->mapping_size, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (stack->mapping == MAP_FAILED)
			return FALSE;
		/* guard page below the stack catches overflows */
		mprotect(stack->mapping, page, PROT_NONE);
	}
	stack->base = (guint8 *)stack->mapping + page;
	stack->size = size;
	stack->fiber.bottom = stack->base;
	stack->fiber.size = size;
#ifdef SIM_VALGRIND
	stack->valgrind_id = VALGRIND_STACK_REGISTER(stack->base, (guint8 *)stack->base + size);
#endif
	return TRUE;
}

/* Unregister and unmap a stack. An abandoned coroutine never unwound its frames, so ASan's
 * shadow still marks their redzones: clear it, or the next mapping at this address (another
 * actor's stack) reports its own frames as buffer underflows. */
void
sim_fiber_stack_free(SimFiberStack *stack)
{
	if (!stack->mapping)
		return;
#ifdef SIM_ASAN
	ASAN_UNPOISON_MEMORY_REGION(stack->base, stack->size);
#endif
#ifdef SIM_VALGRIND
	VALGRIND_STACK_DEREGISTER(stack->valgrind_id);
#endif
	if (nr_spare_stacks < SPARE_STACKS) {
		spare_stacks[nr_spare_stacks].mapping = stack->mapping;
		spare_stacks[nr_spare_stacks++].size = stack->mapping_size;
	} else {
		munmap(stack->mapping, stack->mapping_size);
	}
	stack->mapping = NULL;
}

/* The main context's stack bounds, which ASan needs to switch back to it. Looked up once per
 * thread: glibc reads /proc/self/maps for the main thread's, which an explorer running thousands
 * of short runs would pay for at each. */
void
sim_fiber_init_main(SimFiber *fiber)
{
	static __thread void *addr;
	static __thread size_t size;
	static __thread gboolean known;
	pthread_attr_t attr;

	fiber->fake_stack = NULL;
	if (!known && pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &addr, &size);
		pthread_attr_destroy(&attr);
		known = TRUE;
	}
	fiber->bottom = addr;
	fiber->size = size;
}

#ifdef SIM_ASAN
/* Tell ASan a switch to another stack begins (inline no-ops in fiber.h without ASan). */
void
sim_fiber_start_switch(SimFiber *from, const SimFiber *to, gboolean dying)
{
	__sanitizer_start_switch_fiber(dying ? NULL : &from->fake_stack, to->bottom, to->size);
}

/* Tell ASan the switch into this context is complete. */
void
sim_fiber_finish_switch(SimFiber *self)
{
	const void *old_bottom = NULL;
	size_t old_size = 0;

	__sanitizer_finish_switch_fiber(self->fake_stack, &old_bottom, &old_size);
	self->fake_stack = NULL;
}
#endif
