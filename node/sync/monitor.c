/* SPDX-License-Identifier: MIT */
/*
 * Transport events of the daemon's sockets (ZeroMQ socket monitors): the
 * parent link's handshake, disconnection and refusals, and the listener's.
 */
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "node/sync/sync_internal.h"

void sync_on_monitor(struct daemon *d)
{
	static uint64_t last_auth_log;
	zmq_msg_t ev, addr;

	zmq_msg_init(&ev);
	zmq_msg_init(&addr);
	if (zmq_msg_recv(&ev, d->monitor, ZMQ_DONTWAIT) >= 6 && zmq_msg_recv(&addr, d->monitor, 0) >= 0) {
		uint16_t event;

		memcpy(&event, zmq_msg_data(&ev), sizeof event);
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			sync_link_reset(d->parent);
			sync_link_heard(d->parent);
			sync_link_send_hello(d->parent);
		} else if (event == ZMQ_EVENT_DISCONNECTED) {
			if (sync_link_up(d->parent)) {
				sync_log(d, "link to parent %s is down; reconnecting", sync_link_name(d->parent));
				snprintf(d->parent->last_error, sizeof d->parent->last_error,
					 "the connection closed: reconnecting");
				d->parent->last_error_ms = node_now_ms();
			}
			sync_link_reset(d->parent);
		} else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && sync_clock_ms() - last_auth_log > 30000) {
			last_auth_log = sync_clock_ms();
			snprintf(d->parent->last_error, sizeof d->parent->last_error,
				 "the parent refused this node's key at the handshake");
			d->parent->last_error_ms = node_now_ms();
			sync_log(d, "the parent refused this node's key at the handshake (not certified by it?)");
		}
	}
	zmq_msg_close(&ev);
	zmq_msg_close(&addr);
}

/* The transport closed a connection (its peer left, the network broke, or
 * the peer broke the transport's rules: a message over SYNC_FRAME_MAX).
 * ZeroMQ does not say which, nor whose: the event names the socket, which
 * the link that last read from it recorded. A connection without a link
 * (a join, a rotation, a refused hello) is not logged: what it did is. */
void sync_on_router_monitor(struct daemon *d)
{
	zmq_msg_t ev, addr;

	zmq_msg_init(&ev);
	zmq_msg_init(&addr);
	if (zmq_msg_recv(&ev, d->router_monitor, ZMQ_DONTWAIT) >= 6 && zmq_msg_recv(&addr, d->router_monitor, 0) >= 0) {
		uint32_t fd;

		memcpy(&fd, (const uint8_t *)zmq_msg_data(&ev) + 2, sizeof fd);
		for (size_t i = 0; i < d->nchildren; i++) {
			struct link *l = d->children[i];

			if (l->fd < 0 || (uint32_t)l->fd != fd)
				continue;
			l->fd = -1;
			if (sync_link_refusal_allow(l, sync_clock_ms()))
				sync_log(d, "the connection of %s closed: its node left or its network broke, or it "
					    "broke the transport's rules (a message over the %u MiB frame limit)",
					 sync_link_name(l), SYNC_FRAME_MAX >> 20);
			break;
		}
	}
	zmq_msg_close(&ev);
	zmq_msg_close(&addr);
}
