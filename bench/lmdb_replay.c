/* SPDX-License-Identifier: MIT */
/*
 * strata-lmdb-replay: what LMDB alone needs to store exactly what a store
 * holds. It reads every record of every named database of the store in
 * --from into memory (not timed), then writes them all into a fresh
 * environment in --dir, opened as storage/store.c opens one (64 GiB map,
 * maxdbs 16, MDB_NOTLS, durable commits: no MDB_NOSYNC), with the same
 * database names and flags, in durable commits of about --txn-bytes of keys
 * and values each (default 1 MiB, a batch of node/sync). Each commit takes
 * the next equal slice of every database, so the databases grow together as
 * they do when change sets are appended; within a database records go in key
 * order, LMDB's cheapest order. No Strata code is involved: this is the
 * ceiling of storing a catch-up's entries and state on this disk, the limit
 * a receiver's store rate is a fraction of.
 *   strata-lmdb-replay --from STORE --dir DIR [--txn-bytes B] [--json]
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

#define MAX_DBS 16

struct rec {
	size_t klen, vlen;
	unsigned char *k, *v; /* into the arena */
};

struct db {
	char name[128];
	unsigned flags;
	MDB_dbi dst;
	size_t n, cap;
	struct rec *recs;
};

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The bytes of every record, one allocation per database record: simple, and
 * the read side is not timed. */
static int db_add(struct db *d, const MDB_val *k, const MDB_val *v)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 1024;
		struct rec *r = realloc(d->recs, cap * sizeof *r);
		if (!r)
			return -1;
		d->recs = r;
		d->cap = cap;
	}
	unsigned char *p = malloc(k->mv_size + v->mv_size + 1);
	if (!p)
		return -1;
	memcpy(p, k->mv_data, k->mv_size);
	if (v->mv_size)
		memcpy(p + k->mv_size, v->mv_data, v->mv_size);
	d->recs[d->n++] = (struct rec){k->mv_size, v->mv_size, p, p + k->mv_size};
	return 0;
}

static MDB_env *env_open(const char *dir, unsigned flags, int *rc)
{
	MDB_env *env = NULL;

	if ((*rc = mdb_env_create(&env)) || (*rc = mdb_env_set_maxdbs(env, MAX_DBS)) ||
	    (*rc = mdb_env_set_mapsize(env, (size_t)64 << 30)) || (*rc = mdb_env_open(env, dir, MDB_NOTLS | flags, 0600))) {
		if (env)
			mdb_env_close(env);
		return NULL;
	}
	return env;
}

/* Every named database of the store in from, read whole into dbs. */
static int load(const char *from, struct db *dbs, int *ndbs, size_t *bytes, size_t *records)
{
	int rc;
	MDB_env *env = env_open(from, MDB_RDONLY, &rc);
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL, *c2 = NULL;
	MDB_dbi main_dbi;
	MDB_val k, v;

	if (!env)
		goto fail;
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) || (rc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) ||
	    (rc = mdb_cursor_open(txn, main_dbi, &cur)))
		goto fail;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct db *d = &dbs[*ndbs];
		MDB_dbi dbi;
		if (*ndbs == MAX_DBS || k.mv_size >= sizeof d->name) {
			fprintf(stderr, "strata-lmdb-replay: %s: more than %d databases, or a long name\n", from, MAX_DBS);
			goto out;
		}
		memcpy(d->name, k.mv_data, k.mv_size);
		d->name[k.mv_size] = '\0';
		if (mdb_dbi_open(txn, d->name, 0, &dbi) || mdb_dbi_flags(txn, dbi, &d->flags))
			continue; /* a plain key of the main database, not a named one */
		(*ndbs)++;
		if ((rc = mdb_cursor_open(txn, dbi, &c2)))
			goto fail;
		for (rc = mdb_cursor_get(c2, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c2, &k, &v, MDB_NEXT)) {
			if (db_add(d, &k, &v) < 0) {
				fprintf(stderr, "strata-lmdb-replay: out of memory\n");
				goto out;
			}
			*bytes += k.mv_size + v.mv_size;
			(*records)++;
		}
		mdb_cursor_close(c2);
		c2 = NULL;
		if (rc != MDB_NOTFOUND)
			goto fail;
	}
	if (rc != MDB_NOTFOUND)
		goto fail;
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 0;
fail:
	fprintf(stderr, "strata-lmdb-replay: %s: %s\n", from, mdb_strerror(rc));
