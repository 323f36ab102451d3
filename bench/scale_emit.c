/* SPDX-License-Identifier: MIT */
/*
 * strata-bench-scale: every signed entry of the tree, as the units would
 * write them (a certificate per join in its issuer's trust feed, a branch's
 * member import as one change set, a report a month from every unit,
 * notices, transfers' four steps, revocations), signed with each unit's own
 * Ed25519 key (derived from its seed when it signs: a key pair is guarded
 * memory, too dear to keep 100,000 of). An entry is signed only when a
 * measured store holds its feed (scale_route_holds): a feed is held whole
 * or not at all, so its seqs stay a chain. Every entry is counted either
 * way, for the traffic figures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_bundle.h"
#include "bench/scale.h"
#include "node/bundle/bundle.h"
#include "node/records/records.h"

#define PER_FRAME 512 /* as bundle_export */

static char *child_feeds[] = {FEED_UP, FEED_REPORT, FEED_DOWN, FEED_NOTICE, FEED_TRUST, FEED_PRIVATE}; /* invite.c */

/* --- the bundle of the root's last month --- */

struct out {
	FILE *f;
	ProtobufCBinaryData v[PER_FRAME];
	size_t n;
	uint64_t total;
};

static int out_flush(struct out *o)
{
	int ret = bench_put_entries(o->f, o->v, o->n, &o->total);

	for (size_t i = 0; i < o->n; i++)
		free(o->v[i].data);
	o->n = 0;
	return ret;
}

int scale_bundle_open(struct scale_tree *t, const char *path, struct err *e)
{
	Strata__BundleHeader h = STRATA__BUNDLE_HEADER__INIT;
	struct out *o = calloc(1, sizeof *o);
	uint8_t hdr[512];
	char name[NODE_NAME_SIZE];

	if (!o || !(o->f = fopen(path, "wb"))) {
		free(o);
		err_set(e, "cannot create %s", path);
		return -EIO;
	}
	scale_name(t, 0, name);
	h.version = 1;
	h.node.data = t->pub[0];
	h.node.len = KEY_BYTES;
	h.name = name;
	h.root.data = t->pub[0];
	h.root.len = KEY_BYTES;
	h.has_root = 1;
	h.created_ms = t->now_ms;
	t->rollup_out = o;
	if (fwrite(BUNDLE_MAGIC, 1, BUNDLE_MAGIC_LEN, o->f) != BUNDLE_MAGIC_LEN ||
	    bench_put_record(o->f, hdr, strata__bundle_header__pack(&h, hdr)) < 0) {
		err_set(e, "cannot write %s", path);
		return -EIO;
	}
	return 0;
}

static int out_add(struct out *o, const uint8_t *env, size_t len)
{
	uint8_t *p = malloc(len);

	if (!p)
		return -ENOMEM;
	memcpy(p, env, len);
	o->v[o->n].data = p;
	o->v[o->n++].len = len;
	return o->n == PER_FRAME ? out_flush(o) : 0;
}

int scale_bundle_close(struct scale_tree *t, struct err *e)
{
	struct out *o = t->rollup_out;
	Strata__BundleEnd end = STRATA__BUNDLE_END__INIT;
	Strata__Frame m = STRATA__FRAME__INIT;
	int ret = out_flush(o);

	end.entries = o->total;
	m.msg_case = STRATA__FRAME__MSG_END;
	m.end = &end;
	if (ret == 0)
		ret = bench_put_frame(o->f, &m);
	if (fclose(o->f) != 0 && ret == 0)
		ret = -EIO;
	free(o);
	t->rollup_out = NULL;
	if (ret < 0)
		err_set(e, "cannot write the roll-up bundle");
	return ret;
}

/* --- delivery to the measured stores --- */

int scale_flush(struct scale_tree *t, struct err *e)
{
	for (int i = 0; i < SCALE_MEASURED; i++) {
		struct scale_store *s = &t->m[i];

		if (s->t && store_txn_commit(&s->t, e) < 0)
			return -EIO;
		s->pending = 0;
	}
	return 0;
}

int scale_deliver(struct scale_tree *t, uint32_t a, enum scale_feed f, const uint8_t *env, size_t len, int skip,
		  struct err *e)
{
	for (int i = 0; i < SCALE_MEASURED; i++) {
		struct scale_store *s = &t->m[i];
		struct err why = {0};
		int ret;

		if (i == skip || !s->n || !scale_route_holds(t, s->unit, a, f))
			continue;
		if (!s->t && store_txn_begin(node_store(s->n), true, &s->t, e) < 0)
			return -EIO;
		ret = node_ingest(s->n, s->t, env, len, &why);
		if (ret < 0 && ret != -EALREADY) {
			err_set(e, "store of unit %u refused an entry of unit %u's %s feed: %s", s->unit, a,
				scale_feed_name[f], why.msg);
			return ret;
		}
		s->delivered++;
		if (++s->pending >= SCALE_BATCH) {
			if (store_txn_commit(&s->t, e) < 0)
				return -EIO;
			s->pending = 0;
		}
	}
	return 0;
}

