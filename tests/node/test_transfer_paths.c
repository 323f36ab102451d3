/* SPDX-License-Identifier: MIT */
/*
 * node_transfer_paths: transfers whose new branch the old branch names by
 * org path only (issue 16: trust scoped to the tree, so it may hold no
 * certificate of it), in the network of transfer_fixture.h: the common
 * ancestor resolves the path, or refuses a path that is no unit below it
 * and a revoked branch, without forwarding.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transfer_fixture.h"

TestSuite(node_transfer_paths, .init = setup, .fini = teardown);

/* A destination the old branch holds no certificate of goes by org path to
 * the common ancestor, which refuses one that is no unit below it: an
 * outcome, refused, without a forward; the member stays, and can be
 * released again. */
Test(node_transfer_paths, unknown_destination)
{
	struct transfer_view v;
	struct err e = {0};
	char id[TID_CAP], again[TID_CAP];

	tid(id, "ZH006", "");
	add_member(a, "ZH006", STRATA__MEMBER_STATUS__STATUS_ACTIVE);
	cr_assert_eq(release(a, "ZH006", "xiamen/huli/nowhere", NULL, &e), 0, "release: %s", e.msg);
	cr_assert(view_at(a, id, &v) && strcmp(v.lca_name, city->path) == 0, "the release waits on \"%s\"",
		  v.lca_name);
	settle();
	cr_assert(view_at(a, id, &v), "a does not list %s", id);
	cr_assert_str_eq(transfer_state_word(v.state), "refused");
	cr_assert(strstr(v.answer, "refused by the common ancestor xiamen") && strstr(v.answer, "xiamen/huli/nowhere"),
		  "the reason at a: %s", v.answer);
	cr_assert_str_eq(state_at(city, id), "refused");
	cr_assert_str_eq(state_at(b, id), "", "a transfer never forwarded is listed at b");
	cr_assert_str_eq(status_of(a, a, "ZH006"), "active");
	memset(&e, 0, sizeof e);
	cr_assert_eq(transfer_approve(city->n, a->path, id, &e), -EINVAL, "approved after the refusal");
	cr_assert(strstr(e.msg, "already refused"), "%s", e.msg);
	release_ok(a, "ZH006", b, NULL, tid(again, "ZH006", "-2"));
	settle();
	cr_assert_str_eq(state_from(b, a, again), "forwarded");
}

/* A new branch revoked by its issuer: the common ancestor refuses the
 * transfer instead of forwarding it; the member stays. */
Test(node_transfer_paths, revoked_destination)
{
	struct node_revoke_result res;
	struct transfer_view v;
	struct err e = {0};
	char id[TID_CAP];

	cr_assert_eq(node_revoke(d2->n, b->path, "closed", &res, &e), 0, "revoke b: %s", e.msg);
	spread();
	tid(id, "ZH007", "");
	add_member(a, "ZH007", STRATA__MEMBER_STATUS__STATUS_ACTIVE);
	release_ok(a, "ZH007", b, NULL, id);
	settle();
	cr_assert(view_at(a, id, &v), "a does not list %s", id);
	cr_assert_str_eq(transfer_state_word(v.state), "refused");
	cr_assert(strstr(v.answer, "revoked"), "the reason at a: %s", v.answer);
	cr_assert_str_eq(state_at(b, id), "", "forwarded to a revoked branch");
	cr_assert_str_eq(status_of(a, a, "ZH007"), "active");
}

/* With [transfer] approve = manual at the common ancestor, a path that is
 * no unit below it is refused all the same, by the automatic step (there
 * is nothing to approve); approving it by hand says why and writes
 * nothing. */
Test(node_transfer_paths, unknown_destination_manual)
{
	struct transfer_view v;
	struct err e = {0};
	char id[TID_CAP];

	set_manual(d1);
	tid(id, "ZH008", "");
	add_member(a, "ZH008", STRATA__MEMBER_STATUS__STATUS_ACTIVE);
	cr_assert_eq(release(a, "ZH008", "xiamen/siming/nowhere", NULL, &e), 0, "release: %s", e.msg);
	spread();
	cr_assert_eq(transfer_approve(d1->n, a->path, id, &e), -ESRCH, "approved: %s", e.msg);
	cr_assert(strstr(e.msg, "no unit named xiamen/siming/nowhere is enrolled below xiamen/siming"), "%s", e.msg);
	cr_assert(view_at(d1, id, &v) && v.state == TRANSFER_RELEASED, "the refused approval wrote a step");
	settle();
	cr_assert_str_eq(state_at(a, id), "refused");
	cr_assert(view_at(d1, id, &v) && !v.awaiting_approval, "d1 awaits its approval of a refused transfer");
	cr_assert_str_eq(status_of(a, a, "ZH008"), "active");
}
