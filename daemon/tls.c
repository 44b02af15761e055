/*
 * daemon/tls.c -- the server's TLS policy and the protobuf API's TLS I/O:
 * the only file that calls OpenSSL's SSL layer.  conn.c drives its
 * connections through tls_handshake/tls_read/tls_write on non-blocking
 * sockets; the HTTP gateway uses libevent's OpenSSL bufferevents.
 *
 * TLS 1.3 only unless tls.allow_tls12 (then ECDHE with AEAD suites only);
 * mutual TLS required, client certificates validated against
 * tls.client_ca alone with the TLS-client purpose and strict X.509
 * checks; ALPN eid/1 enforced twice, in the selection callback and after
 * the handshake, because the callback is not called when a client sends
 * no ALPN at all (SECURITY.md 4.1); no renegotiation, no compression, no
 * early data; security level 2.  No session resumption, neither tickets
 * nor a cache: a resumed TLS 1.3 session carries the verify result of the
 * first handshake, so a client certificate that has since expired (or a
 * client CA removed by a reload) would keep authenticating.  Clients keep
 * their connections open instead (docs/adr/0006-tls-no-resumption.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "eidd.h"

#define TLS_VERIFY_DEPTH	4
#define TLS_MAX_CERT_LIST	(32 * 1024)

static const char tls12_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

const char *
tls_errors(char *buf, size_t len)
{
	unsigned long	 e;
	size_t		 o = 0;
	char		 one[256];

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, one, sizeof(one));
		if (o + strlen(one) + 2 < len) {
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
			    o ? "; " : "", one);
		}
	}
	if (o == 0)
		snprintf(buf, len, "no OpenSSL error");
	return buf;
}

const char *
tls_reason(unsigned long e)
{
	const char	*r = ERR_reason_error_string(e);

	return r != NULL ? r : "unknown";
}

const char *
tls_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}

/* Pick eid/1 or end the handshake with no_application_protocol. */
static int
tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned int	 i = 0;

	(void)ssl;
	(void)arg;
	while (i < inlen) {
		unsigned int n = in[i];

		if (n == 0 || i + 1 + n > inlen)
			break;
		if (n == sizeof(EIDD_ALPN) - 1 &&
		    memcmp(in + i + 1, EIDD_ALPN, n) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* A daemon never prompts: an encrypted key is an error. */
static int
tls_no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf;
	(void)size;
	(void)rw;
	(void)u;
	return -1;
}

/*
 * Load tls.key into ctx from one descriptor, checked as cfg.c checks the
 * path (cfg_secret_ok), so that a file swapped in after that check is
 * not the one read.  0, or -1 with err.
 */
static int
tls_use_key(SSL_CTX *ctx, const struct cfg *c, char *err, size_t errlen)
{
	EVP_PKEY	*pk = NULL;
	struct stat	 st;
	BIO		*b;
	char		 why[256], ebuf[512];
	int		 fd;

	if ((fd = open(c->tls_key, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "tls.key: %s: %s", c->tls_key,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "tls.key: %s: not a regular file",
		    c->tls_key);
		close(fd);
		return -1;
	}
	if (cfg_secret_ok(&st, c->user, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "tls.key: %s: %s", c->tls_key, why);
		close(fd);
		return -1;
	}
	if ((b = BIO_new_fd(fd, BIO_CLOSE)) == NULL) {
		close(fd);
		goto fail;
	}
	pk = PEM_read_bio_PrivateKey(b, NULL, tls_no_passphrase, NULL);
	BIO_free(b);
	if (pk == NULL || SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	EVP_PKEY_free(pk);
	return 0;
fail:
	snprintf(err, errlen, "tls.key: %s: %s", c->tls_key,
	    tls_errors(ebuf, sizeof(ebuf)));
	EVP_PKEY_free(pk);
	return -1;
}

struct ssl_ctx_st *
tls_ctx_new(const struct cfg *c, enum tls_mode mode, char *err,
    size_t errlen)
{
	static const unsigned char sid_ctx[] = "eidd";
	SSL_CTX			*ctx;
	STACK_OF(X509_NAME)	*cas;
	X509_VERIFY_PARAM	*vp;
	char			 ebuf[512];

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, c->tls12 ? TLS1_2_VERSION :
	    TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		goto fail;
	if (c->tls12 && SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1)
		goto fail;
	if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1)
		goto fail;
	SSL_CTX_set_security_level(ctx, 2);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_max_early_data(ctx, 0);
	SSL_CTX_set_max_cert_list(ctx, TLS_MAX_CERT_LIST);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
		snprintf(err, errlen, "tls.certificate: %s: %s", c->tls_cert,
		    tls_errors(ebuf, sizeof(ebuf)));
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (tls_use_key(ctx, c, err, errlen) != 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* The configured client CA only: never the system's trust store. */
	if (SSL_CTX_load_verify_locations(ctx, c->tls_client_ca, NULL) != 1 ||
	    (cas = SSL_load_client_CA_file(c->tls_client_ca)) == NULL) {
		snprintf(err, errlen, "tls.client_ca: %s: %s",
		    c->tls_client_ca, tls_errors(ebuf, sizeof(ebuf)));
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_client_CA_list(ctx, cas);
	/*
	 * The gateway may let monitoring in without a certificate; then a
	 * presented one is still verified, and every other path refuses a
	 * connection without one (http.c).
	 */
	SSL_CTX_set_verify(ctx, mode == TLS_MODE_HTTP && !c->http_require_cert ?
	    SSL_VERIFY_PEER : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
	    NULL);
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);
	vp = SSL_CTX_get0_param(ctx);
	if (X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_CLIENT) != 1 ||
	    X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT) != 1)
		goto fail;
	/* No resumption; the id context is still set, as OpenSSL expects. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_num_tickets(ctx, 0) != 1)
		goto fail;
	if (SSL_CTX_set_session_id_context(ctx, sid_ctx,
	    sizeof(sid_ctx) - 1) != 1)
		goto fail;
	if (mode == TLS_MODE_API)
		SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_cb, NULL);
	else if (SSL_CTX_set_session_id_context(ctx, (const unsigned char *)
	    "eidd-http", 9) != 1)
		goto fail;
	return ctx;
fail:
	snprintf(err, errlen, "TLS setup: %s", tls_errors(ebuf, sizeof(ebuf)));
	SSL_CTX_free(ctx);
	return NULL;
}

void
tls_ctx_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);
}

struct ssl_st *
tls_ssl_new(struct ssl_ctx_st *ctx)
{
	ERR_clear_error();
	return SSL_new(ctx);
}

struct x509_st *
tls_peer(struct ssl_st *ssl, char *err, size_t errlen)
{
	const unsigned char	*alpn = NULL;
	unsigned int		 alpnlen = 0;
	X509			*peer;
	long			 vr;

	SSL_get0_alpn_selected(ssl, &alpn, &alpnlen);
	if (alpnlen != sizeof(EIDD_ALPN) - 1 ||
	    memcmp(alpn, EIDD_ALPN, alpnlen) != 0) {
		snprintf(err, errlen, "no ALPN %s", EIDD_ALPN);
		return NULL;
	}
	if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(err, errlen, "client certificate: %s",
		    X509_verify_cert_error_string(vr));
		return NULL;
	}
	/* Never a resumed session (none are offered), but never trust one. */
	if (SSL_session_reused(ssl)) {
		snprintf(err, errlen, "resumed session");
		return NULL;
	}
	/* The principal is mapped from it with the current snapshot. */
	if ((peer = SSL_get1_peer_certificate(ssl)) == NULL) {
		snprintf(err, errlen, "no client certificate");
		return NULL;
	}
	return peer;
}

/*
 * A server-side SSL object on fd for the protobuf API.  Read-ahead lets
 * one read(2) take every record a pipelining client has sent instead of
 * two per record (header, then body); conn.c drains what OpenSSL has
 * buffered (tls_pending) before it waits for the socket again.  Partial
 * writes with a moving buffer let conn.c hand SSL_write whatever its
 * output holds and keep the rest.
 */
struct ssl_st *
tls_ssl_accept(struct ssl_ctx_st *ctx, int fd)
{
	SSL	*ssl;

	ERR_clear_error();
	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_accept_state(ssl);
	SSL_set_read_ahead(ssl, 1);
	/*
	 * A peer that closes TCP without a close_notify is an EOF, not a
	 * failure that would also fail our answers to what it sent: frames
	 * carry their length, so truncation shows without TLS's help.
	 */
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ssl;
}

/*
 * What an SSL call's return value r means.  A close_notify is EOF, and so
 * is a peer that closed TCP without one (SSL_OP_IGNORE_UNEXPECTED_EOF).
 * Any other failure leaves its reason in the error queue for
 * tls_errors().
 */
static enum tls_io
tls_io_result(SSL *ssl, int r)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return TLS_IO_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_IO_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return TLS_IO_EOF;
	default:
		return TLS_IO_ERROR;
	}
}

