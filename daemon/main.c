/*
 * daemon/main.c -- eidd's entry point: flags, the startup sequence, and
 * the main thread's signals (SIGHUP reload, SIGTERM/SIGINT drain and
 * exit).  The only place with process-wide state: struct server.
 *
 * Startup order: parse and validate the configuration, build the first
 * snapshot (keys and principals), the TLS context, bind every worker's
 * listener, then start the workers.  Any failure before serving is
 * fatal; nothing a peer sends can reach fatalx().
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <systemd/sd-daemon.h>

#include "eidd.h"
#include "store.h"

#define MAIN_DEFAULT_CONFIG	"/etc/eidd/eidd.conf"

static void
main_usage(void)
{
	fprintf(stderr, "usage: eidd [-dtv] [-c config]\n"
	    "  -c FILE  configuration (default %s)\n"
	    "  -d       debug logging\n"
	    "  -t       check the configuration, keys and certificates; "
	    "exit 0 or 1\n"
	    "  -v       with -t: print the normalized configuration\n",
	    MAIN_DEFAULT_CONFIG);
	exit(2);
}

struct snap *
server_snap(struct server *srv)
{
	struct snap	*s;

	pthread_mutex_lock(&srv->snap_mtx);
	s = snap_ref(srv->snap);
	pthread_mutex_unlock(&srv->snap_mtx);
	return s;
}

void
server_principal_slots(struct server *srv, struct snap *s)
{
	int	 i, n;
	size_t	 p;

	for (p = 0; p < s->nprincipals; p++) {
		n = atomic_load(&srv->npctr);
		for (i = 0; i < n; i++)
			if (strcmp(srv->pctr[i].name,
			    s->principals[p].cp->name) == 0)
				break;
		if (i == n && n < EIDD_PRINCIPALS_MAX) {
			snprintf(srv->pctr[n].name, sizeof(srv->pctr[n].name),
			    "%s", s->principals[p].cp->name);
			/* Published after its name is written. */
			atomic_store(&srv->npctr, n + 1);
		}
		s->principals[p].slot = i < EIDD_PRINCIPALS_MAX ? i : -1;
	}
}

/*
 * Settings bound at startup: a change is reported, not silently lost.
 * The names of those that changed, comma-separated, into names ("" if
 * none).
 */
static void
main_reload_bound(const struct cfg *o, const struct cfg *n, char *names,
    size_t namelen)
{
	size_t	 len = 0;

	names[0] = '\0';

#define MAIN_BOUND(changed, name) do {					\
	if ((changed) && len < namelen)					\
		len += (size_t)snprintf(names + len, namelen - len,	\
		    "%s%s", len > 0 ? "," : "", (name));		\
} while (0)
	MAIN_BOUND(strcmp(o->listen, n->listen) != 0, "listen");
	MAIN_BOUND(o->workers != n->workers, "workers");
	MAIN_BOUND(strcmp(o->state_dir, n->state_dir) != 0, "state_dir");
	MAIN_BOUND(strcmp(o->user, n->user) != 0, "user");
	MAIN_BOUND(strcmp(o->log_level, n->log_level) != 0, "log_level");
	MAIN_BOUND(strcmp(o->http_listen, n->http_listen) != 0,
	    "http.listen");
	MAIN_BOUND(o->max_connections != n->max_connections,
	    "limits.max_connections");
	MAIN_BOUND(o->cache_map_bytes != n->cache_map_bytes,
	    "store.cache_map_bytes");
	MAIN_BOUND(o->state_map_bytes != n->state_map_bytes,
	    "store.state_map_bytes");
	MAIN_BOUND(o->cache_probation != n->cache_probation,
	    "store.cache_probation");
	MAIN_BOUND(o->sweep_interval_s != n->sweep_interval_s,
	    "store.sweep_interval_s");
#undef MAIN_BOUND
}

