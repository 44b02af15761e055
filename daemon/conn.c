/*
 * daemon/conn.c -- one client connection, from accept to close, on the
 * worker that accepted it.
 *
 * A connection owns its socket, its SSL object, its two events (read
 * and write interest on the socket), its timer, its input and unsent
 * output, and its peer certificate; conn_close() is the one place that
 * frees them (STYLE.md rules 21 and 24).  Any function that may close
 * returns -1 and its callers return at once.
 *
 * The I/O is driven here, on the socket, rather than by libevent's
 * OpenSSL bufferevent: that one takes a single TLS record per readiness
 * event (two read(2)s each) and turns write interest on and off around
 * every answer, so a client that sends one record per request cost a
 * loop pass, three read(2)s, an epoll_ctl(2) and a write(2) per request.
 * Here one readable event takes everything the socket and OpenSSL hold
 * (read-ahead: one read(2)), answers every complete frame, and writes the
 * answers at once; write interest is asked for only when the socket is
 * full.
 *
 * Limits, each checked before anything is allocated for the peer:
 *   - max_connections: refused at accept;
 *   - handshake_timeout_ms: a deadline from accept, not an inactivity
 *     timer, so a ClientHello trickled a byte at a time still ends;
 *   - idle_timeout_ms: reading quiet, writing stuck, and a deadline for
 *     finishing a frame once the previous one was answered (slowloris);
 *   - max_frame_bytes: judged from the 4-byte prefix alone, and input is
 *     not read beyond one frame plus CONN_READ_SLACK;
 *   - requests_per_read: then other connections get their turn;
 *   - output_high_watermark: reading stops until the output drains to
 *     half of it.
 *
 * Timeouts are lazy: activity only stamps a time, and the one timer,
 * armed no later than the earliest deadline, checks the stamps when it
 * fires and re-arms itself.  Every deadline is a stamp plus the same
 * idle period and stamps only move forward, so a timer armed for the
 * earliest deadline is never late; only a shorter period (draining, the
 * end of the handshake) re-arms it at once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "eidd.h"

/* How long a draining connection may stay quiet before it is closed. */
#define CONN_DRAIN_QUIET_MS	300
/* Input buffered beyond one frame: enough to keep a pipeline busy. */
#define CONN_READ_SLACK		(64 * 1024)
/* Bytes asked of OpenSSL per read call. */
#define CONN_READ_CHUNK		(16 * 1024)
/* Bytes handed to SSL_write per call (it cuts 16 KiB records). */
#define CONN_WRITE_CHUNK	(256 * 1024)

struct conn {
	struct conn		*next;
	struct conn		*prev;
	struct worker		*w;
	uint64_t		 id;
	int			 fd;
	struct ssl_st		*ssl;
	struct event		*rev;		/* socket readable */
	struct event		*wev;		/* socket writable */
	struct event		*timer;		/* the earliest deadline */
	struct evbuffer		*in;		/* plaintext not yet framed */
	struct evbuffer		*out;		/* answers SSL_write has not taken */
	struct x509_st		*peer;
	const struct principal	*principal;
	uint64_t		 principal_gen;
	bool			 handshaken;
	bool			 reading;	/* rev is added */
	bool			 writing;	/* wev is added */
	bool			 paused;	/* reading stopped: backpressure */
	bool			 closing;	/* flush, then close */
	bool			 draining;
	bool			 eof;		/* the peer closed its side */
	bool			 broken;	/* no close_notify: TLS failed */
	bool			 read_wants_write;
	bool			 write_wants_read;
	bool			 timer_armed;
	int64_t			 timer_at;	/* ms, when timer_armed */
	/* CLOCK_MONOTONIC ms stamps the timer judges */
	int64_t			 accepted_ms;
	int64_t			 established_ms;
	int64_t			 read_ms;	/* bytes last read */
	int64_t			 frame_ms;	/* a frame last answered */
	int64_t			 write_ms;	/* output last moved */
};

