"""Stage 3, resolve: references across files, name and output collisions, trusted endpoints."""
