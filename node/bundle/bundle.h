/* SPDX-License-Identifier: MIT */
/*
 * bundle: feeds in a file, for branches with no network (a USB stick) and
 * for auditors. The same messages as on a link (Entries, Evidence), framed
 * with lengths after a header naming the format version and the exporting
 * node, and closed by a count so a truncated file is detected. Import runs
 * every entry through node_ingest, exactly the checks of the network.
 */
#ifndef STRATA_BUNDLE_H
#define STRATA_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/core/node.h"

#define BUNDLE_MAGIC "STRATA-BUNDLE-1\n"
#define BUNDLE_MAGIC_LEN 16

/* Which feeds to export. */
struct bundle_filter {
	char **feeds;            /* feed names; NULL: every feed */
	size_t n_feeds;
	/* optional: the receiver's heads; only entries above them are exported */
	int (*since)(const uint8_t author[KEY_BYTES], const char *feed, uint64_t *seq, void *arg);
	void *arg;
};

struct bundle_counts {
	size_t feeds, entries, bytes;
	size_t checkpoints;      /* Checkpoint frames written; taken on import (stored or already known) */
};

/* Writes the node's feeds (trust feeds first, the root's before its
 * descendants', then the others, each oldest first) to
 * PATH, atomically (a temporary file renamed into place). */
int bundle_export(struct node *n, const struct bundle_filter *f, const char *path, struct bundle_counts *c,
		  struct err *e) WUR;

/* A bundle being read. */
struct bundle_reader;

/* Opens PATH and reads its header (the exporter's key, name and root are
 * then available). -EINVAL: not a bundle, of another version, or a header
 * that is damaged or holds an unknown field. */
int bundle_open(struct bundle_reader **out, const char *path, struct err *e) WUR;
void bundle_close(struct bundle_reader **r);
const Strata__BundleHeader *bundle_header(const struct bundle_reader *r);

/* Reads the next entry's envelope bytes (valid until the next call): 1 with
 * an entry, 0 at a complete end, or -EBADMSG (a damaged or truncated
 * bundle, with where). Evidence frames are returned through *evidence (may
 * be NULL to skip them; valid until the next call) with *len 0; Checkpoint
 * frames are counted, not returned. The unsigned slack is refused with
 * -EBADMSG and the byte offset (docs/PROTOCOL.md, "Bundles"): an unknown
 * field in any frame, an Entries.batch that is not the running count of
 * entries through its frame, an end record whose counts (entries,
 * checkpoints, evidence when present) disagree, any byte after the end. */
int bundle_next(struct bundle_reader *r, const uint8_t **env, size_t *len, const Strata__Evidence **evidence,
		struct err *e) WUR;

/* Checkpoint frames: bundle_next calls fn with each note (valid during the
 * call) as it reads past it; a negative return ends bundle_next with it (e
 * says why). Without fn they are skipped. */
void bundle_on_checkpoint(struct bundle_reader *r, int (*fn)(const uint8_t *note, size_t len, void *arg, struct err *e),
			  void *arg);

/* Position of the last entry read: its index in the bundle (from 1). */
size_t bundle_entry_index(const struct bundle_reader *r);

/* Where the last entry read is in the file: its frame (records after the
 * header, from 1) and the byte offset of its envelope (of its record when
 * that cannot be told). */
void bundle_entry_place(const struct bundle_reader *r, size_t *frame, uint64_t *offset);

/* Imports a bundle into node n: every entry through node_ingest, in order,
 * committed in batches. Duplicates are no-ops (a bundle imports twice
 * safely). At the first bad entry everything before it stays committed,
 * nothing after is read, and e says which entry and why. */
int bundle_import(struct node *n, const char *path, struct bundle_counts *stored, size_t *duplicates,
		  struct err *e) WUR;

#endif
