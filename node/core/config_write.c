/* SPDX-License-Identifier: MIT */
/*
 * strata.conf written: the file `strata init` creates (with the level's
 * profile) and the [parent] section `strata join` adds, each through a
 * 0600 temporary file renamed into place. Reading it is config.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/core/node_internal.h"

int node_config_write(const char *dir, const char *listen, const struct node_profile *p, struct err *e)
{
	char path[PATH_MAX];
	FILE *f;
	int fd, ret;

	snprintf(path, sizeof path, "%s/%s", dir, NODE_CONF_FILE);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		ret = -errno;
		err_set(e, "cannot create %s: %s", path, strerror(errno));
		return ret;
	}
	if (fchmod(fd, 0600) < 0 || !(f = fdopen(fd, "w"))) { /* the umask may take bits away, never add */
		ret = -errno;
		err_set(e, "cannot create %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return ret;
	}
	fprintf(f,
		"# Strata node settings (INI). See docs/OPERATIONS.md.\n"
		"[node]\n"
		"# the level this node serves: branch, street, district, city, province or\n"
		"# national; its profile gives up_depth and contact_levels their defaults\n"
		"# (docs/OPERATIONS.md \"Deployment profiles\")\n"
		"%slevel = %s\n"
		"%slisten = %s\n"
		"# levels above its author that a descendant's up feed travels past this node\n"
		"# (0 = no limit; with up_depth = 1 its parent receives only this node's own\n"
		"# records, and the reports of every unit)\n"
		"# up_depth = %u\n"
		"\n"
		"[write]\n"
		"# ops in one change set of a bulk write (1..10000)\n"
		"ops_per_changeset = %d\n"
		"\n"
		"# batches of entries sent to a parent or child that reads zstd: compressed\n"
		"# except on a loopback link (auto), always (zstd), or never (none)\n"
		"# [sync]\n"
		"# compress = auto\n"
		"\n"
		"# as the lowest common ancestor of two branches, forward a member transfer\n"
		"# at once (auto) or only after `strata transfer approve` (manual)\n"
		"# [transfer]\n"
		"# approve = auto\n"
		"\n"
		"# residents' contacts (feed private) stay at the node that wrote them; this\n"
		"# node passes them up while its parent stands at most this many levels above\n"
		"# their author (set it on every node on the way)\n"
		"# [privacy]\n"
		"# contact_levels = %u\n",
		p ? "" : "# ", p ? p->word : "street",
		listen && *listen ? "" : "# where children and peers connect, e.g. tcp://0.0.0.0:7400\n# ",
		listen && *listen ? listen : "tcp://127.0.0.1:7400", p ? p->up_depth : 0, NODE_OPS_PER_CHANGESET,
		p ? p->contact_levels : 0);
	if (fclose(f) != 0) {
		err_set(e, "cannot write %s: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

#define CONF_TMP_SUFFIX ".tmp"

/* Creates DIR/strata.conf.tmp, mode 0600 whatever the umask. */
static int conf_tmp_create(const char *tmp, struct err *e)
{
	int fd, ret;

	(void)unlink(tmp); /* left by a crash: it was never the config */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0 ||
	    fchmod(fd, 0600) < 0) {
		ret = -errno;
		err_set(e, "cannot write %s: %s", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return ret;
	}
	return fd;
}

int node_config_check_writable(const char *dir, struct err *e)
{
	struct node_config c;
	char tmp[NODE_PATH_MAX];
	int fd, ret;

	if ((ret = node_config_load(&c, dir, e)) < 0)
		return ret;
	snprintf(tmp, sizeof tmp, "%s/%s%s", dir, NODE_CONF_FILE, CONF_TMP_SUFFIX);
	if ((fd = conf_tmp_create(tmp, e)) < 0)
		return fd;
	close(fd);
	unlink(tmp);
	return 0;
}

/* The current text of path (malloc'd; "" when there is none). */
static int conf_slurp(const char *path, char **out, size_t *len, struct err *e)
{
	FILE *f;
	int ret;
	size_t cap = 4096, n;

	*len = 0;
	if (!(*out = malloc(cap)))
		return -ENOMEM;
	if ((ret = node_config_open(path, &f, e)) <= 0)
		return ret;
	while ((n = fread(*out + *len, 1, cap - *len, f)) > 0) {
		*len += n;
		if (*len == cap) {
			char *p = cap < (1u << 20) ? realloc(*out, cap *= 2) : NULL;

			if (!p) {
				fclose(f);
				err_set(e, "%s is too large", path);
				return -EFBIG;
			}
			*out = p;
		}
	}
	ret = ferror(f) ? -EIO : 0;
	if (ret < 0)
		err_set(e, "cannot read %s", path);
	fclose(f);
	return ret;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes old text and the [parent] section to the temporary file and
 * renames it over path, syncing the file and the directory. */
static int conf_replace(const char *dir, const char *path, const char *old, size_t old_len, const char *add,
			struct err *e)
{
	char tmp[NODE_PATH_MAX];
	int fd, dfd, ret;

	snprintf(tmp, sizeof tmp, "%s%s", path, CONF_TMP_SUFFIX);
	if ((fd = conf_tmp_create(tmp, e)) < 0)
		return fd;
	if ((ret = write_all(fd, old, old_len)) < 0 || (ret = write_all(fd, add, strlen(add))) < 0 ||
	    (fsync(fd) < 0 && (ret = -errno)) || (rename(tmp, path) < 0 && (ret = -errno))) {
		err_set(e, "cannot write %s: %s", path, strerror(-ret));
		close(fd);
		unlink(tmp);
		return ret;
	}
	close(fd);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd); /* the rename is durable; the file itself already is */
		close(dfd);
	}
	return 0;
}

int node_config_set_parent(const char *dir, const char *endpoint, const uint8_t key[KEY_BYTES], bool peer,
			   struct err *e)
{
	struct node_config c;
	char path[PATH_MAX], hex[KEY_HEX], add[1024], *old = NULL;
	size_t old_len = 0;
	int ret;

	if ((ret = node_config_load(&c, dir, e)) < 0)
		return ret;
	if (c.has_parent) {
		if (strcmp(c.parent_endpoint, endpoint) == 0 && memcmp(c.parent_key, key, KEY_BYTES) == 0 &&
		    c.parent_is_peer == peer)
			return 0; /* written by an earlier run of the same join */
		err_set(e, "%s/%s already names a parent (%s)", dir, NODE_CONF_FILE, c.parent_endpoint);
		return -EEXIST;
	}
	snprintf(path, sizeof path, "%s/%s", dir, NODE_CONF_FILE);
	key_hex(hex, key);
	snprintf(add, sizeof add, "\n# set by strata join\n[parent]\nendpoint = %s\nkey = %s\n%s", endpoint, hex,
		 peer ? "# a peer agreement: this node belongs to another trust domain\nrole = peer\n" : "");
	if ((ret = conf_slurp(path, &old, &old_len, e)) >= 0)
		ret = conf_replace(dir, path, old, old_len, add, e);
	else if (ret == -ENOMEM)
		err_set(e, "out of memory");
	free(old);
	return ret;
}
