/* SPDX-License-Identifier: MIT */
/*
 * report show --summary (issue 14): reporting rates per level below this
 * node, DHIS2's completeness and timeliness. Of the units expected for
 * the period (walk.c says who), how many reported, on time (by the
 * deadline, in the node's time zone) or late, and how many are missing;
 * rates are fractions of expected. The node itself is not counted; peers
 * are never expected; a unit revoked or certified after the period is
 * counted apart (not_expected) and listed with the reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/report/view_internal.h"

double report_rate(uint64_t part, uint64_t expected)
{
	return expected ? (double)part / (double)expected : 0.0;
}

struct tally {
	struct report_summary *s;
	report_row_fn fn;
	void *arg;
};

static void count(struct report_counts *c, const struct report_row *r)
{
	if (!r->expected) {
		c->not_expected++;
		return;
	}
	c->expected++;
	switch (r->status) {
	case REPORT_ON_TIME: c->reported++, c->on_time++; break;
	case REPORT_LATE: c->reported++, c->late++; break;
	case REPORT_MISSING: c->missing++; break;
	}
}

static int tally_row(const struct report_row *r, void *arg)
{
	struct tally *t = arg;

	/* the node itself and peers are outside the rates */
	if (r->event != REPORT_EV_UNIT || r->depth == 0 || r->peer || r->depth > REPORT_LEVELS_MAX)
		return 0;
	if (r->depth > t->s->levels)
		t->s->levels = r->depth;
	count(&t->s->level[r->depth], r);
	count(&t->s->total, r);
	if (t->fn && (!r->expected || r->status == REPORT_MISSING))
		return t->fn(r, t->arg);
	return 0;
}

int report_summary(struct node *n, const char *period, report_row_fn fn, void *arg, struct report_summary *s,
		   struct err *e)
{
	struct report_walk_opts o = {.tree = true, .figures = false};
	struct tally t = {.s = s, .fn = fn, .arg = arg};

	memset(s, 0, sizeof *s);
	s->period_end_ms = report_period_end_ms(period);
	return report_walk(n, period, &o, tally_row, &t, &s->deadline_ms, e);
}

/* --- as JSON --- */

struct sw {
	report_put_fn put;
	void *arg;
	size_t missing;
	FILE *apart;   /* the not_expected items, one a line, till the end */
	size_t n_apart;
	int ret;
};

/* Puts j on one line (jansson's default: ", " and ": "). */
static int put_line(report_put_fn put, void *arg, const char *before, json_t *j)
{
	char *s = json_dumps(j, 0);

	json_decref(j);
	if (!s)
		return -ENOMEM;
	put(before, arg);
	put(s, arg);
	free(s);
	return 0;
}

static int list_row(const struct report_row *r, void *arg)
{
	struct sw *w = arg;
	char hex[KEY_HEX];

	key_hex(hex, r->key);
	if (r->expected)
		return put_line(w->put, w->arg, w->missing++ ? ",\n    " : "\n    ",
				json_pack("{s:s, s:s, s:i, s:b}", "name", r->name, "key", hex, "level", (int)r->depth,
					  "overdue", r->overdue));
	if (w->apart) {
		json_t *j = json_pack("{s:s, s:s, s:i, s:s}", "name", r->name, "key", hex, "level", (int)r->depth, "why",
				      r->why_not ? r->why_not : "");
		char *s = json_dumps(j, 0);

		json_decref(j);
		if (!s)
			return -ENOMEM;
		fprintf(w->apart, "%s\n", s);
		free(s);
		w->n_apart++;
	}
	return 0;
}

static json_t *counts_json(const struct report_counts *c, int level)
{
	json_t *j = level > 0 ? json_pack("{s:i}", "level", level) : json_object();

	json_object_set_new(j, "expected", json_integer((json_int_t)c->expected));
	json_object_set_new(j, "reported", json_integer((json_int_t)c->reported));
	json_object_set_new(j, "on_time", json_integer((json_int_t)c->on_time));
	json_object_set_new(j, "late", json_integer((json_int_t)c->late));
	json_object_set_new(j, "missing", json_integer((json_int_t)c->missing));
	json_object_set_new(j, "not_expected", json_integer((json_int_t)c->not_expected));
	json_object_set_new(j, "reporting_rate", json_real(report_rate(c->reported, c->expected)));
	json_object_set_new(j, "on_time_rate", json_real(report_rate(c->on_time, c->expected)));
	return j;
}

/* The not_expected list kept aside, then the counts. */
static int put_tail(struct sw *w, const struct report_summary *s)
{
	char *line = NULL;
	size_t cap = 0, i = 0;
	ssize_t l;
	int ret = 0;

	w->put(w->missing ? "\n  ],\n  \"not_expected\": [" : "],\n  \"not_expected\": [", w->arg);
	rewind(w->apart);
	while ((l = getline(&line, &cap, w->apart)) > 0) {
		line[l - 1] = '\0';
		w->put(i++ ? ",\n    " : "\n    ", w->arg);
		w->put(line, w->arg);
	}
	free(line);
	w->put(i ? "\n  ],\n  \"levels\": [" : "],\n  \"levels\": [", w->arg);
	for (unsigned d = 1; d <= s->levels && !ret; d++)
		ret = put_line(w->put, w->arg, d > 1 ? ",\n    " : "\n    ", counts_json(&s->level[d], (int)d));
	w->put(s->levels ? "\n  ],\n  \"total\": " : "],\n  \"total\": ", w->arg);
	if (!ret)
		ret = put_line(w->put, w->arg, "", counts_json(&s->total, 0));
	w->put("\n}\n", w->arg);
	return ret;
}

int report_summary_write(struct node *n, const char *period, report_put_fn put, void *arg, struct err *e)
{
	struct sw w = {.put = put, .arg = arg};
	struct report_summary s;
	char when[REPORT_ISO_SIZE], head[96 + REPORT_ISO_SIZE];
	int ret;

	if (!report_period_valid(period)) {
		err_set(e, "period \"%s\" is not a month YYYY-MM", period);
		return -EINVAL;
	}
	if (!(w.apart = tmpfile())) {
		ret = -errno;
		err_set(e, "a temporary file for the list of units not expected: %s", strerror(errno));
		return ret;
	}
	report_iso_utc(when, report_deadline_ms(period, node_config(n)->report_deadline_day));
	snprintf(head, sizeof head, "{\n  \"period\": \"%s\",\n  \"deadline\": \"%s\",\n  \"not_reported\": [", period,
		 when);
	put(head, arg);
	if ((ret = report_summary(n, period, list_row, &w, &s, e)) == 0 && (ret = put_tail(&w, &s)) < 0)
		err_set(e, "out of memory");
	else if (ret == -ENOMEM)
		err_set(e, "out of memory");
	fclose(w.apart);
	return ret;
}
