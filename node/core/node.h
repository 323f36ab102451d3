/* SPDX-License-Identifier: MIT */
/*
 * node core: one node directory (its key, its config, its store), the one
 * ingest path that every entry goes through before it is stored (local
 * writes included), and the writer that turns records into signed change
 * sets. A node directory holds:
 *   node.key     the Ed25519 seed, mode 0600
 *   strata.conf  INI settings (listen endpoint, batching)
 *   store/       the LMDB environment
 */
#ifndef STRATA_NODE_H
#define STRATA_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "node/core/profile.h"
#include "protocol/protocol.h"
#include "storage/store.h"

#define NODE_KEY_FILE "node.key"
#define NODE_KEY_NEW_FILE "node.key.new" /* strata rotate-key: the next key, until it is certified */
#define NODE_CONF_FILE "strata.conf"
#define NODE_STORE_DIR "store"
#define NODE_SERVE_LOCK_FILE "serve.lock" /* held by the running strata serve */
#define NODE_NAME_MAX 255
#define NODE_NAME_SIZE (NODE_NAME_MAX + 1) /* a buffer for an org path (a node's name) and its NUL */
/* A buffer for a path in or under a node directory: PATH_MAX (4096) and room
 * for what is appended to it (a file name of ours, "/data.mdb", ".partial"),
 * so that DIR/FILE of a directory PATH_MAX long is still not cut. */
#define NODE_PATH_MAX 4200
#define NODE_ENDPOINT_MAX 256 /* a buffer for a ZeroMQ endpoint of strata.conf and its NUL */
#define NODE_OPS_PER_CHANGESET 1000 /* default ops in one change set of a bulk write */
#define NODE_OPS_PER_TXN 16000      /* ops per durable commit of a bulk write */
#define NODE_BYTES_PER_TXN (64u << 20) /* or sooner, once its change sets hold this many bytes */

/* Settings read from strata.conf. */
struct node_config {
	char listen[NODE_ENDPOINT_MAX]; /* [node] listen: endpoint that accepts children */
	enum node_level level;       /* [node] level: its profile gives up_depth and
					contact_levels their defaults (profile.h) */
	unsigned up_depth;           /* [node] up_depth: levels above its author an up feed
					travels through this node; 0 = no limit */
	unsigned ops_per_changeset;  /* [write] ops_per_changeset, 1..10000 */
	unsigned contact_levels;     /* [privacy] contact_levels: levels above its author a
					private feed travels through this node; 0 = none */
	enum node_compress {         /* [sync] compress: batches sent to a peer that reads zstd */
		NODE_COMPRESS_AUTO = 0,  /* compressed, except on a loopback link (the default) */
		NODE_COMPRESS_ZSTD,      /* always compressed */
		NODE_COMPRESS_NONE,      /* never */
	} compress;
	bool transfer_manual;        /* [transfer] approve = manual: as the common ancestor of
					the two branches, forward a transfer only after
					`strata transfer approve` (default auto) */
	unsigned report_deadline_day; /* [report] deadline_day: a period's report is due by
					 this day of the next month (1..28, default 5) */
	char parent_endpoint[NODE_ENDPOINT_MAX]; /* [parent] endpoint (empty: no parent) */
	bool parent_is_peer;         /* [parent] role = peer: the link is a peer agreement */
	uint8_t parent_key[KEY_BYTES]; /* [parent] key */
	bool has_parent;
	uint64_t map_size;           /* [store] map_size: the store's initial map in bytes
					(0: 64 GiB; STRATA_MAP_SIZE overrides it) */
	uint64_t map_max;            /* [store] map_max: the ceiling its map grows to
					(0: as the free disk allows); storage/store.h */
};

/* Adds a [parent] section to DIR/strata.conf: the whole file is written
 * anew (mode 0600) and renamed over the old one, so a failure leaves it as
 * it was. 0 also when the same parent is there already (a join run again);
 * -EEXIST if another one is. */
int node_config_set_parent(const char *dir, const char *endpoint, const uint8_t key[KEY_BYTES], bool peer,
			   struct err *e) WUR;

/* Can node_config_set_parent write DIR/strata.conf? It loads (mode
 * checked) and a file can be made beside it. 0, or why not. */
int node_config_check_writable(const char *dir, struct err *e) WUR;

struct node;

