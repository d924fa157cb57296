/*
 * Unit tests of flow: lookup from both directions, the TCP state machine,
 * expiry per state, eviction order (closed, embryonic, then established), a
 * million-source SYN flood through a 4096-entry table, and that every flow
 * leaves the table exactly once through the callback.
 */
#include <netinet/in.h>
#include <stdio.h>

#include "testutil.h"
#include "flow.h"

#define SEC	FB_NS_PER_SEC
#define T0	(1795724363LL * SEC)

static const uint8_t dummy_l4[64];

struct ended {
	uint64_t	 n;
	uint64_t	 by[END_SHUTDOWN + 1];
	uint8_t		*seen;		/* per flow id: times ended */
	uint64_t	 seen_len;
	uint64_t	 last_id;
	enum fb_end	 last_why;
	uint64_t	 dup;		/* flows ended twice */
	uint64_t	 est_evicted;	/* flows marked established that were evicted */
};

static void
on_end(struct fb_flow *f, enum fb_end why, void *arg)
{
	struct ended *e = arg;

	assert_true(f->in_use);
	e->n++;
	e->by[why]++;
	e->last_id = f->id;
	e->last_why = why;
	if (e->seen != NULL && f->id < e->seen_len) {
		if (e->seen[f->id]++ != 0)
			e->dup++;
	}
	if (why == END_EVICTED && f->tcp_state == TCP_ESTABLISHED)
		e->est_evicted++;
}

static const struct flow_timeouts tmo = {
	.tcp_embryonic = 30 * SEC,
	.tcp_established = 3600 * SEC,
	.tcp_closed = 10 * SEC,
	.udp = 120 * SEC,
	.other = 60 * SEC,
};

static struct fb_addr
v4(uint32_t a)
{
	struct fb_addr r;

	memset(&r, 0, sizeof(r));
	r.b[10] = r.b[11] = 0xff;
	r.b[12] = (uint8_t)(a >> 24);
	r.b[13] = (uint8_t)(a >> 16);
	r.b[14] = (uint8_t)(a >> 8);
	r.b[15] = (uint8_t)a;
	return r;
}

static struct fb_packet
pkt(uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
    uint8_t flags, uint32_t payload)
{
	struct fb_packet p;

	memset(&p, 0, sizeof(p));
	p.ipver = 4;
	p.src = v4(src);
	p.dst = v4(dst);
	p.proto = proto;
	p.sport = sport;
	p.dport = dport;
	p.tcp_flags = flags;
	p.l4 = dummy_l4;
	p.l4_len = 20;
	p.payload_len = payload;
	p.wirelen = 54 + payload;
	p.caplen = p.wirelen;
	return p;
}

/* A pointer to a fresh packet (a compound literal of the enclosing block). */
#define PK(...)	(&((struct fb_packet[1]){ pkt(__VA_ARGS__) })[0])

/* Feed p: look it up, create the flow if new, update.  Returns the flow. */
static struct fb_flow *
feed(struct flow_table *t, const struct fb_packet *p, fb_ns now)
{
	struct fb_flowkey k;
	struct fb_flow *f;
	bool rev = false;

	assert_true(flow_key_of(p, &k));
	f = flow_lookup(t, &k, &rev);
	if (f == NULL)
		f = flow_create(t, &k, now);
	assert_non_null(f);
	flow_update(t, f, p, rev, now);
	return f;
}

#define HP	0x0a630082u	/* 10.99.0.130 */
#define EXT	0xc6336401u	/* 198.51.100.1 */

static void
test_lookup_both_directions(void **state)
{
	struct ended e = { 0 };
	struct flow_table *t = flow_table_new(64, &tmo, on_end, &e);
	struct fb_packet p = pkt(IPPROTO_TCP, HP, 40000, EXT, 80, TH_SYN, 0);
	struct fb_packet r = pkt(IPPROTO_TCP, EXT, 80, HP, 40000, TH_SYN | TH_ACK, 0);
	struct fb_packet o = pkt(IPPROTO_TCP, HP, 40001, EXT, 80, TH_SYN, 0);
	struct fb_packet u = pkt(IPPROTO_UDP, HP, 40000, EXT, 80, 0, 10);
	struct fb_flowkey k;
	struct fb_flow *f, *g;
	bool rev;

	(void)state;
	assert_non_null(t);
	assert_true(flow_key_of(&p, &k));
	assert_null(flow_lookup(t, &k, &rev));
	f = flow_create(t, &k, T0);
	assert_int_equal(f->id, 1);
	assert_true(flow_key_of(&p, &k));
	assert_ptr_equal(flow_lookup(t, &k, &rev), f);
	assert_false(rev);
	assert_true(flow_key_of(&r, &k));
	assert_ptr_equal(flow_lookup(t, &k, &rev), f);
	assert_true(rev);
	/* Another port, another protocol, another VLAN: other flows. */
	assert_true(flow_key_of(&o, &k));
	assert_null(flow_lookup(t, &k, &rev));
	assert_true(flow_key_of(&u, &k));
	assert_null(flow_lookup(t, &k, &rev));
	p.n_vlan = 2;
	p.vlan[0] = 7;
	p.vlan[1] = 9;
	assert_true(flow_key_of(&p, &k));
	assert_int_equal(k.vlan, 7);
	assert_null(flow_lookup(t, &k, &rev));
	g = flow_create(t, &k, T0);
	assert_int_equal(g->id, 2);
	assert_ptr_equal(flow_lookup(t, &k, &rev), g);
	flow_table_free(t);
	assert_int_equal(e.n, 0);	/* free does not call on_end */
}

