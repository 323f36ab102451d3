/* SPDX-License-Identifier: MIT */
/*
 * faults_crash: rounds of SIGKILL at random moments (a seeded PRNG; the seed
 * is printed, STRATA_FAULT_SEED replays it, STRATA_FAULT_ROUNDS sets how
 * many) of a node of a city / district / street network:
 *  - mid-catch-up: the street's daemon comes back to a backlog written
 *    while it was down, and the district (receiving and forwarding) or the
 *    street (sending) is killed part-way;
 *  - mid-import: `strata member import` at the street, or the street's
 *    daemon pushing what it commits, is killed; a killed import is run
 *    again and must finish with every member exactly once;
 *  - mid-report: `strata report submit` at any node, or that node's
 *    daemon carrying it up, is killed; a killed submit is run again.
 * Every kill is followed by a restart. At the end every node converges,
 * every change set a command committed (it exited 0) is still there with
 * the same hash at every node it flows to, every store verifies and
 * `strata audit` against the root key passes everywhere.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

TestSuite(faults_crash, .init = net_setup, .fini = net_teardown);

#define IMPORT_MEMBERS 240 /* per import round, 5 to a change set: 48 change sets, 3 commits */
#define BACKLOG_MEMBERS 200 /* per catch-up round, 1 to a change set */

enum kind { CATCH_UP, IMPORT, REPORT, KINDS };

struct crash {
	struct fault_net net;
	struct net_node *city, *district, *street;
	struct fault_commits *commits;
	size_t street_members;
	unsigned csv_serial;
	uint64_t window_ms[KINDS]; /* how long the operation takes unhurt: kills land in it */
	unsigned kills[KINDS], mid[KINDS];
};

static void ensure_running(struct crash *c)
{
	for (size_t i = 0; i < c->net.n; i++)
		if (!c->net.node[i]->pid)
			net_node_start(c->net.node[i]);
}

/* A kill moment in [0, 1.25 x the operation's usual time): mostly while
 * it runs, some just after. */
static unsigned moment(const struct crash *c, enum kind k)
{
	uint64_t w = c->window_ms[k] < 20 ? 20 : c->window_ms[k];

	return (unsigned)fault_rand(w + w / 4);
}

static const char *new_csv(struct crash *c, char path[256], unsigned long members)
{
	char name[64], prefix[16];

	c->csv_serial++;
	snprintf(name, sizeof name, "m%u.csv", c->csv_serial);
	/* ids unique across rounds: a two-letter prefix per file */
	snprintf(prefix, sizeof prefix, "%c%c", 'A' + (c->csv_serial / 26) % 26, 'A' + c->csv_serial % 26);
	net_gen_members(net_path(path, name), members, prefix, c->csv_serial);
	return path;
}

static void import_ok(struct crash *c, const char *csv, unsigned long members)
{
	net_ok("member", "import", "-d", c->street->dir, csv, NULL);
	c->street_members += members;
	cr_assert_eq(net_count(c->street, "member", c->street->key), c->street_members,
		     "the street holds %zu members, %zu imported", net_count(c->street, "member", c->street->key),
		     c->street_members);
	fault_commits_note(c->commits, c->street);
}

/* The street writes a backlog while its daemon is down; the daemon comes
 * back (it connects, both say hello, the backlog flows in batches to the
 * district and on to the city); at a random moment of that the district
 * or the street is killed, then restarted. */
static void round_catch_up(struct crash *c, bool calibrate)
{
	struct net_node *victim = fault_rand(3) ? c->district : c->street;
	uint64_t before, target, t0, seq;
	char csv[256];

	/* The backlog is written with the street's daemon down rather than
	 * the district's: a fresh daemon dials at once, where one whose
	 * parent was down waits out ZeroMQ's reconnection backoff (up to
	 * 5 s), which would be most of the window. */
	net_node_kill(c->street);
	net_node_set_ops(c->street, 1);
	import_ok(c, new_csv(c, csv, BACKLOG_MEMBERS), BACKLOG_MEMBERS);
	net_node_set_ops(c->street, 5);
	target = net_head(c->street, c->street->key, "up", NULL);
	before = net_head(c->district, c->street->key, "up", NULL);
	net_node_start(c->street);
	t0 = net_now_ms();
	if (calibrate) {
		NET_WAIT(NET_DEADLINE_MS, net_head(c->district, c->street->key, "up", NULL) == target,
			 "the district to catch up from #%llu to #%llu", (unsigned long long)before,
			 (unsigned long long)target);
		c->window_ms[CATCH_UP] = net_now_ms() - t0;
		return;
	}
	net_sleep_ms(moment(c, CATCH_UP));
	seq = net_head(c->district, c->street->key, "up", NULL);
	net_node_kill(victim);
	c->kills[CATCH_UP]++;
	if (seq < target)
		c->mid[CATCH_UP]++;
	net_node_start(victim);
}

/* An import at the street: the CLI (2 in 3) or the street's daemon is
 * killed at a random moment; a killed import is run again. */
