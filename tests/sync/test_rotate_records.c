/* SPDX-License-Identifier: MIT */
/*
 * sync_rotate_records: a unit keeps its records across a key rotation
 * (node/core/unit.c, docs/PROTOCOL.md "Ownership across key rotations").
 *
 * A street writes members and dues with its first key, rotates it, and
 * then shows, updates, reports and erases what the old key wrote, adds dues
 * for a member the old key wrote; the district and the city take it, count
 * every member once under the street, and audit and verify clean.
 *
 * An entry of the old key that reaches a store after the new key's entries
 * changes nothing the new key wrote, and loses a value the new key erased.
 *
 * The way out of a frozen feed (docs/OPERATIONS.md): a street whose up feed
 * the district froze on an equivocation rotates its key and keeps working:
 * its records stay editable, its new writes reach the district, and the
 * evidence stays held and reported by audit.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "salts.h"
#include "node/core/node.h"

TestSuite(sync_rotate_records, .init = net_setup, .fini = net_teardown);

#define PERIOD "2026-11"

static void add_member(struct net_node *n, const char *id, const char *name, const char *phone)
{
	net_ok("member", "add", "-d", n->dir, "--id", id, "--name", name, "--category", "full", "--joined",
	       "2021-07-01", "--phone", phone, NULL);
}

/* Rotates the (stopped) node's key; new_key receives the new one. */
static void rotate(struct net_node *n, uint8_t new_key[KEY_BYTES])
{
	struct net_run r;
	json_t *j;

	net_run(&r, "rotate-key", "-d", n->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "rotate-key at %s: exit %d: %s", n->label, r.status, r.err);
	j = net_run_json(&r);
	cr_assert_eq(hex_decode(new_key, KEY_BYTES, json_string_value(json_object_get(j, "new_key"))), 0);
	net_release(j);
	net_run_free(&r);
}

/* Runs strata ARGS at n and returns stdout+stderr; asserts the exit code. */
static void expect(int status, char *out, size_t cap, const char *arg, ...) __attribute__((sentinel));

static void run_in(struct net_run *r, const char **argv);

static void expect(int status, char *out, size_t cap, const char *arg, ...)
{
	const char *argv[32] = {0};
	struct net_run r;
	va_list ap;
	size_t n = 0;

	argv[n++] = arg;
	va_start(ap, arg);
	while (n < 16 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	run_in(&r, argv);
	snprintf(out, cap, "%s%s", r.out, r.err);
	cr_assert_eq(r.status, status, "strata %s %s: exit %d, expected %d:\n%s", argv[0], argv[1] ? argv[1] : "",
		     r.status, status, out);
	net_run_free(&r);
}

static void run_in(struct net_run *r, const char **a)
{
	/* net_run is variadic: pass up to 16 arguments through */
	net_run(r, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14],
		a[15], NULL);
}

static int audit(const struct net_node *n, const struct net_node *root, char *out, size_t cap)
{
	struct net_run r;
	int status;

	net_run(&r, "audit", "-d", n->dir, "--root", root->hex, NULL);
	status = r.status;
	snprintf(out, cap, "%s%s", r.out, r.err);
	net_run_free(&r);
	return status;
}

/* The child named path in `report show --json` at `at`: how many times it
 * is listed, and (the last one) its own figures' members_full and check. */
static int child_in_view(const struct net_node *at, const char *path, json_int_t *members, char *check, size_t cap)
{
	struct net_run r;
	json_t *j, *kids, *k;
	size_t i;
	int found = 0;

	net_run(&r, "report", "show", "-d", at->dir, "--period", PERIOD, "--json", NULL);
	cr_assert_eq(r.status, 0, "report show at %s: %s", at->label, r.err);
	j = net_run_json(&r);
	kids = json_object_get(json_object_get(j, "node"), "children");
	json_array_foreach(kids, i, k) {
		if (strcmp(json_string_value(json_object_get(k, "name")), path) != 0)
			continue;
		found++;
		*members = json_integer_value(json_object_get(json_object_get(k, "own"), "members_full"));
		snprintf(check, cap, "%s", json_string_value(json_object_get(k, "check")) ?: "(none)");
	}
	net_release(j);
	net_run_free(&r);
	return found;
}

