/* SPDX-License-Identifier: MIT */
/*
 * Building a proof file (node/audit/proof.h, `strata prove`): the
 * checkpoint to prove against (the newest witnessed one that covers the
 * entry; the pinned root's own for its own feeds), the entry's envelope,
 * the inclusion path from the store's tree, the trust entries that certify
 * the author and each cosigner up to the root, and with --since the
 * consistency proof from an older note. The file is checked with
 * audit_proof_check before it is handed out, which also fills the info.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/audit/proof.h"
#include "node/core/checkpoint.h"
#include "node/core/node.h"
#include "storage/store.h"

#define CERT_RECORDS "cert" /* node/records/cert.c: collection "cert", feed "trust", key = subject */

struct chain_list {
	ProtobufCBinaryData v[AUDIT_PROOF_CHAIN_MAX];
	size_t n;
};

struct build {
	struct node *nd;
	struct store_txn *t;
	uint8_t author[KEY_BYTES];
	const char *feed;
	char label[KEY_HEX + LIMIT_NAME_BYTES + 2];
	struct note note;
	const uint8_t *note_text;
	size_t note_len;
	uint8_t path[TLOG_PATH_MAX][TLOG_HASH_BYTES], cons[TLOG_PATH_MAX][TLOG_HASH_BYTES];
	size_t n_path, n_cons;
	struct chain_list chain;
};

static int resolve_author(struct build *b, const char *who, struct err *e)
{
	int ret;

	if (strlen(who) == 2 * KEY_BYTES && hex_decode(b->author, KEY_BYTES, who) == 0)
		return 0;
	if (!node_name_valid(who)) {
		err_set(e, "--feed: %s is neither a 64-hex key nor an org path", esc(who));
		return -EINVAL;
	}
	if ((ret = node_unit_named(b->t, who, b->author, e)) < 0)
		return ret;
	if (ret == 0) {
		err_set(e, "no unit named %s is known here", esc(who));
		return -ESRCH;
	}
	if (ret > 1) {
		err_set(e, "%d units are named %s here: give the key (64 hex) instead", ret, esc(who));
		return -EINVAL;
	}
	return 0;
}

/* The held note of one index if it covers seq: 1, else 0 (*size its size or 0). */
static int held_covering(struct build *b, bool witnessed, uint64_t seq, uint64_t *size, struct err *e)
{
	const uint8_t *p;
	size_t len;
	int ret = node_checkpoint_get(b->t, b->author, b->feed, witnessed, &p, &len, e);

	*size = 0;
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	if ((ret = note_parse((const char *)p, len, &b->note, e)) < 0)
		return ret;
	*size = b->note.cp.size;
	if (*size < seq)
		return 0;
	b->note_text = p;
	b->note_len = len;
	return 1;
}

/* Picks the checkpoint; -EAGAIN when this node, the root, should sign its
 * own first. */
static int pick_checkpoint(struct build *b, uint64_t seq, bool may_sign, struct err *e)
{
	uint64_t wsize, nsize;
	int ret = held_covering(b, true, seq, &wsize, e);
	const uint8_t *root = node_root(b->nd);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	if (root && memcmp(root, b->author, KEY_BYTES) == 0) {
		if ((ret = held_covering(b, false, seq, &nsize, e)) != 0)
			return ret < 0 ? ret : 0;
		if (may_sign && memcmp(node_id(b->nd), b->author, KEY_BYTES) == 0)
			return -EAGAIN;
	}
	if (wsize)
		err_set(e, "no checkpoint co-signed by a witness covers entry %" PRIu64 " of %s; the newest witnessed "
			   "is at size %" PRIu64,
			seq, b->label, wsize);
	else
		err_set(e, "no checkpoint co-signed by a witness covers entry %" PRIu64 " of %s; none is witnessed yet",
			seq, b->label);
	return -ESRCH;
}

static int chain_add(struct chain_list *c, const uint8_t *env, size_t len, struct err *e)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].len == len && memcmp(c->v[i].data, env, len) == 0)
			return 0;
	if (c->n >= AUDIT_PROOF_CHAIN_MAX) {
		err_set(e, "more than %d trust entries would go into the proof", AUDIT_PROOF_CHAIN_MAX);
		return -E2BIG;
	}
	c->v[c->n++] = (ProtobufCBinaryData){.len = len, .data = (uint8_t *)env};
	return 0;
}

