#!/usr/bin/env bash
# Build the Kube-9 Desktop installer from this checkout into dist/:
#   dist/kube9-desktop/                              the PyInstaller onedir bundle
#   dist/kube9-desktop_<version>_amd64.deb           installs it under /opt/kube9-desktop
#   dist/kube9-desktop-<version>-linux-x86_64.tar.gz the bundle alone (unpack and run)
#
#   packaging/build.sh            build (Debian 12 or newer, amd64; root or sudo for apt)
#   packaging/build.sh --smoke    build, then run packaging/smoke.sh on the result
#
# It makes its own venv under packaging/build/venv (pip install .[postgres] pyinstaller), so
# nothing of a development venv leaks into the bundle. The bundle needs glibc >= the build
# machine's (2.36 on Debian 12).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
started=$(date +%s)

SMOKE=0
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown argument: $arg (try --help)" ;;
  esac
done

APP=kube9-desktop
BUILD="$ROOT/packaging/build"
BUILD_VENV="$BUILD/venv"
DIST="$ROOT/dist"
ICON_SIZES=(16 22 24 32 48 64 128 256 512)

# What the .deb needs from the system: glibc, and the desktop stack Qt links against (the
# spec leaves these out of the bundle). packaging/check_depends.py verifies this list against
# the bundle's binaries below, so a Qt upgrade that needs one more library fails the build.
DEPENDS=(
  "libc6 (>= 2.36)" "libstdc++6 (>= 12)" libgcc-s1 libffi8 zlib1g libbz2-1.0 liblzma5
  libuuid1 libtinfo6 libzstd1
  libglib2.0-0 libdbus-1-3 libfontconfig1 libfreetype6
  libegl1 libgl1 libx11-6 libx11-xcb1 libxkbcommon0 libxkbcommon-x11-0
  libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1
  libxcb-util1 libxcb-xfixes0 libxcb-xkb1
  libwayland-client0 libwayland-cursor0 libwayland-egl1
)
RECOMMENDS=(docker.io mmdebstrap)
SUGGESTS=(xdg-utils)

[ "$(uname -m)" = x86_64 ] || die "this script builds the amd64 package; run it on x86_64"
command -v dpkg-deb >/dev/null || die "dpkg-deb is needed (a Debian or Ubuntu machine)"

# Build tools (PyInstaller uses objdump and ldd) and the libraries the bundle links against,
# so that the Depends check can name each one's package.
apt_install binutils "${QT_RUNTIME_PACKAGES[@]}" libwayland-client0 libwayland-cursor0 \
  libwayland-egl1 libgl1 libglib2.0-0

# ---- build venv ----------------------------------------------------------------------------
PY="$(find_python)"
if [ ! -x "$BUILD_VENV/bin/python" ]; then
  if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
    ver="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    apt_install "python${ver}-venv" || apt_install python3-venv
  fi
  say "creating the build venv $BUILD_VENV with $PY"
  "$PY" -m venv "$BUILD_VENV"
  "$BUILD_VENV/bin/python" -m pip install -q --upgrade pip
fi
say "installing kube9-desktop[postgres] and PyInstaller into the build venv"
"$BUILD_VENV/bin/python" -m pip install -q "$ROOT[postgres]" "pyinstaller>=6.5"
VERSION="$("$BUILD_VENV/bin/python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
[ -n "$VERSION" ] || die "cannot read the version from pyproject.toml"

# ---- the bundle ----------------------------------------------------------------------------
say "PyInstaller: building the $APP $VERSION bundle (about a minute)"
rm -rf "$DIST/$APP"
mkdir -p "$DIST"
"$BUILD_VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath "$DIST" --workpath "$BUILD/pyinstaller" "$ROOT/packaging/$APP.spec"
BUNDLE="$DIST/$APP"
[ -x "$BUNDLE/$APP" ] || die "PyInstaller did not produce $BUNDLE/$APP"
got="$(env -i PATH=/usr/bin:/bin HOME="$BUILD" "$BUNDLE/$APP" --version)"
[ "$got" = "$APP $VERSION" ] || die "the bundle says '$got', expected '$APP $VERSION'"
for f in Dockerfile __main__.py; do
  [ -f "$BUNDLE/_internal/kube9_desktop/agent/$f" ] || die "agent $f missing from the bundle"
done
[ -f "$BUNDLE/_internal/resources/$APP.svg" ] || die "resources missing from the bundle"

