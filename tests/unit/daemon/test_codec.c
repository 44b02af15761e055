/*
 * tests/unit/daemon/test_codec.c -- daemon/codec.c against protobuf-c,
 * which stays the reference: a Verify answer packs to the same bytes
 * (random results and every edge a field has: zero, NULL, empty,
 * negative, the largest values, long strings); a Verify request reads
 * to the same fields, in place; every frame outside the shapes codec.c
 * takes is left to protobuf-c.  Links codec.o and the generated code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"

#define ROUNDS	20000

static uint64_t	 rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A value with the edges of its kind often. */
static uint64_t
rnd_u64(void)
{
	static const uint64_t	 edges[] = { 0, 1, 127, 128, 16383, 16384,
	    UINT32_MAX, (uint64_t)UINT32_MAX + 1, INT64_MAX,
	    (uint64_t)INT64_MAX + 1, UINT64_MAX, UINT64_MAX - 1 };

	if (rnd() % 3 == 0)
		return edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
	return rnd() >> (rnd() % 64);
}

/* NULL, "", or a string of up to 300 bytes (two-byte lengths too). */
static char *
rnd_str(char *buf, size_t cap)
{
	size_t	 n, i;

	switch (rnd() % 5) {
	case 0:
		return NULL;
	case 1:
		buf[0] = '\0';
		return buf;
	default:
		n = rnd() % (rnd() % 4 == 0 ? cap - 1 : 24);
		for (i = 0; i < n; i++)
			buf[i] = (char)(1 + rnd() % 255);
		buf[n] = '\0';
		return buf;
	}
}

static void
expect_same_pack(const Eid__V1__Response *resp)
{
	static uint8_t		 want[4096], got[4096];
	struct codec_sizes	 cs;
	size_t			 wn, gn;

	wn = eid__v1__response__get_packed_size(resp);
	assert_true(wn <= sizeof(want));
	assert_int_equal(eid__v1__response__pack(resp, want), wn);
	gn = codec_verify_response_size(resp, &cs);
	assert_int_equal(gn, wn);
	memset(got, 0xa5, sizeof(got));
	assert_int_equal(codec_verify_response_pack(resp, &cs, got), wn);
	assert_memory_equal(got, want, wn);
	assert_int_equal(got[wn], 0xa5);	/* nothing written past it */
}

static void
test_pack_random(void **state)
{
	Eid__V1__Response	 resp;
	Eid__V1__VerifyResult	 r;
	Eid__V1__Identity	 id;
	char			 s[9][320];
	int			 i;

	(void)state;
	for (i = 0; i < ROUNDS; i++) {
		eid__v1__response__init(&resp);
		eid__v1__verify_result__init(&r);
		eid__v1__identity__init(&id);
		resp.id = rnd_u64();
		resp.body_case = EID__V1__RESPONSE__BODY_VERIFY;
		resp.verify = rnd() % 16 == 0 ? NULL : &r;
		r.verdict = (Eid__V1__Verdict)(rnd() % 8 == 0 ?
		    (int32_t)rnd() : (int32_t)(rnd() % 15));
		r.identity = rnd() % 3 == 0 ? NULL : &id;
		id.sub = rnd_str(s[0], sizeof(s[0]));
		id.name = rnd_str(s[1], sizeof(s[1]));
		id.birthdate = rnd_str(s[2], sizeof(s[2]));
		id.gender = (Eid__V1__Gender)(rnd() % 8 == 0 ?
		    (int32_t)rnd() : (int32_t)(rnd() % 3));
		id.level = (uint32_t)rnd_u64();
		r.issued_at = (int64_t)rnd_u64();
		r.expires_at = (int64_t)rnd_u64();
		r.not_before = (int64_t)rnd_u64();
		r.token_id = rnd_str(s[3], sizeof(s[3]));
		r.issuer = rnd_str(s[4], sizeof(s[4]));
		r.key_id = rnd_str(s[5], sizeof(s[5]));
		r.cached = rnd() % 4 == 0 ? (protobuf_c_boolean)(rnd() % 7) :
		    (protobuf_c_boolean)(rnd() % 2);
		r.algorithm = rnd_str(s[6], sizeof(s[6]));
		r.audience = rnd_str(s[7], sizeof(s[7]));
		expect_same_pack(&resp);
	}
}

