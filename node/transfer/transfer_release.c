/* SPDX-License-Identifier: MIT */
/*
 * Step 1 (transfer.h): the old branch releases an active member to another
 * branch of the domain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/transfer/transfer_internal.h"

struct pending {
	struct node *n;
	struct store_txn *t;
	const char *member;
	char id[TRANSFER_ID_MAX + 1];
	char to_name[NODE_NAME_SIZE];
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
	    (rel->to.len != KEY_BYTES ||
	     transfer_release_lca(p->n, p->t, r->owner, rel->to.data, rel->to_name, lca) < 0 ||
	     !transfer_has_rec(p->t, record_outcome.collection, lca, key))) {
		snprintf(p->id, sizeof p->id, "%s", id);
		snprintf(p->to_name, sizeof p->to_name, "%s", rel->to_name);
		stop = 1;
	}
	strata__release__free_unpacked(rel, NULL);
	return stop;
}

/* The member to release: in this node's registry, active, and not being
 * transferred already. */
static int release_member(struct node *n, struct store_txn *t, const char *member, Strata__Member **m,
			  struct err *e)
{
	struct pending p = {.n = n, .t = t, .member = member};
	int ret;

	if ((ret = transfer_get_rec(t, &record_member, node_id(n), member, (void **)m, NULL, e)) < 0) {
		if (ret == -ENOENT) {
			err_set(e, "no member with id %s in this branch's registry", member);
			ret = -ESRCH;
		}
		return ret;
	}
	if ((*m)->status != STRATA__MEMBER_STATUS__STATUS_ACTIVE) {
		err_set(e, "member %s is %s; only an active member can be transferred", member,
			member_status_word((*m)->status));
		return -EINVAL;
	}
	if ((ret = store_state_each(t, record_release.collection, node_id(n), find_pending, &p, e)) < 0)
		return ret;
	if (ret == 1) {
		err_set(e, "member %s is already being transferred (transfer %s to %s)", member, p.id, p.to_name);
		return -EINVAL;
	}
	return 0;
}

/* A new branch given by an org path this node holds no certificate of
 * (issue 16: it holds its chain's and its subtree's only): to is left 32
 * zero bytes, for the common ancestor, found by path, to resolve. When
 * that is this node, which holds its whole subtree, the path is no unit. */
static int release_unknown(struct node *n, struct store_txn *t, const char *who, uint8_t to[KEY_BYTES],
			   char to_name[NODE_NAME_SIZE], struct err *e)
{
	uint8_t lca[KEY_BYTES];

	memset(to, 0, KEY_BYTES);
	snprintf(to_name, NODE_NAME_SIZE, "%s", who);
	if (transfer_release_lca(n, t, node_id(n), to, to_name, lca) < 0) {
		err_set(e, "%s and this branch have no common ancestor in this trust domain", who);
		return -EINVAL;
	}
	if (transfer_same(lca, node_id(n))) {
		err_set(e, "no branch named %s is known here", who);
		err_prefix(e, "cannot release to %s", who);
		return -ESRCH;
	}
	return 0;
}

/* The new branch: a branch of this domain other than this node, with a
 * common ancestor; to receives its key, or zero bytes when only its org
 * path is known here (release_unknown). */
static int release_destination(struct node *n, struct store_txn *t, const char *who, uint8_t to[KEY_BYTES],
			       char to_name[NODE_NAME_SIZE], struct err *e)
{
	uint8_t lca[KEY_BYTES];
	struct err ignore = {0};
	int ret;

	if (org_path_valid(who) && strcmp(who, node_name(n)) != 0 && node_unit_named(t, who, lca, &ignore) == 0)
		return release_unknown(n, t, who, to, to_name, e);
	if ((ret = transfer_resolve(n, t, who, to, to_name, e)) < 0) {
		err_prefix(e, "cannot release to %s", who);
		return ret;
	}
	if (transfer_same(to, node_id(n))) {
		err_set(e, "%s is this branch; a transfer goes to another one", to_name);
		return -EINVAL;
	}
	if (transfer_lca(n, t, node_id(n), to, lca) < 0) {
		err_set(e, "%s and this branch have no common ancestor in this trust domain", to_name);
		return -EINVAL;
	}
	return 0;
}

/* "<member>-<YYYYMMDD>", then -2, -3, ... if a transfer known here holds it
 * (transfer_id_held: a refused transfer, or a member who came back the same
 * day, whose transfer here had that id at its old branch). The form of an
 * id is unchanged, so ids already signed keep theirs. */
static int release_id(struct store_txn *t, const char *member, const char *date,
		      char id[TRANSFER_ID_MAX + 1], struct err *e)
{
	char base[TRANSFER_ID_MAX + 1];

	snprintf(base, sizeof base, "%.64s-%.4s%.2s%.2s", member, date, date + 5, date + 8);
	snprintf(id, TRANSFER_ID_MAX + 1, "%s", base);
	for (unsigned k = 2; transfer_id_held(t, id); k++) {
		if (k > 99) {
			err_set(e, "too many transfers of member %s on %s", member, date);
			return -EINVAL;
		}
		snprintf(id, TRANSFER_ID_MAX + 1, "%.74s-%u", base, k % 100);
	}
	return 0;
}

int transfer_release(struct node *n, const struct transfer_release_opts *o, char id[TRANSFER_ID_MAX + 1],
		     struct err *e)
{
	struct node_writer *w = NULL;
	struct store_txn *t;
	Strata__Member *m = NULL;
	Strata__Release r = STRATA__RELEASE__INIT;
	uint8_t to[KEY_BYTES];
	char to_name[NODE_NAME_SIZE], date[RECORD_DATE_SIZE];
	int ret;

	if ((ret = transfer_check_date(o->date, date, e)) < 0 || (ret = transfer_check_reason(o->reason, e)) < 0)
		return ret;
	if (!node_root(n)) {
		err_set(e, "this node has joined no trust domain yet");
		return -EINVAL;
	}
	if ((ret = transfer_begin(n, FEED_UP, &w, e)) < 0)
		return ret;
	t = node_writer_txn(w);
	if ((ret = release_member(n, t, o->member, &m, e)) < 0 ||
	    (ret = release_destination(n, t, o->to, to, to_name, e)) < 0 ||
	    (ret = release_id(t, o->member, date, id, e)) < 0)
		goto out;
	r.id = id;
	r.member = m;
	r.to_name = to_name;
	r.to.data = to;
	r.to.len = KEY_BYTES;
	r.date = date;
	r.reason = (char *)o->reason;
	if ((ret = transfer_put_msg(w, record_release.collection, id, &r.base, e)) < 0 ||
	    (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)
		goto out;
	ret = 0;
out:
	node_writer_abort(&w);
	transfer_free_rec(m);
	return ret;
}
