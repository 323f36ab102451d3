/* SPDX-License-Identifier: MIT */
/*
 * strata dues|meeting|study|points|request|notice|ack add|update|list|show|
 * import|export: one command for every record type of the generic engine,
 * its options and CSV columns read from the type's field table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/cli/cli.h"
#include "node/core/node.h"
#include "node/records/records.h"
#include "node/sync/sync.h"

#define MAX_FIELDS 16
#define MAX_ERRORS_SHOWN 50

struct rec_args {
	const struct record_type *t;
	char what[64];              /* "dues add" */
	struct cli_common c;
	const char *value[MAX_FIELDS]; /* option per field, NULL if not given */
	const char *cvalue[MAX_FIELDS]; /* the same for the fields of t->companion */
	bool own;
	const char *output;         /* export -o */
	const char *file;           /* import FILE */
};

static void help(FILE *f, const struct record_type *t)
{
	fprintf(f,
		"usage: strata %1$s add    [-d DIR] --FIELD VALUE ... [--json]\n"
		"       strata %1$s update [-d DIR] --KEY-FIELDS ... --FIELD VALUE ... [--json]\n"
		"       strata %1$s show   [-d DIR] --KEY-FIELDS ... [--json]\n"
		"       strata %1$s list   [-d DIR] [--own] [--FIELD VALUE ...] [--json]\n"
		"       strata %1$s import [-d DIR] FILE.csv\n"
		"       strata %1$s export [-d DIR] [-o FILE.csv] [--own]\n\n"
		"%2$s. Every change is a signed entry of this node's %3$s feed.\n"
		"An upper node lists the records of every branch below it that reached it\n"
		"(--own: its own). list filters on any field given. CSV files name the fields\n"
		"in a header row, in any order; an import with any bad row imports nothing.\n\nfields:\n",
		t->collection, t->summary, t->feed);
	for (size_t i = 0; i < t->n_fields; i++)
		fprintf(f, "  --%-12s %s%s%s\n", t->fields[i].name, t->fields[i].help,
			t->fields[i].flags & FIELD_KEY ? " [key]" : "",
			t->fields[i].flags & FIELD_REQUIRED ? " [required]" : "");
	for (size_t i = 0; t->companion && i < t->companion->n_fields; i++)
		if (!(t->companion->fields[i].flags & FIELD_KEY))
			fprintf(f, "  --%-12s %s\n", t->companion->fields[i].name, t->companion->fields[i].help);
	if (t->companion)
		fprintf(f, "\n--%s is a record of its own (%s, in feed %s), written and\n"
			   "shown with the %s; list and export show it where it is held, import\n"
			   "reads its column. It stays at this node unless [privacy] contact_levels\n"
			   "in strata.conf lets it travel up (docs/OPERATIONS.md, \"What travels how\n"
			   "far\"). strata erase of the %s erases it too; alone:\n"
			   "strata erase --collection %s --key KEY.\n",
			t->companion->fields[t->companion->n_fields - 1].name, t->companion->collection,
			t->companion->feed, t->noun, t->noun, t->companion->collection);
}

static int parse(const struct record_type *t, const char *verb, int argc, char **argv, struct rec_args *a)
{
	struct option opts[MAX_FIELDS + 8];
	size_t n = 0;
	int opt;

	memset(a, 0, sizeof *a);
	a->t = t;
	snprintf(a->what, sizeof a->what, "%s %s", t->collection, verb);
	cli_common_init(&a->c);
	for (size_t i = 0; i < t->n_fields && i < MAX_FIELDS; i++)
		opts[n++] = (struct option){t->fields[i].name, required_argument, NULL, 1000 + (int)i};
	for (size_t i = 0; t->companion && i < t->companion->n_fields && n < MAX_FIELDS + 2; i++)
		if (!(t->companion->fields[i].flags & FIELD_KEY) && (!strcmp(verb, "add") || !strcmp(verb, "update")))
			opts[n++] = (struct option){t->companion->fields[i].name, required_argument, NULL, 2000 + (int)i};
	opts[n++] = (struct option){"dir", required_argument, NULL, 'd'};
	opts[n++] = (struct option){"json", no_argument, NULL, 'j'};
	opts[n++] = (struct option){"own", no_argument, NULL, 'O'};
	opts[n++] = (struct option){"output", required_argument, NULL, 'o'};
	opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	opts[n] = (struct option){NULL, 0, NULL, 0};
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:o:h", opts, NULL)) != -1) {
		if (opt >= 2000) {
			a->cvalue[opt - 2000] = optarg;
			continue;
		}
		if (opt >= 1000) {
			a->value[opt - 1000] = optarg;
			continue;
		}
		switch (opt) {
		case 'd': a->c.dir = optarg; break;
		case 'j': a->c.json = true; break;
		case 'O': a->own = true; break;
		case 'o': a->output = optarg; break;
		case 'h': help(stdout, t); return 1000 + EXIT_OK;
		default: return 1000 + cli_usage(a->what, "unknown option");
		}
	}
	if (strcmp(verb, "import") == 0) {
		if (optind + 1 != argc)
			return 1000 + cli_usage(a->what, "give exactly one CSV file");
		a->file = argv[optind];
	} else if (optind != argc) {
		return 1000 + cli_usage(a->what, "unexpected argument \"%s\"", argv[optind]);
	}
	return 0;
}

