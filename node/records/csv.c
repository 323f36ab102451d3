/* SPDX-License-Identifier: MIT */
/*
 * CSV reading on top of libcsv (Debian's libcsv3: RFC 4180 quoting done
 * right, so we do not write another parser). We feed it one physical line
 * at a time so that every row carries the line it starts on, which is what
 * a person needs to fix a file: "members.csv:17: ...".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "node/records/records.h"

#define CSV_WHY_SIZE 100 /* why a row is unreadable (cell_bad), with its NUL */

struct csv_state {
	const char *path;
	size_t line;      /* the physical line being fed */
	size_t row_line;  /* the line the current row started on */
	size_t nrows;     /* rows seen, the header included */
	struct csv_row row;
	size_t cap;       /* of row.fields and off */
	/* The current row's fields, NUL-terminated one after the other in one
	 * buffer that lives as long as the read, rather than a malloc and a
	 * free per field; off[i] is where field i starts. row.fields points
	 * into text only once the row is complete, as text may move. */
	char *text;
	size_t text_len, text_cap;
	size_t *off;
	int (*header)(const struct csv_row *r, void *arg, struct err *e);
	int (*on_row)(const struct csv_row *r, void *arg);
	void *arg;
	struct err *e;
	int ret;          /* first fatal error */
	char bad[CSV_WHY_SIZE]; /* why the current row is unreadable, or empty */
};

/* A cell must be UTF-8 text without control bytes: a NUL would cut the
 * value short wherever it is used as a C string (an id "A\0B" stored as
 * "A"), and ESC and the like would reach the operator's terminal. TAB is
 * text, as for every record field; CR and LF inside a quoted cell are
 * refused like the rest (no record field takes them). C1 controls
 * (U+0080..U+009F) are refused too: some terminals act on them. Says why
 * in bad, naming the column (1-based) and the byte's offset in the cell. */
static bool cell_bad(const char *s, size_t len, size_t col, char *bad, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len; i++) {
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
			snprintf(bad, cap, "column %zu holds control byte \\x%02X at byte %zu (not allowed in a cell)", col,
				 p[i], i + 1);
			return true;
		}
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
			snprintf(bad, cap, "column %zu holds control character U+%04X at byte %zu (not allowed in a cell)",
				 col, p[i + 1], i + 1);
			return true;
		}
	}
	if (!utf8_valid(s, len)) {
		snprintf(bad, cap, "column %zu is not valid UTF-8 text", col);
		return true;
	}
	return false;
}

static void on_field(void *data, size_t len, void *st_)
{
	struct csv_state *st = st_;
	const char *s = data ? data : "";

	if (st->ret)
		return;
	if (st->row.n == 0) {
		size_t nl = 0;

		for (size_t i = 0; i < len; i++)
			nl += s[i] == '\n';
		st->row_line = st->line - nl;
	}
	if (!st->bad[0] && cell_bad(s, len, st->row.n + 1, st->bad, sizeof st->bad)) {
		s = "";
		len = 0;
	}
	if (st->row.n == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 16;
		char **f = realloc(st->row.fields, cap * sizeof *f);
		size_t *o = f ? realloc(st->off, cap * sizeof *o) : NULL;

		if (f)
			st->row.fields = f;
		if (!o)
			goto oom;
		st->off = o;
		st->cap = cap;
	}
	if (len + 1 > st->text_cap - st->text_len) {
		/* No overflow: the row so far and this field are both in memory. */
		size_t need = st->text_len + len + 1;
		size_t cap = st->text_cap > need / 2 ? 2 * st->text_cap : need < 256 ? 256 : need;
		char *t;

		if (!(t = realloc(st->text, cap)))
			goto oom;
		st->text = t;
		st->text_cap = cap;
	}
	memcpy(st->text + st->text_len, s, len);
	st->text[st->text_len + len] = '\0';
	st->off[st->row.n++] = st->text_len;
	st->text_len += len + 1;
	return;
oom:
	st->ret = -ENOMEM;
	err_set(st->e, "out of memory reading %s", st->path);
}

static void row_clear(struct csv_state *st)
{
	st->row.n = 0;
	st->text_len = 0;
}

static void on_row(int term, void *st_)
{
	struct csv_state *st = st_;

	(void)term;
	if (!st->ret) {
		for (size_t i = 0; i < st->row.n; i++)
			st->row.fields[i] = st->text + st->off[i];
		st->row.line = st->row_line;
		st->row.bad = st->bad[0] ? st->bad : NULL;
		if (st->nrows++ == 0) {
			if (st->row.bad) {
				err_set(st->e, "%s:%zu: header %s", st->path, st->row_line, st->bad);
				st->ret = -EINVAL;
			} else {
				st->ret = st->header(&st->row, st->arg, st->e);
			}
		} else {
			st->on_row(&st->row, st->arg);
		}
	}
	st->bad[0] = '\0';
	row_clear(st);
}

int csv_read(const char *path, int (*header)(const struct csv_row *r, void *arg, struct err *e),
	     int (*row)(const struct csv_row *r, void *arg), void *arg, struct err *e)
{
	struct csv_state st = {.path = path, .header = header, .on_row = row, .arg = arg, .e = e};
	struct csv_parser p;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "r");
	int ret;

	if (!f) {
		ret = err_os(errno);
		err_set(e, "cannot open %s: %s", path, strerror(errno));
		return ret;
	}
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		fclose(f);
		err_set(e, "out of memory reading %s", path);
		return -ENOMEM;
	}
	while (!st.ret && (n = getline(&buf, &cap, f)) > 0) {
		const char *s = buf;

		st.line++;
		if (st.line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3, n -= 3;
		if ((size_t)csv_parse(&p, s, (size_t)n, on_field, on_row, &st) != (size_t)n && !st.ret) {
			err_set(e, "%s:%zu: %s", path, st.line, csv_strerror(csv_error(&p)));
			st.ret = -EINVAL;
		}
	}
	if (!st.ret && ferror(f)) {
		err_set(e, "cannot read %s: %s", path, strerror(errno));
		st.ret = -EIO;
	}
	if (!st.ret && csv_fini(&p, on_field, on_row, &st) != 0 && !st.ret) {
		err_set(e, "%s:%zu: unterminated quoted field", path, st.row_line ? st.row_line : st.line);
		st.ret = -EINVAL;
	}
	if (!st.ret && st.nrows == 0) {
		err_set(e, "%s: the file is empty (expected a header row)", path);
		st.ret = -EINVAL;
	}
	ret = st.ret;
	free(st.row.fields);
	free(st.off);
	free(st.text);
	csv_free(&p);
	free(buf);
	fclose(f);
	return ret;
}
