/*
 * eid/client.h -- the eidd client library (libeidclient).
 *
 * Talks to eidd over its wire protocol (proto/eid.proto): TLS with a
 * client certificate (offers TLS 1.3; accepts TLS 1.2, ECDHE and AEAD
 * ciphers only, if the server chooses it), ALPN "eid/1", 4-byte big-endian
 * length-prefixed protobuf frames, pipelined requests answered in order.
 * Two flavours:
 *
 *   - blocking (struct eid_client): for tools such as eidctl.  Calls
 *     block until done or until the configured timeout.
 *   - libevent (struct eid_aclient): for eid-load and event-driven
 *     relying parties; callbacks run on the caller's event_base.
 *
 * The library never prints, exits or aborts.  Errors are enum
 * eid_client_err values with a one-line reason in the caller's buffer.
 * A connection is owned by one thread.  Strings in results are copied
 * into the result structs: they stay valid as long as the struct.
 */
#ifndef EID_CLIENT_H
#define EID_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eid/verify.h"

/* libevent's event_base, forward-declared. */
struct event_base;

enum eid_client_err {
	EID_CLIENT_OK = 0,
	EID_CLIENT_ERR_USAGE,	/* bad argument or configuration */
	EID_CLIENT_ERR_NOMEM,
	EID_CLIENT_ERR_CONNECT,	/* name resolution or TCP connect failed */
	EID_CLIENT_ERR_TLS,	/* handshake or certificate failure */
	EID_CLIENT_ERR_IO,	/* the connection broke */
	EID_CLIENT_ERR_TIMEOUT,
	EID_CLIENT_ERR_PROTOCOL,/* the server sent something unexpected */
	EID_CLIENT_ERR_SERVER	/* the server answered with an Error */
};

const char	*eid_client_strerror(enum eid_client_err);

/* The server's Error codes (ErrorCode in eid.proto). */
enum eid_server_code {
	EID_SERVER_UNSPECIFIED = 0,
	EID_SERVER_BAD_REQUEST,
	EID_SERVER_FORBIDDEN,
	EID_SERVER_FRAME_TOO_LARGE,
	EID_SERVER_OVERLOADED,
	EID_SERVER_UNAVAILABLE,
	EID_SERVER_INTERNAL
};

/* Lower-case name ("forbidden", ...); "unknown" when out of range. */
const char	*eid_server_code_name(enum eid_server_code);

/*
 * Where and as whom to connect.  Strings are copied by connect.  The
 * server gets no root it holds already: cert's file, if it holds a
 * chain, goes out as written less a self-signed certificate at its end;
 * a certificate alone goes out with its issuers from ca, less the root
 * they reach, or alone if they reach none.
 */
struct eid_client_config {
	const char	*server;	/* "host:port"; IPv6 as "[::1]:7443" */
	const char	*cert;		/* client certificate, PEM */
	const char	*key;		/* its private key, PEM */
	const char	*ca;		/* CA bundle the server must chain to */
	int		 timeout_ms;	/* per blocking call; 0: 30000 */
};

/*
 * Fill unset fields of cfg from the environment: EID_SERVER (default
 * "127.0.0.1:7443"), EID_CERT, EID_KEY, EID_CA.  The strings point into
 * the environment.
 */
void		 eid_client_config_env(struct eid_client_config *cfg);

/*
 * Most items of one VerifyBatch (eid.proto; eidd refuses more).  A batch
 * must also fit one frame of 64 KiB, so long tokens allow fewer.
 */
#define EID_CLIENT_BATCH_MAX	256

/* One verification to ask for (VerifyRequest). */
struct eid_verify_req {
	const char	*token;
	size_t		 token_len;
	const char	*audience;	/* NULL or "": the principal's first */
	int		 min_level;	/* 0, 1 or 2 */
	bool		 consume;
	const char	*nonce;		/* NULL or "": none expected */
};

/* The answer (VerifyResult). */
struct eid_verify_res {
	enum eid_verdict verdict;
	char		 sub[EID_PIN_LEN + 1];
	char		 name[EID_NAME_MAX + 1];
	char		 birthdate[11];
	enum eid_gender	 gender;
	int		 level;
	int64_t		 issued_at;
	int64_t		 expires_at;
	int64_t		 not_before;	/* 0: no nbf */
	char		 token_id[EID_JTI_MAX + 1];
	char		 issuer[EID_ISS_MAX + 1];
	char		 key_id[EID_KID_MAX + 1];
	char		 algorithm[8];
	char		 audience[EID_AUD_MAX + 1];
	bool		 cached;
};

enum eid_revoke_kind {
	EID_REVOKE_TOKEN = 1,
	EID_REVOKE_SUBJECT,
	EID_REVOKE_KEY
};

/* RevokeRequest. */
struct eid_revoke_req {
	enum eid_revoke_kind kind;
	const char	*value;
	const char	*issuer;	/* NULL: every issuer */
	int64_t		 issued_before;	/* subject: 0 means now */
	const char	*reason;	/* NULL: none */
	int64_t		 expires_at;	/* 0: never */
};

