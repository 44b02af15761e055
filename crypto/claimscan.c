/*
 * crypto/claimscan.c -- the fast path for the claims of a token.
 *
 * jansson builds a tree for every payload, allocating each member and
 * copying each string a byte at a time: on a cold verify it was the
 * largest cost besides the signature (38 k instructions a token, about
 * 10 % of a cold RS256 verify in the daemon).  Real claims come in one
 * narrow shape, which this scanner reads in place, without allocating:
 *
 *   - one JSON object, with RFC 8259 whitespace around its tokens and
 *     nothing after it;
 *   - member names that are strings; at most CLAIMSCAN_MEMBERS_MAX
 *     members, no two with the same name;
 *   - strings with no backslash and no control character (below 0x20),
 *     in well-formed UTF-8 (RFC 3629: no overlong form, no surrogate,
 *     nothing above U+10FFFF);
 *   - values that are such strings, integers of at most
 *     CLAIMSCAN_DIGITS_MAX digits in JSON's form (-?(0|[1-9][0-9]*),
 *     no fraction, no exponent), or arrays of such strings.
 *
 * Such a text is valid JSON that jansson, with JSON_REJECT_DUPLICATES,
 * parses into an object with exactly these members: with no escape in
 * them a string's bytes are its value, and an integer this short is
 * exactly representable.  So the view built here is the view
 * claims_parse() would build from jansson's tree, and claims_check()
 * gives the same verdict either way.  The scanner never refuses
 * anything: whatever falls outside the shape -- an escape, a real, true,
 * a nested object, a duplicate, a byte it has any doubt about -- returns
 * false, and jansson parses or refuses it as before.  The fuzzer
 * (tests/fuzz/fuzz_verify.c, target 1) checks that every text the scan
 * takes gets the same verdict and assertion from both paths.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto.h"

/* Members of one object the scan keeps track of for duplicates. */
#define CLAIMSCAN_MEMBERS_MAX	32
/* Digits of an integer; 18 always fit in an int64_t. */
#define CLAIMSCAN_DIGITS_MAX	18

struct claimscan {
	const unsigned char	*p;
	size_t			 len;
	size_t			 off;
};

static bool
claimscan_is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
claimscan_ws(struct claimscan *sc)
{
	size_t	 off = sc->off;

	while (off < sc->len && claimscan_is_ws(sc->p[off]))
		off++;
	sc->off = off;
}

/* The next byte, or 0 at the end (a NUL byte is never in the shape). */
static unsigned char
claimscan_peek(const struct claimscan *sc)
{
	return sc->off < sc->len ? sc->p[sc->off] : 0;
}

/*
 * The length of the well-formed UTF-8 sequence of more than one byte at
 * p (n bytes left), or 0 (Unicode 15, table 3-7).
 */
static size_t
claimscan_utf8(const unsigned char *p, size_t n)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 need, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;
	if (n < need || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return need;
}

/*
 * What a byte is inside a string: most are CLAIMSCAN_PLAIN, printable
 * ASCII other than the quote and backslash, which one table lookup skips.
 */
enum { CLAIMSCAN_PLAIN, CLAIMSCAN_QUOTE, CLAIMSCAN_BAD, CLAIMSCAN_UTF8 };

static unsigned char	claimscan_class[256];

__attribute__((constructor)) static void
claimscan_init(void)
{
	size_t	 c;

	for (c = 0; c < 256; c++)
		claimscan_class[c] = c >= 0x80 ? CLAIMSCAN_UTF8 :
		    c < 0x20 || c == '\\' ? CLAIMSCAN_BAD :
		    c == '"' ? CLAIMSCAN_QUOTE : CLAIMSCAN_PLAIN;
}

/*
 * A string at the opening quote; its bytes, without the quotes.  The
 * offset lives in a local while the bytes are read: stored through sc at
 * every byte, it would have to be written back before each load, since a
 * byte read may alias it.
 */
