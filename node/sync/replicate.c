/* SPDX-License-Identifier: MIT */
/*
 * Replication on one link. Both sides open with Hello (the heads of every
 * feed the other side may send them); each then streams what the other
 * lacks, oldest first and trust feeds before data feeds, in batches bounded
 * in entries and bytes with at most SYNC_WINDOW unacknowledged. The receiver
 * verifies and stores a whole batch in one transaction and acknowledges it
 * with its new heads. Anything refused is answered with an Error naming the
 * entry; a gap is answered with a Want. Heads are the only cursor, so a
 * restart or a week offline resumes exactly where it stopped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"
#include "node/sync/sync_internal.h"
#include "protocol/protocol.h"

/* --- sending --- */

void link_send_hello(struct link *l)
{
	struct daemon *d = l->d;
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Hello h = STRATA__HELLO__INIT;
	struct {
		struct store_head *v;
		size_t n;
	} heads = {0};
	Strata__Head *hv = NULL, **hp = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	size_t n = 0;

	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0 ||
	    store_heads_list(t, &heads.v, &heads.n, &e) < 0) {
		sync_log(d, "cannot read heads for a hello: %s", e.msg);
		goto out;
	}
	hv = calloc(heads.n ? heads.n : 1, sizeof *hv);
	hp = calloc(heads.n ? heads.n : 1, sizeof *hp);
	if (!hv || !hp)
		goto out;
	for (size_t i = 0; i < heads.n; i++) {
		struct store_head *sh = &heads.v[i];

		if (!route_accept(d, t, l, sh->author, sh->feed))
			continue;
		strata__head__init(&hv[n]);
		hv[n].author.data = sh->author;
		hv[n].author.len = KEY_BYTES;
		hv[n].feed = sh->feed;
		hv[n].seq = sh->seq;
		hv[n].has_hash = 1;
		hv[n].hash.data = sh->hash;
		hv[n].hash.len = HASH_BYTES;
		hp[n] = &hv[n];
		n++;
	}
	h.version = SYNC_PROTOCOL_VERSION;
	h.node.data = (uint8_t *)node_id(d->n);
	h.node.len = KEY_BYTES;
	h.name = (char *)node_name(d->n);
	h.n_heads = n;
	h.heads = hp;
	h.n_accept = 2;
	h.accept = (char *[]){"zstd", "elide"};
	f.msg_case = STRATA__FRAME__MSG_HELLO;
	f.hello = &h;
	if (link_send(l, &f) == 0) {
		l->hello_sent = true;
		l->hello_ms = node_now_ms();
	}
out:
	store_txn_abort(&t);
	free(hv);
	free(hp);
	free(heads.v);
}

struct batch {
	ProtobufCBinaryData *env;
	size_t n, cap, bytes;
	uint64_t last_seq;
};

static int add_entry(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg)
{
	struct batch *b = arg;

	(void)hash;
	if (b->n >= SYNC_BATCH_ENTRIES || (b->n && b->bytes + len > SYNC_BATCH_BYTES))
		return 1; /* full */
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		ProtobufCBinaryData *v = realloc(b->env, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		b->env = v;
		b->cap = cap;
	}
	b->env[b->n].data = (uint8_t *)bytes; /* valid while the read transaction lives */
	b->env[b->n].len = len;
	b->n++;
	b->bytes += len;
	b->last_seq = seq;
	return 0;
}

static size_t name_depth(struct daemon *d, struct store_txn *t, const uint8_t *key)
{
	char name[256];
	size_t n = 1;

	if (node_key_name(d->n, t, key, name) < 0)
		return 1000;
	for (const char *p = name; *p; p++)
		n += *p == '/';
	return n;
}

