/*
 * sebek: the Sebek v3 collector (see sebek.h).
 *
 * Two tables, both chained hashes allocated as entries appear (never per
 * packet for a known honeypot or process): honeypots by address (MAC,
 * counter, loss, skew), bounded by [engine] max_honeypots; processes by
 * (honeypot, pid, inode, fd) holding the keystroke line being typed,
 * bounded by PROC_MAX and emptied of quiet processes by sebek_tick.
 *
 * The hashes are keyed by a secret seed (addr_hash_seed): pids, inodes
 * and fds are whatever a record says, and with a fixed seed an intruder
 * who forges records could chain all PROC_MAX processes in one bucket and
 * make every record cost thousands of comparisons on the gateway's
 * thread.  Whatever walks a table in an order someone sees (the partial
 * lines flushed by sebek_tick and at the end, the status list) walks the
 * entries in the order they were created instead, so the output is the
 * same from run to run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "sebek.h"

#define HP_BUCKETS	4096
#define PROC_BUCKETS	4096
#define PROC_MAX	16384
#define PROC_IDLE	(600 * FB_NS_PER_SEC)	/* partial line written out after */
#define STATUS_HP_MAX	64			/* honeypots listed in status */

struct sebek_hp {
	struct sebek_hp	*next;
	struct sebek_hp	*age_next;	/* in the order they appeared */
	struct fb_addr	 addr;
	uint8_t		 mac[6];
	bool		 mac_alerted;
	bool		 have_counter;
	uint32_t	 last_counter;
	uint64_t	 records, lost, mac_mismatch;
	int64_t		 skew_ns, max_skew_ns;	/* last, largest magnitude */
	fb_ns		 last_seen;
};

struct sebek_proc {
	struct sebek_proc *next;
	struct sebek_proc *age_prev, *age_next;	/* in the order they appeared */
	struct fb_addr	 hp;
	uint32_t	 pid, inode, fd;
	struct sebek_hdr last;		/* uid, com of the latest record */
	uint8_t		*buf;
	size_t		 len, cap;
	fb_ns		 first, last_ts;
	void		*kctx;		/* the key consumer's, per process */
};

struct sebek {
	const struct fb_config	*cfg;
	struct event_log	*events;
	struct layers		*budget;
	struct sebek_stats	 st;
	uint32_t		 seed;		/* secret: see the top */
	struct sebek_hp		*hp[HP_BUCKETS];
	struct sebek_hp		*hp_first, *hp_last;
	size_t			 n_hp;
	struct sebek_proc	*proc[PROC_BUCKETS];
	struct sebek_proc	*proc_first, *proc_last;
	size_t			 n_proc;
	const struct sebek_key_ops *kops;
	void			*arg;
};

/* Decoding */

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

enum sebek_err
sebek_decode(const uint8_t *p, size_t n, struct sebek_hdr *h, const uint8_t **data)
{
	memset(h, 0, sizeof(*h));
	*data = NULL;
	if (p == NULL || n < SEBEK_HDR_LEN)
		return SEBEK_SHORT;
	h->magic = be32(p);
	h->version = be16(p + 4);
	h->type = be16(p + 6);
	h->counter = be32(p + 8);
	h->time_sec = be32(p + 12);
	h->time_usec = be32(p + 16);
	h->ppid = be32(p + 20);
	h->pid = be32(p + 24);
	h->uid = be32(p + 28);
	h->fd = be32(p + 32);
	h->inode = be32(p + 36);
	memcpy(h->com, p + 40, 12);
	h->com[12] = '\0';
	h->length = be32(p + 52);
	if (h->version != SEBEK_VERSION)
		return SEBEK_VERSION_BAD;
	/* As sbk_extract: the record must fill the datagram exactly. */
	if (h->length != n - SEBEK_HDR_LEN)
		return SEBEK_LENGTH_BAD;
	*data = p + SEBEK_HDR_LEN;
	return SEBEK_OK;
}

bool
sebek_decode_sock(const uint8_t *d, size_t n, struct sebek_sock *s)
{
	if (n < 15)
		return false;
	memcpy(s->dst_ip, d, 4);
	s->dst_port = be16(d + 4);
	memcpy(s->src_ip, d + 6, 4);
	s->src_port = be16(d + 10);
	s->call = be16(d + 12);
	s->proto = d[14];
	return true;
}

