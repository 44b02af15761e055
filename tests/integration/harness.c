/*
 * tests/integration/harness.c -- see harness.h.  Loopback only; every
 * loop is bounded in count and time; every process started is stopped.
 */
/* asprintf, realpath. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>

#include "harness.h"
#include "helpers.h"
#include "kinds.h"

#define TH_START_MS	20000	/* generous: the daemon may run under ASan */
#define TH_STOP_MS	20000

/*
 * Every daemon started and not yet reaped: a failing test jumps out of
 * its function before it can stop what it started, so the process
 * stops them at exit instead (and the kernel, if it dies by a signal:
 * PR_SET_PDEATHSIG in th_eidd_start_conf()).
 */
#define TH_MAX_DAEMONS	16
static pid_t th_pids[TH_MAX_DAEMONS];

static void
th_kill_all(void)
{
	size_t	 i;

	for (i = 0; i < TH_MAX_DAEMONS; i++)
		if (th_pids[i] > 0) {
			kill(th_pids[i], SIGKILL);
			waitpid(th_pids[i], NULL, 0);
			th_pids[i] = 0;
		}
}

static void
th_track(pid_t pid, bool on)
{
	static bool	 registered;
	size_t		 i;

	if (!registered) {
		atexit(th_kill_all);
		registered = true;
	}
	for (i = 0; i < TH_MAX_DAEMONS; i++)
		if (on ? th_pids[i] == 0 : th_pids[i] == pid) {
			th_pids[i] = on ? pid : 0;
			return;
		}
}

static const char *
th_build(void)
{
	const char	*b = getenv("EID_BUILD");

	return b != NULL && *b != '\0' ? b : "build";
}

void
th_sleep_ms(int ms)
{
	struct timespec	 ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Is every thread of pid stopped (state T or t; one exiting, Z or X, runs
 * no more either)?  0 yes, 1 no, -1 gone.
 */
static int
th_all_stopped(pid_t pid)
{
	char		 path[64], buf[512], *p;
	struct dirent	*de;
	DIR		*d;
	FILE		*f;
	size_t		 n;
	int		 running = 0, seen = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while (running == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat",
		    (int)pid, de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* a thread that just ended */
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* "tid (comm) S ...": comm may hold anything, ')' too. */
		if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' ||
		    p[2] == '\0')
			continue;
		seen++;
		if (strchr("TtZX", p[2]) == NULL)
			running = 1;
	}
	closedir(d);
	return seen == 0 ? -1 : running;
}

bool
th_stopped_within(pid_t pid, int timeout_ms)
{
	int	 waited, r;

	for (waited = 0; waited <= timeout_ms; waited += 2) {
		if ((r = th_all_stopped(pid)) != 1)
			return r == 0;
		th_sleep_ms(2);
	}
	return false;
}

