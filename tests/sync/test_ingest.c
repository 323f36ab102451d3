/* SPDX-License-Identifier: MIT */
/*
 * sync_ingest: what a parent does with entries a certified child sends on
 * the wire. A test client enrolled properly (strata init, invite, join) is
 * driven by hand: it connects with its real key, says Hello, and sends
 * Entries batches built with the protocol module, valid and bad: a forged
 * signature, a broken chain, a feed its certificate does not allow, an
 * entry authored by a key it does not own. Every bad entry is answered
 * with an Error frame naming it, and nothing of it is stored; the valid
 * ones are stored and acknowledged.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

TestSuite(sync_ingest, .init = net_setup, .fini = net_teardown);

#define WAIT_MS (5000 * NET_SLOW)

struct fx {
	struct net_node *city, *c1, *c2;
	struct keypair *k1, *k2;
};

/* The city serving; c1 a child with the default feeds, c2 one that may
 * publish `up` only. Neither runs a daemon: the test speaks for them. */
static void network(struct fx *x)
{
	x->city = net_node_init("city", "xiamen", true, true);
	x->c1 = net_node_init("c1", "xiamen/c1", false, false);
	x->c2 = net_node_init("c2", "xiamen/c2", false, false);
	net_node_start(x->city);
	net_node_join(x->c1, x->city, NULL);
	net_node_join(x->c2, x->city, "--publish", "up", NULL);
	x->k1 = net_node_keypair(x->c1);
	x->k2 = net_node_keypair(x->c2);
}

/* Connects as node n with key pair kp and exchanges Hellos. */
static struct net_client *connect_as(struct fx *x, struct net_node *n, struct keypair *kp)
{
	struct net_client *c = net_client_new_kp(x->city, kp);
	Strata__Frame *f;

	net_client_hello(c, n->key, n->path);
	f = net_client_expect(c, STRATA__FRAME__MSG_HELLO, WAIT_MS);
	cr_assert_not_null(f, "%s got no Hello back from the city:\n%s", n->label, net_diag());
	net_release(f);
	return c;
}

/* Sends one batch and asserts it was acknowledged with these counts. */
static void send_batch(struct net_client *c, uint64_t batch, uint8_t **env, size_t *len, size_t n, unsigned stored,
		       unsigned refused, struct net_reply *r)
{
	net_client_entries(c, batch, env, len, n, r, WAIT_MS);
	cr_assert_not_null(r->ack, "no Ack of batch %llu within %d ms:\n%s", (unsigned long long)batch, WAIT_MS,
			   net_diag());
	cr_assert_eq(r->ack->ack->stored, stored, "batch %llu: %u stored, expected %u", (unsigned long long)batch,
		     r->ack->ack->stored, stored);
	cr_assert_eq(r->ack->ack->refused, refused, "batch %llu: %u refused, expected %u", (unsigned long long)batch,
		     r->ack->ack->refused, refused);
}

/* Asserts that r holds an Error naming (author, feed, seq). */
static const Strata__Error *error_for(const struct net_reply *r, const uint8_t *author, const char *feed, uint64_t seq)
{
	for (size_t i = 0; i < r->n_errors; i++) {
		const Strata__Error *er = r->errors[i]->error;

		if (er->has_author && er->author.len == KEY_BYTES && memcmp(er->author.data, author, KEY_BYTES) == 0 &&
		    er->feed && strcmp(er->feed, feed) == 0 && er->has_seq && er->seq == seq)
			return er;
	}
	cr_assert_fail("no Error frame names the refused entry %s #%llu (%zu Error frames: %s)", feed,
		       (unsigned long long)seq, r->n_errors, r->n_errors ? r->errors[0]->error->reason : "");
	return NULL; /* the reply's frames are the fixture's to free */
}

static void forge(uint8_t **env, size_t *len)
{
	Strata__Envelope *e = strata__envelope__unpack(NULL, *len, *env);

	cr_assert_not_null(e);
	cr_assert_eq(e->signature.len, SIG_BYTES);
	e->signature.data[7] ^= 0x20;
	net_release(*env);
	*len = strata__envelope__get_packed_size(e);
	*env = net_own(malloc(*len), free);
	if (*env)
		strata__envelope__pack(e, *env);
	strata__envelope__free_unpacked(e, NULL);
	cr_assert_not_null(*env);
}

