/* SPDX-License-Identifier: MIT */
/*
 * Notices (collection "notice", feed "notice", key id): documents and work
 * deployments a level sends to every level below it and to the peers whose
 * agreement names notices (a feed of their own, so that a peer never
 * receives the approvals and transfer steps of `down`); and their
 * acknowledgements (collection "ack", feed "report", key sender/notice),
 * which go back up, so the sender sees who acknowledged and who is late.
 */
#include <errno.h>
#include <string.h>

#include "node/records/records.h"

static const struct record_field notice_fields[] = {
	{"id", FIELD_TEXT, FIELD_REQUIRED | FIELD_KEY, 64, N_("notice id")},
	{"title", FIELD_TEXT, FIELD_REQUIRED, 200, N_("title")},
	{"body", FIELD_TEXT, 0, RECORD_TEXT_MAX, N_("text")},
	{"due", FIELD_DATE, 0, 0, N_("acknowledge by, YYYY-MM-DD")},
};
/* Chinese column names and enum words (fields.h struct record_zh): the
 * first of a field or word is what an export in Chinese writes. */
static const struct record_zh notice_zh[] = {
	{"id", NULL, "编号"},
	{"title", NULL, "标题"},
	{"body", NULL, "正文"},
	{"due", NULL, "截止日期"},
	{NULL, NULL, NULL},
};

bool notice_counts_for(const char *due, const char *joined)
{
	return !due || !joined || strcmp(joined, due) <= 0;
}

enum notice_answer notice_answer(const char *due, const char *acked, const char *today)
{
	if (acked && (!due || strcmp(acked, due) <= 0))
		return NOTICE_ACKED;
	if (acked)
		return NOTICE_ACKED_LATE;
	return due && strcmp(due, today) < 0 ? NOTICE_OVERDUE : NOTICE_OPEN;
}

const char *notice_answer_word(enum notice_answer a)
{
	static const char *const words[] = {N_("acked"), N_("acked late"), N_("not acked"), N_("overdue")};

	return (size_t)a < sizeof words / sizeof words[0] ? words[a] : "unknown";
}

int notice_ack_key(char *out, size_t cap, const uint8_t sender[KEY_BYTES], const char *id)
{
	int n;

	if (cap < KEY_HEX)
		return -E2BIG;
	key_hex(out, sender);
	n = snprintf(out + KEY_HEX - 1, cap - (KEY_HEX - 1), "/%s", id);
	return n >= 0 && (size_t)n < cap - (KEY_HEX - 1) ? KEY_HEX - 1 + n : -E2BIG;
}

/* Report figures of the notices a unit received from above, due in the
 * period: acknowledged by their due date (its ack, key sender/id, in the
 * unit's state), or late once the due date has passed. A notice due before
 * the unit joined does not count (notice_counts_for): it could not have
 * answered. The sender's `notice status` judges by the same two rules. */
static void notice_figures(struct figures_ctx *c, const ProtobufCMessage *msg)
{
	const Strata__Notice *no = (const Strata__Notice *)msg;
	char key[KEY_HEX + LIMIT_KEY_BYTES + 1];
	Strata__NoticeAck *a = NULL;
	enum notice_answer ans;

	if (!no->due || !figure_in_period(c, no->due) || !notice_counts_for(no->due, c->joined))
		return;
	if (notice_ack_key(key, sizeof key, c->author, no->id) >= 0)
		a = (Strata__NoticeAck *)c->held(c, "ack", key);
	ans = notice_answer(no->due, a ? a->acked : NULL, c->today);
	record_free((ProtobufCMessage *)a);
	if (ans == NOTICE_ACKED)
		FIGURE_ADD(c, notices_acked, 1);
	else if (ans != NOTICE_OPEN)
		FIGURE_ADD(c, notices_late, 1);
}

const struct record_type record_notice = {
	.collection = "notice",
	.feed = FEED_NOTICE,
	.legacy_feed = FEED_DOWN, /* stores from before the split */
	.descriptor = &strata__notice__descriptor,
	.fields = notice_fields,
	.n_fields = sizeof notice_fields / sizeof notice_fields[0],
	.zh = notice_zh,
	.noun = N_("notice"),
	.summary = N_("notices sent down to every level below: add, list [--unacked], show, ack, status"),
	.figures = notice_figures,
	.figures_received = (const char *const[]){"notices_acked", "notices_late", NULL},
};
RECORD_REGISTER(90, record_notice);

static const struct record_field ack_fields[] = {
	{"sender", FIELD_TEXT, FIELD_REQUIRED | FIELD_KEY, 64, N_("key of the node that sent the notice (64 hex)")},
	{"notice", FIELD_TEXT, FIELD_REQUIRED | FIELD_KEY, 64, N_("notice id")},
	{"acked", FIELD_DATE, FIELD_REQUIRED | FIELD_PAST, 0, N_("date acknowledged, YYYY-MM-DD")},
};
static const struct record_zh ack_zh[] = {
	{"sender", NULL, "发送方"},
	{"notice", NULL, "通知编号"},
	{"acked", NULL, "确认日期"},
	{NULL, NULL, NULL},
};

static int ack_extra(const ProtobufCMessage *msg, struct err *e)
{
	const Strata__NoticeAck *a = (const Strata__NoticeAck *)msg;
	uint8_t key[KEY_BYTES];

	/* Lowercase only: the key holds the sender as written, and every
	 * reader (the figures, notice status) looks it up as key_hex writes
	 * it; an uppercase sender would be an ack nobody finds. */
	if (hex_decode(key, KEY_BYTES, a->sender) < 0 || strspn(a->sender, "0123456789abcdef") != 2 * KEY_BYTES) {
		err_set(e, "ack: sender must be a node key of 64 lowercase hex characters");
		return -EINVAL;
	}
	return 0;
}

/* Only a notice this node holds can be acknowledged. */
static int ack_input(const ProtobufCMessage *msg, struct store_txn *t, const uint8_t owner[KEY_BYTES], struct err *e)
{
	const Strata__NoticeAck *a = (const Strata__NoticeAck *)msg;
	uint8_t sender[KEY_BYTES];
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};

	(void)owner;
	if (hex_decode(sender, KEY_BYTES, a->sender) < 0 ||
	    store_state_get(t, "notice", sender, (const uint8_t *)a->notice, strlen(a->notice), &v, &vl, NULL,
			    &ignore) < 0) {
		err_set(e, "ack: this node holds no notice %s from %.16s… (strata notice list --received lists those it "
			   "holds; strata notice ack --from ORG-PATH names the sender by its path)",
			a->notice, a->sender);
		return -ESRCH;
	}
	return 0;
}

const struct record_type record_ack = {
	.collection = "ack",
	.feed = FEED_REPORT,
	.descriptor = &strata__notice_ack__descriptor,
	.fields = ack_fields,
	.n_fields = sizeof ack_fields / sizeof ack_fields[0],
	.zh = ack_zh,
	.noun = N_("acknowledgement"),
	.summary = N_("acknowledge a notice received from above (by org path: strata notice ack)"),
	.validate_extra = ack_extra,
	.check_input = ack_input,
};
RECORD_REGISTER(91, record_ack);
