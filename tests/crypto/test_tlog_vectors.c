/* SPDX-License-Identifier: MIT */
/*
 * docs/vectors/tlog.json and note.json (written by an independent script):
 * every output recomputed with Strata's code (crypto/tlog.c, note.c) and,
 * where it can be, with libsodium directly (SHA-256, Ed25519 verify).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <sodium.h>

#include "crypto/tlog.h"

#define VEC_ENTRIES 13 /* tlog.json's entries: BLAKE2b-256("strata tlog vector <seq>") */

static uint8_t entries[VEC_ENTRIES][HASH_BYTES], leaves[VEC_ENTRIES][TLOG_HASH_BYTES];

static json_t *load(const char *name)
{
	char path[1024];
	json_error_t je;
	const char *src = getenv("STRATA_TEST_SRCDIR");

	cr_assert_eq(keys_init(), 0);
	snprintf(path, sizeof path, "%s/docs/vectors/%s", src ? src : ".", name);
	json_t *j = json_load_file(path, 0, &je);
	cr_assert_not_null(j, "%s:%d: %s", path, je.line, je.text);
	cr_assert(json_array_size(json_object_get(j, "vectors")) > 0);
	for (int i = 0; i < VEC_ENTRIES; i++) {
		char text[64];
		int n = snprintf(text, sizeof text, "strata tlog vector %d", i + 1);
		hash_blake2b(entries[i], (const uint8_t *)text, (size_t)n);
		tlog_leaf_hash(leaves[i], entries[i]);
	}
	return j;
}

static const char *str(json_t *v, const char *k)
{
	const char *s = json_string_value(json_object_get(v, k));
	cr_assert_not_null(s, "vector field %s", k);
	return s;
}

static uint64_t num(json_t *v, const char *k)
{
	json_t *x = json_object_get(v, k);
	cr_assert(json_is_integer(x), "vector field %s", k);
	return (uint64_t)json_integer_value(x);
}

static void hex32(uint8_t out[32], json_t *v, const char *k)
{
	cr_assert_eq(hex_decode(out, 32, str(v, k)), 0, "field %s", k);
}

static size_t hashes(uint8_t out[][32], json_t *v, const char *k)
{
	json_t *a = json_object_get(v, k), *x;
	size_t i;

	cr_assert(json_is_array(a) && json_array_size(a) <= TLOG_PATH_MAX);
	json_array_foreach(a, i, x)
		cr_assert_eq(hex_decode(out[i], 32, json_string_value(x)), 0);
	return json_array_size(a);
}

static int read_leaves(uint64_t from, uint64_t to, int (*each)(const uint8_t *, void *), void *acc, void *arg)
{
	(void)arg;
	for (uint64_t i = from; i < to; i++)
		if (each(leaves[i], acc))
			return -1;
	return 0;
}

static void sha_prefixed(uint8_t out[32], uint8_t prefix, const uint8_t *a, const uint8_t *b)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, a, 32);
	if (b)
		crypto_hash_sha256_update(&st, b, 32);
	crypto_hash_sha256_final(&st, out);
}

