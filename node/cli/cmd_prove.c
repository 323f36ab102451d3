/* SPDX-License-Identifier: MIT */
/*
 * strata prove: write an inclusion proof of one entry against a witnessed
 * checkpoint of its feed (node/audit/proof.h); and the light audit of such
 * a file, which `strata audit FILE --root KEY` hands here when FILE starts
 * with the proof magic.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "node/audit/proof.h"
#include "node/cli/cli.h"

#define NOTE_FILE_MAX NOTE_MAX
#define ROOT_B64 (sodium_base64_ENCODED_LEN(TLOG_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL))

static void help(FILE *f)
{
	cli_help(f, "usage: strata prove -d DIR --feed AUTHOR/FEED --seq N [-o FILE] [--since NOTEFILE] [--json]\n\n"
		      "Writes a proof that entry N of a feed (a report, say) is in a checkpoint of that\n"
		      "feed signed by its author and co-signed by a witness above it (its parent, or a\n"
		      "level higher), so that an auditor checks it with `strata audit FILE --root KEY`\n"
		      "without the feed: a few hundred bytes, checked with O(log n) hashes.\n"
		      "Uses the newest witnessed checkpoint that covers entry N; refuses when there is\n"
		      "none (it says the newest witnessed size: wait until the parent has seen the entry\n"
		      "and sent its cosignature back). The root's own feeds have no witness above them:\n"
		      "for those the root's own checkpoint is used, and the output says so.\n\n"
		      "  --feed AUTHOR/FEED  AUTHOR is a key (64 hex) or an org path (that unit's\n"
		      "                      current key), FEED a feed name (up, report, down, trust)\n"
		      "  --seq N             the entry (1 = the feed's first)\n"
		      "  -o FILE             where to write the proof (mode 0600); \"-\" or no -o: standard\n"
		      "                      output, only when it is not a terminal\n"
		      "  --since NOTEFILE    also prove that the checkpoint extends an older one (a\n"
		      "                      signed note of the same feed, e.g. from an earlier audit)\n"
		      "  --json              print what was proved (needs -o FILE)\n"
		      "Exit 0 when the proof was written, 2 when refused, 4 on a system error.\n");
}

/* AUTHOR/FEED: the feed is after the last '/'. */
static int split_feed(char *arg, const char **author, const char **feed)
{
	char *slash = strrchr(arg, '/');

	if (!slash || slash == arg || !slash[1])
		return cli_usage("prove", "--feed must be AUTHOR/FEED, e.g. xm/siming/b1/report");
	*slash = '\0';
	*author = arg;
	*feed = slash + 1;
	return CLI_GO_ON;
}

static int read_file(const char *what, const char *path, uint8_t **buf, size_t *len, size_t max)
{
	FILE *f = fopen(path, "rb");

	if (!f)
		return cli_fail(what, EXIT_SYSTEM, "%s: %s", path, strerror(errno));
	*buf = malloc(max + 1);
	*len = *buf ? fread(*buf, 1, max + 1, f) : 0;
	fclose(f);
	if (!*buf)
		return cli_fail(what, EXIT_SYSTEM, "out of memory reading %s", path);
	if (*len > max) {
		free(*buf);
		*buf = NULL;
		return cli_fail(what, EXIT_REJECTED, "%s is larger than %zu bytes", path, max);
	}
	return CLI_GO_ON;
}

static json_t *witnesses_json(const struct audit_proof_info *in)
{
	json_t *a = json_array();
	char hex[KEY_HEX];

	for (size_t i = 0; i < in->n_witnesses; i++) {
		key_hex(hex, in->witnesses[i].key);
		json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "key", hex, "name", in->witnesses[i].name, "time",
						   (json_int_t)in->witnesses[i].time));
	}
	return a;
}

static json_t *info_json(const struct audit_proof_info *in)
{
	char hex[KEY_HEX], root[ROOT_B64];

	char vkey[NOTE_VKEY_MAX];

	key_hex(hex, in->author);
	note_vkey(vkey, sizeof vkey, in->author);
	sodium_bin2base64(root, sizeof root, in->root, TLOG_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL);
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:b, s:I, s:I, s:I, s:I}", "author", hex, "author_vkey", vkey, "author_name",
			 in->author_name, "feed", in->feed, "seq", (json_int_t)in->seq, "size", (json_int_t)in->size,
			 "root", root, "witnesses", witnesses_json(in), "root_own", in->root_own, "path_length",
			 (json_int_t)in->n_path, "chain_entries", (json_int_t)in->n_chain, "since_size",
			 (json_int_t)in->since_size, "file_size", (json_int_t)in->file_len);
}

/* The human lines shared by prove and the light audit. */
static void print_info(FILE *f, const struct audit_proof_info *in)
{
	char hex[KEY_HEX], root[ROOT_B64];

	key_hex(hex, in->author);
	sodium_bin2base64(root, sizeof root, in->root, TLOG_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL);
	fprintf(f, _("entry #%" PRIu64 " of %s (%.16s…)/%s is in its checkpoint of size %" PRIu64 " (root %s)\n"),
		in->seq, in->author_name[0] ? in->author_name : "?", hex, in->feed, in->size, root);
	for (size_t i = 0; i < in->n_witnesses; i++) {
		key_hex(hex, in->witnesses[i].key);
		fprintf(f, _("  co-signed by %s (%.16s…) at %" PRIu64 "\n"), in->witnesses[i].name, hex,
			in->witnesses[i].time);
	}
	if (in->root_own)
		fprintf(f, _("  the root's own checkpoint: no witness stands above the root\n"));
	if (in->since_size)
		fprintf(f, _("  consistent with the older checkpoint of size %" PRIu64 "\n"), in->since_size);
	fprintf(f, _("  inclusion path of %zu hashes, %zu trust entries, %zu bytes in all\n"), in->n_path, in->n_chain,
		in->file_len);
}

