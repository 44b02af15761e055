/*
 * client/wire.h -- the internal half of libeidclient that both flavours
 * share: frames, the Request encoders, the Response decoder, the TLS
 * context and "host:port" parsing.
 *
 * This header is the only way client.c and aclient.c reach the wire
 * format: the generated protobuf-c types stay inside wire.c, and no
 * ProtobufC* type appears here.  Nothing in it performs I/O; the callers
 * own their sockets and event loops.  Functions write a one-line reason to
 * (err, errlen) on failure; errlen may be 0.
 */
#ifndef EID_CLIENT_WIRE_H
#define EID_CLIENT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "eid/client.h"

#define WIRE_HDR_LEN		4	/* big-endian body length */
#define WIRE_FRAME_MAX		65536	/* largest body either side sends */
#define WIRE_BATCH_MAX		EID_CLIENT_BATCH_MAX	/* one VerifyBatch */
#define WIRE_REVOKE_BATCH_MAX	1000	/* items of one RevokeBatch */
#define WIRE_LIST_MAX		1000	/* entries of one revocation page */
#define WIRE_ALPN		"eid/1"
#define WIRE_TIMEOUT_DEFAULT_MS	30000
#define WIRE_HOST_MAX		256	/* host part of "host:port", with NUL */
#define WIRE_PORT_MAX		8	/* port part, with NUL */

/* A growable byte buffer: frames waiting to be written, or read. */
struct wire_buf {
	uint8_t		*data;
	size_t		 len;
	size_t		 cap;
};

void		 wire_buf_init(struct wire_buf *);
/* Free the storage; the buffer may be used again after init. */
void		 wire_buf_reset(struct wire_buf *);
/* Make room for "more" bytes after len; 0 or -1 (out of memory). */
int		 wire_buf_reserve(struct wire_buf *, size_t more);
/* Drop the first n (<= len) bytes. */
void		 wire_buf_consume(struct wire_buf *, size_t n);

/*
 * Request encoders.  Each appends one complete frame (header and body) to
 * buf, or leaves buf as it was.  Returns EID_CLIENT_OK, _ERR_USAGE for a
 * request that breaks a limit of eid.proto (token 1..EID_TOKEN_MAX bytes,
 * audience, nonce, value and reason lengths, level 0..2,
 * batch 1..WIRE_BATCH_MAX or 1..WIRE_REVOKE_BATCH_MAX, page size
 * 1..WIRE_LIST_MAX, frame size) or _ERR_NOMEM.
 */
enum eid_client_err wire_encode_verify(struct wire_buf *, uint64_t id,
		    const struct eid_verify_req *, char *err, size_t errlen);
enum eid_client_err wire_encode_verify_batch(struct wire_buf *, uint64_t id,
		    const struct eid_verify_req *, size_t n, char *err,
		    size_t errlen);
enum eid_client_err wire_encode_revoke(struct wire_buf *, uint64_t id,
		    const struct eid_revoke_req *, char *err, size_t errlen);
enum eid_client_err wire_encode_status(struct wire_buf *, uint64_t id,
		    char *err, size_t errlen);
/* RevokeBatch of n items, each checked as wire_encode_revoke does. */
enum eid_client_err wire_encode_revoke_batch(struct wire_buf *, uint64_t id,
		    const struct eid_revoke_req *, size_t n, char *err,
		    size_t errlen);
/*
 * ListRevocations: kind 0 (every kind) or an enum eid_revoke_kind, after
 * NULL (from the start) or the last entry of the previous page, max
 * 1..WIRE_LIST_MAX.
 */
enum eid_client_err wire_encode_list_revocations(struct wire_buf *,
		    uint64_t id, int kind, const struct eid_revocation *after,
		    size_t max, char *err, size_t errlen);

/*
 * Look at the start of received bytes.  Returns 1 when a whole frame is
 * there (*body_len set, the body starts at buf + WIRE_HDR_LEN), 0 when
 * more bytes are needed, -1 when the length is 0 or above WIRE_FRAME_MAX.
 */
