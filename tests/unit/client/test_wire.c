/*
 * tests/unit/client/test_wire.c -- the client's wire module: Request
 * frames decode to what was asked, Response frames translate into the
 * structs of eid/client.h, and every malformed answer (truncated or
 * oversized frames, garbage, another oneof or id, out-of-range values,
 * strings longer than their field) is a protocol error, never truncated;
 * for the revocation batch and list, also a wrong number of sequence
 * numbers, more entries than asked, unknown kinds and entries out of
 * order.  Also "host:port" parsing and the small public helpers, and the
 * certificate chain a client context sends: its issuers without the root,
 * or, when they reach no anchor of its CA file, what OpenSSL sent before.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "eid.pb-c.h"
#include "wire.h"

/* Pack a Response body into a malloc'd buffer. */
static uint8_t *
pack_response(const Eid__V1__Response *resp, size_t *len)
{
	uint8_t	*p;

	*len = eid__v1__response__get_packed_size(resp);
	p = malloc(*len != 0 ? *len : 1);
	assert_non_null(p);
	assert_int_equal(eid__v1__response__pack(resp, p), *len);
	return p;
}

/* Decode a packed Response expecting a verify answer to id. */
static enum eid_client_err
decode_verify(const Eid__V1__Response *resp, uint64_t id,
    struct eid_verify_res *res, struct wire_answer *ans)
{
	enum eid_client_err	 e;
	uint8_t			*p;
	char			 err[256];
	size_t			 len;

	p = pack_response(resp, &len);
	memset(ans, 0, sizeof(*ans));
	ans->expect = WIRE_BODY_VERIFY;
	ans->id = id;
	ans->res = res;
	ans->nres = 1;
	e = wire_decode(p, len, ans, err, sizeof(err));
	free(p);
	return e;
}

/* Take the one frame of buf apart into a Request. */
static Eid__V1__Request *
unpack_request(const struct wire_buf *buf)
{
	size_t	 blen = 0;

	assert_int_equal(wire_frame_peek(buf->data, buf->len, &blen, NULL,
	    0), 1);
	assert_int_equal(buf->len, WIRE_HDR_LEN + blen);
	return eid__v1__request__unpack(NULL, blen, buf->data + WIRE_HDR_LEN);
}

static void
test_encode_verify(void **state)
{
	struct eid_verify_req	 req;
	struct wire_buf		 buf;
	Eid__V1__Request	*r;
	char			 tok[] = "eyJ.a\0b.sig";

	(void)state;
	wire_buf_init(&buf);
	memset(&req, 0, sizeof(req));
	/* Bytes on the wire: an embedded NUL travels, the server judges. */
	req.token = tok;
	req.token_len = sizeof(tok) - 1;
	req.audience = "dichvucong";
	req.min_level = 2;
	req.consume = true;
	req.nonce = "n-1";
	assert_int_equal(wire_encode_verify(&buf, 77, &req, NULL, 0),
	    EID_CLIENT_OK);
	r = unpack_request(&buf);
	assert_non_null(r);
	assert_int_equal(r->id, 77);
	assert_int_equal(r->body_case, EID__V1__REQUEST__BODY_VERIFY);
	assert_int_equal(r->verify->token.len, sizeof(tok) - 1);
	assert_memory_equal(r->verify->token.data, tok, sizeof(tok) - 1);
	assert_int_equal(r->verify->audience.len, strlen("dichvucong"));
	assert_memory_equal(r->verify->audience.data, "dichvucong",
	    strlen("dichvucong"));
	assert_int_equal(r->verify->min_level, 2);
	assert_true(r->verify->consume);
	assert_int_equal(r->verify->nonce.len, 3);
	assert_memory_equal(r->verify->nonce.data, "n-1", 3);
	eid__v1__request__free_unpacked(r, NULL);

	/* NULL audience and nonce are sent empty. */
	buf.len = 0;
	req.audience = NULL;
	req.nonce = NULL;
	assert_int_equal(wire_encode_verify(&buf, 1, &req, NULL, 0),
	    EID_CLIENT_OK);
	r = unpack_request(&buf);
	assert_non_null(r);
	assert_int_equal(r->verify->audience.len, 0);
	assert_int_equal(r->verify->nonce.len, 0);
	eid__v1__request__free_unpacked(r, NULL);
	wire_buf_reset(&buf);
}

static void
test_encode_verify_limits(void **state)
{
	static char		 big[EID_TOKEN_MAX + 1];
	char			 aud[EID_AUD_MAX + 2], nonce[EID_NONCE_MAX + 2];
	struct eid_verify_req	 req;
	struct wire_buf		 buf;
	char			 err[128];

	(void)state;
	wire_buf_init(&buf);
	memset(big, 'a', sizeof(big));
	memset(&req, 0, sizeof(req));
	req.token = big;
	req.token_len = EID_TOKEN_MAX;
	assert_int_equal(wire_encode_verify(&buf, 1, &req, err, sizeof(err)),
	    EID_CLIENT_OK);
	/* id (2 bytes), verify tag and length (1 + 3), token (1 + 3 + n). */
	assert_int_equal(buf.len, WIRE_HDR_LEN + 2 + 1 + 3 + 1 + 3 +
	    EID_TOKEN_MAX);
	buf.len = 0;

	/* Each refusal leaves the buffer as it was. */
	req.token_len = EID_TOKEN_MAX + 1;
	assert_int_equal(wire_encode_verify(&buf, 1, &req, err, sizeof(err)),
	    EID_CLIENT_ERR_USAGE);
	req.token_len = 0;
	assert_int_equal(wire_encode_verify(&buf, 1, &req, err, sizeof(err)),
	    EID_CLIENT_ERR_USAGE);
	req.token_len = 3;
	req.min_level = 3;
	assert_int_equal(wire_encode_verify(&buf, 1, &req, err, sizeof(err)),
	    EID_CLIENT_ERR_USAGE);
	req.min_level = -1;
	assert_int_equal(wire_encode_verify(&buf, 1, &req, err, sizeof(err)),
	    EID_CLIENT_ERR_USAGE);
	req.min_level = 0;
	memset(aud, 'x', sizeof(aud) - 1);
	aud[sizeof(aud) - 1] = '\0';
	req.audience = aud;
	assert_int_equal(wire_encode_verify(&buf, 1, &req, err, sizeof(err)),
	    EID_CLIENT_ERR_USAGE);
	req.audience = NULL;
	memset(nonce, 'x', sizeof(nonce) - 1);
	nonce[sizeof(nonce) - 1] = '\0';
	req.nonce = nonce;
	assert_int_equal(wire_encode_verify(&buf, 1, &req, err, sizeof(err)),
	    EID_CLIENT_ERR_USAGE);
	assert_int_equal(wire_encode_verify(&buf, 1, NULL, err, sizeof(err)),
	    EID_CLIENT_ERR_USAGE);
	assert_int_equal(buf.len, 0);
	wire_buf_reset(&buf);
}

