/*
 * client/aclient.c -- the libevent flavour of libeidclient (struct
 * eid_aclient), for eid-load and event-driven relying parties.
 *
 * This is the only file of client/ that includes libevent.  A connection
 * owns one OpenSSL bufferevent (which owns the socket and the SSL object),
 * a FIFO of pending (callback, argument) pairs matched to answers in
 * order, and the frames not yet handed to the bufferevent.  Those queued
 * before the handshake finished are sent only once the server has proved
 * its certificate and agreed on ALPN "eid/1"; after it, the frames queued
 * in one event-loop pass are handed over together at the end of the
 * pass, so a pipeline refilled in one callback goes out as one TLS record
 * and one write(2), and the server decrypts one record, not one per
 * request.  The FIFO is a ring that only grows, and frames are encoded
 * into one reused buffer, so a request costs no malloc beyond protobuf-c's
 * unpacking of its answer (and, for a VerifyBatch, the encoder's two
 * arrays for its items).
 *
 * A VerifyBatch is one entry of the FIFO like a Verify: one frame, one
 * answer.  Its results are decoded into one array per connection that
 * grows to the largest batch answered; it grows only in the read callback
 * between two user callbacks, so it never moves under a callback that
 * holds it.
 *
 * Lifetime: user callbacks may call eid_aclient_free().  Every path that
 * calls back counts itself in "depth"; a free requested while depth > 0
 * only marks the connection dead, and the outermost caller frees it when
 * it unwinds, touching nothing after that.  One teardown function,
 * aclient_destroy(), releases everything.
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "eid/client.h"
#include "wire.h"

enum aclient_state {
	ACLIENT_CONNECTING,
	ACLIENT_READY,
	ACLIENT_FAILED
};

/* One request awaiting its answer: a Verify (n 0) or a VerifyBatch. */
struct aclient_pending {
	eid_aclient_verify_cb	 cb;		/* Verify */
	eid_aclient_verify_batch_cb bcb;	/* VerifyBatch */
	void			*arg;
	size_t			 n;		/* batch items; 0: Verify */
};

struct eid_aclient {
	struct event_base	*base;
	SSL_CTX			*ctx;
	struct bufferevent	*bev;		/* owns the fd and the SSL */
	struct event		*fail_ev;	/* reports an early failure */
	struct event		*flush_ev;	/* hands out over, end of pass */
	bool			 flush_due;	/* flush_ev is active */
	enum aclient_state	 state;
	eid_aclient_ready_cb	 ready_cb;
	void			*ready_arg;
	struct timeval		 timeout;
	bool			 armed;		/* read timeout set */
	struct aclient_pending	*q;		/* ring of pending requests */
	size_t			 qcap;
	size_t			 qhead;
	size_t			 qlen;
	uint64_t		 next_id;	/* id of the next request */
	struct wire_buf		 out;		/* frames not handed over yet */
	int			 depth;		/* callbacks on the stack */
	bool			 dead;		/* freed from a callback */
	enum eid_client_err	 fail_code;
	struct eid_verify_res	 res;
	struct eid_verify_res	*bres;		/* a batch's results */
	size_t			 bcap;		/* entries of bres */
	char			 errbuf[512];
};

static void
aclient_destroy(struct eid_aclient *c)
{
	if (c->fail_ev != NULL)
		event_free(c->fail_ev);
	if (c->flush_ev != NULL)
		event_free(c->flush_ev);
	/* BEV_OPT_CLOSE_ON_FREE: this also frees the SSL and the socket. */
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	SSL_CTX_free(c->ctx);
	free(c->q);
	free(c->bres);
	wire_buf_reset(&c->out);
	free(c);
}

/*
 * Leave a section that may have called the user.  Returns true when the
 * connection was freed: the caller must not touch it again.
 */
static bool
aclient_leave(struct eid_aclient *c)
{
	if (--c->depth == 0 && c->dead) {
		aclient_destroy(c);
		return true;
	}
	return false;
}

