/*
 * daemon/snap.c -- the snapshot a reload replaces as a whole: the parsed
 * configuration, the key set built from its issuers, and the principal
 * map.  A snapshot is immutable and reference-counted; workers hold one
 * while they use it, so a reload (SIGHUP) never changes anything under a
 * request in flight, and a failed reload leaves the old one in force.
 *
 * Principals are matched on the full subject DN of a client certificate
 * that OpenSSL has already validated against tls.client_ca: the same
 * attributes in the same order with exactly the same values (as UTF-8,
 * whatever ASN.1 string type carries them), never a printed string, and
 * not X509_NAME_cmp(), whose canonical form folds case and spaces: a CA
 * that issued "CN=ADMIN " to someone must not have made them "admin".
 * Two principals whose subjects are equal even under that folding are
 * refused at load, so no certificate can be ambiguous.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "eidd.h"

/* "/C=VN/O=Org/CN=name" to an X509_NAME; NULL if malformed. */
static X509_NAME *
snap_parse_dn(const char *s)
{
	X509_NAME	*n;
	char		*copy, *p, *next, *eq;

	if (s[0] != '/' || (n = X509_NAME_new()) == NULL)
		return NULL;
	if ((copy = strdup(s + 1)) == NULL) {
		X509_NAME_free(n);
		return NULL;
	}
	for (p = copy; p != NULL; p = next) {
		if ((next = strchr(p, '/')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(p, '=')) == NULL || eq == p || eq[1] == '\0')
			goto fail;
		*eq = '\0';
		if (X509_NAME_add_entry_by_txt(n, p, MBSTRING_UTF8,
		    (const unsigned char *)eq + 1, -1, -1, 0) != 1)
			goto fail;
	}
	free(copy);
	return n;
fail:
	free(copy);
	X509_NAME_free(n);
	return NULL;
}

