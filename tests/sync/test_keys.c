/* SPDX-License-Identifier: MIT */
/*
 * sync_keys: revocation and rotation of node keys, with real daemons.
 *
 * A district revokes a street: the street's connection is dropped and
 * refused from then on, its new entries never reach the district, what it
 * wrote before stays, and `strata verify` and `strata audit --root` pass at
 * the district and the city. Only the issuer may revoke (the city cannot
 * revoke the district's street: exit 2). An entry the revoked key signs
 * after the revocation is refused by ingest, and in a store that took it
 * before the revocation arrived it makes `strata audit` fail naming it;
 * the entry dated before the revocation stays valid.
 *
 * A street rotates its key while its district serves: it keeps writing with
 * the new key, the new entries reach the city, the old key's entries still
 * verify (rotated mid-history audits clean) and the old key can no longer
 * connect.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "node/core/node.h"

TestSuite(sync_keys, .init = net_setup, .fini = net_teardown);

#define WAIT_MS (5000 * NET_SLOW)

static void import_members(struct net_node *n, const char *file, unsigned long count, const char *prefix,
			   unsigned long seed)
{
	char csv[256];

	net_gen_members(net_path(csv, file), count, prefix, seed);
	net_ok("member", "import", "-d", n->dir, csv, NULL);
}

/* Does `strata audit -d DIR --root ROOT` pass? out gets what it printed. */
static int audit(const struct net_node *n, const struct net_node *root, char *out, size_t cap)
{
	struct net_run r;
	int status;

	net_run(&r, "audit", "-d", n->dir, "--root", root->hex, NULL);
	status = r.status;
	if (out)
		snprintf(out, cap, "%s%s", r.out, r.err);
	net_run_free(&r);
	return status;
}

Test(sync_keys, revoked_street_is_cut_off_and_its_history_stays_valid)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, true);
	struct net_node *street = net_node_init("hetong", "xiamen/huli/hetong", false, false);
	char out[8192];
	struct net_run r;
	uint64_t before, trust;

	net_node_start(city);
	net_node_join(huli, city, NULL);
	net_node_start(huli);
	net_node_join(street, huli, NULL);
	net_node_start(street);
	import_members(street, "a.csv", 20, "HT", 1);
	before = net_head(street, street->key, FEED_UP, NULL);
	cr_assert_gt(before, 0);
	NET_WAIT(NET_DEADLINE_MS, net_head(city, street->key, FEED_UP, NULL) == before,
		 "the street's members at the city");

	/* Only the issuer revokes: the city did not certify the street. */
	net_run(&r, "revoke", "-d", city->dir, "--name", street->path, NULL);
	cr_assert_eq(r.status, 2, "the city revoked a key it did not certify: exit %d %s%s", r.status, r.out, r.err);
	cr_assert(net_has(r.err, "issuer"), "the refusal does not say who may revoke: %s", r.err);
	net_run_free(&r);

	net_run(&r, "revoke", "-d", huli->dir, "--name", street->path, "--reason", "office closed", NULL);
	cr_assert_eq(r.status, 0, "revoke: exit %d %s", r.status, r.err);
	cr_assert(net_has(r.out, street->hex), "revoke does not print the revoked key: %s", r.out);
	net_run_free(&r);
	net_run(&r, "revoke", "-d", huli->dir, "--name", street->path, NULL);
	cr_assert_eq(r.status, 2, "a second revocation of the same key: exit %d", r.status);
	net_run_free(&r);

	/* The connected street is dropped, and told why. */
	NET_WAIT(NET_DEADLINE_MS, net_log_has(huli, "dropped the link from xiamen/huli/hetong"),
		 "the district to drop the revoked street");
	NET_WAIT(NET_DEADLINE_MS, net_log_has(street, "revoked"), "the street to hear it was revoked");

	/* Its new entries go nowhere: the street refuses them itself once the
	 * revocation reached it (the district pushed it before the drop), or
	 * writes them and nobody above takes them. */
	{
		char csv[256];

		net_gen_members(net_path(csv, "b.csv"), 5, "HX", 2);
		net_run(&r, "member", "import", "-d", street->dir, csv, NULL);
		if (r.status == 0)
			cr_assert_gt(net_head(street, street->key, FEED_UP, NULL), before);
		else
			cr_assert(r.status == 2 && net_has(r.err, "revoked"), "import at the revoked street: exit %d %s",
				  r.status, r.err);
		net_run_free(&r);
	}
	trust = net_head(huli, huli->key, FEED_TRUST, NULL);
	NET_WAIT(NET_DEADLINE_MS, net_head(city, huli->key, FEED_TRUST, NULL) == trust, "the revocation at the city");
	net_sleep_ms(2500 * NET_SLOW);
	cr_assert_eq(net_head(huli, street->key, FEED_UP, NULL), before, "the district took entries of a revoked key");
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), before, "the city took entries of a revoked key");
	cr_assert_eq(net_count(city, "member", street->key), 20, "the street's members from before the revocation");

	/* A restarted street is refused at the handshake. */
	net_node_stop(street);
	net_node_start(street);
	NET_WAIT(NET_DEADLINE_MS, net_log_has(street, "refused this node's key at the handshake"),
		 "the street to be refused at the handshake");
	NET_WAIT(NET_DEADLINE_MS, net_log_has(huli, "refused a connection from"), "the district to log the refusal");
	cr_assert(net_log_has(huli, "was revoked by xiamen/huli"), "the district's refusal gives no reason:\n%s",
		  net_diag());

	/* History from before the revocation audits clean at every level above. */
	cr_assert_eq(net_node_verify(huli, out, sizeof out), 0, "verify at the district: %s", out);
	cr_assert_eq(net_node_verify(city, out, sizeof out), 0, "verify at the city: %s", out);
	cr_assert_eq(audit(huli, city, out, sizeof out), 0, "audit at the district: %s", out);
	cr_assert_eq(audit(city, city, out, sizeof out), 0, "audit at the city: %s", out);
	net_stop_all();
}

