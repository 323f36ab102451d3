/* SPDX-License-Identifier: MIT */
/*
 * Completeness of a bundle or a store against signed checkpoints
 * (completeness.h). Nothing else an audit checks can tell a bundle with a
 * feed's last entries cut from a whole one: the end record is unsigned.
 * A checkpoint is signed by the feed's author (and co-signed by the
 * witnesses above it), so a bundle that holds fewer entries than one of
 * its feed's checkpoints says, or other entries, is caught here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/audit/completeness.h"
#include "node/core/checkpoint.h"

int audit_notes_add(struct audit_notes *a, const uint8_t *note, size_t len, const char *from)
{
	struct audit_note *x;

	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;

		if (!(x = realloc(a->v, cap * sizeof *x)))
			return -ENOMEM;
		a->v = x;
		a->cap = cap;
	}
	x = &a->v[a->n];
	x->bytes = malloc(len ? len : 1);
	x->from = strdup(from);
	if (!x->bytes || !x->from) {
		free(x->bytes);
		free(x->from);
		return -ENOMEM;
	}
	memcpy(x->bytes, note, len);
	x->len = len;
	a->n++;
	return 0;
}

int audit_notes_file(struct audit_notes *a, const char *path, struct err *e)
{
	uint8_t buf[NOTE_MAX + 1];
	FILE *f = fopen(path, "rb");
	size_t len;
	int ret;

	if (!f) {
		ret = err_os(errno);
		err_set(e, "cannot read %s: %s", path, strerror(errno));
		return ret;
	}
	len = fread(buf, 1, sizeof buf, f);
	ret = ferror(f) ? -EIO : 0;
	fclose(f);
	if (ret < 0) {
		err_set(e, "cannot read %s", path);
		return ret;
	}
	if (len > NOTE_MAX || len == 0) {
		err_set(e, "%s is not a signed checkpoint (%s)", path, len ? "larger than a note can be" : "empty");
		return -EINVAL;
	}
	if ((ret = audit_notes_add(a, buf, len, path)) < 0)
		err_set(e, "out of memory");
	return ret;
}

int audit_notes_collect(const uint8_t *note, size_t len, void *arg, struct err *e)
{
	if (audit_notes_add(arg, note, len, "the bundle") < 0) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

void audit_notes_free(struct audit_notes *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].bytes);
		free(a->v[i].from);
	}
	free(a->v);
	memset(a, 0, sizeof *a);
}

void audit_completeness_free(struct audit_completeness *x)
{
	audit_notes_free(&x->given);
	audit_notes_free(&x->carried);
	json_decref(x->feeds);
	json_decref(x->unchecked);
	x->feeds = x->unchecked = NULL;
}

/* The best notes seen of one feed. */
struct feed_best {
	uint8_t author[KEY_BYTES];
	char feed[LIMIT_NAME_BYTES + 1];
	struct note newest, witnessed;
	bool has_newest, has_witnessed;
};

struct walk {
	struct node *n;
	struct store_txn *t;
	struct audit_completeness *x;
	const struct verify_hooks *h;
	struct feed_best *best;
	size_t nbest, capbest;
};

/* "NAME (hex16…)" of a key, or its hex when unknown. */
static void who(struct walk *w, const uint8_t key[KEY_BYTES], char *out, size_t cap)
{
	char name[NODE_NAME_SIZE] = "", hex[KEY_HEX];

	key_hex(hex, key);
	if (node_key_name(w->n, w->t, key, name) == 0 && name[0])
		snprintf(out, cap, "%s (%.16s…)", name, hex);
	else
		snprintf(out, cap, "%s", hex);
}

