/* SPDX-License-Identifier: MIT */
/*
 * sync_transfer: a member moves between branches as a two-party protocol
 * over real daemons. A city, two districts, two streets each:
 *   - across districts: street A releases, the city (the lowest common
 *     ancestor) forwards on its own, street B accepts, A sees the outcome
 *     and marks the member transferred; the member is active at A only
 *     before, at B only after;
 *   - a refusal leaves the member active at A;
 *   - within one district, the district is the common ancestor; it approves
 *     by hand ([transfer] approve = manual) before the forward goes out;
 *   - bad input is refused with a clear error and writes nothing: an unknown
 *     member, an unknown destination below the branch, a member already
 *     being transferred, accepting a transfer addressed to another branch;
 *   - trust scoped to the tree (issue 16): the streets of the two districts
 *     hold no certificate of each other, before and after a transfer
 *     between them completed (accepted and refused): the release names the
 *     new branch by path, the city resolves it, the new branch knows the
 *     old one from the forward; an org path that is no unit below the city
 *     is refused by the city, with its reason, and the member stays.
 * `transfer list` at each node shows where each transfer stands, and
 * `strata verify` passes everywhere at the end.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"

TestSuite(sync_transfer, .init = net_setup, .fini = net_teardown);

/* Room for an org path in `via` below. */
#define VIA_MAX 256

/* The state of transfer id in `strata transfer list --json` at node n ("" if
 * not listed); via (may be NULL, VIA_MAX bytes) receives its common ancestor. */
static const char *state_at(const struct net_node *n, const char *id, char *via)
{
	static char state[32];
	struct net_run r;
	json_t *arr, *t;
	size_t i;

	state[0] = '\0';
	net_run(&r, "transfer", "list", "-d", (char *)n->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "transfer list at %s: %s", n->label, r.err);
	arr = net_run_json(&r);
	json_array_foreach(arr, i, t) if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0)
	{
		snprintf(state, sizeof state, "%s", json_string_value(json_object_get(t, "state")));
		if (via)
			snprintf(via, VIA_MAX, "%s", json_is_string(json_object_get(t, "via"))
							 ? json_string_value(json_object_get(t, "via"))
							 : "");
	}
	net_release(arr);
	net_run_free(&r);
	return state;
}

/* Reads (collection, owner, key) at node n, opening its store read-only
 * (quicker than a CLI run, for polling): a malloc'd copy, NULL if absent. */
static uint8_t *rec_get(const struct net_node *n, const char *collection, const struct net_node *owner,
			const char *key, size_t *len)
{
	char path[512];
	struct store *st = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	const uint8_t *v;
	uint8_t *copy = NULL;

	snprintf(path, sizeof path, "%s/store", n->dir);
	cr_assert_eq(store_open(&st, path, STORE_RDONLY, &e), 0, "cannot open the store of %s: %s", n->label, e.msg);
	if (store_txn_begin(st, false, &t, &e) == 0 &&
	    store_state_get(t, collection, owner->key, (const uint8_t *)key, strlen(key), &v, len, NULL, &e) == 0 &&
	    (copy = malloc(*len ? *len : 1)))
		memcpy(copy, v, *len);
	store_txn_abort(&t);
	store_close(&st);
	return copy;
}

/* Does n hold (collection, owner, key)? */
static bool holds(const struct net_node *n, const char *collection, const struct net_node *owner, const char *key)
{
	size_t len;
	uint8_t *v = rec_get(n, collection, owner, key, &len);

	free(v);
	return v != NULL;
}

/* "<hex of from>/<id>": the key of a transfer's forward, acceptance, outcome. */
static const char *tkey(const struct net_node *from, const char *id)
{
	static char key[160];

	snprintf(key, sizeof key, "%s/%s", from->hex, id);
	return key;
}

/* The status of member id in owner's registry as node n holds it, or
 * "absent". */
