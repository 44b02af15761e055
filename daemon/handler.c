/*
 * daemon/handler.c -- one request frame in, one response frame out.
 *
 * The only daemon file that speaks protobuf (with frame.c's prefix): a
 * Request is unpacked, checked, answered and freed within
 * handler_frame(), and nothing protobuf-c made outlives the call.  Who
 * may do what comes from the connection's principal: relying parties
 * verify for their own audiences only, admins revoke, a certificate that
 * is not mapped gets FORBIDDEN for everything.
 *
 * Verification (handler_verify) is, in this order, on a hit and on a
 * miss alike, so that a hit answers exactly what a miss would:
 *   1. the cacheable half: a cache hit whose key is still in the current
 *      key set, or eid_verify_token() (and, if OK, a cache insert);
 *   2. eid_check_assertion(): key validity, times, audience, level, nonce
 *      against this request and the current clock;
 *   3. revocation by token id, subject or key id (a store error fails
 *      closed, INTERNAL);
 *   4. consume-once, durable before the answer.
 * Only the signature and the static claims are ever cached (DESIGN.md 7).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "eid.pb-c.h"
#include "codec.h"
#include "eidd.h"

/* Every answer fits 64 KiB (eid.proto). */
#define HANDLER_RESPONSE_MAX		65536
#include "store.h"

_Static_assert(HANDLER_BAD_REQUEST == EID__V1__ERROR_CODE__ERROR_BAD_REQUEST,
    "eidd.h mirrors eid.proto");
_Static_assert(HANDLER_FRAME_TOO_LARGE ==
    EID__V1__ERROR_CODE__ERROR_FRAME_TOO_LARGE, "eidd.h mirrors eid.proto");
_Static_assert((int)EID__V1__VERDICT__VERDICT_INVALID_CLAIMS ==
    (int)EID_VERDICT_INVALID_CLAIMS && EID_VERDICT_COUNT == 15,
    "eid.proto's Verdict mirrors enum eid_verdict");

/* One verification's result with the storage its strings point into. */
struct hres {
	Eid__V1__VerifyResult	 r;
	Eid__V1__Identity	 id;
	struct eid_assertion	 a;
	enum eid_verdict	 v;
	bool			 hit;
	bool			 consume;	/* OK so far, to be consumed */
	char			 aud[EID_AUD_MAX + 1];
	char			 nonce[EID_NONCE_MAX + 1];
};

/* A refusal that is not a verdict: becomes the Error response. */
struct herr {
	Eid__V1__ErrorCode	 code;
	char			 msg[160];
};

static int64_t
handler_now(void)
{
	return (int64_t)time(NULL);
}

static void
handler_count(const struct conn_info *ci, enum eid_verdict v)
{
	if ((unsigned)v >= EID_VERDICT_COUNT)
		return;
	atomic_fetch_add_explicit(&ci->w->ctr.verdicts[v], 1,
	    memory_order_relaxed);
	if (ci->principal != NULL && ci->principal->slot >= 0)
		atomic_fetch_add_explicit(&ci->w->srv->pctr[
		    ci->principal->slot].verdicts[v], 1, memory_order_relaxed);
}

/* Debug line for one verification: never the token, never a full PIN. */
static void
handler_log_verify(const struct conn_info *ci, const uint8_t *tok,
    size_t len, const struct hres *h)
{
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	char		 pin[16], jti[2 * EID_JTI_MAX + 8], aud[2 * EID_AUD_MAX];

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	SHA256(tok, len, md);
	log_debug("verify", "conn=%llu principal=%s aud=%s verdict=%s "
	    "tok=%02x%02x%02x%02x%02x%02x sub=%s jti=%s",
	    (unsigned long long)ci->id, ci->principal->cp->name,
	    log_escape(h->aud, aud, sizeof(aud)),
	    eid_verdict_name((enum eid_verdict)h->r.verdict), md[0], md[1],
	    md[2], md[3], md[4], md[5],
	    log_mask_pin(h->a.sub, pin, sizeof(pin)),
	    log_escape(h->a.jti, jti, sizeof(jti)));
}

/*
 * The cacheable half: a cache hit whose signing key is still configured
 * (a reload may have removed it), or the full signature and claims check.
 * A token longer than the profile allows is MALFORMED, not an error.
 */
static enum eid_verdict
handler_token(const struct conn_info *ci, const uint8_t *tok, size_t len,
    struct eid_assertion *a, bool *hit)
{
	struct eid_token_hash	 h;
	const unsigned char	*key = h.token_sha256;
	enum eid_verdict	 v;

	_Static_assert(sizeof(h.token_sha256) == STORE_KEY_LEN,
	    "the cache key is the token's SHA-256");
	*hit = false;
	if (len == 0 || tok == NULL || len > EID_TOKEN_MAX)
		return EID_VERDICT_MALFORMED;
	/*
	 * The token's SHA-256 keys the cache; the same pass gives the
	 * signing input's, which a miss verifies RS256, PS256 and ES256
	 * signatures against instead of hashing those bytes again.
	 */
	if (eid_token_hash(ci->w->hasher, (const char *)tok, len, &h) == -1)
		return EID_VERDICT_INTERNAL;
	if (store_cache_get(ci->w->rd, key, a) == 1 &&
	    eid_keyset_has_key(ci->snap->ks, a)) {
		*hit = true;
		atomic_fetch_add_explicit(&ci->w->ctr.cache_hits, 1,
		    memory_order_relaxed);
		return EID_VERDICT_OK;
	}
	atomic_fetch_add_explicit(&ci->w->ctr.cache_misses, 1,
	    memory_order_relaxed);
	jarena_begin();
	v = eid_verify_token_hashed(ci->snap->ks, (const char *)tok, len, &h,
	    &ci->snap->policy, a);
	jarena_end();
	if (v == EID_VERDICT_OK)
		store_cache_put(ci->w->srv->store, key, a);
	return v;
}

/* A bytes field as a C string: at most max bytes, no NUL inside. */
static bool
handler_bytes(const ProtobufCBinaryData *b, char *out, size_t outlen,
    size_t max)
{
	if (b->len > max || b->len >= outlen ||
	    (b->len > 0 && memchr(b->data, '\0', b->len) != NULL))
		return false;
	if (b->len > 0)
		memcpy(out, b->data, b->len);
	out[b->len] = '\0';
	return true;
}

/*
 * Everything about a VerifyRequest that can refuse it as a request (not
 * a verdict): the audience the principal may ask for, the level, the
 * nonce.  Fills aud and nonce.  Runs for every item of a batch before
 * any is verified, so that a refused item consumes nothing.
 */
static int
handler_verify_check(const struct conn_info *ci,
    const Eid__V1__VerifyRequest *q, char *aud, size_t audlen, char *nonce,
    size_t noncelen, struct herr *e)
{
	const struct principal	*p = ci->principal;

	e->code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
	if (!handler_bytes(&q->audience, aud, audlen, EID_AUD_MAX)) {
		snprintf(e->msg, sizeof(e->msg), "audience longer than %d "
		    "bytes or holding a NUL", EID_AUD_MAX);
		return -1;
	}
	if (!handler_bytes(&q->nonce, nonce, noncelen, EID_NONCE_MAX)) {
		snprintf(e->msg, sizeof(e->msg), "nonce longer than %d bytes "
		    "or holding a NUL", EID_NONCE_MAX);
		return -1;
	}
	if (q->min_level > 2) {
		snprintf(e->msg, sizeof(e->msg), "min_level must be 0, 1 or 2");
		return -1;
	}
	if (aud[0] == '\0' && p->cp->naudiences > 0)
		snprintf(aud, audlen, "%s", p->cp->audiences[0]);
	if (!snap_may_verify(p, aud)) {
		e->code = EID__V1__ERROR_CODE__ERROR_FORBIDDEN;
		snprintf(e->msg, sizeof(e->msg), "principal %s may not verify "
		    "for this audience", p->cp->name);
		atomic_fetch_add_explicit(&ci->w->ctr.forbidden, 1,
		    memory_order_relaxed);
		return -1;
	}
	return 0;
}

/*
 * One VerifyRequest.  Returns 0 with h filled (any verdict), or -1 with
 * e filled when the request itself is refused.
 */
/*
 * The verdict of one request short of consuming its token: the cacheable
 * half, the per-request checks, revocation.  A token to consume is left
 * marked (h->consume) for handler_consume().
 */
