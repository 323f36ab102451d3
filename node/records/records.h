/* SPDX-License-Identifier: MIT */
/*
 * records: the collections a node keeps (members, and later dues, meetings,
 * ...). One file per collection holds its validation, its CSV columns and
 * its printing; this header lists them in one registry so that ingest can
 * check any received value, and holds the helpers they share (dates, CSV
 * reading, text checks).
 *
 * Validation is split in two on purpose: record_validate() is deterministic
 * (the same bytes give the same answer on every node, whatever its clock),
 * and is what ingest runs on received data; input checks that depend on
 * "today" (a joined date in the future) run only where a person types data.
 */
#ifndef STRATA_RECORDS_H
#define STRATA_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "node/records/fields.h"
#include "protocol/protocol.h"
#include "protocol/trust_rules.h"
#include "storage/store.h"

struct figures_ctx;

/* One collection: its name on the wire, the feed it travels in, its
 * protobuf message, and its deterministic validation. */
struct record_type {
	const char *collection;
	const char *feed;  /* NULL: it travels in the feed feed_of names */
	/* A feed it was written in before its own feed split off (notice:
	 * down): entries already signed there still check; new ones go to feed. */
	const char *legacy_feed;
	/* Types without a feed of their own (erase): the feed a record under
	 * key travels in, or NULL (the reason in e) for a key no feed takes. */
	const char *(*feed_of)(const uint8_t *key, size_t key_len, struct err *e);
	const ProtobufCMessageDescriptor *descriptor;
	/* Types with their own code (member, cert): checks a decoded value
	 * stored under key; fills e and returns -EINVAL if not acceptable. */
	int (*validate)(const ProtobufCMessage *m, const uint8_t *key, size_t key_len, struct err *e);
	/* Types run by the generic engine (fields.c): the field table, and the
	 * rules beyond it. validate is then NULL. */
	const struct record_field *fields;
	size_t n_fields;
	const char *noun;    /* "dues payment": for messages and help */
	const char *summary; /* one line for `strata --help` */
	/* Deterministic rules across fields (may be NULL). */
	int (*validate_extra)(const ProtobufCMessage *m, struct err *e);
	/* Input rules that need this node's store (may be NULL). */
	int (*check_input)(const ProtobufCMessage *m, struct store_txn *t, const uint8_t owner[KEY_BYTES], struct err *e);
	/* The type's own sentences (printf formats of the key) for a record
	 * this node does not hold / holds erased (may be NULL: "no NOUN KEY at
	 * this node", "NOUN KEY was erased ...: its value is kept nowhere"). */
	const char *msg_absent, *msg_erased;
	/* A type with the same key fields whose other fields are typed with
	 * this one's (e.g. a request's contact) but travel in its own feed,
	 * so that each audience gets only what it needs (may be NULL). */
	const struct record_type *companion;
	/* The Chinese names of its columns and enum words (fields.h struct
	 * record_zh; may be NULL). */
	const struct record_zh *zh;

	/* --- CSV import (node/domain, domain_import) --- */

	/* The type's own reader of one CSV row, faster than the field table and
	 * with its own wording (member): fills m, a zeroed message of the type
	 * whose strings may then point into cell, from cell[i], the text of
	 * fields[i] (NULL: no such column), and checks it as input unless
	 * checked (the row was checked once already: it need only read the
	 * same); *key: the record's key as record_key gives it (a string of m
	 * or cell: no key built per row). Its rules must not need the store: a type with a reader and no
	 * companion is imported by the bulk writer (domain.h). NULL: the field
	 * table reads rows. */
	int (*import_row)(ProtobufCMessage *m, const char *const *cell, bool checked, const char **key,
			  struct err *e);
	/* The type's wording of import messages (NULL: the engine's): the
	 * columns a header may have, after "unknown column"; what a header
	 * lacking a required column is told; a row with another number of cells
	 * (printf of its cells, "" or "s" for them, the header's); a key twice in
	 * the file (printf of the key, the line it was first on). */
	const char *msg_columns, *msg_required, *msg_row_cells, *msg_duplicate;

	/* --- report figures and residues (node/report; docs/HACKING.md) --- */

