#!/usr/bin/env bash
# certs/mkdev.sh OUTDIR -- the recipe for eidd's DEVELOPMENT PKI.
#
# Never use its output outside development and tests: every key is made
# here, on this machine, and the names say "(DEV)".  It writes:
#   national identity PKI: root-ca (stand-in national root, P-384),
#     idp-ca (identity-provider intermediate, P-384), and the signing
#     certificates idp-{es256,es384,rs256,ps256,eddsa}.{key,crt,chain.pem};
#   TLS PKI: tls-ca (= ca.pem), server (P-256, localhost/127.0.0.1/::1),
#     client certificates rp-dichvucong, rp-bhxh, admin;
#   test/: certificates that a loader or TLS server must refuse.
# Idempotent: a complete OUTDIR (marked by OUTDIR/.complete) is left alone;
# an interrupted run is redone from scratch in a temporary directory.
set -euo pipefail

out=${1:?usage: mkdev.sh OUTDIR}
[ -f "$out/.complete" ] && exit 0
parent=$(dirname "$out")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.mkdev.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
umask 077
cd "$tmp"
mkdir -p test db

O="/C=VN/O=eidd development"

key() {	# name kind [param]
	case $2 in
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-pkeyopt ec_param_enc:named_curve -out "$1.key" ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
		-pkeyopt ec_param_enc:named_curve -out "$1.key" ;;
	p521) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 \
		-pkeyopt ec_param_enc:named_curve -out "$1.key" ;;
	rsa) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$3" \
		-out "$1.key" ;;
	rsapss) openssl genpkey -algorithm RSA-PSS \
		-pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_pss_keygen_md:sha256 \
		-pkeyopt rsa_pss_keygen_mgf1_md:sha256 \
		-pkeyopt rsa_pss_keygen_saltlen:32 -out "$1.key" ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$1.key" ;;
	esac 2>/dev/null
}

