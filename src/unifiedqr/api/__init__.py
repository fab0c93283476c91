"""The HTTP edge: FastAPI app, one router per resource, problem-details errors. Thin over services."""
