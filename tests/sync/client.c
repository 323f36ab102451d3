/* SPDX-License-Identifier: MIT */
/*
 * A hand-driven client on the wire (see net.h): a ZeroMQ DEALER with CURVE
 * keys chosen by the test, connected to a serving node's ROUTER, sending
 * the frames a test wants (well-formed or not) and reading back what the
 * node answers; and signed change sets built with the protocol module.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zmq.h>

#include "net.h"

struct net_client {
	void *ctx, *sock;
};

static void client_destroy(void *p)
{
	struct net_client *c = p;

	zmq_close(c->sock);
	zmq_ctx_term(c->ctx);
	free(c);
}

static void frame_free(void *p)
{
	strata__frame__free_unpacked(p, NULL);
}

struct net_client *net_client_new(const struct net_node *server, const uint8_t curve_pk[KEY_BYTES],
				  const uint8_t curve_sk[KEY_BYTES])
{
	struct net_client *c = net_own(calloc(1, sizeof(struct net_client)), client_destroy);
	uint8_t server_curve[KEY_BYTES];
	int linger = 0, sndtimeo = 2000 * NET_SLOW;

	cr_assert_not_null(c);
	cr_assert(server->listen[0], "%s does not listen", server->label);
	cr_assert_eq(key_to_curve(server_curve, server->key), 0, "the key of %s has no CURVE form", server->label);
	c->ctx = zmq_ctx_new();
	cr_assert_not_null(c->ctx, "zmq_ctx_new: %s", zmq_strerror(errno));
	c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
	cr_assert_not_null(c->sock, "zmq_socket: %s", zmq_strerror(errno));
	zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
	/* a refused client has no connection to queue on: do not block */
	zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
	cr_assert_eq(zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, server_curve, KEY_BYTES), 0);
	cr_assert_eq(zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, curve_pk, KEY_BYTES), 0);
	cr_assert_eq(zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, curve_sk, KEY_BYTES), 0);
	cr_assert_eq(zmq_connect(c->sock, server->listen), 0, "connect %s: %s", server->listen, zmq_strerror(errno));
	return c;
}

struct net_client *net_client_new_kp(const struct net_node *server, const struct keypair *kp)
{
	uint8_t pk[KEY_BYTES], sk[KEY_BYTES];
	struct net_client *c;

	cr_assert_eq(keypair_curve(kp, pk, sk), 0, "no CURVE form of the key pair");
	c = net_client_new(server, pk, sk);
	sodium_memzero(sk, sizeof sk);
	return c;
}

void net_client_free(struct net_client **c)
{
	if (!c || !*c)
		return;
	net_release(*c);
	*c = NULL;
}

bool net_client_try_send_raw(struct net_client *c, const void *data, size_t len)
{
	if (zmq_send(c->sock, data, len, 0) >= 0)
		return true;
	cr_assert_eq(errno, EAGAIN, "zmq_send: %s", zmq_strerror(errno));
	return false;
}

void net_client_send_raw(struct net_client *c, const void *data, size_t len)
{
	cr_assert(net_client_try_send_raw(c, data, len), "zmq_send: no connection to the node within %d ms",
		  2000 * NET_SLOW);
}

bool net_client_try_send(struct net_client *c, const Strata__Frame *f)
{
	size_t len = strata__frame__get_packed_size(f);
	uint8_t *buf = malloc(len ? len : 1);
	bool ok;

	cr_assert_not_null(buf);
	strata__frame__pack(f, buf);
	ok = net_client_try_send_raw(c, buf, len);
	free(buf);
	return ok;
}

void net_client_send(struct net_client *c, const Strata__Frame *f)
{
	cr_assert(net_client_try_send(c, f), "zmq_send: no connection to the node within %d ms", 2000 * NET_SLOW);
}

void net_client_hello(struct net_client *c, const uint8_t key[KEY_BYTES], const char *name)
{
	net_client_send(c, net_hello_frame(key, name));
}

const Strata__Frame *net_hello_frame(const uint8_t key[KEY_BYTES], const char *name)
{
	static Strata__Frame f;
	static Strata__Hello h;

	strata__frame__init(&f);
	strata__hello__init(&h);
	h.version = 1;
	h.node.data = (uint8_t *)key;
	h.node.len = KEY_BYTES;
	h.name = (char *)name;
	f.msg_case = STRATA__FRAME__MSG_HELLO;
	f.hello = &h;
	return &f;
}

