/* SPDX-License-Identifier: MIT */
/*
 * faults_hostile: peers that misbehave on purpose, against a serving city
 * that also has an honest street attached (a real `strata serve` daemon).
 * Each test drives a hostile client by hand on the wire and checks three
 * things: the city stays responsive to its other link (a member the street
 * adds reaches the city, `strata status` answers), it stores nothing bad,
 * and its log says why it refused. (A client with a random key is
 * tests/sync/test_handshake.c; forged and misrouted entries are
 * tests/sync/test_ingest.c.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zstd.h>

#include "net.h"

TestSuite(faults_hostile, .init = net_setup, .fini = net_teardown);

#define WAIT_MS (5000 * NET_SLOW)

struct fx {
	struct net_node *city, *street, *h;
	struct keypair *hk;
	unsigned added; /* members the street has added */
};

/* The city serving with the street attached and serving; h enrolled as a
 * child of the city (a real certificate) but run by the test. */
static void network(struct fx *x)
{
	x->city = net_node_init("city", "xiamen", true, true);
	x->street = net_node_init("street", "xiamen/siming", false, false);
	x->h = net_node_init("h", "xiamen/hostile", false, false);
	net_node_start(x->city);
	net_node_join(x->street, x->city, NULL);
	net_node_join(x->h, x->city, NULL);
	net_node_start(x->street);
	x->hk = net_node_keypair(x->h);
}

/* The street adds a member; asserts that it reaches the city in time and
 * that the city's control socket answers. */
static void honest_link_works(struct fx *x, const char *when)
{
	char id[32];
	size_t before = net_count(x->city, "member", x->street->key);
	json_t *st;

	snprintf(id, sizeof id, "S%06u", ++x->added);
	net_ok("member", "add", "-d", x->street->dir, "--id", id, "--name", "Honest Member", "--category", "full",
	       "--joined", "2020-01-01", NULL);
	NET_WAIT(NET_DEADLINE_MS, net_count(x->city, "member", x->street->key) == before + 1,
		 "the street's member %s did not reach the city %s", id, when);
	st = net_node_status(x->city);
	cr_assert(json_is_array(json_object_get(json_object_get(st, "daemon"), "links")),
		  "strata status of the city does not show its daemon's links %s", when);
	net_release(st);
}

static struct net_client *connect_hello(struct fx *x)
{
	struct net_client *c = net_client_new_kp(x->city, x->hk);
	Strata__Frame *f;

	net_client_hello(c, x->h->key, x->h->path);
	f = net_client_expect(c, STRATA__FRAME__MSG_HELLO, WAIT_MS);
	cr_assert_not_null(f, "the hostile client got no Hello back:\n%s", net_diag());
	net_release(f);
	return c;
}

static size_t file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n = -1;

	if (f && fseek(f, 0, SEEK_END) == 0)
		n = ftell(f);
	if (f)
		fclose(f);
	return n < 0 ? 0 : (size_t)n;
}

/* A certified client replaying entries: its own, already stored, come back
 * as duplicates and change nothing; the street's, which do not come through
 * its link, are refused with an Error naming them. */
