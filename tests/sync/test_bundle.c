/* SPDX-License-Identifier: MIT */
/*
 * sync_bundle: feeds carried in a file between nodes that have no network
 * (strata export / strata import). A street that joined its city and then
 * went offline writes members; its bundle, cut down to what the city lacks
 * (--since the city's status), brings the city everything, once: a second
 * import stores nothing. A damaged, truncated or foreign bundle is refused
 * with exit 2 at the first bad entry, everything before it kept, nothing
 * after it read; a file that is not a bundle changes nothing. A bundle
 * that forks a feed the importer holds is equivocation, caught as on a
 * link. An import into a running node reaches its parent.
 *
 * The test reads and writes the bundle layout itself (magic, then records
 * of a 4-byte big-endian length and a message: the BundleHeader, Frames of
 * Entries, a Frame of BundleEnd) so that it can alter one envelope or cut a
 * file where it wants.
 *
 * No test sets .timeout: Criterion's timeout requests (BoxFort's
 * bxfi_timeout_request, 48 bytes) leak in its runner when three or more
 * timed tests run on two jobs, which LeakSanitizer reports as a failure of
 * the suite. Every wait here has its own deadline (net_run, NET_WAIT), and
 * meson's timeout bounds the whole.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net.h"

TestSuite(sync_bundle, .init = net_setup, .fini = net_teardown);

#define MAGIC "STRATA-BUNDLE-1\n"
#define MAGIC_LEN 16

/* --- the layout, parsed and written by the test --- */

struct env {
	uint8_t *data;
	size_t len;
	char feed[16];
	uint8_t author[KEY_BYTES];
	uint64_t seq;
};

/* A parsed bundle: its header record's bytes, every envelope in order, the
 * number of Entries frames, and the count of the end record. */
struct parsed {
	uint8_t *header;
	size_t header_len;
	struct env *env;
	size_t n, frames;
	uint64_t end_count;
	bool has_end;
	ProtobufCBinaryData ckpt[16];  /* issue 15: the exporter's Checkpoint frames, kept to write them back */
	size_t n_ckpt;
};

static void parsed_free(void *p)
{
	struct parsed *b = p;

	for (size_t i = 0; i < b->n; i++)
		free(b->env[i].data);
	for (size_t i = 0; i < b->n_ckpt; i++)
		free(b->ckpt[i].data);
	free(b->env);
	free(b->header);
	free(b);
}

static size_t file_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s does not exist", path);
	return (size_t)st.st_size;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;

	cr_assert_not_null(f, "cannot open %s", path);
	*len = file_size(path);
	buf = malloc(*len ? *len : 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, *len, f), *len, "short read of %s", path);
	fclose(f);
	return net_own(buf, free);
}

