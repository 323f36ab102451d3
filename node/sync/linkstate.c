/* SPDX-License-Identifier: MIT */
/*
 * What the daemon knows of each link, kept in the store (index "links",
 * key: the other side's node key) so that `strata status` can say it
 * whether or not the daemon runs: up or down, since when, when the other
 * side was last heard, and the last error. The daemon keeps one record per
 * link it has known in memory (struct link_state), updates it from its
 * links in its sweep (no hook in the replication code) and writes the ones
 * that changed, and those up every LINKSTATE_SAVE_MS for their last-seen
 * time, in one small transaction. A child whose link is dropped leaves its
 * record behind, down since then. At its stop the daemon writes every link
 * down. The value is a small JSON object (docs/OPERATIONS.md, "Status and
 * monitoring"): read by links.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/sync/sync_internal.h"

#define LINKSTATE_SAVE_MS 10000 /* an up link's last-seen time is written this often */

static struct link_state *find(struct daemon *d, const uint8_t key[KEY_BYTES], bool create)
{
	for (size_t i = 0; i < d->n_ls; i++)
		if (memcmp(d->ls[i].key, key, KEY_BYTES) == 0)
			return &d->ls[i];
	if (!create)
		return NULL;
	if (d->n_ls == d->cap_ls) {
		size_t cap = d->cap_ls ? 2 * d->cap_ls : 8;
		struct link_state *v = realloc(d->ls, cap * sizeof *v);

		if (!v)
			return NULL;
		d->ls = v;
		d->cap_ls = cap;
	}
	memset(&d->ls[d->n_ls], 0, sizeof d->ls[0]);
	memcpy(d->ls[d->n_ls].key, key, KEY_BYTES);
	d->ls[d->n_ls].dirty = true;
	return &d->ls[d->n_ls++];
}

int sync_linkstate_decode(const uint8_t *val, size_t len, struct link_state *out)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)val, len, 0, &je);
	const char *err;

	if (!json_is_object(j)) {
		json_decref(j);
		return -EBADMSG;
	}
	out->up = json_is_true(json_object_get(j, "up"));
	out->since_ms = (uint64_t)json_integer_value(json_object_get(j, "since_ms"));
	out->last_seen_ms = (uint64_t)json_integer_value(json_object_get(j, "last_seen_ms"));
	out->last_error_ms = (uint64_t)json_integer_value(json_object_get(j, "last_error_ms"));
	err = json_string_value(json_object_get(j, "last_error"));
	snprintf(out->last_error, sizeof out->last_error, "%s", err ? err : "");
	json_decref(j);
	return 0;
}

static int on_record(const uint8_t *key, size_t key_len, const uint8_t *val, size_t len, void *arg)
{
	struct daemon *d = arg;
	struct link_state s = {0}, *r;

	if (key_len != KEY_BYTES || sync_linkstate_decode(val, len, &s) < 0 || !(r = find(d, key, true)))
		return 0;
	memcpy(s.key, key, KEY_BYTES);
	s.dirty = s.up; /* a daemon that died left it up: it went down when last seen */
	if (s.up) {
		s.up = false;
		s.since_ms = s.last_seen_ms ? s.last_seen_ms : s.since_ms;
	}
	*r = s;
	return 0;
}

void sync_linkstate_load(struct daemon *d)
{
	struct store_txn *t = NULL;
	struct err e = {0};

	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0 ||
	    store_index_each(t, LINKSTATE_INDEX, on_record, d, &e) < 0)
		sync_log(d, "cannot read the links' last state: %s", e.msg);
	store_txn_abort(&t);
	if (d->parent && !find(d, sync_link_key(d->parent), false)) {
		struct link_state *r = find(d, sync_link_key(d->parent), true);

		if (r)
			r->since_ms = d->started_ms; /* waiting for it from now */
	}
}