static void
test_encode_batch(void **state)
{
	static struct eid_verify_req	 reqs[WIRE_BATCH_MAX + 1];
	struct wire_buf			 buf;
	Eid__V1__Request		*r;
	size_t				 i;

	(void)state;
	wire_buf_init(&buf);
	for (i = 0; i < WIRE_BATCH_MAX + 1; i++) {
		reqs[i].token = i % 2 ? "odd" : "even";
		reqs[i].token_len = strlen(reqs[i].token);
		reqs[i].min_level = (int)(i % 3);
	}
	assert_int_equal(wire_encode_verify_batch(&buf, 5, reqs, 3, NULL, 0),
	    EID_CLIENT_OK);
	r = unpack_request(&buf);
	assert_non_null(r);
	assert_int_equal(r->body_case, EID__V1__REQUEST__BODY_VERIFY_BATCH);
	assert_int_equal(r->verify_batch->n_items, 3);
	assert_int_equal(r->verify_batch->items[1]->token.len, 3);
	assert_memory_equal(r->verify_batch->items[1]->token.data, "odd", 3);
	assert_int_equal(r->verify_batch->items[2]->min_level, 2);
	eid__v1__request__free_unpacked(r, NULL);
	buf.len = 0;
	assert_int_equal(wire_encode_verify_batch(&buf, 5, reqs, 0, NULL, 0),
	    EID_CLIENT_ERR_USAGE);
	assert_int_equal(wire_encode_verify_batch(&buf, 5, reqs,
	    WIRE_BATCH_MAX + 1, NULL, 0), EID_CLIENT_ERR_USAGE);
	assert_int_equal(wire_encode_verify_batch(&buf, 5, reqs,
	    WIRE_BATCH_MAX, NULL, 0), EID_CLIENT_OK);
	wire_buf_reset(&buf);
}

static void
test_encode_batch_frame_limit(void **state)
{
	static char			 tok[EID_TOKEN_MAX];
	struct eid_verify_req		 reqs[5];
	struct wire_buf			 buf;
	size_t				 i;

	(void)state;
	/* Five maximal tokens do not fit one 64 KiB frame. */
	memset(tok, 'a', sizeof(tok));
	for (i = 0; i < 5; i++) {
		memset(&reqs[i], 0, sizeof(reqs[i]));
		reqs[i].token = tok;
		reqs[i].token_len = sizeof(tok);
	}
	wire_buf_init(&buf);
	assert_int_equal(wire_encode_verify_batch(&buf, 1, reqs, 5, NULL, 0),
	    EID_CLIENT_ERR_USAGE);
	assert_int_equal(buf.len, 0);
	wire_buf_reset(&buf);
}

static void
test_encode_revoke_status(void **state)
{
	struct eid_revoke_req	 req;
	struct wire_buf		 buf;
	Eid__V1__Request	*r;
	char			 value[130];

	(void)state;
	wire_buf_init(&buf);
	memset(&req, 0, sizeof(req));
	req.kind = EID_REVOKE_SUBJECT;
	req.value = "001234567345";
	req.issued_before = 1700000000;
	req.reason = "lost card";
	req.expires_at = 1800000000;
	assert_int_equal(wire_encode_revoke(&buf, 9, &req, NULL, 0),
	    EID_CLIENT_OK);
	r = unpack_request(&buf);
	assert_non_null(r);
	assert_int_equal(r->body_case, EID__V1__REQUEST__BODY_REVOKE);
	assert_int_equal(r->revoke->kind,
	    EID__V1__REVOKE_KIND__REVOKE_SUBJECT);
	assert_string_equal(r->revoke->value, "001234567345");
	assert_string_equal(r->revoke->issuer, "");
	assert_string_equal(r->revoke->reason, "lost card");
	assert_int_equal(r->revoke->issued_before, 1700000000);
	assert_int_equal(r->revoke->expires_at, 1800000000);
	eid__v1__request__free_unpacked(r, NULL);
	buf.len = 0;

	req.kind = (enum eid_revoke_kind)0;
	assert_int_equal(wire_encode_revoke(&buf, 9, &req, NULL, 0),
	    EID_CLIENT_ERR_USAGE);
	req.kind = EID_REVOKE_TOKEN;
	req.value = "";
	assert_int_equal(wire_encode_revoke(&buf, 9, &req, NULL, 0),
	    EID_CLIENT_ERR_USAGE);
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	req.value = value;
	assert_int_equal(wire_encode_revoke(&buf, 9, &req, NULL, 0),
	    EID_CLIENT_ERR_USAGE);
	assert_int_equal(buf.len, 0);

	assert_int_equal(wire_encode_status(&buf, 10, NULL, 0),
	    EID_CLIENT_OK);
	r = unpack_request(&buf);
	assert_non_null(r);
	assert_int_equal(r->id, 10);
	assert_int_equal(r->body_case, EID__V1__REQUEST__BODY_STATUS);
	eid__v1__request__free_unpacked(r, NULL);
	wire_buf_reset(&buf);
}

static void
test_frame_peek(void **state)
{
	uint8_t	 f[8] = { 0, 0, 0, 4, 1, 2, 3, 4 };
	size_t	 blen = 0;
	char	 err[128];

	(void)state;
	/* Truncated header or body: wait for more. */
	assert_int_equal(wire_frame_peek(f, 0, &blen, err, sizeof(err)), 0);
	assert_int_equal(wire_frame_peek(f, 3, &blen, err, sizeof(err)), 0);
	assert_int_equal(wire_frame_peek(f, 7, &blen, err, sizeof(err)), 0);
	assert_int_equal(wire_frame_peek(f, 8, &blen, err, sizeof(err)), 1);
	assert_int_equal(blen, 4);
	/* Length 0, 65537 and 2^31 are refused from the header alone. */
	memcpy(f, "\0\0\0\0", 4);
	assert_int_equal(wire_frame_peek(f, 4, &blen, err, sizeof(err)), -1);
	memcpy(f, "\0\1\0\1", 4);
	assert_int_equal(wire_frame_peek(f, 4, &blen, err, sizeof(err)), -1);
	memcpy(f, "\x80\0\0\0", 4);
	assert_int_equal(wire_frame_peek(f, 8, &blen, err, sizeof(err)), -1);
	/* 65536 is the largest frame. */
	memcpy(f, "\0\1\0\0", 4);
	assert_int_equal(wire_frame_peek(f, 8, &blen, err, sizeof(err)), 0);
}

