#!/usr/bin/env bash
# Throwaway PKI for the TLS tests, made fresh in DIR on every run (private
# keys are never committed). Two CAs and certificates valid for two days:
#   ca.pem/.key, other-ca.pem/.key     the test CA, and one nobody trusts
#   server-1001.pem/.key, server-1002, server-1003
#                                      gateway certificates (CN and SAN
#                                      127.0.0.1 / localhost), the number is
#                                      the serial, so a test can tell them apart
#   client.pem/.key                    CN=svc-reports, SANs DNS:reports.internal
#                                      and URI:spiffe://b24gate.test/reports
#   unknown-client.pem/.key            CN=svc-unknown, signed by the test CA
#   stranger.pem/.key                  CN=svc-reports signed by the other CA
#
# usage: make_test_certs.sh DIR
set -euo pipefail
DIR=${1:?usage: make_test_certs.sh DIR}
mkdir -p "$DIR"
cd "$DIR"
umask 077

# EC keys: quick to make, and gRPC's TLS takes them like RSA ones.
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

make_ca() {
  new_key "$1"
  openssl req -x509 -new -key "$1.key" -days 2 -subj "/CN=$2" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

# issue NAME CA SERIAL SUBJECT_CN EXTENDED_KEY_USAGE SUBJECT_ALT_NAMES
issue() {
  local name=$1 ca=$2 serial=$3 cn=$4 eku=$5 san=$6
  new_key "$name"
  openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
  printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$eku" "$san" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -set_serial "$serial" -days 2 \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

make_ca ca "b24gate test CA"
make_ca other-ca "someone else's CA"
for serial in 1001 1002 1003; do
  issue "server-$serial" ca "$serial" 127.0.0.1 serverAuth "IP:127.0.0.1,DNS:localhost"
done
issue client ca 2001 svc-reports clientAuth "DNS:reports.internal,URI:spiffe://b24gate.test/reports"
issue unknown-client ca 2002 svc-unknown clientAuth "DNS:unknown.internal"
issue stranger other-ca 3001 svc-reports clientAuth "DNS:reports.internal"
