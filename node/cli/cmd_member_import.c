/* SPDX-License-Identifier: MIT */
/*
 * strata member import: a CSV of members into the registry, all or nothing
 * as far as input goes. The whole file is read and checked first (every bad
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
 * daemon). The registry checks read the head of feed "up" in the same read
 * transaction, and the writer begins only from that head: if another writer
 * appended in between, the checks are made again (so the same file
 * imported twice at once finds its members present the second time, and a
 * conflicting file is refused), never written over.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "node/cli/cli.h"
#include "node/core/node.h"
#include "node/records/records.h"
#include "node/sync/sync.h"
#include "protocol/arena.h"

#define MAX_ERRORS_SHOWN 50
/* Checks against the registry redone when another writer got in first. */
#define CHECK_ATTEMPTS 5

enum col { C_ID, C_NAME, C_CATEGORY, C_JOINED, C_STATUS, C_PHONE, C_BIRTH, C_GENDER, C_ADDRESS, C_COUNT };
static const char *const col_names[C_COUNT] = {"id", "name", "category", "joined",
					       "status", "phone", "birth", "gender", "address"};
#define REQUIRED_COLS 4 /* the first four */

#define ROW_HASH 16 /* bytes of BLAKE2b-256 of the packed Member kept per row */

struct row {
	size_t line;
	size_t id_len;
	bool skip; /* already in the registry with these values */
	uint8_t hash[ROW_HASH];
	char data[]; /* id, NUL */
};

struct bad {
	size_t line;
	char *msg;
};

struct import {
	const char *path;
	int col_of[C_COUNT];  /* column index of each field, -1 if absent */
	size_t ncols;
	struct row **rows;
	struct row **order;  /* the rows in file order (rows is sorted by id) */
	size_t nrows, cap;
	/* the second pass: writing */
	bool writing;
	size_t next;         /* index in order of the next row read */
	struct node_writer *w;
	uint8_t *val;        /* the packed Member being written */
	size_t val_cap;
	size_t written, todo;
	int ret;             /* < 0: the second pass stopped; err says why */
	struct err err;
	/* The rows live until the command ends: allocated from blocks of huge
	 * pages, not one malloc each (209,000 of them, 27 MB, for a city's
	 * registry). */
	struct arena row_mem;
	struct bad *bad;
	size_t nbad, bad_cap;
	int oom;
};

static void add_bad(struct import *im, size_t line, const char *msg)
{
	if (im->nbad == im->bad_cap) {
		size_t cap = im->bad_cap ? 2 * im->bad_cap : 16;
		struct bad *b = realloc(im->bad, cap * sizeof *b);

		if (!b) {
			im->oom = 1;
			return;
		}
		im->bad = b;
		im->bad_cap = cap;
	}
	im->bad[im->nbad].line = line;
	if (!(im->bad[im->nbad].msg = strdup(msg))) {
		im->oom = 1;
		return;
	}
	im->nbad++;
}

static int on_header(const struct csv_row *r, void *arg, struct err *e)
{
	struct import *im = arg;

	for (int c = 0; c < C_COUNT; c++)
		im->col_of[c] = -1;
	for (size_t i = 0; i < r->n; i++) {
		int c = 0;

		while (c < C_COUNT && strcmp(r->fields[i], col_names[c]) != 0)
			c++;
		if (c == C_COUNT) {
			err_set(e, "%s:%zu: unknown column \"%s\" (columns: id,name,category,joined and optionally "
				   "status,phone,birth,gender,address)",
				im->path, r->line, r->fields[i]);
			return -EINVAL;
		}
		if (im->col_of[c] >= 0) {
			err_set(e, "%s:%zu: column \"%s\" appears twice", im->path, r->line, r->fields[i]);
			return -EINVAL;
		}
		im->col_of[c] = (int)i;
	}
	for (int c = 0; c < REQUIRED_COLS; c++)
		if (im->col_of[c] < 0) {
			err_set(e, "%s:%zu: the header has no \"%s\" column (required: id,name,category,joined)",
				im->path, r->line, col_names[c]);
			return -EINVAL;
		}
	im->ncols = r->n;
	return 0;
}

static const char *field(const struct import *im, const struct csv_row *r, enum col c)
{
	return im->col_of[c] >= 0 ? r->fields[im->col_of[c]] : NULL;
}

