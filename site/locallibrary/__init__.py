"""LocalLibrary: a public library's catalog site on Starlette, Jinja2 and htmx."""
