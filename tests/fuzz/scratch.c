/* SPDX-License-Identifier: MIT */
/*
 * The scratch node of the fuzz targets (scratch.h): made once per process
 * with fixed keys, removed at exit so that nothing leaks (LeakSanitizer
 * runs after our atexit handler, which was registered later).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "node/core/node_internal.h"
#include "tests/fuzz/scratch.h"

static struct node *node;
static char dir[256];

static void must(int rc, const struct err *e, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "scratch node: %s: %s\n", what, e->msg);
		abort();
	}
}

struct keypair *scratch_keypair(enum scratch_key k)
{
	uint8_t seed[SEED_BYTES];
	struct keypair *kp = NULL;
	struct err e = {{0}};

	memset(seed, (int)k, sizeof seed);
	must(keys_init(), &e, "libsodium");
	must(keypair_from_seed(&kp, seed, &e), &e, "key");
	return kp;
}

void scratch_public(enum scratch_key k, uint8_t out[KEY_BYTES])
{
	struct keypair *kp = scratch_keypair(k);

	memcpy(out, keypair_public(kp), KEY_BYTES);
	keypair_destroy(&kp);
}

void scratch_invite_curve(uint8_t out[KEY_BYTES])
{
	uint8_t seed[SEED_BYTES], sk[KEY_BYTES];

	memset(seed, SCRATCH_INVITE, sizeof seed);
	crypto_box_seed_keypair(out, sk, seed);
	sodium_memzero(sk, sizeof sk);
}

static void rm_tree(const char *path)
{
	DIR *dp = opendir(path);
	struct dirent *de;

	if (dp) {
		while ((de = readdir(dp))) {
			char sub[512];

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
			rm_tree(sub);
		}
		closedir(dp);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static void scratch_cleanup(void)
{
	node_close(&node);
	if (dir[0])
		rm_tree(dir);
}

static void put_cert(struct node_writer *w, enum scratch_key k, const char *name, Strata__Role role, char **feeds,
		     size_t n_feeds, char **receive, size_t n_receive)
{
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	uint8_t key[KEY_BYTES], buf[512];
	struct err e = {{0}};

	scratch_public(k, key);
	c.subject = (ProtobufCBinaryData){KEY_BYTES, key};
	c.name = (char *)name;
	c.role = role;
	c.feeds = feeds;
	c.n_feeds = n_feeds;
	c.receive = receive;
	c.n_receive = n_receive;
	c.issued_ms = 1600000000000ull;
	must(node_writer_put(w, "cert", key, KEY_BYTES, buf, strata__certificate__pack(&c, buf), &e), &e, "cert");
}

struct node *scratch_node(void)
{
	static char *all[] = {"up", "report", "down", "trust"}, *report[] = {"report"}, *notice[] = {"notice"};
	char path[512], store_dir[512];
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	struct keypair *kp;
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct node_writer *w = NULL;
	struct err e = {{0}};

	if (node)
		return node;
	if (dir[0]) {
		must(node_open(&node, dir, 0, &e), &e, "open again");
		return node;
	}
	snprintf(dir, sizeof dir, "%s/strata-fuzz-XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror(dir);
		abort();
	}
	atexit(scratch_cleanup);
	/* node_create's steps, with a fixed key instead of a random one */
	kp = scratch_keypair(SCRATCH_ROOT);
	snprintf(path, sizeof path, "%s/%s", dir, NODE_KEY_FILE);
	must(keypair_save(kp, path, &e), &e, "key file");
	snprintf(store_dir, sizeof store_dir, "%s/%s", dir, NODE_STORE_DIR);
	if (mkdir(store_dir, 0700) < 0)
		abort();
	must(store_open(&s, store_dir, STORE_CREATE, &e), &e, "store");
	must(store_txn_begin(s, true, &t, &e), &e, "txn");
	must(store_meta_put(t, "self", keypair_public(kp), KEY_BYTES, &e), &e, "meta");
	must(store_meta_put(t, "name", (const uint8_t *)SCRATCH_ROOT_NAME, strlen(SCRATCH_ROOT_NAME), &e), &e, "meta");
	must(store_meta_put(t, "root", keypair_public(kp), KEY_BYTES, &e), &e, "meta");
	must(store_txn_commit(&t, &e), &e, "commit");
	store_close(&s);
	keypair_destroy(&kp);
	must(node_config_write(dir, "tcp://127.0.0.1:7400", NULL, &e), &e, "config");
	must(node_open(&node, dir, 0, &e), &e, "open");

	/* the root's own certificate, a child's and a peer's */
	must(node_writer_begin(node, FEED_TRUST, &w, &e), &e, "writer");
	put_cert(w, SCRATCH_ROOT, SCRATCH_ROOT_NAME, STRATA__ROLE__ROLE_ROOT, all, 4, NULL, 0);
	put_cert(w, SCRATCH_CHILD, SCRATCH_CHILD_NAME, STRATA__ROLE__ROLE_CHILD, all, 4, NULL, 0);
	put_cert(w, SCRATCH_ROTATOR, SCRATCH_ROTATOR_NAME, STRATA__ROLE__ROLE_CHILD, all, 4, NULL, 0);
	put_cert(w, SCRATCH_PEER, SCRATCH_PEER_NAME, STRATA__ROLE__ROLE_PEER, report, 1, notice, 1);
	must(node_writer_commit(&w, NULL, NULL, &e), &e, "trust entry");

	/* an unused invitation for r/j, as sync_invite records one */
	{
		Strata__Invite inv = STRATA__INVITE__INIT;
		uint8_t curve[KEY_BYTES], buf[256];

		scratch_invite_curve(curve);
		inv.name = SCRATCH_JOINER_NAME;
		inv.role = STRATA__ROLE__ROLE_CHILD;
		inv.expires_ms = 4102444800000ull; /* 2100 */
		inv.feeds = all;
		inv.n_feeds = 4;
		must(store_txn_begin(node_store(node), true, &t, &e), &e, "txn");
		must(store_index_put(t, "invite", curve, KEY_BYTES, buf, strata__invite__pack(&inv, buf), &e), &e,
		     "invite");
		must(store_txn_commit(&t, &e), &e, "commit");
	}
	return node;
}

void scratch_close(void)
{
	node_close(&node);
}

const char *scratch_dir(void)
{
	return dir;
}