/* The packed record of a row in im->val (grown as needed) and its hash. */
static int pack_row(struct import *im, const Strata__Member *m, size_t *len, uint8_t hash[HASH_BYTES])
{
	*len = strata__member__get_packed_size(m);
	if (*len > im->val_cap) {
		uint8_t *v = realloc(im->val, *len);

		if (!v)
			return -ENOMEM;
		im->val = v;
		im->val_cap = *len;
	}
	strata__member__pack(m, im->val);
	hash_blake2b(hash, im->val, *len);
	return 0;
}

/* Second pass: the row must read as it did the first time; then it is
 * written unless it is already in the registry. */
static void write_row(struct import *im, const struct csv_row *r, const Strata__Member *m, const char *bad)
{
	struct row *row = im->next < im->nrows ? im->order[im->next] : NULL;
	uint8_t hash[HASH_BYTES];
	size_t len;

	im->next++;
	if (!row || bad || row->line != r->line || strcmp(row->data, m->id) != 0 ||
	    pack_row(im, m, &len, hash) < 0 || memcmp(hash, row->hash, ROW_HASH) != 0) {
		err_set(&im->err, "%s:%zu: the file changed while it was imported (this row reads differently now)",
			im->path, r->line);
		im->ret = -EINVAL;
		return;
	}
	if (row->skip)
		return;
	/* hash is the full BLAKE2b-256 of the value: the op's value hash */
	if ((im->ret = node_writer_put_hashed(im->w, "member", (const uint8_t *)m->id, row->id_len, im->val, len,
					      hash, &im->err)) < 0)
		return;
	if (++im->written % 1000 == 0)
		cli_progress("importing members", im->written, im->todo);
}

