"""`charter plan`: what a change does: specs, findings, generated files and breaking changes between two
revisions. The command itself is `compiler.commands.plan`."""