static int
handler_verify(const struct conn_info *ci, const Eid__V1__VerifyRequest *q,
    struct hres *h, struct herr *e)
{
	struct eid_request	 rq;
	enum eid_verdict	 v = EID_VERDICT_INTERNAL;
	int64_t			 now;

	eid__v1__verify_result__init(&h->r);
	eid__v1__identity__init(&h->id);
	memset(&h->a, 0, sizeof(h->a));
	h->hit = h->consume = false;
	h->v = EID_VERDICT_INTERNAL;
	if (handler_verify_check(ci, q, h->aud, sizeof(h->aud), h->nonce,
	    sizeof(h->nonce), e) != 0)
		return -1;

	rq.audience = h->aud;
	rq.min_level = (int)q->min_level;
	rq.nonce = h->nonce[0] != '\0' ? h->nonce : NULL;
	now = handler_now();
	v = handler_token(ci, q->token.data, q->token.len, &h->a, &h->hit);
	if (v == EID_VERDICT_OK)
		v = eid_check_assertion(&h->a, &rq, &ci->snap->policy, now);
	if (v == EID_VERDICT_OK) {
		switch (store_revoked(ci->w->rd, &h->a, now)) {
		case 0:
			break;
		case 1:
			v = EID_VERDICT_REVOKED;
			break;
		default:
			v = EID_VERDICT_INTERNAL;
			break;
		}
	}
	h->v = v;
	h->consume = v == EID_VERDICT_OK && q->consume;
	return 0;
}

/*
 * Consume the token of a request handler_verify() left marked: durable
 * before the answer, and REPLAYED if it was consumed before.  -1 and e
 * (UNAVAILABLE) when the store cannot say.
 */
static int
handler_consume(const struct conn_info *ci, struct hres *h, struct herr *e)
{
	if (!h->consume)
		return 0;
	h->consume = false;
	/* Marked until exp + the highest leeway (finding 6; ADR 0014). */
	switch (store_consume(ci->w->srv->store, h->a.iss, h->a.jti,
	    h->a.exp, e->msg, sizeof(e->msg))) {
	case 0:
		return 0;
	case 1:
		h->v = EID_VERDICT_REPLAYED;
		return 0;
	case 2:
		/* Its mark may be gone: store_consume(), docs/adr/0014. */
		h->v = EID_VERDICT_EXPIRED;
		return 0;
	default:
		e->code = EID__V1__ERROR_CODE__ERROR_UNAVAILABLE;
		return -1;
	}
}

/* The VerifyResult of h's verdict; the identity goes out only with OK. */
static void
handler_fill(struct hres *h)
{
	eid__v1__verify_result__init(&h->r);
	eid__v1__identity__init(&h->id);
	h->r.cached = h->hit;
	h->r.verdict = (Eid__V1__Verdict)h->v;
	h->r.audience = h->aud;
	if (h->v != EID_VERDICT_OK)
		return;
	h->id.sub = h->a.sub;
	h->id.name = h->a.name;
	h->id.birthdate = h->a.birthdate;
	h->id.gender = (Eid__V1__Gender)h->a.gender;
	h->id.level = (uint32_t)h->a.level;
	h->r.identity = &h->id;
	h->r.issued_at = h->a.iat;
	h->r.expires_at = h->a.exp;
	h->r.not_before = h->a.has_nbf ? h->a.nbf : 0;
	h->r.token_id = h->a.jti;
	h->r.issuer = h->a.iss;
	h->r.key_id = h->a.kid;
	h->r.algorithm = (char *)(uintptr_t)eid_alg_name(h->a.alg);
}

/* The final verdict of one request: its result, counters and log line. */
static void
handler_settle(const struct conn_info *ci, const Eid__V1__VerifyRequest *q,
    struct hres *h)
{
	if (h->v != EID_VERDICT_OK)
		memset(&h->a, 0, sizeof(h->a));
	handler_fill(h);
	handler_count(ci, h->v);
	handler_log_verify(ci, q->token.data, q->token.len, h);
}

/* One VerifyRequest, start to finish. */
static int
handler_verify_one(const struct conn_info *ci,
    const Eid__V1__VerifyRequest *q, struct hres *h, struct herr *e)
{
	if (handler_verify(ci, q, h, e) != 0 || handler_consume(ci, h, e) != 0)
		return -1;
	handler_settle(ci, q, h);
	return 0;
}

static void
handler_error(Eid__V1__Response *resp, Eid__V1__Error *err,
    const struct herr *e)
{
	eid__v1__error__init(err);
	err->code = e->code;
	err->message = (char *)(uintptr_t)e->msg;
	resp->body_case = EID__V1__RESPONSE__BODY_ERROR;
	resp->error = err;
}

/*
 * The packed size of resp, cs kept for handler_put_sized(): a Verify's
 * answer by codec.c, every other by protobuf-c.
 */
static size_t
handler_packed_size(const Eid__V1__Response *resp, struct codec_sizes *cs)
{
	if (resp->body_case == EID__V1__RESPONSE__BODY_VERIFY)
		return codec_verify_response_size(resp, cs);
	return eid__v1__response__get_packed_size(resp);
}

/*
 * Append resp as a frame of n bytes (its packed size, and cs, from
 * handler_packed_size()) to out: header and body in one reservation.
 */
static int
handler_put_sized(struct evbuffer *out, const Eid__V1__Response *resp,
    size_t n, const struct codec_sizes *cs)
{
	struct evbuffer_iovec	 v;
	unsigned char		*p;

	if (n > SIZE_MAX - FRAME_HDR || evbuffer_reserve_space(out,
	    (ev_ssize_t)(FRAME_HDR + n), &v, 1) < 1)
		return -1;
	p = v.iov_base;
	if (frame_header(p, n) != 0)
		return -1;	/* nothing committed */
	v.iov_len = FRAME_HDR +
	    (resp->body_case == EID__V1__RESPONSE__BODY_VERIFY ?
	    codec_verify_response_pack(resp, cs, p + FRAME_HDR) :
	    eid__v1__response__pack(resp, p + FRAME_HDR));
	return evbuffer_commit_space(out, &v, 1);
}

/* Append a packed response frame to out. */
static int
handler_put(struct evbuffer *out, const Eid__V1__Response *resp)
{
	struct codec_sizes	 cs;

	return handler_put_sized(out, resp, handler_packed_size(resp, &cs),
	    &cs);
}

void
handler_frame_error(struct evbuffer *out, int code, const char *message)
{
	Eid__V1__Response	 resp;
	Eid__V1__Error		 err;
	struct herr		 e;

	eid__v1__response__init(&resp);
	e.code = (Eid__V1__ErrorCode)code;
	snprintf(e.msg, sizeof(e.msg), "%s", message);
	handler_error(&resp, &err, &e);
	handler_put(out, &resp);
}

