"""Help while annotating: entity suggestions and claim-worthy sentences."""
