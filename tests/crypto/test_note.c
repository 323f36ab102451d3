/* SPDX-License-Identifier: MIT */
/*
 * crypto/note: signed checkpoint notes (C2SP tlog-checkpoint, signed-note,
 * tlog-cosignature/v1): sign, parse, format round trip; cosignatures;
 * every malformed note refused with its reason; the C2SP published
 * examples (signed-note's verifier key and note; tlog-cosignature's line
 * layout and signed message).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "crypto/tlog.h"

static struct keypair *author, *witness, *witness2;
static struct checkpoint cp;

static void setup(void)
{
	uint8_t seed[SEED_BYTES];
	struct err e = {0};

	cr_assert_eq(keys_init(), 0);
	memset(seed, 0x11, sizeof seed);
	cr_assert_eq(keypair_from_seed(&author, seed, &e), 0);
	memset(seed, 0x22, sizeof seed);
	cr_assert_eq(keypair_from_seed(&witness, seed, &e), 0);
	memset(seed, 0x33, sizeof seed);
	cr_assert_eq(keypair_from_seed(&witness2, seed, &e), 0);
	memset(&cp, 0, sizeof cp);
	memcpy(cp.author, keypair_public(author), KEY_BYTES);
	strcpy(cp.feed, "up");
	cp.size = 1234;
	for (int i = 0; i < TLOG_HASH_BYTES; i++)
		cp.root[i] = (uint8_t)(i * 7);
}

static void teardown(void)
{
	keypair_destroy(&author);
	keypair_destroy(&witness);
	keypair_destroy(&witness2);
}

TestSuite(note, .init = setup, .fini = teardown);

static void signed_note(char *out, size_t *len)
{
	struct err e = {0};

	cr_assert_eq(note_sign_checkpoint(author, &cp, out, len, &e), 0, "%s", e.msg);
	out[*len] = '\0';
}

Test(note, body_is_the_c2sp_checkpoint_text)
{
	char body[CHECKPOINT_ORIGIN_MAX + 80], hex[KEY_HEX], want[300], b64[64];

	key_hex(hex, cp.author);
	sodium_bin2base64(b64, sizeof b64, cp.root, 32, sodium_base64_VARIANT_ORIGINAL);
	snprintf(want, sizeof want, "strata/%s/up\n1234\n%s\n", hex, b64);
	cr_assert_eq(checkpoint_body(body, sizeof body, &cp), strlen(want));
	cr_assert_str_eq(body, want);
}

Test(note, sign_parse_format_round_trip)
{
	char text[NOTE_MAX + 1], again[NOTE_MAX + 1], body[300];
	size_t len, len2;
	struct note n;
	struct err e = {0};
	uint8_t id[4];

	signed_note(text, &len);
	cr_assert_eq(note_parse(text, len, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n.cp.size, 1234);
	cr_assert_str_eq(n.cp.feed, "up");
	cr_assert_arr_eq(n.cp.author, cp.author, KEY_BYTES);
	cr_assert_arr_eq(n.cp.root, cp.root, 32);
	cr_assert_eq(n.n_sigs, 1);
	cr_assert_eq(n.sigs[0].alg, NOTE_ALG_ED25519);
	cr_assert(note_sig_verify(&n, 0));
	/* The signature is raw Ed25519 over the body, no domain prefix. */
	size_t blen = checkpoint_body(body, sizeof body, &cp);
	cr_assert_eq(sig_verify_raw(cp.author, (uint8_t *)body, blen, n.sigs[0].sig), 0);
	cr_assert_eq(strncmp(text, body, blen), 0);
	cr_assert_eq(text[blen], '\n');
	cr_assert_eq(strncmp(text + blen + 1, "\xe2\x80\x94 strata/", 11), 0);
	note_key_id(cp.author, NOTE_ALG_ED25519, id);
	cr_assert_eq(note_format(&n, again, &len2, &e), 0);
	cr_assert_eq(len2, len);
	cr_assert_arr_eq(again, text, len);
	/* A wrong key for the author is refused, a changed body no longer verifies. */
	cr_assert_eq(note_sign_checkpoint(witness, &cp, again, &len2, &e), -EINVAL);
	n.cp.size++;
	cr_assert_not(note_sig_verify(&n, 0));
	cr_assert_not(note_sig_verify(&n, 1));
}

