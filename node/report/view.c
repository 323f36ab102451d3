/* SPDX-License-Identifier: MIT */
/*
 * What report show needs besides its walk (walk.c): the deadline of a
 * period in local time, the index of recomputations (a report's figures
 * recomputed from the heads it names, done once per report), and the
 * decision on a child's report (accept or return), a signed entry of the
 * down feed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/records/records.h"
#include "node/report/view_internal.h"

/* The end of the deadline day: day DAY of the month after PERIOD, local
 * time (issue 14: deadlines in the node's time zone, the TZ of the
 * process; before, UTC). Midnight starting day DAY + 1, by mktime with
 * the zone's own daylight saving (tm_isdst -1). */
uint64_t report_deadline_ms(const char *period, unsigned day)
{
	struct tm tm = {0};
	time_t s;

	if (!report_period_valid(period))
		return 0;
	tm.tm_year = atoi(period) - 1900;
	tm.tm_mon = atoi(period + 5); /* the next month (0-based: this is +1) */
	tm.tm_mday = (int)day + 1;
	tm.tm_isdst = -1;
	s = mktime(&tm);
	return s < 0 ? 0 : (uint64_t)s * 1000;
}

uint64_t report_period_end_ms(const char *period)
{
	return report_deadline_ms(period, 0); /* day 0 of the next month ends at its first midnight */
}

void report_iso_utc(char out[REPORT_ISO_SIZE], uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(out, REPORT_ISO_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Recomputations already done, by (author, period, up head): a pure
 * function of signed, immutable log entries, so it is computed once and
 * kept in an index instead of replaying every descendant's up feed at each
 * `report show` (a city holds about a thousand of them). The last byte of
 * the key is the version of the figure definitions: a change to figures.c
 * that alters a recomputation must bump it. */
#define CHECK_VERSION 1

struct report_memo {
	uint8_t key[REPORT_CHECK_KEY_BYTES];
	uint8_t *val;
	size_t len;
};

void report_check_key(uint8_t k[REPORT_CHECK_KEY_BYTES], const uint8_t author[KEY_BYTES], const char *period,
		      uint64_t seq)
{
	memcpy(k, author, KEY_BYTES);
	memcpy(k + KEY_BYTES, period, 7);
	be64_put(k + KEY_BYTES + 7, seq);
	k[REPORT_CHECK_KEY_BYTES - 1] = CHECK_VERSION;
}

uint64_t report_up_seq(const Strata__Report *rep, const uint8_t author[KEY_BYTES])
{
	uint64_t up_seq = 0;

	for (size_t i = 0; i < rep->n_heads; i++)
		if (strcmp(rep->heads[i]->feed, FEED_UP) == 0 && rep->heads[i]->author.len == KEY_BYTES &&
		    memcmp(rep->heads[i]->author.data, author, KEY_BYTES) == 0)
			up_seq = rep->heads[i]->seq;
	return up_seq;
}

/* The figures of KEY's up feed replayed to UP_SEQ for the period: from the
 * index if an earlier view computed them, else replayed (and queued for
 * the index). -ENOENT if this node does not hold that much of the feed. */
int report_recompute(struct report_ctx *v, const uint8_t key[KEY_BYTES], uint64_t up_seq, struct figures *f,
		     struct err *e)
{
	uint8_t k[REPORT_CHECK_KEY_BYTES];
	const uint8_t *val;
	size_t vl;
	struct err ignore = {0};
	Strata__Figures *p, tmp;
	struct report_memo *m;
	int ret;

	report_check_key(k, key, v->period, up_seq);
	ret = report_gather_check(v, k, &val, &vl); /* 1: not gathered */
	if (ret == 1)
		ret = store_index_get(v->t, REPORT_CHECK_INDEX, k, sizeof k, &val, &vl, &ignore);
	if (ret == 0 && (p = strata__figures__unpack(NULL, vl, val))) {
		memset(f, 0, sizeof *f);
		ret = figures_add_proto(f, p);
		strata__figures__free_unpacked(p, NULL);
		if (ret == 0)
			return 0;
		figures_clear(f);
	}
	if ((ret = report_compute_replay(v->n, v->t, key, v->period, up_seq, f, e)) < 0)
		return ret;
	if (v->n_memo == v->cap_memo) {
		size_t cap = v->cap_memo ? 2 * v->cap_memo : 64;

		if (!(m = realloc(v->memo, cap * sizeof *m)))
			return 0; /* only the index is lost */
		v->memo = m;
		v->cap_memo = cap;
	}
	m = &v->memo[v->n_memo];
	memcpy(m->key, k, sizeof k);
	figures_to_proto(f, &tmp);
	m->len = strata__figures__get_packed_size(&tmp);
	if ((m->val = malloc(m->len ? m->len : 1))) {
		strata__figures__pack(&tmp, m->val);
		v->n_memo++;
	}
	return 0;
}

/* Keeps the queued recomputations, best effort: a store opened read-only,
 * or any failure, only means the next view replays them again. */
void report_memo_save(struct report_ctx *v)
{
	struct store_txn *t = NULL;
	struct err ignore = {0};
	size_t i;

	if (v->n_memo && store_txn_begin(node_store(v->n), true, &t, &ignore) == 0) {
		for (i = 0; i < v->n_memo; i++)
			if (store_index_put(t, REPORT_CHECK_INDEX, v->memo[i].key, REPORT_CHECK_KEY_BYTES, v->memo[i].val, v->memo[i].len,
					    &ignore) < 0)
				break;
		if (i == v->n_memo && store_txn_commit(&t, &ignore) == 0)
			t = NULL;
		store_txn_abort(&t);
	}
	for (i = 0; i < v->n_memo; i++)
		free(v->memo[i].val);
	free(v->memo);
	v->memo = NULL;
	v->n_memo = v->cap_memo = 0;
}

/* --- recomputations kept as reports arrive --- */

static int fill_one(const struct store_record *r, void *arg)
{
	struct report_ctx *v = arg;
	Strata__Report *rep;
	char period[REPORT_PERIOD_SIZE];
	uint64_t up_seq;
	struct figures f;
	struct err ignore = {0};

	if (memcmp(r->owner, node_id(v->n), KEY_BYTES) == 0 || r->key_len != 7 ||
	    !(rep = strata__report__unpack(NULL, r->value_len, r->value)))
		return 0;
	memcpy(period, r->key, 7);
	period[7] = '\0';
	up_seq = report_up_seq(rep, r->owner);
	strata__report__free_unpacked(rep, NULL);
	if (!report_period_valid(period))
		return 0;
	v->period = period;
	/* held already, or computed and queued; -ENOENT (the up feed has not
	 * arrived that far yet) is left to a later view */
	if (report_recompute(v, r->owner, up_seq, &f, &ignore) == 0)
		figures_clear(&f);
	v->period = NULL;
	return 0;
}

int report_checks_fill(struct node *n, const uint8_t *author, struct err *e)
{
	struct report_ctx v = {.n = n, .e = e};
	int ret;

	if ((ret = store_txn_begin(node_store(n), false, &v.t, e)) < 0)
		return ret;
	ret = store_state_each(v.t, record_report.collection, author, fill_one, &v, e);
	store_txn_abort(&v.t);
	report_memo_save(&v);
	return ret < 0 ? ret : 0;
}
