/*
 * daemon/store.c -- eidd's memory (DESIGN.md section 7): the verified-token
 * cache and the durable state (revocations, consumed token ids, metadata)
 * in two LMDB environments, the one writer thread that commits to both in
 * groups, and the per-worker readers.  This is the only file of eidd that
 * includes lmdb.h; no MDB_* type and no pointer into the map leaves it.
 *
 * Everything read from the map is input: every length is checked before
 * it is used, a cache value that does not decode is a miss, and a state
 * value that does not decode is a store error, so that the caller fails
 * closed.  Nothing read from the map may reach assert() or fatalx().
 *
 * Encodings (integers little-endian, strings length-prefixed by a u16
 * and never NUL-terminated on disk):
 *
 *   cache    key   SHA-256 of the token (32 bytes)
 *            value u8 format (2), u8 alg, u8 gender, u8 flags (1 has_nbf,
 *                  2 has_nonce), u8 aud_count, i32 level, i64 iat, exp,
 *                  nbf, key_not_before, key_not_after, 32 bytes of the
 *                  signing key's SPKI SHA-256, then the strings
 *                  kid, iss, sub, aud[0..aud_count), jti, name, birthdate,
 *                  nonce.
 *   meta     "schema_version" -> u32; "rev_seq" -> u64 (last number given);
 *            "consume_base", "consume_leeway", "consume_floor" -> i64
 *            (see store_marks_open()).
 *   rev_token, rev_subject, rev_key
 *            key   iss '\0' value: an issuer holds no NUL, so two pairs
 *                  never share a key and key order is (iss, value) order;
 *                  iss "" means every issuer.
 *            value u8 format (1), i64 issued_before, expires_at,
 *                  created_at, u64 seq, then the string reason.
 *   consumed key   iss '\0' jti; value i64 exp + consume_base: the mark
 *            counts while value + consume_leeway >= now (store_mark_live()).
 *
 * Key ids are global in the key set (a kid configured twice is refused),
 * so a key revocation is normally stored with iss "".  One stored with an
 * issuer applies to that issuer's tokens only, exactly like the other two
 * kinds: every kind is looked up under (token iss, value) and ("", value).
 */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS, madvise */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

#include "eidd.h"
#include "store.h"

#define STORE_CACHE_FORMAT	2
#define STORE_REV_FORMAT	1
#define STORE_MAXREADERS	126
/* Cache puts waiting for the writer; more are dropped and counted. */
#define STORE_QUEUE_MAX		4096
/* Cache inserts gather for up to this long, or this many, per commit. */
#define STORE_LINGER_NS		4000000
#define STORE_LINGER_PUTS	512
/* A sweep or eviction transaction deletes at most this many entries. */
#define STORE_SWEEP_CHUNK	1000
/* ... and looks at no more than this many, so none holds the lock long. */
#define STORE_SCAN_CHUNK	20000
/* Cache puts per transaction: bounds the pages one commit touches. */
#define STORE_PUT_CHUNK		256
#define STORE_ERR_MAX		160
/* The verification leeway's range (eid_policy), in seconds. */
#define STORE_LEEWAY_MAX	3600
/* iss '\0' value, the largest key this file writes. */
#define STORE_KEY_MAX		(EID_ISS_MAX + 1 + EID_JTI_MAX)
#define STORE_CACHE_VAL_MAX	(5 + 4 + 5 * 8 + 32 + 2 * (7 + EID_AUD_MAX_COUNT) + \
	EID_KID_MAX + EID_ISS_MAX + EID_PIN_LEN +			\
	EID_AUD_MAX_COUNT * EID_AUD_MAX + EID_JTI_MAX + EID_NAME_MAX +	\
	10 + EID_NONCE_MAX)
#define STORE_REV_VAL_MAX	(1 + 4 * 8 + 2 + STORE_REASON_MAX)
/*
 * Probation: locks over the slots, the largest table (2 GiB), the bytes
 * of a slot and its ghosts.  Ghosts remember first uses long after their
 * entries are gone (ADR 0010), so that a token reused at long intervals
 * under heavy traffic still reaches LMDB.
 */
#define STORE_PROBATION_LOCKS	64
#define STORE_PROBATION_MAX	(1u << 22)
#define STORE_SLOT_BYTES	512
#define STORE_SLOT_GHOSTS	10
/*
 * The admission test (ADR 0010).  A token that comes back after leaving
 * probation unused costs a second verification (17-100 us); one written
 * at once and never reused costs an insert (5-8 us): one return in 16 is
 * about where the two cost the same for ES256.  The test watches a sample
 * of tokens, one in STORE_SAMPLE by key bits, which go through probation
 * whatever the mode: over each window of STORE_RETURN_WINDOW sampled
 * tokens pushed out unused, if at least one in STORE_RETURN_SHARE came
 * back (its ghost was found), the other first uses are written to LMDB at
 * once (bypass) until a window says otherwise.  In bypass those first uses
 * still push their slot's token out, as a put would, so that the sample
 * lives in probation exactly as long in either mode and the two modes
 * measure the same thing.
 */
#define STORE_SAMPLE		16
#define STORE_RETURN_WINDOW	256
#define STORE_RETURN_SHARE	16

/*
 * Probation, 2Q's A1in and A1out (Johnson and Shasha, VLDB 1994; ADR
 * 0010).  A token verified for the first time is kept here, in memory,
 * and written to LMDB only when it is asked for again.  The cache's keys
 * are SHA-256, so every LMDB insert dirties a random leaf page that the
 * writer copies and writes (5-8 us of CPU per insert), and a token that
 * is never reused -- a portal's sign-in, most tokens -- repays none of
 * it.  Slots are direct-mapped by bits of the key; a token pushed out of
 * its slot before any reuse leaves a fingerprint among the slot's ghosts,
 * and if it is verified again, it goes to LMDB at once.  Memory is fixed
 * by the slot count; losing probation (a restart) costs re-verification
 * only, like losing the cache's last commits.
 */
/*
 * A slot: the token kept, inline, and the ghosts of tokens pushed out of
 * it.  A first use reads the first cache line (fingerprint, flags,
 * ghosts, key) and a put writes in place: no allocation, no pointer to
 * follow, and no page of a growing heap to fault in.  An assertion whose
 * encoding does not fit is written to LMDB at once, as without probation.
 */
struct store_slot {
	uint64_t		 fp;		/* store_fp(key); 0: empty */
	uint16_t		 vlen;
	bool			 reused;	/* hit while in probation */
	bool			 written;	/* a copy went to the writer */
	uint16_t		 ghost[STORE_SLOT_GHOSTS]; /* 0: none */
	unsigned char		 key[STORE_KEY_LEN];
	unsigned char		 val[STORE_SLOT_BYTES - 64];
};
_Static_assert(sizeof(struct store_slot) == STORE_SLOT_BYTES &&
    offsetof(struct store_slot, val) == 64,
    "a slot's head is one cache line");

enum store_which {
	STORE_CACHE = 0,
	STORE_STATE = 1
};

enum store_op_type {
	STORE_OP_PUT = 1,
	STORE_OP_REVOKE,
	STORE_OP_CONSUME,
	STORE_OP_SWEEP,
	STORE_OP_SYNC,
	STORE_OP_LEEWAY
};

/*
 * One request to the writer.  A cache put is malloc'ed by the worker and
 * freed by the writer.  Every other op lives on its caller's stack; the
 * caller sleeps on cv (with the store's mutex) until the writer sets done,
 * and the writer never touches the op after that.
 */
struct store_op {
	struct store_op		*next;
	enum store_op_type	 type;
	pthread_cond_t		 cv;
	bool			 done;
	long			 rc;
	char			 err[STORE_ERR_MAX];
	/* STORE_OP_REVOKE */
	struct store_revocation	*rev;
	size_t			 nrev;
	/* STORE_OP_CONSUME */
	const char		*iss;
	const char		*jti;
	int64_t			 exp;
	/* STORE_OP_LEEWAY: rc 1 when raised, from what */
	int64_t			 leeway;
	int64_t			 from;
	/* STORE_OP_SWEEP */
	int64_t			 now;
	/* STORE_OP_PUT: the key and the encoded assertion */
	unsigned char		 key[STORE_KEY_LEN];
	size_t			 vlen;
	unsigned char		 val[];
};

struct store {
	MDB_env			*env[2];	/* by enum store_which */
	MDB_dbi			 cache_dbi;
	MDB_dbi			 meta_dbi;
	MDB_dbi			 rev_dbi[3];	/* by kind - 1 */
	MDB_dbi			 consumed_dbi;
	int64_t			 leeway_s;	/* the cache's, by the writer */
	int64_t			 sweep_interval_s;
	size_t			 cache_map_bytes;
	/*
	 * Consumed marks, as in meta (store_marks_open()); the writer's
	 * alone once it runs.
	 */
	int64_t			 mark_base;
	int64_t			 mark_leeway;
	int64_t			 consume_floor;
	int64_t			 floor_warned;	/* store_floor_warn() */

	pthread_mutex_t		 mtx;
	pthread_cond_t		 work_cv;	/* CLOCK_MONOTONIC */
	bool			 sync_ready;
	struct store_op		*head;
	struct store_op		*tail;
	size_t			 nputs;
	size_t			 nacked;	/* queued ops a worker waits on */
	bool			 stopping;
	bool			 writer_waiting;	/* in its wait: signal it */
	bool			 writer_started;
	pthread_t		 writer;

	atomic_uint_least64_t	 puts_dropped;
	atomic_uint_least64_t	 evictions;

	/* Probation; slots is NULL when it is off (every put to LMDB). */
	struct store_slot	*slots;
	size_t			 slot_mask;
	size_t			 slots_bytes;	/* mapped */
	pthread_mutex_t		 slot_mtx[STORE_PROBATION_LOCKS];
	bool			 slot_mtx_ready;
	atomic_uint_least64_t	 probation;	/* slots in use */
	atomic_uint_least64_t	 promotions;
	/* The admission test's window: pushed out unused, and came back. */
	atomic_uint_least64_t	 displaced;
	atomic_uint_least64_t	 returned;
	atomic_bool		 bypass;	/* write first uses at once */
	atomic_uint_least64_t	 windows;	/* windows decided */
	atomic_uint_least64_t	 bypass_windows; /* ... that chose bypass */
	atomic_uint_least64_t	 bypass_changes;
};

/*
 * Read transactions, begun lazily on first use in an event-loop pass and
 * reset at its end.  LMDB gives a reader the snapshot of its begin or
 * renew, so a worker sees the writer's commits from its next pass on.
 * Without MDB_NOTLS LMDB ties a reader slot to a thread: a reader is used
 * by one thread, and a thread holds one reader of a store.
 */
/* What a revocation table held when the pass's state snapshot began. */
#define STORE_REVS_ANY		0x01	/* some entry */
#define STORE_REVS_ALL_ISS	0x02	/* some entry for every issuer */

