/* SPDX-License-Identifier: MIT */
/*
 * The heads of this node's own feeds, as its links hold them. A store put
 * back from a backup (or a disk from a snapshot) is behind its links: its
 * parent holds up and report entries it signed after the backup, its
 * children its down entries. Signing again at those seqs would fork the
 * feed (an equivocation, frozen everywhere). So every Hello is read for
 * our own feeds too: where a link holds more than the store, we ask it
 * for those entries (a Want; the link gives them back although routing
 * never sends a node its own feeds otherwise) and keep the write fence
 * (node/core/fence.c) set until they are stored. The fence is lifted once
 * the link that holds our feeds (the parent; without a parent, any child
 * or peer) has told its heads and nothing announced is missing.
 */
#include <errno.h>
#include <string.h>

#include "node/sync/sync_internal.h"

static void want_own(struct link *l, const char *feed, uint64_t from)
{
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Want w = STRATA__WANT__INIT;

	w.author.data = (uint8_t *)node_id(l->d->n);
	w.author.len = KEY_BYTES;
	w.feed = (char *)feed;
	w.from = from;
	f.msg_case = STRATA__FRAME__MSG_WANT;
	f.want = &w;
	sync_link_send(l, &f);
}

/* Our head of own feed FEED (0 if none or unreadable). */
static uint64_t own_head(struct daemon *d, struct store_txn *t, const char *feed)
{
	struct store_head h;
	struct err ignore = {0};

	return store_head_get(t, node_id(d->n), feed, &h, &ignore) == 0 ? h.seq : 0;
}

/* Does any link still fetch own entries? */
static bool any_fetching(const struct daemon *d)
{
	if (d->parent && d->parent->n_own)
		return true;
	for (size_t i = 0; i < d->nchildren; i++)
		if (d->children[i]->n_own)
			return true;
	return false;
}

/* Sets or lifts the fence as the links' state says. */
static void fence_update(struct daemon *d, const struct link *l, bool fetching)
{
	struct store_txn *t = NULL;
	struct node_fence f = {0};
	struct err e = {0};

	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0 || node_fence_read(d->n, t, &f, &e) < 0) {
		store_txn_abort(&t);
		sync_log(d, "cannot read the write fence: %s", e.msg);
		return;
	}
	store_txn_abort(&t);
	if (fetching && !f.set) {
		if (node_fence_set(d->n, NODE_FENCE_BEHIND, &e) < 0)
			sync_log(d, "cannot set the write fence: %s", e.msg);
		else
			sync_log(d, "write fence set: %s holds newer entries of this node's own feeds; fetching them",
				 sync_link_name(l));
	} else if (!fetching && f.set && d->heads_confirmed) {
		size_t erased = 0;

		int lifted = node_fence_lift(d->n, &erased, &e);

		if (lifted < 0)
			sync_log(d, "cannot lift the write fence: %s", e.msg);
		else
			sync_log(d, "write fence lifted: %s confirmed the heads of this node's own feeds", sync_link_name(l));
		if (lifted == 1)
			sync_log(d, "%s", e.msg);
		if (erased) /* companions of records whose erase came back (node_erase_owed) */
			sync_log(d, "erased again %zu companion record(s) of records this node had erased", erased);
		/* transfer steps the fence held back (at start, or from a batch) */
		sync_due(d);
	}
}

void sync_heads_settle(struct link *l)
{
	struct daemon *d = l->d;
	struct store_txn *t = NULL;
	struct err e = {0};
	size_t k = 0;

	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0) {
		sync_log(d, "cannot read heads: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < l->n_own; i++)
		if (own_head(d, t, l->own[i].feed) < l->own[i].seq)
			l->own[k++] = l->own[i];
	store_txn_abort(&t);
	l->n_own = k;
	/* the parent holds every feed we send up; without one, whoever links */
	if (!k && sync_link_up(l) && (sync_link_kind(l) == LINK_PARENT || !node_config(d->n)->has_parent))
		d->heads_confirmed = true;
	fence_update(d, l, any_fetching(d));
}

void sync_heads_on_hello(struct link *l, const Strata__Hello *h)
{
	struct daemon *d = l->d;
	struct store_txn *t = NULL;
	struct err e = {0};

	l->n_own = 0;
	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0) {
		sync_log(d, "cannot read heads: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < h->n_heads; i++) {
		const Strata__Head *hd = h->heads[i];
		uint64_t mine;

		if (hd->author.len != KEY_BYTES || memcmp(hd->author.data, node_id(d->n), KEY_BYTES) != 0 ||
		    strlen(hd->feed) > LIMIT_NAME_BYTES || (mine = own_head(d, t, hd->feed)) >= hd->seq)
			continue;
		sync_log(d, "%s holds %s up to #%llu, this store up to #%llu: fetching them before signing again",
			 sync_link_name(l), hd->feed, (unsigned long long)hd->seq, (unsigned long long)mine);
		if (l->n_own < SYNC_OWN_FEEDS) {
			snprintf(l->own[l->n_own].feed, sizeof l->own[l->n_own].feed, "%s", hd->feed);
			l->own[l->n_own++].seq = hd->seq;
		}
		want_own(l, hd->feed, mine + 1);
	}
	store_txn_abort(&t);
	sync_heads_settle(l);
}

bool sync_heads_give_back(const struct link *l, struct feedmap_val *v, const uint8_t author[KEY_BYTES])
{
	return v->give_back && memcmp(author, sync_link_key(l), KEY_BYTES) == 0;
}
