/* SPDX-License-Identifier: MIT */
/*
 * sync_peer: a hospital outside the government's trust domain (the root of
 * its own) joins a district as a peer, and gets exactly its agreement:
 *   - it publishes its signed reports, which reach the district and go no
 *     further up; the district lists them apart ("peers") and never adds
 *     them to its own total;
 *   - it receives notices (their own feed) and nothing else: no report
 *     approval, no transfer step, no member or resident record, not even
 *     from a bundle. Its store, read byte by byte, holds none of the
 *     domain's phone numbers, names or transfer reasons; its acks of the
 *     notices go back;
 *   - invite refuses every agreement that cannot work or would carry data
 *     about members, residents or units, and a peer path inside the tree;
 *   - both sides show the agreement and the pinned roots (id, status).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

TestSuite(sync_peer, .init = net_setup, .fini = net_teardown);

#define PERIOD "2026-11"

struct want {
	struct net_node *at, *author;
	const char *feed;
	uint64_t seq;
};

static bool has_head(void *arg)
{
	struct want *w = arg;

	return net_head(w->at, w->author->key, w->feed, NULL) >= w->seq;
}

#define WAIT_HEAD(at_, author_, feed_, seq_, what)                        \
	do {                                                               \
		struct want w_ = {(at_), (author_), (feed_), (seq_)};      \
		NET_WAIT(NET_DEADLINE_MS, has_head(&w_), "%s", what);      \
	} while (0)

static json_t *json_of(struct net_run *r, const char *what)
{
	json_t *j;

	cr_assert_eq(r->status, 0, "%s: exit %d: %s", what, r->status, r->err);
	j = net_run_json(r);
	net_run_free(r);
	return j;
}

static json_t *report_show(struct net_node *n)
{
	struct net_run r;

	net_run(&r, "report", "show", "-d", n->dir, "--period", PERIOD, "--json", NULL);
	return json_of(&r, "report show");
}

static long long total_active(json_t *node)
{
	return json_integer_value(json_object_get(json_object_get(node, "total"), "members_active"));
}

/* The one agreement in `id --json` / `status --json` J. */
static json_t *only_agreement(json_t *j, const char *where)
{
	json_t *a = json_object_get(j, "agreements");

	cr_assert(json_is_array(a) && json_array_size(a) == 1, "%s shows %zu agreements, not 1", where,
		  json_array_size(a));
	return json_array_get(a, 0);
}

static void check_feeds(json_t *a, const char *key, const char *want, const char *where)
{
	json_t *v = json_object_get(a, key);

	cr_assert(json_is_array(v) && json_array_size(v) == 1 &&
			  strcmp(json_string_value(json_array_get(v, 0)), want) == 0,
		  "%s: the agreement's %s is not [%s]", where, key, want);
}

static void check_shown(struct net_node *at, const char *cmd, const char *as, struct net_node *with,
			const char *root_hex, size_t n_roots)
{
	struct net_run r;
	json_t *j, *a, *roots;
	char where[128];

	snprintf(where, sizeof where, "%s at %s", cmd, at->label);
	net_run(&r, cmd, "-d", at->dir, "--json", NULL);
	j = json_of(&r, where);
	a = only_agreement(j, where);
	cr_assert_str_eq(json_string_value(json_object_get(a, "as")), as, "%s", where);
	cr_assert_str_eq(json_string_value(json_object_get(a, "with")), with->path, "%s", where);
	cr_assert_str_eq(json_string_value(json_object_get(a, "key")), with->hex, "%s", where);
	check_feeds(a, "publishes", "report", where);
	check_feeds(a, "receives", "notice", where);
	roots = json_object_get(j, "pinned_roots");
	cr_assert_eq(json_array_size(roots), n_roots, "%s pins %zu roots, not %zu", where, json_array_size(roots),
		     n_roots);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(roots, n_roots - 1), "key")), root_hex,
			 "%s", where);
	net_release(j);

	net_run(&r, cmd, "-d", at->dir, NULL);
	cr_assert_eq(r.status, 0, "%s (text): %s", where, r.err);
	cr_assert(net_has(r.out, strcmp(as, "peer") == 0 ? "peer of " : "host of ") && net_has(r.out, with->path) &&
			  net_has(r.out, "publishes report, receives notice") && net_has(r.out, root_hex),
		  "%s (text) does not show the agreement and the pinned root:\n%s", where, r.out);
	net_run_free(&r);
}

