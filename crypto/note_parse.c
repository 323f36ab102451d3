/* SPDX-License-Identifier: MIT */
/*
 * Reading a signed checkpoint note (crypto/tlog.h note_parse): the exact
 * format of note.c, every byte accounted for; a reason names the line and
 * what is wrong. Signatures are not checked here (note_sig_verify).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <sodium.h>

#include "crypto/tlog.h"

#define NAME_PREFIX "strata/"
#define NAME_PREFIX_LEN 7
#define EM_DASH "\xe2\x80\x94 "
#define EM_DASH_LEN 4
#define KEY_ID_BYTES 4
#define ROOT_B64_LEN 44
#define FEED_NAME_MAX 32
#define SIG_RAW_MAX 512 /* a foreign signature's decoded bytes we accept */

struct cursor {
	const char *p;
	size_t len, pos;
	unsigned line;
};

/* The next line (without its newline) into *s, *n; false at the end or
 * when the text does not end in a newline. */
static bool next_line(struct cursor *c, const char **s, size_t *n)
{
	const char *nl;

	if (c->pos >= c->len)
		return false;
	nl = memchr(c->p + c->pos, '\n', c->len - c->pos);
	if (!nl)
		return false;
	*s = c->p + c->pos;
	*n = (size_t)(nl - *s);
	c->pos += *n + 1;
	c->line++;
	return true;
}

