/*
 * logserver: the remote syslog server (see logserver.h).
 *
 * One poll(2) with a zero timeout per call over the listening sockets and
 * the open connections; each ready socket gets a bounded share of work
 * (UDP_BUDGET datagrams, TCP_BUDGET bytes), so serve() costs little when a
 * peer floods.  Per-peer token buckets live in a direct-mapped table
 * (PEER_SLOTS, by address hash), so the table never grows: a newcomer that
 * hashes onto a slot takes it over only if its owner has been quiet for
 * PEER_IDLE, else it shares one overflow bucket with every other such
 * newcomer; spoofed floods from many addresses are still bounded by the
 * per-call budgets.  The slot hash is keyed by a secret seed: with a fixed
 * one, a sender could pick an address that lands on a given honeypot's
 * slot and keep it busy, pushing that honeypot into the shared overflow
 * bucket.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "layers.h"
#include "logserver.h"

#define UDP_BUDGET	256		/* datagrams per socket per call */
#define TCP_BUDGET	(64 * 1024)	/* bytes per connection per call */
#define PEER_SLOTS	4096
#define PEER_IDLE	FB_NS_PER_SEC	/* a slot quiet this long may change hands */

enum { F_START, F_LEN, F_OCTETS, F_TEXT, F_SKIP_LINE };

/* Framer */

void
ls_framer_init(struct ls_framer *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
	f->buf = xcalloc(1, max + 1);
}

void
ls_framer_free(struct ls_framer *f)
{
	free(f->buf);
	f->buf = NULL;
}

static void
deliver(struct ls_framer *f, ls_msg_fn fn, void *arg)
{
	fn(arg, f->buf, f->len, f->cut);
	f->len = 0;
	f->cut = false;
	f->state = F_START;
}

/* One byte of an LF-terminated frame.  A frame of exactly max bytes is
 * whole if the LF comes next: it is cut only when a byte beyond max
 * arrives, so the outcome never depends on where TCP cut the stream. */
static void
text_byte(struct ls_framer *f, uint8_t c, ls_msg_fn fn, void *arg)
{
	if (c == '\n') {
		deliver(f, fn, arg);
	} else if (f->len == f->max) {
		fn(arg, f->buf, f->len, true);
		f->len = 0;
		f->cut = false;
		f->state = F_SKIP_LINE;	/* the rest of the line is dropped */
	} else {
		f->buf[f->len++] = c;
	}
}

/* A "LEN SP" prefix: up to 9 digits, the first not 0, accumulated in want
 * (not in buf, which may be shorter than 9 bytes). */
static void
framer_len_byte(struct ls_framer *f, uint8_t c, ls_msg_fn fn, void *arg)
{
	char digits[16];
	int nd;

	if (c >= '0' && c <= '9' && f->want < 100000000) {
		f->want = f->want * 10 + (uint64_t)(c - '0');
		return;
	}
	if (c == ' ') {
		f->octet_frames++;
		f->state = F_OCTETS;
		return;
	}
	/* Not octet counting after all: the digits start a text line. */
	nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)f->want);
	f->want = 0;
	f->state = F_TEXT;
	f->lf_frames++;
	for (int k = 0; k < nd && f->state == F_TEXT; k++)
		text_byte(f, (uint8_t)digits[k], fn, arg);
	if (f->state == F_TEXT)
		text_byte(f, c, fn, arg);
	else if (c == '\n')
		f->state = F_START;	/* the LF ends the line being skipped */
}

/* LF-terminated bytes from p[i]; returns the new index. */
static size_t
framer_text(struct ls_framer *f, const uint8_t *p, size_t i, size_t n,
    ls_msg_fn fn, void *arg)
{
	const uint8_t *lf = memchr(p + i, '\n', n - i);
	size_t take = lf != NULL ? (size_t)(lf - (p + i)) : n - i;
	size_t room = f->max - f->len;

	if (take > room) {
		/* Too long: keep max bytes, the next one cuts the frame. */
		memcpy(f->buf + f->len, p + i, room);
		f->len += room;
		i += room;
		text_byte(f, p[i], fn, arg);
		return i + 1;
	}
	memcpy(f->buf + f->len, p + i, take);
	f->len += take;
	i += take;
	if (lf != NULL) {
		deliver(f, fn, arg);	/* the LF */
		i++;
	}
	return i;
}