/* Adds what link l lacks of head h to the batch; true if the batch is full. */
static bool fill_from(struct link *l, struct store_txn *t, const struct store_head *h, struct batch *b, uint64_t now)
{
	struct feedmap_val *v;
	struct err e = {0};
	int ret;

	if (h->flags & STORE_FEED_FROZEN)
		return false; /* an equivocating feed goes no further */
	if (!(v = feedmap_get(&l->sent, h->author, h->feed)))
		return false;
	if (v->seq >= h->seq) {
		v->give_back = false; /* it holds all of its own feed again */
		return false;
	}
	if (v->stalled_until > now)
		return false;
	if (!route_send(l->d, t, l, h->author, h->feed) && !heads_give_back(l, v, h->author))
		return false;
	b->last_seq = v->seq;
	ret = store_log_each(t, h->author, h->feed, v->seq + 1, h->seq, add_entry, b, &e);
	if (ret < 0) {
		sync_log(l->d, "cannot read %s entries for %s: %s", h->feed, l->name, e.msg);
		return false;
	}
	v->seq = b->last_seq;
	return ret == 1;
}

struct ranked {
	size_t i, depth;
};

static int by_depth(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	return (x->depth > y->depth) - (x->depth < y->depth);
}

void link_pump(struct link *l)
{
	struct daemon *d = l->d;
	struct {
		struct store_head *v;
		size_t n;
	} heads = {0};
	struct store_txn *t = NULL;
	struct batch b = {0};
	struct ranked *trust = NULL;
	size_t ntrust = 0;
	uint64_t now = node_now_ms();
	struct err e = {0};

	if (!l->up || l->inflight >= SYNC_WINDOW || l->paused_until > now)
		return;
	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0 ||
	    store_heads_list(t, &heads.v, &heads.n, &e) < 0) {
		sync_log(d, "cannot read heads: %s", e.msg);
		goto out;
	}
	/* Trust feeds first, the root's before its children's, so that every
	 * certificate arrives before the entries it vouches for. */
	if (!(trust = calloc(heads.n ? heads.n : 1, sizeof *trust)))
		goto out;
	for (size_t i = 0; i < heads.n; i++)
		if (strcmp(heads.v[i].feed, "trust") == 0)
			trust[ntrust++] = (struct ranked){.i = i, .depth = name_depth(d, t, heads.v[i].author)};
	qsort(trust, ntrust, sizeof *trust, by_depth);
	while (l->inflight < SYNC_WINDOW) {
		Strata__Frame f = STRATA__FRAME__INIT;
		Strata__Entries en = STRATA__ENTRIES__INIT;
		bool full = false, had_trust = false;

		b.n = b.bytes = 0;
		for (size_t i = 0; i < ntrust && !full; i++)
			full = fill_from(l, t, &heads.v[trust[i].i], &b, now);
		had_trust = b.n > 0;
		for (size_t i = 0; i < heads.n && !full && !had_trust; i++)
			if (strcmp(heads.v[i].feed, "trust") != 0)
				full = fill_from(l, t, &heads.v[i], &b, now);
		if (b.n == 0)
			break;
		en.batch = ++d->batch_seq;
		en.n_envelopes = b.n;
		en.envelopes = b.env;
		f.msg_case = STRATA__FRAME__MSG_ENTRIES;
		f.entries = &en;
		if (link_send(l, &f) < 0) {
			sync_log(d, "cannot send to %s; will resend after it reconnects", l->name);
			l->up = false;
			break;
		}
		l->inflight++;
		l->batches++;
		l->entries_sent += b.n;
		if (d->o->verbose)
			sync_log(d, "sent batch %llu of %zu entries to %s", (unsigned long long)en.batch, b.n, l->name);
	}
out:
	store_txn_abort(&t);
	free(b.env);
	free(trust);
	free(heads.v);
}

void daemon_pump_all(struct daemon *d)
{
	if (d->parent)
		link_pump(d->parent);
	for (size_t i = 0; i < d->nchildren; i++)
		link_pump(d->children[i]);
}

/* --- receiving --- */

