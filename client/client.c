/*
 * client/client.c -- the blocking flavour of libeidclient (struct
 * eid_client), used by eidctl and by relying parties without an event
 * loop.
 *
 * The socket is non-blocking underneath and every wait is a poll() bounded
 * by the per-call deadline, so no call blocks longer than timeout_ms.  This
 * file owns the connection's fd, SSL object and buffers; frames and
 * messages are wire.c's business.  Requests get ids 1, 2, 3...; answers
 * must come back in that order.  While a flush waits for the socket to
 * drain it also reads the answers already arriving, so a long pipeline
 * can never deadlock against a server that stops reading while its own
 * output is full.  After a fatal error the connection keeps that error
 * (sticky) and refuses further calls.  The library does not touch signal
 * dispositions: a caller writing to a server that has gone away must
 * ignore SIGPIPE (eidctl does).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "eid/client.h"
#include "wire.h"

/* Flush the pipeline once this much is waiting to be written. */
#define CLIENT_OUT_FLUSH	65536
#define CLIENT_READ_CHUNK	16384

struct eid_client {
	int			 fd;
	SSL_CTX			*ctx;
	SSL			*ssl;
	int			 timeout_ms;
	uint64_t		 next_id;	/* id of the next request */
	size_t			 outstanding;	/* pipelined, not received */
	uint64_t		 written_id;	/* last id fully written */
	struct wire_buf		 out;		/* frames to write */
	size_t			 out_off;	/* of out, already written */
	struct wire_buf		 in;		/* bytes read */
	size_t			 in_off;	/* of in, already decoded */
	enum eid_client_err	 broken;	/* sticky fatal error */
	struct eid_server_error	 serr;
	char			 errbuf[512];
};

static int64_t
client_now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
client_deadline(int timeout_ms)
{
	return client_now_ms() + (timeout_ms > 0 ? timeout_ms :
	    WIRE_TIMEOUT_DEFAULT_MS);
}

/*
 * Wait for events on fd until the deadline.  Returns 0 with *revents set,
 * or -1 with *errp TIMEOUT or IO.
 */
static int
client_poll(int fd, short events, int64_t deadline, short *revents,
    enum eid_client_err *errp, char *err, size_t errlen)
{
	struct pollfd	 pfd;
	int64_t		 left;
	int		 r;

