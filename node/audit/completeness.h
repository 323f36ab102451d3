/* SPDX-License-Identifier: MIT */
/*
 * audit/completeness (issue 15, D4): does a bundle or a store hold every
 * entry its checkpoints say a feed has? Each signed note the audit meets
 * (carried by the bundle, held by the store, or given with --checkpoint
 * FILE) is checked against the entries audited (node_checkpoint_check):
 * a note whose size is larger than the entries held of its feed FAILS
 * ("holds 10 entries of A/F, its checkpoint signed by ... says 12"), one
 * whose root is not the tree of those entries FAILS, one whose signature
 * does not verify FAILS. Per feed the report names the newest checkpoint
 * and the newest witnessed one (size, root, signers by org path when
 * known); a feed with none is "completeness not checked".
 */
#ifndef STRATA_AUDIT_COMPLETENESS_H
#define STRATA_AUDIT_COMPLETENESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "node/audit/audit.h"
#include "node/core/node.h"

/* Signed notes met by an audit, each with where it came from. */
struct audit_notes {
	struct audit_note {
		uint8_t *bytes;
		size_t len;
		char *from;        /* "the bundle", "the store", or "FILE" */
	} *v;
	size_t n, cap;
};

/* Adds a copy of one note. 0, -ENOMEM. */
int audit_notes_add(struct audit_notes *a, const uint8_t *note, size_t len, const char *from);
/* Reads one signed note from PATH (a --checkpoint FILE). 0; -ENOENT/-EIO
 * (cannot read it), -EINVAL (larger than a note can be), with the reason. */
int audit_notes_file(struct audit_notes *a, const char *path, struct err *e);
void audit_notes_free(struct audit_notes *a);
/* A bundle_on_checkpoint callback: adds the note to the audit_notes ARG,
 * from "the bundle". */
int audit_notes_collect(const uint8_t *note, size_t len, void *arg, struct err *e);

/* What an audit passes in and gets back. */
struct audit_completeness {
	struct audit_notes given;   /* in: --checkpoint FILEs */
	struct audit_notes carried; /* filled by the bundle audit: the bundle's Checkpoint frames */
	json_t *feeds;              /* out: per feed checked: entries, newest checkpoint, newest witnessed */
	json_t *unchecked;          /* out: feeds without any checkpoint */
	size_t checkpoints;         /* notes checked */
	size_t failures;
};

/* Checks every note of x (carried, given, and with held those the store of
 * n keeps) against the entries n holds, in one read transaction; failures
 * through h (may be NULL) and counted in x->failures. 0, or a negative code
 * when the store cannot be read (e). */
int audit_completeness(struct node *n, struct audit_completeness *x, bool held, const struct verify_hooks *h,
		       struct err *e) WUR;
void audit_completeness_free(struct audit_completeness *x);

#endif