static void
test_many_flows_all_found(void **state)
{
	struct flow_table *t = flow_table_new(5000, &tmo, NULL, NULL);
	struct fb_flowkey k;
	bool rev;

	(void)state;
	for (uint32_t i = 0; i < 5000; i++) {
		struct fb_packet p = pkt(IPPROTO_UDP, HP + (i % 7), (uint16_t)(1000 + i),
		    EXT + i / 7, 53, 0, 10);

		assert_true(flow_key_of(&p, &k));
		assert_non_null(flow_create(t, &k, T0));
	}
	for (uint32_t i = 0; i < 5000; i++) {
		struct fb_packet r = pkt(IPPROTO_UDP, EXT + i / 7, 53, HP + (i % 7),
		    (uint16_t)(1000 + i), 0, 10);
		struct fb_flow *f;

		assert_true(flow_key_of(&r, &k));
		f = flow_lookup(t, &k, &rev);
		assert_non_null(f);
		assert_true(rev);
		assert_int_equal(f->id, i + 1);
	}
	flow_table_free(t);
}

static void
test_key_of(void **state)
{
	struct fb_packet p = pkt(IPPROTO_ICMP, HP, 0x1234, EXT, 0x1234, 0, 56);
	struct fb_packet r = pkt(IPPROTO_ICMP, EXT, 0x1234, HP, 0x1234, 0, 56);
	struct fb_flowkey k;

	(void)state;
	p.icmp_request = true;
	r.icmp_reply = true;
	assert_true(flow_key_of(&p, &k));
	assert_int_equal(k.sport, 0x1234);
	assert_int_equal(k.dport, 0x1234);
	assert_int_equal(k.proto, IPPROTO_ICMP);
	/* An ICMP message that is neither query nor reply: no id. */
	p.icmp_request = false;
	assert_true(flow_key_of(&p, &k));
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.dport, 0);

	/* Non-first fragment: ports 0. */
	p = pkt(IPPROTO_UDP, HP, 5000, EXT, 53, 0, 100);
	p.is_fragment = true;
	p.first_fragment = true;
	assert_true(flow_key_of(&p, &k));
	assert_int_equal(k.sport, 5000);
	p.first_fragment = false;
	p.l4 = NULL;
	assert_true(flow_key_of(&p, &k));
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.dport, 0);

	/* Other protocols: ports 0, whatever the packet says. */
	p = pkt(47, HP, 1, EXT, 2, 0, 100);
	assert_true(flow_key_of(&p, &k));
	assert_int_equal(k.sport + k.dport, 0);
	assert_int_equal(k.proto, 47);

	p.ipver = 0;
	assert_false(flow_key_of(&p, &k));

	/* Echo request and reply share a flow. */
	{
		struct flow_table *t = flow_table_new(8, &tmo, NULL, NULL);
		struct fb_flow *f;
		bool rev;

		p = pkt(IPPROTO_ICMP, HP, 0x1234, EXT, 0x1234, 0, 56);
		p.icmp_request = true;
		f = feed(t, &p, T0);
		assert_true(flow_key_of(&r, &k));
		assert_ptr_equal(flow_lookup(t, &k, &rev), f);
		assert_true(rev);
		flow_table_free(t);
	}
}

