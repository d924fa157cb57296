/*
 * files: the carver.  One struct carve per file in flight holds an open
 * temporary file, the running SHA-256 and the first bytes (for libmagic);
 * the carver itself holds the magic cookie and the counters.
 *
 * The temporary name is DIR/DAY/files/.part-CONN-SEQ (hidden, unique in
 * the process); at the end it is renamed to the digest, or unlinked when
 * that digest is already there (same content, one file).  The day is the
 * day of the file's first byte, as for its record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <magic.h>

#include "files.h"
#include "layers.h"

#define HEAD_BYTES	4096	/* what libmagic sees */
#define NAME_MAX_KEPT	2048	/* longer names are cut (and say so) */
#define MIME_SLOTS	256	/* MIME types remembered by content hash */
#define MIME_MAX	96
#define WBUF_BYTES	(16 * 1024)	/* bytes past the head written at once */
#define WBUF_TOTAL	(4u << 20)	/* all carves' write buffers together */

/* libmagic costs far more than carving (tens of regex passes per call),
 * and a honeynet sees the same toolkit fetched again and again: the type of
 * a content hash is looked up once.  Same hash, same bytes, same type. */
struct mime_slot {
	char	sha[SHA256_HEXLEN];
	char	mime[MIME_MAX];
};

struct carver {
	const struct fb_config	*cfg;
	magic_t			 magic;
	struct mime_slot	 mime[MIME_SLOTS];
	uint64_t		 seq;
	struct carver_stats	 st;
	size_t			 wbuf_total;	/* bytes of write buffers held */
};

struct carve {
	struct layers		*l;
	struct carver		*c;
	fb_ns			 start;
	char			*proto, *name, *encoding;
	bool			 name_cut;
	uint64_t		 conn_id, ctrl_conn_id;
	bool			 upload;
	struct fb_addr		 src, dst, honeypot;
	uint16_t		 sport, dport;
	int64_t			 announced;

	int			 fd;		/* -1 until the first byte */
	char			 tmp[512];
	struct sha256		 hash;
	uint64_t		 size;
	uint8_t			*head;		/* up to HEAD_BYTES, grown as they come */
	size_t			 head_len, head_cap;
	enum carve_trunc	 trunc;		/* first reason, or COMPLETE */
	bool			 stopped;
	uint8_t			*wbuf;		/* WBUF_BYTES past the head, or NULL */
	size_t			 wlen;		/* ... waiting to be written */
};

const char *
carve_trunc_name(enum carve_trunc t)
{
	switch (t) {
	case CARVE_COMPLETE:	return "complete";
	case CARVE_GAP:		return "gap";
	case CARVE_CAP:		return "size-cap";
	case CARVE_DISK:	return "disk-budget";
	case CARVE_EARLY_END:	return "ended-early";
	case CARVE_DECODE:	return "decode-error";
	case CARVE_FRAMING:	return "bad-framing";
	case CARVE_ERROR:	return "write-error";
	}
	return "?";
}

struct carver *
carver_new(const struct fb_config *cfg)
{
	struct carver *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->cfg = cfg;
	/* MAGIC_NO_CHECK_COMPRESS: never decompress attacker data in libmagic. */
	c->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
	if (c->magic == NULL || magic_load(c->magic, NULL) != 0) {
		log_warnx("files: cannot load the magic database (%s): MIME types "
		    "will be unknown", c->magic != NULL ? magic_error(c->magic) : "?");
		if (c->magic != NULL)
			magic_close(c->magic);
		c->magic = NULL;
	}
	return c;
}

void
carver_free(struct carver *c)
{
	if (c == NULL)
		return;
	if (c->magic != NULL)
		magic_close(c->magic);
	free(c);
}

void
carver_stats(const struct carver *c, struct carver_stats *st)
{
	if (c == NULL)
		memset(st, 0, sizeof(*st));
	else
		*st = c->st;
}

void
carver_status_json(const struct carver *c, struct jbuf *jb)
{
	if (c == NULL)
		return;
	jb_obj_begin(jb, "files");
	jb_u64(jb, "files", c->st.files);
	jb_u64(jb, "complete", c->st.complete);
	jb_u64(jb, "truncated", c->st.truncated);
	jb_u64(jb, "duplicates", c->st.duplicates);
	jb_u64(jb, "mime_cached", c->st.mime_cached);
	jb_u64(jb, "bytes", c->st.bytes);
	jb_u64(jb, "errors", c->st.errors);
	jb_obj_end(jb);
}