/* "signed by A, co-signed by B, C" */
static void signers(struct walk *w, const struct note *nt, char *out, size_t cap)
{
	size_t used = 0;
	bool first_co = true;

	out[0] = '\0';
	for (size_t i = 0; i < nt->n_sigs && used < cap; i++) {
		char k[NODE_NAME_SIZE + KEY_HEX + 8];
		const char *lead = "";

		if (nt->sigs[i].alg == NOTE_ALG_ED25519) {
			lead = "signed by ";
		} else if (first_co) {
			lead = "co-signed by ";
			first_co = false;
		}
		who(w, nt->sigs[i].key, k, sizeof k);
		used += (size_t)snprintf(out + used, cap - used, "%s%s%s", i ? ", " : "", lead, k);
	}
}

static void fail(struct walk *w, const uint8_t *author, const char *feed, uint64_t seq, const char *reason)
{
	struct verify_failure f = {.author = author, .feed = feed, .seq = seq, .reason = reason};

	w->x->failures++;
	if (w->h && w->h->failure)
		w->h->failure(&f, w->h->arg);
}

static struct feed_best *best_of(struct walk *w, const struct checkpoint *cp)
{
	struct feed_best *b;

	for (size_t i = 0; i < w->nbest; i++)
		if (memcmp(w->best[i].author, cp->author, KEY_BYTES) == 0 && strcmp(w->best[i].feed, cp->feed) == 0)
			return &w->best[i];
	if (w->nbest == w->capbest) {
		size_t cap = w->capbest ? 2 * w->capbest : 16;

		if (!(b = realloc(w->best, cap * sizeof *b)))
			return NULL;
		w->best = b;
		w->capbest = cap;
	}
	b = &w->best[w->nbest++];
	memset(b, 0, sizeof *b);
	memcpy(b->author, cp->author, KEY_BYTES);
	snprintf(b->feed, sizeof b->feed, "%s", cp->feed);
	return b;
}

static bool cosigned(const struct note *nt)
{
	for (size_t i = 0; i < nt->n_sigs; i++)
		if (nt->sigs[i].alg == NOTE_ALG_COSIGNATURE)
			return true;
	return false;
}

/* Checks one note; keeps it among its feed's best when it holds. */
static int check_one(struct walk *w, const struct audit_note *a)
{
	char reason[AUDIT_REASON_SIZE * 2], by[AUDIT_REASON_SIZE / 2], feedname[AUDIT_REASON_SIZE];
	enum node_ckpt_outcome out;
	struct store_head hd;
	struct feed_best *b;
	struct note nt;
	struct err why = {0};
	int ret;

	w->x->checkpoints++;
	if ((ret = node_checkpoint_check(w->n, w->t, a->bytes, a->len, &nt, &out, &why)) < 0) {
		if (ret == -ENOMEM || ret == -EIO)
			return ret;
		snprintf(reason, sizeof reason, "a checkpoint in %s is refused: %s", a->from, why.msg);
		fail(w, NULL, "", 0, reason);
		return 0;
	}
	who(w, nt.cp.author, by, sizeof by);
	snprintf(feedname, sizeof feedname, "%s/%s", by, nt.cp.feed);
	signers(w, &nt, by, sizeof by);
	if (out == NODE_CKPT_AHEAD) {
		if (store_head_get(w->t, nt.cp.author, nt.cp.feed, &hd, &why) < 0)
			hd.seq = 0;
		snprintf(reason, sizeof reason, "holds %llu entries of %s, its checkpoint in %s %s says %llu: entries are "
			 "missing", (unsigned long long)hd.seq, feedname, a->from, by, (unsigned long long)nt.cp.size);
		fail(w, nt.cp.author, nt.cp.feed, hd.seq + 1, reason);
		return 0;
	}
	if (out == NODE_CKPT_INCONSISTENT) {
		snprintf(reason, sizeof reason, "the checkpoint in %s of %s at size %llu, %s, has another root than the "
			 "entries held: they are not the entries it was signed over", a->from, feedname,
			 (unsigned long long)nt.cp.size, by);
		fail(w, nt.cp.author, nt.cp.feed, nt.cp.size, reason);
		return 0;
	}
	if (!(b = best_of(w, &nt.cp)))
		return -ENOMEM;
	if (!b->has_newest || nt.cp.size > b->newest.cp.size ||
	    (nt.cp.size == b->newest.cp.size && nt.n_sigs > b->newest.n_sigs)) {
		b->newest = nt;
		b->has_newest = true;
	}
	if (cosigned(&nt) && (!b->has_witnessed || nt.cp.size > b->witnessed.cp.size ||
			      (nt.cp.size == b->witnessed.cp.size && nt.n_sigs > b->witnessed.n_sigs))) {
		b->witnessed = nt;
		b->has_witnessed = true;
	}
	return 0;
}

