/* SPDX-License-Identifier: MIT */
/*
 * strata-bench-scale (issue 16, "Measured, then extrapolated"): a
 * province-shaped tree of N units (a root, N/10,000 cities, N/1,000
 * counties, N/100 streets, the rest branches; at least one of each) with
 * real Ed25519 keys, a certificate per join in its issuer's trust feed, 19
 * members a branch on average, a report a month for a year from every
 * unit, a notice a month from every unit above the branches, N/400
 * transfers and N/500 revocations. It cannot run N daemons: it keeps one
 * real store (LMDB, node_ingest: every signature verified, every index
 * kept) for each level on one root-to-leaf path, plus a new leaf that joins
 * at the end, and gives each exactly what the routing rule
 * (scale_route_holds) gives it. The traffic figures (entries delivered,
 * summed over every node of the tree) come from the same rule. Prints what
 * each level stores, what a new leaf downloads, enrollment traffic per
 * unit, and the root's month roll-up (time, peak RSS) beside issue 16's
 * targets. docs/SCALE.md has the figures and their extrapolation.
 *   strata-bench-scale --units N [--out DIR] [--up-depth D] [--keep]
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench/scale.h"
#include "node/report/report.h"

#define TARGET_LEAF_CERT_BYTES (64 * 1024)
#define TARGET_ROLLUP_S 60.0
#define TARGET_ROLLUP_KIB (512 * 1024)

const char *const scale_feed_name[SF_COUNT] = {FEED_TRUST, FEED_UP, FEED_REPORT, FEED_DOWN, FEED_NOTICE};
static const char *const level_name[SCALE_MEASURED] = {"root", "city", "county", "street", "branch", "new leaf"};
static const char level_prefix[SL_COUNT] = {0, 'c', 'd', 's', 'b'};

/* --- the tree --- */

bool scale_is_ancestor(const struct scale_tree *t, uint32_t anc, uint32_t x)
{
	if (t->depth[x] <= t->depth[anc])
		return false;
	while (t->depth[x] > t->depth[anc])
		x = t->parent[x];
	return x == anc;
}

/*
 * THE routing rule of the bench: does unit X hold feed F of author A?
 * It is node/sync/route.c's (sync_route_send and sync_route_accept, which
 * decide link by link; this is their closure over the tree) with trust
 * scoped as ISSUE16.md section A and docs/PROTOCOL.md "Where trust flows"
 * decide: a trust feed goes up to every ancestor and down to every
 * descendant of its author; up goes at most up_depth levels above its
 * author; report to every ancestor; down and notice to every descendant.
 * Peers, auditors and private (contacts) are not modelled. Every store of
 * the bench and every traffic figure is computed from this one function.
 */
bool scale_route_holds(const struct scale_tree *t, uint32_t x, uint32_t a, enum scale_feed f)
{
	if (x == a)
		return true;
	switch (f) {
	case SF_TRUST: return scale_is_ancestor(t, a, x) || scale_is_ancestor(t, x, a);
	case SF_UP:
		if (!scale_is_ancestor(t, x, a))
			return false;
		/* each unit y on the way forwards to its parent, up_depth of y's level permitting */
		for (uint32_t y = a; t->depth[y] > t->depth[x]; y = t->parent[y]) {
			unsigned ud = t->up_depth[t->depth[y]], levels = (unsigned)(t->depth[a] - t->depth[y]) + 1;

			if (ud && levels > ud)
				return false;
		}
		return true;
	case SF_REPORT: return scale_is_ancestor(t, x, a);
	case SF_DOWN:
	case SF_NOTICE: return scale_is_ancestor(t, a, x);
	default: return false;
	}
}

unsigned scale_members(uint32_t u)
{
	return 15 + (u * 7) % 9; /* 15..23: 19 on average */
}

