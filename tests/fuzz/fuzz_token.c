/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the small parsers of text a person pastes or types: a
 * join token (sync_token_parse, what `strata join` reads first), hex keys,
 * dates, org paths and UTF-8 text checks. The first byte chooses the
 * parser; the rest, NUL-terminated, is the text.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/records/records.h"
#include "node/sync/sync_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void token(const char *s)
{
	Strata__JoinToken *tok = NULL;
	struct err e = {{0}};

	if (sync_token_parse(s, &tok, &e) < 0) {
		if (!e.msg[0] || tok)
			abort();
		return;
	}
	if (tok->parent.len != KEY_BYTES || tok->root.len != KEY_BYTES || tok->secret.len != SEED_BYTES)
		abort();
	sodium_memzero(tok->secret.data, tok->secret.len);
	strata__join_token__free_unpacked(tok, NULL);
}

static void hex(const char *s)
{
	uint8_t out[64];
	char back[129];
	size_t len = strlen(s);

	if (len > 128 || len % 2) {
		if (hex_decode(out, len / 2 + 1, s) == 0)
			abort(); /* the wrong length never decodes */
		return;
	}
	if (hex_decode(out, len / 2, s) < 0)
		return;
	hex_encode(back, out, len / 2);
	for (size_t i = 0; i < len; i++)
		if (back[i] != (s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]))
			abort();
}

static void date(const char *s)
{
	if (!date_valid(s))
		return;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		abort();
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			abort();
}

static void text(const char *s, size_t len)
{
	if (text_valid(s, len) && !utf8_valid(s, len))
		abort();
	if (org_path_valid(s) && (!text_valid(s, strlen(s)) || s[0] == '/'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s;

	if (keys_init() < 0) /* as the CLI does first: sodium_malloc needs it */
		abort();
	if (n < 1)
		return 0;
	if (!(s = malloc(n)))
		abort();
	memcpy(s, d + 1, n - 1);
	s[n - 1] = '\0';
	switch (d[0] % 4) {
	case 0: token(s); break;
	case 1: hex(s); break;
	case 2: date(s); break;
	default: text(s, n - 1); break;
	}
	free(s);
	return 0;
}