struct store_reader {
	struct store		*s;
	MDB_txn			*txn[2];
	bool			 live[2];
	MDB_cursor		*rev_cur[3];	/* reused, one per table */
	unsigned char		 revs[3];	/* STORE_REVS_*, this pass */
};

/* Decides, for a sweep, whether the entry k/v goes. */
typedef bool	(*store_pred)(const struct store *, const MDB_val *k,
		    const MDB_val *v, int64_t now);
/* Run inside a sweep transaction that deletes, before its commit. */
typedef int	(*store_sweep_hook)(struct store *, MDB_txn *, int64_t now);

struct store_wbuf {
	unsigned char		*p;
	size_t			 len;
	size_t			 off;
	bool			 bad;
};

struct store_rbuf {
	const unsigned char	*p;
	size_t			 len;
	size_t			 off;
	bool			 bad;
};

static const char *const store_rev_names[3] = {
	"rev_token", "rev_subject", "rev_key"
};

/* --- encoding ----------------------------------------------------------- */

static void
store_w8(struct store_wbuf *b, unsigned int v)
{
	if (b->bad || b->len - b->off < 1) {
		b->bad = true;
		return;
	}
	b->p[b->off++] = (unsigned char)v;
}

static void
store_wn(struct store_wbuf *b, uint64_t v, size_t n)
{
	size_t	 i;

	if (b->bad || b->len - b->off < n) {
		b->bad = true;
		return;
	}
	for (i = 0; i < n; i++)
		b->p[b->off++] = (unsigned char)(v >> (8 * i));
}

static void
store_wraw(struct store_wbuf *b, const unsigned char *v, size_t n)
{
	if (b->bad || b->len - b->off < n) {
		b->bad = true;
		return;
	}
	memcpy(b->p + b->off, v, n);
	b->off += n;
}

static void
store_rraw(struct store_rbuf *r, unsigned char *v, size_t n)
{
	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return;
	}
	memcpy(v, r->p + r->off, n);
	r->off += n;
}

/* A NUL-terminated string of at most max bytes, held in a size-max+1 buffer. */
static void
store_wstr(struct store_wbuf *b, const char *s, size_t max)
{
	size_t	 n = strnlen(s, max + 1);

	if (n > max || n > UINT16_MAX) {
		b->bad = true;
		return;
	}
	store_wn(b, n, 2);
	if (b->bad || b->len - b->off < n) {
		b->bad = true;
		return;
	}
	memcpy(b->p + b->off, s, n);
	b->off += n;
}

static uint64_t
store_rn(struct store_rbuf *r, size_t n)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[r->off++] << (8 * i);
	return v;
}

/* Two's complement back to signed without implementation-defined casts. */
static int64_t
store_ri64(struct store_rbuf *r)
{
	uint64_t	 u = store_rn(r, 8);

	if (u <= INT64_MAX)
		return (int64_t)u;
	return -(int64_t)(~u) - 1;
}

static int32_t
store_ri32(struct store_rbuf *r)
{
	uint32_t	 u = (uint32_t)store_rn(r, 4);

	if (u <= INT32_MAX)
		return (int32_t)u;
	return -(int32_t)(~u) - 1;
}

/* Into dst (size bytes): refused unless it fits with its NUL and has none. */
static void
store_rstr(struct store_rbuf *r, char *dst, size_t size)
{
	size_t	 n = (size_t)store_rn(r, 2);

	if (r->bad || n >= size || r->len - r->off < n ||
	    memchr(r->p + r->off, '\0', n) != NULL) {
		r->bad = true;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, r->p + r->off, n);
	dst[n] = '\0';
	r->off += n;
}

/* Returns the encoded length, 0 if the assertion cannot be encoded. */
static size_t
store_cache_encode(const struct eid_assertion *a, unsigned char *out,
    size_t len)
{
	struct store_wbuf	 b = { out, len, 0, false };
	unsigned int		 i;

	if ((unsigned int)a->alg > EID_ALG_EDDSA ||
	    (unsigned int)a->gender > EID_GENDER_FEMALE ||
	    a->aud_count > EID_AUD_MAX_COUNT)
		return 0;
	store_w8(&b, STORE_CACHE_FORMAT);
	store_w8(&b, (unsigned int)a->alg);
	store_w8(&b, (unsigned int)a->gender);
	store_w8(&b, (a->has_nbf ? 1u : 0u) | (a->has_nonce ? 2u : 0u));
	store_w8(&b, a->aud_count);
	store_wn(&b, (uint32_t)a->level, 4);
	store_wn(&b, (uint64_t)a->iat, 8);
	store_wn(&b, (uint64_t)a->exp, 8);
	store_wn(&b, (uint64_t)a->nbf, 8);
	store_wn(&b, (uint64_t)a->key_not_before, 8);
	store_wn(&b, (uint64_t)a->key_not_after, 8);
	store_wraw(&b, a->key_sha256, sizeof(a->key_sha256));
	store_wstr(&b, a->kid, EID_KID_MAX);
	store_wstr(&b, a->iss, EID_ISS_MAX);
	store_wstr(&b, a->sub, EID_PIN_LEN);
	for (i = 0; i < a->aud_count; i++)
		store_wstr(&b, a->aud[i], EID_AUD_MAX);
	store_wstr(&b, a->jti, EID_JTI_MAX);
	store_wstr(&b, a->name, EID_NAME_MAX);
	store_wstr(&b, a->birthdate, sizeof(a->birthdate) - 1);
	store_wstr(&b, a->nonce, EID_NONCE_MAX);
	return b.bad ? 0 : b.off;
}

/* -1 unless v is exactly one well-formed encoding; *a is then filled. */
static int
store_cache_decode(const void *v, size_t len, struct eid_assertion *a)
{
	struct store_rbuf	 r = { v, len, 0, false };
	unsigned int		 alg, gender, flags, i;

	memset(a, 0, sizeof(*a));
	if (store_rn(&r, 1) != STORE_CACHE_FORMAT)
		goto fail;
	alg = (unsigned int)store_rn(&r, 1);
	gender = (unsigned int)store_rn(&r, 1);
	flags = (unsigned int)store_rn(&r, 1);
	a->aud_count = (unsigned int)store_rn(&r, 1);
	if (r.bad || alg > EID_ALG_EDDSA || gender > EID_GENDER_FEMALE ||
	    (flags & ~3u) != 0 || a->aud_count > EID_AUD_MAX_COUNT)
		goto fail;
	a->alg = (enum eid_alg)alg;
	a->gender = (enum eid_gender)gender;
	a->has_nbf = (flags & 1u) != 0;
	a->has_nonce = (flags & 2u) != 0;
	a->level = store_ri32(&r);
	a->iat = store_ri64(&r);
	a->exp = store_ri64(&r);
	a->nbf = store_ri64(&r);
	a->key_not_before = store_ri64(&r);
	a->key_not_after = store_ri64(&r);
	store_rraw(&r, a->key_sha256, sizeof(a->key_sha256));
	store_rstr(&r, a->kid, sizeof(a->kid));
	store_rstr(&r, a->iss, sizeof(a->iss));
	store_rstr(&r, a->sub, sizeof(a->sub));
	for (i = 0; i < a->aud_count; i++)
		store_rstr(&r, a->aud[i], sizeof(a->aud[i]));
	store_rstr(&r, a->jti, sizeof(a->jti));
	store_rstr(&r, a->name, sizeof(a->name));
	store_rstr(&r, a->birthdate, sizeof(a->birthdate));
	store_rstr(&r, a->nonce, sizeof(a->nonce));
	if (r.bad || r.off != r.len)
		goto fail;
	return 0;
fail:
	memset(a, 0, sizeof(*a));
	return -1;
}

static size_t
store_rev_encode(const struct store_revocation *rv, unsigned char *out,
    size_t len)
{
	struct store_wbuf	 b = { out, len, 0, false };

	store_w8(&b, STORE_REV_FORMAT);
	store_wn(&b, (uint64_t)rv->issued_before, 8);
	store_wn(&b, (uint64_t)rv->expires_at, 8);
	store_wn(&b, (uint64_t)rv->created_at, 8);
	store_wn(&b, rv->seq, 8);
	store_wstr(&b, rv->reason, STORE_REASON_MAX);
	return b.bad ? 0 : b.off;
}

static int
store_rev_decode(const MDB_val *v, struct store_revocation *rv)
{
	struct store_rbuf	 r = { v->mv_data, v->mv_size, 0, false };

	if (store_rn(&r, 1) != STORE_REV_FORMAT)
		return -1;
	rv->issued_before = store_ri64(&r);
	rv->expires_at = store_ri64(&r);
	rv->created_at = store_ri64(&r);
	rv->seq = store_rn(&r, 8);
	store_rstr(&r, rv->reason, sizeof(rv->reason));
	return r.bad || r.off != r.len ? -1 : 0;
}

/* iss '\0' value into buf; the key's length, 0 if either does not fit. */
static size_t
store_pair_key(const char *iss, const char *value, size_t value_max,
    unsigned char *buf)
{
	size_t	 il = strnlen(iss, EID_ISS_MAX + 1);
	size_t	 vl = strnlen(value, value_max + 1);

	if (il > EID_ISS_MAX || vl > value_max)
		return 0;
	memcpy(buf, iss, il);
	buf[il] = '\0';
	memcpy(buf + il + 1, value, vl);
	return il + 1 + vl;
}

/* Split a stored iss '\0' value key; -1 if it is not one. */
static int
store_pair_split(const MDB_val *k, char *iss, size_t isslen, char *value,
    size_t valuelen)
{
	const unsigned char	*p = k->mv_data, *nul;
	size_t			 il, vl;

	if ((nul = memchr(p, '\0', k->mv_size)) == NULL)
		return -1;
	il = (size_t)(nul - p);
	vl = k->mv_size - il - 1;
	if (il >= isslen || vl >= valuelen || vl == 0 ||
	    memchr(nul + 1, '\0', vl) != NULL)
		return -1;
	memcpy(iss, p, il);
	iss[il] = '\0';
	memcpy(value, nul + 1, vl);
	value[vl] = '\0';
	return 0;
}

static int64_t
store_get_i64(const MDB_val *v)
{
	struct store_rbuf	 r = { v->mv_data, v->mv_size, 0, false };

	return store_ri64(&r);
}

static uint64_t
store_get_u64(const MDB_val *v)
{
	struct store_rbuf	 r = { v->mv_data, v->mv_size, 0, false };

	return store_rn(&r, 8);
}

/* Is t + leeway < now, without overflow? */
static bool
store_is_past(int64_t t, int64_t leeway, int64_t now)
{
	if (t >= now)
		return false;
	return (uint64_t)now - (uint64_t)t > (uint64_t)leeway;
}

/* meta's i64 name: 0, MDB_NOTFOUND or an LMDB code (a bad size: corrupt). */
static int
store_meta_get_i64(MDB_txn *txn, MDB_dbi dbi, const char *name, int64_t *x)
{
	MDB_val	 k, v;
	int	 rc;

	k.mv_data = (void *)(uintptr_t)name;
	k.mv_size = strlen(name);
	if ((rc = mdb_get(txn, dbi, &k, &v)) != 0)
		return rc;
	if (v.mv_size != 8)
		return MDB_CORRUPTED;
	*x = store_get_i64(&v);
	return 0;
}

