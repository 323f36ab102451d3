/* SPDX-License-Identifier: MIT */
/*
 * domain: every operation a person performs on records, as library
 * functions that any front end (the `strata` CLI, an HTTP API) calls the
 * same way. A record type is its entry in the registry (node/records): its
 * field table says what add, update, show, list, export and import read and
 * write, so these functions work for every registered type of the engine.
 *
 * Contract shared by every function here:
 * - dir is a node directory (node_open). Nothing is printed: results come
 *   back as data, rows through a callback, and a sentence for the person in
 *   the struct err.
 * - They return 0 or a negative errno. The class of the errno is the exit
 *   code class a front end shows (cli_exit_for): -EINVAL, -EEXIST, -ESRCH,
 *   -E2BIG, -EPERM... input refused (rejected, exit 2); -EIO, -ENOMEM,
 *   -ENOSPC, -EAGAIN... the system failed (exit 4).
 * - A function that writes signs entries of this node's feeds through the
 *   writer (node/core), all in one write transaction: all or nothing. It
 *   does not tell a running daemon: the caller does (sync_notify) when the
 *   result says something was written.
 */
#ifndef STRATA_DOMAIN_H
#define STRATA_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "node/records/records.h"

#define DOMAIN_FIELDS_MAX 16                     /* fields of one record type */
#define DOMAIN_KEY_CAP (LIMIT_KEY_BYTES + 64)   /* a record key as text, with room to see it is too long */
#define DOMAIN_IMPORT_BATCH 1000                 /* rows between two progress calls */

/* Values typed for one record of type t: value[i] for t->fields[i] (NULL:
 * not given; "" clears an optional field), cvalue[j] for the non-key field
 * t->companion->fields[j] (a request's contact). */
struct domain_input {
	const struct record_type *t;
	const char *value[DOMAIN_FIELDS_MAX];
	const char *cvalue[DOMAIN_FIELDS_MAX];
};

/* One record as written or read. m (and cm, the companion record, or NULL)
 * are owned by it: domain_record_release frees them. */
struct domain_record {
	const struct record_type *t;
	ProtobufCMessage *m, *cm;
	char key[DOMAIN_KEY_CAP];
	char feed[sizeof(struct store_origin){0}.feed]; /* where m was written */
	uint64_t seq;
	uint64_t cseq; /* > 0: cm was written by this call, at t->companion->feed #cseq */
};

void domain_record_release(struct domain_record *r);

/* The record as JSON (new reference): its fields, its companion's, "feed"
 * and "seq", and with cseq a "companion" object {collection, feed, seq}. */
json_t *domain_record_json(const struct domain_record *r);

/* Adds a record of in->t from its typed values (every key field and every
 * FIELD_REQUIRED field given; the caller says which option was missing).
 * Checks it as typed input (record_check_input against this unit's keys,
 * before and after rotations) and writes it at the head of t->feed, and its
 * companion, if any companion field was given, in the companion's feed, in
 * one transaction. Fills *out. Errors: -EEXIST (already there: "use strata
 * TYPE update"), -EINVAL (a bad value), -ESRCH (a member not in the
 * registry), -EPERM (write fence), -EIO/-ENOMEM/-ENOSPC. */
int domain_record_add(const char *dir, const struct domain_input *in, struct domain_record *out,
		      struct err *e) WUR;

/* Updates the record named by in's key fields: the stored one with the
 * given fields set (a FIELD_NOTES value is appended), checked and written
 * as add does. -ESRCH when this unit has no such record (or it was erased);
 * otherwise as domain_record_add. */
int domain_record_update(const char *dir, const struct domain_input *in, struct domain_record *out,
			 struct err *e) WUR;

/* Reads this unit's record named by in's key fields (other values are
 * ignored), its companion if held, and where it was written. Writes
 * nothing; needs no key file. -ESRCH (none, or erased), -EIO (does not
 * decode: run strata verify), -EINVAL (a bad key value). */
int domain_record_get(const char *dir, const struct domain_input *in, struct domain_record *out,
		      struct err *e) WUR;

/* --- list and export --- */

/* Which records: of type t, of this unit only (own: its current key and
 * the keys it rotated from) or of every branch whose records reached this
 * node; value[i] given: only records whose field i reads so (a FIELD_MEMBERS
 * field: holds that id). */
struct domain_filter {
	const struct record_type *t;
	const char *value[DOMAIN_FIELDS_MAX];
	bool own;
};

/* One row of a list: valid during the callback only. */
struct domain_row {
	const struct record_type *t;
	const ProtobufCMessage *m;
	const ProtobufCMessage *cm; /* its companion where held, or NULL */
	const char *branch;         /* the writer's name below this node, or its key's first bytes in hex */
};

/* Calls fn for every record that matches q (erased values and values that
 * do not decode are left out), in the store's order (by owner, then key),
 * after a first call with r NULL once the store is open (a header goes
 * there).
 * fn's non-zero return stops the walk and is returned. Writes nothing;
 * needs no key file. *count receives how many rows fn saw. */
int domain_record_each(const char *dir, const struct domain_filter *q, int (*fn)(const struct domain_row *r, void *arg),
		       void *arg, size_t *count, struct err *e) WUR;

/* The row as JSON (new reference): its fields, its companion's, and with
 * branch its "branch". */
json_t *domain_row_json(const struct domain_row *r, bool branch);

struct domain_export_opts {
	/* Chinese column names and enum words (each type's record_zh table)
	 * instead of English; either reads back. Default English: the names
	 * are also the --options and JSON keys, and scripts read them. */
	bool zh;
};

