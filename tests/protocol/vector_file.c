/* SPDX-License-Identifier: MIT */
/* Reading docs/vectors/<topic>.json for the vector tests (vector_file.h). */
#include "vector_file.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VF_PATH_MAX 4096

json_t *vf_load(const char *topic)
{
	const char *src = getenv("STRATA_TEST_SRCDIR");
	char path[VF_PATH_MAX];
	json_error_t err;
	json_t *doc;

	cr_assert(src, "STRATA_TEST_SRCDIR is not set");
	snprintf(path, sizeof path, "%s/docs/vectors/%s.json", src, topic);
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	cr_assert(doc, "%s: %s (line %d)", path, err.text, err.line);
	cr_assert(json_is_string(json_object_get(doc, "description")), "%s: no description", path);
	cr_assert(json_is_array(json_object_get(doc, "vectors")) && json_array_size(json_object_get(doc, "vectors")),
		  "%s: no vectors", path);
	return doc;
}

const json_t *vf_vector(const json_t *doc, const char *name)
{
	const json_t *all = json_object_get(doc, "vectors"), *v;
	size_t i;

	json_array_foreach(all, i, v)
	{
		const char *n = json_string_value(json_object_get(v, "name"));

		cr_assert(n && json_is_string(json_object_get(v, "kind")), "vector %zu has no name or kind", i);
		if (strcmp(n, name) == 0)
			return v;
	}
	cr_assert_fail("no vector called %s", name);
	return NULL;
}

static const char *name_of(const json_t *v)
{
	const char *n = json_string_value(json_object_get(v, "name"));

	return n ? n : "?";
}

const char *vf_str(const json_t *v, const char *field)
{
	const char *s = json_string_value(field ? json_object_get(v, field) : v);

	cr_assert(s, "vector %s: %s is not a string", field ? name_of(v) : "?", field ? field : "a value");
	return s;
}

uint64_t vf_u64(const json_t *v, const char *field)
{
	const json_t *x = json_object_get(v, field);

	cr_assert(json_is_integer(x) && json_integer_value(x) >= 0, "vector %s: %s is not a whole number",
		  name_of(v), field ? field : "value");
	return (uint64_t)json_integer_value(x);
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

uint8_t *vf_hex(const json_t *v, const char *field, size_t *len)
{
	const char *s = vf_str(v, field);
	size_t n = strlen(s);
	uint8_t *out = malloc(n / 2 + 1);

	cr_assert(out);
	cr_assert(n % 2 == 0, "vector %s: %s has an odd number of hex digits", name_of(v), field ? field : "value");
	for (size_t i = 0; i < n / 2; i++) {
		int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);

		cr_assert(hi >= 0 && lo >= 0, "vector %s: %s is not lowercase hex at %zu", name_of(v), field ? field : "value", 2 * i);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

void vf_hex_n(const json_t *v, const char *field, uint8_t *out, size_t n)
{
	size_t len;
	uint8_t *b = vf_hex(v, field, &len);

	cr_assert_eq(len, n, "vector %s: %s is %zu bytes, not %zu", name_of(v), field, len, n);
	memcpy(out, b, n);
	free(b);
}

void vf_assert_hex_is(const char *want, const char *what, const uint8_t *p, size_t n)
{
	char *got = malloc(2 * n + 1);

	cr_assert(got && want, "%s: no expected value", what);
	for (size_t i = 0; i < n; i++)
		snprintf(got + 2 * i, 3, "%02x", p[i]);
	got[2 * n] = '\0';
	cr_expect_str_eq(got, want, "%s recomputed differs", what);
	free(got);
}

void vf_assert_hex(const json_t *v, const char *field, const uint8_t *p, size_t n)
{
	char what[VF_PATH_MAX];

	snprintf(what, sizeof what, "vector %s: %s", name_of(v), field ? field : "value");
	vf_assert_hex_is(vf_str(v, field), what, p, n);
}