/* Fills m from the given options; only_key: key fields only. */
static int fill(const struct rec_args *a, ProtobufCMessage *m, bool only_key, struct err *e)
{
	for (size_t i = 0; i < a->t->n_fields; i++) {
		const struct record_field *f = &a->t->fields[i];
		int ret;

		if (!a->value[i] || (only_key && !(f->flags & FIELD_KEY)))
			continue;
		if ((ret = record_set(a->t, m, f, a->value[i], e)) < 0)
			return ret;
	}
	return 0;
}

static int key_given(const struct rec_args *a)
{
	for (size_t i = 0; i < a->t->n_fields; i++)
		if ((a->t->fields[i].flags & FIELD_KEY) && !a->value[i])
			return cli_usage(a->what, "--%s is required (part of the record's key)", a->t->fields[i].name);
	return 0;
}

/* record_check_input against this unit's registry: every key it holds
 * (node_own_keys), so that records written before a rotation count. */
static int check_input(const struct record_type *t, const ProtobufCMessage *m, struct store_txn *txn,
		       const struct node *n, struct err *e)
{
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t nown = node_own_keys(n, txn, own, NODE_KEYS_MAX);

	return record_check_input(t, m, txn, (const uint8_t(*)[32])own, nown, e);
}

/* Reads this unit's record under key; -ESRCH if absent. */
static int load(const struct record_type *t, struct store_txn *txn, const struct node *n, const char *key,
		ProtobufCMessage **out, struct store_origin *o, struct err *e)
{
	const uint8_t *v;
	size_t vl;
	struct err why = {0};
	int ret = node_own_state_get(n, txn, t->collection, (const uint8_t *)key, strlen(key), &v, &vl, o, NULL, &why);

	if (ret == -ENOENT) {
		err_set(e, "no %s %s at this node", t->noun, key);
		return -ESRCH;
	}
	if (ret < 0) {
		err_set(e, "%s", why.msg);
		return ret;
	}
	if (vl == 0) {
		err_set(e, "%s %s was erased (strata erase): its value is kept nowhere", t->noun, key);
		return -ESRCH;
	}
	if (!(*out = protobuf_c_message_unpack(t->descriptor, NULL, vl, v))) {
		err_set(e, "stored %s %s does not decode; run strata verify", t->noun, key);
		return -EIO;
	}
	return 0;
}

static int put(struct node_writer *w, const struct record_type *t, const ProtobufCMessage *m, const char *key,
	       struct err *e)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	int ret;

	if (!buf) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	protobuf_c_message_pack(m, buf);
	ret = node_writer_put(w, t->collection, (const uint8_t *)key, strlen(key), buf, len, e);
	free(buf);
	return ret;
}

/* --- the companion record (a request's contact): its own feed --- */

/* The companion's arguments: its key fields from a's, its other fields
 * from a->cvalue. true if any of those was given. */
static bool companion_args(const struct rec_args *a, struct rec_args *ca)
{
	const struct record_type *c = a->t->companion;
	bool given = false;

	memset(ca, 0, sizeof *ca);
	if (!c)
		return false;
	ca->t = c;
	ca->c = a->c;
	snprintf(ca->what, sizeof ca->what, "%s", a->what);
	for (size_t j = 0; j < c->n_fields && j < MAX_FIELDS; j++) {
		if (c->fields[j].flags & FIELD_KEY) {
			const struct record_field *f = record_field_find(a->t, c->fields[j].name);

			ca->value[j] = f ? a->value[f - a->t->fields] : NULL;
		} else if ((ca->value[j] = a->cvalue[j])) {
			given = true;
		}
	}
	return given;
}

/* Switches w to the companion's feed (*head: the head of the feed left)
 * and writes the companion record under key: the one held (if any) with
 * the given fields set. *cm receives it. */
