/* SPDX-License-Identifier: MIT */
/*
 * Reading the machine-readable vectors of docs/vectors/<topic>.json
 * (docs/PROTOCOL-vectors.md): { "description", "vectors": [ { "name",
 * "kind", inputs..., outputs... } ] }, every byte string lowercase hex.
 * Each helper fails the running Criterion test on a missing or malformed
 * field, so a test only states what it recomputes.
 */
#ifndef STRATA_TEST_VECTOR_FILE_H
#define STRATA_TEST_VECTOR_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The parsed file docs/vectors/TOPIC.json under STRATA_TEST_SRCDIR (json_decref). */
json_t *vf_load(const char *topic);

/* The vector called NAME of doc (borrowed). */
const json_t *vf_vector(const json_t *doc, const char *name);

/* Field FIELD of v (FIELD NULL: v itself, an element of an array): a string, an unsigned integer, lowercase hex decoded into
 * a malloc'd buffer (*len: its length; the caller frees). */
const char *vf_str(const json_t *v, const char *field);
uint64_t vf_u64(const json_t *v, const char *field);
uint8_t *vf_hex(const json_t *v, const char *field, size_t *len);
/* vf_hex of a field that must be exactly n bytes, into out. */
void vf_hex_n(const json_t *v, const char *field, uint8_t *out, size_t n);

/* Asserts that field FIELD of v is the hex of p (n bytes), naming the
 * vector and the field when it is not. */
void vf_assert_hex(const json_t *v, const char *field, const uint8_t *p, size_t n);
/* The same against the hex string want (what: its name in the message). */
void vf_assert_hex_is(const char *want, const char *what, const uint8_t *p, size_t n);

#endif
