/* SPDX-License-Identifier: MIT */
/*
 * domain_import by the bulk writer (domain.h), for a type whose rows its
 * own reader checks without the store (record_type import_row: member) and
 * that has no companion: made for registries of hundreds of thousands, all
 * or nothing as far as input goes. The whole file is read and checked first (every bad
 * line is reported, and then nothing is written); ids already in the
 * registry with the same values are skipped, so an interrupted import can
 * simply be run again. Then the file is read a second time and its rows are
 * written in file order as change sets of up to 1,000 ops. Between the two
 * passes only each row's id, line and a hash of its record are kept (about
 * 50 bytes a row, not the record), so a million-row file needs some 60 MB;
 * a row that reads differently the second time (the file changed) stops the
 * import there, keeping whole change sets only, as an interruption does.
 *
 * Other writers may run at the same time (a second import, member add, the
 * daemon). The store checks read the head of the type's feed in the same read
 * transaction, and the writer begins only from that head: if another writer
 * appended in between, the checks are made again (so the same file
 * imported twice at once finds its members present the second time, and a
 * conflicting file is refused), never written over.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node.h"
#include "node/domain/domain.h"
#include "node/domain/domain_internal.h"
#include "node/report/report.h"
#include "protocol/arena.h"

#define ROWS_FIRST_CAP 1024
#define ROW_ARENA_BLOCK (4 << 20)
/* Checks against the registry redone when another writer got in first. */
#define CHECK_ATTEMPTS 5

#define ROW_HASH 16 /* bytes of BLAKE2b-256 of the packed record kept per row */

struct row {
	size_t line;
	size_t id_len;
	bool skip; /* already in the registry with these values */
	uint8_t hash[ROW_HASH];
	char data[]; /* key, NUL */
};

