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
 *   - source_connections_per_s and _burst: new connections from one
 *     address, refused at accept past its bucket (conn_source_get);
 *   - max_connections: refused at accept, unless a handshake of this
 *     worker that is going nowhere (below) makes room;
 *   - max_handshakes: connections still in the TLS handshake, the
 *     workers' share each, a hard limit: at it, a new connection pushes
 *     out the oldest handshake that is going nowhere, or is refused if
 *     none is.  Going nowhere: the peer has had the turn too long --
 *     CONN_HS_HELLO_MS from accept without a ClientHello this side
 *     answered, or CONN_HS_ANSWER_MS from the first answer -- with
 *     nothing unread in its socket while this side reads (bytes there
 *     mean this worker is behind, not the peer).  A real client sends
 *     its ClientHello right after connecting and its own flight within
 *     a round trip, a certificate check and a signature; bare TCP
 *     connections, and ClientHellos never followed up, do neither.  So
 *     a flood holds at most max_handshakes slots, each for about the
 *     two graces (while new connections come to push it out; unread
 *     bytes shield one CONN_HS_BEHIND_MS longer at most; the deadline
 *     ends it in any case), and pushes out no client that keeps within
 *     them; a burst of real clients below the limit is never cut down,
 *     and beyond it is refused at accept (clients retry);
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
 * One deadline applies at a time (conn_due): the handshake's; while
 * answers are going out, the client's reading them; while a frame is
 * incomplete, finishing it; otherwise quiet.  Timeouts are lazy: activity
 * only stamps a time, and the one timer checks the stamps when it fires
 * and re-arms itself.  Every deadline is a stamp plus idle_timeout_ms
 * (quiet while draining: CONN_DRAIN_QUIET_MS) and stamps only move
 * forward, so a timer armed for the deadline in force is never late for a
 * later one; only a shorter period (draining, the end of the handshake)
 * re-arms it at once.
 *
 * Which events a connection listens to follows from its state alone
 * (conn_interest), so that no state can leave a readable socket it will
 * not read (level-triggered epoll would spin) or bytes inside OpenSSL
 * that nothing will come back for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "eidd.h"

/* How long a draining connection may stay quiet before it is closed. */
#define CONN_DRAIN_QUIET_MS	300
/* Input buffered beyond one frame: enough to keep a pipeline busy. */
#define CONN_READ_SLACK		(64 * 1024)
/* Bytes asked of OpenSSL per read call. */
#define CONN_READ_CHUNK		(16 * 1024)
/* Bytes handed to SSL_write per call (it cuts 16 KiB records)... */
#define CONN_WRITE_CHUNK	(64 * 1024)
/* ...unless the output's first piece holds at least a record as it is. */
#define CONN_WRITE_PIECE	(16 * 1024)

struct conn {
	struct conn		*next;
	struct conn		*prev;
	struct conn		*hs_next;	/* w->hs_head[hs_q] ... */
	struct conn		*hs_prev;
	int			 hs_q;		/* 0: not answered; 1: answered */
	struct worker		*w;
	uint64_t		 id;
	int			 fd;
	struct ssl_st		*ssl;
	struct event		*rev;		/* socket readable */
	struct event		*wev;		/* socket writable */
	struct event		*timer;		/* the earliest deadline */
	struct event		*again;		/* more to answer, next pass */
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
	bool			 read_wants_write;	/* SSL_read: WANT_WRITE */
	bool			 write_wants_read;	/* SSL_write: WANT_READ */
	bool			 write_blocked;		/* SSL_write: WANT_WRITE */
	bool			 partial;	/* a frame begun, frame_ms set */
	bool			 timer_armed;
	int64_t			 timer_at;	/* ms, when timer_armed */
	/* CLOCK_MONOTONIC ms stamps the timer judges */
	int64_t			 accepted_ms;
	int64_t			 hs_turn_ms;	/* the peer's turn since */
	int64_t			 established_ms;
	int64_t			 read_ms;	/* bytes last read */
	int64_t			 frame_ms;	/* the incomplete frame began */
	int64_t			 write_ms;	/* output last moved */
};

static int	conn_service(struct conn *);

/*
 * Into the worker's queue q of handshakes, as the newest: the peer has
 * the turn from now.  Each queue stays in the order of hs_turn_ms.
 */
