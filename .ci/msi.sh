#!/usr/bin/env bash
# The Windows installer: an MSI of the staged zip tree, built by wixl
# (Debian's msitools) from scripts/packaging/windows/quiesce.wxs.
#   .ci/msi.sh TREE PKG_VERSION OUT.msi
# TREE is the zip's top folder (quiesce.exe, vmware\, veeam\, windows\,
# docs\, quiesce.conf.example); PKG_VERSION the packages' version
# (.ci/dist.sh). "make dist" calls it; scripts/packaging's test calls it
# again with a later version to prove an upgrade.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tree=$1 pkg_version=$2 out=$3
for tool in wixl wixl-heat msibuild msiinfo; do
  command -v "$tool" >/dev/null || { echo "msi.sh: $tool not found (apt-get install wixl msitools)" >&2; exit 1; }
done

# An MSI version is MAJOR.MINOR.BUILD, numbers only (255.255.65535 at
# most): 1.2.3+4.gabc -> 1.2.3 (a build after a tag replaces the tag's,
# see AllowSameVersionUpgrades below); 0.0.0+git242.e84ea62 (no tag yet)
# -> 0.0.242, so a later commit upgrades an earlier one.
msi_version() {
  case "$1" in
    0.0.0+git*) n=${1#0.0.0+git}; echo "0.0.${n%%.*}" ;;
    *) echo "$1" | sed -E 's/^([0-9]+\.[0-9]+\.[0-9]+).*/\1/' ;;
  esac
}
version=$(msi_version "$pkg_version")
IFS=. read -r major minor build <<<"$version"
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || ((10#$major > 255 || 10#$minor > 255 || 10#$build > 65535)); then
  echo "msi.sh: no MSI version (at most 255.255.65535) in $pkg_version" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/tree" && cp -r "$tree/." "$work/tree/"
# Every file of the tree but install.cmd (the zip's installer) is listed
# by wixl-heat, with component GUIDs derived from the path: stable across
# versions. The .wxs adds the example's copy as %ProgramData%\quiesce\quiesce.conf.
(cd "$tree" && find . -type f | sed 's#^\./##' | grep -Fvx 'install.cmd' | LC_ALL=C sort |
  wixl-heat -p '' --directory-ref INSTALLDIR --var var.SourceDir --component-group files --win64) >"$work/files.wxs"
# The uninstall's custom action runs quiesce.exe by its File Id.
exe_id=$(sed -n 's#.*<File Id="\([^"]*\)".*/quiesce\.exe"/>.*#\1#p' "$work/files.wxs")
[ -n "$exe_id" ] || { echo "msi.sh: wixl-heat listed no quiesce.exe" >&2; exit 1; }
# wixl wants SourceDir relative: it is run from $work, the tree copied there.
(cd "$work" && wixl -a x64 -D Version="$version" -D SourceDir=tree -D Win64=yes -D QuiesceExe="$exe_id" -o quiesce.msi \
  "$here/scripts/packaging/windows/quiesce.wxs" files.wxs)

# What wixl 0.101 cannot say in the .wxs, set in its tables:
# - the configuration is never overwritten (an upgrade keeps the admin's)
#   and stays on uninstall: Component attributes 256 (64-bit) + 128
#   (NeverOverwrite) + 16 (Permanent);
# - a build of the same version replaces the installed one
#   (AllowSameVersionUpgrades: VersionMax inclusive, attribute 512).
q() { msibuild "$work/quiesce.msi" -q "$1"; }
q "UPDATE \`Component\` SET \`Attributes\` = 400 WHERE \`Component\` = 'Config'"
# (msiinfo ends its lines with CRLF)
upgrade_code=$(msiinfo export "$work/quiesce.msi" Property | tr -d '\r' | awk '$1 == "UpgradeCode" {print $2}')
[[ $upgrade_code =~ ^\{[0-9A-F-]{36}\}$ ]] || { echo "msi.sh: no UpgradeCode in the MSI ($upgrade_code)" >&2; exit 1; }
q "DELETE FROM \`Upgrade\` WHERE \`Attributes\` = 1"
q "INSERT INTO \`Upgrade\` (\`UpgradeCode\`, \`VersionMax\`, \`Attributes\`, \`ActionProperty\`) VALUES ('$upgrade_code', '$version', 513, 'WIX_UPGRADE_DETECTED')"
# - %ProgramData%\quiesce (configuration, state, log) gets its own ACL:
#   SYSTEM and Administrators full control, Users read; not ProgramData's
#   inherited one, which lets every user create files there (a quiesce.conf
#   of theirs would make quiesce, run as SYSTEM, run their commands). SDDL
#   (MsiLockPermissionsEx, Windows Installer 5) names the groups by SID, so
#   it holds on every language of Windows.
q "CREATE TABLE \`MsiLockPermissionsEx\` (\`MsiLockPermissionsEx\` CHAR(72) NOT NULL, \`LockObject\` CHAR(72) NOT NULL, \`Table\` CHAR(32) NOT NULL, \`SDDLText\` CHAR(255) NOT NULL, \`Condition\` CHAR(255) PRIMARY KEY \`MsiLockPermissionsEx\`)"
q "INSERT INTO \`MsiLockPermissionsEx\` (\`MsiLockPermissionsEx\`, \`LockObject\`, \`Table\`, \`SDDLText\`) VALUES ('ConfDir', 'CONFDIR', 'CreateFolder', 'D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)')"
mv "$work/quiesce.msi" "$out"