void
ls_framer_feed(struct ls_framer *f, const uint8_t *p, size_t n, ls_msg_fn fn, void *arg)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];

		switch (f->state) {
		case F_START:
			if (c == '\n' || c == '\r' || c == '\0') {
				i++;		/* empty lines between frames */
				break;
			}
			if (c >= '1' && c <= '9') {
				f->state = F_LEN;
				f->want = 0;
			} else {
				f->state = F_TEXT;
				f->lf_frames++;
			}
			break;
		case F_LEN:
			framer_len_byte(f, c, fn, arg);
			i++;
			break;
		case F_OCTETS: {
			size_t take = (size_t)FB_MIN((uint64_t)(n - i), f->want);
			size_t room = f->max - f->len, keep = FB_MIN(take, room);

			memcpy(f->buf + f->len, p + i, keep);
			f->len += keep;
			f->want -= take;
			if (keep < take)
				f->cut = true;
			i += take;
			if (f->want == 0)
				deliver(f, fn, arg);
			break;
		}
		case F_TEXT:
			i = framer_text(f, p, i, n, fn, arg);
			break;
		case F_SKIP_LINE: {
			const uint8_t *lf = memchr(p + i, '\n', n - i);

			if (lf == NULL) {
				i = n;
			} else {
				i = (size_t)(lf - p) + 1;
				f->state = F_START;
			}
			break;
		}
		default:
			f->state = F_START;
			break;
		}
	}
}

void
ls_framer_finish(struct ls_framer *f, ls_msg_fn fn, void *arg)
{
	if (f->state == F_LEN)
		framer_len_byte(f, '\n', fn, arg);	/* bare digits: a text line */
	if (f->len > 0 && (f->state == F_TEXT || f->state == F_OCTETS))
		deliver(f, fn, arg);
	f->len = 0;
	f->state = F_START;
}

/* Server */

struct ls_sock {
	int		 fd;
	struct fb_listen l;
};

struct ls_conn {
	int		 fd;
	struct fb_addr	 peer;
	uint16_t	 peer_port;
	const struct fb_listen *l;
	struct ls_framer fr;
	fb_ns		 last;
};

struct ls_peer {
	struct fb_addr	 addr;
	double		 tokens;
	fb_ns		 last;
	bool		 used;
};

struct logserver {
	const struct fb_config	*cfg;
	struct syslog_sink	 sink;
	struct logserver_stats	 st;
	struct ls_sock		*socks;
	size_t			 n_socks;
	struct ls_conn		*conns;		/* max_peers slots, fd -1 = free */
	size_t			 n_conns;
	struct ls_peer		*peers;		/* PEER_SLOTS */
	struct ls_peer		 overflow;	/* newcomers on active peers' slots */
	uint32_t		 seed;		/* addr_hash_seed: see the top */
	struct pollfd		*pfd;
	uint8_t			*dgram;		/* max_message + 1 */
	fb_ns			 now;
};

static void
sockaddr_to(const struct sockaddr_storage *ss, struct fb_addr *a, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		addr_from_v4(a, (const uint8_t *)&s4->sin_addr);
		*port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		addr_from_v6(a, s6->sin6_addr.s6_addr);
		*port = ntohs(s6->sin6_port);
	}
}

static socklen_t
sockaddr_from(const struct fb_listen *l, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (addr_is_v4(&l->addr)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, l->addr.b + 12, 4);
		s4->sin_port = htons(l->port);
		return sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, l->addr.b, 16);
		s6->sin6_port = htons(l->port);
		return sizeof(*s6);
	}
}

