/* SPDX-License-Identifier: MIT */
/*
 * Whole numbers and durations typed by people (numbers.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "node/records/numbers.h"

#define NUM_MAX_DIGITS 20 /* UINT64_MAX has 20 */

static int digits(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (i >= NUM_MAX_DIGITS || v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (i == 0)
		return -EINVAL;
	*end = s + i;
	*out = v;
	return 0;
}

int num_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int ret;

	if (!s)
		return -EINVAL;
	if ((ret = digits(s, &end, &v)) < 0) {
		/* a long run of digits is a number, only too large */
		for (end = s; *end >= '0' && *end <= '9'; end++)
			;
		return ret == -ERANGE && !*end ? -ERANGE : -EINVAL;
	}
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static const struct {
	char unit;
	uint64_t ms;
} units[] = {{'s', 1000}, {'m', 60 * 1000}, {'h', 3600 * 1000}, {'d', 24ull * 3600 * 1000}};

int duration_parse(const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms)
{
	const char *end;
	uint64_t v;
	int ret;

	if (!s)
		return -EINVAL;
	ret = digits(s, &end, &v);
	if (ret == -ERANGE) { /* too many digits: still a duration if a unit ends it */
		for (end = s; *end >= '0' && *end <= '9'; end++)
			;
		v = UINT64_MAX;
	} else if (ret < 0) {
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (end[0] != units[i].unit || end[1])
			continue;
		if (v > UINT64_MAX / units[i].ms || v * units[i].ms > max_ms || v * units[i].ms < min_ms)
			return -ERANGE;
		*out_ms = v * units[i].ms;
		return 0;
	}
	return -EINVAL;
}

void duration_format(char *out, size_t cap, uint64_t ms)
{
	for (size_t i = sizeof units / sizeof units[0]; i-- > 0;)
		if (ms && ms % units[i].ms == 0) {
			snprintf(out, cap, "%llu%c", (unsigned long long)(ms / units[i].ms), units[i].unit);
			return;
		}
	snprintf(out, cap, "%llums", (unsigned long long)ms);
}
