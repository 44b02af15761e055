/*
 * tests/integration/test_eidd_lifecycle.c -- SIGHUP and SIGTERM: a reload
 * that names a new signing key makes its tokens verify without a restart
 * while old connections stay up; a broken configuration keeps the old
 * keys working; SIGTERM during a pipelined burst answers every request
 * sent before the signal, then exits 0.  Also eidd -t, and the rules
 * for the server key's mode and owner.
 */
/* asprintf. */
#define _GNU_SOURCE
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "harness.h"
#include "helpers.h"

/* A token signed by certs/dev/test/idp-es256-b, not configured at start. */
static char *
second_key_token(void)
{
	EVP_PKEY	*k;
	json_t		*c;
	char		 path[4096], kid[EID_THUMBPRINT_LEN + 1];
	char		*h, *p, *t;

	k = th_load_key(th_certs_abs("test/idp-es256-b.key", path,
	    sizeof(path)));
	assert_non_null(k);
	assert_int_equal(eid_jwk_thumbprint(k, kid, sizeof(kid)), EID_OK);
	c = th_claims();
	h = th_header(EID_ALG_ES256, kid);
	p = th_dump(c);
	t = th_sign(k, EID_ALG_ES256, h, p);
	free(h);
	free(p);
	json_decref(c);
	EVP_PKEY_free(k);
	return t;
}

static void
test_reload_new_key(void **state)
{
	struct th_eidd		 d;
	struct eid_client	*c;
	char			*tok2, *tok1, *conf, cert[4096], extra[4200];

	(void)state;
	th_eidd_start(&d, NULL);
	tok1 = th_token(EID_ALG_ES256, "dichvucong", "old-key");
	tok2 = second_key_token();
	c = th_client(&d, "rp-dichvucong");
	assert_int_equal(th_verify(c, tok2, NULL), EID_VERDICT_UNKNOWN_KEY);

	snprintf(extra, sizeof(extra), "{ file = \"%s\"; }",
	    th_certs_abs("test/idp-es256-b.chain.pem", cert, sizeof(cert)));
	conf = th_eidd_conf_text(NULL, extra);
	th_eidd_write_conf(&d, conf);
	free(conf);
	th_eidd_signal(&d, SIGHUP);
	assert_true(th_eidd_log_has(&d, "event=reloaded generation=2", 10000));
	/* The same connection, still up, now knows the key. */
	assert_int_equal(th_verify(c, tok2, NULL), EID_VERDICT_OK);
	assert_int_equal(th_verify(c, tok1, NULL), EID_VERDICT_OK);

	/*
	 * A configuration that includes a directory, on which libconfig
	 * exit()s: refused, and the daemon lives on.
	 */
	th_eidd_write_conf(&d, "@include \"\"\n");
	th_eidd_signal(&d, SIGHUP);
	assert_true(th_eidd_log_has(&d, "not a regular file", 10000));
	assert_int_equal(th_verify(c, tok2, NULL), EID_VERDICT_OK);

	/* A broken configuration: logged, and the last good one stays. */
	th_eidd_write_conf(&d, "issuers = ( this is not a config");
	th_eidd_signal(&d, SIGHUP);
	assert_true(th_eidd_log_has(&d, "event=reload_failed", 10000));
	assert_int_equal(th_verify(c, tok2, NULL), EID_VERDICT_OK);
	assert_int_equal(th_verify(c, tok1, NULL), EID_VERDICT_OK);
	eid_client_close(c);
	c = th_client(&d, "rp-dichvucong");
	assert_int_equal(th_verify(c, tok2, NULL), EID_VERDICT_OK);
	eid_client_close(c);

	free(tok1);
	free(tok2);
	th_eidd_stop_ok(&d);
}

#define BURST	600