const char *
th_certs_abs(const char *name, char *buf, size_t len)
{
	char	 dir[PATH_MAX];

	if (realpath(th_certs_dir(), dir) == NULL)
		fail_msg("realpath %s: %s", th_certs_dir(), strerror(errno));
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

char *
th_eidd_conf_text(const char *limits, const char *extra_certs)
{
	static const char *const files[] = { "es256", "es384", "rs256",
		"ps256", "eddsa" };
	static const char *const pins[] = { "", "", " alg = \"RS256\";",
		" alg = \"PS256\";", "" };
	char	*text = NULL, p[4][PATH_MAX + 64], certs[8192], one[PATH_MAX];
	size_t	 o = 0, i;
	int	 n;

	for (i = 0; i < 5; i++) {
		char name[64];

		snprintf(name, sizeof(name), "idp-%s.chain.pem", files[i]);
		o += (size_t)snprintf(certs + o, sizeof(certs) - o,
		    "%s{ file = \"%s\";%s }", i ? ",\n      " : "",
		    th_certs_abs(name, one, sizeof(one)), pins[i]);
	}
	th_certs_abs("server.crt", p[0], sizeof(p[0]));
	th_certs_abs("server.key", p[1], sizeof(p[1]));
	th_certs_abs("ca.pem", p[2], sizeof(p[2]));
	th_certs_abs("root-ca.crt", p[3], sizeof(p[3]));
	n = asprintf(&text,
	    "listen = \"127.0.0.1:0\";\n"
	    "workers = 2;\n"
	    "state_dir = \"var\";\n"
	    "log_level = \"debug\";\n"
	    "tls = { certificate = \"%s\"; key = \"%s\"; client_ca = \"%s\"; };\n"
	    "limits = { %s };\n"
	    "issuers = ( {\n"
	    "    iss = \"" TH_ISS "\";\n"
	    "    anchors = [ \"%s\" ];\n"
	    "    certificates = ( %s%s%s );\n"
	    "} );\n"
	    "principals = (\n"
	    "  { name = \"rp-dichvucong\"; role = \"relying-party\";\n"
	    "    subject = \"/C=VN/O=eidd development/OU=relying-party/"
	    "CN=rp-dichvucong\";\n"
	    "    audiences = [ \"dichvucong\" ]; },\n"
	    "  { name = \"rp-bhxh\"; role = \"relying-party\";\n"
	    "    subject = \"/C=VN/O=eidd development/OU=relying-party/"
	    "CN=rp-bhxh\";\n"
	    "    audiences = [ \"bhxh\" ]; },\n"
	    "  { name = \"admin\"; role = \"admin\";\n"
	    "    subject = \"/C=VN/O=eidd development/OU=operator/CN=admin\"; }\n"
	    ");\n", p[0], p[1], p[2], limits != NULL ? limits : "", p[3],
	    certs, extra_certs != NULL ? ",\n      " : "",
	    extra_certs != NULL ? extra_certs : "");
	assert_true(n > 0);
	return text;
}

void
th_eidd_write_conf(struct th_eidd *d, const char *text)
{
	char	 tmp[700];
	FILE	*fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", d->conf);
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rename(tmp, d->conf), 0);
}

bool
th_eidd_log_has(struct th_eidd *d, const char *text, int timeout_ms)
{
	char	*log;
	size_t	 len;
	int	 waited = 0;
	bool	 found;

	for (;;) {
		log = th_read_file(d->log, &len);
		found = log != NULL && strstr(log, text) != NULL;
		free(log);
		if (found || waited >= timeout_ms)
			return found;
		th_sleep_ms(10);
		waited += 10;
	}
}

