/* SPDX-License-Identifier: MIT */
/*
 * The standard figures of a node for a period, from its records. The same
 * computation runs on two sources: the records in state (when a node
 * reports) and the records replayed from its `up` feed up to a given head
 * (when the level above checks a report), so that both must agree.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"
#include "node/report/report.h"

/* One record as a source yields it: pointers valid for the transaction. */
struct rec {
	const char *collection;
	const uint8_t *owner;
	const uint8_t *key;
	size_t key_len;
	const uint8_t *value;
	size_t value_len;
	size_t order; /* replay: position in the log, the last one wins */
	uint64_t seq; /* replay: the entry */
	bool erased;  /* replay: a put whose value its owner erased */
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static int push(struct recs *r, const struct rec *x)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		struct rec *v = realloc(r->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = *x;
	return 0;
}

void figures_clear(struct figures *f)
{
	free(f->close_days);
	memset(f, 0, sizeof *f);
}

bool report_period_valid(const char *p)
{
	char d[11];

	if (!p || strlen(p) != 7)
		return false;
	snprintf(d, sizeof d, "%s-01", p);
	return date_valid(d);
}

/* Days since 1970-01-01 of a valid YYYY-MM-DD (H. Hinnant's algorithm). */
static long days_of(const char *s)
{
	long y = strtol(s, NULL, 10), m = strtol(s + 5, NULL, 10), d = strtol(s + 8, NULL, 10);
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool in_period(const char *date, const char *period)
{
	return date && strncmp(date, period, 7) == 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Are all of f's figures within FIGURE_MAX (records.h)? -ERANGE if not. */
static int figures_range(const struct figures *f, struct err *e)
{
	Strata__Figures p;

	figures_to_proto(f, &p);
	if (figures_check(&p, "computed", e) < 0)
		return -ERANGE;
	return 0;
}

/* Computes from records grouped by collection (any order within). */
static int compute(const struct recs *r, const char *period, const char *today, bool notices, const uint8_t *owner,
		   struct store_txn *t, struct figures *f, struct err *e)
{
	char end[11], **paid = NULL;
	size_t npaid = 0;
	int ret = 0;

	memset(f, 0, sizeof *f);
	snprintf(end, sizeof end, "%s-31", period); /* the last day, as far as string order goes */
	if (!(paid = calloc(r->n ? r->n : 1, sizeof *paid)))
		goto oom;
	/* Dues first: who paid for the period. */
	for (size_t i = 0; i < r->n; i++) {
		const struct rec *x = &r->v[i];
		Strata__Dues *d;

		if (strcmp(x->collection, "dues") != 0 || !(d = strata__dues__unpack(NULL, x->value_len, x->value)))
			continue;
		if (strcmp(d->period, period) == 0 && d->paid) {
			f->dues_paid++;
			if (__builtin_add_overflow(f->dues_paid_amount, d->amount, &f->dues_paid_amount))
				ret = -ERANGE;
			if (!(paid[npaid++] = strdup(d->member)))
				ret = -ENOMEM;
		}
		strata__dues__free_unpacked(d, NULL);
	}
	qsort(paid, npaid, sizeof *paid, str_cmp);
	for (size_t i = 0; i < r->n && ret == 0; i++) {
		const struct rec *x = &r->v[i];

		if (strcmp(x->collection, "member") == 0) {
			Strata__Member *m = strata__member__unpack(NULL, x->value_len, x->value);

			if (!m)
				continue;
			f->members_full += m->category == STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
			f->members_probationary += m->category == STRATA__MEMBER_CATEGORY__CATEGORY_PROBATIONARY;
			f->members_active += m->status == STRATA__MEMBER_STATUS__STATUS_ACTIVE;
			f->members_lapsed += m->status == STRATA__MEMBER_STATUS__STATUS_LAPSED;
			f->members_deceased += m->status == STRATA__MEMBER_STATUS__STATUS_DECEASED;
			f->members_transferred += m->status == STRATA__MEMBER_STATUS__STATUS_TRANSFERRED;
			f->members_new += in_period(m->joined, period);
			if (m->status == STRATA__MEMBER_STATUS__STATUS_ACTIVE && strcmp(m->joined, end) <= 0) {
				char *id = m->id;

				f->members_unpaid += !bsearch(&id, paid, npaid, sizeof *paid, str_cmp);
			}
			strata__member__free_unpacked(m, NULL);
		} else if (strcmp(x->collection, "meeting") == 0) {
			Strata__Meeting *m = strata__meeting__unpack(NULL, x->value_len, x->value);

			if (!m)
				continue;
			if (in_period(m->date, period)) {
				f->meetings_branch_congress += m->kind == STRATA__MEETING_KIND__KIND_BRANCH_CONGRESS;
				f->meetings_committee += m->kind == STRATA__MEETING_KIND__KIND_COMMITTEE_MEETING;
				f->meetings_group += m->kind == STRATA__MEETING_KIND__KIND_GROUP_MEETING;
				f->meetings_lecture += m->kind == STRATA__MEETING_KIND__KIND_PARTY_LECTURE;
				if (__builtin_add_overflow(f->attendance_present, m->n_present, &f->attendance_present) ||
				    __builtin_add_overflow(f->attendance_expected, m->n_present, &f->attendance_expected) ||
				    __builtin_add_overflow(f->attendance_expected, m->n_absent, &f->attendance_expected))
					ret = -ERANGE;
			}
			strata__meeting__free_unpacked(m, NULL);
		} else if (strcmp(x->collection, "study") == 0) {
			Strata__Study *s = strata__study__unpack(NULL, x->value_len, x->value);

			if (!s)
				continue;
			if (in_period(s->date, period))
				if (s->minutes < 0 ||
				    __builtin_add_overflow(f->study_minutes, (uint64_t)s->minutes, &f->study_minutes))
					ret = -ERANGE;
			strata__study__free_unpacked(s, NULL);
		} else if (strcmp(x->collection, "points") == 0) {
			Strata__Points *p = strata__points__unpack(NULL, x->value_len, x->value);

			if (!p)
				continue;
			if (strcmp(p->period, period) == 0)
				if (__builtin_add_overflow(f->points, p->points, &f->points))
					ret = -ERANGE;
			strata__points__free_unpacked(p, NULL);
		} else if (strcmp(x->collection, "release") == 0) {
			/* transfers out: members this branch released in the period */
			Strata__Release *rl = strata__release__unpack(NULL, x->value_len, x->value);

			if (!rl)
				continue;
			f->transfers_out += in_period(rl->date, period);
			strata__release__free_unpacked(rl, NULL);
		} else if (strcmp(x->collection, "acceptance") == 0) {
			/* transfers in: transfers this branch accepted in the period */
			Strata__Acceptance *ac = strata__acceptance__unpack(NULL, x->value_len, x->value);

			if (!ac)
				continue;
			f->transfers_in += ac->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED && in_period(ac->date, period);
			strata__acceptance__free_unpacked(ac, NULL);
		} else if (strcmp(x->collection, "request") == 0) {
			Strata__Request *q = strata__request__unpack(NULL, x->value_len, x->value);

			if (!q)
				continue;
			f->requests_opened += in_period(q->opened, period);
			if (q->closed && in_period(q->closed, period)) {
				uint32_t *v = realloc(f->close_days, (f->n_close_days + 1) * sizeof *v);

				f->requests_closed++;
				if (!v)
					ret = -ENOMEM;
				else {
					f->close_days = v;
					v[f->n_close_days++] = (uint32_t)(days_of(q->closed) - days_of(q->opened));
				}
			}
			if (strcmp(q->opened, end) <= 0 && (!q->closed || strcmp(q->closed, end) > 0))
				f->requests_open++;
			strata__request__free_unpacked(q, NULL);
		}
	}
	if (ret == 0 && notices) {
		/* Notices from above due in the period: acknowledged by their due
		 * date, or late once the due date has passed. */
		for (size_t i = 0; i < r->n; i++) {
			const struct rec *x = &r->v[i];
			Strata__Notice *no;
			char sender[KEY_HEX], ackkey[KEY_HEX + 80];
			const uint8_t *v;
			size_t vl;
			struct err ignore = {0};
			bool acked = false;

			if (strcmp(x->collection, "notice") != 0 || !(no = strata__notice__unpack(NULL, x->value_len, x->value)))
				continue;
			if (no->due && in_period(no->due, period)) {
				key_hex(sender, x->owner);
				snprintf(ackkey, sizeof ackkey, "%s/%s", sender, no->id);
				if (store_state_get(t, "ack", owner, (const uint8_t *)ackkey, strlen(ackkey), &v, &vl, NULL,
						    &ignore) == 0) {
					Strata__NoticeAck *a = strata__notice_ack__unpack(NULL, vl, v);

					acked = a && strcmp(a->acked, no->due) <= 0;
					if (a)
						strata__notice_ack__free_unpacked(a, NULL);
				}
				if (acked)
					f->notices_acked++;
				else if (strcmp(no->due, today) < 0)
					f->notices_late++;
			}
			strata__notice__free_unpacked(no, NULL);
		}
	}
	for (size_t i = 0; i < npaid; i++)
		free(paid[i]);
	free(paid);
	if (ret == -ERANGE || (ret == 0 && figures_range(f, e) < 0)) {
		if (ret == -ERANGE)
			err_set(e, "a figure of %s is too large to add up (more than %lld)", period, FIGURE_MAX);
		figures_clear(f);
		return -ERANGE;
	}
	if (ret < 0)
		goto oom;
	return 0;
oom:
	err_set(e, "out of memory computing figures");
	figures_clear(f);
	return -ENOMEM;
}

/* --- sources --- */

/* Every collection of a node's own up feed that a figure reads. */
static const char *const own_collections[] = {"member", "dues",    "meeting",   "study",
					      "points", "request", "release", "acceptance"};

static int collect_state(const struct store_record *sr, void *arg)
{
	struct rec x = {.collection = sr->collection,
			.owner = sr->owner,
			.key = sr->key,
			.key_len = sr->key_len,
			.value = sr->value,
			.value_len = sr->value_len};

	return push(arg, &x);
}

/* Notices from above: every notice this node holds not written by itself. */
static int collect_notice(const struct store_record *sr, void *arg)
{
	struct recs *r = ((void **)arg)[0];
	const uint8_t *owner = ((void **)arg)[1];

	if (memcmp(sr->owner, owner, KEY_BYTES) == 0)
		return 0;
	return collect_state(sr, r);
}

int report_compute_state(struct node *n, struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *period,
			 struct figures *f, struct err *e)
{
	struct recs r = {0};
	char today[11];
	void *args[2] = {&r, (void *)owner};
	int ret = 0;

	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES];
	size_t nkeys = node_unit_keys(n, t, owner, keys, NODE_KEYS_MAX);

	/* The unit's records, whichever of its keys wrote them (at most one
	 * holds each: node/core/unit.c). */
	for (size_t k = 0; k < nkeys && ret == 0; k++)
		for (size_t i = 0; i < sizeof own_collections / sizeof own_collections[0] && ret == 0; i++)
			ret = store_state_each(t, own_collections[i], keys[k], collect_state, &r, e);
	if (ret == 0)
		ret = store_state_each(t, "notice", NULL, collect_notice, args, e);
	date_today(today);
	if (ret == 0)
		ret = compute(&r, period, today, true, owner, t, f, e);
	free(r.v);
	return ret;
}

struct replay {
	struct recs *r;
	const uint8_t *owner;
	size_t order;
	int ret;
	struct changeset **keep; /* decoded entries: the records point into them */
	size_t nkeep, capkeep;
	Strata__Erasure **erasures; /* erase requests whose residues records point into */
	size_t nerasures;
};

static int replay_entry(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg)
{
	struct replay *p = arg;
	struct changeset *cs = NULL;
	struct err ignore = {0};

	(void)hash;
	if (changeset_decode(&cs, bytes, len, &ignore) < 0)
		return 0; /* strata verify reports it; a report cannot be checked past it */
	if (p->nkeep == p->capkeep) {
		size_t cap = p->capkeep ? 2 * p->capkeep : 64;
		struct changeset **v = realloc(p->keep, cap * sizeof *v);

		if (!v) {
			changeset_destroy(&cs);
			return p->ret = -ENOMEM;
		}
		p->keep = v;
		p->capkeep = cap;
	}
	p->keep[p->nkeep++] = cs;
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		struct rec x = {.collection = op->collection,
				.owner = p->owner,
				.key = op->key,
				.key_len = op->key_len,
				.value = op->kind == OP_PUT ? op->value : NULL,
				.value_len = op->value_len,
				.order = p->order++,
				.seq = seq,
				.erased = op->kind == OP_PUT && !op->value};

		if (push(p->r, &x) < 0)
			return p->ret = -ENOMEM;
	}
	return 0;
}

static int by_key_then_order(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int c = strcmp(x->collection, y->collection);

	if (c)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	if ((c = memcmp(x->key, y->key, x->key_len)))
		return c;
	return (x->order > y->order) - (x->order < y->order);
}

/* Did an erase request of x's key come after x in the replayed entries? */
static bool erased_in_range(const struct recs *all, const struct rec *x, const char *ekey)
{
	size_t el = strlen(ekey);

	for (size_t i = 0; i < all->n; i++) {
		const struct rec *y = &all->v[i];

		if (y->order > x->order && y->key_len == el && strcmp(y->collection, "erase") == 0 &&
		    memcmp(y->key, ekey, el) == 0)
			return true;
	}
	return false;
}

/* A record whose last put (as of the report's head) its owner erased
 * since: what the report counted of it is its residue in the erase request
 * (node/records/residue.c). 1 with x's value set to the residue (kept
 * alive in p), 0 when it counts for nothing (the figures do not read its
 * collection, or the erase came before the report's head: the report was
 * computed without it), -ENODATA when the erase request carries no residue
 * for it (e says which). */
static int erased_value(struct store_txn *t, struct replay *p, const struct recs *all, struct rec *x, struct err *e)
{
	char ekey[LIMIT_KEY_BYTES + 1];
	const uint8_t *v = NULL;
	size_t vl = 0;
	struct err ignore = {0};
	Strata__Erasure *er = NULL, **more;
	const Strata__ErasedResidue *hit = NULL;

	if (!record_has_residue(x->collection))
		return 0;
	if (erase_key_make(ekey, sizeof ekey, x->collection, x->key, x->key_len, &ignore) < 0)
		goto none;
	if (erased_in_range(all, x, ekey))
		return 0;
	if (store_state_get(t, "erase", p->owner, (const uint8_t *)ekey, strlen(ekey), &v, &vl, NULL, &ignore) < 0 ||
	    !(er = strata__erasure__unpack(NULL, vl, v)))
		goto none;
	if (!(more = realloc(p->erasures, (p->nerasures + 1) * sizeof *more))) {
		strata__erasure__free_unpacked(er, NULL);
		err_set(e, "out of memory recomputing figures");
		return -ENOMEM;
	}
	p->erasures = more;
	p->erasures[p->nerasures++] = er;
	for (size_t i = 0; i < er->n_residues && er->residues[i]->seq <= x->seq; i++)
		hit = er->residues[i];
	if (!hit)
		goto none;
	x->value = hit->value.data;
	x->value_len = hit->value.len;
	x->erased = false;
	return 1;
none:
	/* What the report counted of it is gone with its value. */
	err_set(e, "%s %.*s it may count was erased since (strata erase) by a request that keeps no residue of it",
		x->collection, (int)x->key_len, (const char *)x->key);
	return -ENODATA;
}

int report_compute_replay(struct node *n, struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *period,
			  uint64_t up_seq, struct figures *f, struct err *e)
{
	struct recs all = {0}, latest = {0};
	struct replay p = {.r = &all, .owner = owner};
	struct store_head h;
	struct err ignore = {0};
	int ret;

	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES];
	size_t nkeys = node_unit_keys(n, t, owner, keys, NODE_KEYS_MAX);

