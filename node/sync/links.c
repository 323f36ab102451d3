/* SPDX-License-Identifier: MIT */
/*
 * Every configured link of a node, for `strata status`, whether or not its
 * daemon runs: the parent named in strata.conf, and every child, peer and
 * auditor this node certified and has not revoked, connected or not. What
 * the running daemon says wins; otherwise what it last kept in the store
 * (linkstate.c); a link with neither never connected. And the checks of
 * `strata status --check`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/statvfs.h>

#include "node/sync/sync_internal.h"
#include "protocol/trust_rules.h"

struct gather {
	struct node *n;
	struct store_txn *t;
	const json_t *live;   /* the daemon's links, or NULL */
	const json_t *states; /* the daemon's records of them, or NULL: the store's */
	json_t *out;
	struct err *e;
};

static json_t *live_link(const json_t *live, const char *hex)
{
	size_t i;
	json_t *v;

	json_array_foreach(live, i, v) {
		const char *k = json_string_value(json_object_get(v, "key"));

		if (k && strcmp(k, hex) == 0)
			return v;
	}
	return NULL;
}

/* What is known of link KEY (hex: HEX) into *r: from the running daemon,
 * else from the store. false if nothing. */
static bool known(struct gather *g, const uint8_t key[KEY_BYTES], const char *hex, struct link_state *r)
{
	const uint8_t *v;
	size_t len;
	json_t *j;
	char *s;
	bool ok;

	if (!g->states)
		return store_index_get(g->t, LINKSTATE_INDEX, key, KEY_BYTES, &v, &len, &(struct err){0}) == 0 &&
		       sync_linkstate_decode(v, len, r) == 0;
	if (!(j = live_link(g->states, hex)) || !(s = json_dumps(j, JSON_COMPACT)))
		return false;
	ok = sync_linkstate_decode((const uint8_t *)s, strlen(s), r) == 0;
	free(s);
	return ok;
}

/* One link's entry: kind, role, name, key; since_ms: when a link never
 * connected became one (its certificate's issue). */
static void add(struct gather *g, const uint8_t key[KEY_BYTES], const char *kind, const char *role, const char *name,
		uint64_t never_since_ms)
{
	struct link_state r = {0};
	size_t i;
	bool have;
	char hex[KEY_HEX];
	json_t *live, *j, *x;
	const char *state, *lerr;

	key_hex(hex, key);
	have = known(g, key, hex, &r);
	json_array_foreach(g->out, i, x)
		if (strcmp(json_string_value(json_object_get(x, "key")), hex) == 0)
			return; /* certified twice: one link */
	live = g->live ? live_link(g->live, hex) : NULL;
	if (live && json_is_true(json_object_get(live, "connected"))) {
		state = "connected";
		r.since_ms = (uint64_t)json_integer_value(json_object_get(live, "since_ms"));
		r.last_seen_ms = (uint64_t)json_integer_value(json_object_get(live, "last_rx_ms"));
	} else if (have && r.last_seen_ms) {
		state = "disconnected";
		if (r.up) /* it was up when its daemon last wrote: down since then */
			r.since_ms = r.last_seen_ms;
	} else {
		state = "never connected";
		if (!have)
			r.since_ms = never_since_ms;
	}
	lerr = live ? json_string_value(json_object_get(live, "last_error")) : NULL;
	if (lerr && *lerr) {
		snprintf(r.last_error, sizeof r.last_error, "%s", lerr);
		r.last_error_ms = (uint64_t)json_integer_value(json_object_get(live, "last_error_ms"));
	}
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:O?}", "kind", kind, "role", role, "name", name,
		      "key", hex, "state", state, "since_ms",
		      r.since_ms ? json_integer((json_int_t)r.since_ms) : json_null(), "last_seen_ms",
		      r.last_seen_ms ? json_integer((json_int_t)r.last_seen_ms) : json_null(), "last_error",
		      r.last_error[0] ? json_string(r.last_error) : json_null(), "last_error_ms",
		      r.last_error[0] ? json_integer((json_int_t)r.last_error_ms) : json_null(), "daemon", live);
	if (j)
		json_array_append_new(g->out, j);
}

