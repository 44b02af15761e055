/*
 * tests/integration/test_eidd_store.c -- eidd's memory, end to end: a
 * cached token revoked by token id, subject or key id is REVOKED on the
 * next request; a warm cache answers exactly what a cold one does;
 * consume-once holds across restarts and against ECDSA malleability; a
 * crash right after an acknowledged revocation loses nothing; full maps
 * behave; bad revocations are refused with a reason.
 */
/* asprintf. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "eid.pb-c.h"
#include "harness.h"
#include "helpers.h"
#include "kinds.h"

static struct eid_verify_res
verify(struct eid_client *c, const char *tok, bool consume)
{
	struct eid_verify_req	 q;
	struct eid_verify_res	 r;

	memset(&q, 0, sizeof(q));
	q.token = tok;
	q.token_len = strlen(tok);
	q.consume = consume;
	if (eid_client_verify(c, &q, &r) != EID_CLIENT_OK)
		fail_msg("verify: %s", eid_client_last_error(c));
	return r;
}

static uint64_t
st_revoke(struct eid_client *c, enum eid_revoke_kind kind, const char *value,
    int64_t before)
{
	struct eid_revoke_req	 rv;
	uint64_t		 seq = 0;

	memset(&rv, 0, sizeof(rv));
	rv.kind = kind;
	rv.value = value;
	rv.issued_before = before;
	rv.reason = "test";
	if (eid_client_revoke(c, &rv, &seq) != EID_CLIENT_OK)
		fail_msg("revoke %s: %s", value, eid_client_last_error(c));
	return seq;
}


/* The configuration with its state kept in a directory of our own. */
static char *
conf_with_state(const char *dir, const char *limits)
{
	char	*base = th_eidd_conf_text(limits, NULL), *t, *at;

	/* The harness's state_dir "var" (next to the config) replaced. */
	at = strstr(base, "state_dir = \"var\";");
	assert_non_null(at);
	*at = '\0';
	assert_true(asprintf(&t, "%sstate_dir = \"%s\";%s", base, dir,
	    at + strlen("state_dir = \"var\";")) > 0);
	free(base);
	return t;
}

/* A fresh state directory, absolute (the config may live elsewhere). */
static char *
state_dir(void)
{
	const char	*b = getenv("EID_BUILD");
	char		*d, *abs;

	assert_true(asprintf(&d, "%s/test-tmp/state-XXXXXX",
	    b != NULL && *b ? b : "build") > 0);
	assert_non_null(mkdtemp(d));
	abs = realpath(d, NULL);
	assert_non_null(abs);
	free(d);
	return abs;
}

static void
rm_state_dir(char *dir)
{
	char	*cmd;

	if (strchr(dir, '\'') == NULL &&
	    asprintf(&cmd, "rm -rf '%s'", dir) > 0) {
		if (system(cmd) != 0)
			print_error("cannot remove %s\n", dir);
		free(cmd);
	}
	free(dir);
}

/*
 * Verify until the answer comes from the cache: inserts are written
 * behind the answer by the store's writer thread (bounded: 2 s).
 */
static struct eid_verify_res
verify_cached(struct eid_client *c, const char *tok)
{
	struct timespec		 ms = { 0, 10 * 1000000L };
	struct eid_verify_res	 r;
	int			 i;

	for (i = 0; i < 200; i++) {
		r = verify(c, tok, false);
		if (r.cached)
			return r;
		nanosleep(&ms, NULL);
	}
	fail_msg("never answered from the cache");
	return r;
}

/*
 * A Revoke built by hand, past the client library's own checks, so that
 * the server's are what is tested.  Returns the Error code, or -1 when
 * the revocation was accepted.
 */
