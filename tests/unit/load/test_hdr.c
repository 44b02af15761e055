/*
 * tests/unit/load/test_hdr.c -- HdrHistogram's V2 compressed encoding
 * (load/hdr.c): a string another implementation wrote, round trips of
 * known distributions, and hostile strings, each refused with h left
 * as it was.
 *
 * The reference string was written by hdr-histogram-js 3 (npm), the
 * JavaScript port of HdrHistogram, for a histogram of lowest value 1,
 * highest 2^40 - 1 and 3 significant digits holding 0..999 once each,
 * 1,000,000 five times, 123,456,789 twice and 500,000,000 once:
 *
 *   h.recordValue(v) for v in 0..999; h.recordValueWithCount(1e6, 5);
 *   h.recordValueWithCount(123456789, 2); h.recordValue(5e8);
 *   hdr.encodeIntoCompressedBase64(h)
 *
 * It writes 1 as the normalising index offset and the bits of the
 * integer 1 as the conversion ratio, which its readers ignore for an
 * integer histogram, and so must hdr.c.  Its getValueAtPercentile gave 503 (50), 907 (90), 997 (99), 1000447
 * (99.5), 123469823 (99.9) and 500170751 (100).  Links load/hdr.c,
 * load/hist.c and the verifier's base64 (crypto/b64url.c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "hdr.h"
#include "hist.h"

static const char reference[] =
    "HISTFAAAADN4nJNpmSzMwMD8iYGBgZGBgYGZAQJA7P8gAOMzjYJRMAqGPfg4j5HrYx7LWgU"
    "mAMcBEtk=";

/* The reference distribution, recorded here. */
static void
record_reference(struct hist *h)
{
	uint64_t	 v;
	int		 i;

	for (v = 0; v < 1000; v++)
		hist_record(h, v);
	for (i = 0; i < 5; i++)
		hist_record(h, 1000000);
	for (i = 0; i < 2; i++)
		hist_record(h, 123456789);
	hist_record(h, 500000000);
}

static void
assert_same_counters(const struct hist *a, const struct hist *b)
{
	size_t	 i;

	assert_int_equal(hist_count(a), hist_count(b));
	for (i = 0; i < hist_counters(); i++)
		if (hist_counter(a, i) != hist_counter(b, i))
			fail_msg("counter %zu: %llu against %llu", i,
			    (unsigned long long)hist_counter(a, i),
			    (unsigned long long)hist_counter(b, i));
}

static void
test_reference(void **state)
{
	struct hist	*h = hist_new(), *want = hist_new();
	char		 err[128];

	(void)state;
	assert_non_null(h);
	assert_non_null(want);
	assert_int_equal(hdr_decode(reference, strlen(reference), h, err,
	    sizeof(err)), 0);
	record_reference(want);
	assert_same_counters(h, want);
	assert_int_equal(hist_count(h), 1008);
	assert_int_equal(hist_value_at(h, 50), 503);
	assert_int_equal(hist_value_at(h, 90), 907);
	assert_int_equal(hist_value_at(h, 99), 997);
	assert_int_equal(hist_value_at(h, 99.5), 1000447);
	assert_int_equal(hist_value_at(h, 99.9), 123469823);
	assert_int_equal(hist_value_at(h, 100), 500170751);
	assert_int_equal(hist_max(h), 500170751);
	assert_int_equal(hist_min(h), 0);
	hist_free(h);
	hist_free(want);
}