static const char *status_of(const struct net_node *n, const struct net_node *owner, const char *id)
{
	static char status[32];
	size_t len;
	uint8_t *v = rec_get(n, "member", owner, id, &len);
	Strata__Member *m = v ? strata__member__unpack(NULL, len, v) : NULL;

	snprintf(status, sizeof status, "%s",
		 !m ? "absent"
		 : m->status == STRATA__MEMBER_STATUS__STATUS_ACTIVE ? "active"
		 : m->status == STRATA__MEMBER_STATUS__STATUS_TRANSFERRED ? "transferred"
									 : "other");
	if (m)
		strata__member__free_unpacked(m, NULL);
	free(v);
	return status;
}

static const char *status_at(const struct net_node *n, const char *id)
{
	return status_of(n, n, id);
}

static bool status_is(const struct net_node *n, const char *id, const char *want)
{
	return strcmp(status_at(n, id), want) == 0;
}

static void add_member(const struct net_node *n, const char *id, const char *name)
{
	net_ok("member", "add", "-d", n->dir, "--id", id, "--name", name, "--category", "full", "--joined",
	       "2015-07-01", "--phone", "13800000000", NULL);
}

/* Checks that a run was refused (exit 2) with msg in its error. */
static void check_refused(struct net_run *r, const char *msg, const char *what)
{
	cr_assert_eq(r->status, 2, "%s: exit %d, expected 2 (refused): %s%s", what, r->status, r->out, r->err);
	cr_assert(net_has(r->err, msg), "%s: the error does not say \"%s\": %s", what, msg, r->err);
	net_run_free(r);
}

/* Runs `strata ARGS...`, which must be refused with msg in its error. */
#define REFUSED(msg, ...)                                                  \
	do {                                                               \
		struct net_run r_;                                         \
		net_run(&r_, __VA_ARGS__, NULL);                           \
		check_refused(&r_, msg, #__VA_ARGS__);                     \
	} while (0)

static bool knows_cert(const struct net_node *at, const struct net_node *of)
{
	return net_has_cert(at, of->key);
}

static void set_manual(const struct net_node *n)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof path, "%s/strata.conf", n->dir);
	cr_assert_not_null(f = fopen(path, "a"));
	fputs("\n[transfer]\napprove = manual\n", f);
	cr_assert_eq(fclose(f), 0);
}

/* The transfer network: a city, two districts, two streets under each. */
struct tnet {
	struct net_node *city, *d1, *d2, *a, *a2, *b, *b2;
	char today[11], id1[64], id2[64];
};

static void tnet_start(struct tnet *t)
{
	time_t now = time(NULL);
	struct tm tm;

	t->city = net_node_init("city", "xiamen", true, true);
	t->d1 = net_node_init("siming", "xiamen/siming", false, true);
	t->d2 = net_node_init("huli", "xiamen/huli", false, true);
	t->a = net_node_init("zhonghua", "xiamen/siming/zhonghua", false, false);
	t->a2 = net_node_init("xiagang", "xiamen/siming/xiagang", false, false);
	t->b = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	t->b2 = net_node_init("jiangtou", "xiamen/huli/jiangtou", false, false);
	gmtime_r(&now, &tm);
	strftime(t->today, sizeof t->today, "%Y%m%d", &tm);
	snprintf(t->id1, sizeof t->id1, "ZH001-%s", t->today);
	snprintf(t->id2, sizeof t->id2, "ZH002-%s", t->today);

	set_manual(t->d1); /* the district approves its own transfers by hand */
	net_node_start(t->city);
	net_node_join(t->d1, t->city, NULL);
	net_node_start(t->d1);
	net_node_join(t->d2, t->city, NULL);
	net_node_start(t->d2);
	net_node_join(t->a, t->d1, NULL);
	net_node_start(t->a);
	net_node_join(t->a2, t->d1, NULL);
	net_node_start(t->a2);
	net_node_join(t->b, t->d2, NULL);
	net_node_start(t->b);
	net_node_join(t->b2, t->d2, NULL);
	net_node_start(t->b2);
	add_member(t->a, "ZH001", "林海燕");
	add_member(t->a, "ZH002", "陈建国");
	add_member(t->a, "ZH003", "王秀英");
	add_member(t->a, "ZH005", "刘淑珍");
	net_ok("member", "update", "-d", t->a->dir, "--id", "ZH003", "--status", "lapsed", NULL);
	net_ok("member", "add", "-d", t->a->dir, "--id", "ZH004", "--name", "黄志明", "--category", "probationary",
	       "--joined", "2024-01-15", NULL);
	/* what a transfer needs: each common ancestor holds both branches
	 * (its subtree), each street the chain above it */
	NET_WAIT(NET_DEADLINE_MS,
		 knows_cert(t->city, t->a) && knows_cert(t->city, t->b) && knows_cert(t->city, t->b2) &&
			 knows_cert(t->d1, t->a) && knows_cert(t->d1, t->a2) && knows_cert(t->d2, t->b2) &&
			 knows_cert(t->b, t->d2) && knows_cert(t->a, t->d1),
		 "the common ancestors to hold both branches' certificates");
}

