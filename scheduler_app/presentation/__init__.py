"""What the edges (admin, pages, API, template tags, commands) share: times and badges as
people read them, links to the scheduling pages, the duplicate-schedule warning.

It sits between the edges and the services: it may ask the services and the policy, and
no layer below imports it.
"""