void
th_eidd_start_conf(struct th_eidd *d, const char *conf)
{
	char		 path[600], *log = NULL, *p;
	const char	*wrap = getenv("EID_EIDD_WRAPPER");
	size_t		 len;
	pid_t		 parent;
	int		 waited, st, fd;

	memset(d, 0, sizeof(*d));
	/* Writing to a connection the daemon closed must fail, not kill. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(path, sizeof(path), "%s/test-tmp", th_build());
	mkdir(path, 0700);
	snprintf(d->dir, sizeof(d->dir), "%s/test-tmp/eidd-XXXXXX",
	    th_build());
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->conf, sizeof(d->conf), "%s/eidd.conf", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/eidd.log", d->dir);
	th_eidd_write_conf(d, conf);
	snprintf(path, sizeof(path), "%s/bin/eidd", th_build());

	parent = getpid();
	d->pid = fork();
	assert_true(d->pid >= 0);
	if (d->pid > 0)
		th_track(d->pid, true);
	if (d->pid == 0) {
		/*
		 * A test that dies by a signal (abort(), a FORTIFY or
		 * sanitizer report) runs no atexit() handler: the kernel
		 * kills this daemon with it instead.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
		    getppid() != parent)
			_exit(127);
		fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 ||
		    dup2(fd, STDOUT_FILENO) < 0)
			_exit(127);
		close(fd);
		if (wrap != NULL && *wrap != '\0') {
			char cmd[2048];

			snprintf(cmd, sizeof(cmd), "exec %s '%s' -d -c '%s'",
			    wrap, path, d->conf);
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		} else
			execl(path, "eidd", "-d", "-c", d->conf, (char *)NULL);
		_exit(127);
	}
	for (waited = 0; waited < TH_START_MS; waited += 10) {
		free(log);
		log = th_read_file(d->log, &len);
		if (log != NULL && (p = strstr(log,
		    "event=listening addr=127.0.0.1:")) != NULL) {
			d->port = atoi(p + strlen(
			    "event=listening addr=127.0.0.1:"));
			break;
		}
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			th_track(d->pid, false);
			d->pid = 0;
			fail_msg("eidd exited at startup (status %d): %s", st,
			    log != NULL ? log : "");
		}
		th_sleep_ms(10);
	}
	free(log);
	if (d->port <= 0) {
		th_eidd_stop(d);
		fail_msg("eidd did not start listening");
	}
	snprintf(d->addr, sizeof(d->addr), "127.0.0.1:%d", d->port);
}

void
th_eidd_start(struct th_eidd *d, const char *limits)
{
	char	*text = th_eidd_conf_text(limits, NULL);

	th_eidd_start_conf(d, text);
	free(text);
}

/* Wait for the daemon to exit; kill it after TH_STOP_MS. */
static int
th_eidd_reap(struct th_eidd *d)
{
	int	 st = -1, waited;

	for (waited = 0; waited < TH_STOP_MS; waited += 10) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			th_track(d->pid, false);
			d->pid = 0;
			return st;
		}
		th_sleep_ms(10);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &st, 0);
	th_track(d->pid, false);
	d->pid = 0;
	return -1;
}

int
th_eidd_signal(struct th_eidd *d, int sig)
{
	if (d->pid <= 0)
		return -1;
	assert_int_equal(kill(d->pid, sig), 0);
	if (sig == SIGTERM || sig == SIGINT || sig == SIGKILL)
		return th_eidd_reap(d);
	return 0;
}

int
th_eidd_stop(struct th_eidd *d)
{
	int	 st;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	st = th_eidd_reap(d);
	/* Say how it ended when that was not a clean exit. */
	if (st == -1)
		print_error("eidd did not stop within %d ms (killed); log: %s\n",
		    TH_STOP_MS, d->log);
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		print_error("eidd ended with %s %d; log: %s\n", WIFEXITED(st) ?
		    "exit status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) :
		    WTERMSIG(st), d->log);
	return st;
}

