/* SPDX-License-Identifier: MIT */
/*
 * strata invite: make a one-time join token for a child, peer or auditor.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "node/cli/cli.h"
#include "node/core/node.h"
#include "node/records/records.h"
#include "node/sync/sync.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata invite [-d DIR] --name ORG/PATH [--role child|peer|auditor]\n"
		   "                     [--expires DURATION] [--endpoint tcp://HOST:PORT]\n"
		   "                     [--publish FEEDS] [--receive FEEDS] [--display-name TEXT]\n"
		   "                     [-o FILE] [--json]\n\n"
		   "Prints one line: a join token for the node that will hold ORG/PATH, or with\n"
		   "-o FILE writes it to a new file that only you can read (mode 0600). The token\n"
		   "is a secret until it is used: pass it to that node's operator out of band,\n"
		   "who runs strata join -d DIR --token-file FILE (or strata join -d DIR < FILE)\n"
		   "while this node runs strata serve. The token works for one node key, until\n"
		   "it expires.\n\n"
		   "  --name ORG/PATH     a child's path must be below this node's, e.g. xiamen/huli/hetong;\n"
		   "                      a peer's must lie outside this domain's tree, e.g. xmfy-hospital\n"
		   "  --role ROLE         child (default), peer (another trust domain under an agreement,\n"
		   "                      e.g. a hospital) or auditor (read-only)\n"
		   "  --expires DURATION  how long the token is valid: a number and s, m, h or d,\n"
		   "                      e.g. 30m, 12h, 7d; 1s to 30d (default 7d)\n"
		   "  --endpoint URL      where the new node connects (default: [node] listen)\n"
		   "  --publish FEEDS     feeds the new node may publish, comma-separated\n"
		   "                      (child: default up,report,down,notice,trust,private;\n"
		   "                      peer: report, the default, or nothing; auditor: none)\n"
		   "  --receive FEEDS     peers only: feeds this node shares with it: notice (the\n"
		   "                      default) or nothing. up, report and down carry data about\n"
		   "                      this domain's members, residents and units and are refused.\n"
		   "  --display-name TEXT the unit's name for people, e.g. 湖里区 (at most 64 bytes\n"
		   "                      of printable text): written into its certificate, so the\n"
		   "                      unit, this node and the levels above show it beside the\n"
		   "                      org path (strata status); it stays across key rotations\n"
		   "  -o, --output FILE   write the token to FILE (created, mode 0600) instead\n\n"
		   "A peer agreement: the peer publishes its signed reports to this node, which\n"
		   "shows them beside its own but never adds them to its total or forwards them;\n"
		   "this node sends it notices (its own and those from above it). Both sides show\n"
		   "the agreement and the pinned roots with strata id and strata status.\n");
}

/* Creates the token file before the invitation is recorded, so that a
 * name already taken changes nothing. -1 after printing why. */
