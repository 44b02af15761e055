/*
 * load/eid_load.c -- eid-load, the load generator of eidd: many TLS
 * connections through the client library's libevent flavour, pipelined,
 * in a closed loop (as fast as answers come) or an open loop at a fixed
 * rate with latency taken from each request's intended send time
 * (coordinated omission corrected, as wrk2 does).
 *
 * This file owns the command line and scenario files, the workload (the
 * tokens it mints with the development keys, the broken ones eid-mint
 * makes, the revoked ones it revokes through the admin API before the
 * run), the event loop that drives the connections, and the report.
 * Every answer is checked against the verdict the workload expects, so a
 * load run is also a correctness run.  A request is one token: with
 * --batch N a request frame is a VerifyBatch of up to N of them, and
 * every figure but the latency (per frame) and "frames" counts tokens.
 * It includes only the public headers of this project (eid/); it never
 * decides a verdict itself.
 * Being a tool, it dies on startup failures (2: usage, 1: anything
 * else); once running, a failing connection is counted, never fatal.
 * Exit status 0 means no error and no verdict mismatch.
 */
#define _GNU_SOURCE	/* sched_setaffinity, CPU_SET, RUSAGE_THREAD */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "eid/client.h"
#include "eid/jose.h"
#include "eid/verify.h"

#include "common.h"
#include "hdr.h"
#include "hist.h"
#include "merge.h"
#include "procstat.h"
#include "timeline.h"
#include "raw.h"

#define LOAD_PROG		"eid-load"
#define LOAD_ISS_DEFAULT	"https://vneid.example"
#define LOAD_AUD_DEFAULT	"dichvucong"
#define LOAD_DEV_CERT		"certs/dev/rp-dichvucong.crt"
#define LOAD_DEV_KEY		"certs/dev/rp-dichvucong.key"
#define LOAD_DEV_CA		"certs/dev/ca.pem"
#define LOAD_DEV_ADMIN_CERT	"certs/dev/admin.crt"
#define LOAD_DEV_ADMIN_KEY	"certs/dev/admin.key"

/* Bounds of the options, checked before anything is allocated. */
#define LOAD_CONNS_MAX		10000
#define LOAD_PIPELINE_MAX	4096
#define LOAD_IDLE_MAX		60000
#define LOAD_RECONNECT_MAX	1000000000LL
#define LOAD_REQUESTS_MAX	1000000000LL
#define LOAD_POOL_MAX		100000000LL
#define LOAD_DURATION_MAX_S	86400.0
#define LOAD_RATE_MAX		10000000.0
#define LOAD_BROKEN_POOL_MAX	10000
#define LOAD_TTL_MIN_S		60
#define LOAD_TTL_MAX_S		86400
#define LOAD_THREADS_MAX	64
#define LOAD_KINDS_MAX		64
#define LOAD_SAMPLES_MAX	8	/* mismatches shown in the report */
#define LOAD_REVOKE_BATCH	1000	/* eid_client_revoke_batch's limit */
/*
 * A RevokeBatch request must fit the client's 64 KiB frame: items are
 * added while their strings and LOAD_REVOKE_ITEM bytes each of the rest
 * stay within LOAD_REVOKE_FRAME, as eidctl's import does.
 */
#define LOAD_REVOKE_FRAME	65000
#define LOAD_REVOKE_ITEM	40
#define LOAD_REVOKE_REASON	"eid-load"
#define LOAD_DURATION_DEFAULT_S	10.0
#define LOAD_LINE_MAX		(EID_TOKEN_MAX + 64)
/*
 * A request frame's body is at most 64 KiB (eid.proto).  A VerifyBatch
 * item adds to its token and audience at most the nonce eid-load sends
 * and 27 bytes of tags, lengths and level; the request at most 15
 * (id, batch tag and length).  Minted tokens vary by a few bytes of
 * claims from the one measured: the slack covers it.
 */
#define LOAD_FRAME_MAX		65536
#define LOAD_ITEM_OVERHEAD	27
#define LOAD_FRAME_OVERHEAD	15
#define LOAD_MINT_SLACK		48

#define LOAD_EXIT_ERRORS	1
#define LOAD_EXIT_USAGE		2

/* The request a kind needs to earn its verdict (eid-mint.1). */
#define LOAD_LOW_LEVEL_MIN	2
#define LOAD_NONCE_EXPECTED	"expected-nonce"

/* "No expectation": --expect any with a token file. */
#define LOAD_WANT_ANY		EID_VERDICT_COUNT

#define NS_PER_S		1000000000ULL

enum load_reuse {
	LOAD_REUSE_DISTINCT,
	LOAD_REUSE_UNIFORM,
	LOAD_REUSE_ZIPF
};

static const char *const load_reuse_names[] = { "distinct", "uniform",
	"zipf" };

enum load_class {
	LOAD_CLASS_VALID,
	LOAD_CLASS_BROKEN,
	LOAD_CLASS_REVOKED,
	LOAD_CLASS_FILE,
	LOAD_CLASS_COUNT
};

static const char *const load_class_names[] = { "valid", "broken",
	"revoked", "file" };

enum load_opt {
	LOAD_OPT_SERVER,
	LOAD_OPT_CERT,
	LOAD_OPT_KEY,
	LOAD_OPT_CA,
	LOAD_OPT_ADMIN_CERT,
	LOAD_OPT_ADMIN_KEY,
	LOAD_OPT_DURATION,
	LOAD_OPT_REQUESTS,
	LOAD_OPT_WARMUP,
	LOAD_OPT_CONNECTIONS,
	LOAD_OPT_PIPELINE,
	LOAD_OPT_BATCH,
	LOAD_OPT_RATE,
	LOAD_OPT_IDLE,
	LOAD_OPT_RECONNECT,
	LOAD_OPT_SCENARIO,
	LOAD_OPT_NAME,
	LOAD_OPT_JSON,
	LOAD_OPT_HIST,
	LOAD_OPT_TOKENS,
	LOAD_OPT_EXPECT,
	LOAD_OPT_ALG_MIX,
	LOAD_OPT_POOL,
	LOAD_OPT_REUSE,
	LOAD_OPT_ZIPF_S,
	LOAD_OPT_BROKEN_SHARE,
	LOAD_OPT_BROKEN_KINDS,
	LOAD_OPT_BROKEN_POOL,
	LOAD_OPT_REVOKED_SHARE,
	LOAD_OPT_REVOKED_POOL,
	LOAD_OPT_AUDIENCE,
	LOAD_OPT_ISS,
	LOAD_OPT_TTL,
	LOAD_OPT_SEED,
	LOAD_OPT_CERTS,
	LOAD_OPT_MINT,
	LOAD_OPT_PREMINT,
	LOAD_OPT_MINT_THREADS,
	LOAD_OPT_THREADS,
	LOAD_OPT_SERVER_PID,
	LOAD_OPT_TIMEOUT,
	LOAD_OPT_BUSY_POLL,
	LOAD_OPT_RAW_CPU,
	LOAD_OPT_QUIET,
	LOAD_OPT_HELP
};

/* The one table of options: command line, scenario files and --help. */
static const struct load_option {
	const char	*name;		/* without "--"; the scenario key */
	enum load_opt	 id;
	const char	*arg;		/* NULL for a flag */
	const char	*help;
} load_options[] = {
	{ "server", LOAD_OPT_SERVER, "HOST:PORT",
	    "eidd to load ($EID_SERVER or 127.0.0.1:7443)" },
	{ "cert", LOAD_OPT_CERT, "FILE", "client certificate ($EID_CERT or "
	    LOAD_DEV_CERT ")" },
	{ "key", LOAD_OPT_KEY, "FILE", "its key ($EID_KEY or "
	    LOAD_DEV_KEY ")" },
	{ "ca", LOAD_OPT_CA, "FILE", "CA of the server ($EID_CA or "
	    LOAD_DEV_CA ")" },
	{ "admin-cert", LOAD_OPT_ADMIN_CERT, "FILE", "admin certificate to "
	    "revoke with (" LOAD_DEV_ADMIN_CERT ")" },
	{ "admin-key", LOAD_OPT_ADMIN_KEY, "FILE", "its key ("
	    LOAD_DEV_ADMIN_KEY ")" },
	{ "duration", LOAD_OPT_DURATION, "S", "seconds measured, after the "
	    "warm-up (10 unless --requests)" },
	{ "requests", LOAD_OPT_REQUESTS, "N", "requests measured, after the "
	    "warm-up (instead of --duration)" },
	{ "warmup", LOAD_OPT_WARMUP, "S", "seconds of warm-up, excluded from "
	    "the figures (1)" },
	{ "connections", LOAD_OPT_CONNECTIONS, "N", "TLS connections that "
	    "carry requests (16)" },
	{ "pipeline", LOAD_OPT_PIPELINE, "N", "request frames in flight per "
	    "connection (16)" },
	{ "batch", LOAD_OPT_BATCH, "N", "tokens per request frame: 1 a "
	    "Verify, 2..256 a VerifyBatch (1)" },
	{ "rate", LOAD_OPT_RATE, "R", "open loop at R requests/s (0: closed "
	    "loop, as fast as answers come)" },
	{ "idle-connections", LOAD_OPT_IDLE, "N", "extra connections held "
	    "open without a request (0)" },
	{ "reconnect", LOAD_OPT_RECONNECT, "N", "request frames per "
	    "connection, then a new one takes its place: a full handshake "
	    "each (0: keep them)" },
	{ "scenario", LOAD_OPT_SCENARIO, "FILE", "\"key = value\" lines "
	    "with these option names; flags override them" },
	{ "name", LOAD_OPT_NAME, "NAME", "label of the run in the report" },
	{ "json", LOAD_OPT_JSON, "FILE", "write the report as JSON (\"-\": "
	    "stdout); latencies in microseconds" },
	{ "hist", LOAD_OPT_HIST, "FILE", "write the latency distribution "
	    "(HdrHistogram's percentile form, us; \"-\": stdout)" },
	{ "tokens", LOAD_OPT_TOKENS, "FILE", "tokens from a file, one per "
	    "line, optionally followed by the verdict expected" },
	{ "expect", LOAD_OPT_EXPECT, "VERDICT", "verdict of --tokens lines "
	    "without one (OK; \"any\": unchecked)" },
	{ "alg-mix", LOAD_OPT_ALG_MIX, "MIX", "algorithms with weights, "
	    "e.g. ES256:80,RS256:15,EdDSA:5 (ES256)" },
	{ "pool", LOAD_OPT_POOL, "N", "distinct valid tokens of uniform and "
	    "zipf (1000)" },
	{ "reuse", LOAD_OPT_REUSE, "HOW", "distinct (every verify cold), "
	    "uniform or zipf over the pool (uniform)" },
	{ "zipf-s", LOAD_OPT_ZIPF_S, "S", "Zipf exponent (1.0)" },
	{ "broken-share", LOAD_OPT_BROKEN_SHARE, "F", "share of broken "
	    "tokens, 0..1 (0)" },
	{ "broken-kinds", LOAD_OPT_BROKEN_KINDS, "LIST", "comma-separated "
	    "eid-mint kinds (all but valid)" },
	{ "broken-pool", LOAD_OPT_BROKEN_POOL, "N", "broken tokens minted "
	    "per kind (8)" },
	{ "revoked-share", LOAD_OPT_REVOKED_SHARE, "F", "share of revoked "
	    "tokens, 0..1 (0); revoked before the run" },
	{ "revoked-pool", LOAD_OPT_REVOKED_POOL, "N", "revoked tokens (pool "
	    "* share, at least 1; 1000 with distinct)" },
	{ "audience", LOAD_OPT_AUDIENCE, "AUD", "audience minted and asked "
	    "for (" LOAD_AUD_DEFAULT ")" },
	{ "iss", LOAD_OPT_ISS, "ISS", "issuer minted (" LOAD_ISS_DEFAULT ")" },
	{ "ttl", LOAD_OPT_TTL, "S", "exp - iat of minted tokens (3600)" },
	{ "seed", LOAD_OPT_SEED, "N", "seed of the request sequence (1)" },
	{ "certs", LOAD_OPT_CERTS, "DIR", "development keys ($EID_CERTS or "
	    COMMON_CERTS_DEFAULT ")" },
	{ "mint", LOAD_OPT_MINT, "PATH", "eid-mint for broken tokens "
	    "($EID_MINT or next to eid-load)" },
	{ "premint", LOAD_OPT_PREMINT, "N", "requests of the measured "
	    "sequence minted before the run (auto)" },
	{ "mint-threads", LOAD_OPT_MINT_THREADS, "N", "threads that mint "
	    "before the run (cores)" },
	{ "threads", LOAD_OPT_THREADS, "N", "generator threads, each with "
	    "its event loop and a share of the connections and rate (1)" },
	{ "server-pid", LOAD_OPT_SERVER_PID, "PID", "report the daemon's CPU "
	    "time over the measured window" },
	{ "timeout-ms", LOAD_OPT_TIMEOUT, "MS", "connect and answer timeout "
	    "(10000)" },
	{ "busy-poll", LOAD_OPT_BUSY_POLL, NULL, "never sleep waiting for "
	    "answers: for a generator on CPUs of its own" },
	{ "raw-cpu", LOAD_OPT_RAW_CPU, "N", "measure OpenSSL's bare verify "
	    "of the one algorithm on CPU N during the window" },
	{ "quiet", LOAD_OPT_QUIET, NULL, "no progress line" },
	{ "help", LOAD_OPT_HELP, NULL, "this text" },
};
#define LOAD_NOPTIONS	(sizeof(load_options) / sizeof(load_options[0]))

struct load_conf {
	struct eid_client_config cfg;
	struct eid_client_tls *tls;	/* cfg's files, read once for all */
	const char	*admin_cert;
	const char	*admin_key;
	double		 duration_s;	/* 0: unset */
	long long	 requests;	/* 0: unset */
	double		 warmup_s;
	long long	 conns;
	long long	 pipeline;
	long long	 batch;		/* tokens per frame; 1: Verify */
	double		 rate;		/* 0: closed loop */
	long long	 idle;
	long long	 reconnect;	/* frames per connection; 0: keep */
	const char	*name;
	const char	*json;
	const char	*hist;
	const char	*tokens;
	enum eid_verdict expect;	/* LOAD_WANT_ANY: unchecked */
	const char	*alg_mix;
	unsigned int	 alg_weight[EID_ALG_EDDSA + 1];
	unsigned int	 alg_total;
	long long	 pool;
	enum load_reuse	 reuse;
	double		 zipf_s;
	double		 broken_share;
	const char	*broken_kinds;	/* NULL: all */
	long long	 broken_pool;
	double		 revoked_share;
	long long	 revoked_pool;	/* 0: auto */
	const char	*aud;
	const char	*iss;
	long long	 ttl_s;
	uint64_t	 seed;
	const char	*certs;
	const char	*mint;
	long long	 premint;	/* -1: auto */
	long long	 threads;	/* minting; 0: cores */
	long long	 gens;		/* generator threads */
	long long	 server_pid;	/* 0: none */
	bool		 busy_poll;
	long long	 raw_cpu;	/* -1: no raw yardstick */
	bool		 quiet;
};

/* --- randomness: xoshiro256** seeded by splitmix64 --------------------- */

struct load_rng {
	uint64_t	 s[4];
};

static uint64_t
load_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void
load_rng_init(struct load_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t	 x = load_mix64(seed) ^ load_mix64(stream + 0x5851f42d);
	size_t		 i;

	for (i = 0; i < 4; i++) {
		x += 0x9e3779b97f4a7c15ULL;
		r->s[i] = load_mix64(x);
	}
}

static uint64_t
load_rng_next(struct load_rng *r)
{
	uint64_t	*s = r->s, t = s[1] << 17, v;

	v = s[1] * 5;
	v = ((v << 7) | (v >> 57)) * 9;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return v;
}

