/* SPDX-License-Identifier: MIT */
/*
 * strata member add|update|list|show (import: cmd_member_import.c). Members
 * are records of collection "member" in this node's `up` feed, keyed by id.
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

static void help(FILE *f)
{
	fprintf(f,
		"usage: strata member add    [-d DIR] --id ID --name NAME --category full|probationary\n"
		"                            --joined YYYY-MM-DD [--status S] [--phone P] [--birth YYYY-MM-DD]\n"
		"                            [--gender female|male|other] [--address TEXT] [--json]\n"
		"       strata member update [-d DIR] --id ID [--name ..] [--category ..] [--status ..]\n"
		"                            [--joined ..] [--phone ..] [--birth ..] [--gender ..]\n"
		"                            [--address ..] [--json]\n"
		"       strata member import [-d DIR] FILE.csv [--dry-run] [--json]\n"
		"       strata member list   [-d DIR] [--own] [--status S] [--category C] [--json]\n"
		"       strata member show   [-d DIR] --id ID [--json]\n\n"
		"The member registry of this node. Every change is a signed entry of the\n"
		"node's `up` feed. status is one of active (the default), lapsed, deceased,\n"
		"transferred. An empty value (--phone \"\") clears an optional field.\n"
		"On an upper node, list shows the members of every branch below it whose\n"
		"records reached it, with the branch (BRANCH column, \"branch\" in JSON);\n"
		"--own lists this node's own members only.\n"
		"CSV: a header row naming the columns id,name,category,joined and optionally\n"
		"status,phone,birth,gender,address, in any order (see strata member import --help).\n");
}

enum { O_ID = 256, O_NAME, O_CATEGORY, O_STATUS, O_JOINED, O_PHONE, O_BIRTH, O_GENDER, O_ADDRESS, O_JSON, O_OWN };

struct member_args {
	struct cli_common c;
	const char *id, *name, *category, *status, *joined, *phone, *birth, *gender, *address;
	bool own;
};

static const struct option member_opts[] = {
	{"dir", required_argument, NULL, 'd'},         {"id", required_argument, NULL, O_ID},
	{"name", required_argument, NULL, O_NAME},     {"category", required_argument, NULL, O_CATEGORY},
	{"status", required_argument, NULL, O_STATUS}, {"joined", required_argument, NULL, O_JOINED},
	{"phone", required_argument, NULL, O_PHONE},   {"birth", required_argument, NULL, O_BIRTH},
	{"gender", required_argument, NULL, O_GENDER}, {"address", required_argument, NULL, O_ADDRESS},
	{"json", no_argument, NULL, O_JSON},
	{"own", no_argument, NULL, O_OWN},
	{"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
};

/* Parses the options of add/update/list/show. 0, or an exit code + 1000
 * (help printed or usage error) to return at once. */
static int parse(const char *what, int argc, char **argv, struct member_args *a)
{
	int opt;

	memset(a, 0, sizeof *a);
	cli_common_init(&a->c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", member_opts, NULL)) != -1) {
		switch (opt) {
		case 'd': a->c.dir = optarg; break;
		case O_ID: a->id = optarg; break;
		case O_NAME: a->name = optarg; break;
		case O_CATEGORY: a->category = optarg; break;
		case O_STATUS: a->status = optarg; break;
		case O_JOINED: a->joined = optarg; break;
		case O_PHONE: a->phone = optarg; break;
		case O_BIRTH: a->birth = optarg; break;
		case O_GENDER: a->gender = optarg; break;
		case O_ADDRESS: a->address = optarg; break;
		case O_JSON: a->c.json = true; break;
		case O_OWN: a->own = true; break;
		case 'h': help(stdout); return 1000 + EXIT_OK;
		default: return 1000 + cli_usage(what, "unknown option");
		}
	}
	if (optind != argc)
		return 1000 + cli_usage(what, "unexpected argument \"%s\"", argv[optind]);
	return 0;
}

/* Reads member ID of this node in t. -ESRCH if absent. Caller frees *out. */
static int member_get(struct store_txn *t, const struct node *n, const char *id, Strata__Member **out,
		      struct store_origin *o, struct err *e)
{
	const uint8_t *v;
	size_t vl;
	struct err why = {0};
	int ret = node_own_state_get(n, t, "member", (const uint8_t *)id, strlen(id), &v, &vl, o, NULL, &why);

	if (ret == -ENOENT) {
		err_set(e, "no member with id %s in this node's registry", id);
		return -ESRCH;
	}
	if (ret < 0) {
		err_set(e, "%s", why.msg);
		return ret;
	}
	if (vl == 0) {
		err_set(e, "member %s was erased (strata erase): its record is kept nowhere", id);
		return -ESRCH;
	}
	if (!(*out = strata__member__unpack(NULL, vl, v))) {
		err_set(e, "stored member %s does not decode; run strata verify", id);
		return -EIO;
	}
	return 0;
}

