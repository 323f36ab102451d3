/* SPDX-License-Identifier: MIT */
/* The daemon and its links, shared by the files of node/sync/ only. */
#ifndef STRATA_SYNC_INTERNAL_H
#define STRATA_SYNC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#include "node/core/node.h"
#include "node/sync/feedmap.h"
#include "node/sync/link.h"
#include "node/sync/sync.h"

#define SYNC_WINDOW 4                 /* batches in flight per link */
#define SYNC_BATCH_ENTRIES 512        /* entries in one batch at most */
#define SYNC_BATCH_BYTES (1u << 20)   /* bytes of entries in one batch at most */
#define SYNC_PING_MS 3000             /* send a ping when idle this long */
#define SYNC_DEAD_MS 10000            /* a link silent this long is down */
#define SYNC_STALL_MS 10000           /* a refused feed waits this long before a retry */
#define SYNC_REFUSAL_BURST 20         /* refused messages logged and answered per source... */
#define SYNC_REFUSAL_WINDOW_MS 10000  /* ...in each window of this long; the rest are counted */
#define SYNC_REFUSAL_SOURCES 64       /* sources counted apart at once; beyond, one count for the rest */
#define SYNC_REFUSED_RETRY_MS 60000   /* a parent that refused this node's hello is asked again after this */
#define SYNC_PAUSE_MS 5000            /* a peer that cannot store (disk full) is sent nothing this long */
#define SYNC_FRAME_MAX (LIMIT_ENVELOPE_BYTES + (2u << 20)) /* largest frame accepted */
#define SYNC_CKPT_SIGN_MS 1000        /* a new checkpoint of an own feed at most this often */
#define SYNC_CKPT_BATCH 256           /* received notes taken in one write transaction at most */
#define SYNC_CKPT_RESCAN 10           /* sweeps (seconds) between looks at notes stored by other processes */
#define SYNC_CKPT_RING 1024           /* feeds whose notes changed, remembered for the links' next look */

/* A frame read ahead of its turn (replicate.c reads a link's next frame
 * while a batch commits): the socket's loop dispatches it before reading
 * more. */
struct frame_ahead {
	bool has;
	int ret;                    /* sync_frame_recv's result; < 0: e says why */
	uint8_t rid[SYNC_RID_MAX];
	size_t rid_len;
	char uid[80];
	int fd;                     /* the connection's socket (ZMQ_SRCFD) */
	Strata__Frame *f;
	struct err e;
};

/* What the daemon knows of one link, also kept in the store (linkstate.c). */
struct link_state {
	uint8_t key[KEY_BYTES];
	bool up;
	uint64_t since_ms;          /* up since, or down since */
	uint64_t last_seen_ms;      /* last message from the other side (0: never) */
	uint64_t last_error_ms;
	char last_error[512];
	bool dirty;                 /* changed since last written */
	uint64_t saved_ms;          /* when last written */
};