static void
test_tcp_states(void **state)
{
	struct ended e = { 0 };
	struct flow_table *t = flow_table_new(16, &tmo, on_end, &e);
	struct fb_flow *f, *g;

	(void)state;
	/* Handshake, data, FIN each way. */
	f = feed(t, PK(IPPROTO_TCP, HP, 40000, EXT, 80, TH_SYN, 0), T0);
	assert_int_equal(f->tcp_state, TCP_SYN_SENT);
	f = feed(t, PK(IPPROTO_TCP, HP, 40000, EXT, 80, TH_SYN, 0), T0 + 1);
	assert_int_equal(f->tcp_state, TCP_SYN_SENT);	/* retransmitted */
	feed(t, PK(IPPROTO_TCP, EXT, 80, HP, 40000, TH_SYN | TH_ACK, 0), T0 + 2);
	assert_int_equal(f->tcp_state, TCP_SYN_RECEIVED);
	feed(t, PK(IPPROTO_TCP, HP, 40000, EXT, 80, TH_ACK, 0), T0 + 3);
	assert_int_equal(f->tcp_state, TCP_ESTABLISHED);
	feed(t, PK(IPPROTO_TCP, HP, 40000, EXT, 80, TH_ACK | TH_PUSH, 100), T0 + 4);
	feed(t, PK(IPPROTO_TCP, EXT, 80, HP, 40000, TH_ACK | TH_PUSH, 1000), T0 + 5);
	assert_int_equal(f->tcp_state, TCP_ESTABLISHED);
	assert_int_equal(f->pkts[0], 4);
	assert_int_equal(f->pkts[1], 2);
	assert_int_equal(f->bytes[0], 54 * 4 + 100);
	assert_int_equal(f->bytes[1], 54 * 2 + 1000);
	assert_int_equal(f->first, T0);
	assert_int_equal(f->last, T0 + 5);
	feed(t, PK(IPPROTO_TCP, EXT, 80, HP, 40000, TH_FIN | TH_ACK, 0), T0 + 6);
	assert_int_equal(f->tcp_state, TCP_FIN_WAIT);
	assert_int_equal(f->fin_seen, 2);
	feed(t, PK(IPPROTO_TCP, HP, 40000, EXT, 80, TH_FIN | TH_ACK, 0), T0 + 7);
	assert_int_equal(f->tcp_state, TCP_CLOSED);
	assert_int_equal(f->fin_seen, 3);
	/* A new SYN on the closed ports starts over. */
	feed(t, PK(IPPROTO_TCP, HP, 40000, EXT, 80, TH_SYN, 0), T0 + 8);
	assert_int_equal(f->tcp_state, TCP_SYN_SENT);
	assert_int_equal(f->fin_seen, 0);

	/* RST. */
	g = feed(t, PK(IPPROTO_TCP, EXT, 5555, HP, 22, TH_SYN, 0), T0);
	feed(t, PK(IPPROTO_TCP, HP, 22, EXT, 5555, TH_RST | TH_ACK, 0), T0 + 1);
	assert_int_equal(g->tcp_state, TCP_RESET);

	/* Picked up mid-stream; data both ways establishes it. */
	g = feed(t, PK(IPPROTO_TCP, EXT, 5556, HP, 22, TH_ACK, 10), T0);
	assert_int_equal(g->tcp_state, TCP_MIDSTREAM);
	feed(t, PK(IPPROTO_TCP, HP, 22, EXT, 5556, TH_ACK, 10), T0 + 1);
	assert_int_equal(g->tcp_state, TCP_ESTABLISHED);

	/* A FIN scan (no reply) stays embryonic. */
	g = feed(t, PK(IPPROTO_TCP, EXT, 5557, HP, 22, TH_FIN, 0), T0);
	assert_int_equal(g->tcp_state, TCP_MIDSTREAM);
	/* Data both ways without the SYN-ACK seen. */
	g = feed(t, PK(IPPROTO_TCP, HP, 40001, EXT, 80, TH_SYN, 0), T0);
	feed(t, PK(IPPROTO_TCP, EXT, 80, HP, 40001, TH_ACK, 10), T0 + 1);
	assert_int_equal(g->tcp_state, TCP_ESTABLISHED);

	/* UDP has no TCP state. */
	g = feed(t, PK(IPPROTO_UDP, HP, 5353, EXT, 53, 0, 30), T0);
	assert_int_equal(g->tcp_state, TCP_NONE);
	assert_int_equal(e.n, 0);
	flow_flush(t);
	assert_int_equal(e.n, 6);
	assert_int_equal(e.by[END_SHUTDOWN], 6);
	flow_table_free(t);
}

/* p with sequence and acknowledgment numbers */
static struct fb_packet
seqack(struct fb_packet p, uint32_t seq, uint32_t ack)
{
	p.seq = seq;
	p.ack = ack;
	return p;
}
#define SA(seq, ack, ...) (&((struct fb_packet[1]){ seqack(pkt(__VA_ARGS__), seq, ack) })[0])

/*
 * proven (the engine's test before it marks an inbound TCP flow known,
 * known.h): the client acknowledged the honeypot's SYN or the exact end of
 * its latest data.  Acks that name anything else, as a spoofer must guess
 * them, prove nothing.
 */
