/*
 * main: the command line.  Parses the subcommand, loads the configuration,
 * opens what needs privilege (packet sockets, the data directory, the control
 * socket), drops to the unprivileged user, then hands over to the engine.
 * The operator commands (status, unblock, reload) are clients of the control
 * socket.  See fishbowl(8).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <dirent.h>
#include <unistd.h>

#include <seccomp.h>

#include "config.h"
#include "engine.h"
#include "io.h"
#include "known.h"
#include "util.h"

#define DEFAULT_CONFIG	"/etc/fishbowl/fishbowl.conf"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: fishbowl run     -c FILE [-v]\n"
	    "       fishbowl replay  -c FILE -r CAPTURE [-o DIR] [-v]\n"
	    "       fishbowl status  [-c FILE] [-s SOCKET] [--json]\n"
	    "       fishbowl unblock [-c FILE] [-s SOCKET] HOST\n"
	    "       fishbowl reload  [-c FILE] [-s SOCKET]\n"
	    "       fishbowl check   -c FILE\n");
	exit(2);
}

struct args {
	const char	*config;
	const char	*socket;
	const char	*capture;
	const char	*outdir;
	bool		 json;
	int		 verbose;
	int		 argc;		/* operands left */
	char		**argv;
};

static void
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "read", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:r:o:jv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': a->config = optarg; break;
		case 's': a->socket = optarg; break;
		case 'r': a->capture = optarg; break;
		case 'o': a->outdir = optarg; break;
		case 'j': a->json = true; break;
		case 'v': a->verbose++; break;
		default: usage();
		}
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
}

static void
load_config(const char *path, struct fb_config *cfg)
{
	char err[1024];

	if (config_load(path, cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "fishbowl: %s\n", err);
		exit(1);
	}
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* The control socket: root-only (0600, owned by root, in a 0700 dir). */
static int
ctl_listen(const char *path)
{
	struct sockaddr_un sun;
	char dir[sizeof(sun.sun_path)];
	char *slash;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("control socket path too long: %s", path);
	fb_strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700) == -1)
			fatal("%s", dir);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	fb_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	unlink(path);
	mode_t old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	umask(old);
	if (chmod(path, 0600) == -1)
		fatal("chmod %s", path);
	if (listen(fd, 16) == -1)
		fatal("listen %s", path);
	return fd;
}

static void
chown_tree_top(const char *dir, uid_t uid, gid_t gid)
{
	char p[4096];
	DIR *d;
	struct dirent *de;

	/* The data directory, its state and the day folders made before. */
	if (chown(dir, uid, gid) == -1)
		log_warn("chown %s", dir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lchown(p, uid, gid) == -1)
			log_warn("chown %s", p);
		if (strcmp(de->d_name, "state") == 0 || strlen(de->d_name) == 10) {
			DIR *sd = opendir(p);
			struct dirent *se;
			char q[4096 + 256];

			if (sd == NULL)
				continue;
			while ((se = readdir(sd)) != NULL) {
				if (se->d_name[0] == '.')
					continue;
				snprintf(q, sizeof(q), "%s/%s", p, se->d_name);
				if (lchown(q, uid, gid) == -1)
					log_warn("chown %s", q);
			}
			closedir(sd);
		}
	}
	closedir(d);
}

/* Drop root for good: no supplementary groups, real/effective/saved ids, no
 * capabilities, no way back (no_new_privs). */
static void
drop_privileges(const char *user, const char *data_dir)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("[run] user = %s: no such user", user);
	chown_tree_top(data_dir, pw->pw_uid, pw->pw_gid);
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", user);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
	if (setuid(0) != -1)
		fatalx("could regain root after dropping privileges");
	log_info("running as %s (uid %u)", user, (unsigned)pw->pw_uid);
}

/*
 * After start-up the gateway needs no new programs, no new network sockets,
 * no debugging of others and no kernel administration: refuse them, so a bug
 * exploited by a crafted frame cannot turn the gateway into a tool.  A
 * denylist (not an allowlist) keeps libc and the sanitizers working.
 */
static void
sandbox(void)
{
	static const int denied[] = {
		SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(fork), SCMP_SYS(vfork),
		SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
		SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
		SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(kexec_load),
		SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module),
		SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(keyctl),
		SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(setuid),
		SCMP_SYS(setgid), SCMP_SYS(setresuid), SCMP_SYS(setresgid),
		SCMP_SYS(setgroups),
	};
	static const int families[] = { AF_INET, AF_INET6, AF_PACKET, AF_NETLINK };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc = ctx == NULL ? -1 : 0;

	for (size_t i = 0; rc == 0 && i < nitems(denied); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0);
	for (size_t i = 0; rc == 0 && i < nitems(families); i++) {
		/* Spelled out: SCMP_A0() leaves datum_b implicit, which clang
		 * rejects under -Wextra -Werror. */
		struct scmp_arg_cmp first_arg_is = {
			.arg = 0, .op = SCMP_CMP_EQ,
			.datum_a = (scmp_datum_t)families[i], .datum_b = 0,
		};
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
		    first_arg_is);
	}
	if (rc == 0)
		rc = seccomp_load(ctx);
	if (ctx != NULL)
		seccomp_release(ctx);
	if (rc != 0)
		fatalx("cannot install the seccomp filter (%d)", rc);
	log_info("seccomp filter installed");
}

/*
 * The fast path pins its ring buffers under a name from the capture
 * directory (made now, the engine would make it next), owned by the user
 * fishbowl will run as: the clean stop, root gone, unpins them.
 */
