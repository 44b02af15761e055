/*
 * daemon/eidd.h -- internal interfaces of eidd, grouped by the file that
 * defines them.  Only daemon/ and its tests include this.  No OpenSSL
 * SSL, protobuf-c or LMDB type appears here: those stay in their files
 * (tls.c, handler.c, store*.c); X509 and SSL_CTX are forward-declared.
 */
#ifndef EIDD_H
#define EIDD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "eid/verify.h"

#define EIDD_VERSION		"0.3.0"
#define EIDD_ALPN		"eid/1"

/* Hard limits that bound the configurable ones. */
#define EIDD_FRAME_MIN		1024
#define EIDD_FRAME_MAX		(1024 * 1024)
#define EIDD_WORKERS_MAX	64
#define EIDD_BATCH_MAX		256
#define EIDD_AUD_PER_PRINCIPAL	32

struct x509_st;
struct json_t;
struct evp_md_st;
struct ssl_ctx_st;
struct ssl_st;
struct event_base;
struct event;
struct evbuffer;
struct evconnlistener;
struct conn;

/* cfg.c */
enum cfg_role {
	CFG_ROLE_RELYING_PARTY = 1,
	CFG_ROLE_ADMIN
};

struct cfg_cert {
	char		*file;
	enum eid_alg	 alg;		/* EID_ALG_NONE: from the key */
};

struct cfg_issuer {
	char		*iss;
	char		**anchors;
	size_t		 nanchors;
	struct cfg_cert	*certs;
	size_t		 ncerts;
	char		**jwks;
	size_t		 njwks;
	int		 line;
};

struct cfg_principal {
	char		*name;
	char		*subject;	/* "/C=VN/O=.../CN=..." */
	enum cfg_role	 role;
	char		**audiences;
	size_t		 naudiences;
	int		 line;
};

/* The whole configuration; immutable once parsed. */
struct cfg {
	char		*path;
	char		*listen;	/* host:port */
	int		 workers;	/* resolved: >= 1 */
	int		 workers_cfg;	/* as configured: 0 means per core */
	char		*state_dir;
	char		*user;		/* "": keep the starting user */
	char		*log_level;
	char		*tls_cert;
	char		*tls_key;
	char		*tls_client_ca;
	bool		 tls12;
	char		*http_listen;	/* "": no gateway */
	bool		 http_require_cert;
	bool		 http_open_monitoring;
	int64_t		 http_max_body;
	int64_t		 http_timeout_ms;
	int64_t		 http_max_conns;
	int64_t		 max_frame_bytes;
	int64_t		 max_connections;
	int64_t		 max_handshakes;
	int64_t		 source_conn_rate;	/* per second; 0: none */
	int64_t		 source_conn_burst;
	int64_t		 handshake_timeout_ms;
	int64_t		 idle_timeout_ms;
	int64_t		 drain_timeout_ms;
	int64_t		 requests_per_read;
	int64_t		 output_high_watermark;
	int64_t		 cache_map_bytes;
	int64_t		 state_map_bytes;
	int64_t		 sweep_interval_s;
	int64_t		 cache_probation;
	int64_t		 leeway_s;
	int64_t		 max_lifetime_s;
	struct cfg_issuer *issuers;
	size_t		 nissuers;
	struct cfg_principal *principals;
	size_t		 nprincipals;
};

/*
 * Parse and validate path.  On failure returns NULL and writes
 * "file:line: option: problem" to err.  Free with cfg_free().
 */
struct cfg	*cfg_load(const char *path, char *err, size_t errlen);
void		 cfg_free(struct cfg *);
/* The normalized configuration, as `eidd -t -v` prints it. */
void		 cfg_print(const struct cfg *, FILE *);
/*
 * Whether a file holding a secret, as st describes it, may be used: it
 * belongs to root, to this user, or (started as root) to user, and is
 * closed to group and others.  -1 and why (no path) if not.
 */
struct stat;
int		 cfg_secret_ok(const struct stat *st, const char *user,
		    char *why, size_t whylen);

/* snap.c */
struct principal {
	const struct cfg_principal *cp;	/* borrowed from the snapshot's cfg */
	void		*name;		/* X509_NAME of the subject */
	int		 slot;		/* its counters in struct server, or -1 */
};

/*
 * What a reload replaces as a whole: configuration, key set and the
 * principal map.  Immutable and reference-counted.
 */
struct snap {
	atomic_uint	 refs;
	uint64_t	 gen;		/* 1, 2, ... per successful load */
	struct cfg	*cfg;
	struct eid_keyset *ks;
	struct principal *principals;
	size_t		 nprincipals;
	struct eid_policy policy;
	struct ssl_ctx_st *ssl_ctx;	/* tls.* of this cfg */
	struct ssl_ctx_st *http_ctx;	/* the gateway's, or NULL */
};

