/* SPDX-License-Identifier: MIT */
/*
 * Meetings (collection "meeting", feed "up", key id): organizational life,
 * "three meetings and one lesson", with attendance inline: members present
 * and absent, all of this branch's registry.
 */
#include <errno.h>
#include <string.h>

#include "node/records/records.h"

static const struct record_field fields[] = {
	{"id", FIELD_TEXT, FIELD_REQUIRED | FIELD_KEY, 64, "meeting id"},
	{"kind", FIELD_ENUM, FIELD_REQUIRED, 0, "branch-congress, committee-meeting, group-meeting, party-lecture"},
	{"date", FIELD_DATE, FIELD_REQUIRED, 0, "date held, YYYY-MM-DD"},
	{"topic", FIELD_TEXT, FIELD_REQUIRED, 200, "topic"},
	{"present", FIELD_MEMBERS, 0, 0, "members present, comma-separated ids"},
	{"absent", FIELD_MEMBERS, 0, 0, "members absent, comma-separated ids"},
	{"notes", FIELD_NOTES, 0, 500, "a note, e.g. reasons of absence (appended)"},
};

static int meeting_extra(const ProtobufCMessage *msg, struct err *e)
{
	const Strata__Meeting *m = (const Strata__Meeting *)msg;

	for (size_t i = 0; i < m->n_present; i++) {
		for (size_t j = 0; j < m->n_absent; j++)
			if (strcmp(m->present[i], m->absent[j]) == 0) {
				err_set(e, "meeting %s: member %s is both present and absent", m->id, m->present[i]);
				return -EINVAL;
			}
		for (size_t j = i + 1; j < m->n_present; j++)
			if (strcmp(m->present[i], m->present[j]) == 0) {
				err_set(e, "meeting %s: member %s is listed twice", m->id, m->present[i]);
				return -EINVAL;
			}
	}
	for (size_t i = 0; i < m->n_absent; i++)
		for (size_t j = i + 1; j < m->n_absent; j++)
			if (strcmp(m->absent[i], m->absent[j]) == 0) {
				err_set(e, "meeting %s: member %s is listed twice", m->id, m->absent[i]);
				return -EINVAL;
			}
	return 0;
}

const struct record_type record_meeting = {
	.collection = "meeting",
	.feed = "up",
	.descriptor = &strata__meeting__descriptor,
	.fields = fields,
	.n_fields = sizeof fields / sizeof fields[0],
	.noun = "meeting",
	.summary = "meetings and attendance: add, update, import, export, list, show",
	.validate_extra = meeting_extra,
};