say "checking Depends against the libraries the bundle links"
depends_line="$(IFS=,; echo "${DEPENDS[*]}" | sed 's/,/, /g')"
python3 "$ROOT/packaging/check_depends.py" "$BUNDLE" "$depends_line" \
  || die "Depends is incomplete (see above): add the packages to DEPENDS in $0"

# ---- the .deb ------------------------------------------------------------------------------
say "assembling the .deb"
PKG="$BUILD/deb"
rm -rf "$PKG"
mkdir -p "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" \
  "$PKG/usr/share/icons/hicolor" "$PKG/usr/share/doc/$APP"
cp -a "$BUNDLE" "$PKG/opt/$APP"
ln -s "/opt/$APP/$APP" "$PKG/usr/bin/$APP"
install -m 0644 "$ROOT/resources/$APP.desktop" "$PKG/usr/share/applications/$APP.desktop"
"$BUILD_VENV/bin/python" "$ROOT/packaging/render_icons.py" "$ROOT/resources/$APP.svg" \
  "$PKG/usr/share/icons/hicolor" "${ICON_SIZES[@]}"
cat >"$PKG/usr/share/doc/$APP/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Kube-9 Desktop
License: MIT

Files: opt/$APP/_internal/*
Comment: Bundled third-party components (Python, Qt for Python / Qt under LGPL-3.0,
 NumPy, pyqtgraph, aiohttp, SQLAlchemy, pydantic, docker, PyYAML, psycopg and their
 dependencies) keep their own licences; their license files travel in the bundle's
 *.dist-info folders.
EOF
# Permissions as Debian expects: directories and executables 0755, everything else 0644.
find "$PKG" -type d -exec chmod 0755 {} +
find "$PKG" -type f -exec chmod go-w {} +

installed_kb="$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)"
cat >"$PKG/DEBIAN/control" <<EOF
Package: $APP
Version: $VERSION
Architecture: amd64
Maintainer: Kube-9 Desktop developers <dev@kube9.local>
Installed-Size: $installed_kb
Depends: $depends_line
Recommends: $(IFS=,; echo "${RECOMMENDS[*]}" | sed 's/,/, /g')
Suggests: $(IFS=,; echo "${SUGGESTS[*]}" | sed 's/,/, /g')
Section: devel
Priority: optional
Description: small Kubernetes-style cluster on your desktop: watch it, break it
 Kube-9 Desktop runs a small cluster on your own machine: nodes are Docker
 containers (or local processes without Docker) running a node agent that
 heartbeats to an embedded engine. A best-fit scheduler places pods and says
 why; failures are detected, nodes restarted and pods rescheduled, all shown
 live in a desktop window, or served headless behind a REST API.
 .
 docker.io (and mmdebstrap, to build the node image offline) are recommended;
 without Docker, nodes run as local processes.
EOF
for script in postinst postrm; do
  cat >"$PKG/DEBIAN/$script" <<'EOF'
#!/bin/sh
# Refresh the menu and icon caches where the tools exist (dpkg triggers often do it too).
set -e
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q /usr/share/applications || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f /usr/share/icons/hicolor/index.theme ]; then
  gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
fi
exit 0
EOF
  chmod 0755 "$PKG/DEBIAN/$script"
done

DEB="$DIST/${APP}_${VERSION}_amd64.deb"
TARBALL="$DIST/${APP}-${VERSION}-linux-x86_64.tar.gz"
rm -f "$DEB" "$TARBALL"
say "dpkg-deb: compressing $DEB (xz)"
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null
dpkg-deb --info "$DEB" >/dev/null

say "tar: $TARBALL"
tar -C "$DIST" --owner=0 --group=0 --numeric-owner -czf "$TARBALL" "$APP"

elapsed=$(( $(date +%s) - started ))
printf '\n%s %s built in %d s\n' "$APP" "$VERSION" "$elapsed"
printf '  bundle   %s  %s\n' "$(du -sh "$BUNDLE" | cut -f1)" "$BUNDLE"
printf '  .deb     %s  %s\n' "$(du -h "$DEB" | cut -f1)" "$DEB"
printf '  .tar.gz  %s  %s\n' "$(du -h "$TARBALL" | cut -f1)" "$TARBALL"

if [ "$SMOKE" = 1 ]; then
  "$ROOT/packaging/smoke.sh" "$DEB"
fi
