/* SPDX-License-Identifier: MIT */
/*
 * sync_restore: a node whose store is put back from a backup (strata
 * restore) or whose disk is put back from a snapshot is behind what its
 * links hold of its own feeds. It must fetch those entries before it signs
 * again: its next write continues at the right seq, and no equivocation is
 * raised anywhere (issue 11, item 1). On the old code the restored node
 * ignored its own feeds in its parent's Hello ("lag 0"), reused the seq of
 * the entry it had lost, and its feed froze at every level above it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net.h"

TestSuite(sync_restore, .init = net_setup, .fini = net_teardown);

static void add_member(struct net_node *n, const char *id)
{
	net_ok("member", "add", "-d", n->dir, "--id", id, "--name", "郑文君", "--category", "full", "--joined",
	       "2021-07-01", NULL);
}

/* No node holds evidence, none froze a feed, every store verifies. */
static void expect_no_fork(struct net_node **all, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct store_head *h;
		size_t k = net_heads(all[i], &h);
		char out[2048];

		for (size_t j = 0; j < k; j++)
			cr_assert(!(h[j].flags & STORE_FEED_FROZEN), "%s froze feed %s", all[i]->label, h[j].feed);
		cr_assert(!net_log_has(all[i], "ALARM"), "%s raised an alarm:\n%s", all[i]->label, net_diag());
		cr_assert_eq(net_node_verify(all[i], out, sizeof out), 0, "verify %s: %s", all[i]->label, out);
	}
}

/* city <- district <- branch, all serving; the branch has written one member. */
static void tree(struct net_node **city, struct net_node **district, struct net_node **branch)
{
	*city = net_node_init("city", "xiamen", true, true);
	*district = net_node_init("huli", "xiamen/huli", false, true);
	*branch = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	net_node_start(*city);
	net_node_join(*district, *city, NULL);
	net_node_start(*district);
	net_node_join(*branch, *district, NULL);
	net_node_start(*branch);
	add_member(*branch, "JS000001");
	NET_WAIT(NET_DEADLINE_MS, net_head(*city, (*branch)->key, FEED_UP, NULL) == 1,
		 "the branch's up #1 at the city");
}

/* The scenario, with the commands: a live backup, one more entry
 * that reaches the city, the backup put back. The restored branch refuses
 * to write while it cannot ask its links, fetches its own up #2 once it
 * serves, and its next write is up #3 everywhere. */
Test(sync_restore, restored_branch_fetches_its_own_newer_entry)
{
	struct net_node *city, *district, *branch;
	struct net_run r;
	char bak[256];
	struct stat st;

	tree(&city, &district, &branch);
	net_ok("backup", "-d", branch->dir, "-o", net_path(bak, "jinshan.bak"), NULL); /* live */
	cr_assert(stat(bak, &st) == 0 && (st.st_mode & 0777) == 0600, "the backup is not mode 0600");
	net_run(&r, "backup", "-d", branch->dir, "-o", bak, NULL);
	cr_assert_eq(r.status, 2, "a backup overwrote a file: %s", r.err);
	net_run_free(&r);
	add_member(branch, "JS000002");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, branch->key, FEED_UP, NULL) == 2, "the branch's up #2 at the city");

	net_run(&r, "restore", "-d", branch->dir, "-i", bak, NULL);
	cr_assert_eq(r.status, 4, "restore ran under a serving daemon: %s", r.err);
	cr_assert(net_has(r.err, "stop it first"), "%s", r.err);
	net_run_free(&r);
	net_node_stop(branch);
	net_ok("restore", "-d", branch->dir, "-i", bak, NULL);
	cr_assert_eq(net_head(branch, branch->key, FEED_UP, NULL), 1, "the restore did not put up #1 back");

	/* no daemon: nobody to ask, so the write is refused and says why */
	net_run(&r, "member", "add", "-d", branch->dir, "--id", "JS000003", "--name", "陈建国", "--category", "full",
		"--joined", "2021-07-01", NULL);
	cr_assert_eq(r.status, 4, "a fenced write was not refused: %s", r.err);
	cr_assert(net_has(r.err, "put back from a backup") && net_has(r.err, "strata serve"), "%s", r.err);
	net_run_free(&r);
	cr_assert_eq(net_head(branch, branch->key, FEED_UP, NULL), 1, "the refused write changed the store");
	net_run(&r, "status", "-d", branch->dir, NULL);
	cr_assert(r.status == 0 && net_has(r.out, "writes: fenced: its store was put back from a backup"), "%s%s",
		  r.out, r.err);
	net_run_free(&r);

	/* serving: the write waits for the fetch, then continues at #3 */
	net_node_start(branch);
	add_member(branch, "JS000003");
	cr_assert_eq(net_head(branch, branch->key, FEED_UP, NULL), 3, "the write after the restore is not up #3");
	cr_assert_eq(net_count(branch, "member", branch->key), 3, "the branch lost a member");
	cr_assert(json_is_null(json_object_get(net_node_status(branch), "write_fence")), "still fenced after the fetch");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, branch->key, FEED_UP, NULL) == 3, "the branch's up #3 at the city");
	cr_assert_eq(net_head(district, branch->key, FEED_UP, NULL), 3);
	net_stop_all();
	expect_no_fork((struct net_node *[]){city, district, branch}, 3);
}