static int put_companion(const struct rec_args *a, struct node_writer *w, struct node *n, const char *key,
			 ProtobufCMessage **cm, uint64_t *head, struct err *e)
{
	const struct record_type *c = a->t->companion;
	struct rec_args ca;
	int ret;

	companion_args(a, &ca);
	if ((ret = node_writer_switch(w, c->feed, head, e)) < 0)
		return ret;
	ret = load(c, node_writer_txn(w), n, key, cm, NULL, e);
	if (ret == -ESRCH) { /* none yet, or erased: a new value */
		memset(e, 0, sizeof *e);
		if (!(*cm = record_new(c))) {
			err_set(e, "out of memory");
			return -ENOMEM;
		}
	} else if (ret < 0) {
		return ret;
	}
	if ((ret = fill(&ca, *cm, false, e)) < 0 ||
	    (ret = check_input(c, *cm, node_writer_txn(w), n, e)) < 0)
		return ret;
	return put(w, c, *cm, key, e);
}

static void print_record(const struct record_type *t, const ProtobufCMessage *m, bool skip_key)
{
	char buf[8192];

	for (size_t i = 0; i < t->n_fields; i++)
		if (!(skip_key && t->fields[i].flags & FIELD_KEY) && record_get_text(t, m, &t->fields[i], buf, sizeof buf))
			printf("%-12s %s\n", t->fields[i].name, esc(buf));
}

/* add and update share everything but where the record starts from. */
static int add_or_update(const struct record_type *t, int argc, char **argv, bool update)
{
	struct rec_args a;
	struct node *n = NULL;
	struct node_writer *w = NULL;
	ProtobufCMessage *m = NULL, *old = NULL, *cm = NULL;
	struct rec_args ca;
	char key[LIMIT_KEY_BYTES + 64];
	uint64_t head = 0, chead = 0;
	struct err e = {0};
	int ret = parse(t, update ? "update" : "add", argc, argv, &a);

	if (ret)
		return ret - 1000;
	if ((ret = key_given(&a)))
		return ret;
	/* protobuf-c gives a number or a word a default: a required one must be typed */
	for (size_t i = 0; !update && i < t->n_fields; i++)
		if ((t->fields[i].flags & FIELD_REQUIRED) && !a.value[i])
			return cli_fail(a.what, EXIT_REJECTED, "%s: %s is missing (--%s)", t->collection, t->fields[i].name,
					t->fields[i].name);
	if (!(m = record_new(t)))
		return cli_fail(a.what, EXIT_SYSTEM, "out of memory");
	if ((ret = fill(&a, m, true, &e)) < 0 || (ret = record_key(t, m, key, sizeof key, &e)) < 0)
		goto out;
	if ((ret = node_open(&n, a.c.dir, 0, &e)) < 0 || (ret = node_writer_begin(n, t->feed, &w, &e)) < 0)
		goto out;
	ret = load(t, node_writer_txn(w), n, key, &old, NULL, &e);
	if (update) {
		if (ret < 0)
			goto out;
		record_free(m);
		m = old;
		old = NULL;
	} else if (ret == 0) {
		ret = -EEXIST;
		memset(&e, 0, sizeof e);
		err_set(&e, "%s %s already exists (use strata %s update)", t->noun, key, t->collection);
		goto out;
	} else if (ret != -ESRCH) {
		goto out;
	}
	memset(&e, 0, sizeof e);
	if ((ret = fill(&a, m, false, &e)) < 0 ||
	    (ret = check_input(t, m, node_writer_txn(w), n, &e)) < 0 ||
	    (ret = put(w, t, m, key, &e)) < 0 ||
	    (companion_args(&a, &ca) && (ret = put_companion(&a, w, n, key, &cm, &head, &e)) < 0) ||
	    (ret = node_writer_commit(&w, NULL, cm ? &chead : &head, &e)) < 0)
		goto out;
	sync_notify(node_dir(n));
	if (a.c.json) {
		json_t *j = record_json(t, m);

		record_companion_json(t, cm, j);
		json_object_set_new(j, "feed", json_string(t->feed));
		json_object_set_new(j, "seq", json_integer((json_int_t)head));
		if (cm)
			json_object_set_new(j, "companion", json_pack("{s:s, s:s, s:I}", "collection", t->companion->collection,
								      "feed", t->companion->feed, "seq", (json_int_t)chead));
		cli_json_print(j);
	} else if (cm) {
		printf("%s %s %s (%s #%llu) and its %s (%s #%llu)\n", update ? "updated" : "added", t->noun, key, t->feed,
		       (unsigned long long)head, t->companion->noun, t->companion->feed, (unsigned long long)chead);
	} else {
		printf("%s %s %s (%s #%llu)\n", update ? "updated" : "added", t->noun, esc(key), t->feed,
		       (unsigned long long)head);
	}
out:
	node_writer_abort(&w);
	record_free(cm);
	record_free(m);
	record_free(old);
	node_close(&n);
	return ret < 0 ? cli_fail_err(a.what, ret, &e) : EXIT_OK;
}