/* Encode a, decode into a fresh histogram, compare every counter. */
static void
round_trip(const struct hist *a)
{
	struct hist	*b = hist_new();
	char		*s, err[128];

	assert_non_null(b);
	assert_non_null(s = hdr_encode(a));
	assert_memory_equal(s, "HISTF", 5);
	if (hdr_decode(s, strlen(s), b, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_same_counters(a, b);
	assert_int_equal(hist_value_at(b, 99.9) / 1024,
	    hist_value_at(a, 99.9) / 1024);
	free(s);
	hist_free(b);
}

static void
test_round_trips(void **state)
{
	struct hist	*h = hist_new();
	uint64_t	 x = 88172645463325252ULL, v;
	int		 i;

	(void)state;
	assert_non_null(h);
	round_trip(h);				/* empty */
	record_reference(h);
	round_trip(h);
	hist_reset(h);
	/* Log-uniform latencies from 1 µs to 1 s in ns (xorshift64). */
	for (i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = (uint64_t)(1e3 * pow(1e6, (double)(x >> 11) /
		    (double)(UINT64_C(1) << 53)));
		hist_record(h, v);
	}
	round_trip(h);
	/* The edges: 0, the top value, and a count needing 9 bytes. */
	hist_reset(h);
	hist_record(h, 0);
	hist_record(h, HIST_HIGHEST);
	assert_int_equal(hist_add_counter(h, 1, UINT64_C(1) << 62), 0);
	round_trip(h);
	hist_free(h);
}

/* Two strings decoded into one histogram add up. */
static void
test_decode_adds(void **state)
{
	struct hist	*h = hist_new(), *want = hist_new();
	char		 err[128];

	(void)state;
	assert_int_equal(hdr_decode(reference, strlen(reference), h, err,
	    sizeof(err)), 0);
	assert_int_equal(hdr_decode(reference, strlen(reference), h, err,
	    sizeof(err)), 0);
	record_reference(want);
	record_reference(want);
	assert_same_counters(h, want);
	hist_free(h);
	hist_free(want);
}

/* --- hostile strings ---------------------------------------------------- */

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* The 40-byte header of an encoding with a payload of plen bytes. */
static void
header(unsigned char *b, uint32_t plen, uint32_t digits, uint64_t lowest,
    double ratio)
{
	uint64_t	 bits;

	memcpy(&bits, &ratio, sizeof(bits));
	put32(b, 0x1c849313);
	put32(b + 4, plen);
	put32(b + 8, 0);
	put32(b + 12, digits);
	put64(b + 16, lowest);
	put64(b + 24, (UINT64_C(1) << 40) - 1);
	put64(b + 32, bits);
}

/* raw compressed, wrapped and in base64: a new string. */
static char *
wrap(const unsigned char *raw, size_t len, uint32_t cookie, long lendelta)
{
	uLongf		 clen = compressBound((uLong)len);
	unsigned char	*c = malloc(8 + clen);
	char		*s;

	assert_non_null(c);
	assert_int_equal(compress2(c + 8, &clen, raw, (uLong)len, 9), Z_OK);
	put32(c, cookie);
	put32(c + 4, (uint32_t)((long)clen + lendelta));
	assert_non_null(s = malloc((8 + clen + 2) / 3 * 4 + 1));
	EVP_EncodeBlock((unsigned char *)s, c, (int)(8 + clen));
	free(c);
	return s;
}

/* raw compressed and wrapped with 3 bytes after the stream: base64. */
static char *
trailing(const unsigned char *raw, size_t len)
{
	uLongf		 clen = compressBound((uLong)len);
	unsigned char	*c = malloc(8 + clen + 3);
	char		*s;

	assert_non_null(c);
	assert_int_equal(compress2(c + 8, &clen, raw, (uLong)len, 9), Z_OK);
	memcpy(c + 8 + clen, "xyz", 3);
	clen += 3;
	put32(c, 0x1c849314);
	put32(c + 4, (uint32_t)clen);
	assert_non_null(s = malloc((8 + clen + 2) / 3 * 4 + 1));
	EVP_EncodeBlock((unsigned char *)s, c, (int)(8 + clen));
	free(c);
	return s;
}

/* s must be refused, naming why, and leave h as it was. */
static void
refused(const char *s, size_t len, const char *why)
{
	struct hist	*h = hist_new();
	char		 err[256] = "";

	assert_non_null(h);
	record_reference(h);
	if (hdr_decode(s, len, h, err, sizeof(err)) != -1)
		fail_msg("accepted; want \"%s\"", why);
	if (strstr(err, why) == NULL)
		fail_msg("\"%s\"; want \"%s\"", err, why);
	assert_int_equal(hist_count(h), 1008);
	assert_int_equal(hist_max(h), 500000000);
	hist_free(h);
}

static void
refused_raw(const unsigned char *raw, size_t len, const char *why)
{
	char	*s = wrap(raw, len, 0x1c849314, 0);

	refused(s, strlen(s), why);
	free(s);
}

static void
test_not_histograms(void **state)
{
	unsigned char	 b[64];
	char		*s;

	(void)state;
	refused("", 0, "empty");
	refused("HISTF", 5, "not base64");
	refused("HISTFAAA*DN4", 12, "not base64");
	refused(reference, strlen(reference) - 4, "compressed length");
	/* A V1 cookie, and an encoding not compressed. */
	header(b, 0, 3, 1, 1.0);
	s = wrap(b, 40, 0x1c849302, 0);
	refused(s, strlen(s), "not a V2 compressed histogram");
	free(s);
	s = wrap(b, 40, 0x1c849314, 1);
	refused(s, strlen(s), "compressed length does not match");
	free(s);
	/* Bytes after the zlib stream. */
	s = trailing(b, 40);
	refused(s, strlen(s), "bytes after the compressed data");
	free(s);
	/* zlib's stream damaged: one byte of it flipped. */
	s = wrap(b, 40, 0x1c849314, 0);
	s[14] = s[14] == 'A' ? 'B' : 'A';
	refused(s, strlen(s), "damaged");
	free(s);
}

static void
test_bad_headers(void **state)
{
	unsigned char	 b[64];

	(void)state;
	header(b, 0, 3, 1, 1.0);
	refused_raw(b, 39, "truncated header");
	put32(b, 0x1c849303);
	refused_raw(b, 40, "not a V2 encoding");
	header(b, 1, 3, 1, 1.0);
	refused_raw(b, 40, "payload length");
	header(b, 0, 2, 1, 1.0);
	refused_raw(b, 40, "another layout");
	header(b, 0, 3, 1000, 1.0);
	refused_raw(b, 40, "another layout");
}

static void
test_bad_counts(void **state)
{
	unsigned char	 b[128];
	size_t		 n;

	(void)state;
	/* A count of 1 written in two bytes instead of one. */
	header(b, 2, 3, 1, 1.0);
	b[40] = 0x82;
	b[41] = 0x00;
	refused_raw(b, 42, "damaged counts");
	/* A count whose LEB128 runs off the end. */
	header(b, 1, 3, 1, 1.0);
	b[40] = 0x80;
	refused_raw(b, 41, "damaged counts");
	/* A run of zeros past the last counter: -(2^40) in ZigZag. */
	n = 0;
	b[40 + n++] = 0xff;
	b[40 + n++] = 0xff;
	b[40 + n++] = 0xff;
	b[40 + n++] = 0xff;
	b[40 + n++] = 0xff;
	b[40 + n++] = 0x3f;
	header(b, (uint32_t)n, 3, 1, 1.0);
	refused_raw(b, 40 + n, "beyond eid-load's range");
	/* The most negative run (INT64_MIN): 9 bytes of all ones. */
	memset(b + 40, 0xff, 9);
	header(b, 9, 3, 1, 1.0);
	refused_raw(b, 49, "beyond eid-load's range");
	/* One count of 2^63 - 1: with the 1008 already there, too many. */
	b[40] = 0xfe;
	memset(b + 41, 0xff, 8);
	header(b, 9, 3, 1, 1.0);
	refused_raw(b, 49, "count too large");
	/* Three counts of 2^63 - 1: their sum does not fit in 64 bits. */
	for (n = 0; n < 3; n++) {
		b[40 + 9 * n] = 0xfe;		/* ZigZag 2^64 - 2 */
		memset(b + 41 + 9 * n, 0xff, 8);
	}
	header(b, 27, 3, 1, 1.0);
	refused_raw(b, 67, "count too large");
}

/* A count past the last counter, however written, is refused. */
static void
test_past_the_end(void **state)
{
	size_t		 n = hist_counters(), len = 40;
	unsigned char	*b = malloc(40 + 20);
	/* A run of n zeros (-n, 2n - 1 in ZigZag), then a count of 1. */
	uint64_t	 zz = ((uint64_t)n << 1) - 1;

	(void)state;
	assert_non_null(b);
	while (zz >= 0x80) {
		b[len++] = (unsigned char)(zz | 0x80);
		zz >>= 7;
	}
	b[len++] = (unsigned char)zz;
	b[len++] = 2;				/* ZigZag of 1 */
	header(b, (uint32_t)(len - 40), 3, 1, 1.0);
	refused_raw(b, len, "beyond eid-load's range");
	free(b);
}

/* A zlib stream that inflates past any histogram is cut off. */
static void
test_inflation_bounded(void **state)
{
	size_t		 len = 4 * 1024 * 1024;
	unsigned char	*b = calloc(1, len);

	(void)state;
	assert_non_null(b);
	header(b, (uint32_t)(len - 40), 3, 1, 1.0);
	refused_raw(b, len, "too large");
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_decode_adds),
		cmocka_unit_test(test_not_histograms),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_counts),
		cmocka_unit_test(test_past_the_end),
		cmocka_unit_test(test_inflation_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
