/* SPDX-License-Identifier: MIT */
/*
 * A received batch of entries: its preparation on two cores and the read
 * ahead of the link's next batch (rbatch.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node/sync/rbatch.h"
#include "protocol/protocol.h"

static void prepare_one(struct prep *p, size_t i)
{
	struct changeset *cs = NULL;
	char who[17];

	if ((p->res[i] = changeset_decode(&cs, p->en->envelopes[i].data, p->en->envelopes[i].len, &p->why[i])) < 0)
		return;
	p->cs[i] = cs;
	if (changeset_verify(cs, &p->why[i]) < 0) {
		p->res[i] = -EBADMSG;
	} else if (node_check_records(cs, &p->why[i]) < 0) {
		hex_encode(who, cs->author, 8);
		err_prefix(&p->why[i], "entry %s…/%s/%llu", who, cs->feed, (unsigned long long)cs->seq);
		p->res[i] = -EINVAL;
	} else {
		p->res[i] = -EAGAIN; /* to store */
	}
}

/* Claims and prepares one entry; false when none is left. */
static bool prepare_next(struct prep *p)
{
	size_t i = atomic_fetch_add(&p->next, 1);

	if (i >= p->en->n_envelopes)
		return false;
	prepare_one(p, i);
	atomic_store_explicit(&p->ready[i], true, memory_order_release);
	pthread_mutex_lock(&p->mu);
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return true;
}

static void *prepare_worker(void *arg)
{
	while (prepare_next(arg))
		;
	return NULL;
}

/* Returns when entry i is prepared, preparing others meanwhile. */
void sync_rbatch_prepared(struct prep *p, size_t i)
{
	while (!atomic_load_explicit(&p->ready[i], memory_order_acquire))
		if (!prepare_next(p)) { /* all claimed: the worker holds i */
			pthread_mutex_lock(&p->mu);
			while (!atomic_load_explicit(&p->ready[i], memory_order_acquire))
				pthread_cond_wait(&p->cv, &p->mu);
			pthread_mutex_unlock(&p->mu);
		}
}

/* The per-entry arrays of b for en; false when out of memory. */
static bool batch_alloc(struct rbatch *b, const Strata__Entries *en)
{
	size_t n = en->n_envelopes, k = n ? n : 1;

	b->en = en;
	b->n = n;
	b->cs = calloc(k, sizeof *b->cs);
	b->res = calloc(k, sizeof *b->res);
	b->why = calloc(k, sizeof *b->why);
	b->conf = calloc(k, sizeof *b->conf);
	b->ready = calloc(k, sizeof *b->ready);
	if (!b->cs || !b->res || !b->why || !b->conf || !b->ready)
		return false;
	b->p.en = en;
	b->p.cs = b->cs;
	b->p.res = b->res;
	b->p.why = b->why;
	b->p.ready = b->ready;
	return true;
}

static void batch_init(struct rbatch *b)
{
	memset(b, 0, sizeof *b);
	atomic_init(&b->p.next, 0);
	pthread_mutex_init(&b->p.mu, NULL);
	pthread_cond_init(&b->p.cv, NULL);
	b->started = true;
}

/* Allocates b for en and starts its worker; false when out of memory (b
 * is then empty, batch_free is still right). */
bool sync_rbatch_start(struct rbatch *b, const Strata__Entries *en)
{
	batch_init(b);
	if (!batch_alloc(b, en))
		return false;
	b->decoded = true;
	b->threaded = b->n >= 2 && pthread_create(&b->worker, NULL, prepare_worker, &b->p) == 0;
	return true;
}

/* Decodes b's message: an Entries frame gets its arrays. Then wakes
 * batch_decoded. */
static void batch_decode(struct rbatch *b)
{
	b->dret = sync_frame_decode(zmq_msg_data(&b->raw), zmq_msg_size(&b->raw), &b->f, &b->de);
	if (b->dret == 0 && b->f->msg_case == STRATA__FRAME__MSG_ENTRIES && !batch_alloc(b, b->f->entries)) {
		err_set(&b->de, "out of memory for a batch of %zu entries", b->f->entries->n_envelopes);
		b->dret = -ENOMEM;
	}
	pthread_mutex_lock(&b->p.mu);
	b->decoded = true;
	pthread_cond_broadcast(&b->p.cv);
	pthread_mutex_unlock(&b->p.mu);
}