static int	conn_service(struct conn *);

static int64_t
conn_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
conn_ms(struct timeval *tv, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

static void
conn_want_read(struct conn *c, bool on)
{
	if (on && !c->reading)
		event_add(c->rev, NULL);
	else if (!on && c->reading)
		event_del(c->rev);
	c->reading = on;
}

static void
conn_want_write(struct conn *c, bool on)
{
	if (on && !c->writing)
		event_add(c->wev, NULL);
	else if (!on && c->writing)
		event_del(c->wev);
	c->writing = on;
}

static void
conn_close(struct conn *c, const char *reason)
{
	struct worker	*w = c->w;

	log_debug("close", "conn=%llu reason=%s", (unsigned long long)c->id,
	    reason);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->nconns--;
	/* Answers of this pass that were never moved to the output. */
	evbuffer_drain(w->stage, evbuffer_get_length(w->stage));
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->timer);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	tls_x509_free(c->peer);
	if (c->handshaken && !c->broken)
		tls_close_notify(c->ssl);
	tls_ssl_free(c->ssl);
	close(c->fd);
	free(c);
	atomic_fetch_sub(&w->srv->conns_open, 1);
	if (w->draining && w->nconns == 0)
		event_base_loopexit(w->base, NULL);
}

/* The period every deadline of an established connection is judged by. */
static int64_t
conn_idle_ms(struct conn *c)
{
	return c->draining ? CONN_DRAIN_QUIET_MS :
	    worker_snap(c->w)->cfg->idle_timeout_ms;
}

/* A frame has begun but is not complete. */
static bool
conn_partial_frame(struct conn *c)
{
	size_t	 len;

	return evbuffer_get_length(c->in) > 0 &&
	    frame_peek(c->in, SIZE_MAX, &len) == 0;
}

/* The earliest deadline now in force. */
static int64_t
conn_deadline(struct conn *c)
{
	int64_t	 idle, d = INT64_MAX;

	if (!c->handshaken)
		return c->accepted_ms +
		    worker_snap(c->w)->cfg->handshake_timeout_ms;
	idle = conn_idle_ms(c);
	if (evbuffer_get_length(c->out) > 0 || c->read_wants_write)
		d = c->write_ms + idle;
	if (!c->closing && !c->paused) {
		if (conn_partial_frame(c))
			d = d < c->frame_ms + idle ? d : c->frame_ms + idle;
		else
			d = d < c->read_ms + idle ? d : c->read_ms + idle;
	}
	return d;
}

/* Arm the timer for the earliest deadline unless it fires before it. */
static void
conn_arm(struct conn *c, bool force)
{
	struct timeval	 tv;
	int64_t		 d = conn_deadline(c);

	if (d == INT64_MAX || (!force && c->timer_armed && c->timer_at <= d))
		return;
	conn_ms(&tv, d - conn_now_ms());
	evtimer_add(c->timer, &tv);
	c->timer_armed = true;
	c->timer_at = d;
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	int64_t		 now = conn_now_ms(), idle;

	(void)fd;
	(void)what;
	c->timer_armed = false;
	if (!c->handshaken) {
		if (now >= conn_deadline(c)) {
			atomic_fetch_add_explicit(&c->w->ctr.handshake_failures,
			    1, memory_order_relaxed);
			conn_close(c, "handshake_timeout");
			return;
		}
		conn_arm(c, true);
		return;
	}
	idle = conn_idle_ms(c);
	if ((evbuffer_get_length(c->out) > 0 || c->read_wants_write) &&
	    now >= c->write_ms + idle) {
		conn_close(c, "write_timeout");
		return;
	}
	if (!c->closing && !c->paused) {
		if (conn_partial_frame(c)) {
			if (now >= c->frame_ms + idle) {
				conn_close(c, "frame_timeout");
				return;
			}
		} else if (now >= c->read_ms + idle) {
			if (!c->draining) {
				conn_close(c, "idle_timeout");
				return;
			}
			/*
			 * A draining connection that went quiet has been
			 * answered -- unless it has just been established (a
			 * slow handshake, requests right behind it): then it
			 * gets another quiet period, within drain_timeout_ms.
			 */
			if (now - c->established_ms >= 2 * CONN_DRAIN_QUIET_MS) {
				c->closing = true;
				conn_want_read(c, false);
				if (evbuffer_get_length(c->out) == 0) {
					conn_close(c, "drained");
					return;
				}
			} else
				c->read_ms = now;
		}
	}
	conn_arm(c, true);
}

