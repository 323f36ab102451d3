/* SPDX-License-Identifier: MIT */
/*
 * strata-gen-members: writes a CSV of N plausible members (deterministic for
 * a seed) for the quickstart, the tests and the benchmarks. Names are drawn
 * from common Chinese surnames and given names, in Hanzi or pinyin.
 *   strata-gen-members [--count N] [--prefix P] [--seed S] [--pinyin]
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const surnames_zh[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
					  "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "郑", "谢"};
static const char *const surnames_py[] = {"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang",
					  "Zhao", "Wu",   "Zhou", "Xu",  "Sun",   "Ma",  "Zhu",
					  "Hu",   "Guo",  "He",   "Lin", "Zheng", "Xie"};
static const char *const given_zh[] = {"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军",
				       "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞",
				       "文君", "建国", "海燕", "志强"};
static const char *const given_py[] = {"Wei",   "Fang",   "Na",      "Xiuying", "Min",   "Jing",
				       "Li",    "Qiang",  "Lei",     "Jun",     "Yang",  "Yong",
				       "Yan",   "Jie",    "Juan",    "Tao",     "Ming",  "Chao",
				       "Xiulan", "Xia",   "Wenjun",  "Jianguo", "Haiyan", "Zhiqiang"};

static uint64_t state;

static uint32_t rnd(uint32_t n)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(state % n);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"count", required_argument, NULL, 'n'}, {"prefix", required_argument, NULL, 'p'},
		{"seed", required_argument, NULL, 's'},  {"pinyin", no_argument, NULL, 'y'},
		{"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
	};
	unsigned long count = 300, seed = 1;
	const char *prefix = "M";
	int pinyin = 0, opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 'p': prefix = optarg; break;
		case 's': seed = strtoul(optarg, NULL, 10); break;
		case 'y': pinyin = 1; break;
		case 'h':
			printf("usage: strata-gen-members [--count N] [--prefix P] [--seed S] [--pinyin]\n"
			       "Writes a CSV of N members (id,name,category,joined,phone,birth,gender) to stdout.\n");
			return 0;
		default: return 1;
		}
	}
	state = 0x9e3779b97f4a7c15ull ^ (seed * 0xbf58476d1ce4e5b9ull);
	if (!state)
		state = 1;
	puts("id,name,category,joined,phone,birth,gender");
	for (unsigned long i = 1; i <= count; i++) {
		unsigned s = rnd(20), g = rnd(24);
		unsigned by = 1940 + rnd(60), bm = 1 + rnd(12), bd = 1 + rnd(28);
		unsigned jy = by + 18 + rnd(2025 - by - 18 + 1 > 0 ? 2025 - by - 18 + 1 : 1);
		unsigned jm = 1 + rnd(12), jd = 1 + rnd(28);

		if (jy > 2025)
			jy = 2025;
		if (pinyin)
			printf("%s%06lu,%s %s,", prefix, i, surnames_py[s], given_py[g]);
		else
			printf("%s%06lu,%s%s,", prefix, i, surnames_zh[s], given_zh[g]);
		printf("%s,%04u-%02u-%02u,1%02u%08u,%04u-%02u-%02u,%s\n", rnd(10) ? "full" : "probationary", jy, jm, jd,
		       30 + rnd(60), rnd(100000000), by, bm, bd, rnd(2) ? "male" : "female");
	}
	return 0;
}
