/* SPDX-License-Identifier: MIT */
/*
 * Enrollment. The child connects with the token's throwaway CURVE key and
 * sends Join: its real key, the org path, and a signature proving it holds
 * the real secret key. The parent checks the invitation once more, writes
 * the child's certificate to its trust feed and marks the invitation used
 * by that key in the same transaction, and answers with the signed
 * certificate entry. The child then pins the root, records its parent, and
 * reconnects with its real key (strata serve). Both sides are idempotent
 * per key: a join whose answer was lost completes when run again.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/sync/sync_internal.h"
#include "protocol/trust_rules.h"

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

/* Does KEY hold a certificate from this node already? 1 if not; 0 if it
 * holds one for the invitation's org path and role and is not revoked: a
 * join whose answer was lost, to be answered again with that entry (*seq);
 * -1 with the reason otherwise. */
static int certified_before(struct daemon *d, struct store_txn *t, const uint8_t key[KEY_BYTES],
			    const Strata__Invite *inv, uint64_t *seq, char *reason, size_t cap)
{
	struct store_origin origin;
	Strata__Certificate *c;
	const uint8_t *v;
	size_t len;
	struct err e = {0};
	int ret;

	if (memcmp(key, node_id(d->n), KEY_BYTES) == 0) {
		snprintf(reason, cap, "this key is the parent's own");
		return -1;
	}
	if (store_state_get(t, "cert", node_id(d->n), key, KEY_BYTES, &v, &len, &origin, &e) < 0)
		return 1;
	if (!(c = strata__certificate__unpack(NULL, len, v))) {
		snprintf(reason, cap, "the certificate stored for this key is malformed");
		return -1;
	}
	ret = -1;
	if (strcmp(c->name, inv->name) != 0 || c->role != inv->role)
		snprintf(reason, cap, "this key is already certified here as %.200s (%s)", c->name,
			 cert_role_word(c->role));
	else if (node_check_revoked(d->n, t, key, node_now_ms(), &e) < 0)
		snprintf(reason, cap, "this key was revoked here: %.400s", e.msg);
	else if (strcmp(origin.feed, FEED_TRUST) != 0)
		snprintf(reason, cap, "the certificate of this key is not in the trust feed");
	else
		ret = 0, *seq = origin.seq;
	strata__certificate__free_unpacked(c, NULL);
	return ret;
}

/* Checks the invitation and the proof. 0, or -1 with the reason. */
static int join_check(struct daemon *d, const Strata__Join *j, const Strata__Invite *inv, char *reason, size_t cap)
{
	uint8_t *msg;
	size_t msg_len;
	int ret;

	if (inv->expires_ms <= node_now_ms()) {
		snprintf(reason, cap, "this join token has expired");
		return -1;
	}
	if (strcmp(j->name, inv->name) != 0) {
		snprintf(reason, cap, "the token is for %.200s, not %.200s", inv->name, j->name);
		return -1;
	}
	if (!(msg = proof_message(node_id(d->n), j->key.data, j->name, &msg_len))) {
		snprintf(reason, cap, "the parent is out of memory");
		return -1;
	}
	ret = sig_verify(j->key.data, DOMAIN_JOIN, msg, msg_len, j->proof.data);
	free(msg);
	if (ret < 0) {
		snprintf(reason, cap, "the join proof does not verify: the joining node does not hold its key");
		return -1;
	}
	/* Bound to one key: once used, a token serves only the key it enrolled. */
	if (inv->has_used_ms && (inv->used_by.len != KEY_BYTES || memcmp(inv->used_by.data, j->key.data, KEY_BYTES))) {
		snprintf(reason, cap, "this join token was already used");
		return -1;
	}
	return 0;
}

/* Writes the certificate (unless the key holds one: *seq says where) and
 * marks the invitation used by this key, in one transaction. */