Test(sync_peer, reports_beside_the_total_and_both_sides_show_the_agreement)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, true);
	struct net_node *street = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	struct net_node *hosp = net_node_init("hospital", "xmfy-hospital", true, false);
	char csv[256], conf_path[4200], out[4096], *conf;
	json_t *j, *node, *peers, *kids;

	net_node_start(city);
	net_node_join(huli, city, NULL);
	net_node_start(huli);
	net_node_join(street, huli, NULL);
	net_node_start(street);
	net_node_join(hosp, huli, "--role", "peer", NULL); /* the default agreement: report / notice */
	snprintf(conf_path, sizeof conf_path, "%s/strata.conf", hosp->dir);
	conf = net_read_file(conf_path);
	cr_assert(conf && net_has(conf, "role = peer"), "join did not record the peer agreement in strata.conf");
	free(conf);
	net_node_start(hosp);

	net_gen_members(net_path(csv, "hosp.csv"), 40, "YY", 3);
	net_ok("member", "import", "-d", hosp->dir, csv, NULL);
	net_gen_members(net_path(csv, "street.csv"), 30, "JS", 4);
	net_ok("member", "import", "-d", street->dir, csv, NULL);
	net_ok("report", "submit", "-d", hosp->dir, "--period", PERIOD, NULL);
	net_ok("report", "submit", "-d", street->dir, "--period", PERIOD, NULL);
	WAIT_HEAD(huli, hosp, "report", 1, "the district to hold the hospital's report");
	WAIT_HEAD(huli, street, "report", 1, "the district to hold the street's report");
	net_ok("report", "submit", "-d", huli->dir, "--period", PERIOD, NULL);
	WAIT_HEAD(city, huli, "report", 1, "the city to hold the district's report");
	WAIT_HEAD(hosp, huli, "trust", 1, "the hospital to hold the district's trust feed");

	/* The district's total is its tree's; the hospital is listed apart. */
	j = report_show(huli);
	node = json_object_get(j, "node");
	kids = json_object_get(node, "children");
	peers = json_object_get(node, "peers");
	cr_assert_eq(total_active(node), 30, "the district's total counts %lld active members, not its tree's 30",
		     total_active(node));
	cr_assert_eq(json_array_size(kids), 1, "the district lists %zu children, not 1 (the street)",
		     json_array_size(kids));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(kids, 0), "name")), street->path);
	cr_assert_eq(json_array_size(peers), 1, "the district lists %zu peers, not 1", json_array_size(peers));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(peers, 0), "name")), hosp->path);
	cr_assert_eq(total_active(json_array_get(peers, 0)), 40, "the hospital's own figures are shown apart");
	cr_assert(json_is_null(json_object_get(json_array_get(peers, 0), "approval")),
		  "a peer's report is shown as awaiting a decision the district cannot send");
	net_release(j);
	{
		struct net_run r;

		net_run(&r, "report", "show", "-d", huli->dir, "--period", PERIOD, NULL);
		cr_assert(r.status == 0 && net_has(r.out, "peers (their figures are not part of the total above)") &&
				  net_has(r.out, hosp->path),
			  "report show (text) at the district does not list the hospital apart:\n%s", r.out);
		net_run_free(&r);
		/* a peer's report is shown, not decided on: a decision travels in down */
		net_run(&r, "report", "accept", "-d", huli->dir, "--period", PERIOD, "--from", hosp->path, NULL);
		cr_assert_eq(r.status, 2, "accepting a peer's report: exit %d: %s", r.status, r.err);
		net_run_free(&r);
	}

	/* No further up than the agreement, and no member records either way. */
	net_sleep_ms(1000);
	cr_assert_eq(net_head(city, hosp->key, FEED_REPORT, NULL), 0, "the hospital's report reached the city");
	cr_assert_eq(net_head(huli, hosp->key, FEED_UP, NULL), 0, "the hospital's up feed left its domain");
	cr_assert_eq(net_count(huli, "member", hosp->key), 0);
	cr_assert_eq(net_head(hosp, street->key, FEED_UP, NULL), 0, "a street's up feed reached the hospital");
	cr_assert_eq(net_head(hosp, street->key, FEED_REPORT, NULL), 0, "a street's report reached the hospital");
	cr_assert_eq(net_count(hosp, "member", NULL), 40);
	cr_assert_eq(net_head(huli, hosp->key, FEED_TRUST, NULL), 0, "the hospital's own trust feed left its domain");

	/* Both sides show the agreement and the roots they pinned. */
	check_shown(huli, "id", "host", hosp, city->hex, 1);
	check_shown(huli, "status", "host", hosp, city->hex, 1);
	check_shown(hosp, "id", "peer", huli, city->hex, 2);
	check_shown(hosp, "status", "peer", huli, city->hex, 2);

	cr_assert_eq(net_node_verify(hosp, out, sizeof out), 0, "verify at the hospital: %s", out);
	cr_assert_eq(net_node_verify(huli, out, sizeof out), 0, "verify at the district: %s", out);
	cr_assert_eq(net_node_verify(city, out, sizeof out), 0, "verify at the city: %s", out);
}

