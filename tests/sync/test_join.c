/* SPDX-License-Identifier: MIT */
/*
 * sync_join: a join token works once, until it expires. An expired token
 * is refused by `strata join` (exit != 0, a message about the token) and,
 * for a client whose clock says otherwise, by the parent at the handshake;
 * a token used once is refused when another fresh node presents it; and a
 * refused join leaves no certificate at the parent and no parent in the
 * node's configuration. The token never travels on a command line: join
 * reads it from a file only its owner can read, standard input or the
 * environment. A peer token on a node that is no root is refused before
 * anything is used or written; and a join whose answer was lost after the
 * parent certified the key completes when run again (with the same token
 * within its window, or a new one), while the used token stays bound to
 * that key.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* `strata join -d DIR --token-file FILE` with the token in a 0600 file;
 * timeout "" for the default. */
static void join_with_file(struct net_run *r, const struct net_node *n, const char *tok, const char *timeout)
{
	char file[300];

	snprintf(file, sizeof file, "%s.token", n->dir);
	net_write_secret(file, tok);
	if (timeout[0])
		net_run(r, "join", "-d", n->dir, "--token-file", file, "--timeout", timeout, NULL);
	else
		net_run(r, "join", "-d", n->dir, "--token-file", file, NULL);
	unlink(file);
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
	join_with_file(&r, late, tok, "5");
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
	join_with_file(&r, first, tok, "");
	cr_assert_eq(r.status, 0, "the first join failed: %s\n%s", r.err, net_diag());
	net_run_free(&r);
	cr_assert(net_has_cert(city, first->key), "the city holds no certificate for the first node");

	join_with_file(&r, second, tok, "5");
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

/* Issue 11 item 4: a peer token is for the root of another trust domain.
 * On a node made without --root, join used to be answered, write [parent]
 * and then crash (SIGSEGV) printing a root it does not have. Now it is
 * refused before the parent is asked: the token stays unused, strata.conf
 * and the store are unchanged, and the node still joins with a child
 * token. */
Test(sync_join, peer_token_on_a_node_that_is_no_root_is_refused_cleanly)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	/* a peer's path lies outside the domain's tree (invite refuses one inside) */
	struct net_node *bad = net_node_init("bad", "xmfy-hospital", false, false);
	struct net_node *hosp = net_node_init("hosp", "xmfy-hospital", true, false);
	char conf[300], *before, *after;
	struct net_run r;
	char *tok;

	net_node_start(city);
	net_run(&r, "invite", "-d", city->dir, "--name", bad->path, "--role", "peer", NULL);
	cr_assert_eq(r.status, 0, "invite: %s", r.err);
	tok = net_own(strdup(strtok(r.out, "\n")), free);
	net_run_free(&r);
	snprintf(conf, sizeof conf, "%s/strata.conf", bad->dir);
	before = net_own(net_read_file(conf), free);

	join_with_file(&r, bad, tok, "5");
	cr_assert_eq(r.status, 2, "join with a peer token on a non-root node: exit %d (128+11 is a crash): %s",
		     r.status, r.err);
	cr_assert(net_has(r.err, "peer token") && net_has(r.err, "no root"), "the refusal does not say why: %s",
		  r.err);
	net_run_free(&r);
	after = net_own(net_read_file(conf), free);
	cr_assert_str_eq(after, before, "a refused join changed strata.conf");
	cr_assert(!net_has_cert(city, bad->key), "the city certified a node that cannot use a peer token");

	/* nothing half-done: the token was never used, so the root it was meant
	 * for still joins with it */
	join_with_file(&r, hosp, tok, "");
	cr_assert_eq(r.status, 0, "the peer token was spent by the refused join: %s\n%s", r.err, net_diag());
	net_run_free(&r);
	cr_assert(conf_has_parent(hosp));
	cr_assert(net_has_cert(city, hosp->key), "the city did not certify the peer");
	net_stop_all();
}

/* Issue 12 item 1: the token is read from standard input, a file that only
 * its owner can read, or $STRATA_JOIN_TOKEN; on the command line, where any
 * local user reads it from ps, it is refused before it is used. */
