// Package packaging holds what "make dist" puts into quiesce's release
// packages beyond the binary: the nfpm configuration of the .deb and .rpm
// (nfpm.yaml), the example /etc/quiesce/quiesce.conf, and the Windows
// zip's install script (windows/install.cmd). The build itself is
// .ci/dist.sh; this package's tests build the packages and install the
// .deb for real.
package packaging
