/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpora of fuzz_frame, fuzz_bundle, fuzz_audit, fuzz_token
 * and fuzz_csv into DIR/<name> (the CSV
 * files behind the byte that picks the importer): valid messages signed with the
 * scratch node's fixed keys (scratch.h), so that they get past the
 * signature and trust checks into the handlers, and one of each common way
 * to be wrong. Deterministic: running it again rewrites the same files.
 *   build/tests/fuzz/fuzz_gen_sync tests/fuzz/corpus
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <zstd.h>

#include "crypto/tlog.h"
#include "node/bundle/bundle.h"
#include "node/records/records.h"
#include "tests/fuzz/scratch.h"

static const char *root_dir;

/* A growing byte buffer. */
struct buf {
	uint8_t *d;
	size_t n, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		if (!(b->d = realloc(b->d, b->cap)))
			exit(1);
	}
	if (n)
		memcpy(b->d + b->n, d, n);
	b->n += n;
}

static void put_byte(struct buf *b, uint8_t c)
{
	put(b, &c, 1);
}

static void write_file(const char *sub, const char *name, const struct buf *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s/%s", root_dir, sub, name);
	if (!(f = fopen(path, "wb")) || (b->n && fwrite(b->d, 1, b->n, f) != b->n) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void check(int rc, const struct err *e)
{
	if (rc < 0) {
		fprintf(stderr, "fuzz_gen_sync: %s\n", e->msg);
		exit(1);
	}
}

/* --- entries by the child r/c --- */

struct env {
	uint8_t *d;
	size_t n;
	uint8_t hash[HASH_BYTES];
};

static void member(struct changeset_builder *b, const char *id, const char *name)
{
	Strata__Member m = STRATA__MEMBER__INIT;
	uint8_t v[256];
	struct err e = {{0}};

	m.id = (char *)id;
	m.name = (char *)name;
	m.category = STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
	m.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
	m.joined = "2001-07-01";
	check(changeset_builder_put(b, "member", (const uint8_t *)id, strlen(id), v, strata__member__pack(&m, v), &e),
	      &e);
}

/* Entry SEQ of the child's up feed after PREV, putting member ID. */
static struct env up_entry(const struct keypair *kp, uint64_t seq, const uint8_t *prev, const char *id,
			   const char *name)
{
	struct changeset_builder *b = NULL;
	struct env v = {0};
	struct err e = {{0}};

	check(changeset_builder_new(&b, FEED_UP, seq, prev, 1700000000000ull + seq, &e), &e);
	member(b, id, name);
	if (seq == 2)
		check(changeset_builder_delete(b, "member", (const uint8_t *)"M0101", 5, &e), &e);
	check(changeset_builder_finish(b, kp, &v.d, &v.n, v.hash, &e), &e);
	changeset_builder_destroy(&b);
	return v;
}

/* --- frames --- */

static void put_frame(struct buf *b, const Strata__Frame *f)
{
	size_t len = strata__frame__get_packed_size(f);
	uint8_t *p = malloc(len ? len : 1);

	strata__frame__pack(f, p);
	put_byte(b, (uint8_t)(len >> 8));
	put_byte(b, (uint8_t)len);
	put(b, p, len);
	free(p);
}

static Strata__Frame entries_frame(Strata__Entries *en, ProtobufCBinaryData *v, size_t n, uint64_t batch)
{
	Strata__Frame f = STRATA__FRAME__INIT;

	strata__entries__init(en);
	en->batch = batch;
	en->n_envelopes = n;
	en->envelopes = v;
	f.msg_case = STRATA__FRAME__MSG_ENTRIES;
	f.entries = en;
	return f;
}

static ProtobufCBinaryData bin(const struct env *v)
{
	return (ProtobufCBinaryData){v->n, v->d};
}

/* One frame input: connection byte, then the frames. */
static void frame_seed(const char *name, uint8_t conn, const Strata__Frame *const *f, size_t n)
{
	struct buf b = {0};

	put_byte(&b, conn);
	for (size_t i = 0; i < n; i++)
		put_frame(&b, f[i]);
	write_file("frame", name, &b);
	free(b.d);
}

static void raw_seed(const char *name, uint8_t conn, const uint8_t *d, size_t n)
{
	struct buf b = {0};

	put_byte(&b, conn);
	put_byte(&b, (uint8_t)(n >> 8));
	put_byte(&b, (uint8_t)n);
	put(&b, d, n);
	write_file("frame", name, &b);
	free(b.d);
}

enum { C_PARENT, C_CHILD, C_PEER, C_INVITE, C_ROTATOR, C_UNKNOWN, C_NONE, HELLO_FIRST = 8 };

static void frames(const struct env *e1, const struct env *e2, const struct env *fork1, const struct env *e3)
{
	uint8_t child[KEY_BYTES], parent[KEY_BYTES], root[KEY_BYTES], joiner[KEY_BYTES], rot[KEY_BYTES],
		newkey[KEY_BYTES], junk_hash[HASH_BYTES];
	Strata__Frame f = STRATA__FRAME__INIT, g = STRATA__FRAME__INIT;
	Strata__Entries en;
	ProtobufCBinaryData v[4];

	scratch_public(SCRATCH_CHILD, child);
	scratch_public(SCRATCH_PARENT, parent);
	scratch_public(SCRATCH_ROOT, root);
	scratch_public(SCRATCH_JOINER, joiner);
	scratch_public(SCRATCH_ROTATOR, rot);
	memset(junk_hash, 0xab, sizeof junk_hash);

	/* Ping, on every kind of connection */
	{
		Strata__Ping p = STRATA__PING__INIT;

		p.time_ms = 1700000000000ull;
		f.msg_case = STRATA__FRAME__MSG_PING;
		f.ping = &p;
		frame_seed("ping_parent", C_PARENT, (const Strata__Frame *[]){&f}, 1);
		frame_seed("ping_unknown", C_UNKNOWN, (const Strata__Frame *[]){&f}, 1);
		frame_seed("ping_no_user_id", C_NONE, (const Strata__Frame *[]){&f}, 1);
	}
	/* Hellos: the parent's with heads (one forked, one malformed), a wrong key, a wrong version */
	{
		Strata__Hello h = STRATA__HELLO__INIT;
		Strata__Head hd[3], *hp[3] = {&hd[0], &hd[1], &hd[2]};

		for (int i = 0; i < 3; i++)
			strata__head__init(&hd[i]);
		hd[0].author = (ProtobufCBinaryData){KEY_BYTES, root};
		hd[0].feed = "trust";
		hd[0].seq = 1;
		hd[0].has_hash = 1;
		hd[0].hash = (ProtobufCBinaryData){HASH_BYTES, junk_hash};
		hd[1].author = (ProtobufCBinaryData){KEY_BYTES, child};
		hd[1].feed = "up";
		hd[1].seq = 0;
		hd[2].author = (ProtobufCBinaryData){3, child};
		hd[2].feed = "down";
		hd[2].seq = 7;
		h.version = 1;
		h.node = (ProtobufCBinaryData){KEY_BYTES, parent};
		h.name = "q";
		h.n_heads = 3;
		h.heads = hp;
		f.msg_case = STRATA__FRAME__MSG_HELLO;
		f.hello = &h;
		frame_seed("hello_parent_heads", C_PARENT, (const Strata__Frame *[]){&f}, 1);
		h.node.data = child;
		frame_seed("hello_child_heads", C_CHILD, (const Strata__Frame *[]){&f}, 1);
		frame_seed("bad_hello_wrong_key", C_PARENT, (const Strata__Frame *[]){&f}, 1);
		frame_seed("bad_hello_unknown_key", C_UNKNOWN, (const Strata__Frame *[]){&f}, 1);
		h.version = 2;
		frame_seed("bad_hello_version", C_CHILD, (const Strata__Frame *[]){&f}, 1);
	}
	/* Entries from the child: a valid chain, a gap, a fork, garbage, before a hello */
	v[0] = bin(e1);
	v[1] = bin(e2);
	f = entries_frame(&en, v, 2, 1);
	frame_seed("entries_child_chain", C_CHILD | HELLO_FIRST, (const Strata__Frame *[]){&f}, 1);
	{ /* the same, zstd-compressed as sync_link_send sends it to a peer that accepts zstd */
		size_t plen = strata__frame__get_packed_size(&f), zcap = ZSTD_compressBound(plen), zn;
		uint8_t *plain = malloc(plen), *z = malloc(zcap);
		Strata__Frame zf = STRATA__FRAME__INIT;

		if (!plain || !z)
			abort();
		strata__frame__pack(&f, plain);
		zn = ZSTD_compress(z, zcap, plain, plen, 1);
		if (ZSTD_isError(zn))
			abort();
		zf.msg_case = STRATA__FRAME__MSG_ZSTD;
		zf.zstd = (ProtobufCBinaryData){zn, z};
		frame_seed("entries_child_chain_zstd", C_CHILD | HELLO_FIRST, (const Strata__Frame *[]){&zf}, 1);
		zf.zstd.len = zn - 4;
		frame_seed("bad_entries_zstd_truncated", C_CHILD | HELLO_FIRST, (const Strata__Frame *[]){&zf}, 1);
		free(plain);
		free(z);
	}
	frame_seed("bad_entries_before_hello", C_CHILD, (const Strata__Frame *[]){&f}, 1);
	frame_seed("bad_entries_from_peer", C_PEER | HELLO_FIRST, (const Strata__Frame *[]){&f}, 1);
	frame_seed("bad_entries_from_parent", C_PARENT | HELLO_FIRST, (const Strata__Frame *[]){&f}, 1);
	v[0] = bin(e3);
	f = entries_frame(&en, v, 1, 2);
	frame_seed("entries_child_gap", C_CHILD | HELLO_FIRST, (const Strata__Frame *[]){&f}, 1);
	v[0] = bin(e1);
	v[1] = bin(fork1);
	v[2] = (ProtobufCBinaryData){5, (uint8_t *)"junk!"};
	v[3] = bin(e2);
	v[3].len -= 3;
	f = entries_frame(&en, v, 4, 3);
	frame_seed("entries_child_fork_and_junk", C_CHILD | HELLO_FIRST, (const Strata__Frame *[]){&f}, 1);
	/* Evidence: a real equivocation, and the same entry twice */
	{
		Strata__Evidence ev = STRATA__EVIDENCE__INIT;

		ev.first = bin(e1);
		ev.second = bin(fork1);
		f.msg_case = STRATA__FRAME__MSG_EVIDENCE;
		f.evidence = &ev;
		frame_seed("evidence_child", C_CHILD | HELLO_FIRST, (const Strata__Frame *[]){&f}, 1);
		ev.second = bin(e1);
		frame_seed("bad_evidence_same_entry", C_PARENT | HELLO_FIRST, (const Strata__Frame *[]){&f}, 1);
	}
	/* Ack, Want, Error after a hello */
	{
		Strata__Ack a = STRATA__ACK__INIT;
		Strata__Want w = STRATA__WANT__INIT;
		Strata__Error er = STRATA__ERROR__INIT;
		Strata__Head hd = STRATA__HEAD__INIT, *hp[] = {&hd};

		hd.author = (ProtobufCBinaryData){KEY_BYTES, root};
		hd.feed = "trust";
		hd.seq = 0;
		a.batch = 1;
		a.refused = 1;
		a.n_heads = 1;
		a.heads = hp;
		f.msg_case = STRATA__FRAME__MSG_ACK;
		f.ack = &a;
		w.author = (ProtobufCBinaryData){KEY_BYTES, root};
		w.feed = "trust";
		w.from = 1;
		g.msg_case = STRATA__FRAME__MSG_WANT;
		g.want = &w;
		frame_seed("ack_want_child", C_CHILD | HELLO_FIRST, (const Strata__Frame *[]){&f, &g}, 2);
		frame_seed("ack_want_parent", C_PARENT | HELLO_FIRST, (const Strata__Frame *[]){&g, &f}, 2);
		er.code = 13;
		er.reason = "refused for a test";
		er.has_author = 1;
		er.author = (ProtobufCBinaryData){KEY_BYTES, root};
		er.feed = "trust";
		er.has_seq = 1;
		er.seq = 1;
		f.msg_case = STRATA__FRAME__MSG_ERROR;
		f.error = &er;
		frame_seed("error_child", C_CHILD | HELLO_FIRST, (const Strata__Frame *[]){&f}, 1);
		frame_seed("error_parent_no_hello", C_PARENT, (const Strata__Frame *[]){&f}, 1);
	}
	/* Messages that have no place on a link */
	{
		Strata__BundleEnd be = STRATA__BUNDLE_END__INIT;
		Strata__JoinReply jr = STRATA__JOIN_REPLY__INIT;

		be.entries = 3;
		f.msg_case = STRATA__FRAME__MSG_END;
		f.end = &be;
		jr.certificate = bin(e1);
		jr.root = (ProtobufCBinaryData){KEY_BYTES, root};
		g.msg_case = STRATA__FRAME__MSG_JOIN_REPLY;
		g.join_reply = &jr;
		frame_seed("bad_unexpected_child", C_CHILD | HELLO_FIRST, (const Strata__Frame *[]){&f, &g}, 2);
	}
	/* Join on the invitation's connection: valid, and wrong in one way each */
	{
		Strata__Join j = STRATA__JOIN__INIT;
		struct keypair *kp = scratch_keypair(SCRATCH_JOINER);
		uint8_t msg[2 * KEY_BYTES + 8], proof[SIG_BYTES];
		size_t nl = strlen(SCRATCH_JOINER_NAME);

		memcpy(msg, root, KEY_BYTES);
		memcpy(msg + KEY_BYTES, joiner, KEY_BYTES);
		memcpy(msg + 2 * KEY_BYTES, SCRATCH_JOINER_NAME, nl);
		if (keypair_sign(kp, DOMAIN_JOIN, msg, 2 * KEY_BYTES + nl, proof) < 0)
			exit(1);
		keypair_destroy(&kp);
		j.key = (ProtobufCBinaryData){KEY_BYTES, joiner};
		j.name = SCRATCH_JOINER_NAME;
		j.proof = (ProtobufCBinaryData){SIG_BYTES, proof};
		f.msg_case = STRATA__FRAME__MSG_JOIN;
		f.join = &j;
		frame_seed("join_valid", C_INVITE, (const Strata__Frame *[]){&f}, 1);
		frame_seed("bad_join_not_invited", C_CHILD, (const Strata__Frame *[]){&f}, 1);
		j.name = "r/x";
		frame_seed("bad_join_other_name", C_INVITE, (const Strata__Frame *[]){&f}, 1);
		j.name = SCRATCH_JOINER_NAME;
		proof[5] ^= 1;
		frame_seed("bad_join_proof", C_INVITE, (const Strata__Frame *[]){&f}, 1);
		j.key.len = 31;
		frame_seed("bad_join_short_key", C_INVITE, (const Strata__Frame *[]){&f}, 1);
	}
	/* Rotate from r/d to the new key: valid, and a bad proof */
	{
		Strata__Rotate r = STRATA__ROTATE__INIT;
		struct keypair *kp = scratch_keypair(SCRATCH_NEWKEY);
		uint8_t m[ROTATION_PROOF_MSG_BYTES], proof[SIG_BYTES];

		memcpy(newkey, keypair_public(kp), KEY_BYTES);
		rotation_proof_message(m, root, rot, newkey);
		if (keypair_sign(kp, DOMAIN_ROTATE, m, sizeof m, proof) < 0)
			exit(1);
		keypair_destroy(&kp);
		r.key = (ProtobufCBinaryData){KEY_BYTES, newkey};
		r.proof = (ProtobufCBinaryData){SIG_BYTES, proof};
		f.msg_case = STRATA__FRAME__MSG_ROTATE;
		f.rotate = &r;
		frame_seed("rotate_valid", C_ROTATOR, (const Strata__Frame *[]){&f}, 1);
		frame_seed("bad_rotate_unknown_key", C_UNKNOWN, (const Strata__Frame *[]){&f}, 1);
		frame_seed("bad_rotate_on_invite", C_INVITE, (const Strata__Frame *[]){&f}, 1);
		proof[0] ^= 1;
		frame_seed("bad_rotate_proof", C_ROTATOR, (const Strata__Frame *[]){&f}, 1);
	}
	/* Bytes that are no frame */
	{
		static const uint8_t unknown_field[] = {0x4a, 0x02, 0x08, 0x01, 0x78, 0x01}; /* ping + field 15 */
		static const uint8_t not_set[] = {0x78, 0x01};
		static const uint8_t truncated[] = {0x12, 0x40, 0x08};

		raw_seed("bad_frame_unknown_field", C_CHILD, unknown_field, sizeof unknown_field);
		raw_seed("bad_frame_no_message", C_PARENT, not_set, sizeof not_set);
		raw_seed("bad_frame_truncated", C_CHILD, truncated, sizeof truncated);
		raw_seed("bad_frame_empty", C_INVITE, NULL, 0);
	}
}

/* An entry of the parent's trust feed certifying SUBJECT as "r", signed by BY. */
static struct env parent_cert(enum scratch_key by, enum scratch_key subject, uint64_t seq)
{
	static char *all[] = {"up", "report", "down", "trust"};
	struct keypair *kp = scratch_keypair(by);
	struct changeset_builder *b = NULL;
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	uint8_t key[KEY_BYTES], buf[256];
	struct env v = {0};
	struct err e = {{0}};

	scratch_public(subject, key);
	c.subject = (ProtobufCBinaryData){KEY_BYTES, key};
	c.name = SCRATCH_ROOT_NAME;
	c.role = STRATA__ROLE__ROLE_CHILD;
	c.feeds = all;
	c.n_feeds = 4;
	c.issued_ms = 1600000000000ull;
	check(changeset_builder_new(&b, FEED_TRUST, seq, NULL, 1600000000000ull, &e), &e);
	check(changeset_builder_put(b, "cert", key, KEY_BYTES, buf, strata__certificate__pack(&c, buf), &e), &e);
	check(changeset_builder_finish(b, kp, &v.d, &v.n, v.hash, &e), &e);
	changeset_builder_destroy(&b);
	keypair_destroy(&kp);
	return v;
}

/* The parent's answers to this node's join and rotation (bit 4 of the
 * connection byte). */
static void answers(void)
{
	struct env joined = parent_cert(SCRATCH_PARENT, SCRATCH_ROOT, 1);
	struct env rotated = parent_cert(SCRATCH_PARENT, SCRATCH_NEWKEY, 1);
	struct env forged = parent_cert(SCRATCH_CHILD, SCRATCH_ROOT, 1);
	uint8_t parent[KEY_BYTES], child[KEY_BYTES];
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__JoinReply jr = STRATA__JOIN_REPLY__INIT;
	Strata__RotateReply rr = STRATA__ROTATE_REPLY__INIT;
	const uint8_t ANSWER = 0x10;

	scratch_public(SCRATCH_PARENT, parent);
	scratch_public(SCRATCH_CHILD, child);
	jr.certificate = bin(&joined);
	jr.root = (ProtobufCBinaryData){KEY_BYTES, parent};
	f.msg_case = STRATA__FRAME__MSG_JOIN_REPLY;
	f.join_reply = &jr;
	frame_seed("answer_join_valid", ANSWER, (const Strata__Frame *[]){&f}, 1);
	jr.root.data = child;
	frame_seed("bad_answer_join_other_root", ANSWER, (const Strata__Frame *[]){&f}, 1);
	jr.root.data = parent;
	jr.certificate = bin(&forged);
	frame_seed("bad_answer_join_not_the_parent", ANSWER, (const Strata__Frame *[]){&f}, 1);
	jr.certificate = bin(&rotated);
	frame_seed("bad_answer_join_other_key", ANSWER, (const Strata__Frame *[]){&f}, 1);
	rr.certificate = bin(&rotated);
	f.msg_case = STRATA__FRAME__MSG_ROTATE_REPLY;
	f.rotate_reply = &rr;
	frame_seed("answer_rotate_valid", ANSWER, (const Strata__Frame *[]){&f}, 1);
	rr.certificate = bin(&joined);
	frame_seed("bad_answer_rotate_old_key", ANSWER, (const Strata__Frame *[]){&f}, 1);
	rr.certificate.len /= 2;
	frame_seed("bad_answer_rotate_truncated", ANSWER, (const Strata__Frame *[]){&f}, 1);
	free(joined.d);
	free(rotated.d);
	free(forged.d);
}

/* --- bundles --- */

static void put_record(struct buf *b, const uint8_t *d, size_t n)
{
	uint8_t be[4];

	be32_put(be, (uint32_t)n);

	put(b, be, 4);
	put(b, d, n);
}

static void put_frame_record(struct buf *b, const Strata__Frame *f)
{
	size_t len = strata__frame__get_packed_size(f);
	uint8_t *p = malloc(len ? len : 1);

	strata__frame__pack(f, p);
	put_record(b, p, len);
	free(p);
}

/* magic, header (version), frames, end (count) */
static void bundle_in(const char *sub, const char *name, uint32_t version, const Strata__Frame *const *f, size_t n, uint64_t count,
		   bool end)
{
	Strata__BundleHeader h = STRATA__BUNDLE_HEADER__INIT;
	Strata__Frame ef = STRATA__FRAME__INIT;
	Strata__BundleEnd be = STRATA__BUNDLE_END__INIT;
	uint8_t node[KEY_BYTES], hb[256];
	struct buf b = {0};

	scratch_public(SCRATCH_CHILD, node);
	put(&b, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN);
	h.version = version;
	h.node = (ProtobufCBinaryData){KEY_BYTES, node};
	h.name = SCRATCH_CHILD_NAME;
	h.has_root = 1;
	h.root = (ProtobufCBinaryData){KEY_BYTES, node};
	h.created_ms = 1700000000000ull;
	put_record(&b, hb, strata__bundle_header__pack(&h, hb));
	be.has_evidence = 1; /* as strata export counts them */
	for (size_t i = 0; i < n; i++) {
		put_frame_record(&b, f[i]);
		be.evidence += f[i]->msg_case == STRATA__FRAME__MSG_EVIDENCE;
	}
	if (end) {
		be.entries = count;
		ef.msg_case = STRATA__FRAME__MSG_END;
		ef.end = &be;
		put_frame_record(&b, &ef);
	}
	write_file(sub, name, &b);
	free(b.d);
}

#define bundle(...) bundle_in("bundle", __VA_ARGS__)

/* Unsigned slack a reader refuses: a byte after the end record, an
 * unknown field in the header (both a valid bundle of f otherwise). */
static void slack_seeds(const Strata__Frame *f)
{
	struct buf b = {0};
	char path[4096];
	FILE *in;
	long n;

	bundle("bad_trailing_byte", 1, (const Strata__Frame *[]){f}, 1, 3, true);
	snprintf(path, sizeof path, "%s/bundle/bad_trailing_byte", root_dir);
	if (!(in = fopen(path, "ab")) || fputc(0, in) == EOF || fclose(in) != 0)
		exit(1);
	bundle("bad_header_unknown_field", 1, (const Strata__Frame *[]){f}, 1, 3, true);
	snprintf(path, sizeof path, "%s/bundle/bad_header_unknown_field", root_dir);
	if (!(in = fopen(path, "rb")) || fseek(in, 0, SEEK_END) != 0 || (n = ftell(in)) < 0 || fseek(in, 0, SEEK_SET) != 0)
		exit(1);
	b.cap = (size_t)n + 2;
	b.d = malloc(b.cap);
	if (!b.d || fread(b.d, 1, (size_t)n, in) != (size_t)n || fclose(in) != 0)
		exit(1);
	/* the header record (after the magic): its length + 2, then field 6 varint 1 after it */
	{
		uint32_t hl = be32_get(b.d + BUNDLE_MAGIC_LEN);
		size_t at = BUNDLE_MAGIC_LEN + 4 + hl;

		memmove(b.d + at + 2, b.d + at, (size_t)n - at);
		b.d[at] = 0x30;
		b.d[at + 1] = 0x01;
		be32_put(b.d + BUNDLE_MAGIC_LEN, hl + 2);
		b.n = (size_t)n + 2;
	}
	write_file("bundle", "bad_header_unknown_field", &b);
	free(b.d);
}

static void bundles(const struct env *e1, const struct env *e2, const struct env *fork1, const struct env *e3)
{
	Strata__Frame f = STRATA__FRAME__INIT, g = STRATA__FRAME__INIT, p = STRATA__FRAME__INIT;
	Strata__Entries en;
	Strata__Evidence ev = STRATA__EVIDENCE__INIT;
	Strata__Ping ping = STRATA__PING__INIT;
	ProtobufCBinaryData v[3] = {bin(e1), bin(e2), bin(e3)};
	struct buf b = {0};

	f = entries_frame(&en, v, 3, 3); /* batch: the running count of entries, as the exporter writes it */
	ev.first = bin(e1);
	ev.second = bin(fork1);
	g.msg_case = STRATA__FRAME__MSG_EVIDENCE;
	g.evidence = &ev;
	p.msg_case = STRATA__FRAME__MSG_PING;
	p.ping = &ping;
	bundle("valid_entries_evidence", 1, (const Strata__Frame *[]){&f, &g}, 2, 3, true);
	bundle("valid_empty", 1, NULL, 0, 0, true);
	bundle("bad_end_count", 1, (const Strata__Frame *[]){&f}, 1, 2, true);
	bundle("bad_no_end", 1, (const Strata__Frame *[]){&f}, 1, 3, false);
	bundle("bad_version", 2, (const Strata__Frame *[]){&f}, 1, 3, true);
	bundle("bad_unexpected_record", 1, (const Strata__Frame *[]){&p}, 1, 0, true);
	v[1] = bin(fork1);
	bundle("bad_fork", 1, (const Strata__Frame *[]){&f}, 1, 3, true);
	v[1] = bin(e3);
	bundle("bad_gap", 1, (const Strata__Frame *[]){&f}, 1, 3, true);
	v[1] = bin(e2);
	en.batch = 0; /* a batch that is not the running count (issue 15: unsigned slack is refused) */
	bundle("bad_batch", 1, (const Strata__Frame *[]){&f}, 1, 3, true);
	en.batch = 3;
	/* not a bundle; a record longer than the limit; a truncated record */
	put(&b, "STRATA-BUNDLE-2\n", 16);
	write_file("bundle", "bad_magic", &b);
	b.n = 0;
	put(&b, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN);
	put(&b, "\x7f\xff\xff\xff", 4);
	write_file("bundle", "bad_record_length", &b);
	b.n = 0;
	put(&b, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN);
	put(&b, "\x00\x00\x01\x00\x08\x01", 6);
	write_file("bundle", "bad_truncated_header", &b);
	free(b.d);
	slack_seeds(&f);
}

/* The root's first trust entry: its own certificate and the child's, so
 * that an audit against the root key can authorize the child's entries. */
static struct env trust_entry(void)
{
	static char *all[] = {"up", "report", "down", "trust"};
	struct keypair *kp = scratch_keypair(SCRATCH_ROOT);
	struct changeset_builder *b = NULL;
	struct env v = {0};
	struct err e = {{0}};
	const struct {
		enum scratch_key k;
		const char *name;
		Strata__Role role;
	} certs[] = {{SCRATCH_ROOT, SCRATCH_ROOT_NAME, STRATA__ROLE__ROLE_ROOT},
		     {SCRATCH_CHILD, SCRATCH_CHILD_NAME, STRATA__ROLE__ROLE_CHILD}};

	check(changeset_builder_new(&b, FEED_TRUST, 1, NULL, 1600000000000ull, &e), &e);
	for (size_t i = 0; i < 2; i++) {
		Strata__Certificate c = STRATA__CERTIFICATE__INIT;
		uint8_t key[KEY_BYTES], buf[256];

		scratch_public(certs[i].k, key);
		c.subject = (ProtobufCBinaryData){KEY_BYTES, key};
		c.name = (char *)certs[i].name;
		c.role = certs[i].role;
		c.feeds = all;
		c.n_feeds = 4;
		c.issued_ms = 1600000000000ull;
		check(changeset_builder_put(b, "cert", key, KEY_BYTES, buf, strata__certificate__pack(&c, buf), &e), &e);
	}
	check(changeset_builder_finish(b, kp, &v.d, &v.n, v.hash, &e), &e);
	changeset_builder_destroy(&b);
	keypair_destroy(&kp);
	return v;
}

/* Evidence of two checkpoints of the child's up feed at size 3 with
 * different roots, each signed by the child (issue 15), beside f. */
static void checkpoint_evidence_seeds(const Strata__Frame *f)
{
	struct keypair *kp = scratch_keypair(SCRATCH_CHILD);
	struct checkpoint cp = {.size = 3};
	Strata__Evidence ev = STRATA__EVIDENCE__INIT;
	Strata__Frame g = STRATA__FRAME__INIT;
	char a[NOTE_MAX], b[NOTE_MAX];
	size_t al, bl;
	struct err e = {{0}};

	memcpy(cp.author, keypair_public(kp), KEY_BYTES);
	strcpy(cp.feed, FEED_UP);
	memset(cp.root, 0x11, sizeof cp.root);
	check(note_sign_checkpoint(kp, &cp, a, &al, &e), &e);
	memset(cp.root, 0x22, sizeof cp.root);
	check(note_sign_checkpoint(kp, &cp, b, &bl, &e), &e);
	ev.first = (ProtobufCBinaryData){al, (uint8_t *)a};
	ev.second = (ProtobufCBinaryData){bl, (uint8_t *)b};
	ev.has_checkpoint = ev.checkpoint = 1;
	g.msg_case = STRATA__FRAME__MSG_EVIDENCE;
	g.evidence = &ev;
	bundle_in("audit", "valid_checkpoint_evidence", 1, (const Strata__Frame *[]){f, &g}, 2, 4, true);
	keypair_destroy(&kp);
}

static void audits(const struct env *e1, const struct env *e2, const struct env *fork1, const struct env *e3)
{
	struct env tr = trust_entry();
	Strata__Frame f = STRATA__FRAME__INIT, g = STRATA__FRAME__INIT;
	Strata__Entries en;
	Strata__Evidence ev = STRATA__EVIDENCE__INIT;
	ProtobufCBinaryData v[4] = {bin(&tr), bin(e1), bin(e2), bin(e3)};

	f = entries_frame(&en, v, 4, 4);
	ev.first = bin(e1);
	ev.second = bin(fork1);
	g.msg_case = STRATA__FRAME__MSG_EVIDENCE;
	g.evidence = &ev;
	bundle_in("audit", "valid_trust_and_entries", 1, (const Strata__Frame *[]){&f}, 1, 4, true);
	bundle_in("audit", "valid_with_evidence", 1, (const Strata__Frame *[]){&f, &g}, 2, 4, true);
	checkpoint_evidence_seeds(&f);
	ev.first = (ProtobufCBinaryData){7, (uint8_t *)"garbage"};
	bundle_in("audit", "bad_evidence_garbage", 1, (const Strata__Frame *[]){&f, &g}, 2, 4, true);
	v[2] = bin(fork1);
	bundle_in("audit", "bad_fork", 1, (const Strata__Frame *[]){&f}, 1, 4, true);
	f = entries_frame(&en, v + 1, 3, 3);
	bundle_in("audit", "bad_no_trust", 1, (const Strata__Frame *[]){&f}, 1, 3, true);
	v[2] = bin(e2);
	bundle_in("audit", "bad_end_count", 1, (const Strata__Frame *[]){&f}, 1, 9, true);
	free(tr.d);
}

/* --- join tokens and short texts (first byte: the parser) --- */

static void text_seed(const char *name, uint8_t which, const char *s)
{
	struct buf b = {0};

	put_byte(&b, which);
	put(&b, s, strlen(s));
	write_file("token", name, &b);
	free(b.d);
}

static void token_seed(const char *name, const Strata__JoinToken *t)
{
	uint8_t raw[1024];
	char text[2048] = "strata-join:";
	size_t n = strata__join_token__pack(t, raw);

	sodium_bin2base64(text + 12, sizeof text - 12, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	text_seed(name, 0, text);
	if (strcmp(name, "token_valid") == 0) { /* as strata invite -o writes it */
		strcat(text, "\n");
		text_seed("token_file_valid", 6, text);
	}
}

static void tokens(void)
{
	Strata__JoinToken t = STRATA__JOIN_TOKEN__INIT;
	uint8_t root[KEY_BYTES], secret[SEED_BYTES];

	scratch_public(SCRATCH_ROOT, root);
	memset(secret, SCRATCH_INVITE, sizeof secret);
	t.endpoint = "tcp://127.0.0.1:7400";
	t.parent = (ProtobufCBinaryData){KEY_BYTES, root};
	t.root = (ProtobufCBinaryData){KEY_BYTES, root};
	t.secret = (ProtobufCBinaryData){SEED_BYTES, secret};
	t.expires_ms = 4102444800000ull;
	t.name = SCRATCH_JOINER_NAME;
	t.role = STRATA__ROLE__ROLE_CHILD;
	token_seed("token_valid", &t);
	t.secret.len = 16;
	token_seed("bad_token_short_secret", &t);
	text_seed("bad_token_prefix", 0, "strata-jion:AAAA");
	text_seed("bad_token_base64", 0, "strata-join:AA==$$");
	text_seed("hex_key", 1, "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff");
	text_seed("bad_hex_odd", 1, "abc");
	text_seed("bad_hex_char", 1, "zz");
	text_seed("date_valid", 2, "2024-02-29");
	text_seed("bad_date_feb30", 2, "2026-02-30");
	text_seed("bad_date_1799", 2, "1799-12-31");
	text_seed("text_org_path", 3, "xiamen/huli/hetong");
	text_seed("bad_text_utf8", 3, "caf\xc3");
	text_seed("bad_text_overlong", 3, "\xc0\xaf/x");
	text_seed("duration_30d", 4, "30d");
	text_seed("duration_90s", 4, "90s");
	text_seed("bad_duration_863000_years", 4, "315360000d");
	text_seed("bad_duration_no_unit", 4, "7");
	text_seed("number_64", 5, "64");
	text_seed("bad_number_overflow", 5, "18446744073709551616");
	text_seed("bad_number_sign", 5, "-1");
	text_seed("token_file_crlf", 6, "  strata-join:AAAA\r\nmore\n");
	text_seed("bad_token_file_control", 6, "strata-join:AA\x01" "AA\n");
}

/* --- CSV imports (first byte: 0 members, 0x80 members --dry-run, then
 * the record types with field tables in registry order: 1 dues,
 * 2 meeting, 3 study, 4 points, 5 request, 6 notice, 7 ack) --- */

static void csv_seed(const char *name, uint8_t which, const char *s)
{
	struct buf b = {0};

	put_byte(&b, which);
	put(&b, s, strlen(s));
	write_file("csv", name, &b);
	free(b.d);
}

static void csvs(void)
{
	csv_seed("member_valid", 0,
		 "id,name,category,joined,status,phone,birth,gender\n"
		 "M0201,Zhou Li,full,2010-05-04,active,13800000000,1980-01-02,female\n"
		 "M0202,\"Wu, Qiang\",probationary,2025-01-01,,,,\n");
	csv_seed("member_dry_run", 0x80, "\xef\xbb\xbfname,id,joined,category\r\nSun Yi,M0203,2000-01-01,full\r\n");
	csv_seed("bad_member_rows", 0,
		 "id,name,category,joined\n"
		 "M0204,Ma Lin,full,2026-02-30\n"
		 "M0204,Ma Lin,full,2020-02-02\n"
		 "M0001,Li Wei,probationary,2001-07-01\n"
		 "M0205,\"unterminated,full,2020-02-02\n");
	/* issue 14: what Excel writes (GBK), yuan and slashed dates, a file in neither encoding */
	csv_seed("member_gbk", 0, "\xb1\xe0\xba\xc5,\xd0\xd5\xc3\xfb,\xc0\xe0\xb1\xf0,\xc8\xeb\xb5\xb3\xc8\xd5\xc6\xda\r\nM0210,\xc0\xee\xce\xb0,\xd5\xfd\xca\xbd\xb5\xb3\xd4\xb1,2001/7/1\r\n,,,\r\n");
	csv_seed("dues_yuan_slashed", 1, "\xe5\x85\x9a\xe5\x91\x98\xe7\xbc\x96\xe5\x8f\xb7,\xe6\x9c\x88\xe4\xbb\xbd,\xe9\x87\x91\xe9\xa2\x9d,\xe7\xbc\xb4\xe7\xba\xb3\xe6\x97\xa5\xe6\x9c\x9f\nM0201,2026/1,12.5,2026\xe5\xb9\xb4""1\xe6\x9c\x88""3\xe6\x97\xa5\nM0202,2026-1,12.505,\n");
	csv_seed("bad_member_latin1", 0, "id,name,category,joined\nM0211,M\xfc,full,2001-01-01\n");
	csv_seed("bad_member_header", 0, "id,name,category,joined,id\nM0206,A,full,2020-01-01\n");
	csv_seed("bad_member_utf8", 0, "id,name,category,joined\nM0207,\xff\xfe,full,2020-01-01\n");
	csv_seed("bad_member_empty", 0, "");
	csv_seed("dues_valid", 1, "member,period,amount,paid,method\nM0001,2024-01,5000,2024-01-15,cash\nM0002,2024-01,300,,\n");
	csv_seed("bad_dues_unknown_member", 1, "member,period,amount\nM9999,2024-13,-5\n");
	csv_seed("meeting_valid", 2,
		 "id,kind,date,topic,present,absent,notes\n"
		 "G1,group-meeting,2024-03-01,Study,\"M0001,M0002\",M0003,M0003: ill | late\n");
	csv_seed("bad_meeting_kind", 2, "id,kind,date,topic\nG2,party,2024-03-01,x\n");
	csv_seed("study_valid", 3, "id,member,course,minutes,score,date\nS1,M0001,History,90,88,2024-04-01\n");
	csv_seed("points_valid", 4, "member,period,points,reason\nM0002,2024-05,-3,absent\n");
	csv_seed("request_valid", 5,
		 "id,title,description,contact,opened,status,notes,closed\n"
		 "R1,Street light,Broken,Mr Lin,2024-06-01,closed,2024-06-02: fixed,2024-06-02\n");
	csv_seed("notice_valid", 6, "id,title,body,due\nN1,Meeting,\"Line one\nline two\",2024-07-01\n");
	csv_seed("bad_ack_sender", 7, "sender,notice,acked\nnothex,N1,2024-07-01\n");
}

int main(int argc, char **argv)
{
	struct keypair *kp;
	struct env e1, e2, fork1, e3;
	uint8_t zero[HASH_BYTES] = {0};

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	root_dir = argv[1];
	kp = scratch_keypair(SCRATCH_CHILD);
	e1 = up_entry(kp, 1, zero, "M0101", "Chen Jing");
	e2 = up_entry(kp, 2, e1.hash, "M0102", "Lin Tao");
	fork1 = up_entry(kp, 1, zero, "M0101", "Chen Jing (forked)");
	e3 = up_entry(kp, 3, e2.hash, "M0103", "Xu Lei");
	keypair_destroy(&kp);
	frames(&e1, &e2, &fork1, &e3);
	answers();
	bundles(&e1, &e2, &fork1, &e3);
	audits(&e1, &e2, &fork1, &e3);
	tokens();
	csvs();
	free(e1.d);
	free(e2.d);
	free(fork1.d);
	free(e3.d);
	return 0;
}