void
th_eidd_cleanup(struct th_eidd *d)
{
	char	 cmd[700];

	if (d->pid > 0 || d->dir[0] == '\0' || strchr(d->dir, '\'') != NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	if (system(cmd) != 0)
		print_error("cannot remove %s\n", d->dir);
	d->dir[0] = '\0';
}

void
th_eidd_stop_ok(struct th_eidd *d)
{
	int	 st = th_eidd_stop(d);

	assert_true(st != -1 && WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	th_eidd_cleanup(d);
}

/* Line by line: /proc files report a size of 0, th_read_file reads none. */
bool
th_rss_meaningful(void)
{
	const char	*b = getenv("EID_BUILD"), *w = getenv("EID_EIDD_WRAPPER");

	return (b == NULL || strstr(b, "asan") == NULL) &&
	    (w == NULL || *w == '\0');
}

long
th_eidd_rss_kb(const struct th_eidd *d)
{
	char	 path[64], line[256];
	FILE	*fp;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(fp);
	return kb;
}

static void
th_client_config(const struct th_eidd *d, const char *name,
    struct eid_client_config *cfg, char cert[PATH_MAX],
    char key[PATH_MAX], char ca[PATH_MAX])
{
	char	 n[PATH_MAX];

	memset(cfg, 0, sizeof(*cfg));
	snprintf(n, sizeof(n), "%s.crt", name);
	th_certs_abs(n, cert, PATH_MAX);
	snprintf(n, sizeof(n), "%s.key", name);
	th_certs_abs(n, key, PATH_MAX);
	th_certs_abs("ca.pem", ca, PATH_MAX);
	cfg->server = d->addr;
	cfg->cert = name != NULL ? cert : NULL;
	cfg->key = name != NULL ? key : NULL;
	cfg->ca = ca;
	cfg->timeout_ms = 15000;
}

struct eid_client *
th_client_try(const struct th_eidd *d, const char *name,
    enum eid_client_err *e, char *err, size_t errlen)
{
	struct eid_client_config cfg;
	char			 cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX];

	th_client_config(d, name, &cfg, cert, key, ca);
	return eid_client_connect(&cfg, e, err, errlen);
}

struct eid_client *
th_client(const struct th_eidd *d, const char *name)
{
	struct eid_client	*c;
	enum eid_client_err	 e;
	char			 err[256];

	if ((c = th_client_try(d, name, &e, err, sizeof(err))) == NULL)
		fail_msg("connect as %s: %s", name, err);
	return c;
}

bool
th_raw_connect(struct th_raw *r, const struct th_eidd *d, const char *name)
{
	return th_raw_connect_rcvbuf(r, d, name, 0);
}

bool
th_raw_connect_rcvbuf(struct th_raw *r, const struct th_eidd *d,
    const char *name, int rcvbuf)
{
	static const unsigned char alpn[] = "\x05" "eid/1";
	struct sockaddr_in	 sin;
	char			 cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX];
	char			 n[PATH_MAX];

	memset(r, 0, sizeof(*r));
	r->fd = th_tcp_connect_rcvbuf(d, rcvbuf);
	r->ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(r->ctx);
	th_certs_abs("ca.pem", ca, sizeof(ca));
	assert_int_equal(SSL_CTX_load_verify_locations(r->ctx, ca, NULL), 1);
	SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER, NULL);
	if (name != NULL) {
		snprintf(n, sizeof(n), "%s.crt", name);
		th_certs_abs(n, cert, sizeof(cert));
		snprintf(n, sizeof(n), "%s.key", name);
		th_certs_abs(n, key, sizeof(key));
		assert_int_equal(SSL_CTX_use_certificate_chain_file(r->ctx,
		    cert), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(r->ctx, key,
		    SSL_FILETYPE_PEM), 1);
	}
	assert_int_equal(SSL_CTX_set_alpn_protos(r->ctx, alpn,
	    sizeof(alpn) - 1), 0);
	r->ssl = SSL_new(r->ctx);
	assert_non_null(r->ssl);
	SSL_set_fd(r->ssl, r->fd);
	(void)sin;
	ERR_clear_error();
	if (SSL_connect(r->ssl) != 1)
		return false;
	return true;
}

bool
th_raw_write(struct th_raw *r, const void *buf, size_t len)
{
	ERR_clear_error();
	return SSL_write(r->ssl, buf, (int)len) == (int)len;
}

size_t
th_raw_read(struct th_raw *r, void *buf, size_t len, int timeout_ms,
    bool *closed)
{
	struct pollfd	 pfd = { r->fd, POLLIN, 0 };
	struct timespec	 t0, t;
	size_t		 got = 0;
	int		 n, left;

	*closed = false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < len) {
		if (SSL_pending(r->ssl) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
			    (t.tv_nsec - t0.tv_nsec) / 1000000);
			if (left <= 0 || poll(&pfd, 1, left) <= 0)
				break;
		}
		ERR_clear_error();
		n = SSL_read(r->ssl, (char *)buf + got, (int)(len - got));
		if (n <= 0) {
			if (SSL_get_error(r->ssl, n) == SSL_ERROR_WANT_READ)
				continue;
			*closed = true;
			break;
		}
		got += (size_t)n;
	}
	return got;
}

