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
#include "crypto/tlog.h"
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

void verify_evidence_holds(struct store_txn *t, const struct verify_evidence *x, struct verify_counts *c,
			   const struct verify_hooks *h)
{
	char who[KEY_HEX], a[KEY_HEX], b[KEY_HEX], reason[AUDIT_REASON_SIZE], name[NODE_NAME_SIZE];
	struct verify_evidence named = *x;
	struct verify_failure f = {.author = x->author, .feed = x->feed, .seq = x->seq, .reason = reason};

	if (!named.name && verify_author_name(t, x->author, name) == 0)
		named.name = name;
	key_hex(who, x->author);
	hex_encode(a, x->first_hash, 8);
	hex_encode(b, x->second_hash, 8);
	if (h && h->evidence)
		h->evidence(&named, h->arg);
	snprintf(reason, sizeof reason,
		 x->checkpoint ? "equivocation: author %s (%.16s…) signed two checkpoints of %s at size %llu with "
				 "different roots (%s… and %s…)"
			       : "equivocation: author %s (%.16s…) signed two entries at %s #%llu (hashes %s… and %s…)",
		 named.name ? named.name : "without a known org path", who, x->feed, (unsigned long long)x->seq, a, b);
	c->failures++;
	if (h && h->failure)
		h->failure(&f, h->arg);
}


int verify_checkpoint_proof(const uint8_t *first, size_t first_len, const uint8_t *second, size_t second_len,
			    struct verify_checkpoint_proof *out, char *why, size_t cap)
{
	struct note a, b;
	struct err e = {0};

	if (note_parse((const char *)first, first_len, &a, &e) < 0 ||
	    note_parse((const char *)second, second_len, &b, &e) < 0) {
		snprintf(why, cap, "a checkpoint of the evidence is not a signed note: %s", e.msg);
		return -EINVAL;
	}
	if (memcmp(a.cp.author, b.cp.author, KEY_BYTES) != 0 || strcmp(a.cp.feed, b.cp.feed) != 0 ||
	    a.cp.size != b.cp.size) {
		snprintf(why, cap, "the two checkpoints are not of one author's feed at one size");
		return -EINVAL;
	}
	if (memcmp(a.cp.root, b.cp.root, TLOG_HASH_BYTES) == 0) {
		snprintf(why, cap, "the two checkpoints have the same root: they agree");
		return -EINVAL;
	}
	if (!note_author_signed(&a) || !note_author_signed(&b)) {
		snprintf(why, cap, "a checkpoint of the evidence does not carry a valid signature of its author");
		return -EINVAL;
	}
	memcpy(out->author, a.cp.author, KEY_BYTES);
	snprintf(out->feed, sizeof out->feed, "%s", a.cp.feed);
	out->size = a.cp.size;
	memcpy(out->first_root, a.cp.root, TLOG_HASH_BYTES);
	memcpy(out->second_root, b.cp.root, TLOG_HASH_BYTES);
	return 0;
}

int verify_checkpoint_evidence(struct store_txn *t, const uint8_t *first, size_t first_len, const uint8_t *second,
			       size_t second_len, struct verify_checkpoint_proof *out, char *why, size_t cap)
{
	struct note a;
	struct err e = {0};
	uint8_t root[TLOG_HASH_BYTES];

	if (verify_checkpoint_proof(first, first_len, second, second_len, out, why, cap) == 0)
		return 0;
	/* the other kind: the author's note against the entries this store holds */
	if (!t || note_parse((const char *)first, first_len, &a, &e) < 0 || !note_author_signed(&a) ||
	    store_tree_root(t, a.cp.author, a.cp.feed, a.cp.size, root, &e) < 0 ||
	    memcmp(root, a.cp.root, TLOG_HASH_BYTES) == 0)
		return -EINVAL; /* why: the two notes' reason */
	memcpy(out->author, a.cp.author, KEY_BYTES);
	snprintf(out->feed, sizeof out->feed, "%s", a.cp.feed);
	out->size = a.cp.size;
	memcpy(out->first_root, a.cp.root, TLOG_HASH_BYTES);
	memcpy(out->second_root, root, TLOG_HASH_BYTES);
	return 0;
}

static void ev_holds(struct ev_walk *w, const struct verify_evidence *x)
{
	verify_evidence_holds(w->t, x, w->c, w->h);
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

/* Kept evidence of two checkpoints (Evidence.checkpoint): it must prove
 * a conflict of the feed it is kept under, by a certified author. */
static int kept_checkpoint(struct ev_walk *w, const struct node_evidence_key *k, Strata__Evidence *ev)
{
	struct verify_checkpoint_proof p;
	char why[AUDIT_REASON_SIZE];
	const char *fault = NULL;

	if (verify_checkpoint_evidence(w->t, ev->first.data, ev->first.len, ev->second.data, ev->second.len, &p, why,
				       sizeof why) < 0)
		fault = why;
	else if (memcmp(p.author, k->author, KEY_BYTES) != 0 || strcmp(p.feed, k->feed) != 0)
		fault = "kept evidence of checkpoints holds notes of another author or feed than it is kept under";
	else
		fault = ev_uncertified(w, p.author, p.feed, why, sizeof why);
	if (fault) {
		ev_fail(w, k->author, k->feed, k->seq, fault);
	} else {
		struct verify_evidence x = {.author = p.author, .feed = p.feed, .seq = p.size, .first_hash = p.first_root,
					    .second_hash = p.second_root, .checkpoint = true};

		ev_holds(w, &x);
	}
	strata__evidence__free_unpacked(ev, NULL);
	return 0;
}

static int on_evidence(const struct node_evidence_key *k, const uint8_t *val, size_t len, void *arg)
{
	struct ev_walk *w = arg;
	char why[AUDIT_REASON_SIZE];
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
	if (ev->checkpoint)
		return kept_checkpoint(w, k, ev);
	fault = proof_fault(ev, k->author, k->feed, k->seq, ha, hb, why, sizeof why);
	if (!fault)
		fault = ev_uncertified(w, k->author, k->feed, why, sizeof why);
	if (fault) {
		ev_fail(w, k->author, k->feed, k->seq, fault);
	} else {
		struct verify_evidence x = {.author = k->author, .feed = k->feed, .seq = k->seq, .first_hash = ha,
					    .second_hash = hb};

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
