#!/usr/bin/env bash
# Build the offline node base image (Debian + python3) when no registry can be reached.
#
# Usage: scripts/build-offline-base.sh [--force] [IMAGE]
#   IMAGE     name:tag to create (default: $KUBE9_OFFLINE_BASE or kube9-base:bookworm)
#   --force   rebuild even if the image already exists
# Environment:
#   KUBE9_OFFLINE_BASE    image name:tag (overridden by the IMAGE argument)
#   KUBE9_DEBIAN_SUITE    Debian suite to bootstrap (default: bookworm)
#   KUBE9_DEBIAN_MIRROR   Debian mirror URL (default: mmdebstrap's, deb.debian.org)
#
# Needs mmdebstrap (`sudo apt-get install mmdebstrap`), a reachable Debian mirror (and on
# Ubuntu debian-archive-keyring) and a running Docker engine. As root it runs mmdebstrap
# directly; as another user it tries `mmdebstrap --mode=unshare` (needs uidmap, subordinate
# ids and unprivileged user namespaces, which Ubuntu 24.04 restricts) — else run it with sudo.
set -euo pipefail

image="${KUBE9_OFFLINE_BASE:-kube9-base:bookworm}"
suite="${KUBE9_DEBIAN_SUITE:-bookworm}"
mirror="${KUBE9_DEBIAN_MIRROR:-}"
force=0

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "build-offline-base: error: $*" >&2; exit 1; }
say() { echo "build-offline-base: $*"; }

while (($#)); do
    case "$1" in
        -f | --force) force=1 ;;
        -h | --help) usage; exit 0 ;;
        -*) usage >&2; die "unknown option: $1" ;;
        *) image="$1" ;;
    esac
    shift
done
[[ "$image" == *:* ]] || image="${image}:latest"

command -v docker >/dev/null 2>&1 \
    || die "the docker command is missing: install Docker (\`sudo apt-get install docker.io\`)"
docker info >/dev/null 2>&1 \
    || die "Docker is not reachable: start it (\`sudo systemctl start docker\`) and check that you may use it (\`docker info\`)"

if ((!force)) && docker image inspect "$image" >/dev/null 2>&1; then
    say "$image already exists; nothing to do (use --force to rebuild)"
    exit 0
fi

command -v mmdebstrap >/dev/null 2>&1 \
    || die "mmdebstrap is missing: install it with \`sudo apt-get install mmdebstrap\`, then run this script again"

# On Ubuntu the Debian suite's signatures need Debian's keyring, named explicitly: apt there
# trusts only Ubuntu's keys (and mmdebstrap needs gpg to find the keyring by itself).
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
keyring_args=()
if [ -e "$keyring" ]; then
    keyring_args=(--keyring="$keyring")
elif [[ -z "$mirror" && "$suite" =~ ^(bullseye|bookworm|trixie|forky|sid|unstable|testing|stable)$ ]]; then
    die "Debian's archive keyring is missing: install it with \`sudo apt-get install debian-archive-keyring\`"
fi

mode_args=()
if ((EUID != 0)); then
    user="$(id -un)"
    command -v newuidmap >/dev/null 2>&1 \
        || die "not root, and mmdebstrap's rootless mode needs newuidmap: run this script with sudo, or install uidmap (\`sudo apt-get install uidmap\`)"
    grep -qs "^$user:" /etc/subuid \
        || die "not root, and $user has no subordinate ids in /etc/subuid for mmdebstrap's rootless mode: run this script with sudo"
    say "not running as root: trying mmdebstrap --mode=unshare (if it fails, run this script with sudo)"
    mode_args=(--mode=unshare)
fi

workdir="$(mktemp -d "${TMPDIR:-/tmp}/kube9-base.XXXXXX")"
trap 'rm -rf "$workdir"' EXIT
tarball="$workdir/base.tar"

say "bootstrapping Debian $suite with python3 into $tarball (about 20 s on a fast link)"
started=$SECONDS
mmdebstrap "${mode_args[@]}" "${keyring_args[@]}" --variant=essential --include=python3,ca-certificates \
    "$suite" "$tarball" ${mirror:+"$mirror"} \
    || die "mmdebstrap failed (see above): check that a Debian mirror is reachable${mode_args:+, or run this script with sudo}"

say "importing $tarball as $image"
docker import "$tarball" "$image" >/dev/null || die "docker import failed (see above)"
docker run --rm "$image" python3 -c 'import sys; print("python", sys.version.split()[0])' \
    || die "$image was imported but python3 does not run in it"
say "done: $image is ready ($((SECONDS - started)) s)"
