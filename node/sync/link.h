/* SPDX-License-Identifier: MIT */
/*
 * A link: this daemon's side of one connection to its parent (the DEALER)
 * or to a child, peer or auditor (the ROUTER, by routing id), with what it
 * knows of the other side. link.c owns its life (new, reset, free) and
 * every frame sent on it; a frame for a connection that is no link (a
 * refused hello, a join, a rotation) goes through sync_conn_send.
 */
#ifndef STRATA_SYNC_LINK_H
#define STRATA_SYNC_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/core/node.h"
#include "node/sync/feedmap.h"

#define SYNC_OWN_FEEDS 8              /* own feeds a link may announce ahead of us, tracked */
#define SYNC_RID_MAX 256              /* a ROUTER routing id, at most */
#define SYNC_LINK_NAME_MAX 256        /* a link's name (an org path or an endpoint), with its NUL */

struct daemon;

enum link_kind { LINK_PARENT, LINK_CHILD };

struct daemon;

/* Refusals of one source: a peer refused at the handshake counts by its IP
 * address, an authenticated connection by its key, so that a source sending
 * garbage (or handshakes with random keys) as fast as it can turns neither
 * into a log line and an Error frame per message, nor into a fresh
 * allowance per connection. */
struct refusal_source {
	char id[80];                /* "ip:ADDRESS" or the ZAP user id ("key:HEX", "invite:HEX"); "" = free */
	char label[120];            /* how the log names it */
	uint64_t window_ms;         /* when the current window began */
	unsigned logged;            /* refusals logged in it */
	unsigned long suppressed;   /* refusals counted but not logged in it */
};

/* What a link counts, for `strata status` (links.c). Written only through
 * sync_link_count (and link.c's sends), read through sync_link_counters. */
struct link_counters {
	uint64_t entries_sent, entries_received, refusals_sent, refusals_received, batches;
	uint64_t batch_bytes, batch_wire_bytes; /* Entries frames sent: packed, and as sent (compressed) */
};

enum link_count { LINK_ENTRIES_SENT, LINK_ENTRIES_RECEIVED, LINK_REFUSALS_RECEIVED, LINK_BATCHES };

/* The fields marked "link.c" are reached only through the functions below;
 * the others are still read and written by the files of node/sync (the
 * handshake sets name, role, zstd, elide; the loop reads the times). */
struct link {
	struct daemon *d;
	enum link_kind kind;
	Strata__Role role;          /* child, peer or auditor (from its certificate) */
	uint8_t key[KEY_BYTES];
	char name[SYNC_LINK_NAME_MAX];
	uint8_t rid[SYNC_RID_MAX];  /* ROUTER routing id (child links) */
	size_t rid_len;
	bool up;                    /* link.c: Hello received, replicating */
	bool hello_sent;
	bool zstd;                  /* the other side's Hello accepts zstd-compressed frames */
	bool elide;                 /* and restores elided prevs (changesets_prev_restore) */
	bool ckpt;                  /* and takes Checkpoint frames (ckpt_link.c) */
	uint64_t ckpt_seen;         /* d->ckpt_seq when its notes were last looked at (ckpt_link.c) */
	bool ckpt_full;             /* look at every held note next time, not only the changed ones */
	uint64_t since_ms, last_rx_ms; /* wall clock (node_now_ms): shown and kept */
	/* timers, on sync_clock_ms (monotonic: a clock stepped by NTP or by
	 * hand neither drops a link nor pauses it for hours): */
	uint64_t rx_at;             /* when the other side was last heard (sync_link_heard) */
	uint64_t tx_at;             /* when this side last sent */
	uint64_t hello_at;          /* when this side last said hello */
	unsigned inflight;
	uint64_t paused_until;      /* (sync_clock_ms) the other side cannot store now (its disk is full): send nothing until then */
	struct feedmap sent;        /* link.c: what the other side holds or was sent, by feed */
	struct feedmap refused;     /* link.c: feeds refused from this link lately (receiver side) */
	struct link_counters count; /* link.c */
	char last_error[512];
	uint64_t last_error_ms;
	Strata__Certificate *cert;  /* child links: the subject's certificate */
	struct own_ahead {          /* own feeds this link holds further than our store: being fetched */
		char feed[LIMIT_NAME_BYTES + 1];
		uint64_t seq;
	} own[SYNC_OWN_FEEDS];
	size_t n_own;
	size_t ls_hint;             /* where its record in d->ls probably is (linkstate.c) */
	int fd;                     /* child links: the connection's socket (ZMQ_SRCFD), -1 unknown */
	bool refused_hello;         /* parent link: the parent refused the last hello (EACCES) */
};

