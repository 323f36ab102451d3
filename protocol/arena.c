/* SPDX-License-Identifier: MIT */
/*
 * The bump arena of arena.h.
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "protocol/arena.h"

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif

#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
/* Poisoned bytes after every allocation, so that reading or writing past
 * its end is reported as it would be with malloc. */
#define REDZONE 16
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define REDZONE 0
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ALIGN alignof(max_align_t)
/* A huge page on x86-64, and on arm64 with 4 KiB pages. Elsewhere the
 * blocks are still valid mappings, only of ordinary pages. */
#define HUGE_PAGE ((size_t)2 << 20)

struct arena_block {
	struct arena_block *next;
	size_t size; /* of data */
	alignas(max_align_t) char data[];
};

static void *pb_alloc(void *a, size_t n)
{
	return arena_alloc(a, n);
}

/* Everything goes at once, in arena_release. */
static void pb_free(void *a, void *p)
{
	(void)a;
	(void)p;
}

void arena_init(struct arena *a, void *buf, size_t len, size_t block_size)
{
	*a = (struct arena){
		.pb = {.alloc = pb_alloc, .free = pb_free, .allocator_data = a},
		.next = buf,
		.end = buf ? (char *)buf + len : NULL,
		.block_size = block_size ? block_size : 4096,
		.buf = buf,
		.buf_len = len,
	};
	if (buf)
		POISON(buf, len);
}

void arena_init_huge(struct arena *a, size_t block_size)
{
	arena_init(a, NULL, 0, block_size);
#ifndef ARENA_ASAN
	a->huge = true;
#endif
}

/* Bytes from p to the next multiple of ALIGN. */
static size_t pad(const char *p)
{
	return (size_t)(-(uintptr_t)p & (ALIGN - 1));
}

/* A block of at least size bytes of data, in whole huge pages aligned to
 * HUGE_PAGE (the kernel backs only aligned ones with huge pages). */
static struct arena_block *map_block(size_t size)
{
	size_t len, head;
	struct arena_block *b;
	char *p;

	if (size > SIZE_MAX / 2)
		return NULL;
	len = (sizeof *b + size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Mapped one huge page more than needed; give back what lies outside
	 * the aligned part. */
	head = (size_t)(-(uintptr_t)p & (HUGE_PAGE - 1));
	if (head)
		munmap(p, head);
	munmap(p + head + len, HUGE_PAGE - head);
	b = (struct arena_block *)(p + head);
#ifdef MADV_HUGEPAGE
	madvise(b, len, MADV_HUGEPAGE); /* only a hint: failing, the pages are ordinary */
#endif
	b->size = len - sizeof *b;
	return b;
}

/* Makes a new current block with room for need bytes at least. */
static int grow(struct arena *a, size_t need)
{
	size_t size = a->block_size;
	struct arena_block *b;

	if (size < need)
		size = need;
	if (a->huge) {
		if (!(b = map_block(size)))
			return -1;
		size = b->size;
	} else {
		if (size > SIZE_MAX - sizeof *b || !(b = malloc(sizeof *b + size)))
			return -1;
		b->size = size;
	}
	b->next = a->blocks;
	a->blocks = b;
	a->next = b->data;
	a->end = b->data + size;
	POISON(b->data, size);
	return 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
	char *p;

	if (n == 0)
		n = 1; /* a distinct pointer, as malloc's */
	if (n > SIZE_MAX / 2)
		return NULL;
	if (!a->next || n + REDZONE > (size_t)(a->end - a->next) ||
	    pad(a->next) > (size_t)(a->end - a->next) - n - REDZONE) {
		/* A block's data is aligned, so it needs no padding. */
		if (grow(a, n + REDZONE) < 0)
			return NULL;
	}
	p = a->next + pad(a->next);
	a->next = p + n + REDZONE;
	UNPOISON(p, n);
	return p;
}

void arena_release(struct arena *a)
{
	struct arena_block *b = a->blocks, *next;

	for (; b; b = next) {
		next = b->next;
		UNPOISON(b->data, b->size);
		if (a->huge)
			munmap(b, sizeof *b + b->size);
		else
			free(b);
	}
	/* The caller's memory may be a stack frame that is about to be reused. */
	if (a->buf)
		UNPOISON(a->buf, a->buf_len);
	a->blocks = NULL;
	a->next = a->end = NULL;
	a->buf = NULL;
}