/* Is transfer id listed at n in state want? */
static bool transfer_state_is(const struct net_node *n, const char *id, const char *want)
{
	struct net_run r;
	json_t *arr, *t;
	size_t i;
	bool found = false;

	net_run(&r, "transfer", "list", "-d", n->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "transfer list at %s: %s", n->label, r.err);
	arr = net_run_json(&r);
	json_array_foreach(arr, i, t) {
		if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0 &&
		    strcmp(json_string_value(json_object_get(t, "state")), want) == 0)
			found = true;
	}
	net_release(arr);
	net_run_free(&r);
	return found;
}

static size_t count_unit(const struct net_node *at, const char *collection, const uint8_t *a, const uint8_t *b)
{
	return net_count(at, collection, a) + net_count(at, collection, b);
}

/* The network of the rotation test: the street rotates from old_key to
 * new_key; other is a second street under the same district. */
struct rot {
	struct net_node *city, *huli, *street, *other;
	uint8_t old_key[KEY_BYTES], new_key[KEY_BYTES];
	char out[16384];
};

/* The street's records reach the city; then it rotates its key offline. */
static void street_writes_then_rotates(struct rot *x)
{
	uint64_t up, parent_trust;

	net_node_start(x->city);
	net_node_join(x->huli, x->city, NULL);
	net_node_start(x->huli);
	net_node_join(x->street, x->huli, NULL);
	net_node_start(x->street);
	net_node_join(x->other, x->huli, NULL);
	net_node_start(x->other);
	add_member(x->street, "HT000001", "郑文君", "13800000001");
	add_member(x->street, "HT000002", "林海燕", "13800000002");
	add_member(x->street, "HT000003", "陈建国", "13800000003");
	net_ok("dues", "add", "-d", x->street->dir, "--member", "HT000001", "--period", PERIOD, "--amount", "1000", NULL);
	memcpy(x->old_key, x->street->key, KEY_BYTES);
	up = net_head(x->street, x->old_key, FEED_UP, NULL);
	NET_WAIT(NET_DEADLINE_MS, net_head(x->city, x->old_key, FEED_UP, NULL) == up,
		 "the street's records at the city");
	net_node_stop(x->street);
	parent_trust = net_head(x->street, x->huli->key, FEED_TRUST, NULL);
	rotate(x->street, x->new_key);
	/* The street keeps the district's answer: it knows its keys' chain. */
	cr_assert_eq(net_head(x->street, x->huli->key, FEED_TRUST, NULL), parent_trust + 1,
		     "the street did not keep the district's entry certifying its new key");
}

static void street_edits_its_records_after_the_rotation(struct rot *x)
{
	/* Before the street serves again: its records are its own. */
	expect(0, x->out, sizeof x->out, "member", "show", "-d", x->street->dir, "--id", "HT000001", NULL);
	cr_assert(net_has(x->out, "郑文君"), "member show after the rotation: %s", x->out);
	expect(0, x->out, sizeof x->out, "member", "update", "-d", x->street->dir, "--id", "HT000002", "--name",
	       "林海艳", NULL);
	expect(0, x->out, sizeof x->out, "dues", "add", "-d", x->street->dir, "--member", "HT000002", "--period", PERIOD,
	       "--amount", "1000", NULL);
	expect(0, x->out, sizeof x->out, "dues", "update", "-d", x->street->dir, "--member", "HT000001", "--period",
	       PERIOD, "--paid", "2026-11-05", NULL);
	expect(0, x->out, sizeof x->out, "dues", "show", "-d", x->street->dir, "--member", "HT000001", "--period",
	       PERIOD, NULL);
	cr_assert(net_has(x->out, "2026-11-05"), "dues show after the update: %s", x->out);
	/* An unknown member is still refused, naming it. */
	expect(2, x->out, sizeof x->out, "dues", "add", "-d", x->street->dir, "--member", "HT999999", "--period", PERIOD,
	       "--amount", "1000", NULL);
	cr_assert(net_has(x->out, "HT999999"), "the refusal does not name the member: %s", x->out);
	/* One record per member at the street, whichever key wrote it last. */
	cr_assert_eq(count_unit(x->street, "member", x->old_key, x->new_key), 3);
	cr_assert_eq(net_count(x->street, "member", x->new_key), 1, "the update is not the new key's");
	cr_assert_eq(count_unit(x->street, "dues", x->old_key, x->new_key), 2);
	expect(0, x->out, sizeof x->out, "member", "list", "-d", x->street->dir, "--own", NULL);
	cr_assert(net_has(x->out, "3 members") && net_has(x->out, "林海艳") && !net_has(x->out, "林海燕"),
		  "member list --own after the update: %s", x->out);
}