	for (;;) {
		left = deadline - client_now_ms();
		if (left <= 0) {
			*errp = EID_CLIENT_ERR_TIMEOUT;
			wire_errf(err, errlen, "no progress before the "
			    "deadline");
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			*errp = EID_CLIENT_ERR_IO;
			wire_errf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (r == 1) {
			*revents = pfd.revents;
			return 0;
		}
	}
}

/* Remember a fatal error; the connection is unusable from now on. */
static enum eid_client_err
client_break(struct eid_client *c, enum eid_client_err e)
{
	if (e != EID_CLIENT_OK && e != EID_CLIENT_ERR_SERVER &&
	    e != EID_CLIENT_ERR_USAGE)
		c->broken = e;
	return e;
}

/*
 * Classify a failed SSL call (sslerr from SSL_get_error, saved_errno
 * right after the call).  Used for everything but WANT_READ/WANT_WRITE.
 */
static enum eid_client_err
client_ssl_fail(struct eid_client *c, int sslerr, int saved_errno,
    const char *what, bool handshake)
{
	unsigned long	 code;

	switch (sslerr) {
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		wire_errf(c->errbuf, sizeof(c->errbuf), "%s: server closed "
		    "the connection", what);
		return handshake ? EID_CLIENT_ERR_TLS : EID_CLIENT_ERR_IO;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		wire_errf(c->errbuf, sizeof(c->errbuf), "%s: %s", what,
		    saved_errno != 0 ? strerror(saved_errno) :
		    "connection closed");
		return handshake ? EID_CLIENT_ERR_TLS : EID_CLIENT_ERR_IO;
	case SSL_ERROR_SSL:
		code = ERR_peek_error();
		if (!handshake && ERR_GET_LIB(code) == ERR_LIB_SSL &&
		    ERR_GET_REASON(code) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			wire_errf(c->errbuf, sizeof(c->errbuf), "%s: server "
			    "closed the connection", what);
			return EID_CLIENT_ERR_IO;
		}
		/*
		 * After a TLS 1.3 handshake the server checks our
		 * certificate, so its refusal arrives as an alert on the
		 * first read: still a TLS failure.
		 */
		wire_tls_error(c->errbuf, sizeof(c->errbuf), what, c->ssl);
		return EID_CLIENT_ERR_TLS;
	default:
		ERR_clear_error();
		wire_errf(c->errbuf, sizeof(c->errbuf), "%s: SSL error %d",
		    what, sslerr);
		return EID_CLIENT_ERR_IO;
	}
}

/*
 * One SSL_read into c->in.  With wait, block until something arrives;
 * without, return OK when nothing is there yet.
 */
static enum eid_client_err
client_read_some(struct eid_client *c, int64_t deadline, bool wait)
{
	enum eid_client_err	 e;
	size_t			 n;
	short			 ev, rev;
	int			 r, sslerr, saved;

	/* Compact only when the decoded prefix is in the way. */
	if (c->in_off == c->in.len) {
		c->in.len = 0;
		c->in_off = 0;
	} else if (c->in_off > 0 && c->in.cap - c->in.len < CLIENT_READ_CHUNK) {
		memmove(c->in.data, c->in.data + c->in_off,
		    c->in.len - c->in_off);
		c->in.len -= c->in_off;
		c->in_off = 0;
	}
	if (wire_buf_reserve(&c->in, CLIENT_READ_CHUNK) == -1) {
		wire_errf(c->errbuf, sizeof(c->errbuf), "out of memory");
		return EID_CLIENT_ERR_NOMEM;
	}
	for (;;) {
		ERR_clear_error();
		errno = 0;
		r = SSL_read_ex(c->ssl, c->in.data + c->in.len,
		    c->in.cap - c->in.len, &n);
		saved = errno;
		if (r == 1) {
			c->in.len += n;
			return EID_CLIENT_OK;
		}
		sslerr = SSL_get_error(c->ssl, r);
		if (sslerr == SSL_ERROR_WANT_READ)
			ev = POLLIN;
		else if (sslerr == SSL_ERROR_WANT_WRITE)
			ev = POLLOUT;
		else
			return client_ssl_fail(c, sslerr, saved, "read", false);
		if (!wait)
			return EID_CLIENT_OK;
		if (client_poll(c->fd, ev, deadline, &rev, &e, c->errbuf,
		    sizeof(c->errbuf)) == -1)
			return e;
	}
}

/* Write everything in c->out, reading ahead while the socket is full. */
static enum eid_client_err
client_flush_out(struct eid_client *c, int64_t deadline)
{
	enum eid_client_err	 e;
	size_t			 n;
	short			 ev, rev;
	int			 r, sslerr, saved;

	while (c->out_off < c->out.len) {
		ERR_clear_error();
		errno = 0;
		r = SSL_write_ex(c->ssl, c->out.data + c->out_off,
		    c->out.len - c->out_off, &n);
		saved = errno;
		if (r == 1) {
			c->out_off += n;
			continue;
		}
		sslerr = SSL_get_error(c->ssl, r);
		if (sslerr == SSL_ERROR_WANT_READ)
			ev = POLLIN;
		else if (sslerr == SSL_ERROR_WANT_WRITE)
			ev = POLLOUT;
		else
			return client_ssl_fail(c, sslerr, saved, "write",
			    false);
		/*
		 * While the server cannot take more, take its answers: it
		 * may itself be waiting for us to read before it reads on.
		 * No honest server sends more than one frame per request
		 * outstanding, which bounds what is buffered.
		 */
		if (ev == POLLOUT && c->in.len - c->in_off <
		    (c->outstanding + 1) * (WIRE_HDR_LEN + WIRE_FRAME_MAX))
			ev |= POLLIN;
		if (client_poll(c->fd, ev, deadline, &rev, &e, c->errbuf,
		    sizeof(c->errbuf)) == -1)
			return e;
		if ((ev & POLLOUT) != 0 && (rev & POLLIN) != 0 &&
		    (e = client_read_some(c, deadline, false)) !=
		    EID_CLIENT_OK)
			return e;
	}
	c->out.len = 0;
	c->out_off = 0;
	c->written_id = c->next_id - 1;
	return EID_CLIENT_OK;
}

/*
 * Read and decode the next frame into ans (whose id and expect the caller
 * set), flushing first unless the request it answers is already written,
 * and flushing whatever is queued before blocking on the socket: answers
 * already buffered are consumed without a write, so a busy pipeline still
 * writes in large chunks, but it never drains while requests wait in our
 * buffer.
 */
static enum eid_client_err
client_exchange(struct eid_client *c, struct wire_answer *ans,
    int64_t deadline)
{
	enum eid_client_err	 e;
	size_t			 blen;
	int			 r;

	if (ans->id > c->written_id &&
	    (e = client_flush_out(c, deadline)) != EID_CLIENT_OK)
		return client_break(c, e);
	for (;;) {
		r = c->in.len == c->in_off ? 0 :
		    wire_frame_peek(c->in.data + c->in_off,
		    c->in.len - c->in_off, &blen, c->errbuf,
		    sizeof(c->errbuf));
		if (r == -1)
			return client_break(c, EID_CLIENT_ERR_PROTOCOL);
		if (r == 1)
			break;
		if (c->out.len != 0 &&
		    (e = client_flush_out(c, deadline)) != EID_CLIENT_OK)
			return client_break(c, e);
		if ((e = client_read_some(c, deadline, true)) !=
		    EID_CLIENT_OK)
			return client_break(c, e);
	}
	e = wire_decode(c->in.data + c->in_off + WIRE_HDR_LEN, blen, ans,
	    c->errbuf, sizeof(c->errbuf));
	c->in_off += WIRE_HDR_LEN + blen;
	if (e == EID_CLIENT_ERR_SERVER) {
		c->serr = ans->serr;
		/* The server closes after this one; later calls say so. */
		if (ans->closing) {
			c->broken = EID_CLIENT_ERR_IO;
			wire_errf(c->errbuf, sizeof(c->errbuf), "server "
			    "closed the connection after error %s",
			    eid_server_code_name(ans->serr.code));
		}
		return e;
	}
	if (e != EID_CLIENT_OK)
		return client_break(c, e == EID_CLIENT_ERR_USAGE ?
		    EID_CLIENT_ERR_PROTOCOL : e);
	return EID_CLIENT_OK;
}

/* Common entry checks of every request call. */
static enum eid_client_err
client_check(struct eid_client *c, bool need_idle)
{
	if (c == NULL)
		return EID_CLIENT_ERR_USAGE;
	if (c->broken != EID_CLIENT_OK)
		return c->broken;
	if (need_idle && (c->outstanding != 0 || c->out.len != 0)) {
		wire_errf(c->errbuf, sizeof(c->errbuf), "pipelined requests "
		    "are outstanding; receive them first");
		return EID_CLIENT_ERR_USAGE;
	}
	return EID_CLIENT_OK;
}

/* Send the frame just encoded with id c->next_id and get its answer. */
static enum eid_client_err
client_call(struct eid_client *c, struct wire_answer *ans)
{
	ans->id = c->next_id++;
	return client_exchange(c, ans, client_deadline(c->timeout_ms));
}

/* --- connect ------------------------------------------------------------- */

static int
client_tcp_connect(const char *host, const char *port, int64_t deadline,
    enum eid_client_err *errp, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	socklen_t	 sl;
	short		 rev;
	int		 fd = -1, r, soerr, saved = 0, one = 1, fl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	*errp = EID_CLIENT_ERR_CONNECT;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		wire_errf(err, errlen, "%s: %s", host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		if ((fl = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
			goto next;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno != EINPROGRESS)
			goto next;
		if (client_poll(fd, POLLOUT, deadline, &rev, errp, err,
		    errlen) == -1) {
			(void)close(fd);
			fd = -1;
			if (*errp == EID_CLIENT_ERR_TIMEOUT)
				wire_errf(err, errlen, "connect to %s port "
				    "%s: timed out", host, port);
			goto out;
		}
		sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			goto next;
		if (soerr == 0)
			break;
		errno = soerr;
next:
		saved = errno;
		(void)close(fd);
		fd = -1;
	}
	if (fd == -1) {
		*errp = EID_CLIENT_ERR_CONNECT;
		wire_errf(err, errlen, "connect to %s port %s: %s", host, port,
		    strerror(saved));
		goto out;
	}
	/* Pipelined small frames must not wait for Nagle. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*errp = EID_CLIENT_OK;
out:
	freeaddrinfo(res);
	return fd;
}

static enum eid_client_err
client_handshake(struct eid_client *c, int64_t deadline)
{
	enum eid_client_err	 e;
	short			 ev, rev;
	int			 r, sslerr, saved;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		r = SSL_do_handshake(c->ssl);
		saved = errno;
		if (r == 1)
			break;
		sslerr = SSL_get_error(c->ssl, r);
		if (sslerr == SSL_ERROR_WANT_READ)
			ev = POLLIN;
		else if (sslerr == SSL_ERROR_WANT_WRITE)
			ev = POLLOUT;
		else
			return client_ssl_fail(c, sslerr, saved,
			    "TLS handshake", true);
		if (client_poll(c->fd, ev, deadline, &rev, &e, c->errbuf,
		    sizeof(c->errbuf)) == -1)
			return e;
	}
	if (!wire_tls_alpn_is_ok(c->ssl)) {
		wire_errf(c->errbuf, sizeof(c->errbuf), "server did not "
		    "agree on ALPN \"%s\"", WIRE_ALPN);
		return EID_CLIENT_ERR_TLS;
	}
	return EID_CLIENT_OK;
}

struct eid_client *
eid_client_connect(const struct eid_client_config *cfg,
    enum eid_client_err *errp, char *err, size_t errlen)
{
	struct eid_client	*c = NULL;
	char			 host[WIRE_HOST_MAX], port[WIRE_PORT_MAX];
	enum eid_client_err	 e = EID_CLIENT_ERR_USAGE, dummy;
	int64_t			 deadline;

	if (errp == NULL)
		errp = &dummy;
	wire_errf(err, errlen, "bad configuration");
	if (cfg == NULL || cfg->timeout_ms < 0)
		goto fail;
	if (wire_parse_hostport(cfg->server, host, sizeof(host), port,
	    sizeof(port)) == -1) {
		wire_errf(err, errlen, "bad server address \"%s\"",
		    cfg->server != NULL ? cfg->server : "");
		goto fail;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		e = EID_CLIENT_ERR_NOMEM;
		wire_errf(err, errlen, "out of memory");
		goto fail;
	}
	c->fd = -1;
	c->next_id = 1;
	c->timeout_ms = cfg->timeout_ms;
	wire_buf_init(&c->out);
	wire_buf_init(&c->in);
	deadline = client_deadline(c->timeout_ms);
	if ((c->ctx = wire_tls_ctx_new(cfg, &e, err, errlen)) == NULL)
		goto fail;
	if ((c->fd = client_tcp_connect(host, port, deadline, &e, err,
	    errlen)) == -1)
		goto fail;
	ERR_clear_error();
	e = EID_CLIENT_ERR_NOMEM;
	if ((c->ssl = SSL_new(c->ctx)) == NULL) {
		wire_tls_error(err, errlen, "SSL_new", NULL);
		goto fail;
	}
	e = EID_CLIENT_ERR_TLS;
	if (SSL_set_fd(c->ssl, c->fd) != 1) {
		wire_tls_error(err, errlen, "SSL_set_fd", NULL);
		goto fail;
	}
	if (wire_tls_set_peer(c->ssl, host, err, errlen) == -1)
		goto fail;
	/* Whole socket reads, not one per record header and body. */
	SSL_set_read_ahead(c->ssl, 1);
	SSL_set_connect_state(c->ssl);
	if ((e = client_handshake(c, deadline)) != EID_CLIENT_OK) {
		wire_errf(err, errlen, "%s: %s", cfg->server, c->errbuf);
		goto fail;
	}
	*errp = EID_CLIENT_OK;
	return c;
fail:
	/* No close_notify on a connection that never came up. */
	if (c != NULL)
		c->broken = e;
	eid_client_close(c);
	*errp = e;
	return NULL;
}

void
eid_client_close(struct eid_client *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		/* One non-blocking attempt: close_notify is a courtesy. */
		if (c->broken == EID_CLIENT_OK) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);
		}
		ERR_clear_error();
		SSL_free(c->ssl);
	}
	if (c->fd != -1)
		(void)close(c->fd);
	SSL_CTX_free(c->ctx);
	wire_buf_reset(&c->out);
	wire_buf_reset(&c->in);
	free(c);
}