/* The principal under the current snapshot (it may have been reloaded). */
static void
conn_map(struct conn *c, struct snap *s)
{
	char	 subj[512], esc[1100];

	if (c->principal_gen == s->gen)
		return;
	c->principal = snap_principal(s, c->peer);
	c->principal_gen = s->gen;
	if (c->principal == NULL)
		log_info("unmapped_peer", "conn=%llu subject=%s",
		    (unsigned long long)c->id, log_escape(tls_subject(c->peer,
		    subj, sizeof(subj)), esc, sizeof(esc)));
}

/* Log why the handshake failed and close. */
static void
conn_handshake_failed(struct conn *c, const char *what)
{
	char	 err[512], esc[1100];

	atomic_fetch_add_explicit(&c->w->ctr.handshake_failures, 1,
	    memory_order_relaxed);
	log_debug("handshake_failed", "conn=%llu openssl=%s",
	    (unsigned long long)c->id, log_escape(what != NULL ? what :
	    tls_errors(err, sizeof(err)), esc, sizeof(esc)));
	c->broken = true;
	conn_close(c, "handshake_failed");
}

/* The handshake finished: check ALPN and the certificate, map, serve. */
static int
conn_established(struct conn *c)
{
	struct snap	*s = worker_snap(c->w);
	char		 err[256], esc[600];
	int64_t		 now = conn_now_ms();

	if ((c->peer = tls_peer(c->ssl, err, sizeof(err))) == NULL) {
		atomic_fetch_add_explicit(&c->w->ctr.handshake_failures, 1,
		    memory_order_relaxed);
		log_debug("handshake_refused", "conn=%llu reason=%s",
		    (unsigned long long)c->id, log_escape(err, esc,
		    sizeof(esc)));
		conn_close(c, "handshake_refused");
		return -1;
	}
	c->handshaken = true;
	c->established_ms = c->read_ms = c->frame_ms = c->write_ms = now;
	conn_map(c, s);
	log_debug("established", "conn=%llu principal=%s",
	    (unsigned long long)c->id, c->principal != NULL ?
	    c->principal->cp->name : "-");
	conn_want_read(c, true);
	conn_want_write(c, false);
	conn_arm(c, true);
	/* Requests may have come right behind the client's Finished. */
	return conn_service(c);
}

static int
conn_handshake(struct conn *c)
{
	switch (tls_handshake(c->ssl)) {
	case TLS_IO_OK:
		return conn_established(c);
	case TLS_IO_WANT_READ:
		conn_want_write(c, false);
		return 0;
	case TLS_IO_WANT_WRITE:
		conn_want_write(c, true);
		return 0;
	case TLS_IO_EOF:
		conn_handshake_failed(c, "peer closed during the handshake");
		return -1;
	case TLS_IO_ERROR:
		break;
	}
	conn_handshake_failed(c, NULL);
	return -1;
}

/* A TLS failure on an established connection. */
static void
conn_tls_failed(struct conn *c, const char *op)
{
	char	 err[512], esc[1100];

	log_debug("tls_error", "conn=%llu op=%s openssl=%s",
	    (unsigned long long)c->id, op, log_escape(tls_errors(err,
	    sizeof(err)), esc, sizeof(esc)));
	c->broken = true;
	conn_close(c, "error");
}

