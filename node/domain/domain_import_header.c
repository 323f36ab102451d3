/* SPDX-License-Identifier: MIT */
/*
 * What every import shares (domain.h, domain_internal.h): its result, the
 * refusal of a file with bad rows, the header row (columns by English or
 * Chinese name) and the wording of a row's refusals. The strategies are
 * domain_import.c and domain_import_bulk.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/domain/domain.h"
#include "node/domain/domain_internal.h"

void domain_import_result_release(struct domain_import_result *r)
{
	for (size_t i = 0; i < r->nbad; i++)
		free(r->bad[i].msg);
	free(r->bad);
	r->bad = NULL;
	r->nbad = 0;
	domain_changes_release(r);
}

int domain_bad_add(struct domain_import_result *r, size_t *cap, size_t line, const char *msg)
{
	if (r->nbad == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		struct domain_bad *b = realloc(r->bad, c * sizeof *b);

		if (!b)
			return -ENOMEM;
		r->bad = b;
		*cap = c;
	}
	r->bad[r->nbad].line = line;
	if (!(r->bad[r->nbad].msg = strdup(msg)))
		return -ENOMEM;
	r->nbad++;
	return 0;
}

static int bad_cmp(const void *a, const void *b)
{
	const struct domain_bad *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

int domain_bad_refuse(struct domain_import_result *r, const char *path, struct err *e)
{
	if (r->nbad > 1)
		qsort(r->bad, r->nbad, sizeof *r->bad, bad_cmp);
	err_set(e, "%s: %zu bad row%s; nothing imported", path, r->nbad, r->nbad == 1 ? "" : "s");
	return -EINVAL;
}

/* Column c of the header names field name: of t, or of its companion. */
static int header_column(const struct record_type *t, const char *path, const struct csv_row *r, size_t c,
			 int col_of[], int ccol_of[], struct err *e)
{
	const struct record_field *f = record_field_named(t, r->fields[c]), *cf;

	if (!f && t->companion && (cf = record_field_named(t->companion, r->fields[c]))) {
		if (ccol_of[cf - t->companion->fields] >= 0) {
			err_set(e, "%s:%zu: column \"%s\" appears twice", path, r->line, r->fields[c]);
			return -EINVAL;
		}
		ccol_of[cf - t->companion->fields] = (int)c;
		return 0;
	}
	if (!f && (strcmp(r->fields[c], "branch") == 0 || strcmp(r->fields[c], "单位") == 0)) {
		err_set(e, "%s:%zu: column \"%s\" is from an export of every branch's records: export with --own to "
			   "re-import this unit's own",
			path, r->line, r->fields[c]);
		return -EINVAL;
	}
	if (!f && t->msg_columns) {
		err_set(e, "%s:%zu: unknown column \"%s\" (%s)", path, r->line, r->fields[c], err_gettext(t->msg_columns));
		return -EINVAL;
	}
	if (!f) {
		err_set(e, "%s:%zu: unknown column \"%s\" (see strata %s --help)", path, r->line, r->fields[c],
			t->collection);
		return -EINVAL;
	}
	if (col_of[f - t->fields] >= 0) {
		err_set(e, "%s:%zu: column \"%s\" appears twice", path, r->line, r->fields[c]);
		return -EINVAL;
	}
	col_of[f - t->fields] = (int)c;
	if (t->companion && (cf = record_field_find(t->companion, f->name)))
		ccol_of[cf - t->companion->fields] = (int)c; /* a key field they share */
	return 0;
}

int domain_import_header(const struct record_type *t, const char *path, const struct csv_row *r, int col_of[],
			 int ccol_of[], size_t *ncols, struct err *e)
{
	int ret;

	for (size_t i = 0; i < DOMAIN_FIELDS_MAX; i++)
		col_of[i] = ccol_of[i] = -1;
	for (size_t c = 0; c < r->n; c++)
		if ((ret = header_column(t, path, r, c, col_of, ccol_of, e)) < 0)
			return ret;
	for (size_t i = 0; i < t->n_fields; i++)
		if ((t->fields[i].flags & FIELD_REQUIRED) && col_of[i] < 0) {
			err_set(e, "%s:%zu: the header has no \"%s\" column%s%s%s", path, r->line, t->fields[i].name,
				t->msg_required ? " (" : "", t->msg_required ? err_gettext(t->msg_required) : "",
				t->msg_required ? ")" : "");
			return -EINVAL;
		}
	*ncols = r->n;
	return 0;
}

void domain_import_cells_msg(const struct record_type *t, size_t n, size_t ncols, char *msg, size_t cap)
{
	/* the engine's wording names no plural: "%.0s" takes the "s" unseen */
	snprintf(msg, cap, err_gettext(t->msg_row_cells ? t->msg_row_cells : N_("has %zu columns%.0s, the header has %zu")), n,
		 n == 1 ? "" : "s", ncols);
}

void domain_import_duplicate_msg(const struct record_type *t, const char *key, size_t first, char *msg, size_t cap)
{
	if (t->msg_duplicate)
		snprintf(msg, cap, err_gettext(t->msg_duplicate), key, first);
	else
		snprintf(msg, cap, "duplicate %s %.200s (first on line %zu)", err_gettext(t->noun), key, first);
}

void domain_import_exists_msg(const struct record_type *t, const char *key, char *msg, size_t cap)
{
	snprintf(msg, cap, "%s %.200s already exists with other values (use strata %s update, or import --update)",
		 err_gettext(t->noun), key, t->collection);
}