Test(faults_hostile, replayed_old_entries_change_nothing)
{
	struct fx x = {0};
	struct net_client *c;
	struct net_reply r;
	uint8_t *env[3], h1[HASH_BYTES], h2[HASH_BYTES];
	size_t len[3];
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	const uint8_t *b;
	size_t bl;
	uint8_t *street_env;

	network(&x);
	honest_link_works(&x, "at the start");
	c = connect_hello(&x);
	net_entry(x.hk, "up", 1, NULL, "H0000001", &env[0], &len[0], h1);
	net_entry(x.hk, "up", 2, h1, "H0000002", &env[1], &len[1], h2);
	net_entry(x.hk, "up", 3, h2, "H0000003", &env[2], &len[2], NULL);
	net_client_entries(c, 1, env, len, 3, &r, WAIT_MS);
	cr_assert_not_null(r.ack, "no Ack of the first batch:\n%s", net_diag());
	cr_assert_eq(r.ack->ack->stored, 3);
	net_reply_free(&r);

	/* The same entries, over and over, in new batches and a new connection. */
	for (int round = 0; round < 20; round++) {
		if (round == 10) {
			net_client_free(&c);
			c = connect_hello(&x);
		}
		net_client_entries(c, 2 + (uint64_t)round, env, len, 3, &r, WAIT_MS);
		cr_assert_not_null(r.ack, "no Ack of replay %d:\n%s", round, net_diag());
		cr_assert_eq(r.ack->ack->stored, 0, "replay %d stored %u entries", round, r.ack->ack->stored);
		cr_assert_eq(r.ack->ack->duplicates, 3, "replay %d: %u duplicates", round, r.ack->ack->duplicates);
		net_reply_free(&r);
	}
	cr_assert_eq(net_head(x.city, x.h->key, "up", NULL), 3);
	cr_assert_eq(net_count(x.city, "member", x.h->key), 3);

	/* The street's first entry, taken from its store and replayed by h. */
	char sp[512];

	snprintf(sp, sizeof sp, "%s/store", x.street->dir);
	cr_assert_eq(store_open(&s, sp, STORE_RDONLY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(s, false, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_log_get(t, x.street->key, "up", 1, &b, &bl, NULL, &e), 0, "%s", e.msg);
	street_env = net_own(malloc(bl), free);
	memcpy(street_env, b, bl);
	store_txn_abort(&t);
	store_close(&s);
	uint64_t street_head = net_head(x.city, x.street->key, "up", NULL);

	net_client_entries(c, 100, &street_env, &bl, 1, &r, WAIT_MS);
	cr_assert_not_null(r.ack, "no Ack of the street's replayed entry:\n%s", net_diag());
	cr_assert_eq(r.ack->ack->stored, 0);
	net_reply_free(&r);
	cr_assert_eq(net_head(x.city, x.street->key, "up", NULL), street_head);
	honest_link_works(&x, "after the replays");
	net_client_free(&c);
	net_stop_all();
}

/* One message just under the frame limit that is not a frame is refused
 * with a reason; one over the limit is dropped by the transport before it
 * is read into memory. Neither disturbs the street. */
Test(faults_hostile, oversized_messages_are_refused)
{
	struct fx x = {0};
	struct net_client *c;
	size_t big = (16u << 20), over = (19u << 20);
	uint8_t *buf = net_own(malloc(over), free);
	Strata__Frame *f;

	cr_assert_not_null(buf);
	memset(buf, 0xA5, over);
	network(&x);
	c = connect_hello(&x);
	net_client_send_raw(c, buf, big);
	f = net_client_expect(c, STRATA__FRAME__MSG_ERROR, WAIT_MS);
	cr_assert_not_null(f, "no Error for a 16 MiB message that is not a frame:\n%s", net_diag());
	net_release(f);
	NET_WAIT(WAIT_MS, net_log_has(x.city, "refused a message from xiamen/hostile"),
		 "the city's log does not say it refused the message");
	honest_link_works(&x, "after a 16 MiB bad message");

	cr_assert(net_client_try_send_raw(c, buf, over), "a 19 MiB message could not be queued");
	honest_link_works(&x, "after a 19 MiB message");
	NET_WAIT(WAIT_MS, net_log_has(x.city, "the connection of xiamen/hostile closed"),
		 "the city's log does not say the connection was closed");
	cr_assert_eq(net_head(x.city, x.h->key, "up", NULL), 0, "something of the hostile client was stored");
	net_client_free(&c);
	net_stop_all();
}

/* A million tiny messages (garbage and pings, mixed): the street's writes
 * still arrive meanwhile, the log does not grow by a line per message, and
 * afterwards the same client's valid entries are taken. */
Test(faults_hostile, a_million_tiny_messages)
{
	struct fx x = {0};
	struct net_client *c;
	const unsigned n = 1000000;
	struct net_reply r;
	uint8_t *env;
	size_t len, log0;
	uint8_t ping[16];
	size_t ping_len;
	Strata__Frame pf = STRATA__FRAME__INIT;
	Strata__Ping p = STRATA__PING__INIT;

	pf.msg_case = STRATA__FRAME__MSG_PING;
	pf.ping = &p;
	ping_len = strata__frame__get_packed_size(&pf);
	cr_assert_leq(ping_len, sizeof ping);
	strata__frame__pack(&pf, ping);

	network(&x);
	c = connect_hello(&x);
	log0 = file_size(x.city->log);
	for (unsigned i = 0; i < n; i++) {
		static const uint8_t junk[3] = {0xff, 0x01, 0x7f};

		if (i % 2)
			net_client_send_raw(c, ping, ping_len);
		else
			net_client_send_raw(c, junk, 1 + i % 3);
		if (i == n / 2)
			honest_link_works(&x, "during the flood");
	}
	honest_link_works(&x, "after the flood");
	/* The log says what happened, but not once per message. */
	NET_WAIT(NET_DEADLINE_MS, net_log_has(x.city, "more refusals from xiamen/hostile"),
		 "the city's log does not summarise the refusals");
	cr_assert_lt(file_size(x.city->log) - log0, (size_t)1 << 20, "the flood grew the city's log by %zu bytes",
		     file_size(x.city->log) - log0);

	/* The link itself still works: one valid entry is stored. */
	net_entry(x.hk, "up", 1, NULL, "H0000001", &env, &len, NULL);
	net_client_entries(c, 1, &env, &len, 1, &r, NET_DEADLINE_MS);
	cr_assert_not_null(r.ack, "no Ack after the flood:\n%s", net_diag());
	cr_assert_eq(r.ack->ack->stored, 1);
	net_reply_free(&r);
	net_client_free(&c);
	net_stop_all();
}

/* A certified client that says Hello and then nothing, and a TCP
 * connection that never even starts the handshake: the street is not held
 * up, and the silent link is declared down after the dead interval. */
Test(faults_hostile, silent_connections_hold_nothing_up)
{
	struct fx x = {0};
	struct net_client *c;
	int port = 0, fd;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	network(&x);
	c = connect_hello(&x);
	cr_assert_eq(sscanf(x.city->listen, "tcp://127.0.0.1:%d", &port), 1);
	a.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "connect: %s", strerror(errno));
	honest_link_works(&x, "with two silent connections open");
	NET_WAIT(15000 * NET_SLOW, net_log_has(x.city, "link from xiamen/hostile is down"),
		 "the city did not declare the silent link down");
	honest_link_works(&x, "after the silent link was dropped");
	close(fd);
	net_client_free(&c);
	net_stop_all();
}

/* Frame{zstd = z}, packed (owned by the fixture). */
static uint8_t *zstd_frame(const void *z, size_t zlen, size_t *len)
{
	Strata__Frame f = STRATA__FRAME__INIT;
	uint8_t *out;

	f.msg_case = STRATA__FRAME__MSG_ZSTD;
	f.zstd.data = (uint8_t *)z;
	f.zstd.len = zlen;
	*len = strata__frame__get_packed_size(&f);
	out = net_own(malloc(*len), free);
	strata__frame__pack(&f, out);
	return out;
}

/* plain compressed in one zstd frame (owned by the fixture); with_size
 * false leaves the content size out, as a stream does. */
static uint8_t *zstd_of(const void *plain, size_t len, bool with_size, size_t *zlen)
{
	size_t cap = ZSTD_compressBound(len);
	uint8_t *z = net_own(malloc(cap), free);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_inBuffer in = {plain, len, 0};
	ZSTD_outBuffer out = {z, cap, 0};
	size_t r;

	cr_assert_not_null(cc);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, with_size);
	if (with_size)
		ZSTD_CCtx_setPledgedSrcSize(cc, len);
	r = ZSTD_compressStream2(cc, &out, &in, ZSTD_e_end);
	cr_assert(!ZSTD_isError(r) && r == 0, "zstd: %s", ZSTD_isError(r) ? ZSTD_getErrorName(r) : "not flushed");
	ZSTD_freeCCtx(cc);
	*zlen = out.pos;
	return z;
}