/* --- what a peer's store holds --- */

static const char *transfer_state(struct net_node *n, const char *member)
{
	static char state[32];
	struct net_run r;
	json_t *arr, *t;
	size_t i;

	state[0] = '\0';
	net_run(&r, "transfer", "list", "-d", n->dir, "--json", NULL);
	arr = json_of(&r, "transfer list");
	json_array_foreach(arr, i, t) if (strncmp(json_string_value(json_object_get(t, "id")), member,
						  strlen(member)) == 0)
		snprintf(state, sizeof state, "%s", json_string_value(json_object_get(t, "state")));
	net_release(arr);
	return state;
}

static bool transfer_completed(void *arg)
{
	return strcmp(transfer_state(arg, "JS01"), "completed") == 0;
}

static void add_member(struct net_node *n, const char *id, const char *name, const char *phone)
{
	net_ok("member", "add", "-d", n->dir, "--id", id, "--name", name, "--category", "full", "--joined", "2015-07-01",
	       "--phone", phone, NULL);
}

static void add_request(struct net_node *n, const char *id, const char *contact)
{
	net_ok("request", "add", "-d", n->dir, "--id", id, "--title", "楼道灯坏了", "--contact", contact, "--opened",
	       "2026-11-03", "--status", "open", NULL);
}

