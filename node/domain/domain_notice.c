/* SPDX-License-Identifier: MIT */
/*
 * Notices by name (domain_notice.h): acknowledging a notice by its sender's
 * org path, the notices a unit received and how it answered them, and the
 * sender's view of who acknowledged. The rules of lateness and of who a
 * notice counts for are notice.c's (notice_answer, notice_counts_for), the
 * same the report figures notices_acked / notices_late use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/domain/domain_notice.h"

#define SENDERS_TEXT_SIZE 512 /* "a, b, c" of the senders of a notice id, for a refusal */

static bool is_own(const uint8_t (*own)[KEY_BYTES], size_t nown, const uint8_t *key)
{
	for (size_t i = 0; i < nown; i++)
		if (memcmp(own[i], key, KEY_BYTES) == 0)
			return true;
	return false;
}

static void name_of(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], char out[NODE_NAME_SIZE])
{
	if (node_key_name(n, t, key, out) < 0)
		hex_encode(out, key, 8);
}

/* --- acknowledge by the sender's org path --- */

struct senders {
	struct node *n;
	struct store_txn *t;
	const char *from, *id;
	bool from_is_key;
	uint8_t from_key[KEY_BYTES];
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t nown;
	uint8_t match[KEY_BYTES];
	size_t nmatch;
	char others[SENDERS_TEXT_SIZE]; /* who else sent a notice of that id */
};

static int sender_one(const struct store_record *r, void *arg)
{
	struct senders *s = arg;
	char name[NODE_NAME_SIZE];
	size_t used = strlen(s->others);

	if (r->value_len == 0 || r->key_len != strlen(s->id) || memcmp(r->key, s->id, r->key_len) != 0 ||
	    is_own(s->own, s->nown, r->owner))
		return 0;
	name_of(s->n, s->t, r->owner, name);
	if (s->from_is_key ? memcmp(r->owner, s->from_key, KEY_BYTES) == 0 : strcmp(name, s->from) == 0) {
		if (!s->nmatch || memcmp(s->match, r->owner, KEY_BYTES) != 0)
			s->nmatch++;
		memcpy(s->match, r->owner, KEY_BYTES);
	} else if (used + 2 < sizeof s->others) {
		snprintf(s->others + used, sizeof s->others - used, "%s%s", used ? ", " : "", name);
	}
	return 0;
}

/* The key of the node FROM names that sent notice ID, as held here. */
static int find_sender(const char *dir, const char *from, const char *id, uint8_t key[KEY_BYTES], struct err *e)
{
	struct senders *s = calloc(1, sizeof *s);
	int ret;

	if (!s) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	s->from = from;
	s->id = id;
	s->from_is_key = strlen(from) == KEY_HEX - 1 && hex_decode(s->from_key, KEY_BYTES, from) == 0;
	if (!s->from_is_key && !org_path_valid(from)) {
		err_set(e, "\"%s\" is neither an org path (e.g. xiamen/huli) nor a node key", from);
		free(s);
		return -EINVAL;
	}
	if ((ret = node_open(&s->n, dir, NODE_RDONLY | NODE_NO_KEY, e)) < 0 ||
	    (ret = store_txn_begin(node_store(s->n), false, &s->t, e)) < 0)
		goto out;
	s->nown = node_own_keys(s->n, s->t, s->own, NODE_KEYS_MAX);
	if ((ret = store_state_each(s->t, record_notice.collection, NULL, sender_one, s, e)) < 0)
		goto out;
	if (s->nmatch == 1) {
		memcpy(key, s->match, KEY_BYTES);
	} else if (s->nmatch > 1) {
		err_set(e, "%zu nodes named %s sent a notice %s; give the sender's key instead", s->nmatch,
			from, id);
		ret = -EINVAL;
	} else {
		if (s->others[0])
			err_set(e, "this node holds no notice %s from %s (notice %s came from %s)", id, from,
				id, s->others);
		else
			err_set(e, "this node holds no notice %s from %s", id, from);
		ret = -ESRCH;
	}
out:
	store_txn_abort(&s->t);
	node_close(&s->n);
	free(s);
	return ret;
}

