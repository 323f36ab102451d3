/* SPDX-License-Identifier: MIT */
/*
 * strata erase: remove a record's value from every store that holds it. The
 * owner writes an erase request in the record's feed; this node strips the
 * value from its entries and state in the same commit (node/core/erase.c),
 * overwrites the freed pages of data.mdb, and the request travels on with
 * the feed so that every other node does the same.
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

static void help(FILE *f)
{
	size_t n;
	const struct record_type *const *types = record_types(&n);

	fprintf(f, "usage: strata erase [-d DIR] --collection NAME --key KEY [--reason TEXT] [--json]\n\n"
		   "Removes the value of a record this node wrote (a resident's request with a\n"
		   "phone number in it, say) from every store that holds it. An erase request\n"
		   "signed by this node goes into the record's feed, after the record; every node\n"
		   "that receives it (over a link or in a bundle) removes the value from every\n"
		   "entry of that feed that holds it and from its current records, and\n"
		   "overwrites the freed pages of its data.mdb. Signed bodies hold only each\n"
		   "value's hash, so every signature and chain still verifies, and strata\n"
		   "verify and strata audit report the value as erased. The record itself (its\n"
		   "key, who wrote it, when) stays; listings leave it out, show and update say\n"
		   "it was erased. A later add of the same key writes a new value, which is not\n"
		   "erased. The request keeps the value's residue, only the fields the report\n"
		   "figures read (a member's category, status and join date; a request's\n"
		   "dates; no names, phone numbers or text), so that reports computed over the\n"
		   "value are still recomputed by the levels above (docs/PROTOCOL.md).\n\n"
		   "Only the node that wrote the record may erase it (exit 2 otherwise); a\n"
		   "record that does not exist or is erased already is refused (exit 2), and\n"
		   "a refusal changes nothing. Not erased: copies made outside the stores\n"
		   "(bundle files exported before, backups), other records that copied the\n"
		   "value (a transfer's release copies the member), and disk blocks a\n"
		   "copy-on-write filesystem or an SSD keeps. Erasing a request erases its\n"
		   "resident's contact (request_contact, feed private) with it.\n\n"
		   "  --collection NAME  the record's collection:");
	for (size_t i = 0; i < n; i++)
		if (types[i]->feed && strcmp(types[i]->feed, "trust") != 0)
			fprintf(f, " %s", types[i]->collection);
	fprintf(f, "\n"
		   "  --key KEY          the record's key (strata log --ops shows keys)\n"
		   "  --reason TEXT      why, kept in the request (at most 256 bytes)\n");
}

/* Is there a record with this key by another owner? */
struct other {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *self;
	bool found;
	uint8_t owner[KEY_BYTES];
};

static int find_other(const struct store_record *r, void *arg)
{
	struct other *o = arg;

	if (r->key_len == o->key_len && memcmp(r->key, o->key, r->key_len) == 0 &&
	    memcmp(r->owner, o->self, KEY_BYTES) != 0) {
		o->found = true;
		memcpy(o->owner, r->owner, KEY_BYTES);
		return 1;
	}
	return 0;
}

/* How many entries of this unit's feed (written by any of its keys, the
 * ones it rotated away from too) hold a value of (collection, key). */
static int own_holders(struct node *n, struct store_txn *t, const char *feed, const char *collection,
		       const char *key, size_t *count, struct err *e)
{
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t nown = node_own_keys(n, t, own, NODE_KEYS_MAX), one;
	int ret = 0;

	*count = 0;
	for (size_t i = 0; i < nown && ret == 0; i++)
		if ((ret = node_erase_holders(t, own[i], feed, collection, (const uint8_t *)key, strlen(key), &one, e)) ==
		    0)
			*count += one;
	return ret;
}

/* Why there is nothing of this node's to erase: exit code and message. */
static int nothing_to_erase(struct node *n, struct store_txn *t, const struct record_type *rt, const char *key,
			    const char *ekey)
{
	struct other o = {.key = (const uint8_t *)key, .key_len = strlen(key), .self = node_id(n)};
	const uint8_t *v;
	size_t vl;
	struct err e = {0};

	if (store_state_get(t, "erase", node_id(n), (const uint8_t *)ekey, strlen(ekey), &v, &vl, NULL, &e) == 0)
		return cli_fail("erase", EXIT_REJECTED, "%s %s is erased already", rt->noun, key);
	if (store_state_each(t, rt->collection, NULL, find_other, &o, &e) < 0)
		return cli_fail_err("erase", -EIO, &e);
	if (o.found) {
		char name[256] = "", hex[20];

		cli_key_short(hex, o.owner);
		node_key_name(n, t, o.owner, name);
		return cli_fail("erase", EXIT_REJECTED,
				"%s %s here was written by %s (%s), not by this node: only the node that wrote a "
				"record may erase it",
				rt->noun, key, name[0] ? name : "another node", hex);
	}
	return cli_fail("erase", EXIT_REJECTED, "this node wrote no %s %s", rt->noun, key);
}

/* The record's companion (a request's contact, in its own feed) goes with
 * it, in the same transaction: w moves to the companion's feed, with an
 * erase request of its own (the companion's residues, none for a contact:
 * no figure reads it). *held gets how many of its entries held a value (0:
 * nothing written). */