enum node_open_flags {
	NODE_RDONLY = 1 << 0, /* open the store read-only */
	NODE_NO_KEY = 1 << 1, /* do not load the secret key (read-only commands) */
	NODE_NOSYNC = 1 << 2, /* a scratch node (an audit's): commits are not flushed to disk */
};

/* What `strata init` sets up. */
struct node_init_opts {
	const char *name;   /* org path, e.g. xiamen/huli/hetong */
	bool root;          /* this node is the root of its trust domain */
	const char *listen; /* may be NULL */
	const char *display_name; /* a root's name for people ("厦门市"), in its own
				   * certificate; NULL: none. display_name_valid */
	const char *level;  /* NULL, or a level word (node_profile_find): written
			     * to strata.conf as [node] level, in English */
};

/* Creates a node in DIR (created with its missing parents, mode 0700; must not already hold a node):
 * a new key, the store, the config. -EEXIST if DIR already has a node,
 * -EINVAL for a bad org path or level (checked before anything is made). Nothing is left behind on failure (but the
 * parent folders it made). */
int node_create(const char *dir, const struct node_init_opts *o, struct err *e) WUR;

/* Is s a valid org path: 1..255 bytes of segments [a-z0-9_-] joined by '/'? */
bool node_name_valid(const char *s);

/* Opens the node in DIR. -ENOENT with "no Strata node in DIR (run strata
 * init)" if there is none; -EIO when the file system denies access (another
 * user's node, a read-only store): EACCES is kept for refusals by the
 * node's rules. Caller owns *out (node_close). */
int node_open(struct node **out, const char *dir, int flags, struct err *e) WUR;

/* Replaces the key file KEY_PATH by NEW_PATH (a rename), overwriting the
 * old seed first; syncs directory DIR. 0 or -errno. Used by rotate-key and
 * by node_open to finish a rotation interrupted after the store took the
 * new key (node.key.new holding the key meta "self" names). */
int node_key_replace(const char *dir, const char *key_path, const char *new_path) WUR;

/* Closes *n (wiping its key) and sets it to NULL. NULL-safe. A writable
 * handle first scrubs (node_scrub) when an erase was applied to the store
 * since it opened or last scrubbed, in this or another process: its writes
 * since may have carried the erased bytes back into data.mdb
 * (erase_scrub.c). No transaction of n's store may be open. */
void node_close(struct node **n);

/* The node's public key (32 bytes), its org path, its directory, its root
 * key (32 bytes; NULL while it has not joined a trust domain). */
const uint8_t *node_id(const struct node *n);
const char *node_name(const struct node *n);
const char *node_dir(const struct node *n);
const uint8_t *node_root(const struct node *n);
const struct node_config *node_config(const struct node *n);
/* Trusts ROOT as this open node's root from now on, in memory only, for an
 * audit against a root key given by the auditor rather than the store's. */
void node_pin_root(struct node *n, const uint8_t root[KEY_BYTES]);

/* The root key of the trust domain this node joined as a peer (its parent
 * link is a peer agreement), or NULL. */
const uint8_t *node_peer_root(const struct node *n);

/* This node's peer agreement: the certificate its parent issued it when it
 * joined as a peer (caller frees). -ENOENT until it has arrived. */
int node_peer_cert(const struct node *n, struct store_txn *t, Strata__Certificate **out, struct err *e) WUR;
struct store *node_store(struct node *n);

/* Signs DOMAIN NUL MSG with the node's key. -EPERM without the key. */
int node_sign(const struct node *n, const char *domain, const uint8_t *msg, size_t len, uint8_t sig[SIG_BYTES]) WUR;

/* The node's CURVE key pair for ZeroMQ; curve_sk is secret: wipe it. */
int node_curve_keys(const struct node *n, uint8_t curve_pk[KEY_BYTES], uint8_t curve_sk[KEY_BYTES]) WUR;

/* Wall-clock time in unix milliseconds (informational in entries). */
uint64_t node_now_ms(void);

/* --- trust --- */

/* Reads the certificate of SUBJECT from the index: *out (caller frees with
 * strata__certificate__free_unpacked) and its issuer. -ENOENT if none. */
int node_cert_get(struct store_txn *t, const uint8_t subject[KEY_BYTES], uint8_t issuer[KEY_BYTES],
		  Strata__Certificate **out, struct err *e) WUR;

