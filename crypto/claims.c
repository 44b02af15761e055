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
claims_string(const struct claim *v, char *out, size_t max)
{
	size_t	 i;

	if (v->type != CLAIM_STRING || v->len == 0 || v->len > max)
		return false;
	for (i = 0; i < v->len; i++)
		if ((unsigned char)v->s[i] < 0x20 || v->s[i] == 0x7f)
			return false;
	memcpy(out, v->s, v->len);
	out[v->len] = '\0';
	return true;
}

/* A NumericDate: an integer within the profile's range (no reals). */
static bool
claims_time(const struct claim *v, int64_t *out)
{
	if (v->type != CLAIM_INTEGER || v->i < 0 || v->i > TIME_MAX_S)
		return false;
	*out = v->i;
	return true;
}

static bool
claims_is(const struct claim *v, const char *s)
{
	return v->type == CLAIM_STRING && v->len == strlen(s) &&
	    memcmp(v->s, s, v->len) == 0;
}

enum eid_verdict
claims_check(const struct claims_view *c, const struct key *key,
    const struct eid_policy *pol, struct eid_assertion *a)
{
	size_t		 i;
	int		 y, m, d;

	/* A security event token or another JWT kind is not an assertion. */
	if (c->events.type != CLAIM_ABSENT)
		return EID_VERDICT_INVALID_CLAIMS;

	if (!claims_string(&c->iss, a->iss, EID_ISS_MAX))
		return EID_VERDICT_INVALID_CLAIMS;
	/* RFC 8725 section 3.8: the key must belong to the issuer. */
	if (strcmp(a->iss, key->iss) != 0)
		return EID_VERDICT_UNTRUSTED_ISSUER;

	/*
	 * aud is checked against the request later; here only its shape.
	 * Absent and [] both leave no audience, which no request matches.
	 */
	a->aud_count = 0;
	if (c->aud.type == CLAIM_STRING) {
		if (!claims_string(&c->aud, a->aud[0], EID_AUD_MAX))
			return EID_VERDICT_INVALID_CLAIMS;
		a->aud_count = 1;
	} else if (c->aud.type == CLAIM_ARRAY) {
		if (c->aud.len > EID_AUD_MAX_COUNT)
			return EID_VERDICT_INVALID_CLAIMS;
		for (i = 0; i < c->aud.len; i++) {
			if (!claims_string(&c->aud_items[i], a->aud[i],
			    EID_AUD_MAX))
				return EID_VERDICT_INVALID_CLAIMS;
			a->aud_count = (unsigned int)i + 1;
		}
	} else if (c->aud.type != CLAIM_ABSENT)
		return EID_VERDICT_INVALID_CLAIMS;

	if (!claims_time(&c->exp, &a->exp) || !claims_time(&c->iat, &a->iat))
		return EID_VERDICT_INVALID_CLAIMS;
	if (c->nbf.type != CLAIM_ABSENT) {
		if (!claims_time(&c->nbf, &a->nbf) || a->nbf >= a->exp)
			return EID_VERDICT_INVALID_CLAIMS;
		a->has_nbf = true;
	}
	if (a->exp <= a->iat || a->exp - a->iat > pol->max_lifetime_s)
		return EID_VERDICT_INVALID_CLAIMS;

	if (!claims_string(&c->jti, a->jti, EID_JTI_MAX) ||
	    !claims_string(&c->name, a->name, EID_NAME_MAX))
		return EID_VERDICT_INVALID_CLAIMS;

	if (c->sub.type != CLAIM_STRING || c->sub.len != EID_PIN_LEN ||
	    !claims_is_digits(c->sub.s, EID_PIN_LEN))
		return EID_VERDICT_INVALID_CLAIMS;
	memcpy(a->sub, c->sub.s, EID_PIN_LEN);
	a->sub[EID_PIN_LEN] = '\0';

	if (c->birthdate.type != CLAIM_STRING ||
	    !claims_date_parse(c->birthdate.s, c->birthdate.len, &y, &m, &d))
		return EID_VERDICT_INVALID_CLAIMS;
	memcpy(a->birthdate, c->birthdate.s, 10);
	a->birthdate[10] = '\0';

	if (claims_is(&c->gender, "male"))
		a->gender = EID_GENDER_MALE;
	else if (claims_is(&c->gender, "female"))
		a->gender = EID_GENDER_FEMALE;
	else
		return EID_VERDICT_INVALID_CLAIMS;

	/* Integer 1 or 2 only: "2", 2.0 and true are not levels. */
	if (c->eid_level.type != CLAIM_INTEGER ||
	    (c->eid_level.i != 1 && c->eid_level.i != 2))
		return EID_VERDICT_INVALID_CLAIMS;
	a->level = (int)c->eid_level.i;

	if (c->nonce.type != CLAIM_ABSENT) {
		if (!claims_string(&c->nonce, a->nonce, EID_NONCE_MAX))
			return EID_VERDICT_INVALID_CLAIMS;
		a->has_nonce = true;
	}

	if (!eid_pin_is_valid(a->sub, a->birthdate, a->gender))
		return EID_VERDICT_INVALID_CLAIMS;
	return EID_VERDICT_OK;
}

