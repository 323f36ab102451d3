/* SPDX-License-Identifier: MIT */
/*
 * The transfer protocol (transfer.h): who takes which step, the checks each
 * step makes against what this node holds, and the steps themselves.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/transfer/transfer.h"

#define CHAIN_MAX (NODE_CHAIN_MAX + 1) /* a key and the issuers of its chain */
#define CLOSED_INDEX "transfer-closed" /* own releases whose outcome was applied */

/* --- small helpers --- */

static void note_f(transfer_note_fn note, void *arg, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note_f(transfer_note_fn note, void *arg, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	note(arg, msg);
}

static bool same(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, KEY_BYTES) == 0;
}

static void name_of(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], char out[256])
{
	if (node_key_name(n, t, key, out) < 0) {
		hex_encode(out, key, 8);
		strcat(out, "…");
	}
}

/* Reads (collection, key) of the unit owner belongs to, whichever of its
 * keys wrote it (node_key_chain: a unit keeps its records across key
 * rotations); the key that did into *by (may be NULL). As store_state_get. */
static int unit_get(struct store_txn *t, const char *collection, const uint8_t owner[KEY_BYTES], const char *key,
		    const uint8_t **v, size_t *vl, struct store_origin *o, uint8_t *by, struct err *e)
{
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES];
	size_t nkeys = node_key_chain(t, owner, keys, NODE_KEYS_MAX);
	int ret = -ENOENT;

	for (size_t i = 0; i < nkeys && ret == -ENOENT; i++) {
		memset(e, 0, sizeof *e);
		ret = store_state_get(t, collection, keys[i], (const uint8_t *)key, strlen(key), v, vl, o, e);
		if (ret == 0 && by)
			memcpy(by, keys[i], KEY_BYTES);
	}
	return ret;
}

/* Reads and decodes (collection, owner, key). -ENOENT if absent. */
static int get_rec(struct store_txn *t, const struct record_type *rt, const uint8_t owner[KEY_BYTES], const char *key,
		   void **out, struct store_origin *o, struct err *e)
{
	const uint8_t *v;
	size_t vl;
	struct err why = {0};
	int ret = unit_get(t, rt->collection, owner, key, &v, &vl, o, NULL, &why);

	*out = NULL;
	if (ret < 0) {
		if (ret != -ENOENT)
			err_set(e, "%s", why.msg);
		return ret;
	}
	if (!v || !(*out = protobuf_c_message_unpack(rt->descriptor, NULL, vl, v))) {
		err_set(e, "the stored %s %s does not decode (erased?); run strata verify", rt->noun, key);
		return -EIO;
	}
	return 0;
}

static void free_rec(void *m)
{
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

static bool has_rec(struct store_txn *t, const char *collection, const uint8_t owner[KEY_BYTES], const char *key)
{
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};

	return unit_get(t, collection, owner, key, &v, &vl, NULL, NULL, &ignore) == 0;
}

/* The hash of the entry that last wrote (collection, owner, key). */
static int entry_hash(struct store_txn *t, const char *collection, const uint8_t owner[KEY_BYTES], const char *key,
		      uint8_t hash[HASH_BYTES], struct err *e)
{
	const uint8_t *v, *b;
	size_t vl, bl;
	struct store_origin o;
	uint8_t by[KEY_BYTES];
	int ret = unit_get(t, collection, owner, key, &v, &vl, &o, by, e);

	if (ret < 0)
		return ret;
	return store_log_get(t, by, o.feed, o.seq, &b, &bl, hash, e);
}

static int put_msg(struct node_writer *w, const char *collection, const char *key, const ProtobufCMessage *m,
		   struct err *e)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	int ret;

	if (!buf) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	protobuf_c_message_pack(m, buf);
	ret = node_writer_put(w, collection, (const uint8_t *)key, strlen(key), buf, len, e);
	free(buf);
	return ret;
}

/* node_writer_begin, leaving e empty on success (a feed's first entry
 * leaves a "no feed" note in it, and err_set keeps the first message). */
static int begin(struct node *n, const char *feed, struct node_writer **w, struct err *e)
{
	int ret = node_writer_begin(n, feed, w, e);

	if (ret == 0)
		memset(e, 0, sizeof *e);
	return ret;
}

/* Splits "<hex>/<id>" into the old branch's key and the id. */
static int split_key(const uint8_t *key, size_t len, uint8_t from[KEY_BYTES], char id[TRANSFER_ID_MAX + 1])
{
	char hex[KEY_HEX];

	if (len < KEY_HEX + 1 || len > TRANSFER_KEY_MAX || key[KEY_HEX - 1] != '/')
		return -EINVAL;
	memcpy(hex, key, KEY_HEX - 1);
	hex[KEY_HEX - 1] = '\0';
	memcpy(id, key + KEY_HEX, len - KEY_HEX);
	id[len - KEY_HEX] = '\0';
	return hex_decode(from, KEY_BYTES, hex) < 0 || !transfer_id_valid(id) ? -EINVAL : 0;
}

/* --- positions in the tree --- */

struct chain {
	uint8_t k[CHAIN_MAX][KEY_BYTES];
	size_t n;
};

/* KEY and its issuers up to this domain's root, each a child (or the
 * root). -ENOENT when the chain breaks or ends elsewhere. */
