/* SPDX-License-Identifier: MIT */
/*
 * Enrollment. The child connects with the token's throwaway CURVE key and
 * sends Join: its real key, the org path, and a signature proving it holds
 * the real secret key. The parent checks the invitation once more, writes
 * the child's certificate to its trust feed and marks the invitation used
 * in the same transaction, and answers with the signed certificate entry.
 * The child then pins the root, records its parent, and reconnects with its
 * real key (strata serve).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/records/records.h"
#include "node/sync/sync_internal.h"

/* The bytes a Join proof signs: parent key | child key | org path. */
static uint8_t *proof_message(const uint8_t parent[KEY_BYTES], const uint8_t child[KEY_BYTES], const char *name,
			      size_t *len)
{
	size_t nl = strlen(name);
	uint8_t *m = malloc(2 * KEY_BYTES + nl + 1);

	if (!m)
		return NULL;
	memcpy(m, parent, KEY_BYTES);
	memcpy(m + KEY_BYTES, child, KEY_BYTES);
	memcpy(m + 2 * KEY_BYTES, name, nl);
	*len = 2 * KEY_BYTES + nl;
	return m;
}

/* --- parent side (in the daemon) --- */

static void reply_error(struct daemon *d, const uint8_t *rid, size_t rid_len, const char *reason)
{
	struct link tmp = {.d = d, .kind = LINK_CHILD, .rid_len = rid_len};

	memcpy(tmp.rid, rid, rid_len);
	snprintf(tmp.name, sizeof tmp.name, "a joining node");
	link_send_error(&tmp, EACCES, reason, NULL, NULL, 0);
	if (frame_refusal_allow(d, node_now_ms()))
		sync_log(d, "refused a join: %s", reason);
}

