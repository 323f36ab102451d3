/* SPDX-License-Identifier: MIT */
/*
 * The one check of accepted (locked) periods for every write of records:
 * add, update and both importers call domain_lock_check (domain_internal.h
 * says the rule). Erasing is not a write of records: an erase request is
 * never refused by a lock (a person's right to be forgotten wins over the
 * acceptance of a month; the accepted report keeps its figures).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node/domain/domain_internal.h"
#include "node/report/report.h"

/* The period of field f of m ("YYYY-MM" of a date or a period), or false
 * when the field has no value or is not dated. */
static bool field_period(const struct record_type *t, const ProtobufCMessage *m, const struct record_field *f,
			 char period[REPORT_PERIOD_SIZE])
{
	char text[RECORD_DATE_SIZE + 1];

	if ((f->type != FIELD_DATE && f->type != FIELD_PERIOD) || record_get_text(t, m, f, text, sizeof text) <= 0 ||
	    strlen(text) < 7)
		return false;
	memcpy(period, text, 7);
	period[7] = '\0';
	return true;
}

int domain_lock_check(const struct report_locks *l, const struct record_type *t, const ProtobufCMessage *m,
		      struct err *e)
{
	char period[REPORT_PERIOD_SIZE], key[DOMAIN_MSG_CAP / 2], why[DOMAIN_MSG_CAP];
	const struct report_lock *k;
	struct err ignore = {0};

	if (!l || !l->n || !m)
		return 0;
	for (size_t i = 0; i < t->n_fields; i++) {
		if (!field_period(t, m, &t->fields[i], period) || !(k = report_locks_find(l, period)))
			continue;
		if (record_key(t, m, key, sizeof key, &ignore) < 0)
			key[0] = '\0';
		report_lock_text(k, why, sizeof why);
		err_set(e, "%s %s counts in %s (its %s): %s", err_gettext(t->noun), key, period, t->fields[i].name, why);
		return -EACCES;
	}
	return 0;
}

int domain_locks_read(struct node *n, struct report_locks *l, struct err *e)
{
	struct store_txn *t = NULL;
	int ret;

	memset(l, 0, sizeof *l);
	if ((ret = store_txn_begin(node_store(n), false, &t, e)) < 0)
		return ret;
	ret = report_locks_load(n, t, l, e);
	store_txn_abort(&t);
	return ret;
}
