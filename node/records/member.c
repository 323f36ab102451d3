/* SPDX-License-Identifier: MIT */
/*
 * Members (collection "member", feed "up"): the registry of a branch. Key =
 * member id. Holds the deterministic validation that every receiving node
 * runs, the input checks for people, the words of the enums, and printing.
 */
#include <errno.h>
#include <string.h>

#include "node/records/records.h"

#define MEMBER_NAME_MAX 200
#define MEMBER_ADDRESS_MAX 300

static const char *const category_words[] = {[STRATA__MEMBER_CATEGORY__CATEGORY_FULL] = "full",
					      [STRATA__MEMBER_CATEGORY__CATEGORY_PROBATIONARY] =
						      "probationary"};
static const char *const status_words[] = {[STRATA__MEMBER_STATUS__STATUS_ACTIVE] = N_("active"),
					    [STRATA__MEMBER_STATUS__STATUS_LAPSED] = N_("lapsed"),
					    [STRATA__MEMBER_STATUS__STATUS_DECEASED] = N_("deceased"),
					    [STRATA__MEMBER_STATUS__STATUS_TRANSFERRED] = N_("transferred")};
static const char *const gender_words[] = {[STRATA__GENDER__GENDER_FEMALE] = "female",
					    [STRATA__GENDER__GENDER_MALE] = "male",
					    [STRATA__GENDER__GENDER_OTHER] = "other"};

#define NWORDS(a) (sizeof(a) / sizeof(a)[0])

