/* SPDX-License-Identifier: MIT */
/*
 * strata status: the node's links (every configured one, from its running
 * daemon or as the store keeps them), its feed heads and any evidence of
 * equivocation it holds; --check for monitoring.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/cli/cli.h"
#include "node/core/admin.h"
#include "node/core/node.h"
#include "protocol/trust_rules.h"
#include "node/records/numbers.h"
#include "node/report/report.h"
#include "node/sync/sync.h"

/* A time of the JSON (ms, UTC) for people: local time (cli_time_local). */
static void when(char out[CLI_TIME_SIZE], const json_t *ms)
{
	if (!json_is_integer(ms) || json_integer_value(ms) < 0)
		snprintf(out, CLI_TIME_SIZE, "-");
	else
		cli_time_local(out, (uint64_t)json_integer_value(ms));
}

#define NAME_CELLS 32 /* the NAME and AUTHOR columns, in terminal cells */
#define TIME_CELLS 25 /* "2026-03-05 14:30:00 +0800" */
/* an org path (escaped, cut) and its display name in brackets */
#define SHOWN_NAME_SIZE (NODE_NAME_SIZE + DISPLAY_NAME_MAX * TEXT_ESCAPE_EXPANSION + 4)

/* "org/path (display name)" of a link, feed or the node (display_name in
 * its JSON: add_display_names), escaped: peers' names are untrusted. */
static void shown_name(char out[SHOWN_NAME_SIZE], const json_t *o, const char *name)
{
	const char *dn = json_string_value(json_object_get(o, "display_name"));
	if (dn)
		snprintf(out, SHOWN_NAME_SIZE, "%.*s (%.*s)", NODE_NAME_MAX, esc(name),
			 DISPLAY_NAME_MAX * TEXT_ESCAPE_EXPANSION, esc(dn));
	else
		snprintf(out, SHOWN_NAME_SIZE, "%.*s", NODE_NAME_MAX, esc(name));
}

/* Every configured link: role, name, state since when, last seen, last
 * error; the running daemon's figures (lag, counts) under it. */
/* After an own feed's row: the newest checkpoint its witnesses co-signed. */
static void print_witnessed(json_t *w)
{
	size_t i;
	json_t *k;

	if (!json_is_object(w))
		return;
	printf(_("  witnessed #%lld by "), (long long)json_integer_value(json_object_get(w, "size")));
	json_array_foreach(json_object_get(w, "witnesses"), i, k) {
		const char *name = json_string_value(json_object_get(k, "name"));

		printf("%s%.*s", i ? ", " : "", name && name[0] ? 200 : 16,
		       name && name[0] ? name : json_string_value(json_object_get(k, "key")));
	}
}

static void print_links(json_t *j)
{
	json_t *v;
	size_t i;

	if (json_array_size(json_object_get(j, "links")) == 0) {
		printf(_("links:  none (no parent, nobody certified)\n"));
		return;
	}
	printf(_("links:\n"));
	fputs("  ", stdout); /* headers may be translated: padded by display width */
	cli_cell(stdout, _("ROLE"), 8, false);
	cli_cell(stdout, _("NAME"), NAME_CELLS, false);
	cli_cell(stdout, _("STATE"), 16, false);
	cli_cell(stdout, _("SINCE"), TIME_CELLS, false);
	cli_cell(stdout, _("LAST SEEN"), 0, true);
	json_array_foreach(json_object_get(j, "links"), i, v) {
		json_t *live = json_object_get(v, "daemon"), *err = json_object_get(v, "last_error");
		char since[CLI_TIME_SIZE], seen[CLI_TIME_SIZE], name[SHOWN_NAME_SIZE];

		when(since, json_object_get(v, "since_ms"));
		when(seen, json_object_get(v, "last_seen_ms"));
		printf("  %-8s ", json_string_value(json_object_get(v, "role")));
		shown_name(name, v, json_string_value(json_object_get(v, "name")));
		cli_cell(stdout, name, NAME_CELLS, false);
		printf("%-16s %-*s %s\n", json_string_value(json_object_get(v, "state")), TIME_CELLS, since, seen);
		if (json_is_object(live))
			printf("           lag %" JSON_INTEGER_FORMAT " sent %" JSON_INTEGER_FORMAT
			       " received %" JSON_INTEGER_FORMAT "\n",
			       json_integer_value(json_object_get(live, "lag")),
			       json_integer_value(json_object_get(live, "entries_sent")),
			       json_integer_value(json_object_get(live, "entries_received")));
		if (json_is_string(err)) {
			when(since, json_object_get(v, "last_error_ms"));
			printf(_("           last error (%s): %s\n"), since, esc(json_string_value(err))); /* a peer's words */
		}
	}
}