static bool feed_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int parse_origin(const char *s, size_t n, struct checkpoint *cp, struct err *e)
{
	char hex[KEY_HEX];

	if (n < NAME_PREFIX_LEN + 64 + 2 || memcmp(s, NAME_PREFIX, NAME_PREFIX_LEN) != 0 ||
	    s[NAME_PREFIX_LEN + 64] != '/' || !lower_hex(s + NAME_PREFIX_LEN, 64)) {
		err_set(e, "checkpoint line 1: the origin must be strata/<64 lowercase hex>/<feed>");
		return -EINVAL;
	}
	memcpy(hex, s + NAME_PREFIX_LEN, 64);
	hex[64] = '\0';
	if (hex_decode(cp->author, KEY_BYTES, hex) < 0) {
		err_set(e, "checkpoint line 1: the author key is not hex");
		return -EINVAL;
	}
	const char *f = s + NAME_PREFIX_LEN + 65;
	size_t fl = n - (NAME_PREFIX_LEN + 65);
	if (fl < 1 || fl > FEED_NAME_MAX) {
		err_set(e, "checkpoint line 1: a feed name of %zu bytes (1..%d)", fl, FEED_NAME_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < fl; i++) {
		if (!feed_char(f[i])) {
			err_set(e, "checkpoint line 1: the feed name holds a byte other than a-z 0-9 _ -");
			return -EINVAL;
		}
	}
	memcpy(cp->feed, f, fl);
	cp->feed[fl] = '\0';
	return 0;
}

static int parse_size(const char *s, size_t n, uint64_t *out, struct err *e)
{
	uint64_t v = 0;

	if (n < 1 || n > 20 || s[0] == '0') {
		err_set(e, "checkpoint line 2: the size must be a decimal number >= 1 without leading zeros");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10) {
			err_set(e, "checkpoint line 2: the size is not a decimal number below 2^64");
			return -EINVAL;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Canonical base64 (standard alphabet, padded, zero trailing bits): decodes
 * and re-encodes to compare. -1 if s is not the encoding of *n bytes. */
static int b64_decode(uint8_t *out, size_t cap, size_t *n, const char *s, size_t len)
{
	char again[2 * SIG_RAW_MAX];

	if (len >= sizeof again ||
	    sodium_base642bin(out, cap, s, len, NULL, n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	sodium_bin2base64(again, sizeof again, out, *n, sodium_base64_VARIANT_ORIGINAL);
	return strlen(again) == len && memcmp(again, s, len) == 0 ? 0 : -1;
}

static int parse_body(struct cursor *c, struct checkpoint *cp, struct err *e)
{
	const char *s;
	size_t n, got;
	int ret;

	memset(cp, 0, sizeof *cp);
	if (!next_line(c, &s, &n)) {
		err_set(e, "checkpoint: no origin line");
		return -EINVAL;
	}
	if ((ret = parse_origin(s, n, cp, e)) < 0)
		return ret;
	if (!next_line(c, &s, &n)) {
		err_set(e, "checkpoint: no size line");
		return -EINVAL;
	}
	if ((ret = parse_size(s, n, &cp->size, e)) < 0)
		return ret;
	if (!next_line(c, &s, &n)) {
		err_set(e, "checkpoint: no root hash line");
		return -EINVAL;
	}
	if (n != ROOT_B64_LEN || b64_decode(cp->root, sizeof cp->root, &got, s, n) < 0 || got != TLOG_HASH_BYTES) {
		err_set(e, "checkpoint line 3: the root hash must be 32 bytes in padded standard base64");
		return -EINVAL;
	}
	if (!next_line(c, &s, &n)) {
		err_set(e, "checkpoint: no empty line after the body (a note needs a signature)");
		return -EINVAL;
	}
	if (n != 0) {
		err_set(e, "checkpoint line 4: extension lines are not allowed in a Strata checkpoint");
		return -EINVAL;
	}
	return 0;
}

/* A key name per C2SP signed-note: non-empty, no space, no '+', no control. */
static bool name_ok(const char *s, size_t n)
{
	if (n < 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == '+' || s[i] == 0x7f)
			return false;
	return true;
}

/* A Strata name's line: its key, its type from the key id, its length. */
static int strata_sig(const char *name, size_t nlen, const uint8_t *raw, size_t rlen, unsigned line,
		      struct note_sig *out, struct err *e)
{
	char hex[KEY_HEX];
	uint8_t id[KEY_ID_BYTES];

	memset(out, 0, sizeof *out);
	if (nlen != NAME_PREFIX_LEN + 64 || !lower_hex(name + NAME_PREFIX_LEN, 64)) {
		err_set(e, "checkpoint note line %u: a strata/ key name must be strata/<64 lowercase hex>", line);
		return -EINVAL;
	}
	memcpy(hex, name + NAME_PREFIX_LEN, 64);
	hex[64] = '\0';
	if (hex_decode(out->key, KEY_BYTES, hex) < 0)
		return -EINVAL;
	note_key_id(out->key, NOTE_ALG_ED25519, id);
	if (!memcmp(id, raw, KEY_ID_BYTES)) {
		out->alg = NOTE_ALG_ED25519;
	} else {
		note_key_id(out->key, NOTE_ALG_COSIGNATURE, id);
		if (memcmp(id, raw, KEY_ID_BYTES) != 0) {
			err_set(e, "checkpoint note line %u: the key id is neither a signature (0x01) nor a "
				   "cosignature (0x04) of that key", line);
			return -EINVAL;
		}
		out->alg = NOTE_ALG_COSIGNATURE;
	}
	size_t want = KEY_ID_BYTES + SIG_BYTES + (out->alg == NOTE_ALG_COSIGNATURE ? 8 : 0);
	if (rlen != want) {
		err_set(e, "checkpoint note line %u: a %s of %zu bytes, not %zu", line,
			out->alg == NOTE_ALG_ED25519 ? "signature" : "cosignature", rlen, want);
		return -EINVAL;
	}
	if (out->alg == NOTE_ALG_COSIGNATURE) {
		out->time = be64_get(raw + KEY_ID_BYTES);
		if (out->time > INT64_MAX) {
			err_set(e, "checkpoint note line %u: a cosignature time past 2^63 - 1", line);
			return -EINVAL;
		}
	}
	memcpy(out->sig, raw + rlen - SIG_BYTES, SIG_BYTES);
	return 0;
}

static int parse_sig_line(const char *s, size_t n, unsigned line, struct note *out, struct err *e)
{
	uint8_t raw[SIG_RAW_MAX];
	size_t rlen;
	struct note_sig sig;
	int ret;

	if (n < EM_DASH_LEN || memcmp(s, EM_DASH, EM_DASH_LEN) != 0) {
		err_set(e, "checkpoint note line %u: a signature line starts with an em dash and a space", line);
		return -EINVAL;
	}
	const char *name = s + EM_DASH_LEN, *sp = memchr(name, ' ', n - EM_DASH_LEN);
	size_t nlen = sp ? (size_t)(sp - name) : 0;
	if (!sp || !name_ok(name, nlen)) {
		err_set(e, "checkpoint note line %u: a key name then one space then the signature", line);
		return -EINVAL;
	}
	const char *b = sp + 1;
	size_t blen = n - EM_DASH_LEN - nlen - 1;
	if (b64_decode(raw, sizeof raw, &rlen, b, blen) < 0 || rlen < KEY_ID_BYTES + 1) {
		err_set(e, "checkpoint note line %u: the signature is not base64 of a key id and a signature", line);
		return -EINVAL;
	}
	if (nlen < NAME_PREFIX_LEN || memcmp(name, NAME_PREFIX, NAME_PREFIX_LEN) != 0)
		return 0; /* a foreign key's line: allowed, not kept */
	if ((ret = strata_sig(name, nlen, raw, rlen, line, &sig, e)) < 0)
		return ret;
	for (size_t i = 0; i < out->n_sigs; i++) {
		if (out->sigs[i].alg == sig.alg && !memcmp(out->sigs[i].key, sig.key, KEY_BYTES)) {
			err_set(e, "checkpoint note line %u: a second signature line of one key and type", line);
			return -EINVAL;
		}
	}
	if (out->n_sigs >= NOTE_SIGS_MAX) {
		err_set(e, "checkpoint note line %u: more than %d signatures", line, NOTE_SIGS_MAX);
		return -EINVAL;
	}
	out->sigs[out->n_sigs++] = sig;
	return 0;
}

int note_parse(const char *text, size_t len, struct note *out, struct err *e)
{
	struct cursor c = {.p = text, .len = len};
	const char *s;
	size_t n;
	unsigned lines = 0;
	int ret;

	memset(out, 0, sizeof *out);
	if (!text || len > NOTE_MAX) {
		err_set(e, "checkpoint note of %zu bytes (at most %d)", len, NOTE_MAX);
		return -EINVAL;
	}
	if (memchr(text, '\0', len)) {
		err_set(e, "checkpoint note holds a NUL byte");
		return -EINVAL;
	}
	if ((ret = parse_body(&c, &out->cp, e)) < 0)
		return ret;
	while (next_line(&c, &s, &n)) {
		if ((ret = parse_sig_line(s, n, c.line, out, e)) < 0)
			return ret;
		lines++;
	}
	if (c.pos != len) {
		err_set(e, "checkpoint note: the last line does not end with a newline");
		return -EINVAL;
	}
	if (lines == 0) {
		err_set(e, "checkpoint note: no signature line");
		return -EINVAL;
	}
	if (out->n_sigs == 0) {
		err_set(e, "checkpoint note: no signature line by a Strata key (strata/<hex>)");
		return -EINVAL;
	}
	return 0;
}
