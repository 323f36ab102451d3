/* SPDX-License-Identifier: MIT */
/*
 * Where each transfer stands (transfer.h): every transfer this node takes
 * part in or oversees, gathered from the releases, forwards, acceptances
 * and outcomes it holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/transfer/transfer_internal.h"

const char *transfer_state_word(enum transfer_state s)
{
	static const char *const words[] = {N_("released"), N_("forwarded"), N_("accepted"), N_("refused"), N_("completed")};

	return (size_t)s < sizeof words / sizeof words[0] ? words[s] : "unknown";
}

const char *transfer_side_word(enum transfer_side s)
{
	static const char *const words[] = {"", N_("outgoing"), N_("via"), N_("incoming")};

	return (size_t)s < sizeof words / sizeof words[0] ? words[s] : "";
}

struct listing {
	struct node *n;
	struct store_txn *t;
	struct transfer_view *v;
	size_t count, cap;
	int oom;
};

/* The view of KEY if listed already, else NULL. */
static struct transfer_view *view_listed(struct listing *l, const char *key)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return &l->v[i];
	return NULL;
}

static struct transfer_view *view_for(struct listing *l, const char *key, const uint8_t from[KEY_BYTES],
				      const char *id)
{
	struct transfer_view *v;

	if ((v = view_listed(l, key)))
		return v;
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

/* Unpacks a forward, acceptance or outcome (key "<hex>/<id>") of type rt:
 * NULL if it is not one. */
static ProtobufCMessage *step_of(const struct store_record *r, const struct record_type *rt,
				 uint8_t from[KEY_BYTES], char id[TRANSFER_ID_MAX + 1], char key[TRANSFER_KEY_MAX + 1])
{
	if (!r->value || transfer_split_key(r->key, r->key_len, from, id) < 0)
		return NULL;
	memcpy(key, r->key, r->key_len);
	key[r->key_len] = '\0';
	return protobuf_c_message_unpack(rt->descriptor, NULL, r->value_len, r->value);
}

static int list_forward(const struct store_record *r, void *arg)
{
	struct listing *l = arg;
	struct transfer_view *v;
	uint8_t from[KEY_BYTES];
	char key[TRANSFER_KEY_MAX + 1], id[TRANSFER_ID_MAX + 1];
	Strata__Forward *f = (Strata__Forward *)step_of(r, &record_forward, from, id, key);

	if (!f)
		return 0;
	/* a forward alone is listed where it is addressed and on the way down
	 * to there (the receiving district sees an incoming transfer), not at
	 * a bystander below the common ancestor */
	v = view_listed(l, key);
	if (v || (f->to.len == KEY_BYTES && transfer_at_or_above(l->n, l->t, f->to.data)) ||
	    transfer_same(from, node_id(l->n)))
		v = view_for(l, key, from, id);
	if (v) {
		set_member(v, f->member);
		set_to(v, f->to_name, &f->to);
		if (f->from_name && !v->from_name[0]) /* the new branch may hold no certificate of the old */
			snprintf(v->from_name, sizeof v->from_name, "%s", f->from_name);
		memcpy(v->lca, r->owner, KEY_BYTES);
		transfer_name_of(l->n, l->t, r->owner, v->lca_name);
		snprintf(v->forwarded, sizeof v->forwarded, "%s", f->date);
		if (!v->released[0])
			snprintf(v->released, sizeof v->released, "%s", f->released);
		if (f->reason && !v->reason[0])
			snprintf(v->reason, sizeof v->reason, "%s", f->reason);
		v->approved = f->mode == STRATA__FORWARD_MODE__FORWARD_APPROVED;
	}
	strata__forward__free_unpacked(f, NULL);
	return 0;
}

static int list_acceptance(const struct store_record *r, void *arg)
{
	struct listing *l = arg;
	struct transfer_view *v;
	uint8_t from[KEY_BYTES];
	char key[TRANSFER_KEY_MAX + 1], id[TRANSFER_ID_MAX + 1];
	Strata__Acceptance *a = (Strata__Acceptance *)step_of(r, &record_acceptance, from, id, key);

	if (!a)
		return 0;
	if ((v = view_for(l, key, from, id))) {
		if (!v->to_name[0])
			transfer_name_of(l->n, l->t, r->owner, v->to_name);
		memcpy(v->to, r->owner, KEY_BYTES);
		snprintf(v->decided, sizeof v->decided, "%s", a->date);
		if (a->reason)
			snprintf(v->answer, sizeof v->answer, "%s", a->reason);
		if (a->member_id)
			snprintf(v->new_member, sizeof v->new_member, "%s", a->member_id);
		v->state = a->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED ? TRANSFER_ACCEPTED
										       : TRANSFER_REFUSED;
	}
	strata__acceptance__free_unpacked(a, NULL);
	return 0;
}

static int list_outcome(const struct store_record *r, void *arg)
{
	struct listing *l = arg;
	struct transfer_view *v;
	uint8_t from[KEY_BYTES];
	char key[TRANSFER_KEY_MAX + 1], id[TRANSFER_ID_MAX + 1];
	Strata__Outcome *o = (Strata__Outcome *)step_of(r, &record_outcome, from, id, key);

	if (!o)
		return 0;
	if ((v = view_listed(l, key))) {
		if (!v->decided[0])
			snprintf(v->decided, sizeof v->decided, "%s", o->date);
		if (o->member_id && !v->new_member[0])
			snprintf(v->new_member, sizeof v->new_member, "%s", o->member_id);
		snprintf(v->completed, sizeof v->completed, "%s", o->date);
		if (transfer_key_zero(v->to) && o->to.len == KEY_BYTES) /* the old branch learns the key here */
			memcpy(v->to, o->to.data, KEY_BYTES);
		if (o->acceptance_hash.len == HASH_BYTES && transfer_key_zero(o->acceptance_hash.data)) {
			/* refused by the common ancestor, never forwarded */
			memcpy(v->lca, r->owner, KEY_BYTES);
			transfer_name_of(l->n, l->t, r->owner, v->lca_name);
			snprintf(v->answer, sizeof v->answer,
				 err_gettext(N_("refused by the common ancestor %s: %s is no unit below it, or is revoked")),
				 v->lca_name, v->to_name);
		}
		v->state = o->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED ? TRANSFER_COMPLETED
										       : TRANSFER_REFUSED;
	}
	strata__outcome__free_unpacked(o, NULL);
	return 0;
}

static int view_cmp(const void *a, const void *b)
{
	const struct transfer_view *x = a, *y = b;
	int c = strcmp(x->from_name, y->from_name);

	return c ? c : strcmp(x->id, y->id);
}

/* Where this node stands on v's way, once its common ancestor is known
 * (all zero while it is not). */
static void view_side(struct node *n, struct store_txn *t, struct transfer_view *v)
{
	static const uint8_t none[KEY_BYTES];
	bool lca = memcmp(v->lca, none, KEY_BYTES) != 0;

	if (lca && transfer_same(v->lca, node_id(n)))
		v->side = TRANSFER_SIDE_VIA;
	else if (lca && transfer_at_or_above(n, t, v->lca))
		v->side = TRANSFER_SIDE_NONE;
	else if (transfer_at_or_above(n, t, v->from))
		v->side = TRANSFER_SIDE_OUTGOING;
	else if (transfer_at_or_above(n, t, v->to))
		v->side = TRANSFER_SIDE_INCOMING;
	else
		v->side = TRANSFER_SIDE_NONE;
}

/* What the steps gathered do not say on their own: the old branch's name,
 * forwarded when only the forward is held, completed when the old branch's
 * registry says so, the common ancestor of a release not forwarded yet. */
static void view_finish(struct node *n, struct store_txn *t, struct transfer_view *v)
{
	uint8_t lca[KEY_BYTES];

	char name[NODE_NAME_SIZE];

	/* the old branch's certificate where held, else the forward's from_name */
	if (node_key_name(n, t, v->from, name) == 0 || !v->from_name[0])
		transfer_name_of(n, t, v->from, v->from_name);
	if (v->forwarded[0] && v->state == TRANSFER_RELEASED)
		v->state = TRANSFER_FORWARDED;
	/* an ancestor of the old branch that the outcome does not reach
	 * (it went down from below it) sees the member marked there */
	if (v->state == TRANSFER_ACCEPTED && v->member[0]) {
		Strata__Member *m = NULL;
		struct err ignore = {0};

		if (transfer_get_rec(t, &record_member, v->from, v->member, (void **)&m, NULL, &ignore) == 0 &&
		    m->status == STRATA__MEMBER_STATUS__STATUS_TRANSFERRED)
			v->state = TRANSFER_COMPLETED;
		transfer_free_rec(m);
	}
	if (!v->forwarded[0] && v->has_release && transfer_release_lca(n, t, v->from, v->to, v->to_name, lca) == 0) {
		memcpy(v->lca, lca, KEY_BYTES);
		transfer_name_of(n, t, lca, v->lca_name);
		v->awaiting_approval = v->state == TRANSFER_RELEASED && transfer_same(lca, node_id(n)) &&
				       node_config(n)->transfer_manual;
	}
	view_side(n, t, v);
}

int transfer_list(struct node *n, struct transfer_view **out, size_t *count, struct err *e)
{
	struct listing l = {.n = n};
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = store_txn_begin(node_store(n), false, &l.t, e)) < 0)
		return ret;
	if ((ret = store_state_each(l.t, record_release.collection, NULL, list_release, &l, e)) < 0 ||
	    (ret = store_state_each(l.t, record_acceptance.collection, NULL, list_acceptance, &l, e)) < 0 ||
	    (ret = store_state_each(l.t, record_forward.collection, NULL, list_forward, &l, e)) < 0 ||
	    (ret = store_state_each(l.t, record_outcome.collection, NULL, list_outcome, &l, e)) < 0)
		goto out;
	if (l.oom) {
		err_set(e, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < l.count; i++)
		view_finish(n, l.t, &l.v[i]);
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
