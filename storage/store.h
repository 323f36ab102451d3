/* SPDX-License-Identifier: MIT */
/*
 * storage: one node's LMDB environment. Named databases:
 *   feeds  author(32) | feed name  -> head seq (u64 BE) | head hash (32) | flags (u32 BE)
 *   log    author(32) | len(1) | feed name | seq (u64 BE) -> entry hash (32) | envelope bytes
 *   state  collection | NUL | owner(32) | key -> feed len(1) | feed | seq (u64 BE) | value
 *   meta   name -> bytes (schema version, own key, org path, pinned roots, ...)
 *   index  index name | NUL | key -> bytes: secondary indexes kept by callers
 *          in the same transaction as the entries they index (certificates
 *          by subject, invitations, equivocation evidence)
 * Appending an entry checks seq and prev and updates state in the same write
 * transaction. Storage knows nothing of encodings: callers hand it decoded,
 * already verified entries (struct store_entry). Depends on LMDB and the
 * crypto module's struct err only.
 *
 * Errors are negative errno codes with a reason in struct err; LMDB's codes
 * are mapped in one place (MDB_NOTFOUND -> -ENOENT, MDB_MAP_FULL -> -ENOSPC,
 * MDB_CORRUPTED/MDB_INVALID/MDB_VERSION_MISMATCH -> -EIO).
 */
#ifndef STRATA_STORE_H
#define STRATA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define STORE_SCHEMA 1 /* the schema version this build reads and writes */
#define STORE_FEED_MAX 255 /* bytes of a feed name (without its NUL) */

enum store_open_flags {
	STORE_CREATE = 1 << 0,   /* create the environment if missing */
	STORE_RDONLY = 1 << 1,   /* read-only (audits, listings) */
	STORE_NOSYNC = 1 << 2,   /* commits are not flushed to disk: scratch stores
				    (an audit's) that a crash may lose whole */
};

enum store_feed_flags {
	STORE_FEED_FROZEN = 1 << 0, /* equivocation seen: no more appends */
};

struct store;
struct store_txn;

/* Opens (or with STORE_CREATE creates) the store in directory DIR, which
 * holds data.mdb and lock.mdb. Clears reader slots left by dead processes.
 * Refuses with a clear reason: a missing store (-ENOENT: "no Strata store in
 * DIR"), a corrupt file (-EIO), a schema newer than STORE_SCHEMA
 * (-EPROTONOSUPPORT). Caller owns *out (store_close). */
int store_open(struct store **out, const char *dir, int flags, struct err *e) WUR;

/* --- Growth of the map ---
 * LMDB maps data.mdb into a fixed range of address space (the map) and
 * refuses a write past it. A store grows its map by itself (storage/grow.c):
 *   - before a write transaction, when the map's free room (map size minus
 *     the pages in use) is under its headroom: an eighth of the map, at
 *     least conf.headroom (512 MiB by default, more than one bounded write
 *     transaction of the node uses);
 *   - when a write failed with -ENOSPC for want of map (the reason says
 *     "it grows before the next write transaction: retry"), at the next
 *     write transaction's begin, so that a retry succeeds.
 * A growth doubles the map until the headroom fits, at most up to the
 * ceiling: conf.max, or with max 0 what the free disk allows (the file may
 * grow while its filesystem keeps 1 GiB or 5 % free, whichever is less).
 * At the ceiling a write that does not fit is refused with -ENOSPC and a
 * reason naming [store] map_max (or the disk); nothing of it is written.
 * Safe with concurrent readers (a transaction holds the store's lock
 * shared, a growth takes it exclusive: growth waits for the transactions
 * open in this process to end) and with other processes (one that finds
 * data past its map adopts the larger size at its next begin). A thread
 * holding a transaction never grows: its next begin with nothing held
 * does. Each growth adds one to meta "map_grown" and calls the store's
 * grow callback, if set. */
struct store_map_conf {
	uint64_t size;     /* initial map size in bytes; 0: 64 GiB. STRATA_MAP_SIZE overrides it */
	uint64_t max;      /* ceiling in bytes; 0: what the free disk allows */
	uint64_t headroom; /* least free room before a write; 0: 512 MiB (tests set less) */
};

/* One growth, as handed to the grow callback. */
struct store_growth {
	uint64_t from, to; /* map size before and after, bytes */
	uint64_t used;     /* bytes of the pages in use */
	uint64_t ceiling;  /* the ceiling it may grow to, bytes */
	bool ceiling_disk; /* the ceiling is what the free disk allows (max 0) */
};
typedef void store_grow_fn(void *arg, const struct store_growth *g);

