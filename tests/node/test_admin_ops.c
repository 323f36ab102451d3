/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the node's administrative operations as library functions
 * (node/core: erase_op.c, revoke.c, overview.c, evidence.c, fence.c;
 * node/audit/node_audit.c), on
 * real stores in a temporary directory: what each writes, what it returns
 * as data, and that a refusal says why and changes nothing.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "node/audit/history.h"
#include "node/core/admin.h"
#include "node/core/node.h"
#include "node/records/records.h"

static char tmp[64];
static char dir[128];
static struct node *n;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* A root node "root" in a fresh temporary directory, opened with its key. */
static void setup(void)
{
	struct node_init_opts o = {.name = "root", .root = true};
	struct err e = {0};

	snprintf(tmp, sizeof tmp, "/tmp/strata-admin-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(dir, sizeof dir, "%s/node", tmp);
	cr_assert_eq(node_create(dir, &o, &e), 0, "%s", e.msg);
	cr_assert_eq(node_open(&n, dir, 0, &e), 0, "%s", e.msg);
	node_set_fence_wait(n, 0);
}

static void teardown(void)
{
	node_close(&n);
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(admin_ops, .init = setup, .fini = teardown);

/* The root key of the node in dir (a root: its own key), read while n is
 * closed. */
static const uint8_t *node_id_of_dir(void)
{
	static uint8_t id[KEY_BYTES];
	struct node *m = NULL;
	struct err e = {0};

	cr_assert_eq(node_open(&m, dir, NODE_RDONLY | NODE_NO_KEY, &e), 0, "%s", e.msg);
	memcpy(id, node_id(m), KEY_BYTES);
	node_close(&m);
	return id;
}

/* Writes request ID (feed up) and its contact (feed private) in one commit. */
static void put_request(const char *id, const char *contact)
{
	Strata__Request r = STRATA__REQUEST__INIT;
	Strata__RequestContact c = STRATA__REQUEST_CONTACT__INIT;
	uint8_t rbuf[512], cbuf[512];
	struct node_writer *w = NULL;
	struct err e = {0};

	r.id = (char *)id;
	r.title = "broken street light";
	r.opened = "2024-03-01";
	r.status = STRATA__REQUEST_STATUS__REQUEST_OPEN;
	c.id = (char *)id;
	c.contact = (char *)contact;
	cr_assert_eq(node_writer_begin(n, FEED_UP, &w, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_put(w, "request", (const uint8_t *)id, strlen(id), rbuf,
				     strata__request__pack(&r, rbuf), &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_switch(w, FEED_PRIVATE, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_put(w, "request_contact", (const uint8_t *)id, strlen(id), cbuf,
				     strata__request_contact__pack(&c, cbuf), &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "%s", e.msg);
}

/* Certifies a new key as child NAME of this root; the key into subject. */
static void certify(const char *name, uint8_t subject[KEY_BYTES])
{
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	char *feeds[] = {FEED_UP, FEED_REPORT};
	uint8_t buf[512];
	struct node_writer *w = NULL;
	struct err e = {0};

	for (int i = 0; i < KEY_BYTES; i++)
		subject[i] = (uint8_t)(0x40 + i + strlen(name));
	c.subject.data = subject;
	c.subject.len = KEY_BYTES;
	c.name = (char *)name;
	c.role = STRATA__ROLE__ROLE_CHILD;
	c.feeds = feeds;
	c.n_feeds = 2;
	c.issued_ms = node_now_ms();
	cr_assert_eq(node_writer_begin(n, FEED_TRUST, &w, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_put(w, "cert", subject, KEY_BYTES, buf, strata__certificate__pack(&c, buf), &e), 0,
		     "%s", e.msg);
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "%s", e.msg);
}

/* Everything node_overview shows of the store (heads included): a refusal
 * must leave it equal. Not its "store" object: the map's ceiling there is
 * what the free disk allows, which any process on the machine changes
 * between two snapshots. Caller decrefs. */
static json_t *snapshot(void)
{
	json_t *j = NULL;
	struct err e = {0};

	cr_assert_eq(node_overview(n, &j, &e), 0, "%s", e.msg);
	cr_assert(json_is_object(json_object_get(j, "store")), "node_overview has no store object");
	json_object_del(j, "store");
	return j;
}

/* The head seq of this node's FEED as node_overview lists it (0: none). */
static json_int_t head_of(const json_t *ov, const char *feed)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(ov, "feeds"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "feed")), feed) == 0 &&
		    strcmp(json_string_value(json_object_get(v, "name")), "root") == 0)
			return json_integer_value(json_object_get(v, "seq"));
	return 0;
}

Test(admin_ops, evidence_key_round_trip)
{
	uint8_t author[KEY_BYTES], key[NODE_EVIDENCE_KEY_MAX + 1];
	char long_feed[LIMIT_NAME_BYTES + 2];
	struct node_evidence_key k;
	size_t len;

	for (int i = 0; i < KEY_BYTES; i++)
		author[i] = (uint8_t)(i * 7 + 1);
	len = node_evidence_key_encode(key, author, "report", 0x0102030405060708ull);
	cr_assert_eq(len, KEY_BYTES + 1 + strlen("report") + 8);
	cr_assert_eq(node_evidence_key_decode(key, len, &k), 0);
	cr_assert_eq(memcmp(k.author, author, KEY_BYTES), 0);
	cr_assert_str_eq(k.feed, "report");
	cr_assert_eq(k.seq, 0x0102030405060708ull);
	/* malformed: cut short, one byte too many, a feed length past the key */
	cr_assert_eq(node_evidence_key_decode(key, len - 1, &k), -EBADMSG);
	cr_assert_eq(node_evidence_key_decode(key, len + 1, &k), -EBADMSG);
	cr_assert_eq(node_evidence_key_decode(key, KEY_BYTES, &k), -EBADMSG);
	key[KEY_BYTES] = LIMIT_NAME_BYTES + 1;
	cr_assert_eq(node_evidence_key_decode(key, len, &k), -EBADMSG);
	/* feed names outside the limits are not encoded */
	memset(long_feed, 'f', sizeof long_feed - 1);
	long_feed[sizeof long_feed - 1] = '\0';
	cr_assert_eq(node_evidence_key_encode(key, author, long_feed, 1), 0);
	cr_assert_eq(node_evidence_key_encode(key, author, "", 1), 0);
}

Test(admin_ops, erase_takes_the_companion)
{
	struct node_erase_result r;
	struct err e = {0};
	json_t *ov;

	put_request("r1", "Wang, 138 0000 0000");
	cr_assert_eq(node_erase(n, "request", "r1", "asked by the resident", &r, &e), 0, "%s", e.msg);
	cr_assert_str_eq(r.feed, "up");
	cr_assert_eq(r.seq, 2, "the request is up #1, its erase #2");
	cr_assert_eq(r.entries, 1);
	cr_assert_eq(r.companion_entries, 1);
	cr_assert_str_eq(r.companion_feed, FEED_PRIVATE);
	ov = snapshot();
	cr_assert_eq(head_of(ov, FEED_UP), 2);
	cr_assert_eq(head_of(ov, FEED_PRIVATE), 2, "the contact's own erase request");
	json_decref(ov);
	/* a second erase of the same record is refused */
	e = (struct err){0};
	cr_assert_eq(node_erase(n, "request", "r1", NULL, &r, &e), -EEXIST);
	cr_assert(strstr(e.msg, "erased already"), "%s", e.msg);
	cr_assert_eq(r.entries, 0);
}

/* One refused erase: its code, a word of its reason, and no change. */
static void erase_refused(const char *collection, const char *key, int code, const char *why)
{
	struct node_erase_result r;
	struct err e = {0};
	json_t *before = snapshot(), *after;

	cr_assert_eq(node_erase(n, collection, key, NULL, &r, &e), code, "%s %s: %s", collection, key, e.msg);
	cr_assert(strstr(e.msg, why), "%s %s: \"%s\" lacks \"%s\"", collection, key, e.msg, why);
	after = snapshot();
	cr_assert(json_equal(before, after), "a refused erase changed the store");
	json_decref(before);
	json_decref(after);
}

Test(admin_ops, erase_refusals_change_nothing)
{
	struct err e = {0};

	put_request("r1", "Li");
	erase_refused("nosuch", "r1", -EINVAL, "unknown collection");
	erase_refused("cert", "r1", -EINVAL, "cannot be erased");
	erase_refused("erase", "r1", -EINVAL, "cannot be erased");
	erase_refused("request", "", -EINVAL, "key");
	erase_refused("request", "r2", -ESRCH, "wrote no service request r2");
	cr_assert_eq(node_erase_check("request", "r1", NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(node_erase_check("member", "m1", "why", &e), 0, "%s", e.msg);
}

Test(admin_ops, revoke_and_its_refusals)
{
	struct node_revoke_result r;
	uint8_t child[KEY_BYTES];
	struct err e = {0};
	json_t *before, *after;
	json_int_t trust0;

	before = snapshot();
	trust0 = head_of(before, FEED_TRUST);
	json_decref(before);
	certify("root/child", child);
	cr_assert_eq(node_revoke(n, "root/child", "left", &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(memcmp(r.keys[0], child, KEY_BYTES), 0);
	cr_assert_gt(r.revoked_ms, 0);
	before = snapshot();
	cr_assert_eq(head_of(before, FEED_TRUST), trust0 + 2, "the certificate, then its revocation");
	cr_assert_eq(node_revoke(n, "root/child", NULL, &r, &e), -EEXIST); /* err keeps its first message: */
	cr_assert(strstr(e.msg, "revoked already"), "%s", e.msg);
	e = (struct err){0};
	cr_assert_eq(node_revoke(n, "root/nobody", NULL, &r, &e), -ESRCH);
	cr_assert(strstr(e.msg, "no certificate for root/nobody"), "%s", e.msg);
	e = (struct err){0};
	cr_assert_eq(node_revoke(n, "Not A Path", NULL, &r, &e), -EINVAL);
	cr_assert_eq(r.n, 0);
	after = snapshot();
	cr_assert(json_equal(before, after), "a refused revoke changed the store");
	json_decref(before);
	json_decref(after);
}

Test(admin_ops, fence_state)
{
	struct node_fence f;
	struct node_erase_result r;
	size_t erased = 99;
	struct err e = {0};
	json_t *ov;

	cr_assert_eq(node_fence_get(n, &f, &e), 0, "%s", e.msg);
	cr_assert_not(f.set);
	put_request("r1", "Zhao");
	cr_assert_eq(node_fence_set(n, NODE_FENCE_RESTORED, &e), 0, "%s", e.msg);
	cr_assert_eq(node_fence_get(n, &f, &e), 0, "%s", e.msg);
	cr_assert(f.set);
	cr_assert_str_eq(f.reason, NODE_FENCE_RESTORED);
	cr_assert_gt(f.since_ms, 0);
	ov = snapshot();
	cr_assert_str_eq(json_string_value(json_object_get(ov, "write_fence")), NODE_FENCE_RESTORED);
	json_decref(ov);
	/* fenced: an erase signs nothing */
	cr_assert_eq(node_erase(n, "request", "r1", NULL, &r, &e), -EBUSY, "%s", e.msg);
	e = (struct err){0};
	cr_assert_geq(node_fence_lift(n, &erased, &e), 0, "%s", e.msg);
	cr_assert_eq(erased, 0);
	cr_assert_eq(node_fence_get(n, &f, &e), 0, "%s", e.msg);
	cr_assert_not(f.set);
}

Test(admin_ops, overview_lists_heads_and_roots)
{
	json_t *ov, *roots;

	put_request("r1", "Sun");
	put_request("r2", "Zhou");
	ov = snapshot();
	cr_assert_eq(head_of(ov, FEED_UP), 2);
	cr_assert_eq(head_of(ov, FEED_PRIVATE), 2);
	cr_assert_eq(json_array_size(json_object_get(ov, "evidence")), 0);
	cr_assert(json_is_null(json_object_get(ov, "write_fence")));
	roots = json_object_get(ov, "pinned_roots");
	cr_assert_eq(json_array_size(roots), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(roots, 0), "domain")), "own");
	cr_assert_eq(json_array_size(json_object_get(ov, "agreements")), 0);
	json_decref(ov);
}

struct counted {
	size_t entries, ops, bad;
	uint64_t last_seq;
};

static int count_entry(const struct changeset *cs, uint64_t seq, const struct err *why, void *arg)
{
	struct counted *c = arg;

	if (!cs) {
		cr_assert_not_null(why);
		c->bad++;
		return 0;
	}
	cr_assert_eq(cs->seq, seq);
	c->entries++;
	c->ops += cs->n_ops;
	c->last_seq = seq;
	return 0;
}

Test(admin_ops, log_walks_every_feed_or_one)
{
	struct counted all = {0}, up = {0}, none = {0};
	struct err e = {0};

	put_request("r1", "Wu");
	put_request("r2", "Zheng");
	cr_assert_eq(node_log_each(n, NULL, count_entry, &all, &e), 0, "%s", e.msg);
	cr_assert_eq(all.bad, 0);
	cr_assert_geq(all.entries, 4, "two entries in up and two in private (and the node's own trust)");
	cr_assert_eq(node_log_each(n, FEED_UP, count_entry, &up, &e), 0, "%s", e.msg);
	cr_assert_eq(up.entries, 2);
	cr_assert_eq(up.ops, 2);
	cr_assert_eq(up.last_seq, 2);
	cr_assert_eq(node_log_each(n, "nosuchfeed", count_entry, &none, &e), 0, "%s", e.msg);
	cr_assert_eq(none.entries, 0);
}

static void count_failure(const struct verify_failure *f, void *arg)
{
	(void)f;
	(*(size_t *)arg)++;
}

Test(admin_ops, verify_and_audit_a_node)
{
	struct verify_counts c;
	struct audit_history_counts x;
	size_t failures = 0;
	struct verify_hooks h = {.failure = count_failure, .arg = &failures};
	uint8_t junk[64] = {0x0a, 0x3e};
	struct store_txn *t = NULL;
	char missing[200];
	struct err e = {0};

	put_request("r1", "Qian");
	node_close(&n); /* the audits open the store themselves, read-only */
	cr_assert_eq(verify_node(dir, &c, &h, &e), 0, "%s", e.msg);
	cr_assert_geq(c.entries, 2);
	cr_assert_eq(failures, 0);
	cr_assert_eq(audit_node(dir, node_id_of_dir(), &c, &x, &h, &e), 0, "%s", e.msg);
	cr_assert_eq(c.failures + x.failures, 0);
	/* an entry's bytes overwritten: both report it through the hook */
	cr_assert_eq(node_open(&n, dir, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_log_replace(t, node_id(n), FEED_UP, 1, junk, sizeof junk, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
	node_close(&n);
	cr_assert_eq(verify_node(dir, &c, &h, &e), -EBADMSG, "%s", e.msg);
	cr_assert_gt(failures, 0);
	failures = 0;
	cr_assert_eq(audit_node(dir, node_id_of_dir(), &c, &x, &h, &e), -EBADMSG, "%s", e.msg);
	cr_assert_gt(failures, 0);
	snprintf(missing, sizeof missing, "%s/none", tmp);
	cr_assert_eq(verify_node(missing, &c, &h, &e), -ENOENT);
	cr_assert(strstr(e.msg, "no Strata node"), "%s", e.msg);
}
