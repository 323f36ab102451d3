/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for everything a daemon does with a message from a link:
 * the wire layer's decoding (sync_frame_decode, as sync_frame_recv runs it) and then
 * the handler the daemon's loop would call: sync_link_on_frame on the parent
 * link (on_hello, on_entries, on_ack, on_want, on_error, evidence, ping)
 * or, for the ROUTER, sync_on_child_frame with the connection's ZAP user
 * id (join, rotate, a Hello from a certified child or peer opening its
 * link, then the link's frames). The daemon is a real struct daemon over
 * the scratch node. Its sockets are inproc and go nowhere: the ROUTER has
 * no peers (ZeroMQ drops what it sends), the DEALER's peer is a sink that
 * is emptied after each input; so every send succeeds, as on a live link,
 * and a link stays up.
 *
 * Input: one byte choosing the connection (low 3 bits: 0 the parent,
 * 1 the certified child r/c, 2 the certified peer, 3 the invitation, 4 the
 * child r/d (which may rotate its key), 5 an unknown key, 6-7 no user id;
 * bit 3: a valid Hello first, so that the link is up), then frames, each a 2-byte big-endian length and that many bytes.
 * With bit 4 set the frames are instead answers to this node's own join
 * or rotation, as the parent SCRATCH_PARENT sends them: a JoinReply goes
 * to sync_join_check_reply (for a token naming that parent as parent and root),
 * a RotateReply to sync_rotate_check_reply (for the new key SCRATCH_NEWKEY).
 * Link state is dropped after each input; the store keeps what was stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "node/report/report.h"
#include "node/sync/sync_internal.h"
#include "node/transfer/transfer.h"
#include "tests/fuzz/scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define MAX_FRAMES 16

static struct daemon daemon_;
static const struct sync_serve_opts opts = {.verbose = true};
static uint8_t parent_key[KEY_BYTES];
static uint8_t conn_key[6][KEY_BYTES]; /* the key of each connection (3: the invitation's CURVE key) */
static uint8_t new_key[KEY_BYTES], secret[SEED_BYTES];
static Strata__JoinToken token = STRATA__JOIN_TOKEN__INIT; /* this node's join, to SCRATCH_PARENT */

static void *sink;

static void daemon_cleanup(void)
{
	sync_link_free(&daemon_.parent);
	sync_drop_children(&daemon_);
	zmq_close(daemon_.router);
	zmq_close(daemon_.dealer);
	zmq_close(sink);
	zmq_ctx_term(daemon_.ctx);
}

static void drain(void)
{
	char b[64];

	while (zmq_recv(sink, b, sizeof b, ZMQ_DONTWAIT) >= 0)
		;
}

static void setup(void)
{
	daemon_.n = scratch_node();
	/* what strata serve registers: transfer steps and report checks after a batch */
	if (transfer_observe(daemon_.n) < 0 || report_observe(daemon_.n) < 0)
		abort();
	daemon_.o = &opts;
	daemon_.started_ms = node_now_ms();
	if (!(daemon_.ctx = zmq_ctx_new()) || !(daemon_.router = zmq_socket(daemon_.ctx, ZMQ_ROUTER)) ||
	    !(daemon_.dealer = zmq_socket(daemon_.ctx, ZMQ_DEALER)) || !(sink = zmq_socket(daemon_.ctx, ZMQ_ROUTER)) ||
	    zmq_bind(sink, "inproc://fuzz-parent") != 0 || zmq_connect(daemon_.dealer, "inproc://fuzz-parent") != 0)
		abort();
	zmq_setsockopt(daemon_.router, ZMQ_LINGER, &(int){0}, sizeof(int));
	zmq_setsockopt(daemon_.dealer, ZMQ_LINGER, &(int){0}, sizeof(int));
	zmq_setsockopt(sink, ZMQ_LINGER, &(int){0}, sizeof(int));
	scratch_public(SCRATCH_PARENT, parent_key);
	memcpy(conn_key[0], parent_key, KEY_BYTES);
	scratch_public(SCRATCH_CHILD, conn_key[1]);
	scratch_public(SCRATCH_PEER, conn_key[2]);
	scratch_invite_curve(conn_key[3]);
	scratch_public(SCRATCH_ROTATOR, conn_key[4]);
	scratch_public(SCRATCH_NEWKEY, conn_key[5]);
	memcpy(new_key, conn_key[5], KEY_BYTES);
	token.endpoint = "tcp://127.0.0.1:7399";
	token.parent = (ProtobufCBinaryData){KEY_BYTES, parent_key};
	token.root = (ProtobufCBinaryData){KEY_BYTES, parent_key};
	token.secret = (ProtobufCBinaryData){SEED_BYTES, secret};
	token.expires_ms = 4102444800000ull;
	token.name = SCRATCH_ROOT_NAME;
	token.role = STRATA__ROLE__ROLE_CHILD;
	atexit(daemon_cleanup); /* runs before the node's cleanup */
}

static void new_parent(void)
{
	sync_link_free(&daemon_.parent);
	if (!(daemon_.parent = sync_link_new(&daemon_, LINK_PARENT)))
		abort();
	memcpy(daemon_.parent->key, parent_key, KEY_BYTES);
	snprintf(daemon_.parent->name, sizeof daemon_.parent->name, "tcp://127.0.0.1:7399");
}

/* A valid Hello from KEY with no heads. */
static Strata__Frame *hello_from(const uint8_t key[KEY_BYTES])
{
	static Strata__Hello h;
	static Strata__Frame f;

	strata__hello__init(&h);
	strata__frame__init(&f);
	h.version = SYNC_PROTOCOL_VERSION;
	h.node = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)key};
	h.name = "hello";
	f.msg_case = STRATA__FRAME__MSG_HELLO;
	f.hello = &h;
	return &f;
}

