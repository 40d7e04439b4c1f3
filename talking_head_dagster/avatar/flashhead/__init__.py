"""The ``flashhead`` GPU avatar backend: SoulX-FlashHead (Soul-AILab) driven through its Python API.

The upstream code is the operator's checkout under ``vendor/`` at the commit pinned in
``upstream.py``; the weights are files the operator downloads under ``models/``. Nothing here
downloads anything, and PyTorch is imported only when the backend is used (the ``gpu`` extra).

- ``upstream``: the pinned commit and what a checkout must contain
- ``gitref``: the commit a checkout is at, read without a git binary
- ``weights``: the weight files each model needs, and which are missing or incomplete
- ``gpu``, ``attention``: the CUDA device and the attention kernel upstream will use
- ``preflight``: every check above, as one report or one clear error
- ``loader``: importing upstream without changing the working directory; one pipeline per process
- ``chunking``, ``stream``: upstream's streaming arithmetic, with no speech lost at the end
- ``audio``: the speech at upstream's 16 kHz
- ``renderer``: portrait + speech -> MP4
"""