static void
conn_hs_add(struct conn *c, int q, int64_t now)
{
	struct worker	*w = c->w;

	c->hs_q = q;
	c->hs_turn_ms = now;
	c->hs_prev = w->hs_tail[q];
	c->hs_next = NULL;
	if (w->hs_tail[q] != NULL)
		w->hs_tail[q]->hs_next = c;
	else
		w->hs_head[q] = c;
	w->hs_tail[q] = c;
	w->nhandshakes++;
}

/* Out of the queue: its handshake ended, or the connection did. */
static void
conn_hs_remove(struct conn *c)
{
	struct worker	*w = c->w;

	if (c->hs_prev != NULL)
		c->hs_prev->hs_next = c->hs_next;
	else
		w->hs_head[c->hs_q] = c->hs_next;
	if (c->hs_next != NULL)
		c->hs_next->hs_prev = c->hs_prev;
	else
		w->hs_tail[c->hs_q] = c->hs_prev;
	c->hs_next = c->hs_prev = NULL;
	w->nhandshakes--;
}

/*
 * The peer's turn in a handshake, before it may be pushed out: from
 * accept to a whole ClientHello (a real client sends it right after
 * connecting, however busy it is with others: a key share each), and
 * from this side's first answer to the end (a round trip, the client's
 * check of the server's chain and its signature, which an HSM or a
 * loaded client may take long over).  A flood holds a slot for at most
 * the two together; only the first answer restarts the turn, so a
 * ClientHello that draws a HelloRetryRequest buys no more.
 */
#define CONN_HS_HELLO_MS	1000
#define CONN_HS_ANSWER_MS	3000
/*
 * Unread bytes shield a handshake past its grace for no longer than
 * this: a worker so far behind has no better use for the slot, and a
 * peer that trickles bytes to keep a shield up gets only this much.
 */
#define CONN_HS_BEHIND_MS	2000
/* Handshakes looked at in each queue, oldest first, for one to push out. */
#define CONN_HS_SCAN		8

/* A zero timeout: run in the next event-loop pass. */
static const struct timeval conn_next_pass = { 0, 0 };

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
	if (!c->handshaken)
		conn_hs_remove(c);
	/* Answers of this pass that were never moved to the output. */
	evbuffer_drain(w->stage, evbuffer_get_length(w->stage));
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->timer);
	event_free(c->again);
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

/* A frame has begun but is not complete. */
static bool
conn_partial_frame(struct conn *c)
{
	size_t	 len;

	return evbuffer_get_length(c->in) > 0 &&
	    frame_peek(c->in, SIZE_MAX, &len) == 0;
}

enum conn_due {
	CONN_DUE_NONE,
	CONN_DUE_HANDSHAKE,
	CONN_DUE_WRITE,		/* answers not taken by the client */
	CONN_DUE_FRAME,		/* a frame begun and not finished */
	CONN_DUE_QUIET		/* nothing buffered either way */
};

/* The deadline in force, in *at (CLOCK_MONOTONIC ms). */
static enum conn_due
conn_due(struct conn *c, int64_t *at)
{
	const struct cfg	*cfg = worker_snap(c->w)->cfg;

	*at = INT64_MAX;
	if (!c->handshaken) {
		*at = c->accepted_ms + cfg->handshake_timeout_ms;
		return CONN_DUE_HANDSHAKE;
	}
	/* Answers going out: the client is judged by how it takes them. */
	if (evbuffer_get_length(c->out) > 0 || c->read_wants_write) {
		*at = c->write_ms + cfg->idle_timeout_ms;
		return CONN_DUE_WRITE;
	}
	if (c->closing || c->paused)
		return CONN_DUE_NONE;
	if (c->partial) {
		*at = c->frame_ms + cfg->idle_timeout_ms;
		return CONN_DUE_FRAME;
	}
	*at = c->read_ms + (c->draining ? CONN_DRAIN_QUIET_MS :
	    cfg->idle_timeout_ms);
	return CONN_DUE_QUIET;
}

