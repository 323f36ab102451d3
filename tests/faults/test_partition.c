/* SPDX-License-Identifier: MIT */
/*
 * faults_partition: a street's link to its district cut for a while while
 * both sides keep writing, through a TCP relay the test controls (no
 * iptables): the street's parent endpoint points at the relay. A cut closes
 * every connection and refuses new ones; a hold (a blackhole) keeps them
 * open and forwards nothing, so only heartbeats can tell the link is dead,
 * and both daemons must say so. After each heal the network converges: the
 * district and the city hold everything the street wrote, the street holds
 * the notices sent down meanwhile, and nothing committed is lost.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

TestSuite(faults_partition, .init = net_setup, .fini = net_teardown);

static void add_member(struct net_node *n, const char *id)
{
	net_ok("member", "add", "-d", n->dir, "--id", id, "--name", "林海燕", "--category", "full", "--joined",
	       "2018-05-04", NULL);
}

static void add_notice(struct net_node *n, const char *id)
{
	net_ok("notice", "add", "-d", n->dir, "--id", id, "--title", "三会一课 schedule", NULL);
}

/* The node's log has needle after byte off. */
static bool log_has_after(const struct net_node *n, size_t off, const char *needle)
{
	char *s = net_read_file(n->log);
	bool r = strlen(s) >= off && strstr(s + off, needle) != NULL;

	free(s);
	return r;
}

static size_t log_size(const struct net_node *n)
{
	char *s = net_read_file(n->log);
	size_t len = strlen(s);

	free(s);
	return len;
}

static bool parent_connected(const struct net_node *n)
{
	json_t *st = net_node_status(n);
	json_t *l = json_array_get(json_object_get(json_object_get(st, "daemon"), "links"), 0);
	bool up;

	cr_assert(json_is_object(l), "no parent link in the status of %s", n->label);
	up = json_is_true(json_object_get(l, "connected"));

	net_release(st);
	return up;
}

/* Both sides write while the link is down; returns nothing, notes commits. */
static void write_both_sides(struct fault_net *net, struct fault_commits *c, unsigned cycle, const char *kind)
{
	struct net_node *city = net->node[0], *district = net->node[1], *street = net->node[2];
	char id[32], csv[256], name[64];

	snprintf(id, sizeof id, "PT%02u%c00001", cycle, kind[0]);
	add_member(street, id);
	snprintf(name, sizeof name, "members-%u-%s.csv", cycle, kind);
	snprintf(id, sizeof id, "P%02u%c", cycle, kind[0]);
	net_gen_members(net_path(csv, name), 250, id, cycle);
	net_ok("member", "import", "-d", street->dir, csv, NULL);
	snprintf(id, sizeof id, "DS%02u%c00001", cycle, kind[0]);
	add_member(district, id);
	snprintf(id, sizeof id, "N-%u-%s-district", cycle, kind);
	add_notice(district, id);
	snprintf(id, sizeof id, "N-%u-%s-city", cycle, kind);
	add_notice(city, id);
	fault_commits_note(c, street);
	fault_commits_note(c, district);
	fault_commits_note(c, city);
}

/* What crossed the link: the street's new head must not have reached the
 * district, nor the district's notices the street. */
static void assert_partitioned(struct fault_net *net, uint64_t street_up_before, uint64_t down_before)
{
	struct net_node *district = net->node[1], *street = net->node[2];

	cr_assert_eq(net_head(district, street->key, "up", NULL), street_up_before,
		     "the street's entries crossed a cut link");
	cr_assert_eq(net_head(street, district->key, "notice", NULL), down_before,
		     "the district's notices crossed a cut link");
}

static void assert_healed(struct fault_net *net)
{
	struct net_node *city = net->node[0], *district = net->node[1], *street = net->node[2];
	size_t members = net_count(street, "member", street->key);

	fault_wait_converged(net, 2 * NET_DEADLINE_MS);
	cr_assert_eq(net_count(district, "member", street->key), members);
	cr_assert_eq(net_count(city, "member", street->key), members);
	cr_assert_eq(net_count(street, "notice", district->key), net_count(district, "notice", district->key));
	cr_assert_eq(net_count(street, "notice", city->key), net_count(city, "notice", city->key));
}