/* Packs m and writes it through a writer on feed up; prints the result. */
static int member_write(const char *what, struct node *n, struct node_writer **w, const Strata__Member *m, bool json, struct err *e)
{
	size_t len = strata__member__get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	uint64_t head = 0;
	int ret;

	if (!buf) {
		node_writer_abort(w);
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	strata__member__pack(m, buf);
	ret = node_writer_put(*w, "member", (const uint8_t *)m->id, strlen(m->id), buf, len, e);
	free(buf);
	if (ret < 0) {
		node_writer_abort(w);
		return ret;
	}
	if ((ret = node_writer_commit(w, NULL, &head, e)) < 0)
		return ret;
	sync_notify(node_dir(n));
	if (json) {
		json_t *j = member_to_json(m);

		json_object_set_new(j, "feed", json_string("up"));
		json_object_set_new(j, "seq", json_integer((json_int_t)head));
		cli_json_print(j);
	} else {
		printf("%s member %s (up #%llu)\n", what, esc(m->id), (unsigned long long)head);
	}
	return 0;
}

static int member_add(int argc, char **argv)
{
	struct member_args a;
	struct node *n = NULL;
	struct node_writer *w = NULL;
	Strata__Member m, *old = NULL;
	struct err e = {0};
	int ret = parse("member add", argc, argv, &a);

	if (ret)
		return ret - 1000;
	if (!a.id || !a.name || !a.category || !a.joined)
		return cli_usage("member add", "--id, --name, --category and --joined are required");
	const struct member_text t = {.id = a.id,         .name = a.name,   .category = a.category,
				      .status = a.status, .joined = a.joined, .phone = a.phone,
				      .birth = a.birth,   .gender = a.gender, .address = a.address};

	if (member_from_text(&m, &t, &e) < 0)
		return cli_fail("member add", EXIT_REJECTED, "%s", e.msg);
	if ((ret = node_open(&n, a.c.dir, 0, &e)) < 0 || (ret = node_writer_begin(n, "up", &w, &e)) < 0)
		goto out;
	ret = member_get(node_writer_txn(w), n, a.id, &old, NULL, &e);
	if (ret == 0) {
		ret = -EEXIST;
		memset(&e, 0, sizeof e);
		err_set(&e, "member %s already exists (use strata member update)", a.id);
		goto out;
	}
	if (ret != -ESRCH)
		goto out;
	memset(&e, 0, sizeof e);
	ret = member_write("added", n, &w, &m, a.c.json, &e);
out:
	if (old)
		strata__member__free_unpacked(old, NULL);
	node_writer_abort(&w);
	node_close(&n);
	return ret < 0 ? cli_fail_err("member add", ret, &e) : EXIT_OK;
}

static int member_update(int argc, char **argv)
{
	struct member_args a;
	struct node *n = NULL;
	struct node_writer *w = NULL;
	Strata__Member *old = NULL, m;
	struct err e = {0};
	int ret = parse("member update", argc, argv, &a);

	if (ret)
		return ret - 1000;
	if (!a.id)
		return cli_usage("member update", "--id is required");
	if (!a.name && !a.category && !a.status && !a.joined && !a.phone && !a.birth && !a.gender && !a.address)
		return cli_usage("member update", "nothing to change: give at least one field");
	if ((ret = node_open(&n, a.c.dir, 0, &e)) < 0 || (ret = node_writer_begin(n, "up", &w, &e)) < 0 ||
	    (ret = member_get(node_writer_txn(w), n, a.id, &old, NULL, &e)) < 0)
		goto out;
	const struct member_text t = {
		.id = a.id,
		.name = a.name ? a.name : old->name,
		.category = a.category ? a.category : member_category_word(old->category),
		.status = a.status ? a.status : member_status_word(old->status),
		.joined = a.joined ? a.joined : old->joined,
		.phone = a.phone ? a.phone : old->phone,
		.birth = a.birth ? a.birth : old->birth,
		.gender = a.gender ? a.gender : (old->has_gender ? member_gender_word(old->gender) : NULL),
		.address = a.address ? a.address : old->address,
	};

	ret = member_from_text(&m, &t, &e);
	if (ret < 0)
		goto out;
	ret = member_write("updated", n, &w, &m, a.c.json, &e);
out:
	if (old)
		strata__member__free_unpacked(old, NULL);
	node_writer_abort(&w);
	node_close(&n);
	return ret < 0 ? cli_fail_err("member update", ret, &e) : EXIT_OK;
}

struct list_state {
	const struct member_args *a;
	struct node *n;
	struct store_txn *t;
	bool own;
	uint8_t last_owner[KEY_BYTES];
	char branch[256];
	Strata__MemberStatus status;
	Strata__MemberCategory category;
	size_t count;
};

static int list_one(const struct store_record *r, void *arg)
{
	struct list_state *st = arg;
	Strata__Member *m;

	if (r->value_len == 0) /* erased (strata erase) */
		return 0;
	if (!(m = strata__member__unpack(NULL, r->value_len, r->value))) {
		fprintf(stderr, "strata: member list: stored member %s does not decode; run strata verify\n",
			esc_n(r->key, r->key_len));
		return 0;
	}
	if (memcmp(st->last_owner, r->owner, KEY_BYTES) != 0) {
		memcpy(st->last_owner, r->owner, KEY_BYTES);
		if (node_key_name(st->n, st->t, r->owner, st->branch) < 0)
			hex_encode(st->branch, r->owner, 8);
	}
	if ((!st->status || m->status == st->status) && (!st->category || m->category == st->category)) {
		if (st->a->c.json) {
			json_t *j = member_to_json(m);

			if (!st->own)
				json_object_set_new(j, "branch", json_string(st->branch));
			fputs(st->count ? ",\n" : "\n", stdout);
			cli_json_dumpf(j, stdout, JSON_COMPACT);
			json_decref(j);
		} else {
			if (!st->count && st->own)
				printf("%-12s %-12s %-11s %-10s %s\n", "ID", "CATEGORY", "STATUS", "JOINED", "NAME");
			else if (!st->count)
				printf("%-28s %-12s %-12s %-11s %-10s %s\n", "BRANCH", "ID", "CATEGORY", "STATUS", "JOINED",
				       "NAME");
			if (!st->own)
				printf("%-28s ", esc(st->branch));
			/* a member received from a branch below is untrusted text */
			printf("%-12s %-12s %-11s %-10s %s\n", esc(m->id), member_category_word(m->category),
			       member_status_word(m->status), esc(m->joined), esc(m->name));
		}
		st->count++;
	}
	strata__member__free_unpacked(m, NULL);
	return 0;
}

static int member_list(int argc, char **argv)
{
	struct member_args a;
	struct list_state st = {.a = &a};
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	int ret = parse("member list", argc, argv, &a);

	if (ret)
		return ret - 1000;
	if (a.status && member_status_parse(a.status, &st.status, &e) < 0)
		return cli_fail("member list", EXIT_USAGE, "%s", e.msg);
	if (a.category && member_category_parse(a.category, &st.category, &e) < 0)
		return cli_fail("member list", EXIT_USAGE, "%s", e.msg);
	if ((ret = node_open(&n, a.c.dir, NODE_RDONLY | NODE_NO_KEY, &e)) < 0 ||
	    (ret = store_txn_begin(node_store(n), false, &t, &e)) < 0)
		goto out;
	st.n = n;
	st.t = t;
	st.own = a.own;
	memset(st.last_owner, 0xff, sizeof st.last_owner);
	if (a.c.json)
		fputs("[", stdout);
	if (a.own) { /* this node's keys: the current one, then any it rotated away from */
		uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
		size_t nown = node_own_keys(n, t, own, NODE_KEYS_MAX);

		for (size_t i = 0; i < nown && ret == 0; i++)
			ret = store_state_each(t, "member", own[i], list_one, &st, &e);
	} else {
		ret = store_state_each(t, "member", NULL, list_one, &st, &e);
	}
	if (a.c.json)
		fputs(st.count ? "\n]\n" : "]\n", stdout);
	else if (ret == 0)
		printf("%zu member%s\n", st.count, st.count == 1 ? "" : "s");
out:
	store_txn_abort(&t);
	node_close(&n);
	return ret < 0 ? cli_fail_err("member list", ret, &e) : EXIT_OK;
}

static int member_show(int argc, char **argv)
{
	struct member_args a;
	struct node *n = NULL;
	struct store_txn *t = NULL;
	Strata__Member *m = NULL;
	struct store_origin o;
	struct err e = {0};
	int ret = parse("member show", argc, argv, &a);

	if (ret)
		return ret - 1000;
	if (!a.id)
		return cli_usage("member show", "--id is required");
	if ((ret = node_open(&n, a.c.dir, NODE_RDONLY | NODE_NO_KEY, &e)) < 0 ||
	    (ret = store_txn_begin(node_store(n), false, &t, &e)) < 0 ||
	    (ret = member_get(t, n, a.id, &m, &o, &e)) < 0)
		goto out;
	if (a.c.json) {
		json_t *j = member_to_json(m);

		json_object_set_new(j, "feed", json_string(o.feed));
		json_object_set_new(j, "seq", json_integer((json_int_t)o.seq));
		cli_json_print(j);
	} else {
		member_print(stdout, m);
		printf("written:   %s #%llu\n", o.feed, (unsigned long long)o.seq);
	}
out:
	if (m)
		strata__member__free_unpacked(m, NULL);
	store_txn_abort(&t);
	node_close(&n);
	return ret < 0 ? cli_fail_err("member show", ret, &e) : EXIT_OK;
}

int cmd_member_main(int argc, char **argv)
{
	static const struct cli_cmd subs[] = {
		{"add", member_add, NULL},       {"update", member_update, NULL}, {"import", member_import_main, NULL},
		{"list", member_list, NULL},     {"show", member_show, NULL},     {NULL, NULL, NULL},
	};

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (const struct cli_cmd *s = subs; s->name; s++)
		if (strcmp(s->name, argv[1]) == 0)
			return s->main(argc - 1, argv + 1);
	return cli_usage("member", "unknown subcommand \"%s\" (add, update, import, list, show)", argv[1]);
}
