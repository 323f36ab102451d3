/* SPDX-License-Identifier: MIT */
/*
 * Import a CSV file as records of any type of the engine (domain.h): the
 * entry and the single-transaction strategy: read and check every row, then
 * check them against the store and write them in the same write
 * transaction, so that what was checked is what is written. The bulk
 * strategy is domain_import_bulk.c; the header and wording every import
 * shares, domain_import_header.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node.h"
#include "node/domain/domain.h"
#include "node/domain/domain_internal.h"
#include "node/report/report.h"

#define ROWS_FIRST_CAP 256
#define NOTES_SEP " | " /* export joins a record's notes so */

struct row {
	size_t line;
	char *key;
	uint8_t *value;
	size_t len;
	uint8_t *cvalue; /* its companion record (a request's contact), or NULL */
	size_t clen;
	bool skip;
};

struct import {
	const struct record_type *t;
	const char *path;
	int col_of[DOMAIN_FIELDS_MAX];
	int ccol_of[DOMAIN_FIELDS_MAX]; /* the companion's fields: their own columns, or its key's */
	size_t ncols;
	struct row *rows;
	size_t nrows, cap;
	struct domain_import_result *res;
	const struct domain_import_opts *o;
	size_t bad_cap, change_cap;
	int oom;
	struct report_locks *locks; /* this unit's locked periods (domain_lock_check) */
};

static void add_bad(struct import *im, size_t line, const char *msg)
{
	if (domain_bad_add(im->res, &im->bad_cap, line, msg) < 0)
		im->oom = 1;
}

static int on_header(const struct csv_row *r, void *arg, struct err *e)
{
	struct import *im = arg;

	return domain_import_header(im->t, im->path, r, im->col_of, im->ccol_of, &im->ncols, e);
}

static int pack(const ProtobufCMessage *m, uint8_t **out, size_t *len, struct err *e)
{
	*len = protobuf_c_message_get_packed_size(m);
	if (!(*out = malloc(*len ? *len : 1))) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	protobuf_c_message_pack(m, *out);
	return 0;
}

/* The row's companion record, packed into *out (malloc'd), if any of its
 * own columns is filled; else *out NULL. -EINVAL with the reason. */
static int row_companion(struct import *im, const struct csv_row *r, uint8_t **out, size_t *len, struct err *e)
{
	const struct record_type *c = im->t->companion;
	ProtobufCMessage *cm;
	bool any = false;
	int ret = 0;

	*out = NULL;
	for (size_t j = 0; c && j < c->n_fields; j++)
		any |= !(c->fields[j].flags & FIELD_KEY) && im->ccol_of[j] >= 0 && r->fields[im->ccol_of[j]][0];
	if (!any)
		return 0;
	if (!(cm = record_new(c))) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	for (size_t j = 0; j < c->n_fields && ret == 0; j++)
		if (im->ccol_of[j] >= 0 && r->fields[im->ccol_of[j]][0])
			ret = record_set(c, cm, &c->fields[j], r->fields[im->ccol_of[j]], e);
	if (ret == 0 && (ret = record_check_fields(c, cm, NULL, 0, e)) == 0)
		ret = pack(cm, out, len, e);
	record_free(cm);
	return ret;
}

/* Sets field f of m from a cell: notes are split where export joined them. */
static void set_cell(const struct record_type *t, ProtobufCMessage *m, const struct record_field *f, const char *cell,
		     struct err *e)
{
	char *copy, *p, *sep;

	if (f->type != FIELD_NOTES) {
		if (record_set(t, m, f, cell, e) < 0 && !e->msg[0])
			err_set(e, "out of memory");
		return;
	}
	if (!(copy = strdup(cell))) {
		err_set(e, "out of memory");
		return;
	}
	for (p = copy; p && !e->msg[0]; p = sep ? sep + strlen(NOTES_SEP) : NULL) {
		if ((sep = strstr(p, NOTES_SEP)))
			*sep = '\0';
		if (*p && record_set(t, m, f, p, e) < 0 && !e->msg[0])
			err_set(e, "out of memory");
	}
	free(copy);
}

/* The row as a record of t in m; e->msg says why not. */
static void row_record(struct import *im, const struct csv_row *r, ProtobufCMessage *m, struct err *e)
{
	const struct record_type *t = im->t;

	for (size_t i = 0; i < t->n_fields && !e->msg[0]; i++) {
		const char *cell = im->col_of[i] >= 0 ? r->fields[im->col_of[i]] : "";

		if (!cell[0]) {
			if (t->fields[i].flags & FIELD_REQUIRED)
				err_set(e, "%s: %s is missing", t->collection, t->fields[i].name);
			continue;
		}
		set_cell(t, m, &t->fields[i], cell, e);
	}
}

