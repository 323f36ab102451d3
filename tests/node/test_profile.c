/* SPDX-License-Identifier: MIT */
/*
 * node_profile: deployment profiles (node/core/profile.c). The table and the
 * rule it keeps (profile.h), strata.conf's [node] level written by
 * node_create and read by node_open (a level gives defaults, a setting in
 * the file wins, a bad word is refused naming the line and the words), what
 * a node will hold (node_holds_get), and `strata init --level` / `strata
 * status` through the binary. The multi-node side (a city under the
 * profiles does not receive a branch's records three levels below, a
 * transfer between two streets still completes) is tests/sync/test_updepth.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/core/node.h"
#include "run.h"

TestSuite(node_profile, .init = test_tmp_make, .fini = test_tmp_remove);

static const char *const words[][2] = {
	{"branch", "支部"}, {"street", "街道"}, {"district", "区"},
	{"city", "市"},     {"province", "省"}, {"national", "全国"},
};
#define N_WORDS (sizeof words / sizeof words[0])

Test(node_profile, every_word_english_and_chinese_names_its_level_and_nothing_else_does)
{
	static const char *const unknown[] = {"City", "cities", "", " city", "县", "社区", "national ", "branch,street"};

	for (size_t i = 0; i < N_WORDS; i++) {
		const struct node_profile *en = node_profile_find(words[i][0]), *zh = node_profile_find(words[i][1]);

		cr_assert_not_null(en, "%s", words[i][0]);
		cr_assert_eq(en, zh, "%s and %s name different profiles", words[i][0], words[i][1]);
		cr_assert_str_eq(en->word, words[i][0]);
		cr_assert_str_eq(en->zh, words[i][1]);
		cr_assert_eq(node_profile_get(en->level), en);
		cr_assert_eq(en->level, NODE_LEVEL_BRANCH + (int)i, "%s is not the %zu-th level from the leaves",
			     words[i][0], i + 1);
	}
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
		cr_assert_null(node_profile_find(unknown[i]), "\"%s\" names a level", unknown[i]);
	cr_assert_null(node_profile_find(NULL));
	cr_assert_null(node_profile_get(NODE_LEVEL_NONE));
}

/* Levels below a node of level L whose records reach it, by the routing
 * rule itself (node/sync/route.c): the unit at level L-k forwards its own up
 * feed, and each unit at L-k+i passes it on to its parent while that parent
 * stands at most its up_depth (0: no limit) above the author. */
static unsigned reach_below(enum node_level l)
{
	unsigned k = 0;

	for (unsigned d = 1; d <= (unsigned)(l - NODE_LEVEL_BRANCH); d++) {
		bool reaches = true;

		for (unsigned i = 0; i < d; i++) {
			unsigned up = node_profile_get(l - d + i)->up_depth;

			reaches = reaches && (up == 0 || up >= i + 1);
		}
		if (!reaches)
			break;
		k = d;
	}
	return k;
}

/* The rule of profile.h, checked on the table: below the city a unit's
 * records reach three levels up (the city keeps its members' records and
 * decides transfers between its districts' branches), the city does not
 * hand them to the province, and from the city up only a unit's own
 * records go up. */
Test(node_profile, the_table_keeps_members_at_the_city_and_reports_only_above_it)
{
	const struct node_profile *street = node_profile_find("street"), *district = node_profile_find("district");

	cr_assert_geq(street->up_depth, 2, "a branch's release would stop below its district");
	cr_assert_geq(district->up_depth, 3, "a branch's release would stop below its city");
	cr_assert_eq(reach_below(NODE_LEVEL_CITY), 3, "the city does not receive its branches' member records");
	cr_assert_eq(reach_below(NODE_LEVEL_PROVINCE), 1, "the province receives more than its cities' own records");
	for (enum node_level l = NODE_LEVEL_CITY; l <= NODE_LEVEL_NATIONAL; l++)
		cr_assert_eq(node_profile_get(l)->up_depth, 1, "%s sends more than its own records up",
			     node_profile_get(l)->word);
	for (size_t i = 0; i < N_WORDS; i++) {
		const struct node_profile *p = node_profile_find(words[i][0]);

		cr_assert_neq(p->up_depth, 0, "%s: no limit", p->word);
		cr_assert_eq(p->contact_levels, 0, "%s sends residents' contacts up by default", p->word);
	}
}

static char *conf_text(const char *dir)
{
	char path[512];
	static char buf[8192];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "%s/strata.conf", dir);
	cr_assert_not_null(f = fopen(path, "r"), "no %s", path);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void conf_append(const char *dir, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/strata.conf", dir);
	cr_assert_not_null(f = fopen(path, "a"));
	fputs(text, f);
	fclose(f);
}