/* Build from cfg (taking ownership of it on success). */
struct snap	*snap_build(struct cfg *, uint64_t gen, int64_t now, char *err,
		    size_t errlen);
struct snap	*snap_ref(struct snap *);
void		 snap_unref(struct snap *);
/* The principal of a validated peer certificate, or NULL. */
const struct principal *snap_principal(const struct snap *,
		    struct x509_st *peer);
/* True if p may verify for audience aud. */
bool		 snap_may_verify(const struct principal *, const char *aud);

/* log.c */
enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG
};

void		 log_init(enum log_level);
bool		 log_level_parse(const char *, enum log_level *);
bool		 log_enabled(enum log_level);
/* The worker id written on each line of this thread (0: main). */
void		 log_set_worker(int);
/*
 * One logfmt line: ts, level, worker, event, then the caller's
 * key=value text.  Values from outside must go through log_escape().
 * errno is preserved.
 */
void		 log_emit(enum log_level, const char *event, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
/* Like log_emit at LOG_LVL_ERR, then exit(1).  Startup only. */
void		 fatalx(const char *event, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3), noreturn));
/*
 * Quote s for a logfmt value into buf: control characters, quotes,
 * backslashes and non-ASCII bytes become \xNN.  Returns buf.
 */
const char	*log_escape(const char *s, char *buf, size_t len);
/* "001******345": a PIN with its middle masked. */
const char	*log_mask_pin(const char *pin, char *buf, size_t len);

#define log_err(ev, ...)	log_emit(LOG_LVL_ERR, ev, __VA_ARGS__)
#define log_warnx(ev, ...)	log_emit(LOG_LVL_WARN, ev, __VA_ARGS__)
#define log_info(ev, ...)	log_emit(LOG_LVL_INFO, ev, __VA_ARGS__)
#define log_debug(ev, ...)	do {					\
	if (log_enabled(LOG_LVL_DEBUG))					\
		log_emit(LOG_LVL_DEBUG, ev, __VA_ARGS__);		\
} while (0)

/* tls.c */
enum tls_mode {
	TLS_MODE_API,		/* ALPN eid/1, client certificate required */
	TLS_MODE_HTTP		/* the gateway: no ALPN; certificate per cfg */
};
/* The server context of cfg; NULL and err on failure. */
struct ssl_ctx_st *tls_ctx_new(const struct cfg *, enum tls_mode, char *err,
		    size_t errlen);
void		 tls_ctx_free(struct ssl_ctx_st *);
struct ssl_st	*tls_ssl_new(struct ssl_ctx_st *);
/*
 * After the handshake: ALPN must be eid/1 and a verified client
 * certificate present.  Returns the peer certificate (a new reference)
 * or NULL with the reason in err.
 */
struct x509_st	*tls_peer(struct ssl_st *, char *err, size_t errlen);
void		 tls_x509_free(struct x509_st *);
/* The protobuf API's TLS I/O on a non-blocking socket. */
enum tls_io {
	TLS_IO_OK,
	TLS_IO_WANT_READ,	/* wait until the socket is readable */
	TLS_IO_WANT_WRITE,	/* wait until the socket is writable */
	TLS_IO_EOF,		/* the peer closed */
	TLS_IO_ERROR		/* reason in OpenSSL's queue (tls_errors) */
};
/* A server SSL object on fd (not owned), read-ahead, partial writes. */
struct ssl_st	*tls_ssl_accept(struct ssl_ctx_st *, int fd);
enum tls_io	 tls_handshake(struct ssl_st *);
enum tls_io	 tls_read(struct ssl_st *, void *, size_t, size_t *n);
enum tls_io	 tls_write(struct ssl_st *, const void *, size_t, size_t *n);
/* OpenSSL holds bytes read from the socket that tls_read has not given. */
bool		 tls_pending(struct ssl_st *);
/* Bytes written to the socket so far (the handshake's progress). */
uint64_t	 tls_written(struct ssl_st *);
void		 tls_close_notify(struct ssl_st *);
/* Once, before any connection: OpenSSL indexes this file uses. */
void		 tls_init(void);
/* Call gone(data) when OpenSSL frees ssl (the gateway's lifetime hook). */
int		 tls_ssl_attach(struct ssl_st *, void *data,
		    void (*gone)(void *));
