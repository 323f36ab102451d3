/* SPDX-License-Identifier: MIT */
/*
 * sync_erase: `strata erase` with real daemons and real stores.
 *
 * A street writes a resident's request with a phone number in it (added,
 * then updated: two entries hold it); it reaches the district and the city.
 * The street erases it: the erase request travels up its feed, and then the
 * phone number is in no node's data.mdb (the files' bytes are searched),
 * while `strata verify` and `strata audit --root` pass everywhere and list
 * the two values as erased; nor is either value's salt (the values travel
 * salted, each salt beside its value, and leave with it). A bundle exported
 * afterwards holds the entries stripped, salts gone, and audits clean. Refusals (a
 * record of another node, an unknown key, a trust or unknown collection, a
 * second erase) exit 2 and change nothing. A value missing without an erase
 * request fails verify.
 *
 * A member among hundreds written in one (large) entry is erased alone.
 * Another test carries the erase by bundle alone: an importing node that
 * held the value strips it, and one that never saw it gets it stripped.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "salts.h"

TestSuite(sync_erase, .init = net_setup, .fini = net_teardown);

#define PHONE "13912345678"

/* How many times PHONE is in a file's bytes. */
static size_t file_count(const char *path)
{
	return net_file_count_bytes(path, PHONE, strlen(PHONE));
}

/* The salts of request R17's puts in author's up feed at n. */
static size_t r17_salts(const struct net_node *n, const uint8_t author[KEY_BYTES], uint8_t salts[][SALT_BYTES])
{
	return net_salts_of(n, author, FEED_UP, "request", "R17", salts, NET_SALTS_MAX);
}

/* How many times PHONE is in the node's data.mdb. */
static size_t phone_in(const struct net_node *n)
{
	return net_store_count(n, PHONE);
}

/* Writes request R17 (the phone in its contact, then in a progress note)
 * and R18 (no phone) at n. */
static void write_requests(const struct net_node *n)
{
	net_ok("request", "add", "-d", n->dir, "--id", "R17", "--title", "leaking roof", "--contact",
	       "Mr Wang " PHONE, "--opened", "2026-11-01", "--status", "open", NULL);
	net_ok("request", "update", "-d", n->dir, "--id", "R17", "--notes", "2026-11-02: called back on " PHONE,
	       NULL);
	net_ok("request", "add", "-d", n->dir, "--id", "R18", "--title", "broken street lamp", "--opened",
	       "2026-11-03", "--status", "open", NULL);
}

/* `strata verify --json` at n: asserts it passes and lists `erased` erased
 * values of (collection, key) by author, at seqs 1, 2, ... */
static void assert_verifies_erased_of(const struct net_node *n, const uint8_t author[KEY_BYTES], const char *collection,
				      const char *key, size_t erased)
{
	struct net_run r;
	json_t *j, *list;
	char hex[KEY_HEX];

	key_hex(hex, author);
	net_run(&r, "verify", "-d", n->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "verify at %s: exit %d\n%s%s", n->label, r.status, r.out, r.err);
	j = net_run_json(&r);
	cr_assert(json_is_true(json_object_get(j, "ok")), "%s", r.out);
	list = json_object_get(j, "erased");
	cr_assert_eq(json_integer_value(json_object_get(j, "erased_values")), (json_int_t)json_array_size(list),
		     "verify at %s: %s", n->label, r.out);
	for (size_t i = 0, k = 0; k < erased || i < json_array_size(list); i++) {
		json_t *x = json_array_get(list, i);

		/* a request's contact (request_contact, feed private) is erased with it where it is held */
		if (x && strcmp(json_string_value(json_object_get(x, "collection")), "request_contact") == 0 &&
		    strcmp(collection, "request") == 0)
			continue;
		cr_assert(x && k++ < erased, "verify at %s does not list %zu erased values of %s: %s", n->label, erased,
			  collection, r.out);
		cr_assert_str_eq(json_string_value(json_object_get(x, "author")), hex, "%s", r.out);
		cr_assert_str_eq(json_string_value(json_object_get(x, "feed")), "up", "%s", r.out);
		cr_assert_str_eq(json_string_value(json_object_get(x, "collection")), collection, "%s", r.out);
		cr_assert_str_eq(json_string_value(json_object_get(x, "key")), key, "%s", r.out);
		cr_assert_eq(json_integer_value(json_object_get(x, "seq")), (json_int_t)k, "%s", r.out);
	}
	net_release(j);
	net_run_free(&r);
}

