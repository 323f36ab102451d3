/* SPDX-License-Identifier: MIT */
/*
 * The generic record engine: reads and writes a record's fields through its
 * protobuf descriptor, guided by the record type's field table (fields.h).
 * Messages made here are allocated with malloc, field by field, exactly as
 * protobuf-c's default allocator would, so protobuf_c_message_free_unpacked
 * frees them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/fields_internal.h"

#define ENUM_WORD_SIZE 64     /* an enum value as its word ("party-lecture") and its NUL */
#define ENUM_CHOICES_SIZE 400 /* the words of one enum, ", "-separated, for an error */
/* A scalar field that is not a string (a number, an enum word) as text
 * while it is turned into JSON; strings are read whole. */
#define CHECK_TEXT_SIZE 4096

ProtobufCMessage *record_new(const struct record_type *t)
{
	ProtobufCMessage *m = calloc(1, t->descriptor->sizeof_message);

	if (m)
		t->descriptor->message_init(m);
	return m;
}

void record_free(ProtobufCMessage *m)
{
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

const struct record_field *record_field_find(const struct record_type *t, const char *name)
{
	for (size_t i = 0; i < t->n_fields; i++)
		if (strcmp(t->fields[i].name, name) == 0)
			return &t->fields[i];
	return NULL;
}

/* "KIND_PARTY_LECTURE" -> "party-lecture": the part after the first '_'. */
static void enum_word(char *out, size_t cap, const char *name)
{
	const char *p = strchr(name, '_');
	size_t i = 0;

	for (p = p ? p + 1 : name; *p && i + 1 < cap; p++)
		out[i++] = *p == '_' ? '-' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	out[i] = '\0';
}

static int enum_parse(const ProtobufCEnumDescriptor *ed, const char *word, int *out)
{
	char w[ENUM_WORD_SIZE];

	for (unsigned i = 0; i < ed->n_values; i++) {
		enum_word(w, sizeof w, ed->values[i].name);
		if (strcmp(w, word) == 0) {
			*out = ed->values[i].value;
			return 0;
		}
	}
	return -EINVAL;
}

static void enum_choices(char *out, size_t cap, const ProtobufCEnumDescriptor *ed)
{
	size_t n = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < ed->n_values && n + 2 < cap; i++) {
		char w[ENUM_WORD_SIZE];

		enum_word(w, sizeof w, ed->values[i].name);
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "", w);
	}
}

/* Appends copies of the strings of a comma-separated (or single) value. */
static int push_strings(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd, const char *text, bool split,
			bool replace)
{
	size_t *n = at(m, fd->quantifier_offset);
	char ***arr = at(m, fd->offset);
	char *copy = strdup(text), *save = NULL;

	if (!copy)
		return -ENOMEM;
	if (replace) {
		for (size_t i = 0; i < *n; i++)
			free((*arr)[i]);
		*n = 0;
	}
	for (char *tok = split ? strtok_r(copy, ",", &save) : copy; tok; tok = split ? strtok_r(NULL, ",", &save) : NULL) {
		char **grown;

		while (*tok == ' ')
			tok++;
		if (!*tok)
			continue;
		if (!(grown = realloc(*arr, (*n + 1) * sizeof *grown)) || !(grown[*n] = strdup(tok))) {
			if (grown)
				*arr = grown;
			free(copy);
			return -ENOMEM;
		}
		*arr = grown;
		(*n)++;
	}
	free(copy);
	return 0;
}

int record_set(const struct record_type *t, ProtobufCMessage *m, const struct record_field *f, const char *text,
	       struct err *e)
{
	const ProtobufCFieldDescriptor *fd = pb_field(t, f);
	char *end, norm[RECORD_INPUT_SIZE];

