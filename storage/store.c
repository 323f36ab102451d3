/* SPDX-License-Identifier: MIT */
/*
 * Opening and closing a store: the LMDB environment in one directory, its
 * named databases and the schema version in meta. Opening refuses a
 * missing, corrupt, truncated or too new store with a reason a user can act
 * on, and clears reader slots left behind by processes that died. LMDB
 * allows one open environment per directory per process: closing a second
 * handle would drop the first one's file locks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/store_internal.h"

/* Sparse: LMDB only reserves address space; the file grows as data does. */
#define STORE_MAP_SIZE_DEFAULT ((size_t)64 << 30)

#define STORE_HEADROOM_DEFAULT ((uint64_t)512 << 20) /* grow.c: least free room before a write */

/* The initial map size: STRATA_MAP_SIZE, else conf's, else the default;
 * rounded up to the OS page size, as LMDB wants. */
static int map_size(size_t *out, uint64_t conf, bool use_env, struct err *e)
{
	const char *v = use_env ? getenv("STRATA_MAP_SIZE") : NULL;
	unsigned long long n = conf ? conf : STORE_MAP_SIZE_DEFAULT;

	if (v && *v) {
		char *end = NULL;
		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno || *end || n == 0 || v[0] == '-' || n > SIZE_MAX / 2) {
			err_set(e, "STRATA_MAP_SIZE=%s is not a size in bytes", v);
			return -EINVAL;
		}
	} else if (n > SIZE_MAX / 2) {
		err_set(e, "[store] map_size = %llu is too large", n);
		return -EINVAL;
	}
	long page = sysconf(_SC_PAGESIZE);
	size_t p = page > 0 ? (size_t)page : 4096;
	*out = ((size_t)n + p - 1) / p * p;
	return 0;
}

/* Refuses a data.mdb shorter than the pages its meta page claims: LMDB maps
 * the file and would die of SIGBUS reading past its end. The meta is read
 * before the file size, and writers write pages before the meta that points
 * at them, so a concurrent writer cannot cause a false alarm. */
static int check_size(struct store *s, const char *path, struct err *e)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat sb;
	int ret;

	if ((ret = lmdb_err(mdb_env_info(s->env, &info), e, "store %s", s->dir)) < 0)
		return ret;
	if ((ret = lmdb_err(mdb_env_stat(s->env, &st), e, "store %s", s->dir)) < 0)
		return ret;
	if (stat(path, &sb) < 0) {
		ret = -errno;
		err_set(e, "store %s: %s: %s", s->dir, path, strerror(errno));
		return ret;
	}
	uint64_t need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	if ((uint64_t)sb.st_size < need) {
		err_set(e, "store %s: data.mdb is truncated: %" PRIu64 " bytes, its pages need %" PRIu64,
			s->dir, (uint64_t)sb.st_size, need);
		return -EIO;
	}
	return 0;
}

static int schema_check(struct store *s, const MDB_val *v, struct err *e)
{
	if (v->mv_size != 4) {
		err_set(e, "store %s: meta schema is %zu bytes, not 4: data.mdb is corrupt", s->dir,
			v->mv_size);
		return -EIO;
	}
	uint32_t schema = be32_get(v->mv_data);
	if (schema > STORE_SCHEMA) {
		err_set(e, "store %s has schema %" PRIu32 ", this build reads up to %d; upgrade Strata",
			s->dir, schema, STORE_SCHEMA);
		return -EPROTONOSUPPORT;
	}
	if (schema == 0) {
		err_set(e, "store %s: meta schema is 0: data.mdb is corrupt", s->dir);
		return -EIO;
	}
	return 0;
}

/* Opens the named databases and checks the schema. In a read transaction
 * nothing can be created: if something is missing, *missing names it and
 * 0 is returned without opening the rest, so the caller may retry writing. */