/* The disk put back from a VM snapshot, without any command: the branch's
 * directory is copied back by hand and the machine booted again (another
 * boot id). Its first write after serve starts waits until the district
 * has told it its heads and it has fetched its up #2. */
Test(sync_restore, snapshot_put_back_after_a_reboot_does_not_fork)
{
	struct net_node *city, *district, *branch;
	struct net_run r;
	char snap[256];

	tree(&city, &district, &branch);
	net_node_stop(branch);
	net_copy_tree(branch->dir, net_path(snap, "jinshan-snapshot"));
	net_node_start(branch);
	add_member(branch, "JS000002");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, branch->key, FEED_UP, NULL) == 2, "the branch's up #2 at the city");
	net_node_stop(branch);
	net_remove_tree(branch->dir);
	net_copy_tree(snap, branch->dir);
	cr_assert_eq(net_head(branch, branch->key, FEED_UP, NULL), 1);

	setenv("STRATA_BOOT_ID", "8d1c0e9a-restored-from-a-snapshot", 1);
	net_run(&r, "member", "add", "-d", branch->dir, "--id", "JS000003", "--name", "陈建国", "--category", "full",
		"--joined", "2021-07-01", NULL); /* before serve: nobody to ask yet */
	cr_assert(r.status == 4 && net_has(r.err, "machine restarted"), "a write after the reboot: %d %s", r.status,
		  r.err);
	net_run_free(&r);
	net_node_start(branch);
	add_member(branch, "JS000003"); /* at once: it waits for the fence */
	unsetenv("STRATA_BOOT_ID");
	cr_assert_eq(net_head(branch, branch->key, FEED_UP, NULL), 3, "the write after the snapshot is not up #3");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, branch->key, FEED_UP, NULL) == 3, "the branch's up #3 at the city");
	cr_assert(net_log_has(branch, "write fence lifted"), "%s", net_diag());
	net_stop_all();
	expect_no_fork((struct net_node *[]){city, district, branch}, 3);
}

/* A backup of the district taken while it catches up with a branch that
 * wrote offline: restored, the district fetches its own entry written after
 * the backup from the city, gets the rest of the branch's entries again,
 * and everything converges with nothing lost. */
