#!/bin/sh
# quiesce hook for VMware Tools: installed by quiesce install vmware.
# VMware Tools runs every file in backupScripts.d with freeze, freezeFail
# or thaw before and after a quiesced snapshot. quiesce keeps its own log:
# VMware Tools does not capture this output.
QUIESCE_HOOK="$0" exec "@QUIESCE@"@OPTIONS@ vmware "$@"
