/* SPDX-License-Identifier: MIT */
/*
 * Decoding and verifying a received envelope. Nothing in it is trusted: the
 * size is checked before anything is parsed, the number of repeated fields
 * before anything is allocated for them, and every field is checked before a
 * pointer to it is handed out. The body must be the canonical protobuf-c
 * encoding of what it decodes to, so one content has exactly one entry hash.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/arena.h"
#include "protocol/pb_wire.h"
#include "protocol/protocol.h"

/* The public struct first, so a struct changeset * is also one of these.
 * Everything a decode allocates (the copy of the input, both unpacked
 * messages, the ops) comes from the arena, whose first block is `space`:
 * one malloc and one free per change set in the common case. */
struct decoded {
	struct changeset cs;
	struct arena arena;
	Strata__Envelope *env;
	Strata__ChangeSetBody *body;
	uint8_t *copy;
	struct op *ops;
	max_align_t space[];
};

/* The first block's size for an envelope of len bytes. It holds the copy
 * of the input; what protobuf-c unpacks from it (the body and every value
 * copied again, and per op and value a message, a pointer to it and each
 * of its strings and bytes); and the ops. For change sets of 1,000
 * members that comes to 4.84 times the length. One that needs more gets
 * further blocks; pages of the block that are never touched cost nothing. */
static size_t first_block(size_t len)
{
	return len * 5 + 4096;
}

static int check_unknown(const ProtobufCMessage *m, const char *where, size_t idx, struct err *e)
{
	if (m->n_unknown_fields == 0)
		return 0;
	if (!where)
		err_set(e, "envelope: unknown field %u", m->unknown_fields[0].tag);
	else if (idx == SIZE_MAX)
		err_set(e, "envelope: %s: unknown field %u", where, m->unknown_fields[0].tag);
	else
		err_set(e, "envelope: %s %zu: unknown field %u", where, idx, m->unknown_fields[0].tag);
	return -EBADMSG;
}

/* 1..LIMIT_NAME_BYTES of [a-z0-9_-]. The name itself is never printed:
 * it may hold anything, terminal escapes included. */