Test(sync_join, token_comes_from_stdin_a_private_file_or_the_environment_never_argv)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *a = net_node_init("a", "xiamen/a", false, false);
	struct net_node *b = net_node_init("b", "xiamen/b", false, false);
	struct net_node *c = net_node_init("c", "xiamen/c", false, false);
	char file[300];
	struct net_run r;
	char *tok;

	net_node_start(city);
	/* on the command line: refused as a usage error, and the token unused */
	tok = invite(city, a->path, "1h");
	net_run(&r, "join", "-d", a->dir, tok, NULL);
	cr_assert_eq(r.status, 1, "a token on the command line: exit %d: %s", r.status, r.err);
	cr_assert(net_has(r.err, "command line") && net_has(r.err, "--token-file"), "%s", r.err);
	net_run_free(&r);
	cr_assert(!net_has_cert(city, a->key), "a token given on the command line was used");

	/* standard input (the same token: it was not used) */
	snprintf(file, sizeof file, "%s.token", a->dir);
	net_write_secret(file, tok);
	net_run_in(&r, file, "join", "-d", a->dir, NULL);
	cr_assert_eq(r.status, 0, "join reading standard input: %s\n%s", r.err, net_diag());
	net_run_free(&r);
	cr_assert(net_has_cert(city, a->key));

	/* a file that group or others can read is refused, and not used */
	tok = invite(city, b->path, "1h");
	snprintf(file, sizeof file, "%s.token", b->dir);
	net_write_secret(file, tok);
	cr_assert_eq(chmod(file, 0640), 0);
	net_run(&r, "join", "-d", b->dir, "--token-file", file, NULL);
	cr_assert_eq(r.status, 2, "a group-readable token file: exit %d: %s", r.status, r.err);
	cr_assert(net_has(r.err, "0640") && net_has(r.err, "chmod 600"), "%s", r.err);
	net_run_free(&r);
	cr_assert(!net_has_cert(city, b->key) && !conf_has_parent(b));
	cr_assert_eq(chmod(file, 0600), 0);
	net_run(&r, "join", "-d", b->dir, "--token-file", file, NULL);
	cr_assert_eq(r.status, 0, "join --token-file: %s\n%s", r.err, net_diag());
	net_run_free(&r);

	/* the environment */
	tok = invite(city, c->path, "1h");
	cr_assert_eq(setenv("STRATA_JOIN_TOKEN", tok, 1), 0);
	net_run(&r, "join", "-d", c->dir, NULL);
	unsetenv("STRATA_JOIN_TOKEN");
	cr_assert_eq(r.status, 0, "join with $STRATA_JOIN_TOKEN: %s\n%s", r.err, net_diag());
	net_run_free(&r);
	cr_assert(net_has_cert(city, b->key) && net_has_cert(city, c->key));
	net_stop_all();
}

/* Sends the Join a node would send, with its own key, over a connection
 * made with the token's key, and drops the answer: the parent commits the
 * certificate and the node never learns it (a reply lost on the way). */
static void join_and_lose_the_answer(struct net_node *parent, const struct net_node *child, const char *tok)
{
	Strata__Frame jf = STRATA__FRAME__INIT, *f;
	Strata__Join j = STRATA__JOIN__INIT;
	uint8_t pk[KEY_BYTES], sk[KEY_BYTES], proof[SIG_BYTES], msg[2 * KEY_BYTES + 128];
	size_t nl = strlen(child->path);
	struct keypair *kp = NULL;
	struct err e = {{0}};
	struct net_client *c;
	char path[300];

	snprintf(path, sizeof path, "%s/node.key", child->dir);
	cr_assert_eq(keypair_load(&kp, path, &e), 0, "%s", e.msg);
	cr_assert_lt(nl, 128);
	memcpy(msg, parent->key, KEY_BYTES);
	memcpy(msg + KEY_BYTES, child->key, KEY_BYTES);
	memcpy(msg + 2 * KEY_BYTES, child->path, nl);
	cr_assert_eq(keypair_sign(kp, DOMAIN_JOIN, msg, 2 * KEY_BYTES + nl, proof), 0);
	keypair_destroy(&kp);
	token_curve(tok, pk, sk);
	c = net_client_new(parent, pk, sk);
	j.key.data = (uint8_t *)child->key;
	j.key.len = KEY_BYTES;
	j.name = (char *)child->path;
	j.proof.data = proof;
	j.proof.len = SIG_BYTES;
	jf.msg_case = STRATA__FRAME__MSG_JOIN;
	jf.join = &j;
	cr_assert(net_client_try_send(c, &jf));
	f = net_client_recv(c, NET_DEADLINE_MS);
	cr_assert(f && f->msg_case == STRATA__FRAME__MSG_JOIN_REPLY, "the parent did not certify the key");
	net_release(f); /* lost */
	net_client_free(&c);
	sodium_memzero(sk, sizeof sk);
}

