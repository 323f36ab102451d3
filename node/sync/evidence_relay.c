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
void sync_evidence_record(struct daemon *d, const uint8_t *first, size_t first_len, const uint8_t *second,
			  size_t second_len)
{
	Strata__Evidence ev = STRATA__EVIDENCE__INIT;
	struct changeset *a = NULL;
	struct store_txn *t = NULL;
	char who[KEY_HEX], name[NODE_NAME_SIZE];
	struct err e = {0};
	bool known = false;

	if (node_evidence_check(first, first_len, second, second_len, &a, &e) < 0) {
		sync_log(d, "not evidence of equivocation: %s", e.msg);
		return;
	}
	if (store_txn_begin(node_store(d->n), true, &t, &e) < 0 ||
	    node_evidence_store(t, first, first_len, second, second_len, &known, &e) < 0)
		goto fail;
	node_key_name(d->n, t, a->author, name);
	if (store_txn_commit(&t, &e) < 0)
		goto fail;
	if (known)
		goto out;
	key_hex(who, a->author);
	sync_log(d, "ALARM: equivocation: %s (%s) signed two different entries for %s #%llu; the feed is frozen "
		    "and the proof goes to the parent",
		 name[0] ? name : "unknown", who, a->feed, (unsigned long long)a->seq);
	if (d->parent && sync_link_up(d->parent)) {
		Strata__Frame f = STRATA__FRAME__INIT;

		ev.first.data = (uint8_t *)first;
		ev.first.len = first_len;
		ev.second.data = (uint8_t *)second;
		ev.second.len = second_len;
		f.msg_case = STRATA__FRAME__MSG_EVIDENCE;
		f.evidence = &ev;
		sync_link_send(d->parent, &f);
	}
	goto out;
fail:
	sync_log(d, "cannot record evidence of equivocation: %s", e.msg);
out:
	store_txn_abort(&t);
	changeset_destroy(&a);
}

void sync_evidence_on_frame(struct link *l, const Strata__Evidence *ev)
{
	struct changeset *a = NULL;
	struct err e = {0};

	if (ev->has_checkpoint && ev->checkpoint) {
		sync_ckpt_evidence_on_frame(l, ev); /* two notes, or one against the entries held */
		return;
	}
	/* What a link sends as evidence and is not: a refusal of that link,
	 * logged at its bounded rate (sync_evidence_record logs every one). */
	if (node_evidence_check(ev->first.data, ev->first.len, ev->second.data, ev->second.len, &a, &e) < 0) {
		if (sync_link_refusal_allow(l, sync_clock_ms()))
			sync_log(l->d, "refused evidence from %s: not evidence of equivocation: %s", sync_link_name(l), e.msg);
		return;
	}
	changeset_destroy(&a);
	sync_evidence_record(l->d, ev->first.data, ev->first.len, ev->second.data, ev->second.len);
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
	sync_link_send(l, &f);
	strata__evidence__free_unpacked(ev, NULL);
	return 0;
}

void sync_evidence_send_all(struct link *l)
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