static void
test_proven(void **state)
{
	struct ended e = { 0 };
	struct flow_table *t = flow_table_new(16, &tmo, on_end, &e);
	struct fb_flow *f;

	(void)state;
	/* The handshake: the ACK names the SYN-ACK's sequence + 1. */
	f = feed(t, SA(1000, 0, IPPROTO_TCP, EXT, 5000, HP, 22, TH_SYN, 0), T0);
	feed(t, SA(9000, 1001, IPPROTO_TCP, HP, 22, EXT, 5000, TH_SYN | TH_ACK, 0), T0 + 1);
	assert_false(f->proven);
	feed(t, SA(1001, 9002, IPPROTO_TCP, EXT, 5000, HP, 22, TH_ACK, 0), T0 + 2);
	assert_false(f->proven);			/* off by one */
	assert_int_equal(f->tcp_state, TCP_ESTABLISHED);
	feed(t, SA(1001, 9001, IPPROTO_TCP, EXT, 5000, HP, 22, TH_ACK, 0), T0 + 3);
	assert_true(f->proven);

	/* Blind ACKs with data, no answer seen: nothing proven. */
	f = feed(t, SA(1, 12345, IPPROTO_TCP, EXT, 5001, HP, 22, TH_ACK, 10), T0);
	feed(t, SA(11, 54321, IPPROTO_TCP, EXT, 5001, HP, 22, TH_ACK, 10), T0 + 1);
	assert_int_equal(f->tcp_state, TCP_MIDSTREAM);
	assert_false(f->proven);

	/* Picked up mid-stream (a restart): the client acknowledges the end
	 * of the honeypot's latest data. */
	f = feed(t, SA(100, 7000, IPPROTO_TCP, EXT, 5002, HP, 22, TH_ACK, 5), T0);
	feed(t, SA(7000, 105, IPPROTO_TCP, HP, 22, EXT, 5002, TH_ACK, 10), T0 + 1);
	feed(t, SA(105, 7005, IPPROTO_TCP, EXT, 5002, HP, 22, TH_ACK, 0), T0 + 2);
	assert_false(f->proven);			/* half of it */
	feed(t, SA(7010, 105, IPPROTO_TCP, HP, 22, EXT, 5002, TH_ACK, 20), T0 + 3);
	feed(t, SA(105, 7010, IPPROTO_TCP, EXT, 5002, HP, 22, TH_ACK, 0), T0 + 4);
	assert_false(f->proven);			/* not the latest */
	feed(t, SA(105, 7030, IPPROTO_TCP, EXT, 5002, HP, 22, TH_ACK, 0), T0 + 5);
	assert_true(f->proven);
	/* An upload picked up mid-stream: the honeypot only acknowledges;
	 * its bare ACK's sequence number is what the client's next segment
	 * acknowledges.  The client's segment before it proves nothing. */
	f = feed(t, SA(100, 7000, IPPROTO_TCP, EXT, 5003, HP, 22, TH_ACK, 100), T0);
	feed(t, SA(7000, 200, IPPROTO_TCP, HP, 22, EXT, 5003, TH_ACK, 0), T0 + 1);
	assert_false(f->proven);
	feed(t, SA(200, 6999, IPPROTO_TCP, EXT, 5003, HP, 22, TH_ACK, 100), T0 + 2);
	assert_false(f->proven);			/* a guess */
	feed(t, SA(300, 7000, IPPROTO_TCP, EXT, 5003, HP, 22, TH_ACK, 100), T0 + 3);
	assert_true(f->proven);
	/* A RST from the honeypot gives nothing to acknowledge. */
	f = feed(t, SA(1, 0, IPPROTO_TCP, EXT, 5004, HP, 23, TH_ACK, 0), T0);
	feed(t, SA(4242, 0, IPPROTO_TCP, HP, 23, EXT, 5004, TH_RST, 0), T0 + 1);
	feed(t, SA(1, 4242, IPPROTO_TCP, EXT, 5004, HP, 23, TH_ACK, 0), T0 + 2);
	assert_false(f->proven);
	flow_flush(t);
	flow_table_free(t);
}

