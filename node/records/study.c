/* SPDX-License-Identifier: MIT */
/*
 * Study records (collection "study", feed "up", key id): a member's study
 * time on a course, and the exam score if there was one.
 */
#include <errno.h>

#include "node/records/records.h"

static const struct record_field fields[] = {
	{"id", FIELD_TEXT, FIELD_REQUIRED | FIELD_KEY, 64, N_("study record id")},
	{"member", FIELD_MEMBER, FIELD_REQUIRED, 0, N_("member id")},
	{"course", FIELD_TEXT, FIELD_REQUIRED, 200, N_("course")},
	{"minutes", FIELD_COUNT, FIELD_REQUIRED, RECORD_MINUTES_MAX, N_("minutes studied, 0-1440")},
	{"score", FIELD_COUNT, 0, RECORD_SCORE_MAX, N_("exam score, 0-100")},
	{"date", FIELD_DATE, FIELD_REQUIRED | FIELD_PAST, 0, N_("date, YYYY-MM-DD")},
};
/* Chinese column names and enum words (fields.h struct record_zh): the
 * first of a field or word is what an export in Chinese writes. */
static const struct record_zh study_zh[] = {
	{"id", NULL, "编号"},
	{"member", NULL, "党员编号"},
	{"course", NULL, "课程"},
	{"minutes", NULL, "时长(分钟)"},
	{"minutes", NULL, "时长"},
	{"score", NULL, "成绩"},
	{"date", NULL, "日期"},
	{NULL, NULL, NULL},
};

/* Report figures: minutes studied in the period. */
static void study_figures(struct figures_ctx *c, const ProtobufCMessage *msg)
{
	const Strata__Study *s = (const Strata__Study *)msg;

	if (!figure_in_period(c, s->date))
		return;
	if (s->minutes < 0)
		c->ret = c->ret ? c->ret : -ERANGE;
	else
		FIGURE_ADD(c, study_minutes, (uint64_t)s->minutes);
}

const struct record_type record_study = {
	.collection = "study",
	.feed = FEED_UP,
	.descriptor = &strata__study__descriptor,
	.fields = fields,
	.n_fields = sizeof fields / sizeof fields[0],
	.zh = study_zh,
	.noun = N_("study record"),
	.summary = N_("study time and exam results: add, update, import, export, list, show"),
	.figures = study_figures,
	.residue = (const char *const[]){"id", "minutes", "date", NULL},
};
RECORD_REGISTER(60, record_study);
