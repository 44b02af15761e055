/*
 * tests/integration/test_eidd_verify.c -- a real eidd answers Verify and
 * VerifyBatch: a valid token of every algorithm is OK with its identity,
 * every broken kind eid-mint makes gets its own verdict, and Status
 * counts what happened.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "harness.h"
#include "helpers.h"
#include "kinds.h"

static struct th_eidd d;

static int
setup(void **state)
{
	(void)state;
	th_eidd_start(&d, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	/* A clean drain exits 0 (and, under ASan, with no leak report). */
	th_eidd_stop_ok(&d);
	return 0;
}

static const enum eid_alg every_alg[] = { EID_ALG_ES256, EID_ALG_ES384,
	EID_ALG_RS256, EID_ALG_PS256, EID_ALG_EDDSA };

static void
test_every_alg_ok(void **state)
{
	struct eid_client	*c;
	struct eid_verify_req	 q;
	struct eid_verify_res	 r;
	char			*tok, jti[32];
	size_t			 i;

	(void)state;
	c = th_client(&d, "rp-dichvucong");
	for (i = 0; i < sizeof(every_alg) / sizeof(every_alg[0]); i++) {
		snprintf(jti, sizeof(jti), "jti-alg-%zu", i);
		tok = th_token(every_alg[i], "dichvucong", jti);
		memset(&q, 0, sizeof(q));
		q.token = tok;
		q.token_len = strlen(tok);
		q.min_level = 2;
		assert_int_equal(eid_client_verify(c, &q, &r), EID_CLIENT_OK);
		if (r.verdict != EID_VERDICT_OK)
			fail_msg("%s: %s", eid_alg_name(every_alg[i]),
			    eid_verdict_name(r.verdict));
		assert_string_equal(r.sub, "001090012345");
		assert_string_equal(r.birthdate, "1990-05-17");
		assert_int_equal(r.gender, EID_GENDER_MALE);
		assert_int_equal(r.level, 2);
		assert_string_equal(r.token_id, jti);
		assert_string_equal(r.issuer, TH_ISS);
		assert_string_equal(r.key_id, th_dev_kid(every_alg[i]));
		assert_string_equal(r.algorithm, eid_alg_name(every_alg[i]));
		assert_string_equal(r.audience, "dichvucong");
		assert_true(r.expires_at > r.issued_at);
		assert_false(r.cached);
		free(tok);
	}
	eid_client_close(c);
}

static void
test_every_broken_kind(void **state)
{
	struct eid_client	*c;
	struct eid_verify_req	 q;
	struct eid_verify_res	 r;
	char			 args[256], *out;
	size_t			 i, j;
	int			 bad = 0;

	(void)state;
	c = th_client(&d, "rp-dichvucong");
	for (i = 0; i < NKINDS; i++)
		for (j = 0; j < NALGS; j++) {
			if ((out = th_kind_token(i, j, &q)) == NULL)
				continue;
			snprintf(args, sizeof(args), "--alg %s --kind %s",
			    algs[j], kinds[i].name);
			assert_int_equal(eid_client_verify(c, &q, &r),
			    EID_CLIENT_OK);
			if (r.verdict != kinds[i].want) {
				print_error("%s: got %s, want %s\n", args,
				    eid_verdict_name(r.verdict),
				    eid_verdict_name(kinds[i].want));
				bad++;
			}
			/* Identity only with OK: nothing leaks otherwise. */
			if (r.verdict != EID_VERDICT_OK && (r.sub[0] != '\0' ||
			    r.token_id[0] != '\0'))
				bad++;
			free(out);
		}
	eid_client_close(c);
	assert_int_equal(bad, 0);
}