static void *decode_worker(void *arg)
{
	struct rbatch *b = arg;

	batch_decode(b);
	if (b->dret == 0 && b->en)
		while (prepare_next(&b->p))
			;
	return NULL;
}

/* Starts b from a message read ahead (taken over from *raw): its worker
 * decodes and prepares it while this thread commits the batch before. */
static void batch_start_raw(struct rbatch *b, zmq_msg_t *raw)
{
	batch_init(b);
	zmq_msg_init(&b->raw);
	zmq_msg_move(&b->raw, raw);
	zmq_msg_close(raw);
	b->has_raw = true;
	b->threaded = pthread_create(&b->worker, NULL, decode_worker, b) == 0;
	if (!b->threaded)
		batch_decode(b);
}

/* Waits until b is decoded; true when it is an Entries batch to store. */
bool sync_rbatch_decoded(struct rbatch *b)
{
	pthread_mutex_lock(&b->p.mu);
	while (!b->decoded)
		pthread_cond_wait(&b->p.cv, &b->p.mu);
	pthread_mutex_unlock(&b->p.mu);
	return b->dret == 0 && b->en;
}

/* Waits for the worker (every entry claimed is then prepared). */
void sync_rbatch_join(struct rbatch *b)
{
	if (b->threaded)
		pthread_join(b->worker, NULL);
	b->threaded = false;
	if (b->started) {
		pthread_cond_destroy(&b->p.cv);
		pthread_mutex_destroy(&b->p.mu);
	}
	b->started = false;
}

void sync_rbatch_free(struct rbatch *b)
{
	sync_rbatch_join(b);
	for (size_t i = 0; i < b->n && b->cs; i++)
		changeset_destroy(&b->cs[i]);
	free(b->cs);
	free(b->res);
	free(b->why);
	free(b->conf);
	free(b->ready);
	if (b->f)
		strata__frame__free_unpacked(b->f, NULL);
	if (b->has_raw)
		zmq_msg_close(&b->raw);
	memset(b, 0, sizeof *b);
}

/* Reads the link's next frame while a batch is being committed, without
 * decoding it: when it comes from the same link (and, on a ROUTER, from
 * the same certified key), nb is started on it and true returned; the
 * worker decodes and prepares it during the commit. Anything else is
 * decoded here and kept for the socket's loop, which dispatches it first. */
bool sync_read_ahead(struct link *l, struct rbatch *nb)
{
	struct daemon *d = l->d;
	bool router = sync_link_kind(l) == LINK_CHILD;
	struct frame_ahead *a = router ? &d->ahead_router : &d->ahead_dealer;
	void *sock = router ? d->router : d->dealer;
	zmq_msg_t raw;

	if (a->has || !sock)
		return false;
	memset(&a->e, 0, sizeof a->e);
	a->f = NULL;
	a->rid_len = 0;
	a->uid[0] = '\0';
	a->ret = sync_frame_recv_raw(sock, router, a->rid, &a->rid_len, a->uid, sizeof a->uid, &raw);
	if (a->ret == -EAGAIN)
		return false;
	a->fd = a->ret == 0 ? zmq_msg_get(&raw, ZMQ_SRCFD) : -1;
	if (a->ret == 0 && (!router || (sync_link_has_rid(l, a->rid, a->rid_len) &&
					strncmp(a->uid, "key:", 4) == 0))) {
		batch_start_raw(nb, &raw);
		return true;
	}
	if (a->ret == 0) {
		a->ret = sync_frame_decode(zmq_msg_data(&raw), zmq_msg_size(&raw), &a->f, &a->e);
		zmq_msg_close(&raw);
	}
	a->has = true;
	return false;
}

/* A batch read ahead that is not Entries after all (another message, or
 * one that does not decode): handed to the socket's loop, as read_ahead
 * hands what it does not take. */
void sync_read_ahead_return(struct link *l, struct rbatch *nb)
{
	struct daemon *d = l->d;
	struct frame_ahead *a = sync_link_kind(l) == LINK_CHILD ? &d->ahead_router : &d->ahead_dealer;

	sync_rbatch_join(nb);
	a->ret = nb->dret;
	a->e = nb->de;
	if (nb->dret == 0) { /* else nb->f, if any, is freed with nb */
		a->f = nb->f;
		nb->f = NULL;
	}
	a->has = true;
}

