/* SPDX-License-Identifier: MIT */
/*
 * Auditing transfers (DESIGN.md "Authority", docs/PROTOCOL.md "Transfers"):
 * each step is a signed entry that is valid on its own, so only here is it
 * checked that the steps fit together across feeds:
 *   - every acceptance and every forward names a real release: the entry
 *     hash it names is the entry of the old branch's up feed that wrote the
 *     release, and an acceptance is by the branch the release names. A store
 *     that does not hold the old branch's up feed (the new branch's side of
 *     the tree) checks an acceptance against the forward it holds instead;
 *   - no member is active at two branches at once: a release is accepted at
 *     most once; a member the old branch released twice was accepted back
 *     in between; and once a new branch accepted a member, the old branch
 *     never again puts that member active (unless it came back). Before the
 *     outcome reaches the old branch its record stays active: that is the
 *     protocol's window, not a failure.
 * Records are read from state (verify_store has checked state against the
 * log), the entries' hashes and times from the log; an erased release from
 * the residue its erase request keeps.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/audit/history.h"
#include "node/records/records.h"

struct release {
	uint8_t from[KEY_BYTES];
	char id[TRANSFER_ID_MAX + 1];
	char member[MEMBER_ID_MAX + 1];
	uint8_t to[KEY_BYTES]; /* zero: the old branch named only to_name (issue 16) */
	char to_name[NODE_NAME_SIZE];
	uint64_t seq;
	uint8_t hash[HASH_BYTES];
	int accepted; /* index of its accepted acceptance + 1, 0 if none */
};

struct acceptance {
	uint8_t by[KEY_BYTES];
	uint8_t from[KEY_BYTES];
	char id[TRANSFER_ID_MAX + 1];
	char member[MEMBER_ID_MAX + 1]; /* the member's id at the new branch */
	uint8_t release_hash[HASH_BYTES];
	bool accepted;
	uint64_t seq, time_ms;
};

struct forward {
	uint8_t by[KEY_BYTES];
	uint8_t from[KEY_BYTES];
	char id[TRANSFER_ID_MAX + 1];
	uint8_t to[KEY_BYTES];
	char to_name[NODE_NAME_SIZE];
	uint8_t release_hash[HASH_BYTES];
	uint64_t seq;
};

struct gather {
	struct node *n;
	struct store_txn *t;
	struct audit_history_counts *c;
	const struct verify_hooks *h;
	struct release *rel;
	size_t nrel, caprel;
	struct acceptance *acc;
	size_t nacc, capacc;
	struct forward *fwd;
	size_t nfwd, capfwd;
	int ret;
	struct err *e;
};

static void fail(struct gather *g, const uint8_t *author, const char *feed, uint64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void fail(struct gather *g, const uint8_t *author, const char *feed, uint64_t seq, const char *fmt, ...)
{
	char reason[AUDIT_REASON_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	g->c->failures++;
	if (g->h && g->h->failure)
		g->h->failure(&(struct verify_failure){.author = author, .feed = feed, .seq = seq, .reason = reason},
			      g->h->arg);
}

/* A readable name for key: its org path if the store knows it, else hex. */
static const char *who(struct gather *g, const uint8_t key[KEY_BYTES], char out[NODE_NAME_SIZE])
{
	char hex[KEY_HEX];

	if (node_key_name(g->n, g->t, key, out) == 0 && out[0])
		return out;
	key_hex(hex, key);
	snprintf(out, NODE_NAME_SIZE, "%.16s…", hex);
	return out;
}

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n < *cap)
		return v;
	if (!(p = realloc(v, (*cap ? 2 * *cap : 16) * size)))
		return NULL;
	*cap = *cap ? 2 * *cap : 16;
	return p;
}

/* The entry's hash and time (the log says; verify_store checked both). */
static int entry_of(struct gather *g, const uint8_t *author, const char *feed, uint64_t seq, uint8_t hash[HASH_BYTES],
		    uint64_t *time_ms)
{
	const uint8_t *bytes;
	size_t len;
	struct changeset *cs = NULL;
	struct err ignore = {0};
	int ret = store_log_get(g->t, author, feed, seq, &bytes, &len, hash, &ignore);

	if (ret < 0)
		return ret;
	if (time_ms) {
		if ((ret = changeset_decode(&cs, bytes, len, &ignore)) < 0)
			return ret;
		*time_ms = cs->time_ms;
		changeset_destroy(&cs);
	}
	return 0;
}