static int
raw_revoke(struct th_eidd *d, int kind, const char *value)
{
	Eid__V1__Request	 req;
	Eid__V1__RevokeRequest	 rv;
	Eid__V1__Response	*resp;
	struct th_raw		 raw;
	unsigned char		 buf[4096];
	size_t			 n, len;
	bool			 closed;
	int			 code;

	eid__v1__revoke_request__init(&rv);
	rv.kind = (Eid__V1__RevokeKind)kind;
	rv.value = (char *)(uintptr_t)value;
	eid__v1__request__init(&req);
	req.id = 7;
	req.body_case = EID__V1__REQUEST__BODY_REVOKE;
	req.revoke = &rv;
	n = eid__v1__request__get_packed_size(&req);
	assert_true(n + 4 <= sizeof(buf));
	buf[0] = buf[1] = 0;
	buf[2] = (unsigned char)(n >> 8);
	buf[3] = (unsigned char)n;
	eid__v1__request__pack(&req, buf + 4);
	assert_true(th_raw_connect(&raw, d, "admin"));
	assert_true(th_raw_write(&raw, buf, n + 4));
	n = th_raw_read(&raw, buf, 4, 10000, &closed);
	assert_int_equal(n, 4);
	len = (size_t)buf[2] << 8 | buf[3];
	assert_true(len < sizeof(buf));
	assert_int_equal(th_raw_read(&raw, buf, len, 10000, &closed), len);
	resp = eid__v1__response__unpack(NULL, len, buf);
	assert_non_null(resp);
	assert_int_equal(resp->id, 7);
	code = resp->body_case == EID__V1__RESPONSE__BODY_ERROR ?
	    (int)resp->error->code : -1;
	eid__v1__response__free_unpacked(resp, NULL);
	th_raw_close(&raw);
	return code;
}

/*
 * eidd on the harness's configuration; with probation off, every verified
 * token goes to LMDB at once, so cache hits come from the map.
 */
static void
start_eidd(struct th_eidd *d, bool probation)
{
	char	*base, *c;

	if (probation) {
		th_eidd_start(d, NULL);
		return;
	}
	base = th_eidd_conf_text(NULL, NULL);
	assert_true(asprintf(&c, "%s\nstore = { cache_probation = 0; };\n",
	    base) > 0);
	th_eidd_start_conf(d, c);
	free(c);
	free(base);
}

static void
revocations_reach_cached(bool probation)
{
	struct th_eidd		 d;
	struct eid_client	*rp, *adm;
	struct eid_verify_res	 r;
	char			*t1, *t2, *t3, *t4;

	start_eidd(&d, probation);
	rp = th_client(&d, "rp-dichvucong");
	adm = th_client(&d, "admin");
	t1 = th_token(EID_ALG_ES256, "dichvucong", "rv-token");
	t2 = th_token(EID_ALG_ES256, "dichvucong", "rv-subject");
	t3 = th_token(EID_ALG_EDDSA, "dichvucong", "rv-key");
	t4 = th_token(EID_ALG_ES384, "dichvucong", "rv-other");

	/* Each verified twice: the second answer is from the cache. */
	assert_int_equal(verify(rp, t1, false).verdict, EID_VERDICT_OK);
	r = verify_cached(rp, t1);
	assert_int_equal(r.verdict, EID_VERDICT_OK);

	assert_true(st_revoke(adm, EID_REVOKE_TOKEN, "rv-token", 0) >= 1);
	r = verify(rp, t1, false);
	assert_int_equal(r.verdict, EID_VERDICT_REVOKED);
	assert_string_equal(r.sub, "");
	assert_int_equal(verify(rp, t2, false).verdict, EID_VERDICT_OK);

	/* Subject: only tokens issued before the cut-off. */
	assert_int_equal(verify_cached(rp, t2).verdict, EID_VERDICT_OK);
	st_revoke(adm, EID_REVOKE_SUBJECT, "001090012345", TH_NOW - 60);
	assert_int_equal(verify_cached(rp, t2).verdict, EID_VERDICT_OK);
	st_revoke(adm, EID_REVOKE_SUBJECT, "001090012345", TH_NOW - 59);
	assert_int_equal(verify(rp, t2, false).verdict, EID_VERDICT_REVOKED);
	assert_int_equal(verify(rp, t4, false).verdict, EID_VERDICT_REVOKED);

	/* The same subject: revoked whatever its token id and key. */
	assert_int_equal(verify(rp, t3, false).verdict, EID_VERDICT_REVOKED);

	eid_client_close(rp);
	eid_client_close(adm);
	free(t1);
	free(t2);
	free(t3);
	free(t4);
	th_eidd_stop_ok(&d);
}

