/*
 * tests/integration/test_eidd_pipeline.c -- 10,000 pipelined verifies on
 * one connection come back complete and in order; 200 concurrent
 * connections are served; the libevent client pipelines VerifyBatch
 * frames among single verifies, one answer per frame, in order, and
 * sends the frames queued in one event-loop pass as one TLS record; a
 * connection's batches count against requests_per_read item by item, so
 * another connection is answered between them.
 */
/* asprintf. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

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

/*
 * The libevent client: Verify, VerifyBatch, a VerifyBatch the server
 * refuses, Verify, queued before the handshake, then a VerifyBatch sent
 * after it; each callback must come once, in that order, and the
 * connection must outlive the refusal.  A timer bounds the run.
 */
#define AB_BATCH	16
#define AB_WRONG	5	/* the item of the batch minted for bhxh */
#define AB_STEPS	5

struct ab_run;

/* What a callback gets back: its run and its place in the order. */
struct ab_req {
	struct ab_run		*r;
	int			 step;
};

struct ab_run {
	struct ab_req		 req[AB_STEPS];
	struct event_base	*base;
	struct eid_aclient	*ac;
	int			 next;		/* the answer expected next */
	char			 failed[256];	/* first failure */
	char			*tok[AB_BATCH];
	char			*single[2];
	bool			 ready;
};

static void
ab_fail(struct ab_run *r, const char *what, int step)
{
	if (r->failed[0] == '\0')
		snprintf(r->failed, sizeof(r->failed), "step %d: %s", step,
		    what);
	event_base_loopexit(r->base, NULL);
}

static void
ab_reqs(struct ab_run *r, struct eid_verify_req *q, size_t n)
{
	size_t	 i;

	memset(q, 0, n * sizeof(*q));
	for (i = 0; i < n; i++) {
		q[i].token = r->tok[i];
		q[i].token_len = strlen(r->tok[i]);
		q[i].audience = "dichvucong";
	}
}

static void
ab_single_cb(struct eid_aclient *ac, enum eid_client_err err,
    const struct eid_verify_res *res, const struct eid_server_error *serr,
    void *arg)
{
	struct ab_run	*r = ((struct ab_req *)arg)->r;
	int		 step = ((struct ab_req *)arg)->step;

	(void)ac;
	(void)serr;
	if (step != r->next++)
		ab_fail(r, "answer out of order", step);
	else if (err != EID_CLIENT_OK || res == NULL ||
	    res->verdict != EID_VERDICT_OK ||
	    strcmp(res->token_id, step == 0 ? "ab-s0" : "ab-s1") != 0)
		ab_fail(r, "single verify", step);
}

static void
ab_batch_cb(struct eid_aclient *ac, enum eid_client_err err,
    const struct eid_verify_res *res, size_t n,
    const struct eid_server_error *serr, void *arg)
{
	struct ab_run	*r = ((struct ab_req *)arg)->r;
	int		 step = ((struct ab_req *)arg)->step;
	char		 jti[32], msg[200];
	size_t		 i;

	(void)ac;
	if (step != r->next++) {
		ab_fail(r, "answer out of order", step);
		return;
	}
	if (step == 2) {
		/* One forbidden audience refuses the whole batch. */
		if (err != EID_CLIENT_ERR_SERVER || res != NULL ||
		    serr == NULL || serr->code != EID_SERVER_FORBIDDEN ||
		    n != 3)
			ab_fail(r, "refused batch", step);
		return;
	}
	if (err != EID_CLIENT_OK || res == NULL || serr != NULL ||
	    n != (step == 1 ? AB_BATCH : 2)) {
		ab_fail(r, "batch not answered", step);
		return;
	}
	for (i = 0; i < n; i++) {
		/* A refused audience leaves the ids unreported. */
		snprintf(jti, sizeof(jti), "ab-%zu", i);
		if (i != AB_WRONG && strcmp(res[i].token_id, jti) != 0) {
			snprintf(msg, sizeof(msg), "item %zu is \"%s\"", i,
			    res[i].token_id);
			ab_fail(r, msg, step);
		} else if (res[i].verdict != (i == AB_WRONG ?
		    EID_VERDICT_WRONG_AUDIENCE : EID_VERDICT_OK))
			ab_fail(r, "wrong verdict", step);
	}
	if (step == 4)
		event_base_loopexit(r->base, NULL);
}