static void write_all(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "cannot create %s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* Parses a complete, well-formed bundle file (asserting that it is one),
 * decoding each envelope's body for its author, feed and seq. */
static struct parsed *bundle_parse(const char *path)
{
	struct parsed *b = net_own(calloc(1, sizeof *b), parsed_free);
	size_t len, off = MAGIC_LEN, cap = 0;
	uint8_t *buf = read_all(path, &len);

	cr_assert_geq(len, MAGIC_LEN, "%s is shorter than the magic", path);
	cr_assert_eq(memcmp(buf, MAGIC, MAGIC_LEN), 0, "%s does not start with the bundle magic", path);
	for (bool first = true; off < len; first = false) {
		uint32_t rl;
		Strata__Frame *f;

		cr_assert_leq(off + 4, len, "%s: a record length is cut at %zu", path, off);
		rl = be32_get(buf + off);
		off += 4;
		cr_assert_leq(off + rl, len, "%s: a record of %u bytes at %zu runs past the end", path, rl, off);
		if (first) {
			Strata__BundleHeader *h = strata__bundle_header__unpack(NULL, rl, buf + off);

			cr_assert_not_null(h, "%s: the header does not decode", path);
			cr_assert_eq(h->version, 1);
			cr_assert_eq(h->node.len, KEY_BYTES);
			strata__bundle_header__free_unpacked(h, NULL);
			b->header = malloc(rl);
			cr_assert_not_null(b->header);
			memcpy(b->header, buf + off, rl);
			b->header_len = rl;
			off += rl;
			continue;
		}
		cr_assert(!b->has_end, "%s: a record after the end record", path);
		f = strata__frame__unpack(NULL, rl, buf + off);
		cr_assert_not_null(f, "%s: the record at %zu is not a Frame", path, off);
		off += rl;
		if (f->msg_case == STRATA__FRAME__MSG_END) {
			b->has_end = true;
			b->end_count = f->end->entries;
		} else if (f->msg_case == STRATA__FRAME__MSG_ENTRIES) {
			b->frames++;
			for (size_t i = 0; i < f->entries->n_envelopes; i++) {
				ProtobufCBinaryData *d = &f->entries->envelopes[i];
				Strata__Envelope *ev = strata__envelope__unpack(NULL, d->len, d->data);
				Strata__ChangeSetBody *body;
				struct env *e;

				cr_assert_not_null(ev, "%s: envelope %zu does not decode", path, b->n + 1);
				body = strata__change_set_body__unpack(NULL, ev->body.len, ev->body.data);
				cr_assert_not_null(body, "%s: the body of envelope %zu does not decode", path, b->n + 1);
				if (b->n == cap) {
					cap = cap ? 2 * cap : 64;
					b->env = realloc(b->env, cap * sizeof *b->env);
					cr_assert_not_null(b->env);
				}
				e = &b->env[b->n++];
				memset(e, 0, sizeof *e);
				e->data = malloc(d->len);
				cr_assert_not_null(e->data);
				memcpy(e->data, d->data, d->len);
				e->len = d->len;
				snprintf(e->feed, sizeof e->feed, "%s", body->feed);
				cr_assert_eq(body->author.len, KEY_BYTES);
				memcpy(e->author, body->author.data, KEY_BYTES);
				e->seq = body->seq;
				strata__change_set_body__free_unpacked(body, NULL);
				strata__envelope__free_unpacked(ev, NULL);
			}
		} else if (f->msg_case == STRATA__FRAME__MSG_CHECKPOINT) {
			/* issue 15: the exporter's checkpoints, after the entries */
			cr_assert_gt(f->checkpoint->note.len, 0, "%s: an empty checkpoint", path);
			cr_assert_lt(b->n_ckpt, sizeof b->ckpt / sizeof b->ckpt[0]);
			b->ckpt[b->n_ckpt].data = malloc(f->checkpoint->note.len);
			cr_assert_not_null(b->ckpt[b->n_ckpt].data);
			memcpy(b->ckpt[b->n_ckpt].data, f->checkpoint->note.data, f->checkpoint->note.len);
			b->ckpt[b->n_ckpt++].len = f->checkpoint->note.len;
		} else {
			cr_assert_fail("%s: an unexpected frame (case %d) in a bundle", path, (int)f->msg_case);
		}
		strata__frame__free_unpacked(f, NULL);
	}
	cr_assert(b->has_end, "%s has no end record", path);
	cr_assert_eq(b->end_count, b->n, "%s: the end record counts %llu, the file holds %zu", path,
		     (unsigned long long)b->end_count, b->n);
	return b;
}

static void put_record(FILE *f, const uint8_t *data, size_t len)
{
	uint8_t be[4];

	be32_put(be, (uint32_t)len);

	cr_assert_eq(fwrite(be, 1, 4, f), 4);
	cr_assert_eq(fwrite(data, 1, len, f), len);
}

static void put_frame(FILE *f, const Strata__Frame *fr)
{
	size_t len = strata__frame__get_packed_size(fr);
	uint8_t *buf = malloc(len ? len : 1);

	cr_assert_not_null(buf);
	strata__frame__pack(fr, buf);
	put_record(f, buf, len);
	free(buf);
}

/* Writes b as a bundle at path with at most per_frame envelopes in each
 * Entries frame (0: one frame), envelope `swap_at` (from 1; 0: none)
 * replaced by swap/swap_len. Stores the offset at which each record
 * starts in starts[] (up to max; the header's first) and returns their
 * number. */
static size_t bundle_write(const char *path, const struct parsed *b, size_t per_frame, size_t swap_at,
			   const uint8_t *swap, size_t swap_len, size_t *starts, size_t max)
{
	FILE *f = fopen(path, "wb");
	ProtobufCBinaryData *v = calloc(b->n ? b->n : 1, sizeof *v);
	Strata__BundleEnd end = STRATA__BUNDLE_END__INIT;
	Strata__Frame fr = STRATA__FRAME__INIT;
	size_t n_starts = 0;

	cr_assert_not_null(f);
	cr_assert_not_null(v);
	for (size_t i = 0; i < b->n; i++) {
		bool sw = swap_at == i + 1;

		v[i].data = sw ? (uint8_t *)swap : b->env[i].data;
		v[i].len = sw ? swap_len : b->env[i].len;
	}
	cr_assert_eq(fwrite(MAGIC, 1, MAGIC_LEN, f), MAGIC_LEN);
	if (n_starts < max)
		starts[n_starts++] = (size_t)ftell(f);
	put_record(f, b->header, b->header_len);
	if (!per_frame)
		per_frame = b->n ? b->n : 1;
	for (size_t i = 0; i < b->n; i += per_frame) {
		Strata__Entries en = STRATA__ENTRIES__INIT;
		size_t k = b->n - i < per_frame ? b->n - i : per_frame;

		en.batch = i + k; /* as the exporter numbers them: entries so far */
		en.n_envelopes = k;
		en.envelopes = v + i;
		fr.msg_case = STRATA__FRAME__MSG_ENTRIES;
		fr.entries = &en;
		if (n_starts < max)
			starts[n_starts++] = (size_t)ftell(f);
		put_frame(f, &fr);
	}
	for (size_t i = 0; i < b->n_ckpt; i++) { /* the checkpoints, as the exporter writes them */
		Strata__Checkpoint ck = STRATA__CHECKPOINT__INIT;

		ck.note = b->ckpt[i];
		fr.msg_case = STRATA__FRAME__MSG_CHECKPOINT;
		fr.checkpoint = &ck;
		put_frame(f, &fr);
	}
	end.entries = b->n;
	end.has_evidence = 1; /* as the exporter counts them: none here */
	end.has_checkpoints = 1;
	end.checkpoints = b->n_ckpt;
	fr.msg_case = STRATA__FRAME__MSG_END;
	fr.end = &end;
	if (n_starts < max)
		starts[n_starts++] = (size_t)ftell(f);
	put_frame(f, &fr);
	cr_assert_eq(fclose(f), 0);
	free(v);
	return n_starts;
}

/* Appends to path an end record counting `count` entries. */
static void append_end(const char *path, uint64_t count)
{
	FILE *f = fopen(path, "ab");
	Strata__BundleEnd end = STRATA__BUNDLE_END__INIT;
	Strata__Frame fr = STRATA__FRAME__INIT;

	cr_assert_not_null(f);
	end.entries = count;
	fr.msg_case = STRATA__FRAME__MSG_END;
	fr.end = &end;
	put_frame(f, &fr);
	cr_assert_eq(fclose(f), 0);
}

/* A copy of path's first len bytes at out. */
static void truncate_copy(const char *path, size_t len, const char *out)
{
	size_t all;
	uint8_t *buf = read_all(path, &all);

	cr_assert_leq(len, all);
	write_all(out, buf, len);
	net_release(buf);
}

/* --- nodes --- */

static void add_member(struct net_node *n, const char *id)
{
	net_ok("member", "add", "-d", n->dir, "--id", id, "--name", "黄志明", "--category", "full", "--joined",
	       "2019-03-12", NULL);
}

/* A city (root) and a street joined to it while the city served; then no
 * daemon runs. The street imports `members` members with
 * ops_per_changeset `ops`. */
static void joined(struct net_node **city, struct net_node **street)
{
	*city = net_node_init("city", "xiamen", true, true);
	*street = net_node_init("street", "xiamen/zhonghua", false, false);
	net_node_start(*city);
	net_node_join(*street, *city, NULL);
	net_node_stop(*city);
}

static void city_and_street(struct net_node **city, struct net_node **street, unsigned long members, unsigned ops)
{
	char csv[256];

	joined(city, street);
	net_node_set_ops(*street, ops);
	net_gen_members(net_path(csv, "street.csv"), members, "ZH", 7);
	net_ok("member", "import", "-d", (*street)->dir, csv, NULL);
	cr_assert_eq(net_head(*street, (*street)->key, FEED_UP, NULL), members / ops);
	cr_assert_eq(net_head(*city, (*street)->key, FEED_UP, NULL), 0,
		     "the city got the street's entries over no network");
}

/* `strata status --json` of n into the file name (under net_tmp). */
static const char *save_heads(const struct net_node *n, const char *name, char out[256])
{
	json_t *j = net_node_status(n);

	net_path(out, name);
	cr_assert_eq(json_dump_file(j, out, 0), 0, "cannot write %s", out);
	net_release(j);
	return out;
}

/* A node sharing n's key, path and labels but living in another directory:
 * a copy of n's directory (no daemon may run). */
static struct net_node *copy_node(const struct net_node *n, const char *label)
{
	struct net_node *c = net_own(malloc(sizeof *c), free);

	*c = *n;
	snprintf(c->label, sizeof c->label, "%s", label);
	net_path(c->dir, label);
	c->pid = 0;
	net_copy_tree(n->dir, c->dir);
	return c;
}

/* Runs `strata export ARGS... --json` expecting exit 0; returns entries and
 * (if feeds not NULL) the feed count it reported. */
static size_t export_json(size_t *feeds, const char *dir, const char *out, const char *a1, const char *a2)
{
	struct net_run r;
	json_t *j;
	size_t entries;

	if (a1)
		net_run(&r, "export", "-d", dir, "-o", out, "--json", a1, a2, NULL);
	else
		net_run(&r, "export", "-d", dir, "-o", out, "--json", NULL);
	cr_assert_eq(r.status, 0, "export: exit %d\n%s%s", r.status, r.out, r.err);
	j = net_run_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "file")), out);
	entries = (size_t)json_integer_value(json_object_get(j, "entries"));
	if (feeds)
		*feeds = (size_t)json_integer_value(json_object_get(j, "feeds"));
	cr_assert_eq((size_t)json_integer_value(json_object_get(j, "bytes")), file_size(out) - MAGIC_LEN,
		     "export reports %lld bytes, the file holds %zu after the magic",
		     (long long)json_integer_value(json_object_get(j, "bytes")), file_size(out) - MAGIC_LEN);
	net_release(j);
	net_run_free(&r);
	return entries;
}

