/* SPDX-License-Identifier: MIT */
/*
 * crypto/tlog: RFC 6962 roots against a naive recursive MTH, every
 * inclusion and consistency proof of small trees against the RFC's
 * recursive definitions, tampered proofs refused; signed checkpoint notes:
 * round trip, cosignatures, every malformed note refused with its reason,
 * and the C2SP published examples.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "crypto/tlog.h"

#define LEAVES_MAX 300
#define PROOF_N 70

static uint8_t leaves[LEAVES_MAX][TLOG_HASH_BYTES];

static void setup(void)
{
	cr_assert_eq(keys_init(), 0);
	for (uint64_t i = 0; i < LEAVES_MAX; i++) {
		uint8_t b[8], eh[HASH_BYTES];
		be64_put(b, i);
		hash_blake2b(eh, b, sizeof b);
		tlog_leaf_hash(leaves[i], eh);
	}
}

/* RFC 6962 2.1, literally. */
static void mth(uint64_t lo, uint64_t hi, uint8_t out[TLOG_HASH_BYTES])
{
	uint8_t l[TLOG_HASH_BYTES], r[TLOG_HASH_BYTES];
	uint64_t k = 1;

	if (hi - lo == 1) {
		memcpy(out, leaves[lo], TLOG_HASH_BYTES);
		return;
	}
	while (2 * k < hi - lo)
		k *= 2;
	mth(lo, lo + k, l);
	mth(lo + k, hi, r);
	tlog_node_hash(out, l, r);
}

/* RFC 9162 PATH(m, D[lo:hi]), bottom first. */
static size_t naive_path(uint64_t m, uint64_t lo, uint64_t hi, uint8_t out[][TLOG_HASH_BYTES])
{
	uint64_t k = 1;
	size_t n;

	if (hi - lo <= 1)
		return 0;
	while (2 * k < hi - lo)
		k *= 2;
	if (m < k) {
		n = naive_path(m, lo, lo + k, out);
		mth(lo + k, hi, out[n]);
	} else {
		n = naive_path(m - k, lo + k, hi, out);
		mth(lo, lo + k, out[n]);
	}
	return n + 1;
}

/* RFC 9162 SUBPROOF(m, D[lo:hi], b). */
static size_t naive_subproof(uint64_t m, uint64_t lo, uint64_t hi, bool b, uint8_t out[][TLOG_HASH_BYTES])
{
	uint64_t k = 1;
	size_t n;

	if (m == hi - lo) {
		if (b)
			return 0;
		mth(lo, hi, out[0]);
		return 1;
	}
	while (2 * k < hi - lo)
		k *= 2;
	if (m <= k) {
		n = naive_subproof(m, lo, lo + k, b, out);
		mth(lo + k, hi, out[n]);
	} else {
		n = naive_subproof(m - k, lo + k, hi, false, out);
		mth(lo, lo + k, out[n]);
	}
	return n + 1;
}

static int read_leaves(uint64_t from, uint64_t to, int (*each)(const uint8_t *, void *), void *acc, void *arg)
{
	(void)arg;
	for (uint64_t i = from; i < to; i++) {
		int ret = each(leaves[i], acc);
		if (ret)
			return ret;
	}
	return 0;
}

Test(tlog_tree, roots_match_naive_mth, .init = setup)
{
	struct tlog_frontier f;
	uint8_t want[TLOG_HASH_BYTES], got[TLOG_HASH_BYTES];

	tlog_frontier_init(&f);
	for (uint64_t n = 1; n <= LEAVES_MAX; n++) {
		tlog_frontier_push(&f, leaves[n - 1]);
		cr_assert_eq(f.size, n);
		cr_assert_eq(f.n, (size_t)__builtin_popcountll(n));
		mth(0, n, want);
		tlog_frontier_root(&f, got);
		cr_assert_arr_eq(got, want, TLOG_HASH_BYTES, "root of %lu leaves", (unsigned long)n);
	}
}

Test(tlog_tree, leaf_and_node_hash_are_rfc6962, .init = setup)
{
	uint8_t eh[HASH_BYTES] = {1, 2, 3}, buf[1 + 64], want[32], got[32];

	buf[0] = 0;
	memcpy(buf + 1, eh, 32);
	crypto_hash_sha256(want, buf, 33);
	tlog_leaf_hash(got, eh);
	cr_assert_arr_eq(got, want, 32);
	buf[0] = 1;
	memcpy(buf + 1, leaves[0], 32);
	memcpy(buf + 33, leaves[1], 32);
	crypto_hash_sha256(want, buf, 65);
	tlog_node_hash(got, leaves[0], leaves[1]);
	cr_assert_arr_eq(got, want, 32);
}

