/* SPDX-License-Identifier: MIT */
/*
 * The standard figures as values: compared (a report against its
 * recomputation), printed as JSON, carried in a report's protobuf, summed
 * and copied. Computing them is figures.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"
#include "node/report/report.h"

/* --- comparing and printing --- */

#define SCALARS(X)                                                                                                 \
	X(members_full) X(members_probationary) X(members_active) X(members_lapsed) X(members_deceased)            \
	X(members_transferred) X(members_new) X(dues_paid) X(dues_paid_amount) X(members_unpaid)                   \
	X(meetings_branch_congress) X(meetings_committee) X(meetings_group) X(meetings_lecture)                    \
	X(attendance_present) X(attendance_expected) X(study_minutes) X(points) X(requests_opened)                 \
	X(requests_closed) X(requests_open) X(transfers_in) X(transfers_out)

bool figures_diff(const struct figures *a, const struct figures *b, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
#define DIFF(name)                                                                                                 \
	if ((int64_t)a->name != (int64_t)b->name && used < cap)                                                    \
		used += (size_t)snprintf(out + used, cap - used, "%s%s %" PRId64 " (recomputed %" PRId64 ")",       \
					 used ? ", " : "", #name, (int64_t)a->name, (int64_t)b->name);
	SCALARS(DIFF)
#undef DIFF
	return used > 0;
}

static uint32_t median(const struct figures *f)
{
	uint32_t *v;
	uint32_t m;

	if (!f->n_close_days || !(v = malloc(f->n_close_days * sizeof *v)))
		return 0;
	memcpy(v, f->close_days, f->n_close_days * sizeof *v);
	for (size_t i = 1; i < f->n_close_days; i++) /* small: insertion sort */
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint32_t tmp = v[j];

			v[j] = v[j - 1];
			v[j - 1] = tmp;
		}
	m = v[f->n_close_days / 2];
	free(v);
	return m;
}

json_t *figures_json(const struct figures *f)
{
	json_t *o = json_object();

#define JSON(name) json_object_set_new(o, #name, json_integer((json_int_t)f->name));
	SCALARS(JSON)
#undef JSON
	json_object_set_new(o, "notices_acked", json_integer((json_int_t)f->notices_acked));
	json_object_set_new(o, "notices_late", json_integer((json_int_t)f->notices_late));
	json_object_set_new(o, "attendance_rate",
			    f->attendance_expected ? json_real((double)f->attendance_present / (double)f->attendance_expected)
						   : json_null());
	json_object_set_new(o, "request_close_days_median", f->n_close_days ? json_integer(median(f)) : json_null());
	return o;
}

void figures_to_proto(const struct figures *f, Strata__Figures *p)
{
	strata__figures__init(p);
#define TO(name) p->name = f->name;
	SCALARS(TO)
#undef TO
	p->notices_acked = f->notices_acked;
	p->notices_late = f->notices_late;
	p->n_close_days = f->n_close_days;
	p->close_days = f->close_days;
}

int figures_add_proto(struct figures *f, const Strata__Figures *p)
{
	uint32_t *v;

	Strata__Figures sum;
	struct err ignore = {0};

	/* Each figure of f and p is within FIGURE_MAX (ingest checks received
	 * reports; figures_range checks computed ones): a sum of two cannot
	 * overflow, and one beyond FIGURE_MAX is refused, not wrapped. */
	figures_to_proto(f, &sum);
#define ADD(name)                                                                                                  \
	if (__builtin_add_overflow(f->name, p->name, &sum.name))                                                   \
		return -ERANGE;
	SCALARS(ADD)
	ADD(notices_acked)
	ADD(notices_late)
#undef ADD
	if (figures_check(&sum, "", &ignore) < 0)
		return -ERANGE;
#define SET(name) f->name = sum.name;
	SCALARS(SET)
	SET(notices_acked)
	SET(notices_late)
#undef SET
	if (!p->n_close_days)
		return 0;
	if (!(v = realloc(f->close_days, (f->n_close_days + p->n_close_days) * sizeof *v)))
		return -ENOMEM;
	memcpy(v + f->n_close_days, p->close_days, p->n_close_days * sizeof *v);
	f->close_days = v;
	f->n_close_days += p->n_close_days;
	return 0;
}

int figures_copy(struct figures *dst, const struct figures *src)
{
	*dst = *src;
	dst->close_days = NULL;
	if (src->n_close_days) {
		if (!(dst->close_days = malloc(src->n_close_days * sizeof *dst->close_days)))
			return -ENOMEM;
		memcpy(dst->close_days, src->close_days, src->n_close_days * sizeof *dst->close_days);
	}
	return 0;
}
