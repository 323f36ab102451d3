/* SPDX-License-Identifier: MIT */
/*
 * sync: nodes talking to nodes over ZeroMQ. The daemon (`strata serve`):
 * a ROUTER (CURVE server) for children and peers, a DEALER (CURVE client)
 * to the parent, a ZAP handler that admits only keys this node certified
 * and holders of a one-time join token, and the replication of feeds by
 * heads, batches and acknowledgements (docs/PROTOCOL.md). Also the two ends
 * of enrollment (invite, join) and the local control socket through which
 * the CLI tells a running daemon about new entries and asks for its status.
 */
#ifndef STRATA_SYNC_H
#define STRATA_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "node/core/node.h"

#define SYNC_PROTOCOL_VERSION 1
#define SYNC_CONTROL_SOCKET "control.sock"
#define LINKSTATE_INDEX "links" /* link key -> its last known state (JSON) */

struct sync_serve_opts {
	bool verbose; /* log every batch, not only connections and refusals */
	bool alone;   /* lift the write fence at start: no link holds newer entries of our feeds */
};

/* Runs the daemon for node n until SIGTERM or SIGINT; logs to stderr and
 * prints "ready" there when it accepts connections. 0 on a clean stop, or
 * a negative code if it could not start (endpoint in use, bad config). */
int sync_serve(struct node *n, const struct sync_serve_opts *o, struct err *e) WUR;

/* What an invitation grants. */
struct sync_invite_opts {
	const char *name;        /* the org path the child will hold */
	Strata__Role role;       /* child, peer or auditor */
	uint64_t ttl_ms;         /* validity from now: 1 s to SYNC_INVITE_TTL_MAX_MS */
	const char *endpoint;    /* where the child connects; NULL: the listen endpoint */
	char **feeds;            /* feeds the subject may publish; NULL: by role */
	size_t n_feeds;
	char **receive;          /* peers: feeds shared with the subject */
	size_t n_receive;
	const char *display_name; /* the unit's name for people, copied into its
				   * certificate; NULL: none (display_name_valid) */
};

/* The longest a join token stays valid: a token is a bearer secret, so its
 * window is short enough that a lost one expires before it is found. */
#define SYNC_INVITE_TTL_MIN_MS 1000ull
#define SYNC_INVITE_TTL_MAX_MS (30ull * 24 * 3600 * 1000)

/* The longest text read as a join token (a token is about 200 bytes). */
#define SYNC_TOKEN_MAX 4096

/* Environment variable `strata join` reads the token from. */
#define SYNC_TOKEN_ENV "STRATA_JOIN_TOKEN"

/* Records a one-time invitation and returns its token (malloc'd text,
 * "strata-join:..."), to be given to the child out of band. -ERANGE if
 * ttl_ms is outside SYNC_INVITE_TTL_MIN_MS..SYNC_INVITE_TTL_MAX_MS. */
int sync_invite(struct node *n, const struct sync_invite_opts *o, char **token, struct err *e) WUR;

/* Reads a join token (sync_token_read): from the file at path, which must
 * be a regular file that only its owner can read (else -EPERM saying how to
 * fix it), or, with path NULL, from fd (standard input). The first line,
 * without surrounding white space, up to SYNC_TOKEN_MAX bytes; a NUL or
 * other control byte in it is refused. *out is sodium_malloc'd: release it
 * with sync_token_free. */
int sync_token_read(const char *path, int fd, char **out, struct err *e) WUR;
void sync_token_free(char *token);

/* Enrolls node n with the parent named in TOKEN: proves it holds its key,
 * receives its certificate, pins the root and records the parent in
 * strata.conf. The parent must be serving. Checks first that the token
 * fits this node (a peer token only for the root of another domain, a child
 * token only for a node of no domain) and that strata.conf can be written,
 * so a refusal changes nothing. Idempotent: a join interrupted after the
 * parent certified this key completes when run again with the same token
 * (within its window) or a new one for the same org path. */
int sync_join(struct node *n, const char *token, int timeout_ms, struct err *e) WUR;

/* What strata rotate-key did. */
struct sync_rotation {
	uint8_t old_key[KEY_BYTES];
	uint8_t new_key[KEY_BYTES];
	char name[NODE_NAME_SIZE];      /* the org path, certified again for the new key */
	bool resumed;        /* an interrupted rotation was finished */
};

/* Replaces node n's key (opened with its key; its daemon must not run,
 * -EBUSY): a new key pair, a rotation record signed by the old key, then
 * the parent (serving) certifies the new key and revokes the old one in one
 * trust entry; the store and node.key take the new key. Resumes a rotation
 * that stopped half-way (node.key.new). -EACCES when the parent refuses,
 * -ETIMEDOUT, -EINVAL (no parent, no certificate). */
int sync_rotate(struct node *n, int timeout_ms, struct sync_rotation *out, struct err *e) WUR;

/* Tells a daemon running on DIR that the store changed (best effort, no
 * error when none runs). */
void sync_notify(const char *dir);

/* Asks the daemon running on DIR for its status (links, counters). -ENOTCONN
 * when no daemon answers within timeout_ms. Caller owns *out. */
int sync_status(const char *dir, int timeout_ms, json_t **out, struct err *e) WUR;

/* What `strata status --check` checks, and its thresholds. */
struct sync_check_opts {
	uint64_t link_down_ms;    /* a link down longer than this fails */
	unsigned disk_free_pct;   /* less free space than this on the store's filesystem fails */
};
#define SYNC_CHECK_LINK_DOWN_S 3600 /* defaults of strata status --check */
#define SYNC_CHECK_DISK_FREE_PCT 10

/* Every configured link of node n: the parent, and every child, peer and
 * auditor this node certified (with any of its keys) and has not revoked,
 * connected or not, with its state, since when, last seen and last error
 * (from the running daemon, else as the store keeps them). A JSON array
 * (caller owns *out) of objects {kind, role, name, key, state
 * ("connected", "disconnected", "never connected"), since_ms,
 * last_seen_ms, last_error, last_error_ms, daemon: the daemon's own figures
 * or null}. daemon (may be NULL) is the daemon's sync_status answer. */
int sync_links(struct node *n, const json_t *daemon, json_t **out, struct err *e) WUR;

/* The problems `strata status --check` reports for node n, given its links
 * (sync_links) and feeds: links down past o->link_down_ms, frozen feeds, a
 * nearly full disk. A JSON array of sentences (caller owns *out); empty
 * when all is well. */
int sync_check(struct node *n, const json_t *links, const struct sync_check_opts *o, json_t **out,
	       struct err *e) WUR;

#endif
