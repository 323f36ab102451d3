/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the fault harness (tests/faults/), on top of the sync tests'
 * net.{c,h}: a seeded PRNG whose seed is printed and can be set
 * (STRATA_FAULT_SEED) so a failing run can be replayed, a round count that
 * a soak run raises (STRATA_FAULT_ROUNDS), CLI runs in the background that
 * the test can SIGKILL at a moment of its choosing, a TCP relay the test
 * controls (pass, cut, hold) to partition a link without iptables, and
 * checks of what a network must hold after faults: every node's heads
 * converged, every committed change set still there with its hash, and
 * `strata audit` passing everywhere.
 */
#ifndef STRATA_TEST_FAULTS_FAULT_H
#define STRATA_TEST_FAULTS_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../sync/net.h"

/* --- randomness and soak --- */

/* Seeds the PRNG from STRATA_FAULT_SEED, else from the clock, and logs the
 * seed (cr_log_info and stderr) with how to replay it. Returns the seed. */
uint64_t fault_seed(const char *test);

/* A number in [0, n) (n > 0). */
uint64_t fault_rand(uint64_t n);

/* STRATA_FAULT_ROUNDS if set (a positive number), else def. */
unsigned fault_rounds(unsigned def);

/* --- background CLI runs --- */

/* One `strata ARG...` started in the background, stdout and stderr to
 * files in the test directory. */
struct fault_proc {
	pid_t pid;
	int status; /* exit code, or 128 + signal; -1 while running */
	uint64_t started_ms;
	char out[256], err[256];
};

/* Starts `strata ARG...` (NULL-terminated). */
void fault_spawn(struct fault_proc *p, const char *arg, ...) __attribute__((sentinel));

/* Has it finished (reaps it, setting status)? */
bool fault_done(struct fault_proc *p);

/* SIGKILL if still running, then reaps; returns true if it was killed,
 * false if it had already finished. */
bool fault_kill(struct fault_proc *p);

/* Waits for it to finish (asserting within timeout_ms). */
void fault_wait(struct fault_proc *p, unsigned timeout_ms);

/* Its stderr (malloc'd, owned by the fixture). */
const char *fault_stderr(const struct fault_proc *p);

/* --- a TCP relay --- */

enum fault_relay_mode {
	FAULT_PASS, /* forward both ways */
	FAULT_CUT,  /* close every connection, refuse new ones (accept and close at once) */
	FAULT_HOLD, /* a blackhole: keep connections, accept new ones, forward nothing,
		       as a dead route does; PASS delivers what was held (as TCP's
		       retransmissions would) unless an end gave up meanwhile */
};

struct fault_relay;

/* Starts a relay on a free port of 127.0.0.1 forwarding to
 * 127.0.0.1:to_port (a thread of the test). Owned by the fixture. */
struct fault_relay *fault_relay_new(unsigned to_port);

/* Its endpoint, "tcp://127.0.0.1:PORT". */
const char *fault_relay_endpoint(const struct fault_relay *r);

/* Switches its mode; returns once the relay works in it. */
void fault_relay_set(struct fault_relay *r, enum fault_relay_mode m);

/* Connections accepted so far. */
unsigned fault_relay_accepted(const struct fault_relay *r);

/* The port of a node's listen endpoint. */
unsigned fault_port(const struct net_node *n);

/* Points a child's [parent] endpoint at another endpoint (a relay). */
void fault_set_parent_endpoint(const struct net_node *n, const char *endpoint);

/* --- what a network must hold --- */

/* The network under test: nodes and, for each, the index of its parent
 * (-1 for the root). */
struct fault_net {
	struct net_node *node[NET_MAX_NODES];
	int parent[NET_MAX_NODES];
	size_t n;
};

/* The hash of entry seq of (author, feed) at node n; false if it holds no
 * such entry. */
bool fault_entry_hash(const struct net_node *n, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq,
		      uint8_t hash[HASH_BYTES]);

/* Committed change sets: the head of each feed a node wrote, recorded after
 * a command that exited 0 (fault_commit_note). fault_commit_check asserts
 * every recorded entry is still at its author and at every node it flows
 * to, with the same hash. */
struct fault_commits;
struct fault_commits *fault_commits_new(void);
void fault_commits_note(struct fault_commits *c, const struct net_node *author);
size_t fault_commits_check(struct fault_commits *c, const struct fault_net *net);

/* Has every node every entry it should hold of every other node's own feeds
 * (up and report to ancestors, down to descendants, trust everywhere)? If
 * not, why (may be NULL, 512 bytes) says what is missing first. */
bool fault_converged(const struct fault_net *net, char *why);

/* Asserts convergence within timeout_ms. */
void fault_wait_converged(const struct fault_net *net, unsigned timeout_ms);

/* `strata audit -d DIR --root ROOTHEX` on every node, asserting exit 0. */
void fault_audit_all(const struct fault_net *net);

/* `strata verify` on every node, asserting exit 0. */
void fault_verify_all(const struct fault_net *net);

#endif