static int join_commit(struct node_writer **w, const Strata__Join *j, Strata__Invite *inv,
		       const uint8_t curve[KEY_BYTES], bool certified, uint64_t *seq, struct err *e)
{
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	uint8_t *cert_buf = NULL, *inv_buf = NULL;
	size_t cert_len, inv_len;
	uint64_t head = 0;
	int ret = -ENOMEM;

	c.subject = j->key;
	c.name = inv->name;
	c.display_name = inv->display_name; /* NULL (an older invite): not encoded */
	c.role = inv->role;
	c.n_feeds = inv->n_feeds;
	c.feeds = inv->feeds;
	c.n_receive = inv->n_receive;
	c.receive = inv->receive;
	c.issued_ms = node_now_ms();
	cert_len = strata__certificate__get_packed_size(&c);
	if (!inv->has_used_ms) {
		inv->has_used_ms = 1;
		inv->used_ms = c.issued_ms;
	}
	if (!inv->has_used_by) { /* else it is this key already (join_check) */
		inv->has_used_by = 1;
		inv->used_by = j->key;
	}
	inv_len = strata__invite__get_packed_size(inv);
	if (!(cert_buf = malloc(cert_len)) || !(inv_buf = malloc(inv_len))) {
		err_set(e, "out of memory");
		goto out;
	}
	strata__certificate__pack(&c, cert_buf);
	strata__invite__pack(inv, inv_buf);
	if ((!certified && (ret = node_writer_put(*w, "cert", j->key.data, KEY_BYTES, cert_buf, cert_len, e)) < 0) ||
	    (ret = store_index_put(node_writer_txn(*w), "invite", curve, KEY_BYTES, inv_buf, inv_len, e)) < 0 ||
	    (ret = node_writer_commit(w, NULL, &head, e)) < 0)
		goto out;
	if (!certified)
		*seq = head;
out:
	free(cert_buf);
	free(inv_buf);
	return ret;
}

/* What join_grant works on. */
struct join_req {
	const Strata__Join *j;
	uint8_t curve[KEY_BYTES]; /* the token's CURVE key: the invitation's index key */
	Strata__Invite *inv;
	int known;                /* 0: the key held its certificate already */
};

/* sync_certify's grant of a Join: the invitation, its checks, then the
 * certificate and the invitation marked used. */
static int join_grant(struct daemon *d, struct node_writer **w, struct sync_certify *c, uint64_t *seq, char *reason,
		      size_t cap)
{
	struct join_req *q = c->arg;
	const uint8_t *v;
	size_t len;
	struct err e = {0};

	if (store_index_get(node_writer_txn(*w), "invite", q->curve, KEY_BYTES, &v, &len, &e) < 0 ||
	    !(q->inv = strata__invite__unpack(NULL, len, v))) {
		snprintf(reason, cap, "no such invitation");
		return -1;
	}
	if (join_check(d, q->j, q->inv, reason, cap) < 0 ||
	    (q->known = certified_before(d, node_writer_txn(*w), q->j->key.data, q->inv, seq, reason, cap)) < 0)
		return -1;
	if (join_commit(w, q->j, q->inv, q->curve, q->known == 0, seq, &e) < 0) {
		snprintf(reason, cap, "the parent could not certify: %s", e.msg);
		return -1;
	}
	return 0;
}

/* A Join from a connection admitted with a token's key. A key that holds
 * a certificate for the same org path already (its earlier join committed
 * here and the answer was lost) is answered with that certificate again,
 * with the same token or a new one: enrollment is idempotent per key. */
bool sync_join_on_frame(struct daemon *d, const uint8_t *rid, size_t rid_len, const char *user_id, const Strata__Join *j)
{
	struct join_req q = {.j = j};
	struct sync_certify c = {.what = "a join", .reply = STRATA__FRAME__MSG_JOIN_REPLY, .grant = join_grant,
				 .arg = &q};
	char hex[KEY_HEX];
	bool granted = false;

	if (strncmp(user_id, "invite:", 7) != 0 || hex_decode(q.curve, KEY_BYTES, user_id + 7) < 0) {
		sync_certify_refuse(d, rid, rid_len, &c, "join is only for connections made with a join token");
		return false;
	}
	if (j->key.len != KEY_BYTES || j->proof.len != SIG_BYTES) {
		sync_certify_refuse(d, rid, rid_len, &c, "malformed join request");
		return false;
	}
	if ((granted = sync_certify(d, rid, rid_len, &c))) {
		key_hex(hex, j->key.data);
		sync_log(d, "%s %s as %s (key %s)", q.known == 0 ? "answered again the enrollment of" : "enrolled",
			 q.inv->name, cert_role_word(q.inv->role), hex);
	}
	if (q.inv) {
		/* used_by points into j: not the unpacker's to free */
		if (q.inv->used_by.data == j->key.data) {
			q.inv->used_by.data = NULL;
			q.inv->used_by.len = 0;
		}
		strata__invite__free_unpacked(q.inv, NULL);
	}
	return granted;
}

