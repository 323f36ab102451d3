/* SPDX-License-Identifier: MIT */
/*
 * strata.conf: the node's operational settings, INI read with inih (Debian's
 * libinih: a small, well-kept parser, so we do not write one). An unknown
 * section or key is an error naming its line: a typo must not silently
 * leave a setting at its default.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "node/core/node_internal.h"

struct conf_state {
	struct node_config *c;
	struct err *e;
};

static int on_key(void *arg, const char *section, const char *key, const char *value)
{
	struct conf_state *st = arg;
	char *end;

	if (strcmp(section, "node") == 0 && strcmp(key, "listen") == 0) {
		if (strlen(value) >= sizeof st->c->listen) {
			err_set(st->e, "listen endpoint is too long");
			return 0;
		}
		strcpy(st->c->listen, value);
		return 1;
	}
	if (strcmp(section, "write") == 0 && strcmp(key, "ops_per_changeset") == 0) {
		unsigned long v = strtoul(value, &end, 10);

		if (*value == '\0' || *end || v < 1 || v > 10000) {
			err_set(st->e, "ops_per_changeset must be a number from 1 to 10000, not \"%s\"", value);
			return 0;
		}
		st->c->ops_per_changeset = (unsigned)v;
		return 1;
	}
	err_set(st->e, "unknown setting [%s] %s", section, key);
	return 0;
}

int node_config_load(struct node_config *c, const char *dir, struct err *e)
{
	char path[4096];
	struct conf_state st = {.c = c, .e = e};
	FILE *f;
	int rc;

	memset(c, 0, sizeof *c);
	c->ops_per_changeset = NODE_OPS_PER_CHANGESET;
	snprintf(path, sizeof path, "%s/%s", dir, NODE_CONF_FILE);
	if (!(f = fopen(path, "r"))) {
		if (errno == ENOENT)
			return 0; /* every setting at its default */
		err_set(e, "cannot read %s: %s", path, strerror(errno));
		return -EIO;
	}
	rc = ini_parse_file(f, on_key, &st);
	fclose(f);
	if (rc > 0) {
		if (e && e->msg[0])
			err_prefix(e, "%s:%d", path, rc); /* the handler said what */
		else
			err_set(e, "%s:%d: not an INI line", path, rc);
		return -EINVAL;
	}
	if (rc < 0) {
		err_set(e, "cannot read %s", path);
		return -EIO;
	}
	return 0;
}

int node_config_write(const char *dir, const char *listen, struct err *e)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, NODE_CONF_FILE);
	if (!(f = fopen(path, "wx"))) {
		err_set(e, "cannot create %s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f,
		"# Strata node settings (INI). See docs/OPERATIONS.md.\n"
		"[node]\n"
		"%slisten = %s\n"
		"\n"
		"[write]\n"
		"# ops in one change set of a bulk write (1..10000)\n"
		"ops_per_changeset = %d\n",
		listen && *listen ? "" : "# where children and peers connect, e.g. tcp://0.0.0.0:7400\n# ",
		listen && *listen ? listen : "tcp://127.0.0.1:7400", NODE_OPS_PER_CHANGESET);
	if (fclose(f) != 0) {
		err_set(e, "cannot write %s: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}
