/* SPDX-License-Identifier: MIT */
/*
 * report show's reads in key order (issue 14). A tree view reads, per
 * unit, records at far apart places of the store: its report in state, its
 * report entry in the log (when it was signed), its check in an index, the
 * decisions on it and their down entries. Read in the tree's order, every
 * unit maps new pages (a fault maps a whole folio, up to ~1 MiB), and a
 * view of a city either holds most of the store's map or, letting it go,
 * maps the same pages again and again. So the walk first lists its units
 * (gather_tree.c: certificates, level by level), then reads what it will need
 * region by region, each in key order (sorted point reads move forward
 * through the B-tree), letting the map go behind it past the bound
 * (report_map_tick), into compact tables on the heap: O(units), a few
 * hundred bytes each (the report's bytes, ~500; a time, a check's
 * figures, ~100; a decision). The walk then answers from these tables; a
 * record not gathered (not listed first) is read from the store as before.
 * docs/PERFORMANCE.md, "Issue 14".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/records/records.h"
#include "node/report/view_internal.h"

#define RSS_CHECK_EVERY 32 /* records read between two looks at the resident memory */

enum { FEED_ID_REPORT, FEED_ID_DOWN };

struct g_report { /* a key's report for the period, looked up */
	uint8_t owner[KEY_BYTES];
	bool found;
	uint64_t seq;
	uint8_t *val;
	size_t len;
};

struct g_time { /* when an entry was signed */
	uint8_t author[KEY_BYTES];
	int feed;
	uint64_t seq, ms;
};

struct g_check { /* a recomputation in the index, looked up */
	uint8_t key[REPORT_CHECK_KEY_BYTES];
	bool found;
	uint8_t *val;
	size_t len;
};

struct g_approval { /* a decision for the period by an owner scanned */
	uint8_t owner[KEY_BYTES];
	char key[REPORT_APPROVAL_KEY_SIZE];
	uint64_t seq;
	uint8_t *val;
	size_t len;
};

struct report_gather {
	uint8_t (*units)[KEY_BYTES]; /* every key of every unit listed */
	size_t n_units, cap_units;
	uint8_t (*owners)[KEY_BYTES]; /* the keys whose decisions are scanned */
	size_t n_owners, cap_owners;
	struct g_report *rep;
	size_t n_rep;
	struct g_time *time;
	size_t n_time, cap_time;
	struct g_check *chk;
	size_t n_chk;
	struct g_approval *apr;
	size_t n_apr, cap_apr;
	int ret; /* the first failure to allocate */
};

/* This process's resident memory (bytes; 0 if unknown). */
static unsigned long resident_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size, resident = 0;

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (unsigned long)sysconf(_SC_PAGESIZE);
}

void report_map_tick(struct report_ctx *v)
{
	if (v->rss_bound && ++v->since_release >= RSS_CHECK_EVERY) {
		v->since_release = 0;
		if (resident_bytes() > v->rss_bound)
			store_map_release(node_store(v->n));
	}
}

/* The table helpers both gathering files use (view_internal.h). */
bool report_grow(int *ret, void **p, size_t *cap, size_t n, size_t size)
{
	void *q;

	if (n < *cap)
		return true;
	if (!(q = realloc(*p, (*cap ? 2 * *cap : 256) * size))) {
		*ret = -ENOMEM;
		return false;
	}
	*p = q;
	*cap = *cap ? 2 * *cap : 256;
	return true;
}

void report_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1) /* qsort of no items, whose array may be NULL, is undefined */
		qsort(base, n, size, cmp);
}

void *report_find(const void *key, const void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, base, n, size, cmp) : NULL;
}

int report_cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, KEY_BYTES);
}

static uint8_t *dup_bytes(struct report_gather *g, const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);

	if (!d)
		g->ret = -ENOMEM;
	else if (len)
		memcpy(d, p, len);
	return d;
}

