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
	struct store_txn *t;
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
			       uint8_t ha[HASH_BYTES], uint8_t hb[HASH_BYTES], char *buf, size_t cap)
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
	} else {
		memcpy(ha, a->hash, HASH_BYTES);
		memcpy(hb, b->hash, HASH_BYTES);
	}
	changeset_destroy(&a);
	changeset_destroy(&b);
	return why;
}

int verify_author_name(struct store_txn *t, const uint8_t author[32], char *name)
{
	Strata__Certificate *c = NULL;
	struct err ignore = {0};

	name[0] = '\0';
	if (node_cert_get(t, author, NULL, &c, &ignore) < 0)
		return -ENOENT;
	snprintf(name, NODE_NAME_SIZE, "%s", c->name);
	strata__certificate__free_unpacked(c, NULL);
	return 0;
}

/* A proof that holds: the author's name (its indexed certificate), the
 * evidence hook, and the failure that names the author. */
static void ev_holds(struct ev_walk *w, const struct verify_evidence *x)
{
	char who[KEY_HEX], a[KEY_HEX], b[KEY_HEX], reason[AUDIT_REASON_SIZE];

	key_hex(who, x->author);
	hex_encode(a, x->first_hash, 8);
	hex_encode(b, x->second_hash, 8);
	if (w->h && w->h->evidence)
		w->h->evidence(x, w->h->arg);
	snprintf(reason, sizeof reason,
		 x->checkpoint ? "equivocation: author %s (%.16s…) signed two checkpoints of %s at size %llu with "
				 "different roots (%s… and %s…)"
			       : "equivocation: author %s (%.16s…) signed two entries at %s #%llu (hashes %s… and %s…)",
		 x->name ? x->name : "without a known org path", who, x->feed, (unsigned long long)x->seq, a, b);
	ev_fail(w, x->author, x->feed, x->seq, reason);
}

/* The author of a proof must hold a certificate chain allowing the feed,
 * like any author of an entry (the trust hooks); NULL when it does. */
static const char *ev_uncertified(struct ev_walk *w, const uint8_t *author, const char *feed, char *buf, size_t cap)
{
	struct err e = {0};

	if (!w->h || !w->h->authorize || w->h->authorize(w->t, author, feed, &e, w->h->arg) == 0)
		return NULL;
	snprintf(buf, cap, "evidence of equivocation signed by a key without a certificate chain allowing %s: %s",
		 feed, e.msg);
	return buf;
}

static int on_evidence(const struct node_evidence_key *k, const uint8_t *val, size_t len, void *arg)
{
	struct ev_walk *w = arg;
	char why[AUDIT_REASON_SIZE], name[NODE_NAME_SIZE];
	uint8_t ha[HASH_BYTES], hb[HASH_BYTES];
	Strata__Evidence *ev;
	const char *fault;

	if (!k) {
		ev_fail(w, NULL, "", 0, "a kept evidence record has a malformed key");
		return 0;
	}
	w->c->evidence++;
	if (!(ev = strata__evidence__unpack(NULL, len, val))) {
		ev_fail(w, k->author, k->feed, k->seq, "kept evidence of equivocation does not decode");
		return 0;
	}
	fault = ev->checkpoint ? "kept evidence of a checkpoint is not checked by this version"
			       : proof_fault(ev, k->author, k->feed, k->seq, ha, hb, why, sizeof why);
	if (!fault)
		fault = ev_uncertified(w, k->author, k->feed, why, sizeof why);
	if (fault) {
		ev_fail(w, k->author, k->feed, k->seq, fault);
	} else {
		struct verify_evidence x = {.author = k->author, .feed = k->feed, .seq = k->seq, .first_hash = ha,
					    .second_hash = hb};

		if (verify_author_name(w->t, k->author, name) == 0)
			x.name = name;
		ev_holds(w, &x);
	}
	strata__evidence__free_unpacked(ev, NULL);
	return 0;
}

int verify_evidence(struct store_txn *t, struct verify_counts *c, const struct verify_hooks *h, struct err *e)
{
	struct ev_walk w = {.t = t, .c = c, .h = h};

	return node_evidence_each(t, on_evidence, &w, e);
}