/* A recorded revocation (eid.proto Revocation). */
struct eid_revocation {
	enum eid_revoke_kind kind;
	char		 value[EID_JTI_MAX + 1];
	char		 issuer[EID_ISS_MAX + 1];	/* "": every issuer */
	int64_t		 issued_before;
	int64_t		 expires_at;
	int64_t		 created_at;
	uint64_t	 sequence;
	char		 reason[257];
};

struct eid_status_key {
	char		 key_id[EID_KID_MAX + 1];
	char		 issuer[EID_ISS_MAX + 1];
	char		 algorithm[8];
	int64_t		 not_before;
	int64_t		 not_after;
	bool		 from_certificate;
};

/* StatusResult; keys is malloc'd, free with eid_status_clear(). */
struct eid_status {
	char		 version[64];
	char		 principal[128];
	int64_t		 uptime_s;
	int64_t		 started_at;
	uint32_t	 workers;
	uint64_t	 connections_open;
	uint64_t	 connections_total;
	uint64_t	 requests_total;
	uint64_t	 verdicts[EID_VERDICT_COUNT];
	uint64_t	 reloads;
	uint64_t	 cache_entries;
	uint64_t	 cache_hits;
	uint64_t	 cache_misses;
	uint64_t	 revocations;
	uint64_t	 consumed;
	struct eid_status_key *keys;
	size_t		 nkeys;
};

void		 eid_status_clear(struct eid_status *);

/* An Error response: code and the server's message. */
struct eid_server_error {
	enum eid_server_code code;
	char		 message[256];
};

/* --- blocking flavour ------------------------------------------------ */

struct eid_client;

/*
 * Connect, handshake (verifying the server against cfg->ca and its name
 * or address against the certificate) and check ALPN.  On failure
 * returns NULL and writes the reason to err (errlen may be 0); *errp
 * (may be NULL) gets the code.
 */
struct eid_client *eid_client_connect(const struct eid_client_config *,
		    enum eid_client_err *errp, char *err, size_t errlen);

/* Close (sending close_notify) and free; accepts NULL. */
void		 eid_client_close(struct eid_client *);

/* The reason of the last failure on this connection. */
const char	*eid_client_last_error(const struct eid_client *);
/* After EID_CLIENT_ERR_SERVER: the server's error. */
const struct eid_server_error *eid_client_server_error(
		    const struct eid_client *);

/*
 * One request, one answer.  After any error other than
 * EID_CLIENT_ERR_SERVER the connection is unusable: close it.  Two
 * EID_CLIENT_ERR_SERVER answers also end it, because the server closes
 * after them: an Error with code EID_SERVER_FRAME_TOO_LARGE, and any
 * Error with id 0 (a frame whose id the server could not read).  The
 * call that gets one returns EID_CLIENT_ERR_SERVER with the error; later
 * calls return EID_CLIENT_ERR_IO.
 */
enum eid_client_err eid_client_verify(struct eid_client *,
		    const struct eid_verify_req *, struct eid_verify_res *);
/*
 * n (1..EID_CLIENT_BATCH_MAX) verifications in one VerifyBatch; res has
 * n entries, in the order of reqs.
 */
enum eid_client_err eid_client_verify_batch(struct eid_client *,
		    const struct eid_verify_req *reqs, size_t n,
		    struct eid_verify_res *res);
enum eid_client_err eid_client_revoke(struct eid_client *,
		    const struct eid_revoke_req *, uint64_t *sequence);
enum eid_client_err eid_client_status(struct eid_client *,
		    struct eid_status *);
/*
 * n (1..1000) revocations in one durable transaction, all or none
 * (admins only); seqs (n entries) gets their sequence numbers.  The
 * request must also fit one frame of 64 KiB (else EID_CLIENT_ERR_USAGE,
 * nothing sent) and the server's limits.max_frame_bytes (else
 * EID_SERVER_FRAME_TOO_LARGE, which ends the connection), so long values
 * allow fewer.  eidctl and eid-load keep their batches under 65,000
 * bytes.
 */
enum eid_client_err eid_client_revoke_batch(struct eid_client *,
		    const struct eid_revoke_req *reqs, size_t n,
		    uint64_t *seqs);
/*
 * One page of the revocation list (admins only): up to max (1..1000)
 * entries of kind (0: every kind) that come after *after in (kind,
 * issuer, value) order (after NULL: from the start), into out (max
 * entries); *n gets how many, *more whether another page follows.
 */
enum eid_client_err eid_client_list_revocations(struct eid_client *,
		    int kind, const struct eid_revocation *after, size_t max,
		    struct eid_revocation *out, size_t *n, bool *more);

/*
 * Pipelining: queue requests with send (buffered, written when the
 * buffer fills or on flush), then read the answers in the same order
 * with recv.  Every send must be matched by one recv.
 */
enum eid_client_err eid_client_send_verify(struct eid_client *,
		    const struct eid_verify_req *);
