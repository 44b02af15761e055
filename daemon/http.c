/*
 * daemon/http.c -- the HTTPS/JSON gateway, for portals that do not speak
 * protobuf: libevent's evhttp over OpenSSL bufferevents, in a thread of
 * its own with its own event base, store reader and counters.
 *
 *   POST /v1/verify   {"token", "audience", "min_level", "consume",
 *                     "nonce"} -> the Verify answer as JSON (200 for any
 *                     verdict); POST /v1/revoke (admins); GET /v1/status
 *                     (admins); GET /metrics (Prometheus text);
 *                     GET /healthz (alive); GET /readyz (keys loaded, store
 *                     open, not draining).
 *
 * Who may do what is decided exactly as on the protobuf API (handler.c),
 * from a client certificate validated against tls.client_ca.  Only the
 * monitoring paths may be served without one, when http.open_monitoring
 * says so.  Bodies over http.max_body_bytes, other content types and
 * invalid JSON get a 4xx with a JSON error and never reach the verifier.
 * A connection must finish each request within http.request_timeout_ms
 * of its start or of its previous answer, however it trickles: a sweep
 * ends those that do not.  At most http.max_connections are open (the
 * listener pauses at the cap), and a connection whose unread input passes
 * one whole request and a little is closed, so a peer that sends and
 * never reads its answers holds no more than that.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>

#include "eidd.h"
#include "store.h"

#define HTTP_MAX_HEADERS	(16 * 1024)
/*
 * Unread input allowed over one request's headers and body: evhttp
 * counts header bytes without their CRLFs, and a read pass adds up to a
 * TLS record before evhttp takes any of it.
 */
#define HTTP_INPUT_SLACK	(32 * 1024)

/*
 * One connection, tracked for its deadline: it must finish a request
 * within http.request_timeout_ms of its start or of its last answer.
 * The entry lives as long as the connection's SSL object (tls.c calls
 * http_conn_gone() when OpenSSL frees it), so the sweep never touches a
 * freed bufferevent.
 */
struct http_conn {
	struct http_conn	*next;
	struct http_conn	*prev;
	struct http		*h;
	struct bufferevent	*bev;
	struct evbuffer_cb_entry *in_cb;	/* on bev's input */
	size_t			 in_max;	/* unread input allowed */
	bool			 over;		/* past in_max: closing */
	int64_t			 last_ms;
};

struct http {
	struct server		*srv;
	struct worker		 w;		/* counters, reader, snapshot */
	pthread_t		 thread;
	struct event_base	*base;
	struct evhttp		*eh;
	struct event		*stop_ev;
	struct event		*sweep_ev;
	struct http_conn	*conns;
	size_t			 nconns;	/* entries in conns */
	bool			 accept_paused;	/* out of descriptors */
	char			 addr[300];
};

static int64_t
http_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Accept while under http.max_connections and not pausing after an
 * accept error.  The listener is NULL once evhttp_free() has freed it.
 */
static void
http_accepting(struct http *h)
{
	if (h->w.listener == NULL)
		return;
	if (!h->accept_paused && h->nconns <
	    (size_t)worker_snap(&h->w)->cfg->http_max_conns)
		evconnlistener_enable(h->w.listener);
	else
		evconnlistener_disable(h->w.listener);
}

static void
http_conn_gone(void *arg)
{
	struct http_conn	*hc = arg;
	struct http		*h = hc->h;

	/* OpenSSL frees us from the bufferevent's teardown: input lives on. */
	if (hc->in_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(hc->bev),
		    hc->in_cb);
	if (hc->prev != NULL)
		hc->prev->next = hc->next;
	else
		h->conns = hc->next;
	if (hc->next != NULL)
		hc->next->prev = hc->prev;
	free(hc);
	h->nconns--;
	http_accepting(h);
}

/*
 * The connection's unread input grew.  evhttp reads on while it writes an
 * answer, to notice a close, and nothing bounds what it takes in: a peer
 * that sends and never reads its answers would pile its requests up here.
 * Past one whole request and a little, it is closed.  (Not a read
 * high-water mark: a suspended OpenSSL bufferevent leaves the rest of a
 * decrypted record inside the SSL object, and resuming does not fetch it,
 * so a client that pipelines could wait for the request deadline.)  The
 * error is delivered in the next loop pass, outside libevent's read.
 */