static void on_hello(struct link *l, const Strata__Hello *h)
{
	struct daemon *d = l->d;
	struct store_txn *t = NULL;
	struct err e = {0};

	if (h->version != SYNC_PROTOCOL_VERSION) {
		link_send_error(l, EPROTONOSUPPORT, "protocol version not supported (this node speaks 1)", NULL, NULL, 0);
		return;
	}
	if (h->node.len != KEY_BYTES || memcmp(h->node.data, l->key, KEY_BYTES) != 0) {
		link_send_error(l, EACCES, "hello names a key other than the one this connection authenticated", NULL,
				NULL, 0);
		if (link_refusal_allow(l, node_now_ms()))
			sync_log(d, "refused a hello from %s: it names another key", l->name);
		return;
	}
	if (l->kind == LINK_PARENT)
		snprintf(l->name, sizeof l->name, "%s", h->name);
	l->zstd = l->elide = false;
	for (size_t i = 0; i < h->n_accept; i++) {
		l->zstd |= strcmp(h->accept[i], "zstd") == 0;
		l->elide |= strcmp(h->accept[i], "elide") == 0;
	}
	feedmap_clear(&l->sent);
	l->inflight = 0;
	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0) {
		sync_log(d, "cannot read the store: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < h->n_heads; i++) {
		const Strata__Head *hd = h->heads[i];
		struct feedmap_val *v;

		if (hd->author.len != KEY_BYTES || strlen(hd->feed) > LIMIT_NAME_BYTES)
			continue;
		if ((v = feedmap_get(&l->sent, hd->author.data, hd->feed))) {
			uint8_t mine[HASH_BYTES];
			const uint8_t *b;
			size_t bl;
			struct err ig = {0};

			v->seq = hd->seq;
			/* the same seq with another hash: send ours, the receiver sees the fork */
			if (hd->seq && hd->has_hash && hd->hash.len == HASH_BYTES &&
			    store_log_get(t, hd->author.data, hd->feed, hd->seq, &b, &bl, mine, &ig) == 0 &&
			    memcmp(mine, hd->hash.data, HASH_BYTES) != 0)
				v->seq = hd->seq - 1;
		}
	}
	store_txn_abort(&t);
	if (!l->up)
		sync_log(d, "link %s %s is up", l->kind == LINK_PARENT ? "to parent" : "from", l->name);
	l->up = true;
	l->refused_hello = false;
	l->since_ms = node_now_ms();
	/* A child that says hello again reset its side (it found the link
	 * dead while the connection lived on): it needs our heads again. */
	if (!l->hello_sent || l->kind == LINK_CHILD)
		link_send_hello(l);
	if (l->kind == LINK_PARENT)
		evidence_send_all(l);
	heads_on_hello(l, h); /* our own feeds, where it holds more than we do */
	link_pump(l);
}

struct conflict {
	uint8_t *first, *second;
	size_t first_len, second_len;
};

struct touched {
	uint8_t author[KEY_BYTES];
	char feed[LIMIT_NAME_BYTES + 1];
};

static void note_touched(struct touched **v, size_t *n, const struct changeset *cs)
{
	struct touched *nv;

	for (size_t i = 0; i < *n; i++)
		if (memcmp((*v)[i].author, cs->author, KEY_BYTES) == 0 && strcmp((*v)[i].feed, cs->feed) == 0)
			return;
	if (!(nv = realloc(*v, (*n + 1) * sizeof *nv)))
		return;
	*v = nv;
	memcpy(nv[*n].author, cs->author, KEY_BYTES);
	snprintf(nv[*n].feed, sizeof nv[*n].feed, "%s", cs->feed);
	(*n)++;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	if (c && n)
		memcpy(c, p, n);
	return c;
}

