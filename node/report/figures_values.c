/* SPDX-License-Identifier: MIT */
/*
 * The standard figures as values: compared (a report against its
 * recomputation), printed as JSON, carried in a report's protobuf, summed
 * and copied. Every operation iterates message Figures' fields through
 * protobuf-c's descriptor: a figure a record type adds (a new field and its
 * .figures callback, node/records) is compared, listed, carried and rolled
 * up with no line here. Computing them is figures.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"
#include "node/report/report.h"

#define FIELDS (strata__figures__descriptor.fields)
#define N_FIELDS (strata__figures__descriptor.n_fields)

static bool single(const ProtobufCFieldDescriptor *fd)
{
	return fd->label != PROTOBUF_C_LABEL_REPEATED &&
	       (fd->type == PROTOBUF_C_TYPE_UINT64 || fd->type == PROTOBUF_C_TYPE_INT64);
}

/* The value of a single-valued figure, as int64_t (every one is within
 * FIGURE_MAX). */
static int64_t value_of(const Strata__Figures *p, const ProtobufCFieldDescriptor *fd)
{
	int64_t v;

	memcpy(&v, (const char *)p + fd->offset, sizeof v);
	return v;
}

static void set_value(Strata__Figures *p, const ProtobufCFieldDescriptor *fd, int64_t v)
{
	memcpy((char *)p + fd->offset, &v, sizeof v);
}

static size_t *count_of(Strata__Figures *p, const ProtobufCFieldDescriptor *fd)
{
	return (size_t *)((char *)p + fd->quantifier_offset);
}

static uint32_t **array_of(Strata__Figures *p, const ProtobufCFieldDescriptor *fd)
{
	return (uint32_t **)((char *)p + fd->offset);
}

/* Is name a figure of records received from above (.figures_received)? */
static bool received(const char *name)
{
	size_t n;
	const struct record_type *const *types = record_types(&n);

	for (size_t i = 0; i < n; i++)
		for (const char *const *r = types[i]->figures_received; r && *r; r++)
			if (strcmp(*r, name) == 0)
				return true;
	return false;
}

void figures_clear(struct figures *f)
{
	for (unsigned i = 0; i < N_FIELDS; i++)
		if (FIELDS[i].label == PROTOBUF_C_LABEL_REPEATED)
			free(*array_of(&f->p, &FIELDS[i]));
	memset(f, 0, sizeof *f);
}

bool figures_diff(const struct figures *a, const struct figures *b, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < N_FIELDS; i++) {
		const ProtobufCFieldDescriptor *fd = &FIELDS[i];
		int64_t x, y;

		if (!single(fd) || received(fd->name) || (x = value_of(&a->p, fd)) == (y = value_of(&b->p, fd)) ||
		    used >= cap)
			continue;
		used += (size_t)snprintf(out + used, cap - used, "%s%s %" PRId64 " (recomputed %" PRId64 ")",
					 used ? ", " : "", fd->name, x, y);
	}
	return used > 0;
}

static void json_set(json_t *o, const Strata__Figures *p, const ProtobufCFieldDescriptor *fd)
{
	int64_t v = value_of(p, fd);

	if (fd->label != PROTOBUF_C_LABEL_OPTIONAL || v)
		json_object_set_new(o, fd->name, json_integer((json_int_t)v));
}

json_t *figures_json(const struct figures *f)
{
	json_t *o = json_object();
	size_t n;
	const struct record_type *const *types = record_types(&n);

	for (unsigned i = 0; i < N_FIELDS; i++)
		if (single(&FIELDS[i]) && !received(FIELDS[i].name))
			json_set(o, &f->p, &FIELDS[i]);
	for (unsigned i = 0; i < N_FIELDS; i++)
		if (single(&FIELDS[i]) && received(FIELDS[i].name))
			json_set(o, &f->p, &FIELDS[i]);
	for (size_t i = 0; i < n; i++)
		if (types[i]->figures_json)
			types[i]->figures_json(&f->p, o);
	return o;
}

void figures_to_proto(const struct figures *f, Strata__Figures *p)
{
	const Strata__Figures init = STRATA__FIGURES__INIT;

	*p = f->p;
	p->base = init.base;
	for (unsigned i = 0; i < N_FIELDS; i++)
		if (FIELDS[i].label == PROTOBUF_C_LABEL_OPTIONAL)
			*(protobuf_c_boolean *)((char *)p + FIELDS[i].quantifier_offset) = value_of(p, &FIELDS[i]) != 0;
}

int figures_add_proto(struct figures *f, const Strata__Figures *p)
{
	Strata__Figures sum;
	struct err ignore = {0};

	/* Each figure of f and p is within FIGURE_MAX (ingest checks received
	 * reports; figures.c checks computed ones): a sum of two cannot
	 * overflow, and one beyond FIGURE_MAX is refused, not wrapped. */
	figures_to_proto(f, &sum);
	for (unsigned i = 0; i < N_FIELDS; i++) {
		const ProtobufCFieldDescriptor *fd = &FIELDS[i];
		int64_t v;

		if (!single(fd))
			continue;
		if (__builtin_add_overflow(value_of(&f->p, fd), value_of(p, fd), &v))
			return -ERANGE;
		set_value(&sum, fd, v);
	}
	if (figures_check(&sum, "", &ignore) < 0)
		return -ERANGE;
	for (unsigned i = 0; i < N_FIELDS; i++)
		if (single(&FIELDS[i]))
			set_value(&f->p, &FIELDS[i], value_of(&sum, &FIELDS[i]));
	for (unsigned i = 0; i < N_FIELDS; i++) {
		const ProtobufCFieldDescriptor *fd = &FIELDS[i];
		size_t *n = count_of(&f->p, fd), add;
		uint32_t *v;

		if (fd->label != PROTOBUF_C_LABEL_REPEATED || !(add = *count_of((Strata__Figures *)p, fd)))
			continue;
		if (!(v = realloc(*array_of(&f->p, fd), (*n + add) * sizeof *v)))
			return -ENOMEM;
		memcpy(v + *n, *array_of((Strata__Figures *)p, fd), add * sizeof *v);
		*array_of(&f->p, fd) = v;
		*n += add;
	}
	return 0;
}

int figures_copy(struct figures *dst, const struct figures *src)
{
	*dst = *src;
	for (unsigned i = 0; i < N_FIELDS; i++)
		if (FIELDS[i].label == PROTOBUF_C_LABEL_REPEATED) {
			*array_of(&dst->p, &FIELDS[i]) = NULL;
			*count_of(&dst->p, &FIELDS[i]) = 0;
		}
	for (unsigned i = 0; i < N_FIELDS; i++) {
		const ProtobufCFieldDescriptor *fd = &FIELDS[i];
		size_t n = *count_of((Strata__Figures *)&src->p, fd);
		uint32_t *v;

		if (fd->label != PROTOBUF_C_LABEL_REPEATED || !n)
			continue;
		if (!(v = malloc(n * sizeof *v)))
			return -ENOMEM;
		memcpy(v, *array_of((Strata__Figures *)&src->p, fd), n * sizeof *v);
		*array_of(&dst->p, fd) = v;
		*count_of(&dst->p, fd) = n;
	}
	return 0;
}