static int on_cert(const struct store_record *rec, void *arg)
{
	struct gather *g = arg;
	Strata__Certificate *c;
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t n_own = node_own_keys(g->n, g->t, own, NODE_KEYS_MAX);
	char why[700];

	if (rec->key_len != KEY_BYTES || rec->value_len == 0)
		return 0;
	for (size_t i = 0; i < n_own; i++)
		if (memcmp(rec->key, own[i], KEY_BYTES) == 0)
			return 0; /* the root's own certificate */
	if (node_revocation_text(g->n, g->t, rec->key, node_now_ms(), why, sizeof why) != 0)
		return 0;
	if (!(c = strata__certificate__unpack(NULL, rec->value_len, rec->value)))
		return 0;
	add(g, rec->key, "child", cert_role_word(c->role), c->name, c->issued_ms);
	strata__certificate__free_unpacked(c, NULL);
	return 0;
}

int sync_links(struct node *n, const json_t *daemon, json_t **out, struct err *e)
{
	const struct node_config *cfg = node_config(n);
	struct gather g = {.n = n, .e = e, .out = json_array()};
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	int ret;

	g.live = json_is_object(daemon) ? json_object_get(daemon, "links") : NULL;
	g.states = json_is_object(daemon) ? json_object_get(daemon, "link_states") : NULL;
	if (!g.out || (ret = store_txn_begin(node_store(n), false, &g.t, e)) < 0) {
		json_decref(g.out);
		return g.out ? ret : -ENOMEM;
	}
	if (cfg->has_parent) {
		Strata__Certificate *mine = NULL;
		char name[NODE_NAME_SIZE];
		uint64_t joined = 0;

		if (node_cert_get(g.t, node_id(n), NULL, &mine, &(struct err){0}) == 0) {
			joined = mine->issued_ms; /* never connected since it joined */
			strata__certificate__free_unpacked(mine, NULL);
		}
		if (node_key_name(n, g.t, cfg->parent_key, name) < 0)
			snprintf(name, sizeof name, "%s", cfg->parent_endpoint);
		add(&g, cfg->parent_key, "parent", cfg->parent_is_peer ? "peer" : "parent", name, joined);
	}
	ret = 0;
	for (size_t i = 0, k = node_own_keys(n, g.t, own, NODE_KEYS_MAX); ret == 0 && i < k; i++)
		ret = store_state_each(g.t, "cert", own[i], on_cert, &g, e);
	store_txn_abort(&g.t);
	if (ret < 0) {
		json_decref(g.out);
		return ret;
	}
	*out = g.out;
	return 0;
}