/* Bad releases: refused, nothing written. */
static void bad_releases(struct tnet *t)
{
	struct net_node *a = t->a, *b = t->b;
	uint64_t a_up = net_head(a, a->key, FEED_UP, NULL);

	REFUSED("no member with id NOPE", "transfer", "release", "-d", a->dir, "--member", "NOPE", "--to",
		b->path);
	REFUSED("no branch named xiamen/siming/zhonghua/nowhere", "transfer", "release", "-d", a->dir, "--member",
		"ZH001", "--to", "xiamen/siming/zhonghua/nowhere");
	REFUSED("no common ancestor", "transfer", "release", "-d", a->dir, "--member", "ZH001", "--to",
		"beijing/dongcheng");
	REFUSED("neither an org path", "transfer", "release", "-d", a->dir, "--member", "ZH001", "--to", "Xiamen Huli");
	REFUSED("is this branch", "transfer", "release", "-d", a->dir, "--member", "ZH001", "--to", a->path);
	REFUSED("only an active member", "transfer", "release", "-d", a->dir, "--member", "ZH003", "--to", b->path);
	cr_assert_eq(net_head(a, a->key, FEED_UP, NULL), a_up, "a refused release wrote an entry");
}

/* Across districts: the city forwards on its own; only the addressee
 * accepts; the outcome marks the member transferred at the old branch. */
static void across_districts(struct tnet *t)
{
	struct net_node *city = t->city, *a = t->a, *b = t->b, *b2 = t->b2;
	const char *id1 = t->id1;
	char via[VIA_MAX];
	uint64_t b2_up;

	net_ok("transfer", "release", "-d", a->dir, "--member", "ZH001", "--to", b->path, NULL);
	REFUSED("already being transferred", "transfer", "release", "-d", a->dir, "--member", "ZH001", "--to",
		b2->path);
	NET_WAIT(NET_DEADLINE_MS, holds(b, "forward", city, tkey(a, id1)), "the city's forward of %s to reach %s", id1,
		 b->label);
	cr_assert_str_eq(state_at(b, id1, via), "forwarded");
	cr_assert_str_eq(via, city->path, "the forward came via %s, not the city", via);
	cr_assert_str_eq(state_at(city, id1, NULL), "forwarded");
	/* before acceptance: active at the old branch only */
	cr_assert_str_eq(status_at(a, "ZH001"), "active");
	cr_assert_str_eq(status_at(b, "ZH001"), "absent");

	/* Another street cannot accept it, nor B a transfer nobody forwarded. */
	b2_up = net_head(b2, b2->key, FEED_UP, NULL);
	REFUSED("not addressed to this node", "transfer", "accept", "-d", b2->dir, "--id", id1, "--from", a->path);
	REFUSED("has been forwarded to this node", "transfer", "accept", "-d", b->dir, "--id", "NOPE-20200101",
		"--from", a->path);
	cr_assert_eq(net_head(b2, b2->key, FEED_UP, NULL), b2_up, "a refused acceptance wrote an entry");
	cr_assert_str_eq(status_at(b2, "ZH001"), "absent");

	/* B accepts: the member is active there at once... */
	net_ok("transfer", "accept", "-d", b->dir, "--id", id1, "--from", a->path, NULL);
	cr_assert_str_eq(status_at(b, "ZH001"), "active");
	REFUSED("already accepted", "transfer", "accept", "-d", b->dir, "--id", id1, "--from", a->path);
	/* ...and, once the outcome is back, transferred at the old branch. */
	NET_WAIT(NET_DEADLINE_MS, status_is(a, "ZH001", "transferred"), "%s to mark ZH001 transferred", a->label);
	cr_assert_str_eq(state_at(a, id1, NULL), "completed");
	NET_WAIT(NET_DEADLINE_MS, holds(b, "outcome", city, tkey(a, id1)), "the outcome of %s to reach %s", id1,
		 b->label);
	cr_assert_str_eq(state_at(b, id1, NULL), "completed");
	cr_assert_str_eq(state_at(city, id1, NULL), "completed");
	cr_assert_str_eq(state_at(b2, id1, NULL), "", "a bystander lists a transfer it has no part in");
	cr_assert_str_eq(status_at(b, "ZH001"), "active");
	REFUSED("only an active member", "transfer", "release", "-d", a->dir, "--member", "ZH001", "--to", b2->path);
}

