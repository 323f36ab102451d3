/* SPDX-License-Identifier: MIT */
/*
 * Equivocation in `strata verify` and `strata audit`: every proof the store
 * keeps (index "evidence", written by a link or an import that met a second
 * signed entry for a seq it held) is a failure of the feed it names, at its
 * seq, so that both commands give the same verdict on the same store. The
 * proof is checked again from its two envelopes alone (both decode, both
 * verify under their author's key, same author, feed and seq, different
 * hashes); a kept proof that does not hold is a failure too, of the store.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node/audit/audit.h"
#include "node/core/node.h" /* the evidence key layout */
#include "protocol/protocol.h"

struct ev_walk {
	struct verify_counts *c;
	const struct verify_hooks *h;
};

static void ev_fail(struct ev_walk *w, const uint8_t *author, const char *feed, uint64_t seq, const char *reason)
{
	struct verify_failure f = {.author = author, .feed = feed, .seq = seq, .reason = reason};

	w->c->failures++;
	if (w->h && w->h->failure)
		w->h->failure(&f, w->h->arg);
}

/* Checks one envelope of a proof; the decoded entry in *cs. */
static int proof_entry(const ProtobufCBinaryData *b, struct changeset **cs, struct err *e)
{
	int ret = changeset_decode(cs, b->data, b->len, e);

	return ret < 0 ? ret : changeset_verify(*cs, e);
}

/* Why the proof (a, b) does not prove equivocation at (author, feed, seq),
 * or NULL when it does. */
static const char *proof_fault(const Strata__Evidence *ev, const uint8_t *author, const char *feed, uint64_t seq,
			       char *buf, size_t cap)
{
	struct changeset *a = NULL, *b = NULL;
	struct err e = {0};
	const char *why = NULL;

	if (proof_entry(&ev->first, &a, &e) < 0 || proof_entry(&ev->second, &b, &e) < 0) {
		snprintf(buf, cap, "kept evidence of equivocation does not verify: %s", e.msg);
		why = buf;
	} else if (memcmp(a->author, author, KEY_BYTES) || memcmp(b->author, author, KEY_BYTES) || strcmp(a->feed, feed) ||
		   strcmp(b->feed, feed) || a->seq != seq || b->seq != seq) {
		why = "kept evidence of equivocation holds entries of another author, feed or seq than it is kept under";
	} else if (memcmp(a->hash, b->hash, HASH_BYTES) == 0) {
		why = "kept evidence of equivocation holds the same entry twice";
	}
	changeset_destroy(&a);
	changeset_destroy(&b);
	return why;
}

static int on_evidence(const struct node_evidence_key *k, const uint8_t *val, size_t len, void *arg)
{
	struct ev_walk *w = arg;
	char why[AUDIT_REASON_SIZE];
	Strata__Evidence *ev;
	const char *fault;

	if (!k) {
		ev_fail(w, NULL, "", 0, "a kept evidence record has a malformed key");
		return 0;
	}
	w->c->evidence++;
	if (k->checkpoint) { /* two notes, or one against the entries: witness.c checked it when it was kept */
		ev_fail(w, k->author, k->feed, k->seq,
			"inconsistent checkpoint: a checkpoint of this feed signed by its author at this size has "
			"another root than its entries (the evidence is in the store; strata status lists it)");
		return 0;
	}
	if (!(ev = strata__evidence__unpack(NULL, len, val))) {
		ev_fail(w, k->author, k->feed, k->seq, "kept evidence of equivocation does not decode");
		return 0;
	}
	fault = proof_fault(ev, k->author, k->feed, k->seq, why, sizeof why);
	strata__evidence__free_unpacked(ev, NULL);
	ev_fail(w, k->author, k->feed, k->seq,
		fault ? fault
		      : "equivocation: two different signed entries for this seq (the proof is in the store; "
			"strata status lists it)");
	return 0;
}

int verify_evidence(struct store_txn *t, struct verify_counts *c, const struct verify_hooks *h, struct err *e)
{
	struct ev_walk w = {.c = c, .h = h};

	return node_evidence_each(t, on_evidence, &w, e);
}