/* Keep a read timeout exactly while answers are awaited. */
static void
aclient_arm(struct eid_aclient *c)
{
	bool	 want;

	if (c->state != ACLIENT_READY || c->bev == NULL)
		return;
	want = c->qlen > 0;
	if (want == c->armed)
		return;
	(void)bufferevent_set_timeouts(c->bev, want ? &c->timeout : NULL,
	    NULL);
	c->armed = want;
}

/* Hand an answer (or a failure) to the callback of its request. */
static void
aclient_deliver(struct eid_aclient *c, const struct aclient_pending *p,
    enum eid_client_err e, const struct eid_verify_res *res,
    const struct eid_server_error *serr)
{
	if (p->n == 0)
		p->cb(c, e, res, serr, p->arg);
	else
		p->bcb(c, e, res, p->n, serr, p->arg);
}

/*
 * The connection failed: close it, tell the ready callback if it was not
 * told yet, then every pending request once.  Returns true when the user
 * freed the connection meanwhile.
 */
static bool
aclient_fail(struct eid_aclient *c, enum eid_client_err e)
{
	struct aclient_pending	 p;
	bool			 connecting;

	if (c->state == ACLIENT_FAILED || c->dead)
		return false;
	connecting = c->state == ACLIENT_CONNECTING;
	c->state = ACLIENT_FAILED;
	c->fail_code = e;
	c->out.len = 0;
	/* Freeing a bufferevent inside its own callback is safe. */
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	c->depth++;
	if (connecting && c->ready_cb != NULL)
		c->ready_cb(c, e, c->errbuf, c->ready_arg);
	while (c->qlen > 0 && !c->dead) {
		p = c->q[c->qhead];
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
		aclient_deliver(c, &p, e, NULL, NULL);
	}
	return aclient_leave(c);
}

static void
aclient_failcb(evutil_socket_t fd, short what, void *arg)
{
	struct eid_aclient	*c = arg;

	(void)fd;
	(void)what;
	(void)aclient_fail(c, c->fail_code);
}

/*
 * Drain libevent's copy of the OpenSSL errors into errbuf.  libevent
 * mixes SSL_get_error() codes into that list: SSL_ERROR_SYSCALL means the
 * socket failed (*syscall), SSL_ERROR_SSL only repeats what follows.
 * Returns true when a real OpenSSL error was there.
 */
static bool
aclient_ssl_errors(struct eid_aclient *c, const char *what, bool *eof,
    bool *syscall)
{
	char		 buf[256];
	unsigned long	 code;
	size_t		 off;
	bool		 any = false;
	int		 n;

	*eof = false;
	*syscall = false;
	n = snprintf(c->errbuf, sizeof(c->errbuf), "%s", what);
	off = n < 0 ? 0 : (size_t)n;
	while ((code = bufferevent_get_openssl_error(c->bev)) != 0) {
		if (code == SSL_ERROR_SYSCALL) {
			*syscall = true;
			continue;
		}
		if (code == SSL_ERROR_SSL)
			continue;
		any = true;
		if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
		    ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			*eof = true;
		if (off >= sizeof(c->errbuf))
			continue;
		ERR_error_string_n(code, buf, sizeof(buf));
		n = snprintf(c->errbuf + off, sizeof(c->errbuf) - off, ": %s",
		    buf);
		off += n < 0 ? 0 : (size_t)n;
	}
	return any;
}

/*
 * Hand the frames queued so far to the bufferevent in one piece, so that
 * they go out as one SSL_write.  0, or -1 when the connection failed
 * (out of memory) and may be gone.
 */
static int
aclient_flush(struct eid_aclient *c)
{
	if (c->out.len == 0)
		return 0;
	if (bufferevent_write(c->bev, c->out.data, c->out.len) == -1) {
		wire_errf(c->errbuf, sizeof(c->errbuf), "out of memory");
		(void)aclient_fail(c, EID_CLIENT_ERR_NOMEM);
		return -1;
	}
	c->out.len = 0;
	return 0;
}

