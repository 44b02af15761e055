/*
 * daemon/worker.c -- the worker threads: one event_base each, one
 * SO_REUSEPORT listening socket each, so the kernel spreads connections
 * and a connection lives on one worker for its whole life.
 *
 * Cross-thread traffic is two events per worker made active by the main
 * thread (drain at SIGTERM) and the snapshot pointer, read under
 * srv->snap_mtx only when its generation changed.  Everything else a
 * worker touches is its own.
 */
/* SO_REUSEPORT and SOCK_NONBLOCK are Linux extensions. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "eidd.h"
#include "store.h"

#define WORKER_BACKLOG		1024
#define WORKER_EMFILE_PAUSE_MS	100

/* Out of descriptors: stop accepting briefly instead of spinning. */
static void
worker_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	if (!w->draining)
		evconnlistener_enable(w->listener);
}

static void
worker_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct worker	*w = arg;

	(void)l;
	w->accept_failing = false;
	conn_accept(w, fd, sa, salen);
}

bool
worker_accept_failed(struct worker *w, void (*resume)(int, short, void *),
    void *arg)
{
	struct timeval	 tv = { 0, WORKER_EMFILE_PAUSE_MS * 1000 };
	int		 e = errno;

	/* One line per episode, not one per retry. */
	if (!w->accept_failing)
		log_warnx("accept_error", "errno=%d error=\"%s\"", e,
		    strerror(e));
	w->accept_failing = true;
	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM)
		return false;
	/*
	 * No timer to resume by (out of memory too): go on accepting, and
	 * spinning while descriptors lack, rather than stop for good.
	 */
	if (event_base_once(w->base, -1, EV_TIMEOUT, resume, arg, &tv) != 0)
		return false;
	evconnlistener_disable(w->listener);
	return true;
}

static void
worker_accept_error_cb(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)worker_accept_failed(arg, worker_resume_cb, arg);
}

/* Split "host:port" or "[v6]:port". */
static int
worker_split(const char *s, char *host, size_t hlen, char *port,
    size_t plen)
{
	const char	*colon;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':')
			return -1;
		snprintf(host, hlen, "%.*s", (int)(end - s - 1), s + 1);
		snprintf(port, plen, "%s", end + 2);
		return 0;
	}
	if ((colon = strrchr(s, ':')) == NULL)
		return -1;
	snprintf(host, hlen, "%.*s", (int)(colon - s), s);
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

/* A listening socket on addr; *port 0 is replaced by the bound port. */
int
worker_listen(const char *listen_addr, char *port, size_t plen)
{
	struct addrinfo		 hints, *ai = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 host[256], p[16];
	int			 fd = -1, on = 1, rc;

	if (worker_split(listen_addr, host, sizeof(host), p, sizeof(p)) != 0)
		fatalx("listen", "addr=%s error=\"not host:port\"", listen_addr);
	if (port[0] != '\0')
		snprintf(p, sizeof(p), "%s", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, p, &hints, &ai)) != 0)
		fatalx("listen", "addr=%s error=\"%s\"", listen_addr,
		    gai_strerror(rc));
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, WORKER_BACKLOG) != 0)
		fatalx("listen", "addr=%s error=\"%s\"", listen_addr,
		    strerror(errno));
	freeaddrinfo(ai);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		snprintf(port, plen, "%u", ss.ss_family == AF_INET6 ?
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
		    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	return fd;
}

static void
worker_drain_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	log_warnx("drain_deadline", "open=%zu", w->nconns);
	conn_close_all(w);
	event_base_loopexit(w->base, NULL);
}

static void
worker_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct timeval	 tv;
	int64_t		 ms = worker_snap(w)->cfg->drain_timeout_ms;

	(void)fd;
	(void)what;
	w->draining = true;
	evconnlistener_disable(w->listener);
	conn_drain_all(w);
	if (w->nconns == 0) {
		event_base_loopexit(w->base, NULL);
		return;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	event_base_once(w->base, -1, EV_TIMEOUT, worker_drain_deadline_cb, w,
	    &tv);
}

/*
 * An event base whose epoll changes are batched per loop pass: the
 * gateway's bufferevents turn write interest on and off around every
 * flush, and an API connection turns it on and off when its socket fills;
 * without the changelist each turn is an epoll_ctl(2).
 */
