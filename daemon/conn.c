/*
 * daemon/conn.c -- one client connection, from accept to close, on the
 * worker that accepted it.
 *
 * A connection owns its bufferevent (which owns the SSL object and the
 * socket), its timer and its peer certificate; conn_close() is the one
 * place that frees them (STYLE.md rules 21 and 24).  Any function that
 * may close returns -1 and its callers return at once.
 *
 * Limits, each checked before anything is allocated for the peer:
 *   - max_connections: refused at accept;
 *   - handshake_timeout_ms: a deadline from accept, not an inactivity
 *     timer, so a ClientHello trickled a byte at a time still ends;
 *   - idle_timeout_ms: a read/write inactivity timeout, and a deadline
 *     for finishing a frame once its first byte arrived (slowloris);
 *   - max_frame_bytes: judged from the 4-byte prefix alone;
 *   - requests_per_read: then other connections get their turn;
 *   - output_high_watermark: reading stops until the output drains.
 * Responses of one read pass are written together by the bufferevent.
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
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "eidd.h"

/* How long a draining connection may stay quiet before it is closed. */
#define CONN_DRAIN_QUIET_MS	300
/* Input buffered beyond one frame: enough to keep a pipeline busy. */
#define CONN_READ_SLACK		(64 * 1024)

struct conn {
	struct conn		*next;
	struct conn		*prev;
	struct worker		*w;
	uint64_t		 id;
	struct bufferevent	*bev;
	struct event		*timer;		/* handshake or frame deadline */
	struct x509_st		*peer;
	const struct principal	*principal;
	uint64_t		 principal_gen;
	bool			 handshaken;
	bool			 timer_armed;
	bool			 paused;	/* reading stopped: backpressure */
	bool			 closing;	/* flush, then close */
	bool			 draining;
	int64_t			 established_ms;	/* CLOCK_MONOTONIC */
};

static int	conn_read(struct conn *);

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
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
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
	if (c->timer != NULL)
		event_free(c->timer);
	tls_x509_free(c->peer);
	/* Frees the SSL object and closes the socket (BEV_OPT_CLOSE_ON_FREE). */
	bufferevent_free(c->bev);
	free(c);
	atomic_fetch_sub(&w->srv->conns_open, 1);
	if (w->draining && w->nconns == 0)
		event_base_loopexit(w->base, NULL);
}

/* Stop reading and close once what is queued has been written. */
static int
conn_close_after_flush(struct conn *c, const char *reason)
{
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_close(c, reason);
		return -1;
	}
	log_debug("closing", "conn=%llu reason=%s", (unsigned long long)c->id,
	    reason);
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	/* Called back when the output is empty (write low watermark 0). */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	return -1;
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	c->timer_armed = false;
	if (!c->handshaken) {
		atomic_fetch_add_explicit(&c->w->ctr.handshake_failures, 1,
		    memory_order_relaxed);
		conn_close(c, "handshake_timeout");
	} else
		conn_close(c, "frame_timeout");
}

static void
conn_timer(struct conn *c, bool on, int64_t ms)
{
	struct timeval	 tv;

	if (on && !c->timer_armed) {
		conn_ms(&tv, ms);
		evtimer_add(c->timer, &tv);
		c->timer_armed = true;
	} else if (!on && c->timer_armed) {
		evtimer_del(c->timer);
		c->timer_armed = false;
	}
}

/* Timeouts and watermarks of an established connection. */
static void
conn_set_limits(struct conn *c, const struct cfg *cfg)
{
	struct timeval	 idle;

	conn_ms(&idle, c->draining ? CONN_DRAIN_QUIET_MS :
	    cfg->idle_timeout_ms);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	    (size_t)cfg->max_frame_bytes + FRAME_HDR + CONN_READ_SLACK);
	if (!c->closing)
		bufferevent_setwatermark(c->bev, EV_WRITE,
		    (size_t)cfg->output_high_watermark / 2, 0);
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