	if (!fd) {
		err_set(e, "%s has no field %s", t->collection, f->name);
		return -EINVAL;
	}
	text = record_input_text(t, f, text, norm, sizeof norm);
	if (f->type == FIELD_MEMBERS || f->type == FIELD_NOTES) {
		if (f->type == FIELD_NOTES && (!*text || !text_valid(text, strlen(text)))) {
			err_set(e, "%s must be text", f->name);
			return -EINVAL;
		}
		return push_strings(m, fd, text, f->type == FIELD_MEMBERS, f->type == FIELD_MEMBERS) < 0 ? -ENOMEM : 0;
	}
	if (!*text && !(f->flags & FIELD_REQUIRED) && fd->label == PROTOBUF_C_LABEL_OPTIONAL) {
		/* an empty value clears an optional field */
		if (fd->type == PROTOBUF_C_TYPE_STRING) {
			free(*(char **)at(m, fd->offset));
			*(char **)at(m, fd->offset) = NULL;
		} else {
			*(protobuf_c_boolean *)at(m, fd->quantifier_offset) = 0;
		}
		return 0;
	}
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING: {
		char *copy = strdup(text);

		if (!copy)
			return -ENOMEM;
		free(*(char **)at(m, fd->offset));
		*(char **)at(m, fd->offset) = copy;
		break;
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64: {
		long long v;
		int64_t fen;

		errno = 0;
		v = strtoll(text, &end, 10);
		if (f->type == FIELD_MONEY) {
			char what[RECORD_INPUT_SIZE];

			snprintf(what, sizeof what, "%s: %s", t->collection, f->name);
			if (record_yuan_parse(what, text, f->max ? (long long)f->max : RECORD_NUMBER_MAX, &fen, e) < 0)
				return -EINVAL;
			v = fen;
		} else if (!*text || *end || errno) {
			err_set(e, "%s \"%s\" is not a whole number", f->name, text);
			return -EINVAL;
		}
		*(int64_t *)at(m, fd->offset) = v;
		if (fd->label == PROTOBUF_C_LABEL_OPTIONAL)
			*(protobuf_c_boolean *)at(m, fd->quantifier_offset) = 1;
		break;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		int v;

		if (enum_parse(fd->descriptor, text, &v) < 0) {
			char choices[ENUM_CHOICES_SIZE];

			enum_choices(choices, sizeof choices, fd->descriptor);
			err_set(e, "%s \"%s\" is not one of %s", f->name, text, choices);
			return -EINVAL;
		}
		*(int *)at(m, fd->offset) = v;
		if (fd->label == PROTOBUF_C_LABEL_OPTIONAL)
			*(protobuf_c_boolean *)at(m, fd->quantifier_offset) = 1;
		break;
	}
	default:
		err_set(e, "%s: field %s has a type the record engine does not handle", t->collection, f->name);
		return -EINVAL;
	}
	return 0;
}

int record_get_text(const struct record_type *t, const ProtobufCMessage *m, const struct record_field *f, char *buf,
		    size_t cap)
{
	const ProtobufCFieldDescriptor *fd = pb_field(t, f);

	buf[0] = '\0';
	if (!fd || !has_value(m, fd))
		return 0;
	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(size_t *)at(m, fd->quantifier_offset), used = 0;
		char **arr = *(char ***)at(m, fd->offset);

		for (size_t i = 0; i < n && used + 1 < cap; i++)
			used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? (f->type == FIELD_NOTES ? " | " : ",") : "",
						 arr[i]);
		return 1;
	}
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		snprintf(buf, cap, "%s", *(char **)at(m, fd->offset));
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
		if (f->type == FIELD_MONEY) { /* fen, shown in yuan */
			char yuan[RECORD_YUAN_SIZE];

			record_yuan_text(*(int64_t *)at(m, fd->offset), yuan);
			snprintf(buf, cap, "%s", yuan);
		} else {
			snprintf(buf, cap, "%" PRId64, *(int64_t *)at(m, fd->offset));
		}
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(fd->descriptor, *(int *)at(m, fd->offset));

		if (v)
			enum_word(buf, cap, v->name);
		break;
	}
	default:
		break;
	}
	return 1;
}

int record_key(const struct record_type *t, const ProtobufCMessage *m, char *buf, size_t cap, struct err *e)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->n_fields; i++) {
		char part[LIMIT_KEY_BYTES]; /* one key field: no longer than a whole key */

		if (!(t->fields[i].flags & FIELD_KEY))
			continue;
		if (!record_get_text(t, m, &t->fields[i], part, sizeof part) || !part[0]) {
			err_set(e, "%s: %s is missing", t->collection, t->fields[i].name);
			return -EINVAL;
		}
		if (strchr(part, '/')) {
			err_set(e, "%s: %s \"%s\" may not contain '/'", t->collection, t->fields[i].name, part);
			return -EINVAL;
		}
		used += (size_t)snprintf(buf + used, cap > used ? cap - used : 0, "%s%s", used ? "/" : "", part);
	}
	if (used >= cap || used > LIMIT_KEY_BYTES) {
		err_set(e, "%s: the record key is too long", t->collection);
		return -EINVAL;
	}
	return 0;
}

json_t *record_json(const struct record_type *t, const ProtobufCMessage *m)
{
	json_t *o = json_object();
	char buf[CHECK_TEXT_SIZE];

	for (size_t i = 0; i < t->n_fields; i++) {
		const struct record_field *f = &t->fields[i];
		const ProtobufCFieldDescriptor *fd = pb_field(t, f);

		if (!fd)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			json_t *a = json_array();
			size_t n = *(size_t *)at(m, fd->quantifier_offset);
			char **arr = *(char ***)at(m, fd->offset);

			for (size_t j = 0; j < n; j++)
				json_array_append_new(a, json_string(arr[j]));
			json_object_set_new(o, f->name, a);
			continue;
		}
		if (!record_get_text(t, m, f, buf, sizeof buf))
			json_object_set_new(o, f->name, json_null());
		else if ((fd->type == PROTOBUF_C_TYPE_INT64 || fd->type == PROTOBUF_C_TYPE_SINT64) && f->type != FIELD_MONEY)
			json_object_set_new(o, f->name, json_integer(*(int64_t *)at(m, fd->offset)));
		else if (fd->type == PROTOBUF_C_TYPE_STRING) /* whole, however long */
			json_object_set_new(o, f->name, json_string(*(char *const *)at(m, fd->offset)));
		else
			json_object_set_new(o, f->name, json_string(buf));
	}
	return o;
}