Test(note, cosignatures_add_verify_and_order)
{
	char text[NOTE_MAX + 1], out[NOTE_MAX + 1], msg[400];
	size_t len, olen;
	struct note n, back;
	struct note_sig s1, s2;
	struct err e = {0};

	signed_note(text, &len);
	cr_assert_eq(note_parse(text, len, &n, &e), 0);
	cr_assert_eq(note_cosign(witness, &n, 1700000000, &s1, &e), 0);
	cr_assert_eq(note_cosign(witness2, &n, 1700000001, &s2, &e), 0);
	cr_assert_eq(note_add_sig(&n, &s2, &e), 0);
	cr_assert_eq(note_add_sig(&n, &s1, &e), 0);
	cr_assert_eq(note_add_sig(&n, &s1, &e), 0); /* same key and type: replaced */
	cr_assert_eq(n.n_sigs, 3);
	/* The cosigned message, built here from the C2SP text. */
	int ml = snprintf(msg, sizeof msg, "cosignature/v1\ntime 1700000000\n");
	ml += (int)checkpoint_body(msg + ml, sizeof msg - (size_t)ml, &cp);
	cr_assert_eq(sig_verify_raw(keypair_public(witness), (uint8_t *)msg, (size_t)ml, s1.sig), 0);
	cr_assert_eq(note_format(&n, out, &olen, &e), 0, "%s", e.msg);
	cr_assert_eq(note_parse(out, olen, &back, &e), 0, "%s", e.msg);
	cr_assert_eq(back.n_sigs, 3);
	cr_assert_eq(back.sigs[0].alg, NOTE_ALG_ED25519, "the author's line first");
	cr_assert_lt(memcmp(back.sigs[1].key, back.sigs[2].key, KEY_BYTES), 0, "then by key");
	for (size_t i = 0; i < 3; i++)
		cr_assert(note_sig_verify(&back, i), "line %zu", i);
	size_t w = back.sigs[1].alg == NOTE_ALG_COSIGNATURE && back.sigs[1].time == 1700000000 ? 1 : 2;
	cr_assert_eq(back.sigs[w].time, 1700000000);
	back.sigs[w].time++; /* the time is signed */
	cr_assert_not(note_sig_verify(&back, w));
	/* A cosignature is not a checkpoint signature: same key, other type. */
	back.sigs[w].time--;
	back.sigs[w].alg = NOTE_ALG_ED25519;
	cr_assert_not(note_sig_verify(&back, w));
	cr_assert_eq(note_cosign(witness, &n, (uint64_t)INT64_MAX + 1, &s1, &e), -EINVAL);
}

Test(note, too_many_signatures)
{
	char text[NOTE_MAX + 1];
	size_t len;
	struct note n;
	struct note_sig s;
	struct err e = {0};

	signed_note(text, &len);
	cr_assert_eq(note_parse(text, len, &n, &e), 0);
	for (int i = 1; i < NOTE_SIGS_MAX; i++) {
		cr_assert_eq(note_cosign(witness, &n, 1, &s, &e), 0);
		s.key[31] = (uint8_t)i; /* distinct keys: format only */
		cr_assert_eq(note_add_sig(&n, &s, &e), 0);
	}
	s.key[31] = 0xff;
	cr_assert_eq(note_add_sig(&n, &s, &e), -ENOSPC);
	cr_assert_str_neq(e.msg, "");
}

/* A copy of text with the first `from` replaced by `to`. */
static size_t replaced(char *out, const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);

	cr_assert_not_null(p, "test: no \"%s\" in the note", from);
	size_t a = (size_t)(p - text);
	memcpy(out, text, a);
	strcpy(out + a, to);
	strcat(out, p + strlen(from));
	return strlen(out);
}

static void refused(const char *text, size_t len, const char *why)
{
	struct note n;
	struct err e = {0};

	cr_assert_eq(note_parse(text, len, &n, &e), -EINVAL, "accepted (want \"%s\"): %.*s", why, (int)len, text);
	cr_assert_not_null(strstr(e.msg, why), "reason \"%s\", want \"%s\"", e.msg, why);
}

