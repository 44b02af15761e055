/*
 * tests/integration/test_eidd_tls_io.c -- the API's TLS I/O, driven by
 * daemon/conn.c on the socket: whatever the client's records look like,
 * every request gets its answer, in order.
 *
 *   - a TLS 1.3 KeyUpdate (update requested) in the middle of a pipeline,
 *     and one sent while the server's writes are blocked;
 *   - requests cut into 7-byte records, and hundreds in one SSL_write;
 *   - a stream whose input fills the read limit right before a frame
 *     that ends in a record OpenSSL has already read (read-ahead);
 *   - requests then the client's close_notify, with and without
 *     backpressure, or then a TCP half-close without close_notify:
 *     every answer arrives before the server closes;
 *   - a client that does not read: the server stops reading (its writes
 *     block, the daemon's memory stays bounded), then every answer comes;
 *   - SIGTERM while a frame is half received: it is still answered;
 *   - more frames than requests_per_read read together with the
 *     client's close_notify: all answered, then the close;
 *   - a pipeline kept deeper than requests_per_read ("flood") on the
 *     only worker must leave it every pass: another connection's lone
 *     request is answered promptly, a revocation the gateway has
 *     acknowledged is in force for the flood's next requests (the
 *     worker's store snapshot is renewed), and SIGTERM's
 *     drain_timeout_ms closes the flooding connection.
 *
 * The client here is raw OpenSSL on a non-blocking socket, so that the
 * test decides each record and each read; every wait is bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "eid.pb-c.h"
#include "harness.h"
#include "helpers.h"

#define AUD		"dichvucong"
#define WAIT_MS		20000	/* any one wait; generous for ASan/valgrind */
#define FRAME_HDR	4
#define TLS_RECORD	16384	/* the client's full records */
#define FLOOD_BATCH	256	/* requests per SSL_write of a flood */
#define FLOOD_DEPTH	4096	/* at most unanswered in a flood */
#define PROBE_MAX_MS	500	/* a lone request's answer beside a flood */
#define TERM_MAX_MS	2000	/* SIGTERM to close, drain_timeout_ms 500 */

static struct th_eidd d;
static char *tok;

/* A growing byte buffer. */
struct obuf {
	unsigned char	*p;
	size_t		 len, cap;
};

/* A raw TLS 1.3 client on a non-blocking socket, checking answers. */
struct tio {
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;
	struct obuf	 in;		/* plaintext not yet a whole frame */
	uint64_t	 next_id;	/* the id the next answer must echo */
	size_t		 answers;
	bool		 eof;		/* the server closed */
	bool		 notify;	/* ... with a close_notify */
	bool		 failed;	/* TLS error or a wrong answer */
	size_t		 key_updates;	/* KeyUpdate messages received */
	bool		 accept_revoked; /* VERDICT_REVOKED is right too */
	uint64_t	 first_revoked;	/* the first id refused so (or 0) */
	uint64_t	 last_ok;	/* the last id answered OK (or 0) */
	char		 why[512];
};

/* The test's connections and requests: globals, so a failed test's
 * are freed by its teardown. */
static struct tio cl = { .fd = -1 };
static struct tio cl2 = { .fd = -1 };
static struct obuf rq;
/* The batch a flood is writing (see flood_step()). */
static struct obuf fq;

/*
 * curl revoking the test's token through the HTTPS gateway, in the
 * background (see revoke_start()); stopped by the teardown if a test
 * fails while it runs.
 */
