/*
 * client/wire.c -- the wire format and TLS setup of libeidclient, shared
 * by the blocking (client.c) and libevent (aclient.c) flavours.
 *
 * This is the only file of client/ that includes the generated protobuf-c
 * header.  Requests are packed straight into a frame buffer; Responses are
 * unpacked, checked, copied into the structs of eid/client.h and freed in
 * the same call, so no protobuf-c object outlives it.  Everything that
 * comes from the server is bounded: a frame length outside 1..65536, an
 * unknown body, an out-of-range enum or a string longer than its field is
 * a protocol error, never truncated.  It also owns the library's small
 * public helpers (strerror, names, config_env, eid_status_clear).  It does
 * no I/O.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <protobuf-c/protobuf-c.h>

#include "eid.pb-c.h"
#include "wire.h"

#define WIRE_PORT_DEFAULT	"7443"
#define WIRE_REVOKE_VALUE_MAX	128
#define WIRE_REVOKE_REASON_MAX	256

/* The length-prefixed ALPN list: one protocol, "eid/1". */
static const unsigned char wire_alpn_list[] = {
	5, 'e', 'i', 'd', '/', '1'
};

static const char *const wire_client_errs[] = {
	"success",
	"bad argument or configuration",
	"out of memory",
	"cannot connect",
	"TLS handshake or certificate failure",
	"connection broken",
	"timed out",
	"protocol violation by the server",
	"the server answered with an error"
};

static const char *const wire_server_codes[] = {
	"unspecified",
	"bad_request",
	"forbidden",
	"frame_too_large",
	"overloaded",
	"unavailable",
	"internal"
};

const char *
eid_client_strerror(enum eid_client_err e)
{
	if ((size_t)e >= sizeof(wire_client_errs) / sizeof(wire_client_errs[0]))
		return "unknown error";
	return wire_client_errs[e];
}

const char *
eid_server_code_name(enum eid_server_code c)
{
	if ((size_t)c >= sizeof(wire_server_codes) /
	    sizeof(wire_server_codes[0]))
		return "unknown";
	return wire_server_codes[c];
}

void
eid_client_config_env(struct eid_client_config *cfg)
{
	const char	*s;

	if (cfg->server == NULL || cfg->server[0] == '\0') {
		s = getenv("EID_SERVER");
		cfg->server = (s != NULL && s[0] != '\0') ? s :
		    "127.0.0.1:" WIRE_PORT_DEFAULT;
	}
	if ((cfg->cert == NULL || cfg->cert[0] == '\0') &&
	    (s = getenv("EID_CERT")) != NULL && s[0] != '\0')
		cfg->cert = s;
	if ((cfg->key == NULL || cfg->key[0] == '\0') &&
	    (s = getenv("EID_KEY")) != NULL && s[0] != '\0')
		cfg->key = s;
	if ((cfg->ca == NULL || cfg->ca[0] == '\0') &&
	    (s = getenv("EID_CA")) != NULL && s[0] != '\0')
		cfg->ca = s;
}

void
eid_status_clear(struct eid_status *st)
{
	if (st == NULL)
		return;
	free(st->keys);
	memset(st, 0, sizeof(*st));
}

void
wire_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* --- buffers ------------------------------------------------------------ */

