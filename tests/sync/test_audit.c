/* SPDX-License-Identifier: MIT */
/*
 * sync_audit: `strata audit` over a real three-level network (a city, a
 * district, two streets) that imported members, moved one between the
 * streets (release, forward, acceptance, outcome) and reported up every
 * level. Every store, and a bundle of the city's, audits clean, and says
 * what it checked. Then each way of tampering fails the audit with exit 3 at
 * the exact entry, printed as author…/feed #seq and given as data by --json:
 *   in the city's bundle (the layout of docs/PROTOCOL.md, rewritten here):
 *   a flipped byte in a body, in a value, in a signature; an entry removed
 *   from the middle; two entries swapped; a forged certificate (an outsider
 *   certifying a key into the district); an equivocation (a second entry
 *   for a seq, signed by its author);
 *   in copies of a street's store (storage API): a flipped byte in a stored
 *   value, and a report whose figures were changed (signed by its author,
 *   so only the recomputation from the heads it names catches it).
 * Entries signed by a revoked key and rotated keys are test_keys.c's.
 *
 * And an auditor node (`invite --role auditor` at the district) joins and
 * serves: it receives every feed that reaches the district, its write
 * commands are refused, the district refuses entries it signs, and its own
 * store audits clean.
 *
 * No test sets .timeout (see test_bundle.c): every wait has its deadline.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"
#include "node/core/node.h"

TestSuite(sync_audit, .init = net_setup, .fini = net_teardown);

#define MAGIC "STRATA-BUNDLE-1\n"
#define MAGIC_LEN 16

/* ---- a bundle as a list of envelopes ---- */

struct bundle {
	uint8_t *header;
	size_t header_len;
	uint8_t **env;
	size_t *len, n;
};

static void bundle_free(void *p)
{
	struct bundle *b = p;

	for (size_t i = 0; i < b->n; i++)
		free(b->env[i]);
	free(b->env);
	free(b->len);
	free(b->header);
	free(b);
}

static void bundle_add(struct bundle *b, const uint8_t *env, size_t len)
{
	b->env = realloc(b->env, (b->n + 1) * sizeof *b->env);
	b->len = realloc(b->len, (b->n + 1) * sizeof *b->len);
	cr_assert(b->env && b->len);
	cr_assert_not_null(b->env[b->n] = malloc(len));
	memcpy(b->env[b->n], env, len);
	b->len[b->n++] = len;
}

/* Reads a well-formed bundle file (asserting it is one). */
static struct bundle *bundle_read(const char *path)
{
	struct bundle *b = net_own(calloc(1, sizeof *b), bundle_free);
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t len, off = MAGIC_LEN;
	bool ended = false;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	buf = net_own(malloc(len), free);
	cr_assert_eq(fread(buf, 1, len, f), len);
	fclose(f);
	cr_assert(len >= MAGIC_LEN && memcmp(buf, MAGIC, MAGIC_LEN) == 0, "%s is not a bundle", path);
	for (bool first = true; off < len; first = false) {
		uint32_t rl = be32_get(buf + off);
		Strata__Frame *fr;

		off += 4;
		cr_assert_leq(off + rl, len);
		if (first) {
			cr_assert_not_null(b->header = malloc(rl));
			memcpy(b->header, buf + off, rl);
			b->header_len = rl;
			off += rl;
			continue;
		}
		cr_assert_not_null(fr = strata__frame__unpack(NULL, rl, buf + off), "%s: a record is not a Frame", path);
		off += rl;
		if (fr->msg_case == STRATA__FRAME__MSG_ENTRIES)
			for (size_t i = 0; i < fr->entries->n_envelopes; i++)
				bundle_add(b, fr->entries->envelopes[i].data, fr->entries->envelopes[i].len);
		ended |= fr->msg_case == STRATA__FRAME__MSG_END;
		strata__frame__free_unpacked(fr, NULL);
	}
	cr_assert(ended, "%s has no end record", path);
	net_release(buf);
	return b;
}

static void put_record(FILE *f, const uint8_t *data, size_t len)
{
	uint8_t be[4];

	be32_put(be, (uint32_t)len);

	cr_assert_eq(fwrite(be, 1, 4, f), 4);
	cr_assert_eq(fwrite(data, 1, len, f), len);
}

static void put_frame(FILE *f, const Strata__Frame *fr)
{
	size_t len = strata__frame__get_packed_size(fr);
	uint8_t *buf = malloc(len);

	cr_assert_not_null(buf);
	strata__frame__pack(fr, buf);
	put_record(f, buf, len);
	free(buf);
}