/* The deployment level and the settings it gave (node_holds_json). */
static void print_level(json_t *j)
{
	const struct node_profile *p = node_profile_find(json_string_value(json_object_get(j, "level")));
	unsigned up = (unsigned)json_integer_value(json_object_get(j, "up_depth"));
	unsigned contacts = (unsigned)json_integer_value(json_object_get(j, "contact_levels"));

	if (p)
		printf(_("level:  %s (%s), up_depth %u, contact_levels %u\n"), p->word, p->zh, up, contacts);
	else
		printf(_("level:  none, up_depth %u, contact_levels %u\n"), up, contacts);
}

/* BYTES as "12.3 MiB" or "64.0 GiB" into buf. */
static const char *size_text(char *buf, size_t cap, json_int_t bytes)
{
	double v = (double)bytes / (1024.0 * 1024.0);

	if (v >= 1024.0)
		snprintf(buf, cap, "%.1f GiB", v / 1024.0);
	else
		snprintf(buf, cap, "%.1f MiB", v);
	return buf;
}

/* The store's map and its growth (node_store_json), when the store says. */
static void print_store(json_t *st)
{
	char used[32], map[32], max[32];

	if (!json_is_object(st))
		return;
	printf(_("store:  %s used of a %s map, which grows by itself up to %s%s; grown %lld times\n"),
	       size_text(used, sizeof used, json_integer_value(json_object_get(st, "used_bytes"))),
	       size_text(map, sizeof map, json_integer_value(json_object_get(st, "map_bytes"))),
	       size_text(max, sizeof max, json_integer_value(json_object_get(st, "map_max_bytes"))),
	       json_is_true(json_object_get(st, "map_max_from_disk")) ? _(" (what the free disk allows)") : "",
	       (long long)json_integer_value(json_object_get(st, "map_grown_total")));
}

static void print_human(json_t *j)
{
	json_t *daemon = json_object_get(j, "daemon"), *v;
	size_t i;

	char shown[SHOWN_NAME_SIZE];

	shown_name(shown, j, json_string_value(json_object_get(j, "name")));
	printf(_("node:   %s (%.16s…)\n"), shown, json_string_value(json_object_get(j, "key")));
	v = json_object_get(j, "root");
	printf(_("root:   %s\n"), json_is_string(v) ? json_string_value(v) : _("none yet"));
	print_level(j);
	print_store(json_object_get(j, "store"));
	cli_agreements_print(j);
	v = json_object_get(j, "write_fence");
	if (json_is_string(v)) /* restored or rebooted: it signs nothing until its links confirm its heads */
		printf(_("writes: fenced: %s (see strata fence)\n"), node_fence_why(json_string_value(v)));
	if (!json_is_object(daemon))
		printf(_("daemon: not running (links as it last saw them)\n"));
	else
		printf(_("daemon: running, pid %d%s%s\n"), (int)json_integer_value(json_object_get(daemon, "pid")),
		       *json_string_value(json_object_get(daemon, "listen")) ? _(", listening on ") : "",
		       json_string_value(json_object_get(daemon, "listen")));
	print_links(j);
	printf(_("feeds:\n"));
	fputs("  ", stdout);
	cli_cell(stdout, _("AUTHOR"), NAME_CELLS, false);
	cli_cell(stdout, _("FEED"), 8, false);
	cli_pad_right(stdout, _("HEAD"), 8);
	fputc('\n', stdout);
	json_array_foreach(json_object_get(j, "feeds"), i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));

		shown_name(shown, v, *name ? name : json_string_value(json_object_get(v, "author")));
		fputs("  ", stdout);
		cli_cell(stdout, shown, NAME_CELLS, false);
		printf("%-8s %8" JSON_INTEGER_FORMAT "%s", json_string_value(json_object_get(v, "feed")),
		       json_integer_value(json_object_get(v, "seq")),
		       json_is_true(json_object_get(v, "frozen")) ? "  FROZEN (equivocation)" : "");
		print_witnessed(json_object_get(v, "witnessed"));
		fputc('\n', stdout);
	}
	if (json_array_size(json_object_get(j, "evidence")) == 0) {
		printf(_("evidence: none\n"));
		return;
	}
	for (int ck = 0; ck < 2; ck++) {
		bool head = false;

		json_array_foreach(json_object_get(j, "evidence"), i, v) {
			if (json_is_true(json_object_get(v, "checkpoint")) != (ck == 1))
				continue;
			if (!head)
				printf(ck ? _("evidence of an inconsistent checkpoint (signed over other entries than those "
					      "held; the feed is frozen):\n")
					  : _("evidence of equivocation (two signed entries for one seq):\n"));
			head = true;
			printf(ck ? "  %s (%.16s…) %s size %" JSON_INTEGER_FORMAT "\n" : "  %s (%.16s…) %s #%" JSON_INTEGER_FORMAT "\n",
			       esc(json_string_value(json_object_get(v, "name"))), json_string_value(json_object_get(v, "author")),
			       json_string_value(json_object_get(v, "feed")), json_integer_value(json_object_get(v, "seq")));
		}
	}
}