/* Hits from probation (the default), and from the LMDB map. */
static void
test_revocations_reach_cached_tokens(void **state)
{
	(void)state;
	revocations_reach_cached(true);
}

static void
test_revocations_reach_lmdb_hits(void **state)
{
	(void)state;
	revocations_reach_cached(false);
}

static void
test_revoke_key(void **state)
{
	struct th_eidd		 d;
	struct eid_client	*rp, *adm;
	char			*t;

	(void)state;
	th_eidd_start(&d, NULL);
	rp = th_client(&d, "rp-dichvucong");
	adm = th_client(&d, "admin");
	t = th_token(EID_ALG_PS256, "dichvucong", "kid-1");
	assert_int_equal(verify(rp, t, false).verdict, EID_VERDICT_OK);
	assert_int_equal(verify_cached(rp, t).verdict, EID_VERDICT_OK);
	st_revoke(adm, EID_REVOKE_KEY, th_dev_kid(EID_ALG_PS256), 0);
	assert_int_equal(verify(rp, t, false).verdict, EID_VERDICT_REVOKED);
	free(t);
	t = th_token(EID_ALG_RS256, "dichvucong", "kid-2");
	assert_int_equal(verify(rp, t, false).verdict, EID_VERDICT_OK);
	free(t);
	eid_client_close(rp);
	eid_client_close(adm);
	th_eidd_stop_ok(&d);
}

static bool
same_answer(const struct eid_verify_res *a, const struct eid_verify_res *b)
{
	return a->verdict == b->verdict && strcmp(a->sub, b->sub) == 0 &&
	    strcmp(a->name, b->name) == 0 &&
	    strcmp(a->birthdate, b->birthdate) == 0 &&
	    a->gender == b->gender && a->level == b->level &&
	    a->issued_at == b->issued_at && a->expires_at == b->expires_at &&
	    a->not_before == b->not_before &&
	    strcmp(a->token_id, b->token_id) == 0 &&
	    strcmp(a->issuer, b->issuer) == 0 &&
	    strcmp(a->key_id, b->key_id) == 0 &&
	    strcmp(a->algorithm, b->algorithm) == 0 &&
	    strcmp(a->audience, b->audience) == 0;
}

/* For every kind eid-mint makes: warm answer == cold answer. */
static void
hit_equals_miss(bool probation)
{
	struct th_eidd		 d;
	struct eid_client	*c;
	struct eid_verify_req	 q;
	struct eid_verify_res	 cold, warm;
	char			 args[256], *out;
	size_t			 i, j;
	int			 bad = 0;

	start_eidd(&d, probation);
	c = th_client(&d, "rp-dichvucong");
	for (i = 0; i < NKINDS; i++)
		for (j = 0; j < NALGS; j++) {
			if ((out = th_kind_token(i, j, &q)) == NULL)
				continue;
			snprintf(args, sizeof(args), "--alg %s --kind %s",
			    algs[j], kinds[i].name);
			assert_int_equal(eid_client_verify(c, &q, &cold),
			    EID_CLIENT_OK);
			/* A valid token's later answers are cache hits. */
			if (kinds[i].want == EID_VERDICT_OK)
				warm = verify_cached(c, out);
			else
				assert_int_equal(eid_client_verify(c, &q,
				    &warm), EID_CLIENT_OK);
			if (cold.cached)
				bad++;
			if (!same_answer(&cold, &warm)) {
				print_error("%s: cold %s, warm %s\n", args,
				    eid_verdict_name(cold.verdict),
				    eid_verdict_name(warm.verdict));
				bad++;
			}
			free(out);
		}
	eid_client_close(c);
	assert_int_equal(bad, 0);
	th_eidd_stop_ok(&d);
}

static void
test_hit_equals_miss(void **state)
{
	(void)state;
	hit_equals_miss(true);
}

static void
test_hit_equals_miss_lmdb(void **state)
{
	(void)state;
	hit_equals_miss(false);
}

