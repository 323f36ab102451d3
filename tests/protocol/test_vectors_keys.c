/* SPDX-License-Identifier: MIT */
/*
 * docs/vectors/keys.json, recomputed: a seed's Ed25519 public key, the
 * 64-byte secret key, the key file's text, and the Curve25519 pair a node
 * uses for CURVE, each by Strata's crypto/ and again by libsodium directly;
 * a domain-separated signature and RFC 8032's test 1.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "vector_file.h"

#define PATH_SIZE 64

/* The key file Strata writes from the seed holds exactly key_file, and
 * keypair_load reads that text back to the same key. */
static void check_key_file(const json_t *v, const struct keypair *kp)
{
	char path[PATH_SIZE] = "/tmp/strata-vector-key-XXXXXX";
	struct keypair *back = NULL;
	struct err e = {{0}};
	char text[2 * SEED_BYTES + 2] = {0};
	FILE *f;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	unlink(path); /* keypair_save makes it, mode 0600 */
	cr_assert_eq(keypair_save(kp, path, &e), 0, "%s", e.msg);
	cr_assert((f = fopen(path, "r")));
	cr_assert_eq(fread(text, 1, sizeof text - 1, f), sizeof text - 1);
	fclose(f);
	cr_assert_str_eq(text, vf_str(v, "key_file"));
	cr_assert_eq(keypair_load(&back, path, &e), 0, "%s", e.msg);
	cr_assert_eq(memcmp(keypair_public(back), keypair_public(kp), KEY_BYTES), 0);
	keypair_destroy(&back);
	unlink(path);
}

static void check_key(const json_t *v)
{
	uint8_t seed[SEED_BYTES], pk[KEY_BYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t cpk[KEY_BYTES], csk[KEY_BYTES], again[KEY_BYTES];
	struct keypair *kp = NULL;
	struct err e = {{0}};

	vf_hex_n(v, "seed", seed, sizeof seed);
	cr_assert_eq(keypair_from_seed(&kp, seed, &e), 0, "%s", e.msg);
	vf_assert_hex(v, "ed25519_public", keypair_public(kp), KEY_BYTES);
	crypto_sign_seed_keypair(pk, sk, seed);
	vf_assert_hex(v, "ed25519_public", pk, KEY_BYTES);
	vf_assert_hex(v, "ed25519_secret", sk, sizeof sk);
	/* Strata's conversion: of its own pair, and of a public key alone */
	cr_assert_eq(keypair_curve(kp, cpk, csk), 0);
	vf_assert_hex(v, "curve25519_public", cpk, KEY_BYTES);
	vf_assert_hex(v, "curve25519_secret", csk, KEY_BYTES);
	cr_assert_eq(key_to_curve(again, pk), 0);
	vf_assert_hex(v, "curve25519_public", again, KEY_BYTES);
	/* libsodium's, directly; and the secret gives the public key */
	cr_assert_eq(crypto_sign_ed25519_pk_to_curve25519(again, pk), 0);
	vf_assert_hex(v, "curve25519_public", again, KEY_BYTES);
	cr_assert_eq(crypto_sign_ed25519_sk_to_curve25519(again, sk), 0);
	vf_assert_hex(v, "curve25519_secret", again, KEY_BYTES);
	cr_assert_eq(crypto_scalarmult_base(again, csk), 0);
	vf_assert_hex(v, "curve25519_public", again, KEY_BYTES);
	check_key_file(v, kp);
	keypair_destroy(&kp);
	sodium_memzero(sk, sizeof sk);
}

static void check_signature(const json_t *v)
{
	uint8_t seed[SEED_BYTES], sig[SIG_BYTES], *msg, *signed_msg, *want;
	size_t ml, sl, wl;
	struct keypair *kp = NULL;
	struct err e = {{0}};
	const char *domain = vf_str(v, "domain");

	vf_hex_n(v, "seed", seed, sizeof seed);
	cr_assert_eq(keypair_from_seed(&kp, seed, &e), 0, "%s", e.msg);
	msg = vf_hex(v, "message", &ml);
	signed_msg = vf_hex(v, "signed_message", &sl);
	cr_assert_eq(sl, strlen(domain) + 1 + ml);
	cr_assert_eq(memcmp(signed_msg, domain, strlen(domain) + 1), 0, "the domain and its NUL come first");
	cr_assert_eq(memcmp(signed_msg + strlen(domain) + 1, msg, ml), 0);
	cr_assert_eq(keypair_sign(kp, domain, msg, ml, sig), 0);
	vf_assert_hex(v, "signature", sig, SIG_BYTES);
	want = vf_hex(v, "signature", &wl);
	cr_assert_eq(sig_verify(keypair_public(kp), domain, msg, ml, want), 0);
	cr_assert_eq(crypto_sign_verify_detached(want, signed_msg, sl, keypair_public(kp)), 0);
	free(want);
	free(msg);
	free(signed_msg);
	keypair_destroy(&kp);
}

static void check_raw(const json_t *v)
{
	uint8_t seed[SEED_BYTES], pk[KEY_BYTES], sk[crypto_sign_SECRETKEYBYTES], sig[SIG_BYTES], *msg;
	size_t ml;

	vf_hex_n(v, "seed", seed, sizeof seed);
	msg = vf_hex(v, "message", &ml);
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_sign_detached(sig, NULL, msg, ml, sk);
	vf_assert_hex(v, "signature", sig, SIG_BYTES);
	free(msg);
}

Test(vectors_keys, every_vector)
{
	json_t *doc = vf_load("keys");
	const json_t *v;
	size_t i, n = 0;

	cr_assert_eq(keys_init(), 0);
	json_array_foreach(json_object_get(doc, "vectors"), i, v)
	{
		const char *kind = vf_str(v, "kind");

		if (strcmp(kind, "key") == 0)
			check_key(v);
		else if (strcmp(kind, "signature") == 0)
			check_signature(v);
		else if (strcmp(kind, "raw-signature") == 0)
			check_raw(v);
		else
			cr_assert_fail("vector %zu: unknown kind %s", i, kind);
		n++;
	}
	cr_assert_eq(n, json_array_size(json_object_get(doc, "vectors")));
	json_decref(doc);
}

/* RFC 8032 section 7.1, test 1: the published public key and signature. */
Test(vectors_keys, rfc8032)
{
	json_t *doc = vf_load("keys");

	cr_assert_str_eq(vf_str(vf_vector(doc, "rfc8032-test1"), "ed25519_public"),
			 "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
	cr_assert_str_eq(vf_str(vf_vector(doc, "rfc8032-test1-raw"), "signature"),
			 "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
			 "d25bf5f0595bbe24655141438e7a100b");
	json_decref(doc);
}
