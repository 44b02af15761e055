/*
 * load/merge.h -- eid-load --merge: one report from the JSON reports of
 * several eid-load runs that loaded a service at the same time (one per
 * generator machine), with the latency percentiles of all their answers
 * taken from their merged histograms, never averaged.
 */
#ifndef EID_LOAD_MERGE_H
#define EID_LOAD_MERGE_H

/*
 * Run "eid-load --merge [options] REPORT...": argv[0] is "--merge".
 * Returns the exit status: 0, 1 if the merged runs had errors or a
 * report could not be written, 2 for a usage error or a report that
 * cannot be read or merged (one line on stderr).
 */
int	 merge_main(int argc, char **argv);

#endif /* EID_LOAD_MERGE_H */
