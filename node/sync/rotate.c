/* SPDX-License-Identifier: MIT */
/*
 * Key rotation. The child makes a new key pair (kept in node.key.new until
 * it is certified), writes a "rotation" record in its trust feed with its
 * old key, and connects to its parent as the old key, which is still
 * certified, with Rotate { new key, proof }: the new key's signature over
 * "strata/rotate/v1" NUL parent | old | new. The parent writes, in one
 * entry of its trust feed, a certificate for the new key (same org path,
 * role and feeds) and the revocation of the old key dated now with the new
 * key as its successor, and answers with that entry. The child then makes
 * the new key its own: meta "self", the old key appended to meta
 * "previous_keys", and node.key replaced (the old seed overwritten).
 *
 * Entries the old key signed before the revocation stay valid everywhere;
 * after it, the node writes with the new key, in new feeds (a feed is
 * (author, name)). A rotation that stopped half-way resumes: node.key.new
 * is kept, and if the parent already admits the new key the swap is simply
 * finished.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <sodium.h>

#include "node/sync/sync_internal.h"
#include "protocol/trust_rules.h"

/* --- parent side (in the daemon) --- */

static int pack_put(struct node_writer *w, const char *collection, const uint8_t key[KEY_BYTES],
		    const ProtobufCMessage *m, struct err *e)
{
	return node_writer_put_msg(w, collection, key, KEY_BYTES, m, e);
}

/* What rotate_grant works on. */
struct rotate_req {
	const Strata__Rotate *r;
	uint8_t old[KEY_BYTES];    /* the key asking: its connection's */
	Strata__Certificate *c;    /* old's certificate */
	Strata__Certificate *other;
	char new_hex[KEY_HEX];
};

/* May the rotation be granted? 0, or -1 with the reason. */
static int rotate_check(struct daemon *d, struct store_txn *t, struct rotate_req *q, struct sync_certify *c,
			char *reason, size_t cap)
{
	const Strata__Rotate *r = q->r;
	uint8_t issuer[KEY_BYTES], m[ROTATION_PROOF_MSG_BYTES];
	struct err e = {0};

	if (node_cert_get(t, q->old, issuer, &q->c, &e) < 0 || !sync_own_key(d, t, issuer)) {
		snprintf(reason, cap, "this node did not certify the key asking for a rotation");
		return -1;
	}
	c->who = q->c->name;
	if (node_revocation_text(d->n, t, q->old, node_now_ms(), reason, cap) > 0)
		return -1;
	rotation_proof_message(m, node_id(d->n), q->old, r->key.data);
	if (sig_verify(r->key.data, DOMAIN_ROTATE, m, sizeof m, r->proof.data) < 0) {
		snprintf(reason, cap, "the rotation proof does not verify: the new key did not sign it");
		return -1;
	}
	if (memcmp(r->key.data, q->old, KEY_BYTES) == 0 || sync_own_key(d, t, r->key.data) ||
	    node_cert_get(t, r->key.data, NULL, &q->other, &e) == 0 ||
	    node_revocation_get(t, r->key.data, &(struct node_revocation){0}, &e) == 0) {
		snprintf(reason, cap, "the new key is already known here; make another");
		return -1;
	}
	return 0;
}

/* sync_certify's grant of a Rotate: in one entry, the same certificate for
 * the new key and the old key's revocation naming it as successor. */