static void tlog_vector(json_t *v, const char *kind)
{
	uint8_t a[32], b[32], want[32], got[32], path[TLOG_PATH_MAX][32], mine[TLOG_PATH_MAX][32];
	size_t np, mp;
	struct err e = {0};

	if (!strcmp(kind, "leaf_hash")) {
		hex32(a, v, "entry_hash");
		hex32(want, v, "leaf_hash");
		tlog_leaf_hash(got, a);
		cr_assert_arr_eq(got, want, 32);
		sha_prefixed(got, 0, a, NULL);
		cr_assert_arr_eq(got, want, 32, "libsodium");
	} else if (!strcmp(kind, "node_hash")) {
		hex32(a, v, "left");
		hex32(b, v, "right");
		hex32(want, v, "hash");
		tlog_node_hash(got, a, b);
		cr_assert_arr_eq(got, want, 32);
		sha_prefixed(got, 1, a, b);
		cr_assert_arr_eq(got, want, 32, "libsodium");
	} else if (!strcmp(kind, "root")) {
		struct tlog_frontier f;
		size_t n = hashes(path, v, "entry_hashes");
		cr_assert_eq(n, num(v, "size"));
		tlog_frontier_init(&f);
		for (size_t i = 0; i < n; i++) {
			cr_assert_arr_eq(path[i], entries[i], 32, "entry %zu", i + 1);
			tlog_leaf_hash(a, path[i]);
			tlog_frontier_push(&f, a);
		}
		hex32(want, v, "root");
		tlog_frontier_root(&f, got);
		cr_assert_arr_eq(got, want, 32, "%s", str(v, "name"));
	} else if (!strcmp(kind, "inclusion")) {
		uint64_t i = num(v, "index"), n = num(v, "size");
		cr_assert_eq(num(v, "seq"), i + 1);
		hex32(a, v, "entry_hash");
		cr_assert_arr_eq(a, entries[i], 32);
		hex32(want, v, "root");
		np = hashes(path, v, "path");
		cr_assert_eq(tlog_prove_inclusion(i, n, read_leaves, NULL, mine, &mp, &e), 0);
		cr_assert_eq(mp, np, "%s", str(v, "name"));
		cr_assert_arr_eq(mine, path, np * 32, "%s", str(v, "name"));
		cr_assert(tlog_check_inclusion(i, n, leaves[i], (const uint8_t(*)[32])path, np, want), "%s", str(v, "name"));
	} else if (!strcmp(kind, "consistency")) {
		uint64_t m = num(v, "m"), n = num(v, "n");
		hex32(a, v, "root_m");
		hex32(b, v, "root_n");
		np = hashes(path, v, "path");
		cr_assert_eq(tlog_prove_consistency(m, n, read_leaves, NULL, mine, &mp, &e), 0);
		cr_assert_eq(mp, np, "%s", str(v, "name"));
		cr_assert_arr_eq(mine, path, np * 32, "%s", str(v, "name"));
		cr_assert(tlog_check_consistency(m, a, n, b, (const uint8_t(*)[32])path, np), "%s", str(v, "name"));
	} else {
		cr_assert_fail("unknown kind %s", kind);
	}
}

Test(vectors, tlog_json)
{
	json_t *j = load("tlog.json"), *v;
	size_t i;
	int kinds = 0;

	json_array_foreach(json_object_get(j, "vectors"), i, v) {
		tlog_vector(v, str(v, "kind"));
		kinds++;
	}
	cr_assert_geq(kinds, 20);
	json_decref(j);
}

static struct keypair *from_seed(json_t *v, const char *k)
{
	uint8_t seed[SEED_BYTES];
	struct keypair *kp = NULL;
	struct err e = {0};

	hex32(seed, v, k);
	cr_assert_eq(keypair_from_seed(&kp, seed, &e), 0);
	return kp;
}

static void checkpoint_of(json_t *v, struct checkpoint *cp)
{
	memset(cp, 0, sizeof *cp);
	hex32(cp->author, v, "author");
	snprintf(cp->feed, sizeof cp->feed, "%s", str(v, "feed"));
	cp->size = num(v, "size");
	hex32(cp->root, v, "root");
}