static void
test_decode_verify_ok(void **state)
{
	Eid__V1__Response	 resp;
	Eid__V1__VerifyResult	 vr;
	Eid__V1__Identity	 id;
	struct eid_verify_res	 res;
	struct wire_answer	 ans;
	char			 sub[] = "001234567345", name[] = "Nguyễn Văn A",
				 bd[] = "1990-01-02", tid[] = "jti-1",
				 iss[] = "https://idp.example", kid[] = "k1",
				 alg[] = "ES256", aud[] = "dichvucong";

	(void)state;
	eid__v1__response__init(&resp);
	eid__v1__verify_result__init(&vr);
	eid__v1__identity__init(&id);
	id.sub = sub;
	id.name = name;
	id.birthdate = bd;
	id.gender = EID__V1__GENDER__GENDER_FEMALE;
	id.level = 2;
	vr.verdict = EID__V1__VERDICT__VERDICT_OK;
	vr.identity = &id;
	vr.issued_at = 1700000000;
	vr.expires_at = 1700003600;
	vr.not_before = 1699999999;
	vr.token_id = tid;
	vr.issuer = iss;
	vr.key_id = kid;
	vr.cached = 1;
	vr.algorithm = alg;
	vr.audience = aud;
	resp.id = 3;
	resp.body_case = EID__V1__RESPONSE__BODY_VERIFY;
	resp.verify = &vr;
	assert_int_equal(decode_verify(&resp, 3, &res, &ans), EID_CLIENT_OK);
	assert_int_equal(res.verdict, EID_VERDICT_OK);
	assert_string_equal(res.sub, sub);
	assert_string_equal(res.name, name);
	assert_string_equal(res.birthdate, bd);
	assert_int_equal(res.gender, EID_GENDER_FEMALE);
	assert_int_equal(res.level, 2);
	assert_int_equal(res.issued_at, 1700000000);
	assert_int_equal(res.expires_at, 1700003600);
	assert_int_equal(res.not_before, 1699999999);
	assert_string_equal(res.token_id, tid);
	assert_string_equal(res.issuer, iss);
	assert_string_equal(res.key_id, kid);
	assert_string_equal(res.algorithm, alg);
	assert_string_equal(res.audience, aud);
	assert_true(res.cached);

	/* An identity next to a refusal is not passed on. */
	vr.verdict = EID__V1__VERDICT__VERDICT_REVOKED;
	assert_int_equal(decode_verify(&resp, 3, &res, &ans), EID_CLIENT_OK);
	assert_int_equal(res.verdict, EID_VERDICT_REVOKED);
	assert_string_equal(res.sub, "");
	assert_string_equal(res.token_id, tid);

	/* The last verdict of the enum maps; one past it does not. */
	vr.verdict = EID__V1__VERDICT__VERDICT_INVALID_CLAIMS;
	assert_int_equal(decode_verify(&resp, 3, &res, &ans), EID_CLIENT_OK);
	assert_int_equal(res.verdict, EID_VERDICT_INVALID_CLAIMS);
	vr.verdict = (Eid__V1__Verdict)EID_VERDICT_COUNT;
	assert_int_equal(decode_verify(&resp, 3, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	assert_int_equal(res.verdict, EID_VERDICT_INTERNAL);
}

static void
test_decode_verify_rejects(void **state)
{
	Eid__V1__Response	 resp;
	Eid__V1__VerifyResult	 vr;
	Eid__V1__Identity	 id;
	Eid__V1__RevokeResult	 rr;
	struct eid_verify_res	 res;
	struct wire_answer	 ans;
	char			 long129[EID_JTI_MAX + 2], sub13[] =
				     "0012345673450", ok_sub[] = "001234567345",
				     long256[EID_NAME_MAX + 2], alg8[] =
				     "ES256XYZ";

	(void)state;
	memset(long129, 'j', sizeof(long129) - 1);
	long129[sizeof(long129) - 1] = '\0';
	memset(long256, 'n', sizeof(long256) - 1);
	long256[sizeof(long256) - 1] = '\0';
	eid__v1__response__init(&resp);
	eid__v1__verify_result__init(&vr);
	eid__v1__identity__init(&id);
	id.sub = ok_sub;
	id.level = 1;
	vr.verdict = EID__V1__VERDICT__VERDICT_OK;
	vr.identity = &id;
	resp.id = 4;
	resp.body_case = EID__V1__RESPONSE__BODY_VERIFY;
	resp.verify = &vr;
	assert_int_equal(decode_verify(&resp, 4, &res, &ans), EID_CLIENT_OK);

	/* Another id, or no answer body. */
	assert_int_equal(decode_verify(&resp, 5, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	resp.body_case = EID__V1__RESPONSE__BODY__NOT_SET;
	assert_int_equal(decode_verify(&resp, 4, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	/* The wrong oneof. */
	eid__v1__revoke_result__init(&rr);
	rr.sequence = 1;
	resp.body_case = EID__V1__RESPONSE__BODY_REVOKE;
	resp.revoke = &rr;
	assert_int_equal(decode_verify(&resp, 4, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	resp.body_case = EID__V1__RESPONSE__BODY_VERIFY;
	resp.verify = &vr;

	/* Strings one byte over their field are refused, not cut. */
	vr.token_id = long129;
	assert_int_equal(decode_verify(&resp, 4, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	assert_string_equal(res.token_id, "");
	long129[EID_JTI_MAX] = '\0';
	assert_int_equal(decode_verify(&resp, 4, &res, &ans), EID_CLIENT_OK);
	assert_int_equal(strlen(res.token_id), EID_JTI_MAX);
	vr.algorithm = alg8;
	assert_int_equal(decode_verify(&resp, 4, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	vr.algorithm = NULL;
	eid__v1__verify_result__init(&vr);
	vr.verdict = EID__V1__VERDICT__VERDICT_OK;
	vr.identity = &id;
	id.sub = sub13;
	assert_int_equal(decode_verify(&resp, 4, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	id.sub = ok_sub;
	id.name = long256;
	assert_int_equal(decode_verify(&resp, 4, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	eid__v1__identity__init(&id);

	/* OK without an identity, or with values out of range. */
	vr.identity = NULL;
	assert_int_equal(decode_verify(&resp, 4, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	vr.identity = &id;
	id.level = 3;
	assert_int_equal(decode_verify(&resp, 4, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	id.level = 1;
	id.gender = (Eid__V1__Gender)7;
	assert_int_equal(decode_verify(&resp, 4, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	assert_int_equal(res.verdict, EID_VERDICT_INTERNAL);
}

static void
test_decode_garbage(void **state)
{
	static const uint8_t	 junk[][6] = {
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x12, 0x05, 0x08, 0x01, 0x00, 0x00 },	/* verify, cut short */
		{ 0x12, 0x04, 0x08, 0x01, 0x1a, 0x7f },	/* inner length lies */
		{ 0x08, 0x80, 0x80, 0x80, 0x80, 0x80 },	/* unfinished varint */
	};
	struct eid_verify_res	 res;
	struct wire_answer	 ans;
	char			 err[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		memset(&ans, 0, sizeof(ans));
		ans.expect = WIRE_BODY_VERIFY;
		ans.id = 0;
		ans.res = &res;
		ans.nres = 1;
		assert_int_equal(wire_decode(junk[i], sizeof(junk[i]), &ans,
		    err, sizeof(err)), EID_CLIENT_ERR_PROTOCOL);
	}
	/* An empty body parses as id 0 with no answer: still refused. */
	memset(&ans, 0, sizeof(ans));
	ans.expect = WIRE_BODY_VERIFY;
	ans.res = &res;
	ans.nres = 1;
	assert_int_equal(wire_decode(junk[0], 0, &ans, err, sizeof(err)),
	    EID_CLIENT_ERR_PROTOCOL);
}

static void
test_decode_error(void **state)
{
	Eid__V1__Response	 resp;
	Eid__V1__Error		 er;
	struct eid_verify_res	 res;
	struct wire_answer	 ans;
	char			 msg[] = "audience not allowed", long256[257];

	(void)state;
	eid__v1__response__init(&resp);
	eid__v1__error__init(&er);
	er.code = EID__V1__ERROR_CODE__ERROR_FORBIDDEN;
	er.message = msg;
	resp.id = 6;
	resp.body_case = EID__V1__RESPONSE__BODY_ERROR;
	resp.error = &er;
	assert_int_equal(decode_verify(&resp, 6, &res, &ans),
	    EID_CLIENT_ERR_SERVER);
	assert_int_equal(ans.serr.code, EID_SERVER_FORBIDDEN);
	assert_string_equal(ans.serr.message, msg);
	assert_false(ans.closing);
	/* Id 0: the server could not read ours and closes after it. */
	resp.id = 0;
	er.code = EID__V1__ERROR_CODE__ERROR_FRAME_TOO_LARGE;
	assert_int_equal(decode_verify(&resp, 6, &res, &ans),
	    EID_CLIENT_ERR_SERVER);
	assert_int_equal(ans.serr.code, EID_SERVER_FRAME_TOO_LARGE);
	assert_true(ans.closing);
	/* An error for another request is out of order. */
	resp.id = 7;
	assert_int_equal(decode_verify(&resp, 6, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	/* A code this client does not know reads as unspecified. */
	resp.id = 6;
	er.code = (Eid__V1__ErrorCode)42;
	assert_int_equal(decode_verify(&resp, 6, &res, &ans),
	    EID_CLIENT_ERR_SERVER);
	assert_int_equal(ans.serr.code, EID_SERVER_UNSPECIFIED);
	/* A message longer than the field is refused, not cut. */
	memset(long256, 'm', sizeof(long256) - 1);
	long256[sizeof(long256) - 1] = '\0';
	er.message = long256;
	assert_int_equal(decode_verify(&resp, 6, &res, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
}

static void
test_decode_batch_revoke(void **state)
{
	Eid__V1__Response	 resp;
	Eid__V1__VerifyBatchResult b;
	Eid__V1__VerifyResult	 r1, r2, *rs[2] = { &r1, &r2 };
	Eid__V1__RevokeResult	 rr;
	struct eid_verify_res	 res[3];
	struct wire_answer	 ans;
	uint8_t			*p;
	size_t			 len;

	(void)state;
	eid__v1__response__init(&resp);
	eid__v1__verify_batch_result__init(&b);
	eid__v1__verify_result__init(&r1);
	eid__v1__verify_result__init(&r2);
	r1.verdict = EID__V1__VERDICT__VERDICT_EXPIRED;
	r2.verdict = EID__V1__VERDICT__VERDICT_BAD_SIGNATURE;
	b.n_results = 2;
	b.results = rs;
	resp.id = 2;
	resp.body_case = EID__V1__RESPONSE__BODY_VERIFY_BATCH;
	resp.verify_batch = &b;
	p = pack_response(&resp, &len);
	memset(&ans, 0, sizeof(ans));
	ans.expect = WIRE_BODY_VERIFY_BATCH;
	ans.id = 2;
	ans.res = res;
	ans.nres = 2;
	assert_int_equal(wire_decode(p, len, &ans, NULL, 0), EID_CLIENT_OK);
	assert_int_equal(res[0].verdict, EID_VERDICT_EXPIRED);
	assert_int_equal(res[1].verdict, EID_VERDICT_BAD_SIGNATURE);
	/* Two answers for three questions. */
	ans.nres = 3;
	assert_int_equal(wire_decode(p, len, &ans, NULL, 0),
	    EID_CLIENT_ERR_PROTOCOL);
	free(p);

	eid__v1__revoke_result__init(&rr);
	rr.sequence = UINT64_C(1) << 40;
	resp.body_case = EID__V1__RESPONSE__BODY_REVOKE;
	resp.revoke = &rr;
	p = pack_response(&resp, &len);
	memset(&ans, 0, sizeof(ans));
	ans.expect = WIRE_BODY_REVOKE;
	ans.id = 2;
	assert_int_equal(wire_decode(p, len, &ans, NULL, 0), EID_CLIENT_OK);
	assert_true(ans.sequence == UINT64_C(1) << 40);
	free(p);
}

static void
test_decode_status(void **state)
{
	Eid__V1__Response	 resp;
	Eid__V1__StatusResult	 st;
	Eid__V1__VerdictCount	 v1, v2, v3, *vs[3] = { &v1, &v2, &v3 };
	Eid__V1__KeyInfo	 k1, k2, *ks[2] = { &k1, &k2 };
	struct eid_status	 out;
	struct wire_answer	 ans;
	uint8_t			*p;
	size_t			 len;
	char			 ver[] = "eidd 1.0", pr[] = "admin",
				 kid[] = "kid-1", iss[] = "https://idp",
				 alg[] = "ES256", long64[65];

	(void)state;
	eid__v1__response__init(&resp);
	eid__v1__status_result__init(&st);
	eid__v1__verdict_count__init(&v1);
	eid__v1__verdict_count__init(&v2);
	eid__v1__verdict_count__init(&v3);
	eid__v1__key_info__init(&k1);
	eid__v1__key_info__init(&k2);
	st.version = ver;
	st.principal = pr;
	st.uptime_s = 60;
	st.workers = 4;
	st.requests_total = 99;
	st.consumed = 5;
	v1.verdict = EID__V1__VERDICT__VERDICT_OK;
	v1.count = 90;
	v2.verdict = EID__V1__VERDICT__VERDICT_EXPIRED;
	v2.count = 9;
	v3.verdict = (Eid__V1__Verdict)99;	/* a newer server's: skipped */
	v3.count = 1;
	st.n_verdicts = 3;
	st.verdicts = vs;
	k1.key_id = kid;
	k1.issuer = iss;
	k1.algorithm = alg;
	k1.not_after = 1800000000;
	k1.from_certificate = 1;
	k2.key_id = kid;
	st.n_keys = 2;
	st.keys = ks;
	resp.id = 8;
	resp.body_case = EID__V1__RESPONSE__BODY_STATUS;
	resp.status = &st;
	p = pack_response(&resp, &len);
	memset(&ans, 0, sizeof(ans));
	ans.expect = WIRE_BODY_STATUS;
	ans.id = 8;
	ans.status = &out;
	assert_int_equal(wire_decode(p, len, &ans, NULL, 0), EID_CLIENT_OK);
	free(p);
	assert_string_equal(out.version, ver);
	assert_string_equal(out.principal, pr);
	assert_int_equal(out.uptime_s, 60);
	assert_int_equal(out.workers, 4);
	assert_int_equal(out.requests_total, 99);
	assert_int_equal(out.consumed, 5);
	assert_int_equal(out.verdicts[EID_VERDICT_OK], 90);
	assert_int_equal(out.verdicts[EID_VERDICT_EXPIRED], 9);
	assert_int_equal(out.nkeys, 2);
	assert_string_equal(out.keys[0].key_id, kid);
	assert_string_equal(out.keys[0].algorithm, alg);
	assert_int_equal(out.keys[0].not_after, 1800000000);
	assert_true(out.keys[0].from_certificate);
	assert_false(out.keys[1].from_certificate);
	eid_status_clear(&out);
	assert_null(out.keys);
	eid_status_clear(NULL);

	/* A string too long in the second key: nothing is kept. */
	memset(long64, 'v', sizeof(long64) - 1);
	long64[sizeof(long64) - 1] = '\0';
	k2.algorithm = long64;
	p = pack_response(&resp, &len);
	assert_int_equal(wire_decode(p, len, &ans, NULL, 0),
	    EID_CLIENT_ERR_PROTOCOL);
	assert_null(out.keys);
	assert_int_equal(out.nkeys, 0);
	free(p);
	k2.algorithm = alg;
	st.version = long64;
	p = pack_response(&resp, &len);
	assert_int_equal(wire_decode(p, len, &ans, NULL, 0),
	    EID_CLIENT_ERR_PROTOCOL);
	free(p);
}

static void
test_encode_revoke_batch(void **state)
{
	static struct eid_revoke_req	 reqs[WIRE_REVOKE_BATCH_MAX + 1];
	static char			 value[130], iss[EID_ISS_MAX + 2],
					 why[258];
	struct wire_buf			 buf;
	Eid__V1__Request		*r;
	Eid__V1__RevokeRequest		*it;
	char				 err[160];
	size_t				 i;

	(void)state;
	wire_buf_init(&buf);
	for (i = 0; i < WIRE_REVOKE_BATCH_MAX + 1; i++) {
		reqs[i].kind = EID_REVOKE_TOKEN;
		reqs[i].value = "j";
	}
	reqs[1].kind = EID_REVOKE_SUBJECT;
	reqs[1].value = "001234567345";
	reqs[1].issuer = "https://idp";
	reqs[1].issued_before = 1700000000;
	reqs[1].reason = "lost card";
	reqs[1].expires_at = 1800000000;
	reqs[2].kind = EID_REVOKE_KEY;
	reqs[2].value = "kid-9";
	assert_int_equal(wire_encode_revoke_batch(&buf, 11, reqs, 3, err,
	    sizeof(err)), EID_CLIENT_OK);
	r = unpack_request(&buf);
	assert_non_null(r);
	assert_int_equal(r->id, 11);
	assert_int_equal(r->body_case, EID__V1__REQUEST__BODY_REVOKE_BATCH);
	assert_int_equal(r->revoke_batch->n_items, 3);
	it = r->revoke_batch->items[0];
	assert_int_equal(it->kind, EID__V1__REVOKE_KIND__REVOKE_TOKEN);
	assert_string_equal(it->value, "j");
	assert_string_equal(it->issuer, "");
	assert_string_equal(it->reason, "");
	it = r->revoke_batch->items[1];
	assert_int_equal(it->kind, EID__V1__REVOKE_KIND__REVOKE_SUBJECT);
	assert_string_equal(it->value, "001234567345");
	assert_string_equal(it->issuer, "https://idp");
	assert_string_equal(it->reason, "lost card");
	assert_int_equal(it->issued_before, 1700000000);
	assert_int_equal(it->expires_at, 1800000000);
	it = r->revoke_batch->items[2];
	assert_int_equal(it->kind, EID__V1__REVOKE_KIND__REVOKE_KEY);
	assert_string_equal(it->value, "kid-9");
	eid__v1__request__free_unpacked(r, NULL);
	buf.len = 0;

	/* 1..1000 items; small ones fit one frame even at 1000. */
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, reqs, 0, err,
	    sizeof(err)), EID_CLIENT_ERR_USAGE);
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, NULL, 1, err,
	    sizeof(err)), EID_CLIENT_ERR_USAGE);
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, reqs,
	    WIRE_REVOKE_BATCH_MAX + 1, err, sizeof(err)),
	    EID_CLIENT_ERR_USAGE);
	assert_int_equal(buf.len, 0);
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, reqs,
	    WIRE_REVOKE_BATCH_MAX, err, sizeof(err)), EID_CLIENT_OK);
	buf.len = 0;

	/* Each item is checked as a single revoke; the index is named. */
	reqs[5].kind = (enum eid_revoke_kind)0;
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, reqs, 10, err,
	    sizeof(err)), EID_CLIENT_ERR_USAGE);
	assert_non_null(strstr(err, "item 5"));
	reqs[5].kind = EID_REVOKE_TOKEN;
	memset(value, 'v', sizeof(value) - 1);
	reqs[6].value = value;
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, reqs, 10, err,
	    sizeof(err)), EID_CLIENT_ERR_USAGE);
	reqs[6].value = "";
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, reqs, 10, err,
	    sizeof(err)), EID_CLIENT_ERR_USAGE);
	reqs[6].value = NULL;
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, reqs, 10, err,
	    sizeof(err)), EID_CLIENT_ERR_USAGE);
	reqs[6].value = "j";
	memset(iss, 'i', sizeof(iss) - 1);
	reqs[7].issuer = iss;
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, reqs, 10, err,
	    sizeof(err)), EID_CLIENT_ERR_USAGE);
	iss[EID_ISS_MAX] = '\0';
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, reqs, 10, err,
	    sizeof(err)), EID_CLIENT_OK);
	buf.len = 0;
	memset(why, 'w', sizeof(why) - 1);
	reqs[8].reason = why;
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, reqs, 10, err,
	    sizeof(err)), EID_CLIENT_ERR_USAGE);
	reqs[8].reason = NULL;
	reqs[9].expires_at = -1;
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, reqs, 10, err,
	    sizeof(err)), EID_CLIENT_ERR_USAGE);
	reqs[9].expires_at = 0;
	assert_int_equal(buf.len, 0);

	/* 1000 maximal items are far above one 64 KiB frame. */
	value[128] = '\0';
	why[256] = '\0';
	for (i = 0; i < WIRE_REVOKE_BATCH_MAX; i++) {
		reqs[i].value = value;
		reqs[i].issuer = iss;
		reqs[i].reason = why;
	}
	assert_int_equal(wire_encode_revoke_batch(&buf, 1, reqs,
	    WIRE_REVOKE_BATCH_MAX, err, sizeof(err)), EID_CLIENT_ERR_USAGE);
	assert_int_equal(buf.len, 0);
	wire_buf_reset(&buf);
}

static void
test_encode_list(void **state)
{
	struct eid_revocation	 after;
	struct wire_buf		 buf;
	Eid__V1__Request	*r;
	char			 err[160];

	(void)state;
	wire_buf_init(&buf);
	assert_int_equal(wire_encode_list_revocations(&buf, 12, 0, NULL,
	    1000, err, sizeof(err)), EID_CLIENT_OK);
	r = unpack_request(&buf);
	assert_non_null(r);
	assert_int_equal(r->id, 12);
	assert_int_equal(r->body_case,
	    EID__V1__REQUEST__BODY_LIST_REVOCATIONS);
	assert_int_equal(r->list_revocations->kind,
	    EID__V1__REVOKE_KIND__REVOKE_UNSPECIFIED);
	assert_int_equal(r->list_revocations->after_kind,
	    EID__V1__REVOKE_KIND__REVOKE_UNSPECIFIED);
	assert_string_equal(r->list_revocations->after_issuer, "");
	assert_string_equal(r->list_revocations->after_value, "");
	assert_int_equal(r->list_revocations->max, 1000);
	eid__v1__request__free_unpacked(r, NULL);
	buf.len = 0;

	memset(&after, 0, sizeof(after));
	after.kind = EID_REVOKE_SUBJECT;
	strcpy(after.issuer, "https://idp");
	strcpy(after.value, "001234567345");
	assert_int_equal(wire_encode_list_revocations(&buf, 13,
	    EID_REVOKE_SUBJECT, &after, 7, err, sizeof(err)), EID_CLIENT_OK);
	r = unpack_request(&buf);
	assert_non_null(r);
	assert_int_equal(r->list_revocations->kind,
	    EID__V1__REVOKE_KIND__REVOKE_SUBJECT);
	assert_int_equal(r->list_revocations->after_kind,
	    EID__V1__REVOKE_KIND__REVOKE_SUBJECT);
	assert_string_equal(r->list_revocations->after_issuer, "https://idp");
	assert_string_equal(r->list_revocations->after_value,
	    "001234567345");
	assert_int_equal(r->list_revocations->max, 7);
	eid__v1__request__free_unpacked(r, NULL);
	buf.len = 0;

	/* Page size 1..1000, a known kind, a sound cursor. */
	assert_int_equal(wire_encode_list_revocations(&buf, 1, 0, NULL, 0,
	    err, sizeof(err)), EID_CLIENT_ERR_USAGE);
	assert_int_equal(wire_encode_list_revocations(&buf, 1, 0, NULL,
	    WIRE_LIST_MAX + 1, err, sizeof(err)), EID_CLIENT_ERR_USAGE);
	assert_int_equal(wire_encode_list_revocations(&buf, 1, 4, NULL, 10,
	    err, sizeof(err)), EID_CLIENT_ERR_USAGE);
	assert_int_equal(wire_encode_list_revocations(&buf, 1, -1, NULL, 10,
	    err, sizeof(err)), EID_CLIENT_ERR_USAGE);
	after.kind = (enum eid_revoke_kind)0;
	assert_int_equal(wire_encode_list_revocations(&buf, 1, 0, &after, 10,
	    err, sizeof(err)), EID_CLIENT_ERR_USAGE);
	after.kind = EID_REVOKE_KEY;
	memset(after.value, 'v', sizeof(after.value));
	assert_int_equal(wire_encode_list_revocations(&buf, 1, 0, &after, 10,
	    err, sizeof(err)), EID_CLIENT_ERR_USAGE);
	assert_int_equal(buf.len, 0);
	wire_buf_reset(&buf);
}

/* Decode a packed Response expecting a RevokeBatch answer of n. */
static enum eid_client_err
decode_revoke_batch(const Eid__V1__Response *resp, uint64_t *seqs, size_t n)
{
	struct wire_answer	 ans;
	enum eid_client_err	 e;
	uint8_t			*p;
	size_t			 len;
	char			 err[256];

	p = pack_response(resp, &len);
	memset(&ans, 0, sizeof(ans));
	ans.expect = WIRE_BODY_REVOKE_BATCH;
	ans.id = 21;
	ans.seqs = seqs;
	ans.nseqs = n;
	e = wire_decode(p, len, &ans, err, sizeof(err));
	free(p);
	return e;
}

static void
test_decode_revoke_batch(void **state)
{
	Eid__V1__Response		 resp;
	Eid__V1__RevokeBatchResult	 rb;
	Eid__V1__RevokeResult		 rr;
	uint64_t			 seqs[4], got[4];

	(void)state;
	eid__v1__response__init(&resp);
	eid__v1__revoke_batch_result__init(&rb);
	seqs[0] = 5;
	seqs[1] = 6;
	seqs[2] = UINT64_C(1) << 50;
	seqs[3] = 8;
	rb.sequences = seqs;
	rb.n_sequences = 3;
	resp.id = 21;
	resp.body_case = EID__V1__RESPONSE__BODY_REVOKE_BATCH;
	resp.revoke_batch = &rb;
	assert_int_equal(decode_revoke_batch(&resp, got, 3), EID_CLIENT_OK);
	assert_true(got[0] == 5 && got[1] == 6 &&
	    got[2] == UINT64_C(1) << 50);

	/* Exactly one sequence per item: fewer or more are refused. */
	assert_int_equal(decode_revoke_batch(&resp, got, 4),
	    EID_CLIENT_ERR_PROTOCOL);
	assert_true(got[0] == 0 && got[3] == 0);
	assert_int_equal(decode_revoke_batch(&resp, got, 2),
	    EID_CLIENT_ERR_PROTOCOL);
	rb.n_sequences = 0;
	assert_int_equal(decode_revoke_batch(&resp, got, 1),
	    EID_CLIENT_ERR_PROTOCOL);
	/* A single revoke's answer, or none, is not a batch's. */
	eid__v1__revoke_result__init(&rr);
	rr.sequence = 5;
	resp.body_case = EID__V1__RESPONSE__BODY_REVOKE;
	resp.revoke = &rr;
	assert_int_equal(decode_revoke_batch(&resp, got, 1),
	    EID_CLIENT_ERR_PROTOCOL);
	resp.body_case = EID__V1__RESPONSE__BODY__NOT_SET;
	assert_int_equal(decode_revoke_batch(&resp, got, 1),
	    EID_CLIENT_ERR_PROTOCOL);
	/* Another id. */
	rb.n_sequences = 1;
	resp.body_case = EID__V1__RESPONSE__BODY_REVOKE_BATCH;
	resp.revoke_batch = &rb;
	resp.id = 22;
	assert_int_equal(decode_revoke_batch(&resp, got, 1),
	    EID_CLIENT_ERR_PROTOCOL);
}

/* Decode a packed Response expecting a page of at most max entries. */
static enum eid_client_err
decode_list(const Eid__V1__Response *resp, int kind,
    const struct eid_revocation *after, struct eid_revocation *out,
    size_t max, struct wire_answer *ans)
{
	enum eid_client_err	 e;
	uint8_t			*p;
	size_t			 len;
	char			 err[256];

	p = pack_response(resp, &len);
	memset(ans, 0, sizeof(*ans));
	ans->expect = WIRE_BODY_LIST_REVOCATIONS;
	ans->id = 31;
	ans->revs = out;
	ans->maxrevs = max;
	ans->list_kind = kind;
	ans->list_after = after;
	e = wire_decode(p, len, ans, err, sizeof(err));
	free(p);
	return e;
}

static void
test_decode_list(void **state)
{
	Eid__V1__Response		 resp;
	Eid__V1__ListRevocationsResult	 lr;
	Eid__V1__Revocation		 v[3];
	Eid__V1__Revocation		*vs[3] = { &v[0], &v[1], &v[2] };
	struct eid_revocation		 out[3], after;
	struct wire_answer		 ans;
	char				 iss[] = "https://idp",
					 t1[] = "jti-1", t2[] = "jti-2",
					 pin[] = "001234567345",
					 why[] = "lost card", empty[] = "",
					 long129[EID_JTI_MAX + 2],
					 long256[EID_ISS_MAX + 2],
					 long257[258];
	size_t				 i;

	(void)state;
	memset(long129, 'v', sizeof(long129) - 1);
	long129[sizeof(long129) - 1] = '\0';
	memset(long256, 'i', sizeof(long256) - 1);
	long256[sizeof(long256) - 1] = '\0';
	memset(long257, 'r', sizeof(long257) - 1);
	long257[sizeof(long257) - 1] = '\0';
	eid__v1__response__init(&resp);
	eid__v1__list_revocations_result__init(&lr);
	for (i = 0; i < 3; i++)
		eid__v1__revocation__init(&v[i]);
	/* In (kind, issuer, value) order: token "" jti-2, token idp jti-1. */
	v[0].kind = EID__V1__REVOKE_KIND__REVOKE_TOKEN;
	v[0].value = t2;
	v[0].created_at = 1700000000;
	v[0].sequence = 3;
	v[1].kind = EID__V1__REVOKE_KIND__REVOKE_TOKEN;
	v[1].value = t1;
	v[1].issuer = iss;
	v[1].expires_at = 1800000000;
	v[1].sequence = 1;
	v[2].kind = EID__V1__REVOKE_KIND__REVOKE_SUBJECT;
	v[2].value = pin;
	v[2].issued_before = 1690000000;
	v[2].reason = why;
	v[2].created_at = 1700000001;
	v[2].sequence = UINT64_C(1) << 40;
	lr.items = vs;
	lr.n_items = 3;
	lr.more = 1;
	resp.id = 31;
	resp.body_case = EID__V1__RESPONSE__BODY_LIST_REVOCATIONS;
	resp.list_revocations = &lr;
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_OK);
	assert_int_equal(ans.nrevs, 3);
	assert_true(ans.more);
	assert_int_equal(out[0].kind, EID_REVOKE_TOKEN);
	assert_string_equal(out[0].value, t2);
	assert_string_equal(out[0].issuer, "");
	assert_int_equal(out[0].created_at, 1700000000);
	assert_int_equal(out[0].sequence, 3);
	assert_string_equal(out[1].issuer, iss);
	assert_int_equal(out[1].expires_at, 1800000000);
	assert_int_equal(out[2].kind, EID_REVOKE_SUBJECT);
	assert_string_equal(out[2].value, pin);
	assert_string_equal(out[2].reason, why);
	assert_int_equal(out[2].issued_before, 1690000000);
	assert_true(out[2].sequence == UINT64_C(1) << 40);

	/* Fewer than asked is fine; more than asked is not. */
	assert_int_equal(decode_list(&resp, 0, NULL, out, 4, &ans),
	    EID_CLIENT_OK);
	assert_int_equal(decode_list(&resp, 0, NULL, out, 2, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	assert_int_equal(ans.nrevs, 0);
	assert_false(ans.more);

	/* Entries must follow the cursor and each other. */
	memset(&after, 0, sizeof(after));
	after.kind = EID_REVOKE_TOKEN;
	strcpy(after.value, "jti-1");
	assert_int_equal(decode_list(&resp, 0, &after, out, 3, &ans),
	    EID_CLIENT_OK);
	strcpy(after.value, "jti-2");
	assert_int_equal(decode_list(&resp, 0, &after, out, 3, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	assert_string_equal(out[0].value, "");
	vs[0] = &v[1];
	vs[1] = &v[0];
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	vs[1] = &v[1];
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	vs[0] = &v[0];

	/* Only the kind asked for. */
	assert_int_equal(decode_list(&resp, EID_REVOKE_TOKEN, NULL, out, 3,
	    &ans), EID_CLIENT_ERR_PROTOCOL);
	lr.n_items = 2;
	assert_int_equal(decode_list(&resp, EID_REVOKE_TOKEN, NULL, out, 3,
	    &ans), EID_CLIENT_OK);
	lr.n_items = 3;

	/* Kinds outside the enum, REVOKE_UNSPECIFIED included. */
	v[2].kind = EID__V1__REVOKE_KIND__REVOKE_UNSPECIFIED;
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	v[2].kind = (Eid__V1__RevokeKind)4;
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	assert_int_equal(out[0].kind, 0);
	v[2].kind = EID__V1__REVOKE_KIND__REVOKE_SUBJECT;

	/* Strings one byte over their field are refused, not cut. */
	v[2].value = long129;
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	long129[EID_JTI_MAX] = '\0';
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_OK);
	assert_int_equal(strlen(out[2].value), EID_JTI_MAX);
	v[2].value = empty;
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	v[2].value = pin;
	v[2].issuer = long256;
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	long256[EID_ISS_MAX] = '\0';
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_OK);
	v[2].issuer = NULL;
	v[2].reason = long257;
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	assert_int_equal(ans.nrevs, 0);
	long257[256] = '\0';
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_OK);
	assert_int_equal(strlen(out[2].reason), 256);

	/* An empty last page is fine; an empty page with more is not. */
	lr.n_items = 0;
	lr.more = 0;
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_OK);
	assert_int_equal(ans.nrevs, 0);
	assert_false(ans.more);
	lr.more = 1;
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
	/* Another body. */
	resp.body_case = EID__V1__RESPONSE__BODY__NOT_SET;
	assert_int_equal(decode_list(&resp, 0, NULL, out, 3, &ans),
	    EID_CLIENT_ERR_PROTOCOL);
}

