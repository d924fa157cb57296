/*
 * libFuzzer target: config_load_string on arbitrary bytes (cut at the first
 * NUL, as a file with one is refused before parsing).  A successful load
 * must hold its promises: networks present, every honeypot inside them,
 * limits in range; a failed one leaves one printable line in err.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fb_config cfg;
	char err[512], lim[32];
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_string("fuzz.conf", text, &cfg, err, sizeof(err)) == 0) {
		if (cfg.n_networks == 0)
			abort();
		for (size_t i = 0; i < cfg.n_honeypots; i++)
			if (!config_in_networks(&cfg, &cfg.honeypots[i]) ||
			    !config_is_honeypot(&cfg, &cfg.honeypots[i]))
				abort();
		for (int c = 0; c < CLASS_MAX; c++) {
			const struct fb_limit *l = &cfg.limit[c];

			if (l->kind == LIMIT_COUNT && (l->n < 1 || l->n > 65535 ||
			    l->period < 0))
				abort();
			limit_fmt(l, lim, sizeof(lim));
		}
		if (cfg.max_flows < 16 || cfg.capture_dir[0] != '/' ||
		    cfg.socket_path[0] != '/')
			abort();
		config_free(&cfg);
	} else {
		for (const char *p = err; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				abort();
		if (strncmp(err, "fuzz.conf", 9) != 0)
			abort();
	}
	free(text);
	return 0;
}
