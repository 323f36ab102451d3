/* SPDX-License-Identifier: MIT */
/*
 * Democratic appraisal (民主评议; collection "appraisal", feed "up", key
 * year/subject): once a year each member of a branch is graded excellent
 * (优秀), qualified (合格), basically qualified (基本合格) or unqualified
 * (不合格), with the votes cast for each grade, and so is the branch itself.
 *
 * Decisions:
 * - The subject is a member id of this branch's registry, or the word
 *   "branch" for the branch's own appraisal (so a member id "branch" cannot
 *   be appraised): one record type, one key space, one CSV.
 * - The grade must have received at least one vote: an appraisal is decided
 *   by the votes behind it, but a branch may weigh them (a grade need not
 *   be the one with the most votes), so this is the one rule that never
 *   contradicts practice. Each vote count is 0..RECORD_NUMBER_MAX.
 * - The date it was held lies in its year and not in the future.
 * - Report figures count the appraisals held in the report's month, by
 *   grade: members (appraisal_*) and the branch's own (branch_appraisal_*),
 *   so that a street's roll-up shows how many members and how many branches
 *   got each grade. The residue keeps year, subject, grade and date.
 *
 * This file and the message in strata.proto are the whole of it: fields,
 * rules, CSV columns, figures, residue and registration.
 */
#include <errno.h>
#include <string.h>

#include "node/records/records.h"

#define SUBJECT_BRANCH "branch"

static const struct record_field fields[] = {
	{"year", FIELD_TEXT, FIELD_REQUIRED | FIELD_KEY, 4, N_("year appraised, YYYY")},
	{"subject", FIELD_TEXT, FIELD_REQUIRED | FIELD_KEY, 64, "member id, or \"branch\" for the branch itself"},
	{"grade", FIELD_ENUM, FIELD_REQUIRED, 0, N_("excellent, qualified, basically-qualified, unqualified")},
	{"votes_excellent", FIELD_COUNT, FIELD_REQUIRED, 0, N_("votes for excellent")},
	{"votes_qualified", FIELD_COUNT, FIELD_REQUIRED, 0, N_("votes for qualified")},
	{"votes_basically_qualified", FIELD_COUNT, FIELD_REQUIRED, 0, N_("votes for basically qualified")},
	{"votes_unqualified", FIELD_COUNT, FIELD_REQUIRED, 0, N_("votes for unqualified")},
	{"date", FIELD_DATE, FIELD_REQUIRED | FIELD_PAST, 0, N_("date held, YYYY-MM-DD, in the year")},
};
/* Chinese column names and enum words (fields.h struct record_zh): the
 * first of a field or word is what an export in Chinese writes. */
static const struct record_zh appraisal_zh[] = {
	{"year", NULL, "年度"},
	{"subject", NULL, "评议对象"},
	{"grade", NULL, "等次"},
	{"votes_excellent", NULL, "优秀票数"},
	{"votes_qualified", NULL, "合格票数"},
	{"votes_basically_qualified", NULL, "基本合格票数"},
	{"votes_unqualified", NULL, "不合格票数"},
	{"date", NULL, "评议日期"},
	{"grade", "excellent", "优秀"},
	{"grade", "qualified", "合格"},
	{"grade", "basically-qualified", "基本合格"},
	{"grade", "unqualified", "不合格"},
	{NULL, NULL, NULL},
};

static int64_t votes_for(const Strata__Appraisal *a)
{
	switch (a->grade) {
	case STRATA__APPRAISAL_GRADE__GRADE_EXCELLENT:
		return a->votes_excellent;
	case STRATA__APPRAISAL_GRADE__GRADE_QUALIFIED:
		return a->votes_qualified;
	case STRATA__APPRAISAL_GRADE__GRADE_BASICALLY_QUALIFIED:
		return a->votes_basically_qualified;
	default:
		return a->votes_unqualified;
	}
}

static int appraisal_extra(const ProtobufCMessage *msg, struct err *e)
{
	const Strata__Appraisal *a = (const Strata__Appraisal *)msg;
	char first[RECORD_DATE_SIZE];

	snprintf(first, sizeof first, "%.4s-01-01", a->year);
	if (strlen(a->year) != 4 || !date_valid(first)) {
		err_set(e, "appraisal: year \"%s\" is not a year YYYY", a->year);
		return -EINVAL;
	}
	if (strncmp(a->date, a->year, 4) != 0) {
		err_set(e, "appraisal %s/%s: held %s, not in its year", a->year, a->subject, a->date);
		return -EINVAL;
	}
	if (votes_for(a) < 1) {
		err_set(e, "appraisal %s/%s: the grade it gives received no vote", a->year, a->subject);
		return -EINVAL;
	}
	return 0;
}

/* A member appraised is one of this branch's registry. */
static int appraisal_input(const ProtobufCMessage *msg, struct store_txn *t, const uint8_t owner[KEY_BYTES], struct err *e)
{
	const Strata__Appraisal *a = (const Strata__Appraisal *)msg;
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};

	if (strcmp(a->subject, SUBJECT_BRANCH) == 0 ||
	    store_state_get(t, "member", owner, (const uint8_t *)a->subject, strlen(a->subject), &v, &vl, NULL,
			    &ignore) == 0)
		return 0;
	err_set(e, "appraisal: member %s is not in this branch's registry", a->subject);
	return -ESRCH;
}

static void appraisal_figures(struct figures_ctx *c, const ProtobufCMessage *msg)
{
	const Strata__Appraisal *a = (const Strata__Appraisal *)msg;
	Strata__AppraisalGrade g = a->grade;

	if (!figure_in_period(c, a->date))
		return;
	if (strcmp(a->subject, SUBJECT_BRANCH) == 0) {
		FIGURE_ADD(c, branch_appraisal_excellent, g == STRATA__APPRAISAL_GRADE__GRADE_EXCELLENT);
		FIGURE_ADD(c, branch_appraisal_qualified, g == STRATA__APPRAISAL_GRADE__GRADE_QUALIFIED);
		FIGURE_ADD(c, branch_appraisal_basically_qualified,
			   g == STRATA__APPRAISAL_GRADE__GRADE_BASICALLY_QUALIFIED);
		FIGURE_ADD(c, branch_appraisal_unqualified, g == STRATA__APPRAISAL_GRADE__GRADE_UNQUALIFIED);
		return;
	}
	FIGURE_ADD(c, appraisal_excellent, g == STRATA__APPRAISAL_GRADE__GRADE_EXCELLENT);
	FIGURE_ADD(c, appraisal_qualified, g == STRATA__APPRAISAL_GRADE__GRADE_QUALIFIED);
	FIGURE_ADD(c, appraisal_basically_qualified, g == STRATA__APPRAISAL_GRADE__GRADE_BASICALLY_QUALIFIED);
	FIGURE_ADD(c, appraisal_unqualified, g == STRATA__APPRAISAL_GRADE__GRADE_UNQUALIFIED);
}

const struct record_type record_appraisal = {
	.collection = "appraisal",
	.feed = FEED_UP,
	.descriptor = &strata__appraisal__descriptor,
	.fields = fields,
	.n_fields = sizeof fields / sizeof fields[0],
	.zh = appraisal_zh,
	.noun = N_("appraisal"),
	.summary = N_("democratic appraisal per year of each member and the branch: add, update, import, export, list"),
	.validate_extra = appraisal_extra,
	.check_input = appraisal_input,
	.figures = appraisal_figures,
	.residue = (const char *const[]){"year", "subject", "grade", "date", NULL},
};
RECORD_REGISTER(250, record_appraisal);
