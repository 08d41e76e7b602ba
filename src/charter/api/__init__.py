"""HTTP API of Charter."""