/* Writes b as a well-formed bundle: one Entries frame, an end counting them. */
static void bundle_write(const char *path, const struct bundle *b)
{
	FILE *f = fopen(path, "wb");
	ProtobufCBinaryData *v = calloc(b->n, sizeof *v);
	Strata__Entries en = STRATA__ENTRIES__INIT;
	Strata__BundleEnd end = STRATA__BUNDLE_END__INIT;
	Strata__Frame fr = STRATA__FRAME__INIT;

	cr_assert(f && v);
	for (size_t i = 0; i < b->n; i++)
		v[i] = (ProtobufCBinaryData){.data = b->env[i], .len = b->len[i]};
	cr_assert_eq(fwrite(MAGIC, 1, MAGIC_LEN, f), MAGIC_LEN);
	put_record(f, b->header, b->header_len);
	en.batch = b->n;
	en.n_envelopes = b->n;
	en.envelopes = v;
	fr.msg_case = STRATA__FRAME__MSG_ENTRIES;
	fr.entries = &en;
	put_frame(f, &fr);
	end.entries = b->n;
	fr.msg_case = STRATA__FRAME__MSG_END;
	fr.end = &end;
	put_frame(f, &fr);
	cr_assert_eq(fclose(f), 0);
	free(v);
}

/* The index of the envelope of (author, feed, seq) in b. */
static size_t bundle_find(const struct bundle *b, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq)
{
	for (size_t i = 0; i < b->n; i++) {
		Strata__Envelope *ev = strata__envelope__unpack(NULL, b->len[i], b->env[i]);
		Strata__ChangeSetBody *body = strata__change_set_body__unpack(NULL, ev->body.len, ev->body.data);
		bool hit = memcmp(body->author.data, author, KEY_BYTES) == 0 && strcmp(body->feed, feed) == 0 &&
			   body->seq == seq;

		strata__change_set_body__free_unpacked(body, NULL);
		strata__envelope__free_unpacked(ev, NULL);
		if (hit)
			return i;
	}
	cr_assert_fail("the bundle holds no %s #%llu", feed, (unsigned long long)seq);
	return 0;
}

/* Replaces envelope i by ev packed. */
static void bundle_set(struct bundle *b, size_t i, const Strata__Envelope *ev)
{
	size_t len = strata__envelope__get_packed_size(ev);
	uint8_t *buf = malloc(len);

	cr_assert_not_null(buf);
	strata__envelope__pack(ev, buf);
	free(b->env[i]);
	b->env[i] = buf;
	b->len[i] = len;
}

/* A fresh copy of the clean bundle. */
static struct bundle *clean_copy(const char *clean)
{
	return bundle_read(clean);
}

/* ---- audits ---- */

/* Runs `strata audit TARGET --root ROOT` (TARGET a bundle file, or -d DIR
 * when dir) and asserts that it fails with exit 3 naming the entry (author,
 * feed, seq) in its text and in its JSON, with a reason containing `why`.
 * Returns nothing; what it printed is shown on failure. */
static void assert_fails_at(const char *target, bool dir, const struct net_node *root, const uint8_t author[KEY_BYTES],
			    const char *feed, uint64_t seq, const char *why)
{
	char hex[KEY_HEX], place[128];
	struct net_run r;
	json_t *j, *f;
	size_t i;
	bool found = false;

	key_hex(hex, author);
	snprintf(place, sizeof place, "FAIL %.16s…/%s #%llu: ", hex, feed, (unsigned long long)seq);
	if (dir)
		net_run(&r, "audit", "-d", target, "--root", root->hex, NULL);
	else
		net_run(&r, "audit", target, "--root", root->hex, NULL);
	cr_assert_eq(r.status, 3, "audit of %s: exit %d, expected 3\n%s%s", target, r.status, r.out, r.err);
	cr_assert(net_has(r.out, place), "audit of %s does not name %s:\n%s", target, place, r.out);
	cr_assert(net_has(r.out, "AUDIT FAILED"), "%s", r.out);
	net_run_free(&r);

	if (dir)
		net_run(&r, "audit", "-d", target, "--root", root->hex, "--json", NULL);
	else
		net_run(&r, "audit", target, "--root", root->hex, "--json", NULL);
	cr_assert_eq(r.status, 3, "audit --json of %s: exit %d\n%s", target, r.status, r.err);
	j = net_run_json(&r);
	cr_assert(json_is_false(json_object_get(j, "ok")), "%s", r.out);
	cr_assert_gt(json_integer_value(json_object_get(j, "failure_count")), 0);
	json_array_foreach(json_object_get(j, "failures"), i, f) {
		const char *a = json_string_value(json_object_get(f, "author"));

		if (a && strcmp(a, hex) == 0 && strcmp(json_string_value(json_object_get(f, "feed")), feed) == 0 &&
		    (uint64_t)json_integer_value(json_object_get(f, "seq")) == seq &&
		    net_has(json_string_value(json_object_get(f, "reason")), why))
			found = true;
	}
	cr_assert(found, "audit --json of %s has no failure at %s #%llu saying \"%s\":\n%s", target, feed,
		  (unsigned long long)seq, why, r.out);
	net_release(j);
	net_run_free(&r);
}