/* The outcome of `strata import --json`. */
struct imported {
	int status;
	bool complete;
	size_t stored, duplicates;
	char err[4096];   /* stderr */
	char error[4096]; /* the JSON's "error", or "" */
};

static void import_json(struct imported *im, const struct net_node *n, const char *file)
{
	struct net_run r;
	json_t *j, *e;

	memset(im, 0, sizeof *im);
	net_run(&r, "import", "-d", n->dir, file, "--json", NULL);
	im->status = r.status;
	snprintf(im->err, sizeof im->err, "%s", r.err);
	j = net_run_json(&r);
	im->complete = json_is_true(json_object_get(j, "complete"));
	cr_assert(json_is_boolean(json_object_get(j, "complete")), "import --json has no complete: %s", r.out);
	im->stored = (size_t)json_integer_value(json_object_get(j, "stored"));
	im->duplicates = (size_t)json_integer_value(json_object_get(j, "duplicates"));
	e = json_object_get(j, "error");
	if (json_is_string(e))
		snprintf(im->error, sizeof im->error, "%s", json_string_value(e));
	net_release(j);
	net_run_free(&r);
}

/* Every head of n, for comparing before and after. */
static char *heads_text(const struct net_node *n)
{
	struct store_head *h;
	size_t count = net_heads(n, &h);
	char *s = calloc(1, count * 200 + 1);
	size_t off = 0;

	cr_assert_not_null(s);
	for (size_t i = 0; i < count; i++) {
		char hex[KEY_HEX];

		key_hex(hex, h[i].author);
		off += (size_t)sprintf(s + off, "%.16s %s %llu\n", hex, h[i].feed, (unsigned long long)h[i].seq);
	}
	net_release(h);
	return net_own(s, free);
}

static void assert_verifies(const struct net_node *n)
{
	char out[4096];

	cr_assert_eq(net_node_verify(n, out, sizeof out), 0, "verify %s: %s", n->label, out);
}

/* --- tests --- */

Test(sync_bundle, round_trip_since_and_twice)
{
	struct net_node *city, *street;
	struct parsed *b;
	struct imported im;
	char heads[256], file[256], file2[256];
	size_t entries, feeds;

	city_and_street(&city, &street, 3000, 100);
	save_heads(city, "city-heads.json", heads);
	entries = export_json(&feeds, street->dir, net_path(file, "street.bundle"), "--since", heads);
	cr_assert_eq(entries, 30, "the bundle holds %zu entries, the city lacks 30", entries);
	cr_assert_eq(feeds, 1, "the bundle holds %zu feeds, the city lacks only the street's up feed", feeds);
	b = bundle_parse(file);
	cr_assert_eq(b->n, 30);
	for (size_t i = 0; i < b->n; i++) {
		cr_assert_str_eq(b->env[i].feed, "up", "entry %zu", i + 1);
		cr_assert_eq(memcmp(b->env[i].author, street->key, KEY_BYTES), 0, "entry %zu is not the street's", i + 1);
		cr_assert_eq(b->env[i].seq, i + 1, "entry %zu holds seq %llu", i + 1, (unsigned long long)b->env[i].seq);
	}
	net_release(b);

	import_json(&im, city, file);
	cr_assert_eq(im.status, 0, "import: exit %d: %s", im.status, im.err);
	cr_assert(im.complete);
	cr_assert_eq(im.stored, 30, "stored %zu", im.stored);
	cr_assert_eq(im.duplicates, 0);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 30);
	cr_assert_eq(net_count(city, "member", street->key), 3000);
	assert_verifies(city);

	/* Twice: nothing new, everything already held. */
	import_json(&im, city, file);
	cr_assert_eq(im.status, 0, "second import: exit %d: %s", im.status, im.err);
	cr_assert(im.complete);
	cr_assert_eq(im.stored, 0, "the second import stored %zu", im.stored);
	cr_assert_eq(im.duplicates, 30, "the second import saw %zu duplicates", im.duplicates);
	cr_assert_eq(net_count(city, "member", street->key), 3000);

	/* The plain form says the same in words. */
	{
		struct net_run r;

		net_run(&r, "import", "-d", city->dir, file, NULL);
		cr_assert_eq(r.status, 0, "%s", r.err);
		cr_assert(net_has(r.out, "imported 0 new entries") && net_has(r.out, "30 already held"), "%s", r.out);
		net_run_free(&r);
	}

	/* --since again: only the two entries written since. */
	add_member(street, "ZH990001");
	add_member(street, "ZH990002");
	save_heads(city, "city-heads2.json", heads);
	entries = export_json(&feeds, street->dir, net_path(file2, "street2.bundle"), "--since", heads);
	cr_assert_eq(entries, 2, "the second bundle holds %zu entries, the city lacks 2", entries);
	cr_assert_eq(feeds, 1);
	b = bundle_parse(file2);
	cr_assert_eq(b->env[0].seq, 31);
	cr_assert_eq(b->env[1].seq, 32);
	net_release(b);
	import_json(&im, city, file2);
	cr_assert_eq(im.status, 0, "import: exit %d: %s", im.status, im.err);
	cr_assert_eq(im.stored, 2);
	cr_assert_eq(im.duplicates, 0);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 32);
	cr_assert_eq(net_count(city, "member", street->key), 3002);

	/* Nothing is left to send: an empty bundle, which imports. */
	save_heads(city, "city-heads3.json", heads);
	entries = export_json(&feeds, street->dir, net_path(file2, "street3.bundle"), "--since", heads);
	cr_assert_eq(entries, 0);
	cr_assert_eq(feeds, 0);
	import_json(&im, city, file2);
	cr_assert_eq(im.status, 0, "import of an empty bundle: exit %d: %s", im.status, im.err);
	cr_assert(im.complete);
	cr_assert_eq(im.stored, 0);
	assert_verifies(city);
}

/* The trust entries at the head of bundle b, each by CHAIN (the one
 * issuer of the chain in these tests), and every other entry an up
 * entry: their count. */
