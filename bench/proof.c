/* SPDX-License-Identifier: MIT */
/*
 * strata-bench-proof: the size of an inclusion proof and the time to check
 * it, beside issue 15's targets (a feed of 1,000,000 entries: under 1 KiB,
 * checked in under 1 ms). Prints figures, asserts nothing.
 *
 * 1. A synthetic feed of N entries (default 1,000,000): entry hashes
 *    BLAKE2b-256(seq) through the crypto API (crypto/tlog.h), the frontier
 *    and its root, inclusion proofs of the first, middle and last entries
 *    (O(N) to build), and the check (O(log N)): median per check over many.
 * 2. A real store (storage/, NOSYNC) of M entries (default 100,000): the
 *    root at the head from the frontier, a proof of the middle entry from
 *    the log, append cost with the frontier (entries per second).
 * 3. A real proof file: a root node's own trust entry proved with
 *    audit_proof_build and checked with audit_proof_check (the light audit:
 *    signatures, chain, path), its size and check time; the size of the
 *    same file with a path of N entries is that plus the longer path.
 *
 * usage: strata-bench-proof [N [M]] [--json]
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/tlog.h"
#include "node/audit/proof.h"
#include "node/core/node.h"
#include "storage/store.h"

#define DEFAULT_N 1000000
#define DEFAULT_M 100000
#define CHECK_ROUNDS 101
#define CHECKS_PER_ROUND 200
#define FILE_ROUNDS 51
#define TARGET_BYTES 1024
#define TARGET_MS 1.0
#define PATH_ELEM_WIRE 34 /* a 32-byte path hash in the Proof message: tag, length, bytes */

static uint8_t (*leaves)[TLOG_HASH_BYTES];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int read_leaves(uint64_t from, uint64_t to, int (*each)(const uint8_t *, void *), void *acc, void *arg)
{
	(void)arg;
	for (uint64_t i = from; i < to; i++)
		if (each(leaves[i], acc))
			return -1;
	return 0;
}

static void die(const char *what, const struct err *e)
{
	fprintf(stderr, "strata-bench-proof: %s: %s\n", what, e ? e->msg : strerror(errno));
	exit(1);
}

/* Median microseconds of one inclusion check of leaf index in a tree of n. */
static double check_us(uint64_t index, uint64_t n, uint8_t path[][TLOG_HASH_BYTES], size_t np, const uint8_t root[32])
{
	double t[CHECK_ROUNDS];

	for (int r = 0; r < CHECK_ROUNDS; r++) {
		double t0 = now_s();
		for (int k = 0; k < CHECKS_PER_ROUND; k++)
			if (!tlog_check_inclusion(index, n, leaves[index], (const uint8_t(*)[32])path, np, root))
				die("a valid proof did not check", NULL);
		t[r] = (now_s() - t0) / CHECKS_PER_ROUND * 1e6;
	}
	qsort(t, CHECK_ROUNDS, sizeof t[0], cmp_double);
	return t[CHECK_ROUNDS / 2];
}

struct synthetic {
	double build_s, prove_s, check_us;
	size_t path_max;
};

static void synthetic(uint64_t n, struct synthetic *out)
{
	struct tlog_frontier f;
	uint8_t root[32], path[TLOG_PATH_MAX][32], eh[32], seq[8];
	const uint64_t at[3] = {0, n / 2, n - 1};
	struct err e = {0};
	size_t np;

	if (!(leaves = malloc(n * sizeof *leaves)))
		die("memory for the leaves", NULL);
	double t0 = now_s();
	tlog_frontier_init(&f);
	for (uint64_t i = 0; i < n; i++) {
		be64_put(seq, i + 1);
		hash_blake2b(eh, seq, sizeof seq);
		tlog_leaf_hash(leaves[i], eh);
		tlog_frontier_push(&f, leaves[i]);
	}
	tlog_frontier_root(&f, root);
	out->build_s = now_s() - t0;
	out->path_max = 0;
	out->check_us = 0;
	t0 = now_s();
	for (int k = 0; k < 3; k++) {
		if (tlog_prove_inclusion(at[k], n, read_leaves, NULL, path, &np, &e) < 0)
			die("prove", &e);
		out->path_max = np > out->path_max ? np : out->path_max;
		double us = check_us(at[k], n, path, np, root);
		out->check_us = us > out->check_us ? us : out->check_us;
	}
	out->prove_s = (now_s() - t0) / 3;
}

struct stored {
	double append_per_s, root_us, prove_s;
	size_t path;
};

static void store_backed(uint64_t m, const char *dir, struct stored *out)
{
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	uint8_t author[32], prev[32] = {0}, hash[32], seq8[8], root[32], path[TLOG_PATH_MAX][32];
	const char body[] = "a bench entry";

	memset(author, 7, sizeof author);
	if (store_open(&s, dir, STORE_CREATE | STORE_NOSYNC, &e) < 0 || store_txn_begin(s, true, &t, &e) < 0)
		die("store", &e);
	double t0 = now_s();
	for (uint64_t i = 1; i <= m; i++) {
		be64_put(seq8, i);
		hash_blake2b(hash, seq8, sizeof seq8);
		struct store_entry en = {.author = author, .feed = "report", .seq = i, .prev = prev, .hash = hash,
					 .bytes = (const uint8_t *)body, .len = sizeof body - 1};
		if (store_append(t, &en, &e) < 0)
			die("append", &e);
		memcpy(prev, hash, 32);
	}
	if (store_txn_commit(&t, &e) < 0)
		die("commit", &e);
	out->append_per_s = (double)m / (now_s() - t0);
	if (store_txn_begin(s, false, &t, &e) < 0)
		die("read", &e);
	t0 = now_s();
	for (int k = 0; k < 1000; k++)
		if (store_tree_root(t, author, "report", m, root, &e) < 0)
			die("root", &e);
	out->root_us = (now_s() - t0) / 1000 * 1e6;
	t0 = now_s();
	if (store_tree_inclusion(t, author, "report", m / 2 + 1, m, path, &out->path, &e) < 0)
		die("inclusion", &e);
	out->prove_s = now_s() - t0;
	store_txn_abort(&t);
	store_close(&s);
}