/* store_open with the map's size, ceiling and headroom (NULL: defaults).
 * A data.mdb larger than conf->size opens with the size it needs. -EINVAL
 * (with a reason) for a size above a non-zero max. */
int store_open_map(struct store **out, const char *dir, int flags, const struct store_map_conf *conf,
		   struct err *e) WUR;

/* Sets the callback called after each growth of s's map (in the thread
 * that grew it, holding no transaction of s). Call before s is shared. */
void store_on_grow(struct store *s, store_grow_fn *fn, void *arg);

/* The map as this process sees it. */
struct store_map_info {
	uint64_t map_bytes;   /* the current map size */
	uint64_t max_bytes;   /* its ceiling now: [store] map_max, or what the free disk allows */
	bool max_from_disk;   /* max_bytes comes from the free disk (map_max 0) */
	uint64_t used_bytes;  /* bytes of the pages in use */
	uint64_t grown_total; /* growths of the map over the store's life (meta map_grown) */
};
int store_map_info(struct store *s, struct store_map_info *m, struct err *e) WUR;

/* Writes a consistent, compacted copy of s (one snapshot; other writers go
 * on) as a data.mdb file to fd, then syncs fd. 0 or a negative code. */
int store_copy_fd(struct store *s, int fd, struct err *e) WUR;

/* Closes *s and sets it to NULL. NULL-safe. Transactions must be ended. */
void store_close(struct store **s);

/* Begins a transaction; a write transaction waits for any other writer, in
 * this or another process, and may first grow the map ("Growth of the
 * map"). Caller owns *out: end it with commit or abort, in the thread
 * that began it (the map's growth counts each thread's transactions; a
 * thread may hold several at once). -EAGAIN when
 * another process grew the map past this one's while this thread holds
 * another transaction of s (end it and retry). */
int store_txn_begin(struct store *s, bool write, struct store_txn **out, struct err *e) WUR;

/* Commits (durably) and frees *t, sets *t NULL. On failure (-ENOSPC when
 * the disk or map is full, -EIO) nothing of the transaction is kept; for a
 * full map that can still grow, retrying the transaction succeeds. */
int store_txn_commit(struct store_txn **t, struct err *e) WUR;

/* Aborts and frees *t, sets *t NULL. NULL-safe. */
void store_txn_abort(struct store_txn **t);

/* --- feeds and log --- */

enum store_op_kind { STORE_PUT = 1, STORE_DELETE = 2 };

struct store_op {
	enum store_op_kind kind;
	const char *collection;   /* NUL-terminated, no NUL inside */
	const uint8_t *key;
	size_t key_len;
	const uint8_t *value;     /* puts: the value to store (may be NULL when erased) */
	size_t value_len;
};

/* A verified entry to append, as decoded by the caller. */
struct store_entry {
	const uint8_t *author;    /* 32 bytes; also the owner of every key in ops */
	const char *feed;         /* 1..255 bytes */
	uint64_t seq;
	const uint8_t *prev;      /* 32 bytes */
	const uint8_t *hash;      /* 32 bytes: this entry's hash */
	const uint8_t *bytes;     /* the envelope, stored exactly */
	size_t len;
	size_t n_ops;
	const struct store_op *ops;
};

/* Appends one entry and applies its ops to state, inside write transaction
 * t, as a nested transaction: on any failure nothing of this entry is
 * written and t stays usable. Returns:
 *   0          appended;
 *   -EALREADY  this exact entry (same seq and hash) is already stored: a no-op;
 *   -ERANGE    seq > head + 1: a gap (the reason names the head);
 *   -EBADE     seq <= head with a different hash, or seq == head + 1 with a
 *              prev that is not the head hash: a conflicting entry; nothing
 *              written (the caller records evidence and freezes the feed);
 *   -EPERM     the feed is frozen;
 *   -ENOSPC, -EIO, -ENOMEM. */
int store_append(struct store_txn *t, const struct store_entry *en, struct err *e) WUR;

/* A feed head. seq 0 and a zero hash when the feed is unknown. */
struct store_head {
	uint8_t author[32];
	char feed[STORE_FEED_MAX + 1];
	uint64_t seq;
	uint8_t hash[32];
	uint32_t flags;
};

/* Reads the head of (author, feed) into *h; -ENOENT (with *h zeroed but
 * author and feed filled) when the store has no such feed. */
int store_head_get(struct store_txn *t, const uint8_t author[32], const char *feed,
		   struct store_head *h, struct err *e) WUR;