/* Each flow kind ends exactly after its own timeout, with the right reason. */
static void
test_expiry_per_state(void **state)
{
	struct ended e = { 0 };
	struct flow_table *t = flow_table_new(64, &tmo, on_end, &e);
	struct fb_flow *syn, *est, *fin, *udp1, *udp2, *icmp, *gre;
	uint64_t id_syn, id_est, id_fin, id_udp1, id_udp2, id_icmp, id_gre;
	struct flow_stats st;
	struct fb_packet ping;

	(void)state;
	syn = feed(t, PK(IPPROTO_TCP, EXT, 1, HP, 22, TH_SYN, 0), T0);
	est = feed(t, PK(IPPROTO_TCP, EXT, 2, HP, 22, TH_SYN, 0), T0);
	feed(t, PK(IPPROTO_TCP, HP, 22, EXT, 2, TH_SYN | TH_ACK, 0), T0);
	feed(t, PK(IPPROTO_TCP, EXT, 2, HP, 22, TH_ACK, 0), T0);
	fin = feed(t, PK(IPPROTO_TCP, EXT, 3, HP, 22, TH_SYN, 0), T0);
	feed(t, PK(IPPROTO_TCP, HP, 22, EXT, 3, TH_RST, 0), T0);
	udp1 = feed(t, PK(IPPROTO_UDP, HP, 1000, EXT, 53, 0, 10), T0);
	udp2 = feed(t, PK(IPPROTO_UDP, HP, 1001, EXT, 53, 0, 10), T0);
	feed(t, PK(IPPROTO_UDP, EXT, 53, HP, 1001, 0, 10), T0);
	ping = pkt(IPPROTO_ICMP, HP, 9, EXT, 9, 0, 56);
	ping.icmp_request = true;
	icmp = feed(t, &ping, T0);
	gre = feed(t, PK(47, HP, 0, EXT, 0, 0, 56), T0 + 30 * SEC);
	id_syn = syn->id, id_est = est->id, id_fin = fin->id;
	id_udp1 = udp1->id, id_udp2 = udp2->id, id_icmp = icmp->id, id_gre = gre->id;
	assert_int_equal(est->tcp_state, TCP_ESTABLISHED);
	assert_int_equal(fin->tcp_state, TCP_RESET);

	/* Exactly at the timeout: still alive (idle longer than ends it). */
	flow_expire(t, T0 + 10 * SEC);
	assert_int_equal(e.n, 0);
	flow_expire(t, T0 + 10 * SEC + 1);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.last_id, id_fin);
	assert_int_equal(e.last_why, END_CLOSED);
	flow_expire(t, T0 + 30 * SEC + 1);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.last_id, id_syn);
	assert_int_equal(e.last_why, END_TIMEOUT);
	flow_expire(t, T0 + 60 * SEC + 1);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.last_id, id_icmp);
	flow_expire(t, T0 + 90 * SEC + 1);
	assert_int_equal(e.n, 4);
	assert_int_equal(e.last_id, id_gre);
	flow_expire(t, T0 + 120 * SEC + 1);
	assert_int_equal(e.n, 6);	/* both UDP flows, with and without reply */
	(void)id_udp1;
	(void)id_udp2;
	flow_expire(t, T0 + 3600 * SEC);
	assert_int_equal(e.n, 6);
	flow_expire(t, T0 + 3600 * SEC + 1);
	assert_int_equal(e.n, 7);
	assert_int_equal(e.last_id, id_est);
	assert_int_equal(e.by[END_TIMEOUT], 6);
	assert_int_equal(e.by[END_CLOSED], 1);
	flow_stats(t, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.created, 7);
	assert_int_equal(st.ended, 7);
	assert_int_equal(st.timed_out, 7);
	assert_int_equal(st.max, 64);
	flow_table_free(t);
}

/* Activity keeps a flow alive; the walk stops at the first live flow but
 * never misses an expired one behind a refreshed one. */
static void
test_expiry_refresh(void **state)
{
	struct ended e = { 0 };
	struct flow_table *t = flow_table_new(64, &tmo, on_end, &e);
	struct fb_flow *a, *b;
	uint64_t ida;

	(void)state;
	a = feed(t, PK(IPPROTO_UDP, HP, 1, EXT, 53, 0, 10), T0);
	b = feed(t, PK(IPPROTO_UDP, HP, 2, EXT, 53, 0, 10), T0 + SEC);
	ida = a->id;
	(void)b;
	feed(t, PK(IPPROTO_UDP, HP, 1, EXT, 53, 0, 10), T0 + 100 * SEC);
	flow_expire(t, T0 + 121 * SEC + 1);
	assert_int_equal(e.n, 1);
	assert_int_not_equal(e.last_id, ida);
	flow_expire(t, T0 + 220 * SEC + 1);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.last_id, ida);
	/* A clock that steps back never breaks the order. */
	a = feed(t, PK(IPPROTO_UDP, HP, 3, EXT, 53, 0, 10), T0 + 300 * SEC);
	b = feed(t, PK(IPPROTO_UDP, HP, 4, EXT, 53, 0, 10), T0 + 200 * SEC);
	assert_true(b->last >= a->last);
	flow_expire(t, T0 + 421 * SEC);
	assert_int_equal(e.n, 4);
	flow_table_free(t);
}

