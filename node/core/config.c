/* SPDX-License-Identifier: MIT */
/*
 * strata.conf: the node's operational settings, INI read with inih (Debian's
 * libinih: a small, well-kept parser, so we do not write one). An unknown
 * section or key is an error naming its line: a typo must not silently
 * leave a setting at its default.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "node/core/node_internal.h"
#include "node/records/numbers.h"

struct conf_state {
	struct node_config *c;
	struct err *e;
	bool parent_key_seen, parent_endpoint_seen;
	bool up_depth_set, contact_levels_set; /* else the level's profile gives them */
	FILE *f;
	int lineno;   /* lines read so far, counted as inih counts them */
	int err_line; /* the line of the first setting refused, 0 if none */
};

/* fgets for inih, counting its lines: inih goes on after an error and
 * returns the line of the first one, which may be a line that is no INI at
 * all before the setting our handler refused; the count tells which. */
static char *read_line(char *str, int num, void *arg)
{
	struct conf_state *st = arg;
	char *r = fgets(str, num, st->f);

	if (r)
		st->lineno++;
	return r;
}

static int check_key(struct conf_state *st, const char *section, const char *key, const char *value);

static int on_key(void *arg, const char *section, const char *key, const char *value)
{
	struct conf_state *st = arg;
	int ok = check_key(st, section, key, value);

	if (!ok && !st->err_line)
		st->err_line = st->lineno;
	return ok;
}

/* --- the settings: one handler each, found by (section, key) --- */

/* A number setting: its range and where it goes. */
struct num_setting {
	const char *name, *range; /* "up_depth", "a number from 0 (no limit) to 64" */
	uint64_t min, max;
	size_t offset; /* of the unsigned in struct node_config */
};

static const struct num_setting num_settings[] = {
	{"up_depth", "a number from 0 (no limit) to 64", 0, 64, offsetof(struct node_config, up_depth)},
	{"contact_levels", "a number from 0 (stays at its author) to 64", 0, 64,
	 offsetof(struct node_config, contact_levels)},
	{"deadline_day", "a day from 1 to 28", 1, 28, offsetof(struct node_config, report_deadline_day)},
	{"ops_per_changeset", "a number from 1 to 10000", 1, 10000, offsetof(struct node_config, ops_per_changeset)},
};

static int set_num(struct conf_state *st, const char *key, const char *value)
{
	for (size_t i = 0; i < sizeof num_settings / sizeof num_settings[0]; i++) {
		const struct num_setting *n = &num_settings[i];
		uint64_t v;

		if (strcmp(n->name, key) != 0)
			continue;
		if (num_parse(value, n->min, n->max, &v) < 0) {
			err_set(st->e, "%s must be %s, not \"%s\"", n->name, n->range, value);
			return 0;
		}
		*(unsigned *)((char *)st->c + n->offset) = (unsigned)v;
		st->up_depth_set |= n->offset == offsetof(struct node_config, up_depth);
		st->contact_levels_set |= n->offset == offsetof(struct node_config, contact_levels);
		return 1;
	}
	return 0; /* not reached: the table below names only these keys */
}

/* A setting that is one of two words; *out is true for the second. */
static int set_choice(struct conf_state *st, const char *what, const char *value, const char *no, const char *yes,
		      bool *out)
{
	if (strcmp(value, no) != 0 && strcmp(value, yes) != 0) {
		err_set(st->e, "%s must be %s or %s, not \"%s\"", what, no, yes, value);
		return 0;
	}
	*out = strcmp(value, yes) == 0;
	return 1;
}

static int set_listen(struct conf_state *st, const char *key, const char *value)
{
	(void)key;
	if (strlen(value) >= sizeof st->c->listen) {
		err_set(st->e, "listen endpoint is too long");
		return 0;
	}
	strcpy(st->c->listen, value);
	return 1;
}

static int set_level(struct conf_state *st, const char *key, const char *value)
{
	const struct node_profile *p = node_profile_find(value);

	(void)key;
	if (!p) {
		err_set(st->e, "level must be %s, not \"%s\"", NODE_LEVEL_WORDS, value);
		return 0;
	}
	st->c->level = p->level;
	return 1;
}

static int set_parent_endpoint(struct conf_state *st, const char *key, const char *value)
{
	(void)key;
	if (strlen(value) >= sizeof st->c->parent_endpoint || strncmp(value, "tcp://", 6) != 0) {
		err_set(st->e, "parent endpoint \"%s\" must be tcp://HOST:PORT", value);
		return 0;
	}
	strcpy(st->c->parent_endpoint, value);
	st->c->has_parent = st->parent_key_seen;
	st->parent_endpoint_seen = true;
	return 1;
}

static int set_parent_key(struct conf_state *st, const char *key, const char *value)
{
	(void)key;
	if (hex_decode(st->c->parent_key, KEY_BYTES, value) < 0) {
		err_set(st->e, "parent key must be 64 hex characters");
		return 0;
	}
	st->parent_key_seen = true;
	st->c->has_parent = st->parent_endpoint_seen;
	return 1;
}

static int set_parent_role(struct conf_state *st, const char *key, const char *value)
{
	(void)key;
	return set_choice(st, "parent role", value, "child", "peer", &st->c->parent_is_peer);
}

static int set_transfer_approve(struct conf_state *st, const char *key, const char *value)
{
	(void)key;
	return set_choice(st, "transfer approve", value, "auto", "manual", &st->c->transfer_manual);
}