void
th_raw_close(struct th_raw *r)
{
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

int
th_tcp_connect(const struct th_eidd *d)
{
	return th_tcp_connect_rcvbuf(d, 0);
}

int
th_tcp_connect_rcvbuf(const struct th_eidd *d, int rcvbuf)
{
	struct sockaddr_in	 sin;
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)d->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	/* Before connect(): the window offered follows from it. */
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	return fd;
}

void
th_hello_send(int fd)
{
	SSL_CTX		*ctx;
	SSL		*ssl;
	BIO		*rb, *wb;
	char		*hello;
	long		 len;
	int		 r;

	ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(ctx);
	ssl = SSL_new(ctx);
	assert_non_null(ssl);
	/*
	 * Through memory: from the socket it would read the answer, when it
	 * comes at once, and send the rest of the handshake.
	 */
	rb = BIO_new(BIO_s_mem());
	wb = BIO_new(BIO_s_mem());
	assert_true(rb != NULL && wb != NULL);
	SSL_set_bio(ssl, rb, wb);
	ERR_clear_error();
	r = SSL_connect(ssl);
	assert_int_equal(SSL_get_error(ssl, r), SSL_ERROR_WANT_READ);
	len = BIO_get_mem_data(wb, &hello);
	assert_true(len > 0);
	assert_int_equal(write(fd, hello, (size_t)len), len);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
}

int
th_hello_connect(const struct th_eidd *d)
{
	int	 fd;

	fd = th_tcp_connect(d);
	th_hello_send(fd);
	return fd;
}

bool
th_fd_readable_within(int fd, int timeout_ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };

	return poll(&pfd, 1, timeout_ms) > 0;
}

bool
th_fd_closed_within(int fd, int timeout_ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	struct timespec	 t0, t;
	char		 buf[4096];
	ssize_t		 n;
	int		 left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return false;
		if (poll(&pfd, 1, left < 50 ? left : 50) > 0) {
			n = recv(fd, buf, sizeof(buf), 0);
			if (n == 0 || (n < 0 && errno != EAGAIN &&
			    errno != EINTR))
				return true;
		}
	}
}

char *
th_token(enum eid_alg alg, const char *aud, const char *jti)
{
	EVP_PKEY	*k = th_dev_key(alg);
	json_t		*c = th_claims();
	char		*h, *p, *t;

	if (aud != NULL)
		json_object_set_new(c, "aud", json_string(aud));
	if (jti != NULL)
		json_object_set_new(c, "jti", json_string(jti));
	h = th_header(alg, th_dev_kid(alg));
	p = th_dump(c);
	t = th_sign(k, alg, h, p);
	free(h);
	free(p);
	json_decref(c);
	EVP_PKEY_free(k);
	return t;
}

char *
th_kind_token(size_t kind, size_t alg, struct eid_verify_req *q)
{
	char	 args[256], *out, *nl = NULL;
	int	 st;

	if (kinds[kind].ec_only && strncmp(algs[alg], "ES", 2) != 0)
		return NULL;
	snprintf(args, sizeof(args), "--alg %s --kind %s", algs[alg],
	    kinds[kind].name);
	out = th_run_mint(args, &st);
	if (st != 0 || (nl = strchr(out, '\n')) == NULL)
		fail_msg("eid-mint %s failed", args);
	*nl = '\0';
	memset(q, 0, sizeof(*q));
	q->token = out;
	q->token_len = strlen(out);
	q->min_level = kinds[kind].min_level;
	q->nonce = kinds[kind].nonce;
	return out;
}

enum eid_verdict
th_verify(struct eid_client *c, const char *token, const char *aud)
{
	struct eid_verify_req	 q;
	struct eid_verify_res	 r;
	enum eid_client_err	 e;

	memset(&q, 0, sizeof(q));
	q.token = token;
	q.token_len = strlen(token);
	q.audience = aud;
	if ((e = eid_client_verify(c, &q, &r)) != EID_CLIENT_OK)
		fail_msg("verify: %s: %s", eid_client_strerror(e),
		    eid_client_last_error(c));
	return r.verdict;
}