/*
 * Load path into a snapshot of generation gen; NULL and err on failure.
 * On a reload, running is the configuration in use: what is bound at
 * startup is reported, and http.listen kept, since the gateway that
 * runs needs its TLS context whatever the file now says, and the store
 * (NULL at startup: store_open() takes the leeway) learns the leeway.
 */
static struct snap *
main_load(const char *path, uint64_t gen, const struct cfg *running,
    struct store *store, char *err, size_t errlen)
{
	struct cfg	*c;
	struct snap	*s;
	char		*keep, bound[512] = "";

	if ((c = cfg_load(path, err, errlen)) == NULL)
		return NULL;
	if (running != NULL) {
		main_reload_bound(running, c, bound, sizeof(bound));
		if (strcmp(c->http_listen, running->http_listen) != 0) {
			if ((keep = strdup(running->http_listen)) == NULL) {
				snprintf(err, errlen, "out of memory");
				cfg_free(c);
				return NULL;
			}
			free(c->http_listen);
			c->http_listen = keep;
		}
	}
	if ((s = snap_build(c, gen, (int64_t)time(NULL), err, errlen)) ==
	    NULL) {
		cfg_free(c);
		return NULL;
	}
	/* A raised leeway must reach the replay marks before any verify. */
	if (store != NULL && store_set_leeway(store, c->leeway_s, err,
	    errlen) == -1) {
		snap_unref(s);
		return NULL;
	}
	/* Only a reload that takes effect has anything to report. */
	if (bound[0] != '\0')
		log_warnx("reload_partial", "options=%s note=\"these take "
		    "effect at the next start\"", bound);
	return s;
}

struct main_ctx {
	struct server	*srv;
	const char	*path;
	struct event_base *base;
};

/* Tell systemd (Type=notify) where we are; a no-op outside systemd. */
static void
main_notify(const char *state)
{
	struct timespec	 ts;

	if (strcmp(state, "RELOADING=1") == 0) {
		/* systemd 253+ wants the time the reload began. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		    (unsigned long long)ts.tv_sec * 1000000ULL +
		    (unsigned long long)ts.tv_nsec / 1000);
	} else
		(void)sd_notify(0, state);
}

static void
main_reload(struct main_ctx *m)
{
	struct server	*srv = m->srv;
	struct snap	*s, *old;
	char		 err[1024], esc[2100];
	uint64_t	 gen = atomic_load(&srv->snap_gen) + 1;

	main_notify("RELOADING=1");
	if ((s = main_load(m->path, gen, srv->snap->cfg, srv->store, err,
	    sizeof(err))) == NULL) {
		log_err("reload_failed", "error=%s keeping=%llu",
		    log_escape(err, esc, sizeof(esc)),
		    (unsigned long long)(gen - 1));
		/* Still serving, with the old snapshot. */
		main_notify("READY=1");
		return;
	}
	server_principal_slots(srv, s);
	pthread_mutex_lock(&srv->snap_mtx);
	old = srv->snap;
	srv->snap = s;
	pthread_mutex_unlock(&srv->snap_mtx);
	atomic_store_explicit(&srv->snap_gen, gen, memory_order_release);
	atomic_fetch_add(&srv->reloads, 1);
	snap_unref(old);
	log_info("reloaded", "generation=%llu keys=%zu principals=%zu",
	    (unsigned long long)gen, eid_keyset_count(s->ks),
	    s->nprincipals);
	main_notify("READY=1");
}

static void
main_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct main_ctx	*m = arg;

	(void)what;
	if (sig == SIGHUP) {
		main_reload(m);
		return;
	}
	log_info("shutdown", "signal=%d open=%d", (int)sig,
	    atomic_load(&m->srv->conns_open));
	atomic_store(&m->srv->draining, true);
	main_notify("STOPPING=1");
	worker_drain_all(m->srv);
	event_base_loopexit(m->base, NULL);
}