static void assert_verifies_erased(const struct net_node *n, const uint8_t author[KEY_BYTES], size_t erased)
{
	assert_verifies_erased_of(n, author, "request", "R17", erased);
}

/* `strata audit -d DIR --root ROOT`: asserts it passes and says "N erased"
 * (the street: R17's two values and its contact's; above it: the two). */
static void assert_audits(const struct net_node *n, const struct net_node *root, const char *n_erased)
{
	struct net_run r;

	net_run(&r, "audit", "-d", n->dir, "--root", root->hex, NULL);
	cr_assert_eq(r.status, 0, "audit at %s: exit %d\n%s%s", n->label, r.status, r.out, r.err);
	cr_assert(net_has(r.out, n_erased) && net_has(r.out, "ERASED"), "audit at %s does not report the erased "
		  "values:\n%s", n->label, r.out);
	net_run_free(&r);
}

/* Runs `strata erase` at n expecting a refusal (exit 2) whose message holds
 * `why`, and checks that nothing was written. */
static void assert_refused(const struct net_node *n, const char *collection, const char *key, const char *why)
{
	uint64_t head = net_head(n, n->key, FEED_UP, NULL);
	struct net_run r;

	net_run(&r, "erase", "-d", n->dir, "--collection", collection, "--key", key, NULL);
	cr_assert_eq(r.status, 2, "erase %s %s at %s: exit %d\n%s%s", collection, key, n->label, r.status, r.out,
		     r.err);
	cr_assert(net_has(r.err, why), "erase %s %s at %s: the refusal does not say \"%s\": %s", collection, key,
		  n->label, why, r.err);
	net_run_free(&r);
	cr_assert_eq(net_head(n, n->key, FEED_UP, NULL), head, "a refused erase at %s wrote an entry", n->label);
}