/* The end of the pass in which requests were queued. */
static void
aclient_flushcb(evutil_socket_t fd, short what, void *arg)
{
	struct eid_aclient	*c = arg;

	(void)fd;
	(void)what;
	c->flush_due = false;
	if (c->dead || c->state != ACLIENT_READY)
		return;
	(void)aclient_flush(c);
}

static void
aclient_connected(struct eid_aclient *c)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(c->bev);

	if (ssl == NULL || !wire_tls_alpn_is_ok(ssl)) {
		wire_errf(c->errbuf, sizeof(c->errbuf), "server did not "
		    "agree on ALPN \"%s\"", WIRE_ALPN);
		(void)aclient_fail(c, EID_CLIENT_ERR_TLS);
		return;
	}
	c->state = ACLIENT_READY;
	(void)bufferevent_set_timeouts(c->bev, NULL, NULL);
	c->armed = false;
	if (aclient_flush(c) == -1)
		return;
	aclient_arm(c);
	if (c->ready_cb == NULL)
		return;
	c->depth++;
	c->ready_cb(c, EID_CLIENT_OK, NULL, c->ready_arg);
	(void)aclient_leave(c);
}

static void
aclient_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct eid_aclient	*c = arg;
	SSL			*ssl;
	long			 vr;
	int			 saved = EVUTIL_SOCKET_ERROR();
	bool			 eof, syscall, connecting;
	size_t			 off;

	(void)bev;
	if (c->dead || c->state == ACLIENT_FAILED)
		return;
	if ((what & BEV_EVENT_CONNECTED) != 0) {
		aclient_connected(c);
		return;
	}
	connecting = c->state == ACLIENT_CONNECTING;
	if ((what & BEV_EVENT_TIMEOUT) != 0) {
		wire_errf(c->errbuf, sizeof(c->errbuf), "%s",
		    connecting ? "connect or handshake timed out" :
		    "no answer in time");
		(void)aclient_fail(c, EID_CLIENT_ERR_TIMEOUT);
		return;
	}
	syscall = false;
	if ((what & BEV_EVENT_ERROR) != 0 && aclient_ssl_errors(c,
	    connecting ? "TLS handshake" : "TLS", &eof, &syscall)) {
		ssl = bufferevent_openssl_get_ssl(c->bev);
		if (ssl != NULL &&
		    (vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
			off = strlen(c->errbuf);
			wire_errf(c->errbuf + off, sizeof(c->errbuf) - off,
			    ": certificate: %s",
			    X509_verify_cert_error_string(vr));
		}
		(void)aclient_fail(c, eof && !connecting ?
		    EID_CLIENT_ERR_IO : EID_CLIENT_ERR_TLS);
		return;
	}
	/*
	 * A socket error.  The callback is deferred, so errno may be stale:
	 * it only decorates the message.  Before the handshake finished it
	 * most likely is the TCP connect that failed.
	 */
	if ((what & BEV_EVENT_ERROR) != 0 && (syscall || saved != 0)) {
		wire_errf(c->errbuf, sizeof(c->errbuf), "%s failed%s%s",
		    connecting ? "connect" : "connection",
		    saved != 0 ? ": " : "",
		    saved != 0 ? evutil_socket_error_to_string(saved) : "");
		(void)aclient_fail(c, connecting ? EID_CLIENT_ERR_CONNECT :
		    EID_CLIENT_ERR_IO);
		return;
	}
	wire_errf(c->errbuf, sizeof(c->errbuf), "server closed the "
	    "connection");
	(void)aclient_fail(c, connecting ? EID_CLIENT_ERR_TLS :
	    EID_CLIENT_ERR_IO);
}

/*
 * Room for the n results of the batch about to be decoded.  Only the read
 * callback calls this, before it calls the user, so no callback holds the
 * array when it moves.  0 or -1 (out of memory).
 */
