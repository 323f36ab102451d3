/* SPDX-License-Identifier: MIT */
/*
 * Protobuf wire checks for changeset_decode (pb_wire.h): counting a field's
 * occurrences before anything is unpacked, and comparing a decoded message's
 * canonical encoding with the bytes it came from.
 */
#include <stdbool.h>
#include <string.h>

#include "protocol/pb_wire.h"

/* Walks the top level of a protobuf message without allocating and counts
 * the occurrences of field `want`. -1 with *bad_at set if the bytes are not
 * a sequence of well-formed fields (groups included: protobuf-c refuses
 * them too). */
int pb_wire_count(const uint8_t *p, size_t len, uint32_t want, size_t *count, size_t *bad_at)
{
	size_t i = 0;
	*count = 0;
	while (i < len) {
		size_t start = i;
		uint64_t v = 0;
		unsigned shift = 0;
		bool done = false;
		/* The tag: a varint of at most 5 bytes. */
		while (i < len && shift < 35) {
			uint8_t b = p[i++];
			v |= (uint64_t)(b & 0x7f) << shift;
			shift += 7;
			if (!(b & 0x80)) {
				done = true;
				break;
			}
		}
		uint64_t field = v >> 3;
		if (!done || field == 0 || field > 0x1fffffff)
			goto bad;
		if (field == want)
			(*count)++;
		switch (v & 7) {
		case 0: /* varint: at most 10 bytes */
			for (unsigned n = 0;; n++) {
				if (i >= len || n == 10)
					goto bad;
				if (!(p[i++] & 0x80))
					break;
			}
			break;
		case 1:
			if (len - i < 8)
				goto bad;
			i += 8;
			break;
		case 5:
			if (len - i < 4)
				goto bad;
			i += 4;
			break;
		case 2: {
			uint64_t l = 0;
			shift = 0;
			done = false;
			while (i < len && shift < 70) {
				uint8_t b = p[i++];
				l |= (uint64_t)(b & 0x7f) << shift;
				shift += 7;
				if (!(b & 0x80)) {
					done = true;
					break;
				}
			}
			if (!done || l > len - i)
				goto bad;
			i += (size_t)l;
			break;
		}
		default:
			goto bad;
		}
		continue;
	bad:
		*bad_at = start;
		return -1;
	}
	return 0;
}

/* A ProtobufCBuffer that compares what is packed into it with given bytes. */
struct cmp_buf {
	ProtobufCBuffer base;
	const uint8_t *want;
	size_t len;
	size_t pos;
	bool differs;
	size_t diff_at;
};

static void cmp_append(ProtobufCBuffer *buf, size_t len, const uint8_t *data)
{
	struct cmp_buf *c = (struct cmp_buf *)buf;
	if (c->differs || len == 0)
		return;
	if (len <= c->len - c->pos && memcmp(c->want + c->pos, data, len) == 0) {
		c->pos += len;
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (c->pos + i >= c->len || c->want[c->pos + i] != data[i]) {
			c->differs = true;
			c->diff_at = c->pos + i;
			return;
		}
	}
	c->pos += len;
}

/* 0 if packing msg gives exactly want; else the offset of the first
 * difference in *diff_at. */
int pb_canonical(const ProtobufCMessage *msg, const uint8_t *want, size_t len, size_t *diff_at)
{
	struct cmp_buf c = {.base = {.append = cmp_append}, .want = want, .len = len};
	protobuf_c_message_pack_to_buffer(msg, &c.base);
	if (!c.differs && c.pos != len) {
		c.differs = true;
		c.diff_at = c.pos;
	}
	*diff_at = c.diff_at;
	return c.differs ? -1 : 0;
}
