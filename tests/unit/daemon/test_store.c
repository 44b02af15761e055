/*
 * tests/unit/daemon/test_store.c -- the store (daemon/store.c, DESIGN.md
 * section 7, SECURITY.md 3.14) through its own API: cache round trip and
 * corrupt values, probation (first uses in memory, bounded, promoted on
 * reuse, across threads), the three kinds of revocation with their
 * boundaries and expiry, consume-once across threads and restarts, full
 * maps of both environments, the schema check, the sweeper and the
 * listing.  Raw LMDB is used only to play the part of a damaged or
 * foreign file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "eidd.h"
#include "store.h"

#define T_ISS		"https://id.example.vn"
#define T_ISS2		"https://other.example.vn"
#define T_MAP		(8u * 1024 * 1024)

struct t_ctx {
	char			 dir[256];
	struct store_cfg	 cfg;
	struct store		*s;
	struct store_reader	*rd;
};

/* --- helpers ------------------------------------------------------------ */

static void
t_rmtree(const char *path)
{
	struct dirent	*de;
	struct stat	 st;
	char		 sub[512];
	DIR		*d;

	if (lstat(path, &st) == -1)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			t_rmtree(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

static void
t_open(struct t_ctx *t)
{
	char	 err[256] = "";

	t->s = store_open(&t->cfg, err, sizeof(err));
	if (t->s == NULL)
		fail_msg("store_open: %s", err);
	t->rd = store_reader_new(t->s);
	assert_non_null(t->rd);
}

static void
t_close(struct t_ctx *t)
{
	store_reader_free(t->rd);
	t->rd = NULL;
	store_close(t->s);
	t->s = NULL;
}

static void
t_reopen(struct t_ctx *t)
{
	t_close(t);
	t_open(t);
}

static int
t_setup(void **state)
{
	struct t_ctx	*t;

	(void)mkdir("build", 0700);
	(void)mkdir("build/test-tmp", 0700);
	t = calloc(1, sizeof(*t));
	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "build/test-tmp/storeXXXXXX");
	if (mkdtemp(t->dir) == NULL)
		fail_msg("mkdtemp %s failed", t->dir);
	/* The store creates its directory itself. */
	rmdir(t->dir);
	t->cfg.dir = t->dir;
	t->cfg.cache_map_bytes = T_MAP;
	t->cfg.state_map_bytes = T_MAP;
	t->cfg.leeway_s = 60;
	t->cfg.sweep_interval_s = 0;
	*state = t;
	return 0;
}

static int
t_teardown(void **state)
{
	struct t_ctx	*t = *state;

	t_close(t);
	t_rmtree(t->dir);
	free(t);
	return 0;
}

static void
t_key(unsigned char key[STORE_KEY_LEN], unsigned int n)
{
	unsigned int	 i;
	uint32_t	 x = n * 2654435761u + 12345;

	/* A spread of keys, as SHA-256 values would be. */
	for (i = 0; i < STORE_KEY_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		key[i] = (unsigned char)(x >> 8);
	}
	key[0] = (unsigned char)n;
	key[1] = (unsigned char)(n >> 8);
}

static void
t_assertion(struct eid_assertion *a, const char *iss, const char *sub,
    const char *jti, const char *kid, int64_t iat)
{
	memset(a, 0, sizeof(*a));
	a->alg = EID_ALG_ES256;
	snprintf(a->kid, sizeof(a->kid), "%s", kid);
	snprintf(a->iss, sizeof(a->iss), "%s", iss);
	snprintf(a->sub, sizeof(a->sub), "%s", sub);
	a->aud_count = 1;
	snprintf(a->aud[0], sizeof(a->aud[0]), "rp-1");
	a->iat = iat;
	a->exp = iat + 600;
	snprintf(a->jti, sizeof(a->jti), "%s", jti);
	snprintf(a->name, sizeof(a->name), "Nguyen Van A");
	snprintf(a->birthdate, sizeof(a->birthdate), "1990-01-02");
	a->gender = EID_GENDER_MALE;
	a->level = 2;
	a->key_not_before = INT64_MIN;
	a->key_not_after = INT64_MAX;
}

/* Every field set, strings of every length up to their maximum. */
static void
t_full_assertion(struct eid_assertion *a, unsigned int variant)
{
	unsigned int	 i;

	memset(a, 0, sizeof(*a));
	a->alg = EID_ALG_EDDSA;
	memset(a->kid, 'k', EID_KID_MAX - variant % 5);
	memset(a->iss, 'i', EID_ISS_MAX - variant % 7);
	memcpy(a->sub, "001090000123", EID_PIN_LEN);
	a->aud_count = EID_AUD_MAX_COUNT;
	for (i = 0; i < EID_AUD_MAX_COUNT; i++)
		memset(a->aud[i], 'a' + (int)i, EID_AUD_MAX - i);
	a->iat = -5;
	a->exp = INT64_MAX;
	a->nbf = INT64_MIN;
	a->has_nbf = true;
	a->has_nonce = true;
	memset(a->jti, 'j', EID_JTI_MAX);
	memset(a->name, 'n', EID_NAME_MAX - variant % 3);
	memcpy(a->birthdate, "1990-12-31", 10);
	a->gender = EID_GENDER_FEMALE;
	a->level = 2;
	memset(a->nonce, 'o', EID_NONCE_MAX);
	a->key_not_before = -1;
	a->key_not_after = 1700000000;
}

static void
t_assert_same(const struct eid_assertion *x, const struct eid_assertion *y)
{
	unsigned int	 i;

	assert_int_equal(x->alg, y->alg);
	assert_string_equal(x->kid, y->kid);
	assert_string_equal(x->iss, y->iss);
	assert_string_equal(x->sub, y->sub);
	assert_int_equal(x->aud_count, y->aud_count);
	for (i = 0; i < x->aud_count; i++)
		assert_string_equal(x->aud[i], y->aud[i]);
	assert_true(x->iat == y->iat);
	assert_true(x->exp == y->exp);
	assert_true(x->nbf == y->nbf);
	assert_int_equal(x->has_nbf, y->has_nbf);
	assert_int_equal(x->has_nonce, y->has_nonce);
	assert_string_equal(x->jti, y->jti);
	assert_string_equal(x->name, y->name);
	assert_string_equal(x->birthdate, y->birthdate);
	assert_int_equal(x->gender, y->gender);
	assert_int_equal(x->level, y->level);
	assert_string_equal(x->nonce, y->nonce);
	assert_true(x->key_not_before == y->key_not_before);
	assert_true(x->key_not_after == y->key_not_after);
	/* Both start zeroed, so the whole struct must agree. */
	assert_memory_equal(x, y, sizeof(*x));
}

static void
t_rev(struct store_revocation *r, enum store_rev_kind kind, const char *iss,
    const char *value, int64_t issued_before, int64_t expires_at)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	snprintf(r->iss, sizeof(r->iss), "%s", iss);
	snprintf(r->value, sizeof(r->value), "%s", value);
	r->issued_before = issued_before;
	r->expires_at = expires_at;
	r->created_at = (int64_t)time(NULL);
	snprintf(r->reason, sizeof(r->reason), "test %s", value);
}

static void
t_revoke1(struct t_ctx *t, enum store_rev_kind kind, const char *iss,
    const char *value, int64_t issued_before, int64_t expires_at)
{
	struct store_revocation	 r;
	char			 err[256] = "";

	t_rev(&r, kind, iss, value, issued_before, expires_at);
	if (store_revoke(t->s, &r, 1, err, sizeof(err)) != 0)
		fail_msg("store_revoke %s: %s", value, err);
	assert_true(r.seq > 0);
}

static int
t_revoked(struct t_ctx *t, const struct eid_assertion *a, int64_t now)
{
	store_reader_reset(t->rd);
	return store_revoked(t->rd, a, now);
}

static struct store_stats
t_stats(struct t_ctx *t)
{
	struct store_stats	 st;

	store_reader_reset(t->rd);
	assert_int_equal(store_stats(t->rd, &st), 0);
	return st;
}

/* Open one of the store's environments with raw LMDB (store closed). */
static MDB_env *
t_raw_open(struct t_ctx *t, const char *which)
{
	MDB_env	*env;
	char	 path[512];

	snprintf(path, sizeof(path), "%s/%s", t->dir, which);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_set_mapsize(env, T_MAP), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	return env;
}

static void
t_raw_put(MDB_env *env, const char *db, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	MDB_txn	*txn;
	MDB_dbi	 dbi;
	MDB_val	 kv, vv;

	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	kv.mv_data = (void *)(uintptr_t)k;
	kv.mv_size = klen;
	vv.mv_data = (void *)(uintptr_t)v;
	vv.mv_size = vlen;
	assert_int_equal(mdb_put(txn, dbi, &kv, &vv, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
}

/* meta's key name set to the little-endian x. */
static void
t_put_i64(MDB_env *env, const char *name, int64_t x)
{
	unsigned char	 b[8];
	int		 i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)x >> (8 * i));
	t_raw_put(env, "meta", name, strlen(name), b, sizeof(b));
}

