/* SPDX-License-Identifier: MIT */
/*
 * The RFC 6962 / RFC 9162 Merkle tree of a feed (crypto/tlog.h): leaf and
 * node hashes, the frontier, and inclusion and consistency proofs.
 *
 * Proofs are built top-down: at each level the proof takes the hash of the
 * subtree on the other side of the split, and recurses into the side that
 * holds what is proved. Those subtrees are disjoint, so building a proof
 * reads each leaf at most once (O(size) leaf reads, O(log size) memory);
 * the hashes are collected from the top and reversed, because RFC 9162
 * (and Go's tlog.ProveRecord / ProveTree) list them from the bottom.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <sodium.h>

#include "crypto/tlog.h"

void tlog_leaf_hash(uint8_t out[TLOG_HASH_BYTES], const uint8_t entry_hash[HASH_BYTES])
{
	crypto_hash_sha256_state st;
	const uint8_t prefix = 0x00;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, entry_hash, HASH_BYTES);
	crypto_hash_sha256_final(&st, out);
}

void tlog_node_hash(uint8_t out[TLOG_HASH_BYTES], const uint8_t left[TLOG_HASH_BYTES],
		    const uint8_t right[TLOG_HASH_BYTES])
{
	uint8_t buf[1 + 2 * TLOG_HASH_BYTES];

	buf[0] = 0x01;
	memcpy(buf + 1, left, TLOG_HASH_BYTES);
	memcpy(buf + 1 + TLOG_HASH_BYTES, right, TLOG_HASH_BYTES);
	crypto_hash_sha256(out, buf, sizeof buf); /* out may alias left or right: buf is a copy */
}

void tlog_frontier_init(struct tlog_frontier *f)
{
	f->size = 0;
	f->n = 0;
}

void tlog_frontier_push(struct tlog_frontier *f, const uint8_t leaf_hash[TLOG_HASH_BYTES])
{
	uint8_t h[TLOG_HASH_BYTES];

	memcpy(h, leaf_hash, TLOG_HASH_BYTES);
	/* Each trailing 1 bit of size is a complete subtree of the same height
	 * as the one being carried: merge them, smallest first. */
	for (uint64_t s = f->size; s & 1; s >>= 1)
		tlog_node_hash(h, f->h[--f->n], h);
	memcpy(f->h[f->n++], h, TLOG_HASH_BYTES);
	f->size++;
}

void tlog_frontier_root(const struct tlog_frontier *f, uint8_t root[TLOG_HASH_BYTES])
{
	if (f->n == 0) {
		memset(root, 0, TLOG_HASH_BYTES); /* no tree of 0 leaves here (contract: size >= 1) */
		return;
	}
	memcpy(root, f->h[f->n - 1], TLOG_HASH_BYTES);
	for (size_t i = f->n - 1; i-- > 0;)
		tlog_node_hash(root, f->h[i], root);
}

/* The largest power of two smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

static int push_leaf(const uint8_t leaf_hash[TLOG_HASH_BYTES], void *acc)
{
	tlog_frontier_push(acc, leaf_hash);
	return 0;
}

/* MTH of leaves lo..hi-1, read through fn. */
static int subtree_hash(uint64_t lo, uint64_t hi, tlog_leaves_fn fn, void *arg, uint8_t out[TLOG_HASH_BYTES])
{
	struct tlog_frontier f;
	int ret;

	tlog_frontier_init(&f);
	if ((ret = fn(lo, hi, push_leaf, &f, arg)) != 0)
		return ret;
	if (f.size != hi - lo)
		return -EIO; /* the reader gave fewer leaves than asked */
	tlog_frontier_root(&f, out);
	return 0;
}

static void reverse(uint8_t path[][TLOG_HASH_BYTES], size_t n)
{
	uint8_t t[TLOG_HASH_BYTES];

	for (size_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
		memcpy(t, path[i], TLOG_HASH_BYTES);
		memcpy(path[i], path[j], TLOG_HASH_BYTES);
		memcpy(path[j], t, TLOG_HASH_BYTES);
	}
}

int tlog_prove_inclusion(uint64_t index, uint64_t size, tlog_leaves_fn fn, void *arg,
			 uint8_t path[][TLOG_HASH_BYTES], size_t *n_path, struct err *e)
{
	uint64_t lo = 0, hi = size; /* the subtree holding index */
	size_t n = 0;
	int ret;

	*n_path = 0;
	if (index >= size) {
		err_set(e, "no leaf %" PRIu64 " in a tree of %" PRIu64 " leaves", index, size);
		return -ERANGE;
	}
	while (hi - lo > 1) {
		uint64_t mid = lo + split_point(hi - lo);
		if (index < mid) {
			ret = subtree_hash(mid, hi, fn, arg, path[n]);
			hi = mid;
		} else {
			ret = subtree_hash(lo, mid, fn, arg, path[n]);
			lo = mid;
		}
		if (ret != 0) {
			err_set(e, "reading the leaves of a tree of %" PRIu64 " leaves failed", size);
			return ret;
		}
		n++;
	}
	reverse(path, n);
	*n_path = n;
	return 0;
}

