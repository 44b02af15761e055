/*
 * tests/unit/crypto/test_claimscan.c -- the claims fast path (claimscan.c)
 * takes the shape real claims have, declines everything else, and never
 * changes a verdict: for every text below, claims_parse_payload() gives
 * the verdict and assertion that jansson's parse and claims_parse() give.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "crypto.h"

static char	 th_iss[] = TH_ISS;

static void
key_init(struct key *k)
{
	memset(k, 0, sizeof(*k));
	k->iss = th_iss;
}

/*
 * Both paths over text: the scan's decision is returned, and the verdict
 * and assertion of claims_parse_payload() must equal jansson's (MALFORMED
 * when jansson refuses the text).
 */
static bool
same_both_ways(const char *text, enum eid_verdict *verdict)
{
	struct claims_view	 v;
	struct eid_assertion	 fast, slow;
	struct key		 k;
	json_t			*c;
	enum eid_verdict	 vf, vs;
	size_t			 len = strlen(text);
	bool			 scanned;

	key_init(&k);
	scanned = claims_scan((const unsigned char *)text, len, &v);
	memset(&fast, 0, sizeof(fast));
	vf = claims_parse_payload((const unsigned char *)text, len, &k,
	    &th_policy, &fast);
	memset(&slow, 0, sizeof(slow));
	c = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    NULL);
	vs = c == NULL ? EID_VERDICT_MALFORMED : claims_parse(c, &k,
	    &th_policy, &slow);
	json_decref(c);
	if (scanned && c == NULL)
		fail_msg("the scan took a text jansson refuses: %s", text);
	if (vf != vs)
		fail_msg("%s: fast path %s, jansson %s", text,
		    eid_verdict_name(vf), eid_verdict_name(vs));
	if (memcmp(&fast, &slow, sizeof(fast)) != 0)
		fail_msg("%s: the assertions differ", text);
	*verdict = vf;
	return scanned;
}

/* The valid claims of helpers.c, as compact JSON (malloc'd). */
static char *
valid_text(size_t flags)
{
	json_t	*c = th_claims();
	char	*s = json_dumps(c, flags);

	json_decref(c);
	assert_non_null(s);
	return s;
}

static void
expect_scanned(const char *text, enum eid_verdict want)
{
	enum eid_verdict	 v;

	if (!same_both_ways(text, &v))
		fail_msg("the scan declined: %s", text);
	if (v != want)
		fail_msg("%s: %s, not %s", text, eid_verdict_name(v),
		    eid_verdict_name(want));
}

static void
expect_declined(const char *text)
{
	enum eid_verdict	 v;

	if (same_both_ways(text, &v))
		fail_msg("the scan took: %s", text);
}

/* "{" + valid members + extra + "}", for one more member at the end. */
static char *
valid_plus(const char *extra)
{
	char	*base = valid_text(JSON_COMPACT), *out;
	size_t	 n = strlen(base) + strlen(extra) + 1;

	out = malloc(n);
	assert_non_null(out);
	base[strlen(base) - 1] = '\0';		/* drop '}' */
	snprintf(out, n, "%s%s}", base, extra);
	free(base);
	return out;
}

/* Real claims, compact or pretty, in any member order, are scanned. */
static void
test_scan_takes_real_claims(void **state)
{
	char	*s;

	(void)state;
	s = valid_text(JSON_COMPACT);
	expect_scanned(s, EID_VERDICT_OK);
	free(s);
	s = valid_text(JSON_INDENT(2) | JSON_SORT_KEYS);
	expect_scanned(s, EID_VERDICT_OK);
	free(s);
	/* members the profile ignores, an aud array, UTF-8 names */
	s = valid_plus(",\"acr\":\"urn:vneid:2\",\"x\":[],\"n\":-0,"
	    "\"amr\":[\"pin\", \"face\"]");
	expect_scanned(s, EID_VERDICT_OK);
	free(s);
	expect_scanned("{}", EID_VERDICT_INVALID_CLAIMS);
	expect_scanned(" \t\r\n{ } \n", EID_VERDICT_INVALID_CLAIMS);
	expect_scanned("{\"iss\":\"https://other.example\"}",
	    EID_VERDICT_UNTRUSTED_ISSUER);
}

