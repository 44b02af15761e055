/*
 * tests/integration/test_eidd_limits.c -- misbehaving peers get an error
 * or a timeout and their connection closed, while another client keeps
 * getting correct answers throughout and the daemon's memory and
 * connection count come back: a frame over max_frame, a zero-length
 * frame, garbage protobuf, a truncated frame then silence, a frame
 * trickled slower than the frame deadline, TCP without TLS, a
 * ClientHello trickled byte by byte; floods of handshakes that go nowhere
 * hold no more than max_handshakes and push out only themselves.
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "eid.pb-c.h"
#include "harness.h"
#include "helpers.h"

/* Short limits so that each case takes well under a second or two. */
#define HANDSHAKE_MS	600
#define IDLE_MS		800
#define SLACK_MS	4000

static struct th_eidd d;
static struct eid_client *good;
static char *good_tok;

static int
setup(void **state)
{
	char	 limits[256];

	(void)state;
	snprintf(limits, sizeof(limits), "handshake_timeout_ms = %d; "
	    "idle_timeout_ms = %d; max_frame_bytes = 32768;", HANDSHAKE_MS,
	    IDLE_MS);
	th_eidd_start(&d, limits);
	good_tok = th_token(EID_ALG_ES256, "dichvucong", "good");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(good_tok);
	th_eidd_stop_ok(&d);
	return 0;
}

/* The well-behaved client, reconnected when idle_timeout closed it. */
static void
good_client_ok(void)
{
	struct eid_verify_req	 q;
	struct eid_verify_res	 r;

	memset(&q, 0, sizeof(q));
	q.token = good_tok;
	q.token_len = strlen(good_tok);
	if (good == NULL || eid_client_verify(good, &q, &r) !=
	    EID_CLIENT_OK) {
		eid_client_close(good);
		good = th_client(&d, "rp-dichvucong");
		assert_int_equal(eid_client_verify(good, &q, &r),
		    EID_CLIENT_OK);
	}
	assert_int_equal(r.verdict, EID_VERDICT_OK);
}

/* Read one response frame, expect an Error with code, then a close. */
static void
expect_error_then_close(struct th_raw *r, Eid__V1__ErrorCode code)
{
	unsigned char		 buf[4096];
	Eid__V1__Response	*resp;
	size_t			 n, len;
	bool			 closed;

	n = th_raw_read(r, buf, sizeof(buf), SLACK_MS, &closed);
	assert_true(closed);
	assert_true(n >= 4);
	len = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
	    (size_t)buf[2] << 8 | buf[3];
	assert_int_equal(n, 4 + len);
	resp = eid__v1__response__unpack(NULL, len, buf + 4);
	assert_non_null(resp);
	assert_int_equal(resp->body_case, EID__V1__RESPONSE__BODY_ERROR);
	assert_int_equal(resp->error->code, code);
	eid__v1__response__free_unpacked(resp, NULL);
}

static void
test_frame_too_large(void **state)
{
	struct th_raw	 r;
	unsigned char	 hdr[4] = { 0x00, 0x10, 0x00, 0x00 };	/* 1 MiB */

	(void)state;
	good_client_ok();
	assert_true(th_raw_connect(&r, &d, "rp-dichvucong"));
	assert_true(th_raw_write(&r, hdr, sizeof(hdr)));
	expect_error_then_close(&r, EID__V1__ERROR_CODE__ERROR_FRAME_TOO_LARGE);
	th_raw_close(&r);
	/* 0xFFFFFFFF: the announced length is never allocated. */
	memset(hdr, 0xff, sizeof(hdr));
	assert_true(th_raw_connect(&r, &d, "rp-dichvucong"));
	assert_true(th_raw_write(&r, hdr, sizeof(hdr)));
	expect_error_then_close(&r, EID__V1__ERROR_CODE__ERROR_FRAME_TOO_LARGE);
	th_raw_close(&r);
	good_client_ok();
}

