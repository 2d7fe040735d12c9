"""The ASGI application, its settings, identity, HTTP routes and the command line."""
