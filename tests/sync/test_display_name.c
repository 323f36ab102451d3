/* SPDX-License-Identifier: MIT */
/*
 * sync_display_name: a unit's display name (湖里区) set by its parent at
 * `strata invite --display-name` travels in its certificate: the parent's
 * and the child's `status` show it beside the org path (text and JSON),
 * the parent's links table stays aligned with it (display width), times
 * are local, the parent's member list names the branch with it, and a
 * key rotation keeps it. One network, in stages.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"
#include "node/core/node.h"

TestSuite(sync_display_name, .init = net_setup, .fini = net_teardown);

/* How many certificates of org path NAME at node at carry display name
 * DN (read from its store's state, whatever the pages hold). */
struct dn_count {
	const char *name, *dn;
	size_t n;
};

static int count_dn(const struct store_record *r, void *arg)
{
	struct dn_count *c = arg;
	Strata__Certificate *cert = r->value_len ? strata__certificate__unpack(NULL, r->value_len, r->value) : NULL;

	if (cert && strcmp(cert->name, c->name) == 0 && cert->display_name && strcmp(cert->display_name, c->dn) == 0)
		c->n++;
	if (cert)
		strata__certificate__free_unpacked(cert, NULL);
	return 0;
}

static size_t certs_named(const struct net_node *at, const char *name, const char *dn)
{
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct err e = {{0}};
	struct dn_count c = {.name = name, .dn = dn};

	cr_assert_eq(node_open(&n, at->dir, NODE_RDONLY | NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_state_each(t, "cert", NULL, count_dn, &c, &e), 0, "%s", e.msg);
	store_txn_abort(&t);
	node_close(&n);
	return c.n;
}

/* The display name status --json gives for the link to who, or NULL. */
static const char *link_display_name(json_t *st, const struct net_node *who)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(st, "links"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "key")), who->hex) == 0)
			return json_string_value(json_object_get(v, "display_name"));
	return NULL;
}

/* Does the city see both children connected? */
static bool both_connected(const struct net_node *city)
{
	json_t *st = net_node_status(city), *v;
	size_t i, n = 0;

	json_array_foreach(json_object_get(st, "links"), i, v)
		n += strcmp(json_string_value(json_object_get(v, "state")), "connected") == 0;
	net_release(st);
	return n == 2;
}

/* Does the city's member list show the member with huli's display name? */
static bool city_lists_member(const struct net_node *city)
{
	struct net_run r;
	bool ok;

	net_run(&r, "member", "list", "-d", city->dir, NULL);
	ok = r.status == 0 && net_has(r.out, "xiamen/huli (湖里区)") && net_has(r.out, "H0001");
	net_run_free(&r);
	return ok;
}

static bool own_display_name_is(const struct net_node *n, const char *want)
{
	json_t *st = net_node_status(n);
	const char *dn = json_string_value(json_object_get(st, "display_name"));
	bool ok = dn && strcmp(dn, want) == 0;

	net_release(st);
	return ok;
}

/* Terminal cells of UTF-8 text up to p: the CJK ideographs and fullwidth
 * forms used here are 3-byte sequences taking two cells. */
static size_t cells(const char *s, const char *p)
{
	size_t w = 0;

	while (s < p) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0xe3 && c <= 0xef) {
			w += 2;
			s += 3;
		} else {
			w += (c & 0xc0) != 0x80;
			s++;
		}
	}
	return w;
}

/* The cell at which word starts on the line of out holding tag. */
static size_t column_of(const char *out, const char *tag, const char *word)
{
	const char *line = strstr(out, tag), *start, *at;

	cr_assert_not_null(line, "no line with %s in:\n%s", tag, out);
	start = line;
	while (start > out && start[-1] != '\n')
		start--;
	at = strstr(line, word);
	cr_assert(at && !memchr(line, '\n', (size_t)(at - line)), "no %s after %s in:\n%s", word, tag, out);
	return cells(start, at);
}

/* The city's status as a Chinese user in UTC+8 sees it: both children in
 * the links table, columns at the same cells, times with +0800. */
