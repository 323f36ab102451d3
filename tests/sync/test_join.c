/* SPDX-License-Identifier: MIT */
/*
 * sync_join: a join token works once, until it expires. An expired token
 * is refused by `strata join` (exit != 0, a message about the token) and,
 * for a client whose clock says otherwise, by the parent at the handshake;
 * a token used once is refused when another fresh node presents it; and a
 * refused join leaves no certificate at the parent and no parent in the
 * node's configuration.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "net.h"

TestSuite(sync_join, .init = net_setup, .fini = net_teardown);

/* `strata invite` at parent for path, with --expires; malloc'd token. */
static char *invite(struct net_node *parent, const char *path, const char *expires)
{
	struct net_run r;
	char *tok;

	net_run(&r, "invite", "-d", parent->dir, "--name", path, "--expires", expires, NULL);
	cr_assert_eq(r.status, 0, "invite: exit %d: %s", r.status, r.err);
	tok = strtok(r.out, "\n");
	cr_assert(tok && strncmp(tok, "strata-join:", 12) == 0, "invite printed no token: %s", r.out);
	tok = net_own(strdup(tok), free);
	net_run_free(&r);
	return tok;
}

static bool conf_has_parent(const struct net_node *n)
{
	char path[512], *s;
	bool r;

	snprintf(path, sizeof path, "%s/strata.conf", n->dir);
	s = net_read_file(path);
	r = strstr(s, "[parent]") != NULL;
	free(s);
	return r;
}

Test(sync_join, expired_token_is_refused)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *late = net_node_init("late", "xiamen/huli", false, false);
	struct net_run r;
	char *tok;

	net_node_start(city);
	tok = invite(city, late->path, "1s");
	net_sleep_ms(2000); /* the token's lifetime, not an assertion */
	net_run(&r, "join", "-d", late->dir, tok, "--timeout", "5", NULL);
	cr_assert_neq(r.status, 0, "join with an expired token succeeded: %s", r.out);
	cr_assert(net_has(r.err, "token"), "the refusal says nothing about the token: %s", r.err);
	cr_assert(net_has(r.err, "expired"), "the refusal does not say the token expired: %s", r.err);
	net_run_free(&r);
	cr_assert(!net_has_cert(city, late->key), "the city certified a node that joined with an expired token");
	cr_assert(!conf_has_parent(late), "a refused join wrote a parent into strata.conf");
	net_stop_all();
}

/* The token's throwaway CURVE key pair, derived from its seed as the
 * joining side does. */
static void token_curve(const char *tok, uint8_t pk[KEY_BYTES], uint8_t sk[KEY_BYTES])
{
	const char *b64 = tok + strlen("strata-join:");
	size_t cap = strlen(b64), bin_len = 0;
	uint8_t *bin = net_own(malloc(cap), free);
	Strata__JoinToken *t;

	cr_assert_not_null(bin);
	cr_assert_eq(sodium_base642bin(bin, cap, b64, cap, NULL, &bin_len, NULL,
				       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
		     0, "the token is not base64url");
	t = strata__join_token__unpack(NULL, bin_len, bin);
	cr_assert_not_null(t, "the token does not decode");
	cr_assert_eq(t->secret.len, 32);
	crypto_box_seed_keypair(pk, sk, t->secret.data);
	strata__join_token__free_unpacked(t, NULL);
	net_release(bin);
}

/* A joining node whose clock is behind does not stop itself: the parent
 * must refuse the expired token's key at the handshake. */
Test(sync_join, expired_token_is_refused_by_the_parent_too)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *late = net_node_init("late", "xiamen/huli", false, false);
	Strata__Frame jf = STRATA__FRAME__INIT, *f;
	Strata__Join j = STRATA__JOIN__INIT;
	uint8_t pk[KEY_BYTES], sk[KEY_BYTES], proof[SIG_BYTES] = {0};
	struct net_client *c;
	char *tok;

	net_node_start(city);
	tok = invite(city, late->path, "1s");
	token_curve(tok, pk, sk);
	net_sleep_ms(2000); /* the token's lifetime, not an assertion */
	c = net_client_new(city, pk, sk);
	j.key.data = late->key;
	j.key.len = KEY_BYTES;
	j.name = late->path;
	j.proof.data = proof;
	j.proof.len = SIG_BYTES;
	jf.msg_case = STRATA__FRAME__MSG_JOIN;
	jf.join = &j;
	(void)net_client_try_send(c, &jf);
	f = net_client_recv(c, 3000 * NET_SLOW);
	cr_assert_null(f, "a client holding an expired token was answered (frame kind %d)", f ? (int)f->msg_case : 0);
	NET_WAIT(NET_DEADLINE_MS, net_log_has(city, "has expired"), "the city to log that the token expired");
	cr_assert(!net_has_cert(city, late->key));
	net_client_free(&c);
	sodium_memzero(sk, sizeof sk);
	net_stop_all();
}

Test(sync_join, used_token_is_refused_to_another_node)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *first = net_node_init("first", "xiamen/huli", false, false);
	struct net_node *second = net_node_init("second", "xiamen/huli", false, false);
	struct net_run r;
	char *tok;

	net_node_start(city);
	tok = invite(city, "xiamen/huli", "1h");
	net_run(&r, "join", "-d", first->dir, tok, NULL);
	cr_assert_eq(r.status, 0, "the first join failed: %s\n%s", r.err, net_diag());
	net_run_free(&r);
	cr_assert(net_has_cert(city, first->key), "the city holds no certificate for the first node");

	net_run(&r, "join", "-d", second->dir, tok, "--timeout", "5", NULL);
	cr_assert_neq(r.status, 0, "a second node joined with a used token: %s", r.out);
	cr_assert(net_has(r.err, "token"), "the refusal says nothing about the token: %s", r.err);
	net_run_free(&r);
	cr_assert(!net_has_cert(city, second->key), "the city certified a second node with a used token");
	cr_assert(!conf_has_parent(second), "a refused join wrote a parent into strata.conf");
	NET_WAIT(NET_DEADLINE_MS, net_log_has(city, "already used"), "the city to log that the token was used");

	/* The first node, certified, is admitted with its own key. */
	net_node_start(first);
	NET_WAIT(NET_DEADLINE_MS, net_log_has(city, "link from xiamen/huli is up"), "the first node's link to come up");
	net_stop_all();
}
