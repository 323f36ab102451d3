/* SPDX-License-Identifier: MIT */
/*
 * Prev elision: in a run of envelopes of one feed, each entry's prev is the
 * hash of the body before it, which a receiver computes anyway. A sender
 * zeroes those 32 bytes (they then compress to almost nothing) and the
 * receiver puts them back before anything is checked, so the signed bytes
 * are the exact bytes again. Nothing is trusted here: a receiver restores
 * only a zero prev that follows an envelope of the same author and feed at
 * the seq before, and anything else (a wrong elision, a broken envelope) is
 * left as it is for the decoder and the signature check to refuse.
 */
#include <string.h>

#include "protocol/protocol.h"

/* Where the chain fields of an envelope lie, found without decoding it. */
struct chain_loc {
	const uint8_t *body;
	size_t body_len;
	uint8_t *prev; /* the 32 prev bytes, inside body */
	const uint8_t *author, *feed;
	size_t feed_len;
	uint64_t seq;
};

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* The next field of [*p, end): its number, wire type, and for a
 * length-delimited field its bytes (*data, *len); for a varint, *v. */
static bool field(const uint8_t **p, const uint8_t *end, uint32_t *num, unsigned *type, const uint8_t **data,
		  size_t *len, uint64_t *v)
{
	uint64_t key;

	if (!varint(p, end, &key))
		return false;
	*num = (uint32_t)(key >> 3);
	*type = key & 7;
	switch (*type) {
	case 0: return varint(p, end, v);
	case 1: if (end - *p < 8) return false; *p += 8; return true;
	case 5: if (end - *p < 4) return false; *p += 4; return true;
	case 2:
		if (!varint(p, end, v) || *v > (uint64_t)(end - *p))
			return false;
		*data = *p;
		*len = (size_t)*v;
		*p += *len;
		return true;
	default: return false;
	}
}

static bool locate(uint8_t *env, size_t env_len, struct chain_loc *c)
{
	const uint8_t *p = env, *end = env + env_len, *d = NULL;
	size_t len = 0;
	uint32_t num;
	unsigned type;
	uint64_t v;
	bool seq = false;

	memset(c, 0, sizeof *c);
	while (p < end) {
		if (!field(&p, end, &num, &type, &d, &len, &v))
			return false;
		if (num == 1 && type == 2) {
			c->body = d;
			c->body_len = len;
		}
	}
	if (!c->body)
		return false;
	for (p = c->body, end = c->body + c->body_len; p < end;) {
		if (!field(&p, end, &num, &type, &d, &len, &v))
			return false;
		if (num == 1 && type == 2 && len == KEY_BYTES)
			c->author = d;
		else if (num == 2 && type == 2)
			c->feed = d, c->feed_len = len;
		else if (num == 3 && type == 0)
			c->seq = v, seq = true;
		else if (num == 4 && type == 2 && len == HASH_BYTES)
			c->prev = env + (d - env); /* d points into env */
	}
	return c->author && c->feed && seq && c->prev;
}

static bool follows(const struct chain_loc *a, const struct chain_loc *b)
{
	return a->seq + 1 == b->seq && a->feed_len == b->feed_len && memcmp(a->author, b->author, KEY_BYTES) == 0 &&
	       memcmp(a->feed, b->feed, a->feed_len) == 0;
}

static bool zero(const uint8_t *h)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < HASH_BYTES; i++)
		acc |= h[i];
	return acc == 0;
}

size_t changesets_prev_elide(ProtobufCBinaryData *env, size_t n)
{
	size_t elided = 0;

	/* backwards: each test hashes the body before, still unchanged */
	for (size_t i = n; i-- > 1;) {
		struct chain_loc a, b;
		uint8_t h[HASH_BYTES];

		if (!locate(env[i - 1].data, env[i - 1].len, &a) || !locate(env[i].data, env[i].len, &b) ||
		    !follows(&a, &b))
			continue;
		hash_blake2b(h, a.body, a.body_len);
		if (memcmp(h, b.prev, HASH_BYTES) == 0) {
			memset(b.prev, 0, HASH_BYTES);
			elided++;
		}
	}
	return elided;
}

size_t changesets_prev_restore(ProtobufCBinaryData *env, size_t n)
{
	size_t restored = 0;

	for (size_t i = 1; i < n; i++) {
		struct chain_loc a, b;

		if (!locate(env[i - 1].data, env[i - 1].len, &a) || !locate(env[i].data, env[i].len, &b) ||
		    !follows(&a, &b) || !zero(b.prev))
			continue;
		hash_blake2b(b.prev, a.body, a.body_len);
		restored++;
	}
	return restored;
}
