/* SPDX-License-Identifier: MIT */
/*
 * What every command shares: defaults, error lines, exit codes, JSON output
 * and the progress line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/audit/audit.h"
#include "node/cli/cli.h"
#include "node/domain/domain.h"

#define CLI_BAD_ROWS_SHOWN 50 /* an import's bad rows listed; then "... and N more" */
#define MSG_SIZE 2048          /* a message before it is escaped */
#include "node/records/records.h"

void cli_common_init(struct cli_common *c)
{
	const char *env = getenv("STRATA_DIR");

	c->dir = env && *env ? env : ".";
	c->json = false;
}

int cli_parse_common(const char *what, int argc, char **argv, struct cli_common *c, void (*help)(FILE *f),
		     int nargs, const char *args_desc)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	cli_common_init(c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c->dir = optarg; break;
		case 'j': c->json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage(what, "unknown option");
		}
	}
	if (argc - optind != nargs) {
		if (nargs == 0)
			return cli_usage(what, "unexpected argument \"%s\"", argv[optind]);
		return cli_usage(what, "give exactly %s", args_desc);
	}
	return CLI_GO_ON;
}

/* Prints a message that may quote untrusted text (a CSV cell, an id, a
 * token, a peer's error) escaped: text_escape, crypto/escape.c. The format
 * is translated first (cli.h: _()). */
static void print_escaped(const char *fmt, va_list ap)
{
	char msg[MSG_SIZE], out[TEXT_ESCAPE_EXPANSION * sizeof msg];
	int n = vsnprintf(msg, sizeof msg, _(fmt), ap);

	if (n < 0)
		return;
	text_escape(out, sizeof out, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
	fputs(out, stderr);
}

int cli_fail(const char *what, int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "strata: %s: ", what);
	va_start(ap, fmt);
	print_escaped(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int cli_exit_for(int ret)
{
	switch (-ret) {
	case 0:
		return EXIT_OK;
	case EINVAL:
	case EEXIST:
	case EBADMSG:
	case EACCES:
	case E2BIG:
	case ERANGE:
	case EBADE:
	case EPERM:
	case ESRCH:
		return EXIT_REJECTED;
	default:
		return EXIT_SYSTEM;
	}
}

int cli_fail_err(const char *what, int ret, const struct err *e)
{
	return cli_fail(what, cli_exit_for(ret), "%s", e->msg[0] ? e->msg : strerror(-ret));
}

int cli_usage(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "strata: %s: ", what);
	va_start(ap, fmt);
	print_escaped(fmt, ap);
	va_end(ap);
	fprintf(stderr, _("\n(see strata %s --help)\n"), what);
	return EXIT_USAGE;
}

void cli_json_dumpf(const json_t *j, FILE *f, size_t flags)
{
	char *s = json_dumps(j, flags);

	if (!s) {
		fputs("null", f);
		return;
	}
	cli_json_puts(s, f);
	free(s);
}

void cli_json_puts(const char *s, FILE *f)
{
	const unsigned char *p = (const unsigned char *)s;

	/* jansson escapes C0 controls; C1 controls and the bidirectional
	 * overrides it writes as UTF-8. Outside strings JSON is ASCII, so
	 * these sequences are inside strings, where \uXXXX means the same. */
	while (*p) {
		/* the bytes up to the next that may begin one: written at once
		 * (report show --json writes megabytes through here) */
		size_t run = strcspn((const char *)p, "\xc2\xe2");

		if (run) {
			fwrite(p, 1, run, f);
			p += run;
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fprintf(f, "\\u%04x", p[1]);
			p += 2;
		} else if (p[0] == 0xe2 && ((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
					    (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9))) {
			fprintf(f, "\\u%04x", 0x2000 | (p[1] & 0x3f) << 6 | (p[2] & 0x3f));
			p += 3;
		} else {
			fputc(*p++, f);
		}
	}
}

void cli_json_print(json_t *j)
{
	if (!j) {
		fputs("null\n", stdout);
		return;
	}
	cli_json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(j);
}

void cli_progress(const char *what, size_t done, size_t total)
{
	enum { WIDTH = 30 };
	char bar[WIDTH + 1];
	size_t fill = total ? done * WIDTH / total : 0;

	if (!isatty(STDERR_FILENO))
		return;
	for (size_t i = 0; i < WIDTH; i++)
		bar[i] = i < fill ? '#' : ' ';
	bar[WIDTH] = '\0';
	fprintf(stderr, "\r%s %3zu%% [%s] %zu/%zu", what, total ? done * 100 / total : 100, bar, done, total);
	fflush(stderr);
}

void cli_progress_done(const char *what)
{
	(void)what;
	if (isatty(STDERR_FILENO))
		fputc('\n', stderr);
}

void cli_key_short(char out[CLI_KEY_SHORT_SIZE], const unsigned char *key)
{
	hex_encode(out, key, 8);
	strcpy(out + 16, "…"); /* 3 bytes of UTF-8 and the NUL */
}

const char *cli_record_key_text(char *out, size_t cap, const uint8_t *key, size_t len)
{
	if (text_valid((const char *)key, len) && len < cap) {
		memcpy(out, key, len);
		out[len] = '\0';
	} else {
		hex_encode(out, key, len < (cap - 1) / 2 ? len : (cap - 1) / 2);
	}
	return out;
}

FILE *cli_open_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), saved;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fchmod(fd, 0600) < 0 || !(f = fdopen(fd, "w"))) {
		saved = errno;
		close(fd);
		errno = saved;
		return NULL;
	}
	return f;
}

/* Lists the bad rows and returns the exit code for the refusal in e. */
json_t *cli_import_json(const char *file, const struct domain_import_result *r, bool dry)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->nchanges; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:s}", "key", r->changes[i].key, "line",
						   (json_int_t)r->changes[i].line, "changes", r->changes[i].what));
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:b, s:I, s:o, s:s}", "file", file, "rows", (json_int_t)r->rows,
			 "imported", (json_int_t)(dry ? 0 : r->rows - r->unchanged), "unchanged", (json_int_t)r->unchanged,
			 "changesets", (json_int_t)r->changesets, "dry_run", dry, "updated", (json_int_t)r->updated,
			 "changes", a, "encoding", r->gb18030 ? "GB18030" : "UTF-8");
}

void cli_import_notes(const char *what, const char *file, const struct domain_import_result *r, bool dry)
{
	if (r->gb18030)
		fprintf(stderr, _("strata: %s: %s is not UTF-8: read as GB18030 (GBK), as Chinese Excel saves \"CSV\"\n"),
			what, file);
	for (size_t i = 0; i < r->nchanges; i++)
		printf(dry ? _("would update %s (line %zu): %s\n") : _("updated %s (line %zu): %s\n"), esc(r->changes[i].key),
		       r->changes[i].line, esc(r->changes[i].what));
}

int cli_report_bad(const char *what, const char *file, const struct domain_import_result *r, int ret,
		   const struct err *e)
{
	for (size_t i = 0; i < r->nbad && i < CLI_BAD_ROWS_SHOWN; i++)
		fprintf(stderr, "strata: %s: %s:%zu: %s\n", what, file, r->bad[i].line, esc(r->bad[i].msg));
	if (r->nbad > CLI_BAD_ROWS_SHOWN)
		fprintf(stderr, _("strata: %s: ... and %zu more bad rows\n"), what, r->nbad - CLI_BAD_ROWS_SHOWN);
	return cli_fail_err(what, ret, e);
}
