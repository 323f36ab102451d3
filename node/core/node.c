/* SPDX-License-Identifier: MIT */
/*
 * A node directory: creating one (key, store, config, identity in meta) and
 * opening one. Creation leaves nothing behind when any step fails.
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
#include "node/records/records.h"

bool node_name_valid(const char *s)
{
	return org_path_valid(s);
}

/* Paths are at most PATH_MAX; a longer one is cut and then simply not found. */
static void path_join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= cap)
		out[0] = '\0';
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Creates the folders above dir that do not exist yet, mode 0700 (as
 * mkdir -p; /var/lib/strata before /var/lib/strata/huli, say). */
static int mkdir_parents(const char *dir, struct err *e)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len >= sizeof path) {
		err_set(e, "node directory name too long: %zu bytes", len);
		return -ENAMETOOLONG;
	}
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			int err = errno;

			err_set(e, "cannot create %s: %s", path, strerror(err));
			return err_os(err);
		}
		*p = '/';
	}
	return 0;
}

static void remove_store_dir(const char *store_dir)
{
	char p[PATH_MAX];

	path_join(p, sizeof p, store_dir, "data.mdb");
	unlink(p);
	path_join(p, sizeof p, store_dir, "lock.mdb");
	unlink(p);
	rmdir(store_dir);
}

/* The root's first trust entry: its own certificate, so that every node of
 * the domain learns the root's org path the way it learns everyone's. */
