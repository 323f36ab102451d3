/* SPDX-License-Identifier: MIT */
/*
 * Backup and restore of a node's store. A backup is one file: a
 * consistent, compacted copy of the live store (LMDB's own copy API reads
 * one snapshot while writers go on), mode 0600 because it holds the
 * node's records. The key file is not in it: a backup alone cannot sign.
 *
 * Restore puts such a file back as DIR/store, atomically (the new store is
 * built beside the old one and the two directories are exchanged), only
 * while no strata serve runs for DIR (it holds DIR/serve.lock meanwhile so
 * that none starts), only for a store of this node's own key, and with the
 * write fence set: the restored store is behind what its links hold, and
 * it must learn the heads of its own feeds before it signs (fence.c).
 */
#define _GNU_SOURCE /* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/core/node_internal.h"

#define RESTORE_DIR "store.restore" /* the new store, until it replaces DIR/store */

int node_backup(struct node *n, const char *path, uint64_t *bytes, struct err *e)
{
	struct stat st;
	int fd, ret;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		ret = -errno;
		err_set(e, "cannot create %s: %s%s", path, strerror(errno),
			errno == EEXIST ? " (a backup never overwrites a file)" : "");
		return ret;
	}
	ret = store_copy_fd(n->store, fd, e);
	if (ret == 0 && fstat(fd, &st) == 0)
		*bytes = (uint64_t)st.st_size;
	close(fd);
	if (ret < 0)
		unlink(path);
	return ret;
}

/* Removes DIR's files data.mdb and lock.mdb, then DIR itself. */
static void remove_store(const char *dir)
{
	char p[4400];

	snprintf(p, sizeof p, "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

/* Copies file SRC to DST (created 0600, must not exist), synced. */
static int copy_file(const char *src, const char *dst, struct err *e)
{
	char buf[1 << 16];
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, ret = 0;
	ssize_t r;

	if (in < 0) {
		ret = -errno;
		err_set(e, "cannot read the backup %s: %s", src, strerror(errno));
		return ret;
	}
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		ret = -errno;
		err_set(e, "cannot create %s: %s", dst, strerror(errno));
		goto out;
	}
	while ((r = read(in, buf, sizeof buf)) > 0)
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(out, buf + off, (size_t)(r - off));

			if (w < 0) {
				ret = -errno;
				err_set(e, "cannot write %s: %s", dst, strerror(errno));
				goto out;
			}
			off += w;
		}
	if (r < 0 || fdatasync(out) < 0) {
		ret = -errno;
		err_set(e, "cannot copy %s to %s: %s", src, dst, strerror(errno));
	}
out:
	if (out >= 0)
		close(out);
	close(in);
	return ret;
}

/* Checks that the store in SDIR is one of KEY's and sets its fence. */
static int prepare(const char *sdir, const char *path, const uint8_t key[KEY_BYTES], struct err *e)
{
	struct store *s = NULL;
	struct store_txn *t = NULL;
	const uint8_t *self;
	size_t len;
	int ret;

	if ((ret = store_open(&s, sdir, 0, e)) < 0) {
		err_prefix(e, "%s is not a Strata backup", path);
		return ret == -ENOENT ? -EINVAL : ret;
	}
	if ((ret = store_txn_begin(s, true, &t, e)) < 0)
		goto out;
	if (store_meta_get(t, "self", &self, &len, e) < 0 || len != KEY_BYTES) {
		ret = -EINVAL;
		err_set(e, "%s is not a Strata backup (it names no node key)", path);
		goto out;
	}
	if (memcmp(self, key, KEY_BYTES) != 0) {
		char hex[KEY_HEX];

		key_hex(hex, self);
		ret = -EINVAL;
		err_set(e, "%s is a backup of key %.16s…, not of this node's key (another node's, or one taken "
			   "before a key rotation)", path, hex);
		goto out;
	}
	if ((ret = node_fence_put(t, NODE_FENCE_RESTORED, e)) == 0)
		ret = store_txn_commit(&t, e);
out:
	store_txn_abort(&t);
	store_close(&s);
	return ret;
}

/* Holds DIR/serve.lock: no strata serve runs for DIR, and none starts. */
static int lock_serve(const char *dir, int *fd, struct err *e)
{
	char p[NODE_PATH_MAX];

	snprintf(p, sizeof p, "%s/%s", dir, NODE_SERVE_LOCK_FILE);
	if ((*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		err_set(e, "cannot open %s: %s", p, strerror(errno));
		return -errno;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		err_set(e, "strata serve is running for %s: stop it first, then restore", dir);
		close(*fd);
		*fd = -1;
		return -EBUSY;
	}
	return 0;
}

/* Exchanges NEW (a complete store) with DIR/store, or renames it there if
 * there is none; removes what was there; syncs DIR. */
static int swap_in(const char *dir, const char *new_dir, struct err *e)
{
	char store_dir[NODE_PATH_MAX];
	struct stat st;
	int dfd;

	snprintf(store_dir, sizeof store_dir, "%s/%s", dir, NODE_STORE_DIR);
	if (stat(store_dir, &st) == 0) {
		if (renameat2(AT_FDCWD, new_dir, AT_FDCWD, store_dir, RENAME_EXCHANGE) < 0) {
			err_set(e, "cannot put the restored store in place of %s: %s", store_dir, strerror(errno));
			return -errno;
		}
		remove_store(new_dir); /* now the old store */
	} else if (rename(new_dir, store_dir) < 0) {
		err_set(e, "cannot put the restored store at %s: %s", store_dir, strerror(errno));
		return -errno;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int node_restore(const char *dir, const char *path, struct err *e)
{
	char key_path[NODE_PATH_MAX], new_dir[NODE_PATH_MAX], data[NODE_PATH_MAX + 100]; /* new_dir/data.mdb */
	struct keypair *kp = NULL;
	int ret, lock = -1;

	snprintf(key_path, sizeof key_path, "%s/%s", dir, NODE_KEY_FILE);
	if ((ret = keypair_load(&kp, key_path, e)) < 0) {
		err_prefix(e, "no Strata node in %s to restore into", dir);
		return ret == -ENOENT ? -ENOENT : ret;
	}
	if ((ret = lock_serve(dir, &lock, e)) < 0)
		goto out;
	snprintf(new_dir, sizeof new_dir, "%s/%s", dir, RESTORE_DIR);
	remove_store(new_dir); /* what an interrupted restore left */
	if (mkdir(new_dir, 0700) < 0) {
		ret = -errno;
		err_set(e, "cannot create %s: %s", new_dir, strerror(errno));
		goto out;
	}
	snprintf(data, sizeof data, "%s/data.mdb", new_dir);
	if ((ret = copy_file(path, data, e)) < 0 || (ret = prepare(new_dir, path, keypair_public(kp), e)) < 0 ||
	    (ret = swap_in(dir, new_dir, e)) < 0)
		remove_store(new_dir);
out:
	if (lock >= 0)
		close(lock);
	keypair_destroy(&kp);
	return ret;
}