static void
http_input_cb(struct evbuffer *in, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct http_conn	*hc = arg;

	if (info->n_added == 0 || evbuffer_get_length(in) <= hc->in_max)
		return;
	/* Again if evhttp turned reading back on before the close. */
	bufferevent_disable(hc->bev, EV_READ);
	if (hc->over)
		return;
	hc->over = true;
	log_info("http_close", "reason=input_over_limit bytes=%zu",
	    evbuffer_get_length(in));
	bufferevent_trigger_event(hc->bev, BEV_EVENT_ERROR | BEV_EVENT_READING,
	    BEV_TRIG_DEFER_CALLBACKS);
}

static void
http_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http	*h = arg;

	(void)fd;
	(void)what;
	h->accept_paused = false;
	http_accepting(h);
}

/*
 * The gateway of this process.  The listener's error callback gets the
 * listener's user data, which evhttp_bind_listener() made its struct
 * evhttp, not ours.
 */
static struct http	*http_gateway;

static void
http_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct http	*h = http_gateway;

	(void)l;
	if (h == NULL || arg != h->eh)
		fatalx("http", "error=\"accept error on an unknown listener\"");
	if (worker_accept_failed(&h->w, http_resume_cb, h))
		h->accept_paused = true;
}

/*
 * Every half second: a connection that has neither finished a request
 * nor gone within the deadline gets the timeout evhttp would give an idle
 * one, however steadily it trickles bytes.
 */
static void
http_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http		*h = arg;
	struct http_conn	*hc, *next;
	int64_t			 now = http_now_ms();
	int64_t			 limit = worker_snap(&h->w)->cfg->http_timeout_ms;

	(void)fd;
	(void)what;
	for (hc = h->conns; hc != NULL; hc = next) {
		next = hc->next;
		/* bev is NULL only if its creation failed: nothing to end. */
		if (hc->bev != NULL && now - hc->last_ms > limit) {
			hc->last_ms = now;
			log_debug("http_deadline", "reason=request_timeout");
			bufferevent_trigger_event(hc->bev, BEV_EVENT_TIMEOUT |
			    BEV_EVENT_READING, 0);
		}
	}
	/* A reload may have raised http.max_connections. */
	http_accepting(h);
}