/* Uniform in [0, 1). */
static double
load_rng_u01(struct load_rng *r)
{
	return (double)(load_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0; the modulo bias is below n / 2^64. */
static uint64_t
load_rng_below(struct load_rng *r, uint64_t n)
{
	return load_rng_next(r) % n;
}

/*
 * Zipf over ranks 1..n with exponent s by rejection-inversion
 * (Hörmann and Derflinger 1996, as in Apache Commons RNG): O(1) per
 * draw and no table, so a pool of 10^8 costs nothing to set up.
 */
struct load_zipf {
	double		 n;
	double		 s;
	double		 h_x1;		/* H(1.5) - 1 */
	double		 h_n;		/* H(n + 0.5) */
	double		 cut;
};

static double
load_zipf_helper1(double x)	/* log1p(x) / x */
{
	return fabs(x) > 1e-8 ? log1p(x) / x : 1.0 - x * (0.5 - x / 3.0);
}

static double
load_zipf_helper2(double x)	/* expm1(x) / x */
{
	return fabs(x) > 1e-8 ? expm1(x) / x : 1.0 + x * 0.5 *
	    (1.0 + x / 3.0);
}

static double
load_zipf_H(const struct load_zipf *z, double x)
{
	double	 lx = log(x);

	return load_zipf_helper2((1.0 - z->s) * lx) * lx;
}

static double
load_zipf_h(const struct load_zipf *z, double x)
{
	return exp(-z->s * log(x));
}

static double
load_zipf_Hinv(const struct load_zipf *z, double x)
{
	double	 t = x * (1.0 - z->s);

	if (t < -1.0)
		t = -1.0;
	return exp(load_zipf_helper1(t) * x);
}

static void
load_zipf_init(struct load_zipf *z, uint64_t n, double s)
{
	z->n = (double)n;
	z->s = s;
	z->h_x1 = load_zipf_H(z, 1.5) - 1.0;
	z->h_n = load_zipf_H(z, z->n + 0.5);
	z->cut = 2.0 - load_zipf_Hinv(z, load_zipf_H(z, 2.5) -
	    load_zipf_h(z, 2.0));
}

/* A rank in 0..n-1 (0 the most frequent). */
static uint64_t
load_zipf_draw(const struct load_zipf *z, struct load_rng *r)
{
	double	 u, x, k;

	for (;;) {
		u = z->h_n + load_rng_u01(r) * (z->h_x1 - z->h_n);
		x = load_zipf_Hinv(z, u);
		k = floor(x + 0.5);
		if (k < 1.0)
			k = 1.0;
		else if (k > z->n)
			k = z->n;
		if (k - x <= z->cut ||
		    u >= load_zipf_H(z, k + 0.5) - load_zipf_h(z, k))
			return (uint64_t)k - 1;
	}
}

/* --- the workload -------------------------------------------------------- */

/* One token of a pool: minted on first use (or before the run), kept. */
struct load_slot {
	char		*tok;
	uint32_t	 len;
	bool		 queued;	/* in the pre-mint work list */
	uint8_t		 want;		/* file tokens: enum eid_verdict */
};

struct load_pool {
	char		 tag;		/* 'v' valid, 'r' revoked, 'd' distinct,
					   'f' file: part of the minted jti */
	uint64_t	 n;
	uint64_t	 stride;	/* slot i holds the token of id */
	uint64_t	 offset;	/* i * stride + offset */
	struct load_slot *slots;
};

/* A broken kind of eid-mint, its verdict and its tokens. */
struct load_kind {
	char		 name[32];
	enum eid_verdict want;
	int		 min_level;
	const char	*nonce;
	char		**toks;
	size_t		 ntoks;
};

/* What one request sends: drawn from a stream, never from the clock. */
struct load_pick {
	enum load_class	 cls;
	size_t		 kind;		/* broken: index in kinds */
	uint64_t	 idx;		/* slot, or distinct id */
	bool		 warm;
};

/*
 * Two independent streams: the measured sequence does not depend on how
 * long the warm-up ran, so it can be drawn (and its tokens minted)
 * before the run.
 */
struct load_stream {
	struct load_rng	 rng;
	uint64_t	 next;		/* the stream's next distinct draw */
	uint64_t	 stride;	/* ... is id / line next * stride + */
	uint64_t	 offset;	/* offset: --threads share them out */
	bool		 warm;
};

/* Counts of tokens, but frames. */
struct load_counts {
	uint64_t	 done;		/* answered or failed */
	uint64_t	 frames;	/* request frames answered or failed */
	uint64_t	 answers;	/* a VerifyResult */
	uint64_t	 errors;
	uint64_t	 mismatches;
	uint64_t	 cached;
	uint64_t	 verdicts[EID_VERDICT_COUNT];
	uint64_t	 expected[EID_VERDICT_COUNT];
	uint64_t	 classes[LOAD_CLASS_COUNT];
	uint64_t	 kinds[LOAD_KINDS_MAX];
	uint64_t	 client_err[EID_CLIENT_ERR_SERVER + 1];
	uint64_t	 server_err[EID_SERVER_INTERNAL + 1];
	uint64_t	 send_failed;
	uint64_t	 handshakes;	/* --reconnect: connections remade */
	uint64_t	 handshake_failures;
};

struct load_sample {
	char		 what[48];
	enum eid_verdict want;
	enum eid_verdict got;
};

/* One token of a request frame and the verdict it must get. */
struct load_item {
	enum eid_verdict want;
	enum load_class	 cls;
	size_t		 kind;
};

/* One request frame: a Verify, or a VerifyBatch of n tokens. */
struct load_req {
	struct load_conn *conn;
	struct load_req	*next;		/* free list */
	uint64_t	 t_ns;		/* intended (open) or sent (closed) */
	struct load_item *items;	/* batch entries, n used */
	size_t		 n;
	bool		 measured;
};

struct load_conn {
	struct load	*l;
	struct eid_aclient *ac;
	size_t		 inflight;
	uint64_t	 sent;		/* frames, since it connected */
	uint64_t	 t_connect;	/* when it began connecting */
	int		 id;
	bool		 ready;
	bool		 dead;
	bool		 idle;
	bool		 reopening;	/* --reconnect: a new connection */
};

/*
 * --raw-cpu: a thread on that CPU verifies one token of the mix's
 * algorithm with OpenSSL alone (load/raw.h), over and over, and counts
 * the verifies and its own CPU time while the measured window is open.
 * Sharing the daemon's CPU at the same time, it sees the same machine
 * speed, so the ratio of the daemon's CPU per request to its CPU per
 * verify holds still on a machine whose speed drifts from one second to
 * the next.  A batch that straddles an edge of the window is not counted.
 */
enum load_raw_state {
	LOAD_RAW_WAIT = 0,
	LOAD_RAW_MEASURE,
	LOAD_RAW_STOP
};

#define LOAD_RAW_BATCH	4	/* verifies between two reads of the clock */

struct load_raw {
	pthread_t	 th;
	struct raw	 r;
	atomic_int	 state;		/* enum load_raw_state */
	/* written by the thread, read after the join */
	uint64_t	 verifies;
	int64_t		 cpu_ns;
	bool		 failed;
};

/*
 * --threads N: N generators, each a struct load of its own in a thread of
 * its own (own event loop, connections, request streams, counts and
 * histograms), sharing the workload's pools read-only.  What they share
 * besides is here; the figures are added up after the run
 * (docs/adr/0012-load-generator-threads.md).  load_pub: a generator's
 * figures for the main thread's progress line.
 */
struct load_pub {
	_Atomic uint64_t done;
	_Atomic uint64_t errors;
	_Atomic uint64_t mismatches;
	_Atomic uint64_t p99_ns;
	_Atomic uint64_t inflight;
	_Atomic bool	 measuring;
} __attribute__((aligned(64)));

struct load_shared {
	size_t		 n;
	const struct load_conf *c;	/* the run's, before the shares */
	pthread_mutex_t	 mint_mtx;	/* a pool slot minted on first use */
	pthread_barrier_t begin;	/* all connected: the clocks start */
	_Atomic bool	 stop;		/* first interrupt: drain */
	_Atomic bool	 quit;		/* second: leave now */
	_Atomic size_t	 begun;		/* generators past the barrier */
	_Atomic size_t	 finished;	/* ... whose window closed */
	_Atomic size_t	 exited;	/* ... whose thread is done */
	struct load_pub	*pub;
	struct load	*gens;		/* n of them */
};

struct load {
	struct load_conf *c;
	struct load_shared *sh;		/* --threads > 1; else NULL */
	size_t		 gen;		/* this generator's number */
	size_t		 conn_base;	/* ... and its first connection's */
	/* minting */
	EVP_PKEY	*keys[EID_ALG_EDDSA + 1];
	char		 kids[EID_ALG_EDDSA + 1][EID_THUMBPRINT_LEN + 1];
	unsigned int	 provinces[100];
	size_t		 nprovinces;
	char		 tag[12];	/* run tag: makes every jti new */
	int64_t		 iat;
	/* workload */
	struct load_pool valid;
	struct load_pool revoked;
	struct load_pool distinct;	/* the measured sequence's, pre-minted */
	struct load_pool file;
	struct load_zipf zvalid;
	struct load_zipf zrevoked;
	struct load_zipf zfile;
	struct load_kind kinds[LOAD_KINDS_MAX];
	size_t		 nkinds;
	struct load_stream warm;
	struct load_stream meas;
	uint64_t	 premint;
	uint64_t	 minted_in_run;
	/* the run */
	struct event_base *base;
	struct event	*tick_ev;
	struct event	*send_ev;
	struct event	*start_ev;
	struct event	*stop_ev;
	struct event	*sig_ev;
	struct load_conn *conns;	/* load ones first, then idle ones */
	size_t		 nconns;
	size_t		 nload;
	size_t		 nready;
	size_t		 nfailed;
	size_t		 rr;
	struct load_req	*reqs;
	struct load_item *items;	/* of every load_req */
	struct load_req	*free_reqs;
	struct eid_verify_req *vr;	/* one frame's requests, batch long */
	char		**owned;	/* and the tokens to free after it */
	size_t		 inflight;	/* frames */
	bool		 running;
	bool		 measuring;
	bool		 stopping;
	bool		 finished;
	bool		 interrupted;
	uint64_t	 t0;
	uint64_t	 t_start;
	uint64_t	 t_end;
	double		 interval_ns;	/* open loop */
	uint64_t	 sched_k;
	uint64_t	 sched_warm;
	uint64_t	 sched_total;
	uint64_t	 sent_measured;	/* tokens */
	uint64_t	 window_done;	/* tokens answered inside the window */
	/* figures */
	struct load_counts m;		/* measured */
	struct load_counts w;		/* warm-up */
	struct hist	*lat;
	struct hist	*lat_warm;
	struct hist	*hs;		/* --reconnect: handshakes, window */
	struct tl	*tl;		/* the run's second by second, shared */
	struct tl_writer *tlw;		/* this generator's part of it */
	struct load_sample samples[LOAD_SAMPLES_MAX];
	size_t		 nsamples;
	uint64_t	 last_done;
	uint64_t	 last_tick;
	double		 srv_cpu0;	/* the daemon's CPU seconds; -1 */
	double		 srv_cpu1;
	double		 cli_cpu0;
	double		 cli_cpu1;
	struct load_raw	*raw;		/* --raw-cpu */
	/* /proc/stat at the window's edges, for the steal; st_ok if both */
	bool		 st_ok;
	struct procstat	 st0;
	struct procstat	 st1;
};

static void	 load_usage(FILE *);
static void	 load_vusage_line(bool, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
static void	 load_usage_error(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	 load_input_error(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	 load_send_ready(struct load *);
static void	 load_finish_maybe(struct load *);
static void	 load_window_end(struct load *);
static void	 load_premint_auto(struct load *);
static void	 load_open_counts(const struct load *, uint64_t *, uint64_t *);
static long long load_share(long long, size_t, size_t);
static void	 load_publish(struct load *, bool);

static void
load_usage(FILE *fp)
{
	size_t	 i;
	char	 left[40];

	fprintf(fp, "usage: %s [--server HOST:PORT] [--cert F --key F --ca F] "
	    "[--duration S | --requests N]\n"
	    "                [--connections N] [--pipeline N] [--batch N] "
	    "[--rate R] [--scenario FILE]\n"
	    "                [--json FILE] [workload options]\n"
	    "       %s --merge [--json FILE] [--hist FILE] [--name NAME] "
	    "REPORT...\n\n", LOAD_PROG, LOAD_PROG);
	for (i = 0; i < LOAD_NOPTIONS; i++) {
		snprintf(left, sizeof(left), "--%s%s%s", load_options[i].name,
		    load_options[i].arg != NULL ? " " : "",
		    load_options[i].arg != NULL ? load_options[i].arg : "");
		fprintf(fp, "  %-24s %s\n", left, load_options[i].help);
	}
	fprintf(fp, "\nExit status: 0 when every request got the verdict "
	    "expected, 1 on any error\nor mismatch, 2 on a usage error.  See "
	    "docs/PERFORMANCE.md.\n");
}

/*
 * The one line of an exit with status 2, so that scripts can show it as
 * it is; help points an error in the options at --help.
 */
static void
load_vusage_line(bool help, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", LOAD_PROG);
	vfprintf(stderr, fmt, ap);
	if (help)
		fprintf(stderr, " (see %s --help)", LOAD_PROG);
	fputc('\n', stderr);
}

static void
load_usage_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	load_vusage_line(true, fmt, ap);
	va_end(ap);
	exit(LOAD_EXIT_USAGE);
}

/*
 * A file named on the command line that cannot be used (a token file that
 * cannot be read or holds no token, a report that could not be written):
 * no pointer to --help, and still before anything is sent.
 */
static void
load_input_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	load_vusage_line(false, fmt, ap);
	va_end(ap);
	exit(LOAD_EXIT_USAGE);
}

static void *
load_calloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size)) == NULL)
		common_fatal("out of memory");
	return p;
}

static char *
load_strdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		common_fatal("out of memory");
	return p;
}

static uint64_t
load_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static struct timeval
load_tv(uint64_t ns)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)(ns / NS_PER_S);
	tv.tv_usec = (suseconds_t)(ns % NS_PER_S / 1000);
	return tv;
}

/* --- command line and scenario files ------------------------------------- */

static long long
load_parse_int(const char *where, const char *opt, const char *s,
    long long min, long long max)
{
	char		*end;
	long long	 v;

	if (!(s[0] >= '0' && s[0] <= '9'))
		load_usage_error("%s: --%s: \"%s\" is not a number", where,
		    opt, s);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		load_usage_error("%s: --%s: \"%s\" is not a number", where,
		    opt, s);
	if (errno == ERANGE || v < min || v > max)
		load_usage_error("%s: --%s: %s is out of range %lld..%lld",
		    where, opt, s, min, max);
	return v;
}

static double
load_parse_real(const char *where, const char *opt, const char *s,
    double min, double max)
{
	char	*end;
	double	 v;

	if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '.'))
		load_usage_error("%s: --%s: \"%s\" is not a number", where,
		    opt, s);
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(v))
		load_usage_error("%s: --%s: \"%s\" is not a number", where,
		    opt, s);
	if (v < min || v > max)
		load_usage_error("%s: --%s: %s is out of range %g..%g", where,
		    opt, s, min, max);
	return v;
}

/*
 * A string that goes into a JSON claim as it is: no quote, backslash
 * or control character, so that it never needs escaping.
 */
static const char *
load_parse_claim(const char *where, const char *opt, const char *s,
    size_t max)
{
	const unsigned char	*p;

	if (s[0] == '\0' || strlen(s) > max)
		load_usage_error("%s: --%s: must be 1 to %zu bytes", where, opt,
		    max);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' ||
		    *p == '\'')
			load_usage_error("%s: --%s: quote, backslash or "
			    "control character", where, opt);
	return s;
}

/* "ES256" or "ES256:80,RS256:15,EdDSA:5". */
static void
load_parse_mix(const char *where, struct load_conf *c, const char *s)
{
	char		 buf[256], *item, *save = NULL, *colon;
	enum eid_alg	 alg;
	long long	 w;

	if (strlen(s) >= sizeof(buf))
		load_usage_error("%s: --alg-mix: too long", where);
	snprintf(buf, sizeof(buf), "%s", s);
	memset(c->alg_weight, 0, sizeof(c->alg_weight));
	c->alg_total = 0;
	for (item = strtok_r(buf, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		w = 1;
		if ((colon = strchr(item, ':')) != NULL) {
			*colon = '\0';
			w = load_parse_int(where, "alg-mix", colon + 1, 0,
			    1000000);
		}
		if ((alg = eid_alg_from_name(item)) == EID_ALG_NONE)
			load_usage_error("%s: --alg-mix: \"%s\" is not one of "
			    "ES256, ES384, RS256, PS256, EdDSA", where, item);
		c->alg_weight[alg] += (unsigned int)w;
		c->alg_total += (unsigned int)w;
	}
	if (c->alg_total == 0)
		load_usage_error("%s: --alg-mix: no weight", where);
	c->alg_mix = s;
}

static const struct load_option *
load_option_find(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < LOAD_NOPTIONS; i++)
		if (strlen(load_options[i].name) == len &&
		    strncmp(load_options[i].name, name, len) == 0)
			return &load_options[i];
	return NULL;
}

static void	 load_scenario(struct load_conf *, const char *);

static void
load_set(struct load_conf *c, const struct load_option *o, const char *arg,
    const char *where)
{
	const char	*n = o->name;
	size_t		 i;

	switch (o->id) {
	case LOAD_OPT_SERVER:
		c->cfg.server = arg;
		break;
	case LOAD_OPT_CERT:
		c->cfg.cert = arg;
		break;
	case LOAD_OPT_KEY:
		c->cfg.key = arg;
		break;
	case LOAD_OPT_CA:
		c->cfg.ca = arg;
		break;
	case LOAD_OPT_ADMIN_CERT:
		c->admin_cert = arg;
		break;
	case LOAD_OPT_ADMIN_KEY:
		c->admin_key = arg;
		break;
	case LOAD_OPT_DURATION:
		c->duration_s = load_parse_real(where, n, arg, 0.001,
		    LOAD_DURATION_MAX_S);
		c->requests = 0;
		break;
	case LOAD_OPT_REQUESTS:
		c->requests = load_parse_int(where, n, arg, 1,
		    LOAD_REQUESTS_MAX);
		c->duration_s = 0;
		break;
	case LOAD_OPT_WARMUP:
		c->warmup_s = load_parse_real(where, n, arg, 0,
		    LOAD_DURATION_MAX_S);
		break;
	case LOAD_OPT_CONNECTIONS:
		c->conns = load_parse_int(where, n, arg, 1, LOAD_CONNS_MAX);
		break;
	case LOAD_OPT_PIPELINE:
		c->pipeline = load_parse_int(where, n, arg, 1,
		    LOAD_PIPELINE_MAX);
		break;
	case LOAD_OPT_BATCH:
		/* The daemon refuses a VerifyBatch of more (eid.proto). */
		c->batch = load_parse_int(where, n, arg, 1,
		    EID_CLIENT_BATCH_MAX);
		break;
	case LOAD_OPT_RATE:
		c->rate = load_parse_real(where, n, arg, 0, LOAD_RATE_MAX);
		break;
	case LOAD_OPT_IDLE:
		c->idle = load_parse_int(where, n, arg, 0, LOAD_IDLE_MAX);
		break;
	case LOAD_OPT_RECONNECT:
		c->reconnect = load_parse_int(where, n, arg, 0,
		    LOAD_RECONNECT_MAX);
		break;
	case LOAD_OPT_SCENARIO:
		load_scenario(c, arg);
		break;
	case LOAD_OPT_NAME:
		c->name = load_parse_claim(where, n, arg, 64);
		break;
	case LOAD_OPT_JSON:
		c->json = arg;
		break;
	case LOAD_OPT_HIST:
		c->hist = arg;
		break;
	case LOAD_OPT_TOKENS:
		c->tokens = arg;
		break;
	case LOAD_OPT_EXPECT:
		if (strcmp(arg, "any") == 0)
			c->expect = LOAD_WANT_ANY;
		else if (!eid_verdict_from_name(arg, &c->expect))
			load_usage_error("%s: --expect: unknown verdict \"%s\"",
			    where, arg);
		break;
	case LOAD_OPT_ALG_MIX:
		load_parse_mix(where, c, arg);
		break;
	case LOAD_OPT_POOL:
		c->pool = load_parse_int(where, n, arg, 1, LOAD_POOL_MAX);
		break;
	case LOAD_OPT_REUSE:
		for (i = 0; i < 3; i++)
			if (strcmp(arg, load_reuse_names[i]) == 0)
				break;
		if (i == 3)
			load_usage_error("%s: --reuse: \"%s\" is not distinct, "
			    "uniform or zipf", where, arg);
		c->reuse = (enum load_reuse)i;
		break;
	case LOAD_OPT_ZIPF_S:
		c->zipf_s = load_parse_real(where, n, arg, 0.01, 10.0);
		break;
	case LOAD_OPT_BROKEN_SHARE:
		c->broken_share = load_parse_real(where, n, arg, 0, 1);
		break;
	case LOAD_OPT_BROKEN_KINDS:
		c->broken_kinds = strcmp(arg, "all") == 0 ? NULL : arg;
		break;
	case LOAD_OPT_BROKEN_POOL:
		c->broken_pool = load_parse_int(where, n, arg, 1,
		    LOAD_BROKEN_POOL_MAX);
		break;
	case LOAD_OPT_REVOKED_SHARE:
		c->revoked_share = load_parse_real(where, n, arg, 0, 1);
		break;
	case LOAD_OPT_REVOKED_POOL:
		c->revoked_pool = load_parse_int(where, n, arg, 1,
		    LOAD_POOL_MAX);
		break;
	case LOAD_OPT_AUDIENCE:
		c->aud = load_parse_claim(where, n, arg, EID_AUD_MAX);
		break;
	case LOAD_OPT_ISS:
		c->iss = load_parse_claim(where, n, arg, EID_ISS_MAX);
		break;
	case LOAD_OPT_TTL:
		c->ttl_s = load_parse_int(where, n, arg, LOAD_TTL_MIN_S,
		    LOAD_TTL_MAX_S);
		break;
	case LOAD_OPT_SEED:
		c->seed = (uint64_t)load_parse_int(where, n, arg, 0,
		    LLONG_MAX);
		break;
	case LOAD_OPT_CERTS:
		c->certs = arg;
		break;
	case LOAD_OPT_MINT:
		c->mint = arg;
		break;
	case LOAD_OPT_PREMINT:
		c->premint = load_parse_int(where, n, arg, 0,
		    LOAD_REQUESTS_MAX);
		break;
	case LOAD_OPT_MINT_THREADS:
		c->threads = load_parse_int(where, n, arg, 1,
		    LOAD_THREADS_MAX);
		break;
	case LOAD_OPT_THREADS:
		c->gens = load_parse_int(where, n, arg, 1, LOAD_THREADS_MAX);
		break;
	case LOAD_OPT_SERVER_PID:
		c->server_pid = load_parse_int(where, n, arg, 1, INT_MAX);
		break;
	case LOAD_OPT_TIMEOUT:
		c->cfg.timeout_ms = (int)load_parse_int(where, n, arg, 1,
		    3600000);
		break;
	case LOAD_OPT_BUSY_POLL:
		c->busy_poll = true;
		break;
	case LOAD_OPT_RAW_CPU:
		c->raw_cpu = load_parse_int(where, n, arg, 0, CPU_SETSIZE - 1);
		break;
	case LOAD_OPT_QUIET:
		c->quiet = true;
		break;
	case LOAD_OPT_HELP:
		load_usage(stdout);
		exit(0);
	}
}

