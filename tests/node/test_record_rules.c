/* SPDX-License-Identifier: MIT */
/*
 * record_check's rules as docs/PROTOCOL.md "Record validation, per
 * collection" states them, for the rules that spec text pins down and a
 * second implementation could get wrong: an ack names its sender in
 * lowercase hex (the form every reader looks it up by), a report's child
 * heads are entries of report feeds, an optional string present but empty
 * is refused, and a record is stored under exactly the key its fields give.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"

#define SENDER_LOWER "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
#define SENDER_UPPER "8A88E3DD7409F195FD52DB2D3CBA5D72CA6709BF1D94121BF3748801B40F6F5C"
#define VALUE_MAX 4096

/* record_check of message m under key, in feed. */
static int check(const char *collection, const char *feed, const char *key, const ProtobufCMessage *m,
		 struct err *e)
{
	uint8_t buf[VALUE_MAX];
	size_t len;

	cr_assert(protobuf_c_message_get_packed_size(m) <= sizeof buf);
	len = protobuf_c_message_pack(m, buf);
	memset(e, 0, sizeof *e);
	return record_check(collection, feed, (const uint8_t *)key, strlen(key), buf, len, e);
}

Test(record_rules, ack_sender_lowercase)
{
	Strata__NoticeAck a = STRATA__NOTICE_ACK__INIT;
	struct err e;

	a.sender = SENDER_LOWER;
	a.notice = "N1";
	a.acked = "2026-03-05";
	cr_assert_eq(check("ack", "report", SENDER_LOWER "/N1", &a.base, &e), 0, "%s", e.msg);
	/* the same key in capitals: a valid key, but no reader would find it */
	a.sender = SENDER_UPPER;
	cr_assert_eq(check("ack", "report", SENDER_UPPER "/N1", &a.base, &e), -EINVAL);
	cr_assert(strstr(e.msg, "lowercase"), "%s", e.msg);
}

Test(record_rules, report_children_are_report_entries)
{
	Strata__Figures f = STRATA__FIGURES__INIT;
	Strata__Report r = STRATA__REPORT__INIT;
	Strata__FeedHead child = STRATA__FEED_HEAD__INIT, *children[] = {&child};
	uint8_t key[KEY_BYTES] = {1};
	struct err e;

	r.period = "2026-03";
	r.own = r.total = &f;
	child.author = (ProtobufCBinaryData){KEY_BYTES, key};
	child.feed = "report";
	child.seq = 4;
	r.n_children = 1;
	r.children = children;
	cr_assert_eq(check("report", "report", "2026-03", &r.base, &e), 0, "%s", e.msg);
	child.feed = "up"; /* a known feed, but not where a child's report is */
	cr_assert_eq(check("report", "report", "2026-03", &r.base, &e), -EINVAL);
	cr_assert(strstr(e.msg, "child report 0"), "%s", e.msg);
}

Test(record_rules, optional_present_empty)
{
	Strata__Dues d = STRATA__DUES__INIT;
	struct err e;

	d.member = "M1";
	d.period = "2026-03";
	d.amount = 5000;
	cr_assert_eq(check("dues", "up", "M1/2026-03", &d.base, &e), 0, "%s", e.msg);
	d.paid = ""; /* present, empty: not "absent" */
	cr_assert_eq(check("dues", "up", "M1/2026-03", &d.base, &e), -EINVAL);
	d.paid = "2026-03-05";
	d.method = "";
	cr_assert_eq(check("dues", "up", "M1/2026-03", &d.base, &e), -EINVAL);
	d.method = "cash";
	cr_assert_eq(check("dues", "up", "M1/2026-03", &d.base, &e), 0, "%s", e.msg);
}

Test(record_rules, key_from_fields)
{
	Strata__Points p = STRATA__POINTS__INIT;
	struct err e;

	p.member = "M1";
	p.period = "2026-03";
	p.points = -5;
	p.reason = "late";
	cr_assert_eq(check("points", "up", "M1/2026-03", &p.base, &e), 0, "%s", e.msg);
	cr_assert_eq(check("points", "up", "M1/2026-04", &p.base, &e), -EINVAL);
	cr_assert_eq(check("points", "down", "M1/2026-03", &p.base, &e), -EINVAL, "a collection travels in its feed");
	p.points = -1000001; /* beyond -RECORD_POINTS_MAX */
	cr_assert_eq(check("points", "up", "M1/2026-03", &p.base, &e), -EINVAL);
}

/* A forward's from_name (field 11, issue 16) follows to_name's rule: absent
 * (a forward written before it), or an org path. */
Test(record_rules, forward_from_name)
{
	Strata__Forward f = STRATA__FORWARD__INIT;
	Strata__Member m = STRATA__MEMBER__INIT;
	uint8_t from[KEY_BYTES] = {1}, to[KEY_BYTES] = {2}, hash[HASH_BYTES] = {3};
	char key[TRANSFER_KEY_MAX + 1];
	struct err e;

	m.id = "M1";
	m.name = "林海燕";
	m.category = STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
	m.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
	m.joined = "2015-07-01";
	f.from = (ProtobufCBinaryData){KEY_BYTES, from};
	f.id = "M1-20260301";
	f.to_name = "xiamen/huli/jinshan";
	f.to = (ProtobufCBinaryData){KEY_BYTES, to};
	f.release_hash = (ProtobufCBinaryData){HASH_BYTES, hash};
	f.mode = STRATA__FORWARD_MODE__FORWARD_AUTO;
	f.member = &m;
	f.date = f.released = "2026-03-01";
	cr_assert_eq(transfer_key(key, from, f.id), 0);
	cr_assert_eq(check("forward", "down", key, &f.base, &e), 0, "%s", e.msg);
	f.from_name = "xiamen/siming/zhonghua";
	cr_assert_eq(check("forward", "down", key, &f.base, &e), 0, "%s", e.msg);
	f.from_name = "Xiamen Siming";
	cr_assert_eq(check("forward", "down", key, &f.base, &e), -EINVAL);
	cr_assert(strstr(e.msg, "is not an org path"), "%s", e.msg);
	f.from_name = "";
	cr_assert_eq(check("forward", "down", key, &f.base, &e), -EINVAL);
}