void sync_linkstate_note(struct daemon *d, struct link *l, uint64_t now)
{
	struct link_state *r = l->ls_hint < d->n_ls && !memcmp(d->ls[l->ls_hint].key, sync_link_key(l), KEY_BYTES)
				       ? &d->ls[l->ls_hint]
				       : find(d, sync_link_key(l), true);

	if (!r)
		return;
	l->ls_hint = (size_t)(r - d->ls);
	if (r->up != l->up) {
		r->up = l->up;
		r->since_ms = sync_link_up(l) && l->since_ms ? l->since_ms : now;
		r->dirty = true;
	}
	if (sync_link_up(l))
		r->last_seen_ms = l->last_rx_ms;
	if (l->last_error_ms > r->last_error_ms) {
		r->last_error_ms = l->last_error_ms;
		snprintf(r->last_error, sizeof r->last_error, "%s", l->last_error);
		r->dirty = true;
	}
}

void sync_linkstate_gone(struct daemon *d, struct link *l, const char *why)
{
	uint64_t now = node_now_ms();
	struct link_state *r;

	sync_linkstate_note(d, l, now);
	if (!(r = find(d, sync_link_key(l), false)))
		return;
	if (r->up) {
		r->up = false;
		r->since_ms = now;
		r->dirty = true;
	}
	if (why && *why) {
		snprintf(r->last_error, sizeof r->last_error, "%s", why);
		r->last_error_ms = now;
		r->dirty = true;
	}
}

static json_t *encode(const struct link_state *r)
{
	return json_pack("{s:b, s:I, s:I, s:s, s:I}", "up", r->up, "since_ms", (json_int_t)r->since_ms,
			 "last_seen_ms", (json_int_t)r->last_seen_ms, "last_error", r->last_error, "last_error_ms",
			 (json_int_t)r->last_error_ms);
}

void sync_linkstate_flush(struct daemon *d, bool stopping)
{
	uint64_t now = node_now_ms();
	struct store_txn *t = NULL;
	struct err e = {0};
	bool any = false;
	int ret = 0;

	if (d->parent)
		sync_linkstate_note(d, d->parent, now);
	for (size_t i = 0; i < d->nchildren; i++)
		sync_linkstate_note(d, d->children[i], now);
	for (size_t i = 0; i < d->n_ls; i++) {
		struct link_state *r = &d->ls[i];

		if (stopping && r->up) {
			r->up = false;
			r->since_ms = now;
			r->dirty = true;
		}
		if (r->up && now - r->saved_ms >= LINKSTATE_SAVE_MS)
			r->dirty = true;
		any |= r->dirty;
	}
	if (!any || (ret = store_txn_begin(node_store(d->n), true, &t, &e)) < 0)
		goto fail;
	for (size_t i = 0; ret == 0 && i < d->n_ls; i++) {
		json_t *j;
		char *s;

		if (!d->ls[i].dirty)
			continue;
		j = encode(&d->ls[i]);
		s = j ? json_dumps(j, JSON_COMPACT) : NULL;
		ret = s ? store_index_put(t, LINKSTATE_INDEX, d->ls[i].key, KEY_BYTES, (const uint8_t *)s, strlen(s), &e)
			: -ENOMEM;
		free(s);
		json_decref(j);
	}
	if (ret < 0 || (ret = store_txn_commit(&t, &e)) < 0)
		goto fail;
	for (size_t i = 0; i < d->n_ls; i++)
		if (d->ls[i].dirty) {
			d->ls[i].dirty = false;
			d->ls[i].saved_ms = now;
		}
	return;
fail:
	store_txn_abort(&t);
	/* kept dirty: tried again next sweep; a full disk says so once a minute */
	if (ret < 0 && now - d->ls_log_ms >= 60000) {
		d->ls_log_ms = now;
		sync_log(d, "cannot keep the links' state: %s", e.msg);
	}
}

json_t *sync_linkstate_json(struct daemon *d)
{
	uint64_t now = node_now_ms();
	json_t *a = json_array();
	char hex[KEY_HEX];

	if (d->parent)
		sync_linkstate_note(d, d->parent, now);
	for (size_t i = 0; i < d->nchildren; i++)
		sync_linkstate_note(d, d->children[i], now);
	for (size_t i = 0; a && i < d->n_ls; i++) {
		json_t *j = encode(&d->ls[i]);

		key_hex(hex, d->ls[i].key);
		json_object_set_new(j, "key", json_string(hex));
		json_array_append_new(a, j);
	}
	return a;
}

void sync_linkstate_free(struct daemon *d)
{
	free(d->ls);
	d->ls = NULL;
	d->n_ls = d->cap_ls = 0;
}
