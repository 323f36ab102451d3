/* SPDX-License-Identifier: MIT */
/*
 * Sending on one link: the Hello with this node's heads, and the push of
 * what the other side lacks (routing permitting), oldest first and trust
 * feeds before data feeds, in batches bounded in entries and bytes with at
 * most SYNC_WINDOW unacknowledged.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node/sync/sync_internal.h"
#include "protocol/protocol.h"

/* --- sending --- */

void sync_link_send_hello(struct link *l)
{
	struct daemon *d = l->d;
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Hello h = STRATA__HELLO__INIT;
	struct {
		struct store_head *v;
		size_t n;
	} heads = {0};
	Strata__Head *hv = NULL, **hp = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	size_t n = 0;

	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0 ||
	    store_heads_list(t, &heads.v, &heads.n, &e) < 0) {
		sync_log(d, "cannot read heads for a hello: %s", e.msg);
		goto out;
	}
	hv = calloc(heads.n ? heads.n : 1, sizeof *hv);
	hp = calloc(heads.n ? heads.n : 1, sizeof *hp);
	if (!hv || !hp)
		goto out;
	for (size_t i = 0; i < heads.n; i++) {
		struct store_head *sh = &heads.v[i];

		if (!sync_route_accept(d, t, l, sh->author, sh->feed))
			continue;
		strata__head__init(&hv[n]);
		hv[n].author.data = sh->author;
		hv[n].author.len = KEY_BYTES;
		hv[n].feed = sh->feed;
		hv[n].seq = sh->seq;
		hv[n].has_hash = 1;
		hv[n].hash.data = sh->hash;
		hv[n].hash.len = HASH_BYTES;
		hp[n] = &hv[n];
		n++;
	}
	h.version = SYNC_PROTOCOL_VERSION;
	h.node.data = (uint8_t *)node_id(d->n);
	h.node.len = KEY_BYTES;
	h.name = (char *)node_name(d->n);
	h.n_heads = n;
	h.heads = hp;
	h.n_accept = 3;
	h.accept = (char *[]){"zstd", "elide", "ckpt"};
	f.msg_case = STRATA__FRAME__MSG_HELLO;
	f.hello = &h;
	if (sync_link_send(l, &f) == 0) {
		l->hello_sent = true;
		l->hello_at = sync_clock_ms();
	}
out:
	store_txn_abort(&t);
	free(hv);
	free(hp);
	free(heads.v);
}

struct batch {
	ProtobufCBinaryData *env;
	size_t n, cap, bytes;
	uint64_t last_seq;
};

static int add_entry(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg)
{
	struct batch *b = arg;

	(void)hash;
	if (b->n >= SYNC_BATCH_ENTRIES || (b->n && b->bytes + len > SYNC_BATCH_BYTES))
		return 1; /* full */
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		ProtobufCBinaryData *v = realloc(b->env, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		b->env = v;
		b->cap = cap;
	}
	b->env[b->n].data = (uint8_t *)bytes; /* valid while the read transaction lives */
	b->env[b->n].len = len;
	b->n++;
	b->bytes += len;
	b->last_seq = seq;
	return 0;
}

static size_t name_depth(struct daemon *d, struct store_txn *t, const uint8_t *key)
{
	char name[NODE_NAME_SIZE];
	size_t n = 1;

	if (node_key_name(d->n, t, key, name) < 0)
		return 1000;
	for (const char *p = name; *p; p++)
		n += *p == '/';
	return n;
}