static void open_config(const char *dir, struct node_config *c)
{
	struct node *n = NULL;
	struct err e = {0};

	cr_assert_eq(node_open(&n, dir, NODE_NO_KEY | NODE_RDONLY, &e), 0, "%s", e.msg);
	*c = *node_config(n);
	node_close(&n);
}

Test(node_profile, create_writes_the_level_in_english_and_open_gives_its_defaults_unless_the_file_sets_them)
{
	struct node_init_opts o = {.name = "xiamen/huli", .level = "区"};
	struct node_config c;
	struct err e = {0};

	cr_assert_eq(node_create(test_node, &o, &e), 0, "%s", e.msg);
	cr_assert(has(conf_text(test_node), "\nlevel = district\n"), "%s", conf_text(test_node));
	open_config(test_node, &c);
	cr_assert_eq(c.level, NODE_LEVEL_DISTRICT);
	cr_assert_eq(c.up_depth, node_profile_find("district")->up_depth);
	cr_assert_eq(c.contact_levels, node_profile_find("district")->contact_levels);

	/* a setting in the file wins over the profile, whichever comes first */
	conf_append(test_node, "\n[privacy]\ncontact_levels = 1\n[node]\nup_depth = 3\n");
	open_config(test_node, &c);
	cr_assert_eq(c.level, NODE_LEVEL_DISTRICT);
	cr_assert_eq(c.up_depth, 3);
	cr_assert_eq(c.contact_levels, 1);
	/* and up_depth = 0 set by hand is no limit, not "unset" */
	conf_append(test_node, "[node]\nup_depth = 0\n");
	open_config(test_node, &c);
	cr_assert_eq(c.up_depth, 0);
}

Test(node_profile, without_a_level_every_setting_keeps_its_old_default)
{
	struct node_init_opts o = {.name = "xiamen/huli"};
	struct node_config c;
	struct err e = {0};

	cr_assert_eq(node_create(test_node, &o, &e), 0, "%s", e.msg);
	cr_assert(has(conf_text(test_node), "\n# level = street\n"), "%s", conf_text(test_node));
	open_config(test_node, &c);
	cr_assert_eq(c.level, NODE_LEVEL_NONE);
	cr_assert_eq(c.up_depth, 0);
	cr_assert_eq(c.contact_levels, 0);
	/* a level added to the file later by hand takes effect at the next open */
	conf_append(test_node, "\n[node]\nlevel = city\n");
	open_config(test_node, &c);
	cr_assert_eq(c.level, NODE_LEVEL_CITY);
	cr_assert_eq(c.up_depth, 1);
}

Test(node_profile, a_bad_level_in_strata_conf_is_refused_naming_its_line_and_the_words)
{
	struct node_init_opts o = {.name = "xiamen"};
	struct node *n = NULL;
	struct err e = {0};

	cr_assert_eq(node_create(test_node, &o, &e), 0, "%s", e.msg);
	conf_append(test_node, "\n[node]\nlevel = county\n");
	cr_assert_eq(node_open(&n, test_node, NODE_NO_KEY | NODE_RDONLY, &e), -EINVAL);
	cr_assert_null(n);
	cr_assert(has(e.msg, "strata.conf:") && has(e.msg, "\"county\"") && has(e.msg, NODE_LEVEL_WORDS), "%s", e.msg);
}

Test(node_profile, create_with_a_bad_level_makes_nothing_not_even_the_directory)
{
	static const char *const bad[] = {"county", "City", "", "县"};
	char dir[256];

	tmp_path(dir, "new/node"); /* neither new/ nor new/node exist */
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct node_init_opts o = {.name = "xiamen/huli", .level = bad[i]};
		struct err e = {0};

		cr_assert_eq(node_create(dir, &o, &e), -EINVAL, "--level \"%s\"", bad[i]);
		cr_assert(has(e.msg, NODE_LEVEL_WORDS), "%s", e.msg);
		cr_assert_neq(access(dir, F_OK), 0, "--level \"%s\" left %s behind", bad[i], dir);
		cr_assert_neq(access(tmp_path(dir, "new"), F_OK), 0, "--level \"%s\" left new/ behind", bad[i]);
		tmp_path(dir, "new/node");
	}
}

/* A strata.conf provisioned in DIR before init is kept: --level must agree
 * with it, or init refuses before it makes a key or a store. */
static void provision_conf(const char *dir, const char *text)
{
	char path[512];
	FILE *f;

	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof path, "%s/strata.conf", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert_eq(fchmod(fileno(f), 0600), 0);
	fputs(text, f);
	fclose(f);
}

