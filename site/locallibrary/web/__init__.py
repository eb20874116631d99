"""The web layer: the application's declaration, templates glue, htmx helpers and error pages."""
