/* SPDX-License-Identifier: MIT */
/*
 * The parent side of a request for a certificate, one path for a Join
 * (join.c) and a Rotate (rotate.c): refuse with a logged reason, or write
 * what the request grants in the trust feed and answer with that entry
 * exactly as stored.
 */
#include <errno.h>
#include <stdio.h>

#include "node/sync/sync_internal.h"

void sync_certify_refuse(struct daemon *d, const uint8_t *rid, size_t rid_len, const struct sync_certify *c,
			 const char *reason)
{
	sync_conn_send_error(d, rid, rid_len, EACCES, reason);
	if (sync_frame_refusal_allow(d, sync_clock_ms()))
		sync_log(d, "refused %s%s%s: %s", c->what, c->who ? " of " : "", c->who ? c->who : "", reason);
}

/* Answers with this node's trust entry at seq, exactly as stored (a Join
 * gets the root too). */
static void answer(struct daemon *d, const uint8_t *rid, size_t rid_len, const struct sync_certify *c,
		   uint64_t seq)
{
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__JoinReply jr = STRATA__JOIN_REPLY__INIT;
	Strata__RotateReply rr = STRATA__ROTATE_REPLY__INIT;
	struct store_txn *t;
	const uint8_t *env;
	size_t env_len;
	struct err e = {0};

	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0)
		return;
	if (store_log_get(t, node_id(d->n), FEED_TRUST, seq, &env, &env_len, NULL, &e) == 0) {
		f.msg_case = c->reply;
		if (c->reply == STRATA__FRAME__MSG_JOIN_REPLY) {
			jr.certificate = (ProtobufCBinaryData){env_len, (uint8_t *)env};
			jr.root = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)node_root(d->n)};
			f.join_reply = &jr;
		} else {
			rr.certificate = (ProtobufCBinaryData){env_len, (uint8_t *)env};
			f.rotate_reply = &rr;
		}
		sync_conn_send(d, rid, rid_len, &f);
	}
	store_txn_abort(&t);
}

bool sync_certify(struct daemon *d, const uint8_t *rid, size_t rid_len, struct sync_certify *c)
{
	struct node_writer *w = NULL;
	char reason[SYNC_REASON_MAX];
	uint64_t seq = 0;
	struct err e = {0};

	if (node_writer_begin(d->n, FEED_TRUST, &w, &e) < 0) {
		snprintf(reason, sizeof reason, "the parent cannot write now: %s", e.msg);
		sync_certify_refuse(d, rid, rid_len, c, reason);
		return false;
	}
	if (c->grant(d, &w, c, &seq, reason, sizeof reason) < 0) {
		node_writer_abort(&w);
		sync_certify_refuse(d, rid, rid_len, c, reason);
		return false;
	}
	node_writer_abort(&w);
	answer(d, rid, rid_len, c, seq);
	return true;
}
