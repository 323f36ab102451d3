/* SPDX-License-Identifier: MIT */
/*
 * Taking a received checkpoint (issue 15, docs/PROTOCOL.md "Checkpoints and
 * proofs"): a signed note of feed (A, F) from a link, a bundle or a file.
 *
 *  - The author's signature must verify, and A must be a key this node can
 *    verify (certified, its chain to the root: node_authorize). A
 *    cosignature line that does not verify refuses the whole note (someone
 *    altered it); a line by a key that is not a witness of A (not on A's
 *    certificate chain) means nothing here and is dropped.
 *  - size > head: AHEAD, not kept (the entries come first; a revoked key's
 *    note of entries dated at or after its revocation is always AHEAD, as
 *    those entries are never stored).
 *  - the root of the note is compared with store_tree_root(size), the tree
 *    this node computed from the entries it verified and holds:
 *      equal     -> kept (node_checkpoint_put merges the lines); and when
 *                   this node is on A's certificate chain (A's issuer or
 *                   an issuer above: parents, grandparents, a peer's host),
 *                   the feed is not frozen, A not revoked, and the size is
 *                   larger than the last size it co-signed, it co-signs;
 *      different -> evidence (kept under the evidence index with the note
 *                   of the same size this node holds, if any), the feed
 *                   frozen like an equivocation.
 * A witness never co-signs a root it did not compute from its own stored
 * chain, and that chain is append-only and frozen on any conflict: so it
 * never co-signs two inconsistent checkpoints of one feed.
 */
#include <errno.h>
#include <string.h>

#include "node/core/checkpoint.h"
#include "node/core/node_internal.h"

/* Is KEY on the certificate chain of AUTHOR (its issuer, or above)? On a
 * node that joined another domain as a peer, its own chain is its own
 * root: the host that certified it (its parent) witnesses its feeds too. */
static int on_chain(const struct node *nd, struct store_txn *t, const uint8_t author[KEY_BYTES],
		    const uint8_t key[KEY_BYTES], bool *yes, struct err *e)
{
	struct node_chain w;
	int ret;

	*yes = nd->has_peer_root && memcmp(author, nd->id, KEY_BYTES) == 0 && nd->config.has_parent &&
	       memcmp(key, nd->config.parent_key, KEY_BYTES) == 0;
	if (*yes)
		return 0;
	node_chain_begin(&w, author);
	while (!*yes && (ret = node_chain_next(t, &w, e)) == 0)
		*yes = memcmp(w.issuer, key, KEY_BYTES) == 0 && memcmp(w.subject, key, KEY_BYTES) != 0;
	node_chain_end(&w);
	if (*yes || ret == -ENOENT || ret == -ELOOP)
		return 0;
	return ret;
}

/* Checks the signatures of n: the author's must verify; a cosignature by a
 * witness of the author must verify; every other line is dropped. */
static int check_sigs(const struct node *nd, struct store_txn *t, struct note *n, struct err *e)
{
	char who[KEY_HEX];
	bool author_signed = false;
	size_t k = 0;
	int ret;

	key_hex(who, n->cp.author);
	for (size_t i = 0; i < n->n_sigs; i++) {
		const struct note_sig *s = &n->sigs[i];
		bool keep = false;

		if (s->alg == NOTE_ALG_ED25519 && memcmp(s->key, n->cp.author, KEY_BYTES) == 0) {
			if (!note_sig_verify(n, i)) {
				err_set(e, "the author's signature on the checkpoint of %s/%s does not verify", who,
					n->cp.feed);
				return -EBADMSG;
			}
			keep = author_signed = true;
		} else if (s->alg == NOTE_ALG_COSIGNATURE) {
			if ((ret = on_chain(nd, t, n->cp.author, s->key, &keep, e)) < 0)
				return ret;
			if (keep && !note_sig_verify(n, i)) {
				char by[KEY_HEX];

				key_hex(by, s->key);
				err_set(e, "the cosignature of %s on the checkpoint of %s/%s does not verify", by, who,
					n->cp.feed);
				return -EBADMSG;
			}
		}
		if (keep)
			n->sigs[k++] = *s;
	}
	n->n_sigs = k;
	if (!author_signed) {
		err_set(e, "the checkpoint of %s/%s is not signed by its author", who, n->cp.feed);
		return -EBADMSG;
	}
	return 0;
}