/* Sends Frame{zstd = z} and expects an Error whose reason has want. */
static void refused_with(struct net_client *c, const void *z, size_t zlen, const char *want)
{
	Strata__Frame *f;
	size_t len;
	const uint8_t *raw = zstd_frame(z, zlen, &len);

	net_client_send_raw(c, raw, len);
	f = net_client_expect(c, STRATA__FRAME__MSG_ERROR, WAIT_MS);
	cr_assert_not_null(f, "no Error for a compressed frame (%s):\n%s", want, net_diag());
	cr_assert(net_has(f->error->reason, want), "the Error says \"%s\", not \"%s\"", f->error->reason, want);
	net_release(f);
}

/* zstd-compressed frames (Hello accept "zstd") from a hostile client: one
 * that does not decompress, one without its size, one stating more than
 * the frame limit (a bomb: 19 MiB of zeros in a few hundred bytes), a
 * compressed frame inside another, and a forged entry inside a valid one
 * are refused with their reason; a valid compressed batch is stored. */
Test(faults_hostile, compressed_frames_are_bounded_and_checked)
{
	struct fx x = {0};
	struct net_client *c;
	Strata__Frame ef = STRATA__FRAME__INIT, *f;
	Strata__Entries en = STRATA__ENTRIES__INIT;
	uint8_t *env[2], *plain, *z, *raw, h1[HASH_BYTES];
	size_t len[2], plain_len, zlen, raw_len, bomb = 19u << 20;

	network(&x);
	c = connect_hello(&x);

	/* a valid batch of two entries, compressed */
	net_entry(x.hk, "up", 1, NULL, "H0000001", &env[0], &len[0], h1);
	net_entry(x.hk, "up", 2, h1, "H0000002", &env[1], &len[1], NULL);
	en.batch = 1;
	en.n_envelopes = 2;
	en.envelopes = (ProtobufCBinaryData[]){{len[0], env[0]}, {len[1], env[1]}};
	ef.msg_case = STRATA__FRAME__MSG_ENTRIES;
	ef.entries = &en;
	plain_len = strata__frame__get_packed_size(&ef);
	plain = net_own(malloc(plain_len), free);
	strata__frame__pack(&ef, plain);
	z = zstd_of(plain, plain_len, true, &zlen);
	raw = zstd_frame(z, zlen, &raw_len);
	net_client_send_raw(c, raw, raw_len);
	f = net_client_expect(c, STRATA__FRAME__MSG_ACK, WAIT_MS);
	cr_assert_not_null(f, "no Ack of a compressed batch:\n%s", net_diag());
	cr_assert_eq(f->ack->stored, 2, "a compressed batch stored %u of 2 entries", f->ack->stored);
	net_release(f);

	/* not zstd at all, and a valid one cut short */
	refused_with(c, "not zstd at all", 15, "not a zstd frame that states its size");
	refused_with(c, z, zlen - 3, "does not decompress");
	/* no stated size */
	z = zstd_of(plain, plain_len, false, &zlen);
	refused_with(c, z, zlen, "not a zstd frame that states its size");
	/* a bomb */
	uint8_t *zeros = net_own(calloc(1, bomb), free);

	z = zstd_of(zeros, bomb, true, &zlen);
	cr_assert_lt(zlen, (size_t)4096, "the bomb compressed to %zu bytes", zlen);
	refused_with(c, z, zlen, "exceeds the limit");
	/* nested */
	z = zstd_of(plain, plain_len, true, &zlen);
	raw = zstd_frame(z, zlen, &raw_len);
	z = zstd_of(raw, raw_len, true, &zlen);
	refused_with(c, z, zlen, "holds another compressed frame");

	/* a forged entry (a flipped signature byte) inside a valid compressed batch */
	uint8_t *forged;
	size_t flen;

	net_entry(x.hk, "up", 3, NULL, "H0000003", &forged, &flen, NULL);
	forged[flen - 1] ^= 1;
	en.batch = 2;
	en.n_envelopes = 1;
	en.envelopes = (ProtobufCBinaryData[]){{flen, forged}};
	plain_len = strata__frame__get_packed_size(&ef);
	plain = net_own(malloc(plain_len), free);
	strata__frame__pack(&ef, plain);
	z = zstd_of(plain, plain_len, true, &zlen);
	raw = zstd_frame(z, zlen, &raw_len);
	net_client_send_raw(c, raw, raw_len);
	f = net_client_expect(c, STRATA__FRAME__MSG_ACK, WAIT_MS);
	cr_assert_not_null(f, "no Ack of a compressed batch with a forged entry:\n%s", net_diag());
	cr_assert_eq(f->ack->stored, 0, "a forged entry was stored");
	net_release(f);

	cr_assert_eq(net_head(x.city, x.h->key, "up", NULL), 2, "the city holds more of the hostile client than its 2 valid entries");
	NET_WAIT(WAIT_MS, net_log_has(x.city, "compressed frame"), "the city's log does not say why it refused");
	honest_link_works(&x, "after the compressed frames");
	net_client_free(&c);
	net_stop_all();
}

