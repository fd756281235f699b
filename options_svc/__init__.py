"""options_svc: hidden scenario families, soft coverage and option print generation."""