/* Arm the timer for the deadline in force unless it fires before it. */
static void
conn_arm(struct conn *c, bool force)
{
	struct timeval	 tv;
	int64_t		 d;

	if (conn_due(c, &d) == CONN_DUE_NONE ||
	    (!force && c->timer_armed && c->timer_at <= d))
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
	int64_t		 now = conn_now_ms(), at;
	enum conn_due	 due;

	(void)fd;
	(void)what;
	c->timer_armed = false;
	if ((due = conn_due(c, &at)) == CONN_DUE_NONE)
		return;
	if (now < at) {
		conn_arm(c, true);
		return;
	}
	switch (due) {
	case CONN_DUE_HANDSHAKE:
		atomic_fetch_add_explicit(&c->w->ctr.handshake_failures, 1,
		    memory_order_relaxed);
		conn_close(c, "handshake_timeout");
		return;
	case CONN_DUE_WRITE:
		conn_close(c, "write_timeout");
		return;
	case CONN_DUE_FRAME:
		conn_close(c, "frame_timeout");
		return;
	case CONN_DUE_QUIET:
		if (!c->draining) {
			conn_close(c, "idle_timeout");
			return;
		}
		/*
		 * A draining connection that went quiet has been answered
		 * (nothing is buffered either way) -- unless it has just been
		 * established (a slow handshake, requests right behind it):
		 * then it gets another quiet period, within drain_timeout_ms.
		 */
		if (now - c->established_ms < 2 * CONN_DRAIN_QUIET_MS) {
			c->read_ms = now;
			conn_arm(c, true);
			return;
		}
		conn_close(c, "drained");
		return;
	case CONN_DUE_NONE:
		break;
	}
}

/* Listen for what the connection's state needs, and for nothing else. */
static void
conn_interest(struct conn *c)
{
	conn_want_read(c, c->write_wants_read || (!c->paused && !c->closing &&
	    !c->eof && !c->read_wants_write));
	conn_want_write(c, c->read_wants_write || c->write_blocked);
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
	conn_hs_remove(c);
	c->handshaken = true;
	c->established_ms = c->read_ms = c->frame_ms = c->write_ms = now;
	conn_map(c, s);
	log_debug("established", "conn=%llu principal=%s",
	    (unsigned long long)c->id, c->principal != NULL ?
	    c->principal->cp->name : "-");
	conn_interest(c);
	conn_arm(c, true);
	/* Requests may have come right behind the client's Finished. */
	return conn_service(c);
}

/*
 * The handshake waits for the peer.  Once this side has answered its
 * ClientHello, the peer's second turn starts: into the answered queue.
 */
static void
conn_hs_turn(struct conn *c)
{
	if (c->hs_q == 1 || tls_written(c->ssl) == 0)
		return;
	conn_hs_remove(c);
	conn_hs_add(c, 1, conn_now_ms());
}

