/* SPDX-License-Identifier: MIT */
/*
 * strata member import: a CSV of members into the registry, all or nothing
 * as far as input goes (node/domain, domain_import, says how). This
 * file parses the options, reports progress on a terminal and prints.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "node/cli/cli.h"
#include "node/domain/domain.h"
#include "node/sync/sync.h"

#define PROGRESS_WHAT "importing members"

static void help(FILE *f)
{
	cli_help(f,
		"usage: strata member import [-d DIR] FILE.csv [--dry-run] [--update] [--json]\n\n"
		"Imports members from a CSV file (UTF-8, comma-separated, RFC 4180 quoting;\n"
		"a file Excel saved in GBK is read as GB18030 and the command says so).\n"
		"The header row names the columns, in any order, in English or Chinese:\n"
		"  id,name,category,joined            required (编号,姓名,类别,入党日期)\n"
		"  status,phone,birth,gender,address  optional (状态,电话,出生日期,性别,家庭住址;\n"
		"                                     status defaults to active)\n"
		"Dates are YYYY-MM-DD, 2026/3/5, 2026-3-5 or 2026年3月5日; category is full or\n"
		"probationary (正式党员, 预备党员); gender is female, male or other (女, 男, 其他).\n\n"
		"The whole file is checked first. If any row is bad (a wrong date, an unknown\n"
		"category, a duplicate id, a missing column, a control byte), every bad line\n"
		"is listed and nothing is imported (exit 2); a file neither UTF-8 nor GB18030\n"
		"is refused whole. Members already in the registry with exactly the same\n"
		"values are skipped, so an import that was interrupted can be run again; a\n"
		"member already there with other values is an error (use strata member\n"
		"update, or --update). Imports and other writers\n"
		"may run at the same time: these checks are made again if another writer got\n"
		"in first.\n\n"
		"  --dry-run  check the file and report, write nothing\n"
		"  --update   a member stored with other values is updated to the row (a column\n"
		"             the file lacks clears that field); each change is printed\n"
		"  --json     print the result as JSON\n");
}

static void progress(size_t done, size_t total, void *arg)
{
	*(bool *)arg = true;
	cli_progress(PROGRESS_WHAT, done, total);
}

/* Writing allocates and frees, per change set and per transaction, buffers
 * of hundreds of KiB to a few MiB (the decoded change set, LMDB's page
 * lists). By default glibc hands those back to the kernel (munmap, or
 * trimming the heap) and they are faulted in again the next time: for
 * 209,000 members some 1,000 page faults, 5 % of the CPU time on a virtual
 * machine. This process ends when the import does: keep the memory. Only a
 * tuning: the calls may fail harmlessly. */
static void keep_memory(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

static void print_result(const char *path, const struct domain_import_result *r, bool dry, bool json)
{
	size_t todo = r->rows - r->unchanged;

	if (json)
		cli_json_print(cli_import_json(path, r, dry));
	else if (dry)
		printf("%s: %zu rows are valid: %zu would be imported, %zu already present\n", path, r->rows, todo,
		       r->unchanged);
	else
		printf("imported %zu member%s from %s in %zu change set%s (up head #%llu); %zu already present\n", todo,
		       todo == 1 ? "" : "s", path, r->changesets, r->changesets == 1 ? "" : "s",
		       (unsigned long long)r->head, r->unchanged);
}

int cmd_member_import_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'}, {"json", no_argument, NULL, 'j'},
		{"dry-run", no_argument, NULL, 'n'},   {"help", no_argument, NULL, 'h'},
		{"update", no_argument, NULL, 'U'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	bool shown = false;
	struct domain_import_opts o = {.progress = progress, .arg = &shown};
	struct domain_import_result r;
	struct err e = {0};
	int opt, ret, code = EXIT_OK;

	cli_common_init(&c);
	keep_memory();
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'j': c.json = true; break;
		case 'n': o.dry_run = true; break;
		case 'U': o.update = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("member import", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("member import", "give exactly one CSV file");
	ret = domain_import(c.dir, &record_member, argv[optind], &o, &r, &e);
	if (r.written)
		sync_notify(c.dir);
	if (shown)
		cli_progress_done(PROGRESS_WHAT);
	if (!c.json)
		cli_import_notes("member import", argv[optind], &r, o.dry_run);
	if (ret < 0)
		code = cli_report_bad("member import", argv[optind], &r, ret, &e);
	else
		print_result(argv[optind], &r, o.dry_run, c.json);
	domain_import_result_release(&r);
	return code;
}