static struct bufferevent *
http_bev_cb(struct event_base *base, void *arg)
{
	struct http		*h = arg;
	struct snap		*s = worker_snap(&h->w);
	struct bufferevent	*sb;
	struct http_conn	*hc;
	struct ssl_st		*ssl;

	/*
	 * A NULL makes evhttp serve the connection over a plain socket;
	 * http_gencb() refuses every request on one.
	 */
	h->w.accept_failing = false;
	/*
	 * evhttp copies these into the connection after this returns: the
	 * snapshot's, so that a reload applies to new connections and the
	 * body limit agrees with in_max below.
	 */
	evhttp_set_max_body_size(h->eh, s->cfg->http_max_body);
	evhttp_set_timeout(h->eh, (int)((s->cfg->http_timeout_ms + 999) /
	    1000));
	if ((hc = calloc(1, sizeof(*hc))) == NULL)
		return NULL;
	if ((ssl = tls_ssl_new(s->http_ctx)) == NULL ||
	    tls_ssl_attach(ssl, hc, http_conn_gone) != 0) {
		tls_ssl_free(ssl);
		free(hc);
		return NULL;
	}
	/* From here the entry goes with the SSL object. */
	hc->h = h;
	hc->last_ms = http_now_ms();
	hc->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = hc;
	h->conns = hc;
	h->nconns++;
	/* At the cap: the listener stops, and libevent's accept loop too. */
	http_accepting(h);
	/*
	 * evhttp sets the socket afterwards (bufferevent_setfd).  On
	 * failure libevent frees ssl (BEV_OPT_CLOSE_ON_FREE), and the
	 * entry with it.
	 */
	if ((sb = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return NULL;
	hc->bev = sb;
	hc->in_max = HTTP_MAX_HEADERS + (size_t)s->cfg->http_max_body +
	    HTTP_INPUT_SLACK;
	if ((hc->in_cb = evbuffer_add_cb(bufferevent_get_input(sb),
	    http_input_cb, hc)) == NULL) {
		hc->bev = NULL;		/* the sweep must not touch it */
		bufferevent_free(sb);	/* and with ssl the entry */
		return NULL;
	}
	return sb;
}

/* The request is whole: the next one's deadline starts now. */
static void
http_request_done(struct evhttp_request *req)
{
	struct evhttp_connection *evc = evhttp_request_get_connection(req);
	struct bufferevent	*bev;
	struct http_conn	*hc;

	/* The entry hangs on the connection's SSL object: no search. */
	if (evc != NULL &&
	    (bev = evhttp_connection_get_bufferevent(evc)) != NULL &&
	    (hc = tls_ssl_attached(bufferevent_openssl_get_ssl(bev))) != NULL)
		hc->last_ms = http_now_ms();
}

static void
http_send(struct evhttp_request *req, int status, const char *ctype,
    struct evbuffer *body)
{
	struct evkeyvalq	*oh = evhttp_request_get_output_headers(req);

	evhttp_add_header(oh, "Content-Type", ctype);
	evhttp_add_header(oh, "Cache-Control", "no-store");
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	evhttp_send_reply(req, status, NULL, body);
}

static void
http_send_json(struct evhttp_request *req, int status, json_t *j)
{
	struct evbuffer	*b = evbuffer_new();
	char		*text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	if (b == NULL || text == NULL) {
		evhttp_send_error(req, 500, NULL);
	} else {
		evbuffer_add(b, text, strlen(text));
		evbuffer_add(b, "\n", 1);
		http_send(req, status, "application/json", b);
	}
	free(text);
	evbuffer_free(b);
}

static void
http_error(struct evhttp_request *req, int status, const char *code,
    const char *message)
{
	json_t	*j = json_pack("{s:{s:s, s:s}}", "error", "code", code,
	    "message", message);

	http_send_json(req, status, j);
	json_decref(j);
}

/* The principal of the connection's verified certificate, or NULL. */
static const struct principal *
http_principal(struct http *h, struct evhttp_request *req, struct snap *s)
{
	struct evhttp_connection *evc = evhttp_request_get_connection(req);
	struct bufferevent	*bev;
	const struct principal	*p = NULL;
	struct x509_st		*peer;

	(void)h;
	if (evc == NULL || (bev = evhttp_connection_get_bufferevent(evc)) ==
	    NULL)
		return NULL;
	if ((peer = tls_http_peer(bufferevent_openssl_get_ssl(bev))) != NULL) {
		p = snap_principal(s, peer);
		tls_x509_free(peer);
	}
	return p;
}

static bool
http_has_cert(struct evhttp_request *req)
{
	struct evhttp_connection *evc = evhttp_request_get_connection(req);
	struct bufferevent	*bev;
	struct x509_st		*peer;

	if (evc == NULL || (bev = evhttp_connection_get_bufferevent(evc)) ==
	    NULL)
		return false;
	if ((peer = tls_http_peer(bufferevent_openssl_get_ssl(bev))) == NULL)
		return false;
	tls_x509_free(peer);
	return true;
}

/* The body as a JSON object, or an answer already sent (NULL). */
static json_t *
http_body(struct http *h, struct evhttp_request *req)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	const char	*ct;
	json_error_t	 jerr;
	json_t		*j;
	size_t		 n = evbuffer_get_length(in);
	char		 msg[200];

	ct = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
	    (ct[16] != '\0' && ct[16] != ';')) {
		http_error(req, 415, "unsupported_media_type",
		    "Content-Type must be application/json");
		return NULL;
	}
	if (n > (size_t)worker_snap(&h->w)->cfg->http_max_body) {
		http_error(req, 413, "too_large", "body too large");
		return NULL;
	}
	j = json_loadb((const char *)evbuffer_pullup(in, (ev_ssize_t)n), n,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		snprintf(msg, sizeof(msg), "invalid JSON at line %d column %d",
		    jerr.line, jerr.column);
		http_error(req, 400, "bad_request", msg);
	}
	return j;
}