int domain_notice_ack(const char *dir, const char *from, const char *id, const char *acked, struct domain_record *out,
		      struct err *e)
{
	struct domain_input in = {.t = &record_ack};
	uint8_t key[KEY_BYTES];
	char hex[KEY_HEX], today[RECORD_DATE_SIZE];
	int ret;

	if ((ret = find_sender(dir, from, id, key, e)) < 0)
		return ret;
	key_hex(hex, key);
	date_today(today);
	for (size_t i = 0; i < record_ack.n_fields; i++) {
		const char *f = record_ack.fields[i].name;

		in.value[i] = !strcmp(f, "sender") ? hex : !strcmp(f, "notice") ? id : acked ? acked : today;
	}
	return domain_record_add(dir, &in, out, e);
}

/* --- what a unit received --- */

/* This unit's ack date of notice ID from SENDER, by any of its keys, into
 * out ("" without one). */
static void ack_of(struct store_txn *t, const uint8_t (*keys)[KEY_BYTES], size_t nkeys, const uint8_t *sender,
		   const char *id, char out[RECORD_DATE_SIZE])
{
	char key[KEY_HEX + LIMIT_KEY_BYTES + 1];
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};

	out[0] = '\0';
	if (notice_ack_key(key, sizeof key, sender, id) < 0)
		return;
	for (size_t i = 0; i < nkeys && !out[0]; i++) {
		Strata__NoticeAck *a;

		if (store_state_get(t, record_ack.collection, keys[i], (const uint8_t *)key, strlen(key), &v, &vl, NULL,
				    &ignore) < 0 || vl == 0 || !(a = strata__notice_ack__unpack(NULL, vl, v)))
			continue;
		snprintf(out, RECORD_DATE_SIZE, "%s", a->acked);
		strata__notice_ack__free_unpacked(a, NULL);
	}
}

struct received {
	struct node *n;
	struct store_txn *t;
	bool unacked;
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t nown;
	char joined[RECORD_DATE_SIZE], today[RECORD_DATE_SIZE];
	int (*fn)(const struct domain_notice_row *r, void *arg);
	void *arg;
	size_t count;
};

static int received_one(const struct store_record *r, void *arg)
{
	struct received *w = arg;
	struct domain_notice_row row = {0};
	Strata__Notice *no;
	int ret = 0;

	if (r->value_len == 0 || is_own(w->own, w->nown, r->owner) ||
	    !(no = strata__notice__unpack(NULL, r->value_len, r->value)))
		return 0;
	ack_of(w->t, w->own, w->nown, r->owner, no->id, row.acked);
	if (!w->unacked || !row.acked[0]) {
		row.notice = no;
		name_of(w->n, w->t, r->owner, row.from);
		key_hex(row.from_hex, r->owner);
		row.answer = notice_answer(no->due, row.acked[0] ? row.acked : NULL, w->today);
		row.counts = notice_counts_for(no->due, w->joined[0] ? w->joined : NULL);
		ret = w->fn(&row, w->arg);
		w->count++;
	}
	strata__notice__free_unpacked(no, NULL);
	return ret;
}

int domain_notice_received(const char *dir, bool unacked, int (*fn)(const struct domain_notice_row *r, void *arg),
			   void *arg, size_t *count, struct err *e)
{
	struct received *w = calloc(1, sizeof *w);
	int ret;

	*count = 0;
	if (!w) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	w->unacked = unacked;
	w->fn = fn;
	w->arg = arg;
	date_today(w->today);
	if ((ret = node_open(&w->n, dir, NODE_RDONLY | NODE_NO_KEY, e)) < 0 ||
	    (ret = store_txn_begin(node_store(w->n), false, &w->t, e)) < 0)
		goto out;
	w->nown = node_own_keys(w->n, w->t, w->own, NODE_KEYS_MAX);
	(void)node_unit_joined(w->n, w->t, node_id(w->n), w->joined, sizeof w->joined); /* "" if unknown */
	if ((ret = fn(NULL, arg)) == 0)
		ret = store_state_each(w->t, record_notice.collection, NULL, received_one, w, e);
	*count = w->count;
out:
	store_txn_abort(&w->t);
	node_close(&w->n);
	free(w);
	return ret;
}