const char *
sebek_type_name(uint16_t type)
{
	static const char *const names[] = { "read", "write", "socket", "open" };

	return type < nitems(names) ? names[type] : "unknown";
}

/* The escape sequences sbk_ks_log.pl names; longest first. */
static const struct { const char *seq; const char *name; } ks_names[] = {
	{ "\033[3~", "[DEL]" }, { "\033[5~", "[PAGE-U]" }, { "\033[6~", "[PAGE-D]" },
	{ "\033[A", "[U-ARROW]" }, { "\033[B", "[D-ARROW]" },
	{ "\033[C", "[R-ARROW]" }, { "\033[D", "[L-ARROW]" },
	{ "\033", "[ESC]" }, { "\177", "[BS]" },
};

size_t
sebek_keys_render(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	size_t o = 0, i = 0;

	if (outlen == 0)
		return 0;
	while (i < n) {
		const char *add = NULL;
		size_t used = 1, k;
		char c[2] = { (char)p[i], '\0' };

		for (k = 0; k < nitems(ks_names); k++) {
			size_t sl = strlen(ks_names[k].seq);

			if (sl <= n - i && memcmp(p + i, ks_names[k].seq, sl) == 0) {
				add = ks_names[k].name;
				used = sl;
				break;
			}
		}
		if (add == NULL && p[i] >= 32 && p[i] < 127)
			add = c;
		i += used;
		if (add == NULL)
			continue;	/* other non-printables are dropped */
		k = strlen(add);
		if (o + k >= outlen)
			break;
		memcpy(out + o, add, k);
		o += k;
	}
	out[o] = '\0';
	return o;
}

/* Tables */

static uint32_t
proc_hash(const struct sebek *s, const struct fb_addr *a, uint32_t pid, uint32_t inode,
    uint32_t fd)
{
	uint32_t h = addr_hash(a, s->seed);

	h ^= pid * 0x9e3779b1u;
	h ^= inode * 0x85ebca6bu + (h << 6) + (h >> 2);
	h ^= fd * 0xc2b2ae35u;
	return h;
}

static struct sebek_hp *
hp_get(struct sebek *s, const struct fb_addr *a, bool *created)
{
	uint32_t b = addr_hash(a, s->seed ^ 0x5eb3c0de) % HP_BUCKETS;
	struct sebek_hp *h;

	*created = false;
	for (h = s->hp[b]; h != NULL; h = h->next)
		if (addr_eq(&h->addr, a))
			return h;
	if (s->n_hp >= s->cfg->max_honeypots || (h = calloc(1, sizeof(*h))) == NULL) {
		s->st.table_full++;
		return NULL;
	}
	h->addr = *a;
	h->next = s->hp[b];
	s->hp[b] = h;
	if (s->hp_last != NULL)
		s->hp_last->age_next = h;
	else
		s->hp_first = h;
	s->hp_last = h;
	s->n_hp++;
	*created = true;
	return h;
}

static struct sebek_proc **
proc_slot(struct sebek *s, const struct fb_addr *a, const struct sebek_hdr *h)
{
	struct sebek_proc **pp;

	pp = &s->proc[proc_hash(s, a, h->pid, h->inode, h->fd) % PROC_BUCKETS];
	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->pid == h->pid && (*pp)->inode == h->inode &&
		    (*pp)->fd == h->fd && addr_eq(&(*pp)->hp, a))
			break;
	return pp;
}

/* Output */

static void
write_line(struct sebek *s, fb_ns ts, struct jbuf *jb)
{
	if (s->budget != NULL && !layers_record_take(s->budget, LREC_SEBEK, ts, jb->len))
		return;
	if (event_append(s->events, ts, "sebek.jsonl", jb->p, jb->len) != 0)
		s->st.write_errors++;
}

static void
fmt_mac(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
	    m[4], m[5]);
}

static fb_ns
record_time(const struct sebek_hdr *h)
{
	return (fb_ns)h->time_sec * FB_NS_PER_SEC + (fb_ns)(h->time_usec % 1000000) * 1000;
}

static void
json_ids(struct jbuf *jb, const struct sebek_hdr *h)
{
	jb_u64(jb, "ppid", h->ppid);
	jb_u64(jb, "pid", h->pid);
	jb_u64(jb, "uid", h->uid);
	jb_u64(jb, "fd", h->fd);
	jb_u64(jb, "inode", h->inode);
	jb_strn(jb, "com", h->com, strnlen(h->com, 12));
}