static int
store_meta_put_i64(MDB_txn *txn, MDB_dbi dbi, const char *name, int64_t x)
{
	unsigned char		 vb[8];
	struct store_wbuf	 b = { vb, sizeof(vb), 0, false };
	MDB_val			 k, v;

	store_wn(&b, (uint64_t)x, 8);
	k.mv_data = (void *)(uintptr_t)name;
	k.mv_size = strlen(name);
	v.mv_data = vb;
	v.mv_size = sizeof(vb);
	return mdb_put(txn, dbi, &k, &v, 0);
}

/*
 * Consumed marks (SECURITY.md finding 6; docs/adr/0014).  A mark must
 * count while its token could verify, until exp + the leeway, and the
 * leeway can be raised by a reload or a restart while marks exist.  So a
 * mark counts while m + mark_leeway >= now, mark_leeway being the highest
 * leeway the store has been given: a raise lengthens every mark at once.
 * m is exp + mark_base for this version's marks, and exp plus the leeway
 * of the consume for older ones (which read it as "until"); m >= exp in
 * both, which is all this needs.  now and the leeways are far from the
 * ends of int64_t; m, read from the map, may be anything.
 */
static bool
store_mark_live(const struct store *s, int64_t m, int64_t now)
{
	return m >= now - s->mark_leeway;
}

/*
 * Raise *cur, kept in meta under name, to x inside txn; a lower x changes
 * nothing.  The field changes with the put: a caller whose transaction
 * then fails puts it back.  *old is what it rose from, -1 if it did not.
 */
static int
store_meta_raise(MDB_txn *txn, MDB_dbi dbi, const char *name, int64_t *cur,
    int64_t x, int64_t *old)
{
	int	 rc;

	*old = -1;
	if (x <= *cur)
		return 0;
	if ((rc = store_meta_put_i64(txn, dbi, name, x)) != 0)
		return rc;
	*old = *cur;
	*cur = x;
	return 0;
}

/*
 * Raise, inside txn, the leeway marks count with.  A lower one changes
 * nothing: marks still count as long as before.  *from is the leeway
 * raised from, -1 if none was.
 */
static int
store_marks_raise(struct store *s, MDB_txn *txn, int64_t leeway,
    int64_t *from)
{
	return store_meta_raise(txn, s->meta_dbi, "consume_leeway",
	    &s->mark_leeway, leeway, from);
}

static void
store_log_raise(int64_t from, int64_t to)
{
	log_info("store_leeway_raised", "from=%lld to=%lld note=\"consumed "
	    "tokens are remembered until exp plus the new leeway\"",
	    (long long)from, (long long)to);
}

/*
 * Before the sweep deletes a mark m < now - mark_leeway, inside its
 * transaction: every token whose mark may be gone has exp <= m < the
 * floor, and is not consumed again (store_consume_apply()), even if a
 * higher leeway or a clock set back makes it verify.  Should the commit
 * then fail, the field is ahead of meta: until the next sweep commits,
 * a few more consumes are refused, never fewer.
 */
static int
store_floor_raise(struct store *s, MDB_txn *txn, int64_t now)
{
	int64_t	 old;

	return store_meta_raise(txn, s->meta_dbi, "consume_floor",
	    &s->consume_floor, now - s->mark_leeway, &old);
}

/* Open may write a few keys; a full map then needs a larger one. */
static const char *
store_full_hint(int rc)
{
	return rc == MDB_MAP_FULL ? " (raise store.state_map_bytes)" : "";
}

/*
 * A floor ahead of the clock refuses consumes of tokens that may never
 * have had a mark: the clock was set back after a sweep (or the floor is
 * damaged).  That is failing closed, but never silently: a warning at
 * open and at most one a minute from the writer (floor_warned, its own).
 */
static void
store_floor_warn(struct store *s, int64_t now)
{
	if (s->consume_floor <= now || now - s->floor_warned < 60)
		return;
	s->floor_warned = now;
	log_warnx("store_floor_ahead", "seconds=%lld note=\"the clock was "
	    "set back after a sweep: tokens expiring before then, less the "
	    "leeway, are answered expired to a consume\"",
	    (long long)(s->consume_floor - now));
}

/*
 * The consumed marks' metadata, inside open's transaction: consume_base
 * (what a mark adds to exp, the leeway when the store got these keys:
 * an older version reading a mark as "until" then reads it right);
 * consume_leeway, the highest leeway since; consume_floor, below which a
 * token's exp is not consumed.  A store without them gets them from the
 * configured leeway, and if it is not new (fresh false) a floor of now:
 * an earlier version swept marks and left no floor.  One with only some,
 * or out of range, is refused: a guess could reopen replays (a floor
 * ahead of the clock is not: store_floor_warn()).  Then the configured
 * leeway raises consume_leeway if it is higher.
 */
static int
store_marks_open(struct store *s, MDB_txn *txn, bool fresh, int64_t now,
    int64_t *from, char *err, size_t errlen)
{
	static const char *const names[3] = { "consume_base",
		"consume_leeway", "consume_floor" };
	int64_t	 x[3] = { 0, 0, 0 };
	int	 rc, i, found = 0;

	for (i = 0; i < 3; i++) {
		rc = store_meta_get_i64(txn, s->meta_dbi, names[i], &x[i]);
		if (rc == 0)
			found++;
		else if (rc == MDB_CORRUPTED) {
			snprintf(err, errlen, "state store %s is damaged (not "
			    "8 bytes)", names[i]);
			return -1;
		} else if (rc != MDB_NOTFOUND) {
			snprintf(err, errlen, "state store %s: %s", names[i],
			    mdb_strerror(rc));
			return -1;
		}
	}
	if (found == 0) {
		x[0] = x[1] = s->leeway_s;
		x[2] = fresh ? 0 : now;
		for (i = 0; i < 3; i++)
			if ((rc = store_meta_put_i64(txn, s->meta_dbi,
			    names[i], x[i])) != 0) {
				snprintf(err, errlen, "state store %s: %s%s",
				    names[i], mdb_strerror(rc),
				    store_full_hint(rc));
				return -1;
			}
	} else if (found != 3) {
		snprintf(err, errlen, "state store consume metadata is "
		    "damaged (%d of its 3 keys)", found);
		return -1;
	} else if (x[0] < 0 || x[0] > x[1] || x[1] > STORE_LEEWAY_MAX) {
		snprintf(err, errlen, "state store consume metadata is "
		    "damaged (base %lld, leeway %lld)", (long long)x[0],
		    (long long)x[1]);
		return -1;
	}
	s->mark_base = x[0];
	s->mark_leeway = x[1];
	s->consume_floor = x[2];
	s->floor_warned = INT64_MIN / 2;
	store_floor_warn(s, now);
	if ((rc = store_marks_raise(s, txn, s->leeway_s, from)) != 0) {
		snprintf(err, errlen, "state store consume metadata: %s%s",
		    mdb_strerror(rc), store_full_hint(rc));
		return -1;
	}
	return 0;
}

/* --- opening and closing ------------------------------------------------ */

static int
store_mkdir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
store_env_open(struct store *s, enum store_which w, const char *dir,
    size_t map_bytes, unsigned int flags, char *err, size_t errlen)
{
	const char	*what = w == STORE_CACHE ? "cache" : "state";
	char		 path[4096];
	int		 rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, what) >=
	    sizeof(path)) {
		snprintf(err, errlen, "%s store: path too long", what);
		return -1;
	}
	if (store_mkdir(path, err, errlen) == -1)
		return -1;
	if ((rc = mdb_env_create(&s->env[w])) != 0)
		goto fail;
	if ((rc = mdb_env_set_mapsize(s->env[w], map_bytes)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env[w], 8)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env[w], STORE_MAXREADERS)) != 0 ||
	    (rc = mdb_env_open(s->env[w], path, flags, 0600)) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s store %s: %s", what, path, mdb_strerror(rc));
	return -1;
}

static int
store_open_dbis(struct store *s, char *err, size_t errlen)
{
	MDB_txn		*txn = NULL;
	MDB_val		 k, v;
	unsigned char	 ver[4];
	uint32_t	 have;
	int64_t		 from;
	bool		 fresh = false;
	int		 rc, i;

	if (mdb_env_get_maxkeysize(s->env[STORE_STATE]) < STORE_KEY_MAX) {
		snprintf(err, errlen, "this LMDB's keys are shorter than %d "
		    "bytes", STORE_KEY_MAX);
		return -1;
	}
	if ((rc = mdb_txn_begin(s->env[STORE_CACHE], NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "cache", MDB_CREATE, &s->cache_dbi)) != 0)
		goto lmdb;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto lmdb;

	if ((rc = mdb_txn_begin(s->env[STORE_STATE], NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta_dbi)) != 0 ||
	    (rc = mdb_dbi_open(txn, "consumed", MDB_CREATE,
	    &s->consumed_dbi)) != 0)
		goto lmdb;
	for (i = 0; i < 3; i++)
		if ((rc = mdb_dbi_open(txn, store_rev_names[i], MDB_CREATE,
		    &s->rev_dbi[i])) != 0)
			goto lmdb;

	k.mv_data = (void *)(uintptr_t)"schema_version";
	k.mv_size = strlen("schema_version");
	rc = mdb_get(txn, s->meta_dbi, &k, &v);
	if (rc == MDB_NOTFOUND) {
		/* A new store: this version wrote it. */
		fresh = true;
		ver[0] = STORE_SCHEMA_VERSION;
		ver[1] = ver[2] = ver[3] = 0;
		v.mv_data = ver;
		v.mv_size = sizeof(ver);
		if ((rc = mdb_put(txn, s->meta_dbi, &k, &v, 0)) != 0)
			goto lmdb;
	} else if (rc != 0) {
		goto lmdb;
	} else {
		if (v.mv_size != sizeof(ver)) {
			snprintf(err, errlen, "state store schema version is "
			    "unreadable (%zu bytes)", v.mv_size);
			goto fail;
		}
		memcpy(ver, v.mv_data, sizeof(ver));
		have = (uint32_t)ver[0] | (uint32_t)ver[1] << 8 |
		    (uint32_t)ver[2] << 16 | (uint32_t)ver[3] << 24;
		if (have != STORE_SCHEMA_VERSION) {
			snprintf(err, errlen, "state store schema version %u "
			    "is not supported (this eidd knows %d)", have,
			    STORE_SCHEMA_VERSION);
			goto fail;
		}
	}
	if (store_marks_open(s, txn, fresh, (int64_t)time(NULL), &from, err,
	    errlen) == -1)
		goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto lmdb;
	if (from != -1)
		store_log_raise(from, s->mark_leeway);
	return 0;
lmdb:
	snprintf(err, errlen, "opening store databases: %s", mdb_strerror(rc));
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return -1;
}