static void reports_count_the_rotated_unit_once(struct rot *x)
{
	char check[2048];
	json_int_t members = -1;
	uint64_t up, rep;

	net_node_start(x->street);
	expect(0, x->out, sizeof x->out, "report", "submit", "-d", x->street->dir, "--period", PERIOD, NULL);
	up = net_head(x->street, x->new_key, FEED_UP, NULL);
	rep = net_head(x->street, x->new_key, FEED_REPORT, NULL);
	NET_WAIT(NET_DEADLINE_MS,
		 net_head(x->city, x->new_key, FEED_UP, NULL) == up && net_head(x->city, x->new_key, FEED_REPORT,
										NULL) == rep,
		 "the new key's entries at the city");

	/* The district and the city count each member once, under the street. */
	for (int i = 0; i < 2; i++) {
		struct net_node *at = i ? x->city : x->huli;

		cr_assert_eq(count_unit(at, "member", x->old_key, x->new_key), 3, "members of the street at %s", at->label);
		cr_assert_eq(count_unit(at, "dues", x->old_key, x->new_key), 2, "dues of the street at %s", at->label);
	}
	cr_assert_eq(child_in_view(x->huli, x->street->path, &members, check, sizeof check), 1,
		     "the street is not listed once in the district's report view");
	cr_assert_eq(members, 3, "the street's report counts %lld full members", (long long)members);
	cr_assert_str_eq(check, "matches", "the district's recomputation of the street's report");
	expect(0, x->out, sizeof x->out, "report", "submit", "-d", x->huli->dir, "--period", PERIOD, "--json", NULL);
	cr_assert(net_has(x->out, "\"members_full\": 3"), "the district's total: %s", x->out);
	cr_assert_eq(audit(x->city, x->city, x->out, sizeof x->out), 0, "audit at the city: %s", x->out);
	cr_assert_eq(audit(x->huli, x->city, x->out, sizeof x->out), 0, "audit at the district: %s", x->out);
	cr_assert_eq(audit(x->street, x->city, x->out, sizeof x->out), 0, "audit at the street: %s", x->out);
	cr_assert_eq(net_node_verify(x->huli, x->out, sizeof x->out), 0, "verify at the district: %s", x->out);
	cr_assert_eq(net_node_verify(x->street, x->out, sizeof x->out), 0, "verify at the street: %s", x->out);
}