static int
handler_batch(const struct conn_info *ci,
    const Eid__V1__VerifyBatchRequest *q, Eid__V1__Response *resp,
    struct hres **hs, Eid__V1__VerifyResult ***rs,
    Eid__V1__VerifyBatchResult *br, struct herr *e)
{
	struct herr	 ce;
	size_t		 i;
	bool		 failed = false;

	if (q->n_items == 0 || q->n_items > EIDD_BATCH_MAX) {
		e->code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
		snprintf(e->msg, sizeof(e->msg), "a batch holds 1 to %d "
		    "items", EIDD_BATCH_MAX);
		return -1;
	}
	if ((*hs = calloc(q->n_items, sizeof(**hs))) == NULL ||
	    (*rs = calloc(q->n_items, sizeof(**rs))) == NULL) {
		e->code = EID__V1__ERROR_CODE__ERROR_OVERLOADED;
		snprintf(e->msg, sizeof(e->msg), "out of memory");
		return -1;
	}
	/*
	 * All or nothing: one refused item refuses the batch, before any
	 * item is verified (and so before any is consumed).
	 */
	for (i = 0; i < q->n_items; i++)
		if (handler_verify_check(ci, q->items[i], (*hs)[i].aud,
		    sizeof((*hs)[i].aud), (*hs)[i].nonce,
		    sizeof((*hs)[i].nonce), e) != 0)
			return -1;
	for (i = 0; i < q->n_items; i++) {
		if (handler_verify(ci, q->items[i], &(*hs)[i], e) != 0)
			return -1;
		handler_fill(&(*hs)[i]);
		(*rs)[i] = &(*hs)[i].r;
	}
	eid__v1__verify_batch_result__init(br);
	br->n_results = q->n_items;
	br->results = *rs;
	resp->body_case = EID__V1__RESPONSE__BODY_VERIFY_BATCH;
	resp->verify_batch = br;
	/*
	 * Whether the answer fits is known before anything is consumed:
	 * consuming only turns OK into REPLAYED or INTERNAL, which drop the
	 * identity, so the answer cannot grow.  Refused here, a too-large
	 * batch has consumed nothing and can be sent again in parts.
	 */
	if (eid__v1__response__get_packed_size(resp) > HANDLER_RESPONSE_MAX) {
		resp->body_case = EID__V1__RESPONSE__BODY__NOT_SET;
		resp->verify_batch = NULL;
		e->code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
		snprintf(e->msg, sizeof(e->msg), "the answer would pass "
		    "64 KiB: send smaller batches (nothing was consumed)");
		return -1;
	}
	/*
	 * Then consume, in order.  An item whose consume the store cannot
	 * answer is INTERNAL, as is every item after it that still had to be
	 * consumed: the answer still goes out, so that every token consumed
	 * is acknowledged as OK, and none is consumed without its answer.
	 */
	for (i = 0; i < q->n_items; i++) {
		if (failed && (*hs)[i].consume) {
			(*hs)[i].consume = false;
			(*hs)[i].v = EID_VERDICT_INTERNAL;
		} else if (handler_consume(ci, &(*hs)[i], &ce) != 0) {
			(*hs)[i].v = EID_VERDICT_INTERNAL;
			if (!failed)
				log_warnx("consume_failed", "conn=%llu "
				    "error=\"%s\"", (unsigned long long)ci->id,
				    ce.msg);
			failed = true;
		}
		handler_settle(ci, q->items[i], &(*hs)[i]);
	}
	return 0;
}

/* Copy s (at most max bytes) into dst; false if longer or empty. */
static bool
handler_copy(char *dst, size_t dstlen, const char *s, size_t max,
    bool empty_ok)
{
	size_t	 n = s != NULL ? strlen(s) : 0;

	if (n > max || n >= dstlen || (n == 0 && !empty_ok))
		return false;
	memcpy(dst, s != NULL ? s : "", n + 1);
	return true;
}