	memset(f, 0, sizeof *f);
	/* The keys the unit rotated away from first, oldest first, each to
	 * its end (a replaced key writes no more): what they wrote is the
	 * unit's, and what a later key wrote of the same record wins. */
	for (size_t k = nkeys; k-- > 1;) {
		struct store_head ph;

		if (store_head_get(t, keys[k], "up", &ph, &ignore) == 0 && ph.seq &&
		    (ret = store_log_each(t, keys[k], "up", 1, ph.seq, replay_entry, &p, e)) < 0)
			goto out;
	}
	ret = store_head_get(t, owner, "up", &h, &ignore);
	if (ret < 0 && ret != -ENOENT)
		goto out;
	if (h.seq < up_seq) {
		err_set(e, "this node holds the up feed up to #%llu, the report was computed at #%llu",
			(unsigned long long)h.seq, (unsigned long long)up_seq);
		ret = -ENOENT;
		goto out;
	}
	if (up_seq && (ret = store_log_each(t, owner, "up", 1, up_seq, replay_entry, &p, e)) < 0)
		goto out;
	if ((ret = p.ret) < 0)
		goto out;
	/* The last op of each key is the record's state at that head. */
	if (all.n > 1)
		qsort(all.v, all.n, sizeof *all.v, by_key_then_order);
	for (size_t i = 0; i < all.n; i++) {
		bool last = i + 1 == all.n || strcmp(all.v[i].collection, all.v[i + 1].collection) != 0 ||
			    all.v[i].key_len != all.v[i + 1].key_len ||
			    memcmp(all.v[i].key, all.v[i + 1].key, all.v[i].key_len) != 0;

		if (last && all.v[i].erased && (ret = erased_value(t, &p, &all, &all.v[i], e)) < 0)
			goto out;
		if (last && all.v[i].value && (ret = push(&latest, &all.v[i])) < 0)
			goto out;
	}
	ret = compute(&latest, period, "9999-12-31", false, owner, t, f, e);
out:
	if (ret == -ENOMEM)
		err_set(e, "out of memory recomputing figures");
	for (size_t i = 0; i < p.nkeep; i++)
		changeset_destroy(&p.keep[i]);
	free(p.keep);
	for (size_t i = 0; i < p.nerasures; i++)
		strata__erasure__free_unpacked(p.erasures[i], NULL);
	free(p.erasures);
	free(all.v);
	free(latest.v);
	return ret;
}
