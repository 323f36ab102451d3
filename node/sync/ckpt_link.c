/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints on links (issue 15; docs/PROTOCOL.md "Links" and
 * "Checkpoints and proofs"). A side whose Hello accepts "ckpt" is sent,
 * once nothing is in flight to it (everything sent was stored), the held
 * signed note of each feed routed to it whose entries it holds up to the
 * note's size (the newest, and the newest witnessed one when they differ),
 * and the notes of feeds whose author is that side or below it (so that
 * the witnesses' cosignatures come back to the author). What a side got or
 * sent is remembered per feed (size, length: a note grows only by lines)
 * and not sent again. This node's own feeds are signed first, at most once
 * per SYNC_CKPT_SIGN_MS each; one that had to wait is signed by the sweep
 * (the final one of a catch-up, once the link is idle). A link looks only
 * at the feeds whose notes changed since it last looked (a ring of the
 * last SYNC_CKPT_RING changes), and at every held note after its Hello,
 * while a note waits for its entries, after a notify and every
 * SYNC_CKPT_RESCAN seconds (notes another process stored): at a city
 * holding thousands of feeds a note received costs each link one lookup. Received notes are
 * queued and taken in one write transaction per turn of the loop
 * (node_checkpoint_ingest, which co-signs where this node is a witness).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/checkpoint.h"
#include "node/sync/sync_internal.h"
#include "protocol/protocol.h"

struct ckpt_in {
	struct link *l;             /* NULL: the link went away */
	uint8_t *note;
	size_t len;
	enum node_ckpt_outcome out;
	int ret;
	struct err why;
};

void sync_ckpt_on_frame(struct link *l, const Strata__Checkpoint *c)
{
	struct daemon *d = l->d;
	struct ckpt_in *q;

	if (c->note.len == 0 || c->note.len > NOTE_MAX) {
		if (sync_link_refusal_allow(l, sync_clock_ms()))
			sync_link_send_error(l, EMSGSIZE, "a checkpoint note holds 1 to 8192 bytes", NULL, NULL, 0);
		return;
	}
	if (d->ckpt_n == d->ckpt_cap) {
		size_t cap = d->ckpt_cap ? 2 * d->ckpt_cap : 16;

		if (!(q = realloc(d->ckpt_q, cap * sizeof *q)))
			return;
		d->ckpt_q = q;
		d->ckpt_cap = cap;
	}
	q = &d->ckpt_q[d->ckpt_n];
	memset(q, 0, sizeof *q);
	if (!(q->note = malloc(c->note.len)))
		return;
	memcpy(q->note, c->note.data, c->note.len);
	q->len = c->note.len;
	q->l = l;
	d->ckpt_n++;
	if (d->ckpt_n >= SYNC_CKPT_BATCH)
		sync_ckpt_flush(d);
}

/* The notes of (author, feed) changed: the links look at them next time. */
static void note_changed(struct daemon *d, const uint8_t author[KEY_BYTES], const char *feed)
{
	struct ckpt_change *c = &d->ckpt_ring[d->ckpt_seq++ % SYNC_CKPT_RING];

	memcpy(c->author, author, KEY_BYTES);
	snprintf(c->feed, sizeof c->feed, "%s", feed);
}

void sync_ckpt_forget(struct daemon *d, const struct link *l)
{
	for (size_t i = 0; i < d->ckpt_n; i++)
		if (d->ckpt_q[i].l == l)
			d->ckpt_q[i].l = NULL;
}

/* Logs the alarm for an inconsistent note of (author, feed) at size once,
 * and passes it to the parent as evidence (the parent checks it against
 * the entries it holds). */
static void alarm(struct daemon *d, const uint8_t *note, size_t len)
{
	Strata__Evidence ev = STRATA__EVIDENCE__INIT;
	Strata__Frame f = STRATA__FRAME__INIT;
	struct store_txn *t = NULL;
	char who[KEY_HEX], name[NODE_NAME_SIZE] = "";
	struct note n;
	struct feedmap_val *v;

	if (note_parse((const char *)note, len, &n, &(struct err){0}) < 0)
		return;
	if ((v = sync_feedmap_get(&d->ckpt_alarm, n.cp.author, n.cp.feed))) {
		if (v->seq == n.cp.size)
			return;
		v->seq = n.cp.size;
	}
	if (store_txn_begin(node_store(d->n), false, &t, &(struct err){0}) == 0)
		node_key_name(d->n, t, n.cp.author, name);
	store_txn_abort(&t);
	key_hex(who, n.cp.author);
	sync_log(d, "ALARM: inconsistent checkpoint: %s (%s) signed a checkpoint of %s at size %llu whose root is not "
		    "the tree of the entries held; the feed is frozen and the note goes to the parent",
		 name[0] ? name : "unknown", who, n.cp.feed, (unsigned long long)n.cp.size);
	if (d->parent && sync_link_up(d->parent)) {
		ev.first.data = (uint8_t *)note;
		ev.first.len = len;
		ev.has_checkpoint = 1;
		ev.checkpoint = 1;
		f.msg_case = STRATA__FRAME__MSG_EVIDENCE;
		f.evidence = &ev;
		sync_link_send(d->parent, &f);
	}
}

/* What a taken note means for its link: a refusal answered, an alarm, or
 * the link's map told what it holds. true when the held notes changed. */
static bool answer(struct daemon *d, struct ckpt_in *q)
{
	struct link *l = q->l;
	struct note n;
	struct feedmap_val *v;
	char reason[SYNC_REASON_MAX];

	if (q->ret < 0 || q->out == NODE_CKPT_INCONSISTENT) {
		if (q->ret < 0)
			snprintf(reason, sizeof reason, "checkpoint refused: %s", q->why.msg);
		else
			snprintf(reason, sizeof reason, "checkpoint refused: its root is not the tree of the entries "
							"held here; kept as evidence, the feed is frozen");
		if (sync_link_refusal_allow(l, sync_clock_ms())) {
			/* never EACCES: from a parent that means this node itself is refused */
			sync_link_send_error(l, q->ret < 0 ? EBADMSG : EBADE, reason, NULL, NULL, 0);
			if (q->ret < 0)
				sync_log(d, "refused a checkpoint from %s: %s", sync_link_name(l), q->why.msg);
		}
		if (q->out == NODE_CKPT_INCONSISTENT && q->ret == 0)
			alarm(d, q->note, q->len);
		return q->out == NODE_CKPT_INCONSISTENT && q->ret == 0;
	}
	if (note_parse((const char *)q->note, q->len, &n, &(struct err){0}) == 0 &&
	    (v = sync_link_sent_get(l, n.cp.author, n.cp.feed)) &&
	    (n.cp.size > v->ckpt_size || (n.cp.size == v->ckpt_size && q->len > v->ckpt_len))) {
		v->ckpt_size = n.cp.size; /* it has this one: not sent back as it is */
		v->ckpt_len = q->len;
	}
	if (q->out == NODE_CKPT_STORED && note_parse((const char *)q->note, q->len, &n, &(struct err){0}) == 0)
		note_changed(d, n.cp.author, n.cp.feed);
	return q->out == NODE_CKPT_STORED;
}

void sync_ckpt_flush(struct daemon *d)
{
	struct store_txn *t = NULL;
	struct err e = {0};
	bool changed = false;
	size_t n = d->ckpt_n;
	int ret = 0;

	if (!n)
		return;
	if ((ret = store_txn_begin(node_store(d->n), true, &t, &e)) < 0)
		goto out;
	for (size_t i = 0; i < n && ret >= 0; i++) {
		struct ckpt_in *q = &d->ckpt_q[i];

		if (!q->l)
			continue;
		q->ret = node_checkpoint_ingest(d->n, t, q->note, q->len, true, &q->out, &q->why);
		if (q->ret == -ENOSPC || q->ret == -EIO || q->ret == -ENOMEM || q->ret == -EMSGSIZE) {
			ret = q->ret;
			e = q->why;
		}
	}
	if (ret < 0 || (ret = store_txn_commit(&t, &e)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (d->ckpt_q[i].l)
			changed |= answer(d, &d->ckpt_q[i]);
out:
	if (ret < 0)
		sync_log(d, "cannot keep %zu checkpoint(s) received: %s", n, e.msg);
	store_txn_abort(&t);
	for (size_t i = 0; i < n; i++)
		free(d->ckpt_q[i].note);
	d->ckpt_n = 0;
	if (changed)
		sync_pump_all(d); /* passed on to the links that are caught up */
}

/* --- signing this node's own feeds --- */

/* The feeds a node writes (protocol.h): its own feeds are looked up by
 * name, not found among every head it holds (a city holds thousands). */
static const char *const own_feeds[] = {FEED_UP, FEED_REPORT, FEED_DOWN, FEED_NOTICE, FEED_TRUST, FEED_PRIVATE};
#define OWN_FEEDS (sizeof own_feeds / sizeof own_feeds[0])

/* Own feeds whose newest held checkpoint is smaller than their head: the
 * ones whose last signature is SYNC_CKPT_SIGN_MS old are signed (and noted
 * as changed for the links), the others marked due. */
static void sign_own(struct daemon *d)
{
	const char *todo[OWN_FEEDS];
	size_t ntodo = 0;
	struct store_txn *t = NULL;
	uint64_t now = sync_clock_ms();
	struct err e = {0};
	bool signed_all = false;

	/* looked at once a second at most: a signature is no more frequent, and
	 * a link that catches up calls this after every batch */
	if (d->ckpt_own_at && now - d->ckpt_own_at < SYNC_CKPT_SIGN_MS)
		return;
	d->ckpt_own_at = now;
	/* node_checkpoint_sign_own keeps the fence and frozen feeds; looking
	 * here first spares a write transaction a second while they hold */
	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0 || node_fence_check(d->n, t, &e) < 0)
		goto out;
	for (size_t i = 0; i < OWN_FEEDS; i++) {
		struct store_head h;
		const uint8_t *b;
		size_t len;
		struct note held;
		struct feedmap_val *v;

		if (store_head_get(t, node_id(d->n), own_feeds[i], &h, &(struct err){0}) < 0 || !h.seq ||
		    (h.flags & STORE_FEED_FROZEN))
			continue;
		if (node_checkpoint_get(t, h.author, h.feed, false, &b, &len, &(struct err){0}) == 0 &&
		    note_parse((const char *)b, len, &held, &(struct err){0}) == 0 && held.cp.size >= h.seq)
			continue;
		if (!(v = sync_feedmap_get(&d->ckpt_own, h.author, h.feed)))
			continue;
		if (v->signed_at && now - v->signed_at < SYNC_CKPT_SIGN_MS) {
			v->sign_due = true;
			continue;
		}
		v->signed_at = now;
		v->sign_due = false;
		todo[ntodo++] = own_feeds[i];
	}
	store_txn_abort(&t);
	if (!ntodo || store_txn_begin(node_store(d->n), true, &t, &e) < 0)
		goto out;
	for (size_t i = 0; i < ntodo; i++)
		if (node_checkpoint_sign_own(d->n, t, todo[i], &e) < 0)
			goto out;
	if (store_txn_commit(&t, &e) == 0) {
		signed_all = true;
		for (size_t i = 0; i < ntodo; i++)
			note_changed(d, node_id(d->n), todo[i]);
	}
out:
	if (e.msg[0] && ntodo && !signed_all)
		sync_log(d, "cannot sign a checkpoint of this node's feeds: %s", e.msg);
	store_txn_abort(&t);
}

/* --- sending --- */

struct send_walk {
	struct link *l;
	struct store_txn *t;
	bool witnessed;
	bool deferred;     /* a note waits for the link to hold its entries */
};

static int send_note(const uint8_t author[KEY_BYTES], const char *feed, const uint8_t *note, size_t len, void *arg)
{
	struct send_walk *w = arg;
	struct link *l = w->l;
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Checkpoint c = STRATA__CHECKPOINT__INIT;
	struct store_head h;
	struct feedmap_val *v;
	struct note n;
	uint64_t *size;
	size_t *plen;
	bool toward;

	if (note_parse((const char *)note, len, &n, &(struct err){0}) < 0)
		return 0;
	if (store_head_get(w->t, author, feed, &h, &(struct err){0}) == 0 && (h.flags & STORE_FEED_FROZEN))
		return 0; /* a frozen feed goes no further, nor do its checkpoints */
	toward = sync_route_toward(l->d, w->t, l, author);
	if (!toward && !sync_route_send(l->d, w->t, l, author, feed))
		return 0;
	if (!(v = sync_link_sent_get(l, author, feed)))
		return 0;
	if (!toward && v->seq < n.cp.size) {
		w->deferred = true; /* its entries first */
		return 0;
	}
	size = w->witnessed ? &v->wit_size : &v->ckpt_size;
	plen = w->witnessed ? &v->wit_len : &v->ckpt_len;
	if (n.cp.size < *size || (n.cp.size == *size && len <= *plen))
		return 0;
	if (w->witnessed && n.cp.size == v->ckpt_size && len == v->ckpt_len) {
		*size = n.cp.size; /* the newest was this one: it has it */
		*plen = len;
		return 0;
	}
	c.note.data = (uint8_t *)note;
	c.note.len = len;
	f.msg_case = STRATA__FRAME__MSG_CHECKPOINT;
	f.checkpoint = &c;
	if (sync_link_send(l, &f) == 0) {
		*size = n.cp.size;
		*plen = len;
	}
	return 0;
}

/* Sends l the held notes of the feeds changed since it last looked
 * (both indexes). */
static int send_changed(struct send_walk *w, uint64_t from, uint64_t to, struct err *e)
{
	struct daemon *d = w->l->d;

	for (uint64_t i = from; i < to; i++) {
		const struct ckpt_change *c = &d->ckpt_ring[i % SYNC_CKPT_RING];

		for (int k = 0; k < 2; k++) {
			const uint8_t *note;
			size_t len;
			int ret = node_checkpoint_get(w->t, c->author, c->feed, k == 1, &note, &len, e);

			if (ret == -ENOENT)
				continue;
			if (ret < 0)
				return ret;
			w->witnessed = k == 1;
			send_note(c->author, c->feed, note, len, w);
		}
	}
	return 0;
}

void sync_ckpt_send(struct link *l)
{
	struct daemon *d = l->d;
	struct send_walk w = {.l = l};
	uint64_t upto;
	struct err e = {0};
	int ret;

	sign_own(d);
	upto = d->ckpt_seq;
	if (!l->ckpt_full && l->ckpt_seen == upto)
		return; /* nothing changed since it last looked */
	if (d->ckpt_seq - l->ckpt_seen > SYNC_CKPT_RING)
		l->ckpt_full = true; /* more changed than remembered */
	if (store_txn_begin(node_store(d->n), false, &w.t, &e) < 0)
		return;
	if (l->ckpt_full)
		ret = node_checkpoint_each(w.t, false, send_note, &w, &e) < 0 ||
		      (w.witnessed = true, node_checkpoint_each(w.t, true, send_note, &w, &e) < 0);
	else
		ret = send_changed(&w, l->ckpt_seen, upto, &e) < 0;
	if (ret)
		sync_log(d, "cannot read the checkpoints held: %s", e.msg);
	store_txn_abort(&w.t);
	l->ckpt_seen = upto;
	/* notes that wait for their entries: every note is looked at next time */
	l->ckpt_full = w.deferred;
}

void sync_ckpt_sweep(struct daemon *d)
{
	/* Notes another process stored without a notify (an export signing
	 * fresh ones): looked at every SYNC_CKPT_RESCAN sweeps; a notify
	 * (an import) bumps the generation at once (sync_ckpt_changed). Own
	 * checkpoints that were due are signed by sync_ckpt_send either way. */
	if (++d->ckpt_sweeps % SYNC_CKPT_RESCAN == 0)
		sync_ckpt_changed(d);
	if (d->parent && d->parent->ckpt && sync_link_up(d->parent) && !d->parent->inflight)
		sync_ckpt_send(d->parent);
	for (size_t i = 0; i < d->nchildren; i++) {
		struct link *l = d->children[i];

		if (l->ckpt && sync_link_up(l) && !l->inflight)
			sync_ckpt_send(l);
	}
}

void sync_ckpt_changed(struct daemon *d)
{
	if (d->parent)
		d->parent->ckpt_full = true;
	for (size_t i = 0; i < d->nchildren; i++)
		d->children[i]->ckpt_full = true;
}

void sync_ckpt_evidence_on_frame(struct link *l, const Strata__Evidence *ev)
{
	struct daemon *d = l->d;
	struct store_txn *t = NULL;
	struct err e = {0};
	bool fresh = false;
	int ret;

	if ((ret = store_txn_begin(node_store(d->n), true, &t, &e)) == 0 &&
	    (ret = node_checkpoint_evidence(d->n, t, ev->first.data, ev->first.len, ev->second.data, ev->second.len,
					    &fresh, &e)) == 0)
		ret = store_txn_commit(&t, &e);
	store_txn_abort(&t);
	if (ret < 0) {
		if (sync_link_refusal_allow(l, sync_clock_ms()))
			sync_log(d, "refused evidence of an inconsistent checkpoint from %s: %s", sync_link_name(l), e.msg);
		return;
	}
	if (fresh)
		alarm(d, ev->first.data, ev->first.len);
}

void sync_ckpt_free(struct daemon *d)
{
	for (size_t i = 0; i < d->ckpt_n; i++)
		free(d->ckpt_q[i].note);
	free(d->ckpt_q);
	d->ckpt_q = NULL;
	d->ckpt_n = d->ckpt_cap = 0;
	sync_feedmap_clear(&d->ckpt_own);
	sync_feedmap_clear(&d->ckpt_alarm);
}
