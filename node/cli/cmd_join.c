/* SPDX-License-Identifier: MIT */
/*
 * strata join: enroll this node with its parent, using the parent's token.
 * The token is a secret until it is used: it is read from standard input,
 * a file only its owner can read, or $STRATA_JOIN_TOKEN, never from the
 * command line (node/sync/token.c says why).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/cli/cli.h"
#include "node/core/node.h"
#include "node/sync/sync.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata join [-d DIR] [--token-file FILE | -] [--timeout SECONDS] [--json]\n\n"
		   "Enrolls this node with the parent that made the join token (strata invite):\n"
		   "proves it holds its key, receives its certificate, pins the trust domain's\n"
		   "root key and writes the parent's endpoint and key into strata.conf. The\n"
		   "parent must be running strata serve. Then start this node with strata serve.\n\n"
		   "The token is a secret until it is used. It is read from --token-file FILE\n"
		   "(a file only its owner can read: mode 0600, as strata invite -o FILE writes\n"
		   "it), else from $" SYNC_TOKEN_ENV ", else from standard input (- says so\n"
		   "explicitly), e.g.\n"
		   "  strata join -d DIR --token-file huli.token\n"
		   "  strata join -d DIR < huli.token\n"
		   "A token on the command line is refused: every local user can read it with ps\n"
		   "while join waits, and the shell keeps it in its history.\n\n"
		   "Running join again after it failed is safe: a node the parent already\n"
		   "certified completes its enrollment with the same token (while it is valid)\n"
		   "or a new one for the same org path.\n\n"
		   "  --token-file FILE  read the token from FILE (refused if group or others\n"
		   "                     have any access to it)\n"
		   "  --timeout SECONDS  how long to wait for the parent, %d to %d (default 15)\n",
		CLI_TIMEOUT_MIN_S, CLI_TIMEOUT_MAX_S);
}

/* The token from the file, the environment or standard input. */
static int read_token(const char *file, bool dash, char **token, struct err *e)
{
	const char *env = getenv(SYNC_TOKEN_ENV);

	if (!file && !dash && env && *env) {
		char *copy;
		int ret;
		int fds[2];

		/* the same checks as a file's content: one line, no control bytes */
		if (strlen(env) > SYNC_TOKEN_MAX) {
			err_set(e, "$%s is too long to be a join token", SYNC_TOKEN_ENV);
			return -E2BIG;
		}
		if (pipe(fds) < 0) {
			err_set(e, "cannot read $%s: %s", SYNC_TOKEN_ENV, strerror(errno));
			return -errno;
		}
		ret = write(fds[1], env, strlen(env)) == (ssize_t)strlen(env) ? 0 : -EIO;
		close(fds[1]);
		if (ret == 0)
			ret = sync_token_read(NULL, fds[0], &copy, e);
		close(fds[0]);
		if (ret == 0)
			*token = copy;
		return ret;
	}
	if (!file && isatty(STDIN_FILENO))
		fputs("join token (from strata invite): ", stderr);
	return sync_token_read(file, STDIN_FILENO, token, e);
}

static void print_joined(struct node *n, const struct cli_common *c)
{
	char root[KEY_HEX] = "none", peer[KEY_HEX] = "";

	if (node_root(n))
		key_hex(root, node_root(n));
	if (node_peer_root(n))
		key_hex(peer, node_peer_root(n));
	if (c->json) {
		json_t *j = json_pack("{s:s, s:s, s:s}", "name", node_name(n), "root", root, "parent",
				      node_config(n)->parent_endpoint);

		if (j && peer[0])
			json_object_set_new(j, "peer_root", json_string(peer));
		cli_json_print(j);
		return;
	}
	printf("joined: %s is certified by its %s at %s\nroot: %s\n", node_name(n),
	       peer[0] ? "peer" : "parent", node_config(n)->parent_endpoint, root);
	if (peer[0])
		printf("peer root: %s\n", peer);
	printf("next: strata serve -d %s\n", c->dir);
}

int cmd_join_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"token-file", required_argument, NULL, 'T'},
		{"timeout", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct node *n = NULL;
	struct err e = {0};
	const char *file = NULL;
	char *token = NULL;
	uint64_t timeout = 15;
	bool dash = false;
	int opt, ret;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'T': file = optarg; break;
		case 't':
			if (num_parse(optarg, CLI_TIMEOUT_MIN_S, CLI_TIMEOUT_MAX_S, &timeout) < 0)
				return cli_usage("join", "--timeout must be a number of seconds from %d to %d, not \"%s\"",
						 CLI_TIMEOUT_MIN_S, CLI_TIMEOUT_MAX_S, optarg);
			break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("join", "unknown option");
		}
	}
	if (optind < argc && strcmp(argv[optind], "-") == 0 && !file) {
		dash = true;
		optind++;
	}
	if (optind < argc && strncmp(argv[optind], "strata-join:", 12) == 0)
		return cli_usage("join",
				 "a join token on the command line can be read by every local user (ps, /proc) and "
				 "stays in the shell's history, so it is refused: treat this one as seen and ask for a "
				 "new one; give it on standard input, with --token-file FILE (mode 0600) or in $%s",
				 SYNC_TOKEN_ENV);
	if (optind != argc)
		return cli_usage("join", "unexpected argument \"%s\"", argv[optind]);
	if ((ret = read_token(file, dash, &token, &e)) < 0)
		return cli_fail_err("join", ret, &e);
	if ((ret = node_open(&n, c.dir, 0, &e)) < 0 || (ret = sync_join(n, token, (int)timeout * 1000, &e)) < 0) {
		sync_token_free(token);
		node_close(&n);
		return cli_fail_err("join", ret, &e);
	}
	sync_token_free(token);
	node_close(&n);
	if ((ret = node_open(&n, c.dir, NODE_NO_KEY | NODE_RDONLY, &e)) < 0)
		return cli_fail_err("join", ret, &e);
	print_joined(n, &c);
	node_close(&n);
	return EXIT_OK;
}
