/*
 * tests/integration/test_eidd_http.c -- the HTTPS/JSON gateway with a real
 * HTTP client (curl): the same verdict as the protobuf API for every
 * token kind eid-mint makes; refused without a certificate; /metrics
 * parses with promtool and counts exactly; /healthz and /readyz, also
 * during a drain; bad bodies, methods, paths and a trickled body refused
 * while the daemon keeps serving; the Python example portal; a client
 * that never reads its answers holds bounded memory; http.max_connections
 * holds the rest in the accept queue; running out of descriptors pauses
 * the gateway instead of spinning and flooding the log.
 */
/* popen, asprintf. */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "harness.h"
#include "helpers.h"
#include "kinds.h"

#define DEADLINE_MS	1500

static struct th_eidd d;
static int http_port;

/*
 * The configuration text with the gateway on a free port, monitoring
 * open, and the http settings in http (without braces).
 */
static char *
gateway_conf(const char *http)
{
	char	*base, *conf, *at;

	base = th_eidd_conf_text(NULL, NULL);
	at = strstr(base, "limits = {");
	assert_non_null(at);
	assert_true(asprintf(&conf, "%.*shttp = { listen = \"127.0.0.1:0\"; "
	    "open_monitoring = true; require_client_cert = false; %s };\n%s",
	    (int)(at - base), base, http, at) > 0);
	free(base);
	return conf;
}

/* Start e with gateway_conf(http); returns the gateway's port. */
static int
gateway_start(struct th_eidd *e, const char *http)
{
	char	*conf, *log, *p;
	size_t	 len;
	int	 port;

	conf = gateway_conf(http);
	th_eidd_start_conf(e, conf);
	free(conf);
	log = th_read_file(e->log, &len);
	assert_non_null(log);
	p = strstr(log, " http=127.0.0.1:");
	assert_non_null(p);
	port = atoi(p + strlen(" http=127.0.0.1:"));
	free(log);
	assert_true(port > 0);
	return port;
}

static int
setup(void **state)
{
	char	 http[128];

	(void)state;
	/* A short deadline and small bodies. */
	snprintf(http, sizeof(http), "request_timeout_ms = %d; "
	    "max_body_bytes = 4096;", DEADLINE_MS);
	http_port = gateway_start(&d, http);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	th_eidd_stop_ok(&d);
	return 0;
}

/*
 * curl with the development principal name (NULL: no certificate); the
 * body (may be NULL) is passed on stdin.  Returns the HTTP status; the
 * response body goes to out.
 */
static int
curl(const char *who, const char *method, const char *path,
    const char *ctype, const char *body, char *out, size_t outlen)
{
	char	 cmd[4096], crt[1024], key[1024], ca[1024], bodyf[1100];
	char	*all = NULL, *nl;
	FILE	*p, *fp;
	size_t	 n;
	int	 code = -1;

	th_certs_abs("ca.pem", ca, sizeof(ca));
	bodyf[0] = '\0';
	if (body != NULL) {
		snprintf(bodyf, sizeof(bodyf), "%s/body", d.dir);
		fp = fopen(bodyf, "w");
		assert_non_null(fp);
		fputs(body, fp);
		fclose(fp);
	}
	if (who != NULL) {
		char n1[256], n2[256];

		snprintf(n1, sizeof(n1), "%s.crt", who);
		snprintf(n2, sizeof(n2), "%s.key", who);
		th_certs_abs(n1, crt, sizeof(crt));
		th_certs_abs(n2, key, sizeof(key));
	}
	n = (size_t)snprintf(cmd, sizeof(cmd),
	    "curl -s -m 10 --cacert '%s' %s%s%s%s%s "
	    "-X %s %s%s%s %s%s%s -w '\\n%%{http_code}' "
	    "https://127.0.0.1:%d%s 2>/dev/null", ca,
	    who != NULL ? "--cert '" : "", who != NULL ? crt : "",
	    who != NULL ? "' --key '" : "", who != NULL ? key : "",
	    who != NULL ? "'" : "", method,
	    ctype != NULL ? "-H 'Content-Type: " : "", ctype != NULL ? ctype :
	    "", ctype != NULL ? "'" : "", body != NULL ? "--data-binary @'" :
	    "", body != NULL ? bodyf : "", body != NULL ? "'" : "", http_port,
	    path);
	assert_true(n < sizeof(cmd));
	p = popen(cmd, "r");
	assert_non_null(p);
	all = calloc(1, 1 << 20);
	assert_non_null(all);
	n = fread(all, 1, (1 << 20) - 1, p);
	all[n] = '\0';
	pclose(p);
	if ((nl = strrchr(all, '\n')) != NULL) {
		code = atoi(nl + 1);
		*nl = '\0';
	}
	if (out != NULL)
		snprintf(out, outlen, "%s", all);
	free(all);
	return code;
}

