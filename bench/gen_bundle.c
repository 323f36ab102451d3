/* SPDX-License-Identifier: MIT */
/*
 * strata-gen-bundle: the bundle the audit benchmark audits, made fast. For
 * a node made by `strata init --root`, writes what `strata export` of that
 * node would write after N one-op change sets (each puts one member): the
 * header, the node's trust feed as stored, then N entries of its up feed
 * signed with its key, in frames of 1,000 envelopes, and the end record
 * (docs/PROTOCOL.md "Bundles"). Importing 1,000,000 members one change set
 * at a time to export them would take minutes; this signs them directly.
 *   strata-gen-bundle --node DIR --count N --out FILE
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_bundle.h"
#include "node/core/node.h"

#define MAGIC "STRATA-BUNDLE-1\n"
#define PER_FRAME 1000
#define MEMBER_BYTES_MAX 256 /* a generated Member packs into far less */

/* Envelopes waiting for their frame. */
struct frame {
	ProtobufCBinaryData v[PER_FRAME];
	size_t n;
	uint64_t total;
};

static int flush(FILE *f, struct frame *fr)
{
	int ret = bench_put_entries(f, fr->v, fr->n, &fr->total);

	for (size_t i = 0; i < fr->n; i++)
		free(fr->v[i].data);
	fr->n = 0;
	return ret;
}

static int add(FILE *f, struct frame *fr, const uint8_t *env, size_t len, bool copy)
{
	uint8_t *p = (uint8_t *)env;

	if (copy) {
		if (!(p = malloc(len)))
			return -ENOMEM;
		memcpy(p, env, len);
	}
	fr->v[fr->n].data = p;
	fr->v[fr->n++].len = len;
	return fr->n == PER_FRAME ? flush(f, fr) : 0;
}

struct trust_walk {
	FILE *f;
	struct frame *fr;
};

static int on_trust(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg)
{
	struct trust_walk *w = arg;

	(void)seq;
	(void)hash;
	return add(w->f, w->fr, bytes, len, true);
}

/* Change set seq of the up feed: one member, id M<seq>. */
static int member_entry(const struct keypair *kp, uint64_t seq, uint8_t prev[HASH_BYTES], uint8_t **env, size_t *len,
			struct err *e)
{
	static const char *const names[] = {"陈志强", "林秀英", "黄建国", "王丽华", "张伟", "李娜", "吴晓明"};
	Strata__Member m = STRATA__MEMBER__INIT;
	struct changeset_builder *b = NULL;
	char id[24], joined[16];
	uint8_t val[MEMBER_BYTES_MAX];
	size_t vl;
	int ret;

	snprintf(id, sizeof id, "M%08llu", (unsigned long long)seq);
	snprintf(joined, sizeof joined, "%04u-%02u-%02u", 1980u + (unsigned)(seq % 45), 1u + (unsigned)(seq % 12),
		 1u + (unsigned)(seq % 28));
	m.id = id;
	m.name = (char *)names[seq % 7];
	m.category = seq % 9 ? STRATA__MEMBER_CATEGORY__CATEGORY_FULL : STRATA__MEMBER_CATEGORY__CATEGORY_PROBATIONARY;
	m.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
	m.joined = joined;
	vl = strata__member__pack(&m, val);
	if ((ret = changeset_builder_new(&b, FEED_UP, seq, prev, 1795600000000ull + seq, e)) < 0)
		return ret;
	if ((ret = changeset_builder_put(b, "member", (const uint8_t *)id, strlen(id), val, vl, e)) == 0)
		ret = changeset_builder_finish(b, kp, env, len, prev, e);
	changeset_builder_destroy(&b);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"node", required_argument, NULL, 'd'}, {"count", required_argument, NULL, 'n'},
		{"out", required_argument, NULL, 'o'},  {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *out = NULL;
	unsigned long long count = 0;
	struct node *n = NULL;
	struct keypair *kp = NULL;
	struct store_txn *t = NULL;
	struct frame *fr = calloc(1, sizeof *fr);
	Strata__BundleHeader h = STRATA__BUNDLE_HEADER__INIT;
	Strata__BundleEnd end = STRATA__BUNDLE_END__INIT;
	Strata__Frame m = STRATA__FRAME__INIT;
	struct err e = {0};
	uint8_t prev[HASH_BYTES] = {0}, hdr[512];
	char key_path[NODE_PATH_MAX];
	FILE *f = NULL;
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'o': out = optarg; break;
		default: goto usage;
		}
	}
	if (!dir || !out || !count || !fr) {
usage:
		fprintf(stderr, "usage: strata-gen-bundle --node DIR --count N --out FILE\n");
		free(fr);
		return 1;
	}
	snprintf(key_path, sizeof key_path, "%s/%s", dir, NODE_KEY_FILE);
	if (keys_init() < 0) {
		err_set(&e, "libsodium does not initialize");
		goto fail;
	}
	if (keypair_load(&kp, key_path, &e) < 0 || node_open(&n, dir, NODE_RDONLY | NODE_NO_KEY, &e) < 0 ||
	    store_txn_begin(node_store(n), false, &t, &e) < 0)
		goto fail;
	if (!(f = fopen(out, "wb"))) {
		err_set(&e, "cannot create %s: %s", out, strerror(errno));
		goto fail;
	}
	h.version = 1;
	h.node.data = (uint8_t *)node_id(n);
	h.node.len = KEY_BYTES;
	h.name = (char *)node_name(n);
	h.root.data = (uint8_t *)node_id(n);
	h.root.len = KEY_BYTES;
	h.has_root = 1;
	h.created_ms = node_now_ms();
	if (fwrite(MAGIC, 1, 16, f) != 16 || bench_put_record(f, hdr, strata__bundle_header__pack(&h, hdr)) < 0)
		goto io;
	{
		struct trust_walk w = {f, fr};

		if (store_log_each(t, node_id(n), FEED_TRUST, 1, 0, on_trust, &w, &e) < 0 || flush(f, fr) < 0)
			goto io;
	}
	for (uint64_t seq = 1; seq <= count; seq++) {
		uint8_t *env;
		size_t len;

		if (member_entry(kp, seq, prev, &env, &len, &e) < 0)
			goto fail;
		if (add(f, fr, env, len, false) < 0)
			goto io;
	}
	if (flush(f, fr) < 0)
		goto io;
	end.entries = fr->total;
	m.msg_case = STRATA__FRAME__MSG_END;
	m.end = &end;
	if (bench_put_frame(f, &m) < 0 || fclose(f) != 0) {
		f = NULL;
		goto io;
	}
	f = NULL;
	printf("wrote %llu entries to %s\n", (unsigned long long)fr->total, out);
	ret = 0;
	goto out;
io:
	err_set(&e, "cannot write %s", out);
fail:
	fprintf(stderr, "strata-gen-bundle: %s\n", e.msg);
out:
	if (f)
		fclose(f);
	store_txn_abort(&t);
	node_close(&n);
	keypair_destroy(&kp);
	free(fr);
	return ret;
}
