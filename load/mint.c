/*
 * load/mint.c -- eid-mint, the development identity provider: it signs
 * eid assertions (DESIGN.md section 4) with the development PKI's keys,
 * well-formed ones and deliberately broken ones, one token per line.
 *
 * This file owns the command line contract that scripts and the tests
 * rely on (see eid-mint.1), the invented identities, and the catalogue of
 * broken kinds with the one verdict each must earn.  It signs through the
 * public API of the verifier library only (eid/jose.h), so that what it
 * encodes is exactly what the verifier decodes; it never includes
 * crypto/'s private header and never decides a verdict itself.  Being a
 * development tool, it dies on the first failure: 2 for usage, 1 for
 * anything else.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "eid/jose.h"
#include "eid/verify.h"

#include "common.h"

#define MINT_PROG		"eid-mint"
#define MINT_ISS_DEFAULT	"https://vneid.example"
#define MINT_AUD_DEFAULT	"dichvucong"

/* Bounds of the numeric options. */
#define MINT_COUNT_MAX		10000000LL
#define MINT_TTL_MAX_S		86400LL
/*
 * --now must leave room for the kinds that sign times an hour before it
 * and a day after it, inside the verifier's NumericDate range
 * (0 .. 9999-12-31T23:59:59Z).
 */
#define MINT_NOW_MIN		3600LL
#define MINT_NOW_MAX		(253402300799LL - 86401LL)

/* Invented citizens are born in these years. */
#define MINT_BIRTH_YEAR_MIN	1940
#define MINT_BIRTH_YEAR_MAX	2010

/* Bytes of a jti before encoding: 128 bits never collide in a corpus. */
#define MINT_JTI_BYTES		16

/* Larger than any JOSE signature of the profile (RSA-4096: 512 bytes). */
#define MINT_SIG_MAX		1024

#define MINT_EXIT_USAGE		2

enum mint_kind {
	MINT_KIND_VALID,
	MINT_KIND_EXPIRED,
	MINT_KIND_NOT_YET_VALID,
	MINT_KIND_BADSIG,
	MINT_KIND_WRONG_AUDIENCE,
	MINT_KIND_WRONG_ISSUER,
	MINT_KIND_UNKNOWN_KID,
	MINT_KIND_ALG_NONE,
	MINT_KIND_HS256_CONFUSION,
	MINT_KIND_NO_JTI,
	MINT_KIND_PIN_MISMATCH,
	MINT_KIND_MALFORMED,
	MINT_KIND_CRIT,
	MINT_KIND_EMBEDDED_JWK,
	MINT_KIND_DUPLICATE_CLAIM,
	MINT_KIND_ALG_MISMATCH,
	MINT_KIND_LONG_LIFETIME,
	MINT_KIND_LOW_LEVEL,
	MINT_KIND_NONCE_MISMATCH,
	MINT_KIND_MALLEATED,
	MINT_KIND_COUNT
};

/*
 * The verdict is what eid_verify() must answer with the development key
 * set, audience "dichvucong", minimum level 0, no nonce and the same
 * clock, unless the description names another request.  Scripts parse
 * --list-kinds, so the verdict column uses eid_verdict_name() spelling.
 */
static const struct mint_kind_info {
	const char		*name;
	enum eid_verdict	 verdict;
	const char		*desc;
} mint_kinds[MINT_KIND_COUNT] = {
	[MINT_KIND_VALID] = { "valid", EID_VERDICT_OK,
	    "a well-formed assertion" },
	[MINT_KIND_EXPIRED] = { "expired", EID_VERDICT_EXPIRED,
	    "iat now-3600, exp now-600" },
	[MINT_KIND_NOT_YET_VALID] = { "not-yet-valid",
	    EID_VERDICT_NOT_YET_VALID, "nbf now+600, exp now+1200" },
	[MINT_KIND_BADSIG] = { "badsig", EID_VERDICT_BAD_SIGNATURE,
	    "one bit of the signature flipped" },
	[MINT_KIND_WRONG_AUDIENCE] = { "wrong-audience",
	    EID_VERDICT_WRONG_AUDIENCE, "aud \"another-portal\"" },
	[MINT_KIND_WRONG_ISSUER] = { "wrong-issuer",
	    EID_VERDICT_UNTRUSTED_ISSUER,
	    "iss \"https://evil.example\", signed by the real key" },
	[MINT_KIND_UNKNOWN_KID] = { "unknown-kid", EID_VERDICT_UNKNOWN_KEY,
	    "signed by a fresh key under its own kid" },
	[MINT_KIND_ALG_NONE] = { "alg-none", EID_VERDICT_UNSUPPORTED_ALG,
	    "alg \"none\" and an empty signature" },
	[MINT_KIND_HS256_CONFUSION] = { "hs256-confusion",
	    EID_VERDICT_UNSUPPORTED_ALG,
	    "HS256 keyed with the public key's PEM (CVE-2015-9235)" },
	[MINT_KIND_NO_JTI] = { "no-jti", EID_VERDICT_INVALID_CLAIMS,
	    "no jti claim" },
	[MINT_KIND_PIN_MISMATCH] = { "pin-mismatch",
	    EID_VERDICT_INVALID_CLAIMS,
	    "sub's birth year disagrees with birthdate" },
	[MINT_KIND_MALFORMED] = { "malformed", EID_VERDICT_MALFORMED,
	    "two segments only" },
	[MINT_KIND_CRIT] = { "crit", EID_VERDICT_MALFORMED,
	    "header \"crit\":[\"exp\"]" },
	[MINT_KIND_EMBEDDED_JWK] = { "embedded-jwk", EID_VERDICT_MALFORMED,
	    "header \"jwk\" holding the attacker key that signed it" },
	[MINT_KIND_DUPLICATE_CLAIM] = { "duplicate-claim",
	    EID_VERDICT_MALFORMED, "\"sub\" twice in the payload" },
	[MINT_KIND_ALG_MISMATCH] = { "alg-mismatch",
	    EID_VERDICT_UNSUPPORTED_ALG,
	    "kid of another algorithm's development key" },
	[MINT_KIND_LONG_LIFETIME] = { "long-lifetime",
	    EID_VERDICT_INVALID_CLAIMS, "exp - iat = 86401" },
	[MINT_KIND_LOW_LEVEL] = { "low-level",
	    EID_VERDICT_INSUFFICIENT_LEVEL,
	    "eid_level 1 (verdict when the request asks min level 2)" },
	[MINT_KIND_NONCE_MISMATCH] = { "nonce-mismatch",
	    EID_VERDICT_NONCE_MISMATCH,
	    "nonce \"other-nonce\" (verdict when the request expects "
	    "\"expected-nonce\")" },
	[MINT_KIND_MALLEATED] = { "malleated", EID_VERDICT_OK,
	    "valid ECDSA token with s replaced by n - s (ES256, ES384 only)" },
};

