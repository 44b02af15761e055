/*
 * load/procstat.h -- CPU time stolen from this machine, from the CPU lines
 * of /proc/stat, so that eid-load can say how much of a run's window the
 * hypervisor gave to others.  On a virtual machine a vCPU that is not
 * running counts "steal"; a latency run whose daemon lost its CPU for
 * milliseconds at a time measures the host, not the daemon.
 *
 * Counts are in clock ticks (USER_HZ); only differences mean anything.
 */
#ifndef EID_LOAD_PROCSTAT_H
#define EID_LOAD_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* CPUs counted one by one; more are counted in the total only. */
#define PROCSTAT_CPUS	256

struct procstat_cpu {
	uint64_t	 total;		/* every field up to steal */
	uint64_t	 steal;
	int		 seen;		/* the line was there */
};

struct procstat {
	struct procstat_cpu	 all;			/* the "cpu" line */
	struct procstat_cpu	 cpu[PROCSTAT_CPUS];	/* "cpuN" lines */
};

/*
 * Read the CPU lines at the start of fp (the format of /proc/stat:
 * "cpu" then "cpuN", each with user nice system idle iowait irq softirq
 * steal ...; kernels before 2.6.11 have no steal field, which counts 0).
 * Returns 0, or -1 if the "cpu" line is missing or malformed.
 */
int		 procstat_parse(FILE *fp, struct procstat *);
/* procstat_parse() of /proc/stat; -1 if it cannot be read. */
int		 procstat_read(struct procstat *);

/*
 * The share of the time between a and b that was stolen: of all CPUs
 * (cpu == -1) or of CPU cpu.  -1 when that CPU was not in both or no
 * time passed.
 */
double		 procstat_steal_share(const struct procstat *a,
		    const struct procstat *b, int cpu);

/*
 * The share of each CPU, by number, into out[0..m-1], m the lesser of n
 * and PROCSTAT_CPUS: -1 for a CPU not in both readings (offline) or
 * without time between them.  Returns the number of the last CPU with a
 * share plus one (at most m), 0 when no CPU has one.
 */
size_t		 procstat_steal_shares(const struct procstat *a,
		    const struct procstat *b, double *out, size_t n);

/*
 * The CPU that lost the largest share (the lowest-numbered of equals),
 * and that share; -1 and -1 when no CPU has one.
 */
double		 procstat_steal_worst(const struct procstat *a,
		    const struct procstat *b, int *cpu);

#endif /* EID_LOAD_PROCSTAT_H */
