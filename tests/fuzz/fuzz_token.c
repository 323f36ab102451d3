/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the small parsers of text a person pastes or types: a
 * join token (sync_token_parse, what `strata join` reads first), hex keys,
 * dates, org paths and UTF-8 text checks, durations and numbers
 * (numbers.h: --expires, --timeout, strata.conf), and a token read from a
 * file (sync_token_read, then parsed). The first byte chooses the parser;
 * the rest, NUL-terminated (as a file: the bytes as they are), is the text.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "node/records/numbers.h"
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

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

static void duration(const char *s)
{
	uint64_t ms = 0, again = 0;
	size_t len = strlen(s);
	char back[32];
	int ret = duration_parse(s, 1000, 30ull * 24 * 3600 * 1000, &ms);

	if (ret != 0 && ret != -EINVAL && ret != -ERANGE)
		abort();
	if (ret != 0)
		return;
	/* digits and one unit, within the range after the unit */
	if (len < 2 || !strchr("smhd", s[len - 1]) || !all_digits(s, len - 1) || ms < 1000 ||
	    ms > 30ull * 24 * 3600 * 1000)
		abort();
	duration_format(back, sizeof back, ms);
	if (duration_parse(back, 1000, 30ull * 24 * 3600 * 1000, &again) != 0 || again != ms)
		abort();
}

static void number(const char *s)
{
	uint64_t v = 0;
	char back[32];
	const char *p = s;
	int ret = num_parse(s, 0, UINT64_MAX, &v);

	if (ret != 0 && ret != -EINVAL && ret != -ERANGE)
		abort();
	if (ret == -ERANGE && !all_digits(s, strlen(s)))
		abort(); /* only a number can be out of range */
	if (ret != 0)
		return;
	if (!all_digits(s, strlen(s)))
		abort();
	while (p[0] == '0' && p[1])
		p++;
	snprintf(back, sizeof back, "%llu", (unsigned long long)v);
	if (strcmp(back, p) != 0)
		abort();
	if (num_parse(s, 1, 64, &v) == 0 && (v < 1 || v > 64))
		abort();
}

/* The bytes as a token file: read with the mode checked, then parsed. */
static void token_file(const uint8_t *d, size_t n)
{
	static char path[300];
	struct err e = {{0}};
	char *tok = NULL;
	int fd, ret;

	if (!path[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

		snprintf(path, sizeof path, "%s/strata-fuzz-token-%ld", base, (long)getpid());
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 || fchmod(fd, 0600) < 0 ||
	    (n && write(fd, d, n) != (ssize_t)n) || close(fd) < 0)
		abort();
	ret = sync_token_read(path, -1, &tok, &e);
	if (ret == 0) {
		size_t len = strlen(tok);

		if (!len || len > SYNC_TOKEN_MAX || tok[0] == ' ' || tok[len - 1] == ' ')
			abort();
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)tok[i] < 0x20 || tok[i] == 0x7f)
				abort();
		token(tok);
		sync_token_free(tok);
	} else if (!e.msg[0] || tok) {
		abort();
	}
	/* the same bytes in a file that others can read are refused */
	memset(&e, 0, sizeof e);
	if (chmod(path, 0644) < 0 || sync_token_read(path, -1, &tok, &e) != -EPERM || tok)
		abort();
	unlink(path);
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
	switch (d[0] % 7) {
	case 0: token(s); break;
	case 1: hex(s); break;
	case 2: date(s); break;
	case 3: text(s, n - 1); break;
	case 4: duration(s); break;
	case 5: number(s); break;
	default: token_file(d + 1, n - 1); break;
	}
	free(s);
	return 0;
}
