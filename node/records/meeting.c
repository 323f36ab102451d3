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
	{"id", FIELD_TEXT, FIELD_REQUIRED | FIELD_KEY, 64, N_("meeting id")},
	{"kind", FIELD_ENUM, FIELD_REQUIRED, 0, N_("branch-congress, committee-meeting, group-meeting, party-lecture")},
	{"date", FIELD_DATE, FIELD_REQUIRED, 0, N_("date held, YYYY-MM-DD")},
	{"topic", FIELD_TEXT, FIELD_REQUIRED, 200, N_("topic")},
	{"present", FIELD_MEMBERS, 0, 0, N_("members present, comma-separated ids")},
	{"absent", FIELD_MEMBERS, 0, 0, N_("members absent, comma-separated ids")},
	{"notes", FIELD_NOTES, 0, 500, N_("a note, e.g. reasons of absence (appended)")},
};
/* Chinese column names and enum words (fields.h struct record_zh): the
 * first of a field or word is what an export in Chinese writes. */
static const struct record_zh meeting_zh[] = {
	{"id", NULL, "编号"},
	{"kind", NULL, "类型"},
	{"kind", NULL, "会议类型"},
	{"date", NULL, "日期"},
	{"topic", NULL, "主题"},
	{"present", NULL, "出席"},
	{"absent", NULL, "缺席"},
	{"notes", NULL, "备注"},
	{"kind", "branch-congress", "支部党员大会"},
	{"kind", "branch-congress", "党员大会"},
	{"kind", "branch-congress", "组织生活会"},
	{"kind", "committee-meeting", "支委会"},
	{"kind", "committee-meeting", "支部委员会"},
	{"kind", "group-meeting", "党小组会"},
	{"kind", "party-lecture", "党课"},
	{NULL, NULL, NULL},
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

/* Report figures: the period's meetings by kind, and attendance summed
 * over them (expected: present + absent). */
static void meeting_figures(struct figures_ctx *c, const ProtobufCMessage *msg)
{
	const Strata__Meeting *m = (const Strata__Meeting *)msg;

	if (!figure_in_period(c, m->date))
		return;
	FIGURE_ADD(c, meetings_branch_congress, m->kind == STRATA__MEETING_KIND__KIND_BRANCH_CONGRESS);
	FIGURE_ADD(c, meetings_committee, m->kind == STRATA__MEETING_KIND__KIND_COMMITTEE_MEETING);
	FIGURE_ADD(c, meetings_group, m->kind == STRATA__MEETING_KIND__KIND_GROUP_MEETING);
	FIGURE_ADD(c, meetings_lecture, m->kind == STRATA__MEETING_KIND__KIND_PARTY_LECTURE);
	FIGURE_ADD(c, attendance_present, m->n_present);
	FIGURE_ADD(c, attendance_expected, m->n_present);
	FIGURE_ADD(c, attendance_expected, m->n_absent);
}

static void meeting_figures_json(const Strata__Figures *f, json_t *o)
{
	json_object_set_new(o, "attendance_rate",
			    f->attendance_expected ? json_real((double)f->attendance_present / (double)f->attendance_expected)
						   : json_null());
}

const struct record_type record_meeting = {
	.collection = "meeting",
	.feed = FEED_UP,
	.descriptor = &strata__meeting__descriptor,
	.fields = fields,
	.n_fields = sizeof fields / sizeof fields[0],
	.zh = meeting_zh,
	.noun = N_("meeting"),
	.summary = N_("meetings and attendance: add, update, import, export, list, show"),
	.validate_extra = meeting_extra,
	.figures = meeting_figures,
	.figures_json = meeting_figures_json,
	.residue = (const char *const[]){"id", "kind", "date", "present#", "absent#", NULL},
};
RECORD_REGISTER(50, record_meeting);
