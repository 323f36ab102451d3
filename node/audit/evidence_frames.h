/* SPDX-License-Identifier: MIT */
/*
 * The Evidence frames of a bundle under audit (private to node/audit):
 * kept as they are read, checked once every entry of the bundle is in the
 * scratch node (an author's certificate may come after the frame).
 */
#ifndef STRATA_EVIDENCE_FRAMES_H
#define STRATA_EVIDENCE_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "node/audit/audit.h"
#include "node/core/node.h"

struct audit_ev_frame {
	uint8_t *bytes;  /* the Evidence message, packed again */
	size_t len;
	size_t frame;    /* its record after the header, from 1 */
	uint64_t offset; /* the byte offset of its record */
};

struct audit_ev_frames {
	struct audit_ev_frame *v;
	size_t n;
};

/* Keeps a copy of ev read at (frame, offset). 0, or -ENOMEM. */
int audit_ev_keep(struct audit_ev_frames *l, const Strata__Evidence *ev, size_t frame, uint64_t offset) WUR;

/* Checks every kept frame against n's store (the scratch node, every entry
 * of the bundle in it), in one write transaction: a proof of equivocation
 * that holds (both envelopes decode and verify, one author, feed and seq,
 * different hashes) by an author whose certificate chain allows the feed
 * (h->authorize) is kept in the store's evidence index, where
 * verify_evidence reports it with the store's own; two checkpoints that
 * conflict are reported at once (h->evidence and a failure); anything else
 * is a failure naming the frame and its byte offset. Failures counted in
 * c->failures. 0, or a negative code when the store fails (e). */
int audit_ev_check(struct node *n, const struct audit_ev_frames *l, struct verify_counts *c,
		   const struct verify_hooks *h, struct err *e) WUR;

void audit_ev_free(struct audit_ev_frames *l);

#endif
