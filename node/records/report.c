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
	char d[RECORD_DATE_SIZE];

	if (strlen(p) != 7)
		return false;
	snprintf(d, sizeof d, "%s-01", p);
	return date_valid(d);
}

/* Each head names a known feed (feed, if not NULL: that one; a child
 * report is an entry of its author's report feed, and audit looks for it
 * only there), a 32-byte author and a seq. */
static int heads_ok(Strata__FeedHead **h, size_t n, const char *feed, const char *what, struct err *e)
{
	for (size_t i = 0; i < n; i++)
		if (h[i]->author.len != KEY_BYTES || !feed_name_known(h[i]->feed) || h[i]->seq == 0 ||
		    (feed && strcmp(h[i]->feed, feed) != 0)) {
			err_set(e, "report: %s %zu is not a feed head", what, i);
			return -EINVAL;
		}
	return 0;
}

/* Each accepted child is one whose report the report rolls up. */
static int accepted_ok(const Strata__Report *r, struct err *e)
{
	for (size_t i = 0; i < r->n_accepted; i++) {
		bool named = false;

		for (size_t k = 0; k < r->n_children && !named; k++)
			named = r->accepted[i].len == KEY_BYTES && r->children[k]->author.len == KEY_BYTES &&
				memcmp(r->accepted[i].data, r->children[k]->author.data, KEY_BYTES) == 0;
		if (!named) {
			err_set(e, "report: accepted child %zu is not among the child reports it rolls up", i);
			return -EINVAL;
		}
	}
	return 0;
}

/* May figure NAME be negative (a type's .figures_signed names it)? */
static bool figure_signed(const char *name)
{
	size_t n;
	const struct record_type *const *types = record_types(&n);

	for (size_t i = 0; i < n; i++)
		for (const char *const *s = types[i]->figures_signed; s && *s; s++)
			if (strcmp(*s, name) == 0)
				return true;
	return false;
}

/* Every field of message Figures: a single figure at most FIGURE_MAX in
 * size (negative only if a type says it may be), a repeated one a list of
 * day counts, each at most FIGURE_CLOSE_DAYS_MAX. */
int figures_check(const Strata__Figures *f, const char *what, struct err *e)
{
	const ProtobufCMessageDescriptor *d = &strata__figures__descriptor;
	const char *bad = NULL;
	bool neg = false;

	for (unsigned i = 0; !bad && i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		int64_t v;

		if (fd->label == PROTOBUF_C_LABEL_REPEATED)
			continue;
		memcpy(&v, (const char *)f + fd->offset, sizeof v);
		neg = fd->type == PROTOBUF_C_TYPE_INT64 && figure_signed(fd->name);
		if (fd->type == PROTOBUF_C_TYPE_UINT64 ? (uint64_t)v > (uint64_t)FIGURE_MAX
						       : (v > FIGURE_MAX || v < (neg ? -FIGURE_MAX : 0)))
			bad = fd->name;
	}
	for (unsigned i = 0; !bad && i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		size_t n = *(const size_t *)((const char *)f + fd->quantifier_offset);
		const uint32_t *v = *(uint32_t *const *)((const char *)f + fd->offset);

		for (size_t j = 0; fd->label == PROTOBUF_C_LABEL_REPEATED && j < n; j++)
			if (v[j] > FIGURE_CLOSE_DAYS_MAX) {
				err_set(e, "report: %s %s %u is out of range (0..%d)", what, fd->name, v[j],
					FIGURE_CLOSE_DAYS_MAX);
				return -EINVAL;
			}
	}
	if (bad) {
		err_set(e, "report: %s figure %s is out of range (at most %lld in size%s)", what, bad, FIGURE_MAX,
			neg ? ", either sign" : ", not negative");
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
	if ((ret = heads_ok(r->heads, r->n_heads, NULL, "head", e)) < 0 ||
	    (ret = heads_ok(r->children, r->n_children, FEED_REPORT, "child report", e)) < 0 ||
	    (ret = accepted_ok(r, e)) < 0 ||
	    (r->own && (ret = figures_check(r->own, "own", e)) < 0) ||
	    (r->total && (ret = figures_check(r->total, "total", e)) < 0))
		return ret;
	return 0;
}

const struct record_type record_report = {
	.collection = "report",
	.feed = FEED_REPORT,
	.descriptor = &strata__report__descriptor,
	.validate = report_validate,
	.noun = N_("report"),
};
RECORD_REGISTER(100, record_report);

static int approval_validate(const ProtobufCMessage *msg, const uint8_t *key, size_t key_len, struct err *e)
{
	const Strata__Approval *a = (const Strata__Approval *)msg;
	char want[KEY_HEX + 16];

	if (a->child.len != KEY_BYTES || !period_ok(a->period) || a->report_seq == 0) {
		err_set(e, "approval: needs a child key, a period YYYY-MM and a report seq");
		return -EINVAL;
	}
	if (a->decision != STRATA__DECISION__DECISION_ACCEPTED && a->decision != STRATA__DECISION__DECISION_RETURNED &&
	    a->decision != STRATA__DECISION__DECISION_REOPENED) {
		err_set(e, "approval: unknown decision %d", (int)a->decision);
		return -EINVAL;
	}
	/* a reopen undoes an acceptance: it must say why (so must a return, but
	 * entries written before this rule may lack it: only REOPENED is new) */
	if (a->decision == STRATA__DECISION__DECISION_REOPENED && (!a->comment || !*a->comment)) {
		err_set(e, "approval: a reopen needs a comment");
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
	.feed = FEED_DOWN,
	.descriptor = &strata__approval__descriptor,
	.validate = approval_validate,
	.noun = N_("report decision"),
};
RECORD_REGISTER(101, record_approval);