static int
conn_handshake(struct conn *c)
{
	switch (tls_handshake(c->ssl)) {
	case TLS_IO_OK:
		return conn_established(c);
	case TLS_IO_WANT_READ:
		conn_hs_turn(c);
		conn_want_read(c, true);
		conn_want_write(c, false);
		return 0;
	case TLS_IO_WANT_WRITE:
		/* The peer does not take what is sent: its turn too. */
		conn_hs_turn(c);
		/* Not reading meanwhile: a readable socket would spin. */
		conn_want_read(c, false);
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
	struct evbuffer_iovec	 v;
	unsigned char		*p;
	size_t			 len, n;

	c->write_wants_read = c->write_blocked = false;
	while ((len = evbuffer_get_length(c->out)) > 0) {
		/*
		 * The first piece of the output as it lies when it holds a
		 * record's worth, else up to CONN_WRITE_CHUNK made contiguous.
		 * Either starts with the bytes a blocked SSL_write took
		 * before, and is at least as long, as a retry must be.
		 */
		if (evbuffer_peek(c->out, -1, NULL, &v, 1) >= 1 &&
		    (v.iov_len >= CONN_WRITE_PIECE || v.iov_len == len)) {
			p = v.iov_base;
			len = v.iov_len;
		} else {
			if (len > CONN_WRITE_CHUNK)
				len = CONN_WRITE_CHUNK;
			if ((p = evbuffer_pullup(c->out, (ev_ssize_t)len)) ==
			    NULL) {
				conn_close(c, "nomem");
				return -1;
			}
		}
		switch (tls_write(c->ssl, p, len, &n)) {
		case TLS_IO_OK:
			evbuffer_drain(c->out, n);
			c->write_ms = conn_now_ms();
			continue;
		case TLS_IO_WANT_WRITE:
			c->write_blocked = true;
			conn_interest(c);
			return 0;
		case TLS_IO_WANT_READ:
			/* Not in TLS 1.3 without renegotiation; be safe. */
			c->write_wants_read = true;
			conn_interest(c);
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
	if (c->closing) {
		conn_close(c, c->eof ? "eof" : "flushed");
		return -1;
	}
	if (c->paused && evbuffer_get_length(c->out) <=
	    (size_t)cfg->output_high_watermark / 2) {
		c->paused = false;
		c->read_ms = conn_now_ms();
	}
	conn_interest(c);
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
			return got;
		case TLS_IO_EOF:
			/* Answer what came, then close (conn_interest stops
			 * reading: a level-triggered EOF would spin). */
			c->eof = true;
			return got;
		case TLS_IO_ERROR:
			conn_tls_failed(c, "read");
			return -1;
		}
	}
	return got;
}

/*
 * Answer the complete frames buffered while their cost (a batch's items,
 * else 1: handler_frame) stays under budget; the answers gather in the
 * worker's staging buffer.  Returns the cost spent, which may pass the
 * budget by the last frame's, or -1 if the connection was closed or is
 * closing.
 */
static int64_t
conn_frames(struct conn *c, int64_t budget)
{
	struct snap		*s = worker_snap(c->w);
	const struct cfg	*cfg = s->cfg;
	struct evbuffer		*out = c->w->stage;
	struct conn_info	 ci;
	unsigned char		*body;
	size_t			 len, cost;
	int64_t			 n;
	int			 r;

	conn_map(c, s);
	ci.id = c->id;
	ci.w = c->w;
	ci.snap = s;
	ci.principal = c->principal;
	for (n = 0; n < budget; n += (int64_t)cost) {
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
		r = handler_frame(&ci, body + FRAME_HDR, len, out, &cost);
		evbuffer_drain(c->in, FRAME_HDR + len);
		if (r != 0) {
			conn_close_after_flush(c, "bad_request");
			return -1;
		}
	}
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
	bool			 partial;
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
		 * Round again for what OpenSSL still holds (the input limit
		 * stopped the fill, or answered frames made room); what is
		 * still in the socket makes it readable again.
		 */
		if (c->eof || (!got && n == 0) || !tls_pending(c->ssl))
			break;
	}
	if (conn_flush(c) == -1)
		return -1;
	if (c->closing)
		return 0;
	/*
	 * An incomplete frame must be finished within idle_timeout_ms of
	 * when it was first seen, or of the last frame answered before it: a
	 * busy pipeline always ends a read mid-frame and must not be taken
	 * for a slow one, and a trickled frame cannot move its own deadline.
	 */
	partial = conn_partial_frame(c);
	if (partial && (!c->partial || budget < cfg->requests_per_read))
		c->frame_ms = conn_now_ms();
	c->partial = partial;
	if (!c->paused) {
		if (budget <= 0 && (frame_peek(c->in, SIZE_MAX, &len) != 0 ||
		    (!c->eof && tls_pending(c->ssl))))
			/*
			 * More to answer: come back in the next loop pass,
			 * after the others' turn.  Not event_active(), which
			 * libevent runs again within this pass: a client that
			 * keeps its pipeline full would hold the worker there,
			 * and its timers, other connections and store snapshot
			 * (revocations) with it.
			 */
			evtimer_add(c->again, &conn_next_pass);
		else if (c->eof)
			return conn_close_after_flush(c, "eof");
		/* Not reading: the write deadline judges the client now. */
		if (evbuffer_get_length(c->out) >
		    (size_t)cfg->output_high_watermark)
			c->paused = true;
	}
	conn_interest(c);
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
	/* SSL_read may go on: the socket took what it had to write. */
	if ((what & EV_WRITE) && c->read_wants_write)
		c->read_wants_write = false;
	if ((((what & EV_WRITE) && c->write_blocked) ||
	    ((what & EV_READ) && c->write_wants_read)) && conn_send(c) == -1)
		return;
	if (!c->closing && !c->paused && !c->read_wants_write &&
	    !c->write_wants_read)
		conn_service(c);
	else {
		conn_interest(c);
		conn_arm(c, false);
	}
}

/* The next pass of a connection that had more to answer. */
static void
conn_again_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	conn_io_cb(fd, EV_READ, arg);
}

/* One of max_connections for a new connection, if one is free. */
static bool
conn_take_slot(struct server *srv)
{
	if (atomic_fetch_add(&srv->conns_open, 1) < srv->max_connections)
		return true;
	atomic_fetch_sub(&srv->conns_open, 1);
	return false;
}

