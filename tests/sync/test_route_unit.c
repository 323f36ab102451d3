/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of routing (node/sync/route.c): which feeds go on which link
 * and which a link may bring, decided on a real store without daemons.
 * The node under test is "r/m" (up_depth 2, contact_levels 1); its trust
 * feed certifies its ancestor "r", a child "r/m/a", a grandchild
 * "r/m/a/b", an outsider "x", a peer "p" (shares notice, may publish
 * report), an auditor "u", and "r/m" itself under an older key (o_key, as
 * after a rotation).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/records/records.h"
#include "node/sync/sync_internal.h"

#define DIR_MAX 512

enum { K_R = 0xa1, K_A, K_B, K_X, K_P, K_U, K_O };

static char dir[DIR_MAX];
static struct node *n;
static struct daemon d;
static struct store_txn *t;
static uint8_t self[KEY_BYTES], r_key[KEY_BYTES], a_key[KEY_BYTES], b_key[KEY_BYTES], x_key[KEY_BYTES],
	p_key[KEY_BYTES], u_key[KEY_BYTES], o_key[KEY_BYTES];
static char *all_feeds[] = {FEED_UP, FEED_REPORT, FEED_DOWN, FEED_TRUST}, *report_feed[] = {FEED_REPORT},
	    *notice_feed[] = {FEED_NOTICE};
static Strata__Certificate peer_cert = STRATA__CERTIFICATE__INIT, peer_cert_none = STRATA__CERTIFICATE__INIT;
static struct link parent, child, peer, peer_none, auditor;

static void put_cert(struct node_writer *w, const uint8_t key[KEY_BYTES], const char *name, Strata__Role role)
{
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	uint8_t buf[512];
	struct err e = {0};

	c.subject = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)key};
	c.name = (char *)name;
	c.role = role;
	c.feeds = role == STRATA__ROLE__ROLE_PEER ? report_feed : all_feeds;
	c.n_feeds = role == STRATA__ROLE__ROLE_PEER ? 1 : 4;
	c.receive = role == STRATA__ROLE__ROLE_PEER ? notice_feed : NULL;
	c.n_receive = role == STRATA__ROLE__ROLE_PEER ? 1 : 0;
	c.issued_ms = 1600000000000ull;
	cr_assert_geq(node_writer_put(w, "cert", key, KEY_BYTES, buf, strata__certificate__pack(&c, buf), &e), 0,
		      "%s", e.msg);
}

static void make_link(struct link *l, enum link_kind kind, Strata__Role role, const uint8_t key[KEY_BYTES],
		      const char *name, Strata__Certificate *cert)
{
	memset(l, 0, sizeof *l);
	l->d = &d;
	l->kind = kind;
	l->role = role;
	memcpy(l->key, key, KEY_BYTES);
	snprintf(l->name, sizeof l->name, "%s", name);
	l->cert = cert;
}

