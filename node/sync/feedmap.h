/* SPDX-License-Identifier: MIT */
/* A map from feed id (author, feed name) to a link's cursor; private to sync/. */
#ifndef STRATA_FEEDMAP_H
#define STRATA_FEEDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct feedmap_val {
	uint64_t seq;     /* the peer has (or has been sent) every entry up to seq */
	uint64_t stalled_until; /* refused: wait until then (sync_clock_ms), a Want or a new Hello */
	bool give_back;   /* the peer is the feed's author and asked for it back (a restored store) */
	/* checkpoints (ckpt_link.c): what the peer got of the feed's held notes,
	 * the newest and the witnessed one, by size and length (a note only
	 * grows by signature lines); on the daemon's own map, when this node
	 * last signed one of its own feed and whether one is due */
	uint64_t ckpt_size, wit_size;
	size_t ckpt_len, wit_len;
	uint64_t signed_at;
	bool sign_due;
};

struct feedmap {
	struct feedmap_slot *slots;
	size_t cap, used;
};

/* The value of (author, feed), created zeroed if absent; NULL on ENOMEM. */
struct feedmap_val *sync_feedmap_get(struct feedmap *m, const uint8_t author[32], const char *feed);
/* The value if present, else NULL. */
struct feedmap_val *sync_feedmap_find(const struct feedmap *m, const uint8_t author[32], const char *feed);
/* Forgets everything; the map stays usable. */
void sync_feedmap_clear(struct feedmap *m);

#endif
