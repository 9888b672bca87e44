"""One router per resource; each is thin: parameters, access, one call into queries/."""