void join_on_frame(struct daemon *d, const uint8_t *rid, size_t rid_len, const char *user_id, const Strata__Join *j)
{
	uint8_t curve[KEY_BYTES], *msg = NULL, *cert_buf = NULL, *inv_buf = NULL;
	Strata__Invite *inv = NULL;
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	struct node_writer *w = NULL;
	struct store_txn *t;
	const uint8_t *v, *env;
	size_t len, msg_len, cert_len, inv_len, env_len;
	uint64_t head = 0;
	char hex[KEY_HEX], reason[600];
	struct err e = {0};
	int ret;

	if (strncmp(user_id, "invite:", 7) != 0 || hex_decode(curve, KEY_BYTES, user_id + 7) < 0) {
		reply_error(d, rid, rid_len, "join is only for connections made with a join token");
		return;
	}
	if (j->key.len != KEY_BYTES || j->proof.len != SIG_BYTES) {
		reply_error(d, rid, rid_len, "malformed join request");
		return;
	}
	if (node_writer_begin(d->n, "trust", &w, &e) < 0) {
		snprintf(reason, sizeof reason, "the parent cannot write now: %s", e.msg);
		reply_error(d, rid, rid_len, reason);
		return;
	}
	t = node_writer_txn(w);
	if (store_index_get(t, "invite", curve, KEY_BYTES, &v, &len, &e) < 0 ||
	    !(inv = strata__invite__unpack(NULL, len, v))) {
		reply_error(d, rid, rid_len, "no such invitation");
		goto out;
	}
	if (inv->has_used_ms || inv->expires_ms <= node_now_ms()) {
		reply_error(d, rid, rid_len, inv->has_used_ms ? "this join token was already used" : "this join token has expired");
		goto out;
	}
	if (strcmp(j->name, inv->name) != 0) {
		snprintf(reason, sizeof reason, "the token is for %s, not %s", inv->name, j->name);
		reply_error(d, rid, rid_len, reason);
		goto out;
	}
	if (!(msg = proof_message(node_id(d->n), j->key.data, j->name, &msg_len)) ||
	    sig_verify(j->key.data, DOMAIN_JOIN, msg, msg_len, j->proof.data) < 0) {
		reply_error(d, rid, rid_len, "the join proof does not verify: the joining node does not hold its key");
		goto out;
	}
	if (memcmp(j->key.data, node_id(d->n), KEY_BYTES) == 0 ||
	    store_state_get(t, "cert", node_id(d->n), j->key.data, KEY_BYTES, &v, &len, NULL, &e) == 0) {
		reply_error(d, rid, rid_len, "this key is already certified here");
		goto out;
	}
	memset(&e, 0, sizeof e);
	c.subject = j->key;
	c.name = inv->name;
	c.role = inv->role;
	c.n_feeds = inv->n_feeds;
	c.feeds = inv->feeds;
	c.n_receive = inv->n_receive;
	c.receive = inv->receive;
	c.issued_ms = node_now_ms();
	cert_len = strata__certificate__get_packed_size(&c);
	inv->has_used_ms = 1;
	inv->used_ms = c.issued_ms;
	inv_len = strata__invite__get_packed_size(inv);
	if (!(cert_buf = malloc(cert_len)) || !(inv_buf = malloc(inv_len))) {
		reply_error(d, rid, rid_len, "the parent is out of memory");
		goto out;
	}
	strata__certificate__pack(&c, cert_buf);
	strata__invite__pack(inv, inv_buf);
	if ((ret = node_writer_put(w, "cert", j->key.data, KEY_BYTES, cert_buf, cert_len, &e)) < 0 ||
	    (ret = store_index_put(t, "invite", curve, KEY_BYTES, inv_buf, inv_len, &e)) < 0 ||
	    (ret = node_writer_commit(&w, NULL, &head, &e)) < 0) {
		snprintf(reason, sizeof reason, "the parent could not certify: %s", e.msg);
		reply_error(d, rid, rid_len, reason);
		goto out;
	}
	/* Answer with the certificate entry exactly as stored. */
	if (store_txn_begin(node_store(d->n), false, &t, &e) == 0) {
		if (store_log_get(t, node_id(d->n), "trust", head, &env, &env_len, NULL, &e) == 0) {
			Strata__Frame f = STRATA__FRAME__INIT;
			Strata__JoinReply r = STRATA__JOIN_REPLY__INIT;
			struct link tmp = {.d = d, .kind = LINK_CHILD, .rid_len = rid_len};

			memcpy(tmp.rid, rid, rid_len);
			r.certificate.data = (uint8_t *)env;
			r.certificate.len = env_len;
			r.root.data = (uint8_t *)node_root(d->n);
			r.root.len = KEY_BYTES;
			f.msg_case = STRATA__FRAME__MSG_JOIN_REPLY;
			f.join_reply = &r;
			link_send(&tmp, &f);
		}
		store_txn_abort(&t);
	}
	key_hex(hex, j->key.data);
	sync_log(d, "enrolled %s as %s (key %s)", inv->name, cert_role_word(inv->role), hex);
	daemon_pump_all(d);
out:
	node_writer_abort(&w);
	if (inv)
		strata__invite__free_unpacked(inv, NULL);
	free(msg);
	free(cert_buf);
	free(inv_buf);
}

/* --- child side (strata join) --- */

int join_check_reply(const struct node *n, const Strata__JoinToken *tok, const Strata__JoinReply *r, struct err *e)
{
	struct changeset *cs = NULL;
	int ret;

	if ((ret = changeset_decode(&cs, r->certificate.data, r->certificate.len, e)) < 0 ||
	    (ret = changeset_verify(cs, e)) < 0)
		goto out;
	ret = -EBADMSG;
	if (memcmp(cs->author, tok->parent.data, KEY_BYTES) != 0 || strcmp(cs->feed, "trust") != 0) {
		err_set(e, "the certificate was not written by the parent named in the token");
		goto out;
	}
	if (r->root.len != KEY_BYTES || memcmp(r->root.data, tok->root.data, KEY_BYTES) != 0) {
		err_set(e, "the parent names another root than the token");
		goto out;
	}
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		Strata__Certificate *c;

		if (strcmp(op->collection, "cert") != 0 || op->key_len != KEY_BYTES ||
		    memcmp(op->key, node_id(n), KEY_BYTES) != 0 || !op->value)
			continue;
		if (!(c = strata__certificate__unpack(NULL, op->value_len, op->value)))
			break;
		ret = strcmp(c->name, node_name(n)) == 0 ? 0 : -EBADMSG;
		if (ret < 0)
			err_set(e, "the certificate names %s, not %s", c->name, node_name(n));
		strata__certificate__free_unpacked(c, NULL);
		goto out;
	}
	err_set(e, "the parent's answer holds no certificate for this node");
