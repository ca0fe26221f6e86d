"""Use-cases. Each takes the acting user or participant, changes the models, flushes, and leaves the
commit to the caller (the request or the job), so a failure never half-saves."""
