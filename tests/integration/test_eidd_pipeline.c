/*
 * tests/integration/test_eidd_pipeline.c -- 10,000 pipelined verifies on
 * one connection come back complete and in order; 200 concurrent
 * connections are served.
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

#define PIPELINE_N	10000
#define WINDOW		512
#define CONNS		200

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
	th_eidd_stop_ok(&d);
	return 0;
}

/*
 * Every token has its own jti, so each answer names the request it
 * belongs to; the client also checks that each response echoes the id of
 * the oldest outstanding request.  A window bounds what is in flight, as
 * any pipelining client must: the server stops reading a connection whose
 * answers are not being read.
 */
static void
test_ten_thousand_in_order(void **state)
{
	struct eid_client	*c;
	struct eid_verify_req	 q;
	struct eid_verify_res	 r;
	char			**tok, jti[32];
	size_t			 sent = 0, got = 0, i;

	(void)state;
	tok = calloc(PIPELINE_N, sizeof(*tok));
	assert_non_null(tok);
	for (i = 0; i < PIPELINE_N; i++) {
		snprintf(jti, sizeof(jti), "p-%zu", i);
		tok[i] = th_token(EID_ALG_ES256, "dichvucong", jti);
	}
	c = th_client(&d, "rp-dichvucong");
	memset(&q, 0, sizeof(q));
	while (got < PIPELINE_N) {
		while (sent < PIPELINE_N && sent - got < WINDOW) {
			q.token = tok[sent];
			q.token_len = strlen(tok[sent]);
			assert_int_equal(eid_client_send_verify(c, &q),
			    EID_CLIENT_OK);
			sent++;
		}
		assert_int_equal(eid_client_flush(c), EID_CLIENT_OK);
		assert_int_equal(eid_client_recv_verify(c, &r), EID_CLIENT_OK);
		snprintf(jti, sizeof(jti), "p-%zu", got);
		if (r.verdict != EID_VERDICT_OK || strcmp(r.token_id, jti) != 0)
			fail_msg("answer %zu: %s %s", got,
			    eid_verdict_name(r.verdict), r.token_id);
		got++;
	}
	eid_client_close(c);
	for (i = 0; i < PIPELINE_N; i++)
		free(tok[i]);
	free(tok);
}

static void
test_two_hundred_connections(void **state)
{
	struct eid_client	**c, *adm;
	struct eid_status	 s;
	char			*tok;
	size_t			 i;
	int			 round;

	(void)state;
	c = calloc(CONNS, sizeof(*c));
	assert_non_null(c);
	tok = th_token(EID_ALG_EDDSA, "dichvucong", "conns");
	for (i = 0; i < CONNS; i++)
		c[i] = th_client(&d, "rp-dichvucong");
	for (round = 0; round < 2; round++)
		for (i = 0; i < CONNS; i++)
			assert_int_equal(th_verify(c[i], tok, "dichvucong"),
			    EID_VERDICT_OK);
	memset(&s, 0, sizeof(s));
	adm = th_client(&d, "admin");
	assert_int_equal(eid_client_status(adm, &s), EID_CLIENT_OK);
	assert_int_equal(s.connections_open, CONNS + 1);
	eid_status_clear(&s);
	eid_client_close(adm);
	for (i = 0; i < CONNS; i++)
		eid_client_close(c[i]);
	free(c);
	free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ten_thousand_in_order),
		cmocka_unit_test(test_two_hundred_connections),
	};

	return cmocka_run_group_tests_name("eidd_pipeline", tests, setup,
	    teardown);
}
