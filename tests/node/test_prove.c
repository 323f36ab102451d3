/* SPDX-License-Identifier: MIT */
/*
 * strata prove and the light audit (node/audit/proof_build.c,
 * proof_check.c, node/cli/cmd_prove.c) on a real root node "xm" whose
 * store holds the trust feeds of xm/b (certified by the root) and
 * xm/b/d (certified by b). d's checkpoints are signed by d and co-signed
 * by b (its witness), kept with node_checkpoint_put as witness.c would
 * after checking them. Then: a proof of an entry of d checks against the
 * root key alone; every part of a proof file tampered is refused with its
 * reason; refusals when no witnessed checkpoint covers the entry; the
 * root's own feed proved against its own checkpoint; the CLI (prove, audit
 * of the proof, --json, standard output, exit codes).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/audit/proof.h"
#include "node/core/checkpoint.h"
#include "node/core/node.h"
#include "node/records/records.h"
#include "run.h"
#include "storage/store.h"

#define T0 1700000000000ull
#define D_ENTRIES 4 /* d's trust feed: the first 3 are in the witnessed checkpoint */
#define D_WITNESSED 3

struct author {
	struct keypair *kp;
	uint64_t seq;
	uint8_t prev[HASH_BYTES];
	char hex[KEY_HEX];
};

static struct node *n;
static struct author b, d;
static char root_hex[KEY_HEX];
static char *all_feeds[] = {FEED_UP, FEED_REPORT, FEED_DOWN, FEED_TRUST};

static Strata__Certificate cert(const uint8_t *subject, const char *name)
{
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;

	c.subject = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)subject};
	c.name = (char *)name;
	c.role = STRATA__ROLE__ROLE_CHILD;
	c.feeds = all_feeds;
	c.n_feeds = 4;
	c.issued_ms = T0;
	return c;
}