out:
	if (c2)
		mdb_cursor_close(c2);
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'}, {"dir", required_argument, NULL, 'd'},
		{"txn-bytes", required_argument, NULL, 'b'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
	};
	const char *from = NULL, *dir = NULL;
	unsigned long txn_bytes = 1ul << 20;
	size_t bytes = 0, records = 0, commits;
	struct db dbs[MAX_DBS];
	int ndbs = 0, json = 0, opt, rc, ret = 1;
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	double t0, c0, el, cpu;

	memset(dbs, 0, sizeof dbs);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f': from = optarg; break;
		case 'd': dir = optarg; break;
		case 'b': txn_bytes = strtoul(optarg, NULL, 10); break;
		case 'j': json = 1; break;
		case 'h':
			printf("usage: strata-lmdb-replay --from STORE --dir DIR [--txn-bytes B] [--json]\n"
			       "Writes every record of the LMDB store in STORE into a fresh DIR with durable\n"
			       "commits of about B bytes (default 1048576), and prints how fast LMDB alone did it.\n");
			return 0;
		default: return 1;
		}
	}
	if (!from || !dir || txn_bytes == 0) {
		fprintf(stderr, "strata-lmdb-replay: --from and --dir are required; --txn-bytes must be > 0\n");
		return 1;
	}
	if (load(from, dbs, &ndbs, &bytes, &records) < 0)
		goto out;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "strata-lmdb-replay: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	if (!(env = env_open(dir, 0, &rc)) || (rc = mdb_txn_begin(env, NULL, 0, &txn)))
		goto lmdb_fail;
	for (int i = 0; i < ndbs; i++)
		if ((rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags | MDB_CREATE, &dbs[i].dst)))
			goto lmdb_fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc)
		goto lmdb_fail;

	commits = (bytes + txn_bytes - 1) / txn_bytes;
	if (commits == 0)
		commits = 1;
	t0 = clock_s(CLOCK_MONOTONIC);
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (size_t c = 0; c < commits; c++) {
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)))
			goto lmdb_fail;
		for (int i = 0; i < ndbs; i++) {
			struct db *d = &dbs[i];
			for (size_t r = d->n * c / commits; r < d->n * (c + 1) / commits; r++) {
				MDB_val k = {d->recs[r].klen, d->recs[r].k}, v = {d->recs[r].vlen, d->recs[r].v};
				if ((rc = mdb_put(txn, d->dst, &k, &v, 0)))
					goto lmdb_fail;
			}
		}
		rc = mdb_txn_commit(txn);
		txn = NULL;
		if (rc)
			goto lmdb_fail;
	}
	el = clock_s(CLOCK_MONOTONIC) - t0;
	cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (json)
		printf("{\"seconds\": %.4f, \"cpu_seconds\": %.4f, \"records\": %zu, \"bytes\": %zu, \"commits\": %zu, "
		       "\"databases\": %d, \"records_per_s\": %.0f, \"mb_per_s\": %.1f}\n",
		       el, cpu, records, bytes, commits, ndbs, records / el, bytes / el / 1e6);
	else
		printf("%.3f s (%.3f s of CPU) for %zu records, %zu bytes of keys and values in %d databases, "
		       "%zu durable commits: %.0f records/s, %.1f MB/s\n",
		       el, cpu, records, bytes, ndbs, commits, records / el, bytes / el / 1e6);
	ret = 0;
	goto out;
lmdb_fail:
	fprintf(stderr, "strata-lmdb-replay: %s: %s\n", dir, mdb_strerror(rc));
out:
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	for (int i = 0; i < MAX_DBS; i++) {
		for (size_t r = 0; r < dbs[i].n; r++)
			free(dbs[i].recs[r].k);
		free(dbs[i].recs);
	}
	return ret;
}
