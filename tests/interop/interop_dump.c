/* SPDX-License-Identifier: MIT */
/*
 * interop_dump: what Strata produces, for an implementation Strata did not
 * write to check (tests/interop/check_go.go, Go's golang.org/x/mod/sumdb).
 * Appends INTEROP_ENTRIES entries to a feed of a real store in DIR, signs
 * a checkpoint of it (crypto/note.c) co-signed by a witness, and prints
 * line by line:
 *   vkey <the author's C2SP verifier key>
 *   witness <the witness's public key, hex>
 *   note <the signed note, base64>
 *   leaf <seq> <entry hash hex>             (every entry)
 *   root <size> <tree hash hex>             (every size, store_tree_root)
 *   incl <seq> <size> <path hex or ->       (store_tree_inclusion)
 *   cons <m> <n> <path hex or ->            (store_tree_consistency)
 * usage: interop_dump DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/tlog.h"
#include "storage/store.h"

#define INTEROP_ENTRIES 37
#define INTEROP_FEED "report"
#define COSIGN_TIME 1700000000u

static const uint64_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 32, 33, INTEROP_ENTRIES};

static void die(const char *what, const struct err *e)
{
	fprintf(stderr, "interop_dump: %s: %s\n", what, e ? e->msg : "");
	exit(1);
}

static void print_path(const char *kind, uint64_t a, uint64_t b, uint8_t path[][32], size_t n)
{
	char hex[65];

	printf("%s %llu %llu ", kind, (unsigned long long)a, (unsigned long long)b);
	if (!n)
		printf("-");
	for (size_t i = 0; i < n; i++) {
		hex_encode(hex, path[i], 32);
		printf("%s", hex);
	}
	printf("\n");
}

static void append_all(struct store *s, const uint8_t author[32])
{
	struct store_txn *t = NULL;
	struct err e = {0};
	uint8_t prev[32] = {0}, hash[32];
	char body[64], hex[65];

	if (store_txn_begin(s, true, &t, &e) < 0)
		die("begin", &e);
	for (uint64_t seq = 1; seq <= INTEROP_ENTRIES; seq++) {
		int n = snprintf(body, sizeof body, "interop entry %llu", (unsigned long long)seq);
		hash_blake2b(hash, (const uint8_t *)body, (size_t)n);
		struct store_entry en = {.author = author, .feed = INTEROP_FEED, .seq = seq, .prev = prev, .hash = hash,
					 .bytes = (const uint8_t *)body, .len = (size_t)n};
		if (store_append(t, &en, &e) < 0)
			die("append", &e);
		memcpy(prev, hash, 32);
		hex_encode(hex, hash, 32);
		printf("leaf %llu %s\n", (unsigned long long)seq, hex);
	}
	if (store_txn_commit(&t, &e) < 0)
		die("commit", &e);
}

static void proofs(struct store *s, const uint8_t author[32])
{
	struct store_txn *t = NULL;
	struct err e = {0};
	uint8_t root[32], path[TLOG_PATH_MAX][32];
	char hex[65];
	size_t n;

	if (store_txn_begin(s, false, &t, &e) < 0)
		die("begin", &e);
	for (uint64_t size = 1; size <= INTEROP_ENTRIES; size++) {
		if (store_tree_root(t, author, INTEROP_FEED, size, root, &e) < 0)
			die("root", &e);
		hex_encode(hex, root, 32);
		printf("root %llu %s\n", (unsigned long long)size, hex);
	}
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		for (uint64_t i = 1; i <= sizes[k]; i++) {
			if (store_tree_inclusion(t, author, INTEROP_FEED, i, sizes[k], path, &n, &e) < 0)
				die("inclusion", &e);
			print_path("incl", i, sizes[k], path, n);
			if (store_tree_consistency(t, author, INTEROP_FEED, i, sizes[k], path, &n, &e) < 0)
				die("consistency", &e);
			print_path("cons", i, sizes[k], path, n);
		}
	}
	store_txn_abort(&t);
}

static void signed_note(struct store *s, const struct keypair *author, const struct keypair *witness)
{
	struct store_txn *t = NULL;
	struct err e = {0};
	struct checkpoint cp = {.size = INTEROP_ENTRIES};
	struct note n;
	struct note_sig sig;
	char text[NOTE_MAX], b64[2 * NOTE_MAX], vkey[NOTE_VKEY_MAX], hex[KEY_HEX];
	size_t len;

	memcpy(cp.author, keypair_public(author), KEY_BYTES);
	strcpy(cp.feed, INTEROP_FEED);
	if (store_txn_begin(s, false, &t, &e) < 0 || store_tree_root(t, cp.author, INTEROP_FEED, cp.size, cp.root, &e) < 0)
		die("root", &e);
	store_txn_abort(&t);
	if (note_sign_checkpoint(author, &cp, text, &len, &e) < 0 || note_parse(text, len, &n, &e) < 0 ||
	    note_cosign(witness, &n, COSIGN_TIME, &sig, &e) < 0 || note_add_sig(&n, &sig, &e) < 0 ||
	    note_format(&n, text, &len, &e) < 0)
		die("note", &e);
	sodium_bin2base64(b64, sizeof b64, (const uint8_t *)text, len, sodium_base64_VARIANT_ORIGINAL);
	note_vkey(vkey, sizeof vkey, cp.author);
	key_hex(hex, keypair_public(witness));
	printf("vkey %s\nwitness %s\nnote %s\n", vkey, hex, b64);
}

int main(int argc, char **argv)
{
	struct store *s = NULL;
	struct keypair *author = NULL, *witness = NULL;
	struct err e = {0};
	uint8_t seed[SEED_BYTES];

	if (argc != 2) {
		fprintf(stderr, "usage: interop_dump DIR\n");
		return 2;
	}
	if (keys_init() < 0)
		die("libsodium", NULL);
	randombytes_buf(seed, sizeof seed);
	if (keypair_from_seed(&author, seed, &e) < 0)
		die("key", &e);
	randombytes_buf(seed, sizeof seed);
	if (keypair_from_seed(&witness, seed, &e) < 0)
		die("key", &e);
	if (store_open(&s, argv[1], STORE_CREATE | STORE_NOSYNC, &e) < 0)
		die("store", &e);
	append_all(s, keypair_public(author));
	proofs(s, keypair_public(author));
	signed_note(s, author, witness);
	store_close(&s);
	keypair_destroy(&author);
	keypair_destroy(&witness);
	return 0;
}