/* A new link of daemon d, down, last heard from now. NULL: out of memory. */
struct link *sync_link_new(struct daemon *d, enum link_kind kind);
/* Frees *l and sets it NULL (NULL: nothing). */
void sync_link_free(struct link **l);
/* The link went down: forgets what the other side holds and was sent. */
void sync_link_reset(struct link *l);
/* Packs f and sends it on a link (ROUTER: with its routing id). An Entries
 * frame goes zstd-compressed when the other side accepts it, this node's
 * [sync] compress is not none, and it gets smaller. 0, -ENOTCONN, -errno. */
int sync_link_send(struct link *l, const Strata__Frame *f);
/* Whether batches to l go compressed: l reads zstd and [sync] compress is
 * zstd, or auto and the link is not a loopback one. */
bool sync_link_compresses(const struct link *l);
/* Sends an Error frame (for a refused entry: author, feed, seq; else NULL,
 * NULL, 0) and counts it in l's refusals sent. */
void sync_link_send_error(struct link *l, int code, const char *reason, const uint8_t *author, const char *feed,
			  uint64_t seq);
/* What the other side holds or was sent of (author, feed): _get creates it
 * zeroed when absent (NULL: out of memory), _find gives NULL then. The
 * values stay valid until the next _get or _clear on the same link. */
struct feedmap_val *sync_link_sent_get(struct link *l, const uint8_t author[KEY_BYTES], const char *feed);
struct feedmap_val *sync_link_sent_find(const struct link *l, const uint8_t author[KEY_BYTES], const char *feed);
/* Forgets what the other side holds (its Hello says it again). */
void sync_link_sent_clear(struct link *l);
/* A feed refused from this link lately (receiver side), the same way. */
struct feedmap_val *sync_link_refused_get(struct link *l, const uint8_t author[KEY_BYTES], const char *feed);
struct feedmap_val *sync_link_refused_find(const struct link *l, const uint8_t author[KEY_BYTES], const char *feed);
/* Who is at the other end: kind, key, name (an org path, or the parent's
 * endpoint until its Hello names it) and role. Set when the link is made
 * (children.c, daemon.c) and by a Hello (replicate.c: the name). */
enum link_kind sync_link_kind(const struct link *l);
const uint8_t *sync_link_key(const struct link *l);
const char *sync_link_name(const struct link *l);
Strata__Role sync_link_role(const struct link *l);
/* Is rid the routing id of l (a child link's connection)? */
bool sync_link_has_rid(const struct link *l, const uint8_t *rid, size_t rid_len);
/* A child link's certificate (NULL: none; valid as long as l). */
const Strata__Certificate *sync_link_cert(const struct link *l);
/* Is l up (its Hello received, replicating)? Set when a Hello arrives,
 * cleared when a send fails (what it holds is kept) or by sync_link_reset. */
bool sync_link_up(const struct link *l);
void sync_link_set_up(struct link *l, bool up);
/* Adds n to one of l's counters. */
void sync_link_count(struct link *l, enum link_count c, uint64_t n);
/* l's counters (valid as long as l). */
const struct link_counters *sync_link_counters(const struct link *l);
/* Sends f on d's ROUTER to the connection with routing id RID, which is no
 * link (a join, a rotation, a refused hello or message). Never compressed. */
int sync_conn_send(struct daemon *d, const uint8_t *rid, size_t rid_len, const Strata__Frame *f);
/* Sends an Error frame (code, reason) to that connection. */
void sync_conn_send_error(struct daemon *d, const uint8_t *rid, size_t rid_len, int code, const char *reason);

#endif