static void
ab_ready_cb(struct eid_aclient *ac, enum eid_client_err err,
    const char *reason, void *arg)
{
	struct ab_run		*r = arg;
	struct eid_verify_req	 q[EID_CLIENT_BATCH_MAX + 1];
	size_t			 i;

	if (err != EID_CLIENT_OK) {
		ab_fail(r, reason != NULL ? reason : "connect", -1);
		return;
	}
	r->ready = true;
	/*
	 * Refused without sending: no item, no array, one item too many,
	 * and 256 tokens that pass the 64 KiB of a frame.
	 */
	ab_reqs(r, q, AB_BATCH);
	for (i = AB_BATCH; i < EID_CLIENT_BATCH_MAX + 1; i++)
		q[i] = q[i % AB_BATCH];
	if (eid_aclient_verify_batch(ac, q, 0, ab_batch_cb, &r->req[4]) !=
	    -1 || eid_aclient_verify_batch(ac, NULL, 2, ab_batch_cb,
	    &r->req[4]) != -1 || eid_aclient_verify_batch(ac, q,
	    EID_CLIENT_BATCH_MAX + 1, ab_batch_cb, &r->req[4]) != -1 ||
	    eid_aclient_verify_batch(ac, q, EID_CLIENT_BATCH_MAX,
	    ab_batch_cb, &r->req[4]) != -1) {
		ab_fail(r, "a bad batch was queued", 4);
		return;
	}
	if (eid_aclient_verify_batch(ac, q, 2, ab_batch_cb, &r->req[4]) !=
	    0)
		ab_fail(r, "queue after the handshake", 4);
}

static void
ab_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ab_run	*r = arg;

	(void)fd;
	(void)what;
	ab_fail(r, "timed out", r->next);
}