static void new_key_transfers_a_member_the_old_key_wrote(struct rot *x)
{
	char id[128];
	json_t *j;

	/* A member the old key wrote moves to another street: the new key
	 * releases it, the district forwards, the other street accepts, and
	 * the outcome marks it transferred at the street. */
	expect(0, x->out, sizeof x->out, "transfer", "release", "-d", x->street->dir, "--member", "HT000001", "--to",
	       x->other->path, "--json", NULL);
	cr_assert_not_null(j = json_loads(x->out, 0, NULL), "transfer release --json: %s", x->out);
	snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "id")) ?: "");
	json_decref(j);
	NET_WAIT(NET_DEADLINE_MS, transfer_state_is(x->other, id, "forwarded"), "the forward of %s to reach %s", id,
		 x->other->label);
	net_ok("transfer", "accept", "-d", x->other->dir, "--id", id, "--from", x->street->path, NULL);
	NET_WAIT(NET_DEADLINE_MS, transfer_state_is(x->street, id, "completed"), "the outcome of %s at the street", id);
	expect(0, x->out, sizeof x->out, "member", "show", "-d", x->street->dir, "--id", "HT000001", NULL);
	cr_assert(net_has(x->out, "transferred"), "HT000001 is not marked transferred at the street: %s", x->out);
	cr_assert_eq(count_unit(x->street, "member", x->old_key, x->new_key), 3);
}

static void new_key_erases_a_record_the_old_key_wrote(struct rot *x)
{
	uint64_t up;
	uint8_t salts[NET_SALTS_MAX][SALT_BYTES];
	size_t n_salts = net_salts_of(x->street, x->old_key, FEED_UP, "member", "HT000003", salts, NET_SALTS_MAX);

	/* The old key's put is salted; its salt is at every level. */
	cr_assert_eq(n_salts, 1);
	cr_assert_eq(net_salts_in(x->city, salts, n_salts), 1, "the old key's salt never reached the city");
	/* Erasing a record the old key wrote: gone at the street and above. */
	expect(0, x->out, sizeof x->out, "erase", "-d", x->street->dir, "--collection", "member", "--key", "HT000003", NULL);
	expect(2, x->out, sizeof x->out, "member", "show", "-d", x->street->dir, "--id", "HT000003", NULL);
	cr_assert(net_has(x->out, "erased"), "member show of the erased member: %s", x->out);
	up = net_head(x->street, x->new_key, FEED_UP, NULL);
	NET_WAIT(NET_DEADLINE_MS, net_head(x->city, x->new_key, FEED_UP, NULL) == up, "the erase at the city");
	/* Each daemon scrubs the freed pages after the erase commits, later
	 * when a reader holds them (up to seconds under load): wait for it
	 * before stopping them, then check the files at rest. */
	NET_WAIT(NET_DEADLINE_MS,
		 net_store_count(x->street, "13800000003") == 0 && net_store_count(x->huli, "13800000003") == 0 &&
			 net_store_count(x->city, "13800000003") == 0,
		 "the erased phone number to be scrubbed at the street, the district and the city");
	net_stop_all();
	for (int i = 0; i < 3; i++) {
		struct net_node *at = i == 0 ? x->street : i == 1 ? x->huli : x->city;
		cr_assert_eq(net_store_count(at, "13800000003"), 0, "the erased phone number is still in %s's data.mdb",
			     at->label);
		cr_assert_eq(net_salts_in(at, salts, n_salts), 0, "the erased value's salt is still in %s's data.mdb",
			     at->label);
		cr_assert_gt(net_store_count(at, "13800000001"), 0, "%s lost a phone number that was not erased", at->label);
		cr_assert_eq(net_node_verify(at, x->out, sizeof x->out), 0, "verify at %s after the erase: %s", at->label, x->out);
		/* crossing with reports over erased values: the street's report
		 * counted HT000003, written by the old key, erased by the new */
		cr_assert_eq(audit(at, x->city, x->out, sizeof x->out), 0, "audit at %s after the erase: %s", at->label, x->out);
	}
}

Test(sync_rotate_records, rotated_unit_keeps_editing_and_reporting_its_records)
{
	struct rot x;

	x.city = net_node_init("city", "xiamen", true, true);
	x.huli = net_node_init("huli", "xiamen/huli", false, true);
	x.street = net_node_init("hetong", "xiamen/huli/hetong", false, false);
	x.other = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	street_writes_then_rotates(&x);
	street_edits_its_records_after_the_rotation(&x);
	reports_count_the_rotated_unit_once(&x);
	new_key_transfers_a_member_the_old_key_wrote(&x);
	new_key_erases_a_record_the_old_key_wrote(&x);
}