/* Issue 12 item 10: an enrollment that failed after the parent committed
 * used to lock the key out ("this key is already certified here", or the
 * token "already used"). Run again, it completes: with a new token for the
 * same org path, and with the same token within its window; the used token
 * stays bound to that key. */
Test(sync_join, a_join_whose_answer_was_lost_completes_when_run_again)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, false);
	struct net_node *thief = net_node_init("thief", "xiamen/huli", false, false);
	struct net_run r;
	char *first, *second;

	net_node_start(city);
	first = invite(city, huli->path, "1h");
	join_and_lose_the_answer(city, huli, first);
	cr_assert(net_has_cert(city, huli->key), "the parent did not commit the certificate");
	cr_assert(!conf_has_parent(huli));

	/* the same token, still in its window */
	join_with_file(&r, huli, first, "5");
	cr_assert_eq(r.status, 0, "the same key and token were locked out: %s\n%s", r.err, net_diag());
	cr_assert(net_has(r.out, "joined"), "%s", r.out);
	net_run_free(&r);
	cr_assert(conf_has_parent(huli));

	/* a new token for the same org path, after the answer was lost again:
	 * the node is joined already, so a fresh node directory with the same
	 * key is not at hand; run the lost join again with a new token and
	 * finish it with that one */
	second = invite(city, huli->path, "1h");
	join_and_lose_the_answer(city, huli, second);
	join_with_file(&r, huli, second, "5");
	cr_assert_eq(r.status, 0, "a new token for the same key was refused: %s\n%s", r.err, net_diag());
	net_run_free(&r);

	/* bound: another key cannot use the first token within its window */
	join_with_file(&r, thief, first, "5");
	cr_assert_neq(r.status, 0, "another key used a token bound to huli: %s", r.out);
	cr_assert(net_has(r.err, "already used"), "%s", r.err);
	net_run_free(&r);
	cr_assert(!net_has_cert(city, thief->key));

	net_node_start(huli);
	NET_WAIT(NET_DEADLINE_MS, net_log_has(city, "link from xiamen/huli is up"), "huli's link to come up");
	net_stop_all();
}

/* The crossing with revocation: enrollment is idempotent for a key in good
 * standing only. A revoked key that runs join again with a new token for
 * its old org path is refused, and nothing new is certified. */
Test(sync_join, a_revoked_key_cannot_rejoin_by_running_join_again)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, false);
	struct net_run r;
	char *tok;

	net_node_start(city);
	net_node_join(huli, city, NULL);
	net_ok("revoke", "-d", city->dir, "--name", huli->path, "--reason", "office closed", NULL);
	tok = invite(city, huli->path, "1h");
	join_with_file(&r, huli, tok, "5");
	cr_assert_neq(r.status, 0, "a revoked key enrolled again: %s", r.out);
	cr_assert(net_has(r.err, "revoked"), "the refusal does not say the key was revoked: %s", r.err);
	net_run_free(&r);
	NET_WAIT(NET_DEADLINE_MS, net_log_has(city, "this key was revoked here"), "the city to log the refusal");
	net_stop_all();
}