/* A's next trust entry certifying SUBJECT as NAME, through node_ingest. */
static void certify(struct author *a, const uint8_t *subject, const char *name)
{
	Strata__Certificate c = cert(subject, name);
	struct changeset_builder *cb = NULL;
	struct store_txn *t = NULL;
	uint8_t *env = NULL, val[512], hash[HASH_BYTES];
	size_t env_len, len = protobuf_c_message_pack(&c.base, val);
	struct err e = {{0}};

	cr_assert_eq(changeset_builder_new(&cb, FEED_TRUST, a->seq + 1, a->seq ? a->prev : NULL, T0, &e), 0);
	cr_assert_eq(changeset_builder_put(cb, "cert", subject, KEY_BYTES, val, len, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_finish(cb, a->kp, &env, &env_len, hash, &e), 0, "%s", e.msg);
	changeset_builder_destroy(&cb);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0);
	cr_assert_eq(node_ingest(n, t, env, env_len, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0);
	a->seq++;
	memcpy(a->prev, hash, HASH_BYTES);
	free(env);
}

static void root_certify(const uint8_t *subject, const char *name)
{
	Strata__Certificate c = cert(subject, name);
	struct node_writer *w = NULL;
	struct err e = {{0}};
	uint8_t val[512];
	size_t len = protobuf_c_message_pack(&c.base, val);

	cr_assert_eq(node_writer_begin(n, FEED_TRUST, &w, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_put(w, "cert", subject, KEY_BYTES, val, len, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "%s", e.msg);
}

static void author_new(struct author *a)
{
	struct err e = {{0}};

	memset(a, 0, sizeof *a);
	cr_assert_eq(keypair_generate(&a->kp, &e), 0);
	key_hex(a->hex, keypair_public(a->kp));
}

/* d's checkpoint at SIZE, signed by d, co-signed by b when cosigned; kept. */
static void keep_checkpoint(uint64_t size, bool cosigned, char *text, size_t *len)
{
	struct store_txn *t = NULL;
	struct note nt;
	struct note_sig s;
	struct err e = {{0}};
	struct checkpoint cp = {.size = size};

	memcpy(cp.author, keypair_public(d.kp), KEY_BYTES);
	strcpy(cp.feed, FEED_TRUST);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0);
	cr_assert_eq(store_tree_root(t, cp.author, FEED_TRUST, size, cp.root, &e), 0, "%s", e.msg);
	cr_assert_eq(note_sign_checkpoint(d.kp, &cp, text, len, &e), 0, "%s", e.msg);
	cr_assert_eq(note_parse(text, *len, &nt, &e), 0, "%s", e.msg);
	if (cosigned) {
		cr_assert_eq(note_cosign(b.kp, &nt, 1700000000 + size, &s, &e), 0);
		cr_assert_eq(note_add_sig(&nt, &s, &e), 0);
		cr_assert_eq(note_format(&nt, text, len, &e), 0);
	}
	cr_assert_geq(node_checkpoint_put(t, &nt, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0);
}

static void setup(void)
{
	struct node_init_opts o = {.name = "xm", .root = true};
	struct err e = {{0}};
	char note[NOTE_MAX], name[64];
	size_t len;

	test_tmp_make();
	cr_assert_eq(node_create(test_node, &o, &e), 0, "%s", e.msg);
	cr_assert_eq(node_open(&n, test_node, 0, &e), 0, "%s", e.msg);
	key_hex(root_hex, node_id(n));
	author_new(&b);
	author_new(&d);
	root_certify(keypair_public(b.kp), "xm/b");
	certify(&b, keypair_public(d.kp), "xm/b/d");
	for (int i = 0; i < D_ENTRIES; i++) {
		struct keypair *k = NULL;
		cr_assert_eq(keypair_generate(&k, &e), 0);
		snprintf(name, sizeof name, "xm/b/d/u%d", i);
		certify(&d, keypair_public(k), name);
		keypair_destroy(&k);
	}
	keep_checkpoint(2, true, note, &len);
	write_file(tmp_path((char[256]){0}, "old.note"), note, len);
	keep_checkpoint(D_WITNESSED, true, note, &len);
	keep_checkpoint(D_ENTRIES, false, note, &len); /* newest, not witnessed */
	node_close(&n);
}

static void teardown(void)
{
	keypair_destroy(&b.kp);
	keypair_destroy(&d.kp);
	test_tmp_remove();
}

TestSuite(prove, .init = setup, .fini = teardown);

static int build(const char *author, const char *feed, uint64_t seq, const uint8_t *since, size_t since_len,
		 uint8_t **file, size_t *len, struct audit_proof_info *info, struct err *e)
{
	struct audit_proof_request rq = {.author = author, .feed = feed, .seq = seq, .since_note = since,
					 .since_len = since_len};

	memset(e, 0, sizeof *e);
	return audit_proof_build(test_node, &rq, file, len, info, e);
}

static void root_key(uint8_t out[KEY_BYTES])
{
	cr_assert_eq(hex_decode(out, KEY_BYTES, root_hex), 0);
}

Test(prove, an_entry_of_a_witnessed_feed_checks_against_the_root_alone)
{
	uint8_t *file = NULL, *file2 = NULL, root[KEY_BYTES], other[KEY_BYTES];
	size_t len, len2;
	struct audit_proof_info info, chk;
	struct err e;

	cr_assert_eq(build(d.hex, FEED_TRUST, 2, NULL, 0, &file, &len, &info, &e), 0, "%s", e.msg);
	cr_assert_eq(info.seq, 2);
	cr_assert_eq(info.size, D_WITNESSED, "the newest witnessed, not the newest");
	cr_assert_eq(info.n_witnesses, 1);
	cr_assert_str_eq(info.witnesses[0].name, "xm/b");
	cr_assert_str_eq(info.author_name, "xm/b/d");
	cr_assert_not(info.root_own);
	cr_assert_eq(info.n_chain, 2, "the root's certificate of b, b's of d");
	cr_assert_eq(info.file_len, len);
	root_key(root);
	cr_assert_eq(audit_proof_check(file, len, root, &chk, &e), 0, "%s", e.msg);
	cr_assert_eq(chk.seq, 2);
	cr_assert_arr_eq(chk.root, info.root, TLOG_HASH_BYTES);
	memcpy(other, root, KEY_BYTES);
	other[0] ^= 1;
	cr_assert_eq(audit_proof_check(file, len, other, &chk, &e), -EBADMSG, "another root");
	cr_assert_not_null(strstr(e.msg, "nothing before it certifies"), "%s", e.msg);
	/* by org path: the same proof */
	cr_assert_eq(build("xm/b/d", FEED_TRUST, 2, NULL, 0, &file2, &len2, &info, &e), 0, "%s", e.msg);
	cr_assert_eq(len2, len);
	cr_assert_arr_eq(file2, file, len);
	free(file);
	free(file2);
}

Test(prove, refusals_name_what_is_missing)
{
	uint8_t *file = NULL;
	size_t len;
	struct audit_proof_info info;
	struct err e;

	cr_assert_eq(build(d.hex, FEED_TRUST, D_ENTRIES, NULL, 0, &file, &len, &info, &e), -ESRCH);
	cr_assert_not_null(strstr(e.msg, "the newest witnessed is at size 3"), "%s", e.msg);
	cr_assert_eq(build(b.hex, FEED_TRUST, 1, NULL, 0, &file, &len, &info, &e), -ESRCH);
	cr_assert_not_null(strstr(e.msg, "none is witnessed yet"), "%s", e.msg);
	cr_assert_eq(build(d.hex, FEED_TRUST, D_ENTRIES + 1, NULL, 0, &file, &len, &info, &e), -ESRCH);
	cr_assert_not_null(strstr(e.msg, "holds entries 1..4"), "%s", e.msg);
	cr_assert_eq(build("xm/nobody", FEED_TRUST, 1, NULL, 0, &file, &len, &info, &e), -ESRCH);
	cr_assert_not_null(strstr(e.msg, "no unit named"), "%s", e.msg);
	cr_assert_eq(build(d.hex, FEED_UP, 1, NULL, 0, &file, &len, &info, &e), -ESRCH);
	cr_assert_eq(build("Not A Path", FEED_TRUST, 1, NULL, 0, &file, &len, &info, &e), -EINVAL);
	cr_assert_null(file);
}

Test(prove, the_roots_own_feed_against_its_own_checkpoint)
{
	uint8_t *file = NULL, root[KEY_BYTES];
	size_t len;
	struct audit_proof_info info, chk;
	struct err e;

	cr_assert_eq(build("xm", FEED_TRUST, 1, NULL, 0, &file, &len, &info, &e), 0, "%s", e.msg);
	cr_assert(info.root_own);
	cr_assert_eq(info.n_witnesses, 0);
	cr_assert_eq(info.n_chain, 0);
	cr_assert_eq(info.size, 2, "signed at the root's head: its own certificate and b's");
	root_key(root);
	cr_assert_eq(audit_proof_check(file, len, root, &chk, &e), 0, "%s", e.msg);
	cr_assert(chk.root_own);
	free(file);
}

Test(prove, since_adds_a_consistency_proof)
{
	uint8_t *file = NULL, *old = NULL, root[KEY_BYTES];
	size_t len, old_len;
	struct audit_proof_info info, chk;
	struct err e;
	char path[256];
	FILE *f = fopen(tmp_path(path, "old.note"), "rb");

	cr_assert_not_null(f);
	old = malloc(NOTE_MAX);
	old_len = fread(old, 1, NOTE_MAX, f);
	fclose(f);
	cr_assert_eq(build(d.hex, FEED_TRUST, 1, old, old_len, &file, &len, &info, &e), 0, "%s", e.msg);
	cr_assert_eq(info.since_size, 2);
	root_key(root);
	cr_assert_eq(audit_proof_check(file, len, root, &chk, &e), 0, "%s", e.msg);
	cr_assert_eq(chk.since_size, 2);
	free(file);
	old[old_len / 3] ^= 1; /* a note that no longer parses or verifies */
	cr_assert_eq(build(d.hex, FEED_TRUST, 1, old, old_len, &file, &len, &info, &e), -EINVAL);
	cr_assert_not_null(strstr(e.msg, "--since"), "%s", e.msg);
	free(old);
}

#define HDR (AUDIT_PROOF_MAGIC_LEN + 4)

/* The proof file of p, with extra bytes inside the record (extra_in) or after it. */
static uint8_t *repack(const Strata__Proof *p, const uint8_t *extra, size_t extra_len, bool extra_in, size_t *len)
{
	size_t n = strata__proof__get_packed_size(p);
	uint8_t *out = malloc(HDR + n + extra_len);

	cr_assert_not_null(out);
	memcpy(out, AUDIT_PROOF_MAGIC, AUDIT_PROOF_MAGIC_LEN);
	strata__proof__pack(p, out + HDR);
	if (extra_len)
		memcpy(out + HDR + n, extra, extra_len);
	be32_put(out + AUDIT_PROOF_MAGIC_LEN, (uint32_t)(n + (extra_in ? extra_len : 0)));
	*len = HDR + n + extra_len;
	return out;
}

static void refused_file(const uint8_t *file, size_t len, const char *why)
{
	uint8_t root[KEY_BYTES];
	struct audit_proof_info info;
	struct err e = {{0}};

	root_key(root);
	cr_assert_eq(audit_proof_check(file, len, root, &info, &e), -EBADMSG, "accepted; want \"%s\"", why);
	cr_assert_not_null(strstr(e.msg, why), "reason \"%s\", want \"%s\"", e.msg, why);
}

static char note_buf[NOTE_MAX];

static void drop_cosignature(Strata__Proof *p)
{
	struct note nt;
	size_t len;

	cr_assert_eq(note_parse((char *)p->checkpoint.data, p->checkpoint.len, &nt, NULL), 0);
	nt.n_sigs = 1; /* the author's line comes first */
	cr_assert_eq(note_format(&nt, note_buf, &len, NULL), 0);
	p->checkpoint = (ProtobufCBinaryData){.len = len, .data = (uint8_t *)note_buf};
}

/* The size changed: the cosignature no longer verifies; without it, the author's. */
static void other_size(Strata__Proof *p)
{
	uint8_t *s = p->checkpoint.data;
	size_t i = 0;

	while (i + 3 <= p->checkpoint.len && memcmp(s + i, "\n3\n", 3) != 0)
		i++;
	cr_assert_lt(i + 3, p->checkpoint.len);
	s[i + 1] = '2';
}

static void other_size_alone(Strata__Proof *p)
{
	drop_cosignature(p);
	other_size(p);
}

static void flip_envelope(Strata__Proof *p) { p->envelope.data[p->envelope.len - 5] ^= 1; }
static void other_entry(Strata__Proof *p) { p->envelope = p->chain[p->n_chain - 1]; }
static void flip_path(Strata__Proof *p) { p->path[p->n_path - 1].data[7] ^= 0x40; }
static void short_path(Strata__Proof *p) { p->path[0].len = 31; }
static void drop_path(Strata__Proof *p) { p->n_path--; }
static void drop_root_cert(Strata__Proof *p) { p->chain++; p->n_chain--; }
static void no_chain(Strata__Proof *p) { p->n_chain = 0; }
static void flip_chain(Strata__Proof *p) { p->chain[0].data[p->chain[0].len - 3] ^= 1; }
static void version_2(Strata__Proof *p) { p->version = 2; }
static void flip_consistency(Strata__Proof *p) { p->consistency[0].data[0] ^= 1; }
static void drop_old(Strata__Proof *p) { p->old_checkpoint.len = 10; }

static const struct {
	void (*fn)(Strata__Proof *p);
	const char *why;
} tampers[] = {
	{drop_cosignature, "no witness above the author"},
	{other_size, "on the checkpoint does not verify"},
	{other_size_alone, "no valid signature by its author"},
	{flip_envelope, "the entry of the proof"},
	{other_entry, "is not in the checkpoint's feed"},
	{flip_path, "does not lead to the checkpoint's root"},
	{short_path, "a hash of 31 bytes"},
	{drop_path, "does not lead to the checkpoint's root"},
	{drop_root_cert, "nothing before it certifies"},
	{no_chain, "do not certify the author"},
	{flip_chain, "trust entry 1"},
	{version_2, "version 1"},
	{flip_consistency, "not consistent"},
	{drop_old, "the older checkpoint of the proof"},
};

Test(prove, every_part_tampered_is_refused_with_a_reason)
{
	uint8_t *file = NULL, *old = malloc(NOTE_MAX), *bad, extra[3] = {0x98, 0x06, 0x01}; /* field 99 = 1 */
	size_t len, old_len, bad_len;
	struct audit_proof_info info;
	struct err e;
	char path[256];
	FILE *f = fopen(tmp_path(path, "old.note"), "rb");

	old_len = fread(old, 1, NOTE_MAX, f);
	fclose(f);
	cr_assert_eq(build(d.hex, FEED_TRUST, 2, old, old_len, &file, &len, &info, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < sizeof tampers / sizeof tampers[0]; i++) {
		Strata__Proof *p = strata__proof__unpack(NULL, len - HDR, file + HDR);
		Strata__Proof saved = *p;
		cr_assert_not_null(p);
		tampers[i].fn(p);
		bad = repack(p, NULL, 0, false, &bad_len);
		*p = saved;
		strata__proof__free_unpacked(p, NULL);
		refused_file(bad, bad_len, tampers[i].why);
		free(bad);
	}
	Strata__Proof *p = strata__proof__unpack(NULL, len - HDR, file + HDR);
	bad = repack(p, extra, sizeof extra, true, &bad_len);
	refused_file(bad, bad_len, "unknown fields");
	free(bad);
	bad = repack(p, extra, 1, false, &bad_len);
	refused_file(bad, bad_len, "length field");
	bad[0] = 'X';
	refused_file(bad, bad_len, "magic");
	free(bad);
	strata__proof__free_unpacked(p, NULL);
	refused_file(file, len - 1, "length field");
	free(file);
	free(old);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 16);

	cr_assert_not_null(f);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

Test(prove, cli_prove_then_audit_the_proof)
{
	struct run r;
	char file[256], feed[128];
	json_t *j;
	size_t len;

	tmp_path(file, "d2.proof");
	snprintf(feed, sizeof feed, "%s/trust", d.hex);
	run_strata(&r, "prove", "-d", test_node, "--feed", feed, "--seq", "2", "-o", file, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = run_json(&r);
	cr_assert_eq(json_integer_value(json_object_get(j, "size")), D_WITNESSED);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j, "witnesses"), 0), "name")),
			 "xm/b");
	json_decref(j);
	run_free(&r);
	run_strata(&r, "audit", file, "--root", root_hex, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(has(r.out, "co-signed by xm/b") && has(r.out, "not checked: revocations"), "%s", r.out);
	run_free(&r);
	run_strata(&r, "audit", file, "--root", root_hex, "--json", NULL);
	j = run_json(&r);
	cr_assert(json_is_true(json_object_get(j, "ok")));
	cr_assert_str_eq(json_string_value(json_object_get(j, "kind")), "proof");
	json_decref(j);
	run_free(&r);
	/* to standard output (not a terminal here): the same bytes */
	uint8_t *want = slurp(file, &len);
	run_strata(&r, "prove", "-d", test_node, "--feed", "xm/b/d/trust", "--seq", "2", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(r.out_len, len);
	cr_assert_arr_eq(r.out, want, len);
	run_free(&r);
	want[len - 1] ^= 1;
	write_file(file, want, len);
	free(want);
	run_strata(&r, "audit", file, "--root", root_hex, NULL);
	cr_assert_eq(r.status, 3, "a tampered proof: exit 3, not %d", r.status);
	cr_assert(has(r.out, "PROOF FAILED"), "%s", r.out);
	run_free(&r);
	run_strata(&r, "prove", "-d", test_node, "--feed", feed, "--seq", "4", "-o", file, NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(has(r.err, "the newest witnessed is at size 3"), "%s", r.err);
	run_free(&r);
	run_strata(&r, "prove", "-d", test_node, "--feed", feed, "--seq", "0", "-o", file, NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
}

/* Erasure never changes a body: an entry whose value was stripped
 * (store_log_replace, as node_erase does) is still proved, same root. */
Test(prove, an_erased_value_keeps_the_proof)
{
	uint8_t *file = NULL, *stripped = NULL, root[KEY_BYTES];
	const uint8_t *env;
	size_t len, env_len, slen, before;
	struct audit_proof_info info, chk;
	struct changeset *cs = NULL;
	struct store_txn *t = NULL;
	struct err e = {{0}};

	cr_assert_eq(build(d.hex, FEED_TRUST, 2, NULL, 0, &file, &len, &info, &e), 0, "%s", e.msg);
	free(file);
	before = len;
	uint8_t root_before[TLOG_HASH_BYTES];
	memcpy(root_before, info.root, TLOG_HASH_BYTES);
	cr_assert_eq(node_open(&n, test_node, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0);
	cr_assert_eq(store_log_get(t, keypair_public(d.kp), FEED_TRUST, 2, &env, &env_len, NULL, &e), 0);
	cr_assert_eq(changeset_decode(&cs, env, env_len, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_strip_value(cs, 0, &stripped, &slen, &e), 0, "%s", e.msg);
	cr_assert_lt(slen, env_len);
	cr_assert_eq(store_log_replace(t, keypair_public(d.kp), FEED_TRUST, 2, stripped, slen, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0);
	changeset_destroy(&cs);
	free(stripped);
	node_close(&n);
	cr_assert_eq(build(d.hex, FEED_TRUST, 2, NULL, 0, &file, &len, &info, &e), 0, "%s", e.msg);
	cr_assert_lt(len, before, "the erased value is not in the proof");
	cr_assert_arr_eq(info.root, root_before, TLOG_HASH_BYTES);
	root_key(root);
	cr_assert_eq(audit_proof_check(file, len, root, &chk, &e), 0, "%s", e.msg);
	free(file);
}
