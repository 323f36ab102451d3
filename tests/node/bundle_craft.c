/* SPDX-License-Identifier: MIT */
/* Bundles made by hand for tests (bundle_craft.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_craft.h"

uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc(*len + 1);
	cr_assert(d && fread(d, 1, *len, f) == *len);
	fclose(f);
	return d;
}

void load(const char *path, struct loaded *b)
{
	size_t len, pos = BUNDLE_MAGIC_LEN, rl;
	uint8_t *d = read_all(path, &len);

	memset(b, 0, sizeof *b);
	rl = be32_get(d + pos);
	b->header = malloc(rl);
	memcpy(b->header, d + pos + 4, rl);
	b->header_len = rl;
	b->env = calloc(1024, sizeof *b->env);
	for (pos += 4 + rl; pos < len; pos += 4 + rl) {
		Strata__Frame *f;

		rl = be32_get(d + pos);
		cr_assert_not_null(f = strata__frame__unpack(NULL, rl, d + pos + 4));
		if (f->msg_case == STRATA__FRAME__MSG_ENTRIES)
			for (size_t i = 0; i < f->entries->n_envelopes && b->n < 1024; i++) {
				ProtobufCBinaryData *x = &f->entries->envelopes[i];

				b->env[b->n].data = malloc(x->len);
				memcpy(b->env[b->n].data, x->data, x->len);
				b->env[b->n++].len = x->len;
			}
		strata__frame__free_unpacked(f, NULL);
	}
	free(d);
}

void loaded_free(struct loaded *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->env[i].data);
	free(b->env);
	free(b->header);
}

static void put_rec(FILE *f, const uint8_t *d, size_t n, const uint8_t *extra, size_t extra_len)
{
	uint8_t be[4];

	be32_put(be, (uint32_t)(n + extra_len));
	cr_assert(fwrite(be, 1, 4, f) == 4 && fwrite(d, 1, n, f) == n);
	if (extra_len)
		cr_assert(fwrite(extra, 1, extra_len, f) == extra_len);
}

static void put_frame(FILE *f, const Strata__Frame *fr, bool unknown)
{
	static const uint8_t field15[] = {0x78, 0x01}; /* Frame field 15, varint 1: no such field */
	uint8_t *buf = malloc(strata__frame__get_packed_size(fr) + 1);
	size_t n = strata__frame__pack(fr, buf);

	put_rec(f, buf, n, field15, unknown ? sizeof field15 : 0);
	free(buf);
}

static size_t put_varint(uint8_t *b, uint64_t v)
{
	size_t n = 0;

	for (; v >= 0x80; v >>= 7)
		b[n++] = (uint8_t)(v | 0x80);
	b[n++] = (uint8_t)v;
	return n;
}

/* An Entries frame as the exporter writes it, but with an unknown field
 * (Entries field 3, varint 1) after its first envelope: what a flipped
 * byte inside a frame most often decodes to. */
static void put_entries_unknown(FILE *f, Strata__Entries *en)
{
	size_t all = en->n_envelopes, n, k = 0, size = 32;
	uint8_t *inner, *rec;

	for (size_t i = 0; i < all; i++)
		size += en->envelopes[i].len + 12;
	inner = malloc(size);
	rec = malloc(size + 12);
	en->n_envelopes = 1;
	n = strata__entries__pack(en, inner);
	inner[n++] = 0x18;
	inner[n++] = 0x01;
	for (size_t i = 1; i < all; i++) {
		inner[n++] = 0x12;
		n += put_varint(inner + n, en->envelopes[i].len);
		memcpy(inner + n, en->envelopes[i].data, en->envelopes[i].len);
		n += en->envelopes[i].len;
	}
	en->n_envelopes = all;
	rec[k++] = 0x12; /* Frame.entries: field 2, length-delimited */
	k += put_varint(rec + k, n);
	memcpy(rec + k, inner, n);
	put_rec(f, rec, k + n, NULL, 0);
	free(inner);
	free(rec);
}

