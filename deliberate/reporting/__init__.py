"""What a published report says, built from a stored analysis run: figures, charts and the
plain-English summary. Pure presentation: no Flask request machinery, no database, no numpy, so
services, pages and downloads all share it and the request path stays light."""