static void round_import(struct crash *c, bool calibrate)
{
	bool kill_cli = fault_rand(3) != 0;
	uint64_t head = net_head(c->street, c->street->key, "up", NULL);
	struct fault_proc p;
	char csv[256];
	bool killed;

	new_csv(c, csv, IMPORT_MEMBERS);
	fault_spawn(&p, "member", "import", "-d", c->street->dir, csv, NULL);
	if (calibrate) {
		fault_wait(&p, 60000 * NET_SLOW);
		c->window_ms[IMPORT] = net_now_ms() - p.started_ms;
		cr_assert_eq(p.status, 0, "import: %s", fault_stderr(&p));
		c->street_members += IMPORT_MEMBERS;
		fault_commits_note(c->commits, c->street);
		return;
	}
	net_sleep_ms(moment(c, IMPORT));
	if (kill_cli) {
		killed = fault_kill(&p);
	} else {
		killed = !fault_done(&p);
		net_node_kill(c->street);
		fault_wait(&p, 60000 * NET_SLOW);
		cr_assert_eq(p.status, 0, "an import whose daemon was killed failed: %s", fault_stderr(&p));
		net_node_start(c->street);
	}
	c->kills[IMPORT]++;
	if (killed)
		c->mid[IMPORT]++;
	if (kill_cli && killed) {
		uint64_t now = net_head(c->street, c->street->key, "up", NULL);
		size_t have = net_count(c->street, "member", c->street->key) - c->street_members;

		/* whole change sets only */
		cr_assert_eq(have, 5 * (now - head), "a killed import left %zu members in %llu change sets", have,
			     (unsigned long long)(now - head));
	} else {
		cr_assert_eq(p.status, 0, "import: %s", fault_stderr(&p));
	}
	/* run again (or once more): finishes, nothing twice */
	import_ok(c, csv, IMPORT_MEMBERS);
}

/* A report at a random node: the CLI or that node's daemon is killed. */
static void round_report(struct crash *c, bool calibrate)
{
	struct net_node *at = c->net.node[fault_rand(3)];
	bool kill_cli = fault_rand(2) != 0;
	struct fault_proc p;
	bool killed;

	fault_spawn(&p, "report", "submit", "-d", at->dir, "--period", "2026-10", NULL);
	if (calibrate) {
		fault_wait(&p, 60000 * NET_SLOW);
		c->window_ms[REPORT] = net_now_ms() - p.started_ms;
		cr_assert_eq(p.status, 0, "report submit: %s", fault_stderr(&p));
		fault_commits_note(c->commits, at);
		return;
	}
	net_sleep_ms(moment(c, REPORT));
	if (kill_cli) {
		killed = fault_kill(&p);
	} else {
		killed = !fault_done(&p);
		net_node_kill(at);
		fault_wait(&p, 60000 * NET_SLOW);
		net_node_start(at);
	}
	c->kills[REPORT]++;
	if (killed)
		c->mid[REPORT]++;
	if (!(kill_cli && killed))
		cr_assert_eq(p.status, 0, "report submit at %s: %s", at->label, fault_stderr(&p));
	else
		net_ok("report", "submit", "-d", at->dir, "--period", "2026-10", NULL);
	fault_commits_note(c->commits, at);
}

Test(faults_crash, random_kills_mid_catch_up_import_report_lose_nothing)
{
	struct crash c = {0};
	unsigned rounds = fault_rounds(50);
	uint64_t t0 = net_now_ms();
	size_t checked;

	fault_seed("faults_crash");
	c.city = net_node_init("city", "xiamen", true, true);
	c.district = net_node_init("huli", "xiamen/huli", false, true);
	c.street = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	c.net = (struct fault_net){.node = {c.city, c.district, c.street}, .parent = {-1, 0, 1}, .n = 3};
	c.commits = fault_commits_new();
	net_node_start(c.city);
	net_node_join(c.district, c.city, NULL);
	net_node_start(c.district);
	net_node_join(c.street, c.district, NULL);
	net_node_set_ops(c.street, 5);
	net_node_start(c.street);

	/* How long each operation takes unhurt here (a sanitizer build, a
	 * busy machine): the kill moments are drawn from that. */
	round_import(&c, true);
	round_catch_up(&c, true);
	round_report(&c, true);
	fprintf(stderr, "faults_crash: windows: catch-up %llu ms, import %llu ms, report %llu ms; %u rounds\n",
		(unsigned long long)c.window_ms[CATCH_UP], (unsigned long long)c.window_ms[IMPORT],
		(unsigned long long)c.window_ms[REPORT], rounds);

	for (unsigned r = 0; r < rounds; r++) {
		switch ((enum kind)(r % KINDS)) {
		case CATCH_UP: round_catch_up(&c, false); break;
		case IMPORT: round_import(&c, false); break;
		case REPORT: round_report(&c, false); break;
		case KINDS: break;
		}
		ensure_running(&c);
	}

	fault_wait_converged(&c.net, 3 * NET_DEADLINE_MS);
	cr_assert_eq(net_count(c.street, "member", c.street->key), c.street_members);
	cr_assert_eq(net_count(c.district, "member", c.street->key), c.street_members);
	cr_assert_eq(net_count(c.city, "member", c.street->key), c.street_members);
	checked = fault_commits_check(c.commits, &c.net);
	net_stop_all();
	fault_verify_all(&c.net);
	fault_audit_all(&c.net);
	fprintf(stderr,
		"faults_crash: %u rounds in %llu s: SIGKILL mid-catch-up %u (%u caught part-way), mid-import %u (%u "
		"caught running), mid-report %u (%u caught running); %zu members, %zu committed heads checked at "
		"every holder; converged, verified, audited; nothing lost\n",
		rounds, (unsigned long long)(net_now_ms() - t0) / 1000, c.kills[CATCH_UP], c.mid[CATCH_UP],
		c.kills[IMPORT], c.mid[IMPORT], c.kills[REPORT], c.mid[REPORT], c.street_members, checked);
}
