/* SPDX-License-Identifier: MIT */
/*
 * sync_peer: a hospital outside the government's trust domain (the root of
 * its own) joins a district as a peer. It shares only what its agreement
 * names: its published feed reaches the district and goes no further up,
 * it receives the domain's certificates that prove the district, it never
 * receives another branch's records, and an entry of a feed the agreement
 * does not name is refused by the district.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

TestSuite(sync_peer, .init = net_setup, .fini = net_teardown);

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

Test(sync_peer, hospital_shares_only_what_its_agreement_names)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, true);
	struct net_node *street = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	struct net_node *hosp = net_node_init("hospital", "xmfy-hospital", true, false);
	char csv[256];
	struct want w;

	net_node_start(city);
	net_node_join(huli, city, NULL);
	net_node_start(huli);
	net_node_join(street, huli, NULL);
	net_node_start(street);
	net_node_join(hosp, huli, "--role", "peer", "--publish", "up", "--receive", "down", NULL);
	char conf_path[4200];
	char *conf;

	snprintf(conf_path, sizeof conf_path, "%s/strata.conf", hosp->dir);
	conf = net_read_file(conf_path);
	cr_assert(conf && net_has(conf, "role = peer"), "join did not record the peer agreement in strata.conf");
	free(conf);
	net_node_start(hosp);

	net_gen_members(net_path(csv, "hosp.csv"), 40, "YY", 3);
	net_ok("member", "import", "-d", hosp->dir, csv, NULL);
	net_gen_members(net_path(csv, "street.csv"), 30, "JS", 4);
	net_ok("member", "import", "-d", street->dir, csv, NULL);

	/* The hospital's feed reaches the district ... */
	w = (struct want){huli, hosp, "up", 1};
	NET_WAIT(NET_DEADLINE_MS, has_head(&w), "the district to hold the hospital's up feed");
	cr_assert_eq(net_count(huli, "member", hosp->key), 40);
	/* ... and the hospital holds the certificates that prove the district. */
	w = (struct want){hosp, huli, "trust", 1};
	NET_WAIT(NET_DEADLINE_MS, has_head(&w), "the hospital to hold the district's trust feed");
	w = (struct want){city, street, "up", 1};
	NET_WAIT(NET_DEADLINE_MS, has_head(&w), "the city to hold the street's up feed");
	net_sleep_ms(1500); /* let anything that should not travel have its chance */

	/* No further up than the agreement: the city never sees the hospital's records. */
	cr_assert_eq(net_head(city, hosp->key, "up", NULL), 0, "the hospital's up feed reached the city");
	cr_assert_eq(net_count(city, "member", hosp->key), 0);
	/* The hospital never receives a branch's records. */
	cr_assert_eq(net_head(hosp, street->key, "up", NULL), 0, "a street's up feed reached the hospital");
	cr_assert_eq(net_count(hosp, "member", NULL), 40);
	/* Its own trust feed stays home: the district does not hold it. */
	cr_assert_eq(net_head(huli, hosp->key, "trust", NULL), 0, "the hospital's own trust feed left its domain");

	char out[4096];
	cr_assert_eq(net_node_verify(hosp, out, sizeof out), 0, "verify at the hospital: %s", out);
	cr_assert_eq(net_node_verify(huli, out, sizeof out), 0, "verify at the district: %s", out);
	cr_assert_eq(net_node_verify(city, out, sizeof out), 0, "verify at the city: %s", out);
}
