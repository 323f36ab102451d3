/* SPDX-License-Identifier: MIT */
/*
 * Replication on one link. Both sides open with Hello (the heads of every
 * feed the other side may send them); each then streams what the other
 * lacks, oldest first and trust feeds before data feeds, in batches bounded
 * in entries and bytes with at most SYNC_WINDOW unacknowledged. The receiver
 * verifies and stores a whole batch in one transaction and acknowledges it
 * with its new heads. Anything refused is answered with an Error naming the
 * entry; a gap is answered with a Want. Heads are the only cursor, so a
 * restart or a week offline resumes exactly where it stopped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node/sync/sync_internal.h"
#include "protocol/protocol.h"

static void on_hello(struct link *l, const Strata__Hello *h)
{
	struct daemon *d = l->d;
	struct store_txn *t = NULL;
	struct err e = {0};

	if (h->version != SYNC_PROTOCOL_VERSION) {
		sync_link_send_error(l, EPROTONOSUPPORT, "protocol version not supported (this node speaks 1)", NULL, NULL, 0);
		return;
	}
	if (h->node.len != KEY_BYTES || memcmp(h->node.data, sync_link_key(l), KEY_BYTES) != 0) {
		sync_link_send_error(l, EACCES, "hello names a key other than the one this connection authenticated", NULL,
				NULL, 0);
		if (sync_link_refusal_allow(l, sync_clock_ms()))
			sync_log(d, "refused a hello from %s: it names another key", sync_link_name(l));
		return;
	}
	if (sync_link_kind(l) == LINK_PARENT)
		snprintf(l->name, sizeof l->name, "%s", h->name);
	l->zstd = l->elide = l->ckpt = false;
	for (size_t i = 0; i < h->n_accept; i++) {
		l->zstd |= strcmp(h->accept[i], "zstd") == 0;
		l->elide |= strcmp(h->accept[i], "elide") == 0;
		l->ckpt |= strcmp(h->accept[i], "ckpt") == 0;
	}
	l->ckpt_full = true; /* every note is looked at once it is caught up */
	sync_link_sent_clear(l);
	l->inflight = 0;
	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0) {
		sync_log(d, "cannot read the store: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < h->n_heads; i++) {
		const Strata__Head *hd = h->heads[i];
		struct feedmap_val *v;

		if (hd->author.len != KEY_BYTES || strlen(hd->feed) > LIMIT_NAME_BYTES)
			continue;
		if ((v = sync_link_sent_get(l, hd->author.data, hd->feed))) {
			uint8_t mine[HASH_BYTES];
			const uint8_t *b;
			size_t bl;
			struct err ig = {0};

			v->seq = hd->seq;
			/* the same seq with another hash: send ours, the receiver sees the fork */
			if (hd->seq && hd->has_hash && hd->hash.len == HASH_BYTES &&
			    store_log_get(t, hd->author.data, hd->feed, hd->seq, &b, &bl, mine, &ig) == 0 &&
			    memcmp(mine, hd->hash.data, HASH_BYTES) != 0)
				v->seq = hd->seq - 1;
		}
	}
	store_txn_abort(&t);
	if (!sync_link_up(l))
		sync_log(d, "link %s %s is up", sync_link_kind(l) == LINK_PARENT ? "to parent" : "from", sync_link_name(l));
	sync_link_set_up(l, true);
	l->refused_hello = false;
	l->since_ms = node_now_ms();
	/* A child that says hello again reset its side (it found the link
	 * dead while the connection lived on): it needs our heads again. */
	if (!l->hello_sent || sync_link_kind(l) == LINK_CHILD)
		sync_link_send_hello(l);
	if (sync_link_kind(l) == LINK_PARENT)
		sync_evidence_send_all(l);
	sync_heads_on_hello(l, h); /* our own feeds, where it holds more than we do */
	sync_link_pump(l);
}

static void on_ack(struct link *l, const Strata__Ack *a)
{
	if (l->inflight)
		l->inflight--;
	if (a->refused)
		for (size_t i = 0; i < a->n_heads; i++) {
			const Strata__Head *h = a->heads[i];
			struct feedmap_val *v;

			if (h->author.len == KEY_BYTES && (v = sync_link_sent_find(l, h->author.data, h->feed)) &&
			    h->seq < v->seq)
				v->seq = h->seq; /* the truth, for when the stall ends */
		}
	sync_link_pump(l);
}

