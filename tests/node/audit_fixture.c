/* SPDX-License-Identifier: MIT */
/* The store an auditor is handed, for node_test_audit_bundle and
 * node_test_audit_evidence (audit_fixture.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_fixture.h"
#include "run.h"

char store_dir[256], target_dir[256], root_hex[65];
uint8_t root_key[KEY_BYTES];
struct author street, branch, stranger;
/* The branch's trust entry #2 and another it signed for the same seq. */
uint8_t *fork_a, *fork_b, *fork_other;
size_t fork_a_len, fork_b_len, fork_other_len;

static char *all_feeds[] = {FEED_UP, FEED_REPORT, FEED_DOWN, FEED_TRUST};

static uint8_t *cert_value(const uint8_t *subject, const char *name, uint64_t issued_ms, bool up_only, size_t *len)
{
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	uint8_t *buf;

	c.subject = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)subject};
	c.name = (char *)name;
	c.role = STRATA__ROLE__ROLE_CHILD;
	c.feeds = all_feeds;
	c.n_feeds = up_only ? 1 : 4;
	c.issued_ms = issued_ms;
	buf = malloc(strata__certificate__get_packed_size(&c));
	cr_assert_not_null(buf);
	*len = strata__certificate__pack(&c, buf);
	return buf;
}

/* A's next trust entry certifying SUBJECT as NAME (not stored): its envelope. */
uint8_t *signed_cert(struct author *a, uint64_t seq, const uint8_t *subject, const char *name,
			    uint64_t issued_ms, size_t *len, uint8_t hash[HASH_BYTES])
{
	struct changeset_builder *b = NULL;
	struct err e = {{0}};
	size_t vl;
	uint8_t *v = cert_value(subject, name, issued_ms, false, &vl), *env = NULL;

	cr_assert_eq(changeset_builder_new(&b, FEED_TRUST, seq, seq > 1 ? a->prev : NULL, issued_ms, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_put(b, "cert", subject, KEY_BYTES, v, vl, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_finish(b, a->kp, &env, len, hash, &e), 0, "%s", e.msg);
	changeset_builder_destroy(&b);
	free(v);
	return env;
}

static void ingest(struct node *n, const uint8_t *env, size_t len)
{
	struct store_txn *t = NULL;
	struct err e = {{0}};

	cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(node_ingest(n, t, env, len, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
}

/* A certifies SUBJECT as NAME in its next trust entry, stored in n; its
 * envelope into *keep (may be NULL: freed). */
static void certify(struct node *n, struct author *a, const uint8_t *subject, const char *name, uint64_t issued_ms,
		    uint8_t **keep, size_t *keep_len)
{
	uint8_t hash[HASH_BYTES];
	size_t len;
	uint8_t *env = signed_cert(a, a->seq + 1, subject, name, issued_ms, &len, hash);

	ingest(n, env, len);
	a->seq++;
	memcpy(a->prev, hash, HASH_BYTES);
	if (keep) {
		*keep = env;
		*keep_len = len;
	} else {
		free(env);
	}
}

/* The root (this node) certifies SUBJECT through its writer. */
void root_certifies(struct node *n, const uint8_t *subject, const char *name, uint64_t issued_ms, bool up_only)
{
	struct node_writer *w = NULL;
	struct err e = {{0}};
	size_t len;
	uint8_t *v = cert_value(subject, name, issued_ms, up_only, &len);

	cr_assert_eq(node_writer_begin(n, FEED_TRUST, &w, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_put(w, "cert", subject, KEY_BYTES, v, len, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "%s", e.msg);
	free(v);
}

static void author_new(struct author *a)
{
	struct err e = {{0}};

	memset(a, 0, sizeof *a);
	cr_assert_eq(keypair_generate(&a->kp, &e), 0, "%s", e.msg);
}

void copy_dir(const char *from, const char *to)
{
	struct run r;
	char *argv[] = {"/bin/cp", "-a", (char *)from, (char *)to, NULL};

	run_argv(&r, NULL, argv);
	cr_assert_eq(r.status, 0, "cp: %s", r.err);
	run_free(&r);
}

void audit_fixture_setup(void)
{
	struct node_init_opts o = {.name = "xm", .root = true};
	struct node *n = NULL;
	struct err e = {{0}};
	uint8_t hash[HASH_BYTES];
	char name[64];

	test_tmp_make();
	tmp_path(store_dir, "xm");
	tmp_path(target_dir, "target");
	author_new(&street);
	author_new(&branch);
	author_new(&stranger);
	cr_assert_eq(node_create(store_dir, &o, &e), 0, "%s", e.msg);
	cr_assert_eq(node_open(&n, store_dir, 0, &e), 0, "%s", e.msg);
	memcpy(root_key, node_id(n), KEY_BYTES);
	key_hex(root_hex, root_key);
	root_certifies(n, keypair_public(street.kp), "xm/s1", T0, false);
	node_close(&n);
	copy_dir(store_dir, target_dir); /* an importer of the same domain that has only the root's feed */
	cr_assert_eq(node_open(&n, store_dir, 0, &e), 0, "%s", e.msg);
	certify(n, &street, keypair_public(branch.kp), "xm/s1/b1", T0 + 1, NULL, NULL);
	for (int i = 1; i <= GROUPS; i++) {
		struct author g;

		author_new(&g);
		snprintf(name, sizeof name, "xm/s1/b1/g%d", i);
		if (i == 2) /* what the branch also signed for its seq 2: an equivocation */
			fork_b = signed_cert(&branch, 2, keypair_public(g.kp), "xm/s1/b1/g9", T0 + 3, &fork_b_len, hash);
		certify(n, &branch, keypair_public(g.kp), name, T0 + 1 + i, i == 2 ? &fork_a : i == 3 ? &fork_other : NULL,
			i == 2 ? &fork_a_len : &fork_other_len);
		keypair_destroy(&g.kp);
	}
	root_certifies(n, keypair_public(branch.kp), "xm/b9", T0 + 100, true); /* later: the street keeps it */
	node_close(&n);
}

void audit_fixture_teardown(void)
{
	keypair_destroy(&street.kp);
	keypair_destroy(&branch.kp);
	keypair_destroy(&stranger.kp);
	free(fork_a);
	free(fork_b);
	free(fork_other);
	fork_a = fork_b = fork_other = NULL;
	test_tmp_remove();
}



void on_failure(const struct verify_failure *f, void *arg)
{
	char *log = arg;
	size_t n = strlen(log);

	if (n < 2000)
		snprintf(log + n, 4096 - n, "%s #%llu: %s\n", f->feed, (unsigned long long)f->seq, f->reason);
}

/* `strata audit FILE --root R --json`: its exit status, and the JSON. */
json_t *audit_cli(const char *what, bool dir, int *status)
{
	struct run r;
	json_t *j;

	if (dir)
		run_strata(&r, "audit", "-d", what, "--root", root_hex, "--json", NULL);
	else
		run_strata(&r, "audit", what, "--root", root_hex, "--json", NULL);
	*status = r.status;
	j = run_json(&r);
	run_free(&r);
	return j;
}

/* The reason of the first failure of an audit's JSON that holds needle. */
const char *failure_with(json_t *j, const char *needle)
{
	json_t *f = json_object_get(j, "failures"), *x;
	size_t i;

	json_array_foreach(f, i, x) {
		const char *s = json_string_value(json_object_get(x, "reason"));

		if (s && strstr(s, needle))
			return s;
	}
	cr_assert_fail("no failure says \"%s\": %s", needle, json_dumps(f, 0));
	return NULL;
}