/* Packs Entries{batch, envelopes} as a plain frame (owned by the fixture). */
static uint8_t *entries_frame(uint64_t batch, uint8_t *const *env, const size_t *len, size_t n, size_t *out_len)
{
	Strata__Frame ef = STRATA__FRAME__INIT;
	Strata__Entries en = STRATA__ENTRIES__INIT;
	ProtobufCBinaryData *bd = net_own(calloc(n, sizeof *bd), free);
	uint8_t *out;

	for (size_t i = 0; i < n; i++)
		bd[i] = (ProtobufCBinaryData){len[i], env[i]};
	en.batch = batch;
	en.n_envelopes = n;
	en.envelopes = bd;
	ef.msg_case = STRATA__FRAME__MSG_ENTRIES;
	ef.entries = &en;
	*out_len = strata__frame__get_packed_size(&ef);
	out = net_own(malloc(*out_len), free);
	strata__frame__pack(&ef, out);
	return out;
}

/* Frames sent back to back behind a batch arrive while it commits, and the
 * city reads them ahead to prepare the next batch on its other core: a
 * frame that does not decompress, a valid message that is not a batch (a
 * Want), and batches after them must each be handled exactly as when they
 * come one at a time. Every batch is acknowledged, the bad frame refused
 * with its reason, the Want answered, and nothing is lost or stored twice. */
