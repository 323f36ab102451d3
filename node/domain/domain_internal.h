/* SPDX-License-Identifier: MIT */
/*
 * What the files of node/domain share and no front end needs.
 */
#ifndef STRATA_DOMAIN_INTERNAL_H
#define STRATA_DOMAIN_INTERNAL_H

#include "node/core/node.h"
#include "node/domain/domain.h"

#define DOMAIN_MSG_CAP 600 /* a bad row's message, naming a key of up to 200 bytes */

/* record_check_input against this unit's registry: every key it holds
 * (node_own_keys), so that records written before a rotation count. */
int domain_check_input(const struct record_type *t, const ProtobufCMessage *m, struct store_txn *txn,
		       const struct node *n, struct err *e) WUR;

/* Reads this unit's record of t under key into *out (caller frees with
 * record_free); o (may be NULL) receives where it was written. -ESRCH if
 * absent or erased, -EIO if it does not decode. */
int domain_load(const struct record_type *t, struct store_txn *txn, const struct node *n, const char *key,
		ProtobufCMessage **out, struct store_origin *o, struct err *e) WUR;

/* Packs m and puts it under key through w. */
int domain_put(struct node_writer *w, const struct record_type *t, const ProtobufCMessage *m, const char *key,
	       struct err *e) WUR;

/* An import's bad row: line and message added to r->bad (*cap: its
 * room). -ENOMEM. */
int domain_bad_add(struct domain_import_result *r, size_t *cap, size_t line, const char *msg) WUR;

/* The refusal of a file with bad rows: r->bad sorted by line, e saying
 * "PATH: N bad rows; nothing imported". Returns -EINVAL. */
int domain_bad_refuse(struct domain_import_result *r, const char *path, struct err *e);

#endif