static void
test_async_batch(void **state)
{
	struct ab_run		 r;
	struct eid_client_config cfg;
	struct eid_verify_req	 q[AB_BATCH], one;
	struct event		*timer;
	struct timeval		 tv = { 20, 0 };
	char			 cert[600], key[600], ca[600], err[256],
				 jti[32];
	size_t			 i;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (i = 0; i < AB_STEPS; i++) {
		r.req[i].r = &r;
		r.req[i].step = (int)i;
	}
	for (i = 0; i < AB_BATCH; i++) {
		snprintf(jti, sizeof(jti), "ab-%zu", i);
		r.tok[i] = th_token(i % 2 == 0 ? EID_ALG_ES256 : EID_ALG_EDDSA,
		    i == AB_WRONG ? "bhxh" : "dichvucong", jti);
	}
	r.single[0] = th_token(EID_ALG_ES256, "dichvucong", "ab-s0");
	r.single[1] = th_token(EID_ALG_ES256, "dichvucong", "ab-s1");
	r.base = event_base_new();
	assert_non_null(r.base);
	timer = evtimer_new(r.base, ab_timeout_cb, &r);
	assert_non_null(timer);
	assert_int_equal(evtimer_add(timer, &tv), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = d.addr;
	cfg.cert = th_certs_abs("rp-dichvucong.crt", cert, sizeof(cert));
	cfg.key = th_certs_abs("rp-dichvucong.key", key, sizeof(key));
	cfg.ca = th_certs_abs("ca.pem", ca, sizeof(ca));
	r.ac = eid_aclient_new(r.base, &cfg, ab_ready_cb, &r, err,
	    sizeof(err));
	if (r.ac == NULL)
		fail_msg("eid_aclient_new: %s", err);

	/* Queued before the handshake: sent once it is done. */
	memset(&one, 0, sizeof(one));
	one.token = r.single[0];
	one.token_len = strlen(r.single[0]);
	assert_int_equal(eid_aclient_verify(r.ac, &one, ab_single_cb,
	    &r.req[0]), 0);
	ab_reqs(&r, q, AB_BATCH);
	assert_int_equal(eid_aclient_verify_batch(r.ac, q, AB_BATCH,
	    ab_batch_cb, &r.req[1]), 0);
	/* Encoded at once: the caller's array may change afterwards. */
	memset(q, 0, sizeof(q));
	ab_reqs(&r, q, 3);
	q[1].audience = "bhxh";
	assert_int_equal(eid_aclient_verify_batch(r.ac, q, 3, ab_batch_cb,
	    &r.req[2]), 0);
	one.token = r.single[1];
	one.token_len = strlen(r.single[1]);
	assert_int_equal(eid_aclient_verify(r.ac, &one, ab_single_cb,
	    &r.req[3]), 0);
	assert_int_equal(eid_aclient_pending(r.ac), 4);

	assert_int_equal(event_base_dispatch(r.base), 0);
	if (r.failed[0] != '\0')
		fail_msg("%s", r.failed);
	assert_true(r.ready);
	assert_int_equal(r.next, AB_STEPS);
	assert_int_equal(eid_aclient_pending(r.ac), 0);

	eid_aclient_free(r.ac);
	event_free(timer);
	event_base_free(r.base);
	for (i = 0; i < AB_BATCH; i++)
		free(r.tok[i]);
	free(r.single[0]);
	free(r.single[1]);
}

/* Connections sharing one TLS context (eid_client_tls). */
#define ST_CONNS	8

struct st_run {
	struct event_base	*base;
	int			 answered;
	char			 failed[200];
};

static void
st_verify_cb(struct eid_aclient *ac, enum eid_client_err err,
    const struct eid_verify_res *res, const struct eid_server_error *serr,
    void *arg)
{
	struct st_run	*r = arg;

	(void)ac;
	(void)serr;
	if (err != EID_CLIENT_OK || res == NULL ||
	    res->verdict != EID_VERDICT_OK) {
		snprintf(r->failed, sizeof(r->failed), "answer: %s",
		    eid_client_strerror(err));
		event_base_loopexit(r->base, NULL);
	} else if (++r->answered == ST_CONNS)
		event_base_loopexit(r->base, NULL);
}

static void
st_ready_cb(struct eid_aclient *ac, enum eid_client_err err,
    const char *reason, void *arg)
{
	struct st_run	*r = arg;

	(void)ac;
	if (err != EID_CLIENT_OK) {
		snprintf(r->failed, sizeof(r->failed), "connect: %s",
		    reason != NULL ? reason : "?");
		event_base_loopexit(r->base, NULL);
	}
}

static void
st_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct st_run	*r = arg;

	(void)fd;
	(void)what;
	snprintf(r->failed, sizeof(r->failed), "timed out");
	event_base_loopexit(r->base, NULL);
}

/*
 * eid-load's connections share one TLS context: the files are read once,
 * not once per connection (1.8 ms each, which kept a thousand idle
 * connections from sending their ClientHello for seconds).  The
 * connections are made from a configuration without files, to show they
 * are not read again, and the context is freed before them.
 */