static size_t chain_trust(const struct parsed *b, const struct net_node *chain)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++) {
		if (strcmp(b->env[i].feed, "trust") != 0) {
			cr_assert_str_eq(b->env[i].feed, "up", "entry %zu of an up-only bundle", i + 1);
			continue;
		}
		cr_assert_eq(n, i, "trust entry %zu after an up entry", i + 1);
		cr_assert_eq(memcmp(b->env[i].author, chain->key, KEY_BYTES), 0, "trust entry %zu by another", i + 1);
		n++;
	}
	cr_assert_gt(n, 0, "no trust entry for the chain");
	return n;
}

Test(sync_bundle, feeds_filter_and_order)
{
	struct net_node *city, *street, *before;
	struct parsed *b;
	struct imported im;
	char file[256], all[256];
	size_t entries, feeds, all_feeds, n_trust = 0;

	city_and_street(&city, &street, 300, 10);
	before = copy_node(city, "city-before");

	/* --feeds up from the street: only its up feed (it never synced, so
	 * it holds no trust feed of its chain to add; the city holds it). */
	entries = export_json(&feeds, street->dir, net_path(file, "up.bundle"), "--feeds", "up");
	cr_assert_eq(entries, 30);
	cr_assert_eq(feeds, 1, "--feeds up exported %zu feeds", feeds);
	import_json(&im, city, file);
	cr_assert_eq(im.status, 0, "import: exit %d: %s", im.status, im.err);
	cr_assert_eq(im.stored, 30);
	cr_assert_eq(net_count(city, "member", street->key), 300);
	assert_verifies(city);

	/* Everything the city holds: the trust feed first, then the up feed. */
	entries = export_json(&all_feeds, city->dir, net_path(all, "all.bundle"), NULL, NULL);
	b = bundle_parse(all);
	cr_assert_eq(b->n, entries);
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->env[i].feed, "trust") == 0) {
			cr_assert_eq(n_trust, i, "trust entry %zu comes after entry %zu of feed %s", i + 1, n_trust,
				     b->env[n_trust].feed);
			cr_assert_eq(memcmp(b->env[i].author, city->key, KEY_BYTES), 0);
			n_trust++;
		}
	cr_assert_geq(n_trust, 2, "the full bundle holds %zu trust entries (the root's own certificate and the "
				  "street's at least)", n_trust);
	cr_assert_eq(entries, n_trust + 30);
	cr_assert_eq(all_feeds, 2);
	net_release(b);

	/* --feeds up from the city: the street's up feed and the trust feed
	 * of its chain first (issue 16: a bundle carries the chains its
	 * entries need, whatever --feeds leaves out). */
	entries = export_json(&feeds, city->dir, net_path(file, "city-up.bundle"), "--feeds", "up");
	cr_assert_eq(entries, 30 + n_trust);
	cr_assert_eq(feeds, 2);
	b = bundle_parse(file);
	cr_assert_eq(chain_trust(b, city), n_trust);
	net_release(b);

	/* --feeds trust, and a list naming both. */
	entries = export_json(&feeds, city->dir, net_path(file, "trust.bundle"), "--feeds", "trust");
	cr_assert_eq(entries, n_trust);
	cr_assert_eq(feeds, 1);
	entries = export_json(&feeds, city->dir, net_path(file, "tu.bundle"), "--feeds", "trust,up");
	cr_assert_eq(entries, n_trust + 30);
	cr_assert_eq(feeds, all_feeds);

	/* The full bundle into the city as it was: the trust entries are
	 * already held, the up feed is new. */
	import_json(&im, before, all);
	cr_assert_eq(im.status, 0, "import: exit %d: %s", im.status, im.err);
	cr_assert_eq(im.stored, 30);
	cr_assert_eq(im.duplicates, n_trust);
	cr_assert_eq(net_count(before, "member", street->key), 300);
	assert_verifies(before);
}

/* A bundle of the 30 entries the city lacks, checked to be the street's up
 * feed 1..30 in order. */
static struct parsed *street_bundle(struct net_node *city, struct net_node *street, char file[256])
{
	char heads[256];
	struct parsed *b;

	save_heads(city, "city-heads.json", heads);
	cr_assert_eq(export_json(NULL, street->dir, net_path(file, "street.bundle"), "--since", heads), 30);
	b = bundle_parse(file);
	cr_assert_eq(b->n, 30);
	for (size_t i = 0; i < b->n; i++)
		cr_assert(strcmp(b->env[i].feed, "up") == 0 && b->env[i].seq == i + 1 &&
			  memcmp(b->env[i].author, street->key, KEY_BYTES) == 0,
			  "entry %zu is not the street's up #%zu", i + 1, i + 1);
	return b;
}

Test(sync_bundle, damaged_entry_keeps_everything_before)
{
	struct net_node *city, *street;
	struct parsed *b;
	struct imported im;
	char file[256], copy[256], bad[256];
	Strata__Envelope *ev;
	uint8_t *hit, *alt;
	size_t alt_len, starts[8], ns;

	city_and_street(&city, &street, 300, 10);
	b = street_bundle(city, street, file);

	/* The test's framing is the exporter's: rewritten as one frame, the
	 * file is the same bytes. */
	ns = bundle_write(net_path(copy, "copy.bundle"), b, 0, 0, NULL, 0, starts, 8);
	cr_assert_eq(ns, 3);
	{
		size_t l1, l2;
		uint8_t *x = read_all(file, &l1), *y = read_all(copy, &l2);

		cr_assert(l1 == l2 && memcmp(x, y, l1) == 0, "the test does not reproduce the exporter's framing");
		net_release(x);
		net_release(y);
	}

	/* Entry 20 with one byte of its signed body flipped: a member id
	 * inside an op's key, so the body still decodes and only the
	 * signature can tell. */
	ev = strata__envelope__unpack(NULL, b->env[19].len, b->env[19].data);
	cr_assert_not_null(ev);
	hit = NULL;
	for (size_t i = 0; !hit && i + 8 <= ev->body.len; i++)
		if (ev->body.data[i] == 'Z' && ev->body.data[i + 1] == 'H')
			hit = ev->body.data + i;
	cr_assert_not_null(hit, "entry 20 holds no member id in its body");
	hit[3] ^= 0x01;
	alt_len = strata__envelope__get_packed_size(ev);
	alt = net_own(malloc(alt_len), free);
	strata__envelope__pack(ev, alt);
	strata__envelope__free_unpacked(ev, NULL);
	cr_assert_eq(alt_len, b->env[19].len);
	cr_assert_neq(memcmp(alt, b->env[19].data, alt_len), 0);
	bundle_write(net_path(bad, "bad.bundle"), b, 0, 20, alt, alt_len, starts, 8);

	import_json(&im, city, bad);
	cr_assert_eq(im.status, 2, "a damaged bundle imported with exit %d: %s", im.status, im.err);
	cr_assert(!im.complete);
	cr_assert(net_has(im.err, "entry 20"), "the error does not name entry 20: %s", im.err);
	cr_assert(net_has(im.error, "entry 20"), "the JSON error does not name entry 20: %s", im.error);
	cr_assert(net_has(im.err, "(frame 1, at byte "), "the error does not say where entry 20 is: %s", im.err);
	cr_assert_eq(im.stored, 19, "stored %zu", im.stored);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 19, "everything before entry 20, nothing after");
	cr_assert_eq(net_count(city, "member", street->key), 190);
	assert_verifies(city);

	/* The intact bundle completes it: 19 already held, 11 new. */
	import_json(&im, city, file);
	cr_assert_eq(im.status, 0, "import: exit %d: %s", im.status, im.err);
	cr_assert_eq(im.stored, 11);
	cr_assert_eq(im.duplicates, 19);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 30);
	cr_assert_eq(net_count(city, "member", street->key), 300);
	assert_verifies(city);
}

