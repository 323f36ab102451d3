/* SPDX-License-Identifier: MIT */
/*
 * Receiving a batch of entries on a link: every entry through the node's
 * ingest in one write transaction per batch, refusals answered (an Error
 * naming the entry, a Want for a gap), an Ack with the new heads, proofs
 * of equivocation recorded, then the node's observers (node_observe) and
 * the live push to the other links.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node/sync/rbatch.h"
#include "protocol/protocol.h"

struct touched {
	uint8_t author[KEY_BYTES];
	char feed[LIMIT_NAME_BYTES + 1];
};

static void note_touched(struct touched **v, size_t *n, const struct changeset *cs)
{
	struct touched *nv;

	for (size_t i = 0; i < *n; i++)
		if (memcmp((*v)[i].author, cs->author, KEY_BYTES) == 0 && strcmp((*v)[i].feed, cs->feed) == 0)
			return;
	if (!(nv = realloc(*v, (*n + 1) * sizeof *nv)))
		return;
	*v = nv;
	memcpy(nv[*n].author, cs->author, KEY_BYTES);
	snprintf(nv[*n].feed, sizeof nv[*n].feed, "%s", cs->feed);
	(*n)++;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	if (c && n)
		memcpy(c, p, n);
	return c;
}

static void send_ack(struct link *l, uint64_t batch, uint32_t stored, uint32_t dups, uint32_t refused,
		     const struct touched *tv, size_t nt)
{
	struct daemon *d = l->d;
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Ack a = STRATA__ACK__INIT;
	Strata__Head *hv = calloc(nt ? nt : 1, sizeof *hv);
	Strata__Head **hp = calloc(nt ? nt : 1, sizeof *hp);
	struct store_head *sh = calloc(nt ? nt : 1, sizeof *sh);
	struct store_txn *t = NULL;
	struct err e = {0};

	a.batch = batch;
	a.stored = stored;
	a.duplicates = dups;
	a.refused = refused;
	if (hv && hp && sh && store_txn_begin(node_store(d->n), false, &t, &e) == 0) {
		for (size_t i = 0; i < nt; i++) {
			int r = store_head_get(t, tv[i].author, tv[i].feed, &sh[i], &e);

			if (r < 0 && r != -ENOENT)
				continue;
			strata__head__init(&hv[a.n_heads]);
			hv[a.n_heads].author.data = (uint8_t *)tv[i].author;
			hv[a.n_heads].author.len = KEY_BYTES;
			hv[a.n_heads].feed = (char *)tv[i].feed;
			hv[a.n_heads].seq = sh[i].seq;
			hp[a.n_heads] = &hv[a.n_heads];
			a.n_heads++;
		}
		a.heads = hp;
	}
	store_txn_abort(&t);
	f.msg_case = STRATA__FRAME__MSG_ACK;
	f.ack = &a;
	sync_link_send(l, &f);
	free(hv);
	free(hp);
	free(sh);
}

static void send_want(struct link *l, const uint8_t *author, const char *feed, uint64_t from)
{
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Want w = STRATA__WANT__INIT;

	w.author.data = (uint8_t *)author;
	w.author.len = KEY_BYTES;
	w.feed = (char *)feed;
	w.from = from;
	w.to = 0;
	f.msg_case = STRATA__FRAME__MSG_WANT;
	f.want = &w;
	sync_link_send(l, &f);
}

static bool recently_refused(struct link *l, const struct changeset *cs, uint64_t now)
{
	struct feedmap_val *v = sync_link_refused_find(l, cs->author, cs->feed);

	return v && v->stalled_until > now;
}

static void mark_refused(struct link *l, const struct changeset *cs, uint64_t now)
{
	struct feedmap_val *v = sync_link_refused_get(l, cs->author, cs->feed);

	if (v)
		v->stalled_until = now + SYNC_STALL_MS;
}

/* What storing a batch gathers. */
struct batch_store {
	struct link *l;
	struct store_txn *t;
	struct changeset **cs;
	int *res;
	struct err *why;
	struct conflict *conf;
	size_t nconf;
	uint32_t stored, dups;
	uint64_t now;
	bool fatal;
	struct err fatal_why;
};