/* A refusal leaves the member at the old branch. */
static void refused(struct tnet *t)
{
	struct net_node *city = t->city, *a = t->a, *b = t->b;
	const char *id2 = t->id2;

	net_ok("transfer", "release", "-d", a->dir, "--member", "ZH002", "--to", b->path, "--reason", "moved house",
	       NULL);
	NET_WAIT(NET_DEADLINE_MS, holds(b, "forward", city, tkey(a, id2)), "the forward of %s to reach %s", id2,
		 b->label);
	net_ok("transfer", "refuse", "-d", b->dir, "--id", id2, "--from", a->path, "--reason", "not our area", NULL);
	NET_WAIT(NET_DEADLINE_MS, holds(a, "outcome", city, tkey(a, id2)), "the refusal of %s to reach %s", id2,
		 a->label);
	cr_assert_str_eq(state_at(a, id2, NULL), "refused");
	cr_assert_str_eq(state_at(b, id2, NULL), "refused");
	cr_assert_str_eq(status_at(a, "ZH002"), "active");
	cr_assert_str_eq(status_at(b, "ZH002"), "absent");
}

/* The JSON object of transfer id in `transfer list --json` at n (a new
 * reference; NULL if not listed). */
static json_t *listed(const struct net_node *n, const char *id)
{
	struct net_run r;
	json_t *arr, *t, *found = NULL;
	size_t i;

	net_run(&r, "transfer", "list", "-d", (char *)n->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "transfer list at %s: %s", n->label, r.err);
	arr = net_run_json(&r);
	json_array_foreach(arr, i, t) if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0) found =
		json_incref(t);
	net_release(arr);
	net_run_free(&r);
	return found;
}

/* Does the string field of listed transfer j equal want? */
static bool field_is(json_t *j, const char *field, const char *want)
{
	return j && json_is_string(json_object_get(j, field)) &&
	       strcmp(json_string_value(json_object_get(j, field)), want) == 0;
}

/* Trust scoped to the tree (issue 16): after the accepted and the refused
 * transfer between the districts completed, neither street holds the
 * other's certificate; the new branch names the old one by the path the
 * forward carries, the old branch learned the new one's key from the
 * outcome. A path that is no unit below the city: the city refuses it. */
