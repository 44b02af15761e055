/*
 * tests/integration/test_mint.c -- eid-mint and the verifier agree: every
 * valid kind verifies for every algorithm, every broken kind gets its own
 * verdict, identities are consistent, --seed is reproducible, and the
 * command line refuses bad values.  Runs the real eid-mint binary
 * ($EID_BUILD/bin/eid-mint) against the development PKI.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "helpers.h"

static struct eid_keyset *ks;

#include "kinds.h"

static int
setup(void **state)
{
	(void)state;
	ks = th_dev_keyset((int64_t)time(NULL));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	eid_keyset_unref(ks);
	return 0;
}

static enum eid_verdict
verify_line(const char *tok, const struct kind *k, struct eid_assertion *a)
{
	struct eid_request	 r = { "dichvucong", k->min_level, k->nonce };

	return eid_verify(ks, tok, strlen(tok), &r, &th_policy,
	    (int64_t)time(NULL), a);
}

static void
test_every_kind_every_alg(void **state)
{
	struct eid_assertion	 a;
	char			 args[256], *out, *nl;
	size_t			 i, j;
	int			 st, bad = 0;
	enum eid_verdict	 v;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		for (j = 0; j < sizeof(algs) / sizeof(algs[0]); j++) {
			snprintf(args, sizeof(args), "--alg %s --kind %s",
			    algs[j], kinds[i].name);
			out = th_run_mint(args, &st);
			if (kinds[i].ec_only && strncmp(algs[j], "ES", 2) != 0) {
				/* refused as a usage error, nothing printed */
				if (WEXITSTATUS(st) != 2 || out[0] != '\0')
					bad++;
				free(out);
				continue;
			}
			if (st != 0 || (nl = strchr(out, '\n')) == NULL) {
				print_error("%s: eid-mint failed\n", args);
				bad++;
				free(out);
				continue;
			}
			*nl = '\0';
			v = verify_line(out, &kinds[i], &a);
			if (v != kinds[i].want) {
				print_error("%s: got %s, want %s\n", args,
				    eid_verdict_name(v),
				    eid_verdict_name(kinds[i].want));
				bad++;
			}
			free(out);
		}
	assert_int_equal(bad, 0);
}

/* --list-kinds names at least every kind this test knows. */
static void
test_list_kinds(void **state)
{
	char	*out, key[64];
	size_t	 i;
	int	 st;

	(void)state;
	out = th_run_mint("--list-kinds", &st);
	assert_int_equal(st, 0);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(key, sizeof(key), "%s %s", kinds[i].name,
		    eid_verdict_name(kinds[i].want));
		if (strstr(out, key) == NULL)
			fail_msg("--list-kinds lacks \"%s\"", key);
	}
	free(out);
}

/* A corpus: every token distinct, every identity consistent. */
static void
test_corpus(void **state)
{
	struct eid_assertion	 a;
	char			*out, *line, *save = NULL;
	char			 jtis[200][EID_JTI_MAX + 1];
	int			 st, n = 0, i;

	(void)state;
	out = th_run_mint("--alg EdDSA --count 200", &st);
	assert_int_equal(st, 0);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_true(n < 200);
		assert_int_equal(verify_line(line, &kinds[0], &a),
		    EID_VERDICT_OK);
		assert_true(eid_pin_is_valid(a.sub, a.birthdate, a.gender));
		for (i = 0; i < n; i++)
			assert_string_not_equal(jtis[i], a.jti);
		memcpy(jtis[n++], a.jti, sizeof(jtis[0]));
	}
	assert_int_equal(n, 200);
	free(out);
}

static void
test_options(void **state)
{
	struct eid_assertion	 a;
	struct kind		 k = { "x", EID_VERDICT_OK, 0, "n-42", false };
	char			*o1, *o2, *nl;
	int			 st;

	(void)state;
	/* --seed and --now: identical output twice */
	o1 = th_run_mint("--seed 42 --now 1780272000 --count 3", &st);
	assert_int_equal(st, 0);
	o2 = th_run_mint("--seed 42 --now 1780272000 --count 3", &st);
	assert_int_equal(st, 0);
	assert_string_equal(o1, o2);
	free(o1);
	free(o2);
	/* chosen subject, audience, level, nonce, ttl */
	o1 = th_run_mint("--sub 079190000001 --aud bhxh --level 1 --nonce n-42 "
	    "--ttl 120 --alg PS256", &st);
	assert_int_equal(st, 0);
	assert_non_null(nl = strchr(o1, '\n'));
	*nl = '\0';
	{
		struct eid_request	 r = { "bhxh", 1, "n-42" };

		assert_int_equal(eid_verify(ks, o1, strlen(o1), &r,
		    &th_policy, (int64_t)time(NULL), &a), EID_VERDICT_OK);
	}
	assert_string_equal(a.sub, "079190000001");
	assert_int_equal(a.gender, EID_GENDER_FEMALE);
	assert_memory_equal(a.birthdate, "1990", 4);
	assert_int_equal(a.level, 1);
	assert_int_equal(a.exp - a.iat, 120);
	(void)k;
	free(o1);
}

static void
test_usage_errors(void **state)
{
	static const char *const bad[] = {
		"--alg HS256", "--alg es256", "--kind nope", "--count 0",
		"--count -1", "--count 10x", "--count 99999999999",
		"--ttl 0", "--ttl 86401", "--level 3", "--sub 12345",
		"--sub 00109001234x", "--sub 000090012345", "--bogus",
		"--count", "--now abc"
	};
	char	*out;
	size_t	 i;
	int	 st;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = th_run_mint(bad[i], &st);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 2 || out[0] != '\0')
			fail_msg("\"%s\" accepted or wrong status %d", bad[i],
			    WEXITSTATUS(st));
		free(out);
	}
	/* a missing key directory is a runtime error, not usage */
	out = th_run_mint("--certs /nonexistent", &st);
	assert_int_equal(WEXITSTATUS(st), 1);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_every_alg),
		cmocka_unit_test(test_list_kinds),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_usage_errors),
	};

	return cmocka_run_group_tests_name("mint", tests, setup, teardown);
}