enum mint_opt {
	MINT_OPT_ALG,
	MINT_OPT_KIND,
	MINT_OPT_COUNT,
	MINT_OPT_AUD,
	MINT_OPT_SUB,
	MINT_OPT_TTL,
	MINT_OPT_CERTS,
	MINT_OPT_ISS,
	MINT_OPT_LEVEL,
	MINT_OPT_NONCE,
	MINT_OPT_NOW,
	MINT_OPT_SEED,
	MINT_OPT_JWKS,
	MINT_OPT_LIST_KINDS,
	MINT_OPT_HELP
};

/* The one table of options: parsing and --help both read it. */
static const struct mint_option {
	const char	*name;		/* without the leading "--" */
	enum mint_opt	 id;
	const char	*arg;		/* NULL for a flag */
	const char	*help;
} mint_options[] = {
	{ "alg", MINT_OPT_ALG, "ALG",
	    "ES256 (default), ES384, RS256, PS256 or EdDSA" },
	{ "kind", MINT_OPT_KIND, "KIND", "valid (default); see --list-kinds" },
	{ "count", MINT_OPT_COUNT, "N", "tokens to mint, 1..10000000 (1)" },
	{ "aud", MINT_OPT_AUD, "AUD", "audience (dichvucong)" },
	{ "sub", MINT_OPT_SUB, "PIN",
	    "12-digit personal identification number (random)" },
	{ "ttl", MINT_OPT_TTL, "SECONDS", "exp - iat, 1..86400 (600)" },
	{ "certs", MINT_OPT_CERTS, "DIR", "key directory ($EID_CERTS or "
	    COMMON_CERTS_DEFAULT ")" },
	{ "iss", MINT_OPT_ISS, "ISS", "issuer (https://vneid.example)" },
	{ "level", MINT_OPT_LEVEL, "1|2", "eid_level (2)" },
	{ "nonce", MINT_OPT_NONCE, "NONCE", "nonce claim (none)" },
	{ "now", MINT_OPT_NOW, "UNIXTIME", "the clock (the system's)" },
	{ "seed", MINT_OPT_SEED, "N",
	    "reproducible output from seed N (random)" },
	{ "jwks", MINT_OPT_JWKS, NULL,
	    "print the development keys' JWK Set and exit" },
	{ "list-kinds", MINT_OPT_LIST_KINDS, NULL,
	    "print the kinds and their verdicts and exit" },
	{ "help", MINT_OPT_HELP, NULL, "this text" },
};
#define MINT_NOPTIONS	(sizeof(mint_options) / sizeof(mint_options[0]))

struct mint_conf {
	enum eid_alg	 alg;
	enum mint_kind	 kind;
	long long	 count;
	long long	 ttl_s;
	long long	 level;
	long long	 now;
	long long	 seed;
	bool		 has_seed;
	const char	*aud;
	const char	*iss;
	const char	*nonce;		/* NULL: no nonce claim */
	const char	*sub;		/* NULL: invent one per token */
	const char	*certs;
	bool		 jwks;
	bool		 list_kinds;
};

/*
 * A deterministic byte stream: SHA-256 of a 32-byte key and a block
 * counter.  Its key comes from --seed, else from RAND_bytes(), so one
 * code path serves both reproducible and fresh corpora.
 */
struct mint_rng {
	unsigned char	 key[32];
	uint64_t	 block;
	unsigned char	 buf[SHA256_DIGEST_LENGTH];
	size_t		 used;
};

struct mint_buf {
	char		*data;
	size_t		 len;
	size_t		 cap;
};

struct mint_identity {
	char		 sub[EID_PIN_LEN + 1];
	char		 birthdate[11];
	enum eid_gender	 gender;
	char		 name[EID_NAME_MAX + 1];
};

/* Everything loaded once at start and reused for every token. */
struct mint {
	const struct mint_conf	*conf;
	EVP_PKEY		*key;		/* --alg's development key */
	char			 kid[EID_THUMBPRINT_LEN + 1];
	char			 other_kid[EID_THUMBPRINT_LEN + 1];
	EVP_PKEY		*rogue;		/* a key nobody trusts */
	char			 rogue_kid[EID_THUMBPRINT_LEN + 1];
	char			*rogue_jwk;
	char			*pub_pem;	/* HS256 confusion key */
	size_t			 pub_pem_len;
	BIGNUM			*order;		/* ECDSA group order */
	struct mint_rng		 rng;
	struct mint_buf		 header;
	struct mint_buf		 claims;
};

/*
 * OpenSSL's own randomness under --seed.  RAND_METHOD callbacks take no
 * context, hence a file-scope stream; it is set once before any key is
 * made or used.
 */
static struct mint_rng mint_ossl_rng;

