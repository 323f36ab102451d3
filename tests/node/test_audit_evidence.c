/* SPDX-License-Identifier: MIT */
/*
 * Evidence frames in `strata audit` (issue 15), on the store of
 * audit_fixture.h: a real equivocation by the branch key is reported
 * (JSON evidence) and fails naming it; unrelated envelopes, garbage, one
 * entry twice and an uncertified author fail at their frame and byte;
 * conflicting checkpoints (two notes, or a note against the entries held)
 * are reported like an equivocation; a store that keeps a proof reports
 * it like its export.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/tlog.h"
#include "audit_fixture.h"
#include "bundle_craft.h"
#include "run.h"

TestSuite(audit_evidence, .init = audit_fixture_setup, .fini = audit_fixture_teardown);

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

Test(audit_evidence, evidence_frames_are_checked_and_reported)
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
Test(audit_evidence, a_store_that_keeps_evidence_reports_it_like_its_export)
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

Test(audit_evidence, conflicting_checkpoints_are_reported_like_an_equivocation)
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