	/* Adds what one value of this type counts for c->period to c->f, by
	 * field (FIGURE_ADD, FIGURE_APPEND); NULL: no figure reads the type. */
	void (*figures)(struct figures_ctx *c, const ProtobufCMessage *m);
	/* Set for a type whose figures count records the unit received from
	 * above (notices), not its own: they are counted only from state, never
	 * when the level above recomputes a report (which leaves these figures
	 * zero, lists them last and does not compare them). The names of the
	 * Figures fields it fills, NULL-terminated. */
	const char *const *figures_received;
	/* Figures this type fills that may be negative (points); every other
	 * figure is at least 0. NULL-terminated names, or NULL. */
	const char *const *figures_signed;
	/* Figures derived from others for the JSON listing (a rate, a median):
	 * adds them to o (may be NULL). */
	void (*figures_json)(const Strata__Figures *f, json_t *o);
	/* The residue an erase request keeps of a value (residue.c): the names
	 * of the fields its figures read, NULL-terminated; "name#" keeps only
	 * how many values a repeated field holds; a message field keeps that
	 * message's type's residue. NULL: figures read nothing of it. */
	const char *const *residue;
};

/* Registers the record type NAME (a `const struct record_type` defined just
 * above, at file scope in node/records/): node/meson.build compiles every
 * file of node/records and generates the registry (record_types.h, by
 * node/records/registry_gen.sh) from these lines, in ORDER (a positive
 * number, unique; it is the order of record_types() and of --help). */
#define RECORD_REGISTER(order, name)                                                                               \
	_Static_assert((order) > 0 && sizeof(name) > 0, "RECORD_REGISTER(order > 0, a record type)")

/* The registered type of a collection, or NULL. */
const struct record_type *record_type_find(const char *collection);

/* Every registered type; *n receives how many. */
const struct record_type *const *record_types(size_t *n);

/* Decodes VALUE as COLLECTION's message and validates it under KEY, and
 * checks the collection travels in FEED. 0, or -EINVAL with a reason. */
int record_check(const char *collection, const char *feed, const uint8_t *key, size_t key_len,
		 const uint8_t *value, size_t value_len, struct err *e) WUR;

/* --- the generic record engine (fields.c) --- */

/* A new, empty message of type t (record_free frees it). */
ProtobufCMessage *record_new(const struct record_type *t);
void record_free(ProtobufCMessage *m);

/* The field of t called name, or NULL. */
const struct record_field *record_field_find(const struct record_type *t, const char *name);

/* The field of t whose column is name: its English name or a Chinese one
 * (t->zh), or NULL. */
const struct record_field *record_field_named(const struct record_type *t, const char *name);

/* The Chinese name of field f (the first in t->zh), or NULL. */
const char *record_field_zh(const struct record_type *t, const struct record_field *f);

/* The Chinese of enum field f's English word, or NULL. */
const char *record_enum_zh(const struct record_type *t, const struct record_field *f, const char *word);

/* Input as people write it, in the form the engine reads: a Chinese enum
 * word as its English word; a date written 2026/3/5, 2026-3-5, 2026.3.5 or
 * 2026年3月5日 as 2026-03-05, a month 2026/3, 2026-3 or 2026年3月 as
 * 2026-03. Returns text itself when it is already so (or not such a form:
 * the field's check then says what is wrong), else buf (cap bytes:
 * RECORD_DATE_SIZE or more) holding it. record_set applies it; a type's own
 * row reader (member) gets its cells through it. */
const char *record_input_text(const struct record_type *t, const struct record_field *f, const char *text, char *buf,
			      size_t cap);
#define RECORD_INPUT_SIZE 64 /* buf for record_input_text: an English enum word or a date */

/* An amount in yuan ("12.5", "12.50", "12": digits, at most 2 decimals)
 * as fen. -EINVAL naming field and what is wrong (more than 2 decimals,
 * negative, not a number, beyond max fen). */
int record_yuan_parse(const char *field, const char *text, long long max, int64_t *fen, struct err *e) WUR;

/* fen as yuan, "12.50" (a minus sign before a negative amount). */
#define RECORD_YUAN_SIZE 32
void record_yuan_text(int64_t fen, char out[RECORD_YUAN_SIZE]);