static int write_out(const char *out, const uint8_t *file, size_t len)
{
	FILE *f = out ? cli_open_private(out) : stdout;

	if (!f)
		return cli_fail("prove", EXIT_SYSTEM, "%s: %s", out, strerror(errno));
	size_t w = fwrite(file, 1, len, f);
	int bad = (out ? fclose(f) : fflush(f)) != 0 || w != len;
	if (bad)
		return cli_fail("prove", EXIT_SYSTEM, "%s: %s", out ? out : "standard output", strerror(errno));
	return EXIT_OK;
}

static int parse(int argc, char **argv, struct cli_common *c, struct audit_proof_request *rq, const char **out,
		 const char **since)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},  {"feed", required_argument, NULL, 'f'},
		{"seq", required_argument, NULL, 'n'},  {"output", required_argument, NULL, 'o'},
		{"since", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
	};
	char *feed = NULL, *end;
	int opt, ret;

	cli_common_init(c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c->dir = optarg; break;
		case 'f': feed = optarg; break;
		case 'n':
			errno = 0;
			rq->seq = strtoull(optarg, &end, 10);
			if (errno || *end || optarg[0] < '1' || optarg[0] > '9')
				return cli_usage("prove", "--seq must be a number >= 1, not \"%s\"", optarg);
			break;
		case 'o': *out = strcmp(optarg, "-") ? optarg : NULL; break;
		case 's': *since = optarg; break;
		case 'j': c->json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("prove", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("prove", "unexpected argument \"%s\"", argv[optind]);
	if (!feed || !rq->seq)
		return cli_usage("prove", "--feed AUTHOR/FEED and --seq N are required");
	if ((ret = split_feed(feed, &rq->author, &rq->feed)) != CLI_GO_ON)
		return ret;
	if (!*out && isatty(STDOUT_FILENO))
		return cli_usage("prove", "standard output is a terminal: give -o FILE for the proof");
	if (!*out && c->json)
		return cli_usage("prove", "--json prints to standard output: give -o FILE for the proof");
	return CLI_GO_ON;
}

int cmd_prove_main(int argc, char **argv)
{
	struct cli_common c;
	struct audit_proof_request rq = {0};
	struct audit_proof_info info;
	const char *out = NULL, *since = NULL;
	uint8_t *file = NULL, *since_buf = NULL;
	size_t len = 0;
	struct err e = {0};
	int code, ret;

	if ((code = parse(argc, argv, &c, &rq, &out, &since)) != CLI_GO_ON)
		return code;
	if (since && (code = read_file("prove", since, &since_buf, &rq.since_len, NOTE_FILE_MAX)) != CLI_GO_ON)
		return code;
	rq.since_note = since_buf;
	if ((ret = audit_proof_build(c.dir, &rq, &file, &len, &info, &e)) < 0) {
		code = cli_fail_err("prove", ret, &e);
		goto done;
	}
	if ((code = write_out(out, file, len)) != EXIT_OK)
		goto done;
	if (c.json) {
		json_t *j = info_json(&info);
		json_object_set_new(j, "file", json_string(out));
		cli_json_print(j);
	} else {
		FILE *f = out ? stdout : stderr; /* the proof itself may be on stdout */
		print_info(f, &info);
		fprintf(f, _("proof written to %s\n"), out ? out : _("standard output"));
	}
done:
	free(file);
	free(since_buf);
	return code;
}

bool cli_is_proof_file(const char *path)
{
	uint8_t head[AUDIT_PROOF_MAGIC_LEN];
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(head, 1, sizeof head, f) : 0;

	if (f)
		fclose(f);
	return audit_proof_is(head, n);
}

int cli_audit_proof(const char *path, const uint8_t root[KEY_BYTES], const char *root_hex, bool json)
{
	struct audit_proof_info info;
	uint8_t *file = NULL;
	size_t len;
	struct err e = {0};
	int code;

	if ((code = read_file("audit", path, &file, &len, AUDIT_PROOF_MAX)) != CLI_GO_ON)
		return code;
	int ret = audit_proof_check(file, len, root, &info, &e);
	free(file);
	if (json) {
		json_t *j = ret == 0 ? info_json(&info) : json_object();
		json_object_set_new(j, "audited", json_string(path));
		json_object_set_new(j, "kind", json_string("proof"));
		json_object_set_new(j, "root_key", json_string(root_hex));
		json_object_set_new(j, "ok", json_boolean(ret == 0));
		json_object_set_new(j, "not_checked", json_pack("[s, s]", "revocations", "newer checkpoints"));
		if (ret < 0)
			json_object_set_new(j, "failure", json_string(e.msg));
		cli_json_print(j);
	} else if (ret == 0) {
		printf(_("proof %s checked against root %.16s…:\n"), path, root_hex);
		print_info(stdout, &info);
		printf(_("  not checked: revocations (a proof carries none) and whether a newer checkpoint exists\n"));
	} else {
		printf(_("PROOF FAILED: %s: %s\n"), path, e.msg);
	}
	return ret == 0 ? EXIT_OK : EXIT_VERIFY;
}
