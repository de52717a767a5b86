"""What Charter talks to: git (revisions, changed-only scope) and GitHub (check runs, the summary comment)."""
