/* SPDX-License-Identifier: MIT */
/*
 * The store an auditor is handed (issue 15), built before each test of
 * node_test_audit_bundle and node_test_audit_evidence:
 *
 *   xm (store_dir, root) -> xm/s1 (street, T0) -> xm/s1/b1 (branch, T0 + 1)
 *   xm/s1/b1 certifies xm/s1/b1/g1..g3 in its own trust feed (GROUPS entries)
 *   and, later (T0 + 100), the root certifies the branch's key itself as
 *   xm/b9 allowed only `up` (the "later root certificate")
 *
 * target_dir: a copy made when the store held only the root's feed (an
 * importer of the same domain). fork_a/fork_b: the branch's trust entry #2
 * and another it signed for that seq; fork_other: its entry #3. stranger: a
 * key nobody certified.
 */
#ifndef STRATA_TEST_AUDIT_FIXTURE_H
#define STRATA_TEST_AUDIT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "node/audit/history.h"
#include "node/core/node.h"

#define T0 1700000000000ull
#define GROUPS 3 /* the branch's certificates of its groups: its trust entries */

struct author {
	struct keypair *kp;
	uint64_t seq;
	uint8_t prev[HASH_BYTES];
};

extern char store_dir[256], target_dir[256], root_hex[65];
extern uint8_t root_key[KEY_BYTES];
extern struct author street, branch, stranger;
extern uint8_t *fork_a, *fork_b, *fork_other;
extern size_t fork_a_len, fork_b_len, fork_other_len;

void audit_fixture_setup(void);
void audit_fixture_teardown(void);

/* A's trust entry at seq certifying SUBJECT as NAME (not stored): its envelope (malloc'd). */
uint8_t *signed_cert(struct author *a, uint64_t seq, const uint8_t *subject, const char *name, uint64_t issued_ms,
		     size_t *len, uint8_t hash[HASH_BYTES]);
/* The root (node n) certifies SUBJECT through its writer. */
void root_certifies(struct node *n, const uint8_t *subject, const char *name, uint64_t issued_ms, bool up_only);
void copy_dir(const char *from, const char *to);

/* A failure hook appending "feed #seq: reason" lines to arg (4096 bytes). */
void on_failure(const struct verify_failure *f, void *arg);
/* `strata audit WHAT --root R --json` (-d WHAT when dir): exit status, JSON. */
json_t *audit_cli(const char *what, bool dir, int *status);
/* The reason of the first failure of an audit's JSON that holds needle (asserted). */
const char *failure_with(json_t *j, const char *needle);

#endif