/* The first-issuer rule (docs/PROTOCOL.md, "Trust: certificates"): of the
 * issuers that certified one key, the one whose first certificate of it
 * has the smallest issued_ms keeps the key (ties: the smaller issuer key,
 * bytewise); that issuer's later certificates of the key update it. Does
 * issuer A (first certificate dated a_ms) win over issuer B (b_ms)? The one
 * decision the certificate index (ingest), and so verify and both audits,
 * apply. */
bool node_cert_first_wins(uint64_t a_ms, const uint8_t a[KEY_BYTES], uint64_t b_ms, const uint8_t b[KEY_BYTES]);

/* The smallest issued_ms of ISSUER's certificates of SUBJECT in its trust
 * feed's log (each put, later ones included): 0, -ENOENT when it holds
 * none, or a store error (e). */
int node_cert_first_ms(struct store_txn *t, const uint8_t issuer[KEY_BYTES], const uint8_t subject[KEY_BYTES],
		       uint64_t *ms, struct err *e) WUR;

/* A store whose certificate index was kept by an older rule (arrival
 * order): re-derives, once, the index entries (and the revocations that
 * follow them) that node_cert_first_wins picks otherwise, in one write
 * transaction, and marks the store (meta "cert_rule"). *fixed: how many
 * keys changed. node_open runs it for every writable open; 0 at once when
 * the store is marked. */
int node_cert_index_upgrade(struct store *s, size_t *fixed, struct err *e) WUR;
/* Checks the certificate index against the rule, from the certificates
 * the state holds: for every key some issuer certifies, bad() gets the
 * issuer the index holds (NULL: none) and the one the rule picks when they
 * differ (an index built in arrival order by a version before issue 15).
 * 0, or a store error (e). */
int node_cert_index_check(struct store_txn *t,
			  void (*bad)(const uint8_t subject[KEY_BYTES], const uint8_t *indexed, const uint8_t *rule,
				      void *arg),
			  void *arg, struct err *e) WUR;

/* A walk up a certificate chain as the index holds it (the first-issuer
 * rule picks the certificate of a key: node_cert_first_wins): KEY's certificate, then its
 * issuer's, and so on; the one walk under node_authorize and every caller
 * that needs a key's issuers. At most NODE_CHAIN_MAX certificates. */
#define NODE_CHAIN_MAX 16
struct node_chain {
	uint8_t subject[KEY_BYTES];   /* the key whose certificate this step read */
	uint8_t issuer[KEY_BYTES];    /* the key that issued it */
	Strata__Certificate *cert;    /* that certificate, owned by the walk */
	int depth;                    /* 0: KEY's own certificate */
};

/* Starts a walk at KEY (no certificate read yet). */
void node_chain_begin(struct node_chain *w, const uint8_t key[KEY_BYTES]);

/* Steps up: 0 with the next certificate in w (the first call reads KEY's).
 * -ENOENT when w->subject, at w->depth, holds no certificate; -ELOOP when
 * the last certificate read was self-issued (subject = issuer) or
 * NODE_CHAIN_MAX were read; another negative code (e says why) if the
 * index cannot be read. Whether a link may certify the one below, and
 * where the chain should end (a root), is the caller's to judge. After a
 * negative return the walk is over. */
int node_chain_next(struct store_txn *t, struct node_chain *w, struct err *e) WUR;

/* Frees what the walk holds; call it however the walk ended. */
void node_chain_end(struct node_chain *w);

/* Did this node join as an auditor (its own certificate's role)? An
 * auditor receives every feed that reaches its level and writes no data
 * feeds. */
bool node_is_auditor(const struct node *n, struct store_txn *t);

/* May AUTHOR write FEED here, in an entry dated time_ms? This node and its
 * pinned root always may;
 * any other author needs a certificate allowing FEED, issued by a chain of
 * certified nodes (each below its issuer in the org tree) up to the root.
 * A node that joined another domain as a peer also accepts chains ending
 * at that domain's root, for the trust feed and the feeds its agreement
 * shares with it. Revocations: no certificate of the chain may have been
 * issued at or after its issuer's revocation, and the author itself must
 * not be revoked at time_ms (time_ms 0: the author's own revocation is not
 * checked, e.g. by a caller that checks it per entry with
 * node_check_revoked). 0, or -EACCES with the reason. */