/* Sets flags of an existing feed (e.g. STORE_FEED_FROZEN). -ENOENT. */
int store_feed_set_flags(struct store_txn *t, const uint8_t author[32], const char *feed,
			 uint32_t flags, struct err *e) WUR;

/* Calls fn for every feed head in key order. A non-zero return from fn
 * stops the walk and is returned. */
int store_heads_each(struct store_txn *t, int (*fn)(const struct store_head *h, void *arg),
		     void *arg, struct err *e) WUR;

/* Every feed head in key order, as an array: *out (malloc'd, caller frees;
 * NULL when there are none) of *n heads. 0, -ENOMEM, or store_heads_each's
 * error. */
int store_heads_list(struct store_txn *t, struct store_head **out, size_t *n, struct err *e) WUR;

/* Reads the entry at seq of a feed: *bytes and *len point into the map and
 * stay valid until the transaction ends; hash (may be NULL) receives the
 * stored entry hash. -ENOENT if absent. */
int store_log_get(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t seq,
		  const uint8_t **bytes, size_t *len, uint8_t hash[32], struct err *e) WUR;

/* Calls fn for each stored entry of a feed with from <= seq <= to (to == 0:
 * to the head), in seq order. Pointers as in store_log_get. A non-zero
 * return from fn stops the walk and is returned. */
int store_log_each(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t from,
		   uint64_t to,
		   int (*fn)(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg),
		   void *arg, struct err *e) WUR;

/* Replaces the stored envelope bytes of an existing entry, keeping its hash
 * (used to erase a value: the signed body is unchanged). -ENOENT. */
int store_log_replace(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t seq,
		      const uint8_t *bytes, size_t len, struct err *e) WUR;

/* --- the Merkle tree of a feed (crypto/tlog.h; docs/PROTOCOL.md
 * "Checkpoints and proofs") ---
 * store_append keeps each feed's frontier (the roots of its complete
 * subtrees) in the feed's record after head seq | hash | flags, in the same
 * transaction: popcount(seq) hashes of 32 bytes, largest subtree first
 * (record: seq u64 BE | head hash 32 | flags u32 BE | frontier). A feed
 * written before the tree existed has a 44-byte record; a root at its head
 * rebuilds the frontier from the entry hashes in `log` (O(head)) and the
 * next append (or that root, in a write transaction) writes it into the
 * record. Leaves are SHA-256(0x00 || the
 * entry hash stored in `log`), which store_log_replace (erasure) keeps: an
 * erase never changes a root. A store written by this version cannot be
 * read by an older one (its feeds records are longer than 44 bytes). */
/* The tree hash of entries 1..size of a feed (1 <= size <= head): O(1)
 * from the frontier at the head, O(size) reads of `log` below it.
 * -ERANGE (size 0 or past the head, the reason names the head), -ENOENT. */
int store_tree_root(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t size,
		    uint8_t root[32], struct err *e) WUR;
/* The inclusion proof of entry seq in the tree of size entries
 * (1 <= seq <= size <= head): path (room for TLOG_PATH_MAX), *n_path. */
int store_tree_inclusion(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t seq,
			 uint64_t size, uint8_t path[][32], size_t *n_path, struct err *e) WUR;
/* The consistency proof from the tree of m entries to the tree of n
 * (1 <= m <= n <= head). */
int store_tree_consistency(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t m,
			   uint64_t n, uint8_t path[][32], size_t *n_path, struct err *e) WUR;

/* --- state --- */

/* Where a state value came from. */
struct store_origin {
	char feed[STORE_FEED_MAX + 1];
	uint64_t seq;
};

/* Reads the current value of (collection, owner, key). *val and *val_len
 * point into the map (valid until the transaction ends); origin may be NULL.
 * -ENOENT if there is no such record. */
int store_state_get(struct store_txn *t, const char *collection, const uint8_t owner[32],
		    const uint8_t *key, size_t key_len, const uint8_t **val, size_t *val_len,
		    struct store_origin *origin, struct err *e) WUR;

/* One state record, as passed to store_state_each's callback. */
struct store_record {
	const char *collection;
	const uint8_t *owner;     /* 32 bytes */
	const uint8_t *key;
	size_t key_len;
	const uint8_t *value;
	size_t value_len;
	struct store_origin origin;
};

/* Removes the value of (collection, owner, key), keeping the record and its
 * origin (an erased value: the record reads back with value_len 0). The old
 * bytes are zeroed in the page before it shrinks. -ENOENT if no record. */
int store_state_erase(struct store_txn *t, const char *collection, const uint8_t owner[32], const uint8_t *key,
		      size_t key_len, struct err *e) WUR;