void
wire_buf_init(struct wire_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
wire_buf_reset(struct wire_buf *b)
{
	free(b->data);
	wire_buf_init(b);
}

int
wire_buf_reserve(struct wire_buf *b, size_t more)
{
	uint8_t	*p;
	size_t	 cap;

	if (more <= b->cap - b->len)
		return 0;
	if (more > SIZE_MAX / 2 - b->len)
		return -1;
	cap = b->cap != 0 ? b->cap : 4096;
	while (cap - b->len < more)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

void
wire_buf_consume(struct wire_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

/* --- encoding ------------------------------------------------------------ */

/*
 * protobuf-c declares string fields "char *" although packing only reads
 * them; a union hands it our const strings without a cast-qual warning.
 */
static char *
wire_str(const char *s)
{
	union {
		const char	*c;
		char		*m;
	} u;

	u.c = s != NULL ? s : "";
	return u.m;
}

static uint8_t *
wire_bytes(const char *s)
{
	union {
		const char	*c;
		uint8_t		*m;
	} u;

	u.c = s;
	return u.m;
}

static enum eid_client_err
wire_check_str(const char *s, size_t max, const char *what, char *err,
    size_t errlen)
{
	if (s != NULL && strlen(s) > max) {
		wire_errf(err, errlen, "%s longer than %zu bytes", what, max);
		return EID_CLIENT_ERR_USAGE;
	}
	return EID_CLIENT_OK;
}

static enum eid_client_err
wire_check_verify(const struct eid_verify_req *r, char *err, size_t errlen)
{
	enum eid_client_err	 e;

	if (r == NULL || r->token == NULL || r->token_len == 0) {
		wire_errf(err, errlen, "empty token");
		return EID_CLIENT_ERR_USAGE;
	}
	if (r->token_len > EID_TOKEN_MAX) {
		wire_errf(err, errlen, "token longer than %d bytes",
		    EID_TOKEN_MAX);
		return EID_CLIENT_ERR_USAGE;
	}
	if (r->min_level < 0 || r->min_level > 2) {
		wire_errf(err, errlen, "minimum level %d not in 0..2",
		    r->min_level);
		return EID_CLIENT_ERR_USAGE;
	}
	if ((e = wire_check_str(r->audience, EID_AUD_MAX, "audience", err,
	    errlen)) != EID_CLIENT_OK)
		return e;
	return wire_check_str(r->nonce, EID_NONCE_MAX, "nonce", err, errlen);
}

/*
 * Fill a VerifyRequest.  The token is bytes on the wire, so it is sent as
 * it is, NUL bytes included: refusing them is the server's verdict.
 */
static void
wire_fill_verify(Eid__V1__VerifyRequest *v, const struct eid_verify_req *r)
{
	eid__v1__verify_request__init(v);
	v->token.data = wire_bytes(r->token);
	v->token.len = r->token_len;
	v->audience.data = wire_bytes(r->audience != NULL ? r->audience : "");
	v->audience.len = r->audience != NULL ? strlen(r->audience) : 0;
	v->min_level = (uint32_t)r->min_level;
	v->consume = r->consume ? 1 : 0;
	v->nonce.data = wire_bytes(r->nonce != NULL ? r->nonce : "");
	v->nonce.len = r->nonce != NULL ? strlen(r->nonce) : 0;
}

/* Append the frame of a filled Request to buf. */
static enum eid_client_err
wire_pack(struct wire_buf *buf, const Eid__V1__Request *req, char *err,
    size_t errlen)
{
	uint8_t	*p;
	size_t	 n;

	n = protobuf_c_message_get_packed_size(&req->base);
	if (n == 0 || n > WIRE_FRAME_MAX) {
		wire_errf(err, errlen, "request of %zu bytes is above the "
		    "frame limit of %d", n, WIRE_FRAME_MAX);
		return EID_CLIENT_ERR_USAGE;
	}
	if (wire_buf_reserve(buf, WIRE_HDR_LEN + n) == -1) {
		wire_errf(err, errlen, "out of memory");
		return EID_CLIENT_ERR_NOMEM;
	}
	p = buf->data + buf->len;
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	if (protobuf_c_message_pack(&req->base, p + WIRE_HDR_LEN) != n) {
		wire_errf(err, errlen, "protobuf-c packed a wrong size");
		return EID_CLIENT_ERR_USAGE;
	}
	buf->len += WIRE_HDR_LEN + n;
	return EID_CLIENT_OK;
}

enum eid_client_err
wire_encode_verify(struct wire_buf *buf, uint64_t id,
    const struct eid_verify_req *r, char *err, size_t errlen)
{
	Eid__V1__Request	 req;
	Eid__V1__VerifyRequest	 v;
	enum eid_client_err	 e;

	if ((e = wire_check_verify(r, err, errlen)) != EID_CLIENT_OK)
		return e;
	wire_fill_verify(&v, r);
	eid__v1__request__init(&req);
	req.id = id;
	req.body_case = EID__V1__REQUEST__BODY_VERIFY;
	req.verify = &v;
	return wire_pack(buf, &req, err, errlen);
}

enum eid_client_err
wire_encode_verify_batch(struct wire_buf *buf, uint64_t id,
    const struct eid_verify_req *reqs, size_t n, char *err, size_t errlen)
{
	Eid__V1__Request	  req;
	Eid__V1__VerifyBatchRequest batch;
	Eid__V1__VerifyRequest	 *items = NULL, **ptrs = NULL;
	size_t			  i;
	enum eid_client_err	  e;

	if (reqs == NULL || n == 0 || n > WIRE_BATCH_MAX) {
		wire_errf(err, errlen, "batch of %zu not in 1..%d", n,
		    WIRE_BATCH_MAX);
		return EID_CLIENT_ERR_USAGE;
	}
	for (i = 0; i < n; i++) {
		if ((e = wire_check_verify(&reqs[i], err, errlen)) !=
		    EID_CLIENT_OK)
			return e;
	}
	e = EID_CLIENT_ERR_NOMEM;
	if ((items = calloc(n, sizeof(*items))) == NULL ||
	    (ptrs = calloc(n, sizeof(*ptrs))) == NULL) {
		wire_errf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		wire_fill_verify(&items[i], &reqs[i]);
		ptrs[i] = &items[i];
	}
	eid__v1__verify_batch_request__init(&batch);
	batch.n_items = n;
	batch.items = ptrs;
	eid__v1__request__init(&req);
	req.id = id;
	req.body_case = EID__V1__REQUEST__BODY_VERIFY_BATCH;
	req.verify_batch = &batch;
	e = wire_pack(buf, &req, err, errlen);
out:
	free(ptrs);
	free(items);
	return e;
}

static enum eid_client_err
wire_check_revoke(const struct eid_revoke_req *r, char *err, size_t errlen)
{
	enum eid_client_err	 e;
	size_t			 vlen;

	if (r == NULL || r->value == NULL ||
	    (vlen = strlen(r->value)) == 0 || vlen > WIRE_REVOKE_VALUE_MAX) {
		wire_errf(err, errlen, "revocation value must be 1..%d bytes",
		    WIRE_REVOKE_VALUE_MAX);
		return EID_CLIENT_ERR_USAGE;
	}
	if (r->kind != EID_REVOKE_TOKEN && r->kind != EID_REVOKE_SUBJECT &&
	    r->kind != EID_REVOKE_KEY) {
		wire_errf(err, errlen, "unknown revocation kind %d",
		    (int)r->kind);
		return EID_CLIENT_ERR_USAGE;
	}
	if ((e = wire_check_str(r->reason, WIRE_REVOKE_REASON_MAX, "reason",
	    err, errlen)) != EID_CLIENT_OK ||
	    (e = wire_check_str(r->issuer, EID_ISS_MAX, "issuer", err,
	    errlen)) != EID_CLIENT_OK)
		return e;
	if (r->issued_before < 0 || r->expires_at < 0) {
		wire_errf(err, errlen, "negative time");
		return EID_CLIENT_ERR_USAGE;
	}
	return EID_CLIENT_OK;
}

/* Our kinds to the wire's; anything else is REVOKE_UNSPECIFIED. */
static Eid__V1__RevokeKind
wire_kind_out(int kind)
{
	switch (kind) {
	case EID_REVOKE_TOKEN:
		return EID__V1__REVOKE_KIND__REVOKE_TOKEN;
	case EID_REVOKE_SUBJECT:
		return EID__V1__REVOKE_KIND__REVOKE_SUBJECT;
	case EID_REVOKE_KEY:
		return EID__V1__REVOKE_KIND__REVOKE_KEY;
	default:
		return EID__V1__REVOKE_KIND__REVOKE_UNSPECIFIED;
	}
}

/* Fill a RevokeRequest from a request wire_check_revoke accepted. */
static void
wire_fill_revoke(Eid__V1__RevokeRequest *rv, const struct eid_revoke_req *r)
{
	eid__v1__revoke_request__init(rv);
	rv->kind = wire_kind_out((int)r->kind);
	rv->value = wire_str(r->value);
	rv->issuer = wire_str(r->issuer);
	rv->issued_before = r->issued_before;
	rv->reason = wire_str(r->reason);
	rv->expires_at = r->expires_at;
}

enum eid_client_err
wire_encode_revoke(struct wire_buf *buf, uint64_t id,
    const struct eid_revoke_req *r, char *err, size_t errlen)
{
	Eid__V1__Request	 req;
	Eid__V1__RevokeRequest	 rv;
	enum eid_client_err	 e;

	if ((e = wire_check_revoke(r, err, errlen)) != EID_CLIENT_OK)
		return e;
	wire_fill_revoke(&rv, r);
	eid__v1__request__init(&req);
	req.id = id;
	req.body_case = EID__V1__REQUEST__BODY_REVOKE;
	req.revoke = &rv;
	return wire_pack(buf, &req, err, errlen);
}

enum eid_client_err
wire_encode_revoke_batch(struct wire_buf *buf, uint64_t id,
    const struct eid_revoke_req *reqs, size_t n, char *err, size_t errlen)
{
	Eid__V1__Request	  req;
	Eid__V1__RevokeBatchRequest batch;
	Eid__V1__RevokeRequest	 *items = NULL, **ptrs = NULL;
	char			  why[160];
	size_t			  i;
	enum eid_client_err	  e;

	if (reqs == NULL || n == 0 || n > WIRE_REVOKE_BATCH_MAX) {
		wire_errf(err, errlen, "revocation batch of %zu not in 1..%d",
		    n, WIRE_REVOKE_BATCH_MAX);
		return EID_CLIENT_ERR_USAGE;
	}
	for (i = 0; i < n; i++) {
		if ((e = wire_check_revoke(&reqs[i], why, sizeof(why))) !=
		    EID_CLIENT_OK) {
			wire_errf(err, errlen, "item %zu: %s", i, why);
			return e;
		}
	}
	e = EID_CLIENT_ERR_NOMEM;
	if ((items = calloc(n, sizeof(*items))) == NULL ||
	    (ptrs = calloc(n, sizeof(*ptrs))) == NULL) {
		wire_errf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		wire_fill_revoke(&items[i], &reqs[i]);
		ptrs[i] = &items[i];
	}
	eid__v1__revoke_batch_request__init(&batch);
	batch.n_items = n;
	batch.items = ptrs;
	eid__v1__request__init(&req);
	req.id = id;
	req.body_case = EID__V1__REQUEST__BODY_REVOKE_BATCH;
	req.revoke_batch = &batch;
	e = wire_pack(buf, &req, err, errlen);
out:
	free(ptrs);
	free(items);
	return e;
}

enum eid_client_err
wire_encode_list_revocations(struct wire_buf *buf, uint64_t id, int kind,
    const struct eid_revocation *after, size_t max, char *err, size_t errlen)
{
	Eid__V1__Request		 req;
	Eid__V1__ListRevocationsRequest	 lr;

	if (kind != 0 && wire_kind_out(kind) ==
	    EID__V1__REVOKE_KIND__REVOKE_UNSPECIFIED) {
		wire_errf(err, errlen, "unknown revocation kind %d", kind);
		return EID_CLIENT_ERR_USAGE;
	}
	if (max == 0 || max > WIRE_LIST_MAX) {
		wire_errf(err, errlen, "page size %zu not in 1..%d", max,
		    WIRE_LIST_MAX);
		return EID_CLIENT_ERR_USAGE;
	}
	eid__v1__list_revocations_request__init(&lr);
	lr.kind = wire_kind_out(kind);
	lr.max = (uint32_t)max;
	if (after != NULL) {
		/* A cursor is an entry of an earlier page: all of it fits. */
		if (wire_kind_out((int)after->kind) ==
		    EID__V1__REVOKE_KIND__REVOKE_UNSPECIFIED ||
		    memchr(after->value, '\0', sizeof(after->value)) == NULL ||
		    memchr(after->issuer, '\0', sizeof(after->issuer)) ==
		    NULL) {
			wire_errf(err, errlen, "bad page cursor");
			return EID_CLIENT_ERR_USAGE;
		}
		lr.after_kind = wire_kind_out((int)after->kind);
		lr.after_issuer = wire_str(after->issuer);
		lr.after_value = wire_str(after->value);
	}
	eid__v1__request__init(&req);
	req.id = id;
	req.body_case = EID__V1__REQUEST__BODY_LIST_REVOCATIONS;
	req.list_revocations = &lr;
	return wire_pack(buf, &req, err, errlen);
}

enum eid_client_err
wire_encode_status(struct wire_buf *buf, uint64_t id, char *err,
    size_t errlen)
{
	Eid__V1__Request	 req;
	Eid__V1__StatusRequest	 st;

	eid__v1__status_request__init(&st);
	eid__v1__request__init(&req);
	req.id = id;
	req.body_case = EID__V1__REQUEST__BODY_STATUS;
	req.status = &st;
	return wire_pack(buf, &req, err, errlen);
}

/* --- decoding ------------------------------------------------------------ */

int
wire_frame_peek(const uint8_t *buf, size_t len, size_t *body_len, char *err,
    size_t errlen)
{
	uint32_t	 n;

	if (len < WIRE_HDR_LEN)
		return 0;
	n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | (uint32_t)buf[3];
	if (n == 0 || n > WIRE_FRAME_MAX) {
		wire_errf(err, errlen, "frame length %u not in 1..%d", n,
		    WIRE_FRAME_MAX);
		return -1;
	}
	if (len - WIRE_HDR_LEN < n)
		return 0;
	*body_len = n;
	return 1;
}

/* Copy a server string into a fixed field; too long is an error. */
static int
wire_copy(char *dst, size_t size, const char *src, const char *what,
    char *err, size_t errlen)
{
	size_t	 n;

	if (src == NULL)
		src = "";
	if ((n = strlen(src)) >= size) {
		wire_errf(err, errlen, "server sent a %s of %zu bytes "
		    "(limit %zu)", what, n, size - 1);
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

static int
wire_verdict(int v, enum eid_verdict *out, char *err, size_t errlen)
{
	/* eid.proto's Verdict mirrors enum eid_verdict value for value. */
	if (v < 0 || v >= EID_VERDICT_COUNT) {
		wire_errf(err, errlen, "server sent unknown verdict %d", v);
		return -1;
	}
	*out = (enum eid_verdict)v;
	return 0;
}

static int
wire_decode_result(const Eid__V1__VerifyResult *v, struct eid_verify_res *r,
    char *err, size_t errlen)
{
	const Eid__V1__Identity	*id = v->identity;

	memset(r, 0, sizeof(*r));
	if (wire_verdict((int)v->verdict, &r->verdict, err, errlen) == -1)
		goto fail;
	r->issued_at = v->issued_at;
	r->expires_at = v->expires_at;
	r->not_before = v->not_before;
	r->cached = v->cached != 0;
	if (wire_copy(r->token_id, sizeof(r->token_id), v->token_id,
	    "token_id", err, errlen) == -1 ||
	    wire_copy(r->issuer, sizeof(r->issuer), v->issuer, "issuer",
	    err, errlen) == -1 ||
	    wire_copy(r->key_id, sizeof(r->key_id), v->key_id, "key_id",
	    err, errlen) == -1 ||
	    wire_copy(r->algorithm, sizeof(r->algorithm), v->algorithm,
	    "algorithm", err, errlen) == -1 ||
	    wire_copy(r->audience, sizeof(r->audience), v->audience,
	    "audience", err, errlen) == -1)
		goto fail;
	/*
	 * An identity belongs to OK only: one without it is refused, one
	 * with another verdict is not passed on.
	 */
	if (r->verdict != EID_VERDICT_OK)
		return 0;
	if (id == NULL) {
		wire_errf(err, errlen, "server sent OK without an identity");
		goto fail;
	}
	if ((int)id->gender < EID_GENDER_UNSET ||
	    (int)id->gender > EID_GENDER_FEMALE || id->level > 2) {
		wire_errf(err, errlen, "server sent gender %d or level %u "
		    "out of range", (int)id->gender, id->level);
		goto fail;
	}
	r->gender = (enum eid_gender)id->gender;
	r->level = (int)id->level;
	if (wire_copy(r->sub, sizeof(r->sub), id->sub, "sub", err,
	    errlen) == -1 ||
	    wire_copy(r->name, sizeof(r->name), id->name, "name", err,
	    errlen) == -1 ||
	    wire_copy(r->birthdate, sizeof(r->birthdate), id->birthdate,
	    "birthdate", err, errlen) == -1)
		goto fail;
	return 0;
fail:
	memset(r, 0, sizeof(*r));
	return -1;
}

static enum eid_client_err
wire_decode_status(const Eid__V1__StatusResult *s, struct eid_status *st,
    char *err, size_t errlen)
{
	const Eid__V1__KeyInfo	*k;
	struct eid_status_key	*sk;
	size_t			 i;
	int			 v;

	memset(st, 0, sizeof(*st));
	if (wire_copy(st->version, sizeof(st->version), s->version,
	    "version", err, errlen) == -1 ||
	    wire_copy(st->principal, sizeof(st->principal), s->principal,
	    "principal", err, errlen) == -1)
		goto fail;
	st->uptime_s = s->uptime_s;
	st->started_at = s->started_at;
	st->workers = s->workers;
	st->connections_open = s->connections_open;
	st->connections_total = s->connections_total;
	st->requests_total = s->requests_total;
	st->reloads = s->reloads;
	st->cache_entries = s->cache_entries;
	st->cache_hits = s->cache_hits;
	st->cache_misses = s->cache_misses;
	st->revocations = s->revocations;
	st->consumed = s->consumed;
	/*
	 * Counts of verdicts this client does not know (a newer server)
	 * are skipped: a report, unlike a verdict, may be partial.
	 */
	for (i = 0; i < s->n_verdicts; i++) {
		if (s->verdicts[i] == NULL)
			continue;
		v = (int)s->verdicts[i]->verdict;
		if (v >= 0 && v < EID_VERDICT_COUNT)
			st->verdicts[v] += s->verdicts[i]->count;
	}
	if (s->n_keys == 0)
		return EID_CLIENT_OK;
	/* n_keys is bounded by the 64 KiB frame the keys arrived in. */
	if ((st->keys = calloc(s->n_keys, sizeof(*st->keys))) == NULL) {
		wire_errf(err, errlen, "out of memory");
		memset(st, 0, sizeof(*st));
		return EID_CLIENT_ERR_NOMEM;
	}
	st->nkeys = s->n_keys;
	for (i = 0; i < s->n_keys; i++) {
		if ((k = s->keys[i]) == NULL)
			continue;
		sk = &st->keys[i];
		if (wire_copy(sk->key_id, sizeof(sk->key_id), k->key_id,
		    "key_id", err, errlen) == -1 ||
		    wire_copy(sk->issuer, sizeof(sk->issuer), k->issuer,
		    "issuer", err, errlen) == -1 ||
		    wire_copy(sk->algorithm, sizeof(sk->algorithm),
		    k->algorithm, "algorithm", err, errlen) == -1)
			goto fail;
		sk->not_before = k->not_before;
		sk->not_after = k->not_after;
		sk->from_certificate = k->from_certificate != 0;
	}
	return EID_CLIENT_OK;
fail:
	eid_status_clear(st);
	return EID_CLIENT_ERR_PROTOCOL;
}

/* The wire's kinds to ours; REVOKE_UNSPECIFIED and unknown ones fail. */
static int
wire_kind_in(int v, enum eid_revoke_kind *out)
{
	switch (v) {
	case EID__V1__REVOKE_KIND__REVOKE_TOKEN:
		*out = EID_REVOKE_TOKEN;
		return 0;
	case EID__V1__REVOKE_KIND__REVOKE_SUBJECT:
		*out = EID_REVOKE_SUBJECT;
		return 0;
	case EID__V1__REVOKE_KIND__REVOKE_KEY:
		*out = EID_REVOKE_KEY;
		return 0;
	default:
		return -1;
	}
}

/*
 * The list's order, (kind, issuer, value) with strings compared byte by
 * byte: the order of the store's "issuer NUL value" keys.
 */
static int
wire_rev_cmp(const struct eid_revocation *a, const struct eid_revocation *b)
{
	int	 c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((c = strcmp(a->issuer, b->issuer)) != 0)
		return c;
	return strcmp(a->value, b->value);
}

static int
wire_decode_revocation(const Eid__V1__Revocation *v, struct eid_revocation *r,
    char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (v == NULL) {
		wire_errf(err, errlen, "server sent an empty revocation");
		return -1;
	}
	if (wire_kind_in((int)v->kind, &r->kind) == -1) {
		wire_errf(err, errlen, "server sent unknown revocation kind "
		    "%d", (int)v->kind);
		return -1;
	}
	if (wire_copy(r->value, sizeof(r->value), v->value, "value", err,
	    errlen) == -1 ||
	    wire_copy(r->issuer, sizeof(r->issuer), v->issuer, "issuer", err,
	    errlen) == -1 ||
	    wire_copy(r->reason, sizeof(r->reason), v->reason, "reason", err,
	    errlen) == -1)
		return -1;
	if (r->value[0] == '\0') {
		wire_errf(err, errlen, "server sent a revocation without a "
		    "value");
		return -1;
	}
	r->issued_before = v->issued_before;
	r->expires_at = v->expires_at;
	r->created_at = v->created_at;
	r->sequence = v->sequence;
	return 0;
}

/*
 * A page of the list.  Beyond the field checks, every entry must be of
 * the kind asked for and come strictly after the one before it (the
 * first after the cursor), and "more" needs at least one entry: then a
 * server, however broken, cannot keep a client paging forever.
 */
static int
wire_decode_list(const Eid__V1__ListRevocationsResult *l,
    struct wire_answer *ans, char *err, size_t errlen)
{
	const struct eid_revocation	*prev = ans->list_after;
	struct eid_revocation		*r;
	size_t				 i;

	if (l == NULL || ans->revs == NULL) {
		wire_errf(err, errlen, "no list of revocations");
		return -1;
	}
	if (l->n_items > ans->maxrevs) {
		wire_errf(err, errlen, "server sent %zu revocations, at most "
		    "%zu asked", l->n_items, ans->maxrevs);
		return -1;
	}
	if (l->more && l->n_items == 0) {
		wire_errf(err, errlen, "server sent an empty page with more "
		    "to follow");
		return -1;
	}
	for (i = 0; i < l->n_items; i++) {
		r = &ans->revs[i];
		ans->nrevs = i + 1;
		if (wire_decode_revocation(l->items[i], r, err, errlen) == -1)
			return -1;
		if (ans->list_kind != 0 && (int)r->kind != ans->list_kind) {
			wire_errf(err, errlen, "server sent a revocation of "
			    "kind %d, asked for %d", (int)r->kind,
			    ans->list_kind);
			return -1;
		}
		if (prev != NULL && wire_rev_cmp(prev, r) >= 0) {
			wire_errf(err, errlen, "server sent revocation %zu "
			    "out of order", i);
			return -1;
		}
		prev = r;
	}
	ans->more = l->more != 0;
	return 0;
}

static void
wire_decode_error(const Eid__V1__Error *e, struct eid_server_error *serr)
{
	memset(serr, 0, sizeof(*serr));
	/* Codes added by a newer server read as "unspecified". */
	if ((int)e->code > EID__V1__ERROR_CODE__ERROR_UNSPECIFIED &&
	    (int)e->code <= EID__V1__ERROR_CODE__ERROR_INTERNAL)
		serr->code = (enum eid_server_code)e->code;
	else
		serr->code = EID_SERVER_UNSPECIFIED;
}

static const char *
wire_body_name(int body)
{
	switch (body) {
	case EID__V1__RESPONSE__BODY_VERIFY:
		return "verify";
	case EID__V1__RESPONSE__BODY_VERIFY_BATCH:
		return "verify_batch";
	case EID__V1__RESPONSE__BODY_REVOKE:
		return "revoke";
	case EID__V1__RESPONSE__BODY_STATUS:
		return "status";
	case EID__V1__RESPONSE__BODY_ERROR:
		return "error";
	case EID__V1__RESPONSE__BODY_REVOKE_BATCH:
		return "revoke_batch";
	case EID__V1__RESPONSE__BODY_LIST_REVOCATIONS:
		return "list_revocations";
	default:
		return "no body";
	}
}

static void
wire_answer_zero(struct wire_answer *ans)
{
	size_t	 i;

	if (ans->res != NULL)
		for (i = 0; i < ans->nres; i++)
			memset(&ans->res[i], 0, sizeof(ans->res[i]));
	if (ans->status != NULL)
		memset(ans->status, 0, sizeof(*ans->status));
	ans->sequence = 0;
	if (ans->seqs != NULL)
		memset(ans->seqs, 0, ans->nseqs * sizeof(*ans->seqs));
	/* Only the entries a decode wrote: a page may be large. */
	if (ans->revs != NULL)
		memset(ans->revs, 0, ans->nrevs * sizeof(*ans->revs));
	ans->nrevs = 0;
	ans->more = false;
}

enum eid_client_err
wire_decode(const uint8_t *body, size_t len, struct wire_answer *ans,
    char *err, size_t errlen)
{
	Eid__V1__Response		*resp;
	const Eid__V1__VerifyBatchResult *b;
	const Eid__V1__RevokeBatchResult *rb;
	enum eid_client_err		 e = EID_CLIENT_ERR_PROTOCOL;
	size_t				 i;

	memset(&ans->serr, 0, sizeof(ans->serr));
	ans->closing = false;
	wire_answer_zero(ans);
	resp = eid__v1__response__unpack(NULL, len, body);
	if (resp == NULL) {
		wire_errf(err, errlen, "server sent a frame that is not a "
		    "Response");
		return EID_CLIENT_ERR_PROTOCOL;
	}
	if (resp->body_case == EID__V1__RESPONSE__BODY_ERROR &&
	    resp->error != NULL && (resp->id == ans->id || resp->id == 0)) {
		/*
		 * Id 0 is the server's answer to a frame whose id it could
		 * not read; the connection closes after it.
		 */
		wire_decode_error(resp->error, &ans->serr);
		if (wire_copy(ans->serr.message, sizeof(ans->serr.message),
		    resp->error->message, "error message", err,
		    errlen) == -1) {
			memset(&ans->serr, 0, sizeof(ans->serr));
			goto out;
		}
		ans->closing = resp->id == 0 ||
		    ans->serr.code == EID_SERVER_FRAME_TOO_LARGE;
		wire_errf(err, errlen, "server error %s: %s",
		    eid_server_code_name(ans->serr.code), ans->serr.message);
		e = EID_CLIENT_ERR_SERVER;
		goto out;
	}
	if (resp->id != ans->id) {
		wire_errf(err, errlen, "server answered id %llu, expected "
		    "%llu", (unsigned long long)resp->id,
		    (unsigned long long)ans->id);
		goto out;
	}
	if ((int)resp->body_case != (int)ans->expect) {
		wire_errf(err, errlen, "server answered with %s, expected %s",
		    wire_body_name((int)resp->body_case),
		    wire_body_name((int)ans->expect));
		goto out;
	}
	switch (ans->expect) {
	case WIRE_BODY_VERIFY:
		if (resp->verify == NULL || ans->res == NULL ||
		    wire_decode_result(resp->verify, ans->res, err,
		    errlen) == -1)
			goto out;
		break;
	case WIRE_BODY_VERIFY_BATCH:
		b = resp->verify_batch;
		if (b == NULL || ans->res == NULL ||
		    b->n_results != ans->nres) {
			wire_errf(err, errlen, "server sent %zu results for "
			    "%zu requests", b != NULL ? b->n_results : 0,
			    ans->nres);
			goto out;
		}
		for (i = 0; i < b->n_results; i++) {
			if (b->results[i] == NULL ||
			    wire_decode_result(b->results[i], &ans->res[i],
			    err, errlen) == -1) {
				wire_answer_zero(ans);
				goto out;
			}
		}
		break;
	case WIRE_BODY_REVOKE:
		if (resp->revoke == NULL)
			goto out;
		ans->sequence = resp->revoke->sequence;
		break;
	case WIRE_BODY_REVOKE_BATCH:
		rb = resp->revoke_batch;
		if (rb == NULL || ans->seqs == NULL ||
		    rb->n_sequences != ans->nseqs) {
			wire_errf(err, errlen, "server sent %zu sequence "
			    "numbers for %zu revocations", rb != NULL ?
			    rb->n_sequences : 0, ans->nseqs);
			goto out;
		}
		if (rb->n_sequences > 0)
			memcpy(ans->seqs, rb->sequences, rb->n_sequences *
			    sizeof(*ans->seqs));
		break;
	case WIRE_BODY_LIST_REVOCATIONS:
		if (wire_decode_list(resp->list_revocations, ans, err,
		    errlen) == -1) {
			wire_answer_zero(ans);
			goto out;
		}
		break;
	case WIRE_BODY_STATUS:
		if (resp->status == NULL || ans->status == NULL)
			goto out;
		if ((e = wire_decode_status(resp->status, ans->status, err,
		    errlen)) != EID_CLIENT_OK)
			goto out;
		break;
	default:
		wire_errf(err, errlen, "bad expected body %d",
		    (int)ans->expect);
		goto out;
	}
	e = EID_CLIENT_OK;
out:
	eid__v1__response__free_unpacked(resp, NULL);
	return e;
}

/* --- TLS ----------------------------------------------------------------- */

void
wire_tls_error(char *err, size_t errlen, const char *what, const SSL *ssl)
{
	char		 buf[256];
	unsigned long	 code;
	size_t		 off;
	long		 vr;
	int		 n;

	if (err == NULL || errlen == 0) {
		ERR_clear_error();
		return;
	}
	n = snprintf(err, errlen, "%s", what);
	off = n < 0 ? 0 : (size_t)n;
	if (ssl != NULL && (vr = SSL_get_verify_result(ssl)) != X509_V_OK &&
	    off < errlen) {
		n = snprintf(err + off, errlen - off, ": certificate: %s",
		    X509_verify_cert_error_string(vr));
		off += n < 0 ? 0 : (size_t)n;
	}
	while ((code = ERR_get_error()) != 0) {
		if (off >= errlen)
			continue;
		ERR_error_string_n(code, buf, sizeof(buf));
		n = snprintf(err + off, errlen - off, ": %s", buf);
		off += n < 0 ? 0 : (size_t)n;
	}
}

/*
 * The chain this client sends, without its root.  Given a certificate
 * file that holds the leaf alone, OpenSSL builds the chain from the CA
 * file at every handshake and sends the root too, which the server holds
 * already (RFC 8446 section 4.4.2 lets it be left out) and must still
 * decode: a fifth of eidd's CPU for a handshake (docs/adr/0015).
 * So that chain is built here, once, and set without its root; one that
 * reaches no root of the CA file -- a client certificate from another CA
 * than the server's -- is left to OpenSSL as before.  A certificate file
 * that holds its chain is sent as written, as before, but for a
 * self-signed certificate at its end: the file's order is the owner's
 * (a cross-signed intermediate for a root rollover, say), and the client's
 * CA file, meant for the server, is not asked about it.  Whatever fails
 * here leaves the context as OpenSSL had it.
 */
static void
wire_tls_chain(SSL_CTX *ctx)
{
	STACK_OF(X509)	*extra = NULL, *chain;
	X509		*leaf, *last;
	int		 n;

	if ((leaf = SSL_CTX_get0_certificate(ctx)) == NULL ||
	    SSL_CTX_get0_chain_certs(ctx, &extra) != 1)
		goto out;
	if ((n = extra != NULL ? sk_X509_num(extra) : 0) > 0) {
		last = sk_X509_value(extra, n - 1);
		/* Signed by its own key: a root, not a rollover's link. */
		if (X509_self_signed(last, 1) != 1 ||
		    (chain = sk_X509_dup(extra)) == NULL)
			goto out;
		(void)sk_X509_pop(chain);	/* a reference of extra's */
	} else {
		/* The leaf first, then its issuers; a self-signed one not. */
		if ((chain = X509_build_chain(leaf, NULL,
		    SSL_CTX_get_cert_store(ctx), 0, NULL, NULL)) == NULL)
			goto out;
		X509_free(sk_X509_shift(chain));
		/* Set, the chain turns OpenSSL's own building off. */
		if (SSL_CTX_set1_chain(ctx, chain) == 1)
			SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
		sk_X509_pop_free(chain, X509_free);
		goto out;
	}
	/* The duplicate holds extra's references: set1 takes its own. */
	(void)SSL_CTX_set1_chain(ctx, chain);
	sk_X509_free(chain);
out:
	ERR_clear_error();
}

SSL_CTX *
wire_tls_ctx_new(const struct eid_client_config *cfg,
    enum eid_client_err *errp, char *err, size_t errlen)
{
	SSL_CTX	*ctx = NULL;

	*errp = EID_CLIENT_ERR_USAGE;
	if (cfg->cert == NULL || cfg->key == NULL || cfg->ca == NULL ||
	    cfg->cert[0] == '\0' || cfg->key[0] == '\0' ||
	    cfg->ca[0] == '\0') {
		wire_errf(err, errlen, "a client certificate, its key and a "
		    "CA file are required");
		return NULL;
	}
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		*errp = EID_CLIENT_ERR_NOMEM;
		wire_tls_error(err, errlen, "SSL_CTX_new", NULL);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		wire_tls_error(err, errlen, "TLS version", NULL);
		goto fail;
	}
	/* TLS 1.2 only with forward secrecy and AEAD, as the server. */
	if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
		wire_tls_error(err, errlen, "cipher list", NULL);
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* The CA file only: the system's default roots are never trusted. */
	if (SSL_CTX_load_verify_locations(ctx, cfg->ca, NULL) != 1) {
		wire_tls_error(err, errlen, cfg->ca, NULL);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
		wire_tls_error(err, errlen, cfg->cert, NULL);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) !=
	    1) {
		wire_tls_error(err, errlen, cfg->key, NULL);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		wire_tls_error(err, errlen, "key does not match certificate",
		    NULL);
		goto fail;
	}
	wire_tls_chain(ctx);
	/* Unlike most of OpenSSL, set_alpn_protos returns 0 on success. */
	if (SSL_CTX_set_alpn_protos(ctx, wire_alpn_list,
	    sizeof(wire_alpn_list)) != 0) {
		*errp = EID_CLIENT_ERR_NOMEM;
		wire_tls_error(err, errlen, "ALPN", NULL);
		goto fail;
	}
	*errp = EID_CLIENT_OK;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

bool
wire_host_is_ip(const char *host)
{
	unsigned char	 a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

int
wire_tls_set_peer(SSL *ssl, const char *host, char *err, size_t errlen)
{
	X509_VERIFY_PARAM	*param = SSL_get0_param(ssl);

	ERR_clear_error();
	if (wire_host_is_ip(host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1) {
			wire_tls_error(err, errlen, "server address", NULL);
			return -1;
		}
		return 0;
	}
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	/* The SNI macro casts its argument to void *: hand it a char *. */
	if (X509_VERIFY_PARAM_set1_host(param, host, 0) != 1 ||
	    SSL_set_tlsext_host_name(ssl, wire_str(host)) != 1) {
		wire_tls_error(err, errlen, "server name", NULL);
		return -1;
	}
	return 0;
}

bool
wire_tls_alpn_is_ok(const SSL *ssl)
{
	const unsigned char	*p = NULL;
	unsigned int		 n = 0;

	SSL_get0_alpn_selected(ssl, &p, &n);
	return p != NULL && n == sizeof(WIRE_ALPN) - 1 &&
	    memcmp(p, WIRE_ALPN, n) == 0;
}

/* --- addresses ----------------------------------------------------------- */

int
wire_parse_hostport(const char *s, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char	*h, *p, *end;
	size_t		 hl, pl, i;

	if (s == NULL || s[0] == '\0')
		return -1;
	if (s[0] == '[') {
		h = s + 1;
		if ((end = strchr(h, ']')) == NULL)
			return -1;
		hl = (size_t)(end - h);
		if (end[1] == '\0')
			p = NULL;
		else if (end[1] == ':')
			p = end + 2;
		else
			return -1;
	} else {
		h = s;
		end = strrchr(s, ':');
		/* A bare IPv6 address has several colons and no port. */
		if (end != NULL && strchr(s, ':') != end)
			return -1;
		hl = end != NULL ? (size_t)(end - s) : strlen(s);
		p = end != NULL ? end + 1 : NULL;
	}
	if (p == NULL)
		p = WIRE_PORT_DEFAULT;
	pl = strlen(p);
	if (hl == 0 || hl >= hostlen || pl == 0 || pl >= portlen || pl > 5)
		return -1;
	for (i = 0; i < pl; i++)
		if (p[i] < '0' || p[i] > '9')
			return -1;
	if (atoi(p) < 1 || atoi(p) > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (strchr(host, '[') != NULL || strchr(host, ']') != NULL)
		return -1;
	memcpy(port, p, pl + 1);
	return 0;
}
