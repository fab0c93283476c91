"""One router per resource; ``unifiedqr.api.app.ROUTER_MODULES`` lists them in mounting order."""
