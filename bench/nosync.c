/* SPDX-License-Identifier: MIT */
/*
 * libstrata-nosync.so: an LD_PRELOAD shim for benchmark SETUP only. It makes
 * fsync and fdatasync no-ops and drops O_SYNC/O_DSYNC from open, so that a
 * store filled only to be measured afterwards (say 1,000,000 one-op change
 * sets, one durable commit per 16) is written at CPU speed instead of
 * waiting on the disk. Nothing timed by bench/run runs under it, and a
 * store written under it is as consistent as any (LMDB's ordering of data
 * and meta pages is unchanged); only a power loss could lose its tail.
 *   LD_PRELOAD=build-bench/bench/libstrata-nosync.so strata member import ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/types.h>
#include <unistd.h>

int fsync(int fd)
{
	(void)fd;
	return 0;
}

int fdatasync(int fd)
{
	(void)fd;
	return 0;
}

static int real_open(const char *name, const char *path, int flags, mode_t mode)
{
	int (*fn)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, name);

	flags &= ~(O_SYNC | O_DSYNC);
	return fn ? fn(path, flags, mode) : -1;
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return real_open("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return real_open("open64", path, flags, mode);
}
