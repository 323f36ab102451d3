/* SPDX-License-Identifier: MIT */
/*
 * docs/vectors/bundle.json, recomputed: the file's bytes from its parts (the
 * magic, then each record's 4-byte big-endian length and its protobuf-c
 * encoding, as node/bundle writes them), then read back by Strata's bundle
 * reader: the header's fields, the one envelope (the entry of
 * changeset.json put-v1, which Strata's decoder verifies), and a complete
 * end; a copy cut short by one byte is refused.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/bundle/bundle.h"
#include "vector_file.h"

#define PATH_SIZE 64
#define NAME_MAX_BYTES 256

struct file {
	uint8_t *p;
	size_t len;
};

static void append(struct file *f, const uint8_t *p, size_t n)
{
	cr_assert((f->p = realloc(f->p, f->len + n + 1)));
	memcpy(f->p + f->len, p, n);
	f->len += n;
}

static void append_record(struct file *f, const json_t *rec, const uint8_t *p, size_t n)
{
	uint8_t be[4];

	cr_assert_eq(vf_u64(rec, "offset"), f->len, "the record starts where the one before ends");
	cr_assert_eq(vf_u64(rec, "length"), n);
	vf_assert_hex(rec, "bytes", p, n);
	be32_put(be, (uint32_t)n);
	append(f, be, sizeof be);
	append(f, p, n);
}

static uint8_t *pack_header(const json_t *v, size_t *len)
{
	Strata__BundleHeader hd = STRATA__BUNDLE_HEADER__INIT;
	uint8_t node[KEY_BYTES], root[KEY_BYTES], *out;
	char name[NAME_MAX_BYTES];

	vf_hex_n(v, "node", node, KEY_BYTES);
	vf_hex_n(v, "root", root, KEY_BYTES);
	snprintf(name, sizeof name, "%s", vf_str(v, "node_name"));
	hd.version = (uint32_t)vf_u64(v, "version");
	hd.node = (ProtobufCBinaryData){KEY_BYTES, node};
	hd.name = name;
	hd.has_root = 1;
	hd.root = (ProtobufCBinaryData){KEY_BYTES, root};
	hd.created_ms = vf_u64(v, "created_ms");
	cr_assert((out = malloc(strata__bundle_header__get_packed_size(&hd))));
	*len = strata__bundle_header__pack(&hd, out);
	return out;
}

static uint8_t *pack_frame(Strata__Frame *f, size_t *len)
{
	uint8_t *out = malloc(strata__frame__get_packed_size(f));

	cr_assert(out);
	*len = strata__frame__pack(f, out);
	return out;
}

/* The file from its parts, checked against every record and the whole. */
static struct file build(const json_t *v, uint8_t **env, size_t *env_len)
{
	const json_t *recs = json_object_get(v, "records");
	Strata__Entries en = STRATA__ENTRIES__INIT;
	Strata__BundleEnd end = STRATA__BUNDLE_END__INIT;
	Strata__Frame f = STRATA__FRAME__INIT;
	ProtobufCBinaryData envs[1];
	struct file file = {0};
	uint8_t *p;
	size_t n;

	cr_assert_eq(json_array_size(json_object_get(v, "envelopes")), 1);
	*env = vf_hex(json_array_get(json_object_get(v, "envelopes"), 0), NULL, env_len);
	append(&file, (const uint8_t *)BUNDLE_MAGIC, BUNDLE_MAGIC_LEN);
	vf_assert_hex(v, "magic", file.p, file.len);
	p = pack_header(v, &n);
	append_record(&file, json_array_get(recs, 0), p, n);
	free(p);
	envs[0] = (ProtobufCBinaryData){*env_len, *env};
	en.batch = vf_u64(v, "batch");
	en.n_envelopes = 1;
	en.envelopes = envs;
	f.msg_case = STRATA__FRAME__MSG_ENTRIES;
	f.entries = &en;
	p = pack_frame(&f, &n);
	append_record(&file, json_array_get(recs, 1), p, n);
	free(p);
	end.entries = vf_u64(v, "end_entries");
	f.msg_case = STRATA__FRAME__MSG_END;
	f.end = &end;
	p = pack_frame(&f, &n);
	append_record(&file, json_array_get(recs, 2), p, n);
	free(p);
	vf_assert_hex(v, "file", file.p, file.len);
	return file;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	cr_assert(f);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

/* Reads PATH with Strata's reader: 0 when it holds exactly env then a
 * complete end, else the reader's error. */
static int read_back(const json_t *v, const char *path, const uint8_t *env, size_t env_len)
{
	struct bundle_reader *r = NULL;
	const Strata__BundleHeader *hd;
	const uint8_t *got;
	size_t len;
	struct err e = {{0}};
	int ret;

	cr_assert_eq(bundle_open(&r, path, &e), 0, "%s", e.msg);
	hd = bundle_header(r);
	cr_assert_eq(hd->version, vf_u64(v, "version"));
	cr_assert_eq(hd->created_ms, vf_u64(v, "created_ms"));
	cr_assert_str_eq(hd->name, vf_str(v, "node_name"));
	vf_assert_hex(v, "node", hd->node.data, hd->node.len);
	vf_assert_hex(v, "root", hd->root.data, hd->root.len);
	if ((ret = bundle_next(r, &got, &len, NULL, &e)) == 1) {
		cr_assert_eq(len, env_len);
		cr_assert_eq(memcmp(got, env, len), 0);
		ret = bundle_next(r, &got, &len, NULL, &e);
	}
	bundle_close(&r);
	return ret;
}

Test(vectors_bundle, one_entry)
{
	json_t *doc = vf_load("bundle");
	const json_t *v = vf_vector(doc, "one-entry");
	char path[PATH_SIZE] = "/tmp/strata-vector-bundle-XXXXXX";
	struct changeset *cs = NULL;
	struct err e = {{0}};
	uint8_t *env;
	size_t env_len;
	struct file file;
	int fd;

	cr_assert_eq(keys_init(), 0);
	file = build(v, &env, &env_len);
	cr_assert_eq(changeset_decode(&cs, env, env_len, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_verify(cs, &e), 0, "%s", e.msg);
	changeset_destroy(&cs);
	cr_assert((fd = mkstemp(path)) >= 0);
	close(fd);
	write_file(path, file.p, file.len);
	cr_assert_eq(read_back(v, path, env, env_len), 0, "the vector does not read as a complete bundle");
	/* cut short by its last byte: the end record is damaged, never a complete end */
	write_file(path, file.p, file.len - 1);
	cr_assert_eq(read_back(v, path, env, env_len), -EBADMSG);
	unlink(path);
	free(file.p);
	free(env);
	json_decref(doc);
}