Test(sync_bundle, damaged_first_entry_stores_nothing)
{
	struct net_node *city, *street;
	struct parsed *b;
	struct imported im;
	char file[256], bad[256], heads[256];
	uint8_t *alt;
	size_t starts[8];
	char *before;

	city_and_street(&city, &street, 100, 10);
	save_heads(city, "h.json", heads);
	cr_assert_eq(export_json(NULL, street->dir, net_path(file, "street.bundle"), "--since", heads), 10);
	b = bundle_parse(file);
	/* The last byte of the envelope (inside its signature) altered. */
	alt = net_own(malloc(b->env[0].len), free);
	memcpy(alt, b->env[0].data, b->env[0].len);
	alt[b->env[0].len - 1] ^= 0x80;
	bundle_write(net_path(bad, "bad.bundle"), b, 0, 1, alt, b->env[0].len, starts, 8);
	before = heads_text(city);
	import_json(&im, city, bad);
	cr_assert_eq(im.status, 2, "exit %d: %s", im.status, im.err);
	cr_assert(net_has(im.err, "entry 1:"), "%s", im.err);
	cr_assert_eq(im.stored, 0);
	cr_assert_str_eq(heads_text(city), before, "a refused first entry changed the city's heads");
}

/* The nodes and files the truncation checks share: a street's 30 entries
 * exported in three frames (three, record offsets in starts) and by the
 * exporter itself (file), imported into three copies of the city. */
struct cuts {
	struct net_node *city, *street, *c2, *c3;
	char file[256], three[256];
	size_t starts[8];
};

/* Cut in the middle of the third Entries record: the two frames before
 * it, and the entries of the third that are whole before the cut. */
static void cut_inside_a_record(struct cuts *x)
{
	struct imported im;
	char cut[256];

	truncate_copy(x->three, x->starts[3] + (x->starts[4] - x->starts[3]) / 2, net_path(cut, "mid.bundle"));
	import_json(&im, x->city, cut);
	cr_assert_eq(im.status, 2, "a truncated bundle imported with exit %d: %s", im.status, im.err);
	cr_assert(!im.complete);
	cr_assert(net_has(im.err, "truncated") && net_has(im.err, "inside frame 3"), "%s", im.err);
	cr_assert(im.stored > 20 && im.stored < 30, "stored %zu: %s", im.stored, im.err);
	cr_assert_eq(net_head(x->city, x->street->key, FEED_UP, NULL), im.stored);
	cr_assert_eq(net_count(x->city, "member", x->street->key), 10 * im.stored);
}

/* Cut between two frames: the two before it, and where it ends; then cut
 * inside a record's length. */
static void cut_between_frames_and_inside_a_length(struct cuts *x)
{
	struct imported im;
	char cut[256], where[64];

	truncate_copy(x->three, x->starts[3], net_path(cut, "between.bundle"));
	import_json(&im, x->c3, cut);
	cr_assert_eq(im.status, 2, "exit %d: %s", im.status, im.err);
	cr_assert_eq(im.stored, 20);
	snprintf(where, sizeof where, "truncated at byte %zu after entry 20", x->starts[3]);
	cr_assert(net_has(im.err, where), "the error does not say \"%s\": %s", where, im.err);

	truncate_copy(x->three, x->starts[3] + 2, net_path(cut, "len.bundle"));
	import_json(&im, x->c2, cut);
	cr_assert_eq(im.status, 2, "exit %d: %s", im.status, im.err);
	cr_assert(net_has(im.err, "truncated"), "%s", im.err);
	cr_assert_eq(net_head(x->c2, x->street->key, FEED_UP, NULL), 20);
}

/* Cut exactly before the end record: every entry arrived, but the file
 * is incomplete and says so; the same for the exporter's own file. */
static void cut_before_the_end_record(struct cuts *x)
{
	size_t had = net_head(x->city, x->street->key, FEED_UP, NULL), bl, off = MAGIC_LEN, last = 0;
	struct imported im;
	char cut[256], cut2[256];
	uint8_t *buf;

	truncate_copy(x->three, x->starts[4], net_path(cut, "noend.bundle"));
	import_json(&im, x->city, cut);
	cr_assert_eq(im.status, 2, "a bundle without its end record imported with exit %d: %s", im.status, im.err);
	cr_assert(!im.complete);
	cr_assert(net_has(im.err, "truncated"), "%s", im.err);
	cr_assert_eq(im.stored, 30 - had);
	cr_assert_eq(im.duplicates, had);
	cr_assert_eq(net_head(x->city, x->street->key, FEED_UP, NULL), 30);

	buf = read_all(x->file, &bl);
	while (off < bl) {
		last = off;
		off += 4 + be32_get(buf + off);
	}
	cr_assert_eq(off, file_size(x->file));
	net_release(buf);
	truncate_copy(x->file, last, net_path(cut2, "noend2.bundle"));
	import_json(&im, x->c3, cut2);
	cr_assert_eq(im.status, 2, "exit %d: %s", im.status, im.err);
	cr_assert(net_has(im.err, "truncated"), "%s", im.err);
	cr_assert_eq(net_head(x->c3, x->street->key, FEED_UP, NULL), 30);
}

/* An end record that miscounts: the entries before it are in, the file is
 * refused. A record length over the limit (18 MiB) right after the header.
 * A header only: truncated after entry 0, nothing stored. */
static void bad_end_huge_record_and_header_only(struct cuts *x)
{
	const uint8_t be[8] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4};
	struct imported im;
	char cut[256], *before;
	FILE *f;

	truncate_copy(x->three, x->starts[4], net_path(cut, "miscount.bundle"));
	append_end(cut, 29);
	import_json(&im, x->c2, cut);
	cr_assert_eq(im.status, 2, "a bundle whose end record miscounts imported with exit %d: %s", im.status, im.err);
	cr_assert(!im.complete);
	cr_assert(net_has(im.err, "end record"), "%s", im.err);
	cr_assert_eq(im.stored, 10);
	cr_assert_eq(net_head(x->c2, x->street->key, FEED_UP, NULL), 30);

	truncate_copy(x->three, x->starts[1], net_path(cut, "huge.bundle"));
	f = fopen(cut, "ab");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(be, 1, sizeof be, f), sizeof be);
	cr_assert_eq(fclose(f), 0);
	import_json(&im, x->c3, cut);
	cr_assert_eq(im.status, 2, "a record of 2 GiB: exit %d: %s", im.status, im.err);
	cr_assert(net_has(im.err, "exceeds the limit"), "%s", im.err);

	truncate_copy(x->three, x->starts[1], net_path(cut, "head.bundle"));
	before = heads_text(x->c2);
	import_json(&im, x->c2, cut);
	cr_assert_eq(im.status, 2, "exit %d: %s", im.status, im.err);
	cr_assert(net_has(im.err, "truncated"), "%s", im.err);
	cr_assert_str_eq(heads_text(x->c2), before);
}