#define STATUS_DECISIONS 3 /* the recent periods whose decision status shows */

/* A decision word of the JSON ("accepted", "returned", "reopened") in the
 * user's language; JSON keeps the English word. */
static const char *decision_word(const char *w)
{
	static const char *const words[] = {N_("accepted"), N_("returned"), N_("reopened")};

	for (size_t i = 0; w && i < sizeof words / sizeof words[0]; i++)
		if (strcmp(w, words[i]) == 0)
			return _(words[i]);
	return w ? w : "-";
}

/* The latest decision on this unit's recent reports: who, when, comment. */
static void print_decisions(json_t *j)
{
	size_t i;
	json_t *v;

	if (!json_array_size(j))
		return;
	printf("%s", _("reports:\n"));
	json_array_foreach(j, i, v) {
		const char *comment = json_string_value(json_object_get(v, "comment"));

		printf(_("  %s report #%lld %s by %s on %s%s%s%s\n"), json_string_value(json_object_get(v, "period")),
		       (long long)json_integer_value(json_object_get(v, "report_seq")),
		       decision_word(json_string_value(json_object_get(v, "decision"))), esc(json_string_value(json_object_get(v, "by"))),
		       json_string_value(json_object_get(v, "time")), comment ? ": \"" : "", comment ? esc(comment) : "",
		       comment ? "\"" : "");
	}
}

static void help(FILE *f)
{
	cli_help(f, "usage: strata status [-d DIR] [--json] [--check [--link-down SECONDS] [--disk-free PERCENT]]\n\n"
		   "Shows the node's identity; every configured link (the parent, and every\n"
		   "child, peer and auditor this node certified and has not revoked), connected\n"
		   "or not: its role, state (connected, disconnected, never connected), since\n"
		   "when, when the other side was last heard and the last error; while the\n"
		   "daemon runs also entries behind (lag) and counts. Without a running daemon\n"
		   "the links are shown as it last kept them in the store. Then the head of\n"
		   "every feed the node holds, any evidence of equivocation, whether writes are\n"
		   "fenced after a restore (see strata fence), and, like strata id, the pinned\n"
		   "roots and every peer agreement. Times are local (TZ), with their offset. Last, the latest decision\n"
		   "on this unit's reports of its %d most recent decided months (accepted,\n"
		   "returned or reopened, by whom, when in local time, the comment; see\n"
		   "strata report history).\n\n"
		   "  --check              for cron and monitoring: also check, print every\n"
		   "                       problem found and exit 3 if there is any (0 if none):\n"
		   "                       a link not connected for longer than --link-down,\n"
		   "                       a frozen feed, a nearly full disk, fenced writes\n"
		   "  --link-down SECONDS  how long a link may be down (default %d)\n"
		   "  --disk-free PERCENT  the least free space on the store's filesystem, in\n"
		   "                       percent of its size (default %d)\n",
		STATUS_DECISIONS, SYNC_CHECK_LINK_DOWN_S, SYNC_CHECK_DISK_FREE_PCT);
}

/* Sets "display_name" on the node, every link and every feed whose unit
 * has one (node_display_names). */
static void add_display_names(json_t *j, const json_t *names)
{
	static const char *const lists[] = {"links", "feeds", "evidence"};
	const char *dn = node_unit_display_name(names, json_string_value(json_object_get(j, "name")));
	json_t *v;
	size_t i;

	if (dn)
		json_object_set_new(j, "display_name", json_string(dn));
	for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++)
		json_array_foreach(json_object_get(j, lists[k]), i, v)
			if ((dn = node_unit_display_name(names, json_string_value(json_object_get(v, "name")))))
				json_object_set_new(v, "display_name", json_string(dn));
}

struct status_args {
	struct cli_common c;
	bool check;
	struct sync_check_opts o;
};

static int number(const char *what, const char *s, uint64_t max, uint64_t *out)
{
	if (num_parse(s, 0, max, out) < 0)
		return cli_usage("status", "%s must be a whole number from 0 to %llu, not \"%s\"", what,
				 (unsigned long long)max, s);
	return 0;
}

