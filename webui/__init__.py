"""webui: the web terminal and its server-side admin proxy."""