Test(sync_bundle, truncated_bundle_keeps_entries_before_the_cut)
{
	struct cuts x;
	struct parsed *b;

	city_and_street(&x.city, &x.street, 300, 10);
	b = street_bundle(x.city, x.street, x.file);
	x.c2 = copy_node(x.city, "city2");
	x.c3 = copy_node(x.city, "city3");
	/* Three frames of ten: header, 3 Entries records, the end record. */
	cr_assert_eq(bundle_write(net_path(x.three, "three.bundle"), b, 10, 0, NULL, 0, x.starts, 8), 5);
	cut_inside_a_record(&x);
	cut_between_frames_and_inside_a_length(&x);
	cut_before_the_end_record(&x);
	bad_end_huge_record_and_header_only(&x);
	assert_verifies(x.city);
	assert_verifies(x.c2);
}

/* The offset in the file (buf, len) of the field that holds envelope i of
 * b in its frame: its tag byte, before the envelope's length and bytes. */
static size_t envelope_field_at(const uint8_t *buf, size_t len, const struct parsed *b, size_t i)
{
	const struct env *x = &b->env[i];
	size_t lenlen = 1;

	for (size_t v = x->len; v >= 0x80; v >>= 7)
		lenlen++;
	for (size_t off = 0; off + x->len <= len; off++)
		if (memcmp(buf + off, x->data, x->len) == 0)
			return off - lenlen - 1;
	cr_assert_fail("envelope %zu is not in the file", i + 1);
	return 0;
}

/* Issue 11, item 8: the exporter writes up to 512 entries in one frame, so
 * a cut or a flipped byte anywhere in it used to lose the whole frame (here
 * all 30 entries), against import --help's promise. Now every whole entry
 * before the damage is imported, the error names the byte where the damage
 * starts and its frame, and importing the intact bundle completes it. */
Test(sync_bundle, damaged_frame_keeps_its_whole_entries)
{
	struct net_node *city, *street, *c2, *c3;
	struct parsed *b;
	struct imported im;
	char file[256], cut[256], bad[256], where[64];
	uint8_t *buf;
	size_t len, at13, at16;

	city_and_street(&city, &street, 300, 10);
	b = street_bundle(city, street, file);
	cr_assert_eq(b->frames, 1, "the exporter wrote %zu frames for 30 entries", b->frames);
	buf = read_all(file, &len);
	at13 = envelope_field_at(buf, len, b, 12);
	at16 = envelope_field_at(buf, len, b, 15);
	c2 = copy_node(city, "city2");
	c3 = copy_node(city, "city3");

	/* Cut inside the frame, in the middle of entry 13. */
	truncate_copy(file, at13 + 2 + b->env[12].len / 2, net_path(cut, "mid.bundle"));
	import_json(&im, city, cut);
	cr_assert_eq(im.status, 2, "exit %d: %s", im.status, im.err);
	cr_assert(!im.complete);
	cr_assert_eq(im.stored, 12, "stored %zu of the 12 whole entries before the cut: %s", im.stored, im.err);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 12);
	cr_assert_eq(net_count(city, "member", street->key), 120);
	snprintf(where, sizeof where, "truncated at byte %zu, inside frame 1", at13);
	cr_assert(net_has(im.err, where) && net_has(im.error, where), "the error does not say \"%s\": %s", where,
		  im.err);
	assert_verifies(city);
	/* The intact bundle completes it. */
	import_json(&im, city, file);
	cr_assert_eq(im.status, 0, "exit %d: %s", im.status, im.err);
	cr_assert_eq(im.stored, 18);
	cr_assert_eq(im.duplicates, 12);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 30);
	assert_verifies(city);

	/* One byte flipped in the middle of the frame (the tag of entry 16's
	 * field): the frame no longer decodes, the 15 entries before it do. */
	net_path(bad, "flipped.bundle");
	buf[at16] ^= 0xff;
	write_all(bad, buf, len);
	buf[at16] ^= 0xff;
	import_json(&im, c2, bad);
	cr_assert_eq(im.status, 2, "exit %d: %s", im.status, im.err);
	cr_assert_eq(im.stored, 15, "stored %zu: %s", im.stored, im.err);
	cr_assert_eq(net_head(c2, street->key, FEED_UP, NULL), 15);
	/* The flipped tag (0x12 ^ 0xff) starts a longer varint that runs into
	 * the next bytes, random key and signature bytes among them: either the
	 * frame stops decoding there, or it decodes and entry 16 does not. Both
	 * name the place; either way the 15 entries before it are kept. */
	snprintf(where, sizeof where, "damaged at byte %zu, inside frame 1", at16);
	cr_assert(net_has(im.err, where) || (net_has(im.err, "entry 16: envelope: ") && net_has(im.err, "(frame 1, at byte")),
		  "the error does not say \"%s\" nor which entry of frame 1 is damaged: %s", where, im.err);
	import_json(&im, c2, file);
	cr_assert_eq(im.status, 0, "exit %d: %s", im.status, im.err);
	cr_assert_eq(net_head(c2, street->key, FEED_UP, NULL), 30);
	assert_verifies(c2);

	/* Cut right after the frame, before the end record: all 30, and the
	 * file is still reported incomplete, at the byte where it ends. */
	{
		size_t end_at, off = MAGIC_LEN, last = 0;

		while (off < len) {
			last = off;
			off += 4 + be32_get(buf + off);
		}
		end_at = last;
		truncate_copy(file, end_at, net_path(cut, "noend.bundle"));
		import_json(&im, c3, cut);
		cr_assert_eq(im.status, 2, "exit %d: %s", im.status, im.err);
		cr_assert_eq(im.stored, 30);
		snprintf(where, sizeof where, "truncated at byte %zu after entry 30", end_at);
		cr_assert(net_has(im.err, where), "the error does not say \"%s\": %s", where, im.err);
	}
	net_release(buf);
}