int node_authorize(const struct node *n, struct store_txn *t, const uint8_t author[KEY_BYTES], const char *feed,
		   uint64_t time_ms, struct err *e) WUR;

/* A key's revocation as this node's index holds it (the first valid one
 * by the issuer of its certificate). */
struct node_revocation {
	uint64_t revoked_ms;           /* signatures dated at or after this are refused */
	uint8_t by[KEY_BYTES];         /* the issuer that revoked it */
	bool has_successor;            /* a rotation: */
	uint8_t successor[KEY_BYTES];  /* the key that replaced it */
};

/* The revocation of SUBJECT into *out. -ENOENT if it is not revoked. */
int node_revocation_get(struct store_txn *t, const uint8_t subject[KEY_BYTES], struct node_revocation *out,
			struct err *e) WUR;

/* Is KEY revoked at at_ms (a revocation dated at or before it)? 0 if not;
 * 1 with a sentence into out ("the key of NAME (hex…) was revoked by
 * ISSUER at TIME (reason)"); a negative code (out holds why) if the index
 * cannot be read. */
int node_revocation_text(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], uint64_t at_ms,
			 char *out, size_t cap);

/* The same for an entry by KEY dated time_ms: 0 if not revoked then,
 * -EACCES with that sentence and the entry's time if so. */
int node_check_revoked(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], uint64_t time_ms,
		       struct err *e) WUR;

#define NODE_KEYS_MAX 16

/* This node's keys into out: out[0] its current key, then the keys it
 * rotated away from (meta "previous_keys"), newest first. Returns how many
 * (at most max, at least 1 when max > 0). */
size_t node_own_keys(const struct node *n, struct store_txn *t, uint8_t out[][KEY_BYTES], size_t max);

/* KEY and the keys it replaced by rotation, into out: out[0] = KEY, then
 * its predecessor, and so on (newest first), as the signed revocations
 * with a successor in the trust feeds held here say (index "predecessor").
 * A unit's records are owned by this whole chain (docs/PROTOCOL.md,
 * "Ownership across key rotations"). Returns how many (at least 1). */
size_t node_key_chain(struct store_txn *t, const uint8_t key[KEY_BYTES], uint8_t out[][KEY_BYTES], size_t max);

/* The current key of the unit (a child or a root of the tree, not a peer
 * or an auditor) whose org path is NAME, by the certificates this store
 * holds (the indexed one of each key: the first issuer keeps it; a key
 * replaced by rotation stands for its unit's current one): how many units
 * have that name (0: none known; more than 1: ambiguous, KEY is one of
 * them), or the store's -errno. */
int node_unit_named(struct store_txn *t, const char *name, uint8_t key[KEY_BYTES], struct err *e) WUR;

/* The key that replaced KEY by rotation (recorded as its successor), into
 * out; -ENOENT if none. */
int node_key_successor(struct store_txn *t, const uint8_t key[KEY_BYTES], uint8_t out[KEY_BYTES]);

/* The keys of the unit KEY belongs to, KEY first, then the keys it
 * replaced, newest first: at this node's own key what it knows of its own
 * rotations (node_own_keys), elsewhere node_key_chain. How many. */
size_t node_unit_keys(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES],
		      uint8_t out[][KEY_BYTES], size_t max);

/* The day (UTC, YYYY-MM-DD into out, cap at least 11) the unit of KEY
 * joined: its first key's certificate was issued (node_unit_keys gives its
 * keys, the oldest last). -ENOENT (out empty) when that certificate is not
 * held here. */
int node_unit_joined(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], char *out, size_t cap);

/* Reads this unit's record (collection, key), whichever of this node's
 * keys (node_own_keys) wrote it last; owner (may be NULL) receives that
 * key. As store_state_get: -ENOENT if the unit holds no such record. */
int node_own_state_get(const struct node *n, struct store_txn *t, const char *collection, const uint8_t *key,
		       size_t key_len, const uint8_t **val, size_t *val_len, struct store_origin *origin,
		       uint8_t owner[KEY_BYTES], struct err *e) WUR;

/* The org path of KEY into out: this node's name, or its certificate's.
 * -ENOENT (out empty) for a key with no certificate here. */
int node_key_name(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES],
		  char out[NODE_NAME_SIZE]);
/* Is KEY this node or a key certified as a child or root, so that its org
 * path places it in the tree? A peer's or an auditor's path never does.
 * OUT gets its org path (or "" when unknown) either way. */