static void
test_consume_once(void **state)
{
	struct th_eidd		 d;
	struct eid_client	*c;
	char			*dir, *conf, *valid, *malleated;
	int			 st;

	(void)state;
	dir = state_dir();
	conf = conf_with_state(dir, NULL);
	th_eidd_start_conf(&d, conf);
	c = th_client(&d, "rp-dichvucong");
	valid = th_run_mint("--seed 42 --kind valid", &st);
	malleated = th_run_mint("--seed 42 --kind malleated", &st);
	*strchr(valid, '\n') = '\0';
	*strchr(malleated, '\n') = '\0';
	assert_string_not_equal(valid, malleated);

	/* Without consume, any number of times. */
	assert_int_equal(verify(c, valid, false).verdict, EID_VERDICT_OK);
	assert_int_equal(verify(c, valid, true).verdict, EID_VERDICT_OK);
	assert_int_equal(verify(c, valid, true).verdict, EID_VERDICT_REPLAYED);
	/* s -> n - s: another string, the same token id. */
	assert_int_equal(verify(c, malleated, false).verdict, EID_VERDICT_OK);
	assert_int_equal(verify(c, malleated, true).verdict,
	    EID_VERDICT_REPLAYED);
	eid_client_close(c);

	/* Acknowledged means durable: still consumed after a restart. */
	th_eidd_stop_ok(&d);
	th_eidd_start_conf(&d, conf);
	c = th_client(&d, "rp-dichvucong");
	assert_int_equal(verify(c, valid, true).verdict, EID_VERDICT_REPLAYED);
	eid_client_close(c);
	th_eidd_stop_ok(&d);
	free(valid);
	free(malleated);
	free(conf);
	rm_state_dir(dir);
}

/*
 * Raising verify.leeway_s by a reload (SECURITY.md finding 6).  A token
 * consumed at leeway 0 has its mark swept once exp has passed; at 60 it
 * verifies again, and without the floor the sweep leaves it would be
 * consumed a second time.  The refusal survives a restart.
 */
static void
test_leeway_raise_no_replay(void **state)
{
	struct th_eidd		 d;
	struct eid_client	*c;
	char			*dir, *base, *conf, *tok, args[128];
	int64_t			 exp;
	int			 st;

	(void)state;
	dir = state_dir();
	base = conf_with_state(dir, NULL);
	assert_true(asprintf(&conf, "%sstore = { sweep_interval_s = 1; };\n"
	    "verify = { leeway_s = 0; };\n", base) > 0);
	th_eidd_start_conf(&d, conf);
	c = th_client(&d, "rp-dichvucong");
	/* Valid for 6 s more, time enough even under valgrind. */
	exp = (int64_t)time(NULL) + 6;
	snprintf(args, sizeof(args), "--seed 43 --ttl 600 --now %lld",
	    (long long)(exp - 600));
	tok = th_run_mint(args, &st);
	*strchr(tok, '\n') = '\0';
	assert_int_equal(verify(c, tok, true).verdict, EID_VERDICT_OK);
	assert_int_equal(verify(c, tok, true).verdict, EID_VERDICT_REPLAYED);
	/* Past exp, and a sweep after that has taken the mark. */
	while ((int64_t)time(NULL) <= exp)
		th_sleep_ms(100);
	assert_true(th_eidd_log_has(&d, "event=store_sweep removed=", 5000));
	assert_int_equal(verify(c, tok, false).verdict, EID_VERDICT_EXPIRED);

	free(conf);
	assert_true(asprintf(&conf, "%sstore = { sweep_interval_s = 1; };\n"
	    "verify = { leeway_s = 60; };\n", base) > 0);
	th_eidd_write_conf(&d, conf);
	assert_int_equal(th_eidd_signal(&d, SIGHUP), 0);
	assert_true(th_eidd_log_has(&d, "event=reloaded", 8000));
	/* It verifies at 60, but it cannot be consumed again. */
	assert_int_equal(verify(c, tok, false).verdict, EID_VERDICT_OK);
	assert_int_equal(verify(c, tok, true).verdict, EID_VERDICT_EXPIRED);
	assert_true(th_eidd_log_has(&d, "event=store_leeway_raised from=0 "
	    "to=60 ", 0));
	eid_client_close(c);
	th_eidd_stop_ok(&d);

	th_eidd_start_conf(&d, conf);
	c = th_client(&d, "rp-dichvucong");
	assert_int_equal(verify(c, tok, false).verdict, EID_VERDICT_OK);
	assert_int_equal(verify(c, tok, true).verdict, EID_VERDICT_EXPIRED);
	eid_client_close(c);
	th_eidd_stop_ok(&d);
	free(tok);
	free(conf);
	free(base);
	rm_state_dir(dir);
}

