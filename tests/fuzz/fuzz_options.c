/*
 * fuzz_options.c - libFuzzer target for options_parse: the input, split
 * on NUL bytes, is argv (after a program name).  Parsing must not crash,
 * and must either fail with a message or leave sane values.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define FUZZ_MAX_ARGS	64

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*copy, *argv[FUZZ_MAX_ARGS + 2], err[256];
	struct options	 o;
	struct acl_rule	*r;
	size_t		 i;
	int		 argc = 0;

	if ((copy = malloc(size + 1)) == NULL)
		return (0);
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = (char *)"msgd";
	argv[argc++] = copy;
	for (i = 0; i < size && argc <= FUZZ_MAX_ARGS; i++) {
		if (copy[i] == '\0')
			argv[argc++] = copy + i + 1;
	}
	argv[argc] = NULL;

	options_defaults(&o);
	err[0] = '\0';
	switch (options_parse(&o, argc, argv, err, sizeof(err))) {
	case OPTIONS_ERROR:
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		break;
	case OPTIONS_RUN:
		if (o.max_conns < 1 || o.max_message < 1 ||
		    o.idle_timeout < 0 || o.drain_timeout < 0 ||
		    o.port < 0 || o.port > 65535 || o.threads < 1 ||
		    o.nlisten < 0 || o.nlisten > OPTIONS_MAX_LISTEN ||
		    o.message == NULL || strpbrk(o.message, "\r\n") != NULL)
			abort();
		for (i = 0; i < o.acl.n; i++) {
			r = &o.acl.rules[i];
			if ((r->family != AF_INET || r->bits > 32) &&
			    (r->family != AF_INET6 || r->bits > 128))
				abort();
			if (r->bits < 0 || memchr(r->text, '\0',
			    sizeof(r->text)) == NULL)
				abort();
		}
		break;
	case OPTIONS_HELP:
	case OPTIONS_VERSION:
		break;
	}
	acl_free(&o.acl);
	free(copy);
	return (0);
}
