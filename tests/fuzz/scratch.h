/* SPDX-License-Identifier: MIT */
/*
 * A scratch node for the fuzz targets that need a store (frame, bundle,
 * csv), and the fixed keys that their seed generator (gen_sync.c) signs
 * with: a root "r" that certified children "r/c" and "r/d" and a peer "p", holds an
 * unused invitation for "r/j", and whose parent link (for the target's
 * purposes) is the key of SCRATCH_PARENT. Everything is derived from
 * one-byte seeds, so seeds written once stay valid for every run.
 */
#ifndef STRATA_FUZZ_SCRATCH_H
#define STRATA_FUZZ_SCRATCH_H

#include <stdint.h>

#include "node/core/node.h"

enum scratch_key {
	SCRATCH_ROOT = 0x11,    /* the node itself, "r" */
	SCRATCH_CHILD = 0x22,   /* "r/c", certified by the root */
	SCRATCH_JOINER = 0x33,  /* the key that joins with the invitation for "r/j" */
	SCRATCH_PARENT = 0x44,  /* the key of the (socketless) parent link */
	SCRATCH_NEWKEY = 0x55,  /* the child's next key, in a Rotate */
	SCRATCH_INVITE = 0x66,  /* the invitation's one-time secret */
	SCRATCH_PEER = 0x77,    /* "p", a peer certified by the root */
	SCRATCH_ROTATOR = 0x78, /* "r/d", a child that asks for a rotation to SCRATCH_NEWKEY */
};

#define SCRATCH_ROOT_NAME "r"
#define SCRATCH_CHILD_NAME "r/c"
#define SCRATCH_JOINER_NAME "r/j"
#define SCRATCH_PEER_NAME "p"
#define SCRATCH_ROTATOR_NAME "r/d"

/* The key pair of one of the fixed seeds; aborts on failure. Caller owns. */
struct keypair *scratch_keypair(enum scratch_key k);

/* The public key of one of the fixed seeds into out. */
void scratch_public(enum scratch_key k, uint8_t out[KEY_BYTES]);

/* The invitation's throwaway CURVE public key (what ZAP would name). */
void scratch_invite_curve(uint8_t out[KEY_BYTES]);

/* The scratch node, made on the first call in a new temporary directory
 * (under /dev/shm when there is one: commits are then cheap) and closed
 * and removed at exit. Aborts if it cannot be made. */
struct node *scratch_node(void);

/* Closes the scratch node (keeping its directory; scratch_node() opens it
 * again), for a target that runs code opening the node itself: LMDB must
 * not have one environment open twice in one process. */
void scratch_close(void);

/* The scratch node's directory (valid after scratch_node()). */
const char *scratch_dir(void);

#endif
