/* SPDX-License-Identifier: MIT */
/* The daemon and its links, shared by the files of node/sync/ only. */
#ifndef STRATA_SYNC_INTERNAL_H
#define STRATA_SYNC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/core/node.h"
#include "node/sync/feedmap.h"
#include "node/sync/sync.h"

#define SYNC_WINDOW 4                 /* batches in flight per link */
#define SYNC_BATCH_ENTRIES 512        /* entries in one batch at most */
#define SYNC_BATCH_BYTES (4u << 20)   /* bytes of entries in one batch at most */
#define SYNC_PING_MS 3000             /* send a ping when idle this long */
#define SYNC_DEAD_MS 10000            /* a link silent this long is down */
#define SYNC_STALL_MS 10000           /* a refused feed waits this long before a retry */
#define SYNC_FRAME_MAX (LIMIT_ENVELOPE_BYTES + (2u << 20)) /* largest frame accepted */

enum link_kind { LINK_PARENT, LINK_CHILD };

struct daemon;

struct link {
	struct daemon *d;
	enum link_kind kind;
	Strata__Role role;          /* child, peer or auditor (from its certificate) */
	uint8_t key[KEY_BYTES];
	char name[256];
	uint8_t rid[256];           /* ROUTER routing id (child links) */
	size_t rid_len;
	bool up;                    /* Hello received: replicating */
	bool hello_sent;
	uint64_t since_ms, last_rx_ms, last_tx_ms;
	unsigned inflight;
	struct feedmap sent;        /* what the other side holds or was sent, by feed */
	struct feedmap refused;     /* feeds refused from this link lately (receiver side) */
	uint64_t entries_sent, entries_received, refusals_sent, refusals_received, batches;
	char last_error[512];
	uint64_t last_error_ms;
	Strata__Certificate *cert;  /* child links: the subject's certificate */
};

struct daemon {
	struct node *n;
	const struct sync_serve_opts *o;
	void *ctx, *zap, *router, *dealer, *monitor, *control;
	char control_path[4200];
	struct link *parent;
	struct link **children;
	size_t nchildren, cap;
	uint64_t batch_seq;
	uint64_t started_ms, last_sweep_ms;
	uint8_t curve_pk[KEY_BYTES];
	uint8_t *curve_sk;          /* sodium_malloc'd */
};

/* --- log (log.c) --- */
void sync_log(const struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- frames (wire.c) --- */
/* Packs f and sends it on a link (ROUTER: with its routing id). */
int link_send(struct link *l, const Strata__Frame *f);
/* Reads one frame from sock; rid and rid_len get the routing id (ROUTER),
 * user_id the ZAP user id of the connection. Caller frees *out with
 * strata__frame__free_unpacked. -EAGAIN if nothing to read, -EBADMSG. */
int frame_recv(void *sock, bool router, uint8_t *rid, size_t *rid_len, char *user_id, size_t uid_cap,
	       Strata__Frame **out, struct err *e);
/* Decodes one received message as a Frame: bounded in size, no unknown
 * fields, a known message. Caller frees *out with
 * strata__frame__free_unpacked. -EBADMSG with the reason. */
int frame_decode(const uint8_t *data, size_t len, Strata__Frame **out, struct err *e);
/* Sends an Error frame for a refused entry. */
void link_send_error(struct link *l, int code, const char *reason, const uint8_t *author, const char *feed,
		     uint64_t seq);

/* --- routing (route.c) --- */
/* May node d->n send feed (author, feed) on link l? */
bool route_send(struct daemon *d, struct store_txn *t, const struct link *l, const uint8_t author[KEY_BYTES],
		const char *feed);
/* May link l send us feed (author, feed)? */
bool route_accept(struct daemon *d, struct store_txn *t, const struct link *l, const uint8_t author[KEY_BYTES],
		  const char *feed);

/* --- replication (replicate.c) --- */
void link_reset(struct link *l);
void link_send_hello(struct link *l);
void link_pump(struct link *l);
void daemon_pump_all(struct daemon *d);
void link_on_frame(struct link *l, Strata__Frame *f);

/* --- evidence (evidence.c) --- */
/* Records a proof that two envelopes of one (author, feed, seq) differ,
 * freezes the feed, logs an alarm and passes the proof to the parent. */
void evidence_record(struct daemon *d, const uint8_t *first, size_t first_len, const uint8_t *second,
		     size_t second_len);
/* Handles an Evidence frame from a link: checks and records it. */
void evidence_on_frame(struct link *l, const Strata__Evidence *ev);
/* Sends every stored proof to link l. */
void evidence_send_all(struct link *l);

/* --- ZAP (zap.c) --- */
void zap_handle(struct daemon *d);

/* --- enrollment (invite.c, join.c) --- */
/* Decodes a "strata-join:" token; caller wipes (*out)->secret and frees. */
int sync_token_parse(const char *text, Strata__JoinToken **out, struct err *e);
void join_on_frame(struct daemon *d, const uint8_t *rid, size_t rid_len, const char *user_id,
		   const Strata__Join *j);
/* The joining node's check of the parent's JoinReply: an entry signed by
 * the token's parent that certifies this node's key under its org path,
 * and the token's root. 0, or a negative code with the reason. */
int join_check_reply(const struct node *n, const Strata__JoinToken *tok, const Strata__JoinReply *r, struct err *e);

/* --- key rotation (rotate.c): a child asks for its new key's certificate --- */
void rotate_on_frame(struct daemon *d, const uint8_t *rid, size_t rid_len, const char *user_id,
		     const Strata__Rotate *r);
/* The rotating node's check of the parent's RotateReply: an entry of
 * PARENT's trust feed that certifies NEW_KEY under this node's org path. */
int rotate_check_reply(const struct node *n, const uint8_t parent[KEY_BYTES], const uint8_t new_key[KEY_BYTES],
		       const Strata__RotateReply *r, struct err *e);

/* --- links (daemon.c) --- */
/* Is KEY this node's key, or one it rotated away from? */
bool daemon_own_key(struct daemon *d, struct store_txn *t, const uint8_t key[KEY_BYTES]);
struct link *link_new(struct daemon *d, enum link_kind kind);
/* Handles a frame that arrived on the ROUTER from the connection with
 * routing id RID and ZAP user id UID ("key:HEX" or "invite:HEX"): a join,
 * a rotation, or a link's frame (a Hello from a certified key opens the
 * link). Does not take f. */
void daemon_on_child_frame(struct daemon *d, const uint8_t *rid, size_t rid_len, const char *uid,
			   Strata__Frame *f);
/* Frees every child link (the daemon's links at its end). */
void daemon_drop_children(struct daemon *d);
void link_free(struct link **l);
json_t *daemon_status(struct daemon *d);
/* Logs one line about a transfer step (a transfer_note_fn; d is the daemon). */
void daemon_note(void *d, const char *msg);

#endif