/* `strata audit` of a dir (or a bundle) passes; returns its JSON (owned by
 * the fixture). */
static json_t *assert_clean(const char *target, bool dir, const struct net_node *root)
{
	struct net_run r;
	json_t *j;

	if (dir)
		net_run(&r, "audit", "-d", target, "--root", root->hex, "--json", NULL);
	else
		net_run(&r, "audit", target, "--root", root->hex, "--json", NULL);
	cr_assert_eq(r.status, 0, "audit of %s: exit %d\n%s%s", target, r.status, r.out, r.err);
	j = net_run_json(&r);
	cr_assert(json_is_true(json_object_get(j, "ok")), "%s", r.out);
	cr_assert_eq(json_array_size(json_object_get(j, "failures")), 0, "%s", r.out);
	net_run_free(&r);
	/* the text form says what it checked */
	if (dir)
		net_run(&r, "audit", "-d", target, "--root", root->hex, NULL);
	else
		net_run(&r, "audit", target, "--root", root->hex, NULL);
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert(net_has(r.out, "audited ") && net_has(r.out, " feeds") && net_has(r.out, " entries") &&
		  net_has(r.out, " signatures") && net_has(r.out, " certificates") &&
		  net_has(r.out, " transfer steps") && net_has(r.out, " reports recomputed") &&
		  net_has(r.out, "; 0 failures"),
		  "the summary does not say what was checked:\n%s", r.out);
	net_run_free(&r);
	return j;
}

static size_t jint(json_t *j, const char *k)
{
	return (size_t)json_integer_value(json_object_get(j, k));
}

/* ---- the network ---- */

static void import_members(struct net_node *n, const char *file, unsigned long count, const char *prefix,
			   unsigned long seed)
{
	char csv[256];

	net_gen_members(net_path(csv, file), count, prefix, seed);
	net_ok("member", "import", "-d", n->dir, csv, NULL);
}