/* An erased release: its residue in the owner's erase request (id, the
 * member's id, the new branch, the date: what the checks read), or NULL. */
static Strata__Release *erased_release(struct gather *g, const struct store_record *r)
{
	char ekey[LIMIT_KEY_BYTES + 1];
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};
	Strata__Erasure *er;
	Strata__Release *m = NULL;
	const Strata__ErasedResidue *hit = NULL;

	if (r->value_len != 0 || erase_key_make(ekey, sizeof ekey, "release", r->key, r->key_len, &ignore) < 0 ||
	    store_state_get(g->t, record_erase.collection, r->owner, (const uint8_t *)ekey, strlen(ekey), &v, &vl, NULL,
			    &ignore) < 0 ||
	    !(er = strata__erasure__unpack(NULL, vl, v)))
		return NULL;
	for (size_t i = 0; i < er->n_residues && er->residues[i]->seq <= r->origin.seq; i++)
		hit = er->residues[i];
	if (hit)
		m = strata__release__unpack(NULL, hit->value.len, hit->value.data);
	strata__erasure__free_unpacked(er, NULL);
	return m;
}

static int on_release(const struct store_record *r, void *arg)
{
	struct gather *g = arg;
	Strata__Release *m = strata__release__unpack(NULL, r->value_len, r->value);
	struct release *x;

	if (!m && !(m = erased_release(g, r))) /* undecodable: verify_store reports what is wrong */
		return 0;
	if (!(g->rel = grow(x = g->rel, &g->caprel, g->nrel, sizeof *x))) {
		g->rel = x;
		strata__release__free_unpacked(m, NULL);
		return g->ret = -ENOMEM;
	}
	x = &g->rel[g->nrel];
	memset(x, 0, sizeof *x);
	memcpy(x->from, r->owner, KEY_BYTES);
	snprintf(x->id, sizeof x->id, "%s", m->id);
	snprintf(x->member, sizeof x->member, "%s", m->member ? m->member->id : "");
	if (m->to.len == KEY_BYTES)
		memcpy(x->to, m->to.data, KEY_BYTES);
	snprintf(x->to_name, sizeof x->to_name, "%s", m->to_name ? m->to_name : "");
	x->seq = r->origin.seq;
	strata__release__free_unpacked(m, NULL);
	if (strcmp(r->origin.feed, FEED_UP) == 0 && entry_of(g, r->owner, FEED_UP, x->seq, x->hash, NULL) == 0)
		g->nrel++;
	return 0;
}

static int on_acceptance(const struct store_record *r, void *arg)
{
	struct gather *g = arg;
	Strata__Acceptance *m = strata__acceptance__unpack(NULL, r->value_len, r->value);
	struct acceptance *x;
	uint8_t hash[HASH_BYTES];

	if (!m)
		return 0;
	if (!(g->acc = grow(x = g->acc, &g->capacc, g->nacc, sizeof *x))) {
		g->acc = x;
		strata__acceptance__free_unpacked(m, NULL);
		return g->ret = -ENOMEM;
	}
	x = &g->acc[g->nacc];
	memset(x, 0, sizeof *x);
	memcpy(x->by, r->owner, KEY_BYTES);
	if (m->from.len == KEY_BYTES)
		memcpy(x->from, m->from.data, KEY_BYTES);
	snprintf(x->id, sizeof x->id, "%s", m->id);
	snprintf(x->member, sizeof x->member, "%s", m->member_id ? m->member_id : "");
	if (m->release_hash.len == HASH_BYTES)
		memcpy(x->release_hash, m->release_hash.data, HASH_BYTES);
	x->accepted = m->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED;
	x->seq = r->origin.seq;
	strata__acceptance__free_unpacked(m, NULL);
	if (strcmp(r->origin.feed, FEED_UP) == 0 && entry_of(g, r->owner, FEED_UP, x->seq, hash, &x->time_ms) == 0)
		g->nacc++;
	return 0;
}

