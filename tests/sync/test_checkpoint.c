/* SPDX-License-Identifier: MIT */
/*
 * sync_checkpoint (issue 15): signed checkpoints and witnesses over one
 * daemon network, in stages:
 *
 *   city (root) -> district -> street -> branch;  hospital: a peer of the district
 *
 *  - writes at the branch (members, a report): the city ends up holding
 *    the branch's up and report checkpoints co-signed by the street, the
 *    district and the city (each on the branch's certificate chain), and
 *    they come back to the branch (status shows who witnessed its feeds);
 *  - the peer: the district (its host) co-signs the hospital's report
 *    checkpoint; the hospital holds no note of a feed it does not hold;
 *  - bundles: the branch's export carries its checkpoints and audits clean
 *    with each feed's newest witnessed checkpoint; with its last up entries
 *    cut it fails against the carried checkpoint, and (checkpoints
 *    stripped) against --checkpoint FILE; a whole feed dropped fails; the
 *    district's trust feed cut before its revocation of a street fails;
 *  - backup and restore: a branch restored from an old backup signs no
 *    checkpoint while fenced, and after its fence lifts its checkpoints
 *    agree with what the street co-signed;
 *  - an erase: the co-signed root of the entries before it is unchanged;
 *  - an inconsistent checkpoint (a note with a wrong root, signed with the
 *    branch's key here) sent as the branch: refused with the reason, kept as
 *    evidence, the feed frozen, never co-signed, the alarm in the log and in
 *    status, the evidence passed to the district;
 *  - then a rotated key: its feeds get their own witnessed checkpoints, the
 *    old key's stay; a bundle carrying an inconsistent checkpoint: its import
 *    ends with the reason, the evidence kept, the feed frozen. (A revoked
 *    key: tests/node/test_witness.c.)
 *
 * No test sets .timeout: every wait has its deadline.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "node/core/checkpoint.h"
#include "node/core/node.h"

TestSuite(sync_checkpoint, .init = net_setup, .fini = net_teardown);

#define PERIOD "2026-03"
#define MAGIC_LEN 16
#define WRONG_SIZE 1

struct net {
	struct net_node *city, *district, *street, *branch, *hosp;
	uint8_t root[KEY_BYTES];
	struct keypair *old_branch; /* the branch's key before its rotation */
	char bundle[256];           /* the branch's export (stage 3) */
};

/* ---- reading a node's held notes (its store, read-only) ---- */

/* The held note of (author, feed) at node at (witnessed: the newest
 * co-signed one), parsed into *nt; false if none. */
static bool held(const struct net_node *at, const uint8_t author[KEY_BYTES], const char *feed, bool witnessed,
		 struct note *nt)
{
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct err e = {{0}};
	const uint8_t *b;
	size_t len;
	bool ok = false;

	if (node_open(&n, at->dir, NODE_RDONLY | NODE_NO_KEY, &e) < 0)
		return false;
	if (store_txn_begin(node_store(n), false, &t, &e) == 0 &&
	    node_checkpoint_get(t, author, feed, witnessed, &b, &len, &e) == 0)
		ok = note_parse((const char *)b, len, nt, &e) == 0;
	store_txn_abort(&t);
	node_close(&n);
	return ok;
}

static bool cosigned_by(const struct note *nt, const struct net_node *w)
{
	for (size_t i = 0; i < nt->n_sigs; i++)
		if (nt->sigs[i].alg == NOTE_ALG_COSIGNATURE && memcmp(nt->sigs[i].key, w->key, KEY_BYTES) == 0)
			return true;
	return false;
}

/* Does node at hold a note of (author's feed) of size >= size co-signed by
 * every witness in ws (NULL-terminated)? */
static bool witnessed_by(const struct net_node *at, const struct net_node *author, const char *feed, uint64_t size,
			 const struct net_node *const *ws)
{
	struct note nt;

	if (!held(at, author->key, feed, true, &nt) || nt.cp.size < size)
		return false;
	for (; *ws; ws++)
		if (!cosigned_by(&nt, *ws))
			return false;
	return true;
}