/* The data tls_ssl_attach() hung on ssl, or NULL. */
void		*tls_ssl_attached(struct ssl_st *);
/* The gateway's peer: a verified certificate (new reference) or NULL. */
struct x509_st	*tls_http_peer(struct ssl_st *);
void		 tls_ssl_free(struct ssl_st *);
/* The subject of x as "/C=.../CN=..." into buf (unescaped). */
const char	*tls_subject(struct x509_st *x, char *buf, size_t len);
/* Drain OpenSSL's error queue into one string. */
const char	*tls_errors(char *buf, size_t len);
/* The reason text of one OpenSSL error code (static). */
const char	*tls_reason(unsigned long);
/* Version of the OpenSSL library in use. */
const char	*tls_version(void);

/* server state shared by the threads (main.c owns it) */
struct worker;

/* Operations counted separately (requests by operation). */
enum counter_op {
	OP_VERIFY = 0,
	OP_VERIFY_BATCH,
	OP_REVOKE,
	OP_REVOKE_BATCH,
	OP_LIST_REVOCATIONS,
	OP_STATUS,
	OP_INVALID,		/* did not parse, no body, unmapped peer */
	OP_COUNT
};

/* Upper bounds (microseconds) of the request latency histogram. */
#define LATENCY_BUCKETS		12
extern const uint64_t counters_latency_us[LATENCY_BUCKETS];

struct counters {
	_Atomic uint64_t requests;
	_Atomic uint64_t ops[OP_COUNT];
	_Atomic uint64_t latency[LATENCY_BUCKETS + 1];	/* last: +Inf */
	_Atomic uint64_t latency_sum_ns;
	_Atomic uint64_t verdicts[EID_VERDICT_COUNT];
	_Atomic uint64_t conns_total;
	_Atomic uint64_t conns_refused;
	_Atomic uint64_t handshake_failures;
	_Atomic uint64_t protocol_errors;
	_Atomic uint64_t forbidden;
	_Atomic uint64_t cache_hits;
	_Atomic uint64_t cache_misses;
};

struct store;
struct store_reader;

/* Counters of one principal name, kept across reloads (metrics). */
#define EIDD_PRINCIPALS_MAX	128
struct principal_counters {
	char		 name[128];
	_Atomic uint64_t ops[OP_COUNT];
	_Atomic uint64_t verdicts[EID_VERDICT_COUNT];
};

struct server {
	struct store	*store;		/* opened at start, not reloaded */
	struct worker	*http_worker;	/* the gateway's, or NULL */
	struct worker	*workers;
	int		 nworkers;
	pthread_mutex_t	 snap_mtx;
	struct snap	*snap;		/* under snap_mtx */
	_Atomic uint64_t snap_gen;
	_Atomic uint64_t reloads;
	_Atomic int	 conns_open;
	_Atomic bool	 draining;
	int64_t		 started_at;
	int64_t		 max_connections;	/* from the first cfg */
	char		 listen_addr[300];	/* resolved, with port */
	struct principal_counters pctr[EIDD_PRINCIPALS_MAX];
	_Atomic int	 npctr;		/* slots in use; written by main */
};

/* Give every principal of s its counter slot (main thread only). */
void		 server_principal_slots(struct server *, struct snap *);

/* Current snapshot with a new reference. */
struct snap	*server_snap(struct server *);

/* worker.c */
struct worker {
	int		 id;
	struct server	*srv;
	pthread_t	 thread;
	struct event_base *base;
	struct evconnlistener *listener;
	struct event	*drain_ev;	/* cross-thread: start draining */
	struct snap	*snap;		/* this worker's reference */
	struct store_reader *rd;	/* reset once per event-loop pass */
	struct eid_hasher *hasher;	/* cache keys and signing digests */
	struct evbuffer	*stage;		/* answers of one pass, then flushed */
	uint64_t	 snap_gen;
	uint64_t	 next_conn_id;
	struct conn	*conns;		/* list of open connections */
	size_t		 nconns;
	/*
	 * Connections in the handshake, by the start of the peer's turn:
	 * [0] no ClientHello answered yet, [1] answered (conn.c).
	 */
	struct conn	*hs_head[2];
	struct conn	*hs_tail[2];
	size_t		 nhandshakes;	/* in both */
	/* New connections per source address (conn.c). */
	struct conn_source *sources;	/* CONN_SOURCES of them */
	uint64_t	 source_salt[2];
	int64_t		 source_warn_ms;	/* last source_limited line */
	uint64_t	 source_refused;	/* since that line */
	bool		 draining;
	bool		 accept_failing;	/* logged once per episode */
	struct counters	 ctr;
};

/*
 * Create the workers' bases and bind their listeners (SO_REUSEPORT, all
 * on the same address; a port 0 is resolved by the first).  Startup
 * only: failures are fatal.
 */
void		 worker_setup(struct server *, const struct cfg *);
/* A new event base as the daemon wants them (epoll changelist). */
struct event_base *worker_base_new(void);
/* A listening socket on "host:port"; a port "" keeps the configured one,
 * and port gets the bound one (so "0" is resolved).  Fatal on failure. */
