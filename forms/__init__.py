"""WTForms classes, one module per standard form."""