int		 wire_frame_peek(const uint8_t *buf, size_t len,
		    size_t *body_len, char *err, size_t errlen);

/* The kinds of answer a request expects (the Response oneof). */
enum wire_body {
	WIRE_BODY_VERIFY = 2,
	WIRE_BODY_VERIFY_BATCH,
	WIRE_BODY_REVOKE,
	WIRE_BODY_STATUS,
	WIRE_BODY_REVOKE_BATCH = 7,	/* 6 is Error */
	WIRE_BODY_LIST_REVOCATIONS
};

/*
 * What wire_decode() should find and where to put it.  The caller sets
 * expect, id and the inputs that expect needs (res with nres entries for
 * VERIFY (1) and VERIFY_BATCH, status for STATUS, seqs with nseqs entries
 * for REVOKE_BATCH, and revs with maxrevs entries, list_kind and
 * list_after for LIST_REVOCATIONS); the rest is written by the decoder.
 */
struct wire_answer {
	enum wire_body	 expect;
	uint64_t	 id;		/* the oldest outstanding request */
	struct eid_verify_res *res;
	size_t		 nres;
	struct eid_status *status;	/* keys malloc'd: eid_status_clear */
	uint64_t	 sequence;	/* REVOKE */
	uint64_t	*seqs;		/* REVOKE_BATCH: exactly nseqs */
	size_t		 nseqs;
	/*
	 * LIST_REVOCATIONS: at most maxrevs entries of list_kind (0: any),
	 * each after the one before it and the first after list_after
	 * (NULL: from the start) in (kind, issuer, value) order.  The
	 * order is checked so that paging always moves forward.
	 */
	struct eid_revocation *revs;
	size_t		 maxrevs;
	int		 list_kind;
	const struct eid_revocation *list_after;
	size_t		 nrevs;		/* out: entries in revs */
	bool		 more;		/* out: a page follows */
	struct eid_server_error serr;	/* after EID_CLIENT_ERR_SERVER */
	bool		 closing;	/* an Error with id 0: server closes */
};

/*
 * Decode one Response body.  Returns EID_CLIENT_OK (outputs filled),
 * EID_CLIENT_ERR_SERVER (an Error answered this request, or one with id 0
 * that the server sends before closing; ans->serr filled),
 * EID_CLIENT_ERR_PROTOCOL (unparsable, another id, another body, a value
 * out of range or a string too long for its field) or _ERR_NOMEM.  On any
 * return other than OK the outputs are zeroed and nothing is allocated.
 */
enum eid_client_err wire_decode(const uint8_t *body, size_t len,
		    struct wire_answer *, char *err, size_t errlen);

/*
 * A TLS client context for cfg: TLS 1.2 minimum (ECDHE with AEAD only),
 * the client certificate chain and key, the server verified against
 * cfg->ca and nothing else, ALPN "eid/1".  NULL on failure (reason in
 * err).  Free with SSL_CTX_free().
 */
SSL_CTX		*wire_tls_ctx_new(const struct eid_client_config *,
		    enum eid_client_err *errp, char *err, size_t errlen);

/* Pin the server's name or address (and SNI for names) on ssl; 0 or -1. */
int		 wire_tls_set_peer(SSL *, const char *host, char *err,
		    size_t errlen);

/* True when the handshake selected ALPN "eid/1". */
bool		 wire_tls_alpn_is_ok(const SSL *);

/*
 * Write "what: " and the drained OpenSSL error queue (and a certificate
 * verification failure of ssl, which may be NULL) to err.
 */
void		 wire_tls_error(char *err, size_t errlen, const char *what,
		    const SSL *ssl);

/*
 * Split "host:port", "[v6addr]:port" or "host" (port 7443) into host and
 * port.  0 or -1 on a malformed string.
 */
int		 wire_parse_hostport(const char *, char *host, size_t hostlen,
		    char *port, size_t portlen);

/* True when host is a numeric IPv4 or IPv6 address. */
bool		 wire_host_is_ip(const char *host);

/* snprintf into err unless errlen is 0. */
void		 wire_errf(char *err, size_t errlen, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

#endif /* EID_CLIENT_WIRE_H */