/* What sync_join and sync_rotate do with the parent's answer. */
static void answer(Strata__Frame *f)
{
	struct err e = {{0}};
	int ret = 0;

	if (f->msg_case == STRATA__FRAME__MSG_JOIN_REPLY)
		ret = sync_join_check_reply(daemon_.n, &token, f->join_reply, &e);
	else if (f->msg_case == STRATA__FRAME__MSG_ROTATE_REPLY)
		ret = sync_rotate_check_reply(daemon_.n, parent_key, new_key, f->rotate_reply, &e);
	if (ret < 0 && !e.msg[0])
		abort(); /* every refusal has a reason */
}

static void deliver(unsigned conn, const char *uid, Strata__Frame *f)
{
	static const uint8_t rid[] = {0, 0x6b, 0x8b, 0x45, 0x67};

	if (conn == 0)
		sync_link_on_frame(daemon_.parent, f);
	else
		sync_on_child_frame(&daemon_, rid, sizeof rid, uid, f);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	uint8_t key[KEY_BYTES];
	char uid[80] = "";
	unsigned conn;
	size_t frames = 0;

	if (!daemon_.n)
		setup();
	if (n < 1)
		return 0;
	conn = d[0] & 7;
	new_parent();
	if (conn < 6)
		memcpy(key, conn_key[conn], KEY_BYTES);
	else
		memset(key, 0, sizeof key);
	if (conn == 3) {
		memcpy(uid, "invite:", 7);
		hex_encode(uid + 7, key, KEY_BYTES);
	} else if (conn <= 5) {
		memcpy(uid, "key:", 4);
		hex_encode(uid + 4, key, KEY_BYTES);
	}
	if ((d[0] & 0x18) == 8)
		deliver(conn, uid, hello_from(key));
	for (size_t at = 1; at + 2 <= n && frames < MAX_FRAMES; frames++) {
		size_t len = (size_t)d[at] << 8 | d[at + 1];
		Strata__Frame *f = NULL;
		struct err e = {{0}};

		at += 2;
		if (len > n - at)
			len = n - at;
		if (sync_frame_decode(d + at, len, &f, &e) == 0) {
			if (d[0] & 0x10)
				answer(f);
			else
				deliver(conn, uid, f);
			strata__frame__free_unpacked(f, NULL);
		} else if (!e.msg[0]) {
			abort(); /* every refusal has a reason */
		}
		at += len;
	}
	sync_drop_children(&daemon_);
	drain();
	return 0;
}