static void
test_zero_length_frame(void **state)
{
	struct th_raw	 r;

	(void)state;
	assert_true(th_raw_connect(&r, &d, "rp-dichvucong"));
	assert_true(th_raw_write(&r, "\0\0\0\0", 4));
	expect_error_then_close(&r, EID__V1__ERROR_CODE__ERROR_BAD_REQUEST);
	th_raw_close(&r);
	good_client_ok();
}

static void
test_garbage_protobuf(void **state)
{
	struct th_raw	 r;
	unsigned char	 f[4 + 16];

	(void)state;
	memset(f, 0xff, sizeof(f));
	f[0] = f[1] = f[2] = 0;
	f[3] = 16;
	assert_true(th_raw_connect(&r, &d, "rp-dichvucong"));
	assert_true(th_raw_write(&r, f, sizeof(f)));
	expect_error_then_close(&r, EID__V1__ERROR_CODE__ERROR_BAD_REQUEST);
	th_raw_close(&r);
	good_client_ok();
}

static void
test_truncated_frame_then_silence(void **state)
{
	struct th_raw	 r;
	unsigned char	 buf[64];
	bool		 closed;

	(void)state;
	assert_true(th_raw_connect(&r, &d, "rp-dichvucong"));
	assert_true(th_raw_write(&r, "\0\0\0\x64" "0123456789", 14));
	good_client_ok();
	assert_int_equal(th_raw_read(&r, buf, sizeof(buf), IDLE_MS + SLACK_MS,
	    &closed), 0);
	assert_true(closed);
	th_raw_close(&r);
	good_client_ok();
}

/* One byte every IDLE_MS / 2: an inactivity timer alone never fires. */
static void
test_frame_trickled(void **state)
{
	struct th_raw	 r;
	struct timespec	 t0, t1, pause = { 0, IDLE_MS / 2 * 1000000L };
	unsigned char	 b = 0, buf[64];
	bool		 closed = false;
	int		 i, ms;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(th_raw_connect(&r, &d, "rp-dichvucong"));
	assert_true(th_raw_write(&r, "\0\0\x10\0", 4));
	for (i = 0; i < 40 && !closed; i++) {
		nanosleep(&pause, NULL);
		if (!th_raw_write(&r, &b, 1))
			break;
		th_raw_read(&r, buf, sizeof(buf), 1, &closed);
	}
	if (!closed)
		th_raw_read(&r, buf, sizeof(buf), SLACK_MS, &closed);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (int)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000);
	assert_true(closed);
	/* Closed by the frame deadline, long before 40 trickled bytes. */
	assert_true(ms < IDLE_MS + SLACK_MS);
	th_raw_close(&r);
	good_client_ok();
}

static void
test_tcp_without_tls(void **state)
{
	int	 fd;

	(void)state;
	fd = th_tcp_connect(&d);
	good_client_ok();
	assert_true(th_fd_closed_within(fd, HANDSHAKE_MS + SLACK_MS));
	close(fd);
	good_client_ok();
}

/* A ClientHello one byte at a time: the handshake is a deadline. */
static void
test_handshake_trickled(void **state)
{
	struct timespec	 pause = { 0, HANDSHAKE_MS / 4 * 1000000L };
	static const unsigned char hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00,
		0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	size_t		 i;
	int		 fd;
	bool		 closed = false;

	(void)state;
	fd = th_tcp_connect(&d);
	for (i = 0; i < sizeof(hello) && !closed; i++) {
		if (send(fd, &hello[i], 1, MSG_NOSIGNAL) != 1)
			closed = true;
		else
			nanosleep(&pause, NULL);
		if (i == 8)
			good_client_ok();
	}
	assert_true(closed || th_fd_closed_within(fd, SLACK_MS));
	close(fd);
	good_client_ok();
}

/* A daemon with one worker and max_handshakes 4 (or the limits given). */
static void
one_worker(struct th_eidd *e, const char *limits)
{
	char	*text, *w;

	text = th_eidd_conf_text(limits, NULL);
	w = strstr(text, "workers = 2;");
	assert_non_null(w);
	w[strlen("workers = ")] = '1';
	th_eidd_start_conf(e, text);
	free(text);
}

