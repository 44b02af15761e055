/*
 * daemon/store.h -- eidd's memory: the verified-token cache, the
 * revocations and the consumed token ids, in two LMDB environments
 * (DESIGN.md section 7).  store.c is the only file that includes lmdb.h;
 * no MDB_* type appears here.
 *
 *   <state_dir>/cache  SHA-256(token) -> the assertion eid_verify_token()
 *                      produced, for tokens used more than once (a first
 *                      use waits in memory, in probation).  Not synced on
 *                      each commit: losing it costs re-verification only.
 *                      A full map evicts; a cache write never fails a
 *                      request.
 *   <state_dir>/state  revocations (by token id, by subject with an
 *                      issued-before time, by key id), consumed token ids
 *                      keyed by (issuer, token id), metadata (schema
 *                      version, revocation sequence).  Durable: revoke and
 *                      consume return only after their transaction is
 *                      synced.  A full map refuses new entries with an
 *                      error and drops nothing.
 *
 * Threads: every write goes through one writer thread that commits in
 * groups.  A worker owns one struct store_reader: a read transaction
 * begun lazily and reset by store_reader_reset() once per event-loop
 * pass, never held across passes.  Values returned are copies into the
 * caller's memory; nothing borrowed from LMDB escapes store.c.
 */
#ifndef EIDD_STORE_H
#define EIDD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eid/verify.h"

#define STORE_SCHEMA_VERSION	1
#define STORE_KEY_LEN		32	/* SHA-256 of the token */
#define STORE_REASON_MAX	256

struct store;
struct store_reader;

struct store_cfg {
	const char	*dir;			/* created if missing (0700) */
	size_t		 cache_map_bytes;	/* LMDB map size of cache */
	size_t		 state_map_bytes;	/* LMDB map size of state */
	int64_t		 leeway_s;		/* verify's, 0..3600 */
	int64_t		 sweep_interval_s;	/* 0: no periodic sweep */
	size_t		 probation;		/* slots; 0: every put to LMDB */
};

/*
 * Open (creating) both environments, check the schema version (a store
 * written by an unknown version is refused with a clear message), start
 * the writer thread.  NULL and a one-line reason in err on failure.
 */
struct store	*store_open(const struct store_cfg *, char *err, size_t errlen);
/* Finish queued writes, sync, stop the writer, close.  Accepts NULL. */
void		 store_close(struct store *);

/* One per worker thread; used only by that thread. */
struct store_reader *store_reader_new(struct store *);
void		 store_reader_free(struct store_reader *);
/* End of an event-loop pass: release the read snapshot. */
void		 store_reader_reset(struct store_reader *);

/*
 * Cache lookup, probation then LMDB: 1 and *out filled on a hit, 0 on a
 * miss, -1 on a store error (the caller verifies as on a miss).
 */
int		 store_cache_get(struct store_reader *,
		    const unsigned char key[STORE_KEY_LEN],
		    struct eid_assertion *out);
/*
 * Cache insert (copied); returns at once.  With probation on, a token
 * seen for the first time stays in memory and is queued for LMDB on its
 * first hit, or on its next put if it was pushed out of probation in
 * between.  Dropped, never blocking, when the writer's queue is full.
 */
void		 store_cache_put(struct store *,
		    const unsigned char key[STORE_KEY_LEN],
		    const struct eid_assertion *);

/*
 * Is the assertion revoked now: by (issuer or any issuer, token id), by
 * (issuer or any issuer, subject) with a.iat < issued_before, or by key
 * id?  1 revoked, 0 not, -1 store error (the caller must fail closed).
 */
int		 store_revoked(struct store_reader *,
		    const struct eid_assertion *, int64_t now);