const char *
eid_client_last_error(const struct eid_client *c)
{
	if (c == NULL)
		return "no connection";
	return c->errbuf;
}

const struct eid_server_error *
eid_client_server_error(const struct eid_client *c)
{
	return c != NULL ? &c->serr : NULL;
}

/* --- requests ------------------------------------------------------------ */

enum eid_client_err
eid_client_verify(struct eid_client *c, const struct eid_verify_req *req,
    struct eid_verify_res *res)
{
	struct wire_answer	 ans;
	enum eid_client_err	 e;

	if ((e = client_check(c, true)) != EID_CLIENT_OK)
		return e;
	if (res == NULL)
		return EID_CLIENT_ERR_USAGE;
	if ((e = wire_encode_verify(&c->out, c->next_id, req, c->errbuf,
	    sizeof(c->errbuf))) != EID_CLIENT_OK)
		return e;
	memset(&ans, 0, sizeof(ans));
	ans.expect = WIRE_BODY_VERIFY;
	ans.res = res;
	ans.nres = 1;
	return client_call(c, &ans);
}

enum eid_client_err
eid_client_verify_batch(struct eid_client *c,
    const struct eid_verify_req *reqs, size_t n, struct eid_verify_res *res)
{
	struct wire_answer	 ans;
	enum eid_client_err	 e;

	if ((e = client_check(c, true)) != EID_CLIENT_OK)
		return e;
	if (res == NULL)
		return EID_CLIENT_ERR_USAGE;
	if ((e = wire_encode_verify_batch(&c->out, c->next_id, reqs, n,
	    c->errbuf, sizeof(c->errbuf))) != EID_CLIENT_OK)
		return e;
	memset(&ans, 0, sizeof(ans));
	ans.expect = WIRE_BODY_VERIFY_BATCH;
	ans.res = res;
	ans.nres = n;
	return client_call(c, &ans);
}