/* The lower-case verdict name of the protobuf API's answer. */
static void
lower(const char *s, char *out, size_t len)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out[i] = '\0';
}

static void
test_same_verdict_as_protobuf(void **state)
{
	struct eid_client	*c;
	struct eid_verify_req	 q;
	struct eid_verify_res	 r;
	char			 args[256], *tok, body[20000];
	char			 want[64];
	char			 *out;
	json_t			*j;
	json_error_t		 jerr;
	size_t			 i, k;
	int			 bad = 0;

	(void)state;
	out = malloc(65536);
	assert_non_null(out);
	c = th_client(&d, "rp-dichvucong");
	for (i = 0; i < NKINDS; i++)
		for (k = 0; k < NALGS; k++) {
			if ((tok = th_kind_token(i, k, &q)) == NULL)
				continue;
			snprintf(args, sizeof(args), "--alg %s --kind %s",
			    algs[k], kinds[i].name);
			assert_int_equal(eid_client_verify(c, &q, &r),
			    EID_CLIENT_OK);
			snprintf(body, sizeof(body), "{\"token\":\"%s\","
			    "\"min_level\":%d,\"nonce\":\"%s\"}", tok,
			    kinds[i].min_level, kinds[i].nonce != NULL ?
			    kinds[i].nonce : "");
			assert_int_equal(curl("rp-dichvucong", "POST",
			    "/v1/verify", "application/json", body, out, 65536),
			    200);
			j = json_loads(out, 0, &jerr);
			assert_non_null(j);
			lower(eid_verdict_name(r.verdict), want, sizeof(want));
			if (strcmp(json_string_value(json_object_get(j,
			    "verdict")), want) != 0) {
				print_error("%s: http %s, protobuf %s\n", args,
				    json_string_value(json_object_get(j,
				    "verdict")), want);
				bad++;
			}
			if (r.verdict == EID_VERDICT_OK && strcmp(
			    json_string_value(json_object_get(json_object_get(j,
			    "identity"), "sub")), r.sub) != 0)
				bad++;
			json_decref(j);
			free(tok);
		}
	eid_client_close(c);
	free(out);
	assert_int_equal(bad, 0);
}

