/* SPDX-License-Identifier: MIT */
/*
 * Residues of erased values. An erase removes a record's value from every
 * store, but a report computed while the value was there counted it; the
 * level above recomputes every report from the entries it names. So the
 * erase request carries, for each erased entry, the value's residue: the
 * fields the standard figures read (node/report/figures.c: category,
 * status and dates of a member, a request's dates, a meeting's kind, date
 * and attendance counts, ...) and nothing else. Names, phone numbers,
 * addresses, free text and the ids of other members are cleared. Keep this
 * file in step with figures.c: a field a figure starts to read must be kept
 * here too, or reports over erased values stop matching.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"

static char blank[] = "";

static int pack(const ProtobufCMessage *m, uint8_t **out, size_t *out_len, struct err *e)
{
	size_t len = protobuf_c_message_get_packed_size(m);

	if (!(*out = malloc(len ? len : 1))) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	*out_len = protobuf_c_message_pack(m, *out);
	return 1;
}

static void member_residue(const Strata__Member *m, Strata__Member *r)
{
	strata__member__init(r);
	r->id = m->id;
	r->name = blank;
	r->category = m->category;
	r->status = m->status;
	r->joined = m->joined;
}

/* The blank strings standing for n member ids (a count is what is read). */
static char **blanks(size_t n)
{
	char **v = calloc(n ? n : 1, sizeof *v);

	for (size_t i = 0; v && i < n; i++)
		v[i] = blank;
	return v;
}

static int member_value(const uint8_t *value, size_t len, uint8_t **out, size_t *out_len, struct err *e)
{
	Strata__Member *m = strata__member__unpack(NULL, len, value), r;
	int ret;

	if (!m)
		return -EINVAL;
	member_residue(m, &r);
	ret = pack(&r.base, out, out_len, e);
	strata__member__free_unpacked(m, NULL);
	return ret;
}

static int dues_value(const uint8_t *value, size_t len, uint8_t **out, size_t *out_len, struct err *e)
{
	Strata__Dues *m = strata__dues__unpack(NULL, len, value), r = STRATA__DUES__INIT;
	int ret;

	if (!m)
		return -EINVAL;
	r.member = m->member;
	r.period = m->period;
	r.amount = m->amount;
	r.paid = m->paid;
	ret = pack(&r.base, out, out_len, e);
	strata__dues__free_unpacked(m, NULL);
	return ret;
}

static int meeting_value(const uint8_t *value, size_t len, uint8_t **out, size_t *out_len, struct err *e)
{
	Strata__Meeting *m = strata__meeting__unpack(NULL, len, value), r = STRATA__MEETING__INIT;
	int ret = -ENOMEM;

	if (!m)
		return -EINVAL;
	r.id = m->id;
	r.kind = m->kind;
	r.date = m->date;
	r.topic = blank;
	r.n_present = m->n_present;
	r.n_absent = m->n_absent;
	if ((r.present = blanks(m->n_present)) && (r.absent = blanks(m->n_absent)))
		ret = pack(&r.base, out, out_len, e);
	else
		err_set(e, "out of memory");
	free(r.present);
	free(r.absent);
	strata__meeting__free_unpacked(m, NULL);
	return ret;
}

static int study_value(const uint8_t *value, size_t len, uint8_t **out, size_t *out_len, struct err *e)
{
	Strata__Study *m = strata__study__unpack(NULL, len, value), r = STRATA__STUDY__INIT;
	int ret;

	if (!m)
		return -EINVAL;
	r.id = m->id;
	r.member = blank;
	r.course = blank;
	r.minutes = m->minutes;
	r.date = m->date;
	ret = pack(&r.base, out, out_len, e);
	strata__study__free_unpacked(m, NULL);
	return ret;
}

static int points_value(const uint8_t *value, size_t len, uint8_t **out, size_t *out_len, struct err *e)
{
	Strata__Points *m = strata__points__unpack(NULL, len, value), r = STRATA__POINTS__INIT;
	int ret;

	if (!m)
		return -EINVAL;
	r.member = blank;
	r.period = m->period;
	r.points = m->points;
	r.reason = blank;
	ret = pack(&r.base, out, out_len, e);
	strata__points__free_unpacked(m, NULL);
	return ret;
}

static int request_value(const uint8_t *value, size_t len, uint8_t **out, size_t *out_len, struct err *e)
{
	Strata__Request *m = strata__request__unpack(NULL, len, value), r = STRATA__REQUEST__INIT;
	int ret;

	if (!m)
		return -EINVAL;
	r.id = m->id;
	r.title = blank;
	r.opened = m->opened;
	r.status = m->status;
	r.closed = m->closed;
	ret = pack(&r.base, out, out_len, e);
	strata__request__free_unpacked(m, NULL);
	return ret;
}

static int release_value(const uint8_t *value, size_t len, uint8_t **out, size_t *out_len, struct err *e)
{
	Strata__Release *m = strata__release__unpack(NULL, len, value), r = STRATA__RELEASE__INIT;
	Strata__Member mr = STRATA__MEMBER__INIT;
	int ret;

	if (!m)
		return -EINVAL;
	if (m->member)
		member_residue(m->member, &mr);
	r.id = m->id;
	r.member = &mr;
	r.to_name = m->to_name;
	r.to = m->to;
	r.date = m->date;
	ret = pack(&r.base, out, out_len, e);
	strata__release__free_unpacked(m, NULL);
	return ret;
}

static int acceptance_value(const uint8_t *value, size_t len, uint8_t **out, size_t *out_len, struct err *e)
{
	Strata__Acceptance *m = strata__acceptance__unpack(NULL, len, value), r = STRATA__ACCEPTANCE__INIT;
	int ret;

	if (!m)
		return -EINVAL;
	r.from = m->from;
	r.id = m->id;
	r.release_hash = m->release_hash;
	r.decision = m->decision;
	r.member_id = m->member_id;
	r.date = m->date;
	ret = pack(&r.base, out, out_len, e);
	strata__acceptance__free_unpacked(m, NULL);
	return ret;
}

static const struct {
	const char *collection;
	int (*fn)(const uint8_t *value, size_t len, uint8_t **out, size_t *out_len, struct err *e);
} residues[] = {
	{"member", member_value},   {"dues", dues_value},       {"meeting", meeting_value},
	{"study", study_value},     {"points", points_value},   {"request", request_value},
	{"release", release_value}, {"acceptance", acceptance_value},
};

int record_residue(const char *collection, const uint8_t *value, size_t len, uint8_t **out, size_t *out_len,
		   struct err *e)
{
	*out = NULL;
	*out_len = 0;
	for (size_t i = 0; i < sizeof residues / sizeof residues[0]; i++) {
		int ret;

		if (strcmp(residues[i].collection, collection) != 0)
			continue;
		if ((ret = residues[i].fn(value, len, out, out_len, e)) == -EINVAL)
			err_set(e, "the %s value does not decode", collection);
		return ret;
	}
	return 0;
}

bool record_has_residue(const char *collection)
{
	for (size_t i = 0; i < sizeof residues / sizeof residues[0]; i++)
		if (strcmp(residues[i].collection, collection) == 0)
			return true;
	return false;
}