Test(sync_ingest, valid_entries_are_stored_and_acknowledged)
{
	struct fx x = {0};
	struct net_client *c;
	struct net_reply r;
	uint8_t *env[2], h1[HASH_BYTES];
	size_t len[2];

	network(&x);
	c = connect_as(&x, x.c1, x.k1);
	net_entry(x.k1, FEED_UP, 1, NULL, "C1000001", &env[0], &len[0], h1);
	net_entry(x.k1, FEED_UP, 2, h1, "C1000002", &env[1], &len[1], NULL);
	send_batch(c, 1, env, len, 2, 2, 0, &r);
	cr_assert_eq(r.n_errors, 0, "valid entries drew an Error: %s", r.errors[0]->error->reason);
	net_reply_free(&r);
	cr_assert_eq(net_head(x.city, x.c1->key, FEED_UP, NULL), 2);
	cr_assert_eq(net_count(x.city, "member", x.c1->key), 2);

	/* The same again is a no-op, acknowledged as duplicates. */
	send_batch(c, 2, env, len, 2, 0, 0, &r);
	cr_assert_eq(r.ack->ack->duplicates, 2);
	net_reply_free(&r);
	cr_assert_eq(net_head(x.city, x.c1->key, FEED_UP, NULL), 2);
	net_client_free(&c);
	net_stop_all();
}

Test(sync_ingest, forged_signature_is_refused_with_an_error)
{
	struct fx x = {0};
	struct net_client *c;
	struct net_reply r;
	const Strata__Error *er;
	uint8_t *env[2], h1[HASH_BYTES];
	size_t len[2];

	network(&x);
	c = connect_as(&x, x.c1, x.k1);
	/* One batch: a valid seq 1, then seq 2 with a flipped signature bit. */
	net_entry(x.k1, FEED_UP, 1, NULL, "C1000001", &env[0], &len[0], h1);
	net_entry(x.k1, FEED_UP, 2, h1, "C1000002", &env[1], &len[1], NULL);
	forge(&env[1], &len[1]);
	send_batch(c, 1, env, len, 2, 1, 1, &r);
	er = error_for(&r, x.c1->key, FEED_UP, 2);
	cr_assert_eq(er->code, EBADMSG, "code %u for a forged signature: %s", er->code, er->reason);
	cr_assert(net_has(er->reason, "signature"), "the reason does not say what is wrong: %s", er->reason);
	net_reply_free(&r);
	cr_assert_eq(net_head(x.city, x.c1->key, FEED_UP, NULL), 1, "the forged entry was stored");
	cr_assert_eq(net_count(x.city, "member", x.c1->key), 1);
	NET_WAIT(NET_DEADLINE_MS, net_log_has(x.city, "refused from xiamen/c1"), "the city to log the refusal");
	net_client_free(&c);
	net_stop_all();
}

Test(sync_ingest, broken_chain_is_refused_with_an_error)
{
	struct fx x = {0};
	struct net_client *c;
	struct net_reply r;
	const Strata__Error *er;
	uint8_t *env[2], h1[HASH_BYTES], wrong[HASH_BYTES];
	size_t len[2];

	network(&x);
	c = connect_as(&x, x.c1, x.k1);
	net_entry(x.k1, FEED_UP, 1, NULL, "C1000001", &env[0], &len[0], h1);
	send_batch(c, 1, env, len, 1, 1, 0, &r);
	net_reply_free(&r);
	/* seq 2 that names another entry than seq 1 as its prev */
	memcpy(wrong, h1, HASH_BYTES);
	wrong[0] ^= 1;
	net_entry(x.k1, FEED_UP, 2, wrong, "C1000002", &env[1], &len[1], NULL);
	send_batch(c, 2, &env[1], &len[1], 1, 0, 1, &r);
	er = error_for(&r, x.c1->key, FEED_UP, 2);
	cr_assert_eq(er->code, EBADE, "code %u for a broken chain: %s", er->code, er->reason);
	net_reply_free(&r);
	cr_assert_eq(net_head(x.city, x.c1->key, FEED_UP, NULL), 1, "the entry with a wrong prev was stored");
	cr_assert_eq(net_count(x.city, "member", x.c1->key), 1);
	net_client_free(&c);
	net_stop_all();
}