static struct row *row_next(struct import *im)
{
	if (im->nrows == im->cap) {
		size_t cap = im->cap ? 2 * im->cap : ROWS_FIRST_CAP;
		struct row *v = realloc(im->rows, cap * sizeof *v);

		if (!v)
			return NULL;
		im->rows = v;
		im->cap = cap;
	}
	return &im->rows[im->nrows];
}

/* Keeps a checked row: its key, its packed record and companion. */
static void keep_row(struct import *im, const struct csv_row *r, const ProtobufCMessage *m, const char *key,
		     uint8_t **cvalue, size_t clen)
{
	struct row *row = row_next(im);
	struct err e = {0};

	if (!row) {
		im->oom = 1;
		return;
	}
	*row = (struct row){.line = r->line, .cvalue = *cvalue, .clen = clen};
	*cvalue = NULL;
	if (!(row->key = strdup(key)) || pack(m, &row->value, &row->len, &e) < 0) {
		free(row->key);
		free(row->cvalue);
		im->oom = 1;
		return;
	}
	im->nrows++;
}

static int on_row(const struct csv_row *r, void *arg)
{
	struct import *im = arg;
	ProtobufCMessage *m;
	struct err e = {0};
	char key[DOMAIN_KEY_CAP];
	uint8_t *cvalue = NULL;
	size_t clen = 0;

	if (im->oom)
		return 0;
	im->res->rows++;
	if (r->bad) {
		add_bad(im, r->line, r->bad);
		return 0;
	}
	if (r->n != im->ncols) {
		domain_import_cells_msg(im->t, r->n, im->ncols, e.msg, sizeof e.msg);
		add_bad(im, r->line, e.msg);
		return 0;
	}
	if (!(m = record_new(im->t))) {
		im->oom = 1;
		return 0;
	}
	row_record(im, r, m, &e);
	if (!e.msg[0] && record_check_fields(im->t, m, NULL, 0, &e) == 0 &&
	    record_key(im->t, m, key, sizeof key, &e) == 0 && row_companion(im, r, &cvalue, &clen, &e) == 0)
		keep_row(im, r, m, key, &cvalue, clen);
	if (e.msg[0])
		add_bad(im, r->line, e.msg);
	free(cvalue);
	record_free(m);
	return 0;
}

static int row_cmp(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	int c = strcmp(a->key, b->key);

	return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* Does the store hold row r's companion as the row has it (or has the row
 * none)? */
static bool companion_same(const struct record_type *t, struct store_txn *txn, const uint8_t *owner,
			   const struct row *r)
{
	const uint8_t *v;
	size_t vl;

	if (!r->cvalue)
		return true;
	return store_state_get(txn, t->companion->collection, owner, (const uint8_t *)r->key, strlen(r->key), &v, &vl,
			       NULL, &(struct err){0}) == 0 &&
	       vl == r->clen && memcmp(v, r->cvalue, vl) == 0;
}

/* Row r against the store: already there (skip, or bad with other values)
 * or checked as input. */
static void check_row(struct import *im, struct node *n, struct store_txn *txn, struct row *r)
{
	const struct record_type *t = im->t;
	const uint8_t *v;
	size_t vl;
	struct err e = {0};
	ProtobufCMessage *m;
	char msg[DOMAIN_MSG_CAP];

	/* an erased record (no value left) may be imported again, as add allows */
	if (node_own_state_get(n, txn, t->collection, (const uint8_t *)r->key, strlen(r->key), &v, &vl, NULL, NULL, &e) ==
		    0 &&
	    vl > 0) {
		if (vl == r->len && memcmp(v, r->value, vl) == 0 && companion_same(t, txn, node_id(n), r)) {
			r->skip = true;
			im->res->unchanged++;
			return;
		}
		if (!(im->o && im->o->update)) {
			domain_import_exists_msg(t, r->key, msg, sizeof msg);
			add_bad(im, r->line, msg);
			return;
		}
		/* --update: the row replaces the record, checked as input below;
		 * the record as stored counts in its months too (a lock) */
		if ((m = protobuf_c_message_unpack(t->descriptor, NULL, vl, v)) &&
		    domain_lock_check(im->locks, t, m, &e) < 0) {
			add_bad(im, r->line, e.msg);
			record_free(m);
			return;
		}
		record_free(m);
		im->res->updated++;
		if (domain_change_add(im->res, &im->change_cap, t, r->key, r->line, v, vl, r->value, r->len) < 0)
			im->oom = 1;
	}
	memset(&e, 0, sizeof e);
	if (!(m = protobuf_c_message_unpack(t->descriptor, NULL, r->len, r->value)))
		return;
	if (domain_check_input(t, m, txn, n, &e) < 0 || domain_lock_check(im->locks, t, m, &e) < 0)
		add_bad(im, r->line, e.msg);
	record_free(m);
}

