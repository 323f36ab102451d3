/* SPDX-License-Identifier: MIT */
/*
 * The bulk writer's store thread (node_writer_begin_bulk). A bulk writer
 * splits its work over two threads: the caller's builds, signs and decodes
 * change set k+1 while a store thread checks and appends change set k and
 * commits. The store thread owns the write transaction from begin to end
 * (LMDB ties a write transaction to the thread that began it); the checks
 * and the order are node_ingest's, and before an abort the store thread
 * first finishes what it was handed, so that exactly the change sets a
 * one-thread writer would have committed are committed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node_internal.h"
#include "protocol/protocol.h"

/* The store thread: begins the transaction, then ingests the change sets it
 * is handed, in order, with checkpoints as a one-thread writer has them;
 * at the end commits or aborts. After a failure it only drops what it is
 * handed; the failure is reported on the caller's next seal or commit. */
static void *bulk_main(void *arg)
{
	struct node_writer *w = arg;
	struct err e = {0};
	int ret = writer_open(w, &e);

	pthread_mutex_lock(&w->mu);
	w->ready = true;
	if (ret < 0) {
		w->wret = ret;
		w->werr = e;
	}
	pthread_cond_broadcast(&w->cv);
	for (;;) {
		struct bulk_job job;

		while (w->q_len == 0 && w->end == BULK_RUN)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->q_len == 0)
			break;
		job = w->q[w->q_head];
		w->q_head = (w->q_head + 1) % BULK_QUEUE;
		w->q_len--;
		w->busy = true;
		ret = w->wret;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		if (ret == 0) {
			ret = node_ingest_changeset(w->n, w->txn, job.cs, 0, &e);
			if (ret == 0) {
				w->ops_open += job.ops;
				w->bytes_open += job.bytes;
				w->uncommitted++;
				ret = writer_checkpoint(w, &e);
			}
		}
		changeset_destroy(&job.cs);
		pthread_mutex_lock(&w->mu);
		if (ret < 0 && w->wret == 0) {
			w->wret = ret;
			w->werr = e;
		}
		w->busy = false;
		pthread_cond_broadcast(&w->cv);
	}
	ret = w->wret;
	bool commit = w->end == BULK_COMMIT;
	pthread_mutex_unlock(&w->mu);
	if (ret == 0 && commit) {
		ret = store_txn_commit(&w->txn, &e);
		if (ret == 0)
			w->ops_committed += w->ops_open;
	}
	store_txn_abort(&w->txn);
	pthread_mutex_lock(&w->mu);
	if (ret < 0 && w->wret == 0) {
		w->wret = ret;
		w->werr = e;
	}
	w->done = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int writer_bulk_start(struct node_writer *w, struct err *e)
{
	int ret;

	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	if (pthread_cond_init(&w->cv, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	w->bulk = true;
	if (pthread_create(&w->thread, NULL, bulk_main, w) != 0) {
		err_set(e, "cannot start a thread for the store");
		return -EAGAIN;
	}
	w->thread_started = true;
	pthread_mutex_lock(&w->mu);
	while (!w->ready)
		pthread_cond_wait(&w->cv, &w->mu);
	ret = w->wret;
	if (ret < 0)
		*e = w->werr;
	pthread_mutex_unlock(&w->mu);
	return ret;
}

/* Signs and decodes the open change set (on the caller's thread) and hands
 * it to the store thread, which checks and appends it as node_ingest does. */
int writer_bulk_seal(struct node_writer *w, struct err *e)
{
	struct changeset *cs = NULL;
	uint8_t *env = NULL;
	size_t len = 0, ops = changeset_builder_ops(w->b);
	int ret;

	pthread_mutex_lock(&w->mu);
	ret = w->wret;
	if (ret < 0)
		*e = w->werr;
	pthread_mutex_unlock(&w->mu);
	if (ret < 0)
		return ret;
	ret = changeset_builder_finish(w->b, w->n->key, &env, &len, w->head_hash, e);
	changeset_builder_destroy(&w->b);
	if (ret < 0)
		return ret;
	ret = changeset_decode(&cs, env, len, e);
	free(env);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&w->mu);
	while (w->q_len == BULK_QUEUE && w->wret == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	if ((ret = w->wret) < 0) {
		*e = w->werr;
	} else {
		w->q[(w->q_head + w->q_len) % BULK_QUEUE] = (struct bulk_job){.cs = cs, .ops = ops, .bytes = len};
		w->q_len++;
		cs = NULL;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	changeset_destroy(&cs);
	if (ret < 0)
		return ret;
	w->head_seq++;
	w->sealed++;
	return 0;
}

/* Ends a bulk writer's store thread: it finishes what it was handed, then
 * commits (how == BULK_COMMIT, if nothing failed) or aborts. Its result. */
int writer_bulk_end(struct node_writer *w, int how, struct err *e)
{
	int ret;

	if (!w->thread_started)
		return 0;
	pthread_mutex_lock(&w->mu);
	w->end = how;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->thread_started = false;
	ret = w->wret;
	if (ret < 0 && e)
		*e = w->werr;
	return ret;
}

size_t writer_bulk_ops_committed(struct node_writer *w)
{
	size_t n;

	/* What a one-thread writer would have committed by now: wait until
	 * the store thread has done what it was handed. */
	pthread_mutex_lock(&w->mu);
	while ((w->q_len || w->busy) && !w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	n = w->ops_committed;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void writer_bulk_release(struct node_writer *w)
{
	writer_bulk_end(w, BULK_ABORT, NULL);
	for (size_t i = 0; i < w->q_len; i++)
		changeset_destroy(&w->q[(w->q_head + i) % BULK_QUEUE].cs);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}
