/*
 * crypto/claims.c -- the eid assertion v1 claims profile (DESIGN.md
 * section 4) and the personal identification number rules.
 *
 * Everything here depends only on the signed claims and the policy, never
 * on the clock or the request, so that its result can be cached; the
 * per-request checks live in verify.c.  Claims are compared byte for byte
 * after JSON unescaping, with no Unicode normalisation or case folding
 * (RFC 7519 section 7.3, SECURITY.md 3.10).
 */
#include <string.h>

#include <jansson.h>

#include "crypto.h"

/*
 * Province codes of the 12-digit personal identification number: the 63
 * province-level units as numbered when the citizen identity card was
 * introduced (Circular 07/2016/TT-BCA).  Numbers already issued keep
 * these codes whatever later reorganisations do to the provinces.
 */
static const unsigned short claims_provinces[] = {
	1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27,
	30, 31, 33, 34, 35, 36, 37, 38, 40, 42, 44, 45, 46, 48, 49, 51, 52,
	54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77, 79, 80, 82,
	83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96
};

static bool
claims_is_digits(const char *s, size_t n)
{
	size_t	 i;

	/* Plain ASCII ranges: isdigit() would depend on the locale. */
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
claims_num(const char *s, size_t n)
{
	int	 v = 0;
	size_t	 i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int64_t
claims_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		 era, yoe, doy, doe;

	/* Howard Hinnant's days_from_civil, exact for the proleptic calendar. */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool
claims_date_parse(const char *s, size_t len, int *y, int *m, int *d)
{
	static const int mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int	 leap, max;

	if (len != 10 || s[4] != '-' || s[7] != '-' ||
	    !claims_is_digits(s, 4) || !claims_is_digits(s + 5, 2) ||
	    !claims_is_digits(s + 8, 2))
		return false;
	*y = claims_num(s, 4);
	*m = claims_num(s + 5, 2);
	*d = claims_num(s + 8, 2);
	if (*m < 1 || *m > 12 || *d < 1)
		return false;
	leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
	max = mdays[*m - 1] + (*m == 2 && leap);
	return *d <= max;
}

bool
eid_pin_is_valid(const char *pin, const char *birthdate,
    enum eid_gender gender)
{
	size_t	 i;
	int	 province, gc, yy, y, m, d;
	bool	 known = false;

	if (pin == NULL || birthdate == NULL || strlen(pin) != EID_PIN_LEN ||
	    !claims_is_digits(pin, EID_PIN_LEN))
		return false;
	if (!claims_date_parse(birthdate, strlen(birthdate), &y, &m, &d))
		return false;
	province = claims_num(pin, 3);
	for (i = 0; i < sizeof(claims_provinces) / sizeof(claims_provinces[0]);
	    i++)
		if (claims_provinces[i] == province)
			known = true;
	if (!known)
		return false;
	/*
	 * The fourth digit encodes century and gender: 0/1 for 1900-1999
	 * (male/female), 2/3 for 2000-2099, and so on up to 8/9 for
	 * 2300-2399.  The next two digits are the year within the century.
	 */
	gc = pin[3] - '0';
	yy = claims_num(pin + 4, 2);
	if (1900 + (gc / 2) * 100 + yy != y)
		return false;
	if (gender != (gc % 2 == 0 ? EID_GENDER_MALE : EID_GENDER_FEMALE))
		return false;
	return true;
}

/* Copy a JSON string of 1..max bytes with no control characters. */
static bool
claims_string(json_t *v, char *out, size_t max)
{
	const char	*s;
	size_t		 n, i;

	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/* A NumericDate: an integer within the profile's range (no reals). */
static bool
claims_time(json_t *v, int64_t *out)
{
	json_int_t	 t;

	if (!json_is_integer(v))
		return false;
	t = json_integer_value(v);
	if (t < 0 || t > TIME_MAX_S)
		return false;
	*out = (int64_t)t;
	return true;
}

enum eid_verdict
claims_parse(json_t *c, const struct key *key, const struct eid_policy *pol,
    struct eid_assertion *a)
{
	json_t		*v, *e;
	size_t		 i;
	const char	*g;
	int		 y, m, d;

	if (!json_is_object(c))
		return EID_VERDICT_INVALID_CLAIMS;

	/* A security event token or another JWT kind is not an assertion. */
	if (json_object_get(c, "events") != NULL)
		return EID_VERDICT_INVALID_CLAIMS;

	if (!claims_string(json_object_get(c, "iss"), a->iss, EID_ISS_MAX))
		return EID_VERDICT_INVALID_CLAIMS;
	/* RFC 8725 section 3.8: the key must belong to the issuer. */
	if (strcmp(a->iss, key->iss) != 0)
		return EID_VERDICT_UNTRUSTED_ISSUER;

	/*
	 * aud is checked against the request later; here only its shape.
	 * Absent and [] both leave no audience, which no request matches.
	 */
	a->aud_count = 0;
	if ((v = json_object_get(c, "aud")) != NULL) {
		if (json_is_string(v)) {
			if (!claims_string(v, a->aud[0], EID_AUD_MAX))
				return EID_VERDICT_INVALID_CLAIMS;
			a->aud_count = 1;
		} else if (json_is_array(v)) {
			if (json_array_size(v) > EID_AUD_MAX_COUNT)
				return EID_VERDICT_INVALID_CLAIMS;
			json_array_foreach(v, i, e) {
				if (!claims_string(e, a->aud[i], EID_AUD_MAX))
					return EID_VERDICT_INVALID_CLAIMS;
				a->aud_count = (unsigned int)i + 1;
			}
		} else
			return EID_VERDICT_INVALID_CLAIMS;
	}

	if (!claims_time(json_object_get(c, "exp"), &a->exp) ||
	    !claims_time(json_object_get(c, "iat"), &a->iat))
		return EID_VERDICT_INVALID_CLAIMS;
	if ((v = json_object_get(c, "nbf")) != NULL) {
		if (!claims_time(v, &a->nbf) || a->nbf >= a->exp)
			return EID_VERDICT_INVALID_CLAIMS;
		a->has_nbf = true;
	}
	if (a->exp <= a->iat || a->exp - a->iat > pol->max_lifetime_s)
		return EID_VERDICT_INVALID_CLAIMS;

	if (!claims_string(json_object_get(c, "jti"), a->jti, EID_JTI_MAX) ||
	    !claims_string(json_object_get(c, "name"), a->name, EID_NAME_MAX))
		return EID_VERDICT_INVALID_CLAIMS;

	if ((v = json_object_get(c, "sub")) == NULL || !json_is_string(v) ||
	    json_string_length(v) != EID_PIN_LEN ||
	    !claims_is_digits(json_string_value(v), EID_PIN_LEN))
		return EID_VERDICT_INVALID_CLAIMS;
	memcpy(a->sub, json_string_value(v), EID_PIN_LEN + 1);

	if ((v = json_object_get(c, "birthdate")) == NULL ||
	    !json_is_string(v) || !claims_date_parse(json_string_value(v),
	    json_string_length(v), &y, &m, &d))
		return EID_VERDICT_INVALID_CLAIMS;
	memcpy(a->birthdate, json_string_value(v), 11);

	if ((v = json_object_get(c, "gender")) == NULL || !json_is_string(v))
		return EID_VERDICT_INVALID_CLAIMS;
	g = json_string_value(v);
	if (strcmp(g, "male") == 0)
		a->gender = EID_GENDER_MALE;
	else if (strcmp(g, "female") == 0)
		a->gender = EID_GENDER_FEMALE;
	else
		return EID_VERDICT_INVALID_CLAIMS;

	/* Integer 1 or 2 only: "2", 2.0 and true are not levels. */
	if ((v = json_object_get(c, "eid_level")) == NULL ||
	    !json_is_integer(v) || (json_integer_value(v) != 1 &&
	    json_integer_value(v) != 2))
		return EID_VERDICT_INVALID_CLAIMS;
	a->level = (int)json_integer_value(v);

	if ((v = json_object_get(c, "nonce")) != NULL) {
		if (!claims_string(v, a->nonce, EID_NONCE_MAX))
			return EID_VERDICT_INVALID_CLAIMS;
		a->has_nonce = true;
	}

	if (!eid_pin_is_valid(a->sub, a->birthdate, a->gender))
		return EID_VERDICT_INVALID_CLAIMS;
	return EID_VERDICT_OK;
}
