/* SPDX-License-Identifier: MIT */
/*
 * Reading bundle files (layout in bundle.c and docs/PROTOCOL.md,
 * "Bundles"). A damaged file keeps what is whole before the damage: when a
 * record is cut short (a truncated copy) or does not decode (a flipped
 * byte), the envelopes of its Entries frame that are complete before the
 * damage are still returned, each checked like any other by the importer,
 * and then the reader stops with an error that names where the damage
 * starts: its byte offset in the file, the frame (records after the
 * header, from 1) and the entries before it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/bundle/bundle.h"

#define BUNDLE_RECORD_MAX (LIMIT_ENVELOPE_BYTES + (2u << 20))
#define TAG_FRAME_ENTRIES 0x12  /* Frame.entries: field 2, length-delimited */
#define TAG_ENTRIES_BATCH 0x08  /* Entries.batch: field 1, varint */
#define TAG_ENTRIES_ENVELOPE 0x12 /* Entries.envelopes: field 2, length-delimited */

struct bundle_reader {
	FILE *f;
	char *path;
	Strata__BundleHeader *header;
	Strata__Frame *frame;   /* the current Entries frame */
	size_t next;            /* next envelope in it */
	size_t entries;         /* entries returned so far */
	bool ended;
	uint8_t *buf;
	size_t cap;
	size_t got;             /* bytes of the current record read (a short read: fewer than its length) */
	uint64_t rec_off;       /* file offset of the current record's length */
	uint64_t pos;           /* file offset of the next record */
	size_t frames;          /* records read after the header */
	size_t checkpoints;     /* Checkpoint frames read (counted, not interpreted here) */
	size_t evidence;        /* Evidence frames read */
	/* A damaged record: its whole envelopes (offsets into buf), then the
	 * damage is reported. */
	size_t *salv_off, *salv_len, salv_n, salv_next;
	bool damaged;
	struct err damage;
	/* Checkpoint frames (bundle_on_checkpoint) */
	int (*on_ckpt)(const uint8_t *note, size_t len, void *arg, struct err *e);
	void *ckpt_arg;
};

void bundle_on_checkpoint(struct bundle_reader *r, int (*fn)(const uint8_t *note, size_t len, void *arg, struct err *e),
			  void *arg)
{
	r->on_ckpt = fn;
	r->ckpt_arg = arg;
}

/* Reads one length-prefixed record into r->buf. 1, 0 at a clean EOF,
 * -EBADMSG (r->got bytes of it were read), -ENOMEM. */
static int read_record(struct bundle_reader *r, size_t *len, struct err *e)
{
	uint8_t be[4];
	size_t got = fread(be, 1, 4, r->f);

	r->got = 0;
	r->rec_off = r->pos;
	if (got == 0 && feof(r->f))
		return 0;
	if (got != 4) {
		err_set(e, "%s: truncated at byte %llu, in the length of record %zu (after entry %zu)", r->path,
			(unsigned long long)r->rec_off, r->frames + 1, r->entries);
		return -EBADMSG;
	}
	*len = be32_get(be);
	if (*len > BUNDLE_RECORD_MAX) {
		err_set(e, "%s: a record of %zu bytes at byte %llu (frame %zu, after entry %zu) exceeds the limit",
			r->path, *len, (unsigned long long)r->rec_off, r->frames + 1, r->entries);
		return -EBADMSG;
	}
	if (*len > r->cap) {
		uint8_t *b = realloc(r->buf, *len);

		if (!b) {
			err_set(e, "out of memory");
			return -ENOMEM;
		}
		r->buf = b;
		r->cap = *len;
	}
	r->got = fread(r->buf, 1, *len, r->f);
	r->pos += 4 + r->got;
	if (r->got != *len) {
		err_set(e, "%s: truncated at byte %llu, inside frame %zu (after entry %zu)", r->path,
			(unsigned long long)(r->rec_off + 4), r->frames + 1, r->entries);
		return -EBADMSG;
	}
	return 1;
}

