/*
 * load/hdr.h -- a histogram (hist.h) in HdrHistogram's V2 compressed
 * encoding, base64: the "HISTF..." strings of HdrHistogram's interval
 * logs, which its tools in every language read (decodeFromCompressed-
 * ByteBuffer in Java, hdr_log_decode in C, decodeFromCompressedBase64
 * in JavaScript).  eid-load writes the window's latencies so into its
 * JSON report, and reads them back to merge the reports of several
 * generators (eid-load --merge).
 *
 * The layout is the one hist.h keeps: lowest discernible value 1, three
 * significant digits, values up to HIST_HIGHEST; eid-load writes no
 * normalising offset and a conversion ratio of 1, and ignores both when
 * it reads, as HdrHistogram's readers of integer histograms do.  A
 * string of another layout, or with values past HIST_HIGHEST, is
 * refused, not converted.  The counts carry no exact minimum, maximum or mean: a
 * decoded histogram has them to the precision of its counters.
 */
#ifndef EID_LOAD_HDR_H
#define EID_LOAD_HDR_H

#include <stddef.h>

#include "hist.h"

/* Longest string hdr_decode() takes: more than any histogram needs. */
#define HDR_MAX_B64	(1024 * 1024)

/*
 * h encoded: a new NUL-terminated string for the caller to free(), or
 * NULL if out of memory.
 */
char	*hdr_encode(const struct hist *h);

/*
 * Add the histogram that the len bytes of s encode to h.  Returns 0, or
 * -1 with h unchanged and the reason in err (not base64, not a V2
 * compressed histogram, damaged, not in its shortest form, another
 * layout, or too large: more than 2^63 - 1 values with h's).  s is
 * untrusted: every length and count in it is checked before use.
 */
int	 hdr_decode(const char *s, size_t len, struct hist *h, char *err,
	    size_t errlen);

#endif /* EID_LOAD_HDR_H */
