/* SPDX-License-Identifier: MIT */
/*
 * Equivocation: two signed entries of one author for one (feed, seq) with
 * different hashes. The pair is a proof anyone can check with the author's
 * key alone, so it is kept (index "evidence"), the feed is frozen here, and
 * the proof travels toward the root, where auditors look.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/sync/sync_internal.h"
#include "protocol/protocol.h"

#define EVIDENCE_INDEX "evidence"

static size_t evidence_key(uint8_t *buf, const struct changeset *cs)
{
	size_t fl = strlen(cs->feed);

	memcpy(buf, cs->author, KEY_BYTES);
	buf[KEY_BYTES] = (uint8_t)fl;
	memcpy(buf + KEY_BYTES + 1, cs->feed, fl);
	for (int i = 0; i < 8; i++)
		buf[KEY_BYTES + 1 + fl + i] = (uint8_t)(cs->seq >> (56 - 8 * i));
	return KEY_BYTES + 1 + fl + 8;
}

/* Checks that first and second prove an equivocation; fills *a with the
 * first, decoded. */
static int evidence_check(const uint8_t *first, size_t first_len, const uint8_t *second, size_t second_len,
			  struct changeset **a, struct err *e)
{
	struct changeset *b = NULL;
	int ret;

	if ((ret = changeset_decode(a, first, first_len, e)) < 0 || (ret = changeset_verify(*a, e)) < 0 ||
	    (ret = changeset_decode(&b, second, second_len, e)) < 0 || (ret = changeset_verify(b, e)) < 0)
		goto out;
	if (memcmp((*a)->author, b->author, KEY_BYTES) != 0 || strcmp((*a)->feed, b->feed) != 0 ||
	    (*a)->seq != b->seq) {
		err_set(e, "the two entries are not of the same author, feed and seq");
		ret = -EINVAL;
	} else if (memcmp((*a)->hash, b->hash, HASH_BYTES) == 0) {
		err_set(e, "the two entries are the same entry");
		ret = -EINVAL;
	}
out:
	changeset_destroy(&b);
	if (ret < 0)
		changeset_destroy(a);
	return ret;
}

void evidence_record(struct daemon *d, const uint8_t *first, size_t first_len, const uint8_t *second,
		     size_t second_len)
{
	Strata__Evidence ev = STRATA__EVIDENCE__INIT;
	struct changeset *a = NULL;
	struct store_txn *t = NULL;
	uint8_t key[KEY_BYTES + 1 + LIMIT_NAME_BYTES + 8], *buf = NULL;
	const uint8_t *old;
	size_t klen, len, oldlen;
	char who[KEY_HEX], name[256];
	struct err e = {0};
	bool known;

	if (evidence_check(first, first_len, second, second_len, &a, &e) < 0) {
		sync_log(d, "not evidence of equivocation: %s", e.msg);
		return;
	}
	klen = evidence_key(key, a);
	ev.first.data = (uint8_t *)first;
	ev.first.len = first_len;
	ev.second.data = (uint8_t *)second;
	ev.second.len = second_len;
	len = strata__evidence__get_packed_size(&ev);
	if (!(buf = malloc(len)))
		goto out;
	strata__evidence__pack(&ev, buf);
	if (store_txn_begin(node_store(d->n), true, &t, &e) < 0)
		goto fail;
	known = store_index_get(t, EVIDENCE_INDEX, key, klen, &old, &oldlen, &e) == 0;
	memset(&e, 0, sizeof e);
	if (!known && store_index_put(t, EVIDENCE_INDEX, key, klen, buf, len, &e) < 0)
		goto fail;
	{
		struct store_head h;
		int r = store_head_get(t, a->author, a->feed, &h, &e);

		if (r == 0 && !(h.flags & STORE_FEED_FROZEN) &&
		    store_feed_set_flags(t, a->author, a->feed, h.flags | STORE_FEED_FROZEN, &e) < 0)
			goto fail;
		memset(&e, 0, sizeof e);
	}
	node_key_name(d->n, t, a->author, name);
	if (store_txn_commit(&t, &e) < 0)
		goto fail;
	if (known)
		goto out;
	key_hex(who, a->author);
	sync_log(d, "ALARM: equivocation: %s (%s) signed two different entries for %s #%llu; the feed is frozen "
		    "and the proof goes to the parent",
		 name[0] ? name : "unknown", who, a->feed, (unsigned long long)a->seq);
	if (d->parent && d->parent->up) {
		Strata__Frame f = STRATA__FRAME__INIT;

		f.msg_case = STRATA__FRAME__MSG_EVIDENCE;
		f.evidence = &ev;
		link_send(d->parent, &f);
	}
	goto out;
fail:
	sync_log(d, "cannot record evidence of equivocation: %s", e.msg);
out:
	store_txn_abort(&t);
	changeset_destroy(&a);
	free(buf);
}

void evidence_on_frame(struct link *l, const Strata__Evidence *ev)
{
	evidence_record(l->d, ev->first.data, ev->first.len, ev->second.data, ev->second.len);
}

struct send_arg {
	struct link *l;
};

static int send_one(const uint8_t *key, size_t key_len, const uint8_t *val, size_t len, void *arg)
{
	struct link *l = ((struct send_arg *)arg)->l;
	Strata__Evidence *ev = strata__evidence__unpack(NULL, len, val);
	Strata__Frame f = STRATA__FRAME__INIT;

	(void)key;
	(void)key_len;
	if (!ev)
		return 0;
	f.msg_case = STRATA__FRAME__MSG_EVIDENCE;
	f.evidence = ev;
	link_send(l, &f);
	strata__evidence__free_unpacked(ev, NULL);
	return 0;
}

void evidence_send_all(struct link *l)
{
	struct send_arg a = {.l = l};
	struct store_txn *t = NULL;
	struct err e = {0};

	if (store_txn_begin(node_store(l->d->n), false, &t, &e) == 0) {
		if (store_index_each(t, EVIDENCE_INDEX, send_one, &a, &e) < 0)
			sync_log(l->d, "cannot read evidence: %s", e.msg);
		store_txn_abort(&t);
	}
}
