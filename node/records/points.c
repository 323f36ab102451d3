/* SPDX-License-Identifier: MIT */
/*
 * Points (collection "points", feed "up", key member/period): points-based
 * assessment of a member's work in a month; a deduction is negative.
 */
#include <string.h>

#include "node/records/records.h"

static const struct record_field fields[] = {
	{"member", FIELD_MEMBER, FIELD_REQUIRED | FIELD_KEY, 0, N_("member id")},
	{"period", FIELD_PERIOD, FIELD_REQUIRED | FIELD_KEY, 0, N_("month, YYYY-MM")},
	{"points", FIELD_INT, FIELD_REQUIRED, RECORD_POINTS_MAX, N_("points (negative for a deduction), -1000000..1000000")},
	{"reason", FIELD_TEXT, FIELD_REQUIRED, 200, N_("why")},
};
/* Chinese column names and enum words (fields.h struct record_zh): the
 * first of a field or word is what an export in Chinese writes. */
static const struct record_zh points_zh[] = {
	{"member", NULL, "党员编号"},
	{"member", NULL, "编号"},
	{"period", NULL, "月份"},
	{"points", NULL, "积分"},
	{"reason", NULL, "事由"},
	{NULL, NULL, NULL},
};

/* Report figures: the period's points, either sign. */
static void points_figures(struct figures_ctx *c, const ProtobufCMessage *msg)
{
	const Strata__Points *p = (const Strata__Points *)msg;

	if (strcmp(p->period, c->period) == 0)
		FIGURE_ADD(c, points, p->points);
}

const struct record_type record_points = {
	.collection = "points",
	.feed = FEED_UP,
	.descriptor = &strata__points__descriptor,
	.fields = fields,
	.n_fields = sizeof fields / sizeof fields[0],
	.zh = points_zh,
	.noun = N_("points record"),
	.summary = N_("points-based assessment per member and month"),
	.figures = points_figures,
	.figures_signed = (const char *const[]){"points", NULL},
	.residue = (const char *const[]){"period", "points", NULL},
};
RECORD_REGISTER(70, record_points);
