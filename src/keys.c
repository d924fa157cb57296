/*
 * keys: the line editor and the keystrokes.jsonl writer (see keys.h).
 *
 * The editor follows a terminal in canonical mode (stty sane), which is
 * what the intruder's shell saw; it cannot know what a shell's own line
 * editing (history, completion) did, so escape sequences are dropped from
 * the line and left in raw for the analyst.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "layers.h"

#define ESC_MAX		16	/* longest escape sequence followed */

enum esc_state { ESC_NONE, ESC_START, ESC_CSI, ESC_SS3 };

struct keyline {
	struct layers		*l;
	struct key_origin	 o;
	char			 source[16];
	char			 command[64];
	uint8_t			 line[KEYS_LINE_MAX];
	size_t			 n;
	uint8_t			 raw[KEYS_RAW_MAX];
	size_t			 rawn;
	fb_ns			 start;		/* first key of the line, 0 none */
	bool			 last_cr;
	enum esc_state		 esc;
	unsigned		 esclen;
};

static void
record(struct layers *l, fb_ns start, fb_ns ts, const struct key_origin *o,
    const void *line, size_t n, const void *raw, size_t rawn)
{
	char b[FB_ADDRSTRLEN];
	struct jbuf jb;

	jb_init(&jb);
	jb_begin(&jb);
	jb_time(&jb, "ts", ts);
	jb_time(&jb, "start", start);
	if (!addr_is_unspecified(&o->honeypot))
		jb_str(&jb, "honeypot", addr_fmt(&o->honeypot, b));
	jb_str(&jb, "source", o->source != NULL ? o->source : "unknown");
	if (o->has_conn) {
		jb_u64(&jb, "conn_id", o->conn_id);
		jb_str(&jb, "src", addr_fmt(&o->src, b));
		jb_u64(&jb, "sport", o->sport);
		jb_str(&jb, "dst", addr_fmt(&o->dst, b));
		jb_u64(&jb, "dport", o->dport);
	}
	if (o->has_proc) {
		jb_u64(&jb, "pid", o->pid);
		jb_u64(&jb, "uid", o->uid);
		jb_u64(&jb, "fd", o->fd);
		jb_u64(&jb, "inode", o->inode);
		if (o->command != NULL)
			jb_str(&jb, "command", o->command);
	}
	jb_strn(&jb, "line", line, n);
	if (raw != NULL)
		jb_strn(&jb, "raw", raw, rawn);
	jb_end(&jb);
	/* Its own day's share: a flood of forged Sebek records or syslog
	 * lines must not fill the disk through keystrokes.jsonl either. */
	if (layers_record_take(l, LREC_KEYS, ts, jb.len) &&
	    layers_append(l, ts, "keystrokes.jsonl", jb.p, jb.len) == 0)
		l->st.keystroke_lines++;
	jb_free(&jb);
}

void
keys_line(struct layers *l, fb_ns ts, const struct key_origin *o, const char *line,
    size_t n, const uint8_t *raw, size_t rawn)
{
	if (l == NULL || o == NULL || line == NULL)
		return;
	record(l, ts, ts, o, line, n, raw, rawn);
}

struct keyline *
keyline_new(struct layers *l, const struct key_origin *o)
{
	struct keyline *k;

	if (l == NULL || o == NULL)
		return NULL;
	k = xcalloc(1, sizeof(*k));
	k->l = l;
	k->o = *o;
	fb_strlcpy(k->source, o->source != NULL ? o->source : "unknown", sizeof(k->source));
	k->o.source = k->source;
	if (o->command != NULL) {
		fb_strlcpy(k->command, o->command, sizeof(k->command));
		k->o.command = k->command;
	}
	return k;
}

/* A line that is only its terminator (Enter on an empty prompt) says
 * nothing; one whose keys were all erased does. */
static void
emit(struct keyline *k, fb_ns ts)
{
	if (k->n > 0 || k->rawn > 1)
		record(k->l, k->start != 0 ? k->start : ts, ts, &k->o, k->line, k->n,
		    k->raw, k->rawn);
	k->n = k->rawn = 0;
	k->start = 0;
}

static void
put(struct keyline *k, fb_ns ts, uint8_t c)
{
	if (k->n >= KEYS_LINE_MAX)
		emit(k, ts);	/* a line that long is written in pieces */
	k->line[k->n++] = c;
}

static void
put_caret(struct keyline *k, fb_ns ts, uint8_t c)
{
	put(k, ts, '^');
	put(k, ts, c == 0x7f ? '?' : (uint8_t)(c + '@'));
}

/* Erases one character: a UTF-8 sequence's continuation bytes go with it. */
static void
erase_char(struct keyline *k)
{
	while (k->n > 0 && (k->line[k->n - 1] & 0xc0) == 0x80)
		k->n--;
	if (k->n > 0)
		k->n--;
}

static void
erase_word(struct keyline *k)
{
	while (k->n > 0 && (k->line[k->n - 1] == ' ' || k->line[k->n - 1] == '\t'))
		k->n--;
	while (k->n > 0 && k->line[k->n - 1] != ' ' && k->line[k->n - 1] != '\t')
		k->n--;
}

/* Inside an escape sequence: true while c belongs to it. */
static bool
in_escape(struct keyline *k, uint8_t c)
{
	if (k->esc == ESC_NONE)
		return false;
	if (++k->esclen > ESC_MAX) {
		k->esc = ESC_NONE;	/* not a sequence we know: back to text */
		return false;
	}
	switch (k->esc) {
	case ESC_START:
		k->esc = c == '[' ? ESC_CSI : c == 'O' ? ESC_SS3 : ESC_NONE;
		break;
	case ESC_CSI:
		if (c >= 0x40 && c <= 0x7e)
			k->esc = ESC_NONE;
		break;
	default:
		k->esc = ESC_NONE;
		break;
	}
	return true;
}

static void
key(struct keyline *k, fb_ns ts, uint8_t c)
{
	if (k->last_cr && (c == '\n' || c == '\0')) {
		k->last_cr = false;	/* CR LF, CR NUL: one line end */
		return;
	}
	k->last_cr = false;
	if (k->start == 0)
		k->start = ts;
	if (k->rawn < KEYS_RAW_MAX)
		k->raw[k->rawn++] = c;
	if (in_escape(k, c))
		return;
	switch (c) {
	case '\r':
	case '\n':
		k->last_cr = c == '\r';
		emit(k, ts);
		break;
	case 0x08:
	case 0x7f:
		erase_char(k);
		break;
	case 0x15:	/* ^U */
		k->n = 0;
		break;
	case 0x17:	/* ^W */
		erase_word(k);
		break;
	case 0x03:	/* ^C */
	case 0x04:	/* ^D */
		put_caret(k, ts, c);
		emit(k, ts);
		break;
	case 0x1b:
		k->esc = ESC_START;
		k->esclen = 0;
		break;
	case '\t':
		put(k, ts, c);
		break;
	case '\0':
		break;		/* padding */
	default:
		if (c < 0x20)
			put_caret(k, ts, c);
		else
			put(k, ts, c);
		break;
	}
}

void
keyline_feed(struct keyline *k, fb_ns ts, const uint8_t *p, size_t n)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < n; i++)
		key(k, ts, p[i]);
}

void
keyline_flush(struct keyline *k, fb_ns ts)
{
	if (k != NULL && (k->n > 0 || k->rawn > 0))
		emit(k, ts);
}

void
keyline_free(struct keyline *k, fb_ns ts)
{
	if (k == NULL)
		return;
	keyline_flush(k, ts);
	free(k);
}
