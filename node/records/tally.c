/* SPDX-License-Identifier: MIT */
/*
 * What a record type's figures callback uses to add to a report's figures
 * (records.h "report figures a type declares"): checked addition by field
 * offset, so that counting a record looks up no name, and the period test.
 * The computation itself (which values, from state or a replayed feed) is
 * node/report/figures.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"

void figure_add_u64(struct figures_ctx *c, size_t offset, uint64_t n)
{
	uint64_t *v = (uint64_t *)((char *)c->f + offset);

	if (__builtin_add_overflow(*v, n, v) && !c->ret)
		c->ret = -ERANGE;
}

void figure_add_i64(struct figures_ctx *c, size_t offset, int64_t n)
{
	int64_t *v = (int64_t *)((char *)c->f + offset);

	if (__builtin_add_overflow(*v, n, v) && !c->ret)
		c->ret = -ERANGE;
}

void figure_append_u32(struct figures_ctx *c, size_t offset, uint32_t v)
{
	const ProtobufCMessageDescriptor *d = &strata__figures__descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		size_t *n;
		uint32_t **a, *grown;

		if (fd->offset != offset || fd->label != PROTOBUF_C_LABEL_REPEATED || fd->type != PROTOBUF_C_TYPE_UINT32)
			continue;
		n = (size_t *)((char *)c->f + fd->quantifier_offset);
		a = (uint32_t **)((char *)c->f + offset);
		if (!(grown = realloc(*a, (*n + 1) * sizeof *grown))) {
			if (!c->ret)
				c->ret = -ENOMEM;
			return;
		}
		*a = grown;
		grown[(*n)++] = v;
		return;
	}
}

bool figure_in_period(const struct figures_ctx *c, const char *date)
{
	return date && strncmp(date, c->period, 7) == 0;
}

/* H. Hinnant's algorithm. */
long date_days(const char *s)
{
	long y = strtol(s, NULL, 10), m = strtol(s + 5, NULL, 10), d = strtol(s + 8, NULL, 10);
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}