/*
 * Close the oldest of the worker's handshakes that is going nowhere, if
 * one is: the peer has had the turn for longer than its grace, and
 * nothing is unread in its socket while this side reads it.  Bytes
 * waiting there mean this worker is behind (a burst of clients), not
 * that the peer stalls; a peer could keep a few at a head that way, so
 * the search looks at no more than CONN_HS_SCAN in each queue, and the
 * worst it gets is a refusal at the limit.  Each queue is in the order
 * of the turns, so the first handshake inside its grace ends the search
 * of that queue.  Unanswered handshakes go first: they cost a peer
 * nothing.
 */
static bool
conn_hs_push_out(struct worker *w, int64_t now)
{
	static const int64_t	 grace[2] = { CONN_HS_HELLO_MS,
				    CONN_HS_ANSWER_MS };
	struct conn		*c;
	int			 n, q, unread;

	for (q = 0; q < 2; q++)
		for (c = w->hs_head[q], n = 0; c != NULL &&
		    n < CONN_HS_SCAN; c = c->hs_next, n++) {
			if (now - c->hs_turn_ms < grace[q])
				break;
			if (c->reading && now - c->hs_turn_ms < grace[q] +
			    CONN_HS_BEHIND_MS && ioctl(c->fd, FIONREAD,
			    &unread) == 0 && unread > 0)
				continue;
			atomic_fetch_add_explicit(
			    &w->ctr.handshake_failures, 1,
			    memory_order_relaxed);
			conn_close(c, "handshake_pushed_out");
			return true;
		}
	return false;
}

/*
 * New connections per source address (limits.source_connections_per_s
 * and _burst): a token bucket per address, an IPv6 one by its /64, in a
 * table of each worker, which holds the workers' share of the rate and
 * of the burst (the kernel spreads one source's connections over the
 * workers' sockets).  Every connection costs a full handshake (ADR
 * 0006), some 0.8 ms of a core, so one source connecting per request or
 * in a loop would take CPU from every other; refused here, it costs an
 * accept and a close.
 *
 * The table is bounded: CONN_SOURCE_WAYS places for each of its sets,
 * chosen by a keyed hash of the address (the salt keeps sources from
 * choosing their set).  A newcomer takes the place whose bucket is
 * fullest -- an empty place, or a source that has not connected for
 * long enough to have refilled, which loses nothing by being forgotten
 * -- so a source that keeps connecting, its bucket low, keeps its place
 * unless every place of its set is as busy.  The limit is for one
 * source connecting too often, not for a flood from many addresses,
 * which is a firewall's to stop.
 */
#define CONN_SOURCES		4096
#define CONN_SOURCE_WAYS	4
#define CONN_SOURCE_WARN_MS	60000

struct conn_source {
	unsigned char	 addr[16];
	bool		 used;
	int64_t		 ms;		/* tokens as of then */
	double		 tokens;
};

struct conn_source *
conn_sources_new(uint64_t salt[2])
{
	if (RAND_bytes((unsigned char *)salt, 2 * sizeof(salt[0])) != 1)
		return NULL;
	return calloc(CONN_SOURCES, sizeof(struct conn_source));
}

/* sa's address as the table's key: IPv4 as IPv4-mapped IPv6. */
static bool
conn_source_key(const struct sockaddr *sa, int salen, unsigned char *key)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(key, 0, 16);
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET && salen >= (int)sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &sin->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6 && salen >= (int)sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		/* IPv4 on a dual-stack socket is one address; IPv6 a /64. */
		memcpy(key, &sin6->sin6_addr,
		    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) ? 16 : 8);
		return true;
	}
	return false;
}

/* MurmurHash3's 64-bit finaliser: every input bit moves every output bit. */
static uint64_t
conn_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* A key's set, by its two halves keyed with the worker's salt. */
static struct conn_source *
conn_source_set(const struct worker *w, const unsigned char *key)
{
	uint64_t	 a, b;

	memcpy(&a, key, sizeof(a));
	memcpy(&b, key + 8, sizeof(b));
	a = conn_mix64(a ^ w->source_salt[0]);
	b = conn_mix64(b ^ w->source_salt[1] ^ a);
	return &w->sources[(b & (CONN_SOURCES / CONN_SOURCE_WAYS - 1)) *
	    CONN_SOURCE_WAYS];
}

/*
 * The bucket of sa's address, refilled to now; NULL when there is no
 * limit (or no address to key).  The caller takes a token once the
 * connection is accepted, so one refused for another reason costs none.
 */