void scale_name(const struct scale_tree *t, uint32_t u, char *out)
{
	uint32_t chain[SL_COUNT];
	int n = 0;
	size_t len;

	for (uint32_t x = u; x != SCALE_NONE && n < SL_COUNT; x = t->parent[x])
		chain[n++] = x;
	len = (size_t)snprintf(out, NODE_NAME_SIZE, "prov");
	for (int i = n - 2; i >= 0; i--) {
		uint32_t x = chain[i], p = t->parent[x];
		uint32_t ord = x == t->n_units ? t->n_children[p] + 1 : x - t->first_child[p] + 1;

		len += (size_t)snprintf(out + len, NODE_NAME_SIZE - len, "/%c%u", level_prefix[t->depth[x]], ord);
	}
}

static int tree_build(struct scale_tree *t, uint32_t n, struct err *e)
{
	uint32_t c[SL_COUNT] = {1, n / 10000, n / 1000, n / 100, 0};
	uint32_t all = n + 1; /* and the new leaf */

	for (int l = 1; l < SL_BRANCH; l++)
		c[l] = c[l] ? c[l] : 1;
	c[SL_BRANCH] = n - c[0] - c[1] - c[2] - c[3];
	t->n_units = n;
	t->parent = calloc(all, sizeof *t->parent);
	t->first_child = calloc(all, sizeof *t->first_child);
	t->n_children = calloc(all, sizeof *t->n_children);
	t->depth = calloc(all, 1);
	t->seed = calloc(all, sizeof *t->seed);
	t->pub = calloc(all, sizeof *t->pub);
	for (int f = 0; f < SF_COUNT; f++) {
		t->pos[f] = calloc(all, sizeof *t->pos[f]);
		t->count[f] = calloc(all, sizeof *t->count[f]);
		if (!t->pos[f] || !t->count[f])
			goto nomem;
	}
	if (!t->parent || !t->first_child || !t->n_children || !t->depth || !t->seed || !t->pub)
		goto nomem;
	t->level_start[0] = 0;
	for (int l = 0; l < SL_COUNT; l++)
		t->level_start[l + 1] = t->level_start[l] + c[l];
	t->parent[0] = SCALE_NONE;
	for (int l = 1; l < SL_COUNT; l++)
		for (uint32_t q = 0; q < c[l]; q++) {
			uint32_t u = t->level_start[l] + q, p = t->level_start[l - 1] + (uint32_t)((uint64_t)q * c[l - 1] / c[l]);

			t->parent[u] = p;
			t->depth[u] = (uint8_t)l;
			if (!t->n_children[p]++)
				t->first_child[p] = u;
		}
	for (uint32_t u = 0; u < all; u++) {
		uint8_t in[8];
		uint8_t sk[crypto_sign_ed25519_SECRETKEYBYTES];

		be64_put(in, 0x5ca1e000000000ull + u);
		hash_blake2b(t->seed[u], in, sizeof in);
		crypto_sign_ed25519_seed_keypair(t->pub[u], sk, t->seed[u]);
		sodium_memzero(sk, sizeof sk);
	}
	/* the measured path: the first child at each level */
	for (int l = 1; l < SL_COUNT; l++)
		t->m_unit[l] = t->first_child[t->m_unit[l - 1]];
	t->m_unit[SL_COUNT] = n;
	t->parent[n] = t->m_unit[SL_STREET];
	t->depth[n] = SL_BRANCH;
	return 0;
nomem:
	err_set(e, "out of memory for a tree of %u units", n);
	return -ENOMEM;
}

static void tree_free(struct scale_tree *t)
{
	for (int f = 0; f < SF_COUNT; f++) {
		free(t->pos[f]);
		free(t->count[f]);
	}
	free(t->parent);
	free(t->first_child);
	free(t->n_children);
	free(t->depth);
	free(t->seed);
	free(t->pub);
}

