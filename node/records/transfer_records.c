/* SPDX-License-Identifier: MIT */
/*
 * Transfers of a member between branches (DESIGN.md "Authority"): four
 * collections, one per step of the two-party protocol, each in one feed.
 *   release     (up,   key = transfer id)               by the old branch
 *   forward     (down, key = "<old key hex>/<id>")       by the lowest common ancestor
 *   acceptance  (up,   key = "<old key hex>/<id>")       by the new branch
 *   outcome     (down, key = "<old key hex>/<id>")       by the lowest common ancestor
 * Only deterministic checks live here: each record on its own, and the key
 * it is stored under. How the steps fit together (the hashes they name, who
 * may take which step) is node/transfer/'s, at the nodes that take them.
 */
#include <errno.h>
#include <string.h>

#include "node/records/records.h"

bool transfer_id_valid(const char *s)
{
	return id_chars_valid(s, TRANSFER_ID_MAX);
}

int transfer_key(char out[TRANSFER_KEY_MAX + 1], const uint8_t from[KEY_BYTES], const char *id)
{
	char hex[KEY_HEX];

	if (!transfer_id_valid(id))
		return -EINVAL;
	key_hex(hex, from);
	snprintf(out, TRANSFER_KEY_MAX + 1, "%s/%s", hex, id);
	return 0;
}

static int check_key(const char *what, const ProtobufCBinaryData *from, const char *id, const uint8_t *key,
		     size_t key_len, struct err *e)
{
	char want[TRANSFER_KEY_MAX + 1];

	if (from->len != KEY_BYTES) {
		err_set(e, "%s: the old branch must be a node key of 32 bytes", what);
		return -EINVAL;
	}
	if (transfer_key(want, from->data, id) < 0) {
		err_set(e, "%s: transfer id \"%s\" must be 1-%d letters, digits, '-', '_' or '.'", what, id,
			TRANSFER_ID_MAX);
		return -EINVAL;
	}
	if (key && (key_len != strlen(want) || memcmp(key, want, key_len) != 0)) {
		err_set(e, "%s %s is stored under another key", what, id);
		return -EINVAL;
	}
	return 0;
}

static int check_hash(const char *what, const char *field, const ProtobufCBinaryData *h, struct err *e)
{
	if (h->len != HASH_BYTES) {
		err_set(e, "%s: %s must be an entry hash of 32 bytes", what, field);
		return -EINVAL;
	}
	return 0;
}

static int check_date(const char *what, const char *date, struct err *e)
{
	if (!date_valid(date)) {
		err_set(e, "%s: date \"%s\" is not a real date (YYYY-MM-DD)", what, date);
		return -EINVAL;
	}
	return 0;
}

static int check_reason(const char *what, const char *reason, struct err *e)
{
	if (reason && (!*reason || strlen(reason) > TRANSFER_REASON_MAX || !text_valid(reason, strlen(reason)))) {
		err_set(e, "%s: reason must be 1-%d bytes of text", what, TRANSFER_REASON_MAX);
		return -EINVAL;
	}
	return 0;
}

/* The member copied into a release or a forward: a valid member record,
 * active (a member who is not active cannot be released). */
static int check_member(const char *what, const Strata__Member *m, struct err *e)
{
	int ret;

	if (!m) {
		err_set(e, "%s: the member is missing", what);
		return -EINVAL;
	}
	if (m->base.n_unknown_fields) {
		err_set(e, "%s: the member has %u unknown field(s)", what, m->base.n_unknown_fields);
		return -EINVAL;
	}
	if ((ret = record_member.validate(&m->base, NULL, 0, e)) < 0) {
		err_prefix(e, "%s", what);
		return ret;
	}
	if (m->status != STRATA__MEMBER_STATUS__STATUS_ACTIVE) {
		err_set(e, "%s: member %s is %s; only an active member is transferred", what, m->id,
			err_gettext(member_status_word(m->status)));
		return -EINVAL;
	}
	return 0;
}