/* The handshake finished: check ALPN and the certificate, map, serve. */
static int
conn_established(struct conn *c)
{
	struct snap	*s = worker_snap(c->w);
	char		 err[256], esc[600];

	conn_timer(c, false, 0);
	if ((c->peer = tls_peer(bufferevent_openssl_get_ssl(c->bev), err,
	    sizeof(err))) == NULL) {
		atomic_fetch_add_explicit(&c->w->ctr.handshake_failures, 1,
		    memory_order_relaxed);
		log_debug("handshake_refused", "conn=%llu reason=%s",
		    (unsigned long long)c->id, log_escape(err, esc,
		    sizeof(esc)));
		conn_close(c, "handshake_refused");
		return -1;
	}
	c->handshaken = true;
	c->established_ms = conn_now_ms();
	conn_map(c, s);
	log_debug("established", "conn=%llu principal=%s",
	    (unsigned long long)c->id, c->principal != NULL ?
	    c->principal->cp->name : "-");
	conn_set_limits(c, s->cfg);
	return conn_read(c);
}

/*
 * Move the answers of this pass to the connection's output as one
 * contiguous piece: the OpenSSL bufferevent makes one SSL_write, and so a
 * TLS record and a write(2), per piece of its output buffer, and every
 * answer used to be two pieces (its length, then its body).
 */
static void
conn_flush(struct conn *c)
{
	struct evbuffer	*st = c->w->stage;
	size_t		 n = evbuffer_get_length(st);
	unsigned char	*p;

	if (n == 0)
		return;
	if ((p = evbuffer_pullup(st, (ev_ssize_t)n)) == NULL ||
	    bufferevent_write(c->bev, p, n) != 0)
		log_warnx("flush_failed", "conn=%llu bytes=%zu",
		    (unsigned long long)c->id, n);
	evbuffer_drain(st, n);
}

/*
 * Answer every complete frame buffered, up to requests_per_read; the
 * answers gather in the worker's staging buffer and are written together.
 * Returns -1 if the connection was closed or is closing.
 */