enum tls_io
tls_handshake(struct ssl_st *ssl)
{
	int	 r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(ssl)) == 1)
		return TLS_IO_OK;
	return tls_io_result(ssl, r);
}

enum tls_io
tls_read(struct ssl_st *ssl, void *buf, size_t len, size_t *n)
{
	int	 r;

	*n = 0;
	if (len > INT_MAX)
		len = INT_MAX;
	/* SSL_get_error() reads the queue: nothing stale may be in it. */
	ERR_clear_error();
	if ((r = SSL_read(ssl, buf, (int)len)) > 0) {
		*n = (size_t)r;
		return TLS_IO_OK;
	}
	return tls_io_result(ssl, r);
}

enum tls_io
tls_write(struct ssl_st *ssl, const void *buf, size_t len, size_t *n)
{
	int	 r;

	*n = 0;
	if (len > INT_MAX)
		len = INT_MAX;
	ERR_clear_error();
	if ((r = SSL_write(ssl, buf, (int)len)) > 0) {
		*n = (size_t)r;
		return TLS_IO_OK;
	}
	return tls_io_result(ssl, r);
}

bool
tls_pending(struct ssl_st *ssl)
{
	return SSL_has_pending(ssl) == 1;
}

/* Bytes this side has written to the socket so far. */
uint64_t
tls_written(struct ssl_st *ssl)
{
	BIO	*b = SSL_get_wbio(ssl);

	return b != NULL ? BIO_number_written(b) : 0;
}

