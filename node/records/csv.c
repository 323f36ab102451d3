/* SPDX-License-Identifier: MIT */
/*
 * CSV reading on top of libcsv (Debian's libcsv3: RFC 4180 quoting done
 * right, so we do not write another parser). We feed it one physical line
 * at a time so that every row carries the line it starts on, which is what
 * a person needs to fix a file: "members.csv:17: ...".
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "node/records/records.h"

#define CSV_WHY_SIZE 100 /* why a row is unreadable (cell_bad), with its NUL */
#define CSV_ICONV_OUT 4  /* UTF-8 bytes per input byte at most from GB18030 (4 bytes in -> 4 out, 2 -> 3) */

/* What Excel's "CSV UTF-8" is called in its Save As list, for the refusal
 * of a file in neither encoding. */
#define CSV_SAVE_AS "in Excel, Save As \"CSV UTF-8 (Comma delimited) (*.csv)\"; in WPS, save as CSV with encoding UTF-8"

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

static bool row_blank(const struct csv_state *st)
{
	for (size_t i = 0; i < st->row.n; i++)
		if (st->text[st->off[i]])
			return false;
	return true;
}

static void on_row(int term, void *st_)
{
	struct csv_state *st = st_;

	(void)term;
	if (!st->ret && !st->bad[0] && row_blank(st)) {
		/* Excel writes rows of commas for blank or formatted rows, and
		 * blank lines at the end: no data, skipped wherever they are */
		row_clear(st);
		return;
	}
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

/* The file's bytes as UTF-8: NULL if they already are (every line valid
 * UTF-8; a multi-byte character never spans a line), else a malloc'd copy
 * converted from GB18030 (which contains GBK and GB2312: what Chinese Excel
 * and WPS write for "CSV"), its length in *len. -EINVAL for bytes that are
 * neither, naming the first line that is not UTF-8. */
static int as_utf8(FILE *f, const char *path, char **out, size_t *len, struct err *e)
{
	char *line = NULL, *in = NULL, *o = NULL;
	size_t cap = 0, bad_line = 0, n_in = 0, line_no = 0;
	ssize_t n;
	long size = 0;
	iconv_t cd;
	int ret = 0;

	*out = NULL;
	while ((n = getline(&line, &cap, f)) > 0 && !bad_line)
		if (!utf8_valid(line, (size_t)n))
			bad_line = line_no + 1;
		else
			line_no++;
	free(line);
	if (ferror(f) || fseek(f, 0, SEEK_SET) != 0) {
		err_set(e, "cannot read %s: %s", path, strerror(errno));
		return -EIO;
	}
	if (!bad_line)
		return 0;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(in = malloc((size_t)size + 1)) || fread(in, 1, (size_t)size, f) != (size_t)size) {
		err_set(e, "cannot read %s: %s", path, in || size < 0 ? strerror(errno) : "out of memory");
		free(in);
		return in || size < 0 ? -EIO : -ENOMEM;
	}
	n_in = (size_t)size;
	if (!(o = malloc(n_in * CSV_ICONV_OUT + 1)) || (cd = iconv_open("UTF-8", "GB18030")) == (iconv_t)-1) {
		err_set(e, "cannot read %s: %s", path, o ? "no GB18030 converter (glibc iconv)" : "out of memory");
		free(in);
		free(o);
		return o ? -EIO : -ENOMEM;
	}
	{
		char *ip = in, *op = o;
		size_t il = n_in, ol = n_in * CSV_ICONV_OUT;

		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
			size_t where = 1;

			for (char *p = in; p < ip; p++)
				where += *p == '\n';
			err_set(e, "%s:%zu: the file is neither UTF-8 nor GB18030 (GBK) text; %s, and import that file", path,
				where > bad_line ? where : bad_line, CSV_SAVE_AS);
			ret = -EINVAL;
		}
		*len = (size_t)(op - o);
	}
	iconv_close(cd);
	free(in);
	if (ret < 0)
		free(o);
	else
		*out = o;
	return ret;
}