static int set_compress(struct conf_state *st, const char *key, const char *value)
{
	(void)key;
	if (strcmp(value, "auto") == 0) {
		st->c->compress = NODE_COMPRESS_AUTO;
	} else if (strcmp(value, "zstd") == 0) {
		st->c->compress = NODE_COMPRESS_ZSTD;
	} else if (strcmp(value, "none") == 0) {
		st->c->compress = NODE_COMPRESS_NONE;
	} else {
		err_set(st->e, "sync compress must be auto, zstd or none, not \"%s\"", value);
		return 0;
	}
	return 1;
}

#define CONF_SIZE_MIN ((uint64_t)64 << 10) /* [store] sizes: a few LMDB pages at least */
#define CONF_SIZE_MAX ((uint64_t)1 << 50) /* 1024T */

/* [store] map_size and map_max: bytes, or a number with K, M, G or T
 * (powers of 1024); map_max may be 0 (the free disk decides). */
static int set_store_size(struct conf_state *st, const char *key, const char *value)
{
	static const char units[] = "KMGT";
	bool is_max = strcmp(key, "map_max") == 0;
	char *end = NULL;
	uint64_t v;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (end != value && *end && !end[1] && strchr(units, toupper((unsigned char)*end))) {
		unsigned shift = 10 * (unsigned)(strchr(units, toupper((unsigned char)*end)) - units + 1);
		v = v > (CONF_SIZE_MAX >> shift) ? CONF_SIZE_MAX + 1 : v << shift;
		end++;
	}
	if (errno || end == value || *end || value[0] == '-' || v > CONF_SIZE_MAX ||
	    (v < CONF_SIZE_MIN && !(is_max && v == 0))) {
		err_set(st->e, "[store] %s must be a size in bytes or with K, M, G or T (powers of 1024), from 64K to "
			       "1024T%s, not \"%s\"",
			key, is_max ? ", or 0 (as the free disk allows)" : "", value);
		return 0;
	}
	*(is_max ? &st->c->map_max : &st->c->map_size) = v;
	return 1;
}

/* Every setting strata.conf may hold (docs/OPERATIONS.md lists them). */
static const struct setting {
	const char *section, *key;
	int (*set)(struct conf_state *st, const char *key, const char *value);
} settings[] = {
	{"node", "listen", set_listen},
	{"node", "level", set_level},
	{"node", "up_depth", set_num},
	{"privacy", "contact_levels", set_num},
	{"parent", "endpoint", set_parent_endpoint},
	{"parent", "key", set_parent_key},
	{"parent", "role", set_parent_role},
	{"report", "deadline_day", set_num},
	{"transfer", "approve", set_transfer_approve},
	{"write", "ops_per_changeset", set_num},
	{"sync", "compress", set_compress},
	{"store", "map_size", set_store_size},
	{"store", "map_max", set_store_size},
};

static int check_key(struct conf_state *st, const char *section, const char *key, const char *value)
{
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
		if (strcmp(settings[i].section, section) == 0 && strcmp(settings[i].key, key) == 0)
			return settings[i].set(st, key, value);
	err_set(st->e, "unknown setting [%s] %s", section, key);
	return 0;
}

/* Opens strata.conf for reading and checks it as node.key is checked: a
 * regular file that group and others can neither read nor write, since it
 * names the parent (endpoint and key) that this node trusts. 1 and *f
 * open, 0 if there is no file, or a negative errno with the reason. */
int node_config_open(const char *path, FILE **f, struct err *e)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), ret;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0; /* every setting at its default */
		ret = errno == EACCES ? -EACCES : -EIO;
		err_set(e, "cannot read %s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(e, "%s is not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		err_set(e, "%s has mode %04o: group or others can access it, and it names the parent this node "
			   "trusts; run chmod 600 %s",
			path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -EPERM;
	}
	if (!(*f = fdopen(fd, "r"))) {
		err_set(e, "cannot read %s: %s", path, strerror(errno));
		close(fd);
		return -EIO;
	}
	return 1;
}

int node_config_load(struct node_config *c, const char *dir, struct err *e)
{
	char path[PATH_MAX];
	struct conf_state st = {.c = c, .e = e};
	FILE *f;
	int rc;

	memset(c, 0, sizeof *c);
	c->ops_per_changeset = NODE_OPS_PER_CHANGESET;
	c->report_deadline_day = 5;
	snprintf(path, sizeof path, "%s/%s", dir, NODE_CONF_FILE);
	if ((rc = node_config_open(path, &f, e)) <= 0)
		return rc;
	st.f = f;
	rc = ini_parse_stream(read_line, &st, on_key, &st);
	fclose(f);
	if (rc > 0) {
		if (st.err_line == rc) {
			err_prefix(e, "%s:%d", path, rc); /* the handler said what */
		} else { /* the first error is no INI line; a refused setting may follow */
			if (e)
				e->msg[0] = '\0';
			err_set(e, "%s:%d: not an INI line", path, rc);
		}
		return -EINVAL;
	}
	if (rc < 0) {
		err_set(e, "cannot read %s", path);
		return -EIO;
	}
	node_profile_apply(c, st.up_depth_set, st.contact_levels_set);
	if (c->map_max && c->map_size > c->map_max) {
		err_set(e, "%s: [store] map_size (%llu bytes) is above map_max (%llu bytes)", path,
			(unsigned long long)c->map_size, (unsigned long long)c->map_max);
		return -EINVAL;
	}
	return 0;
}
