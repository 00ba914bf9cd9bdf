"""Patient pages, one module per journey; views parse input, call one selector or service, and
render (rules live in the services)."""
