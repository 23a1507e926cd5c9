"""The API's views, one module per resource; :mod:`.base` holds what they share."""