static void
test_refusals(void **state)
{
	char	 out[4096], big[6000], *tok;

	(void)state;
	tok = th_token(EID_ALG_ES256, "dichvucong", "http-1");
	snprintf(big, sizeof(big), "{\"token\":\"%s\"}", tok);
	/* No certificate: refused (monitoring aside). */
	assert_int_equal(curl(NULL, "POST", "/v1/verify", "application/json",
	    big, out, sizeof(out)), 403);
	assert_non_null(strstr(out, "\"forbidden\""));
	/* Another party's audience; status for relying parties. */
	assert_int_equal(curl("rp-bhxh", "POST", "/v1/verify",
	    "application/json", "{\"token\":\"x.y.z\",\"audience\":"
	    "\"dichvucong\"}", out, sizeof(out)), 403);
	assert_int_equal(curl("rp-dichvucong", "GET", "/v1/status", NULL,
	    NULL, out, sizeof(out)), 403);
	/* Bodies. */
	assert_int_equal(curl("rp-dichvucong", "POST", "/v1/verify",
	    "text/plain", big, out, sizeof(out)), 415);
	assert_int_equal(curl("rp-dichvucong", "POST", "/v1/verify",
	    "application/json", "{\"token\":", out, sizeof(out)), 400);
	assert_int_equal(curl("rp-dichvucong", "POST", "/v1/verify",
	    "application/json", "[1]", out, sizeof(out)), 400);
	assert_int_equal(curl("rp-dichvucong", "POST", "/v1/verify",
	    "application/json", "{\"token\":\"a\",\"token\":\"b\"}", out,
	    sizeof(out)), 400);
	assert_int_equal(curl("rp-dichvucong", "POST", "/v1/verify",
	    "application/json", "{\"token\":\"a\",\"extra\":1}", out,
	    sizeof(out)), 400);
	assert_int_equal(curl("rp-dichvucong", "POST", "/v1/verify",
	    "application/json", "{\"token\":\"a\",\"min_level\":7}", out,
	    sizeof(out)), 400);
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	assert_true(curl("rp-dichvucong", "POST", "/v1/verify",
	    "application/json", big, out, sizeof(out)) == 413);
	/* Methods and paths. */
	assert_int_equal(curl("rp-dichvucong", "GET", "/v1/verify", NULL,
	    NULL, out, sizeof(out)), 405);
	assert_int_equal(curl("rp-dichvucong", "DELETE", "/metrics", NULL,
	    NULL, out, sizeof(out)), 405);
	assert_int_equal(curl("rp-dichvucong", "GET", "/nowhere", NULL, NULL,
	    out, sizeof(out)), 404);
	/* And it keeps serving. */
	snprintf(big, sizeof(big), "{\"token\":\"%s\"}", tok);
	assert_int_equal(curl("rp-dichvucong", "POST", "/v1/verify",
	    "application/json", big, out, sizeof(out)), 200);
	assert_non_null(strstr(out, "\"verdict\":\"ok\""));
	free(tok);
}

/* A body trickled a byte at a time is cut at the deadline. */
static void
test_trickled_body(void **state)
{
	struct th_raw	 r;
	struct timespec	 pause = { 0, 200 * 1000000L }, t0, t1;
	const char	*head = "POST /v1/verify HTTP/1.1\r\nHost: x\r\n"
			    "Content-Type: application/json\r\n"
			    "Content-Length: 400\r\n\r\n";
	char		 buf[512], out[4096];
	bool		 closed = false;
	int		 i, ms;
	struct th_eidd	 h = d;

	(void)state;
	/* The raw helper speaks to the API port: point it at the gateway. */
	h.port = http_port;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(th_raw_connect(&r, &h, "rp-dichvucong") ||
	    r.ssl != NULL);
	assert_true(th_raw_write(&r, head, strlen(head)));
	for (i = 0; i < 150 && !closed; i++) {
		if (!th_raw_write(&r, "{", 1))
			break;
		th_raw_read(&r, buf, sizeof(buf), 1, &closed);
		nanosleep(&pause, NULL);
	}
	if (!closed)
		th_raw_read(&r, buf, sizeof(buf), 3000, &closed);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (int)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000);
	th_raw_close(&r);
	/* Well before the 30 s the whole body would have taken. */
	assert_true(ms < DEADLINE_MS + 3000);
	assert_int_equal(curl("rp-dichvucong", "GET", "/healthz", NULL, NULL,
	    out, sizeof(out)), 200);
}

/* Sum of one metric's samples in a Prometheus text. */
static double
metric(const char *text, const char *name)
{
	const char	*p = text;
	double		 sum = 0;
	size_t		 n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == ' ' ||
		    p[n] == '{'))
			sum += atof(strchr(p, ' ') + 1);
		p += n;
	}
	return sum;
}

