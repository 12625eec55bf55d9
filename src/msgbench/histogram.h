/*
 * histogram.h - a log-bucketed latency histogram, without I/O.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#ifndef MSGD_HISTOGRAM_H
#define MSGD_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Each power of two is split into HISTOGRAM_SUB linear buckets, so a
 * bucket is at most 1/32 (3.1%) wider than its lowest value; values below
 * HISTOGRAM_SUB are exact.  Values of 2^HISTOGRAM_MAX_BITS ns (about 18
 * minutes) and more share the last bucket; the maximum is kept exactly.
 */
#define HISTOGRAM_SUB_BITS	5
#define HISTOGRAM_SUB		(1 << HISTOGRAM_SUB_BITS)
#define HISTOGRAM_MAX_BITS	40
#define HISTOGRAM_BUCKETS	\
	((HISTOGRAM_MAX_BITS - HISTOGRAM_SUB_BITS + 1) * HISTOGRAM_SUB)

struct histogram {
	uint64_t	counts[HISTOGRAM_BUCKETS];
	uint64_t	total;
	uint64_t	min;
	uint64_t	max;
	uint64_t	sum;
};

void		histogram_init(struct histogram *);
void		histogram_record(struct histogram *, uint64_t);
void		histogram_merge(struct histogram *,
		    const struct histogram *);
uint64_t	histogram_percentile(const struct histogram *, double);
uint64_t	histogram_count(const struct histogram *);
uint64_t	histogram_max(const struct histogram *);
uint64_t	histogram_min(const struct histogram *);
double		histogram_mean(const struct histogram *);
size_t		histogram_bucket(uint64_t);
uint64_t	histogram_bucket_low(size_t);
uint64_t	histogram_bucket_high(size_t);

#endif /* MSGD_HISTOGRAM_H */
