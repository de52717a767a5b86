"""Charter in git: specs at a revision, what changed since one, what a change touches.

Everything here reads git objects (`git ls-tree`, `git cat-file`): it never
checks out, stashes or touches the index or the working tree.
"""
