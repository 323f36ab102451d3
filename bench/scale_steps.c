/* SPDX-License-Identifier: MIT */
/*
 * strata-bench-scale: the entries of the year that depend on the tree's
 * figures or on two units at once: a report a month from every unit (a
 * branch's own figures from its members; above, the roll-up of its
 * children's reports, naming each as report_submit does) and transfers of
 * members between branches (the four steps of node/transfer: release by
 * the old branch, forward by the lowest common ancestor, acceptance by the
 * new branch, outcome by the ancestor).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/scale.h"

#define FIG_N 4 /* members_full, _probationary, _active, _lapsed */

/* Branch b's figures, as its members make them (scale_member_fill). */
static void branch_figures(uint32_t b, uint64_t f[FIG_N])
{
	unsigned nm = scale_members(b);

	f[0] = f[1] = 0;
	for (unsigned i = 0; i < nm; i++)
		f[i % 9 == 8 ? 1 : 0]++;
	f[3] = nm > 16;
	f[2] = nm - f[3];
}

static void figures_set(Strata__Figures *p, const uint64_t f[FIG_N])
{
	p->members_full = f[0];
	p->members_probationary = f[1];
	p->members_active = f[2];
	p->members_lapsed = f[3];
}

struct report_ctx {
	uint64_t (*tot)[FIG_N];
	Strata__FeedHead *heads;     /* one per child */
	Strata__FeedHead **child_ptrs;
	size_t cap;
};

/* Unit u's 12 reports, one key pair for all. */
static int unit_reports(struct scale_tree *t, struct report_ctx *c, uint32_t u, struct err *e)
{
	uint64_t own[FIG_N] = {0};
	uint32_t nc = t->n_children[u];
	struct keypair *kp = NULL;
	bool mine = false;
	uint8_t *buf = NULL;
	int ret;

	if (t->depth[u] == SL_BRANCH)
		branch_figures(u, own);
	if ((ret = scale_signer(t, u, &kp, &mine, e)) < 0)
		return ret;
	for (int k = 0; k < SCALE_MONTHS && ret == 0; k++) {
		Strata__Report rep = STRATA__REPORT__INIT;
		Strata__Figures fo = STRATA__FIGURES__INIT, ft = STRATA__FIGURES__INIT;
		Strata__FeedHead up = STRATA__FEED_HEAD__INIT, *upp = &up;
		uint64_t ts = t->period_end_ms[k] + 2 * SCALE_DAY_MS + (u % 3600) * 1000;
		struct scale_op op = {"report", (const uint8_t *)t->period[k], strlen(t->period[k]), NULL, 0};

		if (ts > t->now_ms - 3600000)
			ts = t->now_ms - 3600000 - (u % 3600) * 100;
		figures_set(&fo, own);
		figures_set(&ft, c->tot[u]);
		rep.period = t->period[k];
		rep.own = &fo;
		rep.total = &ft;
		if (t->depth[u] == SL_BRANCH) { /* computed from its member import */
			up.author.data = t->pub[u];
			up.author.len = KEY_BYTES;
			up.feed = FEED_UP;
			up.seq = 1;
			rep.n_heads = 1;
			rep.heads = &upp;
		}
		for (uint32_t i = 0; i < nc; i++) {
			strata__feed_head__init(&c->heads[i]);
			c->heads[i].author.data = t->pub[t->first_child[u] + i];
			c->heads[i].author.len = KEY_BYTES;
			c->heads[i].feed = FEED_REPORT;
			c->heads[i].seq = (uint64_t)k + 1;
			c->child_ptrs[i] = &c->heads[i];
		}
		rep.n_children = nc;
		rep.children = c->child_ptrs;
		op.val_len = strata__report__get_packed_size(&rep);
		if (!(buf = malloc(op.val_len))) {
			ret = -ENOMEM;
			break;
		}
		strata__report__pack(&rep, buf);
		op.val = buf;
		ret = scale_emit_one(t, kp, u, SF_REPORT, ts, &op, 1, false, k == SCALE_MONTHS - 1, NULL, e);
		free(buf);
	}
	if (mine)
		keypair_destroy(&kp);
	return ret;
}

int scale_emit_reports(struct scale_tree *t, struct err *e)
{
	struct report_ctx c = {0};
	double t0 = scale_now_s();
	int ret = -ENOMEM;

	for (uint32_t u = 0; u < t->n_units; u++)
		if (t->n_children[u] > c.cap)
			c.cap = t->n_children[u];
	c.tot = calloc(t->n_units, sizeof *c.tot);
	c.heads = calloc(c.cap + 1, sizeof *c.heads);
	c.child_ptrs = calloc(c.cap + 1, sizeof *c.child_ptrs);
	if (!c.tot || !c.heads || !c.child_ptrs)
		goto out;
	/* the totals bottom-up: children are numbered after their parent */
	for (uint32_t u = t->n_units; u-- > 0;) {
		if (t->depth[u] == SL_BRANCH)
			branch_figures(u, c.tot[u]);
		if (t->parent[u] != SCALE_NONE)
			for (int i = 0; i < FIG_N; i++)
				c.tot[t->parent[u]][i] += c.tot[u][i];
	}
	ret = 0;
	for (uint32_t u = 0; u < t->n_units && ret == 0; u++) {
		ret = unit_reports(t, &c, u, e);
		if ((u + 1) % 10000 == 0 || u + 1 == t->n_units)
			fprintf(stderr, "strata-bench-scale: reports of %u/%u units, %.1f s\n", u + 1, t->n_units,
				scale_now_s() - t0);
	}
	if (ret == 0)
		ret = scale_flush(t, e);
out:
	if (ret == -ENOMEM)
		err_set(e, "out of memory");
	free(c.tot);
	free(c.heads);
	free(c.child_ptrs);
	return ret;
}