static int rotate_grant(struct daemon *d, struct node_writer **w, struct sync_certify *c, uint64_t *seq,
			char *reason, size_t cap)
{
	struct rotate_req *q = c->arg;
	const Strata__Rotate *r = q->r;
	Strata__Certificate nc = STRATA__CERTIFICATE__INIT;
	Strata__Revocation rv = STRATA__REVOCATION__INIT;
	uint64_t now = node_now_ms();
	char why[80];
	struct err e = {0};

	if (rotate_check(d, node_writer_txn(*w), q, c, reason, cap) < 0)
		return -1;
	nc.subject = r->key;
	nc.name = q->c->name;
	nc.display_name = q->c->display_name; /* the unit keeps its name for people */
	nc.role = q->c->role;
	nc.n_feeds = q->c->n_feeds;
	nc.feeds = q->c->feeds;
	nc.n_receive = q->c->n_receive;
	nc.receive = q->c->receive;
	nc.issued_ms = now;
	key_hex(q->new_hex, r->key.data);
	snprintf(why, sizeof why, "key rotated to %.16s…", q->new_hex);
	rv.subject.data = q->old;
	rv.subject.len = KEY_BYTES;
	rv.reason = why;
	rv.revoked_ms = now;
	rv.has_successor = 1;
	rv.successor = r->key;
	if (pack_put(*w, "cert", r->key.data, &nc.base, &e) < 0 || pack_put(*w, "revocation", q->old, &rv.base, &e) < 0 ||
	    node_writer_commit(w, NULL, seq, &e) < 0) {
		snprintf(reason, cap, "the parent could not certify the new key: %s", e.msg);
		return -1;
	}
	return 0;
}

bool sync_rotate_on_frame(struct daemon *d, const uint8_t *rid, size_t rid_len, const char *user_id,
			  const Strata__Rotate *r)
{
	struct rotate_req q = {.r = r};
	struct sync_certify c = {.what = "a key rotation", .reply = STRATA__FRAME__MSG_ROTATE_REPLY,
				 .grant = rotate_grant, .arg = &q};
	char old_hex[KEY_HEX];
	bool granted = false;

	if (strncmp(user_id, "key:", 4) != 0 || hex_decode(q.old, KEY_BYTES, user_id + 4) < 0) {
		sync_certify_refuse(d, rid, rid_len, &c,
				    "a rotation is asked for on a connection made with the current key");
		return false;
	}
	if (r->key.len != KEY_BYTES || r->proof.len != SIG_BYTES) {
		sync_certify_refuse(d, rid, rid_len, &c, "malformed rotation request");
		return false;
	}
	if ((granted = sync_certify(d, rid, rid_len, &c))) {
		key_hex(old_hex, q.old);
		sync_log(d, "rotated the key of %s: %s revoked, %s certified", q.c->name, old_hex, q.new_hex);
	}
	if (q.c)
		strata__certificate__free_unpacked(q.c, NULL);
	if (q.other)
		strata__certificate__free_unpacked(q.other, NULL);
	return granted;
}

/* --- child side (strata rotate-key) --- */

/* Connects to the parent with a CURVE key pair and, with f, sends it and
 * waits for a RotateReply (*reply, caller frees); without f, only waits for
 * the handshake (reply may be NULL). As sync_exchange. */
static int exchange(const struct node_config *cfg, const uint8_t curve_pk[KEY_BYTES], const uint8_t *curve_sk,
		    const Strata__Frame *f, int timeout_ms, Strata__Frame **reply, struct err *e)
{
	uint8_t server[KEY_BYTES];
	Strata__Frame *unused = NULL;
	int ret;

	if (key_to_curve(server, cfg->parent_key) < 0) {
		err_set(e, "the parent key in %s is not a valid key", NODE_CONF_FILE);
		return -EINVAL;
	}
	ret = sync_exchange(&(struct sync_exchange){.endpoint = cfg->parent_endpoint,
						    .server_curve = server,
						    .curve_pk = curve_pk,
						    .curve_sk = curve_sk,
						    .request = f,
						    .answer = STRATA__FRAME__MSG_ROTATE_REPLY,
						    .what = "rotation request",
						    .refusal = "this key (not certified by it, or revoked)",
						    .timeout_ms = timeout_ms},
			    reply ? reply : &unused, e);
	if (unused)
		strata__frame__free_unpacked(unused, NULL);
	return ret;
}

