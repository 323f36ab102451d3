/* SPDX-License-Identifier: MIT */
/*
 * sync_updepth: a district configured with up_depth = 1 keeps its streets'
 * member records (their `up` feeds) to itself, while its own `up` feed and
 * every trust feed still reach the city. That is how the top of a national
 * tree stays one machine.
 *
 * sync_updepth/profiles: the same, by the deployment profiles alone (strata
 * init --level, node/core/profile.c): a province over a city, a district,
 * two streets and a branch under each. The city keeps its branches' member
 * records (three levels below) and the province holds none of them (four
 * levels below), while every report reaches the province, and a transfer
 * between the two streets' branches, whose common ancestor is the
 * district, completes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"

TestSuite(sync_updepth, .init = net_setup, .fini = net_teardown);

struct want {
	struct net_node *at, *author;
	const char *feed;
};

static bool has_feed(void *arg)
{
	struct want *w = arg;

	return net_head(w->at, w->author->key, w->feed, NULL) > 0;
}

Test(sync_updepth, district_keeps_streets_records_below_up_depth)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, true);
	struct net_node *street = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	char path[4200], csv[256];
	struct want w;
	FILE *f;

	net_node_start(city);
	net_node_join(huli, city, NULL);
	snprintf(path, sizeof path, "%s/strata.conf", huli->dir);
	cr_assert_not_null(f = fopen(path, "a"));
	fputs("\n[node]\nup_depth = 1\n", f);
	fclose(f);
	net_node_start(huli);
	net_node_join(street, huli, NULL);
	net_node_start(street);

	net_gen_members(net_path(csv, "street.csv"), 25, "JS", 5);
	net_ok("member", "import", "-d", street->dir, csv, NULL);
	net_ok("member", "add", "-d", huli->dir, "--id", "HL000001", "--name", "陈建国", "--category", "full",
	       "--joined", "2024-06-01", NULL);

	w = (struct want){huli, street, "up"};
	NET_WAIT(NET_DEADLINE_MS, has_feed(&w), "the district to hold the street's up feed");
	w = (struct want){city, huli, "up"};
	NET_WAIT(NET_DEADLINE_MS, has_feed(&w), "the city to hold the district's own up feed");
	w = (struct want){city, street, "trust"};
	w.author = huli; /* the certificate of the street lives in the district's trust feed */
	NET_WAIT(NET_DEADLINE_MS, has_feed(&w), "the city to hold the district's trust feed");
	net_sleep_ms(1500);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 0,
		     "the street's up feed went 2 levels up past a district with up_depth = 1");
	cr_assert_eq(net_count(city, "member", NULL), 1);
	cr_assert_eq(net_count(huli, "member", NULL), 26);
}

/* The profile network: province / city / district / two streets / a
 * branch under each. */
struct prof {
	struct net_node *prov, *city, *huli, *s1, *s2, *b1, *b2;
};

static void prof_build(struct prof *p)
{
	p->prov = net_node_init_level("fujian", "fujian", true, true, "province");
	p->city = net_node_init_level("city", "fujian/xiamen", false, true, "市");
	p->huli = net_node_init_level("huli", "fujian/xiamen/huli", false, true, "区");
	p->s1 = net_node_init_level("jinshan", "fujian/xiamen/huli/jinshan", false, true, "street");
	p->s2 = net_node_init_level("jiangtou", "fujian/xiamen/huli/jiangtou", false, true, "街道");
	p->b1 = net_node_init_level("jinshan-1", "fujian/xiamen/huli/jinshan/b1", false, false, "branch");
	p->b2 = net_node_init_level("jiangtou-1", "fujian/xiamen/huli/jiangtou/b1", false, false, "支部");
	net_node_start(p->prov);
	net_node_join(p->city, p->prov, NULL);
	net_node_start(p->city);
	net_node_join(p->huli, p->city, NULL);
	net_node_start(p->huli);
	net_node_join(p->s1, p->huli, NULL);
	net_node_start(p->s1);
	net_node_join(p->s2, p->huli, NULL);
	net_node_start(p->s2);
	net_node_join(p->b1, p->s1, NULL);
	net_node_start(p->b1);
	net_node_join(p->b2, p->s2, NULL);
	net_node_start(p->b2);
}

struct held {
	struct net_node *at, *owner;
	const char *collection;
	size_t n;
};

static bool holds_n(void *arg)
{
	struct held *h = arg;

	return net_count(h->at, h->collection, h->owner->key) >= h->n;
}

/* A member of b1 moves to b2: released at b1, forwarded by the district
 * (the common ancestor, two levels above both), accepted at b2, and marked
 * transferred at b1 once the outcome is back. */