enum eid_client_err eid_client_flush(struct eid_client *);
enum eid_client_err eid_client_recv_verify(struct eid_client *,
		    struct eid_verify_res *);

/* --- libevent flavour ------------------------------------------------ */

struct eid_aclient;

/*
 * Called once per verify answer, in request order.  err is
 * EID_CLIENT_OK with res filled, EID_CLIENT_ERR_SERVER with serr filled,
 * or a connection error (then res and serr are NULL, and every request
 * still pending, batches included, gets its callback with that error).
 * res and serr are borrowed: valid until the callback returns.
 */
typedef void	(*eid_aclient_verify_cb)(struct eid_aclient *,
		    enum eid_client_err err, const struct eid_verify_res *res,
		    const struct eid_server_error *serr, void *req_arg);

/*
 * Called once per VerifyBatch answer, in request order with every other
 * request of the connection; n is the number of items queued.  err is
 * EID_CLIENT_OK with res holding n results in the order of the items,
 * EID_CLIENT_ERR_SERVER with serr filled (the server answered the whole
 * batch with an Error, and res is NULL), or a connection error (res and
 * serr NULL, as for eid_aclient_verify_cb).  res and serr are borrowed:
 * valid until the callback returns.
 */
typedef void	(*eid_aclient_verify_batch_cb)(struct eid_aclient *,
		    enum eid_client_err err, const struct eid_verify_res *res,
		    size_t n, const struct eid_server_error *serr,
		    void *req_arg);

/* Called once when the connection is ready (err 0) or failed. */
typedef void	(*eid_aclient_ready_cb)(struct eid_aclient *,
		    enum eid_client_err err, const char *reason, void *arg);

/*
 * Start connecting on base; ready_cb reports the outcome.  Requests may
 * be queued before it is ready; they are sent after the handshake.  NULL
 * on allocation or usage failure, or when the TLS context cannot be
 * built: a certificate, key or CA file that cannot be read, or a key that
 * does not match the certificate (reason in err).  The server's host is
 * resolved with getaddrinfo() inside this call, which blocks the caller's
 * event loop until it is done; give a numeric address to avoid that (a
 * name that does not resolve is reported through ready_cb).  Each
 * connection reads cfg's files into a TLS context of its own (some
 * 2 ms); a program that opens many should share one (eid_client_tls_new,
 * below), or its first connections wait that long per later one before
 * their ClientHello goes out, and eidd pushes out handshakes that stay
 * quiet for a second when it is at limits.max_handshakes.
 */
struct eid_aclient *eid_aclient_new(struct event_base *,
		    const struct eid_client_config *, eid_aclient_ready_cb,
		    void *arg, char *err, size_t errlen);

/*
 * Queue one verify; the callback gets req_arg back.  Returns 0 or -1.
 * The request is encoded before the call returns; the requests queued in
 * one pass of the event loop are sent together at its end, as one TLS
 * record where they fit, so a pipeline refilled from one callback costs
 * the server one record, not one per request.
 */
int		 eid_aclient_verify(struct eid_aclient *,
		    const struct eid_verify_req *, eid_aclient_verify_cb,
		    void *req_arg);

/*
 * Queue one VerifyBatch of reqs[0..n-1], n 1..EID_CLIENT_BATCH_MAX: one
 * request frame and one answer, pipelined in order with every other
 * request; the callback gets req_arg back.  The items are encoded before
 * the call returns, so reqs and the strings they point to may be reused
 * at once.  Returns 0, or -1 for a bad argument, an item or a frame that
 * breaks a limit of eid.proto (nothing is queued then), out of memory or
 * a failed connection.
 */
int		 eid_aclient_verify_batch(struct eid_aclient *,
		    const struct eid_verify_req *reqs, size_t n,
		    eid_aclient_verify_batch_cb, void *req_arg);

/*
 * A TLS context for many connections: cfg's certificate, key and CA
 * files are read and checked once (some 2 ms of CPU), not once per
 * connection, and a pool's connections go out as fast as they are made.
 * It may be shared by connections in several threads, and freed before
 * them (each holds a reference).  NULL on failure, with the kind in
 * *errp (if not NULL) and the reason in err.
 */
struct eid_client_tls;
struct eid_client_tls *eid_client_tls_new(const struct eid_client_config *,
		    enum eid_client_err *errp, char *err, size_t errlen);
/* Accepts NULL. */
void		 eid_client_tls_free(struct eid_client_tls *);

/*
 * eid_aclient_new with a shared TLS context (tls NULL: one of its own);
 * cfg's server and timeout still apply, its files are not read again.
 */
struct eid_aclient *eid_aclient_new_tls(struct event_base *,
		    const struct eid_client_config *, struct eid_client_tls *,
		    eid_aclient_ready_cb, void *arg, char *err,
		    size_t errlen);

/* Requests sent whose answers have not arrived yet (a batch is one). */
size_t		 eid_aclient_pending(const struct eid_aclient *);

/* Close and free; pending callbacks are not called.  Accepts NULL. */
void		 eid_aclient_free(struct eid_aclient *);

#endif /* EID_CLIENT_H */