struct event_base *
worker_base_new(void)
{
	struct event_config	*ec;
	struct event_base	*b;

	if ((ec = event_config_new()) == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	b = event_base_new_with_config(ec);
	event_config_free(ec);
	return b;
}

void
worker_setup(struct server *srv, const struct cfg *cfg)
{
	struct worker	*w;
	char		 port[16] = "";
	int		 i, fd;

	if ((srv->workers = calloc((size_t)cfg->workers,
	    sizeof(*srv->workers))) == NULL)
		fatalx("nomem", "where=workers");
	srv->nworkers = cfg->workers;
	for (i = 0; i < srv->nworkers; i++) {
		w = &srv->workers[i];
		w->id = i + 1;
		w->srv = srv;
		w->snap = server_snap(srv);
		w->snap_gen = w->snap->gen;
		if ((w->rd = store_reader_new(srv->store)) == NULL)
			fatalx("store", "error=\"cannot make a reader\"");
		if ((w->hasher = eid_hasher_new()) == NULL)
			fatalx("startup", "error=\"no SHA-256\"");
		if ((w->stage = evbuffer_new()) == NULL ||
		    (w->sources = conn_sources_new(w->source_salt)) == NULL)
			fatalx("nomem", "where=workers");
		if ((w->base = worker_base_new()) == NULL)
			fatalx("event_base", "worker=%d", w->id);
		/* The first socket resolves a port 0; the others share it. */
		fd = worker_listen(cfg->listen, port, sizeof(port));
		if ((w->listener = evconnlistener_new(w->base,
		    worker_accept_cb, w, LEV_OPT_CLOSE_ON_FREE, -1, fd)) ==
		    NULL)
			fatalx("listen", "error=evconnlistener_new");
		evconnlistener_set_error_cb(w->listener,
		    worker_accept_error_cb);
		if ((w->drain_ev = event_new(w->base, -1, 0, worker_drain_cb,
		    w)) == NULL)
			fatalx("nomem", "where=workers");
	}
	worker_listen_addr(cfg->listen, port, srv->listen_addr,
	    sizeof(srv->listen_addr));
}

void
worker_listen_addr(const char *listen_addr, const char *port, char *out,
    size_t len)
{
	char	 host[256], p[16];

	if (worker_split(listen_addr, host, sizeof(host), p, sizeof(p)) != 0) {
		snprintf(out, len, "%s", listen_addr);
		return;
	}
	snprintf(out, len, "%s%s%s:%s", strchr(host, ':') ? "[" : "", host,
	    strchr(host, ':') ? "]" : "", port);
}

/*
 * One event-loop pass at a time, so that the store's read snapshot is
 * released after each: a reader never pins old pages across passes, and
 * every pass sees revocations committed before it began.
 */
static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	log_set_worker(w->id);
	while (!event_base_got_exit(w->base) &&
	    event_base_loop(w->base, EVLOOP_ONCE) == 0)
		store_reader_reset(w->rd);
	store_reader_reset(w->rd);
	conn_close_all(w);
	return NULL;
}

void
worker_start(struct server *srv)
{
	int	 i, e;

	for (i = 0; i < srv->nworkers; i++)
		if ((e = pthread_create(&srv->workers[i].thread, NULL,
		    worker_main, &srv->workers[i])) != 0)
			fatalx("thread", "error=\"%s\"", strerror(e));
}

void
worker_drain_all(struct server *srv)
{
	int	 i;

	for (i = 0; i < srv->nworkers; i++)
		event_active(srv->workers[i].drain_ev, 0, 0);
}

void
worker_wait_all(struct server *srv)
{
	struct worker	*w;
	int		 i;

	for (i = 0; i < srv->nworkers; i++) {
		w = &srv->workers[i];
		pthread_join(w->thread, NULL);
		evconnlistener_free(w->listener);
		event_free(w->drain_ev);
		event_base_free(w->base);
		free(w->sources);
		store_reader_free(w->rd);
		eid_hasher_free(w->hasher);
		evbuffer_free(w->stage);
		snap_unref(w->snap);
	}
	free(srv->workers);
	srv->workers = NULL;
}

struct snap *
worker_snap(struct worker *w)
{
	struct server	*srv = w->srv;
	struct snap	*old;

	if (atomic_load_explicit(&srv->snap_gen, memory_order_acquire) ==
	    w->snap_gen)
		return w->snap;
	old = w->snap;
	pthread_mutex_lock(&srv->snap_mtx);
	w->snap = snap_ref(srv->snap);
	pthread_mutex_unlock(&srv->snap_mtx);
	w->snap_gen = w->snap->gen;
	snap_unref(old);
	return w->snap;
}

void
worker_counters(struct server *srv, struct counters *out)
{
	const struct counters	*c;
	int			 i;
	size_t			 v;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < srv->nworkers + (srv->http_worker != NULL); i++) {
		c = i < srv->nworkers ? &srv->workers[i].ctr :
		    &srv->http_worker->ctr;
#define WC_ADD(f)	atomic_fetch_add(&out->f, atomic_load(&c->f))
		WC_ADD(requests);
		WC_ADD(conns_total);
		WC_ADD(conns_refused);
		WC_ADD(handshake_failures);
		WC_ADD(protocol_errors);
		WC_ADD(forbidden);
		WC_ADD(cache_hits);
		WC_ADD(cache_misses);
		WC_ADD(latency_sum_ns);
		for (v = 0; v < EID_VERDICT_COUNT; v++)
			WC_ADD(verdicts[v]);
		for (v = 0; v < OP_COUNT; v++)
			WC_ADD(ops[v]);
		for (v = 0; v <= LATENCY_BUCKETS; v++)
			WC_ADD(latency[v]);
#undef WC_ADD
	}
}