static int
aclient_bres_reserve(struct eid_aclient *c, size_t n)
{
	struct eid_verify_res	*r;

	if (n <= c->bcap)
		return 0;
	/* wire_decode() zeroes the entries it is given: no calloc. */
	if (n > SIZE_MAX / sizeof(*r) ||
	    (r = realloc(c->bres, n * sizeof(*r))) == NULL)
		return -1;
	c->bres = r;
	c->bcap = n;
	return 0;
}

static void
aclient_readcb(struct bufferevent *bev, void *arg)
{
	struct eid_aclient	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct wire_answer	 ans;
	struct aclient_pending	 p;
	enum eid_client_err	 e;
	const uint8_t		*frame;
	size_t			 avail, blen;
	int			 r;

	if (c->dead || c->state != ACLIENT_READY)
		return;
	c->depth++;
	for (;;) {
		if ((avail = evbuffer_get_length(in)) < WIRE_HDR_LEN)
			break;
		frame = evbuffer_pullup(in, WIRE_HDR_LEN);
		r = wire_frame_peek(frame, avail, &blen, c->errbuf,
		    sizeof(c->errbuf));
		if (r == 0)
			break;
		if (r == -1) {
			e = EID_CLIENT_ERR_PROTOCOL;
			goto fail;
		}
		if (c->qlen == 0) {
			wire_errf(c->errbuf, sizeof(c->errbuf), "server sent "
			    "an answer to no request");
			e = EID_CLIENT_ERR_PROTOCOL;
			goto fail;
		}
		p = c->q[c->qhead];
		if ((frame = evbuffer_pullup(in, WIRE_HDR_LEN + blen)) ==
		    NULL || aclient_bres_reserve(c, p.n) == -1) {
			wire_errf(c->errbuf, sizeof(c->errbuf), "out of "
			    "memory");
			e = EID_CLIENT_ERR_NOMEM;
			goto fail;
		}
		memset(&ans, 0, sizeof(ans));
		ans.expect = p.n == 0 ? WIRE_BODY_VERIFY :
		    WIRE_BODY_VERIFY_BATCH;
		ans.id = c->next_id - c->qlen;
		ans.res = p.n == 0 ? &c->res : c->bres;
		ans.nres = p.n == 0 ? 1 : p.n;
		e = wire_decode(frame + WIRE_HDR_LEN, blen, &ans, c->errbuf,
		    sizeof(c->errbuf));
		(void)evbuffer_drain(in, WIRE_HDR_LEN + blen);
		if (e != EID_CLIENT_OK && e != EID_CLIENT_ERR_SERVER)
			goto fail;
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
		aclient_deliver(c, &p, e, e == EID_CLIENT_OK ? ans.res : NULL,
		    e == EID_CLIENT_ERR_SERVER ? &ans.serr : NULL);
		if (c->dead || c->state != ACLIENT_READY)
			break;
	}
	if (!c->dead)
		aclient_arm(c);
	(void)aclient_leave(c);
	return;
fail:
	if (!aclient_fail(c, e))
		(void)aclient_leave(c);
}

/* Report a failure found before any callback could run, from the loop. */
static int
aclient_fail_later(struct eid_aclient *c, enum eid_client_err e)
{
	static const struct timeval	 now = { 0, 0 };

	c->fail_code = e;
	if ((c->fail_ev = evtimer_new(c->base, aclient_failcb, c)) == NULL ||
	    evtimer_add(c->fail_ev, &now) == -1)
		return -1;
	return 0;
}

struct eid_client_tls {
	SSL_CTX		*ctx;
};

struct eid_client_tls *
eid_client_tls_new(const struct eid_client_config *cfg,
    enum eid_client_err *errp, char *err, size_t errlen)
{
	struct eid_client_tls	*t;
	enum eid_client_err	 e;

