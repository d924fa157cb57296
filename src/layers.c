/*
 * layers: dispatch of decoded frames to the capture layers, the per-day
 * disk budget, and the helpers the layer modules share.
 *
 * The flow table owns connections; a TCP connection's layer state (its
 * stream and session) hangs off fb_flow.app and is finished by
 * layers_flow_end when the flow leaves the table for any reason (FIN/RST,
 * timeout, eviction, shutdown), so no state outlives its flow.
 *
 * The overlap policy of a connection is the honeypot's ([layers]
 * host_policy, else policy): the honeypot is the host whose view of the
 * stream matters to the analyst, whichever side sent the bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "defrag.h"
#include "files.h"
#include "ftp.h"
#include "http.h"
#include "irc.h"
#include "keys.h"
#include "layers.h"
#include "sebek.h"
#include "syslogmsg.h"
#include "session.h"
#include "stream.h"

#define DAY_NS		(86400LL * FB_NS_PER_SEC)

/* The record layers' names in status and alerts (enum layers_rec). */
static const char *const rec_names[LREC_N] = { "sebek", "syslog", "irc", "keystrokes" };

/* The layer state of one TCP connection (fb_flow.app). */
struct tcp_app {
	struct layers		*l;
	struct stream		*stream;
	struct session		*session;	/* opened at the first data */
	struct session_info	 info;
	bool			 conflict_alerted;
};

/* Stream callbacks: the session opens lazily, so connections without data
 * (scans, refused SYNs) cost no transcript. */

static struct session *
app_session(struct tcp_app *app)
{
	if (app->session == NULL) {
		app->session = session_open(app->l, &app->info);
		app->l->st.sessions++;
	}
	return app->session;
}

static void
on_data(void *arg, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	struct tcp_app *app = arg;
	struct session *s = app_session(app);

	if (s != NULL)
		session_data(s, dir, ts, p, n);
}

static void
on_gap(void *arg, int dir, fb_ns ts, uint64_t n)
{
	struct tcp_app *app = arg;
	struct session *s = app_session(app);

	if (s != NULL)
		session_gap(s, dir, ts, n);
}

/* One alert per connection: the transcript and the counters say the rest. */
static void
alert_conflict(struct tcp_app *app, fb_ns ts, uint64_t off, size_t n)
{
	const struct fb_flowkey *k = &app->info.key;
	char src[FB_ADDRSTRLEN], dst[FB_ADDRSTRLEN], msg[300], extra[120];
	struct fb_flow *f;
	bool reverse;

	if (app->conflict_alerted)
		return;
	app->conflict_alerted = true;
	app->l->st.evasion_events++;
	snprintf(msg, sizeof(msg), "possible evasion: overlapping TCP segments carry "
	    "different data (%s:%u -> %s:%u), kept the %s policy's bytes",
	    addr_fmt(&k->src, src), k->sport, addr_fmt(&k->dst, dst), k->dport,
	    policy_name(config_policy_for(app->l->cfg, &app->info.honeypot)));
	snprintf(extra, sizeof(extra), "\"offset\":%llu,\"length\":%zu",
	    (unsigned long long)off, n);
	f = flow_lookup(app->l->flows, k, &reverse);
	layers_event(app->l, ts, PRIO_MEDIUM, "evasion", msg, &app->info.honeypot,
	    f != NULL && f->id == app->info.conn_id ? f : NULL, extra);
}

static void
on_conflict(void *arg, int dir, fb_ns ts, uint64_t off, const uint8_t *kept,
    const uint8_t *other, size_t n)
{
	struct tcp_app *app = arg;
	struct session *s = app_session(app);

	alert_conflict(app, ts, off, n);
	if (s != NULL)
		session_conflict(s, dir, ts, off, kept, other, n);
}

static void
on_end(void *arg, int dir, fb_ns ts, enum stream_end how)
{
	struct tcp_app *app = arg;

	if (app->session != NULL)
		session_end(app->session, dir, ts, (int)how);
}

static const struct stream_events tcp_events = {
	.data = on_data, .gap = on_gap, .conflict = on_conflict, .end = on_end,
};

