/* SPDX-License-Identifier: MIT */
/*
 * strata-bench-scale: the measurements. What a measured store holds (per
 * feed, from its heads and log; its certificates from state; data.mdb's
 * size), a new leaf's join (its certificate by the measured street, then
 * everything the rule gives it copied from the street's store through
 * node_ingest, timed), and the root's month roll-up in a fresh process
 * (`strata import` of the month's reports: bundle_import and
 * report_checks_fill, then report_walk at one level), whose peak RSS
 * (VmHWM) and RssAnon and RssFile, sampled as it runs.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "bench/scale.h"
#include "node/bundle/bundle.h"
#include "node/report/report.h"

#define SAMPLE_MS 20

double scale_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int feed_index(const char *feed)
{
	for (int f = 0; f < SF_COUNT; f++)
		if (strcmp(feed, scale_feed_name[f]) == 0)
			return f;
	return -1;
}

static int add_len(uint64_t seq, const uint8_t hash[32], const uint8_t *env, size_t len, void *arg)
{
	(void)seq;
	(void)hash;
	(void)env;
	*(uint64_t *)arg += len;
	return 0;
}

int scale_held(struct scale_store *s, struct scale_held *h, struct err *e)
{
	struct store_txn *t = NULL;
	struct store_head *hs = NULL;
	size_t n = 0, certs = 0;
	char path[NODE_PATH_MAX + 32];
	struct stat st;
	int ret;

	memset(h, 0, sizeof *h);
	if ((ret = store_txn_begin(node_store(s->n), false, &t, e)) < 0 || (ret = store_heads_list(t, &hs, &n, e)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int f = feed_index(hs[i].feed);

		if (f < 0 || !hs[i].seq)
			continue;
		h->entries[f] += hs[i].seq;
		if ((ret = store_log_each(t, hs[i].author, hs[i].feed, 1, hs[i].seq, add_len, &h->bytes[f], e)) < 0)
			goto out;
	}
	if ((ret = store_state_count(t, "cert", NULL, &certs, e)) < 0)
		goto out;
	h->certs = certs;
	snprintf(path, sizeof path, "%s/%s/data.mdb", s->dir, NODE_STORE_DIR);
	h->mdb_bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
out:
	free(hs);
	store_txn_abort(&t);
	return ret;
}

/* --- the new leaf --- */

/* The child's side of a join (sync_join), as bench/gen_rollup.c: the root
 * pin and the parent in the store and strata.conf; then reopened. */
static int join_local(struct scale_store *s, const uint8_t root[KEY_BYTES], const uint8_t parent[KEY_BYTES],
		      struct err *e)
{
	struct store_txn *t = NULL;
	int ret;

	if ((ret = store_txn_begin(node_store(s->n), true, &t, e)) == 0 &&
	    (ret = store_meta_put(t, "root", root, KEY_BYTES, e)) == 0 &&
	    (ret = store_meta_put(t, "parent", parent, KEY_BYTES, e)) == 0)
		ret = store_txn_commit(&t, e);
	store_txn_abort(&t);
	if (ret < 0 || (ret = node_config_set_parent(s->dir, "tcp://127.0.0.1:9", parent, false, e)) < 0)
		return ret;
	node_close(&s->n);
	return node_open(&s->n, s->dir, NODE_NOSYNC, e);
}

int scale_store_create(struct scale_tree *t, int level, uint32_t u, const char *dir, struct err *e)
{
	struct scale_store *s = &t->m[level];
	struct node_init_opts o = {.root = u == 0};
	char name[NODE_NAME_SIZE], key[NODE_PATH_MAX + 32];
	int ret;

	scale_name(t, u, name);
	o.name = name;
	s->unit = u;
	t->m_unit[level] = u;
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	snprintf(key, sizeof key, "%s/%s", dir, NODE_KEY_FILE);
	if ((ret = node_create(dir, &o, e)) < 0 || (ret = keypair_load(&s->kp, key, e)) < 0 ||
	    (ret = node_open(&s->n, dir, NODE_NOSYNC, e)) < 0)
		return ret;
	memcpy(t->pub[u], keypair_public(s->kp), KEY_BYTES);
	return u == 0 ? 0 : join_local(s, t->pub[0], t->pub[t->parent[u]], e);
}

struct copy {
	struct scale_store *dst;
	struct store_txn *t;
	struct scale_join *j;
	bool trust;
	struct err *e;
};