Test(node_profile, init_keeps_a_provisioned_strata_conf_and_refuses_a_level_it_does_not_set)
{
	struct node_init_opts o = {.name = "xiamen/huli", .level = "city"};
	struct node_config c;
	struct err e = {0};
	char p[512];

	provision_conf(test_node, "[node]\nlevel = district\n");
	cr_assert_eq(node_create(test_node, &o, &e), -EEXIST);
	cr_assert(has(e.msg, "sets level district, not city"), "%s", e.msg);
	snprintf(p, sizeof p, "%s/node.key", test_node);
	cr_assert_neq(access(p, F_OK), 0, "a refused init left node.key");
	snprintf(p, sizeof p, "%s/store", test_node);
	cr_assert_neq(access(p, F_OK), 0, "a refused init left store/");
	cr_assert_str_eq(conf_text(test_node), "[node]\nlevel = district\n");

	o.level = "区"; /* the same level, in Chinese */
	cr_assert_eq(node_create(test_node, &o, &e), 0, "%s", e.msg);
	cr_assert_str_eq(conf_text(test_node), "[node]\nlevel = district\n");
	open_config(test_node, &c);
	cr_assert_eq(c.level, NODE_LEVEL_DISTRICT);
}

Test(node_profile, what_a_node_will_hold_follows_the_profiles_of_the_levels_below)
{
	struct node_config c = {0};
	struct node_holds h;
	json_t *j;

	for (enum node_level l = NODE_LEVEL_BRANCH; l <= NODE_LEVEL_NATIONAL; l++) {
		c.level = l;
		c.up_depth = node_profile_get(l)->up_depth;
		node_holds_get(&c, l == NODE_LEVEL_NATIONAL, &h);
		cr_assert_eq(h.profile, node_profile_get(l));
		cr_assert_eq(h.up_below, reach_below(l), "%s: %u levels below, the routing rule gives %u",
			     h.profile->word, h.up_below, reach_below(l));
		cr_assert_eq(h.contacts_below, 0, "%s", h.profile->word);
	}
	/* the city: its districts', streets' and branches' records */
	c.level = NODE_LEVEL_CITY;
	node_holds_get(&c, false, &h);
	cr_assert_eq(h.up_below, 3);
	j = node_holds_json(&h);
	cr_assert_str_eq(json_string_value(json_object_get(j, "level")), "city");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "holds"), "up_levels_below")), 3);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "sends"), "report")), "root");
	json_decref(j);
	/* no level: the units below at the plain defaults send everything */
	c = (struct node_config){0};
	node_holds_get(&c, true, &h);
	cr_assert_null(h.profile);
	cr_assert_eq(h.up_below, NODE_HOLDS_ALL);
	j = node_holds_json(&h);
	cr_assert(json_is_null(json_object_get(j, "level")));
	cr_assert(json_is_null(json_object_get(json_object_get(j, "holds"), "up_levels_below")));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "sends"), "report")), "none");
	json_decref(j);
}

Test(node_profile, strata_init_level_through_the_binary)
{
	char dir[256];
	struct run r;
	json_t *j;

	tmp_path(dir, "bad/node");
	run_strata(&r, "init", "-d", dir, "--name", "xiamen/huli", "--level", "county", NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "\"county\"") && has(r.err, NODE_LEVEL_WORDS), "%s", r.err);
	cr_assert_neq(access(tmp_path(dir, "bad"), F_OK), 0, "a refused init left a directory");
	run_free(&r);

	run_strata(&r, "init", "-d", test_node, "--name", "xiamen/huli", "--level", "区", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = run_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "level")), "district");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "holds"), "up_levels_below")), 2);
	json_decref(j);
	run_free(&r);
	run_strata(&r, "status", "-d", test_node, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "level:  district (区), up_depth 3"), "%s", r.out);
	run_free(&r);

	/* the hint only without a level */
	run_strata(&r, "init", "-d", tmp_path(dir, "street"), "--name", "xiamen/huli/jinshan", "--level", "street",
		   NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "records (feed up): its own and those of the units one level below it"), "%s", r.out);
	cr_assert(!has(r.out, "hint:"), "%s", r.out);
	run_free(&r);
	run_strata(&r, "init", "-d", tmp_path(dir, "plain"), "--name", "xiamen/siming", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "hint: choose a level with --level"), "%s", r.out);
	cr_assert(has(r.out, "records (feed up): its own and those of its whole subtree"), "%s", r.out);
	run_free(&r);
	run_strata(&r, "status", "-d", dir, "--json", NULL);
	j = run_json(&r);
	cr_assert(json_is_null(json_object_get(j, "level")), "%s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(j, "up_depth")), 0);
	json_decref(j);
	run_free(&r);
}