static int
open_socket(const struct fb_listen *l, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sockaddr_from(l, &ss);
	int fd, one = 1;
	char a[FB_ADDRSTRLEN];

	fd = socket(ss.ss_family, (l->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    (l->proto == IPPROTO_TCP && listen(fd, 64) == -1))
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "[logserver] listen = %s:%s:%u: %s",
	    l->proto == IPPROTO_TCP ? "tcp" : "udp", addr_fmt(&l->addr, a), l->port,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

struct logserver *
logserver_open(const struct fb_config *cfg, struct event_log *ev, char *err, size_t errlen)
{
	struct logserver *ls = xcalloc(1, sizeof(*ls));

	ls->cfg = cfg;
	ls->sink.events = ev;
	ls->socks = xcalloc(cfg->n_listen + 1, sizeof(*ls->socks));
	ls->conns = xcalloc(cfg->log_max_peers, sizeof(*ls->conns));
	for (size_t i = 0; i < cfg->log_max_peers; i++)
		ls->conns[i].fd = -1;
	ls->peers = xcalloc(PEER_SLOTS, sizeof(*ls->peers));
	ls->seed = addr_hash_seed(ls);
	ls->overflow.tokens = cfg->log_peer_rate;
	ls->pfd = xcalloc(cfg->n_listen + cfg->log_max_peers + 1, sizeof(*ls->pfd));
	ls->dgram = xcalloc(1, (size_t)cfg->log_max_message + 1);
	for (size_t i = 0; i < cfg->n_listen; i++) {
		int fd = open_socket(&cfg->listen[i], err, errlen);

		if (fd == -1) {
			logserver_close(ls);
			return NULL;
		}
		ls->socks[ls->n_socks].fd = fd;
		ls->socks[ls->n_socks++].l = cfg->listen[i];
	}
	return ls;
}

void
logserver_close(struct logserver *ls)
{
	if (ls == NULL)
		return;
	for (size_t i = 0; i < ls->n_socks; i++)
		close(ls->socks[i].fd);
	for (size_t i = 0; i < ls->cfg->log_max_peers; i++)
		if (ls->conns[i].fd != -1) {
			close(ls->conns[i].fd);
			ls_framer_free(&ls->conns[i].fr);
		}
	free(ls->socks);
	free(ls->conns);
	free(ls->peers);
	free(ls->pfd);
	free(ls->dgram);
	free(ls);
}

void
logserver_on_command(struct logserver *ls, syslog_command_fn fn, void *arg)
{
	if (ls == NULL)
		return;
	ls->sink.on_command = fn;
	ls->sink.arg = arg;
}

void
logserver_set_layers(struct logserver *ls, struct layers *l)
{
	if (ls == NULL || l == NULL)
		return;
	logserver_on_command(ls, layers_syslog_command, l);
	ls->sink.budget = l;
}

uint16_t
logserver_port(const struct logserver *ls, size_t i)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct fb_addr a;
	uint16_t port = 0;

	if (i >= ls->n_socks ||
	    getsockname(ls->socks[i].fd, (struct sockaddr *)&ss, &sl) == -1)
		return 0;
	sockaddr_to(&ss, &a, &port);
	return port;
}

/* Token bucket: peer_rate a second, a burst of as many. */
static bool
bucket_take(struct logserver *ls, struct ls_peer *p, fb_ns now)
{
	double rate = ls->cfg->log_peer_rate;

	if (now > p->last) {
		p->tokens += (double)(now - p->last) * rate / FB_NS_PER_SEC;
		if (p->tokens > rate)
			p->tokens = rate;
		p->last = now;
	}
	if (p->tokens < 1.0) {
		ls->st.rate_dropped++;
		return false;
	}
	p->tokens -= 1.0;
	return true;
}

/*
 * A peer's slot is taken over by another address only when its owner has
 * been quiet for PEER_IDLE: a newcomer on an active peer's slot (spoofed
 * sources picked to collide, or bad luck) is counted against the shared
 * overflow bucket, so it can neither reset nor drain the active peer's.
 */
uint32_t
logserver_peer_slot(const struct logserver *ls, const struct fb_addr *a)
{
	return addr_hash(a, ls->seed) % PEER_SLOTS;
}

bool
logserver_peer_allow(struct logserver *ls, const struct fb_addr *a, fb_ns now)
{
	struct ls_peer *p = &ls->peers[logserver_peer_slot(ls, a)];

	if (!p->used || (!addr_eq(&p->addr, a) && now - p->last > PEER_IDLE)) {
		p->used = true;
		p->addr = *a;
		p->tokens = ls->cfg->log_peer_rate;
		p->last = now;
	} else if (!addr_eq(&p->addr, a)) {
		ls->st.peer_overflow++;
		p = &ls->overflow;
	}
	return bucket_take(ls, p, now);
}

static void
message(struct logserver *ls, const struct syslog_origin *o, const uint8_t *p,
    size_t n, bool truncated)
{
	if (!logserver_peer_allow(ls, &o->peer, ls->now))
		return;
	if (truncated)
		ls->st.truncated++;
	syslog_sink_message(&ls->sink, ls->now, o, p, n, truncated ? SYSLOG_F_TRUNCATED : 0);
}

static void
serve_udp(struct logserver *ls, struct ls_sock *s)
{
	for (int k = 0; k < UDP_BUDGET; k++) {
		struct sockaddr_storage ss;
		struct iovec iov = { ls->dgram, ls->cfg->log_max_message };
		struct msghdr mh = {
			.msg_name = &ss, .msg_namelen = sizeof(ss),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		struct syslog_origin o = {
			.source = "server", .transport = "udp",
			.dst = s->l.addr, .dst_port = s->l.port,
		};
		ssize_t r = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_TRUNC);

		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				ls->st.errors++;
			return;
		}
		ls->st.udp_datagrams++;
		sockaddr_to(&ss, &o.peer, &o.peer_port);
		message(ls, &o, ls->dgram, FB_MIN((size_t)r, (size_t)ls->cfg->log_max_message),
		    (mh.msg_flags & MSG_TRUNC) != 0);
	}
}