static int open_dbs(struct store *s, bool write, bool create, const char **missing, struct err *e)
{
	static const char *const names[] = {"feeds", "log", "state", "index"};
	MDB_dbi *const dbis[] = {&s->feeds, &s->log, &s->state, &s->index};
	unsigned dbflags = write ? MDB_CREATE : 0;
	MDB_txn *txn = NULL;
	int rc;
	int ret;

	*missing = NULL;
	rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &txn);
	if ((ret = lmdb_err(rc, e, "store %s: opening", s->dir)) < 0)
		goto out;

	rc = mdb_dbi_open(txn, "meta", dbflags, &s->meta);
	if (rc == MDB_NOTFOUND) {
		*missing = "meta";
		ret = 0;
		goto out;
	}
	if ((ret = lmdb_err(rc, e, "store %s: opening database meta", s->dir)) < 0)
		goto out;

	MDB_val k = {.mv_size = 6, .mv_data = "schema"};
	MDB_val v;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		if (!write) {
			*missing = "schema";
			ret = 0;
			goto out;
		}
		if (!create) {
			err_set(e, "no Strata store in %s (data.mdb holds no schema)", s->dir);
			ret = -ENOENT;
			goto out;
		}
		uint8_t buf[4];
		be32_put(buf, STORE_SCHEMA);
		v.mv_size = sizeof buf;
		v.mv_data = buf;
		rc = mdb_put(txn, s->meta, &k, &v, 0);
		if ((ret = lmdb_err(rc, e, "store %s: writing schema", s->dir)) < 0)
			goto out;
	} else if ((ret = lmdb_err(rc, e, "store %s: reading schema", s->dir)) < 0) {
		goto out;
	} else if ((ret = schema_check(s, &v, e)) < 0) {
		goto out;
	}

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		rc = mdb_dbi_open(txn, names[i], dbflags, dbis[i]);
		if (rc == MDB_NOTFOUND) {
			*missing = names[i];
			ret = 0;
			goto out;
		}
		if ((ret = lmdb_err(rc, e, "store %s: opening database %s", s->dir, names[i])) < 0)
			goto out;
	}

	rc = mdb_txn_commit(txn);
	txn = NULL;
	ret = lmdb_err(rc, e, "store %s: opening", s->dir);
out:
	if (txn)
		mdb_txn_abort(txn);
	return ret;
}

/* Before LMDB opens DIR: creates it (create), or makes sure it holds a
 * data.mdb that is not empty (path: DIR/data.mdb). */
static int store_dir_ready(const char *dir, const char *path, bool create, struct err *e)
{
	struct stat sb;
	int ret, src;

	if (create) {
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			ret = -errno;
			err_set(e, "store %s: cannot create the directory: %s", dir, strerror(errno));
			return ret;
		}
		return 0;
	}
	/* an empty data.mdb is what a crash during creation leaves */
	src = stat(path, &sb);
	if (src < 0 && errno != ENOENT && errno != ENOTDIR) {
		ret = -errno;
		err_set(e, "store %s: %s: %s", dir, path, strerror(errno));
		return ret;
	} else if (src < 0 || sb.st_size == 0) {
		err_set(e, "no Strata store in %s", dir);
		return -ENOENT;
	}
	return 0;
}

/* Opens s->env on s->dir with the store's flags and map size, checks the
 * file's size and clears the reader slots of dead processes. */
