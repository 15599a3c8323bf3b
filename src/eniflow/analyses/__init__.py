"""One module per question asked of resolved flows (flows for an IP, trace, top, doctor, ...)."""