static void send_ack(struct link *l, uint64_t batch, uint32_t stored, uint32_t dups, uint32_t refused,
		     const struct touched *tv, size_t nt)
{
	struct daemon *d = l->d;
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Ack a = STRATA__ACK__INIT;
	Strata__Head *hv = calloc(nt ? nt : 1, sizeof *hv);
	Strata__Head **hp = calloc(nt ? nt : 1, sizeof *hp);
	struct store_head *sh = calloc(nt ? nt : 1, sizeof *sh);
	struct store_txn *t = NULL;
	struct err e = {0};

	a.batch = batch;
	a.stored = stored;
	a.duplicates = dups;
	a.refused = refused;
	if (hv && hp && sh && store_txn_begin(node_store(d->n), false, &t, &e) == 0) {
		for (size_t i = 0; i < nt; i++) {
			int r = store_head_get(t, tv[i].author, tv[i].feed, &sh[i], &e);

			if (r < 0 && r != -ENOENT)
				continue;
			strata__head__init(&hv[a.n_heads]);
			hv[a.n_heads].author.data = (uint8_t *)tv[i].author;
			hv[a.n_heads].author.len = KEY_BYTES;
			hv[a.n_heads].feed = (char *)tv[i].feed;
			hv[a.n_heads].seq = sh[i].seq;
			hp[a.n_heads] = &hv[a.n_heads];
			a.n_heads++;
		}
		a.heads = hp;
	}
	store_txn_abort(&t);
	f.msg_case = STRATA__FRAME__MSG_ACK;
	f.ack = &a;
	link_send(l, &f);
	free(hv);
	free(hp);
	free(sh);
}

static void send_want(struct link *l, const uint8_t *author, const char *feed, uint64_t from)
{
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Want w = STRATA__WANT__INIT;

	w.author.data = (uint8_t *)author;
	w.author.len = KEY_BYTES;
	w.feed = (char *)feed;
	w.from = from;
	w.to = 0;
	f.msg_case = STRATA__FRAME__MSG_WANT;
	f.want = &w;
	link_send(l, &f);
}

static bool recently_refused(struct link *l, const struct changeset *cs, uint64_t now)
{
	struct feedmap_val *v = feedmap_find(&l->refused, cs->author, cs->feed);

	return v && v->stalled_until > now;
}

static void mark_refused(struct link *l, const struct changeset *cs, uint64_t now)
{
	struct feedmap_val *v = feedmap_get(&l->refused, cs->author, cs->feed);

	if (v)
		v->stalled_until = now + SYNC_STALL_MS;
}

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
static void prepared(struct prep *p, size_t i)
{
	while (!atomic_load_explicit(&p->ready[i], memory_order_acquire))
		if (!prepare_next(p)) { /* all claimed: the worker holds i */
			pthread_mutex_lock(&p->mu);
			while (!atomic_load_explicit(&p->ready[i], memory_order_acquire))
				pthread_cond_wait(&p->cv, &p->mu);
			pthread_mutex_unlock(&p->mu);
		}
}

/* What storing a batch gathers. */
struct batch_store {
	struct link *l;
	struct store_txn *t;
	struct changeset **cs;
	int *res;
	struct err *why;
	struct conflict *conf;
	size_t nconf;
	uint32_t stored, dups;
	uint64_t now;
	bool fatal;
	struct err fatal_why;
};

