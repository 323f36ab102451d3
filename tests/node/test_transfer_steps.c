/* SPDX-License-Identifier: MIT */
/*
 * node_transfer_steps: the transfer state machine (node/transfer/transfer.h)
 * driven through its library functions, without daemons. A city, two
 * districts, three streets, each a real node directory and store in a
 * temporary directory:
 *
 *   xiamen (city) ── siming (d1) ── zhonghua (a), xiagang (a2)
 *                 └─ huli (d2)   ── jinshan (b)
 *
 * Certificates are written as the join would write them; entries travel
 * between the stores as bundles (bundle_export/bundle_import, the same
 * ingest a link uses), up the tree with up and trust, down it with down and
 * trust; transfer_process stands in for each daemon's after-commit step.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transfer_fixture.h"

TestSuite(node_transfer_steps, .init = setup, .fini = teardown);

Test(node_transfer_steps, release_forward_accept_outcome)
{
	struct transfer_view v;
	char id[TID_CAP];

	tid(id, "ZH001", "");

	add_member(a, "ZH001", STRATA__MEMBER_STATUS__STATUS_ACTIVE);
	release_ok(a, "ZH001", b, "moved house", id);
	cr_assert_str_eq(state_at(a, id), "released");
	cr_assert(view_at(a, id, &v) && !v.awaiting_approval && strcmp(v.lca_name, city->path) == 0,
		  "the release waits on the city (via \"%s\")", v.lca_name);
	settle();
	/* the city forwarded on its own */
	cr_assert(view_at(b, id, &v), "b does not list %s", id);
	cr_assert_str_eq(transfer_state_word(v.state), "forwarded");
	cr_assert_str_eq(v.lca_name, city->path);
	cr_assert_str_eq(v.reason, "moved house");
	cr_assert(!v.approved, "an automatic forward listed as approved");
	cr_assert_str_eq(status_of(a, a, "ZH001"), "active");
	cr_assert_str_eq(status_of(b, b, "ZH001"), "absent");
	/* b accepts: active there at once, transferred at a once the outcome is back */
	decide_ok(b, a, id, true, NULL);
	cr_assert_str_eq(status_of(b, b, "ZH001"), "active");
	cr_assert_str_eq(state_at(b, id), "accepted");
	settle();
	cr_assert_str_eq(status_of(a, a, "ZH001"), "transferred");
	cr_assert_str_eq(state_at(a, id), "completed");
	cr_assert_str_eq(state_at(b, id), "completed");
	cr_assert_str_eq(state_at(city, id), "completed");
	cr_assert_str_eq(state_at(a2, id), "", "a bystander lists a transfer it has no part in");
	cr_assert(view_at(b, id, &v) && strcmp(v.new_member, "ZH001") == 0 && v.completed[0] && v.decided[0]);
	cr_assert(view_at(d2, id, &v) && v.side == TRANSFER_SIDE_INCOMING, "the receiving district sees it incoming");
}

/* The receiving district (below the common ancestor, above the new branch)
 * lists an incoming transfer from its forward on, before the new branch
 * decides; each node says where it stands. */
Test(node_transfer_steps, incoming_at_the_receiving_district)
{
	struct transfer_view v;
	char id[TID_CAP];

	tid(id, "ZH005", "");
	add_member(a, "ZH005", STRATA__MEMBER_STATUS__STATUS_ACTIVE);
	release_ok(a, "ZH005", b, NULL, id);
	cr_assert_str_eq(state_at(d2, id), "", "the receiving district lists the transfer before the forward");
	settle();
	cr_assert(view_at(d2, id, &v), "the receiving district does not list the incoming transfer %s", id);
	cr_assert_str_eq(transfer_state_word(v.state), "forwarded");
	cr_assert_eq(v.side, TRANSFER_SIDE_INCOMING, "side %s at d2", transfer_side_word(v.side));
	cr_assert_str_eq(v.from_name, a->path);
	cr_assert_str_eq(v.to_name, b->path);
	cr_assert_str_eq(v.member, "ZH005");
	cr_assert(view_at(b, id, &v) && v.side == TRANSFER_SIDE_INCOMING, "side %s at b", transfer_side_word(v.side));
	cr_assert(view_at(city, id, &v) && v.side == TRANSFER_SIDE_VIA, "side %s at the city", transfer_side_word(v.side));
	cr_assert(view_at(d1, id, &v) && v.side == TRANSFER_SIDE_OUTGOING, "side %s at d1", transfer_side_word(v.side));
	cr_assert(view_at(a, id, &v) && v.side == TRANSFER_SIDE_OUTGOING, "side %s at a", transfer_side_word(v.side));
	cr_assert_str_eq(state_at(a2, id), "", "a bystander lists a transfer it has no part in");
}