static int
store_sync_init(struct store *s)
{
	pthread_condattr_t	 ca;
	int			 rc;

	if (pthread_condattr_init(&ca) != 0)
		return -1;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0 && (rc = pthread_cond_init(&s->work_cv, &ca)) == 0 &&
	    (rc = pthread_mutex_init(&s->mtx, NULL)) != 0)
		pthread_cond_destroy(&s->work_cv);
	pthread_condattr_destroy(&ca);
	if (rc != 0)
		return -1;
	s->sync_ready = true;
	return 0;
}

static void	*store_writer_main(void *);

/*
 * Probation of at least n slots (a power of two); 0 leaves it off.  The
 * table is mapped and touched at start, in huge pages where the kernel
 * gives them: memory use does not grow with traffic, and neither a first
 * use nor a later one faults a page in or misses the TLB for it.
 */
static int
store_probation_init(struct store *s, size_t n)
{
	size_t	 slots = 1, i;
	void	*m;

	if (n == 0)
		return 0;
	while (slots < n)
		slots <<= 1;
	for (i = 0; i < STORE_PROBATION_LOCKS; i++) {
		if (pthread_mutex_init(&s->slot_mtx[i], NULL) != 0) {
			while (i-- > 0)
				pthread_mutex_destroy(&s->slot_mtx[i]);
			return -1;
		}
	}
	s->slot_mtx_ready = true;
	s->slots_bytes = slots * sizeof(*s->slots);
	if ((m = mmap(NULL, s->slots_bytes, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		return -1;
#ifdef MADV_HUGEPAGE
	(void)madvise(m, s->slots_bytes, MADV_HUGEPAGE);
#endif
	/* Zero pages, all empty slots: a write per page makes them ours. */
	for (i = 0; i < s->slots_bytes; i += 4096)
		((volatile unsigned char *)m)[i] = 0;
	s->slots = m;
	s->slot_mask = slots - 1;
	return 0;
}

static void
store_probation_free(struct store *s)
{
	size_t	 i;

	if (s->slots != NULL)
		(void)munmap(s->slots, s->slots_bytes);
	if (s->slot_mtx_ready)
		for (i = 0; i < STORE_PROBATION_LOCKS; i++)
			pthread_mutex_destroy(&s->slot_mtx[i]);
}

struct store *
store_open(const struct store_cfg *cfg, char *err, size_t errlen)
{
	struct store	*s;

	if (cfg == NULL || cfg->dir == NULL || cfg->cache_map_bytes == 0 ||
	    cfg->state_map_bytes == 0 || cfg->leeway_s < 0 ||
	    cfg->leeway_s > STORE_LEEWAY_MAX ||
	    cfg->sweep_interval_s < 0 ||
	    cfg->probation > STORE_PROBATION_MAX) {
		snprintf(err, errlen, "store: invalid configuration");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "store: out of memory");
		return NULL;
	}
	s->leeway_s = cfg->leeway_s;
	s->sweep_interval_s = cfg->sweep_interval_s;
	s->cache_map_bytes = cfg->cache_map_bytes;
	atomic_init(&s->puts_dropped, 0);
	atomic_init(&s->evictions, 0);
	atomic_init(&s->probation, 0);
	atomic_init(&s->promotions, 0);
	atomic_init(&s->displaced, 0);
	atomic_init(&s->returned, 0);
	atomic_init(&s->bypass, false);
	atomic_init(&s->windows, 0);
	atomic_init(&s->bypass_windows, 0);
	atomic_init(&s->bypass_changes, 0);
	if (store_sync_init(s) == -1) {
		snprintf(err, errlen, "store: cannot create locks");
		goto fail;
	}
	if (store_probation_init(s, cfg->probation) == -1) {
		snprintf(err, errlen, "store: no memory for %zu probation "
		    "slots", cfg->probation);
		goto fail;
	}
	if (store_mkdir(cfg->dir, err, errlen) == -1)
		goto fail;
	/*
	 * The cache may lose its last commits in a crash: that costs only
	 * re-verification.  The state syncs on every commit, since a
	 * revocation or a consumed id is acknowledged only after it.  Not
	 * MDB_WRITEMAP, though it halved the writer's CPU per insert: the
	 * map would be a sparse file as large as cache_map_bytes, and a full
	 * disk a SIGBUS in the writer instead of an error; a system crash
	 * could leave a corrupt cache, whose hits skip the signature; and a
	 * stray write in the process could change a cached identity.
	 */
	if (store_env_open(s, STORE_CACHE, cfg->dir, cfg->cache_map_bytes,
	    MDB_NOSYNC | MDB_NOMETASYNC, err, errlen) == -1 ||
	    store_env_open(s, STORE_STATE, cfg->dir, cfg->state_map_bytes, 0,
	    err, errlen) == -1)
		goto fail;
	if (store_open_dbis(s, err, errlen) == -1)
		goto fail;
	if (pthread_create(&s->writer, NULL, store_writer_main, s) != 0) {
		snprintf(err, errlen, "store: cannot start the writer thread");
		goto fail;
	}
	s->writer_started = true;
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	struct store_op	*op;
	int		 rc;

	if (s == NULL)
		return;
	if (s->writer_started) {
		/* The writer drains the queue before it returns. */
		pthread_mutex_lock(&s->mtx);
		s->stopping = true;
		pthread_cond_signal(&s->work_cv);
		pthread_mutex_unlock(&s->mtx);
		pthread_join(s->writer, NULL);
	}
	while ((op = s->head) != NULL) {
		s->head = op->next;
		free(op);
	}
	if (s->env[STORE_CACHE] != NULL) {
		/* MDB_NOSYNC: this is the one flush the cache gets. */
		if ((rc = mdb_env_sync(s->env[STORE_CACHE], 1)) != 0)
			log_warnx("store_close", "store=cache error=\"%s\"",
			    mdb_strerror(rc));
		mdb_env_close(s->env[STORE_CACHE]);
	}
	if (s->env[STORE_STATE] != NULL)
		mdb_env_close(s->env[STORE_STATE]);
	if (s->sync_ready) {
		pthread_cond_destroy(&s->work_cv);
		pthread_mutex_destroy(&s->mtx);
	}
	store_probation_free(s);
	free(s);
}

/* --- readers ------------------------------------------------------------ */

struct store_reader *
store_reader_new(struct store *s)
{
	struct store_reader	*rd;

	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return NULL;
	rd->s = s;
	return rd;
}

void
store_reader_free(struct store_reader *rd)
{
	int	 i;

	if (rd == NULL)
		return;
	/* A read-only transaction's cursors are closed apart from it. */
	for (i = 0; i < 3; i++)
		if (rd->rev_cur[i] != NULL)
			mdb_cursor_close(rd->rev_cur[i]);
	for (i = 0; i < 2; i++)
		if (rd->txn[i] != NULL)
			mdb_txn_abort(rd->txn[i]);
	free(rd);
}

void
store_reader_reset(struct store_reader *rd)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		if (rd->live[i])
			mdb_txn_reset(rd->txn[i]);
		rd->live[i] = false;
	}
}

/*
 * Which revocation tables of the state snapshot just begun hold entries,
 * and entries for every issuer (keys "\0value", which sort first): one
 * cursor step each, per pass, so that store_revoked() looks up only
 * where something can be found.  On any doubt, every lookup is made.
 */
static void
store_reader_revs(struct store_reader *rd, MDB_txn *txn)
{
	MDB_val	 k, v;
	int	 i, rc;

	for (i = 0; i < 3; i++) {
		rd->revs[i] = STORE_REVS_ANY | STORE_REVS_ALL_ISS;
		if (rd->rev_cur[i] == NULL ? mdb_cursor_open(txn,
		    rd->s->rev_dbi[i], &rd->rev_cur[i]) != 0 :
		    mdb_cursor_renew(txn, rd->rev_cur[i]) != 0)
			continue;
		if ((rc = mdb_cursor_get(rd->rev_cur[i], &k, &v, MDB_FIRST)) ==
		    MDB_NOTFOUND)
			rd->revs[i] = 0;
		else if (rc == 0 && k.mv_size > 0 &&
		    ((const unsigned char *)k.mv_data)[0] != '\0')
			rd->revs[i] = STORE_REVS_ANY;
	}
}

/* The pass's snapshot of one environment; NULL on an LMDB error. */
static MDB_txn *
store_reader_txn(struct store_reader *rd, enum store_which w)
{
	int	 rc;

	if (rd->live[w])
		return rd->txn[w];
	if (rd->txn[w] == NULL)
		rc = mdb_txn_begin(rd->s->env[w], NULL, MDB_RDONLY,
		    &rd->txn[w]);
	else if ((rc = mdb_txn_renew(rd->txn[w])) != 0) {
		mdb_txn_abort(rd->txn[w]);
		rd->txn[w] = NULL;
	}
	if (rc != 0) {
		rd->txn[w] = NULL;
		log_warnx("store_read", "store=%s error=\"%s\"",
		    w == STORE_CACHE ? "cache" : "state", mdb_strerror(rc));
		return NULL;
	}
	rd->live[w] = true;
	if (w == STORE_STATE)
		store_reader_revs(rd, rd->txn[w]);
	return rd->txn[w];
}

static bool	store_put_queue(struct store *, const unsigned char *,
		    const unsigned char *, size_t);

/* A key's bits from offset off: keys are SHA-256, any bits will do. */
static uint64_t
store_key_bits(const unsigned char *key, size_t off)
{
	uint64_t	 v;

	memcpy(&v, key + off, sizeof(v));
	return v;
}

static pthread_mutex_t *
store_slot_mtx(struct store *s, size_t slot)
{
	return &s->slot_mtx[slot % STORE_PROBATION_LOCKS];
}

/* A key's probation slot. */
static struct store_slot *
store_slot(const struct store *s, const unsigned char *key, size_t *slot)
{
	*slot = (size_t)(store_key_bits(key, 0) & s->slot_mask);
	return &s->slots[*slot];
}

/* A key's fingerprint in its slot; never 0. */
static uint64_t
store_fp(const unsigned char *key)
{
	return store_key_bits(key, 16) | 1;
}

/*
 * A key's ghost in its slot: a 16-bit fingerprint (1..65535) at a
 * position chosen by other bits.  A false match, one in 65535, costs an
 * early write to LMDB, no wrong answer.
 */
static uint16_t
store_ghost_fp(const unsigned char *key, size_t *pos)
{
	*pos = (size_t)(store_key_bits(key, 8) % STORE_SLOT_GHOSTS);
	return (uint16_t)(store_key_bits(key, 16) % 65535 + 1);
}

/*
 * A token in probation: 1 and *out filled, 0 if not there.  Its first
 * hit sends a copy to the writer (promotion); it stays in its slot, where
 * later hits find it without a B-tree walk until a newer token takes it.
 */
static int
store_probation_get(struct store *s, const unsigned char *key,
    struct eid_assertion *out)
{
	unsigned char		 val[STORE_CACHE_VAL_MAX];
	struct store_slot	*sl;
	size_t			 slot, n;
	bool			 promote;