bool node_key_in_tree(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES],
		  char out[NODE_NAME_SIZE]);

/* --- peer agreements (agreement.c) --- */

/* One agreement: this node is the peer (of the host KEY, whose domain root
 * HOST_ROOT it pinned), or the host (of the peer KEY). CERT is the
 * certificate the host issued the peer: feeds = what the peer publishes,
 * receive = what the host shares with it; NULL while it has not arrived. */
struct node_agreement {
	bool this_is_peer;
	uint8_t key[KEY_BYTES];
	char name[NODE_NAME_SIZE];
	uint8_t host_root[KEY_BYTES];
	const Strata__Certificate *cert;
};

/* Calls FN for every peer agreement this node holds, as a peer first, then
 * as a host; stops at FN's first non-zero return and returns it. */
int node_agreements_each(const struct node *n, struct store_txn *t,
			 int (*fn)(const struct node_agreement *a, void *arg), void *arg, struct err *e) WUR;

/* --- equivocation --- */

/* Checks that first and second are two validly signed entries of one
 * (author, feed, seq) with different hashes; *out (may be NULL) receives
 * the first, decoded (caller destroys). -EBADMSG/-EINVAL with a reason. */
int node_evidence_check(const uint8_t *first, size_t first_len, const uint8_t *second, size_t second_len,
			struct changeset **out, struct err *e) WUR;

/* Keeps such a proof (index "evidence") and freezes the feed, in write
 * transaction t; *known says whether the proof was already held. */
int node_evidence_store(struct store_txn *t, const uint8_t *first, size_t first_len, const uint8_t *second,
			size_t second_len, bool *known, struct err *e) WUR;

/* The kept proofs (evidence.c owns their layout): index NODE_EVIDENCE_INDEX,
 * key author(32) | feed length(1) | feed | seq (u64 BE), value a packed
 * Strata__Evidence (the two envelopes). Evidence of an inconsistent
 * checkpoint (issue 15, node/core/witness.c) is kept under the same key
 * with the checkpoint's size as seq and one more byte, NODE_EVIDENCE_CKPT_TAG,
 * its value an Evidence with checkpoint set (the two notes). */
#define NODE_EVIDENCE_INDEX "evidence"
#define NODE_EVIDENCE_KEY_MAX (KEY_BYTES + 1 + LIMIT_NAME_BYTES + 8 + 1)
#define NODE_EVIDENCE_CKPT_TAG 'c'

struct node_evidence_key {
	uint8_t author[KEY_BYTES];
	char feed[LIMIT_NAME_BYTES + 1];
	uint64_t seq;                  /* the entry's seq; a checkpoint's size */
	bool checkpoint;               /* evidence of an inconsistent checkpoint */
};

/* Writes the key of the proof at (author, feed, seq) into out; its length,
 * or 0 for a feed name that is empty or longer than LIMIT_NAME_BYTES. */
size_t node_evidence_key_encode(uint8_t out[NODE_EVIDENCE_KEY_MAX], const uint8_t author[KEY_BYTES], const char *feed,
				uint64_t seq);

/* Decodes such a key into *out: 0, or -EBADMSG when it is malformed
 * (out is then undefined). */
int node_evidence_key_decode(const uint8_t *key, size_t len, struct node_evidence_key *out) WUR;

/* Keeps evidence of an inconsistent checkpoint of (author, feed) at size:
 * first the note, second another note of the author of that size (or
 * empty: first contradicts the entries held), and freezes the feed, in
 * write transaction t; *known says whether it was held already. The notes
 * are checked by the caller (witness.c). */
int node_evidence_checkpoint_store(struct store_txn *t, const uint8_t author[KEY_BYTES], const char *feed,
				   uint64_t size, const uint8_t *first, size_t first_len, const uint8_t *second,
				   size_t second_len, bool *known, struct err *e) WUR;

/* Calls fn for every kept proof in key order: k its decoded key (NULL when
 * the stored key is malformed), val the packed Strata__Evidence. Stops at
 * fn's first non-zero return and returns it; a negative code (e) if the
 * index cannot be read. */
int node_evidence_each(struct store_txn *t,
		       int (*fn)(const struct node_evidence_key *k, const uint8_t *val, size_t len, void *arg), void *arg,
		       struct err *e) WUR;