/* Wrong types and values in the shape: scanned, same verdicts. */
static void
test_scan_same_verdicts(void **state)
{
	static const char *const extras[] = {
		",\"events\":[]",
		",\"nonce\":\"\"",
		",\"nonce\":\"n-1\"",
		",\"nbf\":1",
		",\"nbf\":99999999999999999",
		",\"zz\":\"Nguy\xe1\xbb\x85n \xf0\x9f\x98\x80\"",
		",\"w\":\"\x7f\"",
	};
	char	*s;
	size_t	 i;
	enum eid_verdict v;

	(void)state;
	for (i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
		s = valid_plus(extras[i]);
		if (!same_both_ways(s, &v))
			fail_msg("the scan declined: %s", s);
		free(s);
	}
	expect_scanned("{\"iss\":\"" TH_ISS "\",\"aud\":7}",
	    EID_VERDICT_INVALID_CLAIMS);
	expect_scanned("{\"iss\":\"" TH_ISS "\",\"aud\":[\"a\",\"b\",\"c\","
	    "\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]}",
	    EID_VERDICT_INVALID_CLAIMS);
	expect_scanned("{\"iss\":[\"" TH_ISS "\"]}",
	    EID_VERDICT_INVALID_CLAIMS);
	expect_scanned("{\"iss\":\"\"}", EID_VERDICT_INVALID_CLAIMS);
	expect_scanned("{\"iss\":12}", EID_VERDICT_INVALID_CLAIMS);
}

/* Anything outside the shape goes to jansson, whatever it holds. */
static void
test_scan_declines(void **state)
{
	static const char *const texts[] = {
		"",
		"[]",
		"\"claims\"",
		"\xef\xbb\xbf{}",			/* BOM */
		"{} x",					/* trailing data */
		"{}{}",
		"{\"a\":1,}",
		"{,}",
		"{\"a\" 1}",
		"{\"a\":}",
		"{\"a\":\"x\\/y\"}",			/* any escape */
		"{\"a\\u0062\":1}",
		"{\"a\":\"\\u0000\"}",
		"{\"a\":\"tab\there\"}",		/* control byte */
		"{\"a\":1,\"a\":2}",			/* duplicate */
		"{\"a\":1,\"b\":2,\"a\":\"x\"}",
		"{\"iss\":\"x\",\"iss\":\"y\"}",	/* profile names */
		"{\"sub\":\"1\",\"aud\":\"x\",\"sub\":\"1\"}",
		"{\"a\":1,\"eid_level\":2,\"a\":1}",
		"{\"events\":1,\"b\":2,\"events\":1}",
		"{\"nonce\":\"n\",\"x\":[],\"y\":0,\"nonce\":\"n\"}",
		"{\"a\":1.0}",				/* reals */
		"{\"a\":1e3}",
		"{\"a\":-}",
		"{\"a\":01}",				/* leading zero */
		"{\"a\":1234567890123456789}",		/* 19 digits */
		"{\"a\":true}",
		"{\"a\":null}",
		"{\"a\":{}}",				/* nested */
		"{\"a\":[1]}",
		"{\"a\":[[]]}",
		"{\"a\":[\"x\",]}",
		"{\"a\":\"\xc0\xaf\"}",			/* overlong */
		"{\"a\":\"\xe0\x80\xaf\"}",
		"{\"a\":\"\xed\xa0\x80\"}",		/* surrogate */
		"{\"a\":\"\xf4\x90\x80\x80\"}",		/* > U+10FFFF */
		"{\"a\":\"\xe1\xbb\"}",			/* cut short */
		"{\"a\":\"\x80\"}",
		"{\"a\":\"x",				/* unterminated */
		"{\"a\":1",
		"{\"a\":1\x0b}",			/* not JSON whitespace */
	};
	char	 many[1024];
	size_t	 i, off;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		expect_declined(texts[i]);
	/* More members than the scan tracks for duplicates. */
	off = (size_t)snprintf(many, sizeof(many), "{");
	for (i = 0; i < 33; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off,
		    "%s\"m%zu\":%zu", i > 0 ? "," : "", i, i);
	snprintf(many + off, sizeof(many) - off, "}");
	expect_declined(many);
	/* The same with the profile's names among them. */
	off = (size_t)snprintf(many, sizeof(many), "{\"iss\":\"x\","
	    "\"jti\":\"j\",\"name\":\"n\"");
	for (i = 0; i < 30; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off,
		    ",\"m%zu\":%zu", i, i);
	snprintf(many + off, sizeof(many) - off, "}");
	expect_declined(many);
}

/* A NUL byte inside the text is never taken (jansson refuses it). */
static void
test_scan_nul(void **state)
{
	static const char	 t[] = "{\"a\":\"x\0y\"}";
	struct claims_view	 v;

	(void)state;
	assert_false(claims_scan((const unsigned char *)t, sizeof(t) - 1,
	    &v));
	assert_false(claims_scan((const unsigned char *)"{}\0", 3, &v));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_takes_real_claims),
		cmocka_unit_test(test_scan_same_verdicts),
		cmocka_unit_test(test_scan_declines),
		cmocka_unit_test(test_scan_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
