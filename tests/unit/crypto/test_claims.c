/*
 * tests/unit/crypto/test_claims.c -- the eid assertion v1 claims profile
 * (DESIGN.md section 4, SECURITY.md 3.9, 3.10, 3.12) and the personal
 * identification number rules, table-driven on claims_parse().
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

static enum eid_verdict
parse_text(const char *text, struct eid_assertion *a)
{
	struct key	 k;
	json_error_t	 err;
	json_t		*c;
	enum eid_verdict v;
	char		 iss[] = TH_ISS;

	memset(&k, 0, sizeof(k));
	k.iss = iss;
	memset(a, 0, sizeof(*a));
	c = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (c == NULL)
		fail_msg("test JSON does not parse: %s: %s", text, err.text);
	v = claims_parse(c, &k, &th_policy, a);
	json_decref(c);
	return v;
}

/* The valid claims with one member set (value given as JSON) or removed. */
static enum eid_verdict
parse_with(const char *member, const char *json_value)
{
	struct eid_assertion	 a;
	json_error_t		 err;
	json_t			*c, *v = NULL;
	char			*text;
	enum eid_verdict	 r;

	c = th_claims();
	if (json_value == NULL)
		json_object_del(c, member);
	else if (json_value[0] == '@')
		/* "@N": the time TH_NOW + N (th_claims has iat TH_NOW - 60) */
		json_object_set_new(c, member,
		    json_integer(TH_NOW + atoll(json_value + 1)));
	else {
		v = json_loads(json_value, JSON_DECODE_ANY, &err);
		if (v == NULL)
			fail_msg("bad test value %s: %s", json_value, err.text);
		json_object_set_new(c, member, v);
	}
	text = th_dump(c);
	json_decref(c);
	r = parse_text(text, &a);
	free(text);
	return r;
}

static void
test_valid(void **state)
{
	struct eid_assertion	 a;
	json_t			*c;
	char			*text;

	(void)state;
	c = th_claims();
	text = th_dump(c);
	json_decref(c);
	assert_int_equal(parse_text(text, &a), EID_VERDICT_OK);
	free(text);
	assert_string_equal(a.iss, TH_ISS);
	assert_string_equal(a.sub, "001090012345");
	assert_int_equal(a.aud_count, 1);
	assert_string_equal(a.aud[0], "dichvucong");
	assert_int_equal(a.level, 2);
	assert_int_equal(a.gender, EID_GENDER_MALE);
	assert_string_equal(a.birthdate, "1990-05-17");
	assert_string_equal(a.jti, "test-jti-0001");
	assert_int_equal(a.exp - a.iat, 660);
	assert_false(a.has_nbf);
	assert_false(a.has_nonce);
}

struct claim_case {
	const char	*member;
	const char	*value;		/* JSON text, "@N" for TH_NOW + N,
					   NULL to remove the member */
	enum eid_verdict want;
};

