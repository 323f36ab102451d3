/* SPDX-License-Identifier: MIT */
/*
 * transfer: moving a member from one branch to another as a two-party
 * protocol (DESIGN.md "Authority"), every step a signed entry of its taker's
 * feeds (records in node/records/transfer_records.c):
 *
 *   1. the old branch A releases the member to branch B      release    (A, up)
 *   2. the lowest common ancestor L of A and B forwards it    forward    (L, down)
 *      at once, or after `strata transfer approve` when its
 *      strata.conf says [transfer] approve = manual
 *   3. B accepts (writing the member into its registry in     acceptance (B, up)
 *      the same change set) or refuses
 *   4. L passes the outcome down                              outcome    (L, down)
 *   5. A marks the member transferred (accepted only)         member     (A, up)
 *
 * `up` reaches every ancestor and `down` every descendant, so each step
 * reaches the node that takes the next: the release reaches L (an ancestor
 * of A), the forward reaches B, the acceptance reaches L, the outcome A.
 * Steps 2 (auto), 4 and 5 are taken by the node's daemon as entries arrive
 * (transfer_after_batch, transfer_process); steps 1, 2 (manual) and 3 by a
 * person through `strata transfer`. Each step is checked and written in one
 * write transaction, so the daemon and the CLI taking the same step at once
 * write it once. L is the deepest node on both certificate chains.
 *
 * Trust scoped to the tree (issue 16, docs/PROTOCOL.md "Transfers"): a node
 * holds the certificates of its chain and its subtree only, so A may not
 * know B's key, nor B A's. Then:
 *   - A's release names B by org path only (Release.to = 32 zero bytes,
 *     to_name authoritative); where A holds B's certificate it writes the
 *     key as before;
 *   - L is found by org path where a key is unknown (transfer_internal.h,
 *     transfer_release_lca): the deepest node of A's chain whose path is
 *     B's or a prefix of it followed by '/'; A and every node on the way up
 *     use the same rule, by keys where both chains are known;
 *   - L, which holds its subtree's certificates, resolves the path when it
 *     forwards (Forward.to is the real key, Forward.from_name A's path), or
 *     refuses a path that is no unit below it, or a revoked one: an outcome,
 *     refused, with an acceptance hash of 32 zero bytes, never forwarded;
 *   - B takes A's key, the member and the release hash from the forward,
 *     signed by its ancestor; --from matches from_name or A's key in hex;
 *   - A matches the outcome to its release by id and release hash and
 *     learns B's key from it.
 */
#ifndef STRATA_TRANSFER_H
#define STRATA_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/core/node.h"
#include "node/records/records.h"

/* Receives one line about a step taken automatically, or why one could not
 * be (the daemon logs it). */
typedef void (*transfer_note_fn)(void *arg, const char *msg);

/* --- the automatic steps --- */

/* Takes every step that is this node's to take now: forwards the releases
 * it is the common ancestor of (unless approval is manual), refuses those
 * whose new branch is no unit below it or is revoked (also when approval is
 * manual: there is nothing to approve), passes down the
 * outcome of every acceptance of a transfer it forwarded, and as the old
 * branch marks a member transferred once the accepted outcome arrives.
 * note (may be NULL) hears of each. Returns the number of steps taken, or a
 * negative code with e filled (the first step that failed; later ones are
 * still tried). Needs the node's key. */
int transfer_process(struct node *n, transfer_note_fn note, void *arg, struct err *e);

/* Does change set cs write a transfer record (release, forward, acceptance,
 * outcome)? */
bool transfer_touches(const struct changeset *cs);

/* For the daemon, after it committed a batch from a link: if any stored
 * entry (res[i] == 0) touched transfers, runs transfer_process. Errors go to
 * note. */
void transfer_after_batch(struct node *n, struct changeset *const *cs, const int *res, size_t count,
			  transfer_note_fn note, void *arg);

/* Registers with node n (node_observe) the automatic steps: after a batch
 * received, transfer_after_batch; when steps may be due (NODE_EVENT_DUE),
 * transfer_process, a failure told to the commit's note as "transfer step
 * not taken: ...". For the program that runs the daemon. -ENOMEM. */
int transfer_observe(struct node *n) WUR;

/* --- the steps a person takes --- */

/* Finds the node WHO names, an org path or a 64-hex key, among the nodes of
 * this trust domain (role child or root, with a certificate chain to the
 * root), by the certificates held here (its chain's and subtree's: issue
 * 16). key receives its key, name (may be NULL, NODE_NAME_SIZE bytes) its org path.
 * -ESRCH (unknown), -EINVAL (not a path or key, or named twice). */
int transfer_resolve(struct node *n, struct store_txn *t, const char *who, uint8_t key[KEY_BYTES], char *name,
		     struct err *e) WUR;