Test(node_transfer_steps, refuse)
{
	struct transfer_view v;
	char id[TID_CAP], idbuf[TID_CAP];

	tid(id, "ZH002", "");
	struct err e = {0};

	add_member(a, "ZH002", STRATA__MEMBER_STATUS__STATUS_ACTIVE);
	release_ok(a, "ZH002", b, NULL, id);
	settle();
	struct transfer_decide_opts o = {.from = a->path, .id = id, .accept = false, .reason = "not our area"};

	cr_assert_eq(transfer_decide(b->n, &o, NULL, &e), 0, "refuse: %s", e.msg);
	settle();
	cr_assert_str_eq(state_at(a, id), "refused");
	cr_assert_str_eq(state_at(city, id), "refused");
	cr_assert(view_at(b, id, &v) && strcmp(transfer_state_word(v.state), "refused") == 0);
	cr_assert_str_eq(v.answer, "not our area");
	cr_assert_str_eq(status_of(a, a, "ZH002"), "active");
	cr_assert_str_eq(status_of(b, b, "ZH002"), "absent");
	/* refused once, it can be released again the same day: the id takes -2 */
	release_ok(a, "ZH002", b, NULL, tid(idbuf, "ZH002", "-2"));
	memset(&e, 0, sizeof e);
	cr_assert_eq(decide(b, a, id, true, NULL, &e), -EINVAL, "decided twice");
	cr_assert(strstr(e.msg, "already refused"), "%s", e.msg);
}

Test(node_transfer_steps, manual_approval)
{
	struct transfer_view v;
	char id[TID_CAP];

	tid(id, "ZH004", "");
	struct err e = {0};

	set_manual(d1);
	add_member(a, "ZH004", STRATA__MEMBER_STATUS__STATUS_ACTIVE);
	release_ok(a, "ZH004", a2, NULL, id);
	settle();
	cr_assert(view_at(d1, id, &v), "d1 does not list %s", id);
	cr_assert_str_eq(transfer_state_word(v.state), "released", "forwarded without the district's approval");
	cr_assert(v.awaiting_approval, "d1 does not say it awaits its approval");
	cr_assert_str_eq(state_at(a2, id), "");
	cr_assert_eq(transfer_approve(city->n, a->path, id, &e), -EINVAL, "the city approved: %s", e.msg);
	cr_assert(strstr(e.msg, "not the lowest common ancestor"), "%s", e.msg);
	memset(&e, 0, sizeof e);
	cr_assert_eq(transfer_approve(d1->n, a->path, "NOPE-20200101", &e), -ESRCH, "%s", e.msg);
	memset(&e, 0, sizeof e);
	cr_assert_eq(transfer_approve(d1->n, a->path, id, &e), 0, "approve: %s", e.msg);
	cr_assert_eq(transfer_approve(d1->n, a->path, id, &e), -EINVAL, "approved twice");
	cr_assert(strstr(e.msg, "already forwarded"), "%s", e.msg);
	settle();
	cr_assert(view_at(a2, id, &v) && v.approved && strcmp(v.lca_name, d1->path) == 0,
		  "a2 lists %s approved via %s", id, v.lca_name);
	decide_ok(a2, a, id, true, "XG100");
	cr_assert_str_eq(status_of(a2, a2, "XG100"), "active");
	settle();
	cr_assert_str_eq(status_of(a, a, "ZH004"), "transferred");
	/* the city holds the old branch's registry, not the district's down feed */
	cr_assert_str_eq(state_at(city, id), "completed");
	cr_assert_str_eq(state_at(d1, id), "completed");
}

/* A to B and back to A on one day: two transfers, two ids (the second is
 * MEMBER-YYYYMMDD-2 at b, which holds the first's forward), both complete;
 * a third release that day takes -3. Before issue 14 the way back reused
 * the first id. */