Test(sync_bundle, not_a_bundle_changes_nothing)
{
	struct net_node *city = net_node_init("city", "xiamen", true, false);
	char path[256], *before;
	uint8_t junk[4096];
	struct net_run r;
	const char *files[3];

	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)rand();
	write_all(net_path(path, "random.bin"), junk, sizeof junk);
	files[0] = net_own(strdup(path), free);
	write_all(net_path(path, "empty.bin"), "", 0);
	files[1] = net_own(strdup(path), free);
	write_all(net_path(path, "short.bin"), MAGIC, 10);
	files[2] = net_own(strdup(path), free);
	before = heads_text(city);
	for (int i = 0; i < 3; i++) {
		net_run(&r, "import", "-d", city->dir, files[i], NULL);
		cr_assert_eq(r.status, 2, "import of %s: exit %d: %s", files[i], r.status, r.err);
		cr_assert(net_has(r.err, "not a Strata bundle"), "%s: %s", files[i], r.err);
		cr_assert(net_has(r.err, files[i]), "the error does not name %s: %s", files[i], r.err);
		net_run_free(&r);
		cr_assert_str_eq(heads_text(city), before, "importing %s changed the node", files[i]);
	}

	/* The magic and then garbage where the header should be. */
	memcpy(junk, MAGIC, MAGIC_LEN);
	junk[MAGIC_LEN] = 0;
	junk[MAGIC_LEN + 1] = 0;
	junk[MAGIC_LEN + 2] = 0;
	junk[MAGIC_LEN + 3] = 5;
	memset(junk + MAGIC_LEN + 4, 0xff, 5);
	write_all(net_path(path, "badheader.bin"), junk, MAGIC_LEN + 9);
	net_run(&r, "import", "-d", city->dir, path, NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(net_has(r.err, "header"), "%s", r.err);
	net_run_free(&r);
	cr_assert_str_eq(heads_text(city), before);

	/* A missing file. */
	net_path(path, "no-such.bundle");
	net_run(&r, "import", "-d", city->dir, path, NULL);
	cr_assert_neq(r.status, 0, "import of a missing file succeeded");
	cr_assert(net_has(r.err, path), "the error does not name %s: %s", path, r.err);
	net_run_free(&r);
	cr_assert_str_eq(heads_text(city), before);
	assert_verifies(city);
}

Test(sync_bundle, foreign_domain_is_refused)
{
	struct net_node *city = net_node_init("city", "xiamen", true, false);
	struct net_node *other = net_node_init("other", "quanzhou", true, false);
	struct imported im;
	char csv[256], file[256], *before;
	size_t entries;

	net_node_set_ops(other, 10);
	net_gen_members(net_path(csv, "other.csv"), 50, "QZ", 9);
	net_ok("member", "import", "-d", other->dir, csv, NULL);
	entries = export_json(NULL, other->dir, net_path(file, "other.bundle"), NULL, NULL);
	cr_assert_geq(entries, 6, "the other root exported %zu entries", entries);
	before = heads_text(city);
	import_json(&im, city, file);
	cr_assert_eq(im.status, 2, "a foreign bundle imported with exit %d: %s", im.status, im.err);
	cr_assert(!im.complete);
	cr_assert(net_has(im.err, "certificate"), "the error does not mention a certificate: %s", im.err);
	cr_assert(net_has(im.err, "entry 1:"), "the first entry is the foreign one: %s", im.err);
	cr_assert_eq(im.stored, 0);
	cr_assert_str_eq(heads_text(city), before, "a foreign bundle changed the city");
	cr_assert_eq(net_count(city, "member", NULL), 0);
	cr_assert_eq(net_head(city, other->key, FEED_UP, NULL), 0);

	/* Its up feed (with its own trust feed, its chain): still refused. */
	entries = export_json(NULL, other->dir, net_path(file, "other-up.bundle"), "--feeds", "up");
	cr_assert_geq(entries, 6);
	import_json(&im, city, file);
	cr_assert_eq(im.status, 2, "exit %d: %s", im.status, im.err);
	cr_assert(net_has(im.err, "certificate"), "%s", im.err);
	cr_assert_eq(im.stored, 0);
	cr_assert_str_eq(heads_text(city), before);
	assert_verifies(city);
}

Test(sync_bundle, export_usage_errors)
{
	struct net_node *city = net_node_init("city", "xiamen", true, false);
	char out[256], bad[256];
	struct net_run r;
	struct stat st;

	net_path(out, "x.bundle");
	net_run(&r, "export", "-d", city->dir, NULL);
	cr_assert_eq(r.status, 1, "export without -o: exit %d: %s", r.status, r.err);
	cr_assert(net_has(r.err, "-o"), "%s", r.err);
	net_run_free(&r);

	net_run(&r, "export", "-d", city->dir, "-o", out, "--feeds", "up,gossip", NULL);
	cr_assert_eq(r.status, 1, "unknown feed: exit %d: %s", r.status, r.err);
	cr_assert(net_has(r.err, "gossip"), "%s", r.err);
	net_run_free(&r);
	cr_assert_neq(stat(out, &st), 0, "a refused export wrote %s", out);

	write_all(net_path(bad, "notjson.txt"), "heads: none\n", 12);
	net_run(&r, "export", "-d", city->dir, "-o", out, "--since", bad, NULL);
	cr_assert_eq(r.status, 2, "--since with a file that is not JSON: exit %d: %s", r.status, r.err);
	cr_assert(net_has(r.err, "status --json"), "%s", r.err);
	net_run_free(&r);

	write_all(net_path(bad, "other.json"), "{\"key\": \"abc\"}\n", 15);
	net_run(&r, "export", "-d", city->dir, "-o", out, "--since", bad, NULL);
	cr_assert_eq(r.status, 2, "--since with JSON that is not a status: exit %d: %s", r.status, r.err);
	cr_assert(net_has(r.err, "status --json"), "%s", r.err);
	net_run_free(&r);

	net_run(&r, "export", "-d", city->dir, "-o", out, "--since", "/nonexistent/heads.json", NULL);
	cr_assert_eq(r.status, 2, "--since with a missing file: exit %d: %s", r.status, r.err);
	cr_assert(net_has(r.err, "/nonexistent/heads.json"), "%s", r.err);
	net_run_free(&r);
	cr_assert_neq(stat(out, &st), 0, "a refused export wrote %s", out);

	net_run(&r, "import", "-d", city->dir, NULL);
	cr_assert_eq(r.status, 1, "import without a file: exit %d", r.status);
	net_run_free(&r);

	/* An output the exporter cannot create: nothing left behind. */
	net_run(&r, "export", "-d", city->dir, "-o", "/nonexistent/dir/x.bundle", NULL);
	cr_assert_neq(r.status, 0);
	cr_assert(net_has(r.err, "/nonexistent/dir/x.bundle"), "%s", r.err);
	net_run_free(&r);
}