static void
serve_accept(struct logserver *ls, struct ls_sock *s)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct ls_conn *c = NULL;
		int fd = accept4(s->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				ls->st.errors++;
			return;
		}
		for (size_t i = 0; i < ls->cfg->log_max_peers && c == NULL; i++)
			if (ls->conns[i].fd == -1)
				c = &ls->conns[i];
		if (c == NULL) {
			ls->st.tcp_refused++;
			close(fd);
			continue;
		}
		c->fd = fd;
		sockaddr_to(&ss, &c->peer, &c->peer_port);
		c->l = &s->l;
		c->last = ls->now;
		ls_framer_init(&c->fr, ls->cfg->log_max_message);
		ls->n_conns++;
		ls->st.tcp_accepted++;
	}
}

struct conn_ctx {
	struct logserver	*ls;
	struct syslog_origin	 o;
};

static void
conn_msg(void *arg, const uint8_t *p, size_t n, bool truncated)
{
	struct conn_ctx *cc = arg;

	message(cc->ls, &cc->o, p, n, truncated);
}

static void
conn_close(struct logserver *ls, struct ls_conn *c, struct conn_ctx *cc)
{
	ls_framer_finish(&c->fr, conn_msg, cc);
	ls->st.octet_frames += c->fr.octet_frames;
	ls->st.lf_frames += c->fr.lf_frames;
	ls_framer_free(&c->fr);
	close(c->fd);
	c->fd = -1;
	ls->n_conns--;
	ls->st.tcp_closed++;
}