struct transfer_release_opts {
	const char *member; /* member id in this node's registry */
	const char *to;     /* org path (or key) of the new branch */
	const char *date;   /* YYYY-MM-DD, not in the future; NULL: today */
	const char *reason; /* may be NULL */
};

/* Step 1: releases an active member of this node to another branch. id
 * receives the transfer id ("<member>-<YYYYMMDD>", "-2"... when taken).
 * A destination given by an org path this node holds no certificate of is
 * released by path (Release.to zero bytes) for the common ancestor to
 * resolve or refuse. Refuses (-ESRCH) an unknown member, an unknown key,
 * an org path below this node that is no unit of it, (-EINVAL) a member
 * who is not active or is already being transferred, a destination that is
 * this node or under no node of this node's chain, a bad date. Nothing is
 * written then. */
int transfer_release(struct node *n, const struct transfer_release_opts *o, char id[TRANSFER_ID_MAX + 1],
		     struct err *e) WUR;

/* Step 2 by hand: forwards the release ID of branch FROM (org path or key)
 * as its common ancestor with the destination. -ESRCH when this node holds
 * no such release, or its destination is no unit below this node (or is
 * revoked: the reason in e, nothing written; the daemon refuses it),
 * -EINVAL when it is not the common ancestor or already forwarded or
 * refused it. */
int transfer_approve(struct node *n, const char *from, const char *id, struct err *e) WUR;

struct transfer_decide_opts {
	const char *from;      /* the old branch: org path (the forward's from_name, or its certificate's
				* where held) or key in hex */
	const char *id;        /* transfer id */
	bool accept;           /* accept, or refuse */
	const char *member_id; /* accept: the member's id here; NULL: the same as there */
	const char *date;      /* NULL: today */
	const char *reason;    /* may be NULL */
};

/* Step 3: accepts (writing the member into this node's registry, active, in
 * the same change set) or refuses a transfer forwarded to this node.
 * member_id (may be NULL, MEMBER_ID_MAX + 1 bytes) receives the id the member has here.
 * Refuses (-ESRCH) a transfer not forwarded here, (-EACCES) one addressed
 * to another node, (-EINVAL) one already decided, an id taken here. */
int transfer_decide(struct node *n, const struct transfer_decide_opts *o, char *member_id, struct err *e) WUR;

/* --- where each transfer stands --- */

enum transfer_state {
	TRANSFER_RELEASED,  /* released, not forwarded yet */
	TRANSFER_FORWARDED, /* forwarded, not decided yet */
	TRANSFER_ACCEPTED,  /* accepted by the new branch, outcome not passed down yet */
	TRANSFER_REFUSED,   /* refused by the new branch */
	TRANSFER_COMPLETED, /* accepted, and the outcome passed down to the old branch */
};

const char *transfer_state_word(enum transfer_state s);

/* Where this node stands on a transfer's way (old branch, up to the common
 * ancestor, down to the new branch). */
enum transfer_side {
	TRANSFER_SIDE_NONE,     /* above the common ancestor: it oversees it */
	TRANSFER_SIDE_OUTGOING, /* the old branch, or between it and the common ancestor */
	TRANSFER_SIDE_VIA,      /* the common ancestor */
	TRANSFER_SIDE_INCOMING, /* the new branch, or between the common ancestor and it */
};

/* "", "outgoing", "via", "incoming". */
const char *transfer_side_word(enum transfer_side s);

struct transfer_view {
	char key[TRANSFER_KEY_MAX + 1];
	char id[TRANSFER_ID_MAX + 1];
	uint8_t from[KEY_BYTES], to[KEY_BYTES], lca[KEY_BYTES];
	char from_name[NODE_NAME_SIZE], to_name[NODE_NAME_SIZE], lca_name[NODE_NAME_SIZE]; /* lca_name "" until forwarded */
	char member[MEMBER_ID_MAX + 1], name[NODE_NAME_SIZE], new_member[MEMBER_ID_MAX + 1];
	/* "" until then */
	char released[RECORD_DATE_SIZE], forwarded[RECORD_DATE_SIZE], decided[RECORD_DATE_SIZE], completed[RECORD_DATE_SIZE];
	char reason[TRANSFER_REASON_MAX + 1]; /* the release's reason, if given */
	char answer[TRANSFER_REASON_MAX + 1]; /* the new branch's reason, if given and held here */
	enum transfer_state state;
	bool approved;          /* forwarded after a person's approval */
	bool awaiting_approval; /* this node is the common ancestor and approves by hand */
	bool has_release;       /* this node holds the release itself */
	enum transfer_side side;
};

/* Every transfer this node takes part in or oversees (it holds the release
 * or the acceptance, or it is the old branch, or the new branch or on the
 * way down to it from the common ancestor: an incoming transfer is listed
 * there from its forward on), ordered by old branch and id, each with its
 * side. Caller frees *out. */
int transfer_list(struct node *n, struct transfer_view **out, size_t *count, struct err *e) WUR;

#endif
