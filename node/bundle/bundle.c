/* SPDX-License-Identifier: MIT */
/*
 * Bundle files: writing a node's feeds to a file, and importing one
 * (reading is bundle_read.c).
 * Layout (docs/PROTOCOL.md, "Bundles"): BUNDLE_MAGIC, then records of a
 * 4-byte big-endian length and a message: a BundleHeader, Frames holding
 * Entries (at most 512 envelopes or 1 MiB each), one Frame holding an
 * Evidence per proof of equivocation the store keeps, and a final Frame
 * holding a BundleEnd with the number of entries and of Evidence frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/bundle/bundle_internal.h"
#include "node/core/checkpoint.h"
#include "node/records/records.h"

#define BUNDLE_BATCH_ENTRIES 512
#define BUNDLE_BATCH_BYTES (1u << 20)

/* --- writing --- */

struct writer {
	FILE *f;
	const char *path;
	ProtobufCBinaryData *env;
	size_t n, cap, bytes;
	struct bundle_counts *c;
	struct err *e;
	int ret;
};

static int put_record(struct writer *w, const uint8_t *buf, size_t len)
{
	uint8_t be[4];

	be32_put(be, (uint32_t)len);

	if (fwrite(be, 1, 4, w->f) != 4 || fwrite(buf, 1, len, w->f) != len) {
		err_set(w->e, "cannot write %s: %s", w->path, strerror(errno));
		return w->ret = -EIO;
	}
	w->c->bytes += len + 4;
	return 0;
}

static int put_frame(struct writer *w, const Strata__Frame *f)
{
	size_t len = strata__frame__get_packed_size(f);
	uint8_t *buf = malloc(len ? len : 1);
	int ret;

	if (!buf) {
		err_set(w->e, "out of memory");
		return w->ret = -ENOMEM;
	}
	strata__frame__pack(f, buf);
	ret = put_record(w, buf, len);
	free(buf);
	return ret;
}

static int flush_batch(struct writer *w)
{
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Entries en = STRATA__ENTRIES__INIT;
	int ret;

	if (!w->n)
		return 0;
	en.batch = w->c->entries;
	en.n_envelopes = w->n;
	en.envelopes = w->env;
	f.msg_case = STRATA__FRAME__MSG_ENTRIES;
	f.entries = &en;
	ret = put_frame(w, &f);
	w->n = w->bytes = 0;
	return ret;
}

static int add_entry(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg)
{
	struct writer *w = arg;

	(void)seq;
	(void)hash;
	if ((w->n >= BUNDLE_BATCH_ENTRIES || (w->n && w->bytes + len > BUNDLE_BATCH_BYTES)) && flush_batch(w) < 0)
		return w->ret;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		ProtobufCBinaryData *v = realloc(w->env, cap * sizeof *v);

		if (!v) {
			err_set(w->e, "out of memory");
			return w->ret = -ENOMEM;
		}
		w->env = v;
		w->cap = cap;
	}
	/* Points into the map: the read transaction outlives the flush. */
	w->env[w->n].data = (uint8_t *)bytes;
	w->env[w->n].len = len;
	w->n++;
	w->bytes += len;
	w->c->entries++;
	return 0;
}

struct ranked {
	size_t i, rank;
};

static int by_rank(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->rank != y->rank)
		return (x->rank > y->rank) - (x->rank < y->rank);
	return (x->i > y->i) - (x->i < y->i);
}

bool bundle_wanted(const struct bundle_filter *f, const char *feed)
{
	if (!f || !f->feeds)
		return true;
	for (size_t i = 0; i < f->n_feeds; i++)
		if (strcmp(f->feeds[i], feed) == 0)
			return true;
	return false;
}

/* Trust feeds first, shallower authors first, so that an importer meets
 * every certificate before the entries it vouches for. */
static size_t rank_of(struct node *n, struct store_txn *t, const struct store_head *h)
{
	char name[NODE_NAME_SIZE];
	size_t depth = 1;

	if (node_key_name(n, t, h->author, name) < 0)
		depth = 500;
	else
		for (const char *p = name; *p; p++)
			depth += *p == '/';
	return (strcmp(h->feed, FEED_TRUST) == 0 ? 0 : 1000) + depth;
}

/* One Evidence frame per proof the store keeps (index "evidence"), so an
 * audit of the bundle reports what an audit of the store reports; counted
 * in *count for BundleEnd.evidence. */
struct ev_out {
	struct writer *w;
	const struct bundle_filter *flt;
	uint64_t count;
};

