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
#define SYNC_PAUSE_MS 5000            /* a peer that cannot store (disk full) is sent nothing this long */
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
	uint64_t hello_ms;          /* when this side last said hello */
	unsigned inflight;
	uint64_t paused_until;      /* the other side cannot store now (its disk is full): send nothing until then */
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

/* --- key rotation (rotate.c): a child asks for its new key's certificate --- */
void rotate_on_frame(struct daemon *d, const uint8_t *rid, size_t rid_len, const char *user_id,
		     const Strata__Rotate *r);

/* --- links (daemon.c) --- */
/* Is KEY this node's key, or one it rotated away from? */
bool daemon_own_key(struct daemon *d, struct store_txn *t, const uint8_t key[KEY_BYTES]);
struct link *link_new(struct daemon *d, enum link_kind kind);
void link_free(struct link **l);
json_t *daemon_status(struct daemon *d);
/* Logs one line about a transfer step (a transfer_note_fn; d is the daemon). */
void daemon_note(void *d, const char *msg);

#endif
