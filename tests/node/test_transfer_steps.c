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

#include "node/bundle/bundle.h"
#include "node/transfer/transfer.h"
#include "testproc.h"

#define TMP_CAP 64   /* the temporary directory */
#define DIR_CAP 128  /* a node directory in it */
#define PATH_CAP 256 /* a file in one */
#define NUNITS 6
#define SETTLE_ROUNDS 6

struct unit {
	const char *label, *path;
	struct unit *parent;
	char dir[DIR_CAP];
	struct node *n;
};

static char tmp[TMP_CAP];
static struct unit units[NUNITS] = {
	{.label = "city", .path = "xiamen"},
	{.label = "d1", .path = "xiamen/siming"},
	{.label = "d2", .path = "xiamen/huli"},
	{.label = "a", .path = "xiamen/siming/zhonghua"},
	{.label = "a2", .path = "xiamen/siming/xiagang"},
	{.label = "b", .path = "xiamen/huli/jinshan"},
};
static struct unit *const city = &units[0], *const d1 = &units[1], *const d2 = &units[2], *const a = &units[3],
		   *const a2 = &units[4], *const b = &units[5];
static char today[11], day[16]; /* YYYY-MM-DD, YYYYMMDD */

static void unit_open(struct unit *u)
{
	struct err e = {0};

	cr_assert_eq(node_open(&u->n, u->dir, NODE_NOSYNC, &e), 0, "open %s: %s", u->label, e.msg);
	if (u != city)
		node_pin_root(u->n, node_id(city->n));
}

/* ISSUER certifies U as a child, with the feeds an invitation gives. */
static void certify(struct unit *issuer, struct unit *u)
{
	static char *feeds[] = {FEED_UP, FEED_REPORT, FEED_DOWN, FEED_NOTICE, FEED_TRUST, FEED_PRIVATE};
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	struct node_writer *w = NULL;
	uint8_t buf[1024];
	struct err e = {0};

	c.subject.data = (uint8_t *)node_id(u->n);
	c.subject.len = KEY_BYTES;
	c.name = (char *)u->path;
	c.role = STRATA__ROLE__ROLE_CHILD;
	c.n_feeds = sizeof feeds / sizeof feeds[0];
	c.feeds = feeds;
	c.issued_ms = node_now_ms();
	cr_assert_leq(strata__certificate__get_packed_size(&c), sizeof buf);
	cr_assert_eq(node_writer_begin(issuer->n, FEED_TRUST, &w, &e), 0, "%s", e.msg);
	memset(&e, 0, sizeof e);
	cr_assert_eq(node_writer_put(w, "cert", node_id(u->n), KEY_BYTES, buf, strata__certificate__pack(&c, buf), &e),
		     0, "certify %s: %s", u->label, e.msg);
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "certify %s: %s", u->label, e.msg);
	u->parent = issuer;
}

/* Carries what FROM holds of feed (and trust) to TO, through a bundle. */
static void carry(struct unit *from, struct unit *to, char *feed)
{
	char *feeds[] = {feed, FEED_TRUST};
	struct bundle_filter f = {.feeds = feeds, .n_feeds = 2};
	struct bundle_counts c;
	char path[PATH_CAP];
	size_t dups;
	struct err e = {0};

	snprintf(path, sizeof path, "%s/carry.bundle", tmp);
	cr_assert_eq(bundle_export(from->n, &f, path, &c, &e), 0, "export %s: %s", from->label, e.msg);
	cr_assert_eq(bundle_import(to->n, path, &c, &dups, &e), 0, "import %s -> %s: %s", from->label, to->label,
		     e.msg);
}

/* Every entry up the tree, then down it: what a round of links carries. */
static void spread(void)
{
	for (size_t i = NUNITS; i-- > 1;)
		carry(&units[i], units[i].parent, FEED_UP);
	for (size_t i = 1; i < NUNITS; i++)
		carry(units[i].parent, &units[i], FEED_DOWN);
}

/* Rounds of spreading and of every node's automatic steps until none is
 * left to take. */