static void
test_metrics(void **state)
{
	char		*m0, *m1, cmd[2048], *tok, body[4096];
	int		 i, st;
	FILE		*fp;

	(void)state;
	m0 = calloc(1, 1 << 20);
	m1 = calloc(1, 1 << 20);
	assert_non_null(m0);
	assert_non_null(m1);
	/* Open monitoring: no certificate needed for /metrics. */
	assert_int_equal(curl(NULL, "GET", "/metrics", NULL, NULL, m0,
	    1 << 20), 200);
	tok = th_token(EID_ALG_ES256, "dichvucong", "metrics");
	snprintf(body, sizeof(body), "{\"token\":\"%s\"}", tok);
	for (i = 0; i < 7; i++)
		assert_int_equal(curl("rp-dichvucong", "POST", "/v1/verify",
		    "application/json", body, NULL, 0), 200);
	assert_int_equal(curl("rp-dichvucong", "POST", "/v1/verify",
	    "application/json", "{\"token\":\"x.y.z\"}", NULL, 0), 200);
	assert_int_equal(curl(NULL, "GET", "/metrics", NULL, NULL, m1,
	    1 << 20), 200);
	assert_true(metric(m1, "eidd_verdicts_total{verdict=\"ok\"}") -
	    metric(m0, "eidd_verdicts_total{verdict=\"ok\"}") == 7);
	assert_true(metric(m1, "eidd_verdicts_total{verdict=\"malformed\"}") -
	    metric(m0, "eidd_verdicts_total{verdict=\"malformed\"}") == 1);
	assert_true(metric(m1, "eidd_requests_total{op=\"verify\"}") -
	    metric(m0, "eidd_requests_total{op=\"verify\"}") == 8);
	assert_true(metric(m1, "eidd_request_duration_seconds_count") -
	    metric(m0, "eidd_request_duration_seconds_count") == 8);
	/*
	 * The new token's first answer put it in probation, its second (the
	 * first hit) sent it to LMDB, the other five were hits too.
	 */
	assert_true(metric(m1, "eidd_cache_promotions_total") -
	    metric(m0, "eidd_cache_promotions_total") == 1);
	assert_true(metric(m1, "eidd_cache_requests_total{result=\"hit\"}") -
	    metric(m0, "eidd_cache_requests_total{result=\"hit\"}") == 6);
	assert_true(metric(m1, "eidd_cache_probation_entries") >= 1);
	/* A handful of tokens: nothing for the admission test to decide. */
	assert_non_null(strstr(m1, "\neidd_cache_probation_bypass 0\n"));
	assert_non_null(strstr(m1, "\neidd_cache_bypass_changes_total 0\n"));
	/* By principal too. */
	assert_true(metric(m1, "eidd_principal_verdicts_total{principal="
	    "\"rp-dichvucong\",verdict=\"ok\"}") - metric(m0,
	    "eidd_principal_verdicts_total{principal=\"rp-dichvucong\","
	    "verdict=\"ok\"}") == 7);
	assert_true(metric(m1, "eidd_principal_requests_total{principal="
	    "\"rp-dichvucong\",op=\"verify\"}") - metric(m0,
	    "eidd_principal_requests_total{principal=\"rp-dichvucong\","
	    "op=\"verify\"}") == 8);
	/* A real exposition-format parser agrees. */
	snprintf(cmd, sizeof(cmd), "%s/metrics.txt", d.dir);
	fp = fopen(cmd, "w");
	assert_non_null(fp);
	fputs(m1, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s/metrics.txt' "
	    ">&2", d.dir);
	st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	free(tok);
	free(m0);
	free(m1);
}

static void
test_example_portal(void **state)
{
	char	 cmd[4096], crt[1024], key[1024], ca[1024], *tok;
	int	 st;

	(void)state;
	if (access("examples/verify.py", R_OK) != 0)
		fail_msg("examples/verify.py is missing");
	tok = th_token(EID_ALG_EDDSA, "dichvucong", "example");
	snprintf(cmd, sizeof(cmd), "python3 examples/verify.py --url "
	    "https://127.0.0.1:%d --cert '%s' --key '%s' --ca '%s' '%s' "
	    ">&2", http_port, th_certs_abs("rp-dichvucong.crt", crt,
	    sizeof(crt)), th_certs_abs("rp-dichvucong.key", key, sizeof(key)),
	    th_certs_abs("ca.pem", ca, sizeof(ca)), tok);
	st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	snprintf(cmd, sizeof(cmd), "python3 examples/verify.py --url "
	    "https://127.0.0.1:%d --cert '%s' --key '%s' --ca '%s' 'x.y.z' "
	    ">&2", http_port, crt, key, ca);
	st = system(cmd);
	assert_int_equal(WEXITSTATUS(st), 1);
	free(tok);
}

/* Ready until a drain begins; alive all along. */
/*
 * A client that pipelines requests and never reads the answers: once
 * the answers fill the sockets, evhttp stays writing, and the gateway
 * must end the connection once it holds one request and 32 KiB unread,
 * instead of taking the requests in without bound.  Up to 128 MiB are
 * offered; the daemon may grow by far less, and still serves others.
 */
