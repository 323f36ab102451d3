/* SPDX-License-Identifier: MIT */
/*
 * The units of report show's walk, listed before it (gather.c says why):
 * level by level, the certificates each listing unit issued, read for a
 * level's units in key order, and then the certificate index's issuer of
 * every unit (where the decisions on it come from), in key order too. The
 * walk then lists children and climbs chains from these tables (O(units):
 * a certificate's bytes, ~300, and an issuer) instead of reading the
 * certificates, spread over the store's file, in the tree's order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"
#include "node/report/view_internal.h"

struct t_cert { /* a certificate an owner scanned issued, in key order */
	uint8_t owner[KEY_BYTES];
	size_t order;
	uint8_t *val;
	size_t len;
};

struct t_issuer { /* the certificate index's issuer of a subject, looked up */
	uint8_t subject[KEY_BYTES];
	bool found;
	uint8_t issuer[KEY_BYTES];
};

struct report_tree {
	uint8_t (*scanned)[KEY_BYTES]; /* owners whose certificates were read, sorted */
	size_t n_scanned;
	struct t_cert *cert;
	size_t n_cert, cap_cert;
	struct t_issuer *iss;
	size_t n_iss, cap_iss;
	uint8_t (*next)[KEY_BYTES]; /* the units of the level below */
	size_t n_next, cap_next;
	int ret;
};

static int cmp_cert(const void *a, const void *b)
{
	const struct t_cert *x = a, *y = b;
	int c = memcmp(x->owner, y->owner, KEY_BYTES);

	return c ? c : x->order < y->order ? -1 : x->order > y->order;
}

/* Keeps a certificate, and its subject for the level below when the walk
 * would list it (add_kid: a child or peer, not replaced by rotation). */
static int keep_cert(const struct store_record *rec, void *arg)
{
	struct report_ctx *v = arg;
	struct report_tree *r = v->tree;
	Strata__Certificate *c;
	struct t_cert *t;

	report_map_tick(v);
	if (!report_grow(&r->ret, (void **)&r->cert, &r->cap_cert, r->n_cert, sizeof *r->cert))
		return r->ret;
	t = &r->cert[r->n_cert];
	if (!(t->val = malloc(rec->value_len ? rec->value_len : 1))) {
		r->ret = -ENOMEM;
		return r->ret;
	}
	memcpy(t->owner, rec->owner, KEY_BYTES);
	if (rec->value_len)
		memcpy(t->val, rec->value, rec->value_len);
	t->len = rec->value_len;
	t->order = r->n_cert++;
	if (!(c = strata__certificate__unpack(NULL, rec->value_len, rec->value)))
		return 0;
	if ((c->role == STRATA__ROLE__ROLE_CHILD || c->role == STRATA__ROLE__ROLE_PEER) && c->subject.len == KEY_BYTES &&
	    memcmp(c->subject.data, rec->owner, KEY_BYTES) != 0 &&
	    node_key_successor(v->t, c->subject.data, (uint8_t[KEY_BYTES]){0}) < 0 &&
	    report_grow(&r->ret, (void **)&r->next, &r->cap_next, r->n_next, KEY_BYTES))
		memcpy(r->next[r->n_next++], c->subject.data, KEY_BYTES);
	strata__certificate__free_unpacked(c, NULL);
	return r->ret;
}

/* Scans the certificates of OWNERS (sorted, n of them) not scanned yet,
 * in key order; adds them to the scanned. */
static int scan_level(struct report_ctx *v, uint8_t (*owners)[KEY_BYTES], size_t n)
{
	struct report_tree *r = v->tree;
	size_t before = r->n_scanned;
	struct err ignore = {0};
	void *q;
	int ret;

	if (!(q = realloc(r->scanned, (r->n_scanned + n + 1) * KEY_BYTES)))
		return -ENOMEM;
	r->scanned = q;
	for (size_t i = 0; i < n; i++) {
		if (report_find(owners[i], r->scanned, before, KEY_BYTES, report_cmp_key))
			continue;
		if ((ret = store_state_each(v->t, record_cert.collection, owners[i], keep_cert, v, &ignore)) != 0)
			return ret < 0 && r->ret ? r->ret : ret;
		memcpy(r->scanned[r->n_scanned++], owners[i], KEY_BYTES);
	}
	r->n_scanned = report_sort_keys(r->scanned, r->n_scanned);
	return 0;
}

/* The units of one level (their current keys): their keys to the
 * gather; the keys of those that list others into *owners. */