size_t report_sort_keys(uint8_t (*k)[KEY_BYTES], size_t n)
{
	size_t m = 0;

	report_sort(k, n, KEY_BYTES, report_cmp_key);
	for (size_t i = 0; i < n; i++)
		if (!m || memcmp(k[m - 1], k[i], KEY_BYTES) != 0)
			memmove(k[m++], k[i], KEY_BYTES);
	return m;
}

void report_gather_unit(struct report_ctx *v, const uint8_t keys[][KEY_BYTES], size_t nkeys, bool lists)
{
	struct report_gather *g = v->g;

	for (size_t i = 0; i < nkeys; i++) {
		if (report_grow(&g->ret, (void **)&g->units, &g->cap_units, g->n_units, KEY_BYTES))
			memcpy(g->units[g->n_units++], keys[i], KEY_BYTES);
		if (lists && v->o.figures && report_grow(&g->ret, (void **)&g->owners, &g->cap_owners, g->n_owners, KEY_BYTES))
			memcpy(g->owners[g->n_owners++], keys[i], KEY_BYTES);
	}
}

/* When the entry (author, feed, seq) was signed (0 if unreadable). */
static uint64_t log_ms(struct report_ctx *v, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq)
{
	const uint8_t *env;
	size_t env_len;
	struct changeset *cs = NULL;
	struct err ignore = {0};
	uint64_t when = 0;

	if (store_log_get(v->t, author, feed, seq, &env, &env_len, NULL, &ignore) == 0 &&
	    changeset_decode(&cs, env, env_len, &ignore) == 0)
		when = cs->time_ms;
	changeset_destroy(&cs);
	return when;
}

static void want_time(struct report_gather *g, const uint8_t author[KEY_BYTES], int feed, uint64_t seq)
{
	if (report_grow(&g->ret, (void **)&g->time, &g->cap_time, g->n_time, sizeof *g->time)) {
		memcpy(g->time[g->n_time].author, author, KEY_BYTES);
		g->time[g->n_time].feed = feed;
		g->time[g->n_time++].seq = seq;
	}
}

/* The reports of the period of every key listed, in key order. */
static void read_reports(struct report_ctx *v, struct report_gather *g)
{
	if (!(g->rep = calloc(g->n_units ? g->n_units : 1, sizeof *g->rep))) {
		g->ret = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < g->n_units && !g->ret; i++, g->n_rep++) {
		struct g_report *r = &g->rep[i];
		const uint8_t *val;
		struct store_origin o;
		struct err ignore = {0};

		memcpy(r->owner, g->units[i], KEY_BYTES);
		if (store_state_get(v->t, record_report.collection, r->owner, (const uint8_t *)v->period,
				    strlen(v->period), &val, &r->len, &o, &ignore) == 0) {
			r->found = true;
			r->seq = o.seq;
			r->val = dup_bytes(g, val, r->len);
			want_time(g, r->owner, FEED_ID_REPORT, o.seq);
		}
		report_map_tick(v);
	}
}