/* The base64 digit whose value differs from c's in the lowest bit. */
static char low_bit_flipped(char c)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(alpha, c);

	cr_assert_not_null(p);
	return alpha[(p - alpha) ^ 1];
}

Test(note, malformed_notes_refused_with_a_reason)
{
	char text[NOTE_MAX + 1], bad[2 * NOTE_MAX], hex[KEY_HEX], up[KEY_HEX], b64[64], tmp[200];
	size_t len;

	signed_note(text, &len);
	key_hex(hex, cp.author);
	strcpy(up, hex);
	for (char *p = up; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	sodium_bin2base64(b64, sizeof b64, cp.root, 32, sodium_base64_VARIANT_ORIGINAL);
	refused(bad, replaced(bad, text, "strata/", "strota/"), "line 1: the origin");
	refused(bad, replaced(bad, text, hex, up), "line 1: the origin");
	refused(bad, replaced(bad, text, "/up\n", "/Up\n"), "feed name holds");
	refused(bad, replaced(bad, text, "/up\n", "/\n"), "line 1");
	refused(bad, replaced(bad, text, "/up\n", "/abcdefghijabcdefghijabcdefghijabc\n"), "feed name of 33");
	refused(bad, replaced(bad, text, "\n1234\n", "\n0\n"), "line 2");
	refused(bad, replaced(bad, text, "\n1234\n", "\n01234\n"), "leading zeros");
	refused(bad, replaced(bad, text, "\n1234\n", "\n18446744073709551616\n"), "below 2^64");
	refused(bad, replaced(bad, text, "\n1234\n", "\n12a4\n"), "line 2");
	refused(bad, replaced(bad, text, "\n1234\n", "\n+1234\n"), "line 2");
	strcpy(tmp, b64);
	tmp[42] = low_bit_flipped(tmp[42]); /* a padding bit set: not canonical */
	refused(bad, replaced(bad, text, b64, tmp), "line 3");
	snprintf(tmp, sizeof tmp, "%.43s", b64); /* padding removed */
	refused(bad, replaced(bad, text, b64, tmp), "line 3");
	char from[100];
	snprintf(from, sizeof from, "%s\n\n", b64);
	snprintf(tmp, sizeof tmp, "%s\nextension\n\n", b64);
	refused(bad, replaced(bad, text, from, tmp), "extension lines are not allowed");
	refused(text, len - 1, "does not end with a newline");
	char *dash = strstr(text, "\xe2\x80\x94");
	refused(text, (size_t)(dash - text), "no signature line");
	refused(text, (size_t)(dash - text) - 1, "no empty line");
	refused(bad, replaced(bad, text, "\xe2\x80\x94 ", "-- "), "em dash");
	refused(bad, replaced(bad, text, "\xe2\x80\x94 strata/", "\xe2\x80\x94  strata/"), "key name then one space");
	refused(bad, replaced(bad, text, "\xe2\x80\x94 strata/", "\xe2\x80\x94 strata/0"), "64 lowercase hex");
	memcpy(bad, text, len);
	memcpy(bad + len, text + (dash - text), len - (size_t)(dash - text));
	refused(bad, len + len - (size_t)(dash - text), "second signature line");
	memcpy(bad, text, len);
	bad[5] = '\0';
	refused(bad, len, "NUL");
	refused(text, NOTE_MAX + 1, "at most");
}

/* A signature line's base64 changed: the key id, the length. */
Test(note, bad_signature_lines)
{
	char text[NOTE_MAX + 1], bad[NOTE_MAX + 1], b64[200], hex[KEY_HEX];
	uint8_t raw[100];
	size_t len, rlen;

	signed_note(text, &len);
	char *sp = strrchr(text, ' ');
	strcpy(b64, sp + 1);
	b64[strlen(b64) - 1] = '\0';
	cr_assert_eq(sodium_base642bin(raw, sizeof raw, b64, strlen(b64), NULL, &rlen, NULL,
				       sodium_base64_VARIANT_ORIGINAL), 0);
	cr_assert_eq(rlen, 68);
	raw[0] ^= 1;
	char t2[200];
	sodium_bin2base64(t2, sizeof t2, raw, rlen, sodium_base64_VARIANT_ORIGINAL);
	refused(bad, replaced(bad, text, b64, t2), "key id");
	raw[0] ^= 1;
	sodium_bin2base64(t2, sizeof t2, raw, rlen - 1, sodium_base64_VARIANT_ORIGINAL);
	refused(bad, replaced(bad, text, b64, t2), "signature of 67 bytes, not 68");
	note_key_id(cp.author, NOTE_ALG_COSIGNATURE, raw);
	sodium_bin2base64(t2, sizeof t2, raw, rlen, sodium_base64_VARIANT_ORIGINAL);
	refused(bad, replaced(bad, text, b64, t2), "cosignature of 68 bytes, not 76");
	refused(bad, replaced(bad, text, b64, "AAAA"), "not base64 of a key id");
	refused(bad, replaced(bad, text, b64, "!!!!"), "not base64");
	key_hex(hex, cp.author);
	refused(bad, replaced(bad, text, "\xe2\x80\x94 strata/", "\xe2\x80\x94 str+ta/"), "key name");
}

/* C2SP signed-note's published example: its verifier key and signed note
 * (https://c2sp.org/signed-note, "Verifier keys", Example). The key id
 * rule and raw Ed25519 over the text are the ones Strata's notes use; the
 * line of a foreign name is allowed in a checkpoint note and not kept. */
#define C2SP_VKEY "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
#define C2SP_TEXT "This is an example message.\n"
#define C2SP_SIG "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="

Test(note, c2sp_signed_note_example)
{
	uint8_t key[33], sig[68];
	size_t kl, sl;
	const char *kb = strrchr(C2SP_VKEY, '+') + 1;
	char text[NOTE_MAX + 1], with[NOTE_MAX + 200];
	size_t len;
	struct note n;
	struct err e = {0};

	cr_assert_eq(sodium_base642bin(key, sizeof key, kb, strlen(kb), NULL, &kl, NULL,
				       sodium_base64_VARIANT_ORIGINAL), 0);
	cr_assert_eq(kl, 33);
	cr_assert_eq(key[0], NOTE_ALG_ED25519);
	cr_assert_eq(sodium_base642bin(sig, sizeof sig, C2SP_SIG, strlen(C2SP_SIG), NULL, &sl, NULL,
				       sodium_base64_VARIANT_ORIGINAL), 0);
	cr_assert_eq(sl, 68);
	/* key id = SHA-256(name || 0x0A || 0x01 || key)[:4] */
	uint8_t h[32], buf[200];
	size_t bl = strlen("example.com/foo");
	memcpy(buf, "example.com/foo", bl);
	buf[bl++] = '\n';
	memcpy(buf + bl, key, 33);
	crypto_hash_sha256(h, buf, bl + 33);
	cr_assert_arr_eq(h, "\x53\x0d\x90\x3a", 4);
	cr_assert_arr_eq(sig, h, 4);
	cr_assert_eq(sig_verify_raw(key + 1, (const uint8_t *)C2SP_TEXT, strlen(C2SP_TEXT), sig + 4), 0);
	/* Strata's key id is the same rule over its own name. */
	char name[100], hex[KEY_HEX];
	uint8_t id[4];
	key_hex(hex, cp.author);
	bl = (size_t)snprintf(name, sizeof name, "strata/%s\n", hex);
	memcpy(buf, name, bl);
	buf[bl] = NOTE_ALG_ED25519;
	memcpy(buf + bl + 1, cp.author, 32);
	crypto_hash_sha256(h, buf, bl + 33);
	note_key_id(cp.author, NOTE_ALG_ED25519, id);
	cr_assert_arr_eq(id, h, 4);
	/* Its line in a Strata checkpoint note: allowed, not kept. */
	signed_note(text, &len);
	snprintf(with, sizeof with, "%s\xe2\x80\x94 example.com/foo %s\n", text, C2SP_SIG);
	cr_assert_eq(note_parse(with, strlen(with), &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n.n_sigs, 1);
	/* only foreign lines: nothing a Strata reader can use (found by fuzz_proof) */
	char *dash = strstr(text, "\xe2\x80\x94");
	snprintf(dash, sizeof text - (size_t)(dash - text), "\xe2\x80\x94 example.com/foo %s\n", C2SP_SIG);
	refused(text, strlen(text), "no signature line by a Strata key");
}

/* C2SP tlog-cosignature's published example line (its witness key is not
 * published, so the layout is what can be checked): base64 of key id (4)
 * || timestamp (8, big-endian) || Ed25519 signature (64), the timestamp
 * being the one of the spec's example signed message ("time 1679315147").
 * Strata's cosignature lines have exactly that layout and message. */
#define C2SP_COSIG "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="

Test(note, c2sp_cosignature_example_layout)
{
	uint8_t raw[100];
	size_t rl, len, ol;
	char text[NOTE_MAX + 1], out[NOTE_MAX + 1], msg[400];
	struct note n;
	struct note_sig s;
	struct err e = {0};

	cr_assert_eq(sodium_base642bin(raw, sizeof raw, C2SP_COSIG, strlen(C2SP_COSIG), NULL, &rl, NULL,
				       sodium_base64_VARIANT_ORIGINAL), 0);
	cr_assert_eq(rl, 4 + 8 + 64);
	cr_assert_eq(be64_get(raw + 4), 1679315147);
	signed_note(text, &len);
	cr_assert_eq(note_parse(text, len, &n, &e), 0);
	cr_assert_eq(note_cosign(witness, &n, 1679315147, &s, &e), 0);
	cr_assert_eq(note_add_sig(&n, &s, &e), 0);
	cr_assert_eq(note_format(&n, out, &ol, &e), 0);
	out[ol] = '\0';
	char name[100], hex[KEY_HEX];
	key_hex(hex, keypair_public(witness));
	snprintf(name, sizeof name, "\xe2\x80\x94 strata/%s ", hex);
	char *line = strstr(out, name);
	cr_assert_not_null(line);
	char *b = line + strlen(name);
	cr_assert_eq(sodium_base642bin(raw, sizeof raw, b, (size_t)(strchr(b, '\n') - b), NULL, &rl, NULL,
				       sodium_base64_VARIANT_ORIGINAL), 0);
	cr_assert_eq(rl, 76);
	uint8_t id[4];
	note_key_id(keypair_public(witness), NOTE_ALG_COSIGNATURE, id);
	cr_assert_arr_eq(raw, id, 4);
	cr_assert_eq(be64_get(raw + 4), 1679315147);
	int ml = snprintf(msg, sizeof msg, "cosignature/v1\ntime 1679315147\n");
	ml += (int)checkpoint_body(msg + ml, sizeof msg - (size_t)ml, &cp);
	cr_assert_eq(sig_verify_raw(keypair_public(witness), (uint8_t *)msg, (size_t)ml, raw + 12), 0);
	/* A foreign witness's cosignature line (the C2SP example) is kept out. */
	snprintf(text + len, sizeof text - len, "\xe2\x80\x94 witness.example.com/w1 %s\n", C2SP_COSIG);
	cr_assert_eq(note_parse(text, strlen(text), &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n.n_sigs, 1);
}

Test(note, vkey_is_name_id_and_key)
{
	char vk[NOTE_VKEY_MAX], want[NOTE_VKEY_MAX], hex[KEY_HEX], b64[64];
	uint8_t id[4], raw[33];

	key_hex(hex, cp.author);
	note_key_id(cp.author, NOTE_ALG_ED25519, id);
	raw[0] = 1;
	memcpy(raw + 1, cp.author, 32);
	sodium_bin2base64(b64, sizeof b64, raw, 33, sodium_base64_VARIANT_ORIGINAL);
	snprintf(want, sizeof want, "strata/%s+%02x%02x%02x%02x+%s", hex, id[0], id[1], id[2], id[3], b64);
	cr_assert_eq(note_vkey(vk, sizeof vk, cp.author), strlen(want));
	cr_assert_str_eq(vk, want);
}