static int check_to(const char *what, const char *name, const ProtobufCBinaryData *to, struct err *e)
{
	if (!org_path_valid(name)) {
		err_set(e, "%s: destination \"%s\" is not an org path", what, name);
		return -EINVAL;
	}
	if (to->len != KEY_BYTES) {
		err_set(e, "%s: the destination must be a node key of 32 bytes", what);
		return -EINVAL;
	}
	return 0;
}

static int release_validate(const ProtobufCMessage *msg, const uint8_t *key, size_t key_len, struct err *e)
{
	const Strata__Release *r = (const Strata__Release *)msg;
	int ret;

	if (!transfer_id_valid(r->id)) {
		err_set(e, "release: transfer id \"%s\" must be 1-%d letters, digits, '-', '_' or '.'", r->id,
			TRANSFER_ID_MAX);
		return -EINVAL;
	}
	if (key && (key_len != strlen(r->id) || memcmp(key, r->id, key_len) != 0)) {
		err_set(e, "release %s is stored under another key", r->id);
		return -EINVAL;
	}
	if ((ret = check_member("release", r->member, e)) < 0 || (ret = check_to("release", r->to_name, &r->to, e)) < 0 ||
	    (ret = check_date("release", r->date, e)) < 0 || (ret = check_reason("release", r->reason, e)) < 0)
		return ret;
	return 0;
}

static int forward_validate(const ProtobufCMessage *msg, const uint8_t *key, size_t key_len, struct err *e)
{
	const Strata__Forward *f = (const Strata__Forward *)msg;
	int ret;

	if ((ret = check_key("forward", &f->from, f->id, key, key_len, e)) < 0 ||
	    (ret = check_to("forward", f->to_name, &f->to, e)) < 0 ||
	    (ret = check_hash("forward", "release_hash", &f->release_hash, e)) < 0 ||
	    (ret = check_member("forward", f->member, e)) < 0 || (ret = check_date("forward", f->date, e)) < 0 ||
	    (ret = check_date("forward", f->released, e)) < 0 || (ret = check_reason("forward", f->reason, e)) < 0)
		return ret;
	if (f->mode != STRATA__FORWARD_MODE__FORWARD_AUTO && f->mode != STRATA__FORWARD_MODE__FORWARD_APPROVED) {
		err_set(e, "forward %s: unknown mode %d", f->id, (int)f->mode);
		return -EINVAL;
	}
	if (memcmp(f->from.data, f->to.data, KEY_BYTES) == 0) {
		err_set(e, "forward %s: the old and the new branch are the same node", f->id);
		return -EINVAL;
	}
	/* from_name (issue 16): the same rule as to_name, when present */
	if (f->from_name && !org_path_valid(f->from_name)) {
		err_set(e, "forward: old branch \"%s\" is not an org path", f->from_name);
		return -EINVAL;
	}
	return 0;
}

static int check_decision(const char *what, const char *id, Strata__TransferDecision d, const char *member_id,
			  struct err *e)
{
	if (d != STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED && d != STRATA__TRANSFER_DECISION__TRANSFER_REFUSED) {
		err_set(e, "%s %s: unknown decision %d", what, id, (int)d);
		return -EINVAL;
	}
	if (d == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED) {
		Strata__Member probe = STRATA__MEMBER__INIT;

		if (!member_id) {
			err_set(e, "%s %s: an acceptance names the member's id at the new branch", what, id);
			return -EINVAL;
		}
		/* the same rule as a member id: checked through a minimal member */
		probe.id = (char *)member_id;
		probe.name = "-";
		probe.category = STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
		probe.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
		probe.joined = "2000-01-01";
		if (record_member.validate(&probe.base, NULL, 0, e) < 0) {
			err_prefix(e, "%s %s", what, id);
			return -EINVAL;
		}
	} else if (member_id) {
		err_set(e, "%s %s: a refusal names no member id", what, id);
		return -EINVAL;
	}
	return 0;
}

