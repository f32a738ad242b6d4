# Shared by scripts/run and scripts/test: find Python, install missing apt packages, make a venv.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KUBE9_VENV:-$ROOT/.venv}"
# Every Qt library links libglib; the xcb platform plugin needs the rest (NOTES.md, PyInstaller).
QT_RUNTIME_PACKAGES=(libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-render-util0 libxcb-image0 libxcb-randr0 libxcb-xinerama0 libxkbcommon-x11-0 libegl1
  libgl1 libfontconfig1 libdbus-1-3)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null; then sudo "$@";
  else die "need root to run: $* (install sudo or run as root)"; fi
}

# installed_packages: the names of installed packages and of what they provide, one a line, so
# that a renamed package still counts (Ubuntu 24.04's libglib2.0-0t64 provides libglib2.0-0).
installed_packages() {
  dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Provides}\n' 2>/dev/null | awk -F'|' '
    $1 ~ /^.i/ { print $2; n = split($3, p, /, */); for (i = 1; i <= n; i++) { split(p[i], w, " "); if (w[1] != "") print w[1] } }'
}

# apt_install PKG...: install those not yet installed; a no-op, and so offline, when all are.
# Returns non-zero, having said why, when apt cannot install them.
apt_install() {
  local missing=() have
  have="$(installed_packages)"
  for pkg in "$@"; do
    grep -qxF "$pkg" <<<"$have" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get: install them by hand"
  say "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    || say "could not update the package index (offline?); trying with the one we have"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null; then
    printf 'error: apt-get could not install %s (see above). Check that the package mirror is reachable%s.\n' \
      "${missing[*]}" "$(grep -qs '^ID=ubuntu' /etc/os-release \
        && echo '; on Ubuntu these need the universe component: sudo add-apt-repository universe')" >&2
    return 1
  fi
}

# find_python: the first python3.x >= 3.11 on PATH.
find_python() {
  local c
  for c in "${KUBE9_PYTHON:-}" python3 python3.13 python3.12 python3.11; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  die "Python 3.11 or newer is needed (e.g. sudo apt-get install python3)"
}

# install_stamp EXTRAS: where make_venv records what it installed with those extras.
install_stamp() { echo "$VENV/.kube9-installed${1:+-$1}"; }

# make_venv EXTRAS: create .venv (once) and install the project with those extras -- again only
# when pyproject.toml changed since (the code itself is an editable install), so that later
# runs need no network.
make_venv() {
  local extras="$1" py want
  py="$(find_python)"
  if [ ! -x "$VENV/bin/python" ]; then
    if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
      local ver; ver="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
      apt_install "python${ver}-venv" || apt_install python3-venv \
        || die "Python's venv module is missing: install python${ver}-venv"
    fi
    say "creating $VENV with $py"
    rm -f "$VENV"/.kube9-installed*
    "$py" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip \
      || die "pip could not upgrade itself in $VENV: the first run needs PyPI (check the network)"
  fi
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1) $("$VENV/bin/python" -V 2>&1)"
  if [ "$(cat "$(install_stamp "$extras")" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  say "installing kube9-desktop${extras:+[$extras]} into $VENV"
  # The build backend's "Editable installation" banner (setuptools >= 80) is no news here.
  PYTHONWARNINGS="ignore:Editable installation" \
    "$VENV/bin/python" -m pip install -q -e "$ROOT${extras:+[$extras]}" \
    || die "pip could not install kube9-desktop${extras:+[$extras]} (see above): installing needs PyPI (check the network); later runs work offline"
  echo "$want" >"$(install_stamp "$extras")"
  # Any extras include the plain install.
  [ -z "$extras" ] || echo "$want" >"$(install_stamp "")"
}
