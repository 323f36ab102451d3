/* SPDX-License-Identifier: MIT */
/*
 * faults_diskfull: a node on a small tmpfs (8 MiB) fills it. Writes from the
 * CLI fail with an error that says the disk is full, whole change sets
 * only; the store stays readable, verifiable and auditable; once space
 * returns the same write succeeds without duplicates. A serving node whose
 * disk is full refuses a replicated batch with the same clear reason, the
 * sender keeps its entries, and the catch-up completes once space returns.
 * A full LMDB map (at its ceiling, [store] map_max) must behave the same way.
 *
 * The tmpfs is mounted in a mount namespace of the test's own process
 * (Criterion runs each test in a child), so nothing shows on the host; the
 * daemons and CLI runs it starts inherit it. Without the right to mount
 * (not root, a container without CAP_SYS_ADMIN) the tests are skipped with
 * the reason.
 */
#define _GNU_SOURCE /* unshare */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fault.h"

static char mounted[4][256];
static size_t nmounted;

static void teardown(void)
{
	/* lazily: a daemon still running keeps it busy until net_teardown
	 * kills it */
	for (size_t i = 0; i < nmounted; i++)
		umount2(mounted[i], MNT_DETACH);
	nmounted = 0;
	net_teardown();
}

TestSuite(faults_diskfull, .init = net_setup, .fini = teardown);

#define TMPFS_SIZE "8m"

/* Mounts a tmpfs of TMPFS_SIZE at net_tmp/label, in a mount namespace of
 * this process; skips the test if that is not allowed here. */
static void mount_small_disk(const char *label)
{
	static bool unshared;
	char dir[256];

	if (!unshared) {
		if (unshare(CLONE_NEWNS) < 0)
			cr_skip_test("cannot make a mount namespace (unshare: %s); run as root with CAP_SYS_ADMIN to "
				     "test a full disk",
				     strerror(errno));
		/* our mounts must not propagate to the host's namespace */
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			cr_skip_test("cannot make mounts private (%s); not testing a full disk", strerror(errno));
		unshared = true;
	}
	net_path(dir, label);
	cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s: %s", dir, strerror(errno));
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=" TMPFS_SIZE ",mode=0700") < 0)
		cr_skip_test("cannot mount a tmpfs (%s); run as root to test a full disk", strerror(errno));
	snprintf(mounted[nmounted++], sizeof mounted[0], "%s", dir);
}

static unsigned long long avail(const char *dir)
{
	struct statvfs sv;

	cr_assert_eq(statvfs(dir, &sv), 0, "statvfs %s: %s", dir, strerror(errno));
	return (unsigned long long)sv.f_bavail * sv.f_frsize;
}

/* Writes DIR/name until at most leave bytes are free (0: until the disk
 * refuses a byte more). */
static void fill(const char *dir, const char *name, unsigned long long leave)
{
	static char block[65536];
	char path[512];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	memset(block, 0xa5, sizeof block);
	for (;;) {
		unsigned long long a = avail(dir);
		size_t want = sizeof block;
		ssize_t n;

		if (leave && a <= leave)
			break;
		if (leave && a - leave < want)
			want = (size_t)(a - leave);
		if ((n = write(fd, block, want)) <= 0) {
			cr_assert(leave == 0 && errno == ENOSPC, "filling %s: %s", path, strerror(errno));
			break;
		}
	}
	close(fd);
}

static void unfill(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	cr_assert_eq(unlink(path), 0, "rm %s: %s", path, strerror(errno));
}

static void assert_readable(struct fault_net *net, struct net_node *n, size_t members)
{
	struct net_run r;

	cr_assert_eq(net_count(n, "member", n->key), members);
	net_run(&r, "member", "list", "-d", n->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "member list on a full disk: exit %d: %s", r.status, r.err);
	cr_assert_eq(json_array_size(net_run_json(&r)), members);
	net_run_free(&r);
	fault_verify_all(net);
	fault_audit_all(net);
}

/* One import that the disk (or map) stops part-way: it must commit whole
 * change sets only, say why, and finish when run again after space returns.
 * fs: what is full, for messages. */