struct daemon {
	struct node *n;
	const struct sync_serve_opts *o;
	void *ctx, *zap, *router, *dealer, *monitor, *control;
	void *router_monitor;       /* transport events of the listener */
	struct frame_ahead ahead_router, ahead_dealer;
	struct refusal_source sources[SYNC_REFUSAL_SOURCES + 1]; /* the last: every source beyond */
	const char *frame_uid;      /* ZAP user id of the connection whose frame is being handled */
	char control_path[NODE_PATH_MAX];
	struct link *parent;
	struct link **children;
	size_t nchildren, cap;
	uint64_t batch_seq;
	uint64_t started_ms;         /* wall clock, shown */
	uint64_t last_sweep_ms;      /* sync_clock_ms */
	uint64_t last_scrub_ms;      /* sync_scrub: when it last ran (sync_clock_ms) */
	bool scrub_held;             /* and a reader held pages then */
	uint8_t curve_pk[KEY_BYTES];
	uint8_t *curve_sk;          /* sodium_malloc'd */
	void *zstd_cctx;            /* ZSTD_CCtx of sync_link_send, made on first use */
	int self_auditor;           /* joined as an auditor: 1, not: -1, own certificate not seen yet: 0 */
	bool heads_confirmed;       /* a link holding our feeds told their heads and we hold them (heads.c) */
	struct link_state *ls;      /* every link known, live or gone (linkstate.c) */
	size_t n_ls, cap_ls;
	uint64_t ls_log_ms;         /* when a failure to keep them was last logged */
	/* checkpoints (ckpt_link.c) */
	struct ckpt_in *ckpt_q;     /* notes received, taken in one write transaction */
	size_t ckpt_n, ckpt_cap;
	uint64_t ckpt_seq;          /* notes changed so far; the last SYNC_CKPT_RING of them in ckpt_ring */
	struct ckpt_change {
		uint8_t author[KEY_BYTES];
		char feed[LIMIT_NAME_BYTES + 1];
	} ckpt_ring[SYNC_CKPT_RING];
	struct feedmap ckpt_own;    /* own feeds: when last signed, whether one is due */
	struct feedmap ckpt_alarm;  /* (author, feed) -> size of the inconsistent note alarmed */
	unsigned ckpt_sweeps;       /* sweeps since the daemon started (sync_ckpt_sweep) */
	uint64_t ckpt_own_at;       /* (sync_clock_ms) when the own feeds' checkpoints were last looked at */
};

/* --- the links' state in the store (linkstate.c) --- */
/* Reads the records of index LINKSTATE_INDEX into d (every link down: the
 * daemon is starting), adding the parent's if it has none. */
void sync_linkstate_load(struct daemon *d);
/* Takes l's state (up or down, last seen, last error) into its record, in
 * memory. */
void sync_linkstate_note(struct daemon *d, struct link *l, uint64_t now);
/* l is being dropped (why: the reason, or NULL): its record goes down. */
void sync_linkstate_gone(struct daemon *d, struct link *l, const char *why);
/* Notes every live link and writes the records that changed (stopping:
 * every link down), in one write transaction; none may be open. */
void sync_linkstate_flush(struct daemon *d, bool stopping);
void sync_linkstate_free(struct daemon *d);
/* Every link's record (after noting the live ones), for the daemon's status. */
json_t *sync_linkstate_json(struct daemon *d);
/* Decodes a record of index LINKSTATE_INDEX into *out. -EBADMSG. */
int sync_linkstate_decode(const uint8_t *val, size_t len, struct link_state *out);

