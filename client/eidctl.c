/*
 * client/eidctl.c -- eidctl, the command-line client of eidd: verify
 * tokens (one, or a stream from stdin pipelined 256 deep), revoke (one,
 * or a file of them in batches), list the revocations, and show the
 * server's status, for people and for scripts.
 *
 * It uses only the blocking flavour of libeidclient and jansson; it never
 * includes libevent or the wire format.  Scripts rely on its output and
 * exit status: one line per token in input order starting with the
 * verdict name, 0 when everything verified is OK, 1 when a token was
 * refused, 2 on any error.  Strings from the server are escaped before
 * they reach a terminal, and personal identification numbers are masked
 * in the one-line-per-token output.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "eid/client.h"
#include "eid/verify.h"

#define CTL_WINDOW	256	/* verifications in flight from stdin */
#define CTL_IMPORT_BATCH 500	/* revocations per RevokeBatch, at most */
/*
 * Bytes of one RevokeBatch request on the wire, at most: eidd's default
 * limits.max_frame_bytes (65536) less room for the id and the oneof's
 * header.
 */
#define CTL_IMPORT_FRAME 65000
/* The most one RevokeRequest adds to a batch besides its three strings. */
#define CTL_IMPORT_ITEM	40
#define CTL_IMPORT_ERRORS 20	/* bad lines reported, at most */
#define CTL_LIST_PAGE	1000	/* revocations asked for per page */
#define CTL_REASON_MAX	256	/* bytes of a revocation reason */
#define CTL_EXIT_OK	0
#define CTL_EXIT_REJECT	1
#define CTL_EXIT_ERROR	2

#define CTL_DEV_CERT	"certs/dev/rp-dichvucong.crt"
#define CTL_DEV_KEY	"certs/dev/rp-dichvucong.key"
#define CTL_DEV_CA	"certs/dev/ca.pem"

struct ctl {
	struct eid_client_config cfg;
	bool		 json;
	bool		 rejected;	/* a verdict other than OK */
	bool		 failed;	/* an error was reported */
};

/* One line of stdin, in input order: a request in flight or an error. */
struct ctl_slot {
	unsigned long	 line;
	bool		 sent;
	const char	*code;		/* when !sent */
	char		 msg[160];
};

static int	 ctl_bad_usage(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

struct ctl_queue {
	struct ctl_slot	*s;
	size_t		 cap;
	size_t		 head;
	size_t		 len;
	size_t		 inflight;
};

static void
ctl_usage(FILE *f)
{
	fprintf(f,
"usage: eidctl [--server HOST:PORT] [--cert FILE --key FILE --ca FILE]\n"
"              [--json] [--timeout MS] COMMAND ...\n"
"\n"
"commands:\n"
"  verify [--audience A] [--min-level N] [--consume] [--nonce N] TOKEN|-\n"
"        verify one token, or with - one token per line of stdin\n"
"        (pipelined); each result line starts with the verdict name\n"
"  revoke token|subject|key VALUE [--reason R] [--issuer I]\n"
"        [--before UNIXTIME] [--expires UNIXTIME]\n"
"        revoke (admin certificate needed); prints the sequence number\n"
"  revocations import FILE|-\n"
"        revoke in bulk (admin): one JSON object per line, e.g.\n"
"        {\"kind\":\"subject\",\"value\":\"001234567345\",\"issuer\":\"I\",\n"
"        \"issued_before\":T,\"expires_at\":T,\"reason\":\"R\"};\n"
"        kind and value required, empty and # lines skipped.  The whole\n"
"        file is checked"
" before anything is sent, then sent in batches\n"
"        of up to 500\n"
"  revocations list [--kind token|subject|key]\n"
"        every recorded revocation (admin), one per line\n"
"  status\n"
"        server version, counters and keys\n"
"\n"
"defaults: --server from EID_SERVER, else 127.0.0.1:7443; --cert, --key\n"
"and --ca from EID_CERT, EID_KEY and EID_CA, else the development files\n"
CTL_DEV_CERT ", " CTL_DEV_KEY " and " CTL_DEV_CA "\n"
"when they exist (relative to the current directory).\n"
"\n"
"exit status: 0 all verified tokens OK (or the other command done), 1 a\n"
"token was refused, 2 any error.\n");
}

/* --- output helpers ------------------------------------------------------ */

/*
 * Print a server string with control bytes and backslashes made visible
 * so that it cannot forge lines; in a key=value field (kv) also spaces
 * and quotes, so that it cannot forge fields.
 */
static void
ctl_put_escaped(const char *s, bool kv)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\' ||
		    (kv && (*p == ' ' || *p == '"')))
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

/* "001******345": the first and last three digits only. */
static void
ctl_put_masked(const char *sub)
{
	char	 m[EID_PIN_LEN + 1];
	size_t	 n = strlen(sub), i;

	if (n >= sizeof(m))
		n = sizeof(m) - 1;
	for (i = 0; i < n; i++)
		m[i] = (n > 6 && (i < 3 || i >= n - 3)) ? sub[i] : '*';
	m[n] = '\0';
	ctl_put_escaped(m, true);
}

static const char *
ctl_gender_name(enum eid_gender g)
{
	switch (g) {
	case EID_GENDER_MALE:
		return "MALE";
	case EID_GENDER_FEMALE:
		return "FEMALE";
	default:
		return "UNSET";
	}
}

