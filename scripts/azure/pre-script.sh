#!/bin/sh
# Azure Backup pre-script for Linux VMs, named in VMSnapshotScriptPluginConfig.json.
# installed by quiesce install azure; 'quiesce uninstall azure' removes it.
# The Azure VM backup extension runs it as root: sh <this file> <preScriptParams...>
# It must stay owned by root with mode 700, or the extension refuses it.
Q="${QUIESCE:-@QUIESCE@}"
if [ ! -x "$Q" ]; then
  echo "quiesce azure pre-script: quiesce is not installed at $Q on this VM" >&2
  exit 1
fi
exec "$Q"@OPTIONS@ azure --plugin-config=@PLUGINCONFIG@ pre-script "$@"