static void on_want(struct link *l, const Strata__Want *w)
{
	struct feedmap_val *v;

	if (w->author.len != KEY_BYTES || w->from == 0 || strlen(w->feed) > LIMIT_NAME_BYTES)
		return;
	if ((v = sync_link_sent_get(l, w->author.data, w->feed))) {
		v->seq = w->from - 1;
		v->stalled_until = 0;
		/* a node asking for its own feed: its store was put back (heads.c) */
		if (memcmp(w->author.data, sync_link_key(l), KEY_BYTES) == 0)
			v->give_back = true;
	}
	sync_link_pump(l);
}

static void on_error(struct link *l, const Strata__Error *er)
{
	struct daemon *d = l->d;
	struct feedmap_val *v;

	snprintf(l->last_error, sizeof l->last_error, "%s", er->reason);
	l->last_error_ms = node_now_ms();
	sync_link_count(l, LINK_REFUSALS_RECEIVED, 1);
	if (sync_link_refusal_allow(l, sync_clock_ms()))
		sync_log(d, "%s refused: %s", sync_link_name(l), er->reason);
	if (er->code == EACCES && !er->has_author && sync_link_kind(l) == LINK_PARENT) {
		/* The parent refused this node itself (its key was revoked, say):
		 * stop replicating, and ask again only after a long wait, not with
		 * every ping (sweep). */
		sync_link_reset(l);
		l->refused_hello = true;
		return;
	}
	if (er->code == ENOTCONN && sync_link_kind(l) == LINK_PARENT) {
		/* The parent dropped this link (silent too long) while the
		 * connection lived on: start over with a hello. At most one per
		 * SYNC_PING_MS, and none while a refused hello waits (a parent
		 * that refuses the hello itself answers EACCES, above). */
		if (!l->refused_hello && sync_clock_ms() - l->hello_at > SYNC_PING_MS) {
			sync_link_reset(l);
			sync_link_send_hello(l);
		}
		return;
	}
	if (!er->has_author && (er->code == ENOSPC || er->code == EIO)) {
		/* It could store nothing of a batch (its disk is full): resending
		 * at once would only be refused again, as fast as the link goes.
		 * Wait, then send again what it lacks; the sweep pumps every link
		 * each second. */
		l->paused_until = sync_clock_ms() + SYNC_PAUSE_MS;
		return;
	}
	if (er->has_author && er->author.len == KEY_BYTES && er->feed &&
	    (v = sync_link_sent_get(l, er->author.data, er->feed))) {
		if (er->has_seq && er->seq && er->seq - 1 < v->seq)
			v->seq = er->seq - 1;
		v->stalled_until = sync_clock_ms() + SYNC_STALL_MS;
	}
}

void sync_link_on_frame(struct link *l, Strata__Frame *f)
{
	sync_link_heard(l);
	if (!sync_link_up(l) && f->msg_case != STRATA__FRAME__MSG_HELLO && f->msg_case != STRATA__FRAME__MSG_PING &&
	    f->msg_case != STRATA__FRAME__MSG_ERROR) {
		if (sync_link_refusal_allow(l, l->rx_at))
			sync_link_send_error(l, ENOTCONN, "say hello first", NULL, NULL, 0);
		return;
	}
	switch (f->msg_case) {
	case STRATA__FRAME__MSG_HELLO: on_hello(l, f->hello); break;
	case STRATA__FRAME__MSG_ENTRIES: sync_on_entries(l, f->entries); break;
	case STRATA__FRAME__MSG_ACK: on_ack(l, f->ack); break;
	case STRATA__FRAME__MSG_WANT: on_want(l, f->want); break;
	case STRATA__FRAME__MSG_ERROR: on_error(l, f->error); break;
	case STRATA__FRAME__MSG_EVIDENCE: sync_evidence_on_frame(l, f->evidence); break;
	case STRATA__FRAME__MSG_CHECKPOINT: sync_ckpt_on_frame(l, f->checkpoint); break;
	case STRATA__FRAME__MSG_PING: break;
	default:
		if (sync_link_refusal_allow(l, l->rx_at)) {
			sync_log(l->d, "refused a message from %s: unexpected on an established link", sync_link_name(l));
			sync_link_send_error(l, EPROTO, "unexpected message on an established link", NULL, NULL, 0);
		}
		break;
	}
}
