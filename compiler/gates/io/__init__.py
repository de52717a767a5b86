"""What the gates read from: files and tables through DuckDB (`inputs`), object stores, databases, the
project's declared servers, the model store, the engines' errors worded for people, and input digests."""