static int cmp_time(const void *a, const void *b)
{
	const struct g_time *x = a, *y = b;
	int c = memcmp(x->author, y->author, KEY_BYTES);

	if (c)
		return c;
	if (x->feed != y->feed)
		return x->feed < y->feed ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The times of the entries wanted from FROM on, in key order. */
static void read_times(struct report_ctx *v, struct report_gather *g, size_t from)
{
	report_sort(g->time + from, g->n_time - from, sizeof *g->time, cmp_time);
	for (size_t i = from; i < g->n_time; i++) {
		struct g_time *t = &g->time[i];

		t->ms = log_ms(v, t->author, t->feed == FEED_ID_DOWN ? FEED_DOWN : FEED_REPORT, t->seq);
		report_map_tick(v);
	}
	report_sort(g->time, g->n_time, sizeof *g->time, cmp_time);
}

static int cmp_check(const void *a, const void *b)
{
	return memcmp(a, b, REPORT_CHECK_KEY_BYTES);
}

/* The recomputations of the reports found, in the index's key order. */
static void read_checks(struct report_ctx *v, struct report_gather *g)
{
	if (!(g->chk = calloc(g->n_rep ? g->n_rep : 1, sizeof *g->chk))) {
		g->ret = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < g->n_rep; i++) {
		Strata__Report *rep;

		if (!g->rep[i].found || !(rep = strata__report__unpack(NULL, g->rep[i].len, g->rep[i].val)))
			continue;
		report_check_key(g->chk[g->n_chk++].key, g->rep[i].owner, v->period, report_up_seq(rep, g->rep[i].owner));
		strata__report__free_unpacked(rep, NULL);
	}
	report_sort(g->chk, g->n_chk, sizeof *g->chk, cmp_check);
	for (size_t i = 0; i < g->n_chk && !g->ret; i++) {
		const uint8_t *val;
		struct err ignore = {0};

		if (store_index_get(v->t, REPORT_CHECK_INDEX, g->chk[i].key, REPORT_CHECK_KEY_BYTES, &val, &g->chk[i].len,
				    &ignore) == 0) {
			g->chk[i].found = true;
			g->chk[i].val = dup_bytes(g, val, g->chk[i].len);
		}
		report_map_tick(v);
	}
}

static int cmp_approval(const void *a, const void *b)
{
	const struct g_approval *x = a, *y = b;
	int c = memcmp(x->owner, y->owner, KEY_BYTES);

	return c ? c : strcmp(x->key, y->key);
}

static int keep_approval(const struct store_record *r, void *arg)
{
	struct report_ctx *v = arg;
	struct report_gather *g = v->g;
	size_t pl = strlen(v->period);
	struct g_approval *a;

	report_map_tick(v);
	/* "<child hex>/<period>": this period's only */
	if (r->key_len >= REPORT_APPROVAL_KEY_SIZE || r->key_len <= pl + 1 || memchr(r->key, 0, r->key_len) ||
	    r->key[r->key_len - pl - 1] != '/' || memcmp(r->key + r->key_len - pl, v->period, pl) != 0 ||
	    !report_grow(&g->ret, (void **)&g->apr, &g->cap_apr, g->n_apr, sizeof *g->apr))
		return 0;
	a = &g->apr[g->n_apr++];
	memset(a, 0, sizeof *a);
	memcpy(a->owner, r->owner, KEY_BYTES);
	memcpy(a->key, r->key, r->key_len);
	a->seq = r->origin.seq;
	a->len = r->value_len;
	a->val = dup_bytes(g, r->value, r->value_len);
	want_time(g, a->owner, FEED_ID_DOWN, a->seq);
	return 0;
}

/* The decisions for the period by every key of the units that list
 * others and of the issuers above this node: where a decision on a unit
 * shown comes from (report_row_decision). */
static void read_approvals(struct report_ctx *v, struct report_gather *g)
{
	struct node_chain w;
	struct err ignore = {0};
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES];

	node_chain_begin(&w, node_id(v->n));
	while (node_chain_next(v->t, &w, &ignore) == 0 && memcmp(w.issuer, w.subject, KEY_BYTES) != 0)
		report_gather_unit(v, keys, node_unit_keys(v->n, v->t, w.issuer, keys, NODE_KEYS_MAX), true);
	node_chain_end(&w);
	if (node_config(v->n)->has_parent)
		report_gather_unit(v, keys,
				   node_unit_keys(v->n, v->t, node_config(v->n)->parent_key, keys, NODE_KEYS_MAX), true);
	g->n_owners = report_sort_keys(g->owners, g->n_owners);
	for (size_t i = 0; i < g->n_owners && !g->ret; i++)
		if (store_state_each(v->t, record_approval.collection, g->owners[i], keep_approval, v, &ignore) < 0)
			g->n_owners = i; /* the rest is read from the store as it comes */
	report_sort(g->apr, g->n_apr, sizeof *g->apr, cmp_approval);
}

