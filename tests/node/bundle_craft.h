/* SPDX-License-Identifier: MIT */
/*
 * Bundles made by hand for tests (node_test_audit_bundle): an export read
 * back into its header and envelopes, and written again with one kind of
 * unsigned slack or extra Evidence/Checkpoint frames; what a store holds.
 */
#ifndef STRATA_TEST_BUNDLE_CRAFT_H
#define STRATA_TEST_BUNDLE_CRAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/bundle/bundle.h"

/* What to write: the export's header and envelopes, framed PER a frame,
 * with one kind of slack or some Evidence frames. */
struct craft {
	bool bad_magic, header_unknown, end_unknown;
	size_t per_frame;          /* envelopes per Entries frame (0: all in one) */
	size_t unknown_frame;      /* the Entries frame (from 1) given an unknown field */
	size_t unknown_in_entries; /* the Entries frame (from 1) given one after its first envelope */
	size_t bad_batch_frame;    /* the Entries frame (from 1) whose batch is off by one */
	long long entries_delta;   /* added to BundleEnd.entries */
	const Strata__Evidence *const *evidence;
	size_t n_evidence;
	long long evidence_delta;  /* added to BundleEnd.evidence */
	size_t checkpoints;        /* Checkpoint frames (their note is not read) */
	bool no_checkpoint_count;  /* BundleEnd.checkpoints absent */
	size_t trailing;           /* bytes after the end record */
};

struct loaded {
	uint8_t *header;
	size_t header_len;
	ProtobufCBinaryData *env;
	size_t n;
};

/* The whole file at path (malloc'd), its length in *len. */
uint8_t *read_all(const char *path, size_t *len);
/* Reads an exported bundle's header and envelopes into b. */
void load(const char *path, struct loaded *b);
void loaded_free(struct loaded *b);
/* Writes b framed as c says to path. */
void craft(const char *path, const struct loaded *b, const struct craft *c);
/* bundle_export of the node in dir (every feed) to file. */
void export_to(const char *dir, const char *file);
/* Entries the store in DIR holds (the sum of its heads). */
uint64_t held(const char *dir);

#endif
