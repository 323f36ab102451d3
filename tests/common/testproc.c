/* SPDX-License-Identifier: MIT */
/*
 * Running the binaries under test (see testproc.h): posix_spawn, never a
 * shell; output drained with poll.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testproc.h"

extern char **environ;

const char *spawn_build_path(char *buf, size_t cap, const char *rel)
{
	const char *b = getenv("STRATA_TEST_BUILDDIR");

	cr_assert(b && *b, "STRATA_TEST_BUILDDIR is not set (run through meson test)");
	snprintf(buf, cap, "%s/%s", b, rel);
	return buf;
}

struct sink {
	int fd;
	char *buf;
	size_t len, cap;
};

static void sink_read(struct sink *s)
{
	char tmp[65536];
	ssize_t n = read(s->fd, tmp, sizeof tmp);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(s->fd);
		s->fd = -1;
		return;
	}
	if (s->len + (size_t)n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;

		while (s->len + (size_t)n + 1 > cap)
			cap *= 2;
		s->buf = realloc(s->buf, cap);
		cr_assert_not_null(s->buf, "out of memory capturing output");
		s->cap = cap;
	}
	memcpy(s->buf + s->len, tmp, (size_t)n);
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
}

int spawn_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void spawn_run(struct spawn_result *r, const char *out_file, char *const argv[], unsigned timeout_ms)
{
	spawn_run_in(r, NULL, out_file, argv, timeout_ms);
}

void spawn_run_in(struct spawn_result *r, const char *in_file, const char *out_file, char *const argv[],
		  unsigned timeout_ms)
{
	int po[2] = {-1, -1}, pe[2];
	posix_spawn_file_actions_t fa;
	struct sink out = {.fd = -1}, err = {.fd = -1};
	uint64_t deadline = now_ms() + timeout_ms;
	pid_t pid;
	int st = 0, rc;

	memset(r, 0, sizeof *r);
	cr_assert_eq(pipe(pe), 0);
	if (!out_file)
		cr_assert_eq(pipe(po), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, in_file ? in_file : "/dev/null", O_RDONLY, 0);
	if (out_file) {
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	} else {
		posix_spawn_file_actions_adddup2(&fa, po[1], STDOUT_FILENO);
		posix_spawn_file_actions_addclose(&fa, po[0]);
		posix_spawn_file_actions_addclose(&fa, po[1]);
	}
	posix_spawn_file_actions_adddup2(&fa, pe[1], STDERR_FILENO);
	posix_spawn_file_actions_addclose(&fa, pe[0]);
	posix_spawn_file_actions_addclose(&fa, pe[1]);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "cannot start %s: %s", argv[0], strerror(rc));
	close(pe[1]);
	err.fd = pe[0];
	if (!out_file) {
		close(po[1]);
		out.fd = po[0];
	}
	while (out.fd >= 0 || err.fd >= 0) {
		struct pollfd p[2] = {{.fd = out.fd, .events = POLLIN}, {.fd = err.fd, .events = POLLIN}};

		if (poll(p, 2, timeout_ms ? 1000 : -1) < 0) {
			cr_assert_eq(errno, EINTR, "poll: %s", strerror(errno));
			continue;
		}
		if (timeout_ms && now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			free(out.buf);
			free(err.buf);
			cr_assert_fail("%s %s %s ran for over %u s; killed", argv[0], argv[1] ? argv[1] : "",
				       argv[1] && argv[2] ? argv[2] : "", timeout_ms / 1000);
		}
		if (out.fd >= 0 && p[0].revents)
			sink_read(&out);
		if (err.fd >= 0 && p[1].revents)
			sink_read(&err);
	}
	while ((rc = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	cr_assert_eq(rc, pid, "waitpid: %s", strerror(errno));
	r->status = spawn_status(st);
	r->out = out.buf ? out.buf : strdup("");
	r->err = err.buf ? err.buf : strdup("");
	r->out_len = out.len;
	r->err_len = err.len;
}

void spawn_argv(char **argv, const char *prog, const char *arg, va_list ap)
{
	size_t n = 0;

	argv[n++] = (char *)prog;
	for (const char *a = arg; a; a = va_arg(ap, const char *)) {
		cr_assert_lt(n, SPAWN_MAX_ARGS - 1, "too many arguments");
		argv[n++] = (char *)a;
	}
	argv[n] = NULL;
}

void spawn_remove_tree(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) < 0)
		return;
	if (S_ISDIR(sb.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char sub[4096];

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
			spawn_remove_tree(sub);
		}
		if (d)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}