/* Twelve ASCII digits (not isdigit(): no locale, no other scripts). */
static bool
handler_is_pin(const char *s)
{
	size_t	 i;

	for (i = 0; i < EID_PIN_LEN; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return s[EID_PIN_LEN] == '\0';
}

/* The wire's revocation kind as the store's; -1 for none of the three. */
static int
handler_kind_store(Eid__V1__RevokeKind k, enum store_rev_kind *out)
{
	switch (k) {
	case EID__V1__REVOKE_KIND__REVOKE_TOKEN:
		*out = STORE_REV_TOKEN;
		return 0;
	case EID__V1__REVOKE_KIND__REVOKE_SUBJECT:
		*out = STORE_REV_SUBJECT;
		return 0;
	case EID__V1__REVOKE_KIND__REVOKE_KEY:
		*out = STORE_REV_KEY;
		return 0;
	default:
		return -1;
	}
}

/*
 * One RevokeRequest into a store revocation, every field checked; -1 and
 * e (BAD_REQUEST) when it is not acceptable.
 */
static int
handler_revocation(const Eid__V1__RevokeRequest *q, int64_t now,
    struct store_revocation *r, struct herr *e)
{
	memset(r, 0, sizeof(*r));
	e->code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
	if (handler_kind_store(q->kind, &r->kind) != 0) {
		snprintf(e->msg, sizeof(e->msg), "kind must be token, subject "
		    "or key");
		return -1;
	}
	if (!handler_copy(r->value, sizeof(r->value), q->value, EID_JTI_MAX,
	    false)) {
		snprintf(e->msg, sizeof(e->msg), "value must be 1 to %d bytes",
		    EID_JTI_MAX);
		return -1;
	}
	if (r->kind == STORE_REV_SUBJECT && !handler_is_pin(r->value)) {
		snprintf(e->msg, sizeof(e->msg), "a subject is a 12-digit "
		    "personal identification number");
		return -1;
	}
	if (!handler_copy(r->iss, sizeof(r->iss), q->issuer, EID_ISS_MAX,
	    true) || !handler_copy(r->reason, sizeof(r->reason), q->reason,
	    STORE_REASON_MAX, true)) {
		snprintf(e->msg, sizeof(e->msg), "issuer or reason too long");
		return -1;
	}
	if (q->issued_before < 0 || q->expires_at < 0 ||
	    (q->expires_at != 0 && q->expires_at <= now)) {
		snprintf(e->msg, sizeof(e->msg), "issued_before and expires_at "
		    "must be 0 or times to come");
		return -1;
	}
	r->issued_before = r->kind != STORE_REV_SUBJECT ? 0 :
	    q->issued_before != 0 ? q->issued_before : now;
	r->expires_at = q->expires_at;
	r->created_at = now;
	return 0;
}

static const char *
handler_kind_name(enum store_rev_kind k)
{
	return k == STORE_REV_TOKEN ? "token" : k == STORE_REV_SUBJECT ?
	    "subject" : "key";
}

/*
 * Record n revocations, durable before the answer, all or none; one
 * audit line each (never a full PIN).
 */
static int
handler_record(const struct conn_info *ci, struct store_revocation *r,
    size_t n, struct herr *e)
{
	char	 val[2 * EID_JTI_MAX + 8], why[600], pin[16];
	size_t	 i;

	if (store_revoke(ci->w->srv->store, r, n, e->msg, sizeof(e->msg)) !=
	    0) {
		e->code = EID__V1__ERROR_CODE__ERROR_UNAVAILABLE;
		log_warnx("revoke_refused", "principal=%s count=%zu reason=%s",
		    ci->principal->cp->name, n, log_escape(e->msg, why,
		    sizeof(why)));
		return -1;
	}
	for (i = 0; i < n; i++)
		log_info("revoked", "principal=%s kind=%s value=%s seq=%llu "
		    "reason=%s", ci->principal->cp->name,
		    handler_kind_name(r[i].kind), r[i].kind ==
		    STORE_REV_SUBJECT ? log_mask_pin(r[i].value, pin,
		    sizeof(pin)) : log_escape(r[i].value, val, sizeof(val)),
		    (unsigned long long)r[i].seq, log_escape(r[i].reason, why,
		    sizeof(why)));
	return 0;
}

/* Revoke (admins only): validated, then durable before the answer. */
static int
handler_revoke(const struct conn_info *ci, const Eid__V1__RevokeRequest *q,
    Eid__V1__Response *resp, Eid__V1__RevokeResult *rr, struct herr *e)
{
	struct store_revocation	 r;

	if (handler_revocation(q, handler_now(), &r, e) != 0 ||
	    handler_record(ci, &r, 1, e) != 0)
		return -1;
	eid__v1__revoke_result__init(rr);
	rr->sequence = r.seq;
	resp->body_case = EID__V1__RESPONSE__BODY_REVOKE;
	resp->revoke = rr;
	return 0;
}

#define HANDLER_REVOKE_BATCH_MAX	1000
#define HANDLER_LIST_MAX		1000
#define HANDLER_PAGE_BYTES		(60 * 1024)

/* RevokeBatch (admins only): every item checked, then all or none. */
static int
handler_revoke_batch(const struct conn_info *ci,
    const Eid__V1__RevokeBatchRequest *q, Eid__V1__Response *resp,
    Eid__V1__RevokeBatchResult *rb, uint64_t **seqs, struct herr *e)
{
	struct store_revocation	*r;
	int64_t			 now = handler_now();
	size_t			 i;
	int			 rc = -1;

	if (q->n_items == 0 || q->n_items > HANDLER_REVOKE_BATCH_MAX) {
		e->code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
		snprintf(e->msg, sizeof(e->msg), "a batch holds 1 to %d "
		    "revocations", HANDLER_REVOKE_BATCH_MAX);
		return -1;
	}
	if ((r = calloc(q->n_items, sizeof(*r))) == NULL ||
	    (*seqs = calloc(q->n_items, sizeof(**seqs))) == NULL) {
		e->code = EID__V1__ERROR_CODE__ERROR_OVERLOADED;
		snprintf(e->msg, sizeof(e->msg), "out of memory");
		goto out;
	}
	for (i = 0; i < q->n_items; i++)
		if (handler_revocation(q->items[i], now, &r[i], e) != 0) {
			/* Which item: an import names the line from it. */
			char	 m[sizeof(e->msg)];
			int	 k;

			k = snprintf(m, sizeof(m), "item %zu: ", i + 1);
			if (k > 0 && (size_t)k < sizeof(m)) {
				memcpy(m + k, e->msg, sizeof(m) - (size_t)k - 1);
				m[sizeof(m) - 1] = '\0';
				memcpy(e->msg, m, sizeof(e->msg));
			}
			goto out;
		}
	if (handler_record(ci, r, q->n_items, e) != 0)
		goto out;
	for (i = 0; i < q->n_items; i++)
		(*seqs)[i] = r[i].seq;
	eid__v1__revoke_batch_result__init(rb);
	rb->n_sequences = q->n_items;
	rb->sequences = *seqs;
	resp->body_case = EID__V1__RESPONSE__BODY_REVOKE_BATCH;
	resp->revoke_batch = rb;
	rc = 0;
out:
	free(r);
	return rc;
}

/* The revocations of one ListRevocations page, until packed. */
struct hlist {
	Eid__V1__ListRevocationsResult	 res;
	Eid__V1__Revocation		*items;
	Eid__V1__Revocation		**ptrs;
	struct store_revocation		*revs;
	size_t				 n;
	size_t				 max;
};

static int
handler_list_cb(const struct store_revocation *r, void *arg)
{
	struct hlist	*l = arg;

	if (l->n == l->max)
		return 1;
	l->revs[l->n++] = *r;
	return 0;
}

static Eid__V1__RevokeKind
handler_kind_wire(enum store_rev_kind k)
{
	return k == STORE_REV_TOKEN ? EID__V1__REVOKE_KIND__REVOKE_TOKEN :
	    k == STORE_REV_SUBJECT ? EID__V1__REVOKE_KIND__REVOKE_SUBJECT :
	    EID__V1__REVOKE_KIND__REVOKE_KEY;
}


/* ListRevocations (admins only): one page, asking one more for "more". */
static int
handler_list(const struct conn_info *ci,
    const Eid__V1__ListRevocationsRequest *q, Eid__V1__Response *resp,
    struct hlist *l, struct herr *e)
{
	struct store_revocation	 after;
	enum store_rev_kind	 kind = 0;
	size_t			 i, max, bytes;
	long			 got;

	e->code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
	max = q->max == 0 ? HANDLER_LIST_MAX : q->max;
	if (max > HANDLER_LIST_MAX || (q->kind !=
	    EID__V1__REVOKE_KIND__REVOKE_UNSPECIFIED &&
	    handler_kind_store(q->kind, &kind) != 0)) {
		snprintf(e->msg, sizeof(e->msg), "max must be 0 to %d, kind "
		    "token, subject, key or unspecified", HANDLER_LIST_MAX);
		return -1;
	}
	memset(&after, 0, sizeof(after));
	if (q->after_kind != EID__V1__REVOKE_KIND__REVOKE_UNSPECIFIED &&
	    (handler_kind_store(q->after_kind, &after.kind) != 0 ||
	    !handler_copy(after.iss, sizeof(after.iss), q->after_issuer,
	    EID_ISS_MAX, true) || !handler_copy(after.value,
	    sizeof(after.value), q->after_value, EID_JTI_MAX, false))) {
		snprintf(e->msg, sizeof(e->msg), "after_* does not name a "
		    "revocation");
		return -1;
	}
	e->code = EID__V1__ERROR_CODE__ERROR_OVERLOADED;
	l->max = max + 1;
	if ((l->revs = calloc(l->max, sizeof(*l->revs))) == NULL ||
	    (l->items = calloc(l->max, sizeof(*l->items))) == NULL ||
	    (l->ptrs = calloc(l->max, sizeof(*l->ptrs))) == NULL) {
		snprintf(e->msg, sizeof(e->msg), "out of memory");
		return -1;
	}
	got = store_revocations_list(ci->w->rd, kind, q->after_kind !=
	    EID__V1__REVOKE_KIND__REVOKE_UNSPECIFIED ? &after : NULL, l->max,
	    handler_list_cb, l);
	if (got < 0) {
		e->code = EID__V1__ERROR_CODE__ERROR_UNAVAILABLE;
		snprintf(e->msg, sizeof(e->msg), "the state store cannot be "
		    "read");
		return -1;
	}
	eid__v1__list_revocations_result__init(&l->res);
	l->res.more = l->n > max;
	/*
	 * A page also ends before its frame would pass what every client
	 * accepts (64 KiB): then fewer than max come back, with "more".
	 */
	for (i = 0, bytes = 0; i < l->n && i < max; i++) {
		eid__v1__revocation__init(&l->items[i]);
		l->items[i].kind = handler_kind_wire(l->revs[i].kind);
		l->items[i].value = l->revs[i].value;
		l->items[i].issuer = l->revs[i].iss;
		l->items[i].issued_before = l->revs[i].issued_before;
		l->items[i].expires_at = l->revs[i].expires_at;
		l->items[i].created_at = l->revs[i].created_at;
		l->items[i].sequence = l->revs[i].seq;
		l->items[i].reason = l->revs[i].reason;
		bytes += eid__v1__revocation__get_packed_size(&l->items[i]) + 4;
		if (bytes > HANDLER_PAGE_BYTES) {
			l->res.more = true;
			break;
		}
		l->ptrs[i] = &l->items[i];
	}
	l->res.n_items = i;
	l->res.items = l->ptrs;
	resp->body_case = EID__V1__RESPONSE__BODY_LIST_REVOCATIONS;
	resp->list_revocations = &l->res;
	return 0;
}

/* Strings of the status answer, kept until it is packed. */
struct hstatus {
	Eid__V1__StatusResult	 s;
	Eid__V1__VerdictCount	 vc[EID_VERDICT_COUNT];
	Eid__V1__VerdictCount	*vcp[EID_VERDICT_COUNT];
	Eid__V1__KeyInfo	*ki;
	Eid__V1__KeyInfo	**kip;
	char			 version[64];
	char			 principal[128];
};

static int
handler_status(const struct conn_info *ci, struct hstatus *st,
    Eid__V1__Response *resp, struct herr *e)
{
	struct server		*srv = ci->w->srv;
	struct store_stats	 ss;
	struct counters		 c;
	struct eid_key_info	 info;
	size_t			 i, n;

	eid__v1__status_result__init(&st->s);
	worker_counters(srv, &c);
	snprintf(st->version, sizeof(st->version), "eidd %s", EIDD_VERSION);
	snprintf(st->principal, sizeof(st->principal), "%s",
	    ci->principal->cp->name);
	st->s.version = st->version;
	st->s.principal = st->principal;
	st->s.started_at = srv->started_at;
	st->s.uptime_s = handler_now() - srv->started_at;
	st->s.workers = (uint32_t)srv->nworkers;
	st->s.connections_open = (uint64_t)atomic_load(&srv->conns_open);
	st->s.connections_total = atomic_load(&c.conns_total);
	st->s.requests_total = atomic_load(&c.requests);
	st->s.reloads = atomic_load(&srv->reloads);
	st->s.cache_hits = atomic_load(&c.cache_hits);
	st->s.cache_misses = atomic_load(&c.cache_misses);
	if (store_stats(ci->w->rd, &ss) == 0) {
		st->s.cache_entries = ss.cache_entries;
		st->s.revocations = ss.revocations;
		st->s.consumed = ss.consumed;
	}
	for (i = 0; i < EID_VERDICT_COUNT; i++) {
		eid__v1__verdict_count__init(&st->vc[i]);
		st->vc[i].verdict = (Eid__V1__Verdict)i;
		st->vc[i].count = atomic_load(&c.verdicts[i]);
		st->vcp[i] = &st->vc[i];
	}
	st->s.n_verdicts = EID_VERDICT_COUNT;
	st->s.verdicts = st->vcp;
	n = eid_keyset_count(ci->snap->ks);
	if ((st->ki = calloc(n + 1, sizeof(*st->ki))) == NULL ||
	    (st->kip = calloc(n + 1, sizeof(*st->kip))) == NULL) {
		e->code = EID__V1__ERROR_CODE__ERROR_OVERLOADED;
		snprintf(e->msg, sizeof(e->msg), "out of memory");
		return -1;
	}
	for (i = 0; i < n && eid_keyset_key_info(ci->snap->ks, i, &info);
	    i++) {
		eid__v1__key_info__init(&st->ki[i]);
		st->ki[i].key_id = (char *)(uintptr_t)info.kid;
		st->ki[i].issuer = (char *)(uintptr_t)info.iss;
		st->ki[i].algorithm = (char *)(uintptr_t)eid_alg_name(info.alg);
		st->ki[i].not_before = info.not_before;
		st->ki[i].not_after = info.not_after;
		st->ki[i].from_certificate = info.from_certificate;
		st->kip[i] = &st->ki[i];
	}
	st->s.n_keys = i;
	st->s.keys = st->kip;
	resp->body_case = EID__V1__RESPONSE__BODY_STATUS;
	resp->status = &st->s;
	return 0;
}

const uint64_t counters_latency_us[LATENCY_BUCKETS] = {
	10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000
};

static int64_t
handler_clock_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Count one request of op and its latency. */
static void
handler_done(const struct conn_info *ci, enum counter_op op, int64_t t0)
{
	struct counters	*c = &ci->w->ctr;
	int64_t		 ns = handler_clock_ns() - t0;
	size_t		 b;

	if (ns < 0)
		ns = 0;
	for (b = 0; b < LATENCY_BUCKETS; b++)
		if ((uint64_t)ns <= counters_latency_us[b] * 1000)
			break;
	atomic_fetch_add_explicit(&c->ops[op], 1, memory_order_relaxed);
	if (ci->principal != NULL && ci->principal->slot >= 0)
		atomic_fetch_add_explicit(&ci->w->srv->pctr[
		    ci->principal->slot].ops[op], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->latency[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->latency_sum_ns, (uint64_t)ns,
	    memory_order_relaxed);
}

/*
 * protobuf-c allocates per field, and a frame of tiny repeated items
 * unpacks into dozens of times its size: unpacking gets a budget.  The
 * first bytes come from an arena on the handler's stack, which a Verify
 * never outgrows (its message, its item and their bytes fields: four
 * allocations that were four malloc/free pairs per request); the rest,
 * a large batch's, from malloc.  Freeing arena memory only gives the
 * budget back: the arena dies with the frame.
 */
#define HANDLER_UNPACK_FACTOR	16
#define HANDLER_UNPACK_SLACK	(64 * 1024)
#define HANDLER_ARENA		4096

struct hbudget {
	size_t		 left;
	unsigned char	*arena;
	size_t		 arena_off;
};

static void *
handler_alloc(void *arg, size_t n)
{
	struct hbudget	*b = arg;
	size_t		*p, need;

	if (n > b->left || n > SIZE_MAX - 2 * sizeof(size_t))
		return NULL;
	/* A size header, and pointers stay size_t-aligned, as malloc's. */
	need = (n + 2 * sizeof(size_t) - 1) / sizeof(size_t) *
	    sizeof(size_t);
	if (need <= HANDLER_ARENA - b->arena_off) {
		p = (size_t *)(void *)(b->arena + b->arena_off);
		b->arena_off += need;
	} else if ((p = malloc(n + sizeof(size_t))) == NULL)
		return NULL;
	b->left -= n;
	*p = n;
	return p + 1;
}

static void
handler_free(void *arg, void *ptr)
{
	struct hbudget	*b = arg;
	size_t		*p = ptr;
	uintptr_t	 lo = (uintptr_t)b->arena;

	if (p == NULL)
		return;
	b->left += p[-1];
	/* By the header's address: a 0-byte block may end the arena. */
	if ((uintptr_t)(p - 1) - lo >= HANDLER_ARENA)
		free(p - 1);
}

int
handler_frame(const struct conn_info *ci, const uint8_t *buf, size_t len,
    struct evbuffer *out, size_t *cost)
{
	Eid__V1__Request		*req, fast;
	Eid__V1__VerifyRequest		 fast_verify;
	Eid__V1__Response		 resp;
	struct codec_sizes		 cs;
	Eid__V1__Error			 err;
	Eid__V1__VerifyBatchResult	 br;
	Eid__V1__RevokeResult		 rr;
	Eid__V1__RevokeBatchResult	 rb;
	struct hlist			 list;
	uint64_t			*seqs = NULL;
	Eid__V1__VerifyResult		**rs = NULL;
	struct hres			*hs = NULL, one;
	struct hstatus			 st;
	struct herr			 e;
	struct hbudget			 budget;
	_Alignas(max_align_t) unsigned char arena[HANDLER_ARENA];
	ProtobufCAllocator		 alloc;
	enum counter_op			 op = OP_INVALID;
	int64_t				 t0;
	size_t				 n;
	int				 rc = 0, ok = -1;

	eid__v1__response__init(&resp);
	memset(&st, 0, sizeof(st));
	memset(&list, 0, sizeof(list));
	*cost = 1;
	t0 = handler_clock_ns();
	atomic_fetch_add_explicit(&ci->w->ctr.requests, 1,
	    memory_order_relaxed);
	/*
	 * Nothing of an unmapped peer is decoded, and it is not kept: it
	 * could do nothing but hold a connection slot.
	 */
	if (ci->principal == NULL) {
		atomic_fetch_add_explicit(&ci->w->ctr.forbidden, 1,
		    memory_order_relaxed);
		e.code = EID__V1__ERROR_CODE__ERROR_FORBIDDEN;
		snprintf(e.msg, sizeof(e.msg), "client certificate is not "
		    "mapped to a principal");
		handler_error(&resp, &err, &e);
		handler_put(out, &resp);
		handler_done(ci, OP_INVALID, t0);
		return -1;
	}
	budget.left = len * HANDLER_UNPACK_FACTOR + HANDLER_UNPACK_SLACK;
	budget.arena = arena;
	budget.arena_off = 0;
	alloc.alloc = handler_alloc;
	alloc.free = handler_free;
	alloc.allocator_data = &budget;
	/* A single Verify is read in place; anything else by protobuf-c. */
	if (codec_verify_request(buf, len, &fast, &fast_verify) == 1)
		req = &fast;
	else if ((req = eid__v1__request__unpack(&alloc, len, buf)) ==
	    NULL) {
		atomic_fetch_add_explicit(&ci->w->ctr.protocol_errors, 1,
		    memory_order_relaxed);
		log_debug("bad_frame", "conn=%llu len=%zu reason=unpack",
		    (unsigned long long)ci->id, len);
		e.code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
		snprintf(e.msg, sizeof(e.msg), "request does not parse");
		handler_error(&resp, &err, &e);
		handler_put(out, &resp);
		handler_done(ci, OP_INVALID, t0);
		return -1;
	}
	resp.id = req->id;
	/*
	 * A batch costs the worker's pass what its items would as separate
	 * frames, so that one connection's batches cannot hold the worker
	 * from the others for requests_per_read batches at a time.
	 */
	if (req->body_case == EID__V1__REQUEST__BODY_VERIFY_BATCH &&
	    req->verify_batch != NULL && req->verify_batch->n_items > 1)
		*cost = req->verify_batch->n_items;
	else if (req->body_case == EID__V1__REQUEST__BODY_REVOKE_BATCH &&
	    req->revoke_batch != NULL && req->revoke_batch->n_items > 1)
		*cost = req->revoke_batch->n_items;
	switch (req->body_case) {
	case EID__V1__REQUEST__BODY_VERIFY:
		op = OP_VERIFY;
		if ((ok = handler_verify_one(ci, req->verify, &one, &e)) == 0) {
			resp.body_case = EID__V1__RESPONSE__BODY_VERIFY;
			resp.verify = &one.r;
		}
		break;
	case EID__V1__REQUEST__BODY_VERIFY_BATCH:
		op = OP_VERIFY_BATCH;
		ok = handler_batch(ci, req->verify_batch, &resp, &hs, &rs, &br,
		    &e);
		break;
	case EID__V1__REQUEST__BODY_REVOKE:
		op = OP_REVOKE;
		if (ci->principal->cp->role != CFG_ROLE_ADMIN) {
			e.code = EID__V1__ERROR_CODE__ERROR_FORBIDDEN;
			snprintf(e.msg, sizeof(e.msg), "only admins revoke");
			atomic_fetch_add_explicit(&ci->w->ctr.forbidden, 1,
			    memory_order_relaxed);
		} else
			ok = handler_revoke(ci, req->revoke, &resp, &rr, &e);
		break;
	case EID__V1__REQUEST__BODY_REVOKE_BATCH:
	case EID__V1__REQUEST__BODY_LIST_REVOCATIONS:
		op = req->body_case == EID__V1__REQUEST__BODY_REVOKE_BATCH ?
		    OP_REVOKE_BATCH : OP_LIST_REVOCATIONS;
		if (ci->principal->cp->role != CFG_ROLE_ADMIN) {
			e.code = EID__V1__ERROR_CODE__ERROR_FORBIDDEN;
			snprintf(e.msg, sizeof(e.msg), "only admins manage "
			    "revocations");
			atomic_fetch_add_explicit(&ci->w->ctr.forbidden, 1,
			    memory_order_relaxed);
		} else if (req->body_case ==
		    EID__V1__REQUEST__BODY_REVOKE_BATCH)
			ok = handler_revoke_batch(ci, req->revoke_batch, &resp,
			    &rb, &seqs, &e);
		else
			ok = handler_list(ci, req->list_revocations, &resp,
			    &list, &e);
		break;
	case EID__V1__REQUEST__BODY_STATUS:
		op = OP_STATUS;
		/* Counters of every party and the key list: operators only. */
		if (ci->principal->cp->role != CFG_ROLE_ADMIN) {
			e.code = EID__V1__ERROR_CODE__ERROR_FORBIDDEN;
			snprintf(e.msg, sizeof(e.msg), "only admins read the "
			    "status");
			atomic_fetch_add_explicit(&ci->w->ctr.forbidden, 1,
			    memory_order_relaxed);
		} else
			ok = handler_status(ci, &st, &resp, &e);
		break;
	case EID__V1__REQUEST__BODY__NOT_SET:
	default:
		e.code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
		snprintf(e.msg, sizeof(e.msg), "request without a body");
		break;
	}
	if (ok != 0)
		handler_error(&resp, &err, &e);
	/*
	 * Every answer fits 64 KiB (eid.proto): else an error says why.
	 * The size, computed once, is also the frame's length.
	 */
	if ((n = handler_packed_size(&resp, &cs)) > HANDLER_RESPONSE_MAX) {
		e.code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
		snprintf(e.msg, sizeof(e.msg), "the answer would pass 64 KiB: "
		    "send smaller batches");
		handler_error(&resp, &err, &e);
		n = handler_packed_size(&resp, &cs);
	}
	if (handler_put_sized(out, &resp, n, &cs) != 0)
		rc = -1;
	free(st.ki);
	free(st.kip);
	free(seqs);
	free(list.revs);
	free(list.items);
	free(list.ptrs);
	free(hs);
	free(rs);
	if (req != &fast)
		eid__v1__request__free_unpacked(req, &alloc);
	handler_done(ci, op, t0);
	return rc;
}

/* --- the HTTPS/JSON gateway -------------------------------------------- */

static const char *const handler_error_names[] = {
	[EID__V1__ERROR_CODE__ERROR_UNSPECIFIED] = "unspecified",
	[EID__V1__ERROR_CODE__ERROR_BAD_REQUEST] = "bad_request",
	[EID__V1__ERROR_CODE__ERROR_FORBIDDEN] = "forbidden",
	[EID__V1__ERROR_CODE__ERROR_FRAME_TOO_LARGE] = "too_large",
	[EID__V1__ERROR_CODE__ERROR_OVERLOADED] = "overloaded",
	[EID__V1__ERROR_CODE__ERROR_UNAVAILABLE] = "unavailable",
	[EID__V1__ERROR_CODE__ERROR_INTERNAL] = "internal",
};

static int
handler_http_status(Eid__V1__ErrorCode c)
{
	switch (c) {
	case EID__V1__ERROR_CODE__ERROR_BAD_REQUEST:
		return 400;
	case EID__V1__ERROR_CODE__ERROR_FORBIDDEN:
		return 403;
	case EID__V1__ERROR_CODE__ERROR_FRAME_TOO_LARGE:
		return 413;
	case EID__V1__ERROR_CODE__ERROR_OVERLOADED:
	case EID__V1__ERROR_CODE__ERROR_UNAVAILABLE:
		return 503;
	default:
		return 500;
	}
}

static int
handler_json_error(const struct herr *e, json_t **out)
{
	unsigned int	 c = (unsigned int)e->code;

	*out = json_pack("{s:{s:s, s:s}}", "error", "code",
	    c < sizeof(handler_error_names) / sizeof(handler_error_names[0]) &&
	    handler_error_names[c] != NULL ? handler_error_names[c] :
	    "internal", "message", e->msg);
	return handler_http_status(e->code);
}

/* A lower-case verdict name ("ok", "bad_signature"). */
static void
handler_verdict_lower(enum eid_verdict v, char *buf, size_t len)
{
	const char	*n = eid_verdict_name(v);
	size_t		 i;

	for (i = 0; n[i] != '\0' && i + 1 < len; i++)
		buf[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] - 'A' + 'a' :
		    n[i]);
	buf[i] = '\0';
}

/* Only the members named may appear, each of the JSON type given. */
static bool
handler_json_members(json_t *o, const char *const *names,
    const json_type *types, struct herr *e)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	json_object_foreach(o, k, v) {
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(k, names[i]) == 0)
				break;
		if (names[i] == NULL) {
			snprintf(e->msg, sizeof(e->msg), "unknown member %.60s",
			    k);
			return false;
		}
		if (json_typeof(v) != types[i] && !(types[i] == JSON_TRUE &&
		    json_is_boolean(v))) {
			snprintf(e->msg, sizeof(e->msg), "member %s has the "
			    "wrong type", k);
			return false;
		}
	}
	return true;
}

