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

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct arena_block;

struct arena {
	ProtobufCAllocator pb;      /* allocator_data points to this arena */
	char *next, *end;           /* free space in the current block */
	struct arena_block *blocks; /* malloc'd blocks, newest first */
	size_t block_size;          /* the size of the next block to malloc */
	void *buf;                  /* the caller's first block, or NULL */
	size_t buf_len;
};

/* Starts an arena that hands out buf[0..len) first (the caller's memory,
 * e.g. on the stack or inside a larger allocation; NULL and 0 for none),
 * then malloc'd blocks of block_size bytes, or larger for a larger request.
 * The caller picks block_size for its pattern: a block it expects to be
 * the only one sized to fit, or blocks small enough that malloc takes them
 * from its heap and not from mmap (under 128 KiB with glibc's defaults). */
void arena_init(struct arena *a, void *buf, size_t len, size_t block_size);

/* n bytes aligned for any type (as malloc's), uninitialized, valid until
 * arena_release. NULL when out of memory. n may be 0. */
void *arena_alloc(struct arena *a, size_t n);

/* Frees every block the arena malloc'd. The arena must be initialized
 * again before it is used again. Safe on a zeroed struct arena. */
void arena_release(struct arena *a);

#endif
