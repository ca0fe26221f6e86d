"""The one typed reader of stored analysis results (placeholder until the reader lands here)."""