/* Does any measured store hold A's feed F? */
static bool held(const struct scale_tree *t, uint32_t a, enum scale_feed f)
{
	for (int i = 0; i < SCALE_MEASURED; i++)
		if (t->m[i].n && scale_route_holds(t, t->m[i].unit, a, f))
			return true;
	return false;
}

/* --- signing --- */

/* The key of unit A: a measured store's own, or one derived from its seed
 * (*own true: the caller destroys it). */
int scale_signer(struct scale_tree *t, uint32_t a, struct keypair **kp, bool *own, struct err *e)
{
	for (int i = 0; i < SCALE_MEASURED; i++)
		if (t->m[i].kp && t->m[i].unit == a) {
			*kp = t->m[i].kp;
			*own = false;
			return 0;
		}
	*own = true;
	return keypair_from_seed(kp, t->seed[a], e);
}

int scale_emit_one(struct scale_tree *t, struct keypair *kp, uint32_t a, enum scale_feed f, uint64_t ts,
		const struct scale_op *ops, size_t n, bool force, bool to_bundle, uint8_t hash[HASH_BYTES], struct err *e)
{
	struct scale_pos *p = &t->pos[f][a];
	struct changeset_builder *b = NULL;
	struct keypair *mine = NULL;
	uint8_t *env = NULL, h[HASH_BYTES];
	size_t len;
	bool own = false;
	int ret;

	t->count[f][a]++;
	if (!force && !held(t, a, f))
		return 0;
	if (!kp && (ret = scale_signer(t, a, &mine, &own, e)) < 0)
		return ret;
	if ((ret = changeset_builder_new(&b, scale_feed_name[f], p->seq + 1, p->prev, ts, e)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((ret = changeset_builder_put(b, ops[i].collection, ops[i].key, ops[i].key_len, ops[i].val,
						 ops[i].val_len, e)) < 0)
			goto out;
	if ((ret = changeset_builder_finish(b, kp ? kp : mine, &env, &len, h, e)) < 0)
		goto out;
	p->seq++;
	memcpy(p->prev, h, HASH_BYTES);
	if (hash)
		memcpy(hash, h, HASH_BYTES);
	t->signed_entries++;
	ret = scale_deliver(t, a, f, env, len, to_bundle ? SL_ROOT : SCALE_MEASURED, e);
	if (ret == 0 && to_bundle && scale_route_holds(t, t->m[SL_ROOT].unit, a, f) &&
	    out_add(t->rollup_out, env, len) < 0) {
		err_set(e, "cannot write the roll-up bundle");
		ret = -EIO;
	}
out:
	free(env);
	changeset_builder_destroy(&b);
	if (own)
		keypair_destroy(&mine);
	return ret;
}

/* --- trust --- */

static int cert_entry(struct scale_tree *t, struct keypair *kp, uint32_t issuer, uint32_t c, uint64_t ts,
		      struct err *e)
{
	Strata__Certificate cert = STRATA__CERTIFICATE__INIT;
	char name[NODE_NAME_SIZE];
	uint8_t buf[1024];
	struct scale_op op = {"cert", t->pub[c], KEY_BYTES, buf, 0};

	scale_name(t, c, name);
	cert.subject.data = t->pub[c];
	cert.subject.len = KEY_BYTES;
	cert.name = name;
	cert.role = STRATA__ROLE__ROLE_CHILD;
	cert.n_feeds = sizeof child_feeds / sizeof child_feeds[0];
	cert.feeds = child_feeds;
	cert.issued_ms = ts;
	if (strata__certificate__get_packed_size(&cert) > sizeof buf) {
		err_set(e, "certificate of %s too large", name);
		return -EINVAL;
	}
	op.val_len = strata__certificate__pack(&cert, buf);
	return scale_emit_one(t, kp, issuer, SF_TRUST, ts, &op, 1, false, false, NULL, e);
}

int scale_emit_trust(struct scale_tree *t, struct err *e)
{
	uint64_t ts = t->period_end_ms[0] - 90 * SCALE_DAY_MS; /* the tree was built before the year measured */
	double t0 = scale_now_s();

	for (uint32_t u = 0; u < t->level_start[SL_BRANCH]; u++) {
		struct keypair *kp = NULL;
		bool own;
		int ret;

		if (!t->n_children[u])
			continue;
		if ((ret = scale_signer(t, u, &kp, &own, e)) < 0)
			return ret;
		for (uint32_t c = t->first_child[u]; c < t->first_child[u] + t->n_children[u] && ret == 0; c++)
			ret = cert_entry(t, kp, u, c, ts + c, e);
		if (own)
			keypair_destroy(&kp);
		if (ret < 0)
			return ret;
	}
	fprintf(stderr, "strata-bench-scale: %u certificates, %.1f s\n", t->n_units - 1, scale_now_s() - t0);
	return scale_flush(t, e);
}

int scale_emit_leaf_cert(struct scale_tree *t, struct err *e)
{
	uint32_t leaf = t->n_units;

	return cert_entry(t, NULL, t->parent[leaf], leaf, t->now_ms - 60000, e);
}

int scale_emit_revocations(struct scale_tree *t, unsigned count, struct err *e)
{
	uint32_t nb = t->n_units - t->level_start[SL_BRANCH];
	uint8_t buf[256];

	for (unsigned i = 0; i < count && nb > 2; i++) {
		uint32_t b = t->level_start[SL_BRANCH] + 1 + (uint32_t)((i * 2654435761u) % (nb - 1)); /* never the measured one */
		Strata__Revocation r = STRATA__REVOCATION__INIT;
		struct scale_op op = {"revocation", t->pub[b], KEY_BYTES, buf, 0};
		int ret;

		r.subject.data = t->pub[b];
		r.subject.len = KEY_BYTES;
		r.reason = "branch dissolved";
		r.revoked_ms = t->now_ms - 600000; /* after every report it signed */
		op.val_len = strata__revocation__pack(&r, buf);
		if ((ret = scale_emit_one(t, NULL, t->parent[b], SF_TRUST, r.revoked_ms, &op, 1, false, false, NULL, e)) < 0)
			return ret;
	}
	return scale_flush(t, e);
}

/* --- members, notices --- */

static const char *const names[] = {"陈志强", "林秀英", "黄建国", "王丽华", "张伟", "李娜", "吴晓明"};

void scale_member_fill(Strata__Member *m, uint32_t b, unsigned i, char *id, size_t idcap, char joined[16])
{
	unsigned r = b * 131 + i;

	snprintf(id, idcap, "M%04u", i + 1);
	snprintf(joined, 16, "%04u-%02u-%02u", 1985u + r % 40, 1 + r % 12, 1 + r % 28);
	m->id = id;
	m->name = (char *)names[r % 7];
	m->category = i % 9 == 8 ? STRATA__MEMBER_CATEGORY__CATEGORY_PROBATIONARY : STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
	m->status = i == 16 ? STRATA__MEMBER_STATUS__STATUS_LAPSED : STRATA__MEMBER_STATUS__STATUS_ACTIVE;
	m->joined = joined;
}

int scale_emit_members(struct scale_tree *t, struct err *e)
{
	uint64_t ts = t->period_end_ms[0] - 60 * SCALE_DAY_MS;

	for (uint32_t b = t->level_start[SL_BRANCH]; b < t->n_units; b++) {
		unsigned nm = scale_members(b);
		struct scale_op *ops = calloc(nm, sizeof *ops);
		uint8_t(*val)[128] = calloc(nm, sizeof *val);
		char(*id)[16] = calloc(nm, sizeof *id), joined[16];
		int ret = -ENOMEM;

		if (ops && val && id) {
			for (unsigned i = 0; i < nm; i++) {
				Strata__Member m = STRATA__MEMBER__INIT;

				scale_member_fill(&m, b, i, id[i], sizeof id[i], joined);
				ops[i] = (struct scale_op){"member", (const uint8_t *)id[i], strlen(id[i]), val[i],
						     strata__member__pack(&m, val[i])};
			}
			ret = scale_emit_one(t, NULL, b, SF_UP, ts + b, ops, nm, false, false, NULL, e);
		}
		free(ops);
		free(val);
		free(id);
		if (ret < 0)
			return ret;
	}
	return scale_flush(t, e);
}

int scale_emit_notices(struct scale_tree *t, struct err *e)
{
	for (uint32_t u = 0; u < t->level_start[SL_BRANCH]; u++)
		for (int k = 0; k < SCALE_MONTHS; k++) {
			Strata__Notice nt = STRATA__NOTICE__INIT;
			char id[32], title[64];
			uint8_t buf[256];
			struct scale_op op = {"notice", (const uint8_t *)id, 0, buf, 0};
			int ret;

			snprintf(id, sizeof id, "n%s", t->period[k]);
			snprintf(title, sizeof title, "关于%s月组织生活的通知", t->period[k]);
			nt.id = id;
			nt.title = title;
			nt.body = "请各支部按时召开组织生活会，并于月底前报送会议记录。";
			op.key_len = strlen(id);
			op.val_len = strata__notice__pack(&nt, buf);
			if ((ret = scale_emit_one(t, NULL, u, SF_NOTICE, t->period_end_ms[k] - 20 * SCALE_DAY_MS, &op, 1, false, false,
					NULL, e)) < 0)
				return ret;
		}
	return scale_flush(t, e);
}

