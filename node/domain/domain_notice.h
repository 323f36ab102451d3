/* SPDX-License-Identifier: MIT */
/*
 * domain: notices by name (node/domain/domain_notice.c). The contract of
 * domain.h holds for every function here: nothing printed, results as data
 * and a sentence in struct err, 0 or a negative errno.
 *
 * A notice is stored under the key of the node that sent it; an ack names
 * that key in 64 hex (its signed bytes keep that form). A person names the
 * sender by its org path instead: these functions find the key.
 */
#ifndef STRATA_DOMAIN_NOTICE_H
#define STRATA_DOMAIN_NOTICE_H

#include "node/core/node.h"
#include "node/domain/domain.h"

#define DOMAIN_NOTICE_TITLE_SIZE 256 /* a notice's title (at most 200 bytes, notice.c) and its NUL */

/* Acknowledges notice ID received from FROM (the sender's org path, or its
 * key in 64 hex for scripts) on date ACKED (NULL: today): resolves FROM
 * among the senders of the notices this node holds and writes the ack
 * (record_ack: sender = that key in hex) as domain_record_add does; fills
 * *out. -ESRCH naming FROM when no notice ID from FROM is held here (and
 * who sent a notice ID, if anyone did), -EINVAL for a FROM that is neither
 * an org path nor a key, or a bad date; -EEXIST when already acknowledged;
 * otherwise as domain_record_add. */
int domain_notice_ack(const char *dir, const char *from, const char *id, const char *acked, struct domain_record *out,
		      struct err *e) WUR;

/* A notice this unit received from above, with its answer. */
struct domain_notice_row {
	const Strata__Notice *notice;
	char from[NODE_NAME_SIZE];    /* the sender's org path (its key's first bytes in hex if unknown) */
	char from_hex[KEY_HEX];       /* the sender's key */
	char acked[RECORD_DATE_SIZE]; /* the date of this unit's ack, "" without one */
	enum notice_answer answer;    /* notice_answer of due, acked, today */
	bool counts;                  /* false: due before this unit joined (notice_counts_for) */
};

/* Calls fn for every notice this unit received (every notice held here not
 * written by one of its own keys), with unacked only those it has not
 * acknowledged (with any of its keys), by sender then id; after a first
 * call with r NULL once the store is open. fn's non-zero return stops the
 * walk and is returned; *count: how many fn saw. Writes nothing; needs no
 * key file. */
int domain_notice_received(const char *dir, bool unacked, int (*fn)(const struct domain_notice_row *r, void *arg),
			   void *arg, size_t *count, struct err *e) WUR;

/* One unit below the sender and how it answered a notice. */
struct domain_notice_unit {
	char name[NODE_NAME_SIZE];
	char hex[KEY_HEX];              /* its current key */
	char joined[RECORD_DATE_SIZE];  /* node_unit_joined, "" if unknown */
	char acked[RECORD_DATE_SIZE];   /* "" without an ack */
	bool peer;                      /* a peer the notice is shared with */
	bool expected;                  /* counted: joined by the due date and not revoked */
	const char *why;                /* !expected: "joined after the due date", "revoked" */
	enum notice_answer answer;
};

/* The sender's view of its own notice: which units were expected to
 * acknowledge it and how each answered. */
struct domain_notice_status {
	char id[LIMIT_KEY_BYTES + 1];
	char title[DOMAIN_NOTICE_TITLE_SIZE];
	char due[RECORD_DATE_SIZE];     /* "" without a due date */
	char today[RECORD_DATE_SIZE];
	struct domain_notice_unit *units; /* by org path */
	size_t n;
	size_t expected, acked, acked_late, open, overdue; /* counts among the expected units */
};

/* Fills *s for this unit's notice ID. Expected are the units below this one
 * (every level; certified as children, with a chain of certificates up to
 * one of this unit's keys) and the peers its agreements share notices with
 * (certificate receive names "notice"), unless revoked (not by rotation: a
 * rotated unit goes by its current key and its acks by any of its keys
 * count) or joined (node_unit_joined) after the notice's due date: those
 * are listed with expected false and why. A notice without a due date
 * expects every such unit held now. Acks are those that reached this
 * node. -ESRCH when this unit sent no notice ID. Free with
 * domain_notice_status_release. Writes nothing; needs no key file. */
int domain_notice_status(const char *dir, const char *id, struct domain_notice_status *s, struct err *e) WUR;
void domain_notice_status_release(struct domain_notice_status *s);

/* The status as JSON (new reference): id, title, due, counts and "units". */
json_t *domain_notice_status_json(const struct domain_notice_status *s);

#endif
