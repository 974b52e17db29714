"""AI seams (speech-to-text now; language models and embeddings later) and the tasks built on them."""
