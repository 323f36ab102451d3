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
#include "node/domain/domain.h"
#include "node/sync/sync.h"

#define MAX_FIELDS DOMAIN_FIELDS_MAX
#define WHAT_CAP 64

struct rec_args {
	const struct record_type *t;
	char what[WHAT_CAP];        /* "dues add" */
	struct cli_common c;
	struct domain_input in;     /* the option per field, NULL if not given */
	bool own;
	bool dry;                   /* import --dry-run */
	bool update;                /* import --update */
	bool zh;                    /* export --header zh */
	const char *output;         /* export -o */
	const char *file;           /* import FILE */
};

/* The column width of t's field names: 12, or the longest name (appraisal's
 * votes_basically_qualified) so that help and show stay aligned. */
static int name_width(const struct record_type *t)
{
	size_t w = 12;

	for (size_t i = 0; i < t->n_fields; i++)
		if (strlen(t->fields[i].name) > w)
			w = strlen(t->fields[i].name);
	for (size_t i = 0; t->companion && i < t->companion->n_fields; i++)
		if (strlen(t->companion->fields[i].name) > w)
			w = strlen(t->companion->fields[i].name);
	return (int)w;
}

/* An enum field's words in Chinese, "支委会=committee-meeting, ...". */
static void help_zh_words(FILE *f, const struct record_type *t, const struct record_field *fd)
{
	bool first = true;

	for (const struct record_zh *z = t->zh; z && z->field; z++)
		if (z->value && strcmp(z->field, fd->name) == 0) {
			fprintf(f, "%s%s=%s", first ? "     " : ", ", z->zh, z->value);
			first = false;
		}
	if (!first)
		fputc('\n', f);
}

static void help(FILE *f, const struct record_type *t)
{
	cli_help(f,
		"usage: strata %1$s add    [-d DIR] --FIELD VALUE ... [--json]\n"
		"       strata %1$s update [-d DIR] --KEY-FIELDS ... --FIELD VALUE ... [--json]\n"
		"       strata %1$s show   [-d DIR] --KEY-FIELDS ... [--json]\n"
		"       strata %1$s list   [-d DIR] [--own] [--FIELD VALUE ...] [--json]\n"
		"       strata %1$s import [-d DIR] FILE.csv [--dry-run] [--update] [--json]\n"
		"       strata %1$s export [-d DIR] [-o FILE.csv] [--own] [--header en|zh]\n\n"
		"%2$s. Every change is a signed entry of this node's %3$s feed.\n"
		"An upper node lists the records of every branch below it that reached it\n"
		"(--own: its own). list filters on any field given. CSV files name the fields\n"
		"in a header row, in any order, in English or Chinese (the names below and\n"
		"README \"Excel\"); an import with any bad row imports nothing. A file from\n"
		"Excel in GBK is read as GB18030; dates may be 2026/3/5 or 2026年3月5日.\n"
		"import --update changes records stored with other values (and prints what\n"
		"changes) instead of refusing them. export writes UTF-8 with a BOM and CRLF\n"
		"(what Excel opens), English column names unless --header zh; export --own\n"
		"re-imports unchanged.\n\nfields:\n",
		t->collection, t->summary, t->feed);
	for (size_t i = 0; i < t->n_fields; i++) {
		const char *zh = record_field_zh(t, &t->fields[i]);

		fprintf(f, "  --%-*s %s%s%s%s%s%s\n", name_width(t), t->fields[i].name, t->fields[i].help,
			t->fields[i].flags & FIELD_KEY ? " [key]" : "",
			t->fields[i].flags & FIELD_REQUIRED ? " [required]" : "", zh ? " (" : "", zh ? zh : "", zh ? ")" : "");
		help_zh_words(f, t, &t->fields[i]);
	}
	for (size_t i = 0; t->companion && i < t->companion->n_fields; i++)
		if (!(t->companion->fields[i].flags & FIELD_KEY))
			fprintf(f, "  --%-*s %s\n", name_width(t), t->companion->fields[i].name,
				t->companion->fields[i].help);
	if (t->companion)
		cli_help(f, "\n--%s is a record of its own (%s, in feed %s), written and\n"
			   "shown with the %s; list and export show it where it is held, import\n"
			   "reads its column. It stays at this node unless [privacy] contact_levels\n"
			   "in strata.conf lets it travel up (docs/OPERATIONS.md, \"What travels how\n"
			   "far\"). strata erase of the %s erases it too; alone:\n"
			   "strata erase --collection %s --key KEY.\n",
			t->companion->fields[t->companion->n_fields - 1].name, t->companion->collection,
			t->companion->feed, t->noun, t->noun, t->companion->collection);
	cmd_record_help_more(f, t); /* cmd_notice.c: notice ack/status/list --unacked, dues list --unpaid */
}

