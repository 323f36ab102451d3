/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for every CSV importer: `strata member import` and
 * `strata TYPE import` of each record type of the generic engine, run as
 * the CLI runs them (domain_import, the library function both call: the
 * bulk writer for members, one transaction for the others) on the
 * bytes as the file,
 * into the scratch node (made once, with three members so that records can
 * name them; closed while an importer opens it, as LMDB wants one
 * environment per process). An import is all or nothing: when it fails,
 * the store must have committed nothing. A file holding a control byte
 * (other than TAB and the line ends CR and LF) has it in some cell, and a
 * cell with a control byte is refused: such an import must fail.
 *
 * Input: one byte choosing the importer (bit 7: any import with
 * --dry-run; the low 7 bits modulo 1 + the number of record types: 0 the
 * members, i the i-th record type that has a field table), then the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/domain/domain.h"
#include "node/records/records.h"
#include "tests/fuzz/scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static const struct record_type *types[32];
static size_t ntypes;
static char path[512];

static void write_file(const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || (n && fwrite(d, 1, n, f) != n) || fclose(f) != 0)
		abort();
}

/* The start of the store's data file, which holds LMDB's two meta pages:
 * any commit changes one of them (its transaction id), and an import that
 * fails or a dry run must commit nothing. Reading the file rather than
 * opening the node keeps the target fast: the importers open it anyway. */
#define STORE_HEAD_BYTES 65536

static size_t store_head(uint8_t *out)
{
	char p[600];
	FILE *f;
	size_t n;

	snprintf(p, sizeof p, "%s/%s/data.mdb", scratch_dir(), NODE_STORE_DIR);
	if (!(f = fopen(p, "rb")))
		abort();
	n = fread(out, 1, STORE_HEAD_BYTES, f);
	fclose(f);
	return n;
}

static int run(const char *cmd, bool dry)
{
	struct domain_import_opts o = {.dry_run = dry};
	struct domain_import_result r;
	struct err e = {0};
	int ret;

	ret = domain_import(scratch_dir(), record_type_find(cmd), path, &o, &r, &e);
	domain_import_result_release(&r);
	return ret < 0 ? 1 : 0;
}

static void setup(void)
{
	static const char members[] = "id,name,category,joined\n"
				      "M0001,Li Wei,full,2001-07-01\n"
				      "M0002,Wang Fang,probationary,2024-03-15\n"
				      "M0003,Zhang Min,full,1990-10-01\n";
	size_t nt;
	const struct record_type *const *all = record_types(&nt);

	scratch_node();
	scratch_close();
	for (size_t i = 0; i < nt && ntypes < sizeof types / sizeof types[0]; i++)
		if (all[i]->fields)
			types[ntypes++] = all[i];
	snprintf(path, sizeof path, "%s/input.csv", scratch_dir());
	write_file((const uint8_t *)members, sizeof members - 1);
	if (run("member", false) != 0)
		abort();
}

/* A control byte that no CSV syntax takes: it can only sit in a cell. */
static bool has_control(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((d[i] < 0x20 && d[i] != '\t' && d[i] != '\r' && d[i] != '\n') || d[i] == 0x7f)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static uint8_t before[STORE_HEAD_BYTES], after[STORE_HEAD_BYTES];
	size_t which, nb, na;
	bool dry;
	int code;

	if (!ntypes)
		setup();
	if (n < 1)
		return 0;
	which = (d[0] & 0x7f) % (1 + ntypes);
	dry = (d[0] & 0x80) != 0;
	write_file(d + 1, n - 1);
	nb = store_head(before);
	code = run(which ? types[which - 1]->collection : "member", dry);
	na = store_head(after);
	if ((code != 0 || dry) && (na != nb || memcmp(before, after, nb) != 0)) {
		fprintf(stderr, "fuzz_csv: a %s import that %s changed the store\n",
			which ? types[which - 1]->collection : "member", dry ? "was a dry run" : "failed");
		abort();
	}
	if (code == 0 && has_control(d + 1, n - 1)) {
		fprintf(stderr, "fuzz_csv: a %s import took a file with a control byte\n",
			which ? types[which - 1]->collection : "member");
		abort();
	}
	return 0;
}