/* Adds what link l lacks of head h to the batch; true if the batch is full. */
static bool fill_from(struct link *l, struct store_txn *t, const struct store_head *h, struct batch *b, uint64_t now)
{
	struct feedmap_val *v;
	struct err e = {0};
	int ret;

	if (h->flags & STORE_FEED_FROZEN)
		return false; /* an equivocating feed goes no further */
	if (!(v = sync_link_sent_get(l, h->author, h->feed)))
		return false;
	if (v->seq >= h->seq) {
		v->give_back = false; /* it holds all of its own feed again */
		return false;
	}
	if (v->stalled_until > now)
		return false;
	if (!sync_route_send(l->d, t, l, h->author, h->feed) && !sync_heads_give_back(l, v, h->author))
		return false;
	b->last_seq = v->seq;
	ret = store_log_each(t, h->author, h->feed, v->seq + 1, h->seq, add_entry, b, &e);
	if (ret < 0) {
		sync_log(l->d, "cannot read %s entries for %s: %s", h->feed, sync_link_name(l), e.msg);
		return false;
	}
	v->seq = b->last_seq;
	return ret == 1;
}

struct ranked {
	size_t i, depth;
};

static int by_depth(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	return (x->depth > y->depth) - (x->depth < y->depth);
}

void sync_link_pump(struct link *l)
{
	struct daemon *d = l->d;
	struct {
		struct store_head *v;
		size_t n;
	} heads = {0};
	struct store_txn *t = NULL;
	struct batch b = {0};
	struct ranked *trust = NULL;
	size_t ntrust = 0;
	uint64_t now = sync_clock_ms();
	struct err e = {0};

	if (!sync_link_up(l) || l->inflight >= SYNC_WINDOW || l->paused_until > now)
		return;
	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0 ||
	    store_heads_list(t, &heads.v, &heads.n, &e) < 0) {
		sync_log(d, "cannot read heads: %s", e.msg);
		goto out;
	}
	/* Trust feeds first, the root's before its children's, so that every
	 * certificate arrives before the entries it vouches for. */
	if (!(trust = calloc(heads.n ? heads.n : 1, sizeof *trust)))
		goto out;
	for (size_t i = 0; i < heads.n; i++)
		if (strcmp(heads.v[i].feed, FEED_TRUST) == 0)
			trust[ntrust++] = (struct ranked){.i = i, .depth = name_depth(d, t, heads.v[i].author)};
	qsort(trust, ntrust, sizeof *trust, by_depth);
	while (l->inflight < SYNC_WINDOW) {
		Strata__Frame f = STRATA__FRAME__INIT;
		Strata__Entries en = STRATA__ENTRIES__INIT;
		bool full = false, had_trust = false;

		b.n = b.bytes = 0;
		for (size_t i = 0; i < ntrust && !full; i++)
			full = fill_from(l, t, &heads.v[trust[i].i], &b, now);
		had_trust = b.n > 0;
		for (size_t i = 0; i < heads.n && !full && !had_trust; i++)
			if (strcmp(heads.v[i].feed, FEED_TRUST) != 0)
				full = fill_from(l, t, &heads.v[i], &b, now);
		if (b.n == 0)
			break;
		en.batch = ++d->batch_seq;
		en.n_envelopes = b.n;
		en.envelopes = b.env;
		f.msg_case = STRATA__FRAME__MSG_ENTRIES;
		f.entries = &en;
		if (sync_link_send(l, &f) < 0) {
			sync_log(d, "cannot send to %s; will resend after it reconnects", sync_link_name(l));
			sync_link_set_up(l, false);
			break;
		}
		l->inflight++;
		sync_link_count(l, LINK_BATCHES, 1);
		sync_link_count(l, LINK_ENTRIES_SENT, b.n);
		if (d->o->verbose)
			sync_log(d, "sent batch %llu of %zu entries to %s", (unsigned long long)en.batch, b.n, sync_link_name(l));
	}
out:
	store_txn_abort(&t);
	free(b.env);
	free(trust);
	free(heads.v);
	/* caught up (everything sent was stored): the feeds' checkpoints */
	if (l->inflight == 0 && l->ckpt && sync_link_up(l))
		sync_ckpt_send(l);
}

void sync_pump_all(struct daemon *d)
{
	if (d->parent)
		sync_link_pump(d->parent);
	for (size_t i = 0; i < d->nchildren; i++)
		sync_link_pump(d->children[i]);
}