static int copy_one(uint64_t seq, const uint8_t hash[32], const uint8_t *env, size_t len, void *arg)
{
	struct copy *c = arg;
	struct err why = {0};
	int ret = node_ingest(c->dst->n, c->t, env, len, &why);

	(void)seq;
	(void)hash;
	if (ret < 0 && ret != -EALREADY) {
		err_set(c->e, "the new leaf refused an entry: %s", why.msg);
		return ret;
	}
	c->j->entries++;
	c->j->bytes += len;
	if (c->trust) {
		c->j->trust_entries++;
		c->j->trust_bytes += len;
	}
	return 0;
}

/* Unit of key k among the chain of u (its ancestors and itself), or SCALE_NONE. */
static uint32_t chain_unit(const struct scale_tree *t, uint32_t u, const uint8_t k[KEY_BYTES])
{
	for (; u != SCALE_NONE; u = t->parent[u])
		if (memcmp(t->pub[u], k, KEY_BYTES) == 0)
			return u;
	return SCALE_NONE;
}

/* What the leaf downloads: every feed of its parent's store the rule gives
 * it, the trust feeds first from the root down (a certificate before what
 * it vouches for). An author outside its chain is never given to it by the
 * rule (scale.c checks the rule against every unit), so the store's heads
 * are looked up in the chain only. */
static int download(struct scale_tree *t, struct scale_join *j, struct err *e)
{
	struct scale_store *street = &t->m[SL_STREET], *leaf = &t->m[SL_COUNT];
	struct copy c = {.dst = leaf, .j = j, .e = e};
	struct store_txn *rt = NULL;
	struct store_head *hs = NULL;
	size_t n = 0;
	int ret;

	if ((ret = store_txn_begin(node_store(street->n), false, &rt, e)) < 0 ||
	    (ret = store_heads_list(rt, &hs, &n, e)) < 0 ||
	    (ret = store_txn_begin(node_store(leaf->n), true, &c.t, e)) < 0)
		goto out;
	for (int pass = 0; pass <= SL_BRANCH + 1 && ret == 0; pass++)
		for (size_t i = 0; i < n && ret == 0; i++) {
			uint32_t a = chain_unit(t, t->n_units, hs[i].author);
			int f = feed_index(hs[i].feed);

			c.trust = f == SF_TRUST;
			/* passes 0..4: trust feeds by depth; the last: the others */
			if (a == SCALE_NONE || f < 0 || a == t->n_units || !scale_route_holds(t, t->n_units, a, f) ||
			    (pass <= SL_BRANCH ? !c.trust || t->depth[a] != pass : c.trust))
				continue;
			ret = store_log_each(rt, hs[i].author, hs[i].feed, 1, hs[i].seq, copy_one, &c, e);
		}
	if (ret == 0)
		ret = store_txn_commit(&c.t, e);
out:
	store_txn_abort(&c.t);
	store_txn_abort(&rt);
	free(hs);
	return ret;
}

int scale_join_leaf(struct scale_tree *t, struct scale_join *j, struct err *e)
{
	uint32_t leaf = t->n_units;
	char dir[2 * NODE_PATH_MAX];
	double t0;
	int ret;

	memset(j, 0, sizeof *j);
	snprintf(dir, sizeof dir, "%s/../new-leaf", t->m[SL_ROOT].dir);
	if ((ret = scale_store_create(t, SL_COUNT, leaf, dir, e)) < 0)
		return ret;
	/* the certificate first (the street signs it, its trust feed's holders
	 * receive it); the leaf's own store then receives what its link would */
	node_close(&t->m[SL_COUNT].n);
	if ((ret = scale_emit_leaf_cert(t, e)) < 0 || (ret = scale_flush(t, e)) < 0 ||
	    (ret = node_open(&t->m[SL_COUNT].n, dir, NODE_NOSYNC, e)) < 0)
		return ret;
	t0 = scale_now_s();
	ret = download(t, j, e);
	j->seconds = scale_now_s() - t0;
	return ret;
}

/* --- the root's month roll-up --- */