Test(sync_peer, store_holds_nothing_outside_the_agreement)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, true);
	struct net_node *js = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	struct net_node *ht = net_node_init("hetong", "xiamen/huli/hetong", false, false);
	struct net_node *hosp = net_node_init("hospital", "xmfy-hospital", true, false);
	/* every phone number, name and reason written in the government's domain */
	static const char *const secret[] = {"13900000001", "13900000002", "13900000003", "13900000004",
					     "13900000005", "13900000011", "13900000012", "13900000013",
					     "林海燕",      "陈建国",      "搬家到江头街道照顾父母"};
	struct net_run r;
	char out[4096];

	net_node_start(city);
	net_node_join(huli, city, NULL);
	net_node_start(huli);
	net_node_join(js, huli, NULL);
	net_node_start(js);
	net_node_join(ht, huli, NULL);
	net_node_start(ht);
	net_node_join(hosp, huli, "--role", "peer", NULL);
	net_node_start(hosp);
	WAIT_HEAD(hosp, huli, "trust", 1, "the hospital to hold the district's trust feed");

	add_member(js, "JS01", "林海燕", "13900000001");
	add_member(js, "JS02", "陈建国", "13900000002");
	add_member(ht, "HT01", "王秀英", "13900000003");
	add_member(huli, "HL01", "黄志明", "13900000004");
	add_member(city, "CT01", "李娜", "13900000005");
	add_request(js, "R1", "13900000011");
	add_request(ht, "R2", "13900000012");
	add_request(huli, "R3", "13900000013");
	add_member(hosp, "YY01", "张医生", "13900000099"); /* the hospital's own: must be found */

	/* A transfer within the district: the district forwards it (down). */
	NET_WAIT(NET_DEADLINE_MS, net_has_cert(js, ht->key), "the street to know the other street");
	net_ok("transfer", "release", "-d", js->dir, "--member", "JS01", "--to", ht->path, "--reason",
	       "搬家到江头街道照顾父母", NULL);
	NET_WAIT(NET_DEADLINE_MS, net_count(ht, "forward", huli->key) == 1, "the district's forward at hetong");
	net_run(&r, "transfer", "list", "-d", ht->dir, "--json", NULL);
	{
		json_t *arr = json_of(&r, "transfer list at hetong");
		const char *id = json_string_value(json_object_get(json_array_get(arr, 0), "id"));

		cr_assert_not_null(id, "hetong lists no transfer");
		net_ok("transfer", "accept", "-d", ht->dir, "--id", id, "--from", js->path, NULL);
		net_release(arr);
	}
	NET_WAIT(NET_DEADLINE_MS, transfer_completed(js), "the transfer to complete at jinshan");

	/* A report approval (down), then notices from the district and the city. */
	net_ok("report", "submit", "-d", js->dir, "--period", PERIOD, NULL);
	WAIT_HEAD(huli, js, "report", 1, "the district to hold the street's report");
	net_ok("report", "accept", "-d", huli->dir, "--period", PERIOD, "--from", js->path, "--comment", "数据无误",
	       NULL);
	net_ok("notice", "add", "-d", city->dir, "--id", "N0", "--title", "关于开展主题党日活动的通知", NULL);
	net_ok("notice", "add", "-d", huli->dir, "--id", "N1", "--title", "健康讲座安排", NULL);
	NET_WAIT(NET_DEADLINE_MS, net_count(hosp, "notice", huli->key) == 1 && net_count(hosp, "notice", city->key) == 1,
		 "the hospital to hold the district's and the city's notices");
	NET_WAIT(NET_DEADLINE_MS, net_count(js, "approval", huli->key) == 1, "the approval at the street");
	/* The hospital acknowledges the district's notice: the ack goes back. */
	net_ok("ack", "add", "-d", hosp->dir, "--sender", huli->hex, "--notice", "N1", "--acked", "2026-11-20", NULL);
	NET_WAIT(NET_DEADLINE_MS, net_count(huli, "ack", hosp->key) == 1, "the hospital's ack at the district");
	/* The district's notice status lists the peer it shares notices with, acknowledged (issue 14). */
	{
		json_t *st, *u;
		size_t i;
		bool seen = false;

		net_run(&r, "notice", "status", "-d", huli->dir, "--notice", "N1", "--json", NULL);
		cr_assert_eq(r.status, 0, "notice status at the district: %s", r.err);
		st = net_run_json(&r);
		net_run_free(&r);
		json_array_foreach(json_object_get(st, "units"), i, u) if (strcmp(json_string_value(json_object_get(u, "unit")),
									     hosp->path) == 0)
		{
			seen = json_is_true(json_object_get(u, "peer")) && json_is_true(json_object_get(u, "expected")) &&
			       strcmp(json_string_value(json_object_get(u, "answer")), "acked") == 0;
		}
		cr_assert(seen, "the hospital is not listed as a peer that acknowledged N1");
		net_release(st);
	}
	/* A bundle of the district's down feed is refused at the hospital too. */
	{
		char bundle[256];

		net_ok("export", "-d", huli->dir, "-o", net_path(bundle, "huli.bundle"), "--feeds", "trust,down", NULL);
		net_run(&r, "import", "-d", hosp->dir, bundle, NULL);
		cr_assert_eq(r.status, 2, "importing the district's down feed at the hospital: exit %d: %s", r.status,
			     r.err);
		cr_assert(net_has(r.err, "does not share feed down"), "the refusal does not name the agreement: %s",
			  r.err);
		net_run_free(&r);
	}
	net_sleep_ms(1000); /* let anything that should not travel have its chance */

	/* Nothing of down, up or the units' reports at the hospital. */
	cr_assert_eq(net_head(hosp, huli->key, FEED_DOWN, NULL), 0, "the district's down feed reached the hospital");
	cr_assert_eq(net_head(hosp, city->key, FEED_DOWN, NULL), 0, "the city's down feed reached the hospital");
	cr_assert_eq(net_count(hosp, "approval", NULL), 0, "a report approval reached the hospital");
	cr_assert_eq(net_count(hosp, "forward", NULL), 0, "a transfer step reached the hospital");
	cr_assert_eq(net_count(hosp, "outcome", NULL), 0, "a transfer step reached the hospital");
	cr_assert_eq(net_count(hosp, "request", NULL), 0, "a resident's request reached the hospital");
	cr_assert_eq(net_count(hosp, "member", NULL), 1, "another unit's member reached the hospital");
	cr_assert_eq(net_head(hosp, js->key, FEED_REPORT, NULL), 0, "a street's report reached the hospital");
	cr_assert_str_eq(transfer_state(hosp, "JS01"), "");

	/* Byte by byte: no phone number, name or reason of the domain. */
	cr_assert_gt(net_store_count(hosp, "13900000099"), 0, "the scan does not find the hospital's own phone");
	for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
		cr_assert_eq(net_store_count(hosp, secret[i]), 0,
			     "the hospital's data.mdb holds \"%s\", which its agreement does not give it", secret[i]);
	cr_assert_eq(net_node_verify(hosp, out, sizeof out), 0, "verify at the hospital: %s", out);
	cr_assert_eq(net_node_verify(huli, out, sizeof out), 0, "verify at the district: %s", out);
}

