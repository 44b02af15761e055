/*
 * daemon/codec.c -- the two messages of the hot path, coded by hand:
 * a Request that is a single Verify, and the Response that answers it.
 *
 * protobuf-c works from descriptors, field by field, and copies every
 * bytes field of a request into an allocation; for the ~200-byte answer
 * it walks the descriptors twice (size, then pack).  Together that was
 * about 4,000 cycles a request, more than all of eidd's own verification
 * work besides the signature.  The shapes these two messages take are
 * narrow, and the code here handles exactly those:
 *
 *   - codec_verify_request() reads a Request whose fields are id (1) and
 *     verify (2), each at most once, and whose VerifyRequest holds only
 *     its five fields, each at most once, in the encodings protobuf-c
 *     itself writes.  It does not copy: the bytes fields point into the
 *     frame.  Anything else -- another body, an unknown or repeated
 *     field, a varint it has any doubt about -- returns 0, and the
 *     caller unpacks with protobuf-c as before, which accepts or refuses
 *     it.  So a frame gets the same request either way; the fuzzer
 *     (tests/fuzz/fuzz_request.c) compares the two on every input.
 *   - codec_verify_response_size() and codec_verify_response_pack()
 *     write what eid__v1__response__get_packed_size() and
 *     eid__v1__response__pack() write for a Response whose body is a
 *     VerifyResult, byte for byte (proto3: a field at its zero value, an
 *     empty string or a NULL message is not written; fields in number
 *     order).  tests/unit/daemon/test_codec.c compares them on random
 *     and edge-case results.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "eid.pb-c.h"

#include "codec.h"

/* Wire types (protobuf encoding). */
#define CODEC_VARINT	0
#define CODEC_LEN	2
#define CODEC_TAG(field, wt)	((uint8_t)((field) << 3 | (wt)))

/*
 * A varint at *p (end bounds it): at most 10 bytes, the tenth 0 or 1, so
 * that it names a value of 64 bits exactly.  false if it is not.
 */
static bool
codec_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t	*q = *p;
	uint64_t	 r = 0;
	unsigned int	 shift;

	for (shift = 0; shift < 70 && q < end; shift += 7) {
		uint8_t	 b = *q++;

		if (shift == 63 && b > 1)
			return false;
		r |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*p = q;
			*v = r;
			return true;
		}
	}
	return false;
}

/*
 * A length-delimited field's bytes; false if they pass end, or if the
 * length takes more than the 5 bytes protobuf-c reads (it refuses such a
 * frame; so must the caller, by leaving it to protobuf-c).
 */
static bool
codec_bytes(const uint8_t **p, const uint8_t *end, ProtobufCBinaryData *b)
{
	const uint8_t	*start = *p;
	uint64_t	 n;

	if (!codec_varint(p, end, &n) || *p - start > 5 ||
	    n > (uint64_t)(end - *p))
		return false;
	b->len = (size_t)n;
	/* protobuf-c leaves data NULL for an empty field. */
	b->data = n > 0 ? (uint8_t *)(uintptr_t)*p : NULL;
	*p += n;
	return true;
}

