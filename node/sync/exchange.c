/* SPDX-License-Identifier: MIT */
/*
 * One request and its answer over a short-lived CURVE connection to a
 * parent, outside the daemon: `strata join` (with the token's throwaway
 * key) and `strata rotate-key` (with the old key, then the new one). The
 * parent's verdict arrives either at the handshake (its ZAP handler refused
 * the key: seen through a socket monitor) or as a frame.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "node/sync/sync_internal.h"

/* Reads one monitor event; 0 if it could not be read. */
static uint16_t monitor_event(void *mon)
{
	zmq_msg_t ev, addr;
	uint16_t event = 0;

	zmq_msg_init(&ev);
	zmq_msg_init(&addr);
	if (zmq_msg_recv(&ev, mon, 0) >= 6) {
		memcpy(&event, zmq_msg_data(&ev), sizeof event);
		if (zmq_msg_more(&ev))
			zmq_msg_recv(&addr, mon, 0);
	}
	zmq_msg_close(&ev);
	zmq_msg_close(&addr);
	return event;
}

/* Waits on sock (connected, the request sent) and its monitor for the
 * handshake and x->answer, as sync_exchange. */
static int await_answer(const struct sync_exchange *x, void *sock, void *mon, Strata__Frame **reply,
			struct err *e)
{
	uint64_t deadline = sync_clock_ms() + (uint64_t)x->timeout_ms;
	int ret;

	for (;;) {
		zmq_pollitem_t items[] = {{sock, 0, ZMQ_POLLIN, 0}, {mon, 0, ZMQ_POLLIN, 0}};
		uint64_t now = sync_clock_ms();
		uint8_t rid[8];
		size_t rid_len;
		char uid[8];

		if (now >= deadline) {
			err_set(e, "no answer from the parent at %s within %d s (is it running strata serve?)",
				x->endpoint, x->timeout_ms / 1000);
			return -ETIMEDOUT;
		}
		if (zmq_poll(items, 2, (long)(deadline - now)) < 0)
			continue;
		if (items[1].revents & ZMQ_POLLIN) {
			if (monitor_event(mon) == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
				if (!x->request)
					return 0;
				continue;
			}
			err_set(e, "the parent at %s refused %s at the handshake", x->endpoint, x->refusal);
			return -EACCES;
		}
		if (!(items[0].revents & ZMQ_POLLIN))
			continue;
		if ((ret = sync_frame_recv(sock, false, rid, &rid_len, uid, sizeof uid, reply, e)) < 0) {
			if (ret == -EAGAIN)
				continue;
			return ret;
		}
		if ((*reply)->msg_case == STRATA__FRAME__MSG_ERROR) {
			err_set(e, "the parent refused: %s", (*reply)->error->reason);
			return -EACCES;
		}
		if ((*reply)->msg_case == x->answer)
			return 0;
		strata__frame__free_unpacked(*reply, NULL);
		*reply = NULL;
	}
}

int sync_exchange(const struct sync_exchange *x, Strata__Frame **reply, struct err *e)
{
	static unsigned seq;
	uint8_t *packed = NULL;
	void *ctx = NULL, *sock = NULL, *mon = NULL;
	char mon_ep[64];
	size_t packed_len = 0;
	int ret = -EIO, linger = 0;

	*reply = NULL;
	if (x->request) {
		packed_len = strata__frame__get_packed_size(x->request);
		if (!(packed = malloc(packed_len))) {
			err_set(e, "out of memory");
			return -ENOMEM;
		}
		strata__frame__pack(x->request, packed);
	}
	snprintf(mon_ep, sizeof mon_ep, "inproc://exchange-monitor-%u", seq++);
	if (!(ctx = zmq_ctx_new()) || !(sock = zmq_socket(ctx, ZMQ_DEALER))) {
		err_set(e, "cannot create a ZeroMQ socket: %s", zmq_strerror(errno));
		goto out;
	}
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, x->server_curve, KEY_BYTES);
	zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, x->curve_pk, KEY_BYTES);
	zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, x->curve_sk, KEY_BYTES);
	if (zmq_socket_monitor(sock, mon_ep,
			       ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
				       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
	    !(mon = zmq_socket(ctx, ZMQ_PAIR)) || zmq_connect(mon, mon_ep) != 0) {
		err_set(e, "cannot monitor the connection: %s", zmq_strerror(errno));
		goto out;
	}
	zmq_setsockopt(mon, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_connect(sock, x->endpoint) != 0) {
		err_set(e, "cannot connect to %s: %s", x->endpoint, zmq_strerror(errno));
		goto out;
	}
	if (packed && zmq_send(sock, packed, packed_len, 0) < 0) {
		err_set(e, "cannot send the %s: %s", x->what, zmq_strerror(errno));
		goto out;
	}
	ret = await_answer(x, sock, mon, reply, e);
out:
	if (ret < 0 && *reply) {
		strata__frame__free_unpacked(*reply, NULL);
		*reply = NULL;
	}
	if (mon)
		zmq_close(mon);
	if (sock) {
		zmq_socket_monitor(sock, NULL, 0);
		zmq_close(sock);
	}
	if (ctx)
		zmq_ctx_term(ctx);
	free(packed);
	return ret;
}
