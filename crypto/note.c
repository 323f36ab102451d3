/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints as C2SP signed notes (crypto/tlog.h): the checkpoint body,
 * the author's Ed25519 signature line (type 0x01), witnesses' timestamped
 * cosignatures (C2SP tlog-cosignature/v1, type 0x04), and a strict parser.
 *
 * Decisions (docs/PROTOCOL.md "Checkpoints and proofs"):
 * - the parser accepts exactly what note_format writes, up to the order
 *   of signature lines and foreign lines: an origin "strata/<64 lowercase
 *   hex>/<feed>", a size in decimal without leading zeros (>= 1), a root
 *   of 32 bytes in canonical padded base64, no extension lines;
 * - a line whose name starts with "strata/" must name a key as 64
 *   lowercase hex digits and carry a key id of type 0x01 or 0x04 for that
 *   name and key, with the length of that type; anything else there is
 *   refused. A line of another name (another ecosystem's witness) is
 *   checked for form only and not kept;
 * - two lines of one key and one type are refused (a writer never makes
 *   them; a reader could otherwise count one witness twice).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "crypto/tlog.h"

#define NAME_PREFIX "strata/"
#define EM_DASH "\xe2\x80\x94 " /* U+2014 and a space: starts a signature line */
#define KEY_ID_BYTES 4
#define COSIG_HEADER "cosignature/v1\ntime "
#define ROOT_B64_LEN 44 /* base64 of 32 bytes, padded */
#define SIG_B64_MAX 128 /* base64 of key id || time || signature (76 bytes) */
#define BODY_MAX (CHECKPOINT_ORIGIN_MAX + 80)

static void key_id(const char *name, size_t nlen, uint8_t alg, const uint8_t key[KEY_BYTES],
		   uint8_t out[KEY_ID_BYTES])
{
	crypto_hash_sha256_state st;
	uint8_t h[crypto_hash_sha256_BYTES];
	const uint8_t sep[2] = {0x0a, alg};

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, nlen);
	crypto_hash_sha256_update(&st, sep, sizeof sep);
	crypto_hash_sha256_update(&st, key, KEY_BYTES);
	crypto_hash_sha256_final(&st, h);
	memcpy(out, h, KEY_ID_BYTES);
}

/* "strata/<hex>" into out (NOTE_NAME_MAX); returns its length. */
static size_t key_name(char out[NOTE_NAME_MAX], const uint8_t key[KEY_BYTES])
{
	char hex[KEY_HEX];

	key_hex(hex, key);
	return (size_t)snprintf(out, NOTE_NAME_MAX, NAME_PREFIX "%s", hex);
}

void note_key_id(const uint8_t key[KEY_BYTES], uint8_t alg, uint8_t out[4])
{
	char name[NOTE_NAME_MAX];
	size_t n = key_name(name, key);

	key_id(name, n, alg, key, out);
}