/*
 * A VerifyBatch with consume whose answer would pass 64 KiB (a daemon
 * that takes 1 MiB request frames; 256 tokens with long token ids) is
 * refused before any item is consumed: every token, sent again on its
 * own, is OK once and REPLAYED after, never REPLAYED the first time.
 */
#define BIG_BATCH	256

static void
test_batch_too_large_consumes_nothing(void **state)
{
	Eid__V1__Request	 req;
	Eid__V1__VerifyBatchRequest vb;
	Eid__V1__VerifyRequest	 items[BIG_BATCH], *ptrs[BIG_BATCH];
	Eid__V1__Response	*resp;
	struct th_eidd		 d;
	struct th_raw		 raw;
	struct eid_client	*c;
	char			*tok[BIG_BATCH], jti[128];
	unsigned char		*buf;
	size_t			 i, n, len;
	bool			 closed;

	(void)state;
	th_eidd_start(&d, "max_frame_bytes = 1048576;");
	for (i = 0; i < BIG_BATCH; i++) {
		snprintf(jti, sizeof(jti), "big-%03zu-%0110d", i, 0);
		tok[i] = th_token(EID_ALG_ES256, "dichvucong", jti);
		eid__v1__verify_request__init(&items[i]);
		items[i].token.data = (uint8_t *)tok[i];
		items[i].token.len = strlen(tok[i]);
		items[i].consume = 1;
		ptrs[i] = &items[i];
	}
	eid__v1__verify_batch_request__init(&vb);
	vb.n_items = BIG_BATCH;
	vb.items = ptrs;
	eid__v1__request__init(&req);
	req.id = 9;
	req.body_case = EID__V1__REQUEST__BODY_VERIFY_BATCH;
	req.verify_batch = &vb;
	n = eid__v1__request__get_packed_size(&req);
	assert_true(n > 65536 && n <= 1048576);
	assert_non_null(buf = malloc(n + 4));
	buf[0] = (unsigned char)(n >> 24);
	buf[1] = (unsigned char)(n >> 16);
	buf[2] = (unsigned char)(n >> 8);
	buf[3] = (unsigned char)n;
	eid__v1__request__pack(&req, buf + 4);
	assert_true(th_raw_connect(&raw, &d, "rp-dichvucong"));
	assert_true(th_raw_write(&raw, buf, n + 4));
	assert_int_equal(th_raw_read(&raw, buf, 4, 10000, &closed), 4);
	len = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
	    (size_t)buf[2] << 8 | buf[3];
	assert_true(len > 0 && len <= 65536);
	assert_int_equal(th_raw_read(&raw, buf, len, 10000, &closed), len);
	resp = eid__v1__response__unpack(NULL, len, buf);
	assert_non_null(resp);
	assert_int_equal(resp->id, 9);
	assert_int_equal(resp->body_case, EID__V1__RESPONSE__BODY_ERROR);
	assert_int_equal(resp->error->code,
	    EID__V1__ERROR_CODE__ERROR_BAD_REQUEST);
	assert_non_null(strstr(resp->error->message, "64 KiB"));
	eid__v1__response__free_unpacked(resp, NULL);
	th_raw_close(&raw);
	free(buf);

	c = th_client(&d, "rp-dichvucong");
	for (i = 0; i < BIG_BATCH; i++) {
		if (verify(c, tok[i], true).verdict != EID_VERDICT_OK)
			fail_msg("token %zu was consumed by the refused batch",
			    i);
		assert_int_equal(verify(c, tok[i], true).verdict,
		    EID_VERDICT_REPLAYED);
		free(tok[i]);
	}
	eid_client_close(c);
	th_eidd_stop_ok(&d);
}

/*
 * Revoke in a loop and kill -9 at a random moment, 20 times; after each
 * restart every acknowledged revocation is in force.
 */
#define CRASHES		20
#define PER_CRASH_MAX	40

