/* SPDX-License-Identifier: MIT */
/*
 * Links: their life and every frame this daemon sends (link.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "node/sync/sync_internal.h"

#define WIRE_ZSTD_MIN 1024 /* smaller frames go as they are */

struct link *sync_link_new(struct daemon *d, enum link_kind kind)
{
	struct link *l = calloc(1, sizeof *l);

	if (!l)
		return NULL;
	l->d = d;
	l->kind = kind;
	l->role = STRATA__ROLE__ROLE_CHILD;
	sync_link_heard(l);
	l->fd = -1;
	return l;
}

uint64_t sync_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sync_link_heard(struct link *l)
{
	l->last_rx_ms = node_now_ms();
	l->rx_at = sync_clock_ms();
}

void sync_link_free(struct link **l)
{
	if (!l || !*l)
		return;
	if ((*l)->d)
		sync_ckpt_forget((*l)->d, *l); /* its notes not yet taken */
	sync_feedmap_clear(&(*l)->sent);
	sync_feedmap_clear(&(*l)->refused);
	if ((*l)->cert)
		strata__certificate__free_unpacked((*l)->cert, NULL);
	free(*l);
	*l = NULL;
}

void sync_link_reset(struct link *l)
{
	if (l->up && l->d)
		sync_linkstate_note(l->d, l, node_now_ms()); /* its last-seen time, before it goes */
	l->up = false;
	l->hello_sent = false;
	l->inflight = 0;
	sync_feedmap_clear(&l->sent);
	sync_feedmap_clear(&l->refused);
}

struct feedmap_val *sync_link_sent_get(struct link *l, const uint8_t author[KEY_BYTES], const char *feed)
{
	return sync_feedmap_get(&l->sent, author, feed);
}

struct feedmap_val *sync_link_sent_find(const struct link *l, const uint8_t author[KEY_BYTES], const char *feed)
{
	return sync_feedmap_find(&l->sent, author, feed);
}

void sync_link_sent_clear(struct link *l)
{
	sync_feedmap_clear(&l->sent);
}

struct feedmap_val *sync_link_refused_get(struct link *l, const uint8_t author[KEY_BYTES], const char *feed)
{
	return sync_feedmap_get(&l->refused, author, feed);
}

struct feedmap_val *sync_link_refused_find(const struct link *l, const uint8_t author[KEY_BYTES], const char *feed)
{
	return sync_feedmap_find(&l->refused, author, feed);
}

enum link_kind sync_link_kind(const struct link *l)
{
	return l->kind;
}

const uint8_t *sync_link_key(const struct link *l)
{
	return l->key;
}

const char *sync_link_name(const struct link *l)
{
	return l->name;
}

Strata__Role sync_link_role(const struct link *l)
{
	return l->role;
}

bool sync_link_has_rid(const struct link *l, const uint8_t *rid, size_t rid_len)
{
	return l->rid_len == rid_len && memcmp(l->rid, rid, rid_len) == 0;
}

const Strata__Certificate *sync_link_cert(const struct link *l)
{
	return l->cert;
}

bool sync_link_up(const struct link *l)
{
	return l->up;
}

void sync_link_set_up(struct link *l, bool up)
{
	l->up = up;
}

void sync_link_count(struct link *l, enum link_count c, uint64_t n)
{
	switch (c) {
	case LINK_ENTRIES_SENT:
		l->count.entries_sent += n;
		break;
	case LINK_ENTRIES_RECEIVED:
		l->count.entries_received += n;
		break;
	case LINK_REFUSALS_RECEIVED:
		l->count.refusals_received += n;
		break;
	case LINK_BATCHES:
		l->count.batches += n;
		break;
	}
}

const struct link_counters *sync_link_counters(const struct link *l)
{
	return &l->count;
}

/* Sends msg (closed in every case) on sock, after the routing id rid
 * (ROUTER; NULL: DEALER). 0 or -errno. */