static int on_forward(const struct store_record *r, void *arg)
{
	struct gather *g = arg;
	Strata__Forward *m = strata__forward__unpack(NULL, r->value_len, r->value);
	struct forward *x;

	if (!m)
		return 0;
	if (!(g->fwd = grow(x = g->fwd, &g->capfwd, g->nfwd, sizeof *x))) {
		g->fwd = x;
		strata__forward__free_unpacked(m, NULL);
		return g->ret = -ENOMEM;
	}
	x = &g->fwd[g->nfwd++];
	memset(x, 0, sizeof *x);
	memcpy(x->by, r->owner, KEY_BYTES);
	if (m->from.len == KEY_BYTES)
		memcpy(x->from, m->from.data, KEY_BYTES);
	snprintf(x->id, sizeof x->id, "%s", m->id);
	if (m->to.len == KEY_BYTES)
		memcpy(x->to, m->to.data, KEY_BYTES);
	snprintf(x->to_name, sizeof x->to_name, "%s", m->to_name ? m->to_name : "");
	if (m->release_hash.len == HASH_BYTES)
		memcpy(x->release_hash, m->release_hash.data, HASH_BYTES);
	x->seq = r->origin.seq;
	strata__forward__free_unpacked(m, NULL);
	return 0;
}

static struct release *find_release(struct gather *g, const uint8_t from[KEY_BYTES], const char *id)
{
	for (size_t i = 0; i < g->nrel; i++)
		if (memcmp(g->rel[i].from, from, KEY_BYTES) == 0 && strcmp(g->rel[i].id, id) == 0)
			return &g->rel[i];
	return NULL;
}

/* Does the store hold any of FROM's up feed? */
static bool holds_up(struct gather *g, const uint8_t from[KEY_BYTES])
{
	struct store_head hd;
	struct err ignore = {0};

	return store_head_get(g->t, from, FEED_UP, &hd, &ignore) == 0 && hd.seq > 0;
}

/* The release a step names by (from, id, hash): NULL, with the failure
 * reported at the step, when it is not a real one. */
static struct release *check_names_release(struct gather *g, const char *what, const uint8_t *by, const char *feed,
					   uint64_t seq, const uint8_t from[KEY_BYTES], const char *id,
					   const uint8_t hash[HASH_BYTES])
{
	struct release *r = find_release(g, from, id);
	char name[NODE_NAME_SIZE], hex[KEY_HEX], rhex[KEY_HEX];

	g->c->transfers++;
	key_hex(hex, hash);
	if (!r) {
		if (holds_up(g, from))
			fail(g, by, feed, seq, "%s of transfer %s names release %.16s…, but %s's up feed held here has no "
			     "release %s", what, id, hex, who(g, from, name), id);
		return NULL;
	}
	if (memcmp(r->hash, hash, HASH_BYTES) != 0) {
		key_hex(rhex, r->hash);
		fail(g, by, feed, seq, "%s of transfer %s names release %.16s…, but %s released it in up #%llu, entry "
		     "%.16s…", what, id, hex, who(g, from, name), (unsigned long long)r->seq, rhex);
		return NULL;
	}
	return r;
}

/* Transfers that moved the member (from, member) out, and back in. */
static bool came_back(struct gather *g, const uint8_t branch[KEY_BYTES], const char *member, uint64_t after_ms,
		      uint64_t before_ms)
{
	for (size_t i = 0; i < g->nacc; i++) {
		const struct acceptance *a = &g->acc[i];

		if (a->accepted && memcmp(a->by, branch, KEY_BYTES) == 0 && strcmp(a->member, member) == 0 &&
		    a->time_ms >= after_ms && a->time_ms <= before_ms)
			return true;
	}
	return false;
}

/* Scans the old branch's up feed for puts of moved members as active dated
 * after their acceptance elsewhere. */
struct scan {
	struct gather *g;
	const uint8_t *branch;
};

