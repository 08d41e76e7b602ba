"""FastAPI routers, one module per feature."""