Strata__Frame *net_client_recv(struct net_client *c, int timeout_ms)
{
	zmq_pollitem_t item = {c->sock, 0, ZMQ_POLLIN, 0};
	Strata__Frame *f;
	zmq_msg_t msg;
	int rc;

	rc = zmq_poll(&item, 1, timeout_ms);
	cr_assert_geq(rc, 0, "zmq_poll: %s", zmq_strerror(errno));
	if (rc == 0)
		return NULL;
	zmq_msg_init(&msg);
	cr_assert_geq(zmq_msg_recv(&msg, c->sock, 0), 0, "zmq_msg_recv: %s", zmq_strerror(errno));
	f = net_own(strata__frame__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg)), frame_free);
	if (!f) {
		size_t size = zmq_msg_size(&msg);

		zmq_msg_close(&msg);
		cr_assert_fail("the node sent a message of %zu bytes that is not a Frame", size);
	}
	zmq_msg_close(&msg);
	return f;
}

Strata__Frame *net_client_expect(struct net_client *c, Strata__Frame__MsgCase kind, int timeout_ms)
{
	uint64_t deadline = net_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		uint64_t now = net_now_ms();
		Strata__Frame *f;

		if (now >= deadline)
			return NULL;
		if (!(f = net_client_recv(c, (int)(deadline - now))))
			return NULL;
		if (f->msg_case == kind)
			return f;
		net_release(f);
	}
}

void net_client_entries(struct net_client *c, uint64_t batch, uint8_t *const *env, const size_t *len, size_t n,
			struct net_reply *r, int timeout_ms)
{
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Entries en = STRATA__ENTRIES__INIT;
	ProtobufCBinaryData *v = calloc(n ? n : 1, sizeof *v);
	uint64_t deadline = net_now_ms() + (uint64_t)timeout_ms;
	bool sent;

	cr_assert_not_null(v);
	memset(r, 0, sizeof *r);
	for (size_t i = 0; i < n; i++) {
		v[i].data = env[i];
		v[i].len = len[i];
	}
	en.batch = batch;
	en.n_envelopes = n;
	en.envelopes = v;
	f.msg_case = STRATA__FRAME__MSG_ENTRIES;
	f.entries = &en;
	sent = net_client_try_send(c, &f);
	free(v);
	cr_assert(sent, "zmq_send: no connection to the node within %d ms", 2000 * NET_SLOW);
	for (;;) {
		uint64_t now = net_now_ms();
		Strata__Frame *g;

		if (now >= deadline || !(g = net_client_recv(c, (int)(deadline - now))))
			return;
		if (g->msg_case == STRATA__FRAME__MSG_ACK && g->ack->batch == batch) {
			r->ack = g;
			return;
		}
		if (g->msg_case == STRATA__FRAME__MSG_ERROR && r->n_errors < sizeof r->errors / sizeof *r->errors) {
			r->errors[r->n_errors++] = g;
			continue;
		}
		if (g->msg_case == STRATA__FRAME__MSG_WANT)
			r->n_wants++;
		net_release(g);
	}
}

void net_reply_free(struct net_reply *r)
{
	net_release(r->ack);
	for (size_t i = 0; i < r->n_errors; i++)
		net_release(r->errors[i]);
	memset(r, 0, sizeof *r);
}

void net_entry(const struct keypair *kp, const char *feed, uint64_t seq, const uint8_t *prev, const char *member_id,
	       uint8_t **env, size_t *len, uint8_t hash[HASH_BYTES])
{
	static const uint8_t zeros[HASH_BYTES];
	struct changeset_builder *b = NULL;
	struct err e = {0};

	cr_assert_eq(changeset_builder_new(&b, feed, seq, prev ? prev : zeros, 1795600000000ull + seq, &e), 0, "%s",
		     e.msg);
	if (member_id) {
		Strata__Member m = STRATA__MEMBER__INIT;
		size_t ml;
		uint8_t *mv;

		m.id = (char *)member_id;
		m.name = "测试成员";
		m.category = STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
		m.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
		m.joined = "2020-01-01";
		ml = strata__member__get_packed_size(&m);
		mv = malloc(ml);
		cr_assert_not_null(mv);
		strata__member__pack(&m, mv);
		cr_assert_eq(changeset_builder_put(b, "member", (const uint8_t *)member_id, strlen(member_id), mv, ml,
						   &e),
			     0, "%s", e.msg);
		free(mv);
	}
	if (changeset_builder_finish(b, kp, env, len, hash, &e) < 0) {
		changeset_builder_destroy(&b);
		cr_assert_fail("%s", e.msg);
	}
	changeset_builder_destroy(&b);
	net_own(*env, free);
}
