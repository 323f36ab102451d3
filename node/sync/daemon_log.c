/* SPDX-License-Identifier: MIT */
/*
 * The daemon's log: one line per event on stderr, with a UTC timestamp and
 * the node's org path. Never a key's secret half: only public keys appear.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

void sync_log_line(void *arg, const char *line)
{
	sync_log(arg, "%s", line);
}

/* The slot of source id: its own, a free one, or one whose window ended
 * with nothing left to report; else the shared last slot. */
static struct refusal_source *source_slot(struct daemon *d, const char *id, uint64_t now)
{
	struct refusal_source *free_slot = NULL;

	for (size_t i = 0; i < SYNC_REFUSAL_SOURCES; i++) {
		struct refusal_source *s = &d->sources[i];

		if (s->id[0] && strcmp(s->id, id) == 0)
			return s;
		if (!free_slot && (!s->id[0] || (!s->suppressed && now - s->window_ms >= SYNC_REFUSAL_WINDOW_MS)))
			free_slot = s;
	}
	if (free_slot) {
		memset(free_slot, 0, sizeof *free_slot);
		snprintf(free_slot->id, sizeof free_slot->id, "%s", id);
		free_slot->window_ms = now;
		return free_slot;
	}
	free_slot = &d->sources[SYNC_REFUSAL_SOURCES];
	if (!free_slot->id[0]) {
		snprintf(free_slot->id, sizeof free_slot->id, "*");
		snprintf(free_slot->label, sizeof free_slot->label, "other sources (more than %u at once)",
			 SYNC_REFUSAL_SOURCES);
		free_slot->window_ms = now;
	}
	return free_slot;
}

bool sync_refusal_allow(struct daemon *d, const char *id, const char *label, uint64_t now)
{
	struct refusal_source *r = source_slot(d, id && id[0] ? id : "unknown", now);

	if (r != &d->sources[SYNC_REFUSAL_SOURCES])
		snprintf(r->label, sizeof r->label, "%s", label ? label : r->id);
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

bool sync_link_refusal_allow(struct link *l, uint64_t now)
{
	char id[8 + KEY_HEX];

	memcpy(id, "key:", 4);
	key_hex(id + 4, sync_link_key(l));
	return sync_refusal_allow(l->d, id, sync_link_name(l), now);
}

bool sync_frame_refusal_allow(struct daemon *d, uint64_t now)
{
	const char *uid = d->frame_uid ? d->frame_uid : "";
	char label[120];

	/* "key:HEX" names a certified key, "invite:HEX" a join token's key */
	snprintf(label, sizeof label, "%s %.64s", strncmp(uid, "invite:", 7) == 0 ? "the join key" : "the key",
		 strchr(uid, ':') ? strchr(uid, ':') + 1 : uid);
	return sync_refusal_allow(d, uid, label, now);
}

void sync_refusal_flush(struct daemon *d, uint64_t now)
{
	for (size_t i = 0; i <= SYNC_REFUSAL_SOURCES; i++) {
		struct refusal_source *r = &d->sources[i];

		if (!r->id[0] || now - r->window_ms < SYNC_REFUSAL_WINDOW_MS)
			continue;
		if (r->suppressed)
			sync_log(d, "%lu more refusals from %s suppressed in the last %u s (only the first %u of a "
				    "window are logged and answered)",
				 r->suppressed, r->label, (unsigned)((now - r->window_ms + 999) / 1000), SYNC_REFUSAL_BURST);
		r->id[0] = '\0';
		r->suppressed = 0;
		r->logged = 0;
	}
}