/* --- the sender's view --- */

struct status_walk {
	struct node *n;
	struct store_txn *t;
	struct domain_notice_status *s;
	uint8_t sender[KEY_BYTES]; /* the key the notice is stored under */
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t nown, cap;
	int oom;
};

/* Is SUBJECT below this unit: an issuer on its chain one of its keys? */
static bool below(struct status_walk *w, const uint8_t subject[KEY_BYTES])
{
	struct node_chain c;
	struct err ignore = {0};
	bool found = false;

	node_chain_begin(&c, subject);
	while (!found && node_chain_next(w->t, &c, &ignore) == 0 && memcmp(c.issuer, c.subject, KEY_BYTES) != 0)
		found = is_own(w->own, w->nown, c.issuer);
	node_chain_end(&c);
	return found;
}

/* The certificate of a unit that counts (the indexed one, of a key not
 * replaced by rotation, a child or a peer sharing notices), or NULL. */
static Strata__Certificate *unit_cert(struct status_walk *w, const struct store_record *r)
{
	Strata__Certificate *c = NULL;
	uint8_t issuer[KEY_BYTES], next[KEY_BYTES];
	struct err ignore = {0};

	if (r->value_len == 0 || r->key_len != KEY_BYTES || is_own(w->own, w->nown, r->key) ||
	    node_key_successor(w->t, r->key, next) == 0 || node_cert_get(w->t, r->key, issuer, &c, &ignore) < 0)
		return NULL;
	if (memcmp(issuer, r->owner, KEY_BYTES) == 0 &&
	    (c->role == STRATA__ROLE__ROLE_CHILD ||
	     (c->role == STRATA__ROLE__ROLE_PEER && cert_shares(c, FEED_NOTICE))))
		return c;
	strata__certificate__free_unpacked(c, NULL);
	return NULL;
}

/* A new unit at the end of w->s->units, or NULL (w->oom set). */
static struct domain_notice_unit *unit_add(struct status_walk *w)
{
	struct domain_notice_status *s = w->s;

	if (s->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		struct domain_notice_unit *nu = realloc(s->units, cap * sizeof *nu);

		if (!nu) {
			w->oom = 1;
			return NULL;
		}
		s->units = nu;
		w->cap = cap;
	}
	return &s->units[s->n++];
}

static int status_one(const struct store_record *r, void *arg)
{
	struct status_walk *w = arg;
	struct domain_notice_status *s = w->s;
	struct domain_notice_unit *u;
	struct node_revocation rv;
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES];
	struct err ignore = {0};
	Strata__Certificate *c = unit_cert(w, r);

	if (!c)
		return 0;
	if (!below(w, r->key)) {
		strata__certificate__free_unpacked(c, NULL);
		return 0;
	}
	if (!(u = unit_add(w))) {
		strata__certificate__free_unpacked(c, NULL);
		return 1;
	}
	memset(u, 0, sizeof *u);
	snprintf(u->name, sizeof u->name, "%s", c->name);
	key_hex(u->hex, r->key);
	u->peer = c->role == STRATA__ROLE__ROLE_PEER;
	strata__certificate__free_unpacked(c, NULL);
	(void)node_unit_joined(w->n, w->t, r->key, u->joined, sizeof u->joined);
	ack_of(w->t, (const uint8_t(*)[KEY_BYTES])keys, node_key_chain(w->t, r->key, keys, NODE_KEYS_MAX), w->sender,
	       s->id, u->acked);
	u->answer = notice_answer(s->due[0] ? s->due : NULL, u->acked[0] ? u->acked : NULL, s->today);
	u->expected = true;
	if (node_revocation_get(w->t, r->key, &rv, &ignore) == 0 && !rv.has_successor) {
		u->expected = false;
		u->why = "revoked";
	} else if (!notice_counts_for(s->due[0] ? s->due : NULL, u->joined[0] ? u->joined : NULL)) {
		u->expected = false;
		u->why = "joined after the due date";
	}
	return 0;
}

static int unit_cmp(const void *a, const void *b)
{
	return strcmp(((const struct domain_notice_unit *)a)->name, ((const struct domain_notice_unit *)b)->name);
}

