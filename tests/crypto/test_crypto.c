/* SPDX-License-Identifier: MIT */
/*
 * crypto: known-answer vectors for BLAKE2b-256 and Ed25519 (RFC 8032), the
 * domain prefix, tampering, hex codecs, key files and their permissions,
 * and the CURVE conversion.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "crypto/crypto.h"

static char dir[64];

static void setup(void)
{
	cr_assert_eq(keys_init(), 0);
	strcpy(dir, "/tmp/strata-crypto-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static void unhex(uint8_t *out, size_t n, const char *hex)
{
	cr_assert_eq(hex_decode(out, n, hex), 0, "bad test vector %s", hex);
}

Test(crypto_hash, blake2b_256_vectors)
{
	uint8_t h[HASH_BYTES], want[HASH_BYTES];
	char hex[2 * HASH_BYTES + 1];

	/* BLAKE2b-256 of "abc" and of the empty string (reference values). */
	hash_blake2b(h, (const uint8_t *)"abc", 3);
	unhex(want, sizeof want, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
	cr_assert_arr_eq(h, want, sizeof h);
	hash_blake2b(h, NULL, 0);
	hex_encode(hex, h, sizeof h);
	cr_assert_str_eq(hex, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

/* RFC 8032 section 7.1, TEST 2: a one-byte message. */
#define RFC_SEED "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
#define RFC_PK "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
#define RFC_SIG                                                                                    \
	"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"                         \
	"085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"

Test(crypto_sig, rfc8032_key_and_raw_signature)
{
	uint8_t seed[SEED_BYTES], pk[KEY_BYTES], sig[SIG_BYTES], want[SIG_BYTES];
	uint8_t msg = 0x72, curve_pk[KEY_BYTES], curve_sk[KEY_BYTES];
	struct keypair *kp = NULL;
	struct err e = {0};

	unhex(seed, sizeof seed, RFC_SEED);
	unhex(pk, sizeof pk, RFC_PK);
	unhex(want, sizeof want, RFC_SIG);
	cr_assert_eq(keypair_from_seed(&kp, seed, &e), 0, "%s", e.msg);
	cr_assert_arr_eq(keypair_public(kp), pk, KEY_BYTES);
	/* Our keys are plain Ed25519: the RFC signature verifies with them. */
	cr_assert_eq(crypto_sign_ed25519_verify_detached(want, &msg, 1, pk), 0);
	/* Domain-prefixed signing is Ed25519 over DOMAIN NUL MSG, nothing else. */
	cr_assert_eq(keypair_sign(kp, DOMAIN_CHANGESET, &msg, 1, sig), 0);
	uint8_t framed[sizeof DOMAIN_CHANGESET + 1];
	memcpy(framed, DOMAIN_CHANGESET, sizeof DOMAIN_CHANGESET); /* includes the NUL */
	framed[sizeof DOMAIN_CHANGESET] = msg;
	cr_assert_eq(crypto_sign_ed25519_verify_detached(sig, framed, sizeof framed, pk), 0);
	cr_assert_eq(sig_verify(pk, DOMAIN_CHANGESET, &msg, 1, sig), 0);
	/* The same signature is not valid in another domain, nor unprefixed. */
	cr_assert_eq(sig_verify(pk, DOMAIN_CERT, &msg, 1, sig), -EBADMSG);
	cr_assert_neq(crypto_sign_ed25519_verify_detached(sig, &msg, 1, pk), 0);
	/* CURVE conversion: the converted secret key yields the converted public key. */
	uint8_t derived[KEY_BYTES], conv[KEY_BYTES];
	cr_assert_eq(keypair_curve(kp, curve_pk, curve_sk), 0);
	cr_assert_eq(crypto_scalarmult_base(derived, curve_sk), 0);
	cr_assert_arr_eq(derived, curve_pk, KEY_BYTES);
	cr_assert_eq(key_to_curve(conv, pk), 0);
	cr_assert_arr_eq(conv, curve_pk, KEY_BYTES);
	sodium_memzero(curve_sk, sizeof curve_sk);
	keypair_destroy(&kp);
	cr_assert_null(kp);
	keypair_destroy(&kp); /* NULL-safe */
}

Test(crypto_sig, any_flipped_bit_fails)
{
	struct keypair *kp = NULL;
	struct err e = {0};
	uint8_t msg[300], sig[SIG_BYTES], pk[KEY_BYTES];

	cr_assert_eq(keypair_generate(&kp, &e), 0, "%s", e.msg);
	memcpy(pk, keypair_public(kp), sizeof pk);
	randombytes_buf(msg, sizeof msg);
	cr_assert_eq(keypair_sign(kp, DOMAIN_CHANGESET, msg, sizeof msg, sig), 0);
	cr_assert_eq(sig_verify(pk, DOMAIN_CHANGESET, msg, sizeof msg, sig), 0);
	for (size_t i = 0; i < sizeof msg * 8; i++) {
		msg[i / 8] ^= (uint8_t)(1u << (i % 8));
		cr_assert_eq(sig_verify(pk, DOMAIN_CHANGESET, msg, sizeof msg, sig), -EBADMSG, "msg bit %zu", i);
		msg[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	for (size_t i = 0; i < sizeof sig * 8; i++) {
		sig[i / 8] ^= (uint8_t)(1u << (i % 8));
		cr_assert_eq(sig_verify(pk, DOMAIN_CHANGESET, msg, sizeof msg, sig), -EBADMSG, "sig bit %zu", i);
		sig[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	pk[0] ^= 1;
	cr_assert_eq(sig_verify(pk, DOMAIN_CHANGESET, msg, sizeof msg, sig), -EBADMSG);
	keypair_destroy(&kp);
}

Test(crypto_sig, large_message_uses_heap_path)
{
	struct keypair *kp = NULL;
	struct err e = {0};
	size_t n = 1 << 20;
	uint8_t *msg = calloc(1, n), sig[SIG_BYTES];

	cr_assert_not_null(msg);
	cr_assert_eq(keypair_generate(&kp, &e), 0);
	cr_assert_eq(keypair_sign(kp, DOMAIN_CHANGESET, msg, n, sig), 0);
	cr_assert_eq(sig_verify(keypair_public(kp), DOMAIN_CHANGESET, msg, n, sig), 0);
	msg[n - 1] = 1;
	cr_assert_eq(sig_verify(keypair_public(kp), DOMAIN_CHANGESET, msg, n, sig), -EBADMSG);
	free(msg);
	keypair_destroy(&kp);
}

Test(crypto_hex, round_trip_and_rejects)
{
	uint8_t in[4] = {0x00, 0xab, 0x7f, 0xff}, out[4];
	char hex[9];

	hex_encode(hex, in, 4);
	cr_assert_str_eq(hex, "00ab7fff");
	cr_assert_eq(hex_decode(out, 4, "00AB7FFF"), 0);
	cr_assert_arr_eq(in, out, 4);
	cr_assert_eq(hex_decode(out, 4, "00ab7ff"), -EINVAL);
	cr_assert_eq(hex_decode(out, 4, "00ab7fff0"), -EINVAL);
	cr_assert_eq(hex_decode(out, 4, "00ab7fgf"), -EINVAL);
	cr_assert_eq(hex_decode(out, 4, NULL), -EINVAL);
}

Test(crypto_err, first_reason_wins_and_prefix_adds_context)
{
	struct err e = {0};

	err_set(&e, "row %d: bad date", 17);
	err_set(&e, "something later");
	cr_assert_str_eq(e.msg, "row 17: bad date");
	err_prefix(&e, "members.csv");
	cr_assert_str_eq(e.msg, "members.csv: row 17: bad date");
	err_set(NULL, "ignored");
	err_prefix(NULL, "ignored");
}

TestSuite(crypto_keyfile, .init = setup, .fini = teardown);

Test(crypto_keyfile, save_load_round_trip_mode_0600)
{
	struct keypair *kp = NULL, *back = NULL;
	struct err e = {0};
	char path[128];
	struct stat st;

	snprintf(path, sizeof path, "%s/node.key", dir);
	cr_assert_eq(keypair_generate(&kp, &e), 0);
	umask(0);
	cr_assert_eq(keypair_save(kp, path, &e), 0, "%s", e.msg);
	umask(022);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(keypair_load(&back, path, &e), 0, "%s", e.msg);
	cr_assert_arr_eq(keypair_public(kp), keypair_public(back), KEY_BYTES);
	/* never overwrites an existing key */
	cr_assert_eq(keypair_save(kp, path, &e), -EEXIST);
	keypair_destroy(&kp);
	keypair_destroy(&back);
}

Test(crypto_keyfile, refuses_readable_by_others)
{
	struct keypair *kp = NULL, *back = NULL;
	struct err e = {0};
	char path[128];

	snprintf(path, sizeof path, "%s/node.key", dir);
	cr_assert_eq(keypair_generate(&kp, &e), 0);
	cr_assert_eq(keypair_save(kp, path, &e), 0);
	cr_assert_eq(chmod(path, 0640), 0);
	cr_assert_eq(keypair_load(&back, path, &e), -EPERM);
	cr_assert_not_null(strstr(e.msg, "0640"), "%s", e.msg);
	cr_assert_null(back);
	cr_assert_eq(chmod(path, 0604), 0);
	memset(&e, 0, sizeof e);
	cr_assert_eq(keypair_load(&back, path, &e), -EPERM);
	keypair_destroy(&kp);
}

Test(crypto_keyfile, refuses_garbage_and_missing)
{
	struct keypair *back = NULL;
	struct err e = {0};
	char path[128];
	int fd;

	snprintf(path, sizeof path, "%s/missing.key", dir);
	cr_assert_eq(keypair_load(&back, path, &e), -ENOENT);
	snprintf(path, sizeof path, "%s/bad.key", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "not a key\n", 10), 10);
	close(fd);
	memset(&e, 0, sizeof e);
	cr_assert_eq(keypair_load(&back, path, &e), -EINVAL);
	cr_assert_not_null(strstr(e.msg, "not a Strata key file"), "%s", e.msg);
	cr_assert_null(back);
}
