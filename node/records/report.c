/* SPDX-License-Identifier: MIT */
/*
 * Reports (collection "report", feed "report", key period) and their
 * approvals (collection "approval", feed "down", key "<child key hex>/
 * <period>"): the records of one-click reporting. Their figures are
 * computed by node/report; here only what every receiver checks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node/records/records.h"

static bool period_ok(const char *p)
{
	char d[11];

	if (strlen(p) != 7)
		return false;
	snprintf(d, sizeof d, "%s-01", p);
	return date_valid(d);
}

static int heads_ok(Strata__FeedHead **h, size_t n, const char *what, struct err *e)
{
	for (size_t i = 0; i < n; i++)
		if (h[i]->author.len != KEY_BYTES || !feed_name_known(h[i]->feed) || h[i]->seq == 0) {
			err_set(e, "report: %s %zu is not a feed head", what, i);
			return -EINVAL;
		}
	return 0;
}

/* The figures of strata.proto's Figures, every one at most FIGURE_MAX. */
#define FIGURES_U64(X)                                                                                            \
	X(members_full) X(members_probationary) X(members_active) X(members_lapsed) X(members_deceased)            \
	X(members_transferred) X(members_new) X(dues_paid) X(members_unpaid) X(meetings_branch_congress)          \
	X(meetings_committee) X(meetings_group) X(meetings_lecture) X(attendance_present)                        \
	X(attendance_expected) X(study_minutes) X(requests_opened) X(requests_closed) X(requests_open)            \
	X(notices_acked) X(notices_late) X(transfers_in) X(transfers_out)

int figures_check(const Strata__Figures *f, const char *what, struct err *e)
{
	const char *bad = NULL;

#define CHECK(name)                                                                                                \
	if (!bad && f->name > (uint64_t)FIGURE_MAX)                                                                \
		bad = #name;
	FIGURES_U64(CHECK)
#undef CHECK
	if (!bad && (f->dues_paid_amount < 0 || f->dues_paid_amount > FIGURE_MAX))
		bad = "dues_paid_amount";
	if (!bad && (f->points < -FIGURE_MAX || f->points > FIGURE_MAX))
		bad = "points";
	for (size_t i = 0; !bad && i < f->n_close_days; i++)
		if (f->close_days[i] > FIGURE_CLOSE_DAYS_MAX) {
			err_set(e, "report: %s close_days %u is out of range (0..%d)", what, f->close_days[i],
				FIGURE_CLOSE_DAYS_MAX);
			return -EINVAL;
		}
	if (bad) {
		err_set(e, "report: %s figure %s is out of range (at most %lld in size%s)", what, bad, FIGURE_MAX,
			strcmp(bad, "points") == 0 ? ", either sign" : ", not negative");
		return -EINVAL;
	}
	return 0;
}

static int report_validate(const ProtobufCMessage *msg, const uint8_t *key, size_t key_len, struct err *e)
{
	const Strata__Report *r = (const Strata__Report *)msg;
	int ret;

	if (!period_ok(r->period)) {
		err_set(e, "report: period \"%s\" is not YYYY-MM", r->period);
		return -EINVAL;
	}
	if (key && (key_len != strlen(r->period) || memcmp(key, r->period, key_len) != 0)) {
		err_set(e, "report %s is stored under another key", r->period);
		return -EINVAL;
	}
	if ((ret = heads_ok(r->heads, r->n_heads, "head", e)) < 0 ||
	    (ret = heads_ok(r->children, r->n_children, "child report", e)) < 0 ||
	    (r->own && (ret = figures_check(r->own, "own", e)) < 0) ||
	    (r->total && (ret = figures_check(r->total, "total", e)) < 0))
		return ret;
	return 0;
}

const struct record_type record_report = {
	.collection = "report",
	.feed = "report",
	.descriptor = &strata__report__descriptor,
	.validate = report_validate,
	.noun = "report",
};

static int approval_validate(const ProtobufCMessage *msg, const uint8_t *key, size_t key_len, struct err *e)
{
	const Strata__Approval *a = (const Strata__Approval *)msg;
	char want[KEY_HEX + 16];

	if (a->child.len != KEY_BYTES || !period_ok(a->period) || a->report_seq == 0) {
		err_set(e, "approval: needs a child key, a period YYYY-MM and a report seq");
		return -EINVAL;
	}
	if (a->decision != STRATA__DECISION__DECISION_ACCEPTED && a->decision != STRATA__DECISION__DECISION_RETURNED) {
		err_set(e, "approval: unknown decision %d", (int)a->decision);
		return -EINVAL;
	}
	if (a->comment && !text_valid(a->comment, strlen(a->comment))) {
		err_set(e, "approval: the comment is not text");
		return -EINVAL;
	}
	key_hex(want, a->child.data);
	strcat(want, "/");
	strncat(want, a->period, 7);
	if (key && (key_len != strlen(want) || memcmp(key, want, key_len) != 0)) {
		err_set(e, "approval is stored under another key");
		return -EINVAL;
	}
	return 0;
}

const struct record_type record_approval = {
	.collection = "approval",
	.feed = "down",
	.descriptor = &strata__approval__descriptor,
	.validate = approval_validate,
	.noun = "report decision",
};