static int token_file_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		cli_fail("invite", EXIT_SYSTEM, "cannot create %s: %s%s", path, strerror(errno),
			 errno == EEXIST ? " (a token file is never overwritten: remove it or name another)" : "");
		return -1;
	}
	if (fchmod(fd, 0600) < 0) { /* the umask may have taken bits away, never added */
		cli_fail("invite", EXIT_SYSTEM, "cannot set mode 0600 on %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* Writes the token and a newline to fd and closes it; on failure removes
 * the file. */
static int token_file_write(int fd, const char *path, const char *token)
{
	size_t len = strlen(token), done = 0;
	int saved;

	while (done <= len) {
		ssize_t n = done < len ? write(fd, token + done, len - done) : write(fd, "\n", 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return EXIT_OK;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(path);
	return cli_fail("invite", EXIT_SYSTEM, "cannot write %s: %s", path, strerror(saved));
}

/* Splits "a,b,c" in place into *out (malloc'd array). */
static int split(char *s, char ***out, size_t *n)
{
	size_t cap = 1;

	for (char *p = s; *p; p++)
		cap += *p == ',';
	if (!(*out = calloc(cap, sizeof **out)))
		return -1;
	*n = 0;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
		(*out)[(*n)++] = tok;
	return 0;
}

/* --expires: into io->ttl_ms; EXIT_OK or the usage error's code. */
static int parse_expires(const char *arg, struct sync_invite_opts *io)
{
	char cap[32];
	int ret = duration_parse(arg, SYNC_INVITE_TTL_MIN_MS, SYNC_INVITE_TTL_MAX_MS, &io->ttl_ms);

	duration_format(cap, sizeof cap, SYNC_INVITE_TTL_MAX_MS);
	if (ret == -ERANGE)
		return cli_usage("invite", "--expires \"%s\" is outside 1s to %s: a join token is a secret, "
				 "valid for %s at most", arg, cap, cap);
	if (ret < 0)
		return cli_usage("invite", "--expires \"%s\" is not a duration like 30m, 12h or 7d "
				 "(a number and %s)", arg, DURATION_UNITS);
	return EXIT_OK;
}

/* Prints the token (or where it was written), as JSON or as a line. */
static void print_invitation(const struct sync_invite_opts *io, const char *token, const char *output, bool json)
{
	if (json && output)
		cli_json_print(json_pack("{s:s, s:s, s:s, s:I}", "token_file", output, "name", io->name, "role",
					 cert_role_word(io->role), "expires_ms", (json_int_t)(node_now_ms() + io->ttl_ms)));
	else if (json)
		cli_json_print(json_pack("{s:s, s:s, s:s, s:I}", "token", token, "name", io->name, "role",
					 cert_role_word(io->role), "expires_ms", (json_int_t)(node_now_ms() + io->ttl_ms)));
	else if (output)
		printf(_("wrote the join token for %s to %s (mode 0600)\n"), io->name, output);
	else
		printf("%s\n", token);
}

int cmd_invite_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},     {"name", required_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'},    {"expires", required_argument, NULL, 'x'},
		{"endpoint", required_argument, NULL, 'E'}, {"publish", required_argument, NULL, 'p'},
		{"receive", required_argument, NULL, 'R'}, {"json", no_argument, NULL, 'j'},
		{"output", required_argument, NULL, 'o'},  {"display-name", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct sync_invite_opts io = {.role = STRATA__ROLE__ROLE_CHILD, .ttl_ms = 7ull * 24 * 3600 * 1000};
	struct node *n = NULL;
	struct err e = {0};
	char *token = NULL, *publish = NULL, *receive = NULL, *output = NULL;
	int opt, ret, code, fd = -1;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'n': io.name = optarg; break;
		case 'r':
			if (cert_role_parse(optarg, &io.role, &e) < 0 || io.role == STRATA__ROLE__ROLE_ROOT)
				return cli_usage("invite", "--role must be child, peer or auditor");
			break;
		case 'x':
			if ((code = parse_expires(optarg, &io)) != EXIT_OK)
				return code;
			break;
		case 'E': io.endpoint = optarg; break;
		case 'p': publish = optarg; break;
		case 'R': receive = optarg; break;
		case 'o': output = optarg; break;
		case 'D': io.display_name = optarg; break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("invite", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("invite", "unexpected argument \"%s\"", argv[optind]);
	if (!io.name)
		return cli_usage("invite", "--name ORG/PATH is required");
	if ((publish && split(publish, &io.feeds, &io.n_feeds) < 0) ||
	    (receive && split(receive, &io.receive, &io.n_receive) < 0))
		return cli_fail("invite", EXIT_SYSTEM, "out of memory");
	if (output && (fd = token_file_create(output)) < 0) {
		code = EXIT_SYSTEM;
		goto out;
	}
	if ((ret = node_open(&n, c.dir, NODE_NO_KEY, &e)) < 0 || (ret = sync_invite(n, &io, &token, &e)) < 0) {
		code = cli_fail_err("invite", ret, &e);
		goto out;
	}
	if (output) {
		code = token_file_write(fd, output, token); /* closes fd, and removes the file on failure */
		fd = -1;
		if (code != EXIT_OK)
			goto out;
	}
	print_invitation(&io, token, output, c.json);
	code = EXIT_OK;
out:
	if (fd >= 0) { /* the invitation failed: no token file */
		close(fd);
		unlink(output);
	}
	if (token)
		sodium_memzero(token, strlen(token));
	free(token);
	free(io.feeds);
	free(io.receive);
	node_close(&n);
	return code;
}
