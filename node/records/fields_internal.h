/* SPDX-License-Identifier: MIT */
/* The field engine's access to a message's fields through its protobuf
 * descriptor, shared by fields.c (read, write, print) and fields_check.c
 * (the checks) only. */
#ifndef STRATA_FIELDS_INTERNAL_H
#define STRATA_FIELDS_INTERNAL_H

#include <stdio.h>
#include <string.h>

#include "node/records/records.h"

static inline const ProtobufCFieldDescriptor *pb_field(const struct record_type *t, const struct record_field *f)
{
	return protobuf_c_message_descriptor_get_field_by_name(t->descriptor, f->name);
}

static inline void *at(const ProtobufCMessage *m, unsigned offset)
{
	return (char *)m + offset;
}

static inline bool period_valid(const char *s)
{
	char d[11];

	if (strlen(s) != 7)
		return false;
	snprintf(d, sizeof d, "%s-01", s);
	return date_valid(d);
}

static inline bool has_value(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	switch (fd->label) {
	case PROTOBUF_C_LABEL_REPEATED:
		return *(size_t *)at(m, fd->quantifier_offset) > 0;
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (fd->type == PROTOBUF_C_TYPE_STRING)
			return *(char **)at(m, fd->offset) != NULL;
		return *(protobuf_c_boolean *)at(m, fd->quantifier_offset) != 0;
	default:
		if (fd->type == PROTOBUF_C_TYPE_STRING)
			return *(char **)at(m, fd->offset) != NULL && **(char **)at(m, fd->offset);
		return true;
	}
}

#endif