static int chain_of(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], struct chain *c)
{
	const uint8_t *root = node_root(n);
	struct node_chain w;
	struct err ignore = {0};
	int ret = -ENOENT;

	c->n = 0;
	memcpy(c->k[c->n++], key, KEY_BYTES);
	node_chain_begin(&w, key);
	while (c->n < CHAIN_MAX) {
		if (root && same(c->k[c->n - 1], root)) {
			ret = 0;
			break;
		}
		if (node_chain_next(t, &w, &ignore) < 0 ||
		    (w.cert->role != STRATA__ROLE__ROLE_CHILD && w.cert->role != STRATA__ROLE__ROLE_ROOT) ||
		    same(w.issuer, w.subject))
			break;
		memcpy(c->k[c->n++], w.issuer, KEY_BYTES);
	}
	node_chain_end(&w);
	return ret;
}

/* The lowest common ancestor of a and b (either may be it). -ENOENT if
 * either is not a node of this domain. */
static int lca_of(struct node *n, struct store_txn *t, const uint8_t a[KEY_BYTES], const uint8_t b[KEY_BYTES],
		  uint8_t out[KEY_BYTES])
{
	struct chain ca, cb;

	if (chain_of(n, t, a, &ca) < 0 || chain_of(n, t, b, &cb) < 0)
		return -ENOENT;
	for (size_t i = 0; i < ca.n; i++)
		for (size_t j = 0; j < cb.n; j++)
			if (same(ca.k[i], cb.k[j])) {
				memcpy(out, ca.k[i], KEY_BYTES);
				return 0;
			}
	return -ENOENT;
}

struct by_name {
	struct store_txn *t;
	const char *name;
	uint8_t key[KEY_BYTES];
	size_t found;
};

static int match_name(const struct store_record *r, void *arg)
{
	struct by_name *b = arg;
	Strata__Certificate *c, *indexed = NULL;
	uint8_t issuer[KEY_BYTES];
	struct err ignore = {0};

	if (!r->value || r->key_len != KEY_BYTES || !(c = strata__certificate__unpack(NULL, r->value_len, r->value)))
		return 0;
	/* the certificate that counts is the indexed one (the first issuer keeps a key);
	 * a key replaced by rotation is its unit's old key: the unit goes by its current one */
	if (strcmp(c->name, b->name) == 0 && node_key_successor(b->t, r->key, issuer) < 0 &&
	    (c->role == STRATA__ROLE__ROLE_CHILD || c->role == STRATA__ROLE__ROLE_ROOT) &&
	    node_cert_get(b->t, r->key, issuer, &indexed, &ignore) == 0 && same(issuer, r->owner) &&
	    (!b->found || !same(b->key, r->key))) {
		memcpy(b->key, r->key, KEY_BYTES);
		b->found++;
	}
	if (indexed)
		strata__certificate__free_unpacked(indexed, NULL);
	strata__certificate__free_unpacked(c, NULL);
	return 0;
}

int transfer_resolve(struct node *n, struct store_txn *t, const char *who, uint8_t key[KEY_BYTES], char *name,
		     struct err *e)
{
	struct chain c;
	char buf[256];
	int ret;

	if (strlen(who) == KEY_HEX - 1 && hex_decode(key, KEY_BYTES, who) == 0) {
		if (node_key_name(n, t, key, buf) < 0) {
			err_set(e, "no node with key %.16s… is known here", who);
			return -ESRCH;
		}
	} else if (!org_path_valid(who)) {
		err_set(e, "\"%s\" is neither an org path nor a node key", who);
		return -EINVAL;
	} else if (strcmp(who, node_name(n)) == 0) {
		memcpy(key, node_id(n), KEY_BYTES);
		snprintf(buf, sizeof buf, "%s", who);
	} else {
		struct by_name b = {.t = t, .name = who};

		if ((ret = store_state_each(t, "cert", NULL, match_name, &b, e)) < 0)
			return ret;
		if (!b.found) {
			err_set(e, "no branch named %s is known here", who);
			return -ESRCH;
		}
		if (b.found > 1) {
			err_set(e, "%zu nodes are named %s; give the node's key instead", b.found, who);
			return -EINVAL;
		}
		memcpy(key, b.key, KEY_BYTES);
		snprintf(buf, sizeof buf, "%s", who);
	}
	if (chain_of(n, t, key, &c) < 0) {
		err_set(e, "%s is not a branch of this trust domain", buf);
		return -ESRCH;
	}
	if (name)
		snprintf(name, 256, "%s", buf);
	return 0;
}

/* --- step 2: forward (the common ancestor) --- */

/* Forwards release ID of FROM, checked in the writer's transaction. 1 when
 * written, 0 when there is nothing to do (already forwarded; with
 * strict, that is an error), negative on error. */