/* The answer eidd gives most: every field set, as handler_fill sets it. */
static void
test_pack_typical(void **state)
{
	Eid__V1__Response	 resp;
	Eid__V1__VerifyResult	 r;
	Eid__V1__Identity	 id;

	(void)state;
	eid__v1__response__init(&resp);
	eid__v1__verify_result__init(&r);
	eid__v1__identity__init(&id);
	resp.id = 123456;
	resp.body_case = EID__V1__RESPONSE__BODY_VERIFY;
	resp.verify = &r;
	r.verdict = EID__V1__VERDICT__VERDICT_OK;
	r.identity = &id;
	id.sub = "001099012345";
	id.name = "Nguy\xe1\xbb\x85n V\xc4\x83n A";
	id.birthdate = "1999-01-31";
	id.gender = EID__V1__GENDER__GENDER_MALE;
	id.level = 2;
	r.issued_at = 1795460757;
	r.expires_at = 1795480757;
	r.token_id = "NQZhx-zA5I5U-YLSd7tJIA";
	r.issuer = "https://vneid.example";
	r.key_id = "m_IHOIr_g7FHp7MkpAEAilMx1MxyzQDWR6_4RNX6bZE";
	r.cached = 1;
	r.algorithm = "RS256";
	r.audience = "dichvucong";
	expect_same_pack(&resp);
	/* A refusal: no identity, the rest at zero. */
	r.verdict = EID__V1__VERDICT__VERDICT_BAD_SIGNATURE;
	r.identity = NULL;
	r.issued_at = r.expires_at = 0;
	r.token_id = r.issuer = r.key_id = r.algorithm = "";
	r.cached = 0;
	expect_same_pack(&resp);
	/* The Response alone. */
	resp.verify = NULL;
	expect_same_pack(&resp);
	resp.id = 0;
	expect_same_pack(&resp);
}

/* The fields of a request read in place equal protobuf-c's. */
static void
expect_same_request(const uint8_t *buf, size_t len)
{
	Eid__V1__Request	 req, *ref;
	Eid__V1__VerifyRequest	 v;
	const ProtobufCBinaryData *a[3], *b[3];
	size_t			 i;

	assert_int_equal(codec_verify_request(buf, len, &req, &v), 1);
	ref = eid__v1__request__unpack(NULL, len, buf);
	assert_non_null(ref);
	assert_int_equal(ref->body_case, EID__V1__REQUEST__BODY_VERIFY);
	assert_int_equal(req.body_case, EID__V1__REQUEST__BODY_VERIFY);
	assert_ptr_equal(req.verify, &v);
	assert_true(req.id == ref->id);
	assert_int_equal(v.min_level, ref->verify->min_level);
	assert_int_equal(v.consume, ref->verify->consume);
	a[0] = &v.token;
	a[1] = &v.audience;
	a[2] = &v.nonce;
	b[0] = &ref->verify->token;
	b[1] = &ref->verify->audience;
	b[2] = &ref->verify->nonce;
	for (i = 0; i < 3; i++) {
		assert_int_equal(a[i]->len, b[i]->len);
		if (a[i]->len > 0) {
			/* In place: inside the frame. */
			assert_true(a[i]->data >= buf &&
			    a[i]->data + a[i]->len <= buf + len);
			assert_memory_equal(a[i]->data, b[i]->data,
			    a[i]->len);
		} else
			assert_null(a[i]->data);
	}
	eid__v1__request__free_unpacked(ref, NULL);
}

static size_t
pack_request(const Eid__V1__Request *req, uint8_t *buf, size_t cap)
{
	size_t	 n = eid__v1__request__get_packed_size(req);

	assert_true(n <= cap);
	return eid__v1__request__pack(req, buf);
}

static void
test_request_random(void **state)
{
	Eid__V1__Request	 req;
	Eid__V1__VerifyRequest	 v;
	uint8_t			 buf[4096], tok[1200], aud[200], nonce[200];
	size_t			 i, n;
	int			 r;

	(void)state;
	for (r = 0; r < ROUNDS; r++) {
		eid__v1__request__init(&req);
		eid__v1__verify_request__init(&v);
		req.id = rnd_u64();
		req.body_case = EID__V1__REQUEST__BODY_VERIFY;
		req.verify = &v;
		v.token.len = rnd() % 4 == 0 ? 0 : rnd() % sizeof(tok);
		v.audience.len = rnd() % 3 == 0 ? 0 : rnd() % sizeof(aud);
		v.nonce.len = rnd() % 2 == 0 ? 0 : rnd() % sizeof(nonce);
		for (i = 0; i < sizeof(tok); i++)
			tok[i] = (uint8_t)rnd();
		for (i = 0; i < sizeof(aud); i++) {
			aud[i] = (uint8_t)rnd();
			nonce[i] = (uint8_t)rnd();
		}
		v.token.data = v.token.len > 0 ? tok : NULL;
		v.audience.data = v.audience.len > 0 ? aud : NULL;
		v.nonce.data = v.nonce.len > 0 ? nonce : NULL;
		v.min_level = (uint32_t)rnd_u64();
		v.consume = (protobuf_c_boolean)(rnd() % 2);
		n = pack_request(&req, buf, sizeof(buf));
		expect_same_request(buf, n);
	}
}