/*
 * Give SSL_write what the output holds.  Closes a closing connection
 * once everything is out; resumes a paused one once half is out.
 * Returns -1 if the connection was closed.
 */
static int
conn_send(struct conn *c)
{
	const struct cfg	*cfg = worker_snap(c->w)->cfg;
	unsigned char		*p;
	size_t			 len, n;

	tls_clear_errors();
	c->write_wants_read = false;
	while ((len = evbuffer_get_length(c->out)) > 0) {
		if (len > CONN_WRITE_CHUNK)
			len = CONN_WRITE_CHUNK;
		if ((p = evbuffer_pullup(c->out, (ev_ssize_t)len)) == NULL) {
			conn_close(c, "nomem");
			return -1;
		}
		switch (tls_write(c->ssl, p, len, &n)) {
		case TLS_IO_OK:
			evbuffer_drain(c->out, n);
			c->write_ms = conn_now_ms();
			continue;
		case TLS_IO_WANT_WRITE:
			conn_want_write(c, true);
			return 0;
		case TLS_IO_WANT_READ:
			/* Not in TLS 1.3 without renegotiation; be safe. */
			c->write_wants_read = true;
			conn_want_write(c, false);
			return 0;
		case TLS_IO_EOF:
			c->broken = true;
			conn_close(c, "eof");
			return -1;
		case TLS_IO_ERROR:
			conn_tls_failed(c, "write");
			return -1;
		}
	}
	if (!c->read_wants_write)
		conn_want_write(c, false);
	if (c->closing) {
		conn_close(c, c->eof ? "eof" : "flushed");
		return -1;
	}
	if (c->paused && evbuffer_get_length(c->out) <=
	    (size_t)cfg->output_high_watermark / 2) {
		c->paused = false;
		c->read_ms = c->frame_ms = conn_now_ms();
		conn_want_read(c, true);
	}
	return 0;
}

/*
 * Move the answers of this pass from the worker's staging buffer to the
 * connection's output (without copying) and write them.
 */
static int
conn_flush(struct conn *c)
{
	struct evbuffer	*st = c->w->stage;

	if (evbuffer_get_length(st) > 0) {
		if (evbuffer_get_length(c->out) == 0)
			c->write_ms = conn_now_ms();
		if (evbuffer_add_buffer(c->out, st) != 0) {
			evbuffer_drain(st, evbuffer_get_length(st));
			conn_close(c, "nomem");
			return -1;
		}
	}
	return conn_send(c);
}

/* Stop reading and close once what is queued has been written. */
static int
conn_close_after_flush(struct conn *c, const char *reason)
{
	log_debug("closing", "conn=%llu reason=%s", (unsigned long long)c->id,
	    reason);
	c->closing = true;
	conn_want_read(c, false);
	return conn_flush(c);
}

/*
 * Read what the socket and OpenSSL hold, up to one frame plus the slack.
 * Sets eof when the peer has closed.  Returns 1 if bytes came, 0 if
 * none, -1 if the connection was closed.
 */
static int
conn_fill(struct conn *c, size_t limit)
{
	struct evbuffer_iovec	 v;
	size_t			 n;
	int			 got = 0;
	bool			 first = true;

	if (c->eof || c->read_wants_write || c->write_wants_read)
		return 0;
	tls_clear_errors();
	/*
	 * The first call may read the socket; later ones only what OpenSSL
	 * already holds, so no read(2) is spent learning that the socket is
	 * empty.  Anything left in the socket makes it readable again.
	 */
	while (evbuffer_get_length(c->in) < limit &&
	    (first || tls_pending(c->ssl))) {
		first = false;
		if (evbuffer_reserve_space(c->in, CONN_READ_CHUNK, &v, 1) < 1) {
			conn_close(c, "nomem");
			return -1;
		}
		switch (tls_read(c->ssl, v.iov_base, v.iov_len, &n)) {
		case TLS_IO_OK:
			v.iov_len = n;
			evbuffer_commit_space(c->in, &v, 1);
			got = 1;
			continue;
		case TLS_IO_WANT_READ:
			return got;
		case TLS_IO_WANT_WRITE:
			/* A key update to send first; read again after. */
			c->read_wants_write = true;
			conn_want_read(c, false);
			conn_want_write(c, true);
			return got;
		case TLS_IO_EOF:
			/* Answer what came, then close (a level-triggered EOF
			 * would wake this side on every pass). */
			c->eof = true;
			conn_want_read(c, false);
			return got;
		case TLS_IO_ERROR:
			conn_tls_failed(c, "read");
			return -1;
		}
	}
	return got;
}