static struct tcp_app *
tcp_app_new(struct layers *l, const struct fb_flow *f)
{
	struct tcp_app *app = calloc(1, sizeof(*app));

	if (app == NULL)
		return NULL;
	app->l = l;
	app->info.conn_id = f->id;
	app->info.key = f->key;
	app->info.dir = f->dir;
	app->info.honeypot = f->honeypot;
	app->info.start = f->first;
	app->stream = stream_new(l->streams, config_policy_for(l->cfg, &f->honeypot),
	    &tcp_events, app);
	if (app->stream == NULL) {
		free(app);
		return NULL;
	}
	return app;
}

/* f: the segment's flow if the engine passed it, else NULL. */
static void
tcp_segment(struct layers *l, const struct fb_packet *p, fb_ns ts,
    struct fb_flow *f, bool reverse)
{
	struct fb_flowkey k;

	if (f == NULL) {
		if (!flow_key_of(p, &k))
			return;
		f = flow_lookup(l->flows, &k, &reverse);
	}
	if (f == NULL) {
		/* Dropped before the table knew it (spoof, no state). */
		l->st.tcp_no_flow++;
		return;
	}
	if (f->app == NULL && (f->app = tcp_app_new(l, f)) == NULL)
		return;
	stream_segment(((struct tcp_app *)f->app)->stream,
	    reverse ? STREAM_RESP : STREAM_ORIG, p, ts);
}

/* Sebek keystrokes: one keys.c line editor per process. */
static void *
sebek_key_open(void *arg, const struct fb_addr *hp, const struct sebek_hdr *h)
{
	struct key_origin o = {
		.source = "sebek", .honeypot = *hp, .has_proc = true, .pid = h->pid,
		.uid = h->uid, .fd = h->fd, .inode = h->inode, .command = h->com,
	};

	return keyline_new(arg, &o);
}

static void
sebek_key_feed(void *arg, void *ctx, fb_ns ts, const uint8_t *p, size_t n)
{
	(void)arg;
	keyline_feed(ctx, ts, p, n);
}

static void
sebek_key_close(void *arg, void *ctx, fb_ns ts)
{
	(void)arg;
	keyline_free(ctx, ts);
}

static const struct sebek_key_ops sebek_keys = {
	sebek_key_open, sebek_key_feed, sebek_key_close,
};

void
layers_syslog_command(void *arg, fb_ns ts, const struct syslog_origin *so,
    const struct syslog_msg *m, const uint8_t *cmd, size_t n)
{
	struct key_origin o = { .source = "syslog", .honeypot = so->peer };
	char app[64] = "";

	if (m->app.p != NULL)
		snprintf(app, sizeof(app), "%.*s", (int)FB_MIN(m->app.n, 63), m->app.p);
	o.command = app[0] != '\0' ? app : NULL;
	keys_line(arg, ts, &o, (const char *)cmd, n, m->msg.p, m->msg.n);
}

/* Sebek records from the honeynet; syslog sent by honeypots. */
static void
udp_datagram(struct layers *l, const struct fb_packet *p, fb_ns ts)
{
	if (l->sebek != NULL && p->dport == l->cfg->sebek_port &&
	    config_in_networks(l->cfg, &p->src))
		sebek_packet(l->sebek, p, ts);
	else if (p->dport == 514 && config_is_honeypot(l->cfg, &p->src))
		syslog_sink_packet(l->wire_syslog, p, ts);
}

/* A whole IP datagram (never a fragment); f as in layers_packet. */
static void
ip_datagram(struct layers *l, const struct fb_packet *p, fb_ns ts,
    struct fb_flow *f, bool reverse)
{
	if (p->l4 == NULL)
		return;
	switch (p->proto) {
	case IPPROTO_TCP:
		tcp_segment(l, p, ts, f, reverse);
		break;
	case IPPROTO_UDP:
		udp_datagram(l, p, ts);
		break;
	default:
		break;
	}
}

/* One alert per datagram: overlapping fragments that differ, or a first
 * fragment too short for its transport header. */