/* Does `strata status --json` of n show evidence on (author, feed, seq)? */
static bool has_evidence(const struct net_node *n, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq)
{
	json_t *st = net_node_status(n), *v;
	char hex[KEY_HEX];
	bool found = false;
	size_t i;

	key_hex(hex, author);
	json_array_foreach(json_object_get(st, "evidence"), i, v) {
		const char *a = json_string_value(json_object_get(v, "author"));
		const char *f = json_string_value(json_object_get(v, "feed"));

		if (a && f && strcmp(a, hex) == 0 && strcmp(f, feed) == 0 &&
		    (uint64_t)json_integer_value(json_object_get(v, "seq")) == seq)
			found = true;
	}
	net_release(st);
	return found;
}

/* The street's up feed forks at #3 (its directory put back at a copy taken
 * at #2, then a different #3 written): the district freezes the feed and
 * keeps the proof. The street then takes the documented way out: it stops,
 * rotates its key and serves again. */
Test(sync_rotate_records, frozen_feed_way_out_is_a_rotation)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, true);
	struct net_node *street = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	uint8_t old_key[KEY_BYTES], new_key[KEY_BYTES];
	char snapshot[256], out[16384], new_hex[KEY_HEX], fail_new[40];
	uint32_t flags = 0;
	uint64_t up;

	net_node_start(city);
	net_node_join(huli, city, NULL);
	net_node_start(huli);
	net_node_join(street, huli, NULL);
	net_node_start(street);
	memcpy(old_key, street->key, KEY_BYTES);
	add_member(street, "JS000001", "郑文君", "13800000001");
	add_member(street, "JS000002", "林海燕", "13800000002");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, old_key, FEED_UP, NULL) == 2, "the city to hold up #2 of the street");
	net_node_stop(street);
	net_copy_tree(street->dir, net_path(snapshot, "jinshan-at-2"));
	net_node_start(street);
	add_member(street, "JS000003", "陈建国", "13800000003");
	NET_WAIT(NET_DEADLINE_MS, net_head(huli, old_key, FEED_UP, NULL) == 3,
		 "the district to hold up #3 of the street");
	net_node_stop(street);
	net_remove_tree(street->dir);
	net_copy_tree(snapshot, street->dir);
	add_member(street, "JS000004", "黄志强", "13800000004"); /* a different up #3 */
	net_node_start(street);
	NET_WAIT(NET_DEADLINE_MS, has_evidence(huli, old_key, FEED_UP, 3),
		 "the district to hold the proof of the fork");
	net_head(huli, old_key, FEED_UP, &flags);
	cr_assert(flags & STORE_FEED_FROZEN, "the district did not freeze the street's up feed");

	/* The way out: stop, rotate the key, serve again. */
	net_node_stop(street);
	rotate(street, new_key);
	net_node_start(street);

	/* Every record the street holds is still its own to edit. */
	expect(0, out, sizeof out, "member", "show", "-d", street->dir, "--id", "JS000001", NULL);
	expect(0, out, sizeof out, "member", "update", "-d", street->dir, "--id", "JS000004", "--status", "lapsed", NULL);
	expect(0, out, sizeof out, "member", "update", "-d", street->dir, "--id", "JS000002", "--name", "林海艳", NULL);
	expect(0, out, sizeof out, "dues", "add", "-d", street->dir, "--member", "JS000001", "--period", PERIOD,
	       "--amount", "1000", NULL);
	expect(0, out, sizeof out, "member", "add", "-d", street->dir, "--id", "JS000005", "--name", "吴秀兰",
	       "--category", "full", "--joined", "2022-03-01", NULL);
	expect(0, out, sizeof out, "member", "list", "-d", street->dir, "--own", NULL);
	cr_assert(net_has(out, "4 members"), "member list --own after the way out: %s", out);

	/* New writes reach the district and the city, under the new key. */
	up = net_head(street, new_key, FEED_UP, NULL);
	cr_assert_eq(up, 4, "the new key wrote %llu entries, expected 4", (unsigned long long)up);
	NET_WAIT(NET_DEADLINE_MS, net_head(huli, new_key, FEED_UP, NULL) == up && net_head(city, new_key, FEED_UP,
											   NULL) == up,
		 "the new key's entries at the district and the city");
	cr_assert_eq(net_count(huli, "member", new_key), 3, "the district does not hold the new key's members");
	cr_assert_eq(net_count(huli, "dues", new_key), 1);
	/* JS000002 was updated by the new key: the old record is superseded. */
	cr_assert_eq(net_count(huli, "member", old_key), 2, "the district's old-key records (JS000001, JS000003)");

	/* The evidence is still held, frozen, and reported by audit; nothing
	 * written under the new key fails. */
	cr_assert(has_evidence(huli, old_key, FEED_UP, 3), "the district lost the proof");
	NET_WAIT(NET_DEADLINE_MS, has_evidence(city, old_key, FEED_UP, 3), "the proof to reach the city");
	net_head(huli, old_key, FEED_UP, &flags);
	cr_assert(flags & STORE_FEED_FROZEN, "the old key's up feed is no longer frozen at the district");
	key_hex(new_hex, new_key);
	snprintf(fail_new, sizeof fail_new, "FAIL %.16s", new_hex);
	for (int i = 0; i < 2; i++) {
		struct net_node *at = i ? city : huli;

		audit(at, city, out, sizeof out);
		cr_assert(net_has(out, "equivocation") || net_has(out, "EQUIVOCATION"),
			  "audit at %s does not report the equivocation:\n%s", at->label, out);
		cr_assert(!net_has(out, fail_new),
			  "audit at %s fails something of the new key:\n%s", at->label, out);
	}
	cr_assert_eq(net_node_verify(street, out, sizeof out), 0, "verify at the street: %s", out);
	net_stop_all();
}