static void settle(void)
{
	for (int round = 0; round < SETTLE_ROUNDS; round++) {
		int taken = 0;

		spread();
		for (size_t i = 0; i < NUNITS; i++) {
			struct err e = {0};
			int r = transfer_process(units[i].n, NULL, NULL, &e);

			cr_assert_geq(r, 0, "transfer_process at %s: %s", units[i].label, e.msg);
			taken += r;
		}
		if (!taken)
			return;
	}
	cr_assert_fail("the transfer steps did not settle in %d rounds", SETTLE_ROUNDS);
}

static void setup(void)
{
	struct err e = {0};

	snprintf(tmp, sizeof tmp, "/tmp/strata-transfer-steps-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	date_today(today);
	snprintf(day, sizeof day, "%.4s%.2s%.2s", today, today + 5, today + 8);
	for (size_t i = 0; i < NUNITS; i++) {
		struct node_init_opts o = {.name = units[i].path, .root = i == 0};

		snprintf(units[i].dir, sizeof units[i].dir, "%s/%s", tmp, units[i].label);
		cr_assert_eq(node_create(units[i].dir, &o, &e), 0, "init %s: %s", units[i].label, e.msg);
	}
	for (size_t i = 0; i < NUNITS; i++)
		unit_open(&units[i]);
	certify(city, d1);
	certify(city, d2);
	carry(city, d1, FEED_DOWN);
	carry(city, d2, FEED_DOWN);
	certify(d1, a);
	certify(d1, a2);
	certify(d2, b);
	spread();
	spread(); /* the certificates of one district's streets to the other's */
}

static void teardown(void)
{
	for (size_t i = 0; i < NUNITS; i++)
		node_close(&units[i].n);
	spawn_remove_tree(tmp);
}

TestSuite(node_transfer_steps, .init = setup, .fini = teardown);

/* Writes member ID into U's registry with status st. */
static void add_member(struct unit *u, const char *id, Strata__MemberStatus st)
{
	Strata__Member m = STRATA__MEMBER__INIT;
	struct node_writer *w = NULL;
	uint8_t buf[1024];
	struct err e = {0};

	m.id = (char *)id;
	m.name = (char *)"林海燕";
	m.category = STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
	m.status = st;
	m.joined = (char *)"2015-07-01";
	cr_assert_eq(node_writer_begin(u->n, FEED_UP, &w, &e), 0, "%s", e.msg);
	memset(&e, 0, sizeof e);
	cr_assert_eq(node_writer_put(w, "member", (const uint8_t *)id, strlen(id), buf,
				     strata__member__pack(&m, buf), &e),
		     0, "add %s at %s: %s", id, u->label, e.msg);
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "add %s at %s: %s", id, u->label, e.msg);
}

/* The status of member ID in OWNER's registry as AT holds it: "active",
 * "transferred", "other" or "absent". */
static const char *status_of(struct unit *at, struct unit *owner, const char *id)
{
	struct store_txn *t = NULL;
	const uint8_t *v;
	size_t len;
	struct err e = {0};
	Strata__Member *m = NULL;
	const char *s = "absent";

	cr_assert_eq(store_txn_begin(node_store(at->n), false, &t, &e), 0, "%s", e.msg);
	if (store_state_get(t, "member", node_id(owner->n), (const uint8_t *)id, strlen(id), &v, &len, NULL, &e) == 0 &&
	    (m = strata__member__unpack(NULL, len, v)))
		s = m->status == STRATA__MEMBER_STATUS__STATUS_ACTIVE	   ? "active"
		    : m->status == STRATA__MEMBER_STATUS__STATUS_TRANSFERRED ? "transferred"
									     : "other";
	if (m)
		strata__member__free_unpacked(m, NULL);
	store_txn_abort(&t);
	return s;
}

/* Transfer ID of FROM (NULL: any) as U lists it (a copy in *out), false if
 * U does not list it. */
