/* SPDX-License-Identifier: MIT */
/*
 * Evidence frames of a bundle under audit (evidence_frames.h): each one
 * must prove what it claims, by an author the pinned root certifies, or
 * the bundle fails at that frame. A frame that proves equivocation is kept
 * in the scratch store's evidence index, so that the store walk reports it
 * exactly as `strata audit -d DIR` reports a proof a node keeps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/audit/evidence_frames.h"

int audit_ev_keep(struct audit_ev_frames *l, const Strata__Evidence *ev, size_t frame, uint64_t offset)
{
	struct audit_ev_frame *v = realloc(l->v, (l->n + 1) * sizeof *v), *x;

	if (!v)
		return -ENOMEM;
	l->v = v;
	x = &v[l->n];
	x->len = strata__evidence__get_packed_size(ev);
	if (!(x->bytes = malloc(x->len ? x->len : 1)))
		return -ENOMEM;
	strata__evidence__pack(ev, x->bytes);
	x->frame = frame;
	x->offset = offset;
	l->n++;
	return 0;
}

void audit_ev_free(struct audit_ev_frames *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].bytes);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void ev_report(const struct verify_hooks *h, struct verify_counts *c, const struct audit_ev_frame *x,
		      const struct changeset *cs, const char *what, const char *why)
{
	char reason[AUDIT_REASON_SIZE];
	struct verify_failure f = {.feed = "", .reason = reason};

	/* why may fill a reason of its own: the sentence is cut, never overrun */
	snprintf(reason, sizeof reason, "bundle frame %zu at byte %llu: %s: %.*s", x->frame,
		 (unsigned long long)x->offset, what, AUDIT_REASON_SIZE / 2, why);
	if (cs) {
		f.author = cs->author;
		f.feed = cs->feed;
		f.seq = cs->seq;
	}
	c->failures++;
	if (h && h->failure)
		h->failure(&f, h->arg);
}

/* One Evidence frame of two envelopes. 0, or a negative code from the store. */
static int check_entries(struct store_txn *t, const struct audit_ev_frame *x, const Strata__Evidence *ev,
			 struct verify_counts *c, const struct verify_hooks *h, struct err *e)
{
	struct changeset *cs = NULL;
	struct err why = {0};
	bool known;
	int ret = node_evidence_check(ev->first.data, ev->first.len, ev->second.data, ev->second.len, &cs, &why);

	if (ret < 0) {
		ev_report(h, c, x, NULL, "an Evidence frame that proves nothing", why.msg);
		return 0;
	}
	if (h && h->authorize && h->authorize(t, cs->author, cs->feed, &why, h->arg) != 0) {
		ev_report(h, c, x, cs, "evidence of equivocation signed by a key without a certificate chain to the root",
			  why.msg);
		ret = 0;
	} else if ((ret = node_evidence_store(t, ev->first.data, ev->first.len, ev->second.data, ev->second.len,
					      &known, e)) < 0 && ret != -ENOSPC && ret != -EIO && ret != -ENOMEM) {
		ev_report(h, c, x, cs, "evidence of equivocation that cannot be kept", e->msg);
		memset(e, 0, sizeof *e);
		ret = 0;
	}
	changeset_destroy(&cs);
	return ret;
}

/* One Evidence frame of two checkpoints: reported at once when it holds
 * (the store's evidence index keeps entry proofs only). */
static void check_checkpoints(struct store_txn *t, const struct audit_ev_frame *x, const Strata__Evidence *ev,
			      struct verify_counts *c, const struct verify_hooks *h)
{
	struct verify_checkpoint_proof p;
	char why[AUDIT_REASON_SIZE];
	struct err e = {0};

	if (verify_checkpoint_evidence(t, ev->first.data, ev->first.len, ev->second.data, ev->second.len, &p, why,
				       sizeof why) < 0) {
		ev_report(h, c, x, NULL, "an Evidence frame of checkpoints that proves nothing", why);
	} else if (h && h->authorize && h->authorize(t, p.author, p.feed, &e, h->arg) != 0) {
		ev_report(h, c, x, NULL, "evidence of checkpoints signed by a key without a certificate chain to the root",
			  e.msg);
	} else {
		struct verify_evidence v = {.author = p.author, .feed = p.feed, .seq = p.size,
					    .first_hash = p.first_root, .second_hash = p.second_root, .checkpoint = true};

		verify_evidence_holds(t, &v, c, h);
	}
}

int audit_ev_check(struct node *n, const struct audit_ev_frames *l, struct verify_counts *c,
		   const struct verify_hooks *h, struct err *e)
{
	struct store_txn *t = NULL;
	int ret = 0;

	if (!l->n)
		return 0;
	if ((ret = store_txn_begin(node_store(n), true, &t, e)) < 0)
		return ret;
	for (size_t i = 0; i < l->n && ret >= 0; i++) {
		const struct audit_ev_frame *x = &l->v[i];
		Strata__Evidence *ev = strata__evidence__unpack(NULL, x->len, x->bytes);

		if (!ev) {
			ev_report(h, c, x, NULL, "an Evidence frame", "does not decode");
			continue;
		}
		if (ev->checkpoint)
			check_checkpoints(t, x, ev, c, h);
		else
			ret = check_entries(t, x, ev, c, h, e);
		strata__evidence__free_unpacked(ev, NULL);
	}
	if (ret >= 0)
		ret = store_txn_commit(&t, e);
	store_txn_abort(&t);
	return ret;
}