/*
 * A scenario file: "key = value" lines, '#' comments, keys are the long
 * option names.  Its strings live until exit, like argv's.
 */
static void
load_scenario(struct load_conf *c, const char *path)
{
	const struct load_option	*o;
	FILE				*fp;
	char				 line[1024], where[600], *p, *eq, *k,
					*v, *e;
	int				 lineno = 0;

	if ((fp = fopen(path, "r")) == NULL)
		load_usage_error("--scenario %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(fp))
			load_usage_error("%s: line too long", where);
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		for (e = k + strlen(k); e > k && (e[-1] == ' ' ||
		    e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'); e--)
			;
		*e = '\0';
		if (*k == '\0')
			continue;
		if ((eq = strchr(k, '=')) == NULL)
			load_usage_error("%s: expected \"key = value\"", where);
		for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
			;
		if ((o = load_option_find(k, strlen(k))) == NULL ||
		    o->id == LOAD_OPT_SCENARIO || o->id == LOAD_OPT_HELP)
			load_usage_error("%s: unknown key \"%s\"", where, k);
		if (o->arg == NULL) {
			if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
				load_set(c, o, NULL, where);
			else if (strcmp(v, "false") != 0 &&
			    strcmp(v, "no") != 0)
				load_usage_error("%s: %s: true or false", where,
				    k);
			continue;
		}
		load_set(c, o, load_strdup(v), where);
	}
	if (ferror(fp))
		load_usage_error("--scenario %s: read error", path);
	fclose(fp);
}

/* Scenario files first, wherever they are, so that flags override. */
static void
load_parse_args(int argc, char **argv, struct load_conf *c)
{
	const struct load_option	*o;
	const char			*arg, *eq, *name;
	size_t				 nlen;
	int				 ai, pass;

	for (pass = 0; pass < 2; pass++) {
		for (ai = 1; ai < argc; ai++) {
			name = argv[ai];
			if (strcmp(name, "-h") == 0) {
				load_usage(stdout);
				exit(0);
			}
			if (strncmp(name, "--", 2) != 0 || name[2] == '\0')
				load_usage_error("unexpected argument \"%s\"",
				    name);
			name += 2;
			eq = strchr(name, '=');
			nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
			if ((o = load_option_find(name, nlen)) == NULL)
				load_usage_error("unknown option \"%s\"",
				    argv[ai]);
			arg = NULL;
			if (o->arg != NULL) {
				if (eq != NULL)
					arg = eq + 1;
				else if (ai + 1 < argc)
					arg = argv[++ai];
				else
					load_usage_error("--%s needs %s",
					    o->name, o->arg);
			} else if (eq != NULL)
				load_usage_error("--%s takes no value",
				    o->name);
			if ((pass == 0) == (o->id == LOAD_OPT_SCENARIO))
				load_set(c, o, arg, "command line");
		}
	}
}

static bool
load_file_exists(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0;
}

/* The development default, when it exists, for an unset path. */
static void
load_dev_default(const char **v, const char *dev)
{
	if ((*v == NULL || **v == '\0') && load_file_exists(dev))
		*v = dev;
}

/*
 * A certificate or key named by opt (or its variable) that cannot be read
 * is found before the run, like a token file, not at the first connect.
 */
static void
load_in_check(const char *opt, const char *path)
{
	struct stat	 st;
	FILE		*fp;
	int		 e = 0;

	if (path == NULL || *path == '\0')
		return;
	if ((fp = fopen(path, "r")) == NULL)
		e = errno;
	else {
		if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode))
			e = EISDIR;
		fclose(fp);
	}
	if (e != 0)
		load_input_error("%s %s: %s", opt, path, strerror(e));
}

/* The one algorithm of the mix; EID_ALG_NONE if it has several. */
static enum eid_alg
load_mix_alg(const struct load_conf *c)
{
	enum eid_alg	 one = EID_ALG_NONE;
	int		 a;

	for (a = 0; a <= EID_ALG_EDDSA; a++) {
		if (c->alg_weight[a] == 0)
			continue;
		if (one != EID_ALG_NONE)
			return EID_ALG_NONE;
		one = (enum eid_alg)a;
	}
	return one;
}

static void
load_conf_finish(struct load_conf *c)
{
	eid_client_config_env(&c->cfg);
	load_dev_default(&c->cfg.cert, LOAD_DEV_CERT);
	load_dev_default(&c->cfg.key, LOAD_DEV_KEY);
	load_dev_default(&c->cfg.ca, LOAD_DEV_CA);
	if (c->duration_s == 0 && c->requests == 0)
		c->duration_s = LOAD_DURATION_DEFAULT_S;
	if (c->broken_share + c->revoked_share > 1.0)
		load_usage_error("--broken-share + --revoked-share exceed 1");
	if (c->gens > c->conns)
		load_usage_error("--threads %lld needs at least as many "
		    "--connections (%lld)", c->gens, c->conns);
	if (c->requests > 0 && c->requests < c->gens)
		load_usage_error("--threads %lld needs at least as many "
		    "--requests (%lld)", c->gens, c->requests);
	if (c->tokens != NULL && (c->broken_share > 0 ||
	    c->revoked_share > 0))
		load_usage_error("--tokens cannot be mixed with broken or "
		    "revoked tokens: give their verdicts in the file");
	if (c->revoked_share > 0) {
		load_dev_default(&c->admin_cert, LOAD_DEV_ADMIN_CERT);
		load_dev_default(&c->admin_key, LOAD_DEV_ADMIN_KEY);
		if (c->admin_cert == NULL || c->admin_key == NULL)
			load_usage_error("--revoked-share needs --admin-cert "
			    "and --admin-key");
	}
	if (c->revoked_pool == 0)
		c->revoked_pool = c->reuse == LOAD_REUSE_DISTINCT ? 1000 :
		    (long long)ceil((double)c->pool * c->revoked_share);
	if (c->revoked_pool < 1)
		c->revoked_pool = 1;
	if (c->cfg.timeout_ms == 0)
		c->cfg.timeout_ms = 10000;
	if (c->raw_cpu >= 0 && load_mix_alg(c) == EID_ALG_NONE)
		load_usage_error("--raw-cpu needs one algorithm in --alg-mix, "
		    "the one it verifies");
	if (c->raw_cpu >= 0 && c->raw_cpu >= sysconf(_SC_NPROCESSORS_CONF))
		load_usage_error("--raw-cpu %lld: this machine has CPUs 0 to "
		    "%ld", c->raw_cpu, sysconf(_SC_NPROCESSORS_CONF) - 1);
	load_in_check("--cert", c->cfg.cert);
	load_in_check("--key", c->cfg.key);
	load_in_check("--ca", c->cfg.ca);
	if (c->revoked_share > 0) {
		load_in_check("--admin-cert", c->admin_cert);
		load_in_check("--admin-key", c->admin_key);
	}
}

/* --- minting ---------------------------------------------------------------- */

/* The development keys of the algorithms in the mix. */
static void
load_keys_open(struct load *l)
{
	char		 path[4096];
	size_t		 i;
	enum eid_alg	 a;

	for (i = 0; i < COMMON_NDEVKEYS; i++) {
		a = common_devkeys[i].alg;
		if (l->c->alg_weight[a] == 0)
			continue;
		common_path(path, sizeof(path), l->c->certs,
		    common_devkeys[i].base, ".key");
		l->keys[a] = common_key_read(path);
		common_key_kid(l->keys[a], path, l->kids[a],
		    sizeof(l->kids[a]));
	}
}

/*
 * The province codes the library accepts, found by asking it: the list
 * belongs to crypto/claims.c alone.
 */
static void
load_provinces(struct load *l)
{
	char		 pin[EID_PIN_LEN + 1];
	unsigned int	 code;

	for (code = 1; code <= 96; code++) {
		snprintf(pin, sizeof(pin), "%03u080000001", code);
		if (eid_pin_is_valid(pin, "1980-01-01", EID_GENDER_MALE))
			l->provinces[l->nprovinces++] = code;
	}
	if (l->nprovinces == 0)
		common_fatal("the verifier library accepts no province code");
}

static const char *const load_family[] = { "Nguyễn", "Trần", "Lê", "Phạm",
	"Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ" };
static const char *const load_given[] = { "Văn An", "Thị Lan", "Minh Đức",
	"Ngọc Mai", "Hữu Nam", "Thu Hà", "Quang Huy", "Kim Chi" };

#define LOAD_PICK(h, a)	((a)[(h) % (sizeof(a) / sizeof((a)[0]))])

static enum eid_alg
load_alg_of(const struct load *l, uint64_t h)
{
	unsigned int	 w = (unsigned int)(h % l->c->alg_total);
	int		 a;

	for (a = EID_ALG_ES256; a <= EID_ALG_EDDSA; a++) {
		if (w < l->c->alg_weight[a])
			return (enum eid_alg)a;
		w -= l->c->alg_weight[a];
	}
	return EID_ALG_ES256;
}

static void
load_jti(const struct load *l, char tag, uint64_t idx, char *out,
    size_t len)
{
	snprintf(out, len, "%s-%c%" PRIu64, l->tag, tag, idx);
}

static uint64_t
load_mint_hash(const struct load *l, char tag, uint64_t idx)
{
	return load_mix64(load_mix64(l->c->seed ^
	    ((uint64_t)(unsigned char)tag << 56)) + idx);
}

/* The token of (tag, idx) signed with alg; load_mint() picks alg. */
static char *
load_mint_alg(const struct load *l, enum eid_alg alg, char tag, uint64_t idx,
    size_t *len)
{
	char		 head[256], body[1024], jti[EID_JTI_MAX + 1], pin[16],
			 bd[16], *tok;
	uint64_t	 h = load_mint_hash(l, tag, idx);
	unsigned int	 year, month, day, female, serial;
	enum eid_err	 rc;
	int		 n;

	load_jti(l, tag, idx, jti, sizeof(jti));
	year = 1940 + (unsigned int)(h >> 8) % 70;
	month = 1 + (unsigned int)(h >> 16) % 12;
	day = 1 + (unsigned int)(h >> 20) % 28;
	female = (unsigned int)(h >> 28) & 1;
	serial = (unsigned int)(h >> 32) % 1000000;
	snprintf(pin, sizeof(pin), "%03u%u%02u%06u",
	    l->provinces[(h >> 40) % l->nprovinces],
	    (year - 1900) / 100 * 2 + female, year % 100, serial);
	snprintf(bd, sizeof(bd), "%04u-%02u-%02u", year, month, day);
	snprintf(head, sizeof(head), "{\"alg\":\"%s\",\"typ\":\"JWT\","
	    "\"kid\":\"%s\"}", eid_alg_name(alg), l->kids[alg]);
	n = snprintf(body, sizeof(body), "{\"iss\":\"%s\",\"sub\":\"%s\","
	    "\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\","
	    "\"name\":\"%s %s\",\"birthdate\":\"%s\",\"gender\":\"%s\","
	    "\"eid_level\":2}", l->c->iss, pin, l->c->aud,
	    (long long)l->iat, (long long)(l->iat + l->c->ttl_s), jti,
	    LOAD_PICK(h >> 44, load_family), LOAD_PICK(h >> 52, load_given),
	    bd, female ? "female" : "male");
	if (n < 0 || (size_t)n >= sizeof(body))
		common_fatal("claims too long");
	if ((rc = eid_jws_sign(l->keys[alg], alg, head, strlen(head), body,
	    (size_t)n, &tok)) != EID_OK)
		common_fatal("cannot sign: %s", eid_strerror(rc));
	*len = strlen(tok);
	return tok;
}

/*
 * One valid token, everything but the signature a function of (seed,
 * tag, idx).  Thread-safe: it reads l only.  malloc'd.
 */
static char *
load_mint(const struct load *l, char tag, uint64_t idx, size_t *len)
{
	return load_mint_alg(l, load_alg_of(l, load_mint_hash(l, tag, idx)),
	    tag, idx, len);
}

static struct load_slot *
load_slot_get(struct load *l, struct load_pool *p, uint64_t idx)
{
	struct load_slot	*s = &p->slots[idx];
	size_t			 len;
	char			*t;

	/*
	 * Generators (--threads) share the pools.  A token is published
	 * once, its length before it (release, under the lock); two may
	 * both mint it, outside the lock, and the second drops its copy.
	 */
	if (__atomic_load_n(&s->tok, __ATOMIC_ACQUIRE) != NULL)
		return s;
	t = load_mint(l, p->tag, idx, &len);
	if (l->sh != NULL)
		pthread_mutex_lock(&l->sh->mint_mtx);
	if (s->tok == NULL) {
		s->len = (uint32_t)len;
		__atomic_store_n(&s->tok, t, __ATOMIC_RELEASE);
		t = NULL;
		if (l->measuring)
			l->minted_in_run++;
	}
	if (l->sh != NULL)
		pthread_mutex_unlock(&l->sh->mint_mtx);
	free(t);
	return s;
}

static void
load_pool_init(struct load_pool *p, char tag, uint64_t n)
{
	p->tag = tag;
	p->n = n;
	p->stride = 1;
	p->offset = 0;
	p->slots = load_calloc((size_t)n, sizeof(*p->slots));
}

static void
load_pool_clear(struct load_pool *p)
{
	uint64_t	 i;

	for (i = 0; i < p->n && p->slots != NULL; i++)
		free(p->slots[i].tok);
	free(p->slots);
	p->slots = NULL;
	p->n = 0;
}

/* --- pre-minting in threads ---------------------------------------------- */

struct load_work {
	struct load_pool *pool;
	uint64_t	 idx;
};

struct load_job {
	const struct load *l;
	struct load_work *w;
	size_t		 n;
	size_t		 first;
	size_t		 step;
};

static void *
load_mint_thread(void *arg)
{
	struct load_job		*j = arg;
	struct load_pool	*p;
	struct load_slot	*s;
	size_t			 i, len;

	for (i = j->first; i < j->n; i += j->step) {
		p = j->w[i].pool;
		s = &p->slots[j->w[i].idx];
		s->tok = load_mint(j->l, p->tag, j->w[i].idx * p->stride +
		    p->offset, &len);
		s->len = (uint32_t)len;
	}
	return NULL;
}

static void
load_work_add(struct load_work **w, size_t *n, size_t *cap,
    struct load_pool *p, uint64_t idx)
{
	struct load_work	*nw;

	if (p->slots[idx].tok != NULL || p->slots[idx].queued)
		return;
	p->slots[idx].queued = true;
	if (*n == *cap) {
		*cap = *cap == 0 ? 4096 : *cap * 2;
		if ((nw = realloc(*w, *cap * sizeof(**w))) == NULL)
			common_fatal("out of memory");
		*w = nw;
	}
	(*w)[*n].pool = p;
	(*w)[*n].idx = idx;
	(*n)++;
}

static void	 load_draw(struct load *, struct load_stream *,
		    struct load_pick *);

/*
 * Draw the first n requests of the measured sequence on a copy of its
 * stream, and the first nwarm of the warm-up's, and mint every token they
 * need, on all cores: minting inside the measured window would take CPU
 * from the daemon under test, and minting inside an open loop's warm-up
 * would make the generator fall behind its schedule there and carry the
 * backlog, as latency, into the measured window.  (Distinct tokens of the
 * warm-up are still minted as they are sent.)
 */
