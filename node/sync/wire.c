/* SPDX-License-Identifier: MIT */
/*
 * Frames on the wire: one protobuf Frame per ZeroMQ message (a ROUTER
 * prefixes the routing id), sizes bounded before decoding, and the ZAP
 * user id of the connection attached to every message we read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "node/sync/sync_internal.h"

int link_send(struct link *l, const Strata__Frame *f)
{
	void *sock = l->kind == LINK_PARENT ? l->d->dealer : l->d->router;
	size_t len = strata__frame__get_packed_size(f);
	zmq_msg_t msg;

	if (!sock)
		return -ENOTCONN;
	if (zmq_msg_init_size(&msg, len) != 0)
		return -ENOMEM;
	strata__frame__pack(f, zmq_msg_data(&msg));
	if (l->kind == LINK_CHILD && zmq_send(sock, l->rid, l->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
		int err = errno;

		zmq_msg_close(&msg);
		return -err;
	}
	if (zmq_msg_send(&msg, sock, ZMQ_DONTWAIT) < 0) {
		int err = errno;

		zmq_msg_close(&msg);
		return -err;
	}
	l->last_tx_ms = node_now_ms();
	return 0;
}

int frame_recv(void *sock, bool router, uint8_t *rid, size_t *rid_len, char *user_id, size_t uid_cap,
	       Strata__Frame **out, struct err *e)
{
	zmq_msg_t msg;
	const char *uid;
	int n, more, ret;
	size_t more_len = sizeof more;

	*out = NULL;
	if (router) {
		n = zmq_recv(sock, rid, 255, ZMQ_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? -EAGAIN : -errno;
		*rid_len = (size_t)(n > 255 ? 255 : n);
	}
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, sock, router ? 0 : ZMQ_DONTWAIT) < 0) {
		int err = errno;

		zmq_msg_close(&msg);
		return err == EAGAIN ? -EAGAIN : -err;
	}
	/* Drain any extra parts: a frame is exactly one part. */
	while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &more_len) == 0 && more) {
		zmq_msg_t extra;

		zmq_msg_init(&extra);
		zmq_msg_recv(&extra, sock, 0);
		zmq_msg_close(&extra);
	}
	uid = zmq_msg_gets(&msg, "User-Id");
	snprintf(user_id, uid_cap, "%s", uid ? uid : "");
	ret = frame_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), out, e);
	zmq_msg_close(&msg);
	return ret;
}

int frame_decode(const uint8_t *data, size_t len, Strata__Frame **out, struct err *e)
{
	*out = NULL;
	if (len > SYNC_FRAME_MAX) {
		err_set(e, "frame of %zu bytes exceeds the limit of %u", len, SYNC_FRAME_MAX);
		return -EBADMSG;
	}
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

void link_send_error(struct link *l, int code, const char *reason, const uint8_t *author, const char *feed,
		     uint64_t seq)
{
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Error er = STRATA__ERROR__INIT;

	er.code = (uint32_t)code;
	er.reason = (char *)reason;
	if (author) {
		er.has_author = 1;
		er.author.data = (uint8_t *)author;
		er.author.len = KEY_BYTES;
	}
	er.feed = (char *)feed;
	er.has_seq = seq != 0;
	er.seq = seq;
	f.msg_case = STRATA__FRAME__MSG_ERROR;
	f.error = &er;
	link_send(l, &f);
	l->refusals_sent++;
}