/* Ownership across key rotations: key BY, which replaced OWNER (its
 * successor by rotation), wrote (collection, key). Removes OWNER's state
 * record of that key, if any, and marks it superseded by BY (index
 * "superseded": owner | collection NUL key -> BY), in write transaction t.
 * node/core/unit.c decides when; docs/PROTOCOL.md states the rule. */
int store_state_supersede(struct store_txn *t, const char *collection, const uint8_t owner[32], const uint8_t *key,
			  size_t key_len, const uint8_t by[32], struct err *e) WUR;

/* 1 if OWNER's (collection, key) was superseded (the successor that did
 * into by, which may be NULL), 0 if not. */
int store_state_superseded(struct store_txn *t, const char *collection, const uint8_t owner[32], const uint8_t *key,
			   size_t key_len, uint8_t by[32]);

/* Calls fn for each record of a collection, of one owner if owner is not
 * NULL (else of every owner), in key order. A non-zero return from fn stops
 * the walk and is returned. */
int store_state_each(struct store_txn *t, const char *collection, const uint8_t *owner,
		     int (*fn)(const struct store_record *r, void *arg), void *arg, struct err *e) WUR;

/* Counts the records of a collection (of one owner if not NULL). */
int store_state_count(struct store_txn *t, const char *collection, const uint8_t *owner,
		      size_t *count, struct err *e) WUR;

/* --- erasure --- */

/* What store_scrub did. */
struct store_scrub_counts {
	size_t pages;   /* free pages overwritten with zeros */
	size_t held;    /* free pages left alone: a reader may still see them */
	size_t gaps;    /* pages whose unused middle held old bytes, zeroed */
	size_t tail;    /* bytes zeroed past the last page */
};

/* Makes bytes that committed writes replaced (an erased value) gone from
 * data.mdb, not just unreachable. LMDB copies pages on write, so the old
 * page stays in the file, on LMDB's free list, until reused; and it copies
 * pages into recycled buffers without clearing their unused middle. This
 * reopens s's environment in place (dropping those buffers), commits one
 * small write (meta "scrubbed": every page the caller's commits freed is
 * then free for every later snapshot), then, holding the writer lock so
 * that no writer in any process reuses pages meanwhile, overwrites with
 * zeros every free page that no open read transaction (of any process) can
 * still see, the unused middle of every branch and leaf page, and the file
 * past its last page, and syncs the file. It reads the whole file once:
 * seconds for gigabytes. If pages a reader may still see are among them,
 * it stops before overwriting anything and counts them in held: call again
 * once the reader is done. The caller holds no transaction of s (and no
 * pointer into its map). Limits: a filesystem may keep old blocks
 * (copy-on-write filesystems, SSD remapping) and a copy of the file
 * (backups, an export) keeps what it held. -EROFS for a read-only store;
 * if reopening fails, s is unusable and the error says why. */
int store_scrub(struct store *s, struct store_scrub_counts *c, struct err *e) WUR;

/* Drops this process's mappings of the store's pages (they stay in the
 * page cache and come back on the next access): a long read of a big store
 * (an audit's) keeps its resident memory bounded. Pointers into the map
 * stay valid. */
void store_map_release(struct store *s);

/* --- meta --- */

/* Reads meta NAME: *val and *len point into the map. -ENOENT if unset. */
int store_meta_get(struct store_txn *t, const char *name, const uint8_t **val, size_t *len,
		   struct err *e) WUR;

/* Sets meta NAME to val. */
int store_meta_put(struct store_txn *t, const char *name, const uint8_t *val, size_t len,
		   struct err *e) WUR;

/* --- indexes --- */

/* Reads index NAME at KEY: *val and *len point into the map. -ENOENT. */
int store_index_get(struct store_txn *t, const char *name, const uint8_t *key, size_t key_len,
		    const uint8_t **val, size_t *len, struct err *e) WUR;

/* Sets index NAME at KEY to val (write transaction). */
int store_index_put(struct store_txn *t, const char *name, const uint8_t *key, size_t key_len,
		    const uint8_t *val, size_t len, struct err *e) WUR;

/* Removes index NAME at KEY; a missing key is fine. */
int store_index_del(struct store_txn *t, const char *name, const uint8_t *key, size_t key_len,
		    struct err *e) WUR;

/* Calls fn for every key of index NAME in key order; a non-zero return
 * from fn stops the walk and is returned. */
int store_index_each(struct store_txn *t, const char *name,
		     int (*fn)(const uint8_t *key, size_t key_len, const uint8_t *val, size_t len, void *arg),
		     void *arg, struct err *e) WUR;

#endif