/* Full table: closed first, then embryonic, LRU within a tier, then established. */
static void
test_eviction_order(void **state)
{
	struct ended e = { 0 };
	struct flow_table *t = flow_table_new(4, &tmo, on_end, &e);
	struct fb_flow *est1, *est2, *emb, *cl, *f;
	uint64_t id_est1, id_est2, id_emb, id_cl, id_f;
	struct flow_stats st;

	(void)state;
	est1 = feed(t, PK(IPPROTO_UDP, HP, 1, EXT, 53, 0, 10), T0);
	feed(t, PK(IPPROTO_UDP, EXT, 53, HP, 1, 0, 10), T0);
	emb = feed(t, PK(IPPROTO_UDP, HP, 2, EXT, 53, 0, 10), T0 + 5);
	est2 = feed(t, PK(IPPROTO_TCP, EXT, 3, HP, 22, TH_SYN, 0), T0 + 1);
	feed(t, PK(IPPROTO_TCP, HP, 22, EXT, 3, TH_SYN | TH_ACK, 0), T0 + 1);
	feed(t, PK(IPPROTO_TCP, EXT, 3, HP, 22, TH_ACK, 0), T0 + 1);
	cl = feed(t, PK(IPPROTO_TCP, EXT, 4, HP, 22, TH_SYN, 0), T0 + 9);
	feed(t, PK(IPPROTO_TCP, HP, 22, EXT, 4, TH_RST, 0), T0 + 9);
	id_est1 = est1->id, id_est2 = est2->id, id_emb = emb->id, id_cl = cl->id;

	f = feed(t, PK(IPPROTO_TCP, EXT, 10, HP, 22, TH_SYN, 0), T0 + 10);
	id_f = f->id;
	assert_int_equal(e.n, 1);
	assert_int_equal(e.last_id, id_cl);
	assert_int_equal(e.last_why, END_EVICTED);
	/* Now two embryonic: emb (T0+5) is older than f (T0+10). */
	feed(t, PK(IPPROTO_TCP, EXT, 11, HP, 22, TH_SYN, 0), T0 + 11);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.last_id, id_emb);
	feed(t, PK(IPPROTO_TCP, EXT, 12, HP, 22, TH_SYN, 0), T0 + 12);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.last_id, id_f);
	/* Established ones are untouched while embryonic ones exist. */
	assert_int_equal(e.est_evicted, 0);
	/* Make the embryonic ones established; now the LRU established goes:
	 * est1 (T0) is older than est2 (T0+1). */
	{
		struct fb_flowkey k;
		bool rev;
		struct fb_packet a = pkt(IPPROTO_TCP, HP, 22, EXT, 11, TH_SYN | TH_ACK, 0);
		struct fb_packet b = pkt(IPPROTO_TCP, EXT, 11, HP, 22, TH_ACK, 0);
		struct fb_packet c = pkt(IPPROTO_TCP, HP, 22, EXT, 12, TH_SYN | TH_ACK, 0);
		struct fb_packet d = pkt(IPPROTO_TCP, EXT, 12, HP, 22, TH_ACK, 0);

		feed(t, &a, T0 + 13);
		feed(t, &b, T0 + 13);
		feed(t, &c, T0 + 14);
		feed(t, &d, T0 + 14);
		feed(t, PK(IPPROTO_TCP, EXT, 13, HP, 22, TH_SYN, 0), T0 + 15);
		assert_int_equal(e.last_id, id_est1);
		feed(t, PK(IPPROTO_TCP, EXT, 14, HP, 22, TH_SYN, 0), T0 + 16);
		/* the previous SYN flow is embryonic: it goes, est2 stays */
		assert_int_not_equal(e.last_id, id_est2);
		assert_true(flow_key_of(PK(IPPROTO_TCP, EXT, 3, HP, 22, 0, 0), &k));
		assert_non_null(flow_lookup(t, &k, &rev));
	}
	flow_stats(t, &st);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.evicted, 5);
	flow_table_free(t);
}

/*
 * A million spoofed SYNs through a 4096-entry table holding 100 live
 * established sessions: memory stays fixed, no session is evicted, and every
 * flow that was ever created ends exactly once.
 */