/* Duplicates in the file; input checks against the store; present ones. */
static int check_rows(struct import *im, struct node *n, struct store_txn *txn)
{
	char msg[DOMAIN_MSG_CAP];
	struct report_locks locks;
	struct err e = {0};

	if (report_locks_load(n, txn, &locks, &e) < 0)
		return -ENOMEM; /* (or the store's error: the import is refused either way) */
	im->locks = &locks;

	if (im->nrows > 1)
		qsort(im->rows, im->nrows, sizeof *im->rows, row_cmp);
	for (size_t i = 0; i < im->nrows; i++) {
		struct row *r = &im->rows[i];

		if (i && strcmp(r->key, im->rows[i - 1].key) == 0) {
			domain_import_duplicate_msg(im->t, r->key, im->rows[i - 1].line, msg, sizeof msg);
			add_bad(im, r->line, msg);
			continue;
		}
		check_row(im, n, txn, r);
	}
	report_locks_free(&locks);
	im->locks = NULL;
	return im->oom ? -ENOMEM : 0;
}

/* Writes the rows not skipped, then their companions in their own feed. */
static int write_rows(struct import *im, struct node_writer *w, const struct domain_import_opts *o, struct err *e)
{
	const struct record_type *t = im->t;
	size_t todo = im->nrows - im->res->unchanged;
	int ret = 0;

	for (size_t i = 0; i < im->nrows; i++) {
		struct row *r = &im->rows[i];

		if (r->skip)
			continue;
		if ((ret = node_writer_put(w, t->collection, (const uint8_t *)r->key, strlen(r->key), r->value, r->len, e)) < 0)
			return ret;
		if (++im->res->written % DOMAIN_IMPORT_BATCH == 0 && o && o->progress)
			o->progress(im->res->written, todo, o->arg);
	}
	for (size_t i = 0, first = 1; i < im->nrows; i++) {
		struct row *r = &im->rows[i];

		if (r->skip || !r->cvalue)
			continue;
		if (first && (ret = node_writer_switch(w, t->companion->feed, NULL, e)) < 0)
			return ret;
		first = 0;
		if ((ret = node_writer_put(w, t->companion->collection, (const uint8_t *)r->key, strlen(r->key), r->cvalue,
					   r->clen, e)) < 0)
			return ret;
	}
	return 0;
}

/* The rows checked against the store, written unless any was bad or this
 * is a dry run. */
static int check_and_write(struct import *im, struct node *n, const struct domain_import_opts *o, struct err *e)
{
	struct domain_import_result *r = im->res;
	struct node_writer *w = NULL;
	struct store_txn *rd = NULL;
	bool dry = o && o->dry_run;
	int ret;

	/* Check and write in one transaction: what was checked is what is written. */
	if (dry)
		ret = store_txn_begin(node_store(n), false, &rd, e);
	else
		ret = node_writer_begin(n, im->t->feed, &w, e);
	if (ret < 0 || (ret = check_rows(im, n, dry ? rd : node_writer_txn(w))) < 0)
		goto out;
	if (r->nbad) {
		ret = domain_bad_refuse(r, im->path, e);
		goto out;
	}
	if (dry)
		goto out;
	if ((ret = write_rows(im, w, o, e)) < 0 || (ret = node_writer_commit(&w, &r->changesets, &r->head, e)) < 0) {
		r->written = 0;
		goto out;
	}
	if (o && o->progress)
		o->progress(r->written, r->written, o->arg);
out:
	store_txn_abort(&rd);
	node_writer_abort(&w);
	return ret;
}

/* The single-transaction strategy. */
static int import_held(const char *dir, const struct record_type *t, const char *path,
		       const struct domain_import_opts *o, struct domain_import_result *r, struct err *e)
{
	struct import im = {.t = t, .path = path, .res = r, .o = o};
	struct node *n = NULL;
	int ret;

	if ((ret = node_open(&n, dir, o && o->dry_run ? NODE_NO_KEY : 0, e)) < 0 ||
	    (ret = csv_read_as(path, on_header, on_row, &im, &r->gb18030, e)) < 0)
		goto out;
	if (im.oom) {
		err_set(e, "%s: out of memory", path);
		ret = -ENOMEM;
		goto out;
	}
	ret = check_and_write(&im, n, o, e);
out:
	for (size_t i = 0; i < im.nrows; i++) {
		free(im.rows[i].key);
		free(im.rows[i].value);
		free(im.rows[i].cvalue);
	}
	free(im.rows);
	node_close(&n);
	return ret;
}

int domain_import(const char *dir, const struct record_type *t, const char *path, const struct domain_import_opts *o,
		  struct domain_import_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	/* The strategy is the type's data (domain.h): rows a reader of its own
	 * checks without the store, and no companion in another feed; an
	 * update, which needs each row's values, holds them. */
	if (t->import_row && !t->companion && !(o && o->update))
		return domain_import_bulk(dir, t, path, o, r, e);
	return import_held(dir, t, path, o, r, e);
}
