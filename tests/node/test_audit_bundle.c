/* SPDX-License-Identifier: MIT */
/*
 * What an auditor is handed (issue 15): a store of the root "xm" that holds
 *
 *   xm (this node, root) -> xm/s1 (street, T0) -> xm/s1/b1 (branch, T0 + 1)
 *   xm/s1/b1 certifies xm/s1/b1/g1..g3 in its own trust feed
 *   and, later (T0 + 100), the root certifies the branch's key itself as
 *   xm/b9 allowed only `up` (the "later root certificate")
 *
 * and its export. Stage by stage: the first-issuer rule gives `verify`,
 * `audit` of the store and `audit` of its export the same verdict; the
 * bundle's unsigned slack is refused by `strata audit` (exit 3, the reason
 * and the byte) and by `strata import` (nothing after the refusal point);
 * Evidence frames are checked (a real equivocation by the branch is
 * reported and fails naming it; unrelated envelopes, garbage and an
 * uncertified author fail with the frame's place).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/tlog.h"
#include "node/audit/history.h"
#include "node/bundle/bundle.h"
#include "node/core/node.h"
#include "bundle_craft.h"
#include "run.h"

#define T0 1700000000000ull
#define GROUPS 3 /* the branch's certificates of its groups: its trust entries */

struct author {
	struct keypair *kp;
	uint64_t seq;
	uint8_t prev[HASH_BYTES];
};

static char store_dir[256], target_dir[256], root_hex[65];
static uint8_t root_key[KEY_BYTES];
static struct author street, branch, stranger;
/* The branch's trust entry #2 and another it signed for the same seq. */
static uint8_t *fork_a, *fork_b, *fork_other;
static size_t fork_a_len, fork_b_len, fork_other_len;

static char *all_feeds[] = {FEED_UP, FEED_REPORT, FEED_DOWN, FEED_TRUST};

static uint8_t *cert_value(const uint8_t *subject, const char *name, uint64_t issued_ms, bool up_only, size_t *len)
{
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	uint8_t *buf;

	c.subject = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)subject};
	c.name = (char *)name;
	c.role = STRATA__ROLE__ROLE_CHILD;
	c.feeds = all_feeds;
	c.n_feeds = up_only ? 1 : 4;
	c.issued_ms = issued_ms;
	buf = malloc(strata__certificate__get_packed_size(&c));
	cr_assert_not_null(buf);
	*len = strata__certificate__pack(&c, buf);
	return buf;
}

