/* SPDX-License-Identifier: MIT */
/*
 * strata invite: make a one-time join token for a child, peer or auditor.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/cli/cli.h"
#include "node/core/node.h"
#include "node/records/records.h"
#include "node/sync/sync.h"

static void help(FILE *f)
{
	fprintf(f, "usage: strata invite [-d DIR] --name ORG/PATH [--role child|peer|auditor]\n"
		   "                     [--expires DURATION] [--endpoint tcp://HOST:PORT]\n"
		   "                     [--publish FEEDS] [--receive FEEDS] [--json]\n\n"
		   "Prints one line: a join token for the node that will hold ORG/PATH. Give it to\n"
		   "that node's operator, who runs strata join -d DIR TOKEN while this node runs\n"
		   "strata serve. The token works once, until it expires.\n\n"
		   "  --name ORG/PATH     a child's path must be below this node's, e.g. xiamen/huli/hetong\n"
		   "  --role ROLE         child (default), peer (another trust domain under an agreement,\n"
		   "                      e.g. a hospital) or auditor (read-only)\n"
		   "  --expires DURATION  how long the token is valid: 30m, 12h, 7d (default 7d)\n"
		   "  --endpoint URL      where the new node connects (default: [node] listen)\n"
		   "  --publish FEEDS     feeds the new node may publish, comma-separated\n"
		   "                      (child: up,report,down,trust,private; peer: report)\n"
		   "  --receive FEEDS     peers: feeds this node shares with it (default: down)\n");
}

/* "30m", "12h", "7d", "90s" -> milliseconds; 0 on a bad value. */
static uint64_t duration_ms(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	uint64_t unit;

	if (end == s || !isdigit((unsigned char)s[0]))
		return 0;
	switch (*end) {
	case 's': unit = 1000; break;
	case 'm': unit = 60 * 1000; break;
	case 'h': unit = 3600 * 1000; break;
	case 'd': unit = 24ull * 3600 * 1000; break;
	default: return 0;
	}
	if (end[1] || v == 0 || v > 3650ull * 24 * 3600)
		return 0;
	return v * unit;
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

int cmd_invite_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},     {"name", required_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'},    {"expires", required_argument, NULL, 'x'},
		{"endpoint", required_argument, NULL, 'E'}, {"publish", required_argument, NULL, 'p'},
		{"receive", required_argument, NULL, 'R'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct sync_invite_opts io = {.role = STRATA__ROLE__ROLE_CHILD, .ttl_ms = 7ull * 24 * 3600 * 1000};
	struct node *n = NULL;
	struct err e = {0};
	char *token = NULL, *publish = NULL, *receive = NULL;
	int opt, ret, code;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'n': io.name = optarg; break;
		case 'r':
			if (cert_role_parse(optarg, &io.role, &e) < 0 || io.role == STRATA__ROLE__ROLE_ROOT)
				return cli_usage("invite", "--role must be child, peer or auditor");
			break;
		case 'x':
			if (!(io.ttl_ms = duration_ms(optarg)))
				return cli_usage("invite", "--expires \"%s\" is not a duration like 30m, 12h or 7d", optarg);
			break;
		case 'E': io.endpoint = optarg; break;
		case 'p': publish = optarg; break;
		case 'R': receive = optarg; break;
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
	if ((ret = node_open(&n, c.dir, NODE_NO_KEY, &e)) < 0 || (ret = sync_invite(n, &io, &token, &e)) < 0) {
		code = cli_fail_err("invite", ret, &e);
		goto out;
	}
	if (c.json)
		cli_json_print(json_pack("{s:s, s:s, s:s, s:I}", "token", token, "name", io.name, "role",
					 cert_role_word(io.role), "expires_ms", (json_int_t)(node_now_ms() + io.ttl_ms)));
	else
		printf("%s\n", token);
	code = EXIT_OK;
out:
	free(token);
	free(io.feeds);
	free(io.receive);
	node_close(&n);
	return code;
}
