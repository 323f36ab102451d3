/* SPDX-License-Identifier: MIT */
/*
 * strata: the entry point and the one table of commands: the fixed ones,
 * and one command per record type a person types (record_types()), so that
 * a new type gets its command, --help, import and export from its file in
 * node/records alone.
 */
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "node/cli/cli.h"
#include "node/records/records.h"

/* The commands before and after the record types'. Summaries are marked
 * N_() and translated where `strata --help` prints them. */
static const struct cli_cmd first_cmds[] = {
	{"init", cmd_init_main, N_("create a node: key file, store, config")},
	{"id", cmd_id_main, N_("print the node's key, org path and root key")},
	{NULL, NULL, NULL},
};

static const struct cli_cmd last_cmds[] = {
	{"transfer", cmd_transfer_main, N_("move a member to another branch: release, accept, refuse, list")},
	{"report", cmd_report_main, N_("one-click reports: submit, show (--tree), accept, return")},
	{"log", cmd_log_main, N_("print the signed history, entry by entry")},
	{"verify", cmd_verify_main, N_("re-check every signature, chain and record in the store")},
	{"invite", cmd_invite_main, N_("make a one-time join token for a child, peer or auditor")},
	{"join", cmd_join_main, N_("enroll this node with its parent using a join token")},
	{"revoke", cmd_revoke_main, N_("revoke the key of a node this node certified")},
	{"erase", cmd_erase_main, N_("remove a record's value from every store that holds it")},
	{"rotate-key", cmd_rotate_main, N_("replace this node's key; the parent certifies the new one")},
	{"serve", cmd_serve_main, N_("run the node: replicate with parent, children and peers")},
	{"backup", cmd_backup_main, N_("write a consistent copy of the live store to a file")},
	{"restore", cmd_restore_main, N_("put a backup back; writes wait until the links confirm the heads")},
	{"fence", cmd_fence_main, N_("show or lift the write fence (after a restore or a snapshot)")},
	{"status", cmd_status_main, N_("links, feed heads, lag, last errors, evidence")},
	{"metrics", cmd_metrics_main, N_("print the store's size and growth as Prometheus metrics")},
	{"export", cmd_export_main, N_("write feeds to a bundle file (no network, auditors)")},
	{"import", cmd_import_main, N_("read a bundle file, with the network's checks")},
	{"audit", cmd_audit_main, N_("check a store or a bundle against a pinned root key")},
	{"prove", cmd_prove_main, N_("write a proof that an entry is in a witnessed checkpoint")},
	{NULL, NULL, NULL},
};

/* Record types whose command has a file of its own (its help and printing);
 * every other type typed by a person is run by cmd_record_main. */
static const struct cli_cmd own_record_cmds[] = {
	{"member", cmd_member_main, NULL},
	{NULL, NULL, NULL},
};

/* Is t a type a person types with a command of its own: it has a field
 * table and a summary, and is not another type's companion (written with
 * that type's command)? */
static bool typed_record(const struct record_type *t, const struct record_type *const *all, size_t n)
{
	if (!t->fields || !t->summary)
		return false;
	for (size_t i = 0; i < n; i++)
		if (all[i]->companion == t)
			return false;
	return true;
}

/* Calls fn for every command in the order of `strata --help`: the first
 * ones, one per record type (record_types()), the last ones. A non-zero
 * return stops and is returned. */
static int each_cmd(int (*fn)(const struct cli_cmd *c, void *arg), void *arg)
{
	size_t n;
	const struct record_type *const *all = record_types(&n);
	int ret = 0;

	for (const struct cli_cmd *c = first_cmds; !ret && c->name; c++)
		ret = fn(c, arg);
	for (size_t i = 0; !ret && i < n; i++) {
		struct cli_cmd c = {all[i]->collection, cmd_record_main, all[i]->summary};

		if (!typed_record(all[i], all, n))
			continue;
		for (const struct cli_cmd *o = own_record_cmds; o->name; o++)
			if (strcmp(o->name, c.name) == 0)
				c.main = o->main;
		ret = fn(&c, arg);
	}
	for (const struct cli_cmd *c = last_cmds; !ret && c->name; c++)
		ret = fn(c, arg);
	return ret;
}

static int print_cmd(const struct cli_cmd *c, void *arg)
{
	fprintf(arg, "  %-10s %s\n", c->name, _(c->summary));
	return 0;
}

/* The command a name runs. */
struct find {
	const char *name;
	struct cli_cmd found;
};

static int find_cmd(const struct cli_cmd *c, void *arg)
{
	struct find *f = arg;

	if (strcmp(c->name, f->name) != 0)
		return 0;
	f->found = *c;
	return 1;
}