static void
test_unread_answers_bounded(void **state)
{
	struct th_raw	 r;
	struct th_eidd	 e, h;
	struct timeval	 tmo = { 0, 300 * 1000 };
	const char	*one = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	char		*burst, out[256];
	size_t		 n1 = strlen(one), per = 64 * 1024 / n1, i;
	size_t		 sent = 0;
	long		 rss0, rss1;
	int		 rcv = 4096;

	(void)state;
	burst = malloc(per * n1);
	assert_non_null(burst);
	for (i = 0; i < per; i++)
		memcpy(burst + i * n1, one, n1);
	/* A long request deadline: only the input limit may end it. */
	h.port = gateway_start(&e, "request_timeout_ms = 30000; "
	    "max_body_bytes = 4096;");
	rss0 = th_eidd_rss_kb(&e);
	assert_true(th_raw_connect(&r, &h, "rp-dichvucong") || r.ssl != NULL);
	assert_int_equal(setsockopt(r.fd, SOL_SOCKET, SO_RCVBUF, &rcv,
	    sizeof(rcv)), 0);
	/* A write that cannot go on for 300 ms: the daemon stopped reading. */
	assert_int_equal(setsockopt(r.fd, SOL_SOCKET, SO_SNDTIMEO, &tmo,
	    sizeof(tmo)), 0);
	while (sent < 128u * 1024 * 1024 && th_raw_write(&r, burst, per * n1))
		sent += per * n1;
	rss1 = th_eidd_rss_kb(&e);
	th_raw_close(&r);
	free(burst);
	if (th_rss_meaningful()) {
		assert_true(rss0 > 0 && rss1 > 0);
		if (rss1 - rss0 > 32 * 1024)
			fail_msg("eidd grew by %ld kB for %zu bytes offered",
			    rss1 - rss0, sent);
	}
	assert_true(sent < 128u * 1024 * 1024);
	th_eidd_stop_ok(&e);
	assert_int_equal(curl(NULL, "GET", "/healthz", NULL, NULL, out,
	    sizeof(out)), 200);
}