static int put_evidence(const struct node_evidence_key *k, const uint8_t *val, size_t len, void *arg)
{
	struct ev_out *o = arg;
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Evidence *ev = strata__evidence__unpack(NULL, len, val);
	int ret;

	if (!ev)
		return 0; /* a kept record that does not decode: strata verify reports it */
	if (k && !bundle_wanted(o->flt, k->feed)) {
		strata__evidence__free_unpacked(ev, NULL);
		return 0;
	}
	f.msg_case = STRATA__FRAME__MSG_EVIDENCE;
	f.evidence = ev;
	ret = put_frame(o->w, &f);
	strata__evidence__free_unpacked(ev, NULL);
	if (ret == 0)
		o->count++;
	return ret;
}

/* Signs a fresh checkpoint of each of this node's own feeds that is
 * exported, in one write transaction, when it can: a store opened
 * read-only, without its key, or fenced after a restore exports the notes
 * it holds as they are (node_checkpoint_sign_own keeps the fence and
 * frozen feeds). */
static void sign_own(struct node *n, const struct bundle_filter *flt)
{
	struct {
		struct store_head *v;
		size_t n;
	} heads = {0};
	struct store_txn *t = NULL;
	struct err ignore = {0};
	bool ok = true;

	if (store_txn_begin(node_store(n), true, &t, &ignore) < 0)
		return;
	if (store_heads_list(t, &heads.v, &heads.n, &ignore) < 0)
		ok = false;
	for (size_t i = 0; ok && i < heads.n; i++)
		if (memcmp(heads.v[i].author, node_id(n), KEY_BYTES) == 0 && heads.v[i].seq && bundle_wanted(flt, heads.v[i].feed))
			ok = node_checkpoint_sign_own(n, t, heads.v[i].feed, &ignore) >= 0;
	if (ok)
		ok = store_txn_commit(&t, &ignore) == 0;
	store_txn_abort(&t);
	free(heads.v);
}

/* After the entries: the held notes of each exported feed, the newest and
 * the newest witnessed one when they differ (frozen feeds' too: an auditor
 * sees what was held). */
static int put_checkpoints(struct writer *w, struct store_txn *t, const struct store_head *h)
{
	const uint8_t *note[2] = {NULL, NULL};
	size_t len[2] = {0, 0};

	for (int k = 0; k < 2; k++) {
		Strata__Frame f = STRATA__FRAME__INIT;
		Strata__Checkpoint c = STRATA__CHECKPOINT__INIT;
		struct err ignore = {0};
		int ret;

		if (node_checkpoint_get(t, h->author, h->feed, k == 1, &note[k], &len[k], &ignore) < 0)
			continue;
		if (k == 1 && note[0] && len[0] == len[1] && memcmp(note[0], note[1], len[0]) == 0)
			continue;
		c.note.data = (uint8_t *)note[k];
		c.note.len = len[k];
		f.msg_case = STRATA__FRAME__MSG_CHECKPOINT;
		f.checkpoint = &c;
		if ((ret = put_frame(w, &f)) < 0)
			return ret;
		w->c->checkpoints++;
	}
	return 0;
}

/* The magic and the header record: this node, its root, the time. */
static int write_header(struct node *n, struct writer *w, const char *tmp)
{
	Strata__BundleHeader hd = STRATA__BUNDLE_HEADER__INIT;
	uint8_t *buf;
	size_t len;
	int ret = 0;

	hd.version = 1;
	hd.node.data = (uint8_t *)node_id(n);
	hd.node.len = KEY_BYTES;
	hd.name = (char *)node_name(n);
	if (node_root(n)) {
		hd.has_root = 1;
		hd.root.data = (uint8_t *)node_root(n);
		hd.root.len = KEY_BYTES;
	}
	hd.created_ms = node_now_ms();
	len = strata__bundle_header__get_packed_size(&hd);
	if (!(buf = malloc(len)))
		return -ENOMEM;
	strata__bundle_header__pack(&hd, buf);
	if (fwrite(BUNDLE_MAGIC, 1, BUNDLE_MAGIC_LEN, w->f) != BUNDLE_MAGIC_LEN || put_record(w, buf, len) < 0) {
		err_set(w->e, "cannot write %s: %s", tmp, strerror(errno));
		ret = -EIO;
	}
	free(buf);
	return ret;
}

/* After the entries: one Evidence frame per kept proof, the held notes
 * of each exported feed (in the entries' order), then the end record with
 * the three counts. */