static void	 mint_usage(FILE *, bool);
static void	 mint_usage_error(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	 mint_buf_printf(struct mint_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
mint_usage(FILE *fp, bool full)
{
	size_t	 i;
	char	 left[40];

	fprintf(fp, "usage: %s [--alg ALG] [--kind KIND] [--count N] "
	    "[--aud AUD] [--sub PIN]\n"
	    "                [--ttl SECONDS] [--certs DIR] [--iss ISS] "
	    "[--level 1|2]\n"
	    "                [--nonce NONCE] [--now UNIXTIME] [--seed N]\n"
	    "       %s --jwks [--certs DIR]\n"
	    "       %s --list-kinds\n", MINT_PROG, MINT_PROG, MINT_PROG);
	if (!full)
		return;
	fputc('\n', fp);
	for (i = 0; i < MINT_NOPTIONS; i++) {
		snprintf(left, sizeof(left), "--%s%s%s", mint_options[i].name,
		    mint_options[i].arg != NULL ? " " : "",
		    mint_options[i].arg != NULL ? mint_options[i].arg : "");
		fprintf(fp, "  %-20s %s\n", left, mint_options[i].help);
	}
}

static void
mint_usage_error(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "%s: ", MINT_PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	mint_usage(stderr, false);
	exit(MINT_EXIT_USAGE);
}

/* --- randomness ----------------------------------------------------------- */

static void
mint_rng_init(struct mint_rng *r, const void *key, size_t keylen)
{
	memset(r, 0, sizeof(*r));
	SHA256(key, keylen, r->key);
	r->used = sizeof(r->buf);
}

static void
mint_rng_bytes(struct mint_rng *r, void *out, size_t len)
{
	unsigned char	 in[sizeof(r->key) + 8], *o = out;
	size_t		 n, i;

	while (len > 0) {
		if (r->used == sizeof(r->buf)) {
			memcpy(in, r->key, sizeof(r->key));
			for (i = 0; i < 8; i++)
				in[sizeof(r->key) + i] =
				    (unsigned char)(r->block >> (56 - 8 * i));
			SHA256(in, sizeof(in), r->buf);
			r->block++;
			r->used = 0;
		}
		n = sizeof(r->buf) - r->used;
		if (n > len)
			n = len;
		memcpy(o, r->buf + r->used, n);
		r->used += n;
		o += n;
		len -= n;
	}
}

/* Uniform in [0, n), n > 0: rejection, so that no value is favoured. */
static uint32_t
mint_rng_below(struct mint_rng *r, uint32_t n)
{
	uint32_t	 v, limit = UINT32_MAX - UINT32_MAX % n;
	unsigned char	 b[4];

	do {
		mint_rng_bytes(r, b, sizeof(b));
		v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
	} while (v >= limit);
	return v % n;
}

static int
mint_ossl_bytes(unsigned char *buf, int num)
{
	if (num < 0)
		return 0;
	mint_rng_bytes(&mint_ossl_rng, buf, (size_t)num);
	return 1;
}

static int
mint_ossl_status(void)
{
	return 1;
}

/*
 * Under --seed, OpenSSL draws from the seed too.  Otherwise ECDSA's
 * per-signature nonce and the PSS salt would make every run differ, and
 * OpenSSL 3.0 has no deterministic ECDSA (RFC 6979 came in 3.2).  The
 * legacy RAND_METHOD hook is the only 3.0 way to replace what
 * RAND_priv_bytes_ex() returns.  It stays safe enough for development
 * keys: OpenSSL derives the ECDSA nonce from SHA-512 over the private
 * key, the digest and these bytes, so two different messages still get
 * different nonces.  Never used without --seed.
 */
static void
mint_ossl_rng_seed(long long seed)
{
	static const RAND_METHOD meth = {
		.bytes = mint_ossl_bytes,
		.pseudorand = mint_ossl_bytes,
		.status = mint_ossl_status,
	};
	char	 key[64];
	int	 rc;

	snprintf(key, sizeof(key), "eid-mint openssl %lld", seed);
	mint_rng_init(&mint_ossl_rng, key, strlen(key));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	rc = RAND_set_rand_method(&meth);
#pragma GCC diagnostic pop
	if (rc != 1)
		common_fatal("cannot make OpenSSL's randomness reproducible");
}

/* --- buffers and JSON text ------------------------------------------------ */

static void
mint_buf_reserve(struct mint_buf *b, size_t more)
{
	char	*p;
	size_t	 cap;

	if (b->len + more + 1 <= b->cap)
		return;
	cap = b->cap == 0 ? 512 : b->cap;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL)
		common_fatal("out of memory");
	b->data = p;
	b->cap = cap;
}

static void
mint_buf_add(struct mint_buf *b, const char *s, size_t n)
{
	mint_buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
mint_buf_printf(struct mint_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	/*
	 * Formatted in place, and again only if it did not fit.  (Sizing
	 * with vsnprintf(NULL, 0, ...) first made GCC 12 with
	 * -fsanitize=undefined report a null format string.)
	 */
	mint_buf_reserve(b, 64);
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		common_fatal("cannot format");
	if ((size_t)n >= b->cap - b->len) {
		mint_buf_reserve(b, (size_t)n);
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0 || (size_t)n >= b->cap - b->len)
			common_fatal("cannot format");
	}
	b->len += (size_t)n;
}

static void
mint_buf_reset(struct mint_buf *b)
{
	b->len = 0;
	mint_buf_reserve(b, 0);
	b->data[0] = '\0';
}

/*
 * A JSON string literal.  UTF-8 passes through as it is (RFC 8259 allows
 * it, and the names are meant to be read); only what JSON forbids raw is
 * escaped.
 */
static void
mint_buf_quote(struct mint_buf *b, const char *s)
{
	const unsigned char	*p;

	mint_buf_add(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			mint_buf_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			mint_buf_printf(b, "\\u%04x", *p);
		else
			mint_buf_add(b, (const char *)p, 1);
	}
	mint_buf_add(b, "\"", 1);
}

/* Members are written in call order: the output is stable byte for byte. */
static void
mint_json_key(struct mint_buf *b, const char *key)
{
	mint_buf_add(b, b->len == 0 ? "{" : ",", 1);
	mint_buf_quote(b, key);
	mint_buf_add(b, ":", 1);
}

static void
mint_json_str(struct mint_buf *b, const char *key, const char *val)
{
	mint_json_key(b, key);
	mint_buf_quote(b, val);
}

static void
mint_json_int(struct mint_buf *b, const char *key, long long val)
{
	mint_json_key(b, key);
	mint_buf_printf(b, "%lld", val);
}

static void
mint_json_raw(struct mint_buf *b, const char *key, const char *json)
{
	mint_json_key(b, key);
	mint_buf_add(b, json, strlen(json));
}

static void
mint_json_end(struct mint_buf *b)
{
	mint_buf_add(b, "}", 1);
}

/* --- command line --------------------------------------------------------- */

/*
 * A decimal integer in [min, max], consumed whole.  strtoll() alone
 * would take leading blanks, a '+' sign, trailing garbage and silent
 * saturation.
 */
static long long
mint_parse_num(const char *opt, const char *s, long long min, long long max)
{
	char		*end;
	long long	 v;

	if (!((s[0] >= '0' && s[0] <= '9') ||
	    (s[0] == '-' && s[1] >= '0' && s[1] <= '9')))
		mint_usage_error("--%s: \"%s\" is not a number", opt, s);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		mint_usage_error("--%s: \"%s\" is not a number", opt, s);
	if (errno == ERANGE || v < min || v > max)
		mint_usage_error("--%s: %s is out of range %lld..%lld", opt, s,
		    min, max);
	return v;
}

/*
 * A string claim that a valid token can carry: the verifier refuses
 * empty, oversized and control-character strings, so refusing them here
 * keeps "--kind valid" valid.
 */
static const char *
mint_parse_str(const char *opt, const char *s, size_t max)
{
	const unsigned char	*p;

	if (s[0] == '\0' || strlen(s) > max)
		mint_usage_error("--%s: must be 1 to %zu bytes", opt, max);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			mint_usage_error("--%s: control character", opt);
	return s;
}

/* Century-and-gender digit to birth year and gender (claims.c's rule). */
static void
mint_pin_decode(const char *pin, int *year, enum eid_gender *gender)
{
	int	 gc = pin[3] - '0';

	*year = 1900 + (gc / 2) * 100 + (pin[4] - '0') * 10 + (pin[5] - '0');
	*gender = gc % 2 == 0 ? EID_GENDER_MALE : EID_GENDER_FEMALE;
}

static const char *
mint_parse_sub(const char *s)
{
	char		 bd[16];
	size_t		 i;
	int		 year;
	enum eid_gender	 g;

	if (strlen(s) != EID_PIN_LEN)
		mint_usage_error("--sub: must be %d digits", EID_PIN_LEN);
	for (i = 0; i < EID_PIN_LEN; i++)
		if (s[i] < '0' || s[i] > '9')
			mint_usage_error("--sub: must be %d digits",
			    EID_PIN_LEN);
	/*
	 * Any day of the PIN's own year will do: the library then checks
	 * the province code, which this program must not duplicate.
	 */
	mint_pin_decode(s, &year, &g);
	snprintf(bd, sizeof(bd), "%04d-01-01", year);
	if (!eid_pin_is_valid(s, bd, g))
		mint_usage_error("--sub: %s has no known province code", s);
	return s;
}

static void
mint_parse_args(int argc, char **argv, struct mint_conf *c)
{
	const struct mint_option	*o;
	const char			*arg, *eq, *name;
	size_t				 i, nlen;
	int				 ai;

	for (ai = 1; ai < argc; ai++) {
		name = argv[ai];
		if (strcmp(name, "-h") == 0) {
			mint_usage(stdout, true);
			exit(0);
		}
		if (strncmp(name, "--", 2) != 0 || name[2] == '\0')
			mint_usage_error("unexpected argument \"%s\"", name);
		name += 2;
		/* Both "--opt value" and "--opt=value". */
		eq = strchr(name, '=');
		nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
		o = NULL;
		for (i = 0; i < MINT_NOPTIONS; i++)
			if (strlen(mint_options[i].name) == nlen &&
			    strncmp(mint_options[i].name, name, nlen) == 0)
				o = &mint_options[i];
		if (o == NULL)
			mint_usage_error("unknown option \"%s\"", argv[ai]);
		arg = NULL;
		if (o->arg != NULL) {
			if (eq != NULL)
				arg = eq + 1;
			else if (ai + 1 < argc)
				arg = argv[++ai];
			else
				mint_usage_error("--%s needs %s", o->name,
				    o->arg);
		} else if (eq != NULL)
			mint_usage_error("--%s takes no value", o->name);

		switch (o->id) {
		case MINT_OPT_ALG:
			/* Exact JOSE spelling: "es256" is no algorithm. */
			if ((c->alg = eid_alg_from_name(arg)) == EID_ALG_NONE)
				mint_usage_error("--alg: \"%s\" is not one of "
				    "ES256, ES384, RS256, PS256, EdDSA", arg);
			break;
		case MINT_OPT_KIND:
			for (i = 0; i < MINT_KIND_COUNT; i++)
				if (strcmp(mint_kinds[i].name, arg) == 0)
					break;
			if (i == MINT_KIND_COUNT)
				mint_usage_error("--kind: unknown kind \"%s\" "
				    "(see --list-kinds)", arg);
			c->kind = (enum mint_kind)i;
			break;
		case MINT_OPT_COUNT:
			c->count = mint_parse_num(o->name, arg, 1,
			    MINT_COUNT_MAX);
			break;
		case MINT_OPT_AUD:
			c->aud = mint_parse_str(o->name, arg, EID_AUD_MAX);
			break;
		case MINT_OPT_SUB:
			c->sub = mint_parse_sub(arg);
			break;
		case MINT_OPT_TTL:
			c->ttl_s = mint_parse_num(o->name, arg, 1,
			    MINT_TTL_MAX_S);
			break;
		case MINT_OPT_CERTS:
			if (arg[0] == '\0')
				mint_usage_error("--certs: empty directory");
			c->certs = arg;
			break;
		case MINT_OPT_ISS:
			c->iss = mint_parse_str(o->name, arg, EID_ISS_MAX);
			break;
		case MINT_OPT_LEVEL:
			c->level = mint_parse_num(o->name, arg, 1, 2);
			break;
		case MINT_OPT_NONCE:
			c->nonce = mint_parse_str(o->name, arg, EID_NONCE_MAX);
			break;
		case MINT_OPT_NOW:
			c->now = mint_parse_num(o->name, arg, MINT_NOW_MIN,
			    MINT_NOW_MAX);
			break;
		case MINT_OPT_SEED:
			c->seed = mint_parse_num(o->name, arg, 0, INT64_MAX);
			c->has_seed = true;
			break;
		case MINT_OPT_JWKS:
			c->jwks = true;
			break;
		case MINT_OPT_LIST_KINDS:
			c->list_kinds = true;
			break;
		case MINT_OPT_HELP:
			mint_usage(stdout, true);
			exit(0);
		}
	}
	/* s = n - s exists only for ECDSA. */
	if (c->kind == MINT_KIND_MALLEATED && c->alg != EID_ALG_ES256 &&
	    c->alg != EID_ALG_ES384)
		mint_usage_error("--kind malleated needs --alg ES256 or ES384");
}

/* --- keys ----------------------------------------------------------------- */

/* NID of an EC key's named curve; NID_undef for anything else. */
static int
mint_key_curve(const EVP_PKEY *k)
{
	char	 grp[80];
	size_t	 n;
	int	 nid;

	if (!EVP_PKEY_is_a(k, "EC") || EVP_PKEY_get_utf8_string_param(k,
	    OSSL_PKEY_PARAM_GROUP_NAME, grp, sizeof(grp), &n) != 1)
		return NID_undef;
	if ((nid = OBJ_txt2nid(grp)) == NID_undef)
		nid = EC_curve_nist2nid(grp);
	return nid;
}

/* True if k can sign alg, so a misplaced file fails at load time. */
static bool
mint_key_fits(const EVP_PKEY *k, enum eid_alg alg)
{
	switch (alg) {
	case EID_ALG_ES256:
		return mint_key_curve(k) == NID_X9_62_prime256v1;
	case EID_ALG_ES384:
		return mint_key_curve(k) == NID_secp384r1;
	case EID_ALG_RS256:
		return EVP_PKEY_is_a(k, "RSA");
	case EID_ALG_PS256:
		return EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS");
	case EID_ALG_EDDSA:
		return EVP_PKEY_is_a(k, "ED25519");
	case EID_ALG_NONE:
		break;
	}
	return false;
}

/* The development private key of alg and its kid; the caller frees it. */
static EVP_PKEY *
mint_key_load(const char *dir, enum eid_alg alg, char *kid, size_t kidlen)
{
	char		 path[4096];
	EVP_PKEY	*k;

	common_path(path, sizeof(path), dir, common_devkey_base(alg), ".key");
	k = common_key_read(path);
	if (!mint_key_fits(k, alg))
		common_fatal("%s: not a key for %s", path, eid_alg_name(alg));
	common_key_kid(k, path, kid, kidlen);
	return k;
}

/* Print {"keys":[...]} of the five development public keys. */
static void
mint_print_jwks(const struct mint_conf *c)
{
	const struct common_devkey	*d;
	json_error_t			 jerr = { .text = "out of memory" };
	json_t				*set, *keys, *jwk;
	EVP_PKEY			*k;
	char				 kid[EID_THUMBPRINT_LEN + 1], *text;
	size_t				 i;
	enum eid_err			 rc;

	if ((set = json_object()) == NULL || (keys = json_array()) == NULL ||
	    json_object_set_new(set, "keys", keys) != 0)
		common_fatal("out of memory");
	for (i = 0; i < COMMON_NDEVKEYS; i++) {
		d = &common_devkeys[i];
		k = mint_key_load(c->certs, d->alg, kid, sizeof(kid));
		/* RSA keys carry alg: the verifier refuses them without. */
		if ((rc = eid_jwk_export(k, d->alg, kid, &text)) != EID_OK)
			common_fatal("%s.key: export: %s", d->base,
			    eid_strerror(rc));
		if ((jwk = json_loads(text, 0, &jerr)) == NULL ||
		    json_array_append_new(keys, jwk) != 0)
			common_fatal("%s.key: export: %s", d->base, jerr.text);
		free(text);
		EVP_PKEY_free(k);
	}
	if ((text = json_dumps(set, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
	    NULL)
		common_fatal("out of memory");
	printf("%s\n", text);
	free(text);
	json_decref(set);
}

/*
 * A key no configured issuer has, of --alg's type so that the broken
 * token differs from a valid one only where it should.  Under --seed it
 * is reproducible like everything else.
 */
static EVP_PKEY *
mint_rogue_new(enum eid_alg alg)
{
	EVP_PKEY	*k = NULL;

	switch (alg) {
	case EID_ALG_ES256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case EID_ALG_ES384:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case EID_ALG_RS256:
	case EID_ALG_PS256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case EID_ALG_EDDSA:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case EID_ALG_NONE:
		break;
	}
	if (k == NULL)
		common_fatal("cannot make a %s key", eid_alg_name(alg));
	return k;
}

/* The algorithm whose development key alg-mismatch names. */
static enum eid_alg
mint_other_alg(enum eid_alg alg)
{
	switch (alg) {
	case EID_ALG_ES256:
		return EID_ALG_ES384;
	case EID_ALG_RS256:
		return EID_ALG_PS256;
	case EID_ALG_PS256:
		return EID_ALG_RS256;
	case EID_ALG_ES384:
	case EID_ALG_EDDSA:
	case EID_ALG_NONE:
		break;
	}
	return EID_ALG_ES256;
}

/* Load what the chosen kind needs, once for the whole run. */
static void
mint_open(struct mint *m, const struct mint_conf *c)
{
	EVP_PKEY	*other;
	EC_GROUP	*grp;
	BIO		*bio;
	char		*pem;
	long		 n;
	enum eid_err	 rc;

	memset(m, 0, sizeof(*m));
	m->conf = c;
	m->key = mint_key_load(c->certs, c->alg, m->kid, sizeof(m->kid));

	switch (c->kind) {
	case MINT_KIND_ALG_MISMATCH:
		other = mint_key_load(c->certs, mint_other_alg(c->alg),
		    m->other_kid, sizeof(m->other_kid));
		EVP_PKEY_free(other);
		break;
	case MINT_KIND_UNKNOWN_KID:
	case MINT_KIND_EMBEDDED_JWK:
		m->rogue = mint_rogue_new(c->alg);
		if ((rc = eid_jwk_thumbprint(m->rogue, m->rogue_kid,
		    sizeof(m->rogue_kid))) != EID_OK ||
		    (rc = eid_jwk_export(m->rogue, c->alg, m->rogue_kid,
		    &m->rogue_jwk)) != EID_OK)
			common_fatal("attacker key: %s", eid_strerror(rc));
		break;
	case MINT_KIND_HS256_CONFUSION:
		/*
		 * The HMAC key is the public key exactly as a verifier that
		 * trusts the header would have it on disk: SPKI PEM text,
		 * trailing newline included.
		 */
		if ((bio = BIO_new(BIO_s_mem())) == NULL ||
		    PEM_write_bio_PUBKEY(bio, m->key) != 1 ||
		    (n = BIO_get_mem_data(bio, &pem)) <= 0)
			common_fatal("cannot write the public key");
		if ((m->pub_pem = malloc((size_t)n)) == NULL)
			common_fatal("out of memory");
		memcpy(m->pub_pem, pem, (size_t)n);
		m->pub_pem_len = (size_t)n;
		BIO_free(bio);
		break;
	case MINT_KIND_MALLEATED:
		grp = EC_GROUP_new_by_curve_name(mint_key_curve(m->key));
		if (grp == NULL ||
		    (m->order = BN_dup(EC_GROUP_get0_order(grp))) == NULL)
			common_fatal("cannot get the curve order");
		EC_GROUP_free(grp);
		break;
	default:
		break;
	}
}

static void
mint_close(struct mint *m)
{
	EVP_PKEY_free(m->key);
	EVP_PKEY_free(m->rogue);
	free(m->rogue_jwk);
	free(m->pub_pem);
	BN_free(m->order);
	free(m->header.data);
	free(m->claims.data);
}

/* --- identities ----------------------------------------------------------- */

static const char *const mint_family[] = {
	"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ",
	"Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"
};
static const char *const mint_middle_male[] = {
	"Văn", "Hữu", "Minh", "Đức", "Quang", "Thanh", "Ngọc", "Công",
	"Xuân", "Gia"
};
static const char *const mint_middle_female[] = {
	"Thị", "Ngọc", "Thanh", "Minh", "Thu", "Kim", "Hồng", "Bảo"
};
static const char *const mint_given_male[] = {
	"An", "Bình", "Dũng", "Hải", "Khánh", "Long", "Nam", "Phong", "Quân",
	"Sơn", "Tuấn", "Hùng", "Huy", "Đạt", "Trung", "Việt"
};
static const char *const mint_given_female[] = {
	"An", "Chi", "Hà", "Hạnh", "Hương", "Khánh", "Lan", "Linh", "Mai",
	"Phương", "Thảo", "Trang", "Vy", "Yến", "Nhung", "Hoa"
};

#define MINT_PICK(r, a)	((a)[mint_rng_below((r), sizeof(a) / sizeof((a)[0]))])

static int
mint_days_in_month(int y, int m)
{
	static const int mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	bool	 leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mdays[m - 1] + (m == 2 && leap);
}

/* v as exactly width decimal digits, zero-padded, without a NUL. */
static void
mint_digits(char *out, unsigned int v, int width)
{
	while (width-- > 0) {
		out[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * A citizen whose PIN, birthdate and gender agree.  The province code is
 * drawn from 001..096 until the library accepts the whole PIN: the list
 * of codes belongs to claims.c alone.
 */
static void
mint_identity_new(struct mint *m, struct mint_identity *id)
{
	struct mint_rng	*r = &m->rng;
	const char	*family, *middle, *given;
	int		 year, month, day;
	unsigned int	 tries;
	bool		 male;

	if (m->conf->sub != NULL) {
		memcpy(id->sub, m->conf->sub, EID_PIN_LEN + 1);
		mint_pin_decode(id->sub, &year, &id->gender);
	} else {
		year = MINT_BIRTH_YEAR_MIN + (int)mint_rng_below(r,
		    MINT_BIRTH_YEAR_MAX - MINT_BIRTH_YEAR_MIN + 1);
		id->gender = mint_rng_below(r, 2) == 0 ? EID_GENDER_MALE :
		    EID_GENDER_FEMALE;
	}
	month = 1 + (int)mint_rng_below(r, 12);
	day = 1 + (int)mint_rng_below(r,
	    (uint32_t)mint_days_in_month(year, month));
	mint_digits(id->birthdate, (unsigned int)year, 4);
	id->birthdate[4] = '-';
	mint_digits(id->birthdate + 5, (unsigned int)month, 2);
	id->birthdate[7] = '-';
	mint_digits(id->birthdate + 8, (unsigned int)day, 2);
	id->birthdate[10] = '\0';

	if (m->conf->sub == NULL) {
		/* 63 of 96 codes are known: 1000 misses mean a bug. */
		for (tries = 0;; tries++) {
			if (tries == 1000)
				common_fatal("no province code accepted");
			mint_digits(id->sub, 1 + mint_rng_below(r, 96), 3);
			mint_digits(id->sub + 3, (unsigned int)(year - 1900) /
			    100 * 2 + (id->gender == EID_GENDER_FEMALE), 1);
			mint_digits(id->sub + 4, (unsigned int)year % 100, 2);
			mint_digits(id->sub + 6, mint_rng_below(r, 1000000), 6);
			id->sub[EID_PIN_LEN] = '\0';
			if (eid_pin_is_valid(id->sub, id->birthdate,
			    id->gender))
				break;
		}
	}

	/*
	 * One draw per statement: the order in which a call's arguments are
	 * evaluated is unspecified, and gcc and clang differed, so --seed
	 * gave other names with another compiler.  This is gcc's order.
	 */
	male = id->gender == EID_GENDER_MALE;
	given = male ? MINT_PICK(r, mint_given_male) :
	    MINT_PICK(r, mint_given_female);
	middle = male ? MINT_PICK(r, mint_middle_male) :
	    MINT_PICK(r, mint_middle_female);
	family = MINT_PICK(r, mint_family);
	snprintf(id->name, sizeof(id->name), "%s %s %s", family, middle,
	    given);
}

/* --- tokens --------------------------------------------------------------- */

/* header.payload[.signature] from raw parts; malloc'd. */
static char *
mint_compact(const char *h, size_t hlen, const char *p, size_t plen,
    const unsigned char *sig, size_t siglen)
{
	size_t	 total, o;
	char	*t;

	total = EID_B64URL_LEN(hlen) + 1 + EID_B64URL_LEN(plen) + 1 +
	    EID_B64URL_LEN(siglen) + 1;
	if ((t = malloc(total)) == NULL)
		common_fatal("out of memory");
	o = eid_b64url_encode(h, hlen, t, total);
	t[o++] = '.';
	o += eid_b64url_encode(p, plen, t + o, total - o);
	t[o++] = '.';
	eid_b64url_encode(sig, siglen, t + o, total - o);
	return t;
}

/*
 * Decode a token's signature, let fix() change it, re-encode in place of
 * the old one.  Returns the new malloc'd token and frees the old.
 */
static char *
mint_resign(const struct mint *m, char *tok,
    void (*fix)(const struct mint *, unsigned char *, size_t))
{
	unsigned char	 sig[MINT_SIG_MAX];
	char		*dot, *t;
	size_t		 n, head, total;

	if ((dot = strrchr(tok, '.')) == NULL ||
	    (n = eid_b64url_decode(dot + 1, strlen(dot + 1), sig,
	    sizeof(sig))) == (size_t)-1 || n == 0)
		common_fatal("cannot decode my own signature");
	fix(m, sig, n);
	head = (size_t)(dot + 1 - tok);
	total = head + EID_B64URL_LEN(n) + 1;
	if ((t = malloc(total)) == NULL)
		common_fatal("out of memory");
	memcpy(t, tok, head);
	eid_b64url_encode(sig, n, t + head, total - head);
	free(tok);
	return t;
}

/*
 * The low bit of the middle byte: the last byte of ECDSA's r or of
 * Ed25519's R.  Length and the s < n range checks still pass, so only
 * the signature equation itself can catch it.
 */
static void
mint_fix_flip(const struct mint *m, unsigned char *sig, size_t n)
{
	(void)m;
	sig[(n - 1) / 2] ^= 0x01;
}

/* ECDSA's malleability: (r, n - s) verifies whenever (r, s) does. */
static void
mint_fix_malleate(const struct mint *m, unsigned char *sig, size_t n)
{
	BIGNUM	*s;
	size_t	 half = n / 2;

	if ((s = BN_bin2bn(sig + half, (int)half, NULL)) == NULL ||
	    BN_sub(s, m->order, s) != 1 ||
	    BN_bn2binpad(s, sig + half, (int)half) != (int)half)
		common_fatal("cannot malleate the signature");
	BN_free(s);
}

static void
mint_header(struct mint *m, const char *alg, const char *kid)
{
	mint_buf_reset(&m->header);
	mint_json_str(&m->header, "alg", alg);
	mint_json_str(&m->header, "typ", "JWT");
	mint_json_str(&m->header, "kid", kid);
	switch (m->conf->kind) {
	case MINT_KIND_CRIT:
		mint_json_raw(&m->header, "crit", "[\"exp\"]");
		break;
	case MINT_KIND_EMBEDDED_JWK:
		mint_json_raw(&m->header, "jwk", m->rogue_jwk);
		break;
	default:
		break;
	}
	mint_json_end(&m->header);
}

static void
mint_claims(struct mint *m)
{
	const struct mint_conf	*c = m->conf;
	struct mint_identity	 id;
	struct mint_buf		*b = &m->claims;
	unsigned char		 raw[MINT_JTI_BYTES];
	char			 jti[EID_B64URL_LEN(MINT_JTI_BYTES) + 1];
	long long		 iat = c->now, exp = c->now + c->ttl_s, level;
	const char		*iss = c->iss, *aud = c->aud, *nonce;
	char			*pin;

	mint_identity_new(m, &id);
	mint_rng_bytes(&m->rng, raw, sizeof(raw));
	eid_b64url_encode(raw, sizeof(raw), jti, sizeof(jti));
	level = c->level;
	nonce = c->nonce;

	switch (c->kind) {
	case MINT_KIND_EXPIRED:
		iat = c->now - 3600;
		exp = c->now - 600;
		break;
	case MINT_KIND_NOT_YET_VALID:
		exp = c->now + 1200;
		break;
	case MINT_KIND_LONG_LIFETIME:
		/* One second past the verifier's default lifetime. */
		exp = c->now + EID_POLICY_LIFETIME_DEFAULT + 1;
		break;
	case MINT_KIND_WRONG_AUDIENCE:
		aud = "another-portal";
		break;
	case MINT_KIND_WRONG_ISSUER:
		iss = "https://evil.example";
		break;
	case MINT_KIND_LOW_LEVEL:
		level = 1;
		break;
	case MINT_KIND_NONCE_MISMATCH:
		nonce = "other-nonce";
		break;
	case MINT_KIND_PIN_MISMATCH:
		/* Another birth year, same everything else. */
		pin = id.sub;
		pin[5] = pin[5] == '9' ? '0' : (char)(pin[5] + 1);
		break;
	default:
		break;
	}

	mint_buf_reset(b);
	mint_json_str(b, "iss", iss);
	mint_json_str(b, "sub", id.sub);
	mint_json_str(b, "aud", aud);
	mint_json_int(b, "iat", iat);
	if (c->kind == MINT_KIND_NOT_YET_VALID)
		mint_json_int(b, "nbf", c->now + 600);
	mint_json_int(b, "exp", exp);
	if (c->kind != MINT_KIND_NO_JTI)
		mint_json_str(b, "jti", jti);
	mint_json_str(b, "name", id.name);
	mint_json_str(b, "birthdate", id.birthdate);
	mint_json_str(b, "gender", id.gender == EID_GENDER_MALE ? "male" :
	    "female");
	mint_json_int(b, "eid_level", level);
	if (nonce != NULL)
		mint_json_str(b, "nonce", nonce);
	if (c->kind == MINT_KIND_DUPLICATE_CLAIM) {
		/*
		 * A second, equally consistent sub: a parser that keeps the
		 * last duplicate would see another citizen than one that
		 * keeps the first.
		 */
		pin = id.sub;
		pin[11] = pin[11] == '9' ? '0' : (char)(pin[11] + 1);
		mint_json_str(b, "sub", id.sub);
	}
	mint_json_end(b);
}

static char *
mint_sign(struct mint *m, EVP_PKEY *k)
{
	char		*tok;
	enum eid_err	 rc;

	if ((rc = eid_jws_sign(k, m->conf->alg, m->header.data, m->header.len,
	    m->claims.data, m->claims.len, &tok)) != EID_OK)
		common_fatal("cannot sign: %s", eid_strerror(rc));
	return tok;
}

/* One token of the configured kind; malloc'd. */
static char *
mint_token(struct mint *m)
{
	const struct mint_conf	*c = m->conf;
	const char		*alg = eid_alg_name(c->alg);
	unsigned char		 mac[EVP_MAX_MD_SIZE];
	size_t			 maclen;
	char			*tok, *in;

	mint_claims(m);
	switch (c->kind) {
	case MINT_KIND_UNKNOWN_KID:
	case MINT_KIND_EMBEDDED_JWK:
		mint_header(m, alg, m->rogue_kid);
		return mint_sign(m, m->rogue);
	case MINT_KIND_ALG_MISMATCH:
		mint_header(m, alg, m->other_kid);
		return mint_sign(m, m->key);
	case MINT_KIND_ALG_NONE:
		mint_header(m, "none", m->kid);
		return mint_compact(m->header.data, m->header.len,
		    m->claims.data, m->claims.len, NULL, 0);
	case MINT_KIND_HS256_CONFUSION:
		/* Sign header.payload as a compact JWS would be signed. */
		mint_header(m, "HS256", m->kid);
		in = mint_compact(m->header.data, m->header.len,
		    m->claims.data, m->claims.len, NULL, 0);
		in[strlen(in) - 1] = '\0';
		if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, m->pub_pem,
		    m->pub_pem_len, (const unsigned char *)in, strlen(in), mac,
		    sizeof(mac), &maclen) == NULL)
			common_fatal("HMAC-SHA256 failed");
		free(in);
		return mint_compact(m->header.data, m->header.len,
		    m->claims.data, m->claims.len, mac, maclen);
	default:
		break;
	}

	mint_header(m, alg, m->kid);
	tok = mint_sign(m, m->key);
	switch (c->kind) {
	case MINT_KIND_BADSIG:
		return mint_resign(m, tok, mint_fix_flip);
	case MINT_KIND_MALLEATED:
		return mint_resign(m, tok, mint_fix_malleate);
	case MINT_KIND_MALFORMED:
		/* header.payload: a JWS without its signature segment. */
		*strrchr(tok, '.') = '\0';
		return tok;
	default:
		return tok;
	}
}

static void
mint_list_kinds(void)
{
	size_t	 i;

	for (i = 0; i < MINT_KIND_COUNT; i++)
		printf("%s %s %s\n", mint_kinds[i].name,
		    eid_verdict_name(mint_kinds[i].verdict),
		    mint_kinds[i].desc);
}

int
main(int argc, char **argv)
{
	struct mint_conf	 c;
	struct mint		 m;
	unsigned char		 key[32];
	char			 seedkey[64];
	long long		 i;
	char			*tok;

	common_setprog(MINT_PROG);
	memset(&c, 0, sizeof(c));
	c.alg = EID_ALG_ES256;
	c.kind = MINT_KIND_VALID;
	c.count = 1;
	c.ttl_s = 600;
	c.level = 2;
	c.aud = MINT_AUD_DEFAULT;
	c.iss = MINT_ISS_DEFAULT;
	c.certs = common_certs_dir();
	c.now = (long long)time(NULL);
	mint_parse_args(argc, argv, &c);

	if (c.list_kinds) {
		mint_list_kinds();
		goto done;
	}
	if (c.jwks) {
		mint_print_jwks(&c);
		goto done;
	}

	/* OpenSSL's randomness is switched before the first key is made. */
	if (c.has_seed)
		mint_ossl_rng_seed(c.seed);
	mint_open(&m, &c);
	if (c.has_seed) {
		snprintf(seedkey, sizeof(seedkey), "eid-mint identities %lld",
		    c.seed);
		mint_rng_init(&m.rng, seedkey, strlen(seedkey));
	} else {
		if (RAND_bytes(key, sizeof(key)) != 1)
			common_fatal("RAND_bytes");
		mint_rng_init(&m.rng, key, sizeof(key));
		OPENSSL_cleanse(key, sizeof(key));
	}
	for (i = 0; i < c.count; i++) {
		tok = mint_token(&m);
		if (fputs(tok, stdout) == EOF || putchar('\n') == EOF)
			common_fatal("stdout: %s", strerror(errno));
		free(tok);
	}
	mint_close(&m);
done:
	if (fflush(stdout) == EOF || ferror(stdout))
		common_fatal("stdout: %s", strerror(errno));
	return 0;
}