static void
handler_json_bytes(json_t *o, const char *name, ProtobufCBinaryData *b)
{
	json_t	*v = json_object_get(o, name);

	if (v != NULL) {
		b->data = (uint8_t *)(uintptr_t)json_string_value(v);
		b->len = json_string_length(v);
	}
}

static int
handler_json_verify(const struct conn_info *ci, json_t *body, json_t **out)
{
	static const char *const names[] = { "token", "audience",
		"min_level", "consume", "nonce", NULL };
	static const json_type types[] = { JSON_STRING, JSON_STRING,
		JSON_INTEGER, JSON_TRUE, JSON_STRING };
	Eid__V1__VerifyRequest	 q;
	struct hres		*h;
	struct herr		 e;
	json_int_t		 lvl = 0;
	char			 vname[32];
	int			 status;

	e.code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
	e.msg[0] = '\0';
	if (!json_is_object(body) || !handler_json_members(body, names, types,
	    &e) || json_object_get(body, "token") == NULL) {
		if (json_is_object(body) && e.msg[0] == '\0')
			snprintf(e.msg, sizeof(e.msg), "token is required");
		else if (!json_is_object(body))
			snprintf(e.msg, sizeof(e.msg), "the body must be a "
			    "JSON object");
		return handler_json_error(&e, out);
	}
	eid__v1__verify_request__init(&q);
	handler_json_bytes(body, "token", &q.token);
	handler_json_bytes(body, "audience", &q.audience);
	handler_json_bytes(body, "nonce", &q.nonce);
	if (json_object_get(body, "min_level") != NULL)
		lvl = json_integer_value(json_object_get(body, "min_level"));
	if (lvl < 0 || lvl > 2) {
		snprintf(e.msg, sizeof(e.msg), "min_level must be 0, 1 or 2");
		return handler_json_error(&e, out);
	}
	q.min_level = (uint32_t)lvl;
	q.consume = json_is_true(json_object_get(body, "consume"));
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		e.code = EID__V1__ERROR_CODE__ERROR_OVERLOADED;
		snprintf(e.msg, sizeof(e.msg), "out of memory");
		return handler_json_error(&e, out);
	}
	if (handler_verify_one(ci, &q, h, &e) != 0) {
		free(h);
		return handler_json_error(&e, out);
	}
	handler_verdict_lower((enum eid_verdict)h->r.verdict, vname,
	    sizeof(vname));
	*out = json_pack("{s:s, s:b, s:s}", "verdict", vname, "cached",
	    h->r.cached, "audience", h->r.audience);
	if (*out != NULL && h->r.verdict == EID__V1__VERDICT__VERDICT_OK) {
		json_object_set_new(*out, "identity", json_pack("{s:s, s:s, "
		    "s:s, s:s, s:i}", "sub", h->id.sub, "name", h->id.name,
		    "birthdate", h->id.birthdate, "gender", h->id.gender ==
		    EID__V1__GENDER__GENDER_MALE ? "male" : h->id.gender ==
		    EID__V1__GENDER__GENDER_FEMALE ? "female" : "unset",
		    "level", (int)h->id.level));
		json_object_set_new(*out, "issued_at", json_integer(
		    h->r.issued_at));
		json_object_set_new(*out, "expires_at", json_integer(
		    h->r.expires_at));
		json_object_set_new(*out, "not_before", json_integer(
		    h->r.not_before));
		json_object_set_new(*out, "token_id", json_string(
		    h->r.token_id));
		json_object_set_new(*out, "issuer", json_string(h->r.issuer));
		json_object_set_new(*out, "key_id", json_string(h->r.key_id));
		json_object_set_new(*out, "algorithm", json_string(
		    h->r.algorithm));
	}
	status = *out != NULL ? 200 : 500;
	free(h);
	return status;
}

