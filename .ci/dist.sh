#!/usr/bin/env bash
# make dist, dist-linux, dist-windows: quiesce's release packages, into
# $DIST (default dist/):
#   linux:   quiesce_VERSION-1_amd64.deb, quiesce_VERSION-1_arm64.deb,
#            quiesce-VERSION-1.x86_64.rpm, quiesce-VERSION-1.aarch64.rpm
#   windows: quiesce-VERSION-windows-amd64.zip, quiesce-VERSION-windows-amd64.msi
#   .ci/dist.sh [linux] [windows]   (no argument: both)
# Environment (the Makefile sets them): GO, VERSION (git describe: what
# "quiesce version" prints), DIST. "dist.sh --version" prints VERSION and
# the packages' version and builds nothing.
#
# What each part needs besides go, git, make and gzip (Debian packages):
#   linux:   nothing (nfpm is built from the Go module proxy)
#   windows: zip, wixl and msitools
#
# The .deb and .rpm are built by nfpm, pinned in .ci/dist.mod: a modfile
# of its own, so that the packaging tool's dependencies stay out of the
# product's go.mod (and its go line out of "make test-oldest-go").
set -euo pipefail
cd "$(dirname "$0")/.."
: "${GO:=go}" "${VERSION:?}" "${DIST:=dist}"

# The packages' version, from VERSION (dpkg and rpm need a leading digit):
#   v1.2.3                  -> 1.2.3
#   v1.2.3-4-gabc1234-dirty -> 1.2.3+4.gabc1234.dirty  (sorts after 1.2.3)
#   abc1234[-dirty] (no tag) -> 0.0.0+gitN.abc1234[.dirty], N commits: a later build sorts later
pkg_version() {
  case "$1" in
    v[0-9]* | [0-9]*.[0-9]*) v=${1#v}; v=${v/-/+}; echo "${v//-/.}" ;;
    *) v="0.0.0+git$(git rev-list --count HEAD 2>/dev/null || echo 0).$1"; echo "${v//-/.}" ;;
  esac
}
PKG_VERSION=$(pkg_version "$VERSION")
if [ "${1:-}" = --version ]; then
  echo "$VERSION $PKG_VERSION"
  exit 0
fi
began=$(date +%s)
linux=false windows=false
[ $# -gt 0 ] || set -- linux windows
for part in "$@"; do
  case "$part" in
    linux) linux=true ;;
    windows) windows=true ;;
    *) echo "dist.sh: unknown part $part (linux or windows)" >&2; exit 2 ;;
  esac
