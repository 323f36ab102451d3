/* SPDX-License-Identifier: MIT */
/*
 * The ROUTER side's links: which key may open one (a certificate this node
 * issued with one of its keys, not revoked), the links made from a Hello,
 * and the dispatch of what arrives on the ROUTER: a join, a rotation, a
 * link's frame, or the reason a connection that is no link is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/sync/sync_internal.h"

/* Drops child link i; why (may be NULL) becomes its last error. */
void sync_child_remove(struct daemon *d, size_t i, const char *why)
{
	sync_linkstate_gone(d, d->children[i], why);
	sync_link_free(&d->children[i]);
	d->children[i] = d->children[--d->nchildren];
}

struct link *sync_child_by_rid(struct daemon *d, const uint8_t *rid, size_t rid_len)
{
	for (size_t i = 0; i < d->nchildren; i++)
		if (sync_link_has_rid(d->children[i], rid, rid_len))
			return d->children[i];
	return NULL;
}

bool sync_own_key(struct daemon *d, struct store_txn *t, const uint8_t key[KEY_BYTES])
{
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t n = node_own_keys(d->n, t, own, NODE_KEYS_MAX);

	for (size_t i = 0; i < n; i++)
		if (memcmp(own[i], key, KEY_BYTES) == 0)
			return true;
	return false;
}

/* Drops every child link whose key is revoked now (a revocation written
 * here or received), telling it why. */
void sync_drop_revoked(struct daemon *d)
{
	struct store_txn *t = NULL;
	struct err e = {0};

	if (!d->nchildren || store_txn_begin(node_store(d->n), false, &t, &e) < 0)
		return;
	for (size_t i = 0; i < d->nchildren;) {
		struct link *l = d->children[i];
		char why[700];

		if (node_revocation_text(d->n, t, sync_link_key(l), node_now_ms(), why, sizeof why) > 0) {
			sync_link_send_error(l, EACCES, why, NULL, NULL, 0);
			sync_log(d, "dropped the link from %s: %s", sync_link_name(l), why);
			sync_child_remove(d, i, why);
			continue;
		}
		i++;
	}
	store_txn_abort(&t);
}

/* The reasons child_add did not make a link. */
struct refused_hello {
	char who[NODE_NAME_SIZE];              /* the org path of the key's certificate, or the key */
	char why[700];
	int code;                   /* EACCES: the key may not open a link (revoked, say); EIO: this node failed */
};

/* A new connection said Hello: make its link from its certificate. NULL
 * with the reasons in rh. */
/* May KEY open a link? Its certificate (caller frees *c) if so; NULL with
 * the reasons in rh if not. */
static Strata__Certificate *key_may_link(struct daemon *d, const uint8_t key[KEY_BYTES], struct refused_hello *rh)
{
	Strata__Certificate *c = NULL;
	uint8_t issuer[KEY_BYTES];
	struct store_txn *t = NULL;
	struct err e = {0};
	bool ok;

	key_hex(rh->who, key);
	rh->code = EIO;
	snprintf(rh->why, sizeof rh->why, "this node cannot read its store");
	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0)
		return NULL;
	rh->code = EACCES;
	ok = node_cert_get(t, key, issuer, &c, &e) == 0 && sync_own_key(d, t, issuer);
	if (c)
		snprintf(rh->who, sizeof rh->who, "%s", c->name);
	if (!ok)
		snprintf(rh->why, sizeof rh->why, "this node holds no certificate of its own for the key");
	else if (node_revocation_text(d->n, t, key, node_now_ms(), rh->why, sizeof rh->why) > 0)
		ok = false;
	store_txn_abort(&t);
	if (!ok && c) {
		strata__certificate__free_unpacked(c, NULL);
		c = NULL;
	}
	return c;
}

static struct link *child_add(struct daemon *d, const uint8_t key[KEY_BYTES], const uint8_t *rid, size_t rid_len,
			      struct refused_hello *rh)
{
	Strata__Certificate *c = key_may_link(d, key, rh);
	struct link *l = NULL;