static bool
claimscan_string(struct claimscan *sc, const char **s, size_t *len)
{
	const unsigned char	*p = sc->p;
	size_t			 start, off, end = sc->len, n;

	if (claimscan_peek(sc) != '"')
		return false;
	start = off = sc->off + 1;
	for (;;) {
		while (off < end && claimscan_class[p[off]] == CLAIMSCAN_PLAIN)
			off++;
		if (off == end)
			return false;
		switch (claimscan_class[p[off]]) {
		case CLAIMSCAN_QUOTE:
			*s = (const char *)p + start;
			*len = off - start;
			sc->off = off + 1;
			return true;
		case CLAIMSCAN_UTF8:
			if ((n = claimscan_utf8(p + off, end - off)) == 0)
				return false;
			off += n;
			break;
		default:
			return false;	/* a backslash or a control byte */
		}
	}
}

/* An integer in JSON's form, short enough, ended by a delimiter. */
static bool
claimscan_integer(struct claimscan *sc, int64_t *out)
{
	int64_t		 v = 0;
	size_t		 digits = 0;
	bool		 neg = false;
	unsigned char	 c;

	if (claimscan_peek(sc) == '-') {
		neg = true;
		sc->off++;
	}
	c = claimscan_peek(sc);
	if (c < '0' || c > '9')
		return false;
	if (c == '0') {
		sc->off++;
		digits = 1;
	} else
		while ((c = claimscan_peek(sc)) >= '0' && c <= '9') {
			if (++digits > CLAIMSCAN_DIGITS_MAX)
				return false;
			v = v * 10 + (c - '0');
			sc->off++;
		}
	/* A fraction, an exponent or a leading zero: jansson's to judge. */
	c = claimscan_peek(sc);
	if (!claimscan_is_ws(c) && c != ',' && c != '}' && c != ']')
		return false;
	*out = neg ? -v : v;
	return true;
}

/* The profile's member names, in the order of struct claims_view. */
#define CLAIMSCAN_SLOT(n)	{ #n, sizeof(#n) - 1, \
				    offsetof(struct claims_view, n) }
static const struct {
	const char	*name;
	size_t		 len;
	size_t		 off;
} claimscan_slots[] = {
	CLAIMSCAN_SLOT(iss), CLAIMSCAN_SLOT(sub), CLAIMSCAN_SLOT(aud),
	CLAIMSCAN_SLOT(exp), CLAIMSCAN_SLOT(iat), CLAIMSCAN_SLOT(nbf),
	CLAIMSCAN_SLOT(jti), CLAIMSCAN_SLOT(name), CLAIMSCAN_SLOT(birthdate),
	CLAIMSCAN_SLOT(gender), CLAIMSCAN_SLOT(eid_level),
	CLAIMSCAN_SLOT(nonce), CLAIMSCAN_SLOT(events),
};
#undef CLAIMSCAN_SLOT
#define CLAIMSCAN_NSLOTS \
	(int)(sizeof(claimscan_slots) / sizeof(claimscan_slots[0]))

/*
 * The index in claimscan_slots of the name s (n bytes), or -1 if the
 * profile has no such member.  Length and first byte first: memcmp runs
 * on the match alone.
 */
static int
claimscan_slot(const char *s, size_t n)
{
	int	 i;

	for (i = 0; i < CLAIMSCAN_NSLOTS; i++)
		if (claimscan_slots[i].len == n &&
		    claimscan_slots[i].name[0] == s[0] &&
		    memcmp(claimscan_slots[i].name, s, n) == 0)
			return i;
	return -1;
}

/* An array of strings; aud's first elements are kept in the view. */
static bool
claimscan_array(struct claimscan *sc, struct claims_view *v,
    struct claim *slot)
{
	struct claim	 item;
	size_t		 n = 0;

