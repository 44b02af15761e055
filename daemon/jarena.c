/*
 * daemon/jarena.c -- jansson's allocations during one verification come
 * from a per-thread arena instead of malloc(3).
 *
 * Parsing a claims set makes some forty small allocations (each member's
 * key, value and string, the hash table, the lexer's buffer), all freed
 * again before eid_verify_token() returns: malloc and free were about a
 * third of the JSON work per token.  Between jarena_begin() and
 * jarena_end() jansson takes bump-allocated memory from this thread's
 * arena, and freeing it is a no-op; jarena_end() makes the whole arena
 * free again.  Outside, or when a request does not fit, malloc as
 * before, so a huge claims set costs only the arena's speed.
 *
 * Sound because nothing jansson allocates during a verification outlives
 * it: libeidverify copies every claim into struct eid_assertion and
 * releases its JSON before returning (crypto/verify.c), and a thread
 * frees only its own objects.  jarena_init() must run before any other
 * jansson call, as json_set_alloc_funcs() requires; objects allocated
 * earlier came from malloc and go back to free.
 */
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "eidd.h"

/*
 * Under AddressSanitizer the arena is off: jansson's objects come from
 * malloc, where ASan sees an overflow, a use after free or a leak, as it
 * could not inside the arena.
 */
#if defined(__SANITIZE_ADDRESS__)
#define JARENA_OFF	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JARENA_OFF	1
#endif
#endif

#define JARENA_BYTES	(64 * 1024)
#define JARENA_ALIGN	alignof(max_align_t)

static _Thread_local struct {
	alignas(max_align_t) unsigned char	 mem[JARENA_BYTES];
	size_t					 used;
	bool					 on;
} jarena;

static bool
jarena_owns(const void *p)
{
	uintptr_t	 a = (uintptr_t)p, b = (uintptr_t)jarena.mem;

	return a >= b && a < b + JARENA_BYTES;
}

static void *
jarena_malloc(size_t n)
{
	size_t	 r = (n + JARENA_ALIGN - 1) & ~(size_t)(JARENA_ALIGN - 1);
	void	*p;

	if (jarena.on && r >= n && r <= JARENA_BYTES - jarena.used) {
		p = jarena.mem + jarena.used;
		jarena.used += r;
		return p;
	}
	return malloc(n);
}

static void
jarena_free(void *p)
{
	if (!jarena_owns(p))
		free(p);
}

void
jarena_init(void)
{
	json_set_alloc_funcs(jarena_malloc, jarena_free);
}

void
jarena_begin(void)
{
	jarena.used = 0;
#ifndef JARENA_OFF
	jarena.on = true;
#endif
}

void
jarena_end(void)
{
	jarena.on = false;
	jarena.used = 0;
}