Test(sync_bundle, large_bundle_spans_frames_and_batches)
{
	struct net_node *city, *street, *before;
	struct keypair *kp;
	struct parsed *b, *out;
	struct imported im;
	Strata__BundleHeader hd = STRATA__BUNDLE_HEADER__INIT;
	uint8_t prev[HASH_BYTES];
	char file[256], exported[256];
	size_t starts[16], n = 600, chain;

	/* 600 entries of one member each, signed here with the street's key
	 * (quicker than 600 change sets through the CLI): more than one
	 * import transaction (512 entries) and, exported again, more than one
	 * Entries frame (512 at most). */
	joined(&city, &street);
	before = copy_node(city, "city-before");
	kp = net_node_keypair(street);
	b = net_own(calloc(1, sizeof *b), parsed_free);
	cr_assert_not_null(b);
	b->env = calloc(n, sizeof *b->env);
	cr_assert_not_null(b->env);
	for (size_t i = 0; i < n; i++) {
		char id[16];
		uint8_t *env;
		size_t len;

		snprintf(id, sizeof id, "ZH%06zu", i + 1);
		net_entry(kp, FEED_UP, i + 1, i ? prev : NULL, id, &env, &len, prev);
		b->env[i].data = malloc(len);
		cr_assert_not_null(b->env[i].data);
		memcpy(b->env[i].data, env, len);
		b->env[i].len = len;
		b->n++;
		net_release(env);
	}
	hd.version = 1;
	hd.node.data = street->key;
	hd.node.len = KEY_BYTES;
	hd.name = street->path;
	hd.created_ms = 1;
	b->header_len = strata__bundle_header__get_packed_size(&hd);
	b->header = malloc(b->header_len);
	cr_assert_not_null(b->header);
	strata__bundle_header__pack(&hd, b->header);
	bundle_write(net_path(file, "signed.bundle"), b, 100, 0, NULL, 0, starts, 16);

	import_json(&im, city, file);
	cr_assert_eq(im.status, 0, "import: exit %d: %s", im.status, im.err);
	cr_assert_eq(im.stored, n, "stored %zu", im.stored);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), n);
	cr_assert_eq(net_count(city, "member", street->key), n);

	/* the up feed after the trust entries of its chain (the city's) */
	chain = export_json(NULL, city->dir, net_path(exported, "city-up.bundle"), "--feeds", "up") - n;
	out = bundle_parse(exported);
	cr_assert_eq(out->n, n + chain);
	cr_assert_eq(chain_trust(out, city), chain);
	cr_assert_eq(out->frames, 2, "%zu entries exported in %zu frames", n + chain, out->frames);
	for (size_t i = 0; i < n; i++)
		cr_assert(out->env[chain + i].seq == i + 1 && out->env[chain + i].len == b->env[i].len &&
			  memcmp(out->env[chain + i].data, b->env[i].data, b->env[i].len) == 0,
			  "exported entry %zu is not the %zuth entry signed", chain + i + 1, i + 1);
	import_json(&im, before, exported);
	cr_assert_eq(im.status, 0, "import: exit %d: %s", im.status, im.err);
	cr_assert_eq(im.stored, n);
	cr_assert_eq(net_count(before, "member", street->key), n);
	assert_verifies(city);
	assert_verifies(before);
}

/* Does `strata status --json` of n show evidence on (author, feed, seq)? */
static bool has_evidence(const struct net_node *n, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq)
{
	json_t *st = net_node_status(n), *v;
	char hex[KEY_HEX];
	bool found = false;
	size_t i;

	key_hex(hex, author);
	json_array_foreach(json_object_get(st, "evidence"), i, v) {
		const char *a = json_string_value(json_object_get(v, "author"));
		const char *f = json_string_value(json_object_get(v, "feed"));

		if (a && f && strcmp(a, hex) == 0 && strcmp(f, feed) == 0 &&
		    (uint64_t)json_integer_value(json_object_get(v, "seq")) == seq)
			found = true;
	}
	net_release(st);
	return found;
}

/* A street restored from a copy that writes again signs a second up #11.
 * Its bundle reaches the city, which holds the first: the import is
 * refused at that entry (exit 2) and the city's chain is unchanged. As on
 * a link (PROTOCOL.md, "Equivocation"), the receiver must keep both
 * envelopes as evidence and freeze the feed. */
Test(sync_bundle, fork_in_a_bundle_is_caught_as_equivocation)
{
	struct net_node *city, *street, *restored;
	struct imported im;
	char file[256], forked[256];
	uint32_t flags = 0;

	city_and_street(&city, &street, 100, 10);
	restored = copy_node(street, "street-restored");
	add_member(street, "ZH990001");
	cr_assert_eq(export_json(NULL, street->dir, net_path(file, "street.bundle"), NULL, NULL), 11);
	import_json(&im, city, file);
	cr_assert_eq(im.status, 0, "import: exit %d: %s", im.status, im.err);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 11);

	add_member(restored, "ZH990002"); /* another up #11, signed by the same key */
	cr_assert_eq(net_head(restored, street->key, FEED_UP, NULL), 11);
	cr_assert_eq(export_json(NULL, restored->dir, net_path(forked, "forked.bundle"), NULL, NULL), 11);
	import_json(&im, city, forked);
	cr_assert_eq(im.status, 2, "a bundle forking the city's chain imported with exit %d: %s", im.status, im.err);
	cr_assert(net_has(im.err, "entry 11"), "the error does not name entry 11: %s", im.err);
	cr_assert_eq(im.stored, 0);
	cr_assert_eq(im.duplicates, 10);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 11);
	cr_assert_eq(net_count(city, "member", street->key), 101);
	/* The city's store now holds the proof: verify fails the feed there,
	 * as audit does (docs/OPERATIONS.md, "Verdicts of verify and audit"). */
	{
		char out[4096];

		cr_assert_eq(net_node_verify(city, out, sizeof out), 3, "verify of the city: %s", out);
		cr_assert(net_has(out, "/up #11: equivocation"), "%s", out);
	}

	net_head(city, street->key, FEED_UP, &flags);
	cr_assert(flags & STORE_FEED_FROZEN,
		  "the city imported a second signed up #11 of the street and did not freeze the feed "
		  "(PROTOCOL.md, Equivocation: the receiver keeps both envelopes as evidence and freezes the feed); "
		  "import said: %s", im.err);
	cr_assert(has_evidence(city, street->key, FEED_UP, 11),
		  "the city's status shows no evidence of the street's two up #11");
}

/* An import into a node whose daemon runs: the daemon is told, and sends
 * the entries on to its parent over the network. */
Test(sync_bundle, import_into_running_node_reaches_its_parent)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *district = net_node_init("siming", "xiamen/siming", false, true);
	struct net_node *street = net_node_init("street", "xiamen/siming/zhonghua", false, false);
	struct imported im;
	char csv[256], heads[256], file[256];

	net_node_start(city);
	net_node_join(district, city, NULL);
	net_node_start(district);
	net_node_join(street, district, NULL);
	net_node_set_ops(street, 10);
	net_gen_members(net_path(csv, "street.csv"), 200, "ZH", 5);
	net_ok("member", "import", "-d", street->dir, csv, NULL);

	save_heads(district, "district-heads.json", heads);
	cr_assert_eq(export_json(NULL, street->dir, net_path(file, "street.bundle"), "--since", heads), 20);
	import_json(&im, district, file);
	cr_assert_eq(im.status, 0, "import into a running district: exit %d: %s", im.status, im.err);
	cr_assert_eq(im.stored, 20);
	NET_WAIT(NET_DEADLINE_MS, net_head(city, street->key, FEED_UP, NULL) == 20,
		 "the street's entries, imported at the district, to reach the city");
	NET_WAIT(NET_DEADLINE_MS, net_count(city, "member", street->key) == 200, "the city to hold the 200 members");
	net_stop_all();
	assert_verifies(district);
	assert_verifies(city);
}
