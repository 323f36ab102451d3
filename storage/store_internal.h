/* SPDX-License-Identifier: MIT */
/*
 * storage internals shared by the .c files of storage/: the store and
 * transaction structs, the LMDB error mapper, and the byte layouts of the
 * keys and values of the named databases (see store.h).
 */
#ifndef STRATA_STORE_INTERNAL_H
#define STRATA_STORE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/tlog.h"
#include "storage/store.h"

#define STORE_AUTHOR_LEN 32
#define STORE_HASH_LEN 32
/* feeds value: head seq (8) | head hash (32) | flags (4), then the tree's
 * frontier: popcount(seq) hashes of 32 bytes (store.h "the Merkle tree").
 * A record written before the tree existed stops after the flags. */
#define STORE_HEAD_VAL_LEN (8 + STORE_HASH_LEN + 4)
#define STORE_HEAD_VAL_MAX (STORE_HEAD_VAL_LEN + TLOG_HEIGHT_MAX * TLOG_HASH_BYTES)
/* the largest key any of our databases uses; LMDB's default limit is 511 */
#define STORE_KEY_MAX 512
/* A buffer for a path in the store's directory: PATH_MAX (4096) and room
 * for a file name of LMDB's ("/data.mdb"). */
#define STORE_PATH_MAX 4200

struct store {
	MDB_env *env;
	MDB_dbi feeds, log, state, meta, index;
	int flags;
	size_t max_key; /* mdb_env_get_maxkeysize */
	void *map;      /* data.mdb's mapping, found on the first store_map_release */
	size_t map_len;
	struct store_map_conf conf; /* the map's size, ceiling and headroom (grow.c) */
	pthread_rwlock_t grow_lock; /* shared by every open transaction, exclusive to resize */
	bool lock_ready;
	atomic_bool grow_wanted;    /* a write failed with MDB_MAP_FULL: grow before the next */
	atomic_uint_fast64_t grown_unsaved; /* growths not yet counted in meta map_grown */
	store_grow_fn *on_grow;
	void *on_grow_arg;
	char dir[];     /* for reasons: "store DIR: ..." */
};

struct store_txn {
	struct store *s;
	MDB_txn *txn;
	bool write;
};

/* Maps an LMDB (or errno) return code to a negative errno code and, for a
 * failure, writes "CONTEXT: what went wrong (MDB_NAME)" into e, where
 * CONTEXT is printf(fmt, ...). 0 stays 0. The one place that knows LMDB's
 * codes: MDB_NOTFOUND -> -ENOENT, MDB_MAP_FULL -> -ENOSPC, corruption ->
 * -EIO, MDB_READERS_FULL -> -EAGAIN, errno codes pass through negated. */
int lmdb_err(int rc, struct err *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* --- grow.c: the map's growth (store.h "Growth of the map") --- */
/* The store whose write transaction this thread holds (set by
 * store_txn_begin, cleared at its end): lmdb_err's MDB_MAP_FULL names it. */
extern _Thread_local struct store *store_tl_writer;
int store_grow_lock_init(struct store *s);
/* Takes / drops s->grow_lock shared and counts it as held by this thread. */
void store_lock_shared(struct store *s);
void store_unlock_shared(struct store *s);
/* Does this thread hold a transaction of s? */
bool store_held_by_me(const struct store *s);
/* Before a write transaction: grows the map when a write failed for want
 * of room or its free room is under the headroom. An LMDB code. */
int store_map_before_write(struct store *s);
/* After MDB_MAP_RESIZED: adopts the map size another process set. */
int store_map_adopt(struct store *s);
/* The ceiling of the map: conf.max, or what the free disk allows. */
uint64_t store_map_ceiling(const struct store *s, uint64_t used);
/* MDB_MAP_FULL: marks the writer's store for growth and sets the reason
 * (retry, or the ceiling and what to raise). -ENOSPC. */
int store_map_full(const char *ctx, struct err *e);
/* store_txn_begin without the growth check (grow.c's own count). */
int store_txn_begin_raw(struct store *s, bool write, struct store_txn **out, struct err *e);

/* Writes a short printable name of a feed, "1a2b3c4d/posts", for reasons. */
void store_feed_label(char *out, size_t size, const uint8_t author[32], const char *feed);

/* Checks a feed name (1..255 bytes) and returns its length, or -EINVAL with
 * a reason. */
int store_feed_check(const struct store *s, const char *feed, struct err *e);

/* Reads the head record of (author, feed) within txn into *h (author and
 * feed always filled). MDB_NOTFOUND, 0, or another LMDB code; -EIO with a
 * reason for a malformed record. Used by append in its nested txn. */
int store_head_read(struct store *s, MDB_txn *txn, const uint8_t author[32], const char *feed,
		    size_t feed_len, struct store_head *h, struct err *e);

/* Writes the head record of (author, feed) with the frontier f (whose size
 * is h->seq); f NULL keeps the stored record's frontier (same seq: flags
 * only). Returns an LMDB code. */
int store_head_write(struct store *s, MDB_txn *txn, const struct store_head *h, size_t feed_len,
		     const struct tlog_frontier *f);

/* --- tree.c --- */
/* The frontier of the feed whose head h was just read in txn: from its
 * record, or rebuilt from the entry hashes in `log` when the record is
 * older than the tree (*rebuilt set). 0 or a negative errno with a reason. */
int store_frontier_load(struct store *s, MDB_txn *txn, const struct store_head *h, size_t feed_len,
			struct tlog_frontier *f, bool *rebuilt, struct err *e);

/* Applies one op of an entry by author at (feed, seq) to state in txn:
 * a put stores the value with its origin, a delete removes the key (a
 * missing key is fine). 0 or a negative errno with a reason. */
int store_state_apply(struct store *s, MDB_txn *txn, const uint8_t author[32], const char *feed,
		      size_t feed_len, uint64_t seq, const struct store_op *op, struct err *e);

/* Closes and opens s's environment again, in place (no transaction of s
 * may be open): LMDB then forgets the page buffers it recycles between
 * write transactions, which hold copies of pages written before. On
 * failure s has no environment and the error says why. */
int store_reopen(struct store *s, struct err *e);

/* -EROFS with a reason unless t is a write transaction. */
int store_txn_writable(const struct store_txn *t, const char *what, struct err *e);

/* feeds key: author(32) | feed name. buf holds STORE_KEY_MAX. */
static inline size_t feed_key(uint8_t *buf, const uint8_t author[32], const char *feed,
			      size_t feed_len)
{
	memcpy(buf, author, STORE_AUTHOR_LEN);
	memcpy(buf + STORE_AUTHOR_LEN, feed, feed_len);
	return STORE_AUTHOR_LEN + feed_len;
}

/* log key prefix: author(32) | len(1) | feed name; the length byte keeps
 * feed "a" from being a prefix of feed "ab". */
static inline size_t log_prefix(uint8_t *buf, const uint8_t author[32], const char *feed,
				size_t feed_len)
{
	memcpy(buf, author, STORE_AUTHOR_LEN);
	buf[STORE_AUTHOR_LEN] = (uint8_t)feed_len;
	memcpy(buf + STORE_AUTHOR_LEN + 1, feed, feed_len);
	return STORE_AUTHOR_LEN + 1 + feed_len;
}

/* log key: the prefix then seq (u64 BE), so one feed's entries sort by seq. */
static inline size_t log_key(uint8_t *buf, const uint8_t author[32], const char *feed,
			     size_t feed_len, uint64_t seq)
{
	size_t n = log_prefix(buf, author, feed, feed_len);
	be64_put(buf + n, seq);
	return n + 8;
}

#endif
