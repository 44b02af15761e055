/*
 * load/timeline.c -- see timeline.h.  The series keeps the seconds it
 * closed in an array and those still open (from the first not closed
 * to the furthest a writer has handed over) in a short queue, each with
 * its counts and, once a latency came, a histogram.  One mutex guards
 * both; a writer takes it once a second at most, to hand its second
 * over, so the answers in between cost no lock.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "timeline.h"

#define TL_NS		UINT64_C(1000000000)
#define TL_DONE		UINT64_MAX	/* a writer's position once done */

/* What a second holds before it is closed. */
struct tl_open {
	uint64_t	 completed;
	uint64_t	 measured;
	uint64_t	 errors;
	uint64_t	 mismatches;
	struct hist	*h;		/* NULL until a latency came */
};

struct tl {
	pthread_mutex_t	 mtx;
	size_t		 nw;
	uint64_t	*pos;		/* each writer's second; TL_DONE */
	bool		*taken;
	bool		 has_origin;
	uint64_t	 origin;
	bool		 failed;	/* out of memory: no series */
	struct tl_second *closed;	/* seconds 0 .. nclosed - 1 */
	size_t		 nclosed;
	size_t		 cclosed;
	struct tl_open	*open;		/* seconds nclosed .. + nopen - 1 */
	size_t		 nopen;
	size_t		 copen;
	uint64_t	 hi;		/* 1 + the last second with a token */
	struct hist	*spare;		/* a closed second's, for reuse */
};

struct tl_writer {
	struct tl	*tl;
	size_t		 i;
	bool		 begun;
	uint64_t	 origin;
	uint64_t	 sec;		/* the second being filled */
	uint64_t	 end;		/* ... and when it ends (ns) */
	bool		 any;		/* anything counted in it */
	struct tl_open	 cur;		/* cur.h: allocated at tl_begin */
};

struct tl *
tl_new(size_t nwriters)
{
	struct tl	*tl;

	if (nwriters == 0 || (tl = calloc(1, sizeof(*tl))) == NULL)
		return NULL;
	tl->nw = nwriters;
	if ((tl->pos = calloc(nwriters, sizeof(*tl->pos))) == NULL ||
	    (tl->taken = calloc(nwriters, sizeof(*tl->taken))) == NULL ||
	    pthread_mutex_init(&tl->mtx, NULL) != 0) {
		free(tl->pos);
		free(tl->taken);
		free(tl);
		return NULL;
	}
	return tl;
}

void
tl_free(struct tl *tl)
{
	size_t	 i;

	if (tl == NULL)
		return;
	for (i = 0; i < tl->nopen; i++)
		hist_free(tl->open[i].h);
	hist_free(tl->spare);
	free(tl->open);
	free(tl->closed);
	free(tl->pos);
	free(tl->taken);
	pthread_mutex_destroy(&tl->mtx);
	free(tl);
}