/* The year measured: the 12 months before the current one (local time). */
static int periods_set(struct scale_tree *t, struct err *e)
{
	time_t now = time(NULL);
	struct tm tm;
	int y, m;

	localtime_r(&now, &tm);
	y = tm.tm_year + 1900;
	m = tm.tm_mon; /* 0-based: the current month; the last period is the one before */
	t->now_ms = (uint64_t)now * 1000;
	for (int k = SCALE_MONTHS - 1; k >= 0; k--) {
		uint64_t start;

		if (--m < 0) {
			m = 11;
			y--;
		}
		snprintf(t->period[k], sizeof t->period[k], "%04d-%02d", y % 10000, (m + 1) % 100);
		if (report_period_bounds(t->period[k], &start, &t->period_end_ms[k]) < 0) {
			err_set(e, "cannot compute the bounds of %s", t->period[k]);
			return -EINVAL;
		}
	}
	return 0;
}

struct first_entry {
	uint8_t *env;
	size_t len;
};

static int keep_entry(uint64_t seq, const uint8_t hash[32], const uint8_t *env, size_t len, void *arg)
{
	struct first_entry *f = arg;

	(void)seq;
	(void)hash;
	if ((f->env = malloc(len)))
		memcpy(f->env, env, len);
	f->len = len;
	return f->env ? 0 : -ENOMEM;
}

/* The root's own certificate (strata init --root wrote it at seq 1 of its
 * trust feed): its head becomes the root's position, the entry goes to the
 * other measured stores. */
static int root_cert(struct scale_tree *t, struct err *e)
{
	struct store_txn *rt = NULL;
	struct store_head h;
	struct first_entry f = {0};
	int ret;

	if ((ret = store_txn_begin(node_store(t->m[SL_ROOT].n), false, &rt, e)) < 0 ||
	    (ret = store_head_get(rt, t->pub[0], FEED_TRUST, &h, e)) < 0 ||
	    (ret = store_log_each(rt, t->pub[0], FEED_TRUST, 1, h.seq, keep_entry, &f, e)) < 0)
		goto out;
	t->pos[SF_TRUST][0].seq = h.seq;
	memcpy(t->pos[SF_TRUST][0].prev, h.hash, HASH_BYTES);
	t->count[SF_TRUST][0] = (uint32_t)h.seq;
	store_txn_abort(&rt);
	ret = scale_deliver(t, 0, SF_TRUST, f.env, f.len, SL_ROOT, e);
out:
	store_txn_abort(&rt);
	free(f.env);
	return ret;
}

/* --- output --- */

static double kib(uint64_t b)
{
	return (double)b / 1024.0;
}

static void print_held(const struct scale_tree *t, int l, const struct scale_held *h)
{
	char name[NODE_NAME_SIZE];
	uint64_t tb = 0;

	scale_name(t, t->m_unit[l], name);
	for (int f = 0; f < SF_COUNT; f++)
		tb += h->bytes[f];
	printf("%-8s %-18s %8llu %9llu %10.1f", level_name[l], name, (unsigned long long)h->certs,
	       (unsigned long long)h->entries[SF_TRUST], kib(h->bytes[SF_TRUST]));
	for (int f = SF_UP; f < SF_COUNT; f++)
		printf(" %9llu %10.1f", (unsigned long long)h->entries[f], kib(h->bytes[f]));
	printf(" %10.1f %10.1f\n", kib(tb) / 1024.0, (double)h->mdb_bytes / 1048576.0);
}

