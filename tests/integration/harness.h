/*
 * tests/integration/harness.h -- start a real eidd on a free loopback
 * port with the development PKI, talk to it, stop it.
 *
 * Every scenario (tests/integration/test_eidd_*.c) uses this one harness.
 * The daemon is $EID_BUILD/bin/eidd, its configuration is written into a
 * fresh directory under $EID_BUILD/test-tmp/, its log goes to a file
 * there, and every wait is bounded in time.  th_eidd_stop() always ends
 * the process (SIGTERM, then SIGKILL after a bound).
 */
#ifndef EID_TESTS_HARNESS_H
#define EID_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "eid/client.h"
#include "eid/verify.h"

struct th_eidd {
	pid_t		 pid;
	int		 port;
	char		 addr[64];	/* "127.0.0.1:PORT" */
	char		 dir[512];	/* scratch directory */
	char		 conf[600];	/* its eidd.conf */
	char		 log[600];	/* its stderr */
};

/*
 * Write a configuration (the development issuer and principals, listen
 * 127.0.0.1:0, two workers) with extra text appended inside the limits
 * group (e.g. "idle_timeout_ms = 500;"), start eidd -d on it and wait
 * until it listens.  Fails the test on any error.
 */
void		 th_eidd_start(struct th_eidd *, const char *limits);
/* Same, with a whole configuration text (paths: see th_certs_abs()). */
void		 th_eidd_start_conf(struct th_eidd *, const char *conf);
/* The configuration text th_eidd_start() writes. */
char		*th_eidd_conf_text(const char *limits, const char *extra_certs);
/* Replace the configuration file (for SIGHUP). */
void		 th_eidd_write_conf(struct th_eidd *, const char *text);
/*
 * Stop, require a clean exit 0 (under ASan: no leak report), remove the
 * scratch directory.  Fails the test otherwise (the logs then stay).
 */
void		 th_eidd_stop_ok(struct th_eidd *);
/* Send sig; for SIGTERM/SIGKILL wait (bounded) and return the status. */
int		 th_eidd_signal(struct th_eidd *, int sig);
/* Remove the scratch directory (call when the test passed: logs of
 * failing tests stay for reading). */
void		 th_eidd_cleanup(struct th_eidd *);
/* Stop (SIGTERM, bounded wait, then SIGKILL); returns the wait status. */
int		 th_eidd_stop(struct th_eidd *);
/* True once the log holds text (polls up to timeout_ms). */
bool		 th_eidd_log_has(struct th_eidd *, const char *text,
		    int timeout_ms);
/* Resident set size of the daemon, in kB (VmRSS); -1 if unknown. */
long		 th_eidd_rss_kb(const struct th_eidd *);
/*
 * Whether the daemon's RSS means anything: not under ASan (its quarantine
 * keeps freed memory) nor under a wrapper such as valgrind.
 */
bool		 th_rss_meaningful(void);

/* Absolute path of a development PKI file ("rp-bhxh.crt"). */
const char	*th_certs_abs(const char *name, char *buf, size_t len);

/*
 * A blocking client as the development principal name ("rp-dichvucong",
 * "admin", "test/rp-unmapped", ...).  Fails the test if it cannot
 * connect.
 */
struct eid_client *th_client(const struct th_eidd *, const char *name);
/* Same, returning NULL and the error instead of failing. */
struct eid_client *th_client_try(const struct th_eidd *, const char *name,
		    enum eid_client_err *, char *err, size_t errlen);

/* A raw TLS connection (ALPN eid/1) for sending arbitrary bytes. */
struct th_raw {
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;
};

/* Connect as name; false if the handshake fails. */
bool		 th_raw_connect(struct th_raw *, const struct th_eidd *,
		    const char *name);
/* Same, with a receive buffer of rcvbuf bytes set before connect(). */
bool		 th_raw_connect_rcvbuf(struct th_raw *,
		    const struct th_eidd *, const char *name, int rcvbuf);
/* Write all bytes; false on error. */
bool		 th_raw_write(struct th_raw *, const void *, size_t);
/*
 * Read until the peer closes or timeout_ms passes; returns the bytes read
 * (into buf, up to len) and sets *closed if the connection ended.
 */
size_t		 th_raw_read(struct th_raw *, void *buf, size_t len,
		    int timeout_ms, bool *closed);
void		 th_raw_close(struct th_raw *);

void		 th_sleep_ms(int ms);
/*
 * True once every thread of pid has stopped (after SIGSTOP), within
 * timeout_ms.  kill() returns before that: the thread that takes the
 * signal stops the others, and until then they run, so a test that
 * needs the daemon frozen must wait for this.
 */
bool		 th_stopped_within(pid_t pid, int timeout_ms);

/* A plain TCP connection that never starts TLS; returns the fd. */
int		 th_tcp_connect(const struct th_eidd *);
/* Same, with a receive buffer of rcvbuf bytes (0: the default). */
int		 th_tcp_connect_rcvbuf(const struct th_eidd *, int rcvbuf);
/* Send a whole ClientHello on fd, and nothing more. */
void		 th_hello_send(int fd);
/* A TCP connection that sends a whole ClientHello; returns the fd. */
int		 th_hello_connect(const struct th_eidd *);
/* True if fd has bytes to read (or was closed) within timeout_ms. */
bool		 th_fd_readable_within(int fd, int timeout_ms);
/* True if the peer closed fd within timeout_ms. */
bool		 th_fd_closed_within(int fd, int timeout_ms);

/*
 * The token eid-mint makes for kind number kind (tests/integration/
 * kinds.h) and algorithm number alg, with q filled as that kind is to be
 * verified (level, nonce); NULL when that kind does not exist for that
 * algorithm.  The token is malloc'd; q borrows it.
 */
char		*th_kind_token(size_t kind, size_t alg, struct eid_verify_req *q);

/* A valid token for the dev issuer, signed with alg's dev key. */
char		*th_token(enum eid_alg alg, const char *aud, const char *jti);

/* Verify token as principal name for aud; returns the verdict. */
enum eid_verdict th_verify(struct eid_client *, const char *token,
		    const char *aud);

#endif /* EID_TESTS_HARNESS_H */
