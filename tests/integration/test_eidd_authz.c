/*
 * tests/integration/test_eidd_authz.c -- who may talk to eidd, and who may
 * do what: no client certificate, a certificate of another CA (even with
 * a mapped subject), an expired one, an unmapped one, a relying party
 * asking for another party's audience, a relying party revoking.
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
 * A client the server must refuse: either the handshake fails, or (TLS
 * 1.3 finishes the client's side first) the first request does.
 */
static void
refused(const char *name)
{
	struct eid_client	*c;
	struct eid_verify_req	 q;
	struct eid_verify_res	 r;
	enum eid_client_err	 e;
	char			 err[256], *tok;

	c = th_client_try(&d, name, &e, err, sizeof(err));
	if (c == NULL) {
		assert_true(e == EID_CLIENT_ERR_TLS || e == EID_CLIENT_ERR_IO);
		return;
	}
	tok = th_token(EID_ALG_ES256, "dichvucong", "refused");
	memset(&q, 0, sizeof(q));
	q.token = tok;
	q.token_len = strlen(tok);
	e = eid_client_verify(c, &q, &r);
	if (e == EID_CLIENT_OK || e == EID_CLIENT_ERR_SERVER)
		fail_msg("%s was served", name != NULL ? name : "(no cert)");
	free(tok);
	eid_client_close(c);
}

static void
test_no_client_certificate(void **state)
{
	struct th_raw	 r;
	char		 buf[16];
	bool		 closed;

	(void)state;
	/*
	 * At the TLS level (the client library insists on a certificate):
	 * the server ends the connection before any request is read.
	 */
	if (th_raw_connect(&r, &d, NULL)) {
		th_raw_write(&r, "\0\0\0\1x", 5);
		assert_int_equal(th_raw_read(&r, buf, sizeof(buf), 5000,
		    &closed), 0);
		assert_true(closed);
	}
	th_raw_close(&r);
	assert_true(th_eidd_log_has(&d, "event=handshake_failed", 5000));
}

static void
test_other_ca_same_subject(void **state)
{
	(void)state;
	/* Same DN as rp-dichvucong, issued by another CA. */
	refused("test/rp-dichvucong-fake");
}

static void
test_expired_client_certificate(void **state)
{
	(void)state;
	refused("test/client-expired");
}

static void
expect_forbidden(struct eid_client *c, const char *tok, const char *aud)
{
	struct eid_verify_req	 q;
	struct eid_verify_res	 r;

	memset(&q, 0, sizeof(q));
	q.token = tok;
	q.token_len = strlen(tok);
	q.audience = aud;
	assert_int_equal(eid_client_verify(c, &q, &r), EID_CLIENT_ERR_SERVER);
	assert_int_equal(eid_client_server_error(c)->code,
	    EID_SERVER_FORBIDDEN);
}

static void
test_other_partys_audience(void **state)
{
	struct eid_client	*c;
	char			*tok;

	(void)state;
	tok = th_token(EID_ALG_ES256, "dichvucong", "aud-a");
	c = th_client(&d, "rp-bhxh");
	expect_forbidden(c, tok, "dichvucong");
	/* Its own audience: a verification, and the token is not for it. */
	assert_int_equal(th_verify(c, tok, "bhxh"),
	    EID_VERDICT_WRONG_AUDIENCE);
	/* No audience: the principal's first. */
	assert_int_equal(th_verify(c, tok, NULL), EID_VERDICT_WRONG_AUDIENCE);
	eid_client_close(c);
	c = th_client(&d, "rp-dichvucong");
	assert_int_equal(th_verify(c, tok, NULL), EID_VERDICT_OK);
	eid_client_close(c);
	free(tok);
}

static void
test_unmapped_certificate(void **state)
{
	struct eid_client	*c;
	struct eid_status	 s;
	char			*tok;

	(void)state;
	tok = th_token(EID_ALG_ES256, "dichvucong", "unmapped");
	c = th_client(&d, "test/rp-unmapped");
	expect_forbidden(c, tok, "dichvucong");
	/* ... and the connection is closed: it could do nothing else. */
	memset(&s, 0, sizeof(s));
	assert_int_not_equal(eid_client_status(c, &s), EID_CLIENT_OK);
	eid_client_close(c);
	c = th_client(&d, "test/rp-unmapped");
	assert_int_equal(eid_client_status(c, &s), EID_CLIENT_ERR_SERVER);
	assert_int_equal(eid_client_server_error(c)->code,
	    EID_SERVER_FORBIDDEN);
	eid_client_close(c);
	/* Status is for operators, not relying parties. */
	c = th_client(&d, "rp-dichvucong");
	assert_int_equal(eid_client_status(c, &s), EID_CLIENT_ERR_SERVER);
	assert_int_equal(eid_client_server_error(c)->code,
	    EID_SERVER_FORBIDDEN);
	eid_client_close(c);
	free(tok);
	assert_true(th_eidd_log_has(&d, "event=unmapped_peer", 5000));
}

static void
test_relying_party_revokes(void **state)
{
	struct eid_client	*c;
	struct eid_revoke_req	 rv;
	uint64_t		 seq = 0;

	(void)state;
	memset(&rv, 0, sizeof(rv));
	rv.kind = EID_REVOKE_TOKEN;
	rv.value = "some-jti";
	c = th_client(&d, "rp-dichvucong");
	assert_int_equal(eid_client_revoke(c, &rv, &seq),
	    EID_CLIENT_ERR_SERVER);
	assert_int_equal(eid_client_server_error(c)->code,
	    EID_SERVER_FORBIDDEN);
	eid_client_close(c);
	/* An admin may. */
	c = th_client(&d, "admin");
	assert_int_equal(eid_client_revoke(c, &rv, &seq), EID_CLIENT_OK);
	assert_true(seq >= 1);
	eid_client_close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_client_certificate),
		cmocka_unit_test(test_other_ca_same_subject),
		cmocka_unit_test(test_expired_client_certificate),
		cmocka_unit_test(test_other_partys_audience),
		cmocka_unit_test(test_unmapped_certificate),
		cmocka_unit_test(test_relying_party_revokes),
	};

	return cmocka_run_group_tests_name("eidd_authz", tests, setup,
	    teardown);
}