static void prof_transfer(struct prof *p)
{
	struct net_run r;
	struct held h;
	char id[64];
	json_t *j;

	net_run(&r, "transfer", "release", "-d", p->b1->dir, "--member", "JS000001", "--to", p->b2->path, "--json",
		NULL);
	cr_assert_eq(r.status, 0, "release: %s", r.err);
	j = net_run_json(&r);
	snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "id")));
	net_release(j);
	net_run_free(&r);
	h = (struct held){p->b2, p->huli, "forward", 1};
	NET_WAIT(NET_DEADLINE_MS, holds_n(&h), "the district's forward of %s to reach the other street's branch", id);
	net_ok("transfer", "accept", "-d", p->b2->dir, "--id", id, "--from", p->b1->path, NULL);
	h = (struct held){p->b1, p->huli, "outcome", 1};
	NET_WAIT(NET_DEADLINE_MS, holds_n(&h), "the outcome of %s to reach the old branch", id);
	net_run(&r, "member", "show", "-d", p->b1->dir, "--id", "JS000001", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(net_has(r.out, "\"transferred\""), "the old branch still has the member: %s", r.out);
	net_run_free(&r);
	net_run(&r, "member", "show", "-d", p->b2->dir, "--id", "JS000001", "--json", NULL);
	cr_assert_eq(r.status, 0, "the member is not at the new branch: %s", r.err);
	cr_assert(net_has(r.out, "\"active\""), "%s", r.out);
	net_run_free(&r);
}

/* The province's view of the month shows the branch's report, and says it
 * cannot recompute it: it holds none of the records it was computed from. */
static void prof_province_view(struct prof *p, const char *period)
{
	struct net_run r;

	net_run(&r, "report", "show", "-d", p->prov->dir, "--period", period, "--tree", "--json", NULL);
	cr_assert_eq(r.status, 0, "report show at the province: %s", r.err);
	cr_assert(net_has(r.out, p->b1->path), "%s", r.out);
	cr_assert(net_has(r.out, "\"reported\": true"), "the branch's report is not shown as reported: %s", r.out);
	cr_assert(net_has(r.out, "not checked: this node does not hold its records"), "%s", r.out);
	net_run_free(&r);
}

Test(sync_updepth, profiles_keep_branch_records_at_the_city_and_reports_reach_the_province)
{
	struct prof p;
	struct held h;
	struct want w;
	char csv[256], period[8];
	time_t now = time(NULL);
	struct tm tm;

	prof_build(&p);
	net_gen_members(net_path(csv, "b1.csv"), 12, "JS", 7);
	net_ok("member", "import", "-d", p.b1->dir, csv, NULL);
	net_ok("member", "add", "-d", p.s1->dir, "--id", "JD000001", "--name", "陈建国", "--category", "full",
	       "--joined", "2024-06-01", NULL);
	h = (struct held){p.huli, p.b1, "member", 12};
	NET_WAIT(NET_DEADLINE_MS, holds_n(&h), "the district to hold the branch's members");
	h = (struct held){p.city, p.s1, "member", 1};
	NET_WAIT(NET_DEADLINE_MS, holds_n(&h), "the city to hold the street's own record (two levels below)");
	h = (struct held){p.city, p.b1, "member", 12};
	NET_WAIT(NET_DEADLINE_MS, holds_n(&h), "the city to hold the branch's members (three levels below)");

	prof_transfer(&p);

	gmtime_r(&now, &tm);
	strftime(period, sizeof period, "%Y-%m", &tm);
	net_ok("report", "submit", "-d", p.b1->dir, "--period", period, NULL);
	w = (struct want){p.prov, p.b1, "report"};
	NET_WAIT(NET_DEADLINE_MS, has_feed(&w), "the branch's report to reach the province, four levels up");
	/* its up feed went as far as the city: every entry of it, the release and the outcome's
	 * mark included, and none to the province */
	NET_WAIT(NET_DEADLINE_MS, net_head(p.city, p.b1->key, FEED_UP, NULL) == net_head(p.b1, p.b1->key, FEED_UP, NULL),
		 "the city to hold all of the branch's up feed");
	cr_assert_eq(net_head(p.prov, p.b1->key, FEED_UP, NULL), 0,
		     "the branch's up feed went four levels up past a city with the city profile");
	cr_assert_eq(net_head(p.prov, p.b2->key, FEED_UP, NULL), 0);
	cr_assert_eq(net_head(p.prov, p.s1->key, FEED_UP, NULL), 0, "a street's records three levels up");
	cr_assert_eq(net_count(p.prov, "member", NULL), 0, "the province holds no member record");
	prof_province_view(&p, period);
}