Test(sync_erase, erased_value_leaves_every_store_and_audits_clean)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, true);
	struct net_node *street = net_node_init("hetong", "xiamen/huli/hetong", false, false);
	struct net_node *all[] = {street, huli, city};
	char file[256];
	struct net_run r;
	json_t *j;
	uint64_t head;

	net_node_start(city);
	net_node_join(huli, city, NULL);
	net_node_start(huli);
	net_node_join(street, huli, NULL);
	net_node_start(street);
	write_requests(street);
	head = net_head(street, street->key, FEED_UP, NULL);
	cr_assert_eq(head, 3);
	NET_WAIT(NET_DEADLINE_MS, net_head(city, street->key, FEED_UP, NULL) == head, "the requests at the city");
	NET_WAIT(NET_DEADLINE_MS, net_head(huli, street->key, FEED_UP, NULL) == head, "the requests at the district");
	for (size_t i = 0; i < 3; i++)
		cr_assert_gt(phone_in(all[i]), 0, "the phone is not in %s's store before the erase: the test cannot fail",
			     all[i]->label);
	/* The values travelled salted, each with its salt, to both levels above. */
	uint8_t salts[NET_SALTS_MAX][SALT_BYTES];
	size_t n_salts = r17_salts(street, street->key, salts);
	cr_assert_eq(n_salts, 2);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(net_salts_in(all[i], salts, n_salts), n_salts, "R17's salts are not in %s's store", all[i]->label);

	/* Only the owner erases: the city holds R17 but did not write it. */
	assert_refused(city, "request", "R17", "only the node that wrote a record may erase it");
	assert_refused(street, "request", "R99", "this node wrote no service request R99");
	assert_refused(street, "cert", street->hex, "cannot be erased");
	assert_refused(street, "nope", "R17", "unknown collection");

	net_run(&r, "erase", "-d", street->dir, "--collection", "request", "--key", "R17", "--reason",
		"the resident asked", "--json", NULL);
	cr_assert_eq(r.status, 0, "erase: exit %d\n%s%s", r.status, r.out, r.err);
	j = net_run_json(&r);
	cr_assert_eq(json_integer_value(json_object_get(j, "entries")), 2, "%s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(j, "seq")), 4, "%s", r.out);
	net_release(j);
	net_run_free(&r);
	assert_refused(street, "request", "R17", "erased already");

	/* The street's daemon saw the erase its CLI applied and scrubbed too: its
	 * own recycled page buffers may hold the old bytes. */
	NET_WAIT(NET_DEADLINE_MS, net_log_has(street, "erased values scrubbed"), "the street's daemon to scrub");
	/* The erase request reaches every level above; each strips and scrubs. */
	NET_WAIT(NET_DEADLINE_MS, net_head(huli, street->key, FEED_UP, NULL) == 4, "the erase at the district");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, street->key, FEED_UP, NULL) == 4, "the erase at the city");
	for (size_t i = 0; i < 3; i++) {
		NET_WAIT(NET_DEADLINE_MS, phone_in(all[i]) == 0, "the phone to leave %s's data.mdb (%zu copies left)",
			 all[i]->label, phone_in(all[i]));
		NET_WAIT(NET_DEADLINE_MS, net_salts_in(all[i], salts, n_salts) == 0, "the salts to leave %s's data.mdb",
			 all[i]->label);
	}

	/* The record stays, without its value; R18 is untouched. */
	net_run(&r, "request", "show", "-d", street->dir, "--id", "R17", NULL);
	cr_assert_eq(r.status, 2, "show of an erased request: exit %d %s%s", r.status, r.out, r.err);
	cr_assert(net_has(r.err, "erased"), "%s", r.err);
	net_run_free(&r);
	net_run(&r, "request", "list", "-d", city->dir, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(net_has(r.out, "R18") && !net_has(r.out, "R17"), "the city lists:\n%s", r.out);
	net_run_free(&r);

	/* A bundle exported now holds no trace of the value either. */
	net_ok("export", "-d", city->dir, "-o", net_path(file, "city.bundle"), NULL);
	cr_assert_eq(file_count(file), 0, "the phone is in a bundle exported after the erase");
	for (size_t i = 0; i < n_salts; i++)
		cr_assert_eq(net_file_count_bytes(file, salts[i], SALT_BYTES), 0, "a salt is in a bundle exported after the erase");

	net_stop_all();
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(phone_in(all[i]), 0, "the phone came back into %s's data.mdb", all[i]->label);
		cr_assert_eq(net_salts_in(all[i], salts, n_salts), 0, "a salt came back into %s's data.mdb", all[i]->label);
		assert_verifies_erased(all[i], street->key, 2);
		assert_audits(all[i], city, i == 0 ? "3 erased" : "2 erased");
	}
	net_run(&r, "audit", file, "--root", city->hex, "--json", NULL);
	cr_assert_eq(r.status, 0, "audit of the bundle: exit %d\n%s%s", r.status, r.out, r.err);
	j = net_run_json(&r);
	cr_assert_eq(json_integer_value(json_object_get(j, "erased_values")), 2, "%s", r.out);
	net_release(j);
	net_run_free(&r);
}

/* Strips the value of the first put of stored entry (author, feed, seq) at
 * n (no daemon running), with no erase request: a store that lost a value. */
