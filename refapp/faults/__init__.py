"""The deliberately broken builds, one module per part of the contract (see refapp/broken.py).

Each module holds one `FAULTS` dict: a build name -> the `Fault` it puts into the app. The
modules are split so that the parts of the contract can grow their catalogue independently.
"""