static struct conn_source *
conn_source_get(struct worker *w, const struct cfg *cfg,
    const struct sockaddr *sa, int salen, int64_t now)
{
	struct conn_source	*set, *e = NULL, *x;
	unsigned char		 key[16];
	double			 rate, burst, fill, most = -1.0;
	size_t			 i;

	if (cfg->source_conn_rate == 0 || w->sources == NULL ||
	    !conn_source_key(sa, salen, key))
		return NULL;
	rate = (double)cfg->source_conn_rate / w->srv->nworkers;
	burst = (double)((cfg->source_conn_burst + w->srv->nworkers - 1) /
	    w->srv->nworkers);
	set = conn_source_set(w, key);
	for (i = 0; i < CONN_SOURCE_WAYS; i++) {
		x = &set[i];
		if (x->used && now > x->ms) {
			x->tokens += (double)(now - x->ms) * rate / 1000.0;
			x->ms = now;
		}
		if (x->used && x->tokens > burst)
			x->tokens = burst;
		if (x->used && memcmp(x->addr, key, sizeof(key)) == 0)
			return x;
		fill = x->used ? x->tokens : burst + 1.0;
		if (fill > most) {
			most = fill;
			e = x;
		}
	}
	memcpy(e->addr, key, sizeof(key));
	e->used = true;
	e->ms = now;
	e->tokens = burst;
	return e;
}

/* An operator learns which source, at most once a minute a worker. */
static void
conn_source_refused(struct worker *w, const struct sockaddr *sa, int64_t now)
{
	char	 addr[INET6_ADDRSTRLEN] = "?";

	w->source_refused++;
	if (w->source_warn_ms != 0 && now - w->source_warn_ms <
	    CONN_SOURCE_WARN_MS)
		return;
	if (sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, addr, sizeof(addr));
	else if (sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, addr, sizeof(addr));
	log_warnx("source_limited", "addr=%s refused=%llu "
	    "note=\"new connections past limits.source_connections_per_s\"",
	    addr, (unsigned long long)w->source_refused);
	w->source_warn_ms = now;
	w->source_refused = 0;
}

void
conn_accept(struct worker *w, int fd, const struct sockaddr *sa, int salen)
{
	struct server	*srv = w->srv;
	struct snap	*s = worker_snap(w);
	struct conn	*c = NULL;
	struct conn_source *src;
	const char	*why;
	int64_t		 now = conn_now_ms();

	/*
	 * A handshake going nowhere makes room when this worker holds its
	 * share of max_handshakes, or all max_connections are taken;
	 * without one, the new connection is refused.  Accepting runs
	 * outside any connection's pass, so no pass is cut short.  (Another
	 * worker may take the slot a push-out freed: then this one pushes
	 * out a second or is refused.  Rare, and it costs only handshakes
	 * already going nowhere.)
	 */
	why = "draining";
	if (w->draining)
		goto refuse;
	/* Before anything that could push out another's handshake. */
	why = "source_rate";
	if ((src = conn_source_get(w, s->cfg, sa, salen, now)) != NULL &&
	    src->tokens < 1.0) {
		conn_source_refused(w, sa, now);
		goto refuse;
	}
	why = "max_handshakes";
	if (w->nhandshakes >= (size_t)((s->cfg->max_handshakes +
	    srv->nworkers - 1) / srv->nworkers) &&
	    !conn_hs_push_out(w, now))
		goto refuse;
	why = "max_connections";
	if (!conn_take_slot(srv) && (!conn_hs_push_out(w, now) ||
	    !conn_take_slot(srv)))
		goto refuse;
	/* Accepted: its token is spent. */
	if (src != NULL)
		src->tokens -= 1.0;
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
	    (c->timer = evtimer_new(w->base, conn_timer_cb, c)) == NULL ||
	    (c->again = evtimer_new(w->base, conn_again_cb, c)) == NULL)
		goto fail;
	c->w = w;
	c->id = ++w->next_conn_id * EIDD_WORKERS_MAX + (uint64_t)w->id;
	c->accepted_ms = now;
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	conn_hs_add(c, 0, now);
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
		if (c->again != NULL)
			event_free(c->again);
		if (c->in != NULL)
			evbuffer_free(c->in);
		if (c->out != NULL)
			evbuffer_free(c->out);
		tls_ssl_free(c->ssl);
		free(c);
	}
	close(fd);
	atomic_fetch_sub(&srv->conns_open, 1);
	return;
refuse:
	atomic_fetch_add_explicit(&w->ctr.conns_refused, 1,
	    memory_order_relaxed);
	log_debug("refused", "reason=%s", why);
	close(fd);
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
