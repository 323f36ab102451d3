/* SPDX-License-Identifier: MIT */
/*
 * Frames on the wire: one protobuf Frame per ZeroMQ message (a ROUTER
 * prefixes the routing id), sizes bounded before decoding, and the ZAP
 * user id of the connection attached to every message we read. Batches of
 * entries go zstd-compressed to a peer that says it reads them (Hello
 * accept "zstd"): a Frame whose one field is the compressed Frame.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>
#include <zstd.h>

#include "node/sync/sync_internal.h"

/* Level 1: higher levels cost the sender more than they save. On loopback
 * compression only costs (a batched catch-up ran 25 % slower with it), so
 * [sync] compress = auto leaves loopback links alone. */
#define WIRE_ZSTD_LEVEL 1

/* changesets_prev_elide does the eliding. */
int sync_frame_compress(struct daemon *d, const Strata__Frame *f, bool elide, size_t len, uint8_t **base,
			uint8_t **out, size_t *out_len)
{
	enum { ROOM = 16 }; /* the outer Frame's tag and length go in front */
	uint8_t *plain = NULL, *buf = NULL, head[ROOM];
	size_t bound = ZSTD_compressBound(len), n, h = 0, v;
	int ret = -ENOMEM;

	if (!d->zstd_cctx && !(d->zstd_cctx = ZSTD_createCCtx()))
		return -ENOMEM;
	if (!(plain = malloc(len)) || !(buf = malloc(ROOM + bound)))
		goto out;
	if (elide) { /* on a copy: f's envelopes are the stored bytes */
		const Strata__Entries *en = f->entries;
		Strata__Entries copy = *en;
		Strata__Frame fc = *f;
		uint8_t *at = buf; /* buf is larger than all the envelopes */

		if (!(copy.envelopes = malloc((en->n_envelopes ? en->n_envelopes : 1) * sizeof *copy.envelopes)))
			goto out;
		for (size_t i = 0; i < en->n_envelopes; i++) {
			memcpy(at, en->envelopes[i].data, en->envelopes[i].len);
			copy.envelopes[i] = (ProtobufCBinaryData){en->envelopes[i].len, at};
			at += en->envelopes[i].len;
		}
		changesets_prev_elide(copy.envelopes, copy.n_envelopes);
		fc.entries = &copy;
		strata__frame__pack(&fc, plain);
		free(copy.envelopes);
	} else {
		strata__frame__pack(f, plain);
	}
	n = ZSTD_compressCCtx(d->zstd_cctx, buf + ROOM, bound, plain, len, WIRE_ZSTD_LEVEL);
	if (ZSTD_isError(n) || n + ROOM >= len) {
		ret = -EAGAIN;
		goto out;
	}
	/* Frame field 13 (zstd), length-delimited: the tag, then n as a varint */
	head[h++] = (STRATA__FRAME__MSG_ZSTD << 3) | 2;
	for (v = n; v >= 0x80; v >>= 7)
		head[h++] = (uint8_t)(v | 0x80);
	head[h++] = (uint8_t)v;
	memcpy(buf + ROOM - h, head, h);
	*base = buf;
	*out = buf + ROOM - h;
	*out_len = h + n;
	buf = NULL;
	ret = 0;
out:
	free(plain);
	free(buf);
	return ret;
}

void sync_wire_free(struct daemon *d)
{
	ZSTD_freeCCtx(d->zstd_cctx);
	d->zstd_cctx = NULL;
}

int sync_frame_recv_raw(void *sock, bool router, uint8_t *rid, size_t *rid_len, char *user_id, size_t uid_cap,
			zmq_msg_t *msg)
{
	const char *uid;
	int n, more;
	size_t more_len = sizeof more;

	if (router) {
		n = zmq_recv(sock, rid, 255, ZMQ_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? -EAGAIN : -errno;
		*rid_len = (size_t)(n > 255 ? 255 : n);
	}
	zmq_msg_init(msg);
	if (zmq_msg_recv(msg, sock, router ? 0 : ZMQ_DONTWAIT) < 0) {
		int err = errno;

		zmq_msg_close(msg);
		return err == EAGAIN ? -EAGAIN : -err;
	}
	/* Drain any extra parts: a frame is exactly one part. */
	while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &more_len) == 0 && more) {
		zmq_msg_t extra;

		zmq_msg_init(&extra);
		zmq_msg_recv(&extra, sock, 0);
		zmq_msg_close(&extra);
	}
	uid = zmq_msg_gets(msg, "User-Id");
	snprintf(user_id, uid_cap, "%s", uid ? uid : "");
	return 0;
}

