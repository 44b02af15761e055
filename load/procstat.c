/*
 * load/procstat.c -- see procstat.h.  Reads only the lines that begin
 * with "cpu", which the kernel writes first; it stops at the first other
 * line (the long "intr" line is never read whole).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procstat.h"

/* user nice system idle iowait irq softirq steal */
#define PROCSTAT_FIELDS	8

/*
 * The counts after the name in s into c.  At least the first four
 * fields must be there; those missing after them count 0.  A count or a
 * total that does not fit in 64 bits is refused.
 */
static int
procstat_fields(const char *s, struct procstat_cpu *c)
{
	uint64_t	 v[PROCSTAT_FIELDS] = { 0 };
	char		*end;
	int		 i;

	for (i = 0; i < PROCSTAT_FIELDS; i++) {
		while (*s == ' ')
			s++;
		if (*s < '0' || *s > '9')
			break;
		errno = 0;
		v[i] = strtoull(s, &end, 10);
		if (errno == ERANGE)
			return -1;
		s = end;
	}
	if (i < 4 || (*s != ' ' && *s != '\n' && *s != '\0'))
		return -1;
	c->total = 0;
	for (i = 0; i < PROCSTAT_FIELDS; i++) {
		if (v[i] > UINT64_MAX - c->total)
			return -1;
		c->total += v[i];
	}
	c->steal = v[7];
	c->seen = 1;
	return 0;
}

int
procstat_parse(FILE *fp, struct procstat *ps)
{
	char		 line[512], *end;
	unsigned long	 n;
	size_t		 len;

	memset(ps, 0, sizeof(*ps));
	while (fgets(line, sizeof(line), fp) != NULL) {
		len = strlen(line);
		if (strncmp(line, "cpu", 3) != 0)
			break;
		/* A CPU line longer than the buffer is not one of ours. */
		if (len == sizeof(line) - 1 && line[len - 1] != '\n')
			return -1;
		if (line[3] == ' ') {
			if (procstat_fields(line + 3, &ps->all) != 0)
				return -1;
			continue;
		}
		if (line[3] < '0' || line[3] > '9')
			return -1;
		n = strtoul(line + 3, &end, 10);
		if (*end != ' ')
			return -1;
		if (n < PROCSTAT_CPUS &&
		    procstat_fields(end, &ps->cpu[n]) != 0)
			return -1;
	}
	return ps->all.seen ? 0 : -1;
}

int
procstat_read(struct procstat *ps)
{
	FILE	*fp;
	int	 rc;

	if ((fp = fopen("/proc/stat", "r")) == NULL)
		return -1;
	rc = procstat_parse(fp, ps);
	fclose(fp);
	return rc;
}

double
procstat_steal_share(const struct procstat *a, const struct procstat *b,
    int cpu)
{
	const struct procstat_cpu	*x, *y;

	if (cpu < -1 || cpu >= PROCSTAT_CPUS)
		return -1;
	x = cpu < 0 ? &a->all : &a->cpu[cpu];
	y = cpu < 0 ? &b->all : &b->cpu[cpu];
	if (!x->seen || !y->seen || y->total <= x->total ||
	    y->steal < x->steal)
		return -1;
	return (double)(y->steal - x->steal) / (double)(y->total - x->total);
}

size_t
procstat_steal_shares(const struct procstat *a, const struct procstat *b,
    double *out, size_t n)
{
	size_t	 i, used = 0;

	if (n > PROCSTAT_CPUS)
		n = PROCSTAT_CPUS;
	for (i = 0; i < n; i++)
		if ((out[i] = procstat_steal_share(a, b, (int)i)) >= 0)
			used = i + 1;
	return used;
}

double
procstat_steal_worst(const struct procstat *a, const struct procstat *b,
    int *cpu)
{
	double	 v[PROCSTAT_CPUS], worst = -1;
	size_t	 i, n;

	*cpu = -1;
	n = procstat_steal_shares(a, b, v, PROCSTAT_CPUS);
	for (i = 0; i < n; i++)
		if (v[i] > worst) {
			worst = v[i];
			*cpu = (int)i;
		}
	return worst;
}