	sc->off++;		/* '[' */
	claimscan_ws(sc);
	if (claimscan_peek(sc) != ']')
		for (;;) {
			memset(&item, 0, sizeof(item));
			item.type = CLAIM_STRING;
			if (!claimscan_string(sc, &item.s, &item.len))
				return false;
			if (slot == &v->aud && n < EID_AUD_MAX_COUNT)
				v->aud_items[n] = item;
			n++;
			claimscan_ws(sc);
			if (claimscan_peek(sc) == ']')
				break;
			if (claimscan_peek(sc) != ',')
				return false;
			sc->off++;
			claimscan_ws(sc);
		}
	sc->off++;		/* ']' */
	if (slot != NULL) {
		slot->type = CLAIM_ARRAY;
		slot->len = n;
	}
	return true;
}

/* One member's value into slot (NULL: a member the profile ignores). */
static bool
claimscan_value(struct claimscan *sc, struct claims_view *v,
    struct claim *slot)
{
	struct claim	 c;
	unsigned char	 b = claimscan_peek(sc);

	memset(&c, 0, sizeof(c));
	if (b == '"') {
		c.type = CLAIM_STRING;
		if (!claimscan_string(sc, &c.s, &c.len))
			return false;
	} else if (b == '-' || (b >= '0' && b <= '9')) {
		c.type = CLAIM_INTEGER;
		if (!claimscan_integer(sc, &c.i))
			return false;
	} else if (b == '[')
		return claimscan_array(sc, v, slot);
	else
		return false;
	if (slot != NULL)
		*slot = c;
	return true;
}

/* Skip whitespace, calling out only when there is some. */
#define CLAIMSCAN_WS(sc) do {						\
	if ((sc)->off < (sc)->len && claimscan_is_ws((sc)->p[(sc)->off]))	\
		claimscan_ws(sc);					\
} while (0)

bool
claims_scan(const unsigned char *p, size_t len, struct claims_view *v)
{
	struct claimscan	 sc = { p, len, 0 };
	const char		*names[CLAIMSCAN_MEMBERS_MAX], *s;
	size_t			 lens[CLAIMSCAN_MEMBERS_MAX], n = 0, nother = 0,
				 slen, i;
	uint32_t		 seen = 0;
	int			 slot;

	memset(v, 0, sizeof(*v));
	claimscan_ws(&sc);
	if (claimscan_peek(&sc) != '{')
		return false;
	sc.off++;
	claimscan_ws(&sc);
	if (claimscan_peek(&sc) == '}')
		sc.off++;
	else
		for (;;) {
			if (n++ == CLAIMSCAN_MEMBERS_MAX ||
			    !claimscan_string(&sc, &s, &slen))
				return false;
			/*
			 * A duplicate name refuses the claims.  A profile name
			 * can only repeat a profile name: a bit each; any other
			 * is compared with the other names seen before it.
			 */
			if ((slot = claimscan_slot(s, slen)) >= 0) {
				if (seen & (uint32_t)1 << slot)
					return false;
				seen |= (uint32_t)1 << slot;
			} else {
				for (i = 0; i < nother; i++)
					if (lens[i] == slen && (slen == 0 ||
					    (names[i][0] == s[0] &&
					    memcmp(names[i], s, slen) == 0)))
						return false;
				names[nother] = s;
				lens[nother++] = slen;
			}
			CLAIMSCAN_WS(&sc);
			if (claimscan_peek(&sc) != ':')
				return false;
			sc.off++;
			CLAIMSCAN_WS(&sc);
			if (!claimscan_value(&sc, v, slot < 0 ? NULL :
			    (struct claim *)(void *)((char *)v +
			    claimscan_slots[slot].off)))
				return false;
			CLAIMSCAN_WS(&sc);
			if (claimscan_peek(&sc) == '}') {
				sc.off++;
				break;
			}
			if (claimscan_peek(&sc) != ',')
				return false;
			sc.off++;
			CLAIMSCAN_WS(&sc);
		}
	claimscan_ws(&sc);
	return sc.off == sc.len;
}
