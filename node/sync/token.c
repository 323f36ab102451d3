/* SPDX-License-Identifier: MIT */
/*
 * Reading a join token. A token is a bearer secret until it is used, so it
 * never travels on a command line (every local user can read argv from ps
 * and /proc, and shells keep it in their history): `strata join` reads it
 * from standard input, from a file only its owner can read, or from the
 * environment (/proc/PID/environ is readable by the same user only).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "node/sync/sync_internal.h"

static int open_checked(const char *path, int *fd, struct err *e)
{
	struct stat st;

	if ((*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		int ret = -errno;

		err_set(e, "cannot open token file %s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(*fd, &st) < 0) {
		int ret = -errno;

		err_set(e, "cannot stat token file %s: %s", path, strerror(errno));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, "token file %s is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		err_set(e, "token file %s has mode %04o: group or others can read it, so the token may have been "
			   "seen; run chmod 600 %s, or better ask for a new token (strata invite -o FILE writes it 0600)",
			path, (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

/* Reads the first line of fd into buf (cap bytes and a NUL), stopping at a
 * newline so that a terminal need not send end-of-file. */
static int read_line(int fd, char *buf, size_t cap, size_t *len, const char *from, struct err *e)
{
	*len = 0;
	while (*len <= cap) {
		ssize_t n = read(fd, buf + *len, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int ret = -errno;

			err_set(e, "cannot read the join token from %s: %s", from, strerror(errno));
			return ret;
		}
		if (n == 0 || buf[*len] == '\n')
			break;
		if (++*len > cap) {
			err_set(e, "%s holds more than %d bytes on its first line: that is no join token", from,
				SYNC_TOKEN_MAX);
			return -E2BIG;
		}
	}
	buf[*len] = '\0';
	return 0;
}

int sync_token_read(const char *path, int fd, char **out, struct err *e)
{
	const char *from = path ? path : "standard input";
	char *buf = sodium_malloc(SYNC_TOKEN_MAX + 2);
	size_t len = 0, start = 0;
	int own = -1, ret;

	*out = NULL;
	if (!buf) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	if (path && (ret = open_checked(path, &own, e)) < 0)
		goto out;
	if ((ret = read_line(path ? own : fd, buf, SYNC_TOKEN_MAX, &len, from, e)) < 0)
		goto out;
	while (len && (buf[len - 1] == '\r' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	while (start < len && (buf[start] == ' ' || buf[start] == '\t'))
		start++;
	ret = -EINVAL;
	if (start == len) {
		err_set(e, "no join token in %s", from);
		goto out;
	}
	for (size_t i = start; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
			err_set(e, "the join token in %s holds a control byte at column %zu: copy it again, whole",
				from, i - start + 1);
			goto out;
		}
	memmove(buf, buf + start, len - start + 1);
	*out = buf;
	buf = NULL;
	ret = 0;
out:
	if (own >= 0)
		close(own);
	if (buf) {
		sodium_memzero(buf, SYNC_TOKEN_MAX + 2);
		sodium_free(buf);
	}
	return ret;
}

void sync_token_free(char *token)
{
	if (token) {
		sodium_memzero(token, strlen(token));
		sodium_free(token);
	}
}
