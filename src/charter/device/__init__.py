"""Reserved for the device agent (a reference phone that talks to the server over HTTP only)."""