/* Runs every check of DESIGN.md "Verification before anything is stored"
 * on one envelope and, if all hold, appends it in write transaction t:
 * decoding within limits, the signature over the exact bytes, an author
 * allowed to write this feed, seq and prev against the stored head, every
 * value decoding and validating as its collection's record, no key written
 * twice in one change set. Returns 0 when stored, -EALREADY when it was
 * already stored (a no-op), or a negative code with a reason:
 * -EBADMSG (malformed or forged), -EACCES (author not allowed), -EINVAL
 * (bad record), -ERANGE (gap), -EBADE (conflict with the stored chain),
 * -EPERM (frozen feed). Nothing of the entry is written on those. On
 * -ENOSPC, -EIO or -ENOMEM the caller must abort transaction t. */
int node_ingest(struct node *n, struct store_txn *t, const uint8_t *env, size_t len, struct err *e) WUR;

enum node_ingest_flags {
	NODE_SIG_CHECKED = 1 << 0,     /* the caller verified the signature (changeset_verify) */
	NODE_RECORDS_CHECKED = 1 << 1, /* the caller ran node_check_records */
};

/* The checks of an entry's ops that need no store: known collections of
 * its feed, valid records, no key twice. Thread-safe, so that a receiver
 * can run them on several cores before storing in order. */
int node_check_records(const struct changeset *cs, struct err *e) WUR;

/* The same for an envelope the caller already decoded (changeset_decode);
 * flags lets a caller that verified signatures in parallel skip that step. */
int node_ingest_changeset(struct node *n, struct store_txn *t, const struct changeset *cs, int flags,
			  struct err *e) WUR;

/* --- observers (observe.c): domain modules reacting to stored entries --- */

/* Where an observer says what it did, or why it could not (the daemon logs
 * each line). */
typedef void (*node_note_fn)(void *arg, const char *msg);

enum node_event {
	NODE_EVENT_RECEIVED, /* a batch of entries from another node was committed */
	NODE_EVENT_DUE,      /* steps owed may be due now: the daemon started, the write
	                      * fence was lifted, or another process changed the store
	                      * (a command, a bundle import: sync_notify) */
};

/* What the observers are told after a commit. */
struct node_commit {
	enum node_event event;
	struct changeset *const *cs; /* RECEIVED: the batch's entries (cs[i] NULL: undecodable) */
	const int *res;              /* RECEIVED: res[i] == 0 when cs[i] was stored by this commit */
	size_t count;                /* RECEIVED: entries in cs and res; DUE: 0 */
	node_note_fn note;           /* may be NULL */
	void *note_arg;
};

typedef void (*node_observer_fn)(struct node *n, const struct node_commit *c, void *arg);

/* Registers fn(n, commit, arg) to run after commits of node n. Observers
 * run in the order registered, on the thread that committed, with no
 * transaction open; they may open their own (and write through the writer).
 * Who composes the program registers them (strata serve: transfer, then
 * report checks), never node/sync. -ENOMEM. */
int node_observe(struct node *n, node_observer_fn fn, void *arg) WUR;

/* Runs the observers of n. Called by whoever committed entries received
 * from another node (the daemon, after a batch that stored at least one
 * entry, once it answered the sender) with NODE_EVENT_RECEIVED, and with
 * NODE_EVENT_DUE when steps may be due for another reason. Local commits
 * (node_writer_commit, in the process of a command) do not run observers:
 * a command only tells the daemon (sync_notify), whose NODE_EVENT_DUE runs
 * them in the daemon. */
void node_observers_run(struct node *n, const struct node_commit *c);

/* --- erasure (erase.c) --- */

/* Counts the stored entries of OWNER's FEED that still hold a value of
 * (collection, key): what an erase request would strip; and, in *unsalted
 * (if not NULL), how many of them commit to it without a salt (value_hash,
 * written before salted commitments), from which a guessed value can
 * still be confirmed after the erase. */
int node_erase_holders(struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *feed,
		       const char *collection, const uint8_t *key, size_t key_len, size_t *count, size_t *unsalted,
		       struct err *e) WUR;

/* Builds the value of an erase request of OWNER's (collection, key) in
 * FEED: Erasure { reason (may be NULL), erased_ms, residues }, with the
 * residue (record_residue) of every value it will strip, in entry order,
 * one per change, after those of an earlier erase request of the same key
 * (a value put again after it). *out (malloc'd) and *out_len; *holders:
 * the entries that still hold a value. 0, or a negative code (e). */
