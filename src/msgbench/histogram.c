/*
 * histogram.c - latencies in nanoseconds, bucketed by order of magnitude.
 *
 * Recording is a count increment in a fixed array: no allocation and no
 * floating point, so the load generator can record every reply.  The
 * layout is HdrHistogram's: bucket i < HISTOGRAM_SUB holds the value i;
 * above that, group g (from 1) covers [2^(g+4), 2^(g+5)) in HISTOGRAM_SUB
 * steps of 2^(g-1).
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <string.h>

#include "histogram.h"

void
histogram_init(struct histogram *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/* The bucket that counts value v. */
size_t
histogram_bucket(uint64_t v)
{
	unsigned	e, shift;

	if (v < HISTOGRAM_SUB)
		return ((size_t)v);
	if (v >> HISTOGRAM_MAX_BITS)
		return (HISTOGRAM_BUCKETS - 1);
	e = 63 - (unsigned)__builtin_clzll(v);	/* v >= 2^e */
	shift = e - HISTOGRAM_SUB_BITS;
	return ((size_t)(shift + 1) * HISTOGRAM_SUB +
	    (size_t)((v >> shift) - HISTOGRAM_SUB));
}

/* The smallest value bucket i counts. */
uint64_t
histogram_bucket_low(size_t i)
{
	size_t	g = i / HISTOGRAM_SUB, sub = i % HISTOGRAM_SUB;

	if (g == 0)
		return ((uint64_t)i);
	return ((uint64_t)(HISTOGRAM_SUB + sub) << (g - 1));
}

/* The largest value bucket i counts (the last one also takes the rest). */
uint64_t
histogram_bucket_high(size_t i)
{
	size_t	g = i / HISTOGRAM_SUB;

	if (i >= HISTOGRAM_BUCKETS - 1)
		return (UINT64_MAX);
	if (g == 0)
		return ((uint64_t)i);
	return (histogram_bucket_low(i) + ((uint64_t)1 << (g - 1)) - 1);
}

void
histogram_record(struct histogram *h, uint64_t v)
{
	h->counts[histogram_bucket(v)]++;
	h->total++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
histogram_merge(struct histogram *h, const struct histogram *from)
{
	size_t	i;

	if (from->total == 0)
		return;
	for (i = 0; i < HISTOGRAM_BUCKETS; i++)
		h->counts[i] += from->counts[i];
	h->total += from->total;
	h->sum += from->sum;
	if (from->min < h->min)
		h->min = from->min;
	if (from->max > h->max)
		h->max = from->max;
}

/*
 * The value at or below which p percent of the values fall, as the upper
 * bound of its bucket, so it never understates a latency; clamped to the
 * exact extremes.  0 when the histogram is empty.
 */
uint64_t
histogram_percentile(const struct histogram *h, double p)
{
	uint64_t	rank, seen = 0, v;
	double		x;
	size_t		i;

	if (h->total == 0)
		return (0);
	if (p <= 0)
		return (h->min);
	if (p >= 100)
		return (h->max);
	/* rank = ceil(p% of total), without libm, and at least 1. */
	x = p / 100.0 * (double)h->total;
	rank = (uint64_t)x;
	if ((double)rank < x - 1e-9)
		rank++;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < HISTOGRAM_BUCKETS; i++) {
		if ((seen += h->counts[i]) >= rank)
			break;
	}
	v = histogram_bucket_high(i);
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return (v);
}

uint64_t
histogram_count(const struct histogram *h)
{
	return (h->total);
}

uint64_t
histogram_max(const struct histogram *h)
{
	return (h->max);
}

uint64_t
histogram_min(const struct histogram *h)
{
	return (h->total == 0 ? 0 : h->min);
}

double
histogram_mean(const struct histogram *h)
{
	return (h->total == 0 ? 0 : (double)h->sum / (double)h->total);
}