/* This unit's notice ID into s (id, title, due) and the key it is stored under. */
static int status_notice(struct status_walk *w, const char *id, struct err *e)
{
	struct domain_notice_status *s = w->s;
	Strata__Notice *no;
	const uint8_t *v;
	size_t vl;
	int ret;

	struct err got = {0};

	ret = node_own_state_get(w->n, w->t, record_notice.collection, (const uint8_t *)id, strlen(id), &v, &vl, NULL,
				 w->sender, &got);
	if (ret == -ENOENT || (ret == 0 && vl == 0)) {
		err_set(e, "this node sent no notice %s (strata notice list --own lists those it sent)", id);
		return -ESRCH;
	}
	if (ret < 0) {
		err_set(e, "%s", got.msg);
		return ret;
	}
	if (!(no = strata__notice__unpack(NULL, vl, v))) {
		err_set(e, "notice %s does not decode (run strata verify)", id);
		return -EIO;
	}
	snprintf(s->id, sizeof s->id, "%s", no->id);
	snprintf(s->title, sizeof s->title, "%s", no->title);
	snprintf(s->due, sizeof s->due, "%s", no->due ? no->due : "");
	strata__notice__free_unpacked(no, NULL);
	return 0;
}

int domain_notice_status(const char *dir, const char *id, struct domain_notice_status *s, struct err *e)
{
	struct status_walk w = {.s = s};
	int ret;

	memset(s, 0, sizeof *s);
	date_today(s->today);
	if ((ret = node_open(&w.n, dir, NODE_RDONLY | NODE_NO_KEY, e)) < 0 ||
	    (ret = store_txn_begin(node_store(w.n), false, &w.t, e)) < 0)
		goto out;
	w.nown = node_own_keys(w.n, w.t, w.own, NODE_KEYS_MAX);
	if ((ret = status_notice(&w, id, e)) < 0 ||
	    (ret = store_state_each(w.t, record_cert.collection, NULL, status_one, &w, e)) < 0)
		goto out;
	if (w.oom) {
		err_set(e, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	if (s->n > 1)
		qsort(s->units, s->n, sizeof *s->units, unit_cmp);
	for (size_t i = 0; i < s->n; i++) {
		const struct domain_notice_unit *u = &s->units[i];

		if (!u->expected)
			continue;
		s->expected++;
		s->acked += u->answer == NOTICE_ACKED;
		s->acked_late += u->answer == NOTICE_ACKED_LATE;
		s->open += u->answer == NOTICE_OPEN;
		s->overdue += u->answer == NOTICE_OVERDUE;
	}
	ret = 0;
out:
	if (ret < 0)
		domain_notice_status_release(s);
	store_txn_abort(&w.t);
	node_close(&w.n);
	return ret;
}

void domain_notice_status_release(struct domain_notice_status *s)
{
	free(s->units);
	s->units = NULL;
	s->n = 0;
}

json_t *domain_notice_status_json(const struct domain_notice_status *s)
{
	json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I}", "id", s->id, "title", s->title, "due",
			      s->due[0] ? json_string(s->due) : json_null(), "expected", (json_int_t)s->expected, "acked",
			      (json_int_t)s->acked, "acked_late", (json_int_t)s->acked_late, "not_acked",
			      (json_int_t)s->open, "overdue", (json_int_t)s->overdue);
	json_t *units = json_array();

	if (!o || !units) {
		json_decref(o);
		json_decref(units);
		return NULL;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct domain_notice_unit *u = &s->units[i];
		json_t *j = json_pack("{s:s, s:s, s:b, s:b, s:s}", "unit", u->name, "key", u->hex, "peer", u->peer,
				      "expected", u->expected, "answer", notice_answer_word(u->answer));

		if (!j)
			continue;
		json_object_set_new(j, "joined", u->joined[0] ? json_string(u->joined) : json_null());
		json_object_set_new(j, "acked", u->acked[0] ? json_string(u->acked) : json_null());
		if (u->why)
			json_object_set_new(j, "why", json_string(u->why));
		json_array_append_new(units, j);
	}
	json_object_set_new(o, "units", units);
	return o;
}