static void
test_syn_flood(void **state)
{
	enum { N = 1000000, MAX = 4096, EST = 100 };
	struct ended e = { 0 };
	struct flow_table *t = flow_table_new(MAX, &tmo, on_end, &e);
	struct flow_stats st;
	struct fb_flowkey k;
	fb_ns now = T0;
	bool rev;

	(void)state;
	e.seen_len = N + EST + 2;
	e.seen = calloc(e.seen_len, 1);
	assert_non_null(e.seen);
	for (uint32_t i = 0; i < EST; i++) {
		feed(t, PK(IPPROTO_TCP, EXT + i, 2000, HP, 22, TH_SYN, 0), now);
		feed(t, PK(IPPROTO_TCP, HP, 22, EXT + i, 2000, TH_SYN | TH_ACK, 0), now);
		feed(t, PK(IPPROTO_TCP, EXT + i, 2000, HP, 22, TH_ACK, 0), now);
	}
	for (uint32_t i = 0; i < N; i++) {
		now += 1000;	/* a SYN every microsecond */
		feed(t, PK(IPPROTO_TCP, 0x50000000u + i, (uint16_t)i, HP, 80, TH_SYN, 0),
		    now);
		if (i % 10000 == 0)
			flow_expire(t, now);	/* 1 s: nothing is idle long enough */
		flow_stats(t, &st);
		assert_true(st.active <= MAX);
	}
	assert_int_equal(e.est_evicted, 0);
	for (uint32_t i = 0; i < EST; i++) {
		struct fb_flow *f;

		assert_true(flow_key_of(PK(IPPROTO_TCP, HP, 22, EXT + i, 2000, 0, 0), &k));
		f = flow_lookup(t, &k, &rev);
		assert_non_null(f);
		assert_int_equal(f->tcp_state, TCP_ESTABLISHED);
	}
	flow_stats(t, &st);
	assert_int_equal(st.created, N + EST);
	assert_int_equal(st.active, MAX);
	assert_int_equal(st.evicted, N + EST - MAX);
	flow_flush(t);
	assert_int_equal(e.n, N + EST);
	assert_int_equal(e.dup, 0);
	for (uint64_t id = 1; id <= N + EST; id++)
		if (e.seen[id] != 1)
			fail_msg("flow %llu ended %u times", (unsigned long long)id, e.seen[id]);
	flow_stats(t, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.ended, N + EST);
	free(e.seen);
	flow_table_free(t);
}

/*
 * An inbound SYN flood and a honeypot's allowed (counted) outbound
 * connection waiting for its SYN-ACK: the flood evicts its own half-open
 * flows, never the honeypot's, which then completes.
 */
static void
test_flood_spares_counted(void **state)
{
	enum { N = 200000, MAX = 1024 };
	struct ended e = { 0 };
	struct flow_table *t = flow_table_new(MAX, &tmo, on_end, &e);
	struct fb_flow *out, *refused;
	fb_ns now = T0;

	(void)state;
	out = feed(t, PK(IPPROTO_TCP, HP, 40000, EXT, 443, TH_SYN, 0), now);
	out->dir = DIR_OUTBOUND;
	out->counted = true;
	feed(t, PK(IPPROTO_TCP, HP, 40000, EXT, 443, TH_SYN, 0), now);	/* re-listed */
	refused = feed(t, PK(IPPROTO_TCP, HP, 40001, EXT, 443, TH_SYN, 0), now);
	refused->dir = DIR_OUTBOUND;	/* over the limit: not counted */
	for (uint32_t i = 0; i < N; i++) {
		now += 1000;
		feed(t, PK(IPPROTO_TCP, 0x50000000u + i, (uint16_t)i, HP, 80, TH_SYN, 0), now);
	}
	/* the refused one went with the flood; the counted one is still there */
	assert_true(e.by[END_EVICTED] == N + 2 - MAX);
	out = feed(t, PK(IPPROTO_TCP, EXT, 443, HP, 40000, TH_SYN | TH_ACK, 0), now);
	assert_true(out->counted);
	assert_int_equal(out->pkts[0], 2);
	assert_int_equal(out->pkts[1], 1);
	out = feed(t, PK(IPPROTO_TCP, HP, 40000, EXT, 443, TH_ACK, 0), now);
	assert_int_equal(out->tcp_state, TCP_ESTABLISHED);
	flow_table_free(t);
}

/*
 * A ping flood from random sources that the honeypot answers (every flow
 * has traffic both ways) and a honeypot's allowed (counted) connection
 * waiting for its SYN-ACK: the flood's answered pings go first, and an
 * established TCP session stays too.
 */
