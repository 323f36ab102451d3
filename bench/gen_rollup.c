/* SPDX-License-Identifier: MIT */
/*
 * strata-gen-rollup: the network of the report roll-up scale curve (issue 6),
 * built in one process with the node library's own functions instead of
 * thousands of `strata` processes. A city (root), D districts, B branches
 * per district, each a real node directory with its own key (node_create);
 * every certificate a signed entry of its issuer's trust feed, one change set
 * per join as the daemon writes it; per branch M members and K months of
 * dues written through node_writer like `strata member import` and `strata
 * dues import`, and its report by report_submit; every entry moved up by
 * node_ingest (the one door of a link and of `strata import`), so that each
 * district's report_submit rolls up what a district would hold.
 *
 * It leaves OUT/city (the city node, holding only its own trust feed: its
 * certificate and those of its districts, as after the districts joined) and
 * OUT/rollup.bundle: what the districts would send the city, every
 * district's trust and report feeds and every branch's up and report feeds,
 * in frames of up to 512 envelopes (docs/PROTOCOL.md "Bundles"). The bundle
 * header names the city as its node: it holds the feeds of many exporters.
 * Branch and district directories are removed once their feeds moved up.
 * Setup only: run it under bench/nosync.c; nothing it does is timed.
 *   strata-gen-rollup --out DIR --districts D --branches B [--members M]
 *                     [--months K] [--period YYYY-MM]
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_bundle.h"
#include "node/bundle/bundle.h"
#include "node/core/node.h"
#include "node/records/records.h"
#include "node/report/report.h"

#define PER_FRAME 512          /* as bundle_export */
#define FRAME_BYTES (1u << 20) /* as bundle_export */
#define PARENT_ENDPOINT "tcp://127.0.0.1:9" /* recorded in strata.conf as join does; never dialled */

/* --- the bundle being written --- */

struct out {
	FILE *f;
	const char *path;
	ProtobufCBinaryData *v; /* point into a district's map until out_flush */
	size_t n, cap, bytes;
	uint64_t total;
};

static int out_flush(struct out *o)
{
	size_t n = o->n;

	o->n = o->bytes = 0;
	return bench_put_entries(o->f, o->v, n, &o->total);
}

static int out_add(uint64_t seq, const uint8_t hash[32], const uint8_t *env, size_t len, void *arg)
{
	struct out *o = arg;
	int ret;

	(void)seq;
	(void)hash;
	if ((o->n >= PER_FRAME || (o->n && o->bytes + len > FRAME_BYTES)) && (ret = out_flush(o)) < 0)
		return ret;
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		ProtobufCBinaryData *v = realloc(o->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n].data = (uint8_t *)env;
	o->v[o->n++].len = len;
	o->bytes += len;
	return 0;
}

/* --- nodes --- */

