/*
 * tests/unit/crypto/test_b64url.c -- strict base64url and base64: RFC
 * 4648 known answers, canonical-only decoding (SECURITY.md 3.6, 3.13),
 * and bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "crypto.h"

/* RFC 4648 section 10 vectors, in the URL-safe alphabet without padding. */
static void
test_known_answers(void **state)
{
	static const char *const in[] = {
		"", "f", "fo", "foo", "foob", "fooba", "foobar"
	};
	static const char *const out[] = {
		"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"
	};
	char		 enc[32];
	unsigned char	 dec[32];
	size_t		 i, n;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		n = eid_b64url_encode(in[i], strlen(in[i]), enc, sizeof(enc));
		assert_int_equal(n, strlen(out[i]));
		assert_string_equal(enc, out[i]);
		assert_int_equal(EID_B64URL_LEN(strlen(in[i])), n);
		n = eid_b64url_decode(out[i], strlen(out[i]), dec, sizeof(dec));
		assert_int_equal(n, strlen(in[i]));
		assert_memory_equal(dec, in[i], n);
	}
}

/* The two characters that differ from standard base64. */
static void
test_url_alphabet(void **state)
{
	const unsigned char	 raw[] = { 0xfb, 0xff, 0xbf };
	char			 enc[8];
	unsigned char		 dec[8];

	(void)state;
	assert_int_equal(eid_b64url_encode(raw, 3, enc, sizeof(enc)), 4);
	assert_string_equal(enc, "-_-_");
	assert_int_equal(eid_b64url_decode("-_-_", 4, dec, sizeof(dec)), 3);
	assert_memory_equal(dec, raw, 3);
	/* Standard-alphabet characters are not base64url. */
	assert_int_equal(eid_b64url_decode("+/+/", 4, dec, sizeof(dec)),
	    (size_t)-1);
}

static void
test_rejects_non_canonical(void **state)
{
	static const char *const bad[] = {
		"Zg==",		/* padding */
		"Zm9v=",
		"Z",		/* length 1 mod 4 */
		"Zm9vY",
		"Zh",		/* non-zero unused bits: "Zg" is canonical */
		"Zm8",		/* canonical "fo" */
		"Zm-",		/* unused bits set */
		"Zm 9v",	/* whitespace */
		"Zm9v\n",
		"Zm9v.",
		"Zm?v",		/* Wycheproof 372/373 shape */
		"Zm#v",
		"Zm\x80v",
	};
	static const bool ok[] = {
		false, false, false, false, false, true, false, false, false,
		false, false, false, false
	};
	unsigned char	 dec[16];
	size_t		 i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = eid_b64url_decode(bad[i], strlen(bad[i]), dec, sizeof(dec));
		if (ok[i])
			assert_int_not_equal(n, (size_t)-1);
		else if (n != (size_t)-1)
			fail_msg("accepted non-canonical \"%s\"", bad[i]);
	}
}

/* Every last-character variant decodes for exactly one spelling. */
static void
test_one_spelling(void **state)
{
	const char	*alpha =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char		 s[4];
	unsigned char	 dec[4];
	int		 i, accepted2 = 0, accepted3 = 0;

	(void)state;
	for (i = 0; i < 64; i++) {
		s[0] = 'Q';
		s[1] = alpha[i];
		if (eid_b64url_decode(s, 2, dec, sizeof(dec)) != (size_t)-1)
			accepted2++;
		s[1] = 'Q';
		s[2] = alpha[i];
		if (eid_b64url_decode(s, 3, dec, sizeof(dec)) != (size_t)-1)
			accepted3++;
	}
	/* 2 chars carry 8 bits: 4 of 6 bits used, so 4 of 64 finals. */
	assert_int_equal(accepted2, 4);
	/* 3 chars carry 16 bits: 4 of 6 bits used in the last, 16 of 64. */
	assert_int_equal(accepted3, 16);
}

/*
 * Every byte value at every position of whole groups: accepted exactly
 * when it is in the alphabet, and then decoded to the bits it stands for.
 */
static void
test_every_byte(void **state)
{
	const char	*alpha =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char		 s[8];
	unsigned char	 dec[8];
	const char	*at;
	size_t		 pos, n;
	unsigned int	 c, v, bit;

	(void)state;
	for (pos = 0; pos < sizeof(s); pos++)
		for (c = 0; c < 256; c++) {
			memcpy(s, "QUJDREVG", sizeof(s));	/* "ABCDEF" */
			s[pos] = (char)c;
			n = eid_b64url_decode(s, sizeof(s), dec, sizeof(dec));
			at = c != 0 ? strchr(alpha, (int)c) : NULL;
			if (at == NULL) {
				if (n != (size_t)-1)
					fail_msg("byte 0x%02x at %zu accepted",
					    c, pos);
				continue;
			}
			assert_int_equal(n, 6);
			/* The six bits of position pos hold at - alpha. */
			v = 0;
			for (bit = 0; bit < 6; bit++) {
				size_t	 b = pos * 6 + bit;

				v = v << 1 | ((dec[b / 8] >> (7 - b % 8)) & 1);
			}
			assert_int_equal(v, (unsigned int)(at - alpha));
		}
}

static void
test_bounds(void **state)
{
	unsigned char	 dec[2];
	char		 enc[4];

	(void)state;
	/* Output too small: refused, never truncated. */
	assert_int_equal(eid_b64url_decode("Zm9v", 4, dec, 2), (size_t)-1);
	assert_int_equal(eid_b64url_encode("foo", 3, enc, 4), (size_t)-1);
	assert_int_equal(eid_b64url_encode("fo", 2, enc, 4), 3);
	assert_int_equal(eid_b64url_decode(NULL, 0, dec, 2), (size_t)-1);
}

static void
test_std_base64(void **state)
{
	unsigned char	 dec[16];

	(void)state;
	assert_int_equal(eid_b64_decode("Zm9vYg==", 8, dec, sizeof(dec)), 4);
	assert_memory_equal(dec, "foob", 4);
	assert_int_equal(eid_b64_decode("Zm9vYmE=", 8, dec, sizeof(dec)), 5);
	assert_int_equal(eid_b64_decode("+/+/", 4, dec, sizeof(dec)), 3);
	/* Missing or excess padding, URL alphabet, inner '=' are refused. */
	assert_int_equal(eid_b64_decode("Zm9vYg", 6, dec, sizeof(dec)),
	    (size_t)-1);
	assert_int_equal(eid_b64_decode("Zm9vY===", 8, dec, sizeof(dec)),
	    (size_t)-1);
	assert_int_equal(eid_b64_decode("-_-_", 4, dec, sizeof(dec)),
	    (size_t)-1);
	assert_int_equal(eid_b64_decode("Zg=v", 4, dec, sizeof(dec)),
	    (size_t)-1);
	assert_int_equal(eid_b64_decode("Zh==", 4, dec, sizeof(dec)),
	    (size_t)-1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_url_alphabet),
		cmocka_unit_test(test_rejects_non_canonical),
		cmocka_unit_test(test_one_spelling),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_std_base64),
	};

	return cmocka_run_group_tests_name("b64url", tests, NULL, NULL);
}
