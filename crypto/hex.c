/* SPDX-License-Identifier: MIT */
/*
 * Hex codecs for keys and hashes: lowercase out, either case in, exact
 * lengths only.
 */
#include <errno.h>
#include <string.h>

#include "crypto/crypto.h"

void hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(uint8_t *out, size_t n, const char *hex)
{
	if (!hex || strlen(hex) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void key_hex(char out[KEY_HEX], const uint8_t key[KEY_BYTES])
{
	hex_encode(out, key, KEY_BYTES);
}
