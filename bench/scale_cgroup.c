/* SPDX-License-Identifier: MIT */
/*
 * The roll-up's memory ceiling: a memory cgroup (v2 `memory.max`, else v1
 * `memory.limit_in_bytes`) that the roll-up process runs in, so that "under
 * 512 MiB of memory" is shown by running within it, the kernel charging the
 * store's cached pages to it and dropping them as needed, rather than read
 * off RSS (which counts every mapped page the store touched: clean cache
 * the kernel may drop). Needs root and a writable cgroup hierarchy; where
 * there is none, the bench says so and runs unlimited.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scale.h"

static const char *const roots[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/memory"};

static int put(const char *dir, const char *file, const char *text)
{
	char p[NODE_PATH_MAX + 32];
	FILE *f;
	int ok;

	snprintf(p, sizeof p, "%s/%s", dir, file);
	if (!(f = fopen(p, "w")))
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static long long get(const char *dir, const char *file)
{
	char p[NODE_PATH_MAX + 32];
	long long v = -1;
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, file);
	if ((f = fopen(p, "r"))) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

int scale_cgroup_make(struct scale_cgroup *cg, unsigned mib)
{
	char limit[32];

	memset(cg, 0, sizeof *cg);
	if (!mib)
		return -1;
	snprintf(limit, sizeof limit, "%llu", (unsigned long long)mib << 20);
	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		char probe[NODE_PATH_MAX];
		bool v2;

		snprintf(probe, sizeof probe, "%s/cgroup.controllers", roots[i]);
		v2 = access(probe, F_OK) == 0;
		snprintf(probe, sizeof probe, "%s/memory.limit_in_bytes", roots[i]);
		if (!v2 && access(probe, F_OK) != 0)
			continue;
		snprintf(cg->dir, sizeof cg->dir, "%s/strata-bench-scale-%d", roots[i], (int)getpid());
		if (mkdir(cg->dir, 0700) < 0)
			continue;
		cg->v2 = v2;
		if (put(cg->dir, v2 ? "memory.max" : "memory.limit_in_bytes", limit) == 0) {
			cg->mib = mib;
			return 0;
		}
		rmdir(cg->dir);
	}
	cg->dir[0] = 0;
	return -1;
}

int scale_cgroup_enter(const struct scale_cgroup *cg)
{
	char pid[24];

	if (!cg->mib)
		return 0;
	snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	return put(cg->dir, "cgroup.procs", pid);
}

void scale_cgroup_done(struct scale_cgroup *cg)
{
	if (!cg->mib)
		return;
	cg->peak_bytes = get(cg->dir, cg->v2 ? "memory.peak" : "memory.max_usage_in_bytes");
	cg->failcnt = cg->v2 ? -1 : get(cg->dir, "memory.failcnt");
	rmdir(cg->dir);
}

void scale_drop_cache(const char *node_dir)
{
	char p[NODE_PATH_MAX + 32];
	int fd;

	snprintf(p, sizeof p, "%s/" NODE_STORE_DIR "/data.mdb", node_dir);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (fdatasync(fd) == 0)
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}