/* Stores prepared entry i if it is still to store; true when it was. */
static bool store_one(struct batch_store *b, size_t i)
{
	struct link *l = b->l;
	struct changeset **cs = b->cs;
	int *res = b->res;
	struct err *why = b->why;
	int r;

	if (!cs[i] || (res[i] != -EAGAIN && res[i] != -EACCES && res[i] != -ERANGE))
		return false;
	if (res[i] != -EAGAIN && recently_refused(l, cs[i], b->now))
		return false;
	memset(&why[i], 0, sizeof why[i]);
	/* Our own entries come back from any link (heads.c): signed by our
	 * key, they are ours, and a conflicting one is our own equivocation. */
	if (memcmp(cs[i]->author, node_id(l->d->n), KEY_BYTES) != 0 &&
	    !sync_route_accept(l->d, b->t, l, cs[i]->author, cs[i]->feed)) {
		err_set(&why[i], "feed %s of this author does not come through this link", cs[i]->feed);
		res[i] = -EPERM;
		return false;
	}
	r = node_ingest_changeset(l->d->n, b->t, cs[i], NODE_SIG_CHECKED | NODE_RECORDS_CHECKED, &why[i]);
	res[i] = r;
	if (r == 0) {
		b->stored++;
		return true;
	}
	if (r == -EALREADY) {
		b->dups++;
	} else if (r == -EBADE) {
		const uint8_t *by;
		size_t bl;
		struct err ignore = {0};

		if (store_log_get(b->t, cs[i]->author, cs[i]->feed, cs[i]->seq, &by, &bl, NULL, &ignore) == 0) {
			struct conflict *c = &b->conf[b->nconf++];

			c->first = dup_bytes(by, bl);
			c->first_len = bl;
			c->second = dup_bytes(cs[i]->envelope, cs[i]->envelope_len);
			c->second_len = cs[i]->envelope_len;
		} else { /* its prev differs from our head: ask for the entry before */
			send_want(l, cs[i]->author, cs[i]->feed, cs[i]->seq - 1);
		}
	} else if (r == -ENOSPC || r == -EIO || r == -ENOMEM) {
		b->fatal = true;
		b->fatal_why = why[i];
	}
	return false;
}

/* Stores the entries of bt in b's transaction. The first pass stores in
 * order as entries become ready. Entries may depend on each other (a
 * certificate, then its subject's entries): then retry what failed while
 * anything succeeds. */
static void store_all(struct batch_store *b, struct rbatch *bt)
{
	bool progress = false;

	for (size_t i = 0; i < bt->n; i++) {
		sync_rbatch_prepared(&bt->p, i);
		if (!b->fatal && store_one(b, i))
			progress = true;
	}
	sync_rbatch_join(bt);
	while (progress && !b->fatal) {
		progress = false;
		for (size_t i = 0; i < bt->n && !b->fatal; i++)
			if (store_one(b, i))
				progress = true;
	}
}

/* Answers the refusals of a stored batch: the first of each feed (the
 * rest are its consequences), a gap with a Want. Returns how many entries
 * were refused. */
static uint32_t answer_refusals(struct link *l, struct rbatch *bt, uint64_t now)
{
	struct daemon *d = l->d;
	struct changeset **cs = bt->cs;
	const int *res = bt->res;
	const struct err *why = bt->why;
	size_t n = bt->n;
	uint32_t refused = 0;

	for (size_t i = 0; i < n; i++) {
		if (res[i] == 0 || res[i] == -EALREADY)
			continue;
		refused++;
		if (!cs[i]) {
			sync_link_send_error(l, EBADMSG, why[i].msg, NULL, NULL, 0);
			if (sync_link_refusal_allow(l, now))
				sync_log(d, "refused an entry from %s: %s", sync_link_name(l), why[i].msg);
			continue;
		}
		{
			bool earlier = false;

			for (size_t k = 0; k < i && !earlier; k++)
				earlier = cs[k] && res[k] != 0 && res[k] != -EALREADY &&
					  memcmp(cs[k]->author, cs[i]->author, KEY_BYTES) == 0 &&
					  strcmp(cs[k]->feed, cs[i]->feed) == 0;
			if (earlier)
				continue; /* a consequence of the first refusal in this batch */
		}
		if (res[i] == -ERANGE && recently_refused(l, cs[i], now))
			continue;
		if (res[i] == -ERANGE) {
			struct store_head h;
			struct store_txn *rt = NULL;
			struct err ignore = {0};

			if (store_txn_begin(node_store(d->n), false, &rt, &ignore) == 0) {
				int hr = store_head_get(rt, cs[i]->author, cs[i]->feed, &h, &ignore);

				if (hr == 0 || hr == -ENOENT)
					send_want(l, cs[i]->author, cs[i]->feed, h.seq + 1);
				store_txn_abort(&rt);
			}
			mark_refused(l, cs[i], now - SYNC_STALL_MS + 1000); /* one Want a second at most */
			continue;
		}
		sync_link_send_error(l, -res[i], why[i].msg, cs[i]->author, cs[i]->feed, cs[i]->seq);
		if (sync_link_refusal_allow(l, now))
			sync_log(d, "refused from %s: %s", sync_link_name(l), why[i].msg);
		mark_refused(l, cs[i], now);
	}
	return refused;
}

/* Stores batch b from link l in one transaction and acknowledges it. Before
 * the commit it reads ahead (read_ahead): *next is true when the link's next
 * batch was read, and nb is being decoded and prepared. */
