/* SPDX-License-Identifier: MIT */
/*
 * sync_handshake: the ZAP handler admits only keys the node certified. A
 * client with a random CURVE key, connecting to a serving node with the
 * right server key, is refused at the handshake: nothing comes back,
 * nothing it sends is stored, and the node logs the refusal. The same
 * client code with a certified key is answered, so the silence is the
 * refusal and not a broken client.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "net.h"

TestSuite(sync_handshake, .init = net_setup, .fini = net_teardown);

static bool same_heads(const struct store_head *a, size_t na, const struct store_head *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (memcmp(a[i].author, b[i].author, KEY_BYTES) || strcmp(a[i].feed, b[i].feed) || a[i].seq != b[i].seq ||
		    memcmp(a[i].hash, b[i].hash, HASH_BYTES))
			return false;
	return true;
}

Test(sync_handshake, uncertified_key_is_refused_and_nothing_it_sends_is_stored)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *street = net_node_init("street", "xiamen/huli", false, false);
	struct store_head *before = NULL, *after = NULL;
	size_t nbefore, nafter;
	uint8_t pk_z85[41], sk_z85[41], pk[KEY_BYTES], sk[KEY_BYTES];
	struct keypair *kp, *own;
	struct net_client *c;
	Strata__Frame *f;
	uint8_t *env;
	size_t len;

	net_node_start(city);
	net_node_join(street, city, NULL); /* the city holds a trust feed and a certificate now */
	nbefore = net_heads(city, &before);
	cr_assert_gt(nbefore, 0);

	/* A stranger: a random CURVE key pair, the city's real server key. */
	cr_assert_eq(zmq_curve_keypair((char *)pk_z85, (char *)sk_z85), 0, "zmq_curve_keypair: %s",
		     zmq_strerror(zmq_errno()));
	cr_assert_not_null(zmq_z85_decode(pk, (char *)pk_z85));
	cr_assert_not_null(zmq_z85_decode(sk, (char *)sk_z85));
	c = net_client_new(city, pk, sk);
	/* What it would say if let in: a Hello naming some key, an entry
	 * signed by a key of its own, and some bytes. */
	kp = net_keypair_new();
	{
		Strata__Frame ef = STRATA__FRAME__INIT;
		Strata__Entries en = STRATA__ENTRIES__INIT;
		ProtobufCBinaryData b;

		net_entry(kp, FEED_UP, 1, NULL, "X000001", &env, &len, NULL);
		b.data = env;
		b.len = len;
		en.batch = 1;
		en.n_envelopes = 1;
		en.envelopes = &b;
		ef.msg_case = STRATA__FRAME__MSG_ENTRIES;
		ef.entries = &en;
		/* Whether libzmq even queues these is its business: none may
		 * reach the node, and nothing may come back. */
		(void)net_client_try_send(c, net_hello_frame(keypair_public(kp), "xiamen/huli"));
		(void)net_client_try_send(c, &ef);
		(void)net_client_try_send_raw(c, "\x0a\x03zzz garbage", 12);
	}
	f = net_client_recv(c, 3000 * NET_SLOW);
	cr_assert_null(f, "an uncertified client received a frame (kind %d)", f ? (int)f->msg_case : 0);
	NET_WAIT(NET_DEADLINE_MS, net_log_has(city, "refused a connection"), "the city to log the refusal");
	cr_assert(net_log_has(city, "not certified"), "the refusal names no reason:\n%s", net_diag());
	nafter = net_heads(city, &after);
	cr_assert(same_heads(before, nbefore, after, nafter), "the city's heads changed after an uncertified client "
							       "sent to it (%zu feeds before, %zu after)",
		  nbefore, nafter);
	cr_assert_eq(net_head(city, keypair_public(kp), FEED_UP, NULL), 0, "the stranger's entry was stored");
	net_client_free(&c);

	/* The control: the street's real key gets a Hello back. */
	own = net_node_keypair(street);
	c = net_client_new_kp(city, own);
	net_client_hello(c, street->key, street->path);
	f = net_client_expect(c, STRATA__FRAME__MSG_HELLO, 5000 * NET_SLOW);
	cr_assert_not_null(f, "a certified client got no Hello back:\n%s", net_diag());
	cr_assert_eq(f->hello->node.len, KEY_BYTES);
	cr_assert(memcmp(f->hello->node.data, city->key, KEY_BYTES) == 0, "the Hello names another key than the city's");
	net_client_free(&c);
	net_stop_all();
}

static size_t count_lines(const struct net_node *n, const char *needle)
{
	char *s = net_read_file(n->log);
	size_t k = 0;

	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		k++;
	free(s);
	return k;
}

struct summary {
	const struct net_node *n;
};

static bool has_summary(void *arg)
{
	return net_log_has(((struct summary *)arg)->n, "more refusals from 127.0.0.1 suppressed");
}

/* One client making handshake after handshake, each with a new random
 * CURVE key (issue 12, item 8: 4,000 log lines in 10 s before): the node
 * counts refusals by the client's address, not by key, so it logs the
 * first 20 of the window and then one line saying how many more there were. */
Test(sync_handshake, handshakes_with_random_keys_are_logged_at_a_bounded_rate)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct summary sm = {city};
	struct net_client *c[24];
	size_t refused;

	net_node_start(city);
	/* Each client retries its refused handshake every 100 ms (ZeroMQ's
	 * reconnection): a few hundred handshakes in 2 s. */
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		uint8_t pk_z85[41], sk_z85[41], pk[KEY_BYTES], sk[KEY_BYTES];

		cr_assert_eq(zmq_curve_keypair((char *)pk_z85, (char *)sk_z85), 0);
		cr_assert_not_null(zmq_z85_decode(pk, (char *)pk_z85));
		cr_assert_not_null(zmq_z85_decode(sk, (char *)sk_z85));
		c[i] = net_client_new(city, pk, sk);
	}
	net_sleep_ms(2000);
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		net_client_free(&c[i]);
	/* Every handshake was refused, and each refusal counted: the summary
	 * comes once the 10 s window ends. */
	cr_assert(net_wait_until(has_summary, &sm, 15000 * NET_SLOW), "no summary of the suppressed refusals:\n%s",
		  net_diag());
	refused = count_lines(city, "refused a connection from 127.0.0.1");
	cr_assert_geq(refused, 1, "no refusal was logged:\n%s", net_diag());
	cr_assert_leq(refused, 20, "%zu refusals of one address logged in one window (20 at most)", refused);
	net_stop_all();
}