/* --- log (daemon_log.c) --- */
void sync_log(const struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sync_log of one line (arg: the daemon), for node_on_store_grown: the
 * store's map growths appear in the daemon's log. */
void sync_log_line(void *arg, const char *line);
/* Counts one refusal of the source ID (see struct refusal_source; LABEL
 * names it in the log, NULL: ID); true when it should be logged and
 * answered, false when this window's burst of the source is spent. */
/* The daemon's timers (liveness, pings, stalls, pauses, refusal windows)
 * run on a monotonic clock, in ms: a wall clock stepped by NTP or by hand
 * must neither drop every link nor pause one for hours. Wall time
 * (node_now_ms) is only for what is signed, shown or kept. */
uint64_t sync_clock_ms(void);

/* Link l was heard from now: its liveness timer and the time shown. */
void sync_link_heard(struct link *l);

bool sync_refusal_allow(struct daemon *d, const char *id, const char *label, uint64_t now);
/* The same for what a link's other side sent: counted by its key. */
bool sync_link_refusal_allow(struct link *l, uint64_t now);
/* The same for the connection whose frame is being handled (d->frame_uid). */
bool sync_frame_refusal_allow(struct daemon *d, uint64_t now);
/* Logs, for each source whose window has ended with refusals left
 * unlogged, "N more refusals from X suppressed", and forgets sources
 * whose window ended. */
void sync_refusal_flush(struct daemon *d, uint64_t now);

/* --- frames (wire.c) --- */
/* Reads one frame from sock; rid and rid_len get the routing id (ROUTER),
 * user_id the ZAP user id of the connection. Caller frees *out with
 * strata__frame__free_unpacked. -EAGAIN if nothing to read, -EBADMSG. */
int sync_frame_recv(void *sock, bool router, uint8_t *rid, size_t *rid_len, char *user_id, size_t uid_cap,
		    Strata__Frame **out, struct err *e);
/* sync_frame_recv without the decoding: *msg gets the frame's one part, which the
 * caller closes (zmq_msg_close) after sync_frame_decode. 0, -EAGAIN, -errno. */
int sync_frame_recv_raw(void *sock, bool router, uint8_t *rid, size_t *rid_len, char *user_id, size_t uid_cap,
			zmq_msg_t *msg);
/* Decodes one received message as a Frame: bounded in size, no unknown
 * fields, a known message; a zstd frame is decompressed (its stated size
 * bounded by SYNC_FRAME_MAX) and the Frame inside returned. Caller frees *out with
 * strata__frame__free_unpacked. -EBADMSG with the reason. */
int sync_frame_decode(const uint8_t *data, size_t len, Strata__Frame **out, struct err *e);
/* Frees the daemon's compression context. */
void sync_wire_free(struct daemon *d);
/* f packed and zstd-compressed with d's context, wrapped in a Frame of its
 * own: *out_len bytes at *out inside the malloc'd block *base; with elide,
 * f's envelopes are packed with their derivable prevs zeroed. f packs to
 * len bytes. 0, or < 0 to send f as it is (-EAGAIN: it would not get
 * smaller). */
int sync_frame_compress(struct daemon *d, const Strata__Frame *f, bool elide, size_t len, uint8_t **base,
			uint8_t **out, size_t *out_len);

/* --- a request to a parent outside the daemon (exchange.c) --- */
struct sync_exchange {
	const char *endpoint;
	const uint8_t *server_curve;   /* the parent's CURVE public key */
	const uint8_t *curve_pk, *curve_sk; /* this side's CURVE key pair */
	const Strata__Frame *request;  /* NULL: only the handshake is wanted */
	Strata__Frame__MsgCase answer; /* the frame that answers it */
	const char *what;              /* "join request", for errors */
	const char *refusal;           /* what a refused handshake means, e.g. "the token (...)" */
	int timeout_ms;
};
/* Connects, sends x->request and waits for x->answer (*reply, caller
 * frees); without a request returns once the handshake succeeds. 0;
 * -EACCES when the parent refuses (at the handshake or with an Error, whose
 * reason e gets); -ETIMEDOUT; -EIO. */
int sync_exchange(const struct sync_exchange *x, Strata__Frame **reply, struct err *e);

/* --- routing (route.c) --- */
/* May node d->n send feed (author, feed) on link l? */
bool sync_route_send(struct daemon *d, struct store_txn *t, const struct link *l, const uint8_t author[KEY_BYTES],
		     const char *feed);
/* Is l the way toward AUTHOR: AUTHOR itself, or a child link (not a peer or
 * an auditor) with AUTHOR at or below it? A checkpoint of AUTHOR's feed goes
 * there too, so that its witnesses' cosignatures come back to it. */
bool sync_route_toward(struct daemon *d, struct store_txn *t, const struct link *l, const uint8_t author[KEY_BYTES]);
/* May link l send us feed (author, feed)? */
bool sync_route_accept(struct daemon *d, struct store_txn *t, const struct link *l, const uint8_t author[KEY_BYTES],
		       const char *feed);

/* --- sending (push.c) --- */
/* Sends l this node's Hello: the heads of every feed l may send us. */
void sync_link_send_hello(struct link *l);
/* Sends l what it lacks of the feeds routing lets it have, within the
 * window of batches in flight. */
void sync_link_pump(struct link *l);
/* sync_link_pump on every link (after this node's store changed). */
void sync_pump_all(struct daemon *d);

/* --- a link's frames (replicate.c) --- */
/* Handles one frame from l's other side (Hello, Entries, Ack, Want, Error,
 * Evidence, Ping). Does not take f. */
void sync_link_on_frame(struct link *l, Strata__Frame *f);
/* An Entries frame on l (receive.c): the batch, and any the link sent
 * after it that were read ahead, stored and answered. */
void sync_on_entries(struct link *l, const Strata__Entries *en);

/* --- own heads (heads.c): a restored store fetches its own entries --- */
/* Called with a link's Hello: asks for the entries of our own feeds that
 * it holds beyond our store, and fences or unfences writes. */
void sync_heads_on_hello(struct link *l, const Strata__Hello *h);
/* After a batch from l was stored: settles what it was fetching. */
void sync_heads_settle(struct link *l);
/* May link l get entries of feed (author, feed) that routing would not
 * send it: its own, which it asked back (a Want after a restore)? */
bool sync_heads_give_back(const struct link *l, struct feedmap_val *v, const uint8_t author[KEY_BYTES]);

/* --- evidence (evidence_relay.c) --- */
/* Records a proof that two envelopes of one (author, feed, seq) differ,
 * freezes the feed, logs an alarm and passes the proof to the parent. */
void sync_evidence_record(struct daemon *d, const uint8_t *first, size_t first_len, const uint8_t *second,
			  size_t second_len);
/* Handles an Evidence frame from a link: checks and records it. */
void sync_evidence_on_frame(struct link *l, const Strata__Evidence *ev);
/* Sends every stored proof to link l. */
void sync_evidence_send_all(struct link *l);

/* --- checkpoints on links (ckpt_link.c) --- */
/* A Checkpoint frame from l: queued, taken by sync_ckpt_flush. */
void sync_ckpt_on_frame(struct link *l, const Strata__Checkpoint *c);
/* Takes the queued notes in one write transaction (node_checkpoint_ingest),
 * answers refusals, raises alarms for inconsistent ones, passes what changed on. */
void sync_ckpt_flush(struct daemon *d);
/* Sends l the held notes it has not got, of feeds routed to it (or toward
 * their author) and that it holds up to the note's size; signs this node's
 * own feeds first (at most once per SYNC_CKPT_SIGN_MS each). Call when l
 * is caught up (nothing in flight). */
void sync_ckpt_send(struct link *l);
/* Each second: the own checkpoints that were due (the final one once the
 * link is idle), and what other processes stored. */
void sync_ckpt_sweep(struct daemon *d);
/* Another process changed the store (a notify): the held notes may have. */
void sync_ckpt_changed(struct daemon *d);
/* Evidence frame holding checkpoint evidence, from l. */
void sync_ckpt_evidence_on_frame(struct link *l, const Strata__Evidence *ev);
/* The link went away: its queued notes are dropped. */
void sync_ckpt_forget(struct daemon *d, const struct link *l);
void sync_ckpt_free(struct daemon *d);

/* --- ZAP (zap.c) --- */
void sync_zap_handle(struct daemon *d);

/* --- enrollment (invite.c, join.c) --- */
/* Decodes a "strata-join:" token; caller wipes (*out)->secret and frees. */
int sync_token_parse(const char *text, Strata__JoinToken **out, struct err *e);
/* A Join from the connection RID (user id "invite:HEX"): true when it
 * enrolled a key (the store changed). */
bool sync_join_on_frame(struct daemon *d, const uint8_t *rid, size_t rid_len, const char *user_id,
			const Strata__Join *j);
/* The joining node's check of the parent's JoinReply: an entry signed by
 * the token's parent that certifies this node's key under its org path,
 * and the token's root. 0, or a negative code with the reason. */
int sync_join_check_reply(const struct node *n, const Strata__JoinToken *tok, const Strata__JoinReply *r, struct err *e);

/* --- the parent side of a certificate request (certify.c) --- */
#define SYNC_REASON_MAX 700 /* a refusal's reason, with its NUL */

/* A Join or a Rotate being answered. */
struct sync_certify {
	const char *what;  /* "a join", "a key rotation": the refusal is logged as "refused WHAT..." */
	const char *who;   /* "... of WHO": the subject's org path once grant knows it, else NULL */
	Strata__Frame__MsgCase reply; /* JOIN_REPLY (with the root) or ROTATE_REPLY */
	/* Checks the request in *w's transaction (of this node's trust feed)
	 * and writes what it grants, committing *w; *seq: the trust entry to
	 * answer with. 0, or -1 with the reason. */
	int (*grant)(struct daemon *d, struct node_writer **w, struct sync_certify *c, uint64_t *seq, char *reason,
		     size_t cap);
	void *arg;         /* grant's */
};
/* Runs c->grant in a write of the trust feed and answers the connection
 * RID with the entry; or refuses (sync_certify_refuse). true when granted:
 * the store changed (the caller logs what was granted). */
bool sync_certify(struct daemon *d, const uint8_t *rid, size_t rid_len, struct sync_certify *c);
/* Sends the connection an Error (EACCES, reason) and logs "refused WHAT[ of
 * WHO]: reason" within the source's refusal allowance. */
void sync_certify_refuse(struct daemon *d, const uint8_t *rid, size_t rid_len, const struct sync_certify *c,
			 const char *reason);

/* --- key rotation (rotate.c): a child asks for its new key's certificate --- */
/* A Rotate from the connection RID (user id "key:HEX", the old key): true
 * when it certified the new key (the store changed). */
bool sync_rotate_on_frame(struct daemon *d, const uint8_t *rid, size_t rid_len, const char *user_id,
			  const Strata__Rotate *r);
/* The rotating node's check of the parent's RotateReply: an entry of
 * PARENT's trust feed that certifies NEW_KEY under this node's org path. */
int sync_rotate_check_reply(const struct node *n, const uint8_t parent[KEY_BYTES], const uint8_t new_key[KEY_BYTES],
			    const Strata__RotateReply *r, struct err *e);

/* --- the ROUTER side's links (children.c) --- */
/* Is KEY this node's key, or one it rotated away from? */
bool sync_own_key(struct daemon *d, struct store_txn *t, const uint8_t key[KEY_BYTES]);
/* Handles a frame that arrived on the ROUTER from the connection with
 * routing id RID and ZAP user id UID ("key:HEX" or "invite:HEX"): a join,
 * a rotation, or a link's frame (a Hello from a certified key opens the
 * link). Does not take f. */
void sync_on_child_frame(struct daemon *d, const uint8_t *rid, size_t rid_len, const char *uid,
			 Strata__Frame *f);
/* Drops child link i; why (may be NULL) becomes its last error. */
void sync_child_remove(struct daemon *d, size_t i, const char *why);
/* The child link with routing id RID, or NULL. */
struct link *sync_child_by_rid(struct daemon *d, const uint8_t *rid, size_t rid_len);
/* Drops the child links whose key was revoked since they opened. */
void sync_drop_revoked(struct daemon *d);
/* Frees every child link (the daemon's links at its end). */
void sync_drop_children(struct daemon *d);

/* --- socket monitors (monitor.c) --- */
/* Handles one event of the parent link's socket monitor: a handshake
 * opens the link (Hello), a disconnection resets it. */
void sync_on_monitor(struct daemon *d);
/* Handles one event of the listener's socket monitor. */
void sync_on_router_monitor(struct daemon *d);

/* --- status (links.c) --- */
/* The running daemon's figures: pid, start, listen endpoint, every live
 * link and every link's kept state (the control socket's "status"). */
json_t *sync_daemon_status(struct daemon *d);

/* --- after a commit (receive.c) --- */
/* Overwrites what erased values left in free pages, if an erase was
 * applied (node_scrub); logs what it did. Call with no transaction open. */
void sync_scrub(struct daemon *d);
/* Logs one line an observer sends (a node_note_fn; d is the daemon; receive.c). */
void sync_note(void *d, const char *msg);
/* Runs the node's observers with NODE_EVENT_DUE (steps may be due; receive.c). */
void sync_due(struct daemon *d);

#endif
