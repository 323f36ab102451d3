/* SPDX-License-Identifier: MIT */
/*
 * Untrusted text made safe to print: what a CSV cell, a record, an id, a
 * token, a peer's name or error string holds reaches a terminal or a log
 * only through here (or through jansson, which escapes JSON itself), so
 * that no byte it holds is taken as a terminal command. Printable UTF-8 is
 * kept (Chinese prints as Chinese); C0 controls, DEL, C1 controls
 * (U+0080..U+009F, which some terminals act on), the bidirectional
 * overrides and isolates (U+202A..U+202E, U+2066..U+2069, which reorder
 * what is shown) and every byte of invalid UTF-8 are written \xNN. A
 * backslash stays as it is: messages that describe a byte ("control byte
 * \x00") go through here whole. Here, at the bottom of the tree, so that
 * every layer that prints can use it.
 */
#include <stdbool.h>
#include <string.h>

#include "crypto/crypto.h"

/* The length of the valid UTF-8 sequence at p (1..4), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t left, unsigned long *cp)
{
	size_t need;
	unsigned long c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 1, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 2, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 3, c = p[0] & 0x07;
	else
		return 0;
	if (left <= need)
		return 0;
	for (size_t i = 1; i <= need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((need == 2 && c < 0x800) || (need == 3 && c < 0x10000) || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return need + 1;
}

static bool shown_as_is(unsigned long c)
{
	return !(c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
		 (c >= 0x2066 && c <= 0x2069));
}

size_t text_escape(char *out, size_t cap, const void *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = s;
	size_t o = 0, i = 0;

	if (!cap)
		return 0;
	while (i < len) {
		unsigned long c;
		size_t n = utf8_seq(p + i, len - i, &c);
		char buf[4 * TEXT_ESCAPE_EXPANSION];
		size_t bl = 0;

		if (n && shown_as_is(c)) {
			memcpy(buf, p + i, n);
			bl = n;
		} else {
			if (!n)
				n = 1; /* invalid UTF-8: this byte alone, then resync */
			for (size_t k = 0; k < n; k++) {
				buf[bl++] = '\\', buf[bl++] = 'x';
				buf[bl++] = hex[p[i + k] >> 4], buf[bl++] = hex[p[i + k] & 15];
			}
		}
		if (o + bl + 1 > cap) {
			/* cut at a whole character, with "..." if there is room */
			if (cap >= 4) {
				size_t end = o;

				while (o + 4 > cap)
					o--;
				while (o > 0 && o < end && ((unsigned char)out[o] & 0xc0) == 0x80)
					o--;
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, buf, bl);
		o += bl;
		i += n;
	}
	out[o] = '\0';
	return o;
}

#define ESC_RING 8
#define ESC_BYTES 1024

const char *esc_n(const void *s, size_t len)
{
	static _Thread_local char ring[ESC_RING][ESC_BYTES];
	static _Thread_local unsigned next;
	char *out = ring[next++ % ESC_RING];

	if (!s)
		return "(none)";
	text_escape(out, ESC_BYTES, s, len);
	return out;
}

const char *esc(const char *s)
{
	return esc_n(s, s ? strlen(s) : 0);
}