	if (cfg == NULL) {
		wire_errf(err, errlen, "bad argument");
		e = EID_CLIENT_ERR_USAGE;
		goto fail;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		wire_errf(err, errlen, "out of memory");
		e = EID_CLIENT_ERR_NOMEM;
		goto fail;
	}
	if ((t->ctx = wire_tls_ctx_new(cfg, &e, err, errlen)) == NULL) {
		free(t);
		goto fail;
	}
	if (errp != NULL)
		*errp = EID_CLIENT_OK;
	return t;
fail:
	if (errp != NULL)
		*errp = e;
	return NULL;
}

void
eid_client_tls_free(struct eid_client_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

struct eid_aclient *
eid_aclient_new(struct event_base *base, const struct eid_client_config *cfg,
    eid_aclient_ready_cb ready_cb, void *arg, char *err, size_t errlen)
{
	return eid_aclient_new_tls(base, cfg, NULL, ready_cb, arg, err,
	    errlen);
}

struct eid_aclient *
eid_aclient_new_tls(struct event_base *base,
    const struct eid_client_config *cfg, struct eid_client_tls *tls,
    eid_aclient_ready_cb ready_cb, void *arg, char *err, size_t errlen)
{
	struct eid_aclient	*c = NULL;
	struct addrinfo		 hints, *res = NULL;
	char			 host[WIRE_HOST_MAX], port[WIRE_PORT_MAX];
	enum eid_client_err	 e;
	SSL			*ssl = NULL;
	int			 r, ms;

	if (base == NULL || cfg == NULL || cfg->timeout_ms < 0) {
		wire_errf(err, errlen, "bad argument");
		return NULL;
	}
	if (wire_parse_hostport(cfg->server, host, sizeof(host), port,
	    sizeof(port)) == -1) {
		wire_errf(err, errlen, "bad server address \"%s\"",
		    cfg->server != NULL ? cfg->server : "");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		wire_errf(err, errlen, "out of memory");
		return NULL;
	}
	c->base = base;
	c->ready_cb = ready_cb;
	c->ready_arg = arg;
	c->next_id = 1;
	c->state = ACLIENT_CONNECTING;
	ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : WIRE_TIMEOUT_DEFAULT_MS;
	c->timeout.tv_sec = ms / 1000;
	c->timeout.tv_usec = (ms % 1000) * 1000;
	wire_buf_init(&c->out);
	if ((c->flush_ev = event_new(base, -1, 0, aclient_flushcb, c)) ==
	    NULL)
		goto nomem;
	if (tls != NULL) {
		/* The connection holds its own reference. */
		if (SSL_CTX_up_ref(tls->ctx) != 1)
			goto nomem;
		c->ctx = tls->ctx;
	} else if ((c->ctx = wire_tls_ctx_new(cfg, &e, err, errlen)) == NULL)
		goto fail;

	/* Resolution blocks; a numeric host makes it immediate. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		wire_errf(c->errbuf, sizeof(c->errbuf), "%s: %s", host,
		    gai_strerror(r));
		if (aclient_fail_later(c, EID_CLIENT_ERR_CONNECT) == -1)
			goto nomem;
		return c;
	}
	ERR_clear_error();
	if ((ssl = SSL_new(c->ctx)) == NULL)
		goto nomem;
	if (wire_tls_set_peer(ssl, host, err, errlen) == -1)
		goto fail;
	c->bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL)
		goto nomem;
	ssl = NULL;	/* the bufferevent owns it now */
	bufferevent_setcb(c->bev, aclient_readcb, NULL, aclient_eventcb, c);
	/* Bounds the TCP connect and the handshake together. */
	(void)bufferevent_set_timeouts(c->bev, &c->timeout, &c->timeout);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1)
		goto nomem;
	if (bufferevent_socket_connect(c->bev, res->ai_addr,
	    (int)res->ai_addrlen) == 0) {
		int	 one = 1;

		/*
		 * Pipelined small frames must not wait for Nagle: without
		 * this an answer waited for the next request (eid-load's
		 * open loop saw p50 16 ms instead of 0.15 ms).
		 */
		(void)setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP,
		    TCP_NODELAY, &one, sizeof(one));
	} else {
		wire_errf(c->errbuf, sizeof(c->errbuf), "connect to %s port "
		    "%s: %s", host, port, strerror(errno));
		/* A failed connect may already have freed the socket. */
		bufferevent_free(c->bev);
		c->bev = NULL;
		if (aclient_fail_later(c, EID_CLIENT_ERR_CONNECT) == -1)
			goto nomem;
	}
	freeaddrinfo(res);
	return c;