	sl = store_slot(s, key, &slot);
	pthread_mutex_lock(store_slot_mtx(s, slot));
	if (sl->fp != store_fp(key) ||
	    memcmp(sl->key, key, STORE_KEY_LEN) != 0) {
		pthread_mutex_unlock(store_slot_mtx(s, slot));
		return 0;
	}
	n = sl->vlen;
	memcpy(val, sl->val, n);
	sl->reused = true;
	promote = !sl->written;
	sl->written = true;
	pthread_mutex_unlock(store_slot_mtx(s, slot));
	/* Encoded by store_cache_put(); decoded as warily as the map's. */
	if (store_cache_decode(val, n, out) == -1)
		return 0;
	if (promote) {
		if (store_put_queue(s, key, val, n))
			atomic_fetch_add_explicit(&s->promotions, 1,
			    memory_order_relaxed);
		else {
			/* Dropped: the next hit, or its ghost, tries again. */
			pthread_mutex_lock(store_slot_mtx(s, slot));
			if (sl->fp == store_fp(key) &&
			    memcmp(sl->key, key, STORE_KEY_LEN) == 0)
				sl->written = false;
			pthread_mutex_unlock(store_slot_mtx(s, slot));
		}
	}
	return 1;
}

/* Was key pushed out of probation unused?  Forgets it if so. */
static bool
store_ghost_take(struct store *s, const unsigned char *key)
{
	struct store_slot	*sl;
	size_t			 slot, pos;
	uint16_t		 g = store_ghost_fp(key, &pos);
	bool			 found;

	sl = store_slot(s, key, &slot);
	pthread_mutex_lock(store_slot_mtx(s, slot));
	if ((found = sl->ghost[pos] == g))
		sl->ghost[pos] = 0;
	pthread_mutex_unlock(store_slot_mtx(s, slot));
	return found;
}

/* Is the token one of the admission test's sample? */
static bool
store_sampled(const unsigned char *key)
{
	return store_key_bits(key, 24) % STORE_SAMPLE == 0;
}

/*
 * One more sampled token pushed out unused; at the end of a window,
 * decide whether first uses skip probation.  Counts raced by other
 * workers are approximate, which a test of shares tolerates.
 */
static void
store_admission_count(struct store *s)
{
	uint_least64_t	 d, r;
	bool		 bypass, was;

	d = atomic_fetch_add_explicit(&s->displaced, 1,
	    memory_order_relaxed) + 1;
	if (d < STORE_RETURN_WINDOW || !atomic_compare_exchange_strong_explicit(
	    &s->displaced, &d, 0, memory_order_relaxed, memory_order_relaxed))
		return;
	r = atomic_exchange_explicit(&s->returned, 0, memory_order_relaxed);
	bypass = r * STORE_RETURN_SHARE >= d;
	atomic_fetch_add_explicit(&s->windows, 1, memory_order_relaxed);
	if (bypass)
		atomic_fetch_add_explicit(&s->bypass_windows, 1,
		    memory_order_relaxed);
	was = atomic_exchange_explicit(&s->bypass, bypass,
	    memory_order_relaxed);
	if (was != bypass) {
		atomic_fetch_add_explicit(&s->bypass_changes, 1,
		    memory_order_relaxed);
		log_info("store_admission", "bypass=%d returned=%llu "
		    "displaced=%llu", bypass ? 1 : 0, (unsigned long long)r,
		    (unsigned long long)d);
	}
}

/*
 * The token in sl leaves it (the caller holds the slot's lock).  Never
 * reused, it leaves a ghost and, if sampled, counts for the admission
 * test (returned true: the caller calls store_admission_count() once the
 * lock is released); reused but never written (a full writer queue), a
 * ghost too, so that it is written next time.
 */
static bool
store_probation_leave(struct store_slot *sl)
{
	size_t		 pos;
	uint16_t	 g = store_ghost_fp(sl->key, &pos);
	bool		 count = !sl->reused && store_sampled(sl->key);

	if (!sl->reused || !sl->written)
		sl->ghost[pos] = g;
	sl->fp = 0;
	return count;
}

/*
 * A first use written at once in bypass pushes a sampled token out of its
 * slot all the same, so that the sample lives in probation as long as it
 * would without bypass.  Any other token keeps the slot: it came before
 * bypass and may still be reused there.
 */
static void
store_probation_evict(struct store *s, const unsigned char *key)
{
	struct store_slot	*sl;
	size_t			 slot;
	bool			 left = false, count = false;

	sl = store_slot(s, key, &slot);
	pthread_mutex_lock(store_slot_mtx(s, slot));
	if (sl->fp != 0 && store_sampled(sl->key) &&
	    memcmp(sl->key, key, STORE_KEY_LEN) != 0) {
		count = store_probation_leave(sl);
		left = true;
	}
	pthread_mutex_unlock(store_slot_mtx(s, slot));
	if (left)
		atomic_fetch_sub_explicit(&s->probation, 1,
		    memory_order_relaxed);
	if (count)
		store_admission_count(s);
}

/*
 * Put a first-seen token in its slot (written: already queued for LMDB),
 * pushing out the one there.  False if its encoding does not fit a slot:
 * the caller writes it at once.
 */
static bool
store_probation_put(struct store *s, const unsigned char *key,
    const unsigned char *val, size_t n, bool written)
{
	struct store_slot	*sl;
	size_t			 slot;
	bool			 was_empty, count = false;

	if (n > sizeof(sl->val))
		return false;
	sl = store_slot(s, key, &slot);
	pthread_mutex_lock(store_slot_mtx(s, slot));
	was_empty = sl->fp == 0;
	/* The same token verified twice at once simply replaces itself. */
	if (!was_empty && memcmp(sl->key, key, STORE_KEY_LEN) != 0)
		count = store_probation_leave(sl);
	sl->fp = store_fp(key);
	memcpy(sl->key, key, STORE_KEY_LEN);
	sl->vlen = (uint16_t)n;
	sl->reused = false;
	sl->written = written;
	memcpy(sl->val, val, n);
	pthread_mutex_unlock(store_slot_mtx(s, slot));
	if (was_empty)
		atomic_fetch_add_explicit(&s->probation, 1,
		    memory_order_relaxed);
	if (count)
		store_admission_count(s);
	return true;
}

int
store_cache_get(struct store_reader *rd, const unsigned char key[STORE_KEY_LEN],
    struct eid_assertion *out)
{
	MDB_txn	*txn;
	MDB_val	 k, v;
	int	 rc;