static void setup(void)
{
	struct node_init_opts o = {.name = "r/m", .root = true};
	struct node_writer *w = NULL;
	char conf[DIR_MAX + 32];
	struct err e = {0};
	FILE *f;

	snprintf(dir, sizeof dir, "%s/strata-route-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_geq(node_create(dir, &o, &e), 0, "%s", e.msg);
	snprintf(conf, sizeof conf, "%s/strata.conf", dir);
	cr_assert_not_null(f = fopen(conf, "a"));
	fprintf(f, "\n[node]\nup_depth = 2\n\n[privacy]\ncontact_levels = 1\n");
	fclose(f);
	cr_assert_geq(node_open(&n, dir, 0, &e), 0, "%s", e.msg);
	memcpy(self, node_id(n), KEY_BYTES);
	memset(r_key, K_R, KEY_BYTES);
	memset(a_key, K_A, KEY_BYTES);
	memset(b_key, K_B, KEY_BYTES);
	memset(x_key, K_X, KEY_BYTES);
	memset(p_key, K_P, KEY_BYTES);
	memset(u_key, K_U, KEY_BYTES);
	memset(o_key, K_O, KEY_BYTES);
	cr_assert_geq(node_writer_begin(n, FEED_TRUST, &w, &e), 0, "%s", e.msg);
	put_cert(w, r_key, "r", STRATA__ROLE__ROLE_ROOT);
	put_cert(w, a_key, "r/m/a", STRATA__ROLE__ROLE_CHILD);
	put_cert(w, b_key, "r/m/a/b", STRATA__ROLE__ROLE_CHILD);
	put_cert(w, x_key, "x", STRATA__ROLE__ROLE_CHILD);
	put_cert(w, p_key, "p", STRATA__ROLE__ROLE_PEER);
	put_cert(w, u_key, "u", STRATA__ROLE__ROLE_AUDITOR);
	put_cert(w, o_key, "r/m", STRATA__ROLE__ROLE_CHILD); /* this unit's key before a rotation */
	cr_assert_geq(node_writer_commit(&w, NULL, NULL, &e), 0, "%s", e.msg);
	d.n = n;
	peer_cert.receive = notice_feed;
	peer_cert.n_receive = 1;
	peer_cert.feeds = report_feed;
	peer_cert.n_feeds = 1;
	make_link(&parent, LINK_PARENT, STRATA__ROLE__ROLE_CHILD, r_key, "r", NULL);
	make_link(&child, LINK_CHILD, STRATA__ROLE__ROLE_CHILD, a_key, "r/m/a", NULL);
	make_link(&peer, LINK_CHILD, STRATA__ROLE__ROLE_PEER, p_key, "p", &peer_cert);
	make_link(&peer_none, LINK_CHILD, STRATA__ROLE__ROLE_PEER, p_key, "p", &peer_cert_none);
	make_link(&auditor, LINK_CHILD, STRATA__ROLE__ROLE_AUDITOR, u_key, "u", NULL);
	cr_assert_geq(store_txn_begin(node_store(n), false, &t, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
	char cmd[DIR_MAX + 16];

	store_txn_abort(&t);
	node_close(&n);
	memset(&d, 0, sizeof d);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(route, .init = setup, .fini = teardown);

#define SEND(l, author, feed) sync_route_send(&d, t, &(l), (author), (feed))
#define ACCEPT(l, author, feed) sync_route_accept(&d, t, &(l), (author), (feed))

Test(route, parent_gets_up_and_report_of_the_subtree_within_up_depth)
{
	cr_expect(SEND(parent, self, FEED_UP));
	cr_expect(SEND(parent, a_key, FEED_UP), "one level below: the parent stands 2 above");
	cr_expect_not(SEND(parent, b_key, FEED_UP), "two levels below: 3 above, beyond up_depth 2");
	cr_expect(SEND(parent, b_key, FEED_REPORT), "up_depth bounds up, not report");
	cr_expect_not(SEND(parent, x_key, FEED_UP), "not in this node's subtree");
	cr_expect_not(SEND(parent, r_key, FEED_REPORT), "the parent's own feed");
	cr_expect_not(SEND(parent, self, FEED_DOWN));
	cr_expect_not(SEND(parent, self, FEED_NOTICE));
	/* trust is scoped to the tree (issue 16): up from this node and its subtree */
	cr_expect(SEND(parent, self, FEED_TRUST));
	cr_expect(SEND(parent, b_key, FEED_TRUST), "the subtree's trust goes up whatever up_depth says");
	cr_expect_not(SEND(parent, x_key, FEED_TRUST), "not in this node's subtree");
	cr_expect_not(SEND(parent, r_key, FEED_TRUST), "the parent's own");
}

Test(route, child_gets_down_and_notice_of_this_node_and_above)
{
	cr_expect(SEND(child, self, FEED_DOWN));
	cr_expect(SEND(child, r_key, FEED_DOWN));
	cr_expect(SEND(child, r_key, FEED_NOTICE));
	cr_expect_not(SEND(child, b_key, FEED_DOWN), "below this node: not its child's to get from here");
	cr_expect_not(SEND(child, x_key, FEED_NOTICE), "outside the line of ancestors");
	cr_expect_not(SEND(child, self, FEED_UP));
	cr_expect_not(SEND(child, a_key, FEED_REPORT));
	/* trust down: this node's and its ancestors' (the child's chain) */
	cr_expect(SEND(child, self, FEED_TRUST));
	cr_expect(SEND(child, r_key, FEED_TRUST));
	cr_expect_not(SEND(child, b_key, FEED_TRUST), "below: it came from that subtree");
	cr_expect_not(SEND(child, x_key, FEED_TRUST), "a cousin's: never down");
	cr_expect(SEND(child, o_key, FEED_TRUST), "this unit's trust feed under its key before a rotation");
	cr_expect(SEND(parent, o_key, FEED_TRUST));
}

Test(route, peer_gets_only_the_notices_its_agreement_shares)
{
	cr_expect(SEND(peer, self, FEED_NOTICE));
	cr_expect(SEND(peer, r_key, FEED_NOTICE));
	cr_expect_not(SEND(peer, a_key, FEED_NOTICE), "a notice from below is not this node's to share");
	cr_expect_not(SEND(peer, self, FEED_DOWN), "down never reaches a peer");
	cr_expect_not(SEND(peer, self, FEED_REPORT), "report is not shared with it");
	cr_expect_not(SEND(peer_none, self, FEED_NOTICE), "an agreement that shares nothing");
	cr_expect(SEND(peer, self, FEED_TRUST));
	cr_expect(SEND(peer, r_key, FEED_TRUST), "the host's chain");
	cr_expect_not(SEND(peer, a_key, FEED_TRUST), "not the host's subtree");
	cr_expect_not(SEND(peer, x_key, FEED_TRUST));
}

Test(route, auditor_gets_everything_at_this_level)
{
	cr_expect(SEND(auditor, b_key, FEED_UP));
	cr_expect(SEND(auditor, a_key, FEED_REPORT));
	cr_expect(SEND(auditor, self, FEED_DOWN));
	cr_expect(SEND(auditor, x_key, FEED_NOTICE));
	cr_expect(SEND(auditor, x_key, FEED_TRUST), "every trust feed this node holds");
	cr_expect(SEND(auditor, b_key, FEED_TRUST));
}

Test(route, an_auditor_node_sends_its_parent_only_trust)
{
	d.self_auditor = 1;
	cr_expect_not(SEND(parent, self, FEED_UP));
	cr_expect_not(SEND(parent, a_key, FEED_REPORT));
	cr_expect(SEND(parent, self, FEED_TRUST));
	cr_expect_not(SEND(parent, x_key, FEED_TRUST));
	cr_expect(ACCEPT(parent, r_key, FEED_UP), "it receives everything that reaches its parent");
	cr_expect(ACCEPT(parent, x_key, FEED_TRUST), "trust included");
	cr_expect_not(ACCEPT(parent, self, FEED_UP), "but never its own feeds");
}

Test(route, private_goes_up_within_contact_levels_only)
{
	cr_expect(SEND(parent, self, FEED_PRIVATE), "1 level above its author: within contact_levels 1");
	cr_expect_not(SEND(parent, a_key, FEED_PRIVATE), "2 levels above its author (up_depth 2 would let up go)");
	cr_expect(SEND(parent, a_key, FEED_UP));
	cr_expect_not(SEND(parent, b_key, FEED_PRIVATE), "3 levels above its author");
	cr_expect_not(SEND(parent, x_key, FEED_PRIVATE));
	cr_expect_not(SEND(child, self, FEED_PRIVATE), "never down");
	cr_expect_not(SEND(peer, self, FEED_PRIVATE), "never to a peer");
	cr_expect_not(SEND(auditor, self, FEED_PRIVATE), "never to an auditor");
	d.self_auditor = 1;
	cr_expect_not(SEND(parent, self, FEED_PRIVATE), "nor from an auditor node");
}

Test(route, parent_may_bring_down_feeds_of_ancestors)
{
	cr_expect(ACCEPT(parent, r_key, FEED_DOWN));
	cr_expect(ACCEPT(parent, r_key, FEED_NOTICE));
	cr_expect_not(ACCEPT(parent, self, FEED_DOWN), "this node's own feed comes from no one else");
	cr_expect_not(ACCEPT(parent, x_key, FEED_DOWN), "not an ancestor");
	cr_expect_not(ACCEPT(parent, r_key, FEED_UP));
	cr_expect(ACCEPT(parent, r_key, FEED_TRUST), "an ancestor's trust");
	cr_expect_not(ACCEPT(parent, x_key, FEED_TRUST), "not an ancestor's trust");
	cr_expect_not(ACCEPT(parent, a_key, FEED_TRUST), "below this node: it comes up, not down");
	cr_expect_not(ACCEPT(parent, self, FEED_TRUST));
}

Test(route, child_may_bring_up_feeds_of_its_subtree)
{
	cr_expect(ACCEPT(child, a_key, FEED_UP));
	cr_expect(ACCEPT(child, b_key, FEED_REPORT));
	cr_expect(ACCEPT(child, b_key, FEED_PRIVATE));
	cr_expect_not(ACCEPT(child, x_key, FEED_UP), "outside the child's subtree");
	cr_expect_not(ACCEPT(child, self, FEED_UP));
	cr_expect_not(ACCEPT(child, a_key, FEED_DOWN), "down flows the other way");
	cr_expect(ACCEPT(child, a_key, FEED_TRUST));
	cr_expect(ACCEPT(child, b_key, FEED_TRUST));
	cr_expect_not(ACCEPT(child, x_key, FEED_TRUST), "outside the child's subtree");
	cr_expect(ACCEPT(child, r_key, FEED_TRUST), "this node's chain: what an older child still sends up");
}

Test(route, peer_may_bring_its_own_agreed_feeds_and_an_auditor_none)
{
	cr_expect(ACCEPT(peer, p_key, FEED_REPORT), "its certificate lets it publish report");
	cr_expect_not(ACCEPT(peer, p_key, FEED_UP), "not in its certificate");
	cr_expect_not(ACCEPT(peer, a_key, FEED_REPORT), "only its own feeds");
	cr_expect_not(ACCEPT(auditor, u_key, FEED_UP), "an auditor writes no data feeds");
	cr_expect_not(ACCEPT(auditor, u_key, FEED_TRUST), "an auditor certifies no one here");
	cr_expect_not(ACCEPT(peer, p_key, FEED_TRUST), "its trust feed stays in its domain (agreement without trust)");
	cr_expect_not(ACCEPT(peer, r_key, FEED_TRUST));
}