static int level_units(struct report_ctx *v, const uint8_t (*units)[KEY_BYTES], size_t n, bool lists,
		       uint8_t (**owners)[KEY_BYTES], size_t *n_owners)
{
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES];
	void *q;

	*n_owners = 0;
	if (!(q = realloc(*owners, (n * NODE_KEYS_MAX + 1) * KEY_BYTES)))
		return -ENOMEM;
	*owners = q;
	for (size_t i = 0; i < n; i++) {
		size_t nk = node_unit_keys(v->n, v->t, units[i], keys, NODE_KEYS_MAX);

		report_gather_unit(v, keys, nk, lists);
		if (lists) {
			memcpy((*owners)[*n_owners], keys, nk * KEY_BYTES);
			*n_owners += nk;
		}
	}
	*n_owners = report_sort_keys(*owners, *n_owners);
	return 0;
}

/* The certificate index's issuer of every unit listed, in key order. */
static void read_issuers(struct report_ctx *v, struct report_tree *r)
{
	report_sort(r->iss, r->n_iss, sizeof *r->iss, report_cmp_key);
	for (size_t i = 0; i < r->n_iss; i++) {
		Strata__Certificate *c = NULL;
		struct err ignore = {0};

		r->iss[i].found = node_cert_get(v->t, r->iss[i].subject, r->iss[i].issuer, &c, &ignore) == 0;
		if (c)
			strata__certificate__free_unpacked(c, NULL);
		report_map_tick(v);
	}
}

int report_tree_list(struct report_ctx *v)
{
	struct report_tree *r;
	uint8_t (*level)[KEY_BYTES] = NULL, (*owners)[KEY_BYTES] = NULL;
	size_t n_level = 1, n_owners;
	int ret = 0;

	if (!(v->tree = r = calloc(1, sizeof *r)) || !(level = malloc(KEY_BYTES)))
		return -ENOMEM;
	memcpy(level[0], node_id(v->n), KEY_BYTES);
	for (unsigned depth = 0; n_level && !ret; depth++) {
		bool lists = depth == 0 || (v->o.tree && depth < REPORT_LEVELS_MAX);

		for (size_t i = 0; i < n_level; i++)
			if (report_grow(&r->ret, (void **)&r->iss, &r->cap_iss, r->n_iss, sizeof *r->iss))
				memcpy(r->iss[r->n_iss++].subject, level[i], KEY_BYTES);
		r->n_next = 0;
		if ((ret = level_units(v, (const uint8_t (*)[KEY_BYTES])level, n_level, lists, &owners, &n_owners)) ||
		    !lists || (ret = scan_level(v, owners, n_owners)))
			break;
		free(level);
		level = r->next;
		n_level = r->n_next;
		r->next = NULL;
		r->n_next = r->cap_next = 0;
	}
	free(level);
	free(owners);
	if (!ret && !(ret = r->ret)) {
		read_issuers(v, r);
		report_sort(r->cert, r->n_cert, sizeof *r->cert, cmp_cert);
	}
	return ret ? ret : r->ret;
}

bool report_tree_kids(struct report_ctx *v, const uint8_t owner[KEY_BYTES],
		      int (*fn)(const struct store_record *rec, void *arg), void *arg, int *ret)
{
	struct report_tree *r = v->tree;
	struct t_cert probe = {.order = 0};
	size_t lo = 0, hi;

	if (!r || !report_find(owner, r->scanned, r->n_scanned, KEY_BYTES, report_cmp_key))
		return false;
	*ret = 0;
	memcpy(probe.owner, owner, KEY_BYTES);
	for (hi = r->n_cert; lo < hi;) { /* the first of OWNER's */
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_cert(&r->cert[mid], &probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < r->n_cert && memcmp(r->cert[lo].owner, owner, KEY_BYTES) == 0; lo++) {
		struct store_record rec = {.collection = record_cert.collection, .owner = r->cert[lo].owner,
					   .value = r->cert[lo].val, .value_len = r->cert[lo].len};

		if ((*ret = fn(&rec, arg)) != 0)
			break;
	}
	return true;
}

int report_tree_issuer(struct report_ctx *v, const uint8_t subject[KEY_BYTES], uint8_t issuer[KEY_BYTES])
{
	const struct t_issuer *i;

	if (!v->tree || !(i = report_find(subject, v->tree->iss, v->tree->n_iss, sizeof *i, report_cmp_key)))
		return 1;
	if (!i->found)
		return -ENOENT;
	memcpy(issuer, i->issuer, KEY_BYTES);
	return 0;
}

void report_tree_end(struct report_ctx *v)
{
	struct report_tree *r = v->tree;

	if (!r)
		return;
	for (size_t i = 0; i < r->n_cert; i++)
		free(r->cert[i].val);
	free(r->scanned);
	free(r->cert);
	free(r->iss);
	free(r->next);
	free(r);
	v->tree = NULL;
}
