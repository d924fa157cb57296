/*
 * engine: the pipeline.  For every frame from the I/O source: decode, decide
 * (spoofing, flow table, data control, rate cap), capture, then forward the
 * frames that may cross.  One code path for live and replay.
 *
 * Promises: a frame is forwarded only after it has been handed to the pcap
 * writer and the batch holding it has been written out (no frame crosses
 * unrecorded); when capture fails and on_failure = block, nothing crosses;
 * every dropped frame has a reason, counted; timers (flow expiry, window
 * release, rotation, retention, state) run from the loop, from wall time live
 * and from packet time in replay, so replays are deterministic.
 */
#ifndef FB_ENGINE_H
#define FB_ENGINE_H

#include <signal.h>
#include <stdbool.h>

#include "addr.h"
#include "config.h"
#include "io.h"
#include "util.h"

struct engine;
struct jbuf;

struct engine_opts {
	bool		 live;		/* wall-clock timers, leg from the source */
	const char	*data_dir;	/* overrides cfg->capture_dir when set */
	bool		 persist;	/* keep control state in DATA/state/ */
	const char	*syslog_ident;	/* NULL: no syslog */
};

struct engine *engine_new(struct fb_config *cfg, struct fb_io *io,
	    const struct engine_opts *, char *err, size_t errlen);
/* Process until the source ends (replay) or *stop is set.  0 or -1. */
int	 engine_run(struct engine *, volatile sig_atomic_t *stop,
	    volatile sig_atomic_t *reload, int ctl_fd);
/* Flush flows, save state, close outputs and the source. */
void	 engine_free(struct engine *);

/* Operator actions (control socket). */
void	 engine_status_json(struct engine *, struct jbuf *);
void	 engine_status_text(struct engine *, struct jbuf *);	/* text in jb->p */
int	 engine_unblock(struct engine *, const struct fb_addr *);
int	 engine_reload(struct engine *, char *err, size_t errlen);
/* The data directory in use (for chown before dropping privileges). */
const char *engine_data_dir(const struct engine *);

#endif