static void
defrag_alert(struct layers *l, const struct fb_packet *p, fb_ns ts,
    const struct defrag_result *r)
{
	char src[FB_ADDRSTRLEN], dst[FB_ADDRSTRLEN], msg[300], extra[120];
	const struct fb_addr *hp = NULL;

	if (config_is_honeypot(l->cfg, &p->dst))
		hp = &p->dst;
	else if (config_is_honeypot(l->cfg, &p->src))
		hp = &p->src;
	l->st.evasion_events++;
	if (strcmp(r->alert, "tiny") == 0)
		snprintf(msg, sizeof(msg), "possible evasion: first IP fragment too short "
		    "for its transport header (%s -> %s, id %u)", addr_fmt(&p->src, src),
		    addr_fmt(&p->dst, dst), p->frag_id);
	else
		snprintf(msg, sizeof(msg), "possible evasion: overlapping IP fragments "
		    "carry different data (%s -> %s, id %u), kept the %s policy's bytes",
		    addr_fmt(&p->src, src), addr_fmt(&p->dst, dst), p->frag_id,
		    policy_name(r->policy));
	snprintf(extra, sizeof(extra), "\"fragment_id\":%u,\"offset\":%u,\"length\":%u",
	    p->frag_id, r->alert_off, r->alert_len);
	layers_event(l, ts, PRIO_MEDIUM, "evasion", msg, hp, NULL, extra);
}

/* A fragment: a completed datagram is decoded and goes on as if whole. */
static void
ip_fragment(struct layers *l, const struct fb_packet *p, fb_ns ts)
{
	struct defrag_result r;
	struct fb_packet whole;

	defrag_packet(l->defrag, p, ts, &r);
	if (r.alert != NULL)
		defrag_alert(l, p, ts, &r);
	if (r.dgram != NULL && decode_frame(FB_LINK_RAW, r.dgram, r.len, r.len,
	    &whole) == 0 && !whole.is_fragment)
		ip_datagram(l, &whole, ts, NULL, false);
}

void
layers_packet(struct layers *l, const struct fb_packet *p, fb_ns ts,
    struct fb_flow *f, bool reverse)
{
	if (l == NULL || p->malformed != MAL_NONE || p->ipver == 0)
		return;
	if (p->is_fragment)
		ip_fragment(l, p, ts);
	else
		ip_datagram(l, p, ts, f, reverse);
}

void
layers_flow_end(struct layers *l, struct fb_flow *f, fb_ns now)
{
	struct tcp_app *app = f->app;

	if (l == NULL || app == NULL)
		return;
	stream_close(app->stream, now);
	if (app->session != NULL)
		session_close(app->session, now);
	free(app);
	f->app = NULL;
}

void
layers_tick(struct layers *l, fb_ns now)
{
	if (l == NULL)
		return;
	defrag_tick(l->defrag, now);
	sebek_tick(l->sebek, now);
	session_tick(l, now);
}

/* Life cycle */

struct layers *
layers_new(const struct fb_config *cfg, const char *data_dir, struct event_log *ev,
    struct flow_table *flows)
{
	struct layers *l;

	if (!cfg->layers)
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->cfg = cfg;
	l->data_dir = xstrdup(data_dir);
	l->events = ev;
	l->flows = flows;
	l->disk_day = -1;
	l->streams = stream_pool_new(cfg->layers_memory_bytes);
	l->defrag = defrag_new(cfg, l->streams);
	if (cfg->sebek_port != 0) {
		l->sebek = sebek_new(cfg, ev, l);
		sebek_set_key_ops(l->sebek, &sebek_keys, l);
	}
	l->wire_syslog = xcalloc(1, sizeof(*l->wire_syslog));
	l->wire_syslog->events = ev;
	l->wire_syslog->budget = l;
	l->carver = carver_new(cfg);	/* loads libmagic: before the privilege drop */
	l->ftp = ftp_links_new();
	l->wire_syslog->on_command = layers_syslog_command;
	l->wire_syslog->arg = l;
	return l;
}