static void
test_sigterm_answers_in_flight(void **state)
{
	struct th_eidd		 d;
	struct eid_client	*c;
	struct eid_verify_req	 q;
	struct eid_verify_res	 r;
	char			*tok;
	size_t			 i;
	int			 st;

	(void)state;
	th_eidd_start(&d, NULL);
	c = th_client(&d, "rp-dichvucong");
	tok = th_token(EID_ALG_ES256, "dichvucong", "burst");
	memset(&q, 0, sizeof(q));
	q.token = tok;
	q.token_len = strlen(tok);
	for (i = 0; i < BURST; i++)
		assert_int_equal(eid_client_send_verify(c, &q), EID_CLIENT_OK);
	assert_int_equal(eid_client_flush(c), EID_CLIENT_OK);
	/* Signal now; do not wait for the exit yet. */
	assert_int_equal(kill(d.pid, SIGTERM), 0);
	for (i = 0; i < BURST; i++) {
		assert_int_equal(eid_client_recv_verify(c, &r), EID_CLIENT_OK);
		assert_int_equal(r.verdict, EID_VERDICT_OK);
	}
	assert_string_equal(r.token_id, "burst");
	eid_client_close(c);
	free(tok);
	st = th_eidd_stop(&d);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(th_eidd_log_has(&d, "event=shutdown", 0));
	th_eidd_cleanup(&d);
}

/*
 * Write text to path, run "eidd -t ARGS -c path", return its output
 * (stdout, and stderr if err2out) and set *status to its exit status.
 */
static char *
config_check(const char *path, const char *text, const char *args,
    bool err2out, int *status)
{
	const char	*b = getenv("EID_BUILD");
	char		 cmd[2048], *out;
	FILE		*fp, *p;
	size_t		 n;

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "'%s/bin/eidd' -t %s -c '%s' %s",
	    b != NULL && *b ? b : "build", args, path,
	    err2out ? "2>&1" : "2>/dev/null");
	p = popen(cmd, "r");
	assert_non_null(p);
	out = calloc(1, 16384);
	assert_non_null(out);
	n = fread(out, 1, 16383, p);
	out[n] = '\0';
	*status = WEXITSTATUS(pclose(p));
	remove(path);
	return out;
}

