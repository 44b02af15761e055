/*
 * load/hdr.c -- see hdr.h.  The format, as HdrHistogram's Java and C
 * libraries write it (all integers big-endian):
 *
 *   compressed:  int32 cookie 0x1c849314, int32 length of what follows,
 *                a zlib stream of the encoding below;
 *   encoding:    int32 cookie 0x1c849313, int32 payload length,
 *                int32 normalising index offset, int32 significant
 *                digits, int64 lowest discernible value, int64 highest
 *                trackable value, float64 integer-to-double ratio,
 *                then the payload: the counts array up to the counter of
 *                the maximum, each count a ZigZag LEB128 integer of at
 *                most 9 bytes (the 9th holds 8 bits), a run of n > 1 zero
 *                counts written as -n.
 *
 * zlib does the compression (docs/adr/0013-hdrhistogram-encoding.md),
 * OpenSSL's EVP_EncodeBlock the base64 out, eid_b64_decode the strict
 * base64 in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "eid/jose.h"
#include "hdr.h"
#include "hist.h"

#define HDR_COOKIE_ENC		UINT32_C(0x1c849313)
#define HDR_COOKIE_COMP		UINT32_C(0x1c849314)
#define HDR_HEADER		40	/* the encoding's header */
#define HDR_COMP_HEADER		8	/* cookie, length */
#define HDR_LEB_MAX		9	/* bytes of one count, at most */
#define HDR_DIGITS		3

static void
hdr_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
hdr_put64(unsigned char *p, uint64_t v)
{
	hdr_put32(p, (uint32_t)(v >> 32));
	hdr_put32(p + 4, (uint32_t)v);
}

static uint32_t
hdr_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
hdr_get64(const unsigned char *p)
{
	return (uint64_t)hdr_get32(p) << 32 | hdr_get32(p + 4);
}

/* One ZigZag LEB128 integer at p; returns its length. */
static size_t
hdr_put_zz(unsigned char *p, int64_t v)
{
	uint64_t	 u;
	size_t		 n = 0;

	u = v < 0 ? ~(uint64_t)v << 1 | 1 : (uint64_t)v << 1;
	while (n < HDR_LEB_MAX - 1 && u >= 0x80) {
		p[n++] = (unsigned char)(u | 0x80);
		u >>= 7;
	}
	p[n++] = (unsigned char)u;
	return n;
}

/*
 * One ZigZag LEB128 integer from p[*off..len); -1 if it runs past len or
 * is longer than it needs to be (a last byte of 0 after others), since
 * HdrHistogram writes each value in its shortest form.  The 9th byte, if
 * any, holds 8 bits, so every 64-bit value has exactly one reading.
 */
static int
hdr_get_zz(const unsigned char *p, size_t len, size_t *off, int64_t *v)
{
	uint64_t	 u = 0;
	unsigned int	 shift = 0;
	size_t		 n;

	for (n = 0; n < HDR_LEB_MAX; n++) {
		if (*off >= len)
			return -1;
		if (n > 0 && p[*off] == 0)
			return -1;
		if (n == HDR_LEB_MAX - 1) {
			u |= (uint64_t)p[(*off)++] << 56;
			break;
		}
		u |= (uint64_t)(p[*off] & 0x7f) << shift;
		shift += 7;
		if ((p[(*off)++] & 0x80) == 0)
			break;
	}
	*v = (u & 1) ? (int64_t)~(u >> 1) : (int64_t)(u >> 1);
	return 0;
}

/* The encoding, uncompressed, into a new buffer of *len bytes. */
static unsigned char *
hdr_encode_raw(const struct hist *h, size_t *len)
{
	unsigned char	*b, *p;
	size_t		 i, j, limit = 0, n = hist_counters();
	uint64_t	 c;
	double		 one = 1.0;
	uint64_t	 one_bits;

	for (i = n; i > 0; i--)
		if (hist_counter(h, i - 1) > 0) {
			limit = i;
			break;
		}
	if ((b = malloc(HDR_HEADER + limit * HDR_LEB_MAX)) == NULL)
		return NULL;
	p = b + HDR_HEADER;
	for (i = 0; i < limit; ) {
		if ((c = hist_counter(h, i)) > INT64_MAX) {
			free(b);
			return NULL;
		}
		for (j = i + 1; c == 0 && j < limit &&
		    hist_counter(h, j) == 0; j++)
			;
		if (c == 0 && j - i > 1) {
			p += hdr_put_zz(p, -(int64_t)(j - i));
			i = j;
		} else {
			p += hdr_put_zz(p, (int64_t)c);
			i++;
		}
	}
	memcpy(&one_bits, &one, sizeof(one_bits));
	hdr_put32(b, HDR_COOKIE_ENC);
	hdr_put32(b + 4, (uint32_t)(p - b - HDR_HEADER));
	hdr_put32(b + 8, 0);
	hdr_put32(b + 12, HDR_DIGITS);
	hdr_put64(b + 16, 1);
	hdr_put64(b + 24, HIST_HIGHEST);
	hdr_put64(b + 32, one_bits);
	*len = (size_t)(p - b);
	return b;
}