Test(faults_partition, street_cut_and_blackholed_then_converges)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *district = net_node_init("siming", "xiamen/siming", false, true);
	struct net_node *street = net_node_init("zhonghua", "xiamen/siming/zhonghua", false, false);
	struct fault_net net = {.node = {city, district, street}, .parent = {-1, 0, 1}, .n = 3};
	struct fault_commits *c = fault_commits_new();
	struct fault_relay *relay;
	unsigned cycles = (fault_rounds(50) + 49) / 50;

	fault_seed("faults_partition"); /* nothing random yet; printed for uniformity */
	net_node_start(city);
	net_node_join(district, city, NULL);
	net_node_start(district);
	net_node_join(street, district, NULL);
	net_node_set_ops(street, 100);
	relay = fault_relay_new(fault_port(district));
	fault_set_parent_endpoint(street, fault_relay_endpoint(relay));
	net_node_start(street);
	add_member(street, "ZH900001");
	add_notice(district, "N-0");
	fault_wait_converged(&net, NET_DEADLINE_MS);
	cr_assert_geq(fault_relay_accepted(relay), 1, "the street did not connect through the relay");

	for (unsigned cycle = 0; cycle < cycles; cycle++) {
		uint64_t up, down;
		size_t soff, doff;

		/* A cut: connections closed, new ones refused. The street's
		 * ZeroMQ sees the disconnect at once. */
		soff = log_size(street);
		up = net_head(street, street->key, "up", NULL);
		down = net_head(district, district->key, "notice", NULL);
		fault_relay_set(relay, FAULT_CUT);
		NET_WAIT(NET_DEADLINE_MS, log_has_after(street, soff, "is down"),
			 "the street to see its parent link down after a cut");
		write_both_sides(&net, c, cycle, "cut");
		net_sleep_ms(1000);
		assert_partitioned(&net, up, down);
		cr_assert(!parent_connected(street), "the street says its parent link is up during a cut");
		fault_relay_set(relay, FAULT_PASS);
		assert_healed(&net);
		cr_log_info("cycle %u: cut survived, converged", cycle);

		/* A hold: nothing closes, nothing arrives. Only the heartbeats
		 * (ZeroMQ's and the daemons' pings) can tell; both ends must
		 * notice, or the district would keep a dead child link. */
		soff = log_size(street);
		doff = log_size(district);
		up = net_head(street, street->key, "up", NULL);
		down = net_head(district, district->key, "notice", NULL);
		fault_relay_set(relay, FAULT_HOLD);
		write_both_sides(&net, c, cycle, "hold");
		NET_WAIT(NET_DEADLINE_MS + 10000 * NET_SLOW, log_has_after(street, soff, "is down") ||
								  log_has_after(street, soff, "silent for"),
			 "the street to find its parent link dead through a blackhole");
		NET_WAIT(NET_DEADLINE_MS + 10000 * NET_SLOW, log_has_after(district, doff, "is down (silent for"),
			 "the district to find the street's link dead through a blackhole");
		assert_partitioned(&net, up, down);
		cr_assert(!parent_connected(street), "the street says its parent link is up through a blackhole");
		fault_relay_set(relay, FAULT_PASS);
		assert_healed(&net);
		cr_log_info("cycle %u: blackhole survived, converged", cycle);
	}
	net_stop_all();
	fault_verify_all(&net);
	fault_audit_all(&net);
	cr_log_info("%u partition cycles (cut and blackhole), %zu committed entries checked at every holder", cycles,
		    fault_commits_check(c, &net));
}

/* A link one side found dead (silent past SYNC_DEAD_MS: its loop stalled
 * on a loaded machine) while ZeroMQ kept the connection: no reconnection
 * comes, so the child says hello again on the same connection, and the
 * parent must answer it, or the link stays wedged for good (seen in
 * faults_crash under ASan: the city stopped thousands of entries short). */
Test(faults_partition, a_hello_again_on_a_live_connection_is_answered)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *street = net_node_init("hetong", "xiamen/hetong", false, false);
	struct net_client *c;

	net_node_start(city);
	net_node_join(street, city, NULL);
	c = net_client_new_kp(city, net_node_keypair(street));
	net_client_hello(c, street->key, street->path);
	cr_assert_not_null(net_client_expect(c, STRATA__FRAME__MSG_HELLO, 10000 * NET_SLOW), "no hello back");
	net_client_hello(c, street->key, street->path);
	cr_assert_not_null(net_client_expect(c, STRATA__FRAME__MSG_HELLO, 10000 * NET_SLOW),
			   "a second hello on the same connection went unanswered");
	net_client_free(&c);
}