static void strip_without_erase(const struct net_node *n, const uint8_t author[KEY_BYTES], uint64_t seq)
{
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct changeset *cs = NULL;
	struct err e = {0};
	const uint8_t *b;
	uint8_t *out = NULL;
	size_t bl, out_len;
	char dir[300];

	snprintf(dir, sizeof dir, "%s/store", n->dir);
	cr_assert_eq(store_open(&s, dir, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(s, true, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_log_get(t, author, FEED_UP, seq, &b, &bl, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_decode(&cs, b, bl, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_strip_value(cs, 0, &out, &out_len, &e), 0, "%s", e.msg);
	cr_assert_eq(store_log_replace(t, author, FEED_UP, seq, out, out_len, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
	free(out);
	changeset_destroy(&cs);
	store_close(&s);
}

Test(sync_erase, erase_travels_by_bundle_and_a_lost_value_fails_verify)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *street = net_node_init("street", "xiamen/zhonghua", false, false);
	char before[256], after[256], out[4096];
	struct net_run r;

	net_node_start(city);
	net_node_join(street, city, NULL);
	net_node_stop(city); /* from here on, files only */
	net_copy_tree(city->dir, net_path(out, "fresh")); /* a city that never saw the value */
	write_requests(street);
	net_ok("report", "submit", "-d", street->dir, "--period", "2026-11", NULL); /* counts R17 */
	net_ok("export", "-d", street->dir, "-o", net_path(before, "before.bundle"), NULL);
	cr_assert_gt(file_count(before), 0);
	uint8_t salts[NET_SALTS_MAX][SALT_BYTES];
	size_t n_salts = r17_salts(street, street->key, salts);
	cr_assert_eq(n_salts, 2);
	for (size_t i = 0; i < n_salts; i++)
		cr_assert_gt(net_file_count_bytes(before, salts[i], SALT_BYTES), 0, "the bundle lacks a value's salt");
	net_ok("import", "-d", city->dir, before, NULL);
	cr_assert_gt(phone_in(city), 0);
	net_run(&r, "report", "show", "-d", city->dir, "--period", "2026-11", "--tree", "--json", NULL);
	cr_assert(r.status == 0 && net_has(r.out, "\"matches\""), "the street's report before the erase: %s%s", r.out,
		  r.err);
	net_run_free(&r);

	net_ok("erase", "-d", street->dir, "--collection", "request", "--key", "R17", NULL);
	cr_assert_eq(phone_in(street), 0, "the phone is still in the street's data.mdb after its erase");
	net_ok("export", "-d", street->dir, "-o", net_path(after, "after.bundle"), NULL);
	cr_assert_eq(file_count(after), 0, "the phone is in a bundle exported after the erase");
	for (size_t i = 0; i < n_salts; i++)
		cr_assert_eq(net_file_count_bytes(after, salts[i], SALT_BYTES), 0, "a salt is in a bundle exported after the erase");

	/* The city held the value: the bundle's erase request strips it. */
	net_ok("import", "-d", city->dir, after, NULL);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 4);
	cr_assert_eq(phone_in(city), 0, "the phone is still in the city's data.mdb after importing the erase");
	cr_assert_eq(net_salts_in(city, salts, n_salts), 0, "a salt is still in the city's data.mdb after importing the erase");
	assert_verifies_erased(city, street->key, 2);
	/* The report counted R17. The city checked it when it arrived (the
	 * check is kept: it depends only on signed entries, which the erase
	 * leaves as they were), so it still matches; it is never a mismatch. */
	net_run(&r, "report", "show", "-d", city->dir, "--period", "2026-11", "--tree", "--json", NULL);
	cr_assert(r.status == 0 && net_has(r.out, "\"check\": \"matches\""),
		  "the street's report after the erase: %s%s", r.out, r.err);
	cr_assert(!net_has(r.out, "mismatch"), "%s", r.out);
	net_run_free(&r);

	/* A city that never saw it gets the entries stripped. */
	{
		struct net_node fresh = *city;

		snprintf(fresh.label, sizeof fresh.label, "fresh");
		net_path(fresh.dir, "fresh");
		net_ok("import", "-d", fresh.dir, after, NULL);
		cr_assert_eq(net_head(&fresh, street->key, FEED_UP, NULL), 4);
		cr_assert_eq(phone_in(&fresh), 0);
		assert_verifies_erased(&fresh, street->key, 2);
		/* It recomputes the report that counted R17 from the residue the
		 * erase request keeps (its dates and status, not its contact). */
		net_run(&r, "report", "show", "-d", fresh.dir, "--period", "2026-11", "--tree", "--json", NULL);
		cr_assert(r.status == 0 && net_has(r.out, "\"check\": \"matches\""),
			  "the street's report at a node that never saw R17: %s%s", r.out, r.err);
		cr_assert(!net_has(r.out, "mismatch"), "%s", r.out);
		net_run_free(&r);
		net_run(&r, "audit", "-d", fresh.dir, "--root", city->hex, NULL);
		cr_assert(r.status == 0 && net_has(r.out, "1 reports recomputed; 0 failures"),
			  "audit at a node that never saw R17: exit %d\n%s%s", r.status, r.out, r.err);
		net_run_free(&r);
	}

	/* A value lost without an erase request is a failure, at its entry. */
	strip_without_erase(city, street->key, 3); /* R18 */
	net_run(&r, "verify", "-d", city->dir, NULL);
	cr_assert_eq(r.status, 3, "verify of a store that lost a value: exit %d\n%s%s", r.status, r.out, r.err);
	cr_assert(net_has(r.out, "/up #3: op 0: the value of request \"R18\" is missing without an erase request"),
		  "%s", r.out);
	net_run_free(&r);
}

/* A member among 300 written in one change set (an envelope in LMDB's
 * overflow pages) is erased alone: its phone leaves data.mdb, the other
 * members' stay, and the store verifies. */
Test(sync_erase, member_of_a_bulk_entry_is_erased_alone)
{
	struct net_node *branch = net_node_init("branch", "xiamen", true, false);
	char csv[256], id[16];
	struct net_run r;
	FILE *f;

	net_path(csv, "members.csv");
	cr_assert_not_null(f = fopen(csv, "w"));
	fprintf(f, "id,name,category,joined,phone\n");
	for (int i = 1; i <= 300; i++)
		fprintf(f, "M%04d,Member %d,full,2020-01-01,%s\n", i, i, i == 150 ? PHONE : "13800000000");
	fclose(f);
	net_ok("member", "import", "-d", branch->dir, csv, NULL);
	cr_assert_eq(net_head(branch, branch->key, FEED_UP, NULL), 1, "the 300 members are not one entry");
	cr_assert_gt(phone_in(branch), 0);
	/* the bulk writer salts every put too: strata log names the commitment */
	net_run(&r, "log", "-d", branch->dir, "--feed", "up", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(net_has(r.out, "\"value_commit\"") && !net_has(r.out, "\"value_hash\""),
		  "the bulk import wrote unsalted puts:\n%.600s", r.out);
	net_run_free(&r);

	net_run(&r, "erase", "-d", branch->dir, "--collection", "member", "--key", "M0150", NULL);
	cr_assert_eq(r.status, 0, "erase: exit %d %s%s", r.status, r.out, r.err);
	cr_assert(net_has(r.out, "gone from 1 entry"), "%s", r.out);
	net_run_free(&r);
	cr_assert_eq(phone_in(branch), 0, "the erased member's phone is still in data.mdb");
	assert_verifies_erased_of(branch, branch->key, "member", "M0150", 1);
	cr_assert_eq(net_count(branch, "member", branch->key), 300, "the erased member's record is gone");
	net_run(&r, "member", "list", "-d", branch->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!net_has(r.out, "M0150") && net_has(r.out, "M0151") && net_has(r.out, "13800000000"),
		  "the listing after the erase:\n%.2000s", r.out);
	net_run_free(&r);
	snprintf(id, sizeof id, "M0150");
	net_run(&r, "member", "show", "-d", branch->dir, "--id", id, NULL);
	cr_assert_eq(r.status, 2, "show of an erased member: exit %d", r.status);
	cr_assert(net_has(r.err, "erased"), "%s", r.err);
	net_run_free(&r);
}
