/* SPDX-License-Identifier: MIT */
/*
 * The light audit of a proof file (node/audit/proof.h): checked against
 * the pinned root key alone, with O(log n) hashes and the few trust
 * entries the file carries. The rules of the chain are node_authorize's
 * (node/core/authorize.c) over the certificates the entries carry: an
 * issuer is the root or a key certified earlier in the file with the role
 * child (or root); a child certified by a child is named below it; the
 * author's certificate allows the feed. The first certificate of a key in
 * the file keeps it. Revocations cannot be seen: a proof holds none.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/audit/proof.h"
#include "protocol/trust_rules.h"

#define CERT_RECORDS "cert"

struct known {
	uint8_t key[KEY_BYTES];
	uint8_t issuer[KEY_BYTES];
	Strata__Certificate *cert; /* NULL for the root */
};

struct check {
	const uint8_t *root;
	struct known k[AUDIT_PROOF_CHAIN_MAX + 1];
	size_t n;
};

bool audit_proof_is(const uint8_t *head, size_t len)
{
	return len >= AUDIT_PROOF_MAGIC_LEN && memcmp(head, AUDIT_PROOF_MAGIC, AUDIT_PROOF_MAGIC_LEN) == 0;
}

static struct known *find(struct check *c, const uint8_t key[KEY_BYTES])
{
	for (size_t i = 0; i < c->n; i++)
		if (!memcmp(c->k[i].key, key, KEY_BYTES))
			return &c->k[i];
	return NULL;
}

static void short_hex(char out[17], const uint8_t key[KEY_BYTES])
{
	hex_encode(out, key, 8);
}

/* One certificate put by issuer I (known) in a trust entry. */
static int take_cert(struct check *c, const struct known *by, const struct op *op, struct err *e)
{
	Strata__Certificate *cert;
	char who[17];

	if (op->key_len != KEY_BYTES || find(c, op->key))
		return 0; /* not a key; or known already: the first certificate keeps it */
	if (!op->value) {
		err_set(e, "a trust entry of the proof lacks the value of a certificate it puts");
		return -EBADMSG;
	}
	if (!(cert = strata__certificate__unpack(NULL, op->value_len, op->value))) {
		err_set(e, "a trust entry of the proof holds a certificate that does not decode");
		return -EBADMSG;
	}
	short_hex(who, op->key);
	if (cert->subject.len != KEY_BYTES || memcmp(cert->subject.data, op->key, KEY_BYTES) != 0 ||
	    !org_path_valid(cert->name)) {
		err_set(e, "the certificate of %s… in the proof names another subject or a bad org path", who);
		goto bad;
	}
	if (by->cert && by->cert->role != STRATA__ROLE__ROLE_CHILD && by->cert->role != STRATA__ROLE__ROLE_ROOT) {
		err_set(e, "%s (%s) may not certify others, yet certifies %s", by->cert->name,
			cert_role_word(by->cert->role), cert->name);
		goto bad;
	}
	if (by->cert && by->cert->role == STRATA__ROLE__ROLE_CHILD && cert->role == STRATA__ROLE__ROLE_CHILD &&
	    !org_path_under(cert->name, by->cert->name)) {
		err_set(e, "%s certified %s, which is not below it", by->cert->name, cert->name);
		goto bad;
	}
	memcpy(c->k[c->n].key, op->key, KEY_BYTES);
	memcpy(c->k[c->n].issuer, by->key, KEY_BYTES);
	c->k[c->n++].cert = cert;
	return 0;
bad:
	strata__certificate__free_unpacked(cert, NULL);
	return -EBADMSG;
}

static int take_chain(struct check *c, const Strata__Proof *p, struct err *e)
{
	int ret = 0;

	if (p->n_chain > AUDIT_PROOF_CHAIN_MAX) {
		err_set(e, "the proof carries %zu trust entries (at most %d)", p->n_chain, AUDIT_PROOF_CHAIN_MAX);
		return -EBADMSG;
	}
	for (size_t i = 0; i < p->n_chain && ret == 0; i++) {
		struct changeset *cs = NULL;
		const struct known *by;
		char who[17];
		if ((ret = changeset_decode(&cs, p->chain[i].data, p->chain[i].len, e)) < 0 ||
		    (ret = changeset_verify(cs, e)) < 0) {
			err_prefix(e, "trust entry %zu of the proof", i + 1);
			ret = -EBADMSG;
		} else if (strcmp(cs->feed, FEED_TRUST) != 0 || !(by = find(c, cs->author))) {
			short_hex(who, cs->author);
			err_set(e, "trust entry %zu of the proof is by %s…, which nothing before it certifies (or not in "
				   "its trust feed)",
				i + 1, who);
			ret = -EBADMSG;
		} else {
			for (size_t j = 0; j < cs->n_ops && ret == 0; j++)
				if (cs->ops[j].kind == OP_PUT && !strcmp(cs->ops[j].collection, CERT_RECORDS))
					ret = take_cert(c, by, &cs->ops[j], e);
		}
		changeset_destroy(&cs);
	}
	return ret;
}