/* --- child side (strata join) --- */

int sync_join_check_reply(const struct node *n, const Strata__JoinToken *tok, const Strata__JoinReply *r, struct err *e)
{
	struct changeset *cs = NULL;
	int ret;

	if ((ret = changeset_decode(&cs, r->certificate.data, r->certificate.len, e)) < 0 ||
	    (ret = changeset_verify(cs, e)) < 0)
		goto out;
	ret = -EBADMSG;
	if (memcmp(cs->author, tok->parent.data, KEY_BYTES) != 0 || strcmp(cs->feed, FEED_TRUST) != 0) {
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

static bool same_key(const uint8_t *a, const uint8_t *b)
{
	return a && b && memcmp(a, b, KEY_BYTES) == 0;
}

/* Does the token fit this node? A child or auditor token is for a node of
 * no trust domain yet; a peer token for the root of another domain. A node
 * that already holds what this token would give it (an earlier run of the
 * same join stopped part-way) goes on. Checked before the parent is asked,
 * so that a token that cannot work is not used up and nothing is written. */
static int join_fits(struct node *n, const Strata__JoinToken *tok, struct err *e)
{
	const struct node_config *c = node_config(n);
	const uint8_t *root = node_root(n), *peer_root = node_peer_root(n);
	bool peer = tok->role == STRATA__ROLE__ROLE_PEER, self_root = same_key(root, node_id(n));

	if (tok->expires_ms <= node_now_ms()) {
		err_set(e, "the join token has expired; ask the parent for a new one");
		return -EINVAL;
	}
	if (strcmp(tok->name, node_name(n)) != 0) {
		err_set(e, "the token is for %s, but this node is %s", tok->name, node_name(n));
		return -EINVAL;
	}
	if (peer && !self_root) {
		err_set(e, "this is a peer token, for the root of another trust domain (a node made with strata init "
			   "--root), but this node %s; ask the parent for a child token (strata invite --role child)",
			root ? "belongs to a trust domain as a child" : "is no root (it was made without --root)");
		return -EINVAL;
	}
	if (peer && peer_root && !same_key(peer_root, tok->root.data)) {
		err_set(e, "this node already has a peer agreement");
		return -EINVAL;
	}
	if (!peer && root && (self_root || !same_key(root, tok->root.data))) {
		err_set(e, "this node already belongs to a trust domain (it is a root or has joined); a root "
			   "joins another domain only as a peer (strata invite --role peer)");
		return -EINVAL;
	}
	if (c->has_parent && (!same_key(c->parent_key, tok->parent.data) || strcmp(c->parent_endpoint, tok->endpoint) ||
			      c->parent_is_peer != peer)) {
		err_set(e, "this node already has a parent in %s", NODE_CONF_FILE);
		return -EINVAL;
	}
	return node_config_check_writable(node_dir(n), e);
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
	if ((ret = join_fits(n, tok, e)) < 0)
		goto out;
	ret = -EINVAL;
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
							.refusal = "the token (expired, or not issued by it)",
							.timeout_ms = timeout_ms},
				 &reply, e)) < 0)
		goto out;
	if ((ret = sync_join_check_reply(n, tok, reply->join_reply, e)) < 0)
		goto out;
	/* Both halves or neither, as far as a file and a store allow: the
	 * config is renamed into place before the store commits; either one
	 * alone is what a run again of this join completes (join_fits). */
	if ((ret = store_txn_begin(node_store(n), true, &t, e)) < 0 ||
	    (ret = store_meta_put(t, tok->role == STRATA__ROLE__ROLE_PEER ? "peer_root" : "root", tok->root.data,
				  KEY_BYTES, e)) < 0 ||
	    (ret = store_meta_put(t, "parent", tok->parent.data, KEY_BYTES, e)) < 0 ||
	    (ret = node_config_set_parent(node_dir(n), tok->endpoint, tok->parent.data,
					  tok->role == STRATA__ROLE__ROLE_PEER, e)) < 0 ||
	    (ret = store_txn_commit(&t, e)) < 0)
		err_prefix(e, "the parent certified this node, but it could not record that (run strata join again "
			      "with the same token to finish)");
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
