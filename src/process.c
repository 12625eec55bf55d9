/*
 * process.c - the standard process collector's metrics (process_*), as
 * Prometheus client libraries define them, read from /proc/self and
 * getrlimit(2) at each scrape.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/resource.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "msgd.h"

struct process_stat {
	double		cpu_seconds;	/* utime + stime */
	double		start_time;	/* seconds since the epoch */
	unsigned long	vsize;		/* bytes */
	long		rss;		/* bytes */
};

static int	process_boot_time(long long *);
static int	process_read_stat(struct process_stat *);
static void	process_metric(struct evbuffer *, const char *, const char *,
		    const char *, const char *);

/* The system's boot time, from the btime line of /proc/stat. */
static int
process_boot_time(long long *btime)
{
	FILE	*f;
	char	 line[256];
	int	 found = 0;

	if ((f = fopen("/proc/stat", "re")) == NULL)
		return (-1);
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = sscanf(line, "btime %lld", btime) == 1;
	fclose(f);
	return (found ? 0 : -1);
}

/*
 * /proc/self/stat (proc(5)): the fields after the command name, which is
 * in parentheses and may hold anything, so parsing starts after the last
 * ')'.  Field 3 is the state; utime and stime are 14 and 15, starttime
 * 22 (clock ticks after boot), vsize 23 (bytes), rss 24 (pages).
 */
static int
process_read_stat(struct process_stat *ps)
{
	FILE			*f;
	char			 buf[1024], *p;
	unsigned long		 utime, stime, vsize;
	unsigned long long	 start;
	long			 rss, hz = sysconf(_SC_CLK_TCK);
	long long		 btime;
	size_t			 n;

	if ((f = fopen("/proc/self/stat", "re")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || hz <= 0 ||
	    process_boot_time(&btime) == -1)
		return (-1);
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu %*d %*d %*d %*d %*d %*d %llu %lu %ld", &utime, &stime,
	    &start, &vsize, &rss) != 5)
		return (-1);
	ps->cpu_seconds = (double)(utime + stime) / (double)hz;
	ps->start_time = (double)btime + (double)start / (double)hz;
	ps->vsize = vsize;
	ps->rss = rss * sysconf(_SC_PAGESIZE);
	return (0);
}

/* Descriptors open now: the entries of /proc/self/fd but our own. */
int
process_open_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0, self;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	self = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' && atoi(e->d_name) != self)
			n++;
	}
	closedir(d);
	return (n);
}

static void
process_metric(struct evbuffer *b, const char *name, const char *type,
    const char *help, const char *value)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name,
	    help, name, type, name, value);
}

/*
 * What cannot be read is left out rather than reported as 0, as the
 * client libraries do.
 */
void
process_prometheus(struct evbuffer *b)
{
	struct process_stat	ps;
	struct rlimit		rl;
	char			v[64];
	int			fds, have_stat;

	if ((have_stat = process_read_stat(&ps) == 0)) {
		snprintf(v, sizeof(v), "%.2f", ps.cpu_seconds);
		process_metric(b, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.", v);
	}
	if ((fds = process_open_fds()) != -1) {
		snprintf(v, sizeof(v), "%d", fds);
		process_metric(b, "process_open_fds", "gauge",
		    "Number of open file descriptors.", v);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur !=
	    RLIM_INFINITY) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)rl.rlim_cur);
		process_metric(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.", v);
	}
	if (have_stat) {
		snprintf(v, sizeof(v), "%lu", ps.vsize);
		process_metric(b, "process_virtual_memory_bytes", "gauge",
		    "Virtual memory size in bytes.", v);
		snprintf(v, sizeof(v), "%ld", ps.rss);
		process_metric(b, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.", v);
		snprintf(v, sizeof(v), "%.2f", ps.start_time);
		process_metric(b, "process_start_time_seconds", "gauge",
		    "Start time of the process since unix epoch in seconds.",
		    v);
	}
}