static void scoped(struct tnet *t)
{
	struct net_node *city = t->city, *a = t->a, *b = t->b, *b2 = t->b2;
	char id5[64];
	json_t *j;

	cr_assert_str_eq(state_at(a, t->id1, NULL), "completed");
	cr_assert_str_eq(state_at(a, t->id2, NULL), "refused");
	cr_assert(!knows_cert(a, b) && !knows_cert(b, a), "%s and %s hold each other's certificate", a->label,
		  b->label);
	cr_assert(!knows_cert(a, b2) && !knows_cert(b2, a), "%s and %s hold each other's certificate", a->label,
		  b2->label);
	j = listed(b, t->id1);
	cr_assert(field_is(j, "from", a->path) && field_is(j, "from_key", a->hex), "%s names the old branch %s (%s)",
		  b->label, j ? json_string_value(json_object_get(j, "from")) : "-", a->path);
	json_decref(j);
	j = listed(a, t->id1);
	cr_assert(field_is(j, "to", b->path) && field_is(j, "to_key", b->hex), "%s did not learn %s's key",
		  a->label, b->label);
	json_decref(j);

	snprintf(id5, sizeof id5, "ZH005-%s", t->today);
	net_ok("transfer", "release", "-d", a->dir, "--member", "ZH005", "--to", "xiamen/huli/nowhere", NULL);
	NET_WAIT(NET_DEADLINE_MS, holds(a, "outcome", city, tkey(a, id5)), "the city's refusal of %s to reach %s", id5,
		 a->label);
	NET_WAIT(NET_DEADLINE_MS, strcmp(state_at(a, id5, NULL), "refused") == 0, "%s to see %s refused", a->label,
		 id5);
	j = listed(a, id5);
	cr_assert(j && json_is_string(json_object_get(j, "answer")) &&
			  net_has(json_string_value(json_object_get(j, "answer")), "xiamen/huli/nowhere"),
		  "%s does not say why %s was refused", a->label, id5);
	cr_assert(json_is_null(json_object_get(j, "to_key")), "%s lists a key for a path that is no unit", a->label);
	json_decref(j);
	cr_assert(net_log_has(city, "no unit named xiamen/huli/nowhere is enrolled below xiamen"),
		  "the city's log does not say why it refused %s", id5);
	cr_assert(!holds(b, "forward", city, tkey(a, id5)), "the city forwarded a transfer to no unit");
	cr_assert_str_eq(status_at(a, "ZH005"), "active");
}

/* Within one district: the district is the common ancestor, and it
 * approves by hand. */
static void within_district(struct tnet *t)
{
	struct net_node *city = t->city, *d1 = t->d1, *a = t->a, *a2 = t->a2;
	char id4[64], via[VIA_MAX];

	snprintf(id4, sizeof id4, "ZH004-%s", t->today);
	net_ok("transfer", "release", "-d", a->dir, "--member", "ZH004", "--to", a2->path, NULL);
	NET_WAIT(NET_DEADLINE_MS, holds(d1, "release", a, id4), "the release of %s to reach %s", id4, d1->label);
	net_sleep_ms(300 * NET_SLOW); /* time enough for a forward that should not come */
	cr_assert(!holds(d1, "forward", d1, tkey(a, id4)), "forwarded without the district's approval");
	cr_assert_str_eq(state_at(city, id4, NULL), "released", "the city should only see the release");
	REFUSED("not the lowest common ancestor", "transfer", "approve", "-d", city->dir, "--id", id4, "--from",
		a->path);
	net_ok("transfer", "approve", "-d", d1->dir, "--id", id4, "--from", a->path, NULL);
	REFUSED("already forwarded", "transfer", "approve", "-d", d1->dir, "--id", id4, "--from", a->path);
	NET_WAIT(NET_DEADLINE_MS, holds(a2, "forward", d1, tkey(a, id4)), "the district's forward of %s to reach %s",
		 id4, a2->label);
	cr_assert_str_eq(state_at(a2, id4, via), "forwarded");
	cr_assert_str_eq(via, d1->path, "a transfer within a district went via %s", via);
	net_ok("transfer", "accept", "-d", a2->dir, "--id", id4, "--from", a->path, "--member-id", "XG100", NULL);
	cr_assert_str_eq(status_at(a2, "XG100"), "active");
	NET_WAIT(NET_DEADLINE_MS, status_is(a, "ZH004", "transferred"), "%s to mark ZH004 transferred", a->label);
	/* the city holds the release, the acceptance and the old branch's
	 * registry, not the district's down feed: completed all the same */
	NET_WAIT(NET_DEADLINE_MS, strcmp(status_of(city, a, "ZH004"), "transferred") == 0,
		 "the city to see ZH004 transferred at %s", a->label);
	cr_assert_str_eq(state_at(city, id4, NULL), "completed");
}