static void
load_premint(struct load *l, uint64_t n, uint64_t nwarm)
{
	struct load_stream	 s = l->meas, sw = l->warm;
	struct load_pick	 p;
	struct load_work	*w = NULL;
	struct load_job		*jobs;
	pthread_t		*th;
	size_t			 nw = 0, cap = 0, i, nthreads;
	uint64_t		 k, ndistinct = 0;
	long			 cores;

	for (k = 0; k < n + nwarm; k++) {
		load_draw(l, k < n ? &s : &sw, &p);
		if (p.cls == LOAD_CLASS_VALID && l->c->reuse ==
		    LOAD_REUSE_DISTINCT) {
			if (k < n)
				ndistinct = (p.idx - s.offset) / s.stride + 1;
		} else if (p.cls == LOAD_CLASS_VALID)
			load_work_add(&w, &nw, &cap, &l->valid, p.idx);
		else if (p.cls == LOAD_CLASS_REVOKED)
			load_work_add(&w, &nw, &cap, &l->revoked, p.idx);
	}
	if (ndistinct > 0) {
		load_pool_init(&l->distinct, 'd', ndistinct);
		l->distinct.stride = s.stride;
		l->distinct.offset = s.offset;
		for (k = 0; k < ndistinct; k++)
			load_work_add(&w, &nw, &cap, &l->distinct, k);
	}
	l->premint = nw;
	if (nw == 0)
		return;
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	nthreads = l->c->threads > 0 ? (size_t)l->c->threads :
	    cores > 0 ? (size_t)cores : 1;
	if (nthreads > nw)
		nthreads = nw;
	th = load_calloc(nthreads, sizeof(*th));
	jobs = load_calloc(nthreads, sizeof(*jobs));
	for (i = 0; i < nthreads; i++) {
		jobs[i].l = l;
		jobs[i].w = w;
		jobs[i].n = nw;
		jobs[i].first = i;
		jobs[i].step = nthreads;
		if (pthread_create(&th[i], NULL, load_mint_thread,
		    &jobs[i]) != 0)
			common_fatal("pthread_create failed");
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	free(th);
	free(jobs);
	free(w);
}

/* --- broken tokens, from eid-mint ---------------------------------------- */

/* eid-mint: --mint, $EID_MINT, or the one next to this program. */
static const char *
load_mint_path(const struct load_conf *c, char *buf, size_t len)
{
	const char	*env = getenv("EID_MINT");
	ssize_t		 n;
	char		*slash;

	if (c->mint != NULL)
		return c->mint;
	if (env != NULL && *env != '\0')
		return env;
	if ((n = readlink("/proc/self/exe", buf, len - 1)) > 0) {
		buf[n] = '\0';
		if ((slash = strrchr(buf, '/')) != NULL &&
		    (size_t)(slash - buf) + sizeof("/eid-mint") <= len) {
			strcpy(slash, "/eid-mint");
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return "eid-mint";
}

static bool
load_quote_ok(const char *s)
{
	return strchr(s, '\'') == NULL;
}

static bool
load_kind_wanted(const struct load_conf *c, const char *kind)
{
	const char	*p = c->broken_kinds;
	size_t		 n = strlen(kind);

	if (p == NULL)
		return strcmp(kind, "valid") != 0;
	while (*p != '\0') {
		if (strncmp(p, kind, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
		if ((p = strchr(p, ',')) == NULL)
			break;
		p++;
	}
	return false;
}

/*
 * The kinds and their verdicts as eid-mint --list-kinds prints them,
 * then a few tokens of each chosen kind.  Two kinds earn their verdict
 * only from a particular request (eid-mint.1): low-level asks for level
 * 2, nonce-mismatch expects "expected-nonce".
 */
static void
load_broken_open(struct load *l)
{
	const struct load_conf	*c = l->c;
	char			 buf[4096], cmd[8192], line[LOAD_LINE_MAX],
				*sp, *nl;
	const char		*mint;
	FILE			*fp;
	struct load_kind	*k;
	enum eid_alg		 algs[EID_ALG_EDDSA + 1], alg;
	size_t			 nalgs = 0, i, j, per, got, cap, len;
	int			 a, st;

	mint = load_mint_path(c, buf, sizeof(buf));
	if (!load_quote_ok(mint) || !load_quote_ok(c->certs))
		common_fatal("a path holds a single quote");
	snprintf(cmd, sizeof(cmd), "'%s' --list-kinds", mint);
	if ((fp = popen(cmd, "r")) == NULL)
		common_fatal("%s: %s", cmd, strerror(errno));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		if (!load_kind_wanted(c, line))
			continue;
		if (l->nkinds == LOAD_KINDS_MAX)
			common_fatal("eid-mint --list-kinds: too many kinds");
		k = &l->kinds[l->nkinds++];
		if ((len = strlen(line)) >= sizeof(k->name))
			common_fatal("eid-mint --list-kinds: kind \"%s\" is "
			    "too long", line);
		/* Copied by length: GCC cannot see the check and warns. */
		memcpy(k->name, line, len + 1);
		if ((nl = strchr(sp, ' ')) != NULL)
			*nl = '\0';
		if (!eid_verdict_from_name(sp, &k->want))
			common_fatal("eid-mint --list-kinds: unknown verdict "
			    "\"%s\"", sp);
		if (strcmp(k->name, "low-level") == 0)
			k->min_level = LOAD_LOW_LEVEL_MIN;
		if (strcmp(k->name, "nonce-mismatch") == 0)
			k->nonce = LOAD_NONCE_EXPECTED;
	}
	st = pclose(fp);
	if (st != 0 || l->nkinds == 0)
		common_fatal("%s: failed or no kind chosen (status %d); see "
		    "--mint and --broken-kinds", cmd, st);
	for (a = EID_ALG_ES256; a <= EID_ALG_EDDSA; a++)
		if (c->alg_weight[a] > 0)
			algs[nalgs++] = (enum eid_alg)a;

	for (i = 0; i < l->nkinds; i++) {
		k = &l->kinds[i];
		cap = (size_t)c->broken_pool;
		k->toks = load_calloc(cap, sizeof(*k->toks));
		for (j = 0; j < nalgs && k->ntoks < cap; j++) {
			alg = algs[j];
			/* s = n - s exists only for ECDSA. */
			if (strcmp(k->name, "malleated") == 0) {
				if (alg != EID_ALG_ES256 &&
				    alg != EID_ALG_ES384)
					alg = j == 0 ? EID_ALG_ES256 :
					    EID_ALG_NONE;
				if (alg == EID_ALG_NONE)
					continue;
			}
			per = (cap - k->ntoks + (nalgs - j) - 1) /
			    (nalgs - j);
			snprintf(cmd, sizeof(cmd), "'%s' --certs '%s' --alg %s "
			    "--kind %s --count %zu --aud '%s' --iss '%s' "
			    "--ttl %lld", mint, c->certs, eid_alg_name(alg),
			    k->name, per, c->aud, c->iss, c->ttl_s);
			if ((fp = popen(cmd, "r")) == NULL)
				common_fatal("%s: %s", cmd, strerror(errno));
			got = 0;
			while (k->ntoks < cap &&
			    fgets(line, sizeof(line), fp) != NULL) {
				line[strcspn(line, "\r\n")] = '\0';
				if (line[0] == '\0')
					continue;
				k->toks[k->ntoks++] = load_strdup(line);
				got++;
			}
			if ((st = pclose(fp)) != 0 || got == 0)
				common_fatal("%s: failed (status %d)", cmd, st);
		}
		if (k->ntoks == 0)
			common_fatal("no token of kind %s", k->name);
	}
}

/* --- token files ----------------------------------------------------------- */

static void
load_file_open(struct load *l)
{
	const struct load_conf	*c = l->c;
	FILE			*fp;
	char			*line = NULL, *sp;
	size_t			 cap = 0, n = 0, alloc = 0;
	ssize_t			 len;
	struct load_slot	*s, *ns;
	enum eid_verdict	 want;

	if (strcmp(c->tokens, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(c->tokens, "r")) == NULL)
		load_input_error("%s: %s", c->tokens, strerror(errno));
	l->file.tag = 'f';
	errno = 0;
	while ((len = getline(&line, &cap, fp)) != -1) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		want = c->expect;
		if ((sp = strchr(line, ' ')) != NULL) {
			*sp++ = '\0';
			while (*sp == ' ')
				sp++;
			if (strcmp(sp, "any") == 0)
				want = LOAD_WANT_ANY;
			else if (!eid_verdict_from_name(sp, &want))
				load_input_error("%s: line %zu: unknown "
				    "verdict \"%s\"", c->tokens, n + 1, sp);
		}
		if (n == alloc) {
			alloc = alloc == 0 ? 1024 : alloc * 2;
			if ((ns = realloc(l->file.slots, alloc *
			    sizeof(*ns))) == NULL)
				common_fatal("out of memory");
			l->file.slots = ns;
		}
		s = &l->file.slots[n++];
		memset(s, 0, sizeof(*s));
		s->tok = load_strdup(line);
		s->len = (uint32_t)strlen(line);
		s->want = (uint8_t)want;
		errno = 0;
	}
	/* getline() ends with -1 at the end and on an error (a directory). */
	if (ferror(fp))
		load_input_error("%s: %s", c->tokens, strerror(errno != 0 ?
		    errno : EIO));
	free(line);
	if (fp != stdin)
		fclose(fp);
	if (n == 0)
		load_input_error("%s: no token", c->tokens);
	l->file.n = n;
}

/* --- revocation before the run ------------------------------------------- */

static void
load_revoke(struct load *l)
{
	const struct load_conf	*c = l->c;
	struct eid_client_config cfg = c->cfg;
	struct eid_client	*cl;
	struct eid_revoke_req	*rq;
	uint64_t		*seqs;
	char			(*jti)[EID_JTI_MAX + 1], err[512];
	enum eid_client_err	 e;
	uint64_t		 i, done = 0;
	size_t			 n, bytes, item;

	cfg.cert = c->admin_cert;
	cfg.key = c->admin_key;
	if ((cl = eid_client_connect(&cfg, &e, err, sizeof(err))) == NULL)
		common_fatal("admin connection to %s: %s: %s", cfg.server,
		    eid_client_strerror(e), err);
	rq = load_calloc(LOAD_REVOKE_BATCH, sizeof(*rq));
	seqs = load_calloc(LOAD_REVOKE_BATCH, sizeof(*seqs));
	jti = load_calloc(LOAD_REVOKE_BATCH, sizeof(*jti));
	for (i = 0; i < l->revoked.n; i += n) {
		bytes = 0;
		for (n = 0; n < LOAD_REVOKE_BATCH && i + n < l->revoked.n;
		    n++) {
			load_jti(l, l->revoked.tag, i + n, jti[n],
			    sizeof(jti[n]));
			item = strlen(jti[n]) + strlen(c->iss) +
			    strlen(LOAD_REVOKE_REASON) + LOAD_REVOKE_ITEM;
			if (n > 0 && bytes + item > LOAD_REVOKE_FRAME)
				break;
			bytes += item;
			rq[n].kind = EID_REVOKE_TOKEN;
			rq[n].value = jti[n];
			rq[n].issuer = c->iss;
			rq[n].reason = LOAD_REVOKE_REASON;
			/* Forgotten by the store once every token expired. */
			rq[n].expires_at = l->iat + c->ttl_s + 3600;
		}
		if ((e = eid_client_revoke_batch(cl, rq, n, seqs)) !=
		    EID_CLIENT_OK)
			common_fatal("revoking: %s: %s", eid_client_strerror(e),
			    e == EID_CLIENT_ERR_SERVER ?
			    eid_client_server_error(cl)->message :
			    eid_client_last_error(cl));
		done += n;
	}
	eid_client_close(cl);
	free(rq);
	free(seqs);
	free(jti);
	if (!c->quiet)
		fprintf(stderr, "%s: revoked %" PRIu64 " tokens\n", LOAD_PROG,
		    done);
}

/* --- the request sequence -------------------------------------------------- */

static uint64_t
load_reuse_draw(const struct load *l, struct load_stream *s,
    const struct load_zipf *z, uint64_t n)
{
	switch (l->c->reuse) {
	case LOAD_REUSE_ZIPF:
		return load_zipf_draw(z, &s->rng);
	case LOAD_REUSE_UNIFORM:
		return load_rng_below(&s->rng, n);
	case LOAD_REUSE_DISTINCT:
		break;
	}
	return s->next++ * s->stride + s->offset;
}

static void
load_draw(struct load *l, struct load_stream *s, struct load_pick *p)
{
	const struct load_conf	*c = l->c;
	double			 u;

	memset(p, 0, sizeof(*p));
	p->warm = s->warm;
	if (c->tokens != NULL) {
		p->cls = LOAD_CLASS_FILE;
		p->idx = load_reuse_draw(l, s, &l->zfile, l->file.n) %
		    l->file.n;
		/*
		 * distinct: the measured sequence takes the lines from the
		 * first, the warm-up from the last, so neither resends the
		 * other's tokens unless the file is too short for both.
		 */
		if (c->reuse == LOAD_REUSE_DISTINCT && s->warm)
			p->idx = l->file.n - 1 - p->idx;
		return;
	}
	u = load_rng_u01(&s->rng);
	if (u < c->broken_share) {
		p->cls = LOAD_CLASS_BROKEN;
		p->kind = (size_t)load_rng_below(&s->rng, l->nkinds);
		p->idx = load_rng_below(&s->rng, l->kinds[p->kind].ntoks);
	} else if (u < c->broken_share + c->revoked_share) {
		p->cls = LOAD_CLASS_REVOKED;
		p->idx = c->reuse == LOAD_REUSE_ZIPF ?
		    load_zipf_draw(&l->zrevoked, &s->rng) :
		    load_rng_below(&s->rng, l->revoked.n);
	} else {
		p->cls = LOAD_CLASS_VALID;
		p->idx = load_reuse_draw(l, s, &l->zvalid, l->valid.n);
	}
}

/*
 * The token of a pick, its expected verdict and request fields.  *owned
 * is set when the caller must free the token after sending it (a
 * distinct token is used once).
 */
static const char *
load_token(struct load *l, const struct load_pick *p, size_t *len,
    char **owned, struct eid_verify_req *vr, enum eid_verdict *want)
{
	struct load_slot	*s;
	struct load_kind	*k;
	char			*t;
	uint64_t		 i;

	*owned = NULL;
	vr->min_level = 0;
	vr->nonce = NULL;
	switch (p->cls) {
	case LOAD_CLASS_BROKEN:
		k = &l->kinds[p->kind];
		vr->min_level = k->min_level;
		vr->nonce = k->nonce;
		*want = k->want;
		*len = strlen(k->toks[p->idx]);
		return k->toks[p->idx];
	case LOAD_CLASS_REVOKED:
		*want = EID_VERDICT_REVOKED;
		s = load_slot_get(l, &l->revoked, p->idx);
		*len = s->len;
		return s->tok;
	case LOAD_CLASS_FILE:
		s = &l->file.slots[p->idx];
		*want = (enum eid_verdict)s->want;
		*len = s->len;
		return s->tok;
	case LOAD_CLASS_VALID:
	case LOAD_CLASS_COUNT:
		break;
	}
	*want = EID_VERDICT_OK;
	if (l->c->reuse != LOAD_REUSE_DISTINCT) {
		s = load_slot_get(l, &l->valid, p->idx);
		*len = s->len;
		return s->tok;
	}
	/* The measured stream's ids: offset, offset + stride, ... */
	i = (p->idx - l->meas.offset) / l->meas.stride;
	if (!p->warm && i < l->distinct.n &&
	    l->distinct.slots[i].tok != NULL) {
		t = l->distinct.slots[i].tok;
		*len = l->distinct.slots[i].len;
		l->distinct.slots[i].tok = NULL;
	} else {
		t = load_mint(l, p->warm ? 'w' : 'd', p->idx, len);
		if (l->measuring)
			l->minted_in_run++;
	}
	*owned = t;
	return t;
}

/*
 * Refuse, before anything is sent, a --batch whose frames may pass the
 * 64 KiB a frame holds: every send of the run would fail.  The bound
 * takes the workload's longest token: of the file, or of the broken
 * kinds and of each algorithm of the mix minted with the longest jti.
 */
static void
load_batch_check(struct load *l)
{
	const struct load_conf	*c = l->c;
	size_t			 maxtok = 0, len, item, fit, i, j;
	char			*t;
	int			 a;

	if (c->tokens != NULL) {
		for (i = 0; i < l->file.n; i++)
			if (l->file.slots[i].len > maxtok)
				maxtok = l->file.slots[i].len;
	} else {
		for (a = EID_ALG_ES256; a <= EID_ALG_EDDSA; a++) {
			if (c->alg_weight[a] == 0)
				continue;
			t = load_mint_alg(l, (enum eid_alg)a, 'w', UINT64_MAX,
			    &len);
			free(t);
			if (len + LOAD_MINT_SLACK > maxtok)
				maxtok = len + LOAD_MINT_SLACK;
		}
		for (i = 0; i < l->nkinds; i++)
			for (j = 0; j < l->kinds[i].ntoks; j++)
				if ((len = strlen(l->kinds[i].toks[j])) >
				    maxtok)
					maxtok = len;
	}
	item = maxtok + strlen(c->aud) + strlen(LOAD_NONCE_EXPECTED) +
	    LOAD_ITEM_OVERHEAD;
	fit = (LOAD_FRAME_MAX - LOAD_FRAME_OVERHEAD) / item;
	if ((size_t)c->batch > fit)
		load_usage_error("--batch %lld: tokens of up to %zu bytes may "
		    "not fit the %d-byte frame; at most %zu per frame",
		    c->batch, maxtok, LOAD_FRAME_MAX, fit);
}

/* --- /proc and rusage ------------------------------------------------------ */

/* utime + stime of a process in clock ticks; -1 if unreadable. */
static long long
load_proc_ticks(long long pid)
{
	char		 path[64], buf[2048], *p;
	FILE		*fp;
	size_t		 n;
	unsigned long long ut, st;
	int		 field;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip past it. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	/* Fields 3 .. 13 precede utime (14) and stime (15). */
	for (field = 3; field <= 14; field++) {
		while (*p == ' ')
			p++;
		if (field == 14)
			break;
		while (*p != ' ' && *p != '\0')
			p++;
	}
	if (sscanf(p, "%llu %llu", &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

/*
 * The daemon's CPU seconds so far, all its threads; -1 if unreadable.
 * Its CPU-time clock counts nanoseconds; /proc/PID/stat counts ticks of
 * 10 ms, which over a cold RS256 run of 0.35 CPU s is 3 % either way, so
 * the ticks serve only where the clock cannot be read.
 */
static double
load_srv_cpu_now(long long pid)
{
	struct timespec	 ts;
	clockid_t	 clk;
	long long	 t;
	long		 hz;

	if (clock_getcpuclockid((pid_t)pid, &clk) == 0 &&
	    clock_gettime(clk, &ts) == 0)
		return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if ((t = load_proc_ticks(pid)) < 0 || (hz = sysconf(_SC_CLK_TCK)) <= 0)
		return -1;
	return (double)t / (double)hz;
}

static double
load_self_cpu(void)
{
	struct rusage	 ru;

	/* The event loop's thread: not --raw-cpu's, nor the minting ones. */
	if (getrusage(RUSAGE_THREAD, &ru) == -1)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* --- the run ---------------------------------------------------------------- */

static struct load_req *
load_req_get(struct load *l)
{
	struct load_req	*q = l->free_reqs;

	if (q != NULL)
		l->free_reqs = q->next;
	return q;
}

static void
load_req_put(struct load *l, struct load_req *q)
{
	q->next = l->free_reqs;
	l->free_reqs = q;
}

static void
load_measure_begin(struct load *l, uint64_t t)
{
	if (l->measuring || l->finished)
		return;
	l->measuring = true;
	if (l->raw != NULL)
		atomic_store(&l->raw->state, LOAD_RAW_MEASURE);
	/*
	 * The window opens at t: now, or in the open loop the intended
	 * time of the first measured request, so that a generator or daemon
	 * running behind its schedule cannot shorten the window and report
	 * a rate above the one asked for.
	 */
	l->t_start = t;
	l->cli_cpu0 = load_self_cpu();
	if (l->c->server_pid > 0)
		l->srv_cpu0 = load_srv_cpu_now(l->c->server_pid);
	l->st_ok = procstat_read(&l->st0) == 0;
	if (l->c->duration_s > 0 && l->c->rate == 0 && l->stop_ev != NULL) {
		struct timeval tv = load_tv((uint64_t)(l->c->duration_s *
		    1e9));

		evtimer_add(l->stop_ev, &tv);
	}
}

static void
load_stop(struct load *l)
{
	l->stopping = true;
	if (l->c->rate > 0 && l->sched_total > l->sched_k)
		l->sched_total = l->sched_k;
	load_finish_maybe(l);
}

static void
load_finish_maybe(struct load *l)
{
	size_t	 i, alive = 0;
	bool	 last;

	if (l->finished || !l->running)
		return;
	for (i = 0; i < l->nload; i++)
		if (!l->conns[i].dead)
			alive++;
	if (l->inflight > 0 || (!l->stopping && alive > 0))
		return;
	l->finished = true;
	/* The yardstick stops with the last generator's window. */
	last = l->sh == NULL ||
	    atomic_fetch_add(&l->sh->finished, 1) + 1 == l->sh->n;
	if (l->raw != NULL && last)
		atomic_store(&l->raw->state, LOAD_RAW_STOP);
	load_window_end(l);
	event_base_loopexit(l->base, NULL);
}

/*
 * The window closes now: the readings at its end, and at its start too
 * if it never opened (an empty window).
 */
static void
load_window_end(struct load *l)
{
	l->t_end = load_now();
	if (!l->measuring) {
		l->t_start = l->t_end;
		l->cli_cpu0 = load_self_cpu();
		if (l->c->server_pid > 0)
			l->srv_cpu0 = load_srv_cpu_now(l->c->server_pid);
		l->st_ok = procstat_read(&l->st0) == 0;
	}
	l->cli_cpu1 = load_self_cpu();
	if (l->c->server_pid > 0)
		l->srv_cpu1 = load_srv_cpu_now(l->c->server_pid);
	if (l->st_ok)
		l->st_ok = procstat_read(&l->st1) == 0;
}

static void
load_sample(struct load *l, const struct load_item *q, enum eid_verdict got)
{
	struct load_sample	*s;
	char			 what[sizeof(s->what)];

	if (l->nsamples == LOAD_SAMPLES_MAX)
		return;
	s = &l->samples[l->nsamples++];
	/* Through a local buffer: both live in *l, as far as GCC knows. */
	if (q->cls == LOAD_CLASS_BROKEN)
		snprintf(what, sizeof(what), "broken:%s",
		    l->kinds[q->kind].name);
	else
		snprintf(what, sizeof(what), "%s", load_class_names[q->cls]);
	memcpy(s->what, what, sizeof(s->what));
	s->want = q->want;
	s->got = got;
}

/* One token's answer, or its share of a frame that failed. */
static void
load_account_item(struct load *l, struct load_counts *k,
    const struct load_item *q, enum eid_client_err err,
    const struct eid_verify_res *res, const struct eid_server_error *serr)
{
	k->done++;
	if (err == EID_CLIENT_OK && (unsigned int)res->verdict >=
	    EID_VERDICT_COUNT)
		err = EID_CLIENT_ERR_PROTOCOL;
	if (err == EID_CLIENT_OK) {
		k->answers++;
		k->verdicts[res->verdict]++;
		k->classes[q->cls]++;
		if (q->cls == LOAD_CLASS_BROKEN)
			k->kinds[q->kind]++;
		if (res->cached)
			k->cached++;
		if (q->want != LOAD_WANT_ANY) {
			k->expected[q->want]++;
			if (res->verdict != q->want) {
				k->mismatches++;
				k->errors++;
				load_sample(l, q, res->verdict);
			}
		}
	} else if (err == EID_CLIENT_ERR_SERVER) {
		k->errors++;
		k->server_err[(unsigned int)serr->code <=
		    EID_SERVER_INTERNAL ? serr->code : 0]++;
	} else {
		k->errors++;
		k->client_err[(unsigned int)err <= EID_CLIENT_ERR_SERVER ?
		    err : 0]++;
	}
}

/*
 * A frame's answer: each token checked against its own expectation (res
 * holds q->n results when err is OK), one latency for the frame.  A
 * failed frame counts each of its tokens as failed.
 */
static void
load_account(struct load *l, const struct load_req *q,
    enum eid_client_err err, const struct eid_verify_res *res,
    const struct eid_server_error *serr, uint64_t now)
{
	struct load_counts	*k = q->measured ? &l->m : &l->w;
	uint64_t		 lat = now > q->t_ns ? now - q->t_ns : 0,
				 errors = k->errors, mism = k->mismatches;
	size_t			 i;
	bool			 timed;

	k->frames++;
	for (i = 0; i < q->n; i++)
		load_account_item(l, k, &q->items[i], err,
		    err == EID_CLIENT_OK ? &res[i] : NULL, serr);
	timed = err == EID_CLIENT_OK || err == EID_CLIENT_ERR_SERVER;
	/* A generator answers only after it began: load_begin(). */
	(void)tl_record(l->tlw, now, q->n, q->measured, k->errors - errors,
	    k->mismatches - mism, timed, lat);
	if (timed)
		hist_record(q->measured ? l->lat : l->lat_warm, lat);
}

static void
load_conn_dead(struct load_conn *c)
{
	c->dead = true;
	if (c->inflight == 0 && c->ac != NULL) {
		/* Deferred by the library when called from its callback. */
		eid_aclient_free(c->ac);
		c->ac = NULL;
	}
}

static void	 load_ready_cb(struct eid_aclient *, enum eid_client_err,
		    const char *, void *);

/*
 * --reconnect: c has sent its frames and has every answer.  Close it and
 * start a new connection in its place, as a client that connects per
 * request or per session does; it takes requests again once its
 * handshake is done (load_ready_cb).  Requests due meanwhile go to the
 * other connections or wait, and in the open loop their latency counts
 * that wait.
 */
static void
load_conn_reopen(struct load_conn *c)
{
	struct load	*l = c->l;
	char		 err[512];

	/* Deferred by the library when called from its callback. */
	eid_aclient_free(c->ac);
	c->ready = false;
	c->reopening = true;
	c->sent = 0;
	c->t_connect = load_now();
	if ((c->ac = eid_aclient_new_tls(l->base, &l->c->cfg, l->c->tls,
	    load_ready_cb, c, err, sizeof(err))) == NULL)
		common_fatal("connection to %s: %s", l->c->cfg.server, err);
}

/* The answer to a frame of q->n tokens (res: q->n results when OK). */
static void
load_answer(struct load_req *q, enum eid_client_err err,
    const struct eid_verify_res *res, const struct eid_server_error *serr)
{
	struct load_conn	*c = q->conn;
	struct load		*l = c->l;
	uint64_t		 now = load_now();

	c->inflight--;
	l->inflight--;
	if (l->measuring)
		l->window_done += q->n;
	load_account(l, q, err, res, serr, now);
	load_req_put(l, q);
	if (l->sh != NULL)
		load_publish(l, false);
	if (err != EID_CLIENT_OK && err != EID_CLIENT_ERR_SERVER) {
		if (!c->dead && !l->c->quiet)
			fprintf(stderr, "%s: connection %d failed: %s\n",
			    LOAD_PROG, c->id, eid_client_strerror(err));
		load_conn_dead(c);
	}
	if (l->c->reconnect > 0 && !c->dead && c->inflight == 0 &&
	    c->sent >= (uint64_t)l->c->reconnect && !l->stopping &&
	    !l->finished)
		load_conn_reopen(c);
	if (!l->finished)
		load_send_ready(l);
	if (c->dead && c->inflight == 0 && c->ac != NULL)
		load_conn_dead(c);
	load_finish_maybe(l);
}

static void
load_verify_cb(struct eid_aclient *ac, enum eid_client_err err,
    const struct eid_verify_res *res, const struct eid_server_error *serr,
    void *arg)
{
	(void)ac;
	load_answer(arg, err, res, serr);
}

static void
load_batch_cb(struct eid_aclient *ac, enum eid_client_err err,
    const struct eid_verify_res *res, size_t n,
    const struct eid_server_error *serr, void *arg)
{
	struct load_req	*q = arg;

	(void)ac;
	/* The library hands back the n queued; a mismatch would be a bug. */
	if (n != q->n)
		common_fatal("batch of %zu answered as %zu (a bug)", q->n, n);
	load_answer(q, err, res, serr);
}

/*
 * Send one request frame of n (1..batch) tokens on c, intended at t
 * (closed loop: now): a Verify with --batch 1, else a VerifyBatch, even
 * of one token (the last frame of --requests).
 */
static void
load_send(struct load *l, struct load_conn *c, uint64_t t, bool measured,
    size_t n)
{
	struct eid_verify_req	*vr = l->vr;
	struct load_counts	*k = measured ? &l->m : &l->w;
	struct load_pick	 p;
	struct load_req		*q;
	size_t			 i, len;
	int			 rc;

	if ((q = load_req_get(l)) == NULL)
		common_fatal("request table exhausted (a bug)");
	for (i = 0; i < n; i++) {
		load_draw(l, measured ? &l->meas : &l->warm, &p);
		memset(&vr[i], 0, sizeof(vr[i]));
		vr[i].token = load_token(l, &p, &len, &l->owned[i], &vr[i],
		    &q->items[i].want);
		vr[i].token_len = len;
		vr[i].audience = l->c->aud;
		q->items[i].cls = p.cls;
		q->items[i].kind = p.kind;
	}
	q->n = n;
	q->conn = c;
	q->t_ns = l->c->rate > 0 ? t : load_now();
	q->measured = measured;
	if (measured)
		l->sent_measured += n;
	if (l->c->batch == 1)
		rc = eid_aclient_verify(c->ac, vr, load_verify_cb, q);
	else
		rc = eid_aclient_verify_batch(c->ac, vr, n, load_batch_cb, q);
	if (rc != 0) {
		k->send_failed += n;
		k->errors += n;
		k->done += n;
		k->frames++;
		(void)tl_record(l->tlw, load_now(), n, measured, n, 0, false,
		    0);
		load_req_put(l, q);
		load_conn_dead(c);
	} else {
		c->inflight++;
		c->sent++;
		l->inflight++;
	}
	/* Encoded before the call returned: a distinct token is done. */
	for (i = 0; i < n; i++) {
		free(l->owned[i]);
		l->owned[i] = NULL;
	}
}

/* Closed loop: may another request go out? */
static bool
load_closed_more(struct load *l)
{
	if (l->stopping || l->finished)
		return false;
	if (l->measuring && l->c->requests > 0 &&
	    l->sent_measured >= (uint64_t)l->c->requests) {
		l->stopping = true;
		return false;
	}
	return true;
}

static struct load_conn *
load_conn_with_room(struct load *l)
{
	struct load_conn	*c;
	size_t			 i;

	for (i = 0; i < l->nload; i++) {
		c = &l->conns[(l->rr + i) % l->nload];
		if (c->ready && !c->dead &&
		    c->inflight < (size_t)l->c->pipeline &&
		    (l->c->reconnect == 0 ||
		    c->sent < (uint64_t)l->c->reconnect)) {
			l->rr = (l->rr + i + 1) % l->nload;
			return c;
		}
	}
	return NULL;
}

/*
 * Open loop: send every request whose intended time has come, as long
 * as a connection has room; the others wait, and their latency still
 * counts from the intended time.  The schedule counts tokens: a frame
 * of n tokens is due at its first token's time and moves the schedule
 * on by n, so frames go out at rate / batch per second.
 */
static void
load_dispatch(struct load *l)
{
	struct load_conn	*c;
	struct timeval		 tv;
	uint64_t		 now = load_now(), t, end;
	size_t			 n;
	bool			 measured;

	while (l->sched_k < l->sched_total && !l->finished) {
		t = l->t0 + (uint64_t)((double)l->sched_k * l->interval_ns);
		if (t > now) {
			tv = load_tv(t - now);
			evtimer_add(l->send_ev, &tv);
			break;
		}
		if ((c = load_conn_with_room(l)) == NULL)
			break;
		/* A frame never straddles the end of the warm-up. */
		measured = l->sched_k >= l->sched_warm;
		end = measured ? l->sched_total : l->sched_warm;
		n = end - l->sched_k < (uint64_t)l->c->batch ?
		    (size_t)(end - l->sched_k) : (size_t)l->c->batch;
		if (measured)
			load_measure_begin(l, t);
		load_send(l, c, t, measured, n);
		l->sched_k += n;
	}
	if (l->sched_k >= l->sched_total)
		l->stopping = true;
}

static void
load_send_ready(struct load *l)
{
	struct load_conn	*c;
	size_t			 n;

	if (!l->running || l->finished)
		return;
	if (l->c->rate > 0) {
		load_dispatch(l);
		return;
	}
	while (load_closed_more(l) && (c = load_conn_with_room(l)) != NULL) {
		/* The last frame of --requests carries what is left. */
		n = (size_t)l->c->batch;
		if (l->measuring && l->c->requests > 0 &&
		    (uint64_t)l->c->requests - l->sent_measured < n)
			n = (size_t)((uint64_t)l->c->requests -
			    l->sent_measured);
		load_send(l, c, 0, l->measuring, n);
	}
}

static void
load_send_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	load_dispatch(arg);
	load_finish_maybe(arg);
}

static void
load_start_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	load_measure_begin(arg, load_now());
}

static void
load_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	load_stop(arg);
}

static void
load_sig_cb(evutil_socket_t fd, short what, void *arg)
{
	struct load	*l = arg;

	(void)fd;
	(void)what;
	if (l->interrupted || !l->running) {
		event_base_loopbreak(l->base);
		return;
	}
	l->interrupted = true;
	fprintf(stderr, "%s: interrupted: draining (again to quit)\n",
	    LOAD_PROG);
	load_stop(l);
}

/*
 * --threads: what the main thread's progress line shows of this
 * generator; p99 (a histogram walk) only at its tick, the rest at every
 * answer.
 */
static void
load_publish(struct load *l, bool p99)
{
	struct load_pub		*p = &l->sh->pub[l->gen];
	const struct load_counts *k = l->measuring ? &l->m : &l->w;

	atomic_store_explicit(&p->done, l->m.done + l->w.done,
	    memory_order_relaxed);
	atomic_store_explicit(&p->errors, k->errors, memory_order_relaxed);
	atomic_store_explicit(&p->mismatches, k->mismatches,
	    memory_order_relaxed);
	atomic_store_explicit(&p->inflight, l->inflight,
	    memory_order_relaxed);
	atomic_store_explicit(&p->measuring, l->measuring,
	    memory_order_relaxed);
	if (p99)
		atomic_store_explicit(&p->p99_ns, hist_value_at(l->measuring ?
		    l->lat : l->lat_warm, 99.0), memory_order_relaxed);
}

static void
load_progress(const char *phase, double t, double rate, uint64_t errors,
    uint64_t mismatches, uint64_t p99_ns, uint64_t inflight)
{
	fprintf(stderr, "%s: [%5.1fs] %-7s %9.0f req/s  errors %" PRIu64
	    "  mismatches %" PRIu64 "  p99 so far %.3f ms  in flight %" PRIu64
	    "\n", LOAD_PROG, t, phase, rate, errors, mismatches,
	    (double)p99_ns / 1e6, inflight);
}

/*
 * Every second, the progress line; a generator's (--threads) every
 * 100 ms: its figures for the main thread's line, and the main thread's
 * word after an interrupt.
 */
static void
load_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct load		*l = arg;
	const struct load_counts *k = l->measuring ? &l->m : &l->w;
	uint64_t		 now = load_now(), done = l->m.done + l->w.done;
	double			 dt = (double)(now - l->last_tick) / 1e9;

	(void)fd;
	(void)what;
	/* The seconds this generator has left, though it answered nothing. */
	(void)tl_tick(l->tlw, now);
	if (l->sh != NULL) {
		if (atomic_load(&l->sh->quit)) {
			event_base_loopbreak(l->base);
			return;
		}
		if (atomic_load(&l->sh->stop) && !l->interrupted) {
			l->interrupted = true;
			load_stop(l);
		}
		load_publish(l, true);
		return;
	}
	if (!l->c->quiet)
		load_progress(l->measuring ? "run" : "warm-up",
		    (double)(now - l->t0) / 1e9,
		    dt > 0 ? (double)(done - l->last_done) / dt : 0.0,
		    k->errors, k->mismatches, hist_value_at(l->measuring ?
		    l->lat : l->lat_warm, 99.0), l->inflight);
	l->last_done = done;
	l->last_tick = now;
}

/* Every connection answered the handshake: the clock starts. */
static void
load_begin(struct load *l)
{
	struct timeval	 tv;
	size_t		 i, alive = 0;

	for (i = 0; i < l->nload; i++)
		if (!l->conns[i].dead)
			alive++;
	/* A generator without one would drop its share of the load. */
	if (alive == 0)
		common_fatal("no connection to %s could be made%s",
		    l->c->cfg.server, l->sh != NULL ? " by one of the threads" :
		    "");
	if (l->nfailed > 0)
		fprintf(stderr, "%s: %zu of %zu connections failed\n",
		    LOAD_PROG, l->nfailed, l->nconns);
	/*
	 * Generators start together, each when all of them connected.  The
	 * wait is inside a libevent callback: the loop's cached time, which
	 * every timer added below counts from, is then stale.
	 */
	if (l->sh != NULL) {
		pthread_barrier_wait(&l->sh->begin);
		event_base_update_cache_time(l->base);
		atomic_fetch_add(&l->sh->begun, 1);
	}
	l->running = true;
	l->t0 = l->last_tick = load_now();
	(void)tl_begin(l->tlw, l->t0);
	/* Generators: a watch for the main thread's word, 10 times a second. */
	tv.tv_sec = l->sh != NULL ? 0 : 1;
	tv.tv_usec = l->sh != NULL ? 100000 : 0;
	evtimer_add(l->tick_ev, &tv);
	if (l->c->rate > 0) {
		l->interval_ns = 1e9 / l->c->rate;
		/* Each at rate / N, its requests between the others'. */
		if (l->sh != NULL)
			l->t0 += (uint64_t)(l->interval_ns * (double)l->gen /
			    (double)l->sh->n);
		load_open_counts(l, &l->sched_warm, &l->sched_total);
		l->sched_total += l->sched_warm;
		if (l->sched_warm == 0 && l->sched_total > 0)
			load_measure_begin(l, l->t0);
		load_dispatch(l);
	} else {
		if (l->c->warmup_s > 0) {
			tv = load_tv((uint64_t)(l->c->warmup_s * 1e9));
			evtimer_add(l->start_ev, &tv);
		} else
			load_measure_begin(l, load_now());
		load_send_ready(l);
	}
	/*
	 * Every first send may have failed (a token the client cannot
	 * encode): no answer will come to end the run.
	 */
	load_finish_maybe(l);
}

/*
 * A connection --reconnect remade is up, or failed: its handshake, from
 * the start of the TCP connect, counts in the window's figures if the
 * window is open.  A failure is an error of the run, as at the start.
 */
static void
load_reopened(struct load_conn *c, enum eid_client_err err,
    const char *reason)
{
	struct load		*l = c->l;
	struct load_counts	*k = l->measuring ? &l->m : &l->w;

	c->reopening = false;
	/* Done in the loop pass that ended the run: after the window. */
	if (l->finished)
		return;
	if (err != EID_CLIENT_OK) {
		if (k->handshake_failures == 0 || !l->c->quiet)
			fprintf(stderr, "%s: connection %d, made again: %s: "
			    "%s\n", LOAD_PROG, c->id,
			    eid_client_strerror(err),
			    reason != NULL ? reason : "");
		k->handshake_failures++;
		l->nfailed++;
		c->dead = true;
		/* Deferred by the library inside its callback. */
		eid_aclient_free(c->ac);
		c->ac = NULL;
		load_finish_maybe(l);
		return;
	}
	k->handshakes++;
	if (l->measuring)
		hist_record(l->hs, load_now() - c->t_connect);
	c->ready = true;
	load_send_ready(l);
	load_finish_maybe(l);
}

static void
load_ready_cb(struct eid_aclient *ac, enum eid_client_err err,
    const char *reason, void *arg)
{
	struct load_conn	*c = arg;
	struct load		*l = c->l;

	(void)ac;
	if (c->reopening) {
		load_reopened(c, err, reason);
		return;
	}
	if (err != EID_CLIENT_OK) {
		if (l->nfailed == 0 || !l->c->quiet)
			fprintf(stderr, "%s: connection %d: %s: %s\n",
			    LOAD_PROG, c->id, eid_client_strerror(err),
			    reason != NULL ? reason : "");
		l->nfailed++;
		c->dead = true;
		if (c->inflight == 0) {
			eid_aclient_free(c->ac);
			c->ac = NULL;
		}
	} else {
		c->ready = true;
		l->nready++;
	}
	if (!l->running && l->nready + l->nfailed == l->nconns)
		load_begin(l);
	else if (l->running)
		load_finish_maybe(l);
}

/* Allow the connections the run needs: the soft limit up to the hard. */
static void
load_raise_nofile(size_t need)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= need + 64)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >=
	    need + 64 ? (rlim_t)(need + 64) : rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

static int64_t
load_thread_cpu_ns(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *
load_raw_main(void *arg)
{
	struct load_raw	*rw = arg;
	int64_t		 t0, t1;
	int		 st, i;

	while ((st = atomic_load(&rw->state)) != LOAD_RAW_STOP) {
		t0 = load_thread_cpu_ns();
		for (i = 0; i < LOAD_RAW_BATCH; i++)
			if (raw_verify(&rw->r) != 0) {
				rw->failed = true;
				return NULL;
			}
		t1 = load_thread_cpu_ns();
		if (st == LOAD_RAW_MEASURE &&
		    atomic_load(&rw->state) == LOAD_RAW_MEASURE) {
			rw->verifies += LOAD_RAW_BATCH;
			rw->cpu_ns += t1 - t0;
		}
	}
	return NULL;
}

/* Sign the yardstick's token and start its thread on --raw-cpu's CPU. */
static void
load_raw_start(struct load *l)
{
	struct load_raw	*rw;
	pthread_attr_t	 attr;
	cpu_set_t	 set;
	EVP_PKEY	*priv;
	char		 path[4096];
	enum eid_alg	 alg = load_mix_alg(l->c);
	int		 rc;

	rw = load_calloc(1, sizeof(*rw));
	common_path(path, sizeof(path), l->c->certs, common_devkey_base(alg),
	    ".key");
	priv = common_key_read(path);
	raw_init(&rw->r, alg, priv, path, (int64_t)time(NULL));
	EVP_PKEY_free(priv);
	if (raw_verify(&rw->r) != 0)
		common_fatal("--raw-cpu: OpenSSL does not verify the %s token "
		    "it was given", eid_alg_name(alg));
	atomic_init(&rw->state, LOAD_RAW_WAIT);
	CPU_ZERO(&set);
	CPU_SET((int)l->c->raw_cpu, &set);
	if ((rc = pthread_attr_init(&attr)) != 0 ||
	    (rc = pthread_attr_setaffinity_np(&attr, sizeof(set), &set)) != 0 ||
	    (rc = pthread_create(&rw->th, &attr, load_raw_main, rw)) != 0)
		common_fatal("--raw-cpu %lld: %s", l->c->raw_cpu,
		    strerror(rc));
	pthread_attr_destroy(&attr);
	l->raw = rw;
}

static void
load_raw_stop(struct load *l)
{
	if (l->raw == NULL)
		return;
	atomic_store(&l->raw->state, LOAD_RAW_STOP);
	pthread_join(l->raw->th, NULL);
	if (l->raw->failed)
		common_fatal("--raw-cpu: OpenSSL's verify stopped returning 1");
}

/* CPU microseconds per raw verify in the window; -1 if none was counted. */
static double
load_raw_us(const struct load *l)
{
	if (l->raw == NULL || l->raw->verifies == 0)
		return -1;
	return (double)l->raw->cpu_ns / 1e3 / (double)l->raw->verifies;
}

/*
 * The event loop; -1 if it failed.  With --busy-poll it never blocks in
 * epoll_wait: on loopback, the daemon's write that answers a sleeping
 * generator also pays for waking it (on a VM without guest halt polling,
 * an inter-processor interrupt through the hypervisor), a cost that a
 * generator on another machine would not put on the daemon.  Only for a
 * generator with CPUs of its own, since it keeps one busy.
 */
static int
load_loop(struct load *l)
{
	int	 rc;

	if (!l->c->busy_poll)
		return event_base_dispatch(l->base);
	for (;;) {
		/*
		 * 1: no events left; -1: an error.  Until every connection
		 * is up it waits: spinning through the handshakes would only
		 * take CPU from a daemon on the same machine, and count
		 * outside the window.
		 */
		if ((rc = event_base_loop(l->base, l->running ?
		    EVLOOP_NONBLOCK : EVLOOP_ONCE)) != 0)
			return rc == 1 ? 0 : -1;
		if (event_base_got_exit(l->base) ||
		    event_base_got_break(l->base))
			return 0;
	}
}

static void
load_run(struct load *l)
{
	struct event_config	*ec;
	struct load_conn	*c;
	char			 err[512];
	size_t			 i, nreqs;

	if ((ec = event_config_new()) == NULL)
		common_fatal("out of memory");
	/* timerfd: open-loop sends at their time, not at the next ms. */
	event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	if ((l->base = event_base_new_with_config(ec)) == NULL)
		common_fatal("event_base_new failed");
	event_config_free(ec);
	if ((l->tick_ev = event_new(l->base, -1, EV_PERSIST, load_tick_cb,
	    l)) == NULL ||
	    (l->send_ev = evtimer_new(l->base, load_send_cb, l)) == NULL ||
	    (l->start_ev = evtimer_new(l->base, load_start_cb, l)) == NULL ||
	    (l->stop_ev = evtimer_new(l->base, load_stop_cb, l)) == NULL ||
	    (l->sig_ev = evsignal_new(l->base, SIGINT, load_sig_cb,
	    l)) == NULL)
		common_fatal("cannot make events");
	/* Generators leave SIGINT to the main thread: load_gens_wait(). */
	if (l->sh == NULL && evsignal_add(l->sig_ev, NULL) == -1)
		common_fatal("cannot make events");

	l->nload = (size_t)l->c->conns;
	l->nconns = l->nload + (size_t)l->c->idle;
	load_raise_nofile(l->nconns);
	l->conns = load_calloc(l->nconns, sizeof(*l->conns));
	nreqs = l->nload * (size_t)l->c->pipeline;
	l->reqs = load_calloc(nreqs, sizeof(*l->reqs));
	if (nreqs > SIZE_MAX / (size_t)l->c->batch)
		common_fatal("out of memory");
	l->items = load_calloc(nreqs * (size_t)l->c->batch,
	    sizeof(*l->items));
	l->vr = load_calloc((size_t)l->c->batch, sizeof(*l->vr));
	l->owned = load_calloc((size_t)l->c->batch, sizeof(*l->owned));
	for (i = 0; i < nreqs; i++) {
		l->reqs[i].items = &l->items[i * (size_t)l->c->batch];
		load_req_put(l, &l->reqs[i]);
	}
	for (i = 0; i < l->nconns; i++) {
		c = &l->conns[i];
		c->l = l;
		c->id = (int)(l->conn_base + i);
		c->idle = i >= l->nload;
		c->t_connect = load_now();
		if ((c->ac = eid_aclient_new_tls(l->base, &l->c->cfg,
		    l->c->tls, load_ready_cb, c, err, sizeof(err))) == NULL)
			common_fatal("connection to %s: %s", l->c->cfg.server,
			    err);
	}
	if ((l->tlw = tl_writer_new(l->tl, l->gen)) == NULL)
		common_fatal("out of memory");
	if (l->c->raw_cpu >= 0)
		load_raw_start(l);
	if (load_loop(l) == -1)
		common_fatal("event loop failed");
	tl_writer_done(l->tlw);
	l->tlw = NULL;
	if (l->sh == NULL)		/* generators: load_gens_run's */
		load_raw_stop(l);
	if (!l->finished) {
		/* A second interrupt: report what was measured so far. */
		load_window_end(l);
	}
	for (i = 0; i < l->nconns; i++)
		if (l->conns[i].ac != NULL)
			eid_aclient_free(l->conns[i].ac);
	event_free(l->tick_ev);
	event_free(l->send_ev);
	event_free(l->start_ev);
	event_free(l->stop_ev);
	event_free(l->sig_ev);
	event_base_free(l->base);
}

/* --- generator threads (--threads) ---------------------------------------- */

/* Generator i's share of a total split n ways. */
static long long
load_share(long long total, size_t n, size_t i)
{
	return total / (long long)n + ((long long)i < total % (long long)n);
}

/*
 * Make the generators: each gets its share of the connections, idle
 * connections, requests and rate, request streams of its own (seeded
 * from --seed and its number), and every n-th distinct id or file line,
 * so that no two send the same token of a distinct workload.  Then each
 * mints ahead what its streams will send.
 */
static void
load_gens_prepare(struct load *l)
{
	struct load_shared	*sh;
	struct load_conf	*gc;
	struct load		*g;
	size_t			 n = (size_t)l->c->gens, i;

	sh = load_calloc(1, sizeof(*sh));
	sh->n = n;
	sh->c = l->c;
	if (pthread_mutex_init(&sh->mint_mtx, NULL) != 0 ||
	    pthread_barrier_init(&sh->begin, NULL, (unsigned int)n) != 0)
		common_fatal("cannot make the generators' locks");
	if ((sh->pub = aligned_alloc(_Alignof(struct load_pub),
	    n * sizeof(*sh->pub))) == NULL)
		common_fatal("out of memory");
	memset(sh->pub, 0, n * sizeof(*sh->pub));
	gc = load_calloc(n, sizeof(*gc));
	g = load_calloc(n, sizeof(*g));
	for (i = 0; i < n; i++) {
		gc[i] = *l->c;
		gc[i].conns = load_share(l->c->conns, n, i);
		gc[i].idle = load_share(l->c->idle, n, i);
		if (l->c->requests > 0)
			gc[i].requests = load_share(l->c->requests, n, i);
		if (l->c->premint > 0)
			gc[i].premint = load_share(l->c->premint, n, i);
		gc[i].rate = l->c->rate / (double)n;
		gc[i].raw_cpu = -1;		/* one yardstick: l's */
		g[i] = *l;			/* the workload, shared */
		g[i].c = &gc[i];
		g[i].sh = sh;
		g[i].gen = i;
		g[i].conn_base = i == 0 ? 0 : g[i - 1].conn_base +
		    (size_t)(gc[i - 1].conns + gc[i - 1].idle);
		memset(&g[i].distinct, 0, sizeof(g[i].distinct));
		memset(&g[i].meas, 0, sizeof(g[i].meas));
		memset(&g[i].warm, 0, sizeof(g[i].warm));
		load_rng_init(&g[i].meas.rng, l->c->seed, 2 * i + 1);
		load_rng_init(&g[i].warm.rng, l->c->seed, 2 * i + 2);
		g[i].meas.stride = g[i].warm.stride = n;
		g[i].meas.offset = g[i].warm.offset = i;
		g[i].warm.warm = true;
		g[i].premint = 0;
		if ((g[i].lat = hist_new()) == NULL ||
		    (g[i].lat_warm = hist_new()) == NULL ||
		    (g[i].hs = hist_new()) == NULL)
			common_fatal("out of memory");
		load_premint_auto(&g[i]);
		l->premint += g[i].premint;
	}
	sh->gens = g;
	l->sh = sh;
}

static void *
load_gen_main(void *arg)
{
	struct load	*g = arg;

	load_run(g);
	atomic_fetch_add(&g->sh->exited, 1);
	return NULL;
}

/*
 * The main thread while the generators run: it takes SIGINT, blocked in
 * every thread (first: drain, second: quit, both passed on through
 * sh; while connecting: leave), and prints the progress line from what
 * the generators publish, with the largest of their p99s.
 */
static void
load_gens_wait(struct load *l, const sigset_t *set)
{
	struct load_shared	*sh = l->sh;
	const struct timespec	 ts = { 0, 100000000 };
	struct load_pub		*p;
	uint64_t		 t0 = 0, last = 0, now, done, last_done = 0,
				 errors, mism, p99, inflight;
	bool			 measuring;
	int			 interrupts = 0;
	size_t			 i;

	while (atomic_load(&sh->exited) < sh->n) {
		if (sigtimedwait(set, NULL, &ts) == SIGINT) {
			if (atomic_load(&sh->begun) < sh->n)
				common_fatal("interrupted while connecting");
			if (interrupts++ == 0) {
				fprintf(stderr, "%s: interrupted: draining "
				    "(again to quit)\n", LOAD_PROG);
				atomic_store(&sh->stop, true);
			} else
				atomic_store(&sh->quit, true);
		}
		if (atomic_load(&sh->begun) < sh->n)
			continue;
		now = load_now();
		if (t0 == 0)
			t0 = last = now;
		if (now - last < 1000000000 || l->c->quiet)
			continue;
		done = errors = mism = p99 = inflight = 0;
		measuring = false;
		for (i = 0; i < sh->n; i++) {
			p = &sh->pub[i];
			done += atomic_load_explicit(&p->done,
			    memory_order_relaxed);
			errors += atomic_load_explicit(&p->errors,
			    memory_order_relaxed);
			mism += atomic_load_explicit(&p->mismatches,
			    memory_order_relaxed);
			inflight += atomic_load_explicit(&p->inflight,
			    memory_order_relaxed);
			if (atomic_load_explicit(&p->p99_ns,
			    memory_order_relaxed) > p99)
				p99 = atomic_load_explicit(&p->p99_ns,
				    memory_order_relaxed);
			measuring |= atomic_load_explicit(&p->measuring,
			    memory_order_relaxed);
		}
		load_progress(measuring ? "run" : "warm-up",
		    (double)(now - t0) / 1e9, (double)(done - last_done) /
		    ((double)(now - last) / 1e9), errors, mism, p99, inflight);
		last_done = done;
		last = now;
	}
}

static void
load_counts_add(struct load_counts *a, const struct load_counts *b)
{
	size_t	 i;

	a->done += b->done;
	a->frames += b->frames;
	a->answers += b->answers;
	a->errors += b->errors;
	a->mismatches += b->mismatches;
	a->cached += b->cached;
	a->send_failed += b->send_failed;
	a->handshakes += b->handshakes;
	a->handshake_failures += b->handshake_failures;
	for (i = 0; i < EID_VERDICT_COUNT; i++) {
		a->verdicts[i] += b->verdicts[i];
		a->expected[i] += b->expected[i];
	}
	for (i = 0; i < LOAD_CLASS_COUNT; i++)
		a->classes[i] += b->classes[i];
	for (i = 0; i < LOAD_KINDS_MAX; i++)
		a->kinds[i] += b->kinds[i];
	for (i = 0; i < sizeof(a->client_err) / sizeof(a->client_err[0]); i++)
		a->client_err[i] += b->client_err[i];
	for (i = 0; i < sizeof(a->server_err) / sizeof(a->server_err[0]); i++)
		a->server_err[i] += b->server_err[i];
}

/* Add generator g's figures to l's; the window is load_gens_window's. */
static void
load_gen_merge(struct load *l, const struct load *g)
{
	size_t	 i;

	load_counts_add(&l->m, &g->m);
	load_counts_add(&l->w, &g->w);
	hist_add(l->lat, g->lat);
	hist_add(l->lat_warm, g->lat_warm);
	hist_add(l->hs, g->hs);
	for (i = 0; i < g->nsamples && l->nsamples < LOAD_SAMPLES_MAX; i++)
		l->samples[l->nsamples++] = g->samples[i];
	l->minted_in_run += g->minted_in_run;
	l->nconns += g->nconns;
	l->nload += g->nload;
	l->nready += g->nready;
	l->nfailed += g->nfailed;
	l->sent_measured += g->sent_measured;
	l->window_done += g->window_done;
	l->interrupted |= g->interrupted;
	l->measuring |= g->measuring;
	l->cli_cpu1 += g->cli_cpu1 - g->cli_cpu0;
}

/*
 * The window runs from the first generator's start of measuring to the
 * last one's end; the daemon's CPU and the steal are those read at these
 * two moments.  If none measured, it is the last one's empty window.
 */
static void
load_gens_window(struct load *l)
{
	const struct load	*g, *first = NULL, *last = NULL;
	size_t			 i;

	for (i = 0; i < l->sh->n; i++) {
		g = &l->sh->gens[i];
		if (g->measuring && (first == NULL ||
		    g->t_start < first->t_start))
			first = g;
		if (last == NULL || g->t_end > last->t_end)
			last = g;
	}
	if (first == NULL)
		first = last;
	l->t_start = first->t_start;
	l->srv_cpu0 = first->srv_cpu0;
	l->st0 = first->st0;
	l->t_end = last->t_end;
	l->srv_cpu1 = last->srv_cpu1;
	l->st1 = last->st1;
	l->st_ok = first->st_ok && last->st_ok;
}

static void
load_gen_free(struct load *g)
{
	hist_free(g->lat);
	hist_free(g->lat_warm);
	hist_free(g->hs);
	load_pool_clear(&g->distinct);
	free(g->conns);
	free(g->reqs);
	free(g->items);
	free(g->vr);
	free(g->owned);
}

/* Run the generators, one thread each, and add up what they measured. */
static void
load_gens_run(struct load *l)
{
	struct load_shared	*sh = l->sh;
	pthread_t		*th;
	sigset_t		 set;
	size_t			 i;
	int			 rc;

	load_raise_nofile((size_t)(l->c->conns + l->c->idle));
	/*
	 * SIGINT blocked here, so in every thread started below: the main
	 * thread takes it with sigtimedwait.  It stays blocked after the
	 * run, so that a late interrupt cannot lose the report.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	if ((rc = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0)
		common_fatal("pthread_sigmask: %s", strerror(rc));
	if (l->c->raw_cpu >= 0) {
		load_raw_start(l);
		for (i = 0; i < sh->n; i++)
			sh->gens[i].raw = l->raw;
	}
	th = load_calloc(sh->n, sizeof(*th));
	for (i = 0; i < sh->n; i++)
		if ((rc = pthread_create(&th[i], NULL, load_gen_main,
		    &sh->gens[i])) != 0)
			common_fatal("pthread_create: %s", strerror(rc));
	load_gens_wait(l, &set);
	for (i = 0; i < sh->n; i++)
		pthread_join(th[i], NULL);
	free(th);
	load_raw_stop(l);
	l->cli_cpu0 = l->cli_cpu1 = 0;
	load_gens_window(l);
	for (i = 0; i < sh->n; i++) {
		load_gen_merge(l, &sh->gens[i]);
		load_gen_free(&sh->gens[i]);
	}
	if (l->nready == 0)
		common_fatal("no connection to %s could be made",
		    l->c->cfg.server);
	free(sh->gens[0].c);		/* the array of their conf */
	free(sh->gens);
	free(sh->pub);
	pthread_barrier_destroy(&sh->begin);
	pthread_mutex_destroy(&sh->mint_mtx);
	free(sh);
	l->sh = NULL;
}

/* --- the report ------------------------------------------------------------- */

static double
load_us(uint64_t ns)
{
	return (double)ns / 1e3;
}

static double
load_window_s(const struct load *l)
{
	return (double)(l->t_end - l->t_start) / 1e9;
}

/*
 * A moment of the monotonic clock (load_now()) as Unix time in
 * milliseconds, so that the reports of generators on several machines
 * can be laid side by side (eid-load --merge); as good as the machines'
 * clocks agree.
 */
static json_int_t
load_unix_ms(uint64_t t)
{
	struct timespec	 ts;
	uint64_t	 now = load_now();

	clock_gettime(CLOCK_REALTIME, &ts);
	return (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
	    (json_int_t)((now - (t < now ? t : now)) / 1000000);
}

static double
load_rate(const struct load *l)
{
	double	 s = load_window_s(l);

	return s > 0 ? (double)l->m.done / s : 0;
}

static double
load_srv_cpu_s(const struct load *l)
{
	if (l->c->server_pid <= 0 || l->srv_cpu0 < 0 || l->srv_cpu1 < 0 ||
	    l->srv_cpu1 < l->srv_cpu0)
		return -1;
	return l->srv_cpu1 - l->srv_cpu0;
}

static void
load_errors_json(json_t *o, const struct load_counts *k)
{
	static const char *const names[] = { "ok", "usage", "nomem",
		"connect", "tls", "io", "timeout", "protocol", "server" };
	char	 key[64];
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (k->client_err[i] > 0)
			json_object_set_new(o, names[i],
			    json_integer((json_int_t)k->client_err[i]));
	for (i = 0; i <= EID_SERVER_INTERNAL; i++)
		if (k->server_err[i] > 0) {
			snprintf(key, sizeof(key), "server:%s",
			    eid_server_code_name((enum eid_server_code)i));
			json_object_set_new(o, key,
			    json_integer((json_int_t)k->server_err[i]));
		}
	if (k->mismatches > 0)
		json_object_set_new(o, "mismatch",
		    json_integer((json_int_t)k->mismatches));
	if (k->send_failed > 0)
		json_object_set_new(o, "send",
		    json_integer((json_int_t)k->send_failed));
}

static json_t *
load_verdicts_json(const uint64_t *v)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < EID_VERDICT_COUNT; i++)
		if (v[i] > 0)
			json_object_set_new(o,
			    eid_verdict_name((enum eid_verdict)i),
			    json_integer((json_int_t)v[i]));
	return o;
}

#define LOAD_JI(v)	json_integer((json_int_t)(v))

/*
 * The share of the window's CPU time the hypervisor stole, of all CPUs;
 * and of the CPU that lost most, in *worst (-1 if none), as *cpu.  -1
 * where unknown (no /proc/stat, a window too short to count a tick).
 */
static double
load_steal(const struct load *l, double *worst, int *cpu)
{
	*worst = -1;
	*cpu = -1;
	if (!l->st_ok)
		return -1;
	*worst = procstat_steal_worst(&l->st0, &l->st1, cpu);
	return procstat_steal_share(&l->st0, &l->st1, -1);
}

/*
 * The steal of each CPU by its number, up to the last CPU with a share
 * (procstat_steal_shares()), null for one without (not online, or no
 * tick between the readings); so that a report can tell a daemon's
 * stolen CPU from its generator's.  JSON null when no CPU has a share.
 */
static json_t *
load_steal_by_cpu(const struct load *l)
{
	double	 v[PROCSTAT_CPUS];
	json_t	*a;
	size_t	 i, n;

	if (!l->st_ok || (n = procstat_steal_shares(&l->st0, &l->st1, v,
	    PROCSTAT_CPUS)) == 0 || (a = json_array()) == NULL)
		return json_null();
	for (i = 0; i < n; i++)
		json_array_append_new(a, v[i] >= 0 ? json_real(v[i]) :
		    json_null());
	return a;
}

/*
 * The run second by second from its start, warm-up included (the window
 * from window_start_s to window_end_s of it): the tokens completed in
 * each second, those of the window among them, errors, mismatches and
 * latency percentiles (µs; 0 without a latency).  Null if memory ran
 * out during the run.
 */
static json_t *
load_timeline_json(const struct load *l)
{
	const struct tl_second	*s;
	json_t			*o, *a, *e;
	uint64_t		 origin = tl_origin(l->tl);
	size_t			 n, i;

	if ((s = tl_seconds(l->tl, &n)) == NULL)
		return json_null();
	o = json_object();
	/* A generator's clock read just before the origin counts as it. */
	json_object_set_new(o, "window_start_s", origin > 0 ?
	    json_real(l->t_start > origin ? (double)(l->t_start - origin) /
	    1e9 : 0.0) : json_null());
	json_object_set_new(o, "window_end_s", origin > 0 ?
	    json_real(l->t_end > origin ? (double)(l->t_end - origin) / 1e9 :
	    0.0) : json_null());
	a = json_array();
	for (i = 0; i < n; i++) {
		e = json_object();
		json_object_set_new(e, "t", LOAD_JI(i));
		json_object_set_new(e, "completed", LOAD_JI(s[i].completed));
		json_object_set_new(e, "measured", LOAD_JI(s[i].measured));
		json_object_set_new(e, "errors", LOAD_JI(s[i].errors));
		json_object_set_new(e, "mismatches",
		    LOAD_JI(s[i].mismatches));
		json_object_set_new(e, "latencies", LOAD_JI(s[i].latencies));
		json_object_set_new(e, "p50", json_real(load_us(s[i].p50)));
		json_object_set_new(e, "p90", json_real(load_us(s[i].p90)));
		json_object_set_new(e, "p99", json_real(load_us(s[i].p99)));
		json_object_set_new(e, "max", json_real(load_us(s[i].max)));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "seconds", a);
	return o;
}

static int
load_cmp_u64(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The spread of the seconds' p99s, from the lowest to the highest and
 * which second that was: a steady run has them close, a stall shows as
 * one second far above the others.  Nothing for fewer than two seconds
 * with a latency.
 */
static void
load_summary_seconds(const struct load *l, FILE *fp)
{
	const struct tl_second	*s;
	uint64_t		*p99;
	size_t			 n, i, k = 0, worst = 0;

	if ((s = tl_seconds(l->tl, &n)) == NULL || n < 2 ||
	    (p99 = calloc(n, sizeof(*p99))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (s[i].latencies == 0)
			continue;
		if (k == 0 || s[i].p99 > s[worst].p99)
			worst = i;
		p99[k++] = s[i].p99;
	}
	if (k >= 2) {
		qsort(p99, k, sizeof(*p99), load_cmp_u64);
		fprintf(fp, "  p99 by second (%zu s from the start, warm-up "
		    "included): lowest %.1f  median %.1f  highest %.1f, in "
		    "second %zu\n", n, load_us(p99[0]), load_us(p99[(k - 1) /
		    2]), load_us(p99[k - 1]), worst);
	}
	free(p99);
}

/*
 * --reconnect's figures: the connections remade in the window, their
 * rate, and the time from the start of the TCP connect to the end of the
 * handshake (us; null without one).
 */
static void
load_handshakes_json(json_t *r, const struct load *l)
{
	const struct load_counts *m = &l->m;
	double			 s = load_window_s(l);
	bool			 any = hist_count(l->hs) > 0;
	char			*enc;

	json_object_set_new(r, "handshakes", LOAD_JI(m->handshakes));
	json_object_set_new(r, "handshake_failures",
	    LOAD_JI(m->handshake_failures));
	json_object_set_new(r, "handshake_rate", json_real(s > 0 ?
	    (double)m->handshakes / s : 0.0));
	json_object_set_new(r, "handshake_p50", any ? json_real(load_us(
	    hist_value_at(l->hs, 50.0))) : json_null());
	json_object_set_new(r, "handshake_p99", any ? json_real(load_us(
	    hist_value_at(l->hs, 99.0))) : json_null());
	json_object_set_new(r, "handshake_max", any ? json_real(load_us(
	    hist_max(l->hs))) : json_null());
	/* For --merge, as histogram_ns. */
	if ((enc = hdr_encode(l->hs)) == NULL)
		common_fatal("out of memory");
	json_object_set_new(r, "handshake_histogram_ns", json_string(enc));
	free(enc);
}

static json_t *
load_json(const struct load *l)
{
	const struct load_conf	*c = l->c;
	const struct load_counts *m = &l->m;
	json_t			*r, *o, *a;
	double			 srv = load_srv_cpu_s(l), cli, raw_us;
	double			 steal, worst;
	size_t			 i;
	int			 cpu;
	char			*enc;

	r = json_object();
	json_object_set_new(r, "tool", json_string(LOAD_PROG));
	json_object_set_new(r, "name", c->name != NULL ?
	    json_string(c->name) : json_null());
	json_object_set_new(r, "server", json_string(c->cfg.server));
	json_object_set_new(r, "mode", json_string(c->rate > 0 ? "open" :
	    "closed"));
	json_object_set_new(r, "target_rate", c->rate > 0 ?
	    json_real(c->rate) : json_null());
	json_object_set_new(r, "connections", LOAD_JI(c->conns));
	json_object_set_new(r, "pipeline", LOAD_JI(c->pipeline));
	json_object_set_new(r, "threads", LOAD_JI(c->gens));
	json_object_set_new(r, "batch", LOAD_JI(c->batch));
	json_object_set_new(r, "idle_connections", LOAD_JI(c->idle));
	json_object_set_new(r, "reconnect", LOAD_JI(c->reconnect));
	json_object_set_new(r, "warmup_s", json_real(c->warmup_s));
	json_object_set_new(r, "duration_s", json_real(load_window_s(l)));
	json_object_set_new(r, "window_start_unix_ms",
	    json_integer(load_unix_ms(l->t_start)));
	json_object_set_new(r, "window_end_unix_ms",
	    json_integer(load_unix_ms(l->t_end)));
	json_object_set_new(r, "interrupted", json_boolean(l->interrupted));

	o = json_object();
	json_object_set_new(o, "source", json_string(c->tokens != NULL ?
	    "file" : "minted"));
	json_object_set_new(o, "reuse", json_string(load_reuse_names[c->reuse]));
	json_object_set_new(o, "pool", LOAD_JI(c->tokens != NULL ? l->file.n :
	    c->reuse == LOAD_REUSE_DISTINCT ? 0 : l->valid.n));
	json_object_set_new(o, "zipf_s", json_real(c->zipf_s));
	json_object_set_new(o, "alg_mix", json_string(c->alg_mix));
	json_object_set_new(o, "broken_share", json_real(c->broken_share));
	a = json_array();
	for (i = 0; i < l->nkinds; i++)
		json_array_append_new(a, json_string(l->kinds[i].name));
	json_object_set_new(o, "broken_kinds", a);
	json_object_set_new(o, "revoked_share", json_real(c->revoked_share));
	json_object_set_new(o, "revoked_pool", LOAD_JI(l->revoked.n));
	json_object_set_new(o, "seed", LOAD_JI(c->seed));
	json_object_set_new(o, "preminted", LOAD_JI(l->premint));
	json_object_set_new(o, "minted_during_run", LOAD_JI(l->minted_in_run));
	json_object_set_new(r, "workload", o);

	json_object_set_new(r, "requests", LOAD_JI(m->done));
	json_object_set_new(r, "frames", LOAD_JI(m->frames));
	json_object_set_new(r, "answers", LOAD_JI(m->answers));
	json_object_set_new(r, "errors", LOAD_JI(m->errors));
	o = json_object();
	load_errors_json(o, m);
	json_object_set_new(r, "errors_by_kind", o);
	json_object_set_new(r, "mismatches", LOAD_JI(m->mismatches));
	a = json_array();
	for (i = 0; i < l->nsamples; i++) {
		o = json_object();
		json_object_set_new(o, "request",
		    json_string(l->samples[i].what));
		json_object_set_new(o, "expected", json_string(
		    eid_verdict_name(l->samples[i].want)));
		json_object_set_new(o, "got", json_string(
		    eid_verdict_name(l->samples[i].got)));
		json_array_append_new(a, o);
	}
	json_object_set_new(r, "mismatch_samples", a);
	json_object_set_new(r, "verdicts", load_verdicts_json(m->verdicts));
	json_object_set_new(r, "expected_verdicts",
	    load_verdicts_json(m->expected));
	o = json_object();
	for (i = 0; i < LOAD_CLASS_COUNT; i++)
		if (m->classes[i] > 0)
			json_object_set_new(o, load_class_names[i],
			    LOAD_JI(m->classes[i]));
	json_object_set_new(r, "classes", o);
	o = json_object();
	for (i = 0; i < l->nkinds; i++)
		if (m->kinds[i] > 0)
			json_object_set_new(o, l->kinds[i].name,
			    LOAD_JI(m->kinds[i]));
	json_object_set_new(r, "broken_by_kind", o);
	json_object_set_new(r, "cache_hits", LOAD_JI(m->cached));
	json_object_set_new(r, "cache_hit_ratio", json_real(m->answers > 0 ?
	    (double)m->cached / (double)m->answers : 0.0));
	json_object_set_new(r, "rate", json_real(load_rate(l)));

	json_object_set_new(r, "latency_unit", json_string("us"));
	json_object_set_new(r, "latency_of", json_string(c->batch > 1 ?
	    "frame" : "request"));
	json_object_set_new(r, "latency_from", json_string(c->rate > 0 ?
	    "intended send time" : "send time"));
	json_object_set_new(r, "min", json_real(load_us(hist_min(l->lat))));
	json_object_set_new(r, "mean", json_real(hist_mean(l->lat) / 1e3));
	json_object_set_new(r, "p50", json_real(load_us(hist_value_at(l->lat,
	    50.0))));
	json_object_set_new(r, "p90", json_real(load_us(hist_value_at(l->lat,
	    90.0))));
	json_object_set_new(r, "p99", json_real(load_us(hist_value_at(l->lat,
	    99.0))));
	json_object_set_new(r, "p999", json_real(load_us(hist_value_at(l->lat,
	    99.9))));
	json_object_set_new(r, "max", json_real(load_us(hist_max(l->lat))));

	load_handshakes_json(r, l);

	steal = load_steal(l, &worst, &cpu);
	json_object_set_new(r, "steal_share", steal >= 0 ? json_real(steal) :
	    json_null());
	json_object_set_new(r, "steal_share_worst_cpu", worst >= 0 ?
	    json_real(worst) : json_null());
	json_object_set_new(r, "steal_worst_cpu", cpu >= 0 ? LOAD_JI(cpu) :
	    json_null());
	json_object_set_new(r, "steal_share_by_cpu", load_steal_by_cpu(l));
	if (c->server_pid > 0) {
		json_object_set_new(r, "server_pid", LOAD_JI(c->server_pid));
		json_object_set_new(r, "server_cpu_s", srv >= 0 ?
		    json_real(srv) : json_null());
		json_object_set_new(r, "server_cpu_us_per_request", srv >= 0 &&
		    l->window_done > 0 ? json_real(srv * 1e6 /
		    (double)l->window_done) : json_null());
		json_object_set_new(r, "server_window_answers",
		    LOAD_JI(l->window_done));
	}
	if (l->raw != NULL) {
		o = json_object();
		raw_us = load_raw_us(l);
		json_object_set_new(o, "alg",
		    json_string(eid_alg_name(l->raw->r.alg)));
		json_object_set_new(o, "cpu", LOAD_JI(c->raw_cpu));
		json_object_set_new(o, "verifies", LOAD_JI(l->raw->verifies));
		json_object_set_new(o, "cpu_s",
		    json_real((double)l->raw->cpu_ns / 1e9));
		json_object_set_new(o, "us_per_verify", raw_us > 0 ?
		    json_real(raw_us) : json_null());
		json_object_set_new(r, "raw", o);
		json_object_set_new(r, "server_cpu_ratio", raw_us > 0 &&
		    srv >= 0 && l->window_done > 0 ? json_real(srv * 1e6 /
		    (double)l->window_done / raw_us) : json_null());
	}
	cli = l->cli_cpu1 - l->cli_cpu0;
	json_object_set_new(r, "client_cpu_s", json_real(cli));
	json_object_set_new(r, "client_cpu_us_per_request",
	    json_real(l->window_done > 0 ? cli * 1e6 /
	    (double)l->window_done : 0.0));

	o = json_object();
	json_object_set_new(o, "requests", LOAD_JI(l->w.done));
	json_object_set_new(o, "errors", LOAD_JI(l->w.errors));
	json_object_set_new(o, "mismatches", LOAD_JI(l->w.mismatches));
	json_object_set_new(o, "handshakes", LOAD_JI(l->w.handshakes));
	json_object_set_new(o, "handshake_failures",
	    LOAD_JI(l->w.handshake_failures));
	a = json_object();
	load_errors_json(a, &l->w);
	json_object_set_new(o, "errors_by_kind", a);
	json_object_set_new(o, "verdicts", load_verdicts_json(l->w.verdicts));
	json_object_set_new(r, "warmup", o);
	json_object_set_new(r, "timeline", load_timeline_json(l));
	/* Last, being long: the window's latencies for --merge. */
	if ((enc = hdr_encode(l->lat)) == NULL)
		common_fatal("out of memory");
	json_object_set_new(r, "histogram_ns", json_string(enc));
	free(enc);
	return r;
}

/*
 * A report that could not be written would be found out only after the
 * run: check at the start that the file or, if it does not exist yet,
 * its directory can be written, and create nothing.  opt names the
 * option in the message.
 */
static void
load_out_check(const char *opt, const char *path)
{
	char		 dir[PATH_MAX];
	const char	*slash;
	struct stat	 st;

	if (strcmp(path, "-") == 0)
		return;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			load_input_error("%s %s: %s", opt, path,
			    strerror(EISDIR));
		if (access(path, W_OK) != 0)
			load_input_error("%s %s: %s", opt, path,
			    strerror(errno));
		return;
	}
	if (errno != ENOENT)
		load_input_error("%s %s: %s", opt, path, strerror(errno));
	if ((slash = strrchr(path, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		load_input_error("%s %s: %s", opt, path,
		    strerror(ENAMETOOLONG));
	if (access(dir, W_OK | X_OK) != 0)
		load_input_error("%s %s: %s", opt, path, strerror(errno));
}

static void
load_write_json(const struct load *l)
{
	json_t	*r = load_json(l);
	FILE	*fp;
	int	 rc;

	if (strcmp(l->c->json, "-") == 0)
		fp = stdout;
	else if ((fp = fopen(l->c->json, "w")) == NULL)
		common_fatal("%s: %s", l->c->json, strerror(errno));
	rc = json_dumpf(r, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(10));
	fputc('\n', fp);
	if (rc != 0 || fflush(fp) == EOF || ferror(fp))
		common_fatal("%s: cannot write", l->c->json);
	if (fp != stdout)
		fclose(fp);
	json_decref(r);
}

/* The window's latency distribution, in microseconds. */
static void
load_write_hist(const struct load *l)
{
	FILE	*fp;

	if (strcmp(l->c->hist, "-") == 0)
		fp = stdout;
	else if ((fp = fopen(l->c->hist, "w")) == NULL)
		common_fatal("%s: %s", l->c->hist, strerror(errno));
	if (hist_print_percentiles(l->lat, fp, 5, 1e3) != 0)
		common_fatal("%s: cannot write", l->c->hist);
	if (fp != stdout && fclose(fp) != 0)
		common_fatal("%s: cannot write", l->c->hist);
}

static void
load_print_errors(FILE *fp, const struct load_counts *k)
{
	size_t	 i;

	for (i = 0; i <= EID_CLIENT_ERR_SERVER; i++)
		if (k->client_err[i] > 0)
			fprintf(fp, " %s %" PRIu64 ";", eid_client_strerror(
			    (enum eid_client_err)i), k->client_err[i]);
	for (i = 0; i <= EID_SERVER_INTERNAL; i++)
		if (k->server_err[i] > 0)
			fprintf(fp, " server %s %" PRIu64 ";",
			    eid_server_code_name((enum eid_server_code)i),
			    k->server_err[i]);
	if (k->mismatches > 0)
		fprintf(fp, " verdict mismatch %" PRIu64 ";", k->mismatches);
	if (k->send_failed > 0)
		fprintf(fp, " send failed %" PRIu64 ";", k->send_failed);
}

static void
load_summary(const struct load *l, FILE *fp)
{
	const struct load_conf	*c = l->c;
	const struct load_counts *m = &l->m;
	double			 srv = load_srv_cpu_s(l), cli, raw_us;
	double			 steal, worst;
	size_t			 i;
	int			 a, cpu;

	fprintf(fp, "%s%s%s: %" PRIu64 " requests in %.2f s = %.0f req/s, %"
	    PRIu64 " errors%s\n", LOAD_PROG, c->name != NULL ? " " : "",
	    c->name != NULL ? c->name : "", m->done, load_window_s(l),
	    load_rate(l), m->errors, l->interrupted ? " (interrupted)" : "");
	fprintf(fp, "  %s loop", c->rate > 0 ? "open" : "closed");
	if (c->rate > 0)
		fprintf(fp, " at %.0f req/s", c->rate);
	fprintf(fp, ", %lld connections x pipeline %lld", c->conns,
	    c->pipeline);
	if (c->gens > 1)
		fprintf(fp, " in %lld threads", c->gens);
	if (c->batch > 1)
		fprintf(fp, " x batch %lld (%" PRIu64 " frames)", c->batch,
		    m->frames);
	if (c->idle > 0)
		fprintf(fp, ", %lld idle connections", c->idle);
	fprintf(fp, ", warm-up %.1f s (%" PRIu64 " requests, %" PRIu64
	    " errors)\n", c->warmup_s, l->w.done, l->w.errors);
	if (c->tokens != NULL)
		fprintf(fp, "  workload: %zu tokens from %s, reuse %s\n",
		    (size_t)l->file.n, c->tokens, load_reuse_names[c->reuse]);
	else {
		fprintf(fp, "  workload: reuse %s", load_reuse_names[c->reuse]);
		if (c->reuse != LOAD_REUSE_DISTINCT)
			fprintf(fp, " over %lld tokens", c->pool);
		if (c->reuse == LOAD_REUSE_ZIPF)
			fprintf(fp, " (s %.2f)", c->zipf_s);
		fprintf(fp, "; algorithms");
		for (a = EID_ALG_ES256; a <= EID_ALG_EDDSA; a++)
			if (c->alg_weight[a] > 0)
				fprintf(fp, " %s %.0f%%", eid_alg_name(
				    (enum eid_alg)a), 100.0 *
				    c->alg_weight[a] / c->alg_total);
		fprintf(fp, "; broken %.1f%% (%zu kinds); revoked %.1f%% "
		    "(pool %" PRIu64 ")\n", 100 * c->broken_share, l->nkinds,
		    100 * c->revoked_share, l->revoked.n);
	}
	fprintf(fp, "  verdicts:");
	for (i = 0; i < EID_VERDICT_COUNT; i++)
		if (m->verdicts[i] > 0)
			fprintf(fp, " %s %" PRIu64, eid_verdict_name(
			    (enum eid_verdict)i), m->verdicts[i]);
	fprintf(fp, "; cache hits %.1f%%\n", m->answers > 0 ?
	    100.0 * (double)m->cached / (double)m->answers : 0.0);
	if (m->errors > 0 || l->w.errors > 0) {
		fprintf(fp, "  errors:");
		load_print_errors(fp, m);
		if (l->w.errors > 0) {
			fprintf(fp, " warm-up:");
			load_print_errors(fp, &l->w);
		}
		fputc('\n', fp);
	}
	for (i = 0; i < l->nsamples; i++)
		fprintf(fp, "  mismatch: %s expected %s, got %s\n",
		    l->samples[i].what, eid_verdict_name(l->samples[i].want),
		    eid_verdict_name(l->samples[i].got));
	fprintf(fp, "  latency (us%s, from %s): p50 %.1f  p90 %.1f  p99 %.1f  "
	    "p99.9 %.1f  max %.1f  mean %.1f\n", c->batch > 1 ?
	    " per frame" : "", c->rate > 0 ? "intended send time" :
	    "send time",
	    load_us(hist_value_at(l->lat, 50.0)),
	    load_us(hist_value_at(l->lat, 90.0)),
	    load_us(hist_value_at(l->lat, 99.0)),
	    load_us(hist_value_at(l->lat, 99.9)), load_us(hist_max(l->lat)),
	    hist_mean(l->lat) / 1e3);
	load_summary_seconds(l, fp);
	if (c->reconnect > 0) {
		fprintf(fp, "  reconnect every %lld frames: %" PRIu64
		    " handshakes (%.0f/s), %" PRIu64 " failed", c->reconnect,
		    m->handshakes, load_window_s(l) > 0 ?
		    (double)m->handshakes / load_window_s(l) : 0.0,
		    m->handshake_failures);
		if (hist_count(l->hs) > 0)
			fprintf(fp, "; handshake (us, from the connect): "
			    "p50 %.1f  p99 %.1f  max %.1f",
			    load_us(hist_value_at(l->hs, 50.0)),
			    load_us(hist_value_at(l->hs, 99.0)),
			    load_us(hist_max(l->hs)));
		fputc('\n', fp);
	}
	if (srv >= 0)
		fprintf(fp, "  server pid %lld: %.2f CPU s, %.1f CPU us per "
		    "request (%" PRIu64 " answers in the window)\n",
		    c->server_pid, srv, l->window_done > 0 ? srv * 1e6 /
		    (double)l->window_done : 0.0, l->window_done);
	if ((raw_us = load_raw_us(l)) > 0) {
		fprintf(fp, "  raw OpenSSL %s verify on CPU %lld beside the "
		    "run: %.1f CPU us (%" PRIu64 " verifies)",
		    eid_alg_name(l->raw->r.alg), c->raw_cpu, raw_us,
		    l->raw->verifies);
		if (srv >= 0 && l->window_done > 0)
			fprintf(fp, "; server/raw %.3f", srv * 1e6 /
			    (double)l->window_done / raw_us);
		fputc('\n', fp);
	}
	cli = l->cli_cpu1 - l->cli_cpu0;
	fprintf(fp, "  client: %.2f CPU s, %.1f CPU us per request", cli,
	    l->window_done > 0 ? cli * 1e6 / (double)l->window_done : 0.0);
	if (l->minted_in_run > 0)
		fprintf(fp, "; %" PRIu64 " tokens minted inside the window "
		    "(see --premint)", l->minted_in_run);
	fputc('\n', fp);
	if ((steal = load_steal(l, &worst, &cpu)) >= 0) {
		fprintf(fp, "  machine: %.1f%% of the CPU time in the window "
		    "stolen by the hypervisor", 100 * steal);
		if (cpu >= 0 && worst > 0)
			fprintf(fp, " (most on CPU %d: %.1f%%)", cpu,
			    100 * worst);
		fputc('\n', fp);
	}
}

/* --- setup ------------------------------------------------------------------ */

static void
load_workload_open(struct load *l)
{
	const struct load_conf	*c = l->c;
	unsigned char		 r[4];

	l->iat = (int64_t)time(NULL);
	if (RAND_bytes(r, sizeof(r)) != 1)
		common_fatal("RAND_bytes");
	snprintf(l->tag, sizeof(l->tag), "L%02x%02x%02x%02x", r[0], r[1],
	    r[2], r[3]);
	load_rng_init(&l->meas.rng, c->seed, 1);
	load_rng_init(&l->warm.rng, c->seed, 2);
	l->meas.stride = l->warm.stride = 1;
	l->warm.warm = true;
	if (c->tokens != NULL) {
		load_file_open(l);
		load_zipf_init(&l->zfile, l->file.n, c->zipf_s);
	} else {
		load_keys_open(l);
		load_provinces(l);
		if (c->reuse != LOAD_REUSE_DISTINCT) {
			load_pool_init(&l->valid, 'v', (uint64_t)c->pool);
			load_zipf_init(&l->zvalid, l->valid.n, c->zipf_s);
		}
		if (c->revoked_share > 0) {
			load_pool_init(&l->revoked, 'r',
			    (uint64_t)c->revoked_pool);
			load_zipf_init(&l->zrevoked, l->revoked.n, c->zipf_s);
		}
		if (c->broken_share > 0)
			load_broken_open(l);
	}
	if (c->batch > 1)
		load_batch_check(l);
	/* Generators draw streams of their own: load_gens_prepare(). */
	if (c->gens == 1)
		load_premint_auto(l);
}

/*
 * The open loop's requests of the warm-up and of the window, for l: a
 * generator's share of the run's, so that N of them send what one would.
 */
static void
load_open_counts(const struct load *l, uint64_t *warm, uint64_t *meas)
{
	const struct load_conf	*c = l->sh != NULL ? l->sh->c : l->c;
	size_t			 n = l->sh != NULL ? l->sh->n : 1;

	*warm = (uint64_t)load_share((long long)ceil(c->warmup_s * c->rate),
	    n, l->gen);
	*meas = c->requests > 0 ? (uint64_t)l->c->requests :
	    (uint64_t)load_share((long long)ceil(c->duration_s * c->rate), n,
	    l->gen);
}

/* Mint before the run what l's streams will send, as far as known. */
static void
load_premint_auto(struct load *l)
{
	const struct load_conf	*c = l->c;
	uint64_t		 n = 0, nwarm = 0;

	if (c->rate > 0)
		load_open_counts(l, &nwarm, &n);
	else if (c->requests > 0)
		n = (uint64_t)c->requests;
	if (c->premint >= 0)
		n = (uint64_t)c->premint;
	if (c->tokens == NULL && n + nwarm > 0)
		load_premint(l, n, nwarm);
}

int
main(int argc, char **argv)
{
	struct load_conf	 c;
	struct load		 l;
	char			 err[512];
	uint64_t		 t;
	size_t			 i, j;
	int			 status;

	common_setprog(LOAD_PROG);
	if (argc > 1 && strcmp(argv[1], "--merge") == 0)
		return merge_main(argc - 1, argv + 1);
	for (i = 2; i < (size_t)argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--merge") == 0)
			load_usage_error("--merge comes first: %s --merge "
			    "[options] REPORT...", LOAD_PROG);
	memset(&c, 0, sizeof(c));
	c.warmup_s = 1.0;
	c.conns = 16;
	c.pipeline = 16;
	c.batch = 1;
	c.expect = EID_VERDICT_OK;
	c.pool = 1000;
	c.reuse = LOAD_REUSE_UNIFORM;
	c.zipf_s = 1.0;
	c.broken_pool = 8;
	c.aud = LOAD_AUD_DEFAULT;
	c.iss = LOAD_ISS_DEFAULT;
	c.ttl_s = 3600;
	c.seed = 1;
	c.premint = -1;
	c.gens = 1;
	c.raw_cpu = -1;
	c.certs = common_certs_dir();
	load_parse_mix("default", &c, "ES256");
	load_parse_args(argc, argv, &c);
	load_conf_finish(&c);
	if (c.json != NULL)
		load_out_check("--json", c.json);
	if (c.hist != NULL)
		load_out_check("--hist", c.hist);

	/* A write to a connection the server closed must fail, not kill. */
	signal(SIGPIPE, SIG_IGN);
	memset(&l, 0, sizeof(l));
	l.c = &c;
	l.srv_cpu0 = l.srv_cpu1 = -1;
	if ((l.lat = hist_new()) == NULL || (l.lat_warm = hist_new()) ==
	    NULL || (l.hs = hist_new()) == NULL ||
	    (l.tl = tl_new((size_t)c.gens)) == NULL)
		common_fatal("out of memory");
	t = load_now();
	load_workload_open(&l);
	if (c.gens > 1)
		load_gens_prepare(&l);
	if (c.revoked_share > 0)
		load_revoke(&l);
	if (!c.quiet)
		fprintf(stderr, "%s: workload ready in %.1f s (%" PRIu64
		    " tokens minted ahead); %lld connections to %s\n",
		    LOAD_PROG, (double)(load_now() - t) / 1e9, l.premint,
		    c.conns + c.idle, c.cfg.server);
	/*
	 * One TLS context for every connection: made per connection it cost
	 * 1.8 ms each, and a thousand idle connections waited seconds
	 * between their TCP connect and their ClientHello.
	 */
	if ((c.tls = eid_client_tls_new(&c.cfg, NULL, err, sizeof(err))) ==
	    NULL)
		common_fatal("connection to %s: %s", c.cfg.server, err);
	if (c.gens > 1)
		load_gens_run(&l);
	else
		load_run(&l);
	eid_client_tls_free(c.tls);
	c.tls = NULL;

	load_summary(&l, stdout);
	if (c.json != NULL)
		load_write_json(&l);
	if (c.hist != NULL)
		load_write_hist(&l);
	status = l.m.errors > 0 || l.w.errors > 0 || l.nfailed > 0 ?
	    LOAD_EXIT_ERRORS : 0;

	hist_free(l.lat);
	hist_free(l.lat_warm);
	hist_free(l.hs);
	tl_free(l.tl);
	load_pool_clear(&l.valid);
	load_pool_clear(&l.revoked);
	load_pool_clear(&l.distinct);
	load_pool_clear(&l.file);
	for (i = 0; i < l.nkinds; i++) {
		for (j = 0; j < l.kinds[i].ntoks; j++)
			free(l.kinds[i].toks[j]);
		free(l.kinds[i].toks);
	}
	for (i = 0; i < sizeof(l.keys) / sizeof(l.keys[0]); i++)
		EVP_PKEY_free(l.keys[i]);
	free(l.conns);
	free(l.reqs);
	free(l.items);
	free(l.vr);
	free(l.owned);
	if (l.raw != NULL) {
		raw_free(&l.raw->r);
		free(l.raw);
	}
	return status;
}
