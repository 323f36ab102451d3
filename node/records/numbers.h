/* SPDX-License-Identifier: MIT */
/*
 * The one parser of whole numbers and durations that people type: command
 * line options (--timeout, --expires, ...) and strata.conf settings. Digits
 * only (no sign, no spaces, no hex), checked against overflow, and a
 * duration's range is checked after its unit is applied, so "315360000d"
 * is refused as 863,000 years rather than accepted as a small number.
 */
#ifndef STRATA_NUMBERS_H
#define STRATA_NUMBERS_H

#include <stdint.h>

/* Units a duration may carry. */
#define DURATION_UNITS "s, m, h or d"

/* s is 1 to 20 decimal digits whose value is min..max: 0 and *out set,
 * -EINVAL if s is not a number, -ERANGE if it is outside min..max. */
int num_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* s is a duration: a number and one unit, s (seconds), m (minutes), h
 * (hours) or d (days), e.g. 90s, 30m, 12h, 7d. 0 and *out_ms set when its
 * length is min_ms..max_ms; -EINVAL if s is no duration; -ERANGE if it is
 * outside the range (however large the number). */
int duration_parse(const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms);

/* Writes ms as the largest whole unit that fits it exactly ("30d", "90s",
 * "1500ms") into out, for messages that name a limit. */
void duration_format(char *out, size_t cap, uint64_t ms);

#endif