/* An up entry by kp at seq with prev, dated time_ms, putting member id. */
static void entry_at(const struct keypair *kp, uint64_t seq, const uint8_t *prev, uint64_t time_ms, const char *id,
		     uint8_t **env, size_t *len, uint8_t hash[HASH_BYTES])
{
	static const uint8_t zeros[HASH_BYTES];
	Strata__Member m = STRATA__MEMBER__INIT;
	struct changeset_builder *b = NULL;
	struct err e = {0};
	uint8_t mv[256];
	size_t ml;

	m.id = (char *)id;
	m.name = "测试成员";
	m.category = STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
	m.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
	m.joined = "2020-01-01";
	ml = strata__member__get_packed_size(&m);
	cr_assert_lt(ml, sizeof mv);
	strata__member__pack(&m, mv);
	cr_assert_eq(changeset_builder_new(&b, FEED_UP, seq, prev ? prev : zeros, time_ms, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_put(b, "member", (const uint8_t *)id, strlen(id), mv, ml, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_finish(b, kp, env, len, hash, &e), 0, "%s", e.msg);
	changeset_builder_destroy(&b);
	net_own(*env, free);
}

/* Ingests one envelope into the node in DIR (no daemon running); returns
 * node_ingest's code, the reason in e. */
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

/* The envelope of (author, feed, seq) in the node's store (fixture-owned). */
static uint8_t *log_entry(const struct net_node *x, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq,
			  size_t *len)
{
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	const uint8_t *b;
	uint8_t *copy;
	char dir[300];

	snprintf(dir, sizeof dir, "%s/store", x->dir);
	cr_assert_eq(store_open(&s, dir, STORE_RDONLY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(s, false, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_log_get(t, author, feed, seq, &b, len, NULL, &e), 0, "%s", e.msg);
	copy = net_own(malloc(*len), free);
	memcpy(copy, b, *len);
	store_txn_abort(&t);
	store_close(&s);
	return copy;
}

Test(sync_keys, entry_signed_after_revocation_is_refused_and_fails_audit)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *street = net_node_init("hetong", "xiamen/hetong", false, false);
	struct net_node *other = net_node_init("other", "xiamen/other", false, false);
	struct keypair *kp;
	uint8_t *env[3], h1[HASH_BYTES], *rev;
	size_t len[3], rev_len;
	uint64_t t0;
	char copy[256], out[8192], seq2[64];
	struct err e = {0};
	struct net_run r;

	net_node_start(city);
	net_node_join(street, city, NULL);
	net_node_join(other, city, NULL);
	net_node_stop(city); /* from here on the test speaks for all */
	kp = net_node_keypair(street);
	net_copy_tree(city->dir, net_path(copy, "before")); /* the city before it revoked anything */

	t0 = node_now_ms();
	entry_at(kp, 1, NULL, t0 - 60000, "HT000001", &env[0], &len[0], h1); /* dated before */
	net_ok("revoke", "-d", city->dir, "--name", street->path, NULL);
	entry_at(kp, 2, h1, node_now_ms() + 1000, "HT000002", &env[1], &len[1], NULL); /* after */

	/* Ingest: the entry from before stays valid, the one after is refused. */
	cr_assert_eq(ingest(city->dir, env[0], len[0], &e), 0, "the entry dated before the revocation: %s", e.msg);
	memset(&e, 0, sizeof e);
	cr_assert_eq(ingest(city->dir, env[1], len[1], &e), -EACCES, "an entry after the revocation was taken");
	cr_assert(net_has(e.msg, "revoked"), "the refusal does not say the key was revoked: %s", e.msg);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 1);

	/* A revocation by a certified key that did not certify the subject is
	 * refused. */
	{
		struct changeset_builder *b = NULL;
		Strata__Revocation rv = STRATA__REVOCATION__INIT;
		static const uint8_t zeros[HASH_BYTES];
		uint8_t val[128];
		size_t vl;

		rv.subject.data = street->key;
		rv.subject.len = KEY_BYTES;
		rv.revoked_ms = node_now_ms();
		vl = strata__revocation__get_packed_size(&rv);
		strata__revocation__pack(&rv, val);
		cr_assert_eq(changeset_builder_new(&b, FEED_TRUST, 1, zeros, node_now_ms(), &e), 0, "%s", e.msg);
		cr_assert_eq(changeset_builder_put(b, "revocation", street->key, KEY_BYTES, val, vl, &e), 0, "%s", e.msg);
		cr_assert_eq(changeset_builder_finish(b, net_node_keypair(other), &env[2], &len[2], NULL, &e), 0, "%s",
			     e.msg);
		changeset_builder_destroy(&b);
		net_own(env[2], free);
		memset(&e, 0, sizeof e);
		cr_assert_eq(ingest(city->dir, env[2], len[2], &e), -EACCES, "a non-issuer's revocation was taken");
		cr_assert(net_has(e.msg, "issuer"), "the refusal does not name the rule: %s", e.msg);
	}

	/* A store that took both entries before the revocation reached it. */
	cr_assert_eq(ingest(copy, env[0], len[0], &e), 0, "%s", e.msg);
	cr_assert_eq(ingest(copy, env[1], len[1], &e), 0, "%s", e.msg);
	rev = log_entry(city, city->key, FEED_TRUST, net_head(city, city->key, FEED_TRUST, NULL), &rev_len);
	cr_assert_eq(ingest(copy, rev, rev_len, &e), 0, "the revocation into the copy: %s", e.msg);

	net_run(&r, "audit", "-d", copy, "--root", city->hex, NULL);
	cr_assert_eq(r.status, 3, "audit of a store holding an entry signed after the revocation: exit %d\n%s", r.status,
		     r.out);
	snprintf(seq2, sizeof seq2, "FAIL %.16s…/up #2", street->hex);
	cr_assert(net_has(r.out, seq2), "the audit does not name the entry (%s):\n%s", seq2, r.out);
	cr_assert(net_has(r.out, "revoked"), "the audit does not say why:\n%s", r.out);
	snprintf(seq2, sizeof seq2, "FAIL %.16s…/up #1", street->hex);
	cr_assert(!net_has(r.out, seq2), "the entry from before the revocation failed:\n%s", r.out);
	net_run_free(&r);

	/* The city itself, which refused it, audits clean. */
	cr_assert_eq(audit(city, city, out, sizeof out), 0, "audit at the city: %s", out);
}

static bool client_refused(struct net_node *server, struct keypair *kp, const struct net_node *as)
{
	struct net_client *c = net_client_new_kp(server, kp);
	Strata__Frame *f;

	(void)net_client_try_send(c, net_hello_frame(keypair_public(kp), as->path));
	f = net_client_recv(c, 3000 * NET_SLOW);
	net_client_free(&c);
	if (f)
		net_release(f);
	return f == NULL;
}

Test(sync_keys, rotated_key_keeps_writing_and_history_audits_clean)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, true);
	struct net_node *street = net_node_init("hetong", "xiamen/huli/hetong", false, false);
	struct keypair *old_kp;
	uint8_t old_key[KEY_BYTES], new_key[KEY_BYTES];
	uint64_t old_up, old_trust, new_up;
	struct net_run r;
	json_t *j;
	char out[8192];

	net_node_start(city);
	net_node_join(huli, city, NULL);
	net_node_start(huli);
	net_node_join(street, huli, NULL);
	net_node_start(street);
	import_members(street, "a.csv", 10, "HT", 1);
	memcpy(old_key, street->key, KEY_BYTES);
	old_kp = net_node_keypair(street);
	old_up = net_head(street, old_key, FEED_UP, NULL);
	NET_WAIT(NET_DEADLINE_MS, net_head(city, old_key, FEED_UP, NULL) == old_up, "the street's members at the city");

	/* The daemon must be stopped: rotate-key refuses while it runs. */
	net_run(&r, "rotate-key", "-d", street->dir, NULL);
	cr_assert_neq(r.status, 0, "rotate-key ran beside a running daemon");
	cr_assert(net_has(r.err, "serve"), "the refusal does not say why: %s", r.err);
	net_run_free(&r);

	net_node_stop(street);
	net_run(&r, "rotate-key", "-d", street->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "rotate-key: exit %d: %s", r.status, r.err);
	j = net_run_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "old_key")), street->hex);
	cr_assert_eq(hex_decode(new_key, KEY_BYTES, json_string_value(json_object_get(j, "new_key"))), 0);
	cr_assert(memcmp(new_key, old_key, KEY_BYTES) != 0);
	net_release(j);
	net_run_free(&r);
	net_run(&r, "id", "-d", street->dir, NULL);
	{
		char hex[KEY_HEX];

		key_hex(hex, new_key);
		cr_assert(net_has(r.out, hex), "strata id does not show the new key: %s", r.out);
	}
	net_run_free(&r);
	cr_assert(net_log_has(huli, "rotated the key of xiamen/huli/hetong"), "the district did not log it");

	/* The street goes on with the new key. */
	old_trust = net_head(street, old_key, FEED_TRUST, NULL); /* its rotation record */
	cr_assert_gt(old_trust, 0, "the old key wrote no rotation record");
	net_node_start(street);
	import_members(street, "b.csv", 5, "HN", 2);
	new_up = net_head(street, new_key, FEED_UP, NULL);
	cr_assert_gt(new_up, 0, "the street did not write with its new key");
	cr_assert_eq(net_head(street, old_key, FEED_UP, NULL), old_up, "the old key wrote after the rotation");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, new_key, FEED_UP, NULL) == new_up,
		 "the new key's entries at the city");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, old_key, FEED_TRUST, NULL) == old_trust,
		 "the rotation record at the city");
	cr_assert_eq(net_count(city, "member", old_key), 10);
	cr_assert_eq(net_count(city, "member", new_key), 5);

	/* The branch lists its own records under both keys. */
	net_run(&r, "member", "list", "-d", street->dir, "--own", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert(net_has(r.out, "15 members"), "member list --own after the rotation: %s", r.out);
	net_run_free(&r);

	/* Rotated mid-history: every level audits clean. */
	cr_assert_eq(audit(city, city, out, sizeof out), 0, "audit at the city: %s", out);
	cr_assert_eq(audit(huli, city, out, sizeof out), 0, "audit at the district: %s", out);
	cr_assert_eq(net_node_verify(street, out, sizeof out), 0, "verify at the street: %s", out);

	/* The old key is refused at the handshake; the new one is not. */
	cr_assert(client_refused(huli, old_kp, street), "the old key still connects:\n%s", net_diag());
	NET_WAIT(NET_DEADLINE_MS, net_log_has(huli, "rotated away"), "the district to log why it refused the old key");
	cr_assert_eq(net_node_verify(huli, out, sizeof out), 0, "verify at the district: %s", out);
	net_stop_all();
}