int sync_rotate_check_reply(const struct node *n, const uint8_t parent[KEY_BYTES], const uint8_t new_key[KEY_BYTES],
			    const Strata__RotateReply *r, struct err *e)
{
	struct changeset *cs = NULL;
	int ret;

	if ((ret = changeset_decode(&cs, r->certificate.data, r->certificate.len, e)) < 0 ||
	    (ret = changeset_verify(cs, e)) < 0)
		goto out;
	ret = -EBADMSG;
	if (memcmp(cs->author, parent, KEY_BYTES) != 0 || strcmp(cs->feed, FEED_TRUST) != 0) {
		err_set(e, "the answer was not written by this node's parent");
		goto out;
	}
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		Strata__Certificate *c;

		if (strcmp(op->collection, "cert") != 0 || op->key_len != KEY_BYTES ||
		    memcmp(op->key, new_key, KEY_BYTES) != 0 || !op->value)
			continue;
		if (!(c = strata__certificate__unpack(NULL, op->value_len, op->value)))
			break;
		ret = strcmp(c->name, node_name(n)) == 0 ? 0 : -EBADMSG;
		if (ret < 0)
			err_set(e, "the new certificate names %s, not %s", c->name, node_name(n));
		strata__certificate__free_unpacked(c, NULL);
		goto out;
	}
	err_set(e, "the parent's answer holds no certificate for the new key");
out:
	changeset_destroy(&cs);
	return ret;
}

/* Writes the rotation record with the old key, unless it is there. */
static int write_rotation(struct node *n, const uint8_t parent[KEY_BYTES], const struct keypair *kp_new,
			  struct err *e)
{
	Strata__Rotation rot = STRATA__ROTATION__INIT;
	uint8_t m[ROTATION_PROOF_MSG_BYTES], proof[SIG_BYTES], *buf = NULL;
	struct node_writer *w = NULL;
	const uint8_t *v;
	size_t len, vl;
	struct err ignore = {0};
	int ret;

