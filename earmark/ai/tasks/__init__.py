"""Understanding tasks: summary, chapters, highlights, ask. Each is store-free: a transcript (and
episode) in, a typed result out, through the LLM seam (``earmark.ai.llm``)."""