static void
http_api(struct http *h, struct evhttp_request *req, const char *op,
    enum evhttp_cmd_type want)
{
	struct conn_info	 ci;
	struct snap		*s = worker_snap(&h->w);
	json_t			*body = NULL, *out = NULL;
	int			 status;

	if (evhttp_request_get_command(req) != want) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", want == EVHTTP_REQ_POST ? "POST" : "GET");
		http_error(req, 405, "method_not_allowed", want ==
		    EVHTTP_REQ_POST ? "use POST" : "use GET");
		return;
	}
	memset(&ci, 0, sizeof(ci));
	ci.w = &h->w;
	ci.snap = s;
	ci.principal = http_principal(h, req, s);
	/* Nothing of a peer without a principal is parsed. */
	if (ci.principal != NULL && want == EVHTTP_REQ_POST &&
	    (body = http_body(h, req)) == NULL)
		return;
	status = handler_json(&ci, op, body, &out);
	http_send_json(req, status, out);
	json_decref(out);
	json_decref(body);
}

static void
http_gencb(struct evhttp_request *req, void *arg)
{
	struct http		*h = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri != NULL ? evhttp_uri_get_path(uri) :
				    NULL;
	struct evhttp_connection *evc = evhttp_request_get_connection(req);
	struct bufferevent	*bev;
	struct evbuffer		*b;
	bool			 monitor;

	http_request_done(req);
	/*
	 * Only when http_bev_cb() failed: never answer outside TLS (the
	 * error closes the connection).  Such a connection is not counted
	 * against http.max_connections: only out of memory gets here.
	 */
	if (evc == NULL || (bev = evhttp_connection_get_bufferevent(evc)) ==
	    NULL || bufferevent_openssl_get_ssl(bev) == NULL) {
		evhttp_send_error(req, 400, "TLS required");
		return;
	}
	if (path == NULL) {
		http_error(req, 400, "bad_request", "no path");
		return;
	}
	monitor = strcmp(path, "/metrics") == 0 ||
	    strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0;
	/* Without a certificate: monitoring only, and only if configured. */
	if (!http_has_cert(req) && !(monitor &&
	    worker_snap(&h->w)->cfg->http_open_monitoring)) {
		http_error(req, 403, "forbidden", "a client certificate is "
		    "required");
		return;
	}
	if (monitor && evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET");
		http_error(req, 405, "method_not_allowed", "use GET");
		return;
	}
	if (strcmp(path, "/v1/verify") == 0)
		http_api(h, req, "verify", EVHTTP_REQ_POST);
	else if (strcmp(path, "/v1/revoke") == 0)
		http_api(h, req, "revoke", EVHTTP_REQ_POST);
	else if (strcmp(path, "/v1/status") == 0)
		http_api(h, req, "status", EVHTTP_REQ_GET);
	else if (strcmp(path, "/healthz") == 0) {
		if ((b = evbuffer_new()) != NULL) {
			evbuffer_add_printf(b, "ok\n");
			http_send(req, 200, "text/plain", b);
			evbuffer_free(b);
		}
	} else if (strcmp(path, "/readyz") == 0) {
		bool ready = !atomic_load(&h->srv->draining) &&
		    h->srv->store != NULL &&
		    eid_keyset_count(worker_snap(&h->w)->ks) > 0;

		if ((b = evbuffer_new()) != NULL) {
			evbuffer_add_printf(b, "%s\n", ready ? "ready" :
			    "not ready");
			http_send(req, ready ? 200 : 503, "text/plain", b);
			evbuffer_free(b);
		}
	} else if (strcmp(path, "/metrics") == 0) {
		if ((b = evbuffer_new()) != NULL) {
			handler_metrics(h->srv, h->w.rd, b);
			http_send(req, 200, "text/plain; version=0.0.4", b);
			evbuffer_free(b);
		}
	} else
		http_error(req, 404, "not_found", "no such path");
	store_reader_reset(h->w.rd);
}