struct filefig {
	size_t bytes, path;
	double check_us;
};

static void proof_file(const char *dir, struct filefig *out)
{
	struct node_init_opts o = {.name = "bench", .root = true};
	struct audit_proof_request rq = {.feed = "trust", .seq = 1};
	struct audit_proof_info info;
	struct err e = {0};
	uint8_t *file = NULL;
	size_t len;
	char hex[KEY_HEX];
	struct node *n = NULL;
	double t[FILE_ROUNDS];

	if (node_create(dir, &o, &e) < 0 || node_open(&n, dir, NODE_RDONLY | NODE_NO_KEY, &e) < 0)
		die("node", &e);
	key_hex(hex, node_id(n));
	node_close(&n);
	rq.author = hex;
	if (audit_proof_build(dir, &rq, &file, &len, &info, &e) < 0)
		die("prove", &e);
	uint8_t root[KEY_BYTES];
	if (hex_decode(root, KEY_BYTES, hex) < 0)
		die("key", NULL);
	for (int r = 0; r < FILE_ROUNDS; r++) {
		double t0 = now_s();
		if (audit_proof_check(file, len, root, &info, &e) < 0)
			die("check", &e);
		t[r] = (now_s() - t0) * 1e6;
	}
	qsort(t, FILE_ROUNDS, sizeof t[0], cmp_double);
	out->bytes = len;
	out->path = info.n_path;
	out->check_us = t[FILE_ROUNDS / 2];
	free(file);
}

int main(int argc, char **argv)
{
	uint64_t n = DEFAULT_N, m = DEFAULT_M;
	bool json = false;
	int pos = 0;
	char tmp[] = "/tmp/strata-bench-proof-XXXXXX", sdir[64], ndir[64], cmd[128];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (pos++ == 0)
			n = strtoull(argv[i], NULL, 10);
		else
			m = strtoull(argv[i], NULL, 10);
	}
	if (n < 2 || m < 2 || keys_init() < 0 || !mkdtemp(tmp)) {
		fprintf(stderr, "usage: strata-bench-proof [N [M]] [--json]   (N, M >= 2)\n");
		return 1;
	}
	snprintf(sdir, sizeof sdir, "%s/store", tmp);
	snprintf(ndir, sizeof ndir, "%s/node", tmp);
	if (mkdir(sdir, 0700) < 0)
		die(sdir, NULL);
	struct synthetic sy;
	struct stored st;
	struct filefig ff;
	synthetic(n, &sy);
	store_backed(m, sdir, &st);
	proof_file(ndir, &ff);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "strata-bench-proof: could not remove %s\n", tmp);
	size_t path_bytes = sy.path_max * TLOG_HASH_BYTES;
	size_t file_at_n = ff.bytes + (sy.path_max - ff.path) * PATH_ELEM_WIRE;
	if (json) {
		printf("{\"entries\": %llu, \"path_hashes\": %zu, \"path_bytes\": %zu, \"proof_file_bytes_at_n\": %zu, "
		       "\"check_us_median\": %.2f, \"prove_s\": %.3f, \"build_s\": %.3f, \"store_entries\": %llu, "
		       "\"store_append_per_s\": %.0f, \"store_root_at_head_us\": %.2f, \"store_prove_s\": %.3f, "
		       "\"file_bytes\": %zu, \"file_check_us_median\": %.1f}\n",
		       (unsigned long long)n, sy.path_max, path_bytes, file_at_n, sy.check_us, sy.prove_s, sy.build_s,
		       (unsigned long long)m, st.append_per_s, st.root_us, st.prove_s, ff.bytes, ff.check_us);
		return 0;
	}
	printf("Inclusion proofs (issue 15), a feed of %llu entries (synthetic, crypto/tlog.c):\n", (unsigned long long)n);
	printf("  path                %zu hashes, %zu bytes              target < %d bytes: %s\n", sy.path_max,
	       path_bytes, TARGET_BYTES, path_bytes < TARGET_BYTES ? "met" : "MISSED");
	printf("  proof file          %zu bytes (entry, signed note, path; the root's own feed: no chain)  %s\n",
	       file_at_n, file_at_n < TARGET_BYTES ? "met" : "over 1 KiB: the entry and note, not the path");
	printf("  check (path only)   %.2f us median                  target < %.0f ms: %s\n", sy.check_us,
	       TARGET_MS, sy.check_us < TARGET_MS * 1000 ? "met" : "MISSED");
	printf("  build the tree      %.2f s; one proof %.2f s (O(n): read every leaf once)\n", sy.build_s, sy.prove_s);
	printf("A real store of %llu entries (storage/, no fsync):\n", (unsigned long long)m);
	printf("  append with the frontier  %.0f entries/s; root at the head %.2f us; a proof from the log %.3f s (%zu hashes)\n",
	       st.append_per_s, st.root_us, st.prove_s, st.path);
	printf("A real proof file (strata prove of a root's own entry, strata audit FILE --root):\n");
	printf("  %zu bytes with a path of %zu; the light audit (signatures, chain, path) %.1f us median  target < %.0f ms: %s\n",
	       ff.bytes, ff.path, ff.check_us, TARGET_MS, ff.check_us < TARGET_MS * 1000 ? "met" : "MISSED");
	return 0;
}