bool tlog_check_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[TLOG_HASH_BYTES],
			  const uint8_t path[][TLOG_HASH_BYTES], size_t n_path,
			  const uint8_t root[TLOG_HASH_BYTES])
{
	uint8_t r[TLOG_HASH_BYTES];
	uint64_t fn = index, sn = size - 1;

	if (index >= size || n_path > TLOG_PATH_MAX)
		return false;
	memcpy(r, leaf_hash, TLOG_HASH_BYTES);
	for (size_t i = 0; i < n_path; i++) { /* RFC 9162 2.1.3.2 */
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			tlog_node_hash(r, path[i], r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			tlog_node_hash(r, r, path[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(r, root, TLOG_HASH_BYTES) == 0;
}

int tlog_prove_consistency(uint64_t m, uint64_t n, tlog_leaves_fn fn, void *arg,
			   uint8_t path[][TLOG_HASH_BYTES], size_t *n_path, struct err *e)
{
	uint64_t lo = 0, hi = n, mm = m; /* SUBPROOF(mm, D[lo:hi], b) */
	bool b = true;
	size_t k = 0;
	int ret = 0;

	*n_path = 0;
	if (m < 1 || m > n) {
		err_set(e, "no consistency proof from %" PRIu64 " to %" PRIu64 " leaves (need 1 <= m <= n)", m, n);
		return -ERANGE;
	}
	while (mm != hi - lo) { /* RFC 9162 2.1.4.1 */
		uint64_t split = split_point(hi - lo), mid = lo + split;
		if (mm <= split) {
			ret = subtree_hash(mid, hi, fn, arg, path[k]);
			hi = mid;
		} else {
			ret = subtree_hash(lo, mid, fn, arg, path[k]);
			lo = mid;
			mm -= split;
			b = false;
		}
		if (ret != 0)
			break;
		k++;
	}
	if (ret == 0 && !b && (ret = subtree_hash(lo, hi, fn, arg, path[k])) == 0)
		k++;
	if (ret != 0) {
		err_set(e, "reading the leaves of a tree of %" PRIu64 " leaves failed", n);
		return ret;
	}
	reverse(path, k);
	*n_path = k;
	return 0;
}

/* The "right-shift fn and sn until" loops of RFC 9162: while_set, while
 * fn's low bit is set; else while it is clear and fn is not 0. */
static void shift_while(uint64_t *fn, uint64_t *sn, bool while_set)
{
	if (while_set) {
		while (*fn & 1) {
			*fn >>= 1;
			*sn >>= 1;
		}
	} else {
		while (!(*fn & 1) && *fn != 0) {
			*fn >>= 1;
			*sn >>= 1;
		}
	}
}

bool tlog_check_consistency(uint64_t m, const uint8_t root_m[TLOG_HASH_BYTES], uint64_t n,
			    const uint8_t root_n[TLOG_HASH_BYTES], const uint8_t path[][TLOG_HASH_BYTES],
			    size_t n_path)
{
	uint8_t fr[TLOG_HASH_BYTES], sr[TLOG_HASH_BYTES];
	size_t i = 0;

	if (m < 1 || m > n || n_path > TLOG_PATH_MAX)
		return false;
	if (m == n)
		return n_path == 0 && sodium_memcmp(root_m, root_n, TLOG_HASH_BYTES) == 0;
	if (n_path == 0)
		return false;
	/* RFC 9162 2.1.4.2: a first tree that is a complete subtree is its own
	 * first hash, not sent in the proof. */
	bool pow2 = (m & (m - 1)) == 0;
	if (pow2) {
		memcpy(fr, root_m, TLOG_HASH_BYTES);
	} else {
		memcpy(fr, path[0], TLOG_HASH_BYTES);
		i = 1;
	}
	memcpy(sr, fr, TLOG_HASH_BYTES);
	uint64_t fn = m - 1, sn = n - 1;
	shift_while(&fn, &sn, true);
	for (; i < n_path; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			tlog_node_hash(fr, path[i], fr);
			tlog_node_hash(sr, path[i], sr);
			shift_while(&fn, &sn, false);
		} else {
			tlog_node_hash(sr, sr, path[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(fr, root_m, TLOG_HASH_BYTES) == 0 &&
	       sodium_memcmp(sr, root_n, TLOG_HASH_BYTES) == 0;
}
