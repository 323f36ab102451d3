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
 * Evidence frames: test_audit_evidence.c. The store: audit_fixture.h.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_fixture.h"
#include "bundle_craft.h"
#include "run.h"

TestSuite(audit_bundle, .init = audit_fixture_setup, .fini = audit_fixture_teardown);

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

/* A store indexed in arrival order by an older version (the root's later
 * certificate of the branch indexed, as if it had come first): verify
 * names the key and both issuers. */
Test(audit_bundle, an_index_that_breaks_the_rule_fails_verify)
{
	char dir[256], log[4096] = "", hex[KEY_HEX];
	struct verify_hooks h = {.failure = on_failure, .arg = log};
	struct verify_counts c;
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct err e = {{0}};
	const uint8_t *v;
	size_t len;
	uint8_t *rec;

	copy_dir(store_dir, tmp_path(dir, "old"));
	cr_assert_eq(node_open(&n, dir, NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_state_get(t, "cert", root_key, keypair_public(branch.kp), KEY_BYTES, &v, &len, NULL, &e), 0,
		     "%s", e.msg);
	cr_assert_not_null(rec = malloc(KEY_BYTES + len));
	memcpy(rec, root_key, KEY_BYTES);
	memcpy(rec + KEY_BYTES, v, len);
	cr_assert_eq(store_index_put(t, "cert", keypair_public(branch.kp), KEY_BYTES, rec, KEY_BYTES + len, &e), 0,
		     "%s", e.msg);
	free(rec);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
	node_close(&n);
	cr_assert_eq(verify_node(dir, &c, &h, &e), -EBADMSG, "%s", e.msg);
	key_hex(hex, keypair_public(street.kp));
	cr_assert(strstr(log, "the certificate index gives this key to issuer") && strstr(log, hex) == NULL &&
		  strstr(log, "the first-issuer rule to"), "%s", log);
	hex[16] = '\0';
	cr_assert(strstr(log, hex), "the rule's issuer (the street) is named: %s", log);

	/* the store as an older version left it (meta cert_rule not "1"): the
	 * next writable open re-derives the index, and verify passes */
	cr_assert_eq(node_open(&n, dir, NODE_NO_KEY | NODE_RDONLY, &e), 0, "%s", e.msg);
	node_close(&n);
	cr_assert_eq(verify_node(dir, &c, &h, &e), -EBADMSG, "a read-only open changes nothing");
	cr_assert_eq(node_open(&n, dir, NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_meta_put(t, "cert_rule", (const uint8_t *)"0", 1, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
	node_close(&n);
	cr_assert_eq(node_open(&n, dir, NODE_NO_KEY, &e), 0, "%s", e.msg);
	node_close(&n);
	log[0] = '\0';
	cr_assert_eq(verify_node(dir, &c, &h, &e), 0, "the upgrade re-derived the index: %s %s", e.msg, log);
}

/* ---- stage 2: unsigned slack ---- */

/* Audits and imports a bundle crafted with c: the audit exits 3 with a
 * reason holding `why`; the import is refused with `import_why`, and the
 * target then holds `keeps` entries more than before. */
static void refused_as(const char *name, const struct loaded *b, const struct craft *c, const char *why,
		       const char *import_why, uint64_t keeps)
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
	cr_assert(has(r.err, import_why), "%s: import says: %s", name, r.err);
	run_free(&r);
	cr_assert_eq(held(target_dir), before + keeps, "%s: the import kept %llu entries, not %llu", name,
		     (unsigned long long)(held(target_dir) - before), (unsigned long long)keeps);
}

/* refused_as, the import refused with the audit's reason */
static void refused(const char *name, const struct loaded *b, const struct craft *c, const char *why, uint64_t keeps)
{
	refused_as(name, b, c, why, why, keeps);
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
	/* inside an Entries (a flipped byte there): the envelopes before it stay */
	refused("entries field", &b, &(struct craft){.per_frame = 3, .unknown_in_entries = 2},
		"an unknown field (number 3) there", 1);
	refused("batch", &b, &(struct craft){.per_frame = 3, .bad_batch_frame = 2}, "its batch number is 7, not 6", 0);
	/* at the end record: every entry was read and checked before it (the
	 * target holds frame 1 and the first envelope of frame 2 by now) */
	refused("entries", &b, &(struct craft){.entries_delta = 1}, "counts 8 entries, the bundle holds 7", all - 4);
	refused("evidence", &b, &(struct craft){.evidence_delta = 1}, "counts 1 evidence frames, the bundle holds 0", 0);
	/* the crafted Checkpoint frame holds no note: an import takes each note as
	 * it reads it (co-signing where it witnesses), so it stops there first */
	refused_as("checkpoints", &b, &(struct craft){.checkpoints = 1, .no_checkpoint_count = true},
		   "counts 0 checkpoint frames, the bundle holds 1", "a checkpoint refused: checkpoint: no origin line", 0);
	refused("end", &b, &(struct craft){.end_unknown = true}, "holds an unknown field (number 4)", 0);
	refused("trailing", &b, &(struct craft){.trailing = 5}, "5 bytes after the end record", 0);
	cr_assert_eq(held(target_dir), all, "the target holds every entry after the refusals at the end");
	loaded_free(&b);
}

