/* SPDX-License-Identifier: MIT */
/*
 * import --update (domain.h): what a row changes in a stored record, field
 * by field as the person typed them, for the front end to show.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/domain/domain.h"
#include "node/domain/domain_internal.h"

#define NONE "(none)"

/* Appends "name: old → new" for every field of t that differs between a and
 * b to the stream. */
static void diff_fields(FILE *out, const struct record_type *t, const ProtobufCMessage *a, const ProtobufCMessage *b,
			char *x, char *y, bool *first)
{
	for (size_t i = 0; i < t->n_fields; i++) {
		int hx = record_get_text(t, a, &t->fields[i], x, RECORD_TEXT_SIZE);
		int hy = record_get_text(t, b, &t->fields[i], y, RECORD_TEXT_SIZE);

		if (hx == hy && strcmp(x, y) == 0)
			continue;
		fprintf(out, "%s%s: %s → %s", *first ? "" : "; ", t->fields[i].name, hx ? x : NONE, hy ? y : NONE);
		*first = false;
	}
}

int domain_change_add(struct domain_import_result *r, size_t *cap, const struct record_type *t, const char *key,
		      size_t line, const uint8_t *old, size_t old_len, const uint8_t *new, size_t new_len)
{
	ProtobufCMessage *a = protobuf_c_message_unpack(t->descriptor, NULL, old_len, old);
	ProtobufCMessage *b = protobuf_c_message_unpack(t->descriptor, NULL, new_len, new);
	char *x = malloc(RECORD_TEXT_SIZE), *y = malloc(RECORD_TEXT_SIZE), *what = NULL;
	size_t len = 0;
	bool first = true;
	FILE *out = NULL;
	int ret = -ENOMEM;

	if (!a || !b || !x || !y || !(out = open_memstream(&what, &len)))
		goto out;
	diff_fields(out, t, a, b, x, y, &first);
	if (first) /* the same record, another companion (a request's contact) */
		fprintf(out, "%s: changed", t->companion ? t->companion->noun : "value");
	if (fclose(out) != 0)
		goto out;
	if (r->nchanges == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		struct domain_change *v = realloc(r->changes, c * sizeof *v);

		if (!v)
			goto out;
		r->changes = v;
		*cap = c;
	}
	r->changes[r->nchanges] = (struct domain_change){.line = line, .key = strdup(key), .what = what};
	if (!r->changes[r->nchanges].key)
		goto out;
	what = NULL;
	r->nchanges++;
	ret = 0;
out:
	free(what);
	free(x);
	free(y);
	record_free(a);
	record_free(b);
	return ret;
}

void domain_changes_release(struct domain_import_result *r)
{
	for (size_t i = 0; i < r->nchanges; i++) {
		free(r->changes[i].key);
		free(r->changes[i].what);
	}
	free(r->changes);
	r->changes = NULL;
	r->nchanges = 0;
}
