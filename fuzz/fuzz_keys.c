/*
 * libFuzzer target for the line editor: the input is typed in pieces (the
 * first byte sets the piece size) into one keyline, then flushed; every
 * line goes through jbuf into keystrokes.jsonl of a fresh data directory
 * that is removed afterwards.  Also checks keys_line with the whole input.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "keys.h"
#include "layers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fb_config cfg;
	char dir[] = "/tmp/fbfkXXXXXX";
	struct key_origin o = { .source = "sebek", .has_proc = true, .pid = 1,
	    .command = "sh" };
	struct event_log *el;
	struct layers *l;
	struct keyline *k;
	fb_ns ts = 1795651200LL * FB_NS_PER_SEC;
	size_t i, piece;

	if (size == 0 || mkdtemp(dir) == NULL)
		return 0;
	log_init("fuzz_keys", -1);
	cfg.layers = true;
	cfg.layers_memory_bytes = 1 << 20;
	el = event_log_open(dir, NULL);
	l = layers_new(&cfg, dir, el, NULL);
	k = keyline_new(l, &o);
	piece = (size_t)data[0] % 17 + 1;
	for (i = 1; i < size; i += piece)
		keyline_feed(k, ts + (fb_ns)i, data + i, size - i < piece ? size - i : piece);
	keyline_free(k, ts + (fb_ns)size);
	keys_line(l, ts, &o, (const char *)data, size, data, size);
	layers_free(l);
	event_log_close(el);
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