/* ---- the network ---- */

static void build(struct net *x)
{
	x->city = net_node_init("city", "xiamen", true, true);
	x->district = net_node_init("district", "xiamen/huli", false, true);
	x->street = net_node_init("street", "xiamen/huli/jinshan", false, true);
	x->branch = net_node_init("branch", "xiamen/huli/jinshan/hetong", false, false);
	x->hosp = net_node_init("hospital", "xmfy-hospital", true, false);
	memcpy(x->root, x->city->key, KEY_BYTES);
	net_node_start(x->city);
	net_node_join(x->district, x->city, NULL);
	net_node_start(x->district);
	net_node_join(x->street, x->district, NULL);
	net_node_start(x->street);
	net_node_join(x->branch, x->street, NULL);
	net_node_start(x->branch);
	net_node_join(x->hosp, x->district, "--role", "peer", NULL);
	net_node_start(x->hosp);
}

static void add_member(const struct net_node *n, const char *id)
{
	net_ok("member", "add", "-d", n->dir, "--id", id, "--name", "张三", "--category", "full", "--joined",
	       "2015-07-01", NULL);
}

/* Stage 1: writes at the branch are witnessed by the street, the district
 * and the city, and their cosignatures come back to the branch. */
static void stage_witnessed(struct net *x)
{
	const struct net_node *all[] = {x->street, x->district, x->city, NULL};
	json_t *st, *f;
	size_t i;
	bool shown = false;

	add_member(x->branch, "HT01");
	add_member(x->branch, "HT02");
	add_member(x->branch, "HT03");
	net_ok("report", "submit", "-d", x->branch->dir, "--period", PERIOD, NULL);
	NET_WAIT(NET_DEADLINE_MS, witnessed_by(x->city, x->branch, FEED_UP, 3, all),
		 "the city to hold the branch's up checkpoint at 3 co-signed by street, district and city");
	NET_WAIT(NET_DEADLINE_MS, witnessed_by(x->city, x->branch, FEED_REPORT, 1, all),
		 "the report feed is checkpointed like any other");
	NET_WAIT(NET_DEADLINE_MS, witnessed_by(x->branch, x->branch, FEED_UP, 3, all),
		 "the witnesses' cosignatures to come back to the branch");
	st = net_node_status(x->branch);
	json_array_foreach(json_object_get(st, "feeds"), i, f) {
		json_t *w = json_object_get(f, "witnessed");

		if (strcmp(json_string_value(json_object_get(f, "feed")), FEED_UP) != 0 || !json_is_object(w))
			continue;
		cr_assert_eq(json_integer_value(json_object_get(w, "size")), 3);
		cr_assert_eq(json_array_size(json_object_get(w, "witnesses")), 3, "status names the three witnesses");
		shown = true;
	}
	cr_assert(shown, "status --json shows the newest witnessed checkpoint of the branch's up feed");
}

/* Stage 1b: the branch proves its report to an auditor who holds nothing
 * but the root key (strata prove, then strata audit FILE --root KEY): the
 * proof names its witnesses; cut to another report entry it fails. */