static void import_until_full(struct fault_net *net, struct net_node *n, const char *csv, size_t members_before,
			      size_t csv_members, const char *expect, const char *fs)
{
	uint64_t head = net_head(n, n->key, "up", NULL);
	struct net_run r;

	net_run(&r, "member", "import", "-d", n->dir, csv, NULL);
	cr_assert_eq(r.status, 4, "an import onto a full %s: exit %d (want 4)\n%s%s", fs, r.status, r.out, r.err);
	cr_assert(net_has(r.err, expect), "the import's error does not say the %s is full (\"%s\"): %s", fs, expect,
		  r.err);
	cr_assert(net_has(r.err, "run the same import again"), "%s", r.err);
	cr_log_info("import onto a full %s: %s", fs, r.err);
	net_run_free(&r);
	/* whole change sets of 100 members, nothing half-applied */
	cr_assert_eq(net_count(n, "member", n->key) - members_before, 100 * (net_head(n, n->key, "up", NULL) - head),
		     "members and change sets disagree after a full %s", fs);
	cr_assert_lt(net_count(n, "member", n->key), members_before + csv_members, "the %s never filled", fs);
	fault_verify_all(net);
}

Test(faults_diskfull, cli_writes_on_a_full_disk_fail_cleanly_and_resume)
{
	struct net_node *n;
	struct fault_net net;
	char a[256], b[256], c[256];
	size_t members;

	mount_small_disk("hetong");
	n = net_node_init("hetong", "xiamen", true, false);
	net = (struct fault_net){.node = {n}, .parent = {-1}, .n = 1};
	net_node_set_ops(n, 100);
	net_gen_members(net_path(a, "a.csv"), 2000, "HA", 1);
	net_gen_members(net_path(b, "b.csv"), 3000, "HB", 2);
	net_gen_members(net_path(c, "c.csv"), 3000, "HC", 3);
	net_ok("member", "import", "-d", n->dir, a, NULL);

	/* The filesystem: 300 KiB left, then an import that needs more. */
	fill(n->dir, "filler", 300 << 10);
	import_until_full(&net, n, b, 2000, 3000, "the disk holding the store is full", "disk");
	/* Then not a byte left: running the same import again fails the same
	 * clean way (LMDB may still find room for a few change sets in pages
	 * the file already has), with nothing twice. */
	fill(n->dir, "filler2", 0);
	import_until_full(&net, n, b, net_count(n, "member", n->key), 3000 - (net_count(n, "member", n->key) - 2000),
			  "the disk holding the store is full", "disk");
	members = net_count(n, "member", n->key);
	assert_readable(&net, n, members);

	/* Space returns: the same commands finish, nothing twice. */
	unfill(n->dir, "filler2");
	unfill(n->dir, "filler");
	net_ok("member", "import", "-d", n->dir, b, NULL);
	net_ok("member", "add", "-d", n->dir, "--id", "HT999999", "--name", "郑文君", "--category", "full",
	       "--joined", "1950-07-01", NULL);
	members = 2000 + 3000 + 1;
	cr_assert_eq(net_count(n, "member", n->key), members);

	/* The LMDB map: the same story with its ceiling below what the import
	 * needs (LMDB takes at least the pages already used); raised to 0 (as
	 * the disk allows), the map grows and the import goes through. */
	net_node_set_map_max(n, "64K");
	import_until_full(&net, n, c, members, 3000, "map_max", "map");
	net_node_set_map_max(n, "0");
	net_ok("member", "import", "-d", n->dir, c, NULL);
	assert_readable(&net, n, members + 3000);
}

static bool says_disk_full(const char *s)
{
	return net_has(s, "disk") && net_has(s, "full");
}

static bool log_count_ge(const struct net_node *n, const char *needle, size_t want)
{
	char *s = net_read_file(n->log);
	size_t count = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		count++;
	free(s);
	return count >= want;
}

static size_t log_count(const struct net_node *n, const char *needle)
{
	char *s = net_read_file(n->log);
	size_t count = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		count++;
	free(s);
	return count;
}

static const char *parent_error(const struct net_node *n)
{
	json_t *st = net_node_status(n);
	const char *e = json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(st, "daemon"), "links"), 0), "last_error"));

	return net_own(strdup(e ? e : ""), free);
}