/* A consumed mark (iss, jti) -> m, as the store writes it. */
static void
t_put_mark(MDB_env *env, const char *iss, const char *jti, int64_t m)
{
	unsigned char	 k[256], b[8];
	size_t		 il = strlen(iss), jl = strlen(jti);
	int		 i;

	assert_true(il + 1 + jl <= sizeof(k));
	memcpy(k, iss, il);
	k[il] = '\0';
	memcpy(k + il + 1, jti, jl);
	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)m >> (8 * i));
	t_raw_put(env, "consumed", k, il + 1 + jl, b, sizeof(b));
}

static void
t_raw_del(MDB_env *env, const char *db, const char *k)
{
	MDB_txn	*txn;
	MDB_dbi	 dbi;
	MDB_val	 kv;

	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	kv.mv_data = (void *)(uintptr_t)k;
	kv.mv_size = strlen(k);
	assert_int_equal(mdb_del(txn, dbi, &kv, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
}

/* Copy of the stored value of key k in db; its length. */
static size_t
t_raw_get(MDB_env *env, const char *db, const void *k, size_t klen,
    unsigned char *out, size_t outlen)
{
	MDB_txn	*txn;
	MDB_dbi	 dbi;
	MDB_val	 kv, vv;

	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	kv.mv_data = (void *)(uintptr_t)k;
	kv.mv_size = klen;
	assert_int_equal(mdb_get(txn, dbi, &kv, &vv), 0);
	assert_true(vv.mv_size <= outlen);
	memcpy(out, vv.mv_data, vv.mv_size);
	mdb_txn_abort(txn);
	return vv.mv_size;
}

/* --- cache -------------------------------------------------------------- */

static void
test_cache_roundtrip(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a, b, out;
	unsigned char		 k1[STORE_KEY_LEN], k2[STORE_KEY_LEN];
	unsigned char		 k3[STORE_KEY_LEN];

	t_open(t);
	t_full_assertion(&a, 0);
	t_assertion(&b, T_ISS, "001090000123", "jti-b", "kid-b", 1000);
	b.has_nbf = false;
	b.nbf = 77;		/* kept even when has_nbf is false */
	b.aud_count = 0;
	memset(b.aud, 0, sizeof(b.aud));
	b.level = 1;
	b.gender = EID_GENDER_UNSET;
	t_key(k1, 1);
	t_key(k2, 2);
	t_key(k3, 3);
	store_cache_put(t->s, k1, &a);
	store_cache_put(t->s, k2, &b);
	store_sync(t->s);

	store_reader_reset(t->rd);
	assert_int_equal(store_cache_get(t->rd, k1, &out), 1);
	t_assert_same(&a, &out);
	assert_int_equal(store_cache_get(t->rd, k2, &out), 1);
	t_assert_same(&b, &out);
	assert_int_equal(store_cache_get(t->rd, k3, &out), 0);

	/* The cache survives a clean restart (one sync at close). */
	t_reopen(t);
	assert_int_equal(store_cache_get(t->rd, k1, &out), 1);
	t_assert_same(&a, &out);
	assert_int_equal(t_stats(t).cache_entries, 2);
}

static void
test_cache_unencodable(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a, out;
	unsigned char		 k[STORE_KEY_LEN];

	t_open(t);
	t_key(k, 9);
	/* An unterminated string or a bad count is not cached. */
	t_assertion(&a, T_ISS, "001090000123", "j", "kid", 1000);
	memset(a.name, 'x', sizeof(a.name));
	store_cache_put(t->s, k, &a);
	t_assertion(&a, T_ISS, "001090000123", "j", "kid", 1000);
	a.aud_count = EID_AUD_MAX_COUNT + 1;
	store_cache_put(t->s, k, &a);
	store_sync(t->s);
	store_reader_reset(t->rd);
	assert_int_equal(store_cache_get(t->rd, k, &out), 0);
}

/* A reader keeps its snapshot until reset, then sees the new commits. */
static void
test_reader_snapshot(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a, out;
	unsigned char		 k[STORE_KEY_LEN];

	t_open(t);
	t_key(k, 5);
	t_assertion(&a, T_ISS, "001090000123", "j", "kid", 1000);
	store_reader_reset(t->rd);
	assert_int_equal(store_cache_get(t->rd, k, &out), 0);
	store_cache_put(t->s, k, &a);
	store_sync(t->s);
	assert_int_equal(store_cache_get(t->rd, k, &out), 0);
	store_reader_reset(t->rd);
	assert_int_equal(store_cache_get(t->rd, k, &out), 1);
}

static void
t_check_corrupt(struct t_ctx *t, MDB_env *env, const unsigned char *key,
    const unsigned char *val, size_t len, int expect)
{
	struct eid_assertion	 out;
	int			 rc;

	t_raw_put(env, "cache", key, STORE_KEY_LEN, val, len);
	mdb_env_close(env);
	t_open(t);
	rc = store_cache_get(t->rd, key, &out);
	if (expect >= 0)
		assert_int_equal(rc, expect);
	else
		assert_true(rc == 0 || rc == 1);
	if (rc == 1) {
		/* Whatever decoded is a well-formed, terminated struct. */
		assert_true(strlen(out.name) <= EID_NAME_MAX);
		assert_true(out.aud_count <= EID_AUD_MAX_COUNT);
	}
	t_close(t);
}

/* Where the kid's length sits in format 2: 5 + 4 + 5 * 8 + 32 bytes. */
#define T_KID_OFF	81

static void
test_cache_corrupt(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a;
	unsigned char		 k[STORE_KEY_LEN], good[4096], bad[4096];
	size_t			 len, i;
	MDB_env			*env;

	t_open(t);
	t_key(k, 7);
	t_assertion(&a, T_ISS, "001090000123", "jti-c", "kid-c", 1000);
	store_cache_put(t->s, k, &a);
	t_close(t);

	env = t_raw_open(t, "cache");
	len = t_raw_get(env, "cache", k, STORE_KEY_LEN, good, sizeof(good));
	mdb_env_close(env);
	assert_true(len > T_KID_OFF);

	/* Every truncation is a miss. */
	for (i = 0; i < len; i += (i < 60 ? 1 : 17)) {
		env = t_raw_open(t, "cache");
		t_check_corrupt(t, env, k, good, i == 0 ? 1 : i, 0);
	}
	/* A trailing byte, an unknown format, flags, alg and counts. */
	memcpy(bad, good, len);
	bad[len] = 0;
	t_check_corrupt(t, t_raw_open(t, "cache"), k, bad, len + 1, 0);
	memcpy(bad, good, len);
	bad[0] = 1;	/* the format before key hashes */
	t_check_corrupt(t, t_raw_open(t, "cache"), k, bad, len, 0);
	memcpy(bad, good, len);
	bad[1] = 0xff;
	t_check_corrupt(t, t_raw_open(t, "cache"), k, bad, len, 0);
	memcpy(bad, good, len);
	bad[3] = 4;
	t_check_corrupt(t, t_raw_open(t, "cache"), k, bad, len, 0);
	memcpy(bad, good, len);
	bad[4] = EID_AUD_MAX_COUNT + 1;
	t_check_corrupt(t, t_raw_open(t, "cache"), k, bad, len, 0);
	/* The kid's length says 0xffff; then one just past its buffer. */
	memcpy(bad, good, len);
	bad[T_KID_OFF] = 0xff;
	bad[T_KID_OFF + 1] = 0xff;
	t_check_corrupt(t, t_raw_open(t, "cache"), k, bad, len, 0);
	memset(bad, 0, sizeof(bad));
	memcpy(bad, good, T_KID_OFF);
	bad[T_KID_OFF] = EID_KID_MAX + 1;
	memset(bad + T_KID_OFF + 2, 'k', EID_KID_MAX + 1);
	t_check_corrupt(t, t_raw_open(t, "cache"), k, bad,
	    T_KID_OFF + 2 + EID_KID_MAX + 1, 0);
	/* A NUL inside a string. */
	memcpy(bad, good, len);
	bad[T_KID_OFF + 2] = '\0';
	t_check_corrupt(t, t_raw_open(t, "cache"), k, bad, len, 0);
	/* Single-byte damage anywhere: never a crash, never garbage out. */
	for (i = 0; i < len; i += 3) {
		memcpy(bad, good, len);
		bad[i] ^= 0xa5;
		t_check_corrupt(t, t_raw_open(t, "cache"), k, bad, len, -1);
	}

	/* The sweeper removes a value that does not decode. */
	memcpy(bad, good, len);
	bad[0] = 9;
	t_check_corrupt(t, t_raw_open(t, "cache"), k, bad, len, 0);
	t_open(t);
	assert_int_equal(store_sweep(t->s, 0), 1);
	assert_int_equal(t_stats(t).cache_entries, 0);
}

static void
test_cache_full(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a, out;
	struct store_stats	 st;
	unsigned char		 k[STORE_KEY_LEN];
	unsigned int		 i, hits = 0;
	int64_t			 now = (int64_t)time(NULL);

	t->cfg.cache_map_bytes = 1024 * 1024;
	t_open(t);
	for (i = 0; i < 4000; i++) {
		t_assertion(&a, T_ISS, "001090000123", "j", "kid", now);
		snprintf(a.jti, sizeof(a.jti), "jti-%u", i);
		memset(a.name, 'n', 200);
		t_key(k, i);
		store_cache_put(t->s, k, &a);
		if (i % 50 != 49)
			continue;
		store_sync(t->s);
		store_reader_reset(t->rd);
		/* The newest entry is there, and the cache still answers. */
		if (store_cache_get(t->rd, k, &out) != 1) {
			st = t_stats(t);
			fail_msg("miss at %u: entries=%llu evictions=%llu "
			    "dropped=%llu used=%llu", i,
			    (unsigned long long)st.cache_entries,
			    (unsigned long long)st.evictions,
			    (unsigned long long)st.cache_puts_dropped,
			    (unsigned long long)st.cache_used_bytes);
		}
		assert_string_equal(out.jti, a.jti);
		/*
		 * End of the "pass": a snapshot held longer pins every page
		 * freed since, and eviction could not make room.
		 */
		store_reader_reset(t->rd);
		hits++;
	}
	st = t_stats(t);
	assert_true(st.evictions > 0);
	assert_true(st.cache_entries > 0);
	assert_true(st.cache_used_bytes <= st.cache_map_bytes);
	/* A put is dropped only if eviction could not make room. */
	assert_true(st.cache_puts_dropped < 200);
	assert_int_equal(hits, 80);
	print_message("# cache full: entries=%llu evictions=%llu "
	    "dropped=%llu used=%llu/%llu\n",
	    (unsigned long long)st.cache_entries,
	    (unsigned long long)st.evictions,
	    (unsigned long long)st.cache_puts_dropped,
	    (unsigned long long)st.cache_used_bytes,
	    (unsigned long long)st.cache_map_bytes);
}

/*
 * A burst of the largest entries, unsynced, into a map they cannot all fit
 * in: chunks that find no room are dropped and counted, and the cache
 * keeps answering afterwards.
 */
static void
test_cache_burst(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a, out;
	struct store_stats	 st;
	unsigned char		 k[STORE_KEY_LEN];
	unsigned int		 i;

	t->cfg.cache_map_bytes = 512 * 1024;
	t_open(t);
	for (i = 0; i < 3000; i++) {
		t_full_assertion(&a, i);
		t_key(k, i);
		store_cache_put(t->s, k, &a);
	}
	store_sync(t->s);
	t_full_assertion(&a, 1);
	t_key(k, 60000);
	store_cache_put(t->s, k, &a);
	store_sync(t->s);
	store_reader_reset(t->rd);
	assert_int_equal(store_cache_get(t->rd, k, &out), 1);
	t_assert_same(&a, &out);
	st = t_stats(t);
	assert_true(st.cache_entries + st.evictions + st.cache_puts_dropped >=
	    3001);
	print_message("# cache burst: entries=%llu evictions=%llu "
	    "dropped=%llu\n", (unsigned long long)st.cache_entries,
	    (unsigned long long)st.evictions,
	    (unsigned long long)st.cache_puts_dropped);
}

/* --- probation ---------------------------------------------------------- */

/*
 * A first put stays in memory; its first hit answers from there and sends
 * it to LMDB, where it outlives a restart.  A token used once is not
 * written, and a restart forgets it.  An assertion too long for a slot
 * is written at once.
 */
static void
test_probation_promote(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a, b, big, out;
	struct store_stats	 st;
	unsigned char		 k1[STORE_KEY_LEN], k2[STORE_KEY_LEN];
	unsigned char		 k3[STORE_KEY_LEN];

	t->cfg.probation = 1024;
	t_open(t);
	t_assertion(&a, T_ISS, "001090000123", "jti-a", "kid-a", 1000);
	t_assertion(&b, T_ISS, "001090000124", "jti-b", "kid-b", 2000);
	/* The longest strings of the profile do not fit a slot. */
	t_full_assertion(&big, 0);
	t_key(k1, 1);
	t_key(k2, 2);
	t_key(k3, 3);
	store_cache_put(t->s, k1, &a);
	store_cache_put(t->s, k2, &b);
	store_sync(t->s);
	store_reader_reset(t->rd);
	st = t_stats(t);
	assert_int_equal(st.cache_entries, 0);
	assert_int_equal(st.probation, 2);
	assert_int_equal(st.promotions, 0);

	/* The hit is answered at once, from memory, without a commit. */
	assert_int_equal(store_cache_get(t->rd, k1, &out), 1);
	t_assert_same(&a, &out);
	assert_int_equal(t_stats(t).promotions, 1);
	/* A second hit is answered again and not sent twice. */
	assert_int_equal(store_cache_get(t->rd, k1, &out), 1);
	t_assert_same(&a, &out);
	store_sync(t->s);
	store_reader_reset(t->rd);
	st = t_stats(t);
	assert_int_equal(st.promotions, 1);
	assert_int_equal(st.cache_entries, 1);

	store_cache_put(t->s, k3, &big);
	store_sync(t->s);
	store_reader_reset(t->rd);
	st = t_stats(t);
	assert_int_equal(st.cache_entries, 2);
	assert_int_equal(st.probation, 2);
	assert_int_equal(store_cache_get(t->rd, k3, &out), 1);
	t_assert_same(&big, &out);
	assert_int_equal(t_stats(t).promotions, 1);

	t_reopen(t);
	assert_int_equal(t_stats(t).probation, 0);
	assert_int_equal(store_cache_get(t->rd, k1, &out), 1);
	t_assert_same(&a, &out);
	assert_int_equal(store_cache_get(t->rd, k3, &out), 1);
	t_assert_same(&big, &out);
	assert_int_equal(store_cache_get(t->rd, k2, &out), 0);
	assert_int_equal(t_stats(t).cache_entries, 2);
}

/*
 * A hit needs the whole key: keys that share the slot's bits and the
 * fingerprint's, and differ anywhere else, are misses.
 */
static void
test_probation_full_key(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a, out;
	unsigned char		 k1[STORE_KEY_LEN], k2[STORE_KEY_LEN];
	size_t			 i;

	t->cfg.probation = 1024;
	t_open(t);
	t_assertion(&a, T_ISS, "001090000123", "jti-a", "kid-a", 1000);
	t_key(k1, 1);
	store_cache_put(t->s, k1, &a);
	assert_int_equal(store_cache_get(t->rd, k1, &out), 1);
	for (i = 0; i < STORE_KEY_LEN; i++) {
		if (i < 8 || (i >= 16 && i < 24))
			continue;
		memcpy(k2, k1, sizeof(k2));
		k2[i] ^= 0x01;
		if (store_cache_get(t->rd, k2, &out) != 0)
			fail_msg("a key differing in byte %zu hit", i);
	}
}

/*
 * One slot: a newer token pushes the older out before its reuse.  The
 * older is then a miss, and when it is verified and put again it goes
 * straight to LMDB, not back into probation.
 */
static void
test_probation_ghost(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a, b, out;
	struct store_stats	 st;
	unsigned char		 k1[STORE_KEY_LEN], k2[STORE_KEY_LEN];
	unsigned char		 k3[STORE_KEY_LEN];

	t->cfg.probation = 1;
	t_open(t);
	t_assertion(&a, T_ISS, "001090000123", "jti-a", "kid-a", 1000);
	t_assertion(&b, T_ISS, "001090000124", "jti-b", "kid-b", 2000);
	t_key(k1, 1);
	t_key(k2, 2);
	t_key(k3, 3);
	store_cache_put(t->s, k1, &a);
	store_cache_put(t->s, k2, &b);
	store_sync(t->s);
	store_reader_reset(t->rd);
	assert_int_equal(store_cache_get(t->rd, k1, &out), 0);
	assert_int_equal(t_stats(t).probation, 1);

	store_cache_put(t->s, k1, &a);
	store_sync(t->s);
	store_reader_reset(t->rd);
	st = t_stats(t);
	assert_int_equal(st.cache_entries, 1);
	assert_int_equal(st.promotions, 0);
	assert_int_equal(store_cache_get(t->rd, k1, &out), 1);
	t_assert_same(&a, &out);
	/* k2 kept its slot, and k3, never seen, is a miss. */
	assert_int_equal(store_cache_get(t->rd, k2, &out), 1);
	t_assert_same(&b, &out);
	assert_int_equal(store_cache_get(t->rd, k3, &out), 0);
	/* A token pushed out after its first hit leaves no ghost. */
	store_cache_put(t->s, k3, &a);
	store_cache_put(t->s, k2, &b);
	store_sync(t->s);
	store_reader_reset(t->rd);
	st = t_stats(t);
	assert_int_equal(st.probation, 1);
	assert_int_equal(st.cache_entries, 2);
	/* k2 went back into probation, so k3 lost the slot ... */
	assert_int_equal(store_cache_get(t->rd, k3, &out), 0);
	/* ... and k2's hit comes from probation: a second promotion. */
	assert_int_equal(store_cache_get(t->rd, k2, &out), 1);
	t_assert_same(&b, &out);
	assert_int_equal(t_stats(t).promotions, 2);
}

/* Memory stays bounded by the slots, however many tokens pass. */
static void
test_probation_bounded(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a, out;
	struct store_stats	 st;
	unsigned char		 k[STORE_KEY_LEN];
	unsigned int		 i, hits = 0;

	t->cfg.probation = 100;		/* rounded up to 128 */
	t_open(t);
	for (i = 0; i < 5000; i++) {
		t_assertion(&a, T_ISS, "001090000123", "j", "kid", 1000);
		snprintf(a.jti, sizeof(a.jti), "jti-%u", i);
		t_key(k, i);
		store_cache_put(t->s, k, &a);
	}
	store_sync(t->s);
	store_reader_reset(t->rd);
	st = t_stats(t);
	assert_true(st.probation > 0 && st.probation <= 128);
	assert_int_equal(st.cache_entries, 0);
	/* Whatever is still there is the right token's. */
	for (i = 0; i < 5000; i++) {
		t_key(k, i);
		if (store_cache_get(t->rd, k, &out) != 1)
			continue;
		snprintf(a.jti, sizeof(a.jti), "jti-%u", i);
		assert_string_equal(out.jti, a.jti);
		hits++;
	}
	assert_true(hits > 0 && hits <= 128);
}

/*
 * The admission test: tokens pushed out of probation that keep coming
 * back turn on the bypass (first uses written at once); a stream that
 * never comes back turns it off again.
 */
static void
test_probation_admission(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a;
	struct store_stats	 st;
	unsigned char		 k[STORE_KEY_LEN];
	uint64_t		 before;
	unsigned int		 i, n = 0;

	t->cfg.probation = 16;
	t->cfg.cache_map_bytes = 64u * 1024 * 1024;	/* no eviction */
	t_open(t);
	t_assertion(&a, T_ISS, "001090000123", "j", "kid", 1000);
	/* Used once each: windows decided, nothing written, no bypass. */
	for (i = 0; i < 40000; i++) {
		t_key(k, 100000 + i);
		store_cache_put(t->s, k, &a);
	}
	store_sync(t->s);
	store_reader_reset(t->rd);
	st = t_stats(t);
	assert_true(st.admission_windows >= 1);
	assert_false(st.probation_bypass);
	assert_int_equal(st.bypass_windows, 0);
	assert_int_equal(st.cache_entries, 0);

	/* Each token comes back 40 first uses later: bypass. */
	for (i = 0; i < 40000; i++) {
		t_key(k, 200000 + i);
		store_cache_put(t->s, k, &a);
		if (i >= 40) {
			t_key(k, 200000 + i - 40);
			store_cache_put(t->s, k, &a);
		}
	}
	store_sync(t->s);
	store_reader_reset(t->rd);
	st = t_stats(t);
	assert_true(st.probation_bypass);
	assert_true(st.bypass_windows > 0);
	assert_int_equal(st.bypass_changes, 1);
	/* New tokens now reach the map at once, the sample too. */
	before = st.cache_entries;
	for (i = 0; i < 64; i++) {
		t_key(k, 300000 + i);
		store_cache_put(t->s, k, &a);
	}
	store_sync(t->s);
	store_reader_reset(t->rd);
	st = t_stats(t);
	assert_int_equal(st.cache_entries - before, 64);

	/* Used once each again: off within about a window's worth. */
	for (i = 0; i < 100000; i++) {
		t_key(k, 400000 + i);
		store_cache_put(t->s, k, &a);
		if (i % 1024 == 1023) {
			store_sync(t->s);
			store_reader_reset(t->rd);
			if (!t_stats(t).probation_bypass)
				break;
		}
		n++;
	}
	st = t_stats(t);
	assert_false(st.probation_bypass);
	assert_int_equal(st.bypass_changes, 2);
	print_message("# admission: bypass off after %u one-shot tokens\n", n);
}

/*
 * A share of tokens comes back once, after they have left probation but
 * while their ghosts remain: above one in 16 bypass comes on and stays
 * on (it measures the same thing in both modes); below, it never does.
 * Each one that came back is then hit `again' more times, from LMDB once
 * written: a return counts once, so those hits must not count (a ghost
 * not taken when it is found would count each of them).
 */
static void
t_admission_share(struct t_ctx *t, unsigned int every, unsigned int again,
    bool want)
{
	struct eid_assertion	 a, out;
	struct store_stats	 st;
	unsigned char		 k[STORE_KEY_LEN];
	unsigned int		 i, j, r, back[256], nback = 0;
	unsigned int		 tried = 0, hit = 0;

	t_assertion(&a, T_ISS, "001090000123", "j", "kid", 1000);
	for (i = 0; i < 100000; i++) {
		t_key(k, 1000000 + i);
		store_cache_put(t->s, k, &a);
		/*
		 * 256 slots live ~256 first uses; 4,096 ghosts much longer.
		 * As in eidd, a token is looked up first and put only if
		 * missed: in bypass its return is a hit in LMDB.
		 */
		if (i >= 1000 && (i - 1000) % every == 0) {
			t_key(k, 1000000 + i - 1000);
			if (store_cache_get(t->rd, k, &out) != 1)
				store_cache_put(t->s, k, &a);
			if (nback < 256)
				back[nback++] = 1000000 + i - 1000;
		}
		if (i % 256 == 255) {
			store_sync(t->s);
			store_reader_reset(t->rd);
			/* A return whose ghost was overwritten went back
			 * into probation, and may be gone again. */
			for (j = 0; j < nback; j++)
				for (r = 0; r < again; r++) {
					t_key(k, back[j]);
					tried++;
					if (store_cache_get(t->rd, k,
					    &out) == 1)
						hit++;
				}
			nback = 0;
		}
	}
	st = t_stats(t);
	print_message("# admission, one in %u back: windows=%llu bypass=%llu "
	    "changes=%llu\n", every, (unsigned long long)st.admission_windows,
	    (unsigned long long)st.bypass_windows,
	    (unsigned long long)st.bypass_changes);
	assert_true(st.admission_windows >= 4);
	/* Most returns were written, and hit again. */
	assert_true(hit * 4 >= tried * 3);
	assert_int_equal(st.probation_bypass, want);
	assert_int_equal(st.bypass_changes, want ? 1 : 0);
}

static void
test_probation_admission_share(void **state)
{
	struct t_ctx		*t = *state;

	t->cfg.probation = 256;
	t->cfg.cache_map_bytes = 64u * 1024 * 1024;	/* no eviction */
	t_open(t);
	t_admission_share(t, 10, 0, true);
	t_reopen(t);
	t_admission_share(t, 33, 3, false);
}

struct t_prober {
	struct store		*s;
	pthread_barrier_t	*bar;
	unsigned int		 base;
	unsigned int		 wrong;
	unsigned int		 hits;
};

static void *
t_probe_thread(void *arg)
{
	struct t_prober		*p = arg;
	struct store_reader	*rd = store_reader_new(p->s);
	struct eid_assertion	 a, out;
	unsigned char		 k[STORE_KEY_LEN];
	char			 want[32];
	unsigned int		 i, n;

	if (rd == NULL)
		return NULL;
	pthread_barrier_wait(p->bar);
	for (i = 0; i < 20000; i++) {
		/* Half the keys are shared with the other threads. */
		n = (i % 2) ? p->base + i % 700 : i % 700;
		snprintf(want, sizeof(want), "jti-%u", n);
		t_key(k, n);
		if (store_cache_get(rd, k, &out) == 1) {
			p->hits++;
			if (strcmp(out.jti, want) != 0)
				p->wrong++;
		} else {
			t_assertion(&a, T_ISS, "001090000123", want, "kid",
			    1000);
			store_cache_put(p->s, k, &a);
		}
		if (i % 64 == 63)
			store_reader_reset(rd);
	}
	store_reader_free(rd);
	return NULL;
}

/* Threads putting and hitting the same small probation never mix up. */
static void
test_probation_threads(void **state)
{
	struct t_ctx		*t = *state;
	struct t_prober		 p[4];
	pthread_t		 th[4];
	pthread_barrier_t	 bar;
	unsigned int		 i;

	t->cfg.probation = 256;
	t_open(t);
	assert_int_equal(pthread_barrier_init(&bar, NULL, 4), 0);
	for (i = 0; i < 4; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].s = t->s;
		p[i].bar = &bar;
		p[i].base = 1000 * (i + 1);
		assert_int_equal(pthread_create(&th[i], NULL, t_probe_thread,
		    &p[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(p[i].wrong, 0);
		assert_true(p[i].hits > 0);
	}
	pthread_barrier_destroy(&bar);
	store_sync(t->s);
	store_reader_reset(t->rd);
	assert_true(t_stats(t).promotions > 0);
}

/* --- revocation --------------------------------------------------------- */

static void
test_revoke_token(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a;
	int64_t			 now = (int64_t)time(NULL);

	t_open(t);
	t_assertion(&a, T_ISS, "001090000123", "jti-1", "kid-1", now);
	assert_int_equal(t_revoked(t, &a, now), 0);
	t_revoke1(t, STORE_REV_TOKEN, T_ISS, "jti-1", 0, 0);
	assert_int_equal(t_revoked(t, &a, now), 1);
	/* Issuer-specific: the same jti of another issuer is not revoked. */
	snprintf(a.iss, sizeof(a.iss), "%s", T_ISS2);
	assert_int_equal(t_revoked(t, &a, now), 0);
	/* All issuers. */
	t_revoke1(t, STORE_REV_TOKEN, "", "jti-2", 0, 0);
	snprintf(a.jti, sizeof(a.jti), "jti-2");
	assert_int_equal(t_revoked(t, &a, now), 1);
	snprintf(a.iss, sizeof(a.iss), "%s", T_ISS);
	assert_int_equal(t_revoked(t, &a, now), 1);
	/* A prefix of a revoked id is another id. */
	snprintf(a.jti, sizeof(a.jti), "jti-");
	assert_int_equal(t_revoked(t, &a, now), 0);
	/* Durable: still in force after a restart. */
	t_reopen(t);
	snprintf(a.jti, sizeof(a.jti), "jti-1");
	assert_int_equal(t_revoked(t, &a, now), 1);
}

static void
test_revoke_subject(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a;
	int64_t			 cut = 1700000000;

	t_open(t);
	t_revoke1(t, STORE_REV_SUBJECT, T_ISS, "001090000123", cut, 0);
	t_assertion(&a, T_ISS, "001090000123", "j", "kid", cut - 1);
	assert_int_equal(t_revoked(t, &a, cut + 10), 1);
	a.iat = cut;
	assert_int_equal(t_revoked(t, &a, cut + 10), 0);
	a.iat = cut + 1;
	assert_int_equal(t_revoked(t, &a, cut + 10), 0);
	/* Another issuer's subject with the same number is not touched. */
	t_assertion(&a, T_ISS2, "001090000123", "j", "kid", cut - 1);
	assert_int_equal(t_revoked(t, &a, cut + 10), 0);
	/* ... until the subject is revoked for every issuer. */
	t_revoke1(t, STORE_REV_SUBJECT, "", "001090000123", cut - 100, 0);
	assert_int_equal(t_revoked(t, &a, cut + 10), 0);
	a.iat = cut - 101;
	assert_int_equal(t_revoked(t, &a, cut + 10), 1);
	a.iat = cut - 100;
	assert_int_equal(t_revoked(t, &a, cut + 10), 0);
	/* The issuer-specific one still has the later cut-off. */
	snprintf(a.iss, sizeof(a.iss), "%s", T_ISS);
	assert_int_equal(t_revoked(t, &a, cut + 10), 1);
	/* Revoking again replaces: the cut-off moves back. */
	t_revoke1(t, STORE_REV_SUBJECT, T_ISS, "001090000123", cut - 200, 0);
	assert_int_equal(t_revoked(t, &a, cut + 10), 0);
	assert_int_equal(t_stats(t).revocations, 2);
}

static void
test_revoke_key(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a;
	int64_t			 now = (int64_t)time(NULL);

	t_open(t);
	t_assertion(&a, T_ISS, "001090000123", "j", "kid-global", now);
	t_revoke1(t, STORE_REV_KEY, "", "kid-global", 0, 0);
	assert_int_equal(t_revoked(t, &a, now), 1);
	snprintf(a.iss, sizeof(a.iss), "%s", T_ISS2);
	assert_int_equal(t_revoked(t, &a, now), 1);
	t_revoke1(t, STORE_REV_KEY, T_ISS, "kid-iss", 0, 0);
	snprintf(a.kid, sizeof(a.kid), "kid-iss");
	assert_int_equal(t_revoked(t, &a, now), 0);
	snprintf(a.iss, sizeof(a.iss), "%s", T_ISS);
	assert_int_equal(t_revoked(t, &a, now), 1);
	snprintf(a.kid, sizeof(a.kid), "kid-other");
	assert_int_equal(t_revoked(t, &a, now), 0);
}

static void
test_revoke_invalid(void **state)
{
	struct t_ctx		*t = *state;
	struct store_revocation	 r[2];
	char			 err[256] = "";

	t_open(t);
	t_rev(&r[0], STORE_REV_TOKEN, T_ISS, "ok", 0, 0);
	t_rev(&r[1], STORE_REV_TOKEN, T_ISS, "", 0, 0);
	assert_int_equal(store_revoke(t->s, r, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid"));
	t_rev(&r[1], (enum store_rev_kind)9, T_ISS, "x", 0, 0);
	assert_int_equal(store_revoke(t->s, r, 2, err, sizeof(err)), -1);
	t_rev(&r[1], STORE_REV_TOKEN, T_ISS, "x", 0, 0);
	memset(r[1].reason, 'r', sizeof(r[1].reason));
	assert_int_equal(store_revoke(t->s, r, 2, err, sizeof(err)), -1);
	/* All or none: "ok" was not written either. */
	assert_int_equal(t_stats(t).revocations, 0);
	assert_int_equal(store_revoke(t->s, r, 0, err, sizeof(err)), 0);
}

static void
test_revoke_expiry(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a;
	int64_t			 now = (int64_t)time(NULL);

	t_open(t);
	t_assertion(&a, T_ISS, "001090000123", "jti-old", "kid", now);
	t_revoke1(t, STORE_REV_TOKEN, T_ISS, "jti-old", 0, now - 10);
	t_revoke1(t, STORE_REV_TOKEN, T_ISS, "jti-new", 0, now + 100);
	/* Past expires_at: ignored at once, before any sweep. */
	assert_int_equal(t_revoked(t, &a, now), 0);
	snprintf(a.jti, sizeof(a.jti), "jti-new");
	assert_int_equal(t_revoked(t, &a, now), 1);
	assert_int_equal(t_revoked(t, &a, now + 100), 1);
	assert_int_equal(t_revoked(t, &a, now + 101), 0);
	assert_int_equal(t_stats(t).revocations, 2);
	assert_int_equal(store_sweep(t->s, now), 1);
	assert_int_equal(t_stats(t).revocations, 1);
	assert_int_equal(t_revoked(t, &a, now), 1);
	assert_int_equal(store_sweep(t->s, now + 101), 1);
	assert_int_equal(t_stats(t).revocations, 0);
}

/* --- consume-once ------------------------------------------------------- */

static void
test_consume(void **state)
{
	struct t_ctx	*t = *state;
	char		 err[256] = "";
	int64_t		 now = (int64_t)time(NULL);

	t_open(t);
	assert_int_equal(store_consume(t->s, T_ISS, "once", now + 600, err,
	    sizeof(err)), 0);
	assert_int_equal(store_consume(t->s, T_ISS, "once", now + 600, err,
	    sizeof(err)), 1);
	/* Keyed by (iss, jti): another issuer's id is another id. */
	assert_int_equal(store_consume(t->s, T_ISS2, "once", now + 600, err,
	    sizeof(err)), 0);
	assert_int_equal(store_consume(t->s, "", "once", now + 600, err,
	    sizeof(err)), 0);
	/* Durable. */
	t_reopen(t);
	assert_int_equal(store_consume(t->s, T_ISS, "once", now + 600, err,
	    sizeof(err)), 1);
	/*
	 * Past exp + leeway (60) by the writer's clock: not consumed, since
	 * the sweep may have taken its mark since the token was verified.
	 */
	assert_int_equal(store_consume(t->s, T_ISS, "old", now - 61, err,
	    sizeof(err)), 2);
	assert_int_equal(store_consume(t->s, T_ISS, "old", now + 600, err,
	    sizeof(err)), 0);
	assert_int_equal(store_consume(t->s, T_ISS, "old", now + 600, err,
	    sizeof(err)), 1);
	assert_int_equal(store_consume(t->s, T_ISS, "", now, err,
	    sizeof(err)), -1);
	assert_int_equal(t_stats(t).consumed, 4);
}

struct t_racer {
	struct store		*s;
	pthread_barrier_t	*bar;
	const char		*jti;
	int			 rc;
};

static void *
t_race(void *arg)
{
	struct t_racer	*r = arg;
	char		 err[256];

	pthread_barrier_wait(r->bar);
	r->rc = store_consume(r->s, T_ISS, r->jti, (int64_t)time(NULL) + 600,
	    err, sizeof(err));
	return NULL;
}

static void
test_consume_concurrent(void **state)
{
	struct t_ctx		*t = *state;
	struct t_racer		 r[8];
	pthread_t		 th[8];
	pthread_barrier_t	 bar;
	char			 jti[32];
	int			 round, i, zeros, ones;

	t_open(t);
	for (round = 0; round < 25; round++) {
		snprintf(jti, sizeof(jti), "race-%d", round);
		assert_int_equal(pthread_barrier_init(&bar, NULL, 8), 0);
		for (i = 0; i < 8; i++) {
			r[i].s = t->s;
			r[i].bar = &bar;
			r[i].jti = jti;
			r[i].rc = -2;
			assert_int_equal(pthread_create(&th[i], NULL, t_race,
			    &r[i]), 0);
		}
		zeros = ones = 0;
		for (i = 0; i < 8; i++) {
			pthread_join(th[i], NULL);
			zeros += r[i].rc == 0;
			ones += r[i].rc == 1;
		}
		pthread_barrier_destroy(&bar);
		assert_int_equal(zeros, 1);
		assert_int_equal(ones, 7);
	}
}

/* --- full state map ----------------------------------------------------- */

struct t_revoker {
	struct store		*s;
	pthread_barrier_t	*bar;
	struct store_revocation	*r;
	size_t			 n;
	int			 rc;
	char			 err[256];
};

static void *
t_revoke_thread(void *arg)
{
	struct t_revoker	*v = arg;

	pthread_barrier_wait(v->bar);
	v->rc = store_revoke(v->s, v->r, v->n, v->err, sizeof(v->err));
	return NULL;
}

static int
t_count_cb(const struct store_revocation *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static void
test_state_full(void **state)
{
	struct t_ctx		*t = *state;
	struct store_revocation	*big, small[4], r;
	struct t_revoker	 v[5];
	struct eid_assertion	 a;
	pthread_barrier_t	 bar;
	pthread_t		 th[5];
	char			 err[256] = "", id[64];
	size_t			 i, nbig = 400;
	int			 ok, count, rc;

	t->cfg.state_map_bytes = 128 * 1024;
	t_open(t);

	/*
	 * A batch that cannot fit, raced against small ones that can: the
	 * big one is refused as a whole, the others commit, whether or not
	 * they share its group commit.
	 */
	big = calloc(nbig, sizeof(*big));
	assert_non_null(big);
	for (i = 0; i < nbig; i++) {
		snprintf(id, sizeof(id), "big-%zu", i);
		t_rev(&big[i], STORE_REV_TOKEN, T_ISS, id, 0, 0);
		memset(big[i].reason, 'r', STORE_REASON_MAX);
	}
	for (i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "small-%zu", i);
		t_rev(&small[i], STORE_REV_TOKEN, T_ISS, id, 0, 0);
	}
	assert_int_equal(pthread_barrier_init(&bar, NULL, 5), 0);
	for (i = 0; i < 5; i++) {
		v[i].s = t->s;
		v[i].bar = &bar;
		v[i].r = i == 0 ? big : &small[i - 1];
		v[i].n = i == 0 ? nbig : 1;
		assert_int_equal(pthread_create(&th[i], NULL, t_revoke_thread,
		    &v[i]), 0);
	}
	for (i = 0; i < 5; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	assert_int_equal(v[0].rc, -1);
	assert_non_null(strstr(v[0].err, "full"));
	assert_true(big[0].seq == 0);
	for (i = 1; i < 5; i++)
		assert_int_equal(v[i].rc, 0);
	assert_int_equal(t_stats(t).revocations, 4);
	free(big);

	/* Fill it one at a time until one is refused. */
	for (ok = 0; ok < 10000; ok++) {
		snprintf(id, sizeof(id), "one-%d", ok);
		t_rev(&r, STORE_REV_SUBJECT, T_ISS, id, 10, 0);
		memset(r.reason, 'r', STORE_REASON_MAX);
		if ((rc = store_revoke(t->s, &r, 1, err, sizeof(err))) != 0)
			break;
	}
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "state store full"));
	assert_true(ok >= 3);
	print_message("# state full after %d revocations: %s\n", ok, err);
	/* Consume is refused the same way, never silently accepted. */
	rc = store_consume(t->s, T_ISS, "after-full-with-a-long-id-to-"
	    "make-sure-it-needs-room", (int64_t)time(NULL) + 60, err,
	    sizeof(err));
	assert_true(rc == 0 || (rc == -1 && strstr(err, "full") != NULL));

	/* Everything acknowledged is there after a restart. */
	t_reopen(t);
	count = 0;
	assert_int_equal(store_revocations_list(t->rd, 0, NULL, 0, t_count_cb,
	    &count), 4 + ok);
	assert_int_equal(count, 4 + ok);
	assert_int_equal(t_stats(t).rev_seq, 4 + ok);
	t_assertion(&a, T_ISS, "", "small-2", "kid", 5);
	for (i = 0; i < (size_t)ok; i++) {
		assert_true(snprintf(a.sub, sizeof(a.sub), "one-%zu", i) <
		    (int)sizeof(a.sub));
		assert_int_equal(t_revoked(t, &a, 100), 1);
	}
	snprintf(a.sub, sizeof(a.sub), "one-%d", ok);
	snprintf(a.jti, sizeof(a.jti), "big-0");
	assert_int_equal(t_revoked(t, &a, 100), 0);
	snprintf(a.jti, sizeof(a.jti), "small-2");
	assert_int_equal(t_revoked(t, &a, 100), 1);

	/*
	 * A raised leeway at open writes a key: in a full map that may fail,
	 * saying how to get out; a larger map then opens.
	 */
	t_close(t);
	t->cfg.leeway_s = 120;
	if ((t->s = store_open(&t->cfg, err, sizeof(err))) == NULL)
		assert_non_null(strstr(err, "raise store.state_map_bytes"));
	else
		store_close(t->s);
	t->cfg.state_map_bytes = 1024 * 1024;
	t_open(t);
	assert_int_equal(store_consume(t->s, T_ISS, "roomy",
	    (int64_t)time(NULL) + 60, err, sizeof(err)), 0);
}

/*
 * Raising the leeway (SECURITY.md finding 6): a token past exp + the old
 * leeway verifies again under the new one, so a consumed mark must count
 * with the highest leeway, and where the sweep has taken a mark the
 * token must not be consumed anew.  The sweep's now stands for the clock
 * moving on (the floor it leaves is then ahead of the real clock).
 */
static void
test_consume_leeway_raise(void **state)
{
	struct t_ctx	*t = *state;
	char		 err[256] = "";
	int64_t		 now = (int64_t)time(NULL);
	MDB_env		*env;

	t_open(t);
	assert_int_equal(store_consume(t->s, T_ISS, "swept", now + 10, err,
	    sizeof(err)), 0);
	assert_int_equal(store_consume(t->s, T_ISS, "live", now + 600, err,
	    sizeof(err)), 0);
	/* Marks hold exp + 60 and count 60 more: "swept" goes at +131. */
	assert_int_equal(store_sweep(t->s, now + 130), 0);
	assert_int_equal(store_sweep(t->s, now + 131), 1);
	/* The floor it left (now + 71): below it, nothing is consumed. */
	assert_int_equal(store_consume(t->s, T_ISS, "swept", now + 10, err,
	    sizeof(err)), 2);
	assert_int_equal(store_consume(t->s, T_ISS, "unseen", now + 70, err,
	    sizeof(err)), 2);
	assert_int_equal(store_consume(t->s, T_ISS, "fresh", now + 71, err,
	    sizeof(err)), 0);
	/* A sweep at an earlier clock that removes a mark lowers nothing. */
	t_close(t);
	env = t_raw_open(t, "state");
	t_put_mark(env, T_ISS, "low", now - 200);
	mdb_env_close(env);
	t_open(t);
	assert_int_equal(store_sweep(t->s, now), 1);
	assert_int_equal(store_consume(t->s, T_ISS, "unseen", now + 70, err,
	    sizeof(err)), 2);

	/* Raised to 120: "live" (exp + 60 + 120) outlives +720. */
	assert_int_equal(store_set_leeway(t->s, 120, err, sizeof(err)), 0);
	assert_int_equal(store_sweep(t->s, now + 721), 1);
	assert_int_equal(store_consume(t->s, T_ISS, "live", now + 600, err,
	    sizeof(err)), 1);

	/* Durable; lowering the leeway keeps marks as long as before. */
	t_reopen(t);
	assert_int_equal(store_consume(t->s, T_ISS, "swept", now + 10, err,
	    sizeof(err)), 2);
	assert_int_equal(store_set_leeway(t->s, 30, err, sizeof(err)), 0);
	assert_int_equal(store_sweep(t->s, now + 780), 0);
	assert_int_equal(store_consume(t->s, T_ISS, "live", now + 600, err,
	    sizeof(err)), 1);
	assert_int_equal(store_sweep(t->s, now + 781), 1);
	assert_int_equal(store_set_leeway(t->s, 3601, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "out of range"));
}

/* A higher leeway in the configuration at open does what a reload does. */
static void
test_consume_leeway_open(void **state)
{
	struct t_ctx	*t = *state;
	char		 err[256] = "";
	int64_t		 now = (int64_t)time(NULL);

	t_open(t);
	assert_int_equal(store_consume(t->s, T_ISS, "x", now + 10, err,
	    sizeof(err)), 0);
	t_close(t);
	t->cfg.leeway_s = 120;
	t_open(t);
	/* exp + 60 + 120 >= +190: kept. */
	assert_int_equal(store_sweep(t->s, now + 190), 0);
	assert_int_equal(store_consume(t->s, T_ISS, "x", now + 10, err,
	    sizeof(err)), 1);
	/* Back to 60 at the next start: still 120. */
	t_close(t);
	t->cfg.leeway_s = 60;
	t_open(t);
	assert_int_equal(store_sweep(t->s, now + 190), 0);
	assert_int_equal(store_sweep(t->s, now + 191), 1);
	t_close(t);
	t->cfg.leeway_s = 3601;
	assert_null(store_open(&t->cfg, err, sizeof(err)));
}

/*
 * A store of an earlier version has no consume metadata, and its marks
 * hold exp plus the leeway of their consume.  Started with a higher
 * leeway, the marks still count until exp + the new one.
 */
static void
test_consume_leeway_upgrade(void **state)
{
	struct t_ctx	*t = *state;
	char		 err[256] = "";
	int64_t		 now = (int64_t)time(NULL);
	MDB_env		*env;

	t_open(t);
	assert_int_equal(store_consume(t->s, T_ISS, "old", now + 10, err,
	    sizeof(err)), 0);
	t_close(t);
	env = t_raw_open(t, "state");
	t_raw_del(env, "meta", "consume_base");
	t_raw_del(env, "meta", "consume_leeway");
	t_raw_del(env, "meta", "consume_floor");
	mdb_env_close(env);
	t->cfg.leeway_s = 600;
	t_open(t);
	assert_int_equal(store_consume(t->s, T_ISS, "old", now + 10, err,
	    sizeof(err)), 1);
	/* Marks it swept left no floor: now is the floor. */
	assert_int_equal(store_consume(t->s, T_ISS, "swept", now - 1, err,
	    sizeof(err)), 2);
	assert_int_equal(store_consume(t->s, T_ISS, "new",
	    (int64_t)time(NULL) + 60, err, sizeof(err)), 0);
	/* The mark, exp + 60 as the old version wrote it, lasts 600 more. */
	assert_int_equal(store_sweep(t->s, now + 10 + 60 + 600), 0);
	assert_int_equal(store_sweep(t->s, now + 10 + 60 + 601), 1);
}

/* Consume metadata that does not read right is refused, not guessed. */
static void
test_consume_meta_damaged(void **state)
{
	struct t_ctx	*t = *state;
	unsigned char	 v[8] = { 0 }, big[8] = { 0x11, 0x0f }; /* 3857 */
	char		 err[256] = "";
	MDB_env		*env;

	t_open(t);
	t_close(t);
	env = t_raw_open(t, "state");
	assert_int_equal(t_raw_get(env, "meta", "consume_leeway", 14, v,
	    sizeof(v)), 8);
	assert_int_equal(v[0], 60);
	t_raw_put(env, "meta", "consume_leeway", 14, v, 3);
	mdb_env_close(env);
	assert_null(store_open(&t->cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "consume_leeway"));

	env = t_raw_open(t, "state");
	t_raw_put(env, "meta", "consume_leeway", 14, big, sizeof(big));
	mdb_env_close(env);
	assert_null(store_open(&t->cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "damaged"));

	/* Below the base; a negative base. */
	v[0] = 59;
	env = t_raw_open(t, "state");
	t_raw_put(env, "meta", "consume_leeway", 14, v, sizeof(v));
	mdb_env_close(env);
	assert_null(store_open(&t->cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "base 60, leeway 59"));
	memset(v, 0xff, sizeof(v));
	env = t_raw_open(t, "state");
	t_raw_put(env, "meta", "consume_base", 12, v, sizeof(v));
	v[0] = 60;
	memset(v + 1, 0, sizeof(v) - 1);
	t_raw_put(env, "meta", "consume_leeway", 14, v, sizeof(v));
	mdb_env_close(env);
	assert_null(store_open(&t->cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "base -1, leeway 60"));

	/* Some keys missing: not a store of an earlier version. */
	env = t_raw_open(t, "state");
	t_raw_put(env, "meta", "consume_base", 12, v, sizeof(v));
	t_raw_del(env, "meta", "consume_floor");
	mdb_env_close(env);
	assert_null(store_open(&t->cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "2 of its 3 keys"));

	/* A floor ahead of the clock (set back): consumes below it refused. */
	env = t_raw_open(t, "state");
	t_put_i64(env, "consume_floor", (int64_t)time(NULL) + 600);
	mdb_env_close(env);
	t_open(t);
	assert_int_equal(store_consume(t->s, T_ISS, "early", (int64_t)time(NULL)
	    + 300, err, sizeof(err)), 2);
}

/* --- schema ------------------------------------------------------------- */

static void
test_schema_version(void **state)
{
	struct t_ctx	*t = *state;
	unsigned char	 v7[4] = { 7, 0, 0, 0 }, v[16];
	char		 err[256] = "";
	MDB_env		*env;

	t_open(t);
	t_close(t);
	env = t_raw_open(t, "state");
	assert_int_equal(t_raw_get(env, "meta", "schema_version", 14, v,
	    sizeof(v)), 4);
	assert_int_equal(v[0], STORE_SCHEMA_VERSION);
	t_raw_put(env, "meta", "schema_version", 14, v7, sizeof(v7));
	mdb_env_close(env);

	assert_null(store_open(&t->cfg, err, sizeof(err)));
	assert_string_equal(err, "state store schema version 7 is not "
	    "supported (this eidd knows 1)");

	env = t_raw_open(t, "state");
	t_raw_put(env, "meta", "schema_version", 14, v7, 3);
	mdb_env_close(env);
	assert_null(store_open(&t->cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "unreadable"));
}

/* --- sweep -------------------------------------------------------------- */

static void
test_sweep(void **state)
{
	struct t_ctx		*t = *state;
	struct eid_assertion	 a, out;
	struct store_stats	 st;
	unsigned char		 k[STORE_KEY_LEN];
	char			 err[256], id[32];
	int64_t			 now = 2000000000;
	unsigned int		 i;

	t_open(t);
	/* Cache: exp + leeway (60) < now goes; exp + 60 == now stays. */
	for (i = 0; i < 2500; i++) {
		t_assertion(&a, T_ISS, "001090000123", "j", "kid", 0);
		a.exp = i < 2000 ? now - 61 : now - 60;
		t_key(k, i);
		store_cache_put(t->s, k, &a);
	}
	/* Consumed: marks (exp + 60) count 60 more; exp + 120 < now goes. */
	for (i = 0; i < 1200; i++) {
		snprintf(id, sizeof(id), "c-%u", i);
		assert_int_equal(store_consume(t->s, T_ISS, id,
		    i < 1100 ? now - 121 : now - 120, err, sizeof(err)), 0);
	}
	/* Revocations: expires_at < now goes; 0 never. */
	t_revoke1(t, STORE_REV_TOKEN, T_ISS, "r-1", 0, now - 1);
	t_revoke1(t, STORE_REV_SUBJECT, "", "r-2", 5, now - 1);
	t_revoke1(t, STORE_REV_KEY, "", "r-3", 0, now);
	t_revoke1(t, STORE_REV_KEY, "", "r-4", 0, 0);
	store_sync(t->s);
	st = t_stats(t);
	assert_int_equal(st.cache_entries, 2500);
	assert_int_equal(st.consumed, 1200);
	assert_int_equal(st.revocations, 4);

	assert_int_equal(store_sweep(t->s, now), 2000 + 1100 + 2);
	st = t_stats(t);
	assert_int_equal(st.cache_entries, 500);
	assert_int_equal(st.consumed, 100);
	assert_int_equal(st.revocations, 2);
	t_key(k, 2100);
	assert_int_equal(store_cache_get(t->rd, k, &out), 1);
	t_key(k, 100);
	assert_int_equal(store_cache_get(t->rd, k, &out), 0);
	assert_int_equal(store_sweep(t->s, now), 0);
	/* One second later the rest goes, except what never expires. */
	assert_int_equal(store_sweep(t->s, now + 1), 500 + 100 + 1);
	assert_int_equal(t_stats(t).revocations, 1);
}

static void
test_sweep_periodic(void **state)
{
	struct t_ctx		*t = *state;
	int64_t			 now = (int64_t)time(NULL);
	struct timespec		 ts = { 0, 100 * 1000 * 1000 };
	int			 i;

	t->cfg.sweep_interval_s = 1;
	t_open(t);
	t_revoke1(t, STORE_REV_TOKEN, T_ISS, "gone", 0, now - 1);
	t_revoke1(t, STORE_REV_TOKEN, T_ISS, "kept", 0, 0);
	for (i = 0; i < 40 && t_stats(t).revocations != 1; i++)
		nanosleep(&ts, NULL);
	assert_int_equal(t_stats(t).revocations, 1);
}

/* --- listing and stats -------------------------------------------------- */

struct t_list {
	struct store_revocation	 got[32];
	int			 n;
	int			 stop_at;
};

static int
t_list_cb(const struct store_revocation *r, void *arg)
{
	struct t_list	*l = arg;

	if (l->n < 32)
		l->got[l->n] = *r;
	l->n++;
	return l->stop_at != 0 && l->n >= l->stop_at;
}

static void
test_list(void **state)
{
	struct t_ctx		*t = *state;
	struct store_revocation	 r[7];
	struct t_list		 l;
	char			 err[256] = "";
	/* In the order a listing of every kind must give. */
	static const struct {
		enum store_rev_kind	 kind;
		const char		*iss;
		const char		*value;
	} want[7] = {
		{ STORE_REV_TOKEN, "", "zz" },
		{ STORE_REV_TOKEN, "a", "b" },
		{ STORE_REV_TOKEN, "a", "c" },
		{ STORE_REV_TOKEN, "ab", "a" },
		{ STORE_REV_SUBJECT, "", "001090000123" },
		{ STORE_REV_KEY, "", "k1" },
		{ STORE_REV_KEY, T_ISS, "k0" },
	};
	static const int	 order[7] = { 3, 6, 0, 5, 2, 4, 1 };
	int			 i, rc;

	t_open(t);
	for (i = 0; i < 7; i++)
		t_rev(&r[i], want[order[i]].kind, want[order[i]].iss,
		    want[order[i]].value, 42, 0);
	assert_int_equal(store_revoke(t->s, r, 7, err, sizeof(err)), 0);
	for (i = 0; i < 7; i++)
		assert_true(r[i].seq == (uint64_t)i + 1);

	memset(&l, 0, sizeof(l));
	store_reader_reset(t->rd);
	assert_int_equal(store_revocations_list(t->rd, 0, NULL, 0, t_list_cb,
	    &l), 7);
	for (i = 0; i < 7; i++) {
		assert_int_equal(l.got[i].kind, want[i].kind);
		assert_string_equal(l.got[i].iss, want[i].iss);
		assert_string_equal(l.got[i].value, want[i].value);
		assert_true(l.got[i].issued_before == 42);
		assert_non_null(strstr(l.got[i].reason, want[i].value));
	}
	/* Seq is stored: "a","b" was the 7th of the batch. */
	assert_true(l.got[1].seq == 7);

	/* Pages of 2, each starting after the last entry of the previous. */
	{
		struct store_revocation	 after;
		int			 seen = 0;
		const struct store_revocation *ap = NULL;

		for (;;) {
			memset(&l, 0, sizeof(l));
			rc = store_revocations_list(t->rd, 0, ap, 2, t_list_cb,
			    &l);
			assert_true(rc >= 0 && rc <= 2);
			if (rc == 0)
				break;
			for (i = 0; i < rc; i++) {
				assert_string_equal(l.got[i].value,
				    want[seen + i].value);
				assert_int_equal(l.got[i].kind,
				    want[seen + i].kind);
			}
			seen += rc;
			after = l.got[rc - 1];
			ap = &after;
		}
		assert_int_equal(seen, 7);
	}

	/* One kind; one kind after an entry; a callback that stops. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_revocations_list(t->rd, STORE_REV_KEY, NULL, 0,
	    t_list_cb, &l), 2);
	assert_string_equal(l.got[0].value, "k1");
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_revocations_list(t->rd, STORE_REV_TOKEN, &r[0],
	    0, t_list_cb, &l), 0);	/* r[0] is ("ab","a"), the last */
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_revocations_list(t->rd, STORE_REV_KEY, &r[0],
	    0, t_list_cb, &l), 2);	/* an earlier kind: from the start */
	memset(&l, 0, sizeof(l));
	l.stop_at = 3;
	assert_int_equal(store_revocations_list(t->rd, 0, NULL, 0, t_list_cb,
	    &l), 3);
	/* "after" need not exist: the listing starts at the next key. */
	{
		struct store_revocation	 gap;

		t_rev(&gap, STORE_REV_TOKEN, "a", "bb", 0, 0);
		memset(&l, 0, sizeof(l));
		assert_int_equal(store_revocations_list(t->rd, 0, &gap, 1,
		    t_list_cb, &l), 1);
		assert_string_equal(l.got[0].iss, "a");
		assert_string_equal(l.got[0].value, "c");
	}
	assert_int_equal(store_revocations_list(t->rd,
	    (enum store_rev_kind)7, NULL, 0, t_list_cb, &l), -1);
}

static void
test_stats(void **state)
{
	struct t_ctx		*t = *state;
	struct store_stats	 st;
	struct eid_assertion	 a;
	unsigned char		 k[STORE_KEY_LEN];
	char			 err[256];
	unsigned int		 i;

	t_open(t);
	st = t_stats(t);
	assert_int_equal(st.cache_entries, 0);
	assert_int_equal(st.revocations, 0);
	assert_int_equal(st.consumed, 0);
	assert_int_equal(st.rev_seq, 0);
	assert_true(st.cache_map_bytes == T_MAP);
	assert_true(st.state_map_bytes == T_MAP);
	assert_true(st.cache_used_bytes > 0 && st.state_used_bytes > 0);
	for (i = 0; i < 10; i++) {
		t_assertion(&a, T_ISS, "001090000123", "j", "kid", 0);
		t_key(k, i);
		store_cache_put(t->s, k, &a);
	}
	t_revoke1(t, STORE_REV_TOKEN, T_ISS, "a", 0, 0);
	t_revoke1(t, STORE_REV_KEY, "", "b", 0, 0);
	t_revoke1(t, STORE_REV_KEY, "", "b", 0, 0);	/* replaces */
	assert_int_equal(store_consume(t->s, T_ISS, "c", INT64_MAX, err,
	    sizeof(err)), 0);
	store_sync(t->s);
	st = t_stats(t);
	assert_int_equal(st.cache_entries, 10);
	assert_int_equal(st.revocations, 2);
	assert_int_equal(st.consumed, 1);
	assert_int_equal(st.rev_seq, 3);
	assert_int_equal(st.cache_puts_dropped, 0);
	assert_int_equal(st.evictions, 0);
	t_reopen(t);
	assert_int_equal(t_stats(t).rev_seq, 3);
}

static void
test_close_null(void **state)
{
	(void)state;
	store_close(NULL);
	store_reader_free(NULL);
}

static void
test_open_bad_dir(void **state)
{
	struct t_ctx	*t = *state;
	char		 err[256] = "";
	char		 file[300];
	FILE		*f;

	/* A plain file where the directory should be. */
	snprintf(file, sizeof(file), "%s", t->dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_null(store_open(&t->cfg, err, sizeof(err)));
	assert_true(err[0] != '\0');
	unlink(file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_null),
#define T(f)	cmocka_unit_test_setup_teardown(f, t_setup, t_teardown)
		T(test_open_bad_dir),
		T(test_cache_roundtrip),
		T(test_cache_unencodable),
		T(test_reader_snapshot),
		T(test_cache_corrupt),
		T(test_cache_full),
		T(test_cache_burst),
		T(test_probation_promote),
		T(test_probation_full_key),
		T(test_probation_ghost),
		T(test_probation_bounded),
		T(test_probation_threads),
		T(test_probation_admission),
		T(test_probation_admission_share),
		T(test_revoke_token),
		T(test_revoke_subject),
		T(test_revoke_key),
		T(test_revoke_invalid),
		T(test_revoke_expiry),
		T(test_consume),
		T(test_consume_concurrent),
		T(test_consume_leeway_raise),
		T(test_consume_leeway_open),
		T(test_consume_leeway_upgrade),
		T(test_consume_meta_damaged),
		T(test_state_full),
		T(test_schema_version),
		T(test_sweep),
		T(test_sweep_periodic),
		T(test_list),
		T(test_stats),
#undef T
	};

	log_init(getenv("T_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