/* Sets field f of m from text ("" clears an optional field; a FIELD_NOTES
 * value is appended; FIELD_MEMBERS replaces the list), read through
 * record_input_text (Chinese enum words, dates with '/' ...); a FIELD_MONEY
 * value is yuan (record_yuan_parse). -EINVAL, -ENOMEM. */
int record_set(const struct record_type *t, ProtobufCMessage *m, const struct record_field *f, const char *text,
	       struct err *e) WUR;

/* Writes field f of m as text into buf (repeated values joined by ','; notes
 * by " | "). Returns 1 if it has a value, else 0 with buf empty. */
#define RECORD_TEXT_MAX 20000 /* the longest text a field may hold (a notice's body) */
#define RECORD_TEXT_SIZE (RECORD_TEXT_MAX + 1) /* one field as text, whole, with its NUL */
int record_get_text(const struct record_type *t, const ProtobufCMessage *m, const struct record_field *f, char *buf,
		    size_t cap);

/* The record's key: its FIELD_KEY fields joined by '/'. */
int record_key(const struct record_type *t, const ProtobufCMessage *m, char *buf, size_t cap, struct err *e) WUR;

/* Deterministic checks of every field, of the key it is stored under (if
 * key is not NULL) and of t->validate_extra; for a type with its own
 * validate (member), that instead of the field checks. */
int record_check_fields(const struct record_type *t, const ProtobufCMessage *m, const uint8_t *key, size_t key_len,
			struct err *e) WUR;

/* The checks of a record typed by a person at a unit whose keys are
 * OWNERS (its current key first, then the keys it rotated away from): the
 * above, no FIELD_PAST date in the future, every member field naming a
 * member of the unit's registry, written by any of its keys (-ESRCH), and
 * t->check_input (with owners[0]). */
int record_check_input(const struct record_type *t, const ProtobufCMessage *m, struct store_txn *txn,
		       const uint8_t (*owners)[KEY_BYTES], size_t n_owners, struct err *e) WUR;

/* The record as a JSON object of its fields (new reference). */
json_t *record_json(const struct record_type *t, const ProtobufCMessage *m);

/* --- a type's companion record (companion.c) --- */

/* The companion record of t under (owner, key) as txn holds it (caller
 * frees with record_free), or NULL: t has none, none is held, or erased. */
ProtobufCMessage *record_companion_get(const struct record_type *t, struct store_txn *txn, const uint8_t owner[KEY_BYTES],
				       const uint8_t *key, size_t key_len);

/* Adds the fields of companion record cm (may be NULL) that j lacks to j. */
void record_companion_json(const struct record_type *t, const ProtobufCMessage *cm, json_t *j);

/* How many fields of t's companion are not key fields (0 without one). */
size_t record_companion_cols(const struct record_type *t);

/* --- shared checks --- */

/* Is s a real calendar date written YYYY-MM-DD (years 1800..9999)? */
bool date_valid(const char *s);

/* A buffer for a date "YYYY-MM-DD" and its NUL. */
#define RECORD_DATE_SIZE 11

/* Today's date as YYYY-MM-DD (UTC) into out. */
void date_today(char out[RECORD_DATE_SIZE]);

/* Is s valid UTF-8 (shortest forms, no surrogates)? */
bool utf8_valid(const char *s, size_t len);

/* Is s valid UTF-8 with no control characters (C0 but tab, DEL, C1)? */
bool text_valid(const char *s, size_t len);

/* Is s 1..max bytes of [A-Za-z0-9._-] (a member id, a transfer id)? */
bool id_chars_valid(const char *s, size_t max);

/* Is s a phone number: 1..PHONE_MAX bytes of digits (at least 3), '-', ' ',
 * and a leading '+'? (member.c) */
#define PHONE_MAX 32
bool phone_valid(const char *s);

/* --- CSV --- */

/* Reads a CSV file (RFC 4180 quoting) with a header row. header() is
 * called once with the header; a non-zero return stops the read and is
 * returned. row() is called for every data row with its fields (trimmed,
 * NUL-terminated, already checked to be valid UTF-8 text without control
 * bytes other than TAB, so that no field holds a NUL and a field's C string
 * is all of it) and the line it starts on; its return value is ignored, so
 * that the caller can collect every bad row; a row with a field that is not
 * such text comes with r->bad set, naming the column (and that field empty). Empty lines and rows of empty cells
 * are skipped, a UTF-8 byte-order mark is ignored, CRLF ends a line, and a
 * file that is not UTF-8 is read as GB18030 or refused (csv_read_as). -ENOENT/-EIO reading the file, -EINVAL on a
 * syntax error or a bad header ("FILE:LINE: reason"). */