/* Is KEY above the author on the author's chain (a witness of it)? */
static bool is_witness(struct check *c, const uint8_t author[KEY_BYTES], const uint8_t key[KEY_BYTES])
{
	const struct known *k = find(c, author);

	for (size_t depth = 0; k && k->cert && depth <= AUDIT_PROOF_CHAIN_MAX; depth++) {
		if (!memcmp(k->issuer, key, KEY_BYTES))
			return true;
		k = find(c, k->issuer);
	}
	return false;
}

static void name_of(struct check *c, const uint8_t key[KEY_BYTES], char out[AUDIT_PROOF_NAME_MAX])
{
	const struct known *k = find(c, key);

	snprintf(out, AUDIT_PROOF_NAME_MAX, "%s", k && k->cert ? k->cert->name : k ? "(root)" : "");
}

/* The note: the author's signature, and each cosignature by a witness. */
static int check_note(struct check *c, const struct note *n, struct audit_proof_info *info, struct err *e)
{
	bool author_ok = false;
	char who[17];

	for (size_t i = 0; i < n->n_sigs; i++) {
		const struct note_sig *s = &n->sigs[i];
		if (s->alg == NOTE_ALG_ED25519 && !memcmp(s->key, n->cp.author, KEY_BYTES))
			author_ok = note_sig_verify(n, i);
		if (s->alg != NOTE_ALG_COSIGNATURE || !is_witness(c, n->cp.author, s->key))
			continue; /* a line by a key this proof does not certify as a witness: not counted */
		short_hex(who, s->key);
		if (!note_sig_verify(n, i)) {
			err_set(e, "the cosignature of %s… on the checkpoint does not verify", who);
			return -EBADMSG;
		}
		struct audit_proof_witness *w = &info->witnesses[info->n_witnesses++];
		memcpy(w->key, s->key, KEY_BYTES);
		w->time = s->time;
		name_of(c, s->key, w->name);
	}
	if (!author_ok) {
		err_set(e, "the checkpoint carries no valid signature by its author");
		return -EBADMSG;
	}
	info->root_own = memcmp(n->cp.author, c->root, KEY_BYTES) == 0;
	if (!info->n_witnesses && !info->root_own) {
		err_set(e, "no witness above the author co-signed the checkpoint");
		return -EBADMSG;
	}
	info->root_own = info->root_own && !info->n_witnesses;
	return 0;
}

/* The entry: signed by the checkpoint's author, in its feed, at a seq the
 * checkpoint covers, by a key allowed to publish that feed. */
static int check_entry(struct check *c, const Strata__Proof *p, const struct note *n, struct changeset **cs,
		       struct err *e)
{
	const struct known *k;

	if (changeset_decode(cs, p->envelope.data, p->envelope.len, e) < 0 || changeset_verify(*cs, e) < 0) {
		err_prefix(e, "the entry of the proof");
		return -EBADMSG;
	}
	if (memcmp((*cs)->author, n->cp.author, KEY_BYTES) != 0 || strcmp((*cs)->feed, n->cp.feed) != 0 ||
	    (*cs)->seq > n->cp.size) {
		err_set(e, "the entry (#%" PRIu64 " of %s) is not in the checkpoint's feed and size (%s, %" PRIu64 ")",
			(*cs)->seq, (*cs)->feed, n->cp.feed, n->cp.size);
		return -EBADMSG;
	}
	if (memcmp(n->cp.author, c->root, KEY_BYTES) != 0) {
		if (!(k = find(c, n->cp.author))) {
			err_set(e, "the proof's trust entries do not certify the author");
			return -EBADMSG;
		}
		if (!cert_allows(k->cert, n->cp.feed)) {
			err_set(e, "the certificate of %s does not allow feed %s", k->cert->name, n->cp.feed);
			return -EBADMSG;
		}
	}
	return 0;
}

static int check_paths(const Strata__Proof *p, const struct note *n, const struct changeset *cs,
		       struct audit_proof_info *info, struct err *e)
{
	uint8_t path[TLOG_PATH_MAX][TLOG_HASH_BYTES], leaf[TLOG_HASH_BYTES];
	const ProtobufCBinaryData *v[2] = {p->path, p->consistency};
	size_t nv[2] = {p->n_path, p->n_consistency};
	struct note old;