done
target=dist
[ "$linux" = "$windows" ] || { [ "$linux" = true ] && target=dist-linux || target=dist-windows; }
# Every missing tool in one line, before anything is built.
if [ "$windows" = true ]; then
  missing=() pkgs=()
  for tool in zip:zip wixl:wixl wixl-heat:wixl msibuild:msitools msiinfo:msitools; do
    command -v "${tool%%:*}" >/dev/null && continue
    missing+=("${tool%%:*}")
    [[ " ${pkgs[*]} " == *" ${tool#*:} "* ]] || pkgs+=("${tool#*:}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    msg="make $target: the Windows packages need ${missing[*]}, not installed (apt-get install ${pkgs[*]})"
    [ "$linux" = true ] && msg+="; the Linux packages alone need neither: make dist-linux"
    echo "$msg" >&2
    exit 1
  fi
fi
stage="$DIST/stage"
rm -rf "$stage"
mkdir -p "$stage/common/completion" "$stage/common/systemd" "$stage/common/doc" "$DIST/tools"
if [ "$linux" = true ]; then
  rm -f "$DIST"/quiesce[_-]*.deb "$DIST"/quiesce-*.rpm
fi
if [ "$windows" = true ]; then
  rm -f "$DIST"/quiesce-*-windows-*.zip "$DIST"/quiesce-*-windows-*.msi
fi
out=$(cd "$DIST" && pwd)

# The binaries: static (no cgo: one binary for every distribution), symbols
# stripped; the version is stamped as "make build" does. No -trimpath: it
# would recompile the standard library for every target instead of reusing
# what "make test" compiled, and CI time matters more here.
build() { # GOOS GOARCH OUTPUT
  CGO_ENABLED=0 GOOS="$1" GOARCH="$2" "$GO" build -ldflags "-s -w -X main.version=$VERSION" -o "$3" ./cmd/quiesce
}
linux_packages() {
  # Generated from the CLI itself by a binary for this machine: the man page
  # and the completion scripts cannot drift from the commands.
  host="$stage/linux-$("$GO" env GOHOSTARCH)/quiesce"
  if [ "$("$GO" env GOHOSTOS)" != linux ] || [ ! -x "$host" ]; then
    host="$DIST/tools/quiesce"
    "$GO" build -ldflags "-X main.version=$VERSION" -o "$host" ./cmd/quiesce
  fi
  "$host" man | gzip -9n >"$stage/common/quiesce.8.gz"
  "$host" completion bash >"$stage/common/completion/quiesce"
  "$host" completion zsh >"$stage/common/completion/_quiesce"

  # The units as packaged: the binary is /usr/sbin/quiesce (a build from
  # source installs /usr/local/sbin/quiesce), the guides are under /usr/share/doc.
  for unit in scripts/systemd/*.service; do
    sed -e 's#/usr/local/sbin/quiesce#/usr/sbin/quiesce#g' \
        -e 's#file:///usr/local/share/doc/quiesce/#file:///usr/share/doc/quiesce/#g' \
        "$unit" >"$stage/common/systemd/$(basename "$unit")"
  done
  cp scripts/packaging/quiesce.conf "$stage/common/quiesce.conf"
  cp docs/*.md "$stage/common/doc/"
  # The README beside the guides, its links to them made relative to it.
  sed -e 's#](docs/#](#g' README.md >"$stage/common/doc/README.md"
  cp -r docs/examples "$stage/common/examples"
  # The fleet view (scripts/fleet): the dashboard, the rules and their test.
  mkdir -p "$stage/common/fleet"
  cp scripts/fleet/quiesce-alerts.yml scripts/fleet/quiesce-alerts.test.yml scripts/fleet/quiesce-dashboard.json "$stage/common/fleet/"

  nfpm=$(cd "$DIST/tools" && pwd)/nfpm
  for arch in amd64 arm64; do
    dir="$stage/linux-$arch"
    cp -r "$stage/common/." "$dir/"
    for packager in deb rpm; do
      (cd "$dir" && ARCH=$arch PKG_VERSION=$PKG_VERSION "$nfpm" package --config "$OLDPWD/scripts/packaging/nfpm.yaml" \
        --packager "$packager" --target "$out/" >/dev/null)
    done
  done
}

windows_packages() {
  # The Windows zip: quiesce.exe, the install script, the VMware and Veeam
  # batch shims with @QUIESCE@ set to where install.cmd puts quiesce.exe (as
  # "quiesce install" renders them), the boot-recovery task, the guides.
  name="quiesce-$PKG_VERSION-windows-amd64"
  win="$stage/windows/$name"
  exe='C:\Program Files\quiesce\quiesce.exe'
  mkdir -p "$win/vmware" "$win/veeam" "$win/windows" "$win/docs"
  mv "$stage/windows/quiesce.exe" "$win/"
  for f in scripts/vmware/*.cmd scripts/vmware/*.bat scripts/veeam/*.cmd; do
    dir=$(basename "$(dirname "$f")")
    sed -e "s#@QUIESCE@#${exe//\\/\\\\}#g" -e 's#@OPTIONS@##g' "$f" >"$win/$dir/$(basename "$f")"
  done
  cp scripts/windows/* "$win/windows/"
  cp scripts/packaging/windows/install.cmd "$win/"
  cp docs/examples/domino-windows.conf "$win/quiesce.conf.example"
  cp docs/windows.md docs/configuration.md docs/vmware.md docs/veeam.md "$win/docs/"
  rm -f "$out/$name.zip"
  (cd "$stage/windows" && find "$name" -exec touch -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}" {} + &&
    zip -q -X -r "$out/$name.zip" "$name")

  # The MSI: the same tree, installed into %ProgramFiles%\quiesce, with the
  # example as %ProgramData%\quiesce\quiesce.conf (never overwritten, kept on
  # uninstall). install.cmd is the zip's installer, not the MSI's.
  bash .ci/msi.sh "$win" "$PKG_VERSION" "$out/$name.msi"
}

if [ "$linux" = true ]; then
  build linux amd64 "$stage/linux-amd64/quiesce"
  build linux arm64 "$stage/linux-arm64/quiesce"
  "$GO" build -modfile=.ci/dist.mod -o "$DIST/tools/nfpm" github.com/goreleaser/nfpm/v2/cmd/nfpm
  linux_packages
fi
if [ "$windows" = true ]; then
  build windows amd64 "$stage/windows/quiesce.exe"
  windows_packages
fi

ls -l "$DIST"/quiesce[_-]*.deb "$DIST"/quiesce-*.rpm "$DIST"/quiesce-*-windows-*.zip "$DIST"/quiesce-*-windows-*.msi 2>/dev/null | awk '{print "dist: " $5 " bytes  " $NF}' || true
echo "dist: $VERSION (packages: $PKG_VERSION) in $(($(date +%s) - began)) s"