	if (rd->s->slots != NULL && store_probation_get(rd->s, key, out) == 1)
		return 1;
	if ((txn = store_reader_txn(rd, STORE_CACHE)) == NULL)
		return -1;
	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = STORE_KEY_LEN;
	if ((rc = mdb_get(txn, rd->s->cache_dbi, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0) {
		log_warnx("store_read", "store=cache error=\"%s\"",
		    mdb_strerror(rc));
		return -1;
	}
	/* A value that does not decode is a miss; the sweeper deletes it. */
	if (store_cache_decode(v.mv_data, v.mv_size, out) == -1) {
		log_debug("store_cache_corrupt", "len=%zu", v.mv_size);
		return 0;
	}
	/* A sampled token written at once in bypass, back after probation. */
	if (rd->s->slots != NULL && store_sampled(key) &&
	    store_ghost_take(rd->s, key))
		atomic_fetch_add_explicit(&rd->s->returned, 1,
		    memory_order_relaxed);
	return 1;
}

/* 1 and *rv filled if (iss, value) is revoked in dbi, 0 if not, -1 error. */
static int
store_rev_find(MDB_txn *txn, MDB_dbi dbi, const char *iss, const char *value,
    struct store_revocation *rv)
{
	unsigned char	 buf[STORE_KEY_MAX];
	MDB_val		 k, v;
	int		 rc;

	if ((k.mv_size = store_pair_key(iss, value, EID_JTI_MAX, buf)) == 0)
		return -1;
	k.mv_data = buf;
	if ((rc = mdb_get(txn, dbi, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0) {
		log_warnx("store_read", "store=state error=\"%s\"",
		    mdb_strerror(rc));
		return -1;
	}
	if (store_rev_decode(&v, rv) == -1) {
		log_err("store_corrupt", "store=state db=revocations len=%zu",
		    v.mv_size);
		return -1;
	}
	return 1;
}

int
store_revoked(struct store_reader *rd, const struct eid_assertion *a,
    int64_t now)
{
	struct store_revocation	 rv;
	const char		*issv[2] = { a->iss, "" };
	const char		*val;
	MDB_txn			*txn;
	int			 kind, i, rc;

	if ((txn = store_reader_txn(rd, STORE_STATE)) == NULL)
		return -1;
	for (kind = STORE_REV_TOKEN; kind <= STORE_REV_KEY; kind++) {
		val = kind == STORE_REV_TOKEN ? a->jti :
		    kind == STORE_REV_SUBJECT ? a->sub : a->kid;
		/* An empty value cannot be revoked (store_revoke refuses). */
		if (val[0] == '\0' || rd->revs[kind - 1] == 0)
			continue;
		for (i = 0; i < 2; i++) {
			if (i == 1 && (a->iss[0] == '\0' ||
			    !(rd->revs[kind - 1] & STORE_REVS_ALL_ISS)))
				break;
			rc = store_rev_find(txn, rd->s->rev_dbi[kind - 1],
			    issv[i], val, &rv);
			if (rc == -1)
				return -1;
			if (rc == 0)
				continue;
			/* Expired ones wait for the sweeper. */
			if (rv.expires_at != 0 && rv.expires_at < now)
				continue;
			if (kind == STORE_REV_SUBJECT &&
			    !(a->iat < rv.issued_before))
				continue;
			return 1;
		}
	}
	return 0;
}

int
store_revocations_list(struct store_reader *rd, enum store_rev_kind kind,
    const struct store_revocation *after, size_t max, store_list_cb cb,
    void *arg)
{
	struct store_revocation	 rv;
	unsigned char		 buf[STORE_KEY_MAX];
	MDB_cursor		*c = NULL;
	MDB_txn			*txn;
	MDB_val			 k, v;
	MDB_cursor_op		 op;
	size_t			 alen = 0;
	int			 first, last, kd, rc, n = 0;

	if ((int)kind < 0 || kind > STORE_REV_KEY)
		return -1;
	first = kind == 0 ? STORE_REV_TOKEN : (int)kind;
	last = kind == 0 ? STORE_REV_KEY : (int)kind;
	if (after != NULL) {
		if ((int)after->kind > last)
			return 0;
		if ((int)after->kind > first)
			first = (int)after->kind;
		if ((alen = store_pair_key(after->iss, after->value,
		    EID_JTI_MAX, buf)) == 0)
			return -1;
	}
	if ((txn = store_reader_txn(rd, STORE_STATE)) == NULL)
		return -1;
	for (kd = first; kd <= last; kd++) {
		rc = mdb_cursor_open(txn, rd->s->rev_dbi[kd - 1], &c);
		if (rc != 0)
			goto lmdb;
		op = MDB_FIRST;
		if (after != NULL && (int)after->kind == kd) {
			k.mv_data = buf;
			k.mv_size = alen;
			op = MDB_SET_RANGE;
		}
		rc = mdb_cursor_get(c, &k, &v, op);
		/* "after" itself is not listed again. */
		if (rc == 0 && op == MDB_SET_RANGE && k.mv_size == alen &&
		    memcmp(k.mv_data, buf, alen) == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			memset(&rv, 0, sizeof(rv));
			rv.kind = (enum store_rev_kind)kd;
			if (store_pair_split(&k, rv.iss, sizeof(rv.iss),
			    rv.value, sizeof(rv.value)) == -1 ||
			    store_rev_decode(&v, &rv) == -1) {
				log_err("store_corrupt", "store=state db=%s "
				    "len=%zu", store_rev_names[kd - 1],
				    v.mv_size);
				goto fail;
			}
			n++;
			if (cb(&rv, arg) != 0 || (max != 0 && (size_t)n >= max))
				goto out;
		}
		if (rc != MDB_NOTFOUND)
			goto lmdb;
		mdb_cursor_close(c);
		c = NULL;
	}
out:
	if (c != NULL)
		mdb_cursor_close(c);
	return n;
lmdb:
	log_warnx("store_read", "store=state error=\"%s\"", mdb_strerror(rc));
fail:
	if (c != NULL)
		mdb_cursor_close(c);
	return -1;
}

static int
store_env_used(MDB_env *env, uint64_t *map, uint64_t *used)
{
	MDB_envinfo	 info;
	MDB_stat	 st;
	int		 rc;

	if ((rc = mdb_env_info(env, &info)) != 0 ||
	    (rc = mdb_env_stat(env, &st)) != 0)
		return rc;
	*map = info.me_mapsize;
	*used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	return 0;
}

int
store_stats(struct store_reader *rd, struct store_stats *st)
{
	struct store	*s = rd->s;
	MDB_txn		*ctxn, *stxn;
	MDB_stat	 ms;
	MDB_val		 k, v;
	int		 rc, i;

	memset(st, 0, sizeof(*st));
	if ((ctxn = store_reader_txn(rd, STORE_CACHE)) == NULL ||
	    (stxn = store_reader_txn(rd, STORE_STATE)) == NULL)
		return -1;
	if ((rc = mdb_stat(ctxn, s->cache_dbi, &ms)) != 0)
		goto lmdb;
	st->cache_entries = ms.ms_entries;
	for (i = 0; i < 3; i++) {
		if ((rc = mdb_stat(stxn, s->rev_dbi[i], &ms)) != 0)
			goto lmdb;
		st->revocations += ms.ms_entries;
	}
	if ((rc = mdb_stat(stxn, s->consumed_dbi, &ms)) != 0)
		goto lmdb;
	st->consumed = ms.ms_entries;
	k.mv_data = (void *)(uintptr_t)"rev_seq";
	k.mv_size = strlen("rev_seq");
	rc = mdb_get(stxn, s->meta_dbi, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		st->rev_seq = store_get_u64(&v);
	else if (rc != MDB_NOTFOUND)
		goto lmdb;
	if ((rc = store_env_used(s->env[STORE_CACHE], &st->cache_map_bytes,
	    &st->cache_used_bytes)) != 0 ||
	    (rc = store_env_used(s->env[STORE_STATE], &st->state_map_bytes,
	    &st->state_used_bytes)) != 0)
		goto lmdb;
	st->cache_puts_dropped = atomic_load_explicit(&s->puts_dropped,
	    memory_order_relaxed);
	st->evictions = atomic_load_explicit(&s->evictions,
	    memory_order_relaxed);
	st->probation = atomic_load_explicit(&s->probation,
	    memory_order_relaxed);
	st->promotions = atomic_load_explicit(&s->promotions,
	    memory_order_relaxed);
	st->probation_bypass = atomic_load_explicit(&s->bypass,
	    memory_order_relaxed);
	st->admission_windows = atomic_load_explicit(&s->windows,
	    memory_order_relaxed);
	st->bypass_windows = atomic_load_explicit(&s->bypass_windows,
	    memory_order_relaxed);
	st->bypass_changes = atomic_load_explicit(&s->bypass_changes,
	    memory_order_relaxed);
	return 0;
lmdb:
	/* rc is 0 for a rev_seq of the wrong size. */
	log_warnx("store_read", "store=state error=\"%s\"",
	    rc == 0 ? "rev_seq is corrupt" : mdb_strerror(rc));
	return -1;
}

/* --- the writer's queue ------------------------------------------------- */

/* Queue op and sleep until the writer is done with it; -1 if closing. */
static int
store_submit(struct store *s, struct store_op *op)
{
	if (pthread_cond_init(&op->cv, NULL) != 0)
		return -1;
	op->done = false;
	op->next = NULL;
	pthread_mutex_lock(&s->mtx);
	if (s->stopping) {
		pthread_mutex_unlock(&s->mtx);
		pthread_cond_destroy(&op->cv);
		return -1;
	}
	if (s->tail != NULL)
		s->tail->next = op;
	else
		s->head = op;
	s->tail = op;
	s->nacked++;
	/* Wakes the writer from its wait or from lingering over puts. */
	pthread_cond_signal(&s->work_cv);
	while (!op->done)
		pthread_cond_wait(&op->cv, &s->mtx);
	pthread_mutex_unlock(&s->mtx);
	pthread_cond_destroy(&op->cv);
	return 0;
}

void
store_cache_put(struct store *s, const unsigned char key[STORE_KEY_LEN],
    const struct eid_assertion *a)
{
	unsigned char	 val[STORE_CACHE_VAL_MAX];
	size_t		 n;

	if ((n = store_cache_encode(a, val, sizeof(val))) == 0) {
		log_debug("store_cache_put", "dropped=unencodable");
		return;
	}
	if (s->slots == NULL)
		(void)store_put_queue(s, key, val, n);
	else if (store_ghost_take(s, key)) {
		/* It left probation unused and came back. */
		if (store_sampled(key))
			atomic_fetch_add_explicit(&s->returned, 1,
			    memory_order_relaxed);
		(void)store_put_queue(s, key, val, n);
	} else if (!atomic_load_explicit(&s->bypass, memory_order_relaxed)) {
		if (!store_probation_put(s, key, val, n, false)) {
			/* Too long for a slot: written, and it displaces
			 * a sampled token as in bypass, for the same reason. */
			store_probation_evict(s, key);
			(void)store_put_queue(s, key, val, n);
		}
	} else if (store_sampled(key)) {
		/*
		 * In bypass the sample is written at once too, and still
		 * lives in probation for the test: its return is then a hit
		 * in LMDB, which store_cache_get() counts by the ghost.
		 */
		(void)store_probation_put(s, key, val, n,
		    store_put_queue(s, key, val, n));
	} else {
		store_probation_evict(s, key);
		(void)store_put_queue(s, key, val, n);
	}
}

/* Hand one cache insert to the writer; false if dropped (and counted). */
static bool
store_put_queue(struct store *s, const unsigned char *key,
    const unsigned char *val, size_t n)
{
	struct store_op	*op;

	if ((op = malloc(sizeof(*op) + n)) == NULL)
		goto drop;
	memset(op, 0, sizeof(*op));
	op->type = STORE_OP_PUT;
	memcpy(op->key, key, STORE_KEY_LEN);
	memcpy(op->val, val, n);
	op->vlen = n;
	pthread_mutex_lock(&s->mtx);
	/* A worker never waits for the cache: a full queue drops the put. */
	if (s->stopping || s->nputs >= STORE_QUEUE_MAX) {
		pthread_mutex_unlock(&s->mtx);
		free(op);
		goto drop;
	}
	if (s->tail != NULL)
		s->tail->next = op;
	else
		s->head = op;
	s->tail = op;
	s->nputs++;
	/*
	 * A busy writer takes it with the rest: no wake-up per insert.  A
	 * lingering writer is woken when enough have gathered.
	 */
	if (s->writer_waiting || s->nputs == STORE_LINGER_PUTS)
		pthread_cond_signal(&s->work_cv);
	pthread_mutex_unlock(&s->mtx);
	return true;
drop:
	atomic_fetch_add_explicit(&s->puts_dropped, 1, memory_order_relaxed);
	return false;
}

static int
store_rev_check(const struct store_revocation *rv)
{
	size_t	 vl = strnlen(rv->value, sizeof(rv->value));

	if (rv->kind < STORE_REV_TOKEN || rv->kind > STORE_REV_KEY)
		return -1;
	if (vl == 0 || vl >= sizeof(rv->value) ||
	    strnlen(rv->iss, sizeof(rv->iss)) >= sizeof(rv->iss) ||
	    strnlen(rv->reason, sizeof(rv->reason)) >= sizeof(rv->reason))
		return -1;
	return 0;
}

int
store_revoke(struct store *s, struct store_revocation *r, size_t n,
    char *err, size_t errlen)
{
	struct store_op	 op;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (store_rev_check(&r[i]) == -1) {
			snprintf(err, errlen, "revocation %zu is invalid "
			    "(kind, empty value or unterminated string)", i);
			return -1;
		}
	}
	if (n == 0)
		return 0;
	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_REVOKE;
	op.rev = r;
	op.nrev = n;
	if (store_submit(s, &op) == -1) {
		snprintf(err, errlen, "store is closing");
		return -1;
	}
	if (op.rc != 0)
		snprintf(err, errlen, "%s", op.err);
	return op.rc == 0 ? 0 : -1;
}

int
store_consume(struct store *s, const char *iss, const char *jti,
    int64_t exp, char *err, size_t errlen)
{
	struct store_op	 op;
	size_t		 jl;

	jl = jti != NULL ? strnlen(jti, EID_JTI_MAX + 1) : 0;
	if (iss == NULL || strnlen(iss, EID_ISS_MAX + 1) > EID_ISS_MAX ||
	    jl == 0 || jl > EID_JTI_MAX) {
		snprintf(err, errlen, "consume: invalid issuer or token id");
		return -1;
	}
	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_CONSUME;
	op.iss = iss;
	op.jti = jti;
	op.exp = exp;
	if (store_submit(s, &op) == -1) {
		snprintf(err, errlen, "store is closing");
		return -1;
	}
	if (op.rc == -1)
		snprintf(err, errlen, "%s", op.err);
	return (int)op.rc;
}

int
store_set_leeway(struct store *s, int64_t leeway_s, char *err, size_t errlen)
{
	struct store_op	 op;

	if (leeway_s < 0 || leeway_s > STORE_LEEWAY_MAX) {
		snprintf(err, errlen, "leeway %lld is out of range",
		    (long long)leeway_s);
		return -1;
	}
	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_LEEWAY;
	op.leeway = leeway_s;
	if (store_submit(s, &op) == -1) {
		snprintf(err, errlen, "store is closing");
		return -1;
	}
	if (op.rc == -1) {
		snprintf(err, errlen, "%s", op.err);
		return -1;
	}
	if (op.rc == 1)
		store_log_raise(op.from, op.leeway);
	return 0;
}

void
store_sync(struct store *s)
{
	struct store_op	 op;

	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_SYNC;
	(void)store_submit(s, &op);
}

long
store_sweep(struct store *s, int64_t now)
{
	struct store_op	 op;

	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_SWEEP;
	op.now = now;
	if (store_submit(s, &op) == -1)
		return -1;
	return op.rc;
}

/* --- the writer --------------------------------------------------------- */

/*
 * Delete the entries of dbi that pred selects, at most limit of them, in
 * transactions of at most STORE_SWEEP_CHUNK deletions, resuming each one
 * where the last stopped; hook (if any) runs in each that deletes.
 * Returns the number deleted, -1 on error.
 */
static long
store_sweep_db(struct store *s, enum store_which w, MDB_dbi dbi,
    store_pred pred, store_sweep_hook hook, int64_t now, long limit)
{
	unsigned char	 resume[STORE_KEY_MAX > 512 ? STORE_KEY_MAX : 512];
	MDB_cursor	*c = NULL;
	MDB_txn		*txn = NULL;
	MDB_val		 k, v;
	size_t		 rlen = 0;
	long		 removed = 0, n, scanned;
	bool		 more = true, resuming = false;
	int		 rc;

	while (more) {
		more = false;
		if ((rc = mdb_txn_begin(s->env[w], NULL, 0, &txn)) != 0 ||
		    (rc = mdb_cursor_open(txn, dbi, &c)) != 0)
			goto fail;
		if (resuming) {
			k.mv_data = resume;
			k.mv_size = rlen;
			rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		} else
			rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		for (n = 0, scanned = 0; rc == 0; scanned++) {
			if (removed + n >= limit)
				break;
			if (n >= STORE_SWEEP_CHUNK ||
			    scanned >= STORE_SCAN_CHUNK) {
				if (k.mv_size > sizeof(resume)) {
					rc = MDB_BAD_VALSIZE;
					break;
				}
				/* The key is in the map: copy it now. */
				memcpy(resume, k.mv_data, k.mv_size);
				rlen = k.mv_size;
				resuming = more = true;
				break;
			}
			if (pred(s, &k, &v, now)) {
				if ((rc = mdb_cursor_del(c, 0)) != 0)
					break;
				n++;
			}
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			goto fail;
		mdb_cursor_close(c);
		c = NULL;
		if (n > 0 && hook != NULL && (rc = hook(s, txn, now)) != 0)
			goto fail;
		if (n == 0)
			mdb_txn_abort(txn);
		else if ((rc = mdb_txn_commit(txn)) != 0) {
			txn = NULL;
			goto fail;
		}
		txn = NULL;
		removed += n;
	}
	return removed;
fail:
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		mdb_txn_abort(txn);
	log_warnx("store_sweep_failed", "store=%s error=\"%s\"",
	    w == STORE_CACHE ? "cache" : "state", mdb_strerror(rc));
	return -1;
}

static bool
store_pred_cache(const struct store *s, const MDB_val *k, const MDB_val *v,
    int64_t now)
{
	struct eid_assertion	 a;

	(void)k;
	/* Undecodable values are only ever misses: they go too. */
	if (store_cache_decode(v->mv_data, v->mv_size, &a) == -1)
		return true;
	return store_is_past(a.exp, s->leeway_s, now);
}

static bool
store_pred_consumed(const struct store *s, const MDB_val *k, const MDB_val *v,
    int64_t now)
{
	(void)k;
	/* A corrupt mark is kept: dropping it could allow a replay. */
	if (v->mv_size != 8)
		return false;
	/* store_floor_raise() goes in the same transaction. */
	return !store_mark_live(s, store_get_i64(v), now);
}

static bool
store_pred_rev(const struct store *s, const MDB_val *k, const MDB_val *v,
    int64_t now)
{
	struct store_revocation	 rv;

	(void)s;
	(void)k;
	/* A corrupt revocation is kept: store_revoked() fails closed on it. */
	if (store_rev_decode(v, &rv) == -1)
		return false;
	return rv.expires_at != 0 && rv.expires_at < now;
}

static bool
store_pred_all(const struct store *s, const MDB_val *k, const MDB_val *v,
    int64_t now)
{
	(void)s;
	(void)k;
	(void)v;
	(void)now;
	return true;
}

static long
store_sweep_pass(struct store *s, int64_t now)
{
	long	 n, total = 0;
	int	 i;

	if ((n = store_sweep_db(s, STORE_CACHE, s->cache_dbi, store_pred_cache,
	    NULL, now, LONG_MAX)) == -1)
		return -1;
	total += n;
	if ((n = store_sweep_db(s, STORE_STATE, s->consumed_dbi,
	    store_pred_consumed, store_floor_raise, now, LONG_MAX)) == -1)
		return -1;
	total += n;
	for (i = 0; i < 3; i++) {
		if ((n = store_sweep_db(s, STORE_STATE, s->rev_dbi[i],
		    store_pred_rev, NULL, now, LONG_MAX)) == -1)
			return -1;
		total += n;
	}
	return total;
}

/* Entries and pages of the cache, the map's size in pages, a page's size. */
static int
store_cache_fill(struct store *s, uint64_t *entries, uint64_t *pages,
    uint64_t *map_pages, uint64_t *psize)
{
	MDB_envinfo	 info;
	MDB_stat	 st;
	MDB_txn		*txn;
	int		 rc;

	if ((rc = mdb_txn_begin(s->env[STORE_CACHE], NULL, MDB_RDONLY,
	    &txn)) != 0)
		return rc;
	rc = mdb_stat(txn, s->cache_dbi, &st);
	mdb_txn_abort(txn);
	if (rc != 0 || (rc = mdb_env_info(s->env[STORE_CACHE], &info)) != 0)
		return rc;
	*entries = st.ms_entries;
	*pages = st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
	*map_pages = info.me_mapsize / st.ms_psize;
	*psize = st.ms_psize;
	return 0;
}

/* Delete the first k entries in two commits; counted as evictions. */
static void
store_cache_slice(struct store *s, uint64_t k)
{
	long	 n;
	int	 i;

	/*
	 * LMDB reuses a freed page only two commits after the one that
	 * freed it (the previous meta page may still point at it), so the
	 * slice goes in two transactions: the put retried after them can use
	 * the pages the first one freed.  Deleting a run of keys frees whole
	 * leaves and needs few new pages, unlike the scattered deletions of
	 * the expiry pass.
	 */
	for (i = 0; i < 2; i++) {
		n = store_sweep_db(s, STORE_CACHE, s->cache_dbi,
		    store_pred_all, NULL, 0,
		    (long)(i == 0 ? (k + 1) / 2 : k / 2));
		if (n > 0)
			atomic_fetch_add_explicit(&s->evictions, (uint64_t)n,
			    memory_order_relaxed);
	}
}

/*
 * Keep room in the cache map for the next nputs puts of bytes bytes.
 * LMDB needs a free page for every page a transaction touches, and the
 * pages the previous commit freed are not usable yet; once the map is
 * completely full even a delete fails, and the cache could never be
 * written again.  So the live pages are kept below the map size minus a
 * reserve (a fifth of the map plus twice the pages the puts may touch or
 * add), and when they pass it expired entries go first, then the first
 * entries in key order down to a tenth of the map below the mark.  Keys
 * are SHA-256 values, so that slice is a random sample.  forced (the put
 * hit MDB_MAP_FULL anyway) also evicts at least max(nputs, entries / 8).
 */
static void
store_cache_room(struct store *s, size_t nputs, size_t bytes, bool forced)
{
	uint64_t	 entries, live, map, psize, reserve, target, k = 0;
	long		 expired;

	if (store_cache_fill(s, &entries, &live, &map, &psize) != 0)
		return;
	reserve = map / 5 + 2 * (nputs + bytes / psize + 4) + 16;
	if (!forced && live + reserve <= map)
		return;
	target = map > reserve + map / 10 ? map - reserve - map / 10 : 0;
	/* On a full map this may fail; the slice below still works. */
	expired = store_sweep_db(s, STORE_CACHE, s->cache_dbi,
	    store_pred_cache, NULL, (int64_t)time(NULL), LONG_MAX);
	if (store_cache_fill(s, &entries, &live, &map, &psize) != 0)
		return;
	if (live > target && live > 0)
		k = entries - entries * target / live + 1;
	if (forced && k < entries / 8)
		k = entries / 8;
	if (forced && k < nputs)
		k = nputs;
	if (k > entries)
		k = entries;
	if (k > 0)
		store_cache_slice(s, k);
	log_debug("store_evict", "forced=%d expired=%ld evicted=%llu "
	    "entries=%llu pages=%llu map_pages=%llu", forced ? 1 : 0,
	    expired, (unsigned long long)k, (unsigned long long)entries,
	    (unsigned long long)live, (unsigned long long)map);
}

/* Up to n cache puts from first on, in one transaction; an LMDB code. */
static int
store_cache_txn(struct store *s, struct store_op *first, size_t n)
{
	struct store_op	*op;
	MDB_txn		*txn;
	MDB_val		 k, v;
	int		 rc;

	if ((rc = mdb_txn_begin(s->env[STORE_CACHE], NULL, 0, &txn)) != 0)
		return rc;
	for (op = first; op != NULL && n > 0; op = op->next) {
		if (op->type != STORE_OP_PUT)
			continue;
		k.mv_data = op->key;
		k.mv_size = STORE_KEY_LEN;
		v.mv_data = op->val;
		v.mv_size = op->vlen;
		if ((rc = mdb_put(txn, s->cache_dbi, &k, &v, 0)) != 0) {
			mdb_txn_abort(txn);
			return rc;
		}
		n--;
	}
	return mdb_txn_commit(txn);
}

/*
 * The batch's cache puts, at most STORE_PUT_CHUNK of them and at most a
 * sixteenth of the map to a transaction, so that one commit touches a
 * bounded share of the map.  A put that finds no room even after eviction
 * is dropped and counted: a cache write never fails a request.
 */
static void
store_cache_write(struct store *s, struct store_op *batch)
{
	struct store_op	*op = batch, *first;
	size_t		 n, bytes, max_bytes;
	int		 rc;

	max_bytes = s->cache_map_bytes / 16;
	while (op != NULL) {
		first = op;
		for (n = 0, bytes = 0; op != NULL && n < STORE_PUT_CHUNK &&
		    (n == 0 || bytes + op->vlen <= max_bytes); op = op->next) {
			if (op->type != STORE_OP_PUT)
				continue;
			n++;
			bytes += STORE_KEY_LEN + op->vlen;
		}
		if (n == 0)
			break;
		store_cache_room(s, n, bytes, false);
		if ((rc = store_cache_txn(s, first, n)) == MDB_MAP_FULL) {
			store_cache_room(s, n, bytes, true);
			rc = store_cache_txn(s, first, n);
		}
		if (rc != 0) {
			atomic_fetch_add_explicit(&s->puts_dropped, n,
			    memory_order_relaxed);
			log_debug("store_cache_put", "dropped=%zu error=\"%s\"",
			    n, mdb_strerror(rc));
		}
	}
}

static int
store_seq_get(MDB_txn *txn, MDB_dbi dbi, uint64_t *seq)
{
	MDB_val	 k, v;
	int	 rc;

	k.mv_data = (void *)(uintptr_t)"rev_seq";
	k.mv_size = strlen("rev_seq");
	*seq = 0;
	if ((rc = mdb_get(txn, dbi, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return MDB_CORRUPTED;
	*seq = store_get_u64(&v);
	return 0;
}

/* One revoke op inside its own child transaction; an LMDB code. */
static int
store_revoke_apply(struct store *s, MDB_txn *txn, struct store_op *op)
{
	unsigned char		 kb[STORE_KEY_MAX], vb[STORE_REV_VAL_MAX];
	unsigned char		 sb[8];
	struct store_revocation	*rv;
	struct store_wbuf	 b = { sb, sizeof(sb), 0, false };
	MDB_val			 k, v;
	uint64_t		 seq;
	size_t			 i;
	int			 rc;

	if ((rc = store_seq_get(txn, s->meta_dbi, &seq)) != 0)
		return rc;
	for (i = 0; i < op->nrev; i++) {
		rv = &op->rev[i];
		rv->seq = ++seq;
		k.mv_size = store_pair_key(rv->iss, rv->value, EID_JTI_MAX, kb);
		v.mv_size = store_rev_encode(rv, vb, sizeof(vb));
		/* store_revoke() checked both: this cannot happen. */
		if (k.mv_size == 0 || v.mv_size == 0)
			return EINVAL;
		k.mv_data = kb;
		v.mv_data = vb;
		if ((rc = mdb_put(txn, s->rev_dbi[rv->kind - 1], &k, &v,
		    0)) != 0)
			return rc;
	}
	store_wn(&b, seq, 8);
	k.mv_data = (void *)(uintptr_t)"rev_seq";
	k.mv_size = strlen("rev_seq");
	v.mv_data = sb;
	v.mv_size = sizeof(sb);
	return mdb_put(txn, s->meta_dbi, &k, &v, 0);
}

/*
 * Check-and-set of (iss, jti) inside the writer's transaction: rc 1 for a
 * mark that still counts; 2 for a token that could not verify now (the
 * writer runs after the verify, up to a batch of synced commits later,
 * and the sweep may have taken the mark meanwhile) or whose exp is below
 * the floor (its mark may be gone: store_floor_raise()).
 */
static int
store_consume_apply(struct store *s, MDB_txn *txn, struct store_op *op,
    int64_t now)
{
	unsigned char		 kb[STORE_KEY_MAX], vb[8];
	struct store_wbuf	 b = { vb, sizeof(vb), 0, false };
	MDB_val			 k, v;
	int			 rc;

	if ((k.mv_size = store_pair_key(op->iss, op->jti, EID_JTI_MAX,
	    kb)) == 0)
		return EINVAL;
	k.mv_data = kb;
	rc = mdb_get(txn, s->consumed_dbi, &k, &v);
	if (rc == 0) {
		/* A mark that does not decode is an error, not a first use. */
		if (v.mv_size != 8)
			return MDB_CORRUPTED;
		if (store_mark_live(s, store_get_i64(&v), now)) {
			op->rc = 1;
			return 0;
		}
	} else if (rc != MDB_NOTFOUND)
		return rc;
	if (op->exp < now - s->mark_leeway || op->exp < s->consume_floor) {
		store_floor_warn(s, now);
		op->rc = 2;
		return 0;
	}
	/* exp + mark_base, saturated: it counts past exp + mark_leeway. */
	store_wn(&b, (uint64_t)(op->exp > INT64_MAX - s->mark_base ?
	    INT64_MAX : op->exp + s->mark_base), 8);
	v.mv_data = vb;
	v.mv_size = sizeof(vb);
	if ((rc = mdb_put(txn, s->consumed_dbi, &k, &v, 0)) != 0)
		return rc;
	op->rc = 0;
	return 0;
}

static bool
store_op_is_state(const struct store_op *op)
{
	return op->type == STORE_OP_REVOKE || op->type == STORE_OP_CONSUME ||
	    op->type == STORE_OP_LEEWAY;
}

static void
store_op_fail(struct store_op *op, int rc, const char *what)
{
	const char	*act = op->type == STORE_OP_REVOKE ? "revocation" :
	    op->type == STORE_OP_CONSUME ? "consume" : "leeway change";
	size_t		 i;

	op->rc = -1;
	if (rc == MDB_MAP_FULL)
		snprintf(op->err, sizeof(op->err), "state store full: %s "
		    "refused", act);
	else
		snprintf(op->err, sizeof(op->err), "state store %s: %s", what,
		    mdb_strerror(rc));
	if (op->type == STORE_OP_REVOKE)
		for (i = 0; i < op->nrev; i++)
			op->rev[i].seq = 0;
}

/*
 * A leeway change inside the writer's transaction; the cache's sweep
 * follows the leeway in force, higher or lower.
 */
static int
store_leeway_apply(struct store *s, MDB_txn *txn, struct store_op *op)
{
	int	 rc;

	if ((rc = store_marks_raise(s, txn, op->leeway, &op->from)) != 0)
		return rc;
	s->leeway_s = op->leeway;
	op->rc = op->from != -1 ? 1 : 0;
	return 0;
}

/*
 * Every revoke, consume and leeway change of the batch in one durable
 * transaction, each in a child transaction of its own: an op that fails
 * (a full map, most often) is rolled back alone and the others still
 * commit.  No op gets its answer before the parent's commit is synced;
 * if that fails, the fields a leeway change set are put back.
 */
static void
store_state_write(struct store *s, struct store_op *batch)
{
	struct store_op	*op;
	MDB_txn		*txn = NULL, *child;
	int64_t		 now = (int64_t)time(NULL);
	int64_t		 leeway = s->leeway_s, mark_leeway = s->mark_leeway;
	int		 rc;

	if ((rc = mdb_txn_begin(s->env[STORE_STATE], NULL, 0, &txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	for (op = batch; op != NULL; op = op->next) {
		if (!store_op_is_state(op))
			continue;
		if ((rc = mdb_txn_begin(s->env[STORE_STATE], txn, 0,
		    &child)) != 0) {
			store_op_fail(op, rc, "write");
			continue;
		}
		if (op->type == STORE_OP_REVOKE)
			rc = store_revoke_apply(s, child, op);
		else if (op->type == STORE_OP_CONSUME)
			rc = store_consume_apply(s, child, op, now);
		else
			rc = store_leeway_apply(s, child, op);
		if (rc != 0) {
			mdb_txn_abort(child);
			store_op_fail(op, rc, "write");
			continue;
		}
		/* A failed child commit may leave the parent unusable. */
		if ((rc = mdb_txn_commit(child)) != 0)
			goto fail;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto fail;
	return;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	s->leeway_s = leeway;
	s->mark_leeway = mark_leeway;
	log_err("store_commit_failed", "store=state error=\"%s\"",
	    mdb_strerror(rc));
	for (op = batch; op != NULL; op = op->next)
		if (store_op_is_state(op) && op->rc != -1)
			store_op_fail(op, rc, "commit");
}

static void
store_apply(struct store *s, struct store_op *batch)
{
	struct store_op	*op, *next;
	size_t		 nputs = 0;
	bool		 state = false;

	for (op = batch; op != NULL; op = op->next) {
		if (op->type == STORE_OP_PUT)
			nputs++;
		else if (store_op_is_state(op))
			state = true;
	}
	if (nputs > 0)
		store_cache_write(s, batch);
	if (state)
		store_state_write(s, batch);
	for (op = batch; op != NULL; op = op->next)
		if (op->type == STORE_OP_SWEEP)
			op->rc = store_sweep_pass(s, op->now);

	pthread_mutex_lock(&s->mtx);
	for (op = batch; op != NULL; op = next) {
		/* After done is set the op may be gone: read next first. */
		next = op->next;
		if (op->type == STORE_OP_PUT) {
			free(op);
			continue;
		}
		op->done = true;
		pthread_cond_signal(&op->cv);
	}
	pthread_mutex_unlock(&s->mtx);
}

static void
store_deadline(const struct store *s, struct timespec *ts)
{
	int64_t	 d = s->sweep_interval_s;

	/* Longer than a day is as good as a day, and cannot overflow. */
	if (d > 86400)
		d = 86400;
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)d;
}

static bool
store_is_due(const struct timespec *deadline)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec || (now.tv_sec ==
	    deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/*
 * The writer: takes everything queued, applies it as one group, answers
 * the waiters, and sweeps every sweep_interval_s.  On stop it drains the
 * queue first, so that every op queued before store_close() is applied.
 */

static void *
store_writer_main(void *arg)
{
	struct store	*s = arg;
	struct store_op	*batch;
	struct timespec	 deadline, linger;
	long		 n;

	store_deadline(s, &deadline);
	pthread_mutex_lock(&s->mtx);
	for (;;) {
		while (s->head == NULL && !s->stopping) {
			s->writer_waiting = true;
			if (s->sweep_interval_s == 0)
				pthread_cond_wait(&s->work_cv, &s->mtx);
			else if (pthread_cond_timedwait(&s->work_cv, &s->mtx,
			    &deadline) == ETIMEDOUT) {
				s->writer_waiting = false;
				break;
			}
			s->writer_waiting = false;
		}
		/*
		 * Woken by a cache insert: let others gather for a few
		 * milliseconds, so that one commit (and one wake-up) carries
		 * many -- unless a revoke or consume, which a worker waits
		 * on, comes meanwhile: it signals, and the group goes at once.
		 */
		if (s->head != NULL && s->head->type == STORE_OP_PUT &&
		    !s->stopping && s->nacked == 0) {
			clock_gettime(CLOCK_MONOTONIC, &linger);
			linger.tv_nsec += STORE_LINGER_NS;
			if (linger.tv_nsec >= 1000000000L) {
				linger.tv_sec++;
				linger.tv_nsec -= 1000000000L;
			}
			while (!s->stopping && s->nacked == 0 &&
			    s->nputs < STORE_LINGER_PUTS &&
			    pthread_cond_timedwait(&s->work_cv, &s->mtx,
			    &linger) != ETIMEDOUT)
				;
		}
		if (s->head == NULL && s->stopping)
			break;
		batch = s->head;
		s->head = s->tail = NULL;
		s->nputs = 0;
		s->nacked = 0;
		pthread_mutex_unlock(&s->mtx);
		if (batch != NULL)
			store_apply(s, batch);
		if (s->sweep_interval_s > 0 && store_is_due(&deadline)) {
			n = store_sweep_pass(s, (int64_t)time(NULL));
			if (n > 0)
				log_info("store_sweep", "removed=%ld", n);
			store_deadline(s, &deadline);
		}
		pthread_mutex_lock(&s->mtx);
	}
	pthread_mutex_unlock(&s->mtx);
	return NULL;
}
