/* SPDX-License-Identifier: MIT */
/*
 * The daemon's log: one line per event on stderr, with a UTC timestamp and
 * the node's org path. Never a key's secret half: only public keys appear.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "node/sync/sync_internal.h"

void sync_log(const struct daemon *d, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	char msg[2048], out[4 * sizeof msg];
	va_list ap;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	/* a line may quote what a peer sent (names, error strings): escaped */
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	text_escape(out, sizeof out, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
	fprintf(stderr, "%s.%03ldZ %s: %s\n", when, ts.tv_nsec / 1000000, node_name(d->n), out);
}

bool refusal_allow(struct refusal_limit *r, uint64_t now)
{
	if (now - r->window_ms >= SYNC_REFUSAL_WINDOW_MS && !r->suppressed) {
		r->window_ms = now;
		r->logged = 0;
	}
	if (r->logged < SYNC_REFUSAL_BURST) {
		r->logged++;
		return true;
	}
	r->suppressed++;
	return false;
}

void refusal_flush(const struct daemon *d, struct refusal_limit *r, const char *who, uint64_t now)
{
	if (!r->suppressed || now - r->window_ms < SYNC_REFUSAL_WINDOW_MS)
		return;
	sync_log(d, "%lu more refused messages from %s in the last %u s (only the first %u logged and answered)",
		 r->suppressed, who, (unsigned)((now - r->window_ms + 999) / 1000), SYNC_REFUSAL_BURST);
	r->suppressed = 0;
	r->logged = 0;
	r->window_ms = now;
}