static int
handler_json_revoke(const struct conn_info *ci, json_t *body, json_t **out)
{
	static const char *const names[] = { "kind", "value", "issuer",
		"issued_before", "expires_at", "reason", NULL };
	static const json_type types[] = { JSON_STRING, JSON_STRING,
		JSON_STRING, JSON_INTEGER, JSON_INTEGER, JSON_STRING };
	Eid__V1__RevokeRequest	 q;
	struct store_revocation	 r;
	struct herr		 e;
	const char		*kind;

	e.code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
	e.msg[0] = '\0';
	if (ci->principal->cp->role != CFG_ROLE_ADMIN) {
		e.code = EID__V1__ERROR_CODE__ERROR_FORBIDDEN;
		snprintf(e.msg, sizeof(e.msg), "only admins revoke");
		return handler_json_error(&e, out);
	}
	if (!json_is_object(body) || !handler_json_members(body, names, types,
	    &e)) {
		if (e.msg[0] == '\0')
			snprintf(e.msg, sizeof(e.msg), "the body must be a "
			    "JSON object");
		return handler_json_error(&e, out);
	}
	eid__v1__revoke_request__init(&q);
	kind = json_string_value(json_object_get(body, "kind"));
	q.kind = kind == NULL ? EID__V1__REVOKE_KIND__REVOKE_UNSPECIFIED :
	    strcmp(kind, "token") == 0 ? EID__V1__REVOKE_KIND__REVOKE_TOKEN :
	    strcmp(kind, "subject") == 0 ?
	    EID__V1__REVOKE_KIND__REVOKE_SUBJECT : strcmp(kind, "key") == 0 ?
	    EID__V1__REVOKE_KIND__REVOKE_KEY :
	    EID__V1__REVOKE_KIND__REVOKE_UNSPECIFIED;
	/* jansson refuses \u0000 in strings: these are C strings whole. */
	q.value = (char *)(uintptr_t)json_string_value(json_object_get(body,
	    "value"));
	q.issuer = (char *)(uintptr_t)json_string_value(json_object_get(body,
	    "issuer"));
	q.reason = (char *)(uintptr_t)json_string_value(json_object_get(body,
	    "reason"));
	q.issued_before = json_integer_value(json_object_get(body,
	    "issued_before"));
	q.expires_at = json_integer_value(json_object_get(body, "expires_at"));
	if (handler_revocation(&q, handler_now(), &r, &e) != 0 ||
	    handler_record(ci, &r, 1, &e) != 0)
		return handler_json_error(&e, out);
	*out = json_pack("{s:I}", "sequence", (json_int_t)r.seq);
	return *out != NULL ? 200 : 500;
}

