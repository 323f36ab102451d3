/* SPDX-License-Identifier: MIT */
/*
 * The `strata` command line: one table of commands (main.c), one
 * cmd_<name>.c per command, and the conventions they share: options, exit
 * codes, error lines, JSON output and progress on a terminal.
 */
#ifndef STRATA_CLI_H
#define STRATA_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <libintl.h>

#include "crypto/crypto.h"
#include "node/audit/audit.h"
#include "node/records/numbers.h"

/* Exit codes, the same for every command (documented in `strata --help`). */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_USAGE = 1,    /* wrong options or arguments */
	EXIT_REJECTED = 2, /* input refused: bad record, bad CSV row, unknown id */
	EXIT_VERIFY = 3,   /* a signature, chain or state check failed */
	EXIT_SYSTEM = 4,   /* the environment failed: no node, store locked/corrupt, disk full */
};

struct cli_cmd {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

/* --timeout SECONDS of the commands that wait for a parent (join, rotate-key). */
#define CLI_TIMEOUT_MIN_S 1
#define CLI_TIMEOUT_MAX_S 3600

/* What an option parser returns when the command goes on; any other
 * return is the exit code to return at once (help printed: EXIT_OK, or a
 * usage error). Exit codes are never negative. */
#define CLI_GO_ON (-1)

/* Options every command takes. */
struct cli_common {
	const char *dir; /* -d DIR, else $STRATA_DIR, else "." */
	bool json;       /* --json */
};

/* Fills c with the defaults (dir from $STRATA_DIR or "."). */
void cli_common_init(struct cli_common *c);

/* Parses a command that takes only -d DIR, --json and --help, and exactly
 * nargs positional arguments (described by args_desc for errors). Returns
 * CLI_GO_ON (the arguments are argv[optind...]), else the exit code to
 * return at once (help printed, or a usage error). */
int cli_parse_common(const char *what, int argc, char **argv, struct cli_common *c, void (*help)(FILE *f),
		     int nargs, const char *args_desc);

/* Prints "strata: WHAT: REASON" to stderr and returns code. */
int cli_fail(const char *what, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prints "strata: WHAT: e->msg" and returns the exit code for errno-style
 * ret (cli_exit_for). */
int cli_fail_err(const char *what, int ret, const struct err *e);

/* The exit code for a negative errno from the lower layers. */
int cli_exit_for(int ret);

/* Prints a usage error with a hint to --help; returns EXIT_USAGE. */
int cli_usage(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens path for writing (created or truncated) with mode 0600 whatever
 * the umask: for files that hold personal data or secrets. NULL and errno
 * on failure. */
FILE *cli_open_private(const char *path);

/* Writes j to stdout as indented JSON and a newline; takes the reference. */
void cli_json_print(json_t *j);

struct node;
/* Prints "pinned_roots" and "agreements" of J (node_agreements_add) as
 * text (agreement_print.c). */
void cli_agreements_print(json_t *j);
/* json_dumpf with C1 controls and bidirectional overrides in strings
 * written \uXXXX too (jansson escapes only C0): untrusted text in JSON
 * output cannot act on a terminal either. */
void cli_json_dumpf(const json_t *j, FILE *f, size_t flags);
/* Writes JSON text s (whole UTF-8) to f as cli_json_dumpf writes its dump:
 * C1 controls and bidirectional overrides inside strings as \uXXXX. */
void cli_json_puts(const char *s, FILE *f);

/* Progress on a terminal: "\rWHAT  45% [#####     ] 94000/209000". Does
 * nothing when stderr is not a terminal. cli_progress_done ends the line. */
void cli_progress(const char *what, size_t done, size_t total);
void cli_progress_done(const char *what);

/* Writes a short form of a 32-byte key ("1a2b3c4d5e6f7a8b…") into out. */
#define CLI_KEY_SHORT_SIZE 20 /* 16 hex digits, "…" (3 bytes) and a NUL */
void cli_key_short(char out[CLI_KEY_SHORT_SIZE], const unsigned char *key);

#define CLI_TIME_SIZE 32 /* a time as text ("2026-01-02 11:04:05 +0800") and its NUL, with room */

/* --- the user's language (i18n.c) and what a person reads (display.c) --- */

/* A message of the CLI in the user's language: _() looks it up in the
 * catalog of ERR_TEXTDOMAIN (po/zh_CN.po), N_() marks a string in a table
 * for xgettext and is translated where it is printed. English is the
 * default; a message with no translation prints in English. */
#define _(s) gettext(s)
#ifndef N_
#define N_(s) (s)
#endif

/* _() with a context, for a word that translates differently in two
 * places (C_("unit", "JOINED"): a unit's join date, not a member's). */
const char *cli_pgettext(const char *ctx_msgid, const char *msgid);
#define C_(ctx, s) cli_pgettext(ctx "\004" s, s)

/* Sets up gettext once at start (main.c): LC_MESSAGES from the
 * environment, the catalog from $STRATA_LOCALEDIR, the build tree or the
 * install's localedir (i18n.c says which when). Never fails: without a
 * catalog every message is English. */
void cli_i18n_init(void);

/* fprintf(f, _(fmt), ...): a command's --help text. */
void cli_help(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The number of terminal cells UTF-8 text s takes: two for a Chinese (East
 * Asian Wide or Fullwidth) character, none for a combining mark, one for
 * anything else (an invalid byte included); the same in every locale.
 * NULL counts as "". */
size_t cli_width(const char *s);

/* Writes s, then spaces up to width cells (none if s is wider): a column
 * of a table, left-aligned; cli_pad_right puts the spaces first. */
void cli_pad(FILE *f, const char *s, size_t width);
void cli_pad_right(FILE *f, const char *s, size_t width);
/* One cell of a table row: s padded to width cells and a space, or, for
 * the last cell, s and the newline. */
void cli_cell(FILE *f, const char *s, size_t width, bool last);

/* A time (ms since the epoch) for people: the process's time zone (TZ)
 * with its offset, "2026-03-05 14:30:00 +0800"; returns out. JSON output
 * keeps UTC (ISO 8601 or ms), never this. */
const char *cli_time_local(char out[CLI_TIME_SIZE], uint64_t ms);

/* A record key as text when it is text, else as hex, into out. */
const char *cli_record_key_text(char *out, size_t cap, const uint8_t *key, size_t len);

/* An erased value found by verify or audit (node/audit): as JSON (a new
 * reference) and as one line "ERASED author…/feed #seq: ...". */
struct verify_erased;
json_t *cli_erased_json(const struct verify_erased *x);
void cli_erased_print(const struct verify_erased *x);

/* What `strata report` prints for people (report_print.c): a report's
 * figures as two lines under LABEL at INDENT (the figures JSON of
 * figures_json); report show as lines, as the walk goes (tree: every level);
 * the --summary table with the units not reported. 0 or the walk's -errno
 * (e says why; what was printed stays). */
struct node;
void cli_report_figures(const char *label, json_t *f, int indent);
int cli_report_view_text(struct node *n, const char *period, bool tree, struct err *e) WUR;
int cli_report_summary_text(struct node *n, const char *period, struct err *e) WUR;

/* What verify and audit print of a walk over a store (check_print.c):
 * failures and erased values, for people or (json) gathered in arrays. */
struct check_print {
	bool json;
	json_t *failures, *erased; /* with json: arrays, owned until handed on */
	json_t *evidence;       /* with json: proofs of equivocation that hold */
	size_t shown, erased_shown;
	const char *doing;      /* the progress word: "verifying" */
	const char *storewide;  /* before a failure with no author: "store: " */
};
/* Sets p up and returns the hooks for verify_node / audit_node /
 * audit_bundle (their arg is p). */
struct verify_hooks cli_check_print_init(struct check_print *p, bool json, const char *doing, const char *storewide);
/* Prints "... and N more" for what went beyond the first 100. */
void cli_check_print_more(const struct check_print *p);
/* Releases the JSON arrays (on an error path). */
void cli_check_print_free(struct check_print *p);

int cmd_init_main(int argc, char **argv);
int cmd_id_main(int argc, char **argv);
int cmd_backup_main(int argc, char **argv);
int cmd_restore_main(int argc, char **argv);
int cmd_fence_main(int argc, char **argv);
int cmd_member_main(int argc, char **argv);
int cmd_log_main(int argc, char **argv);
int cmd_verify_main(int argc, char **argv);
int cmd_invite_main(int argc, char **argv);
int cmd_join_main(int argc, char **argv);
int cmd_serve_main(int argc, char **argv);
int cmd_status_main(int argc, char **argv);
int cmd_metrics_main(int argc, char **argv);
int cmd_export_main(int argc, char **argv);
int cmd_import_main(int argc, char **argv);
int cmd_audit_main(int argc, char **argv);
int cmd_prove_main(int argc, char **argv);
/* cmd_prove.c: does PATH start with the proof magic; the light audit of a
 * proof file against ROOT (strata audit FILE --root KEY); an exit code. */
bool cli_is_proof_file(const char *path);
int cli_audit_proof(const char *path, const uint8_t root[KEY_BYTES], const char *root_hex, bool json);
int cmd_revoke_main(int argc, char **argv);
int cmd_rotate_main(int argc, char **argv);
int cmd_erase_main(int argc, char **argv);
int cmd_transfer_main(int argc, char **argv);
int cmd_record_main(int argc, char **argv);
int cmd_report_main(int argc, char **argv); /* every type of the generic record engine */

/* Prints an import's bad rows (the first 50) and the refusal in e, and
 * returns its exit code (cmd_record.c). */
struct domain_import_result;
/* What an import tells besides its count: that the file was read as
 * GB18030 (stderr), and each record an --update changes, "updated KEY
 * (line N): field: old → new; ..." (stdout; "would update" on a dry run). */
void cli_import_notes(const char *what, const char *file, const struct domain_import_result *r, bool dry);
/* An import's result as JSON (new reference): file, rows, imported,
 * unchanged, changesets, dry_run, updated, changes [{key, line, changes}],
 * encoding ("UTF-8" or "GB18030"). */
json_t *cli_import_json(const char *file, const struct domain_import_result *r, bool dry);
int cli_report_bad(const char *what, const char *file, const struct domain_import_result *r, int ret,
		   const struct err *e);

/* The verbs of notice and dues beyond the generic ones (cmd_notice.c):
 * cmd_record_more runs one (argv[1] the verb) and returns its exit code, or
 * CLI_GO_ON when it is not one of them; cmd_record_help_more prints their
 * usage for the type's --help. */
struct record_type;
int cmd_record_more(const struct record_type *t, int argc, char **argv);
void cmd_record_help_more(FILE *f, const struct record_type *t);

/* member subcommands (cmd_member*.c) */
int cmd_member_import_main(int argc, char **argv);

#endif
