/* SPDX-License-Identifier: MIT */
/*
 * The network of node_test_transfer_steps (transfer_fixture.h): six real
 * node directories and stores in a temporary directory, certificates
 * written as the join would write them, entries carried between them as
 * bundles, and the helpers the tests share.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transfer_fixture.h"

char tmp[TMP_CAP];
struct unit units[NUNITS] = {
	{.label = "city", .path = "xiamen"},
	{.label = "d1", .path = "xiamen/siming"},
	{.label = "d2", .path = "xiamen/huli"},
	{.label = "a", .path = "xiamen/siming/zhonghua"},
	{.label = "a2", .path = "xiamen/siming/xiagang"},
	{.label = "b", .path = "xiamen/huli/jinshan"},
};
struct unit *const city = &units[0], *const d1 = &units[1], *const d2 = &units[2], *const a = &units[3],
		   *const a2 = &units[4], *const b = &units[5];
char today[11], day[16]; /* YYYY-MM-DD, YYYYMMDD */

void unit_open(struct unit *u)
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
void spread(void)
{
	for (size_t i = NUNITS; i-- > 1;)
		carry(&units[i], units[i].parent, FEED_UP);
	for (size_t i = 1; i < NUNITS; i++)
		carry(units[i].parent, &units[i], FEED_DOWN);
}

/* Rounds of spreading and of every node's automatic steps until none is
 * left to take. */
void settle(void)
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

void setup(void)
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

void teardown(void)
{
	for (size_t i = 0; i < NUNITS; i++)
		node_close(&units[i].n);
	spawn_remove_tree(tmp);
}


/* Writes member ID into U's registry with status st. */
void add_member(struct unit *u, const char *id, Strata__MemberStatus st)
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
const char *status_of(struct unit *at, struct unit *owner, const char *id)
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
bool view_from(struct unit *u, struct unit *from, const char *id, struct transfer_view *out)
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

bool view_at(struct unit *u, const char *id, struct transfer_view *out)
{
	return view_from(u, NULL, id, out);
}

/* The state word of transfer ID of FROM (NULL: any) at U, "" if U does not
 * list it. */
const char *state_from(struct unit *u, struct unit *from, const char *id)
{
	static struct transfer_view v;

	return view_from(u, from, id, &v) ? transfer_state_word(v.state) : "";
}

const char *state_at(struct unit *u, const char *id)
{
	return state_from(u, NULL, id);
}


/* MEMBER-YYYYMMDD of today, with suffix ("" or "-2", ...), into id. */
const char *tid(char id[TID_CAP], const char *member, const char *suffix)
{
	snprintf(id, TID_CAP, "%s-%s%s", member, day, suffix);
	return id;
}

void release_ok(struct unit *from, const char *member, struct unit *to, const char *reason, const char *want)
{
	struct transfer_release_opts o = {.member = member, .to = to->path, .reason = reason};
	char id[TRANSFER_ID_MAX + 1];
	struct err e = {0};

	cr_assert_eq(transfer_release(from->n, &o, id, &e), 0, "release %s at %s: %s", member, from->label, e.msg);
	cr_assert_str_eq(id, want, "the transfer id");
}

int decide(struct unit *at, struct unit *from, const char *id, bool accept, const char *member_id,
		  struct err *e)
{
	struct transfer_decide_opts o = {.from = from->path, .id = id, .accept = accept, .member_id = member_id};
	char got[65] = "";
	int ret = transfer_decide(at->n, &o, got, e);

	if (ret == 0 && accept && member_id)
		cr_assert_str_eq(got, member_id, "the member's id at %s", at->label);
	return ret;
}

void decide_ok(struct unit *at, struct unit *from, const char *id, bool accept, const char *member_id)
{
	struct err e = {0};

	cr_assert_eq(decide(at, from, id, accept, member_id, &e), 0, "decide %s at %s: %s", id, at->label, e.msg);
}


struct store_head up_head(struct unit *u)
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

int release(struct unit *from, const char *member, const char *to, const char *date, struct err *e)
{
	struct transfer_release_opts o = {.member = member, .to = to, .date = date};
	char id[TRANSFER_ID_MAX + 1];

	return transfer_release(from->n, &o, id, e);
}

/* Appends [transfer] approve = manual to U's strata.conf and opens it again. */
void set_manual(struct unit *u)
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
