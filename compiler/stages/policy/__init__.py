"""Stage 4, policy: the CEL engine in its sandbox, policy packs and loading, waivers, policy tests."""