struct csv_row {
	size_t line;     /* 1-based line the row starts on */
	const char *bad; /* NULL, or why the row cannot be read (a field not text) */
	size_t n;        /* number of fields */
	char **fields;   /* n NUL-terminated fields, owned by the reader */
};
int csv_read(const char *path, int (*header)(const struct csv_row *r, void *arg, struct err *e),
	     int (*row)(const struct csv_row *r, void *arg), void *arg, struct err *e) WUR;
/* csv_read that also reads what Chinese Excel and WPS write for "CSV": a
 * file that is not UTF-8 is read as GB18030 (GBK, GB2312) through glibc
 * iconv, and *gb18030 (may be NULL) says so; a file in neither is refused
 * whole (-EINVAL, "FILE:LINE: ... neither UTF-8 nor GB18030 ...", naming
 * Excel's "CSV UTF-8" to save it as). Rows whose every cell is empty (blank
 * lines, the rows of commas Excel writes) are skipped wherever they are.
 * csv_read is this with gb18030 NULL. */
int csv_read_as(const char *path, int (*header)(const struct csv_row *r, void *arg, struct err *e),
		int (*row)(const struct csv_row *r, void *arg), void *arg, bool *gb18030, struct err *e) WUR;

/* --- members (collection "member", feed "up") --- */

extern const struct record_type record_member;

#define MEMBER_ID_MAX 64 /* bytes of a member id */

/* Checks input values typed by a person or read from CSV, beyond
 * member_validate: dates not in the future, birth before joining. */
int member_check_input(const Strata__Member *m, struct err *e) WUR;

/* A member as typed or read from CSV: NULL (or "") for an absent optional
 * field; status NULL means active. */
struct member_text {
	const char *id, *name, *category, *status, *joined, *phone, *birth, *gender, *address;
};

/* Fills *m (its strings point into t's strings) and checks it as input. */
int member_from_text(Strata__Member *m, const struct member_text *t, struct err *e) WUR;
/* The same without member_check_input: only for text already checked once
 * (an import's second reading, whose records must hash as they did). */
int member_fill_text(Strata__Member *m, const struct member_text *t, struct err *e) WUR;

/* Parses a category / status / gender word. -EINVAL with a reason. */
int member_category_parse(const char *s, Strata__MemberCategory *out, struct err *e) WUR;
int member_status_parse(const char *s, Strata__MemberStatus *out, struct err *e) WUR;
int member_gender_parse(const char *s, Strata__Gender *out, struct err *e) WUR;

/* The words of enum values, for printing. */
const char *member_category_word(Strata__MemberCategory c);
const char *member_status_word(Strata__MemberStatus s);
const char *member_gender_word(Strata__Gender g);

/* The member as a JSON object (new reference). */
json_t *member_to_json(const Strata__Member *m);

/* Prints the member as "key: value" lines. */
void member_print(FILE *f, const Strata__Member *m);

/* --- numeric ranges (docs/PROTOCOL.md "Record validation") ---
 *
 * Every number a record holds has a range, checked wherever a record is
 * validated (typed, imported or received), and every report figure is at
 * most FIGURE_MAX in size: 10^15, so that two of them never overflow an
 * int64_t, a sum that would pass FIGURE_MAX is refused (checked addition,
 * figures.c) rather than wrapped, and every figure is exact in a JSON
 * number (< 2^53). FIGURE_MAX is far beyond a real roll-up: all the dues
 * of 100 million members at the most a record holds are 10^16 fen in a
 * year, 8.3 * 10^14 in a month. */
#define RECORD_AMOUNT_MAX 100000000LL    /* fen in one dues record: 1,000,000 yuan */
#define RECORD_MINUTES_MAX (24 * 60)     /* minutes in one study record: a day */
#define RECORD_SCORE_MAX 100             /* an exam score */
#define RECORD_POINTS_MAX 1000000LL      /* points in one record, either sign */
#define RECORD_NUMBER_MAX 1000000000LL   /* any other whole number a field holds */
#define FIGURE_MAX 1000000000000000LL    /* any report figure, either sign: 10^15 */
#define FIGURE_CLOSE_DAYS_MAX 3000000    /* days to close one request: more than 1800..9999 */