enum eid_client_err
eid_client_revoke(struct eid_client *c, const struct eid_revoke_req *req,
    uint64_t *sequence)
{
	struct wire_answer	 ans;
	enum eid_client_err	 e;

	if ((e = client_check(c, true)) != EID_CLIENT_OK)
		return e;
	if ((e = wire_encode_revoke(&c->out, c->next_id, req, c->errbuf,
	    sizeof(c->errbuf))) != EID_CLIENT_OK)
		return e;
	memset(&ans, 0, sizeof(ans));
	ans.expect = WIRE_BODY_REVOKE;
	e = client_call(c, &ans);
	if (sequence != NULL)
		*sequence = e == EID_CLIENT_OK ? ans.sequence : 0;
	return e;
}

enum eid_client_err
eid_client_status(struct eid_client *c, struct eid_status *st)
{
	struct wire_answer	 ans;
	enum eid_client_err	 e;

	if ((e = client_check(c, true)) != EID_CLIENT_OK)
		return e;
	if (st == NULL)
		return EID_CLIENT_ERR_USAGE;
	if ((e = wire_encode_status(&c->out, c->next_id, c->errbuf,
	    sizeof(c->errbuf))) != EID_CLIENT_OK)
		return e;
	memset(&ans, 0, sizeof(ans));
	ans.expect = WIRE_BODY_STATUS;
	ans.status = st;
	return client_call(c, &ans);
}

