/* SPDX-License-Identifier: MIT */
/*
 * Key files: the 32-byte Ed25519 seed as one line of hex, mode 0600. A file
 * that group or others can read is refused, as ssh does, because the key is
 * the node's identity for signing and for transport alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/crypto.h"
#include "crypto/keys_internal.h"

#define KEYFILE_LINE (2 * SEED_BYTES + 1) /* hex and a newline */

int keypair_save(const struct keypair *kp, const char *path, struct err *e)
{
	char *line = sodium_malloc(KEYFILE_LINE + 1);
	int fd = -1, ret = -ENOMEM;
	size_t done = 0;

	if (!line) {
		err_set(e, "out of memory writing key file %s", path);
		goto out;
	}
	hex_encode(line, keypair_seed_internal(kp), SEED_BYTES);
	line[KEYFILE_LINE - 1] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		err_set(e, "cannot create key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) < 0) { /* the umask may have taken bits away, never added */
		ret = -errno;
		err_set(e, "cannot set mode 0600 on %s: %s", path, strerror(errno));
		goto out;
	}
	while (done < KEYFILE_LINE) {
		ssize_t n = write(fd, line + done, KEYFILE_LINE - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			err_set(e, "cannot write key file %s: %s", path, strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) < 0) {
		ret = -errno;
		err_set(e, "cannot sync key file %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0 && close(fd) < 0 && ret == 0) {
		ret = -errno;
		err_set(e, "cannot close key file %s: %s", path, strerror(errno));
	}
	if (ret < 0 && fd >= 0)
		unlink(path);
	sodium_free(line);
	return ret;
}

int keypair_load(struct keypair **out, const char *path, struct err *e)
{
	char *buf = sodium_malloc(KEYFILE_LINE + 2);
	uint8_t *seed = sodium_malloc(SEED_BYTES);
	struct stat st;
	ssize_t n = 0;
	int fd = -1, ret = -ENOMEM;

	if (!buf || !seed) {
		err_set(e, "out of memory reading key file %s", path);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = -errno;
		err_set(e, "cannot open key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		err_set(e, "cannot stat key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		err_set(e, "key file %s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		ret = -EPERM;
		err_set(e, "key file %s has mode %04o: group or others can access it; run chmod 600 %s",
			path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	do
		n = read(fd, buf, KEYFILE_LINE + 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		ret = -errno;
		err_set(e, "cannot read key file %s: %s", path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	if (n == KEYFILE_LINE && buf[KEYFILE_LINE - 1] == '\n')
		buf[KEYFILE_LINE - 1] = '\0';
	if (hex_decode(seed, SEED_BYTES, buf) < 0) {
		ret = -EINVAL;
		err_set(e, "key file %s is not a Strata key file (expected 64 hex characters)", path);
		goto out;
	}
	ret = keypair_from_seed(out, seed, e);
out:
	if (fd >= 0)
		close(fd);
	sodium_free(buf);
	sodium_free(seed);
	return ret;
}