/* Are all of a report's figures within their ranges? -EINVAL naming the
 * first one that is not. */
int figures_check(const Strata__Figures *f, const char *what, struct err *e) WUR;

/* --- report figures a type declares (tally.c; computed by node/report) ---
 *
 * A type's figures callback gets one decoded value and this context, and
 * adds to the figures by field, FIGURE_ADD(c, members_new, 1): checked
 * addition, the first overflow kept in c->ret. Figures of a new type are
 * `optional` fields of message Figures (strata.proto), encoded only when
 * not zero, so that reports without them keep their bytes. */
struct figures_ctx {
	Strata__Figures *f;    /* the figures being added to */
	const char *period;    /* YYYY-MM */
	const char *end;       /* "YYYY-MM-31": the period's last day as far as string order goes */
	const char *today;     /* YYYY-MM-DD; "9999-12-31" when the level above recomputes */
	const uint8_t *owner;  /* the unit's key (its current one) */
	const uint8_t *author; /* the key that wrote the value being counted */
	const char *joined;    /* the day the unit joined (YYYY-MM-DD), or NULL: unknown or recomputing */
	int ret;               /* 0, or the first -ERANGE / -ENOMEM of an add */
	/* The value of (collection, key) among the values being counted (the
	 * unit's own, at the same head), decoded (record_free), or NULL. */
	ProtobufCMessage *(*find)(struct figures_ctx *c, const char *collection, const char *key);
	/* The unit's own record (collection, key) in state, decoded
	 * (record_free), or NULL; always NULL when recomputing. */
	ProtobufCMessage *(*held)(struct figures_ctx *c, const char *collection, const char *key);
	void *source; /* the computation's (node/report/figures.c) */
};

void figure_add_u64(struct figures_ctx *c, size_t offset, uint64_t n);
void figure_add_i64(struct figures_ctx *c, size_t offset, int64_t n);
void figure_append_u32(struct figures_ctx *c, size_t offset, uint32_t v);

/* Adds n to the figure FIELD of c->f (an uint64 or int64 field). */
#define FIGURE_ADD(c, field, n)                                                                                    \
	_Generic(((Strata__Figures *)0)->field, uint64_t: figure_add_u64, int64_t: figure_add_i64)(                 \
		(c), offsetof(Strata__Figures, field), (n))
/* Appends v to the repeated uint32 figure FIELD of c->f. */
#define FIGURE_APPEND(c, field, v) figure_append_u32((c), offsetof(Strata__Figures, field), (v))

/* Is date (may be NULL) in c's period? */
bool figure_in_period(const struct figures_ctx *c, const char *date);

/* Days since 1970-01-01 of a valid YYYY-MM-DD. */
long date_days(const char *s);

/* --- the record types of the generic engine, one file each --- */

extern const struct record_type record_dues;    /* dues.c */

/* dues.c: the one rule of members_unpaid (member.c's figure) and of
 * `strata dues list --unpaid`: a member owes dues for a period ending end
 * ("YYYY-MM-31") when active and joined by then (dues_member_due), and is
 * unpaid when it owes and d (its dues record member/period, or NULL when
 * it has none or it was erased) has no paid date. dues_key: the key
 * "member/period" into out; its length or -E2BIG. */
bool dues_member_due(const Strata__Member *m, const char *end);
bool dues_unpaid(const Strata__Member *m, const Strata__Dues *d, const char *period, const char *end);
int dues_key(char *out, size_t cap, const char *member, const char *period) WUR;
extern const struct record_type record_meeting; /* meeting.c */
extern const struct record_type record_study;   /* study.c */
extern const struct record_type record_points;  /* points.c */
extern const struct record_type record_request; /* request.c */
extern const struct record_type record_request_contact; /* request.c: its companion */
extern const struct record_type record_notice;  /* notice.c */
extern const struct record_type record_ack;     /* notice.c */