static void
test_crash_keeps_acknowledged(void **state)
{
	static bool		 acked[CRASHES * (PER_CRASH_MAX + 1)];
	struct th_eidd		 d;
	struct eid_client	*adm, *rp;
	struct eid_revoke_req	 rv;
	char			*dir, *conf, jti[64], *t;
	uint64_t		 seq;
	int			 round, i, n, total = 0, nacked = 0;

	(void)state;
	srand((unsigned)time(NULL));
	dir = state_dir();
	conf = conf_with_state(dir, NULL);
	memset(&rv, 0, sizeof(rv));
	rv.kind = EID_REVOKE_TOKEN;
	rv.value = jti;
	for (round = 0; round < CRASHES; round++) {
		th_eidd_start_conf(&d, conf);
		adm = th_client(&d, "admin");
		n = 1 + rand() % PER_CRASH_MAX;
		for (i = 0; i < n; i++, total++) {
			snprintf(jti, sizeof(jti), "crash-%d", total);
			if (eid_client_revoke(adm, &rv, &seq) != EID_CLIENT_OK)
				fail_msg("revoke %s: %s", jti,
				    eid_client_last_error(adm));
			acked[total] = true;
		}
		/*
		 * One more on its way while the daemon dies, before or after
		 * it is sent: acknowledged or not, never half there.
		 */
		snprintf(jti, sizeof(jti), "crash-%d", total);
		if (rand() % 2 == 0) {
			kill(d.pid, SIGKILL);
			acked[total] = eid_client_revoke(adm, &rv, &seq) ==
			    EID_CLIENT_OK;
		} else {
			acked[total] = eid_client_revoke(adm, &rv, &seq) ==
			    EID_CLIENT_OK;
			kill(d.pid, SIGKILL);
		}
		total++;
		th_eidd_signal(&d, SIGKILL);
		eid_client_close(adm);
		th_eidd_cleanup(&d);
	}
	/* Every acknowledged revocation survived every crash. */
	th_eidd_start_conf(&d, conf);
	rp = th_client(&d, "rp-dichvucong");
	for (i = 0; i < total; i++) {
		if (!acked[i])
			continue;
		nacked++;
		snprintf(jti, sizeof(jti), "crash-%d", i);
		t = th_token(EID_ALG_ES256, "dichvucong", jti);
		if (verify(rp, t, false).verdict != EID_VERDICT_REVOKED)
			fail_msg("acknowledged revocation %s lost", jti);
		free(t);
	}
	print_message("# %d crashes, %d revocations acknowledged, all kept\n",
	    CRASHES, nacked);
	eid_client_close(rp);
	th_eidd_stop_ok(&d);
	free(conf);
	rm_state_dir(dir);
}

static void
test_full_maps(void **state)
{
	struct th_eidd		 d;
	struct eid_client	*adm, *rp;
	struct eid_revoke_req	 rv;
	char			 jti[64], *t;
	uint64_t		 seq;
	int			 i, ok = 0;
	enum eid_client_err	 e = EID_CLIENT_OK;

	(void)state;
	/*
	 * A 1 MiB cache (a few thousand entries) and a 64 KiB state map (a
	 * few hundred revocations).  Probation off, so that tokens verified
	 * once reach the map and fill it.
	 */
	{
		char *base = th_eidd_conf_text(NULL, NULL), *c;

		assert_true(asprintf(&c, "%s\nstore = { cache_map_bytes = "
		    "1048576; state_map_bytes = 65536; cache_probation = 0; "
		    "};\n", base) > 0);
		th_eidd_start_conf(&d, c);
		free(c);
		free(base);
	}
	rp = th_client(&d, "rp-dichvucong");
	for (i = 0; i < 3000; i++) {
		snprintf(jti, sizeof(jti), "fill-%d", i);
		t = th_token(EID_ALG_EDDSA, "dichvucong", jti);
		if (verify(rp, t, false).verdict != EID_VERDICT_OK)
			fail_msg("cache full broke verification at %d", i);
		free(t);
	}
	adm = th_client(&d, "admin");
	memset(&rv, 0, sizeof(rv));
	rv.kind = EID_REVOKE_TOKEN;
	rv.value = jti;
	for (i = 0; i < 5000; i++) {
		snprintf(jti, sizeof(jti), "full-%d", i);
		if ((e = eid_client_revoke(adm, &rv, &seq)) != EID_CLIENT_OK)
			break;
		ok++;
	}
	assert_int_equal(e, EID_CLIENT_ERR_SERVER);
	assert_int_equal(eid_client_server_error(adm)->code,
	    EID_SERVER_UNAVAILABLE);
	assert_non_null(strstr(eid_client_server_error(adm)->message, "full"));
	assert_true(ok > 10);
	/* Every earlier one is kept. */
	for (i = 0; i < ok; i++) {
		snprintf(jti, sizeof(jti), "full-%d", i);
		t = th_token(EID_ALG_ES256, "dichvucong", jti);
		if (verify(rp, t, false).verdict != EID_VERDICT_REVOKED)
			fail_msg("revocation %s lost when the map filled", jti);
		free(t);
	}
	eid_client_close(adm);
	eid_client_close(rp);
	th_eidd_stop_ok(&d);
}

