/* SPDX-License-Identifier: MIT */
/*
 * Erasure: an envelope re-framed without one op's value: the whole Value
 * message goes, its data and its salt (the salt opens the op's
 * commitment, so it must not outlive the value). Only the frame is
 * re-encoded; the body and signature bytes are carried over exactly, so the
 * signature, the entry hash and every chain through it still verify.
 */
#include <errno.h>
#include <stdlib.h>

#include "protocol/protocol.h"

int changeset_strip_value(const struct changeset *cs, size_t op, uint8_t **out, size_t *out_len, struct err *e)
{
	Strata__Value *vals = NULL, **ptrs = NULL;
	uint8_t *buf = NULL;
	size_t n = 0;
	int ret = -ENOENT;

	if (op >= cs->n_ops || !cs->ops[op].value) {
		err_set(e, "envelope: op %zu has no value to strip", op);
		goto out;
	}
	ret = -ENOMEM;
	if (!(vals = calloc(cs->n_ops, sizeof *vals)) || !(ptrs = calloc(cs->n_ops, sizeof *ptrs))) {
		err_set(e, "envelope: out of memory");
		goto out;
	}
	/* Decoding made sure values are in op order and name puts only, so
	 * walking the ops reproduces the frame minus the one value. */
	for (size_t i = 0; i < cs->n_ops; i++) {
		if (i == op || !cs->ops[i].value)
			continue;
		strata__value__init(&vals[n]);
		vals[n].op = (uint32_t)i;
		vals[n].data.data = (uint8_t *)cs->ops[i].value;
		vals[n].data.len = cs->ops[i].value_len;
		if (cs->ops[i].salt) {
			vals[n].has_salt = 1;
			vals[n].salt.data = (uint8_t *)cs->ops[i].salt;
			vals[n].salt.len = SALT_BYTES;
		}
		ptrs[n] = &vals[n];
		n++;
	}
	Strata__Envelope env = STRATA__ENVELOPE__INIT;
	env.body.data = (uint8_t *)cs->body;
	env.body.len = cs->body_len;
	env.signature.data = (uint8_t *)cs->signature;
	env.signature.len = SIG_BYTES;
	env.n_values = n;
	env.values = ptrs;
	size_t len = strata__envelope__get_packed_size(&env);
	if (!(buf = malloc(len))) {
		err_set(e, "envelope: out of memory");
		goto out;
	}
	strata__envelope__pack(&env, buf);
	*out = buf;
	*out_len = len;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	free(ptrs);
	free(vals);
	return ret;
}
