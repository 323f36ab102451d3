/* SPDX-License-Identifier: MIT */
/* Protobuf wire checks, for the decoders of protocol/ only (pb_wire.c). */
#ifndef STRATA_PB_WIRE_H
#define STRATA_PB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Walks the top level of a protobuf message without allocating and counts
 * the occurrences of field `want`. -1 with *bad_at set if the bytes are not
 * a sequence of well-formed fields (groups included: protobuf-c refuses
 * them too). */
int pb_wire_count(const uint8_t *p, size_t len, uint32_t want, size_t *count, size_t *bad_at);

/* 0 if packing msg gives exactly want; else the offset of the first
 * difference in *diff_at. */
int pb_canonical(const ProtobufCMessage *msg, const uint8_t *want, size_t len, size_t *diff_at);

#endif