static void note_vector_signed(json_t *v)
{
	struct checkpoint cp;
	struct keypair *kp = from_seed(v, "author_seed");
	char text[NOTE_MAX + 1], body[300];
	uint8_t sig[64];
	size_t len;
	struct note n;
	struct err e = {0};

	checkpoint_of(v, &cp);
	cr_assert_arr_eq(keypair_public(kp), cp.author, 32);
	cr_assert_eq(note_sign_checkpoint(kp, &cp, text, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(len, strlen(str(v, "note")));
	cr_assert_arr_eq(text, str(v, "note"), len, "Ed25519 is deterministic: the same note");
	cr_assert_eq(hex_decode(sig, 64, str(v, "signature")), 0);
	size_t bl = checkpoint_body(body, sizeof body, &cp);
	cr_assert_eq(crypto_sign_ed25519_verify_detached(sig, (uint8_t *)body, bl, cp.author), 0, "libsodium");
	cr_assert_eq(note_parse(text, len, &n, &e), 0, "%s", e.msg);
	cr_assert(note_sig_verify(&n, 0));
	keypair_destroy(&kp);
}

static void note_vector_cosig(json_t *v)
{
	struct keypair *kp = from_seed(v, "witness_seed");
	const char *note = str(v, "note"), *msg = str(v, "signed_message");
	struct note n;
	struct note_sig s;
	uint8_t sig[64], w[32];
	char out[NOTE_MAX + 1];
	size_t len;
	struct err e = {0};

	hex32(w, v, "witness");
	cr_assert_arr_eq(keypair_public(kp), w, 32);
	cr_assert_eq(note_parse(note, strlen(note), &n, &e), 0, "%s", e.msg);
	cr_assert_eq(note_cosign(kp, &n, num(v, "time"), &s, &e), 0);
	cr_assert_eq(hex_decode(sig, 64, str(v, "signature")), 0);
	cr_assert_arr_eq(s.sig, sig, 64);
	cr_assert_eq(crypto_sign_ed25519_verify_detached(sig, (const uint8_t *)msg, strlen(msg), w), 0, "libsodium");
	cr_assert_eq(note_add_sig(&n, &s, &e), 0);
	cr_assert_eq(note_format(&n, out, &len, &e), 0);
	out[len] = '\0';
	cr_assert_not_null(strstr(out, str(v, "line")), "%s", out);
	keypair_destroy(&kp);
}

static void note_vector(json_t *v, const char *kind)
{
	char text[NOTE_MAX + 1];
	uint8_t key[32], id[4], want[4], h[32], buf[200];
	struct checkpoint cp;
	struct note n;
	size_t len;
	struct err e = {0};

	if (!strcmp(kind, "checkpoint_body")) {
		checkpoint_of(v, &cp);
		checkpoint_body(text, sizeof text, &cp);
		cr_assert_str_eq(text, str(v, "body"));
	} else if (!strcmp(kind, "key_id")) {
		hex32(key, v, "key");
		note_key_id(key, (uint8_t)num(v, "alg"), id);
		cr_assert_eq(hex_decode(want, 4, str(v, "key_id")), 0);
		cr_assert_arr_eq(id, want, 4);
		len = strlen(str(v, "key_name"));
		memcpy(buf, str(v, "key_name"), len);
		buf[len] = '\n';
		buf[len + 1] = (uint8_t)num(v, "alg");
		memcpy(buf + len + 2, key, 32);
		crypto_hash_sha256(h, buf, len + 34);
		cr_assert_arr_eq(h, want, 4, "libsodium");
	} else if (!strcmp(kind, "vkey")) {
		hex32(key, v, "key");
		note_vkey(text, sizeof text, key);
		cr_assert_str_eq(text, str(v, "vkey"));
	} else if (!strcmp(kind, "signed_note")) {
		note_vector_signed(v);
	} else if (!strcmp(kind, "cosignature")) {
		note_vector_cosig(v);
	} else if (!strcmp(kind, "cosigned_note")) {
		const char *note = str(v, "note");
		cr_assert_eq(note_parse(note, strlen(note), &n, &e), 0, "%s", e.msg);
		cr_assert_eq(n.n_sigs, 3);
		for (size_t i = 0; i < n.n_sigs; i++)
			cr_assert(note_sig_verify(&n, i), "line %zu", i);
		cr_assert_eq(note_format(&n, text, &len, &e), 0);
		cr_assert_eq(len, strlen(note));
		cr_assert_arr_eq(text, note, len, "the same order of lines");
	} else if (!strcmp(kind, "refused")) {
		const char *note = str(v, "note");
		cr_assert_eq(note_parse(note, strlen(note), &n, &e), -EINVAL, "accepted: %s", str(v, "name"));
	} else {
		cr_assert_fail("unknown kind %s", kind);
	}
}

Test(vectors, note_json)
{
	json_t *j = load("note.json"), *v;
	size_t i;
	int refused = 0;

	json_array_foreach(json_object_get(j, "vectors"), i, v) {
		note_vector(v, str(v, "kind"));
		refused += !strcmp(str(v, "kind"), "refused");
	}
	cr_assert_geq(refused, 8);
	json_decref(j);
}
