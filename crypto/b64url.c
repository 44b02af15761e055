/*
 * crypto/b64url.c -- strict base64url (RFC 7515 section 2, RFC 4648
 * section 5) and strict standard base64 for x5c.
 *
 * Strict means canonical: exactly one encoding is accepted for any byte
 * string.  A decoder that skipped foreign characters or ignored non-zero
 * unused bits would give one token several spellings, and so several
 * cache keys and parser differentials (SECURITY.md 3.6).  This file owns
 * no state and does no allocation.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eid/jose.h"
#include "crypto.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for an alphabet character, 64 for anything else. */
static uint8_t b64url_rev[256];
static uint8_t b64_rev[256];
/*
 * base64url, the alphabet of every token: each character's six bits
 * already shifted to their place in a group of four (b64url_quad[k] for
 * the k-th), and B64_BAD for anything else, so that a group decodes with
 * four loads and three ORs and is checked once.
 */
#define B64_BAD		UINT32_C(0x01000000)
static uint32_t b64url_quad[4][256];

static void
b64_build_rev(uint8_t *rev, const char *alphabet)
{
	size_t	 i;

	for (i = 0; i < 256; i++)
		rev[i] = 64;
	for (i = 0; i < 64; i++)
		rev[(unsigned char)alphabet[i]] = (uint8_t)i;
}

/*
 * The tables are built by a constructor so that lookups need no
 * synchronisation; the library is used from many threads at once.
 */
__attribute__((constructor)) static void
b64_init(void)
{
	size_t	 i, k;

	b64_build_rev(b64url_rev, b64url_alphabet);
	b64_build_rev(b64_rev, b64_alphabet);
	for (k = 0; k < 4; k++)
		for (i = 0; i < 256; i++)
			b64url_quad[k][i] = b64url_rev[i] == 64 ? B64_BAD :
			    (uint32_t)b64url_rev[i] << (18 - 6 * k);
}

size_t
eid_b64url_encode(const void *in, size_t len, char *out, size_t outlen)
{
	const unsigned char	*p = in;
	size_t			 i, o = 0, need;
	uint32_t		 v;

	if (len > (SIZE_MAX - 4) / 4 * 3)
		return (size_t)-1;
	need = EID_B64URL_LEN(len);
	if (out == NULL || outlen <= need)
		return (size_t)-1;
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64url_alphabet[v >> 18];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		out[o++] = b64url_alphabet[(v >> 6) & 63];
		out[o++] = b64url_alphabet[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)p[i] << 16;
		out[o++] = b64url_alphabet[v >> 18];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
	} else if (len - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = b64url_alphabet[v >> 18];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		out[o++] = b64url_alphabet[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

/*
 * Decode len characters of one alphabet with no padding.  The caller has
 * removed any padding; here len % 4 == 1 can never be valid, and the low
 * bits of the last character that do not reach a whole byte must be zero.
 */
static size_t
b64_decode_core(const uint8_t *rev, const char *in, size_t len, void *out,
    size_t outlen)
{
	unsigned char	*q = out;
	size_t		 i, o = 0, need, rem = len % 4;
	uint32_t	 v;
	uint8_t		 c[4];

	if (rem == 1)
		return (size_t)-1;
	need = len / 4 * 3 + (rem ? rem - 1 : 0);
	if (need > outlen)
		return (size_t)-1;
	for (i = 0; i + 4 <= len; i += 4) {
		c[0] = rev[(unsigned char)in[i]];
		c[1] = rev[(unsigned char)in[i + 1]];
		c[2] = rev[(unsigned char)in[i + 2]];
		c[3] = rev[(unsigned char)in[i + 3]];
		if ((c[0] | c[1] | c[2] | c[3]) & 64)
			return (size_t)-1;
		v = (uint32_t)c[0] << 18 | (uint32_t)c[1] << 12 |
		    (uint32_t)c[2] << 6 | c[3];
		q[o++] = (unsigned char)(v >> 16);
		q[o++] = (unsigned char)(v >> 8);
		q[o++] = (unsigned char)v;
	}
	if (rem == 2) {
		c[0] = rev[(unsigned char)in[i]];
		c[1] = rev[(unsigned char)in[i + 1]];
		if ((c[0] | c[1]) & 64 || (c[1] & 0x0f) != 0)
			return (size_t)-1;
		q[o++] = (unsigned char)(c[0] << 2 | c[1] >> 4);
	} else if (rem == 3) {
		c[0] = rev[(unsigned char)in[i]];
		c[1] = rev[(unsigned char)in[i + 1]];
		c[2] = rev[(unsigned char)in[i + 2]];
		if ((c[0] | c[1] | c[2]) & 64 || (c[2] & 0x03) != 0)
			return (size_t)-1;
		q[o++] = (unsigned char)(c[0] << 2 | c[1] >> 4);
		q[o++] = (unsigned char)((c[1] & 0x0f) << 4 | c[2] >> 2);
	}
	return o;
}

size_t
eid_b64url_decode(const char *in, size_t len, void *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)in;
	unsigned char		*q = out;
	size_t			 i, o = 0, full, tail;
	uint32_t		 v;

	if (in == NULL || (out == NULL && len != 0))
		return (size_t)-1;
	if (len % 4 == 1 || len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > outlen)
		return (size_t)-1;
	/*
	 * Whole groups by the shifted tables; the last, partial group and
	 * its unused bits by the common decoder, which checks them all
	 * again as it always has.
	 */
	full = len % 4 == 0 ? len : len - len % 4;
	for (i = 0; i < full; i += 4) {
		v = b64url_quad[0][p[i]] | b64url_quad[1][p[i + 1]] |
		    b64url_quad[2][p[i + 2]] | b64url_quad[3][p[i + 3]];
		if (v & B64_BAD)
			return (size_t)-1;
		q[o++] = (unsigned char)(v >> 16);
		q[o++] = (unsigned char)(v >> 8);
		q[o++] = (unsigned char)v;
	}
	if (full == len)
		return o;
	if ((tail = b64_decode_core(b64url_rev, in + full, len - full, q + o,
	    outlen - o)) == (size_t)-1)
		return (size_t)-1;
	return o + tail;
}

/*
 * Standard base64 as x5c uses it: padding is required to a multiple of
 * four, and at most two '=' at the very end.
 */
size_t
eid_b64_decode(const char *in, size_t len, void *out, size_t outlen)
{
	size_t	 pad = 0;

	if (in == NULL || out == NULL || len == 0 || len % 4 != 0)
		return (size_t)-1;
	while (pad < 2 && in[len - 1 - pad] == '=')
		pad++;
	return b64_decode_core(b64_rev, in, len - pad, out, outlen);
}
