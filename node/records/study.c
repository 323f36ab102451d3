/* SPDX-License-Identifier: MIT */
/*
 * Study records (collection "study", feed "up", key id): a member's study
 * time on a course, and the exam score if there was one.
 */
#include <errno.h>

#include "node/records/records.h"

static const struct record_field fields[] = {
	{"id", FIELD_TEXT, FIELD_REQUIRED | FIELD_KEY, 64, "study record id"},
	{"member", FIELD_MEMBER, FIELD_REQUIRED, 0, "member id"},
	{"course", FIELD_TEXT, FIELD_REQUIRED, 200, "course"},
	{"minutes", FIELD_COUNT, FIELD_REQUIRED, 0, "minutes studied"},
	{"score", FIELD_COUNT, 0, 0, "exam score, 0-100"},
	{"date", FIELD_DATE, FIELD_REQUIRED | FIELD_PAST, 0, "date, YYYY-MM-DD"},
};

static int study_extra(const ProtobufCMessage *msg, struct err *e)
{
	const Strata__Study *s = (const Strata__Study *)msg;

	if (s->has_score && s->score > 100) {
		err_set(e, "study %s: score %lld is above 100", s->id, (long long)s->score);
		return -EINVAL;
	}
	if (s->minutes > 24 * 60) {
		err_set(e, "study %s: %lld minutes is more than a day", s->id, (long long)s->minutes);
		return -EINVAL;
	}
	return 0;
}

const struct record_type record_study = {
	.collection = "study",
	.feed = "up",
	.descriptor = &strata__study__descriptor,
	.fields = fields,
	.n_fields = sizeof fields / sizeof fields[0],
	.noun = "study record",
	.summary = "study time and exam results: add, update, import, export, list, show",
	.validate_extra = study_extra,
};
