"""`make bench`: nnserve against a naive FastAPI server and a bare ASGI ceiling."""
