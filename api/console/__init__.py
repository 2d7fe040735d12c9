"""The staff console at /console/: plain HTML, CSS and JavaScript modules in `static/`,
served by the API process with no build step (see `routes.py`)."""