static int scan_entry(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg)
{
	struct scan *s = arg;
	struct gather *g = s->g;
	struct changeset *cs = NULL;
	struct err ignore = {0};

	(void)hash;
	if (changeset_decode(&cs, bytes, len, &ignore) < 0)
		return 0; /* verify_store reports it */
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		Strata__Member *m;

		if (op->kind != OP_PUT || !op->value || strcmp(op->collection, record_member.collection) != 0)
			continue;
		if (!(m = strata__member__unpack(NULL, op->value_len, op->value)))
			continue;
		for (size_t k = 0; m->status == STRATA__MEMBER_STATUS__STATUS_ACTIVE && k < g->nrel; k++) {
			const struct release *r = &g->rel[k];
			const struct acceptance *a;
			char name[NODE_NAME_SIZE];

			if (!r->accepted || memcmp(r->from, s->branch, KEY_BYTES) != 0 || strcmp(r->member, m->id) != 0)
				continue;
			a = &g->acc[r->accepted - 1];
			if (cs->time_ms <= a->time_ms || came_back(g, s->branch, m->id, a->time_ms, cs->time_ms))
				continue;
			fail(g, cs->author, cs->feed, seq, "member %s is active at two branches at once: it is put active "
			     "here after %s accepted it (transfer %s, up #%llu)", m->id, who(g, a->by, name), r->id,
			     (unsigned long long)a->seq);
			break;
		}
		strata__member__free_unpacked(m, NULL);
	}
	changeset_destroy(&cs);
	return 0;
}

static bool zero_key(const uint8_t k[KEY_BYTES])
{
	static const uint8_t zero[KEY_BYTES];

	return memcmp(k, zero, KEY_BYTES) == 0;
}

/* Does release r go to the node BY? A release that names its new branch
 * by org path only (to zero bytes: the old branch held no certificate of
 * it) goes where the common ancestor's forward of it sends it; with no
 * such forward held here, to the node whose certificate here has that
 * path (none held: nothing to hold it against). */
static bool release_goes_to(struct gather *g, const struct release *r, const uint8_t by[KEY_BYTES])
{
	char name[NODE_NAME_SIZE];

	if (!zero_key(r->to))
		return memcmp(r->to, by, KEY_BYTES) == 0;
	for (size_t k = 0; k < g->nfwd; k++)
		if (memcmp(g->fwd[k].from, r->from, KEY_BYTES) == 0 && strcmp(g->fwd[k].id, r->id) == 0 &&
		    memcmp(g->fwd[k].release_hash, r->hash, HASH_BYTES) == 0)
			return memcmp(g->fwd[k].to, by, KEY_BYTES) == 0;
	return node_key_name(g->n, g->t, by, name) < 0 || strcmp(name, r->to_name) == 0;
}

/* Every forward names a real release and sends it where the release does
 * (by key, or by org path where the release names only that). */
static void check_forwards(struct gather *g)
{
	char name[NODE_NAME_SIZE], name2[NODE_NAME_SIZE];

	for (size_t i = 0; i < g->nfwd; i++) {
		struct forward *f = &g->fwd[i];
		struct release *r = check_names_release(g, "the forward", f->by, FEED_DOWN, f->seq, f->from, f->id,
							f->release_hash);

		bool by_path = r && zero_key(r->to);

		if (r && (by_path ? strcmp(r->to_name, f->to_name) != 0 : memcmp(r->to, f->to, KEY_BYTES) != 0))
			fail(g, f->by, FEED_DOWN, f->seq, "the forward of transfer %s sends it to %s, but the release names %s",
			     f->id, by_path ? f->to_name : who(g, f->to, name), by_path ? r->to_name : who(g, r->to, name2));
	}
}

/* An acceptance of a release this store does not hold: it must match a
 * forward held here (the new branch's side of the tree). */
static void check_unheld(struct gather *g, const struct acceptance *a)
{
	char name[NODE_NAME_SIZE];
	bool forwarded = false;

	if (holds_up(g, a->from))
		return; /* reported */
	for (size_t k = 0; k < g->nfwd; k++)
		forwarded |= memcmp(g->fwd[k].from, a->from, KEY_BYTES) == 0 && strcmp(g->fwd[k].id, a->id) == 0 &&
			     memcmp(g->fwd[k].to, a->by, KEY_BYTES) == 0 &&
			     memcmp(g->fwd[k].release_hash, a->release_hash, HASH_BYTES) == 0;
	if (!forwarded)
		fail(g, a->by, FEED_UP, a->seq, "the acceptance of transfer %s from %s names a release this "
		     "store holds neither in the old branch's up feed nor in a forward to it", a->id,
		     who(g, a->from, name));
}

/* Every acceptance names a real release made to its author, and a release
 * is accepted at most once (marking each release with its acceptance). */