/* --- transfers --- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* A new branch for a member of b1: 6 in 10 in the same street, 3 in
 * another street of the county, 1 anywhere. */
static uint32_t pick_to(const struct scale_tree *t, uint32_t b1, uint64_t r)
{
	uint32_t nb = t->n_units - t->level_start[SL_BRANCH], street = t->parent[b1], county = t->parent[street];
	uint32_t to = b1;

	if (r % 10 < 6 && t->n_children[street] > 1)
		to = t->first_child[street] + (uint32_t)((r >> 8) % t->n_children[street]);
	else if (r % 10 < 9 && t->n_children[county] > 1) {
		uint32_t s = t->first_child[county] + (uint32_t)((r >> 8) % t->n_children[county]);

		to = t->first_child[s] + (uint32_t)((r >> 24) % t->n_children[s]);
	} else
		to = t->level_start[SL_BRANCH] + (uint32_t)((r >> 8) % nb);
	return to == b1 ? (b1 + 1 < t->n_units ? b1 + 1 : b1 - 1) : to;
}

static uint32_t common_ancestor(const struct scale_tree *t, uint32_t a, uint32_t b)
{
	while (a != b) {
		if (t->depth[a] >= t->depth[b])
			a = t->parent[a];
		else
			b = t->parent[b];
	}
	return a;
}

/* One transfer's four entries. */
static int transfer(struct scale_tree *t, unsigned i, uint32_t b1, uint32_t b2, int k, struct err *e)
{
	Strata__Member m = STRATA__MEMBER__INIT;
	Strata__Release rel = STRATA__RELEASE__INIT;
	Strata__Forward fw = STRATA__FORWARD__INIT;
	Strata__Acceptance acc = STRATA__ACCEPTANCE__INIT;
	Strata__Outcome out = STRATA__OUTCOME__INIT;
	uint32_t lca = common_ancestor(t, b1, b2);
	uint8_t buf[1024], rh[HASH_BYTES], ah[HASH_BYTES];
	char mid[16], joined[16], id[48], key[KEY_HEX + 48], to_name[NODE_NAME_SIZE], date[24], newid[16];
	uint64_t ts = t->period_end_ms[k] - 15 * SCALE_DAY_MS + i * 1000ull;
	struct scale_op op = {"release", (const uint8_t *)id, 0, buf, 0};
	int ret;

	scale_member_fill(&m, b1, 0, mid, sizeof mid, joined);
	scale_name(t, b2, to_name);
	snprintf(date, sizeof date, "%s-15", t->period[k]);
	snprintf(id, sizeof id, "%s-%.4s%.2s15-%u", mid, t->period[k], t->period[k] + 5, i);
	snprintf(newid, sizeof newid, "T%05u", i);
	hex_encode(key, t->pub[b1], KEY_BYTES);
	snprintf(key + 2 * KEY_BYTES, sizeof key - 2 * KEY_BYTES, "/%s", id);
	rel.id = id;
	rel.member = &m;
	rel.to_name = to_name;
	rel.to.data = t->pub[b2];
	rel.to.len = KEY_BYTES;
	rel.date = date;
	op.key_len = strlen(id);
	op.val_len = strata__release__pack(&rel, buf);
	if ((ret = scale_emit_one(t, NULL, b1, SF_UP, ts, &op, 1, true, false, rh, e)) < 0)
		return ret;
	fw.from.data = t->pub[b1];
	fw.from.len = KEY_BYTES;
	fw.id = id;
	fw.to_name = to_name;
	fw.to = rel.to;
	fw.release_hash.data = rh;
	fw.release_hash.len = HASH_BYTES;
	fw.mode = STRATA__FORWARD_MODE__FORWARD_AUTO;
	fw.member = &m;
	fw.date = date;
	fw.released = date;
	op = (struct scale_op){"forward", (const uint8_t *)key, strlen(key), buf, strata__forward__pack(&fw, buf)};
	if ((ret = scale_emit_one(t, NULL, lca, SF_DOWN, ts + 100, &op, 1, true, false, NULL, e)) < 0)
		return ret;
	acc.from = fw.from;
	acc.id = id;
	acc.release_hash = fw.release_hash;
	acc.decision = STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED;
	acc.member_id = newid;
	acc.date = date;
	op.collection = "acceptance";
	op.val_len = strata__acceptance__pack(&acc, buf);
	if ((ret = scale_emit_one(t, NULL, b2, SF_UP, ts + 200, &op, 1, true, false, ah, e)) < 0)
		return ret;
	out.from = fw.from;
	out.id = id;
	out.release_hash = fw.release_hash;
	out.to = rel.to;
	out.acceptance_hash.data = ah;
	out.acceptance_hash.len = HASH_BYTES;
	out.decision = acc.decision;
	out.member_id = newid;
	out.date = date;
	op.collection = "outcome";
	op.val_len = strata__outcome__pack(&out, buf);
	return scale_emit_one(t, NULL, lca, SF_DOWN, ts + 300, &op, 1, true, false, NULL, e);
}

int scale_emit_transfers(struct scale_tree *t, unsigned count, struct err *e)
{
	uint32_t nb = t->n_units - t->level_start[SL_BRANCH];

	for (unsigned i = 0; i < count && nb > 1; i++) {
		uint64_t r = mix(i);
		uint32_t b1 = t->level_start[SL_BRANCH] + (uint32_t)(r % nb);
		int ret;

		/* spread over the year but its last month, in order (each feed's times rise) */
		if ((ret = transfer(t, i, b1, pick_to(t, b1, mix(r)), (int)(i * (SCALE_MONTHS - 1) / count), e)) < 0)
			return ret;
	}
	return scale_flush(t, e);
}