static int env_open(struct store *s, const char *path, size_t mapsize, struct err *e)
{
	const char *dir = s->dir;
	bool rdonly = s->flags & STORE_RDONLY;
	unsigned envflags;
	int dead = 0, ret;

	if ((ret = lmdb_err(mdb_env_create(&s->env), e, "store %s", dir)) < 0)
		return ret;
	if ((ret = lmdb_err(mdb_env_set_maxdbs(s->env, 16), e, "store %s", dir)) < 0)
		return ret;
	if ((ret = lmdb_err(mdb_env_set_mapsize(s->env, mapsize), e, "store %s", dir)) < 0)
		return ret;
	/* MDB_NOTLS: reader slots belong to transactions, not threads, so a
	 * thread may hold several read transactions, and a write beside them.
	 * A transaction still ends in the thread that began it: grow.c counts
	 * each thread's transactions to know when it may grow the map.
	 * MDB_NORDAHEAD: keys are ordered by author, so a batch of entries from
	 * many units (a month's reports at a root) touches pages all over the
	 * map; the kernel's read-around of each fault then fills memory with
	 * neighbours nobody reads. Measured (docs/SCALE.md): the root's month
	 * roll-up of 100,000 reports into a 1.7 GiB store within a 512 MiB
	 * memory cgroup did not end in 4 minutes with read-ahead, and took
	 * 53 s without it. */
	envflags = MDB_NOTLS | MDB_NORDAHEAD | (rdonly ? MDB_RDONLY : 0) | (s->flags & STORE_NOSYNC ? MDB_NOSYNC : 0);
	if ((ret = lmdb_err(mdb_env_open(s->env, dir, envflags, 0600), e, "store %s", dir)) < 0)
		return ret;
	if ((ret = check_size(s, path, e)) < 0)
		return ret;
	return lmdb_err(mdb_reader_check(s->env, &dead), e, "store %s: clearing stale readers", dir);
}

/* Opens the named databases. A read transaction first, so opening does not
 * wait for a writer; write only when something has to be created. */
static int dbs_ready(struct store *s, struct err *e)
{
	bool rdonly = s->flags & STORE_RDONLY, create = s->flags & STORE_CREATE;
	const char *missing = NULL;
	int ret;

	if ((ret = open_dbs(s, false, create, &missing, e)) < 0)
		return ret;
	if (missing && !rdonly)
		return open_dbs(s, true, create, &missing, e);
	if (missing) {
		if (!strcmp(missing, "meta") || !strcmp(missing, "schema")) {
			err_set(e, "no Strata store in %s (data.mdb holds no schema)", s->dir);
			return -ENOENT;
		}
		err_set(e, "store %s is incomplete: database %s is missing", s->dir, missing);
		return -EIO;
	}
	return 0;
}

/* Sets up s (dir, flags, conf, lock) before LMDB opens it. */
static int store_init(struct store *s, const char *dir, size_t dlen, int flags, const struct store_map_conf *conf,
		      struct err *e)
{
	memcpy(s->dir, dir, dlen + 1);
	s->flags = flags;
	if (conf)
		s->conf = *conf;
	if (!s->conf.headroom)
		s->conf.headroom = STORE_HEADROOM_DEFAULT;
	if (s->conf.max && s->conf.size > s->conf.max) {
		err_set(e, "store %s: [store] map_size (%llu bytes) is above map_max (%llu bytes)", dir,
			(unsigned long long)s->conf.size, (unsigned long long)s->conf.max);
		return -EINVAL;
	}
	/* the default initial size, within a ceiling below it */
	if (!s->conf.size)
		s->conf.size = s->conf.max && s->conf.max < STORE_MAP_SIZE_DEFAULT ? s->conf.max : STORE_MAP_SIZE_DEFAULT;
	if (store_grow_lock_init(s) < 0) {
		err_set(e, "store %s: out of memory", dir);
		return -ENOMEM;
	}
	s->lock_ready = true;
	return 0;
}

/* use_env: STRATA_MAP_SIZE overrides conf->size (not on a reopen). */
static int open_at(struct store **out, const char *dir, int flags, const struct store_map_conf *conf, bool use_env,
		   struct err *e)
{
	struct store *s = NULL;
	char *path = NULL;
	int ret = -EINVAL;
	bool rdonly = flags & STORE_RDONLY;
	bool create = flags & STORE_CREATE;
	size_t mapsize, dlen;