/* Writes the records q selects to f as CSV, what Excel opens and saves
 * back without asking: UTF-8 with a byte-order mark, CRLF line ends, a
 * header row naming t's columns (and its companion's), with !q->own a
 * first "branch" column (an import refuses it: export --own to re-import).
 * Amounts in yuan, dates ISO, notes joined by " | ": domain_import reads
 * every exported file back as the same records (o may be NULL). *count
 * receives the rows written. Errors as domain_record_each; -EIO when f
 * fails. */
int domain_export(const char *dir, const struct domain_filter *q, FILE *f, const struct domain_export_opts *o,
		  size_t *count, struct err *e) WUR;

/* --- members with dues unpaid (domain_list.c) --- */

/* A member the report's members_unpaid figure counts for a period. */
struct domain_unpaid {
	const Strata__Member *m; /* the member: active and joined by the period's end */
	const Strata__Dues *d;   /* its dues record of the period (no paid date), or NULL: none */
};

/* Calls fn for every member of this unit whose dues of period (YYYY-MM)
 * are unpaid, exactly those the figure members_unpaid of the unit's report
 * of period counts (the one rule: dues_unpaid, node/records/dues.c), from
 * the records of every key of the unit (before and after rotations),
 * erased ones left out, in the store's order (by key, then member id);
 * after a first call with u NULL once the store is open. fn's non-zero
 * return stops the walk and is returned. *count: how many fn saw. Writes
 * nothing; needs no key file. -EINVAL naming a bad period. */
int domain_dues_unpaid(const char *dir, const char *period, int (*fn)(const struct domain_unpaid *u, void *arg),
		       void *arg, size_t *count, struct err *e) WUR;

/* The row as JSON (new reference): member, name, joined, and amount (fen)
 * of its dues record, or null without one. */
json_t *domain_unpaid_json(const struct domain_unpaid *u);

/* --- import --- */

/* A row refused by an import: its line and why. */
struct domain_bad {
	size_t line;
	char *msg;
};

/* A row of an import --update that changes a stored record: its line, key,
 * and what changes, "field: old → new" joined by "; " (an empty side is
 * "(none)"). */
struct domain_change {
	size_t line;
	char *key;
	char *what;
};

struct domain_import_result {
	size_t rows;       /* data rows read */
	size_t written;    /* records written (0 on a dry run or a failure) */
	size_t unchanged;  /* rows already stored with exactly these values */
	size_t changesets; /* change sets signed */
	uint64_t head;     /* the head of t->feed after the import */
	struct domain_bad *bad; /* the bad rows in line order, when the import refused the file */
	size_t nbad;
	bool gb18030;      /* the file was not UTF-8 and was read as GB18030 (GBK): say so */
	size_t updated;    /* with update: rows that change a stored record (written unless a dry run) */
	struct domain_change *changes; /* those rows in key order, even on a dry run */
	size_t nchanges;
};

/* Frees the bad rows and the changes. */
void domain_import_result_release(struct domain_import_result *r);

struct domain_import_opts {
	bool dry_run; /* check only: write nothing (no key file needed) */
	/* A row whose key is stored with other values changes it (r->changes
	 * says how) instead of being bad: the row replaces the record, so a
	 * column the file lacks clears that optional field. An import with
	 * update holds its rows in memory (the single-transaction strategy),
	 * for every type. */
	bool update;
	/* called every DOMAIN_IMPORT_BATCH rows written and once at the end
	 * (may be NULL) */
	void (*progress)(size_t done, size_t total, void *arg);
	void *arg;
};

/* Imports a CSV file (csv_read: a header row naming t's fields in any
 * order, plus the companion's) as records of type t: all or nothing. The
 * whole file is read and every row checked first (fields, key, duplicates in
 * the file, the type's input rules, records already stored: with the same
 * values they are skipped, so an interrupted import can run again; with
 * other values the row is bad). With any bad row nothing is written and
 * -EINVAL is returned ("FILE: N bad rows; nothing imported"), r->bad listing
 * them. Messages are the engine's unless the type words them itself
 * (record_type msg_columns, msg_required, msg_row_cells, msg_duplicate).
 * Fills *r. -EIO/-ENOENT reading the file, -EINVAL on a bad header.
 *
 * One function, two write strategies, chosen by the type's data (decided
 * for issue 13: the bulk writer cannot carry companions, which go in
 * another feed (node_writer_switch is not for a bulk writer), nor redo
 * store-dependent input checks on rows it keeps only as hashes, so the two
 * stay, behind one entry and one wording):
 * - a type with its own row reader (record_type import_row, whose rules
 *   need no store) and no companion (member) goes to the bulk writer, made
 *   for registries of hundreds of thousands: the file is read twice,
 *   keeping between the readings only each row's key, line and a hash of
 *   its record, and written by node_writer_begin_bulk in change sets of up
 *   to 1,000 ops, beginning only at the head of t->feed its checks read: if
 *   another writer got in between, the checks are made again. A file that
 *   changes between the readings (-EINVAL) or a write that fails (-EIO) stops
 *   it after whole change sets: r->written says how many records are in
 *   (run it again to finish), and e says so; a file that cannot be read is
 *   -EIO. r->rows counts the rows only once the file is accepted.
 * - every other type: rows are held in memory, checked against the store
 *   (domain_check_input) and written, companions in their own feed, in one
 *   write transaction, so that what was checked is what is written.
 * On success r->written is every record not already present (none on a dry
 * run) and r->head the head of t->feed.
 *
 * Either strategy reads the file with csv_read_as (r->gb18030: it was read
 * as GB18030), columns by English or Chinese name and cells through
 * record_input_text (Chinese enum words, 2026/3/5); a record that was
 * erased (strata erase) may be imported again, as add allows. */
int domain_import(const char *dir, const struct record_type *t, const char *path,
		  const struct domain_import_opts *o, struct domain_import_result *r, struct err *e) WUR;

#endif
