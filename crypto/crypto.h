/* SPDX-License-Identifier: MIT */
/*
 * crypto: the bottom module of Strata. Node keys and key files, Ed25519
 * signatures with a domain prefix per message type, BLAKE2b-256, the
 * Ed25519 -> Curve25519 conversion used for ZeroMQ CURVE, hex codecs,
 * big-endian integers, and struct err, the error carrier every module
 * fills. Depends on libsodium only.
 */
#ifndef STRATA_CRYPTO_H
#define STRATA_CRYPTO_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define KEY_BYTES 32  /* Ed25519 public key: a node's id */
#define SEED_BYTES 32 /* Ed25519 seed: what a key file holds */
#define SIG_BYTES 64  /* Ed25519 signature */
#define HASH_BYTES 32 /* BLAKE2b-256 */
#define KEY_HEX 65    /* 64 lowercase hex characters and a NUL */

#define WUR __attribute__((warn_unused_result))

/* Signature domains: the bytes signed are the domain, one NUL, then the
 * message (docs/PROTOCOL.md). One domain per message type, so a signature
 * over one kind of message can never be replayed as another. */
#define DOMAIN_CHANGESET "strata/changeset/v1"
#define DOMAIN_CERT "strata/cert/v1"
#define DOMAIN_JOIN "strata/join/v1"
#define DOMAIN_ROTATE "strata/rotate/v1"

/* A human reason for a failure, filled once by the code that knows what
 * went wrong and printed by the caller. */
struct err {
	char msg[512];
};

/* The gettext domain of every message Strata prints (po/). */
#define ERR_TEXTDOMAIN "strata"
/* Marks a string in a table (a record type's summary, field help, msg_*
 * templates) for xgettext; it is translated where it is printed, with
 * err_gettext or the CLI's _(). */
#ifndef N_
#define N_(s) (s)
#endif
/* s in the language of ERR_TEXTDOMAIN (dgettext; s itself when the program
 * bound no catalog or it has no translation). */
const char *err_gettext(const char *s);

/* Sets e->msg from a printf format unless a reason is already there (the
 * first, innermost reason wins). NULL-safe. The format is translated first
 * (dgettext of ERR_TEXTDOMAIN: English unless the program bound the domain
 * and runs in a translated locale; crypto/err.c). */
void err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A failed system call's errno as a return code. The file system's
 * "permission denied" (EACCES, EPERM) becomes -EIO: callers read -EACCES
 * and -EPERM as refusals by Strata's own rules (exit 2), and a file the user
 * may not read or write is a system error (exit 4). */
static inline int err_os(int errnum)
{
	return errnum == EACCES || errnum == EPERM ? -EIO : -errnum;
}

/* Prepends "PREFIX: " to an existing reason, for callers that add context
 * such as a file name. NULL-safe. */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Initializes libsodium; safe to call more than once. 0, or -1 if the
 * library cannot start (no entropy source). */
int keys_init(void) WUR;

/* --- node keys --- */

/* An Ed25519 key pair whose secret half lives in sodium_malloc'd, locked
 * memory and is wiped on destroy. Opaque. */
struct keypair;

/* Makes a new random key pair. Caller owns *out (keypair_destroy). */
int keypair_generate(struct keypair **out, struct err *e) WUR;

/* Makes the key pair of a 32-byte seed (deterministic). Caller owns *out. */
int keypair_from_seed(struct keypair **out, const uint8_t seed[SEED_BYTES], struct err *e) WUR;

/* Writes the key pair's seed to PATH as one line of hex, created with mode
 * 0600; refuses to overwrite an existing file (-EEXIST). */
int keypair_save(const struct keypair *kp, const char *path, struct err *e) WUR;

/* Reads a key file written by keypair_save. Refuses (-EPERM) a file that
 * group or others may read or write, -ENOENT if missing, -EINVAL if it is
 * not a key file. Caller owns *out. */
int keypair_load(struct keypair **out, const char *path, struct err *e) WUR;

/* Wipes and frees *kp, sets *kp to NULL. NULL-safe. */
void keypair_destroy(struct keypair **kp);