enum eid_client_err
eid_client_revoke_batch(struct eid_client *c,
    const struct eid_revoke_req *reqs, size_t n, uint64_t *seqs)
{
	struct wire_answer	 ans;
	enum eid_client_err	 e;

	if ((e = client_check(c, true)) != EID_CLIENT_OK)
		return e;
	if (seqs == NULL) {
		wire_errf(c->errbuf, sizeof(c->errbuf), "no room for the "
		    "sequence numbers");
		return EID_CLIENT_ERR_USAGE;
	}
	if ((e = wire_encode_revoke_batch(&c->out, c->next_id, reqs, n,
	    c->errbuf, sizeof(c->errbuf))) != EID_CLIENT_OK)
		return e;
	memset(&ans, 0, sizeof(ans));
	ans.expect = WIRE_BODY_REVOKE_BATCH;
	ans.seqs = seqs;
	ans.nseqs = n;
	return client_call(c, &ans);
}

enum eid_client_err
eid_client_list_revocations(struct eid_client *c, int kind,
    const struct eid_revocation *after, size_t max,
    struct eid_revocation *out, size_t *n, bool *more)
{
	struct eid_revocation	 cursor;
	struct wire_answer	 ans;
	enum eid_client_err	 e;

	if (n != NULL)
		*n = 0;
	if (more != NULL)
		*more = false;
	if ((e = client_check(c, true)) != EID_CLIENT_OK)
		return e;
	if (out == NULL || n == NULL || more == NULL) {
		wire_errf(c->errbuf, sizeof(c->errbuf), "no room for the "
		    "revocations");
		return EID_CLIENT_ERR_USAGE;
	}
	if ((e = wire_encode_list_revocations(&c->out, c->next_id, kind,
	    after, max, c->errbuf, sizeof(c->errbuf))) != EID_CLIENT_OK)
		return e;
	memset(&ans, 0, sizeof(ans));
	ans.expect = WIRE_BODY_LIST_REVOCATIONS;
	ans.revs = out;
	ans.maxrevs = max;
	ans.list_kind = kind;
	/*
	 * The natural cursor is the last entry of the previous page, in
	 * the very array this page overwrites: check order against a copy.
	 */
	if (after != NULL) {
		cursor = *after;
		ans.list_after = &cursor;
	}
	if ((e = client_call(c, &ans)) == EID_CLIENT_OK) {
		*n = ans.nrevs;
		*more = ans.more;
	}
	return e;
}

