#!/usr/bin/env bash
# Fails unless the binary given was linked with -z now and -z relro: its
# dynamic section flags BIND_NOW and it has a GNU_RELRO segment.
set -euo pipefail
binary=$1
if ! readelf -d "$binary" | grep -Eq 'BIND_NOW|FLAGS_1.*NOW'; then
  echo "bind_now_test: $binary binds its symbols lazily (no BIND_NOW)" >&2
  exit 1
fi
if ! readelf -lW "$binary" | grep -q GNU_RELRO; then
  echo "bind_now_test: $binary has no RELRO segment" >&2
  exit 1
fi
echo "bind_now_test: $binary: BIND_NOW and GNU_RELRO"