static int
snap_keys(struct snap *s, int64_t now, char *err, size_t errlen)
{
	struct eid_keyset_builder	*b;
	const struct cfg_issuer		*is;
	char				 e[512];
	size_t				 i, j;
	int				 rc = -1;

	if ((b = eid_keyset_builder_new(now)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < s->cfg->nissuers; i++) {
		is = &s->cfg->issuers[i];
		for (j = 0; j < is->nanchors; j++)
			if (eid_keyset_add_anchors_file(b, is->iss,
			    is->anchors[j], e, sizeof(e)) != EID_OK) {
				snprintf(err, errlen, "%s:%d: issuers.anchors: "
				    "%s: %s", s->cfg->path, is->line,
				    is->anchors[j], e);
				goto out;
			}
		for (j = 0; j < is->ncerts; j++)
			if (eid_keyset_add_cert_file(b, is->iss,
			    is->certs[j].file, is->certs[j].alg, e,
			    sizeof(e)) != EID_OK) {
				snprintf(err, errlen, "%s:%d: "
				    "issuers.certificates: %s: %s",
				    s->cfg->path, is->line, is->certs[j].file,
				    e);
				goto out;
			}
		for (j = 0; j < is->njwks; j++)
			if (eid_keyset_add_jwks_file(b, is->iss, is->jwks[j],
			    e, sizeof(e)) != EID_OK) {
				snprintf(err, errlen, "%s:%d: issuers.jwks: "
				    "%s: %s", s->cfg->path, is->line,
				    is->jwks[j], e);
				goto out;
			}
	}
	if (eid_keyset_build(b, &s->ks, e, sizeof(e)) != EID_OK) {
		snprintf(err, errlen, "%s: issuers: %s", s->cfg->path, e);
		goto out;
	}
	rc = 0;
out:
	eid_keyset_builder_free(b);
	return rc;
}

struct snap *
snap_build(struct cfg *cfg, uint64_t gen, int64_t now, char *err,
    size_t errlen)
{
	struct snap	*s;
	size_t		 i, j;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&s->refs, 1);
	s->gen = gen;
	s->cfg = cfg;
	s->policy.leeway_s = cfg->leeway_s;
	s->policy.max_lifetime_s = cfg->max_lifetime_s;
	if (snap_keys(s, now, err, errlen) != 0)
		goto fail;
	/*
	 * A new TLS context with every reload: a client CA removed from
	 * tls.client_ca stops authenticating new connections at once.
	 * Connections keep the context they were accepted with (SSL_new
	 * holds a reference).
	 */
	if ((s->ssl_ctx = tls_ctx_new(cfg, TLS_MODE_API, err, errlen)) ==
	    NULL || (cfg->http_listen[0] != '\0' && (s->http_ctx =
	    tls_ctx_new(cfg, TLS_MODE_HTTP, err, errlen)) == NULL))
		goto fail;
	if ((s->principals = calloc(cfg->nprincipals,
	    sizeof(*s->principals))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < cfg->nprincipals; i++) {
		s->principals[i].cp = &cfg->principals[i];
		s->principals[i].slot = -1;
		s->nprincipals++;
		if ((s->principals[i].name = snap_parse_dn(
		    cfg->principals[i].subject)) == NULL) {
			snprintf(err, errlen, "%s:%d: principals.subject: %s: "
			    "not a DN of the form /C=VN/O=.../CN=...",
			    cfg->path, cfg->principals[i].line,
			    cfg->principals[i].subject);
			goto fail;
		}
		for (j = 0; j < i; j++)
			if (X509_NAME_cmp(s->principals[j].name,
			    s->principals[i].name) == 0) {
				snprintf(err, errlen, "%s:%d: principals.subject: "
				    "%s: the same name as principal %s up to "
				    "case and spaces", cfg->path,
				    cfg->principals[i].line,
				    cfg->principals[i].subject,
				    cfg->principals[j].name);
				goto fail;
			}
	}
	return s;
fail:
	/* The caller still owns cfg when the build fails. */
	s->cfg = NULL;
	snap_unref(s);
	return NULL;
}

struct snap *
snap_ref(struct snap *s)
{
	if (s != NULL)
		atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void
snap_unref(struct snap *s)
{
	size_t	 i;

	if (s == NULL || atomic_fetch_sub_explicit(&s->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	for (i = 0; i < s->nprincipals; i++)
		X509_NAME_free(s->principals[i].name);
	free(s->principals);
	eid_keyset_unref(s->ks);
	tls_ctx_free(s->ssl_ctx);
	tls_ctx_free(s->http_ctx);
	cfg_free(s->cfg);
	free(s);
}

/* One attribute value as UTF-8 bytes; *out is OPENSSL_free'd. */
static int
snap_entry_utf8(const X509_NAME *n, int i, unsigned char **out)
{
	const X509_NAME_ENTRY	*e = X509_NAME_get_entry(n, i);

	*out = NULL;
	if (e == NULL)
		return -1;
	return ASN1_STRING_to_UTF8(out, X509_NAME_ENTRY_get_data(e));
}

static bool
snap_name_equal(const X509_NAME *a, const X509_NAME *b)
{
	unsigned char	*ua, *ub;
	int		 i, n = X509_NAME_entry_count(a), la, lb;
	bool		 eq;

	if (n != X509_NAME_entry_count(b))
		return false;
	for (i = 0; i < n; i++) {
		if (OBJ_cmp(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(a,
		    i)), X509_NAME_ENTRY_get_object(X509_NAME_get_entry(b,
		    i))) != 0)
			return false;
		la = snap_entry_utf8(a, i, &ua);
		lb = snap_entry_utf8(b, i, &ub);
		eq = la >= 0 && la == lb && memcmp(ua, ub, (size_t)la) == 0;
		OPENSSL_free(ua);
		OPENSSL_free(ub);
		if (!eq)
			return false;
	}
	return true;
}

const struct principal *
snap_principal(const struct snap *s, struct x509_st *peer)
{
	const X509_NAME	*subj;
	size_t		 i;

	if (s == NULL || peer == NULL ||
	    (subj = X509_get_subject_name(peer)) == NULL)
		return NULL;
	for (i = 0; i < s->nprincipals; i++)
		if (snap_name_equal(subj, s->principals[i].name))
			return &s->principals[i];
	return NULL;
}

bool
snap_may_verify(const struct principal *p, const char *aud)
{
	size_t	 i;

	if (p == NULL || aud == NULL)
		return false;
	for (i = 0; i < p->cp->naudiences; i++)
		if (strcmp(p->cp->audiences[i], aud) == 0)
			return true;
	return false;
}