static bool view_from(struct unit *u, struct unit *from, const char *id, struct transfer_view *out)
{
	struct transfer_view *v = NULL;
	size_t count = 0;
	struct err e = {0};
	bool found = false;

	cr_assert_eq(transfer_list(u->n, &v, &count, &e), 0, "list at %s: %s", u->label, e.msg);
	for (size_t i = 0; i < count && !found; i++)
		if (strcmp(v[i].id, id) == 0 && (!from || memcmp(v[i].from, node_id(from->n), KEY_BYTES) == 0)) {
			*out = v[i];
			found = true;
		}
	free(v);
	return found;
}

static bool view_at(struct unit *u, const char *id, struct transfer_view *out)
{
	return view_from(u, NULL, id, out);
}

/* The state word of transfer ID of FROM (NULL: any) at U, "" if U does not
 * list it. */
static const char *state_from(struct unit *u, struct unit *from, const char *id)
{
	static struct transfer_view v;

	return view_from(u, from, id, &v) ? transfer_state_word(v.state) : "";
}

static const char *state_at(struct unit *u, const char *id)
{
	return state_from(u, NULL, id);
}

#define TID_CAP (TRANSFER_ID_MAX + 1)

/* MEMBER-YYYYMMDD of today, with suffix ("" or "-2", ...), into id. */
static const char *tid(char id[TID_CAP], const char *member, const char *suffix)
{
	snprintf(id, TID_CAP, "%s-%s%s", member, day, suffix);
	return id;
}

static void release_ok(struct unit *from, const char *member, struct unit *to, const char *reason, const char *want)
{
	struct transfer_release_opts o = {.member = member, .to = to->path, .reason = reason};
	char id[TRANSFER_ID_MAX + 1];
	struct err e = {0};

	cr_assert_eq(transfer_release(from->n, &o, id, &e), 0, "release %s at %s: %s", member, from->label, e.msg);
	cr_assert_str_eq(id, want, "the transfer id");
}

static int decide(struct unit *at, struct unit *from, const char *id, bool accept, const char *member_id,
		  struct err *e)
{
	struct transfer_decide_opts o = {.from = from->path, .id = id, .accept = accept, .member_id = member_id};
	char got[65] = "";
	int ret = transfer_decide(at->n, &o, got, e);

	if (ret == 0 && accept && member_id)
		cr_assert_str_eq(got, member_id, "the member's id at %s", at->label);
	return ret;
}

static void decide_ok(struct unit *at, struct unit *from, const char *id, bool accept, const char *member_id)
{
	struct err e = {0};

	cr_assert_eq(decide(at, from, id, accept, member_id, &e), 0, "decide %s at %s: %s", id, at->label, e.msg);
}

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

/* Appends [transfer] approve = manual to U's strata.conf and opens it again. */
static void set_manual(struct unit *u)
{
	char path[PATH_CAP];
	FILE *f;

	node_close(&u->n);
	snprintf(path, sizeof path, "%s/strata.conf", u->dir);
	cr_assert_not_null(f = fopen(path, "a"));
	fputs("\n[transfer]\napprove = manual\n", f);
	cr_assert_eq(fclose(f), 0);
	unit_open(u);
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

static struct store_head up_head(struct unit *u)
{
	struct store_txn *t = NULL;
	struct store_head h = {0};
	struct err e = {0};

	cr_assert_eq(store_txn_begin(node_store(u->n), false, &t, &e), 0, "%s", e.msg);
	if (store_head_get(t, node_id(u->n), FEED_UP, &h, &e) < 0)
		h.seq = 0;
	store_txn_abort(&t);
	return h;
}

static int release(struct unit *from, const char *member, const char *to, const char *date, struct err *e)
{
	struct transfer_release_opts o = {.member = member, .to = to, .date = date};
	char id[TRANSFER_ID_MAX + 1];

	return transfer_release(from->n, &o, id, e);
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

/* A destination the old branch holds no certificate of goes by org path to
 * the common ancestor, which refuses one that is no unit below it: an
 * outcome, refused, without a forward; the member stays, and can be
 * released again. */
Test(node_transfer_steps, unknown_destination)
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