static int acceptance_validate(const ProtobufCMessage *msg, const uint8_t *key, size_t key_len, struct err *e)
{
	const Strata__Acceptance *a = (const Strata__Acceptance *)msg;
	int ret;

	if ((ret = check_key("acceptance", &a->from, a->id, key, key_len, e)) < 0 ||
	    (ret = check_hash("acceptance", "release_hash", &a->release_hash, e)) < 0 ||
	    (ret = check_decision("acceptance", a->id, a->decision, a->member_id, e)) < 0 ||
	    (ret = check_date("acceptance", a->date, e)) < 0 || (ret = check_reason("acceptance", a->reason, e)) < 0)
		return ret;
	return 0;
}

static int outcome_validate(const ProtobufCMessage *msg, const uint8_t *key, size_t key_len, struct err *e)
{
	const Strata__Outcome *o = (const Strata__Outcome *)msg;
	int ret;

	if ((ret = check_key("outcome", &o->from, o->id, key, key_len, e)) < 0 ||
	    (ret = check_hash("outcome", "release_hash", &o->release_hash, e)) < 0 ||
	    (ret = check_hash("outcome", "acceptance_hash", &o->acceptance_hash, e)) < 0 ||
	    (ret = check_decision("outcome", o->id, o->decision, o->member_id, e)) < 0 ||
	    (ret = check_date("outcome", o->date, e)) < 0)
		return ret;
	if (o->to.len != KEY_BYTES) {
		err_set(e, "outcome %s: the new branch must be a node key of 32 bytes", o->id);
		return -EINVAL;
	}
	return 0;
}

/* Report figures: transfers out, members this branch released in the
 * period. */
static void release_figures(struct figures_ctx *c, const ProtobufCMessage *msg)
{
	FIGURE_ADD(c, transfers_out, figure_in_period(c, ((const Strata__Release *)msg)->date));
}

const struct record_type record_release = {
	.collection = "release",
	.feed = FEED_UP,
	.descriptor = &strata__release__descriptor,
	.validate = release_validate,
	.noun = N_("release"),
	.summary = N_("a member released by the old branch to another branch"),
	.figures = release_figures,
	.residue = (const char *const[]){"id", "member", "to_name", "to", "date", NULL},
};
RECORD_REGISTER(110, record_release);

const struct record_type record_forward = {
	.collection = "forward",
	.feed = FEED_DOWN,
	.descriptor = &strata__forward__descriptor,
	.validate = forward_validate,
	.noun = N_("forwarded transfer"),
	.summary = N_("a release passed down by the common ancestor of both branches"),
};
RECORD_REGISTER(111, record_forward);

/* Report figures: transfers in, transfers this branch accepted in the
 * period. */
static void acceptance_figures(struct figures_ctx *c, const ProtobufCMessage *msg)
{
	const Strata__Acceptance *a = (const Strata__Acceptance *)msg;

	FIGURE_ADD(c, transfers_in,
		   a->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED && figure_in_period(c, a->date));
}

const struct record_type record_acceptance = {
	.collection = "acceptance",
	.feed = FEED_UP,
	.descriptor = &strata__acceptance__descriptor,
	.validate = acceptance_validate,
	.noun = N_("acceptance"),
	.summary = N_("the new branch's acceptance or refusal of a transfer"),
	.figures = acceptance_figures,
	.residue = (const char *const[]){"from", "id", "release_hash", "decision", "member_id", "date", NULL},
};
RECORD_REGISTER(112, record_acceptance);

const struct record_type record_outcome = {
	.collection = "outcome",
	.feed = FEED_DOWN,
	.descriptor = &strata__outcome__descriptor,
	.validate = outcome_validate,
	.noun = N_("transfer outcome"),
	.summary = N_("the outcome of a transfer, passed down to the old branch"),
};
RECORD_REGISTER(113, record_outcome);