static bool varint(const uint8_t *b, size_t end, size_t *pos, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64 && *pos < end; shift += 7) {
		uint8_t c = b[(*pos)++];

		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

/* The whole envelopes at the start of an Entries frame's bytes (b, len),
 * in the exporter's encoding (Frame.entries { batch, envelopes... }), up to
 * the first field that is cut short or not of that shape: their offsets
 * and lengths into off and elen (when not NULL), their count returned, and
 * in *stop the offset where they end (len when the whole record is). */
static size_t scan_entries(const uint8_t *b, size_t len, size_t *off, size_t *elen, size_t *stop)
{
	size_t pos = 1, end, n = 0, field;
	uint64_t v;

	*stop = 0;
	if (len == 0 || b[0] != TAG_FRAME_ENTRIES || !varint(b, len, &pos, &v))
		return 0;
	end = v < len - pos ? pos + (size_t)v : len;
	for (field = pos; pos < end; field = pos) {
		uint64_t tag;

		if (!varint(b, end, &pos, &tag))
			break;
		if (tag == TAG_ENTRIES_BATCH && varint(b, end, &pos, &v))
			continue;
		if (tag != TAG_ENTRIES_ENVELOPE || !varint(b, end, &pos, &v) || v > end - pos)
			break;
		if (off) {
			off[n] = pos;
			elen[n] = (size_t)v;
		}
		n++;
		pos += (size_t)v;
	}
	*stop = pos < end ? field : end;
	return n;
}

/* The record in r->buf (r->got bytes) is cut short, does not decode, or
 * holds a field the exporter never writes inside its Entries (what a
 * flipped byte there most often makes: field != 0): keeps its whole
 * envelopes before the damage to return, and the damage to report after. */
static int salvage(struct bundle_reader *r, const char *what, unsigned field)
{
	size_t stop, n = scan_entries(r->buf, r->got, NULL, NULL, &stop);
	char why[64] = "";

	free(r->salv_off);
	free(r->salv_len);
	r->salv_off = calloc(n ? n : 1, sizeof *r->salv_off);
	r->salv_len = calloc(n ? n : 1, sizeof *r->salv_len);
	if (!r->salv_off || !r->salv_len)
		return -ENOMEM;
	r->salv_n = scan_entries(r->buf, r->got, r->salv_off, r->salv_len, &stop);
	r->salv_next = 0;
	r->damaged = true;
	memset(&r->damage, 0, sizeof r->damage);
	if (field)
		snprintf(why, sizeof why, ": an unknown field (number %u) there", field);
	err_set(&r->damage, "%s: %s at byte %llu, inside frame %zu (after entry %zu, %zu of them whole in that frame)%s",
		r->path, what, (unsigned long long)(r->rec_off + 4 + stop), r->frames, r->entries + r->salv_n,
		r->salv_n, why);
	return 0;
}

int bundle_open(struct bundle_reader **out, const char *path, struct err *e)
{
	struct bundle_reader *r = calloc(1, sizeof *r);
	char magic[BUNDLE_MAGIC_LEN];
	size_t len = 0;
	int ret = -ENOMEM;

	if (!r || !(r->path = strdup(path))) {
		err_set(e, "out of memory");
		goto out;
	}
	if (!(r->f = fopen(path, "rb"))) {
		ret = err_os(errno);
		err_set(e, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	ret = -EINVAL;
	if (fread(magic, 1, sizeof magic, r->f) != sizeof magic || memcmp(magic, BUNDLE_MAGIC, sizeof magic) != 0) {
		err_set(e, "%s is not a Strata bundle (version 1)", path);
		goto out;
	}
	r->pos = BUNDLE_MAGIC_LEN;
	if ((ret = read_record(r, &len, e)) <= 0 ||
	    !(r->header = strata__bundle_header__unpack(NULL, len, r->buf)) || r->header->version != 1 ||
	    r->header->node.len != KEY_BYTES || (r->header->has_root && r->header->root.len != KEY_BYTES)) {
		err_set(e, "%s: the bundle header is damaged or of an unknown version", path);
		ret = -EINVAL;
		goto out;
	}
	if (r->header->base.n_unknown_fields) {
		err_set(e, "%s: the bundle header at byte %u holds an unknown field (number %u): refused, as every "
			"unsigned byte of a bundle is (docs/PROTOCOL.md, \"Bundles\")", path, BUNDLE_MAGIC_LEN,
			(unsigned)r->header->base.unknown_fields[0].tag);
		ret = -EINVAL;
		goto out;
	}
	*out = r;
	r = NULL;
	ret = 0;
out:
	bundle_close(&r);
	return ret;
}

void bundle_close(struct bundle_reader **r)
{
	if (!r || !*r)
		return;
	if ((*r)->f)
		fclose((*r)->f);
	if ((*r)->header)
		strata__bundle_header__free_unpacked((*r)->header, NULL);
	if ((*r)->frame)
		strata__frame__free_unpacked((*r)->frame, NULL);
	free((*r)->salv_off);
	free((*r)->salv_len);
	free((*r)->buf);
	free((*r)->path);
	free(*r);
	*r = NULL;
}

const Strata__BundleHeader *bundle_header(const struct bundle_reader *r)
{
	return r->header;
}

size_t bundle_entry_index(const struct bundle_reader *r)
{
	return r->entries;
}

void bundle_entry_place(const struct bundle_reader *r, size_t *frame, uint64_t *offset)
{
	size_t stop, n = 0, want = r->next ? r->next - 1 : 0, *off, *len;

	*frame = r->frames;
	*offset = r->rec_off;
	if (r->damaged) {
		if (r->salv_next)
			*offset = r->rec_off + 4 + r->salv_off[r->salv_next - 1];
		return;
	}
	if (!r->frame || r->frame->msg_case != STRATA__FRAME__MSG_ENTRIES)
		return;
	n = r->frame->entries->n_envelopes;
	off = calloc(n ? n : 1, sizeof *off);
	len = calloc(n ? n : 1, sizeof *len);
	/* the exporter's encoding: the envelopes in the record's bytes */
	if (off && len && scan_entries(r->buf, r->got, off, len, &stop) == n && want < n)
		*offset = r->rec_off + 4 + off[want];
	free(off);
	free(len);
}

/* The next record as a frame into r->frame: 1; 2 at a clean end of the
 * file; 0 when the record is cut short or does not decode (its whole
 * envelopes are then returned, then the damage: salvage); -EBADMSG (e)
 * when not even that can be read; -ENOMEM. */
static int next_frame(struct bundle_reader *r, struct err *e)
{
	size_t rl = 0;
	int ret;

	if (r->frame) {
		strata__frame__free_unpacked(r->frame, NULL);
		r->frame = NULL;
	}
	r->next = 0;
	ret = read_record(r, &rl, e);
	if (ret == -ENOMEM || (ret < 0 && r->got == 0))
		return ret;
	if (ret == 0)
		return 2;
	r->frames++;
	if (ret < 0 || !(r->frame = strata__frame__unpack(NULL, rl, r->buf))) {
		memset(e, 0, sizeof *e); /* the damage is reported after what is whole */
		if ((ret = salvage(r, ret < 0 ? "truncated" : "damaged", 0)) < 0)
			err_set(e, "out of memory");
		return ret;
	}
	return 1;
}

/* The field number of the first unknown field of m, or 0. */
static unsigned unknown_field(const ProtobufCMessage *m)
{
	return m && m->n_unknown_fields ? (unsigned)m->unknown_fields[0].tag : 0;
}

/* The unsigned slack of the frame just read (docs/PROTOCOL.md, "Bundles"):
 * an unknown field in the Frame or the message it holds, and an Entries
 * frame whose batch is not the running count of entries through it (what
 * the exporter writes). 0; 1 when the unknown field is inside the Entries,
 * which is then salvaged like damage; -EBADMSG naming the frame and its
 * byte; -ENOMEM. */
static int frame_slack(struct bundle_reader *r, struct err *e)
{
	const Strata__Frame *f = r->frame;
	const ProtobufCMessage *inner = NULL;
	unsigned tag = unknown_field(&f->base);

	switch (f->msg_case) {
	case STRATA__FRAME__MSG_ENTRIES: inner = &f->entries->base; break;
	case STRATA__FRAME__MSG_EVIDENCE: inner = &f->evidence->base; break;
	case STRATA__FRAME__MSG_CHECKPOINT: inner = &f->checkpoint->base; break;
	case STRATA__FRAME__MSG_END: inner = &f->end->base; break;
	default: break;
	}
	if (!tag && f->msg_case == STRATA__FRAME__MSG_ENTRIES && (tag = unknown_field(inner))) {
		/* inside the Entries: the envelopes before it are whole (issue 11) */
		strata__frame__free_unpacked(r->frame, NULL);
		r->frame = NULL;
		if (salvage(r, "damaged", tag) < 0) {
			err_set(e, "out of memory");
			return -ENOMEM;
		}
		return 1;
	}
	if (!tag)
		tag = unknown_field(inner);
	if (tag) {
		err_set(e, "%s: frame %zu at byte %llu holds an unknown field (number %u): refused, as every unsigned "
			"byte of a bundle is (after entry %zu)", r->path, r->frames, (unsigned long long)r->rec_off, tag,
			r->entries);
		return -EBADMSG;
	}
	if (f->msg_case == STRATA__FRAME__MSG_ENTRIES && f->entries->batch != r->entries + f->entries->n_envelopes) {
		err_set(e, "%s: frame %zu at byte %llu: its batch number is %llu, not %zu, the count of entries in the "
			"bundle through this frame", r->path, r->frames, (unsigned long long)r->rec_off,
			(unsigned long long)f->entries->batch, r->entries + f->entries->n_envelopes);
		return -EBADMSG;
	}
	return 0;
}

/* The end record just read: its counts against what the bundle held, then
 * nothing after it. 0, or -EBADMSG naming the byte. */
static int end_check(struct bundle_reader *r, struct err *e)
{
	const Strata__BundleEnd *end = r->frame->end;
	unsigned long long at = (unsigned long long)r->rec_off;
	int c;

	if (end->entries != r->entries) {
		err_set(e, "%s: the end record at byte %llu counts %llu entries, the bundle holds %zu", r->path, at,
			(unsigned long long)end->entries, r->entries);
		return -EBADMSG;
	}
	/* checkpoints absent: none; evidence absent: not counted (older exporters) */
	if ((end->has_checkpoints ? end->checkpoints : 0) != r->checkpoints) {
		err_set(e, "%s: the end record at byte %llu counts %llu checkpoint frames, the bundle holds %zu", r->path,
			at, (unsigned long long)(end->has_checkpoints ? end->checkpoints : 0), r->checkpoints);
		return -EBADMSG;
	}
	if (end->has_evidence && end->evidence != r->evidence) {
		err_set(e, "%s: the end record at byte %llu counts %llu evidence frames, the bundle holds %zu", r->path,
			at, (unsigned long long)end->evidence, r->evidence);
		return -EBADMSG;
	}
	if ((c = fgetc(r->f)) != EOF) {
		long long more = 1;

		if (fseek(r->f, 0, SEEK_END) == 0 && ftell(r->f) >= 0)
			more = (long long)ftell(r->f) - (long long)r->pos;
		err_set(e, "%s: %lld byte%s after the end record, from byte %llu: refused (nothing may follow it)", r->path,
			more, more == 1 ? "" : "s", (unsigned long long)r->pos);
		return -EBADMSG;
	}
	return 0;
}

int bundle_next(struct bundle_reader *r, const uint8_t **env, size_t *len, const Strata__Evidence **evidence,
		struct err *e)
{
	for (;;) {
		int ret;

		if (r->damaged) {
			if (r->salv_next < r->salv_n) {
				*env = r->buf + r->salv_off[r->salv_next];
				*len = r->salv_len[r->salv_next++];
				r->entries++;
				return 1;
			}
			memset(e, 0, sizeof *e);
			err_set(e, "%s", r->damage.msg);
			return -EBADMSG;
		}
		if (r->frame && r->frame->msg_case == STRATA__FRAME__MSG_ENTRIES &&
		    r->next < r->frame->entries->n_envelopes) {
			ProtobufCBinaryData *b = &r->frame->entries->envelopes[r->next++];

			*env = b->data;
			*len = b->len;
			r->entries++;
			return 1;
		}
		if (r->ended)
			return 0;
		if ((ret = next_frame(r, e)) < 0)
			return ret;
		if (ret == 0)
			continue; /* a damaged record: its whole envelopes, then the damage */
		if (ret == 2) {
			err_set(e, "%s: truncated at byte %llu after entry %zu (no end record)", r->path,
				(unsigned long long)r->pos, r->entries);
			return -EBADMSG;
		}
		if ((ret = frame_slack(r, e)) < 0)
			return ret;
		if (ret == 1)
			continue; /* damaged inside its Entries: salvaged like a record that does not decode */
		switch (r->frame->msg_case) {
		case STRATA__FRAME__MSG_ENTRIES:
			continue;
		case STRATA__FRAME__MSG_EVIDENCE:
			r->evidence++;
			if (evidence) {
				*evidence = r->frame->evidence;
				*len = 0;
				return 1;
			}
			continue;
		case STRATA__FRAME__MSG_CHECKPOINT:
			r->checkpoints++; /* counted for the end record, not interpreted here */
			if (r->on_ckpt && (ret = r->on_ckpt(r->frame->checkpoint->note.data, r->frame->checkpoint->note.len,
							    r->ckpt_arg, e)) < 0)
				return ret;
			continue;
		case STRATA__FRAME__MSG_END:
			if ((ret = end_check(r, e)) < 0)
				return ret;
			r->ended = true;
			return 0;
		default:
			err_set(e, "%s: an unexpected record at byte %llu (frame %zu, after entry %zu)", r->path,
				(unsigned long long)r->rec_off, r->frames, r->entries);
			return -EBADMSG;
		}
	}
}