size_t note_vkey(char *out, size_t cap, const uint8_t key[KEY_BYTES])
{
	char name[NOTE_NAME_MAX], b64[sodium_base64_ENCODED_LEN(1 + KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	uint8_t id[KEY_ID_BYTES], raw[1 + KEY_BYTES];
	int n;

	key_name(name, key);
	note_key_id(key, NOTE_ALG_ED25519, id);
	raw[0] = NOTE_ALG_ED25519;
	memcpy(raw + 1, key, KEY_BYTES);
	sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(out, cap, "%s+%02x%02x%02x%02x+%s", name, id[0], id[1], id[2], id[3], b64);
	return n < 0 ? 0 : (size_t)n;
}

size_t checkpoint_body(char *out, size_t cap, const struct checkpoint *cp)
{
	char hex[KEY_HEX], b64[ROOT_B64_LEN + 1];
	int n;

	key_hex(hex, cp->author);
	sodium_bin2base64(b64, sizeof b64, cp->root, TLOG_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(out, cap, NAME_PREFIX "%s/%s\n%" PRIu64 "\n%s\n", hex, cp->feed, cp->size, b64);
	return n < 0 ? 0 : (size_t)n;
}

/* The message a cosignature signs: header, time line, body. */
static size_t cosigned_message(char *out, size_t cap, const struct checkpoint *cp, uint64_t t)
{
	int n = snprintf(out, cap, COSIG_HEADER "%" PRIu64 "\n", t);

	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n + checkpoint_body(out + n, cap - (size_t)n, cp);
}

static int sig_line(char *out, size_t cap, const struct note_sig *s)
{
	char name[NOTE_NAME_MAX], b64[SIG_B64_MAX];
	uint8_t raw[KEY_ID_BYTES + 8 + SIG_BYTES];
	size_t len = 0;

	key_name(name, s->key);
	note_key_id(s->key, s->alg, raw);
	len = KEY_ID_BYTES;
	if (s->alg == NOTE_ALG_COSIGNATURE) {
		be64_put(raw + len, s->time);
		len += 8;
	}
	memcpy(raw + len, s->sig, SIG_BYTES);
	len += SIG_BYTES;
	sodium_bin2base64(b64, sizeof b64, raw, len, sodium_base64_VARIANT_ORIGINAL);
	return snprintf(out, cap, EM_DASH "%s %s\n", name, b64);
}

int note_sign_checkpoint(const struct keypair *kp, const struct checkpoint *cp, char *out, size_t *len,
			 struct err *e)
{
	struct note n = {.cp = *cp, .n_sigs = 1};
	char body[BODY_MAX];
	size_t blen = checkpoint_body(body, sizeof body, cp);

	if (memcmp(keypair_public(kp), cp->author, KEY_BYTES) != 0) {
		err_set(e, "a checkpoint is signed by its feed's author only");
		return -EINVAL;
	}
	n.sigs[0].alg = NOTE_ALG_ED25519;
	memcpy(n.sigs[0].key, cp->author, KEY_BYTES);
	if (keypair_sign_raw(kp, (const uint8_t *)body, blen, n.sigs[0].sig) < 0) {
		err_set(e, "out of memory signing a checkpoint");
		return -ENOMEM;
	}
	return note_format(&n, out, len, e);
}

int note_cosign(const struct keypair *kp, const struct note *n, uint64_t t, struct note_sig *out,
		struct err *e)
{
	char msg[BODY_MAX + 64];
	size_t mlen;

	if (t > INT64_MAX) {
		err_set(e, "a cosignature's time %" PRIu64 " is past 2^63 - 1", t);
		return -EINVAL;
	}
	mlen = cosigned_message(msg, sizeof msg, &n->cp, t);
	memset(out, 0, sizeof *out);
	out->alg = NOTE_ALG_COSIGNATURE;
	out->time = t;
	memcpy(out->key, keypair_public(kp), KEY_BYTES);
	if (keypair_sign_raw(kp, (const uint8_t *)msg, mlen, out->sig) < 0) {
		err_set(e, "out of memory co-signing a checkpoint");
		return -ENOMEM;
	}
	return 0;
}

bool note_sig_verify(const struct note *n, size_t i)
{
	char msg[BODY_MAX + 64];
	size_t mlen;

	if (i >= n->n_sigs)
		return false;
	const struct note_sig *s = &n->sigs[i];
	if (s->alg == NOTE_ALG_ED25519)
		mlen = checkpoint_body(msg, sizeof msg, &n->cp);
	else if (s->alg == NOTE_ALG_COSIGNATURE && s->time <= INT64_MAX)
		mlen = cosigned_message(msg, sizeof msg, &n->cp, s->time);
	else
		return false;
	return sig_verify_raw(s->key, (const uint8_t *)msg, mlen, s->sig) == 0;
}

bool note_author_signed(const struct note *n)
{
	for (size_t i = 0; i < n->n_sigs; i++)
		if (n->sigs[i].alg == NOTE_ALG_ED25519 && memcmp(n->sigs[i].key, n->cp.author, KEY_BYTES) == 0)
			return note_sig_verify(n, i); /* one line per key and type (note_parse) */
	return false;
}

int note_add_sig(struct note *n, const struct note_sig *s, struct err *e)
{
	for (size_t i = 0; i < n->n_sigs; i++) {
		if (n->sigs[i].alg == s->alg && !memcmp(n->sigs[i].key, s->key, KEY_BYTES)) {
			n->sigs[i] = *s;
			return 0;
		}
	}
	if (n->n_sigs >= NOTE_SIGS_MAX) {
		err_set(e, "a checkpoint note holds at most %d signatures", NOTE_SIGS_MAX);
		return -ENOSPC;
	}
	n->sigs[n->n_sigs++] = *s;
	return 0;
}

/* Order of lines: the author's signature first, then by key, then type. */
static int sig_cmp(const struct note *n, const struct note_sig *a, const struct note_sig *b)
{
	bool aa = a->alg == NOTE_ALG_ED25519 && !memcmp(a->key, n->cp.author, KEY_BYTES);
	bool ba = b->alg == NOTE_ALG_ED25519 && !memcmp(b->key, n->cp.author, KEY_BYTES);
	int c;

	if (aa != ba)
		return aa ? -1 : 1;
	if ((c = memcmp(a->key, b->key, KEY_BYTES)) != 0)
		return c;
	return (int)a->alg - (int)b->alg;
}

int note_format(const struct note *n, char *out, size_t *len, struct err *e)
{
	size_t order[NOTE_SIGS_MAX], pos;

	if (n->n_sigs < 1 || n->n_sigs > NOTE_SIGS_MAX) {
		err_set(e, "a checkpoint note needs 1..%d signatures, not %zu", NOTE_SIGS_MAX, n->n_sigs);
		return -EINVAL;
	}
	for (size_t i = 0; i < n->n_sigs; i++) { /* insertion sort: at most 16 */
		size_t j = i;
		for (; j > 0 && sig_cmp(n, &n->sigs[i], &n->sigs[order[j - 1]]) < 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	pos = checkpoint_body(out, NOTE_MAX, &n->cp);
	out[pos++] = '\n';
	for (size_t i = 0; i < n->n_sigs; i++) {
		const struct note_sig *s = &n->sigs[order[i]];
		if (s->alg != NOTE_ALG_ED25519 && s->alg != NOTE_ALG_COSIGNATURE) {
			err_set(e, "a checkpoint note signature of unknown type 0x%02x", s->alg);
			return -EINVAL;
		}
		int w = sig_line(out + pos, NOTE_MAX - pos, s);
		if (w < 0 || (size_t)w >= NOTE_MAX - pos) {
			err_set(e, "a checkpoint note is longer than %d bytes", NOTE_MAX);
			return -ENOSPC;
		}
		pos += (size_t)w;
	}
	*len = pos;
	return 0;
}
