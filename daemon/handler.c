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
 * Verification is the library's eid_verify() against the worker's
 * current snapshot.  The store (issue #4) plugs in at handler_verify():
 * a cache lookup before eid_verify_token(), revocation and consume checks
 * after eid_check_assertion().  Until a store is configured, Revoke and
 * consume-once answer UNAVAILABLE rather than pretend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/sha.h>

#include "eid.pb-c.h"
#include "eidd.h"

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
	char			 aud[EID_AUD_MAX + 1];
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
	if ((unsigned)v < EID_VERDICT_COUNT)
		atomic_fetch_add_explicit(&ci->w->ctr.verdicts[v], 1,
		    memory_order_relaxed);
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
 * One VerifyRequest.  Returns 0 with h filled (any verdict), or -1 with
 * e filled when the request itself is refused.
 */
static int
handler_verify(const struct conn_info *ci, const Eid__V1__VerifyRequest *q,
    struct hres *h, struct herr *e)
{
	const struct principal	*p = ci->principal;
	struct eid_request	 rq;
	enum eid_verdict	 v = EID_VERDICT_INTERNAL;
	const char		*aud;

	eid__v1__verify_result__init(&h->r);
	eid__v1__identity__init(&h->id);
	memset(&h->a, 0, sizeof(h->a));
	h->aud[0] = '\0';

	aud = q->audience != NULL && q->audience[0] != '\0' ? q->audience :
	    p->cp->naudiences > 0 ? p->cp->audiences[0] : NULL;
	if (aud == NULL || !snap_may_verify(p, aud)) {
		e->code = EID__V1__ERROR_CODE__ERROR_FORBIDDEN;
		snprintf(e->msg, sizeof(e->msg), "principal %s may not verify "
		    "for this audience", p->cp->name);
		atomic_fetch_add_explicit(&ci->w->ctr.forbidden, 1,
		    memory_order_relaxed);
		return -1;
	}
	if (q->min_level > 2) {
		e->code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
		snprintf(e->msg, sizeof(e->msg), "min_level must be 0, 1 or 2");
		return -1;
	}
	if (q->nonce != NULL && strlen(q->nonce) > EID_NONCE_MAX) {
		e->code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
		snprintf(e->msg, sizeof(e->msg), "nonce longer than %d bytes",
		    EID_NONCE_MAX);
		return -1;
	}
	if (q->consume) {
		e->code = EID__V1__ERROR_CODE__ERROR_UNAVAILABLE;
		snprintf(e->msg, sizeof(e->msg), "consume-once needs the "
		    "state store, which this server does not have");
		return -1;
	}
	snprintf(h->aud, sizeof(h->aud), "%s", aud);

	rq.audience = h->aud;
	rq.min_level = (int)q->min_level;
	rq.nonce = q->nonce != NULL && q->nonce[0] != '\0' ? q->nonce : NULL;
	/* A token longer than the profile allows is MALFORMED, not an error. */
	v = eid_verify(ci->snap->ks, (const char *)q->token.data,
	    q->token.len, &rq, &ci->snap->policy, handler_now(), &h->a);
	h->r.verdict = (Eid__V1__Verdict)v;
	h->r.audience = h->aud;
	if (v == EID_VERDICT_OK) {
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
	/* eid_verify() fills the assertion only with OK: nothing else leaks. */
	h->r.cached = false;
	handler_count(ci, v);
	handler_log_verify(ci, q->token.data, q->token.len, h);
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

/* Append a packed response frame to out. */
static int
handler_put(struct evbuffer *out, const Eid__V1__Response *resp)
{
	struct evbuffer_iovec	 v;
	size_t			 n;

	n = eid__v1__response__get_packed_size(resp);
	if (frame_put_header(out, n) != 0 ||
	    evbuffer_reserve_space(out, (ev_ssize_t)n, &v, 1) < 1)
		return -1;
	v.iov_len = eid__v1__response__pack(resp, v.iov_base);
	return evbuffer_commit_space(out, &v, 1);
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
	size_t	 i;

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
	/* All or nothing: one refused item refuses the batch. */
	for (i = 0; i < q->n_items; i++) {
		if (handler_verify(ci, q->items[i], &(*hs)[i], e) != 0)
			return -1;
		(*rs)[i] = &(*hs)[i].r;
	}
	eid__v1__verify_batch_result__init(br);
	br->n_results = q->n_items;
	br->results = *rs;
	resp->body_case = EID__V1__RESPONSE__BODY_VERIFY_BATCH;
	resp->verify_batch = br;
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

int
handler_frame(const struct conn_info *ci, const uint8_t *buf, size_t len,
    struct evbuffer *out)
{
	Eid__V1__Request		*req;
	Eid__V1__Response		 resp;
	Eid__V1__Error			 err;
	Eid__V1__VerifyBatchResult	 br;
	Eid__V1__VerifyResult		**rs = NULL;
	struct hres			*hs = NULL, one;
	struct hstatus			 st;
	struct herr			 e;
	int				 rc = 0, ok = -1;

	eid__v1__response__init(&resp);
	memset(&st, 0, sizeof(st));
	atomic_fetch_add_explicit(&ci->w->ctr.requests, 1,
	    memory_order_relaxed);
	if ((req = eid__v1__request__unpack(NULL, len, buf)) == NULL) {
		atomic_fetch_add_explicit(&ci->w->ctr.protocol_errors, 1,
		    memory_order_relaxed);
		log_debug("bad_frame", "conn=%llu len=%zu reason=unpack",
		    (unsigned long long)ci->id, len);
		e.code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
		snprintf(e.msg, sizeof(e.msg), "request does not parse");
		handler_error(&resp, &err, &e);
		handler_put(out, &resp);
		return -1;
	}
	resp.id = req->id;
	if (ci->principal == NULL) {
		e.code = EID__V1__ERROR_CODE__ERROR_FORBIDDEN;
		snprintf(e.msg, sizeof(e.msg), "client certificate is not "
		    "mapped to a principal");
		atomic_fetch_add_explicit(&ci->w->ctr.forbidden, 1,
		    memory_order_relaxed);
		goto answer;
	}
	switch (req->body_case) {
	case EID__V1__REQUEST__BODY_VERIFY:
		if ((ok = handler_verify(ci, req->verify, &one, &e)) == 0) {
			resp.body_case = EID__V1__RESPONSE__BODY_VERIFY;
			resp.verify = &one.r;
		}
		break;
	case EID__V1__REQUEST__BODY_VERIFY_BATCH:
		ok = handler_batch(ci, req->verify_batch, &resp, &hs, &rs, &br,
		    &e);
		break;
	case EID__V1__REQUEST__BODY_REVOKE:
		if (ci->principal->cp->role != CFG_ROLE_ADMIN) {
			e.code = EID__V1__ERROR_CODE__ERROR_FORBIDDEN;
			snprintf(e.msg, sizeof(e.msg), "only admins revoke");
			atomic_fetch_add_explicit(&ci->w->ctr.forbidden, 1,
			    memory_order_relaxed);
		} else {
			e.code = EID__V1__ERROR_CODE__ERROR_UNAVAILABLE;
			snprintf(e.msg, sizeof(e.msg), "revocation needs the "
			    "state store, which this server does not have");
		}
		break;
	case EID__V1__REQUEST__BODY_STATUS:
		ok = handler_status(ci, &st, &resp, &e);
		break;
	case EID__V1__REQUEST__BODY__NOT_SET:
	default:
		e.code = EID__V1__ERROR_CODE__ERROR_BAD_REQUEST;
		snprintf(e.msg, sizeof(e.msg), "request without a body");
		break;
	}
answer:
	if (ok != 0)
		handler_error(&resp, &err, &e);
	if (handler_put(out, &resp) != 0)
		rc = -1;
	free(st.ki);
	free(st.kip);
	free(hs);
	free(rs);
	eid__v1__request__free_unpacked(req, NULL);
	return rc;
}