Test(faults_hostile, frames_behind_a_batch_are_each_handled)
{
	struct fx x = {0};
	struct net_client *c;
	enum { N1 = 400, N2 = 3, N3 = 2, N = N1 + N2 + N3 };
	uint8_t *env[N], prev[HASH_BYTES], *raw;
	size_t len[N], raw_len, zlen, acks = 0, stored = 0, errors = 0, entries_back = 0;
	char id[32];
	Strata__Frame wf = STRATA__FRAME__INIT, *f;
	Strata__Want w = STRATA__WANT__INIT;
	uint64_t deadline;

	network(&x);
	c = connect_hello(&x);
	for (size_t i = 0; i < N; i++) {
		snprintf(id, sizeof id, "B%07zu", i + 1);
		net_entry(x.hk, "up", i + 1, i ? prev : NULL, id, &env[i], &len[i], prev);
	}
	/* batch 1: big enough that the rest arrives during its commit */
	raw = entries_frame(1, env, len, N1, &raw_len);
	net_client_send_raw(c, raw, raw_len);
	/* a frame that does not decompress */
	raw = entries_frame(99, env, len, 2, &raw_len);
	{
		const uint8_t *z = zstd_of(raw, raw_len, true, &zlen);
		const uint8_t *bad = zstd_frame(z, zlen - 3, &raw_len);

		net_client_send_raw(c, bad, raw_len);
	}
	/* batch 2, compressed */
	raw = entries_frame(2, env + N1, len + N1, N2, &raw_len);
	{
		const uint8_t *z = zstd_of(raw, raw_len, true, &zlen);

		raw = zstd_frame(z, zlen, &raw_len);
	}
	net_client_send_raw(c, raw, raw_len);
	/* a Want of the client's own feed from its first entry: not a batch */
	w.author.data = x.h->key;
	w.author.len = KEY_BYTES;
	w.feed = "up";
	w.from = 1;
	w.to = 0;
	wf.msg_case = STRATA__FRAME__MSG_WANT;
	wf.want = &w;
	net_client_send(c, &wf);
	/* batch 3 */
	raw = entries_frame(3, env + N1 + N2, len + N1 + N2, N3, &raw_len);
	net_client_send_raw(c, raw, raw_len);

	deadline = net_now_ms() + 4 * WAIT_MS;
	while (acks < 3 && net_now_ms() < deadline) {
		if (!(f = net_client_recv(c, 200)))
			continue;
		if (f->msg_case == STRATA__FRAME__MSG_ACK) {
			acks++;
			stored += f->ack->stored;
		} else if (f->msg_case == STRATA__FRAME__MSG_ERROR) {
			cr_assert(net_has(f->error->reason, "does not decompress"),
				  "an Error other than for the broken frame: \"%s\"", f->error->reason);
			errors++;
		} else if (f->msg_case == STRATA__FRAME__MSG_ENTRIES) {
			entries_back += f->entries->n_envelopes;
		}
		net_release(f);
	}
	cr_assert_eq(acks, 3, "%zu of 3 batches were acknowledged:\n%s", acks, net_diag());
	cr_assert_eq(stored, (size_t)N, "the batches stored %zu of %d entries", stored, N);
	cr_assert_eq(errors, 1, "the frame that does not decompress got %zu Errors", errors);
	cr_assert_eq(net_head(x.city, x.h->key, "up", NULL), (uint64_t)N, "the city's head of the client is not %d", N);
	NET_WAIT(WAIT_MS, net_log_has(x.city, "does not decompress"), "the city's log does not say why it refused");
	honest_link_works(&x, "after frames behind a batch");
	net_client_free(&c);
	net_stop_all();
}