static void problem(json_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(json_t *out, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	json_array_append_new(out, json_string(buf));
}

static int on_head(const struct store_head *h, void *arg)
{
	void **a = arg;
	struct node *n = a[0];
	char name[NODE_NAME_SIZE], hex[KEY_HEX];

	if (!(h->flags & STORE_FEED_FROZEN))
		return 0;
	if (node_key_name(n, a[2], h->author, name) < 0) {
		key_hex(hex, h->author);
		snprintf(name, sizeof name, "%.16s…", hex);
	}
	problem(a[1], "feed %s of %s is frozen after an equivocation (see strata status)", h->feed, name);
	return 0;
}

int sync_check(struct node *n, const json_t *links, const struct sync_check_opts *o, json_t **out, struct err *e)
{
	uint64_t now = node_now_ms();
	struct store_txn *t = NULL;
	struct statvfs sv;
	json_t *p = json_array(), *v;
	size_t i;
	int ret;

	if (!p)
		return -ENOMEM;
	json_array_foreach(links, i, v) {
		const char *state = json_string_value(json_object_get(v, "state"));
		json_t *since = json_object_get(v, "since_ms");
		uint64_t s = (uint64_t)json_integer_value(since);

		if (!state || strcmp(state, "connected") == 0)
			continue;
		if (!json_is_integer(since))
			problem(p, "link %s (%s): %s, and no daemon (strata serve) has run since this node joined",
				json_string_value(json_object_get(v, "name")), json_string_value(json_object_get(v, "role")),
				state);
		else if (now > s && now - s > o->link_down_ms)
			problem(p, "link %s (%s): %s, down for %llu s (threshold %llu s)",
				json_string_value(json_object_get(v, "name")), json_string_value(json_object_get(v, "role")),
				state, (unsigned long long)((now - s) / 1000), (unsigned long long)(o->link_down_ms / 1000));
	}
	if ((ret = store_txn_begin(node_store(n), false, &t, e)) < 0 ||
	    (ret = store_heads_each(t, on_head, (void *[]){n, p, t}, e)) < 0) {
		store_txn_abort(&t);
		json_decref(p);
		return ret;
	}
	store_txn_abort(&t);
	if (statvfs(node_dir(n), &sv) < 0) {
		problem(p, "cannot read the free space of %s: %s", node_dir(n), strerror(errno));
	} else if (sv.f_blocks) {
		unsigned long long avail = (unsigned long long)sv.f_bavail * sv.f_frsize,
				   total = (unsigned long long)sv.f_blocks * sv.f_frsize;

		if (avail * 100 < (unsigned long long)o->disk_free_pct * total)
			problem(p, "the disk holding %s is nearly full: %llu MiB free of %llu MiB (%llu%%, threshold %u%%)",
				node_dir(n), avail >> 20, total >> 20, avail * 100 / total, o->disk_free_pct);
	}
	*out = p;
	return 0;
}

static json_t *link_json(struct daemon *d, struct link *l, struct store_txn *t, const struct store_head *heads,
			 size_t nheads)
{
	const struct link_counters *k = sync_link_counters(l);
	char hex[KEY_HEX];
	uint64_t lag = 0;

	key_hex(hex, sync_link_key(l));
	for (size_t i = 0; t && i < nheads; i++) {
		struct feedmap_val *v;

		if (heads[i].flags & STORE_FEED_FROZEN || !sync_route_send(d, t, l, heads[i].author, heads[i].feed))
			continue;
		v = sync_link_sent_find(l, heads[i].author, heads[i].feed);
		lag += heads[i].seq - (v && v->seq < heads[i].seq ? v->seq : (v ? heads[i].seq : 0));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:b, s:I, s:I}", "kind",
			 sync_link_kind(l) == LINK_PARENT ? "parent" : "child", "role", cert_role_word(sync_link_role(l)),
			 "name", sync_link_name(l),
			 "key", hex, "connected", sync_link_up(l), "since_ms", (json_int_t)l->since_ms, "last_rx_ms",
			 (json_int_t)l->last_rx_ms, "entries_sent", (json_int_t)k->entries_sent, "entries_received",
			 (json_int_t)k->entries_received, "refusals_sent", (json_int_t)k->refusals_sent,
			 "refusals_received", (json_int_t)k->refusals_received, "lag", (json_int_t)lag, "last_error",
			 l->last_error, "last_error_ms", (json_int_t)l->last_error_ms, "zstd",
			 sync_link_compresses(l), "batch_bytes", (json_int_t)k->batch_bytes,
			 "batch_wire_bytes", (json_int_t)k->batch_wire_bytes);
}

json_t *sync_daemon_status(struct daemon *d)
{
	struct {
		struct store_head *v;
		size_t n;
	} heads = {0};
	struct store_txn *t = NULL;
	struct err e = {0};
	json_t *links = json_array();

	if (store_txn_begin(node_store(d->n), false, &t, &e) == 0 && store_heads_list(t, &heads.v, &heads.n, &e) < 0)
		store_txn_abort(&t);
	if (d->parent)
		json_array_append_new(links, link_json(d, d->parent, t, heads.v, heads.n));
	for (size_t i = 0; i < d->nchildren; i++)
		json_array_append_new(links, link_json(d, d->children[i], t, heads.v, heads.n));
	store_txn_abort(&t);
	free(heads.v);
	return json_pack("{s:i, s:I, s:s, s:o, s:o}", "pid", (int)getpid(), "started_ms", (json_int_t)d->started_ms,
			 "listen", node_config(d->n)->listen, "links", links, "link_states", sync_linkstate_json(d));
}