static const char *
ctl_err_code(enum eid_client_err e)
{
	static const char *const names[] = {
		"ok", "usage", "nomem", "connect", "tls", "io", "timeout",
		"protocol", "server"
	};

	if ((size_t)e >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[e];
}

static void
ctl_time(char *buf, size_t len, int64_t t)
{
	struct tm	 tm;
	time_t		 tt;

	if (t <= 0 || t == INT64_MAX || t > (int64_t)253402300799LL) {
		snprintf(buf, len, "-");
		return;
	}
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

/* Emit one JSON object as a line; false if it could not be built. */
static bool
ctl_json_line(json_t *o)
{
	if (o == NULL)
		return false;
	(void)json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
	return true;
}

/*
 * Report an error: "eidctl: message" on stderr, and with --json an error
 * object on stdout so that a stream of results keeps one line per input.
 */
static void
ctl_error(struct ctl *ctl, const char *code, const char *msg, bool line)
{
	json_t	*o;

	ctl->failed = true;
	fprintf(stderr, "eidctl: %s\n", msg);
	if (ctl->json) {
		o = json_pack("{s:{s:s,s:s%}}", "error", "code", code,
		    "message", msg, strlen(msg));
		if (!ctl_json_line(o))
			ctl_json_line(json_pack("{s:{s:s,s:s}}", "error",
			    "code", code, "message", "(not UTF-8)"));
	} else if (line)
		printf("ERROR code=%s\n", code);
	(void)fflush(stdout);
}

/* The message and short code of a library error on c. */
static const char *
ctl_client_msg(struct eid_client *c, enum eid_client_err e, char *msg,
    size_t len)
{
	const struct eid_server_error	*se;

	if (e == EID_CLIENT_ERR_SERVER &&
	    (se = eid_client_server_error(c)) != NULL) {
		snprintf(msg, len, "server refused: %s: %s",
		    eid_server_code_name(se->code), se->message);
		return eid_server_code_name(se->code);
	}
	snprintf(msg, len, "%s: %s", eid_client_strerror(e),
	    eid_client_last_error(c));
	return ctl_err_code(e);
}

/* A library error; lineno is the input line (0: none, no result line). */
static void
ctl_client_error(struct ctl *ctl, struct eid_client *c, enum eid_client_err e,
    unsigned long lineno)
{
	const char	*code;
	char		 where[32] = "", what[640], msg[700];

	if (lineno != 0)
		snprintf(where, sizeof(where), "line %lu: ", lineno);
	code = ctl_client_msg(c, e, what, sizeof(what));
	snprintf(msg, sizeof(msg), "%s%s", where, what);
	ctl_error(ctl, code, msg, lineno != 0);
}

static json_t *
ctl_json_result(const struct eid_verify_res *r)
{
	json_t	*o, *id;

	o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:s,s:s}",
	    "verdict", eid_verdict_name(r->verdict),
	    "token_id", r->token_id,
	    "issuer", r->issuer,
	    "key_id", r->key_id,
	    "cached", r->cached ? 1 : 0,
	    "issued_at", (json_int_t)r->issued_at,
	    "expires_at", (json_int_t)r->expires_at,
	    "not_before", (json_int_t)r->not_before,
	    "algorithm", r->algorithm,
	    "audience", r->audience);
	if (o == NULL || r->verdict != EID_VERDICT_OK)
		return o;
	id = json_pack("{s:s,s:s,s:s,s:s,s:i}", "sub", r->sub, "name",
	    r->name, "birthdate", r->birthdate, "gender",
	    ctl_gender_name(r->gender), "level", r->level);
	if (id == NULL || json_object_set_new(o, "identity", id) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The one-line form: verdict, then a few fields. */
static void
ctl_print_line(const struct eid_verify_res *r)
{
	fputs(eid_verdict_name(r->verdict), stdout);
	if (r->verdict == EID_VERDICT_OK) {
		fputs(" sub=", stdout);
		ctl_put_masked(r->sub);
		printf(" level=%d", r->level);
	}
	if (r->token_id[0] != '\0') {
		fputs(" token_id=", stdout);
		ctl_put_escaped(r->token_id, true);
	}
	printf(" cached=%s\n", r->cached ? "yes" : "no");
}

static void
ctl_print_field(const char *name, const char *value)
{
	if (value[0] == '\0')
		return;
	printf("  %-11s ", name);
	ctl_put_escaped(value, false);
	putchar('\n');
}

static void
ctl_print_detail(const struct eid_verify_res *r)
{
	char	 t[32];

	printf("%s\n", eid_verdict_name(r->verdict));
	if (r->verdict == EID_VERDICT_OK) {
		ctl_print_field("sub", r->sub);
		ctl_print_field("name", r->name);
		ctl_print_field("birthdate", r->birthdate);
		printf("  %-11s %s\n", "gender", ctl_gender_name(r->gender));
		printf("  %-11s %d\n", "level", r->level);
	}
	ctl_print_field("token_id", r->token_id);
	ctl_print_field("issuer", r->issuer);
	ctl_print_field("key_id", r->key_id);
	ctl_print_field("algorithm", r->algorithm);
	ctl_print_field("audience", r->audience);
	if (r->issued_at != 0) {
		ctl_time(t, sizeof(t), r->issued_at);
		printf("  %-11s %s\n", "issued_at", t);
	}
	if (r->not_before != 0) {
		ctl_time(t, sizeof(t), r->not_before);
		printf("  %-11s %s\n", "not_before", t);
	}
	if (r->expires_at != 0) {
		ctl_time(t, sizeof(t), r->expires_at);
		printf("  %-11s %s\n", "expires_at", t);
	}
	printf("  %-11s %s\n", "cached", r->cached ? "yes" : "no");
}

static void
ctl_print_result(struct ctl *ctl, const struct eid_verify_res *r,
    bool detail)
{
	if (r->verdict != EID_VERDICT_OK)
		ctl->rejected = true;
	if (ctl->json) {
		if (!ctl_json_line(ctl_json_result(r)))
			ctl_error(ctl, "protocol", "server sent a string that "
			    "is not UTF-8", true);
	} else if (detail)
		ctl_print_detail(r);
	else
		ctl_print_line(r);
}

/* --- argument parsing ---------------------------------------------------- */

/*
 * Match "--name VALUE" or "--name=VALUE" at argv[*i].  Returns 1 (matched,
 * *val set, *i on the value), 0 (another argument) or -1 (value missing).
 */
static int
ctl_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char	*a = argv[*i];
	size_t		 n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

static int
ctl_number(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
ctl_bad_usage(const char *fmt, ...)
{
	va_list	 ap;

	fputs("eidctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	ctl_usage(stderr);
	return CTL_EXIT_ERROR;
}

static struct eid_client *
ctl_connect(struct ctl *ctl)
{
	struct eid_client	*c;
	enum eid_client_err	 e;
	char			 err[512], msg[600];

	c = eid_client_connect(&ctl->cfg, &e, err, sizeof(err));
	if (c == NULL) {
		snprintf(msg, sizeof(msg), "%s: %s", eid_client_strerror(e),
		    err);
		ctl_error(ctl, ctl_err_code(e), msg, false);
	}
	return c;
}

static int
ctl_exit(const struct ctl *ctl)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "eidctl: cannot write output\n");
		return CTL_EXIT_ERROR;
	}
	if (ctl->failed)
		return CTL_EXIT_ERROR;
	return ctl->rejected ? CTL_EXIT_REJECT : CTL_EXIT_OK;
}

/* --- verify -------------------------------------------------------------- */

static struct ctl_slot *
ctl_queue_push(struct ctl_queue *q)
{
	struct ctl_slot	*s;
	size_t		 cap, i;

	if (q->len == q->cap) {
		cap = q->cap != 0 ? q->cap * 2 : CTL_WINDOW * 2;
		if ((s = calloc(cap, sizeof(*s))) == NULL)
			return NULL;
		for (i = 0; i < q->len; i++)
			s[i] = q->s[(q->head + i) % q->cap];
		free(q->s);
		q->s = s;
		q->cap = cap;
		q->head = 0;
	}
	s = &q->s[(q->head + q->len) % q->cap];
	memset(s, 0, sizeof(*s));
	q->len++;
	return s;
}

/*
 * Settle the oldest slot: print its error, or receive and print its
 * answer.  -1 when the connection failed (already reported).
 */
static int
ctl_queue_pop(struct ctl *ctl, struct ctl_queue *q, struct eid_client *c)
{
	struct eid_verify_res	 res;
	struct ctl_slot		 s;
	enum eid_client_err	 e;

	s = q->s[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	if (!s.sent) {
		ctl_error(ctl, s.code, s.msg, true);
		return 0;
	}
	q->inflight--;
	e = eid_client_recv_verify(c, &res);
	if (e == EID_CLIENT_OK) {
		ctl_print_result(ctl, &res, false);
		return 0;
	}
	ctl_client_error(ctl, c, e, s.line);
	return e == EID_CLIENT_ERR_SERVER ? 0 : -1;
}

/*
 * Read one line into buf (cap bytes).  Returns 1 with *len set, 2 for a
 * line longer than EID_TOKEN_MAX (consumed), 0 at the end, -1 on error.
 */
static int
ctl_getline(FILE *f, char *buf, size_t cap, size_t *len)
{
	size_t	 n = 0;
	bool	 any = false, toolong = false;
	int	 ch;

	while ((ch = getc_unlocked(f)) != EOF) {
		any = true;
		if (ch == '\n')
			break;
		if (n < cap)
			buf[n++] = (char)ch;
		else
			toolong = true;
	}
	if (ch == EOF && ferror(f))
		return -1;
	if (!any)
		return 0;
	if (!toolong && n > 0 && buf[n - 1] == '\r')
		n--;
	if (toolong || n > EID_TOKEN_MAX)
		return 2;
	*len = n;
	return 1;
}

static int
ctl_verify_stream(struct ctl *ctl, struct eid_client *c,
    struct eid_verify_req *req)
{
	static char		 buf[EID_TOKEN_MAX + 1];
	struct ctl_queue	 q;
	struct ctl_slot		*s;
	enum eid_client_err	 e;
	unsigned long		 line = 0;
	size_t			 len;
	int			 r, rc = -1;

	memset(&q, 0, sizeof(q));
	for (;;) {
		r = ctl_getline(stdin, buf, sizeof(buf), &len);
		if (r == 0)
			break;
		if (r == -1) {
			ctl_error(ctl, "io", "cannot read stdin", false);
			goto out;
		}
		line++;
		if (r == 1 && len == 0)
			continue;
		/* Keep at most CTL_WINDOW requests in flight. */
		while (r == 1 && q.inflight >= CTL_WINDOW)
			if (ctl_queue_pop(ctl, &q, c) == -1)
				goto out;
		if ((s = ctl_queue_push(&q)) == NULL) {
			ctl_error(ctl, "nomem", "out of memory", false);
			goto out;
		}
		s->line = line;
		if (r == 2) {
			s->code = "token_too_long";
			snprintf(s->msg, sizeof(s->msg), "line %lu: token "
			    "longer than %d bytes", line, EID_TOKEN_MAX);
		} else {
			req->token = buf;
			req->token_len = len;
			e = eid_client_send_verify(c, req);
			if (e == EID_CLIENT_OK) {
				s->sent = true;
				q.inflight++;
			} else if (e == EID_CLIENT_ERR_USAGE) {
				s->code = ctl_err_code(e);
				snprintf(s->msg, sizeof(s->msg), "line %lu: %s",
				    line, eid_client_last_error(c));
			} else {
				q.len--;
				ctl_client_error(ctl, c, e, 0);
				goto out;
			}
		}
		/* Errors with nothing in flight before them print now. */
		while (q.len > 0 && !q.s[q.head].sent)
			(void)ctl_queue_pop(ctl, &q, c);
	}
	while (q.len > 0)
		if (ctl_queue_pop(ctl, &q, c) == -1)
			goto out;
	rc = 0;
out:
	free(q.s);
	return rc;
}

static int
ctl_verify(struct ctl *ctl, int argc, char **argv)
{
	struct eid_verify_req	 req;
	struct eid_verify_res	 res;
	struct eid_client	*c;
	enum eid_client_err	 e;
	const char		*token = NULL, *v;
	long long		 n;
	int			 i, r;

	memset(&req, 0, sizeof(req));
	for (i = 1; i < argc; i++) {
		if ((r = ctl_opt(argc, argv, &i, "--audience", &v)) != 0) {
			if (r == -1)
				return ctl_bad_usage("%s needs a value",
				    argv[i]);
			req.audience = v;
		} else if ((r = ctl_opt(argc, argv, &i, "--nonce", &v)) != 0) {
			if (r == -1)
				return ctl_bad_usage("%s needs a value",
				    argv[i]);
			req.nonce = v;
		} else if ((r = ctl_opt(argc, argv, &i, "--min-level",
		    &v)) != 0) {
			if (r == -1 || ctl_number(v, 0, 2, &n) == -1)
				return ctl_bad_usage("--min-level is 0, 1 "
				    "or 2");
			req.min_level = (int)n;
		} else if (strcmp(argv[i], "--consume") == 0)
			req.consume = true;
		else if (strcmp(argv[i], "--") == 0 && i + 1 < argc &&
		    token == NULL)
			token = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return ctl_bad_usage("unknown option %s", argv[i]);
		else if (token == NULL)
			token = argv[i];
		else
			return ctl_bad_usage("unexpected argument %s",
			    argv[i]);
	}
	if (token == NULL)
		return ctl_bad_usage("verify needs a TOKEN or -");
	if (strcmp(token, "-") != 0 && (token[0] == '\0' ||
	    strlen(token) > EID_TOKEN_MAX))
		return ctl_bad_usage("token must be 1..%d bytes",
		    EID_TOKEN_MAX);
	if ((c = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_ERROR;
	if (strcmp(token, "-") == 0)
		(void)ctl_verify_stream(ctl, c, &req);
	else {
		req.token = token;
		req.token_len = strlen(token);
		if ((e = eid_client_verify(c, &req, &res)) == EID_CLIENT_OK)
			ctl_print_result(ctl, &res, true);
		else
			ctl_client_error(ctl, c, e, 0);
	}
	eid_client_close(c);
	return ctl_exit(ctl);
}

/* --- revoke, status ------------------------------------------------------ */

/* "token", "subject" or "key" to its kind; 0 for anything else. */
static enum eid_revoke_kind
ctl_kind_parse(const char *s)
{
	if (strcmp(s, "token") == 0)
		return EID_REVOKE_TOKEN;
	if (strcmp(s, "subject") == 0)
		return EID_REVOKE_SUBJECT;
	if (strcmp(s, "key") == 0)
		return EID_REVOKE_KEY;
	return (enum eid_revoke_kind)0;
}

static const char *
ctl_kind_name(enum eid_revoke_kind k)
{
	switch (k) {
	case EID_REVOKE_TOKEN:
		return "token";
	case EID_REVOKE_SUBJECT:
		return "subject";
	case EID_REVOKE_KEY:
		return "key";
	default:
		return "unknown";
	}
}

static int
ctl_revoke(struct ctl *ctl, int argc, char **argv)
{
	struct eid_revoke_req	 req;
	struct eid_client	*c;
	enum eid_client_err	 e;
	const char		*kind = NULL, *value = NULL, *v;
	long long		 n;
	uint64_t		 seq;
	int			 i, r;

	memset(&req, 0, sizeof(req));
	for (i = 1; i < argc; i++) {
		if ((r = ctl_opt(argc, argv, &i, "--reason", &v)) != 0) {
			if (r == -1)
				return ctl_bad_usage("%s needs a value",
				    argv[i]);
			req.reason = v;
		} else if ((r = ctl_opt(argc, argv, &i, "--issuer", &v)) != 0) {
			if (r == -1)
				return ctl_bad_usage("%s needs a value",
				    argv[i]);
			req.issuer = v;
		} else if ((r = ctl_opt(argc, argv, &i, "--before", &v)) != 0) {
			if (r == -1 || ctl_number(v, 0, INT64_MAX, &n) == -1)
				return ctl_bad_usage("--before needs a Unix "
				    "time");
			req.issued_before = n;
		} else if ((r = ctl_opt(argc, argv, &i, "--expires",
		    &v)) != 0) {
			if (r == -1 || ctl_number(v, 0, INT64_MAX, &n) == -1)
				return ctl_bad_usage("--expires needs a Unix "
				    "time");
			req.expires_at = n;
		} else if (argv[i][0] == '-' && argv[i][1] == '-' &&
		    argv[i][2] != '\0')
			return ctl_bad_usage("unknown option %s", argv[i]);
		else if (kind == NULL)
			kind = argv[i];
		else if (value == NULL)
			value = argv[i];
		else
			return ctl_bad_usage("unexpected argument %s",
			    argv[i]);
	}
	if (kind == NULL || value == NULL)
		return ctl_bad_usage("revoke needs a kind and a value");
	if ((req.kind = ctl_kind_parse(kind)) == 0)
		return ctl_bad_usage("revoke kind %s is not token, subject "
		    "or key", kind);
	req.value = value;
	if ((c = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_ERROR;
	if ((e = eid_client_revoke(c, &req, &seq)) == EID_CLIENT_OK) {
		if (ctl->json)
			(void)ctl_json_line(json_pack("{s:I}", "sequence",
			    (json_int_t)seq));
		else
			printf("%llu\n", (unsigned long long)seq);
	} else
		ctl_client_error(ctl, c, e, 0);
	eid_client_close(c);
	return ctl_exit(ctl);
}

static json_t *
ctl_json_status(const struct eid_status *st)
{
	const struct eid_status_key	*k;
	json_t				*o, *a, *x;
	size_t				 i;
	int				 v;

	o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
	    "s:I,s:I}",
	    "version", st->version, "principal", st->principal,
	    "uptime_s", (json_int_t)st->uptime_s,
	    "started_at", (json_int_t)st->started_at,
	    "workers", (json_int_t)st->workers,
	    "connections_open", (json_int_t)st->connections_open,
	    "connections_total", (json_int_t)st->connections_total,
	    "requests_total", (json_int_t)st->requests_total,
	    "reloads", (json_int_t)st->reloads,
	    "cache_entries", (json_int_t)st->cache_entries,
	    "cache_hits", (json_int_t)st->cache_hits,
	    "cache_misses", (json_int_t)st->cache_misses,
	    "revocations", (json_int_t)st->revocations,
	    "consumed", (json_int_t)st->consumed);
	if (o == NULL)
		return NULL;
	if ((a = json_array()) == NULL ||
	    json_object_set_new(o, "verdicts", a) == -1)
		goto fail;
	for (v = 0; v < EID_VERDICT_COUNT; v++) {
		x = json_pack("{s:s,s:I}", "verdict",
		    eid_verdict_name((enum eid_verdict)v), "count",
		    (json_int_t)st->verdicts[v]);
		if (json_array_append_new(a, x) == -1)
			goto fail;
	}
	if ((a = json_array()) == NULL ||
	    json_object_set_new(o, "keys", a) == -1)
		goto fail;
	for (i = 0; i < st->nkeys; i++) {
		k = &st->keys[i];
		x = json_pack("{s:s,s:s,s:s,s:I,s:I,s:b}", "key_id",
		    k->key_id, "issuer", k->issuer, "algorithm", k->algorithm,
		    "not_before", (json_int_t)k->not_before, "not_after",
		    (json_int_t)k->not_after, "from_certificate",
		    k->from_certificate ? 1 : 0);
		if (json_array_append_new(a, x) == -1)
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

static void
ctl_print_status(const struct eid_status *st)
{
	const struct eid_status_key	*k;
	char				 t[32];
	size_t				 i;
	int				 v;

	printf("version      ");
	ctl_put_escaped(st->version, false);
	ctl_time(t, sizeof(t), st->started_at);
	printf("\nuptime       %lld s (since %s)\n", (long long)st->uptime_s,
	    t);
	printf("principal    ");
	ctl_put_escaped(st->principal, false);
	printf("\nworkers      %u\n", (unsigned)st->workers);
	printf("connections  %llu open, %llu total\n",
	    (unsigned long long)st->connections_open,
	    (unsigned long long)st->connections_total);
	printf("requests     %llu\n", (unsigned long long)st->requests_total);
	printf("reloads      %llu\n", (unsigned long long)st->reloads);
	printf("cache        %llu entries, %llu hits, %llu misses\n",
	    (unsigned long long)st->cache_entries,
	    (unsigned long long)st->cache_hits,
	    (unsigned long long)st->cache_misses);
	printf("revocations  %llu\n", (unsigned long long)st->revocations);
	printf("consumed     %llu\n", (unsigned long long)st->consumed);
	printf("verdicts\n");
	for (v = 0; v < EID_VERDICT_COUNT; v++)
		if (st->verdicts[v] != 0)
			printf("  %-20s %llu\n",
			    eid_verdict_name((enum eid_verdict)v),
			    (unsigned long long)st->verdicts[v]);
	printf("keys         %zu\n", st->nkeys);
	for (i = 0; i < st->nkeys; i++) {
		k = &st->keys[i];
		ctl_time(t, sizeof(t), k->not_after);
		printf("  kid=");
		ctl_put_escaped(k->key_id, true);
		printf(" issuer=");
		ctl_put_escaped(k->issuer, true);
		printf(" alg=");
		ctl_put_escaped(k->algorithm, true);
		printf(" not_after=%s%s\n", t,
		    k->from_certificate ? " cert" : "");
	}
}

static int
ctl_status(struct ctl *ctl, int argc, char **argv)
{
	struct eid_status	 st;
	struct eid_client	*c;
	enum eid_client_err	 e;

	(void)argv;
	if (argc > 1)
		return ctl_bad_usage("unexpected argument %s", argv[1]);
	if ((c = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_ERROR;
	memset(&st, 0, sizeof(st));
	if ((e = eid_client_status(c, &st)) == EID_CLIENT_OK) {
		if (!ctl->json)
			ctl_print_status(&st);
		else if (!ctl_json_line(ctl_json_status(&st)))
			ctl_error(ctl, "protocol", "server sent a string that "
			    "is not UTF-8", false);
	} else
		ctl_client_error(ctl, c, e, 0);
	eid_status_clear(&st);
	eid_client_close(c);
	return ctl_exit(ctl);
}

/* --- revocations import, list -------------------------------------------- */

/*
 * One checked line of an import file.  The strings live in the import's
 * arena, by offset, so that a large file costs its bytes and little more.
 */
struct ctl_rev {
	unsigned long	 line;
	enum eid_revoke_kind kind;
	int64_t		 issued_before;
	int64_t		 expires_at;
	size_t		 value;		/* offsets into the arena */
	size_t		 issuer;
	size_t		 reason;
	size_t		 wire_bytes;	/* most it adds to a batch */
};

struct ctl_import {
	const char	*name;		/* the path, or "stdin" */
	struct ctl_rev	*v;
	size_t		 n;
	size_t		 cap;
	char		*arena;
	size_t		 alen;
	size_t		 acap;
	unsigned long	 bad;		/* lines refused */
};

/* Copy src for a message, control bytes shown as '?', cut at len. */
static void
ctl_visible(char *dst, size_t len, const char *src)
{
	size_t	 i;

	for (i = 0; src[i] != '\0' && i + 1 < len; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ?
		    '?' : src[i];
	dst[i] = '\0';
}

/* Append s (n bytes and a NUL) to the arena; its offset, or -1. */
static int
ctl_arena_add(struct ctl_import *imp, const char *s, size_t n, size_t *off)
{
	char	*p;
	size_t	 cap;

	if (imp->acap - imp->alen < n + 1) {
		cap = imp->acap != 0 ? imp->acap : 65536;
		while (cap - imp->alen < n + 1)
			cap *= 2;
		if ((p = realloc(imp->arena, cap)) == NULL)
			return -1;
		imp->arena = p;
		imp->acap = cap;
	}
	memcpy(imp->arena + imp->alen, s, n);
	imp->arena[imp->alen + n] = '\0';
	*off = imp->alen;
	imp->alen += n + 1;
	return 0;
}

static bool
ctl_is_pin(const char *s, size_t n)
{
	size_t	 i;

	if (n != EID_PIN_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* A string member: 0, or 1 with why filled. */
static int
ctl_member_str(json_t *v, const char *key, size_t max, const char **s,
    size_t *n, char *why, size_t whylen)
{
	if (!json_is_string(v)) {
		snprintf(why, whylen, "%s must be a string", key);
		return 1;
	}
	*s = json_string_value(v);
	*n = json_string_length(v);
	if (*n > max) {
		snprintf(why, whylen, "%s is longer than %zu bytes", key, max);
		return 1;
	}
	return 0;
}

static int
ctl_member_time(json_t *v, const char *key, int64_t *t, char *why,
    size_t whylen)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(why, whylen, "%s must be a non-negative integer "
		    "(Unix time)", key);
		return 1;
	}
	*t = (int64_t)json_integer_value(v);
	return 0;
}

/*
 * Check one line and keep it.  Returns 0 (kept), 1 (refused, why filled)
 * or -1 (out of memory).  The checks are the server's, so that a file
 * that passes them is not refused halfway through; expires_at in the past
 * is judged by our clock, which may differ from the server's.
 */
static int
ctl_import_line(struct ctl_import *imp, unsigned long line, const char *buf,
    size_t len, int64_t now, char *why, size_t whylen)
{
	json_error_t	 jerr;
	json_t		*o, *v;
	struct ctl_rev	*r, rv;
	const char	*key, *value = NULL, *issuer = "", *reason = "";
	char		 vis[100];
	size_t		 vlen = 0, ilen = 0, rlen = 0, cap;
	int		 rc = 1;

	if ((o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		ctl_visible(vis, sizeof(vis), jerr.text);
		snprintf(why, whylen, "invalid JSON: %s (column %d)", vis,
		    jerr.column);
		return 1;
	}
	memset(&rv, 0, sizeof(rv));
	rv.line = line;
	if (!json_is_object(o)) {
		snprintf(why, whylen, "not a JSON object");
		goto out;
	}
	json_object_foreach(o, key, v) {
		if (strcmp(key, "kind") == 0) {
			if (!json_is_string(v) || (rv.kind =
			    ctl_kind_parse(json_string_value(v))) == 0) {
				snprintf(why, whylen, "kind must be \"token\", "
				    "\"subject\" or \"key\"");
				goto out;
			}
		} else if (strcmp(key, "value") == 0) {
			if (ctl_member_str(v, key, EID_JTI_MAX, &value, &vlen,
			    why, whylen) != 0)
				goto out;
		} else if (strcmp(key, "issuer") == 0) {
			if (ctl_member_str(v, key, EID_ISS_MAX, &issuer, &ilen,
			    why, whylen) != 0)
				goto out;
		} else if (strcmp(key, "reason") == 0) {
			if (ctl_member_str(v, key, CTL_REASON_MAX, &reason,
			    &rlen, why, whylen) != 0)
				goto out;
		} else if (strcmp(key, "issued_before") == 0) {
			if (ctl_member_time(v, key, &rv.issued_before, why,
			    whylen) != 0)
				goto out;
		} else if (strcmp(key, "expires_at") == 0) {
			if (ctl_member_time(v, key, &rv.expires_at, why,
			    whylen) != 0)
				goto out;
		} else {
			ctl_visible(vis, sizeof(vis), key);
			snprintf(why, whylen, "unknown member \"%s\"", vis);
			goto out;
		}
	}
	if (rv.kind == 0) {
		snprintf(why, whylen, "kind is missing");
		goto out;
	}
	if (value == NULL || vlen == 0) {
		snprintf(why, whylen, "value is missing or empty");
		goto out;
	}
	if (rv.kind == EID_REVOKE_SUBJECT && !ctl_is_pin(value, vlen)) {
		snprintf(why, whylen, "a subject value is exactly %d ASCII "
		    "digits", EID_PIN_LEN);
		goto out;
	}
	if (rv.expires_at != 0 && rv.expires_at <= now) {
		snprintf(why, whylen, "expires_at is in the past");
		goto out;
	}
	rc = -1;
	if (imp->n == imp->cap) {
		cap = imp->cap != 0 ? imp->cap * 2 : 1024;
		if (cap > SIZE_MAX / sizeof(*r) ||
		    (r = realloc(imp->v, cap * sizeof(*r))) == NULL)
			goto out;
		imp->v = r;
		imp->cap = cap;
	}
	if (ctl_arena_add(imp, value, vlen, &rv.value) == -1 ||
	    ctl_arena_add(imp, issuer, ilen, &rv.issuer) == -1 ||
	    ctl_arena_add(imp, reason, rlen, &rv.reason) == -1)
		goto out;
	rv.wire_bytes = CTL_IMPORT_ITEM + vlen + ilen + rlen;
	imp->v[imp->n++] = rv;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/*
 * Read and check the whole file.  0 when every line passed, -1 when not
 * (each bad line reported, up to CTL_IMPORT_ERRORS) or on a read error.
 */
static int
ctl_import_read(struct ctl *ctl, struct ctl_import *imp, FILE *f)
{
	static char	 buf[EID_TOKEN_MAX + 1];
	char		 why[200], msg[300];
	unsigned long	 line = 0;
	size_t		 len, i;
	int64_t		 now = (int64_t)time(NULL);
	int		 r;

	for (;;) {
		if ((r = ctl_getline(f, buf, sizeof(buf), &len)) == 0)
			break;
		if (r == -1) {
			snprintf(msg, sizeof(msg), "%s: %s", imp->name,
			    strerror(errno));
			ctl_error(ctl, "io", msg, false);
			return -1;
		}
		line++;
		if (r == 2) {
			snprintf(why, sizeof(why), "line longer than %d bytes",
			    EID_TOKEN_MAX);
		} else {
			for (i = 0; i < len && (buf[i] == ' ' ||
			    buf[i] == '\t'); i++)
				;
			if (i == len || buf[i] == '#')
				continue;
			r = ctl_import_line(imp, line, buf, len, now, why,
			    sizeof(why));
			if (r == 0)
				continue;
			if (r == -1) {
				ctl_error(ctl, "nomem", "out of memory",
				    false);
				return -1;
			}
		}
		if (++imp->bad <= CTL_IMPORT_ERRORS)
			fprintf(stderr, "eidctl: %s:%lu: %s\n", imp->name,
			    line, why);
	}
	if (imp->bad == 0)
		return 0;
	if (imp->bad > CTL_IMPORT_ERRORS)
		fprintf(stderr, "eidctl: %s: %lu more bad lines not shown\n",
		    imp->name, imp->bad - CTL_IMPORT_ERRORS);
	snprintf(msg, sizeof(msg), "%s: %lu bad line%s; nothing was imported",
	    imp->name, imp->bad, imp->bad == 1 ? "" : "s");
	ctl_error(ctl, "input", msg, false);
	return -1;
}

/*
 * The next batch from v[from]: up to CTL_IMPORT_BATCH entries whose
 * request stays below CTL_IMPORT_FRAME bytes.  Returns how many.
 */
static size_t
ctl_import_batch(const struct ctl_import *imp, size_t from,
    struct eid_revoke_req *reqs)
{
	const struct ctl_rev	*r;
	size_t			 n, bytes = 0;

	for (n = 0; n < CTL_IMPORT_BATCH && from + n < imp->n; n++) {
		r = &imp->v[from + n];
		if (n > 0 && bytes + r->wire_bytes > CTL_IMPORT_FRAME)
			break;
		bytes += r->wire_bytes;
		memset(&reqs[n], 0, sizeof(reqs[n]));
		reqs[n].kind = r->kind;
		reqs[n].value = imp->arena + r->value;
		reqs[n].issuer = imp->arena + r->issuer;
		reqs[n].issued_before = r->issued_before;
		reqs[n].reason = imp->arena + r->reason;
		reqs[n].expires_at = r->expires_at;
	}
	return n;
}

/* Send the checked entries; 0 or -1 (reported, with what got through). */
static int
ctl_import_send(struct ctl *ctl, struct ctl_import *imp)
{
	static struct eid_revoke_req	 reqs[CTL_IMPORT_BATCH];
	static uint64_t			 seqs[CTL_IMPORT_BATCH];
	struct eid_client		*c = NULL;
	enum eid_client_err		 e = EID_CLIENT_OK;
	const char			*code;
	char				 what[640], msg[1000];
	char				 seqtxt[64] = "";
	uint64_t			 first = 0, last = 0;
	size_t				 done = 0, n = 0, i;
	bool				 tty = isatty(STDERR_FILENO) == 1;

	if (imp->n > 0 && (c = ctl_connect(ctl)) == NULL)
		return -1;
	while (done < imp->n) {
		n = ctl_import_batch(imp, done, reqs);
		if ((e = eid_client_revoke_batch(c, reqs, n, seqs)) !=
		    EID_CLIENT_OK)
			break;
		for (i = 0; i < n; i++) {
			if (first == 0 || seqs[i] < first)
				first = seqs[i];
			if (seqs[i] > last)
				last = seqs[i];
		}
		done += n;
		fprintf(stderr, tty ? "\rimported %zu/%zu revocations" :
		    "imported %zu/%zu revocations\n", done, imp->n);
	}
	if (tty && done > 0)
		fputc('\n', stderr);
	if (done > 0)
		snprintf(seqtxt, sizeof(seqtxt), " (sequences %llu..%llu)",
		    (unsigned long long)first, (unsigned long long)last);
	if (e != EID_CLIENT_OK) {
		code = ctl_client_msg(c, e, what, sizeof(what));
		/*
		 * A batch is all or none, and the server said no to this
		 * one.  When the connection failed instead, it may have
		 * been recorded; sending it again only renews it.
		 */
		snprintf(msg, sizeof(msg), "%s; lines %lu..%lu %s; %zu of %zu "
		    "revocations imported before%s", what,
		    imp->v[done].line, imp->v[done + n - 1].line,
		    e == EID_CLIENT_ERR_SERVER ? "not imported" :
		    "perhaps not imported", done, imp->n, seqtxt);
		ctl_error(ctl, code, msg, false);
		eid_client_close(c);
		return -1;
	}
	eid_client_close(c);
	if (ctl->json) {
		if (done > 0)
			(void)ctl_json_line(json_pack("{s:I,s:I,s:I}",
			    "imported", (json_int_t)done, "first_sequence",
			    (json_int_t)first, "last_sequence",
			    (json_int_t)last));
		else
			(void)ctl_json_line(json_pack("{s:I}", "imported",
			    (json_int_t)0));
	} else
		printf("imported %zu revocations%s\n", done, seqtxt);
	return 0;
}

static int
ctl_import(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_import	 imp;
	FILE			*f;
	char			 msg[600];
	const char		*path;

	if (argc != 2)
		return ctl_bad_usage("revocations import needs one FILE or -");
	path = argv[1];
	memset(&imp, 0, sizeof(imp));
	if (strcmp(path, "-") == 0) {
		f = stdin;
		imp.name = "stdin";
	} else if ((f = fopen(path, "r")) == NULL) {
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
		ctl_error(ctl, "io", msg, false);
		return ctl_exit(ctl);
	} else
		imp.name = path;
	if (ctl_import_read(ctl, &imp, f) == 0)
		(void)ctl_import_send(ctl, &imp);
	if (f != stdin)
		(void)fclose(f);
	free(imp.v);
	free(imp.arena);
	return ctl_exit(ctl);
}

static json_t *
ctl_json_revocation(const struct eid_revocation *r)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:s}",
	    "kind", ctl_kind_name(r->kind),
	    "value", r->value,
	    "issuer", r->issuer,
	    "issued_before", (json_int_t)r->issued_before,
	    "expires_at", (json_int_t)r->expires_at,
	    "created_at", (json_int_t)r->created_at,
	    "sequence", (json_int_t)r->sequence,
	    "reason", r->reason);
}

static void
ctl_print_revocation(const struct eid_revocation *r)
{
	char	 t[32];

	printf("%s  iss=", ctl_kind_name(r->kind));
	if (r->issuer[0] == '\0')
		putchar('*');
	else
		ctl_put_escaped(r->issuer, true);
	fputs("  value=", stdout);
	if (r->kind == EID_REVOKE_SUBJECT) {
		ctl_put_masked(r->value);
		ctl_time(t, sizeof(t), r->issued_before);
		printf("  before=%s", t);
	} else
		ctl_put_escaped(r->value, true);
	ctl_time(t, sizeof(t), r->created_at);
	printf("  seq=%llu  created=%s", (unsigned long long)r->sequence, t);
	if (r->expires_at == 0)
		snprintf(t, sizeof(t), "never");
	else
		ctl_time(t, sizeof(t), r->expires_at);
	/* The reason is last on the line, so its spaces forge nothing. */
	printf("  expires=%s  reason=", t);
	ctl_put_escaped(r->reason, false);
	putchar('\n');
}

static int
ctl_list(struct ctl *ctl, int argc, char **argv)
{
	struct eid_revocation	*page = NULL, cursor;
	struct eid_client	*c;
	enum eid_client_err	 e;
	const char		*v;
	size_t			 n, i;
	bool			 more = true, started = false;
	int			 kind = 0, j, r;

	for (j = 1; j < argc; j++) {
		if ((r = ctl_opt(argc, argv, &j, "--kind", &v)) != 0) {
			if (r == -1 || (kind = (int)ctl_kind_parse(v)) == 0)
				return ctl_bad_usage("--kind is token, "
				    "subject or key");
		} else
			return ctl_bad_usage("unexpected argument %s",
			    argv[j]);
	}
	if ((page = calloc(CTL_LIST_PAGE, sizeof(*page))) == NULL) {
		ctl_error(ctl, "nomem", "out of memory", false);
		return ctl_exit(ctl);
	}
	if ((c = ctl_connect(ctl)) == NULL)
		goto out;
	while (more) {
		e = eid_client_list_revocations(c, kind, started ? &cursor :
		    NULL, CTL_LIST_PAGE, page, &n, &more);
		if (e != EID_CLIENT_OK) {
			ctl_client_error(ctl, c, e, 0);
			break;
		}
		for (i = 0; i < n; i++) {
			if (!ctl->json)
				ctl_print_revocation(&page[i]);
			else if (!ctl_json_line(ctl_json_revocation(
			    &page[i]))) {
				ctl_error(ctl, "protocol", "server sent a "
				    "string that is not UTF-8", false);
				more = false;
				break;
			}
		}
		if (n > 0) {
			cursor = page[n - 1];
			started = true;
		}
	}
	eid_client_close(c);
out:
	free(page);
	return ctl_exit(ctl);
}

static int
ctl_revocations(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2)
		return ctl_bad_usage("revocations needs import or list");
	if (strcmp(argv[1], "import") == 0)
		return ctl_import(ctl, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return ctl_list(ctl, argc - 1, argv + 1);
	return ctl_bad_usage("unknown revocations command %s", argv[1]);
}

/* --- main ---------------------------------------------------------------- */

static void
ctl_dev_default(const char **field, const char *path)
{
	if ((*field == NULL || (*field)[0] == '\0') &&
	    access(path, R_OK) == 0)
		*field = path;
}

int
main(int argc, char **argv)
{
	struct sigaction	 sa;
	struct ctl		 ctl;
	const char		*v;
	long long		 n;
	int			 i, r;

	/* A server that hangs up must give exit status 2, not SIGPIPE. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGPIPE, &sa, NULL);

	memset(&ctl, 0, sizeof(ctl));
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if ((r = ctl_opt(argc, argv, &i, "--server", &v)) != 0)
			ctl.cfg.server = v;
		else if ((r = ctl_opt(argc, argv, &i, "--cert", &v)) != 0)
			ctl.cfg.cert = v;
		else if ((r = ctl_opt(argc, argv, &i, "--key", &v)) != 0)
			ctl.cfg.key = v;
		else if ((r = ctl_opt(argc, argv, &i, "--ca", &v)) != 0)
			ctl.cfg.ca = v;
		else if ((r = ctl_opt(argc, argv, &i, "--timeout", &v)) != 0) {
			if (r == 1 && ctl_number(v, 1, INT_MAX, &n) == -1)
				return ctl_bad_usage("--timeout %s: not a "
				    "positive number of milliseconds", v);
			if (r == 1)
				ctl.cfg.timeout_ms = (int)n;
		} else if (strcmp(argv[i], "--json") == 0) {
			ctl.json = true;
			r = 1;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		} else
			return ctl_bad_usage("unknown option %s", argv[i]);
		if (r == -1)
			return ctl_bad_usage("%s needs a value", argv[i]);
	}
	if (i >= argc)
		return ctl_bad_usage("no command");
	eid_client_config_env(&ctl.cfg);
	ctl_dev_default(&ctl.cfg.cert, CTL_DEV_CERT);
	ctl_dev_default(&ctl.cfg.key, CTL_DEV_KEY);
	ctl_dev_default(&ctl.cfg.ca, CTL_DEV_CA);

	if (strcmp(argv[i], "verify") == 0)
		return ctl_verify(&ctl, argc - i, argv + i);
	if (strcmp(argv[i], "revoke") == 0)
		return ctl_revoke(&ctl, argc - i, argv + i);
	if (strcmp(argv[i], "status") == 0)
		return ctl_status(&ctl, argc - i, argv + i);
	if (strcmp(argv[i], "revocations") == 0)
		return ctl_revocations(&ctl, argc - i, argv + i);
	if (strcmp(argv[i], "help") == 0) {
		ctl_usage(stdout);
		return CTL_EXIT_OK;
	}
	return ctl_bad_usage("unknown command %s", argv[i]);
}