static int check_name(const char *name, const char *what, size_t op, struct err *e)
{
	size_t n = strlen(name), i = 0;
	if (n > 0 && n <= LIMIT_NAME_BYTES) {
		for (; i < n; i++) {
			unsigned char c = (unsigned char)name[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
				break;
		}
		if (i == n)
			return 0;
	}
	/* Formatted only for a bad name: this runs for every op. */
	char where[48] = "body";
	if (op != SIZE_MAX)
		snprintf(where, sizeof where, "op %zu", op);
	if (n == 0)
		err_set(e, "envelope: %s: %s name is empty", where, what);
	else if (n > LIMIT_NAME_BYTES)
		err_set(e, "envelope: %s: %s name of %zu bytes exceeds the limit of %u", where, what, n,
			LIMIT_NAME_BYTES);
	else
		err_set(e, "envelope: %s: %s name: byte %zu (0x%02x) is not one of [a-z0-9_-]", where, what,
			i, (unsigned char)name[i]);
	return -EBADMSG;
}

/* A put has exactly one commitment of 32 bytes: value_hash (written before
 * salted commitments) or value_commit (salted); a delete has neither. */
static int check_commit(const Strata__Op *o, size_t i, struct err *e)
{
	/* whole sentences, each its own message: they are translated */
	if (o->kind != STRATA__OP_KIND__OP_PUT) {
		if (o->has_value_hash)
			err_set(e, "envelope: op %zu: delete carries a value hash", i);
		else if (o->has_value_commit)
			err_set(e, "envelope: op %zu: delete carries a value commitment", i);
		return o->has_value_hash || o->has_value_commit ? -EBADMSG : 0;
	}
	if (o->has_value_hash && o->has_value_commit) {
		err_set(e, "envelope: op %zu: put has both a value hash and a value commitment; it must have one", i);
		return -EBADMSG;
	}
	if (!o->has_value_hash && !o->has_value_commit) {
		err_set(e, "envelope: op %zu: put has no value hash nor value commitment", i);
		return -EBADMSG;
	}
	if (o->has_value_hash && o->value_hash.len != HASH_BYTES) {
		err_set(e, "envelope: op %zu: value hash is %zu bytes, not %d", i, o->value_hash.len, HASH_BYTES);
		return -EBADMSG;
	}
	if (o->has_value_commit && o->value_commit.len != HASH_BYTES) {
		err_set(e, "envelope: op %zu: value commitment is %zu bytes, not %d", i, o->value_commit.len,
			HASH_BYTES);
		return -EBADMSG;
	}
	return 0;
}

static int check_body(struct decoded *d, struct err *e)
{
	const Strata__ChangeSetBody *b = d->body;
	if (b->author.len != KEY_BYTES) {
		err_set(e, "envelope: body: author is %zu bytes, not %d", b->author.len, KEY_BYTES);
		return -EBADMSG;
	}
	if (b->prev.len != HASH_BYTES) {
		err_set(e, "envelope: body: prev is %zu bytes, not %d", b->prev.len, HASH_BYTES);
		return -EBADMSG;
	}
	if (b->seq == 0) {
		err_set(e, "envelope: body: seq is 0; a feed starts at seq 1");
		return -EBADMSG;
	}
	if (b->seq == 1) {
		for (size_t i = 0; i < HASH_BYTES; i++) {
			if (b->prev.data[i]) {
				err_set(e, "envelope: body: seq 1 has a non-zero prev");
				return -EBADMSG;
			}
		}
	}
	if (check_name(b->feed, "feed", SIZE_MAX, e) < 0)
		return -EBADMSG;
	for (size_t i = 0; i < b->n_ops; i++) {
		const Strata__Op *o = b->ops[i];
		if (check_unknown(&o->base, "op", i, e) < 0)
			return -EBADMSG;
		if (o->kind != STRATA__OP_KIND__OP_PUT && o->kind != STRATA__OP_KIND__OP_DELETE) {
			err_set(e, "envelope: op %zu: kind %d is neither put (1) nor delete (2)", i, (int)o->kind);
			return -EBADMSG;
		}
		if (check_name(o->collection, "collection", i, e) < 0)
			return -EBADMSG;
		if (o->key.len == 0) {
			err_set(e, "envelope: op %zu: key is empty", i);
			return -EBADMSG;
		}
		if (o->key.len > LIMIT_KEY_BYTES) {
			err_set(e, "envelope: op %zu: key of %zu bytes exceeds the limit of %u", i, o->key.len,
				LIMIT_KEY_BYTES);
			return -EBADMSG;
		}
		if (check_commit(o, i, e) < 0)
			return -EBADMSG;
	}
	return 0;
}

static int check_values(struct decoded *d, struct err *e)
{
	const Strata__Envelope *env = d->env;
	size_t n_ops = d->body->n_ops;
	for (size_t i = 0; i < env->n_values; i++) {
		const Strata__Value *v = env->values[i];
		if (check_unknown(&v->base, "value", i, e) < 0)
			return -EBADMSG;
		if (v->op >= n_ops) {
			err_set(e, "envelope: value %zu names op %u, but the body has %zu ops", i, v->op, n_ops);
			return -EBADMSG;
		}
		if (i > 0 && v->op <= env->values[i - 1]->op) {
			err_set(e, "envelope: value %zu names op %u after op %u; values must be in strictly "
				   "increasing op order", i, v->op, env->values[i - 1]->op);
			return -EBADMSG;
		}
		struct op *o = &d->ops[v->op];
		if (o->kind != OP_PUT) {
			err_set(e, "envelope: value %zu names op %u, which is a delete", i, v->op);
			return -EBADMSG;
		}
		if (v->data.len > LIMIT_VALUE_BYTES) {
			err_set(e, "envelope: op %u: value of %zu bytes exceeds the limit of %u", v->op,
				v->data.len, LIMIT_VALUE_BYTES);
			return -EBADMSG;
		}
		if (o->salted && !v->has_salt) {
			err_set(e, "envelope: op %u: value has no salt, but its put commits with one (value_commit)",
				v->op);
			return -EBADMSG;
		}
		if (!o->salted && v->has_salt) {
			err_set(e, "envelope: op %u: value has a salt, but its put has an unsalted value hash", v->op);
			return -EBADMSG;
		}
		if (v->has_salt && v->salt.len != SALT_BYTES) {
			err_set(e, "envelope: op %u: salt is %zu bytes, not %d", v->op, v->salt.len, SALT_BYTES);
			return -EBADMSG;
		}
		if (!changeset_value_matches(o, v->data.data, v->data.len, v->has_salt ? v->salt.data : NULL)) {
			if (o->salted)
				err_set(e, "envelope: op %u: value commitment does not match its value", v->op);
			else
				err_set(e, "envelope: op %u: value hash does not match its value", v->op);
			return -EBADMSG;
		}
		o->salt = v->has_salt ? v->salt.data : NULL;
		/* protobuf-c leaves data NULL for an empty value; the op still
		 * has its value, of zero bytes. */
		o->value = v->data.data ? v->data.data : (const uint8_t *)"";
		o->value_len = v->data.len;
	}
	return 0;
}

/* Step 1, before anything is parsed or allocated: the size, and the count
 * of the envelope's fields. */
static int check_frame(const uint8_t *buf, size_t len, struct err *e)
{
	size_t count, at;

	if (len > LIMIT_ENVELOPE_BYTES) {
		err_set(e, "envelope: %zu bytes exceeds the limit of %u", len, LIMIT_ENVELOPE_BYTES);
		return -EBADMSG;
	}
	if (len == 0 || !buf) {
		err_set(e, "envelope: empty");
		return -EBADMSG;
	}
	if (pb_wire_count(buf, len, 3, &count, &at) < 0) {
		err_set(e, "envelope: malformed protobuf at byte %zu", at);
		return -EBADMSG;
	}
	if (count > LIMIT_OPS) {
		err_set(e, "envelope: %zu values exceeds the limit of %u", count, LIMIT_OPS);
		return -EBADMSG;
	}
	return 0;
}

/* Step 2: *dp, its arena, and the copy of the input in it. On failure *dp
 * may still be set (the caller frees it). */
static int decoded_new(struct decoded **dp, const uint8_t *buf, size_t len, struct err *e)
{
	struct decoded *d;

	/* len is at most LIMIT_ENVELOPE_BYTES: no overflow. */
	if (!(d = *dp = malloc(sizeof *d + first_block(len)))) {
		err_set(e, "envelope: out of memory");
		return -ENOMEM;
	}
	memset(d, 0, sizeof *d);
	arena_init(&d->arena, d->space, first_block(len), first_block(len));
	if (!(d->copy = arena_alloc(&d->arena, len))) {
		err_set(e, "envelope: out of memory");
		return -ENOMEM;
	}
	memcpy(d->copy, buf, len);
	return 0;
}

/* Step 3: the Envelope message, its unknown fields and its signature. */
static int unpack_envelope(struct decoded *d, size_t len, struct err *e)
{
	d->env = strata__envelope__unpack(&d->arena.pb, len, d->copy);
	if (!d->env) {
		err_set(e, "envelope: not an Envelope message (a required field is missing, or a field "
			   "has the wrong type)");
		return -EBADMSG;
	}
	if (check_unknown(&d->env->base, NULL, SIZE_MAX, e) < 0)
		return -EBADMSG;
	if (d->env->signature.len != SIG_BYTES) {
		err_set(e, "envelope: signature is %zu bytes, not %d", d->env->signature.len, SIG_BYTES);
		return -EBADMSG;
	}
	return 0;
}

/* Step 4: the body: its count of ops before it is unpacked, then every
 * field of it, then its encoding. */
static int unpack_body(struct decoded *d, struct err *e)
{
	const ProtobufCBinaryData *body = &d->env->body;
	size_t count, at;

	if (body->len == 0) {
		err_set(e, "envelope: body is empty");
		return -EBADMSG;
	}
	if (pb_wire_count(body->data, body->len, 6, &count, &at) < 0) {
		err_set(e, "envelope: body: malformed protobuf at byte %zu", at);
		return -EBADMSG;
	}
	if (count > LIMIT_OPS) {
		err_set(e, "envelope: body: %zu ops exceeds the limit of %u", count, LIMIT_OPS);
		return -EBADMSG;
	}
	d->body = strata__change_set_body__unpack(&d->arena.pb, body->len, body->data);
	if (!d->body) {
		err_set(e, "envelope: body: not a ChangeSetBody message (a required field is missing, "
			   "or a field has the wrong type)");
		return -EBADMSG;
	}
	if (check_unknown(&d->body->base, "body", SIZE_MAX, e) < 0)
		return -EBADMSG;
	if (check_body(d, e) < 0)
		return -EBADMSG;
	/* Last among the body checks: the reasons above are more precise for
	 * what they catch. This one catches duplicate or reordered fields,
	 * overlong numbers and strings cut short by a NUL byte. */
	if (pb_canonical(&d->body->base, body->data, body->len, &at) < 0) {
		err_set(e, "envelope: body is not in canonical encoding (differs at byte %zu)", at);
		return -EBADMSG;
	}
	return 0;
}

/* Step 5: the ops handed out, from the checked body (values: check_values). */
static int ops_fill(struct decoded *d, struct err *e)
{
	if (d->body->n_ops) {
		/* n_ops is at most LIMIT_OPS: no overflow. */
		if (!(d->ops = arena_alloc(&d->arena, d->body->n_ops * sizeof *d->ops))) {
			err_set(e, "envelope: out of memory");
			return -ENOMEM;
		}
		memset(d->ops, 0, d->body->n_ops * sizeof *d->ops);
	}
	for (size_t i = 0; i < d->body->n_ops; i++) {
		const Strata__Op *o = d->body->ops[i];
		struct op *op = &d->ops[i];
		op->kind = o->kind == STRATA__OP_KIND__OP_PUT ? OP_PUT : OP_DELETE;
		op->collection = o->collection;
		op->key = o->key.data;
		op->key_len = o->key.len;
		if (op->kind == OP_PUT) {
			op->salted = o->has_value_commit;
			memcpy(op->value_hash, op->salted ? o->value_commit.data : o->value_hash.data, HASH_BYTES);
		}
	}
	return 0;
}

/* Last step, once everything is checked: the public change set. */
static void changeset_fill(struct decoded *d, size_t len)
{
	const ProtobufCBinaryData *body = &d->env->body;
	struct changeset *cs = &d->cs;

	memcpy(cs->author, d->body->author.data, KEY_BYTES);
	cs->feed = d->body->feed;
	cs->seq = d->body->seq;
	memcpy(cs->prev, d->body->prev.data, HASH_BYTES);
	cs->time_ms = d->body->time_ms;
	cs->n_ops = d->body->n_ops;
	cs->ops = d->ops;
	cs->body = body->data;
	cs->body_len = body->len;
	memcpy(cs->signature, d->env->signature.data, SIG_BYTES);
	hash_blake2b(cs->hash, body->data, body->len);
	cs->envelope = d->copy;
	cs->envelope_len = len;
}

/* The checks run in this order, each step's before the next's: the first
 * failure gives the error. */
int changeset_decode(struct changeset **out, const uint8_t *buf, size_t len, struct err *e)
{
	struct decoded *d = NULL;
	size_t at;
	int ret;

	if ((ret = check_frame(buf, len, e)) < 0 || (ret = decoded_new(&d, buf, len, e)) < 0 ||
	    (ret = unpack_envelope(d, len, e)) < 0 || (ret = unpack_body(d, e)) < 0 || (ret = ops_fill(d, e)) < 0)
		goto out;
	ret = -EBADMSG;
	if (check_values(d, e) < 0)
		goto out;
	if (pb_canonical(&d->env->base, d->copy, len, &at) < 0) {
		err_set(e, "envelope: not in canonical encoding (differs at byte %zu)", at);
		goto out;
	}
	changeset_fill(d, len);
	*out = &d->cs;
	d = NULL;
	ret = 0;
out:
	if (d) {
		struct changeset *c = &d->cs;
		changeset_destroy(&c);
	}
	return ret;
}

int changeset_verify(const struct changeset *cs, struct err *e)
{
	if (sig_verify(cs->author, DOMAIN_CHANGESET, cs->body, cs->body_len, cs->signature) == 0)
		return 0;
	char hex[KEY_HEX];
	key_hex(hex, cs->author);
	hex[16] = '\0';
	err_set(e, "signature by %s… does not verify for feed %s seq %llu", hex, cs->feed,
		(unsigned long long)cs->seq);
	return -EBADMSG;
}

void changeset_destroy(struct changeset **cs)
{
	if (!cs || !*cs)
		return;
	struct decoded *d = (struct decoded *)*cs;
	/* The unpacked messages, the copy and the ops all live in the arena. */
	arena_release(&d->arena);
	free(d);
	*cs = NULL;
}