/* One member of a jansson value; v may be NULL (absent). */
static void
claims_from_json(json_t *v, struct claim *out)
{
	memset(out, 0, sizeof(*out));
	if (v == NULL)
		out->type = CLAIM_ABSENT;
	else if (json_is_string(v)) {
		out->type = CLAIM_STRING;
		out->s = json_string_value(v);
		out->len = json_string_length(v);
	} else if (json_is_integer(v)) {
		out->type = CLAIM_INTEGER;
		out->i = (int64_t)json_integer_value(v);
	} else if (json_is_array(v)) {
		out->type = CLAIM_ARRAY;
		out->len = json_array_size(v);
	} else
		out->type = CLAIM_OTHER;
}

enum eid_verdict
claims_parse(json_t *c, const struct key *key, const struct eid_policy *pol,
    struct eid_assertion *a)
{
	struct claims_view	 v;
	json_t			*aud;
	size_t			 i;

	if (!json_is_object(c))
		return EID_VERDICT_INVALID_CLAIMS;
	claims_from_json(json_object_get(c, "iss"), &v.iss);
	claims_from_json(json_object_get(c, "sub"), &v.sub);
	claims_from_json(aud = json_object_get(c, "aud"), &v.aud);
	claims_from_json(json_object_get(c, "exp"), &v.exp);
	claims_from_json(json_object_get(c, "iat"), &v.iat);
	claims_from_json(json_object_get(c, "nbf"), &v.nbf);
	claims_from_json(json_object_get(c, "jti"), &v.jti);
	claims_from_json(json_object_get(c, "name"), &v.name);
	claims_from_json(json_object_get(c, "birthdate"), &v.birthdate);
	claims_from_json(json_object_get(c, "gender"), &v.gender);
	claims_from_json(json_object_get(c, "eid_level"), &v.eid_level);
	claims_from_json(json_object_get(c, "nonce"), &v.nonce);
	claims_from_json(json_object_get(c, "events"), &v.events);
	for (i = 0; i < EID_AUD_MAX_COUNT; i++)
		claims_from_json(v.aud.type == CLAIM_ARRAY ?
		    json_array_get(aud, i) : NULL, &v.aud_items[i]);
	return claims_check(&v, key, pol, a);
}

enum eid_verdict
claims_parse_payload(const unsigned char *p, size_t len,
    const struct key *key, const struct eid_policy *pol,
    struct eid_assertion *a)
{
	struct claims_view	 v;
	json_error_t		 jerr;
	json_t			*c;
	enum eid_verdict	 rc;

	/* Real claims take the scan; anything else goes to jansson. */
	if (claims_scan(p, len, &v))
		return claims_check(&v, key, pol, a);
	/* A JSON non-object is no claims set: DECODE_ANY lets it say so. */
	c = json_loadb((const char *)p, len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (c == NULL)
		return json_error_code(&jerr) == json_error_out_of_memory ?
		    EID_VERDICT_INTERNAL : EID_VERDICT_MALFORMED;
	rc = claims_parse(c, key, pol, a);
	json_decref(c);
	return rc;
}
