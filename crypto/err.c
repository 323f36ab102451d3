/* SPDX-License-Identifier: MIT */
/*
 * struct err: one human reason per failure, written once by the code that
 * knows what went wrong, with optional context prepended by callers.
 */
#include <libintl.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"

void err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, dgettext(ERR_TEXTDOMAIN, fmt), ap);
	va_end(ap);
}

void err_prefix(struct err *e, const char *fmt, ...)
{
	char old[sizeof e->msg];
	size_t n;
	int w;
	va_list ap;

	if (!e)
		return;
	memcpy(old, e->msg, sizeof old);
	va_start(ap, fmt);
	w = vsnprintf(e->msg, sizeof e->msg, dgettext(ERR_TEXTDOMAIN, fmt), ap);
	va_end(ap);
	n = w < 0 ? 0 : (size_t)w;
	if (old[0] && n + 2 < sizeof e->msg) {
		memcpy(e->msg + n, ": ", 2);
		/* a reason too long for what is left is cut, never overflowed */
		size_t room = sizeof e->msg - n - 3, len = strlen(old);

		memcpy(e->msg + n + 2, old, len < room ? len : room);
		e->msg[n + 2 + (len < room ? len : room)] = '\0';
	}
}
