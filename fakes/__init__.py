"""Local stand-ins for the platforms Wholesync talks to (Shopify now; Stripe and Apruve later).

Each fake is a WSGI app; `fakes.serve` mounts them under path prefixes for `make run`, tests start them in-process.
"""