static void print_header(const struct scale_tree *t, unsigned transfers, unsigned revocations)
{
	uint64_t members = 0;

	for (uint32_t b = t->level_start[SL_BRANCH]; b < t->n_units; b++)
		members += scale_members(b);
	printf("strata-bench-scale: %u units (root 1, cities %u, counties %u, streets %u, branches %u), %llu members,\n"
	       "  reports %s..%s (12 months) from every unit, %u transfers, %u revocations,\n"
	       "  up_depth %s: branch %u, street %u, county %u, city %u, root %u (0: no limit)\n\n",
	       t->n_units, t->level_start[2] - t->level_start[1], t->level_start[3] - t->level_start[2],
	       t->level_start[4] - t->level_start[3], t->level_start[5] - t->level_start[4],
	       (unsigned long long)members, t->period[0], t->period[SCALE_MONTHS - 1], transfers, revocations,
	       t->profiles ? "of the deployment profiles (strata init --level)" : "set by --up-depth",
	       t->up_depth[SL_BRANCH], t->up_depth[SL_STREET], t->up_depth[SL_COUNTY], t->up_depth[SL_CITY],
	       t->up_depth[SL_ROOT]);
	printf("what each level stores (one real store per level on one path; entries / KiB by feed)\n");
	printf("%-8s %-18s %8s %9s %10s", "level", "unit", "certs", "trust", "KiB");
	for (int f = SF_UP; f < SF_COUNT; f++)
		printf(" %9s %10s", scale_feed_name[f], "KiB");
	printf(" %10s %10s\n", "all MiB", "data.mdb");
}

/* --- main --- */

/* The 1, 5 and 15 minute load averages into out (other work on the
 * machine skews every time figure). */
static void load_avg(char out[64])
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a = 0, b = 0, c = 0;

	if (!f || fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3)
		a = b = c = -1;
	if (f)
		fclose(f);
	snprintf(out, 64, "%.2f %.2f %.2f", a, b, c);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: strata-bench-scale --units N [--out DIR] [--up-depth D] [--rollup-memory MIB] [--keep]\n\n"
		   "Builds a province-shaped tree of N units (200..1000000: a root, N/10000 cities,\n"
		   "N/1000 counties, N/100 streets, the rest branches) with a year of signed entries,\n"
		   "keeps one real store per level on one root-to-leaf path and a new leaf, and prints\n"
		   "what each stores, what the leaf downloads to join, the traffic per unit and the\n"
		   "root's month roll-up beside issue 16's targets. --up-depth D: every unit's\n"
		   "up_depth (0: no limit); default: the deployment profiles' (node/core/profile.c:\n"
		   "branch, street, district 3; city, province 1: a city keeps its members'\n"
		   "records). The roll-up runs in a memory cgroup of MIB MiB (default 512, the\n"
		   "target; 0: none; needs root). DIR (default ./scale-N) must not exist;\n"
		   "it is removed at the end unless --keep. docs/SCALE.md explains the figures.\n");
}

struct run {
	const char *self, *out;
	unsigned units, transfers, revocations;
	int up_depth; /* -1: the profiles' */
	unsigned rollup_mib; /* the roll-up's memory cgroup limit; 0: none */
	bool keep;
};

static int build(struct scale_tree *t, const struct run *r, struct err *e)
{
	char dir[2 * NODE_PATH_MAX], bundle[2 * NODE_PATH_MAX];
	double t0 = scale_now_s();

	for (int l = 0; l < SL_COUNT; l++) {
		snprintf(dir, sizeof dir, "%s/%s", r->out, level_name[l]);
		if (scale_store_create(t, l, t->m_unit[l], dir, e) < 0)
			return -1;
	}
	snprintf(bundle, sizeof bundle, "%s/rollup.bundle", r->out);
	if (root_cert(t, e) < 0 || scale_emit_trust(t, e) < 0 || scale_emit_members(t, e) < 0 ||
	    scale_emit_notices(t, e) < 0 || scale_emit_transfers(t, r->transfers, e) < 0)
		return -1;
	fprintf(stderr, "strata-bench-scale: members, notices, transfers, %.1f s\n", scale_now_s() - t0);
	if (scale_bundle_open(t, bundle, e) < 0 || scale_emit_reports(t, e) < 0 || scale_bundle_close(t, e) < 0 ||
	    scale_emit_revocations(t, r->revocations, e) < 0)
		return -1;
	fprintf(stderr, "strata-bench-scale: the year written, %llu entries signed, %.1f s\n",
		(unsigned long long)t->signed_entries, scale_now_s() - t0);
	return 0;
}