struct import {
	const struct record_type *t;
	const char *path;
	int col_of[DOMAIN_FIELDS_MAX];  /* column index of each field, -1 if absent */
	int ccol_of[DOMAIN_FIELDS_MAX]; /* (the type has no companion) */
	size_t ncols;
	ProtobufCMessage *m; /* the row being read: t->import_row fills it */
	/* its cells rewritten by record_input_text, which m may point into */
	char norm[DOMAIN_FIELDS_MAX][RECORD_INPUT_SIZE];
	struct row **rows;
	struct row **order;  /* the rows in file order (rows is sorted by id) */
	size_t nrows, cap;
	/* the second pass: writing */
	bool writing;
	size_t next;         /* index in order of the next row read */
	struct node_writer *w;
	uint8_t *val;        /* the packed record being written */
	size_t val_cap;
	size_t written, todo;
	int ret;             /* < 0: the second pass stopped; err says why */
	struct err err;
	/* The rows live until the command ends: allocated from blocks of huge
	 * pages, not one malloc each (209,000 of them, 27 MB, for a city's
	 * registry). */
	struct arena row_mem;
	struct domain_import_result *res;
	const struct domain_import_opts *o;
	size_t bad_cap;
	int oom;
	struct report_locks locks; /* this unit's locked periods (domain_lock_check) */
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

/* The packed record of a row in im->val (grown as needed) and its hash. */
static int pack_row(struct import *im, const ProtobufCMessage *m, size_t *len, uint8_t hash[HASH_BYTES])
{
	*len = protobuf_c_message_get_packed_size(m);
	if (*len > im->val_cap) {
		uint8_t *v = realloc(im->val, *len);

		if (!v)
			return -ENOMEM;
		im->val = v;
		im->val_cap = *len;
	}
	protobuf_c_message_pack(m, im->val);
	hash_blake2b(hash, im->val, *len);
	return 0;
}

/* Second pass: the row must read as it did the first time; then it is
 * written unless it is already in the registry. */
static void write_row(struct import *im, const struct csv_row *r, const char *key, const char *bad)
{
	struct row *row = im->next < im->nrows ? im->order[im->next] : NULL;
	uint8_t hash[HASH_BYTES];
	size_t len;

	im->next++;
	if (!row || bad || row->line != r->line || strcmp(row->data, key) != 0 ||
	    pack_row(im, im->m, &len, hash) < 0 || memcmp(hash, row->hash, ROW_HASH) != 0) {
		err_set(&im->err, "%s:%zu: the file changed while it was imported (this row reads differently now)",
			im->path, r->line);
		im->ret = -EINVAL;
		return;
	}
	if (row->skip)
		return;
	/* the op commits to the value with a salted hash of its own (hash
	 * above is the row's check, not the commitment) */
	if ((im->ret = node_writer_put(im->w, im->t->collection, (const uint8_t *)key, row->id_len, im->val, len,
				       &im->err)) < 0)
		return;
	if (++im->written % DOMAIN_IMPORT_BATCH == 0 && im->o->progress)
		im->o->progress(im->written, im->todo, im->o->arg);
}

/* Reads row r into im->m and its key, with the type's reader; NULL or
 * why the row is bad (in e). */
static const char *read_row(struct import *im, const struct csv_row *r, const char **key, struct err *e)
{
	const struct record_type *t = im->t;
	const char *cell[DOMAIN_FIELDS_MAX];
	char (*norm)[RECORD_INPUT_SIZE] = im->norm;

	if (r->bad)
		return r->bad;
	if (r->n != im->ncols) {
		domain_import_cells_msg(t, r->n, im->ncols, e->msg, sizeof e->msg);
		return e->msg;
	}
	/* the cells as the engine reads them: Chinese enum words, 2026/3/5 */
	for (size_t i = 0; i < t->n_fields; i++)
		cell[i] = im->col_of[i] >= 0 ? record_input_text(t, &t->fields[i], r->fields[im->col_of[i]], norm[i],
								  sizeof norm[i])
					     : NULL;
	memset(im->m, 0, t->descriptor->sizeof_message);
	/* the second reading only has to hash as the checked first one did */
	if (t->import_row(im->m, cell, im->writing, key, e) < 0)
		return e->msg;
	return NULL;
}

/* Keeps the row's key, line and hash (from the arena). */
static void keep_row(struct import *im, const struct csv_row *r, const char *key)
{
	size_t id_len = strlen(key), val_len;
	uint8_t hash[HASH_BYTES];
	struct row *row;

	if (pack_row(im, im->m, &val_len, hash) < 0 || !(row = arena_alloc(&im->row_mem, sizeof *row + id_len + 1))) {
		im->oom = 1;
		return;
	}
	row->line = r->line;
	row->id_len = id_len;
	row->skip = false;
	memcpy(row->hash, hash, ROW_HASH);
	memcpy(row->data, key, id_len + 1);
	if (im->nrows == im->cap) {
		size_t cap = im->cap ? 2 * im->cap : ROWS_FIRST_CAP;
		struct row **rows = realloc(im->rows, cap * sizeof *rows);

		if (!rows) {
			im->oom = 1;
			return;
		}
		im->rows = rows;
		im->cap = cap;
	}
	im->rows[im->nrows++] = row;
}

static int on_row(const struct csv_row *r, void *arg)
{
	struct import *im = arg;
	struct err e = {0};
	const char *key = NULL, *bad;

	if (im->oom || im->ret < 0)
		return 0;
	bad = read_row(im, r, &key, &e);
	if (!bad && !im->writing && domain_lock_check(&im->locks, im->t, im->m, &e) < 0)
		bad = e.msg;
	if (im->writing)
		write_row(im, r, key, bad);
	else if (bad)
		add_bad(im, r->line, bad);
	else
		keep_row(im, r, key);
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
	int c = strcmp(x->data, y->data);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int stop_at_first(const struct store_record *r, void *arg)
{
	(void)r;
	(void)arg;
	return 1;
}

/* Duplicate keys within the file; sets im->order. */
static int sort_rows(struct import *im, struct err *e)
{
	char msg[DOMAIN_MSG_CAP];
	size_t sorted = im->nrows ? 1 : 0;

	/* A registry's export is mostly in id order already. Rows strictly
	 * increasing by id have no duplicates and need no sort, and file order
	 * is id order: rows serves as order, no 1.7 MB copy and sort for
	 * 209,000 rows. */
	while (sorted < im->nrows && strcmp(im->rows[sorted - 1]->data, im->rows[sorted]->data) < 0)
		sorted++;
	if (sorted == im->nrows) {
		im->order = im->rows;
		return 0;
	}
	if (!(im->order = malloc(im->nrows * sizeof *im->order))) {
		err_set(e, "%s: out of memory", im->path);
		return -ENOMEM;
	}
	memcpy(im->order, im->rows, im->nrows * sizeof *im->rows);
	qsort(im->rows, im->nrows, sizeof *im->rows, row_cmp);
	for (size_t i = 1; i < im->nrows; i++)
		if (strcmp(im->rows[i]->data, im->rows[i - 1]->data) == 0) {
			domain_import_duplicate_msg(im->t, im->rows[i]->data, im->rows[i - 1]->line, msg, sizeof msg);
			add_bad(im, im->rows[i]->line, msg);
		}
	return 0;
}

/* Keys the store already holds, in one read transaction that also reads
 * the head of the type's feed into *from: the writer refuses to begin if the
 * head has moved since (another writer got in between), and the import
 * checks again. Marks rows to skip; may be called again. */
static int check_ids(struct import *im, struct node *n, size_t *unchanged, struct store_head *from,
		     struct err *e)
{
	struct store_txn *t = NULL;
	struct err ignore = {0};
	char msg[DOMAIN_MSG_CAP];
	int ret;

	*unchanged = 0;
	for (size_t i = 0; i < im->nrows; i++)
		im->rows[i]->skip = false;
	if ((ret = store_txn_begin(node_store(n), false, &t, e)) < 0)
		return ret;
	if ((ret = store_head_get(t, node_id(n), im->t->feed, from, &ignore)) < 0 && ret != -ENOENT) {
		err_set(e, "%s", ignore.msg);
		goto out;
	}
	/* A first import into an empty registry, the usual case for a large
	 * file, has nothing to look up. */
	if ((ret = store_state_each(t, im->t->collection, node_id(n), stop_at_first, NULL, e)) <= 0)
		goto out;
	for (size_t i = 0; i < im->nrows; i++) {
		struct row *r = im->rows[i];
		const uint8_t *v;
		size_t vl;
		uint8_t h[HASH_BYTES];

		ret = store_state_get(t, im->t->collection, node_id(n), (const uint8_t *)r->data, r->id_len, &v, &vl,
				      NULL, &ignore);
		if (ret == -ENOENT)
			continue;
		if (ret < 0) {
			err_set(e, "%s", ignore.msg);
			goto out;
		}
		if (vl == 0) /* erased: imported again, as add allows */
			continue;
		hash_blake2b(h, v, vl);
		if (memcmp(h, r->hash, ROW_HASH) == 0) {
			r->skip = true;
			(*unchanged)++;
			continue;
		}
		domain_import_exists_msg(im->t, r->data, msg, sizeof msg);
		add_bad(im, r->line, msg);
	}
	ret = 0;
out:
	store_txn_abort(&t);
	return ret;
}

/* Check against the registry, then begin writing from the head those
 * checks saw; another writer in between (a second import, member add)
 * makes the checks stale: check again. im->w is NULL when there is
 * nothing to write (or a dry run). */
static int check_and_begin(struct import *im, struct node *n, bool dry, struct err *e)
{
	struct domain_import_result *r = im->res;
	int ret;

	for (int attempt = 1;; attempt++) {
		struct store_head from;

		if (!im->oom && (ret = check_ids(im, n, &r->unchanged, &from, e)) < 0)
			return ret;
		if (im->oom) {
			err_set(e, "%s: out of memory", im->path);
			return -ENOMEM;
		}
		if (r->nbad)
			return domain_bad_refuse(r, im->path, e);
		im->todo = im->nrows - r->unchanged;
		if (dry || !im->todo)
			return 0;
		ret = node_writer_begin_bulk(n, im->t->feed, &from, &im->w, e);
		if (ret == -EAGAIN && attempt < CHECK_ATTEMPTS) {
			memset(e, 0, sizeof *e);
			continue;
		}
		return ret;
	}
}

/* The second reading of the file, writing; whole change sets are kept if
 * it stops (r->written says how many members). */
static int write_pass(struct import *im, struct err *e)
{
	struct domain_import_result *r = im->res;
	int ret;

	im->writing = true;
	ret = csv_read(im->path, on_header, on_row, im, e);
	if (ret >= 0 && im->ret < 0) {
		ret = im->ret;
		*e = im->err;
	} else if (ret >= 0 && im->next != im->nrows) {
		err_set(e, "%s: the file changed while it was imported (%zu rows now, %zu before)", im->path, im->next,
			im->nrows);
		ret = -EINVAL;
	}
	if (ret >= 0) {
		ret = node_writer_commit(&im->w, &r->changesets, &r->head, e);
		r->written = im->todo;
	} else {
		r->written = node_writer_ops_committed(im->w);
		node_writer_abort(&im->w);
	}
	if (im->o->progress)
		im->o->progress(ret < 0 ? r->written : im->todo, im->todo, im->o->arg);
	if (ret < 0) {
		err_prefix(e, "%s: stopped after %zu of %zu %ss (whole change sets; run the same import again to finish)",
			   im->path, r->written, im->todo, err_gettext(im->t->noun));
		if (ret == -ENOENT)
			ret = -EIO;
	}
	return ret;
}

/* Nothing written: the feed's current head. */
static uint64_t feed_head(struct node *n, const char *feed)
{
	struct store_txn *t = NULL;
	struct store_head h;
	struct err ignore = {0};
	uint64_t seq = 0;

	if (store_txn_begin(node_store(n), false, &t, &ignore) == 0 && store_head_get(t, node_id(n), feed, &h, &ignore) == 0)
		seq = h.seq;
	store_txn_abort(&t);
	return seq;
}

int domain_import_bulk(const char *dir, const struct record_type *t, const char *path,
		       const struct domain_import_opts *o, struct domain_import_result *r, struct err *e)
{
	static const struct domain_import_opts none = {0};
	struct import im = {.t = t, .path = path, .res = r, .o = o ? o : &none};
	bool dry = o && o->dry_run;
	struct node *n = NULL;
	int ret;

	arena_init_huge(&im.row_mem, ROW_ARENA_BLOCK);
	if (!(im.m = malloc(t->descriptor->sizeof_message))) {
		err_set(e, "%s: out of memory", path);
		ret = -ENOMEM;
		goto out;
	}
	if ((ret = node_open(&n, dir, dry ? NODE_NO_KEY : 0, e)) < 0 || (ret = domain_locks_read(n, &im.locks, e)) < 0)
		goto out;
	if ((ret = csv_read_as(im.path, on_header, on_row, &im, &r->gb18030, e)) < 0) {
		ret = ret == -ENOENT ? -EIO : ret;
		goto out;
	}
	if ((!im.oom && (ret = sort_rows(&im, e)) < 0) || (ret = check_and_begin(&im, n, dry, e)) < 0)
		goto out;
	r->rows = im.nrows;
	if (!dry && im.todo && (ret = write_pass(&im, e)) < 0)
		goto out;
	if (!r->changesets)
		r->head = feed_head(n, t->feed);
out:
	report_locks_free(&im.locks);
	node_writer_abort(&im.w);
	arena_release(&im.row_mem);
	if (im.order != im.rows)
		free(im.order);
	free(im.rows);
	free(im.val);
	free(im.m);
	node_close(&n);
	return ret;
}
