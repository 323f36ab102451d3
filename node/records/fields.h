/* SPDX-License-Identifier: MIT */
/*
 * Record fields: a table per record type that says, for each protobuf field,
 * what kind of value it holds, so that one generic engine (fields.c) can
 * parse it from a command-line option or a CSV column, check it, print it,
 * and turn it into JSON. A new record type is then its message in
 * strata.proto and one file in node/records/ with its table and its own
 * rules. Included by records.h.
 */
#ifndef STRATA_FIELDS_H
#define STRATA_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

enum field_type {
	FIELD_TEXT,    /* text, 1..max bytes, no control characters */
	FIELD_DATE,    /* YYYY-MM-DD, a real date */
	FIELD_PERIOD,  /* YYYY-MM */
	FIELD_COUNT,   /* an integer 0..max (fen, minutes, a score) */
	FIELD_INT,     /* an integer -max..max (points may be deducted) */
	FIELD_ENUM,    /* a word of the field's protobuf enum (KIND_PARTY_LECTURE: party-lecture) */
	FIELD_MEMBER,  /* a member id of this node's registry */
	FIELD_MEMBERS, /* repeated: member ids, comma-separated on input */
	FIELD_NOTES,   /* repeated text; an update appends one */
	FIELD_PHONE,   /* a phone number (phone_valid) */
	FIELD_MONEY,   /* an amount of fen (int64), typed and shown in yuan: "12.5", "12.50", "12" (12.00 yuan) */
};

enum field_flags {
	FIELD_REQUIRED = 1 << 0, /* must be given on add and in every CSV row */
	FIELD_KEY = 1 << 1,      /* part of the record key (key fields joined by '/') */
	FIELD_PAST = 1 << 2,     /* a date typed by a person may not be in the future */
};

struct record_field {
	const char *name; /* the protobuf field; also --NAME, the CSV column, the JSON key */
	enum field_type type;
	unsigned flags;
	size_t max;       /* FIELD_TEXT: most bytes; FIELD_COUNT, FIELD_INT: largest
			     size (RECORD_NUMBER_MAX if 0), records.h */
	const char *help; /* one line for --help */
};

/* A Chinese name beside an English one, in a table per record type next to
 * its fields (record_type.zh, ended by an entry with field NULL): the
 * column of field (value NULL), or one word of enum field (value: its
 * English word, "party-lecture"). Input (a CSV header, a cell, an option's
 * value) accepts either; the first entry of a (field, value) is the one an
 * export in Chinese writes, later ones are aliases read the same. */
struct record_zh {
	const char *field;
	const char *value;
	const char *zh;
};

#endif