Test(sync_restore, backup_during_a_live_catch_up_converges)
{
	struct net_node *city, *district, *branch;
	char csv[256], bak[256];
	uint64_t head;

	tree(&city, &district, &branch);
	net_node_stop(branch);
	net_node_set_ops(branch, 10);
	net_gen_members(net_path(csv, "members.csv"), 10000, "JX", 7);
	net_ok("member", "import", "-d", branch->dir, csv, NULL);
	head = net_head(branch, branch->key, FEED_UP, NULL);
	net_node_start(branch); /* the district catches up... */
	NET_WAIT(NET_DEADLINE_MS, net_head(district, branch->key, FEED_UP, NULL) > 1, "the catch-up to begin");
	net_ok("backup", "-d", district->dir, "-o", net_path(bak, "huli.bak"), NULL); /* ...while this copies */
	add_member(district, "HL000001");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, district->key, FEED_UP, NULL) == 1,
		 "the district's up #1 at the city");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, branch->key, FEED_UP, NULL) == head,
		 "the branch's entries at the city");

	net_node_stop(district);
	net_ok("restore", "-d", district->dir, "-i", bak, NULL);
	cr_assert_eq(net_head(district, district->key, FEED_UP, NULL), 0,
		     "the backup already held the district's entry");
	cr_log_info("the backup held the branch's up feed to #%llu of #%llu",
		    (unsigned long long)net_head(district, branch->key, FEED_UP, NULL), (unsigned long long)head);
	net_node_start(district);
	add_member(district, "HL000002");
	cr_assert_eq(net_head(district, district->key, FEED_UP, NULL), 2, "the district's write after the restore");
	NET_WAIT(NET_DEADLINE_MS, net_head(district, branch->key, FEED_UP, NULL) == head, "the branch's entries again");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, district->key, FEED_UP, NULL) == 2,
		 "the district's up #2 at the city");
	cr_assert_eq(net_count(city, "member", NULL), 10001 + 2);
	cr_assert_eq(net_count(district, "member", NULL), 10001 + 2);
	net_stop_all();
	expect_no_fork((struct net_node *[]){city, district, branch}, 3);
}

/* Restored while its parent is down: a write waits, then is refused (it
 * never forks); once the parent is back, the next write continues. */
Test(sync_restore, restore_then_write_while_the_parent_is_down)
{
	struct net_node *city, *district, *branch;
	struct net_run r;
	char bak[256];

	tree(&city, &district, &branch);
	net_ok("backup", "-d", branch->dir, "-o", net_path(bak, "jinshan.bak"), NULL);
	add_member(branch, "JS000002");
	NET_WAIT(NET_DEADLINE_MS, net_head(district, branch->key, FEED_UP, NULL) == 2,
		 "the branch's up #2 at the district");
	net_node_stop(branch);
	net_node_stop(district);
	net_ok("restore", "-d", branch->dir, "-i", bak, NULL);
	net_node_start(branch);
	setenv("STRATA_FENCE_WAIT", "1", 1);
	net_run(&r, "member", "add", "-d", branch->dir, "--id", "JS000003", "--name", "陈建国", "--category", "full",
		"--joined", "2021-07-01", NULL);
	unsetenv("STRATA_FENCE_WAIT");
	cr_assert_eq(r.status, 4, "a write with the parent down was not refused: %s", r.err);
	cr_assert(net_has(r.err, "signs nothing until"), "%s", r.err);
	net_run_free(&r);
	cr_assert_eq(net_head(branch, branch->key, FEED_UP, NULL), 1);

	net_node_start(district);
	add_member(branch, "JS000003");
	cr_assert_eq(net_head(branch, branch->key, FEED_UP, NULL), 3);
	NET_WAIT(NET_DEADLINE_MS, net_head(city, branch->key, FEED_UP, NULL) == 3, "the branch's up #3 at the city");
	net_stop_all();
	expect_no_fork((struct net_node *[]){city, district, branch}, 3);
}

/* A node that knows it is alone lifts the fence itself. */
Test(sync_restore, fence_lift_is_the_override)
{
	struct net_node *city, *district, *branch;
	char bak[256];
	struct net_run r;

	tree(&city, &district, &branch);
	net_stop_all();
	net_ok("backup", "-d", branch->dir, "-o", net_path(bak, "jinshan.bak"), NULL);
	net_ok("restore", "-d", branch->dir, "-i", bak, NULL);
	net_run(&r, "fence", "-d", branch->dir, "--json", NULL);
	cr_assert(r.status == 0 && net_has(r.out, "\"restored\""), "%s%s", r.out, r.err);
	net_run_free(&r);
	net_ok("fence", "-d", branch->dir, "--lift", NULL);
	add_member(branch, "JS000002");
	cr_assert_eq(net_head(branch, branch->key, FEED_UP, NULL), 2);
	net_run(&r, "restore", "-d", branch->dir, "-i", net_path(bak, "nonexistent.bak"), NULL);
	cr_assert_eq(r.status, 4, "%s", r.err);
	net_run_free(&r);
	net_run(&r, "restore", "-d", branch->dir, "-i", net_path(bak, "city/store/data.mdb"), NULL);
	cr_assert_eq(r.status, 2, "another node's store was restored: %s", r.err);
	cr_assert(net_has(r.err, "not of this node's key"), "%s", r.err);
	net_run_free(&r);
	cr_assert_eq(net_head(branch, branch->key, FEED_UP, NULL), 2, "a refused restore changed the store");
}