	for (int k = 0; k < 2; k++) {
		if (nv[k] > TLOG_PATH_MAX) {
			err_set(e, "a proof path of %zu hashes (at most %d)", nv[k], TLOG_PATH_MAX);
			return -EBADMSG;
		}
		for (size_t i = 0; i < nv[k]; i++)
			if (v[k][i].len != TLOG_HASH_BYTES) {
				err_set(e, "a proof path holds a hash of %zu bytes", v[k][i].len);
				return -EBADMSG;
			}
	}
	for (size_t i = 0; i < p->n_path; i++)
		memcpy(path[i], p->path[i].data, TLOG_HASH_BYTES);
	tlog_leaf_hash(leaf, cs->hash);
	if (!tlog_check_inclusion(cs->seq - 1, n->cp.size, leaf, (const uint8_t(*)[TLOG_HASH_BYTES])path, p->n_path,
				  n->cp.root)) {
		err_set(e, "the inclusion path of entry #%" PRIu64 " does not lead to the checkpoint's root", cs->seq);
		return -EBADMSG;
	}
	info->n_path = p->n_path;
	if (!p->has_old_checkpoint)
		return 0;
	if (note_parse((const char *)p->old_checkpoint.data, p->old_checkpoint.len, &old, e) < 0) {
		err_prefix(e, "the older checkpoint of the proof");
		return -EBADMSG;
	}
	bool ok = note_author_signed(&old); /* its author must be n's: checked below */
	for (size_t i = 0; i < p->n_consistency; i++)
		memcpy(path[i], p->consistency[i].data, TLOG_HASH_BYTES);
	if (!ok || memcmp(old.cp.author, n->cp.author, KEY_BYTES) != 0 || strcmp(old.cp.feed, n->cp.feed) != 0 ||
	    !tlog_check_consistency(old.cp.size, old.cp.root, n->cp.size, n->cp.root,
				    (const uint8_t(*)[TLOG_HASH_BYTES])path, p->n_consistency)) {
		err_set(e, "the older checkpoint (size %" PRIu64 ") is not signed by the author or not consistent with "
			   "the newer one",
			old.cp.size);
		return -EBADMSG;
	}
	info->since_size = old.cp.size;
	return 0;
}

static int decode_file(const uint8_t *file, size_t len, Strata__Proof **out, struct err *e)
{
	if (!audit_proof_is(file, len)) {
		err_set(e, "not a Strata proof file (no STRATA-PROOF-1 magic)");
		return -EBADMSG;
	}
	if (len < AUDIT_PROOF_MAGIC_LEN + 4 || be32_get(file + AUDIT_PROOF_MAGIC_LEN) != len - AUDIT_PROOF_MAGIC_LEN - 4) {
		err_set(e, "the proof file's length field does not match its %zu bytes (cut, or bytes after it)", len);
		return -EBADMSG;
	}
	*out = strata__proof__unpack(NULL, len - AUDIT_PROOF_MAGIC_LEN - 4, file + AUDIT_PROOF_MAGIC_LEN + 4);
	if (!*out || (*out)->base.n_unknown_fields || (*out)->version != 1) {
		err_set(e, "the proof record does not decode as a version 1 Proof (or holds unknown fields)");
		return -EBADMSG;
	}
	return 0;
}

int audit_proof_check(const uint8_t *file, size_t len, const uint8_t root[KEY_BYTES], struct audit_proof_info *info,
		      struct err *e)
{
	struct check *c = calloc(1, sizeof *c);
	Strata__Proof *p = NULL;
	struct changeset *cs = NULL;
	struct note n;
	int ret;

	memset(info, 0, sizeof *info);
	if (!c) {
		err_set(e, "out of memory checking a proof");
		return -ENOMEM;
	}
	c->root = root;
	memcpy(c->k[0].key, root, KEY_BYTES);
	c->n = 1;
	if ((ret = decode_file(file, len, &p, e)) < 0)
		goto out;
	if (note_parse((const char *)p->checkpoint.data, p->checkpoint.len, &n, e) < 0) {
		err_prefix(e, "the checkpoint of the proof");
		ret = -EBADMSG;
		goto out;
	}
	if ((ret = take_chain(c, p, e)) < 0 || (ret = check_entry(c, p, &n, &cs, e)) < 0 ||
	    (ret = check_note(c, &n, info, e)) < 0 || (ret = check_paths(p, &n, cs, info, e)) < 0)
		goto out;
	memcpy(info->author, n.cp.author, KEY_BYTES);
	name_of(c, n.cp.author, info->author_name);
	snprintf(info->feed, sizeof info->feed, "%s", n.cp.feed);
	info->seq = cs->seq;
	info->size = n.cp.size;
	memcpy(info->root, n.cp.root, TLOG_HASH_BYTES);
	info->n_chain = p->n_chain;
	info->file_len = len;
out:
	changeset_destroy(&cs);
	if (p)
		strata__proof__free_unpacked(p, NULL);
	for (size_t i = 1; i < c->n; i++)
		strata__certificate__free_unpacked(c->k[i].cert, NULL);
	free(c);
	return ret < 0 ? -EBADMSG : 0;
}