/*
 * Answer the complete frames buffered, at most budget of them; the
 * answers gather in the worker's staging buffer.  Returns how many, or
 * -1 if the connection was closed or is closing.
 */
static int64_t
conn_frames(struct conn *c, int64_t budget)
{
	struct snap		*s = worker_snap(c->w);
	const struct cfg	*cfg = s->cfg;
	struct evbuffer		*out = c->w->stage;
	struct conn_info	 ci;
	unsigned char		*body;
	size_t			 len;
	int64_t			 n;
	int			 r;

	conn_map(c, s);
	ci.id = c->id;
	ci.w = c->w;
	ci.snap = s;
	ci.principal = c->principal;
	for (n = 0; n < budget; n++) {
		if ((r = frame_peek(c->in, (size_t)cfg->max_frame_bytes,
		    &len)) == 0)
			break;
		if (r < 0) {
			atomic_fetch_add_explicit(&c->w->ctr.protocol_errors,
			    1, memory_order_relaxed);
			handler_frame_error(out, len == 0 ?
			    HANDLER_BAD_REQUEST : HANDLER_FRAME_TOO_LARGE,
			    len == 0 ? "frame of length 0" :
			    "frame larger than max_frame_bytes");
			conn_close_after_flush(c, "bad_frame_length");
			return -1;
		}
		if ((body = evbuffer_pullup(c->in, (ev_ssize_t)(FRAME_HDR +
		    len))) == NULL) {
			evbuffer_drain(out, evbuffer_get_length(out));
			conn_close(c, "nomem");
			return -1;
		}
		r = handler_frame(&ci, body + FRAME_HDR, len, out);
		evbuffer_drain(c->in, FRAME_HDR + len);
		if (r != 0) {
			conn_close_after_flush(c, "bad_request");
			return -1;
		}
	}
	if (n > 0)
		c->frame_ms = conn_now_ms();
	return n;
}

/*
 * Read, answer, write: everything the connection has for this pass, up
 * to requests_per_read answers; then other connections get their turn
 * and this one comes back through its read event.  Returns -1 if the
 * connection was closed.
 */
static int
conn_service(struct conn *c)
{
	const struct cfg	*cfg = worker_snap(c->w)->cfg;
	size_t			 limit = (size_t)cfg->max_frame_bytes +
	    FRAME_HDR + CONN_READ_SLACK;
	int64_t			 budget = cfg->requests_per_read, n;
	size_t			 len;
	int			 got;

	while (!c->closing && !c->paused && budget > 0) {
		if ((got = conn_fill(c, limit)) < 0)
			return -1;
		if (got)
			c->read_ms = conn_now_ms();
		if ((n = conn_frames(c, budget)) < 0)
			return -1;
		budget -= n;
		/*
		 * Round again only for what OpenSSL holds beyond the input
		 * limit; what is still in the socket wakes this side again.
		 */
		if (!got || c->eof || !tls_pending(c->ssl))
			break;
	}
	if (conn_flush(c) == -1)
		return -1;
	if (c->closing || c->paused)
		return 0;
	if (budget == 0 && (frame_peek(c->in, SIZE_MAX, &len) != 0 ||
	    (!c->eof && tls_pending(c->ssl))))
		/* More to answer: come back after the others' turn. */
		event_active(c->rev, EV_READ, 0);
	else if (c->eof)
		return conn_close_after_flush(c, "eof");
	if (evbuffer_get_length(c->out) > (size_t)cfg->output_high_watermark) {
		/* Not reading: the write deadline judges the client now. */
		c->paused = true;
		conn_want_read(c, false);
	}
	conn_arm(c, false);
	return 0;
}