enum eid_client_err
eid_client_send_verify(struct eid_client *c, const struct eid_verify_req *req)
{
	enum eid_client_err	 e;

	if ((e = client_check(c, false)) != EID_CLIENT_OK)
		return e;
	if ((e = wire_encode_verify(&c->out, c->next_id, req, c->errbuf,
	    sizeof(c->errbuf))) != EID_CLIENT_OK)
		return e;
	c->next_id++;
	c->outstanding++;
	if (c->out.len - c->out_off >= CLIENT_OUT_FLUSH)
		return client_break(c, client_flush_out(c,
		    client_deadline(c->timeout_ms)));
	return EID_CLIENT_OK;
}

enum eid_client_err
eid_client_flush(struct eid_client *c)
{
	enum eid_client_err	 e;

	if ((e = client_check(c, false)) != EID_CLIENT_OK)
		return e;
	return client_break(c, client_flush_out(c,
	    client_deadline(c->timeout_ms)));
}

enum eid_client_err
eid_client_recv_verify(struct eid_client *c, struct eid_verify_res *res)
{
	struct wire_answer	 ans;
	enum eid_client_err	 e;

	if ((e = client_check(c, false)) != EID_CLIENT_OK)
		return e;
	if (res == NULL || c->outstanding == 0) {
		wire_errf(c->errbuf, sizeof(c->errbuf), "no request is "
		    "outstanding");
		return EID_CLIENT_ERR_USAGE;
	}
	memset(&ans, 0, sizeof(ans));
	ans.expect = WIRE_BODY_VERIFY;
	ans.id = c->next_id - c->outstanding;
	ans.res = res;
	ans.nres = 1;
	e = client_exchange(c, &ans, client_deadline(c->timeout_ms));
	if (e == EID_CLIENT_OK || e == EID_CLIENT_ERR_SERVER)
		c->outstanding--;
	return e;
}