/*
 * Consume-once: mark (iss, jti) of a token expiring at exp as used,
 * atomically in the writer's transaction.  The mark counts at least
 * while the token could verify, until exp plus the highest leeway the
 * store has been given (SECURITY.md finding 6).  Blocks until the mark
 * is durable.  0: first use, 1: already consumed (REPLAYED), 2: not
 * consumed (EXPIRED): past exp plus that leeway by the writer's clock,
 * or exp below the floor the sweep leaves, where marks may be gone;
 * -1: store error or full (err says which).
 */
int		 store_consume(struct store *, const char *iss, const char *jti,
		    int64_t exp, char *err, size_t errlen);

/*
 * The leeway verification is about to use (a reload; store_open() takes
 * the configured one).  Higher than any before, it is persisted and
 * every consumed mark counts that much longer; lower, marks count as
 * long as before.  Durable before it returns: call it before the new
 * leeway verifies anything.  -1 and err on failure.
 */
int		 store_set_leeway(struct store *, int64_t leeway_s, char *err,
		    size_t errlen);

enum store_rev_kind {
	STORE_REV_TOKEN = 1,
	STORE_REV_SUBJECT,
	STORE_REV_KEY
};

struct store_revocation {
	enum store_rev_kind kind;
	char		 value[EID_JTI_MAX + 1];  /* jti, PIN or kid */
	char		 iss[EID_ISS_MAX + 1];	  /* "": every issuer */
	int64_t		 issued_before;		  /* subject only */
	int64_t		 expires_at;		  /* 0: never */
	int64_t		 created_at;
	uint64_t	 seq;			  /* set by the store */
	char		 reason[STORE_REASON_MAX + 1];
};

/*
 * Record n revocations in one durable transaction, all or none; blocks
 * until synced.  Each gets the next sequence number (r[i].seq).  -1 with
 * err ("state store full", ...) when nothing was written.  A revocation
 * equal in kind, issuer and value to an existing one replaces it.
 */
int		 store_revoke(struct store *, struct store_revocation *r,
		    size_t n, char *err, size_t errlen);

/*
 * Call cb for each revocation of kind (0: all) in key order, starting
 * after the (kind, iss, value) of *after when after is non-NULL; stops
 * when cb returns non-zero or after max entries.  Returns the number of
 * entries passed to cb, or -1 on a store error.
 */
typedef int	(*store_list_cb)(const struct store_revocation *, void *arg);
int		 store_revocations_list(struct store_reader *,
		    enum store_rev_kind kind,
		    const struct store_revocation *after, size_t max,
		    store_list_cb cb, void *arg);

struct store_stats {
	uint64_t	 cache_entries;
	uint64_t	 revocations;
	uint64_t	 consumed;
	uint64_t	 rev_seq;		/* last sequence number */
	uint64_t	 cache_map_bytes;
	uint64_t	 cache_used_bytes;
	uint64_t	 state_map_bytes;
	uint64_t	 state_used_bytes;
	uint64_t	 cache_puts_dropped;	/* queue full or evicted */
	uint64_t	 evictions;
	uint64_t	 probation;		/* first-seen tokens in memory */
	uint64_t	 promotions;		/* probation hits sent to LMDB */
	bool		 probation_bypass;	/* first uses go to LMDB now */
	uint64_t	 admission_windows;	/* admission tests decided */
	uint64_t	 bypass_windows;	/* ... that chose bypass */
	uint64_t	 bypass_changes;	/* times bypass came on or off */
};

int		 store_stats(struct store_reader *, struct store_stats *);

/* Wait until every write queued before the call is committed (tests). */
void		 store_sync(struct store *);

/*
 * Remove expired cache entries (exp + leeway < now), consumed marks that
 * no longer count (store_consume()) with the floor raised to now less
 * the highest leeway in the same transactions, and revocations past
 * expires_at, in small transactions.  The writer runs it every
 * sweep_interval_s; this runs one pass at now and waits for it (tests: a
 * now ahead of the clock moves the floor ahead too).  Returns entries
 * removed, -1 on error.
 */
long		 store_sweep(struct store *, int64_t now);

#endif /* EIDD_STORE_H */