/* The largest size this node co-signed of the feed, among the notes held. */
static uint64_t cosigned_size(struct store_txn *t, const struct node *nd, const struct checkpoint *cp)
{
	uint64_t best = 0;

	for (int w = 0; w < 2; w++) {
		const uint8_t *b;
		size_t len;
		struct note held;
		struct err ignore = {0};

		if (node_checkpoint_get(t, cp->author, cp->feed, w == 1, &b, &len, &ignore) < 0 ||
		    note_parse((const char *)b, len, &held, &ignore) < 0)
			continue;
		for (size_t i = 0; i < held.n_sigs; i++)
			if (held.sigs[i].alg == NOTE_ALG_COSIGNATURE && memcmp(held.sigs[i].key, nd->id, KEY_BYTES) == 0 &&
			    held.cp.size > best)
				best = held.cp.size;
	}
	return best;
}

/* Adds this node's cosignature to n when it witnesses n's author. */
static int maybe_cosign(struct node *nd, struct store_txn *t, struct note *n, const struct store_head *h,
			struct err *e)
{
	struct note_sig s;
	bool witness;
	int ret;

	if (!nd->key || memcmp(n->cp.author, nd->id, KEY_BYTES) == 0 || (h->flags & STORE_FEED_FROZEN))
		return 0;
	if ((ret = on_chain(nd, t, n->cp.author, nd->id, &witness, e)) < 0)
		return ret;
	if (!witness || n->cp.size <= cosigned_size(t, nd, &n->cp))
		return 0;
	if (node_check_revoked(nd, t, n->cp.author, node_now_ms(), &(struct err){0}) < 0)
		return 0; /* a revoked key's checkpoints are not co-signed any more */
	if ((ret = note_cosign(nd->key, n, node_now_ms() / 1000, &s, e)) < 0 || (ret = note_add_sig(n, &s, e)) < 0)
		return ret;
	return 1;
}

/* The note of n's size this node holds, if any: its bytes into out. */
static size_t held_of_size(struct store_txn *t, const struct checkpoint *cp, const uint8_t **out)
{
	for (int w = 0; w < 2; w++) {
		const uint8_t *b;
		size_t len;
		struct note held;
		struct err ignore = {0};

		if (node_checkpoint_get(t, cp->author, cp->feed, w == 1, &b, &len, &ignore) == 0 &&
		    note_parse((const char *)b, len, &held, &ignore) == 0 && held.cp.size == cp->size &&
		    memcmp(held.cp.root, cp->root, TLOG_HASH_BYTES) != 0) {
			*out = b;
			return len;
		}
	}
	*out = NULL;
	return 0;
}

static int inconsistent(struct store_txn *t, const struct note *n, const uint8_t *note, size_t len, bool *known,
			struct err *e)
{
	const uint8_t *other;
	size_t olen = held_of_size(t, &n->cp, &other);

	return node_evidence_checkpoint_store(t, n->cp.author, n->cp.feed, n->cp.size, note, len, other, olen, known,
					      e);
}

/* Parses a received note and checks its author and signatures. */
static int take_note(struct node *nd, struct store_txn *t, const uint8_t *note, size_t len, struct note *n,
		     struct err *e)
{
	int ret;

	if (len > NOTE_MAX) {
		err_set(e, "a checkpoint of %zu bytes exceeds the limit of %d", len, NOTE_MAX);
		return -EINVAL;
	}
	if ((ret = note_parse((const char *)note, len, n, e)) < 0 ||
	    (ret = node_authorize(nd, t, n->cp.author, n->cp.feed, 0, e)) < 0)
		return ret;
	return check_sigs(nd, t, n, e);
}

/* 1 when n's size is held and its root is the tree of the entries held, 0
 * when it is not (inconsistent), 2 when the entries are not held (ahead). */
