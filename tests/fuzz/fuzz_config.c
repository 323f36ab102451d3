/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for strata.conf: the bytes are the file, read with
 * node_config_load (inih and our handler). What loads must hold values in
 * range; what is refused must say why. A file that loads without a parent
 * then takes the [parent] section strata join appends, and must load again
 * with exactly that parent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/core/node_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static char dir[256];
static char path[300];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void check_loaded(const struct node_config *c)
{
	if (strnlen(c->listen, sizeof c->listen) == sizeof c->listen ||
	    strnlen(c->parent_endpoint, sizeof c->parent_endpoint) == sizeof c->parent_endpoint)
		abort();
	if (c->up_depth > 64 || c->ops_per_changeset < 1 || c->ops_per_changeset > 10000 ||
	    c->report_deadline_day < 1 || c->report_deadline_day > 28)
		abort();
	if (c->has_parent && strncmp(c->parent_endpoint, "tcp://", 6) != 0)
		abort();
	if (c->level != NODE_LEVEL_NONE && !node_profile_get(c->level)) /* [node] level: a known one or none */
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const uint8_t key[KEY_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	struct node_config c;
	struct err e = {{0}};
	FILE *f;

	if (!dir[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

		snprintf(dir, sizeof dir, "%s/strata-fuzz-XXXXXX", base);
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof path, "%s/%s", dir, NODE_CONF_FILE);
		atexit(cleanup);
	}
	if (!(f = fopen(path, "wb")) || (n && fwrite(d, 1, n, f) != n) || fclose(f) != 0 ||
	    chmod(path, 0600) != 0) /* strata.conf is refused unless only its owner can access it */
		abort();
	if (node_config_load(&c, dir, &e) < 0) {
		if (!e.msg[0])
			abort(); /* every refusal has a reason */
		return 0;
	}
	check_loaded(&c);
	if (c.has_parent)
		return 0;
	memset(&e, 0, sizeof e);
	if (node_config_set_parent(dir, "tcp://127.0.0.1:7400", key, true, &e) < 0 ||
	    node_config_load(&c, dir, &e) < 0) {
		fprintf(stderr, "fuzz_config: a loadable file without a parent does not take one: %s\n", e.msg);
		abort();
	}
	check_loaded(&c);
	if (!c.has_parent || !c.parent_is_peer || strcmp(c.parent_endpoint, "tcp://127.0.0.1:7400") != 0 ||
	    memcmp(c.parent_key, key, KEY_BYTES) != 0)
		abort();
	return 0;
}
