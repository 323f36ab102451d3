/* SPDX-License-Identifier: MIT */
/* Bundle files written by the bench tools (bench_bundle.h). */
#include <errno.h>
#include <stdlib.h>

#include "bench_bundle.h"
#include "crypto/crypto.h"

int bench_put_record(FILE *f, const uint8_t *data, size_t len)
{
	uint8_t be[4];

	be32_put(be, (uint32_t)len);
	return fwrite(be, 1, 4, f) == 4 && fwrite(data, 1, len, f) == len ? 0 : -EIO;
}

int bench_put_frame(FILE *f, const Strata__Frame *fr)
{
	size_t len = strata__frame__get_packed_size(fr);
	uint8_t *buf = malloc(len ? len : 1);
	int ret = -ENOMEM;

	if (buf) {
		strata__frame__pack(fr, buf);
		ret = bench_put_record(f, buf, len);
		free(buf);
	}
	return ret;
}

int bench_put_entries(FILE *f, ProtobufCBinaryData *v, size_t n, uint64_t *total)
{
	Strata__Entries en = STRATA__ENTRIES__INIT;
	Strata__Frame m = STRATA__FRAME__INIT;

	if (!n)
		return 0;
	*total += n;
	en.batch = *total;
	en.n_envelopes = n;
	en.envelopes = v;
	m.msg_case = STRATA__FRAME__MSG_ENTRIES;
	m.entries = &en;
	return bench_put_frame(f, &m);
}
