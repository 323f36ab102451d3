/* SPDX-License-Identifier: MIT */
/*
 * The registry of record types (each file of node/records registers its
 * own: records.h RECORD_REGISTER), and the one check that ingest runs on
 * every received value: it decodes as its collection's message, passes that
 * collection's validation, and travels in that collection's feed.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "node/records/records.h"
#include "protocol/arena.h"

/* Stack memory for unpacking one value: a record of ordinary size unpacks
 * in a few hundred bytes. */
#define SCRATCH_BYTES 2048

/* Every type a file of node/records registers (RECORD_REGISTER), in its
 * order: generated at build time (node/meson.build). */
#include "record_types.h"

static const struct record_type *const types[] = {RECORD_TYPES};

const struct record_type *record_type_find(const char *collection)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(types[i]->collection, collection) == 0)
			return types[i];
	return NULL;
}

const struct record_type *const *record_types(size_t *n)
{
	*n = sizeof types / sizeof types[0];
	return types;
}

int record_check(const char *collection, const char *feed, const uint8_t *key, size_t key_len,
		 const uint8_t *value, size_t value_len, struct err *e)
{
	const struct record_type *t = record_type_find(collection);
	max_align_t scratch[SCRATCH_BYTES / sizeof(max_align_t)];
	struct arena a;
	ProtobufCMessage *m;
	int ret;

	if (!t) {
		err_set(e, "unknown collection \"%s\"", collection);
		return -EINVAL;
	}
	const char *want = t->feed ? t->feed : t->feed_of(key, key_len, e);

	if (!want)
		return -EINVAL;
	if (strcmp(want, feed) != 0 && !(t->legacy_feed && strcmp(t->legacy_feed, feed) == 0)) {
		err_set(e, "collection %s%s travels in feed %s, not %s", collection, t->feed ? "" : " of this key", want,
			feed);
		return -EINVAL;
	}
	if (!value) /* an erased value: nothing left to check */
		return 0;
	/* Ingest runs this on every put: the unpacked value's small
	 * allocations come from the stack, and a larger value (up to
	 * LIMIT_VALUE_BYTES) spills into malloc'd blocks, all freed below. */
	arena_init(&a, scratch, sizeof scratch, 4 * value_len + 1024);
	m = protobuf_c_message_unpack(t->descriptor, &a.pb, value_len, value);
	if (!m) {
		err_set(e, "%s value does not decode as a %s record", collection, t->descriptor->short_name);
		ret = -EINVAL;
	} else if (m->n_unknown_fields) {
		err_set(e, "%s value has %u unknown field(s)", collection, m->n_unknown_fields);
		ret = -EINVAL;
	} else if (protobuf_c_message_get_packed_size(m) != value_len) {
		/* Every check below reads strings as C strings: a NUL inside one
		 * would hide what follows it from them (an id "A\0B" checked as
		 * "A"). protobuf-c packs such a string up to the NUL, so the
		 * value packs shorter than it came; a value Strata wrote packs
		 * back to its own length. */
		err_set(e, "%s value is not in canonical form (a text field holding a NUL byte?)", collection);
		ret = -EINVAL;
	} else {
		ret = t->validate ? t->validate(m, key, key_len, e) : record_check_fields(t, m, key, key_len, e);
	}
	arena_release(&a);
	return ret;
}