static int measure(struct scale_tree *t, const struct run *r, struct err *e)
{
	char bundle[2 * NODE_PATH_MAX];
	struct scale_join j;
	struct scale_rollup ru;
	struct scale_held h[SCALE_MEASURED];
	struct scale_traffic tr;
	bool rule_ok;

	if (scale_join_leaf(t, &j, e) < 0 || scale_flush(t, e) < 0)
		return -1;
	/* the roll-up runs in a fresh process on the root's store */
	node_close(&t->m[SL_ROOT].n);
	snprintf(bundle, sizeof bundle, "%s/rollup.bundle", r->out);
	fprintf(stderr, "strata-bench-scale: the root's roll-up of %s\n", t->period[SCALE_MONTHS - 1]);
	if (scale_rollup_run(r->self, t->m[SL_ROOT].dir, bundle, t->period[SCALE_MONTHS - 1], r->rollup_mib, &ru, e) < 0 ||
	    node_open(&t->m[SL_ROOT].n, t->m[SL_ROOT].dir, NODE_NOSYNC, e) < 0)
		return -1;
	for (int l = 0; l < SCALE_MEASURED; l++)
		if (scale_held(&t->m[l], &h[l], e) < 0)
			return -1;
	rule_ok = scale_rule_check(t);
	scale_traffic(t, &tr);
	print_header(t, r->transfers, r->revocations);
	for (int l = 0; l < SCALE_MEASURED; l++)
		print_held(t, l, &h[l]);
	printf("\nleaf certificates: the branch holds %.1f KiB of trust entries (%llu certificates)   target: < 64 KiB, "
	       "flat in N%s\n",
	       kib(h[SL_BRANCH].bytes[SF_TRUST]), (unsigned long long)h[SL_BRANCH].certs,
	       h[SL_BRANCH].bytes[SF_TRUST] < TARGET_LEAF_CERT_BYTES ? "" : "  MISSED");
	printf("new leaf join: downloads %llu entries, %.1f KiB (trust %llu entries, %.1f KiB; the rest its "
	       "ancestors' down and notice feeds), stored in %.3f s\n",
	       (unsigned long long)j.entries, kib(j.bytes), (unsigned long long)j.trust_entries, kib(j.trust_bytes),
	       j.seconds);
	printf("  its certificate reached %llu nodes (its ancestors and its street's branches)\n",
	       (unsigned long long)scale_receivers(t, t->parent[t->n_units], SF_TRUST) + 1);
	scale_print_traffic(t, &tr, rule_ok);
	printf("\nroot month roll-up (%s, a fresh process: strata import of the month's %llu reports, report checks, "
	       "report walk at one level, %llu units shown)\n",
	       t->period[SCALE_MONTHS - 1], (unsigned long long)ru.entries, (unsigned long long)ru.rows);
	printf("  import %.2f s, checks %.2f s, view %.2f s: %.2f s   target: < %.0f s%s\n", ru.import_s, ru.checks_s,
	       ru.view_s, ru.total_s, TARGET_ROLLUP_S, ru.total_s < TARGET_ROLLUP_S ? "" : "  MISSED");
	printf("  peak RSS %.1f MiB (%.1f after the import; wait4's ru_maxrss %.1f also counts what fork copied)"
	       "   target: < 512 MiB%s\n",
	       ru.maxrss_kib / 1024.0, ru.hwm_import_kib / 1024.0, ru.fork_maxrss_kib / 1024.0,
	       ru.maxrss_kib < TARGET_ROLLUP_KIB ? "" : "  MISSED");
	printf("  of which the process's own memory (RssAnon, sampled peak) %.1f MiB%s; the store's mapped pages\n"
	       "  (RssFile, sampled peak) %.1f MiB: page cache the kernel may drop, data.mdb is %.1f MiB\n",
	       ru.anon_peak_kib / 1024.0, ru.anon_peak_kib < TARGET_ROLLUP_KIB ? "" : "  MISSED",
	       ru.file_peak_kib / 1024.0, (double)h[SL_ROOT].mdb_bytes / 1048576.0);
	if (ru.cg.mib)
		printf("  run within a %u MiB memory cgroup (%s): completed, at most %.1f MiB charged to it (page cache "
		       "included)%s   target: < 512 MiB%s\n",
		       ru.cg.mib, ru.cg.v2 ? "v2" : "v1", ru.cg.peak_bytes / 1048576.0,
		       ru.cg.failcnt > 0 ? ", the kernel reclaimed at the limit" : "",
		       ru.cg.mib <= TARGET_ROLLUP_KIB / 1024 && ru.total_s < TARGET_ROLLUP_S ? "" : "  MISSED");
	else
		printf("  not run within a memory cgroup (--rollup-memory 0, or no writable cgroup hierarchy)\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"units", required_argument, NULL, 'n'}, {"out", required_argument, NULL, 'o'},
		{"up-depth", required_argument, NULL, 'u'}, {"keep", no_argument, NULL, 'k'},
		{"rollup-memory", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	struct run r = {.self = "/proc/self/exe", .up_depth = -1, .rollup_mib = TARGET_ROLLUP_KIB / 1024};
	struct scale_tree t = {0};
	struct err e = {0};
	char out[NODE_PATH_MAX], self[NODE_PATH_MAX], load0[64], load1[64];
	double t0 = scale_now_s();
	ssize_t sl;
	int opt, ret = 1;

	if (argc == 5 && strcmp(argv[1], "--rollup") == 0)
		return scale_rollup_child(argv[2], argv[3], argv[4]);
	load_avg(load0);
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n': r.units = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'o': r.out = optarg; break;
		case 'u': r.up_depth = (int)strtoul(optarg, NULL, 10); break;
		case 'k': r.keep = true; break;
		case 'm': r.rollup_mib = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (r.units < 200 || r.units > 1000000 || optind != argc) {
		usage(stderr);
		return 1;
	}
	if ((sl = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[sl] = 0;
		r.self = self;
	}
	if (!r.out) {
		snprintf(out, sizeof out, "scale-%u", r.units);
		r.out = out;
	}
	r.transfers = r.units / 400 > 4 ? r.units / 400 : 4;
	r.revocations = r.units / 500 > 2 ? r.units / 500 : 2;
	/* the profiles (node/core/profile.c, docs/OPERATIONS.md "Deployment
	 * profiles"): the bench's root is a province, its counties districts */
	{
		static const char *const level_word[SL_COUNT] = {[SL_ROOT] = "province", [SL_CITY] = "city",
								 [SL_COUNTY] = "district", [SL_STREET] = "street",
								 [SL_BRANCH] = "branch"};

		t.profiles = r.up_depth < 0;
		for (int l = 0; l < SL_COUNT; l++)
			t.up_depth[l] = t.profiles ? node_profile_find(level_word[l])->up_depth : (unsigned)r.up_depth;
	}
	if (keys_init() < 0) {
		err_set(&e, "libsodium does not initialize");
		goto fail;
	}
	if (mkdir(r.out, 0700) < 0) {
		err_set(&e, "cannot create %s: %s (it must not exist)", r.out, strerror(errno));
		goto fail;
	}
	if (tree_build(&t, r.units, &e) < 0 || periods_set(&t, &e) < 0 || build(&t, &r, &e) < 0 ||
	    measure(&t, &r, &e) < 0)
		goto fail;
	load_avg(load1);
	printf("\nrun time %.1f s (generation and measurement); load %s at the start, %s at the end\n",
	       scale_now_s() - t0, load0, load1);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "strata-bench-scale: %s\n", e.msg);
out:
	for (int l = 0; l < SCALE_MEASURED; l++) {
		store_txn_abort(&t.m[l].t);
		node_close(&t.m[l].n);
		keypair_destroy(&t.m[l].kp);
	}
	if (!r.keep && r.out && t.parent)
		nftw(r.out, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tree_free(&t);
	return ret;
}