static int forward_one(struct node *n, const uint8_t from[KEY_BYTES], const char *id, bool approved, bool strict,
		       transfer_note_fn note, void *arg, struct err *e)
{
	struct node_writer *w = NULL;
	struct store_txn *t;
	Strata__Release *r = NULL;
	Strata__Forward f = STRATA__FORWARD__INIT;
	uint8_t lca[KEY_BYTES], hash[HASH_BYTES];
	char key[TRANSFER_KEY_MAX + 1], today[11], from_name[256];
	int ret;

	if (transfer_key(key, from, id) < 0) {
		err_set(e, "\"%s\" is not a transfer id", id);
		return -EINVAL;
	}
	if ((ret = begin(n, "down", &w, e)) < 0)
		return ret;
	t = node_writer_txn(w);
	name_of(n, t, from, from_name);
	if ((ret = get_rec(t, &record_release, from, id, (void **)&r, NULL, e)) < 0) {
		if (ret == -ENOENT) {
			err_set(e, "this node holds no release %s from %s", id, from_name);
			ret = -ESRCH;
		}
		goto out;
	}
	if (has_rec(t, "forward", node_id(n), key)) {
		ret = 0;
		if (strict) {
			err_set(e, "transfer %s from %s is already forwarded", id, from_name);
			ret = -EINVAL;
		}
		goto out;
	}
	if (r->to.len != KEY_BYTES || same(r->to.data, from) || lca_of(n, t, from, r->to.data, lca) < 0 ||
	    !same(lca, node_id(n))) {
		ret = 0;
		if (strict) {
			err_set(e, "this node is not the lowest common ancestor of %s and %s; that one forwards transfer %s",
				from_name, r->to_name, id);
			ret = -EINVAL;
		}
		goto out;
	}
	if ((ret = entry_hash(t, "release", from, id, hash, e)) < 0)
		goto out;
	date_today(today);
	f.from.data = (uint8_t *)from;
	f.from.len = KEY_BYTES;
	f.id = (char *)id;
	f.to_name = r->to_name;
	f.to = r->to;
	f.release_hash.data = hash;
	f.release_hash.len = HASH_BYTES;
	f.mode = approved ? STRATA__FORWARD_MODE__FORWARD_APPROVED : STRATA__FORWARD_MODE__FORWARD_AUTO;
	f.member = r->member;
	f.date = today;
	f.released = r->date;
	f.reason = r->reason;
	if ((ret = put_msg(w, "forward", key, &f.base, e)) < 0 || (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)
		goto out;
	note_f(note, arg, "transfer %s: forwarded member %s from %s to %s%s", id, r->member->id, from_name, r->to_name,
	       approved ? " (approved)" : "");
	ret = 1;
out:
	node_writer_abort(&w);
	free_rec(r);
	return ret;
}

/* --- step 4: outcome (the common ancestor) --- */

static int outcome_one(struct node *n, const uint8_t to[KEY_BYTES], const char *key, transfer_note_fn note, void *arg,
		       struct err *e)
{
	struct node_writer *w = NULL;
	struct store_txn *t;
	Strata__Forward *f = NULL;
	Strata__Acceptance *a = NULL;
	Strata__Outcome o = STRATA__OUTCOME__INIT;
	uint8_t hash[HASH_BYTES];
	char today[11], from_name[256];
	struct err ignore = {0};
	int ret;

	if ((ret = begin(n, "down", &w, e)) < 0)
		return ret;
	t = node_writer_txn(w);
	if (has_rec(t, "outcome", node_id(n), key) ||
	    get_rec(t, &record_forward, node_id(n), key, (void **)&f, NULL, &ignore) < 0 ||
	    get_rec(t, &record_acceptance, to, key, (void **)&a, NULL, &ignore) < 0) {
		ret = 0;
		goto out;
	}
	name_of(n, t, f->from.data, from_name);
	if (!same(f->to.data, to)) {
		note_f(note, arg, "transfer %s from %s: an acceptance by a node it was not forwarded to; ignored", f->id,
		       from_name);
		ret = 0;
		goto out;
	}
	if (a->release_hash.len != HASH_BYTES || memcmp(a->release_hash.data, f->release_hash.data, HASH_BYTES) != 0) {
		note_f(note, arg, "transfer %s from %s: the acceptance names another release; ignored", f->id, from_name);
		ret = 0;
		goto out;
	}
	if ((ret = entry_hash(t, "acceptance", to, key, hash, e)) < 0)
		goto out;
	date_today(today);
	o.from = f->from;
	o.id = f->id;
	o.release_hash = f->release_hash;
	o.to = f->to;
	o.acceptance_hash.data = hash;
	o.acceptance_hash.len = HASH_BYTES;
	o.decision = a->decision;
	o.member_id = a->member_id;
	o.date = today;
	if ((ret = put_msg(w, "outcome", key, &o.base, e)) < 0 || (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)
		goto out;
	note_f(note, arg, "transfer %s: %s by %s; outcome passed down to %s", f->id,
	       a->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED ? "accepted" : "refused", f->to_name,
	       from_name);
	ret = 1;
out:
	node_writer_abort(&w);
	free_rec(f);
	free_rec(a);
	return ret;
}

/* --- step 5: the old branch applies the outcome --- */

static int close_one(struct node *n, const char *id, transfer_note_fn note, void *arg, struct err *e)
{
	struct node_writer *w = NULL;
	struct store_txn *t;
	Strata__Release *r = NULL;
	Strata__Outcome *o = NULL;
	Strata__Member *m = NULL;
	uint8_t lca[KEY_BYTES], hash[HASH_BYTES];
	char key[TRANSFER_KEY_MAX + 1];
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};
	bool marked = false;
	int ret;

	if (transfer_key(key, node_id(n), id) < 0)
		return 0;
	if ((ret = begin(n, "up", &w, e)) < 0)
		return ret;
	t = node_writer_txn(w);
	if (store_index_get(t, CLOSED_INDEX, (const uint8_t *)id, strlen(id), &v, &vl, &ignore) == 0 ||
	    get_rec(t, &record_release, node_id(n), id, (void **)&r, NULL, &ignore) < 0 ||
	    lca_of(n, t, node_id(n), r->to.data, lca) < 0 ||
	    get_rec(t, &record_outcome, lca, key, (void **)&o, NULL, &ignore) < 0) {
		ret = 0;
		goto out;
	}
	if ((ret = entry_hash(t, "release", node_id(n), id, hash, e)) < 0)
		goto out;
	if (o->release_hash.len != HASH_BYTES || memcmp(o->release_hash.data, hash, HASH_BYTES) != 0) {
		note_f(note, arg, "transfer %s: the outcome names another release; ignored", id);
		ret = 0;
		goto out;
	}
	if (o->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED &&
	    get_rec(t, &record_member, node_id(n), r->member->id, (void **)&m, NULL, &ignore) == 0 &&
	    m->status == STRATA__MEMBER_STATUS__STATUS_ACTIVE) {
		m->status = STRATA__MEMBER_STATUS__STATUS_TRANSFERRED;
		if ((ret = put_msg(w, "member", m->id, &m->base, e)) < 0)
			goto out;
		marked = true;
	}
	/* applied once: a member who later comes back stays active */
	if ((ret = store_index_put(t, CLOSED_INDEX, (const uint8_t *)id, strlen(id), (const uint8_t *)"1", 1, e)) < 0 ||
	    (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)
		goto out;
	if (o->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED)
		note_f(note, arg, "transfer %s: accepted by %s; member %s %s", id, r->to_name, r->member->id,
		       marked ? "marked transferred" : "was no longer active here");
	else
		note_f(note, arg, "transfer %s: refused by %s; member %s stays here", id, r->to_name, r->member->id);
	ret = 1;
out:
	node_writer_abort(&w);
	free_rec(r);
	free_rec(o);
	free_rec(m);
	return ret;
}

/* --- the scan --- */

struct todo {
	uint8_t owner[KEY_BYTES];
	char key[TRANSFER_KEY_MAX + 1]; /* a release's id, or "<hex>/<id>" */
};

struct scan {
	struct node *n;
	struct store_txn *t;
	struct todo *v;
	size_t count, cap;
	int oom;
};

static void push(struct scan *s, const uint8_t owner[KEY_BYTES], const uint8_t *key, size_t key_len)
{
	if (key_len > TRANSFER_KEY_MAX)
		return;
	if (s->count == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct todo *v = realloc(s->v, cap * sizeof *v);

		if (!v) {
			s->oom = 1;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	memcpy(s->v[s->count].owner, owner, KEY_BYTES);
	memcpy(s->v[s->count].key, key, key_len);
	s->v[s->count].key[key_len] = '\0';
	s->count++;
}

/* A release this node is the common ancestor of, not forwarded yet. */
static int scan_release(const struct store_record *r, void *arg)
{
	struct scan *s = arg;
	Strata__Release *rel;
	char key[TRANSFER_KEY_MAX + 1], id[TRANSFER_ID_MAX + 1];
	uint8_t lca[KEY_BYTES];

	if (!r->value || r->key_len > TRANSFER_ID_MAX)
		return 0;
	memcpy(id, r->key, r->key_len);
	id[r->key_len] = '\0';
	if (transfer_key(key, r->owner, id) < 0 || has_rec(s->t, "forward", node_id(s->n), key))
		return 0;
	if (!(rel = strata__release__unpack(NULL, r->value_len, r->value)))
		return 0;
	if (!same(rel->to.data, r->owner) && lca_of(s->n, s->t, r->owner, rel->to.data, lca) == 0 &&
	    same(lca, node_id(s->n)))
		push(s, r->owner, r->key, r->key_len);
	strata__release__free_unpacked(rel, NULL);
	return 0;
}

/* An acceptance of a transfer this node forwarded, without its outcome. */
static int scan_acceptance(const struct store_record *r, void *arg)
{
	struct scan *s = arg;
	char key[TRANSFER_KEY_MAX + 1];

	if (r->key_len > TRANSFER_KEY_MAX)
		return 0;
	memcpy(key, r->key, r->key_len);
	key[r->key_len] = '\0';
	if (has_rec(s->t, "forward", node_id(s->n), key) && !has_rec(s->t, "outcome", node_id(s->n), key))
		push(s, r->owner, r->key, r->key_len);
	return 0;
}

/* An own release, not closed, whose outcome has arrived. */
static int scan_own(const struct store_record *r, void *arg)
{
	struct scan *s = arg;
	Strata__Release *rel;
	char key[TRANSFER_KEY_MAX + 1], id[TRANSFER_ID_MAX + 1];
	uint8_t lca[KEY_BYTES];
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};

	if (!r->value || r->key_len > TRANSFER_ID_MAX ||
	    store_index_get(s->t, CLOSED_INDEX, r->key, r->key_len, &v, &vl, &ignore) == 0)
		return 0;
	memcpy(id, r->key, r->key_len);
	id[r->key_len] = '\0';
	if (transfer_key(key, r->owner, id) < 0 || !(rel = strata__release__unpack(NULL, r->value_len, r->value)))
		return 0;
	if (lca_of(s->n, s->t, r->owner, rel->to.data, lca) == 0 && has_rec(s->t, "outcome", lca, key))
		push(s, r->owner, r->key, r->key_len);
	strata__release__free_unpacked(rel, NULL);
	return 0;
}

enum phase { PHASE_FORWARD, PHASE_OUTCOME, PHASE_CLOSE };

static int run_phase(struct node *n, enum phase p, transfer_note_fn note, void *arg, struct err *e)
{
	struct scan s = {.n = n};
	struct err first = {0}, why = {0};
	int ret, taken = 0, failed = 0;

	if ((ret = store_txn_begin(node_store(n), false, &s.t, e)) < 0)
		return ret;
	switch (p) {
	case PHASE_FORWARD: ret = store_state_each(s.t, "release", NULL, scan_release, &s, e); break;
	case PHASE_OUTCOME: ret = store_state_each(s.t, "acceptance", NULL, scan_acceptance, &s, e); break;
	case PHASE_CLOSE: ret = store_state_each(s.t, "release", node_id(n), scan_own, &s, e); break;
	}
	store_txn_abort(&s.t);
	if (ret == 0 && s.oom) {
		err_set(e, "out of memory");
		ret = -ENOMEM;
	}
	for (size_t i = 0; ret == 0 && i < s.count; i++) {
		int r = 0;

		memset(&why, 0, sizeof why);
		switch (p) {
		case PHASE_FORWARD: r = forward_one(n, s.v[i].owner, s.v[i].key, false, false, note, arg, &why); break;
		case PHASE_OUTCOME: r = outcome_one(n, s.v[i].owner, s.v[i].key, note, arg, &why); break;
		case PHASE_CLOSE: r = close_one(n, s.v[i].key, note, arg, &why); break;
		}
		if (r > 0) {
			taken += r;
		} else if (r < 0 && !failed) {
			first = why;
			failed = r;
		}
	}
	free(s.v);
	if (ret < 0)
		return ret;
	if (failed < 0) {
		*e = first;
		return failed;
	}
	return taken;
}

int transfer_process(struct node *n, transfer_note_fn note, void *arg, struct err *e)
{
	int taken = 0, failed = 0;
	struct err first = {0};

	if (!node_root(n)) /* not in a trust domain yet: no transfers */
		return 0;
	for (enum phase p = PHASE_FORWARD; p <= PHASE_CLOSE; p++) {
		struct err why = {0};
		int r;

		if (p == PHASE_FORWARD && node_config(n)->transfer_manual)
			continue; /* forwarded by `strata transfer approve` */
		r = run_phase(n, p, note, arg, &why);
		if (r >= 0)
			taken += r;
		else if (!failed) {
			failed = r;
			first = why;
		}
	}
	if (failed) {
		*e = first;
		return failed;
	}
	return taken;
}

static bool transfer_collection(const char *c)
{
	return strcmp(c, "release") == 0 || strcmp(c, "forward") == 0 || strcmp(c, "acceptance") == 0 ||
	       strcmp(c, "outcome") == 0;
}

bool transfer_touches(const struct changeset *cs)
{
	for (size_t i = 0; i < cs->n_ops; i++)
		if (transfer_collection(cs->ops[i].collection))
			return true;
	return false;
}

void transfer_after_batch(struct node *n, struct changeset *const *cs, const int *res, size_t count,
			  transfer_note_fn note, void *arg)
{
	struct err e = {0};
	bool touched = false;

	for (size_t i = 0; i < count && !touched; i++)
		touched = res[i] == 0 && cs[i] && transfer_touches(cs[i]);
	if (touched && transfer_process(n, note, arg, &e) < 0)
		note_f(note, arg, "transfer step not taken: %s", e.msg);
}

/* --- step 1: release (the old branch) --- */

struct pending {
	struct node *n;
	struct store_txn *t;
	const char *member;
	char id[TRANSFER_ID_MAX + 1];
	char to_name[256];
};

/* An own release of the member with no outcome yet. */
static int find_pending(const struct store_record *r, void *arg)
{
	struct pending *p = arg;
	Strata__Release *rel;
	char key[TRANSFER_KEY_MAX + 1], id[TRANSFER_ID_MAX + 1];
	uint8_t lca[KEY_BYTES];
	int stop = 0;

	if (!r->value || r->key_len > TRANSFER_ID_MAX || !(rel = strata__release__unpack(NULL, r->value_len, r->value)))
		return 0;
	memcpy(id, r->key, r->key_len);
	id[r->key_len] = '\0';
	if (strcmp(rel->member->id, p->member) == 0 && transfer_key(key, r->owner, id) == 0 &&
	    (lca_of(p->n, p->t, r->owner, rel->to.data, lca) < 0 || !has_rec(p->t, "outcome", lca, key))) {
		snprintf(p->id, sizeof p->id, "%s", id);
		snprintf(p->to_name, sizeof p->to_name, "%s", rel->to_name);
		stop = 1;
	}
	strata__release__free_unpacked(rel, NULL);
	return stop;
}

int transfer_release(struct node *n, const struct transfer_release_opts *o, char id[TRANSFER_ID_MAX + 1],
		     struct err *e)
{
	struct node_writer *w = NULL;
	struct store_txn *t;
	Strata__Member *m = NULL;
	Strata__Release r = STRATA__RELEASE__INIT;
	struct pending p = {.n = n, .member = o->member};
	uint8_t to[KEY_BYTES], lca[KEY_BYTES];
	char to_name[256], date[11], today[11], base[TRANSFER_ID_MAX + 1];
	int ret;

	date_today(today);
	snprintf(date, sizeof date, "%s", o->date ? o->date : today);
	if (!date_valid(date) || strlen(o->date ? o->date : today) != 10) {
		err_set(e, "date \"%s\" is not a real date (YYYY-MM-DD)", o->date);
		return -EINVAL;
	}
	if (strcmp(date, today) > 0) {
		err_set(e, "date %s is in the future", date);
		return -EINVAL;
	}
	if (o->reason && (!*o->reason || strlen(o->reason) > 500 || !text_valid(o->reason, strlen(o->reason)))) {
		err_set(e, "reason must be 1-500 bytes of text");
		return -EINVAL;
	}
	if (!node_root(n)) {
		err_set(e, "this node has joined no trust domain yet");
		return -EINVAL;
	}
	if ((ret = begin(n, "up", &w, e)) < 0)
		return ret;
	t = node_writer_txn(w);
	p.t = t;
	if ((ret = get_rec(t, &record_member, node_id(n), o->member, (void **)&m, NULL, e)) < 0) {
		if (ret == -ENOENT) {
			err_set(e, "no member with id %s in this branch's registry", o->member);
			ret = -ESRCH;
		}
		goto out;
	}
	if (m->status != STRATA__MEMBER_STATUS__STATUS_ACTIVE) {
		err_set(e, "member %s is %s; only an active member can be transferred", o->member,
			member_status_word(m->status));
		ret = -EINVAL;
		goto out;
	}
	if ((ret = store_state_each(t, "release", node_id(n), find_pending, &p, e)) < 0)
		goto out;
	if (ret == 1) {
		err_set(e, "member %s is already being transferred (transfer %s to %s)", o->member, p.id, p.to_name);
		ret = -EINVAL;
		goto out;
	}
	if ((ret = transfer_resolve(n, t, o->to, to, to_name, e)) < 0) {
		err_prefix(e, "cannot release to %s", o->to);
		goto out;
	}
	if (same(to, node_id(n))) {
		err_set(e, "%s is this branch; a transfer goes to another one", to_name);
		ret = -EINVAL;
		goto out;
	}
	if (lca_of(n, t, node_id(n), to, lca) < 0) {
		err_set(e, "%s and this branch have no common ancestor in this trust domain", to_name);
		ret = -EINVAL;
		goto out;
	}
	/* "<member>-<YYYYMMDD>", then -2, -3, ... if a refused transfer holds it */
	snprintf(base, sizeof base, "%.64s-%.4s%.2s%.2s", o->member, date, date + 5, date + 8);
	snprintf(id, TRANSFER_ID_MAX + 1, "%s", base);
	for (unsigned k = 2; has_rec(t, "release", node_id(n), id); k++) {
		if (k > 99) {
			err_set(e, "too many transfers of member %s on %s", o->member, date);
			ret = -EINVAL;
			goto out;
		}
		snprintf(id, TRANSFER_ID_MAX + 1, "%.74s-%u", base, k % 100);
	}
	r.id = id;
	r.member = m;
	r.to_name = to_name;
	r.to.data = to;
	r.to.len = KEY_BYTES;
	r.date = date;
	r.reason = (char *)o->reason;
	if ((ret = put_msg(w, "release", id, &r.base, e)) < 0 || (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)
		goto out;
	ret = 0;
out:
	node_writer_abort(&w);
	free_rec(m);
	return ret;
}

/* --- step 2 by hand --- */

int transfer_approve(struct node *n, const char *from, const char *id, struct err *e)
{
	struct store_txn *t = NULL;
	uint8_t key[KEY_BYTES];
	int ret;

	if (!transfer_id_valid(id)) {
		err_set(e, "\"%s\" is not a transfer id", id);
		return -EINVAL;
	}
	if ((ret = store_txn_begin(node_store(n), false, &t, e)) < 0)
		return ret;
	ret = transfer_resolve(n, t, from, key, NULL, e);
	store_txn_abort(&t);
	if (ret < 0)
		return ret;
	ret = forward_one(n, key, id, true, true, NULL, NULL, e);
	return ret < 0 ? ret : 0;
}

/* --- step 3: accept or refuse (the new branch) --- */

struct find_fwd {
	const char *key;
	uint8_t owner[KEY_BYTES];
	char to_name[256];
	bool found;
};

static int find_forward(const struct store_record *r, void *arg)
{
	struct find_fwd *f = arg;
	Strata__Forward *fw;

	if (!r->value || r->key_len != strlen(f->key) || memcmp(r->key, f->key, r->key_len) != 0)
		return 0;
	if (!(fw = strata__forward__unpack(NULL, r->value_len, r->value)))
		return 0;
	memcpy(f->owner, r->owner, KEY_BYTES);
	snprintf(f->to_name, sizeof f->to_name, "%s", fw->to_name);
	f->found = true;
	strata__forward__free_unpacked(fw, NULL);
	return 1;
}

int transfer_decide(struct node *n, const struct transfer_decide_opts *o, char *member_id, struct err *e)
{
	struct node_writer *w = NULL;
	struct store_txn *t;
	Strata__Forward *f = NULL;
	Strata__Acceptance *old = NULL, a = STRATA__ACCEPTANCE__INIT;
	Strata__Member *existing = NULL, m;
	uint8_t from[KEY_BYTES], lca[KEY_BYTES];
	char key[TRANSFER_KEY_MAX + 1], from_name[256], date[11], today[11];
	const char *new_id;
	struct err ignore = {0};
	int ret;

	date_today(today);
	snprintf(date, sizeof date, "%s", o->date ? o->date : today);
	if (!date_valid(date) || strlen(o->date ? o->date : today) != 10) {
		err_set(e, "date \"%s\" is not a real date (YYYY-MM-DD)", o->date);
		return -EINVAL;
	}
	if (strcmp(date, today) > 0) {
		err_set(e, "date %s is in the future", date);
		return -EINVAL;
	}
	if (!transfer_id_valid(o->id)) {
		err_set(e, "\"%s\" is not a transfer id", o->id);
		return -EINVAL;
	}
	if (o->reason && (!*o->reason || strlen(o->reason) > 500 || !text_valid(o->reason, strlen(o->reason)))) {
		err_set(e, "reason must be 1-500 bytes of text");
		return -EINVAL;
	}
	if ((ret = begin(n, "up", &w, e)) < 0)
		return ret;
	t = node_writer_txn(w);
	if ((ret = transfer_resolve(n, t, o->from, from, from_name, e)) < 0)
		goto out;
	if ((ret = transfer_key(key, from, o->id)) < 0)
		goto out;
	/* the forward that counts is the common ancestor's; any other one held
	 * here only explains the refusal */
	if (lca_of(n, t, from, node_id(n), lca) < 0 ||
	    (ret = get_rec(t, &record_forward, lca, key, (void **)&f, NULL, e)) == -ENOENT) {
		struct find_fwd ff = {.key = key};

		if ((ret = store_state_each(t, "forward", NULL, find_forward, &ff, e)) < 0)
			goto out;
		if (ff.found && strcmp(ff.to_name, node_name(n)) != 0) {
			err_set(e, "transfer %s from %s is not addressed to this node (it goes to %s)", o->id, from_name,
				ff.to_name);
			ret = -EACCES;
		} else {
			err_set(e, "no transfer %s from %s has been forwarded to this node", o->id, from_name);
			ret = -ESRCH;
		}
		goto out;
	}
	if (ret < 0)
		goto out;
	if (!same(f->to.data, node_id(n))) {
		err_set(e, "transfer %s from %s is not addressed to this node (it goes to %s)", o->id, from_name,
			f->to_name);
		ret = -EACCES;
		goto out;
	}
	if (get_rec(t, &record_acceptance, node_id(n), key, (void **)&old, NULL, &ignore) == 0) {
		err_set(e, "transfer %s from %s was already %s here on %s", o->id, from_name,
			old->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED ? "accepted" : "refused",
			old->date);
		ret = -EINVAL;
		goto out;
	}
	a.from.data = from;
	a.from.len = KEY_BYTES;
	a.id = (char *)o->id;
	a.release_hash = f->release_hash;
	a.date = date;
	a.reason = (char *)o->reason;
	if (!o->accept) {
		a.decision = STRATA__TRANSFER_DECISION__TRANSFER_REFUSED;
		if ((ret = put_msg(w, "acceptance", key, &a.base, e)) < 0)
			goto out;
	} else {
		new_id = o->member_id ? o->member_id : f->member->id;
		m = *f->member;
		m.base.n_unknown_fields = 0;
		m.base.unknown_fields = NULL;
		m.id = (char *)new_id;
		m.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
		if ((ret = member_check_input(&m, e)) < 0) {
			err_prefix(e, "cannot accept transfer %s", o->id);
			goto out;
		}
		if (get_rec(t, &record_member, node_id(n), new_id, (void **)&existing, NULL, &ignore) == 0 &&
		    existing->status != STRATA__MEMBER_STATUS__STATUS_TRANSFERRED) {
			err_set(e, "member id %s is taken in this branch's registry (%s, %s); accept with --member-id NEW",
				new_id, existing->name, member_status_word(existing->status));
			ret = -EINVAL;
			goto out;
		}
		a.decision = STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED;
		a.member_id = (char *)new_id;
		/* the acceptance and the member in one change set */
		if ((ret = put_msg(w, "acceptance", key, &a.base, e)) < 0 ||
		    (ret = put_msg(w, "member", new_id, &m.base, e)) < 0)
			goto out;
		if (member_id)
			snprintf(member_id, 65, "%s", new_id);
	}
	ret = node_writer_commit(&w, NULL, NULL, e);
out:
	node_writer_abort(&w);
	free_rec(f);
	free_rec(old);
	free_rec(existing);
	return ret;
}

/* --- listing --- */

const char *transfer_state_word(enum transfer_state s)
{
	static const char *const words[] = {"released", "forwarded", "accepted", "refused", "completed"};

	return (size_t)s < sizeof words / sizeof words[0] ? words[s] : "unknown";
}

struct listing {
	struct node *n;
	struct store_txn *t;
	struct transfer_view *v;
	size_t count, cap;
	int oom;
};

static struct transfer_view *view_for(struct listing *l, const char *key, const uint8_t from[KEY_BYTES],
				      const char *id)
{
	struct transfer_view *v;

	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return &l->v[i];
	if (l->count == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct transfer_view *nv = realloc(l->v, cap * sizeof *nv);

		if (!nv) {
			l->oom = 1;
			return NULL;
		}
		l->v = nv;
		l->cap = cap;
	}
	v = &l->v[l->count++];
	memset(v, 0, sizeof *v);
	snprintf(v->key, sizeof v->key, "%s", key);
	snprintf(v->id, sizeof v->id, "%s", id);
	memcpy(v->from, from, KEY_BYTES);
	return v;
}

static void set_member(struct transfer_view *v, const Strata__Member *m)
{
	if (m && !v->member[0]) {
		snprintf(v->member, sizeof v->member, "%s", m->id);
		snprintf(v->name, sizeof v->name, "%s", m->name);
	}
}

static void set_to(struct transfer_view *v, const char *name, const ProtobufCBinaryData *to)
{
	if (!v->to_name[0] && name)
		snprintf(v->to_name, sizeof v->to_name, "%s", name);
	if (to && to->len == KEY_BYTES)
		memcpy(v->to, to->data, KEY_BYTES);
}

static int list_release(const struct store_record *r, void *arg)
{
	struct listing *l = arg;
	Strata__Release *rel;
	struct transfer_view *v;
	char key[TRANSFER_KEY_MAX + 1], id[TRANSFER_ID_MAX + 1];

	if (!r->value || r->key_len > TRANSFER_ID_MAX || !(rel = strata__release__unpack(NULL, r->value_len, r->value)))
		return 0;
	memcpy(id, r->key, r->key_len);
	id[r->key_len] = '\0';
	if (transfer_key(key, r->owner, id) == 0 && (v = view_for(l, key, r->owner, id))) {
		v->has_release = true;
		set_member(v, rel->member);
		set_to(v, rel->to_name, &rel->to);
		snprintf(v->released, sizeof v->released, "%s", rel->date);
		if (rel->reason)
			snprintf(v->reason, sizeof v->reason, "%s", rel->reason);
	}
	strata__release__free_unpacked(rel, NULL);
	return 0;
}

static int list_step(const struct store_record *r, void *arg, int which)
{
	struct listing *l = arg;
	struct transfer_view *v = NULL;
	uint8_t from[KEY_BYTES];
	char key[TRANSFER_KEY_MAX + 1], id[TRANSFER_ID_MAX + 1];
	ProtobufCMessage *m;
	const struct record_type *rt = which == 0 ? &record_forward : which == 1 ? &record_acceptance : &record_outcome;

	if (!r->value || split_key(r->key, r->key_len, from, id) < 0)
		return 0;
	memcpy(key, r->key, r->key_len);
	key[r->key_len] = '\0';
	if (!(m = protobuf_c_message_unpack(rt->descriptor, NULL, r->value_len, r->value)))
		return 0;
	if (which == 0) {
		const Strata__Forward *f = (const Strata__Forward *)m;

		/* a forward alone (a bystander below the common ancestor) is listed
		 * only where it is addressed */
		for (size_t i = 0; i < l->count && !v; i++)
			if (strcmp(l->v[i].key, key) == 0)
				v = &l->v[i];
		if (v || (f->to.len == KEY_BYTES && same(f->to.data, node_id(l->n))) || same(from, node_id(l->n)))
			v = view_for(l, key, from, id);
		if (v) {
			set_member(v, f->member);
			set_to(v, f->to_name, &f->to);
			memcpy(v->lca, r->owner, KEY_BYTES);
			name_of(l->n, l->t, r->owner, v->lca_name);
			snprintf(v->forwarded, sizeof v->forwarded, "%s", f->date);
			if (!v->released[0])
				snprintf(v->released, sizeof v->released, "%s", f->released);
			if (f->reason && !v->reason[0])
				snprintf(v->reason, sizeof v->reason, "%s", f->reason);
			v->approved = f->mode == STRATA__FORWARD_MODE__FORWARD_APPROVED;
		}
	} else if (which == 1) {
		const Strata__Acceptance *a = (const Strata__Acceptance *)m;

		if ((v = view_for(l, key, from, id))) {
			if (!v->to_name[0])
				name_of(l->n, l->t, r->owner, v->to_name);
			memcpy(v->to, r->owner, KEY_BYTES);
			snprintf(v->decided, sizeof v->decided, "%s", a->date);
			if (a->reason)
				snprintf(v->answer, sizeof v->answer, "%s", a->reason);
			if (a->member_id)
				snprintf(v->new_member, sizeof v->new_member, "%s", a->member_id);
			v->state = a->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED ? TRANSFER_ACCEPTED
											       : TRANSFER_REFUSED;
		}
	} else {
		const Strata__Outcome *o = (const Strata__Outcome *)m;

		for (size_t i = 0; i < l->count && !v; i++)
			if (strcmp(l->v[i].key, key) == 0)
				v = &l->v[i];
		if (v) {
			if (!v->decided[0])
				snprintf(v->decided, sizeof v->decided, "%s", o->date);
			if (o->member_id && !v->new_member[0])
				snprintf(v->new_member, sizeof v->new_member, "%s", o->member_id);
			snprintf(v->completed, sizeof v->completed, "%s", o->date);
			v->state = o->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED ? TRANSFER_COMPLETED
											       : TRANSFER_REFUSED;
		}
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

static int list_forward(const struct store_record *r, void *arg)
{
	return list_step(r, arg, 0);
}

static int list_acceptance(const struct store_record *r, void *arg)
{
	return list_step(r, arg, 1);
}

static int list_outcome(const struct store_record *r, void *arg)
{
	return list_step(r, arg, 2);
}

static int view_cmp(const void *a, const void *b)
{
	const struct transfer_view *x = a, *y = b;
	int c = strcmp(x->from_name, y->from_name);

	return c ? c : strcmp(x->id, y->id);
}

int transfer_list(struct node *n, struct transfer_view **out, size_t *count, struct err *e)
{
	struct listing l = {.n = n};
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = store_txn_begin(node_store(n), false, &l.t, e)) < 0)
		return ret;
	if ((ret = store_state_each(l.t, "release", NULL, list_release, &l, e)) < 0 ||
	    (ret = store_state_each(l.t, "acceptance", NULL, list_acceptance, &l, e)) < 0 ||
	    (ret = store_state_each(l.t, "forward", NULL, list_forward, &l, e)) < 0 ||
	    (ret = store_state_each(l.t, "outcome", NULL, list_outcome, &l, e)) < 0)
		goto out;
	if (l.oom) {
		err_set(e, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < l.count; i++) {
		struct transfer_view *v = &l.v[i];
		uint8_t lca[KEY_BYTES];

		name_of(n, l.t, v->from, v->from_name);
		if (v->forwarded[0] && v->state == TRANSFER_RELEASED)
			v->state = TRANSFER_FORWARDED;
		/* an ancestor of the old branch that the outcome does not reach
		 * (it went down from below it) sees the member marked there */
		if (v->state == TRANSFER_ACCEPTED && v->member[0]) {
			Strata__Member *m = NULL;
			struct err ignore = {0};

			if (get_rec(l.t, &record_member, v->from, v->member, (void **)&m, NULL, &ignore) == 0 &&
			    m->status == STRATA__MEMBER_STATUS__STATUS_TRANSFERRED)
				v->state = TRANSFER_COMPLETED;
			free_rec(m);
		}
		if (!v->forwarded[0] && v->has_release && lca_of(n, l.t, v->from, v->to, lca) == 0) {
			memcpy(v->lca, lca, KEY_BYTES);
			name_of(n, l.t, lca, v->lca_name);
			v->awaiting_approval = same(lca, node_id(n)) && node_config(n)->transfer_manual;
		}
	}
	if (l.count > 1)
		qsort(l.v, l.count, sizeof *l.v, view_cmp);
	*out = l.v;
	*count = l.count;
	l.v = NULL;
	ret = 0;
out:
	free(l.v);
	store_txn_abort(&l.t);
	return ret;
}
