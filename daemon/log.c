/*
 * daemon/log.c -- the one logging module of eidd.
 *
 * One event, one line, logfmt on stderr: ts, level, worker, event, then
 * the caller's key=value pairs.  Each line is built in a stack buffer and
 * written with a single write(2), so lines of different threads never
 * interleave.  The level is checked before anything is formatted, errno
 * is saved and restored, and every value that came from outside goes
 * through log_escape() first (STYLE.md rules 28-31).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "eidd.h"

#define LOG_LINE_MAX	2048

static _Atomic int log_level = LOG_LVL_INFO;
static _Thread_local int log_worker;

static const char *const log_names[] = {
	[LOG_LVL_ERR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void
log_init(enum log_level l)
{
	atomic_store(&log_level, (int)l);
}

bool
log_level_parse(const char *s, enum log_level *l)
{
	int	 i;

	for (i = LOG_LVL_ERR; i <= LOG_LVL_DEBUG; i++)
		if (strcasecmp(s, log_names[i]) == 0) {
			*l = (enum log_level)i;
			return true;
		}
	return false;
}

bool
log_enabled(enum log_level l)
{
	return (int)l <= atomic_load_explicit(&log_level,
	    memory_order_relaxed);
}

void
log_set_worker(int id)
{
	log_worker = id;
}

static void
log_vemit(enum log_level l, const char *event, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
log_vemit(enum log_level l, const char *event, const char *fmt, va_list ap)
{
	char		 line[LOG_LINE_MAX];
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 n;
	int		 r;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	r = snprintf(line, sizeof(line),
	    "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s worker=%d "
	    "event=%s ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
	    log_names[l], log_worker, event);
	n = r > 0 ? (size_t)r : 0;
	if (n < sizeof(line)) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		n += r > 0 ? (size_t)r : 0;
	}
	/* A truncated line still ends with a newline. */
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	while (n > 0 && line[n - 1] == ' ')
		n--;
	line[n++] = '\n';
	/* A short write to stderr has no better place to be reported. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void
log_emit(enum log_level l, const char *event, const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	if (!log_enabled(l))
		return;
	va_start(ap, fmt);
	log_vemit(l, event, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatalx(const char *event, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_LVL_ERR, event, fmt, ap);
	va_end(ap);
	exit(1);
}

const char *
log_escape(const char *s, char *buf, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 o = 0;
	unsigned char		 c;

	if (len < 3)
		return "";
	buf[o++] = '"';
	for (; s != NULL && *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			if (o + 2 >= len)
				break;
			buf[o++] = (char)c;
			continue;
		}
		if (o + 5 >= len)
			break;
		buf[o++] = '\\';
		buf[o++] = 'x';
		buf[o++] = hex[c >> 4];
		buf[o++] = hex[c & 0xf];
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

const char *
log_mask_pin(const char *pin, char *buf, size_t len)
{
	size_t	 n = pin != NULL ? strlen(pin) : 0;

	if (len < EID_PIN_LEN + 1)
		return "";
	if (n != EID_PIN_LEN) {
		snprintf(buf, len, "-");
		return buf;
	}
	snprintf(buf, len, "%.3s******%.3s", pin, pin + 9);
	return buf;
}
