/*
 * syslogtcp: the "syslog" session analyser: syslog over TCP (RFC 6587,
 * octet counting and LF framing, mixed) seen crossing the bridge, the TCP
 * counterpart of the UDP 514 wire path in layers.c.
 *
 * Promises: detection is by content, not port: the originator's first
 * bytes are a syslog frame ("<PRI>" or "LEN <PRI>") and the responder has
 * sent nothing (syslog is one-way).  Messages are framed by the same
 * framer as the log server (logserver.h, cut at [logserver] max_message)
 * and become syslog.jsonl lines with source "wire", transport "tcp"
 * through the layers' wire sink (so shell command lines become keystroke
 * lines), only when the originator is the honeypot, as on UDP; a gap ends
 * the message being framed.  Memory: one max_message buffer a connection.
 */
#ifndef FB_SYSLOGTCP_H
#define FB_SYSLOGTCP_H

#include "session.h"

extern const struct analyser syslog_analyser;

#endif
