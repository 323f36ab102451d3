/* SPDX-License-Identifier: MIT */
/*
 * strata-wait-head: waits until a node's store holds a feed up to a given
 * seq, and says when. bench/run times replication with it: it opens the
 * receiving node's store read-only once (the storage API, no process spawned
 * per poll), then reads the head of (author, feed) in a fresh read
 * transaction every --interval-ms until it reaches --seq. It prints, as
 * CLOCK_REALTIME seconds (comparable with bash's $EPOCHREALTIME):
 *   start T0  first T1  done T2  head H  polls P
 * where first is the first poll that saw the head move past its value at
 * start (the first batch stored), done the first poll that saw head >= seq.
 * With --samples FILE it also writes "realtime head" every --sample-ms.
 *   strata-wait-head --node DIR --author HEX --feed NAME --seq N
 *                    [--interval-ms F] [--timeout S] [--samples FILE] [--sample-ms M]
 * Exit: 0 reached, 1 usage, 2 timeout (prints the head reached), 4 store error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "protocol/protocol.h"
#include "storage/store.h"

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int head_of(struct store *s, const uint8_t author[KEY_BYTES], const char *feed, uint64_t *seq)
{
	struct store_txn *t = NULL;
	struct store_head h;
	struct err e = {0};
	int ret;

	if ((ret = store_txn_begin(s, false, &t, &e)) < 0) {
		fprintf(stderr, "strata-wait-head: %s\n", e.msg);
		return ret;
	}
	ret = store_head_get(t, author, feed, &h, &e);
	store_txn_abort(&t);
	if (ret == -ENOENT) {
		*seq = 0;
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "strata-wait-head: %s\n", e.msg);
		return ret;
	}
	*seq = h.seq;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"node", required_argument, NULL, 'd'},        {"author", required_argument, NULL, 'a'},
		{"feed", required_argument, NULL, 'f'},        {"seq", required_argument, NULL, 'n'},
		{"interval-ms", required_argument, NULL, 'i'}, {"timeout", required_argument, NULL, 't'},
		{"samples", required_argument, NULL, 's'},     {"sample-ms", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *author_hex = NULL, *feed = FEED_UP, *samples_path = NULL;
	double interval_ms = 1, timeout_s = 600, sample_ms = 250;
	uint64_t want = 0;
	uint8_t author[KEY_BYTES];
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 'a': author_hex = optarg; break;
		case 'f': feed = optarg; break;
		case 'n': want = strtoull(optarg, NULL, 10); break;
		case 'i': interval_ms = strtod(optarg, NULL); break;
		case 't': timeout_s = strtod(optarg, NULL); break;
		case 's': samples_path = optarg; break;
		case 'm': sample_ms = strtod(optarg, NULL); break;
		case 'h':
			printf("usage: strata-wait-head --node DIR --author HEX --feed NAME --seq N\n"
			       "                        [--interval-ms F] [--timeout S] [--samples FILE] [--sample-ms M]\n");
			return 0;
		default: return 1;
		}
	}
	if (!dir || !author_hex || want == 0 || interval_ms <= 0 || timeout_s <= 0 || sample_ms <= 0 ||
	    hex_decode(author, KEY_BYTES, author_hex) < 0) {
		fprintf(stderr, "strata-wait-head: needs --node DIR, --author (64 hex), --seq N > 0 (see --help)\n");
		return 1;
	}

	char store_dir[4096];
	snprintf(store_dir, sizeof store_dir, "%s/store", dir);
	struct store *s = NULL;
	struct err e = {0};
	if (store_open(&s, store_dir, STORE_RDONLY, &e) < 0) {
		fprintf(stderr, "strata-wait-head: %s\n", e.msg);
		return 4;
	}
	FILE *samples = NULL;
	if (samples_path && !(samples = fopen(samples_path, "w"))) {
		perror(samples_path);
		store_close(&s);
		return 4;
	}

	double t0 = now_real(), t_first = 0, next_sample = t0;
	uint64_t head = 0, head0 = 0, polls = 0;
	struct timespec pause = {.tv_sec = (time_t)(interval_ms / 1000),
				 .tv_nsec = (long)((interval_ms - 1000.0 * (time_t)(interval_ms / 1000)) * 1e6)};
	int rc = 0;

	if (head_of(s, author, feed, &head0) < 0) {
		rc = 4;
		goto out;
	}
	head = head0;
	for (;;) {
		double t = now_real();

		if (head_of(s, author, feed, &head) < 0) {
			rc = 4;
			goto out;
		}
		polls++;
		if (!t_first && head > head0)
			t_first = t;
		if (samples && t >= next_sample) {
			fprintf(samples, "%.6f %" PRIu64 "\n", t, head);
			next_sample += sample_ms / 1000;
		}
		if (head >= want) {
			printf("start %.6f first %.6f done %.6f head %" PRIu64 " polls %" PRIu64 "\n", t0, t_first, t,
			       head, polls);
			break;
		}
		if (t - t0 > timeout_s) {
			fprintf(stderr, "strata-wait-head: timeout after %.0f s: head %" PRIu64 " of %" PRIu64 "\n",
				timeout_s, head, want);
			printf("timeout head %" PRIu64 "\n", head);
			rc = 2;
			break;
		}
		nanosleep(&pause, NULL);
	}
out:
	if (samples)
		fclose(samples);
	store_close(&s);
	return rc;
}