char *
hdr_encode(const struct hist *h)
{
	unsigned char	*raw, *comp = NULL;
	char		*out = NULL;
	size_t		 rawlen;
	uLongf		 clen;

	if ((raw = hdr_encode_raw(h, &rawlen)) == NULL)
		return NULL;
	clen = compressBound((uLong)rawlen);
	if ((comp = malloc(HDR_COMP_HEADER + clen)) == NULL ||
	    compress2(comp + HDR_COMP_HEADER, &clen, raw, (uLong)rawlen,
	    Z_BEST_COMPRESSION) != Z_OK)
		goto done;
	hdr_put32(comp, HDR_COOKIE_COMP);
	hdr_put32(comp + 4, (uint32_t)clen);
	clen += HDR_COMP_HEADER;
	if ((out = malloc((clen + 2) / 3 * 4 + 1)) != NULL)
		EVP_EncodeBlock((unsigned char *)out, comp, (int)clen);
done:
	free(raw);
	free(comp);
	return out;
}

/*
 * Check the uncompressed encoding's header and add its counts to h,
 * which is empty.
 */
static int
hdr_decode_raw(const unsigned char *b, size_t len, struct hist *h,
    const char **why)
{
	int64_t		 v;
	size_t		 off = HDR_HEADER, i = 0, n = hist_counters();

	*why = "truncated header";
	if (len < HDR_HEADER)
		return -1;
	*why = "not a V2 encoding";
	if (hdr_get32(b) != HDR_COOKIE_ENC)
		return -1;
	*why = "payload length does not match";
	if (hdr_get32(b + 4) != len - HDR_HEADER)
		return -1;
	/*
	 * The normalising index offset and the integer-to-double ratio
	 * matter to HdrHistogram's DoubleHistogram only; its readers of
	 * integer histograms ignore them, and its JavaScript port writes 1
	 * in each.  The layout is the lowest value and the digits.
	 */
	*why = "another layout (eid-load's: lowest value 1, 3 significant "
	    "digits)";
	if (hdr_get32(b + 12) != HDR_DIGITS || hdr_get64(b + 16) != 1)
		return -1;
	while (off < len) {
		*why = "damaged counts";
		if (hdr_get_zz(b, len, &off, &v) != 0)
			return -1;
		*why = "values beyond eid-load's range";
		if (v < 0) {
			if (v == INT64_MIN || (uint64_t)-v > n - i)
				return -1;
			i += (size_t)-v;
			continue;
		}
		if (i >= n)
			return -1;
		*why = "count too large";
		if (hist_add_counter(h, i, (uint64_t)v) != 0)
			return -1;
		i++;
	}
	return 0;
}

int
hdr_decode(const char *s, size_t len, struct hist *h, char *err,
    size_t errlen)
{
	unsigned char	*comp = NULL, *raw = NULL;
	struct hist	*tmp = NULL;
	const char	*why = "not base64";
	size_t		 clen;
	uLongf		 rawlen;
	uLong		 srclen;
	int		 rc = -1;

	/* Every counter's 9 bytes and the header, with room for zlib. */
	const size_t	 rawmax = HDR_HEADER + hist_counters() * HDR_LEB_MAX;

	if (len == 0 || len > HDR_MAX_B64) {
		why = len == 0 ? "empty" : "too long";
		goto done;
	}
	if ((comp = malloc(len / 4 * 3)) == NULL ||
	    (raw = malloc(rawmax)) == NULL || (tmp = hist_new()) == NULL) {
		why = "out of memory";
		goto done;
	}
	if ((clen = eid_b64_decode(s, len, comp, len / 4 * 3)) == (size_t)-1)
		goto done;
	why = "not a V2 compressed histogram";
	if (clen < HDR_COMP_HEADER || hdr_get32(comp) != HDR_COOKIE_COMP)
		goto done;
	why = "compressed length does not match";
	if (hdr_get32(comp + 4) != clen - HDR_COMP_HEADER)
		goto done;
	rawlen = (uLongf)rawmax;
	srclen = (uLong)(clen - HDR_COMP_HEADER);
	switch (uncompress2(raw, &rawlen, comp + HDR_COMP_HEADER, &srclen)) {
	case Z_OK:
		why = "bytes after the compressed data";
		if (srclen != (uLong)(clen - HDR_COMP_HEADER))
			goto done;
		break;
	case Z_BUF_ERROR:
		why = "damaged or too large";
		goto done;
	case Z_MEM_ERROR:
		why = "out of memory";
		goto done;
	default:
		why = "damaged compressed data";
		goto done;
	}
	if (hdr_decode_raw(raw, rawlen, tmp, &why) != 0)
		goto done;
	/* At most 2^63 - 1 in all, so that the sum can be encoded again. */
	why = "count too large";
	if (hist_count(h) > INT64_MAX ||
	    hist_count(tmp) > INT64_MAX - hist_count(h))
		goto done;
	hist_add(h, tmp);
	rc = 0;
done:
	if (rc != 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "histogram: %s", why);
	free(comp);
	free(raw);
	hist_free(tmp);
	return rc;
}