static bool
codec_verify_fields(const uint8_t *p, const uint8_t *end,
    Eid__V1__VerifyRequest *v)
{
	unsigned int	 seen = 0;
	uint64_t	 x;
	uint8_t		 tag;

	while (p < end) {
		tag = *p++;
		/* Fields 1 to 5 take one-byte tags; each may come once. */
		if ((tag >> 3) < 1 || (tag >> 3) > 5 ||
		    (seen & 1u << (tag >> 3)) != 0)
			return false;
		seen |= 1u << (tag >> 3);
		switch (tag) {
		case CODEC_TAG(1, CODEC_LEN):
			if (!codec_bytes(&p, end, &v->token))
				return false;
			break;
		case CODEC_TAG(2, CODEC_LEN):
			if (!codec_bytes(&p, end, &v->audience))
				return false;
			break;
		case CODEC_TAG(3, CODEC_VARINT):
			/* protobuf-c truncates a longer one: its to judge. */
			if (!codec_varint(&p, end, &x) || x > UINT32_MAX)
				return false;
			v->min_level = (uint32_t)x;
			break;
		case CODEC_TAG(4, CODEC_VARINT):
			/* A bool as protobuf-c writes it: one byte, 0 or 1. */
			if (p == end || *p > 1)
				return false;
			v->consume = *p++;
			break;
		case CODEC_TAG(5, CODEC_LEN):
			if (!codec_bytes(&p, end, &v->nonce))
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

int
codec_verify_request(const uint8_t *buf, size_t len, Eid__V1__Request *req,
    Eid__V1__VerifyRequest *v)
{
	const uint8_t		*p = buf, *end = buf + len;
	ProtobufCBinaryData	 body;
	bool			 have_id = false, have_body = false;
	uint64_t		 id = 0;

	eid__v1__request__init(req);
	eid__v1__verify_request__init(v);
	while (p < end) {
		switch (*p++) {
		case CODEC_TAG(1, CODEC_VARINT):
			if (have_id || !codec_varint(&p, end, &id))
				return 0;
			have_id = true;
			break;
		case CODEC_TAG(2, CODEC_LEN):
			/* From p: an empty body's data is NULL. */
			if (have_body || !codec_bytes(&p, end, &body) ||
			    !codec_verify_fields(p - body.len, p, v))
				return 0;
			have_body = true;
			break;
		default:
			return 0;
		}
	}
	if (!have_body)
		return 0;
	req->id = id;
	req->body_case = EID__V1__REQUEST__BODY_VERIFY;
	req->verify = v;
	return 1;
}

/* --- the answer ------------------------------------------------------- */

static size_t
codec_varint_size(uint64_t v)
{
	size_t	 n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *
codec_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* proto3 writes a string only when it is neither NULL nor empty. */
static size_t
codec_string_size(const char *s)
{
	size_t	 n;

	if (s == NULL || *s == '\0')
		return 0;
	n = strlen(s);
	return 1 + codec_varint_size(n) + n;
}

static uint8_t *
codec_put_string(uint8_t *p, uint8_t tag, const char *s)
{
	size_t	 n;

	if (s == NULL || *s == '\0')
		return p;
	n = strlen(s);
	*p++ = tag;
	p = codec_put_varint(p, n);
	memcpy(p, s, n);
	return p + n;
}

/* An int32 (enum) as protobuf-c writes it: a negative one in 10 bytes. */
static uint64_t
codec_int32(int32_t v)
{
	return (uint64_t)(int64_t)v;
}

static size_t
codec_varint_field_size(uint64_t v)
{
	return v == 0 ? 0 : 1 + codec_varint_size(v);
}

static uint8_t *
codec_put_varint_field(uint8_t *p, uint8_t tag, uint64_t v)
{
	if (v == 0)
		return p;
	*p++ = tag;
	return codec_put_varint(p, v);
}

static size_t
codec_identity_size(const Eid__V1__Identity *id)
{
	return codec_string_size(id->sub) + codec_string_size(id->name) +
	    codec_string_size(id->birthdate) +
	    codec_varint_field_size(codec_int32((int32_t)id->gender)) +
	    codec_varint_field_size(id->level);
}

static size_t
codec_result_size(const Eid__V1__VerifyResult *r, size_t *idn)
{
	size_t	 n;

	n = codec_varint_field_size(codec_int32((int32_t)r->verdict));
	if (r->identity != NULL) {
		*idn = codec_identity_size(r->identity);
		n += 1 + codec_varint_size(*idn) + *idn;
	}
	n += codec_varint_field_size((uint64_t)r->issued_at) +
	    codec_varint_field_size((uint64_t)r->expires_at) +
	    codec_varint_field_size((uint64_t)r->not_before) +
	    codec_string_size(r->token_id) + codec_string_size(r->issuer) +
	    codec_string_size(r->key_id) + (r->cached ? 2 : 0) +
	    codec_string_size(r->algorithm) + codec_string_size(r->audience);
	return n;
}

size_t
codec_verify_response_size(const Eid__V1__Response *resp,
    struct codec_sizes *cs)
{
	size_t	 n = codec_varint_field_size(resp->id);

	cs->result = cs->identity = 0;
	/* A oneof member is written when it is set and not NULL. */
	if (resp->body_case == EID__V1__RESPONSE__BODY_VERIFY &&
	    resp->verify != NULL) {
		cs->result = codec_result_size(resp->verify, &cs->identity);
		n += 1 + codec_varint_size(cs->result) + cs->result;
	}
	return n;
}

static uint8_t *
codec_put_identity(uint8_t *p, const Eid__V1__Identity *id)
{
	p = codec_put_string(p, CODEC_TAG(1, CODEC_LEN), id->sub);
	p = codec_put_string(p, CODEC_TAG(2, CODEC_LEN), id->name);
	p = codec_put_string(p, CODEC_TAG(3, CODEC_LEN), id->birthdate);
	p = codec_put_varint_field(p, CODEC_TAG(4, CODEC_VARINT),
	    codec_int32((int32_t)id->gender));
	return codec_put_varint_field(p, CODEC_TAG(5, CODEC_VARINT),
	    id->level);
}

static uint8_t *
codec_put_result(uint8_t *p, const Eid__V1__VerifyResult *r, size_t idn)
{
	p = codec_put_varint_field(p, CODEC_TAG(1, CODEC_VARINT),
	    codec_int32((int32_t)r->verdict));
	if (r->identity != NULL) {
		*p++ = CODEC_TAG(2, CODEC_LEN);
		p = codec_put_varint(p, idn);
		p = codec_put_identity(p, r->identity);
	}
	p = codec_put_varint_field(p, CODEC_TAG(3, CODEC_VARINT),
	    (uint64_t)r->issued_at);
	p = codec_put_varint_field(p, CODEC_TAG(4, CODEC_VARINT),
	    (uint64_t)r->expires_at);
	p = codec_put_varint_field(p, CODEC_TAG(5, CODEC_VARINT),
	    (uint64_t)r->not_before);
	p = codec_put_string(p, CODEC_TAG(6, CODEC_LEN), r->token_id);
	p = codec_put_string(p, CODEC_TAG(7, CODEC_LEN), r->issuer);
	p = codec_put_string(p, CODEC_TAG(8, CODEC_LEN), r->key_id);
	if (r->cached) {
		*p++ = CODEC_TAG(9, CODEC_VARINT);
		*p++ = 1;
	}
	p = codec_put_string(p, CODEC_TAG(10, CODEC_LEN), r->algorithm);
	return codec_put_string(p, CODEC_TAG(11, CODEC_LEN), r->audience);
}

size_t
codec_verify_response_pack(const Eid__V1__Response *resp,
    const struct codec_sizes *cs, uint8_t *out)
{
	uint8_t	*p = out;

	p = codec_put_varint_field(p, CODEC_TAG(1, CODEC_VARINT), resp->id);
	if (resp->body_case == EID__V1__RESPONSE__BODY_VERIFY &&
	    resp->verify != NULL) {
		*p++ = CODEC_TAG(2, CODEC_LEN);
		p = codec_put_varint(p, cs->result);
		p = codec_put_result(p, resp->verify, cs->identity);
	}
	return (size_t)(p - out);
}