static struct {
	pid_t		 pid;
	int		 fd;		/* its stdout: body, then status */
	char		 out[4096];
	size_t		 len;
} rv = { .pid = -1, .fd = -1 };

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec	 ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Room for len more bytes. */
static void
obuf_reserve(struct obuf *b, size_t len)
{
	size_t	 cap = b->cap != 0 ? b->cap : 4096;

	while (cap < b->len + len)
		cap *= 2;
	if (cap != b->cap) {
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
}

static void
obuf_add(struct obuf *b, const void *p, size_t len)
{
	obuf_reserve(b, len);
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void
obuf_free(struct obuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static size_t
varint_len(size_t v)
{
	size_t	 n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void
varint_put(struct obuf *b, size_t v)
{
	unsigned char	 c;

	while (v >= 0x80) {
		c = (unsigned char)(v | 0x80);
		obuf_add(b, &c, 1);
		v >>= 7;
	}
	c = (unsigned char)v;
	obuf_add(b, &c, 1);
}

/*
 * Append one framed verify request with id.  With size > 0 the whole
 * frame (prefix included) is exactly size bytes: the request is padded
 * with an unknown bytes field (number 1000), which the server ignores.
 */
static void
req_add(struct obuf *b, uint64_t id, size_t size)
{
	Eid__V1__Request	 req;
	Eid__V1__VerifyRequest	 v;
	unsigned char		 hdr[FRAME_HDR], *pad;
	size_t			 plen, body, n, vl;

	eid__v1__verify_request__init(&v);
	v.token.data = (uint8_t *)tok;
	v.token.len = strlen(tok);
	v.audience.data = (uint8_t *)AUD;
	v.audience.len = strlen(AUD);
	eid__v1__request__init(&req);
	req.id = id;
	req.body_case = EID__V1__REQUEST__BODY_VERIFY;
	req.verify = &v;
	plen = eid__v1__request__get_packed_size(&req);
	body = plen;
	n = 0;
	if (size > 0) {
		/* tag 1000/LEN is two bytes; find the pad whose length fits. */
		assert_true(size >= FRAME_HDR + plen + 3);
		for (vl = 1; vl <= 3; vl++) {
			n = size - FRAME_HDR - plen - 2 - vl;
			if (varint_len(n) == vl)
				break;
		}
		assert_true(vl <= 3);
		body = plen + 2 + vl + n;
		assert_int_equal(FRAME_HDR + body, size);
	}
	hdr[0] = (unsigned char)(body >> 24);
	hdr[1] = (unsigned char)(body >> 16);
	hdr[2] = (unsigned char)(body >> 8);
	hdr[3] = (unsigned char)body;
	obuf_add(b, hdr, sizeof(hdr));
	obuf_reserve(b, plen);
	eid__v1__request__pack(&req, b->p + b->len);
	b->len += plen;
	if (size > 0) {
		varint_put(b, 1000 << 3 | 2);
		varint_put(b, n);
		pad = calloc(1, n + 1);
		assert_non_null(pad);
		obuf_add(b, pad, n);
		free(pad);
	}
}

/* Size of the frame req_add() makes without padding. */
static size_t
req_size(void)
{
	struct obuf	 b = { 0 };
	size_t		 n;

	req_add(&b, 1, 0);
	n = b.len;
	obuf_free(&b);
	return n;
}

/* Count the server's KeyUpdate messages. */
static void
tio_msg_cb(int write_p, int version, int content_type, const void *buf,
    size_t len, SSL *ssl, void *arg)
{
	struct tio	*t = arg;

	(void)version;
	(void)ssl;
	if (!write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
	    ((const unsigned char *)buf)[0] == SSL3_MT_KEY_UPDATE)
		t->key_updates++;
}

static void
tio_connect(struct tio *t, int rcvbuf, int sndbuf)
{
	static const unsigned char alpn[] = "\x05" "eid/1";
	struct sockaddr_in	 sin;
	struct timeval		 tv = { WAIT_MS / 1000, 0 };
	char			 cert[600], key[600], ca[600];

	memset(t, 0, sizeof(*t));
	t->next_id = 1;
	t->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(t->fd >= 0);
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(t->fd, SOL_SOCKET, SO_RCVBUF,
		    &rcvbuf, sizeof(rcvbuf)), 0);
	if (sndbuf > 0)
		assert_int_equal(setsockopt(t->fd, SOL_SOCKET, SO_SNDBUF,
		    &sndbuf, sizeof(sndbuf)), 0);
	/* The handshake is blocking, but bounded. */
	assert_int_equal(setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	assert_int_equal(setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)d.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(t->fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	t->ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(t->ctx);
	/* KeyUpdate is TLS 1.3. */
	assert_int_equal(SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION),
	    1);
	assert_int_equal(SSL_CTX_load_verify_locations(t->ctx,
	    th_certs_abs("ca.pem", ca, sizeof(ca)), NULL), 1);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	assert_int_equal(SSL_CTX_use_certificate_chain_file(t->ctx,
	    th_certs_abs("rp-dichvucong.crt", cert, sizeof(cert))), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(t->ctx,
	    th_certs_abs("rp-dichvucong.key", key, sizeof(key)),
	    SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_set_alpn_protos(t->ctx, alpn,
	    sizeof(alpn) - 1), 0);
	t->ssl = SSL_new(t->ctx);
	assert_non_null(t->ssl);
	assert_int_equal(SSL_set_fd(t->ssl, t->fd), 1);
	SSL_set_msg_callback(t->ssl, tio_msg_cb);
	SSL_set_msg_callback_arg(t->ssl, t);
	ERR_clear_error();
	assert_int_equal(SSL_connect(t->ssl), 1);
	assert_int_equal(fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) |
	    O_NONBLOCK), 0);
}

static void
tio_close(struct tio *t)
{
	if (t->ssl != NULL)
		SSL_free(t->ssl);
	if (t->ctx != NULL)
		SSL_CTX_free(t->ctx);
	if (t->fd >= 0)
		close(t->fd);
	obuf_free(&t->in);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

static void	tio_fail(struct tio *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
tio_fail(struct tio *t, const char *fmt, ...)
{
	va_list	 ap;

	if (t->failed)
		return;
	t->failed = true;
	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
}

/* Check and consume every whole answer in t->in. */
static void
tio_parse(struct tio *t)
{
	Eid__V1__Response	*r;
	size_t			 n, o = 0;

	while (t->in.len - o >= FRAME_HDR) {
		n = (size_t)t->in.p[o] << 24 | (size_t)t->in.p[o + 1] << 16 |
		    (size_t)t->in.p[o + 2] << 8 | t->in.p[o + 3];
		if (t->in.len - o - FRAME_HDR < n)
			break;
		r = eid__v1__response__unpack(NULL, n, t->in.p + o + FRAME_HDR);
		if (r == NULL)
			tio_fail(t, "answer %zu does not parse", t->answers);
		else if (r->id != t->next_id)
			tio_fail(t, "answer %zu: id %llu, expected %llu",
			    t->answers, (unsigned long long)r->id,
			    (unsigned long long)t->next_id);
		else if (r->body_case != EID__V1__RESPONSE__BODY_VERIFY)
			tio_fail(t, "answer %zu: body %d (error: %s)",
			    t->answers, (int)r->body_case,
			    r->body_case == EID__V1__RESPONSE__BODY_ERROR ?
			    r->error->message : "-");
		else if (r->verify->verdict == EID__V1__VERDICT__VERDICT_REVOKED
		    && t->accept_revoked) {
			if (t->first_revoked == 0)
				t->first_revoked = r->id;
		} else if (r->verify->verdict != EID__V1__VERDICT__VERDICT_OK)
			tio_fail(t, "answer %zu: verdict %d", t->answers,
			    (int)r->verify->verdict);
		else if (t->first_revoked != 0)
			/* A revocation, once seen, stays in force. */
			tio_fail(t, "answer %zu: OK after request %llu was "
			    "refused as revoked", t->answers,
			    (unsigned long long)t->first_revoked);
		else
			t->last_ok = r->id;
		if (r != NULL)
			eid__v1__response__free_unpacked(r, NULL);
		t->next_id++;
		t->answers++;
		o += FRAME_HDR + n;
	}
	if (o > 0) {
		memmove(t->in.p, t->in.p + o, t->in.len - o);
		t->in.len -= o;
	}
}

/* Read what is there without waiting; false once the server closed. */
static bool
tio_read_some(struct tio *t)
{
	unsigned char	 buf[16384];
	unsigned long	 e;
	int		 n;

	while (!t->eof) {
		ERR_clear_error();
		n = SSL_read(t->ssl, buf, sizeof(buf));
		if (n > 0) {
			obuf_add(&t->in, buf, (size_t)n);
			continue;
		}
		switch (SSL_get_error(t->ssl, n)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			tio_parse(t);
			return true;
		case SSL_ERROR_ZERO_RETURN:
			t->notify = true;
			t->eof = true;
			break;
		default:
			e = ERR_peek_error();
			t->eof = true;
			/* A close without close_notify is a close; others fail. */
			if (!(ERR_GET_LIB(e) == ERR_LIB_SSL &&
			    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			    && e != 0) {
				char s[256];

				ERR_error_string_n(e, s, sizeof(s));
				tio_fail(t, "after %zu answers: %s", t->answers,
				    s);
			}
			break;
		}
	}
	tio_parse(t);
	return false;
}

/* Wait up to ms for the socket to be ready for ev. */
static void
tio_wait(struct tio *t, short ev, int ms)
{
	struct pollfd	 pfd = { t->fd, ev, 0 };

	if (SSL_pending(t->ssl) > 0 && (ev & POLLIN))
		return;
	(void)poll(&pfd, 1, ms);
}

/*
 * One SSL_write of all of p (retried with the same arguments while the
 * socket is full, as OpenSSL requires), reading answers meanwhile when
 * read is true.  Returns false on a write error or after WAIT_MS.
 */
static bool
tio_write(struct tio *t, const void *p, size_t len, bool read)
{
	int64_t	 end = now_ms() + WAIT_MS;
	int	 n;

	while (now_ms() < end) {
		ERR_clear_error();
		if ((n = SSL_write(t->ssl, p, (int)len)) == (int)len)
			return true;
		switch (SSL_get_error(t->ssl, n)) {
		case SSL_ERROR_WANT_WRITE:
			if (read && !tio_read_some(t))
				return false;
			tio_wait(t, read ? POLLOUT | POLLIN : POLLOUT, 50);
			break;
		case SSL_ERROR_WANT_READ:
			if (!tio_read_some(t))
				return false;
			tio_wait(t, POLLIN, 50);
			break;
		default:
			return false;
		}
	}
	return false;
}

/* Read answers until there are want of them, the server closes, or ms. */
static void
tio_recv(struct tio *t, size_t want, int ms)
{
	int64_t	 end = now_ms() + ms;

	while (t->answers < want && now_ms() < end) {
		if (!tio_read_some(t))
			break;
		if (t->answers < want)
			tio_wait(t, POLLIN, 50);
	}
}

/* Read until the server closes (after ms: false). */
static bool
tio_until_closed(struct tio *t, int ms)
{
	int64_t	 end = now_ms() + ms;

	while (now_ms() < end) {
		if (!tio_read_some(t))
			return true;
		tio_wait(t, POLLIN, 50);
	}
	return false;
}

static void
expect_answers(struct tio *t, size_t want)
{
	if (t->failed)
		fail_msg("%s", t->why);
	if (t->answers != want)
		fail_msg("%zu answers of %zu (server closed: %s; log: %s)",
		    t->answers, want, t->eof ? "yes" : "no", d.log);
}

static void
start(const char *limits)
{
	th_eidd_start(&d, limits);
	if (tok == NULL)
		tok = th_token(EID_ALG_ES256, AUD, "tls-io");
}

/* The end of a test that passed: exit 0, scratch directory removed. */
static void
finish(void)
{
	th_eidd_stop_ok(&d);
}

/* Stop and reap curl if it still runs. */
static void
revoke_stop(void)
{
	if (rv.pid > 0) {
		kill(rv.pid, SIGKILL);
		waitpid(rv.pid, NULL, 0);
		rv.pid = -1;
	}
	if (rv.fd >= 0) {
		close(rv.fd);
		rv.fd = -1;
	}
}

/* After a failed test: stop the daemon, keep its log for reading. */
static int
stop(void **state)
{
	(void)state;
	revoke_stop();
	if (cl.ctx != NULL)
		tio_close(&cl);
	if (cl2.ctx != NULL)
		tio_close(&cl2);
	obuf_free(&rq);
	obuf_free(&fq);
	if (d.pid > 0) {
		/* It may have been left stopped (SIGSTOP). */
		kill(d.pid, SIGCONT);
		(void)th_eidd_stop(&d);
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	free(tok);
	tok = NULL;
	return 0;
}

/* Requests ids first..first+n-1, each a whole frame, in b. */
static void
reqs(struct obuf *b, uint64_t first, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		req_add(b, first + i, 0);
}

/*
 * The client asks for a KeyUpdate (the server must answer with its own)
 * between batches of a pipeline it keeps reading: every answer arrives,
 * in order, under the new keys of both sides.
 */
static void
test_key_update_pipelined(void **state)
{
	uint64_t	 id = 1;
	int		 round;

	(void)state;
	start(NULL);
	tio_connect(&cl, 0, 0);
	for (round = 0; round < 12; round++) {
		rq.len = 0;
		reqs(&rq, id, 100);
		id += 100;
		assert_true(tio_write(&cl, rq.p, rq.len, true));
		assert_int_equal(SSL_key_update(cl.ssl,
		    SSL_KEY_UPDATE_REQUESTED), 1);
	}
	/* The last KeyUpdate goes out with these. */
	rq.len = 0;
	reqs(&rq, id, 100);
	id += 100;
	assert_true(tio_write(&cl, rq.p, rq.len, true));
	tio_recv(&cl, id - 1, WAIT_MS);
	expect_answers(&cl, id - 1);
	assert_false(cl.eof);
	/* The server updated its keys each time it was asked. */
	assert_int_equal(cl.key_updates, 12);
	obuf_free(&rq);
	tio_close(&cl);
	finish();
}

/*
 * A KeyUpdate that arrives while the server cannot write: the client has
 * not read its answers, and they fill the socket buffers (several MB on
 * loopback, where the send buffer grows with the 64 KiB MSS) without
 * reaching the watermark, so the server keeps reading with an answer
 * half written inside OpenSSL.  It then reads the KeyUpdate and has to
 * send its own behind that answer.
 */
static void
test_key_update_while_server_blocked(void **state)
{
	const size_t	 n = 20000;

	(void)state;
	start("output_high_watermark = 67108864;");
	tio_connect(&cl, 4096, 0);
	/* ~10 MB of requests, ~7 MB of answers. */
	reqs(&rq, 1, n);
	assert_true(tio_write(&cl, rq.p, rq.len, false));
	/* Let the server answer all it can and block on the socket. */
	sleep_ms(500);
	assert_int_equal(SSL_key_update(cl.ssl, SSL_KEY_UPDATE_REQUESTED), 1);
	rq.len = 0;
	reqs(&rq, n + 1, 100);
	assert_true(tio_write(&cl, rq.p, rq.len, false));
	sleep_ms(300);
	tio_recv(&cl, n + 100, WAIT_MS);
	expect_answers(&cl, n + 100);
	assert_false(cl.eof);
	assert_int_equal(cl.key_updates, 1);
	obuf_free(&rq);
	tio_close(&cl);
	finish();
}

/* Every request cut into records of 7 bytes: one SSL_write each. */
static void
test_tiny_records(void **state)
{
	size_t		 o, n;

	(void)state;
	start(NULL);
	tio_connect(&cl, 0, 0);
	reqs(&rq, 1, 150);
	for (o = 0; o < rq.len; o += n) {
		n = rq.len - o < 7 ? rq.len - o : 7;
		assert_true(tio_write(&cl, rq.p + o, n, true));
	}
	tio_recv(&cl, 150, WAIT_MS);
	expect_answers(&cl, 150);
	obuf_free(&rq);
	tio_close(&cl);
	finish();
}

/*
 * 400 requests in one SSL_write: full records of many requests each,
 * more than the server reads in one go (one frame plus its slack), so
 * the server must come back for what it left in the socket and in
 * OpenSSL's read-ahead.
 */
static void
test_many_requests_one_write(void **state)
{

	(void)state;
	start(NULL);
	tio_connect(&cl, 0, 0);
	reqs(&rq, 1, 400);
	assert_true(rq.len > 2 * 65536 + 2 * TLS_RECORD);
	assert_true(tio_write(&cl, rq.p, rq.len, true));
	tio_recv(&cl, 400, WAIT_MS);
	expect_answers(&cl, 400);
	/* And once more, now that the connection has a history. */
	rq.len = 0;
	reqs(&rq, 401, 400);
	assert_true(tio_write(&cl, rq.p, rq.len, true));
	tio_recv(&cl, 800, WAIT_MS);
	expect_answers(&cl, 800);
	obuf_free(&rq);
	tio_close(&cl);
	finish();
}

/*
 * Input at the read limit while OpenSSL still holds a whole record.
 *
 * OpenSSL's read-ahead reads a record and at most ~300 bytes of the next
 * (it reads a record's body exactly), so a short last record comes in
 * with the one before it.  With requests_per_read = 4 and 486-byte
 * requests the server reads two full records (32 KiB) per pass and
 * answers four requests, so its input grows by ~30 KiB a pass; in its
 * fifth pass the 9th record takes it past the read limit (max_frame + 4
 * + 64 KiB = 131076 bytes) and it stops reading with the 10th, short
 * record -- the end of the stream -- inside OpenSSL and the socket empty.
 * Its sixth pass starts at the limit, so reads nothing; it finds three
 * whole big requests and the start of a fourth, answers three, and has
 * budget left: it must go back to OpenSSL for the end of the fourth,
 * since nothing on the socket will ever wake it.
 *
 * The daemon is stopped while the stream is written, so that every pass
 * finds its two records waiting.  The exact pattern depends on OpenSSL's
 * read-ahead; whatever the pattern, all 25 answers must come.
 */
static void
test_read_limit_then_read_ahead(void **state)
{
	const size_t	 stream = 9 * TLS_RECORD + 100, nsmall = 20;
	const size_t	 limit = 65536 + 4 + 65536;
	size_t		 small, big = 40000, i;
	int		 round;
	bool		 ok;

	(void)state;
	start("requests_per_read = 4; idle_timeout_ms = 3000;");
	small = req_size();
	/* Passes 1-4 stay under the limit; pass 5 crosses it in record 9. */
	assert_true(8 * TLS_RECORD - 12 * small < limit);
	assert_true(9 * TLS_RECORD - 16 * small >= limit);
	/* After pass 5's four answers the input is still at the limit... */
	assert_true(9 * TLS_RECORD - nsmall * small >= limit);
	/* ... with three whole big requests in it, and part of a fourth. */
	assert_true(nsmall * small + 3 * big <= 9 * TLS_RECORD);
	assert_true(stream - (nsmall * small + 3 * big) <= 65536);
	/* The timing is the scheduler's: three tries on fresh connections. */
	for (round = 0; round < 3; round++) {
		tio_connect(&cl, 0, 1 << 20);
		/* One round trip: the handshake is over on both sides. */
		rq.len = 0;
		req_add(&rq, 1, 0);
		assert_true(tio_write(&cl, rq.p, rq.len, true));
		tio_recv(&cl, 1, WAIT_MS);
		expect_answers(&cl, 1);
		rq.len = 0;
		for (i = 0; i < nsmall; i++)
			req_add(&rq, 2 + i, 0);
		for (i = 0; i < 3; i++)
			req_add(&rq, 2 + nsmall + i, big);
		req_add(&rq, 2 + nsmall + 3, stream - rq.len);
		assert_int_equal(rq.len, stream);
		assert_int_equal(kill(d.pid, SIGSTOP), 0);
		assert_true(th_stopped_within(d.pid, 5000));
		ok = tio_write(&cl, rq.p, rq.len, false);
		sleep_ms(100);
		kill(d.pid, SIGCONT);
		assert_true(ok);
		/* Well under idle_timeout_ms, which ends a stalled one. */
		tio_recv(&cl, 2 + nsmall + 3, 2000);
		expect_answers(&cl, 2 + nsmall + 3);
		tio_close(&cl);
	}
	obuf_free(&rq);
	finish();
}

/*
 * K requests, then the client's close_notify: the server answers all K
 * (more than requests_per_read, so over several passes) and then closes.
 */
static void
close_notify_after(const char *limits, size_t k)
{
	int		 r;

	start(limits);
	tio_connect(&cl, 0, 0);
	reqs(&rq, 1, k);
	assert_true(tio_write(&cl, rq.p, rq.len, false));
	ERR_clear_error();
	r = SSL_shutdown(cl.ssl);
	/* 0: sent, the server's is still to come. */
	assert_true(r == 0 || r == 1 || (r < 0 && SSL_get_error(cl.ssl, r) ==
	    SSL_ERROR_WANT_WRITE));
	while (r < 0 && SSL_get_error(cl.ssl, r) == SSL_ERROR_WANT_WRITE) {
		tio_wait(&cl, POLLOUT, 50);
		ERR_clear_error();
		r = SSL_shutdown(cl.ssl);
	}
	assert_true(tio_until_closed(&cl, WAIT_MS));
	expect_answers(&cl, k);
	obuf_free(&rq);
	tio_close(&cl);
	finish();
}

static void
test_close_notify_after_requests(void **state)
{
	(void)state;
	close_notify_after(NULL, 300);
}

/* Same, with output over the watermark: paused when the EOF is read. */
static void
test_close_notify_with_backpressure(void **state)
{
	(void)state;
	close_notify_after("output_high_watermark = 4096;", 600);
}

/*
 * K requests, then the client shuts down its side of TCP without a
 * close_notify (shutdown(SHUT_WR), as a client that is done sending may
 * do): the framing tells whole requests from truncated ones, so the
 * whole ones are answered before the server closes.
 */
static void
test_tcp_half_close_after_requests(void **state)
{

	(void)state;
	/* One request a pass: the EOF is read with requests still queued. */
	start("requests_per_read = 1;");
	tio_connect(&cl, 0, 0);
	reqs(&rq, 1, 300);
	assert_true(tio_write(&cl, rq.p, rq.len, false));
	assert_int_equal(shutdown(cl.fd, SHUT_WR), 0);
	assert_true(tio_until_closed(&cl, WAIT_MS));
	expect_answers(&cl, 300);
	obuf_free(&rq);
	tio_close(&cl);
	finish();
}

/*
 * A client that writes and never reads: once its answers pass the
 * watermark (and the socket buffers are full) the server stops reading,
 * so the client's writes block, well before it could send 64 MiB; the
 * daemon's memory stays bounded meanwhile.  Then the client reads, and
 * every request it managed to send is answered, in order.
 */
static void
test_backpressure(void **state)
{
	const size_t	 cap = 64u << 20;
	size_t		 sent = 0, wrote = 0;
	int64_t		 last, end;
	long		 rss0, rss1;
	int		 n;

	(void)state;
	start("output_high_watermark = 65536;");
	tio_connect(&cl, 16384, 0);
	req_add(&rq, 1, 0);
	assert_true(tio_write(&cl, rq.p, rq.len, true));
	tio_recv(&cl, 1, WAIT_MS);
	expect_answers(&cl, 1);
	rss0 = th_eidd_rss_kb(&d);
	sent = 1;
	/* Frame by frame, never reading, until nothing moves for 1 s. */
	last = now_ms();
	end = last + 4 * WAIT_MS;
	while (wrote < cap && now_ms() - last < 1000 && now_ms() < end) {
		rq.len = 0;
		req_add(&rq, sent + 1, 0);
		ERR_clear_error();
		if ((n = SSL_write(cl.ssl, rq.p, (int)rq.len)) == (int)rq.len) {
			sent++;
			wrote += rq.len;
			last = now_ms();
			continue;
		}
		assert_int_equal(SSL_get_error(cl.ssl, n), SSL_ERROR_WANT_WRITE);
		tio_wait(&cl, POLLOUT, 100);
	}
	if (now_ms() - last < 1000)
		fail_msg("wrote %zu bytes without blocking: the server never "
		    "stopped reading", wrote);
	rss1 = th_eidd_rss_kb(&d);
	print_message("# blocked after %zu requests (%zu bytes); eidd RSS "
	    "%ld -> %ld kB\n", sent, wrote, rss0, rss1);
	/* Input, output and socket buffers: far below what was sent. */
	if (th_rss_meaningful() && rss0 > 0 && rss1 > 0)
		assert_true(rss1 - rss0 < 16 * 1024);
	assert_true(wrote > 65536);
	/* The frame that blocked is still owed; the same bytes again. */
	assert_true(tio_write(&cl, rq.p, rq.len, true));
	sent++;
	tio_recv(&cl, sent, WAIT_MS);
	expect_answers(&cl, sent);
	/* Unpaused: the connection works as before. */
	rq.len = 0;
	reqs(&rq, sent + 1, 50);
	assert_true(tio_write(&cl, rq.p, rq.len, true));
	tio_recv(&cl, sent + 50, WAIT_MS);
	expect_answers(&cl, sent + 50);
	assert_false(cl.eof);
	obuf_free(&rq);
	tio_close(&cl);
	finish();
}

/*
 * SIGTERM arrives while a request is half received, a while after the
 * connection's previous answer: the drain still answers it (its rest
 * comes within the quiet period) and closes afterwards.
 */
static void
test_drain_answers_half_received_frame(void **state)
{
	size_t		 half;

	(void)state;
	start(NULL);
	tio_connect(&cl, 0, 0);
	req_add(&rq, 1, 0);
	assert_true(tio_write(&cl, rq.p, rq.len, true));
	tio_recv(&cl, 1, WAIT_MS);
	expect_answers(&cl, 1);
	/* Longer than the drain's quiet period since that answer. */
	sleep_ms(600);
	rq.len = 0;
	req_add(&rq, 2, 0);
	half = rq.len / 2;
	assert_true(tio_write(&cl, rq.p, half, true));
	sleep_ms(50);
	assert_int_equal(kill(d.pid, SIGTERM), 0);
	sleep_ms(50);
	/* The server may already have closed: then the write may fail. */
	(void)tio_write(&cl, rq.p + half, rq.len - half, true);
	assert_true(tio_until_closed(&cl, WAIT_MS));
	expect_answers(&cl, 2);
	obuf_free(&rq);
	tio_close(&cl);
	finish();
}

/*
 * A connection quiet for most of idle_timeout_ms sends its next request
 * in two pieces, the second after the idle period has passed since the
 * previous answer: the frame's deadline runs from when it began, so it is
 * answered, not cut as a slow frame.
 */
static void
test_frame_after_long_quiet(void **state)
{
	size_t	 half;

	(void)state;
	start("idle_timeout_ms = 1000;");
	tio_connect(&cl, 0, 0);
	req_add(&rq, 1, 0);
	assert_true(tio_write(&cl, rq.p, rq.len, true));
	tio_recv(&cl, 1, WAIT_MS);
	expect_answers(&cl, 1);
	sleep_ms(800);
	rq.len = 0;
	req_add(&rq, 2, 0);
	half = rq.len / 2;
	assert_true(tio_write(&cl, rq.p, half, true));
	sleep_ms(400);
	assert_true(tio_write(&cl, rq.p + half, rq.len - half, true));
	tio_recv(&cl, 2, WAIT_MS);
	expect_answers(&cl, 2);
	assert_false(cl.eof);
	obuf_free(&rq);
	tio_close(&cl);
	finish();
}

/* A round trip on t with request 1: handshakes over, the token cached. */
static void
round_trip(struct tio *t)
{
	rq.len = 0;
	req_add(&rq, 1, 0);
	assert_true(tio_write(t, rq.p, rq.len, true));
	tio_recv(t, 1, WAIT_MS);
	expect_answers(t, 1);
}

/*
 * More frames than requests_per_read arrive in one read together with
 * the client's close_notify: every one is answered, over several passes,
 * and then the server closes, promptly.
 */
static void
test_eof_with_more_than_budget(void **state)
{
	int64_t	 t0;
	int	 r;

	(void)state;
	start("requests_per_read = 2; idle_timeout_ms = 15000;");
	tio_connect(&cl, 0, 0);
	round_trip(&cl);
	rq.len = 0;
	reqs(&rq, 2, 20);
	/* Stopped, so that the frames and the close_notify come in one read. */
	assert_int_equal(kill(d.pid, SIGSTOP), 0);
	assert_true(th_stopped_within(d.pid, 5000));
	assert_true(tio_write(&cl, rq.p, rq.len, false));
	ERR_clear_error();
	r = SSL_shutdown(cl.ssl);
	assert_true(r == 0 || r == 1);
	sleep_ms(100);
	assert_int_equal(kill(d.pid, SIGCONT), 0);
	t0 = now_ms();
	/* Well under idle_timeout_ms, which would end a stalled one. */
	assert_true(tio_until_closed(&cl, 5000));
	print_message("# closed %lld ms after resuming, with %zu answers\n",
	    (long long)(now_ms() - t0), cl.answers);
	expect_answers(&cl, 21);
	obuf_free(&rq);
	tio_close(&cl);
	finish();
}

/*
 * Start eidd with one worker, so that every connection shares it, and
 * limits; with http, the HTTPS gateway too (a thread of its own), whose
 * port is returned.
 */
static int
start_one_worker(const char *limits, bool http)
{
	static const char	 gw[] =
	    "http = { listen = \"127.0.0.1:0\"; };\n";
	char			*base, *conf, *at, *log, *p;
	size_t			 len;
	int			 port = 0;

	base = th_eidd_conf_text(limits, NULL);
	at = strstr(base, "workers = 2;");
	assert_non_null(at);
	at[strlen("workers = ")] = '1';
	at = strstr(base, "limits = {");
	assert_non_null(at);
	len = strlen(base) + sizeof(gw);
	conf = malloc(len);
	assert_non_null(conf);
	snprintf(conf, len, "%.*s%s%s", (int)(at - base), base,
	    http ? gw : "", at);
	free(base);
	th_eidd_start_conf(&d, conf);
	free(conf);
	if (tok == NULL)
		tok = th_token(EID_ALG_ES256, AUD, "tls-io");
	if (http) {
		log = th_read_file(d.log, &len);
		assert_non_null(log);
		p = strstr(log, " http=127.0.0.1:");
		if (p != NULL)
			port = atoi(p + strlen(" http=127.0.0.1:"));
		free(log);
		assert_true(port > 0);
	}
	return port;
}

/*
 * One step of a flood: a pipeline kept up to FLOOD_DEPTH requests deep
 * in batches of FLOOD_BATCH, so that the server always has more than
 * requests_per_read of them buffered, the way a busy client keeps it.
 * *id is the id of the next request to write.  Writes what the socket
 * takes, reads what has been answered, and waits (up to 1 ms) only
 * when neither can move.  Returns false once the server has closed the
 * connection (t->eof is then set).
 */
static bool
flood_step(struct tio *t, uint64_t *id)
{
	bool	 blocked = false;
	int	 n, e;

	if (fq.len == 0 && *id - 1 - t->answers < FLOOD_DEPTH) {
		reqs(&fq, *id, FLOOD_BATCH);
		*id += FLOOD_BATCH;
	}
	if (fq.len > 0) {
		/* Retried with the same buffer, as OpenSSL requires. */
		ERR_clear_error();
		n = SSL_write(t->ssl, fq.p, (int)fq.len);
		if (n == (int)fq.len)
			fq.len = 0;
		else if ((e = SSL_get_error(t->ssl, n)) ==
		    SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
			blocked = true;
		else {
			/* The server's close broke the write. */
			t->eof = true;
			return false;
		}
	}
	if (!tio_read_some(t))
		return false;
	if (blocked)
		tio_wait(t, POLLIN | POLLOUT, 1);
	else if (fq.len == 0 && *id - 1 - t->answers >= FLOOD_DEPTH)
		tio_wait(t, POLLIN, 1);
	return true;
}

/* End a flood: write the rest of its batch, then read every answer. */
static void
flood_end(struct tio *t, uint64_t id)
{
	if (fq.len > 0)
		assert_true(tio_write(t, fq.p, fq.len, true));
	fq.len = 0;
	tio_recv(t, (size_t)(id - 1), WAIT_MS);
	expect_answers(t, (size_t)(id - 1));
}

/*
 * A flood on one connection must not keep its worker from the others:
 * beside it, another connection on the same (only) worker sends one
 * request at a time, and each is answered within PROBE_MAX_MS -- a pass
 * or two -- not when the flood stops.
 */
static void
test_pipeline_does_not_starve_worker(void **state)
{
	const int64_t	 flood_ms = 1500, first_probe_ms = 200;
	uint64_t	 id = 2, probe = 2;
	int64_t		 t0, sent = -1, waited, worst = 0;
	size_t		 probes = 0;

	(void)state;
	start_one_worker("requests_per_read = 16;", false);
	tio_connect(&cl, 0, 0);
	tio_connect(&cl2, 0, 0);
	round_trip(&cl);
	round_trip(&cl2);
	t0 = now_ms();
	while (now_ms() - t0 < flood_ms) {
		if (!flood_step(&cl, &id))
			fail_msg("the server closed the flood after %zu "
			    "answers (log: %s)", cl.answers, d.log);
		/* The next lone request once the flood is deep. */
		if (sent < 0 && now_ms() - t0 >= first_probe_ms) {
			rq.len = 0;
			req_add(&rq, probe, 0);
			assert_true(tio_write(&cl2, rq.p, rq.len, false));
			sent = now_ms();
		}
		if (sent < 0)
			continue;
		if (!tio_read_some(&cl2))
			fail_msg("the server closed the other connection "
			    "(log: %s)", d.log);
		waited = now_ms() - sent;
		if (waited > worst)
			worst = waited;
		if (cl2.answers == probe) {
			probes++;
			probe++;
			sent = -1;
		}
	}
	print_message("# flood: %zu answers in %lld ms; beside it %zu lone "
	    "requests answered, the slowest after %lld ms%s\n", cl.answers - 1,
	    (long long)(now_ms() - t0), probes, (long long)worst,
	    sent >= 0 ? " (one more in flight)" : "");
	if (worst >= PROBE_MAX_MS || probes == 0)
		fail_msg("a lone request waited %lld ms beside the flood (at "
		    "most %d): the flooding connection holds the worker",
		    (long long)worst, PROBE_MAX_MS);
	flood_end(&cl, id);
	tio_recv(&cl2, (size_t)(sent >= 0 ? probe : probe - 1), WAIT_MS);
	expect_answers(&cl2, (size_t)(sent >= 0 ? probe : probe - 1));
	tio_close(&cl2);
	tio_close(&cl);
	obuf_free(&fq);
	obuf_free(&rq);
	finish();
}

/*
 * Start curl as the admin: POST /v1/revoke for the test's token on the
 * gateway at port.  It runs in the background; revoke_poll() reads its
 * result.
 */
static void
revoke_start(int port)
{
	char	 url[64], ca[600], crt[600], key[600];
	char	*argv[] = { "curl", "-s", "-m", "10", "--cacert", ca,
	    "--cert", crt, "--key", key, "-X", "POST", "-H",
	    "Content-Type: application/json", "--data-binary",
	    "{\"kind\":\"token\",\"value\":\"tls-io\",\"issuer\":\"" TH_ISS
	    "\"}", "-w", "\n%{http_code}", url, NULL };
	int	 p[2];

	th_certs_abs("ca.pem", ca, sizeof(ca));
	th_certs_abs("admin.crt", crt, sizeof(crt));
	th_certs_abs("admin.key", key, sizeof(key));
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/revoke", port);
	rv.len = 0;
	rv.out[0] = '\0';
	assert_int_equal(pipe(p), 0);
	rv.pid = fork();
	if (rv.pid == 0) {
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(127);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	rv.fd = p[0];
	assert_true(rv.pid > 0);
	assert_int_equal(fcntl(rv.fd, F_SETFL, O_NONBLOCK), 0);
}

/*
 * Without waiting: -1 while curl runs; then its HTTP status (0 if curl
 * failed), with what it printed in rv.out.
 */
static int
revoke_poll(void)
{
	ssize_t	 n;
	char	*nl;
	int	 st;

	/* The status comes last: keep the end of a long body. */
	if (rv.len == sizeof(rv.out) - 1) {
		memmove(rv.out, rv.out + rv.len / 2, rv.len - rv.len / 2);
		rv.len -= rv.len / 2;
	}
	n = read(rv.fd, rv.out + rv.len, sizeof(rv.out) - 1 - rv.len);
	if (n > 0) {
		rv.len += (size_t)n;
		rv.out[rv.len] = '\0';
		return -1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	close(rv.fd);
	rv.fd = -1;
	/* It has closed its stdout: it is exiting. */
	assert_int_equal(waitpid(rv.pid, &st, 0), rv.pid);
	rv.pid = -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
	    (nl = strrchr(rv.out, '\n')) == NULL)
		return 0;
	return atoi(nl + 1);
}

/*
 * A revocation the gateway (a thread of its own) has acknowledged is in
 * force for every request sent after the acknowledgement, even on a
 * worker that a flood keeps busy: the worker's store snapshot is renewed
 * every event-loop pass, and a flood must not keep it in one.  The
 * revocation is sent once the flood is deep; from then on answers may
 * turn from OK to REVOKED, once, and must have turned for the requests
 * written after the acknowledgement.
 *
 * curl reports the acknowledgement after the writer committed, but a
 * pass that began before the commit may still read a few requests
 * written after it (a pass answers a few times requests_per_read at
 * most): the check starts one batch later.  Without the renewal every
 * request of the flood is answered OK.
 */
static void
test_revocation_seen_during_pipeline(void **state)
{
	const int64_t	 revoke_at_ms = 200;
	uint64_t	 id = 2, must = 0;
	int64_t		 t0, t_sent = -1, t_ack = -1;
	int		 port, code = -1;
	char		 first[64] = "none yet";

	(void)state;
	port = start_one_worker("requests_per_read = 16;", true);
	tio_connect(&cl, 0, 0);
	cl.accept_revoked = true;
	round_trip(&cl);
	t0 = now_ms();
	for (;;) {
		if (!flood_step(&cl, &id))
			fail_msg("the server closed the flood after %zu "
			    "answers (log: %s)", cl.answers, d.log);
		if (t_sent < 0 && now_ms() - t0 >= revoke_at_ms) {
			revoke_start(port);
			t_sent = now_ms();
		}
		if (t_sent >= 0 && t_ack < 0 && (code = revoke_poll()) >= 0) {
			t_ack = now_ms();
			/* id: the first request not yet handed to OpenSSL. */
			must = id + FLOOD_BATCH;
		}
		/* A batch of those answered while the flood still runs. */
		if (t_ack >= 0 && cl.answers >= must - 1 + FLOOD_BATCH)
			break;
		if (t_sent >= 0 && t_ack < 0 && now_ms() - t_sent > WAIT_MS)
			fail_msg("the revocation was not acknowledged within "
			    "%d ms (log: %s)", WAIT_MS, d.log);
		if (t_ack >= 0 && now_ms() - t_ack > WAIT_MS)
			fail_msg("%zu answers of %llu %d ms after the "
			    "acknowledgement: the flood stalled (log: %s)",
			    cl.answers, (unsigned long long)(must - 1 +
			    FLOOD_BATCH), WAIT_MS, d.log);
	}
	if (cl.first_revoked != 0)
		snprintf(first, sizeof(first), "request %llu",
		    (unsigned long long)cl.first_revoked);
	print_message("# revocation sent %lld ms into the flood, acknowledged "
	    "(HTTP %d) %lld ms later; requests from %llu on must be refused; "
	    "%zu answers so far, the first REVOKED: %s\n",
	    (long long)(t_sent - t0), code, (long long)(t_ack - t_sent),
	    (unsigned long long)must, cl.answers, first);
	if (code != 200)
		fail_msg("revoke: HTTP %d: %s", code, rv.out);
	flood_end(&cl, id);
	/* The revocation is in force: a lone request after the flood. */
	rq.len = 0;
	req_add(&rq, id, 0);
	assert_true(tio_write(&cl, rq.p, rq.len, true));
	tio_recv(&cl, (size_t)id, WAIT_MS);
	expect_answers(&cl, (size_t)id);
	if (cl.last_ok >= id)
		fail_msg("the request after the flood was answered OK: the "
		    "revocation never took effect");
	if (cl.last_ok >= must)
		fail_msg("request %llu, written after the revocation was "
		    "acknowledged, was answered OK (the first REVOKED: %llu): "
		    "the worker's store snapshot is stale",
		    (unsigned long long)cl.last_ok,
		    (unsigned long long)cl.first_revoked);
	tio_close(&cl);
	obuf_free(&fq);
	obuf_free(&rq);
	finish();
}

/*
 * SIGTERM while a flood keeps the only worker busy: drain_timeout_ms
 * (500 ms here) still bounds the drain, so the flooding connection is
 * closed within TERM_MAX_MS of the signal and the daemon exits 0.
 */
static void
test_sigterm_during_pipeline(void **state)
{
	const int64_t	 term_at_ms = 200;
	uint64_t	 id = 2;
	int64_t		 t0, end, t_term = -1, t_closed = -1;

	(void)state;
	start_one_worker("requests_per_read = 16; drain_timeout_ms = 500;",
	    false);
	tio_connect(&cl, 0, 0);
	round_trip(&cl);
	t0 = now_ms();
	end = t0 + term_at_ms + TERM_MAX_MS;
	while (now_ms() < end) {
		if (!flood_step(&cl, &id)) {
			t_closed = now_ms();
			break;
		}
		if (t_term < 0 && now_ms() - t0 >= term_at_ms) {
			assert_int_equal(kill(d.pid, SIGTERM), 0);
			t_term = now_ms();
		}
	}
	if (t_term < 0)
		fail_msg("the server closed the flood before SIGTERM, after "
		    "%zu answers (log: %s)", cl.answers, d.log);
	if (t_closed < 0)
		fail_msg("the flooding connection was still open %lld ms after "
		    "SIGTERM (drain_timeout_ms = 500; %zu answers; log: %s)",
		    (long long)(now_ms() - t_term), cl.answers, d.log);
	print_message("# SIGTERM %lld ms into the flood; the connection "
	    "closed %lld ms after it, with %zu answers\n",
	    (long long)(t_term - t0), (long long)(t_closed - t_term),
	    cl.answers);
	if (cl.failed)
		fail_msg("%s", cl.why);
	tio_close(&cl);
	obuf_free(&fq);
	obuf_free(&rq);
	finish();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_key_update_pipelined, stop),
		cmocka_unit_test_teardown(test_key_update_while_server_blocked,
		    stop),
		cmocka_unit_test_teardown(test_tiny_records, stop),
		cmocka_unit_test_teardown(test_many_requests_one_write, stop),
		cmocka_unit_test_teardown(test_read_limit_then_read_ahead,
		    stop),
		cmocka_unit_test_teardown(test_close_notify_after_requests,
		    stop),
		cmocka_unit_test_teardown(test_close_notify_with_backpressure,
		    stop),
		cmocka_unit_test_teardown(test_tcp_half_close_after_requests,
		    stop),
		cmocka_unit_test_teardown(test_backpressure, stop),
		cmocka_unit_test_teardown(
		    test_drain_answers_half_received_frame, stop),
		cmocka_unit_test_teardown(test_frame_after_long_quiet, stop),
		cmocka_unit_test_teardown(test_eof_with_more_than_budget, stop),
		cmocka_unit_test_teardown(test_pipeline_does_not_starve_worker,
		    stop),
		cmocka_unit_test_teardown(test_revocation_seen_during_pipeline,
		    stop),
		cmocka_unit_test_teardown(test_sigterm_during_pipeline, stop),
	};

	return cmocka_run_group_tests_name("eidd_tls_io", tests, NULL,
	    group_teardown);
}
