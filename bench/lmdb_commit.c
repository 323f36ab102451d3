/* SPDX-License-Identifier: MIT */
/*
 * strata-lmdb-commit: the ceiling of storing change sets. Opens a fresh LMDB
 * environment in --dir the way storage/store.c does (64 GiB map, maxdbs 16,
 * MDB_NOTLS, durable commits: no MDB_NOSYNC) and, on one thread for about
 * --seconds, commits write transactions of --per-txn records of --bytes
 * each, under keys that grow (8-byte big-endian counter behind a 40-byte
 * prefix, as the log's author | feed | seq keys do). Prints commits/s,
 * records/s and MB/s. No Strata code is involved: LMDB and the disk alone.
 *   strata-lmdb-commit --dir DIR [--per-txn K] [--bytes N] [--seconds S] [--json]
 * DIR must not exist or be empty; it is left behind (the caller removes it).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

#define KEY_PREFIX 40 /* author (32) | feed name length and a short name */

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},     {"per-txn", required_argument, NULL, 'k'},
		{"bytes", required_argument, NULL, 'b'},   {"seconds", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL;
	unsigned long per_txn = 1, bytes = 250, commits = 0;
	uint64_t seq = 0;
	double seconds = 2.0, t0, t1 = 0, c0, cpu;
	int json = 0, opt, rc, ret = 1;
	MDB_env *env = NULL;
	MDB_dbi dbi;
	MDB_txn *txn = NULL;
	unsigned char key[KEY_PREFIX + 8];

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 'k': per_txn = strtoul(optarg, NULL, 10); break;
		case 'b': bytes = strtoul(optarg, NULL, 10); break;
		case 's': seconds = strtod(optarg, NULL); break;
		case 'j': json = 1; break;
		case 'h':
			printf("usage: strata-lmdb-commit --dir DIR [--per-txn K] [--bytes N] [--seconds S] [--json]\n"
			       "Durable LMDB commits of K records (default 1) of N bytes (default 250) under\n"
			       "growing keys, one thread, for about S seconds (default 2), in a fresh DIR.\n");
			return 0;
		default: return 1;
		}
	}
	if (!dir || per_txn == 0 || per_txn > 1000000 || bytes == 0 || bytes > (1ul << 24) || seconds <= 0) {
		fprintf(stderr, "strata-lmdb-commit: --dir is required; bad --per-txn, --bytes or --seconds\n");
		return 1;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "strata-lmdb-commit: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	memset(key, 0xa5, KEY_PREFIX);
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 16)) ||
	    (rc = mdb_env_set_mapsize(env, (size_t)64 << 30)) || (rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)) ||
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) || (rc = mdb_dbi_open(txn, "log", MDB_CREATE, &dbi)) ||
	    (rc = mdb_txn_commit(txn))) {
		txn = NULL;
		goto lmdb_fail;
	}
	txn = NULL;

	t0 = clock_s(CLOCK_MONOTONIC);
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	do {
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)))
			goto lmdb_fail;
		for (unsigned long i = 0; i < per_txn; i++) {
			seq++;
			for (int b = 0; b < 8; b++)
				key[KEY_PREFIX + b] = (unsigned char)(seq >> (56 - 8 * b));
			MDB_val k = {.mv_size = sizeof key, .mv_data = key}, v = {.mv_size = bytes, .mv_data = NULL};
			if ((rc = mdb_put(txn, dbi, &k, &v, MDB_RESERVE)))
				goto lmdb_fail;
			memset(v.mv_data, (int)(seq & 0xff), bytes);
		}
		rc = mdb_txn_commit(txn);
		txn = NULL;
		if (rc)
			goto lmdb_fail;
		commits++;
		t1 = clock_s(CLOCK_MONOTONIC);
	} while (t1 - t0 < seconds);
	cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	double el = t1 - t0, recs = (double)commits * per_txn;
	if (json)
		printf("{\"commits_per_s\": %.0f, \"records_per_s\": %.0f, \"mb_per_s\": %.1f, \"records_per_txn\": %lu, "
		       "\"record_bytes\": %lu, \"commits\": %lu, \"seconds\": %.3f, \"cpu_seconds\": %.3f}\n",
		       commits / el, recs / el, recs * bytes / el / 1e6, per_txn, bytes, commits, el, cpu);
	else
		printf("%.0f commits/s, %.0f records/s, %.1f MB/s (%lu records of %lu bytes per durable commit; "
		       "%lu commits in %.2f s, %.2f s of CPU)\n",
		       commits / el, recs / el, recs * bytes / el / 1e6, per_txn, bytes, commits, el, cpu);
	ret = 0;
	goto out;
lmdb_fail:
	fprintf(stderr, "strata-lmdb-commit: %s: %s\n", dir, mdb_strerror(rc));
out:
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	return ret;
}