static void
test_async_shared_tls(void **state)
{
	struct st_run		 r;
	struct eid_client_config cfg, bare;
	struct eid_client_tls	*tls;
	struct eid_aclient	*ac[ST_CONNS];
	struct eid_verify_req	 q;
	enum eid_client_err	 e = EID_CLIENT_OK;
	struct event		*timer;
	struct timeval		 tv = { 20, 0 };
	char			 cert[600], key[600], ca[600], err[256];
	char			*tok;
	size_t			 i;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = d.addr;
	cfg.cert = th_certs_abs("rp-dichvucong.crt", cert, sizeof(cert));
	cfg.key = th_certs_abs("rp-dichvucong.key", key, sizeof(key));
	bare = cfg;
	bare.cert = bare.key = NULL;
	/* No CA file: refused, with the kind and the reason. */
	err[0] = '\0';
	assert_null(eid_client_tls_new(&cfg, &e, err, sizeof(err)));
	assert_int_equal(e, EID_CLIENT_ERR_USAGE);
	assert_true(err[0] != '\0');
	cfg.ca = th_certs_abs("ca.pem", ca, sizeof(ca));
	if ((tls = eid_client_tls_new(&cfg, &e, err, sizeof(err))) == NULL)
		fail_msg("eid_client_tls_new: %s", err);
	r.base = event_base_new();
	assert_non_null(r.base);
	timer = evtimer_new(r.base, st_timeout_cb, &r);
	assert_non_null(timer);
	assert_int_equal(evtimer_add(timer, &tv), 0);
	tok = th_token(EID_ALG_ES256, "dichvucong", "st-1");
	memset(&q, 0, sizeof(q));
	q.token = tok;
	q.token_len = strlen(tok);
	for (i = 0; i < ST_CONNS; i++) {
		ac[i] = eid_aclient_new_tls(r.base, &bare, tls, st_ready_cb,
		    &r, err, sizeof(err));
		if (ac[i] == NULL)
			fail_msg("eid_aclient_new_tls: %s", err);
		assert_int_equal(eid_aclient_verify(ac[i], &q, st_verify_cb,
		    &r), 0);
	}
	eid_client_tls_free(tls);
	assert_int_equal(event_base_dispatch(r.base), 0);
	if (r.failed[0] != '\0')
		fail_msg("%s", r.failed);
	assert_int_equal(r.answered, ST_CONNS);
	for (i = 0; i < ST_CONNS; i++)
		eid_aclient_free(ac[i]);
	event_free(timer);
	event_base_free(r.base);
	free(tok);
}

/*
 * The frames a libevent client queues in one pass leave as one TLS
 * record: a pipeline refilled in one callback costs the server one
 * record to decrypt, not one per request.  A bare TLS server here reads
 * once (SSL_read gives at most one record) and counts the whole frames.
 */
#define CO_FRAMES	16

struct co_srv {
	int		 lfd;
	char		 crt[PATH_MAX], key[PATH_MAX];
	unsigned char	 buf[65536];
	size_t		 got;		/* bytes of the first record */
	bool		 ok;
};

static int
co_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	if (inlen >= 6 && in[0] == 5 && memcmp(in + 1, "eid/1", 5) == 0) {
		*out = in + 1;
		*outlen = 5;
		return SSL_TLSEXT_ERR_OK;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static void *
co_server(void *arg)
{
	struct co_srv	*sv = arg;
	struct pollfd	 pfd = { sv->lfd, POLLIN, 0 };
	SSL_CTX		*ctx;
	SSL		*ssl = NULL;
	int		 fd = -1, n;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	SSL_CTX_set_alpn_select_cb(ctx, co_alpn, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, sv->crt) == 1 &&
	    SSL_CTX_use_PrivateKey_file(ctx, sv->key, SSL_FILETYPE_PEM) == 1 &&
	    poll(&pfd, 1, 10000) == 1 &&
	    (fd = accept(sv->lfd, NULL, NULL)) != -1 &&
	    (ssl = SSL_new(ctx)) != NULL && SSL_set_fd(ssl, fd) == 1 &&
	    SSL_accept(ssl) == 1 &&
	    (n = SSL_read(ssl, sv->buf, (int)sizeof(sv->buf))) > 0) {
		sv->got = (size_t)n;
		sv->ok = true;
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd != -1)
		close(fd);		/* the client's requests then fail */
	return NULL;
}

struct co_run {
	struct event_base	*base;
	char			 token[800];
	size_t			 answered;
	bool			 ready;
};

static void
co_verify_cb(struct eid_aclient *ac, enum eid_client_err err,
    const struct eid_verify_res *res, const struct eid_server_error *serr,
    void *arg)
{
	struct co_run	*r = arg;

	(void)ac;
	(void)err;
	(void)res;
	(void)serr;
	if (++r->answered == CO_FRAMES)
		event_base_loopexit(r->base, NULL);
}

