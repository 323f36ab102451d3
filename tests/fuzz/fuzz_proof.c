/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the issue 15 parsers of outside input: a signed
 * checkpoint note (note_parse: a link, a bundle, a --checkpoint or --since
 * file) and a proof file (audit_proof_check: strata audit FILE --root).
 * The first byte chooses; the rest is the input. A note that parses must
 * format and parse back to the same checkpoint and lines; a refusal has a
 * reason. A proof is checked against a zero root, then against the
 * author of its checkpoint (so a root's own proof goes deep).
 */
#include <stdlib.h>
#include <string.h>

#include "node/audit/proof.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void note(const uint8_t *d, size_t n)
{
	struct note a, b;
	struct err e = {{0}};
	char *text = malloc(NOTE_MAX);
	size_t len;

	if (!text)
		abort();
	if (note_parse((const char *)d, n, &a, &e) < 0) {
		if (!e.msg[0])
			abort();
		free(text);
		return;
	}
	if (a.cp.size < 1 || !a.n_sigs || a.n_sigs > NOTE_SIGS_MAX)
		abort();
	for (size_t i = 0; i < a.n_sigs; i++)
		(void)note_sig_verify(&a, i);
	if (note_format(&a, text, &len, &e) < 0 || note_parse(text, len, &b, &e) < 0)
		abort();
	if (memcmp(&a.cp, &b.cp, sizeof a.cp) != 0 || a.n_sigs != b.n_sigs)
		abort();
	free(text);
}

static void proof(const uint8_t *d, size_t n)
{
	uint8_t root[KEY_BYTES] = {0};
	struct audit_proof_info info;
	struct err e = {{0}};
	Strata__Proof *p;
	struct note nt;

	if (audit_proof_check(d, n, root, &info, &e) < 0 && !e.msg[0])
		abort();
	if (n < AUDIT_PROOF_MAGIC_LEN + 4 ||
	    !(p = strata__proof__unpack(NULL, n - AUDIT_PROOF_MAGIC_LEN - 4, d + AUDIT_PROOF_MAGIC_LEN + 4)))
		return;
	if (note_parse((const char *)p->checkpoint.data, p->checkpoint.len, &nt, NULL) == 0) {
		memset(&e, 0, sizeof e);
		if (audit_proof_check(d, n, nt.cp.author, &info, &e) < 0) {
			if (!e.msg[0])
				abort();
		} else if (info.seq < 1 || info.seq > info.size || info.n_path > TLOG_PATH_MAX) {
			abort();
		}
	}
	strata__proof__free_unpacked(p, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (keys_init() < 0)
		abort();
	if (n < 1)
		return 0;
	if (d[0] % 2)
		proof(d + 1, n - 1);
	else
		note(d + 1, n - 1);
	return 0;
}