/* n TCP connections that never start TLS, into fd[0..n-1]. */
static void
bare_connections(const struct th_eidd *e, int *fd, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		fd[i] = th_tcp_connect(e);
}

/* Close the test's n connections, then stop e. */
static void
stop_closing(struct th_eidd *e, const int *fd, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		close(fd[i]);
	th_eidd_stop_ok(e);
}

#define FOUR_HANDSHAKES	"max_handshakes = 4; handshake_timeout_ms = 30000;"

/*
 * max_handshakes 4, bare TCP connections (no ClientHello): a fifth is
 * refused while the four are inside the grace (a second), then pushes
 * out the oldest, and only it; a real client behind them gets in the
 * same way.  Nothing waits for the 30 s handshake deadline.  (The first
 * version pushed out the oldest handshake whatever it was, and
 * eid-load's idle-1000, a burst of 1,016 real clients, lost 34.)
 */
static void
test_handshake_flood(void **state)
{
	struct th_eidd		 e;
	struct eid_client	*c;
	int			 fd[6];

	(void)state;
	one_worker(&e, FOUR_HANDSHAKES);
	bare_connections(&e, fd, 4);
	fd[4] = th_tcp_connect(&e);
	if (!th_fd_closed_within(fd[4], SLACK_MS))
		fail_msg("a fifth handshake was not refused");
	if (th_fd_closed_within(fd[0], 300))
		fail_msg("a handshake was pushed out inside the grace");
	th_sleep_ms(1000);
	fd[5] = th_tcp_connect(&e);
	if (!th_fd_closed_within(fd[0], SLACK_MS))
		fail_msg("the oldest handshake was not pushed out");
	if (th_fd_closed_within(fd[1], 300))
		fail_msg("more than the oldest handshake was pushed out");
	c = th_client(&e, "rp-dichvucong");
	assert_int_equal(th_verify(c, good_tok, NULL), EID_VERDICT_OK);
	assert_true(th_fd_closed_within(fd[1], SLACK_MS));
	eid_client_close(c);
	stop_closing(&e, fd, 6);
}

/*
 * ClientHellos that are answered and never followed up (a cheap flood:
 * a fixed ClientHello costs its sender nothing) go nowhere too once
 * their peer has had the turn for the answered grace (3 s): a real client
 * pushes one out and gets in.
 */
static void
test_hello_flood(void **state)
{
	struct th_eidd		 e;
	struct eid_client	*c;
	int			 fd[4], i;

	(void)state;
	one_worker(&e, FOUR_HANDSHAKES);
	for (i = 0; i < 4; i++) {
		fd[i] = th_hello_connect(&e);
		assert_true(th_fd_readable_within(fd[i], SLACK_MS));
	}
	th_sleep_ms(3300);
	c = th_client(&e, "rp-dichvucong");
	assert_int_equal(th_verify(c, good_tok, NULL), EID_VERDICT_OK);
	if (!th_fd_closed_within(fd[0], SLACK_MS))
		fail_msg("a stalled answered handshake was not pushed out");
	if (th_fd_closed_within(fd[1], 300))
		fail_msg("more than the oldest handshake was pushed out");
	eid_client_close(c);
	stop_closing(&e, fd, 4);
}

/*
 * The grace runs from the peer's turn, not from accept: a connection
 * quiet for over a second that then sends its ClientHello and gets its
 * answer is not pushed out; the next oldest is.
 */
static void
test_handshake_turn(void **state)
{
	struct th_eidd		 e;
	int			 fd[5];

	(void)state;
	one_worker(&e, FOUR_HANDSHAKES);
	bare_connections(&e, fd, 4);
	th_sleep_ms(1200);
	th_hello_send(fd[0]);
	assert_true(th_fd_readable_within(fd[0], SLACK_MS));
	fd[4] = th_tcp_connect(&e);
	if (!th_fd_closed_within(fd[1], SLACK_MS))
		fail_msg("the oldest quiet handshake was not pushed out");
	if (th_fd_closed_within(fd[0], 300))
		fail_msg("a handshake just answered was pushed out");
	stop_closing(&e, fd, 5);
}