static void
http_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http	*h = arg;

	(void)fd;
	(void)what;
	event_base_loopexit(h->base, NULL);
}

static void *
http_main(void *arg)
{
	struct http	*h = arg;

	log_set_worker(h->w.id);
	event_base_dispatch(h->base);
	return NULL;
}

struct http *
http_setup(struct server *srv, const struct cfg *cfg, int id)
{
	struct http		*h;
	struct timeval		 sweep = { 0, 500000 };
	char			 port[16] = "";
	int			 fd;

	if (cfg->http_listen[0] == '\0')
		return NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		fatalx("nomem", "where=http");
	h->srv = srv;
	h->w.id = id;
	h->w.srv = srv;
	h->w.snap = server_snap(srv);
	h->w.snap_gen = h->w.snap->gen;
	if ((h->w.rd = store_reader_new(srv->store)) == NULL ||
	    (h->w.hasher = eid_hasher_new()) == NULL ||
	    (h->base = worker_base_new()) == NULL ||
	    (h->eh = evhttp_new(h->base)) == NULL ||
	    (h->stop_ev = event_new(h->base, -1, 0, http_stop_cb, h)) == NULL ||
	    (h->sweep_ev = event_new(h->base, -1, EV_PERSIST, http_sweep_cb,
	    h)) == NULL || event_add(h->sweep_ev, &sweep) != 0)
		fatalx("http", "error=\"setup failed\"");
	/*
	 * Our listener, not evhttp's: evhttp's has no error callback, so
	 * running out of descriptors spun the thread and flooded the log,
	 * and it could not be paused at http.max_connections.  evhttp takes
	 * it over and frees it.
	 */
	fd = worker_listen(cfg->http_listen, port, sizeof(port));
	/*
	 * evhttp writes an answer's head and body apart: with Nagle the
	 * body waited for the client's delayed ACK, some 40 ms an answer.
	 * Linux gives accepted sockets the listener's TCP_NODELAY.
	 */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
	    sizeof(int)) != 0)
		fatalx("http", "error=\"TCP_NODELAY: %s\"", strerror(errno));
	h->w.base = h->base;
	if ((h->w.listener = evconnlistener_new(h->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd)) == NULL ||
	    evhttp_bind_listener(h->eh, h->w.listener) == NULL)
		fatalx("http", "error=\"cannot accept on %s\"",
		    cfg->http_listen);
	evconnlistener_set_error_cb(h->w.listener, http_accept_error_cb);
	http_gateway = h;
	worker_listen_addr(cfg->http_listen, port, h->addr, sizeof(h->addr));
	evhttp_set_bevcb(h->eh, http_bev_cb, h);
	evhttp_set_gencb(h->eh, http_gencb, h);
	evhttp_set_max_body_size(h->eh, cfg->http_max_body);
	evhttp_set_max_headers_size(h->eh, HTTP_MAX_HEADERS);
	evhttp_set_timeout(h->eh, (int)((cfg->http_timeout_ms + 999) / 1000));
	evhttp_set_allowed_methods(h->eh, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	srv->http_worker = &h->w;
	return h;
}

const char *
http_addr(const struct http *h)
{
	return h != NULL ? h->addr : "-";
}

void
http_start(struct http *h)
{
	int	 e;

	if (h != NULL && (e = pthread_create(&h->thread, NULL, http_main,
	    h)) != 0)
		fatalx("thread", "error=\"%s\"", strerror(e));
}

void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	event_active(h->stop_ev, 0, 0);
	pthread_join(h->thread, NULL);
	h->srv->http_worker = NULL;
	event_free(h->stop_ev);
	event_free(h->sweep_ev);
	/*
	 * Frees the listener, then every connection, and with their SSL
	 * objects our entries: none may touch the listener then.
	 */
	h->w.listener = NULL;
	evhttp_free(h->eh);
	http_gateway = NULL;
	event_base_free(h->base);
	store_reader_free(h->w.rd);
	eid_hasher_free(h->w.hasher);
	snap_unref(h->w.snap);
	free(h);
}