/* Stores prepared entry i if it is still to store; true when it was. */
static bool store_one(struct batch_store *b, size_t i)
{
	struct link *l = b->l;
	struct changeset **cs = b->cs;
	int *res = b->res;
	struct err *why = b->why;
	int r;

	if (!cs[i] || (res[i] != -EAGAIN && res[i] != -EACCES && res[i] != -ERANGE))
		return false;
	if (res[i] != -EAGAIN && recently_refused(l, cs[i], b->now))
		return false;
	memset(&why[i], 0, sizeof why[i]);
	/* Our own entries come back from any link (heads.c): signed by our
	 * key, they are ours, and a conflicting one is our own equivocation. */
	if (memcmp(cs[i]->author, node_id(l->d->n), KEY_BYTES) != 0 &&
	    !route_accept(l->d, b->t, l, cs[i]->author, cs[i]->feed)) {
		err_set(&why[i], "feed %s of this author does not come through this link", cs[i]->feed);
		res[i] = -EPERM;
		return false;
	}
	r = node_ingest_changeset(l->d->n, b->t, cs[i], NODE_SIG_CHECKED | NODE_RECORDS_CHECKED, &why[i]);
	res[i] = r;
	if (r == 0) {
		b->stored++;
		return true;
	}
	if (r == -EALREADY) {
		b->dups++;
	} else if (r == -EBADE) {
		const uint8_t *by;
		size_t bl;
		struct err ignore = {0};

		if (store_log_get(b->t, cs[i]->author, cs[i]->feed, cs[i]->seq, &by, &bl, NULL, &ignore) == 0) {
			struct conflict *c = &b->conf[b->nconf++];

			c->first = dup_bytes(by, bl);
			c->first_len = bl;
			c->second = dup_bytes(cs[i]->envelope, cs[i]->envelope_len);
			c->second_len = cs[i]->envelope_len;
		} else { /* its prev differs from our head: ask for the entry before */
			send_want(l, cs[i]->author, cs[i]->feed, cs[i]->seq - 1);
		}
	} else if (r == -ENOSPC || r == -EIO || r == -ENOMEM) {
		b->fatal = true;
		b->fatal_why = why[i];
	}
	return false;
}

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
static bool batch_start(struct rbatch *b, const Strata__Entries *en)
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
	b->dret = frame_decode(zmq_msg_data(&b->raw), zmq_msg_size(&b->raw), &b->f, &b->de);
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
static bool batch_decoded(struct rbatch *b)
{
	pthread_mutex_lock(&b->p.mu);
	while (!b->decoded)
		pthread_cond_wait(&b->p.cv, &b->p.mu);
	pthread_mutex_unlock(&b->p.mu);
	return b->dret == 0 && b->en;
}

/* Waits for the worker (every entry claimed is then prepared). */
static void batch_join(struct rbatch *b)
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

