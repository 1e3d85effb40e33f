#!/bin/sh
# quiesce hook for the Google Cloud guest agent: installed by quiesce install gcp.
# The agent runs /etc/google/snapshots/pre.sh directly with one argument, the
# disk list, for a snapshot with guest-flush. quiesce keeps its own log.
QUIESCE_HOOK="$0" exec "@QUIESCE@"@OPTIONS@ gcp pre "$@"