static int ingest(const char *dir, const uint8_t *env, size_t len, struct err *e)
{
	struct node *n = NULL;
	struct store_txn *t = NULL;
	int ret;

	cr_assert_eq(node_open(&n, dir, NODE_NO_KEY, e), 0, "%s", e->msg);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, e), 0, "%s", e->msg);
	ret = node_ingest(n, t, env, len, e);
	if (ret == 0)
		cr_assert_eq(store_txn_commit(&t, e), 0, "%s", e->msg);
	store_txn_abort(&t);
	node_close(&n);
	return ret;
}

/* The envelope of (author, feed, seq) in x's store (fixture-owned). */
static uint8_t *log_entry(const struct net_node *x, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq,
			  size_t *len)
{
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	const uint8_t *b;
	uint8_t *env;
	char sd[300];

	snprintf(sd, sizeof sd, "%s/store", x->dir);
	cr_assert_eq(store_open(&s, sd, STORE_RDONLY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(s, false, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_log_get(t, author, feed, seq, &b, len, NULL, &e), 0, "%s", e.msg);
	env = net_own(malloc(*len), free);
	memcpy(env, b, *len);
	store_txn_abort(&t);
	store_close(&s);
	return env;
}

/* Copies entries from+1..to of (author, feed) from x's store into dir. */
static void copy_entries(const struct net_node *x, const char *dir, const uint8_t author[KEY_BYTES], const char *feed,
			 uint64_t from, uint64_t to)
{
	for (uint64_t seq = from + 1; seq <= to; seq++) {
		struct err e = {0};
		size_t len;
		uint8_t *env = log_entry(x, author, feed, seq, &len);

		cr_assert_eq(ingest(dir, env, len, &e), 0, "%s #%llu into %s: %s", feed, (unsigned long long)seq, dir,
			     e.msg);
		net_release(env);
	}
}

/* The old key's last entry reaches a store only after the new key's
 * entries that rewrote its records: it changes nothing there, and the
 * store ends as the one that took them in order. */
Test(sync_rotate_records, old_key_entry_arriving_late_does_not_undo_the_new_key)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *street = net_node_init("hetong", "xiamen/hetong", false, false);
	struct net_node early;
	uint8_t old_key[KEY_BYTES], new_key[KEY_BYTES], *late[2];
	size_t late_len[2];
	char out[8192];
	uint64_t up;

	net_node_start(city);
	net_node_join(street, city, NULL);
	net_node_start(street);
	memcpy(old_key, street->key, KEY_BYTES);
	add_member(street, "HT000001", "郑文君", "13800000001");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, old_key, FEED_UP, NULL) == 1, "the member at the city");
	/* A store that took the old key's up #1 and no more. */
	net_node_stop(city);
	early = *city;
	net_copy_tree(city->dir, net_path(early.dir, "city-early"));
	snprintf(early.label, sizeof early.label, "city-early");
	net_node_start(city);
	net_ok("dues", "add", "-d", street->dir, "--member", "HT000001", "--period", PERIOD, "--amount", "1000", NULL);
	add_member(street, "HT000002", "林海燕", "13800000002");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, old_key, FEED_UP, NULL) == 3, "the dues and HT000002 at the city");
	/* the old key's entries as they travelled, before any erase */
	late[0] = log_entry(city, old_key, FEED_UP, 2, &late_len[0]);
	late[1] = log_entry(city, old_key, FEED_UP, 3, &late_len[1]);
	net_node_stop(street);
	rotate(street, new_key);
	net_node_start(street);
	net_ok("dues", "update", "-d", street->dir, "--member", "HT000001", "--period", PERIOD, "--paid", "2026-11-05",
	       NULL);
	net_ok("member", "update", "-d", street->dir, "--id", "HT000001", "--name", "郑文俊", NULL);
	net_ok("erase", "-d", street->dir, "--collection", "member", "--key", "HT000002", NULL);
	up = net_head(street, new_key, FEED_UP, NULL);
	NET_WAIT(NET_DEADLINE_MS, net_head(city, new_key, FEED_UP, NULL) == up, "the new key's entries at the city");
	net_stop_all();

	/* Into the early store: the city's trust entries (the new key's
	 * certificate, the old key's revocation), the street's rotation
	 * record, the new key's entries, and only then the old key's up #2. */
	copy_entries(city, early.dir, city->key, FEED_TRUST, net_head(&early, city->key, FEED_TRUST, NULL),
		     net_head(city, city->key, FEED_TRUST, NULL));
	copy_entries(city, early.dir, old_key, FEED_TRUST, net_head(&early, old_key, FEED_TRUST, NULL),
		     net_head(city, old_key, FEED_TRUST, NULL));
	copy_entries(city, early.dir, new_key, FEED_UP, 0, up);
	for (int i = 0; i < 2; i++) { /* #3 still holds the phone the new key erased */
		struct err e = {0};

		cr_assert_eq(ingest(early.dir, late[i], late_len[i], &e), 0, "the old key's up #%d: %s", i + 2, e.msg);
	}

	for (int i = 0; i < 2; i++) {
		const struct net_node *at = i ? &early : city;

		cr_assert_eq(net_count(at, "dues", old_key), 0, "%s: the old key's dues record came back", at->label);
		cr_assert_eq(net_count(at, "dues", new_key), 1, "%s: the new key's dues record", at->label);
		/* HT000001 rewritten by the new key; HT000002 kept, its value erased */
		cr_assert_eq(net_count(at, "member", old_key), 1, "%s: the old key's member records", at->label);
		cr_assert_eq(net_count(at, "member", new_key), 1, "%s: the new key's member record", at->label);
		cr_assert_eq(net_store_count(at, "13800000002"), 0, "%s: the erased phone is in data.mdb", at->label);
		cr_assert_gt(net_store_count(at, "13800000001"), 0, "%s: lost a phone that was not erased", at->label);
		cr_assert_eq(net_node_verify(at, out, sizeof out), 0, "verify at %s: %s", at->label, out);
	}
}