static void
test_claim_table(void **state)
{
	static const struct claim_case cases[] = {
		/* required members */
		{ "iss", NULL, EID_VERDICT_INVALID_CLAIMS },
		{ "sub", NULL, EID_VERDICT_INVALID_CLAIMS },
		{ "exp", NULL, EID_VERDICT_INVALID_CLAIMS },
		{ "iat", NULL, EID_VERDICT_INVALID_CLAIMS },
		{ "jti", NULL, EID_VERDICT_INVALID_CLAIMS },
		{ "name", NULL, EID_VERDICT_INVALID_CLAIMS },
		{ "birthdate", NULL, EID_VERDICT_INVALID_CLAIMS },
		{ "gender", NULL, EID_VERDICT_INVALID_CLAIMS },
		{ "eid_level", NULL, EID_VERDICT_INVALID_CLAIMS },
		/* aud absent or [] leaves no audience: checked per request */
		{ "aud", NULL, EID_VERDICT_OK },
		{ "aud", "[]", EID_VERDICT_OK },
		{ "aud", "[\"a\",\"dichvucong\"]", EID_VERDICT_OK },
		{ "aud", "[1]", EID_VERDICT_INVALID_CLAIMS },
		{ "aud", "[null]", EID_VERDICT_INVALID_CLAIMS },
		{ "aud", "[\"\"]", EID_VERDICT_INVALID_CLAIMS },
		{ "aud", "{}", EID_VERDICT_INVALID_CLAIMS },
		{ "aud", "[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\","
		    "\"9\"]", EID_VERDICT_INVALID_CLAIMS },
		/* issuer: byte-exact, no normalisation */
		{ "iss", "\"https://vneid.example/\"",
		    EID_VERDICT_UNTRUSTED_ISSUER },
		{ "iss", "\"HTTPS://VNEID.EXAMPLE\"",
		    EID_VERDICT_UNTRUSTED_ISSUER },
		{ "iss", "\"https://vneid.ex\\u0430mple\"",
		    EID_VERDICT_UNTRUSTED_ISSUER },
		{ "iss", "\"https:\\/\\/vneid.example\"", EID_VERDICT_OK },
		{ "iss", "42", EID_VERDICT_INVALID_CLAIMS },
		/* times: integers in range only */
		{ "exp", "\"1780272600\"", EID_VERDICT_INVALID_CLAIMS },
		{ "exp", "1780272600.5", EID_VERDICT_INVALID_CLAIMS },
		{ "exp", "1e308", EID_VERDICT_INVALID_CLAIMS },
		{ "exp", "true", EID_VERDICT_INVALID_CLAIMS },
		{ "exp", "null", EID_VERDICT_INVALID_CLAIMS },
		{ "exp", "[1]", EID_VERDICT_INVALID_CLAIMS },
		{ "exp", "-1", EID_VERDICT_INVALID_CLAIMS },
		{ "exp", "253402300800", EID_VERDICT_INVALID_CLAIMS },
		{ "iat", "9223372036854775807", EID_VERDICT_INVALID_CLAIMS },
		{ "exp", "@-60", EID_VERDICT_INVALID_CLAIMS },	/* = iat */
		{ "exp", "@-1000", EID_VERDICT_INVALID_CLAIMS },	/* < iat */
		/* lifetime: exactly 24 h accepted, one second more refused */
		{ "exp", "@86340", EID_VERDICT_OK },
		{ "exp", "@86341", EID_VERDICT_INVALID_CLAIMS },
		{ "nbf", "@0", EID_VERDICT_OK },
		{ "nbf", "@600", EID_VERDICT_INVALID_CLAIMS },	/* = exp */
		{ "nbf", "\"0\"", EID_VERDICT_INVALID_CLAIMS },
		/* jti */
		{ "jti", "\"\"", EID_VERDICT_INVALID_CLAIMS },
		{ "jti", "7", EID_VERDICT_INVALID_CLAIMS },
		{ "jti", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaa\"", EID_VERDICT_OK },		/* 128 bytes */
		{ "jti", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaa\"", EID_VERDICT_INVALID_CLAIMS },	/* 129 bytes */
		{ "jti", "\"a\\u0001b\"", EID_VERDICT_INVALID_CLAIMS },
		/* eid_level: integer 1 or 2 */
		{ "eid_level", "1", EID_VERDICT_OK },
		{ "eid_level", "\"2\"", EID_VERDICT_INVALID_CLAIMS },
		{ "eid_level", "2.0", EID_VERDICT_INVALID_CLAIMS },
		{ "eid_level", "3", EID_VERDICT_INVALID_CLAIMS },
		{ "eid_level", "0", EID_VERDICT_INVALID_CLAIMS },
		{ "eid_level", "true", EID_VERDICT_INVALID_CLAIMS },
		/* sub: exactly 12 ASCII digits */
		{ "sub", "\"00109001234\"", EID_VERDICT_INVALID_CLAIMS },
		{ "sub", "\"0010900123456\"", EID_VERDICT_INVALID_CLAIMS },
		{ "sub", "\"\\uff10\\uff10\\uff11\\uff10\\uff19\\uff10\\uff10"
		    "\\uff11\\uff12\\uff13\\uff14\\uff15\"",
		    EID_VERDICT_INVALID_CLAIMS },
		{ "sub", "1090012345", EID_VERDICT_INVALID_CLAIMS },
		/* birthdate */
		{ "birthdate", "\"1990-02-30\"", EID_VERDICT_INVALID_CLAIMS },
		{ "birthdate", "\"1990-5-17\"", EID_VERDICT_INVALID_CLAIMS },
		{ "birthdate", "\"\\uff11990-05-17\"",
		    EID_VERDICT_INVALID_CLAIMS },
		{ "gender", "\"Male\"", EID_VERDICT_INVALID_CLAIMS },
		{ "gender", "\"female\"", EID_VERDICT_INVALID_CLAIMS },
		/* nonce */
		{ "nonce", "\"n-1\"", EID_VERDICT_OK },
		{ "nonce", "\"\"", EID_VERDICT_INVALID_CLAIMS },
		{ "nonce", "1", EID_VERDICT_INVALID_CLAIMS },
		/* another kind of JWT from the same issuer */
		{ "events", "{}", EID_VERDICT_INVALID_CLAIMS },
		/* unknown claims are ignored */
		{ "azp", "\"dichvucong\"", EID_VERDICT_OK },
	};
	size_t		 i;
	enum eid_verdict v;
	int		 bad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = parse_with(cases[i].member, cases[i].value);
		if (v != cases[i].want) {
			print_error("%s=%s: got %s, want %s\n",
			    cases[i].member, cases[i].value ? cases[i].value :
			    "(removed)", eid_verdict_name(v),
			    eid_verdict_name(cases[i].want));
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_not_an_object(void **state)
{
	struct eid_assertion	 a;

	(void)state;
	assert_int_equal(parse_text("\"eyJhbGciOiJFUzI1NiJ9\"", &a),
	    EID_VERDICT_INVALID_CLAIMS);
	assert_int_equal(parse_text("[]", &a), EID_VERDICT_INVALID_CLAIMS);
	assert_int_equal(parse_text("17", &a), EID_VERDICT_INVALID_CLAIMS);
}

static void
test_pin(void **state)
{
	(void)state;
	assert_true(eid_pin_is_valid("001090012345", "1990-05-17",
	    EID_GENDER_MALE));
	assert_true(eid_pin_is_valid("079190000001", "1990-01-01",
	    EID_GENDER_FEMALE));
	assert_true(eid_pin_is_valid("096305000001", "2005-12-31",
	    EID_GENDER_FEMALE));
	assert_true(eid_pin_is_valid("001204000001", "2004-02-29",
	    EID_GENDER_MALE));
	/* gender digit disagrees */
	assert_false(eid_pin_is_valid("001190012345", "1990-05-17",
	    EID_GENDER_MALE));
	/* century disagrees: digit 2 is 2000-2099 */
	assert_false(eid_pin_is_valid("001290012345", "1990-05-17",
	    EID_GENDER_MALE));
	/* year disagrees */
	assert_false(eid_pin_is_valid("001091012345", "1990-05-17",
	    EID_GENDER_MALE));
	/* province codes that do not exist: 000, 003, 097, 999 */
	assert_false(eid_pin_is_valid("000090012345", "1990-05-17",
	    EID_GENDER_MALE));
	assert_false(eid_pin_is_valid("003090012345", "1990-05-17",
	    EID_GENDER_MALE));
	assert_false(eid_pin_is_valid("097090012345", "1990-05-17",
	    EID_GENDER_MALE));
	assert_false(eid_pin_is_valid("999090012345", "1990-05-17",
	    EID_GENDER_MALE));
	/* shape */
	assert_false(eid_pin_is_valid("00109001234a", "1990-05-17",
	    EID_GENDER_MALE));
	assert_false(eid_pin_is_valid("00109001234", "1990-05-17",
	    EID_GENDER_MALE));
	assert_false(eid_pin_is_valid(NULL, "1990-05-17", EID_GENDER_MALE));
	assert_false(eid_pin_is_valid("001090012345", "1990-05-17",
	    EID_GENDER_UNSET));
}

/* Pin mismatch through the full claims path gives INVALID_CLAIMS. */
static void
test_pin_mismatch_claims(void **state)
{
	(void)state;
	assert_int_equal(parse_with("sub", "\"001091012345\""),
	    EID_VERDICT_INVALID_CLAIMS);
	assert_int_equal(parse_with("gender", "\"female\""),
	    EID_VERDICT_INVALID_CLAIMS);
	assert_int_equal(parse_with("birthdate", "\"1991-05-17\""),
	    EID_VERDICT_INVALID_CLAIMS);
}

static void
test_dates(void **state)
{
	int	 y, m, d;

	(void)state;
	assert_true(claims_date_parse("2000-02-29", 10, &y, &m, &d));
	assert_int_equal(y * 10000 + m * 100 + d, 20000229);
	assert_false(claims_date_parse("1900-02-29", 10, &y, &m, &d));
	assert_true(claims_date_parse("2024-02-29", 10, &y, &m, &d));
	assert_false(claims_date_parse("2023-02-29", 10, &y, &m, &d));
	assert_false(claims_date_parse("2023-13-01", 10, &y, &m, &d));
	assert_false(claims_date_parse("2023-00-01", 10, &y, &m, &d));
	assert_false(claims_date_parse("2023-04-31", 10, &y, &m, &d));
	assert_false(claims_date_parse("2023-04-00", 10, &y, &m, &d));
	assert_false(claims_date_parse("2023/04/01", 10, &y, &m, &d));
	assert_false(claims_date_parse("2023-04-1", 9, &y, &m, &d));
	assert_int_equal(claims_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(claims_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(claims_days_from_civil(2026, 6, 1) * 86400,
	    INT64_C(1780272000));
	assert_int_equal(claims_days_from_civil(1969, 12, 31), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_claim_table),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_pin_mismatch_claims),
		cmocka_unit_test(test_dates),
	};

	return cmocka_run_group_tests_name("claims", tests, NULL, NULL);
}