int node_erase_request(struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *feed,
		       const char *collection, const uint8_t *key, size_t key_len, const char *reason,
		       uint64_t erased_ms, uint8_t **out, size_t *out_len, size_t *holders, struct err *e) WUR;

/* Call after committing entries, and now and then in a long-running
 * process: if an erase was applied since the last complete scrub (by any
 * process, or by one that died before scrubbing), or since this process
 * opened the store or last scrubbed (its recycled page buffers may hold
 * erased bytes), overwrites what the old bytes left in data.mdb
 * (store_scrub, which reopens the store), retrying for about 100 ms while
 * read transactions hold some pages. 0 when nothing was due, 1 when done
 * (c, may be NULL, says what it did), -EAGAIN when pages are still held
 * (it stays due: call again), or another negative code. No transaction of
 * n's store may be open. */
int node_scrub(struct node *n, struct store_scrub_counts *c, struct err *e) WUR;

/* Erases ever applied to n's store (meta erase_gen) into *gen. */
int node_erase_gen(struct node *n, uint64_t *gen, struct err *e) WUR;

/* A writer turns local puts and deletes on one feed into signed change sets
 * of up to ops_per_changeset ops each, ingested through node_ingest. It
 * holds a write transaction, and commits durably after every change set that
 * brings the uncommitted ops to NODE_OPS_PER_TXN or their bytes to
 * NODE_BYTES_PER_TXN, so that a bulk write's memory stays bounded and one
 * fdatasync serves many small change sets: a failure or crash in a bulk write keeps the whole change sets
 * committed before it (node_writer_ops_committed says how many ops) and
 * nothing after. A write of fewer ops is all or nothing. If another
 * writer appends to the same feed between two such commits, the writer
 * stops with -EAGAIN (what it checked at the start no longer holds): checks
 * that decide what to write belong in node_writer_txn, which no other
 * writer can change under them. Opaque. */
struct node_writer;

/* Begins writing to FEED of this node (needs the key). Caller owns *out. */
int node_writer_begin(struct node *n, const char *feed, struct node_writer **out, struct err *e) WUR;

/* node_writer_begin for a bulk write, on two threads: the caller's builds,
 * signs and decodes each change set while a thread of the writer's own
 * checks, appends and commits the one before (LMDB's write transaction
 * lives on that thread from begin to end). What is checked, stored and
 * committed is exactly what node_writer_begin's writer does; a failure in
 * the store thread is returned by a later put or by commit. Between begin
 * and commit or abort the caller must not use n otherwise, and
 * node_writer_txn returns NULL: a caller checks its input in a read
 * transaction before and passes the feed's head it read there as from
 * (may be NULL); if the head is another now, begin fails with -EAGAIN and
 * writes nothing, and the caller checks again. */
int node_writer_begin_bulk(struct node *n, const char *feed, const struct store_head *from,
			   struct node_writer **out, struct err *e) WUR;

/* The writer's transaction, for reads that must see the writer's view
 * (NULL for a bulk writer). */
struct store_txn *node_writer_txn(struct node_writer *w);

/* Adds put(collection, key) = value; may seal and ingest a change set. */
int node_writer_put(struct node_writer *w, const char *collection, const uint8_t *key, size_t key_len,
		    const uint8_t *value, size_t value_len, struct err *e) WUR;

/* node_writer_put of message m packed (protobuf-c packing is canonical):
 * the one place a record message becomes a value. -ENOMEM, or as above. */
int node_writer_put_msg(struct node_writer *w, const char *collection, const uint8_t *key, size_t key_len,
			const ProtobufCMessage *m, struct err *e) WUR;

/* Adds delete(collection, key); may seal and ingest a change set. */
int node_writer_delete(struct node_writer *w, const char *collection, const uint8_t *key,
		       size_t key_len, struct err *e) WUR;

/* --- the write fence (fence.c): never sign at a seq that may be used --- */

#define NODE_FENCE_RESTORED "restored" /* strata restore put a backup back */
#define NODE_FENCE_REBOOTED "rebooted" /* the boot id changed since the heads were confirmed */
#define NODE_FENCE_BEHIND "behind"     /* a link announced newer entries of an own feed */
#define NODE_FENCE_WAIT_MS 20000       /* how long a CLI write waits for a running daemon to lift it */
#define NODE_BOOT_ID_MAX 64