/* A field of /proc/PID/status in KiB (0 if absent). */
static long status_of(const char *pid, const char *field)
{
	char path[64];
	FILE *f;
	char line[256];
	size_t n = strlen(field);
	long v = 0;

	snprintf(path, sizeof path, "/proc/%s/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static long status_kib(const char *field)
{
	return status_of("self", field);
}

static int count_row(const struct report_row *r, void *arg)
{
	if (r->event == REPORT_EV_UNIT)
		++*(uint64_t *)arg;
	return 0;
}

int scale_rollup_child(const char *dir, const char *bundle, const char *period)
{
	struct report_walk_opts o = {.tree = false, .figures = true};
	struct bundle_counts cnt = {0};
	struct node *n = NULL;
	struct err e = {0};
	size_t dups = 0;
	uint64_t rows = 0;
	double t0 = scale_now_s(), t1, t2, t3;
	long hwm_import;

	if (keys_init() < 0 || node_open(&n, dir, 0, &e) < 0 || bundle_import(n, bundle, &cnt, &dups, &e) < 0)
		goto fail;
	t1 = scale_now_s();
	hwm_import = status_kib("VmHWM");
	if (report_checks_fill(n, NULL, &e) < 0)
		goto fail;
	t2 = scale_now_s();
	if (report_walk(n, period, &o, count_row, &rows, NULL, &e) < 0)
		goto fail;
	t3 = scale_now_s();
	/* the map's pages count in RSS (RssFile) as the store is read and
	 * written: what the kernel may drop under pressure; RssAnon is the
	 * process's own memory */
	long anon = status_kib("RssAnon"), file = status_kib("RssFile"), hwm = status_kib("VmHWM");

	node_close(&n);
	printf("entries %zu import %.3f checks %.3f view %.3f rows %llu anon %ld file %ld hwm_import %ld hwm %ld\n",
	       cnt.entries, t1 - t0, t2 - t1, t3 - t2, (unsigned long long)rows, anon, file, hwm_import, hwm);
	return 0;
fail:
	fprintf(stderr, "strata-bench-scale --rollup: %s\n", e.msg);
	node_close(&n);
	return 1;
}

/* Samples the child's RssAnon and RssFile every SAMPLE_MS until it exits:
 * its peak RSS (wait4) counts the store's mapped pages, which the kernel
 * may drop, beside the process's own memory. */
static void sample_until_exit(pid_t pid, struct scale_rollup *r)
{
	char p[32];
	struct timespec nap = {0, SAMPLE_MS * 1000000L};

	snprintf(p, sizeof p, "%d", (int)pid);
	for (;;) {
		long anon = status_of(p, "RssAnon"), file = status_of(p, "RssFile");
		siginfo_t si = {0};

		if (anon > r->anon_peak_kib)
			r->anon_peak_kib = anon;
		if (file > r->file_peak_kib)
			r->file_peak_kib = file;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == pid)
			return;
		nanosleep(&nap, NULL);
	}
}

int scale_rollup_run(const char *self, const char *dir, const char *bundle, const char *period, unsigned limit_mib,
		     struct scale_rollup *r, struct err *e)
{
	int fd[2], ex[2], st;
	struct rusage ru;
	char c;
	char line[256] = "";
	unsigned long long entries = 0, rows = 0;
	long anon = 0, file = 0;
	FILE *f;
	pid_t pid;

	memset(r, 0, sizeof *r);
	scale_cgroup_make(&r->cg, limit_mib);
	scale_drop_cache(dir);
	/* ex: closed by a successful exec, so that sampling starts in the new
	 * program, not in the copy of this one fork made */
	if (pipe(fd) < 0 || pipe2(ex, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		err_set(e, "cannot start the roll-up process: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		close(fd[1]);
		close(ex[0]);
		if (scale_cgroup_enter(&r->cg) < 0)
			_exit(125);
		execl(self, self, "--rollup", dir, bundle, period, (char *)NULL);
		_exit(127);
	}
	close(ex[1]);
	while (read(ex[0], &c, 1) < 0 && errno == EINTR)
		;
	close(ex[0]);
	close(fd[1]);
	sample_until_exit(pid, r); /* its one line fits in the pipe */
	if ((f = fdopen(fd[0], "r"))) {
		if (!fgets(line, sizeof line, f))
			line[0] = 0;
		fclose(f);
	}
	if (wait4(pid, &st, 0, &ru) < 0)
		st = -1;
	scale_cgroup_done(&r->cg);
	if (st != -1 && WIFSIGNALED(st)) {
		r->signal = WTERMSIG(st);
		err_set(e, "the roll-up process was killed by signal %d%s", r->signal,
			r->cg.mib ? " (out of memory within its cgroup's limit)" : "");
		return -EIO;
	}
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
	    sscanf(line, "entries %llu import %lf checks %lf view %lf rows %llu anon %ld file %ld hwm_import %ld hwm %ld",
		   &entries, &r->import_s, &r->checks_s, &r->view_s, &rows, &anon, &file, &r->hwm_import_kib,
		   &r->maxrss_kib) != 9) {
		err_set(e, "the roll-up process failed (see above)");
		return -EIO;
	}
	r->entries = entries;
	r->rows = rows;
	r->total_s = r->import_s + r->checks_s + r->view_s;
	/* the peak is VmHWM of the program the child became: ru.ru_maxrss
	 * also counts the copy of this process that fork made before exec */
	r->fork_maxrss_kib = ru.ru_maxrss;
	r->anon_kib = anon;
	r->file_kib = file;
	return 0;
}