static void stage_prove(struct net *x)
{
	const struct net_node *all[] = {x->street, x->district, x->city, NULL};
	char file[256], root[KEY_HEX], feed[128];
	struct net_run r;
	json_t *j;

	NET_WAIT(NET_DEADLINE_MS, witnessed_by(x->branch, x->branch, FEED_REPORT, 1, all),
		 "the branch to hold its report checkpoint co-signed by its witnesses");
	key_hex(root, x->root);
	net_path(file, "report.proof");
	snprintf(feed, sizeof feed, "%s/%s", "xiamen/huli/jinshan/hetong", FEED_REPORT);
	net_run(&r, "prove", "-d", x->branch->dir, "--feed", feed, "--seq", "1", "-o", file, "--json", NULL);
	cr_assert_eq(r.status, 0, "prove: %s%s", r.out, r.err);
	j = net_run_json(&r);
	cr_assert_eq(json_integer_value(json_object_get(j, "size")), 1);
	cr_assert_geq(json_array_size(json_object_get(j, "witnesses")), 1, "%s", r.out);
	net_release(j);
	net_run_free(&r);
	net_run(&r, "audit", file, "--root", root, NULL);
	cr_assert_eq(r.status, 0, "audit of the proof: %s%s", r.out, r.err);
	cr_assert(net_has(r.out, "co-signed by xiamen/huli/jinshan"), "the street witnessed it: %s", r.out);
	net_run_free(&r);
	/* the same proof checked against another root key fails */
	net_run(&r, "audit", file, "--root", "0101010101010101010101010101010101010101010101010101010101010101", NULL);
	cr_assert_eq(r.status, 3, "a proof against another root: %s%s", r.out, r.err);
	net_run_free(&r);
}

struct peer_notes {
	const struct net_node *at;
	size_t notes, stray;
};

static int on_note(const uint8_t author[KEY_BYTES], const char *feed, const uint8_t *note, size_t len, void *arg)
{
	struct peer_notes *p = arg;

	(void)note;
	(void)len;
	p->notes++;
	if (net_head(p->at, author, feed, NULL) == 0)
		p->stray++;
	return 0;
}

/* Stage 2: the host co-signs its peer's report feed; the peer gets no note
 * of a feed it does not receive. */