static void
co_ready_cb(struct eid_aclient *ac, enum eid_client_err err,
    const char *reason, void *arg)
{
	struct co_run		*r = arg;
	struct eid_verify_req	 q;
	size_t			 i;

	if (err != EID_CLIENT_OK) {
		print_error("connect: %s\n", reason != NULL ? reason : "?");
		event_base_loopexit(r->base, NULL);
		return;
	}
	r->ready = true;
	memset(&q, 0, sizeof(q));
	q.token = r->token;
	q.token_len = strlen(r->token);
	q.audience = "dichvucong";
	for (i = 0; i < CO_FRAMES; i++)
		if (eid_aclient_verify(ac, &q, co_verify_cb, r) != 0)
			event_base_loopexit(r->base, NULL);
}

static void
co_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopexit(arg, NULL);
}

static void
test_async_one_record(void **state)
{
	struct co_srv			*sv;
	struct co_run			 r;
	struct sockaddr_in		 sin;
	socklen_t			 slen = sizeof(sin);
	struct eid_client_config	 cfg;
	struct eid_aclient		*ac;
	struct event			*timer;
	struct timeval			 tv = { 20, 0 };
	pthread_t			 th;
	char				 addr[64], cert[600], key[600], ca[600],
					 err[256];
	size_t				 off, frames = 0, len;

	(void)state;
	assert_non_null(sv = calloc(1, sizeof(*sv)));
	th_certs_abs("server.crt", sv->crt, sizeof(sv->crt));
	th_certs_abs("server.key", sv->key, sizeof(sv->key));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((sv->lfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(bind(sv->lfd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_int_equal(listen(sv->lfd, 1), 0);
	assert_int_equal(getsockname(sv->lfd, (struct sockaddr *)&sin,
	    &slen), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	assert_int_equal(pthread_create(&th, NULL, co_server, sv), 0);

	memset(&r, 0, sizeof(r));
	/* As long as a real RS256 token, so that frames fill libevent's
	 * buffer chains one by one. */
	memset(r.token, 'A', sizeof(r.token) - 1);
	memcpy(r.token, "eyJhbGciOiJSUzI1NiJ9.e30.", 25);
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = addr;
	cfg.cert = th_certs_abs("rp-dichvucong.crt", cert, sizeof(cert));
	cfg.key = th_certs_abs("rp-dichvucong.key", key, sizeof(key));
	cfg.ca = th_certs_abs("ca.pem", ca, sizeof(ca));
	cfg.timeout_ms = 10000;
	assert_non_null(r.base = event_base_new());
	ac = eid_aclient_new(r.base, &cfg, co_ready_cb, &r, err, sizeof(err));
	if (ac == NULL)
		fail_msg("eid_aclient_new: %s", err);
	assert_non_null(timer = evtimer_new(r.base, co_timeout_cb, r.base));
	assert_int_equal(evtimer_add(timer, &tv), 0);
	assert_int_equal(event_base_dispatch(r.base), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	eid_aclient_free(ac);
	event_free(timer);
	event_base_free(r.base);
	close(sv->lfd);

	assert_true(r.ready);
	assert_int_equal(r.answered, CO_FRAMES);
	assert_true(sv->ok);
	/* Whole frames, all of them, in the first record. */
	for (off = 0; off + 4 <= sv->got; off += 4 + len, frames++) {
		len = (size_t)sv->buf[off] << 24 | (size_t)sv->buf[off + 1] <<
		    16 | (size_t)sv->buf[off + 2] << 8 | sv->buf[off + 3];
		if (len > sv->got - off - 4)
			break;
	}
	assert_int_equal(frames, CO_FRAMES);
	assert_int_equal(off, sv->got);
	free(sv);
}

/* Append a protobuf varint. */
static size_t
pb_varint(unsigned char *p, uint64_t v)
{
	size_t	 n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* Append field num as length-delimited bytes. */
static size_t
pb_bytes(unsigned char *p, unsigned num, const void *b, size_t len)
{
	size_t	 n = pb_varint(p, (uint64_t)num << 3 | 2);

	n += pb_varint(p + n, len);
	memcpy(p + n, b, len);
	return n + len;
}

#define FAIR_ITEMS	12	/* items per batch, over requests_per_read */
#define FAIR_BATCHES	4
#define FAIR_BUSY	250	/* items of the batch that keeps it busy */

/*
 * One frame: a VerifyBatch (Request.verify_batch = 3) of nitems copies
 * of tok (VerifyBatchRequest.items = 1, VerifyRequest.token = 1).
 */
static size_t
fair_batch_frame(unsigned char *f, size_t cap, uint64_t id, const char *tok,
    size_t nitems)
{
	unsigned char	 item[1024], *items, body[64];
	size_t		 ilen, n = 0, i, blen;

	ilen = pb_bytes(item, 1, tok, strlen(tok));
	assert_true(ilen + 8 < sizeof(item));
	items = malloc(nitems * (ilen + 8));
	assert_non_null(items);
	for (i = 0; i < nitems; i++)
		n += pb_bytes(items + n, 1, item, ilen);
	blen = pb_varint(body, 1 << 3);
	blen += pb_varint(body + blen, id);
	body[blen++] = 3 << 3 | 2;
	blen += pb_varint(body + blen, n);
	assert_true(4 + blen + n <= cap);
	memcpy(f + 4, body, blen);
	memcpy(f + 4 + blen, items, n);
	free(items);
	n += blen;
	f[0] = (unsigned char)(n >> 24);
	f[1] = (unsigned char)(n >> 16);
	f[2] = (unsigned char)(n >> 8);
	f[3] = (unsigned char)n;
	return 4 + n;
}

/* Read what the connection holds now, without waiting. */
static size_t
raw_read_now(struct th_raw *r, unsigned char *buf, size_t len)
{
	struct pollfd	 pfd = { r->fd, POLLIN, 0 };
	size_t		 got = 0;
	int		 n;

	while (got < len && (SSL_pending(r->ssl) > 0 ||
	    poll(&pfd, 1, 0) > 0)) {
		ERR_clear_error();
		if ((n = SSL_read(r->ssl, buf + got, (int)(len - got))) <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* Complete frames in buf[0..len). */
static size_t
count_frames(const unsigned char *buf, size_t len)
{
	size_t	 off = 0, n = 0, flen;

	while (len - off >= 4) {
		flen = (size_t)buf[off] << 24 | (size_t)buf[off + 1] << 16 |
		    (size_t)buf[off + 2] << 8 | buf[off + 3];
		if (len - off - 4 < flen)
			break;
		off += 4 + flen;
		n++;
	}
	return n;
}

/*
 * Finish the server's side of the handshake (TLS 1.3 ends it with the
 * client's first bytes): one Verify of a malformed token, answered.
 */
static void
raw_ping(struct th_raw *r)
{
	unsigned char	 f[32], v[8], ans[512];
	size_t		 n, vlen, got = 0;
	bool		 closed = false;
	int		 i;

	vlen = pb_bytes(v, 1, "x", 1);
	n = pb_varint(f + 4, 1 << 3);
	n += pb_varint(f + 4 + n, 1);
	n += pb_bytes(f + 4 + n, 2, v, vlen);
	f[0] = f[1] = f[2] = 0;
	f[3] = (unsigned char)n;
	assert_true(th_raw_write(r, f, 4 + n));
	for (i = 0; i < 100 && count_frames(ans, got) < 1 && !closed; i++)
		got += th_raw_read(r, ans + got, sizeof(ans) - got, 100,
		    &closed);
	assert_int_equal(count_frames(ans, got), 1);
}

/*
 * One worker, requests_per_read = 8.  While connection C's batch of 250
 * ES384 tokens whose signatures fail (never cached, so each item costs a
 * verify) keeps the worker busy, connection A pipelines four batches of
 * 12 such tokens, in one TLS record, and connection B one verify.  Each
 * of A's batches costs 12 > 8, so A's pass ends after one and B, waiting
 * since, comes next: when B's answer arrives, A has at most one.
 * Counting a batch as one request would let A's pass answer all four
 * first.
 */
static void
test_batches_share_the_worker(void **state)
{
	struct th_eidd		 one;
	struct th_raw		 a, c;
	struct eid_client	*b;
	struct eid_verify_req	 q;
	struct eid_verify_res	 r;
	unsigned char		*frames, *got, *busy;
	char			*text, *w, *tok, *ok, *dot, *sig;
	size_t			 flen = 0, glen = 0, blen, i, cap = 256 * 1024;
	size_t			 before_b, total;
	bool			 closed = false;

	(void)state;
	text = th_eidd_conf_text("requests_per_read = 8;", NULL);
	w = strstr(text, "workers = 2;");
	assert_non_null(w);
	w[strlen("workers = ")] = '1';
	th_eidd_start_conf(&one, text);
	free(text);
	/*
	 * A valid ES384 token's header and signature around the payload {}:
	 * short, so that A's four batches fit one TLS record, and refused
	 * only by the signature check.
	 */
	ok = th_token(EID_ALG_ES384, "dichvucong", "fair-bad");
	dot = strchr(ok, '.');
	sig = strrchr(ok, '.');
	assert_non_null(dot);
	assert_true(sig > dot);
	assert_true(asprintf(&tok, "%.*s.e30%s", (int)(dot - ok), ok, sig) >
	    0);
	free(ok);
	ok = th_token(EID_ALG_ES256, "dichvucong", "fair-b");
	frames = malloc(cap);
	got = malloc(cap);
	busy = malloc(cap);
	assert_non_null(frames);
	assert_non_null(got);
	assert_non_null(busy);
	blen = fair_batch_frame(busy, cap, 99, tok, FAIR_BUSY);
	for (i = 0; i < FAIR_BATCHES; i++)
		flen += fair_batch_frame(frames + flen, cap - flen, i + 1, tok,
		    FAIR_ITEMS);
	/* One TLS record holds them all, so one read gives all four. */
	assert_true(flen < 16 * 1024);

	b = th_client(&one, "rp-dichvucong");
	assert_true(th_raw_connect(&a, &one, "rp-dichvucong"));
	assert_true(th_raw_connect(&c, &one, "rp-dichvucong"));
	raw_ping(&a);
	raw_ping(&c);
	memset(&q, 0, sizeof(q));
	q.token = ok;
	q.token_len = strlen(ok);
	assert_true(th_raw_write(&c, busy, blen));
	assert_true(th_raw_write(&a, frames, flen));
	assert_int_equal(eid_client_send_verify(b, &q), EID_CLIENT_OK);
	assert_int_equal(eid_client_flush(b), EID_CLIENT_OK);
	assert_int_equal(eid_client_recv_verify(b, &r), EID_CLIENT_OK);
	assert_int_equal(r.verdict, EID_VERDICT_OK);
	/* What A had been answered by then. */
	glen = raw_read_now(&a, got, cap);
	before_b = count_frames(got, glen);
	/* Then all of A's answers come, each a batch of BAD_SIGNATURE. */
	for (i = 0; i < 200 && count_frames(got, glen) < FAIR_BATCHES &&
	    !closed; i++)
		glen += th_raw_read(&a, got + glen, cap - glen, 100, &closed);
	total = count_frames(got, glen);
	assert_int_equal(total, FAIR_BATCHES);
	if (before_b > 1)
		fail_msg("B was answered after %zu of A's batches", before_b);
	th_raw_close(&a);
	th_raw_close(&c);
	eid_client_close(b);
	th_eidd_stop_ok(&one);
	free(frames);
	free(got);
	free(busy);
	free(tok);
	free(ok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ten_thousand_in_order),
		cmocka_unit_test(test_two_hundred_connections),
		cmocka_unit_test(test_async_batch),
		cmocka_unit_test(test_async_one_record),
		cmocka_unit_test(test_async_shared_tls),
		cmocka_unit_test(test_batches_share_the_worker),
	};

	return cmocka_run_group_tests_name("eidd_pipeline", tests, setup,
	    teardown);
}