static int compare_tree(struct store_txn *t, const struct note *n, struct store_head *h, struct err *e)
{
	uint8_t root[TLOG_HASH_BYTES];
	int ret = store_head_get(t, n->cp.author, n->cp.feed, h, e);

	if (ret == -ENOENT || (ret == 0 && n->cp.size > h->seq))
		return 2;
	if (ret < 0 || (ret = store_tree_root(t, n->cp.author, n->cp.feed, n->cp.size, root, e)) < 0)
		return ret;
	return memcmp(root, n->cp.root, TLOG_HASH_BYTES) == 0;
}

int node_checkpoint_check(struct node *nd, struct store_txn *t, const uint8_t *note, size_t len, struct note *n,
			  enum node_ckpt_outcome *out, struct err *e)
{
	struct store_head h;
	int ret;

	if ((ret = take_note(nd, t, note, len, n, e)) < 0 || (ret = compare_tree(t, n, &h, e)) < 0)
		return ret;
	*out = ret == 2 ? NODE_CKPT_AHEAD : ret == 0 ? NODE_CKPT_INCONSISTENT : NODE_CKPT_KNOWN;
	return 0;
}

int node_checkpoint_evidence(struct node *nd, struct store_txn *t, const uint8_t *first, size_t first_len,
			     const uint8_t *second, size_t second_len, bool *fresh, struct err *e)
{
	struct note a, b;
	struct store_head h;
	bool known = true;
	int ret;

	*fresh = false;
	if ((ret = take_note(nd, t, first, first_len, &a, e)) < 0)
		return ret;
	if (second_len) {
		if ((ret = take_note(nd, t, second, second_len, &b, e)) < 0)
			return ret;
		if (memcmp(a.cp.author, b.cp.author, KEY_BYTES) != 0 || strcmp(a.cp.feed, b.cp.feed) != 0 ||
		    a.cp.size != b.cp.size || memcmp(a.cp.root, b.cp.root, TLOG_HASH_BYTES) == 0) {
			err_set(e, "not evidence: the two checkpoints are not of one feed and size with different roots");
			return -EINVAL;
		}
		ret = node_evidence_checkpoint_store(t, a.cp.author, a.cp.feed, a.cp.size, first, first_len, second,
						     second_len, &known, e);
	} else if ((ret = compare_tree(t, &a, &h, e)) == 0) {
		ret = inconsistent(t, &a, first, first_len, &known, e);
	} else if (ret > 0) {
		err_set(e, ret == 1 ? "not evidence: the checkpoint matches the entries held here"
				    : "the checkpoint cannot be checked here: this node holds fewer entries of the feed");
		return -EINVAL;
	}
	*fresh = ret == 0 && !known;
	return ret;
}

int node_checkpoint_ingest(struct node *nd, struct store_txn *t, const uint8_t *note, size_t len, bool cosign,
			   enum node_ckpt_outcome *out, struct err *e)
{
	struct note n;
	struct store_head h;
	bool known;
	int ret;

	*out = NODE_CKPT_KNOWN;
	if ((ret = take_note(nd, t, note, len, &n, e)) < 0 || (ret = compare_tree(t, &n, &h, e)) < 0)
		return ret;
	if (ret == 2) {
		*out = NODE_CKPT_AHEAD;
		return 0;
	}
	if (ret == 0) {
		*out = NODE_CKPT_INCONSISTENT;
		return inconsistent(t, &n, note, len, &known, e);
	}
	if (cosign && (ret = maybe_cosign(nd, t, &n, &h, e)) < 0)
		return ret;
	ret = node_checkpoint_put(t, &n, e);
	if (ret == -EBADE) { /* a held note of this size has another root: it cannot, but say so */
		*out = NODE_CKPT_INCONSISTENT;
		return inconsistent(t, &n, note, len, &known, e);
	}
	if (ret < 0)
		return ret;
	*out = ret == 1 ? NODE_CKPT_STORED : NODE_CKPT_KNOWN;
	return 0;
}