/* What one SSL_read gives within timeout_ms (0 if nothing came). */
static size_t
read_some(struct th_raw *r, char *buf, size_t len, int timeout_ms,
    bool *closed)
{
	struct pollfd	 pfd = { r->fd, POLLIN, 0 };
	int		 n;

	if (SSL_pending(r->ssl) == 0 && poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	ERR_clear_error();
	if ((n = SSL_read(r->ssl, buf, (int)len)) > 0)
		return (size_t)n;
	if (SSL_get_error(r->ssl, n) != SSL_ERROR_WANT_READ)
		*closed = true;
	return 0;
}

/*
 * Read HTTP answers from r until want have come, the peer closes, or
 * timeout_ms pass; returns how many came and sets *closed.
 */
static size_t
http_answers(struct th_raw *r, size_t want, int timeout_ms, bool *closed)
{
	static const char mark[] = "HTTP/1.1 ";
	char		 buf[65536 + sizeof(mark)];
	struct timespec	 t0, t;
	size_t		 keep = 0, len, n = 0;
	const char	*p;

	*closed = false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		/* The last bytes of a chunk stay, for a mark cut in two. */
		len = keep + read_some(r, buf + keep, sizeof(buf) - 1 - keep,
		    100, closed);
		buf[len] = '\0';
		for (p = buf; (p = strstr(p, mark)) != NULL; p += sizeof(mark) - 1)
			n++;
		keep = len < sizeof(mark) - 2 ? len : sizeof(mark) - 2;
		memmove(buf, buf + len - keep, keep);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (n >= want || *closed || (t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
			return n;
	}
}

/*
 * Allowed unread input on the daemon below: 16 KiB of headers, a 1 MiB
 * body and 32 KiB (1,097,728 bytes).  A client that pipelines 900 GET
 * /metrics (31.5 KB; the 10 KiB answers soon leave the server stuck
 * writing into a 16 KiB receive buffer) and then one request of 16,000
 * bytes of headers and the largest body (some 1,096,000 bytes unread at
 * most, whatever the server answered before it was stuck, and over the
 * limit if the headers' 16 KiB were not allowed for) gets all 901
 * answers.  One that pipelines 900 and then 100 requests of 14,000
 * bytes (1.4 MB) is closed at once, well before the 30 s request
 * deadline (a read high-water mark, tried first, left such a client
 * waiting for that deadline with an answer owed).
 */
static void
test_pipelining_client(void **state)
{
	struct th_eidd	 e, h;
	struct th_raw	 r;
	struct timespec	 pause = { 0, 500 * 1000000L };
	const char	*metrics = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	const size_t	 hdrs = 16000, body = 1024 * 1024;
	char		*small, big[14000], *max;
	size_t		 n2 = strlen(metrics), i, got, mlen;
	bool		 closed;
	int		 rcv = 16 * 1024, k;

	(void)state;
	h.port = gateway_start(&e, "request_timeout_ms = 30000; "
	    "max_body_bytes = 1048576;");
	small = malloc(900 * n2);
	max = malloc(hdrs + 4 + body);
	assert_non_null(small);
	assert_non_null(max);
	for (i = 0; i < 900; i++)
		memcpy(small + i * n2, metrics, n2);
	k = snprintf(big, sizeof(big), "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "X-Pad: ");
	memset(big + k, 'a', sizeof(big) - (size_t)k - 4);
	memcpy(big + sizeof(big) - 4, "\r\n\r\n", 4);
	/* Headers of 16,000 bytes, then the largest body allowed. */
	k = snprintf(max, 256, "POST /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: %zu\r\nX-Pad: ", body);
	memset(max + k, 'b', hdrs - (size_t)k);
	memcpy(max + hdrs, "\r\n\r\n", 4);
	memset(max + hdrs + 4, '{', body);
	mlen = hdrs + 4 + body;

	/*
	 * Within the limit: every answer.  (The receive buffer is set before
	 * connect(): set after, below the window already offered, it makes
	 * the kernel drop data and back off for seconds.)
	 */
	assert_true(th_raw_connect_rcvbuf(&r, &h, "rp-dichvucong", rcv) ||
	    r.ssl != NULL);
	assert_true(th_raw_write(&r, small, 900 * n2));
	nanosleep(&pause, NULL);
	assert_true(th_raw_write(&r, max, mlen));
	nanosleep(&pause, NULL);
	got = http_answers(&r, 901, 20000, &closed);
	if (got != 901 || closed)
		fail_msg("within the limit: %zu of 901 answered, %s", got,
		    closed ? "closed" : "open");
	th_raw_close(&r);

	/*
	 * Past it: closed at once, not left to the deadline.  900 answers
	 * of 10 KiB pass what the server's socket can queue (its send
	 * buffer grows to 4 MiB), so the server is stuck writing however
	 * fast it runs.
	 */
	assert_true(th_raw_connect_rcvbuf(&r, &h, "rp-dichvucong", rcv) ||
	    r.ssl != NULL);
	assert_true(th_raw_write(&r, small, 900 * n2));
	nanosleep(&pause, NULL);
	for (i = 0; i < 100; i++)
		if (!th_raw_write(&r, big, sizeof(big)))
			break;
	got = http_answers(&r, 1000, 10000, &closed);
	if (!closed)
		fail_msg("not closed after 10 s, %zu of 1000 answered", got);
	assert_true(got < 1000);
	th_raw_close(&r);
	free(small);
	free(max);
	th_eidd_stop_ok(&e);
}

/*
 * One keep-alive connection, 20 GET /healthz one after the other.
 * evhttp writes an answer's head and body apart; with Nagle on, the body
 * waited for the client's delayed ACK (about 22 ms an answer here, so
 * some 440 ms for the 20).  Not under a wrapper such as valgrind, whose
 * own slowness the bound does not allow for.
 */
static void
test_keepalive_latency(void **state)
{
	struct th_raw	 r;
	struct th_eidd	 h = d;
	struct timespec	 t0, t1;
	const char	*one = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	const char	*wrap = getenv("EID_EIDD_WRAPPER");
	bool		 closed;
	int		 i, ms;

	(void)state;
	if (wrap != NULL && *wrap != '\0')
		skip();
	h.port = http_port;
	assert_true(th_raw_connect(&r, &h, "rp-dichvucong") || r.ssl != NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 20; i++) {
		assert_true(th_raw_write(&r, one, strlen(one)));
		assert_int_equal(http_answers(&r, 1, 5000, &closed), 1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	th_raw_close(&r);
	ms = (int)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000);
	if (ms > 200)
		fail_msg("20 answers on one connection took %d ms", ms);
}

/*
 * http.max_connections = 3: three idle TCP connections fill it; a
 * fourth waits in the accept queue (bytes that are no TLS would get it
 * closed at once if it were accepted) until one of the three goes.
 */
static void
test_connection_cap(void **state)
{
	struct th_eidd	 e, h;
	int		 fd[4], i;

	(void)state;
	h.port = gateway_start(&e, "max_connections = 3; "
	    "request_timeout_ms = 30000;");
	for (i = 0; i < 4; i++)
		fd[i] = th_tcp_connect(&h);
	assert_int_equal(write(fd[3], "hello\r\n\r\n", 9), 9);
	if (th_fd_closed_within(fd[3], 500))
		fail_msg("a fourth connection was served past the cap");
	close(fd[0]);
	if (!th_fd_closed_within(fd[3], 5000))
		fail_msg("the fourth connection was not served once one "
		    "closed");
	for (i = 1; i < 4; i++)
		close(fd[i]);
	th_eidd_stop_ok(&e);
}

/*
 * A reload that raises http.max_connections lets a waiting connection in
 * without another closing: the gateway's sweep checks the cap again.
 */
static void
test_connection_cap_reload(void **state)
{
	struct th_eidd	 e, h;
	char		*conf;
	int		 fd[2], i;

	(void)state;
	h.port = gateway_start(&e, "max_connections = 1; "
	    "request_timeout_ms = 30000;");
	for (i = 0; i < 2; i++)
		fd[i] = th_tcp_connect(&h);
	assert_int_equal(write(fd[1], "hello\r\n\r\n", 9), 9);
	if (th_fd_closed_within(fd[1], 500))
		fail_msg("a second connection was served past the cap");
	conf = gateway_conf("max_connections = 2; request_timeout_ms = 30000;");
	th_eidd_write_conf(&e, conf);
	free(conf);
	assert_int_equal(th_eidd_signal(&e, SIGHUP), 0);
	if (!th_fd_closed_within(fd[1], 8000))
		fail_msg("the second connection was not served after a "
		    "reload raised the cap");
	for (i = 0; i < 2; i++)
		close(fd[i]);
	th_eidd_stop_ok(&e);
}

/*
 * A reload of a file without http.listen: the gateway that runs goes on
 * serving over TLS (it needs the snapshot's TLS context), and the log
 * names the option that takes effect at the next start only.
 */
static void
test_http_listen_reload(void **state)
{
	struct th_eidd	 e;
	char		*conf, *at, out[4096];
	const char	*any = "listen = \"127.0.0.1:0\"; ";
	int		 saved = http_port, port, code;

	(void)state;
	port = gateway_start(&e, "");
	/* The same gateway settings, without the listener. */
	conf = gateway_conf("");
	assert_non_null(at = strstr(conf, any));
	memmove(at, at + strlen(any), strlen(at + strlen(any)) + 1);
	th_eidd_write_conf(&e, conf);
	free(conf);
	assert_int_equal(th_eidd_signal(&e, SIGHUP), 0);
	assert_true(th_eidd_log_has(&e, "event=reloaded", 8000));
	assert_true(th_eidd_log_has(&e, "event=reload_partial "
	    "options=http.listen note=", 0));
	http_port = port;
	code = curl(NULL, "GET", "/healthz", NULL, NULL, out, sizeof(out));
	http_port = saved;
	assert_int_equal(code, 200);
	th_eidd_stop_ok(&e);
}

/* CPU seconds the process has used (user and system). */
static double
proc_cpu_s(pid_t pid)
{
	char	 path[64], buf[1024], *p;
	double	 ut, st;
	FILE	*fp;
	int	 i;

	/* A /proc file has no size to read by: one line, by stdio. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	/* After the command's closing parenthesis: fields 3.. */
	p = strrchr(buf, ')');
	assert_non_null(p);
	for (i = 0; i < 12 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	assert_non_null(p);
	assert_int_equal(sscanf(p, " %lf %lf", &ut, &st), 2);
	return (ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * Out of descriptors: with a soft limit of 64, idle connections to the
 * gateway exhaust them.  The gateway must log one line, pause and retry,
 * not spin on accept() or write a line per try, and serve again once
 * the connections are gone.  (Not under a wrapper such as valgrind,
 * which needs descriptors of its own.)
 */
static void
test_out_of_descriptors(void **state)
{
	struct th_eidd	 e, h;
	struct rlimit	 was, low;
	struct timespec	 pause = { 1, 0 };
	const char	*wrap = getenv("EID_EIDD_WRAPPER");
	char		*log, out[256];
	size_t		 len, lines = 0;
	double		 cpu0, cpu1;
	int		 fd[80], i, saved = http_port;
	const char	*p;

	(void)state;
	if (wrap != NULL && *wrap != '\0')
		skip();
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
	low = was;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	h.port = gateway_start(&e, "request_timeout_ms = 30000;");
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
	for (i = 0; i < 80; i++)
		fd[i] = th_tcp_connect(&h);
	assert_true(th_eidd_log_has(&e, "accept_error", 5000));
	cpu0 = proc_cpu_s(e.pid);
	nanosleep(&pause, NULL);
	cpu1 = proc_cpu_s(e.pid);
	/* Spinning on accept() takes a whole CPU. */
	if (cpu1 - cpu0 > 0.5)
		fail_msg("eidd used %.2f CPU s in 1 s out of descriptors",
		    cpu1 - cpu0);
	log = th_read_file(e.log, &len);
	assert_non_null(log);
	for (p = log; (p = strstr(p, "accept_error")) != NULL; p++)
		lines++;
	free(log);
	if (lines > 4)
		fail_msg("%zu accept_error lines in the log", lines);
	for (i = 0; i < 80; i++)
		close(fd[i]);
	http_port = h.port;
	for (i = 0; i < 50 && curl(NULL, "GET", "/healthz", NULL, NULL, out,
	    sizeof(out)) != 200; i++)
		nanosleep(&(struct timespec){ 0, 100 * 1000000L }, NULL);
	http_port = saved;
	assert_true(i < 50);
	th_eidd_stop_ok(&e);
}

static void
test_ready_and_drain(void **state)
{
	struct eid_client	*c;
	char			 out[256], *tok;
	int			 i, code = 0;

	(void)state;
	assert_int_equal(curl(NULL, "GET", "/readyz", NULL, NULL, out,
	    sizeof(out)), 200);
	assert_int_equal(curl(NULL, "GET", "/healthz", NULL, NULL, out,
	    sizeof(out)), 200);
	/* A busy client keeps the drain going for a while. */
	c = th_client(&d, "rp-dichvucong");
	tok = th_token(EID_ALG_ES256, "dichvucong", "drain");
	assert_int_equal(th_verify(c, tok, NULL), EID_VERDICT_OK);
	assert_int_equal(kill(d.pid, SIGTERM), 0);
	for (i = 0; i < 20 && code != 503; i++) {
		struct timespec ms = { 0, 50 * 1000000L };

		(void)th_verify(c, tok, NULL);
		code = curl(NULL, "GET", "/readyz", NULL, NULL, out,
		    sizeof(out));
		nanosleep(&ms, NULL);
	}
	assert_int_equal(code, 503);
	assert_int_equal(curl(NULL, "GET", "/healthz", NULL, NULL, out,
	    sizeof(out)), 200);
	eid_client_close(c);
	free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_verdict_as_protobuf),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_trickled_body),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_example_portal),
		cmocka_unit_test(test_unread_answers_bounded),
		cmocka_unit_test(test_pipelining_client),
		cmocka_unit_test(test_keepalive_latency),
		cmocka_unit_test(test_connection_cap),
		cmocka_unit_test(test_connection_cap_reload),
		cmocka_unit_test(test_http_listen_reload),
		cmocka_unit_test(test_out_of_descriptors),
		cmocka_unit_test(test_ready_and_drain),
	};

	return cmocka_run_group_tests_name("eidd_http", tests, setup,
	    teardown);
}