/* One non-blocking attempt at a close_notify; the socket closes anyway. */
void
tls_close_notify(struct ssl_st *ssl)
{
	ERR_clear_error();
	(void)SSL_shutdown(ssl);
	ERR_clear_error();
}

void
tls_x509_free(struct x509_st *x)
{
	X509_free(x);
}

void
tls_ssl_free(struct ssl_st *ssl)
{
	SSL_free(ssl);
}

/* What tls_ssl_attach() hangs on an SSL object. */
struct tls_attach {
	void	*data;
	void	(*gone)(void *);
};

static int tls_attach_idx = -1;

static void
tls_attach_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct tls_attach	*a = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (a != NULL) {
		a->gone(a->data);
		free(a);
	}
}

int
tls_ssl_attach(struct ssl_st *ssl, void *data, void (*gone)(void *))
{
	struct tls_attach	*a;

	/* Created before the first connection, from the startup thread. */
	if (tls_attach_idx < 0)
		return -1;
	if ((a = malloc(sizeof(*a))) == NULL)
		return -1;
	a->data = data;
	a->gone = gone;
	if (SSL_set_ex_data(ssl, tls_attach_idx, a) != 1) {
		free(a);
		return -1;
	}
	return 0;
}

void *
tls_ssl_attached(struct ssl_st *ssl)
{
	struct tls_attach	*a;

	if (ssl == NULL || tls_attach_idx < 0 ||
	    (a = SSL_get_ex_data(ssl, tls_attach_idx)) == NULL)
		return NULL;
	return a->data;
}

void
tls_init(void)
{
	if (tls_attach_idx < 0)
		tls_attach_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    tls_attach_free);
	if (tls_attach_idx < 0)
		fatalx("startup", "error=\"SSL_get_ex_new_index\"");
}

struct x509_st *
tls_http_peer(struct ssl_st *ssl)
{
	if (ssl == NULL || SSL_session_reused(ssl) ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		return NULL;
	return SSL_get1_peer_certificate(ssl);
}

const char *
tls_subject(struct x509_st *x, char *buf, size_t len)
{
	if (x == NULL || X509_NAME_oneline(X509_get_subject_name(x), buf,
	    (int)len) == NULL)
		snprintf(buf, len, "-");
	return buf;
}
