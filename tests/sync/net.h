/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the multi-node sync tests: a temporary directory per test
 * holding one directory per node; real `strata serve` daemons started with
 * their stderr in a log file and killed with the test whatever happens
 * (PR_SET_PDEATHSIG, and the suite's .fini); CLI runs with captured output;
 * waiting for a condition with a deadline; reading a node's store read-only
 * through the storage API; and a hand-driven ZeroMQ client that speaks the
 * wire protocol to a serving node (net_client_*), with change sets built by
 * the protocol module.
 */
#ifndef STRATA_TEST_SYNC_NET_H
#define STRATA_TEST_SYNC_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "crypto/crypto.h"
#include "protocol/protocol.h"
#include "storage/store.h"

/* Deadlines scale under sanitizers, where everything runs ~3x slower. */
#if defined(__SANITIZE_ADDRESS__)
#define NET_SLOW 3
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NET_SLOW 3
#endif
#endif
#ifndef NET_SLOW
#define NET_SLOW 1
#endif
#define NET_DEADLINE_MS (20000 * NET_SLOW) /* the usual wait for convergence */

#define NET_MAX_NODES 24

/* One node directory and its daemon. */
struct net_node {
	char label[32];     /* short name, also the directory name under the test dir */
	char path[128];     /* org path */
	char dir[256];
	char log[288];      /* the daemon's stderr, appended across restarts */
	char listen[64];    /* "tcp://127.0.0.1:PORT", or "" for a leaf */
	bool root;
	pid_t pid;          /* the running daemon, 0 when none */
	bool started_once;
	uint8_t key[KEY_BYTES];
	char hex[KEY_HEX];
};

/* The test's directory (/tmp/strata-sync-XXXXXX). */
extern char net_tmp[64];

/* Fixture: makes net_tmp / kills (SIGKILL) every daemon still running and
 * removes net_tmp. Use as .init and .fini of every suite. */
void net_setup(void);
void net_teardown(void);

/* Objects a test allocates through these helpers (clients, key pairs,
 * envelopes, frames, head lists) are owned by the fixture: whatever the
 * test has not released when it ends, passing or failing, is freed by
 * net_teardown, so a failed assertion leaks nothing (LeakSanitizer).
 * net_own registers p with its destructor and returns it; net_release
 * destroys a registered p now. */
void *net_own(void *p, void (*destroy)(void *));
void net_release(void *p);

/* "<net_tmp>/name" into out (256 bytes). */
const char *net_path(char out[256], const char *name);

/* Milliseconds of a monotonic clock. */
uint64_t net_now_ms(void);

/* Polls cond(arg) every 20 ms until it holds (true) or timeout_ms pass
 * (false). */
bool net_wait_until(bool (*cond)(void *arg), void *arg, unsigned timeout_ms);

/* Waits for an expression with a deadline; on timeout fails the test with
 * the message and the state of every daemon (net_diag). */
#define NET_WAIT(timeout_ms, expr, fmt, ...)                                                        \
	do {                                                                                         \
		uint64_t net_dl_ = net_now_ms() + (timeout_ms);                                      \
		while (!(expr)) {                                                                    \
			if (net_now_ms() > net_dl_)                                                  \
				cr_assert_fail("timed out after %u ms waiting for %s: " fmt "\n%s",  \
					       (unsigned)(timeout_ms), #expr, ##__VA_ARGS__, net_diag()); \
			net_sleep_ms(20);                                                            \
		}                                                                                    \
	} while (0)

void net_sleep_ms(unsigned ms);

/* A text describing every node: daemon alive or not, and the last lines of
 * its log. Static buffer, valid until the next call. */
const char *net_diag(void);

/* --- processes --- */

/* One finished CLI run; out and err are NUL-terminated, owned by the
 * fixture (net_run_free releases them now).
 * status is the exit code, or 128 + the signal. */
struct net_run {
	int status;
	char *out, *err;
	size_t out_len, err_len;
};

/* Paths of the binaries under test ($STRATA_TEST_BUILDDIR). */
const char *net_strata(void);
const char *net_gen(void);

/* Runs `strata ARG...` (NULL-terminated), stdin from /dev/null, capturing
 * both outputs; fails the test if it cannot start or runs over 120 s. */
void net_run(struct net_run *r, const char *arg, ...) __attribute__((sentinel));
/* The same with stdin read from in_file. */
void net_run_in(struct net_run *r, const char *in_file, const char *arg, ...) __attribute__((sentinel));
void net_run_free(struct net_run *r);

/* Parses r->out as JSON (asserting); owned by the fixture (net_release). */
json_t *net_run_json(const struct net_run *r);

/* Runs `strata ARG...` and asserts exit 0, showing stderr otherwise. */
void net_ok(const char *arg, ...) __attribute__((sentinel));

/* Writes N generated members with ids PREFIX000001.. to path. */
void net_gen_members(const char *path, unsigned long n, const char *prefix, unsigned long seed);

/* Is needle in s? */
bool net_has(const char *s, const char *needle);

/* Reads a whole file (malloc'd, NUL-terminated; "" if missing). */
char *net_read_file(const char *path);

/* How many times the bytes of needle occur in n's store/data.mdb, read raw:
 * for tests that a value (a phone number, a name) is or is not stored. */
size_t net_store_count(const struct net_node *n, const char *needle);
/* How many times the len bytes of needle are in the file at path. */
size_t net_file_count_bytes(const char *path, const void *needle, size_t len);

/* `cp -a src dst` (asserting), and removing a tree. */
void net_copy_tree(const char *src, const char *dst);
void net_remove_tree(const char *path);

/* Does the node's log contain needle? */
bool net_log_has(const struct net_node *n, const char *needle);

/* --- nodes --- */

/* `strata init` of a node LABEL with org path PATH; root: --root; listen:
 * a free port on 127.0.0.1. The key is read back with `strata id --json`. */
struct net_node *net_node_init(const char *label, const char *path, bool root, bool listen);
/* The same with `--level LEVEL` (deployment profiles; NULL: none). */
struct net_node *net_node_init_level(const char *label, const char *path, bool root, bool listen, const char *level);

/* Enrolls child with parent (running): `strata invite` (with the extra
 * invite arguments, NULL-terminated) then `strata join`, asserting both. */
void net_node_join(struct net_node *child, struct net_node *parent, ...) __attribute__((sentinel));

/* Writes text and a newline to path, mode 0600 (a join token file). */
void net_write_secret(const char *path, const char *text);

/* Starts `strata serve -d DIR`, stderr appended to its log, and waits until
 * the log says it is ready (fails the test with the log if it dies). */
void net_node_start(struct net_node *n);

/* SIGTERM and wait (20 s at most); asserts a clean exit (status 0; under
 * ASan a leak or an error also shows here). */
void net_node_stop(struct net_node *n);

/* SIGKILL and reap. */
void net_node_kill(struct net_node *n);

/* Stops every running daemon cleanly (net_node_stop). */
void net_stop_all(void);

/* Sets [write] ops_per_changeset in the node's strata.conf. */
void net_node_set_ops(struct net_node *n, unsigned ops);
/* Sets [store] map_max (a size: "64K", "0") in the node's strata.conf,
 * adding the section at its end the first time. */
void net_node_set_map_max(struct net_node *n, const char *value);

/* `strata verify -d DIR`: exit status; out (may be NULL) gets what it printed. */
int net_node_verify(const struct net_node *n, char *out, size_t cap);

/* `strata status --json` (asserting exit 0); owned by the fixture
 * (net_release). */
json_t *net_node_status(const struct net_node *n);

/* --- the store, read-only --- */

/* Every feed head the node holds (opening its store read-only); *out is
 * owned by the fixture (net_release). */
size_t net_heads(const struct net_node *n, struct store_head **out);

/* The head seq of (author, feed) at node n; 0 if it holds no such feed.
 * flags (may be NULL) receives the feed's flags. */
uint64_t net_head(const struct net_node *n, const uint8_t author[KEY_BYTES], const char *feed, uint32_t *flags);

/* The number of records of a collection owned by owner (NULL: anyone). */
size_t net_count(const struct net_node *n, const char *collection, const uint8_t *owner);

/* Is there a certificate for subject in the node's store (any issuer)? */
bool net_has_cert(const struct net_node *n, const uint8_t subject[KEY_BYTES]);

/* --- a hand-driven client on the wire --- */

struct net_client;

/* Connects a DEALER with CURVE keys (pk, sk) to node server's listen
 * endpoint, authenticating the server by its node key. */
struct net_client *net_client_new(const struct net_node *server, const uint8_t curve_pk[KEY_BYTES],
				  const uint8_t curve_sk[KEY_BYTES]);

/* The same with the CURVE keys of an Ed25519 key pair. */
struct net_client *net_client_new_kp(const struct net_node *server, const struct keypair *kp);

/* Closes and frees *c (clients are owned by the fixture). NULL-safe. */
void net_client_free(struct net_client **c);

/* Sends one frame (packed) or raw bytes as one message, asserting that it
 * could be queued within 2 s. The try_ forms return false instead (a
 * client the node refused has no connection to queue on). */
void net_client_send(struct net_client *c, const Strata__Frame *f);
void net_client_send_raw(struct net_client *c, const void *data, size_t len);
bool net_client_try_send(struct net_client *c, const Strata__Frame *f);
bool net_client_try_send_raw(struct net_client *c, const void *data, size_t len);

/* A Hello frame (static storage: valid until the next call). */
const Strata__Frame *net_hello_frame(const uint8_t key[KEY_BYTES], const char *name);

/* Sends Hello: version 1, node key, org path, no heads. */
void net_client_hello(struct net_client *c, const uint8_t key[KEY_BYTES], const char *name);

/* Waits up to timeout_ms for a message. NULL on timeout; a frame that does
 * not decode fails the test. The frame is owned by the fixture
 * (net_release). */
Strata__Frame *net_client_recv(struct net_client *c, int timeout_ms);

/* Waits for a frame of the given kind, dropping others (Entries batches
 * of the server are acknowledged). NULL on timeout. */
Strata__Frame *net_client_expect(struct net_client *c, Strata__Frame__MsgCase kind, int timeout_ms);

/* What the server answered to one Entries batch. */
struct net_reply {
	Strata__Frame *ack;        /* the Ack of the batch (NULL: none in time) */
	Strata__Frame *errors[16]; /* Error frames received before the Ack */
	size_t n_errors;
	size_t n_wants;
};

/* Sends envelopes as one Entries batch and collects the answer up to its
 * Ack (timeout_ms at most). The frames are owned by the fixture;
 * net_reply_free releases them. */
void net_client_entries(struct net_client *c, uint64_t batch, uint8_t *const *env, const size_t *len, size_t n,
			struct net_reply *r, int timeout_ms);
void net_reply_free(struct net_reply *r);

/* Builds a signed change set of feed at seq with prev (NULL: zeros) by kp
 * that puts one member (id, with a valid record) or, for member_id NULL,
 * holds no op. *env is owned by the fixture; hash (may be NULL) receives
 * its hash. */
void net_entry(const struct keypair *kp, const char *feed, uint64_t seq, const uint8_t *prev, const char *member_id,
	       uint8_t **env, size_t *len, uint8_t hash[HASH_BYTES]);

/* Loads DIR/node.key of a node (asserting); owned by the fixture. */
struct keypair *net_node_keypair(const struct net_node *n);

/* A new random key pair, owned by the fixture. */
struct keypair *net_keypair_new(void);

#endif
