/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD shim of the sync tests that need another date (test_summary:
 * a unit that joined before a past period, a report on time for it): every
 * clock_gettime(CLOCK_REALTIME) of a process that has STRATA_TEST_CLOCK
 * (a file) in its environment is moved by the signed number of seconds
 * that file holds, read at each call, so that the test moves every daemon
 * and command at once by rewriting it. Without the file: the real clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int clock_gettime(clockid_t clk, struct timespec *ts)
{
	const char *path = getenv("STRATA_TEST_CLOCK");
	long ret = syscall(SYS_clock_gettime, clk, ts);
	FILE *f;
	long long shift = 0;

	if (ret == 0 && clk == CLOCK_REALTIME && path && (f = fopen(path, "r"))) {
		if (fscanf(f, "%lld", &shift) == 1)
			ts->tv_sec += (time_t)shift;
		fclose(f);
	}
	return (int)ret;
}