static const struct cli_cmd *cli_cmd_find(const char *name, struct find *f)
{
	f->name = name;
	return each_cmd(find_cmd, f) ? &f->found : NULL;
}

static void usage(FILE *f)
{
	cli_help(f, "usage: strata COMMAND [-d DIR] [options]\n\n"
		   "Strata keeps an organization's records as signed, hash-chained feeds in a\n"
		   "local store, one node per org unit.\n\ncommands:\n");
	each_cmd(print_cmd, f);
	cli_help(f, "\n"
		   "Every command takes -d DIR (default: $STRATA_DIR, then the current directory)\n"
		   "and --help; commands that print data take --json.\n\n"
		   "exit codes: 0 ok, 1 usage error, 2 rejected input, 3 verification failure,\n"
		   "            4 system error (no node, store unusable, disk full)\n");
}

/* Replication and imports allocate and free buffers of about 1 MiB per
 * batch (a frame, its decompressed copy, its decoded entries, LMDB's dirty
 * overflow pages). glibc would serve each from a fresh mmap, or trim the
 * heap after it, and every byte is then faulted in again: 15-25 % of a
 * receiver's time in bench/compare.sh. Keep them in the heap, and keep up
 * to 64 MiB of freed heap for the next batch.
 *
 * On the virtual machines Strata is measured on, even the first touch of a
 * heap page costs ~15 us (a 4 KiB fault: 1 MiB costs 4 ms), which made a
 * receiver's first batch 3-5 times slower than the next ones. So:
 * - one malloc arena for every thread (the verify worker, ZeroMQ's I/O
 *   thread): freed memory is reused by whichever thread allocates next,
 *   instead of each thread faulting in its own arena;
 * - the heap is extended once by HEAP_RESERVE (address space only: nothing
 *   is resident until touched) and that range is advised as huge pages, so
 *   it is faulted in 2 MiB at a time (transparent huge pages in "madvise"
 *   mode, as Debian ships them; with "never" this changes nothing).
 * Under a sanitizer or valgrind, malloc is not glibc's heap: the range check
 * below leaves it alone. Only tunings: every call may fail harmlessly. */
#define HEAP_RESERVE (48u << 20) /* at most twice M_MMAP_THRESHOLD's maximum, 32 MiB */
#define HUGE_PAGE (2u << 20)

static void malloc_policy(void)
{
#ifdef __GLIBC__
	void *lo_chunk, *hi_chunk;
	uintptr_t lo, hi;

	const char *perturb = getenv("MALLOC_PERTURB_");

	mallopt(M_ARENA_MAX, 1);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	/* Under MALLOC_PERTURB_ (meson test sets a random one) glibc fills
	 * every chunk on malloc and on free: the reserve below would cost two
	 * 48 MiB fills, ~0.5 s per command, most of the suite's time in the
	 * tests that run many commands. The reserve only saves page faults, so
	 * a perturbed process goes without it. */
	if (perturb && *perturb && strcmp(perturb, "0") != 0) {
		mallopt(M_MMAP_THRESHOLD, 8 << 20);
		return;
	}
	/* two chunks of half the reserve from the heap (above the threshold
	 * they would be mmaps), freed at once into its top */
	mallopt(M_MMAP_THRESHOLD, HEAP_RESERVE);
	lo_chunk = malloc(HEAP_RESERVE / 2);
	hi_chunk = malloc(HEAP_RESERVE / 2);
	lo = (uintptr_t)lo_chunk;
	hi = (uintptr_t)sbrk(0);
	if (lo_chunk && hi_chunk && (uintptr_t)hi_chunk > lo && hi != (uintptr_t)-1 && lo < hi &&
	    hi - lo <= 2 * (uintptr_t)HEAP_RESERVE) {
		lo &= ~(uintptr_t)(HUGE_PAGE - 1);
		hi &= ~(uintptr_t)(HUGE_PAGE - 1);
		if (lo < hi)
			madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
	}
	free(hi_chunk);
	free(lo_chunk);
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
#endif
}

int main(int argc, char **argv)
{
	const struct cli_cmd *c;
	struct find f;

	malloc_policy();
	cli_i18n_init();
	if (keys_init() < 0) {
		fprintf(stderr, _("strata: libsodium could not start\n"));
		return EXIT_SYSTEM;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0 && (c = cli_cmd_find(argv[2], &f))) {
			char *args[] = {argv[2], "--help", NULL};

			return c->main(2, args);
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("strata %s\n", STRATA_VERSION);
		return EXIT_OK;
	}
	if ((c = cli_cmd_find(argv[1], &f)))
		return c->main(argc - 1, argv + 1);
	fprintf(stderr, _("strata: unknown command \"%s\"\n\n"), argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