static int rec_add(const struct record_type *t, int argc, char **argv)
{
	return add_or_update(t, argc, argv, false);
}

static int rec_update(const struct record_type *t, int argc, char **argv)
{
	return add_or_update(t, argc, argv, true);
}

static int rec_show(const struct record_type *t, int argc, char **argv)
{
	struct rec_args a;
	struct node *n = NULL;
	struct store_txn *txn = NULL;
	ProtobufCMessage *m = NULL, *probe = NULL, *cm = NULL;
	struct store_origin o;
	char key[LIMIT_KEY_BYTES + 64];
	struct err e = {0};
	int ret = parse(t, "show", argc, argv, &a);

	if (ret)
		return ret - 1000;
	if ((ret = key_given(&a)))
		return ret;
	if (!(probe = record_new(t)))
		return cli_fail(a.what, EXIT_SYSTEM, "out of memory");
	if ((ret = fill(&a, probe, true, &e)) < 0 || (ret = record_key(t, probe, key, sizeof key, &e)) < 0 ||
	    (ret = node_open(&n, a.c.dir, NODE_RDONLY | NODE_NO_KEY, &e)) < 0 ||
	    (ret = store_txn_begin(node_store(n), false, &txn, &e)) < 0 ||
	    (ret = load(t, txn, n, key, &m, &o, &e)) < 0)
		goto out;
	cm = record_companion_get(t, txn, node_id(n), (const uint8_t *)key, strlen(key));
	if (a.c.json) {
		json_t *j = record_json(t, m);

		record_companion_json(t, cm, j);
		json_object_set_new(j, "feed", json_string(o.feed));
		json_object_set_new(j, "seq", json_integer((json_int_t)o.seq));
		cli_json_print(j);
	} else {
		print_record(t, m, false);
		if (cm)
			print_record(t->companion, cm, true);
		printf("%-12s %s #%llu\n", "written", o.feed, (unsigned long long)o.seq);
	}
out:
	record_free(cm);
	record_free(m);
	record_free(probe);
	store_txn_abort(&txn);
	node_close(&n);
	return ret < 0 ? cli_fail_err(a.what, ret, &e) : EXIT_OK;
}

/* --- list and export --- */

struct walk {
	const struct rec_args *a;
	struct node *n;
	struct store_txn *txn;
	FILE *out;
	bool csv, json;
	size_t count;
	uint8_t last_owner[KEY_BYTES];
	char branch[256];
};