static int on_row(const struct csv_row *r, void *arg)
{
	struct import *im = arg;
	struct err e = {0};
	Strata__Member m;
	struct row *row;
	size_t id_len, val_len;
	uint8_t hash[HASH_BYTES];
	const char *bad = NULL;

	if (im->oom || im->ret < 0)
		return 0;
	if (r->bad) {
		bad = r->bad;
	} else if (r->n != im->ncols) {
		snprintf(e.msg, sizeof e.msg, "has %zu column%s, the header has %zu", r->n, r->n == 1 ? "" : "s",
			 im->ncols);
		bad = e.msg;
	} else {
		const struct member_text t = {
			.id = field(im, r, C_ID),         .name = field(im, r, C_NAME),
			.category = field(im, r, C_CATEGORY), .status = field(im, r, C_STATUS),
			.joined = field(im, r, C_JOINED), .phone = field(im, r, C_PHONE),
			.birth = field(im, r, C_BIRTH),   .gender = field(im, r, C_GENDER),
			.address = field(im, r, C_ADDRESS),
		};

		/* the second reading only has to hash as the checked first one did */
		if ((im->writing ? member_fill_text(&m, &t, &e) : member_from_text(&m, &t, &e)) < 0)
			bad = e.msg;
	}
	if (im->writing) {
		write_row(im, r, &m, bad);
		return 0;
	}
	if (bad) {
		add_bad(im, r->line, bad);
		return 0;
	}
	id_len = strlen(m.id);
	if (pack_row(im, &m, &val_len, hash) < 0 ||
	    !(row = arena_alloc(&im->row_mem, sizeof *row + id_len + 1))) {
		im->oom = 1;
		return 0;
	}
	row->line = r->line;
	row->id_len = id_len;
	row->skip = false;
	memcpy(row->hash, hash, ROW_HASH);
	memcpy(row->data, m.id, id_len + 1);
	if (im->nrows == im->cap) {
		size_t cap = im->cap ? 2 * im->cap : 1024;
		struct row **rows = realloc(im->rows, cap * sizeof *rows);

		if (!rows) {
			im->oom = 1;
			return 0;
		}
		im->rows = rows;
		im->cap = cap;
	}
	im->rows[im->nrows++] = row;
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
	int c = strcmp(x->data, y->data);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int bad_cmp(const void *a, const void *b)
{
	const struct bad *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

static int stop_at_first(const struct store_record *r, void *arg)
{
	(void)r;
	(void)arg;
	return 1;
}

/* Duplicate ids within the file; sets im->order. */
static int sort_rows(struct import *im, struct err *e)
{
	char msg[300];
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
			snprintf(msg, sizeof msg, "duplicate id %.64s (first on line %zu)", im->rows[i]->data,
				 im->rows[i - 1]->line);
			add_bad(im, im->rows[i]->line, msg);
		}
	return 0;
}

/* Ids the registry already holds, in one read transaction that also reads
 * the head of feed "up" into *from: the writer refuses to begin if the
 * head has moved since (another writer got in between), and the import
 * checks again. Marks rows to skip; may be called again. */
static int check_ids(struct import *im, struct node *n, size_t *unchanged, struct store_head *from,
		     struct err *e)
{
	struct store_txn *t = NULL;
	struct err ignore = {0};
	char msg[300];
	int ret;

	*unchanged = 0;
	for (size_t i = 0; i < im->nrows; i++)
		im->rows[i]->skip = false;
	if ((ret = store_txn_begin(node_store(n), false, &t, e)) < 0)
		return ret;
	if ((ret = store_head_get(t, node_id(n), "up", from, &ignore)) < 0 && ret != -ENOENT) {
		err_set(e, "%s", ignore.msg);
		goto out;
	}
	/* A first import into an empty registry, the usual case for a large
	 * file, has nothing to look up. */
	if ((ret = store_state_each(t, "member", node_id(n), stop_at_first, NULL, e)) <= 0)
		goto out;
	for (size_t i = 0; i < im->nrows; i++) {
		struct row *r = im->rows[i];
		const uint8_t *v;
		size_t vl;
		uint8_t h[HASH_BYTES];

		ret = store_state_get(t, "member", node_id(n), (const uint8_t *)r->data, r->id_len, &v, &vl, NULL,
				      &ignore);
		if (ret == -ENOENT)
			continue;
		if (ret < 0) {
			err_set(e, "%s", ignore.msg);
			goto out;
		}
		hash_blake2b(h, v, vl);
		if (memcmp(h, r->hash, ROW_HASH) == 0) {
			r->skip = true;
			(*unchanged)++;
			continue;
		}
		snprintf(msg, sizeof msg, "member %.64s already exists with other values (use strata member update)",
			 r->data);
		add_bad(im, r->line, msg);
	}
	ret = 0;
out:
	store_txn_abort(&t);
	return ret;
}

/* Lists the bad rows (in line order) and returns the exit code. */
static int report_bad(struct import *im)
{
	if (im->nbad > 1)
		qsort(im->bad, im->nbad, sizeof *im->bad, bad_cmp);
	for (size_t i = 0; i < im->nbad && i < MAX_ERRORS_SHOWN; i++)
		fprintf(stderr, "strata: member import: %s:%zu: %s\n", im->path, im->bad[i].line, esc(im->bad[i].msg));
	if (im->nbad > MAX_ERRORS_SHOWN)
		fprintf(stderr, "strata: member import: ... and %zu more bad rows\n", im->nbad - MAX_ERRORS_SHOWN);
	return cli_fail("member import", EXIT_REJECTED, "%s: %zu bad row%s; nothing imported", im->path, im->nbad,
			im->nbad == 1 ? "" : "s");
}

static void help(FILE *f)
{
	fprintf(f,
		"usage: strata member import [-d DIR] FILE.csv [--dry-run] [--json]\n\n"
		"Imports members from a CSV file (UTF-8, comma-separated, RFC 4180 quoting).\n"
		"The header row names the columns, in any order:\n"
		"  id,name,category,joined            required\n"
		"  status,phone,birth,gender,address  optional (status defaults to active)\n"
		"Dates are YYYY-MM-DD; category is full or probationary; gender is female,\n"
		"male or other.\n\n"
		"The whole file is checked first. If any row is bad (a wrong date, an unknown\n"
		"category, a duplicate id, a missing column, text that is not UTF-8), every bad\n"
		"line is listed and nothing is imported (exit 2). Members already in the\n"
		"registry with exactly the same values are skipped, so an import that was\n"
		"interrupted can be run again; a member already there with other values is an\n"
		"error (use strata member update). Imports and other writers may run at the\n"
		"same time: these checks are made again if another writer got in first.\n\n"
		"  --dry-run  check the file and report, write nothing\n"
		"  --json     print the result as JSON\n");
}

int member_import_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'}, {"json", no_argument, NULL, 'j'},
		{"dry-run", no_argument, NULL, 'n'},   {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct import im = {0};
	struct node *n = NULL;
	struct err e = {0};
	size_t unchanged = 0, written = 0, changesets = 0, todo;
	uint64_t head = 0;
	bool dry = false;
	int opt, ret, code = EXIT_OK;

	cli_common_init(&c);
#ifdef __GLIBC__
	/* Writing allocates and frees, per change set and per transaction,
	 * buffers of hundreds of KiB to a few MiB (the decoded change set,
	 * LMDB's page lists). By default glibc hands those back to the kernel
	 * (munmap, or trimming the heap) and they are faulted in again the
	 * next time: for 209,000 members some 1,000 page faults, 5 % of the
	 * CPU time on a virtual machine. This process ends when the import
	 * does: keep the memory. Only a tuning: the calls may fail harmlessly. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
	arena_init_huge(&im.row_mem, 4 << 20);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'j': c.json = true; break;
		case 'n': dry = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("member import", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("member import", "give exactly one CSV file");
	im.path = argv[optind];
	if ((ret = node_open(&n, c.dir, dry ? NODE_NO_KEY : 0, &e)) < 0) {
		code = cli_fail_err("member import", ret, &e);
		goto out;
	}
	if ((ret = csv_read(im.path, on_header, on_row, &im, &e)) < 0) {
		code = cli_fail_err("member import", ret == -ENOENT ? -EIO : ret, &e);
		goto out;
	}
	if (!im.oom && (ret = sort_rows(&im, &e)) < 0) {
		code = cli_fail_err("member import", ret, &e);
		goto out;
	}
	/* Check against the registry, then begin writing from the head those
	 * checks saw; another writer in between (a second import, member add)
	 * makes the checks stale: check again. */
	for (int attempt = 1;; attempt++) {
		struct store_head from;

		if (!im.oom && (ret = check_ids(&im, n, &unchanged, &from, &e)) < 0) {
			code = cli_fail_err("member import", ret, &e);
			goto out;
		}
		if (im.oom) {
			code = cli_fail("member import", EXIT_SYSTEM, "%s: out of memory", im.path);
			goto out;
		}
		if (im.nbad) {
			code = report_bad(&im);
			goto out;
		}
		todo = im.nrows - unchanged;
		if (dry || !todo)
			break;
		ret = node_writer_begin_bulk(n, "up", &from, &im.w, &e);
		if (ret == -EAGAIN && attempt < CHECK_ATTEMPTS) {
			memset(&e, 0, sizeof e);
			continue;
		}
		if (ret < 0) {
			code = cli_fail_err("member import", ret, &e);
			goto out;
		}
		break;
	}
	if (!dry && todo) {
		im.writing = true;
		im.todo = todo;
		ret = csv_read(im.path, on_header, on_row, &im, &e);
		if (ret >= 0 && im.ret < 0)
			ret = im.ret, e = im.err;
		else if (ret >= 0 && im.next != im.nrows) {
			err_set(&e, "%s: the file changed while it was imported (%zu rows now, %zu before)", im.path,
				im.next, im.nrows);
			ret = -EINVAL;
		}
		if (ret >= 0) {
			ret = node_writer_commit(&im.w, &changesets, &head, &e);
			written = todo;
		} else {
			written = node_writer_ops_committed(im.w);
			node_writer_abort(&im.w);
		}
		if (written || ret >= 0)
			sync_notify(c.dir);
		cli_progress("importing members", ret < 0 ? written : todo, todo);
		cli_progress_done("importing members");
		if (ret < 0) {
			err_prefix(&e, "%s: stopped after %zu of %zu members (whole change sets; run the same import "
				       "again to finish)",
				   im.path, written, todo);
			code = cli_fail_err("member import", ret == -ENOENT ? -EIO : ret, &e);
			goto out;
		}
	}
	if (!changesets) { /* nothing written: report the feed's current head */
		struct store_txn *t = NULL;
		struct store_head h;
		struct err ignore = {0};

		if (store_txn_begin(node_store(n), false, &t, &ignore) == 0 &&
		    store_head_get(t, node_id(n), "up", &h, &ignore) == 0)
			head = h.seq;
		store_txn_abort(&t);
	}
	if (c.json)
		cli_json_print(json_pack("{s:s, s:I, s:I, s:I, s:I, s:b}", "file", im.path, "rows", (json_int_t)im.nrows,
					 "imported", (json_int_t)(dry ? 0 : todo), "unchanged", (json_int_t)unchanged,
					 "changesets", (json_int_t)changesets, "dry_run", dry));
	else if (dry)
		printf("%s: %zu rows are valid: %zu would be imported, %zu already present\n", im.path, im.nrows,
		       todo, unchanged);
	else
		printf("imported %zu member%s from %s in %zu change set%s (up head #%llu); %zu already present\n", todo,
		       todo == 1 ? "" : "s", im.path, changesets, changesets == 1 ? "" : "s", (unsigned long long)head,
		       unchanged);
out:
	node_writer_abort(&im.w);
	arena_release(&im.row_mem);
	if (im.order != im.rows)
		free(im.order);
	free(im.rows);
	free(im.val);
	for (size_t i = 0; i < im.nbad; i++)
		free(im.bad[i].msg);
	free(im.bad);
	node_close(&n);
	return code;
}