/* From a street to its own district (the district is the common ancestor
 * and the new branch, and takes both steps), and from a district to a
 * street below it (the district, the old branch, forwards its own release
 * at once). */
static void up_and_down(struct tnet *t)
{
	struct net_node *d1 = t->d1, *d2 = t->d2, *a2 = t->a2, *b2 = t->b2;
	char id5[64], id6[64];

	snprintf(id5, sizeof id5, "XG100-%s", t->today);
	net_ok("transfer", "release", "-d", a2->dir, "--member", "XG100", "--to", d1->path, NULL);
	NET_WAIT(NET_DEADLINE_MS, holds(d1, "release", a2, id5), "the release of %s to reach %s", id5, d1->label);
	net_ok("transfer", "approve", "-d", d1->dir, "--id", id5, "--from", a2->path, NULL);
	net_ok("transfer", "accept", "-d", d1->dir, "--id", id5, "--from", a2->path, NULL);
	cr_assert_str_eq(status_at(d1, "XG100"), "active");
	cr_assert_str_eq(state_at(d1, id5, NULL), "completed");
	NET_WAIT(NET_DEADLINE_MS, status_is(a2, "XG100", "transferred"), "%s to mark XG100 transferred", a2->label);

	snprintf(id6, sizeof id6, "HL001-%s", t->today);
	add_member(d2, "HL001", "郑丽华");
	net_ok("transfer", "release", "-d", d2->dir, "--member", "HL001", "--to", b2->path, NULL);
	cr_assert(holds(d2, "forward", d2, tkey(d2, id6)), "%s did not forward its own release at once", d2->label);
	NET_WAIT(NET_DEADLINE_MS, holds(b2, "forward", d2, tkey(d2, id6)), "the forward of %s to reach %s", id6,
		 b2->label);
	net_ok("transfer", "accept", "-d", b2->dir, "--id", id6, "--from", d2->path, NULL);
	NET_WAIT(NET_DEADLINE_MS, status_is(d2, "HL001", "transferred"), "%s to mark HL001 transferred", d2->label);
	cr_assert_str_eq(status_at(b2, "HL001"), "active");
}

/* One network through every route a transfer can take (one test: the
 * seven daemons take most of its time). */
Test(sync_transfer, release_forward_accept_outcome)
{
	struct tnet t;
	char out[4096];

	tnet_start(&t);
	bad_releases(&t);
	across_districts(&t);
	refused(&t);
	scoped(&t);
	within_district(&t);
	up_and_down(&t);

	/* Every signature, chain and record checks out everywhere. */
	struct net_node *all[] = {t.city, t.d1, t.d2, t.a, t.a2, t.b, t.b2};

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		cr_assert_eq(net_node_verify(all[i], out, sizeof out), 0, "verify %s: %s", all[i]->label, out);
	/* and the steps fit together (audit "Transfers") where releases name
	 * their new branch by path only: at the city (release, forward,
	 * acceptance) and at the new branch (forward and acceptance only) */
	struct net_node *audited[] = {t.city, t.b};

	for (size_t i = 0; i < sizeof audited / sizeof audited[0]; i++) {
		struct net_run r;

		net_run(&r, "audit", "-d", audited[i]->dir, "--root", t.city->hex, NULL);
		cr_assert_eq(r.status, 0, "audit %s: exit %d: %s%s", audited[i]->label, r.status, r.out, r.err);
		net_run_free(&r);
	}
	net_stop_all();
}