	if ((ret = node_writer_begin(n, FEED_TRUST, &w, e)) < 0)
		return ret;
	if (store_state_get(node_writer_txn(w), "rotation", node_id(n), keypair_public(kp_new), KEY_BYTES, &v, &vl,
			    NULL, &ignore) == 0) {
		node_writer_abort(&w);
		return 0;
	}
	rotation_proof_message(m, parent, node_id(n), keypair_public(kp_new));
	if ((ret = keypair_sign(kp_new, DOMAIN_ROTATE, m, sizeof m, proof)) < 0) {
		err_set(e, "cannot sign the rotation proof");
		goto out;
	}
	rot.old_key.data = (uint8_t *)node_id(n);
	rot.old_key.len = KEY_BYTES;
	rot.new_key.data = (uint8_t *)keypair_public(kp_new);
	rot.new_key.len = KEY_BYTES;
	rot.issuer.data = (uint8_t *)parent;
	rot.issuer.len = KEY_BYTES;
	rot.proof.data = proof;
	rot.proof.len = SIG_BYTES;
	rot.rotated_ms = node_now_ms();
	len = strata__rotation__get_packed_size(&rot);
	ret = -ENOMEM;
	if (!(buf = malloc(len))) {
		err_set(e, "out of memory");
		goto out;
	}
	strata__rotation__pack(&rot, buf);
	if ((ret = node_writer_put(w, "rotation", keypair_public(kp_new), KEY_BYTES, buf, len, e)) < 0 ||
	    (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)
		goto out;
out:
	free(buf);
	node_writer_abort(&w);
	return ret;
}

/* Keeps the parent's answer (its trust entry certifying the new key and
 * revoking the old one with the new as successor) when it is the next
 * entry of the parent's trust feed here, so that this store knows the
 * chain of its keys at once (node_key_chain: transfers, reports); else it
 * comes with the parent's trust feed when strata serve runs. */
static void keep_reply(struct node *n, const Strata__RotateReply *r)
{
	struct store_txn *t = NULL;
	struct err ignore = {0};

	if (store_txn_begin(node_store(n), true, &t, &ignore) < 0)
		return;
	if (node_ingest(n, t, r->certificate.data, r->certificate.len, &ignore) < 0 || store_txn_commit(&t, &ignore) < 0)
		store_txn_abort(&t);
}

/* The store takes the new key: meta "self", and the old one first in
 * "previous_keys". */
static int adopt(struct node *n, const uint8_t new_key[KEY_BYTES], struct err *e)
{
	struct store_txn *t = NULL;
	const uint8_t *v;
	size_t len = 0;
	uint8_t *prev = NULL;
	struct err ignore = {0};
	int ret;

	if ((ret = store_txn_begin(node_store(n), true, &t, e)) < 0)
		return ret;
	if (store_meta_get(t, "previous_keys", &v, &len, &ignore) < 0)
		len = 0;
	if (!(prev = malloc(KEY_BYTES + len))) {
		store_txn_abort(&t);
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	memcpy(prev, node_id(n), KEY_BYTES);
	if (len)
		memcpy(prev + KEY_BYTES, v, len);
	if ((ret = store_meta_put(t, "previous_keys", prev, KEY_BYTES + len, e)) < 0 ||
	    (ret = store_meta_put(t, "self", new_key, KEY_BYTES, e)) < 0 || (ret = store_txn_commit(&t, e)) < 0) {
		store_txn_abort(&t);
		free(prev);
		return ret;
	}
	free(prev);
	return 0;
}

/* This node's certificate (caller frees *mine), which its parent must have
 * issued. 0, or -EINVAL (none yet, or another issuer), -errno of the store. */
static int own_cert(struct node *n, Strata__Certificate **mine, struct err *e)
{
	const struct node_config *cfg = node_config(n);
	uint8_t issuer[KEY_BYTES];
	struct store_txn *t = NULL;
	int ret;

	if ((ret = store_txn_begin(node_store(n), false, &t, e)) < 0)
		return ret;
	ret = node_cert_get(t, node_id(n), issuer, mine, e);
	if (ret == 0 && memcmp(issuer, cfg->parent_key, KEY_BYTES) != 0) {
		ret = -EINVAL;
		err_set(e, "this node's certificate was not issued by its parent in %s", NODE_CONF_FILE);
	} else if (ret < 0) {
		memset(e, 0, sizeof *e);
		err_set(e, "this node holds no certificate of its own yet: it comes with the parent's trust feed "
			   "after a join or a rotation; run strata serve until it has synced");
		ret = -EINVAL;
	}
	store_txn_abort(&t);
	return ret;
}

/* Writes the rotation record (if this node writes a trust feed), then asks
 * the parent, connecting as the old key, to certify kp_new; keeps its
 * answer once checked. curve_pk/curve_sk are scratch space for the CURVE
 * keys. 0, or a negative code with the reason. */
static int ask_parent(struct node *n, const Strata__Certificate *mine, const struct keypair *kp_new,
		      const uint8_t old_pk[KEY_BYTES], uint8_t curve_pk[KEY_BYTES], uint8_t *curve_sk, int timeout_ms,
		      struct err *e)
{
	const struct node_config *cfg = node_config(n);
	Strata__Frame f = STRATA__FRAME__INIT, *reply = NULL;
	Strata__Rotate rq = STRATA__ROTATE__INIT;
	uint8_t m[ROTATION_PROOF_MSG_BYTES], proof[SIG_BYTES];
	const uint8_t *new_pk = keypair_public(kp_new);
	int ret;

	if (cert_allows(mine, FEED_TRUST) && (ret = write_rotation(n, cfg->parent_key, kp_new, e)) < 0)
		return ret;
	rotation_proof_message(m, cfg->parent_key, old_pk, new_pk);
	if ((ret = keypair_sign(kp_new, DOMAIN_ROTATE, m, sizeof m, proof)) < 0) {
		err_set(e, "cannot sign the rotation proof");
		return ret;
	}
	rq.key = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)new_pk};
	rq.proof = (ProtobufCBinaryData){SIG_BYTES, proof};
	f.msg_case = STRATA__FRAME__MSG_ROTATE;
	f.rotate = &rq;
	if ((ret = node_curve_keys(n, curve_pk, curve_sk)) < 0) {
		err_set(e, "cannot derive this node's CURVE keys");
		return ret;
	}
	ret = exchange(cfg, curve_pk, curve_sk, &f, timeout_ms, &reply, e);
	if (ret == 0 && (ret = sync_rotate_check_reply(n, cfg->parent_key, new_pk, reply->rotate_reply, e)) == 0)
		keep_reply(n, reply->rotate_reply);
	if (reply)
		strata__frame__free_unpacked(reply, NULL);
	return ret;
}

