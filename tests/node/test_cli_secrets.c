/* SPDX-License-Identifier: MIT */
/*
 * node_cli_secrets: the files Strata writes that hold secrets or personal
 * data get mode 0600 whatever the umask (strata.conf, a token file, a
 * bundle, a CSV export, the daemon's control socket), a strata.conf that group or others can access is
 * refused with the fix named, and --expires is capped after its unit.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

TestSuite(node_cli_secrets, .init = test_tmp_make, .fini = test_tmp_remove);

static unsigned mode_of(const char *path)
{
	struct stat sb;

	cr_assert_eq(stat(path, &sb), 0, "no %s", path);
	return (unsigned)(sb.st_mode & 07777);
}

/* Issue 12 item 6: strata.conf took its mode from the umask (0666 under
 * umask 000) and was never checked. */
Test(node_cli_secrets, strata_conf_is_0600_under_umask_000_and_a_shared_one_is_refused)
{
	char conf[512], key[512];
	mode_t old = umask(0);
	struct run r;

	run_strata(&r, "init", "-d", test_node, "--name", "xiamen", "--root", "--listen", "tcp://127.0.0.1:17999",
		   NULL);
	umask(old);
	cr_assert_eq(r.status, 0, "init: %s", r.err);
	run_free(&r);
	snprintf(conf, sizeof conf, "%s/strata.conf", test_node);
	snprintf(key, sizeof key, "%s/node.key", test_node);
	cr_assert_eq(mode_of(conf), 0600, "strata.conf has mode %04o under umask 000", mode_of(conf));
	cr_assert_eq(mode_of(key), 0600);

	cr_assert_eq(chmod(conf, 0666), 0);
	run_strata(&r, "id", "-d", test_node, NULL);
	cr_assert_eq(r.status, 2, "a 0666 strata.conf: exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "0666") && has(r.err, "chmod 600") && has(r.err, "strata.conf"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(chmod(conf, 0640), 0);
	run_strata(&r, "member", "list", "-d", test_node, NULL);
	cr_assert_eq(r.status, 2, "a 0640 strata.conf: exit %d: %s", r.status, r.err);
	run_free(&r);
	cr_assert_eq(chmod(conf, 0600), 0);
	run_strata(&r, "id", "-d", test_node, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
}

/* Issue 12 item 7: --expires capped the number, not the duration:
 * 315360000d was about 863,000 years. */
Test(node_cli_secrets, expires_is_capped_after_its_unit)
{
	static const char *ok[] = {"1s", "30m", "12h", "30d", "720h", "43200m", "2592000s"};
	static const char *range[] = {"315360000d", "31d", "721h", "2592001s", "0s", "0d",
				      "99999999999999999999999d"};
	static const char *bad[] = {"", "7", "7x", "-1d", " 7d", "7d ", "7dd", "0x10s", "1.5h"};
	struct run r;

	run_strata(&r, "init", "-d", test_node, "--name", "xiamen", "--root", "--listen", "tcp://127.0.0.1:17999",
		   NULL);
	cr_assert_eq(r.status, 0, "init: %s", r.err);
	run_free(&r);
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		run_strata(&r, "invite", "-d", test_node, "--name", "xiamen/a", "--expires", ok[i], NULL);
		cr_assert_eq(r.status, 0, "--expires %s: exit %d: %s", ok[i], r.status, r.err);
		run_free(&r);
	}
	for (size_t i = 0; i < sizeof range / sizeof range[0]; i++) {
		run_strata(&r, "invite", "-d", test_node, "--name", "xiamen/a", "--expires", range[i], NULL);
		cr_assert_eq(r.status, 1, "--expires %s: exit %d: %s", range[i], r.status, r.out);
		cr_assert(has(r.err, "30d"), "the refusal of %s does not name the cap: %s", range[i], r.err);
		cr_assert_eq(r.out_len, 0, "a token was printed for --expires %s", range[i]);
		run_free(&r);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		run_strata(&r, "invite", "-d", test_node, "--name", "xiamen/a", "--expires", bad[i], NULL);
		cr_assert_eq(r.status, 1, "--expires \"%s\": exit %d", bad[i], r.status);
		cr_assert(has(r.err, "not a duration"), "--expires \"%s\": %s", bad[i], r.err);
		run_free(&r);
	}
	/* the same parser for the numbers of other options */
	run_strata(&r, "join", "-d", test_node, "--timeout", "10abc", NULL);
	cr_assert_eq(r.status, 1, "--timeout 10abc: exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "--timeout"), "%s", r.err);
	run_free(&r);
	run_strata(&r, "rotate-key", "-d", test_node, "--timeout", "3601", NULL);
	cr_assert_eq(r.status, 1, "--timeout 3601: exit %d: %s", r.status, r.err);
	run_free(&r);
}

/* A token file, a bundle and a CSV export are created 0600 under umask
 * 000; a token file is never overwritten. */
Test(node_cli_secrets, token_file_bundle_and_export_are_0600_under_umask_000)
{
	char tok[256], bundle[256], csv[256], text[512];
	mode_t old;
	struct run r;
	FILE *f;
	size_t n;

	run_strata(&r, "init", "-d", test_node, "--name", "xiamen", "--root", "--listen", "tcp://127.0.0.1:17999",
		   NULL);
	cr_assert_eq(r.status, 0, "init: %s", r.err);
	run_free(&r);
	run_strata(&r, "member", "add", "-d", test_node, "--id", "M1", "--name", "陈建国", "--category", "full",
		   "--joined", "2024-06-01", "--phone", "13800000000", NULL);
	cr_assert_eq(r.status, 0, "member add: %s", r.err);
	run_free(&r);
	tmp_path(tok, "huli.token");
	tmp_path(bundle, "city.bundle");
	tmp_path(csv, "dues.csv");
	old = umask(0);
	run_strata(&r, "invite", "-d", test_node, "--name", "xiamen/huli", "-o", tok, NULL);
	cr_assert_eq(r.status, 0, "invite -o: %s", r.err);
	cr_assert(!has(r.out, "strata-join:"), "invite -o printed the token: %s", r.out);
	run_free(&r);
	run_strata(&r, "export", "-d", test_node, "-o", bundle, NULL);
	cr_assert_eq(r.status, 0, "export: %s", r.err);
	run_free(&r);
	run_strata(&r, "dues", "export", "-d", test_node, "-o", csv, NULL);
	cr_assert_eq(r.status, 0, "dues export: %s", r.err);
	run_free(&r);
	run_strata(&r, "invite", "-d", test_node, "--name", "xiamen/huli", "-o", tok, NULL);
	umask(old);
	cr_assert_eq(r.status, 4, "invite -o over an existing file: exit %d", r.status);
	cr_assert(has(r.err, "never overwritten"), "%s", r.err);
	run_free(&r);

	cr_assert_eq(mode_of(tok), 0600, "the token file has mode %04o", mode_of(tok));
	cr_assert_eq(mode_of(bundle), 0600, "the bundle has mode %04o", mode_of(bundle));
	cr_assert_eq(mode_of(csv), 0600, "the CSV export has mode %04o", mode_of(csv));
	cr_assert_not_null(f = fopen(tok, "r"));
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	cr_assert(strncmp(text, "strata-join:", 12) == 0 && n > 100 && text[n - 1] == '\n', "%s", text);
}

/* The daemon's control socket is bound with the umask's mode (0777 under
 * umask 000); it is set to 0600 at once. Polls until it is 0600 or 10 s
 * have passed (a wait for the daemon, not a timed assertion). */
Test(node_cli_secrets, control_socket_is_0600_under_umask_000)
{
	char sock[512];
	struct stat sb;
	mode_t old;
	pid_t pid;
	int st;
	bool ok = false;
	struct run r;

	run_strata(&r, "init", "-d", test_node, "--name", "xiamen", "--root", "--listen", "tcp://127.0.0.1:0", NULL);
	cr_assert_eq(r.status, 0, "init: %s", r.err);
	run_free(&r);
	snprintf(sock, sizeof sock, "%s/control.sock", test_node);
	old = umask(0);
	pid = run_strata_bg("serve", "-d", test_node, NULL);
	umask(old);
	for (int i = 0; i < 1000 && !ok; i++) {
		ok = stat(sock, &sb) == 0 && (sb.st_mode & 0777) == 0600;
		if (!ok)
			usleep(10 * 1000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	cr_assert(ok, "control.sock has mode %04o under umask 000", (unsigned)(sb.st_mode & 0777));
}
