"""MLServer (SeldonIO) as a benchmark contender, in a virtual environment of its own."""