Test(sync_ingest, feed_the_certificate_does_not_allow_is_refused)
{
	struct fx x = {0};
	struct net_client *c;
	struct net_reply r;
	const Strata__Error *er;
	uint8_t *env[2];
	size_t len[2];

	network(&x);
	/* c2 may publish `up` only: a `report` entry is refused, its `up` entry
	 * in the same batch is stored. */
	c = connect_as(&x, x.c2, x.k2);
	net_entry(x.k2, FEED_REPORT, 1, NULL, NULL, &env[0], &len[0], NULL);
	net_entry(x.k2, FEED_UP, 1, NULL, "C2000001", &env[1], &len[1], NULL);
	send_batch(c, 1, env, len, 2, 1, 1, &r);
	er = error_for(&r, x.c2->key, FEED_REPORT, 1);
	cr_assert_eq(er->code, EACCES, "code %u for a feed not allowed: %s", er->code, er->reason);
	cr_assert(net_has(er->reason, "report"), "the reason does not name the feed: %s", er->reason);
	net_reply_free(&r);
	cr_assert_eq(net_head(x.city, x.c2->key, FEED_REPORT, NULL), 0, "the report entry was stored");
	cr_assert_eq(net_head(x.city, x.c2->key, FEED_UP, NULL), 1, "the allowed up entry was not stored");
	net_client_free(&c);
	net_stop_all();
}

Test(sync_ingest, entry_by_a_key_the_client_does_not_own_is_refused)
{
	struct fx x = {0};
	struct net_client *c;
	struct net_reply r;
	struct keypair *stranger;
	uint8_t *env[3];
	size_t len[3];

	network(&x);
	stranger = net_keypair_new();
	c = connect_as(&x, x.c1, x.k1);
	/* Over c1's connection: an entry of a random key, one of c2 (another
	 * certified node, its sibling), and c1's own. */
	net_entry(stranger, FEED_UP, 1, NULL, "XX000001", &env[0], &len[0], NULL);
	net_entry(x.k2, FEED_UP, 1, NULL, "C2000001", &env[1], &len[1], NULL);
	net_entry(x.k1, FEED_UP, 1, NULL, "C1000001", &env[2], &len[2], NULL);
	send_batch(c, 1, env, len, 3, 1, 2, &r);
	error_for(&r, keypair_public(stranger), FEED_UP, 1);
	error_for(&r, x.c2->key, FEED_UP, 1);
	net_reply_free(&r);
	cr_assert_eq(net_head(x.city, keypair_public(stranger), FEED_UP, NULL), 0, "the stranger's entry was stored");
	cr_assert_eq(net_head(x.city, x.c2->key, FEED_UP, NULL), 0, "c2's entry sent by c1 was stored");
	cr_assert_eq(net_head(x.city, x.c1->key, FEED_UP, NULL), 1, "c1's own entry was not stored");
	net_client_free(&c);
	net_stop_all();
}

/* DESIGN.md: "A rejection is answered to the sender with an explicit error
 * message, logged, and counted. Nothing is dropped silently." A second bad
 * entry of the same feed, refused for another reason a moment after the
 * first, must get its own Error too. */
Test(sync_ingest, every_refusal_gets_its_own_error)
{
	struct fx x = {0};
	struct net_client *c;
	struct net_reply r;
	uint8_t *env[3], h1[HASH_BYTES], wrong[HASH_BYTES];
	size_t len[3];

	network(&x);
	c = connect_as(&x, x.c1, x.k1);
	net_entry(x.k1, FEED_UP, 1, NULL, "C1000001", &env[0], &len[0], h1);
	send_batch(c, 1, env, len, 1, 1, 0, &r);
	net_reply_free(&r);
	net_entry(x.k1, FEED_UP, 2, h1, "C1000002", &env[1], &len[1], NULL);
	forge(&env[1], &len[1]);
	send_batch(c, 2, &env[1], &len[1], 1, 0, 1, &r);
	error_for(&r, x.c1->key, FEED_UP, 2);
	net_reply_free(&r);
	memcpy(wrong, h1, HASH_BYTES);
	wrong[0] ^= 1;
	net_entry(x.k1, FEED_UP, 2, wrong, "C1000003", &env[2], &len[2], NULL);
	send_batch(c, 3, &env[2], &len[2], 1, 0, 1, &r);
	error_for(&r, x.c1->key, FEED_UP, 2);
	net_reply_free(&r);
	cr_assert_eq(net_head(x.city, x.c1->key, FEED_UP, NULL), 1);
	net_client_free(&c);
	net_stop_all();
}