int
main(int argc, char *argv[])
{
	struct server	 srv;
	struct http	*http;
	struct store_cfg scfg;
	struct main_ctx	 m;
	struct event	*sig[3];
	static const int sigs[3] = { SIGHUP, SIGTERM, SIGINT };
	const char	*path = MAIN_DEFAULT_CONFIG;
	char		 err[1024];
	enum log_level	 lvl;
	bool		 check = false, verbose = false, debug = false;
	int		 ch, i;

	/* Before anything parses JSON (the key sets do). */
	jarena_init();
	while ((ch = getopt(argc, argv, "c:dtv")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 't':
			check = true;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			main_usage();
		}
	}
	if (optind != argc)
		main_usage();

	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.snap_mtx, NULL);
	tls_init();
	if ((srv.snap = main_load(path, 1, NULL, NULL, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "eidd: %s\n", err);
		return 1;
	}
	if (check) {
		if (verbose)
			cfg_print(srv.snap->cfg, stdout);
		fprintf(stderr, "eidd: %s: configuration ok (%zu keys, %zu "
		    "principals)\n", path, eid_keyset_count(srv.snap->ks),
		    srv.snap->nprincipals);
		snap_unref(srv.snap);
		return 0;
	}

	log_level_parse(srv.snap->cfg->log_level, &lvl);
	log_init(debug ? LOG_LVL_DEBUG : lvl);
	signal(SIGPIPE, SIG_IGN);
	/* Workers' bases are poked from this thread: locking is needed. */
	if (evthread_use_pthreads() != 0)
		fatalx("startup", "error=evthread_use_pthreads");
	atomic_store(&srv.snap_gen, 1);
	server_principal_slots(&srv, srv.snap);
	srv.started_at = (int64_t)time(NULL);
	scfg.dir = srv.snap->cfg->state_dir;
	scfg.cache_map_bytes = (size_t)srv.snap->cfg->cache_map_bytes;
	scfg.state_map_bytes = (size_t)srv.snap->cfg->state_map_bytes;
	scfg.leeway_s = srv.snap->cfg->leeway_s;
	scfg.sweep_interval_s = srv.snap->cfg->sweep_interval_s;
	scfg.probation = (size_t)srv.snap->cfg->cache_probation;
	if ((srv.store = store_open(&scfg, err, sizeof(err))) == NULL)
		fatalx("store", "dir=%s error=\"%s\"", scfg.dir, err);
	srv.max_connections = srv.snap->cfg->max_connections;
	worker_setup(&srv, srv.snap->cfg);
	http = http_setup(&srv, srv.snap->cfg, srv.nworkers + 1);
	/* Bound, store open, keys loaded: root is no longer needed. */
	sandbox_drop(srv.snap->cfg);

	memset(&m, 0, sizeof(m));
	m.srv = &srv;
	m.path = path;
	if ((m.base = event_base_new()) == NULL)
		fatalx("startup", "error=event_base_new");
	for (i = 0; i < 3; i++)
		if ((sig[i] = evsignal_new(m.base, sigs[i], main_signal_cb,
		    &m)) == NULL || event_add(sig[i], NULL) != 0)
			fatalx("startup", "error=evsignal");
	worker_start(&srv);
	http_start(http);
	log_info("listening", "addr=%s http=%s workers=%d keys=%zu "
	    "principals=%zu version=%s openssl=\"%s\"", srv.listen_addr,
	    http_addr(http), srv.nworkers, eid_keyset_count(srv.snap->ks),
	    srv.snap->nprincipals, EIDD_VERSION, tls_version());
	main_notify("READY=1");

	event_base_dispatch(m.base);
	worker_wait_all(&srv);
	http_stop(http);
	/* Every answer is out; what the writer still holds is made durable. */
	store_close(srv.store);
	snap_unref(srv.snap);
	pthread_mutex_destroy(&srv.snap_mtx);
	/*
	 * The signal events stay until now, so that a second SIGTERM during
	 * the drain or the final sync is absorbed rather than killing us
	 * with the default action; once they are freed, ignore the rest.
	 */
	for (i = 0; i < 3; i++)
		event_free(sig[i]);
	event_base_free(m.base);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	log_info("exit", "status=0");
	return 0;
}