static void batch_free(struct rbatch *b)
{
	batch_join(b);
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
static bool read_ahead(struct link *l, struct rbatch *nb)
{
	struct daemon *d = l->d;
	bool router = l->kind == LINK_CHILD;
	struct frame_ahead *a = router ? &d->ahead_router : &d->ahead_dealer;
	void *sock = router ? d->router : d->dealer;
	zmq_msg_t raw;

	if (a->has || !sock)
		return false;
	memset(&a->e, 0, sizeof a->e);
	a->f = NULL;
	a->rid_len = 0;
	a->uid[0] = '\0';
	a->ret = frame_recv_raw(sock, router, a->rid, &a->rid_len, a->uid, sizeof a->uid, &raw);
	if (a->ret == -EAGAIN)
		return false;
	a->fd = a->ret == 0 ? zmq_msg_get(&raw, ZMQ_SRCFD) : -1;
	if (a->ret == 0 && (!router || (a->rid_len == l->rid_len && memcmp(a->rid, l->rid, l->rid_len) == 0 &&
					strncmp(a->uid, "key:", 4) == 0))) {
		batch_start_raw(nb, &raw);
		return true;
	}
	if (a->ret == 0) {
		a->ret = frame_decode(zmq_msg_data(&raw), zmq_msg_size(&raw), &a->f, &a->e);
		zmq_msg_close(&raw);
	}
	a->has = true;
	return false;
}

/* A batch read ahead that is not Entries after all (another message, or
 * one that does not decode): handed to the socket's loop, as read_ahead
 * hands what it does not take. */
static void read_ahead_return(struct link *l, struct rbatch *nb)
{
	struct daemon *d = l->d;
	struct frame_ahead *a = l->kind == LINK_CHILD ? &d->ahead_router : &d->ahead_dealer;

	batch_join(nb);
	a->ret = nb->dret;
	a->e = nb->de;
	if (nb->dret == 0) { /* else nb->f, if any, is freed with nb */
		a->f = nb->f;
		nb->f = NULL;
	}
	a->has = true;
}

/* Stores batch b from link l in one transaction and acknowledges it. Before
 * the commit it reads ahead (read_ahead): *next is true when the link's next
 * batch was read, and nb is being decoded and prepared. */
static void store_batch(struct link *l, struct rbatch *bt, bool *next, struct rbatch *nb)
{
	struct daemon *d = l->d;
	const Strata__Entries *en = bt->en;
	size_t n = bt->n, nt = 0;
	struct changeset **cs = bt->cs;
	int *res = bt->res;
	struct err *why = bt->why;
	struct conflict *conf = bt->conf;
	struct touched *tv = NULL;
	struct store_txn *t = NULL;
	struct batch_store b = {.l = l, .cs = cs, .res = res, .why = why, .conf = conf, .now = node_now_ms()};
	struct prep *p = &bt->p;
	uint32_t stored = 0, dups = 0, refused = 0;
	size_t nconf = 0;
	struct err e = {0};
	uint64_t now = b.now;
	bool progress, fatal = false;
	int ret;

	l->entries_received += n;
	if (store_txn_begin(node_store(d->n), true, &t, &e) < 0) {
		sync_log(d, "cannot write the store: %s", e.msg);
		link_send_error(l, EIO, e.msg, NULL, NULL, 0);
		goto out;
	}
	b.t = t;
	/* The first pass stores in order as entries become ready. Entries may
	 * depend on each other (a certificate, then its subject's entries):
	 * then retry what failed while anything succeeds. */
	progress = false;
	for (size_t i = 0; i < n; i++) {
		prepared(p, i);
		if (!b.fatal && store_one(&b, i))
			progress = true;
	}
	batch_join(bt);
	while (progress && !b.fatal) {
		progress = false;
		for (size_t i = 0; i < n && !b.fatal; i++)
			if (store_one(&b, i))
				progress = true;
	}
	for (size_t i = 0; i < n; i++)
		if (cs[i])
			note_touched(&tv, &nt, cs[i]);
	stored = b.stored;
	dups = b.dups;
	nconf = b.nconf;
	e = b.fatal_why;
	fatal = b.fatal;
	if (fatal) {
		store_txn_abort(&t);
		sync_log(d, "batch from %s not stored: %s", l->name, e.msg);
		link_send_error(l, ENOSPC, e.msg, NULL, NULL, 0);
		refused = (uint32_t)n;
		stored = dups = 0;
		goto ack;
	}
	/* The link's next batch, decoded and prepared on the other core while
	 * this commits. */
	*next = read_ahead(l, nb);
	if ((ret = store_txn_commit(&t, &e)) < 0) {
		sync_log(d, "batch from %s not stored: %s", l->name, e.msg);
		link_send_error(l, -ret, e.msg, NULL, NULL, 0); /* ENOSPC: the sender pauses */
		refused = (uint32_t)n;
		stored = dups = 0;
		goto ack;
	}
	daemon_scrub(d); /* after an erase in this batch: its old bytes out of data.mdb */
	/* Report refusals: the first of each feed (the rest are its consequences). */
	for (size_t i = 0; i < n; i++) {
		if (res[i] == 0 || res[i] == -EALREADY)
			continue;
		refused++;
		if (!cs[i]) {
			link_send_error(l, EBADMSG, why[i].msg, NULL, NULL, 0);
			if (link_refusal_allow(l, now))
				sync_log(d, "refused an entry from %s: %s", l->name, why[i].msg);
			continue;
		}
		{
			bool earlier = false;

			for (size_t k = 0; k < i && !earlier; k++)
				earlier = cs[k] && res[k] != 0 && res[k] != -EALREADY &&
					  memcmp(cs[k]->author, cs[i]->author, KEY_BYTES) == 0 &&
					  strcmp(cs[k]->feed, cs[i]->feed) == 0;
			if (earlier)
				continue; /* a consequence of the first refusal in this batch */
		}
		if (res[i] == -ERANGE && recently_refused(l, cs[i], now))
			continue;
		if (res[i] == -ERANGE) {
			struct store_head h;
			struct store_txn *rt = NULL;
			struct err ignore = {0};

			if (store_txn_begin(node_store(d->n), false, &rt, &ignore) == 0) {
				int hr = store_head_get(rt, cs[i]->author, cs[i]->feed, &h, &ignore);

				if (hr == 0 || hr == -ENOENT)
					send_want(l, cs[i]->author, cs[i]->feed, h.seq + 1);
				store_txn_abort(&rt);
			}
			mark_refused(l, cs[i], now - SYNC_STALL_MS + 1000); /* one Want a second at most */
			continue;
		}
		link_send_error(l, -res[i], why[i].msg, cs[i]->author, cs[i]->feed, cs[i]->seq);
		if (link_refusal_allow(l, now))
			sync_log(d, "refused from %s: %s", l->name, why[i].msg);
		mark_refused(l, cs[i], now);
	}
ack:
	send_ack(l, en->batch, stored, dups, refused, tv, nt);
	if (d->o->verbose)
		sync_log(d, "batch %llu from %s: %u stored, %u duplicates, %u refused", (unsigned long long)en->batch,
			 l->name, stored, dups, refused);
	for (size_t i = 0; i < nconf; i++)
		evidence_record(d, conf[i].first, conf[i].first_len, conf[i].second, conf[i].second_len);
	if (stored) {
		/* what the domain modules do with entries stored (node_observe:
		 * transfer steps, report checks), then the live push */
		struct node_commit c = {.event = NODE_EVENT_RECEIVED, .cs = cs, .res = res, .count = n,
					.note = daemon_note, .note_arg = d};

		node_observers_run(d->n, &c);
		daemon_pump_all(d); /* live push to the other links */
	}
out:
	store_txn_abort(&t);
	for (size_t i = 0; i < nconf; i++) {
		free(conf[i].first);
		free(conf[i].second);
	}
	free(tv);
}

static void on_entries(struct link *l, const Strata__Entries *en)
{
	struct rbatch bs[2], *cur = &bs[0], *nb = &bs[1];

	if (!batch_start(cur, en)) {
		batch_free(cur);
		sync_log(l->d, "out of memory receiving a batch from %s", l->name);
		return;
	}
	/* While the link has its next batch waiting, take it in turn here. */
	for (;;) {
		struct rbatch *t;
		bool next = false;

		store_batch(l, cur, &next, nb);
		batch_free(cur);
		if (!next)
			break;
		l->last_rx_ms = node_now_ms();
		if (!batch_decoded(nb)) {
			read_ahead_return(l, nb);
			batch_free(nb);
			break;
		}
		t = cur;
		cur = nb;
		nb = t;
	}
	if (l->n_own)
		heads_settle(l); /* the own entries it was fetching may be in */
}

static void on_ack(struct link *l, const Strata__Ack *a)
{
	if (l->inflight)
		l->inflight--;
	if (a->refused)
		for (size_t i = 0; i < a->n_heads; i++) {
			const Strata__Head *h = a->heads[i];
			struct feedmap_val *v;

			if (h->author.len == KEY_BYTES && (v = feedmap_find(&l->sent, h->author.data, h->feed)) &&
			    h->seq < v->seq)
				v->seq = h->seq; /* the truth, for when the stall ends */
		}
	link_pump(l);
}

static void on_want(struct link *l, const Strata__Want *w)
{
	struct feedmap_val *v;

	if (w->author.len != KEY_BYTES || w->from == 0 || strlen(w->feed) > LIMIT_NAME_BYTES)
		return;
	if ((v = feedmap_get(&l->sent, w->author.data, w->feed))) {
		v->seq = w->from - 1;
		v->stalled_until = 0;
		/* a node asking for its own feed: its store was put back (heads.c) */
		if (memcmp(w->author.data, l->key, KEY_BYTES) == 0)
			v->give_back = true;
	}
	link_pump(l);
}

static void on_error(struct link *l, const Strata__Error *er)
{
	struct daemon *d = l->d;
	struct feedmap_val *v;

	snprintf(l->last_error, sizeof l->last_error, "%s", er->reason);
	l->last_error_ms = node_now_ms();
	l->refusals_received++;
	if (link_refusal_allow(l, l->last_error_ms))
		sync_log(d, "%s refused: %s", l->name, er->reason);
	if (er->code == EACCES && !er->has_author && l->kind == LINK_PARENT) {
		/* The parent refused this node itself (its key was revoked, say):
		 * stop replicating, and ask again only after a long wait, not with
		 * every ping (sweep). */
		link_reset(l);
		l->refused_hello = true;
		return;
	}
	if (er->code == ENOTCONN && l->kind == LINK_PARENT) {
		/* The parent dropped this link (silent too long) while the
		 * connection lived on: start over with a hello. At most one per
		 * SYNC_PING_MS, and none while a refused hello waits (a parent
		 * that refuses the hello itself answers EACCES, above). */
		if (!l->refused_hello && node_now_ms() - l->hello_ms > SYNC_PING_MS) {
			link_reset(l);
			link_send_hello(l);
		}
		return;
	}
	if (!er->has_author && (er->code == ENOSPC || er->code == EIO)) {
		/* It could store nothing of a batch (its disk is full): resending
		 * at once would only be refused again, as fast as the link goes.
		 * Wait, then send again what it lacks; the sweep pumps every link
		 * each second. */
		l->paused_until = node_now_ms() + SYNC_PAUSE_MS;
		return;
	}
	if (er->has_author && er->author.len == KEY_BYTES && er->feed &&
	    (v = feedmap_get(&l->sent, er->author.data, er->feed))) {
		if (er->has_seq && er->seq && er->seq - 1 < v->seq)
			v->seq = er->seq - 1;
		v->stalled_until = node_now_ms() + SYNC_STALL_MS;
	}
}

void link_on_frame(struct link *l, Strata__Frame *f)
{
	l->last_rx_ms = node_now_ms();
	if (!l->up && f->msg_case != STRATA__FRAME__MSG_HELLO && f->msg_case != STRATA__FRAME__MSG_PING &&
	    f->msg_case != STRATA__FRAME__MSG_ERROR) {
		if (link_refusal_allow(l, l->last_rx_ms))
			link_send_error(l, ENOTCONN, "say hello first", NULL, NULL, 0);
		return;
	}
	switch (f->msg_case) {
	case STRATA__FRAME__MSG_HELLO: on_hello(l, f->hello); break;
	case STRATA__FRAME__MSG_ENTRIES: on_entries(l, f->entries); break;
	case STRATA__FRAME__MSG_ACK: on_ack(l, f->ack); break;
	case STRATA__FRAME__MSG_WANT: on_want(l, f->want); break;
	case STRATA__FRAME__MSG_ERROR: on_error(l, f->error); break;
	case STRATA__FRAME__MSG_EVIDENCE: evidence_on_frame(l, f->evidence); break;
	case STRATA__FRAME__MSG_PING: break;
	default:
		if (link_refusal_allow(l, l->last_rx_ms)) {
			sync_log(l->d, "refused a message from %s: unexpected on an established link", l->name);
			link_send_error(l, EPROTO, "unexpected message on an established link", NULL, NULL, 0);
		}
		break;
	}
}