void
layers_free(struct layers *l)
{
	if (l == NULL)
		return;
	defrag_free(l->defrag);
	stream_pool_free(l->streams);
	irc_totals_free(l->irc);
	sebek_free(l->sebek);
	free(l->wire_syslog);
	carver_free(l->carver);
	ftp_links_free(l->ftp);
	free(l->data_dir);
	free(l);
}

void
layers_status_json(struct layers *l, struct jbuf *jb)
{
	struct stream_stats ss;

	if (l == NULL)
		return;
	jb_obj_begin(jb, "layers");
	jb_u64(jb, "sessions", l->st.sessions);
	jb_u64(jb, "tcp_no_flow", l->st.tcp_no_flow);
	jb_u64(jb, "disk_used", l->st.disk_used);
	jb_u64(jb, "disk_budget", l->cfg->layers_disk_bytes);
	jb_u64(jb, "disk_refused", l->st.disk_refused);
	jb_obj_begin(jb, "disk_records");
	for (int r = 0; r < LREC_N; r++) {
		jb_obj_begin(jb, rec_names[r]);
		jb_u64(jb, "used", l->rec[r].used);
		jb_u64(jb, "budget", l->cfg->layers_disk_bytes / LAYERS_REC_SHARE);
		jb_u64(jb, "refused", l->rec[r].refused);
		jb_obj_end(jb);
	}
	jb_obj_end(jb);
	jb_u64(jb, "evasion_events", l->st.evasion_events);
	jb_u64(jb, "sessions_logged", l->st.sessions_logged);
	jb_u64(jb, "transcripts", l->st.transcripts);
	jb_u64(jb, "transcripts_truncated", l->st.transcripts_truncated);
	jb_u64(jb, "transcript_errors", l->st.transcript_errors);
	jb_u64(jb, "keystroke_lines", l->st.keystroke_lines);
	jb_u64(jb, "telnet_sb_overlong", l->st.telnet_sb_overlong);
	stream_pool_stats(l->streams, &ss);
	jb_obj_begin(jb, "tcp");
	jb_u64(jb, "streams", ss.streams);
	jb_u64(jb, "bytes", ss.bytes);
	jb_u64(jb, "gaps", ss.gaps);
	jb_u64(jb, "gap_bytes", ss.gap_bytes);
	jb_u64(jb, "limit_gaps", ss.limit_gaps);
	jb_u64(jb, "limit_gap_bytes", ss.limit_gap_bytes);
	jb_u64(jb, "end_gaps", ss.end_gaps);
	jb_u64(jb, "end_gap_bytes", ss.end_gap_bytes);
	jb_u64(jb, "overlaps", ss.overlaps);
	jb_u64(jb, "conflicts", ss.conflicts);
	jb_u64(jb, "out_of_window", ss.out_of_window);
	jb_u64(jb, "stale_bytes", ss.stale_bytes);
	jb_u64(jb, "stale_replaced", ss.stale_replaced);
	jb_u64(jb, "urgent", ss.urgent);
	jb_u64(jb, "mem_drops", ss.mem_drops);
	jb_u64(jb, "mem_used", ss.mem_used);
	jb_u64(jb, "mem_max", ss.mem_max);
	jb_obj_end(jb);
	irc_status_json(l->irc, jb);
	defrag_status_json(l->defrag, jb);
	if (l->sebek != NULL)
		sebek_status_json(l->sebek, jb);
	jb_obj_begin(jb, "syslog_wire");
	syslog_stats_json(&l->wire_syslog->st, jb);
	jb_obj_end(jb);
	carver_status_json(l->carver, jb);
	ftp_links_status_json(l->ftp, jb);
	http_status_json(jb);
	jb_obj_end(jb);
}

/* Helpers for the modules */

/* A new UTC day: every budget starts again. */
static void
disk_day(struct layers *l, fb_ns ts)
{
	int64_t day = ts / DAY_NS;

	if (day != l->disk_day) {
		l->disk_day = day;
		l->st.disk_used = 0;
		l->disk_alerted = false;
		memset(l->rec, 0, sizeof(l->rec));
	}
}