/* The trust entries that certify KEY, from the root down, added to the chain. */
static int chain_of(struct build *b, const uint8_t key[KEY_BYTES], struct err *e)
{
	const uint8_t *root = node_root(b->nd), *env[NODE_CHAIN_MAX], *val;
	size_t len[NODE_CHAIN_MAX], n = 0, vlen;
	struct node_chain w;
	struct store_origin o;
	uint8_t h[HASH_BYTES];
	int ret;

	if (root && memcmp(root, key, KEY_BYTES) == 0)
		return 0;
	node_chain_begin(&w, key);
	while ((ret = node_chain_next(b->t, &w, e)) == 0 && n < NODE_CHAIN_MAX) {
		if ((ret = store_state_get(b->t, CERT_RECORDS, w.issuer, w.subject, KEY_BYTES, &val, &vlen, &o, e)) < 0 ||
		    (ret = store_log_get(b->t, w.issuer, o.feed, o.seq, &env[n], &len[n], h, e)) < 0)
			break;
		n++;
		if (root && memcmp(w.issuer, root, KEY_BYTES) == 0)
			break;
	}
	node_chain_end(&w);
	if (ret == -ENOENT || ret == -ELOOP) {
		char hex[KEY_HEX];
		key_hex(hex, key);
		err_set(e, "the certificate chain of %.16s… does not reach the root here", hex);
	}
	if (ret < 0)
		return ret;
	while (n-- > 0)
		if ((ret = chain_add(&b->chain, env[n], len[n], e)) < 0)
			return ret;
	return 0;
}

static int chains(struct build *b, struct err *e)
{
	int ret = chain_of(b, b->author, e);

	for (size_t i = 0; ret == 0 && i < b->note.n_sigs; i++) {
		struct err ignore = {{0}};
		if (b->note.sigs[i].alg == NOTE_ALG_COSIGNATURE && note_sig_verify(&b->note, i))
			(void)chain_of(b, b->note.sigs[i].key, &ignore); /* an unknown cosigner: the check ignores it */
	}
	return ret;
}

/* --since: an older note of the same feed, signed by its author, whose
 * root is the tree of the entries held at its size. */
static int since(struct build *b, const uint8_t *text, size_t len, struct note *old, struct err *e)
{
	uint8_t root[TLOG_HASH_BYTES];
	int ret;

	if ((ret = note_parse((const char *)text, len, old, e)) < 0) {
		err_prefix(e, "--since");
		return -EINVAL;
	}
	if (memcmp(old->cp.author, b->author, KEY_BYTES) != 0 || strcmp(old->cp.feed, b->feed) != 0 ||
	    old->cp.size > b->note.cp.size) {
		err_set(e, "--since: that note is not an older checkpoint of %s (its size %" PRIu64 ", proving at %" PRIu64 ")",
			b->label, old->cp.size, b->note.cp.size);
		return -EINVAL;
	}
	if (!note_author_signed(old)) { /* its author is b->author: checked above */
		err_set(e, "--since: the note carries no valid signature by the author of %s", b->label);
		return -EINVAL;
	}
	if ((ret = store_tree_root(b->t, b->author, b->feed, old->cp.size, root, e)) < 0)
		return ret;
	if (memcmp(root, old->cp.root, TLOG_HASH_BYTES) != 0) {
		err_set(e, "--since: the note's root at size %" PRIu64 " is not the tree of the entries held: the author "
			   "signed two histories (keep that note: it is evidence)",
			old->cp.size);
		return -EBADE;
	}
	return store_tree_consistency(b->t, b->author, b->feed, old->cp.size, b->note.cp.size, b->cons, &b->n_cons, e);
}

static void fill_hashes(ProtobufCBinaryData *out, uint8_t h[][TLOG_HASH_BYTES], size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (ProtobufCBinaryData){.len = TLOG_HASH_BYTES, .data = h[i]};
}

/* The file: magic, length, Proof. */
static int encode(struct build *b, const uint8_t *env, size_t env_len, const uint8_t *since_text, size_t since_len,
		  uint8_t **file, size_t *len, struct err *e)
{
	Strata__Proof p = STRATA__PROOF__INIT;
	ProtobufCBinaryData path[TLOG_PATH_MAX], cons[TLOG_PATH_MAX];

	p.version = 1;
	p.checkpoint = (ProtobufCBinaryData){.len = b->note_len, .data = (uint8_t *)b->note_text};
	p.envelope = (ProtobufCBinaryData){.len = env_len, .data = (uint8_t *)env};
	fill_hashes(path, b->path, b->n_path);
	p.n_path = b->n_path;
	p.path = path;
	p.n_chain = b->chain.n;
	p.chain = b->chain.v;
	if (since_text) {
		p.has_old_checkpoint = true;
		p.old_checkpoint = (ProtobufCBinaryData){.len = since_len, .data = (uint8_t *)since_text};
		fill_hashes(cons, b->cons, b->n_cons);
		p.n_consistency = b->n_cons;
		p.consistency = cons;
	}
	size_t n = strata__proof__get_packed_size(&p);
	if (!(*file = malloc(AUDIT_PROOF_MAGIC_LEN + 4 + n))) {
		err_set(e, "out of memory writing a proof");
		return -ENOMEM;
	}
	memcpy(*file, AUDIT_PROOF_MAGIC, AUDIT_PROOF_MAGIC_LEN);
	be32_put(*file + AUDIT_PROOF_MAGIC_LEN, (uint32_t)n);
	strata__proof__pack(&p, *file + AUDIT_PROOF_MAGIC_LEN + 4);
	*len = AUDIT_PROOF_MAGIC_LEN + 4 + n;
	return 0;
}