static void stage_peer(struct net *x)
{
	const struct net_node *host[] = {x->district, NULL};
	struct peer_notes p = {.at = x->hosp};
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct err e = {{0}};

	add_member(x->hosp, "YY01");
	net_ok("report", "submit", "-d", x->hosp->dir, "--period", PERIOD, NULL);
	NET_WAIT(NET_DEADLINE_MS, witnessed_by(x->district, x->hosp, FEED_REPORT, 1, host),
		 "the district to co-sign its peer's report checkpoint");
	NET_WAIT(NET_DEADLINE_MS, witnessed_by(x->hosp, x->hosp, FEED_REPORT, 1, host),
		 "the host's cosignature to come back to the peer");
	cr_assert_eq(node_open(&n, x->hosp->dir, NODE_RDONLY | NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0);
	cr_assert_eq(node_checkpoint_each(t, false, on_note, &p, &e), 0, "%s", e.msg);
	store_txn_abort(&t);
	node_close(&n);
	cr_assert_gt(p.notes, 0);
	cr_assert_eq(p.stray, 0, "the peer holds %zu note(s) of feeds it does not receive", p.stray);
}

/* The tree of the first size entries of (author, feed) at node at. */
static void tree_root(const struct net_node *at, const uint8_t author[KEY_BYTES], const char *feed, uint64_t size,
		      uint8_t root[TLOG_HASH_BYTES])
{
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct err e = {{0}};

	cr_assert_eq(node_open(&n, at->dir, NODE_RDONLY | NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0);
	cr_assert_eq(store_tree_root(t, author, feed, size, root, &e), 0, "%s", e.msg);
	store_txn_abort(&t);
	node_close(&n);
}

/* Stage 2b: an erase strips a value, never a body: the co-signed root of
 * the entries before it is unchanged everywhere, and the next checkpoint
 * (over the erase request) is co-signed like any other. */
static void stage_erase(struct net *x)
{
	const struct net_node *all[] = {x->street, x->district, x->city, NULL};
	uint8_t root[TLOG_HASH_BYTES];
	struct note before;

	cr_assert(held(x->city, x->branch->key, FEED_UP, true, &before));
	net_ok("erase", "-d", x->branch->dir, "--collection", "member", "--key", "HT01", NULL);
	NET_WAIT(NET_DEADLINE_MS, witnessed_by(x->city, x->branch, FEED_UP, before.cp.size + 1, all),
		 "the checkpoint over the erase request to be co-signed by every witness");
	tree_root(x->city, x->branch->key, FEED_UP, before.cp.size, root);
	cr_assert_eq(memcmp(root, before.cp.root, TLOG_HASH_BYTES), 0, "the city's tree under the erase is unchanged");
	tree_root(x->branch, x->branch->key, FEED_UP, before.cp.size, root);
	cr_assert_eq(memcmp(root, before.cp.root, TLOG_HASH_BYTES), 0, "and the branch's");
}

/* Stage 3b: a branch restored from an old backup signs no checkpoint
 * while fenced (an export then carries the backup's), and after its fence
 * lifts its checkpoints are those its street co-signs. */
static void stage_restore(struct net *x)
{
	const struct net_node *street[] = {x->street, NULL};
	char bak[256], fenced[256];
	struct note mine, theirs;
	json_t *st;
	uint64_t old;

	net_ok("backup", "-d", x->branch->dir, "-o", net_path(bak, "branch.bak"), NULL);
	cr_assert(held(x->branch, x->branch->key, FEED_UP, false, &mine));
	old = mine.cp.size;
	add_member(x->branch, "HT04");
	add_member(x->branch, "HT05");
	NET_WAIT(NET_DEADLINE_MS, witnessed_by(x->street, x->branch, FEED_UP, old + 2, street),
		 "the street to co-sign the two new entries");
	net_node_stop(x->branch);
	net_ok("restore", "-d", x->branch->dir, "-i", bak, NULL);
	net_ok("export", "-d", x->branch->dir, "-o", net_path(fenced, "fenced.bundle"), NULL);
	cr_assert(held(x->branch, x->branch->key, FEED_UP, false, &mine));
	cr_assert_eq(mine.cp.size, old, "a fenced store signed a checkpoint (size %llu)", (unsigned long long)mine.cp.size);
	net_node_start(x->branch);
	st = net_node_status(x->branch);
	add_member(x->branch, "HT06"); /* waits for the fence */
	NET_WAIT(NET_DEADLINE_MS, witnessed_by(x->street, x->branch, FEED_UP, old + 3, street),
		 "the street to co-sign the restored branch's next entry");
	NET_WAIT(NET_DEADLINE_MS, held(x->branch, x->branch->key, FEED_UP, false, &mine) && mine.cp.size == old + 3,
		 "the branch's own checkpoint at its head");
	cr_assert(held(x->street, x->branch->key, FEED_UP, false, &theirs));
	cr_assert_eq(theirs.cp.size, mine.cp.size);
	cr_assert_eq(memcmp(theirs.cp.root, mine.cp.root, TLOG_HASH_BYTES), 0,
		     "the restored branch signed what its street co-signed");
	cr_assert_not(net_log_has(x->street, "ALARM"), "no inconsistent checkpoint after the restore");
	(void)st;
}

/* ---- bundles rewritten ---- */

/* Copies bundle IN to OUT, leaving out the entries of (author, feed) above
 * keep (keep 0: the whole feed), and the Checkpoint frames when strip; the
 * end record is rewritten to count what is left. */
static void bundle_cut(const char *in, const char *out, const uint8_t *author, const char *feed, uint64_t keep,
		       bool strip)
{
	size_t len, off = MAGIC_LEN, entries = 0, ckpts = 0;
	uint8_t *buf = (uint8_t *)net_read_file(in);
	FILE *f = fopen(out, "wb");
	FILE *sz = fopen(in, "rb");

	cr_assert(buf && f && sz);
	fseek(sz, 0, SEEK_END);
	len = (size_t)ftell(sz);
	fclose(sz);
	cr_assert_eq(fwrite(buf, 1, MAGIC_LEN, f), MAGIC_LEN);
	for (bool first = true; off < len; first = false) {
		uint32_t rl = be32_get(buf + off);
		Strata__Frame *fr, out = STRATA__FRAME__INIT;
		Strata__Entries en = STRATA__ENTRIES__INIT;
		ProtobufCBinaryData *keep_env = NULL;
		uint8_t *packed, be[4];
		size_t kept = 0;

		if (first) {
			cr_assert_eq(fwrite(buf + off, 1, 4 + rl, f), 4 + rl);
			off += 4 + rl;
			continue;
		}
		cr_assert_not_null(fr = strata__frame__unpack(NULL, rl, buf + off + 4));
		off += 4 + rl;
		if (fr->msg_case == STRATA__FRAME__MSG_ENTRIES) {
			cr_assert_not_null(keep_env = calloc(fr->entries->n_envelopes + 1, sizeof *keep_env));
			for (size_t i = 0; i < fr->entries->n_envelopes; i++) {
				struct changeset *cs = NULL;
				struct err e = {{0}};
				bool drop;

				cr_assert_eq(changeset_decode(&cs, fr->entries->envelopes[i].data, fr->entries->envelopes[i].len,
							      &e), 0);
				drop = memcmp(cs->author, author, KEY_BYTES) == 0 && strcmp(cs->feed, feed) == 0 &&
				       cs->seq > keep;
				changeset_destroy(&cs);
				if (!drop)
					keep_env[kept++] = fr->entries->envelopes[i];
			}
			entries += kept;
			if (!kept) {
				free(keep_env);
				strata__frame__free_unpacked(fr, NULL);
				continue;
			}
			en.batch = entries;
			en.n_envelopes = kept;
			en.envelopes = keep_env;
			out.msg_case = STRATA__FRAME__MSG_ENTRIES;
			out.entries = &en;
		} else if (fr->msg_case == STRATA__FRAME__MSG_CHECKPOINT) {
			if (strip) {
				strata__frame__free_unpacked(fr, NULL);
				continue;
			}
			ckpts++;
		} else if (fr->msg_case == STRATA__FRAME__MSG_END) {
			fr->end->entries = entries;
			fr->end->has_checkpoints = 1;
			fr->end->checkpoints = ckpts;
		}
		if (!keep_env)
			out = *fr;
		cr_assert_not_null(packed = malloc(strata__frame__get_packed_size(&out)));
		rl = (uint32_t)strata__frame__pack(&out, packed);
		be32_put(be, rl);
		cr_assert_eq(fwrite(be, 1, 4, f), 4);
		cr_assert_eq(fwrite(packed, 1, rl, f), rl);
		free(packed);
		free(keep_env);
		strata__frame__free_unpacked(fr, NULL);
	}
	fclose(f);
	free(buf);
}

static void audit(struct net *x, const char *bundle, const char *ckpt_file, struct net_run *r)
{
	char root[KEY_HEX];

	key_hex(root, x->root);
	if (ckpt_file)
		net_run(r, "audit", bundle, "--root", root, "--checkpoint", ckpt_file, "--json", NULL);
	else
		net_run(r, "audit", bundle, "--root", root, "--json", NULL);
}

/* Writes the note the city holds of the branch's up feed to path. */
static void note_file(struct net *x, const char *path)
{
	struct note nt;
	char text[NOTE_MAX];
	size_t len;
	struct err e = {{0}};
	FILE *f;

	cr_assert(held(x->city, x->branch->key, FEED_UP, true, &nt));
	cr_assert_eq(note_format(&nt, text, &len, &e), 0, "%s", e.msg);
	cr_assert_not_null(f = fopen(path, "wb"));
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

/* The district revokes a street it certified for the purpose: its trust
 * feed's last entry is the revocation; the branch holds it, and the
 * district's checkpoint over it. Returns the district's trust head. */
static uint64_t revoke_a_street(struct net *x)
{
	struct net_node *s2 = net_node_init("s2", "xiamen/huli/s2", false, false);
	uint64_t head;
	struct note nt;

	net_node_join(s2, x->district, NULL);
	net_ok("revoke", "-d", x->district->dir, "--name", s2->path, "--reason", "closed", NULL);
	head = net_head(x->district, x->district->key, FEED_TRUST, NULL);
	NET_WAIT(NET_DEADLINE_MS,
		 held(x->branch, x->district->key, FEED_TRUST, false, &nt) && nt.cp.size == head &&
			 net_head(x->branch, x->district->key, FEED_TRUST, NULL) == head,
		 "the branch to hold the district's trust feed and its checkpoint up to the revocation");
	return head;
}

/* Stage 3: the branch's export carries its checkpoints; cut, it fails. */
static void stage_bundles(struct net *x)
{
	char whole[256], cut[256], bare[256], dropped[256], note[256], trust[256];
	uint64_t trust_head = revoke_a_street(x);
	struct net_run r;
	json_t *j;

	net_path(whole, "branch.bundle");
	snprintf(x->bundle, sizeof x->bundle, "%s", whole);
	net_ok("export", "-d", x->branch->dir, "-o", whole, NULL);
	audit(x, whole, NULL, &r);
	cr_assert_eq(r.status, 0, "the branch's bundle audits clean: %s%s", r.out, r.err);
	j = net_run_json(&r);
	cr_assert_gt(json_array_size(json_object_get(j, "checkpoints")), 0, "%s", r.out);
	net_run_free(&r);

	bundle_cut(whole, net_path(cut, "cut.bundle"), x->branch->key, FEED_UP, 2, false);
	audit(x, cut, NULL, &r);
	cr_assert_eq(r.status, 3, "a bundle with its last entry cut fails: exit %d: %s", r.status, r.out);
	cr_assert(net_has(r.out, "holds 2 entries of") && net_has(r.out, "says 3"), "%s", r.out);
	net_run_free(&r);

	bundle_cut(whole, net_path(bare, "bare.bundle"), x->branch->key, FEED_UP, 2, true);
	audit(x, bare, NULL, &r);
	cr_assert_eq(r.status, 0, "without any checkpoint the cut cannot be seen: %s", r.out);
	j = net_run_json(&r);
	cr_assert_gt(json_array_size(json_object_get(j, "feeds_unchecked")), 0, "reported as not checked: %s", r.out);
	net_run_free(&r);
	note_file(x, net_path(note, "up.note"));
	audit(x, bare, note, &r);
	cr_assert_eq(r.status, 3, "the checkpoint given catches the cut: %s", r.out);
	cr_assert(net_has(r.out, "holds 2 entries of"), "%s", r.out);
	net_run_free(&r);

	bundle_cut(whole, net_path(dropped, "dropped.bundle"), x->branch->key, FEED_UP, 0, false);
	audit(x, dropped, NULL, &r);
	cr_assert_eq(r.status, 3, "a whole feed dropped fails: %s", r.out);
	cr_assert(net_has(r.out, "holds 0 entries of"), "%s", r.out);
	net_run_free(&r);

	/* the district's trust feed cut before its revocation of a street */
	bundle_cut(whole, net_path(trust, "trust.bundle"), x->district->key, FEED_TRUST, trust_head - 1, false);
	audit(x, trust, NULL, &r);
	cr_assert_eq(r.status, 3, "a trust feed cut before a revocation fails: %s", r.out);
	cr_assert(net_has(r.out, "holds") && net_has(r.out, "xiamen/huli ("), "%s", r.out);
	net_run_free(&r);
}

/* Stage 4: an inconsistent checkpoint of the branch's up feed, sent as the
 * branch: refused, kept as evidence, the feed frozen, never co-signed. */
static void stage_inconsistent(struct net *x)
{
	struct keypair *kp = x->old_branch = net_node_keypair(x->branch);
	struct net_client *c;
	Strata__Frame f = STRATA__FRAME__INIT, *got;
	Strata__Checkpoint ck = STRATA__CHECKPOINT__INIT;
	struct checkpoint cp = {0};
	struct note nt;
	char text[NOTE_MAX];
	size_t len;
	uint32_t flags = 0;
	struct err e = {{0}};

	net_node_stop(x->branch);
	memcpy(cp.author, x->branch->key, KEY_BYTES);
	snprintf(cp.feed, sizeof cp.feed, "%s", FEED_UP);
	cp.size = WRONG_SIZE;
	memset(cp.root, 0x5a, sizeof cp.root);
	cr_assert_eq(note_sign_checkpoint(kp, &cp, text, &len, &e), 0, "%s", e.msg);
	c = net_client_new_kp(x->street, kp);
	net_client_hello(c, x->branch->key, x->branch->path);
	ck.note.data = (uint8_t *)text;
	ck.note.len = len;
	f.msg_case = STRATA__FRAME__MSG_CHECKPOINT;
	f.checkpoint = &ck;
	net_client_send(c, &f);
	got = net_client_expect(c, STRATA__FRAME__MSG_ERROR, 10000 * NET_SLOW);
	cr_assert_not_null(got, "the street answers an inconsistent checkpoint with an Error");
	cr_assert(net_has(got->error->reason, "not the tree of the entries"), "%s", got->error->reason);
	NET_WAIT(NET_DEADLINE_MS, net_log_has(x->street, "ALARM: inconsistent checkpoint"), "the street's alarm");
	net_head(x->street, x->branch->key, FEED_UP, &flags);
	cr_assert(flags & STORE_FEED_FROZEN, "the feed is frozen at the street");
	cr_assert(held(x->street, x->branch->key, FEED_UP, false, &nt));
	cr_assert(nt.cp.size != WRONG_SIZE || memcmp(nt.cp.root, cp.root, sizeof cp.root) != 0,
		  "the street never keeps (nor co-signs) the inconsistent note");
	NET_WAIT(NET_DEADLINE_MS, net_log_has(x->district, "ALARM: inconsistent checkpoint"),
		 "the evidence to reach the district, which checks it against its own entries");
	{
		struct net_run r;

		net_run(&r, "status", "-d", x->street->dir, NULL);
		cr_assert(net_has(r.out, "inconsistent checkpoint"), "status lists the evidence: %s", r.out);
		net_run_free(&r);
	}
	net_client_free(&c);
}

/* Stage 5: the way out of the frozen feed, a rotated key: the new key's
 * feeds get checkpoints of their own, witnessed by every level; the old
 * key's stay as they were. */
static void stage_rotate(struct net *x)
{
	const struct net_node *all[] = {x->street, x->district, x->city, NULL};
	struct net_node newer = *x->branch;
	struct note before, after;
	struct net_run r;
	json_t *j;

	cr_assert(held(x->city, x->branch->key, FEED_UP, true, &before));
	net_run(&r, "rotate-key", "-d", x->branch->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "rotate-key: exit %d: %s", r.status, r.err);
	j = net_run_json(&r);
	cr_assert_eq(hex_decode(newer.key, KEY_BYTES, json_string_value(json_object_get(j, "new_key"))), 0);
	net_run_free(&r);
	net_node_start(x->branch);
	add_member(x->branch, "HT07");
	NET_WAIT(NET_DEADLINE_MS, witnessed_by(x->city, &newer, FEED_UP, 1, all),
		 "the new key's up feed to be checkpointed and co-signed by every witness");
	cr_assert(held(x->city, x->branch->key, FEED_UP, true, &after));
	cr_assert(after.cp.size == before.cp.size && memcmp(after.cp.root, before.cp.root, TLOG_HASH_BYTES) == 0,
		  "the old key's witnessed checkpoint stays as it was");
}

/* Copies bundle IN to OUT with one more Checkpoint frame (NOTE) before its
 * end record, which counts it. */
static void bundle_add_note(const char *in, const char *out, const char *note, size_t note_len)
{
	FILE *f = fopen(in, "rb"), *o = fopen(out, "wb");
	uint8_t *buf, be[4];
	size_t len, off = MAGIC_LEN;

	cr_assert(f && o);
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	cr_assert_not_null(buf = malloc(len));
	cr_assert_eq(fread(buf, 1, len, f), len);
	fclose(f);
	cr_assert_eq(fwrite(buf, 1, MAGIC_LEN, o), MAGIC_LEN);
	while (off < len) {
		uint32_t rl = be32_get(buf + off);
		Strata__Frame *fr = off == MAGIC_LEN ? NULL : strata__frame__unpack(NULL, rl, buf + off + 4);

		if (fr && fr->msg_case == STRATA__FRAME__MSG_END) {
			Strata__Frame cf = STRATA__FRAME__INIT;
			Strata__Checkpoint ck = STRATA__CHECKPOINT__INIT;
			uint8_t packed[NOTE_MAX + 64];
			size_t n;

			ck.note.data = (uint8_t *)note;
			ck.note.len = note_len;
			cf.msg_case = STRATA__FRAME__MSG_CHECKPOINT;
			cf.checkpoint = &ck;
			n = strata__frame__pack(&cf, packed);
			be32_put(be, (uint32_t)n);
			cr_assert(fwrite(be, 1, 4, o) == 4 && fwrite(packed, 1, n, o) == n);
			fr->end->checkpoints++;
			n = strata__frame__pack(fr, packed);
			be32_put(be, (uint32_t)n);
			cr_assert(fwrite(be, 1, 4, o) == 4 && fwrite(packed, 1, n, o) == n);
		} else {
			cr_assert_eq(fwrite(buf + off, 1, 4 + rl, o), 4 + rl);
		}
		if (fr)
			strata__frame__free_unpacked(fr, NULL);
		off += 4 + rl;
	}
	fclose(o);
	free(buf);
}

/* Stage 6: a bundle carrying an inconsistent checkpoint (the old key's,
 * a wrong root at size 2): its import at the city ends with the reason,
 * the note kept as evidence, the feed frozen, status lists it. */
static void stage_import(struct net *x)
{
	struct checkpoint cp = {0};
	char text[NOTE_MAX], bad[256];
	size_t len;
	uint32_t flags = 0;
	struct err e = {{0}};
	struct net_run r;

	memcpy(cp.author, keypair_public(x->old_branch), KEY_BYTES);
	snprintf(cp.feed, sizeof cp.feed, "%s", FEED_UP);
	cp.size = 2;
	memset(cp.root, 0xa5, sizeof cp.root);
	cr_assert_eq(note_sign_checkpoint(x->old_branch, &cp, text, &len, &e), 0, "%s", e.msg);
	bundle_add_note(x->bundle, net_path(bad, "bad-note.bundle"), text, len);
	net_run(&r, "import", "-d", x->city->dir, bad, NULL);
	cr_assert_neq(r.status, 0, "an inconsistent checkpoint in a bundle is refused: %s", r.out);
	cr_assert(net_has(r.err, "contradicts the entries held"), "%s", r.err);
	net_run_free(&r);
	net_head(x->city, cp.author, FEED_UP, &flags);
	cr_assert(flags & STORE_FEED_FROZEN, "the feed is frozen at the city");
	net_run(&r, "status", "-d", x->city->dir, NULL);
	cr_assert(net_has(r.out, "inconsistent checkpoint"), "%s", r.out);
	net_run_free(&r);
}

Test(sync_checkpoint, witnesses_bundles_and_an_inconsistent_checkpoint)
{
	struct net x;

	build(&x);
	stage_witnessed(&x);
	stage_prove(&x);
	stage_peer(&x);
	stage_bundles(&x);
	stage_erase(&x);
	stage_restore(&x);
	stage_inconsistent(&x);
	stage_rotate(&x);
	stage_import(&x);
}