static int
conn_read(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer		*out = c->w->stage;
	struct snap		*s = worker_snap(c->w);
	const struct cfg	*cfg = s->cfg;
	struct conn_info	 ci;
	unsigned char		*body;
	size_t			 len;
	int64_t			 n;
	int			 r;

	if (!c->handshaken || c->closing || c->paused)
		return 0;
	conn_map(c, s);
	ci.id = c->id;
	ci.w = c->w;
	ci.snap = s;
	ci.principal = c->principal;
	for (n = 0; n < cfg->requests_per_read; n++) {
		if ((r = frame_peek(in, (size_t)cfg->max_frame_bytes,
		    &len)) == 0)
			break;
		if (r < 0) {
			atomic_fetch_add_explicit(&c->w->ctr.protocol_errors,
			    1, memory_order_relaxed);
			handler_frame_error(out, len == 0 ?
			    HANDLER_BAD_REQUEST : HANDLER_FRAME_TOO_LARGE,
			    len == 0 ? "frame of length 0" :
			    "frame larger than max_frame_bytes");
			conn_flush(c);
			return conn_close_after_flush(c, "bad_frame_length");
		}
		if ((body = evbuffer_pullup(in, (ev_ssize_t)(FRAME_HDR +
		    len))) == NULL) {
			evbuffer_drain(out, evbuffer_get_length(out));
			conn_close(c, "nomem");
			return -1;
		}
		r = handler_frame(&ci, body + FRAME_HDR, len, out);
		evbuffer_drain(in, FRAME_HDR + len);
		if (r != 0) {
			conn_flush(c);
			return conn_close_after_flush(c, "bad_request");
		}
	}
	conn_flush(c);
	/* More complete frames: come back after others had their turn. */
	if (n == cfg->requests_per_read &&
	    frame_peek(in, (size_t)cfg->max_frame_bytes, &len) != 0)
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
	/*
	 * A started frame must be finished within idle_timeout_ms of the
	 * last finished one: a busy pipeline always ends a read in the middle
	 * of a frame, and must not be mistaken for a slow one.
	 */
	if (n > 0)
		conn_timer(c, false, 0);
	conn_timer(c, evbuffer_get_length(in) > 0, cfg->idle_timeout_ms);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    (size_t)cfg->output_high_watermark) {
		/* Not reading: the write timeout judges the client now. */
		c->paused = true;
		conn_timer(c, false, 0);
		bufferevent_disable(c->bev, EV_READ);
	}
	return 0;
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_read(arg);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_close(c, "flushed");
		return;
	}
	if (c->paused) {
		c->paused = false;
		bufferevent_enable(bev, EV_READ);
		conn_read(c);
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	char		 err[512], esc[1100];
	unsigned long	 e;
	size_t		 o = 0;

	if (what & BEV_EVENT_CONNECTED) {
		conn_established(c);
		return;
	}
	if (!c->handshaken) {
		err[0] = '\0';
		while ((e = bufferevent_get_openssl_error(bev)) != 0 &&
		    o + 130 < sizeof(err))
			o += (size_t)snprintf(err + o, sizeof(err) - o, "%s%s",
			    o ? "; " : "", tls_reason(e));
		atomic_fetch_add_explicit(&c->w->ctr.handshake_failures, 1,
		    memory_order_relaxed);
		log_debug("handshake_failed", "conn=%llu openssl=%s",
		    (unsigned long long)c->id, log_escape(err, esc,
		    sizeof(esc)));
		conn_close(c, "handshake_failed");
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		/*
		 * A read timeout while requests are still buffered means this
		 * side was slow (a long pass, backpressure), not the client:
		 * go on answering (libevent disabled reading; enable it).
		 */
		if ((what & BEV_EVENT_READING) && !c->closing &&
		    evbuffer_get_length(bufferevent_get_input(bev)) > 0 &&
		    frame_peek(bufferevent_get_input(bev), SIZE_MAX, &(size_t){
		    0 }) == 1) {
			bufferevent_enable(bev, EV_READ);
			conn_read(c);
			return;
		}
		/*
		 * A draining connection that went quiet has been answered --
		 * unless bytes are still buffered or it has just been
		 * established (a slow handshake, requests right behind it):
		 * then it gets another quiet period, within drain_timeout_ms.
		 */
		if (c->draining && (what & BEV_EVENT_READING)) {
			if (evbuffer_get_length(bufferevent_get_input(bev)) > 0 ||
			    conn_now_ms() - c->established_ms <
			    2 * CONN_DRAIN_QUIET_MS) {
				bufferevent_enable(bev, EV_READ);
				return;
			}
			conn_close_after_flush(c, "drained");
			return;
		}
		conn_close(c, "idle_timeout");
		return;
	}
	conn_close(c, what & BEV_EVENT_EOF ? "eof" : "error");
}

void
conn_accept(struct worker *w, int fd)
{
	struct server	*srv = w->srv;
	struct snap	*s = worker_snap(w);
	struct conn	*c = NULL;
	struct ssl_st	*ssl = NULL;
	struct timeval	 tv;

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
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (ssl = tls_ssl_new(s->ssl_ctx)) == NULL)
		goto fail;
	c->w = w;
	c->id = ++w->next_conn_id * EIDD_WORKERS_MAX + (uint64_t)w->id;
	/*
	 * On failure libevent 2.1 (since 2.1.9) has already freed ssl,
	 * because of BEV_OPT_CLOSE_ON_FREE, but not the socket (its BIO does
	 * not own the fd): fail: closes the fd only.
	 */
	if ((c->bev = bufferevent_openssl_socket_new(w->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		ssl = NULL;
		goto fail;
	}
	ssl = NULL;
	fd = -1;
	if ((c->timer = evtimer_new(w->base, conn_timer_cb, c)) == NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
		goto fail;
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	/* The handshake has a deadline; inactivity timeouts come after. */
	conn_ms(&tv, s->cfg->handshake_timeout_ms);
	evtimer_add(c->timer, &tv);
	c->timer_armed = true;
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	atomic_fetch_add_explicit(&w->ctr.conns_total, 1,
	    memory_order_relaxed);
	return;
fail:
	log_warnx("accept_failed", "reason=nomem");
	tls_ssl_free(ssl);
	if (fd != -1)
		close(fd);
	free(c);
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
	if (c->handshaken)
		conn_set_limits(c, worker_snap(c->w)->cfg);
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