static int put_tail(struct writer *w, struct store_txn *t, const struct bundle_filter *flt,
		    const struct store_head *heads, size_t n_heads, const struct ranked *order)
{
	Strata__BundleEnd end = STRATA__BUNDLE_END__INIT;
	Strata__Frame f = STRATA__FRAME__INIT;
	struct ev_out evo = {.w = w, .flt = flt};
	int ret;

	if ((ret = node_evidence_each(t, put_evidence, &evo, w->e)) < 0)
		return ret;
	for (size_t k = 0; k < n_heads; k++) {
		const struct store_head *h = &heads[order[k].i];

		if (bundle_wanted(flt, h->feed) && (ret = put_checkpoints(w, t, h)) < 0)
			return ret;
	}
	end.entries = w->c->entries;
	end.has_evidence = 1;
	end.evidence = evo.count;
	end.has_checkpoints = 1;
	end.checkpoints = w->c->checkpoints;
	f.msg_case = STRATA__FRAME__MSG_END;
	f.end = &end;
	return put_frame(w, &f);
}

int bundle_export(struct node *n, const struct bundle_filter *flt, const char *path, struct bundle_counts *c,
		  struct err *e)
{
	struct writer w = {.path = path, .c = c, .e = e};
	struct {
		struct store_head *v;
		size_t n;
	} heads = {0};
	struct ranked *order = NULL;
	struct store_txn *t = NULL;
	bool *chains = NULL; /* trust feeds written for the chains when trust is filtered out */
	char tmp[NODE_PATH_MAX];
	int ret, fd;