/* A's next trust entry certifying SUBJECT as NAME (not stored): its envelope. */
static uint8_t *signed_cert(struct author *a, uint64_t seq, const uint8_t *subject, const char *name,
			    uint64_t issued_ms, size_t *len, uint8_t hash[HASH_BYTES])
{
	struct changeset_builder *b = NULL;
	struct err e = {{0}};
	size_t vl;
	uint8_t *v = cert_value(subject, name, issued_ms, false, &vl), *env = NULL;

	cr_assert_eq(changeset_builder_new(&b, FEED_TRUST, seq, seq > 1 ? a->prev : NULL, issued_ms, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_put(b, "cert", subject, KEY_BYTES, v, vl, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_finish(b, a->kp, &env, len, hash, &e), 0, "%s", e.msg);
	changeset_builder_destroy(&b);
	free(v);
	return env;
}

static void ingest(struct node *n, const uint8_t *env, size_t len)
{
	struct store_txn *t = NULL;
	struct err e = {{0}};

	cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(node_ingest(n, t, env, len, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
}

/* A certifies SUBJECT as NAME in its next trust entry, stored in n; its
 * envelope into *keep (may be NULL: freed). */
static void certify(struct node *n, struct author *a, const uint8_t *subject, const char *name, uint64_t issued_ms,
		    uint8_t **keep, size_t *keep_len)
{
	uint8_t hash[HASH_BYTES];
	size_t len;
	uint8_t *env = signed_cert(a, a->seq + 1, subject, name, issued_ms, &len, hash);

	ingest(n, env, len);
	a->seq++;
	memcpy(a->prev, hash, HASH_BYTES);
	if (keep) {
		*keep = env;
		*keep_len = len;
	} else {
		free(env);
	}
}

/* The root (this node) certifies SUBJECT through its writer. */
static void root_certifies(struct node *n, const uint8_t *subject, const char *name, uint64_t issued_ms, bool up_only)
{
	struct node_writer *w = NULL;
	struct err e = {{0}};
	size_t len;
	uint8_t *v = cert_value(subject, name, issued_ms, up_only, &len);

	cr_assert_eq(node_writer_begin(n, FEED_TRUST, &w, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_put(w, "cert", subject, KEY_BYTES, v, len, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "%s", e.msg);
	free(v);
}

static void author_new(struct author *a)
{
	struct err e = {{0}};

	memset(a, 0, sizeof *a);
	cr_assert_eq(keypair_generate(&a->kp, &e), 0, "%s", e.msg);
}

static void copy_dir(const char *from, const char *to)
{
	struct run r;
	char *argv[] = {"/bin/cp", "-a", (char *)from, (char *)to, NULL};

	run_argv(&r, NULL, argv);
	cr_assert_eq(r.status, 0, "cp: %s", r.err);
	run_free(&r);
}

static void setup(void)
{
	struct node_init_opts o = {.name = "xm", .root = true};
	struct node *n = NULL;
	struct err e = {{0}};
	uint8_t hash[HASH_BYTES];
	char name[64];

	test_tmp_make();
	tmp_path(store_dir, "xm");
	tmp_path(target_dir, "target");
	author_new(&street);
	author_new(&branch);
	author_new(&stranger);
	cr_assert_eq(node_create(store_dir, &o, &e), 0, "%s", e.msg);
	cr_assert_eq(node_open(&n, store_dir, 0, &e), 0, "%s", e.msg);
	memcpy(root_key, node_id(n), KEY_BYTES);
	key_hex(root_hex, root_key);
	root_certifies(n, keypair_public(street.kp), "xm/s1", T0, false);
	node_close(&n);
	copy_dir(store_dir, target_dir); /* an importer of the same domain that has only the root's feed */
	cr_assert_eq(node_open(&n, store_dir, 0, &e), 0, "%s", e.msg);
	certify(n, &street, keypair_public(branch.kp), "xm/s1/b1", T0 + 1, NULL, NULL);
	for (int i = 1; i <= GROUPS; i++) {
		struct author g;

		author_new(&g);
		snprintf(name, sizeof name, "xm/s1/b1/g%d", i);
		if (i == 2) /* what the branch also signed for its seq 2: an equivocation */
			fork_b = signed_cert(&branch, 2, keypair_public(g.kp), "xm/s1/b1/g9", T0 + 3, &fork_b_len, hash);
		certify(n, &branch, keypair_public(g.kp), name, T0 + 1 + i, i == 2 ? &fork_a : i == 3 ? &fork_other : NULL,
			i == 2 ? &fork_a_len : &fork_other_len);
		keypair_destroy(&g.kp);
	}
	root_certifies(n, keypair_public(branch.kp), "xm/b9", T0 + 100, true); /* later: the street keeps it */
	node_close(&n);
}

static void teardown(void)
{
	keypair_destroy(&street.kp);
	keypair_destroy(&branch.kp);
	keypair_destroy(&stranger.kp);
	free(fork_a);
	free(fork_b);
	free(fork_other);
	fork_a = fork_b = fork_other = NULL;
	test_tmp_remove();
}

TestSuite(audit_bundle, .init = setup, .fini = teardown);

/* ---- helpers ---- */

static void on_failure(const struct verify_failure *f, void *arg)
{
	char *log = arg;
	size_t n = strlen(log);

	if (n < 2000)
		snprintf(log + n, 4096 - n, "%s #%llu: %s\n", f->feed, (unsigned long long)f->seq, f->reason);
}

/* `strata audit FILE --root R --json`: its exit status, and the JSON. */
static json_t *audit_cli(const char *what, bool dir, int *status)
{
	struct run r;
	json_t *j;

	if (dir)
		run_strata(&r, "audit", "-d", what, "--root", root_hex, "--json", NULL);
	else
		run_strata(&r, "audit", what, "--root", root_hex, "--json", NULL);
	*status = r.status;
	j = run_json(&r);
	run_free(&r);
	return j;
}

/* The reason of the first failure of an audit's JSON that holds needle. */
static const char *failure_with(json_t *j, const char *needle)
{
	json_t *f = json_object_get(j, "failures"), *x;
	size_t i;

	json_array_foreach(f, i, x) {
		const char *s = json_string_value(json_object_get(x, "reason"));

		if (s && strstr(s, needle))
			return s;
	}
	cr_assert_fail("no failure says \"%s\": %s", needle, json_dumps(f, 0));
	return NULL;
}

/* ---- stage 1: the first-issuer rule, three ways ---- */

Test(audit_bundle, verify_audit_and_the_export_agree_on_a_later_root_certificate)
{
	struct verify_counts c = {0}, cb = {0};
	struct audit_history_counts x = {0};
	struct err e = {{0}};
	char log[4096] = "", file[256];
	struct verify_hooks h = {.failure = on_failure, .arg = log};
	struct node *n = NULL;
	struct store_txn *t = NULL;
	Strata__Certificate *cert = NULL;
	uint8_t by[KEY_BYTES];

	/* the street's certificate (T0 + 1) keeps the branch, not the root's (T0 + 100) */
	cr_assert_eq(node_open(&n, store_dir, NODE_RDONLY | NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(node_cert_get(t, keypair_public(branch.kp), by, &cert, &e), 0, "%s", e.msg);
	cr_assert_eq(memcmp(by, keypair_public(street.kp), KEY_BYTES), 0, "the street keeps its branch");
	cr_assert_str_eq(cert->name, "xm/s1/b1");
	strata__certificate__free_unpacked(cert, NULL);
	store_txn_abort(&t);
	node_close(&n);

	cr_assert_eq(verify_node(store_dir, &c, &h, &e), 0, "verify: %s%s", e.msg, log);
	cr_assert_eq(c.failures, 0);
	memset(&c, 0, sizeof c);
	cr_assert_eq(audit_node(store_dir, root_key, &c, &x, &h, &e), 0, "audit of the store: %s%s", e.msg, log);
	cr_assert_eq(c.failures + x.failures, 0);
	/* the export lists the root's trust feed (with its later certificate) first */
	export_to(store_dir, tmp_path(file, "xm.bundle"));
	cr_assert_eq(audit_bundle_history(file, root_key, &cb, &x, &h, &e), 0, "audit of the export: %s%s", e.msg,
		     log);
	cr_assert_eq(cb.failures + x.failures, 0);
	cr_assert_eq(cb.entries, c.entries, "the export's audit checked %zu entries, the store's %zu", cb.entries,
		     c.entries);
	cr_assert_geq(c.entries, 2 + 1 + GROUPS);
}

/* Failures as "author-prefix/feed" lines, each once, sorted by arrival. */
static void on_failure_feed(const struct verify_failure *f, void *arg)
{
	char *set = arg, line[64], who[KEY_HEX] = "-";
	size_t n = strlen(set);

	if (f->author)
		key_hex(who, f->author);
	snprintf(line, sizeof line, "%.16s/%s\n", who, f->feed);
	if (!strstr(set, line) && n + strlen(line) < 1024)
		strcat(set, line);
}

/* The root's certificate of the branch dated before the street's, arriving
 * after the branch's entries: the index switches to it (up only), the
 * entries already stored stay, and verify, audit of the store and audit of
 * its export all fail the branch's trust feed, and nothing else. */
Test(audit_bundle, an_earlier_root_certificate_arriving_later_fails_alike_three_ways)
{
	char dir[256], file[256], v[1024] = "", a[1024] = "", x[1024] = "", want[128], who[KEY_HEX];
	struct verify_hooks hv = {.failure = on_failure_feed, .arg = v}, ha = {.failure = on_failure_feed, .arg = a},
			    hx = {.failure = on_failure_feed, .arg = x};
	struct verify_counts c;
	struct audit_history_counts hist;
	struct node *n = NULL;
	struct err e = {{0}};
	uint64_t before;

	copy_dir(store_dir, tmp_path(dir, "xm2"));
	before = held(dir);
	cr_assert_eq(node_open(&n, dir, 0, &e), 0, "%s", e.msg);
	root_certifies(n, keypair_public(branch.kp), "xm/b9", T0, true); /* T0 < the street's T0 + 1 */
	node_close(&n);
	cr_assert_eq(held(dir), before + 1, "the branch's entries stay");
	key_hex(who, keypair_public(branch.kp));
	snprintf(want, sizeof want, "%.16s/%s\n", who, FEED_TRUST);
	cr_assert_eq(verify_node(dir, &c, &hv, &e), -EBADMSG, "%s", e.msg);
	cr_assert_str_eq(v, want, "verify fails: %s", v);
	cr_assert_eq(audit_node(dir, root_key, &c, &hist, &ha, &e), -EBADMSG, "%s", e.msg);
	cr_assert_str_eq(a, want, "audit of the store fails: %s", a);
	export_to(dir, tmp_path(file, "xm2.bundle"));
	cr_assert_eq(audit_bundle_history(file, root_key, &c, &hist, &hx, &e), -EBADMSG, "%s", e.msg);
	cr_assert_str_eq(x, want, "audit of the export fails: %s", x);
}

/* ---- stage 2: unsigned slack ---- */

/* Audits and imports a bundle crafted with c: the audit exits 3 with a
 * reason holding `why`; the import is refused with it too, and the target
 * then holds `keeps` entries more than before. */
static void refused(const char *name, const struct loaded *b, const struct craft *c, const char *why, uint64_t keeps)
{
	char file[256];
	uint64_t before = held(target_dir);
	struct run r;
	json_t *j;
	int st;

	craft(tmp_path(file, name), b, c);
	j = audit_cli(file, false, &st);
	cr_assert_eq(st, 3, "%s: audit exit %d", name, st);
	cr_assert(!json_is_true(json_object_get(j, "ok")));
	failure_with(j, why);
	json_decref(j);
	run_strata(&r, "import", "-d", target_dir, file, NULL);
	cr_assert_eq(r.status, 2, "%s: import exit %d: %s", name, r.status, r.err);
	cr_assert(has(r.err, why), "%s: import says: %s", name, r.err);
	run_free(&r);
	cr_assert_eq(held(target_dir), before + keeps, "%s: the import kept %llu entries, not %llu", name,
		     (unsigned long long)(held(target_dir) - before), (unsigned long long)keeps);
}

Test(audit_bundle, unsigned_slack_is_refused_with_its_place)
{
	struct loaded b;
	char file[256];
	uint64_t base = held(target_dir), all;
	json_t *j;
	int st;

	export_to(store_dir, tmp_path(file, "xm.bundle"));
	load(file, &b);
	all = held(store_dir);
	cr_assert_eq(b.n, all);
	/* as exported and as crafted without slack: clean */
	j = audit_cli(file, false, &st);
	cr_assert_eq(st, 0, "%s", json_dumps(j, 0));
	json_decref(j);
	craft(tmp_path(file, "plain.bundle"), &b, &(struct craft){.per_frame = 2});
	j = audit_cli(file, false, &st);
	cr_assert_eq(st, 0, "%s", json_dumps(j, 0));
	json_decref(j);

	/* before any entry: nothing changes */
	refused("magic", &b, &(struct craft){.bad_magic = true}, "is not a Strata bundle", 0);
	refused("header", &b, &(struct craft){.header_unknown = true}, "header at byte 16 holds an unknown field", 0);
	/* inside: what precedes the frame stays (frame 1: the root's 3 entries, base of them held already) */
	refused("frame", &b, &(struct craft){.per_frame = 3, .unknown_frame = 2}, "frame 2 at byte", 3 - base);
	refused("batch", &b, &(struct craft){.per_frame = 3, .bad_batch_frame = 2}, "its batch number is 7, not 6", 0);
	/* at the end record: every entry was read and checked before it */
	refused("entries", &b, &(struct craft){.entries_delta = 1}, "counts 8 entries, the bundle holds 7", all - 3);
	refused("evidence", &b, &(struct craft){.evidence_delta = 1}, "counts 1 evidence frames, the bundle holds 0", 0);
	refused("checkpoints", &b, &(struct craft){.checkpoints = 1, .no_checkpoint_count = true},
		"counts 0 checkpoint frames, the bundle holds 1", 0);
	refused("end", &b, &(struct craft){.end_unknown = true}, "holds an unknown field (number 4)", 0);
	refused("trailing", &b, &(struct craft){.trailing = 5}, "5 bytes after the end record", 0);
	cr_assert_eq(held(target_dir), all, "the target holds every entry after the refusals at the end");
	loaded_free(&b);
}

/* ---- stage 3: Evidence frames ---- */

static Strata__Evidence evidence_of(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	Strata__Evidence ev = STRATA__EVIDENCE__INIT;

	ev.first = (ProtobufCBinaryData){al, (uint8_t *)a};
	ev.second = (ProtobufCBinaryData){bl, (uint8_t *)b};
	return ev;
}

/* The one evidence object an audit's JSON reports: the branch at trust #2. */
static void expect_branch_evidence(json_t *j)
{
	json_t *ev = json_object_get(j, "evidence"), *x;
	char branch_hex[KEY_HEX], a[2 * HASH_BYTES + 1], b[2 * HASH_BYTES + 1];
	const char *reason;

	key_hex(branch_hex, keypair_public(branch.kp));
	cr_assert_eq(json_array_size(ev), 1, "evidence: %s", json_dumps(ev, 0));
	x = json_array_get(ev, 0);
	cr_assert_str_eq(json_string_value(json_object_get(x, "author")), branch_hex);
	cr_assert_str_eq(json_string_value(json_object_get(x, "name")), "xm/s1/b1");
	cr_assert_str_eq(json_string_value(json_object_get(x, "feed")), FEED_TRUST);
	cr_assert_eq(json_integer_value(json_object_get(x, "seq")), 2);
	{
		struct changeset *cs = NULL;
		struct err e = {{0}};

		cr_assert_eq(changeset_decode(&cs, fork_a, fork_a_len, &e), 0, "%s", e.msg);
		hex_encode(a, cs->hash, HASH_BYTES);
		changeset_destroy(&cs);
		cr_assert_eq(changeset_decode(&cs, fork_b, fork_b_len, &e), 0, "%s", e.msg);
		hex_encode(b, cs->hash, HASH_BYTES);
		changeset_destroy(&cs);
	}
	cr_assert_str_eq(json_string_value(json_object_get(x, "first_hash")), a);
	cr_assert_str_eq(json_string_value(json_object_get(x, "second_hash")), b);
	reason = failure_with(j, "equivocation: author xm/s1/b1");
	cr_assert(strstr(reason, "signed two entries at trust #2"), "%s", reason);
}

/* Two entries at seq 1 of a key no certificate names. */
static Strata__Evidence stranger_evidence(uint8_t **a, size_t *al, uint8_t **b, size_t *bl)
{
	uint8_t h[HASH_BYTES];

	*a = signed_cert(&stranger, 1, keypair_public(street.kp), "xm/x1", T0, al, h);
	*b = signed_cert(&stranger, 1, keypair_public(street.kp), "xm/x2", T0, bl, h);
	return evidence_of(*a, *al, *b, *bl);
}

Test(audit_bundle, evidence_frames_are_checked_and_reported)
{
	struct loaded b;
	char file[256];
	uint8_t *sa, *sb;
	size_t sal, sbl;
	Strata__Evidence real = evidence_of(fork_a, fork_a_len, fork_b, fork_b_len),
			 unrelated = evidence_of(fork_a, fork_a_len, fork_other, fork_other_len),
			 garbage = evidence_of((const uint8_t *)"garbage", 7, (const uint8_t *)"junk", 4),
			 same = evidence_of(fork_a, fork_a_len, fork_a, fork_a_len),
			 stray = stranger_evidence(&sa, &sal, &sb, &sbl);
	const char *why;
	json_t *j;
	int st;

	export_to(store_dir, tmp_path(file, "xm.bundle"));
	load(file, &b);
	/* a real proof: reported, and the audit fails naming the branch */
	craft(tmp_path(file, "real.bundle"), &b, &(struct craft){.evidence = (const Strata__Evidence *[]){&real},
								  .n_evidence = 1});
	j = audit_cli(file, false, &st);
	cr_assert_eq(st, 3);
	expect_branch_evidence(j);
	cr_assert_eq(json_integer_value(json_object_get(j, "failure_count")), 1, "%s", json_dumps(j, 0));
	json_decref(j);
	/* proofs that prove nothing, and one by a key the root never certified */
	craft(tmp_path(file, "bad.bundle"), &b,
	      &(struct craft){.evidence = (const Strata__Evidence *[]){&unrelated, &garbage, &same, &stray},
			      .n_evidence = 4});
	j = audit_cli(file, false, &st);
	cr_assert_eq(st, 3);
	cr_assert_eq(json_array_size(json_object_get(j, "evidence")), 0, "%s", json_dumps(j, 0));
	cr_assert_eq(json_integer_value(json_object_get(j, "failure_count")), 4, "%s", json_dumps(j, 0));
	why = failure_with(j, "bundle frame 2 at byte ");
	cr_assert(strstr(why, "not of the same author, feed and seq"), "%s", why);
	why = failure_with(j, "bundle frame 3 at byte ");
	cr_assert(strstr(why, "proves nothing"), "%s", why);
	why = failure_with(j, "bundle frame 4 at byte ");
	cr_assert(strstr(why, "the same entry"), "%s", why);
	why = failure_with(j, "bundle frame 5 at byte ");
	cr_assert(strstr(why, "without a certificate chain to the root"), "%s", why);
	json_decref(j);
	free(sa);
	free(sb);
	loaded_free(&b);
}

/* A store that keeps the proof: `audit -d`, `verify` and the audit of its
 * export (which carries it as an Evidence frame) report the same. */
Test(audit_bundle, a_store_that_keeps_evidence_reports_it_like_its_export)
{
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct err e = {{0}};
	char file[256];
	bool known;
	struct run r;
	json_t *j;
	int st;

	cr_assert_eq(node_open(&n, store_dir, NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(node_evidence_store(t, fork_a, fork_a_len, fork_b, fork_b_len, &known, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
	node_close(&n);
	j = audit_cli(store_dir, true, &st);
	cr_assert_eq(st, 3);
	expect_branch_evidence(j);
	json_decref(j);
	run_strata(&r, "verify", "-d", store_dir, "--json", NULL);
	cr_assert_eq(r.status, 3, "%s", r.err);
	j = run_json(&r);
	run_free(&r);
	expect_branch_evidence(j);
	json_decref(j);
	export_to(store_dir, tmp_path(file, "kept.bundle"));
	j = audit_cli(file, false, &st);
	cr_assert_eq(st, 3);
	expect_branch_evidence(j);
	json_decref(j);
}

/* Two checkpoints of the branch's trust feed at one size with different
 * roots, both signed by it: reported like an equivocation. */
static void signed_note(const struct author *a, uint8_t fill, char *out, size_t *len)
{
	struct checkpoint cp = {.size = GROUPS};
	struct err e = {{0}};

	memcpy(cp.author, keypair_public(a->kp), KEY_BYTES);
	strcpy(cp.feed, FEED_TRUST);
	memset(cp.root, fill, sizeof cp.root);
	if (fill == 0) { /* the true root of the branch's trust feed, as the store holds it */
		struct node *n = NULL;
		struct store_txn *t = NULL;

		cr_assert_eq(node_open(&n, store_dir, NODE_RDONLY | NODE_NO_KEY, &e), 0, "%s", e.msg);
		cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0, "%s", e.msg);
		cr_assert_eq(store_tree_root(t, cp.author, FEED_TRUST, GROUPS, cp.root, &e), 0, "%s", e.msg);
		store_txn_abort(&t);
		node_close(&n);
	}
	cr_assert_eq(note_sign_checkpoint(a->kp, &cp, out, len, &e), 0, "%s", e.msg);
}

Test(audit_bundle, conflicting_checkpoints_are_reported_like_an_equivocation)
{
	struct loaded b;
	char file[256], n1[NOTE_MAX], n2[NOTE_MAX], n3[NOTE_MAX], n4[NOTE_MAX], n0[NOTE_MAX];
	size_t l1, l2, l3, l4, l0;
	Strata__Evidence ck, agree, stray, uncertified, against;
	json_t *j, *x;
	int st;

	signed_note(&branch, 0x11, n1, &l1);
	signed_note(&branch, 0x22, n2, &l2);
	signed_note(&stranger, 0x33, n3, &l3);
	signed_note(&stranger, 0x44, n4, &l4);
	signed_note(&branch, 0, n0, &l0); /* the true root */
	ck = evidence_of((uint8_t *)n1, l1, (uint8_t *)n2, l2);
	ck.has_checkpoint = ck.checkpoint = 1;
	agree = evidence_of((uint8_t *)n0, l0, (uint8_t *)n0, l0);
	agree.has_checkpoint = agree.checkpoint = 1;
	stray = evidence_of((uint8_t *)n3, l3, (uint8_t *)n2, l2);
	stray.has_checkpoint = stray.checkpoint = 1;
	uncertified = evidence_of((uint8_t *)n3, l3, (uint8_t *)n4, l4);
	uncertified.has_checkpoint = uncertified.checkpoint = 1;
	/* the other kind: one note of the branch against the entries the bundle holds */
	against = evidence_of((uint8_t *)n1, l1, (const uint8_t *)"x", 1);
	against.has_checkpoint = against.checkpoint = 1;
	export_to(store_dir, tmp_path(file, "xm.bundle"));
	load(file, &b);
	craft(tmp_path(file, "ck.bundle"), &b,
	      &(struct craft){.evidence = (const Strata__Evidence *[]){&ck, &agree, &stray, &uncertified, &against},
			      .n_evidence = 5});
	j = audit_cli(file, false, &st);
	cr_assert_eq(st, 3);
	cr_assert_eq(json_array_size(json_object_get(j, "evidence")), 2, "%s", json_dumps(j, 0));
	x = json_array_get(json_object_get(j, "evidence"), 1); /* the note against the entries: their tree's root */
	cr_assert_str_eq(json_string_value(json_object_get(x, "first_hash")),
			 "1111111111111111111111111111111111111111111111111111111111111111");
	cr_assert_str_neq(json_string_value(json_object_get(x, "second_hash")),
			  "2222222222222222222222222222222222222222222222222222222222222222");
	x = json_array_get(json_object_get(j, "evidence"), 0);
	cr_assert(json_is_true(json_object_get(x, "checkpoint")));
	cr_assert_str_eq(json_string_value(json_object_get(x, "name")), "xm/s1/b1");
	cr_assert_eq(json_integer_value(json_object_get(x, "seq")), GROUPS);
	cr_assert_str_eq(json_string_value(json_object_get(x, "first_hash")),
			 "1111111111111111111111111111111111111111111111111111111111111111");
	failure_with(j, "equivocation: author xm/s1/b1");
	cr_assert(strstr(failure_with(j, "bundle frame 3 at byte"), "the same root"));
	cr_assert(strstr(failure_with(j, "bundle frame 4 at byte"), "not of one author's feed"));
	cr_assert(strstr(failure_with(j, "bundle frame 5 at byte"), "without a certificate chain to the root"));
	cr_assert_eq(json_integer_value(json_object_get(j, "failure_count")), 5, "%s", json_dumps(j, 0));
	json_decref(j);
	loaded_free(&b);
}