/* A file that cannot be read twice (a pipe, a FIFO): *f replaced by a
 * stream over its bytes, held in *raw (malloc'd), so that as_utf8 can look
 * before the parser reads. */
static int slurp(FILE **f, char **raw, const char *path, struct err *e)
{
	size_t len = 0;
	FILE *mem = open_memstream(raw, &len);
	char chunk[BUFSIZ];
	size_t n;

	if (!mem) {
		fclose(*f);
		err_set(e, "out of memory reading %s", path);
		return -ENOMEM;
	}
	while ((n = fread(chunk, 1, sizeof chunk, *f)) > 0)
		fwrite(chunk, 1, n, mem);
	if (ferror(*f) || fclose(mem) != 0) {
		err_set(e, "cannot read %s: %s", path, strerror(errno));
		fclose(*f);
		free(*raw);
		return -EIO;
	}
	fclose(*f);
	if (!(*f = fmemopen(*raw, len ? len : 1, "r"))) {
		free(*raw);
		err_set(e, "out of memory reading %s", path);
		return -ENOMEM;
	}
	if (!len)
		fgetc(*f); /* fmemopen needs a size of at least 1: an empty file reads as empty */
	return 0;
}

/* Feeds every line of f to the parser. */
static void parse_lines(FILE *f, struct csv_parser *p, struct csv_state *st, struct err *e)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	while (!st->ret && (n = getline(&buf, &cap, f)) > 0) {
		const char *s = buf;

		st->line++;
		if (st->line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3, n -= 3;
		if ((size_t)csv_parse(p, s, (size_t)n, on_field, on_row, st) != (size_t)n && !st->ret) {
			err_set(e, "%s:%zu: %s", st->path, st->line, csv_strerror(csv_error(p)));
			st->ret = -EINVAL;
		}
	}
	if (!st->ret && ferror(f)) {
		err_set(e, "cannot read %s: %s", st->path, strerror(errno));
		st->ret = -EIO;
	}
	free(buf);
}

int csv_read(const char *path, int (*header)(const struct csv_row *r, void *arg, struct err *e),
	     int (*row)(const struct csv_row *r, void *arg), void *arg, struct err *e)
{
	return csv_read_as(path, header, row, arg, NULL, e);
}

int csv_read_as(const char *path, int (*header)(const struct csv_row *r, void *arg, struct err *e),
		int (*row)(const struct csv_row *r, void *arg), void *arg, bool *gb18030, struct err *e)
{
	struct csv_state st = {.path = path, .header = header, .on_row = row, .arg = arg, .e = e};
	struct csv_parser p;
	char *conv = NULL, *raw = NULL;
	size_t conv_len = 0;
	FILE *f = fopen(path, "r"), *in;
	int ret;

	if (gb18030)
		*gb18030 = false;
	if (!f) {
		ret = err_os(errno);
		err_set(e, "cannot open %s: %s", path, strerror(errno));
		return ret;
	}
	if (fseek(f, 0, SEEK_CUR) != 0 && (ret = slurp(&f, &raw, path, e)) < 0)
		return ret;
	if ((ret = as_utf8(f, path, &conv, &conv_len, e)) < 0) {
		fclose(f);
		free(raw);
		return ret;
	}
	in = conv ? fmemopen(conv, conv_len ? conv_len : 1, "r") : f;
	if (!in || csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		if (in && in != f)
			fclose(in);
		free(conv);
		fclose(f);
		free(raw);
		err_set(e, "out of memory reading %s", path);
		return -ENOMEM;
	}
	if (gb18030)
		*gb18030 = conv != NULL;
	if (conv && !conv_len)
		st.ret = 0; /* nothing converted: an empty file, said below */
	else
		parse_lines(in, &p, &st, e);
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
	if (in != f)
		fclose(in);
	free(conv);
	fclose(f);
	free(raw);
	return ret;
}