/* Hand-made frames: what codec.c reads, and what it leaves alone. */
static void
test_request_shapes(void **state)
{
	static const struct {
		const char	*what;
		uint8_t		 b[24];
		size_t		 len;
		int		 fast;
	} cases[] = {
		{ "Verify, no field", { 0x12, 0x00 }, 2, 1 },
		{ "id, Verify with token", { 0x08, 0x05, 0x12, 0x03, 0x0a,
		    0x01, 'x' }, 7, 1 },
		{ "Verify before id", { 0x12, 0x00, 0x08, 0x07 }, 4, 1 },
		{ "empty token present", { 0x12, 0x02, 0x0a, 0x00 }, 4, 1 },
		{ "consume 1, level 2", { 0x12, 0x04, 0x20, 0x01, 0x18,
		    0x02 }, 6, 1 },
		{ "largest id", { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xff, 0x01, 0x12, 0x00 }, 13, 1 },
		{ "level UINT32_MAX", { 0x12, 0x06, 0x18, 0xff, 0xff, 0xff,
		    0xff, 0x0f }, 8, 1 },
		/* Left to protobuf-c. */
		{ "empty frame", { 0 }, 0, 0 },
		{ "id alone", { 0x08, 0x01 }, 2, 0 },
		{ "Status", { 0x2a, 0x00 }, 2, 0 },
		{ "VerifyBatch", { 0x1a, 0x00 }, 2, 0 },
		{ "Verify twice (merged)", { 0x12, 0x00, 0x12, 0x00 }, 4, 0 },
		{ "id twice (last wins)", { 0x08, 0x01, 0x08, 0x02, 0x12,
		    0x00 }, 6, 0 },
		{ "token twice", { 0x12, 0x06, 0x0a, 0x01, 'a', 0x0a, 0x01,
		    'b' }, 8, 0 },
		{ "unknown field 6", { 0x12, 0x02, 0x30, 0x01 }, 4, 0 },
		{ "unknown outer field 9", { 0x48, 0x01, 0x12, 0x00 }, 4, 0 },
		{ "token as varint", { 0x12, 0x02, 0x08, 0x01 }, 4, 0 },
		{ "Verify as varint", { 0x10, 0x01 }, 2, 0 },
		{ "consume 2", { 0x12, 0x02, 0x20, 0x02 }, 4, 0 },
		{ "consume in 2 bytes", { 0x12, 0x03, 0x20, 0x81, 0x00 }, 5,
		    0 },
		{ "level above UINT32_MAX", { 0x12, 0x06, 0x18, 0x80, 0x80,
		    0x80, 0x80, 0x10 }, 8, 0 },
		{ "id of 11 bytes", { 0x08, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x12, 0x00 }, 14, 0 },
		{ "id's tenth byte 2", { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xff, 0xff, 0x02, 0x12, 0x00 }, 13, 0 },
		{ "id cut", { 0x12, 0x00, 0x08, 0x80 }, 4, 0 },
		{ "body past the end", { 0x12, 0x05, 0x0a, 0x00 }, 4, 0 },
		{ "token past the body", { 0x12, 0x02, 0x0a, 0x05, 'a', 'b',
		    'c', 'd', 'e' }, 9, 0 },
		{ "field 0", { 0x12, 0x02, 0x02, 0x00 }, 4, 0 },
		{ "two-byte tag", { 0x12, 0x03, 0x8a, 0x00, 0x00 }, 5, 0 },
		/* protobuf-c reads a length in at most 5 bytes. */
		{ "body length in 9 bytes", { 0x12, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x80, 0x80, 0x00 }, 9, 0 },
		{ "body length in 6 bytes", { 0x12, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x00 }, 7, 0 },
		{ "token length in 6 bytes", { 0x12, 0x08, 0x0a, 0x81, 0x80,
		    0x80, 0x80, 0x80, 0x00, 'x' }, 10, 0 },
		{ "nonce length in 5 bytes", { 0x12, 0x07, 0x2a, 0x81, 0x80,
		    0x80, 0x80, 0x00, 'x' }, 9, 1 },
	};
	Eid__V1__Request	 req;
	Eid__V1__VerifyRequest	 v;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (codec_verify_request(cases[i].b, cases[i].len, &req, &v) !=
		    cases[i].fast)
			fail_msg("%s: %s", cases[i].what, cases[i].fast ?
			    "not read" : "read, not left to protobuf-c");
		if (cases[i].fast)
			expect_same_request(cases[i].b, cases[i].len);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_typical),
		cmocka_unit_test(test_pack_random),
		cmocka_unit_test(test_request_random),
		cmocka_unit_test(test_request_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