out:
	changeset_destroy(&cs);
	return ret;
}

int sync_join(struct node *n, const char *token, int timeout_ms, struct err *e)
{
	Strata__JoinToken *tok = NULL;
	Strata__Frame f = STRATA__FRAME__INIT, *reply = NULL;
	Strata__Join j = STRATA__JOIN__INIT;
	uint8_t *curve_sk = sodium_malloc(KEY_BYTES), curve_pk[KEY_BYTES], server[KEY_BYTES], proof[SIG_BYTES];
	uint8_t *msg = NULL;
	struct store_txn *t = NULL;
	size_t msg_len;
	int ret = -ENOMEM;

	if (!curve_sk) {
		err_set(e, "out of memory");
		goto out;
	}
	if ((ret = sync_token_parse(token, &tok, e)) < 0)
		goto out;
	ret = -EINVAL;
	if (tok->expires_ms <= node_now_ms()) {
		err_set(e, "the join token has expired; ask the parent for a new one");
		goto out;
	}
	if (strcmp(tok->name, node_name(n)) != 0) {
		err_set(e, "the token is for %s, but this node is %s", tok->name, node_name(n));
		goto out;
	}
	if (tok->role == STRATA__ROLE__ROLE_PEER ? node_peer_root(n) != NULL : node_root(n) != NULL) {
		err_set(e, tok->role == STRATA__ROLE__ROLE_PEER
				   ? "this node already has a peer agreement"
				   : "this node already belongs to a trust domain (it is a root or has joined); a root "
				     "joins another domain only as a peer (strata invite --role peer)");
		goto out;
	}
	if (node_config(n)->has_parent) {
		err_set(e, "this node already has a parent in %s", NODE_CONF_FILE);
		goto out;
	}
	crypto_box_seed_keypair(curve_pk, curve_sk, tok->secret.data);
	if (key_to_curve(server, tok->parent.data) < 0) {
		err_set(e, "the token's parent key is not a valid key");
		goto out;
	}
	if (!(msg = proof_message(tok->parent.data, node_id(n), node_name(n), &msg_len)) ||
	    node_sign(n, DOMAIN_JOIN, msg, msg_len, proof) < 0) {
		ret = -ENOMEM;
		err_set(e, "cannot sign the join proof");
		goto out;
	}
	j.key.data = (uint8_t *)node_id(n);
	j.key.len = KEY_BYTES;
	j.name = (char *)node_name(n);
	j.proof.data = proof;
	j.proof.len = SIG_BYTES;
	f.msg_case = STRATA__FRAME__MSG_JOIN;
	f.join = &j;
	if ((ret = sync_exchange(&(struct sync_exchange){.endpoint = tok->endpoint,
							.server_curve = server,
							.curve_pk = curve_pk,
							.curve_sk = curve_sk,
							.request = &f,
							.answer = STRATA__FRAME__MSG_JOIN_REPLY,
							.what = "join request",
							.refusal = "the token (already used, expired, or not issued by it)",
							.timeout_ms = timeout_ms},
				 &reply, e)) < 0)
		goto out;
	if ((ret = join_check_reply(n, tok, reply->join_reply, e)) < 0)
		goto out;
	if ((ret = store_txn_begin(node_store(n), true, &t, e)) < 0 ||
	    (ret = store_meta_put(t, tok->role == STRATA__ROLE__ROLE_PEER ? "peer_root" : "root", tok->root.data,
				  KEY_BYTES, e)) < 0 ||
	    (ret = store_meta_put(t, "parent", tok->parent.data, KEY_BYTES, e)) < 0 ||
	    (ret = store_txn_commit(&t, e)) < 0)
		goto out;
	ret = node_config_set_parent(node_dir(n), tok->endpoint, tok->parent.data, tok->role == STRATA__ROLE__ROLE_PEER,
				     e);
out:
	store_txn_abort(&t);
	if (reply)
		strata__frame__free_unpacked(reply, NULL);
	if (tok) {
		sodium_memzero(tok->secret.data, tok->secret.len);
		strata__join_token__free_unpacked(tok, NULL);
	}
	sodium_free(curve_sk);
	free(msg);
	return ret;
}
