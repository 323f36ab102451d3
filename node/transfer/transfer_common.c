/* SPDX-License-Identifier: MIT */
/*
 * What every transfer step shares (transfer_internal.h): reading a unit's
 * records whichever of its keys wrote them, the hash of the entry that wrote
 * one, writing a record, the checks of a date and a reason given by a person.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/transfer/transfer_internal.h"

#define NOTE_SIZE 1024 /* one progress line for transfer_note_fn, with its NUL */

void transfer_note(transfer_note_fn note, void *arg, const char *fmt, ...)
{
	char msg[NOTE_SIZE];
	va_list ap;

	if (!note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	note(arg, msg);
}

bool transfer_same(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, KEY_BYTES) == 0;
}

bool transfer_key_zero(const uint8_t *key)
{
	static const uint8_t zero[KEY_BYTES];

	return memcmp(key, zero, KEY_BYTES) == 0;
}

void transfer_name_of(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], char out[NODE_NAME_SIZE])
{
	if (node_key_name(n, t, key, out) < 0) {
		hex_encode(out, key, 8);
		strcat(out, "…");
	}
}

/* Reads (collection, key) of the unit owner belongs to, whichever of its
 * keys wrote it (node_key_chain: a unit keeps its records across key
 * rotations); the key that did into *by (may be NULL). As store_state_get. */
static int unit_get(struct store_txn *t, const char *collection, const uint8_t owner[KEY_BYTES], const char *key,
		    const uint8_t **v, size_t *vl, struct store_origin *o, uint8_t *by, struct err *e)
{
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES];
	size_t nkeys = node_key_chain(t, owner, keys, NODE_KEYS_MAX);
	int ret = -ENOENT;

	for (size_t i = 0; i < nkeys && ret == -ENOENT; i++) {
		memset(e, 0, sizeof *e);
		ret = store_state_get(t, collection, keys[i], (const uint8_t *)key, strlen(key), v, vl, o, e);
		if (ret == 0 && by)
			memcpy(by, keys[i], KEY_BYTES);
	}
	return ret;
}

/* Reads and decodes (collection, owner, key). -ENOENT if absent. */
int transfer_get_rec(struct store_txn *t, const struct record_type *rt, const uint8_t owner[KEY_BYTES], const char *key,
		     void **out, struct store_origin *o, struct err *e)
{
	const uint8_t *v;
	size_t vl;
	struct err why = {0};
	int ret = unit_get(t, rt->collection, owner, key, &v, &vl, o, NULL, &why);

	*out = NULL;
	if (ret < 0) {
		if (ret != -ENOENT)
			err_set(e, "%s", why.msg);
		return ret;
	}
	if (!v || !(*out = protobuf_c_message_unpack(rt->descriptor, NULL, vl, v))) {
		err_set(e, "the stored %s %s does not decode (erased?); run strata verify", err_gettext(rt->noun), key);
		return -EIO;
	}
	return 0;
}

void transfer_free_rec(void *m)
{
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

bool transfer_has_rec(struct store_txn *t, const char *collection, const uint8_t owner[KEY_BYTES], const char *key)
{
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};

	return unit_get(t, collection, owner, key, &v, &vl, NULL, NULL, &ignore) == 0;
}

/* The hash of the entry that last wrote (collection, owner, key). */
int transfer_entry_hash(struct store_txn *t, const char *collection, const uint8_t owner[KEY_BYTES], const char *key,
			uint8_t hash[HASH_BYTES], struct err *e)
{
	const uint8_t *v, *b;
	size_t vl, bl;
	struct store_origin o;
	uint8_t by[KEY_BYTES];
	int ret = unit_get(t, collection, owner, key, &v, &vl, &o, by, e);

	if (ret < 0)
		return ret;
	return store_log_get(t, by, o.feed, o.seq, &b, &bl, hash, e);
}

int transfer_put_msg(struct node_writer *w, const char *collection, const char *key, const ProtobufCMessage *m,
		     struct err *e)
{
	return node_writer_put_msg(w, collection, (const uint8_t *)key, strlen(key), m, e);
}

/* node_writer_begin, leaving e empty on success (a feed's first entry
 * leaves a "no feed" note in it, and err_set keeps the first message). */
int transfer_begin(struct node *n, const char *feed, struct node_writer **w, struct err *e)
{
	int ret = node_writer_begin(n, feed, w, e);

	if (ret == 0)
		memset(e, 0, sizeof *e);
	return ret;
}

/* Splits "<hex>/<id>" into the old branch's key and the id. */
int transfer_split_key(const uint8_t *key, size_t len, uint8_t from[KEY_BYTES], char id[TRANSFER_ID_MAX + 1])
{
	char hex[KEY_HEX];

	if (len < KEY_HEX + 1 || len > TRANSFER_KEY_MAX || key[KEY_HEX - 1] != '/')
		return -EINVAL;
	memcpy(hex, key, KEY_HEX - 1);
	hex[KEY_HEX - 1] = '\0';
	memcpy(id, key + KEY_HEX, len - KEY_HEX);
	id[len - KEY_HEX] = '\0';
	return hex_decode(from, KEY_BYTES, hex) < 0 || !transfer_id_valid(id) ? -EINVAL : 0;
}

int transfer_check_date(const char *given, char date[RECORD_DATE_SIZE], struct err *e)
{
	char today[RECORD_DATE_SIZE];

	date_today(today);
	snprintf(date, RECORD_DATE_SIZE, "%s", given ? given : today);
	if (!date_valid(date) || strlen(given ? given : today) != RECORD_DATE_SIZE - 1) {
		err_set(e, "date \"%s\" is not a real date (YYYY-MM-DD)", given);
		return -EINVAL;
	}
	if (strcmp(date, today) > 0) {
		err_set(e, "date %s is in the future", date);
		return -EINVAL;
	}
	return 0;
}

int transfer_check_reason(const char *reason, struct err *e)
{
	if (reason && (!*reason || strlen(reason) > TRANSFER_REASON_MAX || !text_valid(reason, strlen(reason)))) {
		err_set(e, "reason must be 1-500 bytes of text");
		return -EINVAL;
	}
	return 0;
}

struct id_search {
	const char *id;
	bool step; /* keys "<hex>/<id>" (forward, acceptance, outcome), not "<id>" */
};

static int id_match(const struct store_record *r, void *arg)
{
	const struct id_search *q = arg;
	size_t len = strlen(q->id);

	if (!q->step)
		return r->key_len == len && memcmp(r->key, q->id, len) == 0;
	return r->key_len == KEY_HEX + len && r->key[KEY_HEX - 1] == '/' && memcmp(r->key + KEY_HEX, q->id, len) == 0;
}

bool transfer_id_held(struct store_txn *t, const char *id)
{
	const char *const steps[] = {record_forward.collection, record_acceptance.collection,
				     record_outcome.collection};
	struct id_search q = {.id = id};
	struct err ignore = {0};

	if (store_state_each(t, record_release.collection, NULL, id_match, &q, &ignore) == 1)
		return true;
	q.step = true;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (store_state_each(t, steps[i], NULL, id_match, &q, &ignore) == 1)
			return true;
	return false;
}