# Extension sections, one file for all.
cat >ext.cnf <<'CNF'
[ca_root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ca_inter]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[signing]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[nodigsig]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[critext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.3.6.1.4.1.99999.1 = critical,ASN1:UTF8String:unknown
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF

# A minimal "openssl ca" setup, only for certificates with fixed dates.
cat >ca.cnf <<'CNF'
[ca]
default_ca = dev
[dev]
database = db/index.txt
new_certs_dir = db
serial = db/serial
default_md = sha384
email_in_dn = no
preserve = yes
policy = any
unique_subject = no
copy_extensions = none
[any]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
CNF
: >db/index.txt
openssl rand -hex 16 >db/serial

# Every certificate starts a day in the past, so that a verifier whose
# clock lags, or a test that looks a little back in time, still sees it
# valid.  "openssl ca" is the only 3.0 command that sets a start date.
start=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
until_days() { date -u -d "+$1 days" +%Y%m%d%H%M%SZ; }

sign() {	# name subject ext issuer(or -self) start end
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
	if [ "$4" = -self ]; then
		set -- "$1" "$2" "$3" "$1" "$5" "$6" -selfsign
	else
		set -- "$1" "$2" "$3" "$4" "$5" "$6" -cert "$4.crt"
	fi
	openssl ca -batch -config ca.cnf -keyfile "$4.key" "${@:7}" \
	    -in "$1.csr" -startdate "$5" -enddate "$6" -extfile ext.cnf \
	    -extensions "$3" -notext -out "$1.crt" 2>/dev/null
	rm -f "$1.csr"
}

selfsign() {	# name subject ext days
	sign "$1" "$2" "$3" -self "$start" "$(until_days "$4")"
}

issue() {	# name subject ext days issuer
	sign "$1" "$2" "$3" "$5" "$start" "$(until_days "$4")"
}

issue_dated() {	# name subject ext issuer start end (YYYYMMDDhhmmssZ)
	sign "$1" "$2" "$3" "$4" "$5" "$6"
}

# National identity PKI.
key root-ca p384
selfsign root-ca "$O/CN=Vietnam National Root CA (DEV)" ca_root 3650
key idp-ca p384
issue idp-ca "$O/CN=VNeID Identity Provider CA (DEV)" ca_inter 1825 root-ca
cp idp-ca.crt idp-ca-chain.pem
for spec in es256:p256 es384:p384 rs256:rsa:2048 ps256:rsa:2048 \
    eddsa:ed25519; do
	IFS=: read -r alg kind bits <<<"$spec"
	key "idp-$alg" "$kind" "${bits:-}"
	issue "idp-$alg" "$O/CN=VNeID Assertion Signing ${alg^^} (DEV)" \
	    signing 730 idp-ca
	cat "idp-$alg.crt" idp-ca.crt >"idp-$alg.chain.pem"
done

# TLS PKI.
key tls-ca p256
selfsign tls-ca "$O/CN=eidd TLS CA (DEV)" ca_root 3650
cp tls-ca.crt ca.pem
key server p256
issue server "$O/CN=localhost" server 730 tls-ca
for c in rp-dichvucong:relying-party rp-bhxh:relying-party admin:operator; do
	IFS=: read -r name ou <<<"$c"
	key "$name" p256
	issue "$name" "$O/OU=$ou/CN=$name" client 730 tls-ca
done

# Negative material.
key test/other-root p256
selfsign test/other-root "$O/CN=Some Other Root (DEV)" ca_root 3650
key test/other-es256 p256
issue test/other-es256 "$O/CN=Other Signing (DEV)" signing 730 test/other-root
key test/expired-es256 p256
issue_dated test/expired-es256 "$O/CN=Expired Signing (DEV)" signing idp-ca \
    20200101000000Z 20210101000000Z
key test/future-es256 p256
issue_dated test/future-es256 "$O/CN=Future Signing (DEV)" signing idp-ca \
    20900101000000Z 20910101000000Z
key test/nodigsig-es256 p256
issue test/nodigsig-es256 "$O/CN=No DigSig (DEV)" nodigsig 730 idp-ca
key test/critext-es256 p256
issue test/critext-es256 "$O/CN=Critical Ext (DEV)" critext 730 idp-ca
key test/selfsigned-es256 p256
selfsign test/selfsigned-es256 "$O/CN=VNeID Assertion Signing ES256 (DEV)" \
    signing 730
key test/unrelated-es256 p256
issue test/unrelated-es256 "$O/CN=Some Other Agency Signing (DEV)" signing \
    730 root-ca
key test/p521 p521
issue test/p521 "$O/CN=P-521 Signing (DEV)" signing 730 idp-ca
key test/rsa1024 rsa 1024
issue test/rsa1024 "$O/CN=RSA-1024 Signing (DEV)" signing 730 idp-ca
key test/rsapss-ps256 rsapss
issue test/rsapss-ps256 "$O/CN=RSA-PSS Signing (DEV)" signing 730 idp-ca
key test/idp-es256-b p256
issue test/idp-es256-b "$O/CN=Second Issuer Signing (DEV)" signing 730 \
    idp-ca
cat test/idp-es256-b.crt idp-ca.crt >test/idp-es256-b.chain.pem
key test/tls-other-ca p256
selfsign test/tls-other-ca "$O/CN=Other TLS CA (DEV)" ca_root 3650
key test/rp-dichvucong-fake p256
issue test/rp-dichvucong-fake "$O/OU=relying-party/CN=rp-dichvucong" client \
    730 test/tls-other-ca
key test/rp-unmapped p256
issue test/rp-unmapped "$O/OU=relying-party/CN=rp-unmapped" client 730 tls-ca
key test/client-expired p256
issue_dated test/client-expired "$O/OU=relying-party/CN=client-expired" \
    client tls-ca 20200101000000Z 20210101000000Z

rm -rf db ca.cnf ext.cnf test/*.srl ./*.srl
chmod 0644 ./*.crt ./*.pem test/*.crt test/*.pem
chmod 0600 ./*.key test/*.key
chmod 0755 . test

# Publish: replace any partial OUTDIR, then mark it complete.
cd - >/dev/null
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
touch "$out/.complete"
echo "certs: wrote $out"
