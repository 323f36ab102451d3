/* SPDX-License-Identifier: MIT */
/*
 * A bump arena: memory handed out from a few large blocks and given back all
 * at once. Unpacking a protobuf message with protobuf-c's default allocator
 * costs one malloc per message, string, bytes field and repeated array (a
 * 1,000-op change set is some 6,000 of them) and as many frees, although
 * all of it dies together; an arena makes that a pointer bump each, and one
 * free. Its `pb` member is a ProtobufCAllocator for the generated unpack
 * functions (its free is a no-op; the memory goes in arena_release). The
 * CLI's bulk paths use it too, for rows that live until the command ends.
 *
 * Not thread-safe: one arena per thread or per object. Under AddressSanitizer
 * every allocation is followed by a poisoned red zone and free space stays
 * poisoned, so an overrun from one allocation into the next is still caught.
 */
#ifndef STRATA_ARENA_H
#define STRATA_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct arena_block;

struct arena {
	ProtobufCAllocator pb;      /* allocator_data points to this arena */
	char *next, *end;           /* free space in the current block */
	struct arena_block *blocks; /* its own blocks, newest first */
	size_t block_size;          /* the size of the next block */
	void *buf;                  /* the caller's first block, or NULL */
	size_t buf_len;
	bool huge;                  /* blocks are huge-page mappings */
};

/* Starts an arena that hands out buf[0..len) first (the caller's memory,
 * e.g. on the stack or inside a larger allocation; NULL and 0 for none),
 * then malloc'd blocks of block_size bytes, or larger for a larger request.
 * A caller that can estimate its total makes the first block hold it all. */
void arena_init(struct arena *a, void *buf, size_t len, size_t block_size);

/* Starts an arena for tens of megabytes that live long (the rows of a bulk
 * import): its blocks of block_size bytes (or larger) are mappings of whole
 * 2 MiB pages that the kernel is asked to back with transparent huge pages,
 * so that filling them costs one page fault per 2 MiB instead of one per
 * 4 KiB (a fault costs some 10 us on a virtual machine). Where the kernel
 * has no huge pages to give, they are ordinary pages. Under AddressSanitizer
 * the blocks are malloc'd, so that LeakSanitizer sees into them. */
void arena_init_huge(struct arena *a, size_t block_size);

/* n bytes aligned for any type (as malloc's), uninitialized, valid until
 * arena_release. NULL when out of memory. n may be 0. */
void *arena_alloc(struct arena *a, size_t n);

/* Frees every block the arena allocated. The arena must be initialized
 * again before it is used again. Safe on a zeroed struct arena. */
void arena_release(struct arena *a);

#endif
