"""The HTTP layer: parse and validate requests, call the domain, render Didit-shaped responses."""
