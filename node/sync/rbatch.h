/* SPDX-License-Identifier: MIT */
/*
 * A received batch of entries (rbatch.c): prepared on two cores while it is
 * stored, and the link's next batch read ahead and decoded during the
 * commit. For receive.c.
 */
#ifndef STRATA_SYNC_RBATCH_H
#define STRATA_SYNC_RBATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <zmq.h>

#include "node/sync/sync_internal.h"

/* Two envelopes of one (author, feed, seq) that differ: copies kept for
 * the evidence, recorded after the batch is answered. */
struct conflict {
	uint8_t *first, *second;
	size_t first_len, second_len;
};


/* Everything about an entry that needs no store (decoding within limits,
 * the signature, the records' rules) is independent of the other entries,
 * and is most of the CPU cost of ingest. So a batch is prepared on two
 * cores while it is stored: a short-lived worker thread and this thread
 * claim entries to prepare one by one, and this thread stores them in
 * order as they become ready, preparing the next unclaimed one itself
 * whenever the next to store is not ready yet. */
struct prep {
	const Strata__Entries *en;
	struct changeset **cs;
	int *res;
	struct err *why;
	atomic_size_t next;   /* the next entry nobody has claimed */
	atomic_bool *ready;   /* entry i is prepared */
	pthread_mutex_t mu;   /* with cv: waiting for an entry the worker holds */
	pthread_cond_t cv;
};

/* One received batch (rbatch): its entries as they are prepared, and the worker
 * preparing them beside this thread. A batch read ahead during the previous
 * commit arrives undecoded (raw): the worker decodes it first, so the
 * decompression and unpacking of the next batch overlap the commit too. */
struct rbatch {
	const Strata__Entries *en;
	size_t n;
	struct changeset **cs;
	int *res;
	struct err *why;
	struct conflict *conf;
	atomic_bool *ready;
	struct prep p;
	pthread_t worker;
	bool threaded, started;
	/* read ahead: the message, its decoding (f owned here), and whether
	 * the worker is done decoding (under p.mu, signalled on p.cv) */
	bool has_raw, decoded;
	zmq_msg_t raw;
	Strata__Frame *f;
	int dret;
	struct err de;
};

/* Allocates b for en and starts its worker; false when out of memory (b
 * is then empty, sync_rbatch_free is still right). */
bool sync_rbatch_start(struct rbatch *b, const Strata__Entries *en);
/* Waits until entry i of the batch is prepared (preparing it here if no
 * one has claimed it). */
void sync_rbatch_prepared(struct prep *p, size_t i);
/* A batch read ahead: waits for its decoding; true when it is Entries. */
bool sync_rbatch_decoded(struct rbatch *b);
/* Waits for the worker to end. */
void sync_rbatch_join(struct rbatch *b);
/* Frees what b holds (joining its worker first). */
void sync_rbatch_free(struct rbatch *b);
/* Reads the link's next frame while a batch is being committed, without
 * decoding it: when it comes from the same link (and, on a ROUTER, from
 * the same certified key), nb is started on it and true returned; the
 * worker decodes and prepares it during the commit. Anything else is
 * decoded here and kept for the socket's loop, which dispatches it first. */
bool sync_read_ahead(struct link *l, struct rbatch *nb);
/* A batch read ahead that is not Entries after all: handed to the socket's
 * loop, as sync_read_ahead hands what it does not take. */
void sync_read_ahead_return(struct link *l, struct rbatch *nb);

#endif
