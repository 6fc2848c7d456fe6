"""Neural-network modules built only from the engine's ops (no backward code here)."""