static void
json_sock(struct jbuf *jb, const uint8_t *data, size_t n)
{
	struct sebek_sock so;
	struct fb_addr a;
	char buf[FB_ADDRSTRLEN];

	if (!sebek_decode_sock(data, n, &so))
		return;
	jb_obj_begin(jb, "socket");
	addr_from_v4(&a, so.dst_ip);
	jb_str(jb, "dst", addr_fmt(&a, buf));
	jb_u64(jb, "dst_port", so.dst_port);
	addr_from_v4(&a, so.src_ip);
	jb_str(jb, "src", addr_fmt(&a, buf));
	jb_u64(jb, "src_port", so.src_port);
	jb_u64(jb, "call", so.call);
	jb_u64(jb, "proto", so.proto);
	jb_obj_end(jb);
}

static void
record_json(struct sebek *s, fb_ns ts, const struct fb_packet *p,
    const struct sebek_hdr *h, const uint8_t *data, int64_t skew)
{
	struct jbuf jb;
	char a[FB_ADDRSTRLEN], mac[18];

	jb_init(&jb);
	jb_begin(&jb);
	jb_time(&jb, "ts", ts);
	jb_str(&jb, "kind", "record");
	jb_str(&jb, "honeypot", addr_fmt(&p->src, a));
	fmt_mac(p->eth_src, mac);
	jb_str(&jb, "mac", mac);
	jb_u64(&jb, "magic", h->magic);
	jb_u64(&jb, "counter", h->counter);
	jb_time(&jb, "time", record_time(h));
	jb_i64(&jb, "skew_ms", skew / FB_NS_PER_MSEC);
	json_ids(&jb, h);
	jb_str(&jb, "type", sebek_type_name(h->type));
	jb_u64(&jb, "length", h->length);
	if (h->type == SEBEK_SOCKET)
		json_sock(&jb, data, h->length);
	jb_strn(&jb, "data", data, h->length);
	jb_end(&jb);
	write_line(s, ts, &jb);
	jb_free(&jb);
}

/* One keystroke line: the sbk_ks_log.pl rendering and the raw bytes. */
static void
line_out(struct sebek *s, fb_ns ts, struct sebek_proc *pr, const uint8_t *k, size_t n)
{
	struct jbuf jb;
	char a[FB_ADDRSTRLEN], text[SEBEK_LINE_MAX * 10];

	s->st.lines++;
	sebek_keys_render(k, n, text, sizeof(text));
	jb_init(&jb);
	jb_begin(&jb);
	jb_time(&jb, "ts", ts);
	jb_str(&jb, "kind", "line");
	jb_str(&jb, "honeypot", addr_fmt(&pr->hp, a));
	jb_time(&jb, "time", record_time(&pr->last));
	json_ids(&jb, &pr->last);
	jb_str(&jb, "line", text);
	jb_strn(&jb, "keys", k, n);
	jb_end(&jb);
	write_line(s, ts, &jb);
	jb_free(&jb);
}

/* Take pr out of its hash chain and the creation list (not freed). */
static void
proc_unlink(struct sebek *s, struct sebek_proc *pr)
{
	struct sebek_proc **pp;

	pp = &s->proc[proc_hash(s, &pr->hp, pr->pid, pr->inode, pr->fd) % PROC_BUCKETS];
	while (*pp != NULL && *pp != pr)
		pp = &(*pp)->next;
	if (*pp == pr)
		*pp = pr->next;
	if (pr->age_prev != NULL)
		pr->age_prev->age_next = pr->age_next;
	else
		s->proc_first = pr->age_next;
	if (pr->age_next != NULL)
		pr->age_next->age_prev = pr->age_prev;
	else
		s->proc_last = pr->age_prev;
}

static void
proc_free(struct sebek *s, struct sebek_proc *pr, fb_ns ts)
{
	/* A line typed but not ended still belongs in the record. */
	if (pr->len > 0)
		line_out(s, ts, pr, pr->buf, pr->len);
	if (pr->kctx != NULL)
		s->kops->close(s->arg, pr->kctx, ts);
	free(pr->buf);
	free(pr);
	s->n_proc--;
}