static int erase_companion(struct node *n, struct node_writer *w, const struct record_type *rt, const char *key,
			   const char *reason, uint64_t erased_ms, size_t *held, struct err *e)
{
	const struct record_type *c = rt->companion;
	char ekey[LIMIT_KEY_BYTES + 1];
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	*held = 0;
	if (!c)
		return 0;
	if ((ret = node_erase_request(node_writer_txn(w), node_id(n), c->feed, c->collection, (const uint8_t *)key,
				      strlen(key), reason, erased_ms, &buf, &len, held, e)) < 0 ||
	    *held == 0)
		goto out;
	if ((ret = erase_key_make(ekey, sizeof ekey, c->collection, (const uint8_t *)key, strlen(key), e)) < 0 ||
	    (ret = node_writer_switch(w, c->feed, NULL, e)) < 0)
		goto out;
	ret = node_writer_put(w, "erase", (const uint8_t *)ekey, strlen(ekey), buf, len, e);
out:
	free(buf);
	return ret;
}

int cmd_erase_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},    {"collection", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},    {"reason", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	const struct record_type *rt;
	const char *collection = NULL, *key = NULL, *reason = NULL;
	char ekey[LIMIT_KEY_BYTES + 1];
	struct node *n = NULL;
	struct node_writer *w = NULL;
	struct store_scrub_counts sc = {0};
	Strata__Erasure er = STRATA__ERASURE__INIT;
	uint8_t *buf = NULL;
	size_t holders = 0, cheld = 0, len;
	uint64_t head = 0;
	struct err e = {0};
	int opt, ret, code = EXIT_SYSTEM, scrub;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'c': collection = optarg; break;
		case 'k': key = optarg; break;
		case 'r': reason = optarg; break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("erase", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("erase", "unexpected argument \"%s\"", argv[optind]);
	if (!collection || !key || !*key)
		return cli_usage("erase", "--collection NAME and --key KEY are required");
	if (!(rt = record_type_find(collection)))
		return cli_fail("erase", EXIT_REJECTED, "unknown collection \"%s\" (see strata erase --help)", collection);
	if (!rt->feed || strcmp(rt->feed, "trust") == 0)
		return cli_fail("erase", EXIT_REJECTED,
				"%s records cannot be erased: they carry authority (certificates, revocations) or "
				"are erase requests themselves",
				collection);
	if (erase_key_make(ekey, sizeof ekey, collection, (const uint8_t *)key, strlen(key), &e) < 0)
		return cli_fail("erase", EXIT_REJECTED, "%s", e.msg);
	er.reason = (char *)reason;
	er.erased_ms = node_now_ms();
	len = strata__erasure__get_packed_size(&er);
	if (!(buf = malloc(len)))
		return cli_fail("erase", EXIT_SYSTEM, "out of memory");
	strata__erasure__pack(&er, buf);
	if ((ret = record_check("erase", rt->feed, (const uint8_t *)ekey, strlen(ekey), buf, len, &e)) < 0) {
		code = cli_fail("erase", EXIT_REJECTED, "%s", e.msg);
		goto out;
	}
	free(buf);
	buf = NULL;
	/* The request itself, with the residues of the values it strips. */
	if ((ret = node_open(&n, c.dir, 0, &e)) < 0 || (ret = node_writer_begin(n, rt->feed, &w, &e)) < 0 ||
	    (ret = node_erase_request(node_writer_txn(w), node_id(n), rt->feed, collection, (const uint8_t *)key,
				      strlen(key), reason, er.erased_ms, &buf, &len, &holders, &e)) < 0 ||
	    (ret = own_holders(n, node_writer_txn(w), rt->feed, collection, key, &holders, &e)) < 0) {
		code = cli_fail_err("erase", ret, &e);
		goto out;
	}
	if (holders == 0) {
		code = nothing_to_erase(n, node_writer_txn(w), rt, key, ekey);
		goto out;
	}
	if ((ret = node_writer_put(w, "erase", (const uint8_t *)ekey, strlen(ekey), buf, len, &e)) < 0 ||
	    (ret = node_writer_switch(w, rt->feed, &head, &e)) < 0 || /* seals: head is the erase request's */
	    (ret = erase_companion(n, w, rt, key, reason, er.erased_ms, &cheld, &e)) < 0 ||
	    (ret = node_writer_commit(&w, NULL, NULL, &e)) < 0) {
		code = cli_fail_err("erase", ret, &e);
		goto out;
	}
	sync_notify(node_dir(n));
	/* The value is out of every live record; now out of the file's free pages. */
	scrub = node_scrub(n, &sc, &e);
	if (scrub < 0 && scrub != -EAGAIN) {
		code = cli_fail("erase", EXIT_SYSTEM, "erased, but the old pages were not overwritten: %s", e.msg);
		goto out;
	}
	if (scrub == -EAGAIN)
		fprintf(stderr, "strata: erase: note: %s (the next erase, import or the daemon does it)\n", e.msg);
	if (c.json) {
		cli_json_print(json_pack("{s:s, s:s, s:s, s:I, s:I, s:s?, s:I, s:I, s:I}", "collection", collection, "key",
					 key, "feed", rt->feed, "seq", (json_int_t)head, "entries", (json_int_t)holders,
					 "reason", reason, "scrubbed_pages", (json_int_t)sc.pages, "held_pages",
					 (json_int_t)sc.held, "companion_entries", (json_int_t)cheld));
	} else {
		printf("erased %s %s: its value is gone from %zu entr%s of feed %s (erase request %s #%llu)\n", rt->noun,
		       key, holders, holders == 1 ? "y" : "ies", rt->feed, rt->feed, (unsigned long long)head);
		if (cheld)
			printf("and its %s from %zu entr%s of feed %s\n", rt->companion->noun, cheld,
			       cheld == 1 ? "y" : "ies", rt->companion->feed);
	}
	code = EXIT_OK;
out:
	free(buf);
	node_writer_abort(&w);
	node_close(&n);
	return code;
}