/* The status of member id at node n in n's own store ("" if absent). */
static const char *member_status(const struct net_node *n, const char *id)
{
	static char out[32];
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	const uint8_t *v;
	size_t vl;
	char sd[300];

	out[0] = '\0';
	snprintf(sd, sizeof sd, "%s/store", n->dir);
	cr_assert_eq(store_open(&s, sd, STORE_RDONLY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(s, false, &t, &e), 0, "%s", e.msg);
	if (store_state_get(t, "member", n->key, (const uint8_t *)id, strlen(id), &v, &vl, NULL, &e) == 0) {
		Strata__Member *m = strata__member__unpack(NULL, vl, v);

		if (m) {
			snprintf(out, sizeof out, "%s", m->status == STRATA__MEMBER_STATUS__STATUS_ACTIVE ? "active" : "other");
			strata__member__free_unpacked(m, NULL);
		}
	}
	store_txn_abort(&t);
	store_close(&s);
	return out;
}

/* Does n hold every feed of `of` up to the heads `of` holds of its own? */
static bool caught_up(const struct net_node *n, const struct net_node *of, const char *feed)
{
	return net_head(n, of->key, feed, NULL) == net_head(of, of->key, feed, NULL);
}

/* The hash of entry seq of (author, feed) in node n's store. */
static void entry_hash(const struct net_node *n, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq,
		       uint8_t hash[HASH_BYTES])
{
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	const uint8_t *b;
	size_t bl;
	char sd[300];

	snprintf(sd, sizeof sd, "%s/store", n->dir);
	cr_assert_eq(store_open(&s, sd, STORE_RDONLY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(s, false, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_log_get(t, author, feed, seq, &b, &bl, hash, &e), 0, "%s", e.msg);
	store_txn_abort(&t);
	store_close(&s);
}

/* Copies node n's directory to LABEL under the test dir (n stopped). */
static const char *copy_of(const struct net_node *n, const char *label, char out[256])
{
	net_copy_tree(n->dir, net_path(out, label));
	return out;
}

/* In the copy DIR of a store, flips the last byte of the first value of
 * entry (author, feed, seq) through the storage API (store_log_replace
 * keeps the stored hash, as erasing a value does). */
static void flip_stored_value(const char *dir, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq)
{
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	const uint8_t *b;
	size_t bl;
	Strata__Envelope *ev;
	char sd[300];
	uint8_t *buf;
	size_t len;

	snprintf(sd, sizeof sd, "%s/store", dir);
	cr_assert_eq(store_open(&s, sd, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(s, true, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_log_get(t, author, feed, seq, &b, &bl, NULL, &e), 0, "%s", e.msg);
	cr_assert_not_null(ev = strata__envelope__unpack(NULL, bl, b));
	cr_assert_gt(ev->n_values, 0, "entry #%llu holds no value", (unsigned long long)seq);
	ev->values[0]->data.data[ev->values[0]->data.len - 1] ^= 0x01;
	len = strata__envelope__get_packed_size(ev);
	cr_assert_not_null(buf = malloc(len));
	strata__envelope__pack(ev, buf);
	strata__envelope__free_unpacked(ev, NULL);
	cr_assert_eq(store_log_replace(t, author, feed, seq, buf, len, &e), 0, "%s", e.msg);
	free(buf);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
	store_close(&s);
}

/* In the copy DIR of street x's node, appends to x's report feed, signed by
 * x's key, a copy of its latest report for period whose own and total
 * figures claim one more full member. Returns its seq. */
static uint64_t write_lying_report(const struct net_node *x, const char *dir, const char *period)
{
	struct keypair *kp = net_node_keypair(x);
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct store_head rh;
	struct changeset_builder *b = NULL;
	Strata__Report *rep;
	struct err e = {0};
	const uint8_t *v;
	size_t vl, len, elen;
	uint8_t *val, *env = NULL;
	int ret;

	cr_assert_eq(node_open(&n, dir, NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_head_get(t, x->key, FEED_REPORT, &rh, &e), 0, "%s", e.msg);
	cr_assert_eq(store_state_get(t, "report", x->key, (const uint8_t *)period, strlen(period), &v, &vl, NULL, &e), 0,
		     "%s", e.msg);
	cr_assert_not_null(rep = strata__report__unpack(NULL, vl, v));
	rep->own->members_full++;
	rep->total->members_full++;
	len = strata__report__get_packed_size(rep);
	cr_assert_not_null(val = malloc(len));
	strata__report__pack(rep, val);
	strata__report__free_unpacked(rep, NULL);
	cr_assert_eq(changeset_builder_new(&b, FEED_REPORT, rh.seq + 1, rh.hash, (uint64_t)time(NULL) * 1000, &e), 0,
		     "%s",
		     e.msg);
	ret = changeset_builder_put(b, "report", (const uint8_t *)period, strlen(period), val, len, &e);
	if (ret == 0)
		ret = changeset_builder_finish(b, kp, &env, &elen, NULL, &e);
	changeset_builder_destroy(&b);
	free(val);
	cr_assert_eq(ret, 0, "%s", e.msg);
	ret = node_ingest(n, t, env, elen, &e);
	free(env);
	cr_assert_eq(ret, 0, "ingest of the lying report: %s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
	node_close(&n);
	return rh.seq + 1;
}

/* In the copy DIR of a node's store, appends to (x's key, feed) the next
 * entry, signed by x, putting one record. Returns its seq. */
static uint64_t append_put(const char *dir, const struct net_node *x, const char *feed, const char *collection,
			   const char *key, const uint8_t *val, size_t vlen)
{
	struct keypair *kp = net_node_keypair(x);
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct store_head h;
	struct changeset_builder *b = NULL;
	struct err e = {0};
	uint8_t *env = NULL;
	size_t elen;
	int ret;

	cr_assert_eq(node_open(&n, dir, NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_head_get(t, x->key, feed, &h, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_new(&b, feed, h.seq + 1, h.hash, (uint64_t)time(NULL) * 1000 + 1000, &e), 0,
		     "%s", e.msg);
	ret = changeset_builder_put(b, collection, (const uint8_t *)key, strlen(key), val, vlen, &e);
	if (ret == 0)
		ret = changeset_builder_finish(b, kp, &env, &elen, NULL, &e);
	changeset_builder_destroy(&b);
	cr_assert_eq(ret, 0, "%s", e.msg);
	ret = node_ingest(n, t, env, elen, &e);
	free(env);
	cr_assert_eq(ret, 0, "ingest into %s: %s", dir, e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
	node_close(&n);
	return h.seq + 1;
}

/* A certificate for subject as a child named name, in a trust entry seq 1
 * signed by issuer kp. */
static void forged_cert(const struct keypair *kp, const uint8_t subject[KEY_BYTES], const char *name, uint8_t **env,
			size_t *len)
{
	static const uint8_t zeros[HASH_BYTES];
	static char *feeds[] = {"up", "report", "down", "trust"};
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	struct changeset_builder *b = NULL;
	struct err e = {0};
	uint8_t *v;
	size_t vl;
	int ret;

	c.subject.data = (uint8_t *)subject;
	c.subject.len = KEY_BYTES;
	c.name = (char *)name;
	c.role = STRATA__ROLE__ROLE_CHILD;
	c.n_feeds = 4;
	c.feeds = feeds;
	c.issued_ms = (uint64_t)time(NULL) * 1000;
	vl = strata__certificate__get_packed_size(&c);
	cr_assert_not_null(v = malloc(vl));
	strata__certificate__pack(&c, v);
	cr_assert_eq(changeset_builder_new(&b, FEED_TRUST, 1, zeros, c.issued_ms, &e), 0, "%s", e.msg);
	ret = changeset_builder_put(b, "cert", subject, KEY_BYTES, v, vl, &e);
	if (ret == 0)
		ret = changeset_builder_finish(b, kp, env, len, NULL, &e);
	changeset_builder_destroy(&b);
	free(v);
	cr_assert_eq(ret, 0, "%s", e.msg);
	net_own(*env, free);
}

/* Today (UTC) formatted by fmt into out (32 bytes). */
static const char *now_as(char out[32], const char *fmt)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	cr_assert_gt(strftime(out, 32, fmt, &tm), 0);
	return out;
}

/* The network every audit check below reads: a city, its district huli and
 * two streets; hetong released a member to jinshan and every level
 * reported for period (day: today). clean: the city's export. */
struct audited {
	struct net_node *city, *huli, *hetong, *jinshan;
	char period[32], day[32], clean[256];
};

/* Members, a transfer and reports at every level; then everything stops. */
static void audited_network(struct audited *x)
{
	char id[64];

	net_node_start(x->city);
	net_node_join(x->huli, x->city, NULL);
	net_node_start(x->huli);
	net_node_join(x->hetong, x->huli, NULL);
	net_node_join(x->jinshan, x->huli, NULL);
	net_node_set_ops(x->hetong, 3); /* hetong's up feed: several entries */
	net_node_start(x->hetong);
	net_node_start(x->jinshan);
	import_members(x->hetong, "hetong.csv", 12, "HT", 1);
	import_members(x->jinshan, "jinshan.csv", 5, "JS", 2);
	import_members(x->huli, "huli.csv", 3, "HL", 3);

	/* A member moves from hetong to jinshan: the district forwards. */
	snprintf(id, sizeof id, "HT000001-%s", now_as(x->day, "%Y%m%d"));
	NET_WAIT(NET_DEADLINE_MS, net_has_cert(x->hetong, x->jinshan->key), "hetong to know jinshan's certificate");
	net_ok("transfer", "release", "-d", x->hetong->dir, "--member", "HT000001", "--to", x->jinshan->path, NULL);
	NET_WAIT(NET_DEADLINE_MS, net_count(x->jinshan, "forward", x->huli->key) == 1, "the forward to reach jinshan");
	net_ok("transfer", "accept", "-d", x->jinshan->dir, "--id", id, "--from", x->hetong->path, NULL);
	NET_WAIT(NET_DEADLINE_MS, strcmp(member_status(x->hetong, "HT000001"), "other") == 0,
		 "hetong to mark HT000001 transferred");
	cr_assert_str_eq(member_status(x->jinshan, "HT000001"), "active");

	/* Reports, street -> district -> city. */
	now_as(x->period, "%Y-%m");
	net_ok("report", "submit", "-d", x->hetong->dir, "--period", x->period, NULL);
	net_ok("report", "submit", "-d", x->jinshan->dir, "--period", x->period, NULL);
	NET_WAIT(NET_DEADLINE_MS,
		 caught_up(x->huli, x->hetong, FEED_REPORT) && caught_up(x->huli, x->jinshan, FEED_REPORT) &&
			 caught_up(x->huli, x->hetong, FEED_UP) && caught_up(x->huli, x->jinshan, FEED_UP),
		 "the street reports at the district");
	net_ok("report", "submit", "-d", x->huli->dir, "--period", x->period, NULL);
	NET_WAIT(NET_DEADLINE_MS,
		 caught_up(x->city, x->huli, FEED_REPORT) && caught_up(x->city, x->hetong, FEED_UP) &&
			 caught_up(x->city, x->jinshan, FEED_UP) && caught_up(x->city, x->huli, FEED_UP) &&
			 caught_up(x->city, x->hetong, FEED_REPORT),
		 "everything at the city");
	net_ok("report", "submit", "-d", x->city->dir, "--period", x->period, NULL);
	NET_WAIT(NET_DEADLINE_MS, caught_up(x->jinshan, x->huli, FEED_DOWN) && caught_up(x->hetong, x->huli, FEED_DOWN),
		 "the district's down feed at the streets");
	net_stop_all();
}

/* Every store audits clean, and says what it checked. */
static void stores_audit_clean(struct audited *x)
{
	struct net_node *all[] = {x->city, x->huli, x->hetong, x->jinshan};
	json_t *j;

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		j = assert_clean(all[i]->dir, true, x->city);
		cr_assert_gt(jint(j, "certificates"), 0, "%s", all[i]->label);
		cr_assert_gt(jint(j, "reports"), 0, "%s: no report recomputed", all[i]->label);
		cr_assert_eq(jint(j, "reports_unchecked"), 0, "%s", all[i]->label);
		net_release(j);
	}
	j = assert_clean(x->huli->dir, true, x->city);
	cr_assert_eq(jint(j, "transfers"), 2, "the district checks its forward and the acceptance");
	net_release(j);
	j = assert_clean(x->city->dir, true, x->city);
	cr_assert_eq(jint(j, "transfers"), 1, "the city checks the acceptance (the forward is in the district's down feed)");
	cr_assert_eq(jint(j, "reports"), 4, "the city recomputes the report of every level");
	cr_assert_geq(jint(j, "certificates"), 4);
	net_release(j);
	/* jinshan does not hold hetong's up feed: its acceptance checks against the forward */
	j = assert_clean(x->jinshan->dir, true, x->city);
	cr_assert_geq(jint(j, "transfers"), 2);
	net_release(j);
}

static void bundle_audits_clean(struct audited *x)
{
	json_t *j;

	/* The city's bundle audits clean on a machine with no node. */
	net_path(x->clean, "city.strata");
	net_ok("export", "-d", x->city->dir, "-o", x->clean, NULL);
	j = assert_clean(x->clean, false, x->city);
	cr_assert_eq(jint(j, "transfers"), 1);
	cr_assert_eq(jint(j, "reports"), 4);
	net_release(j);
	cr_assert_geq(net_head(x->city, x->hetong->key, FEED_UP, NULL), 4,
		      "hetong's up feed is too short to tamper with");
}

/* Flipped bytes in a body and in a value of a bundle. */
static void flipped_body_and_value_fail(struct audited *x)
{
	char bad[256];
	struct bundle *b;

	/* A flipped byte in a body (the low bit of its time): the signature fails. */
	net_path(bad, "body.strata");
	b = clean_copy(x->clean);
	{
		size_t i = bundle_find(b, x->hetong->key, FEED_UP, 2);
		Strata__Envelope *ev = strata__envelope__unpack(NULL, b->len[i], b->env[i]);
		Strata__ChangeSetBody *body = strata__change_set_body__unpack(NULL, ev->body.len, ev->body.data);
		uint8_t *nb;

		body->time_ms ^= 1;
		cr_assert_eq(strata__change_set_body__get_packed_size(body), ev->body.len);
		cr_assert_not_null(nb = malloc(ev->body.len));
		strata__change_set_body__pack(body, nb);
		memcpy(ev->body.data, nb, ev->body.len);
		free(nb);
		bundle_set(b, i, ev);
		strata__change_set_body__free_unpacked(body, NULL);
		strata__envelope__free_unpacked(ev, NULL);
	}
	bundle_write(bad, b);
	net_release(b);
	assert_fails_at(bad, false, x->city, x->hetong->key, "up", 2, "signature");
	assert_fails_at(bad, false, x->city, x->hetong->key, "up", 3, "follows a bad entry");

	/* A flipped byte in a value: it no longer matches its op's commitment
	 * (salted since issue 15: "value commitment does not match its value"). */
	net_path(bad, "value.strata");
	b = clean_copy(x->clean);
	{
		size_t i = bundle_find(b, x->hetong->key, FEED_UP, 2);
		Strata__Envelope *ev = strata__envelope__unpack(NULL, b->len[i], b->env[i]);

		cr_assert_gt(ev->n_values, 0);
		ev->values[0]->data.data[ev->values[0]->data.len / 2] ^= 0x20;
		bundle_set(b, i, ev);
		strata__envelope__free_unpacked(ev, NULL);
	}
	bundle_write(bad, b);
	net_release(b);
	assert_fails_at(bad, false, x->city, x->hetong->key, "up", 2, "does not match its value");
}

/* A flipped signature byte, a missing entry, two entries swapped. */
static void flipped_signature_missing_and_swapped_fail(struct audited *x)
{
	char bad[256];
	struct bundle *b;

	/* A flipped byte in a signature. */
	net_path(bad, "signature.strata");
	b = clean_copy(x->clean);
	{
		size_t i = bundle_find(b, x->jinshan->key, FEED_UP, 1);
		Strata__Envelope *ev = strata__envelope__unpack(NULL, b->len[i], b->env[i]);

		ev->signature.data[7] ^= 0x80;
		bundle_set(b, i, ev);
		strata__envelope__free_unpacked(ev, NULL);
	}
	bundle_write(bad, b);
	net_release(b);
	assert_fails_at(bad, false, x->city, x->jinshan->key, "up", 1, "signature");

	/* An entry removed from the middle: named as missing. */
	net_path(bad, "removed.strata");
	b = clean_copy(x->clean);
	{
		size_t i = bundle_find(b, x->hetong->key, FEED_UP, 3);

		free(b->env[i]);
		memmove(b->env + i, b->env + i + 1, (b->n - i - 1) * sizeof *b->env);
		memmove(b->len + i, b->len + i + 1, (b->n - i - 1) * sizeof *b->len);
		b->n--;
	}
	bundle_write(bad, b);
	net_release(b);
	assert_fails_at(bad, false, x->city, x->hetong->key, "up", 3, "is missing");

	/* Two entries swapped: #3 before #2. */
	net_path(bad, "swapped.strata");
	b = clean_copy(x->clean);
	{
		size_t i = bundle_find(b, x->hetong->key, FEED_UP, 2), k = bundle_find(b, x->hetong->key, FEED_UP, 3);
		uint8_t *te = b->env[i];
		size_t tl = b->len[i];

		b->env[i] = b->env[k];
		b->len[i] = b->len[k];
		b->env[k] = te;
		b->len[k] = tl;
	}
	bundle_write(bad, b);
	net_release(b);
	assert_fails_at(bad, false, x->city, x->hetong->key, "up", 2, "out of order");
}

/* A forged certificate and an equivocation. */
static void forged_certificate_and_fork_fail(struct audited *x)
{
	char bad[256];
	struct bundle *b;

	/* A forged certificate: an outsider certifies a key into the district,
	 * and that key writes a member. */
	net_path(bad, "forged.strata");
	b = clean_copy(x->clean);
	{
		struct keypair *forger = net_keypair_new(), *fake = net_keypair_new();
		uint8_t *env;
		size_t len;

		forged_cert(forger, keypair_public(fake), "xiamen/huli/fake", &env, &len);
		bundle_add(b, env, len);
		net_entry(fake, FEED_UP, 1, NULL, "FAKE01", &env, &len, NULL);
		bundle_add(b, env, len);
		bundle_write(bad, b);
		net_release(b);
		assert_fails_at(bad, false, x->city, keypair_public(forger), "trust", 1, "no certificate");
		assert_fails_at(bad, false, x->city, keypair_public(fake), "up", 1, "certificate");
	}

	/* An equivocation: hetong signs a second, different entry #2. */
	net_path(bad, "fork.strata");
	b = clean_copy(x->clean);
	{
		uint8_t prev[HASH_BYTES], *env;
		size_t len;

		entry_hash(x->city, x->hetong->key, "up", 1, prev);
		net_entry(net_node_keypair(x->hetong), FEED_UP, 2, prev, "HT999999", &env, &len, NULL);
		bundle_add(b, env, len);
	}
	bundle_write(bad, b);
	net_release(b);
	assert_fails_at(bad, false, x->city, x->hetong->key, "up", 2, "equivocation");
}

/* Tampered copies of stores: a stored value, and transfers. */
static void tampered_stores_fail(struct audited *x)
{
	char dir[256];

	/* A flipped byte in a value in a copy of hetong's store. */
	copy_of(x->hetong, "hetong-value", dir);
	flip_stored_value(dir, x->hetong->key, "up", 2);
	assert_fails_at(dir, true, x->city, x->hetong->key, "up", 2, "does not match its value");

	/* Transfers, in a copy of the district's store (it holds the release,
	 * its forward and the acceptance): jinshan accepts a transfer nobody
	 * released, and hetong puts the member it released active again after
	 * jinshan accepted it. */
	copy_of(x->huli, "huli-transfers", dir);
	{
		Strata__Acceptance a = STRATA__ACCEPTANCE__INIT;
		Strata__Member m = STRATA__MEMBER__INIT;
		uint8_t hash[HASH_BYTES], val[512];
		char key[KEY_HEX + 64], fake[64], hex[KEY_HEX];
		uint64_t acc, again;

		memset(hash, 0x5a, sizeof hash);
		snprintf(fake, sizeof fake, "HT000002-%s", x->day);
		key_hex(hex, x->hetong->key);
		snprintf(key, sizeof key, "%s/%s", hex, fake);
		a.from.data = x->hetong->key;
		a.from.len = KEY_BYTES;
		a.id = fake;
		a.release_hash.data = hash;
		a.release_hash.len = HASH_BYTES;
		a.decision = STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED;
		a.member_id = "HT000002";
		a.date = "2026-11-01";
		acc = append_put(dir, x->jinshan, FEED_UP, "acceptance", key, val, strata__acceptance__pack(&a, val));
		m.id = "HT000001";
		m.name = "黄志明";
		m.category = STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
		m.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
		m.joined = "2019-03-12";
		again = append_put(dir, x->hetong, FEED_UP, "member", "HT000001", val, strata__member__pack(&m, val));
		assert_fails_at(dir, true, x->city, x->jinshan->key, "up", acc, "has no release");
		assert_fails_at(dir, true, x->city, x->hetong->key, "up", again, "active at two branches at once");
	}
}

static void lying_report_fails(struct audited *x)
{
	char dir[256];
	uint64_t lie;

	/* A report whose figures were changed, signed by its author: only the
	 * recomputation from the heads it names catches it, in the store and in
	 * a bundle of it. */
	copy_of(x->hetong, "hetong-lie", dir);
	lie = write_lying_report(x->hetong, dir, x->period);
	assert_fails_at(dir, true, x->city, x->hetong->key, "report", lie, "members_full");
	{
		char lied[256];
		struct net_run r;

		net_path(lied, "lie.strata");
		net_ok("export", "-d", dir, "-o", lied, NULL);
		assert_fails_at(lied, false, x->city, x->hetong->key, "report", lie, "differ from a recomputation");
		net_run(&r, "audit", lied, "--root", x->city->hex, NULL);
		cr_assert(!net_has(r.out, "/report #1:"), "the honest report failed too:\n%s", r.out);
		net_run_free(&r);
	}
}

Test(sync_audit, clean_network_audits_clean_and_each_tamper_fails_at_its_entry)
{
	struct audited x;

	x.city = net_node_init("city", "xiamen", true, true);
	x.huli = net_node_init("huli", "xiamen/huli", false, true);
	x.hetong = net_node_init("hetong", "xiamen/huli/hetong", false, false);
	x.jinshan = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	audited_network(&x);
	stores_audit_clean(&x);
	bundle_audits_clean(&x);
	flipped_body_and_value_fail(&x);
	flipped_signature_missing_and_swapped_fail(&x);
	forged_certificate_and_fork_fail(&x);
	tampered_stores_fail(&x);
	lying_report_fails(&x);
}

/* ---- an auditor node ---- */

Test(sync_audit, auditor_node_receives_everything_and_writes_nothing)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, true);
	struct net_node *hetong = net_node_init("hetong", "xiamen/huli/hetong", false, false);
	struct net_node *aud = net_node_init("auditor", "xiamen/huli/audit-office", false, false);
	struct store_head *heads;
	struct net_run r;
	size_t n;

	net_node_start(city);
	net_node_join(huli, city, NULL);
	net_node_start(huli);
	net_node_join(hetong, huli, NULL);
	net_node_start(hetong);
	net_node_join(aud, huli, "--role", "auditor", NULL);
	net_node_start(aud);

	import_members(hetong, "hetong.csv", 8, "HT", 1);
	import_members(huli, "huli.csv", 2, "HL", 2);
	net_ok("notice", "add", "-d", city->dir, "--id", "N1", "--title", "Study session", NULL);
	net_ok("report", "submit", "-d", hetong->dir, "--period", "2026-11", NULL);

	/* It receives every feed that reaches the district, to the same head. */
	NET_WAIT(NET_DEADLINE_MS, caught_up(huli, hetong, FEED_UP) && caught_up(huli, hetong, FEED_REPORT) &&
		 caught_up(huli, city, FEED_NOTICE), "the district to hold everything");
	n = net_heads(huli, &heads);
	cr_assert_geq(n, 5, "the district holds %zu feeds", n);
	for (size_t i = 0; i < n; i++)
		NET_WAIT(NET_DEADLINE_MS, net_head(aud, heads[i].author, heads[i].feed, NULL) == heads[i].seq,
			 "the auditor to hold feed %s #%llu", heads[i].feed, (unsigned long long)heads[i].seq);
	net_release(heads);

	/* Its write commands are refused with a clear error, writing nothing. */
	net_run(&r, "member", "add", "-d", aud->dir, "--id", "A1", "--name", "王芳", "--category", "full", "--joined",
		"2020-01-01", NULL);
	cr_assert_eq(r.status, 2, "member add at an auditor: exit %d\n%s%s", r.status, r.out, r.err);
	cr_assert(net_has(r.err, "auditor"), "the refusal does not say why: %s", r.err);
	net_run_free(&r);
	net_run(&r, "report", "submit", "-d", aud->dir, "--period", "2026-11", NULL);
	cr_assert_eq(r.status, 2, "report submit at an auditor: exit %d\n%s%s", r.status, r.out, r.err);
	cr_assert(net_has(r.err, "auditor"), "%s", r.err);
	net_run_free(&r);
	cr_assert_eq(net_head(aud, aud->key, FEED_UP, NULL), 0);
	cr_assert_eq(net_head(aud, aud->key, FEED_REPORT, NULL), 0);

	/* The district refuses entries the auditor's key signs. */
	{
		struct keypair *kp = net_node_keypair(aud);
		struct net_client *c = net_client_new_kp(huli, kp);
		struct net_reply rep;
		uint8_t *env;
		size_t len;

		net_client_hello(c, aud->key, aud->path);
		net_entry(kp, FEED_UP, 1, NULL, "A1", &env, &len, NULL);
		net_client_entries(c, 1, &env, &len, 1, &rep, 10000 * NET_SLOW);
		cr_assert(rep.n_errors > 0 || (rep.ack && rep.ack->ack->refused == 1),
			  "the district did not refuse the auditor's entry");
		net_reply_free(&rep);
		net_client_free(&c);
	}
	net_sleep_ms(300);
	cr_assert_eq(net_head(huli, aud->key, FEED_UP, NULL), 0, "the district stored an entry of its auditor");

	/* The auditor's own store audits clean against the root. */
	net_stop_all();
	net_release(assert_clean(aud->dir, true, city));
}