static void path_of(char *out, size_t cap, const char *dir, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

/* Removes a node directory node_create made (its key, config and store). */
static int node_dir_remove(const char *dir, struct err *e)
{
	static const char *const files[] = {NODE_KEY_FILE, NODE_CONF_FILE, NODE_STORE_DIR "/data.mdb",
					    NODE_STORE_DIR "/lock.mdb"};
	char p[NODE_PATH_MAX];

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		path_of(p, sizeof p, dir, files[i]);
		unlink(p);
	}
	path_of(p, sizeof p, dir, NODE_STORE_DIR);
	if (rmdir(p) < 0 || rmdir(dir) < 0) {
		err_set(e, "cannot remove %s: %s", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/* `strata init` of DIR, then the node opened with its key into *out. */
static int node_new(const char *dir, const char *name, bool root, struct node **out, struct err *e)
{
	struct node_init_opts o = {.name = name, .root = root};
	int ret;

	if ((ret = node_create(dir, &o, e)) < 0)
		return ret;
	return node_open(out, dir, NODE_NOSYNC, e);
}

/* The parent's side of a join (sync/join.c): the child's certificate, a
 * put in the parent's trust feed, one change set. */
static int certify(struct node *parent, const uint8_t subject[KEY_BYTES], const char *name, struct err *e)
{
	static char *feeds[] = {FEED_UP, FEED_REPORT, FEED_DOWN, FEED_TRUST}; /* an invitation's default */
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	struct node_writer *w = NULL;
	uint8_t buf[512];
	size_t len;
	int ret;

	c.subject.data = (uint8_t *)subject;
	c.subject.len = KEY_BYTES;
	c.name = (char *)name;
	c.role = STRATA__ROLE__ROLE_CHILD;
	c.n_feeds = 4;
	c.feeds = feeds;
	c.issued_ms = node_now_ms();
	if ((len = strata__certificate__get_packed_size(&c)) > sizeof buf) {
		err_set(e, "certificate of %s too large", name);
		return -EINVAL;
	}
	strata__certificate__pack(&c, buf);
	if ((ret = node_writer_begin(parent, FEED_TRUST, &w, e)) == 0 &&
	    (ret = node_writer_put(w, "cert", subject, KEY_BYTES, buf, len, e)) == 0)
		ret = node_writer_commit(&w, NULL, NULL, e);
	node_writer_abort(&w);
	return ret;
}

/* The child's side of a join (sync_join): pins the root, records the parent
 * in the store and in strata.conf. The open node n reads the root pin only
 * when opened again (a branch needs no reopening: it only writes its own
 * feeds). */
static int join_local(struct node *n, const uint8_t root[KEY_BYTES], const uint8_t parent[KEY_BYTES], struct err *e)
{
	struct store_txn *t = NULL;
	int ret;

	if ((ret = store_txn_begin(node_store(n), true, &t, e)) == 0 &&
	    (ret = store_meta_put(t, "root", root, KEY_BYTES, e)) == 0 &&
	    (ret = store_meta_put(t, "parent", parent, KEY_BYTES, e)) == 0)
		ret = store_txn_commit(&t, e);
	store_txn_abort(&t);
	return ret < 0 ? ret : node_config_set_parent(node_dir(n), PARENT_ENDPOINT, parent, false, e);
}

struct copy {
	struct node *dst;
	struct store_txn *t;
	size_t stored;
	struct err *e;
};

static int copy_entry(uint64_t seq, const uint8_t hash[32], const uint8_t *env, size_t len, void *arg)
{
	struct copy *c = arg;
	struct err why = {0};
	int ret = node_ingest(c->dst, c->t, env, len, &why);

	(void)seq;
	(void)hash;
	if (ret == -EALREADY)
		return 0;
	if (ret < 0) {
		err_set(c->e, "%s", why.msg);
		return ret;
	}
	c->stored++;
	return 0;
}

/* AUTHOR's FEED as SRC holds it, into DST through node_ingest (what a link
 * or a bundle does), in one transaction. */
static int copy_feed(struct node *src, struct node *dst, const uint8_t author[KEY_BYTES], const char *feed,
		     struct err *e)
{
	struct copy c = {.dst = dst, .e = e};
	struct store_txn *rt = NULL;
	struct store_head h;
	struct err ignore = {0};
	int ret;

	if ((ret = store_txn_begin(node_store(src), false, &rt, e)) < 0)
		return ret;
	ret = store_head_get(rt, author, feed, &h, &ignore);
	if (ret == -ENOENT || (ret == 0 && h.seq == 0)) {
		ret = 0;
		goto out;
	}
	if (ret < 0 || (ret = store_txn_begin(node_store(dst), true, &c.t, e)) < 0)
		goto out;
	if ((ret = store_log_each(rt, author, feed, 1, h.seq, copy_entry, &c, e)) < 0)
		goto out;
	ret = store_txn_commit(&c.t, e);
out:
	store_txn_abort(&c.t);
	store_txn_abort(&rt);
	return ret;
}

/* --- a branch's records --- */

static const char *const names[] = {"陈志强", "林秀英", "黄建国", "王丽华", "张伟", "李娜", "吴晓明"};

/* Month k months before PERIOD as YYYY-MM. */
static void month_before(char out[16], const char *period, unsigned k)
{
	int y = atoi(period), m = atoi(period + 5) - 1 - (int)k;

	while (m < 0) {
		m += 12;
		y--;
	}
	snprintf(out, 16, "%04u-%02u", (unsigned)y % 10000, (unsigned)m % 12 + 1);
}

/* What `strata member import` and `strata dues import` of a branch write:
 * MEMBERS members, then K months of dues for each (about 1 in 20 unpaid),
 * each import one writer (change sets of up to ops_per_changeset ops). */
static int branch_records(struct node *b, unsigned g, unsigned members, unsigned months, const char *period,
			  struct err *e)
{
	struct node_writer *w = NULL;
	uint8_t buf[512];
	char id[24], joined[24], key[64], per[16], paid[24];
	int ret;

	if ((ret = node_writer_begin(b, FEED_UP, &w, e)) < 0)
		return ret;
	for (unsigned i = 0; i < members; i++) {
		Strata__Member m = STRATA__MEMBER__INIT;
		unsigned r = g * 131 + i;

		snprintf(id, sizeof id, "M%06u", i + 1);
		if (i % 10 == 9) /* a tenth joined in the period */
			snprintf(joined, sizeof joined, "%s-%02u", period, 1 + r % 20);
		else
			snprintf(joined, sizeof joined, "%04u-%02u-%02u", 1985u + r % 40, 1 + r % 12, 1 + r % 28);
		m.id = id;
		m.name = (char *)names[r % 7];
		m.category = r % 9 ? STRATA__MEMBER_CATEGORY__CATEGORY_FULL : STRATA__MEMBER_CATEGORY__CATEGORY_PROBATIONARY;
		m.status = r % 25 == 7 ? STRATA__MEMBER_STATUS__STATUS_LAPSED : STRATA__MEMBER_STATUS__STATUS_ACTIVE;
		m.joined = joined;
		if ((ret = node_writer_put(w, "member", (const uint8_t *)id, strlen(id), buf,
					   strata__member__pack(&m, buf), e)) < 0)
			goto out;
	}
	if ((ret = node_writer_commit(&w, NULL, NULL, e)) < 0 || (ret = node_writer_begin(b, FEED_UP, &w, e)) < 0)
		goto out;
	for (unsigned i = 0; i < members; i++) {
		unsigned r = g * 131 + i;

		snprintf(id, sizeof id, "M%06u", i + 1);
		for (unsigned k = months; k-- > 0;) {
			Strata__Dues d = STRATA__DUES__INIT;

			month_before(per, period, k);
			d.member = id;
			d.period = per;
			d.amount = 1000 + (r % 50) * 10;
			if ((r * 7 + k) % 20 != 0) {
				snprintf(paid, sizeof paid, "%s-%02u", per, 1 + (r + k) % 20);
				d.paid = paid;
				d.method = r % 3 ? "wechat" : "cash";
			}
			if ((ret = record_key(&record_dues, &d.base, key, sizeof key, e)) < 0 ||
			    (ret = node_writer_put(w, "dues", (const uint8_t *)key, strlen(key), buf,
						   strata__dues__pack(&d, buf), e)) < 0)
				goto out;
		}
	}
	ret = node_writer_commit(&w, NULL, NULL, e);
out:
	node_writer_abort(&w);
	return ret;
}

/* --- a district's feeds into the bundle --- */

/* Everything district D holds that the city does not: its trust feed first
 * (the branches' certificates, before the entries they vouch for), then
 * its own report feed, then its branches' feeds. */
static int emit_district(struct node *d, const uint8_t city[KEY_BYTES], struct out *o, struct err *e)
{
	struct store_txn *t = NULL;
	struct {
		struct store_head *v;
		size_t n;
	} hs = {0};
	int ret;

	if ((ret = store_txn_begin(node_store(d), false, &t, e)) < 0 || (ret = store_heads_list(t, &hs.v, &hs.n, e)) < 0)
		goto out;
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < hs.n; i++) {
			const struct store_head *h = &hs.v[i];
			bool mine = memcmp(h->author, node_id(d), KEY_BYTES) == 0;
			int rank = mine ? (strcmp(h->feed, FEED_TRUST) == 0 ? 0 : 1) : 2;

			if (rank != pass || memcmp(h->author, city, KEY_BYTES) == 0 || h->seq == 0)
				continue;
			if ((ret = store_log_each(t, h->author, h->feed, 1, h->seq, out_add, o, e)) < 0) {
				if (!e->msg[0])
					err_set(e, "cannot write %s", o->path);
				goto out;
			}
		}
	if ((ret = out_flush(o)) < 0) /* the envelopes point into t's map */
		err_set(e, "cannot write %s", o->path);
out:
	store_txn_abort(&t);
	free(hs.v);
	return ret;
}

/* --- the tree --- */

struct opts {
	const char *out, *period;
	unsigned districts, branches, members, months;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int district_build(const struct opts *op, struct node *city, unsigned di, struct out *o, struct err *e)
{
	char dir[NODE_PATH_MAX], bdir[NODE_PATH_MAX], name[64], bname[80];
	struct node *d = NULL, *b = NULL;
	struct report_result rr;
	int ret;

	snprintf(dir, sizeof dir, "%s/scratch/d%03u", op->out, di);
	snprintf(name, sizeof name, "%s/d%03u", node_name(city), di);
	/* the district reopens after its join: it needs its root pin to take in
	 * its branches' entries */
	if ((ret = node_new(dir, name, false, &d, e)) < 0 || (ret = certify(city, node_id(d), name, e)) < 0 ||
	    (ret = join_local(d, node_id(city), node_id(city), e)) < 0)
		goto out;
	node_close(&d);
	if ((ret = node_open(&d, dir, NODE_NOSYNC, e)) < 0)
		goto out;
	/* the city's trust feed reaches the district, as its link would carry it */
	if ((ret = copy_feed(city, d, node_id(city), FEED_TRUST, e)) < 0)
		goto out;
	for (unsigned bi = 1; bi <= op->branches; bi++) {
		unsigned g = (di - 1) * op->branches + bi;

		snprintf(bdir, sizeof bdir, "%s/scratch/d%03u-b%05u", op->out, di, bi);
		snprintf(bname, sizeof bname, "%s/b%05u", name, bi);
		if ((ret = node_new(bdir, bname, false, &b, e)) < 0 || (ret = certify(d, node_id(b), bname, e)) < 0 ||
		    (ret = join_local(b, node_id(city), node_id(d), e)) < 0 ||
		    (ret = branch_records(b, g, op->members, op->months, op->period, e)) < 0 ||
		    (ret = report_submit(b, op->period, &rr, e)) < 0)
			goto out;
		figures_clear(&rr.own);
		figures_clear(&rr.total);
		if ((ret = copy_feed(b, d, node_id(b), FEED_UP, e)) < 0 || (ret = copy_feed(b, d, node_id(b), FEED_REPORT, e)) < 0)
			goto out;
		node_close(&b);
		if ((ret = node_dir_remove(bdir, e)) < 0)
			goto out;
	}
	if ((ret = report_submit(d, op->period, &rr, e)) < 0)
		goto out;
	if (rr.children != op->branches) {
		err_set(e, "%s rolled up %zu branch reports, not %u", name, rr.children, op->branches);
		ret = -EPROTO;
	}
	figures_clear(&rr.own);
	figures_clear(&rr.total);
	if (ret < 0 || (ret = emit_district(d, node_id(city), o, e)) < 0)
		goto out;
	node_close(&d);
	ret = node_dir_remove(dir, e);
out:
	if (ret < 0)
		err_prefix(e, "%s", b ? bname : name);
	node_close(&b);
	node_close(&d);
	return ret;
}

static int parse_count(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v < 1 || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: strata-gen-rollup --out DIR --districts D --branches B [--members M] [--months K]\n"
		   "                         [--period YYYY-MM]\n\n"
		   "Builds a city (DIR/city), D districts (1..999) of B branches (1..99999) each, with\n"
		   "M members (default 20) and K months of dues (default 12, up to the period) per\n"
		   "branch and every report for the period (default 2026-11) submitted bottom-up,\n"
		   "and writes DIR/rollup.bundle: what the districts would send the city. Setup for\n"
		   "bench/rollup.sh; run it under bench/nosync.c.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"out", required_argument, NULL, 'o'},      {"districts", required_argument, NULL, 'D'},
		{"branches", required_argument, NULL, 'B'}, {"members", required_argument, NULL, 'M'},
		{"months", required_argument, NULL, 'K'},   {"period", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
	};
	struct opts op = {.period = "2026-11", .members = 20, .months = 12};
	Strata__BundleHeader h = STRATA__BUNDLE_HEADER__INIT;
	Strata__BundleEnd end = STRATA__BUNDLE_END__INIT;
	Strata__Frame m = STRATA__FRAME__INIT;
	struct out o = {0};
	struct node *city = NULL;
	struct err e = {0};
	char dir[NODE_PATH_MAX], path[NODE_PATH_MAX], tmp[NODE_PATH_MAX + 100]; /* path and a suffix */
	uint8_t cid[KEY_BYTES], hdr[512];
	double t0 = now_s();
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': op.out = optarg; break;
		case 'D':
			if (parse_count(optarg, 999, &op.districts) < 0)
				goto bad;
			break;
		case 'B':
			if (parse_count(optarg, 99999, &op.branches) < 0)
				goto bad;
			break;
		case 'M':
			if (parse_count(optarg, 100000, &op.members) < 0)
				goto bad;
			break;
		case 'K':
			if (parse_count(optarg, 120, &op.months) < 0)
				goto bad;
			break;
		case 'p': op.period = optarg; break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (!op.out || !op.districts || !op.branches || optind != argc || !report_period_valid(op.period)) {
bad:
		usage(stderr);
		return 1;
	}
	/* LMDB callocs 2 MiB per writable environment it opens: from fresh
	 * mappings (no memset) rather than from a heap that grew to hold them,
	 * for a tree of thousands of nodes */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	if (keys_init() < 0) {
		err_set(&e, "libsodium does not initialize");
		goto fail;
	}
	if (mkdir(op.out, 0700) < 0 && errno != EEXIST) {
		err_set(&e, "cannot create %s: %s", op.out, strerror(errno));
		goto fail;
	}
	path_of(dir, sizeof dir, op.out, "scratch");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err_set(&e, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	path_of(dir, sizeof dir, op.out, "city");
	if (node_new(dir, "xiamen", true, &city, &e) < 0)
		goto fail;
	memcpy(cid, node_id(city), KEY_BYTES);
	path_of(path, sizeof path, op.out, "rollup.bundle");
	snprintf(tmp, sizeof tmp, "%s.partial", path);
	o.path = tmp;
	if (!(o.f = fopen(tmp, "wb"))) {
		err_set(&e, "cannot create %s: %s", tmp, strerror(errno));
		goto fail;
	}
	h.version = 1;
	h.node.data = cid;
	h.node.len = KEY_BYTES;
	h.name = (char *)node_name(city);
	h.root.data = cid;
	h.root.len = KEY_BYTES;
	h.has_root = 1;
	h.created_ms = node_now_ms();
	if (fwrite(BUNDLE_MAGIC, 1, BUNDLE_MAGIC_LEN, o.f) != BUNDLE_MAGIC_LEN ||
	    bench_put_record(o.f, hdr, strata__bundle_header__pack(&h, hdr)) < 0) {
		err_set(&e, "cannot write %s", tmp);
		goto fail;
	}
	for (unsigned di = 1; di <= op.districts; di++) {
		if (district_build(&op, city, di, &o, &e) < 0)
			goto fail;
		if (di == op.districts || di % 10 == 0)
			fprintf(stderr, "strata-gen-rollup: %u/%u districts (%u branches each), %llu entries, %.1f s\n", di,
				op.districts, op.branches, (unsigned long long)o.total, now_s() - t0);
	}
	end.entries = o.total;
	m.msg_case = STRATA__FRAME__MSG_END;
	m.end = &end;
	if (bench_put_frame(o.f, &m) < 0 || fclose(o.f) != 0) {
		o.f = NULL;
		err_set(&e, "cannot write %s", tmp);
		goto fail;
	}
	o.f = NULL;
	if (rename(tmp, path) < 0) {
		err_set(&e, "cannot rename %s: %s", tmp, strerror(errno));
		goto fail;
	}
	path_of(dir, sizeof dir, op.out, "scratch");
	rmdir(dir);
	printf("districts %u branches %u members %llu entries %llu seconds %.1f\n", op.districts,
	       op.districts * op.branches, (unsigned long long)op.districts * op.branches * op.members,
	       (unsigned long long)o.total, now_s() - t0);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "strata-gen-rollup: %s\n", e.msg);
out:
	if (o.f)
		fclose(o.f);
	free(o.v);
	node_close(&city);
	return ret;
}