static void put_end(FILE *f, const struct craft *c, const struct loaded *b)
{
	Strata__BundleEnd end = STRATA__BUNDLE_END__INIT;
	uint8_t buf[64], rec[80];
	size_t n, k = 0;

	end.entries = (uint64_t)((long long)b->n + c->entries_delta);
	end.has_evidence = 1;
	end.evidence = (uint64_t)((long long)c->n_evidence + c->evidence_delta);
	end.has_checkpoints = !c->no_checkpoint_count;
	end.checkpoints = c->checkpoints;
	n = strata__bundle_end__pack(&end, buf);
	if (c->end_unknown) {
		buf[n++] = 0x20; /* BundleEnd field 4, varint 1: no such field */
		buf[n++] = 0x01;
	}
	rec[k++] = 0x52; /* Frame.end: field 10, length-delimited */
	rec[k++] = (uint8_t)n;
	memcpy(rec + k, buf, n);
	put_rec(f, rec, k + n, NULL, 0);
}

void craft(const char *path, const struct loaded *b, const struct craft *c)
{
	static const uint8_t field6[] = {0x30, 0x01}; /* BundleHeader field 6, varint 1 */
	FILE *f = fopen(path, "wb");
	size_t per = c->per_frame ? c->per_frame : b->n, k = 0;

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(c->bad_magic ? "STRATA-BUNDLE-2\n" : BUNDLE_MAGIC, 1, BUNDLE_MAGIC_LEN, f), BUNDLE_MAGIC_LEN);
	put_rec(f, b->header, b->header_len, field6, c->header_unknown ? sizeof field6 : 0);
	for (size_t i = 0; i < b->n; i += per) {
		Strata__Frame fr = STRATA__FRAME__INIT;
		Strata__Entries en = STRATA__ENTRIES__INIT;

		k++;
		en.n_envelopes = b->n - i < per ? b->n - i : per;
		en.envelopes = b->env + i;
		en.batch = i + en.n_envelopes + (k == c->bad_batch_frame);
		fr.msg_case = STRATA__FRAME__MSG_ENTRIES;
		fr.entries = &en;
		if (k == c->unknown_in_entries)
			put_entries_unknown(f, &en);
		else
			put_frame(f, &fr, k == c->unknown_frame);
	}
	for (size_t i = 0; i < c->n_evidence; i++) {
		Strata__Frame fr = STRATA__FRAME__INIT;

		fr.msg_case = STRATA__FRAME__MSG_EVIDENCE;
		fr.evidence = (Strata__Evidence *)c->evidence[i];
		put_frame(f, &fr, false);
	}
	for (size_t i = 0; i < c->checkpoints; i++) {
		Strata__Frame fr = STRATA__FRAME__INIT;
		Strata__Checkpoint cp = STRATA__CHECKPOINT__INIT;

		cp.note = (ProtobufCBinaryData){4, (uint8_t *)"note"};
		fr.msg_case = STRATA__FRAME__MSG_CHECKPOINT;
		fr.checkpoint = &cp;
		put_frame(f, &fr, false);
	}
	put_end(f, c, b);
	for (size_t i = 0; i < c->trailing; i++)
		fputc(0, f);
	cr_assert_eq(fclose(f), 0);
}

void export_to(const char *dir, const char *file)
{
	struct node *n = NULL;
	struct bundle_counts c;
	struct err e = {{0}};

	cr_assert_eq(node_open(&n, dir, NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(bundle_export(n, NULL, file, &c, &e), 0, "%s", e.msg);
	node_close(&n);
}

/* Entries the store in DIR holds (the sum of its heads). */
uint64_t held(const char *dir)
{
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct store_head *h = NULL;
	struct err e = {{0}};
	size_t nh = 0;
	uint64_t sum = 0;

	cr_assert_eq(node_open(&n, dir, NODE_RDONLY | NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_heads_list(t, &h, &nh, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < nh; i++)
		sum += h[i].seq;
	free(h);
	store_txn_abort(&t);
	node_close(&n);
	return sum;
}

