/* SPDX-License-Identifier: MIT */
/*
 * strata-latency: propagation latency of single writes through a running
 * network. Opens the street node (its key; its daemon keeps running) and the
 * receiving node's store read-only, once each. Then, --count times (after
 * --warmup writes that are not counted): writes one member as one change
 * set of the street's `up` feed the way `strata member add` does
 * (node_writer_begin, put, commit), takes the time just before the commit,
 * tells the street's daemon (sync_notify, as the CLI does), and polls the
 * receiver's head of the street's `up` feed in a fresh read transaction every
 * --poll-us until it reaches the new seq. The latency is that moment minus
 * the time before the commit: signing, the local durable commit, the
 * notification, every hop's verify and durable commit, and the transport.
 * Between writes it waits --gap-ms, so each write travels alone.
 *   strata-latency --street DIR --to DIR [--count N] [--warmup N] [--poll-us U]
 *                  [--gap-ms G] [--timeout-ms T] [--prefix P] [--all]
 * Prints "count N median_ms M p90_ms X p99_ms Y max_ms Z mean_ms W
 * commit_median_ms C" (commit: the street's own commit alone) and, with --all,
 * every latency in ms on a second line "all ...".
 * Exit: 0, 1 usage, 2 a write did not arrive in time, 4 node or store error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/core/node.h"
#include "node/records/records.h"
#include "node/sync/sync.h"
#include "storage/store.h"

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank percentile of sorted v[0..n). */
static double pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static int head_of(struct store *s, const uint8_t *author, uint64_t *seq, struct err *e)
{
	struct store_txn *t = NULL;
	struct store_head h;
	int ret;

	if ((ret = store_txn_begin(s, false, &t, e)) < 0)
		return ret;
	ret = store_head_get(t, author, FEED_UP, &h, e);
	store_txn_abort(&t);
	if (ret == -ENOENT) {
		*seq = 0;
		return 0;
	}
	if (ret == 0)
		*seq = h.seq;
	return ret;
}

/* Writes member ID as one change set; *t_before: just before the commit;
 * *t_after: right after it; *head: the new seq. */
static int write_one(struct node *n, const char *id, double *t_before, double *t_after, uint64_t *head,
		     struct err *e)
{
	Strata__Member m;
	struct node_writer *w = NULL;
	uint8_t buf[512];
	const struct member_text t = {.id = id, .name = "Latency Probe", .category = "full", .joined = "2020-01-01"};
	int ret;