static int parse(const struct record_type *t, const char *verb, int argc, char **argv, struct rec_args *a)
{
	struct option opts[MAX_FIELDS + 11];
	size_t n = 0;
	int opt;

	memset(a, 0, sizeof *a);
	a->t = a->in.t = t;
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
	opts[n++] = (struct option){"dry-run", no_argument, NULL, 'n'};
	opts[n++] = (struct option){"update", no_argument, NULL, 'U'};
	opts[n++] = (struct option){"header", required_argument, NULL, 'H'};
	opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	opts[n] = (struct option){NULL, 0, NULL, 0};
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:o:h", opts, NULL)) != -1) {
		if (opt >= 2000) {
			a->in.cvalue[opt - 2000] = optarg;
			continue;
		}
		if (opt >= 1000) {
			a->in.value[opt - 1000] = optarg;
			continue;
		}
		switch (opt) {
		case 'd': a->c.dir = optarg; break;
		case 'j': a->c.json = true; break;
		case 'O': a->own = true; break;
		case 'o': a->output = optarg; break;
		case 'n': a->dry = true; break;
		case 'U': a->update = true; break;
		case 'H':
			if (strcmp(optarg, "zh") != 0 && strcmp(optarg, "en") != 0)
				return 1000 + cli_usage(a->what, "--header is zh or en");
			a->zh = strcmp(optarg, "zh") == 0;
			break;
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

static int key_given(const struct rec_args *a)
{
	for (size_t i = 0; i < a->t->n_fields; i++)
		if ((a->t->fields[i].flags & FIELD_KEY) && !a->in.value[i])
			return cli_usage(a->what, "--%s is required (part of the record's key)", a->t->fields[i].name);
	return 0;
}

static void print_record(const struct record_type *t, const ProtobufCMessage *m, bool skip_key)
{
	char buf[RECORD_TEXT_SIZE];

	for (size_t i = 0; i < t->n_fields; i++)
		if (!(skip_key && t->fields[i].flags & FIELD_KEY) && record_get_text(t, m, &t->fields[i], buf, sizeof buf))
			printf("%-*s %s\n", name_width(t), t->fields[i].name, esc(buf));
}

/* add and update share everything but where the record starts from. */
static int add_or_update(const struct record_type *t, int argc, char **argv, bool update)
{
	struct rec_args a;
	struct domain_record r = {0};
	struct err e = {0};
	int ret = parse(t, update ? "update" : "add", argc, argv, &a);

	if (ret)
		return ret - 1000;
	if ((ret = key_given(&a)))
		return ret;
	/* protobuf-c gives a number or a word a default: a required one must be typed */
	for (size_t i = 0; !update && i < t->n_fields; i++)
		if ((t->fields[i].flags & FIELD_REQUIRED) && !a.in.value[i])
			return cli_fail(a.what, EXIT_REJECTED, "%s: %s is missing (--%s)", t->collection, t->fields[i].name,
					t->fields[i].name);
	ret = update ? domain_record_update(a.c.dir, &a.in, &r, &e) : domain_record_add(a.c.dir, &a.in, &r, &e);
	if (ret < 0)
		return cli_fail_err(a.what, ret, &e);
	sync_notify(a.c.dir);
	if (a.c.json)
		cli_json_print(domain_record_json(&r));
	else if (r.cseq)
		printf("%s %s %s (%s #%llu) and its %s (%s #%llu)\n", update ? "updated" : "added", t->noun, r.key, t->feed,
		       (unsigned long long)r.seq, t->companion->noun, t->companion->feed, (unsigned long long)r.cseq);
	else
		printf("%s %s %s (%s #%llu)\n", update ? "updated" : "added", t->noun, esc(r.key), t->feed,
		       (unsigned long long)r.seq);
	domain_record_release(&r);
	return EXIT_OK;
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
	struct domain_record r = {0};
	struct err e = {0};
	int ret = parse(t, "show", argc, argv, &a);

	if (ret)
		return ret - 1000;
	if ((ret = key_given(&a)))
		return ret;
	if ((ret = domain_record_get(a.c.dir, &a.in, &r, &e)) < 0) {
		domain_record_release(&r);
		return cli_fail_err(a.what, ret, &e);
	}
	if (a.c.json) {
		cli_json_print(domain_record_json(&r));
	} else {
		print_record(t, r.m, false);
		if (r.cm)
			print_record(t->companion, r.cm, true);
		printf("%-12s %s #%llu\n", "written", r.feed, (unsigned long long)r.seq);
	}
	domain_record_release(&r);
	return EXIT_OK;
}

/* --- list and export --- */

struct walk {
	const struct rec_args *a;
	FILE *out;
	bool csv, json; /* csv: export (domain_export writes it) */
	bool started; /* the store opened: the header is out */
	size_t count;
};

static void list_header(const struct walk *w)
{
	const struct record_type *t = w->a->t;
	size_t ncomp = record_companion_cols(t);

	if (!w->a->own)
		cli_cell(w->out, _("BRANCH"), 24, false);
	for (size_t i = 0; i < t->n_fields; i++)
		cli_cell(w->out, t->fields[i].name, 12, i + 1 == t->n_fields + ncomp);
	for (size_t i = 0, k = 0; ncomp && i < t->companion->n_fields; i++)
		if (!(t->companion->fields[i].flags & FIELD_KEY))
			cli_cell(w->out, t->companion->fields[i].name, 12, ++k == ncomp);
}

static void list_row(const struct walk *w, const struct domain_row *r)
{
	const struct record_type *t = r->t;
	size_t ncomp = record_companion_cols(t);
	char buf[RECORD_TEXT_SIZE];

	if (!w->a->own)
		cli_cell(w->out, esc(r->branch), 24, false);
	for (size_t i = 0; i < t->n_fields; i++) {
		record_get_text(t, r->m, &t->fields[i], buf, sizeof buf);
		cli_cell(w->out, esc(buf), 12, i + 1 == t->n_fields + ncomp);
	}
	for (size_t i = 0, k = 0; ncomp && i < t->companion->n_fields; i++) {
		if (t->companion->fields[i].flags & FIELD_KEY)
			continue;
		buf[0] = '\0';
		if (r->cm)
			record_get_text(t->companion, r->cm, &t->companion->fields[i], buf, sizeof buf);
		cli_cell(w->out, esc(buf), 12, ++k == ncomp);
	}
}

static int walk_one(const struct domain_row *r, void *arg)
{
	struct walk *w = arg;

	if (!r) { /* the store is open: the header */
		w->started = true;
		if (w->json)
			fputs("[", w->out);
		else if (w->a->t->n_fields)
			list_header(w);
		return 0;
	}
	if (w->json) {
		json_t *j = domain_row_json(r, !w->a->own);

		fputs(w->count ? ",\n" : "\n", w->out);
		cli_json_dumpf(j, w->out, JSON_COMPACT);
		json_decref(j);
	} else {
		list_row(w, r);
	}
	w->count++;
	return 0;
}

static int list_or_export(const struct record_type *t, int argc, char **argv, bool csv)
{
	struct rec_args a;
	struct walk w = {.a = &a};
	struct domain_filter q;
	struct err e = {0};
	size_t count = 0;
	int ret = parse(t, csv ? "export" : "list", argc, argv, &a);

	if (ret)
		return ret - 1000;
	w.csv = csv;
	w.json = !csv && a.c.json;
	w.out = stdout;
	if (csv && a.output && !(w.out = cli_open_private(a.output)))
		return cli_fail(a.what, EXIT_SYSTEM, "cannot write %s: %s", a.output, strerror(errno));
	q.t = t;
	q.own = a.own;
	memcpy(q.value, a.in.value, sizeof q.value);
	if (csv)
		ret = domain_export(a.c.dir, &q, w.out, &(struct domain_export_opts){.zh = a.zh}, &w.count, &e);
	else
		ret = domain_record_each(a.c.dir, &q, walk_one, &w, &count, &e);
	if (w.json && w.started)
		fputs(w.count ? "\n]\n" : "]\n", w.out);
	else if (!csv && ret == 0)
		printf("%zu record%s\n", w.count, w.count == 1 ? "" : "s");
	if (csv && a.output && ret == 0)
		fprintf(stderr, "exported %zu %s record%s to %s\n", w.count, t->collection, w.count == 1 ? "" : "s",
			a.output);
	if (w.out != stdout && fclose(w.out) != 0 && ret == 0) {
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

static int rec_import(const struct record_type *t, int argc, char **argv)
{
	struct rec_args a;
	struct domain_import_result r;
	struct domain_import_opts o = {0};
	struct err e = {0};
	int ret = parse(t, "import", argc, argv, &a), code = EXIT_OK;

	if (ret)
		return ret - 1000;
	o.dry_run = a.dry;
	o.update = a.update;
	ret = domain_import(a.c.dir, t, a.file, &o, &r, &e);
	if (!a.c.json)
		cli_import_notes(a.what, a.file, &r, a.dry);
	if (ret < 0) {
		code = cli_report_bad(a.what, a.file, &r, ret, &e);
	} else {
		if (r.written)
			sync_notify(a.c.dir);
		if (a.c.json)
			cli_json_print(cli_import_json(a.file, &r, a.dry));
		else if (a.dry)
			printf("%s: %zu rows are valid: %zu would be imported, %zu already present\n", a.file, r.rows,
			       r.rows - r.unchanged, r.unchanged);
		else
			printf("imported %zu %s record%s from %s in %zu change set%s; %zu already present\n", r.written,
			       t->collection, r.written == 1 ? "" : "s", a.file, r.changesets, r.changesets == 1 ? "" : "s",
			       r.unchanged);
		if (a.update && !a.c.json)
			printf("%zu %s %s\n", r.updated, r.updated == 1 ? "record" : "records",
			       a.dry ? "would be updated" : "updated");
	}
	domain_import_result_release(&r);
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
	int ret;

	if (!t || !t->fields)
		return cli_fail(argv[0], EXIT_USAGE, "not a record type");
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help(argc < 2 ? stderr : stdout, t);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if ((ret = cmd_record_more(t, argc, argv)) != CLI_GO_ON) /* cmd_notice.c */
		return ret;
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(verbs[i].verb, argv[1]) == 0)
			return verbs[i].fn(t, argc - 1, argv + 1);
	return cli_usage(t->collection, "unknown subcommand \"%s\" (add, update, show, list, import, export%s)", argv[1],
			 t == &record_notice ? ", ack, status" : "");
}