static int root_self_certify(const char *dir, const char *name, const char *display_name, struct err *e)
{
	static char *feeds[] = {FEED_UP, FEED_REPORT, FEED_DOWN, FEED_TRUST};
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	struct node *n = NULL;
	struct node_writer *w = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int ret;

	if ((ret = node_open(&n, dir, 0, e)) < 0)
		return ret;
	c.subject.data = (uint8_t *)node_id(n);
	c.subject.len = KEY_BYTES;
	c.name = (char *)name;
	c.display_name = (char *)display_name; /* NULL: the field is not encoded */
	c.role = STRATA__ROLE__ROLE_ROOT;
	c.n_feeds = 4;
	c.feeds = feeds;
	c.issued_ms = node_now_ms();
	len = strata__certificate__get_packed_size(&c);
	if (!(buf = malloc(len))) {
		ret = -ENOMEM;
		err_set(e, "out of memory");
		goto out;
	}
	strata__certificate__pack(&c, buf);
	if ((ret = node_writer_begin(n, FEED_TRUST, &w, e)) < 0 ||
	    (ret = node_writer_put(w, CERT_COLLECTION, node_id(n), KEY_BYTES, buf, len, e)) < 0 ||
	    (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)
		goto out;
out:
	free(buf);
	node_writer_abort(&w);
	node_close(&n);
	return ret;
}

/* A strata.conf put in DIR before init is kept as it is (node_create writes
 * none): an init --level must then agree with the level it names, or the
 * level asked for would silently not apply. */
static int level_agrees(const char *dir, const char *conf_path, const struct node_profile *want, struct err *e)
{
	struct node_config c;
	const struct node_profile *has;
	int ret;

	if ((ret = node_config_load(&c, dir, e)) < 0)
		return ret;
	if ((has = node_profile_get(c.level)) == want)
		return 0;
	err_set(e, "%s exists already and sets level %s, not %s: edit its [node] level, or remove it to have init "
		   "write a new one",
		conf_path, has ? has->word : "none", want->word);
	return -EEXIST;
}

/* The options of node_create, checked before anything is made. */
static bool init_opts_valid(const struct node_init_opts *o, struct err *e)
{
	if (!node_name_valid(o->name)) {
		err_set(e, "org path \"%s\" is not valid: use lowercase segments of a-z, 0-9, '-' and '_' "
			   "joined by '/', e.g. xiamen/huli/hetong",
			o->name ? o->name : "");
		return false;
	}
	if (o->display_name && (!o->root || !display_name_valid(o->display_name))) {
		if (!o->root)
			err_set(e, "only a root takes its display name at init: a child's is given by its parent "
				   "(strata invite --display-name)");
		else
			err_set(e, "display name \"%s\" is not valid: 1 to %d bytes of printable text, no space at "
				   "either end", o->display_name, DISPLAY_NAME_MAX);
		return false;
	}
	if (o->level && !node_profile_find(o->level)) {
		err_set(e, "level \"%s\" is not known: use %s", o->level, NODE_LEVEL_WORDS);
		return false;
	}
	return true;
}

int node_create(const char *dir, const struct node_init_opts *o, struct err *e)
{
	char key_path[PATH_MAX], conf_path[PATH_MAX], store_dir[PATH_MAX];
	struct keypair *kp = NULL;
	struct store *s = NULL;
	struct store_txn *t = NULL;
	bool made_key = false, made_conf = false, made_store = false;
	int ret = -EINVAL;

	if (!init_opts_valid(o, e))
		goto out;
	if ((ret = mkdir_parents(dir, e)) < 0)
		goto out;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ret = err_os(errno);
		err_set(e, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	path_join(key_path, sizeof key_path, dir, NODE_KEY_FILE);
	path_join(conf_path, sizeof conf_path, dir, NODE_CONF_FILE);
	path_join(store_dir, sizeof store_dir, dir, NODE_STORE_DIR);
	if (exists(key_path) || exists(store_dir)) {
		ret = -EEXIST;
		err_set(e, "%s already holds a Strata node", dir);
		goto out;
	}
	if (o->level && exists(conf_path) && (ret = level_agrees(dir, conf_path, node_profile_find(o->level), e)) < 0)
		goto out;
	if ((ret = keypair_generate(&kp, e)) < 0 || (ret = keypair_save(kp, key_path, e)) < 0)
		goto out;
	made_key = true;
	if (mkdir(store_dir, 0700) < 0) {
		ret = -errno;
		err_set(e, "cannot create %s: %s", store_dir, strerror(errno));
		goto out;
	}
	made_store = true;
	if ((ret = store_open(&s, store_dir, STORE_CREATE, e)) < 0 ||
	    (ret = store_txn_begin(s, true, &t, e)) < 0)
		goto out;
	if ((ret = store_meta_put(t, "self", keypair_public(kp), KEY_BYTES, e)) < 0 ||
	    (ret = store_meta_put(t, "name", (const uint8_t *)o->name, strlen(o->name), e)) < 0 ||
	    (o->root && (ret = store_meta_put(t, "root", keypair_public(kp), KEY_BYTES, e)) < 0) ||
	    (ret = store_txn_commit(&t, e)) < 0)
		goto out;
	if (!exists(conf_path)) {
		if ((ret = node_config_write(dir, o->listen, node_profile_find(o->level), e)) < 0)
			goto out;
		made_conf = true;
	}
	store_close(&s);
	if (o->root && (ret = root_self_certify(dir, o->name, o->display_name, e)) < 0)
		goto out;
	ret = 0;
out:
	store_txn_abort(&t);
	store_close(&s);
	keypair_destroy(&kp);
	if (ret < 0) {
		if (made_conf)
			unlink(conf_path);
		if (made_store)
			remove_store_dir(store_dir);
		if (made_key)
			unlink(key_path);
	}
	return ret;
}

static int meta_copy(struct store_txn *t, const char *name, void *out, size_t want, size_t *got,
		     struct err *e)
{
	const uint8_t *v;
	size_t n;
	int ret = store_meta_get(t, name, &v, &n, e);

	if (ret < 0)
		return ret;
	if (got ? n > want : n != want) {
		err_set(e, "store meta %s has %zu bytes, expected %s%zu", name, n, got ? "at most " : "", want);
		return -EIO;
	}
	memcpy(out, v, n);
	if (got)
		*got = n;
	return 0;
}

/* strata rotate-key stopped after the store took the new key but before
 * node.key did: the new key is in node.key.new; finish the swap. */
static int finish_rotation(const char *dir, const char *key_path, const uint8_t id[KEY_BYTES])
{
	char new_path[PATH_MAX];
	struct keypair *kp = NULL;
	struct err ignore = {0};
	int ret = -ENOENT;

	path_join(new_path, sizeof new_path, dir, NODE_KEY_NEW_FILE);
	if (keypair_load(&kp, new_path, &ignore) == 0 && memcmp(keypair_public(kp), id, KEY_BYTES) == 0)
		ret = node_key_replace(dir, key_path, new_path);
	keypair_destroy(&kp);
	return ret;
}

int node_key_replace(const char *dir, const char *key_path, const char *new_path)
{
	char zeros[128] = {0};
	struct stat st;
	int fd, dfd;

	/* overwrite the old seed before its file goes away (best effort) */
	if ((fd = open(key_path, O_WRONLY | O_CLOEXEC)) >= 0) {
		if (fstat(fd, &st) == 0 && st.st_size > 0 && (size_t)st.st_size <= sizeof zeros &&
		    write(fd, zeros, (size_t)st.st_size) == st.st_size)
			(void)fsync(fd);
		close(fd);
	}
	if (rename(new_path, key_path) < 0)
		return -errno;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* Is there a node store in DIR (its folder store_dir)? -ENOENT if not,
 * -EIO when it cannot be looked at. */
static int store_dir_check(const char *dir, const char *store_dir, struct err *e)
{
	struct stat st;
	int err;

	if (stat(store_dir, &st) == 0)
		return 0;
	err = errno;
	if (err == ENOENT || err == ENOTDIR) {
		err_set(e, "no Strata node in %s (run strata init, or pass -d DIR or set STRATA_DIR)", dir);
		return -ENOENT;
	}
	/* a system error (exit 4), not a refusal by the node's rules (EACCES: exit 2) */
	err_set(e, "cannot open the node in %s: %s%s", dir, strerror(err),
		err == EACCES ? " (it belongs to another user? run strata as that user)" : "");
	return -EIO;
}

/* Reads the node's identity from store meta: self and name (required),
 * root and peer_root (optional). */
static int identity_load(struct node *n, const char *store_dir, struct err *e)
{
	struct store_txn *t = NULL;
	struct err ignore = {0};
	size_t name_len = 0;
	int ret;

	if ((ret = store_txn_begin(n->store, false, &t, e)) < 0)
		return ret;
	if ((ret = meta_copy(t, "self", n->id, KEY_BYTES, NULL, e)) < 0 ||
	    (ret = meta_copy(t, "name", n->name, NODE_NAME_MAX, &name_len, e)) < 0) {
		err_prefix(e, "store %s is not a complete node store", store_dir);
		goto out;
	}
	n->name[name_len] = '\0';
	ret = meta_copy(t, "root", n->root, KEY_BYTES, NULL, &ignore);
	if (ret < 0 && ret != -ENOENT) {
		err_set(e, "%s", ignore.msg);
		goto out;
	}
	n->has_root = ret == 0;
	memset(&ignore, 0, sizeof ignore);
	ret = meta_copy(t, "peer_root", n->peer_root, KEY_BYTES, NULL, &ignore);
	if (ret < 0 && ret != -ENOENT) {
		err_set(e, "%s", ignore.msg);
		goto out;
	}
	n->has_peer_root = ret == 0;
	ret = 0;
out:
	store_txn_abort(&t);
	return ret;
}

/* Loads the node's key from key_path, finishing a key rotation that
 * stopped halfway; it must be the key the store names (n->id). */
static int key_load(struct node *n, const char *key_path, const char *store_dir, struct err *e)
{
	int ret;

	if ((ret = keypair_load(&n->key, key_path, e)) < 0)
		return ret == -EACCES ? -EIO : ret;
	if (memcmp(keypair_public(n->key), n->id, KEY_BYTES) != 0 && finish_rotation(n->dir, key_path, n->id) == 0) {
		keypair_destroy(&n->key);
		if ((ret = keypair_load(&n->key, key_path, e)) < 0)
			return ret;
	}
	if (memcmp(keypair_public(n->key), n->id, KEY_BYTES) != 0) {
		err_set(e, "%s does not hold the key of the node whose store is in %s", key_path, store_dir);
		return -EINVAL;
	}
	return 0;
}

int node_open(struct node **out, const char *dir, int flags, struct err *e)
{
	char store_dir[PATH_MAX], key_path[PATH_MAX];
	struct node *n = calloc(1, sizeof *n);
	int ret = -ENOMEM;

	if (!n || !(n->dir = strdup(dir))) {
		err_set(e, "out of memory");
		goto out;
	}
	path_join(store_dir, sizeof store_dir, dir, NODE_STORE_DIR);
	path_join(key_path, sizeof key_path, dir, NODE_KEY_FILE);
	if ((ret = store_dir_check(dir, store_dir, e)) < 0)
		goto out;
	/* The file system's "permission denied" is a system error; EACCES from
	 * here on would read as a refusal by the node's rules. */
	if ((ret = node_config_load(&n->config, dir, e)) < 0) {
		ret = ret == -EACCES ? -EIO : ret;
		goto out;
	}
	if ((ret = store_open_map(&n->store, store_dir,
				  ((flags & NODE_RDONLY) ? STORE_RDONLY : 0) | ((flags & NODE_NOSYNC) ? STORE_NOSYNC : 0),
				  &(struct store_map_conf){.size = n->config.map_size, .max = n->config.map_max}, e)) < 0) {
		ret = ret == -EACCES ? -EIO : ret;
		goto out;
	}
	store_on_grow(n->store, node_store_grown, n); /* metrics.c: the log line */
	n->scrub_due = !(flags & NODE_RDONLY); /* node_scrub reads meta scrub_due */
	if (!(flags & NODE_RDONLY)) {
		size_t fixed;

		if ((ret = node_cert_index_upgrade(n->store, &fixed, e)) < 0)
			goto out;
	}
	n->fence_wait_ms = fence_wait_default();
	if ((ret = node_erase_gen(n, &n->erase_gen, e)) < 0 || (ret = identity_load(n, store_dir, e)) < 0)
		goto out;
	if (!(flags & NODE_NO_KEY) && (ret = key_load(n, key_path, store_dir, e)) < 0)
		goto out;
	*out = n;
	n = NULL;
	ret = 0;
out:
	node_close(&n);
	return ret;
}

void node_close(struct node **n)
{
	if (!n || !*n)
		return;
	erase_scrub_close(*n); /* this process's writes since an erase elsewhere */
	keypair_destroy(&(*n)->key);
	store_close(&(*n)->store);
	free((*n)->observers);
	free((*n)->dir);
	free(*n);
	*n = NULL;
}

const uint8_t *node_id(const struct node *n)
{
	return n->id;
}

const char *node_name(const struct node *n)
{
	return n->name;
}

const char *node_dir(const struct node *n)
{
	return n->dir;
}

const uint8_t *node_root(const struct node *n)
{
	return n->has_root ? n->root : NULL;
}

void node_pin_root(struct node *n, const uint8_t root[KEY_BYTES])
{
	memcpy(n->root, root, KEY_BYTES);
	n->has_root = true;
	n->has_peer_root = false;
}

const uint8_t *node_peer_root(const struct node *n)
{
	return n->has_peer_root ? n->peer_root : NULL;
}

const struct node_config *node_config(const struct node *n)
{
	return &n->config;
}

struct store *node_store(struct node *n)
{
	return n->store;
}

int node_sign(const struct node *n, const char *domain, const uint8_t *msg, size_t len, uint8_t sig[SIG_BYTES])
{
	return n->key ? keypair_sign(n->key, domain, msg, len, sig) : -EPERM;
}

int node_curve_keys(const struct node *n, uint8_t curve_pk[KEY_BYTES], uint8_t curve_sk[KEY_BYTES])
{
	return n->key ? keypair_curve(n->key, curve_pk, curve_sk) : -EPERM;
}