/* eidd -t: 0 for a good configuration, 1 with file:line for a bad one. */
static void
test_config_check(void **state)
{
	char		 cmd[2048], path[1024], *conf, *out, *esc, *t;
	const char	*b = getenv("EID_BUILD");
	FILE		*fp;
	int		 st;

	(void)state;
	snprintf(path, sizeof(path), "%s/test-tmp/check.conf",
	    b != NULL && *b ? b : "build");
	conf = th_eidd_conf_text("idle_timeout_ms = 5;", NULL);
	out = config_check(path, conf, "", true, &st);
	free(conf);
	assert_int_equal(st, 1);
	/* The file, the line, the option and what is wrong with it. */
	if (strstr(out, "check.conf:6: limits.idle_timeout_ms: 5 is out of "
	    "range") == NULL)
		fail_msg("unexpected: %s", out);
	free(out);

	/*
	 * -t -v prints strings as libconfig literals: a subject with a
	 * quote, a backslash and a tab comes out escaped, never raw.
	 */
	conf = th_eidd_conf_text(NULL, NULL);
	esc = strstr(conf, "CN=rp-bhxh\"");
	assert_non_null(esc);
	assert_true(asprintf(&t, "%.*sCN=rp-b\\\"h\\\\x\\th\"%s",
	    (int)(esc - conf), conf, esc + strlen("CN=rp-bhxh\"")) > 0);
	free(conf);
	out = config_check(path, t, "-v", false, &st);
	free(t);
	assert_int_equal(st, 0);
	if (strstr(out, "CN=rp-b\\\"h\\\\x\\x09h\";") == NULL)
		fail_msg("subject not escaped: %s", out);
	free(out);

	/*
	 * @include names a file relative to the configuration's directory,
	 * as every other file name is, not to the working directory.
	 */
	snprintf(cmd, sizeof(cmd), "%s/test-tmp/part.conf",
	    b != NULL && *b ? b : "build");
	fp = fopen(cmd, "w");
	assert_non_null(fp);
	conf = th_eidd_conf_text(NULL, NULL);
	fputs(conf, fp);
	fclose(fp);
	free(conf);
	out = config_check(path, "@include \"part.conf\"\n", "", true, &st);
	remove(cmd);
	if (st != 0)
		fail_msg("@include relative to the config's directory: %s",
		    out);
	free(out);

	/*
	 * An @include of a directory ("" names the configuration's own):
	 * libconfig's scanner would exit() reading it; refused, line and
	 * all, before libconfig opens it.
	 */
	out = config_check(path, "# a directory\n  @include \"\"\n", "",
	    true, &st);
	if (st != 1 || strstr(out, "check.conf:2: @include: ") == NULL ||
	    strstr(out, "not a regular file") == NULL)
		fail_msg("@include of a directory: status %d: %s", st, out);
	free(out);

	/* -t -v prints the normalized configuration: a golden file. */
	snprintf(cmd, sizeof(cmd), "'%s/bin/eidd' -t -v -c etc/eidd.dev.conf "
	    "2>/dev/null | diff -u tests/config/eidd.dev.conf.ok - >&2",
	    b != NULL && *b ? b : "build");
	st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* conf with the server key's path replaced by key. */
static char *
conf_with_key(const char *user, const char *key)
{
	char	 dev[600], *base, *at, *conf;

	th_certs_abs("server.key", dev, sizeof(dev));
	base = th_eidd_conf_text(NULL, NULL);
	assert_non_null(at = strstr(base, dev));
	*at = '\0';
	assert_true(asprintf(&conf, "%s%s%s%s", user, base, key,
	    at + strlen(dev)) > 0);
	free(base);
	return conf;
}

/*
 * The key at dev rewritten to key encrypted with a passphrase: refused
 * with a tls.key error, never a prompt; key is then restored from dev.
 */
static void
encrypted_key_refused(const char *path, const char *conf, const char *dev,
    const char *key)
{
	EVP_PKEY	*pk;
	FILE		*fp;
	char		*out;
	int		 st;

	assert_non_null(fp = fopen(dev, "r"));
	assert_non_null(pk = PEM_read_PrivateKey(fp, NULL, NULL, NULL));
	fclose(fp);
	assert_non_null(fp = fopen(key, "w"));
	assert_int_equal(PEM_write_PKCS8PrivateKey(fp, pk, EVP_aes_256_cbc(),
	    "secret", 6, NULL, NULL), 1);
	assert_int_equal(fclose(fp), 0);
	out = config_check(path, conf, "< /dev/null", true, &st);
	if (st != 1 || strstr(out, "secrecy.key: ") == NULL ||
	    strstr(out, "tls.key") == NULL)
		fail_msg("encrypted key: status %d: %s", st, out);
	free(out);
	assert_non_null(fp = fopen(key, "w"));
	assert_int_equal(PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL,
	    NULL), 1);
	assert_int_equal(fclose(fp), 0);
	EVP_PKEY_free(pk);
}

/*
 * The server's private key (eidd -t): open to group or others, refused;
 * encrypted, refused without a prompt; as root, owned by anyone but
 * root or "user", refused, since that someone could replace it; owned
 * by "user", accepted.
 */
