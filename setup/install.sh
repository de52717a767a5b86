#!/usr/bin/env bash
# Install Charter from the commit this script belongs to, and its dependencies from that commit's hashed lock.
#
# Nothing is installed by name alone: the pipelines Charter generates run with repository tokens and
# cloud credentials, so a package published under a locked name by someone else must fail the hash
# check instead of running. Charter itself comes from the checkout GitHub made of the pinned commit
# (`uses: charter-dev/charter/setup@<40-hex sha>`), its dependencies from requirements/runtime/.
#
#   EXTRAS             "", "gates", "gates,objectstore", "gates,postgres", "gates,objectstore,postgres" or
#                      "gates,spark", "gates,objectstore,spark", "gates,snowflake"
#                      "gates,snowflake,spark", "gates,bigquery" or "gates,databricks"
#   CHARTER_REPOSITORY the `owner/name` the action was used from (`github.action_repository`)
#   CHARTER_COMMIT     the commit it was pinned to (`github.action_ref`): recorded as PEP 610 `vcs_info`, so
#                      that `charter --version` and `charter build` know which Charter is running
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${EXTRAS:-}" in
  "") lock=core ;;
  gates | gates,objectstore | gates,postgres | gates,objectstore,postgres | gates,spark | gates,objectstore,spark | gates,snowflake | gates,snowflake,spark | gates,bigquery | gates,databricks) lock="${EXTRAS//,/-}" ;;
  *)
    echo "::error title=charter setup::unknown extras (expected gates, gates,objectstore, gates,postgres, gates,objectstore,postgres, gates,spark, gates,objectstore,spark, gates,snowflake, gates,snowflake,spark, gates,bigquery or gates,databricks)"
    exit 2
    ;;
esac

pip=(python -m pip install --disable-pip-version-check --no-input --quiet)
"${pip[@]}" --require-hashes --no-deps -r "$root/requirements/runtime/$lock.txt"
# Charter's own source, pinned by the commit: its dependencies are all in place, so none is resolved here.
"${pip[@]}" --no-deps --no-build-isolation "$root"
python -m pip check
# pip recorded a directory install (`dir_info`); the directory is GitHub's checkout of one commit of one
# repository, so the record says so (PEP 610 `vcs_info`). A ref that is not a full commit is not recorded.
# `-I`: only the environment's own packages, not a `charter.egg-info` in the working directory.
CHARTER_REPOSITORY="${CHARTER_REPOSITORY:-}" CHARTER_COMMIT="${CHARTER_COMMIT:-}" python -I - <<'PY'
import json, os, re
from importlib import metadata

repository, commit = os.environ["CHARTER_REPOSITORY"], os.environ["CHARTER_COMMIT"]
if re.fullmatch(r"[0-9a-f]{40}", commit) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100}", repository):
    record = {"url": f"https://github.com/{repository}", "vcs_info": {"vcs": "git", "commit_id": commit}}
    files = metadata.distribution("charter").files or []
    info = next(file for file in files if file.name == "METADATA" and file.parent.name.endswith(".dist-info"))
    with open(info.locate().parent / "direct_url.json", "w", encoding="utf-8") as handle:
        json.dump(record, handle)
PY
charter --version