static int
handler_json_status(const struct conn_info *ci, json_t **out)
{
	Eid__V1__Response	 resp;
	struct hstatus		 st;
	struct herr		 e;
	json_t			*v, *k;
	char			 vname[32];
	size_t			 i;

	memset(&st, 0, sizeof(st));
	eid__v1__response__init(&resp);
	if (ci->principal->cp->role != CFG_ROLE_ADMIN) {
		e.code = EID__V1__ERROR_CODE__ERROR_FORBIDDEN;
		snprintf(e.msg, sizeof(e.msg), "only admins read the status");
		return handler_json_error(&e, out);
	}
	if (handler_status(ci, &st, &resp, &e) != 0) {
		free(st.ki);
		free(st.kip);
		return handler_json_error(&e, out);
	}
	v = json_object();
	k = json_array();
	for (i = 0; v != NULL && i < st.s.n_verdicts; i++) {
		handler_verdict_lower((enum eid_verdict)st.vc[i].verdict, vname,
		    sizeof(vname));
		json_object_set_new(v, vname, json_integer(
		    (json_int_t)st.vc[i].count));
	}
	for (i = 0; k != NULL && i < st.s.n_keys; i++)
		json_array_append_new(k, json_pack("{s:s, s:s, s:s, s:I, s:I, "
		    "s:b}", "key_id", st.ki[i].key_id, "issuer",
		    st.ki[i].issuer, "algorithm", st.ki[i].algorithm,
		    "not_before", (json_int_t)st.ki[i].not_before, "not_after",
		    (json_int_t)st.ki[i].not_after, "from_certificate",
		    st.ki[i].from_certificate));
	*out = json_pack("{s:s, s:I, s:I, s:i, s:I, s:I, s:I, s:o, s:o, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:s}", "version", st.s.version,
	    "uptime_s", (json_int_t)st.s.uptime_s, "started_at",
	    (json_int_t)st.s.started_at, "workers", (int)st.s.workers,
	    "connections_open", (json_int_t)st.s.connections_open,
	    "connections_total", (json_int_t)st.s.connections_total,
	    "requests_total", (json_int_t)st.s.requests_total, "verdicts", v,
	    "keys", k, "reloads", (json_int_t)st.s.reloads, "cache_entries",
	    (json_int_t)st.s.cache_entries, "cache_hits",
	    (json_int_t)st.s.cache_hits, "cache_misses",
	    (json_int_t)st.s.cache_misses, "revocations",
	    (json_int_t)st.s.revocations, "consumed",
	    (json_int_t)st.s.consumed, "principal", st.s.principal);
	free(st.ki);
	free(st.kip);
	return *out != NULL ? 200 : 500;
}

int
handler_json(const struct conn_info *ci, const char *op, json_t *body,
    json_t **out)
{
	struct herr	 e;
	enum counter_op	 cop = OP_INVALID;
	int64_t		 t0 = handler_clock_ns();
	int		 status;

	*out = NULL;
	atomic_fetch_add_explicit(&ci->w->ctr.requests, 1,
	    memory_order_relaxed);
	if (ci->principal == NULL) {
		atomic_fetch_add_explicit(&ci->w->ctr.forbidden, 1,
		    memory_order_relaxed);
		e.code = EID__V1__ERROR_CODE__ERROR_FORBIDDEN;
		snprintf(e.msg, sizeof(e.msg), "client certificate missing or "
		    "not mapped to a principal");
		status = handler_json_error(&e, out);
	} else if (strcmp(op, "verify") == 0) {
		cop = OP_VERIFY;
		status = handler_json_verify(ci, body, out);
	} else if (strcmp(op, "revoke") == 0) {
		cop = OP_REVOKE;
		status = handler_json_revoke(ci, body, out);
	} else {
		cop = OP_STATUS;
		status = handler_json_status(ci, out);
	}
	handler_done(ci, cop, t0);
	return *out != NULL ? status : 500;
}

