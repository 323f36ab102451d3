/* SPDX-License-Identifier: MIT */
/*
 * Dues (collection "dues", feed "up", key member/period): one member's dues
 * for one month, in fen. Unpaid until it has a paid date.
 */
#include <errno.h>
#include <string.h>

#include "node/records/records.h"

static const struct record_field fields[] = {
	{"member", FIELD_MEMBER, FIELD_REQUIRED | FIELD_KEY, 0, N_("member id")},
	{"period", FIELD_PERIOD, FIELD_REQUIRED | FIELD_KEY, 0, N_("month, YYYY-MM")},
	{"amount", FIELD_MONEY, FIELD_REQUIRED, RECORD_AMOUNT_MAX, N_("amount due in yuan: 12, 12.5 or 12.50 (stored as fen), at most 1000000")},
	{"paid", FIELD_DATE, FIELD_PAST, 0, N_("date paid, YYYY-MM-DD (absent: unpaid)")},
	{"method", FIELD_TEXT, 0, 32, N_("how it was paid: cash, wechat, bank, ...")},
};
/* Chinese column names and enum words (fields.h struct record_zh): the
 * first of a field or word is what an export in Chinese writes. */
static const struct record_zh dues_zh[] = {
	{"member", NULL, "党员编号"},
	{"member", NULL, "编号"},
	{"period", NULL, "月份"},
	{"amount", NULL, "金额"},
	{"amount", NULL, "党费"},
	{"paid", NULL, "缴纳日期"},
	{"method", NULL, "缴纳方式"},
	{NULL, NULL, NULL},
};

static int dues_extra(const ProtobufCMessage *msg, struct err *e)
{
	const Strata__Dues *d = (const Strata__Dues *)msg;

	if (d->method && !d->paid) {
		err_set(e, "dues: %s %s has a payment method but no paid date", d->member, d->period);
		return -EINVAL;
	}
	return 0;
}

/* Report figures: the period's dues records with a paid date, and their
 * amount (members_unpaid is member.c's). */
static void dues_figures(struct figures_ctx *c, const ProtobufCMessage *msg)
{
	const Strata__Dues *d = (const Strata__Dues *)msg;

	if (strcmp(d->period, c->period) != 0 || !d->paid)
		return;
	FIGURE_ADD(c, dues_paid, 1);
	FIGURE_ADD(c, dues_paid_amount, d->amount);
}

/* Whether member m owes dues for the period ending end ("YYYY-MM-31"):
 * active and joined by its end. The report's members_unpaid figure
 * (member.c) and `strata dues list --unpaid` (node/domain) both ask this,
 * then dues_unpaid, so that the list is exactly what the figure counts. */
bool dues_member_due(const Strata__Member *m, const char *end)
{
	return m->status == STRATA__MEMBER_STATUS__STATUS_ACTIVE && strcmp(m->joined, end) <= 0;
}

bool dues_unpaid(const Strata__Member *m, const Strata__Dues *d, const char *period, const char *end)
{
	return dues_member_due(m, end) && !(d && d->paid && strcmp(d->period, period) == 0);
}

int dues_key(char *out, size_t cap, const char *member, const char *period)
{
	int n = snprintf(out, cap, "%s/%s", member, period);

	return n >= 0 && (size_t)n < cap ? n : -E2BIG;
}

/* The amount paid in yuan beside the fen the signed figure keeps, so that
 * every JSON a person reads shows money as the dues records do ("12.50"). */
static void dues_figures_json(const Strata__Figures *f, json_t *o)
{
	char yuan[RECORD_YUAN_SIZE];

	record_yuan_text(f->dues_paid_amount, yuan);
	json_object_set_new(o, "dues_paid_yuan", json_string(yuan));
}

const struct record_type record_dues = {
	.collection = "dues",
	.feed = FEED_UP,
	.descriptor = &strata__dues__descriptor,
	.fields = fields,
	.n_fields = sizeof fields / sizeof fields[0],
	.zh = dues_zh,
	.noun = N_("dues record"),
	.summary = N_("dues per member and month: add, update, import, export, list [--unpaid], show"),
	.validate_extra = dues_extra,
	.figures = dues_figures,
	.figures_json = dues_figures_json,
	.residue = (const char *const[]){"member", "period", "amount", "paid", NULL},
};
RECORD_REGISTER(40, record_dues);
