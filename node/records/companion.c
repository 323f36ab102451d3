/* SPDX-License-Identifier: MIT */
/*
 * A record type's companion (struct record_type.companion): a record of its
 * own, under the same key, holding fields with a smaller audience (a
 * request's resident contact, in the private feed). Reading it beside its
 * record, for every front end.
 */
#include <string.h>

#include "node/records/records.h"

ProtobufCMessage *record_companion_get(const struct record_type *t, struct store_txn *txn, const uint8_t owner[KEY_BYTES],
				       const uint8_t *key, size_t key_len)
{
	const uint8_t *v;
	size_t vl;

	if (!t->companion || store_state_get(txn, t->companion->collection, owner, key, key_len, &v, &vl, NULL,
					     &(struct err){0}) < 0 || vl == 0)
		return NULL;
	return protobuf_c_message_unpack(t->companion->descriptor, NULL, vl, v);
}

void record_companion_json(const struct record_type *t, const ProtobufCMessage *cm, json_t *j)
{
	const char *k;
	json_t *cj, *v;

	if (!cm || !t->companion || !(cj = record_json(t->companion, cm)))
		return;
	json_object_foreach(cj, k, v)
		if (!json_object_get(j, k))
			json_object_set(j, k, v);
	json_decref(cj);
}

size_t record_companion_cols(const struct record_type *t)
{
	size_t n = 0;

	for (size_t i = 0; t->companion && i < t->companion->n_fields; i++)
		n += !(t->companion->fields[i].flags & FIELD_KEY);
	return n;
}