static void
test_bad_revocations(void **state)
{
	static const struct {
		int		 kind;
		const char	*value;
		const char	*why;
	} bad[] = {
		{ EID__V1__REVOKE_KIND__REVOKE_TOKEN, "", "empty value" },
		{ EID__V1__REVOKE_KIND__REVOKE_TOKEN, NULL, "over-long value" },
		{ 9, "x", "unknown kind" },
		{ EID__V1__REVOKE_KIND__REVOKE_UNSPECIFIED, "x", "no kind" },
		{ EID__V1__REVOKE_KIND__REVOKE_SUBJECT, "12345", "not a PIN" },
		{ EID__V1__REVOKE_KIND__REVOKE_SUBJECT, "0010900123456",
		    "13 digits" },
		{ EID__V1__REVOKE_KIND__REVOKE_SUBJECT, "00109001234\xef",
		    "not digits" },
	};
	struct th_eidd		 d;
	struct eid_client	*adm;
	struct eid_status	 s;
	char			 longv[200];
	size_t			 i;
	int			 code;

	(void)state;
	memset(longv, 'a', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	th_eidd_start(&d, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		code = raw_revoke(&d, bad[i].kind, bad[i].value != NULL ?
		    bad[i].value : longv);
		if (code != EID__V1__ERROR_CODE__ERROR_BAD_REQUEST)
			fail_msg("%s: answer %d", bad[i].why, code);
	}
	/* The same path accepts a good one. */
	assert_int_equal(raw_revoke(&d, EID__V1__REVOKE_KIND__REVOKE_TOKEN,
	    "raw-ok"), -1);
	/* Nothing half-written: exactly the good one. */
	adm = th_client(&d, "admin");
	memset(&s, 0, sizeof(s));
	assert_int_equal(eid_client_status(adm, &s), EID_CLIENT_OK);
	assert_int_equal(s.revocations, 1);
	eid_status_clear(&s);
	eid_client_close(adm);
	th_eidd_stop_ok(&d);
}

/* Run eidctl as admin against d; returns the exit status, output in out. */
static int
eidctl_admin(struct th_eidd *d, const char *args, char *out, size_t outlen)
{
	const char	*b = getenv("EID_BUILD");
	char		 cmd[4096], crt[1024], key[1024], ca[1024];
	FILE		*p;
	size_t		 n;
	int		 st;

	snprintf(cmd, sizeof(cmd), "'%s/bin/eidctl' --server %s --cert '%s' "
	    "--key '%s' --ca '%s' %s 2>&1", b != NULL && *b ? b : "build",
	    d->addr, th_certs_abs("admin.crt", crt, sizeof(crt)),
	    th_certs_abs("admin.key", key, sizeof(key)),
	    th_certs_abs("ca.pem", ca, sizeof(ca)), args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define IMPORT_N	1203

static void
test_import_and_list(void **state)
{
	struct th_eidd		 d;
	struct eid_client	*adm, *rp;
	struct eid_revocation	*page, after;
	struct eid_status	 s;
	char			 path[1024], args[1200], *out, *t;
	size_t			 n, total = 0;
	bool			 more = true, first = true;
	FILE			*fp;
	int			 i;

	(void)state;
	out = malloc(65536);
	page = calloc(500, sizeof(*page));
	assert_non_null(out);
	assert_non_null(page);
	th_eidd_start(&d, NULL);
	snprintf(path, sizeof(path), "%s/import.jsonl", d.dir);

	/* A bad file: every bad line named, nothing written. */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "{\"kind\":\"token\",\"value\":\"ok-1\"}\n"
	    "# a comment\n"
	    "{\"kind\":\"token\",\"value\":\n"
	    "{\"kind\":\"token\",\"value\":\"ok-2\"}\n"
	    "{\"kind\":\"cert\",\"value\":\"x\"}\n"
	    "\n"
	    "{\"kind\":\"token\",\"value\":\"\"}\n"
	    "{\"kind\":\"subject\",\"value\":\"12345\"}\n");
	fclose(fp);
	snprintf(args, sizeof(args), "revocations import '%s'", path);
	assert_int_equal(eidctl_admin(&d, args, out, 65536), 2);
	for (i = 0; i < 4; i++) {
		static const int bad_lines[] = { 3, 5, 7, 8 };
		char		 where[64];

		snprintf(where, sizeof(where), "import.jsonl:%d:",
		    bad_lines[i]);
		if (strstr(out, where) == NULL)
			fail_msg("no %s in: %s", where, out);
	}
	adm = th_client(&d, "admin");
	memset(&s, 0, sizeof(s));
	assert_int_equal(eid_client_status(adm, &s), EID_CLIENT_OK);
	assert_int_equal(s.revocations, 0);
	eid_status_clear(&s);

	/* A good one, in batches. */
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (i = 0; i < IMPORT_N - 3; i++)
		fprintf(fp, "{\"kind\":\"token\",\"value\":\"imp-%04d\","
		    "\"reason\":\"bulk\"}\n", i);
	fprintf(fp, "{\"kind\":\"subject\",\"value\":\"079201000001\"}\n"
	    "{\"kind\":\"key\",\"value\":\"no-such-kid\"}\n"
	    "{\"kind\":\"token\",\"value\":\"x\",\"issuer\":"
	    "\"https://vneid.example\",\"expires_at\":4102444800}\n");
	fclose(fp);
	if (eidctl_admin(&d, args, out, 65536) != 0)
		fail_msg("import failed: %s", out);
	assert_non_null(strstr(out, "imported 1203 revocations"));

	rp = th_client(&d, "rp-dichvucong");
	t = th_token(EID_ALG_ES256, "dichvucong", "imp-0777");
	assert_int_equal(verify(rp, t, false).verdict, EID_VERDICT_REVOKED);
	free(t);
	eid_client_close(rp);

	/* Listed completely, in order, a page at a time. */
	memset(&after, 0, sizeof(after));
	while (more) {
		assert_int_equal(eid_client_list_revocations(adm, 0,
		    first ? NULL : &after, 500, page, &n, &more),
		    EID_CLIENT_OK);
		assert_true(n <= 500);
		if (n > 0)
			after = page[n - 1];
		total += n;
		first = false;
	}
	assert_int_equal(total, IMPORT_N);
	assert_int_equal(eid_client_list_revocations(adm, EID_REVOKE_SUBJECT,
	    NULL, 500, page, &n, &more), EID_CLIENT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(page[0].value, "079201000001");
	assert_false(more);

	/* The command line lists them too. */
	assert_int_equal(eidctl_admin(&d, "revocations list --kind key", out,
	    65536), 0);
	assert_non_null(strstr(out, "no-such-kid"));

	eid_client_close(adm);
	th_eidd_stop_ok(&d);
	free(page);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_revocations_reach_cached_tokens),
		cmocka_unit_test(test_revocations_reach_lmdb_hits),
		cmocka_unit_test(test_revoke_key),
		cmocka_unit_test(test_hit_equals_miss),
		cmocka_unit_test(test_hit_equals_miss_lmdb),
		cmocka_unit_test(test_consume_once),
		cmocka_unit_test(test_leeway_raise_no_replay),
		cmocka_unit_test(test_batch_too_large_consumes_nothing),
		cmocka_unit_test(test_crash_keeps_acknowledged),
		cmocka_unit_test(test_full_maps),
		cmocka_unit_test(test_bad_revocations),
		cmocka_unit_test(test_import_and_list),
	};

	return cmocka_run_group_tests_name("eidd_store", tests, NULL, NULL);
}
