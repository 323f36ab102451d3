/* SPDX-License-Identifier: MIT */
/*
 * Residues of erased values. An erase removes a record's value from every
 * store, but a report computed while the value was there counted it; the
 * level above recomputes every report from the entries it names. So the
 * erase request carries, for each erased entry, the value's residue: the
 * fields its type's report figures read, as the type declares them
 * (struct record_type .residue, beside its .figures callback), and nothing
 * else. Names, phone numbers, addresses, free text and the ids of other
 * members are cleared (a required text left empty). A field a type's
 * figures start to read must be added to its residue too, or reports over
 * erased values stop matching.
 *
 * The residue is the same message re-encoded by protobuf-c (fields in
 * number order, canonical packing): the same kept fields give the same
 * bytes, whichever code chose them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"

/* The blocks one residue allocates: the message, a kept sub-message, the
 * blank lists standing for repeated ids. */
#define RESIDUE_BLOCKS_MAX 16

struct blocks {
	void *v[RESIDUE_BLOCKS_MAX];
	size_t n;
};

static char blank[] = "";

static void *block(struct blocks *b, size_t size)
{
	void *p;

	if (b->n == RESIDUE_BLOCKS_MAX || !(p = calloc(1, size ? size : 1)))
		return NULL;
	return b->v[b->n++] = p;
}

/* Bytes a field of this type takes in its message (not repeated). */
static size_t field_size(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

/* 1 if names keeps the field ("name"), 2 if only its count ("name#"). */
static int kept(const char *const *names, const char *field)
{
	size_t len = strlen(field);

	for (; *names; names++)
		if (strncmp(*names, field, len) == 0)
			if ((*names)[len] == '\0' || ((*names)[len] == '#' && (*names)[len + 1] == '\0'))
				return (*names)[len] ? 2 : 1;
	return 0;
}

static ProtobufCMessage *residue_of(const ProtobufCMessage *m, const char *const *keep, struct blocks *b);

/* Sets field fd of residue r from m as keep says. -ENOMEM. */
static int residue_field(const ProtobufCFieldDescriptor *fd, const ProtobufCMessage *m, ProtobufCMessage *r,
			 const char *const *keep, struct blocks *b)
{
	const char *src = (const char *)m + fd->offset;
	char *dst = (char *)r + fd->offset;
	int how = kept(keep, fd->name);

	if (how == 0) {
		if (fd->label == PROTOBUF_C_LABEL_REQUIRED && fd->type == PROTOBUF_C_TYPE_STRING)
			*(char **)dst = blank;
		return 0;
	}
	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(const size_t *)((const char *)m + fd->quantifier_offset);
		char **blanks;

		*(size_t *)((char *)r + fd->quantifier_offset) = n;
		if (how == 1) {
			memcpy(dst, src, sizeof(void *));
			return 0;
		}
		if (!(blanks = block(b, n * sizeof *blanks)))
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			blanks[i] = blank;
		*(char ***)dst = blanks;
		return 0;
	}
	if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->quantifier_offset)
		memcpy((char *)r + fd->quantifier_offset, (const char *)m + fd->quantifier_offset,
		       sizeof(protobuf_c_boolean));
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE && *(ProtobufCMessage *const *)src) {
		/* A kept message keeps its own type's residue. */
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)src;
		size_t n;
		const struct record_type *const *types = record_types(&n);
		const char *const *subkeep = NULL;

		for (size_t i = 0; i < n && !subkeep; i++)
			if (types[i]->descriptor == sub->descriptor)
				subkeep = types[i]->residue;
		if (!subkeep)
			subkeep = (const char *const[]){NULL};
		return (*(ProtobufCMessage **)dst = residue_of(sub, subkeep, b)) ? 0 : -ENOMEM;
	}
	memcpy(dst, src, field_size(fd));
	return 0;
}

/* A new message of m's type (in b) holding what keep names of m. */
static ProtobufCMessage *residue_of(const ProtobufCMessage *m, const char *const *keep, struct blocks *b)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	ProtobufCMessage *r = block(b, d->sizeof_message);

	if (!r)
		return NULL;
	d->message_init(r);
	for (unsigned i = 0; i < d->n_fields; i++)
		if (residue_field(&d->fields[i], m, r, keep, b) < 0)
			return NULL;
	return r;
}

int record_residue(const char *collection, const uint8_t *value, size_t len, uint8_t **out, size_t *out_len,
		   struct err *e)
{
	const struct record_type *t = record_type_find(collection);
	struct blocks b = {.n = 0};
	ProtobufCMessage *m, *r;
	int ret = 1;

	*out = NULL;
	*out_len = 0;
	if (!t || !t->residue)
		return 0;
	if (!(m = protobuf_c_message_unpack(t->descriptor, NULL, len, value))) {
		err_set(e, "the %s value does not decode", collection);
		return -EINVAL;
	}
	if (!(r = residue_of(m, t->residue, &b)) || !(*out = malloc(protobuf_c_message_get_packed_size(r) + 1))) {
		err_set(e, "out of memory");
		ret = -ENOMEM;
	} else {
		*out_len = protobuf_c_message_pack(r, *out);
	}
	for (size_t i = 0; i < b.n; i++)
		free(b.v[i]);
	protobuf_c_message_free_unpacked(m, NULL);
	return ret;
}

bool record_has_residue(const char *collection)
{
	const struct record_type *t = record_type_find(collection);

	return t && t->residue;
}
