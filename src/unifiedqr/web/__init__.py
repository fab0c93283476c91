"""Server-rendered pages (no JavaScript needed): the check-in page a venue code's URL opens."""