int report_gather(struct report_ctx *v)
{
	struct report_gather *g = v->g;
	size_t times;

	g->n_units = report_sort_keys(g->units, g->n_units);
	read_reports(v, g);
	if (!g->ret)
		read_times(v, g, 0);
	if (!g->ret && v->o.figures)
		read_checks(v, g);
	times = g->n_time;
	if (!g->ret && v->o.figures) {
		read_approvals(v, g);
		read_times(v, g, times);
	}
	/* the walk reads little of the store now: what the gather mapped goes */
	if (v->rss_bound)
		store_map_release(node_store(v->n));
	return g->ret;
}

int report_gather_begin(struct report_ctx *v)
{
	if (!(v->g = calloc(1, sizeof *v->g)))
		return -ENOMEM;
	return 0;
}

void report_gather_end(struct report_ctx *v)
{
	struct report_gather *g = v->g;

	if (!g)
		return;
	for (size_t i = 0; i < g->n_rep; i++)
		free(g->rep[i].val);
	for (size_t i = 0; i < g->n_chk; i++)
		free(g->chk[i].val);
	for (size_t i = 0; i < g->n_apr; i++)
		free(g->apr[i].val);
	free(g->units);
	free(g->owners);
	free(g->rep);
	free(g->time);
	free(g->chk);
	free(g->apr);
	free(g);
	v->g = NULL;
}

/* --- the walk's lookups --- */

int report_gather_report(struct report_ctx *v, const uint8_t keys[][KEY_BYTES], size_t nkeys, const uint8_t **val,
			 size_t *len, uint64_t *seq, uint8_t author[KEY_BYTES])
{
	if (!v->g)
		return 1;
	for (size_t i = 0; i < nkeys; i++) {
		const struct g_report *r = report_find(keys[i], v->g->rep, v->g->n_rep, sizeof *r, report_cmp_key);

		if (!r)
			return 1;
		if (r->found) {
			*val = r->val;
			*len = r->len;
			*seq = r->seq;
			memcpy(author, r->owner, KEY_BYTES);
			return 0;
		}
	}
	return -ENOENT;
}

int report_gather_time(struct report_ctx *v, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq,
		       uint64_t *ms)
{
	struct g_time probe = {.seq = seq}, *t;

	if (!v->g || (strcmp(feed, FEED_REPORT) != 0 && strcmp(feed, FEED_DOWN) != 0))
		return 1;
	memcpy(probe.author, author, KEY_BYTES);
	probe.feed = strcmp(feed, FEED_DOWN) == 0 ? FEED_ID_DOWN : FEED_ID_REPORT;
	if (!(t = report_find(&probe, v->g->time, v->g->n_time, sizeof *t, cmp_time)))
		return 1;
	*ms = t->ms;
	return 0;
}

int report_gather_check(struct report_ctx *v, const uint8_t k[REPORT_CHECK_KEY_BYTES], const uint8_t **val,
			size_t *len)
{
	const struct g_check *c;

	if (!v->g || !(c = report_find(k, v->g->chk, v->g->n_chk, sizeof *c, cmp_check)))
		return 1;
	if (!c->found)
		return -ENOENT;
	*val = c->val;
	*len = c->len;
	return 0;
}

int report_gather_approval(struct report_ctx *v, const uint8_t owner[KEY_BYTES], const char *key, const uint8_t **val,
			   size_t *len, uint64_t *seq)
{
	struct g_approval probe;
	const struct g_approval *a;

	if (!v->g || !report_find(owner, v->g->owners, v->g->n_owners, KEY_BYTES, report_cmp_key))
		return 1;
	if (strlen(key) >= sizeof probe.key)
		return -ENOENT;
	memcpy(probe.owner, owner, KEY_BYTES);
	strcpy(probe.key, key);
	if (!(a = report_find(&probe, v->g->apr, v->g->n_apr, sizeof *a, cmp_approval)))
		return -ENOENT;
	*val = a->val;
	*len = a->len;
	*seq = a->seq;
	return 0;
}