/* A label value: backslash, quote and newline escaped (the format's rule). */
static const char *
handler_prom_label(const char *s, char *buf, size_t len)
{
	size_t	 o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else
			buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

/* One Prometheus sample line. */
static void
handler_prom(struct evbuffer *out, const char *name, const char *labels,
    uint64_t v)
{
	evbuffer_add_printf(out, "%s%s%s%s %llu\n", name, labels[0] ? "{" : "",
	    labels, labels[0] ? "}" : "", (unsigned long long)v);
}

static void
handler_prom_head(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

void
handler_metrics(struct server *srv, struct store_reader *rd,
    struct evbuffer *out)
{
	static const char *const ops[OP_COUNT] = { "verify", "verify_batch",
		"revoke", "revoke_batch", "list_revocations", "status",
		"invalid" };
	struct store_stats	 ss;
	struct counters		 c;
	char			 lab[400], vname[32], esc[260];
	uint64_t		 cum = 0;
	size_t			 i;
	int			 p;

	worker_counters(srv, &c);
	handler_prom_head(out, "eidd_build_info", "gauge",
	    "Version of eidd and of the OpenSSL library in use.");
	evbuffer_add_printf(out, "eidd_build_info{version=\"%s\","
	    "openssl=\"%s\"} 1\n", EIDD_VERSION, tls_version());
	handler_prom_head(out, "eidd_start_time_seconds", "gauge",
	    "Unix time eidd started.");
	handler_prom(out, "eidd_start_time_seconds", "",
	    (uint64_t)srv->started_at);
	handler_prom_head(out, "eidd_requests_total", "counter",
	    "Requests by operation (both APIs).");
	for (i = 0; i < OP_COUNT; i++) {
		snprintf(lab, sizeof(lab), "op=\"%s\"", ops[i]);
		handler_prom(out, "eidd_requests_total", lab,
		    atomic_load(&c.ops[i]));
	}
	handler_prom_head(out, "eidd_verdicts_total", "counter",
	    "Verification answers by verdict.");
	for (i = 0; i < EID_VERDICT_COUNT; i++) {
		handler_verdict_lower((enum eid_verdict)i, vname,
		    sizeof(vname));
		snprintf(lab, sizeof(lab), "verdict=\"%s\"", vname);
		handler_prom(out, "eidd_verdicts_total", lab,
		    atomic_load(&c.verdicts[i]));
	}
	handler_prom_head(out, "eidd_principal_requests_total", "counter",
	    "Requests by principal and operation.");
	for (p = 0; p < atomic_load(&srv->npctr); p++)
		for (i = 0; i < OP_COUNT; i++) {
			snprintf(lab, sizeof(lab), "principal=\"%s\",op=\"%s\"",
			    handler_prom_label(srv->pctr[p].name, esc,
			    sizeof(esc)), ops[i]);
			handler_prom(out, "eidd_principal_requests_total", lab,
			    atomic_load(&srv->pctr[p].ops[i]));
		}
	handler_prom_head(out, "eidd_principal_verdicts_total", "counter",
	    "Verification answers by principal and verdict.");
	for (p = 0; p < atomic_load(&srv->npctr); p++)
		for (i = 0; i < EID_VERDICT_COUNT; i++) {
			handler_verdict_lower((enum eid_verdict)i, vname,
			    sizeof(vname));
			snprintf(lab, sizeof(lab), "principal=\"%s\","
			    "verdict=\"%s\"", handler_prom_label(
			    srv->pctr[p].name, esc, sizeof(esc)), vname);
			handler_prom(out, "eidd_principal_verdicts_total", lab,
			    atomic_load(&srv->pctr[p].verdicts[i]));
		}
	handler_prom_head(out, "eidd_request_duration_seconds", "histogram",
	    "Time to answer one request, from its decoding to its encoding.");
	for (i = 0; i <= LATENCY_BUCKETS; i++) {
		cum += atomic_load(&c.latency[i]);
		if (i < LATENCY_BUCKETS)
			snprintf(lab, sizeof(lab), "le=\"%g\"",
			    (double)counters_latency_us[i] / 1e6);
		else
			snprintf(lab, sizeof(lab), "le=\"+Inf\"");
		handler_prom(out, "eidd_request_duration_seconds_bucket", lab,
		    cum);
	}
	evbuffer_add_printf(out, "eidd_request_duration_seconds_sum %.9f\n",
	    (double)atomic_load(&c.latency_sum_ns) / 1e9);
	handler_prom(out, "eidd_request_duration_seconds_count", "", cum);
	handler_prom_head(out, "eidd_connections_open", "gauge",
	    "Open API connections.");
	handler_prom(out, "eidd_connections_open", "",
	    (uint64_t)atomic_load(&srv->conns_open));
	handler_prom_head(out, "eidd_connections_total", "counter",
	    "API connections accepted.");
	handler_prom(out, "eidd_connections_total", "",
	    atomic_load(&c.conns_total));
	handler_prom_head(out, "eidd_connections_refused_total", "counter",
	    "API connections refused (source_connections_per_s, "
	    "max_connections, max_handshakes, draining).");
	handler_prom(out, "eidd_connections_refused_total", "",
	    atomic_load(&c.conns_refused));
	handler_prom_head(out, "eidd_tls_handshake_failures_total", "counter",
	    "TLS handshakes that failed, timed out or were pushed out "
	    "(max_handshakes).");
	handler_prom(out, "eidd_tls_handshake_failures_total", "",
	    atomic_load(&c.handshake_failures));
	handler_prom_head(out, "eidd_protocol_errors_total", "counter",
	    "Frames refused: bad length or not parsable.");
	handler_prom(out, "eidd_protocol_errors_total", "",
	    atomic_load(&c.protocol_errors));
	handler_prom_head(out, "eidd_forbidden_total", "counter",
	    "Requests refused to their principal.");
	handler_prom(out, "eidd_forbidden_total", "",
	    atomic_load(&c.forbidden));
	handler_prom_head(out, "eidd_cache_requests_total", "counter",
	    "Verifications by cache outcome.");
	handler_prom(out, "eidd_cache_requests_total", "result=\"hit\"",
	    atomic_load(&c.cache_hits));
	handler_prom(out, "eidd_cache_requests_total", "result=\"miss\"",
	    atomic_load(&c.cache_misses));
	handler_prom_head(out, "eidd_reloads_total", "counter",
	    "Successful configuration and key reloads.");
	handler_prom(out, "eidd_reloads_total", "",
	    atomic_load(&srv->reloads));
	/* Store figures through the calling thread's reader. */
	if (store_stats(rd, &ss) == 0) {
		handler_prom_head(out, "eidd_cache_entries", "gauge",
		    "Verified tokens in the cache's LMDB map.");
		handler_prom(out, "eidd_cache_entries", "", ss.cache_entries);
		handler_prom_head(out, "eidd_cache_probation_entries", "gauge",
		    "Tokens verified once, kept in memory until reused.");
		handler_prom(out, "eidd_cache_probation_entries", "",
		    ss.probation);
		handler_prom_head(out, "eidd_cache_promotions_total", "counter",
		    "Tokens reused while in probation, sent to the LMDB map.");
		handler_prom(out, "eidd_cache_promotions_total", "",
		    ss.promotions);
		handler_prom_head(out, "eidd_cache_probation_bypass", "gauge",
		    "1 while tokens come back after leaving probation so "
		    "often that first uses are written at once.");
		handler_prom(out, "eidd_cache_probation_bypass", "",
		    ss.probation_bypass ? 1 : 0);
		handler_prom_head(out, "eidd_cache_bypass_changes_total",
		    "counter", "Times the probation bypass came on or off.");
		handler_prom(out, "eidd_cache_bypass_changes_total", "",
		    ss.bypass_changes);
		handler_prom_head(out, "eidd_cache_evictions_total", "counter",
		    "Cache entries evicted to make room.");
		handler_prom(out, "eidd_cache_evictions_total", "",
		    ss.evictions);
		handler_prom_head(out, "eidd_revocations", "gauge",
		    "Revocations in force or not yet swept.");
		handler_prom(out, "eidd_revocations", "", ss.revocations);
		handler_prom_head(out, "eidd_consumed_ids", "gauge",
		    "Consumed token ids remembered.");
		handler_prom(out, "eidd_consumed_ids", "", ss.consumed);
		handler_prom_head(out, "eidd_store_map_bytes", "gauge",
		    "LMDB map size by environment.");
		handler_prom(out, "eidd_store_map_bytes", "env=\"cache\"",
		    ss.cache_map_bytes);
		handler_prom(out, "eidd_store_map_bytes", "env=\"state\"",
		    ss.state_map_bytes);
		handler_prom_head(out, "eidd_store_used_bytes", "gauge",
		    "LMDB map bytes in use by environment.");
		handler_prom(out, "eidd_store_used_bytes", "env=\"cache\"",
		    ss.cache_used_bytes);
		handler_prom(out, "eidd_store_used_bytes", "env=\"state\"",
		    ss.state_used_bytes);
	}
}
