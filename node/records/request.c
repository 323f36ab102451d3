/* SPDX-License-Identifier: MIT */
/*
 * Residents' service requests (collection "request", feed "up", key id): a
 * request to the community, with its status and dated progress notes. A
 * closed request has a closed date, not before it was opened.
 *
 * How to reach the resident is not part of it: the levels above need the
 * request's progress, not the resident's phone number. The contact is a
 * record of its own (collection "request_contact", feed "private", same
 * key), typed with the request (--contact), that stays at the node serving
 * the resident unless its [privacy] contact_levels says otherwise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"

static const struct record_field fields[] = {
	{"id", FIELD_TEXT, FIELD_REQUIRED | FIELD_KEY, 64, N_("request id")},
	{"title", FIELD_TEXT, FIELD_REQUIRED, 200, N_("title")},
	{"description", FIELD_TEXT, 0, 2000, N_("description")},
	{"opened", FIELD_DATE, FIELD_REQUIRED | FIELD_PAST, 0, N_("date opened, YYYY-MM-DD")},
	{"status", FIELD_ENUM, FIELD_REQUIRED, 0, N_("open, in-progress, closed")},
	{"notes", FIELD_NOTES, 0, 500, "a progress note, \"YYYY-MM-DD: text\" (appended)"},
	{"closed", FIELD_DATE, FIELD_PAST, 0, N_("date closed, YYYY-MM-DD")},
};
/* Chinese column names and enum words (fields.h struct record_zh): the
 * first of a field or word is what an export in Chinese writes. */
static const struct record_zh request_zh[] = {
	{"id", NULL, "编号"},
	{"title", NULL, "标题"},
	{"description", NULL, "描述"},
	{"opened", NULL, "受理日期"},
	{"status", NULL, "状态"},
	{"notes", NULL, "进展"},
	{"closed", NULL, "办结日期"},
	{"status", "open", "待办理"},
	{"status", "in-progress", "办理中"},
	{"status", "closed", "已办结"},
	{NULL, NULL, NULL},
};

static int request_extra(const ProtobufCMessage *msg, struct err *e)
{
	const Strata__Request *r = (const Strata__Request *)msg;
	bool closed = r->status == STRATA__REQUEST_STATUS__REQUEST_CLOSED;

	if (closed && !r->closed) {
		err_set(e, "request %s: a closed request needs its closed date", r->id);
		return -EINVAL;
	}
	if (!closed && r->closed) {
		err_set(e, "request %s: only a closed request has a closed date", r->id);
		return -EINVAL;
	}
	if (r->closed && strcmp(r->closed, r->opened) < 0) {
		err_set(e, "request %s: closed %s before it was opened %s", r->id, r->closed, r->opened);
		return -EINVAL;
	}
	return 0;
}

/* Report figures: requests opened and closed in the period (with the days
 * each took to close), and those still open at its end. */
static void request_figures(struct figures_ctx *c, const ProtobufCMessage *msg)
{
	const Strata__Request *q = (const Strata__Request *)msg;

	FIGURE_ADD(c, requests_opened, figure_in_period(c, q->opened));
	if (q->closed && figure_in_period(c, q->closed)) {
		FIGURE_ADD(c, requests_closed, 1);
		FIGURE_APPEND(c, close_days, (uint32_t)(date_days(q->closed) - date_days(q->opened)));
	}
	if (strcmp(q->opened, c->end) <= 0 && (!q->closed || strcmp(q->closed, c->end) > 0))
		FIGURE_ADD(c, requests_open, 1);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The median of the days to close (the upper one of an even count). */
static void request_figures_json(const Strata__Figures *f, json_t *o)
{
	uint32_t *v = f->n_close_days ? malloc(f->n_close_days * sizeof *v) : NULL;
	json_t *med = json_null();

	if (v) {
		memcpy(v, f->close_days, f->n_close_days * sizeof *v);
		qsort(v, f->n_close_days, sizeof *v, u32_cmp);
		med = json_integer(v[f->n_close_days / 2]);
	}
	free(v);
	json_object_set_new(o, "request_close_days_median", med);
}

const struct record_type record_request = {
	.collection = "request",
	.feed = FEED_UP,
	.descriptor = &strata__request__descriptor,
	.fields = fields,
	.n_fields = sizeof fields / sizeof fields[0],
	.zh = request_zh,
	.noun = N_("service request"),
	.summary = N_("residents' service requests with progress: add, update, list, show, ..."),
	.validate_extra = request_extra,
	.companion = &record_request_contact,
	.figures = request_figures,
	.figures_json = request_figures_json,
	.residue = (const char *const[]){"id", "opened", "status", "closed", NULL},
};
RECORD_REGISTER(80, record_request);

static const struct record_field contact_fields[] = {
	{"id", FIELD_TEXT, FIELD_REQUIRED | FIELD_KEY, 64, N_("request id")},
	{"contact", FIELD_TEXT, 0, 100,
	 N_("resident's name and phone number; stays at this node (feed private, [privacy] contact_levels)")},
};
static const struct record_zh contact_zh[] = {
	{"id", NULL, "编号"},
	{"contact", NULL, "联系方式"},
	{NULL, NULL, NULL},
};

const struct record_type record_request_contact = {
	.collection = "request_contact",
	.feed = FEED_PRIVATE,
	.descriptor = &strata__request_contact__descriptor,
	.fields = contact_fields,
	.n_fields = sizeof contact_fields / sizeof contact_fields[0],
	.zh = contact_zh,
	.noun = N_("resident's contact"),
	.summary = N_("how to reach the resident of a request (typed with strata request)"),
};
RECORD_REGISTER(81, record_request_contact);
