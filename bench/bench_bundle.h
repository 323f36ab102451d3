/* SPDX-License-Identifier: MIT */
/*
 * Bundle files written by the bench tools (gen_bundle, gen_rollup,
 * bench-scale) in the format node/bundle writes (docs/PROTOCOL.md
 * "Bundles"): length-prefixed records, Entries frames whose batch is the
 * running count of entries.
 */
#ifndef STRATA_BENCH_BUNDLE_H
#define STRATA_BENCH_BUNDLE_H

#include <stdint.h>
#include <stdio.h>

#include "protocol/protocol.h"

/* One record: its length (4 bytes, big-endian), then DATA. 0 or -EIO. */
int bench_put_record(FILE *f, const uint8_t *data, size_t len);
/* One Frame as a record. 0, -ENOMEM or -EIO. */
int bench_put_frame(FILE *f, const Strata__Frame *fr);
/* The N envelopes V as one Entries frame; *TOTAL, the entries written
 * before, grows by N and is the frame's batch. The envelopes stay the
 * caller's. 0 (nothing written when N is 0), -ENOMEM or -EIO. */
int bench_put_entries(FILE *f, ProtobufCBinaryData *v, size_t n, uint64_t *total);

#endif