#define PHONE "13912345678"
#define PHONE2 "13787654321"

static size_t phone_in(const struct net_node *n)
{
	return net_store_count(n, PHONE);
}

/* Crossing with erase: a backup taken before an erase holds the value; once
 * restored and serving, the branch fetches its own erase request back from
 * the district and erases the value again. The request's contact is in the
 * private feed, which no link holds: its erase is not fetched back, the
 * branch writes it again when the fence is lifted (node/core/erase_owed.c).
 * On the old code the phone number stayed in data.mdb. A contact added
 * after the erase is not the erased one: restarts and fence --lift leave
 * it alone. */
Test(sync_restore, an_erase_after_the_backup_is_applied_again)
{
	struct net_node *city, *district, *branch;
	char bak[256], out[2048];
	struct net_run r;
	uint64_t head;

	tree(&city, &district, &branch);
	net_ok("request", "add", "-d", branch->dir, "--id", "R17", "--title", "leaking roof", "--contact",
	       "Mr Wang " PHONE, "--opened", "2026-11-01", "--status", "open", NULL);
	net_ok("backup", "-d", branch->dir, "-o", net_path(bak, "jinshan.bak"), NULL);
	net_ok("erase", "-d", branch->dir, "--collection", "request", "--key", "R17", "--reason", "the resident asked",
	       NULL);
	head = net_head(branch, branch->key, FEED_UP, NULL);
	cr_assert_eq(net_head(branch, branch->key, FEED_PRIVATE, NULL), 2, "the contact and its erase request");
	NET_WAIT(NET_DEADLINE_MS, net_head(district, branch->key, FEED_UP, NULL) == head, "the erase at the district");
	net_node_stop(branch);
	net_ok("restore", "-d", branch->dir, "-i", bak, NULL);
	cr_assert_gt(phone_in(branch), 0, "the backup does not hold the value: the test cannot fail");
	cr_assert_eq(net_head(branch, branch->key, FEED_PRIVATE, NULL), 1, "the backup holds the contact's erase");
	net_node_start(branch);
	NET_WAIT(NET_DEADLINE_MS, net_head(branch, branch->key, FEED_UP, NULL) == head,
		 "the branch to fetch its erase");
	NET_WAIT(NET_DEADLINE_MS, phone_in(branch) == 0, "the value to be erased again in the restored store");
	NET_WAIT(NET_DEADLINE_MS, net_log_has(branch, "erased again 1 companion"), "the branch to log the erase");
	cr_assert_eq(net_head(branch, branch->key, FEED_PRIVATE, NULL), 2, "the contact's erase written once");
	net_run(&r, "request", "show", "-d", branch->dir, "--id", "R17", NULL);
	cr_assert(!net_has(r.out, PHONE) && !net_has(r.err, PHONE), "%s%s", r.out, r.err);
	net_run_free(&r);

	/* added again with a new contact: not the erased one */
	net_ok("request", "add", "-d", branch->dir, "--id", "R17", "--title", "leaking roof", "--contact",
	       "Ms Li " PHONE2, "--opened", "2026-11-02", "--status", "open", NULL);
	cr_assert_eq(net_head(branch, branch->key, FEED_PRIVATE, NULL), 3);
	net_node_stop(branch);
	net_node_start(branch);
	net_run(&r, "fence", "-d", branch->dir, "--lift", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	{
		json_t *j = net_run_json(&r);

		cr_assert(json_is_integer(json_object_get(j, "companions_erased")), "%s", r.out);
		cr_assert_eq(json_integer_value(json_object_get(j, "companions_erased")), 0, "%s", r.out);
	}
	net_run_free(&r);
	cr_assert_eq(net_head(branch, branch->key, FEED_PRIVATE, NULL), 3,
		     "a contact added after the erase was erased");
	cr_assert_gt(net_store_count(branch, PHONE2), 0, "the new contact is gone");
	net_stop_all();
	cr_assert_eq(net_node_verify(branch, out, sizeof out), 0, "verify: %s", out);
	expect_no_fork((struct net_node *[]){city, district, branch}, 3);
}
