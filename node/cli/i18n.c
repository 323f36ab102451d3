/* SPDX-License-Identifier: MIT */
/*
 * The CLI in the user's language: gettext set up once in main (the domain
 * ERR_TEXTDOMAIN, "strata"), and --help texts translated on the way out.
 *
 * Where the catalog is (decided; docs/HACKING.md):
 * 1. $STRATA_LOCALEDIR if set (a packager's or a test's choice);
 * 2. the build tree's po/ when the running binary is the one in the build
 *    tree (/proc/self/exe is below STRATA_BUILD_ROOT): `build/node/strata`
 *    speaks Chinese without being installed;
 * 3. else the install's localedir (STRATA_LOCALEDIR_INSTALLED, from meson).
 *
 * Which language: the usual LC_ALL / LC_MESSAGES / LANG (and LANGUAGE).
 * Only LC_MESSAGES and LC_CTYPE are taken from the environment (LC_CTYPE so
 * that the C library's own messages, getopt's and strerror's, come out in
 * the same language and codeset): numbers, dates and sorting stay those of
 * the C locale, so that `12.50` is read and written the same in every
 * locale, and Strata's catalog is written out as UTF-8 whatever the
 * locale's codeset. When the locale named is not installed on
 * the machine (a Debian without `locales` has only C.UTF-8, and setlocale
 * refuses zh_CN.UTF-8), messages are still looked up in the language named:
 * LC_MESSAGES and LC_CTYPE fall back to C.UTF-8 and LANGUAGE (which gettext honours
 * in every locale but "C") is set to that name unless already set.
 */
#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/cli/cli.h"

/* The locale name the environment asks for, for messages. */
static const char *wanted_messages_locale(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};

	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return v;
	}
	return NULL;
}

/* Is the running binary below the build tree? */
static bool running_from_build(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	size_t root = strlen(STRATA_BUILD_ROOT);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	return (size_t)n > root && strncmp(exe, STRATA_BUILD_ROOT, root) == 0 && exe[root] == '/';
}

void cli_i18n_init(void)
{
	const char *dir = getenv("STRATA_LOCALEDIR");
	const char *want;

	if (!setlocale(LC_CTYPE, ""))
		setlocale(LC_CTYPE, "C.UTF-8");
	if (!setlocale(LC_MESSAGES, "") && (want = wanted_messages_locale()) && strcmp(want, "C") != 0 &&
	    strcmp(want, "POSIX") != 0 && setlocale(LC_MESSAGES, "C.UTF-8"))
		setenv("LANGUAGE", want, 0);
	if (!dir || !*dir)
		dir = running_from_build() ? STRATA_BUILD_ROOT "/po" : STRATA_LOCALEDIR_INSTALLED;
	bindtextdomain(ERR_TEXTDOMAIN, dir);
	bind_textdomain_codeset(ERR_TEXTDOMAIN, "UTF-8");
	textdomain(ERR_TEXTDOMAIN);
}

void cli_help(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, gettext(fmt), ap);
	va_end(ap);
}
