/*
 * tests/fuzz/fuzz_hdr.c -- libFuzzer harness for eid-load's reader of
 * report files' histograms: hdr_decode() (load/hdr.c), which eid-load
 * --merge runs on each report it is given.
 *
 * The first input byte picks the layer: 0, the rest is the string as a
 * report holds it (base64 of the compressed encoding); otherwise the
 * rest is the uncompressed encoding, compressed and wrapped here, so
 * that the fuzzer reaches the header and the counts behind zlib.  A
 * decoded histogram must encode and decode again to the same counters;
 * a refused one must leave the histogram as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "hdr.h"
#include "hist.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* data compressed and wrapped as a V2 compressed histogram, base64. */
static char *
wrap(const uint8_t *data, size_t size)
{
	uLongf		 clen = compressBound((uLong)size);
	unsigned char	*c;
	char		*s = NULL;

	if ((c = malloc(8 + clen)) == NULL)
		return NULL;
	if (compress2(c + 8, &clen, data, (uLong)size, 1) == Z_OK) {
		c[0] = 0x1c; c[1] = 0x84; c[2] = 0x93; c[3] = 0x14;
		c[4] = (unsigned char)(clen >> 24);
		c[5] = (unsigned char)(clen >> 16);
		c[6] = (unsigned char)(clen >> 8);
		c[7] = (unsigned char)clen;
		if ((s = malloc((8 + clen + 2) / 3 * 4 + 1)) != NULL)
			EVP_EncodeBlock((unsigned char *)s, c, (int)(8 + clen));
	}
	free(c);
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hist	*h, *again;
	char		*s, *enc, err[256];
	size_t		 i;

	if (size < 1)
		return 0;
	if (data[0] == 0) {
		if ((s = malloc(size)) == NULL)
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
	} else if ((s = wrap(data + 1, size - 1)) == NULL)
		return 0;
	h = hist_new();
	again = hist_new();
	if (h == NULL || again == NULL)
		abort();
	hist_record(h, 12345);
	if (hdr_decode(s, strlen(s), h, err, sizeof(err)) != 0) {
		if (hist_count(h) != 1 || hist_max(h) != 12345 ||
		    err[0] == '\0')
			abort();
	} else {
		if ((enc = hdr_encode(h)) == NULL)
			abort();
		if (hdr_decode(enc, strlen(enc), again, err,
		    sizeof(err)) != 0)
			abort();
		for (i = 0; i < hist_counters(); i++)
			if (hist_counter(h, i) != hist_counter(again, i))
				abort();
		free(enc);
	}
	hist_free(h);
	hist_free(again);
	free(s);
	return 0;
}