static int send_msg(void *sock, const uint8_t *rid, size_t rid_len, zmq_msg_t *msg)
{
	if (rid && zmq_send(sock, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
		int err = errno;

		zmq_msg_close(msg);
		return -err;
	}
	if (zmq_msg_send(msg, sock, ZMQ_DONTWAIT) < 0) {
		int err = errno;

		zmq_msg_close(msg);
		return -err;
	}
	return 0;
}

static void free_base(void *data, void *base)
{
	(void)data;
	free(base);
}

/* A loopback (or in-host) endpoint: tcp://127.*, tcp://localhost, tcp://[::1], ipc://, inproc://. */
static bool endpoint_local(const char *ep)
{
	static const char *const local[] = {"tcp://127.", "tcp://localhost:", "tcp://[::1]", "ipc://", "inproc://"};

	for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
		if (strncmp(ep, local[i], strlen(local[i])) == 0)
			return true;
	return false;
}

bool sync_link_compresses(const struct link *l)
{
	const struct node_config *c = node_config(l->d->n);

	if (!l->zstd || c->compress == NODE_COMPRESS_NONE)
		return false;
	if (c->compress == NODE_COMPRESS_ZSTD)
		return true;
	/* auto: a parent link goes where [parent] endpoint says; children come
	 * in through [node] listen */
	return !endpoint_local(l->kind == LINK_PARENT ? c->parent_endpoint : c->listen);
}

int sync_link_send(struct link *l, const Strata__Frame *f)
{
	void *sock = l->kind == LINK_PARENT ? l->d->dealer : l->d->router;
	size_t len = strata__frame__get_packed_size(f), zlen = 0;
	uint8_t *zbase = NULL, *z = NULL;
	zmq_msg_t msg;
	int ret;

	if (!sock)
		return -ENOTCONN;
	if (f->msg_case == STRATA__FRAME__MSG_ENTRIES && len >= WIRE_ZSTD_MIN && sync_link_compresses(l) &&
	    sync_frame_compress(l->d, f, l->elide, len, &zbase, &z, &zlen) == 0) {
		if (zmq_msg_init_data(&msg, z, zlen, free_base, zbase) != 0) {
			free(zbase);
			return -ENOMEM;
		}
	} else {
		if (zmq_msg_init_size(&msg, len) != 0)
			return -ENOMEM;
		strata__frame__pack(f, zmq_msg_data(&msg));
	}
	if ((ret = send_msg(sock, l->kind == LINK_CHILD ? l->rid : NULL, l->rid_len, &msg)) < 0)
		return ret;
	l->tx_at = sync_clock_ms();
	if (f->msg_case == STRATA__FRAME__MSG_ENTRIES) {
		l->count.batch_bytes += len;
		l->count.batch_wire_bytes += z ? zlen : len;
	}
	return 0;
}

int sync_conn_send(struct daemon *d, const uint8_t *rid, size_t rid_len, const Strata__Frame *f)
{
	zmq_msg_t msg;

	if (!d->router)
		return -ENOTCONN;
	if (zmq_msg_init_size(&msg, strata__frame__get_packed_size(f)) != 0)
		return -ENOMEM;
	strata__frame__pack(f, zmq_msg_data(&msg));
	return send_msg(d->router, rid, rid_len, &msg);
}

/* An Error frame: for a refused entry author, feed and seq; else NULL, NULL, 0. */
static void error_frame(Strata__Frame *f, Strata__Error *er, int code, const char *reason, const uint8_t *author,
			const char *feed, uint64_t seq)
{
	er->code = (uint32_t)code;
	er->reason = (char *)reason;
	if (author) {
		er->has_author = 1;
		er->author.data = (uint8_t *)author;
		er->author.len = KEY_BYTES;
	}
	er->feed = (char *)feed;
	er->has_seq = seq != 0;
	er->seq = seq;
	f->msg_case = STRATA__FRAME__MSG_ERROR;
	f->error = er;
}

void sync_link_send_error(struct link *l, int code, const char *reason, const uint8_t *author, const char *feed,
			  uint64_t seq)
{
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Error er = STRATA__ERROR__INIT;

	error_frame(&f, &er, code, reason, author, feed, seq);
	sync_link_send(l, &f);
	l->count.refusals_sent++;
}

void sync_conn_send_error(struct daemon *d, const uint8_t *rid, size_t rid_len, int code, const char *reason)
{
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Error er = STRATA__ERROR__INIT;

	error_frame(&f, &er, code, reason, NULL, NULL, 0);
	sync_conn_send(d, rid, rid_len, &f);
}