	if (!out || !dir || !*dir || (flags & ~(STORE_CREATE | STORE_RDONLY | STORE_NOSYNC)) || (rdonly && create)) {
		err_set(e, "store_open: bad arguments");
		goto out;
	}
	dlen = strlen(dir);
	ret = -ENOMEM;
	if (!(s = calloc(1, sizeof *s + dlen + 1)) || !(path = malloc(dlen + sizeof "/data.mdb"))) {
		err_set(e, "store %s: out of memory", dir);
		goto out;
	}
	memcpy(path, dir, dlen);
	memcpy(path + dlen, "/data.mdb", sizeof "/data.mdb");
	if ((ret = store_init(s, dir, dlen, flags, conf, e)) < 0 || (ret = map_size(&mapsize, s->conf.size, use_env, e)) < 0 ||
	    (ret = store_dir_ready(dir, path, create, e)) < 0 || (ret = env_open(s, path, mapsize, e)) < 0 ||
	    (ret = dbs_ready(s, e)) < 0)
		goto out;
	s->max_key = (size_t)mdb_env_get_maxkeysize(s->env);
	if (s->max_key > STORE_KEY_MAX)
		s->max_key = STORE_KEY_MAX;
	*out = s;
	s = NULL;
	ret = 0;
out:
	free(path);
	store_close(&s);
	return ret;
}

int store_open_map(struct store **out, const char *dir, int flags, const struct store_map_conf *conf,
		   struct err *e)
{
	return open_at(out, dir, flags, conf, true, e);
}

int store_open(struct store **out, const char *dir, int flags, struct err *e)
{
	return store_open_map(out, dir, flags, NULL, e);
}

int store_reopen(struct store *s, struct err *e)
{
	struct store *fresh = NULL;
	struct store_map_conf conf = s->conf;
	MDB_envinfo info;
	bool lock = !store_held_by_me(s);
	int ret;

	/* the map as it is now, not STRATA_MAP_SIZE's or the configured size */
	if (mdb_env_info(s->env, &info) == 0)
		conf.size = info.me_mapsize;
	conf.max = 0; /* checked at the first open; the map may have outgrown a lowered one */
	if (lock)
		pthread_rwlock_wrlock(&s->grow_lock);
	/* One environment per directory per process: close before opening. */
	mdb_env_close(s->env);
	s->env = NULL;
	s->map = NULL;
	s->map_len = 0;
	ret = open_at(&fresh, s->dir, s->flags & ~STORE_CREATE, &conf, false, e);
	if (ret == 0) {
		s->env = fresh->env;
		s->feeds = fresh->feeds;
		s->log = fresh->log;
		s->state = fresh->state;
		s->meta = fresh->meta;
		s->index = fresh->index;
		s->max_key = fresh->max_key;
		fresh->env = NULL;
		store_close(&fresh);
	}
	if (lock)
		pthread_rwlock_unlock(&s->grow_lock);
	return ret;
}

void store_close(struct store **s)
{
	if (!s || !*s)
		return;
	if ((*s)->env)
		mdb_env_close((*s)->env);
	if ((*s)->lock_ready)
		pthread_rwlock_destroy(&(*s)->grow_lock);
	free(*s);
	*s = NULL;
}

/* LMDB does not say where it mapped data.mdb (mdb_env_info gives an
 * address only with MDB_FIXEDMAP): the process's map list does. */
static void find_map(struct store *s)
{
	char line[STORE_PATH_MAX + 400], want[STORE_PATH_MAX]; /* a maps line: fields, then a path */
	FILE *f = fopen("/proc/self/maps", "r");

	snprintf(want, sizeof want, "%s/data.mdb", s->dir);
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		int path_at = 0;
		size_t l;

		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &path_at) < 2 || !path_at)
			continue;
		l = strlen(line + path_at);
		if (l && line[path_at + l - 1] == '\n')
			line[path_at + l - 1] = '\0';
		if (strcmp(line + path_at, want) == 0 && hi - lo > s->map_len) {
			s->map = (void *)lo;
			s->map_len = hi - lo;
		}
	}
	if (f)
		fclose(f);
}

void store_map_release(struct store *s)
{
	/* the map is a read-only shared file mapping (no MDB_WRITEMAP):
	 * dropping its pages loses nothing */
	store_lock_shared(s); /* no growth remaps it meanwhile (grow.c) */
	if (!s->map)
		find_map(s);
	if (s->map)
		madvise(s->map, s->map_len, MADV_DONTNEED);
	store_unlock_shared(s);
}