static void csv_cell(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static bool matches(const struct walk *w, const ProtobufCMessage *m)
{
	char buf[8192];

	for (size_t i = 0; i < w->a->t->n_fields; i++) {
		const char *want = w->a->value[i];

		if (!want)
			continue;
		record_get_text(w->a->t, m, &w->a->t->fields[i], buf, sizeof buf);
		if (w->a->t->fields[i].type == FIELD_MEMBERS) { /* one whole id of the list */
			bool found = false;
			char *save = NULL;

			for (char *id = strtok_r(buf, ",", &save); id && !found; id = strtok_r(NULL, ",", &save))
				found = strcmp(id, want) == 0;
			if (!found)
				return false;
		} else if (strcmp(buf, want) != 0) {
			return false;
		}
	}
	return true;
}

static int walk_one(const struct store_record *r, void *arg)
{
	struct walk *w = arg;
	const struct record_type *t = w->a->t;
	ProtobufCMessage *m;
	char buf[8192];

	if (r->value_len == 0) /* erased (strata erase): nothing to show */
		return 0;
	if (!(m = protobuf_c_message_unpack(t->descriptor, NULL, r->value_len, r->value)))
		return 0;
	if (memcmp(w->last_owner, r->owner, KEY_BYTES) != 0) {
		memcpy(w->last_owner, r->owner, KEY_BYTES);
		if (node_key_name(w->n, w->txn, r->owner, w->branch) < 0)
			hex_encode(w->branch, r->owner, 8);
	}
	if (matches(w, m)) {
		ProtobufCMessage *cm = record_companion_get(t, w->txn, r->owner, r->key, r->key_len);
		size_t ncomp = record_companion_cols(t);

		if (w->json) {
			json_t *j = record_json(t, m);
			record_companion_json(t, cm, j);
			if (!w->a->own)
				json_object_set_new(j, "branch", json_string(w->branch));
			fputs(w->count ? ",\n" : "\n", w->out);
			cli_json_dumpf(j, w->out, JSON_COMPACT);
			json_decref(j);
		} else {
			if (!w->a->own) {
				if (w->csv)
					csv_cell(w->out, w->branch), fputc(',', w->out);
				else
					fprintf(w->out, "%-24s ", w->branch);
			}
			for (size_t i = 0; i < t->n_fields; i++) {
				record_get_text(t, m, &t->fields[i], buf, sizeof buf);
				if (w->csv) {
					csv_cell(w->out, buf);
					fputc(i + 1 < t->n_fields + ncomp ? ',' : '\n', w->out);
				} else {
					fprintf(w->out, i + 1 < t->n_fields + ncomp ? "%-12s " : "%s\n", esc(buf));
				}
			}
			for (size_t i = 0, k = 0; ncomp && i < t->companion->n_fields; i++) {
				if (t->companion->fields[i].flags & FIELD_KEY)
					continue;
				buf[0] = '\0';
				if (cm)
					record_get_text(t->companion, cm, &t->companion->fields[i], buf, sizeof buf);
				if (w->csv) {
					csv_cell(w->out, buf);
					fputc(++k < ncomp ? ',' : '\n', w->out);
				} else {
					fprintf(w->out, ++k < ncomp ? "%-12s " : "%s\n", esc(buf));
				}
			}
		}
		record_free(cm);
		w->count++;
	}
	record_free(m);
	return 0;
}

static int list_or_export(const struct record_type *t, int argc, char **argv, bool csv)
{
	struct rec_args a;
	struct walk w = {.a = &a};
	struct node *n = NULL;
	struct err e = {0};
	int ret = parse(t, csv ? "export" : "list", argc, argv, &a);

	if (ret)
		return ret - 1000;
	w.csv = csv;
	w.json = !csv && a.c.json;
	w.out = stdout;
	if (csv && a.output && !(w.out = cli_open_private(a.output)))
		return cli_fail(a.what, EXIT_SYSTEM, "cannot write %s: %s", a.output, strerror(errno));
	if ((ret = node_open(&n, a.c.dir, NODE_RDONLY | NODE_NO_KEY, &e)) < 0 ||
	    (ret = store_txn_begin(node_store(n), false, &w.txn, &e)) < 0)
		goto out;
	w.n = n;
	memset(w.last_owner, 0xff, sizeof w.last_owner);
	if (w.json)
		fputs("[", w.out);
	else if (csv || t->n_fields) {
		if (!a.own)
			fprintf(w.out, csv ? "branch," : "%-24s ", "BRANCH");
		size_t ncomp = record_companion_cols(t);

		for (size_t i = 0; i < t->n_fields; i++) {
			if (csv)
				fprintf(w.out, "%s%c", t->fields[i].name, i + 1 < t->n_fields + ncomp ? ',' : '\n');
			else
				fprintf(w.out, i + 1 < t->n_fields + ncomp ? "%-12s " : "%s\n", t->fields[i].name);
		}
		for (size_t i = 0, k = 0; ncomp && i < t->companion->n_fields; i++)
			if (!(t->companion->fields[i].flags & FIELD_KEY))
				fprintf(w.out, csv ? (++k < ncomp ? "%s," : "%s\n") : (++k < ncomp ? "%-12s " : "%s\n"),
					t->companion->fields[i].name);
	}
	if (a.own) { /* this node's keys: the current one, then any it rotated away from */
		uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
		size_t nown = node_own_keys(n, w.txn, own, NODE_KEYS_MAX);

		for (size_t i = 0; i < nown && ret == 0; i++)
			ret = store_state_each(w.txn, t->collection, own[i], walk_one, &w, &e);
	} else {
		ret = store_state_each(w.txn, t->collection, NULL, walk_one, &w, &e);
	}
	if (w.json)
		fputs(w.count ? "\n]\n" : "]\n", w.out);
	else if (!csv && ret == 0)
		printf("%zu record%s\n", w.count, w.count == 1 ? "" : "s");
	if (csv && a.output && ret == 0)
		fprintf(stderr, "exported %zu %s record%s to %s\n", w.count, t->collection, w.count == 1 ? "" : "s",
			a.output);
out:
	store_txn_abort(&w.txn);
	node_close(&n);
	if (w.out && w.out != stdout && fclose(w.out) != 0 && ret == 0) {
		err_set(&e, "cannot write %s: %s", a.output, strerror(errno));
		ret = -EIO;
	}
	return ret < 0 ? cli_fail_err(a.what, ret, &e) : EXIT_OK;
}

static int rec_list(const struct record_type *t, int argc, char **argv)
{
	return list_or_export(t, argc, argv, false);
}

static int rec_export(const struct record_type *t, int argc, char **argv)
{
	return list_or_export(t, argc, argv, true);
}

/* --- import --- */

struct row {
	size_t line;
	char *key;
	uint8_t *value;
	size_t len;
	uint8_t *cvalue;  /* its companion record (a request's contact), or NULL */
	size_t clen;
	bool skip;
};

struct import {
	const struct rec_args *a;
	int col_of[MAX_FIELDS];
	int ccol_of[MAX_FIELDS]; /* the companion's fields: their own columns, or its key's */
	size_t ncols;
	struct row *rows;
	size_t nrows, cap;
	char **bad;
	size_t *bad_line;
	size_t nbad;
	int oom;
};

static void add_bad(struct import *im, size_t line, const char *msg)
{
	char **b = realloc(im->bad, (im->nbad + 1) * sizeof *b);
	size_t *l = realloc(im->bad_line, (im->nbad + 1) * sizeof *l);

	if (b)
		im->bad = b;
	if (l)
		im->bad_line = l;
	if (!b || !l || !(im->bad[im->nbad] = strdup(msg))) {
		im->oom = 1;
		return;
	}
	im->bad_line[im->nbad++] = line;
}

static int on_header(const struct csv_row *r, void *arg, struct err *e)
{
	struct import *im = arg;
	const struct record_type *t = im->a->t;

	for (size_t i = 0; i < MAX_FIELDS; i++)
		im->col_of[i] = im->ccol_of[i] = -1;
	for (size_t c = 0; c < r->n; c++) {
		const struct record_field *f = record_field_find(t, r->fields[c]), *cf;

		if (!f && t->companion && (cf = record_field_find(t->companion, r->fields[c]))) {
			if (im->ccol_of[cf - t->companion->fields] >= 0) {
				err_set(e, "%s:%zu: column \"%s\" appears twice", im->a->file, r->line, r->fields[c]);
				return -EINVAL;
			}
			im->ccol_of[cf - t->companion->fields] = (int)c;
			continue;
		}
		if (!f) {
			err_set(e, "%s:%zu: unknown column \"%s\" (see strata %s --help)", im->a->file, r->line, r->fields[c],
				t->collection);
			return -EINVAL;
		}
		if (im->col_of[f - t->fields] >= 0) {
			err_set(e, "%s:%zu: column \"%s\" appears twice", im->a->file, r->line, r->fields[c]);
			return -EINVAL;
		}
		im->col_of[f - t->fields] = (int)c;
		if (t->companion && (cf = record_field_find(t->companion, r->fields[c])))
			im->ccol_of[cf - t->companion->fields] = (int)c; /* a key field they share */
	}
	for (size_t i = 0; i < t->n_fields; i++)
		if ((t->fields[i].flags & FIELD_REQUIRED) && im->col_of[i] < 0) {
			err_set(e, "%s:%zu: the header has no \"%s\" column", im->a->file, r->line, t->fields[i].name);
			return -EINVAL;
		}
	im->ncols = r->n;
	return 0;
}

/* The row's companion record, packed into *out (malloc'd), if any of its
 * own columns is filled; else *out NULL. -EINVAL with the reason. */
static int row_companion(struct import *im, const struct csv_row *r, uint8_t **out, size_t *len, struct err *e)
{
	const struct record_type *c = im->a->t->companion;
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
	if (ret == 0 && (ret = record_check_fields(c, cm, NULL, 0, e)) == 0) {
		*len = protobuf_c_message_get_packed_size(cm);
		if ((*out = malloc(*len ? *len : 1)))
			protobuf_c_message_pack(cm, *out);
		else
			ret = -ENOMEM, err_set(e, "out of memory");
	}
	record_free(cm);
	return ret;
}

static int on_row(const struct csv_row *r, void *arg)
{
	struct import *im = arg;
	const struct record_type *t = im->a->t;
	ProtobufCMessage *m;
	struct err e = {0};
	char key[LIMIT_KEY_BYTES + 64];
	struct row *row;
	uint8_t *cvalue = NULL;
	size_t clen = 0;

	if (im->oom)
		return 0;
	if (r->bad) {
		add_bad(im, r->line, r->bad);
		return 0;
	}
	if (r->n != im->ncols) {
		snprintf(e.msg, sizeof e.msg, "has %zu columns, the header has %zu", r->n, im->ncols);
		add_bad(im, r->line, e.msg);
		return 0;
	}
	if (!(m = record_new(t))) {
		im->oom = 1;
		return 0;
	}
	for (size_t i = 0; i < t->n_fields && !e.msg[0]; i++) {
		const char *cell = im->col_of[i] >= 0 ? r->fields[im->col_of[i]] : "";

		if (!cell[0]) {
			if (t->fields[i].flags & FIELD_REQUIRED)
				err_set(&e, "%s: %s is missing", t->collection, t->fields[i].name);
			continue;
		}
		if (t->fields[i].type == FIELD_NOTES) { /* export joins notes with " | " */
			char *copy = strdup(cell), *p = copy, *sep;

			while (copy && p && !e.msg[0]) {
				if ((sep = strstr(p, " | ")))
					*sep = '\0';
				if (*p && record_set(t, m, &t->fields[i], p, &e) < 0 && !e.msg[0])
					err_set(&e, "out of memory");
				p = sep ? sep + 3 : NULL;
			}
			if (!copy)
				err_set(&e, "out of memory");
			free(copy);
			continue;
		}
		if (record_set(t, m, &t->fields[i], cell, &e) < 0 && !e.msg[0])
			err_set(&e, "out of memory");
	}
	if (!e.msg[0] && record_check_fields(t, m, NULL, 0, &e) == 0 && record_key(t, m, key, sizeof key, &e) == 0 &&
	    row_companion(im, r, &cvalue, &clen, &e) == 0) {
		if (im->nrows == im->cap) {
			size_t cap = im->cap ? 2 * im->cap : 256;
			struct row *v = realloc(im->rows, cap * sizeof *v);

			if (!v) {
				im->oom = 1;
				record_free(m);
				return 0;
			}
			im->rows = v;
			im->cap = cap;
		}
		row = &im->rows[im->nrows];
		row->line = r->line;
		row->skip = false;
		row->cvalue = cvalue;
		row->clen = clen;
		cvalue = NULL;
		row->len = protobuf_c_message_get_packed_size(m);
		row->key = strdup(key);
		row->value = malloc(row->len ? row->len : 1);
		if (!row->key || !row->value) {
			free(row->key);
			free(row->value);
			free(row->cvalue);
			im->oom = 1;
		} else {
			protobuf_c_message_pack(m, row->value);
			im->nrows++;
		}
	}
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

/* Duplicates in the file; input checks against the store; present ones. */
static int check_rows(struct import *im, struct node *n, struct store_txn *txn, size_t *unchanged)
{
	const struct record_type *t = im->a->t;
	char msg[600];

	if (im->nrows > 1)
		qsort(im->rows, im->nrows, sizeof *im->rows, row_cmp);
	for (size_t i = 0; i < im->nrows; i++) {
		struct row *r = &im->rows[i];
		const uint8_t *v;
		size_t vl;
		struct err e = {0};
		ProtobufCMessage *m;

		if (i && strcmp(r->key, im->rows[i - 1].key) == 0) {
			snprintf(msg, sizeof msg, "duplicate %s %.200s (first on line %zu)", t->noun, r->key, im->rows[i - 1].line);
			add_bad(im, r->line, msg);
			continue;
		}
		if (node_own_state_get(n, txn, t->collection, (const uint8_t *)r->key, strlen(r->key), &v, &vl, NULL,
				       NULL, &e) == 0) {
			if (vl == r->len && memcmp(v, r->value, vl) == 0 && companion_same(t, txn, node_id(n), r)) {
				r->skip = true;
				(*unchanged)++;
			} else {
				snprintf(msg, sizeof msg, "%s %.200s already exists with other values (use strata %s update)",
					 t->noun, r->key, t->collection);
				add_bad(im, r->line, msg);
			}
			continue;
		}
		memset(&e, 0, sizeof e);
		if (!(m = protobuf_c_message_unpack(t->descriptor, NULL, r->len, r->value)))
			continue;
		if (check_input(t, m, txn, n, &e) < 0)
			add_bad(im, r->line, e.msg);
		record_free(m);
	}
	return im->oom ? -ENOMEM : 0;
}

static int rec_import(const struct record_type *t, int argc, char **argv)
{
	struct rec_args a;
	struct import im = {.a = &a};
	struct node *n = NULL;
	struct node_writer *w = NULL;
	struct err e = {0};
	size_t unchanged = 0, written = 0, changesets = 0;
	uint64_t head = 0;
	int ret = parse(t, "import", argc, argv, &a), code = EXIT_OK;

	if (ret)
		return ret - 1000;
	if ((ret = node_open(&n, a.c.dir, 0, &e)) < 0 || (ret = csv_read(a.file, on_header, on_row, &im, &e)) < 0) {
		code = cli_fail_err(a.what, ret == -ENOENT ? -EIO : ret, &e);
		goto out;
	}
	/* Check and write in one transaction: what was checked is what is written. */
	if ((ret = node_writer_begin(n, t->feed, &w, &e)) < 0 ||
	    (ret = check_rows(&im, n, node_writer_txn(w), &unchanged)) < 0) {
		code = cli_fail_err(a.what, ret, &e);
		goto out;
	}
	if (im.nbad) {
		for (size_t i = 0; i < im.nbad; i++)
			for (size_t j = i + 1; j < im.nbad; j++)
				if (im.bad_line[j] < im.bad_line[i]) {
					size_t l = im.bad_line[i];
					char *s = im.bad[i];

					im.bad_line[i] = im.bad_line[j], im.bad[i] = im.bad[j];
					im.bad_line[j] = l, im.bad[j] = s;
				}
		for (size_t i = 0; i < im.nbad && i < MAX_ERRORS_SHOWN; i++)
			fprintf(stderr, "strata: %s: %s:%zu: %s\n", a.what, a.file, im.bad_line[i], esc(im.bad[i]));
		if (im.nbad > MAX_ERRORS_SHOWN)
			fprintf(stderr, "strata: %s: ... and %zu more bad rows\n", a.what, im.nbad - MAX_ERRORS_SHOWN);
		code = cli_fail(a.what, EXIT_REJECTED, "%s: %zu bad row%s; nothing imported", a.file, im.nbad,
				im.nbad == 1 ? "" : "s");
		goto out;
	}
	for (size_t i = 0; i < im.nrows; i++) {
		struct row *r = &im.rows[i];

		if (r->skip)
			continue;
		if ((ret = node_writer_put(w, t->collection, (const uint8_t *)r->key, strlen(r->key), r->value, r->len,
					   &e)) < 0)
			break;
		written++;
	}
	for (size_t i = 0, first = 1; ret == 0 && i < im.nrows; i++) { /* the companions, in their own feed */
		struct row *r = &im.rows[i];

		if (r->skip || !r->cvalue)
			continue;
		if (first && (ret = node_writer_switch(w, t->companion->feed, NULL, &e)) < 0)
			break;
		first = 0;
		ret = node_writer_put(w, t->companion->collection, (const uint8_t *)r->key, strlen(r->key), r->cvalue,
				      r->clen, &e);
	}
	if (ret < 0 || (ret = node_writer_commit(&w, &changesets, &head, &e)) < 0) {
		code = cli_fail_err(a.what, ret, &e);
		goto out;
	}
	if (written)
		sync_notify(node_dir(n));
	printf("imported %zu %s record%s from %s in %zu change set%s; %zu already present\n", written, t->collection,
	       written == 1 ? "" : "s", a.file, changesets, changesets == 1 ? "" : "s", unchanged);
out:
	node_writer_abort(&w);
	for (size_t i = 0; i < im.nrows; i++) {
		free(im.rows[i].key);
		free(im.rows[i].value);
		free(im.rows[i].cvalue);
	}
	free(im.rows);
	for (size_t i = 0; i < im.nbad; i++)
		free(im.bad[i]);
	free(im.bad);
	free(im.bad_line);
	node_close(&n);
	return code;
}

int cmd_record_main(int argc, char **argv)
{
	static const struct {
		const char *verb;
		int (*fn)(const struct record_type *t, int argc, char **argv);
	} verbs[] = {
		{"add", rec_add},   {"update", rec_update}, {"show", rec_show},
		{"list", rec_list}, {"import", rec_import}, {"export", rec_export},
	};
	const struct record_type *t = record_type_find(argv[0]);

	if (!t || !t->fields)
		return cli_fail(argv[0], EXIT_USAGE, "not a record type");
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help(argc < 2 ? stderr : stdout, t);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(verbs[i].verb, argv[1]) == 0)
			return verbs[i].fn(t, argc - 1, argv + 1);
	return cli_usage(t->collection, "unknown subcommand \"%s\" (add, update, show, list, import, export)", argv[1]);
}