static json_t *note_json(struct walk *w, const struct note *nt)
{
	char root[TLOG_HASH_BYTES * 2 + 1];
	json_t *by = json_array(), *co = json_array();

	hex_encode(root, nt->cp.root, TLOG_HASH_BYTES);
	for (size_t i = 0; i < nt->n_sigs; i++) {
		char name[NODE_NAME_SIZE] = "", hex[KEY_HEX];

		key_hex(hex, nt->sigs[i].key);
		node_key_name(w->n, w->t, nt->sigs[i].key, name);
		json_array_append_new(nt->sigs[i].alg == NOTE_ALG_ED25519 ? by : co,
				      json_pack("{s:s, s:s}", "key", hex, "name", name));
	}
	return json_pack("{s:I, s:s, s:o, s:o}", "size", (json_int_t)nt->cp.size, "root", root, "signed_by", by,
			 "witnesses", co);
}

static int on_head(const struct store_head *h, void *arg)
{
	struct walk *w = arg;
	struct feed_best *b = NULL;
	char name[NODE_NAME_SIZE] = "", hex[KEY_HEX];
	json_t *j;

	for (size_t i = 0; i < w->nbest && !b; i++)
		if (memcmp(w->best[i].author, h->author, KEY_BYTES) == 0 && strcmp(w->best[i].feed, h->feed) == 0)
			b = &w->best[i];
	key_hex(hex, h->author);
	node_key_name(w->n, w->t, h->author, name);
	j = json_pack("{s:s, s:s, s:s, s:I}", "author", hex, "name", name, "feed", h->feed, "entries",
		      (json_int_t)h->seq);
	if (!b || !b->has_newest) {
		json_array_append_new(w->x->unchecked, j);
		return 0;
	}
	json_object_set_new(j, "checkpoint", note_json(w, &b->newest));
	json_object_set_new(j, "witnessed", b->has_witnessed ? note_json(w, &b->witnessed) : json_null());
	json_array_append_new(w->x->feeds, j);
	return 0;
}

static int on_held(const uint8_t author[KEY_BYTES], const char *feed, const uint8_t *note, size_t len, void *arg)
{
	struct audit_note a = {.bytes = (uint8_t *)note, .len = len, .from = "the store"};

	(void)author;
	(void)feed;
	return check_one(arg, &a);
}

int audit_completeness(struct node *n, struct audit_completeness *x, bool held, const struct verify_hooks *h,
		       struct err *e)
{
	struct walk w = {.n = n, .x = x, .h = h};
	const struct audit_notes *lists[] = {&x->carried, &x->given};
	int ret;

	json_decref(x->feeds);
	json_decref(x->unchecked);
	x->feeds = json_array();
	x->unchecked = json_array();
	if ((ret = store_txn_begin(node_store(n), false, &w.t, e)) < 0)
		return ret;
	for (size_t k = 0; k < 2 && ret >= 0; k++)
		for (size_t i = 0; i < lists[k]->n && ret >= 0; i++)
			ret = check_one(&w, &lists[k]->v[i]);
	if (ret >= 0 && held)
		for (int wit = 0; wit < 2 && ret >= 0; wit++)
			ret = node_checkpoint_each(w.t, wit == 1, on_held, &w, e);
	if (ret >= 0)
		ret = store_heads_each(w.t, on_head, &w, e);
	if (ret == -ENOMEM)
		err_set(e, "out of memory");
	store_txn_abort(&w.t);
	free(w.best);
	return ret < 0 ? ret : 0;
}
