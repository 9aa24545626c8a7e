/* SPDX-License-Identifier: GPL-2.0-only */
/* Stacks for actors, with the ASan and valgrind stack-switch annotations. */
#define _GNU_SOURCE
#include "sim/core/fiber.h"

#include <pthread.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define SIM_ASAN 1
#endif
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SIM_VALGRIND 1
#endif

/* A stack with a guard page below it, registered with valgrind. */
gboolean
sim_fiber_stack_alloc(SimFiberStack *stack, gsize size)
{
	gsize page = 4096;

	stack->mapping_size = size + page;
	stack->mapping = mmap(NULL, stack->mapping_size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (stack->mapping == MAP_FAILED)
		return FALSE;
	/* guard page below the stack catches overflows */
	mprotect(stack->mapping, page, PROT_NONE);
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
	munmap(stack->mapping, stack->mapping_size);
	stack->mapping = NULL;
}

/* The main context's stack bounds, which ASan needs to switch back to it. */
void
sim_fiber_init_main(SimFiber *fiber)
{
	pthread_attr_t attr;
	void *addr = NULL;
	size_t size = 0;

	fiber->fake_stack = NULL;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &addr, &size);
		pthread_attr_destroy(&attr);
	}
	fiber->bottom = addr;
	fiber->size = size;
}

void
sim_fiber_start_switch(SimFiber *from, const SimFiber *to, gboolean dying)
{
#ifdef SIM_ASAN
	__sanitizer_start_switch_fiber(dying ? NULL : &from->fake_stack, to->bottom, to->size);
#endif
}

/* Tell ASan the switch into this context is complete. */
void
sim_fiber_finish_switch(SimFiber *self)
{
#ifdef SIM_ASAN
	const void *old_bottom = NULL;
	size_t old_size = 0;

	__sanitizer_finish_switch_fiber(self->fake_stack, &old_bottom, &old_size);
	self->fake_stack = NULL;
#endif
}