static void
test_ping_flood_spares_counted(void **state)
{
	enum { N = 100000, MAX = 1024 };
	struct ended e = { 0 };
	struct flow_table *t = flow_table_new(MAX, &tmo, on_end, &e);
	struct fb_flow *out, *ping;
	struct fb_flowkey k;
	fb_ns now = T0;
	bool rev;

	(void)state;
	feed(t, PK(IPPROTO_TCP, EXT, 2000, HP, 22, TH_SYN, 0), now);
	feed(t, PK(IPPROTO_TCP, HP, 22, EXT, 2000, TH_SYN | TH_ACK, 0), now);
	feed(t, PK(IPPROTO_TCP, EXT, 2000, HP, 22, TH_ACK, 0), now);
	out = feed(t, PK(IPPROTO_TCP, HP, 40000, EXT, 443, TH_SYN, 0), now);
	out->dir = DIR_OUTBOUND;
	out->counted = true;
	feed(t, PK(IPPROTO_TCP, HP, 40000, EXT, 443, TH_SYN, 0), now);	/* re-listed */
	for (uint32_t i = 0; i < N; i++) {
		struct fb_packet rq = pkt(IPPROTO_ICMP, 0x50000000u + i, 7, HP, 7, 0, 56);
		struct fb_packet rp = pkt(IPPROTO_ICMP, HP, 7, 0x50000000u + i, 7, 0, 56);

		rq.icmp_request = true;
		rp.icmp_reply = true;
		now += 1000;
		ping = feed(t, &rq, now);
		assert_true(feed(t, &rp, now) == ping);
	}
	assert_int_equal(e.by[END_EVICTED], N + 2 - MAX);
	out = feed(t, PK(IPPROTO_TCP, EXT, 443, HP, 40000, TH_SYN | TH_ACK, 0), now);
	assert_true(out->counted);
	assert_int_equal(out->pkts[0], 2);
	assert_int_equal(out->pkts[1], 1);
	assert_true(flow_key_of(PK(IPPROTO_TCP, HP, 22, EXT, 2000, 0, 0), &k));
	assert_non_null(flow_lookup(t, &k, &rev));
	flow_table_free(t);
}

/* Churn with expiry, eviction and flush mixed: still exactly once each. */
static void
test_churn_exactly_once(void **state)
{
	enum { N = 200000 };
	struct ended e = { 0 };
	struct flow_table *t = flow_table_new(257, &tmo, on_end, &e);
	uint32_t rnd = 12345;
	fb_ns now = T0;
	struct flow_stats st;

	(void)state;
	e.seen_len = N + 2;
	e.seen = calloc(e.seen_len, 1);
	for (uint32_t i = 0; i < N; i++) {
		static const uint8_t fl[] = { TH_SYN, TH_SYN | TH_ACK, TH_ACK, TH_FIN, TH_RST,
		    TH_ACK | TH_PUSH };
		uint32_t a, b;
		uint8_t proto;

		rnd = rnd * 1103515245u + 12345u;
		a = rnd >> 8 & 0x3ff;
		proto = (rnd & 3) == 0 ? IPPROTO_UDP : (rnd & 3) == 1 ? 1 : IPPROTO_TCP;
		b = (rnd >> 20) % nitems(fl);
		now += (rnd >> 24) * SEC / 64;
		if (rnd & 0x80)
			feed(t, PK(proto, HP, (uint16_t)a, EXT, 80, fl[b], 1), now);
		else
			feed(t, PK(proto, EXT, 80, HP, (uint16_t)a, fl[b], 1), now);
		if ((rnd & 0xff00) == 0)
			flow_expire(t, now);
		flow_stats(t, &st);
		if (st.created >= N)
			break;
	}
	flow_flush(t);
	flow_stats(t, &st);
	assert_int_equal(e.n, st.created);
	assert_int_equal(e.dup, 0);
	for (uint64_t id = 1; id <= st.created; id++)
		assert_int_equal(e.seen[id], 1);
	free(e.seen);
	flow_table_free(t);
}

static void
test_dirs_and_names(void **state)
{
	(void)state;
	assert_string_equal(dir_name(DIR_OUTBOUND), "outbound");
	assert_string_equal(dir_name(DIR_INBOUND), "inbound");
	assert_string_equal(tcp_state_name(TCP_ESTABLISHED), "established");
	assert_string_equal(tcp_state_name(TCP_SYN_SENT), "syn_sent");
	assert_string_equal(end_name(END_EVICTED), "evicted");
	assert_string_equal(end_name(END_TIMEOUT), "timeout");
	assert_string_equal(end_name(END_CLOSED), "closed");
	assert_string_equal(end_name(END_SHUTDOWN), "shutdown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_both_directions),
		cmocka_unit_test(test_many_flows_all_found),
		cmocka_unit_test(test_key_of),
		cmocka_unit_test(test_tcp_states),
		cmocka_unit_test(test_proven),
		cmocka_unit_test(test_expiry_per_state),
		cmocka_unit_test(test_expiry_refresh),
		cmocka_unit_test(test_eviction_order),
		cmocka_unit_test(test_ping_flood_spares_counted),
		cmocka_unit_test(test_syn_flood),
		cmocka_unit_test(test_flood_spares_counted),
		cmocka_unit_test(test_churn_exactly_once),
		cmocka_unit_test(test_dirs_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
