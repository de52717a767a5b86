#!/usr/bin/env bash
# Install Charter from the commit this script belongs to, and its dependencies from that commit's hashed lock.
#
# Nothing is installed by name alone: the pipelines Charter generates run with repository tokens and
# cloud credentials, so a package published under a locked name by someone else must fail the hash
# check instead of running. Charter itself comes from the checkout GitHub made of the pinned commit
# (`uses: charter-dev/charter/setup@<40-hex sha>`), its dependencies from requirements/runtime/.
#
#   EXTRAS  "", "gates", "gates,objectstore", "gates,postgres" or "gates,objectstore,postgres"
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${EXTRAS:-}" in
  "") lock=core ;;
  gates | gates,objectstore | gates,postgres | gates,objectstore,postgres) lock="${EXTRAS//,/-}" ;;
  *)
    echo "::error title=charter setup::unknown extras (expected gates, gates,objectstore, gates,postgres or gates,objectstore,postgres)"
    exit 2
    ;;
esac

pip=(python -m pip install --disable-pip-version-check --no-input --quiet)
"${pip[@]}" --require-hashes --no-deps -r "$root/requirements/runtime/$lock.txt"
# Charter's own source, pinned by the commit: its dependencies are all in place, so none is resolved here.
"${pip[@]}" --no-deps --no-build-isolation "$root"
python -m pip check
charter --version
