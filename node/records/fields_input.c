/* SPDX-License-Identifier: MIT */
/*
 * Input as people write it, for the field engine (fields.c): the Chinese
 * names of columns and enum words (each type's record_zh table), dates as
 * Excel and people write them (2026/3/5, 2026年3月5日), and amounts in yuan.
 * Everything here turns such text into the one form the engine stores;
 * output stays ISO dates and English words unless asked (an export in
 * Chinese, node/domain).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"

#define YUAN_DIGITS_MAX 15 /* digits before the point: beyond any range a field has, short of int64 */

const struct record_field *record_field_named(const struct record_type *t, const char *name)
{
	const struct record_field *f = record_field_find(t, name);

	for (const struct record_zh *z = t->zh; !f && z && z->field; z++)
		if (!z->value && strcmp(z->zh, name) == 0)
			f = record_field_find(t, z->field);
	return f;
}

const char *record_field_zh(const struct record_type *t, const struct record_field *f)
{
	for (const struct record_zh *z = t->zh; z && z->field; z++)
		if (!z->value && strcmp(z->field, f->name) == 0)
			return z->zh;
	return NULL;
}

const char *record_enum_zh(const struct record_type *t, const struct record_field *f, const char *word)
{
	for (const struct record_zh *z = t->zh; z && z->field; z++)
		if (z->value && strcmp(z->field, f->name) == 0 && strcmp(z->value, word) == 0)
			return z->zh;
	return NULL;
}

/* Reads 1..max decimal digits at *p (moving it); -1 if none or more. */
static int digits(const char **p, int max)
{
	int v = 0, n = 0;

	while (**p >= '0' && **p <= '9' && n < max + 1)
		v = v * 10 + (*(*p)++ - '0'), n++;
	return n >= 1 && n <= max ? v : -1;
}

/* Skips one separator: '-', '/', '.', or the UTF-8 of sep (年, 月) when
 * given. */
static bool separator(const char **p, const char *sep)
{
	if (**p == '-' || **p == '/' || **p == '.') {
		(*p)++;
		return true;
	}
	if (sep && strncmp(*p, sep, strlen(sep)) == 0) {
		*p += strlen(sep);
		return true;
	}
	return false;
}

/* "2026/3/5", "2026-3-5", "2026.3.5", "2026年3月5日" (with day) or
 * "2026/3", "2026年3月" (without) as ISO into buf; false if not such. A
 * date written with 年 ends in 日 (or nothing), one with '-' or '/' does
 * not. */
static bool iso_date(const char *s, bool day, char *buf, size_t cap)
{
	const char *p = s;
	int y = digits(&p, 4), m = -1, d = 0;
	bool cjk = strncmp(p, "年", strlen("年")) == 0;

	if (y < 1000 || !separator(&p, "年") || (m = digits(&p, 2)) < 0)
		return false;
	if (cjk && strncmp(p, "月", strlen("月")) == 0)
		p += strlen("月");
	else if (day && !separator(&p, NULL))
		return false;
	if (day && (d = digits(&p, 2)) < 0)
		return false;
	if (cjk && day && strncmp(p, "日", strlen("日")) == 0)
		p += strlen("日");
	if (*p)
		return false;
	if (day)
		snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
	else
		snprintf(buf, cap, "%04d-%02d", y, m);
	return true;
}

const char *record_input_text(const struct record_type *t, const struct record_field *f, const char *text, char *buf,
			      size_t cap)
{
	switch (f->type) {
	case FIELD_ENUM:
		/* every Chinese word has a byte past ASCII: an ASCII cell (the
		 * English word, most cells of a large import) is taken as it is */
		for (const char *c = text;; c++)
			if (!*c)
				return text;
			else if ((unsigned char)*c >= 0x80)
				break;
		for (const struct record_zh *z = t->zh; z && z->field; z++)
			if (z->value && strcmp(z->field, f->name) == 0 && strcmp(z->zh, text) == 0) {
				snprintf(buf, cap, "%s", z->value);
				return buf;
			}
		return text;
	case FIELD_DATE:
		return !date_valid(text) && iso_date(text, true, buf, cap) ? buf : text;
	case FIELD_PERIOD:
		return !(strlen(text) == 7 && text[4] == '-') && iso_date(text, false, buf, cap) ? buf : text;
	default:
		return text;
	}
}

int record_yuan_parse(const char *field, const char *text, long long max, int64_t *fen, struct err *e)
{
	const char *p = text;
	long long yuan = 0, cents = 0;
	int n = 0, nd = 0;

	if (*p == '-') {
		err_set(e, "%s %s may not be negative", field, text);
		return -EINVAL;
	}
	for (; *p >= '0' && *p <= '9'; p++, n++)
		yuan = n < YUAN_DIGITS_MAX ? yuan * 10 + (*p - '0') : yuan;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, nd++)
			cents = nd < 2 ? cents * 10 + (*p - '0') : cents;
	if (n == 0 || *p || (nd == 0 && p[-1] == '.')) {
		err_set(e, "%s \"%s\" is not an amount in yuan (like 12.50)", field, text);
		return -EINVAL;
	}
	if (nd > 2) {
		err_set(e, "%s %s has more than 2 decimals (1 fen = 0.01 yuan is the smallest amount)", field, text);
		return -EINVAL;
	}
	if (nd == 1)
		cents *= 10;
	if (n > YUAN_DIGITS_MAX || yuan * 100 + cents > max) {
		err_set(e, "%s %s is out of range (0..%lld.%02lld yuan)", field, text, max / 100, max % 100);
		return -EINVAL;
	}
	*fen = yuan * 100 + cents;
	return 0;
}

void record_yuan_text(int64_t fen, char out[RECORD_YUAN_SIZE])
{
	uint64_t a = fen < 0 ? 0 - (uint64_t)fen : (uint64_t)fen;

	snprintf(out, RECORD_YUAN_SIZE, "%s%" PRIu64 ".%02" PRIu64, fen < 0 ? "-" : "", a / 100, a % 100);
}