/* --- invitations that cannot work --- */

static void refused(struct net_node *at, const char *why, const char *name, const char *role, const char *opt,
		    const char *val)
{
	struct net_run r;

	net_run(&r, "invite", "-d", at->dir, "--name", name, "--role", role, opt, val, NULL);
	cr_assert_eq(r.status, 2, "invite --role %s %s %s %s: exit %d, expected 2\n%s%s", role, opt ? opt : "",
		     val ? val : "", name, r.status, r.out, r.err);
	cr_assert(net_has(r.err, why), "invite --role %s %s %s: the error does not say \"%s\": %s", role,
		  opt ? opt : "", val ? val : "", why, r.err);
	net_run_free(&r);
}

Test(sync_peer, invite_refuses_agreements_that_cannot_work)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, true);
	struct net_run r;

	net_node_start(city);
	net_node_join(huli, city, NULL);

	refused(huli, "a peer receives only notice, not up: up carries the records", "xmfy-hospital", "peer",
		"--receive", "up");
	refused(huli, "a peer receives only notice, not down: down carries report approvals, returns and transfer steps",
		"xmfy-hospital", "peer", "--receive", "down");
	refused(huli, "a peer receives only notice, not report", "xmfy-hospital", "peer", "--receive", "notice,report");
	refused(huli, "a peer receives only notice, not trust", "xmfy-hospital", "peer", "--receive", "trust");
	refused(huli, "a peer publishes only report, not up: up would bring the peer's members' records",
		"xmfy-hospital", "peer", "--publish", "up,report");
	refused(huli, "a peer publishes only report, not down", "xmfy-hospital", "peer", "--publish", "down");
	refused(huli, "unknown feed \"news\"", "xmfy-hospital", "peer", "--receive", "news");
	refused(huli, "a peer's org path must not lie in this domain's tree (xiamen)", "xiamen/huli/hospital", "peer",
		NULL, NULL);
	refused(huli, "a peer's org path must not lie in this domain's tree", "xiamen/siming/hospital", "peer", NULL,
		NULL);
	refused(huli, "a peer's org path must not lie in this domain's tree", "xiamen", "peer", NULL, NULL);
	refused(huli, "--receive is for peers", "xiamen/huli/jinshan", "child", "--receive", "notice");
	refused(huli, "an auditor publishes nothing", "audit-office", "auditor", "--publish", "report");

	/* What can work is accepted: the explicit form of the default. */
	net_run(&r, "invite", "-d", huli->dir, "--name", "xmfy-hospital", "--role", "peer", "--publish", "report",
		"--receive", "notice", NULL);
	cr_assert_eq(r.status, 0, "a valid peer invitation: exit %d: %s", r.status, r.err);
	cr_assert(net_has(r.out, "strata-join:"), "%s", r.out);
	net_run_free(&r);
}
