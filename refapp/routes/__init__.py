"""The JSON routes of sections 2 to 8, one module per part of the contract.

A route parses the request, calls a service (the modules of `refapp/` such as
`next_actions`, `execute`, `accounts`) and shapes the answer. Services raise the refusals of
`refapp/refusals.py`, which `refapp/errors.py` answers; routes raise them too for what they
refuse themselves (a body or query they cannot read). `refapp/api.py` wires the routers.
"""