static void city_status_text(const struct net_node *city)
{
	struct net_run r;

	setenv("LC_ALL", "zh_CN.UTF-8", 1);
	setenv("TZ", "CST-8", 1);
	net_run(&r, "status", "-d", city->dir, NULL);
	setenv("LC_ALL", "C", 1);
	setenv("TZ", "UTC", 1);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(net_has(r.out, "xiamen/huli (湖里区)"), "no display name in the city's status:\n%s", r.out);
	cr_assert(net_has(r.out, "链路"), "the status is not in Chinese:\n%s", r.out);
	cr_assert(net_has(r.out, "+0800"), "no local time (UTC+8) in:\n%s", r.out);
	/* the STATE column starts at the same cell in every row and the header */
	cr_assert_eq(column_of(r.out, "xiamen/huli", "connected"), column_of(r.out, "xiamen/siming", "connected"),
		     "the links table is not aligned:\n%s", r.out);
	cr_assert_eq(column_of(r.out, "xiamen/huli", "connected"), column_of(r.out, "角色", "状态"),
		     "the header is not aligned with the rows:\n%s", r.out);
	net_run_free(&r);
}

Test(sync_display_name, shown_by_parent_and_child_and_kept_by_rotation)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, false);
	struct net_node *siming = net_node_init("siming", "xiamen/siming", false, false);
	struct net_run r;
	json_t *st;
	size_t before;

	net_node_start(city);
	/* refused, changing nothing: a control byte, spaces around, too long */
	net_run(&r, "invite", "-d", city->dir, "--name", "xiamen/huli", "--display-name", "湖里\x1b[2J", NULL);
	cr_assert_eq(r.status, 2, "a control byte was accepted: %s", r.out);
	cr_assert(net_has(r.err, "display name"), "%s", r.err);
	net_run_free(&r);
	net_run(&r, "invite", "-d", city->dir, "--name", "xiamen/huli", "--display-name",
		"湖里区湖里区湖里区湖里区湖里区湖里区湖里区湖里区", NULL); /* 72 bytes */
	cr_assert_eq(r.status, 2, "a 72-byte display name was accepted");
	net_run_free(&r);

	net_node_join(huli, city, "--display-name", "湖里区", NULL);
	net_node_join(siming, city, NULL);
	net_node_start(huli);
	net_node_start(siming);
	net_ok("member", "add", "-d", huli->dir, "--id", "H0001", "--name", "郑文君", "--category", "full", "--joined",
	       "2001-07-01", NULL);
	NET_WAIT(NET_DEADLINE_MS, own_display_name_is(huli, "湖里区"), "the child to see its own display name");
	NET_WAIT(NET_DEADLINE_MS, both_connected(city), "the city to see both children connected");
	st = net_node_status(city);
	cr_assert_str_eq(link_display_name(st, huli), "湖里区");
	cr_assert_null(link_display_name(st, siming), "siming has no display name");
	net_release(st);
	net_run(&r, "status", "-d", huli->dir, NULL);
	cr_assert(net_has(r.out, "node:   xiamen/huli (湖里区)"), "the child's status:\n%s", r.out);
	net_run_free(&r);
	city_status_text(city);
	NET_WAIT(NET_DEADLINE_MS, city_lists_member(city), "the city's member list to name the branch 湖里区");
	/* report show names the child by its display name too (text), and
	 * --summary lists it as not reported by the same name */
	net_run(&r, "report", "show", "-d", city->dir, "--period", "2026-01", NULL);
	cr_assert(r.status == 0 && net_has(r.out, "xiamen/huli (湖里区)") && !net_has(r.out, "xiamen/siming ("),
		  "report show:\n%s%s", r.out, r.err);
	net_run_free(&r);
	net_run(&r, "report", "show", "-d", city->dir, "--period", "2026-01", "--summary", NULL);
	cr_assert(r.status == 0 && net_has(r.out, "xiamen/huli (湖里区)"), "report show --summary:\n%s%s", r.out, r.err);
	net_run_free(&r);

	/* a key rotation: the new certificate names the unit the same way */
	before = certs_named(city, "xiamen/huli", "湖里区");
	cr_assert_eq(before, 1, "the city holds huli's certificate with its display name");
	net_node_stop(huli);
	net_run(&r, "rotate-key", "-d", huli->dir, NULL);
	cr_assert_eq(r.status, 0, "rotate-key: %s", r.err);
	net_run_free(&r);
	cr_assert_eq(certs_named(city, "xiamen/huli", "湖里区"), before + 1, "the new certificate lost the display name");
	net_node_start(huli);
	NET_WAIT(NET_DEADLINE_MS, own_display_name_is(huli, "湖里区"), "the rotated child to keep its display name");
}