/* notice.c: the rules the unit's notices_acked/notices_late figures and the
 * sender's `strata notice status` share. A notice counts for a unit unless
 * it was due before the unit joined (joined, due: YYYY-MM-DD; NULL due or
 * joined: it counts). How a unit answered a notice due on due (NULL: no
 * due date) given its ack date (NULL: none) and today. */
bool notice_counts_for(const char *due, const char *joined);
enum notice_answer {
	NOTICE_ACKED,      /* acknowledged by the due date (or with none) */
	NOTICE_ACKED_LATE, /* acknowledged after it */
	NOTICE_OPEN,       /* not acknowledged, not due yet (or no due date) */
	NOTICE_OVERDUE,    /* not acknowledged, due date passed */
};
enum notice_answer notice_answer(const char *due, const char *acked, const char *today);
const char *notice_answer_word(enum notice_answer a);
/* "<hex of sender>/<id>", the key of an ack, into out; its length or -E2BIG. */
int notice_ack_key(char *out, size_t cap, const uint8_t sender[KEY_BYTES], const char *id) WUR;
extern const struct record_type record_report;  /* report.c */
extern const struct record_type record_approval; /* report.c */

/* --- transfers (transfer_records.c): release (up), forward (down), acceptance (up),
 * outcome (down); see node/transfer/transfer.h --- */

extern const struct record_type record_release;
extern const struct record_type record_forward;
extern const struct record_type record_acceptance;
extern const struct record_type record_outcome;

#define TRANSFER_ID_MAX 80                         /* "<member id>-<YYYYMMDD>[-N]" */
#define TRANSFER_REASON_MAX 500 /* bytes of a release's or an answer's reason */
#define TRANSFER_KEY_MAX (KEY_HEX - 1 + 1 + TRANSFER_ID_MAX) /* "<old key hex>/<id>" */

/* Is s a transfer id: 1..TRANSFER_ID_MAX of [A-Za-z0-9._-]? */
bool transfer_id_valid(const char *s);

/* "<hex of from>/<id>", the key of a transfer's forward, acceptance and
 * outcome. -EINVAL for an invalid id. */
int transfer_key(char out[TRANSFER_KEY_MAX + 1], const uint8_t from[KEY_BYTES], const char *id) WUR;

/* --- certificates (collection "cert", feed "trust", key = subject) --- */

extern const struct record_type record_cert;

/* Feed names, org paths, roles and what a certificate allows:
 * protocol/trust_rules.h (included above). */

/* --- key lifecycle (revocation.c): collection "revocation" (key = the
 * revoked key) and "rotation" (key = the new key), feed "trust" --- */

extern const struct record_type record_revocation;
extern const struct record_type record_rotation;

/* The bytes a rotation proof signs: rotation_proof_message,
 * protocol/trust_rules.h. */

/* --- erase requests (erase_request.c): collection "erase", in the feed of the
 * record it names, key "<collection>/<record key>" --- */

extern const struct record_type record_erase;

/* Splits an erase key into the collection it names (checked: known, not a
 * trust record, not an erase) and the record key (*rec_key points into
 * key). -EINVAL with a reason. */
int erase_key_split(const uint8_t *key, size_t key_len, char collection[LIMIT_NAME_BYTES + 1],
		    const uint8_t **rec_key, size_t *rec_len, struct err *e) WUR;

/* Writes "<collection>/<key>" NUL into out; its length, or -E2BIG when it
 * would pass LIMIT_KEY_BYTES or cap. */
int erase_key_make(char *out, size_t cap, const char *collection, const uint8_t *key, size_t key_len,
		   struct err *e) WUR;

/* --- residues of erased values (residue.c) --- */

/* The residue of a COLLECTION value: the same message with only the fields
 * the standard figures read (node/report/figures.c) kept and every other
 * field cleared (required strings empty), packed into *out (malloc'd). 1
 * with a residue, 0 for a collection no figure reads (*out NULL), -EINVAL
 * when the value does not decode, -ENOMEM. An erase request carries the
 * residues of the values it erases, so reports stay checkable. */
int record_residue(const char *collection, const uint8_t *value, size_t len, uint8_t **out, size_t *out_len,
		   struct err *e) WUR;

/* Whether the figures read COLLECTION's values (it has a residue). */
bool record_has_residue(const char *collection);

#endif