static void
test_hostport(void **state)
{
	char	 h[WIRE_HOST_MAX], p[WIRE_PORT_MAX];

	(void)state;
	assert_int_equal(wire_parse_hostport("127.0.0.1:7443", h, sizeof(h),
	    p, sizeof(p)), 0);
	assert_string_equal(h, "127.0.0.1");
	assert_string_equal(p, "7443");
	assert_int_equal(wire_parse_hostport("[::1]:17443", h, sizeof(h), p,
	    sizeof(p)), 0);
	assert_string_equal(h, "::1");
	assert_string_equal(p, "17443");
	assert_int_equal(wire_parse_hostport("[fe80::1]", h, sizeof(h), p,
	    sizeof(p)), 0);
	assert_string_equal(p, "7443");
	assert_int_equal(wire_parse_hostport("eid.example", h, sizeof(h), p,
	    sizeof(p)), 0);
	assert_string_equal(h, "eid.example");
	assert_string_equal(p, "7443");
	assert_true(wire_host_is_ip("::1"));
	assert_true(wire_host_is_ip("10.0.0.1"));
	assert_false(wire_host_is_ip("localhost"));

	assert_int_equal(wire_parse_hostport("::1:7443", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(wire_parse_hostport("[::1", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(wire_parse_hostport("[::1]x", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(wire_parse_hostport("host:", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(wire_parse_hostport(":7443", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(wire_parse_hostport("host:0", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(wire_parse_hostport("host:65536", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(wire_parse_hostport("host:7a", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(wire_parse_hostport("", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(wire_parse_hostport(NULL, h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(wire_parse_hostport("[a]b]:1", h, sizeof(h), p,
	    sizeof(p)), -1);
}

static void
test_names(void **state)
{
	struct eid_client_config	 cfg;

	(void)state;
	assert_string_equal(eid_server_code_name(EID_SERVER_FORBIDDEN),
	    "forbidden");
	assert_string_equal(eid_server_code_name((enum eid_server_code)99),
	    "unknown");
	assert_string_equal(eid_client_strerror(EID_CLIENT_OK), "success");
	assert_string_equal(eid_client_strerror((enum eid_client_err)99),
	    "unknown error");
	memset(&cfg, 0, sizeof(cfg));
	cfg.cert = "mine.crt";
	assert_int_equal(setenv("EID_SERVER", "[::1]:1", 1), 0);
	assert_int_equal(setenv("EID_CERT", "env.crt", 1), 0);
	assert_int_equal(setenv("EID_KEY", "env.key", 1), 0);
	assert_int_equal(unsetenv("EID_CA"), 0);
	eid_client_config_env(&cfg);
	assert_string_equal(cfg.server, "[::1]:1");
	assert_string_equal(cfg.cert, "mine.crt");
	assert_string_equal(cfg.key, "env.key");
	assert_null(cfg.ca);
	assert_int_equal(unsetenv("EID_SERVER"), 0);
	cfg.server = NULL;
	eid_client_config_env(&cfg);
	assert_string_equal(cfg.server, "127.0.0.1:7443");
}

/* A file of the development PKI: $EID_CERTS or certs/dev. */
static void
pki(char *out, size_t len, const char *name)
{
	const char	*d = getenv("EID_CERTS");

	snprintf(out, len, "%s/%s", d != NULL && *d != '\0' ? d : "certs/dev",
	    name);
}

/* test_tls_chain's temporary file, removed by its teardown. */
static char tmp_pem[64];

static void
pki_append(FILE *out, const char *name)
{
	char	 path[600], buf[4096];
	FILE	*in;
	size_t	 n;

	pki(path, sizeof(path), name);
	if ((in = fopen(path, "r")) == NULL)
		fail_msg("%s: cannot be read", path);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	assert_int_equal(ferror(in), 0);
	fclose(in);
}

/* tmp_pem, holding the PKI files a, b and c (if not NULL) in turn. */
static const char *
pki_cat(const char *a, const char *b, const char *c)
{
	FILE	*out;
	int	 fd;

	if (tmp_pem[0] != '\0')
		(void)unlink(tmp_pem);
	snprintf(tmp_pem, sizeof(tmp_pem), "/tmp/test_wire.XXXXXX");
	assert_true((fd = mkstemp(tmp_pem)) >= 0);
	assert_non_null(out = fdopen(fd, "w"));
	pki_append(out, a);
	pki_append(out, b);
	if (c != NULL)
		pki_append(out, c);
	assert_int_equal(fclose(out), 0);
	return tmp_pem;
}

static int
tls_chain_teardown(void **state)
{
	(void)state;
	if (tmp_pem[0] != '\0')
		(void)unlink(tmp_pem);
	tmp_pem[0] = '\0';
	return 0;
}

/*
 * A client context of wire_tls_ctx_new (cert, key and ca: paths) in a
 * handshake, in memory, with a server of the PKI files scert and skey
 * that asks for a client certificate and trusts sca.  Returns how many
 * certificates the client sent besides its own.
 */
static int
sent_chain(const char *cert, const char *key, const char *ca,
    const char *scert, const char *skey, const char *sca)
{
	struct eid_client_config cfg;
	enum eid_client_err	 e;
	STACK_OF(X509)		*sk;
	SSL_CTX			*cctx, *sctx;
	SSL			*cs, *ss;
	BIO			*b1, *b2;
	char			 k[600], sc[600], sk_[600], sa[600], err[512];
	int			 i, r1 = 0, r2 = 0, n;

	memset(&cfg, 0, sizeof(cfg));
	pki(k, sizeof(k), key);
	cfg.cert = cert;
	cfg.key = k;
	cfg.ca = ca;
	if ((cctx = wire_tls_ctx_new(&cfg, &e, err, sizeof(err))) == NULL)
		fail_msg("client context: %s", err);
	pki(sc, sizeof(sc), scert);
	pki(sk_, sizeof(sk_), skey);
	pki(sa, sizeof(sa), sca);
	assert_non_null(sctx = SSL_CTX_new(TLS_server_method()));
	assert_int_equal(SSL_CTX_use_certificate_chain_file(sctx, sc), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(sctx, sk_,
	    SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_load_verify_locations(sctx, sa, NULL), 1);
	SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	assert_non_null(cs = SSL_new(cctx));
	assert_non_null(ss = SSL_new(sctx));
	assert_int_equal(BIO_new_bio_pair(&b1, 0, &b2, 0), 1);
	SSL_set_bio(cs, b1, b1);
	SSL_set_bio(ss, b2, b2);
	SSL_set_connect_state(cs);
	SSL_set_accept_state(ss);
	/* Each side in turn until both are done; a few rounds suffice. */
	for (i = 0; i < 20 && (r1 != 1 || r2 != 1); i++) {
		if (r1 != 1 && (r1 = SSL_do_handshake(cs)) != 1 &&
		    SSL_get_error(cs, r1) != SSL_ERROR_WANT_READ)
			break;
		if (r2 != 1 && (r2 = SSL_do_handshake(ss)) != 1 &&
		    SSL_get_error(ss, r2) != SSL_ERROR_WANT_READ)
			break;
	}
	if (r1 != 1 || r2 != 1) {
		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		fail_msg("handshake (client %d, server %d): %s", r1, r2, err);
	}
	assert_non_null(SSL_get0_peer_certificate(ss));
	/* On the server side, the chain the client sent after its own. */
	sk = SSL_get_peer_cert_chain(ss);
	n = sk != NULL ? sk_X509_num(sk) : 0;
	SSL_free(cs);
	SSL_free(ss);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	ERR_clear_error();
	return n;
}

/*
 * The chain a client sends: no root, which the server holds already
 * and would decode for nothing, whether OpenSSL would have found it in
 * the CA file or the certificate file ends with it; intermediates, from
 * either file; a certificate file's chain as written when the CA file
 * does not reach its root; and, for a lone certificate whose issuers
 * reach no root of the CA file, the certificate alone, as before.
 */
static void
test_tls_chain(void **state)
{
	char	 cert[600], ca[600];

	(void)state;
	/* The relying party's certificate, issued by the TLS CA itself. */
	pki(cert, sizeof(cert), "rp-dichvucong.crt");
	pki(ca, sizeof(ca), "ca.pem");
	assert_int_equal(sent_chain(cert, "rp-dichvucong.key", ca,
	    "server.crt", "server.key", "ca.pem"), 0);
	assert_int_equal(sent_chain(pki_cat("rp-dichvucong.crt", "ca.pem",
	    NULL), "rp-dichvucong.key", ca, "server.crt", "server.key",
	    "ca.pem"), 0);

	/*
	 * Under an intermediate: the identity provider's signing
	 * certificate as a client; the server trusts the national root.
	 * The intermediate in the CA file only, in the certificate file,
	 * or there with the root after it.
	 */
	pki(cert, sizeof(cert), "idp-es256.crt");
	assert_int_equal(sent_chain(cert, "idp-es256.key",
	    pki_cat("idp-ca.crt", "root-ca.crt", NULL), "idp-eddsa.chain.pem",
	    "idp-eddsa.key", "root-ca.crt"), 1);
	pki(cert, sizeof(cert), "idp-es256.chain.pem");
	pki(ca, sizeof(ca), "root-ca.crt");
	assert_int_equal(sent_chain(cert, "idp-es256.key", ca,
	    "idp-eddsa.chain.pem", "idp-eddsa.key", "root-ca.crt"), 1);
	assert_int_equal(sent_chain(pki_cat("idp-es256.chain.pem",
	    "root-ca.crt", NULL), "idp-es256.key", ca, "idp-eddsa.chain.pem",
	    "idp-eddsa.key", "root-ca.crt"), 1);
	/*
	 * A CA file that knows none of the chain (the server's CA only):
	 * the file's chain as written, less a root at its end.
	 */
	pki(cert, sizeof(cert), "idp-es256.chain.pem");
	pki(ca, sizeof(ca), "ca.pem");
	assert_int_equal(sent_chain(cert, "idp-es256.key", ca, "server.crt",
	    "server.key", "root-ca.crt"), 1);
	assert_int_equal(sent_chain(pki_cat("idp-es256.chain.pem",
	    "root-ca.crt", NULL), "idp-es256.key", ca, "server.crt",
	    "server.key", "root-ca.crt"), 1);

	/* Issued by a CA the client's CA file does not hold: the leaf. */
	pki(cert, sizeof(cert), "rp-dichvucong.crt");
	pki(ca, sizeof(ca), "root-ca.crt");
	assert_int_equal(sent_chain(cert, "rp-dichvucong.key", ca,
	    "idp-eddsa.chain.pem", "idp-eddsa.key", "ca.pem"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_verify),
		cmocka_unit_test(test_encode_verify_limits),
		cmocka_unit_test(test_encode_batch),
		cmocka_unit_test(test_encode_batch_frame_limit),
		cmocka_unit_test(test_encode_revoke_status),
		cmocka_unit_test(test_frame_peek),
		cmocka_unit_test(test_decode_verify_ok),
		cmocka_unit_test(test_decode_verify_rejects),
		cmocka_unit_test(test_decode_garbage),
		cmocka_unit_test(test_decode_error),
		cmocka_unit_test(test_decode_batch_revoke),
		cmocka_unit_test(test_decode_status),
		cmocka_unit_test(test_encode_revoke_batch),
		cmocka_unit_test(test_encode_list),
		cmocka_unit_test(test_decode_revoke_batch),
		cmocka_unit_test(test_decode_list),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_names),
		cmocka_unit_test_teardown(test_tls_chain, tls_chain_teardown),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