	if (!c)
		return NULL;
	rh->code = EIO;
	for (size_t i = 0; i < d->nchildren; i++)
		if (memcmp(d->children[i]->key, key, KEY_BYTES) == 0) {
			sync_log(d, "%s reconnected; dropping its old connection", d->children[i]->name);
			sync_child_remove(d, i, NULL);
			break;
		}
	if (d->nchildren == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 8;
		struct link **v = realloc(d->children, cap * sizeof *v);

		if (!v)
			goto fail;
		d->children = v;
		d->cap = cap;
	}
	if (!(l = sync_link_new(d, LINK_CHILD)))
		goto fail;
	memcpy(l->key, key, KEY_BYTES);
	memcpy(l->rid, rid, rid_len);
	l->rid_len = rid_len;
	l->role = c->role;
	snprintf(l->name, sizeof l->name, "%s", c->name);
	l->cert = c;
	d->children[d->nchildren++] = l;
	return l;
fail:
	snprintf(rh->why, sizeof rh->why, "this node is out of memory");
	strata__certificate__free_unpacked(c, NULL);
	return NULL;
}

void sync_on_child_frame(struct daemon *d, const uint8_t *rid, size_t rid_len, const char *uid,
			 Strata__Frame *f)
{
	uint8_t key[KEY_BYTES];
	struct refused_hello rh = {.code = 0};
	struct link *l;

	d->frame_uid = uid; /* the source of refusals made while handling f */
	if (strncmp(uid, "invite:", 7) == 0) {
		bool changed = f->msg_case == STRATA__FRAME__MSG_JOIN && sync_join_on_frame(d, rid, rid_len, uid, f->join);

		d->frame_uid = NULL;
		if (changed)
			sync_pump_all(d); /* the new certificate, down the tree */
		return;
	}
	if (f->msg_case == STRATA__FRAME__MSG_ROTATE) {
		bool changed = sync_rotate_on_frame(d, rid, rid_len, uid, f->rotate);

		d->frame_uid = NULL;
		if (changed)
			sync_pump_all(d);
		return;
	}
	l = sync_child_by_rid(d, rid, rid_len);
	if (!l && f->msg_case == STRATA__FRAME__MSG_HELLO && strncmp(uid, "key:", 4) == 0 &&
	    hex_decode(key, KEY_BYTES, uid + 4) == 0)
		l = child_add(d, key, rid, rid_len, &rh);
	if (l) {
		sync_link_on_frame(l, f);
	} else if (f->msg_case != STRATA__FRAME__MSG_PING && sync_frame_refusal_allow(d, sync_clock_ms())) {
		/* Another frame of a key that may not link (an Ack still in
		 * flight when a revoked link was dropped): the reason, not "say
		 * hello first", which would bring a hello the node refuses. */
		if (!rh.code && strncmp(uid, "key:", 4) == 0 && hex_decode(key, KEY_BYTES, uid + 4) == 0) {
			Strata__Certificate *c = key_may_link(d, key, &rh);

			if (c)
				strata__certificate__free_unpacked(c, NULL);
			if (c || rh.code != EACCES)
				rh.code = 0; /* it may link, or this node cannot tell now */
		}
		if (rh.code) { /* a key this node refuses: say why, not "say hello first" */
			sync_log(d, "refused %s of %s: %s", f->msg_case == STRATA__FRAME__MSG_HELLO ? "the hello" : "a message",
				 rh.who, rh.why);
			sync_conn_send_error(d, rid, rid_len, rh.code, rh.why);
		} else {
			sync_conn_send_error(d, rid, rid_len, ENOTCONN, "say hello first");
		}
	}
	d->frame_uid = NULL;
}

void sync_drop_children(struct daemon *d)
{
	for (size_t i = 0; i < d->nchildren; i++)
		sync_link_free(&d->children[i]);
	free(d->children);
	d->children = NULL;
	d->nchildren = d->cap = 0;
}
