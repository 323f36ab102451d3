/* SPDX-License-Identifier: MIT */
/*
 * The ZAP handler (RFC 27): decides at the CURVE handshake who may connect.
 * Admitted are the keys this node certified (its children, peers and
 * auditors, found in its own trust feed's state, or in the trust feed of a
 * key it rotated away from), unless revoked, and the throwaway key of
 * an unused, unexpired join token, which may do nothing but join. Everyone
 * else is refused before a single message of theirs is read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "node/sync/sync_internal.h"

struct find {
	const uint8_t *curve;
	uint8_t key[KEY_BYTES];
	bool found;
};

static int match_cert(const struct store_record *r, void *arg)
{
	struct find *f = arg;
	uint8_t curve[KEY_BYTES];

	if (r->key_len != KEY_BYTES || key_to_curve(curve, r->key) < 0)
		return 0;
	if (memcmp(curve, f->curve, KEY_BYTES) == 0) {
		memcpy(f->key, r->key, KEY_BYTES);
		f->found = true;
		return 1;
	}
	return 0;
}

/* Decides for one client CURVE key; writes the user id on success. */
static bool admit(struct daemon *d, const uint8_t curve[KEY_BYTES], char *user_id, size_t cap, char *why,
		  size_t why_cap)
{
	struct find f = {.curve = curve};
	struct store_txn *t = NULL;
	struct err e = {0};
	const uint8_t *v;
	size_t len;
	bool ok = false;

	if (store_txn_begin(node_store(d->n), false, &t, &e) < 0) {
		snprintf(why, why_cap, "store unavailable: %.200s", e.msg);
		return false;
	}
	{
		/* certificates issued by this node's key, or by a key it rotated away from */
		uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
		size_t nown = node_own_keys(d->n, t, own, NODE_KEYS_MAX);

		for (size_t i = 0; i < nown && !f.found; i++)
			if (store_state_each(t, "cert", own[i], match_cert, &f, &e) < 0) {
				snprintf(why, why_cap, "cannot read certificates: %.200s", e.msg);
				goto out;
			}
	}
	if (f.found && memcmp(f.key, node_id(d->n), KEY_BYTES) != 0) {
		char hex[KEY_HEX];

		if (node_revocation_text(d->n, t, f.key, node_now_ms(), why, why_cap) > 0)
			goto out;
		key_hex(hex, f.key);
		snprintf(user_id, cap, "key:%s", hex);
		ok = true;
		goto out;
	}
	if (store_index_get(t, "invite", curve, KEY_BYTES, &v, &len, &e) == 0) {
		Strata__Invite *inv = strata__invite__unpack(NULL, len, v);

		/* A used token is still admitted within its window: only the key it
		 * enrolled may use it again (sync_join_on_frame), to finish a join
		 * whose answer was lost. */
		if (!inv)
			snprintf(why, why_cap, "invitation record is malformed");
		else if (inv->expires_ms <= node_now_ms())
			snprintf(why, why_cap, "join token for %s has expired", inv->name);
		else {
			char hex[KEY_HEX];

			key_hex(hex, curve);
			snprintf(user_id, cap, "invite:%s", hex);
			ok = true;
		}
		if (inv)
			strata__invite__free_unpacked(inv, NULL);
		goto out;
	}
	snprintf(why, why_cap, "key not certified by this node and holding no join token");
out:
	store_txn_abort(&t);
	return ok;
}

void sync_zap_handle(struct daemon *d)
{
	zmq_msg_t part[8];
	int n = 0, more = 1;
	size_t more_len = sizeof more;
	char user_id[80] = "", why[300] = "", address[64] = "";
	bool ok = false;

	while (more && n < 8) {
		zmq_msg_init(&part[n]);
		if (zmq_msg_recv(&part[n], d->zap, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&part[n]);
			break;
		}
		n++;
		if (zmq_getsockopt(d->zap, ZMQ_RCVMORE, &more, &more_len) != 0)
			more = 0;
	}
	if (n < 7)
		goto out; /* not a ZAP request we understand: nothing to answer */
	snprintf(address, sizeof address, "%.*s", (int)zmq_msg_size(&part[3]), (char *)zmq_msg_data(&part[3]));
	if (zmq_msg_size(&part[5]) == 5 && memcmp(zmq_msg_data(&part[5]), "CURVE", 5) == 0 &&
	    zmq_msg_size(&part[6]) == KEY_BYTES)
		ok = admit(d, zmq_msg_data(&part[6]), user_id, sizeof user_id, why, sizeof why);
	else
		snprintf(why, sizeof why, "only CURVE connections are accepted");
	if (!ok) {
		char id[80];

		/* counted by address: a client making handshakes with a new
		 * random key each time is still one source */
		snprintf(id, sizeof id, "ip:%s", address);
		if (sync_refusal_allow(d, id, address[0] ? address : "a local connection", sync_clock_ms()))
			sync_log(d, "refused a connection from %s: %s", address[0] ? address : "a local connection", why);
	}
	zmq_send(d->zap, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(d->zap, zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), ZMQ_SNDMORE);
	zmq_send(d->zap, ok ? "200" : "400", 3, ZMQ_SNDMORE);
	zmq_send(d->zap, ok ? "OK" : why, ok ? 2 : strlen(why), ZMQ_SNDMORE);
	zmq_send(d->zap, user_id, strlen(user_id), ZMQ_SNDMORE);
	zmq_send(d->zap, "", 0, 0);
out:
	for (int i = 0; i < n; i++)
		zmq_msg_close(&part[i]);
}