static void
serve_conn(struct logserver *ls, struct ls_conn *c, bool ready)
{
	struct conn_ctx cc = { .ls = ls, .o = {
		.source = "server", .transport = "tcp", .peer = c->peer,
		.peer_port = c->peer_port, .dst = c->l->addr, .dst_port = c->l->port,
	} };
	uint8_t buf[8192];
	size_t got = 0;

	if (!ready) {
		if (ls->now - c->last > LS_IDLE) {
			ls->st.tcp_idle++;
			conn_close(ls, c, &cc);
		}
		return;
	}
	c->last = ls->now;
	while (got < TCP_BUDGET) {
		ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r > 0) {
			got += (size_t)r;
			ls->st.tcp_bytes += (uint64_t)r;
			ls_framer_feed(&c->fr, buf, (size_t)r, conn_msg, &cc);
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (r < 0)
			ls->st.errors++;
		conn_close(ls, c, &cc);
		return;
	}
}

void
logserver_serve(struct logserver *ls, fb_ns now)
{
	size_t n = 0, i;

	if (ls == NULL || (ls->n_socks == 0 && ls->n_conns == 0))
		return;
	ls->now = now;
	for (i = 0; i < ls->n_socks; i++)
		ls->pfd[n++] = (struct pollfd){ .fd = ls->socks[i].fd, .events = POLLIN };
	for (i = 0; i < ls->cfg->log_max_peers; i++)
		ls->pfd[n++] = (struct pollfd){ .fd = ls->conns[i].fd, .events = POLLIN };
	if (poll(ls->pfd, n, 0) < 0)
		return;
	for (i = 0; i < ls->n_socks; i++) {
		if (!(ls->pfd[i].revents & (POLLIN | POLLERR)))
			continue;
		if (ls->socks[i].l.proto == IPPROTO_TCP)
			serve_accept(ls, &ls->socks[i]);
		else
			serve_udp(ls, &ls->socks[i]);
	}
	for (i = 0; i < ls->cfg->log_max_peers; i++) {
		struct ls_conn *c = &ls->conns[i];

		/* A connection accepted above was not polled: ready next call. */
		if (c->fd != -1)
			serve_conn(ls, c, ls->pfd[ls->n_socks + i].fd == c->fd &&
			    (ls->pfd[ls->n_socks + i].revents & (POLLIN | POLLERR | POLLHUP)));
	}
}

void
logserver_stats(const struct logserver *ls, struct logserver_stats *st,
    struct syslog_stats *ss)
{
	*st = ls->st;
	for (size_t i = 0; i < ls->cfg->log_max_peers; i++)
		if (ls->conns[i].fd != -1) {
			st->octet_frames += ls->conns[i].fr.octet_frames;
			st->lf_frames += ls->conns[i].fr.lf_frames;
		}
	if (ss != NULL)
		*ss = ls->sink.st;
}

void
logserver_status_json(const struct logserver *ls, struct jbuf *jb)
{
	struct logserver_stats st;
	struct syslog_stats ss;

	if (ls == NULL)
		return;
	logserver_stats(ls, &st, &ss);
	jb_obj_begin(jb, "logserver");
	jb_u64(jb, "sockets", ls->n_socks);
	jb_u64(jb, "tcp_open", ls->n_conns);
	jb_u64(jb, "udp_datagrams", st.udp_datagrams);
	jb_u64(jb, "tcp_accepted", st.tcp_accepted);
	jb_u64(jb, "tcp_refused", st.tcp_refused);
	jb_u64(jb, "tcp_closed", st.tcp_closed);
	jb_u64(jb, "tcp_idle_closed", st.tcp_idle);
	jb_u64(jb, "tcp_bytes", st.tcp_bytes);
	jb_u64(jb, "octet_counted", st.octet_frames);
	jb_u64(jb, "lf_framed", st.lf_frames);
	jb_u64(jb, "rate_dropped", st.rate_dropped);
	jb_u64(jb, "peer_overflow", st.peer_overflow);
	jb_u64(jb, "truncated", st.truncated);
	jb_u64(jb, "errors", st.errors);
	syslog_stats_json(&ss, jb);
	jb_obj_end(jb);
}