/* CLI_GO_ON, else the exit code to return at once. */
static int parse(int argc, char **argv, struct status_args *a)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},   {"json", no_argument, NULL, 'j'},
		{"check", no_argument, NULL, 'c'},       {"link-down", required_argument, NULL, 'L'},
		{"disk-free", required_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	int opt;

	memset(a, 0, sizeof *a);
	cli_common_init(&a->c);
	a->o.link_down_ms = (uint64_t)SYNC_CHECK_LINK_DOWN_S * 1000;
	a->o.disk_free_pct = SYNC_CHECK_DISK_FREE_PCT;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': a->c.dir = optarg; break;
		case 'j': a->c.json = true; break;
		case 'c': a->check = true; break;
		case 'L':
			if (number("--link-down", optarg, 10ULL * 365 * 86400, &v))
				return EXIT_USAGE;
			a->o.link_down_ms = (uint64_t)v * 1000;
			break;
		case 'F':
			if (number("--disk-free", optarg, 100, &v))
				return EXIT_USAGE;
			a->o.disk_free_pct = (unsigned)v;
			break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("status", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("status", "unexpected argument \"%s\"", argv[optind]);
	return CLI_GO_ON;
}

static void print_check(json_t *problems)
{
	size_t i;
	json_t *v;

	if (json_array_size(problems) == 0)
		printf(_("check: ok\n"));
	json_array_foreach(problems, i, v)
		printf(_("CHECK FAILED: %s\n"), json_string_value(v));
}

int cmd_status_main(int argc, char **argv)
{
	struct status_args a;
	struct node *n = NULL;
	struct err e = {0};
	json_t *daemon = NULL, *links = NULL, *problems = NULL, *j, *held = NULL, *fence, *decisions = NULL, *names = NULL;
	char key[KEY_HEX], root[KEY_HEX];
	struct node_holds holds;
	int ret, code = EXIT_OK;

	if ((ret = parse(argc, argv, &a)) != CLI_GO_ON)
		return ret;
	if ((ret = node_open(&n, a.c.dir, NODE_NO_KEY | NODE_RDONLY, &e)) < 0 || (ret = node_overview(n, &held, &e)) < 0 ||
	    (ret = node_display_names(n, &names, &e)) < 0) {
		json_decref(held);
		node_close(&n);
		return cli_fail_err("status", ret, &e);
	}
	if (sync_status(a.c.dir, 2000, &daemon, &(struct err){0}) < 0)
		daemon = json_null();
	if ((ret = sync_links(n, daemon, &links, &e)) < 0 ||
	    (a.check && (ret = sync_check(n, links, &a.o, &problems, &e)) < 0)) {
		json_decref(names);
		json_decref(daemon);
		json_decref(links);
		json_decref(held);
		node_close(&n);
		return cli_fail_err("status", ret, &e);
	}
	key_hex(key, node_id(n));
	if (node_root(n))
		key_hex(root, node_root(n));
	j = json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", node_name(n), "key", key, "root",
		      node_root(n) ? json_string(root) : json_null(), "daemon", daemon, "links", links);
	json_object_update(j, held); /* feeds, evidence, pinned_roots, agreements, write_fence */
	json_decref(held);
	node_holds_get(node_config(n), node_root(n) && memcmp(node_root(n), node_id(n), KEY_BYTES) == 0, &holds);
	json_object_update_new(j, node_holds_json(&holds)); /* level, up_depth, contact_levels, holds, sends */
	/* a store that cannot say only shows no decisions */
	if (report_recent_decisions(n, STATUS_DECISIONS, &decisions, &(struct err){0}) < 0)
		decisions = json_array();
	json_object_set_new(j, "report_decisions", decisions);
	add_display_names(j, names);
	json_decref(names);
	fence = json_object_get(j, "write_fence");
	if (problems && json_is_string(fence))
		json_array_append_new(problems, json_sprintf("writes are fenced: %s (see strata fence)",
							     node_fence_why(json_string_value(fence))));
	node_close(&n);
	if (problems) {
		code = json_array_size(problems) ? EXIT_VERIFY : EXIT_OK;
		json_object_set_new(j, "check", json_pack("{s:b, s:O}", "ok", code == EXIT_OK, "problems", problems));
	}
	if (a.c.json) {
		cli_json_print(j);
	} else {
		print_human(j);
		print_decisions(json_object_get(j, "report_decisions"));
		json_decref(j);
		if (problems)
			print_check(problems);
	}
	json_decref(problems);
	return code;
}
