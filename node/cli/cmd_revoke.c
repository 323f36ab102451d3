/* SPDX-License-Identifier: MIT */
/*
 * strata revoke: withdraw the certificate this node issued for an org path.
 * A revocation record goes into this node's trust feed; from its time on,
 * every node refuses entries signed by the revoked key (and certificates it
 * issues), and refuses its connections. What it signed before stays valid.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/cli/cli.h"
#include "node/core/node.h"
#include "node/records/records.h"
#include "node/sync/sync.h"

#define MAX_SUBJECTS 16

static void help(FILE *f)
{
	fprintf(f, "usage: strata revoke [-d DIR] --name ORG/PATH [--reason TEXT] [--json]\n\n"
		   "Revokes the key this node certified for ORG/PATH (a child, peer or auditor):\n"
		   "a revocation goes into this node's trust feed and reaches the whole trust\n"
		   "domain. Every node then refuses that key's entries dated from now on, the\n"
		   "certificates it would issue from now on, and its connections; what it signed\n"
		   "before stays valid and audits clean. Only the node that issued the\n"
		   "certificate may revoke it (exit 2 otherwise). A revocation is final: the\n"
		   "node rejoins with a new key (strata invite, strata join).\n\n"
		   "  --name ORG/PATH  the org path of the certificate to revoke\n"
		   "  --reason TEXT    why, kept in the record (at most 256 bytes)\n");
}

struct find {
	const char *name;
	const uint8_t *self;
	uint8_t subjects[MAX_SUBJECTS][KEY_BYTES];
	size_t n;
	bool other;                  /* some other issuer certified the name */
	uint8_t other_issuer[KEY_BYTES];
};

static int match_own(const struct store_record *r, void *arg)
{
	struct find *f = arg;
	Strata__Certificate *c;

	if (r->key_len != KEY_BYTES || !r->value || memcmp(r->key, f->self, KEY_BYTES) == 0 ||
	    !(c = strata__certificate__unpack(NULL, r->value_len, r->value)))
		return 0;
	if (strcmp(c->name, f->name) == 0 && f->n < MAX_SUBJECTS)
		memcpy(f->subjects[f->n++], r->key, KEY_BYTES);
	strata__certificate__free_unpacked(c, NULL);
	return 0;
}

/* The certificate index: subject -> issuer | certificate. */
static int match_any(const uint8_t *key, size_t key_len, const uint8_t *val, size_t len, void *arg)
{
	struct find *f = arg;
	Strata__Certificate *c;

	(void)key;
	if (key_len != KEY_BYTES || len < KEY_BYTES ||
	    !(c = strata__certificate__unpack(NULL, len - KEY_BYTES, val + KEY_BYTES)))
		return 0;
	if (strcmp(c->name, f->name) == 0) {
		f->other = true;
		memcpy(f->other_issuer, val, KEY_BYTES);
	}
	strata__certificate__free_unpacked(c, NULL);
	return 0;
}

int cmd_revoke_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'}, {"name", required_argument, NULL, 'n'},
		{"reason", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},     {NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct find f = {0};
	struct node *n = NULL;
	struct node_writer *w = NULL;
	struct store_txn *t;
	struct err e = {0};
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES], *buf = NULL;
	const char *reason = NULL;
	uint64_t now = node_now_ms();
	size_t nown, done = 0;
	json_t *keys = json_array();
	int opt, ret, code;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'n': f.name = optarg; break;
		case 'r': reason = optarg; break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); json_decref(keys); return EXIT_OK;
		default: json_decref(keys); return cli_usage("revoke", "unknown option");
		}
	}
	if (optind != argc) {
		json_decref(keys);
		return cli_usage("revoke", "unexpected argument \"%s\"", argv[optind]);
	}
	if (!f.name || !org_path_valid(f.name)) {
		json_decref(keys);
		return cli_usage("revoke", "--name ORG/PATH is required and must be a valid org path");
	}
	if ((ret = node_open(&n, c.dir, 0, &e)) < 0 || (ret = node_writer_begin(n, "trust", &w, &e)) < 0) {
		code = cli_fail_err("revoke", ret, &e);
		goto out;
	}
	t = node_writer_txn(w);
	f.self = node_id(n);
	nown = node_own_keys(n, t, own, NODE_KEYS_MAX);
	for (size_t i = 0; i < nown; i++)
		if ((ret = store_state_each(t, "cert", own[i], match_own, &f, &e)) < 0) {
			code = cli_fail_err("revoke", ret, &e);
			goto out;
		}
	if (f.n == 0) {
		char issuer[256] = "", hex[20];

		if (store_index_each(t, "cert", match_any, &f, &e) == 0 && f.other) {
			cli_key_short(hex, f.other_issuer);
			node_key_name(n, t, f.other_issuer, issuer);
			code = cli_fail("revoke", EXIT_REJECTED,
					"%s was certified by %s (%s), not by this node: only the issuer of a "
					"certificate may revoke it",
					f.name, issuer[0] ? issuer : "another node", hex);
		} else {
			code = cli_fail("revoke", EXIT_REJECTED, "no certificate for %s is known here", f.name);
		}
		goto out;
	}
	for (size_t i = 0; i < f.n; i++) {
		Strata__Revocation r = STRATA__REVOCATION__INIT;
		struct node_revocation old;
		struct err ignore = {0};
		char hex[KEY_HEX];
		size_t len;

		if (node_revocation_get(t, f.subjects[i], &old, &ignore) == 0)
			continue; /* revoked already, or rotated away */
		r.subject.data = f.subjects[i];
		r.subject.len = KEY_BYTES;
		r.reason = (char *)reason;
		r.revoked_ms = now;
		len = strata__revocation__get_packed_size(&r);
		free(buf);
		if (!(buf = malloc(len))) {
			code = cli_fail("revoke", EXIT_SYSTEM, "out of memory");
			goto out;
		}
		strata__revocation__pack(&r, buf);
		if ((ret = record_check("revocation", "trust", f.subjects[i], KEY_BYTES, buf, len, &e)) < 0 ||
		    (ret = node_writer_put(w, "revocation", f.subjects[i], KEY_BYTES, buf, len, &e)) < 0) {
			code = cli_fail_err("revoke", ret, &e);
			goto out;
		}
		key_hex(hex, f.subjects[i]);
		json_array_append_new(keys, json_string(hex));
		done++;
	}
	if (done == 0) {
		code = cli_fail("revoke", EXIT_REJECTED, "%s is revoked already", f.name);
		goto out;
	}
	if ((ret = node_writer_commit(&w, NULL, NULL, &e)) < 0) {
		code = cli_fail_err("revoke", ret, &e);
		goto out;
	}
	sync_notify(node_dir(n));
	if (c.json) {
		cli_json_print(json_pack("{s:s, s:O, s:s?, s:I}", "name", f.name, "keys", keys, "reason", reason,
					 "revoked_ms", (json_int_t)now));
	} else {
		for (size_t i = 0; i < json_array_size(keys); i++)
			printf("revoked %s: key %s\n", f.name, json_string_value(json_array_get(keys, i)));
	}
	code = EXIT_OK;
out:
	json_decref(keys);
	free(buf);
	node_writer_abort(&w);
	node_close(&n);
	return code;
}