struct node_fence {
	bool set;            /* writes are refused */
	char reason[32];     /* one of NODE_FENCE_* */
	uint64_t since_ms;   /* when it was set (0: computed from the boot id) */
};

/* Reads the fence of n's store: the one set (meta write_fence), or, if
 * none, a boot id that changed since the heads were last confirmed (for a
 * node whose feeds a link holds). 0 or a negative code. */
int node_fence_read(const struct node *n, struct store_txn *t, struct node_fence *f, struct err *e) WUR;


/* 0 if n may sign now; -EBUSY with a sentence that says why not and what
 * to do. Every writer calls it in its write transaction. */
int node_fence_check(const struct node *n, struct store_txn *t, struct err *e) WUR;

/* Sets the fence (in write transaction t / in a transaction of its own). */
int node_fence_put(struct store_txn *t, const char *reason, struct err *e) WUR;
int node_fence_set(struct node *n, const char *reason, struct err *e) WUR;

/* Lifts the fence and records the boot id: the heads are confirmed (by a
 * link, or by an operator who knows the node is alone). In the same
 * transaction it writes the companion erases this node owes (see
 * node_erase_owed); *erased gets how many. 1 (with why in e) if it lifted
 * but could not write them. */
int node_fence_lift(struct node *n, size_t *erased, struct err *e) WUR;

/* Writes the erase request of every companion value (a request's contact,
 * feed private) that this node still holds although it erased the record
 * (its request) after signing it: after a restore, the record's erase
 * comes back from the links, the companion's does not (erase_owed.c).
 * *written gets how many; -EBUSY while the fence holds. */
int node_erase_owed(struct node *n, size_t *written, struct err *e) WUR;

/* At the start of strata serve: alone lifts any fence; a node with nobody
 * to ask (node_has_holders false) is never fenced; a changed boot id sets
 * the fence. *out receives the fence that stays. */
int node_fence_serve_start(struct node *n, bool alone, struct node_fence *out, struct err *e) WUR;

/* Does any link hold n's feeds: a parent, or a node n certified? */
bool node_has_holders(const struct node *n, struct store_txn *t);

/* A sentence for a fence reason. */
const char *node_fence_why(const char *reason);

/* How long node_writer_begin waits for a running daemon to lift a fence
 * (default NODE_FENCE_WAIT_MS; the daemon itself sets 0: it never waits). */
void node_set_fence_wait(struct node *n, unsigned ms);

/* Waits (up to that time) while the fence is set and a daemon runs. */
void node_fence_wait(struct node *n);

/* --- backup and restore (backup.c) --- */

/* Writes a consistent, compacted copy of n's live store to the new file
 * PATH (mode 0600; -EEXIST if it exists). *bytes receives its size. */
int node_backup(struct node *n, const char *path, uint64_t *bytes, struct err *e) WUR;

/* Puts the backup file PATH back as the store of the node in DIR, with
 * the fence set (NODE_FENCE_RESTORED). Refuses (-EBUSY) while strata serve
 * runs for DIR, and (-EINVAL) a file that is not a store of this node's
 * key. The old store is replaced atomically; nothing changes on failure. */
int node_restore(const char *dir, const char *path, struct err *e) WUR;

/* Seals the open change set and goes on writing to this node's FEED, in
 * the same transaction: records of two feeds (a request and its contact)
 * are committed together or not at all. head (may be NULL) receives the
 * head seq of the feed left. Not for a bulk writer (-EINVAL); -EPERM if
 * FEED is frozen. */
int node_writer_switch(struct node_writer *w, const char *feed, uint64_t *head, struct err *e) WUR;

/* Ops durably committed so far by this writer (before its final commit). */
size_t node_writer_ops_committed(struct node_writer *w);

/* Seals the last change set and commits what is left durably, frees *w.
 * On failure nothing since the last checkpoint is stored. changesets (may be NULL)
 * receives how many change sets were written; head (may be NULL) the seq
 * of the feed's head. */
int node_writer_commit(struct node_writer **w, size_t *changesets, uint64_t *head, struct err *e) WUR;

/* Discards everything written through *w, frees it, sets it NULL. NULL-safe. */
void node_writer_abort(struct node_writer **w);

#endif