/* Keystrokes: read records of one process up to CR or LF. */
static void
keys_add(struct sebek *s, fb_ns ts, const struct fb_addr *hp, const struct sebek_hdr *h,
    const uint8_t *d, size_t n)
{
	struct sebek_proc **pp = proc_slot(s, hp, h), *pr = *pp;

	if (pr == NULL) {
		if (s->n_proc >= PROC_MAX || (pr = calloc(1, sizeof(*pr))) == NULL) {
			s->st.procs_full++;
			return;
		}
		pr->hp = *hp;
		pr->pid = h->pid, pr->inode = h->inode, pr->fd = h->fd;
		pr->first = ts;
		*pp = pr;
		pr->age_prev = s->proc_last;
		if (s->proc_last != NULL)
			s->proc_last->age_next = pr;
		else
			s->proc_first = pr;
		s->proc_last = pr;
		s->n_proc++;
		if (s->kops != NULL)
			pr->kctx = s->kops->open(s->arg, hp, h);
	}
	pr->last = *h;
	pr->last_ts = ts;
	if (pr->kctx != NULL)
		s->kops->feed(s->arg, pr->kctx, ts, d, n);
	for (size_t i = 0; i < n; i++) {
		if (d[i] == '\r' || d[i] == '\n') {
			if (pr->len > 0)
				line_out(s, ts, pr, pr->buf, pr->len);
			pr->len = 0;
			continue;
		}
		if (pr->len == pr->cap) {
			size_t ncap = pr->cap ? pr->cap * 2 : 128;
			uint8_t *nb;

			if (ncap > SEBEK_LINE_MAX) {
				/* Too long for a typed line: write what we have. */
				line_out(s, ts, pr, pr->buf, pr->len);
				pr->len = 0;
			} else if ((nb = realloc(pr->buf, ncap)) == NULL) {
				s->st.procs_full++;
				return;
			} else {
				pr->buf = nb;
				pr->cap = ncap;
			}
		}
		pr->buf[pr->len++] = d[i];
	}
}

/* The honeypot checks: address, MAC, counter, skew.  NULL: rejected. */
static struct sebek_hp *
hp_check(struct sebek *s, const struct fb_packet *p, const struct sebek_hdr *h,
    fb_ns ts, int64_t skew)
{
	struct sebek_hp *hp;
	bool created;

	if (!config_is_honeypot(s->cfg, &p->src)) {
		s->st.not_honeypot++;
		return NULL;
	}
	if ((hp = hp_get(s, &p->src, &created)) == NULL)
		return NULL;
	if (created)
		memcpy(hp->mac, p->eth_src, 6);
	else if (memcmp(hp->mac, p->eth_src, 6) != 0) {
		s->st.mac_mismatch++;
		hp->mac_mismatch++;
		if (!hp->mac_alerted) {
			char a[FB_ADDRSTRLEN], m1[18], m2[18], msg[256];
			struct fb_event ev = {
				.ts = ts, .prio = PRIO_HIGH, .type = "sebek-forged",
				.msg = msg, .has_honeypot = true, .honeypot = p->src,
			};

			hp->mac_alerted = true;
			fmt_mac(hp->mac, m1);
			fmt_mac(p->eth_src, m2);
			snprintf(msg, sizeof(msg), "Sebek records for %s from MAC %s, "
			    "first seen from %s: another host may be forging them; "
			    "rejected", addr_fmt(&p->src, a), m2, m1);
			event_emit(s->events, &ev);
		}
		return NULL;
	}
	if (hp->have_counter && h->counter > hp->last_counter) {
		hp->lost += h->counter - hp->last_counter - 1;
		s->st.lost += h->counter - hp->last_counter - 1;
	} else if (hp->have_counter) {
		s->st.counter_resets++;
	}
	hp->have_counter = true;
	hp->last_counter = h->counter;
	hp->records++;
	hp->skew_ns = skew;
	if ((skew < 0 ? -skew : skew) > (hp->max_skew_ns < 0 ? -hp->max_skew_ns : hp->max_skew_ns))
		hp->max_skew_ns = skew;
	hp->last_seen = ts;
	return hp;
}

