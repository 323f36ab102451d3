/* SPDX-License-Identifier: MIT */
/*
 * What a person reads on a terminal: columns measured in display cells
 * (a Chinese character takes two), and times in the process's time zone.
 *
 * Width, decided: a small table of the East Asian Wide and Fullwidth ranges
 * (Unicode's EastAsianWidth W/F, the blocks Chinese text uses) and of the
 * zero-width marks, instead of wcwidth(3): wcwidth needs a UTF-8 LC_CTYPE,
 * and a daemon, a cron job or a test often runs in the C locale, where it
 * would count every Chinese character as unprintable. The table gives the
 * same columns in every locale. Ambiguous-width characters count one cell,
 * as terminals in a Chinese locale mostly show them in Latin fonts.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "node/cli/cli.h"

struct range {
	unsigned long lo, hi;
};

/* Two cells: Unicode 15 EastAsianWidth W and F, merged into blocks. */
static const struct range wide[] = {
	{0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},  {0x23F0, 0x23F0},
	{0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},   {0x2648, 0x2653},  {0x267F, 0x267F},
	{0x2693, 0x2693},   {0x26A1, 0x26A1},   {0x26AA, 0x26AB},   {0x26BD, 0x26BE},  {0x26C4, 0x26C5},
	{0x26CE, 0x26CE},   {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},  {0x26F5, 0x26F5},
	{0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},  {0x2728, 0x2728},
	{0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},   {0x2757, 0x2757},  {0x2795, 0x2797},
	{0x27B0, 0x27B0},   {0x27BF, 0x27BF},   {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},  {0x2B55, 0x2B55},
	{0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},  {0xA000, 0xA4CF},
	{0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},  {0xFE30, 0xFE6F},
	{0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF},
	{0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251},
	{0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F900, 0x1F9FF}, {0x20000, 0x3FFFD},
};

/* No cell: combining marks, zero-width spaces and joiners, variation
 * selectors. */
static const struct range zero[] = {
	{0x0300, 0x036F}, {0x200B, 0x200F}, {0x2060, 0x2064}, {0x20D0, 0x20FF},
	{0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0x3099, 0x309A},
};

static bool in(const struct range *r, size_t n, unsigned long c)
{
	for (size_t i = 0; i < n; i++)
		if (c >= r[i].lo && c <= r[i].hi)
			return true;
	return false;
}

/* The code point at s (advancing *len bytes), or the byte itself for
 * invalid UTF-8 (one cell, as text_escape shows it in a few). */
static unsigned long next_cp(const unsigned char *s, size_t *len)
{
	size_t need = s[0] >= 0xf0 ? 3 : s[0] >= 0xe0 ? 2 : s[0] >= 0xc0 ? 1 : 0;
	unsigned long c = need == 3 ? s[0] & 0x07u : need == 2 ? s[0] & 0x0fu : s[0] & 0x1fu;

	*len = 1;
	if (s[0] < 0x80 || !need)
		return s[0];
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return s[0];
		c = c << 6 | (s[i] & 0x3f);
	}
	*len = need + 1;
	return c;
}

size_t cli_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t w = 0, len;

	while (*p) {
		unsigned long c = next_cp(p, &len);

		p += len;
		if (in(zero, sizeof zero / sizeof zero[0], c))
			continue;
		w += in(wide, sizeof wide / sizeof wide[0], c) ? 2 : 1;
	}
	return w;
}

void cli_pad(FILE *f, const char *s, size_t width)
{
	size_t w = cli_width(s);

	fputs(s ? s : "", f);
	for (; w < width; w++)
		fputc(' ', f);
}

void cli_pad_right(FILE *f, const char *s, size_t width)
{
	for (size_t w = cli_width(s); w < width; w++)
		fputc(' ', f);
	fputs(s ? s : "", f);
}

void cli_cell(FILE *f, const char *s, size_t width, bool last)
{
	if (last) {
		fputs(s ? s : "", f);
		fputc('\n', f);
	} else {
		cli_pad(f, s, width);
		fputc(' ', f);
	}
}

const char *cli_time_local(char out[CLI_TIME_SIZE], uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (!localtime_r(&s, &tm) || !strftime(out, CLI_TIME_SIZE, "%Y-%m-%d %H:%M:%S %z", &tm))
		snprintf(out, CLI_TIME_SIZE, "%llu ms", (unsigned long long)ms);
	return out;
}
