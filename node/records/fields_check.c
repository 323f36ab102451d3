/* SPDX-License-Identifier: MIT */
/*
 * The field engine's checks (fields.c reads and writes the fields): each
 * value against its field's type and range, the record key, and, for input
 * typed by a person, dates not in the future and members in the registry.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "node/records/fields_internal.h"

static bool id_like(const char *s)
{
	return id_chars_valid(s, 64);
}

/* Checks one scalar value of a field. */
static int check_value(const struct record_type *t, const struct record_field *f, const char *v, struct err *e)
{
	switch (f->type) {
	case FIELD_TEXT:
	case FIELD_NOTES:
		if (!*v || strlen(v) > (f->max ? f->max : 1000) || !text_valid(v, strlen(v))) {
			err_set(e, "%s: %s must be 1-%zu bytes of text", t->collection, f->name, f->max ? f->max : 1000);
			return -EINVAL;
		}
		return 0;
	case FIELD_DATE:
		if (!date_valid(v)) {
			err_set(e, "%s: %s \"%s\" is not a real date (YYYY-MM-DD)", t->collection, f->name, v);
			return -EINVAL;
		}
		return 0;
	case FIELD_PERIOD:
		if (!period_valid(v)) {
			err_set(e, "%s: %s \"%s\" is not a period (YYYY-MM)", t->collection, f->name, v);
			return -EINVAL;
		}
		return 0;
	case FIELD_COUNT:
	case FIELD_MONEY:
		if (*v == '-') {
			err_set(e, "%s: %s %s may not be negative", t->collection, f->name, v);
			return -EINVAL;
		}
		return 0;
	case FIELD_PHONE:
		if (!phone_valid(v)) {
			err_set(e, "%s: %s \"%s\" is not a phone number", t->collection, f->name, v);
			return -EINVAL;
		}
		return 0;
	case FIELD_MEMBER:
	case FIELD_MEMBERS:
		if (!id_like(v)) {
			err_set(e, "%s: %s \"%s\" is not a member id", t->collection, f->name, v);
			return -EINVAL;
		}
		return 0;
	default:
		return 0;
	}
}

/* A number must lie in its field's range (records.h), which keeps every
 * sum a report makes of them within FIGURE_MAX. */
static int check_number(const struct record_type *t, const struct record_field *f, int64_t v, struct err *e)
{
	long long max = f->max ? (long long)f->max : RECORD_NUMBER_MAX;
	long long min = f->type == FIELD_INT ? -max : 0;

	if ((v < min || v > max) && f->type == FIELD_MONEY) {
		err_set(e, "%s: %s %" PRId64 ".%02" PRId64 " yuan is out of range (0..%lld.%02lld yuan)", t->collection,
			f->name, v / 100, (v < 0 ? -v : v) % 100, max / 100, max % 100);
		return -EINVAL;
	}
	if (v < min || v > max) {
		err_set(e, "%s: %s %" PRId64 " is out of range (%lld..%lld)", t->collection, f->name, v, min, max);
		return -EINVAL;
	}
	return 0;
}

int record_check_fields(const struct record_type *t, const ProtobufCMessage *m, const uint8_t *key, size_t key_len,
			struct err *e)
{
	char buf[RECORD_TEXT_SIZE], k[LIMIT_KEY_BYTES + 64];
	int ret;

	if (t->validate) /* a type with its own rules (member): they are its field checks */
		return (ret = t->validate(m, key, key_len, e)) < 0 ? ret : t->validate_extra ? t->validate_extra(m, e) : 0;
	for (size_t i = 0; i < t->n_fields; i++) {
		const struct record_field *f = &t->fields[i];
		const ProtobufCFieldDescriptor *fd = pb_field(t, f);

		if (!fd)
			continue;
		if (!has_value(m, fd)) {
			if (f->flags & FIELD_REQUIRED) {
				err_set(e, "%s: %s is missing", t->collection, f->name);
				return -EINVAL;
			}
			continue;
		}
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)at(m, fd->quantifier_offset);
			char **arr = *(char ***)at(m, fd->offset);