static void
conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	if (!c->handshaken) {
		conn_handshake(c);
		return;
	}
	if (what & EV_WRITE) {
		if (c->read_wants_write) {
			c->read_wants_write = false;
			if (!c->closing && !c->paused && !c->eof)
				conn_want_read(c, true);
		}
		if (conn_send(c) == -1)
			return;
	}
	if ((what & EV_READ) && c->write_wants_read &&
	    conn_send(c) == -1)
		return;
	if (!c->closing && !c->paused && !c->read_wants_write)
		conn_service(c);
	else
		conn_arm(c, false);
}

void
conn_accept(struct worker *w, int fd)
{
	struct server	*srv = w->srv;
	struct snap	*s = worker_snap(w);
	struct conn	*c = NULL;

	if (w->draining || atomic_fetch_add(&srv->conns_open, 1) >=
	    srv->max_connections) {
		if (!w->draining)
			atomic_fetch_sub(&srv->conns_open, 1);
		atomic_fetch_add_explicit(&w->ctr.conns_refused, 1,
		    memory_order_relaxed);
		log_debug("refused", "reason=%s", w->draining ? "draining" :
		    "max_connections");
		close(fd);
		return;
	}
	/* Answers are written when ready; Nagle would hold them back. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
	    sizeof(int));
	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->fd = fd;
	if ((c->ssl = tls_ssl_accept(s->ssl_ctx, fd)) == NULL ||
	    (c->in = evbuffer_new()) == NULL ||
	    (c->out = evbuffer_new()) == NULL ||
	    (c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, conn_io_cb,
	    c)) == NULL ||
	    (c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST,
	    conn_io_cb, c)) == NULL ||
	    (c->timer = evtimer_new(w->base, conn_timer_cb, c)) == NULL)
		goto fail;
	c->w = w;
	c->id = ++w->next_conn_id * EIDD_WORKERS_MAX + (uint64_t)w->id;
	c->accepted_ms = conn_now_ms();
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	atomic_fetch_add_explicit(&w->ctr.conns_total, 1,
	    memory_order_relaxed);
	/* The handshake has a deadline; inactivity timeouts come after. */
	conn_arm(c, true);
	conn_want_read(c, true);
	return;
fail:
	log_warnx("accept_failed", "reason=nomem");
	if (c != NULL) {
		if (c->rev != NULL)
			event_free(c->rev);
		if (c->wev != NULL)
			event_free(c->wev);
		if (c->timer != NULL)
			event_free(c->timer);
		if (c->in != NULL)
			evbuffer_free(c->in);
		if (c->out != NULL)
			evbuffer_free(c->out);
		tls_ssl_free(c->ssl);
		free(c);
	}
	close(fd);
	atomic_fetch_sub(&srv->conns_open, 1);
}

void
conn_drain(struct conn *c)
{
	c->draining = true;
	/*
	 * A client may have sent requests right behind its half of a TLS 1.3
	 * handshake that this side has not processed yet: let it finish (its
	 * deadline still holds), then answer what arrives and close once
	 * the client has been quiet for CONN_DRAIN_QUIET_MS.
	 */
	if (c->handshaken) {
		c->read_ms = conn_now_ms();
		conn_arm(c, true);
	}
}

void
conn_drain_all(struct worker *w)
{
	struct conn	*c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		conn_drain(c);
	}
}

void
conn_close_all(struct worker *w)
{
	while (w->conns != NULL)
		conn_close(w->conns, "shutdown");
}
