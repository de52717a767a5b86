"""GitHub: the check run with annotations and the one summary comment, through PyGithub.
The command is `compiler.commands.github` (`charter github report`)."""