/*
 * A client slow with its half (an HSM signing, a loaded client, a slow
 * link: here 1.5 s between eidd's flight and its own) is not pushed out
 * at the limit: the newcomer is refused instead, and the slow client
 * finishes and is served.  The connection is driven through memory
 * BIOs, so the delay is the test's, to the millisecond.
 */
static void
test_slow_client(void **state)
{
	static const unsigned char alpn[] = "\x05" "eid/1";
	struct th_eidd		 e;
	struct th_raw		 r;
	BIO			*rb, *wb;
	char			 buf[16384], cert[600], key[600], ca[600];
	char			*out;
	long			 len;
	ssize_t			 n;
	int			 fd[4], rc = -1, step;

	(void)state;
	one_worker(&e, FOUR_HANDSHAKES);
	memset(&r, 0, sizeof(r));
	r.fd = th_tcp_connect(&e);
	r.ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(r.ctx);
	assert_int_equal(SSL_CTX_load_verify_locations(r.ctx,
	    th_certs_abs("ca.pem", ca, sizeof(ca)), NULL), 1);
	SSL_CTX_set_verify(r.ctx, SSL_VERIFY_PEER, NULL);
	assert_int_equal(SSL_CTX_use_certificate_chain_file(r.ctx,
	    th_certs_abs("rp-dichvucong.crt", cert, sizeof(cert))), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(r.ctx,
	    th_certs_abs("rp-dichvucong.key", key, sizeof(key)),
	    SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_set_alpn_protos(r.ctx, alpn,
	    sizeof(alpn) - 1), 0);
	r.ssl = SSL_new(r.ctx);
	assert_non_null(r.ssl);
	rb = BIO_new(BIO_s_mem());
	wb = BIO_new(BIO_s_mem());
	assert_true(rb != NULL && wb != NULL);
	SSL_set_bio(r.ssl, rb, wb);
	/* ClientHello out; then eidd's flight in, until ours is made. */
	for (step = 0; step < 100 && rc != 1; step++) {
		ERR_clear_error();
		rc = SSL_connect(r.ssl);
		if (rc != 1)
			assert_int_equal(SSL_get_error(r.ssl, rc),
			    SSL_ERROR_WANT_READ);
		len = BIO_get_mem_data(wb, &out);
		if (len > 0 && rc != 1) {
			assert_int_equal(write(r.fd, out, (size_t)len), len);
			(void)BIO_reset(wb);
		}
		if (rc != 1) {
			assert_true(th_fd_readable_within(r.fd, SLACK_MS));
			n = read(r.fd, buf, sizeof(buf));
			assert_true(n > 0);
			assert_int_equal(BIO_write(rb, buf, (int)n), (int)n);
		}
	}
	assert_int_equal(rc, 1);
	/* Our flight is made and held back; eidd waits for it. */
	th_sleep_ms(1500);
	bare_connections(&e, fd, 3);
	fd[3] = th_tcp_connect(&e);
	if (!th_fd_closed_within(fd[3], SLACK_MS))
		fail_msg("a fifth handshake was not refused");
	if (th_fd_closed_within(r.fd, 300))
		fail_msg("a slow client was pushed out");
	len = BIO_get_mem_data(wb, &out);
	assert_true(len > 0);
	assert_int_equal(write(r.fd, out, (size_t)len), len);
	/* Now over the socket: a frame eidd must answer, so it was served. */
	SSL_set_fd(r.ssl, r.fd);
	assert_true(th_raw_write(&r, "\0\0\0\4\xff\xff\xff\xff", 8));
	expect_error_then_close(&r, EID__V1__ERROR_CODE__ERROR_BAD_REQUEST);
	th_raw_close(&r);
	stop_closing(&e, fd, 4);
}

/* The shield of unread bytes lasts this long past the grace (conn.c). */
#define CONN_BACKLOG_BOUND_MS	3000

/* The last n lines of e's log, as test messages. */
static void
print_log_tail(struct th_eidd *e, int n)
{
	char	*log, *p;
	size_t	 len;
	int	 k = 0;

	if ((log = th_read_file(e->log, &len)) == NULL)
		return;
	for (p = log + len; p > log && k <= n; p--)
		if (p[-1] == '\n')
			k++;
	print_message("# eidd's log, last lines:\n%s", p);
	free(log);
}

/*
 * Four bare connections, then, after pause_ms and with eidd stopped, a
 * new connection and then the oldest's first bytes.  epoll reports ready
 * sockets in the order they became ready, so on resuming eidd accepts
 * first, with the bytes still unread (the connection queued first: see
 * the pause below).  Returns whether the oldest,
 * rather than the next, was pushed out.
 */
static bool
backlog_pushes_oldest(int pause_ms)
{
	struct th_eidd		 e;
	int			 fd[5];
	bool			 oldest;

	one_worker(&e, FOUR_HANDSHAKES);
	bare_connections(&e, fd, 4);
	th_sleep_ms(pause_ms);
	assert_int_equal(kill(e.pid, SIGSTOP), 0);
	/* Until every thread has stopped, the worker may still accept. */
	assert_true(th_stopped_within(e.pid, SLACK_MS));
	fd[4] = th_tcp_connect(&e);
	/*
	 * So that the connection is queued before the bytes below arrive,
	 * should connect() return first: eidd would then read them before
	 * it accepts, and rightly push out the oldest.
	 */
	th_sleep_ms(50);
	/* The start of a record header: not a whole ClientHello. */
	assert_int_equal(write(fd[0], "\x16\x03\x01", 3), 3);
	th_sleep_ms(50);
	assert_int_equal(kill(e.pid, SIGCONT), 0);
	oldest = th_fd_closed_within(fd[0], SLACK_MS);
	if (oldest ? th_fd_closed_within(fd[1], 300) :
	    !th_fd_closed_within(fd[1], SLACK_MS))
		fail_msg("not exactly one handshake was pushed out");
	/*
	 * Which way it went, in the daemon's own words (debug log).  That
	 * showed a rare failure's push-out at the moment of SIGSTOP, not of
	 * SIGCONT: the worker had accepted before it stopped.
	 */
	if (oldest && pause_ms < CONN_BACKLOG_BOUND_MS)
		print_log_tail(&e, 20);
	stop_closing(&e, fd, 5);
	return oldest;
}

/*
 * A bare connection with bytes the worker has not read yet is not pushed
 * out: the wait is the worker's (a burst it has not caught up with), not
 * the peer's.
 */
static void
test_handshake_backlog(void **state)
{
	(void)state;
	if (backlog_pushes_oldest(1500))
		fail_msg("a handshake with unread bytes was pushed out");
}

/*
 * ... but for two seconds past its grace at most: a worker that far
 * behind, or a peer trickling bytes to keep the shield up, loses it.
 */
static void
test_handshake_backlog_bounded(void **state)
{
	(void)state;
	if (!backlog_pushes_oldest(3300))
		fail_msg("unread bytes shielded a handshake past the bound");
}

/*
 * With every max_connections slot taken by bare connections, a new one is
 * refused while they are inside the grace, and afterwards pushes the
 * oldest out: a flood cannot lock relying parties out for the handshake
 * deadline.
 */
static void
test_connections_full(void **state)
{
	struct th_eidd		 e;
	struct eid_client	*c;
	int			 fd[4];

	(void)state;
	one_worker(&e, "max_connections = 3; handshake_timeout_ms = 30000;");
	bare_connections(&e, fd, 3);
	fd[3] = th_tcp_connect(&e);
	if (!th_fd_closed_within(fd[3], SLACK_MS))
		fail_msg("a connection over max_connections was not refused");
	if (th_fd_closed_within(fd[0], 300))
		fail_msg("a handshake was pushed out inside the grace");
	th_sleep_ms(1000);
	c = th_client(&e, "rp-dichvucong");
	assert_int_equal(th_verify(c, good_tok, NULL), EID_VERDICT_OK);
	if (!th_fd_closed_within(fd[0], SLACK_MS))
		fail_msg("the oldest bare handshake did not make room");
	if (th_fd_closed_within(fd[1], 300))
		fail_msg("more than the oldest handshake was pushed out");
	eid_client_close(c);
	stop_closing(&e, fd, 4);
}

/*
 * limits.source_connections_per_s: one address's new connections past
 * the burst are refused at accept, with no TLS; the bucket fills again
 * at the rate; connections already open go on; the operator is told
 * which address.  One worker, so its share is the whole.  Bare TCP
 * connections, so that nothing but accept is timed: the daemon takes
 * the four within a second of each other even under valgrind.
 */
static void
test_source_rate(void **state)
{
	struct eid_client	*c;
	struct th_eidd		 e;
	int			 fd[5];

	(void)state;
	one_worker(&e, "source_connections_per_s = 1; "
	    "source_connections_burst = 3; handshake_timeout_ms = 30000;");
	bare_connections(&e, fd, 3);
	fd[3] = th_tcp_connect(&e);
	if (!th_fd_closed_within(fd[3], SLACK_MS))
		fail_msg("a connection past the burst was not refused");
	if (th_fd_closed_within(fd[0], 300))
		fail_msg("a connection within the burst was closed");
	if (!th_eidd_log_has(&e, "event=source_limited addr=127.0.0.1 "
	    "refused=1 ", SLACK_MS))
		fail_msg("no source_limited line (log: %s)", e.log);
	/* A second later, one more gets in; a second after, a client. */
	th_sleep_ms(1100);
	fd[4] = th_tcp_connect(&e);
	if (th_fd_closed_within(fd[4], 300))
		fail_msg("the bucket did not fill again");
	th_sleep_ms(1100);
	c = th_client(&e, "rp-dichvucong");
	assert_int_equal(th_verify(c, good_tok, NULL), EID_VERDICT_OK);
	eid_client_close(c);
	stop_closing(&e, fd, 5);
}

/* Many misbehaving connections later, nothing is left behind. */
static void
test_resources_return(void **state)
{
	struct eid_client	*c;
	struct eid_status	 s;
	struct th_raw		 r;
	long			 rss0, rss1;
	int			 i;

	(void)state;
	good_client_ok();
	rss0 = th_eidd_rss_kb(&d);
	for (i = 0; i < 60; i++) {
		assert_true(th_raw_connect(&r, &d, "rp-dichvucong"));
		assert_true(th_raw_write(&r, "\0\0\0\4\xff\xff\xff\xff", 8));
		expect_error_then_close(&r,
		    EID__V1__ERROR_CODE__ERROR_BAD_REQUEST);
		th_raw_close(&r);
	}
	good_client_ok();
	c = th_client(&d, "admin");
	memset(&s, 0, sizeof(s));
	assert_int_equal(eid_client_status(c, &s), EID_CLIENT_OK);
	/* The good client and this one. */
	assert_int_equal(s.connections_open, 2);
	eid_status_clear(&s);
	eid_client_close(c);
	rss1 = th_eidd_rss_kb(&d);
	if (th_rss_meaningful() && rss0 > 0 && rss1 > 0)
		assert_true(rss1 - rss0 < 4096);
	eid_client_close(good);
	good = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_too_large),
		cmocka_unit_test(test_zero_length_frame),
		cmocka_unit_test(test_garbage_protobuf),
		cmocka_unit_test(test_truncated_frame_then_silence),
		cmocka_unit_test(test_frame_trickled),
		cmocka_unit_test(test_tcp_without_tls),
		cmocka_unit_test(test_handshake_trickled),
		cmocka_unit_test(test_handshake_flood),
		cmocka_unit_test(test_hello_flood),
		cmocka_unit_test(test_handshake_turn),
		cmocka_unit_test(test_slow_client),
		cmocka_unit_test(test_handshake_backlog),
		cmocka_unit_test(test_handshake_backlog_bounded),
		cmocka_unit_test(test_connections_full),
		cmocka_unit_test(test_source_rate),
		cmocka_unit_test(test_resources_return),
	};

	return cmocka_run_group_tests_name("eidd_limits", tests, setup,
	    teardown);
}