/* The public key (32 bytes), owned by kp. */
const uint8_t *keypair_public(const struct keypair *kp);

/* Signs DOMAIN NUL MSG into sig. 0, or -ENOMEM. */
int keypair_sign(const struct keypair *kp, const char *domain, const uint8_t *msg, size_t len,
		 uint8_t sig[SIG_BYTES]) WUR;

/* Signs MSG itself, with no domain prefix, into sig: for formats whose
 * bytes are fixed by another specification (C2SP signed notes and
 * cosignatures, crypto/tlog.h), which start with bytes no domain-prefixed
 * message of Strata starts with. Use keypair_sign for Strata's own
 * messages. 0. */
int keypair_sign_raw(const struct keypair *kp, const uint8_t *msg, size_t len, uint8_t sig[SIG_BYTES]) WUR;

/* Verifies a signature made by keypair_sign_raw. 0 if valid, -EBADMSG. */
int sig_verify_raw(const uint8_t pk[KEY_BYTES], const uint8_t *msg, size_t len, const uint8_t sig[SIG_BYTES]) WUR;

/* The CURVE key pair of this node (Curve25519, converted from Ed25519).
 * curve_sk must be SEED_BYTES of memory the caller wipes after use. */
int keypair_curve(const struct keypair *kp, uint8_t curve_pk[KEY_BYTES], uint8_t curve_sk[KEY_BYTES]) WUR;

/* Verifies sig over DOMAIN NUL MSG by pk. 0 if valid, -EBADMSG if not. */
int sig_verify(const uint8_t pk[KEY_BYTES], const char *domain, const uint8_t *msg, size_t len,
	       const uint8_t sig[SIG_BYTES]) WUR;

/* Converts an Ed25519 public key to its Curve25519 form. -EINVAL if pk is
 * not a valid point. */
int key_to_curve(uint8_t curve_pk[KEY_BYTES], const uint8_t pk[KEY_BYTES]) WUR;

/* --- hashing --- */

/* BLAKE2b-256 of IN (unkeyed). */
void hash_blake2b(uint8_t out[HASH_BYTES], const uint8_t *in, size_t len);

/* --- printing untrusted text (escape.c) --- */

/* Each input byte becomes at most this many output bytes (\xNN). */
#define TEXT_ESCAPE_EXPANSION 4

/* Writes len bytes of untrusted text into out (cap bytes, NUL-terminated)
 * ready for a terminal or a log: printable UTF-8 as is; control bytes,
 * C1 controls, bidirectional overrides and invalid UTF-8 as \xNN per byte.
 * Cut at a whole character with "..." if it does not
 * fit (cap >= 4 * len + 1 always does). Returns the length written. */
size_t text_escape(char *out, size_t cap, const void *s, size_t len);

/* text_escape into one of 8 per-thread buffers of 1 KiB, for printf
 * arguments: esc(a), esc(b) in one call are both valid; the ninth call
 * reuses the first buffer. esc_n for bytes with a length (a record key).
 * NULL gives "(none)". */
const char *esc(const char *s);
const char *esc_n(const void *s, size_t len);

/* --- hex --- */

/* Writes 2*n lowercase hex characters and a NUL to out. */
void hex_encode(char *out, const uint8_t *in, size_t n);

/* Reads exactly 2*n hex characters (either case) from a NUL-terminated
 * string into out. -EINVAL on a wrong length or a non-hex character. */
int hex_decode(uint8_t *out, size_t n, const char *hex) WUR;

/* Shorthand: the 64-hex form of a 32-byte key into out[KEY_HEX]. */
void key_hex(char out[KEY_HEX], const uint8_t key[KEY_BYTES]);

/* --- byte order --- */

/* Big-endian integers in keys and values (sequence numbers, times,
 * lengths), so that LMDB's byte order is numeric order. The one copy of
 * these loops: every module reads and writes them through these. */
static inline void be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t be64_get(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline void be32_put(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint32_t be32_get(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = (v << 8) | p[i];
	return v;
}

#endif