void
sebek_packet(struct sebek *s, const struct fb_packet *p, fb_ns ts)
{
	struct sebek_hdr h;
	const uint8_t *data;
	int64_t skew;

	if (s == NULL || p->payload == NULL)
		return;
	s->st.datagrams++;
	switch (sebek_decode(p->payload, p->payload_len, &h, &data)) {
	case SEBEK_SHORT:
		s->st.short_records++;
		return;
	case SEBEK_VERSION_BAD:
		s->st.bad_version++;
		return;
	case SEBEK_LENGTH_BAD:
		s->st.bad_length++;
		return;
	case SEBEK_OK:
		break;
	}
	skew = record_time(&h) - ts;
	if (hp_check(s, p, &h, ts, skew) == NULL)
		return;
	s->st.records++;
	record_json(s, ts, p, &h, data, skew);
	if (h.type == SEBEK_READ && h.length <= SEBEK_KS_MAX)
		keys_add(s, ts, &p->src, &h, data, h.length);
}

void
sebek_tick(struct sebek *s, fb_ns now)
{
	if (s == NULL)
		return;
	for (struct sebek_proc *pr = s->proc_first, *next; pr != NULL; pr = next) {
		next = pr->age_next;
		if (now - pr->last_ts < PROC_IDLE)
			continue;
		proc_unlink(s, pr);
		proc_free(s, pr, now);
	}
}

/* Life cycle */

struct sebek *
sebek_new(const struct fb_config *cfg, struct event_log *ev, struct layers *budget)
{
	struct sebek *s = xcalloc(1, sizeof(*s));

	s->cfg = cfg;
	s->events = ev;
	s->budget = budget;
	s->seed = addr_hash_seed(s);
	return s;
}

void
sebek_set_key_ops(struct sebek *s, const struct sebek_key_ops *ops, void *arg)
{
	s->kops = ops;
	s->arg = arg;
}

void
sebek_free(struct sebek *s)
{
	if (s == NULL)
		return;
	for (struct sebek_proc *pr = s->proc_first, *next; pr != NULL; pr = next) {
		next = pr->age_next;
		proc_free(s, pr, pr->last_ts);
	}
	for (struct sebek_hp *h = s->hp_first, *next; h != NULL; h = next) {
		next = h->age_next;
		free(h);
	}
	free(s);
}

void
sebek_stats(const struct sebek *s, struct sebek_stats *st)
{
	*st = s->st;
}

void
sebek_status_json(const struct sebek *s, struct jbuf *jb)
{
	const struct sebek_stats *st = &s->st;
	size_t listed = 0;

	jb_obj_begin(jb, "sebek");
	jb_u64(jb, "datagrams", st->datagrams);
	jb_u64(jb, "records", st->records);
	jb_u64(jb, "short", st->short_records);
	jb_u64(jb, "bad_version", st->bad_version);
	jb_u64(jb, "bad_length", st->bad_length);
	jb_u64(jb, "not_honeypot", st->not_honeypot);
	jb_u64(jb, "mac_mismatch", st->mac_mismatch);
	jb_u64(jb, "table_full", st->table_full);
	jb_u64(jb, "lost", st->lost);
	jb_u64(jb, "counter_resets", st->counter_resets);
	jb_u64(jb, "lines", st->lines);
	jb_u64(jb, "procs_full", st->procs_full);
	jb_u64(jb, "write_errors", st->write_errors);
	jb_u64(jb, "n_honeypots", s->n_hp);
	jb_arr_begin(jb, "honeypots");
	for (const struct sebek_hp *h = s->hp_first; h != NULL &&
	    listed < STATUS_HP_MAX; h = h->age_next, listed++) {
		char a[FB_ADDRSTRLEN], mac[18];

		jb_obj_begin(jb, NULL);
		jb_str(jb, "addr", addr_fmt(&h->addr, a));
		fmt_mac(h->mac, mac);
		jb_str(jb, "mac", mac);
		jb_u64(jb, "records", h->records);
		jb_u64(jb, "lost", h->lost);
		jb_u64(jb, "mac_mismatch", h->mac_mismatch);
		jb_i64(jb, "skew_ms", h->skew_ns / FB_NS_PER_MSEC);
		jb_i64(jb, "max_skew_ms", h->max_skew_ns / FB_NS_PER_MSEC);
		jb_time(jb, "last_seen", h->last_seen);
		jb_obj_end(jb);
	}
	jb_arr_end(jb);
	jb_obj_end(jb);
}