static int word_parse(const char *s, const char *const *words, size_t n, const char *what,
		      const char *choices, int *out, struct err *e)
{
	for (size_t i = 1; s && i < n; i++)
		if (words[i] && strcmp(s, words[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	err_set(e, "%s \"%s\" is not one of %s", what, s ? s : "", choices);
	return -EINVAL;
}

int member_category_parse(const char *s, Strata__MemberCategory *out, struct err *e)
{
	int v = 0, ret = word_parse(s, category_words, NWORDS(category_words), "category",
				    "full, probationary", &v, e);
	*out = (Strata__MemberCategory)v;
	return ret;
}

int member_status_parse(const char *s, Strata__MemberStatus *out, struct err *e)
{
	int v = 0, ret = word_parse(s, status_words, NWORDS(status_words), "status",
				    "active, lapsed, deceased, transferred", &v, e);
	*out = (Strata__MemberStatus)v;
	return ret;
}

int member_gender_parse(const char *s, Strata__Gender *out, struct err *e)
{
	int v = 0, ret = word_parse(s, gender_words, NWORDS(gender_words), "gender",
				    "female, male, other", &v, e);
	*out = (Strata__Gender)v;
	return ret;
}

static const char *word(const char *const *words, size_t n, int v)
{
	return v > 0 && (size_t)v < n && words[v] ? words[v] : "unknown";
}

const char *member_category_word(Strata__MemberCategory c)
{
	return word(category_words, NWORDS(category_words), (int)c);
}

const char *member_status_word(Strata__MemberStatus s)
{
	return word(status_words, NWORDS(status_words), (int)s);
}

const char *member_gender_word(Strata__Gender g)
{
	return word(gender_words, NWORDS(gender_words), (int)g);
}

static bool id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MEMBER_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

bool phone_valid(const char *s)
{
	size_t n = strlen(s), digits = 0;

	if (n == 0 || n > PHONE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			digits++;
		else if (!(c == '+' && i == 0) && c != '-' && c != ' ')
			return false;
	}
	return digits >= 3;
}

/* Deterministic: the same record gives the same answer on every node. */
static int member_validate(const ProtobufCMessage *msg, const uint8_t *key, size_t key_len,
			   struct err *e)
{
	const Strata__Member *m = (const Strata__Member *)msg;
	size_t name_len = strlen(m->name);

	if (!id_valid(m->id)) {
		err_set(e, "member id \"%s\" must be 1-%d letters, digits, '-', '_' or '.'", m->id,
			MEMBER_ID_MAX);
		return -EINVAL;
	}
	if (key && (key_len != strlen(m->id) || memcmp(key, m->id, key_len) != 0)) {
		err_set(e, "member %s is stored under another key", m->id);
		return -EINVAL;
	}
	if (name_len == 0 || name_len > MEMBER_NAME_MAX || !text_valid(m->name, name_len)) {
		err_set(e, "member %s: name must be 1-%d bytes of text", m->id, MEMBER_NAME_MAX);
		return -EINVAL;
	}
	if ((size_t)m->category >= NWORDS(category_words) || !category_words[m->category]) {
		err_set(e, "member %s: unknown category %d", m->id, (int)m->category);
		return -EINVAL;
	}
	if ((size_t)m->status >= NWORDS(status_words) || !status_words[m->status]) {
		err_set(e, "member %s: unknown status %d", m->id, (int)m->status);
		return -EINVAL;
	}
	if (!date_valid(m->joined)) {
		err_set(e, "member %s: joined date \"%s\" is not a real date (YYYY-MM-DD)", m->id, m->joined);
		return -EINVAL;
	}
	if (m->phone && !phone_valid(m->phone)) {
		err_set(e, "member %s: phone \"%s\" is not a phone number", m->id, m->phone);
		return -EINVAL;
	}
	if (m->birth && !date_valid(m->birth)) {
		err_set(e, "member %s: birth date \"%s\" is not a real date (YYYY-MM-DD)", m->id, m->birth);
		return -EINVAL;
	}
	if (m->birth && strcmp(m->birth, m->joined) > 0) {
		err_set(e, "member %s: birth date %s is after joined date %s", m->id, m->birth, m->joined);
		return -EINVAL;
	}
	if (m->has_gender && ((size_t)m->gender >= NWORDS(gender_words) || !gender_words[m->gender])) {
		err_set(e, "member %s: unknown gender %d", m->id, (int)m->gender);
		return -EINVAL;
	}
	if (m->address && (!*m->address || strlen(m->address) > MEMBER_ADDRESS_MAX ||
			   !text_valid(m->address, strlen(m->address)))) {
		err_set(e, "member %s: address must be 1-%d bytes of text", m->id, MEMBER_ADDRESS_MAX);
		return -EINVAL;
	}
	return 0;
}

/* Today's rules for a member typed by a person: no date in the future. */
static int member_input_rule(const ProtobufCMessage *m, struct store_txn *t, const uint8_t owner[KEY_BYTES], struct err *e);

/* The field table: what add, update, show, list, export and import read and
 * write (node/domain). Its checks are member_validate's, with their own
 * messages; CSV columns and JSON keys in this order. */
static const struct record_field member_fields[] = {
	{"id", FIELD_TEXT, FIELD_KEY | FIELD_REQUIRED, MEMBER_ID_MAX, N_("member id: letters, digits, '-', '_', '.'")},
	{"name", FIELD_TEXT, FIELD_REQUIRED, MEMBER_NAME_MAX, N_("name")},
	{"category", FIELD_ENUM, FIELD_REQUIRED, 0, N_("full or probationary")},
	{"status", FIELD_ENUM, 0, 0, N_("active (the default), lapsed, deceased, transferred")},
	{"joined", FIELD_DATE, FIELD_REQUIRED, 0, N_("date joined, YYYY-MM-DD")},
	{"phone", FIELD_PHONE, 0, PHONE_MAX, N_("phone number")},
	{"birth", FIELD_DATE, 0, 0, N_("date of birth, YYYY-MM-DD, before joined")},
	{"gender", FIELD_ENUM, 0, 0, N_("female, male or other")},
	{"address", FIELD_TEXT, 0, MEMBER_ADDRESS_MAX, N_("home address")},
};
/* Chinese column names and enum words (fields.h struct record_zh): the
 * first of a field or word is what an export in Chinese writes. */
static const struct record_zh member_zh[] = {
	{"id", NULL, "编号"},
	{"id", NULL, "党员编号"},
	{"name", NULL, "姓名"},
	{"category", NULL, "类别"},
	{"category", NULL, "党员类别"},
	{"status", NULL, "状态"},
	{"joined", NULL, "入党日期"},
	{"phone", NULL, "电话"},
	{"phone", NULL, "联系电话"},
	{"birth", NULL, "出生日期"},
	{"gender", NULL, "性别"},
	{"address", NULL, "家庭住址"},
	{"address", NULL, "住址"},
	{"category", "full", "正式党员"},
	{"category", "probationary", "预备党员"},
	{"status", "active", "正常"},
	{"status", "lapsed", "失联"},
	{"status", "deceased", "去世"},
	{"status", "deceased", "已故"},
	{"status", "transferred", "转出"},
	{"status", "transferred", "已转出"},
	{"gender", "female", "女"},
	{"gender", "male", "男"},
	{"gender", "other", "其他"},
	{NULL, NULL, NULL},
};
static void member_figures(struct figures_ctx *c, const ProtobufCMessage *msg);
static int member_import_row(ProtobufCMessage *m, const char *const *cell, bool checked, const char **key,
			     struct err *e);

const struct record_type record_member = {
	.collection = "member",
	.feed = FEED_UP,
	.fields = member_fields,
	.n_fields = sizeof member_fields / sizeof member_fields[0],
	.zh = member_zh,
	.summary = N_("the member registry: add, update, import, list, show"),
	.check_input = member_input_rule,
	.msg_absent = N_("no member with id %s in this node's registry"),
	.msg_erased = N_("member %s was erased (strata erase): its record is kept nowhere"),
	.descriptor = &strata__member__descriptor,
	.validate = member_validate,
	.noun = N_("member"),
	.import_row = member_import_row,
	.msg_columns = N_("columns: id,name,category,joined and optionally status,phone,birth,gender,address"),
	.msg_required = N_("required: id,name,category,joined"),
	.msg_row_cells = N_("has %zu column%s, the header has %zu"),
	.msg_duplicate = N_("duplicate id %.64s (first on line %zu)"),
	.figures = member_figures,
	.residue = (const char *const[]){"id", "category", "status", "joined", NULL},
};

int member_check_input(const Strata__Member *m, struct err *e)
{
	int ret = member_validate(&m->base, NULL, 0, e);

	return ret < 0 ? ret : member_input_rule(&m->base, NULL, NULL, e);
}

static int member_input_rule(const ProtobufCMessage *m, struct store_txn *t, const uint8_t owner[KEY_BYTES], struct err *e)
{
	const Strata__Member *mb = (const Strata__Member *)m;
	char today[RECORD_DATE_SIZE];

	(void)t;
	(void)owner;
	date_today(today);
	if (strcmp(mb->joined, today) > 0) {
		err_set(e, "member %s: joined date %s is in the future", mb->id, mb->joined);
		return -EINVAL;
	}
	if (mb->birth && strcmp(mb->birth, today) > 0) {
		err_set(e, "member %s: birth date %s is in the future", mb->id, mb->birth);
		return -EINVAL;
	}
	return 0;
}

static const char *given(const char *s)
{
	return s && *s ? s : NULL;
}

int member_fill_text(Strata__Member *m, const struct member_text *t, struct err *e)
{
	strata__member__init(m);
	m->id = (char *)t->id;
	m->name = (char *)t->name;
	m->joined = (char *)t->joined;
	m->phone = (char *)given(t->phone);
	m->birth = (char *)given(t->birth);
	m->address = (char *)given(t->address);
	if (!given(t->id)) {
		err_set(e, "member id is missing");
		return -EINVAL;
	}
	if (!given(t->name)) {
		err_set(e, "member %s: name is missing", t->id);
		return -EINVAL;
	}
	if (!given(t->joined)) {
		err_set(e, "member %s: joined date is missing", t->id);
		return -EINVAL;
	}
	if (member_category_parse(t->category, &m->category, e) < 0)
		return -EINVAL;
	m->status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
	if (given(t->status) && member_status_parse(t->status, &m->status, e) < 0)
		return -EINVAL;
	if (given(t->gender)) {
		if (member_gender_parse(t->gender, &m->gender, e) < 0)
			return -EINVAL;
		m->has_gender = 1;
	}
	return 0;
}

int member_from_text(Strata__Member *m, const struct member_text *t, struct err *e)
{
	int ret = member_fill_text(m, t, e);

	return ret < 0 ? ret : member_check_input(m, e);
}

/* A CSV row, its cells in member_fields' order. */
static int member_import_row(ProtobufCMessage *m, const char *const *cell, bool checked, const char **key,
			     struct err *e)
{
	const struct member_text t = {
		.id = cell[0],    .name = cell[1],  .category = cell[2], .status = cell[3], .joined = cell[4],
		.phone = cell[5], .birth = cell[6], .gender = cell[7],   .address = cell[8],
	};
	_Static_assert(sizeof member_fields / sizeof member_fields[0] == 9, "member_import_row reads 9 cells");

	*key = t.id; /* the key is the id, checked by member_validate */
	return checked ? member_fill_text((Strata__Member *)m, &t, e) : member_from_text((Strata__Member *)m, &t, e);
}

json_t *member_to_json(const Strata__Member *m)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", m->id, "name", m->name, "category",
			      member_category_word(m->category), "status", member_status_word(m->status),
			      "joined", m->joined);

	if (!o)
		return NULL;
	json_object_set_new(o, "phone", m->phone ? json_string(m->phone) : json_null());
	json_object_set_new(o, "birth", m->birth ? json_string(m->birth) : json_null());
	json_object_set_new(o, "gender", m->has_gender ? json_string(member_gender_word(m->gender)) : json_null());
	json_object_set_new(o, "address", m->address ? json_string(m->address) : json_null());
	return o;
}

void member_print(FILE *f, const Strata__Member *m)
{
	fprintf(f, "id:        %s\nname:      %s\ncategory:  %s\nstatus:    %s\njoined:    %s\n", m->id,
		m->name, member_category_word(m->category), member_status_word(m->status), m->joined);
	if (m->phone)
		fprintf(f, "phone:     %s\n", m->phone);
	if (m->birth)
		fprintf(f, "birth:     %s\n", m->birth);
	if (m->has_gender)
		fprintf(f, "gender:    %s\n", member_gender_word(m->gender));
	if (m->address)
		fprintf(f, "address:   %s\n", m->address);
}

/* Report figures: members by category and status, joined in the period,
 * and the active ones (joined by its end) whose dues record for it (key
 * member/period) has no paid date. */
static void member_figures(struct figures_ctx *c, const ProtobufCMessage *msg)
{
	const Strata__Member *m = (const Strata__Member *)msg;

	FIGURE_ADD(c, members_full, m->category == STRATA__MEMBER_CATEGORY__CATEGORY_FULL);
	FIGURE_ADD(c, members_probationary, m->category == STRATA__MEMBER_CATEGORY__CATEGORY_PROBATIONARY);
	FIGURE_ADD(c, members_active, m->status == STRATA__MEMBER_STATUS__STATUS_ACTIVE);
	FIGURE_ADD(c, members_lapsed, m->status == STRATA__MEMBER_STATUS__STATUS_LAPSED);
	FIGURE_ADD(c, members_deceased, m->status == STRATA__MEMBER_STATUS__STATUS_DECEASED);
	FIGURE_ADD(c, members_transferred, m->status == STRATA__MEMBER_STATUS__STATUS_TRANSFERRED);
	FIGURE_ADD(c, members_new, figure_in_period(c, m->joined));
	if (dues_member_due(m, c->end)) { /* dues.c: the rule `dues list --unpaid` shares */
		char key[LIMIT_KEY_BYTES + 1];
		Strata__Dues *d = NULL;

		if (dues_key(key, sizeof key, m->id, c->period) >= 0)
			d = (Strata__Dues *)c->find(c, record_dues.collection, key);
		FIGURE_ADD(c, members_unpaid, dues_unpaid(m, d, c->period, c->end));
		record_free((ProtobufCMessage *)d);
	}
}

RECORD_REGISTER(10, record_member);