/* Every single-bit-ish change of a valid inclusion proof is refused. */
static void inclusion_tampered(uint64_t i, uint64_t n, uint8_t path[][TLOG_HASH_BYTES], size_t np,
			       const uint8_t root[TLOG_HASH_BYTES])
{
	for (size_t j = 0; j < np; j++) {
		path[j][j % 32] ^= 0x01;
		cr_assert_not(tlog_check_inclusion(i, n, leaves[i], path, np, root));
		path[j][j % 32] ^= 0x01;
	}
	if (np > 0)
		cr_assert_not(tlog_check_inclusion(i, n, leaves[i], path, np - 1, root), "short path");
	memcpy(path[np], leaves[0], 32);
	cr_assert_not(tlog_check_inclusion(i, n, leaves[i], path, np + 1, root), "long path");
	/* (another size with the same root may pass: the checkpoint binds size and root) */
	if (n > 1)
		cr_assert_not(tlog_check_inclusion((i + 1) % n, n, leaves[i], path, np, root), "other index");
	cr_assert_not(tlog_check_inclusion(i, n, leaves[(i + 1) % LEAVES_MAX], path, np, root), "other leaf");
	cr_assert_not(tlog_check_inclusion(n, n, leaves[i], path, np, root), "index past size");
}

Test(tlog_tree, every_inclusion_proof_up_to_70, .init = setup)
{
	uint8_t path[TLOG_PATH_MAX + 1][TLOG_HASH_BYTES], want[TLOG_PATH_MAX][TLOG_HASH_BYTES], root[32];
	size_t np;
	struct err e = {0};

	for (uint64_t n = 1; n <= PROOF_N; n++) {
		mth(0, n, root);
		for (uint64_t i = 0; i < n; i++) {
			cr_assert_eq(tlog_prove_inclusion(i, n, read_leaves, NULL, path, &np, &e), 0, "%s", e.msg);
			cr_assert_eq(np, naive_path(i, 0, n, want));
			cr_assert_arr_eq(path, want, np * 32, "path of %lu in %lu", (unsigned long)i, (unsigned long)n);
			cr_assert(tlog_check_inclusion(i, n, leaves[i], path, np, root));
			inclusion_tampered(i, n, path, np, root);
		}
		cr_assert_eq(tlog_prove_inclusion(n, n, read_leaves, NULL, path, &np, &e), -ERANGE);
	}
}

static void consistency_tampered(uint64_t m, uint64_t n, uint8_t path[][TLOG_HASH_BYTES], size_t np,
				 const uint8_t rm[32], const uint8_t rn[32])
{
	for (size_t j = 0; j < np; j++) {
		path[j][0] ^= 0x80;
		cr_assert_not(tlog_check_consistency(m, rm, n, rn, path, np), "%lu->%lu elem %zu", (unsigned long)m,
			      (unsigned long)n, j);
		path[j][0] ^= 0x80;
	}
	if (np > 0)
		cr_assert_not(tlog_check_consistency(m, rm, n, rn, path, np - 1), "short");
	memcpy(path[np], leaves[3], 32);
	cr_assert_not(tlog_check_consistency(m, rm, n, rn, path, np + 1), "long");
	cr_assert_not(tlog_check_consistency(m, rn, n, rn, path, np) && m != n, "old root swapped");
	cr_assert_not(tlog_check_consistency(m, rm, n, rm, path, np) && m != n, "new root swapped");
}

Test(tlog_tree, every_consistency_proof_up_to_70, .init = setup)
{
	uint8_t path[TLOG_PATH_MAX + 1][TLOG_HASH_BYTES], want[TLOG_PATH_MAX][TLOG_HASH_BYTES];
	uint8_t rm[32], rn[32];
	size_t np;
	struct err e = {0};

	for (uint64_t n = 1; n <= PROOF_N; n++) {
		mth(0, n, rn);
		for (uint64_t m = 1; m <= n; m++) {
			mth(0, m, rm);
			cr_assert_eq(tlog_prove_consistency(m, n, read_leaves, NULL, path, &np, &e), 0, "%s", e.msg);
			cr_assert_eq(np, naive_subproof(m, 0, n, true, want), "%lu->%lu", (unsigned long)m, (unsigned long)n);
			cr_assert_arr_eq(path, want, np * 32);
			cr_assert(tlog_check_consistency(m, rm, n, rn, path, np), "%lu->%lu", (unsigned long)m,
				  (unsigned long)n);
			consistency_tampered(m, n, path, np, rm, rn);
		}
	}
	cr_assert_eq(tlog_prove_consistency(0, 3, read_leaves, NULL, path, &np, &e), -ERANGE);
	cr_assert_eq(tlog_prove_consistency(4, 3, read_leaves, NULL, path, &np, &e), -ERANGE);
}

static int short_reader(uint64_t from, uint64_t to, int (*each)(const uint8_t *, void *), void *acc, void *arg)
{
	(void)arg;
	return read_leaves(from, to > from ? to - 1 : to, each, acc, NULL);
}

Test(tlog_tree, a_reader_that_gives_fewer_leaves_fails, .init = setup)
{
	uint8_t path[TLOG_PATH_MAX][TLOG_HASH_BYTES];
	size_t np;
	struct err e = {0};

	cr_assert_lt(tlog_prove_inclusion(3, 10, short_reader, NULL, path, &np, &e), 0);
	cr_assert_lt(tlog_prove_consistency(3, 10, short_reader, NULL, path, &np, &e), 0);
}