nomem:
	wire_errf(err, errlen, "out of memory");
fail:
	SSL_free(ssl);
	if (res != NULL)
		freeaddrinfo(res);
	aclient_destroy(c);
	return NULL;
}

/* Make room for one more pending request; keeps the FIFO order. */
static int
aclient_grow(struct eid_aclient *c)
{
	struct aclient_pending	*q;
	size_t			 cap, i;

	if (c->qlen < c->qcap)
		return 0;
	cap = c->qcap != 0 ? c->qcap * 2 : 64;
	if (cap > SIZE_MAX / sizeof(*q) ||
	    (q = malloc(cap * sizeof(*q))) == NULL)
		return -1;
	for (i = 0; i < c->qlen; i++)
		q[i] = c->q[(c->qhead + i) % c->qcap];
	free(c->q);
	c->q = q;
	c->qcap = cap;
	c->qhead = 0;
	return 0;
}

/*
 * Encode a Verify (p->n 0, req) or a VerifyBatch (p->n items of req),
 * send it or keep it for after the handshake, and queue p for its
 * answer.  0 or -1, with nothing queued.
 */
static int
aclient_queue(struct eid_aclient *c, const struct eid_verify_req *req,
    const struct aclient_pending *p)
{
	enum eid_client_err	 e;

	if (c->dead || c->state == ACLIENT_FAILED)
		return -1;
	if (aclient_grow(c) == -1)
		return -1;
	/* Appends the frame, or leaves out as it was. */
	if (p->n == 0)
		e = wire_encode_verify(&c->out, c->next_id, req, c->errbuf,
		    sizeof(c->errbuf));
	else
		e = wire_encode_verify_batch(&c->out, c->next_id, req, p->n,
		    c->errbuf, sizeof(c->errbuf));
	if (e != EID_CLIENT_OK)
		return -1;
	if (c->state == ACLIENT_READY && !c->flush_due) {
		event_active(c->flush_ev, EV_TIMEOUT, 1);
		c->flush_due = true;
	}
	c->q[(c->qhead + c->qlen) % c->qcap] = *p;
	c->qlen++;
	c->next_id++;
	aclient_arm(c);
	return 0;
}

int
eid_aclient_verify(struct eid_aclient *c, const struct eid_verify_req *req,
    eid_aclient_verify_cb cb, void *req_arg)
{
	struct aclient_pending	 p;

	if (c == NULL || cb == NULL)
		return -1;
	memset(&p, 0, sizeof(p));
	p.cb = cb;
	p.arg = req_arg;
	return aclient_queue(c, req, &p);
}

int
eid_aclient_verify_batch(struct eid_aclient *c,
    const struct eid_verify_req *reqs, size_t n,
    eid_aclient_verify_batch_cb cb, void *req_arg)
{
	struct aclient_pending	 p;

	/* n 0 would read as a Verify in the FIFO; the encoder bounds n. */
	if (c == NULL || cb == NULL || reqs == NULL || n == 0)
		return -1;
	memset(&p, 0, sizeof(p));
	p.bcb = cb;
	p.arg = req_arg;
	p.n = n;
	return aclient_queue(c, reqs, &p);
}

size_t
eid_aclient_pending(const struct eid_aclient *c)
{
	return c != NULL ? c->qlen : 0;
}

void
eid_aclient_free(struct eid_aclient *c)
{
	if (c == NULL || c->dead)
		return;
	if (c->depth > 0) {
		/* A callback of ours is on the stack: it frees on return. */
		c->dead = true;
		if (c->bev != NULL)
			(void)bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	aclient_destroy(c);
}