static void
test_key_secrecy(void **state)
{
	const char	*b = getenv("EID_BUILD");
	char		 path[1024], key[1024], dev[600], *conf, *out, *text;
	struct passwd	*pw = NULL;
	size_t		 len;
	FILE		*fp;
	int		 st;

	(void)state;
	snprintf(path, sizeof(path), "%s/test-tmp/secrecy.conf",
	    b != NULL && *b ? b : "build");
	/* Absolute: a relative name is the configuration's directory's. */
	assert_non_null(getcwd(dev, sizeof(dev)));
	snprintf(key, sizeof(key), "%s%s%s/test-tmp/secrecy.key",
	    b != NULL && *b == '/' ? "" : dev, b != NULL && *b == '/' ? "" :
	    "/", b != NULL && *b ? b : "build");
	th_certs_abs("server.key", dev, sizeof(dev));
	assert_non_null(text = th_read_file(dev, &len));
	/* A new file: one a failed run left keeps its owner. */
	(void)remove(key);
	assert_non_null(fp = fopen(key, "w"));
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	free(text);

	assert_int_equal(chmod(key, 0640), 0);
	conf = conf_with_key("", key);
	out = config_check(path, conf, "", true, &st);
	if (st != 1 || strstr(out, "secrecy.key: readable by group or others "
	    "(mode 640)") == NULL)
		fail_msg("mode 640: status %d: %s", st, out);
	free(out);
	assert_int_equal(chmod(key, 0600), 0);
	out = config_check(path, conf, "", true, &st);
	if (st != 0)
		fail_msg("mode 600: status %d: %s", st, out);
	free(out);
	encrypted_key_refused(path, conf, dev, key);
	free(conf);

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL) {
		remove(key);
		print_message("# not root (or no user nobody): owners not "
		    "checked\n");
		skip();
		return;
	}
	assert_int_equal(chown(key, 12345, 12345), 0);
	conf = conf_with_key("", key);
	out = config_check(path, conf, "", true, &st);
	if (st != 1 || strstr(out, "secrecy.key: owned by uid 12345, not "
	    "root or this user") == NULL)
		fail_msg("uid 12345: status %d: %s", st, out);
	free(out);
	free(conf);
	conf = conf_with_key("user = \"nobody\";\n", key);
	out = config_check(path, conf, "", true, &st);
	if (st != 1 || strstr(out, "owned by uid 12345, not root or user "
	    "nobody") == NULL)
		fail_msg("uid 12345, user nobody: status %d: %s", st, out);
	free(out);
	free(conf);
	conf = conf_with_key("user = \"eidd-no-such-user\";\n", key);
	out = config_check(path, conf, "", true, &st);
	if (st != 1 || strstr(out, "user eidd-no-such-user does not exist") ==
	    NULL)
		fail_msg("user that does not exist: status %d: %s", st, out);
	free(out);
	free(conf);
	conf = conf_with_key("user = \"nobody\";\n", key);
	assert_int_equal(chown(key, pw->pw_uid, pw->pw_gid), 0);
	out = config_check(path, conf, "", true, &st);
	if (st != 0)
		fail_msg("owned by nobody, user nobody: status %d: %s", st,
		    out);
	free(out);
	free(conf);
	remove(key);
}

/* Started as root with "user": serves as that user, for good. */
static void
test_drops_root(void **state)
{
	struct th_eidd		 d;
	struct eid_client	*c;
	struct passwd		*pw;
	struct stat		 st;
	char			*base, *conf, path[1100], *status, *u;
	char			*tok;
	FILE			*fp;
	unsigned int		 r, e, s2, f;

	(void)state;
	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL) {
		print_message("# not root (or no user nobody): nothing to "
		    "drop\n");
		skip();
	}
	base = th_eidd_conf_text(NULL, NULL);
	assert_true(asprintf(&conf, "user = \"nobody\";\n%s", base) > 0);
	free(base);
	th_eidd_start_conf(&d, conf);
	free(conf);
	/* /proc files have no size: read them line by line. */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)d.pid);
	fp = fopen(path, "r");
	assert_non_null(fp);
	status = calloc(1, 256);
	assert_non_null(status);
	u = NULL;
	while (fgets(status, 256, fp) != NULL)
		if (strncmp(status, "Uid:", 4) == 0) {
			u = status;
			break;
		}
	fclose(fp);
	assert_non_null(u);
	assert_int_equal(sscanf(u + 4, "%u %u %u %u", &r, &e, &s2, &f), 4);
	assert_int_equal(r, pw->pw_uid);
	assert_int_equal(e, pw->pw_uid);
	assert_int_equal(s2, pw->pw_uid);
	assert_int_equal(f, pw->pw_uid);
	free(status);
	/* It serves, and its store belongs to the user. */
	c = th_client(&d, "rp-dichvucong");
	tok = th_token(EID_ALG_ES256, "dichvucong", "dropped");
	assert_int_equal(th_verify(c, tok, NULL), EID_VERDICT_OK);
	eid_client_close(c);
	free(tok);
	snprintf(path, sizeof(path), "%s/var/state/data.mdb", d.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, pw->pw_uid);
	assert_true(th_eidd_log_has(&d, "event=dropped user=nobody", 0));
	th_eidd_stop_ok(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_new_key),
		cmocka_unit_test(test_sigterm_answers_in_flight),
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_key_secrecy),
		cmocka_unit_test(test_drops_root),
	};

	return cmocka_run_group_tests_name("eidd_lifecycle", tests, NULL,
	    NULL);
}