/* Everything in one read transaction; -EAGAIN: sign the root's own first. */
static int build_in(struct build *b, const struct audit_proof_request *rq, bool may_sign, uint8_t **file,
		    size_t *len, struct err *e)
{
	struct store_head h;
	struct note old;
	const uint8_t *env;
	size_t env_len;
	uint8_t root[TLOG_HASH_BYTES], eh[HASH_BYTES];
	char hex[KEY_HEX];
	int ret;

	if ((ret = resolve_author(b, rq->author, e)) < 0)
		return ret;
	key_hex(hex, b->author);
	snprintf(b->label, sizeof b->label, "%.16s…/%s", hex, b->feed);
	if ((ret = store_head_get(b->t, b->author, b->feed, &h, e)) < 0)
		return ret == -ENOENT ? -ESRCH : ret;
	if (rq->seq < 1 || rq->seq > h.seq) {
		err_set(e, "%s holds entries 1..%" PRIu64 " here, not %" PRIu64, b->label, h.seq, rq->seq);
		return -ESRCH;
	}
	if ((ret = pick_checkpoint(b, rq->seq, may_sign, e)) < 0)
		return ret;
	if (b->note.cp.size > h.seq) {
		err_set(e, "the checkpoint of %s is at size %" PRIu64 ", past the %" PRIu64 " entries held", b->label,
			b->note.cp.size, h.seq);
		return -ESRCH;
	}
	if ((ret = store_tree_root(b->t, b->author, b->feed, b->note.cp.size, root, e)) < 0)
		return ret;
	if (memcmp(root, b->note.cp.root, TLOG_HASH_BYTES) != 0) {
		err_set(e, "the held checkpoint of %s at size %" PRIu64 " is not the tree of the entries held", b->label,
			b->note.cp.size);
		return -EBADE;
	}
	if ((ret = store_log_get(b->t, b->author, b->feed, rq->seq, &env, &env_len, eh, e)) < 0 ||
	    (ret = store_tree_inclusion(b->t, b->author, b->feed, rq->seq, b->note.cp.size, b->path, &b->n_path, e)) < 0 ||
	    (ret = chains(b, e)) < 0)
		return ret;
	if (rq->since_note && (ret = since(b, rq->since_note, rq->since_len, &old, e)) < 0)
		return ret;
	return encode(b, env, env_len, rq->since_note, rq->since_len, file, len, e);
}

static int sign_root_own(struct node *nd, const char *feed, struct err *e)
{
	struct store_txn *t = NULL;
	int ret;

	if ((ret = store_txn_begin(node_store(nd), true, &t, e)) < 0)
		return ret;
	if ((ret = node_checkpoint_sign_own(nd, t, feed, e)) == 0)
		ret = store_txn_commit(&t, e);
	store_txn_abort(&t);
	return ret;
}

int audit_proof_build(const char *dir, const struct audit_proof_request *rq, uint8_t **file, size_t *len,
		      struct audit_proof_info *info, struct err *e)
{
	struct build *b = calloc(1, sizeof *b);
	int ret;

	*file = NULL;
	*len = 0;
	if (!b) {
		err_set(e, "out of memory building a proof");
		return -ENOMEM;
	}
	b->feed = rq->feed;
	/* read-only without the key; with it only when the root signs its own */
	if ((ret = node_open(&b->nd, dir, NODE_RDONLY | NODE_NO_KEY, e)) < 0)
		goto out;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((ret = store_txn_begin(node_store(b->nd), false, &b->t, e)) < 0)
			goto out;
		ret = build_in(b, rq, attempt == 0, file, len, e);
		store_txn_abort(&b->t);
		if (ret != -EAGAIN)
			break;
		b->chain.n = 0;
		node_close(&b->nd);
		if ((ret = node_open(&b->nd, dir, 0, e)) < 0 || (ret = sign_root_own(b->nd, rq->feed, e)) < 0)
			goto out;
	}
	if (ret < 0)
		goto out;
	/* what the auditor will check, checked here first */
	const uint8_t *root = node_root(b->nd);
	if ((ret = audit_proof_check(*file, *len, root ? root : node_id(b->nd), info, e)) < 0) {
		err_prefix(e, "the proof built here does not check"); /* e.g. its witness's chain is not held here */
		ret = -ESRCH;
	}
out:
	if (ret < 0) {
		free(*file);
		*file = NULL;
		*len = 0;
	}
	node_close(&b->nd);
	free(b);
	return ret;
}