static void
test_batch_in_order(void **state)
{
	struct eid_client	*c;
	struct eid_verify_req	 q[4];
	struct eid_verify_res	 r[4];
	char			*t[4];
	size_t			 i;

	(void)state;
	c = th_client(&d, "rp-dichvucong");
	t[0] = th_token(EID_ALG_ES256, "dichvucong", "b0");
	t[1] = th_token(EID_ALG_ES256, "bhxh", "b1");
	t[2] = th_token(EID_ALG_EDDSA, "dichvucong", "b2");
	t[3] = strdup("not.a.token");
	memset(q, 0, sizeof(q));
	for (i = 0; i < 4; i++) {
		q[i].token = t[i];
		q[i].token_len = strlen(t[i]);
	}
	assert_int_equal(eid_client_verify_batch(c, q, 4, r), EID_CLIENT_OK);
	assert_int_equal(r[0].verdict, EID_VERDICT_OK);
	assert_string_equal(r[0].token_id, "b0");
	assert_int_equal(r[1].verdict, EID_VERDICT_WRONG_AUDIENCE);
	assert_int_equal(r[2].verdict, EID_VERDICT_OK);
	assert_string_equal(r[2].token_id, "b2");
	assert_int_equal(r[3].verdict, EID_VERDICT_MALFORMED);
	for (i = 0; i < 4; i++)
		free(t[i]);
	eid_client_close(c);
}

/* An embedded NUL is part of the token verified, never a cut. */
static void
test_token_with_nul(void **state)
{
	struct eid_client	*c;
	struct eid_verify_req	 q;
	struct eid_verify_res	 r;
	char			*tok, *buf;
	size_t			 n;

	(void)state;
	c = th_client(&d, "rp-dichvucong");
	tok = th_token(EID_ALG_ES256, "dichvucong", "nul");
	n = strlen(tok);
	buf = malloc(n + 6);
	assert_non_null(buf);
	memcpy(buf, tok, n);
	memcpy(buf + n, "\0junk", 5);
	memset(&q, 0, sizeof(q));
	q.token = buf;
	q.token_len = n + 5;
	assert_int_equal(eid_client_verify(c, &q, &r), EID_CLIENT_OK);
	assert_int_equal(r.verdict, EID_VERDICT_MALFORMED);
	q.token_len = n;
	assert_int_equal(eid_client_verify(c, &q, &r), EID_CLIENT_OK);
	assert_int_equal(r.verdict, EID_VERDICT_OK);
	free(buf);
	free(tok);
	eid_client_close(c);
}

static void
test_status_counts(void **state)
{
	struct eid_client	*c;
	struct eid_status	 s0, s1;
	char			*tok;

	(void)state;
	c = th_client(&d, "admin");
	memset(&s0, 0, sizeof(s0));
	memset(&s1, 0, sizeof(s1));
	assert_int_equal(eid_client_status(c, &s0), EID_CLIENT_OK);
	assert_string_equal(s0.principal, "admin");
	assert_int_equal(s0.nkeys, 5);
	assert_int_equal(s0.workers, 2);
	eid_client_close(c);

	c = th_client(&d, "rp-bhxh");
	tok = th_token(EID_ALG_ES256, "bhxh", "count");
	assert_int_equal(th_verify(c, tok, "bhxh"), EID_VERDICT_OK);
	assert_int_equal(th_verify(c, "x.y.z", "bhxh"),
	    EID_VERDICT_MALFORMED);
	free(tok);
	eid_client_close(c);
	c = th_client(&d, "admin");
	assert_int_equal(eid_client_status(c, &s1), EID_CLIENT_OK);
	assert_int_equal(s1.verdicts[EID_VERDICT_OK],
	    s0.verdicts[EID_VERDICT_OK] + 1);
	assert_int_equal(s1.verdicts[EID_VERDICT_MALFORMED],
	    s0.verdicts[EID_VERDICT_MALFORMED] + 1);
	assert_true(s1.requests_total >= s0.requests_total + 3);
	assert_true(s1.connections_total >= s0.connections_total + 1);
	eid_status_clear(&s0);
	eid_status_clear(&s1);
	eid_client_close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_alg_ok),
		cmocka_unit_test(test_every_broken_kind),
		cmocka_unit_test(test_batch_in_order),
		cmocka_unit_test(test_token_with_nul),
		cmocka_unit_test(test_status_counts),
	};

	return cmocka_run_group_tests_name("eidd_verify", tests, setup,
	    teardown);
}