			for (size_t j = 0; j < n; j++)
				if ((ret = check_value(t, f, arr[j], e)) < 0)
					return ret;
			continue;
		}
		if (fd->type == PROTOBUF_C_TYPE_ENUM &&
		    !protobuf_c_enum_descriptor_get_value(fd->descriptor, *(int *)at(m, fd->offset))) {
			err_set(e, "%s: %s has an unknown value %d", t->collection, f->name, *(int *)at(m, fd->offset));
			return -EINVAL;
		}
		/* A string is checked whole, not a copy cut to buf: a notice's body
		 * may be 20000 bytes, and a cut inside a character or before a
		 * control byte would judge the wrong text. */
		if (fd->type == PROTOBUF_C_TYPE_STRING)
			ret = check_value(t, f, *(char *const *)at(m, fd->offset), e);
		else {
			record_get_text(t, m, f, buf, sizeof buf);
			ret = check_value(t, f, buf, e);
		}
		if (ret < 0)
			return ret;
		if ((fd->type == PROTOBUF_C_TYPE_INT64 || fd->type == PROTOBUF_C_TYPE_SINT64) &&
		    (ret = check_number(t, f, *(const int64_t *)at(m, fd->offset), e)) < 0)
			return ret;
	}
	if (key) {
		if ((ret = record_key(t, m, k, sizeof k, e)) < 0)
			return ret;
		if (strlen(k) != key_len || memcmp(k, key, key_len) != 0) {
			err_set(e, "%s %s is stored under another key", t->collection, k);
			return -EINVAL;
		}
	}
	return t->validate_extra ? t->validate_extra(m, e) : 0;
}

/* Is member ID in the registry of the unit whose keys are owners? */
static int member_exists(struct store_txn *txn, const uint8_t (*owners)[32], size_t n_owners, const char *id,
			 struct err *e)
{
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};
	int ret = -ENOENT;

	for (size_t i = 0; i < n_owners && ret == -ENOENT; i++)
		ret = store_state_get(txn, "member", owners[i], (const uint8_t *)id, strlen(id), &v, &vl, NULL, &ignore);
	if (ret == -ENOENT) {
		err_set(e, "member %s is not in this branch's registry", id);
		return -ESRCH;
	}
	if (ret < 0)
		err_set(e, "%s", ignore.msg);
	return ret;
}

int record_check_input(const struct record_type *t, const ProtobufCMessage *m, struct store_txn *txn,
		       const uint8_t (*owners)[32], size_t n_owners, struct err *e)
{
	char today[RECORD_DATE_SIZE], buf[RECORD_TEXT_SIZE];
	int ret = record_check_fields(t, m, NULL, 0, e);

	if (ret < 0)
		return ret;
	date_today(today);
	for (size_t i = 0; i < t->n_fields; i++) {
		const struct record_field *f = &t->fields[i];
		const ProtobufCFieldDescriptor *fd = pb_field(t, f);

		if (!fd || !has_value(m, fd))
			continue;
		if (f->type == FIELD_DATE && (f->flags & FIELD_PAST)) {
			record_get_text(t, m, f, buf, sizeof buf);
			if (strcmp(buf, today) > 0) {
				err_set(e, "%s: %s %s is in the future", t->collection, f->name, buf);
				return -EINVAL;
			}
		}
		if (f->type == FIELD_MEMBER) {
			record_get_text(t, m, f, buf, sizeof buf);
			if ((ret = member_exists(txn, owners, n_owners, buf, e)) < 0)
				return ret;
		}
		if (f->type == FIELD_MEMBERS) {
			size_t n = *(size_t *)at(m, fd->quantifier_offset);
			char **arr = *(char ***)at(m, fd->offset);

			for (size_t j = 0; j < n; j++)
				if ((ret = member_exists(txn, owners, n_owners, arr[j], e)) < 0)
					return ret;
		}
	}
	return t->check_input && n_owners ? t->check_input(m, txn, owners[0], e) : 0;
}