static void
fast_pins(const struct fb_config *cfg, struct fb_fast_pins *p)
{
	struct passwd *pw;

	p->capture_dir = cfg->capture_dir;
	p->uid = (unsigned)geteuid();
	p->gid = (unsigned)getegid();
	if (mkdir_p(cfg->capture_dir, 0750) == -1)
		log_warn("%s", cfg->capture_dir);
	if (geteuid() == 0 && (pw = getpwnam(cfg->run_user)) != NULL) {
		p->uid = (unsigned)pw->pw_uid;
		p->gid = (unsigned)pw->pw_gid;
	}
}

static int
cmd_run(struct args *a)
{
	struct fb_config cfg;
	struct engine_opts opts = { .live = true, .persist = true, .syslog_ident = "fishbowl" };
	struct fb_fast_pins pins;
	struct fb_io *io;
	struct engine *e;
	char err[1024];
	int ctl;

	load_config(a->config ? a->config : DEFAULT_CONFIG, &cfg);
	if (cfg.outside[0] == '\0' || cfg.inside[0] == '\0')
		fatalx("%s: [honeynet] outside and inside are required to run", cfg.path);
	if (strcmp(cfg.outside, cfg.inside) == 0)
		fatalx("%s: [honeynet] outside and inside are the same interface", cfg.path);
	install_signals();
	fast_pins(&cfg, &pins);
	io = io_afpacket_open(cfg.outside, cfg.inside, cfg.ring_mb,
	    cfg.openers_ring_mb, cfg.known_flows ? known_slots_for(cfg.max_flows) : 0,
	    cfg.fast_path ? cfg.fast_path_mb : 0, &pins, err, sizeof(err));
	if (io == NULL)
		fatalx("%s", err);
	e = engine_new(&cfg, io, &opts, err, sizeof(err));
	if (e == NULL)
		fatalx("%s", err);
	ctl = ctl_listen(a->socket ? a->socket : cfg.socket_path);
	drop_privileges(cfg.run_user, engine_data_dir(e));
	sandbox();
	log_info("bridging %s <-> %s, data in %s", cfg.outside, cfg.inside,
	    engine_data_dir(e));
	engine_run(e, &stop_requested, &reload_requested, ctl);
	log_info("stopping");
	engine_free(e);
	close(ctl);
	config_free(&cfg);
	return 0;
}

static int
cmd_replay(struct args *a)
{
	struct fb_config cfg;
	struct engine_opts opts = { .live = false, .persist = false };
	struct fb_io *io;
	struct engine *e;
	struct jbuf jb;
	char err[1024];
	int rc;

	if (a->config == NULL || a->capture == NULL)
		usage();
	load_config(a->config, &cfg);
	opts.data_dir = a->outdir;
	io = io_pcap_open(a->capture, err, sizeof(err));
	if (io == NULL)
		fatalx("%s", err);
	e = engine_new(&cfg, io, &opts, err, sizeof(err));
	if (e == NULL)
		fatalx("%s", err);
	rc = engine_run(e, NULL, NULL, -1) == -1 ? 1 : 0;
	if (rc != 0)
		log_warnx("replay: the capture ends in damage (above); the outputs "
		    "hold every frame before it");
	jb_init(&jb);
	engine_status_text(e, &jb);
	if (a->verbose)
		fputs(jb.p, stdout);
	jb_free(&jb);
	engine_free(e);
	config_free(&cfg);
	return rc;
}

static int
cmd_check(struct args *a)
{
	struct fb_config cfg;

	char err[1024];

	if (a->config == NULL)
		usage();
	/* The error alone, "FILE:LINE: [section] key = value: why", so editors
	 * and scripts can jump to it (fishbowl.conf(5) ERRORS). */
	if (config_load(a->config, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: ok\n", a->config);
	config_free(&cfg);
	return 0;
}

/* Client side of the control socket. */
static int
ctl_request(struct args *a, const char *req)
{
	struct sockaddr_un sun;
	const char *path = a->socket;
	struct fb_config cfg;
	bool have_cfg = false;
	char buf[65536];
	ssize_t n;
	int fd, rc = 0;

	if (path == NULL) {
		load_config(a->config ? a->config : DEFAULT_CONFIG, &cfg);
		have_cfg = true;
		path = cfg.socket_path;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("control socket path too long: %s", path);
	fb_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "fishbowl: cannot reach the gateway at %s: %s "
		    "(is fishbowl running? are you root?)\n", path, strerror(errno));
		exit(1);
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) || write(fd, "\n", 1) != 1)
		fatal("write %s", path);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, stdout);
		if (strncmp(buf, "error:", 6) == 0)
			rc = 1;
	}
	close(fd);
	if (have_cfg)
		config_free(&cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	struct args a;
	const char *cmd;
	char req[256];

	if (argc < 2)
		usage();
	cmd = argv[1];
	parse_args(argc - 1, argv + 1, &a);
	log_init("fishbowl", a.verbose + 1);
	if (strcmp(cmd, "run") == 0)
		return cmd_run(&a);
	if (strcmp(cmd, "replay") == 0)
		return cmd_replay(&a);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(&a);
	if (strcmp(cmd, "status") == 0)
		return ctl_request(&a, a.json ? "status-json" : "status");
	if (strcmp(cmd, "reload") == 0)
		return ctl_request(&a, "reload");
	if (strcmp(cmd, "unblock") == 0) {
		if (a.argc != 1 || strlen(a.argv[0]) > 100)
			usage();
		snprintf(req, sizeof(req), "unblock %s", a.argv[0]);
		return ctl_request(&a, req);
	}
	usage();
}