int sync_rotate(struct node *n, int timeout_ms, struct sync_rotation *out, struct err *e)
{
	const struct node_config *cfg = node_config(n);
	char new_path[NODE_PATH_MAX], key_path[NODE_PATH_MAX], lock_path[NODE_PATH_MAX];
	struct keypair *kp_new = NULL;
	Strata__Certificate *mine = NULL;
	uint8_t new_pk[KEY_BYTES], old_pk[KEY_BYTES], curve_pk[KEY_BYTES], *curve_sk = sodium_malloc(KEY_BYTES);
	bool certified = false;
	int ret, lock_fd = -1;

	memset(out, 0, sizeof *out);
	if (!curve_sk) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	snprintf(new_path, sizeof new_path, "%s/%s", node_dir(n), NODE_KEY_NEW_FILE);
	snprintf(key_path, sizeof key_path, "%s/%s", node_dir(n), NODE_KEY_FILE);
	snprintf(lock_path, sizeof lock_path, "%s/" NODE_SERVE_LOCK_FILE, node_dir(n));
	ret = -EINVAL;
	if (!cfg->has_parent) {
		err_set(e, "this node has no parent to certify a new key (a root cannot rotate its key)");
		goto out;
	}
	/* The daemon holds the key it started with: it must not run meanwhile. */
	if ((lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		ret = -EBUSY;
		err_set(e, "strata serve is running for %s: stop it, rotate the key, start it again", node_dir(n));
		goto out;
	}
	if ((ret = own_cert(n, &mine, e)) < 0)
		goto out;
	memcpy(old_pk, node_id(n), KEY_BYTES);
	if (keypair_load(&kp_new, new_path, e) == 0) {
		out->resumed = true;
	} else {
		memset(e, 0, sizeof *e);
		if ((ret = keypair_generate(&kp_new, e)) < 0 || (ret = keypair_save(kp_new, new_path, e)) < 0)
			goto out;
	}
	memcpy(new_pk, keypair_public(kp_new), KEY_BYTES);
	if ((ret = keypair_curve(kp_new, curve_pk, curve_sk)) < 0) {
		err_set(e, "cannot derive the new key's CURVE keys");
		goto out;
	}
	/* A resumed rotation: the parent may have certified the new key already. */
	if (out->resumed && exchange(cfg, curve_pk, curve_sk, NULL, timeout_ms, NULL, e) == 0)
		certified = true;
	memset(e, 0, sizeof *e);
	if (!certified && (ret = ask_parent(n, mine, kp_new, old_pk, curve_pk, curve_sk, timeout_ms, e)) < 0)
		goto out;
	if ((ret = adopt(n, new_pk, e)) < 0)
		goto out;
	if ((ret = node_key_replace(node_dir(n), key_path, new_path)) < 0) {
		err_set(e, "the store took the new key but %s could not replace %s (%s); any strata command "
			   "finishes the swap",
			NODE_KEY_NEW_FILE, NODE_KEY_FILE, strerror(-ret));
		goto out;
	}
	memcpy(out->old_key, old_pk, KEY_BYTES);
	memcpy(out->new_key, new_pk, KEY_BYTES);
	snprintf(out->name, sizeof out->name, "%s", mine->name);
	ret = 0;
out:
	if (mine)
		strata__certificate__free_unpacked(mine, NULL);
	keypair_destroy(&kp_new);
	sodium_free(curve_sk);
	if (lock_fd >= 0)
		close(lock_fd);
	return ret;
}