static void store_batch(struct link *l, struct rbatch *bt, bool *next, struct rbatch *nb)
{
	struct daemon *d = l->d;
	const Strata__Entries *en = bt->en;
	size_t n = bt->n, nt = 0;
	struct changeset **cs = bt->cs;
	int *res = bt->res;
	struct err *why = bt->why;
	struct conflict *conf = bt->conf;
	struct touched *tv = NULL;
	struct store_txn *t = NULL;
	struct batch_store b = {.l = l, .cs = cs, .res = res, .why = why, .conf = conf, .now = sync_clock_ms()};
	uint32_t stored = 0, dups = 0, refused = 0;
	size_t nconf = 0;
	struct err e = {0};
	uint64_t now = b.now;
	bool fatal = false;
	int ret;

	sync_link_count(l, LINK_ENTRIES_RECEIVED, n);
	if (store_txn_begin(node_store(d->n), true, &t, &e) < 0) {
		sync_log(d, "cannot write the store: %s", e.msg);
		sync_link_send_error(l, EIO, e.msg, NULL, NULL, 0);
		goto out;
	}
	b.t = t;
	store_all(&b, bt);
	for (size_t i = 0; i < n; i++)
		if (cs[i])
			note_touched(&tv, &nt, cs[i]);
	stored = b.stored;
	dups = b.dups;
	nconf = b.nconf;
	e = b.fatal_why;
	fatal = b.fatal;
	if (fatal) {
		store_txn_abort(&t);
		sync_log(d, "batch from %s not stored: %s", sync_link_name(l), e.msg);
		sync_link_send_error(l, ENOSPC, e.msg, NULL, NULL, 0);
		refused = (uint32_t)n;
		stored = dups = 0;
		goto ack;
	}
	/* The link's next batch, decoded and prepared on the other core while
	 * this commits. */
	*next = sync_read_ahead(l, nb);
	if ((ret = store_txn_commit(&t, &e)) < 0) {
		sync_log(d, "batch from %s not stored: %s", sync_link_name(l), e.msg);
		sync_link_send_error(l, -ret, e.msg, NULL, NULL, 0); /* ENOSPC: the sender pauses */
		refused = (uint32_t)n;
		stored = dups = 0;
		goto ack;
	}
	sync_scrub(d); /* after an erase in this batch: its old bytes out of data.mdb */
	refused = answer_refusals(l, bt, now);
ack:
	send_ack(l, en->batch, stored, dups, refused, tv, nt);
	if (d->o->verbose)
		sync_log(d, "batch %llu from %s: %u stored, %u duplicates, %u refused", (unsigned long long)en->batch,
			 sync_link_name(l), stored, dups, refused);
	for (size_t i = 0; i < nconf; i++)
		sync_evidence_record(d, conf[i].first, conf[i].first_len, conf[i].second, conf[i].second_len);
	if (stored) {
		/* what the domain modules do with entries stored (node_observe:
		 * transfer steps, report checks), then the live push */
		struct node_commit c = {.event = NODE_EVENT_RECEIVED, .cs = cs, .res = res, .count = n,
					.note = sync_note, .note_arg = d};

		node_observers_run(d->n, &c);
		sync_pump_all(d); /* live push to the other links */
	}
out:
	store_txn_abort(&t);
	for (size_t i = 0; i < nconf; i++) {
		free(conf[i].first);
		free(conf[i].second);
	}
	free(tv);
}

void sync_on_entries(struct link *l, const Strata__Entries *en)
{
	struct rbatch bs[2], *cur = &bs[0], *nb = &bs[1];

	if (!sync_rbatch_start(cur, en)) {
		sync_rbatch_free(cur);
		sync_log(l->d, "out of memory receiving a batch from %s", sync_link_name(l));
		return;
	}
	/* While the link has its next batch waiting, take it in turn here. */
	for (;;) {
		struct rbatch *t;
		bool next = false;

		store_batch(l, cur, &next, nb);
		sync_rbatch_free(cur);
		if (!next)
			break;
		sync_link_heard(l);
		if (!sync_rbatch_decoded(nb)) {
			sync_read_ahead_return(l, nb);
			sync_rbatch_free(nb);
			break;
		}
		t = cur;
		cur = nb;
		nb = t;
	}
	if (l->n_own)
		sync_heads_settle(l); /* the own entries it was fetching may be in */
}


void sync_scrub(struct daemon *d)
{
	struct store_scrub_counts c;
	struct err e = {0};
	int r = node_scrub(d->n, &c, &e);

	d->last_scrub_ms = sync_clock_ms();
	d->scrub_held = r == -EAGAIN;

	if (r == 1)
		sync_log(d, "erased values scrubbed: %zu freed page(s) of data.mdb overwritten", c.pages);
	else if (r == -EAGAIN && d->o->verbose)
		sync_log(d, "scrub of erased values deferred: %s", e.msg);
	else if (r < 0 && r != -EAGAIN)
		sync_log(d, "scrubbing erased values failed: %s", e.msg);
}

void sync_note(void *d, const char *msg)
{
	sync_log(d, "%s", msg);
}

void sync_due(struct daemon *d)
{
	struct node_commit c = {.event = NODE_EVENT_DUE, .note = sync_note, .note_arg = d};

	node_observers_run(d->n, &c);
}