struct tl_writer *
tl_writer_new(struct tl *tl, size_t i)
{
	struct tl_writer *w;

	if (i >= tl->nw || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	pthread_mutex_lock(&tl->mtx);
	if (tl->taken[i]) {
		pthread_mutex_unlock(&tl->mtx);
		free(w);
		return NULL;
	}
	tl->taken[i] = true;
	pthread_mutex_unlock(&tl->mtx);
	w->tl = tl;
	w->i = i;
	return w;
}

/* The series can no longer be trusted: drop it.  Lock held. */
static void
tl_fail(struct tl *tl)
{
	tl->failed = true;
}

/* The open second s, added if needed; NULL if not open.  Lock held. */
static struct tl_open *
tl_open_at(struct tl *tl, uint64_t s)
{
	struct tl_open	*o;
	size_t		 k, c;

	/* Closed already: a writer's clock went back (never, by design). */
	if (s < tl->nclosed || s - tl->nclosed > SIZE_MAX / 2 /
	    sizeof(*o))
		return NULL;
	k = (size_t)(s - tl->nclosed);
	if (k >= tl->copen) {
		c = tl->copen == 0 ? 4 : tl->copen;
		while (c <= k)
			c *= 2;
		if ((o = realloc(tl->open, c * sizeof(*o))) == NULL)
			return NULL;
		tl->open = o;
		tl->copen = c;
	}
	while (tl->nopen <= k)
		memset(&tl->open[tl->nopen++], 0, sizeof(*tl->open));
	return &tl->open[k];
}

/* Close the first open second (or an empty one); -1 if out of memory. */
static int
tl_close_one(struct tl *tl)
{
	struct tl_second *c, *s;
	struct tl_open	 o;
	size_t		 n;

	if (tl->nclosed == tl->cclosed) {
		n = tl->cclosed == 0 ? 64 : tl->cclosed * 2;
		if ((c = realloc(tl->closed, n * sizeof(*c))) == NULL)
			return -1;
		tl->closed = c;
		tl->cclosed = n;
	}
	memset(&o, 0, sizeof(o));
	if (tl->nopen > 0) {
		o = tl->open[0];
		memmove(&tl->open[0], &tl->open[1], (tl->nopen - 1) *
		    sizeof(*tl->open));
		tl->nopen--;
	}
	s = &tl->closed[tl->nclosed++];
	memset(s, 0, sizeof(*s));
	s->completed = o.completed;
	s->measured = o.measured;
	s->errors = o.errors;
	s->mismatches = o.mismatches;
	if (o.h != NULL) {
		s->latencies = hist_count(o.h);
		s->p50 = hist_value_at(o.h, 50.0);
		s->p90 = hist_value_at(o.h, 90.0);
		s->p99 = hist_value_at(o.h, 99.0);
		s->max = hist_max(o.h);
		if (tl->spare == NULL) {
			hist_reset(o.h);
			tl->spare = o.h;
		} else
			hist_free(o.h);
	}
	return 0;
}

/*
 * Close every second that no writer can still add to: those before the
 * least writer's, or once all are done, those up to the last in which
 * a token completed.  Lock held.
 */
static void
tl_close(struct tl *tl)
{
	uint64_t	 least = TL_DONE;
	size_t		 i;

	for (i = 0; i < tl->nw; i++)
		if (tl->pos[i] < least)
			least = tl->pos[i];
	if (least == TL_DONE)
		least = tl->hi;
	while (!tl->failed && tl->nclosed < least)
		if (tl_close_one(tl) == -1)
			tl_fail(tl);
}

/* Hand w's second over and move w to second to; lock held. */
static void
tl_hand_over(struct tl_writer *w, uint64_t to)
{
	struct tl	*tl = w->tl;
	struct tl_open	*o;

	if (w->any && !tl->failed) {
		if ((o = tl_open_at(tl, w->sec)) == NULL)
			tl_fail(tl);
		else {
			o->completed += w->cur.completed;
			o->measured += w->cur.measured;
			o->errors += w->cur.errors;
			o->mismatches += w->cur.mismatches;
			if (w->cur.h != NULL && hist_count(w->cur.h) > 0) {
				if (o->h == NULL) {
					o->h = tl->spare != NULL ? tl->spare :
					    hist_new();
					tl->spare = NULL;
				}
				if (o->h == NULL)
					tl_fail(tl);
				else
					hist_add(o->h, w->cur.h);
			}
			if (w->sec + 1 > tl->hi)
				tl->hi = w->sec + 1;
		}
	}
	tl->pos[w->i] = to;
	tl_close(tl);
}

/* Leave the current second for now's; the lock is taken here. */
static void
tl_advance(struct tl_writer *w, uint64_t now)
{
	struct tl	*tl = w->tl;
	uint64_t	 to = (now - w->origin) / TL_NS;

	pthread_mutex_lock(&tl->mtx);
	tl_hand_over(w, to);
	pthread_mutex_unlock(&tl->mtx);
	if (w->cur.h != NULL && hist_count(w->cur.h) > 0)
		hist_reset(w->cur.h);
	w->cur.completed = w->cur.measured = w->cur.errors =
	    w->cur.mismatches = 0;
	w->any = false;
	w->sec = to;
	w->end = w->origin + (to + 1) * TL_NS;
}

int
tl_begin(struct tl_writer *w, uint64_t now)
{
	struct tl	*tl = w->tl;

	if (w->begun)
		return -1;
	w->cur.h = hist_new();
	pthread_mutex_lock(&tl->mtx);
	/* Without its histogram the writer counts on; the series is lost. */
	if (w->cur.h == NULL)
		tl_fail(tl);
	if (!tl->has_origin) {
		tl->origin = now;
		tl->has_origin = true;
	}
	/* Read before the first writer's, which began first. */
	if (now < tl->origin)
		now = tl->origin;
	w->origin = tl->origin;
	w->sec = (now - w->origin) / TL_NS;
	w->end = w->origin + (w->sec + 1) * TL_NS;
	w->begun = true;
	tl->pos[w->i] = w->sec;
	tl_close(tl);
	pthread_mutex_unlock(&tl->mtx);
	return 0;
}

int
tl_record(struct tl_writer *w, uint64_t now, uint64_t completed,
    bool measured, uint64_t errors, uint64_t mismatches, bool has_latency,
    uint64_t latency)
{
	if (!w->begun)
		return -1;
	if (now >= w->end)
		tl_advance(w, now);
	w->cur.completed += completed;
	if (measured)
		w->cur.measured += completed;
	w->cur.errors += errors;
	w->cur.mismatches += mismatches;
	if (has_latency && w->cur.h != NULL)
		hist_record(w->cur.h, latency);
	w->any = true;
	return 0;
}

int
tl_tick(struct tl_writer *w, uint64_t now)
{
	if (!w->begun)
		return -1;
	if (now >= w->end)
		tl_advance(w, now);
	return 0;
}

void
tl_writer_done(struct tl_writer *w)
{
	struct tl	*tl;

	if (w == NULL)
		return;
	tl = w->tl;
	pthread_mutex_lock(&tl->mtx);
	if (w->begun)
		tl_hand_over(w, TL_DONE);
	else {
		tl->pos[w->i] = TL_DONE;
		tl_close(tl);
	}
	pthread_mutex_unlock(&tl->mtx);
	hist_free(w->cur.h);
	free(w);
}

uint64_t
tl_origin(struct tl *tl)
{
	uint64_t	 o;

	pthread_mutex_lock(&tl->mtx);
	o = tl->has_origin ? tl->origin : 0;
	pthread_mutex_unlock(&tl->mtx);
	return o;
}

const struct tl_second *
tl_seconds(struct tl *tl, size_t *n)
{
	static const struct tl_second none;
	const struct tl_second *s = NULL;
	size_t		 i;
	bool		 done = true;

	*n = 0;
	pthread_mutex_lock(&tl->mtx);
	for (i = 0; i < tl->nw; i++)
		if (tl->pos[i] != TL_DONE)
			done = false;
	if (done && !tl->failed) {
		s = tl->closed != NULL ? tl->closed : &none;
		/* Not the empty ones a writer's clock passed after the last. */
		*n = tl->nclosed < tl->hi ? tl->nclosed : (size_t)tl->hi;
	}
	pthread_mutex_unlock(&tl->mtx);
	return s;
}
