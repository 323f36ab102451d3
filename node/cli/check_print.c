/* SPDX-License-Identifier: MIT */
/*
 * What `strata verify` and `strata audit` share: the hooks that print what
 * the walk finds, failures and erased values, for people (the first
 * MAX_SHOWN of each) or as JSON arrays. The trust checks of each author are
 * the library's (audit_trust_hooks_init, node/audit/node_audit.c).
 */
#include <inttypes.h>
#include <stdio.h>

#include "node/audit/audit.h"
#include "node/cli/cli.h"
#include "protocol/protocol.h" /* LIMIT_KEY_BYTES */

#define MAX_SHOWN 100

json_t *cli_erased_json(const struct verify_erased *x)
{
	char author[KEY_HEX], key[2 * LIMIT_KEY_BYTES + 1];

	key_hex(author, x->author);
	cli_record_key_text(key, sizeof key, x->key, x->key_len);
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:I}", "author", author, "feed", x->feed, "seq", (json_int_t)x->seq,
			 "collection", x->collection, "key", key, "erase_seq", (json_int_t)x->erase_seq);
}

void cli_erased_print(const struct verify_erased *x)
{
	char author[CLI_KEY_SHORT_SIZE], key[2 * LIMIT_KEY_BYTES + 1];

	cli_key_short(author, x->author);
	cli_record_key_text(key, sizeof key, x->key, x->key_len);
	printf("ERASED %s/%s #%llu: the value of %s \"%s\" (erase request #%llu)\n", author, x->feed,
	       (unsigned long long)x->seq, x->collection, esc(key), (unsigned long long)x->erase_seq);
}

static void on_erased(const struct verify_erased *x, void *arg)
{
	struct check_print *p = arg;

	if (p->json)
		json_array_append_new(p->erased, cli_erased_json(x));
	else if (p->erased_shown++ < MAX_SHOWN)
		cli_erased_print(x);
}

static void on_failure(const struct verify_failure *f, void *arg)
{
	struct check_print *p = arg;
	char author[KEY_HEX] = "";

	if (f->author)
		key_hex(author, f->author);
	if (p->json) {
		json_array_append_new(p->failures,
				      json_pack("{s:s?, s:s, s:I, s:s}", "author", f->author ? author : NULL, "feed",
						f->feed, "seq", (json_int_t)f->seq, "reason", f->reason));
		return;
	}
	if (p->shown++ >= MAX_SHOWN)
		return;
	if (f->author)
		printf("FAIL %.16s…/%s #%" PRIu64 ": %s\n", author, f->feed, f->seq, esc(f->reason));
	else
		printf("FAIL %s%s\n", p->storewide, esc(f->reason));
}

/* A proof of equivocation that holds (its failure follows). */
static void on_evidence(const struct verify_evidence *x, void *arg)
{
	struct check_print *p = arg;
	char author[KEY_HEX], a[2 * HASH_BYTES + 1], b[2 * HASH_BYTES + 1];

	key_hex(author, x->author);
	hex_encode(a, x->first_hash, HASH_BYTES);
	hex_encode(b, x->second_hash, HASH_BYTES);
	if (p->json) {
		json_array_append_new(p->evidence,
				      json_pack("{s:s, s:s?, s:s, s:I, s:s, s:s, s:b}", "author", author, "name", x->name,
						"feed", x->feed, "seq", (json_int_t)x->seq, "first_hash", a, "second_hash",
						b, "checkpoint", x->checkpoint));
		return;
	}
	printf("EVIDENCE %.16s… (%s)/%s %s%" PRIu64 ": two %s signed by this author, %.16s… and %.16s…\n", author,
	       x->name ? esc(x->name) : "?", x->feed, x->checkpoint ? "at size " : "#", x->seq,
	       x->checkpoint ? "checkpoints with different roots" : "entries", a, b);
}

static void on_progress(size_t done, size_t total, void *arg)
{
	cli_progress(((struct check_print *)arg)->doing, done, total);
}

struct verify_hooks cli_check_print_init(struct check_print *p, bool json, const char *doing, const char *storewide)
{
	*p = (struct check_print){.json = json, .doing = doing, .storewide = storewide};
	if (json) {
		p->failures = json_array();
		p->erased = json_array();
		p->evidence = json_array();
	}
	return (struct verify_hooks){.failure = on_failure, .evidence = on_evidence, .erased = on_erased,
				     .progress = on_progress, .arg = p};
}

void cli_check_print_more(const struct check_print *p)
{
	if (p->shown > MAX_SHOWN)
		printf("... and %zu more failures\n", p->shown - MAX_SHOWN);
	if (p->erased_shown > MAX_SHOWN)
		printf("... and %zu more erased values\n", p->erased_shown - MAX_SHOWN);
}

void cli_check_print_free(struct check_print *p)
{
	json_decref(p->failures);
	json_decref(p->erased);
	json_decref(p->evidence);
	p->failures = p->erased = p->evidence = NULL;
}