	memset(c, 0, sizeof *c);
	sign_own(n, flt);
	snprintf(tmp, sizeof tmp, "%s.partial", path);
	/* 0600 whatever the umask: a bundle holds members' personal data */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 || fchmod(fd, 0600) < 0 ||
	    !(w.f = fdopen(fd, "wb"))) {
		ret = err_os(errno);
		err_set(e, "cannot create %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if ((ret = store_txn_begin(node_store(n), false, &t, e)) < 0 ||
	    (ret = store_heads_list(t, &heads.v, &heads.n, e)) < 0 ||
	    (ret = bundle_chain_feeds(t, heads.v, heads.n, flt, &chains, e)) < 0)
		goto out;
	ret = -ENOMEM;
	if (!(order = calloc(heads.n ? heads.n : 1, sizeof *order)))
		goto out;
	for (size_t i = 0; i < heads.n; i++)
		order[i] = (struct ranked){.i = i, .rank = rank_of(n, t, &heads.v[i])};
	qsort(order, heads.n, sizeof *order, by_rank);
	if ((ret = write_header(n, &w, tmp)) < 0)
		goto out;
	for (size_t k = 0; k < heads.n; k++) {
		const struct store_head *h = &heads.v[order[k].i];
		uint64_t from = 0;

		if (!bundle_wanted(flt, h->feed) && !(chains && chains[order[k].i]))
			continue;
		if (flt && flt->since && flt->since(h->author, h->feed, &from, flt->arg) == 0 && from >= h->seq)
			continue;
		c->feeds++;
		if ((ret = store_log_each(t, h->author, h->feed, from + 1, h->seq, add_entry, &w, e)) < 0 ||
		    (ret = w.ret) < 0)
			goto out;
	}
	if ((ret = flush_batch(&w)) < 0 || (ret = put_tail(&w, t, flt, heads.v, heads.n, order)) < 0)
		goto out;
	if (fflush(w.f) != 0 || fsync(fileno(w.f)) != 0) {
		err_set(e, "cannot write %s: %s", tmp, strerror(errno));
		ret = -EIO;
		goto out;
	}
	ret = 0;
out:
	if (ret == -ENOMEM)
		err_set(e, "out of memory");
	store_txn_abort(&t);
	if (w.f && fclose(w.f) != 0 && ret == 0) {
		err_set(e, "cannot write %s: %s", tmp, strerror(errno));
		ret = -EIO;
	}
	if (ret == 0 && rename(tmp, path) != 0) {
		err_set(e, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		ret = -EIO;
	}
	if (ret < 0)
		unlink(tmp);
	free(order);
	free(chains);
	free(w.env);
	free(heads.v);
	return ret;
}

/* An entry that conflicts with the stored one of its seq is equivocation:
 * keep the proof and freeze the feed, as a link does. */
static void keep_evidence(struct store_txn *t, const uint8_t *env, size_t len)
{
	struct changeset *cs = NULL;
	struct err ignore = {0};
	const uint8_t *stored;
	size_t stored_len;
	bool known;

	/* best effort: the import stops at this entry with its own error anyway */
	if (changeset_decode(&cs, env, len, &ignore) == 0 &&
	    store_log_get(t, cs->author, cs->feed, cs->seq, &stored, &stored_len, NULL, &ignore) == 0 &&
	    node_evidence_store(t, stored, stored_len, env, len, &known, &ignore) < 0)
		known = false;
	changeset_destroy(&cs);
}

/* Checkpoints on import: each through node_checkpoint_ingest in the
 * import's transaction, co-signed where this node witnesses the author. A
 * note refused (a bad signature, an unknown author) or inconsistent with
 * the entries held (kept as evidence, the feed frozen) ends the import with
 * the reason, like a bad entry; one larger than the entries held is not
 * kept (the bundle lacks those entries). */
struct import_ckpt {
	struct node *n;
	struct store_txn **t;
	const char *path;
	struct bundle_counts *stored;
};

static int import_checkpoint(const uint8_t *note, size_t len, void *arg, struct err *e)
{
	struct import_ckpt *x = arg;
	enum node_ckpt_outcome out;
	struct err why = {0};
	int ret;

	if (!*x->t && (ret = store_txn_begin(node_store(x->n), true, x->t, e)) < 0)
		return ret;
	if ((ret = node_checkpoint_ingest(x->n, *x->t, note, len, true, &out, &why)) < 0) {
		err_set(e, "%s: a checkpoint refused: %s", x->path, why.msg);
		return ret;
	}
	if (out == NODE_CKPT_INCONSISTENT) {
		struct note nt;

		if (note_parse((const char *)note, len, &nt, &why) == 0) {
			char who[KEY_HEX];

			key_hex(who, nt.cp.author);
			err_set(e, "%s: the checkpoint of %s/%s at size %llu contradicts the entries held: kept as evidence, "
				"the feed is frozen", x->path, who, nt.cp.feed, (unsigned long long)nt.cp.size);
		}
		return -EBADE;
	}
	if (out != NODE_CKPT_AHEAD)
		x->stored->checkpoints++;
	return 0;
}

int bundle_import(struct node *n, const char *path, struct bundle_counts *stored, size_t *duplicates, struct err *e)
{
	struct bundle_reader *r = NULL;
	struct store_txn *t = NULL;
	const uint8_t *env;
	size_t len, in_txn = 0;
	int ret;

	memset(stored, 0, sizeof *stored);
	*duplicates = 0;
	struct import_ckpt ck = {.n = n, .t = &t, .path = path, .stored = stored};

	if ((ret = bundle_open(&r, path, e)) < 0)
		return ret;
	bundle_on_checkpoint(r, import_checkpoint, &ck);
	for (;;) {
		struct err why = {0};

		if ((ret = bundle_next(r, &env, &len, NULL, e)) <= 0)
			break;
		if (!t && (ret = store_txn_begin(node_store(n), true, &t, e)) < 0)
			break;
		ret = node_ingest(n, t, env, len, &why);
		if (ret == -EBADE)
			keep_evidence(t, env, len);
		if (ret == -EALREADY) {
			(*duplicates)++;
		} else if (ret < 0) {
			size_t frame;
			uint64_t at;

			bundle_entry_place(r, &frame, &at);
			err_set(e, "%s: entry %zu: %s (frame %zu, at byte %llu)", path, bundle_entry_index(r), why.msg, frame,
				(unsigned long long)at);
			if (ret == -ENOSPC || ret == -EIO || ret == -ENOMEM) {
				store_txn_abort(&t); /* this batch is lost, the ones before it are committed */
				stored->entries -= in_txn;
			}
			break;
		} else {
			stored->entries++;
			stored->bytes += len;
			in_txn++;
		}
		if (in_txn >= BUNDLE_BATCH_ENTRIES) {
			int c = store_txn_commit(&t, e);

			if (c < 0) {
				stored->entries -= in_txn;
				ret = c;
				break;
			}
			in_txn = 0;
		}
	}
	/* Everything before a bad entry stays: commit what this transaction holds. */
	if (t) {
		int c = store_txn_commit(&t, ret < 0 ? NULL : e);

		if (c < 0) {
			stored->entries -= in_txn;
			if (ret >= 0)
				ret = c;
		}
	}
	bundle_close(&r);
	if (stored->entries) {
		struct err why = {0};

		/* An erase request among the entries: its old bytes out of data.mdb
		 * (best effort: what a reader held stays due, and the next
		 * import, erase or the daemon's sweep scrubs it). */
		if (node_scrub(n, NULL, &why) < 0)
			why.msg[0] = '\0';
	}
	return ret < 0 ? ret : 0;
}
