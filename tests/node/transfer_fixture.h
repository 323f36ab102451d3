/* SPDX-License-Identifier: MIT */
/*
 * The network of node_test_transfer_steps (transfer_fixture.c), shared by
 * test_transfer_steps.c and test_transfer_paths.c:
 *
 *   xiamen (city) ── siming (d1) ── zhonghua (a), xiagang (a2)
 *                 └─ huli (d2)   ── jinshan (b)
 *
 * setup/teardown make and remove it for each test; every store holds every
 * certificate (carried as bundles: an old store, or a common ancestor).
 */
#ifndef STRATA_TESTS_TRANSFER_FIXTURE_H
#define STRATA_TESTS_TRANSFER_FIXTURE_H

#include <stdbool.h>

#include "node/bundle/bundle.h"
#include "node/core/admin.h"
#include "node/transfer/transfer.h"
#include "testproc.h"

#define TMP_CAP 64   /* the temporary directory */
#define DIR_CAP 128  /* a node directory in it */
#define PATH_CAP 256 /* a file in one */
#define NUNITS 6
#define SETTLE_ROUNDS 6
#define TID_CAP (TRANSFER_ID_MAX + 1)

struct unit {
	const char *label, *path;
	struct unit *parent;
	char dir[DIR_CAP];
	struct node *n;
};

extern char tmp[TMP_CAP];
extern struct unit units[NUNITS];
extern struct unit *const city, *const d1, *const d2, *const a, *const a2, *const b;
extern char today[11], day[16]; /* YYYY-MM-DD, YYYYMMDD */

void unit_open(struct unit *u);
/* Every entry up the tree, then down it: what a round of links carries. */
void spread(void);
/* Rounds of spreading and of every node's automatic steps until none is left. */
void settle(void);
void setup(void);
void teardown(void);
/* Writes member ID into U's registry with status st. */
void add_member(struct unit *u, const char *id, Strata__MemberStatus st);
/* "active", "transferred", "other" or "absent": member ID of OWNER at AT. */
const char *status_of(struct unit *at, struct unit *owner, const char *id);
/* Transfer ID of FROM (NULL: any) as U lists it, into *out; false if not. */
bool view_from(struct unit *u, struct unit *from, const char *id, struct transfer_view *out);
bool view_at(struct unit *u, const char *id, struct transfer_view *out);
/* Its state word, "" if U does not list it. */
const char *state_from(struct unit *u, struct unit *from, const char *id);
const char *state_at(struct unit *u, const char *id);
/* MEMBER-YYYYMMDD of today, with suffix ("" or "-2", ...), into id. */
const char *tid(char id[TID_CAP], const char *member, const char *suffix);
void release_ok(struct unit *from, const char *member, struct unit *to, const char *reason, const char *want);
int decide(struct unit *at, struct unit *from, const char *id, bool accept, const char *member_id, struct err *e);
void decide_ok(struct unit *at, struct unit *from, const char *id, bool accept, const char *member_id);
struct store_head up_head(struct unit *u);
/* Appends [transfer] approve = manual to U's strata.conf and opens it again. */
void set_manual(struct unit *u);
int release(struct unit *from, const char *member, const char *to, const char *date, struct err *e);

/* Refused with ret, its message containing msg, and nothing written to
 * U's up feed. */
#define REFUSED(u, want, text, call)                                                                   \
	do {                                                                                           \
		struct store_head before_ = up_head(u), after_;                                        \
		struct err e_ = {0};                                                                   \
		struct err *e = &e_;                                                                   \
		int ret_ = (call);                                                                     \
		cr_assert_eq(ret_, want, "%s: %d (%s), expected %d", #call, ret_, e_.msg, want);       \
		cr_assert(strstr(e_.msg, text), "%s: the error does not say \"%s\": %s", #call, text, e_.msg); \
		after_ = up_head(u);                                                                   \
		cr_assert_eq(after_.seq, before_.seq, "%s wrote an entry", #call);                     \
	} while (0)

#endif