static void check_acceptances(struct gather *g)
{
	char name[NODE_NAME_SIZE], name2[NODE_NAME_SIZE];

	for (size_t i = 0; i < g->nacc; i++) {
		struct acceptance *a = &g->acc[i];
		struct release *r = check_names_release(g, "the acceptance", a->by, FEED_UP, a->seq, a->from, a->id,
							a->release_hash);

		if (!r) {
			check_unheld(g, a);
			continue;
		}
		if (!release_goes_to(g, r, a->by)) {
			fail(g, a->by, FEED_UP, a->seq, "accepts transfer %s, which %s released to %s", a->id,
			     who(g, a->from, name), zero_key(r->to) ? r->to_name : who(g, r->to, name2));
			continue;
		}
		if (!a->accepted)
			continue;
		if (r->accepted) {
			const struct acceptance *first = &g->acc[r->accepted - 1];

			fail(g, a->by, FEED_UP, a->seq, "member %s of %s is active at two branches at once: transfer %s was "
			     "accepted here and by %s (up #%llu)", r->member, who(g, a->from, name), a->id,
			     who(g, first->by, name2), (unsigned long long)first->seq);
			continue;
		}
		r->accepted = (int)i + 1;
	}
}

/* A member released twice from one branch must have come back between. */
static void check_released_twice(struct gather *g)
{
	char name[NODE_NAME_SIZE], name2[NODE_NAME_SIZE];

	for (size_t i = 0; i < g->nrel; i++)
		for (size_t k = 0; k < g->nrel; k++) {
			const struct release *r1 = &g->rel[i], *r2 = &g->rel[k];
			const struct acceptance *a2;
			bool back = false;

			if (!r1->accepted || !r2->accepted || r1->seq >= r2->seq ||
			    memcmp(r1->from, r2->from, KEY_BYTES) != 0 || strcmp(r1->member, r2->member) != 0)
				continue;
			for (size_t j = 0; j < g->nacc; j++)
				back |= g->acc[j].accepted && memcmp(g->acc[j].by, r1->from, KEY_BYTES) == 0 &&
					strcmp(g->acc[j].member, r1->member) == 0 && g->acc[j].seq > r1->seq &&
					g->acc[j].seq < r2->seq;
			if (back)
				continue;
			a2 = &g->acc[r2->accepted - 1];
			fail(g, a2->by, FEED_UP, a2->seq, "member %s of %s is active at two branches at once: released again "
			     "(transfer %s) while %s still held it from transfer %s", r1->member,
			     who(g, r1->from, name), r2->id, who(g, g->acc[r1->accepted - 1].by, name2), r1->id);
		}
}

static int check(struct gather *g)
{
	int ret;

	check_forwards(g);
	check_acceptances(g);
	check_released_twice(g);
	/* The old branch must not put a member active after its acceptance elsewhere. */
	for (size_t i = 0; i < g->nrel; i++) {
		struct scan s = {.g = g, .branch = g->rel[i].from};
		bool seen = false;

		if (!g->rel[i].accepted)
			continue;
		for (size_t k = 0; k < i; k++)
			seen |= g->rel[k].accepted && memcmp(g->rel[k].from, s.branch, KEY_BYTES) == 0;
		if (!seen && (ret = store_log_each(g->t, s.branch, FEED_UP, 1, 0, scan_entry, &s, g->e)) < 0)
			return ret;
	}
	return 0;
}

int audit_transfers(struct node *n, struct store_txn *t, struct audit_history_counts *c,
		    const struct verify_hooks *h, struct err *e)
{
	struct gather g = {.n = n, .t = t, .c = c, .h = h, .e = e};
	int ret;

	if ((ret = store_state_each(t, record_release.collection, NULL, on_release, &g, e)) < 0 ||
	    (ret = store_state_each(t, record_acceptance.collection, NULL, on_acceptance, &g, e)) < 0 ||
	    (ret = store_state_each(t, record_forward.collection, NULL, on_forward, &g, e)) < 0)
		goto out;
	ret = check(&g);
out:
	if (ret == -ENOMEM || g.ret == -ENOMEM) {
		err_set(e, "out of memory checking transfers");
		ret = -ENOMEM;
	}
	free(g.rel);
	free(g.acc);
	free(g.fwd);
	return ret;
}