static size_t count_lines(const struct net_node *n, const char *needle)
{
	char *s = net_read_file(n->log);
	size_t k = 0;

	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		k++;
	free(s);
	return k;
}

/* A revoked street whose daemon stays connected (issue 12, items 8 and 9):
 * it was said hello, refused, every 3 s without end, each refusal logged by
 * the district, and its status said "say hello first". Now the district
 * answers a refused hello with the reason, and the street stops replicating
 * and asks again only after a minute. The wait spans the street's 10 s
 * silence timeout, after which the old street said hello every 3 s. */
Test(sync_keys, revoked_street_that_stays_connected_is_told_why_and_not_refused_every_3_s)
{
	struct net_node *huli = net_node_init("huli", "xiamen/huli", true, true);
	struct net_node *street = net_node_init("hetong", "xiamen/huli/hetong", false, false);
	json_t *st, *v;
	const char *last_error = NULL;
	size_t i, refusals;

	net_node_start(huli);
	net_node_join(street, huli, NULL);
	net_node_start(street);
	NET_WAIT(NET_DEADLINE_MS, net_log_has(street, "link to parent xiamen/huli is up"), "the street's link");
	net_ok("revoke", "-d", huli->dir, "--name", street->path, "--reason", "office closed", NULL);
	NET_WAIT(NET_DEADLINE_MS, net_log_has(huli, "dropped the link from xiamen/huli/hetong"),
		 "the district to drop the revoked street");
	net_sleep_ms(18000);
	refusals = count_lines(huli, "refused the hello of xiamen/huli/hetong");
	cr_assert_leq(refusals, 1, "the district refused the revoked street's hello %zu times in 18 s:\n%s", refusals,
		      net_diag());
	st = net_node_status(street);
	json_array_foreach(json_object_get(json_object_get(st, "daemon"), "links"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "kind")), "parent") == 0)
			last_error = json_string_value(json_object_get(v, "last_error"));
	cr_assert_not_null(last_error, "the street's status shows no parent link");
	cr_assert(net_has(last_error, "revoked"), "the street's last error does not say it was revoked: %s", last_error);
	/* st is the fixture's */
	net_stop_all();
}