	if ((ret = member_from_text(&m, &t, e)) < 0)
		return ret;
	size_t len = strata__member__get_packed_size(&m);
	if (len > sizeof buf) {
		err_set(e, "member too large");
		return -EINVAL;
	}
	strata__member__pack(&m, buf);
	if ((ret = node_writer_begin(n, FEED_UP, &w, e)) < 0)
		return ret;
	if ((ret = node_writer_put(w, "member", (const uint8_t *)id, strlen(id), buf, len, e)) < 0) {
		node_writer_abort(&w);
		return ret;
	}
	*t_before = now_mono();
	if ((ret = node_writer_commit(&w, NULL, head, e)) < 0)
		return ret;
	*t_after = now_mono();
	sync_notify(node_dir(n));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"street", required_argument, NULL, 's'},     {"to", required_argument, NULL, 't'},
		{"count", required_argument, NULL, 'n'},      {"warmup", required_argument, NULL, 'w'},
		{"poll-us", required_argument, NULL, 'p'},    {"gap-ms", required_argument, NULL, 'g'},
		{"timeout-ms", required_argument, NULL, 'T'}, {"prefix", required_argument, NULL, 'x'},
		{"all", no_argument, NULL, 'a'},              {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *street_dir = NULL, *to_dir = NULL, *prefix = "LAT";
	long count = 200, warmup = 5;
	double poll_us = 200, gap_ms = 20, timeout_ms = 10000;
	int opt, all = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': street_dir = optarg; break;
		case 't': to_dir = optarg; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'w': warmup = strtol(optarg, NULL, 10); break;
		case 'p': poll_us = strtod(optarg, NULL); break;
		case 'g': gap_ms = strtod(optarg, NULL); break;
		case 'T': timeout_ms = strtod(optarg, NULL); break;
		case 'x': prefix = optarg; break;
		case 'a': all = 1; break;
		case 'h':
			printf("usage: strata-latency --street DIR --to DIR [--count N] [--warmup N] [--poll-us U]\n"
			       "                      [--gap-ms G] [--timeout-ms T] [--prefix P] [--all]\n");
			return 0;
		default: return 1;
		}
	}
	if (!street_dir || !to_dir || count < 1 || warmup < 0 || poll_us <= 0 || gap_ms < 0 || timeout_ms <= 0) {
		fprintf(stderr, "strata-latency: needs --street DIR and --to DIR (see --help)\n");
		return 1;
	}
	if (keys_init() < 0) {
		fprintf(stderr, "strata-latency: libsodium does not start\n");
		return 4;
	}

	struct node *n = NULL;
	struct store *to = NULL;
	struct err e = {0};
	char to_store[4096];
	double *lat = calloc((size_t)count, sizeof *lat), *commit = calloc((size_t)count, sizeof *commit);
	int rc = 0;

	snprintf(to_store, sizeof to_store, "%s/store", to_dir);
	if (!lat || !commit) {
		fprintf(stderr, "strata-latency: out of memory\n");
		rc = 4;
		goto out;
	}
	if (node_open(&n, street_dir, 0, &e) < 0 || store_open(&to, to_store, STORE_RDONLY, &e) < 0) {
		fprintf(stderr, "strata-latency: %s\n", e.msg);
		rc = 4;
		goto out;
	}
	for (long i = 0; i < warmup + count; i++) {
		char id[64];
		double t_before, t_after, t;
		uint64_t seq, got = 0;

		snprintf(id, sizeof id, "%s%06ld", prefix, i);
		if (write_one(n, id, &t_before, &t_after, &seq, &e) < 0) {
			fprintf(stderr, "strata-latency: writing %s: %s\n", id, e.msg);
			rc = 4;
			goto out;
		}
		for (;;) {
			if (head_of(to, node_id(n), &got, &e) < 0) {
				fprintf(stderr, "strata-latency: %s\n", e.msg);
				rc = 4;
				goto out;
			}
			t = now_mono();
			if (got >= seq)
				break;
			if ((t - t_before) * 1000 > timeout_ms) {
				fprintf(stderr, "strata-latency: write %ld (seq %" PRIu64 ") did not arrive in %.0f ms (head %" PRIu64 ")\n",
					i, seq, timeout_ms, got);
				rc = 2;
				goto out;
			}
			sleep_s(poll_us / 1e6);
		}
		if (i >= warmup) {
			lat[i - warmup] = (t - t_before) * 1000;
			commit[i - warmup] = (t_after - t_before) * 1000;
		}
		sleep_s(gap_ms / 1000);
	}

	double *sorted = malloc((size_t)count * sizeof *sorted), sum = 0;
	if (!sorted) {
		rc = 4;
		goto out;
	}
	memcpy(sorted, lat, (size_t)count * sizeof *sorted);
	qsort(sorted, (size_t)count, sizeof *sorted, cmp_double);
	qsort(commit, (size_t)count, sizeof *commit, cmp_double);
	for (long i = 0; i < count; i++)
		sum += sorted[i];
	printf("count %ld median_ms %.3f p90_ms %.3f p99_ms %.3f max_ms %.3f min_ms %.3f mean_ms %.3f commit_median_ms %.3f\n",
	       count, pct(sorted, (size_t)count, 50), pct(sorted, (size_t)count, 90), pct(sorted, (size_t)count, 99),
	       sorted[count - 1], sorted[0], sum / (double)count, pct(commit, (size_t)count, 50));
	if (all) {
		printf("all");
		for (long i = 0; i < count; i++)
			printf(" %.3f", lat[i]);
		printf("\n");
	}
	free(sorted);
out:
	store_close(&to);
	node_close(&n);
	free(lat);
	free(commit);
	return rc;
}