Test(faults_diskfull, serving_node_on_a_full_disk_refuses_then_catches_up)
{
	struct net_node *city, *district, *street;
	struct fault_net net;
	char csv[256];
	uint64_t head, held;
	size_t refusals;

	mount_small_disk("huli");
	city = net_node_init("city", "xiamen", true, true);
	district = net_node_init("huli", "xiamen/huli", false, true);
	street = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	net = (struct fault_net){.node = {city, district, street}, .parent = {-1, 0, 1}, .n = 3};
	net_node_start(city);
	net_node_join(district, city, NULL);
	net_node_start(district);
	net_node_join(street, district, NULL);
	net_node_set_ops(street, 100);
	net_node_start(street);
	net_ok("member", "add", "-d", street->dir, "--id", "JA000001", "--name", "郑文君", "--category", "full",
	       "--joined", "1950-07-01", NULL);
	fault_wait_converged(&net, NET_DEADLINE_MS);

	/* The district's disk fills; the street writes on. */
	fill(district->dir, "filler", 0);
	held = net_head(district, street->key, "up", NULL);
	net_gen_members(net_path(csv, "members.csv"), 3000, "JS", 5);
	net_ok("member", "import", "-d", street->dir, csv, NULL);
	head = net_head(street, street->key, "up", NULL);
	cr_assert_eq(head, held + 30);
	NET_WAIT(NET_DEADLINE_MS, log_count_ge(district, "not stored", 1), "the district to refuse a batch");
	cr_assert(net_log_has(district, "the disk holding the store is full"), "the district's log does not say why:\n%s",
		  net_diag());
	NET_WAIT(NET_DEADLINE_MS, says_disk_full(parent_error(street)),
		 "the street to be told the district's disk is full (last error: %s)", parent_error(street));
	/* a full disk is no reason to spin: a few refusals, not thousands */
	refusals = log_count(district, "not stored");
	net_sleep_ms(3000);
	refusals = log_count(district, "not stored") - refusals;
	cr_assert_leq(refusals, 10, "the district refused %zu batches in 3 s: the street resends without pause",
		      refusals);
	cr_assert_eq(net_head(district, street->key, "up", NULL), held, "half a batch stored on a full disk");
	cr_assert_eq(net_head(street, street->key, "up", NULL), head, "the sender lost entries");
	cr_assert_eq(net_node_verify(district, NULL, 0), 0, "the district's store does not verify on a full disk");

	/* Space returns: the catch-up completes by itself. */
	unfill(district->dir, "filler");
	fault_wait_converged(&net, 2 * NET_DEADLINE_MS);
	cr_assert_eq(net_count(city, "member", street->key), 3001);

	/* A full LMDB map must look the same to the sender: refused with the
	 * reason, a pause, the catch-up once the map is larger. */
	net_node_stop(district);
	net_node_set_map_max(district, "64K"); /* LMDB keeps the pages in use, no more */
	net_node_start(district);
	net_gen_members(net_path(csv, "more.csv"), 3000, "JM", 6);
	net_ok("member", "import", "-d", street->dir, csv, NULL);
	head = net_head(street, street->key, "up", NULL);
	NET_WAIT(NET_DEADLINE_MS, net_has(parent_error(street), "map_max"),
		 "the street to be told the district's map is full (last error: %s)", parent_error(street));
	refusals = log_count(district, "not stored");
	net_sleep_ms(3000);
	refusals = log_count(district, "not stored") - refusals;
	cr_assert_leq(refusals, 10, "the district refused %zu batches in 3 s with a full map", refusals);
	cr_assert_lt(net_head(district, street->key, "up", NULL), head, "the map never filled");
	cr_assert_eq(net_node_verify(district, NULL, 0), 0, "the district's store does not verify with a full map");
	net_node_stop(district);
	net_node_set_map_max(district, "0");
	net_node_start(district);
	fault_wait_converged(&net, 2 * NET_DEADLINE_MS);
	cr_assert_eq(net_count(city, "member", street->key), 6001);
	net_stop_all();
	fault_verify_all(&net);
	fault_audit_all(&net);
}