static char *
dup_bounded(const char *s, size_t max, bool *cut)
{
	size_t n;
	char *d;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	if (n > max) {
		n = max;
		if (cut != NULL)
			*cut = true;
	}
	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

struct carve *
carve_begin(struct layers *l, fb_ns ts, const struct carve_meta *m)
{
	struct carve *cv;

	if (l == NULL || l->carver == NULL)
		return NULL;
	if ((cv = calloc(1, sizeof(*cv))) == NULL)
		return NULL;
	cv->l = l;
	cv->c = l->carver;
	cv->start = ts;
	cv->proto = dup_bounded(m->proto != NULL ? m->proto : "?", 16, NULL);
	cv->name = dup_bounded(m->name, NAME_MAX_KEPT, &cv->name_cut);
	cv->encoding = dup_bounded(m->encoding, 64, NULL);
	cv->conn_id = m->conn_id;
	cv->ctrl_conn_id = m->ctrl_conn_id;
	cv->upload = m->upload;
	cv->src = m->src;
	cv->dst = m->dst;
	cv->sport = m->sport;
	cv->dport = m->dport;
	cv->honeypot = m->honeypot;
	cv->announced = m->announced;
	cv->fd = -1;
	return cv;
}

void
carve_stop(struct carve *cv, enum carve_trunc why)
{
	if (cv == NULL || cv->stopped)
		return;
	cv->stopped = true;
	if (cv->trunc == CARVE_COMPLETE)
		cv->trunc = why;
}

void
carve_set_name(struct carve *cv, const char *name)
{
	if (cv == NULL)
		return;
	free(cv->name);
	cv->name_cut = false;
	cv->name = dup_bounded(name, NAME_MAX_KEPT, &cv->name_cut);
}

bool
carve_stopped(const struct carve *cv)
{
	return cv == NULL || cv->stopped;
}

uint64_t
carve_size(const struct carve *cv)
{
	return cv != NULL ? cv->size : 0;
}

static bool
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Creates the temporary file and writes what the head holds so far. */
static bool
carve_open(struct carve *cv)
{
	char name[64];

	snprintf(name, sizeof(name), ".part-%llu-%llu", (unsigned long long)cv->conn_id,
	    (unsigned long long)++cv->c->seq);
	cv->fd = layers_day_open(cv->l, cv->start, "files", name,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640,
	    cv->tmp, sizeof(cv->tmp));
	if (cv->fd < 0)
		return false;
	return write_all(cv->fd, cv->head, cv->head_len);
}

/*
 * Bytes past the head are written WBUF_BYTES at a time, not one write(2)
 * per TCP chunk (a 1.4 KB write per segment of a download); at most
 * WBUF_TOTAL of buffers in all, past that a carve writes as before.  A
 * write error is then seen up to WBUF_BYTES late: the record's size and
 * digest count the buffered bytes, which the truncated ("write-error")
 * file lacks.
 */
static bool
carve_flush(struct carve *cv)
{
	bool ok = cv->wlen == 0 || write_all(cv->fd, cv->wbuf, cv->wlen);

	cv->wlen = 0;
	return ok;
}

static bool
carve_out(struct carve *cv, const uint8_t *p, size_t n)
{
	if (cv->wbuf == NULL && cv->c->wbuf_total + WBUF_BYTES <= WBUF_TOTAL &&
	    (cv->wbuf = malloc(WBUF_BYTES)) != NULL)
		cv->c->wbuf_total += WBUF_BYTES;
	if (cv->wbuf == NULL)
		return write_all(cv->fd, p, n);
	if (cv->wlen + n > WBUF_BYTES && !carve_flush(cv))
		return false;
	if (n >= WBUF_BYTES)
		return write_all(cv->fd, p, n);
	memcpy(cv->wbuf + cv->wlen, p, n);
	cv->wlen += n;
	return true;
}

static void
carve_fail(struct carve *cv)
{
	cv->c->st.errors++;
	log_warn("files: %s", cv->tmp[0] != '\0' ? cv->tmp : "cannot create a file");
	carve_stop(cv, CARVE_ERROR);
}

/*
 * A file's first HEAD_BYTES stay in memory (libmagic wants them anyway)
 * and the temporary file is created only when more come: a small file
 * whose digest is already in files/ -- the same page or toolkit fetched
 * again -- then costs no file at all.  Creating and unlinking a temporary
 * file per duplicate was most of the replay's system time (ext4 scans its
 * recently deleted inodes on every create).
 */
void
carve_write(struct carve *cv, const uint8_t *p, size_t n)
{
	uint64_t room;
	bool cut = false;

	if (cv == NULL || cv->stopped || n == 0)
		return;
	room = cv->c->cfg->file_max_bytes - FB_MIN(cv->size, cv->c->cfg->file_max_bytes);
	if (room == 0) {
		carve_stop(cv, CARVE_CAP);
		return;
	}
	if (n > room) {
		n = (size_t)room;
		cut = true;
	}
	if (!layers_disk_take(cv->l, cv->start, n)) {
		carve_stop(cv, CARVE_DISK);
		return;
	}
	if (cv->size == 0 && sha256_init(&cv->hash) != 0) {
		carve_fail(cv);
		return;
	}
	if (cv->fd < 0 && cv->head_len + n > HEAD_BYTES && !carve_open(cv)) {
		carve_fail(cv);
		return;
	}
	if (cv->fd >= 0 && !carve_out(cv, p, n)) {
		carve_fail(cv);
		return;
	}
	sha256_update(&cv->hash, p, n);
	if (cv->head_len < HEAD_BYTES) {
		size_t k = FB_MIN(n, HEAD_BYTES - cv->head_len);

		if (cv->head_len + k > cv->head_cap) {
			/* Most carved bodies are small: the head is allocated
			 * as they grow, not 4 KB per file. */
			cv->head_cap = FB_MIN(HEAD_BYTES, FB_MAX(FB_MAX(2 * cv->head_cap,
			    cv->head_len + k), 1024));
			cv->head = xrealloc(cv->head, 1, cv->head_cap);
		}
		memcpy(cv->head + cv->head_len, p, k);
		cv->head_len += k;
	}
	cv->size += n;
	cv->c->st.bytes += n;
	if (cut)
		carve_stop(cv, CARVE_CAP);
}

static void
carve_free(struct carve *cv)
{
	if (cv->fd >= 0) {
		close(cv->fd);
		unlink(cv->tmp);
	}
	if (cv->wbuf != NULL) {
		free(cv->wbuf);
		cv->c->wbuf_total -= WBUF_BYTES;
	}
	sha256_abort(&cv->hash);
	free(cv->head);
	free(cv->proto);
	free(cv->name);
	free(cv->encoding);
	free(cv);
}

void
carve_discard(struct carve *cv)
{
	if (cv != NULL)
		carve_free(cv);
}

/* Renames the temporary file to its digest; an existing file of that name
 * has the same content, so ours goes.  A file still all in the head gets
 * its temporary file only when no such file exists. */
static bool
carve_commit(struct carve *cv, const char *hex)
{
	char final[512];
	struct stat sb;
	int fd = cv->fd;

	cv->fd = -1;
	if (fd >= 0 && close(fd) != 0) {
		unlink(cv->tmp);
		return false;
	}
	if (layers_day_path(cv->l, cv->start, "files", final, sizeof(final)) != 0 ||
	    strlen(final) + 1 + SHA256_HEXLEN > sizeof(final))
		goto fail;
	strcat(final, "/");
	strcat(final, hex);
	if (lstat(final, &sb) == 0) {
		cv->c->st.duplicates++;
		if (fd >= 0)
			unlink(cv->tmp);
		return true;
	}
	if (fd < 0) {
		if (!carve_open(cv))
			goto fail;
		fd = cv->fd;
		cv->fd = -1;
		if (close(fd) != 0)
			goto fail;
	}
	if (rename(cv->tmp, final) != 0)
		goto fail;
	return true;
fail:
	if (fd >= 0)
		unlink(cv->tmp);
	else if (cv->fd >= 0) {
		close(cv->fd);
		cv->fd = -1;
		unlink(cv->tmp);
	}
	return false;
}

/* The MIME type of the carved bytes (hex: their SHA-256), or NULL. */
static const char *
carve_mime(struct carve *cv, const char *hex)
{
	struct mime_slot *slot;
	const char *mime;
	unsigned i = 0;

	if (cv->c->magic == NULL)
		return NULL;
	for (int k = 0; k < 2 && hex[k] != '\0'; k++)
		i = i * 16 + (unsigned)(hex[k] <= '9' ? hex[k] - '0' : hex[k] - 'a' + 10);
	slot = &cv->c->mime[i % MIME_SLOTS];
	if (strcmp(slot->sha, hex) == 0) {
		cv->c->st.mime_cached++;
		return slot->mime;
	}
	mime = magic_buffer(cv->c->magic, cv->head, cv->head_len);
	if (mime == NULL || strlen(mime) >= sizeof(slot->mime))
		return mime;
	fb_strlcpy(slot->sha, hex, sizeof(slot->sha));
	fb_strlcpy(slot->mime, mime, sizeof(slot->mime));
	return slot->mime;
}

static void
carve_record(struct carve *cv, fb_ns ts, const char *hex)
{
	char a[FB_ADDRSTRLEN];
	const char *mime = carve_mime(cv, hex);
	struct jbuf jb;

	jb_init(&jb);
	jb_begin(&jb);
	jb_time(&jb, "ts", cv->start);
	jb_time(&jb, "end", ts);
	jb_u64(&jb, "conn", cv->conn_id);
	if (cv->ctrl_conn_id != 0)
		jb_u64(&jb, "ctrl_conn", cv->ctrl_conn_id);
	jb_str(&jb, "proto", cv->proto);
	jb_str(&jb, "direction", cv->upload ? "upload" : "download");
	jb_str(&jb, "honeypot", addr_fmt(&cv->honeypot, a));
	jb_str(&jb, "src", addr_fmt(&cv->src, a));
	jb_u64(&jb, "sport", cv->sport);
	jb_str(&jb, "dst", addr_fmt(&cv->dst, a));
	jb_u64(&jb, "dport", cv->dport);
	if (cv->name != NULL)
		jb_str(&jb, "name", cv->name);
	else
		jb_null(&jb, "name");
	if (cv->name_cut)
		jb_bool(&jb, "name_cut", true);
	jb_u64(&jb, "size", cv->size);
	if (cv->announced >= 0)
		jb_u64(&jb, "announced", (uint64_t)cv->announced);
	if (cv->encoding != NULL)
		jb_str(&jb, "encoding", cv->encoding);
	jb_str(&jb, "sha256", hex);
	if (mime != NULL)
		jb_str(&jb, "mime", mime);
	else
		jb_null(&jb, "mime");
	jb_bool(&jb, "complete", cv->trunc == CARVE_COMPLETE);
	if (cv->trunc != CARVE_COMPLETE)
		jb_str(&jb, "truncated", carve_trunc_name(cv->trunc));
	jb_end(&jb);
	layers_append(cv->l, cv->start, "files.jsonl", jb.p, jb.len);
	jb_free(&jb);
	cv->c->st.files++;
	if (cv->trunc == CARVE_COMPLETE)
		cv->c->st.complete++;
	else
		cv->c->st.truncated++;
}

bool
carve_end(struct carve *cv, fb_ns ts, enum carve_trunc why, char sha[SHA256_HEXLEN])
{
	uint8_t d[SHA256_LEN];
	char hex[SHA256_HEXLEN];
	bool done = false;

	if (sha != NULL)
		sha[0] = '\0';
	if (cv == NULL)
		return false;
	if (cv->fd >= 0 && !carve_flush(cv))
		carve_fail(cv);		/* first: it happened before the end */
	if (cv->trunc == CARVE_COMPLETE)
		cv->trunc = why;
	/* Bytes on disk or in the head; a file that could not be created
	 * (CARVE_ERROR with nothing on disk) has no record, as before. */
	if (cv->fd >= 0 || (cv->size > 0 && cv->trunc != CARVE_ERROR)) {
		sha256_final(&cv->hash, d);
		sha256_hex(d, hex);
		if (carve_commit(cv, hex)) {
			carve_record(cv, ts, hex);
			if (sha != NULL)
				memcpy(sha, hex, SHA256_HEXLEN);
			done = true;
		} else {
			carve_fail(cv);
		}
	}
	carve_free(cv);
	return done;
}
