/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the envelope decoder: anything that decodes is verified,
 * and stripping its first value must give an envelope that decodes to the
 * same signed body, or the target aborts.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void strip_first_value(const struct changeset *cs)
{
	for (size_t i = 0; i < cs->n_ops; i++) {
		if (!cs->ops[i].value)
			continue;
		uint8_t *out;
		size_t len;
		struct changeset *s = NULL;
		struct err e = {{0}};
		if (changeset_strip_value(cs, i, &out, &len, &e) < 0)
			abort();
		if (changeset_decode(&s, out, len, &e) < 0 || s->ops[i].value || s->body_len != cs->body_len ||
		    memcmp(s->body, cs->body, cs->body_len) != 0)
			abort();
		changeset_destroy(&s);
		free(out);
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static int ready;
	if (!ready) {
		if (keys_init() < 0)
			abort();
		ready = 1;
	}
	struct changeset *cs = NULL;
	struct err e = {{0}};
	if (changeset_decode(&cs, d, n, &e) == 0) {
		struct err ev = {{0}};
		if (changeset_verify(cs, &ev) == 0 && cs->n_ops > LIMIT_OPS)
			abort();
		strip_first_value(cs);
		changeset_destroy(&cs);
	} else if (!e.msg[0]) {
		abort(); /* every refusal has a reason */
	}
	return 0;
}
