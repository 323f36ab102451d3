/* SPDX-License-Identifier: MIT */
/*
 * report show's JSON (issue 14): the walk's rows written out unit by unit
 * (report_view_write), or gathered into one tree (report_view). Both give
 * the same document: {"period", "deadline", "node": UNIT}, a UNIT being
 * the row's object with "children" and "peers" arrays when it lists them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/report/view_internal.h"

#define JSON_DEPTH_MAX (REPORT_LEVELS_MAX + 2) /* every unit's depth, and the root */

/* --- written as the walk goes --- */

struct writer {
	report_put_fn put;
	void *arg;
	size_t items[JSON_DEPTH_MAX]; /* items so far in the open array of each depth */
	int ret;
};

static void spaces(struct writer *w, unsigned n)
{
	static const char blank[] = "                                                                ";

	while (n) {
		unsigned k = n < sizeof blank - 1 ? n : (unsigned)(sizeof blank - 1);

		w->put(blank + sizeof blank - 1 - k, w->arg);
		n -= k;
	}
}

/* Writes j as JSON_INDENT(2) at indentation IND; with open, without its
 * closing brace (its children follow). */
static void put_indented(struct writer *w, const json_t *j, unsigned ind, bool open)
{
	char *s = json_dumps(j, JSON_INDENT(2)), *p, *nl;

	if (!s) {
		w->ret = -ENOMEM;
		return;
	}
	if (open) {
		size_t l = strlen(s);

		if (l >= 2 && s[l - 1] == '}' && s[l - 2] == '\n')
			s[l - 2] = '\0';
	}
	for (p = s; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		w->put(p, w->arg);
		w->put("\n", w->arg);
		spaces(w, ind);
	}
	w->put(p, w->arg);
	free(s);
}

static unsigned indent_of(unsigned depth)
{
	return 2 + 4 * depth; /* the node in the root; each level in an array inside its parent */
}

/* Closes the open array of the unit at DEPTH. */
static void close_array(struct writer *w, unsigned depth)
{
	if (w->items[depth]) {
		w->put("\n", w->arg);
		spaces(w, indent_of(depth) + 2);
	}
	w->put("]", w->arg);
}

static int write_row(const struct report_row *r, void *arg)
{
	struct writer *w = arg;
	unsigned d = r->depth, ind = indent_of(d);

	if (d + 1 >= JSON_DEPTH_MAX)
		return -E2BIG;
	switch (r->event) {
	case REPORT_EV_UNIT:
		if (d > 0) {
			w->put(w->items[d - 1]++ ? ",\n" : "\n", w->arg);
			spaces(w, ind);
		}
		put_indented(w, r->unit, ind, r->lists);
		if (r->lists) {
			w->put(",\n", w->arg);
			spaces(w, ind + 2);
			w->put("\"children\": [", w->arg);
			w->items[d] = 0;
		}
		break;
	case REPORT_EV_PEERS:
		close_array(w, d);
		w->put(",\n", w->arg);
		spaces(w, ind + 2);
		w->put("\"peers\": [", w->arg);
		w->items[d] = 0;
		break;
	case REPORT_EV_END:
		close_array(w, d);
		w->put("\n", w->arg);
		spaces(w, ind);
		w->put("}", w->arg);
		break;
	}
	return w->ret;
}

int report_view_write(struct node *n, const char *period, bool tree, report_put_fn put, void *arg, struct err *e)
{
	struct report_walk_opts o = {.tree = tree, .figures = true};
	struct writer w = {.put = put, .arg = arg};
	char when[REPORT_ISO_SIZE], head[64 + REPORT_ISO_SIZE];
	uint64_t deadline = report_deadline_ms(period, node_config(n)->report_deadline_day);
	int ret;

	if (!report_period_valid(period)) {
		err_set(e, "period \"%s\" is not a month YYYY-MM", period);
		return -EINVAL;
	}
	report_iso_utc(when, deadline);
	snprintf(head, sizeof head, "{\n  \"period\": \"%s\",\n  \"deadline\": \"%s\",\n  \"node\": ", period, when);
	put(head, arg);
	if ((ret = report_walk(n, period, &o, write_row, &w, NULL, e)) < 0) {
		if (ret == -ENOMEM || ret == -E2BIG)
			err_set(e, ret == -ENOMEM ? "out of memory" : "the tree is deeper than %d levels", REPORT_LEVELS_MAX);
		return ret;
	}
	put("\n}\n", arg);
	return 0;
}

/* --- gathered into one tree --- */

struct builder {
	json_t *root;
	json_t *open[JSON_DEPTH_MAX]; /* the unit of each depth being filled */
	json_t *arr[JSON_DEPTH_MAX];  /* its array being filled (children, then peers) */
};

static int build_row(const struct report_row *r, void *arg)
{
	struct builder *b = arg;
	unsigned d = r->depth;

	if (d + 1 >= JSON_DEPTH_MAX)
		return -E2BIG;
	switch (r->event) {
	case REPORT_EV_UNIT:
		if (d == 0)
			b->root = json_incref(r->unit);
		else
			json_array_append(b->arr[d - 1], r->unit);
		if (r->lists) {
			b->open[d] = r->unit;
			b->arr[d] = json_array();
			json_object_set_new(r->unit, "children", b->arr[d]);
		}
		break;
	case REPORT_EV_PEERS:
		b->arr[d] = json_array();
		json_object_set_new(b->open[d], "peers", b->arr[d]);
		break;
	case REPORT_EV_END:
		break;
	}
	return 0;
}

int report_view(struct node *n, const char *period, bool tree, json_t **out, struct err *e)
{
	struct report_walk_opts o = {.tree = tree, .figures = true};
	struct builder b = {0};
	char when[REPORT_ISO_SIZE];
	uint64_t deadline;
	int ret;

	if ((ret = report_walk(n, period, &o, build_row, &b, &deadline, e)) < 0) {
		if (ret == -E2BIG)
			err_set(e, "the tree is deeper than %d levels", REPORT_LEVELS_MAX);
		json_decref(b.root);
		return ret;
	}
	report_iso_utc(when, deadline);
	*out = json_pack("{s:s, s:s, s:o}", "period", period, "deadline", when, "node", b.root);
	return 0;
}