/* Evidence that is not (two equal garbage envelopes), sent over and over:
 * every one used to be logged ("not evidence of equivocation"); now it is a
 * refusal of the link, logged 20 times in a window at most, then summed. */
Test(faults_hostile, bogus_evidence_is_logged_at_a_bounded_rate)
{
	struct fx x = {0};
	struct net_client *c;
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Evidence ev = STRATA__EVIDENCE__INIT;
	uint8_t junk[8] = "notenvl";
	size_t logged;
	char *log;

	network(&x);
	c = connect_hello(&x);
	ev.first.data = ev.second.data = junk;
	ev.first.len = ev.second.len = sizeof junk;
	f.msg_case = STRATA__FRAME__MSG_EVIDENCE;
	f.evidence = &ev;
	for (int i = 0; i < 200; i++)
		net_client_send(c, &f);
	honest_link_works(&x, "after 200 bogus proofs"); /* the city has read them by now */
	NET_WAIT(NET_DEADLINE_MS, net_log_has(x.city, "more refusals from xiamen/hostile suppressed"),
		 "the city's log does not summarise the bogus proofs");
	log = net_read_file(x.city->log);
	logged = 0;
	for (const char *p = log; (p = strstr(p, "not evidence of equivocation")); p++)
		logged++;
	free(log);
	cr_assert_leq(logged, 20, "%zu bogus proofs of one link logged (20 a window at most)", logged);
	net_client_free(&c);
	net_stop_all();
}