int		 worker_listen(const char *listen_addr, char *port, size_t plen);
/* "host:port" (IPv6 in brackets) of an address and a resolved port. */
void		 worker_listen_addr(const char *listen_addr, const char *port,
		    char *out, size_t len);
/*
 * w's listener could not accept (errno says why): one log line per
 * episode; out of descriptors or memory, stop accepting for a moment and
 * then call resume(-1, EV_TIMEOUT, arg) on w's base, instead of spinning.
 * Returns whether it stopped accepting.
 */
bool		 worker_accept_failed(struct worker *w,
		    void (*resume)(int, short, void *), void *arg);
void		 worker_start(struct server *);
/* From the main thread: stop accepting and drain; join with wait. */
void		 worker_drain_all(struct server *);
void		 worker_wait_all(struct server *);
/* The worker's snapshot, refreshed if a newer one exists. */
struct snap	*worker_snap(struct worker *);
/* Sum of every worker's counters. */
void		 worker_counters(struct server *, struct counters *out);

/* sandbox_linux.c */
/* As root with cfg->user set: hand the store to the user, drop root for
 * good, no_new_privs.  Startup only: failures are fatal. */
void		 sandbox_drop(const struct cfg *);

/* http.c */
struct http;
/* The gateway of cfg (NULL when http.listen is empty), bound; id is its
 * log worker id.  Startup only: failures are fatal. */
struct http	*http_setup(struct server *, const struct cfg *, int id);
void		 http_start(struct http *);
/* Stop, join and free (after the workers have drained).  Accepts NULL. */
void		 http_stop(struct http *);
const char	*http_addr(const struct http *);

/* jarena.c: jansson allocates from a per-thread arena between begin and
 * end; init before any other jansson call. */
void		 jarena_init(void);
void		 jarena_begin(void);
void		 jarena_end(void);

/* conn.c */
struct conn;
/* A new TCP connection on w's base; takes fd. */
struct sockaddr;
void		 conn_accept(struct worker *, int fd, const struct sockaddr *,
		    int salen);
/* The per-source table of a worker, or NULL without memory. */
struct conn_source *conn_sources_new(uint64_t salt[2]);
/* Begin draining one connection, or all of w's (SIGTERM). */
void		 conn_drain(struct conn *);
void		 conn_drain_all(struct worker *);
/* Free every connection of w (at exit). */
void		 conn_close_all(struct worker *);

/* What the handler needs to know about the connection it serves. */
struct conn_info {
	uint64_t	 id;
	struct worker	*w;
	struct snap	*snap;		/* borrowed for this request */
	const struct principal *principal; /* NULL: not mapped */
};

/* handler.c */
/*
 * Handle one request frame body (len bytes of protobuf Request) and
 * append the response frame to out.  Returns 0 to go on, or -1 when the
 * connection must be closed after out is flushed (the response explains
 * why).  *cost is what the frame counts against a connection's
 * requests_per_read: the items of a batch it read, else 1.
 */
int		 handler_frame(const struct conn_info *, const uint8_t *buf,
		    size_t len, struct evbuffer *out, size_t *cost);
/* ErrorCode values of eid.proto, for callers outside handler.c. */
#define HANDLER_BAD_REQUEST	1
#define HANDLER_FRAME_TOO_LARGE	3
/* An Error response for a frame that could not be read (too large). */
void		 handler_frame_error(struct evbuffer *out, int code,
		    const char *message);
/*
 * The HTTPS/JSON gateway's operations ("verify", "revoke", "status"),
 * the same checks as the protobuf ones: body is the parsed request (NULL
 * for status), *out the JSON answer (new reference).  Returns the HTTP
 * status: 200 for any verdict, 4xx/5xx with {"error": ...}.
 */
int		 handler_json(const struct conn_info *, const char *op,
		    struct json_t *body, struct json_t **out);
/* The Prometheus text exposition of srv's counters into out. */
void		 handler_metrics(struct server *, struct store_reader *,
		    struct evbuffer *out);

/* frame.c */
#define FRAME_HDR	4
/*
 * Look at the next frame in in: 1 and *len when FRAME_HDR + *len bytes
 * are buffered, 0 when more bytes are needed, -1 (with *len) when the
 * announced length is 0 or above max.
 */
int		 frame_peek(struct evbuffer *in, size_t max, size_t *len);
/* Write the header of a frame of len bytes to h; -1 if len is 0 or
 * above what 4 bytes can say. */
int		 frame_header(unsigned char h[FRAME_HDR], size_t len);

#endif /* EIDD_H */