Test(node_transfer_steps, back_the_same_day)
{
	char there[TID_CAP], back[TID_CAP], again[TID_CAP];

	tid(there, "ZH001", "");
	tid(back, "ZH001", "-2");
	tid(again, "ZH001", "-3");

	add_member(a, "ZH001", STRATA__MEMBER_STATUS__STATUS_ACTIVE);
	release_ok(a, "ZH001", b, NULL, there);
	settle();
	decide_ok(b, a, there, true, NULL);
	settle();
	cr_assert_str_eq(status_of(a, a, "ZH001"), "transferred");
	/* b sends the member back the same day under a new id; a takes it under its old member id */
	release_ok(b, "ZH001", a, NULL, back);
	settle();
	cr_assert_str_eq(state_from(a, b, back), "forwarded");
	decide_ok(a, b, back, true, NULL);
	settle();
	cr_assert_str_eq(status_of(b, b, "ZH001"), "transferred");
	cr_assert_str_eq(status_of(a, a, "ZH001"), "active", "the first outcome was applied again at a");
	cr_assert_str_eq(state_from(a, a, there), "completed");
	cr_assert_str_eq(state_from(a, b, back), "completed");
	cr_assert_str_eq(state_from(b, a, there), "completed");
	cr_assert_str_eq(state_from(b, b, back), "completed");
	cr_assert_str_eq(state_from(city, b, back), "completed");
	cr_assert_str_eq(state_from(a, b, there), "", "a lists a transfer from b under the first id");
	/* released again from a: both of the day's ids are known there */
	release_ok(a, "ZH001", b, NULL, again);
	settle();
	cr_assert_str_eq(state_from(b, a, again), "forwarded");
}

Test(node_transfer_steps, refusals)
{
	char id[TID_CAP];

	add_member(a, "ZH001", STRATA__MEMBER_STATUS__STATUS_ACTIVE);
	add_member(a, "ZH003", STRATA__MEMBER_STATUS__STATUS_LAPSED);
	REFUSED(a, -ESRCH, "no member with id NOPE", release(a, "NOPE", b->path, NULL, e));
	/* below this branch, whose subtree it holds: refused at once (another
	 * street's path goes to the common ancestor: unknown_destination) */
	REFUSED(a, -ESRCH, "no branch named xiamen/siming/zhonghua/nowhere",
		release(a, "ZH001", "xiamen/siming/zhonghua/nowhere", NULL, e));
	REFUSED(a, -EINVAL, "no common ancestor", release(a, "ZH001", "beijing/dongcheng", NULL, e));
	REFUSED(a, -EINVAL, "neither an org path", release(a, "ZH001", "Xiamen Huli", NULL, e));
	REFUSED(a, -EINVAL, "is this branch", release(a, "ZH001", a->path, NULL, e));
	REFUSED(a, -EINVAL, "only an active member", release(a, "ZH003", b->path, NULL, e));
	REFUSED(a, -EINVAL, "in the future", release(a, "ZH001", b->path, "2999-01-01", e));
	REFUSED(a, -EINVAL, "not a real date", release(a, "ZH001", b->path, "2024-02-30", e));
	release_ok(a, "ZH001", b, NULL, tid(id, "ZH001", ""));
	REFUSED(a, -EINVAL, "already being transferred", release(a, "ZH001", a2->path, NULL, e));
	settle();
	/* the wrong unit: a2 cannot take a transfer addressed to b */
	REFUSED(a2, -EACCES, "not addressed to this node", decide(a2, a, id, true, NULL, e));
	REFUSED(b, -ESRCH, "has been forwarded to this node", decide(b, a, "NOPE-20200101", true, NULL, e));
	REFUSED(b, -EINVAL, "is not a transfer id", decide(b, a, "no/such", true, NULL, e));
	REFUSED(b, -EINVAL, "cannot accept transfer", decide(b, a, id, true, "bad id!", e));
	cr_assert_str_eq(status_of(a2, a2, "ZH001"), "absent");
	decide_ok(b, a, id, true, NULL);
	REFUSED(b, -EINVAL, "already accepted", decide(b, a, id, true, NULL, e));
}