int sync_frame_recv(void *sock, bool router, uint8_t *rid, size_t *rid_len, char *user_id, size_t uid_cap,
		    Strata__Frame **out, struct err *e)
{
	zmq_msg_t msg;
	int ret;

	*out = NULL;
	if ((ret = sync_frame_recv_raw(sock, router, rid, rid_len, user_id, uid_cap, &msg)) < 0)
		return ret;
	ret = sync_frame_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), out, e);
	zmq_msg_close(&msg);
	return ret;
}

static int decode_plain(const uint8_t *data, size_t len, Strata__Frame **out, struct err *e)
{
	if (!(*out = strata__frame__unpack(NULL, len, data))) {
		err_set(e, "frame does not decode");
		return -EBADMSG;
	}
	if ((*out)->base.n_unknown_fields || (*out)->msg_case == STRATA__FRAME__MSG__NOT_SET) {
		err_set(e, "frame has no known message");
		strata__frame__free_unpacked(*out, NULL);
		*out = NULL;
		return -EBADMSG;
	}
	return 0;
}

/* A sender may elide prevs a receiver can derive: put them back before
 * anything looks at the entries. */
static void restore_prevs(Strata__Frame *f)
{
	if (f && f->msg_case == STRATA__FRAME__MSG_ENTRIES)
		changesets_prev_restore(f->entries->envelopes, f->entries->n_envelopes);
}

int sync_frame_decode(const uint8_t *data, size_t len, Strata__Frame **out, struct err *e)
{
	Strata__Frame *z;
	unsigned long long size;
	uint8_t *plain;
	size_t n;
	int ret;

	*out = NULL;
	if (len > SYNC_FRAME_MAX) {
		err_set(e, "frame of %zu bytes exceeds the limit of %u", len, SYNC_FRAME_MAX);
		return -EBADMSG;
	}
	if ((ret = decode_plain(data, len, &z, e)) < 0 || z->msg_case != STRATA__FRAME__MSG_ZSTD) {
		*out = z;
		restore_prevs(z);
		return ret;
	}
	/* One-shot decompression into a buffer of the stated size: a frame
	 * cannot make us allocate more than SYNC_FRAME_MAX, nor a window. */
	size = ZSTD_getFrameContentSize(z->zstd.data, z->zstd.len);
	if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
		err_set(e, "compressed frame is not a zstd frame that states its size");
		ret = -EBADMSG;
	} else if (size > SYNC_FRAME_MAX) {
		err_set(e, "compressed frame of %llu bytes exceeds the limit of %u", size, SYNC_FRAME_MAX);
		ret = -EBADMSG;
	} else if (!(plain = malloc(size ? size : 1))) {
		err_set(e, "out of memory for a compressed frame of %llu bytes", size);
		ret = -ENOMEM;
	} else {
		n = ZSTD_decompress(plain, size, z->zstd.data, z->zstd.len);
		if (ZSTD_isError(n) || n != size) {
			err_set(e, "compressed frame does not decompress: %s",
				ZSTD_isError(n) ? ZSTD_getErrorName(n) : "shorter than it says");
			ret = -EBADMSG;
		} else if ((ret = decode_plain(plain, n, out, e)) == 0 && (*out)->msg_case == STRATA__FRAME__MSG_ZSTD) {
			err_set(e, "compressed frame holds another compressed frame");
			strata__frame__free_unpacked(*out, NULL);
			*out = NULL;
			ret = -EBADMSG;
		}
		restore_prevs(*out);
		free(plain);
	}
	strata__frame__free_unpacked(z, NULL);
	return ret;
}
