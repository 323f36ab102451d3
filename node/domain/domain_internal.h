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

/* --- locks (domain_lock.c) --- */

struct report_locks; /* node/report/report.h: report_locks_load */

/* Which records count in a period, so that an accepted (locked) period
 * refuses them: a record counts in the period of each of its dated fields
 * (FIELD_DATE: its month; FIELD_PERIOD: that month), whatever its type, a
 * member included (joined, birth). An update counts in the periods of the
 * old values and of the new ones: callers check the record as stored and
 * as it will be written. -EACCES naming the record, the field and the
 * acceptance ("period P was accepted by ORG/PATH on DAY; ask it to
 * reopen"); 0 if no dated value falls in a locked period (l NULL: none). */
int domain_lock_check(const struct report_locks *l, const struct record_type *t, const ProtobufCMessage *m,
		      struct err *e) WUR;

/* report_locks_load in a read transaction of its own (the bulk importer
 * reads its file before it writes: a lock that arrives in between is not
 * seen, as a lock that arrives after the import). */
int domain_locks_read(struct node *n, struct report_locks *l, struct err *e) WUR;

/* --- import (domain_import.c, domain_import_bulk.c, domain_import_update.c) --- */

/* Adds to r->changes (*cap: its room) what the record of t packed as new
 * changes in the stored old, under key, from line. -ENOMEM (also for a
 * value that does not decode). */
int domain_change_add(struct domain_import_result *r, size_t *cap, const struct record_type *t, const char *key,
		      size_t line, const uint8_t *old, size_t old_len, const uint8_t *new, size_t new_len) WUR;
void domain_changes_release(struct domain_import_result *r);

/* Reads an import's header row: col_of[i] the column of t->fields[i] and
 * ccol_of[j] of t->companion->fields[j] (-1: none), *ncols the header's
 * cells. -EINVAL with the type's wording for an unknown, doubled or
 * missing required column. */
int domain_import_header(const struct record_type *t, const char *path, const struct csv_row *r, int col_of[],
			 int ccol_of[], size_t *ncols, struct err *e) WUR;

/* The type's wording (record_type msg_*) of a row with n cells under a
 * header of ncols, of a key already on line first, of a key stored with
 * other values. */
void domain_import_cells_msg(const struct record_type *t, size_t n, size_t ncols, char *msg, size_t cap);
void domain_import_duplicate_msg(const struct record_type *t, const char *key, size_t first, char *msg, size_t cap);
void domain_import_exists_msg(const struct record_type *t, const char *key, char *msg, size_t cap);

/* domain_import by the bulk writer, for a type with import_row and no
 * companion (domain.h says how); *r already zeroed. */
int domain_import_bulk(const char *dir, const struct record_type *t, const char *path,
		       const struct domain_import_opts *o, struct domain_import_result *r, struct err *e) WUR;

#endif
