#!/bin/sh
# Veeam Backup & Replication post-thaw script for Linux guests (upload it in the
# job: Guest Processing > Applications > Scripts). installed by quiesce install veeam.
# Veeam counts any output on stderr as a failure: everything goes to stdout.
exec 2>&1
Q="${QUIESCE:-@QUIESCE@}"
if [ ! -x "$Q" ]; then
  echo "quiesce veeam post-thaw: quiesce is not installed at $Q on this guest"
  exit 1
fi
exec "$Q"@OPTIONS@ veeam post-thaw "$@"
