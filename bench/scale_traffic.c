/* SPDX-License-Identifier: MIT */
/*
 * strata-bench-scale: the traffic figures. Every entry of the year was
 * counted per author and feed; the entries delivered are those counts
 * times the nodes the routing rule (scale_route_holds, scale.c) gives each
 * feed, summed over the whole tree. Enrollment is the certificates'
 * share: N x (depth + the fan-out of a street) with trust scoped to the
 * tree, against N x (N - 1) when every trust feed went everywhere.
 */
#include <stdio.h>
#include <string.h>

#include "bench/scale.h"

#define RULE_SAMPLES 40

/* The units other than A that hold A's feed F: the rule asked of A's
 * ancestors and of every descendant (level by level, a contiguous range
 * each); no other unit can (checked by rule_check). */
uint64_t scale_receivers(const struct scale_tree *t, uint32_t a, enum scale_feed f)
{
	uint64_t n = 0;
	uint32_t lo, hi;

	for (uint32_t x = t->parent[a]; x != SCALE_NONE; x = t->parent[x])
		n += scale_route_holds(t, x, a, f);
	if (t->depth[a] == SL_BRANCH || !t->n_children[a])
		return n;
	lo = t->first_child[a];
	hi = lo + t->n_children[a];
	for (;;) {
		for (uint32_t x = lo; x < hi; x++)
			n += scale_route_holds(t, x, a, f);
		if (t->depth[lo] == SL_BRANCH)
			break;
		while (lo < hi && !t->n_children[lo])
			lo++;
		while (hi > lo && !t->n_children[hi - 1])
			hi--;
		if (lo == hi)
			break;
		uint32_t nlo = t->first_child[lo], nhi = t->first_child[hi - 1] + t->n_children[hi - 1];

		lo = nlo;
		hi = nhi;
	}
	return n;
}

/* receivers() against the rule asked of every unit, for a sample of
 * authors at every level: false if they differ. */
bool scale_rule_check(const struct scale_tree *t)
{
	for (int s = 0; s < RULE_SAMPLES; s++) {
		int l = s % SL_COUNT;
		uint32_t span = t->level_start[l + 1] - t->level_start[l];
		uint32_t a = t->level_start[l] + (uint32_t)((s * 2654435761u) % span);

		for (int f = 0; f < SF_COUNT; f++) {
			uint64_t all = 0;

			for (uint32_t x = 0; x < t->n_units; x++)
				all += x != a && scale_route_holds(t, x, a, f);
			if (all != scale_receivers(t, a, f)) {
				fprintf(stderr, "strata-bench-scale: rule check: unit %u feed %s: %llu vs %llu\n", a,
					scale_feed_name[f], (unsigned long long)all, (unsigned long long)scale_receivers(t, a, f));
				return false;
			}
		}
	}
	return true;
}

void scale_traffic(const struct scale_tree *t, struct scale_traffic *tr)
{
	memset(tr, 0, sizeof *tr);
	for (uint32_t a = 0; a < t->n_units; a++)
		for (int f = 0; f < SF_COUNT; f++) {
			uint64_t r;

			if (!t->count[f][a])
				continue;
			r = scale_receivers(t, a, f);
			tr->entries[f] += t->count[f][a];
			tr->delivered[f] += t->count[f][a] * r;
			if (f == SF_TRUST) { /* enrollment: the certificates of a's children */
				tr->certs += t->n_children[a];
				tr->enroll += t->n_children[a] * r;
				tr->enroll_legacy += (uint64_t)t->n_children[a] * (t->n_units - 1);
			}
		}
}

void scale_print_traffic(const struct scale_tree *t, const struct scale_traffic *tr, bool rule_ok)
{
	double n = t->n_units;

	printf("\ntraffic: entries delivered over the year, summed over the %u nodes (the rule%s)\n", t->n_units,
	       rule_ok ? " checked against every unit for a sample of authors" : ": CHECK FAILED");
	printf("%-8s %12s %16s %14s\n", "feed", "entries", "delivered", "delivered/N");
	for (int f = 0; f < SF_COUNT; f++)
		printf("%-8s %12llu %16llu %14.1f\n", scale_feed_name[f], (unsigned long long)tr->entries[f],
		       (unsigned long long)tr->delivered[f], (double)tr->delivered[f] / n);
	printf("enrollment: %llu certificates delivered %llu times: %.2f per unit   target: flat in N (N x depth)\n",
	       (unsigned long long)tr->certs, (unsigned long long)tr->enroll, (double)tr->enroll / n);
	printf("  (every trust feed everywhere, before issue 16: %llu, %.0f per unit, N^2)\n",
	       (unsigned long long)tr->enroll_legacy, (double)tr->enroll_legacy / n);
}