bool
layers_disk_take(struct layers *l, fb_ns ts, uint64_t n)
{
	disk_day(l, ts);
	if (l->st.disk_used + n <= l->cfg->layers_disk_bytes) {
		l->st.disk_used += n;
		return true;
	}
	l->st.disk_refused++;
	if (!l->disk_alerted) {
		char msg[160];

		l->disk_alerted = true;
		snprintf(msg, sizeof(msg), "capture layers reached the day's disk budget "
		    "(%llu MB): transcripts and carved files are truncated until midnight "
		    "UTC; pcap capture goes on",
		    (unsigned long long)(l->cfg->layers_disk_bytes >> 20));
		layers_event(l, ts, PRIO_HIGH, "layer-budget", msg, NULL, NULL, NULL);
	}
	return false;
}

bool
layers_record_take(struct layers *l, enum layers_rec r, fb_ns ts, uint64_t n)
{
	struct layers_rec_budget *b = &l->rec[r];
	uint64_t share = l->cfg->layers_disk_bytes / LAYERS_REC_SHARE;

	disk_day(l, ts);
	if (b->used + n <= share) {
		b->used += n;
		return true;
	}
	b->refused++;
	if (!b->alerted) {
		char msg[200], extra[40];

		b->alerted = true;
		snprintf(msg, sizeof(msg), "%s records reached their day's disk share "
		    "(%llu KB): %s.jsonl lines are dropped until midnight UTC; pcap "
		    "capture goes on", rec_names[r], (unsigned long long)(share >> 10),
		    rec_names[r]);
		snprintf(extra, sizeof(extra), "\"layer\":\"%s\"", rec_names[r]);
		layers_event(l, ts, PRIO_HIGH, "layer-budget", msg, NULL, NULL, extra);
	}
	return false;
}

int
layers_append(struct layers *l, fb_ns ts, const char *name, const char *line, size_t len)
{
	return event_append(l->events, ts, name, line, len);
}

/* Every transcript and carved file names its day: strftime once a day. */
const char *
layers_day(struct layers *l, fb_ns ts)
{
	int64_t day = ts < 0 ? 0 : ts / DAY_NS;

	if (!l->name_valid || day != l->name_day) {
		time_day(ts, l->name);
		l->name_day = day;
		l->name_valid = true;
	}
	return l->name;
}

int
layers_day_path(struct layers *l, fb_ns ts, const char *sub, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s/%s", l->data_dir, layers_day(l, ts), sub) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
layers_day_dir(struct layers *l, fb_ns ts, const char *sub, char *buf, size_t len)
{
	if (layers_day_path(l, ts, sub, buf, len) == -1)
		return -1;
	return mkdir_p(buf, 0750);
}

/* The directory exists for all but the first file of a day: trying the
 * open first saves the mkdir_p walk (one failed mkdir per path component)
 * on every file, and a directory removed under us is still made again. */
int
layers_day_open(struct layers *l, fb_ns ts, const char *sub, const char *name,
    int flags, unsigned mode, char *path, size_t len)
{
	char dir[PATH_MAX];
	int fd;

	if (layers_day_path(l, ts, sub, dir, sizeof(dir)) == -1)
		return -1;
	if ((size_t)snprintf(path, len, "%s/%s", dir, name) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, flags, mode);
	if (fd >= 0 || errno != ENOENT || !(flags & O_CREAT))
		return fd;
	if (mkdir_p(dir, 0750) == -1)
		return -1;
	return open(path, flags, mode);
}

void
layers_event(struct layers *l, fb_ns ts, enum fb_prio prio, const char *type,
    const char *msg, const struct fb_addr *hp, const struct fb_flow *f,
    const char *extra_json)
{
	struct fb_event ev = {
		.ts = ts, .prio = prio, .type = type, .msg = msg, .flow = f,
		.extra_json = extra_json,
	};

	if (hp != NULL) {
		ev.has_honeypot = true;
		ev.honeypot = *hp;
	}
	event_emit(l->events, &ev);
}
